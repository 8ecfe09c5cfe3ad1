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


def test_java_client_telemetry_quiet(broker):
    """KIP-714: a Java client (3.7+) asks every broker for a telemetry subscription. At the
    default log level (info) it must log no telemetry warning or error. Odradek answers
    GetTelemetrySubscriptions (an empty subscription), so its client registers an instance id;
    Kafka 3.9.2 without a ClientTelemetry reporter does not advertise the API, and the client
    stays silent about it."""
    target = harness.JAVA_DIR / "target"
    jar = target / "clients-roundtrip.jar"
    assert jar.exists(), f"{jar} missing: run setup.sh"
    java = os.environ.get("JAVA") or shutil.which("java")
    topic = harness.unique_topic("javatel")
    out = subprocess.run([java, "-Xmx512m", "-cp", f"{jar}:{target / 'lib'}/*",
                          "dev.odradek.compat.ClientsRoundTrip", broker.bootstrap, topic],
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr[-4000:]
    log = out.stderr.splitlines()
    loud = [line for line in log if ("WARN" in line or "ERROR" in line) and "elemetry" in line]
    assert not loud, "\n".join(loud)
    registered = [line for line in log if "Client telemetry registered with client instance id" in line]
    if broker.name == "odradek":
        assert registered, "no telemetry registration at info level:\n" + "\n".join(log[-40:])
    else:
        assert not registered, "\n".join(registered)
