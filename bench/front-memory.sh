#!/usr/bin/env bash
# The memory of `gearbox front` with its embedded farm (its defaults: three sizes at 1x and 2x, JPEG and WebP
# at upload, AVIF by a background job after it): 20 uploads of a 9-megapixel photograph in a row, and what the
# process holds at its peak, when the last upload is answered, 10 s after that, and once the farm is idle.
#
#   bench/front-memory.sh                 # 20 uploads
#   UPLOADS=5 bench/front-memory.sh
#
# Goals: at most 400 MB at the peak, at most 200 MB ten seconds after the last upload is answered.
# Resident memory is sampled from /proc every 100 ms; the peak is also the kernel's VmHWM.
set -euo pipefail

UPLOADS="${UPLOADS:-20}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source "$ROOT/bench/common.sh"
command -v curl >/dev/null || { say "bench: curl is missing: apt-get install curl"; exit 1; }

WORK="$(mktemp -d)"
FRONT_PID=""
SAMPLER_PID=""
cleanup() {
    [[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null || true
    if [[ -n $FRONT_PID ]]; then
        kill "$FRONT_PID" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$FRONT_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$FRONT_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

PHOTO="$WORK/photo_4000x2250.jpg"
vips thumbnail "$PHOTOS/Elephants_5640x3172.jpg" "$PHOTO[Q=90]" 4000

"$GEARBOX" front --port 0 --storage "$WORK/photos" --job-timeout 600 --job-time-limit 600 >"$WORK/front.log" 2>&1 &
FRONT_PID=$!
URL=""
for _ in $(seq 300); do
    URL=$(grep -o 'listening on http://[0-9.:]*' "$WORK/front.log" | head -1 | sed 's/listening on //') || true
    [[ -n $URL ]] && break
    kill -0 "$FRONT_PID" 2>/dev/null || { say "bench: gearbox front exited: $(cat "$WORK/front.log")"; exit 1; }
    sleep 0.1
done
[[ -n $URL ]] || { say "bench: gearbox front did not say where it listens within 30 s"; exit 1; }

mb() { awk -v key="$1:" '$1 == key { printf "%d", $2 / 1024 }' "/proc/$FRONT_PID/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$FRONT_PID/stat"; }

START=$(mb VmRSS)
(while kill -0 "$FRONT_PID" 2>/dev/null; do mb VmRSS >>"$WORK/samples" || true; sleep 0.1; done) &
SAMPLER_PID=$!

started=$(date +%s%N)
for i in $(seq "$UPLOADS"); do
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 600 --data-binary "@$PHOTO" \
        -H 'Content-Type: image/jpeg' "$URL/photos")
    [[ $status == 200 ]] || { say "bench: upload $i answered $status"; exit 1; }
done
answered=$(date +%s%N)
AT_LAST=$(mb VmRSS)
sleep 10
AFTER_10S=$(mb VmRSS)
# Idle: the process used no CPU for two seconds (the background AVIF jobs are done), within 10 minutes.
for _ in $(seq 300); do
    before=$(cpu_ticks); sleep 2; after=$(cpu_ticks)
    ((after - before <= 2)) && break
done
idle=$(date +%s%N)
IDLE=$(mb VmRSS)
PEAK=$(mb VmHWM)

printf 'gearbox front (embedded farm, defaults), %s uploads of a 4000x2250 JPEG (%s MB) in a row, %s cores\n' \
    "$UPLOADS" "$(du -m "$PHOTO" | cut -f1)" "$(nproc)"
printf '  at start                         %5s MB\n' "$START"
printf '  peak (VmHWM)                     %5s MB   goal <= 400 MB: %s\n' "$PEAK" "$( ((PEAK <= 400)) && echo PASS || echo MISS)"
printf '  the last upload answered         %5s MB   (uploads took %.1f s)\n' "$AT_LAST" "$(awk -v ns=$((answered - started)) 'BEGIN { print ns / 1e9 }')"
printf '  10 s after the last answer       %5s MB   goal <= 200 MB: %s\n' "$AFTER_10S" "$( ((AFTER_10S <= 200)) && echo PASS || echo MISS)"
printf '  idle (%.0f s after the last)       %5s MB\n' "$(awk -v ns=$((idle - answered)) 'BEGIN { print ns / 1e9 }')" "$IDLE"
