# What differs between the Debian releases certauth is built and tested on,
# in one place. Sourced (not run) by scripts/bootstrap.sh, scripts/test.sh,
# scripts/tidy.sh, scripts/fuzz.sh and scripts/test-debian13.sh.
#
# Sets, for the release of /etc/os-release (VERSION_CODENAME):
#   release_codename     bookworm (Debian 12), trixie (Debian 13), noble (Ubuntu 24.04), ...
#   llvm_version         the clang, clang-tidy, clang-format major version installed
#   boost_version        the Boost whose libboostX.Y-dev is installed
#   postgresql_version   the PostgreSQL server major version (postgresql-N)
# and defines llvm_tool NAME, which prints the release's versioned name of an
# LLVM tool (llvm_tool clang-format -> clang-format-14 on Debian 12).
#
# Known releases are listed below. Any other release takes its defaults from
# its own metapackages (clang -> clang-N, libboost-dev -> libboostX.Y-dev,
# postgresql -> postgresql-N), which needs apt's package lists
# (scripts/bootstrap.sh runs apt-get update first).

release_codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-unknown}")

# The version that a metapackage depends on: release_default clang 'clang-\K[0-9]+'
release_default() {
    apt-cache depends "$1" 2>/dev/null | grep -oP "^\s*Depends: $2" | head -n 1 || true
}

case "$release_codename" in
    bookworm)
        llvm_version=14
        # Debian 12's libboost-dev is Boost 1.74, too old for Beast as used
        # here; 1.81 is packaged beside it (never install both).
        boost_version=1.81
        postgresql_version=15
        ;;
    trixie)
        llvm_version=19
        boost_version=1.83
        postgresql_version=17
        ;;
    *)
        llvm_version=$(release_default clang 'clang-\K[0-9]+')
        boost_version=$(release_default libboost-dev 'libboost\K[0-9]+\.[0-9]+(?=-dev)')
        postgresql_version=$(release_default postgresql 'postgresql-\K[0-9]+')
        if [ -z "$llvm_version" ] || [ -z "$boost_version" ] || [ -z "$postgresql_version" ]; then
            echo "release.sh: cannot tell this release's clang, Boost and PostgreSQL versions" \
                "(codename '$release_codename'; run apt-get update first)" >&2
            return 2 2>/dev/null || exit 2
        fi
        ;;
esac

llvm_tool() {
    echo "$1-$llvm_version"
}
