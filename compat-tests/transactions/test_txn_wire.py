"""Exact transaction requests on both brokers (../groups/wire.py): the order in which
DescribeTransactions lists a multi-topic transaction's partitions, and the error a transactional
Produce gets for a partition outside the transaction (by Produce version), and EndTxn's in the
wrong state (by EndTxn version)."""

import struct
import sys
import time
from pathlib import Path

import harness
from wire import Connection, Writer, wait_served

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "broker"))
from produce_errors import crc32c, varint  # noqa: E402

INVALID_TXN_STATE = 48
TRANSACTION_ABORTABLE = 120
NOT_ADDED = "Partition was not added to the transaction"


def _create(conn, name, partitions):
    body = Writer().i32(1).string(name).i32(partitions).i16(1).i32(0).i32(0).i32(30000).i8(0).done()
    r = conn.request(19, 4, body)
    r.i32(), r.i32(), r.string()
    assert r.i16() == 0
    wait_served(conn, name, partitions)


def _retrying(call, what):
    """Repeats call() -> (error, value) while the coordinator is not ready."""
    deadline = time.monotonic() + 60
    while True:
        err, value = call()
        if err == 0:
            return value
        assert err in (14, 15, 16) and time.monotonic() < deadline, f"{what}: error {err}"
        time.sleep(0.5)


def _init_producer(conn, txn_id):
    def find():
        r = conn.request(10, 1, Writer().string(txn_id).i8(1).done())
        r.i32()
        return r.i16(), None

    def init():
        r = conn.request(22, 1, Writer().string(txn_id).i32(60000).done())
        r.i32()
        err = r.i16()
        return err, (r.i64(), r.i16())

    _retrying(find, "FindCoordinator")
    return _retrying(init, "InitProducerId")


def _add_partitions(conn, txn_id, pid, epoch, topics):
    """AddPartitionsToTxn v2; topics: [(topic, [partition])]. Returns every partition's error."""
    body = Writer().string(txn_id).i64(pid).i16(epoch).array(
        topics, lambda w, t: w.string(t[0]).array(t[1], lambda w, p: w.i32(p))).done()
    r = conn.request(24, 2, body)
    r.i32()
    return [e for _, parts in r.array(lambda r: (r.string(), r.array(lambda r: (r.i32(), r.i16()))))
            for _, e in parts]


def _describe(conn, txn_id):
    """DescribeTransactions v0 -> (error, state, [(topic, [partition])])."""
    r = conn.request(65, 0, Writer().carray([txn_id], lambda w, s: w.cstring(s)).tags().done(), flexible=True)
    r.i32()

    def state(r):
        err, _, name = r.i16(), r.cstring(), r.cstring()
        r.i32(), r.i64(), r.i64(), r.i16()
        topics = r.carray(lambda r: (r.cstring(), r.carray(lambda r: r.i32()), r.tags())[:2])
        r.tags()
        return err, name, topics

    return r.carray(state)[0]


def _wait_state(conn, txn_id, state, seconds=30):
    """Kafka answers EndTxn before its markers are written; the transaction reaches `state` after."""
    deadline = time.monotonic() + seconds
    while (now := _describe(conn, txn_id)[1]) != state:
        assert time.monotonic() < deadline, f"{txn_id}: still {now}, not {state}"
        time.sleep(0.05)


def _txn_batch(pid, epoch, seq):
    now = int(time.time() * 1000)
    body = b"\x00" + varint(0) + varint(0) + varint(-1) + varint(1) + b"x" + varint(0)
    records = varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0x10, 0, now, now, pid, epoch, seq, 1) + records
    head = struct.pack(">ib", -1, 2) + struct.pack(">I", crc32c(after_crc)) + after_crc
    return struct.pack(">qi", 0, len(head)) + head


def _produce(conn, version, txn_id, topic, partition, records):
    """One partition's (error, message) from Produce `version` (3..11)."""
    if version < 9:
        body = Writer().string(txn_id).i16(-1).i32(10000).array([0], lambda w, _: w.string(topic).array(
            [0], lambda w, _: w.i32(partition).bytes_(records))).done()
        r = conn.request(0, version, body)

        def part(r):
            r.i32()
            err = r.i16()
            r.i64(), r.i64()
            if version >= 5:
                r.i64()
            message = None
            if version >= 8:
                r.array(lambda r: (r.i32(), r.string()))
                message = r.string()
            return err, message

        return r.array(lambda r: (r.string(), r.array(part)))[0][1][0]
    w = Writer().cstring(txn_id).i16(-1).i32(10000)
    w.carray([0], lambda w, _: (w.cstring(topic), w.carray([0], lambda w, _: (
        w.i32(partition), w.uvarint(len(records) + 1), w.parts.append(records), w.tags())), w.tags()))
    r = conn.request(0, version, w.tags().done(), flexible=True)

    def fpart(r):
        r.i32()
        err = r.i16()
        r.i64(), r.i64(), r.i64()
        r.carray(lambda r: (r.i32(), r.cstring(), r.tags()))
        message = r.cstring()
        r.tags()
        return err, message

    return r.carray(lambda r: (r.cstring(), r.carray(fpart), r.tags()))[0][1][0]


def _end_txn(conn, version, txn_id, pid, epoch, commit):
    if version < 3:
        r = conn.request(26, version, Writer().string(txn_id).i64(pid).i16(epoch).i8(int(commit)).done())
    else:
        r = conn.request(26, version, Writer().cstring(txn_id).i64(pid).i16(epoch).i8(int(commit)).tags().done(),
                         flexible=True)
    r.i32()
    return r.i16()


def _java_hash(s):
    h = 0
    for ch in s:
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h


def _scala_set_order(partitions):
    """Iteration order of Kafka's transaction partition set, a Scala 2.13 mutable.HashSet of
    TopicPartition: by bucket (improved hash masked to the table: 16 buckets, doubled before an
    add would reach 3/4), then by hash (signed) within the bucket."""
    buckets = 16
    for added in range(len(partitions)):
        if added + 1 >= buckets * 3 // 4:
            buckets *= 2

    def key(tp):
        h = (31 * (31 + tp[1]) + _java_hash(tp[0])) & 0xFFFFFFFF
        h ^= h >> 16
        return h & (buckets - 1), h - (1 << 32) if h & 0x80000000 else h

    return sorted(partitions, key=key)


def _grouped(ordered):
    """Topics in first-seen order, each with its partitions in order."""
    topics = {}
    for topic, partition in ordered:
        topics.setdefault(topic, []).append(partition)
    return list(topics.items())


def test_describe_transactions_partition_order(broker):
    suffix = str(int(time.time() * 1000) % 100000)
    joins = [[("zz", [2, 0, 1]), ("ta", [1, 0]), ("a1", [0, 2])],
             [("mm", [0]), ("ta", [2]), ("orders", [1, 0]), ("topic-x", [2]), ("b", [0, 1, 2])]]
    joins = [[(t + suffix, ps) for t, ps in join] for join in joins]
    with Connection(broker.host, broker.port) as conn:
        for topic in sorted({t for join in joins for t, _ in join}):
            _create(conn, topic, 3)
        txn_id = harness.unique_topic("wire-order")
        pid, epoch = _init_producer(conn, txn_id)
        for join in joins:
            assert set(_add_partitions(conn, txn_id, pid, epoch, join)) == {0}
        added = [(t, p) for join in joins for t, ps in join for p in ps]
        want = _grouped(_scala_set_order(added))
        assert want != _grouped(added), "the scenario must tell the set order from the join order"
        err, state, topics = _describe(conn, txn_id)
        assert (err, state) == (0, "Ongoing")
        assert topics == want
        assert _end_txn(conn, 0, txn_id, pid, epoch, False) == 0


def test_partition_outside_the_transaction_and_end_in_wrong_state(broker):
    with Connection(broker.host, broker.port) as conn:
        inside, outside = harness.unique_topic("wire-in"), harness.unique_topic("wire-out")
        _create(conn, inside, 1)
        _create(conn, outside, 1)
        txn_id = harness.unique_topic("wire-state")
        pid, epoch = _init_producer(conn, txn_id)

        # Empty: nothing added yet, so nothing can end.
        for version in (0, 2, 3, 4):
            assert _end_txn(conn, version, txn_id, pid, epoch, True) == INVALID_TXN_STATE, version
            assert _end_txn(conn, version, txn_id, pid, epoch, False) == INVALID_TXN_STATE, version
        for version in (3, 8, 9, 10):
            want = (INVALID_TXN_STATE, NOT_ADDED if version >= 8 else None)
            assert _produce(conn, version, txn_id, outside, 0, _txn_batch(pid, epoch, 0)) == want, version
        assert _produce(conn, 11, txn_id, outside, 0, _txn_batch(pid, epoch, 0)) == (TRANSACTION_ABORTABLE, None)

        # Ongoing with `inside` only: `outside` is refused the same way, `inside` is taken.
        assert _add_partitions(conn, txn_id, pid, epoch, [(inside, [0])]) == [0]
        for version in (3, 8, 9, 10):
            want = (INVALID_TXN_STATE, NOT_ADDED if version >= 8 else None)
            assert _produce(conn, version, txn_id, outside, 0, _txn_batch(pid, epoch, 0)) == want, version
        assert _produce(conn, 11, txn_id, outside, 0, _txn_batch(pid, epoch, 0)) == (TRANSACTION_ABORTABLE, None)
        assert _produce(conn, 8, txn_id, inside, 0, _txn_batch(pid, epoch, 0)) == (0, None)

        # Committed: a retried commit succeeds, an abort is in the wrong state.
        assert _end_txn(conn, 0, txn_id, pid, epoch, True) == 0
        _wait_state(conn, txn_id, "CompleteCommit")
        for version in (0, 2, 3, 4):
            assert _end_txn(conn, version, txn_id, pid, epoch, False) == INVALID_TXN_STATE, version
            assert _end_txn(conn, version, txn_id, pid, epoch, True) == 0, version
        assert _produce(conn, 11, txn_id, inside, 0, _txn_batch(pid, epoch, 1)) == (TRANSACTION_ABORTABLE, None)
        assert _produce(conn, 8, txn_id, inside, 0, _txn_batch(pid, epoch, 1)) == (INVALID_TXN_STATE, NOT_ADDED)
