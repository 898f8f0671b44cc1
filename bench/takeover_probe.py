#!/usr/bin/env python3
"""Kills one Gearman job server of a group sharing a store and times how long another takes to run its jobs.

    takeover_probe.py --jobs 20000 --kill PID --first PORT --second PORT

1. submits JOBS 64-byte background jobs (distinct workloads) to the server on --first, 256 in flight, and
   waits for every JOB_CREATED;
2. kills that server (PID) with SIGKILL;
3. as a worker of the server on --second, takes jobs with GRAB_JOB_UNIQ (sleeping with PRE_SLEEP when there
   are none) until every workload has run, or DEADLINE seconds have passed.
Prints one JSON line: jobs, seconds from the kill to the first adopted job and to the last, jobs run twice,
and jobs never run.
"""
import argparse, json, os, select, signal, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_probe import Connection, packet, CAN_DO, GRAB_JOB_UNIQ, JOB_ASSIGN_UNIQ, JOB_CREATED, NO_JOB, WORK_COMPLETE  # noqa: E402

SUBMIT_JOB_BG, PRE_SLEEP, NOOP = 18, 4, 6
FUNCTION = b"bench-takeover"


def submit(port, jobs):
    client = Connection(port)
    sent = acknowledged = 0
    while acknowledged < jobs:
        burst = b""
        while sent < jobs and sent - acknowledged < 256:
            burst += packet(SUBMIT_JOB_BG, FUNCTION, b"", b"job-%08d" % sent + b"x" * 52)
            sent += 1
        if burst:
            client.send(burst)
        kind, body = client.receive()
        if kind != JOB_CREATED:
            sys.exit(f"takeover_probe: a submit was answered {kind}: {body[:200]!r}")
        acknowledged += 1


def drain(port, jobs, killed, deadline):
    worker = Connection(port)
    worker.send(packet(CAN_DO, FUNCTION))
    runs = {}
    first = last = None
    while len(runs) < jobs and time.monotonic() < deadline:
        worker.send(packet(GRAB_JOB_UNIQ))
        kind, body = worker.receive()
        if kind == JOB_ASSIGN_UNIQ:
            handle, _, _, workload = body.split(b"\0", 3)
            runs[workload] = runs.get(workload, 0) + 1
            now = time.monotonic() - killed
            first = now if first is None else first
            last = now
            worker.send(packet(WORK_COMPLETE, handle, b""))
        elif kind == NO_JOB:
            worker.send(packet(PRE_SLEEP))
            # Sleeps until NOOP, at most until the deadline.
            while not worker.buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([worker.sock], [], [], remaining)[0]:
                    break
                chunk = worker.sock.recv(65536)
                if not chunk:
                    sys.exit("takeover_probe: the second server closed the connection")
                worker.buffer += chunk
            if worker.buffer:
                kind, _ = worker.receive()
                if kind != NOOP:
                    sys.exit(f"takeover_probe: a sleeping worker got {kind}")
        else:
            sys.exit(f"takeover_probe: GRAB_JOB_UNIQ was answered {kind}")
    return runs, first, last


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--kill", type=int, required=True)
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--second", type=int, required=True)
    parser.add_argument("--deadline", type=float, default=120)
    options = parser.parse_args()
    submit(options.first, options.jobs)
    os.kill(options.kill, signal.SIGKILL)
    killed = time.monotonic()
    runs, first, last = drain(options.second, options.jobs, killed, killed + options.deadline)
    print(json.dumps({
        "jobs": options.jobs,
        "firstAdoptedSeconds": first,
        "allDoneSeconds": last if len(runs) == options.jobs else None,
        "ranTwice": sum(1 for count in runs.values() if count > 1),
        "neverRan": options.jobs - len(runs),
    }))


if __name__ == "__main__":
    main()
