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
from membership import Member, commits_in_order, consumed, overlaps
from test_group_members import PARTITIONS, CommitWatch, _settled
from wire import Connection, list_groups_typed

PER_PARTITION_PER_PHASE = 30
MIGRATION_PROPERTIES = dict(KIP848_PROPERTIES, **{"group.consumer.migration.policy": "bidirectional"})


@pytest.fixture
def migration_broker(broker, scratch_root):
    if isinstance(broker, harness.BrokerUnavailable):
        pytest.fail(broker.reason, pytrace=False)
    b = harness.Broker(broker.name, scratch_root, extra_properties=MIGRATION_PROPERTIES)
    try:
        b.start()
    except Exception as e:
        b.stop()
        pytest.fail(f"{broker.name} broker could not start: {e}\n--- broker log ---\n{b.log_tail()}",
                    pytrace=False)
    try:
        yield b
    finally:
        b.stop()
        harness.remove_tree(b.data)


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

    def wait_settled(what):
        def check():
            dead = [m for m in live if m.proc.poll() is not None]
            assert not dead, f"{dead[0].name} exited: {dead[0].stderr_tail()}"
            return _settled(live)
        wait_until(f"{what}: the live members to share every partition", check, seconds=60)

    def replace(old_protocol, new_protocol):
        leaving = next(m for m in live if m.protocol == old_protocol)
        live.remove(leaving)
        leaving.stop()
        join(new_protocol)
        wait_settled(f"{leaving.name} replaced by a {new_protocol} member")

    watch = CommitWatch(broker, group, topic)
    try:
        for _ in range(3):
            join("classic")
        wait_settled("three classic members")
        assert _group_type(broker, group) == "classic"

        replace("classic", "consumer")
        assert _group_type(broker, group) == "consumer", "the first consumer member upgraded the group"
        replace("classic", "consumer")
        replace("classic", "consumer")
        phase += 1
        produce()

        replace("consumer", "classic")
        assert _group_type(broker, group) == "consumer", "classic members live inside the consumer group"
        replace("consumer", "classic")
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

    produced = {(p, o) for p in range(PARTITIONS) for o in range(total)}
    missing = produced - consumed(everyone)
    assert not missing, f"{len(missing)} records never consumed, e.g. {sorted(missing)[:5]}"
    clashes = overlaps(everyone)
    assert not clashes, f"partitions owned by two members at once: {clashes[:3]}"
    last = {}
    for t, p, off, name in commits_in_order(everyone):
        assert off >= last.get(p, (0, None))[0], (
            f"partition {p}: {name} committed {off} after {last[p][1]} had committed {last[p][0]}")
        last[p] = (off, name)
    assert watch.reads > 0 and not watch.backwards, f"committed offsets went backwards: {watch.backwards}"
    assert all(any(ev["ev"] == "assigned" and ev["parts"] for ev in m.snapshot()) for m in everyone), \
        "a member never received partitions"
