#!/usr/bin/env python3
"""Behind nginx (scripts/bench.sh): what certauth's decision costs when nginx
terminates mTLS and asks certauth per request with auth_request.

  - "nginx + certauth": docs/recipes/nginx.conf as written (its placeholders
    filled), certauth serve --listen-trusted --proxy-preset nginx, one worker;
  - "nginx alone": the same nginx server doing the decision itself -
    ssl_verify_client on with the CA and CRL, the CN looked up in a map, 401
    when either fails - and proxy_pass to the application as the recipe does.
The recipe sends its subrequests as HEAD requests over a keep-alive pool
to certauth (an answer to HEAD has no body, and nginx keeps an upstream
connection only when nothing of the answer is left unread, while an auth
subrequest reads the header only). A third setup is the recipe without the
pool: a connection to certauth per subrequest. All pass joe's requests to the same application, a
third nginx answering "ok". Load: certauth probe --load with joe's certificate, keep-alive, 16
connections (the recipe's worker_connections 64 holds three connections per
request: the client's, the subrequest's and the application's). Measured, per
request: the server CPU of nginx and certauth together against nginx alone
(the application and the load generator excluded), and certauth's own.

Then certauth alone, its --listen-trusted port loaded with ab (keep-alive, 8
connections) sending joe's header as nginx sends it: certauth's CPU per
cached decision (the chain verified once, remembered by the hash of its
bytes), with a user list of 10 entries and of 100,000.
Rounds alternate the setups; medians go to --out (Markdown) and standard
output. Standard library only; the process helpers are scripts/bench/benchlib.py's.
"""

import json
import os
import re
import statistics
import subprocess
import urllib.parse

from benchlib import (Server, app_server, free_port, load, log, nginx_server, parse, parser, running, scratch,
                      users_map, write_report)


def recipe_nginx(args, work, port, certauth_port, app_port, keepalive=True):
    """docs/recipes/nginx.conf; without `keepalive`, its subrequests open a
    connection to certauth each instead of using its pool."""
    name = "recipe" if keepalive else "recipe-no-pool"
    prefix = os.path.join(work, name)
    os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
    with open(os.path.join(args.root, "docs/recipes/nginx.conf")) as f:
        conf = f.read()
    if not keepalive:
        pool_line = "        keepalive 16;\n"
        assert pool_line in conf
        conf = conf.replace(pool_line, "", 1)
    for key, value in {"WORK": prefix, "PKI": args.fixtures, "PORT": str(port), "CERTAUTH_PORT": str(certauth_port),
                       "APP_PORT": str(app_port)}.items():
        conf = conf.replace(f"@{key}@", value)
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return Server(name, ["nginx", "-p", prefix, "-e", os.path.join(prefix, "error.log"), "-c", path], port)


def alone_nginx(args, work, port, app_port):
    """The recipe's server, deciding itself: verify, map, proxy_pass."""
    return nginx_server("alone", work, port, f"""    map $ssl_client_s_dn $client_cn {{
        default "";
        "~(^|,)CN=(?<cn>[^,]+)" $cn;
    }}
    map $client_cn $user_json {{
        default "";
{users_map(args.fixtures)}
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate {args.fixtures}/server.crt;
        ssl_certificate_key {args.fixtures}/server.key;
        ssl_verify_client on;
        ssl_client_certificate {args.fixtures}/ca.crt;
        ssl_crl {args.fixtures}/ca.crl;
        location / {{
            if ($user_json = "") {{ return 401; }}
            proxy_set_header X-Certauth-User $user_json;
            proxy_set_header X-Certauth-CN $client_cn;
            proxy_pass http://127.0.0.1:{app_port};
        }}
    }}""")


def users_file(args, work, count):
    """fixtures/users.json's entries and routes, filled up to `count` users."""
    with open(os.path.join(args.fixtures, "users.json")) as f:
        users = json.load(f)
    users["users"] += [{"cn": f"user-{i:06d}", "roles": ["reader"]} for i in range(count - len(users["users"]))]
    path = os.path.join(work, f"users-{count}.json")
    with open(path, "w") as f:
        json.dump(users, f)
    return path


def certauth_trusted(args, name, port, users):
    f = args.fixtures
    return Server(name, [args.certauth, "serve", "--listen-trusted", f"127.0.0.1:{port}", "--proxy-preset", "nginx",
                         "--threads", "1", "--no-access-log", "--ca", f"{f}/ca.crt", "--crl", f"{f}/all.crl",
                         "--intermediate", f"{f}/sub-ca.crt", "--users", users], port, cwd=args.work)


def ab_decisions(server, header, requests, concurrency):
    """certauth's CPU per decision under ab's keep-alive load, in µs."""
    before = server.cpu()
    out = subprocess.run(["ab", "-q", "-k", "-n", str(requests), "-c", str(concurrency), "-H", f"X-Client-Cert: {header}",
                          "-H", "X-Original-URI: /some/page", f"http://127.0.0.1:{server.port}/auth"],
                         capture_output=True, text=True, timeout=600)
    cpu_us = (server.cpu() - before) * 1e6 / requests
    complete = re.search(r"^Complete requests:\s+(\d+)", out.stdout, re.M)
    keep_alive = re.search(r"^Keep-Alive requests:\s+(\d+)", out.stdout, re.M)
    if (out.returncode != 0 or not complete or int(complete.group(1)) != requests or "Non-2xx" in out.stdout
            or not keep_alive or int(keep_alive.group(1)) != requests):
        raise RuntimeError(f"ab on {server.name}: {out.stdout[-800:]} {out.stderr[-400:]}")
    return cpu_us


def measure_rounds(args, certauth, fronts, small, large):
    """The rounds, alternating the setups: µs of server CPU per request, per round and setup."""
    with open(os.path.join(args.fixtures, "joe.crt")) as f:
        header = urllib.parse.quote(f.read(), safe="-._~")  # $ssl_client_escaped_cert
    rows = {"together": [], "alone": [], "certauth": [], "pooled": [], "pooled_certauth": [], "10": [],
            "100000": []}
    for round_ in range(args.rounds):
        for front, key, certauth_key in fronts if round_ % 2 == 0 else reversed(fronts):
            load(args, front.port, 2000, args.concurrency)  # warm: the connections' handshakes
            before_front, before_certauth = front.cpu(), certauth.cpu()
            load(args, front.port, args.requests, args.concurrency)
            front_us = (front.cpu() - before_front) * 1e6 / args.requests
            certauth_us = (certauth.cpu() - before_certauth) * 1e6 / args.requests
            if certauth_key:
                rows[key].append(front_us + certauth_us)
                rows[certauth_key].append(certauth_us)
            else:
                rows[key].append(front_us)
        for server, key in ((small, "10"), (large, "100000")) if round_ % 2 == 0 else ((large, "100000"),
                                                                                         (small, "10")):
            ab_decisions(server, header, 2000, 8)  # warm: the chain verified and remembered
            rows[key].append(ab_decisions(server, header, args.decisions, 8))
        log(f"auth_request round {round_ + 1}: " + json.dumps({k: round(v[-1], 1) for k, v in rows.items()}))
    return rows


def main():
    p = parser(__doc__.split("\n\n")[0], rounds=3, requests=30000, concurrency=16)
    p.add_argument("--decisions", type=int, default=100000, help="ab requests per round on certauth alone")
    args = parse(p)
    with scratch("certauth-auth-request-") as work:
        args.work = work
        os.chmod(work, 0o755)  # nginx's workers (www-data when started as root) read their files
        app_port, certauth_port, recipe_port, alone_port = free_port(), free_port(), free_port(), free_port()
        pooled_port = free_port()
        app = app_server(work, app_port)
        certauth = certauth_trusted(args, "certauth", certauth_port, os.path.join(args.fixtures, "users.json"))
        recipe = recipe_nginx(args, work, recipe_port, certauth_port, app_port, keepalive=False)
        pooled = recipe_nginx(args, work, pooled_port, certauth_port, app_port)
        alone = alone_nginx(args, work, alone_port, app_port)
        small_port, large_port = free_port(), free_port()
        small = certauth_trusted(args, "10 users", small_port, users_file(args, work, 10))
        large = certauth_trusted(args, "100,000 users", large_port, users_file(args, work, 100000))
        fronts = [(recipe, "together", "certauth"), (pooled, "pooled", "pooled_certauth"), (alone, "alone", None)]
        with running([app, certauth, recipe, pooled, alone, small, large]):
            rows = measure_rounds(args, certauth, fronts, small, large)
        med = {k: statistics.median(v) for k, v in rows.items()}
        text = (
            "| per request, keep-alive, joe | measured | aim |\n"
            "|---|---|---|\n"
            f"| server CPU, nginx alone (verify + `map`) | {med['alone']:.1f} µs | |\n"
            f"| server CPU, nginx + certauth (`auth_request`, the recipe as written) | {med['pooled']:.1f} µs | |\n"
            f"| ratio | {med['pooled'] / med['alone']:.2f} | ≤ 2 |\n"
            f"| added by asking certauth | {med['pooled'] - med['alone']:.1f} µs | |\n"
            f"| certauth's own CPU, through nginx | {med['pooled_certauth']:.1f} µs | |\n"
            f"| server CPU, nginx + certauth without the recipe's pool (a new connection per subrequest) | "
            f"{med['together']:.1f} µs | |\n"
            f"| ratio | {med['together'] / med['alone']:.2f} | |\n"
            f"| certauth's own CPU, without the pool | {med['certauth']:.1f} µs | |\n"
            f"| certauth's own CPU per cached decision (keep-alive, ab), 10 users | {med['10']:.1f} µs | ≤ 20 µs |\n"
            f"| the same, 100,000 users | {med['100000']:.1f} µs | |\n"
            f"| 100,000 users / 10 users | {med['100000'] / med['10']:.2f} | ≤ 1.2 |\n")
        write_report(args, f"Behind nginx: medians of {args.rounds} rounds; {args.requests} requests through nginx "
                     f"({args.concurrency} connections) and {args.decisions} straight to certauth (ab, 8 "
                     f"connections) per round.", text, rounds=rows, rounds_title="Rounds (µs per request)")


if __name__ == "__main__":
    main()
