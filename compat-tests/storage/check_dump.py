#!/usr/bin/env python3
"""Reads what Apache Kafka's DumpLogSegments printed and compares it with
what od_storage_compat says it wrote (or read).

  check_dump.py od-to-kafka EXPECT_DIR LOG_DUMP INDEX_DUMP VERIFY_DUMP SANITY_DUMP
  check_dump.py txnindex TXN_DUMP OD_ABORTED
  check_dump.py producers SNAPSHOT_DUMP OD_PRODUCERS
  check_dump.py same FILE_A FILE_B [label]

Exit status 0 when everything agrees; otherwise each difference is printed
(the first few of each kind) and the status is 1.
"""
import re
import sys

# What DumpLogSegments prints when a file is not what Kafka expects. Any of
# these in any dump fails the test.
PROBLEMS = [
    re.compile(p) for p in (
        r"Mismatches in :",
        r"Non-consecutive offsets in",
        r"Found out of order timestamp",
        r"Found timestamp mismatch",
        r"indexed offsets are not found in the log",
        r"invalid bytes at the end of",
        r"isvalid: false",
        r"Exception",
        r"\bERROR\b",
        r"[Cc]orrupt",
        r"failed sanity check",
    )
]

BATCH = re.compile(
    r"^baseOffset: (\d+) lastOffset: (\d+) count: (\d+) baseSequence: (-?\d+) lastSequence: (-?\d+) "
    r"producerId: (-?\d+) producerEpoch: (-?\d+) partitionLeaderEpoch: (-?\d+) isTransactional: (\w+) "
    r"isControl: (\w+) deleteHorizonMs: \S+ position: (\d+) (?:CreateTime|LogAppendTime): (-?\d+) size: (\d+) magic: (\d+) "
    r"compresscodec: (\w+) crc: (\d+) isvalid: (\w+)$")
RECORD = re.compile(
    r"^\| offset: (\d+) (?:CreateTime|LogAppendTime): (-?\d+) keySize: (-?\d+) valueSize: (-?\d+) sequence: (-?\d+) "
    r"headerKeys: \[([^\]]*)\](.*)$")
DUMPING = re.compile(r"^Dumping (.*/)?(\d{20})\.(\w+)$")
OFFSET_ENTRY = re.compile(r"^offset: (\d+) position: (\d+)$")
TIME_ENTRY = re.compile(r"^timestamp: (-?\d+) offset: (\d+)$")
TXN_ENTRY = re.compile(
    r"^version: (\d+) producerId: (-?\d+) firstOffset: (\d+) lastOffset: (\d+) lastStableOffset: (\d+)$")
PRODUCER = re.compile(
    r"^producerId: (-?\d+) producerEpoch: (-?\d+) coordinatorEpoch: (-?\d+) "
    r"currentTxnFirstOffset: OptionalLong(?:\.empty|\[(\d+)\]) lastTimestamp: (-?\d+) "
    r"firstSequence: (-?\d+) lastSequence: (-?\d+) lastOffset: (-?\d+) offsetDelta: (-?\d+) timestamp: (-?\d+)$")


class Report:
    def __init__(self):
        self.errors = 0
        self.shown = {}

    def fail(self, kind, msg):
        self.errors += 1
        n = self.shown.get(kind, 0)
        if n < 10:
            print(f"{kind}: {msg}")
        elif n == 10:
            print(f"{kind}: (more differences not shown)")
        self.shown[kind] = n + 1


def scan_problems(rep, name, lines):
    for ln in lines:
        for p in PROBLEMS:
            if p.search(ln) and not ln.startswith("| offset:"):
                rep.fail("kafka-reported-problem", f"{name}: {ln}")


def read_lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().split("\n")


def split_by_file(lines):
    """{(base, suffix): [lines]} from a multi-file dump."""
    out, cur = {}, None
    for ln in lines:
        m = DUMPING.match(ln)
        if m:
            cur = (int(m.group(2)), m.group(3))
            out[cur] = []
        elif cur is not None:
            out[cur].append(ln)
    return out


def od_to_kafka(expect_dir, log_dump, index_dump, verify_dump, sanity_dump):
    rep = Report()
    dumps = {p: read_lines(p) for p in (log_dump, index_dump, verify_dump, sanity_dump)}
    for p, lines in dumps.items():
        scan_problems(rep, p, lines)

    # --- batches and records of every .log
    want_batches = [ln.split("\t")[1:] for ln in read_lines(f"{expect_dir}/batches") if ln]
    want_records = [ln.split("\t") for ln in read_lines(f"{expect_dir}/records") if ln]
    got_batches, got_records = [], []
    batch_pos = {}  # last offset -> (segment base, position, max timestamp)
    seg = None
    for ln in dumps[log_dump]:
        m = DUMPING.match(ln)
        if m:
            seg = int(m.group(2))
            continue
        m = BATCH.match(ln)
        if m:
            g = m.groups()
            if g[16] != "true":
                rep.fail("batch", f"not valid: {ln}")
            if int(g[2]) != int(g[1]) - int(g[0]) + 1:
                rep.fail("batch", f"count does not match the offsets: {ln}")
            got_batches.append([g[0], g[1], g[14], g[5], g[6], g[7], g[8], g[9]])
            batch_pos[int(g[1])] = (seg, int(g[10]), int(g[11]))
            continue
        if ln.startswith("| offset:"):
            m = RECORD.match(ln)
            if not m:
                rep.fail("record", f"unparsed line: {ln}")
                continue
            off, ts, ks, vs, seq, hkeys, rest = m.groups()
            mc = re.match(r"^ endTxnMarker: (\w+) coordinatorEpoch: (-?\d+)$", rest)
            if mc:
                got_records.append(["C", off, mc.group(1), mc.group(2)])
                continue
            key = value = "\\N"
            if int(ks) >= 0:
                mk = re.match(r"^ key: (\S*)", rest)
                key = mk.group(1) if mk else "?"
                rest = rest[mk.end():] if mk else rest
            if int(vs) >= 0:
                value = rest[len(" payload: "):] if rest.startswith(" payload: ") else "?"
            if key != "\\N" and len(key.encode()) != int(ks):
                rep.fail("record", f"keySize {ks} but key {key!r} at {off}")
            if value != "\\N" and len(value.encode()) != int(vs):
                rep.fail("record", f"valueSize {vs} but value of {len(value)} bytes at {off}")
            got_records.append(["R", off, ts, seq, key, value, hkeys])
    if got_batches != want_batches:
        rep.fail("batches", f"Kafka saw {len(got_batches)} batches, Odradek wrote {len(want_batches)}")
        for i, (g, w) in enumerate(zip(got_batches, want_batches)):
            if g != w:
                rep.fail("batches", f"#{i}: Kafka {g} / Odradek {w}")
    if got_records != want_records:
        rep.fail("records", f"Kafka saw {len(got_records)} records, Odradek wrote {len(want_records)}")
        for g, w in zip(got_records, want_records):
            if g != w:
                rep.fail("records", f"Kafka {g} / Odradek {w}")

    # --- index entries must name a batch's last offset and its position;
    # time index entries a batch's max timestamp, increasing.
    files = split_by_file(dumps[index_dump])
    n_off = n_time = 0
    segs_with_data = {b for (b, _, _) in batch_pos.values()}
    for (base, suffix), lines in sorted(files.items()):
        if suffix == "index":
            for ln in lines:
                m = OFFSET_ENTRY.match(ln)
                if not m:
                    continue
                n_off += 1
                off, pos = int(m.group(1)), int(m.group(2))
                if batch_pos.get(off, (None, None))[:2] != (base, pos):
                    rep.fail("index", f"{base}.index: offset {off} position {pos} is no batch end")
        elif suffix == "timeindex":
            prev = None
            for ln in lines:
                m = TIME_ENTRY.match(ln)
                if not m:
                    continue
                n_time += 1
                ts, off = int(m.group(1)), int(m.group(2))
                b = batch_pos.get(off)
                if b is None or b[0] != base:
                    rep.fail("timeindex", f"{base}.timeindex: offset {off} is no batch end in the segment")
                elif ts != b[2]:
                    rep.fail("timeindex", f"{base}.timeindex: {ts} is not the batch's max timestamp {b[2]}")
                if prev is not None and ts <= prev:
                    rep.fail("timeindex", f"{base}.timeindex: {ts} does not increase")
                prev = ts
    if n_off < len(segs_with_data) or n_time < len(segs_with_data):
        rep.fail("index", f"only {n_off} offset and {n_time} time index entries for {len(segs_with_data)} segments")

    # --- aborted transactions, per segment
    want_txn = sorted(tuple(int(x) for x in ln.split()) for ln in read_lines(f"{expect_dir}/aborted") if ln)
    got_txn = []
    for (base, suffix), lines in files.items():
        if suffix == "txnindex":
            for ln in lines:
                m = TXN_ENTRY.match(ln)
                if m:
                    got_txn.append((base, int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5))))
    if sorted(got_txn) != want_txn:
        rep.fail("txnindex", f"Kafka read {sorted(got_txn)}, Odradek wrote {want_txn}")
    if not want_txn:
        rep.fail("txnindex", "the workload wrote no aborted transaction")

    # --- the newest producer snapshot holds the final producer table
    snaps = sorted(b for (b, s) in files if s == "snapshot")
    want_prod = sorted(tuple(int(x) for x in ln.split()) for ln in read_lines(f"{expect_dir}/producers") if ln)
    got_prod = []
    if snaps:
        for ln in files[(snaps[-1], "snapshot")]:
            m = PRODUCER.match(ln)
            if m:
                g = m.groups()
                got_prod.append((int(g[0]), int(g[1]), int(g[6]), int(g[7]), int(g[3]) if g[3] else -1))
    if sorted(got_prod) != want_prod:
        rep.fail("snapshot", f"Kafka read {sorted(got_prod)} from snapshot {snaps[-1:]}, Odradek had {want_prod}")
    n_snap_lines = sum(1 for (b, s), ls in files.items() if s == "snapshot" for ln in ls if PRODUCER.match(ln))

    # --- index sanity check passed for every index file
    # An empty index (the new active segment after the last roll) is reported
    # as such instead of being checked.
    sane = sum(1 for ln in dumps[sanity_dump] if ln.endswith(("passed sanity check.", "is empty.")))
    n_index_files = sum(1 for (_, s) in files if s in ("index", "timeindex"))
    if sane != n_index_files:
        rep.fail("sanity", f"{sane} of {n_index_files} index files passed Kafka's sanity check")

    print(f"{len(got_batches)} batches, {len(got_records)} records, {n_off} offset and {n_time} time index "
          f"entries, {len(got_txn)} aborted transactions, {len(snaps)} snapshots ({n_snap_lines} producer "
          f"entries) read by Kafka; {rep.errors} differences")
    return 1 if rep.errors else 0


def txnindex(txn_dump, od_aborted):
    rep = Report()
    lines = read_lines(txn_dump)
    scan_problems(rep, txn_dump, lines)
    got = sorted((int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)))
                 for m in map(TXN_ENTRY.match, lines) if m)
    want = sorted(tuple(int(x) for x in ln.split()) for ln in read_lines(od_aborted) if ln)
    if got != want:
        rep.fail("aborted", f"Kafka's .txnindex files hold {got}\n  Odradek collected {want}")
    print(f"{len(got)} aborted transactions in Kafka's .txnindex files; Odradek agrees: {got == want}")
    return 1 if rep.errors else 0


def producers(snap_dump, od_producers):
    """Kafka's newest snapshot against Odradek's producer table after open."""
    rep = Report()
    lines = read_lines(snap_dump)
    scan_problems(rep, snap_dump, lines)
    got = []
    for m in map(PRODUCER.match, lines):
        if m:
            g = m.groups()
            got.append((int(g[0]), int(g[1]), int(g[6]), int(g[7]), int(g[3]) if g[3] else -1))
    got.sort()
    want = sorted(tuple(int(x) for x in ln.split()) for ln in read_lines(od_producers) if ln)
    if got != want:
        rep.fail("producers", f"Kafka's snapshot holds {got}\n  Odradek's table {want}")
    print(f"{len(got)} producers in Kafka's snapshot; Odradek agrees: {got == want}")
    return 1 if rep.errors else 0


def same(a, b, label):
    la = [ln for ln in read_lines(a) if ln]
    lb = [ln for ln in read_lines(b) if ln]
    if la == lb:
        print(f"{label}: {len(la)} lines agree")
        return 0
    print(f"{label}: {a} has {len(la)} lines, {b} has {len(lb)}")
    shown = 0
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            print(f"  line {i + 1}:\n    {x}\n    {y}")
            shown += 1
            if shown == 5:
                break
    return 1


def main(argv):
    if len(argv) == 7 and argv[1] == "od-to-kafka":
        return od_to_kafka(*argv[2:])
    if len(argv) == 4 and argv[1] == "txnindex":
        return txnindex(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "producers":
        return producers(argv[2], argv[3])
    if len(argv) in (4, 5) and argv[1] == "same":
        return same(argv[2], argv[3], argv[4] if len(argv) == 5 else "compare")
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
