"""A Gearman peer written with OpenDev's `gear`, for Gearbox's interop tests.

    gear_peer.py client HOST PORT FUNCTION PAYLOAD [--tls CA CERT KEY]   prints the result
    gear_peer.py worker HOST PORT FUNCTION [--tls CA CERT KEY]          reverses workloads until killed
    gear_peer.py server PORT [--tls CA CERT KEY]                        gear's own job server, until killed
Every wait has a deadline; a failure exits with status 1 and says why on standard error.
"""
import sys
import time

import gear


def tls_arguments(rest):
    if rest[:1] == ["--tls"]:
        ca, cert, key = rest[1:4]
        return dict(ssl_ca=ca, ssl_cert=cert, ssl_key=key)
    return {}


def client(host, port, function, payload, *rest):
    c = gear.Client("gear-peer-client")
    c.addServer(host, int(port), **tls_arguments(list(rest)))
    c.waitForServer(timeout=10)
    job = gear.TextJob(function, payload)
    c.submitJob(job, timeout=10)
    deadline = time.time() + 20
    while not job.complete:
        if time.time() > deadline:
            sys.exit("gear client: no result within 20 s")
        time.sleep(0.01)
    if job.failure or job.exception:
        sys.exit("gear client: job failed: %r" % (job.exception,))
    sys.stdout.write(job.data[-1] if job.data else "")
    c.shutdown()


def worker(host, port, function, *rest):
    w = gear.TextWorker("gear-peer-worker")
    w.addServer(host, int(port), **tls_arguments(list(rest)))
    w.waitForServer(timeout=10)
    w.registerFunction(function)
    print("registered", flush=True)
    while True:
        job = w.getJob()
        job.sendWorkComplete(job.arguments[::-1])


def server(port, *rest):
    s = gear.Server(int(port), host="127.0.0.1", **tls_arguments(list(rest)))
    print("listening", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    {"client": client, "worker": worker, "server": server}[command](*arguments)
