#!/usr/bin/env bash
# Captures the certificate header as the real nginx, Caddy and HAProxy send it:
# each proxy runs with its recipe (docs/recipes/), as the tests in tests/e2e/
# do, with tests/e2e/apps/header_recorder.py where certauth would be; the
# fixture clients connect through it and the header's bytes are written to
#   OUTDIR/PROXY-CASE.value   (or .absent when the proxy sent no such header)
# CASE: joe (a leaf of ca.crt), carol (a chain: carol and the intermediate
# sub-ca, of which the proxies pass the leaf only), none (no certificate).
# OUTDIR defaults to tests/fixtures/proxy-vectors, the committed copy that
# tests/server/proxy_vectors_test.cpp decodes; scripts/make-fixtures.sh runs
# this after making new fixtures, and tests/fixtures/proxy_vectors_current.sh
# checks that the proxies installed still send exactly these bytes.
# Needs nginx, caddy, haproxy, curl and python3 (scripts/bootstrap.sh).
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$SRC/tests/fixtures/proxy-vectors}"
pki="$SRC/fixtures"
work="$(mktemp -d)"
# shellcheck source-path=SCRIPTDIR source=../tests/e2e/lib/processes.sh
source "$SRC/tests/e2e/lib/processes.sh"
# shellcheck source-path=SCRIPTDIR source=../tests/e2e/lib/proxy.sh
source "$SRC/tests/e2e/lib/proxy.sh"
trap 'stop_started; rm -rf "$work"' EXIT
for program in nginx caddy haproxy curl python3; do
  command -v "$program" >/dev/null || fail "$program is not installed (scripts/bootstrap.sh installs it)"
done
mkdir -p "$out" "$work/tmp" "$work/seen"
# Caddy keeps its state under HOME and the XDG directories: the script's own.
export HOME="$work/home" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"

start_waiting app 's/^listening \([0-9][0-9]*\)$/\1/p' python3 "$SRC/tests/e2e/apps/echo_app.py"
start_waiting recorder 's/^listening \([0-9][0-9]*\)$/\1/p' \
  python3 "$SRC/tests/e2e/apps/header_recorder.py" --dir "$work/seen" --header X-Client-Cert
# shellcheck disable=SC2154 # set by start_waiting
app_port=$app_match recorder_port=$recorder_match
# The recipes' placeholders (a recipe ignores those it does not use), the
# recorder in certauth's place.
fills=(WORK="$work" PKI="$pki" CERTAUTH_PORT="$recorder_port" APP_PORT="$app_port")

# capture PROXY PORT: the three cases through the proxy on PORT, into $out.
capture() {
  local proxy=$1 port=$2 case auth
  for case in joe carol none; do
    case $case in
      joe) auth=(--cert "$pki/joe.crt" --key "$pki/joe.key") ;;
      carol) auth=(--cert "$pki/carol-chain.pem" --key "$pki/carol.key") ;;
      none) auth=() ;;
    esac
    rm -f "$work/seen/$case".*
    curl -sS --max-time 10 --cacert "$pki/ca.crt" "${auth[@]}" -H "X-Capture-Case: $case" \
      -o /dev/null "https://localhost:$port/capture/$case" || fail "$proxy $case: the request failed"
    local seen
    seen=$(find "$work/seen" -name "$case.*" ! -name '*.tmp' -printf '%f\n')
    case $seen in
      "$case.value" | "$case.absent") ;;
      *) fail "$proxy $case: the recorder saw '${seen:-no request}'" ;;
    esac
    rm -f "$out/$proxy-$case".*
    cp "$work/seen/$seen" "$out/$proxy-$seen"
    echo "$proxy $case: $seen, $(wc -c <"$work/seen/$seen") bytes"
  done
}

# shellcheck disable=SC2154 # nginx_*, caddy_*, haproxy_*: set by start_proxy
{
  start_proxy nginx "$SRC/docs/recipes/nginx.conf" "${fills[@]}" -- nginx -p "$work" -e "$work/error.log" -c @CONF@
  capture nginx "$nginx_port"
  kill -TERM "$nginx_pid"
  start_proxy caddy "$SRC/docs/recipes/Caddyfile" "${fills[@]}" -- caddy run --config @CONF@ --adapter caddyfile
  capture caddy "$caddy_port"
  kill -TERM "$caddy_pid"
  start_proxy haproxy "$SRC/docs/recipes/haproxy.cfg" "${fills[@]}" -- haproxy -db -f @CONF@
  capture haproxy "$haproxy_port"
}
echo "captured into $out"
