#!/usr/bin/env bash
# One decision, three faces (docs/decisions.md): for every fixture certificate that
# has a key, what `certauth check --json` predicts (outcome, reason) is what
# `certauth serve` answers over real TLS (status, reason), with the same
# configuration (fixtures/certauth.toml).
set -euo pipefail

CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
cd "$SRC/fixtures"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$CERTAUTH" serve --listen 127.0.0.1:0 --no-access-log >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
port=""
for _ in $(seq 1 200); do
  port="$(sed -n 's/.*listening on https:\/\/127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/serve.err" | head -n 1)"
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.err" >&2; fail "serve exited"; }
  sleep 0.1
done
[ -n "$port" ] || fail "serve did not report its port"

# Every certificate with a key: the clients, carol with her chain, the edge
# cases, and the CA and server certificates used as client certificates.
cases=()
for crt in *.crt edge/*.crt; do
  stem="${crt%.crt}"
  [ -f "$stem.key" ] || continue
  [ "$stem" = carol ] && crt=carol-chain.pem
  cases+=("$crt|$stem.key")
done
[ "${#cases[@]}" -ge 15 ] || fail "only ${#cases[@]} fixture certificates found"

checked=0
for c in "${cases[@]}"; do
  crt="${c%|*}"
  key="${c#*|}"
  "$CERTAUTH" check --json "$crt" >"$work/check.json" 2>"$work/check.err" || true
  read -r outcome reason < <(python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).readline())
print(d["outcome"], d["reason"] or "-")' "$work/check.json") || fail "$crt: check printed no JSON: $(cat "$work/check.err")"
  curl -sS --max-time 20 --cacert ca.crt --cert "$crt" --key "$key" -o "$work/body" -w '%{http_code}' \
    "https://localhost:$port/" >"$work/status" 2>"$work/curl.err" || fail "$crt: curl: $(cat "$work/curl.err")"
  status="$(cat "$work/status")"
  got_reason="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("reason") or "-")' "$work/body")"
  case "$outcome" in
    authorised) want_status=200; want_reason=- ;;
    denied) want_status=401; [ "$reason" = forbidden ] && want_status=403; want_reason="$reason" ;;
    *) fail "$crt: unexpected check outcome $outcome" ;;
  esac
  printf '%-28s check: %-10s %-14s serve: %s %s\n' "$crt" "$outcome" "$reason" "$status" "$got_reason"
  [ "$status" = "$want_status" ] || fail "$crt: check says $outcome/$reason, serve answered $status"
  [ "$got_reason" = "$want_reason" ] || fail "$crt: check says reason $reason, serve answered $got_reason"
  if [ "$outcome" = authorised ]; then
    python3 - "$work/check.json" "$work/body" <<'PY' || fail "$crt: the user object differs"
import json, sys
check = json.loads(open(sys.argv[1]).readline())["user"]
served = json.load(open(sys.argv[2]))
sys.exit(0 if check == served else 1)
PY
  fi
  checked=$((checked + 1))
done
echo "equivalence: $checked certificates, check and serve agree"
