#!/usr/bin/env python3
"""Dynamic broker configs through Kafka's own kafka-configs tool
(kafka.admin.ConfigCommand): per-broker values (--entity-name 1) and
cluster-wide defaults (--entity-default) are set, described with Kafka's
sources and synonyms, refused for read-only keys and bad values with
Kafka's messages, inherited by topics (DescribeConfigs of a topic), acted
on (a record above the static message.max.bytes is taken once the dynamic
value allows it, refused again after --delete-config), and kept across the
broker's own metadata (describe after the changes). Over the wire
(AlterConfigs v1, IncrementalAlterConfigs v0, DescribeConfigs v1): a refusal
names every refused key as Kafka's Scala code prints a set, deleting a
read-only key is allowed, and a broker resource naming another node (or no
integer) is refused by the broker that gets it.

usage: dynamic_configs.py KAFKA_SH HOST PORT   (exit 0 when all holds)
"""
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from produce_errors import Conn, batch, create_topic, produce, string, wait_served  # noqa: E402


def read_string(data, off):
    n = struct.unpack(">h", data[off:off + 2])[0]
    if n < 0:
        return None, off + 2
    return data[off + 2:off + 2 + n].decode(), off + 2 + n


def alter_results(data):
    """(error, message, name) per resource of an (Incremental)AlterConfigs response."""
    off = 4
    count = struct.unpack(">i", data[off:off + 4])[0]
    off += 4
    out = []
    for _ in range(count):
        err = struct.unpack(">h", data[off:off + 2])[0]
        msg, off = read_string(data, off + 2)
        name, off = read_string(data, off + 1)
        out.append((err, msg, name))
    return out


def alter_configs(conn, name, configs, validate_only=False):
    """AlterConfigs v1 on one BROKER resource; configs: [(key, value)]."""
    body = struct.pack(">ib", 1, 4) + string(name) + struct.pack(">i", len(configs))
    for key, value in configs:
        body += string(key) + string(value)
    return alter_results(conn.call(33, 1, body + struct.pack(">b", int(validate_only))))


def incremental_alter_configs(conn, name, ops, validate_only=False):
    """IncrementalAlterConfigs v0 on one BROKER resource; ops: [(key, op, value or None)]."""
    body = struct.pack(">ib", 1, 4) + string(name) + struct.pack(">i", len(ops))
    for key, op, value in ops:
        body += string(key) + struct.pack(">b", op) + (string(value) if value is not None else b"\xff\xff")
    return alter_results(conn.call(44, 0, body + struct.pack(">b", int(validate_only))))


def describe_error(conn, name, keys):
    """DescribeConfigs v1 of one BROKER resource: (error, message)."""
    body = struct.pack(">ib", 1, 4) + string(name) + struct.pack(">i", len(keys))
    body += b"".join(string(k) for k in keys) + b"\x00"
    data = conn.call(32, 1, body)
    err = struct.unpack(">h", data[8:10])[0]
    return err, read_string(data, 10)[0] if err else None


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
    wait_served(conn, topic)
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

    # Refusals over the wire. Three read-only keys keep Java's Properties
    # order in a Scala Set; seven become a HashSet in hash order.
    read_only = [("log.dirs", "/x"), ("broker.id", "5"), ("node.id", "3")]
    many = read_only + [("process.roles", "broker"), ("listeners", "PLAINTEXT://:1"),
                        ("zookeeper.connect", "x"), ("controller.quorum.voters", "1@x:1")]
    three = "Cannot update these configs dynamically: Set(node.id, broker.id, log.dirs)"
    six = ("Cannot update these configs dynamically: HashSet(process.roles, broker.id, log.dirs, "
           "zookeeper.connect, node.id, controller.quorum.voters)")
    expect("AlterConfigs, three read-only keys", alter_configs(conn, "1", read_only), [(42, three, "1")])
    expect("IncrementalAlterConfigs, three read-only keys",
           incremental_alter_configs(conn, "1", [(k, 0, v) for k, v in reversed(read_only)]), [(42, three, "1")])
    expect("AlterConfigs, six read-only keys", alter_configs(conn, "1", many), [(42, six, "1")])
    expect("IncrementalAlterConfigs, six read-only keys",
           incremental_alter_configs(conn, "1", [(k, 0, v) for k, v in reversed(many)]), [(42, six, "1")])
    expect("read-only key named before a bad value",
           incremental_alter_configs(conn, "1", [("message.max.bytes", 0, "abc"), ("log.dirs", 0, "/x")]),
           [(42, "Cannot update these configs dynamically: Set(log.dirs)", "1")])
    expect("SSL keys without a listener prefix", incremental_alter_configs(conn, "1", [
        ("ssl.keystore.location", 0, "/a"), ("ssl.truststore.location", 0, "/a"), ("ssl.key.password", 0, "x")]),
        [(42, "These security configs can be dynamically updated only per-listener using the listener prefix: "
          "HashSet(ssl.truststore.location, ssl.key.password, ssl.keystore.location)", "1")])
    expect("one SSL key without a listener prefix", alter_configs(conn, "1", [("ssl.keystore.type", "JKS")]),
           [(42, "These security configs can be dynamically updated only per-listener using the listener prefix: "
             "HashSet(ssl.keystore.type)", "1")])
    expect("deleting read-only keys",
           incremental_alter_configs(conn, "1", [("log.dirs", 1, None), ("broker.id", 1, None)]), [(0, None, "1")])
    expect("per-broker listener keys at the cluster default", incremental_alter_configs(conn, "", [
        ("listener.name.plaintext.ssl.keystore.location", 0, "/a"),
        ("listener.name.plaintext.ssl.truststore.location", 0, "/b")]),
        [(42, "Cannot update these configs at default cluster level, broker id must be specified: "
          "Set(listener.name.plaintext.ssl.keystore.location, listener.name.plaintext.ssl.truststore.location)", "")])
    for name in ("2", "-1", "+2", "02"):
        other = "Unexpected broker id, expected 1, but received " + name
        for validate_only in (False, True):
            expect("AlterConfigs for node %s" % name,
                   alter_configs(conn, name, [("log.cleaner.threads", "2")], validate_only), [(42, other, name)])
            expect("IncrementalAlterConfigs for node %s" % name,
                   incremental_alter_configs(conn, name, [("log.cleaner.threads", 0, "2")], validate_only),
                   [(42, other, name)])
        expect("DescribeConfigs for node %s" % name, describe_error(conn, name, ["log.cleaner.threads"]),
               (42, "Unexpected broker id, expected 1 or empty string, but received " + name))
    for name in ("abc", " 1", "99999999999"):
        expect("AlterConfigs for broker %r" % name, alter_configs(conn, name, [("log.cleaner.threads", "2")]),
               [(42, "Node id must be an integer, but it is: " + name, name)])
        expect("IncrementalAlterConfigs for broker %r" % name,
               incremental_alter_configs(conn, name, [("log.cleaner.threads", 0, "2")]),
               [(42, "Node id must be an integer, but it is: " + name, name)])
        expect("DescribeConfigs for broker %r" % name, describe_error(conn, name, []),
               (42, "Broker id must be an integer, but it is: " + name))
    expect("+1 is this node", alter_configs(conn, "+1", [("log.cleaner.threads", "2")], True), [(0, None, "+1")])
    expect("the refused keys changed nothing", describe_error(conn, "1", ["log.dirs"]), (0, None))

    if failures:
        print("\n".join(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
