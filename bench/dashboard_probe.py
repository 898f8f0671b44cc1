"""Fills a running `gearbox server` with functions, queued background jobs and dead letters over the Gearman
protocol, then times the operator port's page and API (bench/dashboard.sh)."""
import argparse
import http.client
import json
import socket
import statistics
import struct
import time

REQ = b"\0REQ"


def packet(kind, *arguments):
    body = b"\0".join(arguments)
    return REQ + struct.pack(">II", kind, len(body)) + body


SUBMIT_JOB_BG, CAN_DO, GRAB_JOB, WORK_FAIL = 18, 1, 9, 14


def read_packet(sock, buffer):
    while len(buffer) < 12:
        buffer += sock.recv(65536)
    kind, size = struct.unpack(">II", buffer[4:12])
    while len(buffer) < 12 + size:
        buffer += sock.recv(65536)
    return kind, buffer[12:12 + size], buffer[12 + size:]


def fill(port, functions, queued, dead):
    sock = socket.create_connection(("127.0.0.1", port))
    per_function = max(1, queued // functions)
    started = time.monotonic()
    batch = []
    for index in range(queued):
        function = b"f%05d" % (index % functions)
        batch.append(packet(SUBMIT_JOB_BG, function, b"", b"x" * 64))
        if len(batch) == 2000 or index == queued - 1:
            sock.sendall(b"".join(batch))
            # Every JOB_CREATED of the batch before the next, so that the server is never far behind.
            buffer = b""
            for _ in batch:
                _, _, buffer = read_packet(sock, buffer)
            batch = []
    elapsed = time.monotonic() - started
    # Dead letters: background jobs of `doomed`, each failed by a worker once (no retries by default).
    worker = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"".join(packet(SUBMIT_JOB_BG, b"doomed", b"", b"%d" % i) for i in range(dead)))
    buffer = b""
    for _ in range(dead):
        _, _, buffer = read_packet(sock, buffer)
    worker.sendall(packet(CAN_DO, b"doomed"))
    buffer = b""
    for _ in range(dead):
        worker.sendall(packet(GRAB_JOB))
        while True:
            kind, body, buffer = read_packet(worker, buffer)
            if kind == 11:  # JOB_ASSIGN
                worker.sendall(packet(WORK_FAIL, body.split(b"\0")[0]))
                break
    return per_function, elapsed, worker, sock


def timed(connection, path):
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise SystemExit(f"GET {path} answered {response.status}: {body[:200]!r}")
    return (time.perf_counter() - started) * 1000, body


def rss(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def main():
    parser = argparse.ArgumentParser()
    for name in ("port", "operator-port", "server-pid", "functions", "queued", "dead", "requests"):
        parser.add_argument("--" + name, type=int, required=True)
    options = parser.parse_args()
    per_function, elapsed, _worker, _client = fill(options.port, options.functions, options.queued, options.dead)
    print(f"filled: {options.queued:,} background jobs over {options.functions:,} functions "
          f"({per_function} each) in {elapsed:.1f} s, {options.dead:,} dead letters; server resident "
          f"{rss(options.server_pid):,.0f} MiB")
    connection = http.client.HTTPConnection("127.0.0.1", options.operator_port, timeout=30)
    _, overview = timed(connection, "/api/overview")
    data = json.loads(overview)
    assert data["functions_total"] >= options.functions, data["functions_total"]
    handle = data["dead"][0]["handle"]
    cases = [("page /", "/"), ("/api/overview (200 rows)", "/api/overview"),
             (f"/api/overview?limit={options.functions}", f"/api/overview?limit={options.functions}"),
             ("/api/overview?filter=f0999", "/api/overview?filter=f0999"),
             ("/api/jobs/HANDLE", "/api/jobs/" + handle)]
    print()
    print(f"| request ({options.requests} each, one connection) | median ms | p99 ms | bytes |")
    print("|---|---:|---:|---:|")
    for name, path in cases:
        times = []
        size = 0
        for _ in range(options.requests):
            elapsed_ms, body = timed(connection, path)
            times.append(elapsed_ms)
            size = len(body)
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"| {name} | {statistics.median(times):.1f} | {p99:.1f} | {size:,} |")


if __name__ == "__main__":
    main()
