"""Small wrappers over confluent-kafka (librdkafka) that several scenarios use to set up data."""

import time

from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT = 60


def admin(broker):
    return AdminClient({"bootstrap.servers": broker.bootstrap})


def create_topic(broker, name, partitions=1, config=None):
    # The client must outlive its futures: a collected handle fails them with _DESTROY.
    a = admin(broker)
    futures = a.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})],
        operation_timeout=30, request_timeout=TIMEOUT)
    futures[name].result(timeout=TIMEOUT)


def produce(broker, topic, records, **conf):
    """Sends (key, value, partition-or-None) tuples with acks=all; returns the delivered
    messages in send order, failing on the first delivery error."""
    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5, **conf})
    delivered = [None] * len(records)
    errors = []

    def report(i):
        def cb(err, msg):
            if err is not None:
                errors.append((i, err))
            delivered[i] = msg
        return cb

    for i, (key, value, partition) in enumerate(records):
        kw = {"key": key, "value": value, "on_delivery": report(i)}
        if partition is not None:
            kw["partition"] = partition
        p.produce(topic, **kw)
        p.poll(0)
    left = p.flush(TIMEOUT)
    assert left == 0, f"{left} records not delivered within {TIMEOUT}s"
    assert not errors, f"delivery errors: {errors[:5]}"
    return delivered


def consume_all(broker, topic, partitions, expected, **conf):
    """Reads partitions from the beginning until `expected` records arrived; returns the messages."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"rdk-{topic}",
                  "enable.auto.commit": False, "enable.partition.eof": False, **conf})
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        got = []
        deadline = time.monotonic() + TIMEOUT
        while len(got) < expected and time.monotonic() < deadline:
            for m in c.consume(num_messages=1000, timeout=0.5):
                assert m.error() is None, f"consume error: {m.error()}"
                got.append(m)
        # Anything past the expected count would be a duplicate or a stray record.
        for m in c.consume(num_messages=1000, timeout=0.5):
            if m.error() is None:
                got.append(m)
        return got
    finally:
        c.close()
