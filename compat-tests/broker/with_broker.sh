#!/usr/bin/env bash
# Starts a single-node broker on a free loopback port, runs a command with
# the host and port appended, and stops the broker (SIGTERM) afterwards.
#
#   with_broker.sh odradek PATH_TO_ODRADEK COMMAND...
#   with_broker.sh kafka PATH_TO_KAFKA_SH COMMAND...
#
# Exit: the command's status; 77 when a prerequisite is missing.
set -euo pipefail

target="${1:?odradek|kafka}"
tool="${2:?path to odradek or kafka.sh}"
shift 2
command -v python3 >/dev/null || { echo "python3 not installed: skipped"; exit 77; }
if [ "$target" = kafka ]; then
    command -v java >/dev/null || { echo "java not installed: skipped"; exit 77; }
fi

work="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    if [ "$target" = kafka ]; then "$tool" stop "$work/kafka" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 - <<'PY'
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
)"

if [ "$target" = odradek ]; then
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
    "$tool" storage format -t "$("$tool" storage random-uuid)" -c "$work/server.properties" >/dev/null
    "$tool" "$work/server.properties" >"$work/broker.log" 2>&1 &
    pid=$!
else
    pid="$("$tool" start "$work/kafka" "$port" | tail -n 1)"
fi
deadline=$((SECONDS + 120))
until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), timeout=1)" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { echo "broker not ready" >&2; exit 1; }
    sleep 0.3
done
# Kafka accepts connections before its metadata is ready; give it a moment.
[ "$target" = kafka ] && sleep 5

status=0
"$@" 127.0.0.1 "$port" || status=$?
if [ "$target" = odradek ]; then
    kill -TERM "$pid"
    wait "$pid" || { echo "odradek exited with an error after SIGTERM" >&2; status=1; }
    pid=""
    if grep -q "Sanitizer" "$work/broker.log"; then
        echo "sanitizer report:" >&2
        cat "$work/broker.log" >&2
        status=1
    fi
fi
exit "$status"
