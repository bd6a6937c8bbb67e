#!/usr/bin/env python3
"""Hold many idle mTLS keep-alive connections open (scripts/bench.sh).

Opens COUNT TLS 1.3 connections to HOST:PORT with a client certificate, sends
one keep-alive `GET /` on each and reads the response, then leaves them idle.
Protocol on stdout/stdin, one line each, for the harness (measure.py):

    -> established N STATUS:COUNT ...   all connections tried (N open)
    <- report                           (harness has measured the server)
    -> alive N                          connections still open at that moment
    <- EOF or "close"                   close everything and exit 0

Bounded: each connection has a timeout; the whole set-up a deadline.
"""

import argparse
import asyncio
import resource
import ssl
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--cacert", required=True)
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--parallel", type=int, default=64,
                   help="connections being set up at once")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="seconds allowed per connection")
    p.add_argument("--deadline", type=float, default=240.0,
                   help="seconds allowed for setting up all connections")
    return p.parse_args()


def raise_nofile(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard == resource.RLIM_INFINITY else max(soft, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        sys.exit(f"idle_clients: RLIMIT_NOFILE is {soft}, need {needed}")


async def open_one(args, ctx, request):
    reader, writer = await asyncio.open_connection(
        args.host, args.port, ssl=ctx, server_hostname="localhost")
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = head.split(b" ", 2)[1].decode()
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return reader, writer, status


async def watch(reader, state):
    """Counts the connection as closed when the server ends it."""
    try:
        while await reader.read(4096):
            pass
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    state["alive"] -= 1


async def main():
    args = parse_args()
    raise_nofile(args.count + 64)
    ctx = ssl.create_default_context(cafile=args.cacert)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(args.cert, args.key)
    request = (f"GET / HTTP/1.1\r\nHost: localhost:{args.port}\r\n"
               "Connection: keep-alive\r\n\r\n").encode()

    state = {"alive": 0}
    statuses = {}
    writers = []
    watchers = []
    sem = asyncio.Semaphore(args.parallel)
    start = time.monotonic()

    async def one():
        async with sem:
            if time.monotonic() - start > args.deadline:
                statuses["deadline"] = statuses.get("deadline", 0) + 1
                return
            try:
                reader, writer, status = await asyncio.wait_for(
                    open_one(args, ctx, request), args.timeout)
            except (OSError, ssl.SSLError, asyncio.TimeoutError,
                    asyncio.IncompleteReadError, ValueError, IndexError) as e:
                key = "error:" + type(e).__name__
                statuses[key] = statuses.get(key, 0) + 1
                return
            statuses[status] = statuses.get(status, 0) + 1
            writers.append(writer)
            state["alive"] += 1
            watchers.append(asyncio.ensure_future(watch(reader, state)))

    await asyncio.gather(*(one() for _ in range(args.count)))
    summary = " ".join(f"{k}:{v}" for k, v in sorted(statuses.items()))
    print(f"established {state['alive']} {summary} "
          f"seconds:{time.monotonic() - start:.1f}", flush=True)

    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if line.strip() == "report":
            print(f"alive {state['alive']}", flush=True)
            continue
        break

    for w in writers:
        w.close()
    for w in watchers:
        w.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main())
