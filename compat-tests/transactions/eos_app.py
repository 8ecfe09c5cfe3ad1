"""A consume-transform-produce application with exactly-once semantics on librdkafka
(confluent-kafka): it reads the input topic in a consumer group (read_committed), writes each
record's transformed value to the same partition of the output topic, and commits its input
offsets inside the same transaction. It is crash-only: on any error it exits, and on SIGKILL it
just dies; the test restarts it, and the restarted instance fences its predecessor through the
same transactional.id and takes its place in the group through the same group.instance.id.

  eos_app.py --bootstrap B --input IN --output OUT --group G --txn-id ID

Prints "committed <n>" after each committed transaction of n records.
"""

import argparse
import signal
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

stopping = False


def on_term(signum, frame):
    global stopping
    stopping = True


def transform(value):
    return b"out:" + value


def main():
    p = argparse.ArgumentParser()
    for name in ("bootstrap", "input", "output", "group", "txn-id"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--batch", type=int, default=50)
    a = p.parse_args()
    signal.signal(signal.SIGTERM, on_term)

    consumer = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.group,
                         "group.instance.id": f"{a.txn_id}-member", "isolation.level": "read_committed",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         "session.timeout.ms": 10000, "heartbeat.interval.ms": 1000})
    producer = Producer({"bootstrap.servers": a.bootstrap, "transactional.id": a.txn_id,
                         "transaction.timeout.ms": 20000, "linger.ms": 5})
    producer.init_transactions(60)
    consumer.subscribe([a.input])
    try:
        while not stopping:
            msgs = [m for m in consumer.consume(num_messages=a.batch, timeout=0.5) if m.error() is None]
            if not msgs:
                continue
            producer.begin_transaction()
            for m in msgs:
                producer.produce(a.output, key=m.key(), value=transform(m.value()), partition=m.partition())
            upto = {}
            for m in msgs:
                upto[m.partition()] = m.offset() + 1
            producer.send_offsets_to_transaction([TopicPartition(a.input, q, o) for q, o in upto.items()],
                                                 consumer.consumer_group_metadata(), 60)
            producer.commit_transaction(60)
            print(f"committed {len(msgs)}", flush=True)
    except KafkaException as e:
        # Crash-only: the test restarts us, and the restart recovers (fencing, offsets).
        print(f"error {e}", file=sys.stderr, flush=True)
        return 3
    finally:
        if stopping:
            consumer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
