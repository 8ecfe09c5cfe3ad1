#!/usr/bin/env python3
"""Differential test of broker/config against Apache Kafka 3.9.

Generates deterministic inputs, asks Kafka (KafkaConfigOracle) and Odradek
(config_oracle_tool) the same questions, and fails on any disagreement:
  props  - every generated .properties text reads to the same keys/values
  values - every broker and topic key parses and validates the same way,
           with the same message (syntax-checked keys: same verdict only)
  broker - every generated KRaft configuration is accepted or refused alike

usage: differential.py WORKDIR KAFKA_CMD... -- ODRADEK_CMD...
(the Odradek command also answers "keys -" with the table keys)
"""
import os
import random
import subprocess
import sys

# Keys whose syntax Kafka checks only when it builds the whole broker config
# (compared in the broker part instead), or that Odradek restricts on
# purpose (authorizer.class.name: no Java classes to load).
NOT_COMPARED = {"advertised.listeners", "listeners", "listener.security.protocol.map",
                "controller.quorum.voters", "controller.quorum.bootstrap.servers",
                "authorizer.class.name", "offsets.topic.compression.codec"}
# Same verdict, different wording.
VERDICT_ONLY = {"leader.replication.throttled.replicas", "follower.replication.throttled.replicas"}

PROPS_TOKENS = ["\\", "\\", "\\\\", "\n", "\r", "\r\n", " ", "  ", "\t", "\f", "=", ":", "#", "!",
                "a", "b", "k.e.y", "u", "0", "F", "t", "n", "r", "f", "\\u", "\\u00e9", "\\u20ac",
                "\\u0", "\\\n", "\\\r\n", "x=y\n", "#c\n", "!c\\\n"]

VALUES = ["", " ", "0", "-1", "1", "abc", "true", "TRUE", " false ", "1.5", "99999999999", "-2", "+5",
          " 7 ", "0x10", "1e3", "NaN", "0.5d", "compact", "delete,compact", "compact, delete,", "producer",
          "CreateTime", "classic", "consumer,classic", "GSSAPI", "none", "3.9-IV0", "3.9.1", "4.0",
          "PLAINTEXT://:9092", "2147483648", "-131073", "22", "40000", "1@h:9093", "*", "0:1,1:2",
          "DISABLED", "upgrade"]

A = None
BROKER_CHOICES = {
    "process.roles": ["broker,controller", "broker", "controller", A, "controller,broker"],
    "node.id": ["1", "2", A, "-1", "3"],
    "broker.id": [A, "1", "2"],
    "controller.quorum.voters": ["1@localhost:9093", "2@h:9093", A, "1@localhost:9093,2@h:9094",
                                 "localhost:9093", "1@[::1]:9093", ""],
    "controller.quorum.bootstrap.servers": [A, "localhost:9093", "bad", ""],
    "listeners": ["PLAINTEXT://:9092,CONTROLLER://:9093", "PLAINTEXT://:9092", "CONTROLLER://:9093",
                  "PLAINTEXT://:9092,CONTROLLER://:9093,SSL://:9094", "INTERNAL://:9095,CONTROLLER://:9093", A,
                  "plaintext://:9092,controller://:9093", "PLAINTEXT://[::1]:9092,CONTROLLER://:9093",
                  "SASL_PLAINTEXT://:9096,CONTROLLER://:9093", "PLAINTEXT://:9092,CONTROLLER://:9092"],
    "controller.listener.names": ["CONTROLLER", A, "CONTROLLER,OTHER", "PLAINTEXT", "controller", ""],
    "listener.security.protocol.map": [
        "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL", A,
        "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,INTERNAL:SSL", "PLAINTEXT:PLAINTEXT",
        "CONTROLLER:SSL,PLAINTEXT:PLAINTEXT", "controller:plaintext,plaintext:plaintext"],
    "advertised.listeners": [A, "PLAINTEXT://localhost:9092", "PLAINTEXT://0.0.0.0:9092", "INTERNAL://h:9095",
                             "PLAINTEXT://h:9092,CONTROLLER://h:9093", "SSL://h:9094", "SASL_PLAINTEXT://h:9096"],
    "inter.broker.listener.name": [A, "PLAINTEXT", "INTERNAL", "CONTROLLER", "SSL", "SASL_PLAINTEXT", "plaintext"],
    "security.inter.broker.protocol": [A, "PLAINTEXT", "SSL", "SASL_PLAINTEXT"],
    "sasl.enabled.mechanisms": [A, "PLAIN", "GSSAPI,PLAIN"],
    "sasl.mechanism.inter.broker.protocol": [A, "PLAIN"],
    "log.retention.ms": [A, "0", "-5"],
    "log.retention.minutes": [A, "0", "10"],
    "log.dirs": ["/tmp/x", A, ""],
    "log.dir": [A, ""],
    "group.coordinator.rebalance.protocols": [A, "classic,consumer", "consumer"],
    "log.cleaner.threads": [A, "200"],
    "group.consumer.heartbeat.interval.ms": [A, "50000", "46000"],
    "group.consumer.session.timeout.ms": [A, "46000"],
}


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()


def by_first_field(lines):
    out = {}
    for line in lines:
        name, _, rest = line.partition("\t")
        out[name] = rest
    return out


def main():
    work = sys.argv[1]
    split = sys.argv.index("--")
    kafka, odradek = sys.argv[2:split], sys.argv[split + 1:]
    rng = random.Random(20241121)
    failures = []

    # props
    pdir = os.path.join(work, "props")
    os.makedirs(pdir, exist_ok=True)
    pfiles = []
    for i in range(3000):
        path = os.path.join(pdir, "%04d.properties" % i)
        with open(path, "w", newline="") as f:
            f.write("".join(rng.choice(PROPS_TOKENS) for _ in range(rng.randint(1, 50))))
        pfiles.append(path)
    k, o = by_first_field(run(kafka + ["props"] + pfiles)), by_first_field(run(odradek + ["props"] + pfiles))
    failures += ["props %s: kafka [%s] odradek [%s]" % (p, k[p], o.get(p)) for p in pfiles if k[p] != o.get(p)]

    # values: every key either table knows, with every sample value
    tsv = os.path.join(work, "values.tsv")
    pairs = 0
    with open(tsv, "w") as f:
        for line in run(odradek + ["keys", "-"]):
            which, key = line.split("\t")
            for v in VALUES:
                f.write("%s\t%s\t%s\n" % (which, key, v))
                pairs += 1
    k = run(kafka + ["values", tsv])
    o = run(odradek + ["values", tsv])
    for kl, ol in zip(k, o):
        which, key, value, kres = kl.split("\t", 3)
        ores = ol.split("\t", 3)[3]
        if "could not be found" in kres or key in NOT_COMPARED:
            continue  # CLASS keys: Kafka tries to load the class
        if key in VERDICT_ONLY:
            if (kres == "OK") != (ores == "OK"):
                failures.append("value %s=[%s]: kafka %s | odradek %s" % (key, value, kres, ores))
        elif kres != ores:
            failures.append("value %s=[%s]: kafka %s | odradek %s" % (key, value, kres, ores))

    # broker
    bdir = os.path.join(work, "broker")
    os.makedirs(bdir, exist_ok=True)
    bfiles = []
    for i in range(3000):
        path = os.path.join(bdir, "%04d.properties" % i)
        with open(path, "w") as f:
            for key, choices in BROKER_CHOICES.items():
                x = choices[0] if rng.random() < 0.8 else rng.choice(choices)
                if x is not None:
                    f.write("%s=%s\n" % (key, x))
        bfiles.append(path)
    k, o = by_first_field(run(kafka + ["broker"] + bfiles)), by_first_field(run(odradek + ["broker"] + bfiles))
    accepted = sum(1 for p in bfiles if k[p] == "OK")
    for p in bfiles:
        if k[p][:2] != o[p][:2]:
            failures.append("broker %s: kafka %s | odradek %s" % (p, k[p], o[p]))

    print("props: %d files, values: %d pairs, broker: %d configs (%d accepted by Kafka)"
          % (len(pfiles), pairs, len(bfiles), accepted))
    for f in failures[:40]:
        print("MISMATCH " + f)
    print("%d mismatches" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
