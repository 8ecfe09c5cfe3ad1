"""The newest Java client (kafka-clients 4.x): admin, idempotent producer and consumer in one
program built by setup.sh with Maven."""

import os
import shutil
import subprocess

import harness


def test_java_clients_round_trip(broker):
    target = harness.JAVA_DIR / "target"
    jar = target / "clients-roundtrip.jar"
    assert jar.exists(), f"{jar} missing: run setup.sh"
    java = os.environ.get("JAVA") or shutil.which("java")
    topic = harness.unique_topic("java4")
    out = subprocess.run([java, "-Xmx512m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                          "-cp", f"{jar}:{target / 'lib'}/*", "dev.odradek.compat.ClientsRoundTrip",
                          broker.bootstrap, topic], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr[-4000:]
    assert out.stdout.startswith("ok: 300 records"), out.stdout
