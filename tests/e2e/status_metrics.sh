#!/usr/bin/env bash
# serve --status: /metrics passes `promtool check metrics` (the Prometheus
# package's own linter: HELP and TYPE on each metric, names, escaping), and
# counts what the server did - requests by code and reason, handshakes, a
# SIGHUP reload - and gives the expiry dates of the server certificate, the CA
# and the CRL's nextUpdate as the files hold them; /status says the same in
# JSON, /healthz answers; a unix socket works; --require-cert's refused
# handshakes are counted by reason; with --upstream the
# application's answers and a connection it refuses are counted; a
# non-loopback address is refused.
set -euo pipefail

CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
cd "$SRC"

work="$(mktemp -d)"
app_pid=""
# shellcheck source=tests/e2e/lib/processes.sh
source "$SRC/tests/e2e/lib/processes.sh"
cleanup() {
  stop_serve
  [ -z "$app_pid" ] || kill -TERM "$app_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
command -v promtool >/dev/null || fail "promtool missing (Debian package prometheus: scripts/bootstrap.sh)"

# The value of one sample line of $work/metrics ("" when absent).
# (A label value may hold spaces: the value is what follows the last one.)
sample() { awk -v name="$1" 'substr($0, 1, length(name) + 1) == name " " { print $NF }' "$work/metrics"; }
scrape() { curl -sf --max-time 5 "$status/metrics" >"$work/metrics" || fail "GET /metrics"; }
# code_of CURL_ARGS...: the status curl printed (-w '%{http_code}', 5 s at the
# most), and curl's exit status after it, said on stderr too, when curl
# failed after a status: a body cut short, or one never ended as framed
# (curl waits until --max-time, then still prints the status). 000: no
# answer at all (a refused handshake).
code_of() {
  local code rc=0
  code="$(curl -s --max-time 5 -w '%{http_code}' "$@")" || rc=$?
  if [ "$rc" != 0 ] && [ "$code" != 000 ]; then
    echo "curl $*: status $code, then curl exit $rc" >&2
    code+=" (curl exit $rc)"
  fi
  echo "$code"
}
epoch() { date -u -d "$1" +%s; }

# 1. Refused addresses: the status pages have no authentication.
for bad in 10.1.2.3:9090 0.0.0.0:9090 '*:9090' unix:relative.sock; do
  set +e
  "$CERTAUTH" serve --config fixtures/certauth.toml --listen 127.0.0.1:0 --status "$bad" >/dev/null 2>"$work/bad.err"
  code=$?
  set -e
  [ "$code" = 2 ] || fail "--status $bad: exit $code, expected 2"
  grep -q "certauth: error: --status" "$work/bad.err" || fail "--status $bad: $(cat "$work/bad.err")"
done
# A socket path taken by a regular file: the listener's error, after the flag.
: >"$work/regular"
set +e
"$CERTAUTH" serve --config fixtures/certauth.toml --listen 127.0.0.1:0 --status "unix:$work/regular" \
  >/dev/null 2>"$work/bad.err"
code=$?
set -e
[ "$code" = 2 ] || fail "--status on a regular file: exit $code, expected 2"
[ "$(cat "$work/bad.err")" = "certauth: error: --status: unix:$work/regular: the file exists and is not a socket" ] ||
  fail "--status on a regular file: $(cat "$work/bad.err")"
[ -f "$work/regular" ] || fail "--status removed the regular file"

# 2. A server with a status listener on a free loopback port.
start_serve --config fixtures/certauth.toml --no-access-log --threads 2 --status 127.0.0.1:0
status=""
for _ in $(seq 1 50); do
  status="$(sed -n 's/.*status on \(http:\/\/[^ ]*\) .*/\1/p' "$work/serve.err" | head -n 1)"
  [ -n "$status" ] && break
  sleep 0.1
done
[ -n "$status" ] || fail "no 'status on' line: $(cat "$work/serve.err")"
[ "$(code_of -o /dev/null "$status/healthz")" = 200 ] || fail "/healthz"
[ "$(code_of -o /dev/null "$status/nothing")" = 404 ] || fail "/nothing not 404"
[ "$(code_of -o /dev/null -X POST "$status/metrics")" = 405 ] || fail "POST not 405"
# A page whose site name was pointed at 127.0.0.1 (DNS rebinding) sends that
# name in Host: refused (421, naming it); localhost and IP addresses pass,
# with or without a port, and so does a request without Host.
status_port=${status##*:}
host_code() { code_of -o "$work/host.out" "$@" "$status/status"; }
[ "$(host_code -H "Host: rebind.example:$status_port")" = 421 ] || fail "a foreign Host not 421"
grep -q '"error":"misdirected_request".*rebind.example' "$work/host.out" || fail "421 body: $(cat "$work/host.out")"
[ "$(host_code -H "Host: localhost.example")" = 421 ] || fail "localhost.example not 421"
[ "$(host_code -H "Host: 127.0.0.1.nip.io:$status_port")" = 421 ] || fail "127.0.0.1.nip.io not 421"
for host in "localhost:$status_port" "LocalHost" "localhost." "127.0.0.1" "[::1]:$status_port" "10.1.2.3:80"; do
  [ "$(host_code -H "Host: $host")" = 200 ] || fail "Host: $host not 200: $(cat "$work/host.out")"
done
[ "$(host_code -H "Host:")" = 200 ] || fail "no Host not 200"

scrape
[ "$(sample 'certauth_requests_total{code="200",reason="ok"}')" = 0 ] || fail "requests before any: $(cat "$work/metrics")"

url="https://localhost:$serve_port/"
request() { code_of --cacert fixtures/ca.crt -o /dev/null "$@" "$url"; }
for _ in 1 2 3; do [ "$(request --cert fixtures/joe.pem)" = 200 ] || fail "joe"; done
for _ in 1 2; do [ "$(request --cert fixtures/bob.pem)" = 401 ] || fail "bob"; done
[ "$(request --cert fixtures/rogue.pem)" = 401 ] || fail "rogue"
[ "$(request)" = 401 ] || fail "no certificate"

scrape
promtool check metrics <"$work/metrics" || fail "promtool check metrics"
# Every family has its HELP and its TYPE (promtool also says so).
grep -v '^#' "$work/metrics" | sed 's/[{ ].*//; s/_bucket$//; s/_sum$//; s/_count$//' | sort -u >"$work/names"
while read -r name; do
  grep -q "^# HELP $name " "$work/metrics" || fail "no HELP for $name"
  grep -q "^# TYPE $name " "$work/metrics" || fail "no TYPE for $name"
done <"$work/names"
[ "$(sample 'certauth_requests_total{code="200",reason="ok"}')" = 3 ] || fail "joe's 200s"
[ "$(sample 'certauth_requests_total{code="401",reason="unknown_user"}')" = 2 ] || fail "bob's 401s"
[ "$(sample 'certauth_requests_total{code="401",reason="untrusted"}')" = 1 ] || fail "rogue's 401"
[ "$(sample 'certauth_requests_total{code="401",reason="no_certificate"}')" = 1 ] || fail "no certificate's 401"
[ "$(sample 'certauth_request_duration_seconds_count')" = 7 ] || fail "duration count"
[ "$(sample 'certauth_handshakes_total{result="full"}')" = 7 ] || fail "handshakes"
[ "$(sample 'certauth_connections_total')" -ge 7 ] || fail "connections"
[ "$(sample 'certauth_users')" = 7 ] || fail "users"
! grep -q 'joe\|bob' "$work/metrics" || fail "a user's name in a label"

server_end="$(epoch "$(openssl x509 -in fixtures/server.crt -noout -enddate | cut -d= -f2)")"
ca_end="$(epoch "$(openssl x509 -in fixtures/ca.crt -noout -enddate | cut -d= -f2)")"
crl_next="$(epoch "$(openssl crl -in fixtures/ca.crl -noout -nextupdate | cut -d= -f2)")"
[ "$(sample 'certauth_certificate_not_after_seconds{role="server",subject="CN=localhost"}')" = "$server_end" ] \
  || fail "server notAfter"
[ "$(sample 'certauth_certificate_not_after_seconds{role="ca",subject="CN=certauth test CA, O=certauth"}')" = "$ca_end" ] \
  || fail "CA notAfter"
[ "$(sample 'certauth_crl_next_update_seconds{issuer="CN=certauth test CA, O=certauth"}')" = "$crl_next" ] \
  || fail "CRL nextUpdate"

# 3. A reload shows.
[ "$(sample 'certauth_reloads_total{result="success"}')" = 0 ] || fail "reloads before SIGHUP"
kill -HUP "$serve_pid"
for _ in $(seq 1 50); do
  scrape
  [ "$(sample 'certauth_reloads_total{result="success"}')" = 1 ] && break
  sleep 0.1
done
[ "$(sample 'certauth_reloads_total{result="success"}')" = 1 ] || fail "SIGHUP not counted"
[ "$(sample 'certauth_config_generation')" = 2 ] || fail "generation after SIGHUP"

# 4. /status: the same in JSON.
curl -sf --max-time 5 "$status/status" >"$work/status.json" || fail "GET /status"
python3 - "$work/status.json" "$server_end" "$crl_next" <<'PY' || fail "/status: $(cat "$work/status.json")"
import calendar, json, sys, time
d = json.load(open(sys.argv[1]))
def epoch(text): return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
assert d["generation"] == 2, d["generation"]
assert d["reloads"]["success"] == 1
assert d["state"] == "serving"
assert d["users"] == 7
assert epoch(d["server_certificate"]["not_after"]) == int(sys.argv[2])
assert [epoch(c["next_update"]) for c in d["crls"]] == [int(sys.argv[3])]
assert d["cas"][0]["subject"] == "CN=certauth test CA, O=certauth"
PY
stop_serve

# 5. On a unix socket (the file goes away with the server).
sock="$work/status.sock"
start_serve --config fixtures/certauth.toml --no-access-log --threads 1 --status "unix:$sock"
for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
curl -sf --max-time 5 --unix-socket "$sock" http://localhost/metrics >"$work/metrics" || fail "unix socket /metrics"
promtool check metrics <"$work/metrics" || fail "promtool check metrics (unix socket)"
[ "$(code_of --unix-socket "$sock" -o /dev/null http://localhost/healthz)" = 200 ] \
  || fail "unix socket /healthz"
stop_serve
[ ! -e "$sock" ] || fail "the socket file stayed after the server stopped"

# 6. With --require-cert: refused handshakes by reason.
start_serve --config fixtures/certauth.toml --no-access-log --threads 1 --status 127.0.0.1:0 --require-cert
status=""
for _ in $(seq 1 50); do
  status="$(sed -n 's/.*status on \(http:\/\/[^ ]*\) .*/\1/p' "$work/serve.err" | head -n 1)"
  [ -n "$status" ] && break
  sleep 0.1
done
url="https://localhost:$serve_port/"
[ "$(request)" = 000 ] || fail "no certificate with --require-cert: not refused at the handshake"
[ "$(request --cert fixtures/rogue.pem)" = 000 ] || fail "rogue with --require-cert"
[ "$(request --cert fixtures/expired.pem)" = 000 ] || fail "expired with --require-cert"
[ "$(request --cert fixtures/joe.pem)" = 200 ] || fail "joe with --require-cert"
scrape
[ "$(sample 'certauth_handshakes_total{result="failed"}')" = 3 ] || fail "failed handshakes"
[ "$(sample 'certauth_handshakes_total{result="full"}')" = 1 ] || fail "joe's handshake"
for reason in no_certificate untrusted expired; do
  [ "$(sample "certauth_handshake_failures_total{reason=\"$reason\"}")" = 1 ] \
    || fail "handshake failure $reason: $(grep handshake_failures "$work/metrics")"
done
[ "$(sample 'certauth_requests_total{code="200",reason="ok"}')" = 1 ] || fail "requests with --require-cert"
stop_serve

# 7. With --upstream: the application's answers and a refused connection.
python3 tests/e2e/apps/echo_app.py >"$work/app.out" 2>&1 &
app_pid=$!
app_port=""
for _ in $(seq 1 100); do
  app_port="$(sed -n 's/^listening \([0-9][0-9]*\)$/\1/p' "$work/app.out")"
  [ -n "$app_port" ] && break
  sleep 0.1
done
[ -n "$app_port" ] || fail "echo_app did not start: $(cat "$work/app.out")"
start_serve --config fixtures/certauth.toml --no-access-log --threads 1 --status 127.0.0.1:0 \
  --upstream "http://127.0.0.1:$app_port"
status=""
for _ in $(seq 1 50); do
  status="$(sed -n 's/.*status on \(http:\/\/[^ ]*\) .*/\1/p' "$work/serve.err" | head -n 1)"
  [ -n "$status" ] && break
  sleep 0.1
done
url="https://localhost:$serve_port/"
for _ in 1 2; do [ "$(request --cert fixtures/joe.pem)" = 200 ] || fail "joe through the application"; done
[ "$(request --cert fixtures/bob.pem)" = 401 ] || fail "bob with --upstream"
kill -TERM "$app_pid"
wait "$app_pid" 2>/dev/null || true
app_pid=""
[ "$(request --cert fixtures/joe.pem)" = 502 ] || fail "joe without the application: not 502"
scrape
promtool check metrics <"$work/metrics" || fail "promtool check metrics (--upstream)"
[ "$(sample 'certauth_upstream_requests_total{code="200"}')" = 2 ] || fail "upstream 200s: $(grep upstream "$work/metrics")"
[ "$(sample 'certauth_upstream_duration_seconds_count')" = 2 ] || fail "upstream duration count"
[ "$(sample 'certauth_upstream_errors_total{why="connect"}')" = 1 ] || fail "upstream connect error: $(grep upstream_errors "$work/metrics")"
[ "$(sample 'certauth_requests_total{code="502",reason="none"}')" = 1 ] || fail "the 502 by code and reason"
stop_serve

echo "status and metrics: all checks passed"
