#!/usr/bin/env python3
"""Compares Odradek's KIP-848 assignors with Apache Kafka 3.9.2's.

Drives od_assignor_tool (C) and AssignorDiff (Java, Kafka's
group-coordinator jar) with the same random scenarios: groups whose members
join and leave and whose topics grow, each step starting from the previous
step's target assignment (Kafka's), as the coordinator does, or, on some
steps, from no assignment at all. Three kinds of group: range, uniform with
equal subscriptions, uniform with a random subset of the topics per member
(Kafka's UniformHeterogeneousAssignmentBuilder). Every answer must be
identical, "error" included (inputs on which Kafka 3.9.2's heterogeneous
builder throws; the coordinator then keeps the previous target, and so does
the next step here). The run repeats for several seeds.

usage: assignor_diff.py OD_ASSIGNOR_TOOL JAVA CLASSPATH [STEPS]
"""
import base64
import os
import random
import subprocess
import sys


class Tool:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, scenario):
        self.p.stdin.write(scenario)
        self.p.stdin.flush()
        lines = []
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError("tool exited")
            line = line.rstrip("\n")
            if line == "end":
                return lines
            lines.append(line)

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def member_id(rng):
    return base64.urlsafe_b64encode(rng.randbytes(16)).decode().rstrip("=")


def render(assignor, topics, members, current):
    out = [f"assignor {assignor}"]
    for tid, n in topics.items():
        out.append(f"topic {tid} {n}")
    for mid, subs, instance in members:
        cur = current.get(mid, "-")
        line = f"member {mid} {','.join(subs) if subs else '-'} {cur}"
        out.append(line + (f" {instance}" if instance else ""))
    out.append("end")
    return "\n".join(out) + "\n"


def parse(lines):
    result = {}
    for line in lines:
        mid, tps = line.split(" ")
        result[mid] = tps
    return result


def owned(tps):
    if tps == "-":
        return []
    res = []
    for topic in tps.split(";"):
        tid, parts = topic.split(":")
        res += [(tid, int(p)) for p in parts.split(",")]
    return res


def valid(topics, members, answer):
    seen = set()
    for mid, subs, _ in members:
        for tp in owned(answer[mid]):
            if tp in seen or tp[0] not in subs or tp[1] >= topics[tp[0]]:
                return False
            seen.add(tp)
    subscribed = {t for _, subs, _ in members for t in subs}
    return len(seen) == sum(topics[t] for t in subscribed if t in topics)


def locally_balanced(members, answer):
    """No member holds two more partitions than another member that
    subscribes to one of its topics (nothing could move to even them)."""
    for hi, _, _ in members:
        mine = owned(answer[hi])
        for lo, subs, _ in members:
            if len(mine) - len(owned(answer[lo])) >= 2 and any(t in subs for t, _ in mine):
                return False
    return True


def run_seed(od, kafka, seed, steps, compared):
    rng = random.Random(seed)
    mismatches = 0
    for group in range(steps // 20):
        kind = rng.choice(["uniform", "range", "uniform-heterogeneous"])
        assignor = "range" if kind == "range" else "uniform"
        heterogeneous = kind == "uniform-heterogeneous"
        big = rng.random() < 0.3  # more topics and partitions: more HashSet collisions to get right
        topics = {rng.randbytes(16).hex(): rng.randint(1, 40 if big else 12)
                  for _ in range(rng.randint(1, 15 if big else 5))}
        missing = rng.randbytes(16).hex()
        members = []
        current = {}
        for step in range(20):
            roll = rng.random()
            if not members or roll < 0.4:
                subs = list(topics)
                if heterogeneous:
                    subs = rng.sample(subs, rng.randint(1, len(subs)))
                if assignor == "uniform" and rng.random() < 0.1:
                    # a topic that does not exist: Kafka then calls the group
                    # heterogeneous, unless every member names it
                    subs.append(rng.choice([missing, rng.randbytes(16).hex()]))
                instance = f"i{rng.randrange(1000)}" if rng.random() < 0.3 else None
                if instance in {m[2] for m in members}:
                    instance = None
                members.append((member_id(rng), subs, instance))
            elif roll < 0.6 and len(members) > 1:
                gone = members.pop(rng.randrange(len(members)))
                current.pop(gone[0], None)
            elif roll < 0.7:
                t = rng.choice(list(topics))
                topics[t] += rng.randint(1, 3)
            elif roll < 0.8 and heterogeneous:
                # a member changes its subscription
                i = rng.randrange(len(members))
                mid, _, instance = members[i]
                members[i] = (mid, rng.sample(list(topics), rng.randint(1, len(topics))), instance)
            fresh = rng.random() < 0.15
            scenario = render(assignor, topics, members, {} if fresh else current)
            ours = od.ask(scenario)
            theirs = kafka.ask(scenario)
            compared[kind] += 1
            if theirs == ["error"]:
                compared["kafka-error"] += 1
            if ours != theirs:
                mismatches += 1
                print(f"MISMATCH ({kind}, seed {seed}) on:\n{scenario}odradek: {ours}\nkafka:   {theirs}\n")
            if theirs != ["error"]:
                answer = parse(theirs)
                if not valid(topics, members, answer):
                    mismatches += 1
                    print(f"INVALID answer from Kafka (seed {seed}):\n{scenario}{theirs}\n")
                if heterogeneous and not locally_balanced(members, answer):
                    compared["kafka-not-locally-balanced"] += 1
                current = answer
    return mismatches


def main():
    tool, java, classpath = sys.argv[1:4]
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 400
    seeds = int(os.environ.get("SEEDS", "3"))
    first = int(os.environ.get("SEED", "848"))
    od = Tool([tool])
    kafka = Tool([java, "-cp", classpath, "AssignorDiff"])
    compared = {"uniform": 0, "range": 0, "uniform-heterogeneous": 0, "kafka-error": 0,
                "kafka-not-locally-balanced": 0}
    mismatches = 0
    for seed in range(first, first + seeds):
        mismatches += run_seed(od, kafka, seed, steps, compared)
    od.close()
    kafka.close()
    print(f"compared {compared}, mismatches {mismatches}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
