#!/usr/bin/env bash
# Installs every package certauth's build, tests and benchmarks need, on
# Debian 12 (bookworm) and Debian 13 (trixie); other releases of the same
# generation (Ubuntu 24.04) take their versions from their own metapackages
# (scripts/lib/release.sh). Idempotent: refreshes the package index, then
# installs only what is missing.
#
# Adding a package: one line in the group it belongs to. A name that differs
# between releases takes its version from scripts/lib/release.sh (the only
# place that knows release names).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq

. scripts/lib/release.sh
echo "bootstrap: $release_codename: clang $llvm_version, Boost $boost_version, PostgreSQL $postgresql_version"

packages=(
  # build
  cmake g++ make pkg-config git
  libssl-dev libcli11-dev nlohmann-json3-dev catch2 "libboost${boost_version}-dev"
  # directory back ends: PostgreSQL (client library, and a server for the tests) and SQLite
  libpq-dev "postgresql-${postgresql_version}" libsqlite3-dev
  # tcmalloc, for builds with -DCERTAUTH_TCMALLOC=ON
  libgoogle-perftools-dev
  # end-to-end tests and fixtures
  curl wget openssl ca-certificates procps python3 libxml2-utils
  # reverse proxies in front of certauth, and the servers of the conformance table
  # (scripts/conformance.sh, tests/e2e/conformance.sh; Node.js: below)
  nginx caddy haproxy
  # metrics: promtool checks the exposition format and the alert rules; the C++ client library
  prometheus prometheus-cpp-dev
  # browsers: Chromium (driven by playwright-core), NSS tools for its certificate store
  chromium libnss3-tools
  # packaging: the commit in --version, the .deb (cpack, dpkg-shlibdeps) and its
  # install test in a Debian root booted with systemd-nspawn, the man page, the
  # bash completion, the systemd unit (systemd-analyze); a fresh Debian 13 root
  # (scripts/test-debian13.sh)
  dpkg-dev debootstrap debian-archive-keyring systemd-container groff-base man-db bash-completion systemd
  # sanitizers, fuzzing and static analysis (clang)
  "$(llvm_tool clang)" "libclang-rt-${llvm_version}-dev" "$(llvm_tool clang-tidy)" "$(llvm_tool clang-format)"
)

# npm packages (package.json, pinned by package-lock.json) go into
# node_modules/ at the repository root (ignored by git), where Node finds them
# from every script of the repository.

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

# Node.js is the oracle for the certificate JSON. Keep whatever `node` is
# present (the machine may carry a newer one than Debian's); install Debian's
# only when there is none. Debian's npm is a package of its own.
if ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs)
fi
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  # Waits for another apt run on the machine to finish instead of failing.
  $SUDO apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=900 "${missing[@]}"
else
  echo "bootstrap: all packages present"
fi

# npm ci installs exactly what package-lock.json pins; it runs only when
# node_modules does not hold that already.
if ! (cd "$root" && npm ls --all >/dev/null 2>&1) || [ ! -d "$root/node_modules" ]; then
  echo "bootstrap: npm ci (package-lock.json)"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
fi
