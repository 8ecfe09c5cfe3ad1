#!/usr/bin/env bash
# Runs the client conformance suite: setup.sh first (cached after the first run), then pytest
# in the suite's venv. Arguments go to pytest unchanged.
#
#   run.sh                                   every scenario against Kafka and Odradek
#   run.sh --brokers kafka                   Kafka only (or ODRADEK_COMPAT_BROKERS=kafka)
#   run.sh test_kcat.py -k metadata          one scenario (test paths are relative to this dir)
#
# Environment: ODRADEK_BIN (the odradek binary; CTest sets it), ODRADEK_COMPAT_BROKERS,
#              ODRADEK_CLIENTS_WORK (venv and built clients, default <repo>/build/compat-clients),
#              ODRADEK_SUITE_DIR (another suite on this harness, e.g. ../groups; default this dir).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export ODRADEK_CLIENTS_WORK="${ODRADEK_CLIENTS_WORK:-$repo/build/compat-clients}"

"$here/setup.sh"

# pytest runs from this directory: a relative ODRADEK_BIN must not change meaning.
if [ -n "${ODRADEK_BIN:-}" ] && [ -e "$ODRADEK_BIN" ]; then
    ODRADEK_BIN="$(cd "$(dirname "$ODRADEK_BIN")" && pwd)/$(basename "$ODRADEK_BIN")"
    export ODRADEK_BIN
fi

scratch="$(mktemp -d -t odradek-clients-XXXXXX)"
export ODRADEK_COMPAT_TMP="$scratch"
cleanup() {
    # The fixtures stop their brokers; this catches the ones left when pytest itself was killed.
    local f pid
    for f in "$scratch"/*/kafka.pid "$scratch"/*/odradek.pid; do
        [ -f "$f" ] || continue
        pid="$(cat "$f")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$scratch"
}
trap cleanup EXIT

cd "${ODRADEK_SUITE_DIR:-$here}"
# pytest runs in the background so that a TERM or INT reaches it at once (bash would hold a
# trap until a foreground child exits); pytest turns it into an orderly teardown.
set +e
"$ODRADEK_CLIENTS_WORK/venv/bin/python" -m pytest "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
while :; do
    wait "$child"
    status=$?
    kill -0 "$child" 2>/dev/null || break
done
# harness.py stopped the run because Odradek died under a test.
if [ -f "$scratch/broker-died.txt" ]; then cat "$scratch/broker-died.txt" >&2; fi
exit "$status"
