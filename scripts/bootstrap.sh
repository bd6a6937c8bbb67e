#!/usr/bin/env bash
# Installs every Debian 12 package certauth's build, tests and benchmarks need.
# Idempotent: refreshes the package index, then installs only what is missing.
set -euo pipefail

packages=(
  # build
  cmake g++ make pkg-config
  libssl-dev libcli11-dev nlohmann-json3-dev catch2 libboost1.81-dev
  # user directories: SQLite, libpq, and the PostgreSQL server the tests start
  libsqlite3-dev libpq-dev postgresql
  # end-to-end tests and fixtures
  curl wget openssl ca-certificates procps python3 libxml2-utils
  # sanitizers, fuzzing and static analysis (clang 14)
  clang-14 libclang-rt-14-dev clang-tidy-14 clang-format-14
  # packaging: the commit in --version, the .deb (cpack, dpkg-shlibdeps) and its
  # install test in a Debian root booted with systemd-nspawn, the man page, the
  # bash completion, the systemd unit (systemd-analyze), the alert rules (promtool)
  git dpkg-dev debootstrap debian-archive-keyring systemd-container groff-base man-db bash-completion
  systemd prometheus
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

# Node.js is the oracle for the certificate JSON. Keep whatever `node` is
# present (the machine may carry a newer one than Debian's); install Debian's
# only when there is none.
if ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs)
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "bootstrap: all packages present"
fi
