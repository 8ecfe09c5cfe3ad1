"""Exact group requests, sent over a raw socket (wire.py), that a client library would never
send or would retry: stale generations, unknown members and groups, oversized metadata,
commits to topics that do not exist. Each gets the error code Kafka 3.9 returns."""

import harness
import rdk
from groups_lib import wait_until
from wire import (Connection, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL, INVALID_SESSION_TIMEOUT,
                  MEMBER_ID_REQUIRED, NON_EMPTY_GROUP, NONE, OFFSET_METADATA_TOO_LARGE, REBALANCE_IN_PROGRESS,
                  GROUP_ID_NOT_FOUND, UNKNOWN_MEMBER_ID, UNKNOWN_TOPIC_OR_PARTITION, consumer_assignment,
                  consumer_subscription, delete_group, describe_group, find_coordinator, heartbeat, join_group,
                  leave_group, offset_commit, offset_fetch, read_join, sync_group)

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
