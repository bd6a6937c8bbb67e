# shellcheck shell=bash disable=SC2154  # work and fail are the caller's
# Sourced by the tests in tests/e2e/ that drive `certauth serve` on a free
# port of 127.0.0.1 (--listen 127.0.0.1:0):
#   start_serve ARGS...   starts `$CERTAUTH serve --listen 127.0.0.1:0 ARGS...`
#                         (stderr in $work/serve.err), waits at most 30 s for
#                         its start-up line and sets serve_pid and serve_port
#   stop_serve            SIGTERM, then SIGKILL after 5 s (for the EXIT trap)
# Needs CERTAUTH, a scratch folder in $work and a fail function.

serve_pid=""
serve_port=""

start_serve() {
  : >"$work/serve.err"
  "$CERTAUTH" serve --listen 127.0.0.1:0 "$@" >/dev/null 2>"$work/serve.err" &
  serve_pid=$!
  serve_port=""
  for _ in $(seq 1 300); do
    serve_port="$(sed -n 's/.*listening on https:\/\/[^ ]*:\([0-9][0-9]*\).*/\1/p' "$work/serve.err" | head -n 1 || true)"
    [ -n "$serve_port" ] && return 0
    kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.err" >&2; fail "serve exited"; }
    sleep 0.1
  done
  cat "$work/serve.err" >&2
  fail "serve did not report its port"
}

stop_serve() {
  [ -n "$serve_pid" ] || return 0
  kill -TERM "$serve_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$serve_pid" 2>/dev/null || true
  serve_pid=""
}
