"""franz-go (kgo and kadm): a small Go program, built by setup.sh, does the whole round trip."""

import subprocess

import harness


def test_franz_round_trip(broker):
    assert harness.FRANZ_BIN.exists(), f"{harness.FRANZ_BIN} missing: run setup.sh"
    topic = harness.unique_topic("franz")
    out = subprocess.run([str(harness.FRANZ_BIN), "-brokers", broker.bootstrap, "-topic", topic,
                          "-records", "300"], capture_output=True, text=True, timeout=150)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("ok: 300 records"), out.stdout
