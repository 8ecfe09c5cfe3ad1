#!/usr/bin/env bash
# Builds AssignorDiff.java against Kafka 3.9.2's group-coordinator jar
# (fetched by compat-tests/kafka/kafka.sh) and compares its assignments with
# od_assignor_tool's on random scenarios (assignor_diff.py).
#   run_assignor_diff.sh OD_ASSIGNOR_TOOL [STEPS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tool="$1"
steps="${2:-400}"
java="${JAVA:-java}"
javac="${JAVAC:-javac}"
cp="$("$here/../kafka/kafka.sh" classpath)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$javac" -d "$out" -cp "$cp" "$here/AssignorDiff.java"
python3 "$here/assignor_diff.py" "$tool" "$java" "$out:$cp" "$steps"
