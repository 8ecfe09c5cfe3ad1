#!/usr/bin/env bash
# Prepares every client the conformance suite drives, so that the tests only run programs:
# a Python venv with the pinned client libraries, the franz-go program, the Java 4.x client
# program, and Apache Kafka's jars (the reference broker and its CLI tools).
#
#   setup.sh            prints nothing but progress; exits non-zero if a piece cannot be built
#
# The first run downloads from PyPI, the Go module proxy and Maven Central; later runs find
# everything cached and take a few seconds.
# Environment: ODRADEK_CLIENTS_WORK (default <repo>/build/compat-clients), PYTHON, MVN, GO.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${ODRADEK_CLIENTS_WORK:-$repo/build/compat-clients}"
python="${PYTHON:-python3}"
mvn="${MVN:-mvn}"
go="${GO:-go}"

log() { printf 'setup: %s\n' "$*" >&2; }

mkdir -p "$work/bin"
# Release and Debug trees may run this at once; both would write the same venv and target/.
exec 9>"$work/.setup.lock"
flock 9

# The venv is rebuilt only when the pinned list changes.
venv="$work/venv"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    log "creating the Python venv in $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
    echo "$want" > "$venv/.requirements.sha256"
fi

command -v "$go" >/dev/null || { echo "setup: go not found (needed for the franz-go client)" >&2; exit 1; }
log "building the franz-go program"
(cd "$here/franz" && "$go" build -trimpath -o "$work/bin/franz-roundtrip" .)

java_jar="$here/java/target/clients-roundtrip.jar"
stale=yes
if [ -f "$java_jar" ] && [ -d "$here/java/target/lib" ] &&
   [ -z "$(find "$here/java/pom.xml" "$here/java/src" -type f -newer "$java_jar" | head -n 1)" ]; then
    stale=""
fi
if [ -n "$stale" ]; then
    log "building the Java 4.x client program"
    # clean: copy-dependencies never removes a jar that an older pom brought.
    (cd "$here/java" && "$mvn" -B -q -Dstyle.color=never clean package)
fi

log "fetching Apache Kafka's jars"
"$repo/compat-tests/kafka/kafka.sh" fetch
log "ready"
