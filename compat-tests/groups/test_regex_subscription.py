"""KIP-848 regex subscriptions (ConsumerGroupHeartbeat v1's SubscribedTopicRegex), resolved by the
broker: Kafka 4.4 with RE2/J, Odradek with od_regex. Run against Kafka 4.4.0 (the reference for
this protocol version) and Odradek, both serving the consumer protocol.

A Java 4.x member subscribed with subscribe(SubscriptionPattern) and a librdkafka member
subscribed with "^prefix.*" (group.protocol=consumer sends the regex to the broker) each consume
every record of the matching topics, pick up a matching topic created while they run, and never
get a partition of a topic that does not match (a partial match is no match: matches(), not
find()). A pattern RE2/J refuses makes the Java client's poll() throw InvalidRegularExpression
with the broker's message."""

import time

import pytest

import harness
import membership

SETTLE_SECONDS = 120
RECORDS = 20


class RegexMember(membership.Member):
    """A RegexMember.java process (see there); events parsed as membership.Member does."""

    def __init__(self, broker, group, pattern, name, log_dir):
        self._start(membership.java_member_command("RegexMember", "--bootstrap", broker.bootstrap, "--group", group,
                                                   "--pattern", pattern, "--name", name), name, log_dir)

    def counts(self):
        total = {}
        for ev in self.snapshot():
            if ev["ev"] == "records":
                for topic, n in ev["counts"].items():
                    total[topic] = total.get(topic, 0) + n
        return total

    def ever_assigned(self):
        return {p for ev in self.snapshot() if ev["ev"] == "assigned" for p in ev["parts"]}

    def error(self):
        return next((ev for ev in self.snapshot() if ev["ev"] == "error"), None)


def _create_topics(broker, spec):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic(t, n, 1) for t, n in spec.items()]).values():
        f.result(60)


def _produce(broker, topics):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    for t in topics:
        for i in range(RECORDS):
            p.produce(t, value=f"{t}-{i}".encode())
    assert p.flush(60) == 0, "records not delivered"


def _wait(what, cond, member=None, seconds=SETTLE_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return
        if member is not None and member.proc.poll() is not None and not cond():
            break
        time.sleep(0.5)
    detail = ""
    if member is not None:
        detail = f"\nevents: {member.snapshot()[-10:]}\n--- stderr\n{member.stderr_tail(20)}"
    pytest.fail(f"{what}{detail}", pytrace=False)


def _topics(prefix):
    return {"a": f"{prefix}-orders-a", "b": f"{prefix}-orders-b", "c": f"{prefix}-orders-c",
            "other": f"{prefix}-payments", "partial": f"{prefix}-orders"}


@pytest.mark.kip848
def test_java_subscription_pattern(kip848_v1_broker, tmp_path):
    broker = kip848_v1_broker
    prefix = harness.unique_topic("rx")
    t = _topics(prefix)
    # "<prefix>-orders" matches the pattern only partially: it must stay unassigned.
    _create_topics(broker, {t["a"]: 2, t["b"]: 1, t["other"]: 1, t["partial"]: 1})
    _produce(broker, [t["a"], t["b"], t["other"], t["partial"]])
    member = RegexMember(broker, harness.unique_topic("rx-group"), f"{prefix}-orders-.*", "j1", tmp_path)
    try:
        _wait("the member consumes both matching topics",
              lambda: member.counts().get(t["a"], 0) >= RECORDS and member.counts().get(t["b"], 0) >= RECORDS,
              member)
        assert member.owned() == {f"{t['a']}-0", f"{t['a']}-1", f"{t['b']}-0"}
        # A matching topic created now is picked up (Kafka resolves regexes again when the
        # metadata has new topics, at most every 10 s).
        _create_topics(broker, {t["c"]: 1})
        _produce(broker, [t["c"]])
        _wait("the member picks up the new matching topic",
              lambda: member.counts().get(t["c"], 0) >= RECORDS, member)
        assert f"{t['c']}-0" in member.owned()
        counts = member.counts()
        assert counts.get(t["other"], 0) == 0 and counts.get(t["partial"], 0) == 0, counts
        assert not {f"{t['other']}-0", f"{t['partial']}-0"} & member.ever_assigned(), member.ever_assigned()
        assert member.error() is None, member.error()
    finally:
        member.stop()


@pytest.mark.kip848
@pytest.mark.parametrize("pattern, description", [
    ("rx-orders-(", "missing closing )"),
    # java.util.regex takes these; RE2/J refuses them.
    ("(?=rx).*", "invalid or unsupported Perl syntax"),
    ("rx-orders\\Z", "invalid escape sequence"),
])
def test_java_invalid_pattern(kip848_v1_broker, tmp_path, pattern, description):
    broker = kip848_v1_broker
    member = RegexMember(broker, harness.unique_topic("rx-bad"), pattern, "bad", tmp_path)
    try:
        _wait("poll() throws", lambda: member.error() is not None, member, seconds=60)
    finally:
        member.stop()
    err = member.error()
    assert err["class"] == "org.apache.kafka.common.errors.InvalidRegularExpression", err
    # The client puts its own sentence before the broker's error message.
    assert err["msg"] == ("Invalid RE2J SubscriptionPattern provided in the call to subscribe. "
                          f"SubscribedTopicRegex `{pattern}` is not a valid regular expression: {description}."), err
    assert not member.ever_assigned()


@pytest.mark.kip848
def test_librdkafka_regex(kip848_v1_broker):
    broker = kip848_v1_broker
    from confluent_kafka import Consumer
    prefix = harness.unique_topic("rxr")
    t = _topics(prefix)
    _create_topics(broker, {t["a"]: 2, t["other"]: 1, t["partial"]: 1})
    _produce(broker, [t["a"], t["other"], t["partial"]])
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": harness.unique_topic("rxr-group"),
                  "group.protocol": "consumer", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "topic.metadata.refresh.interval.ms": 1000})
    counts = {}
    try:
        c.subscribe([f"^{prefix}-orders-.*"])
        created = False
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and m.error() is None:
                counts[m.topic()] = counts.get(m.topic(), 0) + 1
            if not created and counts.get(t["a"], 0) >= RECORDS:
                _create_topics(broker, {t["c"]: 1})
                _produce(broker, [t["c"]])
                created = True
            if counts.get(t["c"], 0) >= RECORDS:
                break
        assert counts.get(t["a"], 0) == RECORDS and counts.get(t["c"], 0) == RECORDS, counts
        assert counts.get(t["other"], 0) == 0 and counts.get(t["partial"], 0) == 0, counts
        assert {tp.topic for tp in c.assignment()} == {t["a"], t["c"]}
    finally:
        c.close()

