#!/bin/bash
# Build Debian's lttng-modules against the fetched kernel headers, in a copy of
# the pristine source, patched when the headers need it.  Cached: a rebuild
# happens only when the kernel release (or the patch) changes.
#
# usage: testbed/build-lttng.sh KERNEL_CACHE OUT_DIR
#   KERNEL_CACHE  the folder testbed/fetch-kernel.sh filled (kver, kdir, lttng-modules)
#   OUT_DIR       receives the built tree; pass it as LTTNG_SRC to kmod builds
#                 (it holds include/, src/Kbuild.common and Module.symvers)
set -euo pipefail

die() { echo "build-lttng: $*" >&2; exit 2; }

kcache=${1:?usage: build-lttng.sh KERNEL_CACHE OUT_DIR}
out=${2:?usage: build-lttng.sh KERNEL_CACHE OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
patch=${HVT_LTTNG_PATCH:-$here/patches/lttng-modules-2.13.9-hrtimer-was-armed.patch}

[ -f "$kcache/.done" ] || die "$kcache is not a fetched kernel (run testbed/fetch-kernel.sh $kcache)"
kver=$(cat "$kcache/kver")
kdir=$(readlink -f "$kcache/kdir")
src=$kcache/lttng-modules
[ -d "$src/src" ] || die "lttng-modules source missing in $src"

# The headers' timer.h lives in the -common tree the arch tree's Makefile includes.
need_patch=no
for t in "$kdir/include/trace/events/timer.h" \
	 "$kcache"/root/usr/src/linux-headers-*-common/include/trace/events/timer.h; do
	[ -f "$t" ] && grep -q was_armed "$t" && need_patch=yes
done
[ "$need_patch" = no ] || [ -f "$patch" ] || die "headers need $patch, which is missing"

stamp="kver=$kver patch=$need_patch"
[ "$need_patch" = yes ] && stamp="$stamp $(sha256sum < "$patch" | cut -c1-16)"
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ] &&
   [ -s "$out/Module.symvers" ]; then
	echo "build-lttng: lttng-modules for $kver already built in $out"
	exit 0
fi

echo "build-lttng: building lttng-modules for $kver in $out (about 2 minutes)"
rm -rf "$out"
cp -a "$src" "$out.tmp.$$"
trap 'rm -rf "$out.tmp.$$"' EXIT
if [ "$need_patch" = yes ]; then
	patch -s -d "$out.tmp.$$" -p0 < "$patch" ||
		die "patch $patch does not apply to $src"
fi
mv "$out.tmp.$$" "$out"
trap - EXIT
jobs=$(nproc 2>/dev/null || echo 2)
log=$out/build.log
if ! make -C "$kdir" M="$out" modules CONFIG_LTTNG=m -j"$jobs" > "$log" 2>&1; then
	tail -n 20 "$log" >&2
	die "lttng-modules build failed (full log: $log)"
fi
[ -s "$out/Module.symvers" ] || die "no Module.symvers after the build (log: $log)"
n=$(find "$out" -name '*.ko' | wc -l)
echo "$stamp" > "$out/.stamp"
echo "build-lttng: $n modules built in $out"
