#!/usr/bin/env bash
# nginx (the Debian package) terminates mTLS and asks certauth per request
# with auth_request, sending $ssl_client_escaped_cert; certauth runs
# --listen-trusted --proxy-preset nginx and decides with its own trust store.
# docs/recipes/nginx.conf is the configuration, as written (its placeholders
# filled). Everything binds 127.0.0.1 on free ports and stops on exit.
set -euo pipefail
CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
work="$(mktemp -d)"
# shellcheck source-path=SCRIPTDIR source=lib/processes.sh
source "$SRC/tests/e2e/lib/processes.sh"
# shellcheck source-path=SCRIPTDIR source=lib/proxy.sh
source "$SRC/tests/e2e/lib/proxy.sh"
trap 'stop_started; rm -rf "$work"' EXIT
command -v nginx >/dev/null || fail "nginx is not installed (scripts/bootstrap.sh installs it)"
pki="$SRC/fixtures"
mkdir -p "$work/tmp"

start_waiting app 's/^listening \([0-9][0-9]*\)$/\1/p' python3 "$SRC/tests/e2e/apps/echo_app.py"
app_port=$app_match
start_waiting certauth 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
  "$CERTAUTH" serve --listen-trusted 127.0.0.1:0 --proxy-preset nginx --no-access-log \
  --ca "$pki/ca.crt" --crl "$pki/all.crl" --intermediate "$pki/sub-ca.crt" --users "$pki/users.json"
certauth_port=$certauth_match

start_proxy nginx "$SRC/docs/recipes/nginx.conf" WORK="$work" PKI="$pki" CERTAUTH_PORT="$certauth_port" \
  APP_PORT="$app_port" -- nginx -p "$work" -e "$work/error.log" -c @CONF@
# shellcheck disable=SC2154 # nginx_port: set by start_proxy
port=$nginx_port

# request NAME [CERT] [curl args...]: status in $work/NAME.status, body in $work/NAME.body
url="https://localhost:$port"

# joe: authorised; the application sees certauth's identity.
request joe joe "$url/some/page"
expect joe 200
python3 - "$work/joe.body" <<'PY' || fail "joe: the application did not get certauth's identity: $(cat "$work/joe.body")"
import json, sys
h = json.load(open(sys.argv[1]))["headers"]
assert h["x-certauth-cn"] == "joe", h
assert json.loads(h["x-certauth-user"])["cn"] == "joe", h
assert h["x-certauth-roles"] == "admin", h
assert h.get("x-client-cert", "") == "", h
PY

# bob: verified, not in the user list.
request bob bob "$url/"
expect bob 401
# nginx's auth_request passes the status on; certauth's own answer says why.
curl -sS --max-time 10 -o "$work/bob-direct.body" -w '%{http_code}' \
  -H "X-Client-Cert: $(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(open(sys.argv[1]).read(), safe="-._~"))' "$pki/bob.crt")" \
  "http://127.0.0.1:$certauth_port/auth" >"$work/bob-direct.status"
expect bob-direct 401
grep -q '"reason":"unknown_user"' "$work/bob-direct.body" || fail "bob: $(cat "$work/bob-direct.body")"

# No certificate: 401.
request none "" "$url/"
expect none 401

# rogue: nginx accepted it (optional_no_ca), certauth did not.
request rogue rogue "$url/"
expect rogue 401

# revoked: on ca.crl.
request revoked revoked "$url/"
expect revoked 401

# A client without a certificate sending joe's certificate and identity in
# headers of its own gains nothing: nginx replaces X-Client-Cert.
joe_header=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(open(sys.argv[1]).read(), safe="-._~"))' "$pki/joe.crt")
request spoof "" "$url/" -H "X-Client-Cert: $joe_header" -H 'X-Certauth-User: {"cn":"joe"}' -H "X-Certauth-CN: joe"
expect spoof 401
# With bob's certificate and a spoofed identity: still bob's decision.
request spoof-bob bob "$url/" -H "X-Client-Cert: $joe_header" -H "X-Certauth-CN: joe"
expect spoof-bob 401

# An authorised client's own identity headers never reach the application.
request joe-spoof joe "$url/" -H "X-Certauth-CN: admin" -H "X-Certauth-Roles: root" \
  -H "X-Certauth-Fingerprint256: AA:BB" -H "X-Certauth-Reason: none" -H 'X-Forwarded-Client-Cert: Hash=1;Subject="CN=admin"' \
  -H "Client-Cert: :AAAA:" -H "Client-Cert-Chain: :AAAA:" -H "X-Original-URI: /admin"
expect joe-spoof 200
python3 - "$work/joe-spoof.body" <<'PY' || fail "joe-spoof: $(cat "$work/joe-spoof.body")"
import json, sys
h = json.load(open(sys.argv[1]))["headers"]
assert h["x-certauth-cn"] == "joe" and h["x-certauth-roles"] == "admin", h
assert h["x-certauth-fingerprint256"] != "AA:BB" and "Hash=1;" not in h.get("x-forwarded-client-cert", ""), h
for name in ("x-certauth-reason", "client-cert", "client-cert-chain", "x-original-uri"):
    assert name not in h, (name, h)
PY

# nginx passes the leaf only: carol's issuer, the intermediate sub-ca, comes
# from --intermediate. The route comes from X-Original-URI: carol has no admin role.
curl -sS --max-time 10 --cacert "$pki/ca.crt" --cert "$pki/carol-chain.pem" --key "$pki/carol.key" \
  -o "$work/carol-ok.body" -w '%{http_code}' "$url/" >"$work/carol-ok.status"
expect carol-ok 200
curl -sS --max-time 10 --cacert "$pki/ca.crt" --cert "$pki/carol-chain.pem" --key "$pki/carol.key" \
  -o "$work/carol.body" -w '%{http_code}' "$url/admin/x" >"$work/carol.status"
expect carol 403

# In front of the application (HAProxy's place: --listen-trusted --upstream):
# the certificate header and a client's identity headers do not reach it.
start_waiting gateway 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
  "$CERTAUTH" serve --listen-trusted 127.0.0.1:0 --proxy-preset haproxy --upstream "http://127.0.0.1:$app_port" \
  --no-access-log --ca "$pki/ca.crt" --users "$pki/users.json"
joe_der=$(openssl x509 -in "$pki/joe.crt" -outform DER | base64 -w0)
curl -sS --max-time 10 -o "$work/gateway.body" -w '%{http_code}' -H "X-Client-Cert: $joe_der" \
  -H "X-Certauth-Roles: root" -H 'X_Certauth_User: {"cn":"admin"}' \
  "http://127.0.0.1:$gateway_match/app/x" >"$work/gateway.status"
expect gateway 200
python3 - "$work/gateway.body" <<'PY' || fail "gateway: $(cat "$work/gateway.body")"
import json, sys
r = json.load(open(sys.argv[1]))
h = r["headers"]
assert r["path"] == "/app/x", r
assert h["x-certauth-cn"] == "joe" and h["x-certauth-roles"] == "admin", h
assert "x-client-cert" not in h, h
assert not any("_" in name for name in h), h  # X_Certauth_User reads as X-Certauth-User to CGI-style apps
PY
curl -sS --max-time 10 -o "$work/gateway-two.body" -w '%{http_code}' -H "X-Client-Cert: $joe_der" \
  -H "X-Client-Cert: $joe_der" "http://127.0.0.1:$gateway_match/" >"$work/gateway-two.status"
expect gateway-two 401
grep -q '"reason":"malformed"' "$work/gateway-two.body" || fail "gateway-two: $(cat "$work/gateway-two.body")"

# The same on a unix socket: its peer has no address, and every request on a
# kept-alive connection is trusted alike (the socket file's permissions decide).
sock="$work/certauth.sock"
start_waiting gateway_unix 's/.*listening on \(unix:\).*/\1/p' \
  "$CERTAUTH" serve --listen-trusted "unix:$sock" --proxy-preset haproxy --upstream "http://127.0.0.1:$app_port" \
  --no-access-log --ca "$pki/ca.crt" --users "$pki/users.json"
curl -sS --max-time 10 --unix-socket "$sock" -H "X-Client-Cert: $joe_der" -w '%{http_code}\n' \
  -o "$work/unix-1.body" "http://x/one" -o "$work/unix-2.body" "http://x/two" >"$work/unix.status"
[ "$(tr '\n' ' ' <"$work/unix.status")" = "200 200 " ] || fail "unix: $(cat "$work/unix.status") $(cat "$work/unix-2.body")"
python3 - "$work/unix-2.body" <<'PY' || fail "unix: $(cat "$work/unix-2.body")"
import json, sys
h = json.load(open(sys.argv[1]))["headers"]
assert h["x-certauth-cn"] == "joe" and "x-forwarded-for" not in h, h
PY

# An auth subrequest whose X-Original-URI comes twice: which is the client's? 400.
start_waiting answer 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
  "$CERTAUTH" serve --listen-trusted 127.0.0.1:0 --proxy-preset nginx --no-access-log --ca "$pki/ca.crt" \
  --users "$pki/users.json"
curl -sS --max-time 10 -o "$work/twice.body" -w '%{http_code}' -H "X-Client-Cert: $joe_header" \
  -H "X-Original-URI: /admin" -H "X-Original-URI: /admin" "http://127.0.0.1:$answer_match/auth" >"$work/twice.status"
expect twice 400

# A peer outside --trusted-proxy is refused (here: a listener trusting none of 127/8).
start_waiting strict 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
  "$CERTAUTH" serve --listen-trusted 127.0.0.1:0 --trusted-proxy 192.0.2.0/24 --no-access-log --ca "$pki/ca.crt"
curl -sS --max-time 10 -o "$work/strict.body" -w '%{http_code}' "http://127.0.0.1:$strict_match/" >"$work/strict.status"
expect strict 403
grep -q '"reason":"untrusted_proxy"' "$work/strict.body" || fail "strict: $(cat "$work/strict.body")"

echo "ok: nginx auth_request with certauth --listen-trusted"
