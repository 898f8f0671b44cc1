#!/usr/bin/env bash
# Installs the system packages Gearbox needs to build, test and run, when they are missing.
set -euo pipefail

packages=(pkg-config libvips-dev libvips-tools gearman-job-server gearman-tools curl)
# The job server's durable store, and the sqlite3 tool the store tests use to damage a store on purpose.
packages+=(libsqlite3-dev sqlite3)
# A shared job store: the tests start throwaway PostgreSQL clusters of their own (initdb, postgres, psql).
packages+=(postgresql)
# The multi-host tests put servers and workers on hosts of their own, in network namespaces.
packages+=(iproute2)
# bench/server.sh drives both servers with a small C load generator on libgearman, gearmand's own library.
packages+=(libgearman-dev gcc)
# The upload front's browser test drives headless Chromium through chromedriver; its metadata tests write and
# read photos' EXIF, GPS and XMP with exiftool (which, with gifsicle, also makes the generated fixtures).
packages+=(chromium chromium-driver libimage-exiftool-perl gifsicle)
# TLS tests make certificates with openssl and use it as a TLS admin client; the Python peers (OpenDev's
# gear) are installed below with pip.
packages+=(openssl python3 python3-pip)
# The README's PHP example runs in a test, with pecl gearman.
packages+=(php-cli php-gearman)
# The metrics tests have the real Prometheus scrape the server and worker, and lint with its promtool.
packages+=(prometheus)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

# Python packages the tests use, in .build/python (PYTHONPATH), leaving the system's Python alone.
install_python_packages() {
    local root target
    root="$(cd "$(dirname "$0")/.." && pwd)"
    target="$root/.build/python"
    if [ ! -d "$target/gear" ]; then
        echo "Installing Python packages for the tests into $target: gear"
        python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$target" gear
    fi
}

if [ ${#missing[@]} -eq 0 ]; then
    install_python_packages
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing system packages: ${missing[*]}" >&2
    echo "       this machine has no apt-get; install their equivalents by hand." >&2
    exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "error: missing system packages: ${missing[*]}" >&2
        echo "       run as root, or: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
else
    SUDO=
fi

echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_python_packages
