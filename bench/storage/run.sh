#!/usr/bin/env bash
# Storage benchmark: builds od_bench_storage (Release, ODRADEK_BENCH=ON) and
# runs it on a directory of the disk to measure, after a dd run of the same
# size as an outside reference for that disk.
#
#   bench/storage/run.sh [DIR] [MiB] [partitions] [repeats]
#
# DIR defaults to $TMPDIR or /tmp; everything it creates there is removed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${1:-${TMPDIR:-/tmp}}"
mib="${2:-1024}"
partitions="${3:-10000}"
repeats="${4:-3}"
build="${BUILD_DIR:-$root/build-bench}"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DODRADEK_BENCH=ON \
      -DODRADEK_TESTS=OFF >/dev/null
cmake --build "$build" --target od_bench_storage >/dev/null

echo "== machine"
echo "cpus: $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "memory: $(free -g | awk '/^Mem:/ {print $2}') GiB"
# Other work on the machine moves every figure; say how busy it was.
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
src="$(df --output=source "$dir" | tail -n 1)"
echo "filesystem: $(df --output=fstype "$dir" | tail -n 1) on $src"
dev="$(basename "$src")"
if [ -r "/sys/block/$dev/queue/rotational" ]; then
    echo "rotational: $(cat "/sys/block/$dev/queue/rotational") (as the kernel reports it)"
fi

echo "== dd, same size, fsync at the end"
tmp="$dir/od-bench-dd.$$"
dd if=/dev/zero of="$tmp" bs=16k count=$(( mib * 64 )) conv=fsync 2>&1 | tail -n 1
rm -f "$tmp"

echo "== od_bench_storage $dir $mib $partitions $repeats"
"$build/bench/od_bench_storage" "$dir" "$mib" "$partitions" "$repeats"
