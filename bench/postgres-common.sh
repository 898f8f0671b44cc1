# A throwaway PostgreSQL cluster for a benchmark, sourced after bench/server-common.sh: `start_postgres`
# makes one in $WORK/postgres (initdb; as the postgres user when run as root) and starts it on a free port of
# 127.0.0.1, keeping its id (POSTGRES_PID); POSTGRES_PORT and `postgres_url DATABASE` say where it is;
# `postgres_query SQL` runs SQL through psql. It is stopped on exit.

POSTGRES_PID=""

postgres_binaries() {
    local version
    for version in $(ls /usr/lib/postgresql 2>/dev/null | sort -rn); do
        [[ -x "/usr/lib/postgresql/$version/bin/postgres" ]] && { echo "/usr/lib/postgresql/$version/bin"; return; }
    done
    command -v postgres >/dev/null && { dirname "$(command -v postgres)"; return; }
    say "bench: PostgreSQL is missing: apt-get install postgresql"; exit 1
}

# As root, PostgreSQL's programs run as the postgres user through setpriv, which execs: the id of a program
# started in the background is the program's own, so that it can be stopped by that id.
as_postgres_user=()
if [[ "$(id -u)" -eq 0 ]]; then
    as_postgres_user=(setpriv --reuid=postgres --regid=postgres --init-groups --)
fi

start_postgres() {
    local bin
    bin="$(postgres_binaries)"
    mkdir -p "$WORK/postgres"
    if [[ "$(id -u)" -eq 0 ]]; then
        chmod a+x "$WORK"  # mktemp's folder is root's alone; the postgres user must reach its own below it
        chown postgres:postgres "$WORK/postgres"
    fi
    "${as_postgres_user[@]}" "$bin/initdb" -D "$WORK/postgres/data" -U gearbox -A trust -E UTF8 --locale=C --no-sync >/dev/null
    POSTGRES_PORT="$(free_port)"
    "${as_postgres_user[@]}" "$bin/postgres" -D "$WORK/postgres/data" -p "$POSTGRES_PORT" -k "$WORK/postgres" \
        -c listen_addresses=127.0.0.1 >"$WORK/postgres.log" 2>&1 &
    POSTGRES_PID=$!
    for _ in $(seq 600); do
        postgres_query "SELECT 1" >/dev/null 2>&1 && return 0
        kill -0 "$POSTGRES_PID" 2>/dev/null || break
        sleep 0.1
    done
    say "bench: PostgreSQL did not start:"; tail -5 "$WORK/postgres.log" >&2; exit 1
}

stop_postgres() {
    [[ -n "$POSTGRES_PID" ]] || return 0
    kill -INT "$POSTGRES_PID" 2>/dev/null || true  # fast shutdown
    wait "$POSTGRES_PID" 2>/dev/null || true
    POSTGRES_PID=""
}

postgres_url() { echo "postgres://gearbox@127.0.0.1:$POSTGRES_PORT/$1"; }

postgres_query() {
    psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$POSTGRES_PORT" -U gearbox -d "${2:-postgres}" -c "$1"
}

cleanup_more() { stop_postgres; }
