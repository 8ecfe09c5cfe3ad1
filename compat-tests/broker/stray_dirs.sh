#!/usr/bin/env bash
# Partition directories the metadata does not account for, after a restart
# (a crash between a topic deletion's commit and the rename of its
# directory leaves one behind):
#   1. a directory of a deleted topic is moved aside as <dir>.<id>-stray at
#      start, and a topic created again under that name starts empty;
#   2. a directory whose partition.metadata names another topic id than the
#      topic of that name now has is moved aside the same way, and the
#      partition starts empty: the old records never reappear.
# The crash is staged by hand: the directory is copied away while the
# broker is stopped and put back after the topic is gone.
#
#   stray_dirs.sh odradek PATH_TO_ODRADEK KAFKA_SH
#   stray_dirs.sh kafka KAFKA_SH KAFKA_SH
#
# Exit 0 on success, 77 when kcat/java are missing.
set -euo pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/broker_lib.sh"
broker_scenario_init "${1:-}" "${2:-}" "${3:-}" kcat java python3
if [ "$target" = odradek ]; then
    broker_write_properties
    broker_format
    data="$work/data"
else
    mkdir -p "$work/kafka"
    data="$work/kafka/logs"
fi

run() { timeout 120 "$kafka_sh" run "$@" 2>&1 | grep -v ' INFO ' || true; }
topic() { run org.apache.kafka.tools.TopicCommand --bootstrap-server "$bs" "$@"; }
produce() { printf '%s\n' "$@" | kcat -b "$bs" -P -t phoenix -p 0 || fail "produce $*"; }
records() { kcat -b "$bs" -C -t phoenix -o beginning -e -q -f '%s\n' 2>/dev/null | tr '\n' ' ' || true; }
# The partition holds exactly these records, in this order (waiting for
# the partition to be served after a start or a creation).
expect_records() {
    local want="$* "
    broker_wait_for '[ "$(records)" = "$want" ]' 60 || fail "phoenix-0 holds [$(records)], want [$want]"
}
strays() { find "$data" -maxdepth 1 -name 'phoenix-0.*-stray' | wc -l; }

broker_start_ready
topic --create --topic phoenix --partitions 1 | grep -q "Created topic" || fail "create phoenix"
produce old-1 old-2 old-3
expect_records old-1 old-2 old-3
broker_stop_clean
cp -a "$data/phoenix-0" "$work/saved"

# 1. Deleted, then its directory is back as if the rename never happened.
broker_start_ready
topic --delete --topic phoenix >/dev/null
broker_wait_for '[ ! -e "$data/phoenix-0" ]' 60 || fail "phoenix-0 not renamed after the delete"
broker_stop_clean
cp -a "$work/saved" "$data/phoenix-0"
broker_start_ready
[ ! -e "$data/phoenix-0" ] || fail "the deleted topic's directory was loaded: $(ls "$data")"
[ "$(strays)" = 1 ] || fail "no stray directory: $(ls "$data")"
topic --create --topic phoenix --partitions 1 | grep -q "Created topic" || fail "create phoenix again"
produce new-1
expect_records new-1

# 2. The new topic's directory replaced by the old topic's (another id).
broker_stop_clean
rm -rf "$data/phoenix-0"
cp -a "$work/saved" "$data/phoenix-0"
broker_start_ready
produce after
expect_records after
[ "$(strays)" = 2 ] || fail "the old topic's directory was not moved aside: $(ls "$data")"

broker_stop_clean
echo "ok: $target"
