#!/usr/bin/env bash
# Runs the Swift test suites in groups, one process each, every group under a deadline. A group that has
# not finished by its deadline is stopped (its whole process group, by id) and the tests that started but
# never ended are named; the run then fails. Nothing is retried.
#
#   scripts/run-tests.sh 'FILTER[ !SKIP]'...
#
# A group is the tests whose names match the regular expression FILTER, less those that match SKIP.
# TEST_GROUP_DEADLINE sets the deadline in seconds (default 600).
set -uo pipefail
cd "$(dirname "$0")/.."

deadline=${TEST_GROUP_DEADLINE:-600}
bin=$(swift build --show-bin-path)
tests="$bin/gearboxPackageTests.xctest"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

unfinished() {
    # Swift Testing prints "◇ Test NAME started." and "✔/✘ Test NAME ... passed/failed ..." for each test.
    grep -oE 'Test [A-Za-z0-9_]+\([^)]*\) started' "$1" | sed 's/ started$//' | sort -u > "$logs/started"
    grep -oE 'Test [A-Za-z0-9_]+\([^)]*\)( with [0-9]+ test cases?)? (passed|failed|skipped)' "$1" \
        | sed -E 's/( with [0-9]+ test cases?)? (passed|failed|skipped)$//' | sort -u > "$logs/ended"
    comm -23 "$logs/started" "$logs/ended"
}

status=0
for group in "$@"; do
    echo "== tests: $group"
    selection=(--filter "${group%% !*}")
    [[ "$group" == *" !"* ]] && selection+=(--skip "${group#* !}")
    log="$logs/group.log"
    : > "$log"
    started=$SECONDS
    # setsid: the group's tests and every process they start share one process group, ended together.
    setsid "$tests" --testing-library swift-testing "${selection[@]}" > "$log" 2>&1 &
    pid=$!
    tail --pid="$pid" -n +1 -f "$log" &
    tailer=$!
    waited=0
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt "$deadline" ]; do
        sleep 1
        waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null
        sleep 5
        kill -KILL -- "-$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        wait "$tailer" 2>/dev/null
        echo "error: the tests '$group' did not finish within ${deadline} s; these never ended:"
        unfinished "$log" | sed 's/^/error:   /'
        exit 1
    fi
    wait "$pid"
    result=$?
    # Whatever the tests started and left behind (a test process that crashed cannot stop its children).
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$tailer" 2>/dev/null
    echo "== tests: $group took $((SECONDS - started)) s"
    if [ "$result" -ne 0 ]; then
        echo "error: the tests '$group' failed (status $result)"
        status=$result
    fi
done
exit "$status"
