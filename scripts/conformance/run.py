#!/usr/bin/env python3
"""The engine of scripts/conformance.sh (see its --help).

Makes a test PKI with `certauth pki init`, starts each server on 127.0.0.1
with an ephemeral port and the same trust (ca.crt, the CRLs where the server
takes them) and the same user list (users.json, as each server can express
it), runs `certauth probe --scenarios` with the PKI's scenarios.json and
scenarios-require-cert.json against it, stops it, and writes a Markdown page:
per case and server the outcome probe observed, which scenario files passed,
and what that means for someone running that server. Every outcome, count and
version on the page comes from this run.

Standard library only. Every server runs in its own process group and is
stopped (SIGTERM, then SIGKILL) when it is done, when a step fails and on
SIGINT/SIGTERM; every wait is bounded.
"""

import argparse
import datetime
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
START_TIMEOUT = float(os.environ.get("CONFORMANCE_START_TIMEOUT", "20"))  # seconds for a server to listen
STOP_TIMEOUT = 5  # seconds between SIGTERM and SIGKILL


class Failed(Exception):
    """A step that went wrong, with a message for a person."""


# ---------------------------------------------------------------------------
# Processes


class SignalsHeld:
    """SIGTERM and SIGINT wait until the block is over, then take their
    course: the run's stop (the SystemExit its handler raises) never falls
    between a server's start and its recording, where it would leave that
    server running."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __enter__(self):
        self.caught = None
        self.previous = {s: signal.signal(s, self.hold) for s in self.SIGNALS}
        return self

    def hold(self, signum, frame):
        self.caught = self.caught or signum

    def __exit__(self, *exc):
        for s, handler in self.previous.items():
            signal.signal(s, handler)
        if self.caught is not None:
            signal.raise_signal(self.caught)
        return False


class Processes:
    """The servers this run started: each in its own process group, stopped
    by its group id (never by name)."""

    def __init__(self):
        self.running = []

    def start(self, argv, log, env=None, cwd=None):
        with SignalsHeld():
            return self.start_and_record(argv, log, env, cwd)

    def start_and_record(self, argv, log, env, cwd):
        out = open(log, "wb")
        try:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=env, cwd=cwd, start_new_session=True)
        finally:
            out.close()
        self.running.append(process)
        return process

    def stop(self, process):
        if process not in self.running:
            return
        self.running.remove(process)
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        # Workers of a server (nginx) are in the same group.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()

    def stop_all(self):
        for process in list(self.running):
            self.stop(process)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(process, log, ready, what):
    """Polls ready() until it returns a value, for at most START_TIMEOUT s."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        if process.poll() is not None:
            raise Failed(f"{what} exited with status {process.returncode}:\n{tail(log)}")
        time.sleep(0.1)
    raise Failed(f"{what} did not listen within {START_TIMEOUT:g} s:\n{tail(log)}")


def tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


def program_output(argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return (r.stdout + r.stderr).strip()


# ---------------------------------------------------------------------------
# The user list, as each server can express it


# The match keys of a users.json entry (docs/users.md); its other keys are attributes.
MATCH_KEYS = {"cn", "o", "ou", "email", "dns", "uri", "ip", "fingerprint256", "serial", "issuer_cn"}


def load_users(certauth, pki):
    """users.json's entries as (match, user JSON text, roles): match is
    ("cn", CN) or ("fingerprint", certificate facts). A fingerprint entry's
    CN and other fingerprints come from the PKI's certificate that has it."""
    with open(os.path.join(pki, "users.json")) as f:
        document = json.load(f)
    certificates = {}
    crts = sorted(os.path.join(pki, n) for n in os.listdir(pki) if n.endswith(".crt"))
    r = subprocess.run([certauth, "check", "--json", *crts], capture_output=True, text=True, timeout=60)
    for line in r.stdout.splitlines():
        facts = json.loads(line).get("certificate") or {}
        if "fingerprint256" in facts:
            certificates[facts["fingerprint256"].upper()] = facts
    users = []
    for entry in document["users"]:
        if isinstance(entry, str):
            entry = {"cn": entry}
        keys = set(entry) & MATCH_KEYS
        attributes = {k: v for k, v in entry.items() if k not in MATCH_KEYS}
        if keys == {"cn"}:
            match, cn = ("cn", entry["cn"]), entry["cn"]
        elif keys == {"fingerprint256"}:
            facts = certificates.get(entry["fingerprint256"].upper())
            if facts is None:
                raise Failed(f"users.json: no certificate of {pki} has fingerprint256 {entry['fingerprint256']}")
            match, cn = ("fingerprint", facts), facts["subject"]["CN"]
        else:
            raise Failed(f"users.json: entry {entry} matches on {sorted(keys)}; this script maps cn and "
                         "fingerprint256 entries only")
        user = json.dumps({"cn": cn, **attributes}, separators=(",", ":"), ensure_ascii=False)
        if "'" in user or "$" in user or "`" in user or "\n" in user:
            raise Failed(f"users.json: entry {entry} holds a character this script does not quote for the servers")
        users.append((match, user, " ".join(entry.get("roles", []))))
    routes = document.get("routes", [])
    for route in routes:
        if not re.fullmatch(r"/[A-Za-z0-9._/-]*", route["path"]) or not all(
                re.fullmatch(r"[A-Za-z0-9._-]+", role) for role in route.get("roles", [])):
            raise Failed(f"users.json: route {route} has characters this script does not quote for the servers")
    return users, routes


def hex_of(fingerprint):
    return fingerprint.replace(":", "")


def roles_regex(roles):
    return "(^| )(" + "|".join(re.escape(role) for role in roles) + ")( |$)"


def fill(template, values):
    with open(os.path.join(HERE, template)) as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace("@" + key + "@", value)
    leftover = re.search(r"@[A-Z_]+@", text)
    if leftover:
        raise Failed(f"{template}: placeholder {leftover.group(0)} not filled")
    return text


def nginx_config(work, pki, port, verify, users, routes):
    user_lines, role_lines = [], []
    for (kind, value), user, roles in users:
        key = f"~^{re.escape(value)}/" if kind == "cn" else f"~/{hex_of(value['fingerprint']).lower()}$"
        user_lines.append(f"        \"{key}\" '{user}';")
        if roles:
            role_lines.append(f"        \"{key}\" \"{roles}\";")
    route_lines = []
    for route in routes:
        path = route["path"]
        if route.get("public"):
            route_lines.append(f"        location {path} {{\n            return 200 '{{\"public\":true}}';\n        }}")
        elif route.get("roles"):
            route_lines.append(
                f"        location {path} {{\n"
                f"            if ($user = \"\") {{\n                return 401 '{{\"error\":\"unauthorized\"}}';\n"
                f"            }}\n"
                f"            if ($roles !~ \"{roles_regex(route['roles'])}\") {{\n"
                f"                return 403 '{{\"error\":\"forbidden\"}}';\n            }}\n"
                f"            return 200 $user;\n        }}")
    os.makedirs(os.path.join(work, "tmp"), exist_ok=True)
    return fill("nginx.conf.in", {"WORK": work, "PKI": pki, "PORT": str(port), "VERIFY": verify,
                                  "USERS": "\n".join(user_lines), "ROLES": "\n".join(role_lines),
                                  "ROUTES": "\n".join(route_lines)})


def haproxy_config(work, pki, port, verify, users, routes):
    maps = {"users-cn.map": [], "roles-cn.map": [], "users-fp.map": [], "roles-fp.map": []}
    for (kind, value), user, roles in users:
        if kind == "cn":
            key, suffix = value.replace("\\", "\\\\").replace(" ", "\\ "), "cn"
        else:
            key, suffix = hex_of(value["fingerprint256"]).upper(), "fp"
        maps[f"users-{suffix}.map"].append(f"{key} {user}")
        if roles:
            maps[f"roles-{suffix}.map"].append(f"{key} {roles}")
    for name, lines in maps.items():
        with open(os.path.join(work, name), "w") as f:
            f.write("".join(line + "\n" for line in lines))
    route_lines = []
    for i, route in enumerate(routes):
        path = route["path"]
        acl = f"route{i}"
        route_lines.append(f"    acl {acl} path {path}\n    acl {acl} path_beg {path.rstrip('/')}/")
        if route.get("public"):
            route_lines.append(f"    http-request return status 200 content-type application/json "
                               f"string '{{\"public\":true}}' if {acl}")
        elif route.get("roles"):
            route_lines.append(f"    http-request return status 401 content-type application/json "
                               f"string '{{\"error\":\"unauthorized\"}}' if {acl} !{{ var(txn.user) -m found }}")
            route_lines.append(f"    http-request return status 403 content-type application/json "
                               f"string '{{\"error\":\"forbidden\"}}' if {acl} "
                               f"!{{ var(txn.roles) -m reg '{roles_regex(route['roles'])}' }}")
    return fill("haproxy.cfg.in", {"WORK": work, "PKI": pki, "PORT": str(port), "VERIFY": verify,
                                   "ROUTES": "\n".join(route_lines)})


def caddy_config(work, pki, port, mode, users, routes):
    by_cn, by_fp = [], []
    for (kind, value), user, roles in users:
        if kind == "cn":
            by_cn.append(f"\t\t~(^|,)CN={re.escape(value)}(,|$) `{user}` \"{roles}\"")
        else:
            # An exact key never matched the fingerprint placeholder in Caddy
            # 2.6.2 (the same text, printed); an anchored regular expression does.
            by_fp.append(f"\t\t~^{hex_of(value['fingerprint256']).lower()}$ `{user}` \"{roles}\"")
    route_lines = []
    for i, route in enumerate(routes):
        path = route["path"].rstrip("/") or "/"
        paths = f"{path} {path}/*" if path != "/" else "/*"
        if route.get("public"):
            route_lines.append(f"\t\t@route{i} path {paths}\n\t\trespond @route{i} `{{\"public\":true}}` 200")
        elif route.get("roles"):
            route_lines.append(
                f"\t\t@route{i}_anonymous {{\n\t\t\tpath {paths}\n"
                f"\t\t\texpression `{{user_by_cn}} == \"\" && {{user_by_fp}} == \"\"`\n\t\t}}\n"
                f"\t\trespond @route{i}_anonymous `{{\"error\":\"unauthorized\"}}` 401\n"
                f"\t\t@route{i}_forbidden {{\n\t\t\tpath {paths}\n"
                f"\t\t\texpression `!({{roles_by_cn}} + {{roles_by_fp}}).matches(\"{roles_regex(route['roles'])}\")`\n"
                f"\t\t}}\n"
                f"\t\trespond @route{i}_forbidden `{{\"error\":\"forbidden\"}}` 403")
    return fill("Caddyfile.in", {"WORK": work, "PKI": pki, "PORT": str(port), "MODE": mode,
                                 "USERS_CN": "\n".join(by_cn), "USERS_FP": "\n".join(by_fp),
                                 "ROUTES": "\n".join(route_lines)})


# ---------------------------------------------------------------------------
# The servers


class Server:
    def __init__(self, key, title, program, setup, start):
        self.key, self.title, self.program, self.setup, self.start = key, title, program, setup, start


def start_certauth(run, work, extra):
    log = os.path.join(work, "serve.log")
    process = run.processes.start([run.certauth, "serve", "--config", os.path.join(run.pki, "certauth.toml"),
                                   "--listen", "127.0.0.1:0", "--no-access-log", *extra], log)

    def port():
        m = re.search(r"listening on https://[^ ]*:(\d+)", tail(log, 50))
        return int(m.group(1)) if m else None

    return process, wait_for(process, log, port, "certauth serve")


def start_on_free_port(run, work, what, make_argv):
    """Servers that cannot tell the port they took: a free port, then wait
    until it accepts connections; another try if someone took it first."""
    last = None
    for _ in range(3):
        port = free_port()
        log = os.path.join(work, "server.log")
        argv, env = make_argv(port)
        process = run.processes.start(argv, log, env=env, cwd=work)
        try:
            wait_for(process, log, lambda: listening(port), what)
            return process, port
        except Failed as failed:
            run.processes.stop(process)
            last = failed
    raise last


def start_nginx(verify):
    def start(run, work):
        def argv(port):
            config = os.path.join(work, "nginx.conf")
            with open(config, "w") as f:
                f.write(nginx_config(work, run.pki, port, verify, run.users, run.routes))
            return ["nginx", "-p", work, "-e", os.path.join(work, "error.log"), "-c", config], None

        return start_on_free_port(run, work, "nginx", argv)

    return start


def start_haproxy(verify):
    def start(run, work):
        def argv(port):
            config = os.path.join(work, "haproxy.cfg")
            with open(config, "w") as f:
                f.write(haproxy_config(work, run.pki, port, verify, run.users, run.routes))
            return ["haproxy", "-db", "-f", config], None

        return start_on_free_port(run, work, "haproxy", argv)

    return start


def start_caddy(mode):
    def start(run, work):
        def argv(port):
            config = os.path.join(work, "Caddyfile")
            with open(config, "w") as f:
                f.write(caddy_config(work, run.pki, port, mode, run.users, run.routes))
            env = dict(os.environ, HOME=work, XDG_DATA_HOME=os.path.join(work, "data"),
                       XDG_CONFIG_HOME=os.path.join(work, "config"))
            return ["caddy", "run", "--config", config, "--adapter", "caddyfile"], env

        return start_on_free_port(run, work, "caddy", argv)

    return start


def start_node(run, work):
    log = os.path.join(work, "server.log")
    process = run.processes.start(["node", os.path.join(HERE, "client_cert_server.js"), run.pki], log)

    def port():
        m = re.search(r"listening (\d+)", tail(log))
        return int(m.group(1)) if m else None

    return process, wait_for(process, log, port, "the Node.js server")


SERVERS = [
    Server("certauth", "certauth", "certauth", "`certauth serve` with the PKI's certauth.toml",
           lambda run, work: start_certauth(run, work, [])),
    Server("certauth-require-cert", "certauth `--require-cert`", "certauth",
           "the same with `--require-cert`", lambda run, work: start_certauth(run, work, ["--require-cert"])),
    Server("nginx-on", "nginx `on`", "nginx",
           "`ssl_verify_client on`, `ssl_client_certificate ca.crt`, `ssl_crl all.crl`, `ssl_verify_depth 2`, "
           "`ssl_protocols TLSv1.2 TLSv1.3`; "
           "users.json as a `map` of `$ssl_client_s_dn`'s CN (and `$ssl_client_fingerprint`, SHA-1, for an entry "
           "keyed by fingerprint) to the user, `return` 200/401/403",
           start_nginx("on")),
    Server("nginx-optional", "nginx `optional`", "nginx", "the same with `ssl_verify_client optional`",
           start_nginx("optional")),
    Server("caddy-require", "Caddy `require_and_verify`", "caddy",
           "`client_auth { mode require_and_verify; trusted_ca_cert_file ca.crt }` (Caddy 2.6 has no CRL "
           "setting); users.json as a `map` of `{http.request.tls.client.subject}` (and `.fingerprint`) to the "
           "user, `respond` 200/401/403",
           start_caddy("require_and_verify")),
    Server("caddy-if-given", "Caddy `verify_if_given`", "caddy", "the same with `mode verify_if_given`",
           start_caddy("verify_if_given")),
    Server("haproxy-required", "HAProxy `verify required`", "haproxy",
           "`bind ... ssl crt server.pem ca-file ca.crt crl-file all.crl verify required`; users.json as maps "
           "of `ssl_c_s_dn(CN)` (and `ssl_c_der,sha2(256)`) to the user, `http-request return` 200/401/403",
           start_haproxy("required")),
    Server("haproxy-optional", "HAProxy `verify optional`", "haproxy", "the same with `verify optional`",
           start_haproxy("optional")),
    Server("node", "Node.js, passport-client-cert's way", "node",
           "`scripts/conformance/client_cert_server.js`: Node's `https` with `requestCert: true, "
           "rejectUnauthorized: false`, `ca` and `crl` of the PKI; a request is authenticated when "
           "`req.socket.authorized`, then looked up by CN (fingerprint256 where users.json says so), as the "
           "strategy does; refusals are passport's default 401 `Unauthorized`",
           start_node),
]
SHORT = ["certauth", "nginx-on", "haproxy-optional"]
SCENARIO_FILES = ["scenarios.json", "scenarios-require-cert.json"]


def versions(certauth, keys):
    """(program, version) of everything that ran, as the programs say it,
    each with the OpenSSL it runs on."""
    programs = {SERVERS_BY_KEY[k].program for k in keys}
    out = []
    lines = program_output([certauth, "--version"]).splitlines()
    running = re.search(r"running with (OpenSSL [0-9][^ ,]*)", " ".join(lines))
    out.append(("certauth", lines[0].removeprefix("certauth ") +
                (f", running on {running.group(1)}" if running else "")))
    if "nginx" in programs:
        text = program_output(["nginx", "-V"])
        version = re.search(r"nginx version: nginx/(\S+)", text)
        running = re.search(r"running with (OpenSSL [0-9][^ )]*)", text) or re.search(
            r"built with (OpenSSL [0-9][^ ]*)", text)
        out.append(("nginx", (version.group(1) if version else text.splitlines()[0]) +
                    (f", running on {running.group(1)}" if running else "")))
    if "caddy" in programs:
        go = re.search(r"^go\s+go(\S+)", program_output(["caddy", "build-info"]), re.MULTILINE)
        out.append(("Caddy", program_output(["caddy", "version"]).splitlines()[0] +
                    (f", built with Go {go.group(1)} (its own TLS)" if go else "")))
    if "haproxy" in programs:
        text = program_output(["haproxy", "-vv"])
        version = re.search(r"HAProxy version (\S+)", text)
        running = re.search(r"Running on OpenSSL version : (OpenSSL [0-9]\S*)", text)
        out.append(("HAProxy", (version.group(1) if version else text.splitlines()[0]) +
                    (f", running on {running.group(1)}" if running else "")))
    if "node" in programs:
        out.append(("Node.js", program_output(["node", "-e", "console.log(process.version + ', running on "
                                               "OpenSSL ' + process.versions.openssl)"])))
    return out


SERVERS_BY_KEY = {s.key: s for s in SERVERS}


# ---------------------------------------------------------------------------
# Running


class Run:
    def __init__(self, certauth, work, pki):
        self.certauth = certauth
        self.work = work
        self.pki = pki
        self.processes = Processes()
        self.users, self.routes = [], []


def probe(run, scenarios, url, report):
    r = subprocess.run([run.certauth, "probe", "--scenarios", scenarios, "--url", url, "--report", "json",
                        "--output", report], capture_output=True, text=True, timeout=600)
    if not os.path.exists(report):
        raise Failed(f"certauth probe --scenarios {scenarios} wrote no report (exit {r.returncode}):\n{r.stderr}")
    with open(report) as f:
        return json.load(f)


def run_server(run, server):
    work = os.path.join(run.work, server.key)
    os.makedirs(work)
    print(f"conformance: {server.title}: starting", file=sys.stderr)
    process, port = server.start(run, work)
    try:
        url = f"https://localhost:{port}"
        reports = {}
        for name in SCENARIO_FILES:
            reports[name] = probe(run, os.path.join(run.pki, name), url,
                                  os.path.join(work, name.replace(".json", "-report.json")))
        passed = ", ".join(f"{name} {r['passed']}/{r['tests']}" for name, r in reports.items())
        print(f"conformance: {server.title} on {url}: {passed}", file=sys.stderr)
        return reports
    finally:
        run.processes.stop(process)


# ---------------------------------------------------------------------------
# The page

DESCRIPTIONS = {
    "joe": "in the list",
    "bob": "trusted, not in the list",
    "expired": "notAfter in the past",
    "notyet": "notBefore in the future",
    "revoked": "on the CA's CRL",
    "rogue": "CN=joe from an untrusted CA",
    "serveronly": "EKU serverAuth only",
    "carol": "via an intermediate CA, chain sent",
    "dave": "EC key, listed by fingerprint",
    "hostile": "markup in its subject, not in the list",
    "no certificate": "",
    "joe GET /admin": "role admin",
    "carol GET /admin": "role reader only",
    "no certificate GET /public": "public route",
    "no certificate GET /healthz": "health check",
    "joe HEAD /": "",
}

# What a certificate case that got through says about the server.
LET_IN_WHY = {
    "expired": "validity dates not checked",
    "notyet": "validity dates not checked",
    "revoked": "revocation not checked",
    "rogue": "issuer not checked",
    "serveronly": "extended key usage not checked",
}


def page_title(body):
    m = re.search(r"<title>(.*?)</title>", body or "", re.IGNORECASE | re.DOTALL)
    return html.unescape(m.group(1)).strip() if m else ""


def outcome(case):
    """What a server did in one case, as a table cell shows it."""
    if case["refused"]:
        return f"refused: `{case['tls']['alert']}`"
    if case["status"] is None:
        return f"error: {case['got']}"
    text = str(case["status"])
    if case["reason"]:
        return f"{text} `{case['reason']}`"
    title = page_title(case.get("body"))
    if title:
        return f"{text} page \"{html.escape(title.removeprefix(text).strip(), quote=False)}\""
    return text


def ok_status(status):
    return status is not None and 200 <= status < 300


def expectations(pki):
    with open(os.path.join(pki, "scenarios.json")) as f:
        return {c["name"]: c for c in json.load(f)["cases"]}


def mark(case, expected):
    """⚠ a case certauth refuses that got in; ✗ one it lets in that was kept out."""
    want_ok = ok_status(expected.get("status"))
    got_ok = ok_status(case["status"]) and not case["refused"]
    if got_ok and not want_ok:
        return "⚠ "
    if want_ok and not got_ok:
        return "✗ "
    return ""


def expected_cell(expected):
    text = str(expected["status"])
    return text + (f" `{expected['reason']}`" if expected.get("reason") else "")


def cell(text):
    return text.replace("|", "\\|")


# certauth's reasons for a certificate that does not get a request in.
CERTIFICATE_FAILURES = {"no_certificate", "untrusted", "expired", "not_yet_valid", "revoked", "wrong_usage"}


def meaning(report, expected):
    """A few sentences for someone who runs this server, made from what this
    run observed."""
    cases = report["cases"]
    lines = []
    let_in = [c for c in cases if mark(c, expected[c["name"]]) == "⚠ "]
    kept_out = [c for c in cases if mark(c, expected[c["name"]]) == "✗ "]
    if let_in:
        why = sorted({LET_IN_WHY[c["name"]] for c in let_in if c["name"] in LET_IN_WHY})
        lines.append("**Lets in what certauth refuses**: " +
                     ", ".join(f"{c['name']} ({outcome(c)})" for c in let_in) +
                     (f" — {'; '.join(why)}." if why else "."))
    else:
        lines.append("Lets in none of the certificates certauth refuses.")
    if kept_out:
        lines.append("Keeps out what certauth lets in: " +
                     ", ".join(f"{c['name']} ({outcome(c)})" for c in kept_out) + "." +
                     (" Nothing is reachable without a certificate: a health check or a public page needs "
                      "another listener." if any(c["name"].startswith("no certificate GET") for c in kept_out)
                      else ""))
    failures = [c for c in cases
                if expected[c["name"]].get("reason") in CERTIFICATE_FAILURES and c not in let_in]
    if failures:
        refused = [c for c in failures if c["refused"]]
        answered = [c for c in failures if not c["refused"]]
        parts = []
        if refused:
            alerts = sorted({c["tls"]["alert"] for c in refused})
            parts.append(f"{len(refused)} refused at the TLS handshake (alert{'s' if len(alerts) != 1 else ''} " +
                         ", ".join(f"`{a}`" for a in alerts) + ")")
        if answered:
            answers = sorted({outcome(c) for c in answered})
            parts.append(f"{len(answered)} answered over HTTP ({'; '.join(answers)})")
        distinct = len({outcome(c) for c in failures})
        if distinct == len(failures):
            verdict = "each gets its own answer: a client can tell why"
        elif distinct == 1:
            verdict = "all get the same answer: a client cannot tell why"
        else:
            verdict = f"{distinct} different answers for {len(failures)} cases: some look alike to a client"
        lines.append(f"Of the {len(failures)} certificate failures it refuses ("
                     f"{', '.join(c['name'] for c in failures)}), " + " and ".join(parts) + f"; {verdict}.")
        if refused:
            lines.append("A refusal at the handshake reaches a TLS client as the alert (`certauth probe -v`, "
                         "`openssl s_client` show it); a browser shows its own error page, and the application "
                         "never sees the request.")
    requested = [c for c in cases if c["tls"]["certificate_requested"]]
    if requested:
        names = sorted({"; ".join(c["tls"]["requested_cas"]) or "(none)" for c in requested})
        lines.append("Asks for a client certificate naming " + " or ".join(f"`{n}`" for n in names) + ".")
    return lines


def markdown(run, keys, results, short, started):
    expected = expectations(run.pki)
    names = list(expected)
    out = []
    out.append("# Conformance: how mTLS servers answer the failure cases")
    out.append("")
    out.append("The same test PKI (`certauth pki init`), the same trust (its `ca.crt`, and its CRLs where the "
               "server takes them) and the same user list (its `users.json`, as each server can express it), "
               "and the same scenario matrix (`certauth probe --scenarios`) against each server, all on "
               "127.0.0.1. Each cell is what probe observed: the status (with certauth's `reason` when the "
               "body had one, or the title of an HTML error page), or `refused:` and the TLS alert the server "
               "ended the connection with. ⚠ marks a case certauth refuses that got in; ✗ a case certauth "
               "lets in that was kept out.")
    out.append("")
    out.append("What happens at the TLS level (a refusal and its alert, nginx's 400 pages) is each server's own "
               "doing; the 200, 401 and 403 answers of the other servers come from the configurations "
               "`scripts/conformance/` writes for them (the user list as a map, a role check on `/admin`, "
               "`/public` and `/healthz` open), and carry no reason because those servers have none to give.")
    out.append("")
    out.append(f"Made by `scripts/conformance.sh{' --short' if short else ''}` on "
               f"{started.strftime('%Y-%m-%d')}: {len(names)} cases, each with both scenario files, against "
               f"{len(keys)} servers. What ran:")
    out.append("")
    for program, version in versions(run.certauth, keys):
        out.append(f"- {program} {version}")
    out.append("")
    out.append("## Outcomes")
    out.append("")
    header = ["case", "certauth's answer"] + [SERVERS_BY_KEY[k].title for k in keys]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---|" * len(header))
    for name in names:
        description = DESCRIPTIONS.get(name, "")
        row = [f"**{name}**" + (f" ({description})" if description else ""), expected_cell(expected[name])]
        for key in keys:
            case = next(c for c in results[key]["scenarios.json"]["cases"] if c["name"] == name)
            row.append(mark(case, expected[name]) + outcome(case))
        out.append("| " + " | ".join(cell(x) for x in row) + " |")
    for file in SCENARIO_FILES:
        row = [f"`{file}` passed", ""]
        for key in keys:
            r = results[key][file]
            row.append(f"{r['passed']}/{r['tests']}")
        out.append("| " + " | ".join(row) + " |")
    row = ["TLS version", ""]
    for key in keys:
        row.append(", ".join(sorted({c["tls"]["version"] for c in results[key]["scenarios.json"]["cases"]
                                     if c["tls"]["version"]})))
    out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.append("`scenarios.json` holds certauth's answers; `scenarios-require-cert.json` the same cases for a "
               "server that requires a certificate at the handshake (refused there, reasons optional). "
               "[pki.md](pki.md) describes both, and [probe.md](probe.md) the report.")
    out.append("")
    out.append("## What this means for you")
    for key in keys:
        server = SERVERS_BY_KEY[key]
        out.append("")
        out.append(f"### {server.title}")
        out.append("")
        out.append(f"Configured: {server.setup}.")
        out.append("")
        for line in meaning(results[key]["scenarios.json"], expected):
            out.append(f"- {line}")
    out.append("")
    out.append("## Run it yourself")
    out.append("")
    out.append("`scripts/conformance.sh` writes this page (`--output FILE` elsewhere; `--short` runs certauth, "
               "nginx `on` and HAProxy `verify optional` only, as the test suite does; `--keep` keeps the "
               "configurations it wrote). To test your own server the same way, see "
               "[pki.md](pki.md#test-your-own-server).")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certauth", required=True)
    parser.add_argument("--output", required=True, help="the page to write; - for standard output")
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--servers", help="comma-separated: " + ",".join(s.key for s in SERVERS))
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--pki", help="a folder made by `certauth pki init` to use instead of a new one")
    args = parser.parse_args()
    keys = args.servers.split(",") if args.servers else (SHORT if args.short else [s.key for s in SERVERS])
    for key in keys:
        if key not in SERVERS_BY_KEY:
            parser.error(f"unknown server {key} (known: {', '.join(SERVERS_BY_KEY)})")
    for program in sorted({SERVERS_BY_KEY[k].program for k in keys} - {"certauth"}):
        if shutil.which(program) is None:
            raise Failed(f"{program} is not installed (scripts/bootstrap.sh installs it)")

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    started = datetime.datetime.now(datetime.timezone.utc)
    work = tempfile.mkdtemp(prefix="certauth-conformance.")
    run = Run(os.path.abspath(args.certauth), work,
              os.path.abspath(args.pki) if args.pki else os.path.join(work, "pki"))
    try:
        if not args.pki:
            # The PKI's own names (localhost, 127.0.0.1, ::1) serve every port.
            r = subprocess.run([run.certauth, "pki", "init", run.pki], capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                raise Failed(f"certauth pki init failed:\n{r.stderr}")
        run.users, run.routes = load_users(run.certauth, run.pki)
        results = {key: run_server(run, SERVERS_BY_KEY[key]) for key in keys}
        text = markdown(run, keys, results, args.short, started)
    finally:
        run.processes.stop_all()
        if args.keep:
            print(f"conformance: scratch folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w") as f:
            f.write(text)
        print(f"conformance: wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as failed:
        print(f"conformance: {failed}", file=sys.stderr)
        sys.exit(2)
