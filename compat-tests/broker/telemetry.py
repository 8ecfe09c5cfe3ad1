#!/usr/bin/env python3
"""Client telemetry (KIP-714) on the wire: GetTelemetrySubscriptions hands a
client sent the zero id a fresh instance id and an empty subscription
(Kafka's default push interval and telemetry.max.bytes, its codecs, delta
temporality); a client with an id gets the zero id back. PushTelemetry,
each on a fresh instance: accepted with the subscription id it was given and
any codec Kafka takes; INVALID_REQUEST for the zero id, UNKNOWN_SUBSCRIPTION_ID
for another subscription id or an instance never seen,
UNSUPPORTED_COMPRESSION_TYPE for an unknown codec, TELEMETRY_TOO_LARGE above
1 MiB.

Apache Kafka 3.9.2 answers both APIs even when it does not advertise them
(no ClientTelemetry reporter), so the same expectations hold for both.

usage: telemetry.py HOST PORT   (exit 0 when every case answers as Kafka does)
"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bad_input import frame, header, read_reply, uvarint  # noqa: E402

ZERO = b"\x00" * 16


def call(host, port, key, body):
    s = socket.create_connection((host, port), timeout=20)
    s.sendall(frame(header(key, 0, 7, "telemetry-test", flexible=True) + body))
    reply = read_reply(s, 7, 20)
    s.close()
    if not isinstance(reply, bytes):
        raise SystemExit("api %d: no reply (%r)" % (key, reply))
    return reply[1:]  # response header v1: a tagged-field count first


def get_subscriptions(host, port, instance_id):
    r = call(host, port, 71, instance_id + b"\x00")
    throttle, err = struct.unpack(">ih", r[:6])
    iid, sub = r[6:22], struct.unpack(">i", r[22:26])[0]
    n = r[26] - 1
    codecs = list(struct.unpack(">%db" % n, r[27:27 + n]))
    off = 27 + n
    interval, max_bytes, delta = struct.unpack(">iib", r[off:off + 9])
    metrics = r[off + 9] - 1
    return {"error": err, "id": iid, "sub": sub, "codecs": codecs, "interval": interval,
            "max_bytes": max_bytes, "delta": delta, "metrics": metrics}


def push(host, port, instance_id, sub, codec=0, metrics=b"", terminating=False):
    body = instance_id + struct.pack(">ibb", sub, terminating, codec)
    body += uvarint(len(metrics) + 1) + metrics + b"\x00"
    return struct.unpack(">h", call(host, port, 72, body)[4:6])[0]


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    failures = []

    def expect(what, got, want):
        if got != want:
            failures.append("%s: got %r, want %r" % (what, got, want))

    first = get_subscriptions(host, port, ZERO)
    expect("error", first["error"], 0)
    expect("an instance id is assigned", first["id"] != ZERO, True)
    expect("codecs: zstd, lz4, gzip, snappy", first["codecs"], [4, 3, 1, 2])
    expect("push interval", first["interval"], 300000)
    expect("telemetry max bytes", first["max_bytes"], 1 << 20)
    expect("delta temporality", first["delta"], 1)
    expect("no metrics requested", first["metrics"], 0)
    again = get_subscriptions(host, port, first["id"])
    # (Kafka also answers THROTTLING_QUOTA_EXCEEDED to a second request
    # within the push interval; Odradek keeps no per-client state: 0.)
    expect("a known instance gets the zero id back", again["id"], ZERO)
    expect("two clients, two ids", get_subscriptions(host, port, ZERO)["id"] != first["id"], True)

    def fresh():
        s = get_subscriptions(host, port, ZERO)
        return s["id"], s["sub"]

    for codec in (0, 1, 2, 3, 4):
        iid, sub = fresh()
        expect("push, codec %d" % codec, push(host, port, iid, sub, codec=codec), 0)
    iid, sub = fresh()
    expect("push, 1 MiB", push(host, port, iid, sub, metrics=b"m" * (1 << 20)), 0)
    iid, sub = fresh()
    expect("terminating push", push(host, port, iid, sub, terminating=True), 0)
    expect("push, zero instance id", push(host, port, ZERO, 1), 42)
    iid, sub = fresh()
    expect("push, another subscription id", push(host, port, iid, sub ^ 1), 117)
    expect("push, instance never seen", push(host, port, os.urandom(16), 12345), 117)
    for codec in (5, 9, -1):
        iid, sub = fresh()
        expect("push, codec %d" % codec, push(host, port, iid, sub, codec=codec), 76)
    iid, sub = fresh()
    expect("push, 1 MiB + 1", push(host, port, iid, sub, metrics=b"m" * ((1 << 20) + 1)), 118)
    if failures:
        print("\n".join(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
