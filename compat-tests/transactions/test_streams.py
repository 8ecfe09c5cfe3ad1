"""A Kafka Streams application from Maven Central (kafka-streams 3.9.2, word count with
processing.guarantee=exactly_once_v2 and no record cache; streams/). Run against the broker,
it counts the words of the lines produced, and a read_committed reader of its output finds
each word's counts 1..n, in order, exactly once: the last one is the word's true count."""

import collections
import os
import random
import re
import shutil
import subprocess
import time
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

import harness
import rdk

HERE = Path(__file__).resolve().parent
STREAMS_DIR = HERE / "streams"
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
LINES = 300
PARTITIONS = 3


def _lines():
    rng = random.Random(848)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6))) for _ in range(LINES)]


def test_streams_word_count_exactly_once(broker, tmp_path):
    jar = STREAMS_DIR / "target" / "streams-word-count.jar"
    assert jar.exists(), f"{jar} missing: run setup.sh"
    inp = harness.unique_topic("wc-in")
    out = harness.unique_topic("wc-out")
    app_id = f"wc-{inp}"
    rdk.create_topic(broker, inp, partitions=PARTITIONS)
    rdk.create_topic(broker, out, partitions=PARTITIONS)
    lines = _lines()
    rdk.produce(broker, inp, [(f"k{i}".encode(), line.encode(), None) for i, line in enumerate(lines)])
    expected = collections.Counter(w for line in lines for w in re.split(r"\W+", line.lower()) if w)

    java = os.environ.get("JAVA") or shutil.which("java")
    log_path = tmp_path / "streams.log"
    with open(log_path, "w") as log:
        app = subprocess.Popen([java, "-Xmx384m", "-XX:+UseSerialGC",
                                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                                "-cp", f"{jar}:{STREAMS_DIR / 'target' / 'lib'}/*", "dev.odradek.compat.WordCount",
                                broker.bootstrap, app_id, inp, out, str(tmp_path / "state")],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        counts = _read_counts(broker, out, expected, app, log_path)
    finally:
        if app.poll() is None:
            app.terminate()
            try:
                app.wait(timeout=60)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait(timeout=30)

    for word, n in expected.items():
        assert counts.get(word) == list(range(1, n + 1)), (
            f"{word}: expected counts 1..{n}, got {counts.get(word)}\n{_tail(log_path)}")
    assert set(counts) == set(expected), set(counts) ^ set(expected)


def _read_counts(broker, topic, expected, app, log_path, seconds=240):
    """Every (word, count) update a read_committed reader sees, until each word reached its
    expected count (and a little longer, to catch anything extra)."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"reader-{topic}",
                  "isolation.level": "read_committed", "enable.auto.commit": False,
                  "topic.metadata.refresh.interval.ms": 1000})
    counts = collections.defaultdict(list)
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
        deadline = time.monotonic() + seconds
        done_at = None
        while time.monotonic() < deadline:
            for m in c.consume(num_messages=500, timeout=0.5):
                if m.error() is None:
                    counts[m.key().decode()].append(int.from_bytes(m.value(), "big", signed=True))
            if all(counts.get(w, [0])[-1] >= n for w, n in expected.items()):
                done_at = done_at or time.monotonic()
                if time.monotonic() - done_at > 3:
                    return dict(counts)
            assert app.poll() is None, f"the Streams app exited with {app.returncode}\n{_tail(log_path)}"
        raise AssertionError(f"counts incomplete after {seconds}s: "
                             f"{ {w: counts.get(w, [0])[-1] for w in expected} } vs {dict(expected)}\n{_tail(log_path)}")
    finally:
        c.close()


def _tail(path, lines=40):
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
