#!/usr/bin/env bash
# The metadata log is cut behind its snapshots: with small metadata log
# segments, a snapshot every few KiB of records and metadata.max.retention.bytes
# far below what the log holds, creating topics leaves one snapshot and a
# log whose first segment no longer starts at offset 0; after a restart
# (which replays that snapshot and the log after it) every topic is still
# there, and Kafka's DumpLogSegments still reads the cut log.
#
#   metadata_retention.sh odradek PATH_TO_ODRADEK KAFKA_SH
#   metadata_retention.sh kafka KAFKA_SH KAFKA_SH
#
# Exit 0 on success, 77 when kcat/java are missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/broker_lib.sh"
broker_scenario_init "${1:-}" "${2:-}" "${3:-}" kcat java python3
extra="metadata.log.segment.min.bytes=1024
metadata.log.segment.bytes=2048
metadata.log.max.record.bytes.between.snapshots=1024
metadata.max.retention.bytes=1"
if [ "$target" = odradek ]; then
    broker_write_properties
    printf '%s\n' "$extra" >>"$work/server.properties"
    broker_format
    meta="$work/data/__cluster_metadata-0"
else
    mkdir -p "$work/kafka"
    printf '%s\n' "$extra" >"$work/kafka/extra.properties"
    meta="$work/kafka/logs/__cluster_metadata-0"
fi

TOPICS=60
create_topics() {
    python3 - "$port" "$TOPICS" <<'PY'
import os
import sys
sys.path.insert(0, os.environ["HERE"])
from produce_errors import Conn, create_topic
conn = Conn("127.0.0.1", int(sys.argv[1]))
for i in range(int(sys.argv[2])):
    err = create_topic(conn, "mr-%03d" % i, {})
    if err != 0:
        sys.exit("create mr-%03d: error %d" % (i, err))
PY
}
snapshots() { find "$meta" -maxdepth 1 -name '*.checkpoint' | wc -l; }
first_segment() { find "$meta" -maxdepth 1 -name '*.log' -printf '%f\n' | sort | head -n 1; }
topic_count() { kcat -b "$bs" -L 2>/dev/null | grep -c 'topic "mr-' || true; }

broker_start_ready
HERE="$here" create_topics || fail "creating topics"
# Cleaning follows the next snapshot; Kafka deletes asynchronously too.
broker_wait_for '[ "$(snapshots)" = 1 ] && [ "$(first_segment)" != 00000000000000000000.log ]' 60 ||
    fail "metadata log not cut: $(snapshots) snapshots, first segment $(first_segment): $(ls "$meta")"
broker_wait_for '[ "$(topic_count)" = $TOPICS ]' 60 || fail "$(topic_count) topics of $TOPICS before the restart"
broker_stop_clean

# Kafka's own reader takes the cut log, from its new first segment.
dump="$("$kafka_sh" run kafka.tools.DumpLogSegments --cluster-metadata-decoder \
    --files "$meta/$(first_segment)" 2>&1)" || fail "DumpLogSegments: $dump"
grep -q "baseOffset" <<<"$dump" || fail "DumpLogSegments printed no batch: $dump"

broker_start_ready
broker_wait_for '[ "$(topic_count)" = $TOPICS ]' 60 || fail "$(topic_count) topics of $TOPICS after the restart"
broker_stop_clean
echo "ok: $target ($(ls "$meta" | grep -c '\.log$') segments left, first $(first_segment))"
