#!/usr/bin/env bash
# Apache Kafka's own Java tools against a broker: kafka-topics (create with
# configs, list, describe, add partitions, delete), kafka-configs (alter and
# describe topic configs, describe the broker), the idempotent Java producer
# (ProducerPerformance, lz4) and the Java consumer (ConsoleConsumer on an
# assigned partition). Then, on Odradek only, the advertised API ranges must
# equal what Kafka 3.9 advertises for the same keys (checked against a
# reference list taken from the Kafka run of this same script when both run).
#
#   java_tools.sh odradek PATH_TO_ODRADEK KAFKA_SH
#   java_tools.sh kafka KAFKA_SH KAFKA_SH
#
# Exit 0 on success, 77 when java/python3 are missing.
set -euo pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/broker_lib.sh"
broker_scenario_init "${1:-}" "${2:-}" "${3:-}" java python3

# ApiVersions v0 by hand: prints "key min max" per advertised API.
api_versions() {
    python3 - "$port" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
cid = b"java-tools-test"
body = struct.pack(">hhih", 18, 0, 1, len(cid)) + cid
s.sendall(struct.pack(">i", len(body)) + body)
def take(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("connection closed")
        b += c
    return b
d = take(struct.unpack(">i", take(4))[0])
count = struct.unpack(">i", d[6:10])[0]
for i in range(count):
    print(*struct.unpack(">hhh", d[10 + 6 * i:16 + 6 * i]))
PY
}

if [ "$target" = odradek ]; then
    broker_write_properties
    broker_format
fi
broker_launch
deadline=$((SECONDS + 120))
until api_versions >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "broker not ready"
    sleep 0.5
done

run() { timeout 120 "$kafka_sh" run "$@" 2>&1 | grep -v ' INFO ' || true; }
topics() { run org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" "$@"; }
configs() { run kafka.admin.ConfigCommand --bootstrap-server "$bs" "$@"; }

out="$(topics --create --topic jt --partitions 2 --config retention.ms=123456 --config cleanup.policy=compact)"
echo "$out" | grep -q "Created topic jt" || fail "create: $out"
out="$(topics --create --topic jt --partitions 2)"
echo "$out" | grep -q "already exists" || fail "duplicate create: $out"
out="$(topics --create --topic jt-bad --config retention.ms=abc)"
echo "$out" | grep -qi "invalid" || fail "bad config accepted: $out"
out="$(topics --list)"
echo "$out" | grep -qx "jt" || fail "list: $out"
out="$(topics --describe --topic jt)"
echo "$out" | grep -q "PartitionCount: 2" || fail "describe: $out"
echo "$out" | grep -q "retention.ms=123456" || fail "describe configs: $out"
out="$(topics --alter --topic jt --partitions 4)"
out="$(topics --describe --topic jt)"
echo "$out" | grep -q "PartitionCount: 4" || fail "add partitions: $out"

configs --alter --entity-type topics --entity-name jt --add-config max.message.bytes=20000 >/dev/null
out="$(configs --describe --entity-type topics --entity-name jt)"
echo "$out" | grep -q "max.message.bytes=20000" || fail "configs describe: $out"
configs --alter --entity-type topics --entity-name jt --delete-config max.message.bytes >/dev/null
out="$(configs --describe --entity-type topics --entity-name jt)"
echo "$out" | grep -q "max.message.bytes" && fail "config not deleted: $out"
out="$(configs --describe --entity-type brokers --entity-name 1 --all)"
echo "$out" | grep -q "log.segment.bytes=1073741824" || fail "broker configs: $out"

out="$(run org.apache.kafka.tools.ProducerPerformance --topic jperf --num-records 5000 --record-size 100 \
      --throughput -1 --producer-props "bootstrap.servers=$bs" compression.type=lz4 acks=all)"
echo "$out" | grep -q "5000 records sent" || fail "producer: $out"
out="$(run org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$bs" --topic jperf \
      --partition 0 --offset earliest --max-messages 5000 --timeout-ms 20000)"
echo "$out" | grep -q "Processed a total of 5000 messages" || fail "consumer: $(echo "$out" | tail -n 3)"

out="$(run org.apache.kafka.tools.GetOffsetShell --bootstrap-server "$bs" --topic jperf)"
echo "$out" | grep -qx "jperf:0:5000" || fail "latest offsets: $out"
echo '{"partitions":[{"topic":"jperf","partition":0,"offset":100}],"version":1}' >"$work/delete.json"
out="$(run org.apache.kafka.tools.DeleteRecordsCommand --bootstrap-server "$bs" --offset-json-file "$work/delete.json")"
echo "$out" | grep -q "low_watermark: 100" || fail "delete records: $out"
out="$(run org.apache.kafka.tools.GetOffsetShell --bootstrap-server "$bs" --topic jperf --time -2)"
echo "$out" | grep -qx "jperf:0:100" || fail "earliest after delete: $out"
out="$(run org.apache.kafka.tools.LogDirsCommand --bootstrap-server "$bs" --describe --topic-list jperf)"
echo "$out" | grep -q '"partition":"jperf-0"' || fail "log dirs: $out"
out="$(run org.apache.kafka.tools.LeaderElectionCommand --bootstrap-server "$bs" --election-type preferred \
      --topic jperf --partition 0)"
echo "$out" | grep -q "Valid replica already elected" || fail "leader election: $out"
out="$(run org.apache.kafka.tools.ClusterTool cluster-id --bootstrap-server "$bs")"
echo "$out" | grep -q "Cluster ID: " || fail "cluster id: $out"

out="$(topics --delete --topic jt)"
out="$(topics --list)"
echo "$out" | grep -qx "jt" && fail "topic not deleted: $out"

api_versions >"$work/apis.txt"
if [ -n "${OD_KAFKA_API_VERSIONS:-}" ] && [ "$target" = kafka ]; then
    cp "$work/apis.txt" "$OD_KAFKA_API_VERSIONS"
fi
if [ "$target" = odradek ] && [ -n "${OD_KAFKA_API_VERSIONS:-}" ] && [ -s "${OD_KAFKA_API_VERSIONS}" ]; then
    # Every API Odradek advertises must have exactly Kafka's range, except
    # GetTelemetrySubscriptions (71) and PushTelemetry (72), which Kafka
    # advertises only with a ClientTelemetry metrics reporter and Odradek
    # always does (broker/handlers/telemetry.h), and ConsumerGroupHeartbeat
    # (68) and ConsumerGroupDescribe (69), whose specs come from Kafka 4.4
    # (protocol/gen/spec_overlay.json): there, exactly Kafka 4.4's 0-1.
    extra="$(grep -vxFf "$OD_KAFKA_API_VERSIONS" "$work/apis.txt" | grep -v '^7[12] ' |
             grep -vx '6[89] 0 1' || true)"
    [ -z "$extra" ] || fail "advertised ranges Kafka does not have: $extra"
fi
if [ "$target" = odradek ]; then
    kill -TERM "$pid"
    wait "$pid" || fail "odradek exited with an error after SIGTERM"
    pid=""
    grep -q "shut down cleanly" "$work/broker.log" || fail "no clean shutdown"
fi
echo "ok: $target"
