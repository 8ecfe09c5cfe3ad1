#!/usr/bin/env bash
# Metadata path figures for one or more odradek binaries and Apache Kafka in
# one run: time from process start to the first answered Metadata request,
# then CreateTopics of N one-partition topics one per request (latency), 100
# per request (throughput), and one per request with 8 requests in flight
# (concurrent requests: where the controller's group commit shows).
#
#   bench/metadata/run.sh PYTHON_WITH_CONFLUENT_KAFKA [N] odradek:PATH... [kafka]
#
# e.g. run.sh build/compat-clients/venv/bin/python 1000 odradek:build/release/broker/odradek kafka
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py="${1:?python with confluent-kafka}"
n="${2:?topic count}"
shift 2
kafka_sh="$root/compat-tests/kafka/kafka.sh"

free_pair() {
    python3 - <<'PY'
import socket
for _ in range(200):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1))
    except OSError:
        a.close(); continue
    a.close(); b.close(); print(p); break
PY
}

# Milliseconds until a Metadata request (kcat -L) is answered. The port is
# polled first: a kcat started before the listener is bound waits out
# librdkafka's reconnect backoff, which would be measured instead.
until_metadata() {
    local port="$1" t0="$2"
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.005; done
    until kcat -b "127.0.0.1:$port" -L -m 1 >/dev/null 2>&1; do sleep 0.01; done
    echo $(( $(date +%s%3N) - t0 ))
}

for target in "$@"; do
    work="$(mktemp -d)"
    port="$(free_pair)"
    case "$target" in
    odradek:*)
        bin="${target#odradek:}"
        cat >"$work/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$((port + 1))
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$work/data
num.partitions=1
PROPS
        "$bin" storage format -t "$("$bin" storage random-uuid)" -c "$work/server.properties" >/dev/null
        t0=$(date +%s%3N)
        "$bin" "$work/server.properties" >"$work/broker.log" 2>&1 &
        pid=$!
        echo "$target start_to_metadata_ms=$(until_metadata "$port" "$t0")"
        ;;
    kafka)
        t0=$(date +%s%3N)
        "$kafka_sh" start "$work/kafka" "$port" >/dev/null
        echo "$target start_to_metadata_ms=$(until_metadata "$port" "$t0") (includes the JVM)"
        ;;
    esac
    "$py" "$here/create_topics.py" --bootstrap "127.0.0.1:$port" --topics "$n" --batch 1 --prefix one | sed "s|^|$target |"
    "$py" "$here/create_topics.py" --bootstrap "127.0.0.1:$port" --topics "$n" --batch 100 --prefix hundred | sed "s|^|$target |"
    "$py" "$here/create_topics.py" --bootstrap "127.0.0.1:$port" --topics "$n" --batch 1 --inflight 8 --prefix eight | sed "s|^|$target |"
    case "$target" in
    odradek:*) kill -TERM "$pid"; wait "$pid" || true ;;
    kafka) "$kafka_sh" stop "$work/kafka" >/dev/null 2>&1 || true ;;
    esac
    rm -rf "$work"
done
