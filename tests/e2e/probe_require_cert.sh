#!/usr/bin/env bash
# certauth probe against certauth serve --require-cert, which refuses at the
# TLS handshake: fixtures/scenarios-require-cert.json passes whole, each
# refusal reported with its alert and what happened at the TLS level (text,
# JSON, JUnit); fixtures/scenarios.json fails exactly its refused cases
# (exit 1, not 2); an alert named in a case is checked.
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

start_serve --config fixtures/certauth.toml --require-cert --no-access-log
url="https://localhost:$serve_port"
echo "serve --require-cert listening on $url"

# 1. The require-cert matrix passes; the text report names each alert.
"$CERTAUTH" probe --scenarios fixtures/scenarios-require-cert.json --url "$url" >"$work/text.out" \
  || { cat "$work/text.out"; fail "scenarios-require-cert.json did not all pass"; }
cat "$work/text.out"
cases="$(json fixtures/scenarios-require-cert.json 'len(d["cases"])')"
grep -q "^$cases cases: $cases passed, 0 failed, 0 errors" "$work/text.out" || fail "summary line"
grep -Eq '^✔ expired +refused at handshake +refused at handshake \(certificate_expired\)' "$work/text.out" \
  || fail "expired: no refusal with certificate_expired"
grep -Eq '^✔ no certificate +refused at handshake +refused at handshake \(certificate_required\)' "$work/text.out" \
  || fail "no certificate: no refusal with certificate_required"
grep -q '^    TLSv1.3, client certificate requested (CAs \[1\]), none sent, alert certificate_required$' \
  "$work/text.out" || fail "no TLS line for the case without a certificate"
grep -q '^\[1\] CA names the server sent: CN=certauth test CA, O=certauth$' "$work/text.out" || fail "CA names"

# 2. JSON: per case the refusal, the alert and the TLS facts.
"$CERTAUTH" probe --scenarios fixtures/scenarios-require-cert.json --url "$url" --report json >"$work/report.json" \
  || fail "json run"
check_case() { # NAME PYTHON-SUBSCRIPT EXPECTED
  local got
  got="$(json "$work/report.json" "[c for c in d['cases'] if c['name'] == '$1'][0]$2")"
  [ "$got" = "$3" ] || fail "JSON report, case $1: $2 is '$got', expected '$3'"
}
check_case expired "['refused']" handshake
check_case expired "['tls']['alert']" certificate_expired
check_case expired "['tls']['certificate_sent']" True
check_case revoked "['tls']['alert']" certificate_revoked
check_case rogue "['tls']['alert']" unknown_ca
check_case serveronly "['tls']['alert']" unsupported_certificate
check_case "no certificate" "['tls']['certificate_sent']" False
check_case "no certificate" "['tls']['requested_cas']" "['CN=certauth test CA, O=certauth']"
check_case bob "['refused']" None
check_case bob "['status']" 401
check_case bob "['tls']['version']" TLSv1.3
check_case bob "['tls']['alert']" None

# 3. JUnit: the TLS line of every case.
"$CERTAUTH" probe --scenarios fixtures/scenarios-require-cert.json --url "$url" --report junit \
  --output "$work/report.xml" >/dev/null || fail "junit run"
xmllint --noout "$work/report.xml" || fail "JUnit report is not XML"
[ "$(xmllint --xpath 'count(//testcase/system-out)' "$work/report.xml")" = "$cases" ] || fail "system-out per case"
[ "$(xmllint --xpath 'string(//testcase[@name="rogue"]/system-out)' "$work/report.xml")" = \
  "TLS: TLSv1.3, client certificate requested (CAs: CN=certauth test CA, O=certauth) and sent, alert unknown_ca" ] \
  || fail "JUnit system-out of rogue"

# 4. certauth's own answers (scenarios.json) against this server: the
# refusals fail (exit 1: the server answered, by alert), the rest pass.
set +e
"$CERTAUTH" probe --scenarios fixtures/scenarios.json --url "$url" >"$work/plain.out"
code=$?
set -e
[ "$code" = 1 ] || { cat "$work/plain.out"; fail "scenarios.json against --require-cert: exit $code, expected 1"; }
refused="$(json fixtures/scenarios-require-cert.json 'sum(1 for c in d["cases"] if "refused" in c)')"
grep -q "^$cases cases: $((cases - refused)) passed, $refused failed, 0 errors" "$work/plain.out" \
  || { cat "$work/plain.out"; fail "scenarios.json: not exactly the refused cases failed"; }
grep -q "expected 401 revoked, the server refused at the handshake: the server refused the client certificate" \
  "$work/plain.out" || fail "revoked: expected vs got"

# 5. A named alert is checked.
fx="$SRC/fixtures"
cat >"$work/alerts.json" <<JSON
{"defaults": {"url": "$url", "cacert": "$fx/ca.crt"},
 "cases": [{"name": "rogue", "cert": "$fx/rogue.pem", "refused": "handshake", "alert": "unknown_ca"},
           {"name": "expired", "cert": "$fx/expired.pem", "refused": "handshake", "alert": "bad_certificate"}]}
JSON
set +e
"$CERTAUTH" probe --scenarios "$work/alerts.json" >"$work/alerts.out"
code=$?
set -e
cat "$work/alerts.out"
[ "$code" = 1 ] || fail "named alerts: exit $code, expected 1"
grep -q "^2 cases: 1 passed, 1 failed, 0 errors" "$work/alerts.out" || fail "named alerts: summary"
grep -q "expected alert bad_certificate, got certificate_expired" "$work/alerts.out" || fail "named alerts: message"

echo "probe against serve --require-cert: all checks passed"
