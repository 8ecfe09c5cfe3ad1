#!/usr/bin/env bash
# Builds this suite's Kafka Streams word count (Maven; kafka-streams 3.9.2 from Maven Central),
# after the client suite's setup.sh (which run.sh calls). Cached: rebuilt only when its
# sources are newer than its jar.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${ODRADEK_CLIENTS_WORK:-$repo/build/compat-clients}"
mvn="${MVN:-mvn}"

mkdir -p "$work"
exec 9>"$work/.transactions-setup.lock"
flock 9

jar="$here/streams/target/streams-word-count.jar"
if [ ! -f "$jar" ] || [ ! -d "$here/streams/target/lib" ] ||
   [ -n "$(find "$here/streams/pom.xml" "$here/streams/src" -type f -newer "$jar" | head -n 1)" ]; then
    printf 'transactions setup: building the Kafka Streams word count\n' >&2
    (cd "$here/streams" && "$mvn" -B -q -Dstyle.color=never clean package)
fi
