#!/usr/bin/env bash
# `cmake --install`: what lands where (packaging/CMakeLists.txt), with the
# unit's paths following the prefix of the installation (a PREFIX, and
# /usr under DESTDIR as cpack installs: /etc/certauth), the configuration
# file never overwritten, and the example configuration usable: `certauth
# check` runs with it beside the fixture certificates, with every key it
# shows commented out switched on too.
set -euo pipefail

SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
BUILD="${CERTAUTH_BUILD_DIR:?set CERTAUTH_BUILD_DIR to the build tree}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A PREFIX.
prefix="$work/prefix"
cmake --install "$BUILD" --prefix "$prefix" >"$work/install.log" || fail "cmake --install: $(cat "$work/install.log")"
for f in bin/certauth share/man/man1/certauth.1.gz share/bash-completion/completions/certauth \
  share/doc/certauth/examples/certauth.toml lib/systemd/system/certauth.service etc/certauth/certauth.toml; do
  [ -f "$prefix/$f" ] || fail "$f not installed (in $prefix)"
done
[ -x "$prefix/bin/certauth" ] || fail "bin/certauth is not executable"
"$prefix/bin/certauth" --version | grep -q '^certauth ' || fail "the installed certauth does not run"
cmp -s "$prefix/etc/certauth/certauth.toml" "$SRC/packaging/certauth.toml" || fail "etc/certauth/certauth.toml is not the example"
grep -qx "ExecStart=$prefix/bin/certauth serve --config $prefix/etc/certauth/certauth.toml" \
  "$prefix/lib/systemd/system/certauth.service" || fail "ExecStart: $(grep ExecStart= "$prefix/lib/systemd/system/certauth.service")"

# Installing again keeps an operator's configuration.
echo '# edited' >>"$prefix/etc/certauth/certauth.toml"
cmake --install "$BUILD" --prefix "$prefix" >"$work/again.log" || fail "second cmake --install: $(cat "$work/again.log")"
tail -n 1 "$prefix/etc/certauth/certauth.toml" | grep -qx '# edited' || fail "a second install overwrote etc/certauth/certauth.toml"
grep -q "Keeping: $prefix/etc/certauth/certauth.toml" "$work/again.log" || fail "the second install did not say it kept the file"

# /usr under DESTDIR, as cpack installs: /etc, not /usr/etc.
DESTDIR="$work/stage" cmake --install "$BUILD" --prefix /usr >"$work/stage.log" || fail "DESTDIR install: $(cat "$work/stage.log")"
[ -f "$work/stage/etc/certauth/certauth.toml" ] || fail "prefix /usr: no /etc/certauth/certauth.toml"
grep -qx "ExecStart=/usr/bin/certauth serve --config /etc/certauth/certauth.toml" \
  "$work/stage/usr/lib/systemd/system/certauth.service" || fail "prefix /usr: $(grep ExecStart= "$work/stage/usr/lib/systemd/system/certauth.service")"

# The example beside the fixture certificates it names (its paths are
# relative to its directory, as in /etc/certauth).
site="$work/site"
mkdir "$site"
cp "$prefix/share/doc/certauth/examples/certauth.toml" "$site/"
for key in $(sed -n 's/^\([a-z-]*\) *= *"\([^"]*\)".*/\2/p' "$site/certauth.toml"); do
  case "$key" in *.crt | *.crl | *.key | *.json) cp "$SRC/fixtures/$key" "$site/" ;; esac
done
check() { # EXPECTED-EXIT CERT EXPECTED-TEXT
  local rc=0
  (cd "$work" && "$prefix/bin/certauth" check --config "$site/certauth.toml" "$SRC/fixtures/$2") >"$work/out" 2>&1 || rc=$?
  [ "$rc" = "$1" ] || fail "check $2 with the example: exit $rc, expected $1: $(cat "$work/out")"
  grep -q "$3" "$work/out" || fail "check $2 with the example: expected '$3' in: $(cat "$work/out")"
}
check 0 joe.crt authorised
check 1 bob.crt unknown_user
check 1 revoked.crt revoked

# Every key the example shows commented out, switched on: still a valid file
# (a key renamed in certauth and not here would be an unknown key).
awk '
  /^\[/ { section = $0 }
  /^[a-z-]+ *=/ { set[section, $1] = 1 }
  { lines[NR] = $0; sections[NR] = section }
  END {
    for (i = 1; i <= NR; i++) {
      line = lines[i]
      if (match(line, /^# [a-z-]+ = /)) {
        split(substr(line, 3), kv, " ")
        if (!((sections[i], kv[1]) in set)) { line = substr(line, 3); set[sections[i], kv[1]] = 1; n++ }
      }
      print line
    }
    print "# switched on: " n
  }' "$site/certauth.toml" >"$site/all.toml"
on=$(sed -n 's/^# switched on: //p' "$site/all.toml")
[ "$on" -ge 10 ] || fail "only $on commented keys found in the example"
mv "$site/all.toml" "$site/certauth.toml"
check 0 joe.crt authorised
echo "ok ($on commented keys checked)"
