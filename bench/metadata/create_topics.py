#!/usr/bin/env python3
"""CreateTopics latency and throughput, and time to the first answered
Metadata, against one running broker (odradek or Apache Kafka).

  create_topics.py --bootstrap HOST:PORT [--topics 1000] [--batch 1] [--inflight 1] [--prefix t]

Creates N one-partition topics with confluent-kafka's AdminClient: in requests
of --batch topics each, --inflight requests at a time (1: latency; more: what
concurrent requests cost, where a controller's group commit shows), then
prints per-request latency percentiles and topics/second. Time from process start to
first Metadata is measured by run.sh next to this file.
"""
import argparse
import statistics
import sys
import time

from confluent_kafka.admin import AdminClient, NewTopic


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topics", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--inflight", type=int, default=1)
    ap.add_argument("--prefix", default="bench-ct")
    args = ap.parse_args()
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    latencies = []
    start = time.perf_counter()
    firsts = list(range(0, args.topics, args.batch))
    for wave in range(0, len(firsts), args.inflight):
        pending = []
        for first in firsts[wave:wave + args.inflight]:
            names = [f"{args.prefix}-{i}" for i in range(first, min(first + args.batch, args.topics))]
            pending.append((time.perf_counter(),
                            admin.create_topics([NewTopic(n, 1, 1) for n in names], operation_timeout=30)))
        for t0, futures in pending:
            for f in futures.values():
                f.result()
            latencies.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    ms = sorted(x * 1000 for x in latencies)
    pct = lambda p: ms[min(len(ms) - 1, int(p * len(ms)))]
    print(f"topics={args.topics} batch={args.batch} inflight={args.inflight} requests={len(ms)} total_s={total:.2f} "
          f"topics_per_s={args.topics / total:.0f} p50_ms={pct(0.5):.2f} p99_ms={pct(0.99):.2f} "
          f"mean_ms={statistics.mean(ms):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
