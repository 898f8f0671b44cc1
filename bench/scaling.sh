#!/usr/bin/env bash
# How the job server's foreground rate grows with its threads: `scaling-probe server PORT N` for each N in
# THREAD_COUNTS, measured by `scaling-probe bench` (the same load generator as `gearbox bench`) with a fixed
# load, ROUNDS rounds each, and a table of medians with the speed-up over one thread.
#
#   bench/scaling.sh                                   # 1, 2, 4 threads on this machine
#   THREAD_COUNTS="1 2 4 8 16" CLIENTS=16 WORKERS=16 LOOPS=8 bench/scaling.sh
#   SCALING_PROBE=path/to/scaling-probe bench/scaling.sh   # a binary built elsewhere (no Swift needed here)
#
# scaling-probe is the server and the generator without libvips, built with the Swift runtime linked in, so
# that it runs on a machine that has neither.
set -euo pipefail

ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-3}"
THREAD_COUNTS="${THREAD_COUNTS:-1 2 4}"
CLIENTS="${CLIENTS:-4}"
WORKERS="${WORKERS:-4}"
LOOPS="${LOOPS:-1}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '%s\n' "$*" >&2; }
command -v python3 >/dev/null || { say "bench: python3 is missing"; exit 1; }

PROBE="${SCALING_PROBE:-}"
if [[ -z "$PROBE" ]]; then
    say "bench: building scaling-probe (release, Swift runtime linked in)"
    swift build -c release --product scaling-probe --static-swift-stdlib >/dev/null 2>&1 ||
        swift build -c release --product scaling-probe --static-swift-stdlib
    PROBE="$(swift build -c release --show-bin-path)/scaling-probe"
fi

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

for _ in $(seq "$ROUNDS"); do
    for threads in $THREAD_COUNTS; do
        PORT="$(free_port)"
        "$PROBE" server "$PORT" "$threads" &
        SERVER_PID=$!
        started=""
        for _ in $(seq 100); do
            if (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then started=1; break; fi
            sleep 0.05
        done
        [[ -n "$started" ]] || { say "bench: the server did not start"; exit 1; }
        "$PROBE" bench "$PORT" "$SERVER_PID" "$CLIENTS" "$WORKERS" "$LOOPS" "$DURATION" >>"$WORK/threads$threads" ||
            say "bench: $threads threads: the run reported errors"
        kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
        say "bench: $threads threads: $(tail -1 "$WORK/threads$threads" | python3 -c \
            'import json,sys; print(round(json.load(sys.stdin)["measured"]["jobsPerSecond"]), "jobs/s")')"
    done
done

python3 - "$WORK" "$THREAD_COUNTS" "$ROUNDS" "$CLIENTS" "$WORKERS" "$LOOPS" "$(nproc)" <<'PY'
import json, os, statistics, sys
work, counts, rounds, clients, workers, loops, cores = sys.argv[1:8]
rows = []
for n in counts.split():
    runs = [json.loads(line) for line in open(os.path.join(work, f"threads{n}")) if line.strip()]
    rate = statistics.median(r["measured"]["jobsPerSecond"] for r in runs)
    cpu = [r["serverUsage"]["cpuMicrosecondsPerJob"] for r in runs if (r.get("serverUsage") or {}).get("cpuMicrosecondsPerJob")]
    errors = sum(r["errors"] for r in runs)
    rows.append((int(n), rate, statistics.median(cpu) if cpu else None, errors))
base = rows[0][1]
print(f"gearbox server threads, {cores} cores, foreground 64 B echo, medians of {rounds} rounds; "
      f"load: {clients} clients x 64 in flight, {workers} workers x 16 grabs, generator on {loops} loops")
print()
print("| threads | jobs/s | server CPU per job (µs) | speed-up over the first |")
print("|--------:|-------:|------------------------:|------------------------:|")
for n, rate, cpu, _ in rows:
    print(f"| {n} | {rate:,.0f} | {cpu:.1f} | {rate / base:.2f}x |" if cpu else f"| {n} | {rate:,.0f} | - | {rate / base:.2f}x |")
print()
print(f"errors in all runs: {sum(r[3] for r in rows)}")
PY
