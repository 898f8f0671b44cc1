# Shared set-up of the job-server benchmarks, sourced by bench/server.sh, bench/durability.sh and
# bench/scaling.sh: checks for python3, makes a scratch folder (WORK) and keeps the one server a benchmark
# runs at a time (SERVER_PID, on PORT), stopped on exit. `require_gearmand_and_gearbox` finds gearmand and
# builds the release gearbox (GEARMAND, GEARBOX). A sourcing script may set STOP_SIGNAL (default TERM)
# before sourcing: how its servers are stopped.

say() { printf '%s\n' "$*" >&2; }

command -v python3 >/dev/null || { say "bench: python3 is missing"; exit 1; }

require_gearmand_and_gearbox() {
    command -v gearmand >/dev/null || [[ -x /usr/sbin/gearmand ]] || {
        say "bench: gearmand is missing: apt-get install gearman-job-server"; exit 1; }
    GEARMAND="$(command -v gearmand || echo /usr/sbin/gearmand)"
    say "bench: building gearbox (release)"
    GEARBOX="$(scripts/build-release.sh 2>/dev/null || scripts/build-release.sh)"
}

STOP_SIGNAL="${STOP_SIGNAL:-TERM}"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    [[ -n "$SERVER_PID" ]] && kill -s "$STOP_SIGNAL" "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    # A sourcing script's own clean-up (bench/postgres-common.sh stops its cluster), before the folder goes.
    declare -F cleanup_more >/dev/null && cleanup_more
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_server NAME TRIES: waits TRIES x 50 ms for SERVER_PID to listen on PORT.
wait_for_server() {
    for _ in $(seq "$2"); do
        (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        sleep 0.05
    done
    say "bench: $1 did not start"; exit 1
}

stop_server() {
    kill -s "$STOP_SIGNAL" "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
