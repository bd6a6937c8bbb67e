#!/usr/bin/env bash
# certauth check vs openssl verify on the same N client certificates
# (default 10,000), in one run on the same machine; prints the wall-time
# ratio certauth/openssl (target <= 1.0).
#
#   scripts/bench/check-vs-openssl.sh [path/to/certauth]
#   BENCH_N=2000 BENCH_RUNS=5 scripts/bench/check-vs-openssl.sh
#
# The certificates come from a throw-away CA in a temporary directory, all
# signed in ONE `openssl ca -infiles` process from one CSR (one key for all
# leaves), so generation takes seconds, not one openssl process per
# certificate. They share the subject CN=bench-user and differ by serial, so
# the user list names half of them by serial number (hex).
#
# Timed (wall clock, median of BENCH_RUNS runs, default 3, output to /dev/null):
#   certauth check --ca ca.crt --users users.json FILES...
#   openssl verify -purpose sslclient -CAfile ca.crt FILES...
# Both do the same per file: read, parse, verify the chain for TLS client use;
# certauth also computes the identity fields and looks the user up.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
certauth=${1:-${CERTAUTH:-$root/build/certauth}}
n=${BENCH_N:-10000}
runs=${BENCH_RUNS:-3}

[[ -x $certauth ]] || { echo "check-vs-openssl: no certauth binary at $certauth (build it, or pass its path)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "check-vs-openssl: openssl not found" >&2; exit 2; }
certauth=$(cd "$(dirname "$certauth")" && pwd)/$(basename "$certauth")

work=$(mktemp -d "${TMPDIR:-/tmp}/certauth-bench-check.XXXXXX")
trap '[[ -n ${BENCH_KEEP:-} ]] || rm -rf "$work"' EXIT
cd "$work"

# --- generate -----------------------------------------------------------------
start=$(date +%s.%N)
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj "/CN=bench CA" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout leaf.key -subj "/CN=bench-user" -out leaf.csr 2>/dev/null
mkdir certs
: >index.txt
echo 1000 >serial
cat >ca.cnf <<'EOF'
[ ca ]
default_ca = bench
[ bench ]
dir = .
database = ./index.txt
serial = ./serial
new_certs_dir = ./certs
certificate = ./ca.crt
private_key = ./ca.key
default_md = sha256
default_startdate = 20000101000000Z
default_enddate = 20491231235959Z
policy = anything
unique_subject = no
email_in_dn = no
x509_extensions = client
[ anything ]
commonName = supplied
[ client ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
EOF
csrs=()
for ((i = 0; i < n; i++)); do csrs+=(leaf.csr); done
openssl ca -batch -notext -config ca.cnf -infiles "${csrs[@]}" >/dev/null 2>ca.log ||
    { cat ca.log >&2; echo "check-vs-openssl: openssl ca failed" >&2; exit 2; }

# Serial numbers are hex, from 1000; certs/<SERIAL>.pem. List every other one.
mapfile -t files < <(cd certs && ls | sort | sed 's|^|certs/|')
[[ ${#files[@]} -eq $n ]] || { echo "check-vs-openssl: expected $n certificates, got ${#files[@]}" >&2; exit 2; }
{
    echo '{"users": ['
    sep=""
    for ((i = 0; i < n; i += 2)); do
        s=$(basename "${files[i]}" .pem)
        printf '%s{"serial": "%s", "n": %d}' "$sep" "$s" "$i"
        sep=$',\n'
    done
    echo ']}'
} >users.json
generated=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN {print a - b}')
printf 'generated %d certificates and a user list of %d in %.1f s (%s)\n' "$n" $(((n + 1) / 2)) "$generated" "$work"

# Sanity: both tools accept what they are timed on.
sanity=$("$certauth" check --ca ca.crt --users users.json --json "${files[0]}" "${files[1]}") || [[ $? -eq 1 ]]
[[ $sanity == *'"outcome":"authorised"'*'"reason":"unknown_user"'* ]] ||
    { echo "check-vs-openssl: certauth does not decide as expected: $sanity" >&2; exit 2; }
openssl verify -purpose sslclient -CAfile ca.crt "${files[0]}" >/dev/null ||
    { echo "check-vs-openssl: openssl does not verify the certificates" >&2; exit 2; }

# --- one argument list, or xargs when it does not fit ---------------------------
arg_bytes=0
for f in "${files[@]}"; do arg_bytes=$((arg_bytes + ${#f} + 1)); done
arg_max=$(getconf ARG_MAX)
env_bytes=$(env | wc -c)
if ((arg_bytes + env_bytes + 4096 < arg_max)); then
    mode="one call each (${arg_bytes} bytes of arguments, ARG_MAX ${arg_max})"
    run_certauth() { "$certauth" check --ca ca.crt --users users.json "${files[@]}" >/dev/null || [[ $? -eq 1 ]]; }
    run_openssl() { openssl verify -purpose sslclient -CAfile ca.crt "${files[@]}" >/dev/null; }
else
    mode="xargs (the ${arg_bytes} bytes of file names exceed ARG_MAX ${arg_max}): several calls each, same batches"
    run_certauth() { printf '%s\0' "${files[@]}" | xargs -0 "$certauth" check --ca ca.crt --users users.json >/dev/null || [[ $? -eq 123 ]]; }
    run_openssl() { printf '%s\0' "${files[@]}" | xargs -0 openssl verify -purpose sslclient -CAfile ca.crt >/dev/null; }
fi
echo "mode: $mode"

# certauth exits 1 here (half the certificates are unknown users): expected.
seconds() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    awk -v a="$t1" -v b="$t0" 'BEGIN {printf "%.3f", a - b}'
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

c_times=()
o_times=()
for ((r = 1; r <= runs; r++)); do # interleaved, so drift hits both alike
    c_times+=("$(seconds run_certauth)")
    o_times+=("$(seconds run_openssl)")
done
c=$(median "${c_times[@]}")
o=$(median "${o_times[@]}")
printf 'certauth check : %s s (runs: %s)\n' "$c" "${c_times[*]}"
printf 'openssl verify : %s s (runs: %s)\n' "$o" "${o_times[*]}"
ratio=$(awk -v a="$c" -v b="$o" 'BEGIN {printf "%.2f", a / b}')
printf 'ratio certauth/openssl: %s (target <= 1.0) for %d certificates\n' "$ratio" "$n"
