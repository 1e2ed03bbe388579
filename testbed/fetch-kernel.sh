#!/bin/bash
# Fetch the Debian kernel image, its exactly matching headers and lttng-modules'
# source, unpacked (no install, no root mount) under a cache folder, and make the
# headers usable as a Kbuild tree.  Versions come from the current apt state.
#
# usage: testbed/fetch-kernel.sh CACHE_DIR
# Leaves: CACHE_DIR/kver (the kernel release, e.g. 6.1.0-56-amd64),
#         CACHE_DIR/root/  (dpkg -x of image, headers, kbuild),
#         CACHE_DIR/kdir -> the headers tree to pass as KDIR,
#         CACHE_DIR/lttng-modules/ (pristine source of Debian's lttng-modules-dkms),
#         CACHE_DIR/kvm-src/ (KVM's private headers from linux-source-6.1 of the
#           headers' exact version: lttng-modules' kvm-x86 probe needs them),
#         CACHE_DIR/perf/usr/bin/perf (linux-perf of that version: perf kvm stat).
# The last two are fetched also into a cache made before they existed.
set -euo pipefail

cache=${1:?usage: fetch-kernel.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

die() { echo "fetch-kernel: $*" >&2; exit 2; }

# The metapackage names the current ABI package: linux-image-<kver>.
resolve() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ && !found { print $2; found = 1 }'
}
imgpkg=$(resolve)
if [ -z "$imgpkg" ] && [ "$(id -u)" -eq 0 ]; then
	echo "fetch-kernel: apt cannot resolve linux-image-amd64; running apt-get update"
	apt-get update -qq > /dev/null 2>&1 || true
	imgpkg=$(resolve)
fi
if [ -z "$imgpkg" ]; then
	# Offline or without root: a complete cache is still usable as it is.
	if [ -f "$cache/.done" ]; then
		echo "fetch-kernel: apt cannot resolve linux-image-amd64; using cached $(cat "$cache/kver")"
		exit 0
	fi
	die "cannot resolve linux-image-amd64 (apt-get update failed or needs root)"
fi
kver=${imgpkg#linux-image-}

# As root, apt's download sandbox user cannot write into the cache: skip it.
sandbox=()
[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)

# The peers of the KVM proof need two more packages of the kernel's exact
# Debian version (the headers package's): KVM's private headers
# (arch/x86/kvm/*.h, include/kvm/iodev.h, virt/kvm/*.h) out of the
# linux-source tarball, which is not kept (140 MB), and linux-perf.
fetch_extras() {
	local ver tmp
	ver=$(dpkg-deb -f "$cache"/debs/linux-headers-"$kver"_*.deb Version 2>/dev/null) ||
		die "no headers package in $cache/debs to take the version from"
	if [ "$(cat "$cache/kvm-src/.version" 2>/dev/null)" != "$ver" ]; then
		echo "fetch-kernel: KVM's private headers from linux-source-6.1 $ver (140 MB, once)"
		tmp=$cache/kvm-src.tmp
		rm -rf "$tmp" "$cache/kvm-src"
		mkdir -p "$tmp/deb"
		(cd "$tmp/deb" && apt-get "${sandbox[@]}" download "linux-source-6.1=$ver" >/dev/null) ||
			die "apt-get download linux-source-6.1=$ver failed"
		dpkg-deb --fsys-tarfile "$tmp"/deb/linux-source-6.1_*.deb |
			tar -x -C "$tmp" --wildcards '*/linux-source-6.1.tar.xz' ||
			die "no kernel tarball in linux-source-6.1"
		mkdir -p "$tmp/src"
		tar -xJf "$tmp"/usr/src/linux-source-6.1.tar.xz -C "$tmp/src" --strip-components=1 \
			--wildcards 'linux-source-6.1/arch/x86/kvm/*.h' \
			'linux-source-6.1/include/kvm/*.h' 'linux-source-6.1/virt/kvm/*.h' ||
			die "cannot unpack KVM's headers from linux-source-6.1"
		[ -f "$tmp/src/arch/x86/kvm/lapic.h" ] && [ -f "$tmp/src/include/kvm/iodev.h" ] ||
			die "linux-source-6.1 $ver lacks arch/x86/kvm/lapic.h or include/kvm/iodev.h"
		echo "$ver" > "$tmp/src/.version"
		mv "$tmp/src" "$cache/kvm-src"
		rm -rf "$tmp"
	fi
	if [ "$(cat "$cache/perf/.version" 2>/dev/null)" != "$ver" ]; then
		tmp=$cache/perf.tmp
		rm -rf "$tmp" "$cache/perf"
		mkdir -p "$tmp/deb"
		(cd "$tmp/deb" && apt-get "${sandbox[@]}" download "linux-perf=$ver" >/dev/null) ||
			die "apt-get download linux-perf=$ver failed"
		dpkg -x "$tmp"/deb/linux-perf_*.deb "$tmp"
		rm -rf "$tmp/deb"
		[ -x "$tmp/usr/bin/perf" ] || die "linux-perf $ver has no usr/bin/perf"
		echo "$ver" > "$tmp/.version"
		mv "$tmp" "$cache/perf"
	fi
}
# The headers' Makefile and symlinks hold absolute paths: a cache that was
# moved or copied is unpacked again.
case $(readlink "$cache/kdir" 2>/dev/null) in
"$cache"/*) ;;
*) rm -f "$cache/.done" ;;
esac
if [ -f "$cache/kver" ] && [ "$(cat "$cache/kver")" = "$kver" ] &&
   [ -f "$cache/.done" ]; then
	fetch_extras
	echo "fetch-kernel: $kver already in $cache"
	exit 0
fi

hdrpkg=linux-headers-$kver
common=$(apt-cache depends "$hdrpkg" | awk '/Depends: linux-headers-.*-common/ && !found { print $2; found = 1 }')
kbuild=$(apt-cache depends "$hdrpkg" | awk '/Depends: linux-kbuild-/ && !found { print $2; found = 1 }')
[ -n "$common" ] && [ -n "$kbuild" ] || die "cannot resolve the dependencies of $hdrpkg"

rm -rf "$cache/root" "$cache/debs" "$cache/lttng-modules" "$cache/.done"
mkdir -p "$cache/debs" "$cache/root"
(cd "$cache/debs" && apt-get "${sandbox[@]}" download "$imgpkg" "$hdrpkg" "$common" "$kbuild" \
	lttng-modules-dkms >/dev/null) || die "apt-get download failed"
for d in "$cache"/debs/*.deb; do
	dpkg -x "$d" "$cache/root"
done

kdir=$cache/root/usr/src/linux-headers-$kver
[ -d "$kdir" ] || die "headers tree $kdir missing after unpack"
# The headers' Makefile includes the -common tree by absolute path: point it
# at the unpacked copy.
sed -i "s|/usr/src/linux-headers-|$cache/root/usr/src/linux-headers-|g" "$kdir/Makefile"
# scripts/ and tools/ in the arch tree are symlinks into linux-kbuild-*
# (absolute /usr/lib/linux-kbuild-X): repoint them into the unpacked copy.
find "$kdir" -maxdepth 2 -type l | while read -r l; do
	t=$(readlink "$l")
	case $t in
	/usr/*) ln -sfn "$cache/root$t" "$l" ;;
	esac
done
ln -sfn "$kdir" "$cache/kdir"

src=$(ls -d "$cache"/root/usr/src/lttng-modules-* | sed -n 1p)
[ -d "$src" ] || die "lttng-modules source missing from lttng-modules-dkms"
mv "$src" "$cache/lttng-modules"

echo "$kver" > "$cache/kver"
fetch_extras
touch "$cache/.done"
echo "fetch-kernel: $kver ready in $cache"
