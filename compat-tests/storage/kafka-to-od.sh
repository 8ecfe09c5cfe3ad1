#!/usr/bin/env bash
# Apache Kafka writes partition logs through its own clients; Odradek's
# storage opens them (clean start and crash recovery) and must read exactly
# what Kafka's consumer read from the live broker.
#
#   kafka-to-od.sh PATH/TO/od_storage_compat
#
# Environment: MVN, JAVA, PYTHON (defaults from PATH). KEEP=1 keeps the work
# directory. Only loopback ports are used.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tool="${1:?usage: kafka-to-od.sh PATH/TO/od_storage_compat}"
tool="$(cd "$(dirname "$tool")" && pwd)/$(basename "$tool")"
mvn="${MVN:-mvn}"
java="${JAVA:-java}"
python="${PYTHON:-python3}"
kafka="$here/../kafka/kafka.sh"
check() { "$python" "$here/check_dump.py" "$@"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/od-storage-k2od.XXXXXX")"
cleanup() {
    "$kafka" stop "$work/kafka" || true
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# Kafka's jars and the Java program; a second test tree may be building the
# same directories, so take turns.
exec 9>"$here/.fetch.lock"
flock 9
"$kafka" fetch
flock -u 9
exec 8>"$here/.build.lock"
flock 8
(cd "$here" && "$mvn" -B -q -Dstyle.color=never package)
flock -u 8

# Two consecutive free loopback ports (broker, controller).
port="$("$python" - <<'PY'
import random, socket
for _ in range(200):
    p = random.randrange(20000, 60000)
    try:
        for q in (p, p + 1):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        pass
PY
)"
echo "Apache Kafka on 127.0.0.1:$port"
"$kafka" start "$work/kafka" "$port" >/dev/null
logs="$work/kafka/logs"

"$java" -cp "$here/target/classes:$here/target/lib/*" org.odradek.storagecompat.Main \
    "127.0.0.1:$port" "$work/out" "$logs"

"$kafka" stop "$work/kafka"
[ -f "$logs/.kafka_cleanshutdown" ] || { echo "Kafka did not shut down cleanly"; exit 1; }

status=0
for t in codecs txn compacted appendtime; do
    # Each open gets its own copy: Odradek's open consumes the clean-shutdown
    # marker and preallocates the active segment's indexes.
    for mode in clean recover; do
        copy="$work/copy-$t-$mode"
        cp -a "$logs" "$copy"
        extra=("orig=$logs/$t-0")
        [ "$mode" = recover ] && extra+=(recover)
        [ -f "$work/out/$t.times" ] && extra+=("$work/out/$t.times")
        "$tool" read "$copy" "$t" "$work/od-$t-$mode" "${extra[@]}" || status=1
        check same "$work/od-$t-$mode.records" "$work/out/$t.uncommitted" "$t ($mode open): every record" || status=1
        check same "$work/od-$t-$mode.committed" "$work/out/$t.committed" "$t ($mode open): read_committed view" || status=1
        rm -rf "$copy"
    done
    # Kafka's own reading of its snapshot and .txnindex files, against the
    # producer table and aborted list Odradek built from the same files.
    snap="$(ls "$logs/$t-0"/*.snapshot | sort | tail -n 1)"
    "$kafka" run kafka.tools.DumpLogSegments --files "$snap" >"$work/$t-snapshot.txt" 2>&1 || status=1
    check producers "$work/$t-snapshot.txt" "$work/od-$t-clean.producers" || status=1
done
for t in codecs appendtime; do
    for mode in clean recover; do
        check same "$work/od-$t-$mode.times" "$work/out/$t.times" "$t ($mode open): offset for timestamp" ||
            status=1
    done
done

# A crash: Kafka restarts on the same logs (its active indexes preallocated
# again) and is killed with SIGKILL; Odradek starts from what is left, as a
# broker would (no clean-shutdown marker, Kafka's recovery points).
"$kafka" start "$work/kafka" "$port" >/dev/null
sleep 3
kill -9 "$(cat "$work/kafka/kafka.pid")"
while kill -0 "$(cat "$work/kafka/kafka.pid")" 2>/dev/null; do sleep 0.2; done
rm -f "$work/kafka/kafka.pid"
for t in codecs txn compacted appendtime; do
    copy="$work/copy-$t-crashed"
    cp -a "$logs" "$copy"
    extra=(crashed "orig=$logs/$t-0")
    [ -f "$work/out/$t.times" ] && extra+=("$work/out/$t.times")
    "$tool" read "$copy" "$t" "$work/od-$t-crashed" "${extra[@]}" || status=1
    check same "$work/od-$t-crashed.records" "$work/out/$t.uncommitted" "$t (after a kill): every record" || status=1
    check same "$work/od-$t-crashed.committed" "$work/out/$t.committed" "$t (after a kill): read_committed view" ||
        status=1
    if [ -f "$work/out/$t.times" ]; then
        check same "$work/od-$t-crashed.times" "$work/out/$t.times" "$t (after a kill): offset for timestamp" ||
            status=1
    fi
    rm -rf "$copy"
done

txn_files="$(ls "$logs"/txn-0/*.txnindex | paste -sd, -)"
"$kafka" run kafka.tools.DumpLogSegments --files "$txn_files" >"$work/txnindex.txt" 2>&1 || status=1
check txnindex "$work/txnindex.txt" "$work/od-txn-clean.aborted" || status=1
check txnindex "$work/txnindex.txt" "$work/od-txn-recover.aborted" || status=1
check txnindex "$work/txnindex.txt" "$work/od-txn-crashed.aborted" || status=1
exit $status
