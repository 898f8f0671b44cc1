#!/usr/bin/env bash
# Durable background jobs, measured side by side in one run: `gearbox server --store sqlite:PATH`, the same
# server with a PostgreSQL store and in memory, and gearmand 1.1 with its own SQLite queue (`-q libsqlite3`).
# Prints a table of medians.
#
#   bench/durability.sh
#   ROUNDS=5 DEEP=200000 bench/durability.sh
#   CASES="1 5" bench/durability.sh      only these cases
#
# Cases:
#   1. acknowledged background submits per second, 64-byte payloads, idle queue (no workers);
#   2. SIGKILL during a submit storm, restart on the same store (the same server name for PostgreSQL),
#      drain: acknowledged jobs that came back, and jobs finished before the kill that came back
#      (bench/crash_probe.py);
#   3. DEEP (1,000,000) stored jobs: submit rate with them queued against the idle queue's (same process),
#      then SIGKILL: how long the restart takes to listen, its memory against the memory before the kill,
#      and the store's bytes per queued job;
#   4. a group of two servers on one PostgreSQL database: TAKEOVER_JOBS background jobs submitted to the
#      first, which is then killed with SIGKILL: how long until the second has run them all (default lease:
#      renewed every 2 s, expiring after 10 s) (bench/takeover_probe.py);
#   5. what retries and event hooks cost: HOOK_JOBS background jobs submitted and run by 2 echo workers, on
#      `--store sqlite` alone and with `--retries '*=3' --webhook URL` (a local receiver answering 204, so
#      that every completion is POSTed), alternating, ROUNDS rounds each.
# PostgreSQL runs as a throwaway cluster on a free port (bench/postgres-common.sh), with its defaults
# (fsync on, synchronous_commit on).
# Both servers get 2 threads. gearmand commits each job on its own, so it gets GEARMAND_JOBS submits per
# round instead of BACKGROUND_JOBS.
set -euo pipefail

ROUNDS="${ROUNDS:-3}"
BACKGROUND_JOBS="${BACKGROUND_JOBS:-200000}"
GEARMAND_JOBS="${GEARMAND_JOBS:-5000}"
DEEP="${DEEP:-1000000}"
STORM_SECONDS="${STORM_SECONDS:-5}"
TAKEOVER_JOBS="${TAKEOVER_JOBS:-20000}"
HOOK_JOBS="${HOOK_JOBS:-50000}"
CASES=" ${CASES:-1 2 3 4 5} "
runs_case() { [[ "$CASES" == *" $1 "* ]]; }
THREADS="${THREADS:-2}"
LOAD="${LOAD:---clients 4 --in-flight 64}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

STOP_SIGNAL=KILL  # no graceful stop needed: every round starts on a fresh store
# shellcheck source=bench/server-common.sh
source bench/server-common.sh
require_gearmand_and_gearbox
# shellcheck source=bench/postgres-common.sh
source bench/postgres-common.sh
say "bench: starting a throwaway PostgreSQL cluster"
start_postgres

# A fresh PostgreSQL store: the tables go, the next server makes them again.
reset_postgres_store() {
    postgres_query "SET client_min_messages = warning; DROP TABLE IF EXISTS gearbox_jobs, gearbox_servers, gearbox_jobs_set_aside" >/dev/null
}

# server_command NAME STORE: the command line, with {port} for the port.
server_command() {
    case "$1" in
        gearbox-sqlite) echo "$GEARBOX server --port {port} --threads $THREADS --store sqlite:$2" ;;
        gearbox-hooks) echo "$GEARBOX server --port {port} --threads $THREADS --store sqlite:$2 --retries *=3 --webhook http://127.0.0.1:$HOOK_PORT/events" ;;
        gearbox-memory) echo "$GEARBOX server --port {port} --threads $THREADS" ;;
        gearbox-postgres) echo "$GEARBOX server --port {port} --threads $THREADS --store $(postgres_url postgres) --server-name ${3:-bench}" ;;
        gearmand-sqlite) echo "$GEARMAND --port {port} --listen 127.0.0.1 --log-file none -t $THREADS -q libsqlite3 --libsqlite3-db $2" ;;
    esac
}

start_server() {
    PORT="$(free_port)"
    local command
    command="$(server_command "$1" "$2" "${3:-}")"
    set -f  # the words are split, never globbed (--retries *=3)
    ${command//\{port\}/$PORT} >/dev/null 2>&1 &
    SERVER_PID=$!
    set +f
    wait_for_server "$1" 400
}

if runs_case 1; then
say "bench: case 1, acknowledged background submits, 64-byte payloads"
for round in $(seq "$ROUNDS"); do
    for server in gearmand-sqlite gearbox-memory gearbox-sqlite gearbox-postgres; do
        store="$WORK/$server-$round.db"
        jobs="$BACKGROUND_JOBS"
        [[ "$server" == gearmand-sqlite ]] && jobs="$GEARMAND_JOBS"
        [[ "$server" == gearbox-postgres ]] && reset_postgres_store
        start_server "$server" "$store"
        "$GEARBOX" bench --server "127.0.0.1:$PORT" --server-pid "$SERVER_PID" --quiet --json $LOAD \
            --background --workers 0 --jobs "$jobs" --warm-up 0 --payload 64 >>"$WORK/submit.$server" 2>>"$WORK/errors" \
            || { say "bench: $server reported errors:"; tail -3 "$WORK/errors" >&2; }
        stop_server
        rm -f "$store"*
        if [[ "$server" == gearbox-postgres ]]; then
            # The jobs stay queued (no workers): the database's bytes for them, table, index and TOAST.
            postgres_query "SELECT pg_total_relation_size('gearbox_jobs'), count(*) FROM gearbox_jobs" >>"$WORK/pgsize"
        fi
        say "bench: submit $server: $(tail -1 "$WORK/submit.$server" | python3 -c \
            'import json,sys; print(round(json.load(sys.stdin)["measured"]["jobsPerSecond"]), "jobs/s")' 2>/dev/null || echo failed)"
    done
done
fi

if runs_case 2; then
say "bench: case 2, SIGKILL during a submit storm of $STORM_SECONDS s, restart, drain"
for server in gearmand-sqlite gearbox-sqlite gearbox-postgres; do
    store="$WORK/crash-$server.db"
    [[ "$server" == gearbox-postgres ]] && reset_postgres_store
    # shellcheck disable=SC2046
    python3 bench/crash_probe.py --seconds "$STORM_SECONDS" -- $(server_command "$server" "$store") >"$WORK/crash.$server"
    rm -f "$store"*
    say "bench: crash $server: $(cat "$WORK/crash.$server")"
done
fi

if runs_case 3; then
say "bench: case 3, $DEEP stored jobs: submit rate, SIGKILL, restart"
store="$WORK/deep.db"
start_server gearbox-sqlite "$store"
"$GEARBOX" bench --server "127.0.0.1:$PORT" --server-pid "$SERVER_PID" --quiet --json $LOAD --background --workers 0 \
    --prefill "$DEEP" --jobs "$BACKGROUND_JOBS" --payload 64 >"$WORK/deep.json" 2>>"$WORK/errors"
# shellcheck disable=SC2046
python3 bench/crash_probe.py --restart "$SERVER_PID" --port "$PORT" --store "$store" -- \
    $(server_command gearbox-sqlite "$store") >"$WORK/restart.json"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
fi

if runs_case 4; then
say "bench: case 4, a group of two servers on PostgreSQL: $TAKEOVER_JOBS jobs, SIGKILL the first, the second runs them"
reset_postgres_store
start_server gearbox-postgres "" takeover-second
SECOND_PID="$SERVER_PID"
SECOND_PORT="$PORT"
start_server gearbox-postgres "" takeover-first
python3 bench/takeover_probe.py --jobs "$TAKEOVER_JOBS" --kill "$SERVER_PID" --first "$PORT" --second "$SECOND_PORT" \
    >"$WORK/takeover.json"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID="$SECOND_PID"
stop_server
say "bench: takeover: $(cat "$WORK/takeover.json")"
fi

if runs_case 5; then
say "bench: case 5, $HOOK_JOBS background jobs run by 2 workers, with and without retries and a webhook"
HOOK_PORT="$(free_port)"
python3 -c '
import http.server, sys, threading
received = 0
lock = threading.Lock()
class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        global received
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()
        with lock:
            received += 1
    def do_GET(self):
        body = str(received).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
' "$HOOK_PORT" &
RECEIVER_PID=$!
for round in $(seq "$ROUNDS"); do
    for server in gearbox-sqlite gearbox-hooks; do
        store="$WORK/hooks-$server-$round.db"
        start_server "$server" "$store"
        before="$(curl -s "http://127.0.0.1:$HOOK_PORT/")"
        started="$(date +%s.%N)"
        "$GEARBOX" bench --server "127.0.0.1:$PORT" --server-pid "$SERVER_PID" --quiet --json --clients 4 --in-flight 64 \
            --background --workers 2 --jobs "$HOOK_JOBS" --warm-up 0 --payload 64 >>"$WORK/run.$server" 2>>"$WORK/errors" \
            || { say "bench: $server reported errors:"; tail -3 "$WORK/errors" >&2; }
        if [[ "$server" == gearbox-hooks ]]; then
            # Every completion's event at the receiver (the hook's one in-order sender), within 10 minutes.
            for _ in $(seq 6000); do
                (( $(curl -s "http://127.0.0.1:$HOOK_PORT/") - before >= HOOK_JOBS )) && break
                sleep 0.1
            done
            echo "$(( $(curl -s "http://127.0.0.1:$HOOK_PORT/") - before )) $(python3 -c "import time; print(time.time() - $started)")" >>"$WORK/hooks.delivered"
        fi
        stop_server
        rm -f "$store"*
    done
done
kill "$RECEIVER_PID" 2>/dev/null || true
wait "$RECEIVER_PID" 2>/dev/null || true
fi

python3 - "$WORK" "$ROUNDS" "$BACKGROUND_JOBS" "$GEARMAND_JOBS" "$DEEP" "$LOAD" "$(nproc)" <<'PY'
import json, os, statistics, sys
work, rounds, bg_jobs, gearmand_jobs, deep, load, cores = sys.argv[1:8]
def runs(name):
    path = os.path.join(work, name)
    return [json.loads(l) for l in open(path) if l.strip()] if os.path.exists(path) else []
def median_rate(server):
    rates = [r["measured"]["jobsPerSecond"] for r in runs(f"submit.{server}")]
    return statistics.median(rates) if rates else None
g, m, s, p = (median_rate(x) for x in ("gearmand-sqlite", "gearbox-memory", "gearbox-sqlite", "gearbox-postgres"))
print(f"Durable background jobs, {cores} cores, medians of {rounds} rounds; load: {load}; "
      f"{int(bg_jobs):,} submits per Gearbox round, {int(gearmand_jobs):,} per gearmand round")
print()
print("| case | gearmand -q libsqlite3 | gearbox --store sqlite | gearbox --store postgres | gearbox in memory | sqlite/gearmand | postgres/gearmand | sqlite/memory |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
fmt = lambda v: f"{v:,.0f}" if v is not None else "-"
ratio = lambda a, b: f"{a / b:.1f}x" if a and b else "-"
print(f"| 1. acknowledged background submits, jobs/s | {fmt(g)} | {fmt(s)} | {fmt(p)} | {fmt(m)} | {ratio(s, g)} | {ratio(p, g)} | {s / m:.0%} |" if s and m else "| 1. | - | - | - | - | - | - | - |")
crash = {name: (runs(f"crash.{name}") or [{}])[0] for name in ("gearmand-sqlite", "gearbox-sqlite", "gearbox-postgres")}
def crash_cell(c):
    if not c:
        return "-"
    return (f"{c['cameBack']:,} of {c['acknowledged']:,} back, {c['lost']:,} lost, "
            f"{c['finishedCameBack']:,} of {c['finished']:,} finished came back")
print(f"| 2. SIGKILL mid-storm, restart | {crash_cell(crash['gearmand-sqlite'])} | {crash_cell(crash['gearbox-sqlite'])} | {crash_cell(crash['gearbox-postgres'])} | - | | | |")
print()
d = (runs("deep.json") or [{}])[0]
r = (runs("restart.json") or [{}])[0]
if d and r:
    empty = d["emptyQueue"]["jobsPerSecond"]
    rate = d["measured"]["jobsPerSecond"]
    print(f"3. gearbox --store sqlite with {r['queued']:,} stored jobs:")
    print(f"   submit rate with them queued: {rate:,.0f} jobs/s, {rate / empty:.0%} of the idle queue's {empty:,.0f} jobs/s (same process)")
    print(f"   SIGKILL, restart: listening after {r['restartSeconds']:.2f} s with {r['cameBack']:,} jobs back")
    print(f"   resident memory: {r['rssBeforeKill'] / 1048576:,.0f} MiB before the kill, {r['rssAfterRestart'] / 1048576:,.0f} MiB "
          f"after the restart ({r['rssAfterRestart'] / r['rssBeforeKill'] - 1:+.0%})")
    print(f"   store: {r['storeBytes'] / 1048576:,.0f} MiB, {r['storeBytes'] / r['queued']:.0f} bytes per queued 64-byte job")
sizes = [tuple(map(int, line.split("|"))) for line in open(os.path.join(work, "pgsize"))] if os.path.exists(os.path.join(work, "pgsize")) else []
sizes = [(b, n) for b, n in sizes if n > 0]
if sizes:
    per_job = statistics.median(b / n for b, n in sizes)
    print(f"gearbox --store postgres: {per_job:.0f} bytes of database per queued 64-byte job "
          f"(table, primary key and TOAST; {sizes[-1][1]:,} jobs, median of {len(sizes)})")
t = (runs("takeover.json") or [{}])[0]
if t:
    done = f"{t['allDoneSeconds']:.2f} s" if t.get("allDoneSeconds") is not None else "never"
    print(f"4. group of two on PostgreSQL, {t['jobs']:,} jobs on the first, SIGKILL: the second ran the first adopted job "
          f"{t['firstAdoptedSeconds']:.2f} s after the kill and all of them after {done} (lease 10 s); "
          f"{t['ranTwice']} ran twice, {t['neverRan']} never ran")
plain, hooked = (statistics.median(r["measured"]["jobsPerSecond"] for r in runs(f"run.{x}")) if runs(f"run.{x}") else None
                 for x in ("gearbox-sqlite", "gearbox-hooks"))
if plain and hooked:
    print(f"5. background jobs submitted and run by 2 echo workers, --store sqlite: {plain:,.0f} submits/s alone, "
          f"{hooked:,.0f} with --retries '*=3' and a --webhook receiving every completion ({hooked / plain:.0%})")
    delivered = [tuple(map(float, line.split())) for line in open(os.path.join(work, "hooks.delivered"))] \
        if os.path.exists(os.path.join(work, "hooks.delivered")) else []
    if delivered:
        events = statistics.median(d[0] for d in delivered)
        seconds = statistics.median(d[1] for d in delivered)
        print(f"   the hook received {events:,.0f} events (median), all of a round's completions within "
              f"{seconds:.1f} s of its first submit: {events / seconds:,.0f} events/s to one receiver, in order")
if p is not None:
    print(f"goal: durable PostgreSQL submits at least 20,000 jobs/s: {'met' if p >= 20000 else 'not met'} ({p:,.0f})")
for name, c in crash.items():
    if c:
        print(f"{name}: {c['acknowledged']:,} acknowledged during the storm ({c['acknowledgedPerSecond']:,.0f}/s), "
              f"restart listened after {c['restartSeconds']:.2f} s")
PY
