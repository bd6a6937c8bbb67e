#!/usr/bin/env bash
# The .deb as an operator installs it: cpack builds certauth_<version>_amd64.deb
# from this build; `apt-get install ./certauth_*.deb` into a fresh Debian 12
# root (debootstrap minbase, from the mirror this machine's apt uses) fetches
# the dependencies dpkg-shlibdeps wrote; there the system user exists, the
# configuration is a conffile, `certauth --version` runs with the root's
# OpenSSL, and `certauth check` with the installed configuration, as the
# certauth user, decides for the fixture certificates copied beside it. Then
# the root boots with systemd (systemd-nspawn) and certauth.service runs in
# its sandbox: requests, load, reload, a failed reload, a restart after a
# crash, stop (root/service_check.sh). Purging removes the conffile. The root
# is unmounted and removed whatever happens. Minutes (label slow); needs root
# and the mirror.
set -euo pipefail

SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
BUILD="${CERTAUTH_BUILD_DIR:?set CERTAUTH_BUILD_DIR to the build tree}"
# shellcheck source=../../scripts/lib/debian-root.sh
source "$SRC/scripts/lib/debian-root.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot, mount)"
for tool in cpack debootstrap dpkg-shlibdeps systemd-nspawn; do
  command -v "$tool" >/dev/null || fail "$tool missing (scripts/bootstrap.sh installs it)"
done

work="$(mktemp -d)"
root="$work/root"
cleanup() {
  debian_root_destroy "$root" || true
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap "exit 143" INT TERM HUP # so that cleanup runs
start=$(date +%s)
elapsed() { echo "[$(($(date +%s) - start)) s] $*"; }

# The package, outside the build tree (nothing left behind in it).
cpack --config "$BUILD/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1 || fail "cpack: $(tail -n 20 "$work/cpack.log")"
version="$(sed -n 's/^CMAKE_PROJECT_VERSION:[A-Z]*=//p' "$BUILD/CMakeCache.txt")"
deb="$work/pkg/certauth_${version}_amd64.deb"
[ -f "$deb" ] || fail "no $(basename "$deb"): $(ls "$work/pkg")"
dpkg-deb --field "$deb" Depends | tee "$work/depends"
grep -q 'procps' "$work/depends" || fail "Depends has no procps (/bin/kill for ExecReload): $(cat "$work/depends")"
grep -q 'libssl3' "$work/depends" || fail "Depends has no libssl3 (shlibdeps): $(cat "$work/depends")"
grep -q 'libc6 (>=' "$work/depends" || fail "Depends has no versioned libc6: $(cat "$work/depends")"
if grep -q '^CERTAUTH_TCMALLOC:BOOL=ON' "$BUILD/CMakeCache.txt"; then
  grep -q 'libtcmalloc-minimal4' "$work/depends" || fail "Depends has no libtcmalloc-minimal4 (shlibdeps): $(cat "$work/depends")"
fi
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/certauth/certauth.toml || fail "no conffile"
elapsed "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"

mkdir "$root"
debian_root_create "$root" bookworm
grep -q '^VERSION_ID="12"' "$root/etc/os-release" || fail "the root is not Debian 12"
elapsed "Debian 12 root made"

in_root() { debian_root_run "$root" "$@"; }
cp "$deb" "$root/tmp/"
in_root apt-get update -qq >"$work/apt.log" 2>&1 || fail "apt-get update: $(tail -n 20 "$work/apt.log")"
in_root apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$deb")" >>"$work/apt.log" 2>&1 ||
  fail "apt-get install: $(tail -n 30 "$work/apt.log")"
elapsed "installed with apt"

# What dpkg knows: installed, its conffile, the user its postinst made.
[ "$(in_root dpkg-query -W -f='${Status}' certauth)" = "install ok installed" ] || fail "certauth is not installed"
in_root dpkg-query -W -f='${Conffiles}\n' certauth | grep -q '^ /etc/certauth/certauth.toml ' || fail "no conffile registered"
entry="$(in_root getent passwd certauth)" || fail "no user certauth"
[[ $entry =~ ^certauth:x:([0-9]+):[0-9]+:[^:]*:/nonexistent:/usr/sbin/nologin$ ]] || fail "user certauth: $entry"
[ "${BASH_REMATCH[1]}" -lt 1000 ] || fail "certauth is not a system user: $entry"
in_root getent group certauth >/dev/null || fail "no group certauth"
for f in /usr/bin/certauth /usr/share/man/man1/certauth.1.gz /usr/share/bash-completion/completions/certauth \
  /usr/share/doc/certauth/examples/certauth.toml /usr/lib/systemd/system/certauth.service; do
  [ -f "$root$f" ] || fail "$f not installed"
done
grep -qx 'ExecStart=/usr/bin/certauth serve --config /etc/certauth/certauth.toml' "$root/usr/lib/systemd/system/certauth.service" ||
  fail "unit: $(grep ExecStart= "$root/usr/lib/systemd/system/certauth.service")"
# What the unit executes exists in a system that started minimal.
reload="$(sed -n 's/^ExecReload=\([^ ]*\).*/\1/p' "$root/usr/lib/systemd/system/certauth.service")"
[ -n "$reload" ] && [ -x "$root$reload" ] || fail "ExecReload's $reload is not installed"

# --version, with the root's libssl3.
in_root certauth --version | tee "$work/version"
ssl="$(in_root dpkg-query -W -f='${Version}' libssl3)"
grep -q "^running with OpenSSL ${ssl%%-*} " "$work/version" || fail "not running with the root's libssl3 $ssl"

# check with the installed configuration, as the service's user, the fixture
# certificates it names copied beside it.
for f in ca.crt ca.crl users.json server.crt server.key; do
  install -m 0644 "$SRC/fixtures/$f" "$root/etc/certauth/$f"
done
chroot "$root" chown root:certauth /etc/certauth/server.key
chmod 0640 "$root/etc/certauth/server.key"
cp "$SRC/fixtures/joe.crt" "$SRC/fixtures/bob.crt" "$SRC/fixtures/revoked.crt" "$root/tmp/"
as_certauth() { chroot --userspec=certauth:certauth "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/nonexistent "$@"; }
as_certauth certauth check --config /etc/certauth/certauth.toml /tmp/joe.crt >"$work/joe" || fail "check joe: $(cat "$work/joe")"
grep -q 'authorised' "$work/joe" || fail "joe: $(cat "$work/joe")"
rc=0
as_certauth certauth check --config /etc/certauth/certauth.toml /tmp/bob.crt /tmp/revoked.crt >"$work/others" || rc=$?
[ "$rc" = 1 ] || fail "check bob, revoked: exit $rc: $(cat "$work/others")"
grep -q 'unknown_user' "$work/others" && grep -q 'revoked' "$work/others" || fail "bob, revoked: $(cat "$work/others")"
cat "$work/joe" "$work/others"
elapsed "check ok"

# The service under systemd, in a boot of the root.
in_root apt-get install -y -qq --no-install-recommends systemd systemd-sysv >>"$work/apt.log" 2>&1 ||
  fail "apt-get install systemd: $(tail -n 20 "$work/apt.log")"
cp "$SRC/fixtures/joe.pem" "$SRC/fixtures/bob.pem" "$root/root/"
debian_root_boot "$root" "$SRC/tests/package/root/service_check.sh" 180 || fail "certauth.service under systemd (above)"
debian_root_mount "$root"
elapsed "service ok"

# Purge: the conffile goes, the user stays.
in_root apt-get purge -y -qq certauth >>"$work/apt.log" 2>&1 || fail "apt-get purge: $(tail -n 20 "$work/apt.log")"
[ ! -e "$root/etc/certauth/certauth.toml" ] || fail "purge left /etc/certauth/certauth.toml"
[ ! -e "$root/usr/bin/certauth" ] || fail "purge left /usr/bin/certauth"
elapsed "ok"
