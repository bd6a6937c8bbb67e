#!/usr/bin/env bash
# HAProxy (the Debian package) terminates mTLS and passes every request to
# certauth with %[ssl_c_der,base64] in X-Client-Cert; certauth runs
# --listen-trusted --proxy-preset haproxy --upstream in front of the
# application and decides with its own trust store. docs/recipes/haproxy.cfg
# is the configuration, as written (its placeholders filled). Everything binds
# 127.0.0.1 on free ports and stops on exit.
set -euo pipefail
CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
work="$(mktemp -d)"
# shellcheck source-path=SCRIPTDIR source=lib/processes.sh
source "$SRC/tests/e2e/lib/processes.sh"
# shellcheck source-path=SCRIPTDIR source=lib/proxy.sh
source "$SRC/tests/e2e/lib/proxy.sh"
trap 'stop_started; rm -rf "$work"' EXIT
command -v haproxy >/dev/null || fail "haproxy is not installed (scripts/bootstrap.sh installs it)"
# HAProxy 3.0 (Debian 13) passes the requests of several clients over one
# kept-alive connection to certauth: joe-spoof below checks that a forwarded
# answer after a denial on the same connection arrives whole (HAProxy answers
# 502 to an answer without its head).
pki="$SRC/fixtures"

start_waiting app 's/^listening \([0-9][0-9]*\)$/\1/p' python3 "$SRC/tests/e2e/apps/echo_app.py"
# shellcheck disable=SC2154 # app_match and certauth_match: set by start_waiting
app_port=$app_match
start_waiting certauth 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
  "$CERTAUTH" serve --listen-trusted 127.0.0.1:0 --proxy-preset haproxy --upstream "http://127.0.0.1:$app_port" \
  --no-access-log --ca "$pki/ca.crt" --crl "$pki/all.crl" --intermediate "$pki/sub-ca.crt" --users "$pki/users.json"
# shellcheck disable=SC2154
certauth_port=$certauth_match

start_proxy haproxy "$SRC/docs/recipes/haproxy.cfg" PKI="$pki" CERTAUTH_PORT="$certauth_port" APP_PORT="$app_port" \
  -- haproxy -db -f @CONF@
# shellcheck disable=SC2154 # haproxy_port: set by start_proxy
port=$haproxy_port

# request NAME [CERT] [curl args...]: status in $work/NAME.status, body in $work/NAME.body
url="https://localhost:$port"

# joe: authorised; the application sees certauth's identity.
request joe joe "$url/some/page?q=1" -H "X-Forwarded-For: 10.6.6.6"
expect joe 200
python3 - "$work/joe.body" <<'PY' || fail "joe: the application did not get certauth's identity: $(cat "$work/joe.body")"
import json, sys
r = json.load(open(sys.argv[1]))
h = r["headers"]
assert r["path"] == "/some/page?q=1", r
assert h["x-certauth-cn"] == "joe", h
assert json.loads(h["x-certauth-user"])["cn"] == "joe", h
assert h["x-certauth-roles"] == "admin", h
assert len(h["x-certauth-fingerprint256"]) == 95, h
assert "x-client-cert" not in h, h
# The client's address (set by HAProxy, the one joe sent replaced) and then HAProxy's own, which
# certauth appended; the scheme HAProxy set.
assert h["x-forwarded-for"] == "127.0.0.1, 127.0.0.1", h
assert h["x-forwarded-proto"] == "https", h
PY

# A denial is certauth's own answer, passed on by HAProxy.
# bob: verified, not in the user list.
request bob bob "$url/"
expect bob 401 unknown_user

# No certificate: HAProxy sends an empty header.
request none "" "$url/"
expect none 401 no_certificate

# rogue (CN=joe, another CA): HAProxy accepted it (ca-ignore-err all), certauth did not.
request rogue rogue "$url/"
expect rogue 401 untrusted

# revoked: on the CRL.
request revoked revoked "$url/"
expect revoked 401 revoked

# A client without a certificate sending joe's certificate and identity in
# headers of its own gains nothing: set-header replaces X-Client-Cert.
joe_der=$(openssl x509 -in "$pki/joe.crt" -outform DER | base64 -w0)
request spoof "" "$url/" -H "X-Client-Cert: $joe_der" -H 'X-Certauth-User: {"cn":"joe"}' -H "X-Certauth-CN: joe"
expect spoof 401 no_certificate
# Sent twice, in another case: replaced all the same.
request spoof-twice "" "$url/" -H "X-Client-Cert: $joe_der" -H "x-client-cert: $joe_der"
expect spoof-twice 401 no_certificate
# With bob's certificate and a spoofed identity: still bob's decision.
request spoof-bob bob "$url/" -H "X-Client-Cert: $joe_der" -H "X-Certauth-CN: joe"
expect spoof-bob 401 unknown_user

# An authorised client's own identity headers never reach the application.
request joe-spoof joe "$url/" -H "X-Certauth-CN: admin" -H "X-Certauth-Roles: root" \
  -H "X-Certauth-Fingerprint256: AA:BB" -H "X-Certauth-Reason: none" -H 'X-Forwarded-Client-Cert: Hash=1;Subject="CN=admin"' \
  -H "Client-Cert: :AAAA:" -H "Client-Cert-Chain: :AAAA:" -H "X-Client-Cert: $joe_der" \
  -H 'X_Certauth_User: {"cn":"admin"}'
expect joe-spoof 200
python3 - "$work/joe-spoof.body" <<'PY' || fail "joe-spoof: $(cat "$work/joe-spoof.body")"
import json, sys
h = json.load(open(sys.argv[1]))["headers"]
assert h["x-certauth-cn"] == "joe" and h["x-certauth-roles"] == "admin", h
assert h["x-certauth-fingerprint256"] != "AA:BB" and "Hash=1;" not in h.get("x-forwarded-client-cert", ""), h
for name in ("x-certauth-reason", "client-cert", "client-cert-chain", "x-client-cert"):
    assert name not in h, (name, h)
assert not any("_" in name for name in h), h
PY

# HAProxy passes the leaf only: carol's issuer, the intermediate sub-ca, comes
# from --intermediate. The route is the request's own: carol has no admin role.
curl -sS --max-time 10 --cacert "$pki/ca.crt" --cert "$pki/carol-chain.pem" --key "$pki/carol.key" \
  -o "$work/carol-ok.body" -w '%{http_code}' "$url/" >"$work/carol-ok.status"
expect carol-ok 200
curl -sS --max-time 10 --cacert "$pki/ca.crt" --cert "$pki/carol-chain.pem" --key "$pki/carol.key" \
  -o "$work/carol.body" -w '%{http_code}' "$url/admin/x" >"$work/carol.status"
expect carol 403

echo "ok: HAProxy in front of certauth --listen-trusted --upstream"
