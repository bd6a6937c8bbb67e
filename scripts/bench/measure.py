#!/usr/bin/env python3
"""The measurement harness of scripts/bench.sh (docs/benchmarks.md).

Starts certauth serve, nginx (default and tuned) and the Node.js
passport-client-cert server on 127.0.0.1, runs the same loads against each,
one at a time, interleaved across servers over several rounds, and reports
medians: server CPU per request (utime+stime of all the server's processes
from /proc), requests/s, peak RSS (VmHWM summed), load-generator CPU, RSS per
idle connection, and the handshake cost as a multiple of the crypto floor
(`openssl speed`). Writes a table to stdout and, with --markdown, the results
page; with --chart, a gnuplot PNG of requests/s by concurrency.

Run it through scripts/bench.sh, which installs the peers and builds certauth.
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shlex
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import cpu_seconds, family, free_port, pss_kb, wait_port

CLK_TCK = os.sysconf("SC_CLK_TCK")
HERE = os.path.dirname(os.path.abspath(__file__))


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# /proc

def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_busy_seconds():
    """CPU time all processes of the machine have used (from /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLK_TCK


def wait_quiet(limit, share):
    """Waits (at most `limit` s) for a 5 s window in which the machine is idle."""
    deadline = time.monotonic() + limit
    while True:
        b0, t0 = machine_busy_seconds(), time.monotonic()
        time.sleep(5)
        busy = (machine_busy_seconds() - b0) / ((time.monotonic() - t0) * os.cpu_count())
        if busy <= share / 2:
            return
        if time.monotonic() > deadline:
            log(f"the machine is still busy ({busy:.0%} of its CPUs): measuring anyway")
            return
        log(f"waiting for the machine to be idle ({busy:.0%} of its CPUs busy)")


def run_child(cmd, timeout, stdin=None, cwd=None, env=None):
    """Runs cmd to completion; returns (exit code, output, wall s, own CPU s)."""
    with tempfile.TemporaryFile() as out:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=stdin or subprocess.DEVNULL, cwd=cwd, env=env)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if time.monotonic() > deadline:
        text += f"\n[killed after {timeout}s]"
    return proc.returncode, text, wall, usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------
# Servers

class Server:
    """A server under test, in its own process group, stopped by its pid."""

    name = "?"
    label = "?"

    def __init__(self, ctx):
        self.ctx = ctx
        self.proc = None
        self.port = None

    def command(self):
        raise NotImplementedError

    def start(self, idle=False):
        self.port = free_port()
        cmd, cwd, env = self.command(idle)
        self.logfile = open(os.path.join(self.ctx.work, f"{self.name}.log"), "ab")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self.logfile,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.ctx.register(self.proc.pid)
        try:
            wait_port(self.port, self.proc)
        except RuntimeError as e:
            self.stop()
            raise RuntimeError(f"{self.name}: {e}; see {self.logfile.name}") from None
        self.cmdline = cmd
        shown = " ".join(shlex.quote(x) for x in cmd)
        shown = shown.replace(self.ctx.fixtures, "fixtures").replace(self.ctx.work, "$WORK")
        shown = shown.replace(HERE, "scripts/bench").replace(str(self.port), "PORT")
        if self.ctx.certauth:
            shown = shown.replace(self.ctx.certauth, "certauth")
        if not (idle and self.ctx.commands.get(self.name) == shown):
            self.ctx.commands.setdefault(self.name + (" (idle test)" if idle else ""), shown)

    def pids(self):
        return family(self.proc.pid)

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def memory_kb(self, key):
        return sum(status_kb(p, key) for p in self.pids())

    def pss_kb(self):
        return pss_kb(self.proc.pid)

    def reset_peak(self):
        for p in self.pids():
            try:
                with open(f"/proc/{p}/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                pass

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # nginx workers may outlive a killed master for a moment
        self.ctx.unregister(self.proc.pid)
        self.proc = None
        self.logfile.close()

    @property
    def url(self):
        return f"https://localhost:{self.port}/"


class Certauth(Server):
    name = "certauth"
    label = "certauth"

    def command(self, idle):
        f = self.ctx.fixtures
        cmd = [self.ctx.certauth, "serve", "--listen", f"127.0.0.1:{self.port}",
               "--cert", f"{f}/server.crt", "--key", f"{f}/server.key",
               "--ca", f"{f}/ca.crt", "--crl", f"{f}/ca.crl", "--crl", f"{f}/sub-ca.crl",
               "--users", f"{f}/users.json",
               # nginx runs with access_log off, the Node server logs nothing
               "--no-access-log"]
        if idle:
            # As for the peers: room for every idle connection, and kept-alive
            # connections left open as long as nginx's keepalive_timeout.
            cmd += ["--max-connections", str(self.ctx.idle_count + 1024), "--idle-timeout", "300"]
        cmd += shlex.split(os.environ.get("CERTAUTH_SERVE_ARGS", ""))
        return cmd, self.ctx.work, None


class Nginx(Server):
    def __init__(self, ctx, tuned):
        super().__init__(ctx)
        self.tuned = tuned
        self.name = "nginx-tuned" if tuned else "nginx-default"
        self.label = self.name

    def command(self, idle):
        f = self.ctx.fixtures
        prefix = os.path.join(self.ctx.work, self.name)
        os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
        with open(os.path.join(prefix, "crl.pem"), "w") as out:
            for crl in ("ca.crl", "sub-ca.crl"):
                with open(os.path.join(f, crl)) as src:
                    out.write(src.read())
        session = ("        ssl_session_tickets off;\n"
                   "        ssl_session_cache shared:SSL:10m;" if self.tuned else
                   "        # session tickets on, no session cache: nginx's defaults")
        with open(os.path.join(HERE, "nginx.conf.in")) as src:
            conf = src.read()
        for key, value in {
            "PREFIX": prefix, "FIXTURES": f, "PORT": str(self.port),
            "NOFILE": str(self.ctx.nofile),
            # Enough for the idle test; nginx preallocates these per worker,
            # so the load runs keep the size nginx ships with.
            "WORKER_CONNECTIONS": str(self.ctx.idle_count + 1024) if idle else "1024",
            "SESSION": session, "USER_MAP": nginx_user_map(f), "GROUPS": self.ctx.groups,
        }.items():
            conf = conf.replace(f"@{key}@", value)
        path = os.path.join(prefix, "nginx.conf")
        with open(path, "w") as out:
            out.write(conf)
        return (["nginx", "-p", prefix, "-c", path, "-e", os.path.join(prefix, "error.log"),
                 "-g", "daemon off;"], prefix, None)


class Node(Server):
    name = "node"
    label = "node"
    keepalive_scale = 0.25  # about 10x the CPU per request of the others

    def command(self, idle):
        env = dict(os.environ, NODE_PATH=self.ctx.node_modules)
        return (["node", os.path.join(HERE, "server.js"), self.ctx.fixtures, str(self.port)],
                self.ctx.work, env)


def user_objects(fixtures):
    """CN -> user object ({cn, ...attributes}) for the cn entries of users.json."""
    with open(os.path.join(fixtures, "users.json")) as f:
        users = json.load(f)["users"]
    out = {}
    for entry in users:
        e = {"cn": entry} if isinstance(entry, str) else entry
        if isinstance(e.get("cn"), str):
            obj = {"cn": e["cn"]}
            obj.update({k: v for k, v in e.items() if k != "cn"})
            out[e["cn"]] = obj
    return out


def nginx_user_map(fixtures):
    lines = []
    for cn, obj in user_objects(fixtures).items():
        body = json.dumps(obj, separators=(",", ":"))
        if "'" in cn or "'" in body or "\\" in body:
            continue
        lines.append(f"        '{cn}' '{body}';")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Smoke test: every server answers the benchmark's cases as certauth would.

def https_get(port, fixtures, cert):
    ctx = ssl.create_default_context(cafile=os.path.join(fixtures, "ca.crt"))
    if cert:
        ctx.load_cert_chain(os.path.join(fixtures, f"{cert}.crt"),
                            os.path.join(fixtures, f"{cert}.key"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(f"GET / HTTP/1.1\r\nHost: localhost:{port}\r\n"
                      "Connection: close\r\n\r\n".encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            version = s.version()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode(errors="replace"), version


def smoke(server, fixtures):
    expected_joe = user_objects(fixtures)["joe"]
    problems = []
    for cert, status in [("joe", 200), ("bob", 401), (None, 401), ("rogue", 401),
                         ("revoked", 401), ("expired", 401)]:
        try:
            got, body, version = https_get(server.port, fixtures, cert)
        except (OSError, ssl.SSLError, ValueError, IndexError) as e:
            problems.append(f"{cert or 'no certificate'}: {e}")
            continue
        if got != status:
            problems.append(f"{cert or 'no certificate'}: HTTP {got}, expected {status}: {body[:120]}")
        if version != "TLSv1.3":
            problems.append(f"{cert}: {version}, expected TLSv1.3")
        if cert == "joe" and got == 200:
            try:
                if json.loads(body) != expected_joe:
                    problems.append(f"joe: body {body.strip()}, expected {expected_joe}")
            except ValueError:
                problems.append(f"joe: body is not JSON: {body[:120]}")
    return problems


def negotiated_group(port, fixtures):
    """The key exchange group that an OpenSSL client with its library's
    defaults (as ab and certauth probe use) gets from the server."""
    try:
        done = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                               "-servername", "localhost", "-CAfile", os.path.join(fixtures, "ca.crt"),
                               "-cert", os.path.join(fixtures, "joe.crt"),
                               "-key", os.path.join(fixtures, "joe.key")],
                              input="", capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    # OpenSSL 3.5: "Negotiated TLS1.3 group: X25519MLKEM768" for a hybrid group,
    # "Peer Temp Key: X25519, 253 bits" otherwise; 3.0: "Server Temp Key: X25519, 253 bits"
    m = (re.search(r"^Negotiated TLS1\.3 group: (\S+)", done.stdout, re.M)
         or re.search(r"^(?:Server|Peer) Temp Key: ([^,\s]+)", done.stdout, re.M))
    return m.group(1) if m else "?"


# --------------------------------------------------------------------------
# Loads

class Load:
    def __init__(self, key, title, tool, cert, requests, concurrency, mode="keepalive",
                 only=None, section="main"):
        self.key, self.title, self.tool, self.cert = key, title, tool, cert
        self.requests, self.concurrency, self.mode = requests, concurrency, mode
        self.only, self.section = only, section

    def requests_for(self, server):
        """Keep-alive runs against a slow server are shorter (same per-request
        figures, bounded time); handshake runs are the same for all."""
        if self.mode != "keepalive":
            return self.requests
        return max(1, int(self.requests * getattr(server, "keepalive_scale", 1.0)))

    def command(self, ctx, server):
        f = ctx.fixtures
        n, c = str(self.requests_for(server)), str(self.concurrency)
        if self.tool == "ab":
            cmd = ["ab", "-q", "-n", n, "-c", c, "-E", f"{f}/{self.cert}.pem", "-s", "30"]
            if self.mode == "keepalive":
                cmd.append("-k")
            return cmd + [f"https://127.0.0.1:{server.port}/"]
        cmd = [ctx.certauth, "probe", server.url, "--load", "--requests", n,
               "--concurrency", c, "--cert", f"{f}/{self.cert}.crt",
               "--key", f"{f}/{self.cert}.key", "--cacert", f"{f}/ca.crt", "--json"]
        if self.mode in ("new", "resume"):
            cmd.append("--new-connections")
        if self.mode == "resume":
            cmd.append("--resume")
        return cmd

    def display(self, server_port="PORT"):
        """The command line with placeholders, for the results page."""
        class Fake:
            port = server_port
            url = f"https://localhost:{server_port}/"
        class FakeCtx:
            fixtures = "fixtures"
            certauth = "certauth"
        return " ".join(shlex.quote(a) for a in self.command(FakeCtx, Fake))

    def check(self, output, requests):
        """Parses the load generator's output: (requests/s, problems)."""
        expect_status = 200 if self.cert == "joe" else 401
        problems = []
        if self.tool == "ab":
            def field(name):
                m = re.search(rf"^{re.escape(name)}:\s+([\d.]+)", output, re.M)
                return float(m.group(1)) if m else None
            complete = field("Complete requests")
            if complete != requests:
                problems.append(f"ab completed {complete} of {requests} requests")
            failed = field("Failed requests")
            if failed:
                problems.append(f"ab: {int(failed)} failed requests")
            non2xx = field("Non-2xx responses") or 0
            want_non2xx = 0 if expect_status == 200 else requests
            if int(non2xx) != want_non2xx:
                problems.append(f"ab: {int(non2xx)} non-2xx responses, expected {want_non2xx}")
            if self.mode == "keepalive":
                kept = field("Keep-Alive requests") or 0
                if int(kept) != requests:
                    problems.append(f"ab -k: only {int(kept)} of {requests} requests were "
                                    "kept alive (the server closed connections)")
            return field("Requests per second"), problems
        try:
            start = output.index("{")
            report = json.loads(output[start:output.rindex("}") + 1])
        except ValueError:
            return None, [f"probe: no JSON report in: {output[-300:]}"]
        rps = find_number(report, ("requests_per_second", "rps", "requests_per_sec"))
        statuses = find_dict(report, ("status", "statuses", "by_status", "status_counts"))
        if statuses is not None:
            got = int(statuses.get(str(expect_status), 0))
            if got != requests:
                problems.append(f"probe: {got} of {requests} answered {expect_status}: {statuses}")
        errors = find_number(report, ("errors", "error_count"))
        if errors:
            problems.append(f"probe: {int(errors)} errors")
        if self.mode == "resume":
            resumed = find_number(report, ("resumed", "resumed_handshakes", "sessions_resumed"))
            if resumed is not None and resumed < 0.9 * requests:
                problems.append(f"probe --resume: only {int(resumed)} of {requests} resumed")
        return rps, problems


def find_number(obj, keys):
    if isinstance(obj, dict):
        for k in keys:
            if isinstance(obj.get(k), (int, float)) and not isinstance(obj.get(k), bool):
                return float(obj[k])
        for v in obj.values():
            r = find_number(v, keys)
            if r is not None:
                return r
    return None


def find_dict(obj, keys):
    if isinstance(obj, dict):
        for k in keys:
            if isinstance(obj.get(k), dict):
                return obj[k]
        for v in obj.values():
            r = find_dict(v, keys)
            if r is not None:
                return r
    return None


def make_loads(a):
    c = a.concurrency
    loads = [
        Load("ka-joe-ab", f"keep-alive, joe (200), ab -k -c {c}", "ab", "joe", a.keepalive, c),
        Load("ka-bob-ab", f"keep-alive, bob (401), ab -k -c {c}", "ab", "bob", a.keepalive, c),
        Load("ka-joe-probe", f"keep-alive, joe (200), probe -c {c}", "probe", "joe", a.keepalive, c),
        Load("ka-bob-probe", f"keep-alive, bob (401), probe -c {c}", "probe", "bob", a.keepalive, c),
        Load("hs-joe-ab", f"full handshake per request, joe, ab -c {c}", "ab", "joe",
             a.handshakes, c, mode="new"),
        Load("hs-joe-probe", f"full handshake per request, joe, probe --new-connections -c {c}",
             "probe", "joe", a.handshakes, c, mode="new"),
        Load("rs-joe-probe", f"resumed handshake per request, joe, probe --resume -c {c}",
             "probe", "joe", a.handshakes, c, mode="resume"),
    ]
    # nginx-tuned differs from nginx-default only in session handling: left
    # out of the keep-alive sweep.
    swept = ("certauth", "nginx-default", "node")
    for tool in ("ab", "probe"):
        for cc in a.sweep:
            # enough requests that opening the connections stays a small part
            loads.append(Load(f"sweep-{tool}-{cc}", f"keep-alive joe, {tool} -c {cc}", tool, "joe",
                              max(a.sweep_requests, 400 * cc), cc, section="sweep", only=swept))
    return loads


# --------------------------------------------------------------------------
# The crypto floor

def openssl_speed():
    out = subprocess.run(["openssl", "speed", "-seconds", "1", "rsa2048", "ecdhx25519"],
                         capture_output=True, text=True, timeout=120).stdout
    # "rsa  2048 bits 0.000347s 0.000019s 2880.0 53400.0" (3.0: sign, verify, then per
    # second); 3.5 adds encrypt and decrypt columns: the first two per-second figures.
    rsa = re.search(r"^rsa\s+2048 bits\s+(.*)$", out, re.M)
    per_second = re.findall(r"(?<![\d.])([\d.]+)(?![\d.s])", rsa.group(1)) if rsa else []
    x = re.search(r"\(X25519\)\s+[\d.]+s\s+([\d.]+)", out)
    if len(per_second) < 2 or not x:
        raise RuntimeError(f"cannot parse openssl speed output:\n{out}")
    sign, verify, ecdh = float(per_second[0]), float(per_second[1]), float(x.group(1))
    floor_us = 1e6 / sign + 2e6 / verify + 1e6 / ecdh
    return {"sign": sign, "verify": verify, "x25519": ecdh, "floor_us": floor_us}


def key_exchange_groups():
    """nginx's ssl_ecdh_curve: the groups certauth offers (src/net/tls_context.cpp),
    X25519MLKEM768 first where OpenSSL has it (3.5), so that both servers
    negotiate the same key exchange with a client."""
    done = subprocess.run(["openssl", "list", "-tls-groups"], capture_output=True, text=True, timeout=30)
    return "X25519MLKEM768:X25519" if "X25519MLKEM768" in done.stdout.split(":") else "X25519"


# --------------------------------------------------------------------------
# The run

class Context:
    def __init__(self, a):
        self.fixtures = os.path.abspath(a.fixtures)
        self.certauth = a.certauth and os.path.abspath(a.certauth)
        self.node_modules = a.node_modules and os.path.abspath(a.node_modules)
        self.work = a.work
        self.idle_count = a.idle
        self.pidfile = os.path.join(a.work, "servers.pids")
        self.registered = set()
        self.commands = {}
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.nofile = hard
        self.groups = key_exchange_groups()

    def register(self, pid):
        self.registered.add(pid)
        self._write()

    def unregister(self, pid):
        self.registered.discard(pid)
        self._write()

    def _write(self):
        with open(self.pidfile, "w") as f:
            f.write("".join(f"{p}\n" for p in sorted(self.registered)))


def measure(ctx, server, load, timeout):
    server.cpu()  # warm the /proc lookups
    busy0, before = machine_busy_seconds(), server.cpu()
    requests = load.requests_for(server)
    code, out, wall, client_cpu = run_child(load.command(ctx, server), timeout)
    after, busy1 = server.cpu(), machine_busy_seconds()
    # CPU used by anything else on the machine meanwhile (other processes;
    # the harness itself is a few ms): shown so that a noisy run is visible.
    other = max(0.0, (busy1 - busy0) - (after - before) - client_cpu)
    rps, problems = load.check(out, requests)
    if code != 0:
        problems.insert(0, f"exit code {code}: {out.strip()[-300:]}")
    if rps is None:
        rps = requests / wall
    return {"server_cpu": after - before, "client_cpu": client_cpu, "wall": wall,
            "rps": rps, "requests": requests, "problems": problems,
            "other_cpu_share": other / (wall * os.cpu_count())}


def idle_test(ctx, server, a):
    """RSS per idle keep-alive TLS connection, on a freshly started server."""
    f = ctx.fixtures
    server.start(idle=True)
    try:
        https_get(server.port, f, "joe")
        time.sleep(0.5)
        rss0, pss0, cpu0 = server.memory_kb("VmRSS"), server.pss_kb(), server.cpu()
        cmd = [sys.executable, os.path.join(HERE, "idle_clients.py"), "--port", str(server.port),
               "--cert", f"{f}/joe.crt", "--key", f"{f}/joe.key", "--cacert", f"{f}/ca.crt",
               "--count", str(a.idle)]
        client = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, start_new_session=True)
        ctx.register(client.pid)
        try:
            line = read_line(client, 300)
            if not line.startswith("established"):
                raise RuntimeError(f"idle client: {line!r}")
            established = int(line.split()[1])
            time.sleep(1.0)
            rss1, pss1, cpu1 = server.memory_kb("VmRSS"), server.pss_kb(), server.cpu()
            client.stdin.write("report\n")
            client.stdin.flush()
            alive = int(read_line(client, 30).split()[1])
            client.stdin.close()
            client.wait(timeout=60)
        finally:
            if client.poll() is None:
                os.killpg(client.pid, signal.SIGKILL)
                client.wait()
            ctx.unregister(client.pid)
        n = max(alive, 1)
        return {"connections": a.idle, "established": established, "alive": alive,
                "summary": line, "rss_before_kb": rss0, "rss_after_kb": rss1,
                "rss_per_conn_kb": (rss1 - rss0) / n, "pss_per_conn_kb": (pss1 - pss0) / n,
                "cpu_per_conn_us": (cpu1 - cpu0) / max(established, 1) * 1e6}
    finally:
        server.stop()


def profile_servers(ctx, servers, loads, a):
    """perf record of the servers' processes during some loads (--profile)."""
    os.makedirs(a.profile, exist_ok=True)
    keys = a.profile_loads.split(",")
    profiles = {}
    for load in [l for l in loads if l.key in keys]:
        for s in [s for s in servers if s.name in a.profile_servers.split(",")]:
            stem = os.path.join(a.profile, f"{s.name}-{load.key}")
            with open(stem + ".log", "w") as perf_log:
                perf = subprocess.Popen(
                    ["perf", "record", "-F", "999", "--call-graph", "dwarf,32768", "-o", stem + ".data",
                     "-p", ",".join(str(p) for p in s.pids())],
                    stdout=perf_log, stderr=subprocess.STDOUT, start_new_session=True)
                ctx.register(perf.pid)
                try:
                    time.sleep(1.0)
                    before = s.cpu()
                    run_child(load.command(ctx, s), a.timeout)
                    cpu = s.cpu() - before
                    requests = load.requests_for(s)
                finally:
                    perf.send_signal(signal.SIGINT)
                    try:
                        perf.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        perf.kill()
                        perf.wait()
                    ctx.unregister(perf.pid)
            flat = subprocess.run(
                ["perf", "report", "-i", stem + ".data", "--stdio", "--no-children",
                 "--sort", "dso,sym", "--percent-limit", "0.5", "-g", "none"],
                capture_output=True, text=True, timeout=300).stdout
            tree = subprocess.run(
                ["perf", "report", "-i", stem + ".data", "--stdio", "--children",
                 "--sort", "sym", "--percent-limit", "0.5", "-g", "none"],
                capture_output=True, text=True, timeout=300).stdout
            by_dso = subprocess.run(
                ["perf", "report", "-i", stem + ".data", "--stdio", "--no-children",
                 "--sort", "dso", "-g", "none"],
                capture_output=True, text=True, timeout=300).stdout
            with open(stem + ".txt", "w") as f:
                f.write(f"# {s.name}, {load.title}: {cpu / requests * 1e6:.0f} µs "
                        "server CPU per request while profiled\n")
                f.write("# self time by library\n" + by_dso)
                f.write("\n# self time by library and symbol\n" + flat)
                f.write("\n# inclusive time (children) by symbol\n" + tree)
            top = [l for l in flat.splitlines() if l.strip() and not l.startswith("#")][:15]
            log(f"profile {s.name} {load.key} -> {stem}.txt\n" + "\n".join(top))
            inclusive = {}
            for line in tree.splitlines():
                m = re.match(r"^\s+([\d.]+)%\s+[\d.]+%\s+\[[.k]\]\s+(\S+)", line)
                if m:
                    inclusive.setdefault(m.group(2), float(m.group(1)))
            libraries = {}
            for line in by_dso.splitlines():
                m = re.match(r"^\s+([\d.]+)%\s+(\S+)", line)
                if m:
                    libraries[library_group(m.group(2), s.name)] = (
                        libraries.get(library_group(m.group(2), s.name), 0.0) + float(m.group(1)))
            profiles.setdefault(load.key, {})[s.name] = {
                "us_per_request": cpu / requests * 1e6, "inclusive": inclusive,
                "libraries": libraries,
                "report": stem + ".txt"}
    return profiles


def library_group(dso, server):
    if dso.startswith("[kernel"):
        return "kernel"
    if dso.startswith("libcrypto"):
        return "libcrypto (OpenSSL)"
    if dso.startswith("libssl"):
        return "libssl (OpenSSL)"
    if dso.startswith("libc.so") or dso.startswith("libstdc++") or dso.startswith("libm."):
        return "libc, libstdc++"
    if dso in ("certauth", "nginx", "node") or dso.startswith("libnode"):
        return "the server's own code"
    return "other"


LIBRARY_GROUPS = ["kernel", "libcrypto (OpenSSL)", "libssl (OpenSSL)", "libc, libstdc++",
                  "the server's own code", "other"]

# Where a handshake's server CPU goes: inclusive shares of these functions.
PROFILE_MARKERS = [
    ("RSA-2048 signature (CertificateVerify)", ["EVP_DigestSignFinal"]),
    ("signature verifications (client chain)", ["EVP_DigestVerifyFinal"]),
    ("X25519 key exchange", ["EVP_PKEY_derive", "EVP_PKEY_generate", "EVP_PKEY_keygen"]),
    ("certificate verification (X509_verify_cert)", ["X509_verify_cert"]),
    ("DER decoding (ASN1_item_d2i_ex: certificates, sessions)", ["ASN1_item_d2i_ex"]),
    ("  of which public-key decoder set-up (OSSL_DECODER_CTX_new_for_pkey)",
     ["OSSL_DECODER_CTX_new_for_pkey"]),
    ("session serialisation for tickets/cache (i2d_SSL_SESSION)", ["i2d_SSL_SESSION"]),
    ("session parsing back (d2i_SSL_SESSION)", ["d2i_SSL_SESSION"]),
    ("adding sessions to the server cache (SSL_CTX_add_session)", ["SSL_CTX_add_session"]),
    ("TLS record reads (SSL_read)", ["SSL_read", "SSL_read_ex"]),
    ("TLS record writes (SSL_write)", ["SSL_write", "SSL_write_ex"]),
    ("kernel (system calls)", ["entry_SYSCALL_64_after_hwframe", "entry_SYSCALL_64"]),
]


def read_line(proc, timeout):
    import select
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise RuntimeError(f"no answer from {proc.args[1]} within {timeout}s")
    return proc.stdout.readline().strip()


def median(xs):
    return statistics.median(xs) if xs else None


def main():
    p = argparse.ArgumentParser(description="certauth benchmark harness")
    p.add_argument("--certauth", help="certauth binary (omit to bench the peers only)")
    p.add_argument("--fixtures", required=True)
    p.add_argument("--node-modules", help="folder holding passport, passport-client-cert, connect")
    p.add_argument("--work", required=True, help="scratch folder")
    p.add_argument("--servers", default="certauth,nginx-default,nginx-tuned,node")
    p.add_argument("--loads", default="", help="comma-separated load keys (default: all)")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--keepalive", type=int, default=60000,
                   help="requests per keep-alive run (node: a quarter)")
    p.add_argument("--handshakes", type=int, default=2000, help="requests per handshake run")
    p.add_argument("--concurrency", type=int, default=8,
                   help="connections of the main runs (the sweep has its own)")
    p.add_argument("--sweep", default="1,4,16,64")
    p.add_argument("--sweep-requests", type=int, default=10000)
    p.add_argument("--idle", type=int, default=10000, help="idle connections (0: skip)")
    p.add_argument("--timeout", type=float, default=120, help="seconds allowed per load run")
    p.add_argument("--noisy", type=float, default=0.35,
                   help="a run during which other processes used more than this share of "
                        "the CPUs is repeated (see --retry-noisy)")
    p.add_argument("--retry-noisy", type=int, default=1, help="repeats of a noisy run at most")
    p.add_argument("--wait-quiet", type=float, default=0,
                   help="first wait up to this many seconds for the machine to be idle")
    p.add_argument("--profile", help="record perf profiles into this folder")
    p.add_argument("--profile-loads", default="ka-joe-ab,hs-joe-ab,rs-joe-probe")
    p.add_argument("--profile-servers", default="certauth,nginx-default,nginx-tuned")
    p.add_argument("--json", help="write the raw results here")
    p.add_argument("--markdown", help="write the results page here")
    p.add_argument("--chart", help="write the concurrency chart (PNG) here")
    p.add_argument("--commands", default="", help="how bench.sh was invoked, for the page")
    p.add_argument("--compare", metavar="LABEL=JSON",
                   help="the handshake figures of another run (its --json; e.g. one on another "
                        "release), shown on the page beside this run's")
    a = p.parse_args()
    a.sweep = [int(x) for x in a.sweep.split(",") if x]
    started = time.monotonic()

    if a.wait_quiet:
        wait_quiet(a.wait_quiet, a.noisy)
    ctx = Context(a)
    wanted = a.servers.split(",")
    servers = []
    for name in wanted:
        if name == "certauth":
            if not ctx.certauth:
                log("no certauth binary given: benchmarking the peers only")
                continue
            servers.append(Certauth(ctx))
        elif name in ("nginx-default", "nginx-tuned"):
            servers.append(Nginx(ctx, tuned=name == "nginx-tuned"))
        elif name == "node":
            servers.append(Node(ctx))
        else:
            sys.exit(f"unknown server {name}")

    loads = make_loads(a)
    if a.loads:
        keep = set(a.loads.split(","))
        loads = [l for l in loads if l.key in keep or l.section in keep]
    if not ctx.certauth:
        loads = [l for l in loads if l.tool != "probe"]

    def stop_all(*_):
        for s in servers:
            try:
                s.stop()
            except Exception:  # noqa: BLE001 -- best effort on the way out
                pass
        if _:
            sys.exit(130)

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)

    results = {"samples": {}, "speed": [], "smoke": {}, "idle": {}, "peak_rss_kb": {}, "profiles": {},
               "servers": [s.name for s in servers], "problems": [], "groups": {},
               "runs": a.runs, "machine": machine(a.certauth, a.node_modules)}
    try:
        for s in servers:
            log(f"starting {s.name}")
            s.start()
            problems = smoke(s, ctx.fixtures)
            results["smoke"][s.name] = problems
            for pr in problems:
                log(f"  {s.name} smoke: {pr}")
            s.reset_peak()
            results["groups"][s.name] = negotiated_group(s.port, ctx.fixtures)
            log(f"  {s.name}: key exchange {results['groups'][s.name]}")
        # Warm-up: JIT, allocator, caches; not measured.
        for s in servers:
            for load in loads:
                if load.section == "main" and load.key.endswith("-ab"):
                    small = Load(load.key, "", "ab", load.cert, 500 if load.mode == "keepalive"
                                 else 100, load.concurrency, load.mode)
                    run_child(small.command(ctx, s), a.timeout)

        for r in range(a.runs):
            log(f"round {r + 1}/{a.runs}: openssl speed")
            results["speed"].append(openssl_speed())
            for load in loads:
                order = servers[r % len(servers):] + servers[:r % len(servers)]
                for s in order:
                    if load.only and s.name not in load.only:
                        continue
                    sample = measure(ctx, s, load, a.timeout)
                    for _ in range(a.retry_noisy):
                        if sample["other_cpu_share"] <= a.noisy or sample["problems"]:
                            break
                        log(f"  {load.key:14} {s.name:14} other processes used "
                            f"{sample['other_cpu_share']:.0%} of the CPUs: again")
                        again = measure(ctx, s, load, a.timeout)
                        if again["other_cpu_share"] < sample["other_cpu_share"]:
                            sample = again
                    results["samples"].setdefault(load.key, {}).setdefault(s.name, []).append(sample)
                    us = sample["server_cpu"] / sample["requests"] * 1e6
                    noise = sample["other_cpu_share"]
                    log(f"  {load.key:14} {s.name:14} {us:8.1f} µs/req  {sample['rps']:9.0f} req/s"
                        + (f"  (other processes: {noise:.0%} of the CPUs)" if noise > 0.1 else "")
                        + ("  !! " + "; ".join(sample["problems"]) if sample["problems"] else ""))
        for s in servers:
            results["peak_rss_kb"][s.name] = s.memory_kb("VmHWM")
        if a.profile:
            results["profiles"] = profile_servers(ctx, servers, loads, a)
        stop_all()

        if a.idle:
            for s in servers:
                log(f"idle: {a.idle} connections to {s.name}")
                try:
                    results["idle"][s.name] = idle_test(ctx, s, a)
                    log(f"  {results['idle'][s.name]['summary']}; "
                        f"{results['idle'][s.name]['rss_per_conn_kb']:.1f} KiB/conn")
                except RuntimeError as e:
                    results["problems"].append(f"idle {s.name}: {e}")
                    log(f"  idle {s.name}: {e}")
    finally:
        stop_all()

    results["elapsed_s"] = time.monotonic() - started
    results["commands"] = a.commands
    results["server_commands"] = ctx.commands
    results["loads"] = [{"key": l.key, "title": l.title, "command": l.display(),
                         "section": l.section, "concurrency": l.concurrency,
                         "requests": l.requests} for l in loads]
    report = Report(results, loads, [s.name for s in servers], a)
    if a.compare:
        label, _, path = a.compare.partition("=")
        with open(path) as f:
            report.compare = (label, json.load(f))
    print(report.text_table())
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    if a.chart:
        report.chart(a.chart)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(report.markdown())
    log(f"done in {results['elapsed_s']:.0f} s")


# --------------------------------------------------------------------------
# Reporting

def spread_text(rounds):
    """'0.71–0.90' for a (lowest, highest) pair; empty without one."""
    return f"{rounds[0]:.2f}–{rounds[1]:.2f}" if rounds else ""


def fmt(x, digits=0):
    if x is None:
        return "—"
    if abs(x) >= 100:
        digits = 0
    return f"{x:,.{digits}f}"


class Report:
    def __init__(self, results, loads, names, a):
        self.r = results
        self.loads = loads
        self.names = names
        self.a = a
        self.compare = None  # (label, results of another run)
        speeds = results["speed"]
        self.floor_us = median([s["floor_us"] for s in speeds]) if speeds else None

    def samples(self, load, server):
        return self.r["samples"].get(load, {}).get(server, [])

    def cpu_us(self, load, server):
        xs = self.samples(load, server)
        return median([x["server_cpu"] / x["requests"] * 1e6 for x in xs])

    def client_us(self, load, server):
        xs = self.samples(load, server)
        return median([x["client_cpu"] / x["requests"] * 1e6 for x in xs])

    def rps(self, load, server):
        return median([x["rps"] for x in self.samples(load, server)])

    def problems(self, load, server):
        out = []
        for x in self.samples(load, server):
            for pr in x["problems"]:
                if pr not in out:
                    out.append(pr)
        return out

    def ratio(self, load, a, b, fn=None):
        fn = fn or self.cpu_us
        x, y = fn(load, a), fn(load, b)
        if x is None or not y:
            return None
        return x / y

    def round_ratios(self, load, a, b, load_b=None):
        """Server CPU per request of a over b (under load_b, else the same
        load), round by round (the runs of one round are seconds apart): how
        far the median ratio moves with the machine's noise."""
        def per_request(x):
            return x["server_cpu"] / x["requests"] if x["requests"] else None
        out = []
        for x, y in zip(self.samples(load, a), self.samples(load_b or load, b)):
            u, v = per_request(x), per_request(y)
            if u is not None and v:
                out.append(u / v)
        return out

    # rows: (title, [cells per server])
    def rows(self):
        rows = []
        for load in self.loads:
            if load.section != "main":
                continue
            if not any(self.samples(load.key, n) for n in self.names):
                continue
            rows.append((load.title, None))
            rows.append(("  server CPU µs/request", [fmt(self.cpu_us(load.key, n), 1) for n in self.names]))
            if load.mode != "keepalive" and self.floor_us:
                rows.append(("  × crypto floor", [fmt(v / self.floor_us, 2) if v else "—" for v in
                                                  (self.cpu_us(load.key, n) for n in self.names)]))
            rows.append(("  requests/s", [fmt(self.rps(load.key, n)) for n in self.names]))
            rows.append(("  client CPU µs/request", [fmt(self.client_us(load.key, n), 1) for n in self.names]))
        sweep = [l for l in self.loads if l.section == "sweep"]
        if sweep:
            rows.append(("keep-alive joe requests/s by concurrency", None))
            for load in sweep:
                flag = " -k" if load.tool == "ab" else ""
                rows.append((f"  {load.tool}{flag} -c {load.concurrency}",
                             [fmt(self.rps(load.key, n)) for n in self.names]))
        rows.append(("memory", None))
        peak = self.r["peak_rss_kb"]
        rows.append(("  peak RSS under load, MiB (VmHWM, all processes)",
                     [fmt(peak[n] / 1024, 1) if n in peak else "—" for n in self.names]))
        idle = self.r["idle"]
        if idle:
            rows.append((f"  RSS per idle TLS connection, KiB ({self.a.idle} open)",
                         [fmt(idle[n]["rss_per_conn_kb"], 1) if n in idle else "—" for n in self.names]))
            rows.append(("  PSS per idle TLS connection, KiB",
                         [fmt(idle[n]["pss_per_conn_kb"], 1) if n in idle else "—" for n in self.names]))
            rows.append(("  idle connections still open when measured",
                         [str(idle[n]["alive"]) if n in idle else "—" for n in self.names]))
        return rows

    def ratio_rows(self):
        """(what, value, target, met) for the aims in docs/benchmarks.md."""
        out = []
        if "certauth" not in self.names:
            return out

        def add(what, value, limit, rounds=()):
            if value is None:
                return
            out.append((what, value, f"≤ {limit:g}", value <= limit, spread(rounds)))

        def spread(rounds):
            return (min(rounds), max(rounds)) if len(rounds) > 1 else None

        for load, who in [("ka-joe-ab", "joe, ab -k"), ("ka-bob-ab", "bob, ab -k"),
                          ("ka-joe-probe", "joe, probe"), ("ka-bob-probe", "bob, probe")]:
            for peer, limit in (("nginx-default", 0.8), ("nginx-tuned", 0.8), ("node", 0.25)):
                add(f"keep-alive CPU/request ({who}): certauth / {peer}",
                    self.ratio(load, "certauth", peer), limit, self.round_ratios(load, "certauth", peer))
        for load, who in [("hs-joe-ab", "ab"), ("hs-joe-probe", "probe --new-connections")]:
            for peer, limit in (("nginx-default", 0.65), ("nginx-tuned", 1.0)):
                add(f"full-handshake CPU ({who}): certauth / {peer}",
                    self.ratio(load, "certauth", peer), limit, self.round_ratios(load, "certauth", peer))
            r = self.ratio(load, "certauth", "node")
            if r is not None:
                out.append((f"full-handshake CPU ({who}): certauth / node", r, "", None,
                            spread(self.round_ratios(load, "certauth", "node"))))
        full, res = self.cpu_us("hs-joe-probe", "certauth"), self.cpu_us("rs-joe-probe", "certauth")
        add("resumed / full handshake CPU (certauth, probe)",
            res / full if res is not None and full else None, 0.25,
            self.round_ratios("rs-joe-probe", "certauth", "certauth", "hs-joe-probe"))
        peak = self.r["peak_rss_kb"]
        for n in ("nginx-default", "nginx-tuned"):
            if "certauth" in peak and n in peak:
                add(f"peak RSS: certauth / {n}", peak["certauth"] / peak[n], 1.0)
        idle = self.r["idle"]
        for n in ("nginx-default", "nginx-tuned"):
            if "certauth" in idle and n in idle and idle[n]["rss_per_conn_kb"] > 0:
                add(f"RSS per idle connection: certauth / {n}",
                    idle["certauth"]["rss_per_conn_kb"] / idle[n]["rss_per_conn_kb"], 1.0)
        a_cl, p_cl = self.client_us("ka-joe-ab", "certauth"), self.client_us("ka-joe-probe", "certauth")
        add("load-generator CPU/request on certauth: probe / ab -k (joe)",
            p_cl / a_cl if p_cl is not None and a_cl else None, 1.0)
        a_r, p_r = self.rps("ka-joe-ab", "certauth"), self.rps("ka-joe-probe", "certauth")
        if a_r and p_r:
            out.append(("requests/s on certauth: probe / ab -k (joe, higher is better)",
                        p_r / a_r, "> 1", p_r > a_r, None))
        return out

    def text_table(self):
        width = max(len(t) for t, _ in self.rows()) + 2
        col = 15
        lines = ["", " " * width + "".join(f"{n:>{col}}" for n in self.names)]
        for title, cells in self.rows():
            if cells is None:
                lines.append(title)
            else:
                lines.append(f"{title:<{width}}" + "".join(f"{c:>{col}}" for c in cells))
        if self.floor_us:
            s = self.r["speed"][-1]
            lines.append(f"crypto floor per mTLS handshake: {self.floor_us:.0f} µs "
                         f"(openssl speed: RSA-2048 {s['sign']:.0f} sign/s, {s['verify']:.0f} verify/s, "
                         f"X25519 {s['x25519']:.0f} op/s)")
        rr = self.ratio_rows()
        if rr:
            lines.append("")
            lines.append("ratios (aims of docs/benchmarks.md):")
            for what, value, target, met, rounds in rr:
                mark = "" if met is None else ("  ok" if met else "  MISSED")
                lines.append(f"  {what:<72} {fmt(value, 2):>6}  {spread_text(rounds):<11}  {target}{mark}")
        problems = self.all_problems()
        if problems:
            lines.append("")
            lines.append("problems:")
            lines += [f"  {p}" for p in problems]
        return "\n".join(lines) + "\n"

    def all_problems(self):
        out = list(self.r["problems"])
        for name, ps in self.r["smoke"].items():
            out += [f"{name} smoke test: {p}" for p in ps]
        for load in self.loads:
            for n in self.names:
                out += [f"{load.key} on {n}: {p}" for p in self.problems(load.key, n)]
        return out

    def chart(self, path):
        sweep = [l for l in self.loads if l.section == "sweep"]
        shown = [n for n in ("certauth", "nginx-default", "node") if n in self.names]
        if not sweep or not shown:
            return
        # One data file per load generator: C rps(server 1) rps(server 2) ...
        files = {}
        for tool in ("ab", "probe"):
            rows = [l for l in sweep if l.tool == tool]
            data = os.path.join(self.a.work, f"sweep-{tool}.dat")
            with open(data, "w") as f:
                f.write("# concurrency " + " ".join(shown) + "\n")
                for load in rows:
                    f.write(f"{load.concurrency} " + " ".join(
                        str(self.rps(load.key, n) or "NaN") for n in shown) + "\n")
            files[tool] = data if rows else ""
        titles = {"certauth": "certauth serve", "nginx-default": "nginx (ssl\\_verify\\_client + map)",
                  "node": "Node.js passport-client-cert"}
        subprocess.run(["gnuplot", "-e", f"abfile='{files['ab']}'; probefile='{files['probe']}'; "
                        f"outfile='{path}'; titles='{'|'.join(titles[n] for n in shown)}'; "
                        f"columns={len(shown)}; xmin={min(self.a.sweep) * 0.8}; "
                        f"xmax={max(self.a.sweep) * 1.25}", os.path.join(HERE, "plot.gp")],
                       check=True, timeout=60)

    def profile_markdown(self):
        out = []
        for key, by_server in self.r.get("profiles", {}).items():
            names = [n for n in self.names if n in by_server]
            title = next((l.title for l in self.loads if l.key == key), key)
            out += [f"## Where the server CPU goes: {title}", "",
                    "`perf record -F 999 --call-graph dwarf,32768` on the server's processes during one run "
                    "(`scripts/bench.sh --profile`); inclusive share of the server's CPU samples "
                    "spent in (and under) each function; the shares overlap.", "",
                    "| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names),
                    "| server CPU µs/request while profiled | " + " | ".join(
                        f"{by_server[n]['us_per_request']:.0f}" for n in names) + " |"]
            for group in LIBRARY_GROUPS:
                cells = [f"{by_server[n].get('libraries', {}).get(group, 0.0):.0f}%" for n in names]
                if any(c != "0%" for c in cells):
                    out.append(f"| self time in {group} | " + " | ".join(cells) + " |")
            for label, symbols in PROFILE_MARKERS:
                cells = []
                for n in names:
                    inc = by_server[n]["inclusive"]
                    v = max((inc.get(sym, 0.0) for sym in symbols), default=0.0)
                    cells.append(f"{v:.0f}%" if v else "—")
                if any(c != "—" for c in cells):
                    out.append(f"| {label} | " + " | ".join(cells) + " |")
            out.append("")
        return out

    def groups_text(self):
        """The key exchange the servers negotiated with an OpenSSL client's defaults."""
        groups = self.r.get("groups", {})
        kinds = sorted(set(groups.values()))
        if len(kinds) == 1:
            return kinds[0]
        if not kinds:
            return "X25519"
        return "key exchange " + ", ".join(f"{n}: {groups[n]}" for n in self.names if n in groups)

    def handshake_cells(self, names):
        """Rows of the handshake loads: (title, cells) with cells per name."""
        rows = []
        for key in HANDSHAKE_LOADS:
            load = next((l for l in self.loads if l.key == key), None)
            if load is None or not any(self.samples(key, n) for n in names):
                continue
            us = [self.cpu_us(key, n) if n in self.names else None for n in names]
            rows.append((load.title, None))
            rows.append(("server CPU µs/request", [fmt(u, 1) for u in us]))
            if self.floor_us:
                rows.append(("× crypto floor", [fmt(u / self.floor_us, 2) if u else "—" for u in us]))
        return rows

    def handshake_ratios(self):
        """(what, value, rounds, limit) of the handshake targets."""
        out = []
        if "certauth" not in self.names:
            return out
        for key, who in (("hs-joe-ab", "ab"), ("hs-joe-probe", "probe --new-connections")):
            out.append((f"full-handshake CPU ({who}): certauth / nginx-default",
                        self.ratio(key, "certauth", "nginx-default"),
                        self.round_ratios(key, "certauth", "nginx-default"), 0.65))
        full, res = self.cpu_us("hs-joe-probe", "certauth"), self.cpu_us("rs-joe-probe", "certauth")
        out.append(("resumed / full handshake CPU (certauth, probe)",
                    res / full if res is not None and full else None,
                    self.round_ratios("rs-joe-probe", "certauth", "certauth", "hs-joe-probe"), 0.25))
        for key, who in (("hs-joe-ab", "ab"), ("hs-joe-probe", "probe --new-connections")):
            us = self.cpu_us(key, "certauth")
            out.append((f"full handshake ({who}): certauth × crypto floor",
                        us / self.floor_us if us is not None and self.floor_us else None, [], 2.0))
        return out

    def compare_markdown(self):
        """The handshake figures of this run and of another (--compare), side by side."""
        if not self.compare:
            return []
        label, other_results = self.compare
        other = Report(other_results, self.loads, other_results["servers"], self.a)
        here = release_label(self.r.get("machine", {}))
        names = [n for n in ("certauth", "nginx-default", "nginx-tuned") if n in self.names or n in other.names]
        om = other_results.get("machine", {})
        out = [f"## Handshakes on {label}", "",
               f"The handshake loads above, run by the same harness inside a fresh {label} root on the "
               "same machine (`scripts/bench.sh --debian13`), where certauth "
               f"(built there), nginx, ab and `openssl speed` are {label}'s: {om.get('OpenSSL', '?')}; "
               f"{om.get('nginx', 'nginx ?')}; {om.get('date', '?')}, "
               f"median of {other_results.get('runs', '?')} rounds. Both sets are of the same page's "
               "fixtures, configurations and loads; each crypto floor is its own release's `openssl speed` "
               "(RSA-2048 and X25519, without ML-KEM).",
               "", "| | " + " | ".join(f"{here}: {n}" for n in names) + " | "
               + " | ".join(f"{label}: {n}" for n in names) + " |",
               "|---|" + "---:|" * (2 * len(names))]
        mine, theirs = self.handshake_cells(names), other.handshake_cells(names)
        for (title, a), (_, b) in zip(mine, theirs):
            if a is None:
                out.append(f"| **{title}** |" + " |" * (2 * len(names)))
            else:
                out.append(f"| {title} | " + " | ".join(a + b) + " |")
        out.append("| key exchange (load generator's defaults) | " + " | ".join(
            [self.r.get("groups", {}).get(n, "?") for n in names]
            + [other_results.get("groups", {}).get(n, "?") for n in names]) + " |")
        out.append("| crypto floor µs | " + " | ".join(
            [fmt(self.floor_us)] + [""] * (len(names) - 1) + [fmt(other.floor_us)] + [""] * (len(names) - 1))
            + " |")
        out += ["", "| ratio | " + here + " | " + label + " | rounds | target | " + label + " |",
                "|---|---:|---:|---:|---|---|"]
        for (what, v12, _, limit), (_, v13, rounds, _) in zip(self.handshake_ratios(), other.handshake_ratios()):
            spread = (min(rounds), max(rounds)) if len(rounds) > 1 else None
            met = "" if v13 is None else ("met" if v13 <= limit else "**missed**")
            out.append(f"| {what} | {fmt(v12, 2)} | {fmt(v13, 2)} | {spread_text(spread)} | ≤ {limit:g} | {met} |")
        out.append("")
        return out

    def markdown(self):
        r = self.r
        m = r.get("machine") or machine(self.a.certauth, self.a.node_modules)
        out = ["# Benchmarks", "",
               "Generated by `scripts/bench.sh` (see [How to rerun](#how-to-rerun)); "
               "every load figure is the median of "
               f"{self.a.runs} runs interleaved across the servers, on one machine, "
               "with the same load generator; the idle-connection figures come from one run "
               "per server.", "",
               "## Machine", ""]
        out += [f"- {k}: {v}" for k, v in m.items()]
        out += [f"- harness run time: {r['elapsed_s'] / 60:.1f} min", ""]
        out += ["## Servers", "",
                "| name | what |", "|---|---|",
                "| certauth | `certauth serve` with the fixtures (`--ca ca.crt --crl ca.crl --crl sub-ca.crl "
                "--users users.json`), threads = cores |",
                "| nginx-default | nginx, `worker_processes auto`, `ssl_verify_client optional`, "
                "`ssl_client_certificate` + `ssl_crl`, a `map` from the verified subject's CN to the "
                "user JSON, 401 JSON otherwise; TLS session handling as shipped (session tickets on, "
                "no session cache) |",
                "| nginx-tuned | the same with `ssl_session_tickets off; ssl_session_cache shared:SSL:10m` |",
                "| node | `scripts/bench/server.js`: the passport-client-cert example (connect + passport "
                "+ the strategy, `requestCert: true, rejectUnauthorized: false`), verify callback "
                "looking the CN up in the user list; one process |", "",
                f"All: TLS 1.3 only (certauth negotiates 1.3 with these clients), {self.groups_text()}, the RSA-2048 "
                "`fixtures/server.crt`, client certificate `fixtures/joe.pem` (200) or "
                "`fixtures/bob.pem` (401), CRL loaded. Configurations: `scripts/bench/nginx.conf.in`, "
                "`scripts/bench/server.js`.", ""]
        out += ["## Results", "", "| | " + " | ".join(self.names) + " |",
                "|---|" + "---:|" * len(self.names)]
        for title, cells in self.rows():
            if cells is None:
                out.append(f"| **{title}** |" + " |" * len(self.names))
            else:
                out.append(f"| {title.strip()} | " + " | ".join(cells) + " |")
        out.append("")
        if self.floor_us:
            s = self.r["speed"]
            out += [f"Crypto floor per mTLS handshake (server side: one RSA-2048 signature, two RSA-2048 "
                    f"verifications, one X25519): **{self.floor_us:.0f} µs**, from `openssl speed -seconds 1 "
                    f"rsa2048 ecdhx25519` run once per round (medians: "
                    f"{median([x['sign'] for x in s]):.0f} sign/s, {median([x['verify'] for x in s]):.0f} "
                    f"verify/s, {median([x['x25519'] for x in s]):.0f} X25519 op/s).", ""]
        rr = self.ratio_rows()
        if rr:
            out += ["## Ratios and targets", "", "Targets (the aims of docs/benchmarks.md); lower is better unless noted. "
                    "For a missed ≤ target, \"gap\" is how much certauth's figure has to come down.", "",
                    "\"Rounds\" is the lowest and highest ratio of single rounds (certauth's run and the "
                    "peer's, seconds apart): how far the machine's noise moves the figure.", "",
                    "| ratio | value | rounds | target | | gap |", "|---|---:|---:|---|---|---:|"]
            for what, value, target, met, rounds in rr:
                mark = "" if met is None else ("met" if met else "**missed**")
                gap = ""
                if met is False and target.startswith("≤"):
                    limit = float(target.split()[1])
                    gap = f"−{(1 - limit / value) * 100:.0f}%"
                out.append(f"| {what} | {fmt(value, 2)} | {spread_text(rounds)} | {target} | {mark} | {gap} |")
            out.append("")
        if self.a.chart:
            out += ["## Requests/s by concurrency", "",
                    f"![keep-alive requests/s by concurrency]({os.path.basename(self.a.chart)})", "",
                    "Keep-alive requests with joe's certificate, `ab -k -c N`; ab is single-threaded, "
                    "so at high rates it is the load generator that saturates (see its CPU above).", ""]
        out += self.compare_markdown()
        out += self.profile_markdown()
        noise = [x["other_cpu_share"] for by in r["samples"].values() for xs in by.values() for x in xs]
        if noise:
            out += [f"Other processes on the machine used a median {median(noise):.0%} (max "
                    f"{max(noise):.0%}) of its CPUs during the runs; server CPU per request is "
                    "CPU time, not wall time, so it is the figure least disturbed by them.", ""]
        problems = self.all_problems()
        if problems:
            out += ["## Problems seen in this run", ""] + [f"- {p}" for p in problems] + [""]
        out += ["## How the figures are taken", "",
                "- **server CPU µs/request**: utime+stime of all the server's processes (nginx master "
                "and workers, the node process, the certauth process) from `/proc/PID/stat`, read "
                "before and after each run, divided by the run's requests.",
                "- **client CPU**: the load generator's own utime+stime (`wait4`), so that a saturated "
                "client is visible.",
                "- **requests/s**: as reported by the load generator.",
                "- **peak RSS**: VmHWM of all the server's processes, summed, after all load runs "
                "(nginx: `worker_connections 1024`).",
                f"- **idle connections**: `scripts/bench/idle_clients.py` opens {self.a.idle} TLS "
                "connections with joe's certificate to a freshly started server, sends one keep-alive "
                "request on each and leaves them open; (VmRSS summed after − before) / connections. "
                "PSS (from smaps_rollup) counts pages shared between nginx's processes once. "
                f"nginx runs this test with `worker_connections {self.a.idle + 1024}`.",
                "- ab speaks HTTP/1.0 keep-alive; every keep-alive run checks that ab's \"Keep-Alive "
                "requests\" equals the request count, and every run checks the status of every answer.",
                f"- `certauth probe --load` runs with its default threads: against 127.0.0.1, half of the "
                f"cores ({max(1, (os.cpu_count() or 1) // 2)} here), the other half being the server's.",
                "- Before measuring, every server is checked to answer joe 200 with the user JSON and "
                "bob, no certificate, rogue, revoked and expired 401, over TLS 1.3.",
                "", "## How to rerun", "", "```sh", "scripts/bench.sh            # about 10 minutes on 2 cores",
                "scripts/bench.sh --quick    # a smoke run of the harness (1 round, small loads)",
                "scripts/bench.sh --profile  # and perf profiles (the \"Where the server CPU goes\" tables)",
                "scripts/bench.sh --debian13 # first the handshake loads in a fresh Debian 13 root (needs root)",
                "```", "", "Servers ($WORK is a scratch folder, PORT a free port; nginx's configuration is "
                "`scripts/bench/nginx.conf.in` filled in):", "", "```"]
        for name, cmd in r.get("server_commands", {}).items():
            out.append(f"# {name}")
            out.append(cmd)
        out += ["```", "", "Load commands (the Node.js server gets a quarter of the keep-alive requests, "
                "for time; the figures are per request):", "", "```"]
        seen = set()
        for load in self.loads:
            if load.key in seen:
                continue
            seen.add(load.key)
            out.append(load.display())
        out += ["```", ""]
        if self.a.commands:
            out += [f"This page: `{self.a.commands}`.", ""]
        return "\n".join(out)


HANDSHAKE_LOADS = ("hs-joe-ab", "hs-joe-probe", "rs-joe-probe")


def release_label(m):
    """'Debian 12' from a machine() record."""
    return m.get("system", "this machine")


def debian_version(package):
    try:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                              capture_output=True, text=True, timeout=30)
    except OSError:
        return ""
    return f" (Debian package {package} {done.stdout.strip()})" if done.returncode == 0 else ""


def machine(certauth=None, node_modules=None):
    def sh(cmd):
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return done.stdout + done.stderr
        except OSError:
            return ""
    model = re.search(r"Model name:\s*(.*)", sh(["lscpu"]))
    hyper = re.search(r"Hypervisor vendor:\s*(.*)", sh(["lscpu"]))
    release = {}
    try:
        with open("/etc/os-release") as f:
            release = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    except OSError:
        pass
    name = release.get("NAME", "?").strip('"').replace(" GNU/Linux", "")
    out = {
        "system": f"{name} {release.get('VERSION_ID', '').strip(chr(34))}".strip(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": (model.group(1).strip() if model else "?")
        + (f" ({hyper.group(1).strip()} guest)" if hyper else ""),
        "cores": str(os.cpu_count()),
        "kernel": platform.release(),
        "OpenSSL": sh(["openssl", "version"]).strip().splitlines()[0],
        "nginx": sh(["nginx", "-v"]).strip().splitlines()[0].replace("nginx version: ", "")
        + debian_version("nginx"),
        "node": sh(["node", "--version"]).strip().splitlines()[0],
        "ab": "ApacheBench " + (re.search(r"Version ([\d.]+)", sh(["ab", "-V"])) or ["", "?"])[1]
        + debian_version("apache2-utils"),
        "python3 (idle client)": platform.python_version(),
    }
    if certauth:
        out["certauth"] = sh([certauth, "--version"]).strip().splitlines()[0] if sh(
            [certauth, "--version"]).strip() else "?"
    if node_modules:
        versions = []
        for pkg in ("passport", "passport-client-cert", "connect"):
            try:
                with open(os.path.join(node_modules, pkg, "package.json")) as f:
                    versions.append(f"{pkg} {json.load(f)['version']}")
            except (OSError, ValueError, KeyError):
                pass
        out["npm packages"] = ", ".join(versions)
    rev = sh(["git", "-C", os.path.join(HERE, "..", ".."), "rev-parse", "--short", "HEAD"]).strip()
    if rev:
        out["certauth commit"] = rev.splitlines()[0]
    return out


if __name__ == "__main__":
    main()
