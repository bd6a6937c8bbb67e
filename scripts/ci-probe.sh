#!/usr/bin/env bash
# Runs a scenario matrix against a freshly started certauth server, for CI.
#
#   scripts/ci-probe.sh [--config FILE] [--scenarios FILE] [--report-out FILE] [-- extra serve args]
#
# Starts `certauth serve` on 127.0.0.1 with a free port (--listen 127.0.0.1:0)
# and the given configuration (default: fixtures/certauth.toml), reads the
# real port from its start-up line, waits for /healthz, runs
#   certauth probe --scenarios FILE --url https://localhost:PORT --report junit --output REPORT
# (the text table goes to stdout), stops the server whatever happens and exits
# with probe's status: 0 every case passed, 1 a case failed, 2 an error
# (including a server that did not start).
#
# Environment: CERTAUTH (the binary; default: build/certauth, else `certauth`
# in PATH), CI_PROBE_START_TIMEOUT (seconds to wait for the start-up line,
# default 30), CI_PROBE_HEALTH_TIMEOUT (seconds to wait for /healthz, default 15).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="$root/fixtures/certauth.toml"
scenarios="$root/fixtures/scenarios.json"
report_out="probe-report.xml"
serve_args=()

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="${2:?--config needs a file}"; shift 2 ;;
    --scenarios) scenarios="${2:?--scenarios needs a file}"; shift 2 ;;
    --report-out) report_out="${2:?--report-out needs a file}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; serve_args=("$@"); break ;;
    *) echo "ci-probe: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ -z "${CERTAUTH:-}" ]; then
  if [ -x "$root/build/certauth" ]; then CERTAUTH="$root/build/certauth"
  elif command -v certauth >/dev/null 2>&1; then CERTAUTH="$(command -v certauth)"
  else echo "ci-probe: no certauth binary (set CERTAUTH or build into build/)" >&2; exit 2
  fi
fi
for f in "$config" "$scenarios"; do
  [ -f "$f" ] || { echo "ci-probe: no such file: $f" >&2; exit 2; }
done
start_timeout="${CI_PROBE_START_TIMEOUT:-30}"
health_timeout="${CI_PROBE_HEALTH_TIMEOUT:-15}"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

: >"$work/serve.out"
: >"$work/serve.err"
"$CERTAUTH" serve --config "$config" --listen 127.0.0.1:0 ${serve_args[@]+"${serve_args[@]}"} \
  >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!

port=""
deadline=$((SECONDS + start_timeout))
while [ -z "$port" ]; do
  port="$(sed -n 's/.*listening on https:\/\/[^ ]*:\([0-9][0-9]*\).*/\1/p' "$work/serve.err" | head -n 1 || true)"
  [ -n "$port" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "ci-probe: certauth serve exited before listening:" >&2
    cat "$work/serve.err" >&2
    exit 2
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "ci-probe: certauth serve did not report its port within ${start_timeout} s:" >&2
    cat "$work/serve.err" >&2
    exit 2
  fi
  sleep 0.1
done
url="https://localhost:$port"
echo "ci-probe: certauth serve (pid $server_pid) listening on $url"

# Readiness only: -k, since which CA signed the server certificate is the scenarios' business.
deadline=$((SECONDS + health_timeout))
until "$CERTAUTH" probe "$url/healthz" -k --timeout 2 --expect 200 >/dev/null 2>&1; do
  if ! kill -0 "$server_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
    echo "ci-probe: $url/healthz did not answer 200 within ${health_timeout} s:" >&2
    "$CERTAUTH" probe "$url/healthz" -k --timeout 2 >&2 || true
    cat "$work/serve.err" >&2
    exit 2
  fi
  sleep 0.2
done

status=0
"$CERTAUTH" probe --scenarios "$scenarios" --url "$url" --report junit --output "$report_out" || status=$?
echo "ci-probe: JUnit report in $report_out; probe exit status $status"
exit "$status"
