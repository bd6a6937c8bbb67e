#!/usr/bin/env bash
# serve --upstream streams bodies in bounded memory: a 1 GiB upload (chunked,
# from /dev/zero) and a 1 GiB download pass through certauth, whose peak
# resident memory stays under 64 MiB. Label slow: the sanitizer stages skip
# it (their memory says nothing about certauth's).
set -euo pipefail

CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
cd "$SRC/fixtures"
work="$(mktemp -d)"
trap 'stop_started; rm -rf "$work"' EXIT
source "$SRC/tests/e2e/lib/processes.sh"

start_waiting app 's/^listening \([0-9][0-9]*\)$/\1/p' python3 "$SRC/tests/e2e/apps/echo_app.py"
start_serve --no-access-log --upstream "http://127.0.0.1:$app_match"
client=(curl -sS --max-time 300 --cacert ca.crt --cert joe.crt --key joe.key
        --resolve "localhost:$serve_port:127.0.0.1")
gib=$((1024 * 1024 * 1024))

peak_kib() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$serve_pid/status"; }
before=$(peak_kib)

head -c "$gib" /dev/zero | "${client[@]}" -T - "https://localhost:$serve_port/upload" >"$work/upload.json"
size=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["body_size"])' "$work/upload.json")
[ "$size" = "$gib" ] || fail "the application received $size bytes of a 1 GiB upload"
echo "ok - 1 GiB upload arrived whole (chunked)"

got=$("${client[@]}" -o /dev/null -w '%{http_code} %{size_download}' \
  "https://localhost:$serve_port/download?size=$gib&mode=length")
[ "$got" = "200 $gib" ] || fail "1 GiB download: got '$got'"
echo "ok - 1 GiB download arrived whole"

peak=$(peak_kib)
echo "certauth peak RSS: ${before} KiB before, ${peak} KiB after"
[ "$peak" -lt $((64 * 1024)) ] || fail "certauth's peak RSS ${peak} KiB is not under 64 MiB"
echo "upstream_large: all checks passed"
