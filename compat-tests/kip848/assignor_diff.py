#!/usr/bin/env python3
"""Compares Odradek's KIP-848 assignors with Apache Kafka 3.9.2's.

Drives od_assignor_tool (C) and AssignorDiff (Java, Kafka's
group-coordinator jar) with the same random scenarios: groups whose members
join and leave and whose topics grow, each step starting from the previous
step's target assignment (Kafka's), as the coordinator does. Every answer
must be identical for range, and for uniform with equal subscriptions;
uniform with differing subscriptions (a different algorithm in Odradek, see
consumer_group.h) must still be valid: each subscribed partition once, to a
subscriber, and no member two partitions ahead of another member that could
take one of them.

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
    return len(seen) == sum(topics[t] for t in subscribed)


def locally_balanced(members, answer):
    """No member holds two more partitions than another member that
    subscribes to one of its topics (nothing could move to even them)."""
    for hi, _, _ in members:
        mine = owned(answer[hi])
        for lo, subs, _ in members:
            if len(mine) - len(owned(answer[lo])) >= 2 and any(t in subs for t, _ in mine):
                return False
    return True


def main():
    tool, java, classpath = sys.argv[1:4]
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 400
    rng = random.Random(int(os.environ.get("SEED", "848")))
    here = os.path.dirname(os.path.abspath(__file__))
    od = Tool([tool])
    kafka = Tool([java, "-cp", classpath, "AssignorDiff"])
    compared = {"uniform": 0, "range": 0, "uniform-heterogeneous": 0}
    mismatches = 0
    for group in range(steps // 20):
        assignor = rng.choice(["uniform", "range"])
        topics = {rng.randbytes(16).hex(): rng.randint(1, 12) for _ in range(rng.randint(1, 4))}
        heterogeneous = rng.random() < 0.3
        members = []
        current = {}
        for step in range(20):
            roll = rng.random()
            if not members or roll < 0.4:
                subs = list(topics)
                if heterogeneous:
                    subs = rng.sample(subs, rng.randint(1, len(subs)))
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
            scenario = render(assignor, topics, members, current)
            ours = parse(od.ask(scenario))
            theirs = parse(kafka.ask(scenario))
            kind = assignor + ("-heterogeneous" if heterogeneous and assignor == "uniform" else "")
            compared[kind] += 1
            if kind == "uniform-heterogeneous":
                ok = valid(topics, members, ours) and locally_balanced(members, ours)
            else:
                ok = ours == theirs
            if not ok:
                mismatches += 1
                print(f"MISMATCH ({kind}) on:\n{scenario}odradek: {ours}\nkafka:   {theirs}\n")
            current = theirs
    od.close()
    kafka.close()
    print(f"compared {compared}, mismatches {mismatches}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
