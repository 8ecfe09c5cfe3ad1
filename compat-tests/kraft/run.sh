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
set -euo pipefail

dump="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kafka="$here/../kafka/kafka.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/od-kraft-compat-XXXXXX")"
port=$(( 20000 + RANDOM % 20000 ))
cleanup() {
    "$kafka" stop "$work/kafka" || true
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
echo "ok: $(grep -c '^topic ' "$work/kafka.txt") topics, $(grep -c '^partition ' "$work/kafka.txt") partitions, $(grep -c '^config ' "$work/kafka.txt") configs replayed identically"
