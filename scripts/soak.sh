#!/usr/bin/env bash
# Runs the interop suites SOAK_RUNS times in a row (default 20), then SOAK_SECONDS (default 600) of
# foreground load through `gearbox server` while `gearbox worker` processes are killed with SIGKILL and
# restarted every few hundred milliseconds. Prints how many runs finished and the server's memory over time.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${SOAK_RUNS:-20}
seconds=${SOAK_SECONDS:-600}
swift build --build-tests || exit 1

passed=0
failed=0
for run in $(seq 1 "$runs"); do
    started=$(date +%s)
    if scripts/run-tests.sh 'InteropTests|GearmanInteropTests' > "${TMPDIR:-/tmp}/gearbox-soak-run.log" 2>&1; then
        passed=$((passed + 1))
        echo "soak: interop run $run of $runs passed in $(( $(date +%s) - started )) s"
    else
        failed=$((failed + 1))
        echo "soak: interop run $run of $runs FAILED after $(( $(date +%s) - started )) s:"
        grep -E '✘|^error:' "${TMPDIR:-/tmp}/gearbox-soak-run.log" | head -20
    fi
done
echo "soak: interop suites: $passed of $runs runs passed, $failed failed, none left hanging"

echo "soak: ${seconds} s of load with workers killed and restarted"
FAULT_SECONDS=$seconds TEST_GROUP_DEADLINE=$((seconds + 900)) \
    scripts/run-tests.sh 'FaultInjectionTests/workersKilledEveryFewHundredMillisecondsLoseNoJob' 2>&1 \
    | grep -E '^fault injection|✘|Test run|^error'
load=${PIPESTATUS[0]}
[ "$failed" -eq 0 ] && [ "$load" -eq 0 ]
