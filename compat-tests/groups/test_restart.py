"""A broker killed with SIGKILL and restarted on the same data dir and port keeps every
committed offset and every group, and forgets the groups that were deleted: groups resume from
their committed offsets. Runs on a broker of its own (the own_broker fixture)."""

import time

from confluent_kafka import Consumer, TopicPartition

import harness
import rdk
from groups_lib import commit, committed, consumer_groups, state_row, table, wait_until

PARTITIONS = 3
PER_PARTITION = 30


def _consumer(broker, group):
    return Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "session.timeout.ms": 60000,
                     "partition.assignment.strategy": "range"})


def _consume(c, until, seconds=90):
    """Polls until until(records so far) holds; returns the records as (partition, offset)."""
    got = []
    deadline = time.monotonic() + seconds
    while not until(got):
        assert time.monotonic() < deadline, f"consumed only {len(got)} records in {seconds}s"
        for m in c.consume(num_messages=100, timeout=0.5):
            if m.error() is None:
                got.append((m.partition(), m.offset()))
    return got


def test_groups_survive_sigkill(own_broker):
    broker = own_broker
    topic = harness.unique_topic("restart")
    resumed, deleted, live = (f"g-{topic}-{n}" for n in ("resumed", "deleted", "live"))
    rdk.create_topic(broker, topic, partitions=PARTITIONS)
    rdk.produce(broker, topic, [(None, f"{p}-{i}".encode(), p) for p in range(PARTITIONS)
                                for i in range(PER_PARTITION)])

    # One group commits part of the topic through a member, then its member leaves.
    c = _consumer(broker, resumed)
    c.subscribe([topic])
    _consume(c, lambda got: len(got) >= PER_PARTITION)
    plan = {0: 7, 1: 19, 2: 0}
    commit(c, [TopicPartition(topic, p, o) for p, o in plan.items()])
    c.close()
    # One group is deleted before the crash.
    d = _consumer(broker, deleted)
    commit(d, [TopicPartition(topic, p, 1) for p in range(PARTITIONS)])
    d.close()
    assert f"Deletion of requested consumer groups ('{deleted}') was successful." in \
        consumer_groups(broker, "--delete", "--group", deleted).stdout
    # One group's member is consuming when the broker dies.
    member = _consumer(broker, live)
    member.subscribe([topic])
    seen = _consume(member, lambda got: len(got) >= PER_PARTITION)
    last = {}
    for p, o in seen:
        last[p] = max(last.get(p, -1), o + 1)
    commit(member, [TopicPartition(topic, p, o) for p, o in last.items()])
    live_before = committed(broker, live, topic, PARTITIONS)
    assert committed(broker, resumed, topic, PARTITIONS) == plan

    broker.kill()
    broker.restart()

    # Offsets and groups are as they were; the deleted group stays deleted.
    assert wait_until("the resumed group's offsets after the restart", lambda: (
        lambda got: got if got == plan else None)(_committed_or_none(broker, resumed, topic)), seconds=90) == plan
    assert committed(broker, live, topic, PARTITIONS) == live_before
    assert committed(broker, deleted, topic, PARTITIONS) == {p: -1 for p in range(PARTITIONS)}
    listed = consumer_groups(broker, "--list").stdout.split()
    assert resumed in listed and live in listed and deleted not in listed, listed
    rows = table(consumer_groups(broker, "--describe", "--group", resumed).stdout)
    assert {int(r["PARTITION"]): int(r["CURRENT-OFFSET"]) for r in rows} == plan, rows

    # A new member of the resumed group starts exactly at the committed offsets.
    c = _consumer(broker, resumed)
    c.subscribe([topic])
    try:
        remaining = sum(PER_PARTITION - o for o in plan.values())
        got = _consume(c, lambda got: len(set(got)) >= remaining)
        first = {}
        for p, o in got:
            first.setdefault(p, o)
        assert first == {p: o for p, o in plan.items() if o < PER_PARTITION}, first
        assert set(got) == {(p, o) for p, s in plan.items() for o in range(s, PER_PARTITION)}
        commit(c, [TopicPartition(topic, p, PER_PARTITION) for p in range(PARTITIONS)])
    finally:
        c.close()
    assert committed(broker, resumed, topic, PARTITIONS) == {p: PER_PARTITION for p in range(PARTITIONS)}

    # The member that lived through the crash carries on in its group and commits the rest.
    try:
        rest = _consume(member, lambda got: {(p, o) for p, o in seen + got} >= {
            (p, o) for p in range(PARTITIONS) for o in range(PER_PARTITION)})
        assert rest or len(seen) == PARTITIONS * PER_PARTITION
        # A restart slower than the session may have cost the member its place; it rejoins.
        commit(member, [TopicPartition(topic, p, PER_PARTITION) for p in range(PARTITIONS)], rejoin=True)
        def stable():
            member.poll(0.1)
            state = state_row(consumer_groups(broker, "--describe", "--state", "--group", live).stdout)
            return (state["STATE"], state["#MEMBERS"]) == ("Stable", 1)
        wait_until("the live group to be Stable with its one member", stable, seconds=90)
    finally:
        member.close()
    assert committed(broker, live, topic, PARTITIONS) == {p: PER_PARTITION for p in range(PARTITIONS)}


def _committed_or_none(broker, group, topic):
    try:
        return committed(broker, group, topic, PARTITIONS)
    except Exception:  # the coordinator may still be loading; the caller polls
        return None
