#!/usr/bin/env bash
# shellcheck disable=SC2016  # the backquotes in the page are Markdown, not expansions
# scripts/conformance.sh --short: certauth, nginx (ssl_verify_client on) and
# HAProxy (verify optional) started on loopback with a fresh PKI, the same
# matrix run against each, and a page of what each did: certauth's reasons,
# nginx's 400 pages, HAProxy's handshake alerts, the versions that ran; no
# server left running. Then the failure paths: a server that never listens
# and an interrupted run both leave nothing running.
set -euo pipefail

CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
export CERTAUTH

work="$(mktemp -d)"
run_pid=""
cleanup() {
  if [ -n "$run_pid" ]; then kill -TERM "$run_pid" 2>/dev/null || true; fi
  if [ -s "$work/fake.pid" ]; then kill -KILL "$(cat "$work/fake.pid")" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# The scratch folders of these runs live under $work: a process whose command
# line names it is one of ours, still running.
export TMPDIR="$work"
leftovers() { pgrep -f -- "$work/certauth-conformance" || true; }

# 1. The short table.
"$SRC/scripts/conformance.sh" --short --output "$work/conformance.md" 2>"$work/run.err" \
  || { cat "$work/run.err" >&2; fail "conformance.sh --short"; }
cat "$work/run.err"
page="$work/conformance.md"
cat "$page"
row() { grep -F "| **$1**" "$page" || fail "no row for $1"; }
# case | certauth's answer | certauth | nginx on | HAProxy verify optional
cells() { row "$1" | awk -F' \\| ' '{ print $3 " | " $4 " | " $5 }' | sed 's/ |$//'; }
expect_cells() {
  local got
  got="$(cells "$1")"
  [ "$got" = "$2" ] || fail "row $1: '$got', expected '$2'"
}
grep -q '^| case | certauth'"'"'s answer | certauth | nginx `on` | HAProxy `verify optional` |$' "$page" \
  || fail "header row"
expect_cells joe '200 | 200 | 200'
expect_cells bob '401 `unknown_user` | 401 | 401'
expect_cells expired '401 `expired` | 400 page "The SSL certificate error" | refused: `certificate_expired`'
expect_cells revoked '401 `revoked` | 400 page "The SSL certificate error" | refused: `certificate_revoked`'
expect_cells rogue '401 `untrusted` | 400 page "The SSL certificate error" | refused: `unknown_ca`'
expect_cells 'no certificate' '401 `no_certificate` | 400 page "No required SSL certificate was sent" | 401'
expect_cells 'no certificate GET /healthz' '200 | ✗ 400 page "No required SSL certificate was sent" | 200'
grep -qF '| `scenarios.json` passed |  | 16/16 |' "$page" || fail "certauth does not pass its own scenarios"
grep -qE '^- certauth [0-9]' "$page" || fail "certauth version"
grep -qE '^- nginx [0-9]' "$page" || fail "nginx version"
grep -qE '^- HAProxy [0-9]' "$page" || fail "HAProxy version"
grep -q '^### HAProxy `verify optional`$' "$page" || fail "no section for HAProxy"
grep -q 'refused at the TLS handshake (alerts `bad_certificate`, `certificate_expired`' "$page" \
  || fail "HAProxy's alerts not summarised"
[ -z "$(leftovers)" ] || fail "servers still running after the run: $(leftovers)"
! compgen -G "$work/certauth-conformance.*" >/dev/null || fail "scratch folder left behind"

# 2. A server that never listens: the run fails (exit 2) saying so, and the
# process it started is gone. A fake haproxy that only sleeps.
mkdir "$work/bin"
cat >"$work/bin/haproxy" <<FAKE
#!/usr/bin/env bash
echo \$\$ >"$work/fake.pid"
exec sleep 300
FAKE
chmod +x "$work/bin/haproxy"
set +e
PATH="$work/bin:$PATH" CONFORMANCE_START_TIMEOUT=1 "$SRC/scripts/conformance.sh" --servers haproxy-optional \
  --pki "$SRC/fixtures" --output "$work/never.md" 2>"$work/never.err"
code=$?
set -e
cat "$work/never.err"
[ "$code" = 2 ] || fail "a server that never listens: exit $code, expected 2"
grep -q "haproxy did not listen within 1 s" "$work/never.err" || fail "no message for the server that never listened"
[ -s "$work/fake.pid" ] || fail "the fake haproxy did not run"
! kill -0 "$(cat "$work/fake.pid")" 2>/dev/null || fail "the server that never listened is still running"
[ ! -e "$work/never.md" ] || fail "a page was written for a failed run"

# 3. Interrupted while a server runs: SIGTERM stops it too.
rm -f "$work/fake.pid"
PATH="$work/bin:$PATH" CONFORMANCE_START_TIMEOUT=60 "$SRC/scripts/conformance.sh" --servers haproxy-optional \
  --pki "$SRC/fixtures" --output "$work/interrupted.md" 2>"$work/interrupted.err" &
run_pid=$!
for _ in $(seq 1 100); do [ -s "$work/fake.pid" ] && break; sleep 0.1; done
[ -s "$work/fake.pid" ] || fail "the fake haproxy did not start"
kill -TERM "$run_pid"
for _ in $(seq 1 100); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$run_pid" 2>/dev/null || fail "conformance.sh did not end on SIGTERM"
run_pid=""
! kill -0 "$(cat "$work/fake.pid")" 2>/dev/null || fail "the server of an interrupted run is still running"
[ -z "$(leftovers)" ] || fail "processes left by the interrupted run: $(leftovers)"

echo "conformance --short: table as observed, versions named, nothing left running"
