#!/usr/bin/env bash
# Caddy (the Debian package) terminates mTLS and asks certauth per request
# with forward_auth, sending {http.request.tls.client.certificate_der_base64};
# certauth runs --listen-trusted --proxy-preset caddy and decides with its own
# trust store. docs/recipes/Caddyfile is the configuration, as written (its
# placeholders filled). Everything binds 127.0.0.1 on free ports and stops on exit.
set -euo pipefail
CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
work="$(mktemp -d)"
# shellcheck source-path=SCRIPTDIR source=lib/processes.sh
source "$SRC/tests/e2e/lib/processes.sh"
# shellcheck source-path=SCRIPTDIR source=lib/proxy.sh
source "$SRC/tests/e2e/lib/proxy.sh"
trap 'stop_started; rm -rf "$work"' EXIT
command -v caddy >/dev/null || fail "caddy is not installed (scripts/bootstrap.sh installs it)"
pki="$SRC/fixtures"
# Caddy keeps its state under HOME and the XDG directories: the test's own.
export HOME="$work/home" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"

start_waiting app 's/^listening \([0-9][0-9]*\)$/\1/p' python3 "$SRC/tests/e2e/apps/echo_app.py"
# shellcheck disable=SC2154 # app_match and certauth_match: set by start_waiting
app_port=$app_match
start_waiting certauth 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
  "$CERTAUTH" serve --listen-trusted 127.0.0.1:0 --proxy-preset caddy --no-access-log \
  --ca "$pki/ca.crt" --crl "$pki/all.crl" --intermediate "$pki/sub-ca.crt" --users "$pki/users.json"
# shellcheck disable=SC2154
certauth_port=$certauth_match

start_proxy caddy "$SRC/docs/recipes/Caddyfile" PKI="$pki" CERTAUTH_PORT="$certauth_port" APP_PORT="$app_port" \
  -- caddy run --config @CONF@ --adapter caddyfile
# shellcheck disable=SC2154 # caddy_port: set by start_proxy
port=$caddy_port

# request NAME [CERT] [curl args...]: status in $work/NAME.status, body in $work/NAME.body
url="https://localhost:$port"

# joe: authorised; the application sees certauth's identity.
request joe joe "$url/some/page?q=1"
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
PY

# A denial is certauth's own answer: forward_auth passes its status, headers and body on.
# bob: verified, not in the user list.
request bob bob "$url/"
expect bob 401 unknown_user

# No certificate: Caddy sends an empty header.
request none "" "$url/"
expect none 401 no_certificate

# rogue (CN=joe, another CA): Caddy accepted it (mode request), certauth did not.
request rogue rogue "$url/"
expect rogue 401 untrusted

# revoked: on the CRL.
request revoked revoked "$url/"
expect revoked 401 revoked

# A client without a certificate sending joe's certificate and identity in
# headers of its own gains nothing: header_up replaces X-Client-Cert.
joe_der=$(openssl x509 -in "$pki/joe.crt" -outform DER | base64 -w0)
request spoof "" "$url/" -H "X-Client-Cert: $joe_der" -H 'X-Certauth-User: {"cn":"joe"}' -H "X-Certauth-CN: joe"
expect spoof 401 no_certificate
# With bob's certificate and a spoofed identity: still bob's decision.
request spoof-bob bob "$url/" -H "X-Client-Cert: $joe_der" -H "X-Certauth-CN: joe"
expect spoof-bob 401 unknown_user

# An authorised client's own identity headers never reach the application,
# nor does a forged original URI change the route.
request joe-spoof joe "$url/" -H "X-Certauth-CN: admin" -H "X-Certauth-Roles: root" \
  -H "X-Certauth-Fingerprint256: AA:BB" -H "X-Certauth-Reason: none" -H 'X-Forwarded-Client-Cert: Hash=1;Subject="CN=admin"' \
  -H "Client-Cert: :AAAA:" -H "Client-Cert-Chain: :AAAA:" -H "X-Client-Cert: $joe_der" \
  -H 'X_Certauth_User: {"cn":"admin"}' -H "X-Forwarded-Uri: /admin"
expect joe-spoof 200
python3 - "$work/joe-spoof.body" <<'PY' || fail "joe-spoof: $(cat "$work/joe-spoof.body")"
import json, sys
h = json.load(open(sys.argv[1]))["headers"]
assert h["x-certauth-cn"] == "joe" and h["x-certauth-roles"] == "admin", h
assert h["x-certauth-fingerprint256"] != "AA:BB" and "Hash=1;" not in h.get("x-forwarded-client-cert", ""), h
for name in ("x-certauth-reason", "client-cert", "client-cert-chain", "x-client-cert", "x-forwarded-uri"):
    assert name not in h, (name, h)
assert not any("_" in name for name in h), h
PY

# Caddy passes the leaf only: carol's issuer, the intermediate sub-ca, comes
# from --intermediate. The route comes from X-Forwarded-Uri: carol has no admin role.
curl -sS --max-time 10 --cacert "$pki/ca.crt" --cert "$pki/carol-chain.pem" --key "$pki/carol.key" \
  -o "$work/carol-ok.body" -w '%{http_code}' "$url/" >"$work/carol-ok.status"
expect carol-ok 200
curl -sS --max-time 10 --cacert "$pki/ca.crt" --cert "$pki/carol-chain.pem" --key "$pki/carol.key" \
  -o "$work/carol.body" -w '%{http_code}' "$url/admin/x" >"$work/carol.status"
expect carol 403

echo "ok: Caddy forward_auth with certauth --listen-trusted"
