"""The classic admin APIs on a KIP-848 consumer group (one made by ConsumerGroupHeartbeat), while
it has a member and once the member has left: DescribeGroups in every version (Kafka 3.9's new
coordinator describes only classic groups, so a consumer group reads as Dead, with no error and
no members), ListGroups in every version with the state (v4) and type (v5) filters,
FindCoordinator, OffsetFetch, and kafka-consumer-groups --list / --describe (which read a
consumer group through ConsumerGroupDescribe), and librdkafka's admin describe and list (the
same). Requests go over a raw socket (wire.py)."""

import threading

import pytest

import harness
import rdk
from groups_lib import consumer_groups, state_row, table, wait_until
from wire import (Connection, NONE, consumer_group_heartbeat, describe_groups, find_coordinator, list_groups,
                  offset_commit_flexible, offset_fetch)

# DescribeGroups v3+ with include_authorized_operations false: Kafka's "not asked" marker.
AUTHORIZED_OPERATIONS_OMITTED = -2147483648
CLIENT_ID = "odradek-groups-wire"  # wire.py's request header


class Heartbeats:
    """Keeps a KIP-848 member alive from its own connection (the broker expires it after its
    session, 6 s in the kip848 fixture, while a tool runs); errors are kept for the test."""

    def __init__(self, broker, group, member_id, epoch):
        self.conn = Connection(broker.host, broker.port)
        self.group, self.member_id, self.epoch = group, member_id, epoch
        self.errors, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.wait(1.0):
            hb = consumer_group_heartbeat(self.conn, self.group, self.member_id, self.epoch)
            if hb["error"] != NONE:
                self.errors.append(hb)
                return
            self.epoch = hb["epoch"]

    def close(self):
        self.stop.set()
        self.thread.join(30)
        self.conn.close()
        assert not self.errors, self.errors


def _describe_expected(group, version):
    return [{"error": NONE, "group_id": group, "state": "Dead", "protocol_type": "", "protocol": "",
             "members": [], "authorized_operations": AUTHORIZED_OPERATIONS_OMITTED if version >= 3 else None}]


def _check_wire(conn, broker, group, topic, state):
    """What the classic APIs answer for the consumer group, now in `state`."""
    err, _node, host, port = find_coordinator(conn, group)
    assert (err, host, port) == (NONE, broker.host, broker.port)
    assert offset_fetch(conn, group, [(topic, 0), (topic, 1)]) == (NONE, {(topic, 0): (3, NONE),
                                                                         (topic, 1): (-1, NONE)})

    described = {v: describe_groups(conn, v, [group]) for v in range(6)}
    assert described == {v: _describe_expected(group, v) for v in range(6)}

    listed = {v: list_groups(conn, v) for v in range(6)}
    for v, (err, groups) in listed.items():
        assert err == NONE, (v, err)
        assert groups.get(group) == {"protocol_type": "consumer", "state": state if v >= 4 else None,
                                     "type": "consumer" if v >= 5 else None}, (v, groups.get(group))

    # Filters: states match case-insensitively and trimmed (the new coordinator's reading, on
    # with the consumer protocol); types case-insensitively but untrimmed.
    other = "Empty" if state == "Stable" else "Stable"
    filters = {
        "state": ([state], []), "state lower": ([state.lower()], []), "state padded": ([f" {state.lower()}\t"], []),
        "other state": ([other], []), "Dead": (["Dead"], []), "other states": (["Assigning", "Reconciling"], []),
        "both states": ([other, state.upper()], []),
        "type consumer": ([], ["consumer"]), "type Consumer": ([], ["Consumer"]),
        "type padded": ([], [" consumer"]), "type classic": ([], ["classic"]), "type unknown": ([], ["bogus"]),
        "types classic and consumer": ([], ["classic", "CONSUMER"]),
        "state and type": ([state], ["consumer"]), "state, other type": ([state], ["classic"]),
        "other state, type": ([other], ["consumer"]),
    }
    got = {}
    for name, (states, types) in filters.items():
        err, groups = list_groups(conn, 5, states=states, types=types)
        got[name] = (err, group in groups)
    err, groups = list_groups(conn, 4, states=[f" {state.lower()} "])
    got["v4 state padded"] = (err, group in groups)
    listed_by = {"state", "state lower", "state padded", "both states", "type consumer", "type Consumer",
                 "types classic and consumer", "state and type", "v4 state padded"}
    assert got == {name: (NONE, name in listed_by) for name in got}


def _librdkafka_admin_view(broker, group):
    """describe_consumer_groups and list_consumer_groups of confluent-kafka (librdkafka)."""
    a = rdk.admin(broker)
    d = a.describe_consumer_groups([group])[group].result(60)
    listed = a.list_consumer_groups().result(60)
    return {"describe": (d.state.name, d.type.name, d.partition_assignor, d.is_simple_consumer_group,
                         sorted((m.member_id, m.client_id, m.host,
                                 sorted((tp.topic, tp.partition) for tp in m.assignment.topic_partitions))
                                for m in d.members)),
            "list": [(g.state.name, g.type.name, g.is_simple_consumer_group) for g in listed.valid
                     if g.group_id == group],
            "list errors": [str(e) for e in listed.errors]}


@pytest.mark.kip848
def test_classic_apis_on_consumer_group(kip848_broker):
    b = kip848_broker
    topic = harness.unique_topic("classic-on-cg")
    group = f"g-{topic}"
    rdk.create_topic(b, topic, partitions=2)
    rdk.produce(b, topic, [(None, f"r{i}".encode(), 0) for i in range(5)])

    with Connection(b.host, b.port) as c:
        wait_until(f"the coordinator of {group}", lambda: find_coordinator(c, group)[0] == NONE
                   and offset_fetch(c, group, [])[0] == NONE)
        hb = consumer_group_heartbeat(c, group, "", 0, topics=[topic], owned=[])
        assert hb["error"] == NONE and hb["member_id"] and hb["epoch"] > 0, hb
        me, epoch = hb["member_id"], hb["epoch"]
        assert offset_commit_flexible(c, 9, group, epoch, me, {(topic, 0): 3}) == {(topic, 0): NONE}
        beats = Heartbeats(b, group, me, epoch)
        try:
            wait_until("the group to be Stable",
                       lambda: list_groups(c, 4)[1].get(group, {}).get("state") == "Stable")
            _check_wire(c, b, group, topic, "Stable")

            assert {"GROUP": group, "STATE": "Stable"} in table(consumer_groups(b, "--list", "--state").stdout)
            assert {"GROUP": group, "TYPE": "Consumer"} in table(consumer_groups(b, "--list", "--type").stdout)
            state = state_row(consumer_groups(b, "--describe", "--state", "--group", group).stdout)
            assert (state["STATE"], state["#MEMBERS"], state["ASSIGNMENT-STRATEGY"], state["COORDINATOR"]) == (
                "Stable", 1, "uniform", b.bootstrap), state
            rows = table(consumer_groups(b, "--describe", "--group", group).stdout)
            assert sorted((r["TOPIC"], r["PARTITION"], r["CURRENT-OFFSET"], r["LOG-END-OFFSET"], r["LAG"],
                           r["CONSUMER-ID"], r["HOST"], r["CLIENT-ID"]) for r in rows) == [
                (topic, "0", "3", "5", "2", me, "/127.0.0.1", CLIENT_ID),
                (topic, "1", "-", "0", "-", me, "/127.0.0.1", CLIENT_ID)], rows
            members = table(consumer_groups(b, "--describe", "--members", "--group", group).stdout)
            assert [(m["CONSUMER-ID"], m["CLIENT-ID"], m["#PARTITIONS"]) for m in members] == [
                (me, CLIENT_ID, "2")], members
            assert _librdkafka_admin_view(b, group) == {
                "describe": ("STABLE", "CONSUMER", "uniform", False,
                             [(me, CLIENT_ID, "/127.0.0.1", [(topic, 0), (topic, 1)])]),
                "list": [("STABLE", "CONSUMER", False)], "list errors": []}
        finally:
            beats.close()

        hb = consumer_group_heartbeat(c, group, me, -1)
        assert hb["error"] == NONE and hb["epoch"] == -1, hb
        _check_wire(c, b, group, topic, "Empty")
        assert _librdkafka_admin_view(b, group) == {
            "describe": ("EMPTY", "CONSUMER", "uniform", False, []),
            "list": [("EMPTY", "CONSUMER", False)], "list errors": []}

    assert {"GROUP": group, "STATE": "Empty"} in table(consumer_groups(b, "--list", "--state").stdout)
    state = state_row(consumer_groups(b, "--describe", "--state", "--group", group).stdout)
    assert (state["STATE"], state["#MEMBERS"]) == ("Empty", 0), state
    out = consumer_groups(b, "--describe", "--group", group)
    assert f"Consumer group '{group}' has no active members." in out.stdout + out.stderr
    assert [(r["TOPIC"], r["PARTITION"], r["CURRENT-OFFSET"], r["LAG"], r["CONSUMER-ID"])
            for r in table(out.stdout)] == [(topic, "0", "3", "2", "-")], out.stdout


@pytest.mark.kip848
@pytest.mark.parametrize("coordinator", ["classic only", "with the consumer protocol"])
def test_list_groups_state_filter_of_classic_group(request, coordinator, broker):
    """Kafka 3.9 trims ListGroups state filters only in its new coordinator, which runs once the
    consumer protocol is on; a classic group (here one an admin commit made) is listed by a
    padded filter there and not on a broker without it. Type filters are never trimmed."""
    # Asked for here, so that the classic case does not depend on the KIP-848 broker.
    b = request.getfixturevalue("kip848_broker") if coordinator == "with the consumer protocol" else broker
    if isinstance(b, harness.BrokerUnavailable):
        pytest.fail(b.reason, pytrace=False)
    topic = harness.unique_topic("list-trim")
    group = f"g-{topic}"
    rdk.create_topic(b, topic, partitions=1)
    with Connection(b.host, b.port) as c:
        wait_until(f"the coordinator of {group}", lambda: find_coordinator(c, group)[0] == NONE
                   and offset_fetch(c, group, [])[0] == NONE)
        assert offset_commit_flexible(c, 8, group, -1, "", {(topic, 0): 1}) == {(topic, 0): NONE}
        got = {}
        for states, types in ((["empty"], []), ([" empty "], []), (["\tEmpty"], []), ([], ["Classic"]),
                              ([], [" classic "])):
            err, groups = list_groups(c, 5, states=states, types=types)
            got[(tuple(states), tuple(types))] = (err, groups.get(group))
    listed = (NONE, {"protocol_type": "", "state": "Empty", "type": "classic"})
    trimmed = listed if coordinator == "with the consumer protocol" else (NONE, None)
    assert got == {(("empty",), ()): listed, ((" empty ",), ()): trimmed, (("\tEmpty",), ()): trimmed,
                   ((), ("Classic",)): listed, ((), (" classic ",)): (NONE, None)}
