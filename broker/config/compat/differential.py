#!/usr/bin/env python3
"""Differential test of broker/config against Apache Kafka 3.9.

Generates deterministic inputs, asks Kafka (KafkaConfigOracle) and Odradek
(config_oracle_tool) the same questions, and fails on any disagreement:
  props  - every generated .properties text reads to the same keys/values
  values - every broker and topic key parses and validates the same way,
           with the same message (syntax-checked keys: same verdict only)
  broker - every generated KRaft configuration is accepted or refused alike
  describe - for generated broker settings and topic overrides, every
           DescribeConfigs entry of the broker and of the topic is the same
           (value, source, read-only, sensitive, type, synonyms)

usage: differential.py WORKDIR KAFKA_CMD... -- ODRADEK_CMD...
(the Odradek command also answers "keys -" with the table keys)
"""
import os
import random
import subprocess
import sys

# Keys whose syntax Kafka checks only when it builds the whole broker config
# (compared in the broker part instead), or that Odradek restricts on
# purpose (authorizer.class.name, group.consumer.assignors: Kafka loads Java
# classes by these names, Odradek knows the built-in ones).
NOT_COMPARED = {"advertised.listeners", "listeners", "listener.security.protocol.map",
                "controller.quorum.voters", "controller.quorum.bootstrap.servers",
                "authorizer.class.name", "offsets.topic.compression.codec", "group.consumer.assignors"}
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


DESCRIBE_BASE = ("process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@localhost:9093\n"
                 "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\n"
                 "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\nlog.dirs=/tmp/x\n")
DESCRIBE_BROKER = {
    "log.retention.hours": ["100", "-1", " 24"], "log.retention.minutes": ["30", "0"],
    "log.retention.ms": ["1000", "-1"], "log.roll.hours": ["5"], "log.roll.ms": ["99"],
    "log.roll.jitter.hours": ["2"], "log.roll.jitter.ms": ["7"], "log.flush.interval.ms": ["777"],
    "log.flush.scheduler.interval.ms": ["500"], "log.flush.interval.messages": ["10000"],
    "log.cleanup.policy": ["compact", "compact, delete", "delete"], "compression.type": ["zstd", "lz4"],
    "min.insync.replicas": ["2"], "message.max.bytes": ["2000000"], "log.segment.bytes": ["2000000 ", "1048576"],
    "log.cleaner.min.cleanable.ratio": ["0.50", "0.3"], "log.preallocate": ["TRUE", "false"],
    "num.io.threads": [" 8", "16"], "ssl.keystore.password": ["secret"], "sasl.jaas.config": ["x"],
    "listener.name.plaintext.ssl.keystore.type": ["PKCS12"], "super.users": ["User:a"],
    "custom.key": ["v"], "log.message.timestamp.type": ["LogAppendTime"],
    "unclean.leader.election.enable": ["true"], "log.local.retention.ms": ["5000"],
    "log.cleaner.delete.retention.ms": ["1000"], "log.index.interval.bytes": ["8192"],
    "advertised.listeners": ["PLAINTEXT://h:9092"], "broker.rack": ["r1"], "log.dir": ["/tmp/y"],
    "log.cleaner.max.compaction.lag.ms": ["100000"], "log.message.timestamp.difference.max.ms": ["1000"],
    "sasl.enabled.mechanisms": ["PLAIN,SCRAM-SHA-256"], "group.consumer.assignors": ["uniform"],
    "compression.gzip.level": ["5"], "message.downconversion.enable": ["false"],
}
DESCRIBE_TOPIC = {
    "retention.ms": ["1000", "-1", " 5000 "], "segment.ms": ["60000"], "cleanup.policy": ["compact", "compact,delete", ""],
    "max.message.bytes": ["5000"], "min.cleanable.dirty.ratio": ["0.25", "1"], "preallocate": ["TRUE"],
    "compression.type": ["gzip"], "message.timestamp.type": ["LogAppendTime"], "segment.jitter.ms": ["10"],
    "flush.ms": ["100"], "min.compaction.lag.ms": ["100"], "retention.bytes": ["-5", "1000"],
    "segment.bytes": ["16384"], "message.downconversion.enable": ["false"], "local.retention.ms": ["1"],
    "leader.replication.throttled.replicas": ["*", "0:1"], "message.format.version": ["2.8"],
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

    # describe
    ddir = os.path.join(work, "describe")
    os.makedirs(ddir, exist_ok=True)
    dargs = []
    for i in range(150):
        bpath, tpath = os.path.join(ddir, "%03d.broker" % i), os.path.join(ddir, "%03d.topic" % i)
        with open(bpath, "w") as f:
            f.write(DESCRIBE_BASE)
            for key in rng.sample(sorted(DESCRIBE_BROKER), rng.randint(0, 12)):
                f.write("%s=%s\n" % (key, rng.choice(DESCRIBE_BROKER[key])))
        with open(tpath, "w") as f:
            for key in rng.sample(sorted(DESCRIBE_TOPIC), rng.randint(0, 6)):
                f.write("%s=%s\n" % (key, rng.choice(DESCRIBE_TOPIC[key])))
        dargs += [bpath, tpath]
    k, o = run(kafka + ["describe"] + dargs), run(odradek + ["describe"] + dargs)
    kskip = {l.split("\t")[0] for l in k if l.endswith("\tSKIP")}
    oskip = {l.split("\t")[0] for l in o if l.endswith("\tSKIP")}
    failures += ["describe %s: refused by %s only" % (p, "Kafka" if p in kskip else "Odradek")
                 for p in sorted(kskip ^ oskip)]
    kset = {l for l in k if l.split("\t")[0] not in kskip | oskip}
    oset = {l for l in o if l.split("\t")[0] not in kskip | oskip}
    failures += ["describe: kafka only:   " + l for l in sorted(kset - oset)]
    failures += ["describe: odradek only: " + l for l in sorted(oset - kset)]
    described = len(dargs) // 2 - len(kskip | oskip)

    print("props: %d files, values: %d pairs, broker: %d configs (%d accepted by Kafka), describe: %d configs, %d entries"
          % (len(pfiles), pairs, len(bfiles), accepted, described, len(kset)))
    for f in failures[:40]:
        print("MISMATCH " + f)
    print("%d mismatches" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
