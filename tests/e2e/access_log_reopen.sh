#!/usr/bin/env bash
# serve --access-log FILE, rotated as logrotate does: the file is renamed
# while a load runs, SIGUSR1 makes serve open FILE again, the lines that
# follow land in the new file, and no line is lost or cut (the two files
# together hold one whole line per request). A file that cannot be opened is
# a start-up error naming it.
set -euo pipefail

CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
cd "$SRC"

work="$(mktemp -d)"
load_pid=""
# shellcheck source=tests/e2e/lib/processes.sh
source "$SRC/tests/e2e/lib/processes.sh"
cleanup() {
  [ -z "$load_pid" ] || kill -KILL "$load_pid" 2>/dev/null || true
  stop_serve
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
lines() { if [ -e "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# 1. A file that cannot be opened: exit 2, the file named.
set +e
"$CERTAUTH" serve --config fixtures/certauth.toml --listen 127.0.0.1:0 --access-log "$work/missing/access.log" \
  >/dev/null 2>"$work/bad.err"
code=$?
set -e
[ "$code" = 2 ] || fail "unopenable --access-log: exit $code, expected 2"
grep -q "certauth: error: $work/missing/access.log: cannot open the access log" "$work/bad.err" \
  || fail "unopenable --access-log: $(cat "$work/bad.err")"

# 2. Lines go to the file, not to standard output.
log="$work/access.log"
start_serve --config fixtures/certauth.toml --threads 2 --access-log "$log"
url="https://localhost:$serve_port/"
for _ in 1 2 3; do
  curl -sf --max-time 5 --cacert fixtures/ca.crt --cert fixtures/joe.pem -o /dev/null "$url" || fail "joe"
done
for _ in $(seq 1 50); do [ "$(lines "$log")" = 3 ] && break; sleep 0.1; done
[ "$(lines "$log")" = 3 ] || fail "3 requests, $(lines "$log") lines in $log"
grep -q '"GET /" 200 ok cn=joe' "$log" || fail "no joe line: $(cat "$log")"
[ "$(stat -c %a "$log")" = 640 ] || fail "mode $(stat -c %a "$log"), expected 640"

# 3. Rotation under load: rename, SIGUSR1, the load goes on.
requests=3000
"$CERTAUTH" probe "$url" --cacert fixtures/ca.crt --cert fixtures/joe.pem --load --requests "$requests" \
  --concurrency 4 >"$work/load.out" 2>&1 &
load_pid=$!
for _ in $(seq 1 100); do [ "$(lines "$log")" -ge 200 ] && break; sleep 0.05; done
mv "$log" "$log.1"
kill -USR1 "$serve_pid"
for _ in $(seq 1 50); do grep -q "access log reopened: $log" "$work/serve.err" && break; sleep 0.1; done
grep -q "access log reopened: $log" "$work/serve.err" || fail "no 'access log reopened' line: $(cat "$work/serve.err")"
wait "$load_pid" || fail "load: $(cat "$work/load.out")"
load_pid=""
curl -sf --max-time 5 --cacert fixtures/ca.crt --cert fixtures/bob.pem -o /dev/null "$url" && fail "bob answered 2xx"

total=$((3 + requests + 1))
for _ in $(seq 1 50); do [ $(($(lines "$log.1") + $(lines "$log"))) = "$total" ] && break; sleep 0.1; done
[ $(($(lines "$log.1") + $(lines "$log"))) = "$total" ] \
  || fail "$(lines "$log.1") + $(lines "$log") lines, expected $total"
[ "$(lines "$log.1")" -ge 200 ] || fail "the rename came before the load: $(lines "$log.1") lines in the old file"
echo "lines: $(lines "$log.1") in the renamed file, $(lines "$log") in the new one"
tail -n 1 "$log" | grep -q '"GET /" 401 unknown_user cn=bob' || fail "the last request is not in the new file"
# Every line whole: it starts with the time and ends with the latency.
bad="$(cat "$log.1" "$log" | grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+Z 127\.0\.0\.1:[0-9]+ ".*" [0-9]{3} .* [0-9.]+ms$' || true)"
[ "$bad" = 0 ] || fail "$bad lines cut or mixed"

# 4. SIGUSR1 without --access-log: nothing to reopen, serving goes on.
stop_serve
start_serve --config fixtures/certauth.toml --no-access-log
kill -USR1 "$serve_pid"
sleep 0.2
curl -sf --max-time 5 --cacert fixtures/ca.crt --cert fixtures/joe.pem -o /dev/null "https://localhost:$serve_port/" \
  || fail "serve stopped answering after SIGUSR1 without a file"

echo "access log reopened on SIGUSR1: all checks passed"
