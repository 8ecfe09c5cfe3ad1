#!/usr/bin/env bash
# Runs Apache Kafka (from Maven Central jars) as the reference broker and its CLI tools.
#
#   kafka.sh fetch                      download the jars into target/kafka-VERSION/lib (once; Maven caches them)
#   kafka.sh classpath                  print the classpath
#   kafka.sh start DATA_DIR PORT        format DATA_DIR and start a single-node KRaft broker+controller
#                                       on 127.0.0.1:PORT (controller on PORT+1); prints its pid.
#                                       An already formatted DATA_DIR is restarted as it is, and
#                                       DATA_DIR/extra.properties, if present, is appended to the config.
#   kafka.sh stop DATA_DIR              stop the broker started with DATA_DIR
#   kafka.sh run MAIN_CLASS [ARGS...]   run a tool by its main class (e.g. kafka.tools.DumpLogSegments)
#
# KAFKA_VERSION picks the Kafka release (default 3.9.2, the reference for every suite). Another
# version is fetched for its broker alone (kafka_2.13 and its dependencies, no org.apache.kafka.tools),
# into its own target dir; 4.x logs through log4j2 (log4j2.properties), 3.x through reload4j.
# start runs the broker JVM with $KAFKA_HEAP_OPTS and $KAFKA_JVM_PERFORMANCE_OPTS when they are set, as
# Kafka's own scripts do (bench/broker sets them to kafka-server-start.sh's defaults).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
default_version=3.9.2
version="${KAFKA_VERSION:-$default_version}"
case "$version" in
    [0-9]*.[0-9]*.[0-9]*) ;;
    *) echo "kafka.sh: KAFKA_VERSION=$version is not a release number" >&2; exit 2 ;;
esac
build="$here/target/kafka-$version"
lib="$build/lib"
maven_flags=(-Dkafka.version="$version" -Dkafka.build.dir="$build")
[ "$version" = "$default_version" ] || maven_flags+=(-Dkafka.broker.only)
if [ "${version%%.*}" -ge 4 ]; then
    maven_flags+=(-Dkafka.log4j2)
    log_config="-Dlog4j2.configurationFile=$here/log4j2.properties"
else
    log_config="-Dlog4j.configuration=file:$here/log4j.properties"
fi

fetch() {
    if [ ! -f "$lib/.complete" ]; then
        mkdir -p "$here/target"
        # Two suites may fetch the same version at once (CTest's Maven lock aside).
        exec 8>"$here/target/.fetch-$version.lock"
        flock 8
        if [ ! -f "$lib/.complete" ]; then
            mvn -B -q -f "$here/pom.xml" "${maven_flags[@]}" package >&2
            touch "$lib/.complete"
        fi
        flock -u 8
    fi
}

classpath() {
    fetch
    local jars=("$lib"/*.jar)
    local IFS=:
    echo "${jars[*]}"
}

# The reference broker serves the scenarios' small loads: C1 only and the serial GC bring it up
# with a third less CPU than Kafka's defaults (measured 4.8-5.6 s -> 3.1-3.5 s until it answers).
# bench/broker sets Kafka's own defaults through KAFKA_HEAP_OPTS and KAFKA_JVM_PERFORMANCE_OPTS.
java_opts=(-Xms256m -Xmx1g -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true
           "$log_config")

# The CLI tools are short-lived JVMs: C1 only and the serial GC start them faster, and a class-data
# archive of Kafka's classes (written by the first `run`, tied to this JVM and classpath by its
# name) halves each later start. The scenarios run a few hundred tools.
tool_opts=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx512m -Djava.awt.headless=true
           "$log_config" -Xlog:cds=off -Xlog:cds+dynamic=off)

tools_archive() {
    local key; key="$(printf '%s\0%s' "$(readlink -f "$(command -v java)")" "$1" | sha1sum | cut -c1-16)"
    echo "$here/target/tools-$key.jsa"
}

# tool CLASSPATH MAIN_CLASS [ARGS...]: a tool in the foreground, with the archive when there is one.
tool() {
    local cp="$1" archive; shift
    archive="$(tools_archive "$cp")"
    if [ -f "$archive" ]; then
        java "${tool_opts[@]}" "-XX:SharedArchiveFile=$archive" -cp "$cp" "$@"
    else
        java "${tool_opts[@]}" -cp "$cp" "$@"
    fi
}

run_class() {
    local cp archive pending status=0
    cp="$(classpath)"; archive="$(tools_archive "$cp")"
    # exec when it can: a timeout's signal then reaches the tool itself.
    [ -f "$archive" ] && exec java "${tool_opts[@]}" "-XX:SharedArchiveFile=$archive" -cp "$cp" "$@"
    pending="$archive.$$.tmp"
    java "${tool_opts[@]}" "-XX:ArchiveClassesAtExit=$pending" -cp "$cp" "$@" || status=$?
    # Only a tool that exited normally left a whole archive; the rename is atomic for concurrent runs.
    if [ "$status" -eq 0 ] && [ -f "$pending" ]; then mv -f "$pending" "$archive"; else rm -f "$pending"; fi
    return "$status"
}

start() {
    local data="$1" port="$2" controller_port=$(( $2 + 1 ))
    mkdir -p "$data"
    data="$(cd "$data" && pwd)"
    cat > "$data/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data/logs
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
    if [ -f "$data/extra.properties" ]; then cat "$data/extra.properties" >> "$data/server.properties"; fi
    local cp; cp="$(classpath)"
    if [ ! -f "$data/logs/meta.properties" ]; then
        tool "$cp" kafka.tools.StorageTool format -t "$(tool "$cp" kafka.tools.StorageTool random-uuid)" \
            -c "$data/server.properties" >"$data/format.log" 2>&1
    fi
    local broker_opts=("${java_opts[@]}")
    if [ -n "${KAFKA_HEAP_OPTS:-}${KAFKA_JVM_PERFORMANCE_OPTS:-}" ]; then
        # Word splitting is wanted: each variable holds a list of JVM flags.
        # shellcheck disable=SC2206
        broker_opts=(${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} ${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC -Djava.awt.headless=true}
                     "$log_config")
    fi
    nohup java "${broker_opts[@]}" -cp "$cp" kafka.Kafka "$data/server.properties" >"$data/kafka.log" 2>&1 &
    echo $! > "$data/kafka.pid"
    # Ready when the broker answers on its port.
    for _ in $(seq 1 120); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            cat "$data/kafka.pid"
            return 0
        fi
        kill -0 "$(cat "$data/kafka.pid")" 2>/dev/null || break
        sleep 0.5
    done
    echo "Apache Kafka did not start; see $data/kafka.log" >&2
    tail -n 30 "$data/kafka.log" >&2
    return 1
}

stop() {
    local data="$1" pid
    [ -f "$data/kafka.pid" ] || return 0
    pid="$(cat "$data/kafka.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$data/kafka.pid"; return 0; }
        sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$data/kafka.pid"
}

case "${1:-}" in
fetch) fetch ;;
classpath) classpath ;;
start) shift; start "$@" ;;
stop) shift; stop "$@" ;;
run) shift; run_class "$@" ;;
*) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
