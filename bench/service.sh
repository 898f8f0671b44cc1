#!/usr/bin/env bash
# Gearbox's image service side by side with thumbor and with libvips in one process, in one run: the shape
# of the public imgproxy/imagor comparisons. Prints images/s, p50/p99 latency, the peak RSS of each service's
# processes and the SSIM of its outputs, a Markdown table, and PASS/MISS against the goals.
#
#   bench/service.sh                              # 400 requests (200 of 10 MP), 16 clients, 3 rounds: ~10 min
#                                                 # on 2 busy cores
#   ROUNDS=1 REQUESTS=200 bench/service.sh        # a quick look
#   KEEP=1 bench/service.sh                       # keep the work folder (results, outputs, logs)
#
# Workloads (each request fits the source into a box; JPEG quality 80):
#   diverse    one 2000x1333 JPEG (Q90, cropped from Elephants_5640x3172.jpg), every request a different
#              box: 485..500 wide (16 widths) by 500, 499, ... high, so the outputs are 485..500 wide
#   burst      the same JPEG, one box (500x500): all clients request the same URL
#   diverse10  a 10-megapixel source (3872x2592, Q90) with the diverse boxes, REQUESTS_10MP requests
# Systems (all started once, kept running, and measured in turn, the order rotating each round):
#   gearbox-http   `gearbox server --http-port` + `gearbox worker -f thumbnail` (one job per core):
#                  POST /thumbnail with `?size=WxH&quality=80&format=jpeg\n<image>`; in the burst with
#                  `X-Gearman-Unique: -`, so equal workloads in flight are coalesced into one job
#   gearbox-gear   the same server over the Gearman protocol: one OpenDev `gear` Client, CLIENTS jobs in
#                  flight; in the burst the same unique, from CLIENTS Clients with one job each (gear keys
#                  jobs by handle, and equal jobs on one connection share a handle)
#   front          `gearbox front --unsafe-transforms` (embedded farm), the photo uploaded once, then
#                  GET /photos/ID/image?size=WxH&quality=80&format=jpeg: cold (every URL new) and cached (the
#                  same URLs again); in the burst, one URL (the first request makes it)
#   thumbor        thumbor 7.8 (PIL engine, its defaults) with --processes CORES, file loader, no storage,
#                  no result storage: /unsafe/fit-in/WxH/filters:quality(80)/FILE
#   pyvips         libvips in CORES processes (multiprocessing), no server, with gearbox's settings: the
#                  JPEG loaded with the shrink gearbox's `pipeline=fast` picks, then thumbnail_image(W,
#                  height=H) (PIPELINE=vipsthumbnail: thumbnail_buffer, libvips' own shrink, and the worker
#                  started with --pipeline vipsthumbnail), then jpegsave Q=80 with gearbox's settings (strip,
#                  optimize_coding), one libvips thread per image as gearbox's worker: the limit. Its p50/p99
#                  are the time of one image.
# Each run is preceded by WARMUP requests (boxes no measured request uses) whose outputs are checked; every
# measured output is checked too (a JPEG of the box's fitted size, 1 px of rounding either way).
# Peak RSS: the largest sum of VmRSS over the service's processes and their children, sampled every 20 ms
# during the measured requests (gearbox: server + worker; front: its one process; thumbor: the parent and
# its forks; pyvips: the pool's processes).
# Service CPU per image: user+system time of those processes (and children) over the measured requests.
# SSIM: on BT.601 luminance, 11x11 gaussian window (sigma 1.5), against a Lanczos3 resize (libvips resize,
# gap 0: no shrink-on-load, no box pre-shrink) of the fully decoded source to each output's exact size; the
# mean over all measured outputs.
# The load generator (bench/service_load.py: one persistent HTTP/1.1 connection per client thread) shares the
# cores with the services; its ceiling on a trivial endpoint is measured and printed first.
#
# Env: REQUESTS (400), REQUESTS_10MP (REQUESTS/2: the 10 MP runs are the slow ones), CLIENTS (16), ROUNDS (3), WARMUP (32), PROCESSES (cores: gearbox jobs, thumbor
# processes, pyvips processes), PHOTO (the fixture the sources are cut from), SYSTEMS (default
# "gearbox-http gearbox-gear front thumbor pyvips"), WORKLOADS (default "diverse burst diverse10"), PIPELINE (fast; or vipsthumbnail, for the
# worker and pyvips).
set -euo pipefail

REQUESTS="${REQUESTS:-400}"
REQUESTS_10MP="${REQUESTS_10MP:-$((REQUESTS / 2))}"
CLIENTS="${CLIENTS:-16}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-32}"
PROCESSES="${PROCESSES:-$(nproc)}"
SYSTEMS="${SYSTEMS:-gearbox-http gearbox-gear front thumbor pyvips}"
WORKLOADS="${WORKLOADS:-diverse burst diverse10}"
PIPELINE="${PIPELINE:-fast}"
export PIPELINE
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

STEP="start"
WORK="$(mktemp -d)"
STARTED=()

say() { printf '%s\n' "$*" >&2; }

# Every pid we started and its descendants (thumbor forks its processes), children first.
tree() {
    local pid=$1 child
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do tree "$child"; done
    echo "$pid"
}

cleanup() {
    local status=$? pid pids=()
    trap - EXIT INT TERM
    if ((status != 0)); then say "bench: FAILED at step: $STEP (exit $status); logs in $WORK/*.log"; fi
    for pid in "${STARTED[@]}"; do pids+=($(tree "$pid")); done
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    for pid in "${STARTED[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ -n "${KEEP:-}" || $status -ne 0 ]]; then
        say "bench: work folder kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_port NAME PID PORT [SECONDS]: until something accepts on the port, the process still alive.
wait_port() {
    local name=$1 pid=$2 port=$3 deadline=$((SECONDS + ${4:-60}))
    while ! (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { say "bench: $name exited:"; tail -20 "$WORK/$name.log" >&2; return 1; }
        ((SECONDS < deadline)) || { say "bench: $name did not open port $port in time"; tail -20 "$WORK/$name.log" >&2; return 1; }
        sleep 0.1
    done
}

# wait_ok NAME SECONDS CURL-ARGS...: until the request answers 200.
wait_ok() {
    local name=$1 deadline=$((SECONDS + $2)) code
    shift 2
    while true; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" || true)
        [[ $code == 200 ]] && return 0
        ((SECONDS < deadline)) || { say "bench: $name did not answer 200 in time (last: $code)"; tail -20 "$WORK/$name.log" >&2; return 1; }
        sleep 0.2
    done
}

# ---------------------------------------------------------------------------------------------- set-up

STEP="tools, fixtures and the release build (bench/common.sh)"
source "$ROOT/bench/common.sh"
command -v curl >/dev/null || { say "bench: curl is missing: apt-get install curl"; exit 1; }

STEP="the Python virtualenv (bench/.venv: thumbor 7.8, pyvips, gear, numpy)"
VENV="$ROOT/bench/.venv"
PY="$VENV/bin/python"
venv_ready() {
    "$PY" -c 'import thumbor, pyvips, gear, numpy, sys; sys.exit(0 if thumbor.__version__.startswith("7.8") else 1)' \
        2>/dev/null
}
if ! venv_ready; then
    say "bench: installing thumbor 7.8, pyvips, gear and numpy into bench/.venv"
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            python3 -m venv "$VENV"
        else
            say "bench: python3 -m venv failed: apt-get install python3-venv"; exit 1
        fi
    fi
    "$VENV/bin/pip" install -q --disable-pip-version-check 'thumbor==7.8.*' 'pyvips>=2.2,<4' 'gear>=0.16' numpy
    venv_ready || { say "bench: bench/.venv does not import thumbor 7.8, pyvips, gear and numpy"; exit 1; }
fi
LOAD=(timeout --kill-after=10 600 "$PY" "$ROOT/bench/service_load.py")

STEP="the source images"
PHOTO="${PHOTO:-$PHOTOS/Elephants_5640x3172.jpg}"
mkdir -p "$WORK/src" "$WORK/outputs"
SRC_diverse="$WORK/src/photo_2000x1333.jpg"
SRC_diverse10="$WORK/src/photo_3872x2592.jpg"
vips thumbnail "$PHOTO" "$SRC_diverse[Q=90]" 2000 --height 1333 --crop centre
vips thumbnail "$PHOTO" "$SRC_diverse10[Q=90]" 3872 --height 2592 --crop centre
SRC_burst="$SRC_diverse"
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"

has() { [[ " $SYSTEMS " == *" $1 "* ]]; }

STEP="starting gearbox server and worker"
GEARMAN_PORT=$(free_port)
HTTP_PORT=$(free_port)
"$GEARBOX" server --port "$GEARMAN_PORT" --http-port "$HTTP_PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
STARTED+=("$SERVER_PID")
wait_port server "$SERVER_PID" "$GEARMAN_PORT"
wait_port server "$SERVER_PID" "$HTTP_PORT"
"$GEARBOX" worker -f thumbnail --server "127.0.0.1:$GEARMAN_PORT" -c "$PROCESSES" --pipeline "$PIPELINE" >"$WORK/worker.log" 2>&1 &
WORKER_PID=$!
STARTED+=("$WORKER_PID")
# The worker is attached once a job is answered.
wait_ok worker 60 --data-binary "@$SRC_diverse" "http://127.0.0.1:$HTTP_PORT/thumbnail"

STEP="starting gearbox front"
FRONT_PORT=$(free_port)
FRONT_FLAGS=(--formats "" --densities 1 --deferred-formats "")
FRONT_URLS=""
if { "$GEARBOX" front serve --help 2>&1 || "$GEARBOX" front --help 2>&1; } | grep -q -- '--unsafe-transforms'; then
    FRONT_FLAGS+=(--unsafe-transforms)
fi
# Uploads make only the JPEG sizes (no WebP/AVIF, no background jobs left running during the measurement).
"$GEARBOX" front --port "$FRONT_PORT" --storage "$WORK/front-storage" --workers "$PROCESSES" "${FRONT_FLAGS[@]}" \
    >"$WORK/front.log" 2>&1 &
FRONT_PID=$!
STARTED+=("$FRONT_PID")
wait_port front "$FRONT_PID" "$FRONT_PORT"
wait_ok front 60 "http://127.0.0.1:$FRONT_PORT/healthz"
if has front; then
    STEP="uploading the sources to the front"
    for workload in diverse diverse10; do
        src_var="SRC_$workload"
        id=$(curl -sf --max-time 120 -H 'Accept: application/json' -F "photo=@${!src_var}" \
            "http://127.0.0.1:$FRONT_PORT/photos" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["photos"][0]["id"])')
        printf -v "ID_$workload" '%s' "$id"
    done
    ID_burst="$ID_diverse"
    probe_url="http://127.0.0.1:$FRONT_PORT/photos/$ID_diverse/image?size=300x300&quality=80&format=jpeg"
    code=$(curl -s -o "$WORK/front-probe.jpg" -w '%{http_code}' --max-time 60 "$probe_url" || true)
    if [[ $code == 200 ]] && [[ $(head -c 2 "$WORK/front-probe.jpg" | od -An -tx1 | tr -d ' ') == ffd8 ]]; then
        FRONT_URLS=1
    else
        say "bench: front URLs: not available in this build (GET /photos/ID/image?size=... answered $code: $(head -c 200 "$WORK/front-probe.jpg" | tr '\n' ' '))"
        say "bench: the front URL rows are skipped"
    fi
fi

if has thumbor; then
    STEP="starting thumbor"
    THUMBOR_PORT=$(free_port)
    cat >"$WORK/thumbor.conf" <<EOF
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = '$WORK/src'
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = None
ALLOW_UNSAFE_URL = True
QUALITY = 80
EOF
    "$VENV/bin/thumbor" --ip 127.0.0.1 --port "$THUMBOR_PORT" --conf "$WORK/thumbor.conf" --processes "$PROCESSES" \
        --log-level error >"$WORK/thumbor.log" 2>&1 &
    THUMBOR_PID=$!
    STARTED+=("$THUMBOR_PID")
    wait_port thumbor "$THUMBOR_PID" "$THUMBOR_PORT"
    wait_ok thumbor 60 "http://127.0.0.1:$THUMBOR_PORT/healthcheck"
fi

STEP="the load generator's own ceiling"
CEILING=$("${LOAD[@]}" probe --url "http://127.0.0.1:$FRONT_PORT/healthz" --requests 3000 --clients "$CLIENTS")

# ------------------------------------------------------------------------------------------ measuring

# run_system SYSTEM WORKLOAD ROUND
run_system() {
    local system=$1 workload=$2 round=$3
    local src_var="SRC_$workload" id_var="ID_$workload"
    local src="${!src_var}" file unique=()
    file=$(basename "$src")
    local connections=1
    # Coalesced jobs need a connection each (see gear_driver in service_load.py).
    [[ $workload == burst ]] && unique=(--unique -) && connections=$CLIENTS
    local requests=$REQUESTS
    [[ $workload == diverse10 ]] && requests=$REQUESTS_10MP
    local common=(--workload "$workload" --source "$src" --requests "$requests" --clients "$CLIENTS"
        --warmup "$WARMUP" --round "$round" --outputs "$WORK/outputs" --results "$RESULTS")
    local options='?size={w}x{h}&quality=80&format=jpeg\n'
    STEP="$system, $workload, round $((round + 1))"
    case $system in
        gearbox-http)
            "${LOAD[@]}" http --name gearbox-http "${common[@]}" --method POST --body "$src" --prefix "$options" \
                "${unique[@]}" --url "http://127.0.0.1:$HTTP_PORT/thumbnail" --pids "$SERVER_PID,$WORKER_PID" ;;
        gearbox-gear)
            "${LOAD[@]}" gear --name gearbox-gear "${common[@]}" --body "$src" --prefix "$options" "${unique[@]}" \
                --port "$GEARMAN_PORT" --connections "$connections" --pids "$SERVER_PID,$WORKER_PID" ;;
        front)
            [[ -n $FRONT_URLS ]] || return 0
            local url="http://127.0.0.1:$FRONT_PORT/photos/${!id_var}/image?size={w}x{h}&quality=80&format=jpeg"
            if [[ $workload == burst ]]; then
                "${LOAD[@]}" http --name front "${common[@]}" --skip-warmup --url "$url" --pids "$FRONT_PID"
            else
                "${LOAD[@]}" http --name front-cold "${common[@]}" --url "$url" --pids "$FRONT_PID"
                STEP="front-cached, $workload, round $((round + 1))"
                "${LOAD[@]}" http --name front-cached "${common[@]}" --skip-warmup --url "$url" --pids "$FRONT_PID"
            fi ;;
        thumbor)
            "${LOAD[@]}" http --name thumbor "${common[@]}" --pids "$THUMBOR_PID" \
                --url "http://127.0.0.1:$THUMBOR_PORT/unsafe/fit-in/{w}x{h}/filters:quality(80)/$file" ;;
        pyvips)
            "${LOAD[@]}" vips --name pyvips "${common[@]}" --body "$src" --processes "$PROCESSES" ;;
        *) say "bench: unknown system '$system'"; return 1 ;;
    esac
}

read -r -a systems <<<"$SYSTEMS"
read -r -a workloads <<<"$WORKLOADS"
say "bench: $ROUNDS round(s) of ${workloads[*]} x ${systems[*]}: $REQUESTS requests ($REQUESTS_10MP of the 10 MP source), $CLIENTS clients, $WARMUP warm-up"
for ((round = 0; round < ROUNDS; round++)); do
    for workload in "${workloads[@]}"; do
        # Rotate the order each round so no system always runs first (or right after the heaviest).
        for ((k = 0; k < ${#systems[@]}; k++)); do
            run_system "${systems[$(((k + round) % ${#systems[@]}))]}" "$workload" "$round"
        done
    done
done

STEP="SSIM of the outputs"
say "bench: SSIM of the outputs against Lanczos3 references"
"${LOAD[@]}" ssim --outputs "$WORK/outputs" --scores "$WORK/scores.json"

STEP="the report"
echo
echo "Gearbox image service vs thumbor vs libvips in one process: $(vips --version), $("$VENV/bin/thumbor" --version 2>/dev/null | head -1 || true), $(nproc) cores"
echo "$REQUESTS requests per run ($REQUESTS_10MP of the 10 MP source) from $CLIENTS clients after $WARMUP warm-up requests; $ROUNDS round(s), systems side by side"
REPORT=(--results "$RESULTS" --scores "$WORK/scores.json" --ceiling "$CEILING")
if has gearbox-http || has gearbox-gear; then
    REPORT+=(--worker-hwm "$(awk '/VmHWM/ { print $2 }' "/proc/$WORKER_PID/status")")
    REPORT+=(--server-hwm "$(awk '/VmHWM/ { print $2 }' "/proc/$SERVER_PID/status")")
fi
if [[ -z $FRONT_URLS ]] && has front; then
    echo "front URLs: not available in this build (rows skipped)"
    REPORT+=(--front-missing)
fi
"$PY" "$ROOT/bench/service_load.py" report "${REPORT[@]}"
STEP="done"
