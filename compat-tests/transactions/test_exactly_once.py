"""Exactly-once, end to end: eos_app.py (consume, transform, produce, with its input offsets
sent to the transaction) is killed with SIGKILL at seeded random moments and restarted each
time; then the same with the broker killed and restarted in the middle. At the end a
read_committed reader finds every input record in the output exactly once, in order, in the
same partition. ODRADEK_SOAK=1 runs more records and many more kills (ODRADEK_EOS_SEED picks
the seed; the seed in use is printed with any failure)."""

import os
import random
import subprocess
import sys
import time
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

import harness
import rdk
from groups_lib import wait_until

HERE = Path(__file__).resolve().parent
SOAK = os.environ.get("ODRADEK_SOAK") == "1"
PARTITIONS = 3
PER_PARTITION = 3000 if SOAK else 400
APP_KILLS = 30 if SOAK else 4
SEED = int(os.environ.get("ODRADEK_EOS_SEED", "20261121"))


class App:
    """eos_app.py, restarted whenever it dies, until stopped."""

    def __init__(self, broker, inp, out, group, txn_id, log_dir):
        self.args = [sys.executable, str(HERE / "eos_app.py"), "--bootstrap", broker.bootstrap, "--input", inp,
                     "--output", out, "--group", group, "--txn-id", txn_id, "--batch", "10"]
        self.log = open(Path(log_dir) / f"{txn_id}.log", "a")
        self.log_path = Path(log_dir) / f"{txn_id}.log"
        self.proc = None
        self.starts = 0
        self.kills = 0

    def ensure_running(self):
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                self.log.write(f"--- exited with {self.proc.returncode}\n")
            self.log.write(f"--- start {self.starts}\n")
            self.log.flush()
            self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
            self.starts += 1

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
            self.kills += 1
            self.log.write("--- SIGKILL\n")
            self.log.flush()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.log.close()

    def committed_batches(self):
        return self.log_path.read_text(errors="replace").count("committed ")

    def tail(self, lines=30):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def read_output(broker, topic, expected_per_partition, seconds=120):
    """Everything a read_committed reader sees in topic, per partition, once it has at least
    expected_per_partition records in each (and whatever more arrives in a short grace)."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"reader-{topic}",
                  "isolation.level": "read_committed", "enable.auto.commit": False,
                  "enable.partition.eof": False})
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
        got = {p: [] for p in range(PARTITIONS)}
        deadline = time.monotonic() + seconds
        while any(len(v) < expected_per_partition for v in got.values()) and time.monotonic() < deadline:
            for m in c.consume(num_messages=1000, timeout=0.5):
                if m.error() is None:
                    got[m.partition()].append(m.value())
        for m in c.consume(num_messages=1000, timeout=2):
            if m.error() is None:
                got[m.partition()].append(m.value())
        return got
    finally:
        c.close()


def _setup(broker, name):
    inp = harness.unique_topic(f"eos-in-{name}")
    out = harness.unique_topic(f"eos-out-{name}")
    rdk.create_topic(broker, inp, partitions=PARTITIONS)
    rdk.create_topic(broker, out, partitions=PARTITIONS)
    rdk.produce(broker, inp, [(None, f"{p}-{i}".encode(), p) for i in range(PER_PARTITION) for p in range(PARTITIONS)])
    return inp, out


def _expected():
    return {p: [f"out:{p}-{i}".encode() for i in range(PER_PARTITION)] for p in range(PARTITIONS)}


def _check_output(got, seed):
    want = _expected()
    for p in range(PARTITIONS):
        if got[p] != want[p]:
            dupes = len(got[p]) - len(set(got[p]))
            missing = len(set(want[p]) - set(got[p]))
            first_bad = next((i for i, (x, y) in enumerate(zip(got[p], want[p])) if x != y), min(len(got[p]), len(want[p])))
            raise AssertionError(f"seed {seed}: partition {p} has {len(got[p])} records, {dupes} duplicated, "
                                 f"{missing} missing; first difference at index {first_bad}")


def _group_offsets_done(broker, group, inp):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group})
    try:
        got = c.committed([TopicPartition(inp, p) for p in range(PARTITIONS)], timeout=30)
        return all(tp.offset == PER_PARTITION for tp in got)
    except Exception:
        return False
    finally:
        c.close()


def run_with_kills(broker, name, tmp_path, kill_broker_at=None):
    rng = random.Random(f"{SEED}-{name}")
    inp, out = _setup(broker, name)
    group = f"g-{inp}"
    app = App(broker, inp, out, group, f"txn-{inp}", tmp_path)
    try:
        app.ensure_running()
        for k in range(APP_KILLS):
            # Let it run a random while (often mid-transaction), then kill it.
            deadline = time.monotonic() + rng.uniform(1.0, 4.0)
            while time.monotonic() < deadline:
                app.ensure_running()
                time.sleep(0.05)
            app.kill()
            if kill_broker_at is not None and k == kill_broker_at:
                broker.kill()
                app.ensure_running()  # it starts against a dead broker and must cope or die
                broker.restart()
            app.ensure_running()
        wait_until("the app to commit every input offset", lambda: (app.ensure_running(), _group_offsets_done(
            broker, group, inp))[1], seconds=240, interval=1)
    except AssertionError as e:
        raise AssertionError(f"seed {SEED}: {e}\n--- app log ---\n{app.tail()}") from None
    finally:
        app.stop()
    got = read_output(broker, out, PER_PARTITION)
    _check_output(got, SEED)
    assert app.kills == APP_KILLS and app.committed_batches() > 0


def test_exactly_once_with_app_kills(broker, tmp_path):
    run_with_kills(broker, "app", tmp_path)


def test_exactly_once_with_broker_restart(own_broker, tmp_path):
    run_with_kills(own_broker, "broker", tmp_path, kill_broker_at=APP_KILLS // 2)
