#!/usr/bin/env bash
# Odradek's one entry point for building, running and testing.
#
#   ./build.sh run     install missing packages, build (Release), start a single-node broker
#   ./build.sh test    install missing packages, build, run the whole test suite
#
# Other subcommands, for developers: deps, build [Release|Debug|Sanitize|ThreadSanitize], regen, check-generated, fuzz [SECONDS].
# Environment: ODRADEK_SPECS (Kafka JSON specs dir, default ../shared/kafka-specs),
#              ODRADEK_CACHE (downloads such as the spec-overlay jar, default ~/.cache/odradek),
#              ODRADEK_FUZZ_SECONDS (per fuzz target in `test`, default 30).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
specs="${ODRADEK_SPECS:-$root/../shared/kafka-specs}"
jobs="$(nproc 2>/dev/null || echo 2)"

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian package names this project needs, by purpose.
build_packages=(gcc make cmake ninja-build pkg-config python3 libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev
                libssl-dev libsasl2-dev)
test_packages=(clang libclang-rt-14-dev llvm librdkafka-dev kcat python3-venv)

missing_packages() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || printf '%s\n' "$p"
    done
}

install_packages() {
    local missing
    mapfile -t missing < <(missing_packages "$@")
    # Java and Maven may come from outside Debian (e.g. a preinstalled JDK); only ask apt when absent.
    command -v java >/dev/null 2>&1 || missing+=(default-jdk-headless)
    command -v mvn >/dev/null 2>&1 || missing+=(maven)
    [ "${#missing[@]}" -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "missing packages: ${missing[*]} (install them with your package manager)" >&2
        exit 1
    fi
    log "installing: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

configure_and_build() {
    local type="$1" dir="$2"; shift 2
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" -DODRADEK_KAFKA_SPECS="$specs" "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
}

# The kafka-clients jar protocol/gen/spec_overlay.json takes newer specs from: ~/.m2 when Maven
# already has it, else downloaded once into the cache. Prints its path; fails when unavailable.
overlay_jar() {
    local places m2 cached url sha tmp
    mapfile -t places < <(python3 protocol/gen/kafka_codegen.py --print-overlay-paths)
    m2="${places[0]}" cached="${places[1]}" url="${places[2]}" sha="${places[3]}"
    local jar
    for jar in "$m2" "$cached"; do
        if [ -f "$jar" ] && echo "$sha  $jar" | sha256sum -c --status; then
            printf '%s\n' "$jar"
            return 0
        fi
    done
    command -v curl >/dev/null 2>&1 || { log "no curl to fetch $url"; return 1; }
    log "fetching $url"
    mkdir -p "$(dirname "$cached")"
    tmp="$(mktemp "$cached.XXXXXX")"
    if curl -fsSL --retry 3 -o "$tmp" "$url" && echo "$sha  $tmp" | sha256sum -c --status; then
        chmod 644 "$tmp" && mv "$tmp" "$cached"
        printf '%s\n' "$cached"
        return 0
    fi
    rm -f "$tmp"
    log "could not fetch $url with sha256 $sha"
    return 1
}

check_generated() {
    local jar
    if [ ! -d "$specs/message" ]; then
        log "no specs at $specs: skipping the generated-code freshness check"
    elif ! jar="$(overlay_jar)"; then
        log "the spec-overlay jar is unavailable: skipping the generated-code freshness check"
    else
        log "checking the generated codec is current with $specs and $(basename "$jar")"
        python3 protocol/gen/kafka_codegen.py --specs "$specs" --overlay-jar "$jar" \
            --out protocol/generated --check
    fi
}

# One fuzz target for $seconds: new inputs go to a scratch dir; the kept corpus in the repo is read,
# never rewritten by CI. Writes the target's output to $log and its exit status to $log.rc.
fuzz_one() {
    local target="$1" corpus="$2" seconds="$3" log="$4" scratch status=0
    scratch="$(mktemp -d)"
    "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "$scratch" "$corpus" >"$log" 2>&1 || status=$?
    rm -rf "$scratch"
    echo "$status" >"$log.rc"
}

run_fuzzers() {
    local seconds="$1" dir="$root/build/fuzz" source name target corpus logs failed=0
    local -a names=()
    CC=clang configure_and_build Debug "$dir" -DODRADEK_FUZZ=ON -DODRADEK_TESTS=OFF
    logs="$(mktemp -d)"
    # Every */fuzz/fuzz_*.c is a target; its kept corpus lives beside it in corpus/<name>. A target
    # is one single-threaded process, so $jobs of them run at once, each still on a whole core for
    # its $seconds.
    while IFS= read -r source; do
        name="$(basename "$source" .c)"
        target="$(find "$dir" -type f -name "$name" -perm -u+x | head -n 1)"
        [ -n "$target" ] || { echo "fuzz target $name was not built" >&2; return 1; }
        corpus="$(dirname "$source")/corpus/$name"
        mkdir -p "$corpus"
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
        log "fuzzing $name for ${seconds}s (kept corpus replayed first)"
        fuzz_one "$target" "$corpus" "$seconds" "$logs/$name" &
        names+=("$name")
    done < <(git -C "$root" ls-files -co --exclude-standard '*/fuzz/fuzz_*.c' | sed "s|^|$root/|" | sort)
    wait
    for name in "${names[@]}"; do
        log "$name: exit $(cat "$logs/$name.rc")"
        tail -n 12 "$logs/$name"
        [ "$(cat "$logs/$name.rc")" = 0 ] || failed=1
    done
    rm -rf "$logs"
    return "$failed"
}

cmd="${1:-}"
case "$cmd" in
deps)
    install_packages "${build_packages[@]}" "${test_packages[@]}"
    ;;
build)
    install_packages "${build_packages[@]}"
    type="${2:-Release}"
    configure_and_build "$type" "build/$(echo "$type" | tr 'A-Z' 'a-z')"
    ;;
run)
    install_packages "${build_packages[@]}"
    configure_and_build Release build/release
    shift
    exec build/release/broker/odradek "$@"
    ;;
regen)
    jar="$(overlay_jar)"
    python3 protocol/gen/kafka_codegen.py --specs "$specs" --overlay-jar "$jar" --out protocol/generated
    ;;
check-generated)
    check_generated
    ;;
fuzz)
    install_packages "${build_packages[@]}" "${test_packages[@]}"
    run_fuzzers "${2:-60}"
    ;;
test)
    install_packages "${build_packages[@]}" "${test_packages[@]}"
    check_generated
    log "Release build and the whole suite (unit, integration, compat against Apache Kafka)"
    configure_and_build Release build/release
    # The compat tests spend most of their time waiting on brokers and clients, leaving CPU idle:
    # the Sanitize and fuzz trees build meanwhile, at the lowest priority so the tests keep theirs.
    log "building the Sanitize and fuzz trees in the background (log: build/background-builds.log)"
    (
        renice -n 19 -p "$BASHPID" >/dev/null
        configure_and_build Sanitize build/sanitize
        configure_and_build ThreadSanitize build/threadsanitize
        CC=clang configure_and_build Debug build/fuzz -DODRADEK_FUZZ=ON -DODRADEK_TESTS=OFF
    ) >build/background-builds.log 2>&1 &
    background_builds=$!
    tests_status=0
    (cd build/release && ctest -j "$jobs" --output-on-failure --timeout 1200) || tests_status=$?
    if ! wait "$background_builds"; then
        tail -n 60 build/background-builds.log >&2
        echo "the Sanitize or fuzz build failed" >&2
        exit 1
    fi
    [ "$tests_status" -eq 0 ] || exit "$tests_status"
    log "ASan+UBSan build and the whole suite"
    configure_and_build Sanitize build/sanitize
    (cd build/sanitize && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest -j "$jobs" --output-on-failure --timeout 1200 -LE compat)
    # Races between the broker's threads (a parked fetch woken on one thread while its own
    # loop answers it, say): the same suite under ThreadSanitizer; with_broker.sh fails a
    # test on any report in the broker's log, and a test binary exits non-zero on one.
    log "ThreadSanitizer build and the same suite"
    configure_and_build ThreadSanitize build/threadsanitize
    (cd build/threadsanitize && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        ctest -j "$jobs" --output-on-failure --timeout 1200 -LE compat)
    log "fuzzing"
    run_fuzzers "${ODRADEK_FUZZ_SECONDS:-30}"
    ;;
*)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
