"""Metadata v12 by topic id, as KIP-848 consumers use it: raw requests (wire.py) on both brokers."""

import time

import harness
import wire


def _create_topics(broker, spec):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for f in admin.create_topics([NewTopic(t, n, 1) for t, n in spec.items()]).values():
        f.result(60)


def test_metadata_by_topic_id_with_empty_name(broker):
    """The Java 4.x consumer asks for the topics of a regex assignment by id, with an empty name
    (Metadata v12): the broker looks them up by id, as Kafka does. Odradek once took the empty
    name for a topic name (INVALID_TOPIC_EXCEPTION), and a Java regex member never consumed."""
    topic = harness.unique_topic("rx-meta")
    _create_topics(broker, {topic: 2})
    with wire.Connection(broker.host, broker.port) as conn:
        deadline = time.monotonic() + 30
        while True:
            [(err, name, tid, parts)] = wire.metadata_v12(conn, [(bytes(16), topic)])
            if err == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert err == 0 and tid != bytes(16), (err, tid)
        for asked in ("", None):
            [(err2, name2, tid2, parts2)] = wire.metadata_v12(conn, [(tid, asked)])
            assert (err2, name2, tid2, sorted(parts2)) == (0, topic, tid, [0, 1]), (asked, err2, name2)
        unknown = bytes(range(1, 17))
        [(err3, name3, tid3, _)] = wire.metadata_v12(conn, [(unknown, "")])
        assert (err3, name3, tid3) == (100, None, unknown)  # UNKNOWN_TOPIC_ID
