"""Transactions: librdkafka's transactional producer commits and aborts; read_committed consumers
see only committed records and stop at the last stable offset while a transaction is open;
read_uncommitted ones see everything; Kafka's TransactionsCommand lists, describes and aborts."""

import os
import shutil
import subprocess
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition, OFFSET_BEGINNING

import harness
import rdk

TXNS = "org.apache.kafka.tools.TransactionsCommand"
EOF_CODE = KafkaError._PARTITION_EOF
FENCED_CODES = (KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH)


def txn_producer(broker, txn_id, **conf):
    p = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": txn_id, "linger.ms": 5,
                  **conf})
    p.init_transactions(rdk.TIMEOUT)
    return p


def send_txn(p, topic, values, partitions, end=None):
    """Sends values round-robin over partitions in one transaction; end is 'commit', 'abort' or
    None (left open, but flushed so the records are in the log)."""
    p.begin_transaction()
    for i, v in enumerate(values):
        p.produce(topic, value=v.encode(), partition=i % partitions)
    p.flush(rdk.TIMEOUT)
    if end == "commit":
        p.commit_transaction(rdk.TIMEOUT)
    elif end == "abort":
        p.abort_transaction(rdk.TIMEOUT)


def read_to_end(broker, topic, partitions, isolation):
    """Everything a consumer with this isolation level gets up to the end it is allowed to see
    (end of partition events for every partition); values in order per partition."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": harness.unique_topic("txn-reader"),
                  "isolation.level": isolation, "enable.auto.commit": False,
                  "enable.partition.eof": True})
    try:
        c.assign([TopicPartition(topic, q, OFFSET_BEGINNING) for q in range(partitions)])
        got = {q: [] for q in range(partitions)}
        eof = set()
        deadline = time.monotonic() + rdk.TIMEOUT
        while len(eof) < partitions and time.monotonic() < deadline:
            for m in c.consume(num_messages=500, timeout=0.5):
                if m.error() is not None:
                    assert m.error().code() == EOF_CODE, f"consume error: {m.error()}"
                    eof.add(m.partition())
                    continue
                got[m.partition()].append(m.value().decode())
        assert len(eof) == partitions, f"no end of partition within {rdk.TIMEOUT}s: {eof}"
        return got
    finally:
        c.close()


def per_partition(values, partitions):
    return {q: values[q::partitions] for q in range(partitions)}


def merge(*dicts):
    out = {}
    for d in dicts:
        for q, vs in d.items():
            out.setdefault(q, []).extend(vs)
    return out


def test_rdk_commit_abort_and_isolation(broker):
    partitions = 2
    topic = harness.unique_topic("txn-rdk")
    rdk.create_topic(broker, topic, partitions)
    p = txn_producer(broker, harness.unique_topic("txn-rdk-id"))
    first = [f"c1-{i}" for i in range(20)]
    aborted = [f"a-{i}" for i in range(20)]
    second = [f"c2-{i}" for i in range(6)]
    send_txn(p, topic, first, partitions, "commit")
    send_txn(p, topic, aborted, partitions, "abort")
    send_txn(p, topic, second, partitions, "commit")

    committed = merge(per_partition(first, partitions), per_partition(second, partitions))
    assert read_to_end(broker, topic, partitions, "read_committed") == committed
    everything = merge(per_partition(first, partitions), per_partition(aborted, partitions),
                       per_partition(second, partitions))
    assert read_to_end(broker, topic, partitions, "read_uncommitted") == everything

    # An open transaction holds read_committed back at its first offset, even for a later
    # transaction of another producer that has committed.
    opened = [f"open-{i}" for i in range(4)]
    send_txn(p, topic, opened, partitions, None)
    other = txn_producer(broker, harness.unique_topic("txn-rdk-other"))
    later = [f"later-{i}" for i in range(4)]
    send_txn(other, topic, later, partitions, "commit")
    assert read_to_end(broker, topic, partitions, "read_committed") == committed
    assert read_to_end(broker, topic, partitions, "read_uncommitted") == \
        merge(everything, per_partition(opened, partitions), per_partition(later, partitions))

    p.abort_transaction(rdk.TIMEOUT)
    assert read_to_end(broker, topic, partitions, "read_committed") == \
        merge(committed, per_partition(later, partitions))


def test_rdk_new_producer_fences_and_aborts_old(broker):
    topic = harness.unique_topic("txn-fence")
    rdk.create_topic(broker, topic, 1)
    txn_id = harness.unique_topic("txn-fence-id")
    old = txn_producer(broker, txn_id)
    send_txn(old, topic, ["zombie-0", "zombie-1"], 1, None)
    # A second producer with the same id aborts the open transaction and fences the first.
    new = txn_producer(broker, txn_id)
    send_txn(new, topic, ["fresh-0"], 1, "commit")
    assert read_to_end(broker, topic, 1, "read_committed") == {0: ["fresh-0"]}
    # The first producer cannot finish its transaction: it has been fenced.
    error = None
    try:
        old.produce(topic, value=b"zombie-2", partition=0)
        old.commit_transaction(rdk.TIMEOUT)
    except KafkaException as e:
        error = e.args[0]
    assert error is not None, "the old producer could still commit"
    assert error.fatal() or error.code() in FENCED_CODES, f"not fenced: {error}"
    assert read_to_end(broker, topic, 1, "read_committed") == {0: ["fresh-0"]}


def tool(broker, *args, check=True):
    return harness.kafka_tool(TXNS, "--bootstrap-server", broker.bootstrap, *args, check=check)


def test_transactions_command(broker):
    topic = harness.unique_topic("txn-tool")
    rdk.create_topic(broker, topic, 1)
    txn_id = harness.unique_topic("txn-tool-id")
    p = txn_producer(broker, txn_id)
    send_txn(p, topic, ["one", "two"], 1, "commit")
    send_txn(p, topic, ["open-0", "open-1", "open-2"], 1, None)

    listed = tool(broker, "list").stdout
    row = next((l for l in listed.splitlines() if l.split() and l.split()[0] == txn_id), None)
    assert row is not None, listed
    assert "Ongoing" in row

    described = tool(broker, "describe", "--transactional-id", txn_id).stdout
    assert "Ongoing" in described and f"{topic}-0" in described, described

    producers = tool(broker, "describe-producers", "--topic", topic, "--partition", "0").stdout
    lines = [l.split() for l in producers.splitlines()[1:] if l.strip()]
    assert len(lines) == 1, producers
    # Columns: ProducerId ProducerEpoch LatestCoordinatorEpoch LastSequence LastTimestamp
    # CurrentTransactionStartOffset; the open transaction starts after the two committed
    # records and their marker.
    assert lines[0][-1] == "3", producers

    hanging = tool(broker, "find-hanging", "--broker-id", "1").stdout
    assert txn_id not in hanging and "Ongoing" not in hanging, hanging

    # Abort the open transaction from the partition side, as an operator would a hanging one.
    tool(broker, "abort", "--topic", topic, "--partition", "0", "--start-offset", "3")
    assert read_to_end(broker, topic, 1, "read_committed") == {0: ["one", "two"]}
    producers = tool(broker, "describe-producers", "--topic", topic, "--partition", "0").stdout
    lines = [l.split() for l in producers.splitlines()[1:] if l.strip()]
    assert lines and lines[0][-1] == "None", producers


def test_java_transactions(broker):
    """kafka-clients 4.x: commit, abort, commit; isolation levels; fencing (TransactionsRoundTrip)."""
    target = harness.JAVA_DIR / "target"
    jar = target / "clients-roundtrip.jar"
    assert jar.exists(), f"{jar} missing: run setup.sh"
    java = os.environ.get("JAVA") or shutil.which("java")
    out = subprocess.run([java, "-Xmx512m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                          "-cp", f"{jar}:{target / 'lib'}/*", "dev.odradek.compat.TransactionsRoundTrip",
                          broker.bootstrap, harness.unique_topic("txn-java"),
                          harness.unique_topic("txn-java-id")],
                          capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr[-4000:]
    assert out.stdout.startswith("ok: 75 committed of 125"), out.stdout


def committed_offset(broker, group, topic):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group,
                  "enable.auto.commit": False, "isolation.level": "read_committed"})
    try:
        return c.committed([TopicPartition(topic, 0)], timeout=rdk.TIMEOUT)[0].offset
    finally:
        c.close()


def test_rdk_offsets_in_transaction(broker):
    """send_offsets_to_transaction (AddOffsetsToTxn, TxnOffsetCommit): the group's offset moves
    when the transaction commits and not when it aborts."""
    source, sink = harness.unique_topic("txn-offs-in"), harness.unique_topic("txn-offs-out")
    rdk.create_topic(broker, source, 1)
    rdk.create_topic(broker, sink, 1)
    rdk.produce(broker, source, [(None, f"in-{i}".encode(), 0) for i in range(10)])
    group = harness.unique_topic("txn-offs-group")
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group,
                  "enable.auto.commit": False, "isolation.level": "read_committed"})
    try:
        c.assign([TopicPartition(source, 0, OFFSET_BEGINNING)])
        p = txn_producer(broker, harness.unique_topic("txn-offs-id"))

        def transform(upto, commit):
            p.begin_transaction()
            p.produce(sink, value=f"out-{upto}".encode(), partition=0)
            p.send_offsets_to_transaction([TopicPartition(source, 0, upto)],
                                          c.consumer_group_metadata(), rdk.TIMEOUT)
            if commit:
                p.commit_transaction(rdk.TIMEOUT)
            else:
                p.abort_transaction(rdk.TIMEOUT)

        transform(5, True)
        assert committed_offset(broker, group, source) == 5
        transform(8, False)
        assert committed_offset(broker, group, source) == 5
        transform(10, True)
        assert committed_offset(broker, group, source) == 10
        assert read_to_end(broker, sink, 1, "read_committed") == {0: ["out-5", "out-10"]}
    finally:
        c.close()
