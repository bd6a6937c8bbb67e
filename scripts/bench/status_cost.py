#!/usr/bin/env python3
"""What the status listener costs (scripts/bench.sh): certauth serve with
--status and without it, side by side in one run, one worker each, answering
joe's keep-alive requests (certauth probe --load, 64 connections). The server
with --status is scraped once a second during its loads, as Prometheus would.
Rounds alternate the two; the median server CPU per request of each and their
ratio go to --out (Markdown) and standard output. Standard library only; the
process helpers are scripts/bench/benchlib.py's.
"""

import statistics
import threading
import urllib.request

from benchlib import Server, free_port, load, parse, parser, running, write_report


def scrape_every_second(port, stop):
    while not stop.wait(1.0):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            response.read()


def measure_rounds(args, plain, counted, status_port):
    """The rounds, alternating the servers: µs of server CPU per request, per round and server."""
    cpu = {"off": [], "on": []}
    for round_ in range(args.rounds):
        for server in (plain, counted) if round_ % 2 == 0 else (counted, plain):
            load(args, server.port, 2000, args.concurrency)  # warm: the connections' handshakes
            stop = threading.Event()
            scraper = None
            if server is counted:
                scraper = threading.Thread(target=scrape_every_second, args=(status_port, stop))
                scraper.start()
            before = server.cpu()
            load(args, server.port, args.requests, args.concurrency)
            cpu[server.name].append((server.cpu() - before) * 1e6 / args.requests)
            stop.set()
            if scraper:
                scraper.join()
    return cpu


def main():
    args = parse(parser(__doc__.split("\n\n")[0], rounds=5, requests=50000, concurrency=64))
    status_port = free_port()
    common = ["serve", "--threads", "1", "--no-access-log"]
    plain_port, counted_port = free_port(), free_port()
    plain = Server("off", [args.certauth, *common, "--listen", f"127.0.0.1:{plain_port}"], plain_port,
                   cwd=args.fixtures)
    counted = Server("on", [args.certauth, *common, "--listen", f"127.0.0.1:{counted_port}", "--status",
                            f"127.0.0.1:{status_port}"], counted_port, cwd=args.fixtures)
    with running([plain, counted]):
        cpu = measure_rounds(args, plain, counted, status_port)
    off, on = statistics.median(cpu["off"]), statistics.median(cpu["on"])
    text = (
        "| keep-alive, joe, one worker | without --status | with --status (scraped every second) | ratio | aim |\n"
        "|---|---|---|---|---|\n"
        f"| server CPU per request | {off:.1f} µs | {on:.1f} µs | {on / off:.3f} | ≤ 1.03 |\n")
    write_report(args, f"Status listener: medians of {args.rounds} rounds of {args.requests} requests; "
                 f"rounds (µs per request): off {cpu['off']}, on {cpu['on']}.", text)


if __name__ == "__main__":
    main()
