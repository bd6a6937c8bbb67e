#!/usr/bin/env bash
# Runs certauth's quick test run (scripts/test.sh --quick: its bootstrap, a
# Release build with warnings as errors, every test) in a fresh Debian 13
# (trixie) root, made here with `debootstrap --variant=minbase` from the
# Debian mirror this machine's apt uses. The root gets /etc/hosts,
# /etc/resolv.conf, the machine's local CA certificates, proc, sys and dev;
# the repository goes in as a clone of HEAD plus the uncommitted changes to
# tracked files (nothing untracked). Everything is unmounted and removed at
# the end, also on failure or interruption. Needs root.
#
# Usage: scripts/test-debian13.sh [--start-after FILE] [-- COMMAND...]
#   --start-after FILE  make the root and install its packages at once, then
#            wait for FILE to exist (at most 3 hours) before the run inside:
#            scripts/test.sh starts this at its beginning, so that the
#            downloads and installs overlap its own builds, and creates FILE
#            when its own stages have passed.
#   COMMAND  run this instead of the test run, at the clone's root inside the
#            Debian 13 root, after scripts/bootstrap.sh; e.g.
#            scripts/test-debian13.sh -- scripts/bench.sh --no-report
#            The repository's out/ folder (ignored by git) is the clone's
#            out/ too: what a command writes there is kept.
# Environment:
#   CERTAUTH_DEBIAN13_CACHE=DIR  keep downloaded packages here between runs
#            (default ~/.cache/certauth/debian13; never used when CI=true).
#            Only .deb files are kept: debootstrap and apt check each against
#            the freshly downloaded, signed package lists before using it,
#            and the root itself is always made anew.
#   CERTAUTH_DEBIAN13_KEEP=1     keep the root (and its mounts) for a look
#   CERTAUTH_JOBS                build and test parallelism inside (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
suite=trixie

start=$(date +%s)
phase_start=$start
step() {
    local now
    now=$(date +%s)
    printf '\n==> debian13 [%s s, previous step %s s] %s\n' "$((now - start))" "$((now - phase_start))" "$*"
    phase_start=$now
}
die() { echo "test-debian13.sh: $*" >&2; exit 2; }

command=()
start_after=""
while [ "$#" -gt 0 ]; do
    case "$1" in
        --start-after)
            [ "$#" -ge 2 ] || die "--start-after needs a file"
            start_after=$2
            shift 2
            ;;
        --)
            shift
            command=("$@")
            break
            ;;
        *) die "usage: scripts/test-debian13.sh [--start-after FILE] [-- COMMAND...]" ;;
    esac
done
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, mount, chroot)"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing (scripts/bootstrap.sh installs it)"

# The mirror this machine's apt uses: the URI of its main Debian suite, and
# of its security suite (one-line and deb822 sources alike).
apt_sources() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        case "$f" in
            *.sources)
                awk '/^[[:space:]]*#/ {next}
                     /^URIs:/ {uris=""; for (i = 2; i <= NF; i++) uris = uris " " $i}
                     /^Suites:/ {for (i = 2; i <= NF; i++) {n = split(uris, u, " "); for (j = 1; j <= n; j++) print u[j], $i}}' "$f" ;;
            *) awk '$1 == "deb" {i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++; print $i, $(i + 1)}' "$f" ;;
        esac
    done
}
host_codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
mirror=$(apt_sources | awk -v s="$host_codename" '$2 == s {print $1; exit}')
security=$(apt_sources | awk -v s="$host_codename-security" '$2 == s {print $1; exit}')
mirror=${mirror:-http://deb.debian.org/debian}
security=${security:-http://deb.debian.org/debian-security}
mirror=${mirror%/}
security=${security%/}

cache=""
if [ "${CI:-}" != true ]; then
    cache=${CERTAUTH_DEBIAN13_CACHE:-$HOME/.cache/certauth/debian13}
    mkdir -p "$cache/debootstrap" "$cache/apt"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/certauth-debian13.XXXXXX")
rootfs=$work/root
mkdir -p "$rootfs"

mounts_under() { awk -v r="$1" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/self/mounts; }

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local rc=$? pid left
    trap - EXIT INT TERM
    if [ "${CERTAUTH_DEBIAN13_KEEP:-0}" = 1 ]; then
        echo "test-debian13.sh: root kept (mounted) at $rootfs; to remove it:" >&2
        echo "  umount -R $rootfs/proc $rootfs/sys $rootfs/dev ...; rm -rf --one-file-system $work" >&2
        exit "$rc"
    fi
    # Processes still running inside the root (a server a test left behind).
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        case "$(readlink "/proc/$pid/root" 2>/dev/null)" in
            "$rootfs" | "$rootfs"/*) kill -KILL "$pid" 2>/dev/null || true ;;
        esac
    done
    # Innermost first; a busy mount is detached lazily.
    for m in $(mounts_under "$rootfs" | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    left=$(mounts_under "$rootfs")
    if [ -n "$left" ]; then
        echo "test-debian13.sh: still mounted, $work not removed: $left" >&2
    else
        rm -rf --one-file-system "$work"
    fi
    echo "test-debian13.sh: $(($(date +%s) - start)) s in all" >&2
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "debootstrap --variant=minbase $suite from $mirror"
cache_args=()
if [ -n "$cache" ]; then cache_args=(--cache-dir="$cache/debootstrap"); fi
if ! debootstrap --variant=minbase "${cache_args[@]}" "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    die "debootstrap failed (log above)"
fi

step "configure the root: sources, hosts, resolv.conf, CA certificates, mounts, the repository"
cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
echo certauth-debian13 >"$rootfs/etc/hostname"
rm -f "$rootfs/etc/resolv.conf"
cp -L /etc/resolv.conf "$rootfs/etc/resolv.conf"
# Certificates the machine trusts beyond Debian's list (a TLS-inspecting
# egress proxy, say): the root has to trust them too to reach the npm registry.
if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
    cp -R /usr/local/share/ca-certificates/. "$rootfs/usr/local/share/ca-certificates/"
fi
# No package starts its service in the root (nginx, PostgreSQL and the others
# would listen on the machine's own ports).
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 755 "$rootfs/usr/sbin/policy-rc.d"
# A throw-away root: no fsync per file, no documentation.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/certauth-debian13" <<'EOF'
force-unsafe-io
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
EOF

mount -t proc proc "$rootfs/proc"
mount --rbind /sys "$rootfs/sys" && mount --make-rslave "$rootfs/sys"
mount --rbind /dev "$rootfs/dev" && mount --make-rslave "$rootfs/dev"
if [ -n "$cache" ]; then
    mount --bind "$cache/apt" "$rootfs/var/cache/apt/archives"
fi

# The repository: HEAD, plus the uncommitted changes to tracked files.
clone=/src/certauth
git clone -q --no-hardlinks "$repo" "$rootfs$clone"
git -C "$rootfs$clone" checkout -q --detach "$(git -C "$repo" rev-parse HEAD)"
git -C "$repo" diff --binary HEAD >"$work/uncommitted.diff"
if [ -s "$work/uncommitted.diff" ]; then
    git -C "$rootfs$clone" apply "$work/uncommitted.diff"
    echo "test-debian13.sh: with the uncommitted changes to: $(git -C "$rootfs$clone" diff --name-only | tr '\n' ' ')"
fi
mkdir -p "$repo/out" "$rootfs$clone/out"
mount --bind "$repo/out" "$rootfs$clone/out"

# A clean environment inside: no CI (the run inside must not start another
# Debian 13 run), the machine's CA settings kept.
env_inside=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
    TERM="${TERM:-dumb}" CERTAUTH_JOBS="${CERTAUTH_JOBS:-2}")
for v in NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR; do
    if [ -n "${!v:-}" ]; then env_inside+=("$v=${!v}"); fi
done
inside() { chroot "$rootfs" /usr/bin/env -i "${env_inside[@]}" "$@"; }

step "scripts/bootstrap.sh inside"
inside bash -c "cd $clone && exec bash scripts/bootstrap.sh"

if [ -n "$start_after" ]; then
    # The process that started this one (scripts/test.sh): gone without
    # creating the file (killed), nothing will; the root is removed then.
    starter=$PPID
    step "waiting for $start_after"
    waited=0
    while [ ! -e "$start_after" ]; do
        [ "$waited" -lt 10800 ] || die "$start_after did not appear within 3 hours"
        kill -0 "$starter" 2>/dev/null || die "the process that started this run (pid $starter) is gone"
        sleep 1
        waited=$((waited + 1))
    done
fi

if [ "${#command[@]}" -eq 0 ]; then
    step "scripts/test.sh --quick inside (build, tests)"
    inside bash -c "cd $clone && exec bash scripts/test.sh --quick --no-debian13"
else
    step "${command[*]} inside"
    inside bash -c "cd $clone && exec \"\$@\"" bash "${command[@]}"
fi

step "Debian 13 run passed"
