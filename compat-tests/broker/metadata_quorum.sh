#!/usr/bin/env bash
# The KRaft metadata quorum as Kafka's own tools see it, on a one-node
# combined broker+controller: kafka-metadata-quorum (MetadataQuorumCommand)
# describe --status and --replication through the broker listener
# (--bootstrap-server) and through the controller listener
# (--bootstrap-controller); the high watermark moves when a topic is created;
# a metadata snapshot (metadata.log.max.snapshot.interval.ms) holding the
# new topic appears and Kafka's DumpLogSegments decodes it; after a clean
# stop, DumpLogSegments decodes the __cluster_metadata log (with the topic's
# TopicRecord) and quorum-state names the leader the tool reported; Odradek
# restarts from snapshot + log and still has the topic.
#
#   metadata_quorum.sh odradek PATH_TO_ODRADEK KAFKA_SH
#   metadata_quorum.sh kafka KAFKA_SH KAFKA_SH
#
# Exit 0 on success, 77 when java/python3 are missing.
set -euo pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/broker_lib.sh"
broker_scenario_init "${1:-}" "${2:-}" "${3:-}" java python3
bc="127.0.0.1:$((port + 1))"

run() { timeout 120 "$kafka_sh" run "$@" 2>&1 | grep -v ' INFO ' || true; }
quorum() { run org.apache.kafka.tools.MetadataQuorumCommand "$@"; }
field() { sed -n "s/^$1:[[:space:]]*//p" <<<"$2"; }

extra="metadata.log.max.snapshot.interval.ms=1000"
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
until quorum --bootstrap-server "$bs" describe --status | grep -q '^LeaderId:'; do
    [ $SECONDS -lt $deadline ] || fail "broker not ready"
    sleep 1
done

# --status, both ways in: the one voter leads, at its controller endpoint.
check_status() {
    local how="$1" out="$2"
    [ "$(field LeaderId "$out")" = 1 ] || fail "$how: leader: $out"
    [[ "$(field LeaderEpoch "$out")" =~ ^[1-9][0-9]*$ ]] || fail "$how: epoch: $out"
    [[ "$(field HighWatermark "$out")" =~ ^[1-9][0-9]*$ ]] || fail "$how: high watermark: $out"
    [ "$(field MaxFollowerLag "$out")" = 0 ] || fail "$how: lag: $out"
    field CurrentVoters "$out" | grep -q "\"id\": 1.*\"CONTROLLER://$bc\"" || fail "$how: voters: $out"
    [ "$(field CurrentObservers "$out")" = "[]" ] || fail "$how: observers: $out"
}
by_server="$(quorum --bootstrap-server "$bs" describe --status)"
check_status "--bootstrap-server" "$by_server"
by_controller="$(quorum --bootstrap-controller "$bc" describe --status)"
check_status "--bootstrap-controller" "$by_controller"
[ "$(field LeaderEpoch "$by_server")" = "$(field LeaderEpoch "$by_controller")" ] ||
    fail "the two listeners disagree on the epoch"

# --replication: one row, the leader, with no lag.
for how in "--bootstrap-server $bs" "--bootstrap-controller $bc"; do
    out="$(quorum $how describe --replication)"
    rows="$(grep -E '^1[[:space:]]' <<<"$out" || true)"
    [ "$(wc -l <<<"$rows")" = 1 ] || fail "$how: replication rows: $out"
    read -r node dir leo lag fetched caught status <<<"$rows"
    [[ "$leo" =~ ^[1-9][0-9]*$ ]] && [ "$lag" = 0 ] && [ "$status" = Leader ] ||
        fail "$how: replication row: $rows"
    [[ "$fetched" =~ ^[0-9]{13}$ && "$caught" =~ ^[0-9]{13}$ ]] || fail "$how: timestamps: $rows"
done

# A metadata change moves the high watermark.
hw_before="$(field HighWatermark "$(quorum --bootstrap-server "$bs" describe --status)")"
out="$(run org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --create --topic mq-topic --partitions 2)"
grep -q "Created topic mq-topic" <<<"$out" || fail "create: $out"
hw_after="$(field HighWatermark "$(quorum --bootstrap-controller "$bc" describe --status)")"
[ "$hw_after" -gt "$hw_before" ] || fail "high watermark did not move: $hw_before -> $hw_after"
epoch="$(field LeaderEpoch "$by_server")"
meta="$data/__cluster_metadata-0"

# A snapshot with the topic appears within the interval, readable by Kafka.
snapshot_has_topic() {
    local f
    f="$(ls "$meta"/*.checkpoint 2>/dev/null | sort | tail -n 1)"
    [ -n "$f" ] && run kafka.tools.DumpLogSegments --cluster-metadata-decoder --files "$f" |
        grep -q '"type":"TOPIC_RECORD".*"name":"mq-topic"'
}
limit=$((SECONDS + 60))
until snapshot_has_topic; do
    [ $SECONDS -lt $limit ] || fail "no snapshot with the topic: $(ls "$meta")"
    sleep 2
done

# Stop cleanly; Kafka's own decoder reads the metadata log, and
# quorum-state names the leader and epoch the tool reported.
if [ "$target" = odradek ]; then
    kill -TERM "$pid"
    wait "$pid" || fail "odradek exited with an error after SIGTERM"
    pid=""
    grep -q "shut down cleanly" "$work/broker.log" || fail "no clean shutdown"
else
    "$kafka_sh" stop "$work/kafka" >/dev/null 2>&1
fi
out="$(run kafka.tools.DumpLogSegments --cluster-metadata-decoder --files "$meta/00000000000000000000.log")"
grep -q '"type":"TOPIC_RECORD".*"name":"mq-topic"' <<<"$out" || fail "DumpLogSegments: no TopicRecord: $(tail -n 5 <<<"$out")"
grep -q '"type":"REGISTER_BROKER_RECORD"' <<<"$out" || fail "DumpLogSegments: no registration"
grep -q 'LEADER_CHANGE' <<<"$out" || fail "DumpLogSegments: no LeaderChange control record"
state="$(cat "$meta/quorum-state")"
grep -q "\"leaderId\":1,\"leaderEpoch\":$epoch," <<<"$state" || fail "quorum-state: $state (epoch $epoch)"
if [ "$target" = odradek ]; then
    broker_launch
    limit=$((SECONDS + 60))
    until out="$(run org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" --describe --topic mq-topic)" &&
        grep -q "PartitionCount: 2" <<<"$out"; do
        [ $SECONDS -lt $limit ] || fail "topic lost after restart: $out"
        sleep 1
    done
fi
echo "ok: $target"
