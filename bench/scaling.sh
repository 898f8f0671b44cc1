#!/usr/bin/env bash
# How the job server's foreground rate grows with its threads: `scaling-probe server PORT N` and, when it is
# installed, `gearmand -t N` for each N in THREAD_COUNTS, measured by `scaling-probe bench` (the same load
# generator as `gearbox bench`) with a fixed load, ROUNDS rounds each, and a table of medians with the
# speed-up over one thread and the Gearbox/gearmand ratio.
#
#   bench/scaling.sh                                   # 1, 2, 4 threads on this machine
#   THREAD_COUNTS="1 2 4 8 16" CLIENTS=16 WORKERS=16 LOOPS=8 bench/scaling.sh
#   SCALING_PROBE=path/to/scaling-probe bench/scaling.sh   # a binary built elsewhere (no Swift needed here)
#   GEARMAND=path/to/gearmand bench/scaling.sh               # gearmand from elsewhere; GEARMAND=none skips it
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

# shellcheck source=bench/server-common.sh
source bench/server-common.sh

PROBE="${SCALING_PROBE:-}"
if [[ -z "$PROBE" ]]; then
    say "bench: building scaling-probe (release, Swift runtime linked in)"
    PROBE="$(scripts/build-release.sh scaling-probe 2>/dev/null || scripts/build-release.sh scaling-probe)"
fi

GEARMAND="${GEARMAND:-$(command -v gearmand || { [[ -x /usr/sbin/gearmand ]] && echo /usr/sbin/gearmand; } || echo none)}"
SERVERS="gearbox"
[[ "$GEARMAND" != none ]] && SERVERS="gearmand gearbox"

for _ in $(seq "$ROUNDS"); do
    for threads in $THREAD_COUNTS; do
        for server in $SERVERS; do
            PORT="$(free_port)"
            if [[ "$server" == gearmand ]]; then
                "$GEARMAND" --port "$PORT" --listen 127.0.0.1 --log-file none -t "$threads" >/dev/null 2>&1 &
            else
                "$PROBE" server "$PORT" "$threads" &
            fi
            SERVER_PID=$!
            wait_for_server "$server" 100
            "$PROBE" bench "$PORT" "$SERVER_PID" "$CLIENTS" "$WORKERS" "$LOOPS" "$DURATION" \
                >>"$WORK/$server.$threads" || say "bench: $server, $threads threads: the run reported errors"
            stop_server
            say "bench: $server, $threads threads: $(tail -1 "$WORK/$server.$threads" | python3 -c \
                'import json,sys; print(round(json.load(sys.stdin)["measured"]["jobsPerSecond"]), "jobs/s")' 2>/dev/null || echo failed)"
        done
    done
done

python3 - "$WORK" "$THREAD_COUNTS" "$ROUNDS" "$CLIENTS" "$WORKERS" "$LOOPS" "$(nproc)" "$SERVERS" <<'PY'
import json, os, statistics, sys
work, counts, rounds, clients, workers, loops, cores, servers = sys.argv[1:9]
servers = servers.split()

def figures(server, n):
    path = os.path.join(work, f"{server}.{n}")
    runs = [json.loads(line) for line in open(path) if line.strip()] if os.path.exists(path) else []
    if not runs:
        return None, None, 0
    rate = statistics.median(r["measured"]["jobsPerSecond"] for r in runs)
    cpu = [r["serverUsage"]["cpuMicrosecondsPerJob"] for r in runs
           if (r.get("serverUsage") or {}).get("cpuMicrosecondsPerJob")]
    return rate, statistics.median(cpu) if cpu else None, sum(r["errors"] for r in runs)

counts = counts.split()
table = {(s, n): figures(s, n) for s in servers for n in counts}
print(f"server threads, {cores} cores, foreground 64 B echo, medians of {rounds} rounds; "
      f"load: {clients} clients x 64 in flight, {workers} workers x 16 grabs, generator on {loops} loops")
print()
header = "| threads |"
rule = "|--------:|"
for s in servers:
    header += f" {s} jobs/s | {s} µs/job | {s} speed-up |"
    rule += "------:|------:|------:|"
if len(servers) == 2:
    header += " gearbox/gearmand jobs/s |"
    rule += "------:|"
print(header)
print(rule)
fmt = lambda v, spec: "-" if v is None else format(v, spec)
for n in counts:
    line = f"| {n} |"
    for s in servers:
        rate, cpu, _ = table[(s, n)]
        base = table[(s, counts[0])][0]
        line += f" {fmt(rate, ',.0f')} | {fmt(cpu, '.1f')} | {fmt(rate / base if rate and base else None, '.2f')}x |"
    if len(servers) == 2:
        a, b = table[("gearmand", n)][0], table[("gearbox", n)][0]
        line += f" {fmt(b / a if a and b else None, '.2f')}x |"
    print(line)
print()
print(f"errors in all runs: {sum(v[2] for v in table.values())}")
PY
