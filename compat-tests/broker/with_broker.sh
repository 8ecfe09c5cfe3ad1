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

broker_tool="$tool"
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/broker_lib.sh"
work="$(mktemp -d)"
pid=""
trap broker_cleanup EXIT

port="$(broker_free_port_pair)"

if [ "$target" = odradek ]; then
    broker_write_properties
    broker_format
fi
broker_launch
deadline=$((SECONDS + 120))
until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), timeout=1)" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { echo "broker not ready" >&2; exit 1; }
    sleep 0.3
done
# Kafka accepts connections before its metadata is ready; give it a moment.
[ "$target" = kafka ] && sleep 5

status=0
export OD_BROKER_UNDER_TEST="$target"
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
