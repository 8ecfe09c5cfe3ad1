"""Runs group members as separate processes (any client) and checks what they report: the
ownership intervals of partitions, what was consumed, and the order of commits."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import harness

HERE = Path(__file__).resolve().parent
JAVA_DIR = HERE / "java"
FRANZ_MEMBER = harness.WORK / "bin" / "franz-group-member"


def now_us():
    return time.time_ns() // 1000


def member_command(client, bootstrap, group, topic, assignor, name):
    common = ["--bootstrap", bootstrap, "--group", group, "--topic", topic, "--assignor", assignor,
              "--name", name]
    if client in ("confluent", "kafka-python"):
        return [sys.executable, str(HERE / "member.py"), "--client", client, *common]
    if client == "java":
        return java_member_command("GroupMember", *common)
    if client == "franz":
        assert FRANZ_MEMBER.exists(), f"{FRANZ_MEMBER} missing: run setup.sh"
        return [str(FRANZ_MEMBER), *common]
    raise ValueError(client)


def java_member_command(main_class, *args):
    """The command line of one of the member programs in java/ (dev.odradek.compat.<main_class>)."""
    jar = JAVA_DIR / "target" / "group-member.jar"
    assert jar.exists(), f"{jar} missing: run setup.sh"
    java = os.environ.get("JAVA") or shutil.which("java")
    return [java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-cp", f"{jar}:{JAVA_DIR / 'target' / 'lib'}/*", f"dev.odradek.compat.{main_class}", *args]


class Member:
    """One member process; its stdout events are collected by a reader thread."""

    def __init__(self, client, broker, group, topic, assignor, name, log_dir):
        self._start(member_command(client, broker.bootstrap, group, topic, assignor, name), name, log_dir)

    def _start(self, cmd, name, log_dir):
        """Runs cmd, a member program printing one JSON event a line, with its stderr in log_dir;
        for subclasses that run other member programs."""
        self.name = name
        self.events = []
        self.ended_us = None  # when the process was killed or seen to exit
        self.killed = False
        self._lock = threading.Lock()
        self.stderr_path = Path(log_dir) / f"{name}.stderr"
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL,
                                     text=True, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                self.events.append(ev)

    def snapshot(self):
        with self._lock:
            return list(self.events)

    def owned(self):
        """The partitions this member holds now, by its own account."""
        held = set()
        for ev in self.snapshot():
            if ev["ev"] == "assigned":
                held |= set(ev["parts"])
            elif ev["ev"] in ("revoked", "lost"):
                held -= set(ev["parts"])
            elif ev["ev"] == "closed":
                held = set()
        return held if self.proc.poll() is None else set()

    def stop(self, seconds=60):
        """SIGTERM: the member closes its consumer and leaves the group."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
            raise AssertionError(f"{self.name} did not exit within {seconds}s of SIGTERM; {self.stderr_tail()}")
        self._finish()

    def kill(self):
        self.ended_us = now_us()
        self.killed = True
        self.proc.kill()
        self.proc.wait(timeout=30)
        self._finish()

    def _finish(self):
        self._reader.join(timeout=10)
        if self.ended_us is None:
            self.ended_us = now_us()
        self._stderr.close()

    def stderr_tail(self, lines=30):
        try:
            return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def ownership_intervals(member):
    """[(partition, start_us, end_us)] from a finished member's events; a partition still held
    when the process ended is held until then."""
    open_since = {}
    out = []
    for ev in member.snapshot():
        if ev["ev"] == "assigned":
            for p in ev["parts"]:
                open_since.setdefault(p, ev["t"])
        elif ev["ev"] in ("revoked", "lost"):
            for p in ev["parts"]:
                if p in open_since:
                    out.append((p, open_since.pop(p), ev["t"]))
        elif ev["ev"] == "closed":
            out.extend((p, s, ev["t"]) for p, s in open_since.items())
            open_since.clear()
    end = member.ended_us or now_us()
    out.extend((p, s, end) for p, s in open_since.items())
    return out


def overlaps(members):
    """Pairs of intervals in which two members held one partition at once."""
    by_partition = {}
    for m in members:
        for p, s, e in ownership_intervals(m):
            by_partition.setdefault(p, []).append((s, e, m.name))
    found = []
    for p, intervals in by_partition.items():
        intervals.sort()
        for i, (s1, e1, n1) in enumerate(intervals):
            for s2, e2, n2 in intervals[i + 1:]:
                if s2 >= e1:
                    break
                if n1 != n2:
                    found.append((p, (n1, s1, e1), (n2, s2, e2)))
    return found


def commits_in_order(members):
    """Every successful commit, as (time, partition, offset, member), in time order."""
    out = []
    for m in members:
        for ev in m.snapshot():
            if ev["ev"] == "commit":
                out.extend((ev["t"], int(p), o, m.name) for p, o in ev["offs"].items())
    out.sort()
    return out


def consumed(members):
    got = set()
    for m in members:
        for ev in m.snapshot():
            if ev["ev"] == "records":
                got.update((p, o) for p, o in ev["recs"])
    return got
