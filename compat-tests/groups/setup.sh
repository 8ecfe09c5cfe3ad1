#!/usr/bin/env bash
# Builds this suite's member programs (after the client suite's setup.sh, which run.sh calls):
# the Java 4.x group member (Maven) and the franz-go group member (Go). Cached: a program is
# rebuilt only when its sources are newer than it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${ODRADEK_CLIENTS_WORK:-$repo/build/compat-clients}"
mvn="${MVN:-mvn}"
go="${GO:-go}"

log() { printf 'groups setup: %s\n' "$*" >&2; }

mkdir -p "$work/bin"
exec 9>"$work/.groups-setup.lock"
flock 9

franz_bin="$work/bin/franz-group-member"
if [ ! -x "$franz_bin" ] || [ -n "$(find "$here/franz" -type f -newer "$franz_bin" | head -n 1)" ]; then
    log "building the franz-go group member"
    (cd "$here/franz" && "$go" build -trimpath -o "$franz_bin" .)
fi

java_jar="$here/java/target/group-member.jar"
if [ ! -f "$java_jar" ] || [ ! -d "$here/java/target/lib" ] ||
   [ -n "$(find "$here/java/pom.xml" "$here/java/src" -type f -newer "$java_jar" | head -n 1)" ]; then
    log "building the Java group member"
    (cd "$here/java" && "$mvn" -B -q -Dstyle.color=never clean package)
fi

# Kafka 4.4.0's broker, the Kafka side of the scenarios that need ConsumerGroupHeartbeat v1
# (conftest.py's kip848_v1_broker); kafka.sh caches it in its own target dir.
KAFKA_VERSION=4.4.0 "$repo/compat-tests/kafka/kafka.sh" fetch
