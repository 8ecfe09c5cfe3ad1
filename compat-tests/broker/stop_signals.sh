#!/usr/bin/env bash
# Stop signals against a serving broker: one SIGINT stops it cleanly; a
# flood of SIGTERMs, sent until the process is gone, lands on every phase
# of the shutdown (drain, server teardown, close) and still ends in a clean
# exit. Odradek takes the signals on one thread (broker/main.c); a handler
# running on whichever thread the signal hit used to read the broker's
# server while the main thread destroyed it. In a sanitizer build any
# report in the broker's log fails the run.
#
#   stop_signals.sh PATH_TO_ODRADEK
#
# Exit 0 on success, 77 when python3 is missing.
set -euo pipefail

target=odradek
broker_tool="${1:?path to odradek}"
command -v python3 >/dev/null || { echo "python3 not installed: skipped"; exit 77; }

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/broker_lib.sh"
work="$(mktemp -d)"
pid=""
trap broker_cleanup EXIT

rounds="${OD_STOP_SIGNAL_ROUNDS:-5}"

# Running, as opposed to gone or exited and not reaped yet (a zombie still
# takes signals and passes kill -0). No fork: the flood stays fast.
alive() {
    local state
    read -r _ _ state _ 2>/dev/null <"/proc/$pid/stat" || return 1
    [ "$state" != Z ]
}

start_and_wait() {
    port="$(broker_free_port_pair)"
    rm -rf "$work/data"
    broker_write_properties
    broker_format
    broker_launch
    local deadline=$((SECONDS + 120))
    until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), timeout=1)" 2>/dev/null; do
        alive || fail "the broker exited while starting"
        [ $SECONDS -lt $deadline ] || fail "broker not ready"
        sleep 0.3
    done
}

# Waits for the broker's exit (120 s at most) and checks it was clean.
expect_clean_exit() {
    local what="$1" status=0 deadline=$((SECONDS + 120))
    while alive; do
        [ $SECONDS -lt $deadline ] || fail "$what: still running after 120 s"
        sleep 0.1
    done
    wait "$pid" || status=$?
    pid=""
    [ "$status" -eq 0 ] || fail "$what: exit status $status"
    grep -q "shut down cleanly" "$work/broker.log" || fail "$what: no clean shutdown in the log"
    if grep -q "Sanitizer" "$work/broker.log"; then fail "$what: sanitizer report"; fi
    : >"$work/broker.log"
}

start_and_wait
kill -INT "$pid"
expect_clean_exit "one SIGINT"

for round in $(seq 1 "$rounds"); do
    start_and_wait
    sent=0
    while alive && kill -TERM "$pid" 2>/dev/null; do
        sent=$((sent + 1))
    done
    expect_clean_exit "SIGTERM flood, round $round ($sent signals)"
done
echo "ok: odradek stopped cleanly by SIGINT and by $rounds SIGTERM floods"
