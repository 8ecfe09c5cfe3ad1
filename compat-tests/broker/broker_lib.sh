# Shared by the broker scenario scripts (with_broker.sh, java_tools.sh,
# kcat_roundtrip.sh, ...): free ports, a one-node odradek configuration, starting
# and cleaning up the broker under test. Source it; it reads and sets the
# caller's globals:
#   target       odradek | kafka
#   broker_tool  the odradek binary, or compat-tests/kafka/kafka.sh
#   work         the scenario's temporary directory
#   port         the client port (the controller takes port+1)
#   pid          the broker's pid, "" when none is running

# Two consecutive free loopback ports (Kafka's controller takes port+1);
# prints the first.
broker_free_port_pair() {
    python3 - <<'PY'
import socket
for _ in range(200):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1))
    except OSError:
        a.close(); continue
    a.close(); b.close(); print(p); break
PY
}

# EXIT trap: kills a broker still running, stops Kafka, removes $work.
broker_cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if [ "$target" = kafka ]; then "$broker_tool" stop "$work/kafka" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}

fail() { echo "FAIL: $*" >&2; [ -f "$work/broker.log" ] && tail -n 30 "$work/broker.log" >&2; exit 1; }

# Writes $work/server.properties for a one-node odradek on $port.
broker_write_properties() {
    cat >"$work/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$((port + 1))
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$work/data
num.partitions=1
PROPS
}

# Formats the log dir of $work/server.properties with a fresh cluster id.
broker_format() {
    "$broker_tool" storage format -t "$("$broker_tool" storage random-uuid)" -c "$work/server.properties" >/dev/null
}

# Starts the broker in the background (odradek appends to $work/broker.log)
# and sets pid; does not wait until it is ready.
broker_launch() {
    if [ "$target" = odradek ]; then
        "$broker_tool" "$work/server.properties" >>"$work/broker.log" 2>&1 &
        pid=$!
    else
        pid="$("$broker_tool" start "$work/kafka" "$port" | tail -n 1)"
    fi
}

# Waits (up to $2 seconds) until the shell condition $1 holds; 1 if it never does.
broker_wait_for() {
    local limit=$((SECONDS + $2))
    until eval "$1"; do
        [ $SECONDS -lt $limit ] || return 1
        sleep 0.5
    done
}

# Starts the broker and waits until kcat gets metadata from $bs.
broker_start_ready() {
    broker_launch
    broker_wait_for 'kcat -b "$bs" -L -m 5 >/dev/null 2>&1' 120 || fail "broker not ready"
}

# Stops the broker cleanly (odradek: SIGTERM, exit 0, no sanitizer report;
# Kafka: kafka.sh stop).
broker_stop_clean() {
    if [ "$target" = odradek ]; then
        kill -TERM "$pid"
        wait "$pid" || fail "odradek exited with an error after SIGTERM"
        if grep -q Sanitizer "$work/broker.log"; then fail "sanitizer report"; fi
    else
        "$broker_tool" stop "$work/kafka"
    fi
    pid=""
}

# The common start of a scenario that runs against either broker, called as
#   SCRIPT odradek PATH_TO_ODRADEK KAFKA_SH   or   SCRIPT kafka KAFKA_SH KAFKA_SH
# broker_scenario_init TARGET TOOL KAFKA_SH COMMAND...: exits 77 when one of
# the COMMANDs is not installed; sets target, tool, kafka_sh, broker_tool,
# work (removed on exit, with any broker still running), pid, port and bs.
broker_scenario_init() {
    target="${1:?odradek|kafka}"
    tool="${2:?path to odradek or kafka.sh}"
    kafka_sh="${3:?path to kafka.sh}"
    shift 3
    local need
    for need in "$@"; do
        command -v "$need" >/dev/null || { echo "$need not installed: skipped"; exit 77; }
    done
    broker_tool="$tool"
    if [ "$target" = kafka ]; then broker_tool="$kafka_sh"; fi
    work="$(mktemp -d)"
    pid=""
    trap broker_cleanup EXIT
    port="$(broker_free_port_pair)"
    bs="127.0.0.1:$port"
}
