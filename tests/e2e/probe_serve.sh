#!/usr/bin/env bash
# certauth probe against certauth serve: every scenario of fixtures/scenarios.json
# passes; a wrong expectation fails with exit 1 saying expected vs got; the
# JUnit report parses and its counts match; load counts exactly; new
# connections handshake per request; resumption resumes.
set -euo pipefail

CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
cd "$SRC"

work="$(mktemp -d)"
# shellcheck source=tests/e2e/lib/processes.sh
source "$SRC/tests/e2e/lib/processes.sh"
cleanup() {
  stop_serve
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

start_serve --config fixtures/certauth.toml --no-access-log
url="https://localhost:$serve_port"
echo "serve listening on $url"

# 1. The whole matrix passes, with text, JSON and JUnit reports.
"$CERTAUTH" probe --scenarios fixtures/scenarios.json --url "$url" >"$work/text.out" \
  || { cat "$work/text.out"; fail "scenarios did not all pass"; }
cat "$work/text.out"
cases="$(json fixtures/scenarios.json 'len(d["cases"])')"
grep -q "^$cases cases: $cases passed, 0 failed, 0 errors" "$work/text.out" || fail "summary line"

"$CERTAUTH" probe --scenarios fixtures/scenarios.json --url "$url" --report junit --output "$work/report.xml" \
  >/dev/null || fail "junit run"
xmllint --noout "$work/report.xml" || fail "JUnit report is not XML"
[ "$(xmllint --xpath 'string(/testsuites/testsuite/@tests)' "$work/report.xml")" = "$cases" ] || fail "tests count"
[ "$(xmllint --xpath 'count(//testcase)' "$work/report.xml")" = "$cases" ] || fail "testcase count"
[ "$(xmllint --xpath 'string(/testsuites/testsuite/@failures)' "$work/report.xml")" = "0" ] || fail "failures"

"$CERTAUTH" probe --scenarios fixtures/scenarios.json --url "$url" --report json >"$work/report.json" || fail "json run"
[ "$(json "$work/report.json" 'd["passed"]')" = "$cases" ] || fail "JSON passed count"

# 2. A deliberately wrong expectation: bob expected 200 (in a copy whose
# paths are made absolute, since they are relative to the file).
wrong="$work/wrong.json"
python3 - "$wrong" <<'PY'
import json, os, sys
d = json.load(open("fixtures/scenarios.json"))
for section in [d.get("defaults", {})] + d["cases"]:
    for k in ("cert", "key", "cacert"):
        if k in section: section[k] = os.path.abspath(os.path.join("fixtures", section[k]))
for c in d["cases"]:
    if c["name"] == "bob":
        c["status"] = 200
        c.pop("reason", None)
json.dump(d, open(sys.argv[1], "w"), indent=1)
PY
set +e
"$CERTAUTH" probe --scenarios "$wrong" --url "$url" --report junit --output "$work/wrong.xml" >"$work/wrong.out"
code=$?
set -e
cat "$work/wrong.out"
[ "$code" = 1 ] || fail "wrong expectation: exit $code, expected 1"
grep -q "expected status 200, got 401 (unknown_user)" "$work/wrong.out" || fail "expected vs got not said"
grep -q "^$cases cases: $((cases - 1)) passed, 1 failed, 0 errors" "$work/wrong.out" || fail "wrong summary"
xmllint --noout "$work/wrong.xml" || fail "JUnit report (failing) is not XML"
[ "$(xmllint --xpath 'string(/testsuites/@failures)' "$work/wrong.xml")" = "1" ] || fail "JUnit failures count"
[ "$(xmllint --xpath 'count(//testcase/failure)' "$work/wrong.xml")" = "1" ] || fail "JUnit failure elements"
[ "$(xmllint --xpath 'string(//testcase[failure]/@name)' "$work/wrong.xml")" = "bob" ] || fail "JUnit failing case"

# 3. One request: exit codes and messages.
"$CERTAUTH" probe "$url/" --cacert fixtures/ca.crt --cert fixtures/joe.crt --key fixtures/joe.key >"$work/one.out" \
  || fail "joe single request"
grep -q '"cn":"joe"' "$work/one.out" || grep -q '"cn": "joe"' "$work/one.out" || fail "joe body"
set +e
"$CERTAUTH" probe "$url/" --cacert fixtures/ca.crt --cert fixtures/bob.pem >"$work/bob.out"; code=$?
set -e
[ "$code" = 1 ] || fail "bob: exit $code"
grep -q "expected 200, got 401 (reason unknown_user)" "$work/bob.out" || fail "bob: expected vs got"
"$CERTAUTH" probe "$url/" --cacert fixtures/ca.crt --cert fixtures/bob.pem --expect 401 --expect-reason unknown_user \
  >/dev/null || fail "bob with --expect 401"

# 4. Load: exactly N, by status and reason.
"$CERTAUTH" probe "$url/" --cacert fixtures/ca.crt --cert fixtures/joe.pem --load --requests 500 --json >"$work/joe.json" \
  || fail "joe load"
[ "$(json "$work/joe.json" 'd["requests"]')" = 500 ] || fail "joe load: not 500 responses"
[ "$(json "$work/joe.json" 'd["status"].get("200")')" = 500 ] || fail "joe load: not all 200"
"$CERTAUTH" probe "$url/" --cacert fixtures/ca.crt --cert fixtures/joe.pem --load --requests 1000 --concurrency 8 --json \
  >"$work/joe1000.json" || fail "joe load 1000"
[ "$(json "$work/joe1000.json" 'd["status"].get("200")')" = 1000 ] || fail "joe load 1000: not all 200"
"$CERTAUTH" probe "$url/" --cacert fixtures/ca.crt --cert fixtures/bob.pem --load --requests 1000 --concurrency 8 --json \
  >"$work/bob.json" || fail "bob load"
[ "$(json "$work/bob.json" 'd["status"].get("401")')" = 1000 ] || fail "bob load: not all 401"
[ "$(json "$work/bob.json" 'd["reasons"].get("unknown_user")')" = 1000 ] || fail "bob load: not all unknown_user"

# 5. A handshake per request; resumption.
"$CERTAUTH" probe "$url/" --cacert fixtures/ca.crt --cert fixtures/joe.pem --load --requests 200 --new-connections \
  --json >"$work/new.json" || fail "new connections"
[ "$(json "$work/new.json" 'd["handshakes"]')" = 200 ] || fail "new connections: handshakes != requests"
[ "$(json "$work/new.json" 'd["handshakes_per_second"] > 0')" = True ] || fail "handshakes/s"
[ "$(json "$work/new.json" 'd["resumed"]')" = 0 ] || fail "resumed without --resume"
"$CERTAUTH" probe "$url/" --cacert fixtures/ca.crt --cert fixtures/joe.pem --load --requests 200 --new-connections \
  --resume --json >"$work/resume.json" || fail "resume"
[ "$(json "$work/resume.json" 'd["handshakes"]')" = 200 ] || fail "resume: handshakes"
[ "$(json "$work/resume.json" 'd["resumed"] > 0')" = True ] || fail "resume: nothing resumed"
[ "$(json "$work/resume.json" 'd["status"].get("200")')" = 200 ] || fail "resume: not all 200"

echo "probe against serve: all checks passed"
