#!/usr/bin/env bash
# Odradek writes a partition log; Apache Kafka's DumpLogSegments reads every
# file of it and must find exactly what was written, with no complaint.
#
#   od-to-kafka.sh PATH/TO/od_storage_compat
#
# Environment: PYTHON (default python3). Kafka's jars come through
# ../kafka/kafka.sh (Maven on first use). KEEP=1 keeps the work directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tool="${1:?usage: od-to-kafka.sh PATH/TO/od_storage_compat}"
python="${PYTHON:-python3}"
kafka="$here/../kafka/kafka.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/od-storage-od2k.XXXXXX")"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT

# Two test trees may fetch at once; kafka.sh's target/ is shared.
exec 9>"$here/.fetch.lock"
flock 9
"$kafka" fetch
flock -u 9

"$tool" write "$work/logs" "$work/expect"
part="$work/logs/odw-0"

list() { (cd "$part" && ls $1 2>/dev/null | sed "s|^|$part/|" | paste -sd, -); }
logs="$(list '*.log')"
indexes="$(list '*.index *.timeindex *.txnindex *.snapshot')"
only_idx="$(list '*.index *.timeindex')"

dump() {
    local out="$1"; shift
    # Kafka's tool exits 0 even for many mismatches; the checker reads its words.
    if ! "$kafka" run kafka.tools.DumpLogSegments "$@" >"$out" 2>&1; then
        echo "DumpLogSegments $* failed:"; tail -n 20 "$out"; exit 1
    fi
}
dump "$work/log.txt" --deep-iteration --print-data-log --files "$logs"
dump "$work/index.txt" --files "$indexes"
dump "$work/verify.txt" --verify-index-only --files "$only_idx"
dump "$work/sanity.txt" --index-sanity-check --files "$only_idx"

"$python" "$here/check_dump.py" od-to-kafka "$work/expect" "$work/log.txt" "$work/index.txt" \
    "$work/verify.txt" "$work/sanity.txt"
