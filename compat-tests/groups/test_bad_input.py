"""Exact group requests, sent over a raw socket (wire.py), that a client library would never
send or would retry: stale generations, unknown members and groups, oversized metadata,
commits to topics that do not exist; and the offsets requests on a KIP-848 consumer group
(member ids and epochs in OffsetCommit, OffsetFetch and TxnOffsetCommit, OffsetDelete of a
subscribed topic, DeleteGroups of a group with members). Each gets the error code Kafka 3.9
returns."""

import pytest

import harness
import rdk
from groups_lib import wait_until
from wire import (Connection, GROUP_SUBSCRIBED_TO_TOPIC, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL,
                  INVALID_SESSION_TIMEOUT, MEMBER_ID_REQUIRED, NON_EMPTY_GROUP, NONE, OFFSET_METADATA_TOO_LARGE,
                  REBALANCE_IN_PROGRESS, GROUP_ID_NOT_FOUND, STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID,
                  UNKNOWN_TOPIC_OR_PARTITION, UNSUPPORTED_VERSION, add_offsets_to_txn, consumer_assignment,
                  consumer_group_heartbeat, consumer_subscription, delete_group, delete_topics, describe_group,
                  end_txn,
                  find_coordinator, find_transaction_coordinator, heartbeat, init_producer_id, join_group,
                  leave_group, offset_commit, offset_commit_flexible, offset_delete, offset_fetch, offset_fetch_v9,
                  read_join, sync_group, txn_offset_commit)

UNKNOWN_SERVER_ERROR = -1


def _connect(broker, *groups):
    """A connection on which the coordinator of each group answers: on a fresh broker the
    first group request creates __consumer_offsets, and its partitions load after that."""
    c = Connection(broker.host, broker.port)
    for g in groups:
        wait_until(f"the coordinator of {g}", lambda: find_coordinator(c, g)[0] == NONE
                   and offset_fetch(c, g, [])[0] == NONE)
    return c


def _join(conn, group, metadata, **kw):
    """A full KIP-394 join: the first JoinGroup is refused with a member id to rejoin with."""
    first = join_group(conn, group, "", metadata, **kw)
    assert first["error"] == MEMBER_ID_REQUIRED and first["member_id"], first
    return join_group(conn, group, first["member_id"], metadata, **kw)


def test_unknown_groups_and_topics(broker):
    topic = harness.unique_topic("bad-unknown")
    group = f"g-{topic}"
    rdk.create_topic(broker, topic, partitions=2)
    with _connect(broker, group) as c:
        err, node, host, port = find_coordinator(c, group)
        assert (err, host, port) == (NONE, broker.host, broker.port)

        # A group nobody ever used: offset -1 and no error, at both levels.
        err, got = offset_fetch(c, group, [(topic, 0), (topic, 1), (f"{topic}-missing", 0)])
        assert err == NONE
        assert got == {(topic, 0): (-1, NONE), (topic, 1): (-1, NONE), (f"{topic}-missing", 0): (-1, NONE)}

        assert heartbeat(c, group, 1, "nobody") == UNKNOWN_MEMBER_ID
        assert sync_group(c, group, 1, "nobody", {})[0] == UNKNOWN_MEMBER_ID
        err, members = leave_group(c, group, "nobody")
        assert err == NONE and [(m, e) for m, _, e in members] == [("nobody", UNKNOWN_MEMBER_ID)]
        err, state, ptype, members = describe_group(c, group)
        assert (err, state, ptype, members) == (NONE, "Dead", "", [])
        assert delete_group(c, group) == GROUP_ID_NOT_FOUND

        # Commits outside group membership (generation -1, no member id): fine for a topic that
        # exists, UNKNOWN_TOPIC_OR_PARTITION for a topic or a partition that does not.
        assert offset_commit(c, group, -1, "", {(topic, 0): 5}) == {(topic, 0): NONE}
        assert offset_commit(c, group, -1, "", {(f"{topic}-missing", 0): 5}) == {
            (f"{topic}-missing", 0): UNKNOWN_TOPIC_OR_PARTITION}
        # Commit metadata longer than offset.metadata.max.bytes (4096 by default).
        assert offset_commit(c, group, -1, "", {(topic, 1): 5}, metadata="m" * 5000) == {
            (topic, 1): OFFSET_METADATA_TOO_LARGE}
        assert offset_commit(c, group, -1, "", {(topic, 1): 6}, metadata="m" * 4096) == {(topic, 1): NONE}
        # A generation and member id for a group with no members.
        assert offset_commit(c, group, 3, "nobody", {(topic, 1): 7}) == {(topic, 1): UNKNOWN_MEMBER_ID}

        err, got = offset_fetch(c, group, [(topic, 0), (topic, 1), (f"{topic}-missing", 0)])
        assert err == NONE and got == {(topic, 0): (5, NONE), (topic, 1): (6, NONE),
                                       (f"{topic}-missing", 0): (-1, NONE)}


def test_commit_to_missing_partition(broker):
    """A partition past the topic's last one is as unknown as a topic that does not exist."""
    topic = harness.unique_topic("bad-partition")
    group = f"g-{topic}"
    rdk.create_topic(broker, topic, partitions=2)
    with _connect(broker, group) as c:
        # Kafka answers CreateTopics once the controller commits, and its broker learns of the
        # topic a moment later: until then partition 1 is unknown too. Wait for the broker to
        # know it; partition 7 must still be unknown then.
        wait_until("the broker to know the new topic's partitions",
                   lambda: offset_commit(c, group, -1, "", {(topic, 1): 0})[(topic, 1)] == NONE, seconds=60)
        assert offset_commit(c, group, -1, "", {(topic, 1): 1, (topic, 7): 1}) == {
            (topic, 1): NONE, (topic, 7): UNKNOWN_TOPIC_OR_PARTITION}
        err, got = offset_fetch(c, group, [(topic, 1), (topic, 7)])
        assert err == NONE and got[(topic, 1)] == (1, NONE), got


def test_generations_and_members(broker):
    topic = harness.unique_topic("bad-gen")
    group = f"g-{topic}"
    rdk.create_topic(broker, topic, partitions=2)
    meta = consumer_subscription([topic])
    with _connect(broker, group, f"{group}-x") as a, Connection(broker.host, broker.port) as b:
        # A join outside the allowed session timeouts, and a protocol nobody else speaks.
        bad = join_group(a, f"{group}-x", "", meta, session_ms=1000)
        assert bad["error"] == INVALID_SESSION_TIMEOUT, bad

        joined = _join(a, group, meta)
        assert joined["error"] == NONE and joined["generation"] == 1, joined
        assert joined["leader"] == joined["member_id"] and len(joined["members"]) == 1, joined
        me, gen = joined["member_id"], joined["generation"]

        other = join_group(b, group, "", meta, protocols=("roundrobin",))
        assert other["error"] == INCONSISTENT_GROUP_PROTOCOL, other

        # Between JoinGroup and SyncGroup the group is completing its rebalance.
        assert offset_commit(a, group, gen, me, {(topic, 0): 1}) == {(topic, 0): REBALANCE_IN_PROGRESS}
        assert sync_group(a, group, gen + 1, me, {})[0] == ILLEGAL_GENERATION
        err, assignment = sync_group(a, group, gen, me, {me: consumer_assignment(topic, [0, 1])})
        assert err == NONE and assignment == consumer_assignment(topic, [0, 1])

        assert offset_commit(a, group, gen, me, {(topic, 0): 1}) == {(topic, 0): NONE}
        assert offset_commit(a, group, gen + 1, me, {(topic, 0): 2}) == {(topic, 0): ILLEGAL_GENERATION}
        assert offset_commit(a, group, gen, "nobody", {(topic, 0): 2}) == {(topic, 0): UNKNOWN_MEMBER_ID}
        assert offset_commit(a, group, -1, "", {(topic, 0): 2}) == {(topic, 0): UNKNOWN_MEMBER_ID}
        assert heartbeat(a, group, gen, me) == NONE
        assert heartbeat(a, group, gen + 1, me) == ILLEGAL_GENERATION
        assert heartbeat(a, group, gen, "nobody") == UNKNOWN_MEMBER_ID
        assert delete_group(a, group) == NON_EMPTY_GROUP

        # A second member: its join parks until the first one rejoins; meanwhile the first
        # learns of the rebalance from its heartbeat and may still commit in its generation.
        first = join_group(b, group, "", meta)
        assert first["error"] == MEMBER_ID_REQUIRED, first
        pending = join_group(b, group, first["member_id"], meta, send_only=True)
        wait_until("a heartbeat to report the rebalance", lambda: heartbeat(a, group, gen, me) == REBALANCE_IN_PROGRESS)
        assert offset_commit(a, group, gen, me, {(topic, 0): 3}) == {(topic, 0): NONE}
        rejoined = join_group(a, group, me, meta)
        second = read_join(b, pending)
        assert rejoined["error"] == NONE and second["error"] == NONE, (rejoined, second)
        assert rejoined["generation"] == second["generation"] == gen + 1
        assert len(rejoined["members"]) == 2 and second["members"] == [], (rejoined, second)

        # The old generation is now stale.
        assert offset_commit(a, group, gen, me, {(topic, 0): 4}) == {(topic, 0): ILLEGAL_GENERATION}
        err, got = offset_fetch(a, group, [(topic, 0)])
        assert err == NONE and got == {(topic, 0): (3, NONE)}

        new_gen = gen + 1
        sync_b = None
        assert sync_group(a, group, new_gen, me, {me: consumer_assignment(topic, [0]),
                                                  second["member_id"]: consumer_assignment(topic, [1])})[0] == NONE
        sync_b = sync_group(b, group, new_gen, second["member_id"], {})
        assert sync_b == (NONE, consumer_assignment(topic, [1])), sync_b
        err, members = leave_group(b, group, second["member_id"])
        assert err == NONE and [(m, e) for m, _, e in members] == [(second["member_id"], NONE)]


def test_oversized_group_metadata(broker):
    """Member metadata too large for one __consumer_offsets record (message.max.bytes, 1 MiB by
    default): the join succeeds, but storing the group at SyncGroup fails, and Kafka 3.9's
    classic coordinator reports that as UNKNOWN_SERVER_ERROR."""
    topic = harness.unique_topic("bad-big")
    group = f"g-{topic}"
    rdk.create_topic(broker, topic, partitions=1)
    big = consumer_subscription([topic], user_data=b"u" * (2 * 1024 * 1024))
    with _connect(broker, group) as c:
        joined = _join(c, group, big)
        assert joined["error"] == NONE, {k: v for k, v in joined.items() if k != "members"}
        me = joined["member_id"]
        err, _ = sync_group(c, group, joined["generation"], me, {me: consumer_assignment(topic, [0])})
        assert err == UNKNOWN_SERVER_ERROR
        # The broker still serves the connection and the group.
        assert offset_fetch(c, group, [(topic, 0)]) == (NONE, {(topic, 0): (-1, NONE)})


# -- KIP-848 consumer groups (Kafka 3.9's ConsumerGroup.validateOffsetCommit, validateOffsetFetch,
#    isSubscribedToTopic and validateDeleteGroup) -------------------------------------------------

def _join_consumer_group(conn, group, topic):
    """A KIP-848 member joins (ConsumerGroupHeartbeat, epoch 0) -> (member id, member epoch)."""
    hb = consumer_group_heartbeat(conn, group, "", 0, topics=[topic], owned=[])
    assert hb["error"] == NONE and hb["member_id"] and hb["epoch"] > 0, hb
    return hb["member_id"], hb["epoch"]


def _leave_consumer_group(conn, group, member_id):
    hb = consumer_group_heartbeat(conn, group, member_id, -1)
    assert hb["error"] == NONE and hb["epoch"] == -1, hb


@pytest.mark.kip848
def test_kip848_offset_checks(kip848_broker):
    b = kip848_broker
    topic, other = harness.unique_topic("bad848"), harness.unique_topic("bad848-other")
    group = f"g-{topic}"
    for t in (topic, other):
        rdk.create_topic(b, t, partitions=2)
    tp, otp = (topic, 0), (other, 0)
    with _connect(b, group) as c:
        # No such group yet: a commit with an epoch (v9) or a generation (v7) is refused.
        before = {
            "commit v9, epoch 1": offset_commit_flexible(c, 9, group, 1, "nobody", {tp: 1}),
            "commit v7, generation 1": offset_commit(c, group, 1, "nobody", {tp: 1}),
        }
        assert before == {"commit v9, epoch 1": {tp: GROUP_ID_NOT_FOUND},
                          "commit v7, generation 1": {tp: ILLEGAL_GENERATION}}

        me, epoch = _join_consumer_group(c, group, topic)
        got = {
            # OffsetCommit v9 carries the member epoch: it must be the member's, neither older nor newer.
            "commit v9, current epoch": offset_commit_flexible(c, 9, group, epoch, me, {tp: 10}),
            "commit v9, older epoch": offset_commit_flexible(c, 9, group, epoch - 1, me, {tp: 11}),
            "commit v9, newer epoch": offset_commit_flexible(c, 9, group, epoch + 1, me, {tp: 11}),
            "commit v9, member without epoch": offset_commit_flexible(c, 9, group, -1, me, {tp: 11}),
            "commit v9, unknown member": offset_commit_flexible(c, 9, group, epoch, "nobody", {tp: 11}),
            # An admin's commit (no member, no epoch) while the group has members.
            "commit v9, admin": offset_commit_flexible(c, 9, group, -1, "", {tp: 11}),
            # Before v9 a KIP-848 member may not commit, whatever its epoch.
            "commit v8, current epoch": offset_commit_flexible(c, 8, group, epoch, me, {tp: 11}),
            "commit v8, newer epoch": offset_commit_flexible(c, 8, group, epoch + 1, me, {tp: 11}),
            "commit v7, current epoch": offset_commit(c, group, epoch, me, {tp: 11}),
            "commit v7, unknown member": offset_commit(c, group, epoch, "nobody", {tp: 11}),
            "commit v7, admin": offset_commit(c, group, -1, "", {tp: 11}),
            # OffsetFetch v9: the member's id and epoch, or a null id and no epoch.
            "fetch v9, current epoch": offset_fetch_v9(c, group, me, epoch, [tp]),
            "fetch v9, older epoch": offset_fetch_v9(c, group, me, epoch - 1, [tp]),
            "fetch v9, newer epoch, require_stable": offset_fetch_v9(c, group, me, epoch + 1, [tp], True),
            "fetch v9, unknown member": offset_fetch_v9(c, group, "nobody", epoch, [tp]),
            "fetch v9, null member": offset_fetch_v9(c, group, None, -1, [tp]),
            "fetch v9, empty member id": offset_fetch_v9(c, group, "", -1, [tp]),
            "fetch v5": offset_fetch(c, group, [tp]),
            # OffsetDelete: not for a topic a member subscribes to.
            "delete offsets": offset_delete(c, group, [tp, otp]),
            "delete group": delete_group(c, group),
        }
        stale, unknown, unsupported = {tp: STALE_MEMBER_EPOCH}, {tp: UNKNOWN_MEMBER_ID}, {tp: UNSUPPORTED_VERSION}
        assert got == {
            "commit v9, current epoch": {tp: NONE},
            "commit v9, older epoch": stale,
            "commit v9, newer epoch": stale,
            "commit v9, member without epoch": stale,
            "commit v9, unknown member": unknown,
            "commit v9, admin": unknown,
            "commit v8, current epoch": unsupported,
            "commit v8, newer epoch": unsupported,
            "commit v7, current epoch": unsupported,
            "commit v7, unknown member": unknown,
            "commit v7, admin": unknown,
            "fetch v9, current epoch": (NONE, {tp: (10, NONE)}),
            "fetch v9, older epoch": (STALE_MEMBER_EPOCH, {}),
            "fetch v9, newer epoch, require_stable": (STALE_MEMBER_EPOCH, {}),
            "fetch v9, unknown member": (UNKNOWN_MEMBER_ID, {}),
            "fetch v9, null member": (NONE, {tp: (10, NONE)}),
            "fetch v9, empty member id": (UNKNOWN_MEMBER_ID, {}),
            "fetch v5": (NONE, {tp: (10, NONE)}),
            "delete offsets": (NONE, {tp: GROUP_SUBSCRIBED_TO_TOPIC, otp: NONE}),
            "delete group": NON_EMPTY_GROUP,
        }

        # The member leaves; the group stays, Empty.
        _leave_consumer_group(c, group, me)
        got = {
            "commit v9, admin": offset_commit_flexible(c, 9, group, -1, "", {tp: 20}),
            "commit v7, admin": offset_commit(c, group, -1, "", {otp: 21}),
            "commit v9, former member": offset_commit_flexible(c, 9, group, epoch, me, {tp: 22}),
            "fetch v9, former member": offset_fetch_v9(c, group, me, epoch, [tp]),
            "fetch v9, null member": offset_fetch_v9(c, group, None, -1, [tp, otp]),
            "delete offsets": offset_delete(c, group, [tp]),
            "fetch after delete": offset_fetch(c, group, [tp, otp]),
            "delete group": delete_group(c, group),
            "commit v9 after delete": offset_commit_flexible(c, 9, group, epoch, me, {tp: 23}),
        }
        assert got == {
            "commit v9, admin": {tp: NONE},
            "commit v7, admin": {otp: NONE},
            "commit v9, former member": unknown,
            "fetch v9, former member": (UNKNOWN_MEMBER_ID, {}),
            "fetch v9, null member": (NONE, {tp: (20, NONE), otp: (21, NONE)}),
            "delete offsets": (NONE, {tp: NONE}),
            "fetch after delete": (NONE, {tp: (-1, NONE), otp: (21, NONE)}),
            "delete group": NONE,
            "commit v9 after delete": {tp: GROUP_ID_NOT_FOUND},
        }


@pytest.mark.kip848
def test_kip848_txn_offset_commit_checks(kip848_broker):
    """TxnOffsetCommit names the member by its epoch (v3+) in a consumer group; a wrong epoch is
    ILLEGAL_GENERATION there (producers know generations), and v2, with no member at all, is
    taken only while the group has no members."""
    b = kip848_broker
    topic = harness.unique_topic("bad848-txn")
    group, txn = f"g-{topic}", f"t-{topic}"
    rdk.create_topic(b, topic, partitions=1)
    tp = (topic, 0)
    with _connect(b, group) as c:
        wait_until("the transaction coordinator", lambda: find_transaction_coordinator(c, txn) == NONE)
        err, pid, pepoch = wait_until("a transactional producer id",
                                      lambda: (lambda r: r if r[0] == NONE else None)(init_producer_id(c, txn)))
        # A group the coordinator has never seen: with the consumer protocol on (Kafka's new
        # coordinator), a generation is refused before any member check.
        unknown = f"{group}-unknown"
        wait_until("the unknown group's coordinator", lambda: find_coordinator(c, unknown)[0] == NONE)
        assert add_offsets_to_txn(c, txn, pid, pepoch, unknown) == NONE
        assert txn_offset_commit(c, 3, txn, unknown, pid, pepoch, {tp: 1}, generation=1,
                                 member_id="nobody") == {tp: ILLEGAL_GENERATION}
        me, epoch = _join_consumer_group(c, group, topic)
        assert add_offsets_to_txn(c, txn, pid, pepoch, group) == NONE

        def commit(version, offset, **kw):
            return txn_offset_commit(c, version, txn, group, pid, pepoch, {tp: offset}, **kw)
        got = {
            "v3, current epoch": commit(3, 5, generation=epoch, member_id=me),
            "v3, older epoch": commit(3, 6, generation=epoch - 1, member_id=me),
            "v3, newer epoch": commit(3, 6, generation=epoch + 1, member_id=me),
            "v3, unknown member": commit(3, 6, generation=epoch, member_id="nobody"),
            "v3, no member": commit(3, 6),
            "v2": commit(2, 6),
        }
        assert got == {
            "v3, current epoch": {tp: NONE},
            "v3, older epoch": {tp: ILLEGAL_GENERATION},
            "v3, newer epoch": {tp: ILLEGAL_GENERATION},
            "v3, unknown member": {tp: UNKNOWN_MEMBER_ID},
            "v3, no member": {tp: UNKNOWN_MEMBER_ID},
            "v2": {tp: UNKNOWN_MEMBER_ID},
        }
        _leave_consumer_group(c, group, me)
        got = {"v3, no member": commit(3, 7), "v2": commit(2, 8),
               "v3, former member": commit(3, 9, generation=epoch, member_id=me)}
        assert got == {"v3, no member": {tp: NONE}, "v2": {tp: NONE}, "v3, former member": {tp: UNKNOWN_MEMBER_ID}}
        assert end_txn(c, txn, pid, pepoch, True) == NONE
        # The last offset the transaction took is the one read back once it committed.
        assert wait_until("the committed transactional offset",
                          lambda: offset_fetch_v9(c, group, None, -1, [tp], True) == (NONE, {tp: (8, NONE)}))


def test_delete_internal_topics(broker):
    """DeleteTopics naming __consumer_offsets and __transaction_state: kafka-topics refuses them on
    the client side, but Kafka 3.9.2's broker (KRaft) deletes them like any topic; its coordinators
    resign, and the next FindCoordinator creates each topic afresh, empty (committed offsets go
    with it). The scenario ends only once both coordinators serve again, so the broker is whole
    for the scenarios that follow."""
    topic = harness.unique_topic("bad-internal")
    group, txn = f"g-{topic}", f"t-{topic}"
    rdk.create_topic(broker, topic, partitions=1)
    internal = ["__consumer_offsets", "__transaction_state"]
    tp = (topic, 0)

    def coordinators_serve():
        return (find_coordinator(c, group)[0] == NONE and offset_fetch(c, group, [])[0] == NONE
                and find_transaction_coordinator(c, txn) == NONE and init_producer_id(c, txn)[0] == NONE)
    with _connect(broker, group) as c:
        wait_until("the transaction coordinator", coordinators_serve)
        assert offset_commit(c, group, -1, "", {tp: 5}) == {tp: NONE}
        assert offset_fetch(c, group, [tp]) == (NONE, {tp: (5, NONE)})

        assert delete_topics(c, internal, version=6) == {name: NONE for name in internal}
        assert delete_topics(c, internal, version=1) == {name: UNKNOWN_TOPIC_OR_PARTITION for name in internal}
        gone = (UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.")
        assert delete_topics(c, internal, version=6, messages=True) == {name: gone for name in internal}

        wait_until("both coordinators on new internal topics", coordinators_serve)
        assert offset_fetch(c, group, [tp]) == (NONE, {tp: (-1, NONE)})
        assert offset_commit(c, group, -1, "", {tp: 6}) == {tp: NONE}
        assert offset_fetch(c, group, [tp]) == (NONE, {tp: (6, NONE)})
