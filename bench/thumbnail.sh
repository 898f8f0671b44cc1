#!/usr/bin/env bash
# Thumbnails photographs to 200x150 with `gearbox thumbnail` and with `vipsthumbnail` in the same run,
# alternating which goes first, and prints the median wall time of each, their ratio, CPU and peak memory.
#
#   bench/thumbnail.sh            # 15 rounds
#   ROUNDS=31 bench/thumbnail.sh
#
# Cases: one 3840x2400 photograph (7.6 MB, made from the 5640x3172 one at JPEG quality 97), the 5640x3172
# photograph itself (16 MB), an 8x8 image (what starting costs, nearly all of it), and all 13 photographs
# given to one process. Targets: one photo within 1.10x of vipsthumbnail; the set faster than vipsthumbnail.
# gearbox runs vipsthumbnail's own pipeline (`--pipeline vipsthumbnail`: the same shrink on load), so that both
# do the same work; PIPELINE=fast measures gearbox's default instead.
set -euo pipefail

ROUNDS="${ROUNDS:-15}"
SIZE="${SIZE:-200x150}"
PIPELINE="${PIPELINE:-vipsthumbnail}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

source "$ROOT/bench/common.sh"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

ELEPHANTS="$PHOTOS/Elephants_5640x3172.jpg"
vips thumbnail "$ELEPHANTS" "$OUT/Elephants_3840x2400.jpg[Q=97]" 3840 --height 2400 --size force
vips black "$OUT/Tiny_8x8.jpg" 8 8
ALL=("$PHOTOS"/nature/*.jpg "$ELEPHANTS")

# run_once TOOL FILES... -> prints "seconds peak_kb cpu_seconds"; the wall time to the microsecond.
run_once() {
    local tool=$1; shift
    rm -rf "$OUT/$tool"; mkdir -p "$OUT/$tool"
    local stats="$OUT/stats" start end
    start=$(date +%s%N)
    case $tool in
        gearbox) /usr/bin/time -f '%M %U %S' -o "$stats" "$GEARBOX" thumbnail "$@" -s "$SIZE" --pipeline "$PIPELINE" -o "$OUT/$tool/%s.jpg" ;;
        vipsthumbnail) /usr/bin/time -f '%M %U %S' -o "$stats" vipsthumbnail "$@" -s "$SIZE" -o "$OUT/$tool/%s.jpg" ;;
    esac
    end=$(date +%s%N)
    local produced; produced=$(ls "$OUT/$tool" | wc -l)
    if [[ $produced -ne $# ]]; then say "bench: $tool made $produced of $# thumbnails"; exit 1; fi
    awk -v ns=$((end - start)) '{ printf "%.4f %s %.2f\n", ns / 1e9, $1, $2 + $3 }' "$stats"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# bench_case NAME FILES...
bench_case() {
    local name=$1; shift
    local g_times=() v_times=() g_cpu=() v_cpu=() g_mem=0 v_mem=0 t m c
    run_once gearbox "$@" >/dev/null; run_once vipsthumbnail "$@" >/dev/null # warm the page cache
    for ((i = 0; i < ROUNDS; i++)); do
        # Alternate which goes first so neither always runs on a warmer machine.
        for tool in $([[ $((i % 2)) -eq 0 ]] && echo "gearbox vipsthumbnail" || echo "vipsthumbnail gearbox"); do
            read -r t m c < <(run_once "$tool" "$@")
            if [[ $tool == gearbox ]]; then g_times+=("$t"); g_cpu+=("$c"); ((m > g_mem)) && g_mem=$m
            else v_times+=("$t"); v_cpu+=("$c"); ((m > v_mem)) && v_mem=$m; fi
        done
    done
    local g v gc vc
    g=$(printf '%s\n' "${g_times[@]}" | median)
    v=$(printf '%s\n' "${v_times[@]}" | median)
    gc=$(printf '%s\n' "${g_cpu[@]}" | median)
    vc=$(printf '%s\n' "${v_cpu[@]}" | median)
    printf '%-34s %9s %9s %7s %9s %9s %9s %9s\n' "$name" \
        "$(awk -v s="$g" 'BEGIN { printf "%.1fms", s * 1000 }')" "$(awk -v s="$v" 'BEGIN { printf "%.1fms", s * 1000 }')" \
        "$(awk -v g="$g" -v v="$v" 'BEGIN { printf "%.2fx", g / v }')" \
        "${gc}s" "${vc}s" "$((g_mem / 1024))MB" "$((v_mem / 1024))MB"
}

printf 'gearbox thumbnail --pipeline %s vs vipsthumbnail (%s), -s %s, median of %s rounds, %s cores\n' \
    "$PIPELINE" "$(vipsthumbnail --vips-version 2>/dev/null | head -1 || echo 'libvips ?')" "$SIZE" "$ROUNDS" "$(nproc)"
printf '%-34s %9s %9s %7s %9s %9s %9s %9s\n' "" "wall" "wall" "wall" "cpu" "cpu" "peak RSS" "peak RSS"
printf '%-34s %9s %9s %7s %9s %9s %9s %9s\n' "case" "gearbox" "vipsthu." "ratio" "gearbox" "vipsthu." "gearbox" "vipsthu."
bench_case "1 photo, 3840x2400 (7.6 MB)" "$OUT/Elephants_3840x2400.jpg"
bench_case "1 photo, 5640x3172 (16 MB)" "$ELEPHANTS"
bench_case "1 image, 8x8 (start-up)" "$OUT/Tiny_8x8.jpg"
bench_case "${#ALL[@]} photos, one process ($(du -cbL "${ALL[@]}" | tail -1 | awk '{ print int($1 / 1048576) }') MB)" "${ALL[@]}"
echo "Targets: one photo within 1.10x of vipsthumbnail; the set faster than it (below 1.00x)."
