# shellcheck shell=bash disable=SC2154  # work, pki, CERTAUTH, started_pids and fail are the caller's
# Sourced by the shell tests that run `certauth probe --load` beside what
# they check (after lib/processes.sh):
#   load NAME PORT CERT SECONDS [PROBE ARGS...]
#       probe --load on https://localhost:PORT/ as fixtures/CERT.pem, in the
#       background and niced (the load generator is not what is measured),
#       6 connections on 1 thread; its JSON report in $work/NAME.json
#   finish_load NAME   waits for it (bounded by its --duration) and prints a summary
#   expect_cut_off NAME [LABEL]
#       the finished load NAME, whose user was removed while it ran, lost
#       no request, got 200 and 401, and every 401 was unknown_user; LABEL
#       starts each failure message
#   expect_only NAME STATUS [REASON [LABEL]]
#       the finished load NAME made requests, lost none, and every answer
#       was STATUS (with REASON when given); LABEL starts the failure message
#   json FILE EXPR     EXPR evaluated in Python on the JSON in FILE (as r)
#   at_most A B        whether the number A <= B
# Needs CERTAUTH, pki (the fixtures), a scratch folder in $work.

load_concurrency=6

load() {
  local name=$1 port=$2 cert=$3 seconds=$4
  shift 4
  nice -n 19 "$CERTAUTH" probe "https://localhost:$port/" --resolve "localhost:$port:127.0.0.1" --cacert "$pki/ca.crt" \
    --cert "$pki/$cert.pem" --load --duration "$seconds" --concurrency "$load_concurrency" --threads 1 --json "$@" \
    >"$work/$name.json" 2>"$work/$name.err" &
  printf -v "${name}_pid" '%s' "$!"
  started_pids+=("$!")
}

finish_load() {
  local pid_var="${1}_pid" rc=0
  wait "${!pid_var}" || rc=$?
  [ -s "$work/$1.json" ] || { cat "$work/$1.err" >&2; fail "$1: probe --load gave no report (exit $rc)"; }
  echo "$1: $(json "$work/$1.json" 'r["requests"]') requests, status $(json "$work/$1.json" 'r["status"]'), $(json "$work/$1.json" 'r["error_count"]') errors $(json "$work/$1.json" 'r["errors"]')"
}

expect_cut_off() {
  local report="$work/$1.json" label="${2:+$2 }"
  [ "$(json "$report" 'r["error_count"]')" = 0 ] || fail "${label}requests failed"
  [ "$(json "$report" 'r["status"].get("200", 0) > 0 and r["status"].get("401", 0) > 0')" = True ] ||
    fail "${label}the load should have got 200 and then 401"
  [ "$(json "$report" 'r["reasons"].get("unknown_user", 0) == r["status"]["401"] == r["requests"] - r["status"]["200"]')" = True ] ||
    fail "${label}every denial should be unknown_user"
}

expect_only() {
  local report="$work/$1.json" status=$2 reason=${3:-} label="${4:+$4 }"
  [ "$(json "$report" "r['requests'] > 0 and r['error_count'] == 0 and r['status'] == {'$status': r['requests']}")" = True ] ||
    fail "${label}$1: every request should have got $status: $(cat "$report")"
  [ -z "$reason" ] || [ "$(json "$report" "r['reasons'].get('$reason', 0) == r['requests']")" = True ] ||
    fail "${label}$1: every request should have got the reason $reason: $(cat "$report")"
}

json() { python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

at_most() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$1" "$2"; }
