"""kafka-python: its own pure-Python protocol implementation, admin, producer and consumer."""

import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

import harness


def _admin(broker):
    return KafkaAdminClient(bootstrap_servers=broker.bootstrap, client_id="compat-kafka-python",
                            request_timeout_ms=30000)


def test_admin_create_delete(broker):
    topic = harness.unique_topic("kpy-admin")
    a = _admin(broker)
    try:
        a.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)], timeout_ms=30000)
        assert topic in a.list_topics()
        [desc] = a.describe_topics([topic])
        assert desc["error_code"] == 0
        assert sorted(p["partition_index"] for p in desc["partitions"]) == [0, 1, 2]
        a.delete_topics([topic], timeout_ms=30000)
        deadline = time.monotonic() + 30
        while topic in a.list_topics():
            assert time.monotonic() < deadline, "topic still listed after delete"
            time.sleep(0.3)
    finally:
        a.close()


def test_produce_consume_round_trip(broker):
    partitions = 4
    topic = harness.unique_topic("kpy-rt")
    a = _admin(broker)
    try:
        a.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)], timeout_ms=30000)
    finally:
        a.close()

    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=5,
                             compression_type="gzip")
    sent = {}
    try:
        futures = [(f"kp-{i}".encode(), f"kafka-python {i}".encode(),
                    producer.send(topic, key=f"kp-{i}".encode(), value=f"kafka-python {i}".encode(),
                                  headers=[("n", str(i).encode())]))
                   for i in range(200)]
        producer.flush(timeout=60)
        for key, value, fut in futures:
            md = fut.get(timeout=60)
            # kafka-python's default partitioner is the Java client's murmur2 mapping.
            assert md.partition == harness.java_partition(key, partitions), key
            sent[key] = (value, md.partition, md.offset)
    finally:
        producer.close(timeout=30)

    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                             group_id=None, consumer_timeout_ms=1000)
    got = {}
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + 60
        while len(got) < len(sent) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    assert r.key not in got, f"duplicate {r.key!r}"
                    assert r.headers == [("n", r.key[3:])]
                    got[r.key] = (r.value, r.partition, r.offset)
    finally:
        consumer.close()
    assert got == sent


def test_old_message_formats(broker):
    """kafka-python pinned to old protocol versions: api_version (0, 10, 0) produces magic 1
    message sets (Produce v2) and fetches magic 1 (Fetch v2-3); (0, 9) produces and fetches
    magic 0 (no timestamps). The broker converts them to v2 batches on append and back on
    fetch, uncompressed and gzip."""
    for api in ((0, 10, 0), (0, 9)):
        topic = harness.unique_topic("kpy-old")
        a = _admin(broker)
        try:
            a.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)], timeout_ms=30000)
        finally:
            a.close()
        time.sleep(1)
        sent = []
        for codec in (None, "gzip"):
            p = KafkaProducer(bootstrap_servers=broker.bootstrap, api_version=api, compression_type=codec)
            try:
                for i in range(3):
                    key, value = b"k%d" % i, b"%s-%d" % (str(codec).encode(), i)
                    p.send(topic, key=key, value=value, partition=0).get(timeout=30)
                    sent.append((key, value))
            finally:
                p.close()
        c = KafkaConsumer(bootstrap_servers=broker.bootstrap, api_version=api, auto_offset_reset="earliest",
                          consumer_timeout_ms=10000)
        try:
            c.assign([TopicPartition(topic, 0)])
            got = [m for m in c]
        finally:
            c.close()
        assert [(m.offset, m.key, m.value) for m in got] == [(i, k, v) for i, (k, v) in enumerate(sent)], api
        if api == (0, 9):
            assert {m.timestamp for m in got} == {None}
        else:
            assert all(m.timestamp and m.timestamp > 0 for m in got)
