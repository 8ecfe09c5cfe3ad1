#!/usr/bin/env bash
# Differential test of broker/config against Apache Kafka 3.9 (see
# differential.py). Kafka's jars come from the reference kit
# (compat-tests/kafka): its target/kafka-3.9.2/lib when fetched, else Maven resolves the
# kit's pom into a classpath (offline first, from ~/.m2). Skips (exit 77)
# when java, javac or the jars are unavailable.
#   run.sh ODRADEK_TOOL WORKDIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kit="$here/../../../compat-tests/kafka"
tool="$1"
work="$2"
java="${JAVA:-java}"
javac="${JAVAC:-javac}"
skip() { echo "skipped: $*"; exit 77; }
command -v "$java" >/dev/null && command -v "$javac" >/dev/null || skip "needs java and javac"
rm -rf "$work"
mkdir -p "$work/classes"
lib="${ODRADEK_KAFKA_LIB:-$kit/target/kafka-3.9.2/lib}"
if ls "$lib"/kafka_2.13-*.jar >/dev/null 2>&1; then
    cp="$(ls "$lib"/*.jar | tr '\n' ':')"
elif command -v mvn >/dev/null; then
    mvn -o -q -B -f "$kit/pom.xml" dependency:build-classpath -Dmdep.outputFile="$work/classpath" >/dev/null 2>&1 ||
        mvn -q -B -f "$kit/pom.xml" dependency:build-classpath -Dmdep.outputFile="$work/classpath" >/dev/null 2>&1 ||
        skip "Maven could not resolve $kit/pom.xml"
    cp="$(cat "$work/classpath")"
else
    skip "needs Kafka's jars in $lib or mvn"
fi
"$javac" -nowarn -d "$work/classes" -cp "$cp" "$here/KafkaConfigOracle.java"
# Kafka's startup logging goes to stderr and is not part of the answer.
exec python3 "$here/differential.py" "$work" \
    "$java" -Dlog4j.configuration=file:/dev/null -cp "$work/classes:$cp" KafkaConfigOracle \
    -- "$tool"
