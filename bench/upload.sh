#!/usr/bin/env bash
# Uploads a real photograph to `gearbox front` (release build, embedded farm) from many clients at once and
# prints uploads/s, p50/p99 latency, and the front's overhead over the jobs' own time.
#
#   bench/upload.sh                               # 200 uploads, 8 at a time, Garden.jpg (2560x1600)
#   UPLOADS=400 CONCURRENCY=16 bench/upload.sh
#   PHOTO=fixtures/cache/photos/Elephants_5640x3172.jpg bench/upload.sh
#
# Each upload makes three sizes (small=100x100, medium=640x480, large=1600x1200). The front reports each
# size's job time (`ms`: submit to result); overhead = the upload's latency seen by the client minus its
# slowest size's job time: body upload, parsing, the header check, storing, and answering.
set -euo pipefail

UPLOADS="${UPLOADS:-200}"
CONCURRENCY="${CONCURRENCY:-8}"
SIZES="${SIZES:-small=100x100,medium=640x480,large=1600x1200}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '%s\n' "$*" >&2; }

fixtures/fetch.sh
PHOTO="${PHOTO:-$ROOT/fixtures/cache/photos/nature/Garden.jpg}"
say "bench: building gearbox (release)"
swift build -c release --product gearbox >/dev/null 2>&1 || swift build -c release --product gearbox
GEARBOX="$(swift build -c release --show-bin-path)/gearbox"

STORAGE="$(mktemp -d)"
LOG="$(mktemp)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$GEARBOX" front --port "$PORT" --storage "$STORAGE" --sizes "$SIZES" >"$LOG" 2>&1 &
FRONT=$!
trap 'kill $FRONT 2>/dev/null; wait $FRONT 2>/dev/null; rm -rf "$STORAGE" "$LOG"' EXIT

for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { say "bench: the front did not become ready"; cat "$LOG" >&2; exit 1; }

say "bench: $UPLOADS uploads of $(basename "$PHOTO") ($(stat -c %s "$PHOTO") bytes), $CONCURRENCY at a time, sizes $SIZES"
say "bench: $(nproc) cores; the front, its job server and its $(nproc) image workers share them with the clients"
python3 - "$PORT" "$PHOTO" "$UPLOADS" "$CONCURRENCY" <<'PY'
import http.client, json, os, statistics, sys, threading, time

port, photo, uploads, concurrency = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = open(photo, "rb").read()
boundary = "gearbox-bench-boundary"
body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{os.path.basename(photo)}\"\r\n"
        f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept": "application/json"}

def upload(connection):
    started = time.perf_counter()
    connection.request("POST", "/photos", body=body, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    latency = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise RuntimeError(f"{response.status}: {payload[:200]!r}")
    photo = json.loads(payload)["photos"][0]
    jobs = [size["ms"] for size in photo["sizes"].values()]
    return latency, max(jobs), photo["ms"]

# Warm up: libvips, connections, caches.
warm = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
for _ in range(3):
    upload(warm)
warm.close()

results, errors, lock = [], [], threading.Lock()
remaining = iter(range(uploads))

def client():
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while True:
        with lock:
            if next(remaining, None) is None:
                break
        try:
            result = upload(connection)
            with lock:
                results.append(result)
        except Exception as error:
            with lock:
                errors.append(str(error))
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.close()

started = time.perf_counter()
threads = [threading.Thread(target=client) for _ in range(concurrency)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
elapsed = time.perf_counter() - started

def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]

latencies = [r[0] for r in results]
slowest = [r[1] for r in results]
overheads = [r[0] - r[1] for r in results]
print(f"uploads:            {len(results)} ok, {len(errors)} failed, in {elapsed:.2f} s")
print(f"throughput:         {len(results) / elapsed:.1f} uploads/s ({3 * len(results) / elapsed:.1f} sizes/s)")
print(f"latency:            p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms")
print(f"slowest size's job: p50 {percentile(slowest, 50):.1f} ms, p99 {percentile(slowest, 99):.1f} ms")
print(f"front overhead:     p50 {percentile(overheads, 50):.1f} ms, p99 {percentile(overheads, 99):.1f} ms "
      f"(median share of latency {statistics.median(o / l for o, l in zip(overheads, latencies)) * 100:.0f}%)")
if errors:
    print("first error:", errors[0])
    sys.exit(1)
PY
