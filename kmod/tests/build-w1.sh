#!/bin/bash
# TAP: hvtrace.ko (and the LTTng probe, when lttng-modules is built) compile
# with W=1 against build/cache/kernel/kdir without a single compiler warning
# or objtool complaint; hvtctl compiles -Wall -Wextra clean.
#
# The build runs in a scratch copy (build/kmod-w1/) so it never races with
# `make kmod` and always recompiles every object.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
kdir=${KDIR:-$top/build/cache/kernel/kdir}
lttng=${LTTNG_SRC:-$top/build/cache/lttng-build}
scratch=$top/build/kmod-w1
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

if [ ! -f "$kdir/Makefile" ]; then
	echo "1..0 # SKIP no kernel build tree at $kdir (testbed/fetch-kernel.sh build/cache/kernel)"
	exit 0
fi

rm -rf "$scratch"
mkdir -p "$scratch"
cp -a "$top/kmod" "$top/asm" "$top/schemas" "$scratch/"
find "$scratch" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' -o -name '*.mod*' \
	-o -name Module.symvers -o -name modules.order \) -delete
rm -f "$scratch/kmod/hvt-asm"

lttng_args=()
have_lttng=no
if [ -f "$lttng/Module.symvers" ]; then
	have_lttng=yes
	lttng_args=(LTTNG_SRC="$lttng")
fi
log=$scratch/build.log
make -C "$scratch/kmod" KDIR="$kdir" "${lttng_args[@]}" W=1 > "$log" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ -f "$scratch/kmod/hvtrace.ko" ]; then
	ok "hvtrace.ko builds with W=1"
else
	not_ok "hvtrace.ko builds with W=1 (status $rc)"
	tail -n 30 "$log" | sed 's/^/# /'
fi
# (make's own "jobserver unavailable" note under a parallel make is no
# compiler warning)
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
objs=$(grep -cE '^\s+(CC|AS) \[M\]' "$log")
if grep -q 'AS \[M\].*hvt-asm/vmexit.o' "$log" && [ "$objs" -ge 8 ]; then
	ok "asm/ sources are assembled into the module ($objs objects)"
else
	not_ok "asm/ sources are assembled into the module ($objs objects)"
fi
if modinfo -F depends "$scratch/kmod/hvtrace.ko" 2>/dev/null | grep -q lttng; then
	not_ok "hvtrace.ko has no LTTng dependency"
else
	ok "hvtrace.ko has no LTTng dependency"
fi
if [ $have_lttng = yes ]; then
	if [ -f "$scratch/kmod/lttng-probe-hvtrace.ko" ]; then
		ok "lttng-probe-hvtrace.ko builds against $lttng"
	else
		not_ok "lttng-probe-hvtrace.ko builds against $lttng"
	fi
else
	ok "lttng-probe-hvtrace.ko # SKIP no built lttng-modules at $lttng"
fi
if ${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -o "$scratch/hvtctl" \
	"$top/kmod/tools/hvtctl.c" 2> "$scratch/hvtctl.log"; then
	ok "hvtctl builds -Wall -Wextra clean"
else
	not_ok "hvtctl builds -Wall -Wextra clean"
	sed 's/^/# /' "$scratch/hvtctl.log" | head -n 20
fi
echo "1..$n"
[ $failed -eq 0 ]
