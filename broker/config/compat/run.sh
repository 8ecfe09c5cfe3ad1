#!/usr/bin/env bash
# Differential test of broker/config against Apache Kafka 3.9 (see
# differential.py). Skips (exit 77) when java or Kafka's jars are missing.
#   run.sh ODRADEK_TOOL WORKDIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tool="$1"
work="$2"
lib="${ODRADEK_KAFKA_LIB:-$here/../../../compat-tests/kafka/target/lib}"
java="${JAVA:-java}"
javac="${JAVAC:-javac}"
if ! command -v "$java" >/dev/null || ! command -v "$javac" >/dev/null || ! ls "$lib"/kafka_2.13-*.jar >/dev/null 2>&1; then
    echo "skipped: needs java, javac and Kafka's jars in $lib (compat-tests/kafka/kafka.sh fetch)"
    exit 77
fi
cp="$(ls "$lib"/*.jar | tr '\n' ':')"
rm -rf "$work"
mkdir -p "$work/classes"
"$javac" -nowarn -d "$work/classes" -cp "$cp" "$here/KafkaConfigOracle.java"
# Kafka's startup logging goes to stderr and is not part of the answer.
exec python3 "$here/differential.py" "$work" \
    "$java" -Xshare:auto -Dlog4j.configuration=file:/dev/null -cp "$work/classes:$cp" KafkaConfigOracle \
    -- "$tool"
