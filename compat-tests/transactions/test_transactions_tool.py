"""kafka-transactions (Kafka 3.9.2's TransactionsCommand) over transactions that librdkafka
producers committed, aborted and left open: list, describe, describe-producers, find-hanging
and abort; and what read_committed and read_uncommitted readers see before and after."""

import time

import pytest

from confluent_kafka import Consumer, IsolationLevel, Producer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.admin import AdminClient, OffsetSpec

import harness
import rdk

TRANSACTIONS = "org.apache.kafka.tools.TransactionsCommand"


def transactions(broker, *args, check=True):
    return harness.kafka_tool(TRANSACTIONS, "--bootstrap-server", broker.bootstrap, *args, check=check)


def tab_table(stdout):
    """The tool's tables: a header line and rows, cells separated by tabs and padded."""
    lines = [ln for ln in stdout.splitlines() if ln.strip()]
    if not lines:
        return []
    header = [h.strip() for h in lines[0].split("\t") if h.strip()]
    return [dict(zip(header, (c.strip() for c in ln.split("\t")))) for ln in lines[1:]]


# Longer than the scenario can take on a loaded machine: a coordinator that times the open
# transaction out writes its own abort marker, and the operator's abort below would add a second.
TXN_TIMEOUT_MS = 300000


def _transactional(broker, txn_id):
    p = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": txn_id, "linger.ms": 5,
                  "transaction.timeout.ms": TXN_TIMEOUT_MS})
    p.init_transactions(60)
    return p


def _read(broker, topic, partitions, isolation):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"reader-{topic}-{isolation}",
                  "isolation.level": isolation, "enable.auto.commit": False,
                  "enable.partition.eof": True})
    got = {p: [] for p in range(partitions)}
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        at_end = set()
        deadline = time.monotonic() + 60
        while len(at_end) < partitions and time.monotonic() < deadline:
            for m in c.consume(num_messages=500, timeout=0.5):
                if m.error() is None:
                    got[m.partition()].append(m.value())
                elif m.error().code() == -191:  # _PARTITION_EOF
                    at_end.add(m.partition())
        assert len(at_end) == partitions, f"{isolation} reader did not reach the end of {topic}"
        return got
    finally:
        c.close()


def _last_stable_offsets(broker, topic, partitions):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    fut = admin.list_offsets({TopicPartition(topic, p): OffsetSpec.latest() for p in range(partitions)},
                             isolation_level=IsolationLevel.READ_COMMITTED, request_timeout=60)
    return {tp.partition: f.result(timeout=60).offset for tp, f in fut.items()}


def test_transactions_tool(broker):
    topic = harness.unique_topic("txn-tool")
    rdk.create_topic(broker, topic, partitions=2)
    committed_id, aborted_id, open_id = (f"{n}-{topic}" for n in ("committed", "aborted", "open"))

    pc = _transactional(broker, committed_id)
    pc.begin_transaction()
    for i in range(5):
        pc.produce(topic, value=f"c{i}".encode(), partition=0)
    pc.commit_transaction(60)
    pa = _transactional(broker, aborted_id)
    pa.begin_transaction()
    for i in range(4):
        pa.produce(topic, value=f"a{i}".encode(), partition=0)
    pa.flush(60)
    pa.abort_transaction(60)
    po = _transactional(broker, open_id)
    po.begin_transaction()
    for i in range(3):
        po.produce(topic, value=f"o{i}".encode(), partition=1)
    assert po.flush(60) == 0

    listed = {r["TransactionalId"]: r for r in tab_table(transactions(broker, "list").stdout)}
    states = {t: listed[t]["TransactionState"] for t in (committed_id, aborted_id, open_id) if t in listed}
    assert states == {committed_id: "CompleteCommit", aborted_id: "CompleteAbort", open_id: "Ongoing"}, listed
    pids = {t: int(listed[t]["ProducerId"]) for t in states}
    assert len(set(pids.values())) == 3, pids

    [desc] = tab_table(transactions(broker, "describe", "--transactional-id", open_id).stdout)
    assert (desc["TransactionalId"], int(desc["ProducerId"]), desc["TransactionState"], desc["TopicPartitions"]) == (
        open_id, pids[open_id], "Ongoing", f"{topic}-1"), desc
    assert int(desc["TransactionTimeoutMs"]) == TXN_TIMEOUT_MS and int(desc["TransactionDurationMs"]) >= 0, desc
    [desc] = tab_table(transactions(broker, "describe", "--transactional-id", committed_id).stdout)
    assert (desc["TransactionState"], desc["TopicPartitions"]) == ("CompleteCommit", ""), desc
    missing = transactions(broker, "describe", "--transactional-id", f"missing-{topic}", check=False)
    assert missing.returncode != 0 and "could not be found" in missing.stdout + missing.stderr, missing.stderr

    producers = {int(r["ProducerId"]): r for r in
                 tab_table(transactions(broker, "describe-producers", "--topic", topic, "--partition", "0").stdout)}
    assert sorted(producers) == sorted([pids[committed_id], pids[aborted_id]]), producers
    assert int(producers[pids[committed_id]]["LastSequence"]) == 4
    assert int(producers[pids[aborted_id]]["LastSequence"]) == 3
    assert all(r["CurrentTransactionStartOffset"] == "None" for r in producers.values()), producers
    [open_state] = tab_table(transactions(broker, "describe-producers", "--topic", topic, "--partition", "1").stdout)
    assert (int(open_state["ProducerId"]), int(open_state["LastSequence"]),
            open_state["CurrentTransactionStartOffset"]) == (pids[open_id], 2, "0"), open_state

    # read_committed sees the committed transaction only, and nothing past the open one.
    assert _read(broker, topic, 2, "read_committed") == {0: [f"c{i}".encode() for i in range(5)], 1: []}
    uncommitted = _read(broker, topic, 2, "read_uncommitted")
    assert sorted(uncommitted[0]) == sorted([f"c{i}".encode() for i in range(5)] + [f"a{i}".encode() for i in range(4)])
    assert uncommitted[1] == [f"o{i}".encode() for i in range(3)]
    # Partition 0: 5 + commit marker + 4 + abort marker; partition 1 is held at the open transaction.
    assert _last_stable_offsets(broker, topic, 2) == {0: 11, 1: 0}

    # The open transaction is known to its coordinator, so it is not hanging, even when every
    # open transaction is old enough to be looked at.
    for scope in (("--broker-id", "1", "--max-transaction-timeout", "0"), ("--topic", topic)):
        assert tab_table(transactions(broker, "find-hanging", *scope).stdout) == [], scope

    # Abort it on its partition, as an operator would a hanging one.
    transactions(broker, "abort", "--topic", topic, "--partition", "1", "--start-offset", "0")
    [after] = tab_table(transactions(broker, "describe-producers", "--topic", topic, "--partition", "1").stdout)
    assert (int(after["ProducerId"]), after["CurrentTransactionStartOffset"]) == (pids[open_id], "None"), after
    assert _last_stable_offsets(broker, topic, 2) == {0: 11, 1: 4}
    assert _read(broker, topic, 2, "read_committed")[1] == []
    assert _read(broker, topic, 2, "read_uncommitted")[1] == [f"o{i}".encode() for i in range(3)]


# Small producer.id.expiration.ms and check interval, so a producer expires within seconds; not
# smaller, because the first describe-producers (a JVM start, slower while other compat tests run
# beside this one) must still see the producer.
EXPIRY_PROPERTIES = {
    "producer.id.expiration.ms": "10000",
    "producer.id.expiration.check.interval.ms": "500",
}


@pytest.fixture
def expiring_broker(broker, scratch_root):
    """A broker of the same kind as `broker` with EXPIRY_PROPERTIES, for one test only."""
    with harness.broker_like(broker, scratch_root, extra_properties=EXPIRY_PROPERTIES) as b:
        yield b


@pytest.fixture
def checking_broker(broker, scratch_root):
    """A broker of the same kind as `broker` that checks for idle producers every 500 ms but keeps
    the default producer.id.expiration.ms (one day), for one test only."""
    with harness.broker_like(broker, scratch_root,
                             extra_properties={"producer.id.expiration.check.interval.ms": "500"}) as b:
        yield b


def _producers(broker, topic):
    out = transactions(broker, "describe-producers", "--topic", topic, "--partition", "0").stdout
    return {int(r["ProducerId"]): r for r in tab_table(out)}


def _produce_idempotent(p, topic, values):
    errors = []
    for v in values:
        p.produce(topic, value=v, partition=0, on_delivery=lambda err, _m: errors.append(err) if err else None)
    assert p.flush(60) == 0
    assert errors == [], errors


def test_idle_producer_expires(expiring_broker):
    broker = expiring_broker
    topic = harness.unique_topic("pid-expiry")
    rdk.create_topic(broker, topic, partitions=1)
    p = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True, "linger.ms": 5})
    _produce_idempotent(p, topic, [f"v{i}".encode() for i in range(3)])
    before = _producers(broker, topic)
    assert len(before) == 1 and int(next(iter(before.values()))["LastSequence"]) == 2, before
    [pid] = before

    # Idle for producer.id.expiration.ms, the next check forgets it.
    deadline = time.monotonic() + 60
    while _producers(broker, topic) and time.monotonic() < deadline:
        time.sleep(1)
    assert _producers(broker, topic) == {}, "the idle producer was never expired"

    # Its next batch (sequence 3) is taken as an unknown producer's: accepted, and known again.
    _produce_idempotent(p, topic, [b"v3"])
    after = _producers(broker, topic)
    assert pid in after and int(after[pid]["LastSequence"]) == 3, after


def test_expiration_changed_dynamically(checking_broker):
    """producer.id.expiration.ms is a dynamic broker config: lowered cluster-wide while the broker
    runs, the next checks forget a producer idle for longer."""
    broker = checking_broker
    topic = harness.unique_topic("pid-dyn-expiry")
    rdk.create_topic(broker, topic, partitions=1)
    p = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True, "linger.ms": 5})
    _produce_idempotent(p, topic, [b"v0", b"v1"])
    [pid] = _producers(broker, topic)
    time.sleep(5)  # ten checks: under the default expiration the producer stays
    assert pid in _producers(broker, topic)

    harness.kafka_tool("kafka.admin.ConfigCommand", "--bootstrap-server", broker.bootstrap,
                       "--entity-type", "brokers", "--entity-default", "--alter",
                       "--add-config", "producer.id.expiration.ms=3000")
    deadline = time.monotonic() + 60
    while _producers(broker, topic) and time.monotonic() < deadline:
        time.sleep(1)
    assert _producers(broker, topic) == {}, "the lowered producer.id.expiration.ms was not honoured"
