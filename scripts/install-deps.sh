#!/usr/bin/env bash
# Install what condo needs to build, test and assemble its guests on Debian 12
# (bookworm) amd64. Idempotent: when every package is already installed it
# only checks (dpkg-query) and exits in well under a second; apt-get update
# runs only when a package must be installed and apt's lists are missing,
# stale, or lack a candidate for it.
#
# usage: scripts/install-deps.sh        (as root, or as a user with sudo)
set -euo pipefail

PKGS=(
    build-essential pkg-config libfdt-dev libcmocka-dev libslirp-dev device-tree-compiler
    libmicrohttpd-dev libjansson-dev curl
    libseccomp-dev
    gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu
    gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf
    qemu-system-misc qemu-user qemu-utils clang libclang-rt-dev
    cpio xz-utils zstd libzstd-dev zlib1g-dev e2fsprogs kmod
    python3 file time ca-certificates gnupg debian-archive-keyring
    libcurl4-openssl-dev util-linux
    gcc-aarch64-linux-gnu libfdt1:arm64 libslirp-dev:arm64 libmicrohttpd-dev:arm64
    libjansson-dev:arm64 libcurl4-openssl-dev:arm64 libseccomp-dev:arm64
    libzstd-dev:arm64 zlib1g-dev:arm64
)
# libmicrohttpd-dev, libjansson-dev: the control API's HTTP and JSON (libmicrohttpd
#            is loaded when the first API server starts, not linked);
#            curl drives it in tests/api/ as Firecracker's guide does
# libcurl4-openssl-dev:
#            the CLI talks HTTP to each VM's control socket (headers at build
#            time; src/manager/client.c loads libcurl.so.4 when it first needs it)
# gcc-aarch64-linux-gnu and the :arm64 libraries (dpkg's arm64 foreign
#            architecture, added below): `make cross-aarch64`, condo for
#            aarch64 hosts, which test_snapshot_port.py runs under
#            qemu-aarch64 (about 145 MB for the toolchain and 95 MB for the
#            arm64 libraries, most of it libcurl's dependencies). libfdt1,
#            not libfdt-dev: libfdt-dev is not Multi-Arch, its arm64 package
#            would remove the amd64 one (the headers are the same).
# util-linux: setpriv, to test as an unprivileged user
# libseccomp-dev: the VM process's system call filter (src/vmm/sandbox_seccomp.c)
# kmod: modinfo, to resolve kernel module dependencies (guest/build-guest.sh)
# time: /usr/bin/time -v, peak RSS in tests and benchmarks
# qemu-user: lists busybox's applets at build time, and runs the reference
#            programs and FPU vectors; qemu-system-misc: the reference machine
#            (make check-qemu); qemu-utils: qemu-img/qemu-io, the qcow2 reference
# clang, libclang-rt-dev: libFuzzer and the sanitizer runtimes (make fuzz)
# device-tree-compiler: dtc, which checks the device tree (test_fdt)
# e2fsprogs: mke2fs, debugfs, e2fsck (test_disk)
# Every tool a test uses is here: in make check a missing tool is a failure.

step() { echo "==> $*"; }
die() { echo "install-deps: error: $*" >&2; exit 1; }

SUDO=()
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: run as root"
    SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive

missing() {
    local p out
    for p in "$@"; do
        out=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
        case "$out" in ii*) ;; *) echo "$p" ;; esac
    done
}

step "checking packages"
ADD_ARM64=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    ADD_ARM64=1
fi
mapfile -t MISSING < <(missing "${PKGS[@]}")

# The trixie signing keys: guest/build-guest.sh verifies trixie's indexes
# with them. bookworm's debian-archive-keyring has them since 2023.3+deb12u1;
# an older one is upgraded (from bookworm's own updates), never bypassed.
has_trixie_key() {
    [ -r /usr/share/keyrings/debian-archive-trixie-stable.gpg ] || \
    [ -r /usr/share/keyrings/debian-archive-trixie-automatic.gpg ]
}
UPGRADE=()
if ! has_trixie_key; then
    UPGRADE=(debian-archive-keyring)
fi

if [ ${#MISSING[@]} -eq 0 ] && [ ${#UPGRADE[@]} -eq 0 ]; then
    step "all ${#PKGS[@]} packages already installed"
    exit 0
fi

need_update=0
lists=$(ls /var/lib/apt/lists/*_Packages* 2>/dev/null | head -n1 || true)
if [ -z "$lists" ] || [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin +1440 2>/dev/null | head -n1)" ] || \
   [ ${#UPGRADE[@]} -gt 0 ]; then
    need_update=1
else
    for p in "${MISSING[@]}"; do
        cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
        if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then need_update=1; break; fi
    done
fi
if [ "$ADD_ARM64" = 1 ]; then
    step "adding dpkg's arm64 architecture (the aarch64 cross build's libraries)"
    "${SUDO[@]}" dpkg --add-architecture arm64
    need_update=1
fi
if [ "$need_update" = 1 ]; then
    step "updating apt's package lists"
    "${SUDO[@]}" apt-get update -q
fi
if [ ${#MISSING[@]} -gt 0 ]; then
    step "installing ${#MISSING[@]} packages: ${MISSING[*]}"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${MISSING[@]}"
fi
if [ ${#UPGRADE[@]} -gt 0 ]; then
    step "upgrading debian-archive-keyring (trixie's signing keys)"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --only-upgrade debian-archive-keyring
    has_trixie_key || die "debian-archive-keyring $(dpkg-query -W -f='${Version}' debian-archive-keyring) has no trixie key; enable bookworm-updates (it carries 2023.3+deb12u1 or later) and rerun"
fi
mapfile -t STILL < <(missing "${PKGS[@]}")
[ ${#STILL[@]} -eq 0 ] || die "still missing after apt-get install: ${STILL[*]}"
step "all ${#PKGS[@]} packages installed"
