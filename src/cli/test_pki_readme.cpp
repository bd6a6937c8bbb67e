// README.md of the test PKI: what each file is, and how to point a server
// (certauth, nginx, Caddy, HAProxy) and certauth probe at it.
#include "cli/test_pki_parts.hpp"

#include <certauth/x509/time_text.hpp>

#include <string>

namespace certauth::cli::test_pki {
namespace {

// Replaces every "{{KEY}}" of `text`.
std::string fill(std::string text, const std::vector<std::pair<std::string, std::string>>& values) {
    for (const auto& [key, value] : values) {
        const std::string mark = "{{" + key + "}}";
        for (auto at = text.find(mark); at != std::string::npos; at = text.find(mark, at + value.size()))
            text.replace(at, mark.size(), value);
    }
    return text;
}

std::string key_text(x509::KeyType type) {
    switch (type) {
    case x509::KeyType::rsa2048: return "RSA-2048";
    case x509::KeyType::rsa3072: return "RSA-3072";
    case x509::KeyType::p256: return "EC P-256";
    case x509::KeyType::p384: return "EC P-384";
    case x509::KeyType::ed25519: return "Ed25519";
    }
    return "RSA-2048";
}

// "2020-01-01" for midnight, "2049-12-31 23:59:59" otherwise.
std::string when(TimePoint t) {
    const std::string stamp = x509::timestamp_text(t); // 2049-12-31T23:59:59Z
    const std::string time = stamp.substr(11, 8);
    return time == "00:00:00" ? stamp.substr(0, 10) : stamp.substr(0, 10) + " " + time;
}

std::string sans_text(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& name : names) {
        const x509::AltName alt = x509::alt_name_for_host(name);
        out += (out.empty() ? "" : ", ") + std::string(alt.kind == x509::AltName::Kind::ip ? "IP:" : "DNS:") + name;
    }
    return out;
}

constexpr const char* k_main = R"(# A test PKI for mTLS: every case a client certificate can fail

> **TEST PKI ONLY.** The private keys here are unencrypted, and anyone who
> gets this folder can act as any of its clients or CAs. Use it to test a
> server, never to protect one: never trust `ca.crt` outside a test.

Made by `certauth pki init` with
{{OPTIONS}};
run it again with `--force` for new keys, and `certauth pki issue` adds a
certificate of your own.

## Try it with certauth

Inside this folder:

```sh
certauth serve                           # uses certauth.toml: https://127.0.0.1:3443
curl --cacert ca.crt --cert joe.pem https://localhost:3443/          # 200 {"cn":"joe",...}
certauth check joe.crt bob.crt revoked.crt    # the same decisions, offline
certauth probe --scenarios scenarios.json     # the whole table below against the server
```

carol is issued by the intermediate `sub-ca`: `carol.crt` (or `carol.pem`)
alone is `untrusted` — `curl --cert carol.pem` and `certauth check carol.crt`
both say so, since nothing links it to the trusted `ca.crt`. Send the
intermediate with it: `curl --cacert ca.crt --cert carol-chain.pem --key
carol.key https://localhost:3443/` and `certauth check carol-chain.pem` are
authorised.

## Files

Keys are unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), {{KEY}}
unless noted; files holding a private key are written with mode 0600. Dates are UTC.

| validity | used by |
|---|---|
| {{CA_FROM}} .. {{CA_UNTIL}} | the CAs (`ca`, `sub-ca`, `rogue-ca`); back-dated so that `check --at` a past time verifies |
| {{LEAF_FROM}} .. {{LEAF_UNTIL}} | ordinary leaves |
| 2020-01-01 .. 2021-01-01 | `expired` |
| 2090-01-01 .. 2099-01-01 | `notyet` |

### CAs and server

| file | what |
|---|---|
| `ca.crt`, `ca.key` | root CA `CN=certauth test CA,O=certauth`; CA:TRUE, keyUsage keyCertSign,cRLSign; self-signed; serial 1000 |
| `sub-ca.crt`, `sub-ca.key` | intermediate `CN=certauth test intermediate CA,O=certauth`, issued by `ca`, CA:TRUE pathlen:0 |
| `rogue-ca.crt`, `rogue-ca.key` | `CN=certauth rogue CA,O=certauth`, self-signed, **not** trusted by anything here |
| `server.crt`, `server.key` | `CN={{SERVER_CN}}`, SAN {{SANS}}; EKU serverAuth; `server.pem` = both (HAProxy's `crt`) |
| `server-ec.crt`, `server-ec.key` | the same with an EC P-256 key |

### Client certificates and what they give with `users.json`

Every client has `STEM.crt`, `STEM.key`, `STEM.pem` (certificate followed by
key, for `curl --cert STEM.pem`) and `STEM.p12` (PKCS#12 for a browser or a
key store; password **`{{P12_PASSWORD}}`**; carol's holds `sub-ca` too).
Clients have basicConstraints CA:FALSE, keyUsage digitalSignature
(+ keyEncipherment for RSA), EKU clientAuth (except `serveronly`), subject
and authority key identifiers. Serial numbers: joe 1004, bob 1005, expired
1006, notyet 1007, revoked 1008, serveronly 1009, dave 100A, hostile 100B
(from `ca`), carol 2000 (from `sub-ca`), rogue 3001 (from `rogue-ca`).

| stem | what | with `users.json` (trusting `ca.crt`, CRL `ca.crl`) |
|---|---|---|
| `joe` | CN=joe, issued by `ca`; also `joe.der` (DER) | 200 `{"cn":"joe","name":"Joe Example","roles":["admin"]}` |
| `bob` | CN=bob, not in the list | 401 `unknown_user` |
| `expired` | in the list, notAfter 2021-01-01 | 401 `expired` |
| `notyet` | in the list, notBefore 2090-01-01 | 401 `not_yet_valid` |
| `revoked` | in the list, on `ca.crl` (revocation date 2020-01-01) | 401 `revoked` |
| `rogue` | CN=joe, issued by `rogue-ca` | 401 `untrusted` (never joe) |
| `serveronly` | in the list, EKU serverAuth only | 401 `wrong_usage` |
| `carol` | issued by `sub-ca`; `carol-chain.pem` = carol.crt + sub-ca.crt (leaf first), no key | with `carol-chain.pem` (+ `carol.key`) or `carol.p12`: 200 `{"cn":"carol","name":"Carol Example","roles":["reader"]}`, 403 `forbidden` on `/admin`; `carol.crt` or `carol.pem` alone: 401 `untrusted` (the intermediate is missing) |
| `dave` | EC P-256 key (always); listed by SHA-256 fingerprint, not CN | 200 `{"cn":"dave","name":"Dave Example"}` |
| `hostile` | subject `CN=<script>alert(1)</script>`, `O=<img src=x onerror=alert(1)>`, not in the list: a page that shows its subject must show it as text | 401 `unknown_user` |
| (none) | no client certificate | 401 `no_certificate`; 200 on `/public` and `/healthz` |

### CRLs

All CRLs are PEM, have lastUpdate 2000-01-01 and a CRL number.

| file | issuer | nextUpdate | revokes |
|---|---|---|---|
| `ca.crl` (PEM), `ca.crl.der` (the same CRL in DER) | `ca` | 2060-01-01 | `revoked` |
| `sub-ca.crl` | `sub-ca` | 2060-01-01 | nothing |
| `rogue-ca.crl` | `rogue-ca` | 2060-01-01 | nothing |
| `ca-expired.crl` | `ca` | 2001-01-01 (expired) | `revoked` |
| `all.crl` | `ca.crl` followed by `sub-ca.crl`, for servers that take one CRL file and then want a CRL for every CA of a chain (nginx, HAProxy) | | |

### Configuration and scenario files

- `users.json`: joe (admin), expired, notyet, revoked, serveronly, carol
  (reader), dave (by `fingerprint256`); **not** bob, not hostile. Routes:
  `/admin` needs role `admin`; `/public` is public.
- `certauth.toml`: the demo configuration (`ca.crt`, `ca.crl`, `users.json`;
  `[serve]` on 127.0.0.1:3443 with `server.crt`/`server.key`). Run
  `certauth serve` or `certauth check joe.crt` in this folder and it applies.
- `scenarios.json`: the table above as a probe scenario file
  (`{"defaults": {url, cacert, method, path}, "cases": [{name, cert, key,
  path, method, headers, status, reason, user}]}`; paths relative to the
  file). Cases in order: joe, bob, expired, notyet, revoked, rogue,
  serveronly, carol, dave, hostile, no certificate (all `GET /`), then joe
  `GET /admin` 200, carol `GET /admin` 403 `forbidden`, no certificate
  `GET /public` 200 and `GET /healthz` 200, joe `HEAD /` 200.
- `scenarios-require-cert.json`: the same cases for a server that requires
  a client certificate at the TLS handshake (`certauth serve
  --require-cert`, HAProxy `verify required`, Caddy `require_and_verify`;
  not nginx, whose `ssl_verify_client on` answers with a 400 page): every
  case without a certificate or with one that does not verify (expired,
  notyet, revoked, rogue, serveronly) is `"refused": "handshake"` (the
  server ends the handshake with a TLS alert), and `"reason_optional": true`
  lets a server that gives no reason pass bob, hostile and carol's `/admin`
  on their status.

## Test your own server with it

1. Give your server `server.crt` and `server.key` (or your own certificate),
   and `ca.crt` as the only CA it trusts for client certificates; add
   `all.crl` if it checks revocation.
2. Run the table against it:
   `certauth probe --scenarios scenarios.json --url https://your-server:8443/`,
   or `scenarios-require-cert.json` when it requires a certificate at the
   handshake.

The statuses, reasons and user objects of `scenarios.json` are certauth's
answers (with `users.json`); another server passes the cases where it
answers alike, and probe's report shows, per case, what it answered instead
(a refusal at the handshake with the TLS alert's name) and what happened at
the TLS level (version, whether the server asked for a certificate and which
CA names it sent).

**nginx** (it answers a missing or failed certificate with its own 400 page;
`$ssl_client_verify` says why):

```nginx
server {
    listen 8443 ssl;
    ssl_certificate        /path/to/pki/server.crt;
    ssl_certificate_key    /path/to/pki/server.key;
    ssl_client_certificate /path/to/pki/ca.crt;
    ssl_crl                /path/to/pki/all.crl;   # a CRL for ca and for sub-ca
    ssl_verify_client      on;                     # or optional, and decide on $ssl_client_verify
    ssl_verify_depth       2;                      # carol: leaf, sub-ca, ca
    location / { return 200 "$ssl_client_s_dn\n"; }
}
```

**Caddy** (no CRLs; `require_and_verify` refuses at the handshake,
`verify_if_given` lets a request without a certificate through):

```caddy
https://localhost:8443 {
    tls /path/to/pki/server.crt /path/to/pki/server.key {
        client_auth {
            mode require_and_verify
            trusted_ca_cert_file /path/to/pki/ca.crt
        }
    }
    respond "{http.request.tls.client.subject}"
}
```

**HAProxy** (`verify required` refuses at the handshake; `verify optional`
lets the request through and `ssl_c_verify` says why):

```haproxy
frontend mtls
    mode http
    bind 127.0.0.1:8443 ssl crt /path/to/pki/server.pem ca-file /path/to/pki/ca.crt crl-file /path/to/pki/all.crl verify required
    http-request return status 200 content-type text/plain lf-string "%[ssl_c_s_dn]\n"
```

Browsers: import `joe.p12` (password `{{P12_PASSWORD}}`) and trust `ca.crt`
for websites (or accept the warning) to see what a person sees.

## Checking with openssl

```sh
openssl verify -CAfile ca.crt -purpose sslclient -crl_check -CRLfile ca.crl joe.crt   # OK
openssl verify -CAfile ca.crt -untrusted sub-ca.crt carol.crt                          # OK
openssl verify -CAfile ca.crt -crl_check -CRLfile ca.crl revoked.crt   # certificate revoked
openssl verify -CAfile ca.crt -purpose sslclient serveronly.crt        # unsuitable certificate purpose
openssl pkcs12 -in joe.p12 -passin pass:{{P12_PASSWORD}} -nokeys | openssl x509 -noout -subject   # subject=CN = joe
```
)";

constexpr const char* k_edge_cases = R"(
## `edge/` — certificates with unusual fields

Each is `edge/NAME.crt` + `edge/NAME.key`, issued by `ca`, EKU clientAuth
unless noted, valid 2020-01-01 .. 2049-12-31 23:59:59 unless noted, RSA-2048
unless noted. certauth's tests compare its certificate JSON for them with
Node.js's `getPeerCertificate()` shape.

| name | what is special |
|---|---|
| `multi-ou` | subject C=GB, ST=England, L=London, O=certauth, OU=Engineering, OU=Security, CN=multi-ou |
| `utf8` | CN `Zoë Ünïcødé 日本` (UTF8String), O=certauth |
| `comma` | CN `Doe, John = admin`, O=certauth |
| `sans` | subject CN=sans + emailAddress=sans@example.org; SAN DNS:sans.example.org, DNS:*.sans.example.org, email:sans@example.org, URI:spiffe://example.org/ns/prod/sa/api, IP:192.0.2.10, IP:2001:db8::1, IP:::1 |
| `aia` | authorityInfoAccess OCSP http://ocsp.example.org/ and caIssuers http://ca.example.org/ca.crt |
| `p384` | EC P-384 key |
| `ed25519` | Ed25519 key |
| `serial20` | 20-byte serial `7F0123456789ABCDEF0123456789ABCDEF012345` |
| `generalized` | notAfter 2070-01-01, encoded as GeneralizedTime |
| `multi-eku` | EKU clientAuth, serverAuth, emailProtection, codeSigning |

## `bad/` — inputs that must be refused cleanly

| file | what |
|---|---|
| `empty.crt` | 0 bytes |
| `random.bin` | 4096 fixed pseudo-random bytes (AES-128-CTR of zeros under a fixed key: the same on every run) |
| `key-not-cert.pem` | a private key PEM (a copy of bob.key), no certificate |
| `truncated.der` | the first half of `joe.der` |
| `broken-base64.pem` | `joe.crt` with characters outside base64 on line 3 |
| `trailing-garbage.pem` | `joe.crt` followed by a line of non-PEM text (a complete certificate is still present) |
| `not-a-ca.pem` | plain text, no PEM block, for `--ca` |
| `users-syntax.json` | JSON syntax error (missing comma) on line 4, column 11 |
| `users-wrong-type.json` | `users[1].cn` is a number |
| `users-no-match-key.json` | `users[1]` has only `name` and `roles`, no match key |
| `users-unknown-key.json` | unknown top-level key `user` (and no `users`) |
| `users-bad-route.json` | route path `admin` without a leading `/` |

In certauth's repository this folder is `fixtures/`, made by
`scripts/make-fixtures.sh`; `tests/fixtures/verify_fixtures.sh` checks every
claim of this README with the openssl CLI, and predicts every case of
`scenarios.json` from openssl verify plus `users.json`.
)";

} // namespace

std::string readme(const TestPkiOptions& options, const Windows& windows) {
    std::string used = "`--server-names ";
    for (std::size_t i = 0; i < options.server_names.size(); ++i)
        used += (i ? "," : "") + options.server_names[i];
    used += " --key-type " + std::string(x509::to_string(options.key_type));
    if (options.days) used += " --days " + std::to_string(*options.days);
    if (options.edge_cases) used += " --edge-cases";
    used += "`";
    std::string text = fill(k_main, {{"OPTIONS", used},
                                     {"KEY", key_text(options.key_type)},
                                     {"CA_FROM", when(windows.ca_from)},
                                     {"CA_UNTIL", when(windows.ca_until)},
                                     {"LEAF_FROM", when(windows.leaf_from)},
                                     {"LEAF_UNTIL", when(windows.leaf_until)},
                                     {"SERVER_CN", options.server_names.front()},
                                     {"SANS", sans_text(options.server_names)},
                                     {"P12_PASSWORD", options.p12_password}});
    if (options.edge_cases) text += k_edge_cases;
    return text;
}

} // namespace certauth::cli::test_pki
