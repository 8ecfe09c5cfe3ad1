#!/usr/bin/env bash
# __transaction_state in Kafka's record format, both directions. The same transactional workload
# (Kafka's ProducerPerformance: committed transactions; a producer killed inside a transaction,
# then fenced and its transaction aborted by a new producer with the same id) runs against Apache
# Kafka and against Odradek. For each broker's __transaction_state segments, Kafka's
# DumpLogSegments --transaction-log-decoder and od_txn_log_tool must print the same records, and
# od_txn_log_tool re-encodes every key and value to the same bytes. So Odradek reads Kafka's
# records byte for byte, and Kafka reads Odradek's.
#
#   txn-log.sh PATH/TO/od_txn_log_tool PATH/TO/odradek
#
# Environment: JAVA, PYTHON (defaults from PATH). KEEP=1 keeps the work directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
abspath() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
tool="$(abspath "${1:?usage: txn-log.sh od_txn_log_tool odradek}")"
odradek="$(abspath "${2:?usage: txn-log.sh od_txn_log_tool odradek}")"
python="${PYTHON:-python3}"
kafka="$here/../kafka/kafka.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/od-txn-log.XXXXXX")"
od_pid=""
cleanup() {
    "$kafka" stop "$work/kafka" >/dev/null 2>&1 || true
    [ -z "$od_pid" ] || kill "$od_pid" 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

"$kafka" fetch

free_port() {
    "$python" - <<'PY'
import random, socket
for _ in range(200):
    p = random.randrange(20000, 60000)
    try:
        for q in (p, p + 1):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        pass
PY
}

perf() { # bootstrap txn-id records throughput txn-ms
    "$kafka" run org.apache.kafka.tools.ProducerPerformance --topic txn-log --num-records "$2" \
        --record-size 100 --throughput "$3" --transactional-id "$1" --transaction-duration-ms "$4" \
        --producer-props "bootstrap.servers=$bootstrap" 2>&1 | tail -1
}

workload() {
    perf compat-a 2000 -1 100
    # A producer dies inside a long transaction; the next one with its id fences it, which
    # aborts the open transaction (PrepareAbort, CompleteAbort under a bumped epoch).
    perf compat-b 100000 300 600000 >/dev/null &
    local pp=$! waited=0
    until "$kafka" run org.apache.kafka.tools.TransactionsCommand --bootstrap-server "$bootstrap" list \
            2>/dev/null | grep -qE "^compat-b[[:space:]].*Ongoing"; do
        waited=$((waited + 1))
        [ "$waited" -lt 60 ] || { echo "compat-b never had an open transaction"; exit 1; }
        sleep 1
    done
    pkill -9 -P "$pp" java 2>/dev/null || true
    kill -9 "$pp" 2>/dev/null || true
    wait "$pp" 2>/dev/null || true
    perf compat-b 500 -1 100
}

compare() { # name logs-dir
    local name="$1" logs="$2" segs
    segs=$(ls "$logs"/__transaction_state-*/*.log)
    # shellcheck disable=SC2086
    "$kafka" run kafka.tools.DumpLogSegments --transaction-log-decoder --print-data-log \
        --files "$(echo $segs | tr ' ' ',')" > "$work/$name.kafka.txt" 2>"$work/$name.kafka.err"
    # shellcheck disable=SC2086
    "$tool" $segs > "$work/$name.od.txt"
    "$python" - "$name" "$work/$name.kafka.txt" "$work/$name.od.txt" <<'PY'
import re, sys
name, kafka_path, od_path = sys.argv[1:]
line = re.compile(r"offset: (\d+) .*?key: (transaction_metadata::\S+) payload: (.*)$")
def norm(payload):
    # Partitions are a set: Kafka prints them in hash order.
    m = re.search(r"partitions=\[([^\]]*)\]", payload)
    if m:
        parts = ",".join(sorted(p for p in m.group(1).split(",") if p))
        payload = payload[:m.start(1)] + parts + payload[m.end(1):]
    return payload
def read(path, prefix):
    out = []
    for l in open(path):
        if prefix and not l.startswith(prefix):
            continue
        m = line.search(l)
        if m:
            out.append((int(m.group(1)), m.group(2), norm(m.group(3).strip())))
    return out
kafka, od = read(kafka_path, "| "), read(od_path, None)
if not kafka or kafka != od:
    print(f"{name}: DumpLogSegments and od_txn_log_tool disagree ({len(kafka)} vs {len(od)} records)")
    for a, b in zip(kafka, od):
        if a != b:
            print(f"  kafka: {a}\n  od:    {b}")
            break
    sys.exit(1)
states = {re.search(r"state=(\w+)", p).group(1) for _, _, p in kafka if "state=" in p}
want = {"Empty", "Ongoing", "PrepareCommit", "CompleteCommit", "PrepareAbort", "CompleteAbort"}
if not want <= states:
    print(f"{name}: the workload did not reach {sorted(want - states)}")
    sys.exit(1)
print(f"{name}: {len(kafka)} __transaction_state records read alike by Kafka and Odradek; states {sorted(states)}")
PY
}

# --- Apache Kafka writes, both read.
port="$(free_port)"
bootstrap="127.0.0.1:$port"
echo "Apache Kafka on $bootstrap"
"$kafka" start "$work/kafka" "$port" >/dev/null
workload
"$kafka" stop "$work/kafka"
compare kafka "$work/kafka/logs"

# --- Odradek writes, both read.
port="$(free_port)"
bootstrap="127.0.0.1:$port"
echo "Odradek on $bootstrap"
mkdir -p "$work/od"
cat > "$work/od/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$((port + 1))
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$work/od/logs
num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
PROPS
"$odradek" storage format -t "$("$odradek" storage random-uuid)" -c "$work/od/server.properties" >/dev/null
"$odradek" "$work/od/server.properties" > "$work/od/odradek.log" 2>&1 &
od_pid=$!
sleep 1
workload
kill "$od_pid"
wait "$od_pid" || true
od_pid=""
compare odradek "$work/od/logs"
