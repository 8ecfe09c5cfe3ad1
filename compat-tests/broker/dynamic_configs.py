#!/usr/bin/env python3
"""Dynamic broker configs through Kafka's own kafka-configs tool
(kafka.admin.ConfigCommand): per-broker values (--entity-name 1) and
cluster-wide defaults (--entity-default) are set, described with Kafka's
sources and synonyms, refused for read-only keys and bad values with
Kafka's messages, inherited by topics (DescribeConfigs of a topic), acted
on (a record above the static message.max.bytes is taken once the dynamic
value allows it, refused again after --delete-config), and kept across the
broker's own metadata (describe after the changes).

usage: dynamic_configs.py KAFKA_SH HOST PORT   (exit 0 when all holds)
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from produce_errors import Conn, batch, create_topic, produce  # noqa: E402


def main():
    kafka_sh, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    failures = []

    def configs(*args):
        out = subprocess.run([kafka_sh, "run", "kafka.admin.ConfigCommand", "--bootstrap-server",
                              "%s:%d" % (host, port), *args], capture_output=True, text=True, timeout=180)
        return out.returncode, [line for line in (out.stdout + out.stderr).splitlines() if " INFO " not in line]

    def expect(what, got, want):
        if got != want:
            failures.append("%s:\n  got  %r\n  want %r" % (what, got, want))

    def entries(lines):
        return [line.strip() for line in lines if line.startswith("  ")]

    rc, out = configs("--entity-type", "brokers", "--entity-name", "1", "--alter", "--add-config",
                      "log.cleaner.threads=2,message.max.bytes=2000000")
    expect("alter broker 1", (rc, out[-1:]), (0, ["Completed updating config for broker 1."]))
    rc, out = configs("--entity-type", "brokers", "--entity-default", "--alter", "--add-config",
                      "log.retention.ms=7200000")
    expect("alter the cluster default", (rc, out[-1:]),
           (0, ["Completed updating default config for brokers in the cluster."]))
    rc, out = configs("--entity-type", "brokers", "--entity-name", "1", "--describe")
    expect("describe broker 1", entries(out), [
        "log.cleaner.threads=2 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.cleaner.threads=2, "
        "DEFAULT_CONFIG:log.cleaner.threads=1}",
        "message.max.bytes=2000000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:message.max.bytes=2000000, "
        "DEFAULT_CONFIG:message.max.bytes=1048588}"])
    rc, out = configs("--entity-type", "brokers", "--entity-default", "--describe")
    expect("describe the cluster default", entries(out), [
        "log.retention.ms=7200000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=7200000}"])

    rc, out = configs("--entity-type", "brokers", "--entity-name", "1", "--alter", "--add-config", "log.dirs=/x")
    expect("read-only key refused", [line for line in out if line.startswith("Caused by")],
           ["Caused by: org.apache.kafka.common.errors.InvalidRequestException: "
            "Cannot update these configs dynamically: Set(log.dirs)"])
    rc, out = configs("--entity-type", "brokers", "--entity-name", "1", "--alter", "--add-config",
                      "message.max.bytes=abc")
    expect("bad value refused", [line for line in out if line.startswith("Caused by")],
           ["Caused by: org.apache.kafka.common.errors.InvalidRequestException: "
            "Invalid value abc for configuration message.max.bytes: Not a number of type INT"])

    # Topics inherit: their DescribeConfigs names the dynamic synonyms, and
    # a 1.5 MB record (above the static 1048588) is taken.
    conn = Conn(host, port)
    suffix = str(int(time.time() * 1000) % 100000)
    topic = "dyn-" + suffix
    expect("create", create_topic(conn, topic, {}), 0)
    time.sleep(1)
    rc, out = configs("--entity-type", "topics", "--entity-name", topic, "--describe", "--all")
    got = [e for e in entries(out) if e.startswith(("max.message.bytes=", "retention.ms="))]
    expect("topic inherits", got, [
        "max.message.bytes=2000000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:message.max.bytes=2000000, "
        "DEFAULT_CONFIG:message.max.bytes=1048588}",
        "retention.ms=7200000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=7200000, "
        "DEFAULT_CONFIG:log.retention.hours=168}"])
    big = batch([b"b" * 1500000])
    expect("1.5 MB record under the dynamic message.max.bytes", produce(conn, topic, big)[0], 0)

    rc, out = configs("--entity-type", "brokers", "--entity-name", "1", "--alter", "--delete-config",
                      "message.max.bytes")
    expect("delete", rc, 0)
    rc, out = configs("--entity-type", "brokers", "--entity-name", "1", "--describe")
    expect("describe after delete", [e.split(" ")[0] for e in entries(out)], ["log.cleaner.threads=2"])
    expect("1.5 MB record after the delete", produce(conn, topic, big)[0], 10)
    if failures:
        print("\n".join(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
