#!/usr/bin/env bash
# Benchmarks certauth serve against nginx (ssl_verify_client + a CN map; as
# shipped and tuned) and the Node.js passport-client-cert example server, on
# 127.0.0.1 with the committed fixtures, and writes its report to
# bench-results/benchmarks.md and bench-results/benchmarks-concurrency.png;
# then certauth serve --upstream against nginx as an mTLS reverse proxy in
# front of the same application (scripts/bench/gateway.py), its report in
# bench-results/gateway.md; and certauth with and without its status listener
# (scripts/bench/status_cost.py), in bench-results/status-cost.md; and
# nginx with certauth behind auth_request (docs/recipes/nginx.conf) against
# nginx deciding alone, and certauth's cost per decision with 10 and 100,000
# users (scripts/bench/auth_request.py), in bench-results/auth-request.md.
# docs/benchmarks.md says what the figures and ratios mean.
#
#   scripts/bench.sh [--quick] [--no-install] [--no-build] [--no-report]
#                    [--profile] [--debian13] [-- MEASURE_OPTIONS...]
#
#   --quick       one round with small loads (checks the harness; ~1 min);
#                 results go to the scratch folder, bench-results/ is left alone
#   --no-install  do not apt-get / npm install (everything must be present)
#   --no-build    use build-bench/certauth as it is
#   --no-report   print the table only; do not write bench-results/
#   --no-gateway  leave out the forwarding, status-listener and auth_request
#                 benchmarks
#   --profile     also record a perf profile of certauth and nginx under
#                 the full-handshake load (perf report text in the output)
#   --debian13    first run the handshake loads (certauth and both nginx)
#                 inside a fresh Debian 13 root (scripts/test-debian13.sh,
#                 needs root; its results: out/bench-debian13.json), then
#                 this machine's run; the report shows both side by side
#   --debian13-results FILE
#                 as --debian13, with the results of an earlier Debian 13 run
#                 instead of a new one
#   after --       passed to scripts/bench/measure.py (e.g. --servers
#                 nginx-default,node  --runs 5  --idle 0); see its --help
#
# Environment: CERTAUTH_SERVE_ARGS (extra options for certauth serve),
# CERTAUTH_BIN (a certauth binary to use instead of building one),
# BENCH_KEEP=1 (keep the scratch folder).
#
# Installs (Debian 12, apt-get): nginx, apache2-utils (ab), gnuplot-nox; and
# with npm into the scratch folder: passport, passport-client-cert, connect.
# Uses the machine's `node` as it is. Needs python3, openssl, cmake, g++.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quick=0 install=1 build=1 report=1 gateway=1 profile=0 debian13=0 debian13_json=""
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --no-install) install=0 ;;
        --no-build) build=0 ;;
        --no-report) report=0 ;;
        --no-gateway) gateway=0 ;;
        --profile) profile=1 ;;
        --debian13) debian13=1 ;;
        --debian13-results) debian13_json=$(realpath "$2"); shift ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

work="$(mktemp -d "${TMPDIR:-/tmp}/certauth-bench.XXXXXX")"
measure_pid=""

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$measure_pid" ] && kill -0 "$measure_pid" 2>/dev/null; then
        kill -TERM "$measure_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$measure_pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$measure_pid" 2>/dev/null || true
    fi
    # Servers and clients the harness started, each in its own process group
    # (pgid == pid); normally measure.py has stopped them already.
    if [ -f "$work/servers.pids" ]; then
        local pid
        while read -r pid; do
            if [ -n "$pid" ]; then kill -TERM -- "-$pid" 2>/dev/null || true; fi
        done <"$work/servers.pids"
        sleep 0.5
        while read -r pid; do
            if [ -n "$pid" ]; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
        done <"$work/servers.pids"
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ] || [ "$quick" = 1 ]; then
        echo "bench.sh: scratch folder kept: $work" >&2
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "bench.sh: $*" >&2; }

sudo_=""
if [ "$(id -u)" -ne 0 ]; then sudo_="sudo"; fi

# --- what the benchmark needs ------------------------------------------------
if [ "$install" = 1 ]; then
    need=()
    command -v nginx >/dev/null 2>&1 || need+=(nginx)
    command -v ab >/dev/null 2>&1 || need+=(apache2-utils)
    command -v gnuplot >/dev/null 2>&1 || need+=(gnuplot-nox)
    if [ "${#need[@]}" -gt 0 ]; then
        say "installing ${need[*]}"
        export DEBIAN_FRONTEND=noninteractive
        $sudo_ apt-get update -qq
        $sudo_ apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fi
fi
for tool in nginx ab gnuplot openssl python3; do
    command -v "$tool" >/dev/null 2>&1 || { say "$tool is missing (run without --no-install)"; exit 2; }
done

node_modules=""
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    if [ "$install" = 1 ]; then
        say "npm install passport passport-client-cert connect (into $work/npm)"
        mkdir -p "$work/npm"
        npm install --prefix "$work/npm" --no-audit --no-fund --no-save --loglevel=error \
            passport passport-client-cert connect >"$work/npm.log" 2>&1 \
            || { cat "$work/npm.log" >&2; say "npm install failed"; exit 2; }
        node_modules="$work/npm/node_modules"
    elif [ -n "${BENCH_NODE_MODULES:-}" ]; then
        node_modules="$BENCH_NODE_MODULES"
    fi
else
    say "node/npm not found: the Node.js server is left out"
fi

# --- certauth ----------------------------------------------------------------
certauth="${CERTAUTH_BIN:-}"
if [ -z "$certauth" ]; then
    certauth="$root/build-bench/certauth"
    if [ "$build" = 1 ]; then
        say "building certauth (Release) in build-bench"
        if ! { cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release \
                -DCERTAUTH_TESTS=OFF && cmake --build "$root/build-bench" --target certauth -j2; } \
            >"$work/cmake.log" 2>&1; then
            tail -30 "$work/cmake.log" >&2
            say "build failed"
            exit 2
        fi
    fi
fi
certauth_args=()
if [ -x "$certauth" ] && "$certauth" serve --help 2>/dev/null | grep -- '--listen' >/dev/null \
    && "$certauth" probe --help 2>/dev/null | grep -- '--load' >/dev/null; then
    certauth_args=(--certauth "$certauth")
else
    say "no working 'certauth serve' / 'probe --load' at $certauth: benchmarking the peers only"
fi

# --- the handshake loads on Debian 13 ---------------------------------------------
compare=()
if [ "$debian13" = 1 ]; then
    debian13_json="$root/out/bench-debian13.json"
    rm -f "$debian13_json"
    d13_args=(--servers certauth,nginx-default,nginx-tuned --loads hs-joe-ab,hs-joe-probe,rs-joe-probe
        --idle 0 --json out/bench-debian13.json)
    [ "$quick" = 1 ] && d13_args+=(--runs 1 --handshakes 200)
    say "the handshake loads inside a Debian 13 root first"
    bash "$root/scripts/test-debian13.sh" -- scripts/bench.sh --no-report -- "${d13_args[@]}" "${extra[@]}"
    [ -s "$debian13_json" ] || { say "the Debian 13 run wrote no $debian13_json"; exit 2; }
fi
if [ -n "$debian13_json" ]; then
    compare=(--compare "Debian 13=$debian13_json")
fi

# --- run -----------------------------------------------------------------------
args=("${compare[@]}" "${certauth_args[@]}" --fixtures "$root/fixtures" --work "$work" --json "$work/results.json")
[ -n "$node_modules" ] && args+=(--node-modules "$node_modules")
if [ -z "$node_modules" ]; then
    args+=(--servers "certauth,nginx-default,nginx-tuned")
fi
if [ "$quick" = 1 ]; then
    args+=(--runs 1 --keepalive 2000 --handshakes 200 --sweep-requests 1000 --idle 500
        --markdown "$work/benchmarks.md" --chart "$work/benchmarks-concurrency.png")
elif [ "$report" = 1 ]; then
    args+=(--markdown "$root/bench-results/benchmarks.md" --chart "$root/bench-results/benchmarks-concurrency.png")
fi
[ "$profile" = 1 ] && args+=(--profile "$work/profile")
invocation="scripts/bench.sh"
[ "$quick" = 1 ] && invocation+=" --quick"
[ "$profile" = 1 ] && invocation+=" --profile"
if [ "$debian13" = 1 ] || [ -n "$debian13_json" ]; then invocation+=" --debian13"; fi
[ "${#extra[@]}" -gt 0 ] && invocation+=" -- ${extra[*]}"
args+=(--commands "$invocation")

mkdir -p "$root/bench-results"
python3 "$root/scripts/bench/measure.py" "${args[@]}" "${extra[@]}" &
measure_pid=$!
rc=0
wait "$measure_pid" || rc=$?
measure_pid=""
if [ "$rc" = 0 ] && [ "$gateway" = 1 ] && [ "${#certauth_args[@]}" -gt 0 ]; then
    gateway_args=(--certauth "$certauth" --root "$root")
    if [ "$quick" = 1 ]; then
        gateway_args+=(--rounds 1 --requests 2000 --idle 200 --stream-mib 64 --out "$work/gateway.md")
    elif [ "$report" = 1 ]; then
        gateway_args+=(--out "$root/bench-results/gateway.md")
    fi
    say "forwarding: certauth serve --upstream and nginx proxy_pass, side by side"
    python3 "$root/scripts/bench/gateway.py" "${gateway_args[@]}" || rc=$?
    status_args=(--certauth "$certauth" --root "$root")
    if [ "$quick" = 1 ]; then
        status_args+=(--rounds 1 --requests 2000 --out "$work/status-cost.md")
    elif [ "$report" = 1 ]; then
        status_args+=(--out "$root/bench-results/status-cost.md")
    fi
    say "the status listener: certauth serve with and without --status, side by side"
    [ "$rc" = 0 ] && { python3 "$root/scripts/bench/status_cost.py" "${status_args[@]}" || rc=$?; }
    auth_args=(--certauth "$certauth" --root "$root")
    if [ "$quick" = 1 ]; then
        auth_args+=(--rounds 1 --requests 2000 --decisions 5000 --out "$work/auth-request.md")
    elif [ "$report" = 1 ]; then
        auth_args+=(--out "$root/bench-results/auth-request.md")
    fi
    say "behind nginx: the docs/recipes/nginx.conf auth_request setup and nginx deciding alone, side by side"
    [ "$rc" = 0 ] && { python3 "$root/scripts/bench/auth_request.py" "${auth_args[@]}" || rc=$?; }
fi
if [ "$profile" = 1 ] && [ -d "$work/profile" ]; then
    say "perf reports: $work/profile"
    BENCH_KEEP=1
fi
exit "$rc"
