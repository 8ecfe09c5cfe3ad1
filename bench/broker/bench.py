#!/usr/bin/env python3
"""Odradek and Apache Kafka side by side: one broker at a time, alternating, same load generators.

Started by bench/broker/run.sh, which builds odradek and od_bench_rdkafka first; see that file for
the options. For every round each broker is started on a fresh data dir (the order alternates
between rounds: K O, O K, K O ...) and gets the same sequence:

  startup   exec to the first answered Metadata request (raw socket, polled every 2 ms)
  warmup    one unmeasured kafka-producer-perf-test run, so Kafka's JIT is not measured
  produce   for acks in (1, all), partitions in (1, 8): kafka-producer-perf-test at --throughput -1,
            then od_bench_rdkafka, each on its own topic; broker CPU (utime+stime of its process,
            all threads) across the run, divided by the bytes of record values sent
  consume   kafka-consumer-perf-test, then od_bench_rdkafka, each over the acks=1 8-partition
            topic it wrote itself; broker CPU per byte read likewise
  latency   kafka-producer-perf-test and od_bench_rdkafka at a fixed rate (acks=all, 1 partition),
            before the throughput runs leave gigabytes of dirty pages behind
  rss       VmHWM of the broker process at the end

Every measurement is appended to results.jsonl in the work dir; the summary is a markdown table of
medians with min and max over the rounds, and the ratio Odradek/Kafka of the medians.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
KAFKA_SH = REPO / "compat-tests" / "kafka" / "kafka.sh"
LOG4J = REPO / "compat-tests" / "kafka" / "log4j.properties"

# What Kafka 3.9's bin/ scripts give the JVM: kafka-server-start.sh sets the heap,
# kafka-run-class.sh the rest; the perf-test scripts set a 512 MiB heap.
KAFKA_HEAP_OPTS = "-Xmx1G -Xms1G"
KAFKA_JVM_PERFORMANCE_OPTS = ("-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 "
                              "-XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true")
PERF_TOOL_HEAP = "-Xmx512M"

CLK_TCK = os.sysconf("SC_CLK_TCK")
GIB = 1 << 30
MIB = 1 << 20


def log(msg):
    print(f"[{datetime.datetime.now(datetime.timezone.utc):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


# -- processes --------------------------------------------------------------------------------

def cpu_seconds(pid):
    """utime + stime of every thread of pid, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def free_port_pair():
    for _ in range(500):
        a = socket.socket()
        a.bind(("127.0.0.1", 0))
        port = a.getsockname()[1]
        b = socket.socket()
        try:
            if port + 1 > 65535:
                continue
            b.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        finally:
            a.close()
            b.close()
        return port
    raise RuntimeError("no free pair of loopback ports")


def metadata_answered(port):
    """True once Metadata v1 (no topics) is answered and lists at least one broker."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.settimeout(2)
            client = b"od-bench"
            body = struct.pack(">hhih", 3, 1, 7, len(client)) + client + struct.pack(">i", 0)
            s.sendall(struct.pack(">i", len(body)) + body)
            head = _read_exact(s, 4)
            payload = _read_exact(s, struct.unpack(">i", head)[0])
            correlation, brokers = struct.unpack(">ii", payload[:8])
            return correlation == 7 and brokers >= 1
    except (OSError, struct.error):
        return False


def _read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise OSError("closed")
        buf += chunk
    return buf


class Broker:
    """One broker process on a fresh data dir under work."""

    def __init__(self, name, work, odradek_bin):
        self.name = name
        self.data = work / name
        shutil.rmtree(self.data, ignore_errors=True)
        self.data.mkdir(parents=True)
        self.port = free_port_pair()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.odradek_bin = odradek_bin
        self.pid = None
        self._proc = None
        self._starter = None

    def start(self, timeout=180):
        """Starts the broker; returns seconds from its exec to the first answered Metadata."""
        if self.name == "kafka":
            env = dict(os.environ, KAFKA_HEAP_OPTS=KAFKA_HEAP_OPTS,
                       KAFKA_JVM_PERFORMANCE_OPTS=KAFKA_JVM_PERFORMANCE_OPTS)
            # kafka.sh formats the dir (two short JVMs), then launches the broker and writes its pid
            # file right after the fork: the clock starts when that file appears.
            self._starter = subprocess.Popen([str(KAFKA_SH), "start", str(self.data), str(self.port)], env=env,
                                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            pid_file = self.data / "kafka.pid"
            deadline = time.monotonic() + timeout
            while not pid_file.exists():
                if self._starter.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"kafka.sh start failed: {self._starter.stdout.read()}")
                time.sleep(0.001)
            t0 = time.monotonic()
            while True:
                text = pid_file.read_text().strip()
                if text:
                    break
                time.sleep(0.001)
            self.pid = int(text)
        else:
            props = self.data / "server.properties"
            props.write_text(server_properties(self.port, self.data / "logs"))
            uid = subprocess.run([self.odradek_bin, "storage", "random-uuid"], capture_output=True, text=True,
                                 check=True).stdout.strip()
            subprocess.run([self.odradek_bin, "storage", "format", "-t", uid, "-c", str(props)],
                           capture_output=True, check=True)
            logf = open(self.data / "odradek.log", "ab")
            t0 = time.monotonic()
            self._proc = subprocess.Popen([self.odradek_bin, str(props)], stdout=logf, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
            logf.close()
            self.pid = self._proc.pid
        deadline = t0 + timeout
        while not metadata_answered(self.port):
            if time.monotonic() > deadline or not self.alive():
                raise RuntimeError(f"{self.name} did not answer Metadata; see {self.data}")
            time.sleep(0.002)
        started = time.monotonic() - t0
        if self._starter is not None:
            self._starter.wait(timeout=120)
        return started

    def alive(self):
        if self._proc is not None:
            return self._proc.poll() is None
        try:
            os.kill(self.pid, 0)
            return True
        except (ProcessLookupError, TypeError):
            return False

    def stop(self):
        if self.name == "kafka":
            subprocess.run([str(KAFKA_SH), "stop", str(self.data)], capture_output=True, timeout=90)
        elif self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self.pid is not None and self.alive():
            os.kill(self.pid, 9)


def server_properties(port, log_dir):
    """What kafka.sh writes for Kafka, so both brokers run the same (otherwise default) config."""
    controller = port + 1
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@127.0.0.1:{controller}",
        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={log_dir}",
        "num.partitions=1",
        "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "",
    ])


# -- load generators --------------------------------------------------------------------------

class Tools:
    def __init__(self, rdkafka_bin):
        self.rdkafka_bin = rdkafka_bin
        self.classpath = None

    def java(self, main_class, args, timeout):
        if self.classpath is None:
            self.classpath = subprocess.run([str(KAFKA_SH), "classpath"], capture_output=True, text=True,
                                            check=True).stdout.strip()
        cmd = ["java", PERF_TOOL_HEAP, *KAFKA_JVM_PERFORMANCE_OPTS.split(), f"-Dlog4j.configuration=file:{LOG4J}",
               "-cp", self.classpath, main_class, *map(str, args)]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"{main_class} exited {out.returncode}: {out.stderr[-2000:]}")
        return out.stdout

    def rdkafka(self, args, timeout):
        out = subprocess.run([self.rdkafka_bin, *map(str, args)], capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"od_bench_rdkafka {' '.join(map(str, args))} exited {out.returncode}: "
                               f"{out.stdout[-500:]} {out.stderr[-2000:]}")
        return dict(kv.split("=", 1) for kv in out.stdout.split())


PP_LINE = re.compile(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, "
                     r"([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th")


def producer_perf(tools, broker, topic, records, size, acks, rate, timeout):
    text = tools.java("org.apache.kafka.tools.ProducerPerformance",
                      ["--topic", topic, "--num-records", records, "--record-size", size, "--throughput", rate,
                       "--producer-props", f"bootstrap.servers={broker.bootstrap}", f"acks={acks}"], timeout)
    m = None
    for m in PP_LINE.finditer(text):
        pass
    if m is None:
        raise RuntimeError(f"no summary from ProducerPerformance: {text[-1000:]}")
    return {"records": int(m[1]), "records_per_s": float(m[2]), "mib_per_s": float(m[3]),
            "p50_ms": float(m[6]), "p99_ms": float(m[8]), "p999_ms": float(m[9]), "max_ms": float(m[5])}


def consumer_perf(tools, broker, topic, records, timeout):
    text = tools.java("org.apache.kafka.tools.ConsumerPerformance",
                      ["--bootstrap-server", broker.bootstrap, "--topic", topic, "--messages", records,
                       "--timeout", 15000], timeout)
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        header = next(i for i, line in enumerate(lines) if line.startswith("start.time"))
        names = [n.strip() for n in lines[header].split(",")]
        values = [v.strip() for v in lines[header + 1].split(",")]
        row = dict(zip(names, values))
        int(row["data.consumed.in.nMsg"])
    except (StopIteration, IndexError, KeyError, ValueError):
        raise RuntimeError("ConsumerPerformance printed no figures: " + " / ".join(lines[-3:])[-300:]) from None
    # fetch.* excludes the group join, which is coordination, not reading.
    if int(row["data.consumed.in.nMsg"]) < records:
        raise RuntimeError(f"ConsumerPerformance read {row['data.consumed.in.nMsg']} of {records} records "
                           f"(no record for 15 s): {text[-300:]}")
    return {"records": int(row["data.consumed.in.nMsg"]), "records_per_s": float(row["fetch.nMsg.sec"]),
            "mib_per_s": float(row["fetch.MB.sec"]), "rebalance_ms": float(row["rebalance.time.ms"])}


# -- one broker session -----------------------------------------------------------------------

def session(name, round_no, opts, tools, results):
    broker = Broker(name, opts.work, opts.odradek)
    def record(**kw):
        results.append(dict(broker=name, round=round_no, **kw))
        with open(opts.work / "results.jsonl", "a") as f:  # as it happens, so a cut-short run keeps it
            f.write(json.dumps(results[-1]) + "\n")
    try:
        started = broker.start()
        record(scenario="startup", seconds=started)
        log(f"{name} round {round_no}: answered Metadata {started * 1000:.0f} ms after exec")
        acks_list = ["1", "all"]
        partitions_list = [1, 8]
        topics = [(f"{tool}-a{acks}-p{parts}", parts) for tool in ("java", "rdk") for acks in acks_list
                  for parts in partitions_list]
        topics += [("warmup", 8), ("lat-java", 1), ("lat-rdk", 1)]
        for topic, parts in topics:
            tools.rdkafka(["create", broker.bootstrap, topic, parts], 120)

        if opts.warmup:
            producer_perf(tools, broker, "warmup", opts.warmup, opts.size, "1", -1, opts.timeout)

        def measured(scenario, run, nbytes_of):
            if opts.only and not re.search(opts.only, scenario):
                return
            cpu0, load0 = cpu_seconds(broker.pid), os.getloadavg()[0]
            try:
                res = run()
            except (RuntimeError, subprocess.TimeoutExpired, StopIteration, KeyError, IndexError) as e:
                # A scenario the broker cannot serve (an API it lacks) is reported, not fatal.
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                record(scenario=scenario, error=first[:200])
                log(f"{name} round {round_no} {scenario}: FAILED: {first[:200]}")
                return
            cpu = cpu_seconds(broker.pid) - cpu0
            nbytes = nbytes_of(res)
            res.update(scenario=scenario, broker_cpu_s=cpu, cpu_s_per_gib=cpu / (nbytes / GIB) if nbytes else None,
                       load1=load0)
            record(**res)
            log(f"{name} round {round_no} {scenario}: {res.get('records_per_s', 0):,.0f} rec/s "
                f"{res.get('mib_per_s', 0):.1f} MiB/s p99 {res.get('p99_ms', '-')} ms cpu {cpu:.2f} s")

        # Latency first: after the throughput runs gigabytes of dirty pages are being written back,
        # and a page-cache write that meets writeback throttling takes tens of milliseconds.
        latency_records = opts.rate * opts.latency_seconds
        measured(f"latency java acks=all p=1 @{opts.rate}/s",
                 lambda: producer_perf(tools, broker, "lat-java", latency_records, opts.size, "all", opts.rate,
                                       opts.timeout),
                 lambda r: r["records"] * opts.size)
        measured(f"latency rdkafka acks=all p=1 @{opts.rate}/s",
                 lambda: as_numbers(tools.rdkafka(["produce", broker.bootstrap, "lat-rdk", latency_records,
                                                   opts.size, "all", opts.rate], opts.timeout)),
                 lambda r: r["records"] * opts.size)
        for acks in acks_list:
            for parts in partitions_list:
                measured(f"produce java acks={acks} p={parts}",
                         lambda: producer_perf(tools, broker, f"java-a{acks}-p{parts}", opts.java_records,
                                               opts.size, acks, -1, opts.timeout),
                         lambda r: r["records"] * opts.size)
                measured(f"produce rdkafka acks={acks} p={parts}",
                         lambda: as_numbers(tools.rdkafka(["produce", broker.bootstrap, f"rdk-a{acks}-p{parts}",
                                                           opts.records, opts.size, acks], opts.timeout)),
                         lambda r: r["records"] * opts.size)
        measured("consume java p=8",
                 lambda: consumer_perf(tools, broker, "java-a1-p8", opts.java_records, opts.timeout),
                 lambda r: r["records"] * opts.size)
        measured("consume rdkafka p=8",
                 lambda: as_numbers(tools.rdkafka(["consume", broker.bootstrap, "rdk-a1-p8", opts.records],
                                                  opts.timeout)),
                 lambda r: r["records"] * opts.size)
        record(scenario="peak rss", kib=peak_rss_kib(broker.pid), total_cpu_s=cpu_seconds(broker.pid))
    finally:
        broker.stop()
        if not opts.keep:
            shutil.rmtree(broker.data, ignore_errors=True)


def as_numbers(kv):
    out = {}
    for k, v in kv.items():
        try:
            out[k] = int(v)
        except ValueError:
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


# -- summary ----------------------------------------------------------------------------------

def spread(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "-", None
    med = statistics.median(values)
    if len(values) == 1:
        return fmt(med), med
    return f"{fmt(med)} ({fmt(min(values))}-{fmt(max(values))})", med


def summary(results, opts):
    def pick(broker, scenario, key):
        return [r.get(key) for r in results if r["broker"] == broker and r["scenario"] == scenario]

    scenarios = []
    for r in results:
        if r["scenario"] not in scenarios:
            scenarios.append(r["scenario"])
    rows = []
    # (scenario filter, key, label, formatter, goal ratio, goal direction)
    thousands = lambda v: f"{v:,.0f}"  # noqa: E731
    one = lambda v: f"{v:.1f}"  # noqa: E731
    two = lambda v: f"{v:.2f}"  # noqa: E731
    ms = lambda v: f"{v:.2f}" if v < 10 else f"{v:.0f}"  # noqa: E731
    metrics = []
    metrics.append(("startup", "seconds", "startup: exec to first answered Metadata (s)", two, None))
    for s in scenarios:
        if s.startswith("produce") or s.startswith("consume"):
            metrics.append((s, "records_per_s", f"{s}: records/s", thousands, (">=", 2.0)))
            metrics.append((s, "mib_per_s", f"{s}: MiB/s", one, None))
            metrics.append((s, "cpu_s_per_gib", f"{s}: broker CPU s per GiB", two, ("<=", 0.25)))
        if s.startswith("latency"):
            # A sender that fell behind the rate measures its own queue, not the broker.
            metrics.append((s, "records_per_s", f"{s}: rate achieved, records/s", thousands, None))
            metrics.append((s, "p50_ms", f"{s}: p50 ms", ms, None))
            metrics.append((s, "p99_ms", f"{s}: p99 ms", ms, ("<=", 0.2)))
            metrics.append((s, "cpu_s_per_gib", f"{s}: broker CPU s per GiB", two, ("<=", 0.25)))
    metrics.append(("peak rss", "kib", "peak RSS (VmHWM, MiB)", None, ("<=", 0.05)))
    for scenario, key, label, fmt, goal in metrics:
        if fmt is None:
            fmt = one
            k_vals = [v / 1024 for v in pick("kafka", scenario, key) if v is not None]
            o_vals = [v / 1024 for v in pick("odradek", scenario, key) if v is not None]
        else:
            k_vals, o_vals = pick("kafka", scenario, key), pick("odradek", scenario, key)
        k_text, k_med = spread(k_vals, fmt)
        o_text, o_med = spread(o_vals, fmt)
        if k_med is None and pick("kafka", scenario, "error"):
            k_text = "failed"
        if o_med is None and pick("odradek", scenario, "error"):
            o_text = "failed"
        ratio = o_med / k_med if k_med and o_med is not None else None
        goal_text = met = ""
        if goal:
            op, target = goal
            goal_text = f"{op} {target:g}"
            if ratio is not None:
                met = "yes" if (ratio >= target if op == ">=" else ratio <= target) else "no"
        rows.append(f"| {label} | {k_text} | {o_text} | {'-' if ratio is None else f'{ratio:.2f}'} | "
                    f"{goal_text} | {met} |")
    head = ["| measure | Kafka 3.9.2 median (min-max) | Odradek median (min-max) | Odradek/Kafka | goal | met |",
            "| --- | --- | --- | --- | --- | --- |"]
    failures = sorted({f"- {r['broker']}, {r['scenario']}: {r['error']}" for r in results if "error" in r})
    if failures:
        rows += ["", "Failed runs:", *failures]
    return "\n".join(head + rows) + "\n"


def machine(work):
    def cmd(*args):
        try:
            out = subprocess.run(args, capture_output=True, text=True, timeout=30)
            return (out.stdout.strip() or out.stderr.strip() or "?").splitlines()[-1]
        except OSError:
            return "?"
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               "?")
    mem = next((line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")), "0")
    return {
        "date": f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        "cpus": os.cpu_count(), "cpu": cpu, "memory_gib": round(int(mem) / 1024 / 1024, 1),
        "disk": " ".join(cmd("df", "-h", "--output=source,fstype,size", str(work)).split()),
        "kernel": cmd("uname", "-r"),
        "java": subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0],
        "librdkafka": cmd("pkg-config", "--modversion", "rdkafka"),
        "odradek": cmd("git", "-C", str(REPO), "rev-parse", "--short", "HEAD"),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--odradek")
    ap.add_argument("--rdkafka-bin")
    ap.add_argument("--summarize", type=Path, metavar="RESULTS_JSONL",
                    help="run nothing: print the summary of an earlier (possibly cut short) run")
    ap.add_argument("--work", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--records", type=int, default=1_000_000, help="per od_bench_rdkafka produce run")
    ap.add_argument("--java-records", type=int, default=200_000, help="per kafka-producer-perf-test run "
                    "(the Java tool is the slower sender here; both sized for ~10 s)")
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--warmup", type=int, default=100_000)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--latency-seconds", type=int, default=10)
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--brokers", default="kafka,odradek")
    ap.add_argument("--only", help="run only the scenarios whose name matches this regular expression")
    ap.add_argument("--keep", action="store_true", help="keep the data dirs")
    ap.add_argument("--strict", action="store_true", help="exit 1 when any run failed")
    ap.add_argument("--out", type=Path, help="also write the markdown summary here")
    opts = ap.parse_args()
    if opts.summarize:
        results = [json.loads(line) for line in opts.summarize.read_text().splitlines() if line.strip()]
        rounds = sorted({r["round"] for r in results})
        print(f"- rounds: {len(rounds)}\n\n" + summary(results, opts))
        return
    if not opts.odradek or not opts.rdkafka_bin or not opts.work:
        ap.error("--odradek, --rdkafka-bin and --work are required")
    opts.work.mkdir(parents=True, exist_ok=True)
    info = machine(opts.work)
    log(f"machine: {info}")
    tools = Tools(opts.rdkafka_bin)
    results = []
    brokers = opts.brokers.split(",")
    start = time.monotonic()
    for round_no in range(1, opts.rounds + 1):
        order = brokers if round_no % 2 == 1 else list(reversed(brokers))
        for name in order:
            session(name, round_no, opts, tools, results)
    info["elapsed_min"] = round((time.monotonic() - start) / 60, 1)
    info["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = "\n".join(f"- {k}: {v}" for k, v in info.items()) + "\n\n" + summary(results, opts)
    print(text)
    if opts.out:
        opts.out.write_text(text)
    if opts.strict and any("error" in r for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
