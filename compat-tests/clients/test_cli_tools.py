"""Apache Kafka 3.9.2's command-line tools, run by main class from the jars (what the
bin/kafka-*.sh scripts would start)."""

import json
import re
import time

import harness
import rdk

TOPICS = "org.apache.kafka.tools.TopicCommand"                 # kafka-topics.sh
CONSOLE_PRODUCER = "kafka.tools.ConsoleProducer"                # kafka-console-producer.sh
CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"  # kafka-console-consumer.sh
CONFIGS = "kafka.admin.ConfigCommand"                           # kafka-configs.sh
GET_OFFSETS = "org.apache.kafka.tools.GetOffsetShell"           # kafka-get-offsets.sh
DELETE_RECORDS = "org.apache.kafka.tools.DeleteRecordsCommand"  # kafka-delete-records.sh
LOG_DIRS = "org.apache.kafka.tools.LogDirsCommand"              # kafka-log-dirs.sh
PRODUCER_PERF = "org.apache.kafka.tools.ProducerPerformance"    # kafka-producer-perf-test.sh
CONSUMER_PERF = "org.apache.kafka.tools.ConsumerPerformance"    # kafka-consumer-perf-test.sh


def _topics(broker, *args, **kw):
    return harness.kafka_tool(TOPICS, "--bootstrap-server", broker.bootstrap, *args, **kw)


def _partition_count(describe_output, topic):
    m = re.search(rf"Topic: {re.escape(topic)}\s.*?PartitionCount: (\d+)", describe_output)
    assert m, describe_output
    return int(m.group(1))


def test_kafka_topics(broker):
    topic = harness.unique_topic("cli-topics")
    _topics(broker, "--create", "--topic", topic, "--partitions", 2, "--replication-factor", 1,
            "--config", "retention.ms=7200000")
    assert topic in _topics(broker, "--list").stdout.split()

    desc = _topics(broker, "--describe", "--topic", topic).stdout
    assert _partition_count(desc, topic) == 2
    assert "retention.ms=7200000" in desc
    assert re.search(rf"Topic: {re.escape(topic)}\s+Partition: 1\s+Leader: 1\s", desc), desc

    _topics(broker, "--alter", "--topic", topic, "--partitions", 4)
    deadline = time.monotonic() + 30
    while True:
        count = _partition_count(_topics(broker, "--describe", "--topic", topic).stdout, topic)
        if count == 4 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert count == 4

    # Shrinking is refused, and the tool says so with a non-zero exit.
    shrink = _topics(broker, "--alter", "--topic", topic, "--partitions", 1, check=False)
    assert shrink.returncode != 0
    assert "InvalidPartitionsException" in shrink.stdout + shrink.stderr

    _topics(broker, "--delete", "--topic", topic)
    deadline = time.monotonic() + 30
    while topic in _topics(broker, "--list").stdout.split():
        assert time.monotonic() < deadline, "topic still listed after delete"
        time.sleep(0.5)


def test_console_producer_consumer_round_trip(broker):
    topic = harness.unique_topic("cli-console")
    rdk.create_topic(broker, topic)
    lines = [f"key{i}:line {i} with spaces, commas and ünïcödé" for i in range(50)]
    harness.kafka_tool(CONSOLE_PRODUCER, "--bootstrap-server", broker.bootstrap, "--topic", topic,
                       "--property", "parse.key=true", "--property", "key.separator=:",
                       "--producer-property", "acks=all", input="\n".join(lines) + "\n")
    out = harness.kafka_tool(CONSOLE_CONSUMER, "--bootstrap-server", broker.bootstrap,
                             "--topic", topic, "--partition", 0, "--offset", "earliest",
                             "--max-messages", len(lines), "--timeout-ms", 30000,
                             "--property", "print.key=true", "--property", "key.separator=:",
                             "--property", "print.offset=true")
    got = out.stdout.splitlines()
    # The formatter puts key.separator between every printed field, the offset included.
    assert got == [f"Offset:{i}:{line}" for i, line in enumerate(lines)]


def _configs(broker, *args, **kw):
    return harness.kafka_tool(CONFIGS, "--bootstrap-server", broker.bootstrap,
                              "--entity-type", "topics", *args, **kw)


def test_kafka_configs(broker):
    topic = harness.unique_topic("cli-configs")
    rdk.create_topic(broker, topic)
    before = _configs(broker, "--entity-name", topic, "--describe").stdout
    assert f"Dynamic configs for topic {topic} are:" in before
    assert "retention.ms=" not in before

    _configs(broker, "--entity-name", topic, "--alter",
             "--add-config", "retention.ms=123456,max.message.bytes=65536")
    after = _configs(broker, "--entity-name", topic, "--describe").stdout
    assert "retention.ms=123456 sensitive=false" in after, after
    assert "max.message.bytes=65536 sensitive=false" in after, after

    _configs(broker, "--entity-name", topic, "--alter", "--delete-config", "retention.ms")
    final = _configs(broker, "--entity-name", topic, "--describe").stdout
    assert "retention.ms=" not in final, final
    assert "max.message.bytes=65536" in final

    # --all shows defaults too, with their source.
    every = _configs(broker, "--entity-name", topic, "--describe", "--all").stdout
    assert "cleanup.policy=delete" in every, every

    bad = _configs(broker, "--entity-name", topic, "--alter", "--add-config", "retention.ms=notanumber",
                   check=False)
    assert bad.returncode != 0


def _offsets(broker, topic, time_spec):
    out = harness.kafka_tool(GET_OFFSETS, "--bootstrap-server", broker.bootstrap,
                             "--topic", topic, "--time", time_spec).stdout
    return dict((int(p), int(o)) for _, p, o in (line.rsplit(":", 2) for line in out.split()))


def test_get_offsets(broker):
    topic = harness.unique_topic("cli-offsets")
    rdk.create_topic(broker, topic, 3)
    rdk.produce(broker, topic, [(None, f"v{i}".encode(), i % 2) for i in range(9)])
    assert _offsets(broker, topic, -1) == {0: 5, 1: 4, 2: 0}
    assert _offsets(broker, topic, -2) == {0: 0, 1: 0, 2: 0}
    assert _offsets(broker, topic, "latest") == {0: 5, 1: 4, 2: 0}


def test_delete_records(broker, tmp_path):
    topic = harness.unique_topic("cli-delrec")
    rdk.create_topic(broker, topic)
    rdk.produce(broker, topic, [(None, f"v{i}".encode(), 0) for i in range(10)])
    spec = tmp_path / "offsets.json"
    spec.write_text(json.dumps({"version": 1, "partitions": [
        {"topic": topic, "partition": 0, "offset": 4}]}))
    out = harness.kafka_tool(DELETE_RECORDS, "--bootstrap-server", broker.bootstrap,
                             "--offset-json-file", spec).stdout
    assert re.search(rf"partition: {re.escape(topic)}-0\s+low_watermark: 4", out), out
    assert _offsets(broker, topic, -2) == {0: 4}
    got = rdk.consume_all(broker, topic, 1, 6)
    assert [(m.offset(), m.value()) for m in got] == [(i, f"v{i}".encode()) for i in range(4, 10)]


def test_log_dirs(broker):
    topic = harness.unique_topic("cli-logdirs")
    rdk.create_topic(broker, topic, 2)
    rdk.produce(broker, topic, [(None, b"x" * 100, 0) for _ in range(20)])
    out = harness.kafka_tool(LOG_DIRS, "--bootstrap-server", broker.bootstrap, "--describe",
                             "--topic-list", topic).stdout
    report = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    [b] = report["brokers"]
    assert b["broker"] == 1
    [d] = b["logDirs"]
    assert d["error"] is None
    parts = {p["partition"]: p for p in d["partitions"]}
    assert sorted(parts) == [f"{topic}-0", f"{topic}-1"]
    assert parts[f"{topic}-0"]["size"] > 20 * 100
    assert parts[f"{topic}-1"]["size"] == 0


def test_producer_and_consumer_perf(broker):
    topic = harness.unique_topic("cli-perf")
    rdk.create_topic(broker, topic)
    records = 5000
    prod = harness.kafka_tool(PRODUCER_PERF, "--topic", topic, "--num-records", records,
                              "--record-size", 200, "--throughput", -1, "--producer-props",
                              f"bootstrap.servers={broker.bootstrap}", "acks=all",
                              "compression.type=lz4").stdout
    assert re.search(rf"^{records} records sent", prod, re.M), prod
    assert _offsets(broker, topic, -1) == {0: records}

    cons = harness.kafka_tool(CONSUMER_PERF, "--bootstrap-server", broker.bootstrap, "--topic", topic,
                              "--messages", records, "--timeout", 60000,
                              "--group", harness.unique_topic("perf-group")).stdout
    lines = [line for line in cons.splitlines() if line.strip()]
    header = [h.strip() for h in lines[0].split(",")]
    row = dict(zip(header, (v.strip() for v in lines[1].split(","))))
    assert int(row["data.consumed.in.nMsg"]) == records, cons
    assert abs(float(row["data.consumed.in.MB"]) - records * 200 / 1024 / 1024) < 0.01, cons
