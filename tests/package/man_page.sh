#!/usr/bin/env bash
# certauth(1) as built for installation (packaging/certauth.1, gzipped): a man
# page that man and groff render without a warning, and that names every
# subcommand and every long option the program's help lists. Subcommands and
# options are read from `certauth --help` and each subcommand's --help, so a
# subcommand or option added later fails here until the page describes it.
set -euo pipefail

CERTAUTH="${CERTAUTH:?set CERTAUTH to the certauth binary}"
SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
BUILD="${CERTAUTH_BUILD_DIR:?set CERTAUTH_BUILD_DIR to the build tree}"
source "$SRC/tests/package/lib/help.sh"
page="$BUILD/packaging/certauth.1.gz"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

[ -s "$page" ] || fail "$page was not built"
gzip -t "$page" || fail "$page is not gzip"

# No warnings, from groff itself (all of them) and through man-db.
zcat "$page" | groff -ww -man -z 2>"$work/groff.err" || fail "groff failed: $(cat "$work/groff.err")"
[ ! -s "$work/groff.err" ] || fail "groff -ww warnings: $(cat "$work/groff.err")"
MANWIDTH=80 man --warnings=w -l "$page" >"$work/page.txt" 2>"$work/man.err" || fail "man -l failed: $(cat "$work/man.err")"
[ ! -s "$work/man.err" ] || fail "man warnings: $(cat "$work/man.err")"
head -n 1 "$work/page.txt" | grep -q '^CERTAUTH(1)' || fail "no CERTAUTH(1) header: $(head -n 1 "$work/page.txt")"
for section in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' FILES EXAMPLES 'SEE ALSO'; do
  grep -q "^[A-Z ]*$section\$" "$work/page.txt" || fail "no $section section"
done

# The text as a reader sees it, on lines too long to wrap, without hyphenation.
zcat "$page" | groff -man -Tascii -P-c -P-b -P-u -rLL=1000n -rHY=0 >"$work/wide.txt" 2>/dev/null

"$CERTAUTH" --help >"$work/help"
mapfile -t subs < <(help_subcommands <"$work/help")
[ "${#subs[@]}" -ge 3 ] || fail "found only ${#subs[@]} subcommands in certauth --help"
checked=0
missing=()
for option in $(help_long_options <"$work/help"); do
  grep -qF -- "$option" "$work/wide.txt" || missing+=("certauth $option")
  checked=$((checked + 1))
done
for sub in "${subs[@]}"; do
  grep -q "^ *certauth $sub\$" "$work/wide.txt" || missing+=("a section 'certauth $sub'")
  "$CERTAUTH" "$sub" --help >"$work/help.$sub"
  # Each option must be described inside its subcommand's section.
  awk -v s="certauth $sub" '$0 ~ "^ *" s "$" { on = 1; next } on && /^ *certauth [a-z]+$/ { on = 0 } on && /^[A-Z]/ { on = 0 } on' \
    "$work/wide.txt" >"$work/section.$sub"
  options=$(help_long_options <"$work/help.$sub")
  [ -n "$options" ] || fail "no options found in certauth $sub --help"
  for option in $options; do
    [ "$option" = --help ] && continue # described once, under GLOBAL OPTIONS
    grep -qE -- "(^|[^-a-z])$option([^-a-z]|\$)" "$work/section.$sub" || missing+=("certauth $sub $option")
    checked=$((checked + 1))
  done
done
[ "${#missing[@]}" -eq 0 ] || fail "not in the man page: $(printf '\n  %s' "${missing[@]}")"
echo "ok: ${#subs[@]} subcommands, $checked options"
