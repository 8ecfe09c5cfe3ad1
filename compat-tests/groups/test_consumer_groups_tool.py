"""kafka-consumer-groups (Kafka 3.9.2's ConsumerGroupCommand) against a group of librdkafka
consumers: --list, --describe in each view, --reset-offsets in every mode, --delete and
--delete-offsets. Expected values come from what the scenario produced and committed."""

import datetime
import time

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

import harness
import rdk
from groups_lib import commit, committed, consumer_groups, delete_offsets_status, reset_plan, state_row, table, wait_until


def _subscribed(broker, group, topics, client_id):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "client.id": client_id,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "session.timeout.ms": 30000})
    c.subscribe(topics)
    return c


def _poll_until_assigned(consumers, partitions_total, seconds=60):
    """Polls every consumer until their assignments are disjoint and cover partitions_total."""
    def settled():
        for c in consumers:
            c.poll(0.2)
        sets = [set((tp.topic, tp.partition) for tp in c.assignment()) for c in consumers]
        union = set().union(*sets)
        return all(sets) and len(union) == partitions_total and sum(map(len, sets)) == partitions_total
    wait_until("every member to hold a share of the partitions", settled, seconds, interval=0)


def test_list_and_describe(broker):
    topic = harness.unique_topic("cg-desc")
    group = f"g-{topic}"
    rdk.create_topic(broker, topic, partitions=3)
    sizes = {0: 30, 1: 20, 2: 10}
    rdk.produce(broker, topic, [(None, f"{p}-{i}".encode(), p) for p, n in sizes.items() for i in range(n)])

    a = _subscribed(broker, group, [topic], "cg-member-a")
    try:
        _poll_until_assigned([a], 3)
        commit(a, [TopicPartition(topic, 0, 10), TopicPartition(topic, 1, 20)])

        assert group in consumer_groups(broker, "--list").stdout.split()
        listed = table(consumer_groups(broker, "--list", "--state").stdout)
        assert {"GROUP": group, "STATE": "Stable"} in listed, listed

        rows = table(consumer_groups(broker, "--describe", "--group", group).stdout)
        by_partition = {int(r["PARTITION"]): r for r in rows}
        assert sorted(by_partition) == [0, 1, 2], rows
        expect = {0: ("10", "30", "20"), 1: ("20", "20", "0"), 2: ("-", "10", "-")}
        for p, (current, end, lag) in expect.items():
            r = by_partition[p]
            assert (r["TOPIC"], r["CURRENT-OFFSET"], r["LOG-END-OFFSET"], r["LAG"]) == (topic, current, end, lag), r
            assert r["CLIENT-ID"] == "cg-member-a" and r["HOST"] == "/127.0.0.1", r
        assert len({r["CONSUMER-ID"] for r in rows}) == 1 and rows[0]["CONSUMER-ID"].startswith("cg-member-a-"), rows

        # --offsets is the default view; asked for by name it prints the same table.
        assert table(consumer_groups(broker, "--describe", "--offsets", "--group", group).stdout) == rows

        members = table(consumer_groups(broker, "--describe", "--members", "--group", group).stdout)
        assert len(members) == 1 and members[0]["#PARTITIONS"] == "3", members
        assert members[0]["CONSUMER-ID"] == rows[0]["CONSUMER-ID"], members
        verbose = table(consumer_groups(broker, "--describe", "--members", "--verbose", "--group", group).stdout)
        assert verbose[0]["ASSIGNMENT"].endswith("(0,1,2)"), verbose

        state = state_row(consumer_groups(broker, "--describe", "--state", "--group", group).stdout)
        assert (state["STATE"], state["#MEMBERS"], state["ASSIGNMENT-STRATEGY"]) == ("Stable", 1, "range"), state
        assert state["COORDINATOR"] == broker.bootstrap, state

        # A reset needs an inactive group.
        out = consumer_groups(broker, "--reset-offsets", "--group", group, "--topic", topic,
                              "--to-earliest", "--execute", check=False)
        assert "can only be reset if the group" in out.stdout + out.stderr, out.stdout + out.stderr
        assert committed(broker, group, topic, 3) == {0: 10, 1: 20, 2: -1}

        # A second member: the rebalance splits the three partitions between the two.
        b = _subscribed(broker, group, [topic], "cg-member-b")
        try:
            _poll_until_assigned([a, b], 3)
            members = wait_until("two members in --describe --members", lambda: (
                lambda m: m if len(m) == 2 else None)(
                table(consumer_groups(broker, "--describe", "--members", "--group", group).stdout)))
            assert sorted(m["CLIENT-ID"] for m in members) == ["cg-member-a", "cg-member-b"], members
            assert sorted(int(m["#PARTITIONS"]) for m in members) == [1, 2], members
            commit(b, [TopicPartition(topic, p, 5) for p in
                              sorted(tp.partition for tp in b.assignment())])
        finally:
            b.close()
    finally:
        a.close()

    # Without members the group is Empty; its offsets stay and lag is still reported.
    state = wait_until("the group to be Empty", lambda: (
        lambda s: s if s["STATE"] == "Empty" else None)(
        state_row(consumer_groups(broker, "--describe", "--state", "--group", group).stdout)))
    assert state["#MEMBERS"] == 0, state
    out = consumer_groups(broker, "--describe", "--group", group)
    assert f"Consumer group '{group}' has no active members." in out.stdout + out.stderr
    rows = table(out.stdout)
    offsets = committed(broker, group, topic, 3)
    assert {int(r["PARTITION"]): (int(r["CURRENT-OFFSET"]), int(r["LAG"])) for r in rows} == {
        p: (offsets[p], sizes[p] - offsets[p]) for p in range(3) if offsets[p] >= 0}, rows
    assert all(r["CONSUMER-ID"] == "-" for r in rows), rows


def _iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_reset_offsets_every_mode(broker):
    topic = harness.unique_topic("cg-reset")
    group = f"g-{topic}"
    per_partition = 20
    step_ms = 60_000
    rdk.create_topic(broker, topic, partitions=3)
    # Record i of each partition is stamped base + i minutes, all in the last half hour.
    base = int(time.time() * 1000) - per_partition * step_ms - 5 * step_ms
    stamps = [base + i * step_ms for i in range(per_partition)]
    p = rdk.Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
    for part in range(3):
        for i, ts in enumerate(stamps):
            p.produce(topic, value=f"{part}-{i}".encode(), partition=part, timestamp=ts)
    assert p.flush(60) == 0
    # Partition 0 starts at offset 4, so "earliest" differs from 0 there.
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    done = admin.delete_records([TopicPartition(topic, 0, 4)], request_timeout=60)
    for fut in done.values():
        fut.result(timeout=60)
    earliest = {0: 4, 1: 0, 2: 0}
    latest = {q: per_partition for q in range(3)}

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    commit(c, [TopicPartition(topic, q, 10) for q in range(3)])
    c.close()
    current = {q: 10 for q in range(3)}

    def reset(mode_args, expected, scope=("--topic", topic), verify_with_tool=False):
        nonlocal current
        args = ("--reset-offsets", "--group", group, *scope, *mode_args)
        dry = reset_plan(consumer_groups(broker, *args, "--dry-run").stdout)
        plan = {q: off for (t, q), off in dry.items() if t == topic}
        assert plan == expected, f"{mode_args} planned {plan}, expected {expected}"
        assert committed(broker, group, topic, 3) == current, f"--dry-run {mode_args} changed offsets"
        executed = reset_plan(consumer_groups(broker, *args, "--execute").stdout)
        assert executed == dry, f"{mode_args}: --execute {executed} differs from --dry-run {dry}"
        current = {**current, **expected}
        assert committed(broker, group, topic, 3) == current, mode_args
        if verify_with_tool:
            rows = table(consumer_groups(broker, "--describe", "--group", group).stdout)
            assert {int(r["PARTITION"]): int(r["CURRENT-OFFSET"]) for r in rows} == current, rows
            assert {int(r["PARTITION"]): int(r["LAG"]) for r in rows} == {
                q: latest[q] - current[q] for q in range(3)}, rows

    reset(("--to-earliest",), earliest, verify_with_tool=True)
    reset(("--to-latest",), latest)
    reset(("--to-offset", "7"), {0: 7, 1: 7, 2: 7}, verify_with_tool=True)
    # Out-of-range targets are clamped to the log's bounds.
    # Out-of-range targets are clamped to the log's bounds.
    reset(("--to-offset", "2"), {0: 4, 1: 2}, scope=("--topic", f"{topic}:0,1"))
    reset(("--shift-by", "-5"), {0: 4, 1: 0, 2: 2})
    reset(("--shift-by", "50"), latest)
    # The first offset whose timestamp is at or after the given time.
    reset(("--to-datetime", _iso(stamps[12] - step_ms // 2)), {0: 12, 1: 12, 2: 12}, verify_with_tool=True)
    reset(("--to-current",), dict(current), scope=("--all-topics",))

    # --by-duration counts back from when the tool runs: aim half a minute before record 10;
    # the bounds taken around the run allow for the time the tool takes to start.
    def first_at_or_after(ts):
        return next((i for i, s in enumerate(stamps) if s >= ts), per_partition)

    before = int(time.time() * 1000)
    seconds = (before - stamps[10]) // 1000 + 30
    args = ("--reset-offsets", "--group", group, "--topic", topic, "--by-duration", f"PT{seconds}S")
    dry = reset_plan(consumer_groups(broker, *args, "--dry-run").stdout)
    plan = reset_plan(consumer_groups(broker, *args, "--execute").stdout)
    after = int(time.time() * 1000)
    low = first_at_or_after(before - seconds * 1000)
    high = first_at_or_after(after - seconds * 1000)
    assert low == 10, (low, high)
    for q in range(3):
        assert low <= dry[(topic, q)] <= plan[(topic, q)] <= high, (dry, plan, low, high)
    assert len(set(plan.values())) == 1, plan
    assert committed(broker, group, topic, 3) == {q: plan[(topic, q)] for q in range(3)}


def test_delete_and_delete_offsets(broker):
    subscribed = harness.unique_topic("cg-del-sub")
    other = harness.unique_topic("cg-del-other")
    group = f"g-{subscribed}"
    for t in (subscribed, other):
        rdk.create_topic(broker, t, partitions=2)
        rdk.produce(broker, t, [(None, b"x", q) for q in range(2) for _ in range(5)])

    c = _subscribed(broker, group, [subscribed], "cg-del")
    try:
        _poll_until_assigned([c], 2)
        commit(c, [TopicPartition(t, q, 3) for t in (subscribed, other) for q in range(2)])
        assert committed(broker, group, other, 2) == {0: 3, 1: 3}

        # While a member is subscribed to a topic, its offsets cannot be deleted.
        out = consumer_groups(broker, "--delete-offsets", "--group", group, "--topic", subscribed, check=False)
        assert delete_offsets_status(out.stdout, subscribed) == {
            0: "GroupSubscribedToTopicException", 1: "GroupSubscribedToTopicException"}, out.stdout + out.stderr
        assert committed(broker, group, subscribed, 2) == {0: 3, 1: 3}

        # Offsets of a topic nobody subscribes to can.
        out = consumer_groups(broker, "--delete-offsets", "--group", group, "--topic", other)
        assert delete_offsets_status(out.stdout, other) == {0: "Successful", 1: "Successful"}, out.stdout
        assert committed(broker, group, other, 2) == {0: -1, 1: -1}

        # A group with members cannot be deleted.
        out = consumer_groups(broker, "--delete", "--group", group, check=False)
        assert "could not be deleted" in out.stdout + out.stderr, out.stdout + out.stderr
        assert "not empty" in (out.stdout + out.stderr).lower(), out.stdout + out.stderr
        assert group in consumer_groups(broker, "--list").stdout.split()
    finally:
        c.close()

    wait_until("the group to be Empty", lambda: state_row(
        consumer_groups(broker, "--describe", "--state", "--group", group).stdout)["STATE"] == "Empty")
    out = consumer_groups(broker, "--delete-offsets", "--group", group, "--topic", f"{subscribed}:1")
    assert delete_offsets_status(out.stdout, subscribed) == {1: "Successful"}, out.stdout
    assert committed(broker, group, subscribed, 2) == {0: 3, 1: -1}

    out = consumer_groups(broker, "--delete", "--group", group)
    assert f"Deletion of requested consumer groups ('{group}') was successful." in out.stdout, out.stdout
    assert group not in consumer_groups(broker, "--list").stdout.split()
    assert committed(broker, group, subscribed, 2) == {0: -1, 1: -1}
    out = consumer_groups(broker, "--describe", "--group", group, check=False)
    assert f"Consumer group '{group}' does not exist." in out.stdout + out.stderr, out.stdout + out.stderr
    out = consumer_groups(broker, "--delete", "--group", group, check=False)
    assert "GroupIdNotFoundException" in out.stdout + out.stderr, out.stdout + out.stderr
