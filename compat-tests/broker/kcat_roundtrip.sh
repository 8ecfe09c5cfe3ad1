#!/usr/bin/env bash
# End-to-end scenario with kcat (librdkafka) against a real broker process:
# produce with every codec, consume back byte-identical, list offsets, then
# restart the broker (SIGTERM, then SIGKILL) and check that topics and data
# survived.
#
#   kcat_roundtrip.sh odradek PATH_TO_ODRADEK    the broker under test
#   kcat_roundtrip.sh kafka PATH_TO_KAFKA_SH     Apache Kafka, to prove the test itself right
#
# Exit 0 on success, 77 when a prerequisite (kcat, java) is missing.
set -euo pipefail

target="${1:?odradek|kafka}"
tool="${2:?path to odradek or kafka.sh}"
command -v kcat >/dev/null || { echo "kcat not installed: skipped"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed: skipped"; exit 77; }
if [ "$target" = kafka ]; then
    command -v java >/dev/null || { echo "java not installed: skipped"; exit 77; }
fi

broker_tool="$tool"
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/broker_lib.sh"
work="$(mktemp -d)"
pid=""
trap broker_cleanup EXIT

port="$(broker_free_port_pair)"
bootstrap="127.0.0.1:$port"

wait_ready() {
    local deadline=$((SECONDS + ${1:-60}))
    until kcat -b "$bootstrap" -L -m 2 >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "broker not ready on $bootstrap"
        if [ "$target" = odradek ] && ! kill -0 "$pid" 2>/dev/null; then fail "broker exited"; fi
        sleep 0.2
    done
}

start_broker() {
    broker_launch
    wait_ready 120
}

stop_broker() {
    local sig="$1"
    kill "-$sig" "$pid"
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || fail "broker did not stop on SIG$sig"
        sleep 0.1
    done
    if [ "$target" = odradek ]; then wait "$pid" 2>/dev/null || true; fi
    pid=""
}

if [ "$target" = odradek ]; then
    broker_write_properties
    # A configured broker refuses an unformatted log dir.
    if "$tool" "$work/server.properties" >"$work/unformatted.log" 2>&1; then
        fail "started on an unformatted log dir"
    fi
    grep -q "meta.properties" "$work/unformatted.log" || fail "no clear message for an unformatted dir"
    broker_format
fi

start_broker

codecs=(none gzip snappy lz4 zstd)
for codec in "${codecs[@]}"; do
    # Keys, values with spaces and binary-safe text, and a few hundred records per codec.
    python3 -c "
import sys
for i in range(300):
    print('k%d|%s value %d %s' % (i, '$codec', i, 'x' * (i % 50)))
" >"$work/in-$codec.txt"
    kcat -P -b "$bootstrap" -t "rt-$codec" -z "$codec" -K '|' -X topic.request.required.acks=-1 \
        <"$work/in-$codec.txt" || fail "produce with $codec"
done
# acks=0 and acks=1 as well, into one more topic.
printf 'a0\nb0\n' | kcat -P -b "$bootstrap" -t rt-acks -X topic.request.required.acks=0 || fail "acks=0"
printf 'a1\nb1\n' | kcat -P -b "$bootstrap" -t rt-acks -X topic.request.required.acks=1 || fail "acks=1"

check_data() {
    local when="$1"
    for codec in "${codecs[@]}"; do
        timeout 60 kcat -C -b "$bootstrap" -t "rt-$codec" -e -q -f '%k|%s\n' >"$work/out-$codec.txt" \
            || fail "consume rt-$codec ($when)"
        cmp -s "$work/in-$codec.txt" "$work/out-$codec.txt" || fail "rt-$codec differs ($when)"
        local offs
        offs="$(kcat -Q -b "$bootstrap" -t "rt-$codec:0:-1" 2>/dev/null)"
        echo "$offs" | grep -q "offset 300" || fail "latest offset of rt-$codec is not 300 ($when): $offs"
        offs="$(kcat -Q -b "$bootstrap" -t "rt-$codec:0:-2" 2>/dev/null)"
        echo "$offs" | grep -q "offset 0" || fail "earliest offset of rt-$codec is not 0 ($when): $offs"
    done
    local n
    n="$(timeout 60 kcat -C -b "$bootstrap" -t rt-acks -e -q -f '%s\n' | wc -l)"
    [ "$n" -eq 4 ] || fail "rt-acks has $n records ($when)"
    kcat -b "$bootstrap" -L -t rt-zstd | grep -q 'topic "rt-zstd" with 1 partitions' \
        || fail "topic metadata ($when)"
}

check_data "first run"
# Long poll: a consumer waiting at the end gets a record produced later.
(timeout 30 kcat -C -b "$bootstrap" -t rt-none -o 300 -c 1 -q -f '%s\n' >"$work/late.txt") &
waiter=$!
sleep 1
echo late | kcat -P -b "$bootstrap" -t rt-late
echo late | kcat -P -b "$bootstrap" -t rt-none -p 0
wait "$waiter" || fail "long-poll consumer"
grep -qx late "$work/late.txt" || fail "long-poll consumer did not see the late record"

stop_broker TERM
if [ "$target" = odradek ]; then
    grep -q "shut down cleanly" "$work/broker.log" || fail "no clean shutdown"
fi
start_broker
check_restart() {
    local when="$1"
    for codec in "${codecs[@]}"; do
        timeout 60 kcat -C -b "$bootstrap" -t "rt-$codec" -e -q -f '%k|%s\n' >"$work/out-$codec.txt" \
            || fail "consume rt-$codec ($when)"
        if [ "$codec" = none ]; then
            # The late record has no key: kcat prints an empty key.
            head -n 300 "$work/in-none.txt" >"$work/expect-none.txt"
            echo "|late" >>"$work/expect-none.txt"
            cmp -s "$work/expect-none.txt" "$work/out-none.txt" || fail "rt-none differs ($when)"
        else
            cmp -s "$work/in-$codec.txt" "$work/out-$codec.txt" || fail "rt-$codec differs ($when)"
        fi
    done
}
check_restart "after SIGTERM"
printf 'after-term\n' | kcat -P -b "$bootstrap" -t rt-acks -X topic.request.required.acks=-1
stop_broker KILL
start_broker
check_restart "after SIGKILL"
n="$(timeout 60 kcat -C -b "$bootstrap" -t rt-acks -e -q -f '%s\n' | wc -l)"
[ "$n" -eq 5 ] || fail "rt-acks has $n records after SIGKILL"
stop_broker TERM
if [ "$target" = odradek ] && grep -q "Sanitizer" "$work/broker.log"; then
    fail "sanitizer report in the broker log"
fi
echo "ok: $target"
