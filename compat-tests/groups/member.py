"""A consumer-group member for the membership scenarios, on librdkafka (confluent-kafka) or
kafka-python. It consumes, commits what it processed after every batch (and, on revocation,
before it gives partitions up), and reports on stdout one JSON object a line:

  {"t": <epoch us>, "ev": "assigned"|"revoked"|"lost", "parts": [partition, ...]}
  {"t": ..., "ev": "records", "recs": [[partition, offset], ...]}
  {"t": ..., "ev": "commit", "offs": {partition: next offset}}     (after the commit succeeded)
  {"t": ..., "ev": "commit_failed", "error": "..."}
  {"t": ..., "ev": "closed"}

"assigned" is written when the callback starts and "revoked"/"lost" when it has finished, so
an ownership interval is never shorter than the member's real one. SIGTERM closes the
consumer (leaving the group); SIGKILL is the test's crash.

  member.py --client confluent|kafka-python --bootstrap B --group G --topic T
            --assignor range|roundrobin|sticky|cooperative-sticky|consumer
"""

import argparse
import json
import signal
import sys
import time

stopping = False


def emit(ev, **fields):
    print(json.dumps({"t": time.time_ns() // 1000, "ev": ev, **fields}), flush=True)


def on_term(signum, frame):
    global stopping
    stopping = True


class Progress:
    """Offsets processed and not yet committed, per owned partition. An entry is dropped when
    its partition is given up, so that a stale position can never be committed later."""

    def __init__(self):
        self.next = {}
        self.dirty = set()

    def processed(self, partition, offset):
        self.next[partition] = offset + 1
        self.dirty.add(partition)

    def take(self, partitions):
        return {p: self.next[p] for p in partitions if p in self.dirty}

    def committed(self, offs):
        self.dirty -= set(offs)

    def drop(self, partitions):
        for p in partitions:
            self.next.pop(p, None)
            self.dirty.discard(p)


def run_confluent(a):
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    conf = {"bootstrap.servers": a.bootstrap, "group.id": a.group, "client.id": a.name,
            "enable.auto.commit": False, "auto.offset.reset": "earliest"}
    if a.assignor == "consumer":
        conf["group.protocol"] = "consumer"
    else:
        conf.update({"partition.assignment.strategy": a.assignor, "session.timeout.ms": 6000,
                     "heartbeat.interval.ms": 1000, "max.poll.interval.ms": 20000})
    c = Consumer(conf)
    progress = Progress()

    def commit(offs):
        if not offs:
            return
        try:
            c.commit(offsets=[TopicPartition(a.topic, p, o) for p, o in offs.items()], asynchronous=False)
        except KafkaException as e:
            emit("commit_failed", error=str(e))
            return
        progress.committed(offs)
        emit("commit", offs=offs)

    def on_assign(consumer, parts):
        emit("assigned", parts=[tp.partition for tp in parts])

    def on_revoke(consumer, parts):
        mine = [tp.partition for tp in parts]
        commit(progress.take(mine))
        progress.drop(mine)
        emit("revoked", parts=mine)

    def on_lost(consumer, parts):
        mine = [tp.partition for tp in parts]
        progress.drop(mine)
        emit("lost", parts=mine)

    c.subscribe([a.topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
    while not stopping:
        msgs = c.consume(num_messages=200, timeout=0.3)
        recs = []
        for m in msgs:
            if m.error() is not None:
                emit("consume_error", error=str(m.error()))
                continue
            recs.append([m.partition(), m.offset()])
            progress.processed(m.partition(), m.offset())
        if recs:
            emit("records", recs=recs)
        owned = [tp.partition for tp in c.assignment()]
        commit(progress.take(owned))
    c.close()
    emit("closed")


def run_kafka_python(a):
    from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
    from kafka.consumer.subscription_state import ConsumerRebalanceListener
    from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    from kafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
    from kafka.errors import KafkaError

    assignors = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor,
                 "sticky": StickyPartitionAssignor, "cooperative-sticky": CooperativeStickyAssignor}
    c = KafkaConsumer(bootstrap_servers=a.bootstrap, group_id=a.group, client_id=a.name,
                      enable_auto_commit=False, auto_offset_reset="earliest",
                      partition_assignment_strategy=[assignors[a.assignor]],
                      session_timeout_ms=6000, heartbeat_interval_ms=1000, max_poll_interval_ms=20000)
    progress = Progress()

    def commit(offs):
        if not offs:
            return
        try:
            c.commit({TopicPartition(a.topic, p): OffsetAndMetadata(o, "", -1) for p, o in offs.items()})
        except KafkaError as e:
            emit("commit_failed", error=repr(e))
            return
        progress.committed(offs)
        emit("commit", offs=offs)

    class Listener(ConsumerRebalanceListener):
        def on_partitions_assigned(self, assigned):
            emit("assigned", parts=[tp.partition for tp in assigned])

        def on_partitions_revoked(self, revoked):
            mine = [tp.partition for tp in revoked]
            commit(progress.take(mine))
            progress.drop(mine)
            emit("revoked", parts=mine)

        def on_partitions_lost(self, lost):
            mine = [tp.partition for tp in lost]
            progress.drop(mine)
            emit("lost", parts=mine)

    c.subscribe([a.topic], listener=Listener())
    while not stopping:
        batches = c.poll(timeout_ms=300, max_records=200)
        recs = []
        for tp, records in batches.items():
            for r in records:
                recs.append([tp.partition, r.offset])
                progress.processed(tp.partition, r.offset)
        if recs:
            emit("records", recs=recs)
        commit(progress.take([tp.partition for tp in c.assignment()]))
    c.close()
    emit("closed")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--client", required=True, choices=["confluent", "kafka-python"])
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--assignor", required=True)
    p.add_argument("--name", required=True)
    a = p.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    (run_confluent if a.client == "confluent" else run_kafka_python)(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
