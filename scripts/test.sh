#!/usr/bin/env bash
# What `make test` runs once the packages are installed, on two cores:
#
#   the lint (make lint) ────────────────────────────────────────────────┐
#   the fixture photographs ─┐                      ┌ fuzz-tcp (short) ──┤
#   the test build ──────────┴─ the test groups ────┘                    ├─ done
#   the sanitized fuzzers' build, then their short pass ─────────────────┘
#
# The sanitized build shares nothing with the test build (other flags, another folder) and mostly keeps one
# core busy (one module at a time, each optimized whole), so it runs beside the test build and the groups
# instead of after them; the groups are meant to pass on a busy machine in any case. Each step says how long
# it took; a failure stops the rest.
#
#   scripts/test.sh 'FILTER[ !SKIP]'...
set -uo pipefail
cd "$(dirname "$0")/.."

lint_log=$(mktemp)
fixtures_log=$(mktemp)
libfuzzer_log=$(mktemp)
libfuzzer=
trap 'rm -f "$lint_log" "$fixtures_log" "$libfuzzer_log"' EXIT

# Stops the sanitized build and the compilers it started (its own process group, by id), then exits.
fail() {
    if [ -n "$libfuzzer" ]; then
        kill -TERM -- "-$libfuzzer" 2>/dev/null
        wait "$libfuzzer" 2>/dev/null
    fi
    exit "$1"
}

started=$SECONDS
make --no-print-directory lint > "$lint_log" 2>&1 &
lint=$!
fixtures/fetch.sh > "$fixtures_log" 2>&1 &
fixtures=$!
setsid scripts/fuzz.sh short libfuzzer > "$libfuzzer_log" 2>&1 &
libfuzzer=$!

swift build --build-tests || fail 1
echo "== the test build took $((SECONDS - started)) s"
if ! wait "$lint"; then
    cat "$lint_log"
    echo "error: make lint failed" >&2
    fail 1
fi
if ! wait "$fixtures"; then
    cat "$fixtures_log"
    echo "error: fixtures/fetch.sh failed" >&2
    fail 1
fi

scripts/run-tests.sh "$@" || fail $?
scripts/fuzz.sh short tcp || fail $?

echo "== the sanitized fuzzers (built and run beside the tests):"
wait "$libfuzzer"
status=$?
libfuzzer=
cat "$libfuzzer_log"
[ "$status" -eq 0 ] || exit "$status"
echo "== make test took $((SECONDS - started)) s once the packages were installed"
