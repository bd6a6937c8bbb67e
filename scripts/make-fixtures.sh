#!/usr/bin/env bash
# Regenerates the certauth test PKI in fixtures/ (see fixtures/README.md).
#
# Uses only the openssl CLI (3.0). Everything is built in a temporary
# directory and then moved into place, so a failed run leaves fixtures/
# untouched. Re-running gives the same names, subjects, serials, dates,
# extensions and JSON layout; only the key material (and therefore the
# signatures and fingerprints) changes. fixtures/README.md is hand-written and
# kept as it is.
#
# THIS IS A TEST PKI. The private keys are committed on purpose. Never use
# any of these keys or certificates outside certauth's tests.
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest="${root_dir}/fixtures"

command -v openssl >/dev/null || { echo "make-fixtures: openssl not found" >&2; exit 1; }
case "$(openssl version)" in
    "OpenSSL 3."*) ;;
    *) echo "make-fixtures: need OpenSSL 3.x, found: $(openssl version)" >&2; exit 1 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/certauth-fixtures.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
out="$work/out"
mkdir -p "$out/edge" "$out/bad"

# Validity windows (openssl ca -startdate/-enddate; YYYYMMDDHHMMSSZ, encoded
# as UTCTime before 2050 and GeneralizedTime from 2050 on, as RFC 5280 says).
ca_start=20000101000000Z
ca_end=20600101000000Z
leaf_start=20200101000000Z
leaf_end=20491231235959Z
expired_start=20200101000000Z
expired_end=20210101000000Z
notyet_start=20900101000000Z
notyet_end=20990101000000Z
crl_last=20000101000000Z
crl_next=20600101000000Z
crl_expired_next=20010101000000Z
# Revocation date written for `revoked` (index.txt form, UTCTime), so that
# the CRLs' content does not depend on the day the script ran.
revocation_date=200101000000Z

# --------------------------------------------------------------------------
# Configuration: one request config and one CA config with a section per CA.
cat >req.cnf <<'EOF'
[req]
distinguished_name = req_dn
prompt = no
utf8 = yes
string_mask = utf8only
[req_dn]
CN = placeholder
EOF

cat >ca.cnf <<'EOF'
[ca]
default_ca = CA_root

[CA_root]
dir = root
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
policy = policy_any
preserve = yes
unique_subject = no
copy_extensions = none
email_in_dn = yes
string_mask = utf8only
default_days = 365
default_crl_days = 30
crl_extensions = crl_ext

[CA_sub]
dir = sub
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
policy = policy_any
preserve = yes
unique_subject = no
copy_extensions = none
email_in_dn = yes
string_mask = utf8only
default_days = 365
default_crl_days = 30
crl_extensions = crl_ext

[CA_rogue]
dir = rogue
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
policy = policy_any
preserve = yes
unique_subject = no
copy_extensions = none
email_in_dn = yes
string_mask = utf8only
default_days = 365
default_crl_days = 30
crl_extensions = crl_ext

[policy_any]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
emailAddress = optional

[crl_ext]
authorityKeyIdentifier = keyid:always

[v3_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[v3_sub]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[client_rsa]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[client_ec]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[server_only]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[server_rsa]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[server_ec]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[edge_sans]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = DNS:sans.example.org, DNS:*.sans.example.org, email:sans@example.org, URI:spiffe://example.org/ns/prod/sa/api, IP:192.0.2.10, IP:2001:db8::1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[edge_aia]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
authorityInfoAccess = OCSP;URI:http://ocsp.example.org/, caIssuers;URI:http://ca.example.org/ca.crt
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[edge_multi_eku]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth, emailProtection, codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
# (openssl config sections cannot inherit, so each CA section repeats its settings.)

for d in root sub rogue; do
    mkdir -p "$d/newcerts"
    : >"$d/index.txt"
    echo "unique_subject = no" >"$d/index.txt.attr"
    echo 01 >"$d/crlnumber"
done
echo 1000 >root/serial
echo 2000 >sub/serial
echo 3000 >rogue/serial

quiet() {
    # Run a command, showing its output only when it fails.
    local log
    log=$(mktemp "$work/log.XXXXXX")
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "make-fixtures: failed: $*" >&2
        exit 1
    fi
    rm -f "$log"
}

# genkey FILE TYPE: unencrypted PKCS#8 PEM. TYPE: rsa | p256 | p384 | ed25519.
genkey() {
    case "$2" in
        rsa) quiet openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" ;;
        p256) quiet openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
            -pkeyopt ec_param_enc:named_curve -out "$1" ;;
        p384) quiet openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
            -pkeyopt ec_param_enc:named_curve -out "$1" ;;
        ed25519) quiet openssl genpkey -algorithm ED25519 -out "$1" ;;
        *) echo "make-fixtures: unknown key type $2" >&2; exit 1 ;;
    esac
}

# issue CA_SECTION OUTBASE KEYTYPE SUBJECT EXTENSIONS START END
# Writes OUTBASE.key and OUTBASE.crt (PEM, no text dump).
issue() {
    local ca=$1 base=$2 keytype=$3 subj=$4 ext=$5 start=$6 end=$7
    genkey "$base.key" "$keytype"
    quiet openssl req -new -config req.cnf -utf8 -key "$base.key" -subj "$subj" -out "$base.csr"
    quiet openssl ca -batch -config ca.cnf -name "$ca" -utf8 -notext \
        -in "$base.csr" -out "$base.crt" -extensions "$ext" \
        -startdate "$start" -enddate "$end"
    rm -f "$base.csr"
}

# combine STEM: STEM.pem = certificate + key.
combine() {
    cat "$out/$1.crt" "$out/$1.key" >"$out/$1.pem"
}

echo "make-fixtures: CAs"
# Root CA: self-signed through `openssl ca -selfsign` so that it can be
# back-dated.
genkey root/ca.key rsa
quiet openssl req -new -config req.cnf -utf8 -key root/ca.key \
    -subj "/O=certauth/CN=certauth test CA" -out root/ca.csr
quiet openssl ca -batch -config ca.cnf -name CA_root -selfsign -keyfile root/ca.key -notext \
    -in root/ca.csr -out root/ca.crt -extensions v3_root -startdate "$ca_start" -enddate "$ca_end"
cp root/ca.crt "$out/ca.crt"
cp root/ca.key "$out/ca.key"

genkey rogue/ca.key rsa
quiet openssl req -new -config req.cnf -utf8 -key rogue/ca.key \
    -subj "/O=certauth/CN=certauth rogue CA" -out rogue/ca.csr
quiet openssl ca -batch -config ca.cnf -name CA_rogue -selfsign -keyfile rogue/ca.key -notext \
    -in rogue/ca.csr -out rogue/ca.crt -extensions v3_root -startdate "$ca_start" -enddate "$ca_end"
cp rogue/ca.crt "$out/rogue-ca.crt"
cp rogue/ca.key "$out/rogue-ca.key"

issue CA_root sub/ca rsa "/O=certauth/CN=certauth test intermediate CA" v3_sub "$ca_start" "$ca_end"
cp sub/ca.crt "$out/sub-ca.crt"
cp sub/ca.key "$out/sub-ca.key"

echo "make-fixtures: server and clients"
issue CA_root "$out/server" rsa "/CN=localhost" server_rsa "$leaf_start" "$leaf_end"
issue CA_root "$out/server-ec" p256 "/CN=localhost" server_ec "$leaf_start" "$leaf_end"

issue CA_root "$out/joe" rsa "/CN=joe" client_rsa "$leaf_start" "$leaf_end"
issue CA_root "$out/bob" rsa "/CN=bob" client_rsa "$leaf_start" "$leaf_end"
issue CA_root "$out/expired" rsa "/CN=expired" client_rsa "$expired_start" "$expired_end"
issue CA_root "$out/notyet" rsa "/CN=notyet" client_rsa "$notyet_start" "$notyet_end"
issue CA_root "$out/revoked" rsa "/CN=revoked" client_rsa "$leaf_start" "$leaf_end"
issue CA_root "$out/serveronly" rsa "/CN=serveronly" server_only "$leaf_start" "$leaf_end"
issue CA_root "$out/dave" p256 "/CN=dave" client_ec "$leaf_start" "$leaf_end"
issue CA_rogue "$out/rogue" rsa "/CN=joe" client_rsa "$leaf_start" "$leaf_end"
issue CA_sub "$out/carol" rsa "/CN=carol" client_rsa "$leaf_start" "$leaf_end"

for stem in joe bob expired notyet revoked serveronly dave rogue carol; do
    combine "$stem"
done
cat "$out/carol.crt" "$out/sub-ca.crt" >"$out/carol-chain.pem"
quiet openssl x509 -in "$out/joe.crt" -outform DER -out "$out/joe.der"

echo "make-fixtures: CRLs"
quiet openssl ca -batch -config ca.cnf -name CA_root -revoke "$out/revoked.crt"
# Pin the revocation date (column 3 of index.txt) to a fixed time.
revoked_serial=$(openssl x509 -in "$out/revoked.crt" -noout -serial | sed 's/^serial=//')
awk -F'\t' -v OFS='\t' -v s="$revoked_serial" -v d="$revocation_date" \
    '$1 == "R" && $4 == s { $3 = d } { print }' root/index.txt >root/index.txt.new
mv root/index.txt.new root/index.txt
grep -q "^R	.*	${revocation_date}	${revoked_serial}	" root/index.txt ||
    { echo "make-fixtures: could not pin the revocation date" >&2; exit 1; }

quiet openssl ca -batch -config ca.cnf -name CA_root -gencrl \
    -crl_lastupdate "$crl_last" -crl_nextupdate "$crl_next" -out "$out/ca.crl"
quiet openssl crl -in "$out/ca.crl" -outform DER -out "$out/ca.crl.der"
quiet openssl ca -batch -config ca.cnf -name CA_root -gencrl \
    -crl_lastupdate "$crl_last" -crl_nextupdate "$crl_expired_next" -out "$out/ca-expired.crl"
quiet openssl ca -batch -config ca.cnf -name CA_sub -gencrl \
    -crl_lastupdate "$crl_last" -crl_nextupdate "$crl_next" -out "$out/sub-ca.crl"

echo "make-fixtures: edge certificates"
e="$out/edge"
issue CA_root "$e/multi-ou" rsa \
    "/C=GB/ST=England/L=London/O=certauth/OU=Engineering/OU=Security/CN=multi-ou" \
    client_rsa "$leaf_start" "$leaf_end"
issue CA_root "$e/utf8" rsa "/O=certauth/CN=Zoë Ünïcødé 日本" client_rsa "$leaf_start" "$leaf_end"
issue CA_root "$e/comma" rsa "/O=certauth/CN=Doe, John = admin" client_rsa "$leaf_start" "$leaf_end"
issue CA_root "$e/sans" rsa "/CN=sans/emailAddress=sans@example.org" edge_sans "$leaf_start" "$leaf_end"
issue CA_root "$e/aia" rsa "/CN=aia" edge_aia "$leaf_start" "$leaf_end"
issue CA_root "$e/p384" p384 "/CN=p384" client_ec "$leaf_start" "$leaf_end"
issue CA_root "$e/ed25519" ed25519 "/CN=ed25519" client_ec "$leaf_start" "$leaf_end"
# 20-byte serial whose first byte has the high nibble 7 (the largest
# positive 20-byte INTEGER RFC 5280 allows starts 0x7F).
saved_serial=$(cat root/serial)
echo 7F0123456789ABCDEF0123456789ABCDEF012345 >root/serial
issue CA_root "$e/serial20" rsa "/CN=serial20" client_rsa "$leaf_start" "$leaf_end"
echo "$saved_serial" >root/serial
issue CA_root "$e/generalized" rsa "/CN=generalized" client_rsa "$leaf_start" 20700101000000Z
issue CA_root "$e/multi-eku" rsa "/CN=multi-eku" edge_multi_eku "$leaf_start" "$leaf_end"

echo "make-fixtures: bad inputs"
b="$out/bad"
: >"$b/empty.crt"
# 4 KiB of pseudo-random bytes, the same on every run: AES-128-CTR of zeros.
head -c 4096 /dev/zero |
    openssl enc -aes-128-ctr -K 000102030405060708090a0b0c0d0e0f \
        -iv 00000000000000000000000000000000 -out "$b/random.bin"
cp "$out/bob.key" "$b/key-not-cert.pem"
der_size=$(wc -c <"$out/joe.der")
head -c $((der_size / 2)) "$out/joe.der" >"$b/truncated.der"
# Line 3 is inside the base64 body: replace its first 8 characters with
# characters outside the base64 alphabet.
sed '3s/^......../!!!!****/' "$out/joe.crt" >"$b/broken-base64.pem"
{
    cat "$out/joe.crt"
    echo "this line is trailing junk, not PEM: <<<%%%>>>"
} >"$b/trailing-garbage.pem"
cat >"$b/not-a-ca.pem" <<'EOF'
This file holds no certificate: it is plain text given where a CA
certificate file was expected (certauth --ca bad/not-a-ca.pem).
EOF
cat >"$b/users-syntax.json" <<'EOF'
{
  "users": [
    "joe",
    "bob" "carol"
  ]
}
EOF
cat >"$b/users-wrong-type.json" <<'EOF'
{
  "users": [
    "joe",
    { "cn": 42, "name": "Number Example" }
  ]
}
EOF
cat >"$b/users-no-match-key.json" <<'EOF'
{
  "users": [
    "joe",
    { "name": "Nobody Example", "roles": ["admin"] }
  ]
}
EOF
cat >"$b/users-unknown-key.json" <<'EOF'
{
  "user": [
    "joe"
  ]
}
EOF
cat >"$b/users-bad-route.json" <<'EOF'
{
  "users": [
    { "cn": "joe", "roles": ["admin"] }
  ],
  "routes": [
    { "path": "admin", "roles": ["admin"] }
  ]
}
EOF

echo "make-fixtures: users.json, certauth.toml, scenarios.json"
dave_fp=$(openssl x509 -in "$out/dave.crt" -noout -fingerprint -sha256 | sed 's/^.*=//')
cat >"$out/users.json" <<EOF
{
  "users": [
    {
      "cn": "joe",
      "name": "Joe Example",
      "roles": [
        "admin"
      ]
    },
    "expired",
    "notyet",
    "revoked",
    "serveronly",
    {
      "cn": "carol",
      "name": "Carol Example",
      "roles": [
        "reader"
      ]
    },
    {
      "fingerprint256": "${dave_fp}",
      "name": "Dave Example"
    }
  ],
  "routes": [
    {
      "path": "/admin",
      "roles": [
        "admin"
      ]
    },
    {
      "path": "/public",
      "public": true
    }
  ]
}
EOF

cat >"$out/certauth.toml" <<'EOF'
# certauth demo configuration for the test PKI in this folder (TEST keys only).
# Run inside fixtures/:  certauth serve            (https://localhost:3443)
#                        certauth check joe.crt    (the same decision, offline)
# Relative paths are relative to this file. See README.md here.
ca = "ca.crt"
crl = "ca.crl"
users = "users.json"

[serve]
listen = "127.0.0.1:3443"
cert = "server.crt"
key = "server.key"
EOF

cat >"$out/scenarios.json" <<'EOF'
{
  "defaults": {
    "url": "https://localhost:3443",
    "cacert": "ca.crt",
    "method": "GET",
    "path": "/"
  },
  "cases": [
    {
      "name": "joe",
      "cert": "joe.crt",
      "key": "joe.key",
      "path": "/",
      "status": 200,
      "user": {
        "cn": "joe",
        "name": "Joe Example"
      }
    },
    {
      "name": "bob",
      "cert": "bob.crt",
      "key": "bob.key",
      "path": "/",
      "status": 401,
      "reason": "unknown_user"
    },
    {
      "name": "expired",
      "cert": "expired.crt",
      "key": "expired.key",
      "path": "/",
      "status": 401,
      "reason": "expired"
    },
    {
      "name": "notyet",
      "cert": "notyet.crt",
      "key": "notyet.key",
      "path": "/",
      "status": 401,
      "reason": "not_yet_valid"
    },
    {
      "name": "revoked",
      "cert": "revoked.crt",
      "key": "revoked.key",
      "path": "/",
      "status": 401,
      "reason": "revoked"
    },
    {
      "name": "rogue",
      "cert": "rogue.crt",
      "key": "rogue.key",
      "path": "/",
      "status": 401,
      "reason": "untrusted"
    },
    {
      "name": "serveronly",
      "cert": "serveronly.crt",
      "key": "serveronly.key",
      "path": "/",
      "status": 401,
      "reason": "wrong_usage"
    },
    {
      "name": "carol",
      "cert": "carol-chain.pem",
      "key": "carol.key",
      "path": "/",
      "status": 200,
      "user": {
        "cn": "carol"
      }
    },
    {
      "name": "dave",
      "cert": "dave.crt",
      "key": "dave.key",
      "path": "/",
      "status": 200,
      "user": {
        "cn": "dave",
        "name": "Dave Example"
      }
    },
    {
      "name": "no certificate",
      "path": "/",
      "status": 401,
      "reason": "no_certificate"
    },
    {
      "name": "joe GET /admin",
      "cert": "joe.crt",
      "key": "joe.key",
      "path": "/admin",
      "status": 200,
      "user": {
        "cn": "joe"
      }
    },
    {
      "name": "carol GET /admin",
      "cert": "carol-chain.pem",
      "key": "carol.key",
      "path": "/admin",
      "status": 403,
      "reason": "forbidden"
    },
    {
      "name": "no certificate GET /public",
      "path": "/public",
      "status": 200
    },
    {
      "name": "no certificate GET /healthz",
      "path": "/healthz",
      "status": 200
    },
    {
      "name": "joe HEAD /",
      "cert": "joe.crt",
      "key": "joe.key",
      "method": "HEAD",
      "path": "/",
      "status": 200
    }
  ]
}
EOF

# --------------------------------------------------------------------------
# Move into place: replace every generated file, keep the hand-written README.
mkdir -p "$dest"
find "$dest" -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
cp -R "$out/." "$dest/"
chmod 644 "$dest"/*.* "$dest"/edge/* "$dest"/bad/*
echo "make-fixtures: wrote $(find "$dest" -type f ! -name README.md | wc -l) files to $dest"
