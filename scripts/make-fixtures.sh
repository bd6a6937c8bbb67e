#!/usr/bin/env bash
# Regenerates the test PKI in fixtures/ with `certauth pki init` (building certauth first); fixtures/README.md says what each file is.
# Then captures again what nginx, Caddy and HAProxy send for the new certificates (tests/fixtures/proxy-vectors/).
set -euo pipefail; cd "$(dirname "$0")/.." && cmake -S . -B build >/dev/null && cmake --build build -j2 --target certauth >/dev/null && build/certauth pki init fixtures --force --edge-cases
exec bash scripts/capture-proxy-vectors.sh
