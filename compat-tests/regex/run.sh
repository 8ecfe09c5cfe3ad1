#!/usr/bin/env bash
# The RE2/J differential test: builds the Java half with Maven (the first run
# downloads com.google.re2j:re2j into ~/.m2) and runs it against od_regex_tool.
#
#   run.sh PATH/TO/od_regex_tool [extra Main arguments, e.g. --seed 7 --generated 5000 --verbose]
#
# Environment: MVN, JAVA (defaults: from PATH), REGEX_DIFF_SEED.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tool="${1:?usage: run.sh PATH/TO/od_regex_tool [args...]}"
shift
mvn="${MVN:-mvn}"
java="${JAVA:-java}"

tool="$(cd "$(dirname "$tool")" && pwd)/$(basename "$tool")"
[ -x "$tool" ] || { echo "run.sh: $tool is not an executable" >&2; exit 2; }

# Two CTest runs (e.g. Release and Sanitize trees) may share this source dir;
# serialize the Maven build so neither sees a half-written target/.
exec 9>"$here/.build.lock"
flock 9
(cd "$here" && "$mvn" -B -q -Dstyle.color=never package)
flock -u 9

args=(--tool "$tool" --patterns "$here/patterns.txt")
[ -n "${REGEX_DIFF_SEED:-}" ] && args+=(--seed "$REGEX_DIFF_SEED")
# A thread stack large enough that RE2/J itself handles every generated pattern.
exec "$java" -Xss16m -cp "$here/target/classes:$here/target/lib/*" org.odradek.regexdiff.Main "${args[@]}" "$@"
