#!/usr/bin/env bash
# Bootstraps, builds certauth and starts the demo server on 127.0.0.1:3443
# with the committed test PKI (fixtures/certauth.toml). Ctrl-C stops it.
# Extra arguments go to `certauth serve` (e.g. --listen 127.0.0.1:8443).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "${CERTAUTH_JOBS:-2}" --target certauth

cd fixtures
echo "certauth demo: try  curl --cacert fixtures/ca.crt --cert fixtures/joe.crt --key fixtures/joe.key https://localhost:3443/" >&2
exec ../build/certauth serve "$@"
