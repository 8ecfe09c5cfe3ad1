"""kcat (Debian's package, on Debian's librdkafka): metadata listing, produce and consume."""

import json
import shutil
import subprocess

import harness
import rdk


def _kcat(*args, input=None, timeout=60):
    exe = shutil.which("kcat")
    assert exe, "kcat is not installed (build.sh installs Debian's kcat)"
    out = subprocess.run([exe, *map(str, args)], input=input, capture_output=True, text=True,
                         timeout=timeout)
    assert out.returncode == 0, f"kcat {' '.join(map(str, args))}: {out.stderr}"
    return out.stdout


def test_kcat_metadata(broker):
    topic = harness.unique_topic("kcat-md")
    rdk.create_topic(broker, topic, 3)
    md = json.loads(_kcat("-b", broker.bootstrap, "-L", "-J", "-t", topic, "-m", 10))
    assert [(b["id"], b["name"]) for b in md["brokers"]] == [(1, broker.bootstrap)]
    [t] = md["topics"]
    assert t["topic"] == topic
    assert "error" not in t or not t["error"]
    assert sorted(p["partition"] for p in t["partitions"]) == [0, 1, 2]
    assert all(p["leader"] == 1 and p["replicas"] == [{"id": 1}] for p in t["partitions"])

    listing = _kcat("-b", broker.bootstrap, "-L", "-m", 10)
    assert f'topic "{topic}" with 3 partitions:' in listing


def test_kcat_produce_consume(broker):
    topic = harness.unique_topic("kcat-rt")
    rdk.create_topic(broker, topic)
    lines = [f"k{i}|kcat value {i} " + "z" * (i % 40) for i in range(300)]
    _kcat("-P", "-b", broker.bootstrap, "-t", topic, "-p", 0, "-K", "|", "-z", "zstd",
          "-X", "topic.request.required.acks=-1", input="\n".join(lines) + "\n")
    out = _kcat("-C", "-b", broker.bootstrap, "-t", topic, "-p", 0, "-o", "beginning", "-e", "-q",
                "-f", "%o %k|%s\n")
    assert out.splitlines() == [f"{i} {line}" for i, line in enumerate(lines)]
    # Reading from the middle starts exactly at the asked offset.
    tail = _kcat("-C", "-b", broker.bootstrap, "-t", topic, "-p", 0, "-o", 295, "-e", "-q", "-f", "%o\n")
    assert tail.split() == ["295", "296", "297", "298", "299"]
