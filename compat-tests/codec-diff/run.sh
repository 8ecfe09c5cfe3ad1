#!/usr/bin/env bash
# Builds the Java half of the codec differential test with Maven (first run
# downloads kafka-clients 3.9.x and friends, and the newer kafka-clients of
# protocol/gen/spec_overlay.json, into ~/.m2) and runs it against
# od_codec_tool.
#
#   run.sh PATH/TO/od_codec_tool [SPECS_DIR] [extra Main arguments...]
#
# Environment: MVN, JAVA (defaults: from PATH), CODEC_DIFF_SEED, CODEC_DIFF_SAMPLES.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tool="${1:?usage: run.sh PATH/TO/od_codec_tool [SPECS_DIR] [args...]}"
specs="${2:-$here/../../../shared/kafka-specs}"
shift $(( $# >= 2 ? 2 : 1 ))
mvn="${MVN:-mvn}"
java="${JAVA:-java}"

tool="$(cd "$(dirname "$tool")" && pwd)/$(basename "$tool")"
[ -x "$tool" ] || { echo "run.sh: $tool is not an executable" >&2; exit 2; }
[ -d "$specs/message" ] || { echo "run.sh: no Kafka specs at $specs" >&2; exit 2; }

# Two CTest runs (e.g. Release and Sanitize trees) may share this source dir;
# serialize the Maven build so neither sees a half-written target/.
exec 9>"$here/.build.lock"
flock 9
(cd "$here" && "$mvn" -B -q -Dstyle.color=never package)
flock -u 9

# The generator's spec overlay: those messages are judged by the kafka-clients the specs came from.
overlay_jar="$(ls "$here"/target/overlay/kafka-clients-*.jar)"
args=(--tool "$tool" --specs "$specs" --overlay "$here/../../protocol/gen/spec_overlay.json" --overlay-jar "$overlay_jar")
[ -n "${CODEC_DIFF_SEED:-}" ] && args+=(--seed "$CODEC_DIFF_SEED")
[ -n "${CODEC_DIFF_SAMPLES:-}" ] && args+=(--samples "$CODEC_DIFF_SAMPLES")
exec "$java" -cp "$here/target/classes:$here/target/lib/*" org.odradek.codecdiff.Main "${args[@]}" "$@"
