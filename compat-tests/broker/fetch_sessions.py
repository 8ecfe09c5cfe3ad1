#!/usr/bin/env python3
"""Incremental fetch sessions (KIP-227) on the wire, Fetch v7: a full fetch
with epoch 0 opens a session; incremental fetches carry only partitions
with news; a wrong epoch, an unknown session id, and a closed session get
Kafka's errors.

usage: fetch_sessions.py HOST PORT
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from produce_errors import Conn, batch, string, wait_served  # noqa: E402

INVALID_FETCH_SESSION_EPOCH = 71
FETCH_SESSION_ID_NOT_FOUND = 70


def create_topic(conn, name, partitions):
    body = struct.pack(">i", 1) + string(name) + struct.pack(">ih", partitions, 1)
    body += struct.pack(">i", 0) + struct.pack(">i", 0) + struct.pack(">ib", 30000, 0)
    data = conn.call(19, 4, body)
    off = 8 + 2 + struct.unpack(">h", data[8:10])[0]
    return struct.unpack(">h", data[off:off + 2])[0]


def produce(conn, topic, partition, value):
    records = batch([value])
    body = struct.pack(">hhi", -1, -1, 10000) + struct.pack(">i", 1) + string(topic)
    body += struct.pack(">i", 1) + struct.pack(">i", partition) + struct.pack(">i", len(records)) + records
    conn.call(0, 7, body)


def fetch(conn, session_id, epoch, parts, forgotten=()):
    """parts: [(topic, partition, offset)]; returns (error, session_id, {(topic, p): (err, hw, nbytes)})."""
    body = struct.pack(">iiiibii", -1, 0, 1, 1 << 20, 0, session_id, epoch)
    topics = {}
    for t, p, o in parts:
        topics.setdefault(t, []).append((p, o))
    body += struct.pack(">i", len(topics))
    for t, ps in topics.items():
        body += string(t) + struct.pack(">i", len(ps))
        for p, o in ps:
            body += struct.pack(">iqqi", p, o, -1, 1 << 20)
    ftopics = {}
    for t, p in forgotten:
        ftopics.setdefault(t, []).append(p)
    body += struct.pack(">i", len(ftopics))
    for t, ps in ftopics.items():
        body += string(t) + struct.pack(">i", len(ps)) + b"".join(struct.pack(">i", p) for p in ps)
    d = conn.call(1, 7, body)
    _, err, sid, nt = struct.unpack(">ihii", d[:14])
    off = 14
    out = {}
    for _ in range(nt):
        tl = struct.unpack(">h", d[off:off + 2])[0]
        t = d[off + 2:off + 2 + tl].decode()
        off += 2 + tl
        np_ = struct.unpack(">i", d[off:off + 4])[0]
        off += 4
        for _ in range(np_):
            p, perr, hw, _lso, _ls = struct.unpack(">ihqqq", d[off:off + 30])
            off += 30
            na = struct.unpack(">i", d[off:off + 4])[0]
            off += 4 + max(na, 0) * 16
            nbytes = struct.unpack(">i", d[off:off + 4])[0]
            off += 4 + max(nbytes, 0)
            out[(t, p)] = (perr, hw, nbytes)
    return err, sid, out


def main():
    conn = Conn(sys.argv[1], int(sys.argv[2]))
    topic = "fs-%d" % (int(time.time() * 1000) % 100000)
    failures = []

    def expect(what, got, want):
        if got != want:
            failures.append("%s: got %r, want %r" % (what, got, want))

    expect("create", create_topic(conn, topic, 2), 0)
    wait_served(conn, topic, 2)
    produce(conn, topic, 0, b"first")

    err, sid, parts = fetch(conn, 0, 0, [(topic, 0, 0), (topic, 1, 0)])
    expect("full fetch error", err, 0)
    expect("session created", sid != 0, True)
    expect("full fetch partitions", sorted(parts), [(topic, 0), (topic, 1)])
    expect("full fetch p0 has records", parts.get((topic, 0), (0, 0, 0))[2] > 0, True)

    err, sid2, parts = fetch(conn, sid, 1, [(topic, 0, 1)])
    expect("incremental error", err, 0)
    expect("incremental keeps the session", sid2, sid)
    expect("nothing new, nothing sent", parts, {})

    produce(conn, topic, 1, b"second")
    err, _, parts = fetch(conn, sid, 2, [])
    expect("news on p1", sorted(parts), [(topic, 1)])
    expect("p1 high watermark", parts.get((topic, 1), (0, 0, 0))[1], 1)

    err, _, _ = fetch(conn, sid, 2, [])
    expect("stale epoch", err, INVALID_FETCH_SESSION_EPOCH)
    err, _, _ = fetch(conn, sid ^ 0x5a5a5a, 1, [])
    expect("unknown session", err, FETCH_SESSION_ID_NOT_FOUND)

    err, sid3, parts = fetch(conn, sid, -1, [(topic, 0, 0)])
    expect("closing fetch is sessionless", (err, sid3), (0, 0))
    err, _, _ = fetch(conn, sid, 3, [])
    expect("closed session is gone", err, FETCH_SESSION_ID_NOT_FOUND)

    if failures:
        print("\n".join(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
