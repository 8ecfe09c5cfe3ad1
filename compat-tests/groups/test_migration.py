"""KIP-848 online migration with Java 4.x members: a group of classic members (group.protocol=
classic, cooperative-sticky) is rolled to the consumer protocol one member at a time (the first
ConsumerGroupHeartbeat upgrades the classic group to a consumer group, the classic members go on
inside it), then rolled back (when the last consumer-protocol member leaves, the group is
downgraded to a classic group), with group.consumer.migration.policy=bidirectional. Throughout,
the membership invariants of test_group_members.py hold: every record consumed, commits only move
forward, no partition owned by two members at once; ListGroups v5 reports the group's type."""

import pytest

import harness
import rdk
from conftest import KIP848_PROPERTIES
from groups_lib import committed, wait_until
from membership import Member
from test_group_members import PARTITIONS, CommitWatch, check_membership_invariants, wait_settled
from wire import (GROUP_ID_NOT_FOUND, MEMBER_ID_REQUIRED, NONE, Connection, consumer_group_heartbeat,
                  consumer_subscription, find_coordinator, join_group, list_groups_typed)

PER_PARTITION_PER_PHASE = 30
MEMBERS = 2  # each step starts a JVM: two members keep the file well under a minute per broker
LOADING = (14, 15, 16)  # COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR
MIGRATION_PROPERTIES = dict(KIP848_PROPERTIES, **{"group.consumer.migration.policy": "bidirectional"})


@pytest.fixture(scope="module")
def migration_broker(broker, scratch_root):
    """One broker for this file's scenarios (the last one kills and restarts it)."""
    with harness.broker_like(broker, scratch_root, extra_properties=MIGRATION_PROPERTIES) as b:
        yield b


def _group_type(broker, group):
    with Connection(broker.host, broker.port) as conn:
        return list_groups_typed(conn).get(group, (None,))[0]


@pytest.mark.kip848
def test_roll_classic_to_consumer_and_back(migration_broker, tmp_path):
    broker = migration_broker
    topic = harness.unique_topic("migrate")
    group = f"g-{topic}"
    rdk.create_topic(broker, topic, partitions=PARTITIONS)
    phase = 0

    def produce():
        rdk.produce(broker, topic, [(None, f"{phase}-{p}-{i}".encode(), p)
                                    for i in range(PER_PARTITION_PER_PHASE) for p in range(PARTITIONS)])

    produce()
    everyone, live = [], []
    counter = iter(range(100))

    def join(protocol):
        assignor = "consumer" if protocol == "consumer" else "cooperative-sticky"
        m = Member("java", broker, group, topic, assignor, f"{protocol}-{next(counter)}", tmp_path)
        m.protocol = protocol
        everyone.append(m)
        live.append(m)

    def replace(old_protocol, new_protocol):
        leaving = next(m for m in live if m.protocol == old_protocol)
        live.remove(leaving)
        leaving.stop()
        join(new_protocol)
        wait_settled(live, f"{leaving.name} replaced by a {new_protocol} member", seconds=60)

    watch = CommitWatch(broker, group, topic)
    try:
        for _ in range(MEMBERS):
            join("classic")
        wait_settled(live, "classic members", seconds=60)
        assert _group_type(broker, group) == "classic"

        replace("classic", "consumer")
        assert _group_type(broker, group) == "consumer", "the first consumer member upgraded the group"
        for _ in range(MEMBERS - 1):
            replace("classic", "consumer")
        phase += 1
        produce()

        replace("consumer", "classic")
        assert _group_type(broker, group) == "consumer", "classic members live inside the consumer group"
        for _ in range(MEMBERS - 1):
            replace("consumer", "classic")
        assert _group_type(broker, group) == "classic", "the last consumer member's leave downgraded the group"
        phase += 1
        produce()

        total = PER_PARTITION_PER_PHASE * (phase + 1)
        wait_until("the group to commit every record",
                   lambda: committed(broker, group, topic, PARTITIONS) == {p: total for p in range(PARTITIONS)},
                   seconds=60)
        for m in list(live):
            m.stop()
            live.remove(m)
    finally:
        watch.stop()
        for m in live:
            m.kill()

    check_membership_invariants(everyone, total, watch)


@pytest.mark.kip848
def test_classic_member_joins_consumer_group_with_policy_disabled(kip848_broker):
    """Kafka 3.9.2 (group.consumer.migration.policy=disabled, its default) admits a classic
    member into a consumer group that has members (classicGroupJoinToConsumerGroup has no policy
    check; later versions refuse it, KAFKA-20640): generation = member epoch, protocol type
    consumer; and refuses the opposite, a consumer-protocol member joining a classic group."""
    broker = kip848_broker
    topic = harness.unique_topic("migrate-disabled")
    group, classic_group = f"g-{topic}", f"g-{topic}-classic"
    rdk.create_topic(broker, topic, partitions=2)
    sub = consumer_subscription([topic])
    with Connection(broker.host, broker.port) as conn:
        wait_until("the group coordinator", lambda: find_coordinator(conn, group)[0] == NONE, seconds=60)
        h = {"error": LOADING[0]}
        wait_until("the consumer member to join",
                   lambda: h.update(consumer_group_heartbeat(conn, group, "", 0, topics=[topic], owned=[]))
                   or h["error"] not in LOADING, seconds=60)
        assert h["error"] == NONE, h
        j = join_group(conn, group, "", sub)
        assert j["error"] == MEMBER_ID_REQUIRED
        j = join_group(conn, group, j["member_id"], sub)
        assert j["error"] == NONE, j
        assert j["generation"] == h["epoch"] + 1 and j["members"] == [] and j["leader"] == ""
        assert _group_type(broker, group) == "consumer"

        wait_until("the group coordinator", lambda: find_coordinator(conn, classic_group)[0] == NONE,
                   seconds=60)
        j = {"error": LOADING[0]}
        wait_until("the classic member to join",
                   lambda: j.update(join_group(conn, classic_group, "", sub)) or j["error"] not in LOADING,
                   seconds=60)
        j = join_group(conn, classic_group, j["member_id"], sub)
        assert j["error"] == NONE, j
        h = consumer_group_heartbeat(conn, classic_group, "", 0, topics=[topic], owned=[])
        assert h["error"] == GROUP_ID_NOT_FOUND, h
