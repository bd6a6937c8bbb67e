#!/usr/bin/env python3
"""Forwarding benchmark (scripts/bench.sh): certauth serve --upstream against
nginx doing the same job - mTLS with ssl_verify_client, the CN looked up in a
map, proxy_pass to the same application with the identity headers and
upstream keep-alive - side by side in one run, each with one worker.

The application is a third nginx (a fixed 3-byte answer, and a 1 GiB file of
zeros). Measured per proxy, its own processes only (the application and the
load generator excluded):
  - server CPU per keep-alive proxied request (certauth probe --load,
    64 connections), and the latency p99 at that concurrency;
  - resident memory per idle proxied connection (scripts/bench/idle_clients.py
    holds N connections after one request each, on a freshly started proxy);
  - server CPU per GiB of a streamed response body (curl).
Rounds alternate the proxies; medians and ratios go to --out (Markdown) and
standard output. Standard library only.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
# With two CPUs or more, the proxy measured runs on CPU 0 and everything else
# (the application, the load, the idle clients, curl) on the others, so that
# neither proxy's figures depend on where the scheduler put the load.
CPUS = sorted(os.sched_getaffinity(0))
PROXY_CPUS = [CPUS[0]] if len(CPUS) >= 2 else CPUS
OTHER_CPUS = CPUS[1:] if len(CPUS) >= 2 else CPUS


def pinned(command, cpus):
    if len(CPUS) < 2 or not shutil.which("taskset"):
        return command
    return ["taskset", "-c", ",".join(str(c) for c in cpus)] + command
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def log(message):
    print(f"gateway: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, process, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


def family(pid):
    """pid and its descendants (nginx: master and workers)."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return pids


def cpu_seconds(pid):
    total = 0
    for p in family(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / CLK_TCK


def pss_kb(pid):
    total = 0
    for p in family(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def nginx_conf(prefix, body):
    return f"""worker_processes 1;
worker_rlimit_nofile 65536;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log error;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp;
    proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp;
    scgi_temp_path {prefix}/tmp;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    server_tokens off;
{body}
}}
"""


class Server:
    def __init__(self, name, command, port, cwd=None, cpus=None):
        self.name, self.command, self.port, self.cwd = name, pinned(command, cpus or PROXY_CPUS), port, cwd
        self.process = None

    def start(self):
        self.process = subprocess.Popen(self.command, cwd=self.cwd, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        wait_port(self.port, self.process)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def cpu(self):
        return cpu_seconds(self.process.pid)

    def pss(self):
        return pss_kb(self.process.pid)


def nginx_server(name, work, port, body, cpus=None):
    prefix = os.path.join(work, name)
    os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(nginx_conf(prefix, body))
    return Server(name, ["nginx", "-p", prefix, "-c", conf, "-g", "daemon off;"], port, cpus=cpus)


def users_map(fixtures):
    with open(os.path.join(fixtures, "users.json")) as f:
        users = json.load(f)["users"]
    lines = []
    for entry in users:
        if isinstance(entry, str):
            entry = {"cn": entry}
        if set(entry) & {"fingerprint256", "uri", "dns", "email", "ip", "serial", "o", "ou", "issuer_cn"}:
            continue
        cn = entry["cn"]
        user = json.dumps(entry, separators=(",", ":"))
        quoted = user.replace("\\", "\\\\").replace("'", "\\'")
        lines.append(f"        \"{cn}\" '{quoted}';")
    return "\n".join(lines)


def load(args, port, requests, concurrency):
    command = pinned([args.certauth, "probe", f"https://localhost:{port}/", "--resolve", f"localhost:{port}:127.0.0.1",
               "--cacert", os.path.join(args.fixtures, "ca.crt"), "--cert", os.path.join(args.fixtures, "joe.crt"),
               "--key", os.path.join(args.fixtures, "joe.key"), "--load", "--requests", str(requests),
               "--concurrency", str(concurrency), "--json"], OTHER_CPUS)
    out = subprocess.run(command, capture_output=True, text=True, timeout=600)
    report = json.loads(out.stdout)
    if report.get("error_count") or report["status"].get("200", 0) != requests:
        raise RuntimeError(f"load on {port}: {report['status']} errors {report.get('errors')}")
    return report


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


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--certauth", required=True)
    p.add_argument("--root", required=True, help="the repository")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--requests", type=int, default=50000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--idle", type=int, default=2000)
    p.add_argument("--stream-mib", type=int, default=1024)
    p.add_argument("--out", help="Markdown report")
    args = p.parse_args()
    args.certauth = os.path.abspath(args.certauth)
    args.root = os.path.abspath(args.root)
    args.fixtures = os.path.join(args.root, "fixtures")
    work = tempfile.mkdtemp(prefix="certauth-gateway-")
    servers = []
    try:
        size = args.stream_mib << 20
        big = os.path.join(work, "big.bin")
        with open(big, "wb") as f:
            f.truncate(size)
        # nginx's workers (www-data when started as root) read the file.
        os.chmod(work, 0o755)
        os.chmod(big, 0o644)
        app_port, certauth_port, nginx_port = free_port(), free_port(), free_port()
        app = nginx_server("app", work, app_port, f"""    server {{
        listen 127.0.0.1:{app_port};
        location = /big {{ alias {big}; }}
        location / {{ return 200 "ok\\n"; }}
    }}""", cpus=OTHER_CPUS)
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
        servers = [app, certauth, nginx]
        for server in servers:
            server.start()
        results = {"certauth": [], "nginx": []}
        for round_ in range(args.rounds):
            for server in (certauth, nginx) if round_ % 2 == 0 else (nginx, certauth):
                # Memory on a fresh start: after a load the heap keeps what the
                # load's connections freed, and idle connections reuse it.
                server.stop()
                server.start()
                idle = idle_memory(args, server, args.idle)
                load(args, server.port, 2000, args.concurrency)  # warm: connections to the application
                before = server.cpu()
                report = load(args, server.port, args.requests, args.concurrency)
                cpu_us = (server.cpu() - before) * 1e6 / args.requests
                stream = stream_cpu(args, server, size)
                row = {"cpu_us": cpu_us, "p99_us": report["latency_us"]["p99"], "rps": report["requests_per_second"],
                       "idle_bytes": idle, "stream_cpu_s_per_gib": stream}
                results[server.name].append(row)
                log(f"round {round_ + 1} {server.name}: {json.dumps(row)}")
        med = {name: {k: statistics.median(r[k] for r in rows) for k in rows[0]} for name, rows in results.items()}
        ratio = {k: med["certauth"][k] / med["nginx"][k] if med["nginx"][k] else float("nan") for k in med["nginx"]}
        lines = [
            "| per proxy (one worker each) | certauth | nginx | certauth / nginx | target |",
            "|---|---|---|---|---|",
            f"| server CPU per keep-alive proxied request | {med['certauth']['cpu_us']:.1f} µs | "
            f"{med['nginx']['cpu_us']:.1f} µs | {ratio['cpu_us']:.2f} | ≤ 0.8 |",
            f"| latency p99 at {args.concurrency} connections | {med['certauth']['p99_us']:.0f} µs | "
            f"{med['nginx']['p99_us']:.0f} µs | {ratio['p99_us']:.2f} | ≤ 1.0 |",
            f"| requests per second | {med['certauth']['rps']:.0f} | {med['nginx']['rps']:.0f} | "
            f"{ratio['rps']:.2f} | |",
            f"| memory per idle proxied connection (PSS) | {med['certauth']['idle_bytes']:.0f} B | "
            f"{med['nginx']['idle_bytes']:.0f} B | {ratio['idle_bytes']:.2f} | ≤ 1.0 |",
            f"| server CPU per GiB streamed to the client | {med['certauth']['stream_cpu_s_per_gib']:.2f} s | "
            f"{med['nginx']['stream_cpu_s_per_gib']:.2f} s | {ratio['stream_cpu_s_per_gib']:.2f} | ≤ 1.0 |",
        ]
        text = "\n".join(lines) + "\n"
        print(text)
        if args.out:
            with open(args.out, "w") as f:
                f.write(f"Forwarding: medians of {args.rounds} rounds; {args.requests} requests per round; "
                        f"{args.idle} idle connections; {args.stream_mib} MiB streamed.\n\n" + text)
                f.write("\nRounds:\n\n```\n" + json.dumps(results, indent=1) + "\n```\n")
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
