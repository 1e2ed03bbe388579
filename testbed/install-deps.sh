#!/bin/bash
# Install the Debian packages hvtrace needs to build and test, when missing.
# Run as root (CI and `make test` do); as a user it only reports what is missing.
#
# usage: testbed/install-deps.sh [build|e2e]   (e2e includes build)
set -euo pipefail
what=${1:-e2e}

build_pkgs="gcc make pkg-config libbabeltrace2-dev babeltrace2 libjansson-dev
	libcmocka-dev liblttng-ctl-dev python3-jsonschema pahole"
# pahole: Debian's 6.12 headers ship vmlinux, so Kbuild makes a module's BTF
# with it (kmod/tests/build-kernels.sh; linux-kbuild-6.12 depends on it).
e2e_pkgs="bochs bochsbios vgabios busybox-static isolinux syslinux-common
	genisoimage lttng-tools cpio xz-utils kmod bc flex bison libelf-dev
	libssl-dev gawk patch procps qemu-system-x86 qemu-system-data seabios
	linux-perf"
# linux-perf: for the shared libraries of the kernel's exact-version perf that
# fetch-kernel.sh unpacks (the KVM proof copies both into the guest).
pkgs=$build_pkgs
[ "$what" = e2e ] && pkgs="$pkgs $e2e_pkgs"

missing=()
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages (run as root to install): ${missing[*]}" >&2
	exit 2
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
