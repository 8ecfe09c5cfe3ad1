#!/usr/bin/env bash
# Background log maintenance while the broker runs, driven by a real client
# (kcat): a compacted topic (small segment.bytes, min.cleanable.dirty.ratio
# 0.01) loses its duplicate keys and keeps each key's latest value; a
# retention.ms topic loses its old segments; a deleted topic's directory is
# removed after log.segment.delete.delay.ms. The broker runs with Kafka's
# intervals shortened (log.cleaner.backoff.ms, log.retention.check.interval.ms).
#
#   log_maintenance.sh odradek PATH_TO_ODRADEK KAFKA_SH
#   log_maintenance.sh kafka KAFKA_SH KAFKA_SH
#
# Exit 0 on success, 77 when kcat/java are missing.
set -euo pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/broker_lib.sh"
broker_scenario_init "${1:-}" "${2:-}" "${3:-}" kcat java python3
extra="log.cleaner.backoff.ms=500
log.retention.check.interval.ms=1000
log.segment.delete.delay.ms=1000"

if [ "$target" = odradek ]; then
    broker_write_properties
    printf '%s\n' "$extra" >>"$work/server.properties"
    broker_format
    data="$work/data"
else
    mkdir -p "$work/kafka"
    printf '%s\n' "$extra" >"$work/kafka/extra.properties"
    data="$work/kafka/logs"
fi
broker_launch
deadline=$((SECONDS + 120))
until kcat -b "$bs" -L -m 5 >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "broker not ready"
    sleep 0.5
done

run() { timeout 120 "$kafka_sh" run "$@" 2>&1 | grep -v ' INFO ' || true; }
create() {
    local out
    out="$(run org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create --topic "$@")"
    grep -q "Created topic" <<<"$out" || fail "create $1: $out"
}
# Every record from the start as key:value, one per line.
consume() { kcat -b "$bs" -C -t "$1" -o beginning -e -q -f '%k:%s\n' 2>/dev/null || true; }

# --- compaction: 10 keys x 20 rounds, one small batch per round.
create compacted --partitions 1 --config cleanup.policy=compact --config segment.bytes=1024 \
    --config min.cleanable.dirty.ratio=0.01 --config min.compaction.lag.ms=0
for round in $(seq 1 20); do
    for key in $(seq 0 9); do echo "k$key:v$round"; done |
        kcat -b "$bs" -P -t compacted -K: -p 0 || fail "produce round $round"
done
# Compaction keeps offsets: the last record is still at offset 199.
last="$(kcat -b "$bs" -C -t compacted -o beginning -e -q -f '%o\n' 2>/dev/null | tail -n 1)"
[ "$last" = 199 ] || fail "not all 200 records were written (last offset $last)"
broker_wait_for '[ "$(consume compacted | wc -l)" -lt 200 ]' 90 ||
    fail "compacted topic never cleaned: $(consume compacted | wc -l) records"
# Each key's latest value survives, and appears after every older one.
latest="$(consume compacted | awk -F: '{v[$1]=$2} END {for (k in v) print k":"v[k]}' | sort)"
expected="$(for key in $(seq 0 9); do echo "k$key:v20"; done | sort)"
[ "$latest" = "$expected" ] || fail "latest values after cleaning: $latest"

# --- retention: every record is older than retention.ms after a short wait.
create retained --partitions 1 --config retention.ms=3000 --config segment.bytes=1024
for round in $(seq 1 10); do
    for key in $(seq 0 9); do echo "k$key:r$round"; done | kcat -b "$bs" -P -t retained -K: -p 0
done
[ "$(consume retained | wc -l)" = 100 ] || fail "not all 100 records were written"
# Kafka starts its retention task 30 s after startup.
broker_wait_for '[ "$(consume retained | wc -l)" = 0 ]' 120 ||
    fail "retention kept $(consume retained | wc -l) records"

# --- deleted topics: the renamed directory goes after the delay.
run org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --delete --topic retained >/dev/null
broker_wait_for '! ls "$data" | grep -q "^retained-0"' 60 ||
    fail "directory of the deleted topic still there: $(ls "$data")"

if [ "$target" = odradek ]; then
    kill -TERM "$pid"
    wait "$pid" || fail "odradek exited with an error after SIGTERM"
    pid=""
    grep -q "shut down cleanly" "$work/broker.log" || fail "no clean shutdown"
fi
echo "ok: $target"
