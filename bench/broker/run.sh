#!/usr/bin/env bash
# Odradek and Apache Kafka 3.9.2 side by side on this machine: builds odradek
# and od_bench_rdkafka (Release, ODRADEK_BENCH=ON), then runs bench.py, which
# starts one broker at a time on a fresh data dir, alternating between rounds,
# and drives both with kafka-producer-perf-test, kafka-consumer-perf-test and
# od_bench_rdkafka. Prints a markdown table (median, min-max over rounds, and
# Odradek/Kafka); raw figures go to WORK/results.jsonl.
#
#   bench/broker/run.sh [--smoke] [bench.py options...]
#
# Useful bench.py options: --rounds N (3), --records N (1000000 per librdkafka
# produce run), --java-records N (200000 per Java producer run), --rate R (2000
# records/s for the latency runs: a rate the Java tool keeps up with on a busy
# 2-core machine), --latency-seconds S (10), --warmup N (100000), --work DIR (a
# directory on the disk to measure; default $TMPDIR or /tmp), --out FILE,
# --brokers kafka,odradek, --only REGEX (scenarios to run), --strict (exit 1 if
# any run failed). ODRADEK_BIN and OD_BENCH_RDKAFKA, when both set, skip the
# build.
# --smoke: one round of tiny runs, to check the harness works (not a figure).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${BUILD_DIR:-$root/build/release}"
specs="${ODRADEK_KAFKA_SPECS:-$root/../shared/kafka-specs}"

args=()
smoke=0
work=""
while [ $# -gt 0 ]; do
    case "$1" in
    --smoke) smoke=1 ;;
    --work) work="$2"; shift ;;
    *) args+=("$1") ;;
    esac
    shift
done

if [ -z "${ODRADEK_BIN:-}" ] || [ -z "${OD_BENCH_RDKAFKA:-}" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DODRADEK_BENCH=ON \
          -DODRADEK_KAFKA_SPECS="$(cd "$specs" && pwd)" >/dev/null
    cmake --build "$build" -j 2 --target odradek od_bench_rdkafka >/dev/null
fi
odradek="${ODRADEK_BIN:-$build/broker/odradek}"
rdkafka="${OD_BENCH_RDKAFKA:-$build/bench/od_bench_rdkafka}"

cleanup_work=0
if [ -z "$work" ]; then
    work="$(mktemp -d "${TMPDIR:-/tmp}/od-bench-broker.XXXXXX")"
    cleanup_work=1
fi
trap '[ "$cleanup_work" = 1 ] && rm -rf "$work"' EXIT

if [ "$smoke" = 1 ]; then
    args=(--rounds 1 --records 2000 --java-records 2000 --warmup 0 --rate 500 --latency-seconds 1 --timeout 120 "${args[@]}")
fi
python3 "$root/bench/broker/bench.py" --odradek "$odradek" --rdkafka-bin "$rdkafka" --work "$work" \
    ${args[@]+"${args[@]}"}
