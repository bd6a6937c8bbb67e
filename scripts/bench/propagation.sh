#!/usr/bin/env bash
# How long a change in a PostgreSQL user directory takes to be in force on
# every instance of a fleet: a throwaway PostgreSQL cluster
# (tests/e2e/lib/postgres.sh) holding fixtures/users.json, INSTANCES (default
# 3) `certauth serve` following it on free ports of 127.0.0.1, and CHANGES
# (default 100) commits timed until every instance enforces them
# (scripts/bench/propagation.py). docs/directory.md holds the numbers of a run.
#
# Usage: scripts/bench/propagation.sh [CHANGES] [INSTANCES]    (CERTAUTH_BUILD=build, CERTAUTH_JOBS=2)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
changes=${1:-100}
instances=${2:-3}
build=${CERTAUTH_BUILD:-build}
jobs=${CERTAUTH_JOBS:-2}

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j "$jobs" --target certauth >/dev/null
CERTAUTH="$root/$build/certauth"
pki="$root/fixtures"

work=$(mktemp -d "${TMPDIR:-/tmp}/certauth-bench-propagation.XXXXXX")
# shellcheck source=tests/e2e/lib/processes.sh
source "$root/tests/e2e/lib/processes.sh"
# shellcheck source=tests/e2e/lib/postgres.sh
source "$root/tests/e2e/lib/postgres.sh"
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() { stop_started; pg_cleanup; rm -rf "$work"; }
trap cleanup EXIT

pg_init
"$CERTAUTH" users init "$pg_uri" >/dev/null
"$CERTAUTH" users import "$pki/users.json" "$pg_uri" >/dev/null
ports=()
for n in $(seq 1 "$instances"); do
  start_waiting "certauth$n" 's/.*listening on https:\/\/[^ ]*:\([0-9][0-9]*\).*/\1/p' \
    "$CERTAUTH" serve --listen 127.0.0.1:0 --cert "$pki/server.crt" --key "$pki/server.key" \
    --ca "$pki/ca.crt" --users "$pg_uri" --no-access-log
  match_var="certauth${n}_match"
  ports+=("${!match_var}")
done
echo "propagation.sh: PostgreSQL ($pg_bin), $instances instances, $changes changes" >&2
python3 "$root/scripts/bench/propagation.py" "$CERTAUTH" "$pg_bin/psql" "$pg_uri" "$pki" "$changes" "${ports[@]}"
