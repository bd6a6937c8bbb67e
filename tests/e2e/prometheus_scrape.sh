#!/usr/bin/env bash
# A real Prometheus (the Debian package) scrapes serve --status every second
# (loopback only, its data in a scratch folder): after 1,000 requests of joe
# and 500 of bob with `probe --load`, and a SIGHUP, Prometheus's HTTP query
# API says certauth_requests_total{code="200"} = 1000,
# {code="401",reason="unknown_user"} = 500 and a successful reload.
set -euo pipefail

CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
cd "$SRC"

work="$(mktemp -d)"
prometheus_pid=""
# shellcheck source=tests/e2e/lib/processes.sh
source "$SRC/tests/e2e/lib/processes.sh"
cleanup() {
  stop_serve
  stop_process "$prometheus_pid"
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
command -v prometheus >/dev/null || fail "prometheus missing (Debian package prometheus: scripts/bootstrap.sh)"

start_serve --config fixtures/certauth.toml --no-access-log --threads 2 --status 127.0.0.1:0
target=""
for _ in $(seq 1 50); do
  target="$(sed -n 's/.*status on http:\/\/\([^ ]*\) .*/\1/p' "$work/serve.err" | head -n 1)"
  [ -n "$target" ] && break
  sleep 0.1
done
[ -n "$target" ] || fail "no 'status on' line: $(cat "$work/serve.err")"

cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: certauth
    static_configs:
      - targets: ["$target"]
YML

# Prometheus names no port it picked itself: a free one, asked of the kernel
# (tried again if another process takes it meanwhile).
api=""
for _ in 1 2 3; do
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$port" >"$work/prometheus.log" 2>&1 &
  prometheus_pid=$!
  for _ in $(seq 1 150); do
    if curl -sf --max-time 1 "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1; then api="http://127.0.0.1:$port"; break; fi
    kill -0 "$prometheus_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$api" ] && break
  kill -KILL "$prometheus_pid" 2>/dev/null || true
  prometheus_pid=""
done
[ -n "$api" ] || fail "prometheus did not start: $(tail -n 20 "$work/prometheus.log")"

# The scalar value of a PromQL query ("" when it has no result).
query() {
  curl -sf --max-time 5 --get --data-urlencode "query=$1" "$api/api/v1/query" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}
# Waits at most 30 s for a query to give the value.
wait_for() {
  local got=""
  for _ in $(seq 1 150); do
    got="$(query "$1" || true)"
    [ "$got" = "$2" ] && return 0
    sleep 0.2
  done
  fail "$1 = '$got' after 30 s, expected $2"
}

wait_for 'up{job="certauth"}' 1

url="https://localhost:$serve_port/"
"$CERTAUTH" probe "$url" --cacert fixtures/ca.crt --cert fixtures/joe.pem --load --requests 1000 --concurrency 4 \
  >"$work/joe.out" || fail "joe load: $(cat "$work/joe.out")"
"$CERTAUTH" probe "$url" --cacert fixtures/ca.crt --cert fixtures/bob.pem --load --requests 500 --concurrency 4 \
  --expect 401 --expect-reason unknown_user >"$work/bob.out" || fail "bob load: $(cat "$work/bob.out")"
kill -HUP "$serve_pid"

wait_for 'sum(certauth_requests_total{code="200"})' 1000
wait_for 'certauth_requests_total{code="401",reason="unknown_user"}' 500
wait_for 'certauth_reloads_total{result="success"}' 1
wait_for 'certauth_config_generation' 2
[ "$(query 'sum(certauth_requests_total)')" = 1500 ] || fail "other requests counted"

echo "prometheus scrapes certauth: all checks passed"
