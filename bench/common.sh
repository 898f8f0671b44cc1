# Shared set-up of the image benchmarks, sourced by bench/thumbnail.sh and bench/batch.sh: checks the tools
# they compare against, fetches the fixture photographs, builds the release gearbox and sets GEARBOX, PHOTOS.

say() { printf '%s\n' "$*" >&2; }

if [[ ! -x /usr/bin/time ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
    else
        say "bench: /usr/bin/time is missing: run 'apt-get install time' as root"; exit 1
    fi
fi
command -v vipsthumbnail >/dev/null || { say "bench: vipsthumbnail is missing: apt-get install libvips-tools"; exit 1; }

fixtures/fetch.sh
say "bench: building gearbox (release)"
GEARBOX="$(scripts/build-release.sh 2>/dev/null || scripts/build-release.sh)"
PHOTOS="$ROOT/fixtures/cache/photos"
