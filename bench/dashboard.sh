#!/usr/bin/env bash
# The operator's dashboard under load: `gearbox server --metrics-port` with FUNCTIONS (10,000) functions
# and QUEUED (1,000,000) background jobs spread over them, DEAD dead letters and an idle worker connection;
# then, REQUESTS times each, the page (`/`), the overview API with its default 200 rows and with every
# function (`?limit=10000`), and one job's status. Prints the medians and 99th percentiles, and the server's
# resident memory.
#
#   bench/dashboard.sh
#   FUNCTIONS=1000 QUEUED=100000 bench/dashboard.sh
set -euo pipefail

FUNCTIONS="${FUNCTIONS:-10000}"
QUEUED="${QUEUED:-1000000}"
DEAD="${DEAD:-1000}"
REQUESTS="${REQUESTS:-50}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# shellcheck source=bench/server-common.sh
source bench/server-common.sh
say "bench: building gearbox (release)"
GEARBOX="$(scripts/build-release.sh 2>/dev/null || scripts/build-release.sh)"

PORT="$(free_port)"
OPERATOR_PORT="$(free_port)"
"$GEARBOX" server --port "$PORT" --metrics-port "$OPERATOR_PORT" --threads 2 --dead-max "$DEAD" >/dev/null 2>&1 &
SERVER_PID=$!
wait_for_server gearbox 400

python3 bench/dashboard_probe.py --port "$PORT" --operator-port "$OPERATOR_PORT" --server-pid "$SERVER_PID" \
    --functions "$FUNCTIONS" --queued "$QUEUED" --dead "$DEAD" --requests "$REQUESTS"
