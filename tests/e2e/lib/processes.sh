# shellcheck shell=bash disable=SC2154,SC2034  # work is the caller's; serve_port and the like are for it
# Sourced by the shell tests: start certauth serve (or any program that
# prints its address) in the background, wait boundedly for the line that
# says where it listens, and stop everything started this way when the test
# exits, however it exits.
#   start_waiting NAME PATTERN COMMAND...   -> sets ${NAME}_pid, ${NAME}_match
#   start_serve ARGS...                     -> certauth serve on 127.0.0.1:0; sets serve_pid, serve_port
#                                              (its stderr in $work/serve.err)
#   stop_serve                              -> stops that serve (before starting another)
#   stop_process PID                        -> SIGTERM, then SIGKILL after 5 s
#   stop_started                            -> stops everything started here (for the EXIT trap)
#   free_port                               -> a port of 127.0.0.1 free when asked
#   wait_port PORT PID                      -> whether 127.0.0.1:PORT accepts within 10 s, PID running
# Needs: $CERTAUTH (the binary), $work (a temporary directory the test owns).

started_pids=()

# reap PID: waits at most 5 s for PID to end, then kills it.
reap() {
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}

stop_process() {
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || true
  reap "$1"
}

stop_started() {
  local pid
  for pid in "${started_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${started_pids[@]}"; do reap "$pid"; done
}

fail() { echo "FAIL: $*" >&2; exit 1; }

# start_waiting NAME SED_PATTERN COMMAND...: output in $work/NAME.out and
# $work/NAME.err; the first match of SED_PATTERN (a sed -n 's/.../\1/p'
# expression) in either becomes ${NAME}_match.
start_waiting() {
  local name=$1 pattern=$2
  shift 2
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$!
  started_pids+=("$pid")
  printf -v "${name}_pid" '%s' "$pid"
  local found=""
  for _ in $(seq 1 300); do
    found="$(sed -n "$pattern" "$work/$name.out" "$work/$name.err" | head -n 1 || true)"
    [ -n "$found" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/$name.err" >&2; fail "$name exited"; }
    sleep 0.1
  done
  [ -n "$found" ] || { cat "$work/$name.err" >&2; fail "$name did not say where it listens"; }
  printf -v "${name}_match" '%s' "$found"
}

start_serve() {
  start_waiting serve 's/.*listening on https:\/\/[^ ]*:\([0-9][0-9]*\).*/\1/p' \
    "$CERTAUTH" serve --listen 127.0.0.1:0 "$@"
  serve_port=$serve_match
}

stop_serve() {
  [ -n "${serve_pid:-}" ] || return 0
  stop_process "$serve_pid"
  local kept=() pid
  for pid in "${started_pids[@]}"; do [ "$pid" = "$serve_pid" ] || kept+=("$pid"); done
  started_pids=("${kept[@]}")
  serve_pid=""
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_port PORT PID: true once 127.0.0.1:PORT accepts a connection (asked
# for at most 10 s), false at once if PID has exited.
wait_port() {
  for _ in $(seq 1 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
