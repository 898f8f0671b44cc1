#!/usr/bin/env bash
# `gearbox batch` with its embedded farm (job server + one image worker per core, jobs over the Gearman
# protocol on loopback) against `vipsthumbnail` given every file in one process and against
# `xargs -P<cores> vipsthumbnail`, on the same files in the same run. Prints the median wall time,
# files/s, the ratio to gearbox, and peak RSS.
#
#   bench/batch.sh                 # 3 rounds, 300 photos + 40 photos over 1 MB
#   ROUNDS=5 COPIES=600 bench/batch.sh
#   CASES=large bench/batch.sh     # only the photos over 1 MB
#
# Cases: the 12 nature photographs (80 KB-1.2 MB, up to 2560x1600) replicated to COPIES files in
# a few folders; the photographs over 1 MB (three nature ones and the 16 MB 5640x3172 one) replicated
# to LARGE_COPIES files. Targets: gearbox ahead of both; on the photos over 1 MB, the farm's time
# within 5% of the fastest raw libvips run.
set -euo pipefail

ROUNDS="${ROUNDS:-3}"
COPIES="${COPIES:-300}"
LARGE_COPIES="${LARGE_COPIES:-40}"
SIZE="${SIZE:-200x150}"
CORES="$(nproc)"
XARGS_N="${XARGS_N:-10}" # files per vipsthumbnail process under xargs
CASES="${CASES:-photos large}" # which cases to run
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

source "$ROOT/bench/common.sh"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# replicate NAME COUNT FILES... -> $WORK/NAME/dNN/<photo>-<i>.jpg, 50 files a folder
replicate() {
    local name=$1 count=$2; shift 2
    local sources=("$@") i
    for ((i = 0; i < count; i++)); do
        local folder="$WORK/$name/d$((i / 50))"
        mkdir -p "$folder"
        local source="${sources[$((i % ${#sources[@]}))]}"
        ln "$source" "$folder/$(basename "$source" .jpg)-$i.jpg" 2>/dev/null || cp "$source" "$folder/$(basename "$source" .jpg)-$i.jpg"
    done
}

# run_once SIDE CASE -> "seconds peak_kb cpu_seconds"
run_once() {
    local side=$1 case=$2 out="$WORK/out" stats="$WORK/stats"
    rm -rf "$out"; mkdir -p "$out"
    case $side in
        gearbox)
            /usr/bin/time -f '%e %M %U %S' -o "$stats" "$GEARBOX" batch "$WORK/$case" -o "$out" -s "$SIZE" --progress none >/dev/null ;;
        vips1)
            find "$WORK/$case" -name '*.jpg' -print0 | /usr/bin/time -f '%e %M %U %S' -o "$stats" \
                xargs -0 vipsthumbnail -s "$SIZE" -o "$out/%s.jpg" ;;
        xargs)
            find "$WORK/$case" -name '*.jpg' -print0 | /usr/bin/time -f '%e %M %U %S' -o "$stats" \
                xargs -0 -P "$CORES" -n "$XARGS_N" vipsthumbnail -s "$SIZE" -o "$out/%s.jpg" ;;
    esac
    local expected produced
    expected=$(find "$WORK/$case" -name '*.jpg' | wc -l)
    produced=$(find "$out" -name '*.jpg' | wc -l)
    if [[ $produced -ne $expected ]]; then say "bench: $side made $produced of $expected thumbnails"; exit 1; fi
    awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$stats"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# bench_case CASE DESCRIPTION
bench_case() {
    local case=$1 description=$2
    local files bytes
    files=$(find "$WORK/$case" -name '*.jpg' | wc -l)
    bytes=$(find "$WORK/$case" -name '*.jpg' -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s / 1e6 }')
    declare -A times cpus mem
    local side t m c
    for side in gearbox vips1 xargs; do run_once "$side" "$case" >/dev/null; times[$side]=""; cpus[$side]=""; mem[$side]=0; done # warm up
    for ((i = 0; i < ROUNDS; i++)); do
        for side in gearbox vips1 xargs; do
            read -r t m c < <(run_once "$side" "$case")
            times[$side]+="$t "
            cpus[$side]+="$c "
            ((m > mem[$side])) && mem[$side]=$m
        done
    done
    printf '\n%s: %s files, %s MB\n' "$description" "$files" "$bytes"
    printf '  %-42s %8s %9s %11s %9s %10s\n' "" "wall" "files/s" "vs gearbox" "CPU" "peak RSS"
    local g; g=$(printf '%s\n' ${times[gearbox]} | median)
    for side in gearbox vips1 xargs; do
        local label med cpu
        case $side in
            gearbox) label="gearbox batch (embedded farm, $CORES workers)" ;;
            vips1) label="vipsthumbnail, one process" ;;
            xargs) label="xargs -P$CORES -n$XARGS_N vipsthumbnail" ;;
        esac
        med=$(printf '%s\n' ${times[$side]} | median)
        cpu=$(printf '%s\n' ${cpus[$side]} | median)
        printf '  %-42s %7ss %9s %11s %9ss %8sMB\n' "$label" "$med" \
            "$(awk -v f="$files" -v t="$med" 'BEGIN { printf "%.1f", f / t }')" \
            "$(awk -v g="$g" -v t="$med" 'BEGIN { printf "%.2fx", t / g }')" "$cpu" "$((mem[$side] / 1024))"
    done
    local best gc bestcpu
    best=$(printf '%s\n' "$(printf '%s\n' ${times[vips1]} | median)" "$(printf '%s\n' ${times[xargs]} | median)" | sort -g | head -1)
    gc=$(printf '%s\n' ${cpus[gearbox]} | median)
    bestcpu=$(printf '%s\n' "$(printf '%s\n' ${cpus[vips1]} | median)" "$(printf '%s\n' ${cpus[xargs]} | median)" | sort -g | head -1)
    awk -v g="$g" -v b="$best" -v gc="$gc" -v bc="$bestcpu" 'BEGIN {
        printf "  farm overhead over the fastest raw libvips run: wall %+.1f%%, CPU time %+.1f%%\n", (g - b) / b * 100, (gc - bc) / bc * 100 }'
}

say "bench: replicating photographs"
replicate photos "$COPIES" "$PHOTOS"/nature/*.jpg
large=()
for f in "$PHOTOS"/nature/*.jpg "$PHOTOS"/*.jpg; do
    (($(stat -c %s "$f") > 1000000)) && large+=("$f")
done
replicate large "$LARGE_COPIES" "${large[@]}"

printf 'gearbox batch vs vipsthumbnail (%s), -s %s, median of %s rounds, %s cores\n' \
    "$(vipsthumbnail --vips-version 2>/dev/null | head -1 || echo 'libvips ?')" "$SIZE" "$ROUNDS" "$CORES"
if [[ " $CASES " == *" photos "* ]]; then
    bench_case photos "Nature photographs (1680x1050 to 2560x1600, 80 KB-1.2 MB)"
fi
if [[ " $CASES " == *" large "* ]]; then
    bench_case large "Photographs over 1 MB (1.0-1.2 MB at up to 2560x1600, and 16 MB at 5640x3172)"
fi
