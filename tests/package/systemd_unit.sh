#!/usr/bin/env bash
# certauth.service as `cmake --install` writes it: `systemd-analyze verify`
# passes (its Documentation= man page found among the installed ones), and
# `systemd-analyze security` rates it OK or better (exposure at most 2.9),
# also with the documented change for ports below 1024 (the capability
# lines switched on, PrivateUsers=no). Reload is SIGHUP, the user certauth;
# /run/certauth is its runtime directory (serve --status unix:/run/certauth/...).
set -euo pipefail

BUILD="${CERTAUTH_BUILD_DIR:?set CERTAUTH_BUILD_DIR to the build tree}"
command -v systemd-analyze >/dev/null || { echo "FAIL: systemd-analyze missing (package systemd)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$BUILD" --prefix "$work/prefix" >"$work/install.log" || fail "cmake --install: $(cat "$work/install.log")"
unit="$work/prefix/lib/systemd/system/certauth.service"

for line in 'User=certauth' 'Group=certauth' 'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' \
  '#AmbientCapabilities=CAP_NET_BIND_SERVICE' 'PrivateUsers=yes' 'RuntimeDirectory=certauth' \
  'RuntimeDirectoryMode=0750'; do
  grep -qxF "$line" "$unit" || fail "no line '$line' in the unit"
done

verify() { # UNIT
  MANPATH="$work/prefix/share/man" systemd-analyze verify "$1" >"$work/verify.out" 2>&1 ||
    fail "systemd-analyze verify $(basename "$1"): $(cat "$work/verify.out")"
  [ ! -s "$work/verify.out" ] || fail "systemd-analyze verify $(basename "$1") warns: $(cat "$work/verify.out")"
}
security() { # UNIT: prints the exposure; fails above 2.9 (--threshold is in tenths)
  systemd-analyze security --offline=true --threshold=29 "$1" >"$work/security.out" 2>&1 ||
    fail "systemd-analyze security $(basename "$1"): $(tail -n 3 "$work/security.out")"
  local overall
  overall=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' "$work/security.out")
  case "${overall#* }" in
  PERFECT | SAFE | OK) ;;
  *) fail "$(basename "$1") rated '$overall'" ;;
  esac
  echo "$(basename "$1"): exposure $overall"
}

verify "$unit"
security "$unit"

# Ports below 1024, as the comments in the unit say.
sed -e 's/^#AmbientCapabilities=CAP_NET_BIND_SERVICE$/AmbientCapabilities=CAP_NET_BIND_SERVICE/' \
  -e 's/^#CapabilityBoundingSet=CAP_NET_BIND_SERVICE$/CapabilityBoundingSet=CAP_NET_BIND_SERVICE/' \
  -e 's/^PrivateUsers=yes$/PrivateUsers=no/' "$unit" >"$work/certauth-443.service"
verify "$work/certauth-443.service"
security "$work/certauth-443.service"
grep -q '✗ AmbientCapabilities=.*CAP_NET_BIND_SERVICE\|✗ CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE' "$work/security.out" ||
  fail "with the port-443 lines the unit still holds no CAP_NET_BIND_SERVICE"
echo ok
