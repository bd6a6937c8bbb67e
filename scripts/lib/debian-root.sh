# Making and removing a throw-away Debian root (debootstrap + chroot) for tests
# that install packages into a fresh system. Source it, then:
#
#   root=$(mktemp -d)
#   trap 'debian_root_destroy "$root"' EXIT
#   debian_root_create "$root" bookworm       # minbase, mounted, ready for apt
#   debian_root_run "$root" apt-get update
#   debian_root_run "$root" apt-get install -y ./tmp/foo.deb
#   debian_root_boot "$root" selftest.sh 180  # boots it with systemd, runs the script
#
# Needs root, debootstrap and the network path to a Debian mirror: the one
# this machine's apt uses (DEBIAN_MIRROR overrides it); debian_root_boot also
# systemd-nspawn (package systemd-container) and systemd in the root. Nothing
# is cached: each root is made from the mirror.

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
  debian_root_mount "$dir"
}

# debian_root_mount DIR / debian_root_unmount DIR: /proc, /dev and /dev/pts
# for chroot (debian_root_create mounts them; a boot needs them unmounted).
debian_root_mount() {
  mount -t proc proc "$1/proc"
  mount --bind /dev "$1/dev"
  mount --bind /dev/pts "$1/dev/pts"
}
debian_root_unmount() {
  local m
  for m in $(debian_root_mounts "$1"); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
}

# debian_root_boot DIR SCRIPT SECONDS: boots DIR (which must hold systemd) in
# a container with systemd-nspawn, loopback network only, runs SCRIPT as root
# once the system is up (multi-user.target), prints its output and powers the
# container off. Returns SCRIPT's exit status; 124 if the boot or the script
# took more than SECONDS. Unmounts DIR's chroot mounts first (mount them
# again with debian_root_mount); policy-rc.d does not apply to a booted
# system.
debian_root_boot() {
  local dir=$1 script=$2 seconds=$3 machine rc=0
  machine="debian-root-$$-$RANDOM"
  debian_root_unmount "$dir"
  install -m 0755 "$script" "$dir/usr/local/sbin/debian-root-boot-script"
  rm -f "$dir/debian-root-boot.status" "$dir/debian-root-boot.log"
  cat >"$dir/etc/systemd/system/debian-root-boot.service" <<'UNIT'
[Unit]
Description=debian-root.sh: the script to run, then power off
After=multi-user.target
[Service]
Type=oneshot
StandardOutput=append:/debian-root-boot.log
StandardError=inherit
ExecStart=/bin/sh -c '/usr/local/sbin/debian-root-boot-script; echo $? >/debian-root-boot.status'
# Without D-Bus in the root, systemctl says so before it powers off anyway.
ExecStopPost=/bin/sh -c 'exec systemctl --no-block poweroff 2>/dev/null'
[Install]
WantedBy=multi-user.target
UNIT
  mkdir -p "$dir/etc/systemd/system/multi-user.target.wants"
  ln -sf /etc/systemd/system/debian-root-boot.service "$dir/etc/systemd/system/multi-user.target.wants/"
  timeout -k 30 "$seconds" systemd-nspawn --quiet --directory="$dir" --machine="$machine" --boot \
    --register=no --keep-unit --private-network --console=pipe </dev/null >"$dir/debian-root-boot.console" 2>&1 || rc=$?
  # systemd-nspawn leaves its propagation directory behind without a host systemd.
  rm -rf "/run/systemd/nspawn/propagate/$machine"
  rm -f "$dir/etc/systemd/system/multi-user.target.wants/debian-root-boot.service"
  cat "$dir/debian-root-boot.log" 2>/dev/null || true
  if [ "$rc" = 124 ]; then
    echo "debian-root: the boot of $dir did not finish within $seconds s; console:" >&2
    tail -n 30 "$dir/debian-root-boot.console" >&2
    return 124
  fi
  if [ ! -s "$dir/debian-root-boot.status" ]; then
    echo "debian-root: the script did not run in $dir (systemd-nspawn exit $rc); console:" >&2
    tail -n 30 "$dir/debian-root-boot.console" >&2
    return 1
  fi
  return "$(cat "$dir/debian-root-boot.status")"
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
  local dir=$1
  [ -n "$dir" ] && [ -d "$dir" ] || return 0
  debian_root_unmount "$dir"
  if [ -n "$(debian_root_mounts "$dir")" ]; then
    echo "debian-root: still mounted under $dir, not removed:" $(debian_root_mounts "$dir") >&2
    return 1
  fi
  rm -rf --one-file-system "$dir"
}
