"""Classic consumer groups with confluent-kafka (librdkafka): two members share a topic's
partitions and rebalance when one leaves; committed offsets survive a broker crash (SIGKILL)
and the group resumes from them; the admin API lists, describes and deletes groups and their
offsets."""

import time

from confluent_kafka import (Consumer, ConsumerGroupState, ConsumerGroupTopicPartitions, KafkaException,
                             TopicPartition)

import harness
import rdk


def _member(broker, group, **conf):
    return Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False,
                     "session.timeout.ms": 10000, "heartbeat.interval.ms": 500, **conf})


def _poll_until(consumers, done, seconds=60):
    """Polls every consumer (which drives joins, syncs and heartbeats) until done() holds;
    returns the messages each one received meanwhile."""
    got = [[] for _ in consumers]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for i, c in enumerate(consumers):
            for m in c.consume(num_messages=500, timeout=0.2):
                assert m.error() is None, f"consume error: {m.error()}"
                got[i].append(m)
        if done(got):
            return got
    raise AssertionError(f"condition not reached in {seconds}s; assignments "
                         f"{[sorted(tp.partition for tp in c.assignment()) for c in consumers]}")


def _partitions(c):
    return sorted(tp.partition for tp in c.assignment())


def test_two_members_rebalance(broker):
    partitions = 4
    topic = harness.unique_topic("grp-rebalance")
    group = harness.unique_topic("grp-rebalance")
    rdk.create_topic(broker, topic, partitions)
    a, b = _member(broker, group), _member(broker, group)
    try:
        a.subscribe([topic])
        _poll_until([a], lambda got: _partitions(a) == list(range(partitions)))
        b.subscribe([topic])
        # The group rebalances: each member ends with half the partitions, none shared.
        _poll_until([a, b], lambda got: len(_partitions(a)) == 2 and len(_partitions(b)) == 2)
        assert sorted(_partitions(a) + _partitions(b)) == list(range(partitions))

        records = [(f"k{i}".encode(), f"v{i}".encode(), i % partitions) for i in range(200)]
        rdk.produce(broker, topic, records)
        got = _poll_until([a, b], lambda got: len(got[0]) + len(got[1]) >= len(records))
        for member, msgs in ((a, got[0]), (b, got[1])):
            assert {m.partition() for m in msgs} <= set(_partitions(member))
        assert sorted(m.value() for m in got[0] + got[1]) == sorted(v for _, v, _ in records)
        a.commit(asynchronous=False)
        b.commit(asynchronous=False)
    finally:
        b.close()  # LeaveGroup: the remaining member takes every partition back
    try:
        _poll_until([a], lambda got: _partitions(a) == list(range(partitions)))
        committed = a.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)
        assert {tp.partition: tp.offset for tp in committed} == {p: 50 for p in range(partitions)}
    finally:
        a.close()


def test_commit_survives_broker_kill(broker):
    partitions = 3
    topic = harness.unique_topic("grp-crash")
    group = harness.unique_topic("grp-crash")
    rdk.create_topic(broker, topic, partitions)
    first = [(None, f"first {i}".encode(), i % partitions) for i in range(60)]
    rdk.produce(broker, topic, first)
    c = _member(broker, group)
    try:
        c.subscribe([topic])
        got = _poll_until([c], lambda got: len(got[0]) >= len(first))[0]
        assert len(got) == len(first)
        c.commit(asynchronous=False)
    finally:
        c.close()

    broker.restart(hard=True)

    second = [(None, f"second {i}".encode(), i % partitions) for i in range(30)]
    rdk.produce(broker, topic, second)
    c = _member(broker, group)
    try:
        committed = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=60)
        assert {tp.partition: tp.offset for tp in committed} == {p: 20 for p in range(partitions)}
        c.subscribe([topic])
        got = _poll_until([c], lambda got: len(got[0]) >= len(second))[0]
        got += c.consume(num_messages=500, timeout=1.0)
        assert sorted(m.value() for m in got if m.error() is None) == sorted(v for _, v, _ in second)
    finally:
        c.close()


def test_admin_groups_and_offsets(broker):
    topic = harness.unique_topic("grp-admin")
    group = harness.unique_topic("grp-admin")
    rdk.create_topic(broker, topic, 2)
    rdk.produce(broker, topic, [(None, b"x", p) for p in (0, 1, 0, 1)])
    admin = rdk.admin(broker)
    c = _member(broker, group, **{"client.id": "grp-admin-client"})
    try:
        c.subscribe([topic])
        _poll_until([c], lambda got: len(got[0]) >= 4)
        c.commit(asynchronous=False)

        listed = admin.list_consumer_groups(request_timeout=30).result(timeout=rdk.TIMEOUT)
        mine = [g for g in listed.valid if g.group_id == group]
        assert len(mine) == 1 and mine[0].state == ConsumerGroupState.STABLE
        described = admin.describe_consumer_groups([group], request_timeout=30,
                                                   include_authorized_operations=True)[group].result(timeout=rdk.TIMEOUT)
        assert described.state == ConsumerGroupState.STABLE
        assert not described.is_simple_consumer_group
        assert described.partition_assignor == "range"  # librdkafka's first default assignor
        assert described.coordinator.id == 1
        # No authorizer: every operation a group supports.
        assert {op.name for op in described.authorized_operations} == {"READ", "DESCRIBE", "DELETE"}
        assert [m.client_id for m in described.members] == ["grp-admin-client"]
        assert sorted(tp.partition for tp in described.members[0].assignment.topic_partitions) == [0, 1]
        # An active group cannot be deleted.
        with_members = admin.delete_consumer_groups([group], request_timeout=30)[group]
        try:
            with_members.result(timeout=rdk.TIMEOUT)
            raise AssertionError("deleting a group with members succeeded")
        except KafkaException as e:
            assert e.args[0].name() == "NON_EMPTY_GROUP"
    finally:
        c.close()

    offsets = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)],
                                                request_timeout=30)[group].result(timeout=rdk.TIMEOUT)
    assert {tp.partition: tp.offset for tp in offsets.topic_partitions if tp.topic == topic} == {0: 2, 1: 2}
    # Offsets of a group without members can be changed and deleted by an admin.
    altered = admin.alter_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 1)])],
        request_timeout=30)[group].result(timeout=rdk.TIMEOUT)
    assert [(tp.partition, tp.offset, tp.error) for tp in altered.topic_partitions] == [(0, 1, None)]
    offsets = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0), TopicPartition(topic, 1)])],
        request_timeout=30)[group].result(timeout=rdk.TIMEOUT)
    assert {tp.partition: tp.offset for tp in offsets.topic_partitions} == {0: 1, 1: 2}

    deleted = admin.delete_consumer_groups([group], request_timeout=30)[group].result(timeout=rdk.TIMEOUT)
    assert deleted is None
    listed = admin.list_consumer_groups(request_timeout=30).result(timeout=rdk.TIMEOUT)
    assert group not in [g.group_id for g in listed.valid]
    # Gone, and so are its offsets: a fetch finds none, with no error.
    offsets = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0)])],
        request_timeout=30)[group].result(timeout=rdk.TIMEOUT)
    assert [tp.offset for tp in offsets.topic_partitions] == [-1001]
