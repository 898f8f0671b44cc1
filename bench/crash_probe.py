#!/usr/bin/env python3
"""Kills a Gearman job server with SIGKILL in the middle of a background submit storm and counts what comes back.

    crash_probe.py --seconds 5 -- gearbox server --port {port} --store sqlite:/tmp/q.db

1. starts the server (the command, with {port} filled in) and finishes FINISHED background jobs with a worker;
2. CONNECTIONS connections submit 64-byte background jobs with empty uniques, WINDOW in flight each, for
   SECONDS; then the server gets SIGKILL; every JOB_CREATED received counts as acknowledged;
3. starts the server again with the same command and drains every job with GRAB_JOB_UNIQ.
Prints one JSON line: acknowledged, came back, lost, finished jobs that came back, acknowledged per second,
how long the restart took to listen, and the server's resident memory before the kill and after the restart.

    crash_probe.py --restart PID --port PORT --store FILE -- gearbox server --port {port} --store sqlite:FILE

instead kills the running server PID (listening on PORT, its store in FILE) and starts it again with the
command: one JSON line with the jobs queued before, its resident memory before the kill and after the
restart, how long the restart took to listen, the jobs back, and the store's size in bytes.
"""
import argparse, json, os, signal, socket, struct, subprocess, sys, threading, time

SUBMIT_JOB_BG, JOB_CREATED, CAN_DO, GRAB_JOB_UNIQ = 18, 8, 1, 30
JOB_ASSIGN_UNIQ, NO_JOB, WORK_COMPLETE, ERROR = 31, 10, 13, 19


def packet(kind, *arguments):
    body = b"\0".join(arguments)
    return b"\0REQ" + struct.pack(">II", kind, len(body)) + body


class Connection:
    def __init__(self, port, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def receive(self):
        while True:
            if len(self.buffer) >= 12:
                kind, length = struct.unpack(">II", self.buffer[4:12])
                if len(self.buffer) >= 12 + length:
                    body = self.buffer[12:12 + length]
                    self.buffer = self.buffer[12 + length:]
                    return kind, body
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk

    def admin(self, line):
        self.send(line.encode() + b"\n")
        while not (self.buffer.startswith(b"ERR") and b"\n" in self.buffer) and not self.buffer.endswith(b".\n"):
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buffer += chunk
        text, self.buffer = self.buffer.decode(errors="replace"), b""
        return text


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command, port):
    argv = [part.replace("{port}", str(port)) for part in command]
    started = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = started + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"crash_probe: {argv[0]} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, time.monotonic() - started
        except OSError:
            time.sleep(0.01)
    process.kill()
    sys.exit("crash_probe: the server did not listen within 120 s")


def resident_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def drain(port, function):
    worker = Connection(port)
    worker.send(packet(CAN_DO, function))
    workloads = []
    pending = packet(GRAB_JOB_UNIQ)
    while True:
        worker.send(pending)
        kind, body = worker.receive()
        if kind == NO_JOB:
            return workloads
        if kind != JOB_ASSIGN_UNIQ:
            raise RuntimeError(f"unexpected packet {kind} while draining")
        handle, _, _, workload = body.split(b"\0", 3)
        workloads.append(workload)
        pending = packet(WORK_COMPLETE, handle, b"") + packet(GRAB_JOB_UNIQ)


def wait_until_written(port):
    """Gearbox's `show store` says when deletes are committed; gearmand deletes before it answers."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        reply = Connection(port).admin("show store")
        if not reply.startswith("store") or "unwritten\t0\n" in reply:
            return
        time.sleep(0.02)


def exited(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(") ", 1)[1][0] == "Z"
    except FileNotFoundError:
        return True


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def queued(port):
    """The TOTAL column of the admin `status`, summed over functions."""
    reply = Connection(port).admin("status")
    return sum(int(line.split("\t")[1]) for line in reply.splitlines() if "\t" in line)


def restart_probe(pid, port, store, command):
    jobs = queued(port)
    rss_before = resident_bytes(pid)
    os.kill(pid, signal.SIGKILL)
    # The server is the caller's child: once killed it is a zombie (state Z) until the caller reaps it. Its
    # main thread shows Z before its other threads are gone, and its sockets and store lock go only with the
    # last of them: until its port refuses connections, the kernel still completes handshakes for the dead
    # server, which would look like the restarted one listening.
    deadline = time.monotonic() + 10
    while exited(pid) is False or accepts(port):
        if time.monotonic() > deadline:
            sys.exit(f"crash_probe: process {pid} outlived SIGKILL for 10 s")
        time.sleep(0.01)
    size = sum(os.path.getsize(store + suffix) for suffix in ("", "-wal") if os.path.exists(store + suffix))
    server, restart_seconds = start(command, port)
    try:
        rss_after, back = resident_bytes(server.pid), queued(port)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    print(json.dumps({"queued": jobs, "rssBeforeKill": rss_before, "restartSeconds": restart_seconds,
                      "rssAfterRestart": rss_after, "cameBack": back, "storeBytes": size}))


def storm(port, function, seconds, connections, window):
    acknowledged = [[] for _ in range(connections)]
    errors = [0] * connections
    stop = threading.Event()

    def run(index):
        try:
            connection = Connection(port, timeout=60)
            sequence = 0
            while not stop.is_set():
                batch = []
                data = bytearray()
                for _ in range(window):
                    workload = f"storm-{index}-{sequence}".encode().ljust(64, b".")
                    sequence += 1
                    batch.append(workload)
                    data += packet(SUBMIT_JOB_BG, function, b"", workload)
                connection.send(bytes(data))
                for workload in batch:
                    kind, _ = connection.receive()
                    if kind == JOB_CREATED:
                        acknowledged[index].append(workload)
                    else:
                        errors[index] += 1
        except (OSError, ConnectionError):
            pass

    threads = [threading.Thread(target=run, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    return threads, stop, acknowledged, errors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--finished", type=int, default=1000)
    parser.add_argument("--function", default="crash-probe")
    parser.add_argument("--restart", type=int, metavar="PID", help="kill this running server and time its restart")
    parser.add_argument("--port", type=int, help="with --restart: the port it listens on")
    parser.add_argument("--store", help="with --restart: its store file")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    if options.restart is not None:
        restart_probe(options.restart, options.port, options.store, command)
        return
    function = options.function.encode()
    port = free_port()

    server, _ = start(command, port)
    client = Connection(port)
    client.send(b"".join(packet(SUBMIT_JOB_BG, function, b"", f"finished-{i}".encode()) for i in range(options.finished)))
    for _ in range(options.finished):
        client.receive()
    finished = len(drain(port, function))
    wait_until_written(port)

    threads, stop, acknowledged, errors = storm(port, function, options.seconds, options.connections, options.window)
    rss_before = resident_bytes(server.pid)
    server.send_signal(signal.SIGKILL)
    server.wait()
    stop.set()
    for thread in threads:
        thread.join(60)
    promised = {w for per in acknowledged for w in per}

    server, restart_seconds = start(command, port)
    rss_after = resident_bytes(server.pid)
    back = drain(port, function)
    server.send_signal(signal.SIGKILL)
    server.wait()
    came_back = set(back)
    print(json.dumps({
        "finished": finished,
        "acknowledged": len(promised),
        "acknowledgedPerSecond": len(promised) / options.seconds,
        "refused": sum(errors),
        "cameBack": len(came_back),
        "lost": len(promised - came_back),
        "finishedCameBack": sum(1 for w in came_back if w.startswith(b"finished-")),
        "duplicates": len(back) - len(came_back),
        "restartSeconds": restart_seconds,
        "rssBeforeKill": rss_before,
        "rssAfterRestart": rss_after,
    }))


if __name__ == "__main__":
    main()
