#!/bin/sh
# Writes a sample log dir with od_storage_mklog and has Kafka's own
# DumpLogSegments read every file of it: batches must parse with valid CRCs,
# indexes must pass Kafka's sanity check and agree with the log.
#   storage/tools/check_with_kafka.sh BUILD_DIR KAFKA_LIB_DIR [--compact]
set -eu
build=$(cd "${1:?build dir}" && pwd)
lib=$(cd "${2:?directory of Kafka 3.9 jars}" && pwd)
dir=$(mktemp -d /tmp/od-kafka-check-XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$build/storage/od_storage_mklog" "$dir" ${3:-}
cd "$dir/sample-0"
dump() { java -cp "$lib/*" kafka.tools.DumpLogSegments "$@" 2>&1 | grep -v '^log4j'; }
files=$(ls | grep -E '\.(log|index|timeindex|txnindex|snapshot)$' | tr '\n' ',')
out=$(dump --files "$files" --deep-iteration)
bad=$(printf '%s\n' "$out" | grep -E 'isvalid: false|Exception|[Mm]ismatch|corrupt' || true)
idx=$(ls | grep -E '\.(index|timeindex)$' | tr '\n' ',')
verify=$(dump --files "$idx" --verify-index-only | grep -v '^Dumping' || true)
sanity=$(dump --files "$idx" --index-sanity-check | grep -v -E '^Dumping|passed sanity check' || true)
if [ -n "$bad$verify$sanity" ]; then
    printf 'Kafka disagrees:\n%s\n%s\n%s\n' "$bad" "$verify" "$sanity"
    exit 1
fi
echo "Kafka's DumpLogSegments read $(printf '%s\n' "$out" | grep -c 'isvalid: true') valid batches; indexes verified"
