#!/usr/bin/env bash
# Fetches and builds, once and before any compat test starts, everything the compat tests take
# from Maven Central, PyPI and the Go module proxy: Apache Kafka's jars (kafka/kafka.sh fetch),
# the client suites' programs and venv (clients/, groups/, transactions/ setup.sh) and the Java
# sides of codec-diff/, regex/ and storage/. CTest runs it as compat.prepare, the setup of the fixture
# compat_prepared that every compat test requires.
#
# Why: Maven 3.8 does not guard ~/.m2 against two processes downloading one artifact at once, so
# the compat tests used to take one shared lock and ran one at a time. With ~/.m2 and every
# target/ filled here, the tests only read them and run in parallel. Each step is cached, so a
# second run takes a few seconds.
#
#   prepare.sh            (environment: MVN, JAVA, PYTHON, GO as the setup scripts read them;
#                          without GO the client suites, which need it, are not prepared)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mvn="${MVN:-mvn}"

log() { printf 'prepare: %s\n' "$*" >&2; }

log "Apache Kafka's jars"
"$here/kafka/kafka.sh" fetch

if command -v "${GO:-go}" >/dev/null 2>&1; then
    log "client suites"
    "$here/clients/setup.sh"
    "$here/groups/setup.sh"
    "$here/transactions/setup.sh"
fi

# The same lock files as these directories' own scripts take around their builds.
for project in codec-diff regex storage; do
    log "$project (Maven)"
    (cd "$here/$project" && flock .build.lock "$mvn" -B -q -Dstyle.color=never package)
done
log "ready"
