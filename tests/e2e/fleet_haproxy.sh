#!/usr/bin/env bash
# A fleet, end to end: a throwaway PostgreSQL cluster holding the user
# directory, three `certauth serve` following it, HAProxy in front in TCP
# mode with health checks on /healthz (docs/recipes/haproxy-fleet.cfg as
# written, its placeholders filled), and `certauth probe --load` through
# HAProxy while:
#   (a) joe is removed in the database: within 1 s every instance answers him
#       401 unknown_user (each asked directly), and the load gets 401 from then on;
#   (b) one instance is killed (SIGKILL) mid-load: HAProxy takes it out, the load
#       loses at most the requests in flight, the others serve on; restarted,
#       it is UP again in HAProxy and serves the current list;
#   (c) PostgreSQL is stopped for 5 s mid-load: no request fails; once the
#       instances have reconnected, a change is in force within 1 s again.
# Everything binds 127.0.0.1 (or a unix socket in the test's folder) and stops
# on exit. About 35-40 s.
set -euo pipefail
CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
work="$(mktemp -d)"
# shellcheck source-path=SCRIPTDIR source=lib/processes.sh
source "$SRC/tests/e2e/lib/processes.sh"
# shellcheck source-path=SCRIPTDIR source=lib/postgres.sh
source "$SRC/tests/e2e/lib/postgres.sh"
# shellcheck source-path=SCRIPTDIR source=lib/load.sh
source "$SRC/tests/e2e/lib/load.sh"
# shellcheck source-path=SCRIPTDIR source=lib/proxy.sh
source "$SRC/tests/e2e/lib/proxy.sh"
trap 'stop_started; pg_cleanup; rm -rf "$work"' EXIT
for program in haproxy runuser; do
  command -v "$program" >/dev/null || { echo "SKIP: $program is not installed (scripts/bootstrap.sh installs it)"; exit 77; }
done
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
  { echo "SKIP: no PostgreSQL server under /usr/lib/postgresql (scripts/bootstrap.sh installs postgresql)"; exit 77; }
pki="$SRC/fixtures"

now() { date +%s.%N; }
# enforced CERT EXPECT [COMMAND...]: COMMAND run (the change), the time
# (seconds since the epoch) by which every instance had answered CERT's holder
# EXPECT on a new connection (at most 10 s of asking, else the test fails).
enforced() {
  local cert=$1 expect=$2
  shift 2
  python3 "$SRC/tests/e2e/lib/enforcement.py" wait --ca "$pki/ca.crt" --cert "$pki/$cert.crt" --key "$pki/$cert.key" \
    --expect "$expect" --timeout 10 "${ports[@]}" -- "$@" || fail "not in force on every instance: $expect for $cert"
}
# since_commit "TIME ...": seconds from the last commit to TIME.
since_commit() { python3 -c 'import sys; print("%.3f" % (float(sys.argv[1].split()[0]) - float(sys.argv[2])))' "$1" "$(pg_commit_time)"; }
# The directory: fixtures/users.json in PostgreSQL.
pg_init
"$CERTAUTH" users init "$pg_uri" >/dev/null
"$CERTAUTH" users import "$pki/users.json" "$pg_uri" >/dev/null

ports=(0 0 0)
# start_instance N (1..3): certauth serve following the directory, first on
# a port the kernel picks (a port chosen beforehand may be taken by another
# test before certauth binds it), later on the same port again.
start_instance() {
  start_waiting "certauth$1" 's/.*listening on https:\/\/[^ ]*:\([0-9][0-9]*\).*/\1/p' \
    "$CERTAUTH" serve --listen "127.0.0.1:${ports[$1 - 1]}" --cert "$pki/server.crt" --key "$pki/server.key" \
    --ca "$pki/ca.crt" --users "$pg_uri" --no-access-log
  local match="certauth$1_match"
  ports[$1 - 1]=${!match}
}
start_instance 1
start_instance 2
start_instance 3

# HAProxy with the recipe.
start_proxy haproxy "$SRC/docs/recipes/haproxy-fleet.cfg" PKI="$pki" STATS_SOCKET="$work/haproxy.sock" \
  PORT1="${ports[0]}" PORT2="${ports[1]}" PORT3="${ports[2]}" -- haproxy -db -f @CONF@
# shellcheck disable=SC2154 # haproxy_port: set by start_proxy
port=$haproxy_port

# stat FIELD: a field of HAProxy's "show stat" for each instance, as
# "certauth1=UP certauth2=DOWN ..." (status) or "certauth1=2 ..." (scur:
# connections open on it).
stat() {
  python3 - "$work/haproxy.sock" "$1" <<'PY'
import csv, io, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"show stat\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
rows = list(csv.reader(io.StringIO(data.decode().lstrip("# "))))
head = rows[0]
name, field = head.index("svname"), head.index(sys.argv[2])
print(" ".join(f"{r[name]}={r[field]}" for r in rows[1:] if len(r) > field and r[name].startswith("certauth")))
PY
}
states() { stat status; }
# wait_states WANTED SECONDS
wait_states() {
  local got=""
  for _ in $(seq 1 $(($2 * 10))); do
    got=$(states)
    [ "$got" = "$1" ] && return 0
    sleep 0.1
  done
  cat "$work/haproxy.out" >&2
  fail "HAProxy: expected $1, got $got"
}
wait_states "certauth1=UP certauth2=UP certauth3=UP" 10

# (a) joe removed in the database while the load runs as joe.
load remove "$port" joe 3
sleep 1
took=$(since_commit "$(enforced joe "401 unknown_user" "$CERTAUTH" users remove "$pg_uri" --cn joe)")
echo "(a) joe removed: 401 unknown_user on every instance $took s after the commit"
at_most "$took" 1.0 || fail "(a) the removal took $took s to be in force on every instance (at most 1 s)"
finish_load remove
expect_cut_off remove "(a)"
# From now on, through HAProxy: 401 unknown_user only.
load removed "$port" joe 1 --expect 401 --expect-reason unknown_user
finish_load removed
expect_only removed 401 unknown_user "(a)"

# (b) one instance killed mid-load (dave's load; dave matches by fingerprint).
load kill "$port" dave 4
sleep 1
in_flight=$(stat scur | sed -n 's/.*certauth2=\([0-9]*\).*/\1/p')
# shellcheck disable=SC2154 # certauth2_pid: set by start_waiting
kill -KILL "$certauth2_pid"
wait "$certauth2_pid" 2>/dev/null || true # reaped here: bash says nothing of it
wait_states "certauth1=UP certauth2=DOWN certauth3=UP" 5
echo "(b) certauth2 killed: HAProxy has it DOWN"
for p in "${ports[0]}" "${ports[2]}"; do
  python3 "$SRC/tests/e2e/lib/enforcement.py" wait --ca "$pki/ca.crt" --cert "$pki/dave.crt" --key "$pki/dave.key" \
    --expect 200 --timeout 2 "$p" >/dev/null || fail "(b) an instance still running does not serve dave"
done
finish_load kill
errors=$(json "$work/kill.json" 'r["error_count"]')
# Each of the load's connections has at most one request in flight: at most
# as many as the killed instance had connections can fail.
if [ -z "$in_flight" ] || [ "$in_flight" -lt 1 ] || [ "$in_flight" -gt "$load_concurrency" ]; then
  fail "(b) the load should have had connections on certauth2 when it was killed; HAProxy counted '$in_flight'"
fi
[ "$errors" -le "$in_flight" ] || fail "(b) $errors requests failed; at most $in_flight were in flight"
[ "$(json "$work/kill.json" 'list(r["status"]) == ["200"] and r["requests"] > 0')" = True ] ||
  fail "(b) dave should have been served throughout"
echo "(b) $errors of $(json "$work/kill.json" 'r["requests"]') requests failed (at most $in_flight in flight: certauth2's connections)"
start_instance 2
wait_states "certauth1=UP certauth2=UP certauth3=UP" 10
echo "(b) certauth2 restarted: UP again"
enforced joe "401 unknown_user" >/dev/null
enforced dave 200 >/dev/null
# New connections through HAProxy (the restarted instance, with none, gets the first ones).
load rejoined "$port" joe 1 --new-connections --expect 401 --expect-reason unknown_user
finish_load rejoined
expect_only rejoined 401 unknown_user "(b)"

# (c) PostgreSQL stopped for 5 s mid-load.
load outage "$port" dave 9
sleep 1
pg_stop
echo "(c) PostgreSQL stopped"
sleep 5
pg_start
back=$(now)
for n in 1 2 3; do
  for _ in $(seq 1 100); do
    grep -q "reconnected after" "$work/certauth$n.err" && break
    sleep 0.1
  done
  grep -q "reconnected after" "$work/certauth$n.err" || { cat "$work/certauth$n.err" >&2; fail "(c) certauth$n did not reconnect"; }
done
echo "(c) PostgreSQL started again: every instance reconnected within $(python3 -c "import time; print('%.2f' % (time.time() - $back))") s"
took=$(since_commit "$(enforced joe 200 "$CERTAUTH" users add "$pg_uri" --cn joe --role admin)")
echo "(c) joe added again: 200 on every instance $took s after the commit"
at_most "$took" 1.0 || fail "(c) the change took $took s to be in force on every instance (at most 1 s)"
finish_load outage
expect_only outage 200 "" "(c) PostgreSQL was down:"

echo "ok: a fleet of three behind HAProxy follows PostgreSQL, survives an instance killed and the database stopped"
