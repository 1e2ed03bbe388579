#!/bin/bash
# TAP: hvtrace.ko builds against Debian's newest 6.12 kernel headers too
# (besides the 6.1 of build-w1.sh): W=1, objtool (with IBT, which Debian's
# 6.12 turns on and its 6.1 does not) and BTF, without a single warning, and
# with the real KVM backend, not the stub (modinfo hvtrace_kvm=kvm_intel,
# the probe functions in the symbol table).  The LTTng probe module is not
# built: Debian 12's lttng-modules (2.13.9) does not build against 6.12
# (docs/kvm.md, "Kernels handled").
#
# The headers come from apt (linux-headers-6.12-amd64 names the current
# ABI), unpacked with dpkg -x, never installed, into build/cache/kernel-6.12
# (about 17 MB downloaded once per Debian update); the build runs in a
# scratch copy, build/kmod-6.12/, so it never races with `make kmod`.
#
# usage: kmod/tests/build-kernels.sh [--fetch-only]
#   --fetch-only: fetch (or find) the headers, print their Kbuild tree, build
#   nothing (kmod/tests/bochs-kernels.sh).  HVT_K612_CACHE=DIR moves the cache.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${HVT_K612_CACHE:-$top/build/cache/kernel-6.12}
scratch=$top/build/kmod-6.12
meta=linux-headers-6.12-amd64
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
fetch_only=no
[ "${1:-}" = --fetch-only ] && fetch_only=yes
skip_all() {
	[ $fetch_only = no ] || { echo "build-kernels: $*" >&2; exit 1; }
	echo "1..0 # SKIP $*"
	exit 0
}

# ---- the headers ---------------------------------------------------------
# One fetch at a time (make test runs this beside bochs-kernels.sh).
mkdir -p "$(dirname "$cache")"
exec 9> "$cache.lock"
flock 9
# The metapackage depends on the current ABI's headers package.
resolve() {
	apt-cache depends "$meta" 2>/dev/null |
		awk '/Depends: linux-headers-6\.12\.[0-9]/ && !f { print $2; f = 1 }'
}
hdrpkg=$(resolve)
if [ -z "$hdrpkg" ] && [ "$(id -u)" -eq 0 ]; then
	apt-get update -qq > /dev/null 2>&1 || true
	hdrpkg=$(resolve)
fi
if [ -z "$hdrpkg" ]; then
	[ -f "$cache/.done" ] || skip_all "apt cannot resolve $meta and no headers in $cache"
	hdrpkg=linux-headers-$(cat "$cache/kver")
fi
kver=${hdrpkg#linux-headers-}

if [ "$(cat "$cache/kver" 2>/dev/null)" != "$kver" ] || [ ! -f "$cache/.done" ]; then
	common=$(apt-cache depends "$hdrpkg" | awk '/Depends: linux-headers-.*-common/ && !f { print $2; f = 1 }')
	kbuild=$(apt-cache depends "$hdrpkg" | awk '/Depends: linux-kbuild-/ && !f { print $2; f = 1 }')
	[ -n "$common" ] && [ -n "$kbuild" ] ||
		skip_all "cannot resolve the dependencies of $hdrpkg"
	# As root, apt's download sandbox user cannot write into the cache.
	sandbox=()
	[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
	rm -rf "$cache"
	mkdir -p "$cache/debs" "$cache/root"
	if ! (cd "$cache/debs" && apt-get "${sandbox[@]}" download "$hdrpkg" "$common" "$kbuild" \
		> "$cache/download.log" 2>&1); then
		sed 's/^/# /' "$cache/download.log" | tail -n 5
		skip_all "apt-get download $hdrpkg $common $kbuild failed"
	fi
	for d in "$cache"/debs/*.deb; do
		dpkg -x "$d" "$cache/root"
	done
	rm -rf "$cache/debs"
	echo "$kver" > "$cache/kver"
	touch "$cache/.done"
fi
kdir=$cache/root/usr/src/linux-headers-$kver
# The headers' Makefile includes the -common tree by absolute path (and the
# cache may have been moved): point it at this copy, every run.
sed -i -E "s|^include .*/usr/src/linux-headers-|include $cache/root/usr/src/linux-headers-|" \
	"$kdir/Makefile"
flock -u 9
if [ $fetch_only = yes ]; then
	[ -f "$kdir/Makefile" ] || exit 1
	echo "$kdir"
	exit 0
fi
if [ -f "$kdir/Makefile" ] && [ -x "$kdir/scripts/basic/fixdep" ]; then
	ok "headers of $kver unpacked in $cache"
else
	not_ok "headers of $kver unpacked in $cache"
	echo "1..$n"
	exit 1
fi

# Debian's 6.12 headers ship vmlinux, so Kbuild makes the module's BTF: that
# takes pahole (linux-kbuild-6.12 depends on it; install-deps.sh build).
if [ -f "$kdir/vmlinux" ] && ! command -v pahole > /dev/null; then
	not_ok "pahole is installed (testbed/install-deps.sh build installs it)"
	echo "1..$n"
	exit 1
fi

# ---- the build -----------------------------------------------------------
rm -rf "$scratch"
mkdir -p "$scratch"
cp -a "$top/kmod" "$top/asm" "$top/schemas" "$scratch/"
find "$scratch" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' -o -name '*.mod*' \
	-o -name Module.symvers -o -name modules.order \) -delete
rm -f "$scratch/kmod/hvt-asm"
log=$scratch/build.log
# LTTNG_SRC empty: Kbuild leaves the LTTng probe out.
make -C "$scratch/kmod" KDIR="$kdir" LTTNG_SRC= W=1 > "$log" 2>&1
rc=$?
ko=$scratch/kmod/hvtrace.ko
if [ $rc -eq 0 ] && [ -f "$ko" ]; then
	ok "hvtrace.ko builds with W=1 against $kver"
else
	not_ok "hvtrace.ko builds with W=1 against $kver (status $rc)"
	grep -E 'error|warning' "$log" | head -n 20 | sed 's/^/# /'
	tail -n 10 "$log" | sed 's/^/# /'
fi
warnings=$(grep -E 'warning:|error:' "$log" | grep -v -e 'objtool:' -e 'jobserver unavailable' || true)
if [ -z "$warnings" ]; then
	ok "no compiler warning"
else
	not_ok "no compiler warning"
	echo "$warnings" | head -n 20 | sed 's/^/# /'
fi
objtool=$(grep 'objtool:' "$log" || true)
if [ -z "$objtool" ]; then
	ok "objtool clean"
else
	not_ok "objtool clean"
	echo "$objtool" | head -n 20 | sed 's/^/# /'
fi
# objtool must really have run, with the IBT check the 6.12 config asks for
if grep -q -- '--ibt' "$scratch/kmod/.hvtrace.o.cmd" 2>/dev/null; then
	ok "objtool ran on the module with --ibt"
else
	not_ok "objtool ran on the module with --ibt"
fi
if modinfo -F vermagic "$ko" 2>/dev/null | grep -q "^$kver "; then
	ok "vermagic is $kver"
else
	not_ok "vermagic is $kver ($(modinfo -F vermagic "$ko" 2>/dev/null))"
fi
backend=$(modinfo -F hvtrace_kvm "$ko" 2>/dev/null)
syms=$(nm "$ko" 2>/dev/null | awk '{ print $NF }')
if [ "$backend" = kvm_intel ] &&
   echo "$syms" | grep -qx hvt_kvm_exit_probe &&
   echo "$syms" | grep -qx hvt_kvm_entry_probe_fie; then
	ok "the KVM backend is the real one (hvtrace_kvm=$backend, probes present)"
else
	not_ok "the KVM backend is the real one (hvtrace_kvm=${backend:-none})"
fi
if [ -f "$kdir/vmlinux" ]; then
	if readelf -S "$ko" 2>/dev/null | grep -q '\.BTF'; then
		ok "the module carries BTF"
	else
		not_ok "the module carries BTF"
	fi
fi
if [ -e "$scratch/kmod/lttng-probe-hvtrace.ko" ]; then
	not_ok "no LTTng probe built without LTTNG_SRC"
else
	ok "no LTTng probe built without LTTNG_SRC"
fi
echo "1..$n"
[ $failed -eq 0 ]
