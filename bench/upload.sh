#!/usr/bin/env bash
# Uploads a real photograph to `gearbox front` (release build, embedded farm) from several clients at once,
# for each set of files a photo becomes, and prints uploads/s and p50/p99 latency side by side; then uploads
# every fixture photograph once and prints the bytes AVIF and WebP take against JPEG, size by size.
#
#   bench/upload.sh                               # 30 uploads per setting, 4 at a time, Garden.jpg (2560x1600)
#   UPLOADS=100 CONCURRENCY=8 bench/upload.sh
#   PHOTO=fixtures/cache/photos/Elephants_5640x3172.jpg bench/upload.sh
#
# Settings (sizes small=100x100, medium=640x480, large=1600x1200):
#   jpeg           --formats "" --densities 1           3 files per photo, as the front made them before formats
#   default        --formats avif,webp --densities 1,2  12 files before the answer (JPEG and WebP, 1x and 2x),
#                                                       6 AVIF files by a background job after it
#   all-at-upload  the same with --deferred-formats ""  18 files before the answer
# Each setting: five uploads one at a time on an idle farm (the latency a person uploading a photo sees), then
# UPLOADS from CONCURRENCY clients at once (the farm saturated); for the default, also how long the
# background AVIF jobs ran on after the last upload answered.
set -euo pipefail

UPLOADS="${UPLOADS:-30}"
CONCURRENCY="${CONCURRENCY:-4}"
SIZES="${SIZES:-small=100x100,medium=640x480,large=1600x1200}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '%s\n' "$*" >&2; }

fixtures/fetch.sh
PHOTO="${PHOTO:-$ROOT/fixtures/cache/photos/nature/Garden.jpg}"
say "bench: building gearbox (release)"
GEARBOX="$(scripts/build-release.sh 2>/dev/null || scripts/build-release.sh)"

WORK="$(mktemp -d)"
FRONT=""
stop_front() {
    if [ -n "$FRONT" ]; then
        kill "$FRONT" 2>/dev/null || true
        wait "$FRONT" 2>/dev/null || true
        FRONT=""
    fi
}
trap 'stop_front; rm -rf "$WORK"' EXIT

# start_front NAME ARGS...: a front on a free port with its own storage; sets PORT.
start_front() {
    local name=$1
    shift
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    "$GEARBOX" front --port "$PORT" --storage "$WORK/$name" --sizes "$SIZES" "$@" >"$WORK/$name.log" 2>&1 &
    FRONT=$!
    for _ in $(seq 200); do
        curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    say "bench: the front did not become ready"
    cat "$WORK/$name.log" >&2
    exit 1
}

say "bench: $UPLOADS uploads of $(basename "$PHOTO") ($(stat -c %s "$PHOTO") bytes) per setting, $CONCURRENCY at a time, sizes $SIZES"
say "bench: $(nproc) cores; the front, its job server and its $(nproc) image workers share them with the clients"
echo "| setting | files before the answer | one upload alone, ms (median of 5) | uploads/s under load | files/s | p50 ms | p99 ms | background AVIF done after the load |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for setting in "jpeg::1:" "default:avif,webp:1,2:avif" "all-at-upload:avif,webp:1,2:"; do
    IFS=: read -r name formats densities deferred <<<"$setting"
    start_front "$name" --formats "$formats" --densities "$densities" --deferred-formats "$deferred"
    python3 bench/upload_load.py throughput "$PORT" "$name" "$PHOTO" "$UPLOADS" "$CONCURRENCY" "$WORK/$name"
    stop_front
done

start_front bytes --formats avif,webp --densities 1 --deferred-formats ""
echo
echo "Bytes per size over every fixture photograph (front defaults: AVIF quality 50, WebP and JPEG 75):"
python3 bench/upload_load.py bytes "$PORT" fixtures/cache/photos
stop_front
