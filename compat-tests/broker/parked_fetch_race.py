#!/usr/bin/env python3
"""Long-poll fetches under a stream of produces: every fetch parks (its
min_bytes is never reached), is woken by each append on another connection,
re-parks, and is finally answered by its max_wait_ms timer. Wake-ups, timers
and replies race on different network threads; the broker must answer every
fetch exactly once, with no error, and keep serving.

A wake-up that slipped in between a retry's decision and its reply once left
a task pointing at a freed request, and the broker crashed within seconds of
this load (session 4).

usage: parked_fetch_race.py HOST PORT [SECONDS]
"""
import os
import random
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from produce_errors import Conn, batch, string  # noqa: E402
from fetch_sessions import create_topic  # noqa: E402

FETCHERS = 6
PRODUCERS = 3
NEVER_ENOUGH = 1 << 30


def long_poll(conn, topic, max_wait_ms):
    """Sessionless Fetch v7 from offset 0 that can only end on its timer;
    returns (top-level error, partition error)."""
    body = struct.pack(">iiiibii", -1, max_wait_ms, NEVER_ENOUGH, 4096, 0, 0, -1)
    body += struct.pack(">i", 1) + string(topic) + struct.pack(">i", 1)
    body += struct.pack(">iqqi", 0, 0, -1, 1024)
    body += struct.pack(">i", 0)
    d = conn.call(1, 7, body)
    _, err, _, nt = struct.unpack(">ihii", d[:14])
    assert nt == 1, f"fetch answered {nt} topics"
    tl = struct.unpack(">h", d[14:16])[0]
    off = 16 + tl + 4
    return err, struct.unpack(">h", d[off + 4:off + 6])[0]


def produce(conn, topic, value):
    records = batch([value])
    body = struct.pack(">hhi", -1, 1, 10000) + struct.pack(">i", 1) + string(topic)
    body += struct.pack(">i", 1) + struct.pack(">i", 0) + struct.pack(">i", len(records)) + records
    d = conn.call(0, 7, body)
    tl = struct.unpack(">h", d[4:6])[0]
    return struct.unpack(">h", d[6 + tl + 8:6 + tl + 10])[0]


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 8.0
    topic = f"parked-race-{os.getpid()}"
    admin = Conn(host, port)
    assert create_topic(admin, topic, 1) == 0
    # Kafka's broker learns of a new topic after CreateTopics returns.
    deadline = time.monotonic() + 60
    while long_poll(admin, topic, 0) != (0, 0) or produce(admin, topic, b"first") != 0:
        assert time.monotonic() < deadline, "the new topic never became fetchable"
        time.sleep(0.2)
    stop = time.monotonic() + seconds
    failures, counts, lock = [], {"fetch": 0, "produce": 0}, threading.Lock()

    def fetcher(seed):
        rng = random.Random(seed)
        try:
            conn = Conn(host, port)
            while time.monotonic() < stop:
                errs = long_poll(conn, topic, rng.randint(1, 4))
                assert errs == (0, 0), f"fetch errors {errs}"
                with lock:
                    counts["fetch"] += 1
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(f"fetcher {seed}: {e!r}")

    def producer(seed):
        try:
            conn = Conn(host, port)
            while time.monotonic() < stop:
                err = produce(conn, topic, b"x" * 16)
                assert err == 0, f"produce error {err}"
                with lock:
                    counts["produce"] += 1
        except Exception as e:  # noqa: BLE001
            failures.append(f"producer {seed}: {e!r}")

    threads = [threading.Thread(target=fetcher, args=(i,)) for i in range(FETCHERS)]
    threads += [threading.Thread(target=producer, args=(i,)) for i in range(PRODUCERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Still serving: a new connection gets a produce through.
    try:
        assert produce(Conn(host, port), topic, b"after") == 0
    except Exception as e:  # noqa: BLE001
        failures.append(f"after the race: {e!r}")
    print(f"{counts['fetch']} long polls answered, {counts['produce']} produces")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        return 1
    if counts["fetch"] < 100 or counts["produce"] < 100:
        print("too little traffic to have exercised the race", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
