#!/usr/bin/env bash
# Runs one scenario matrix against certauth and the mTLS servers people run
# instead of it, and writes what each did per case to docs/conformance.md.
#
#   scripts/conformance.sh [--short] [--output FILE|-] [--servers LIST] [--keep] [--pki DIR]
#
# Makes a test PKI with `certauth pki init`, then starts one server after the
# other on 127.0.0.1 with an ephemeral port, each with the PKI's CA (and CRLs
# where it takes them) and its users.json, and runs
# `certauth probe --scenarios` with the PKI's scenarios.json and
# scenarios-require-cert.json against it:
#   certauth serve, and with --require-cert;
#   nginx with ssl_verify_client on, and optional (a map of the CN to the user);
#   Caddy with client_auth mode require_and_verify, and verify_if_given;
#   HAProxy with verify required, and verify optional (http-request return);
#   a Node.js server that decides as passport-client-cert does
#   (scripts/conformance/client_cert_server.js).
# Every outcome, count and version on the page is what the run observed.
# Each server is stopped when its matrix is done, and every one still running
# on failure or interruption.
#
#   --short          certauth, nginx `on` and HAProxy `verify optional` only
#                    (the test suite's form, tests/e2e/conformance.sh); the
#                    page goes to standard output unless --output says otherwise
#   --output FILE    where the page goes (default docs/conformance.md; - for
#                    standard output)
#   --servers LIST   comma-separated, from: certauth, certauth-require-cert,
#                    nginx-on, nginx-optional, caddy-require, caddy-if-given,
#                    haproxy-required, haproxy-optional, node
#   --keep           keep the scratch folder (PKI, configurations, reports)
#   --pki DIR        use DIR (made by `certauth pki init`) instead of a new PKI
#
# Environment: CERTAUTH (the binary; default build/certauth, else `certauth`
# in PATH), CONFORMANCE_START_TIMEOUT (seconds a server has to listen,
# default 20). Needs python3, nginx, caddy, haproxy and node as
# scripts/bootstrap.sh installs them. Exit 0 when the page was written, 2
# when a server did not start or a step failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
short=0
output=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --short) short=1; args+=(--short); shift ;;
    --output) output="${2:?--output needs a file}"; shift 2 ;;
    --servers) args+=(--servers "${2:?--servers needs a list}"); shift 2 ;;
    --keep) args+=(--keep); shift ;;
    --pki) args+=(--pki "${2:?--pki needs a folder}"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "conformance: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$output" ]; then
  if [ "$short" = 1 ]; then output="-"; else output="$root/docs/conformance.md"; fi
fi

if [ -z "${CERTAUTH:-}" ]; then
  if [ -x "$root/build/certauth" ]; then CERTAUTH="$root/build/certauth"
  elif command -v certauth >/dev/null 2>&1; then CERTAUTH="$(command -v certauth)"
  else echo "conformance: no certauth binary (set CERTAUTH or build into build/)" >&2; exit 2
  fi
fi

exec python3 "$root/scripts/conformance/run.py" --certauth "$CERTAUTH" --output "$output" ${args[@]+"${args[@]}"}
