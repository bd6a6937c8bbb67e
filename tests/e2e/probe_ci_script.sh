#!/usr/bin/env bash
# scripts/ci-probe.sh end to end: starts serve on a free port, runs the
# scenarios with a JUnit report, stops the server, exits with probe's status.
set -euo pipefail

CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
export CERTAUTH
cd "$SRC"
work="$(mktemp -d)"
wrong="$work/wrong.json"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. Passing matrix: exit 0, JUnit report written and well-formed.
scripts/ci-probe.sh --report-out "$work/report.xml" -- --no-access-log >"$work/out" 2>&1 \
  || { cat "$work/out"; fail "ci-probe.sh failed"; }
cat "$work/out"
xmllint --noout "$work/report.xml" || fail "report is not XML"
cases="$(python3 -c 'import json; print(len(json.load(open("fixtures/scenarios.json"))["cases"]))')"
[ "$(xmllint --xpath 'string(/testsuites/@tests)' "$work/report.xml")" = "$cases" ] || fail "report counts"
grep -q "passed, 0 failed" "$work/out" || fail "no text table on stdout"
pid="$(sed -n 's/.*(pid \([0-9]*\)).*/\1/p' "$work/out" | head -n 1)"
[ -n "$pid" ] || fail "no server pid reported"
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$pid" 2>/dev/null || fail "the server $pid is still running"

# 2. A failing matrix: exit 1, the server stopped all the same.
python3 - "$wrong" <<'PY'
import json, os, sys
d = json.load(open("fixtures/scenarios.json"))
for section in [d.get("defaults", {})] + d["cases"]:
    for k in ("cert", "key", "cacert"):
        if k in section: section[k] = os.path.abspath(os.path.join("fixtures", section[k]))
d["cases"][0]["status"] = 418
d["cases"][0].pop("user", None)
json.dump(d, open(sys.argv[1], "w"))
PY
set +e
scripts/ci-probe.sh --scenarios "$wrong" --report-out "$work/wrong.xml" -- --no-access-log >"$work/wrong.out" 2>&1
code=$?
set -e
cat "$work/wrong.out"
[ "$code" = 1 ] || fail "failing matrix: exit $code, expected 1"
[ "$(xmllint --xpath 'string(/testsuites/@failures)' "$work/wrong.xml")" = "1" ] || fail "failing report counts"
pid="$(sed -n 's/.*(pid \([0-9]*\)).*/\1/p' "$work/wrong.out" | head -n 1)"
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$pid" 2>/dev/null || fail "the server $pid is still running after a failure"

# 3. A server that cannot start: exit 2 with its error.
set +e
scripts/ci-probe.sh --report-out "$work/none.xml" -- --cert fixtures/missing.crt >"$work/bad.out" 2>&1
code=$?
set -e
cat "$work/bad.out"
[ "$code" = 2 ] || fail "server that cannot start: exit $code, expected 2"
grep -q "missing.crt" "$work/bad.out" || fail "the server's error is not shown"
echo "ci-probe.sh: all checks passed"
