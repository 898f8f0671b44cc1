"""The HTTP side of bench/upload.sh: concurrent uploads timed from the client, or the bytes each format takes."""
import http.client, json, os, statistics, sys, threading, time


def form(path):
    boundary = "gearbox-bench-boundary"
    data = open(path, "rb").read()
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{os.path.basename(path)}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept": "application/json"}


def upload(connection, body, headers):
    started = time.perf_counter()
    connection.request("POST", "/photos", body=body, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    if response.status != 200:
        raise RuntimeError(f"{response.status}: {payload[:200]!r}")
    return (time.perf_counter() - started) * 1000, json.loads(payload)["photos"][0]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


IDLE_UPLOADS = 5


def files_ending(folder, suffix):
    return sum(1 for _, _, names in os.walk(folder) for name in names if name.endswith(suffix))


def wait_for_avif(storage, expected, limit=600):
    deadline = time.perf_counter() + limit
    while files_ending(storage, ".avif") < expected and time.perf_counter() < deadline:
        time.sleep(0.1)
    return files_ending(storage, ".avif") >= expected


def throughput(port, name, photo, uploads, concurrency, storage):
    body, headers = form(photo)
    warm = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    _, first = upload(warm, body, headers)
    warm.close()
    files = sum(len(size.get("variants", [])) for size in first["sizes"].values())
    pending = sum(len(size.get("pending", [])) * len([v for v in size.get("variants", []) if v["format"] == size["format"]])
                  for size in first["sizes"].values())
    # One upload at a time on an idle farm, as a person uploading a photo sees it: each waits for the
    # previous photo's background files first.
    idle = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    for index in range(IDLE_UPLOADS):
        wait_for_avif(storage, pending * (index + 1))
        latency, _ = upload(connection, body, headers)
        idle.append(latency)
    connection.close()
    wait_for_avif(storage, pending * (1 + IDLE_UPLOADS))
    done_before = 1 + IDLE_UPLOADS

    latencies, errors, lock = [], [], threading.Lock()
    remaining = iter(range(uploads))

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while True:
            with lock:
                if next(remaining, None) is None:
                    break
            try:
                latency, _ = upload(connection, body, headers)
                with lock:
                    latencies.append(latency)
            except Exception as error:
                with lock:
                    errors.append(str(error))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    rate = len(latencies) / elapsed
    background = "-"
    if pending:
        # Every photo's AVIF files: those uploaded before and each measured one's.
        made = wait_for_avif(storage, pending * (done_before + len(latencies)))
        background = f"{time.perf_counter() - started - elapsed:.1f} s" if made else "not in 600 s"
    print(f"| {name} | {files} | {statistics.median(idle):,.0f} | {rate:.2f} | {rate * files:.1f} | "
          f"{percentile(latencies, 50):,.0f} | {percentile(latencies, 99):,.0f} | {background} |", flush=True)
    if errors:
        print("errors:", len(errors), "first:", errors[0])
        sys.exit(1)


def bytes_saved(port, folder):
    totals = {}
    photos = 0
    for root, _, names in os.walk(folder):
        for name in sorted(names):
            if not name.lower().endswith((".jpg", ".jpeg", ".png")):
                continue
            body, headers = form(os.path.join(root, name))
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            _, photo = upload(connection, body, headers)
            connection.close()
            photos += 1
            for size, entry in photo["sizes"].items():
                for variant in entry.get("variants", []):
                    if variant.get("bytes"):
                        totals.setdefault(size, {}).setdefault(variant["format"], 0)
                        totals[size][variant["format"]] += variant["bytes"]
    print(f"{photos} photographs")
    print("| size | JPEG bytes | WebP bytes | WebP/JPEG | AVIF bytes | AVIF/JPEG |")
    print("|---|---:|---:|---:|---:|---:|")
    for size, formats in totals.items():
        jpeg, webp, avif = formats.get("jpeg", 0), formats.get("webp", 0), formats.get("avif", 0)
        print(f"| {size} | {jpeg:,} | {webp:,} | {webp / jpeg:.2f} | {avif:,} | {avif / jpeg:.2f} |")
    all_jpeg = sum(f.get("jpeg", 0) for f in totals.values())
    all_webp = sum(f.get("webp", 0) for f in totals.values())
    all_avif = sum(f.get("avif", 0) for f in totals.values())
    print(f"| all | {all_jpeg:,} | {all_webp:,} | {all_webp / all_jpeg:.2f} | {all_avif:,} | {all_avif / all_jpeg:.2f} |")
    print(f"WebP saves {100 * (1 - all_webp / all_jpeg):.0f}% of JPEG's bytes, AVIF {100 * (1 - all_avif / all_jpeg):.0f}%")


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "throughput":
        throughput(int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), sys.argv[7])
    else:
        bytes_saved(int(sys.argv[2]), sys.argv[3])
