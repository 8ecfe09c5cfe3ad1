#!/usr/bin/env python3
"""Old message formats on the wire. Records go in as v2 batches (Produce v7:
uncompressed with headers, gzip; snappy and lz4 through kcat when it is
installed) and as magic 0/1 message sets (Produce v0 and v2, one gzip
wrapper), and come out of Fetch v0-1 as magic 0 and of Fetch v2-3 as magic 1
message sets: every record, in offset order, with its key, value, timestamp
(magic 1) and its batch's codec, decoded by od_codec_tool legacy-decode.
A fetch from the middle of an uncompressed batch starts at that offset; a
zstd batch cannot be down-converted (UNSUPPORTED_COMPRESSION_TYPE); a
magic 0/1 set produced is read back by Fetch v4 as v2 batches.

usage: old_formats.py CODEC_TOOL HOST PORT   (exit 0 when all holds)
"""
import gzip
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bad_input import raw_batch, record  # noqa: E402
from produce_errors import Conn, create_topic, string, varint, wait_served  # noqa: E402

UNSUPPORTED_COMPRESSION_TYPE = 76
CODEC_NAMES = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


def record_with_header(i, key, value, ts_delta=0):
    body = b"\x00" + varint(ts_delta) + varint(i) + varint(len(key)) + key + varint(len(value)) + value
    body += varint(1) + varint(2) + b"hk" + varint(2) + b"hv"
    return varint(len(body)) + body


def legacy_message(magic, offset, key, value, ts=None, attributes=0):
    body = struct.pack(">bb", magic, attributes)
    if magic == 1:
        body += struct.pack(">q", ts)
    body += struct.pack(">i", -1) if key is None else struct.pack(">i", len(key)) + key
    body += struct.pack(">i", len(value)) + value
    msg = struct.pack(">I", zlib.crc32(body)) + body
    return struct.pack(">qi", offset, len(msg)) + msg


def produce(conn, version, topic, records):
    body = b"" if version < 3 else struct.pack(">h", -1)
    body += struct.pack(">hi", -1, 10000) + struct.pack(">i", 1) + string(topic)
    body += struct.pack(">ii", 1, 0) + struct.pack(">i", len(records)) + records
    d = conn.call(0, version, body)
    off = 4 + 2 + struct.unpack(">h", d[4:6])[0] + 4
    return struct.unpack(">h", d[off + 4:off + 6])[0]


def fetch(conn, version, topic, offset, max_bytes=1 << 20):
    body = struct.pack(">iii", -1, 100, 0)
    if version >= 3:
        body += struct.pack(">i", max_bytes)
    if version >= 4:
        body += struct.pack(">b", 0)
    body += struct.pack(">i", 1) + string(topic) + struct.pack(">i", 1) + struct.pack(">iq", 0, offset)
    if version >= 5:
        body += struct.pack(">q", -1)
    body += struct.pack(">i", max_bytes)
    d = conn.call(1, version, body)
    off = 4 if version >= 1 else 0
    off += 4 + 2 + struct.unpack(">h", d[off + 4:off + 6])[0] + 4
    err = struct.unpack(">h", d[off + 4:off + 6])[0]
    off += 6 + 8
    if version >= 4:
        off += 8
        n = struct.unpack(">i", d[off:off + 4])[0]
        off += 4 + max(n, 0) * 16
    if version >= 5:
        off += 8
    n = struct.unpack(">i", d[off:off + 4])[0]
    return err, d[off + 4:off + 4 + max(n, 0)]


def legacy_decode(tool, data):
    """[(offset, magic, codec, ts, key, value)] per od_codec_tool legacy-decode."""
    if not data:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        open(src, "wb").write(data)
        subprocess.run([tool, "legacy-decode", src, dst])
        lines = open(dst).read().splitlines()
    # A response may end inside a message: Kafka pads a down-converted set
    # that came out smaller than its size estimate (KIP-283), and clients
    # skip a partial message at the end.
    if lines and lines[-1] == "error message set rejected: truncated":
        lines.pop()
    out = []
    for line in lines:
        if not line.startswith("legacy "):
            raise AssertionError("legacy-decode: " + line)
        f = dict(kv.split("=", 1) for kv in line.split()[1:])
        key = None if f["key"] == "null" else bytes.fromhex(f["key"])
        value = None if f["value"] == "null" else bytes.fromhex(f["value"])
        out.append((int(f["offset"]), int(f["magic"]), f["codec"], int(f["ts"]), key, value))
    return out


def kcat_produce(host, port, topic, codec, pairs):
    kcat = shutil.which("kcat")
    if kcat is None:
        return False
    data = "".join("%s:%s\n" % (k.decode(), v.decode()) for k, v in pairs)
    subprocess.run([kcat, "-P", "-b", "%s:%d" % (host, port), "-t", topic, "-p", "0", "-K:", "-z", codec,
                    "-X", "linger.ms=50"], input=data.encode(), check=True, timeout=60)
    return True


def main():
    tool, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    conn = Conn(host, port)
    suffix = str(int(time.time() * 1000) % 100000)
    topic, ztopic, otopic = "of-" + suffix, "of-zstd-" + suffix, "of-old-" + suffix
    failures = []

    def expect(what, got, want):
        if got != want:
            failures.append("%s:\n  got  %r\n  want %r" % (what, got, want))

    for t in (topic, ztopic, otopic):
        expect("create " + t, create_topic(conn, t, {}), 0)
        wait_served(conn, t)

    # (key, value, timestamp or None when the producer sets it, codec) in offset order.
    want = []
    now = int(time.time() * 1000)
    recs = b"".join(record_with_header(i, b"k%d" % i, b"plain-%d" % i, ts_delta=i) for i in range(3))
    expect("produce uncompressed", produce(conn, 7, topic, raw_batch(recs, 3)), 0)
    want += [(b"k%d" % i, b"plain-%d" % i, None, "none") for i in range(3)]
    recs = b"".join(record(i, b"gz-%d" % i, key=b"g%d" % i) for i in range(2))
    expect("produce gzip", produce(conn, 7, topic, raw_batch(gzip.compress(recs), 2, attributes=1)), 0)
    want += [(b"g%d" % i, b"gz-%d" % i, None, "gzip") for i in range(2)]
    for codec in ("snappy", "lz4"):
        # Compressible values: librdkafka sends a batch uncompressed when
        # compression would not make it smaller.
        pairs = [(b"%s%d" % (codec[:1].encode(), i), b"%s-%d." % (codec.encode(), i) * 40) for i in range(2)]
        if kcat_produce(host, port, topic, codec, pairs):
            want += [(k, v, None, codec) for k, v in pairs]
    n = len(want)

    def fetch_all(version, t, count):
        """Fetches from 0 as a consumer does, from the offset after the last
        record seen, until `count` records came (a down-converted response
        may hold only part of what was asked for, as Kafka's lazy
        down-conversion sends)."""
        got, errors = [], set()
        for _ in range(count + 1):
            err, data = fetch(conn, version, t, got[-1][0] + 1 if got else 0)
            errors.add(err)
            more = legacy_decode(tool, data)
            if err != 0 or not more:
                break
            got += more
            if len(got) >= count:
                break
        return errors, got

    for version in (0, 1, 2, 3):
        magic = 0 if version <= 1 else 1
        errors, got = fetch_all(version, topic, n)
        expect("fetch v%d errors" % version, errors, {0})
        expect("fetch v%d offsets" % version, [r[0] for r in got], list(range(n)))
        expect("fetch v%d magic" % version, sorted({r[1] for r in got}), [magic])
        expect("fetch v%d records" % version, [(r[4], r[5], r[2]) for r in got], [(w[0], w[1], w[3]) for w in want])
        if magic == 1:
            ts = [r[3] for r in got[:3]]
            expect("fetch v%d timestamps" % version, [t - ts[0] for t in ts], [0, 1, 2])
        else:
            expect("fetch v%d no timestamps" % version, {r[3] for r in got}, {-1})
    # From inside the uncompressed batch: the records before are left out.
    err, data = fetch(conn, 1, topic, 1)
    expect("fetch v1 from offset 1", [r[0] for r in legacy_decode(tool, data)][:2], [1, 2])

    strict = "of-strict-" + suffix
    expect("create " + strict, create_topic(conn, strict, {"message.downconversion.enable": "false"}), 0)
    wait_served(conn, strict)
    expect("produce to the no-conversion topic", produce(conn, 7, strict, raw_batch(record(0, b"s"), 1)), 0)
    expect("fetch v3, down-conversion disabled", fetch(conn, 3, strict, 0)[0], 35)
    expect("fetch v4, down-conversion disabled", fetch(conn, 4, strict, 0)[0], 0)
    if kcat_produce(host, port, ztopic, "zstd", [(b"z", b"zstd-0." * 40)]):
        expect("fetch v3 of zstd", fetch(conn, 3, ztopic, 0)[0], UNSUPPORTED_COMPRESSION_TYPE)

    # Magic 0/1 sets from old producers are read back as v2 batches.
    ts = now - 5000
    expect("produce v0, magic 0", produce(conn, 0, otopic, legacy_message(0, 0, b"m0", b"zero")), 0)
    set1 = legacy_message(1, 0, b"m1", b"one", ts) + legacy_message(1, 1, None, b"two", ts + 1)
    expect("produce v2, magic 1", produce(conn, 2, otopic, set1), 0)
    inner = legacy_message(1, 0, b"w0", b"in-0", ts + 2) + legacy_message(1, 1, b"w1", b"in-1", ts + 3)
    wrapper = legacy_message(1, 1, None, gzip.compress(inner), ts + 3, attributes=1)
    expect("produce v2, gzip wrapper", produce(conn, 2, otopic, wrapper), 0)
    bad = bytearray(legacy_message(1, 0, b"x", b"bad-crc", ts))
    bad[-1] ^= 1
    expect("produce v2, bad CRC", produce(conn, 2, otopic, bytes(bad)), 2)
    errors, got = fetch_all(3, otopic, 5)
    got = [(r[0], r[3], r[4], r[5]) for r in got]
    expect("magic 0/1 in, magic 1 out", got,
           [(0, -1, b"m0", b"zero"), (1, ts, b"m1", b"one"), (2, ts + 1, None, b"two"),
            (3, ts + 2, b"w0", b"in-0"), (4, ts + 3, b"w1", b"in-1")])
    err, data = fetch(conn, 4, otopic, 0)
    magics = set()
    pos = 0
    while pos + 17 <= len(data):
        magics.add(data[pos + 16])
        pos += 12 + struct.unpack(">i", data[pos + 8:pos + 12])[0]
    expect("fetch v4 reads v2 batches", (err, magics), (0, {2}))
    if failures:
        print("\n".join(failures))
        return 1
    print("ok: %d records down-converted" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
