"""Members of one client and assignor join, leave and crash while they consume; afterwards every
record was consumed, committed offsets only moved forward, and no partition was owned by two
members at once. Members are processes (member.py for librdkafka and kafka-python, java/ and
franz/ for the Java client and franz-go) that report their callbacks and commits; see
membership.py. ODRADEK_SOAK=1 adds more records and rounds of join, leave and kill."""

import os
import threading
import time

import pytest

import harness
import rdk
from groups_lib import committed, wait_until
from membership import Member, commits_in_order, consumed, overlaps
from wire import Connection, api_versions

PARTITIONS = 6
SOAK = os.environ.get("ODRADEK_SOAK") == "1"
ROUNDS = 4 if SOAK else 1
PER_PARTITION_PER_PHASE = 200 if SOAK else 40

# Each client with one eager and one cooperative assignor by default; every assignor each client
# has under ODRADEK_SOAK=1 (librdkafka has no eager "sticky").
DEFAULT = [
    ("confluent", "range"), ("confluent", "cooperative-sticky"),
    ("java", "sticky"), ("java", "cooperative-sticky"),
    ("kafka-python", "roundrobin"), ("kafka-python", "cooperative-sticky"),
    ("franz", "range"), ("franz", "cooperative-sticky"),
]
MORE = [
    ("confluent", "roundrobin"), ("java", "range"), ("java", "roundrobin"),
    ("kafka-python", "range"), ("kafka-python", "sticky"), ("franz", "roundrobin"), ("franz", "sticky"),
]
CLASSIC = DEFAULT + (MORE if SOAK else [])


def _produce_phase(broker, topic, phase):
    rdk.produce(broker, topic, [(None, f"{phase}-{p}-{i}".encode(), p)
                                for i in range(PER_PARTITION_PER_PHASE) for p in range(PARTITIONS)])


class CommitWatch:
    """Reads the group's committed offsets (OffsetFetch) every half second while the scenario
    runs and records any that went backwards."""

    def __init__(self, broker, group, topic):
        self.backwards = []
        self.reads = 0
        self._stop = threading.Event()
        self._last = {}
        self._args = (broker, group, topic)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.5):
            try:
                now = committed(*self._args, PARTITIONS)
            except Exception:  # a read that fails during a broker hiccup proves nothing either way
                continue
            self.reads += 1
            for p, off in now.items():
                if off < self._last.get(p, -1):
                    self.backwards.append((p, self._last[p], off))
                self._last[p] = max(off, self._last.get(p, -1))

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=90)


def _settled(members):
    """True when the live members' own accounts of what they hold are disjoint and cover every
    partition, and each holds at least one."""
    live = [m for m in members if m.proc.poll() is None]
    held = [m.owned() for m in live]
    return (all(held) and sum(map(len, held)) == PARTITIONS
            and set().union(*held) == set(range(PARTITIONS)))


def wait_settled(live, what, seconds=90):
    """Waits until the live members share every partition (_settled); fails at once when one
    of them has exited."""
    def check():
        dead = [m for m in live if m.proc.poll() is not None]
        assert not dead, f"{dead[0].name} exited: {dead[0].stderr_tail()}"
        return _settled(live)
    wait_until(f"{what}: the live members to share every partition", check, seconds=seconds)


def check_membership_invariants(everyone, total, watch):
    """What the members reported, once all have ended: every record (`total` per partition)
    consumed, no partition owned by two members at once, commits only forward (in the members'
    reports and in what `watch`, a stopped CommitWatch, read), every member given partitions."""
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


def run_membership_scenario(broker, client, assignor, tmp_path):
    topic = harness.unique_topic(f"members-{client}-{assignor}")
    group = f"g-{topic}"
    rdk.create_topic(broker, topic, partitions=PARTITIONS)
    phase = 0
    _produce_phase(broker, topic, phase)

    everyone, live = [], []
    counter = iter(range(1000))

    def join():
        m = Member(client, broker, group, topic, assignor, f"{client}-{next(counter)}", tmp_path)
        everyone.append(m)
        live.append(m)
        return m

    watch = CommitWatch(broker, group, topic)
    try:
        join()
        wait_settled(live, "first member")
        join()
        wait_settled(live, "second member joined")
        for _ in range(ROUNDS):
            join()
            wait_settled(live, "third member joined")
            leaving = live.pop(1)
            leaving.stop()
            wait_settled(live, f"{leaving.name} left")
            join()
            wait_settled(live, "a member replaced the one that left")
            victim = live.pop(0)
            victim.kill()
            wait_settled(live, f"{victim.name} was killed")
            phase += 1
            _produce_phase(broker, topic, phase)

        total = PER_PARTITION_PER_PHASE * (phase + 1)
        wait_until("the group to commit every record",
                   lambda: committed(broker, group, topic, PARTITIONS) == {p: total for p in range(PARTITIONS)},
                   seconds=90)
        for m in list(live):
            m.stop()
            live.remove(m)
    finally:
        watch.stop()
        for m in live:
            m.kill()

    check_membership_invariants(everyone, total, watch)
    # The members that left or were killed owned something, so their partitions moved.
    assert sum(m.killed for m in everyone) == ROUNDS


@pytest.mark.parametrize("client,assignor", CLASSIC, ids=[f"{c}-{a}" for c, a in CLASSIC])
def test_members_join_leave_and_crash(broker, client, assignor, tmp_path):
    run_membership_scenario(broker, client, assignor, tmp_path)


KIP848 = [("java", "consumer"), ("confluent", "consumer")]


@pytest.mark.kip848
@pytest.mark.parametrize("client,assignor", KIP848, ids=[f"{c}-{a}" for c, a in KIP848])
def test_members_consumer_protocol(request, broker, client, assignor, tmp_path):
    # librdkafka (2.16) needs ConsumerGroupHeartbeat v1, which came with Kafka 4.0's GA; Kafka
    # 3.9.2 has only v0, so librdkafka's case runs on Kafka 4.4.0 there (kip848_v1_broker).
    # (`broker` selects the kind, kafka or odradek; the fixture below is of that kind.)
    broker = request.getfixturevalue("kip848_v1_broker" if client == "confluent" else "kip848_broker")
    if isinstance(broker, harness.BrokerUnavailable):
        pytest.fail(broker.reason, pytrace=False)
    if client == "confluent":
        with Connection(broker.host, broker.port) as conn:
            heartbeat = api_versions(conn).get(68, (0, -1))
        assert heartbeat[1] >= 1, f"librdkafka's consumer protocol needs ConsumerGroupHeartbeat v1; " \
                                  f"the broker has {heartbeat}"
    run_membership_scenario(broker, client, assignor, tmp_path)
