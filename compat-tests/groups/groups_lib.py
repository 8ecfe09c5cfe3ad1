"""Helpers shared by the consumer-group scenarios: Kafka's kafka-consumer-groups tool, the
parsing of its tables, and reading committed offsets through a client."""

import re
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

import harness

CONSUMER_GROUPS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
TIMEOUT = 60


def consumer_groups(broker, *args, check=True, timeout=120):
    """Runs kafka-consumer-groups against broker; returns the CompletedProcess."""
    # --timeout bounds the tool's admin calls (5 s by default: too short on a loaded machine).
    return harness.kafka_tool(CONSUMER_GROUPS, "--bootstrap-server", broker.bootstrap, *args,
                              "--timeout", "60000", check=check, timeout=timeout)


def table(stdout, first_column="GROUP"):
    """The rows of a table the tool prints, as dicts keyed by its header; cells are separated
    by spaces, and no cell the scenarios read holds one."""
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        header = line.split()
        if header and header[0] == first_column:
            return [dict(zip(header, row.split())) for row in lines[i + 1:] if row.strip()]
    return []


def state_row(stdout):
    """`--describe --state`: COORDINATOR (ID) holds a space and ASSIGNMENT-STRATEGY may be
    empty, so the row is read right to left."""
    for line in stdout.splitlines():
        m = re.match(r"^(\S+)\s+(\S+)\s+\((\d+)\)\s+(\S*)\s+(\S+)\s+(\d+)\s*$", line)
        if m and m.group(1) != "GROUP":
            return {"GROUP": m.group(1), "COORDINATOR": m.group(2), "ID": int(m.group(3)),
                    "ASSIGNMENT-STRATEGY": m.group(4), "STATE": m.group(5), "#MEMBERS": int(m.group(6))}
    raise AssertionError(f"no state row in:\n{stdout}")


def reset_plan(stdout):
    """`--reset-offsets` prints GROUP TOPIC PARTITION NEW-OFFSET and then the rows, which
    Kafka 3.9 writes without line breaks between them; read it as a stream of words."""
    words = stdout.split()
    try:
        start = words.index("NEW-OFFSET") + 1
    except ValueError:
        raise AssertionError(f"no reset plan in:\n{stdout}") from None
    rows = words[start:]
    assert len(rows) % 4 == 0, f"reset plan is not rows of 4 words:\n{stdout}"
    return {(rows[i + 1], int(rows[i + 2])): int(rows[i + 3]) for i in range(0, len(rows), 4)}


def committed(broker, group, topic, partitions):
    """The group's committed offsets as a client reads them (OffsetFetch), -1 when none."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group,
                  "enable.auto.commit": False})
    try:
        got = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=TIMEOUT)
        for tp in got:
            assert tp.error is None, f"committed({tp}): {tp.error}"
        return {tp.partition: (tp.offset if tp.offset >= 0 else -1) for tp in got}
    finally:
        c.close()


def wait_until(what, condition, seconds=TIMEOUT, interval=0.5):
    """Polls condition() until it returns a true value, which it returns; fails after seconds
    with the last value it saw."""
    deadline = time.monotonic() + seconds
    last = None
    while True:
        last = condition()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


_RETRIABLE_COMMIT = {KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_NOT_AVAILABLE,
                     KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.REQUEST_TIMED_OUT}


_REJOIN = {KafkaError.UNKNOWN_MEMBER_ID, KafkaError.ILLEGAL_GENERATION, KafkaError.REBALANCE_IN_PROGRESS}


def commit(consumer, offsets, seconds=TIMEOUT, rejoin=False):
    """A synchronous commit, retried while the coordinator is still being found or loaded (the
    first commit on a fresh broker creates __consumer_offsets). With rejoin, also retried
    (polling, so that the member rejoins) when the group no longer knows the member."""
    retriable = _RETRIABLE_COMMIT | (_REJOIN if rejoin else set())
    deadline = time.monotonic() + seconds
    while True:
        try:
            return consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as e:
            if e.args[0].code() not in retriable or time.monotonic() > deadline:
                raise
            if rejoin:
                consumer.poll(0.5)
            else:
                time.sleep(0.5)


def delete_offsets_status(stdout, topic):
    """`--delete-offsets` prints TOPIC PARTITION STATUS rows without line breaks (Kafka 3.9); a
    status is "Successful" or "Error: :<exception>: <message>". Returns {partition: status},
    with an error reduced to the exception's simple name."""
    found = {}
    for m in re.finditer(re.escape(topic) + r"\s+(\d+)\s+(Successful|Error: :?([\w.]+))", stdout):
        found[int(m.group(1))] = "Successful" if m.group(2) == "Successful" else m.group(3).rsplit(".", 1)[-1]
    return found
