"""librdkafka through confluent-kafka: every compression codec, both key partitioners it offers,
the admin API, and a consumer group that commits and resumes."""

import time
import zlib

import pytest
from confluent_kafka import Consumer, Producer, TopicCollection, TopicPartition
from confluent_kafka.admin import (ConfigResource, NewPartitions, OffsetSpec, ResourceType)

import harness
import rdk


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_codec_round_trip(broker, codec):
    topic = harness.unique_topic(f"rdk-{codec}")
    rdk.create_topic(broker, topic)
    # Compressible and incompressible values, empty and null ones, so batches are not all alike.
    records = []
    for i in range(400):
        value = (f"{codec} value {i} " + "x" * (i % 97)).encode()
        if i % 50 == 7:
            value = b""
        elif i % 50 == 13:
            value = None
        elif i % 11 == 0:
            value = bytes((i * 31 + j) % 256 for j in range(200))
        records.append((f"k{i}".encode(), value, 0))
    sent = rdk.produce(broker, topic, records, **{"compression.type": codec, "batch.num.messages": 100})
    assert [m.offset() for m in sent] == list(range(len(records)))

    got = rdk.consume_all(broker, topic, 1, len(records))
    assert [(m.key(), m.value()) for m in got] == [(k, v) for k, v, _ in records]
    assert [m.offset() for m in got] == list(range(len(records)))


# librdkafka's default partitioner is consistent_random (CRC32 of the key); murmur2_random is its
# Java-compatible one. Each must land every keyed record where its own definition says.
PARTITIONERS = {
    "consistent_random": lambda key, n: zlib.crc32(key) % n,
    "murmur2_random": harness.java_partition,
}


@pytest.mark.parametrize("partitioner", sorted(PARTITIONERS))
def test_keyed_partitioning(broker, partitioner):
    partitions = 6
    topic = harness.unique_topic(f"rdk-part-{partitioner.replace('_', '-')}")
    rdk.create_topic(broker, topic, partitions)
    records = [(f"user-{i}".encode(), f"v{i}".encode(), None) for i in range(240)]
    sent = rdk.produce(broker, topic, records, partitioner=partitioner)
    expect = PARTITIONERS[partitioner]
    for (key, _, _), m in zip(records, sent):
        assert m.partition() == expect(key, partitions), f"{key!r} went to {m.partition()}"
    assert len({m.partition() for m in sent}) == partitions

    got = rdk.consume_all(broker, topic, partitions, len(records))
    assert sorted((m.key(), m.value(), m.partition()) for m in got) == \
        sorted((k, v, expect(k, partitions)) for k, v, _ in records)


def _wait_topic_gone(a, topic, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if topic not in a.list_topics(timeout=10).topics:
            return True
        time.sleep(0.3)
    return False


def test_admin_topics_and_configs(broker):
    a = rdk.admin(broker)
    topic = harness.unique_topic("rdk-admin")
    rdk.create_topic(broker, topic, 2, {"retention.ms": "3600000", "cleanup.policy": "delete"})

    # Creating it again is refused with TOPIC_ALREADY_EXISTS.
    with pytest.raises(Exception) as dup:
        rdk.create_topic(broker, topic, 2)
    assert "TOPIC_ALREADY_EXISTS" in str(dup.value) or "already exists" in str(dup.value)

    desc = a.describe_topics(TopicCollection([topic]))[topic].result(timeout=rdk.TIMEOUT)
    assert desc.name == topic
    assert [p.id for p in desc.partitions] == [0, 1]
    assert all(p.leader is not None and p.leader.id == 1 for p in desc.partitions)

    res = ConfigResource(ResourceType.TOPIC, topic)
    configs = a.describe_configs([res])[res].result(timeout=rdk.TIMEOUT)
    assert configs["retention.ms"].value == "3600000"
    assert configs["cleanup.policy"].value == "delete"
    # An unset config reports the broker default.
    assert configs["min.insync.replicas"].value == "1"

    a.create_partitions([NewPartitions(topic, 5)])[topic].result(timeout=rdk.TIMEOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        md = a.list_topics(topic=topic, timeout=10).topics[topic]
        if len(md.partitions) == 5:
            break
        time.sleep(0.3)
    assert sorted(md.partitions) == [0, 1, 2, 3, 4]

    a.delete_topics([topic], operation_timeout=30)[topic].result(timeout=rdk.TIMEOUT)
    assert _wait_topic_gone(a, topic)


def test_list_offsets(broker):
    a = rdk.admin(broker)
    topic = harness.unique_topic("rdk-offsets")
    rdk.create_topic(broker, topic)
    base = int(time.time() * 1000) - 60_000
    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 0})
    # Explicit timestamps one second apart, so the timestamp lookup has one right answer.
    for i in range(10):
        p.produce(topic, key=b"k", value=f"v{i}".encode(), partition=0, timestamp=base + i * 1000)
        p.flush(rdk.TIMEOUT)
    tp = TopicPartition(topic, 0)

    def offset(spec):
        return a.list_offsets({tp: spec})[tp].result(timeout=rdk.TIMEOUT).offset

    assert offset(OffsetSpec.earliest()) == 0
    assert offset(OffsetSpec.latest()) == 10
    assert offset(OffsetSpec.for_timestamp(base + 5500)) == 6
    assert offset(OffsetSpec.for_timestamp(base)) == 0
    assert offset(OffsetSpec.for_timestamp(base + 60_000)) == -1


def _group_consumer(broker, group):
    return Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False,
                     "session.timeout.ms": 10000})


def _drain(c, want, seconds=60):
    got = []
    deadline = time.monotonic() + seconds
    while len(got) < want and time.monotonic() < deadline:
        for m in c.consume(num_messages=500, timeout=0.5):
            assert m.error() is None, f"consume error: {m.error()}"
            got.append(m)
    return got


def test_consumer_group_commit_and_resume(broker):
    partitions = 3
    topic = harness.unique_topic("rdk-group")
    group = harness.unique_topic("rdk-group")
    rdk.create_topic(broker, topic, partitions)
    first = [(f"a{i}".encode(), f"first {i}".encode(), None) for i in range(90)]
    rdk.produce(broker, topic, first)

    c = _group_consumer(broker, group)
    try:
        c.subscribe([topic])
        got = _drain(c, len(first))
        assert sorted(m.value() for m in got) == sorted(v for _, v, _ in first)
        c.commit(asynchronous=False)
        committed = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)
        ends = {}
        for m in got:
            ends[m.partition()] = max(ends.get(m.partition(), 0), m.offset() + 1)
        assert {tp.partition: tp.offset for tp in committed} == {p: ends.get(p, -1001) for p in range(partitions)}
    finally:
        c.close()

    # A new member of the same group starts at the committed offsets: only the new records.
    second = [(f"b{i}".encode(), f"second {i}".encode(), None) for i in range(30)]
    rdk.produce(broker, topic, second)
    c = _group_consumer(broker, group)
    try:
        c.subscribe([topic])
        got = _drain(c, len(second))
        got += c.consume(num_messages=500, timeout=1.0)
        assert sorted(m.value() for m in got if m.error() is None) == sorted(v for _, v, _ in second)
    finally:
        c.close()
