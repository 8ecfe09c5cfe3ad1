"""KIP-848 server-side assignors seen by the Java 4.x client (group.protocol=consumer): the
same group, on Kafka 3.9.2 and on Odradek, must settle on the same assignment.

Range with static members is deterministic in Kafka 3.9 (members sorted by instance id, each
taking the next contiguous range of every topic, so equal-sized topics are co-partitioned), so
every phase is checked exactly: three members, then one leaves for good (its partitions move
once its session expires), then a new one joins. Uniform, whose choices depend on random
member ids, is checked for its guarantees: every partition owned once, sizes within one.
Ownership is each member's own account (its rebalance callbacks); two members never hold a
partition at once (membership.overlaps)."""

import time

import pytest

import harness
import membership

SETTLE_SECONDS = 90


class Kip848Member(membership.Member):
    """A Kip848Member.java process (see there); events parsed as membership.Member does."""

    def __init__(self, broker, group, topics, name, log_dir, instance=None, server_assignor=None):
        args = ["--bootstrap", broker.bootstrap, "--group", group, "--topics", ",".join(topics), "--name", name]
        if instance:
            args += ["--instance", instance]
        if server_assignor:
            args += ["--server-assignor", server_assignor]
        self._start(membership.java_member_command("Kip848Member", *args), name, log_dir)


def _create_topics(broker, topics, partitions):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic(t, partitions, 1) for t in topics]).values():
        f.result(60)


def _wait_for(members, expected, what):
    """Waits until the live members own exactly `expected` ({name: set of "t-p"})."""
    deadline = time.monotonic() + SETTLE_SECONDS
    seen = None
    while time.monotonic() < deadline:
        seen = {m.name: m.owned() for m in members if m.proc.poll() is None}
        if seen == expected:
            return
        time.sleep(0.5)
    tails = "\n".join(f"--- {m.name}\n{m.stderr_tail(10)}" for m in members)
    pytest.fail(f"{what}: members own {seen}, expected {expected}\n{tails}", pytrace=False)


def _ranges(topics, spans):
    """{name: set} from {name: (first, last)} over every topic (co-partitioned)."""
    return {n: {f"{t}-{p}" for t in topics for p in range(lo, hi + 1)} for n, (lo, hi) in spans.items()}


@pytest.mark.kip848
def test_kip848_range_static_members_match_kafka(kip848_broker, tmp_path):
    topics = [harness.unique_topic("kip848-ra"), harness.unique_topic("kip848-rb")]
    _create_topics(kip848_broker, topics, 6)
    group = harness.unique_topic("kip848-range")
    # Instance ids sort as s1 < s2 < s3 < s4; the member names say which is which.
    members = {}

    def start(name):
        members[name] = Kip848Member(kip848_broker, group, topics, name, tmp_path, instance=f"s{name[1]}",
                                     server_assignor="range")

    try:
        for name in ("m1", "m2", "m3"):
            start(name)
        live = lambda: [m for m in members.values() if m.proc.poll() is None]  # noqa: E731
        _wait_for(live(), _ranges(topics, {"m1": (0, 1), "m2": (2, 3), "m3": (4, 5)}), "three members")
        # m2 leaves; a static member keeps its partitions until its session expires (6 s here).
        members["m2"].stop()
        _wait_for(live(), _ranges(topics, {"m1": (0, 2), "m3": (3, 5)}), "after m2 left")
        start("m4")
        _wait_for(live(), _ranges(topics, {"m1": (0, 1), "m3": (2, 3), "m4": (4, 5)}), "after m4 joined")
    finally:
        for m in members.values():
            if m.proc.poll() is None:
                m.stop()
            else:
                m._finish()
    clashes = membership.overlaps(list(members.values()))
    assert not clashes, f"partitions owned twice at once: {clashes[:5]}"


@pytest.mark.kip848
def test_kip848_uniform_dynamic_members_balanced(kip848_broker, tmp_path):
    topics = [harness.unique_topic("kip848-ua"), harness.unique_topic("kip848-ub")]
    _create_topics(kip848_broker, topics, 5)
    group = harness.unique_topic("kip848-uniform")
    everything = {f"{t}-{p}" for t in topics for p in range(5)}
    members = []

    def balanced(live):
        owned = [m.owned() for m in live]
        union = set().union(*owned) if owned else set()
        sizes = [len(o) for o in owned]
        return sum(sizes) == len(everything) and union == everything and max(sizes) - min(sizes) <= 1

    def wait_balanced(what):
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            live = [m for m in members if m.proc.poll() is None]
            if live and balanced(live):
                return
            time.sleep(0.5)
        pytest.fail(f"{what}: {[(m.name, sorted(m.owned())) for m in members]}", pytrace=False)

    try:
        for i in range(3):
            members.append(Kip848Member(kip848_broker, group, topics, f"u{i}", tmp_path))
        wait_balanced("three members")
        members[1].stop()
        wait_balanced("after one left")
        members.append(Kip848Member(kip848_broker, group, topics, "u3", tmp_path))
        wait_balanced("after one joined")
    finally:
        for m in members:
            if m.proc.poll() is None:
                m.stop()
            else:
                m._finish()
    clashes = membership.overlaps(members)
    assert not clashes, f"partitions owned twice at once: {clashes[:5]}"
