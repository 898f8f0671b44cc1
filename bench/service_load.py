"""The client side of bench/service.sh: load generators (HTTP, Gearman with OpenDev's gear, libvips in-process),
RSS sampling of the service's processes, output checks, SSIM against a Lanczos3 reference, and the report.

Every run appends one JSON line to a results file; `report` reads them all and prints medians over rounds.

  service_load.py http   --name N --workload W --url URL [--body FILE --prefix TEXT] ...   (see --help)
  service_load.py gear   --name N --workload W --port P --body FILE ...
  service_load.py vips   --name N --workload W --body FILE --processes N ...
  service_load.py probe  --url URL --requests N --clients C      (the load generator's own ceiling)
  service_load.py ssim   --outputs DIR --results FILE             (adds mean SSIM per row)
  service_load.py report --results FILE
"""
import argparse, hashlib, http.client, json, math, os, random, statistics, struct, sys, threading, time
import urllib.parse

# ---------------------------------------------------------------------------------------------- workloads

WIDTHS = 16  # boxes 485..500 wide


def boxes(workload, requests, round_index):
    """The boxes of one run: the same for every system in a round, new ones each round (so that the front's
    cold URLs are never cached from an earlier round). `diverse`: every request a different WxH, width
    485..500, height 500 downwards (wide enough photos are fitted by width, so the outputs are 485..500
    wide); `burst`: one box for all."""
    if workload == "burst":
        return [(500, 500 + round_index)] * requests
    start = round_index * requests
    out = [(485 + g % WIDTHS, 500 - g // WIDTHS) for g in range(start, start + requests)]
    random.Random(round_index).shuffle(out)
    return out


def warmup_boxes(count):
    """Boxes no measured run uses (taller than 500: the same outputs, different URLs)."""
    return [(485 + i % WIDTHS, 600 + i // WIDTHS) for i in range(count)]


def fitted(source, box):
    sw, sh = source
    scale = min(box[0] / sw, box[1] / sh)
    return max(1, round(sw * scale)), max(1, round(sh * scale))


def jpeg_size(data):
    """(width, height) from a JPEG's SOF marker, or None when it is not a JPEG."""
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def image_size(path):
    with open(path, "rb") as f:
        size = jpeg_size(f.read())
    if not size:
        raise SystemExit(f"{path}: not a JPEG")
    return size


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


# ------------------------------------------------------------------------------------------- RSS sampling

def descendants(pid):
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(child) for child in f.read().split())
        except OSError:
            pass
    return found


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pids):
    """utime + stime of the processes and their descendants, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    seen = set()
    for pid in pids:
        for each in descendants(pid):
            if each in seen:
                continue
            seen.add(each)
            try:
                with open(f"/proc/{each}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
    return total / ticks


class RSSSampler:
    """The peak over time of the summed VmRSS of some processes and all their descendants (the sum of each
    one's VmHWM would overstate it: their peaks need not coincide). Sampled every 20 ms on a thread."""

    def __init__(self, pids, interval=0.02, own=False):
        self.pids, self.interval, self.own = list(pids), interval, own
        self.peak_kb = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def sample(self):
        pids = set()
        for pid in self.pids:
            pids.update(descendants(pid))
        if self.own:
            pids.discard(os.getpid())
        total = sum(rss_kb(pid) for pid in pids)
        self.peak_kb = max(self.peak_kb, total)

    def run(self):
        while not self.stopping.is_set():
            self.sample()
            self.stopping.wait(self.interval)

    def __enter__(self):
        self.sample()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()
        self.sample()


# ------------------------------------------------------------------------------------------ load drivers

class Run:
    """One measured run: latencies, outputs (distinct bytes by hash, with how often each came back and for
    which boxes), errors."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies, self.errors = [], []
        self.outputs, self.counts, self.boxes_of = {}, {}, {}

    def record(self, box, latency_ms, data):
        digest = hashlib.sha1(data).hexdigest()[:16]
        with self.lock:
            self.latencies.append(latency_ms)
            self.outputs.setdefault(digest, data)
            self.counts[digest] = self.counts.get(digest, 0) + 1
            self.boxes_of.setdefault(digest, set()).add(box)

    def fail(self, message):
        with self.lock:
            self.errors.append(message)

    def check(self, source):
        """Every output a JPEG of the box's fitted size (1 px of rounding either way)."""
        bad = []
        for digest, data in self.outputs.items():
            size = jpeg_size(data)
            for box in self.boxes_of[digest]:
                want = fitted(source, box)
                if size is None or abs(size[0] - want[0]) > 1 or abs(size[1] - want[1]) > 1:
                    bad.append(f"box {box[0]}x{box[1]}: got {'not a JPEG' if size is None else '%dx%d' % size}, "
                               f"want {want[0]}x{want[1]}: {data[:80]!r}")
        return bad


def drive(boxes_list, clients, make_worker):
    """Runs boxes_list through `clients` threads; make_worker() returns (call(box) -> bytes, close())."""
    run = Run()
    todo = iter(list(enumerate(boxes_list)))
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1, timeout=60)

    def client():
        try:
            call, close = make_worker()
        except Exception as error:
            run.fail(f"connecting: {error}")
            ready.abort()
            return
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            close()
            return
        while True:
            with lock:
                item = next(todo, None)
            if item is None:
                break
            _, box = item
            started = time.perf_counter()
            try:
                data = call(box)
                run.record(box, (time.perf_counter() - started) * 1000, data)
            except Exception as error:
                run.fail(f"box {box[0]}x{box[1]}: {error}")
        close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        ready.wait()  # connections open: time the requests only
    except threading.BrokenBarrierError:
        for thread in threads:
            thread.join()
        raise SystemExit(f"could not connect: {run.errors[0] if run.errors else 'timed out'}")
    cpu = os.times()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    run.elapsed = time.perf_counter() - started
    after = os.times()
    run.client_cpu = (after.user - cpu.user) + (after.system - cpu.system)
    return run


def http_worker(args, body):
    parsed = urllib.parse.urlsplit(args.url)
    prefix = args.prefix.encode().decode("unicode_escape") if args.prefix is not None else None
    headers = {}
    if args.unique is not None:
        headers["X-Gearman-Unique"] = args.unique
    if body is not None:
        headers["Content-Type"] = "application/octet-stream"

    def make():
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=args.timeout)
        connection.connect()
        state = {"connection": connection}

        def call(box):
            w, h = box
            target = args.url.format(w=w, h=h)
            target = target[target.index("/", len("http://")):]
            payload, request_headers = None, headers
            if body is not None:
                # Sent as two pieces with a Content-Length: no copy of the image per request.
                payload = (prefix.format(w=w, h=h).encode() if prefix else b"", body)
                request_headers = dict(headers, **{"Content-Length": str(len(payload[0]) + len(body))})
            try:
                state["connection"].request(args.method, target, body=payload, headers=request_headers)
                response = state["connection"].getresponse()
                data = response.read()
            except Exception:
                state["connection"].close()
                state["connection"] = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=args.timeout)
                raise
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {data[:200]!r}")
            return data

        return call, lambda: state["connection"].close()

    return make


def gear_driver(args, body):
    """gear Clients (one connection each; `--connections`, default 1) with `clients` jobs in flight in all: a
    submitter thread keeps the window full, each job on the connection with the fewest in flight;
    completions come back on gear's poll threads. Coalesced jobs (a shared unique) need a connection each:
    gear keys jobs by handle, and the server gives equal jobs on one connection the same handle."""
    import gear
    import queue

    finished = queue.Queue()

    class Client(gear.Client):
        in_flight = 0

        def _done(self, job):
            job.finished_at = time.perf_counter()
            finished.put(job)

        def handleWorkComplete(self, packet):
            job = super().handleWorkComplete(packet)
            self._done(job)
            return job

        def handleWorkFail(self, packet):
            job = super().handleWorkFail(packet)
            self._done(job)
            return job

        def handleWorkException(self, packet):
            job = super().handleWorkException(packet)
            self._done(job)
            return job

        def handleDisconnect(self, job):
            job = super().handleDisconnect(job)
            job.failure, job.exception = True, b"disconnected"
            self._done(job)
            return job

    clients = []
    for index in range(args.connections):
        client = Client(client_id=f"gearbox-bench-{index}")
        client.addServer("127.0.0.1", args.port)
        clients.append(client)
    for client in clients:
        client.waitForServer(timeout=30)
    prefix = args.prefix.encode().decode("unicode_escape")
    unique = args.unique.encode() if args.unique is not None else None

    def run_all(items):
        run = Run()
        pending = list(items)
        in_flight = 0
        cpu = os.times()
        started = time.perf_counter()
        while pending or in_flight:
            while pending and in_flight < args.clients:
                box = pending.pop(0)
                client = min(clients, key=lambda c: c.in_flight)
                job = gear.Job(b"thumbnail", prefix.format(w=box[0], h=box[1]).encode() + body, unique=unique)
                job.box, job.client = box, client
                job.started_at = time.perf_counter()
                client.submitJob(job, timeout=args.timeout)
                client.in_flight += 1
                in_flight += 1
            try:
                job = finished.get(timeout=args.timeout)
            except queue.Empty:
                raise SystemExit(f"{args.name}: no job finished in {args.timeout:.0f} s ({in_flight} in flight)")
            job.client.in_flight -= 1
            in_flight -= 1
            if job.failure:
                run.fail(f"box {job.box[0]}x{job.box[1]}: {job.exception or 'WORK_FAIL'}")
            else:
                run.record(job.box, (job.finished_at - job.started_at) * 1000, b"".join(job.data))
        run.elapsed = time.perf_counter() - started
        after = os.times()
        run.client_cpu = (after.user - cpu.user) + (after.system - cpu.system)
        return run

    def close():
        for client in clients:
            client.shutdown()

    return close, run_all


# libvips in one process per core: the worker side.
_VIPS_DATA = None


def _vips_init(path):
    global _VIPS_DATA
    import pyvips
    pyvips.cache_set_max(0)
    with open(path, "rb") as f:
        _VIPS_DATA = f.read()


def _jpeg_shrink(width, height, box):
    """gearbox's `pipeline=fast` (ThumbnailPipeline.swift) for a fit without crop: the largest of 8, 4, 2
    that the axis needing the most shrinking still allows, so the decode covers the box."""
    common = max(width / box[0], height / box[1])
    return next((factor for factor in (8, 4, 2) if common >= factor), 1)


def _vips_thumbnail(box):
    import pyvips
    started = time.perf_counter()
    if os.environ.get("PIPELINE", "fast") == "fast":
        header = pyvips.Image.new_from_buffer(_VIPS_DATA, "")
        shrink = _jpeg_shrink(header.width, header.height, box)
        image = pyvips.Image.new_from_buffer(_VIPS_DATA, "", shrink=shrink, access="sequential", fail_on="truncated")
        image = image.thumbnail_image(box[0], height=box[1])
    else:
        image = pyvips.Image.thumbnail_buffer(_VIPS_DATA, box[0], height=box[1])
    # The encoder settings gearbox's JPEG save uses (CVipsShim.c): Q, strip, optimize_coding.
    data = image.write_to_buffer(".jpg", Q=80, strip=True, optimize_coding=True)
    return box, (time.perf_counter() - started) * 1000, data


def vips_driver(args):
    import multiprocessing
    os.environ["VIPS_CONCURRENCY"] = "1"  # one thread per image, one image per process, as gearbox's worker
    context = multiprocessing.get_context("fork")
    pool = context.Pool(args.processes, initializer=_vips_init, initargs=(args.body,))

    def run_all(items):
        run = Run()
        cpu = os.times()
        started = time.perf_counter()
        for box, latency, data in pool.imap_unordered(_vips_thumbnail, items, chunksize=1):
            run.record(box, latency, data)
        run.elapsed = time.perf_counter() - started
        after = os.times()
        run.client_cpu = (after.user - cpu.user) + (after.system - cpu.system)
        return run

    return pool, run_all


# ------------------------------------------------------------------------------------------------ running

def save_outputs(run, folder, source_path):
    """Distinct outputs as HASH.jpg, with a manifest of how often each came back (merged across rounds)."""
    os.makedirs(folder, exist_ok=True)
    manifest_path = os.path.join(folder, "manifest.json")
    manifest = {"source": source_path, "counts": {}}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    for digest, data in run.outputs.items():
        path = os.path.join(folder, digest + ".jpg")
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
        manifest["counts"][digest] = manifest["counts"].get(digest, 0) + run.counts[digest]
    with open(manifest_path, "w") as f:
        json.dump(manifest, f)


def measure(args):
    source = image_size(args.source)
    body = None
    if args.body:
        with open(args.body, "rb") as f:
            body = f.read()
    measured = boxes(args.workload, args.requests, args.round)
    warm = warmup_boxes(args.warmup) if args.workload != "burst" else [measured[0]] * args.warmup
    if args.skip_warmup:
        warm = []
    pids = [int(p) for p in args.pids.split(",") if p] if args.pids else []
    closer = None
    if args.mode == "http":
        make = http_worker(args, body)

        def run_all(items):
            return drive(items, args.clients, make)
    elif args.mode == "gear":
        closer, run_all = gear_driver(args, body)
    else:
        pool, run_all = vips_driver(args)
        pids = [p.pid for p in pool._pool]
        closer = pool.terminate

    try:
        if warm:
            # Warm-up, and a check that the service answers what it should before anything is counted.
            warm_run = run_all(warm)
            problems = warm_run.errors + warm_run.check(source)
            if problems:
                raise SystemExit(f"{args.name}: warm-up failed ({len(problems)} of {len(warm)}): {problems[0]}")
        service_cpu = cpu_seconds(pids)
        with RSSSampler(pids) as sampler:
            run = run_all(measured)
        service_cpu = cpu_seconds(pids) - service_cpu
    finally:
        if closer:
            closer()
    problems = run.errors + run.check(source)
    if problems:
        raise SystemExit(f"{args.name}: {len(problems)} of {len(measured)} requests failed or were wrong: "
                         f"{problems[0]}")
    if args.outputs:
        save_outputs(run, os.path.join(args.outputs, f"{args.workload}.{args.name}"), args.source)
    result = {
        "name": args.name, "workload": args.workload, "round": args.round, "requests": len(measured),
        "clients": args.clients, "images_per_s": len(measured) / run.elapsed,
        "p50_ms": percentile(run.latencies, 50), "p99_ms": percentile(run.latencies, 99),
        "rss_mb": sampler.peak_kb / 1024 if pids else None,
        "service_cpu_ms": 1000 * service_cpu / len(measured) if pids else None,
        "client_cpu_s": run.client_cpu, "elapsed_s": run.elapsed, "distinct_outputs": len(run.outputs),
    }
    line = json.dumps(result)
    if args.results:
        with open(args.results, "a") as f:
            f.write(line + "\n")
    print(f"  {args.workload:<8} {args.name:<16} round {args.round + 1}: {result['images_per_s']:7.1f} images/s  "
          f"p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
          f"RSS {'-' if result['rss_mb'] is None else '%.0f MB' % result['rss_mb']}  "
          f"CPU {'-' if result['service_cpu_ms'] is None else '%.1f ms' % result['service_cpu_ms']}/image  "
          f"client CPU {100 * run.client_cpu / run.elapsed:.0f}% of a core", file=sys.stderr, flush=True)


def probe(args):
    """The load generator against a trivial endpoint: its own ceiling and its CPU per request."""
    def make():
        parsed = urllib.parse.urlsplit(args.url)
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        connection.connect()

        def call(_):
            connection.request("GET", parsed.path or "/")
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            return data
        return call, connection.close

    drive([(0, 0)] * 200, args.clients, make)
    run = drive([(0, 0)] * args.requests, args.clients, make)
    if run.errors:
        raise SystemExit(f"probe: {run.errors[0]}")
    print(json.dumps({"requests_per_s": args.requests / run.elapsed,
                      "client_cpu_ms_per_request": 1000 * run.client_cpu / args.requests,
                      "p50_ms": percentile(run.latencies, 50)}))


# ---------------------------------------------------------------------------------------------------- SSIM

def gaussian_window(size=11, sigma=1.5):
    import numpy as np
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def filter2(image, window):
    """'valid' separable convolution with the gaussian window (as MATLAB's filter2(w, x, 'valid'))."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view
    rows = sliding_window_view(image, len(window), axis=1) @ window
    return sliding_window_view(rows, len(window), axis=0) @ window


def ssim(a, b):
    """Mean SSIM (Wang, Bovik, Sheikh, Simoncelli 2004): 11x11 gaussian window, sigma 1.5, K1 0.01, K2 0.03,
    L 255, over the valid region, on float64 luminance; no downsampling."""
    import numpy as np
    w = gaussian_window()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = filter2(a, w), filter2(b, w)
    aa, bb, ab = filter2(a * a, w) - mu_a ** 2, filter2(b * b, w) - mu_b ** 2, filter2(a * b, w) - mu_a * mu_b
    m = ((2 * mu_a * mu_b + c1) * (2 * ab + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (aa + bb + c2))
    return float(m.mean())


def luminance(image):
    """BT.601 luma (as JPEG's Y) of an 8-bit sRGB pyvips image, as a float64 array."""
    import numpy as np
    if image.bands == 1:
        return image.numpy().astype(np.float64)
    rgb = image.extract_band(0, n=3).numpy().astype(np.float64)
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


class References:
    """Lanczos3 resizes of the fully decoded source, one per output size (no shrink-on-load, no box
    pre-shrink: gap 0), cached."""

    def __init__(self):
        self.sources, self.cache = {}, {}

    def get(self, source_path, width, height):
        import pyvips
        key = (source_path, width, height)
        if key not in self.cache:
            if source_path not in self.sources:
                self.sources[source_path] = pyvips.Image.new_from_file(source_path, access="random").copy_memory()
            source = self.sources[source_path]
            reference = source.resize(width / source.width, vscale=height / source.height, kernel="lanczos3", gap=0)
            # Rounding can leave the resize a pixel off: crop or pad to the exact size.
            if reference.width != width or reference.height != height:
                reference = reference.gravity("north-west", width, height, extend="copy")
            self.cache[key] = luminance(reference)
        return self.cache[key]


def ssim_all(args):
    import pyvips
    references = References()
    scores = {}
    for row in sorted(os.listdir(args.outputs)):
        folder = os.path.join(args.outputs, row)
        manifest_path = os.path.join(folder, "manifest.json")
        if not os.path.exists(manifest_path):
            continue
        with open(manifest_path) as f:
            manifest = json.load(f)
        total, weight = 0.0, 0
        for digest, count in manifest["counts"].items():
            output = pyvips.Image.new_from_file(os.path.join(folder, digest + ".jpg"), access="random")
            output = output.colourspace("srgb") if output.interpretation not in ("srgb", "b-w") else output
            reference = references.get(manifest["source"], output.width, output.height)
            total += ssim(luminance(output), reference) * count
            weight += count
        workload, name = row.split(".", 1)
        scores[f"{workload}/{name}"] = {"ssim": total / weight, "distinct": len(manifest["counts"]), "outputs": weight}
    with open(args.scores, "w") as f:
        json.dump(scores, f, indent=1)


# -------------------------------------------------------------------------------------------------- report

LABELS = {
    "gearbox-http": "Gearbox, HTTP port (POST /thumbnail)",
    "gearbox-gear": "Gearbox, Gearman protocol (gear)",
    "front-cold": "Gearbox front URL, cold",
    "front-cached": "Gearbox front URL, cached",
    "front": "Gearbox front URL",
    "thumbor": "thumbor 7.8 (PIL)",
    "pyvips": "libvips in one process (pyvips)",
}
WORKLOADS = {
    "diverse": "2000x1333, a new box each request",
    "burst": "2000x1333, burst of one URL",
    "diverse10": "3872x2592 (10 MP), a new box each request",
}


def report(args):
    rows = {}
    with open(args.results) as f:
        for line in f:
            result = json.loads(line)
            rows.setdefault((result["workload"], result["name"]), []).append(result)
    scores = {}
    if args.scores and os.path.exists(args.scores):
        with open(args.scores) as f:
            scores = json.load(f)

    def med(key, workload, name):
        values = [r[key] for r in rows.get((workload, name), []) if r.get(key) is not None]
        return statistics.median(values) if values else None

    def fmt(value, pattern):
        return "-" if value is None else pattern % value

    # Ratios side by side: per round, then the median of the per-round ratios.
    def ratio(workload, a, b, key="images_per_s"):
        ra = {r["round"]: r.get(key) for r in rows.get((workload, a), [])}
        ra = {k: v for k, v in ra.items() if v is not None}
        rb = {r["round"]: r.get(key) for r in rows.get((workload, b), [])}
        both = [ra[k] / rb[k] for k in ra if k in rb and rb[k]]
        return statistics.median(both) if both else None

    rounds = max((len(v) for v in rows.values()), default=0)
    if args.ceiling:
        ceiling = json.loads(args.ceiling)
        spent = [r["client_cpu_s"] / r["elapsed_s"] for v in rows.values() for r in v]
        print(f"Load generator: {ceiling['requests_per_s']:,.0f} requests/s on a trivial endpoint (front /healthz), "
              f"{ceiling['client_cpu_ms_per_request']:.2f} ms of client CPU per request; during the runs it used "
              f"{100 * statistics.median(spent):.0f}% of a core (median; at most {100 * max(spent):.0f}%)")
    client_bound = []
    print(f"\n| workload | system | images/s | p50 ms | p99 ms | peak RSS MB | service CPU ms/image | SSIM | vs thumbor | load gen. CPU | rounds |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    order = ["gearbox-http", "gearbox-gear", "front-cold", "front-cached", "front", "thumbor", "pyvips"]
    for workload in WORKLOADS:
        for name in order:
            if (workload, name) not in rows:
                continue
            rate = med("images_per_s", workload, name)
            ratios = rows[(workload, name)]
            ssim_value = scores.get(f"{workload}/{name}", {}).get("ssim")
            client = statistics.median(r["client_cpu_s"] / r["elapsed_s"] for r in ratios)
            mark = ""
            if client >= 0.5:
                mark = " ‡"
                client_bound.append(f"{WORKLOADS[workload]}: {LABELS[name]}")
            print(f"| {WORKLOADS[workload]} | {LABELS[name]} | {rate:,.1f}{mark} | {fmt(med('p50_ms', workload, name), '%.1f')} "
                  f"| {fmt(med('p99_ms', workload, name), '%.1f')} | {fmt(med('rss_mb', workload, name), '%.0f')} "
                  f"| {fmt(med('service_cpu_ms', workload, name), '%.1f')} "
                  f"| {fmt(ssim_value, '%.4f')} | {fmt(ratio(workload, name, 'thumbor'), '%.2fx')} "
                  f"| {100 * client:.0f}% | {len(ratios)} |")
    print()
    print("Medians over rounds; 'vs thumbor' is the median of the ratios measured in the same round. pyvips' p50/p99")
    print("are the time of one image in a worker process (no queue, no transfer). Service CPU: user+system time of the")
    print("service's processes (and their children) during the run, per image. The load generator shares the cores.")
    if client_bound:
        print("‡ The load generator used over half a core: on this machine the client bounds this row (a lower bound).")
    print()

    def ssim_of(workload, name):
        return scores.get(f"{workload}/{name}", {}).get("ssim")

    def cpu_cost(workload):
        c = ratio(workload, "gearbox-http", "pyvips", key="service_cpu_ms")
        if c is None:
            return ""
        return (f"; CPU per image {med('service_cpu_ms', workload, 'gearbox-http'):.1f} vs "
                f"{med('service_cpu_ms', workload, 'pyvips'):.1f} ms, {100 * (c - 1):+.0f}%")

    goals = []
    for workload in WORKLOADS:
        if (workload, "thumbor") not in rows:
            continue
        label = WORKLOADS[workload]
        r = ratio(workload, "gearbox-http", "thumbor")
        if r is not None:
            goals.append((f"{label}: Gearbox HTTP port >= 1.10x thumbor images/s", r >= 1.10,
                          f"{r:.2f}x ({med('images_per_s', workload, 'gearbox-http'):.1f} vs "
                          f"{med('images_per_s', workload, 'thumbor'):.1f} images/s)"))
        r = ratio(workload, "front-cold", "thumbor")
        if r is not None:
            goals.append((f"{label}: front cold URLs >= 1.00x thumbor images/s", r >= 1.0,
                          f"{r:.2f}x ({med('images_per_s', workload, 'front-cold'):.1f} vs "
                          f"{med('images_per_s', workload, 'thumbor'):.1f} images/s)"))
        elif workload != "burst" and args.front_missing:
            goals.append((f"{label}: front cold URLs >= 1.00x thumbor images/s", None,
                          "front URLs: not available in this build"))
        g, t = ssim_of(workload, "gearbox-http"), ssim_of(workload, "thumbor")
        if g is not None and t is not None:
            goals.append((f"{label}: Gearbox SSIM >= thumbor SSIM", g >= t, f"{g:.4f} vs {t:.4f}"))
        r = ratio(workload, "gearbox-http", "pyvips")
        if r is not None and workload != "burst":
            goals.append((f"{label}: farm cost within 5% of libvips in one process (Gearbox HTTP >= 0.95x pyvips)",
                          r >= 0.95, f"{r:.2f}x ({med('images_per_s', workload, 'gearbox-http'):.1f} vs "
                          f"{med('images_per_s', workload, 'pyvips'):.1f} images/s; cost {100 * (1 / r - 1):+.0f}%)"
                          + cpu_cost(workload)))
    if args.worker_hwm:
        goals.append(("gearbox worker at most 120 MB at its peak (VmHWM over the whole run)",
                      args.worker_hwm <= 120 * 1024,
                      f"{args.worker_hwm / 1024:.0f} MB (the job server beside it: "
                      f"{(args.server_hwm or 0) / 1024:.0f} MB)"))
    print(f"Goals (ratios measured side by side in each round; median over {rounds} round{'s' if rounds != 1 else ''}):")
    for text, passed, figures in goals:
        status = "SKIP" if passed is None else ("PASS" if passed else "MISS")
        print(f"  {status}  {text}: {figures}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    for mode in ("http", "gear", "vips"):
        p = sub.add_parser(mode)
        p.add_argument("--name", required=True)
        p.add_argument("--workload", required=True, help="diverse, burst or diverse10 (the label; diverse10 "
                                                        "uses the diverse boxes)")
        p.add_argument("--source", required=True, help="the source image (its size gives the expected outputs)")
        p.add_argument("--body", help="the file sent as the request body / workload (http POST, gear, vips)")
        p.add_argument("--prefix", help="text before the body, with {w} {h} (\\n allowed)")
        p.add_argument("--unique", help="X-Gearman-Unique / the gear job's unique ('-': coalesce equal workloads)")
        p.add_argument("--url", help="http: URL with {w} and {h}")
        p.add_argument("--method", default="GET")
        p.add_argument("--port", type=int, help="gear: the server's Gearman port")
        p.add_argument("--connections", type=int, default=1, help="gear: Clients (connections) the jobs share")
        p.add_argument("--processes", type=int, default=os.cpu_count(), help="vips: processes")
        p.add_argument("--requests", type=int, default=400)
        p.add_argument("--clients", type=int, default=16)
        p.add_argument("--warmup", type=int, default=32)
        p.add_argument("--skip-warmup", action="store_true")
        p.add_argument("--round", type=int, default=0)
        p.add_argument("--pids", help="comma-separated pids whose RSS (with their descendants) is the service's")
        p.add_argument("--outputs", help="folder for the distinct outputs (for SSIM)")
        p.add_argument("--results", help="file the JSON result line is appended to")
        p.add_argument("--timeout", type=float, default=60, help="seconds for one request")
    p = sub.add_parser("probe")
    p.add_argument("--url", required=True)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--clients", type=int, default=16)
    p = sub.add_parser("ssim")
    p.add_argument("--outputs", required=True)
    p.add_argument("--scores", required=True)
    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    p.add_argument("--scores")
    p.add_argument("--ceiling", help="the probe's JSON line")
    p.add_argument("--front-missing", action="store_true", help="the front URLs were not in the build")
    p.add_argument("--worker-hwm", type=int, help="gearbox worker's peak resident memory over the run, in kB")
    p.add_argument("--server-hwm", type=int, help="gearbox server's peak resident memory over the run, in kB")
    args = parser.parse_args()
    if args.mode in ("http", "gear", "vips"):
        measure(args)
    elif args.mode == "probe":
        probe(args)
    elif args.mode == "ssim":
        ssim_all(args)
    else:
        report(args)


if __name__ == "__main__":
    main()
