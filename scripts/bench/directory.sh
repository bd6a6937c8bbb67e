#!/usr/bin/env bash
# User directories of many users (default 1,000,000), in SQLite and in a
# throwaway PostgreSQL cluster (tests/e2e/lib/postgres.sh: initdb into a
# temporary folder, a unix socket only, removed afterwards): how long `certauth users import` takes, how long
# loading a snapshot takes and how much memory it holds (directory_bench,
# scripts/bench/directory_bench.cpp), and what UserList::find() and a whole
# decision (policy::evaluate on fixtures/joe.crt) cost against that list and
# against a list of 10. Prints a Markdown table; docs/directory.md holds the
# numbers of a run.
#
# Usage: scripts/bench/directory.sh [USERS]    (CERTAUTH_BUILD=build, CERTAUTH_JOBS=2)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
users=${1:-1000000}
build=${CERTAUTH_BUILD:-build}
jobs=${CERTAUTH_JOBS:-2}

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j "$jobs" --target certauth directory_bench >/dev/null
certauth="$root/$build/certauth"
bench="$root/$build/directory_bench"

work=$(mktemp -d "${TMPDIR:-/tmp}/certauth-bench-directory.XXXXXX")
fail() { echo "directory.sh: $*" >&2; exit 1; }
# shellcheck source=tests/e2e/lib/postgres.sh
source "$root/tests/e2e/lib/postgres.sh"
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() { pg_cleanup; rm -rf "$work"; }
trap cleanup EXIT

# Compact, one entry per line: a users.json is read up to 64 MiB.
echo "directory.sh: generating $users users" >&2
python3 - "$users" "$work/users.json" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as out:
    out.write('{"users":[\n')
    for i in range(1, n + 1):
        entry = {"cn": "user%07d" % i, "name": "User %d" % i, "roles": ["reader"]}
        out.write(json.dumps(entry, separators=(",", ":")) + ",\n")
    out.write('{"cn":"joe","roles":["admin"]}],\n"routes":[{"path":"/admin","roles":["admin"]}]}\n')
PY

seconds() { python3 -c 'import sys,time; print("%.1f" % (time.time() - float(sys.argv[1])))' "$1"; }
now() { python3 -c 'import time; print(time.time())'; }

measure() { # NAME DIRECTORY
  local name=$1 directory=$2 start
  "$certauth" users init "$directory" >/dev/null
  start=$(now)
  "$certauth" users import "$work/users.json" "$directory" >/dev/null
  echo "import_seconds $(seconds "$start")" >"$work/$name.txt"
  "$bench" "$directory" "$root/fixtures" >>"$work/$name.txt"
}

echo "directory.sh: SQLite" >&2
measure sqlite "sqlite:$work/users.db"

pg_init
echo "directory.sh: PostgreSQL ($pg_bin)" >&2
measure postgresql "$pg_uri"

value() { sed -n "s/^$2 //p" "$work/$1.txt"; }
mib() { python3 -c 'import sys; print("%.0f MiB" % (int(sys.argv[1]) / 1048576))' "$1"; }
echo
echo "| $users users | SQLite | PostgreSQL |"
echo "|---|---|---|"
echo "| import (certauth users import) | $(value sqlite import_seconds) s | $(value postgresql import_seconds) s |"
echo "| load a snapshot: wall time | $(value sqlite load_seconds) s | $(value postgresql load_seconds) s |"
echo "| load a snapshot: CPU time of certauth (user + system) | $(value sqlite load_cpu_seconds) s | $(value postgresql load_cpu_seconds) s |"
echo "| resident memory of the snapshot | $(mib "$(value sqlite rss_bytes)") | $(mib "$(value postgresql rss_bytes)") |"
echo "| of which strings (match values, attribute names and values) | $(mib "$(value sqlite raw_string_bytes)") | $(mib "$(value postgresql raw_string_bytes)") |"
echo "| bytes per entry beyond its strings | $(value sqlite bytes_per_entry_beyond_strings) | $(value postgresql bytes_per_entry_beyond_strings) |"
echo "| peak resident memory of the loading process | $(mib "$(value sqlite peak_rss_bytes)") | $(mib "$(value postgresql peak_rss_bytes)") |"
echo "| find(): ns per call, 10 users / all | $(value sqlite find_ns_10) / $(value sqlite find_ns_all) (×$(value sqlite find_ratio)) | $(value postgresql find_ns_10) / $(value postgresql find_ns_all) (×$(value postgresql find_ratio)) |"
echo "| decision (verify + find), ns, 10 users / all | $(value sqlite decision_ns_10) / $(value sqlite decision_ns_all) (×$(value sqlite decision_ratio)) | $(value postgresql decision_ns_10) / $(value postgresql decision_ns_all) (×$(value postgresql decision_ratio)) |"
