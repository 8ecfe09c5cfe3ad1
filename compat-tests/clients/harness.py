"""Broker processes and helpers shared by the scenarios.

A Broker is either Apache Kafka (started through compat-tests/kafka/kafka.sh) or Odradek (the
binary named by ODRADEK_BIN), each on a free pair of loopback ports with its own temp data dir.
"""

import contextlib
import hashlib
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
KAFKA_SH = REPO / "compat-tests" / "kafka" / "kafka.sh"
WORK = Path(os.environ.get("ODRADEK_CLIENTS_WORK", REPO / "build" / "compat-clients"))
FRANZ_BIN = WORK / "bin" / "franz-roundtrip"
JAVA_DIR = HERE / "java"

ALL_BROKERS = ("kafka", "odradek")
# The exit status of a run stopped because Odradek died under a test; run.sh prints the report.
BROKER_DIED_STATUS = 70
START_SECONDS = 120


class BrokerUnavailable:
    """Stands in for a broker that could not be started, so every test that needs it fails
    with the reason instead of being skipped."""

    def __init__(self, name, reason):
        self.name = name
        self.reason = reason


class Broker:
    def __init__(self, name, root, extra_properties=None, kafka_version=None):
        self.name = name
        # A Kafka release other than kafka.sh's default (3.9.2), e.g. "4.4.0"; Kafka only.
        self.kafka_version = kafka_version
        self.data = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
        self.port = free_port_pair()
        self.host = "127.0.0.1"
        self.bootstrap = f"{self.host}:{self.port}"
        self.log_path = self.data / ("kafka.log" if name == "kafka" else "odradek.log")
        # Lines added to the common server.properties (both brokers read the same keys).
        self.extra_properties = dict(extra_properties or {})
        self.pid = None
        self._proc = None
        self._exit_expected = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self):
        if self.extra_properties:
            # kafka.sh appends this file to the configuration it writes.
            (self.data / "extra.properties").write_text(
                "".join(f"{k}={v}\n" for k, v in self.extra_properties.items()))
        if self.name == "kafka":
            self._start_kafka()
        else:
            self._start_odradek()
        self._watch()
        wait_answers(self.host, self.port, START_SECONDS, self.alive)

    def _watch(self):
        """Leaves a detached watchdog that stops the broker if this test run dies without its
        teardown (SIGKILL from a CTest timeout, say): Kafka runs detached from kafka.sh, so
        killing the runner's process tree would not reach it. The broker is recognised by its
        data dir on its command line, so a reused pid is never hit."""
        script = (
            'runner=$1 broker=$2 mark=$3; '
            'alive() { kill -0 "$broker" 2>/dev/null && grep -qF "$mark" "/proc/$broker/cmdline"; }; '
            'while kill -0 "$runner" 2>/dev/null && alive; do sleep 1; done; '
            'kill -0 "$runner" 2>/dev/null && exit 0; '
            'if alive; then kill "$broker"; sleep 10; alive && kill -9 "$broker"; fi; '
            'rm -rf "$mark"'
        )
        # The outer shell exits at once, so the loop is orphaned and outlives a tree kill.
        subprocess.run(["bash", "-c", '(bash -c "$1" watchdog "$2" "$3" "$4" </dev/null >/dev/null 2>&1 &)',
                        "spawn", script, str(os.getpid()), str(self.pid), str(self.data)],
                       check=True, timeout=10)

    def _kafka_env(self):
        env = dict(os.environ)
        if self.kafka_version:
            env["KAFKA_VERSION"] = self.kafka_version
        return env

    def _start_kafka(self):
        out = subprocess.run([str(KAFKA_SH), "start", str(self.data), str(self.port)],
                             capture_output=True, text=True, timeout=START_SECONDS + 60,
                             env=self._kafka_env())
        if out.returncode != 0:
            raise RuntimeError(f"kafka.sh start failed:\n{out.stdout}\n{out.stderr}")
        self.pid = int(out.stdout.strip().splitlines()[-1])

    def _start_odradek(self):
        binary = os.environ.get("ODRADEK_BIN", "")
        if not binary:
            raise RuntimeError("ODRADEK_BIN is not set (CTest sets it to the built odradek)")
        if not os.access(binary, os.X_OK):
            raise RuntimeError(f"ODRADEK_BIN={binary} is not an executable")
        props = self.data / "server.properties"
        props.write_text(server_properties(self.port, self.data / "logs")
                         + "".join(f"{k}={v}\n" for k, v in self.extra_properties.items()))
        uid = subprocess.run([binary, "storage", "random-uuid"], capture_output=True, text=True,
                             timeout=30)
        if uid.returncode != 0 or not uid.stdout.strip():
            raise RuntimeError(f"odradek storage random-uuid failed: {uid.stderr.strip()}")
        fmt = subprocess.run([binary, "storage", "format", "-t", uid.stdout.strip(), "-c", str(props)],
                             capture_output=True, text=True, timeout=60)
        if fmt.returncode != 0:
            raise RuntimeError(f"odradek storage format failed:\n{fmt.stdout}{fmt.stderr}")
        self._launch_odradek()

    def _launch_odradek(self):
        binary = os.environ.get("ODRADEK_BIN", "")
        props = self.data / "server.properties"
        log = open(self.log_path, "ab")
        # Its own process group, so that stopping it cannot reach the test runner.
        self._proc = subprocess.Popen([binary, str(props)], stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.pid = self._proc.pid
        # run.sh kills whatever pid files remain if the test runner itself is killed.
        (self.data / "odradek.pid").write_text(f"{self.pid}\n")
        self._exit_expected = False
        threading.Thread(target=self._reap, args=(self._proc,), daemon=True).start()

    def _reap(self, proc):
        """Odradek exiting on its own (a crash, say) is a broker bug, and a client blocked in a
        call without a timeout (librdkafka's synchronous commit or close) would wait on the dead
        broker until CTest's timeout. So the run stops at once, naming the test and the exit
        status; run.sh prints this report, since pytest's capture would swallow it."""
        status = proc.wait()
        if proc is not self._proc or self._exit_expected:
            return
        test = os.environ.get("PYTEST_CURRENT_TEST", "(between tests)")
        how = f"signal {-status}" if status < 0 else f"status {status}"
        report = (f"odradek (pid {proc.pid}) exited with {how} during {test}; "
                  f"last lines of {self.log_path}:\n{self.log_tail()}\n")
        scratch = os.environ.get("ODRADEK_COMPAT_TMP")
        if scratch:
            Path(scratch, "broker-died.txt").write_text(report)
        os._exit(BROKER_DIED_STATUS)

    def alive(self):
        if self._proc is not None:
            return self._proc.poll() is None
        if self.pid is None:
            return False
        return process_running(self.pid)

    def kill(self, seconds=60):
        """SIGKILL, as a crash would; returns once the process is gone. restart() brings the
        broker back on the same data dir and port."""
        self._exit_expected = True
        if self.pid is not None and self.alive():
            os.kill(self.pid, 9)
        if self._proc is not None:
            self._proc.wait(timeout=seconds)
        deadline = time.monotonic() + seconds
        while self.pid is not None and process_running(self.pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} pid {self.pid} survived SIGKILL for {seconds}s")
            time.sleep(0.1)
        (self.data / "kafka.pid").unlink(missing_ok=True)
        (self.data / "odradek.pid").unlink(missing_ok=True)

    def stop(self):
        """The end of this broker in the session; its data dir is removed next. Kafka is killed:
        its controlled shutdown (seconds) checks nothing here. Odradek's clean stop is under test."""
        self._exit_expected = True
        try:
            if self.name == "kafka":
                if self.pid is not None:
                    self.kill()
                # A start that failed half way left only kafka.sh's pid file.
                subprocess.run([str(KAFKA_SH), "stop", str(self.data)], capture_output=True, timeout=60,
                               env=self._kafka_env())
            elif self._proc is not None and self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(timeout=30)
        finally:
            if self.pid is not None and self.alive():
                os.kill(self.pid, 9)
            (self.data / "odradek.pid").unlink(missing_ok=True)

    def restart(self, hard=False):
        """Stops the broker (SIGKILL when hard, as a crash; otherwise a clean stop) and starts it
        again on the same data dir and port; returns once it answers again. After kill(), it
        only starts it."""
        self._exit_expected = True
        if hard:
            self.kill()
        elif self.name == "kafka":
            subprocess.run([str(KAFKA_SH), "stop", str(self.data)], capture_output=True, timeout=60,
                           env=self._kafka_env())
        elif self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=30)
        if self.name == "kafka":
            self._start_kafka()
        else:
            self._launch_odradek()
        self._watch()
        wait_answers(self.host, self.port, START_SECONDS, self.alive)

    def log_tail(self, lines=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no broker log)"


@contextlib.contextmanager
def running_broker(name, root, label=None, **options):
    """A Broker (Broker's options: extra_properties, kafka_version) started in root, stopped and
    its data dir removed when the block ends. A broker that cannot start is yielded as a
    BrokerUnavailable naming `label` (default "<name> broker") with the reason and its log, so
    that the tests that need it fail with that reason instead of being skipped; its data dir is
    left for the post-mortem (the session's scratch dir goes at the end of the run)."""
    b = Broker(name, root, **options)
    unavailable = _start_or_reason(b, label or f"{name} broker")
    if unavailable is not None:
        yield unavailable
        return
    try:
        yield b
    finally:
        b.stop()
        remove_tree(b.data)


def _start_or_reason(b, label):
    """Starts b; returns None, or (b stopped) a BrokerUnavailable saying why it could not start."""
    try:
        b.start()
        return None
    except Exception as e:  # any failure to start is reported by each test that needs it
        reason = f"{label} could not start: {e}\n--- broker log ---\n{b.log_tail()}"
        b.stop()
        return BrokerUnavailable(b.name, reason)


@contextlib.contextmanager
def broker_like(shared, root, label=None, **options):
    """running_broker of the same kind as the session's `shared` broker (for a test that needs
    other server properties, or a broker it may kill); `shared` itself when it is unavailable."""
    if isinstance(shared, BrokerUnavailable):
        yield shared
        return
    with running_broker(shared.name, root, label, **options) as b:
        yield b


def process_running(pid):
    """True while pid exists and is not a zombie (a killed Kafka is reparented, and a PID 1
    that does not reap would leave it looking alive)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def server_properties(port, log_dir):
    """The Kafka-style configuration both brokers understand; mirrors what kafka.sh writes."""
    controller = port + 1
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@127.0.0.1:{controller}",
        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
        f"log.dirs={log_dir}",
        "num.partitions=1",
        "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "",
    ])


def free_port_pair():
    """A loopback port P with P+1 also free (the controller listener takes P+1)."""
    for _ in range(500):
        a = socket.socket()
        a.bind(("127.0.0.1", 0))
        port = a.getsockname()[1]
        if port == 9092 or port + 1 == 9092 or port + 1 > 65535:
            a.close()
            continue
        b = socket.socket()
        try:
            b.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        finally:
            a.close()
            b.close()
        return port
    raise RuntimeError("no free pair of loopback ports")


# -- readiness: speak just enough of the protocol to know the broker serves clients ----------

def _request(sock, api_key, version, correlation, body):
    client = b"odradek-compat-ready"
    header = struct.pack(">hhih", api_key, version, correlation, len(client)) + client
    msg = header + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    size = struct.unpack(">i", _read_exact(sock, 4))[0]
    payload = _read_exact(sock, size)
    if struct.unpack(">i", payload[:4])[0] != correlation:
        raise OSError("correlation id mismatch")
    return payload[4:]


def _read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise OSError("connection closed")
        buf += chunk
    return buf


def answers(host, port):
    """True once ApiVersions v0 succeeds and Metadata v1 lists at least one broker: a KRaft
    broker accepts connections before it is unfenced, and only then can it create topics."""
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            s.settimeout(5)
            body = _request(s, 18, 0, 1, b"")
            if struct.unpack(">h", body[:2])[0] != 0:
                return False
            body = _request(s, 3, 1, 2, struct.pack(">i", 0))
            return struct.unpack(">i", body[:4])[0] >= 1
    except (OSError, struct.error):
        return False


def wait_answers(host, port, seconds, alive):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answers(host, port):
            return
        if not alive():
            raise RuntimeError("the broker process exited before it answered")
        time.sleep(0.3)
    raise RuntimeError(f"the broker did not answer on {host}:{port} within {seconds}s")


# -- helpers for scenarios -------------------------------------------------------------------

def unique_topic(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


_kafka_classpath = None


def kafka_tool(main_class, *args, input=None, timeout=120, check=True):
    """Runs one of Apache Kafka 3.9.2's CLI tools by main class, as `kafka.sh run` would, but
    with JVM flags for short-lived processes (C1 only, serial GC): the suite starts a few dozen
    tools per broker, and this saves most of a second on each. Returns the CompletedProcess."""
    global _kafka_classpath
    if _kafka_classpath is None:
        _kafka_classpath = subprocess.run([str(KAFKA_SH), "classpath"], capture_output=True, text=True,
                                          check=True, timeout=900).stdout.strip()
    java = os.environ.get("JAVA") or shutil.which("java") or "java"
    # A class-data archive of the tools' classes (written by the first run, used by the rest)
    # halves each later start; it is tied to this JVM and classpath by its name.
    key = hashlib.sha1(f"{os.path.realpath(java)}\0{_kafka_classpath}".encode()).hexdigest()[:16]
    archive = WORK / f"kafka-tools-{key}.jsa"
    pending = None
    if archive.exists():
        cds = [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
    else:
        WORK.mkdir(parents=True, exist_ok=True)
        pending = WORK / f"kafka-tools-{key}.{os.getpid()}.jsa.tmp"
        cds = [f"-XX:ArchiveClassesAtExit={pending}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
    cmd = [java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx512m", "-Djava.awt.headless=true", *cds,
           f"-Dlog4j.configuration=file:{KAFKA_SH.parent / 'log4j.properties'}",
           "-cp", _kafka_classpath, main_class, *map(str, args)]
    out = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    if pending is not None and pending.exists():
        os.replace(pending, archive)
    if check and out.returncode != 0:
        raise AssertionError(f"{main_class} {' '.join(map(str, args))} exited {out.returncode}\n"
                             f"stdout:\n{out.stdout[-3000:]}\nstderr:\n{out.stderr[-3000:]}")
    return out


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (signed 32-bit result), as the Java client's default partitioner uses it."""
    m, r = 0x5BD1E995, 24
    n = len(data)
    h = (0x9747B28C ^ n) & 0xFFFFFFFF
    i = 0
    while i + 4 <= n:
        k = data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
        i += 4
    rest = n & 3
    if rest == 3:
        h ^= data[i + 2] << 16
    if rest >= 2:
        h ^= data[i + 1] << 8
    if rest >= 1:
        h ^= data[i]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def java_partition(key: bytes, partitions: int) -> int:
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def remove_tree(path):
    shutil.rmtree(path, ignore_errors=True)
