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
trap 'stop_started; rm -rf "$work"' EXIT
for program in nginx caddy haproxy curl python3; do
  command -v "$program" >/dev/null || fail "$program is not installed (scripts/bootstrap.sh installs it)"
done
mkdir -p "$out" "$work/tmp" "$work/seen"
# Caddy keeps its state under HOME and the XDG directories: the script's own.
export HOME="$work/home" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_waiting app 's/^listening \([0-9][0-9]*\)$/\1/p' python3 "$SRC/tests/e2e/apps/echo_app.py"
start_waiting recorder 's/^listening \([0-9][0-9]*\)$/\1/p' \
  python3 "$SRC/tests/e2e/apps/header_recorder.py" --dir "$work/seen" --header X-Client-Cert
# shellcheck disable=SC2154 # set by start_waiting
app_port=$app_match recorder_port=$recorder_match

# start_proxy NAME RECIPE COMMAND...: fills RECIPE's placeholders into
# $work/NAME.conf (COMMAND names it as @CONF@) and starts COMMAND until it
# listens on a free port (sets $port), the recorder in certauth's place.
start_proxy() {
  local name=$1 recipe=$2
  shift 2
  local up="" pid
  for _ in 1 2 3; do # a free port may be taken between the probe and the proxy's bind: try again
    port=$(free_port)
    sed -e "s|@WORK@|$work|g" -e "s|@PKI@|$pki|g" -e "s|@PORT@|$port|g" \
      -e "s|@CERTAUTH_PORT@|$recorder_port|g" -e "s|@APP_PORT@|$app_port|g" \
      "$SRC/docs/recipes/$recipe" >"$work/$name.conf"
    "${@//@CONF@/$work/$name.conf}" >"$work/$name.out" 2>&1 &
    pid=$!
    started_pids+=("$pid")
    for _ in $(seq 1 100); do
      if python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null; then up=1; break; fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    [ -n "$up" ] && break
  done
  [ -n "$up" ] || { cat "$work/$name.out" "$work/error.log" >&2 2>/dev/null || true; fail "$name did not start"; }
  proxy_pid=$pid
}

# capture PROXY: the three cases through the proxy on $port, into $out.
capture() {
  local proxy=$1 case auth
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

start_proxy nginx nginx.conf nginx -p "$work" -e "$work/error.log" -c @CONF@
capture nginx
kill -TERM "$proxy_pid"
start_proxy caddy Caddyfile caddy run --config @CONF@ --adapter caddyfile
capture caddy
kill -TERM "$proxy_pid"
start_proxy haproxy haproxy.cfg haproxy -db -f @CONF@
capture haproxy
echo "captured into $out"
