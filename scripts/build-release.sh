#!/usr/bin/env bash
# Builds a release product the one way every script and `make` builds it, and prints the binary's path.
# The Swift runtime and Foundation are linked in (--static-swift-stdlib): a process then resolves a
# hundred fewer libraries' symbols as it starts, which is most of what `gearbox thumbnail` on one photo
# spent before libvips began (bench/thumbnail.sh). Build output goes to standard error.
#
#   scripts/build-release.sh [PRODUCT]     # default: gearbox
set -euo pipefail
product="${1:-gearbox}"
flags=(-c release --static-swift-stdlib)
swift build "${flags[@]}" --product "$product" >&2
echo "$(swift build "${flags[@]}" --show-bin-path)/$product"
