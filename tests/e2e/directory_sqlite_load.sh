#!/usr/bin/env bash
# One instance following sqlite:PATH under `certauth probe --load`: joe
# removed by `certauth users remove` in another process is refused
# (401 unknown_user) within about a second (SQLite is polled once a second),
# no request fails meanwhile, and the load gets only 401 for him from then on;
# added again, he is served again as soon. Binds 127.0.0.1; stops on exit.
# About 8 s.
set -euo pipefail
CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
work="$(mktemp -d)"
# shellcheck source-path=SCRIPTDIR source=lib/processes.sh
source "$SRC/tests/e2e/lib/processes.sh"
# shellcheck source-path=SCRIPTDIR source=lib/load.sh
source "$SRC/tests/e2e/lib/load.sh"
trap 'stop_started; rm -rf "$work"' EXIT
pki="$SRC/fixtures"
directory="sqlite:$work/users.db"
"$CERTAUTH" users init "$directory" >/dev/null
"$CERTAUTH" users import "$pki/users.json" "$directory" >/dev/null
start_serve --cert "$pki/server.crt" --key "$pki/server.key" --ca "$pki/ca.crt" --users "$directory" --no-access-log
# shellcheck disable=SC2154 # serve_port: set by start_serve
port=$serve_port

# change EXPECT COMMAND...: COMMAND run, the seconds from its start until the
# instance answered joe EXPECT on a new connection (asked for at most 10 s).
change() {
  local expect=$1 times
  shift
  times=$(python3 "$SRC/tests/e2e/lib/enforcement.py" wait --ca "$pki/ca.crt" --cert "$pki/joe.crt" \
    --key "$pki/joe.key" --expect "$expect" --timeout 10 "$port" -- "$@") || fail "not in force: $expect for joe"
  python3 -c 'import sys; done, started = map(float, sys.argv[1].split()); print("%.3f" % (done - started))' "$times"
}
# The data_version poll comes once a second; the change is in force at the
# next one, and the bound allows the writer's start-up and a reload.
bound=1.5

load remove "$port" joe 4
sleep 1
took=$(change "401 unknown_user" "$CERTAUTH" users remove "$directory" --cn joe)
echo "joe removed: 401 unknown_user $took s after the writer started"
at_most "$took" "$bound" || fail "the removal took $took s to be in force (at most $bound s)"
finish_load remove
expect_cut_off remove
load removed "$port" joe 1 --expect 401 --expect-reason unknown_user
finish_load removed
expect_only removed 401 unknown_user

took=$(change 200 "$CERTAUTH" users add "$directory" --cn joe --role admin)
echo "joe added again: 200 $took s after the writer started"
at_most "$took" "$bound" || fail "the addition took $took s to be in force (at most $bound s)"
echo "ok: serve follows sqlite:PATH under load"
