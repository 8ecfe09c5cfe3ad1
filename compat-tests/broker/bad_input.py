#!/usr/bin/env python3
"""Malformed requests on the wire, byte by byte: bad frame sizes, truncated
frames and bodies, unknown keys and versions, bodies that do not decode
(negative and huge array counts, null where a field is not nullable,
strings that run past the frame), garbage client ids, and Produce batches
that decode as a request but not as records (bad CRC, corrupt compressed
payloads for every codec, record counts that lie, bad magic, LogAppendTime
from a producer, records above max.message.bytes).

Each case opens its own connection, sends its bytes, and records what the
broker did: a Kafka error code (read from the part of the reply the case
names), a reply, or a close. After every case a long-lived second
connection must still be served (ApiVersions, then Metadata).

usage: bad_input.py HOST PORT
       bad_input.py KAFKA_HOST KAFKA_PORT ODRADEK_HOST ODRADEK_PORT
With one broker, every outcome must equal the one the table below records
for Apache Kafka 3.9.2. With two, every case also runs against both in
turn and the outcomes must agree with each other (and with the table).
Exit 0 when all agree.
"""
import gzip
import os
import socket
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from produce_errors import Conn, create_topic, crc32c, string, varint, wait_served  # noqa: E402

CLOSE = "close"
SOCKET_REQUEST_MAX_BYTES = 104857600  # Kafka's default

# --- encoding helpers --------------------------------------------------------


def header(key, version, corr, client_id="bad-input", flexible=False):
    """Request header v1 (v2 when flexible: a tagged-field count follows)."""
    h = struct.pack(">hhi", key, version, corr)
    h += struct.pack(">h", -1) if client_id is None else string(client_id)
    return h + (b"\x00" if flexible else b"")


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def compact_string(s):
    b = s.encode() if isinstance(s, str) else s
    return uvarint(len(b) + 1) + b


def record(i, value, key=None):
    k = varint(-1) if key is None else varint(len(key)) + key
    body = b"\x00" + varint(0) + varint(i) + k + varint(len(value)) + value + varint(0)
    return varint(len(body)) + body


def raw_batch(records_bytes, count, attributes=0, magic=2, crc_flip=False, last_delta=None,
              producer=(-1, -1, -1), ts=None):
    """A v2 batch around already-encoded (possibly compressed) records."""
    now = int(time.time() * 1000) if ts is None else ts
    last = count - 1 if last_delta is None else last_delta
    after_crc = struct.pack(">hiqqqhii", attributes, last, now, now, *producer, count) + records_bytes
    crc = crc32c(after_crc) ^ (1 if crc_flip else 0)
    head = struct.pack(">ib", -1, magic) + struct.pack(">I", crc) + after_crc
    return struct.pack(">qi", 0, len(head)) + head


def plain_batch(values, **kw):
    return raw_batch(b"".join(record(i, v) for i, v in enumerate(values)), len(values), **kw)


def produce_body(topic, records, acks=-1, partition=0):
    body = struct.pack(">hhi", -1, acks, 10000) + struct.pack(">i", 1) + string(topic)
    body += struct.pack(">i", 1) + struct.pack(">i", partition)
    body += struct.pack(">i", -1) if records is None else struct.pack(">i", len(records)) + records
    return body


# --- reading replies ---------------------------------------------------------


def read_reply(sock, corr, wait):
    """The reply body after the correlation id; CLOSE when the broker closes
    (or resets) the connection; None when nothing came within `wait`."""
    sock.settimeout(wait)
    buf = b""
    try:
        while True:
            if len(buf) >= 4:
                size = struct.unpack(">i", buf[:4])[0]
                if len(buf) >= 4 + size:
                    got = struct.unpack(">i", buf[4:8])[0]
                    if got != corr:
                        return "wrong correlation id %d" % got
                    return buf[8:4 + size]
            chunk = sock.recv(65536)
            if not chunk:
                return CLOSE
            buf += chunk
    except socket.timeout:
        return None
    except (ConnectionResetError, BrokenPipeError):
        return CLOSE


def produce_error(body):
    """Produce v7 reply: the first partition's error code."""
    n = struct.unpack(">h", body[4:6])[0]
    return struct.unpack(">h", body[6 + n + 4 + 4:6 + n + 4 + 4 + 2])[0]


def metadata_v4_topic_error(body):
    off = 4
    nb = struct.unpack(">i", body[off:off + 4])[0]
    off += 4
    for _ in range(nb):
        off += 4
        hl = struct.unpack(">h", body[off:off + 2])[0]
        off += 2 + hl + 4
        rl = struct.unpack(">h", body[off:off + 2])[0]
        off += 2 + max(rl, 0)
    cl = struct.unpack(">h", body[off:off + 2])[0]
    off += 2 + max(cl, 0) + 4
    nt = struct.unpack(">i", body[off:off + 4])[0]
    if nt < 1:
        return "no topics"
    return struct.unpack(">h", body[off + 4:off + 6])[0]


def leading_error(body):
    """Replies that start with an error code (ApiVersions)."""
    return struct.unpack(">h", body[:2])[0]


def throttle_then_error(body):
    """Replies that start with throttle_time_ms then an error code."""
    return struct.unpack(">h", body[4:6])[0]


def replied(_body):
    return "reply"


# --- the cases ---------------------------------------------------------------
# Each case: (name, expected outcome on Kafka 3.9.2, build(ctx) -> bytes,
# reading of the reply, what to do after sending: None, or "shut" to
# half-close so the broker sees the end of the stream).


def api_versions(corr, version=3, client_id="bad-input", sw_name="bad-input", sw_version="1.0"):
    flexible = version >= 3
    body = (compact_string(sw_name) + compact_string(sw_version) + b"\x00") if flexible else b""
    return frame(header(18, version, corr, client_id, flexible) + body)


def metadata_v4(corr, topics, client_id="bad-input", allow_auto=False):
    body = struct.pack(">i", len(topics)) + b"".join(string(t) if isinstance(t, str) else t for t in topics)
    return frame(header(3, 4, corr, client_id) + body + struct.pack(">b", allow_auto))


def produce_frame(corr, topic, records, version=7, **kw):
    return frame(header(0, version, corr) + produce_body(topic, records, **kw))


GARBAGE = bytes(range(7, 250, 3)) * 3  # not a valid stream for any codec


def cases(t):
    """t: names of topics created for the run ('plain', 'small')."""
    plain, small, lat = t["plain"], t["small"], t["lat"]
    one = record(0, b"v")
    return [
        # Frame sizes.
        ("negative frame length", CLOSE, lambda c: struct.pack(">i", -1) + header(18, 0, c), None, None),
        ("frame length -2^31", CLOSE, lambda c: struct.pack(">i", -2**31) + header(18, 0, c), None, None),
        ("zero frame length", CLOSE, lambda c: struct.pack(">i", 0), None, None),
        ("frame above socket.request.max.bytes", CLOSE,
         lambda c: struct.pack(">i", SOCKET_REQUEST_MAX_BYTES + 1) + header(18, 0, c), None, None),
        ("frame shorter than a request header", CLOSE,
         lambda c: frame(struct.pack(">hh", 18, 0)), None, None),
        ("truncated frame, then end of stream", CLOSE,
         lambda c: struct.pack(">i", 100) + header(18, 0, c), None, "shut"),
        # Keys and versions.
        ("unknown api key 999", CLOSE, lambda c: frame(header(999, 0, c)), None, None),
        ("negative api key", CLOSE, lambda c: frame(header(-1, 0, c)), None, None),
        ("controller-only api key (Vote)", CLOSE, lambda c: frame(header(52, 0, c)), None, None),
        ("Metadata at version 99", CLOSE, lambda c: frame(header(3, 99, c) + b"\x00" * 8), None, None),
        ("Metadata at version -1", CLOSE, lambda c: frame(header(3, -1, c) + b"\x00" * 8), None, None),
        ("Produce v2 without topics", "reply",
         lambda c: frame(header(0, 2, c) + struct.pack(">hii", 1, 1000, 0)), replied, None),
        # A version newer than the broker's is parsed with the newest header
        # (flexible): the answer is v0 with UNSUPPORTED_VERSION and the
        # broker's ApiVersions range, byte for byte.
        ("ApiVersions at version 99", "002300000001001200000004",
         lambda c: frame(header(18, 99, c, flexible=True) + b"\xff" * 16), lambda b: b.hex(), None),
        ("ApiVersions at version 99 without a tagged-field count", CLOSE,
         lambda c: frame(header(18, 99, c)), None, None),
        ("ApiVersions v3, software name not allowed", 42,
         lambda c: api_versions(c, sw_name="bad name!"), leading_error, None),
        ("ApiVersions v3, empty software name", 42,
         lambda c: api_versions(c, sw_name=""), leading_error, None),
        ("ApiVersions v3, body missing", CLOSE, lambda c: frame(header(18, 3, c, flexible=True)), None, None),
        ("ApiVersions v0 with trailing bytes", 0, lambda c: frame(header(18, 0, c) + b"junk"),
         leading_error, None),
        # Client ids.
        ("client id null", 0, lambda c: api_versions(c, version=0, client_id=None), leading_error, None),
        ("client id length -7", 0,
         lambda c: frame(struct.pack(">hhih", 18, 0, c, -7)), leading_error, None),
        ("client id runs past the frame", CLOSE,
         lambda c: frame(struct.pack(">hhih", 18, 0, c, 200) + b"abc"), None, None),
        ("client id invalid UTF-8", 0,
         lambda c: frame(struct.pack(">hhih", 18, 0, c, 4) + b"\xff\xfe\xc0\x80"), leading_error, None),
        ("client id with NUL and controls", 0,
         lambda c: frame(struct.pack(">hhih", 18, 0, c, 5) + b"a\x00\x01\x1b\x7f"), leading_error, None),
        # Bodies that do not decode.
        ("Metadata v4, body cut in the middle of a name", CLOSE,
         lambda c: frame(header(3, 4, c) + struct.pack(">ih", 1, 40) + b"abc"), None, None),
        ("Metadata v4, body missing", CLOSE, lambda c: frame(header(3, 4, c)), None, None),
        ("Metadata v4, topic count -5", "reply",
         lambda c: frame(header(3, 4, c) + struct.pack(">ib", -5, 0)), None, None),
        ("Metadata v4, topic count 2^31-1", CLOSE,
         lambda c: frame(header(3, 4, c) + struct.pack(">i", 2**31 - 1) + string("x") + b"\x00"), None, None),
        ("Metadata v0, null topic array", CLOSE,
         lambda c: frame(header(3, 0, c) + struct.pack(">i", -1)), None, None),
        ("Metadata v4, null topic name", CLOSE,
         lambda c: frame(header(3, 4, c) + struct.pack(">ihb", 1, -1, 0)), None, None),
        ("Metadata v12, compact array length huge", CLOSE,
         lambda c: frame(header(3, 12, c, flexible=True) + uvarint(2**31 - 2) + b"\x00\x00\x00"), None, None),
        ("Metadata v12, varint longer than 5 bytes", CLOSE,
         lambda c: frame(header(3, 12, c, flexible=True) + b"\xff\xff\xff\xff\xff\xff\x01\x00\x00\x00"), None, None),
        ("Metadata v12, tagged field runs past the frame", CLOSE,
         lambda c: frame(header(3, 12, c, flexible=True) + b"\x01\x00\x00" + b"\x01\x05\x40"), None, None),
        ("Metadata v12, unknown tagged field skipped", "reply",
         lambda c: frame(header(3, 12, c, flexible=True) + b"\x01\x00\x00" + b"\x01\x09\x02ab"), replied, None),
        ("Metadata v4, invalid UTF-8 topic name", 17,
         lambda c: metadata_v4(c, [struct.pack(">h", 3) + b"a\xffz"]), metadata_v4_topic_error, None),
        ("Metadata v4, topic name with a NUL", 17,
         lambda c: metadata_v4(c, [struct.pack(">h", 3) + b"a\x00z"]), metadata_v4_topic_error, None),
        ("CreateTopics v4, null topic name", CLOSE,
         lambda c: frame(header(19, 4, c) + struct.pack(">ih", 1, -1) + struct.pack(">ihii", 1, 1, 0, 0)
                         + struct.pack(">ib", 30000, 0)), None, None),
        ("Produce v7, topic array count -1", CLOSE,
         lambda c: frame(header(0, 7, c) + struct.pack(">hhii", -1, -1, 10000, -1)), None, None),
        ("Produce v7, records length past the frame", CLOSE,
         lambda c: frame(header(0, 7, c) + produce_body(plain, b"")[:-4] + struct.pack(">i", 4096) + b"xx"),
         None, None),
        # Records that decode as bytes but not as a batch.
        ("Produce, null records", None, lambda c: produce_frame(c, plain, None), produce_error, None),
        ("Produce, empty records", 87, lambda c: produce_frame(c, plain, b""), produce_error, None),
        ("Produce, bad CRC", 2, lambda c: produce_frame(c, plain, plain_batch([b"x"], crc_flip=True)),
         produce_error, None),
        ("Produce, 10 garbage bytes", 87, lambda c: produce_frame(c, plain, GARBAGE[:10]), produce_error, None),
        ("Produce, batch length past the records", 87,
         lambda c: produce_frame(c, plain, plain_batch([b"x"])[:-3]), produce_error, None),
        ("Produce, magic 3", 2, lambda c: produce_frame(c, plain, plain_batch([b"x"], magic=3)),
         produce_error, None),
        ("Produce v7, magic 1 message set", 87,
         lambda c: produce_frame(c, plain, legacy_message(1, b"x")), produce_error, None),
        ("Produce, record count 3 but 1 record", 87,
         lambda c: produce_frame(c, plain, raw_batch(one, 3)), produce_error, None),
        ("Produce, record count 1 but 2 records", 87,
         lambda c: produce_frame(c, plain, raw_batch(one + record(1, b"w"), 1)), produce_error, None),
        ("Produce, record count 0", 87, lambda c: produce_frame(c, plain, raw_batch(b"", 0)),
         produce_error, None),
        ("Produce, record count -1", 87, lambda c: produce_frame(c, plain, raw_batch(one, -1)),
         produce_error, None),
        ("Produce, record length past the batch", 87,
         lambda c: produce_frame(c, plain, raw_batch(varint(90) + one[1:], 1)), produce_error, None),
        ("Produce, record value length past the record", 87,
         lambda c: produce_frame(c, plain, raw_batch(varint(8) + b"\x00" + varint(0) + varint(0) + varint(-1)
                                                      + varint(50) + b"ab" + varint(0), 1)),
         produce_error, None),
        ("Produce, negative header count", 87,
         lambda c: produce_frame(c, plain, raw_batch(varint(6) + b"\x00" + varint(0) + varint(0) + varint(-1)
                                                      + varint(0) + varint(-3), 1)),
         produce_error, None),
        ("Produce, offset delta not consecutive", 0,
         lambda c: produce_frame(c, plain, raw_batch(record(0, b"a") + record(5, b"b"), 2)),
         produce_error, None),
        ("Produce, last offset delta wrong", 87,
         lambda c: produce_frame(c, plain, raw_batch(record(0, b"a"), 1, last_delta=4)),
         produce_error, None),
        ("Produce, LogAppendTime from a producer", 0,
         lambda c: produce_frame(c, plain, plain_batch([b"t"], attributes=0x08)), produce_error, None),
        # Kafka refuses a LogAppendTime batch from a producer (INVALID_TIMESTAMP)
        # where it does not check the CreateTime range: a LogAppendTime topic,
        # or a record without a timestamp.
        ("Produce, LogAppendTime batch to a LogAppendTime topic", 32,
         lambda c: produce_frame(c, lat, plain_batch([b"t"], attributes=0x08)), produce_error, None),
        ("Produce, LogAppendTime batch, max timestamp -1", 32,
         lambda c: produce_frame(c, plain, plain_batch([b"t"], attributes=0x08, ts=-1)), produce_error, None),
        ("Produce, CreateTime batch to a LogAppendTime topic", 0,
         lambda c: produce_frame(c, lat, plain_batch([b"t"])), produce_error, None),
        ("Produce, control batch from a producer", 87,
         lambda c: produce_frame(c, plain, plain_batch([b"t"], attributes=0x20)), produce_error, None),
        ("Produce, codec 5 (unknown)", -1,
         lambda c: produce_frame(c, plain, raw_batch(GARBAGE, 1, attributes=5)), produce_error, None),
        ("Produce, corrupt gzip", -1, lambda c: produce_frame(c, plain, raw_batch(GARBAGE, 2, attributes=1)),
         produce_error, None),
        ("Produce, gzip header then garbage", -1,
         lambda c: produce_frame(c, plain, raw_batch(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + GARBAGE, 2,
                                                     attributes=1)),
         produce_error, None),
        ("Produce, corrupt snappy", -1, lambda c: produce_frame(c, plain, raw_batch(GARBAGE, 2, attributes=2)),
         produce_error, None),
        ("Produce, corrupt lz4", -1, lambda c: produce_frame(c, plain, raw_batch(GARBAGE, 2, attributes=3)),
         produce_error, None),
        ("Produce, lz4 frame magic then garbage", -1,
         lambda c: produce_frame(c, plain, raw_batch(b"\x04\x22\x4d\x18" + GARBAGE, 2, attributes=3)),
         produce_error, None),
        ("Produce, corrupt zstd", -1, lambda c: produce_frame(c, plain, raw_batch(GARBAGE, 2, attributes=4)),
         produce_error, None),
        ("Produce, zstd frame magic then garbage", -1,
         lambda c: produce_frame(c, plain, raw_batch(b"\x28\xb5\x2f\xfd" + GARBAGE, 2, attributes=4)),
         produce_error, None),
        ("Produce, two batches in one partition", 87,
         lambda c: produce_frame(c, plain, plain_batch([b"a"]) + plain_batch([b"b"])), produce_error, None),
        ("Produce, batch length 10", 2,
         lambda c: produce_frame(c, plain, struct.pack(">qi", 0, 10) + b"\x00" * 10), produce_error, None),
        ("Produce, batch length 16 (a v2 header needs 49)", 87,
         lambda c: produce_frame(c, plain, struct.pack(">qib", 0, 16, 0) + struct.pack(">ib", 0, 2) + b"\x00" * 11),
         produce_error, None),
        ("Produce, base offset 5", 87,
         lambda c: produce_frame(c, plain, b"\x00" * 7 + b"\x05" + plain_batch([b"x"])[8:]), produce_error, None),
        ("Produce, producer id without a sequence", 87,
         lambda c: produce_frame(c, plain, raw_batch(one, 1, producer=(5, 0, -1))), produce_error, None),
        ("Produce, gzip records that do not parse", 87,
         lambda c: produce_frame(c, plain, raw_batch(gzip.compress(GARBAGE), 2, attributes=1)),
         produce_error, None),
        ("Produce, gzip offset deltas not consecutive", -1,
         lambda c: produce_frame(c, plain, raw_batch(gzip.compress(record(0, b"a") + record(5, b"b")), 2,
                                                     attributes=1)),
         produce_error, None),
        ("Produce, gzip record count 3 but 2 records", 87,
         lambda c: produce_frame(c, plain, raw_batch(gzip.compress(record(0, b"a") + record(1, b"b")), 3,
                                                     attributes=1)),
         produce_error, None),
        ("Produce, gzip ok", 0,
         lambda c: produce_frame(c, plain, raw_batch(gzip.compress(record(0, b"a") + record(1, b"b")), 2,
                                                     attributes=1)),
         produce_error, None),
        ("Produce, one batch then 5 stray bytes", 0,
         lambda c: produce_frame(c, plain, plain_batch([b"x"]) + b"\x00\x00\x00\x00\x07"), produce_error, None),
        ("Produce v3, zstd", 76,
         lambda c: produce_frame(c, plain, raw_batch(GARBAGE, 1, attributes=4), version=3), produce_error, None),
        ("Produce v7, zstd that does not decode", -1,
         lambda c: produce_frame(c, plain, raw_batch(GARBAGE, 1, attributes=4), version=7), produce_error, None),
        # Parks (the small topic holds nothing, min_bytes 1) for 24 days; the client then
        # goes away. The broker must still stop at once on SIGTERM
        # (with_broker.sh waits for it).
        ("Fetch v4, max wait 2^31-1 ms", None,
         lambda c: frame(header(1, 4, c) + struct.pack(">iiiib", -1, 2**31 - 1, 1, 1 << 20, 0)
                         + struct.pack(">i", 1) + string(small) + struct.pack(">iiqi", 1, 0, 0, 1 << 20)),
         None, None),
        ("Produce, partition 99 of a topic with one", 3,
         lambda c: produce_frame(c, plain, plain_batch([b"x"]), partition=99), produce_error, None),
        ("Produce, record above max.message.bytes", 10,
         lambda c: produce_frame(c, small, plain_batch([b"m" * 400])), produce_error, None),
        ("Produce, negative partition", 3,
         lambda c: produce_frame(c, plain, plain_batch([b"x"]), partition=-1), produce_error, None),
        ("Produce, topic name not valid", 3,
         lambda c: produce_frame(c, "bad/name", plain_batch([b"x"])), produce_error, None),
        ("Produce, acks=0 with a bad CRC closes", CLOSE,
         lambda c: produce_frame(c, plain, plain_batch([b"x"], crc_flip=True), acks=0), None, None),
    ]


def legacy_message(magic, value):
    """One uncompressed magic 0/1 message at offset 0 (for Produce v7, which
    only takes magic 2)."""
    body = struct.pack(">bb", magic, 0)
    if magic == 1:
        body += struct.pack(">q", int(time.time() * 1000))
    body += struct.pack(">i", -1) + struct.pack(">i", len(value)) + value
    msg = struct.pack(">I", zlib.crc32(body)) + body
    return struct.pack(">qi", 0, len(msg)) + msg


# Where Odradek answers otherwise on purpose: case name -> (Odradek's
# outcome, why). Each is a Kafka 3.9.2 behaviour that harms the client.
DELIBERATE = {
    "Produce, null records": (
        CLOSE, "Kafka throws a NullPointerException in its handler and never answers, leaving the "
               "connection muted; Odradek closes it"),
    "Produce, offset delta not consecutive": (
        87, "Kafka stores an uncompressed batch whose records' offset deltas are not 0..n-1 as it is, and "
            "consumers then skip the offsets of the next batch; Odradek refuses it as INVALID_RECORD"),
}


# --- running -----------------------------------------------------------------


class Broker:
    def __init__(self, label, host, port):
        self.label, self.host, self.port = label, host, port
        self.watch = socket.create_connection((host, port), timeout=20)
        self.watch_corr = 1000

    def serves_watch(self):
        """The long-lived connection still gets ApiVersions and Metadata."""
        for build, read in ((lambda c: api_versions(c, version=0), leading_error),
                            (lambda c: metadata_v4(c, []), replied)):
            self.watch_corr += 1
            self.watch.sendall(build(self.watch_corr))
            got = read_reply(self.watch, self.watch_corr, 20)
            if got is None or got == CLOSE or isinstance(got, str):
                return False
            if read(got) not in (0, "reply"):
                return False
        return True

    def run(self, build, read, after):
        s = socket.create_connection((self.host, self.port), timeout=20)
        corr = 7
        try:
            s.sendall(build(corr))
        except (ConnectionResetError, BrokenPipeError):
            s.close()
            return CLOSE
        if after == "shut":
            s.shutdown(socket.SHUT_WR)
        got = read_reply(s, corr, 5 if read is None else 15)
        s.close()
        if got is None or got == CLOSE or isinstance(got, str):
            return got
        try:
            return read(got) if read else "reply"
        except struct.error:
            return "unreadable reply %r" % got[:40]


def setup_topics(broker):
    suffix = str(int(time.time() * 1000) % 100000)
    topics = {"plain": "bi-plain-" + suffix, "small": "bi-small-" + suffix, "lat": "bi-lat-" + suffix}
    conn = Conn(broker.host, broker.port)
    for key, cfg in (("plain", {}), ("small", {"max.message.bytes": "200"}),
                     ("lat", {"message.timestamp.type": "LogAppendTime"})):
        err = create_topic(conn, topics[key], cfg)
        if err != 0:
            raise SystemExit("%s: cannot create %s: error %d" % (broker.label, topics[key], err))
        wait_served(conn, topics[key])
    return topics


def main():
    args = sys.argv[1:]
    if len(args) not in (2, 4):
        print(__doc__)
        return 2
    brokers = [Broker("kafka" if len(args) == 4 else "broker", args[0], int(args[1]))]
    # With one broker, which one it is decides the expectations of the
    # DELIBERATE cases: the environment names it (with_broker.sh's target).
    odradek = os.environ.get("OD_BROKER_UNDER_TEST", "odradek") == "odradek"
    if len(args) == 4:
        brokers.append(Broker("odradek", args[2], int(args[3])))
    topics = {b.label: setup_topics(b) for b in brokers}
    failures = []
    for i in range(len(cases(topics[brokers[0].label]))):
        outcomes = []
        for b in brokers:
            name, want, build, read, after = cases(topics[b.label])[i]
            got = b.run(build, read, after)
            outcomes.append(got)
            if b.label == "odradek" or (b.label == "broker" and odradek):
                want = DELIBERATE.get(name, (want,))[0]
            if got != want:
                failures.append("%s on %s: got %r, want %r" % (name, b.label, got, want))
            if not b.serves_watch():
                failures.append("%s on %s: the other connection is no longer served" % (name, b.label))
                b.watch = socket.create_connection((b.host, b.port), timeout=20)
        if len(outcomes) == 2 and outcomes[0] != outcomes[1] and name not in DELIBERATE:
            failures.append("%s: Kafka %r, Odradek %r" % (name, outcomes[0], outcomes[1]))
        print("%-55s %s" % (name, "  ".join(repr(o) for o in outcomes)), flush=True)
    if failures:
        print("\n".join(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
