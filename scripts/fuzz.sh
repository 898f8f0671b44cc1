#!/usr/bin/env bash
# Builds the fuzzers and runs them.
#
#   scripts/fuzz.sh short [WHICH]      a deterministic pass (fixed seeds and counts): part of `make test`
#   scripts/fuzz.sh SECONDS [WHICH]    each fuzzer for SECONDS (`make fuzz`)
#
# WHICH is `libfuzzer` (build the sanitized targets and run them), `tcp` (the TCP fuzzer against server
# processes, on the plain debug build) or `all` (the default, both in turn); `make test` runs the two at once.
#
# libFuzzer targets (protocol: framing and packet decoding; engine: the job server's state machine;
# metadata: the JPEG, PNG and WebP rewriting that strips an uploaded original's metadata) are
# built with address sanitizer into .build-fuzz. Their corpora grow in Fuzz/corpus/ (not committed); the
# inputs of crashes already fixed live in Fuzz/Regressions/ and seed every run, with Fuzz/Seeds/. A crash
# leaves its input in Fuzz/crashes/ and fails the run.
#
# The short pass leaves the engine out: its sanitized build compiles the whole server (PostgreSQL, TLS, two
# copies of BoringSSL), about as much work as the test build itself, for code without an unsafe pointer,
# where the address sanitizer has nothing to check. The test build replays its regressions, Fuzz/Seeds/engine
# (a corpus minimized from a longer guided run, reaching more of the engine than the short pass's 30,000
# runs from nothing did) and 2,000 mutated conversations through it instead (GearmanFuzzingTests);
# `make fuzz` fuzzes it.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-short}
which=${2:-all}
case "$which" in
    libfuzzer | tcp | all) ;;
    *) echo "usage: scripts/fuzz.sh short|SECONDS [libfuzzer|tcp|all]" >&2; exit 2 ;;
esac

libfuzzer_targets() {
    # The Swift code is optimized and instrumented; the C code (BoringSSL, twice, for TLS and PostgreSQL, which no
    # fuzzed path calls) is compiled without optimization: the three targets built in about 7.7 minutes instead
    # of 9. No debug information either (7% less work): a crash is reproduced with the plain debug build.
    fuzz_flags=(-c release --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
        -Xswiftc -DFUZZING -Xcc -O0 -Xswiftc -gnone -Xcc -g0)
    targets=(protocol engine metadata)
    [ "$mode" = short ] && targets=(protocol metadata)
    mkdir -p Fuzz/crashes
    build_log=$(mktemp)
    for target in "${targets[@]}"; do
        echo "== building fuzz-$target (libFuzzer, address sanitizer)"
        if ! swift build "${fuzz_flags[@]}" --product "fuzz-$target" > "$build_log" 2>&1; then
            grep -E 'error' "$build_log" | head -40
            echo "error: fuzz-$target did not build" >&2
            exit 1
        fi
    done
    rm -f "$build_log"

    for target in "${targets[@]}"; do
        corpus="Fuzz/corpus/$target"
        mkdir -p "$corpus"
        if [ "$mode" = short ]; then
            # A fresh, empty corpus each time, so that the pass is the same on every machine.
            corpus=$(mktemp -d)
            limits=(-seed=1 -runs=30000)
        else
            limits=(-seed=0 -max_total_time="$mode")
        fi
        mkdir -p "Fuzz/Regressions/$target"
        echo "== fuzz-$target ${limits[*]}"
        log=$(mktemp)
        status=0
        seeds=()
        [ -d "Fuzz/Seeds/$target" ] && seeds=("Fuzz/Seeds/$target")
        ".build-fuzz/release/fuzz-$target" "${limits[@]}" -print_final_stats=1 -artifact_prefix=Fuzz/crashes/ \
            "$corpus" "Fuzz/Regressions/$target" "${seeds[@]}" > "$log" 2>&1 || status=$?
        grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|Done|SUMMARY)' "$log" || true
        if [ "$status" -ne 0 ]; then
            tail -n 60 "$log"
            echo "error: fuzz-$target failed (status $status); a failing input is in Fuzz/crashes/" >&2
            exit 1
        fi
        rm -f "$log"
        [ "$mode" = short ] && rm -rf "$corpus"
    done
}

tcp() {
    swift build --product gearbox
    swift build --product fuzz-tcp
    bin=$(swift build --show-bin-path)
    store_dir=$(mktemp -d)
    trap 'rm -rf "$store_dir"' EXIT
    echo "== fuzz-tcp against gearbox server, jobs in memory"
    if [ "$mode" = short ]; then
        "$bin/fuzz-tcp" --gearbox "$bin/gearbox" --seed 1 --inputs 3000
    else
        "$bin/fuzz-tcp" --gearbox "$bin/gearbox" --seed "$(date +%s)" --seconds "$mode"
    fi
    echo "== fuzz-tcp against gearbox server's HTTP port (gearmand's HTTP protocol)"
    if [ "$mode" = short ]; then
        "$bin/fuzz-tcp" --gearbox "$bin/gearbox" --http --seed 4 --inputs 2000
    else
        "$bin/fuzz-tcp" --gearbox "$bin/gearbox" --http --seed "$(date +%s)" --seconds "$mode"
    fi
    echo "== fuzz-tcp against gearbox server, jobs in a SQLite store"
    if [ "$mode" = short ]; then
        "$bin/fuzz-tcp" --gearbox "$bin/gearbox" --seed 2 --inputs 3000 --store "$store_dir/short.db"
    else
        "$bin/fuzz-tcp" --gearbox "$bin/gearbox" --seed "$(date +%s)" --seconds "$mode" --store "$store_dir/long.db"
    fi
    echo "== fuzz-tcp against gearbox server, jobs in a PostgreSQL store (a throwaway cluster)"
    (
        # shellcheck source=bench/server-common.sh
        source bench/server-common.sh
        # shellcheck source=bench/postgres-common.sh
        source bench/postgres-common.sh
        start_postgres
        if [ "$mode" = short ]; then
            "$bin/fuzz-tcp" --gearbox "$bin/gearbox" --seed 3 --inputs 3000 --store "$(postgres_url postgres)"
        else
            "$bin/fuzz-tcp" --gearbox "$bin/gearbox" --seed "$(date +%s)" --seconds "$mode" --store "$(postgres_url postgres)"
        fi
    )
}

case "$which" in
    libfuzzer) libfuzzer_targets ;;
    tcp) tcp ;;
    all)
        libfuzzer_targets
        tcp
        ;;
esac
