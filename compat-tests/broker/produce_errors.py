#!/usr/bin/env python3
"""Produce error paths on the wire, byte by byte, against a running broker:
the Kafka error code for each bad request (unknown topic, corrupt CRC, bad
acks, a batch above max.message.bytes; acks=-1 with min.insync.replicas above
the replica count, which Kafka caps)
and acceptance of a batch whose partition leader epoch is not -1.

usage: produce_errors.py HOST PORT   (exit 0 when every case answers as Kafka does)
"""
import socket
import struct
import sys
import time


def crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


TABLE = crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(v):
    v = (v << 1) ^ (v >> 63)
    out = bytearray()
    while True:
        if v & ~0x7F:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        else:
            out.append(v)
            return bytes(out)


def batch(values, leader_epoch=-1, corrupt=False, key=None, ts=None):
    now = int(time.time() * 1000) if ts is None else ts
    records = b""
    for i, value in enumerate(values):
        k = varint(-1) if key is None else varint(len(key)) + key
        body = b"\x00" + varint(0) + varint(i) + k + varint(len(value)) + value + varint(0)
        records += varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, now, now, -1, -1, -1, len(values)) + records
    crc = crc32c(after_crc)
    if corrupt:
        crc ^= 1
    head = struct.pack(">ib", leader_epoch, 2) + struct.pack(">I", crc) + after_crc
    return struct.pack(">qi", 0, len(head)) + head


def string(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


class Conn:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=20)
        self.corr = 0

    def call(self, key, version, body):
        self.corr += 1
        req = struct.pack(">hhi", key, version, self.corr) + string("produce-errors") + body
        self.s.sendall(struct.pack(">i", len(req)) + req)
        size = struct.unpack(">i", self.take(4))[0]
        data = self.take(size)
        assert struct.unpack(">i", data[:4])[0] == self.corr
        return data[4:]

    def take(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise RuntimeError("connection closed")
            b += c
        return b


def create_topic(conn, name, configs):
    body = struct.pack(">i", 1) + string(name) + struct.pack(">ih", 1, 1) + struct.pack(">i", 0)
    body += struct.pack(">i", len(configs))
    for k, v in configs.items():
        body += string(k) + string(v)
    body += struct.pack(">ib", 30000, 0)
    data = conn.call(19, 4, body)
    # throttle, count, name, error
    off = 8
    nlen = struct.unpack(">h", data[off:off + 2])[0]
    off += 2 + nlen
    return struct.unpack(">h", data[off:off + 2])[0]


def wait_served(conn, topic, partitions=1, seconds=30):
    """Waits until ListOffsets v1 answers every partition of `topic` without error: Kafka answers
    CreateTopics before its replica manager serves the partitions."""
    deadline = time.monotonic() + seconds
    while True:
        body = struct.pack(">ii", -1, 1) + string(topic) + struct.pack(">i", partitions)
        for p in range(partitions):
            body += struct.pack(">iq", p, -1)
        data = conn.call(2, 1, body)
        off = 4 + 2 + struct.unpack(">h", data[4:6])[0]
        count = struct.unpack(">i", data[off:off + 4])[0]
        off += 4
        errors = [struct.unpack(">ih", data[off + 22 * i:off + 22 * i + 6])[1] for i in range(count)]
        if count == partitions and not any(errors):
            return
        assert time.monotonic() < deadline, "%s: partitions not served after %d s: %s" % (topic, seconds, errors)
        time.sleep(0.1)


def produce(conn, topic, records, acks=-1):
    body = struct.pack(">hhi", -1, acks, 10000) + struct.pack(">i", 1) + string(topic)
    body += struct.pack(">i", 1) + struct.pack(">i", 0) + struct.pack(">i", len(records)) + records
    data = conn.call(0, 7, body)
    off = 4  # topic count
    nlen = struct.unpack(">h", data[off:off + 2])[0]
    off += 2 + nlen + 4  # name, partition count
    index, err, base = struct.unpack(">ihq", data[off:off + 14])
    return err, base


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    conn = Conn(host, port)
    suffix = str(int(time.time() * 1000) % 100000)
    small, strict = "pe-small-" + suffix, "pe-isr-" + suffix
    failures = []

    def expect(what, got, want):
        if got != want:
            failures.append("%s: got %s, want %s" % (what, got, want))

    expect("create small", create_topic(conn, small, {"max.message.bytes": "200"}), 0)
    expect("create strict", create_topic(conn, strict, {"min.insync.replicas": "2"}), 0)
    compact = "pe-compact-" + suffix
    expect("create compact", create_topic(conn, compact, {"cleanup.policy": "compact"}), 0)
    bounded = "pe-ts-" + suffix
    expect("create bounded", create_topic(conn, bounded, {"message.timestamp.after.max.ms": "60000"}), 0)
    for topic in (small, strict, compact, bounded):
        wait_served(conn, topic)
    expect("unknown topic", produce(conn, "pe-missing-" + suffix, batch([b"x"]))[0], 3)
    expect("corrupt crc", produce(conn, small, batch([b"x"], corrupt=True))[0], 2)
    expect("batch above max.message.bytes", produce(conn, small, batch([b"y" * 400]))[0], 10)
    # Kafka caps min.insync.replicas at the replica count: one replica is enough.
    expect("acks=-1, min.insync.replicas above the replica count", produce(conn, strict, batch([b"z"]))[0], 0)
    expect("acks=1 below min.insync.replicas", produce(conn, strict, batch([b"z"]), acks=1)[0], 0)
    err, base = produce(conn, small, batch([b"a", b"b"], leader_epoch=5))
    expect("leader epoch 5 accepted", err, 0)
    err, base = produce(conn, small, batch([b"c"]))
    expect("next offset", (err, base), (0, 2))
    # A compacted topic refuses records without a key, and takes keyed ones.
    expect("compacted topic, no key", produce(conn, compact, batch([b"v"]))[0], 87)
    expect("compacted topic, keyed", produce(conn, compact, batch([b"v"], key=b"k"))[0], 0)
    # CreateTime records more than message.timestamp.after.max.ms ahead of the
    # broker's clock are refused; a record stamped now is taken.
    day_ahead = int(time.time() * 1000) + 86400000
    expect("timestamp one day ahead", produce(conn, bounded, batch([b"f"], ts=day_ahead))[0], 32)
    expect("timestamp now", produce(conn, bounded, batch([b"n"]))[0], 0)
    # acks outside {-1, 0, 1}: Kafka answers INVALID_REQUIRED_ACKS.
    expect("acks=2", produce(conn, small, batch([b"d"]), acks=2)[0], 21)
    if failures:
        print("\n".join(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
