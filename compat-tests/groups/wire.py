"""Just enough of the Kafka protocol, in the standard library, to send exact group requests and
read the error codes back. Most requests use non-flexible versions; the KIP-848 ones
(ConsumerGroupHeartbeat, OffsetCommit v8+, OffsetFetch v9, TxnOffsetCommit v3) are flexible:
compact strings and arrays, and an empty tagged-field section after every struct and header.
Field order follows the message specs of Kafka 3.9."""

import socket
import struct
import time

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
UNSUPPORTED_VERSION = 35
INVALID_TXN_STATE = 48
GROUP_SUBSCRIBED_TO_TOPIC = 86
STALE_MEMBER_EPOCH = 113


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

    # -- flexible versions ---------------------------------------------------------------------

    def uvarint(self, v):
        out = bytearray()
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
        self.parts.append(bytes(out)); return self

    def cstring(self, s):
        """COMPACT_STRING, or COMPACT_NULLABLE_STRING when s is None."""
        if s is None:
            return self.uvarint(0)
        b = s.encode()
        self.uvarint(len(b) + 1); self.parts.append(b); return self

    def carray(self, items, each):
        """COMPACT_ARRAY (null when items is None); each element is written by each(w, item)."""
        if items is None:
            return self.uvarint(0)
        self.uvarint(len(items) + 1)
        for it in items:
            each(self, it)
        return self

    def uuid(self, b):
        assert len(b) == 16
        self.parts.append(b); return self

    def tags(self):
        """An empty tagged-field section."""
        return self.uvarint(0)


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

    # -- flexible versions ---------------------------------------------------------------------

    def uvarint(self):
        v, shift = 0, 0
        while True:
            b = self.buf[self.pos]
            self.pos += 1
            v |= (b & 0x7F) << shift
            if b < 0x80:
                return v
            shift += 7

    def cstring(self):
        n = self.uvarint() - 1
        if n < 0:
            return None
        s = self.buf[self.pos:self.pos + n].decode()
        self.pos += n
        return s

    def carray(self, each):
        n = self.uvarint() - 1
        return None if n < 0 else [each(self) for _ in range(n)]

    def uuid(self):
        b = self.buf[self.pos:self.pos + 16]
        self.pos += 16
        return b

    def tags(self):
        """Skips a tagged-field section."""
        for _ in range(self.uvarint()):
            self.uvarint()
            self.pos += self.uvarint()


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

    def send(self, api_key, version, body, flexible=False):
        """flexible: request header v2 (a tagged-field section after the client id)."""
        self.correlation += 1
        header = Writer().i16(api_key).i16(version).i32(self.correlation).string("odradek-groups-wire")
        if flexible:
            header.tags()
        msg = header.done() + body
        self.sock.sendall(struct.pack(">i", len(msg)) + msg)
        return self.correlation

    def receive(self, correlation, flexible=False):
        size = struct.unpack(">i", self._exact(4))[0]
        payload = self._exact(size)
        got = struct.unpack(">i", payload[:4])[0]
        assert got == correlation, f"correlation {got}, expected {correlation}"
        r = Reader(payload[4:])
        if flexible:
            r.tags()  # response header v1
        return r

    def request(self, api_key, version, body, flexible=False):
        return self.receive(self.send(api_key, version, body, flexible), flexible)

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed by the broker")
            buf += chunk
        return buf


# -- requests ----------------------------------------------------------------------------------

def wait_served(conn, topic, partitions, seconds=30):
    """Waits until every partition of a just-created topic answers ListOffsets v1 without error.
    Kafka answers CreateTopics before its replica manager has made the partitions; until then a
    Produce meets NOT_LEADER_OR_FOLLOWER or UNKNOWN_TOPIC_OR_PARTITION, and a test would be timing
    the broker's metadata propagation instead of what it means to check."""
    deadline = time.monotonic() + seconds
    while True:
        body = Writer().i32(-1).array([topic], lambda w, t: w.string(t).array(
            list(range(partitions)), lambda w, p: w.i32(p).i64(-1))).done()
        r = conn.request(2, 1, body)
        errors = [e for _, parts in r.array(lambda r: (r.string(), r.array(
            lambda r: (r.i32(), r.i16(), r.i64(), r.i64())[1]))) for e in parts]
        if len(errors) == partitions and all(e == NONE for e in errors):
            return
        assert time.monotonic() < deadline, f"{topic}: partitions not served after {seconds} s: {errors}"
        time.sleep(0.1)


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


# -- KIP-848 and offsets, flexible versions -------------------------------------------------------

def consumer_group_heartbeat(conn, group, member_id, epoch, topics=None, owned=None, rebalance_ms=30000):
    """ConsumerGroupHeartbeat v0; topics None: unchanged subscription; owned: [(topic_id, [partitions])]
    or None (unchanged) -> dict(error, member_id, epoch, assignment [(topic_id, [partitions])] or None)."""
    body = (Writer().cstring(group).cstring(member_id).i32(epoch).cstring(None).cstring(None).i32(rebalance_ms)
            .carray(topics, lambda w, t: w.cstring(t)).cstring(None)
            .carray(owned, lambda w, tp: w.uuid(tp[0]).carray(tp[1], lambda w2, p: w2.i32(p)).tags())
            .tags().done())
    r = conn.request(68, 0, body, flexible=True)
    r.i32()
    out = {"error": r.i16(), "message": r.cstring(), "member_id": r.cstring(), "epoch": r.i32()}
    r.i32()
    out["assignment"] = None
    if r.i8() >= 0:
        out["assignment"] = r.carray(lambda x: (x.uuid(), x.carray(lambda y: y.i32()), x.tags())[:2])
        r.tags()
    return out


def list_groups_typed(conn):
    """ListGroups v5 -> {group_id: (group_type, state, protocol_type)} (KIP-848's GroupType)."""
    r = conn.request(16, 5, Writer().carray([], lambda w, s: w.cstring(s))
                     .carray([], lambda w, t: w.cstring(t)).tags().done(), flexible=True)
    r.i32()
    assert r.i16() == NONE
    out = {}
    for gid, ptype, state, gtype in r.carray(lambda x: (x.cstring(), x.cstring(), x.cstring(), x.cstring(),
                                                         x.tags())[:4]):
        out[gid] = (gtype, state, ptype)
    return out


def _by_topic(items):
    by_topic = {}
    for (t, p), v in items:
        by_topic.setdefault(t, []).append((p, v))
    return list(by_topic.items())


def offset_commit_flexible(conn, version, group, epoch, member_id, offsets):
    """OffsetCommit v8 or v9 (v9: the generation is a KIP-848 member epoch); offsets is
    {(topic, partition): offset} -> {(topic, partition): error}."""
    body = (Writer().cstring(group).i32(epoch).cstring(member_id).cstring(None)
            .carray(_by_topic(offsets.items()), lambda w, kv: w.cstring(kv[0]).carray(
                kv[1], lambda w2, po: w2.i32(po[0]).i64(po[1]).i32(-1).cstring("").tags()).tags())
            .tags().done())
    r = conn.request(8, version, body, flexible=True)
    r.i32()
    out = {}
    for name, parts in r.carray(lambda x: (x.cstring(), x.carray(lambda y: (y.i32(), y.i16(), y.tags())[:2]),
                                           x.tags())[:2]):
        for p, err in parts:
            out[(name, p)] = err
    return out


def offset_fetch_v9(conn, group, member_id, epoch, partitions, require_stable=False):
    """OffsetFetch v9 for one group, with the member's id and epoch -> (group error,
    {(topic, partition): (offset, error)})."""
    by_topic = {}
    for t, p in partitions:
        by_topic.setdefault(t, []).append(p)
    body = (Writer().carray([group], lambda w, g: w.cstring(g).cstring(member_id).i32(epoch).carray(
        list(by_topic.items()), lambda w2, kv: w2.cstring(kv[0]).carray(kv[1], lambda w3, p: w3.i32(p)).tags())
        .tags()).i8(1 if require_stable else 0).tags().done())
    r = conn.request(9, 9, body, flexible=True)
    r.i32()

    def group_(x):
        gid = x.cstring()
        topics = x.carray(lambda y: (y.cstring(), y.carray(
            lambda z: (z.i32(), z.i64(), z.i32(), z.cstring(), z.i16(), z.tags())[:5]), y.tags())[:2])
        err = x.i16()
        x.tags()
        return gid, topics, err
    (gid, topics, err), = r.carray(group_)
    out = {}
    for name, parts in topics:
        for p, off, _epoch, _meta, perr in parts:
            out[(name, p)] = (off, perr)
    return err, out


def offset_delete(conn, group, partitions):
    """OffsetDelete v0; partitions is [(topic, partition)] -> (error, {(topic, partition): error})."""
    by_topic = {}
    for t, p in partitions:
        by_topic.setdefault(t, []).append(p)
    body = Writer().string(group).array(list(by_topic.items()), lambda w, kv: w.string(kv[0]).array(
        kv[1], lambda w2, p: w2.i32(p))).done()
    r = conn.request(47, 0, body)
    err = r.i16()
    r.i32()
    out = {}
    for name, parts in r.array(lambda x: (x.string(), x.array(lambda y: (y.i32(), y.i16())))):
        for p, perr in parts:
            out[(name, p)] = perr
    return err, out


def find_transaction_coordinator(conn, transactional_id):
    """FindCoordinator v1 for a transactional id -> error."""
    r = conn.request(10, 1, Writer().string(transactional_id).i8(1).done())
    r.i32()
    return r.i16()


def init_producer_id(conn, transactional_id, timeout_ms=60000):
    """InitProducerId v1 -> (error, producer_id, producer_epoch)."""
    r = conn.request(22, 1, Writer().string(transactional_id).i32(timeout_ms).done())
    r.i32()
    return r.i16(), r.i64(), r.i16()


def add_offsets_to_txn(conn, transactional_id, producer_id, producer_epoch, group):
    """AddOffsetsToTxn v1 -> error."""
    r = conn.request(25, 1, Writer().string(transactional_id).i64(producer_id).i16(producer_epoch)
                     .string(group).done())
    r.i32()
    return r.i16()


def end_txn(conn, transactional_id, producer_id, producer_epoch, commit):
    """EndTxn v1 -> error."""
    r = conn.request(26, 1, Writer().string(transactional_id).i64(producer_id).i16(producer_epoch)
                     .i8(1 if commit else 0).done())
    r.i32()
    return r.i16()


def txn_offset_commit(conn, version, transactional_id, group, producer_id, producer_epoch, offsets,
                      generation=-1, member_id=""):
    """TxnOffsetCommit v2 (no member, no generation) or v3 (flexible, with them); offsets is
    {(topic, partition): offset} -> {(topic, partition): error}."""
    items = _by_topic(offsets.items())
    if version >= 3:
        body = (Writer().cstring(transactional_id).cstring(group).i64(producer_id).i16(producer_epoch)
                .i32(generation).cstring(member_id).cstring(None)
                .carray(items, lambda w, kv: w.cstring(kv[0]).carray(
                    kv[1], lambda w2, po: w2.i32(po[0]).i64(po[1]).i32(-1).cstring("").tags()).tags())
                .tags().done())
        r = conn.request(28, version, body, flexible=True)
        r.i32()
        topics = r.carray(lambda x: (x.cstring(), x.carray(lambda y: (y.i32(), y.i16(), y.tags())[:2]),
                                     x.tags())[:2])
    else:
        body = (Writer().string(transactional_id).string(group).i64(producer_id).i16(producer_epoch)
                .array(items, lambda w, kv: w.string(kv[0]).array(
                    kv[1], lambda w2, po: w2.i32(po[0]).i64(po[1]).i32(-1).string(""))).done())
        r = conn.request(28, version, body)
        r.i32()
        topics = r.array(lambda x: (x.string(), x.array(lambda y: (y.i32(), y.i16()))))
    out = {}
    for name, parts in topics:
        for p, err in parts:
            out[(name, p)] = err
    return out


def delete_topics(conn, names, version=6, timeout_ms=30000, messages=False):
    """DeleteTopics by name, v1 (non-flexible) or v6 -> {name: error}, or with messages (v6)
    {name: (error, error message)}."""
    if version >= 6:
        body = (Writer().carray(names, lambda w, n: w.cstring(n).uuid(bytes(16)).tags()).i32(timeout_ms)
                .tags().done())
        r = conn.request(20, version, body, flexible=True)
        r.i32()
        results = r.carray(lambda x: (x.cstring(), x.uuid(), x.i16(), x.cstring(), x.tags())[:4])
        return {name: ((err, msg) if messages else err) for name, _id, err, msg in results}
    r = conn.request(20, version, Writer().array(names, lambda w, n: w.string(n)).i32(timeout_ms).done())
    r.i32()
    return dict(r.array(lambda x: (x.string(), x.i16())))


def metadata_v12(conn, topics):
    """Metadata v12 for [(topic_id bytes16, name or None)] -> [(error, name, topic_id, partitions)]."""
    body = (Writer().carray(topics, lambda w, t: w.uuid(t[0]).cstring(t[1]).tags())
            .i8(0).i8(0).tags().done())
    r = conn.request(3, 12, body, flexible=True)
    r.i32()  # throttle
    r.carray(lambda x: (x.i32(), x.cstring(), x.i32(), x.cstring(), x.tags()))  # brokers
    r.cstring()  # cluster id
    r.i32()  # controller id

    def topic(x):
        err, name, tid, _internal = x.i16(), x.cstring(), x.uuid(), x.i8()
        parts = x.carray(lambda p: (p.i16(), p.i32(), p.i32(), p.i32(), p.carray(lambda q: q.i32()),
                                    p.carray(lambda q: q.i32()), p.carray(lambda q: q.i32()), p.tags())[1])
        x.i32()  # authorized operations
        x.tags()
        return err, name, tid, parts

    return r.carray(topic)


# -- the classic admin APIs, every version ---------------------------------------------------------

def describe_groups(conn, version, groups):
    """DescribeGroups v0..v5 (v5 flexible) -> [dict(error, group_id, state, protocol_type, protocol,
    members [dict(member_id, instance_id, client_id, client_host)], authorized_operations)]."""
    flexible = version >= 5
    w = Writer()
    if flexible:
        w.carray(groups, lambda w2, g: w2.cstring(g))
    else:
        w.array(groups, lambda w2, g: w2.string(g))
    if version >= 3:
        w.i8(0)  # include_authorized_operations
    if flexible:
        w.tags()
    r = conn.request(15, version, w.done(), flexible=flexible)
    if version >= 1:
        r.i32()
    text = r.cstring if flexible else r.string

    def read_bytes(x):
        if not flexible:
            return x.bytes_()
        n = x.uvarint() - 1
        if n < 0:
            return None
        b = x.buf[x.pos:x.pos + n]
        x.pos += n
        return b

    def member(x):
        m = {"member_id": text()}
        m["instance_id"] = text() if version >= 4 else None
        m["client_id"], m["client_host"] = text(), text()
        read_bytes(x), read_bytes(x)
        if flexible:
            x.tags()
        return m

    def group(x):
        g = {"error": x.i16(), "group_id": text(), "state": text(), "protocol_type": text(),
             "protocol": text()}
        g["members"] = (x.carray if flexible else x.array)(member)
        g["authorized_operations"] = x.i32() if version >= 3 else None
        if flexible:
            x.tags()
        return g
    return (r.carray if flexible else r.array)(group)


def list_groups(conn, version, states=(), types=()):
    """ListGroups v0..v5 (v3+ flexible; v4 states filter, v5 types filter) -> (error,
    {group_id: dict(protocol_type, state, type)})."""
    flexible = version >= 3
    w = Writer()
    if version >= 4:
        w.carray(list(states), lambda w2, s: w2.cstring(s))
    if version >= 5:
        w.carray(list(types), lambda w2, t: w2.cstring(t))
    if flexible:
        w.tags()
    r = conn.request(16, version, w.done(), flexible=flexible)
    if version >= 1:
        r.i32()
    err = r.i16()
    text = r.cstring if flexible else r.string

    def one(x):
        g = {"group_id": text(), "protocol_type": text()}
        g["state"] = text() if version >= 4 else None
        g["type"] = text() if version >= 5 else None
        if flexible:
            x.tags()
        return g
    groups = (r.carray if flexible else r.array)(one)
    return err, {g.pop("group_id"): g for g in groups}
