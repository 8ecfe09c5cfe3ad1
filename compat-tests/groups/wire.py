"""Just enough of the Kafka protocol, in the standard library, to send exact group requests and
read the error codes back (non-flexible versions only, so no tagged fields). Field order
follows the message specs of Kafka 3.9."""

import socket
import struct

# Error codes the scenarios assert (Kafka's protocol error table).
NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
OFFSET_METADATA_TOO_LARGE = 12
COORDINATOR_NOT_AVAILABLE = 15
NOT_COORDINATOR = 16
COORDINATOR_LOAD_IN_PROGRESS = 14
ILLEGAL_GENERATION = 22
INCONSISTENT_GROUP_PROTOCOL = 23
UNKNOWN_MEMBER_ID = 25
INVALID_SESSION_TIMEOUT = 26
REBALANCE_IN_PROGRESS = 27
GROUP_ID_NOT_FOUND = 69
NON_EMPTY_GROUP = 68
MEMBER_ID_REQUIRED = 79


class Writer:
    def __init__(self):
        self.parts = []

    def i8(self, v):
        self.parts.append(struct.pack(">b", v)); return self

    def i16(self, v):
        self.parts.append(struct.pack(">h", v)); return self

    def i32(self, v):
        self.parts.append(struct.pack(">i", v)); return self

    def i64(self, v):
        self.parts.append(struct.pack(">q", v)); return self

    def string(self, s):
        if s is None:
            return self.i16(-1)
        b = s.encode()
        self.i16(len(b)); self.parts.append(b); return self

    def bytes_(self, b):
        if b is None:
            return self.i32(-1)
        self.i32(len(b)); self.parts.append(b); return self

    def array(self, items, each):
        if items is None:
            return self.i32(-1)
        self.i32(len(items))
        for it in items:
            each(self, it)
        return self

    def done(self):
        return b"".join(self.parts)


class Reader:
    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def _take(self, fmt, n):
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += n
        return v

    def i8(self):
        return self._take(">b", 1)

    def i16(self):
        return self._take(">h", 2)

    def i32(self):
        return self._take(">i", 4)

    def i64(self):
        return self._take(">q", 8)

    def string(self):
        n = self.i16()
        if n < 0:
            return None
        s = self.buf[self.pos:self.pos + n].decode()
        self.pos += n
        return s

    def bytes_(self):
        n = self.i32()
        if n < 0:
            return None
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def array(self, each):
        n = self.i32()
        return None if n < 0 else [each(self) for _ in range(n)]


class Connection:
    """One connection to a broker; request() sends a v1-header request and returns a Reader on
    the response body (after the correlation id)."""

    def __init__(self, host, port, timeout=60):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.correlation = 0

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, api_key, version, body):
        self.correlation += 1
        header = Writer().i16(api_key).i16(version).i32(self.correlation).string("odradek-groups-wire").done()
        msg = header + body
        self.sock.sendall(struct.pack(">i", len(msg)) + msg)
        return self.correlation

    def receive(self, correlation):
        size = struct.unpack(">i", self._exact(4))[0]
        payload = self._exact(size)
        got = struct.unpack(">i", payload[:4])[0]
        assert got == correlation, f"correlation {got}, expected {correlation}"
        return Reader(payload[4:])

    def request(self, api_key, version, body):
        return self.receive(self.send(api_key, version, body))

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed by the broker")
            buf += chunk
        return buf


# -- requests ----------------------------------------------------------------------------------

def find_coordinator(conn, group):
    """FindCoordinator v1 -> (error, node_id, host, port)."""
    r = conn.request(10, 1, Writer().string(group).i8(0).done())
    r.i32()
    err = r.i16()
    r.string()
    return err, r.i32(), r.string(), r.i32()


def consumer_subscription(topics, user_data=b""):
    """ConsumerProtocolSubscription v0: the metadata a consumer sends in JoinGroup."""
    return Writer().i16(0).array(topics, lambda w, t: w.string(t)).bytes_(user_data).done()


def consumer_assignment(topic, partitions):
    """ConsumerProtocolAssignment v0."""
    return (Writer().i16(0).array([topic], lambda w, t: w.string(t).array(partitions, lambda w2, p: w2.i32(p)))
            .bytes_(b"").done())


def join_group(conn, group, member_id, metadata, session_ms=10000, rebalance_ms=10000,
               protocol_type="consumer", protocols=("range",), send_only=False):
    """JoinGroup v5 -> dict(error, generation, protocol, leader, member_id, members)."""
    body = (Writer().string(group).i32(session_ms).i32(rebalance_ms).string(member_id).string(None)
            .string(protocol_type).array(list(protocols), lambda w, p: w.string(p).bytes_(metadata)).done())
    corr = conn.send(11, 5, body)
    return corr if send_only else read_join(conn, corr)


def read_join(conn, corr):
    r = conn.receive(corr)
    r.i32()
    out = {"error": r.i16(), "generation": r.i32(), "protocol": r.string(), "leader": r.string(),
           "member_id": r.string()}
    out["members"] = r.array(lambda x: (x.string(), x.string(), x.bytes_()))
    return out


def sync_group(conn, group, generation, member_id, assignments):
    """SyncGroup v3 -> (error, assignment bytes)."""
    body = (Writer().string(group).i32(generation).string(member_id).string(None)
            .array(list(assignments.items()), lambda w, kv: w.string(kv[0]).bytes_(kv[1])).done())
    r = conn.request(14, 3, body)
    r.i32()
    return r.i16(), r.bytes_()


def heartbeat(conn, group, generation, member_id):
    """Heartbeat v3 -> error."""
    r = conn.request(12, 3, Writer().string(group).i32(generation).string(member_id).string(None).done())
    r.i32()
    return r.i16()


def leave_group(conn, group, member_id):
    """LeaveGroup v3 -> (error, [(member_id, error)])."""
    r = conn.request(13, 3, Writer().string(group).array([member_id], lambda w, m: w.string(m).string(None)).done())
    r.i32()
    err = r.i16()
    return err, r.array(lambda x: (x.string(), x.string(), x.i16()))


def offset_commit(conn, group, generation, member_id, offsets, metadata=""):
    """OffsetCommit v7; offsets is {(topic, partition): offset} -> {(topic, partition): error}."""
    by_topic = {}
    for (t, p), o in offsets.items():
        by_topic.setdefault(t, []).append((p, o))
    body = (Writer().string(group).i32(generation).string(member_id).string(None)
            .array(list(by_topic.items()), lambda w, kv: w.string(kv[0]).array(
                kv[1], lambda w2, po: w2.i32(po[0]).i64(po[1]).i32(-1).string(metadata))).done())
    r = conn.request(8, 7, body)
    r.i32()
    out = {}
    for name, parts in r.array(lambda x: (x.string(), x.array(lambda y: (y.i32(), y.i16())))):
        for p, err in parts:
            out[(name, p)] = err
    return out


def offset_fetch(conn, group, partitions):
    """OffsetFetch v5; partitions is [(topic, partition)] -> (error, {(topic, partition): (offset, error)})."""
    by_topic = {}
    for t, p in partitions:
        by_topic.setdefault(t, []).append(p)
    body = Writer().string(group).array(list(by_topic.items()), lambda w, kv: w.string(kv[0]).array(
        kv[1], lambda w2, p: w2.i32(p))).done()
    r = conn.request(9, 5, body)
    r.i32()
    out = {}
    for name, parts in r.array(lambda x: (x.string(), x.array(
            lambda y: (y.i32(), y.i64(), y.i32(), y.string(), y.i16())))):
        for p, off, _epoch, _meta, err in parts:
            out[(name, p)] = (off, err)
    return r.i16(), out


def describe_group(conn, group):
    """DescribeGroups v3 -> (error, state, protocol_type, [member ids])."""
    r = conn.request(15, 3, Writer().array([group], lambda w, g: w.string(g)).i8(0).done())
    r.i32()

    def one(x):
        err, gid, state, ptype, proto = x.i16(), x.string(), x.string(), x.string(), x.string()
        members = x.array(lambda y: (y.string(), y.string(), y.string(), y.bytes_(), y.bytes_()))
        x.i32()
        return err, state, ptype, [m[0] for m in members]
    return r.array(one)[0]


def delete_group(conn, group):
    """DeleteGroups v1 -> error."""
    r = conn.request(42, 1, Writer().array([group], lambda w, g: w.string(g)).done())
    r.i32()
    return r.array(lambda x: (x.string(), x.i16()))[0][1]


def api_versions(conn):
    """ApiVersions v0 -> {api_key: (min_version, max_version)}."""
    r = conn.request(18, 0, b"")
    assert r.i16() == NONE
    return {k: (lo, hi) for k, lo, hi in r.array(lambda x: (x.i16(), x.i16(), x.i16()))}
