#!/usr/bin/env python3
"""Forwarding benchmark (scripts/bench.sh): certauth serve --upstream against
nginx doing the same job - mTLS with ssl_verify_client, the CN looked up in a
map, proxy_pass to the same application with the identity headers and
upstream keep-alive - side by side in one run, each with one worker.

The application is a third nginx (a fixed 3-byte answer, and a 1 GiB file of
zeros). Measured per proxy, its own processes only (the application and the
load generator excluded):
  - server CPU per keep-alive proxied request (certauth probe --load,
    64 connections), also split into user and kernel time, and the latency
    p99 at that concurrency;
  - resident memory per idle proxied connection (scripts/bench/idle_clients.py
    holds N connections after one request each, on a freshly started proxy);
  - server CPU per GiB of a streamed response body (curl).
Rounds alternate the proxies; medians and ratios go to --out (Markdown) and
standard output. Standard library only.
"""

import json
import os
import statistics
import subprocess
import sys
import time

from benchlib import (OTHER_CPUS, Server, app_server, free_port, load, log, nginx_server, parse, parser, pinned,
                      running, scratch, users_map, write_report)


def idle_memory(args, server, count):
    before = server.pss()
    holder = subprocess.Popen(pinned([sys.executable, os.path.join(args.root, "scripts/bench/idle_clients.py"), "--port",
                               str(server.port), "--cert", os.path.join(args.fixtures, "joe.crt"), "--key",
                               os.path.join(args.fixtures, "joe.key"), "--cacert",
                               os.path.join(args.fixtures, "ca.crt"), "--count", str(count)], OTHER_CPUS),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = holder.stdout.readline().split()
        if not line or line[0] != "established" or int(line[1]) != count:
            raise RuntimeError(f"idle clients on {server.name}: {line}")
        time.sleep(1)
        after = server.pss()
    finally:
        holder.stdin.close()
        holder.wait(60)
    return (after - before) * 1024 / count


def stream_cpu(args, server, size):
    before = server.cpu()
    body = os.path.join(os.path.dirname(args.certauth), "gateway-stream.out")
    out = subprocess.run(pinned(["curl", "-sS", "-o", body, "-w", "%{size_download}", "--cacert",
                          os.path.join(args.fixtures, "ca.crt"), "--cert", os.path.join(args.fixtures, "joe.crt"),
                          "--key", os.path.join(args.fixtures, "joe.key"), "--resolve",
                          f"localhost:{server.port}:127.0.0.1", f"https://localhost:{server.port}/big"], OTHER_CPUS),
                         capture_output=True, text=True, timeout=600)
    received = out.stdout.strip()
    with open(body, "rb") as f:
        start = f.read(300)
    os.unlink(body)
    if received != str(size):
        raise RuntimeError(f"stream through {server.name}: {received} bytes: {start!r} {out.stderr}")
    return (server.cpu() - before) * (1 << 30) / size


def measure_rounds(args, certauth, nginx, size):
    """The rounds, alternating the proxies: a row of figures per round and proxy."""
    results = {"certauth": [], "nginx": []}
    for round_ in range(args.rounds):
        for server in (certauth, nginx) if round_ % 2 == 0 else (nginx, certauth):
            # Memory on a fresh start: after a load the heap keeps what the
            # load's connections freed, and idle connections reuse it.
            server.stop()
            server.start()
            idle = idle_memory(args, server, args.idle)
            load(args, server.port, 2000, args.concurrency)  # warm: connections to the application
            user_before, system_before = server.cpu_split()
            report = load(args, server.port, args.requests, args.concurrency)
            user_after, system_after = server.cpu_split()
            user_us = (user_after - user_before) * 1e6 / args.requests
            system_us = (system_after - system_before) * 1e6 / args.requests
            cpu_us = user_us + system_us
            stream = stream_cpu(args, server, size)
            row = {"cpu_us": cpu_us, "user_us": user_us, "system_us": system_us, "p99_us": report["latency_us"]["p99"], "rps": report["requests_per_second"],
                   "idle_bytes": idle, "stream_cpu_s_per_gib": stream}
            results[server.name].append(row)
            log(f"round {round_ + 1} {server.name}: {json.dumps(row)}")
    return results


def main():
    p = parser(__doc__.splitlines()[0], rounds=3, requests=50000, concurrency=64)
    p.add_argument("--idle", type=int, default=2000)
    p.add_argument("--stream-mib", type=int, default=1024)
    args = parse(p)
    with scratch("certauth-gateway-") as work:
        size = args.stream_mib << 20
        big = os.path.join(work, "big.bin")
        with open(big, "wb") as f:
            f.truncate(size)
        # nginx's workers (www-data when started as root) read the file.
        os.chmod(work, 0o755)
        os.chmod(big, 0o644)
        app_port, certauth_port, nginx_port = free_port(), free_port(), free_port()
        app = app_server(work, app_port, f"        location = /big {{ alias {big}; }}\n", cpus=OTHER_CPUS)
        certauth = Server("certauth", [args.certauth, "serve", "--listen", f"127.0.0.1:{certauth_port}", "--threads", "1",
                                       "--no-access-log", "--max-connections", "20000", "--upstream",
                                       f"http://127.0.0.1:{app_port}"], certauth_port, cwd=args.fixtures)
        nginx = nginx_server("nginx", work, nginx_port, f"""    map $ssl_client_s_dn $client_cn {{
        default "";
        "~(^|,)CN=(?<cn>[^,]+)" $cn;
    }}
    map $client_cn $user_json {{
        default "";
{users_map(args.fixtures)}
    }}
    upstream app {{
        server 127.0.0.1:{app_port};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{nginx_port} ssl;
        ssl_certificate {args.fixtures}/server.crt;
        ssl_certificate_key {args.fixtures}/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_verify_client optional;
        ssl_client_certificate {args.fixtures}/ca.crt;
        ssl_crl {args.fixtures}/ca.crl;
        ssl_session_tickets off;
        ssl_session_cache shared:SSL:10m;
        location / {{
            if ($ssl_client_verify != SUCCESS) {{ return 401 '{{"error":"unauthorized"}}\\n'; }}
            if ($user_json = "") {{ return 401 '{{"error":"unauthorized","reason":"unknown_user"}}\\n'; }}
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Certauth-User $user_json;
            proxy_set_header X-Certauth-CN $client_cn;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto https;
            proxy_buffering off;
        }}
    }}""")
        with running([app, certauth, nginx]):
            results = measure_rounds(args, certauth, nginx, size)
        med = {name: {k: statistics.median(r[k] for r in rows) for k in rows[0]} for name, rows in results.items()}
        ratio = {k: med["certauth"][k] / med["nginx"][k] if med["nginx"][k] else float("nan") for k in med["nginx"]}
        # Each certauth round against the nginx round next to it: the spread
        # that the machine's changes of speed during the run leave.
        by_round = [c["cpu_us"] / n["cpu_us"] for c, n in zip(results["certauth"], results["nginx"]) if n["cpu_us"]]
        lines = [
            "| per proxy (one worker each) | certauth | nginx | certauth / nginx | aim |",
            "|---|---|---|---|---|",
            f"| server CPU per keep-alive proxied request | {med['certauth']['cpu_us']:.1f} µs | "
            f"{med['nginx']['cpu_us']:.1f} µs | {ratio['cpu_us']:.2f} | ≤ 0.8 |",
            f"| the same, round by round | | | {min(by_round, default=float('nan')):.2f} to "
            f"{max(by_round, default=float('nan')):.2f} | |",
            f"| of which in user space | {med['certauth']['user_us']:.1f} µs | {med['nginx']['user_us']:.1f} µs | "
            f"{ratio['user_us']:.2f} | |",
            f"| of which in the kernel | {med['certauth']['system_us']:.1f} µs | {med['nginx']['system_us']:.1f} µs | "
            f"{ratio['system_us']:.2f} | |",
            f"| latency p99 at {args.concurrency} connections | {med['certauth']['p99_us']:.0f} µs | "
            f"{med['nginx']['p99_us']:.0f} µs | {ratio['p99_us']:.2f} | ≤ 1.0 |",
            f"| requests per second | {med['certauth']['rps']:.0f} | {med['nginx']['rps']:.0f} | "
            f"{ratio['rps']:.2f} | |",
            f"| memory per idle proxied connection (PSS) | {med['certauth']['idle_bytes']:.0f} B | "
            f"{med['nginx']['idle_bytes']:.0f} B | {ratio['idle_bytes']:.2f} | ≤ 1.0 |",
            f"| server CPU per GiB streamed to the client | {med['certauth']['stream_cpu_s_per_gib']:.2f} s | "
            f"{med['nginx']['stream_cpu_s_per_gib']:.2f} s | {ratio['stream_cpu_s_per_gib']:.2f} | ≤ 1.0 |",
        ]
        write_report(args, f"Forwarding: medians of {args.rounds} rounds; {args.requests} requests per round; "
                     f"{args.idle} idle connections; {args.stream_mib} MiB streamed.", "\n".join(lines) + "\n",
                     rounds=results)


if __name__ == "__main__":
    main()
