#!/usr/bin/env bash
# What metrics cost: `gearbox server` with and without --metrics-port (scraped every second during the run,
# as Prometheus would), alternating, ROUNDS rounds each, measured by `gearbox bench` with the foreground
# 64 B echo load of bench/server.sh. Prints medians of jobs/s and server CPU per job, and the ratio.
#
#   bench/metrics.sh
#   ROUNDS=7 DURATION=5 bench/metrics.sh
set -euo pipefail

ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-4}"
THREADS="${THREADS:-2}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=bench/server-common.sh
source bench/server-common.sh
require_gearmand_and_gearbox

SCRAPER_PID=""
cleanup_more() { [[ -n "$SCRAPER_PID" ]] && kill "$SCRAPER_PID" 2>/dev/null && wait "$SCRAPER_PID" 2>/dev/null; return 0; }

for round in $(seq "$ROUNDS"); do
    for mode in off on; do
        PORT="$(free_port)"
        extra=()
        if [[ "$mode" == on ]]; then
            METRICS_PORT="$(free_port)"
            extra=(--metrics-port "$METRICS_PORT")
        fi
        "$GEARBOX" server --port "$PORT" --threads "$THREADS" "${extra[@]}" &
        SERVER_PID=$!
        wait_for_server "gearbox server" 100
        if [[ "$mode" == on ]]; then
            (while true; do curl -s --max-time 2 "http://127.0.0.1:$METRICS_PORT/metrics" >/dev/null || true; sleep 1; done) &
            SCRAPER_PID=$!
        fi
        "$GEARBOX" bench --server "127.0.0.1:$PORT" --server-pid "$SERVER_PID" --quiet --json --clients 4 \
            --in-flight 64 --workers 4 --grabs 16 --duration "$DURATION" --payload 64 >>"$WORK/$mode"
        if [[ -n "$SCRAPER_PID" ]]; then kill "$SCRAPER_PID" 2>/dev/null; wait "$SCRAPER_PID" 2>/dev/null || true; SCRAPER_PID=""; fi
        stop_server
        say "bench: round $round, metrics $mode: $(tail -1 "$WORK/$mode" | python3 -c \
            'import json,sys; print(round(json.load(sys.stdin)["measured"]["jobsPerSecond"]), "jobs/s")')"
    done
done

python3 - "$WORK" "$ROUNDS" "$THREADS" "$(nproc)" <<'PY'
import json, os, statistics, sys
work, rounds, threads, cores = sys.argv[1:5]
def figures(mode):
    runs = [json.loads(line) for line in open(os.path.join(work, mode)) if line.strip()]
    rate = statistics.median(r["measured"]["jobsPerSecond"] for r in runs)
    cpu = statistics.median(r["serverUsage"]["cpuMicrosecondsPerJob"] for r in runs)
    return rate, cpu, [round(r["measured"]["jobsPerSecond"]) for r in runs]
off, on = figures("off"), figures("on")
print(f"metrics cost, gearbox server --threads {threads}, {cores} cores, foreground 64 B echo, medians of {rounds} rounds")
print()
print("| metrics | jobs/s (median) | server µs/job | runs |")
print("|---|---:|---:|---|")
for name, (rate, cpu, runs) in (("off", off), ("on, scraped every second", on)):
    print(f"| {name} | {rate:,.0f} | {cpu:.2f} | {', '.join(f'{r:,}' for r in runs)} |")
print()
print(f"with metrics: {on[0] / off[0]:.3f}x the jobs/s, {on[1] / off[1]:.3f}x the CPU per job")
PY
