# Making and removing a throw-away Debian root (debootstrap + chroot) for tests
# that install packages into a fresh system. Source it, then:
#
#   root=$(mktemp -d)
#   trap 'debian_root_destroy "$root"' EXIT
#   debian_root_create "$root" bookworm       # minbase, mounted, ready for apt
#   debian_root_run "$root" apt-get update
#   debian_root_run "$root" apt-get install -y ./tmp/foo.deb
#
# Needs root, debootstrap and the network path to a Debian mirror: the one
# this machine's apt uses (DEBIAN_MIRROR overrides it). Nothing is cached: each
# root is made from the mirror.

# The Debian mirror this machine's apt uses (not the security archive).
debian_root_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local uri
  # deb822 sources (Debian 12's default), then one-line sources.
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' |
    grep -E '/debian/?$' | grep -v -- '-security' | head -n 1 || true)
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' |
      grep -E '/debian/?$' | grep -v -- '-security' | head -n 1 || true)
  fi
  if [ -z "$uri" ]; then
    echo "debian-root: no Debian mirror in /etc/apt/sources.list*; set DEBIAN_MIRROR" >&2
    return 1
  fi
  echo "$uri"
}

# debian_root_create DIR SUITE: a minbase SUITE in DIR (which may exist and be
# empty), with the host's /etc/hosts and /etc/resolv.conf, /proc, /dev and
# /dev/pts mounted, and no service started by a package's maintainer scripts.
debian_root_create() {
  local dir=$1 suite=$2 mirror log
  mirror=$(debian_root_mirror) || return 1
  log=$(mktemp)
  if ! debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    [ -f "$dir/debootstrap/debootstrap.log" ] && tail -n 30 "$dir/debootstrap/debootstrap.log" >&2
    rm -f "$log"
    echo "debian-root: debootstrap $suite from $mirror failed" >&2
    return 1
  fi
  rm -f "$log"
  cp /etc/hosts "$dir/etc/hosts"
  cp -L /etc/resolv.conf "$dir/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod 0755 "$dir/usr/sbin/policy-rc.d"
  mount -t proc proc "$dir/proc"
  mount --bind /dev "$dir/dev"
  mount --bind /dev/pts "$dir/dev/pts"
}

# debian_root_run DIR COMMAND...: COMMAND as root inside DIR, with a clean
# environment.
debian_root_run() {
  local dir=$1
  shift
  chroot "$dir" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# The mount points at or under DIR, deepest first.
debian_root_mounts() {
  local dir
  dir=$(realpath -m "$1")
  awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r
}

# debian_root_destroy DIR: unmounts everything under DIR and removes it; safe
# to call on a half-made root or twice. Refuses to remove a tree that still
# has a mount in it (the host's /dev would go with it).
debian_root_destroy() {
  local dir=$1 m
  [ -n "$dir" ] && [ -d "$dir" ] || return 0
  for m in $(debian_root_mounts "$dir"); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  if [ -n "$(debian_root_mounts "$dir")" ]; then
    echo "debian-root: still mounted under $dir, not removed:" $(debian_root_mounts "$dir") >&2
    return 1
  fi
  rm -rf --one-file-system "$dir"
}
