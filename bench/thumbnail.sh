#!/usr/bin/env bash
# Thumbnails the fixture photographs to 200x150 with `gearbox thumbnail` and with `vipsthumbnail`
# in the same run, and prints the median wall time of each, their ratio, and peak memory.
#
#   bench/thumbnail.sh            # 5 rounds
#   ROUNDS=9 bench/thumbnail.sh
#
# Cases: the single 5640x3172 photograph (16 MB), and all 13 photographs given to one process.
# Targets: single photo within 1.1x of vipsthumbnail; the set faster than vipsthumbnail.
set -euo pipefail

ROUNDS="${ROUNDS:-5}"
SIZE="${SIZE:-200x150}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

source "$ROOT/bench/common.sh"
LARGE=("$PHOTOS/Elephants_5640x3172.jpg")
ALL=("$PHOTOS"/nature/*.jpg "$PHOTOS/Elephants_5640x3172.jpg")

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

# run_once TOOL FILES... -> prints "seconds peak_kb user_seconds system_seconds"
run_once() {
    local tool=$1; shift
    rm -rf "$OUT/$tool"; mkdir -p "$OUT/$tool"
    local stats="$OUT/stats"
    case $tool in
        gearbox) /usr/bin/time -f '%e %M %U %S' -o "$stats" "$GEARBOX" thumbnail "$@" -s "$SIZE" -o "$OUT/$tool/%s.jpg" ;;
        vipsthumbnail) /usr/bin/time -f '%e %M %U %S' -o "$stats" vipsthumbnail "$@" -s "$SIZE" -o "$OUT/$tool/%s.jpg" ;;
    esac
    local produced; produced=$(ls "$OUT/$tool" | wc -l)
    if [[ $produced -ne $# ]]; then say "bench: $tool made $produced of $# thumbnails"; exit 1; fi
    cat "$stats"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# bench_case NAME FILES...
bench_case() {
    local name=$1; shift
    local g_times=() v_times=() g_cpu=() v_cpu=() g_mem=0 v_mem=0 t m u k
    run_once gearbox "$@" >/dev/null; run_once vipsthumbnail "$@" >/dev/null # warm the page cache
    for ((i = 0; i < ROUNDS; i++)); do
        # Alternate which goes first so neither always runs on a warmer machine.
        for tool in $([[ $((i % 2)) -eq 0 ]] && echo "gearbox vipsthumbnail" || echo "vipsthumbnail gearbox"); do
            read -r t m u k < <(run_once "$tool" "$@")
            if [[ $tool == gearbox ]]; then g_times+=("$t"); g_cpu+=("$(awk -v u="$u" -v k="$k" 'BEGIN { print u + k }')"); ((m > g_mem)) && g_mem=$m
            else v_times+=("$t"); v_cpu+=("$(awk -v u="$u" -v k="$k" 'BEGIN { print u + k }')"); ((m > v_mem)) && v_mem=$m; fi
        done
    done
    local g v gc vc
    g=$(printf '%s\n' "${g_times[@]}" | median)
    v=$(printf '%s\n' "${v_times[@]}" | median)
    gc=$(printf '%s\n' "${g_cpu[@]}" | median)
    vc=$(printf '%s\n' "${v_cpu[@]}" | median)
    printf '%-32s %8s %8s %7s %9s %9s %9s %9s\n' "$name" "${g}s" "${v}s" \
        "$(awk -v g="$g" -v v="$v" 'BEGIN { printf "%.2fx", g / v }')" \
        "${gc}s" "${vc}s" "$((g_mem / 1024))MB" "$((v_mem / 1024))MB"
}

printf 'gearbox thumbnail vs vipsthumbnail (%s), -s %s, median of %s rounds, %s cores\n' \
    "$(vipsthumbnail --vips-version 2>/dev/null | head -1 || echo 'libvips ?')" "$SIZE" "$ROUNDS" "$(nproc)"
printf '%-32s %8s %8s %7s %9s %9s %9s %9s\n' "" "wall" "wall" "wall" "cpu" "cpu" "peak RSS" "peak RSS"
printf '%-32s %8s %8s %7s %9s %9s %9s %9s\n' "case" "gearbox" "vipsthu." "ratio" "gearbox" "vipsthu." "gearbox" "vipsthu."
bench_case "1 photo, 5640x3172 (16 MB)" "${LARGE[@]}"
bench_case "${#ALL[@]} photos, one process ($(du -cbL "${ALL[@]}" | tail -1 | awk '{ print int($1 / 1048576) }') MB)" "${ALL[@]}"
