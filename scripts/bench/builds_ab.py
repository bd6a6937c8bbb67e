#!/usr/bin/env python3
"""Two or more certauth builds side by side: server CPU per keep-alive
proxied request of each, in interleaved rounds, as a ratio to the first.

For a change whose effect is smaller than the spread between runs of
scripts/bench/gateway.py: the builds run at the same time, each `serve
--upstream` with one worker on the proxy CPU, in front of the same
application (an nginx answering `ok` in 3 bytes); each round loads each
build in turn with `certauth probe --load` (the --certauth build; 64
keep-alive connections), in an order that alternates from round to round.

  python3 scripts/bench/builds_ab.py --certauth OLD/certauth --root . \\
      --build NEW/certauth --build 'OLD/certauth|GLIBC_TUNABLES=...'

A build given as `PATH|NAME=VALUE|...` runs with those environment
variables. Prints each build's median and rounds, and the ratios to the
--certauth build, as a Markdown table (also to --out). Standard library
only.
"""

import os
import statistics

from benchlib import (OTHER_CPUS, Server, app_server, free_port, load, log, parse, parser, running, scratch,
                      write_report)


def build_server(index, spec, fixtures, app_port):
    path, *assignments = spec.split("|")
    for assignment in assignments:
        if "=" not in assignment.strip("="):
            raise SystemExit(f"builds_ab: --build {spec!r}: {assignment!r} is not NAME=VALUE")
    port = free_port()
    command = ["env", *assignments] if assignments else []
    command += [os.path.abspath(path), "serve", "--listen", f"127.0.0.1:{port}", "--threads", "1", "--no-access-log",
                "--max-connections", "20000", "--upstream", f"http://127.0.0.1:{app_port}"]
    return Server(f"{index}: {spec}", command, port, cwd=fixtures)


def main():
    p = parser(__doc__.splitlines()[0], rounds=10, requests=40000, concurrency=64)
    p.add_argument("--build", action="append", required=True,
                   help="another build to measure against --certauth (PATH or PATH|NAME=VALUE...)")
    args = parse(p)
    with scratch("certauth-builds-ab-") as work:
        app_port = free_port()
        app = app_server(work, app_port, cpus=OTHER_CPUS)
        builds = [build_server(i, spec, args.fixtures, app_port) for i, spec in enumerate([args.certauth] + args.build)]
        cpu_us = {server.name: [] for server in builds}
        with running([app] + builds):
            for server in builds:
                load(args, server.port, 2000, args.concurrency)  # warm: connections to the application
            for round_ in range(args.rounds):
                for server in builds if round_ % 2 == 0 else list(reversed(builds)):
                    before = server.cpu()
                    load(args, server.port, args.requests, args.concurrency)
                    cpu_us[server.name].append((server.cpu() - before) * 1e6 / args.requests)
                log(f"round {round_ + 1}: " + ", ".join(f"{rows[-1]:.1f}" for rows in cpu_us.values()) + " µs")
        base = statistics.median(cpu_us[builds[0].name])
        lines = ["| build | server CPU per keep-alive proxied request (median) | of the first | rounds |",
                 "|---|---|---|---|"]
        for name, rows in cpu_us.items():
            median = statistics.median(rows)
            lines.append(f"| `{name}` | {median:.2f} µs | {median / base:.3f} | {' '.join(f'{x:.1f}' for x in rows)} |")
        write_report(args, f"Builds side by side: {args.rounds} interleaved rounds of {args.requests} requests, "
                     f"{args.concurrency} connections.", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
