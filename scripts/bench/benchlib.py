"""What the side-by-side benchmarks (scripts/bench/gateway.py,
scripts/bench/status_cost.py, scripts/bench/auth_request.py,
scripts/bench/builds_ab.py) share: their
common options, servers in a process group of their own pinned to a CPU, a
process's CPU time and memory with its descendants', nginx configurations,
certauth probe --load, and the Markdown report. Standard library only; the
scripts run as `python3 scripts/bench/X.py`, which puts this folder on
sys.path.
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
# With two CPUs or more, the server measured runs on CPU 0 and everything else
# (the application, the load, the idle clients, curl) on the others, so that
# neither server's figures depend on where the scheduler put the load.
CPUS = sorted(os.sched_getaffinity(0))
PROXY_CPUS = [CPUS[0]] if len(CPUS) >= 2 else CPUS
OTHER_CPUS = CPUS[1:] if len(CPUS) >= 2 else CPUS


def pinned(command, cpus):
    if len(CPUS) < 2 or not shutil.which("taskset"):
        return command
    return ["taskset", "-c", ",".join(str(c) for c in cpus)] + command


def log(message):
    print(f"{os.path.splitext(os.path.basename(sys.argv[0]))[0]}: {message}", file=sys.stderr, flush=True)


def parser(description, rounds, requests, concurrency):
    """The options every benchmark has; `parse` adds --out after the script's own."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--certauth", required=True)
    p.add_argument("--root", required=True, help="the repository")
    p.add_argument("--rounds", type=int, default=rounds)
    p.add_argument("--requests", type=int, default=requests)
    p.add_argument("--concurrency", type=int, default=concurrency)
    return p


def parse(p):
    """--out, then the arguments with absolute paths and args.fixtures."""
    p.add_argument("--out", help="Markdown report")
    args = p.parse_args()
    args.certauth = os.path.abspath(args.certauth)
    args.root = os.path.abspath(args.root)
    args.fixtures = os.path.join(args.root, "fixtures")
    return args


def write_report(args, heading, table, rounds=None, rounds_title="Rounds"):
    """Prints the table; with --out, writes heading, table and (given) the rounds as JSON there."""
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(heading + "\n\n" + table)
            if rounds is not None:
                f.write(f"\n{rounds_title}:\n\n```\n" + json.dumps(rounds, indent=1) + "\n```\n")


@contextlib.contextmanager
def scratch(prefix):
    """A temporary folder, removed with all it holds at the end."""
    work = tempfile.mkdtemp(prefix=prefix)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def running(servers):
    """Starts the servers in order; stops every one of them, last first, at the end."""
    try:
        for server in servers:
            server.start()
        yield
    finally:
        for server in reversed(servers):
            server.stop()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, process, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before listening on {port}")
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
            threads = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in threads:  # a child is listed under the thread that forked it
            try:
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
            except OSError:
                pass
    return pids


def cpu_split_seconds(pid):
    """The CPU time of a process and its children so far: (user, system) seconds."""
    user = system = 0
    for p in family(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            user += int(fields[11])
            system += int(fields[12])
        except OSError:
            pass
    return user / CLK_TCK, system / CLK_TCK


def cpu_seconds(pid):
    return sum(cpu_split_seconds(pid))


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


class Server:
    """A server in a process group of its own, on PROXY_CPUS unless told other `cpus`."""

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

    def cpu_split(self):
        return cpu_split_seconds(self.process.pid)

    def pss(self):
        return pss_kb(self.process.pid)


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


def nginx_server(name, work, port, body, cpus=None):
    prefix = os.path.join(work, name)
    os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(nginx_conf(prefix, body))
    return Server(name, ["nginx", "-p", prefix, "-c", conf, "-g", "daemon off;"], port, cpus=cpus)


def app_server(work, port, locations="", cpus=None):
    """The application behind the proxies: an nginx answering `ok` in 3 bytes (and `locations`, nginx lines)."""
    return nginx_server("app", work, port, f"""    server {{
        listen 127.0.0.1:{port};
{locations}        location / {{ return 200 "ok\\n"; }}
    }}""", cpus=cpus)


def users_map(fixtures):
    """fixtures/users.json's users known by their CN alone, as the lines of an nginx map to their JSON."""
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
    """certauth probe --load with joe's certificate, keep-alive; its JSON report. Every answer must be 200."""
    command = pinned([args.certauth, "probe", f"https://localhost:{port}/", "--resolve", f"localhost:{port}:127.0.0.1",
                      "--cacert", os.path.join(args.fixtures, "ca.crt"), "--cert",
                      os.path.join(args.fixtures, "joe.crt"), "--key", os.path.join(args.fixtures, "joe.key"),
                      "--load", "--requests", str(requests), "--concurrency", str(concurrency), "--json"], OTHER_CPUS)
    out = subprocess.run(command, capture_output=True, text=True, timeout=600)
    report = json.loads(out.stdout)
    if report.get("error_count") or report["status"].get("200", 0) != requests:
        raise RuntimeError(f"load on {port}: {report['status']} errors {report.get('errors')}")
    return report
