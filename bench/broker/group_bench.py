#!/usr/bin/env python3
"""Classic consumer groups, Odradek and Apache Kafka side by side (issue 5), one broker at a time
on a fresh data dir, brokers alternating between rounds as bench.py does:

- rebalance: --members librdkafka consumers (confluent-kafka, range assignor) subscribe to one
  topic of --partitions partitions at the same moment; the figure is the time from the subscribes
  until every member holds its share and no partition is held twice (the group is stable). Each
  run first lets one unmeasured group form, so the coordinator topic exists and the JVM is warm.
- commits: one group member commits one partition's offset, synchronously (one OffsetCommit in
  flight), --commits times after --warmup unmeasured ones; then OffsetFetch must return the last
  committed offset, so a broker that loses commits cannot post a figure.

Runs under a Python with confluent-kafka, e.g. the client suite's venv:

  build/compat-clients/venv/bin/python bench/broker/group_bench.py \
      --odradek build/release/broker/odradek [--rounds 3] [--members 10] [--commits 5000]

Prints a markdown table: median (min-max) per broker, and the ratio of the medians.
"""

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (Broker: start/stop on a fresh data dir)


def member(bootstrap, group, **conf):
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "partition.assignment.strategy": "range",
                     "session.timeout.ms": 30000, "heartbeat.interval.ms": 1000, **conf})


def rebalance_seconds(bootstrap, topic, group, members, partitions, timeout=120):
    """Seconds from the subscribes until the members hold disjoint shares covering every partition.
    Each member polls on its own thread and notes its assignment from the rebalance callbacks
    (asking the consumer from another thread would wait on the poller holding the GIL)."""
    consumers = [member(bootstrap, group) for _ in range(members)]
    held = [[] for _ in consumers]
    lock = threading.Lock()
    stop = threading.Event()

    def poll(i, c):
        def on_assign(_, parts):
            with lock:
                held[i] = sorted(tp.partition for tp in parts)

        def on_revoke(_, parts):
            with lock:
                held[i] = []

        c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
        while not stop.is_set():
            c.poll(0.05)

    threads = [threading.Thread(target=poll, args=(i, c), daemon=True) for i, c in enumerate(consumers)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    try:
        want = partitions // members
        while time.monotonic() - t0 < timeout:
            with lock:
                flat = sorted(p for h in held for p in h)
                ok = flat == list(range(partitions)) and all(len(h) >= want for h in held)
            if ok:
                return time.monotonic() - t0
            time.sleep(0.005)
        raise RuntimeError(f"group {group} not stable after {timeout}s")
    finally:
        stop.set()
        for t in threads:
            t.join()
        for c in consumers:
            c.close()


def commit_rate(bootstrap, topic, group, commits, warmup):
    c = member(bootstrap, group)
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + 60
        while not c.assignment() and time.monotonic() < deadline:
            c.poll(0.1)
        tp = c.assignment()[0].partition
        for i in range(warmup):
            c.commit(offsets=[TopicPartition(topic, tp, i + 1)], asynchronous=False)
        t0 = time.monotonic()
        for i in range(commits):
            c.commit(offsets=[TopicPartition(topic, tp, warmup + i + 1)], asynchronous=False)
        seconds = time.monotonic() - t0
        got = c.committed([TopicPartition(topic, tp)], timeout=30)[0].offset
        if got != warmup + commits:
            raise RuntimeError(f"committed offset {got}, expected {warmup + commits}")
        return commits / seconds
    finally:
        c.close()


def one_run(name, work, odradek_bin, opts, round_no):
    b = bench.Broker(name, work, odradek_bin)
    b.start()
    try:
        topic = f"group-bench-{round_no}"
        admin = AdminClient({"bootstrap.servers": b.bootstrap})  # must outlive its future
        admin.create_topics([NewTopic(topic, num_partitions=opts.partitions, replication_factor=1)])[topic].result(60)
        rebalance_seconds(b.bootstrap, topic, f"warm-{round_no}", 2, opts.partitions)
        seconds = rebalance_seconds(b.bootstrap, topic, f"rebalance-{round_no}", opts.members, opts.partitions)
        rate = commit_rate(b.bootstrap, topic, f"commits-{round_no}", opts.commits, opts.warmup)
        return seconds, rate
    finally:
        b.stop()


def spread(values, fmt):
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}-{fmt(max(values))})"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--odradek", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--members", type=int, default=10)
    ap.add_argument("--partitions", type=int, default=10)
    ap.add_argument("--commits", type=int, default=5000)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--brokers", default="kafka,odradek")
    ap.add_argument("--work", default=None)
    opts = ap.parse_args()
    work = Path(opts.work or tempfile.mkdtemp(prefix="od-group-bench-"))
    names = [n for n in opts.brokers.split(",") if n]
    rebalance = {n: [] for n in names}
    commits = {n: [] for n in names}
    for r in range(opts.rounds):
        order = names if r % 2 == 0 else list(reversed(names))
        for name in order:
            seconds, rate = one_run(name, work, opts.odradek, opts, r)
            rebalance[name].append(seconds)
            commits[name].append(rate)
            print(f"round {r} {name}: {opts.members} members stable in {seconds:.3f} s; "
                  f"{rate:,.0f} commits/s", file=sys.stderr, flush=True)
    print(f"\n{opts.members} librdkafka members joining one group on {opts.partitions} partitions; "
          f"one member committing synchronously ({opts.commits} measured); {opts.rounds} rounds\n")
    print("| broker | rebalance, s | OffsetCommit/s |")
    print("| --- | --- | --- |")
    for n in names:
        print(f"| {n} | {spread(rebalance[n], lambda v: f'{v:.2f}')} | {spread(commits[n], lambda v: f'{v:,.0f}')} |")
    if "kafka" in names and "odradek" in names:
        rb = statistics.median(rebalance["odradek"]) / statistics.median(rebalance["kafka"])
        cm = statistics.median(commits["odradek"]) / statistics.median(commits["kafka"])
        print(f"\nOdradek/Kafka (medians): rebalance time {rb:.2f}, commits/s {cm:.2f}")


if __name__ == "__main__":
    main()
