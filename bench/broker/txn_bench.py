#!/usr/bin/env python3
"""Transactional produce, Odradek and Apache Kafka side by side (issue 6): one librdkafka
transactional producer (confluent-kafka) runs transactions of --per-txn records each
(begin, produce, commit_transaction) against one broker at a time on a fresh data dir, brokers
alternating between rounds as bench.py does. The first --warmup transactions of each run are not
measured (Kafka's JIT). Afterwards a read_committed consumer must find every committed record,
so a broker that loses or hides records cannot post a figure.

Runs under a Python with confluent-kafka, e.g. the client suite's venv:

  build/compat-clients/venv/bin/python bench/broker/txn_bench.py \
      --odradek build/release/broker/odradek [--rounds 3] [--transactions 2000] [--per-txn 100]

Prints a markdown table: median (min-max) transactions/s and records/s per broker, and the ratio
Odradek/Kafka of the medians.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (Broker: start/stop on a fresh data dir)


def run_transactions(bootstrap, topic, count, per_txn, size, txn_id):
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id, "linger.ms": 5,
                  "queue.buffering.max.messages": max(100000, per_txn * 2)})
    p.init_transactions(60)
    value = b"x" * size
    t0 = time.monotonic()
    for _ in range(count):
        p.begin_transaction()
        for _ in range(per_txn):
            p.produce(topic, value=value, partition=0)
        p.commit_transaction(60)
    seconds = time.monotonic() - t0
    return seconds


def committed_records(bootstrap, topic, expected):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "txn-bench-check",
                  "isolation.level": "read_committed", "enable.auto.commit": False,
                  "enable.partition.eof": True})
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    n, deadline = 0, time.monotonic() + 120
    while time.monotonic() < deadline:
        done = False
        for m in c.consume(num_messages=10000, timeout=1.0):
            if m.error() is not None:
                done = n >= expected
                continue
            n += 1
        if done:
            break
    c.close()
    return n


def one_run(name, work, odradek_bin, opts, round_no):
    b = bench.Broker(name, work, odradek_bin)
    b.start()
    try:
        topic = f"txn-bench-{round_no}"
        admin = AdminClient({"bootstrap.servers": b.bootstrap})  # must outlive its future
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(60)
        run_transactions(b.bootstrap, topic, opts.warmup, opts.per_txn, opts.size, f"warm-{round_no}")
        seconds = run_transactions(b.bootstrap, topic, opts.transactions, opts.per_txn, opts.size,
                                   f"measured-{round_no}")
        expected = (opts.warmup + opts.transactions) * opts.per_txn
        got = committed_records(b.bootstrap, topic, expected)
        if got != expected:
            raise RuntimeError(f"{name}: read_committed found {got} records, expected {expected}")
        return opts.transactions / seconds
    finally:
        b.stop()


def spread(values):
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--odradek", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--transactions", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--per-txn", type=int, default=100)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--brokers", default="kafka,odradek")
    ap.add_argument("--work", default=None)
    opts = ap.parse_args()
    work = Path(opts.work or tempfile.mkdtemp(prefix="od-txn-bench-"))
    names = [n for n in opts.brokers.split(",") if n]
    rates = {n: [] for n in names}
    for r in range(opts.rounds):
        order = names if r % 2 == 0 else list(reversed(names))
        for name in order:
            tps = one_run(name, work, opts.odradek, opts, r)
            rates[name].append(tps)
            print(f"round {r} {name}: {tps:,.1f} transactions/s, {tps * opts.per_txn:,.0f} records/s",
                  file=sys.stderr, flush=True)
    print(f"\nTransactions of {opts.per_txn} records of {opts.size} bytes, one producer, one partition, "
          f"{opts.transactions} measured per run, {opts.rounds} rounds\n")
    print("| broker | transactions/s | records/s |")
    print("| --- | --- | --- |")
    for n in names:
        print(f"| {n} | {spread(rates[n])} | {spread([t * opts.per_txn for t in rates[n]])} |")
    if "kafka" in rates and "odradek" in rates:
        ratio = statistics.median(rates["odradek"]) / statistics.median(rates["kafka"])
        print(f"\nOdradek/Kafka (medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
