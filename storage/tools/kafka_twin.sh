#!/bin/sh
# Byte-for-byte comparison with Kafka: writes a sample log with
# od_storage_mklog, replays each segment's batches through Kafka's own
# LogSegment (KafkaTwin.java), and compares .log, .index and .timeindex;
# then reads Kafka's files back with od_storage_verify.
#   storage/tools/kafka_twin.sh BUILD_DIR KAFKA_LIB_DIR
set -eu
build=$(cd "${1:?build dir}" && pwd)
lib=$(cd "${2:?directory of Kafka 3.9 jars}" && pwd)
src=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/od-kafka-twin-XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$build/storage/od_storage_mklog" "$dir/ours" >/dev/null
javac -d "$dir/classes" -cp "$lib/*" "$src/KafkaTwin.java"
cd "$dir/ours/sample-0"
last=$(ls *.log | tail -1)
fail=0
for seg in *.log; do
    state=sealed
    [ "$seg" = "$last" ] && state=active
    # od_storage_mklog uses index.interval.bytes 512 and the default 10 MiB index size.
    java -cp "$lib/*:$dir/classes" KafkaTwin "$seg" "$dir/kafka/sample-0" 512 10485760 "$state" 2>/dev/null
    b=${seg%.log}
    for ext in log index timeindex; do
        if cmp -s "$b.$ext" "$dir/kafka/sample-0/$b.$ext"; then
            echo "same   $b.$ext ($(wc -c < "$b.$ext") bytes)"
        else
            echo "DIFFER $b.$ext (ours $(wc -c < "$b.$ext"), kafka $(wc -c < "$dir/kafka/sample-0/$b.$ext"))"
            fail=1
        fi
    done
done
# And the other way round: the Kafka-written segments read by us, lazily
# (as after a clean shutdown) and fully re-validated (as after a crash).
"$build/storage/od_storage_verify" "$dir/kafka" sample 0 || fail=1
"$build/storage/od_storage_verify" "$dir/kafka" sample 0 --unclean || fail=1
exit $fail
