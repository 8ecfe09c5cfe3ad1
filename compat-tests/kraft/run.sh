#!/usr/bin/env bash
# Replays a __cluster_metadata log written by Apache Kafka 3.9 into Odradek's
# metadata image and checks it against what Kafka's own Admin client reports.
#
#   run.sh OD_KRAFT_DUMP
#
# 1. Start Kafka (compat-tests/kafka/kafka.sh), run KraftScenario.java: topics
#    with configs, deletions, a re-created name, partition increases, config
#    changes; it prints the metadata as Kafka describes it.
# 2. Copy the metadata log while Kafka runs and replay the copy: everything,
#    leaders included, must be equal.
# 3. Stop Kafka cleanly and replay the final log: equal except leaders (the
#    last broker's controlled shutdown leaves every partition leaderless).
# 4. Again with a Kafka told to snapshot every second: the replay starts from
#    Kafka's own <offset>-<epoch>.checkpoint, then the log after it.
set -euo pipefail

dump="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kafka="$here/../kafka/kafka.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/od-kraft-compat-XXXXXX")"
port=$(( 20000 + RANDOM % 20000 ))
snap_pid=""
cleanup() {
    "$kafka" stop "$work/kafka" || true
    if [ -n "$snap_pid" ]; then kill "$snap_pid" 2>/dev/null || true; wait "$snap_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$kafka" start "$work/kafka" "$port" > /dev/null
cp="$("$kafka" classpath)"
java -cp "$cp" "-Dlog4j.configuration=file:$here/../kafka/log4j.properties" \
    "$here/KraftScenario.java" "127.0.0.1:$port" | sort > "$work/kafka.txt"

# Let the last commit reach the file, then copy it from under the running broker.
sleep 2
cp -r "$work/kafka/logs" "$work/live"
"$dump" "$work/live" | sort > "$work/live.txt"
if ! diff -u "$work/kafka.txt" "$work/live.txt"; then
    echo "FAIL: replay of the running cluster's log differs from Kafka's view" >&2
    exit 1
fi

"$kafka" stop "$work/kafka"
"$dump" --no-leader "$work/kafka/logs" | sort > "$work/final.txt"
sed -E 's/ leader=-?[0-9]+//' "$work/kafka.txt" | sort > "$work/kafka-no-leader.txt"
if ! diff -u "$work/kafka-no-leader.txt" "$work/final.txt"; then
    echo "FAIL: replay of the stopped cluster's log differs from Kafka's view" >&2
    exit 1
fi
# Phase 4: the same scenario on a broker that snapshots its metadata often.
snap="$work/snap"
mkdir -p "$snap/logs"
sport=$(( port + 2 ))
cat > "$snap/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$(( sport + 1 ))
listeners=PLAINTEXT://127.0.0.1:$sport,CONTROLLER://127.0.0.1:$(( sport + 1 ))
advertised.listeners=PLAINTEXT://127.0.0.1:$sport
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$snap/logs
offsets.topic.replication.factor=1
metadata.log.max.snapshot.interval.ms=1000
PROPS
cluster_id="$("$kafka" run kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
"$kafka" run kafka.tools.StorageTool format -t "$cluster_id" -c "$snap/server.properties" > "$snap/format.log" 2>&1
"$kafka" run kafka.Kafka "$snap/server.properties" > "$snap/kafka.log" 2>&1 &
snap_pid=$!
for _ in $(seq 1 120); do
    (exec 3<>"/dev/tcp/127.0.0.1/$sport") 2>/dev/null && break
    sleep 0.5
done
java -cp "$cp" "-Dlog4j.configuration=file:$here/../kafka/log4j.properties" \
    "$here/KraftScenario.java" "127.0.0.1:$sport" | sed -E 's/ leader=-?[0-9]+//' | sort > "$work/kafka-snap.txt"
sleep 4 # at least one snapshot after the last change
kill "$snap_pid"
wait "$snap_pid" 2>/dev/null || true
snap_pid=""
snapshots=$(ls "$snap/logs/__cluster_metadata-0" | grep -c '\.checkpoint$' || true)
if [ "$snapshots" -lt 1 ]; then
    echo "FAIL: Kafka wrote no metadata snapshot" >&2
    exit 1
fi
"$dump" --no-leader "$snap/logs" | sort > "$work/snap.txt"
if ! diff -u "$work/kafka-snap.txt" "$work/snap.txt"; then
    echo "FAIL: replay from Kafka's snapshot differs from Kafka's view" >&2
    exit 1
fi

echo "ok: $(grep -c '^topic ' "$work/kafka.txt") topics, $(grep -c '^partition ' "$work/kafka.txt") partitions, $(grep -c '^config ' "$work/kafka.txt") configs replayed identically, also from $snapshots Kafka snapshot(s)"
