#!/bin/bash
# TAP: host mode of hvtrace.ko in Bochs (emulated VMX, 2 CPUs) through
# testbed/guest-run.sh: the running Linux virtualized on every CPU while a
# program issues known CPUID leaves (same output with and without hvtrace,
# exactly its CPUID exits traced), one session at a time, 50
# virtualize/devirtualize cycles with a busy program on each CPU and the
# host-state check after each, clean unload and dmesg
# (kmod/tests/guest/host-run.sh).  Results stay in build/host-e2e/.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
kdir=${KDIR:-$top/build/cache/kernel/kdir}
lttng=${LTTNG_SRC:-$top/build/cache/lttng-build}
model=${HVT_HOST_CPU_MODEL:-corei7_haswell_4770}
work=$top/build/host-e2e
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

if ! command -v bochs > /dev/null; then
	echo "1..0 # SKIP bochs missing (testbed/install-deps.sh e2e)"
	exit 0
fi
if [ ! -f "$kdir/Makefile" ]; then
	bash testbed/fetch-kernel.sh build/cache/kernel > /dev/null 2>&1
fi

rm -rf "$work"
mkdir -p "$work/payload/modules" "$work/payload/bin"
lttng_arg=""
[ -f "$lttng/Module.symvers" ] && lttng_arg="LTTNG_SRC=$lttng"
if make -C kmod KDIR="$kdir" $lttng_arg > "$work/build.log" 2>&1 &&
   ${CC:-cc} -std=gnu11 -Wall -Wextra -O2 -static -o "$work/payload/bin/hostmode" \
	kmod/tests/hostmode.c >> "$work/build.log" 2>&1; then
	ok "hvtrace.ko and hostmode build"
else
	not_ok "hvtrace.ko and hostmode build"
	tail -n 20 "$work/build.log" | sed 's/^/# /'
	echo "1..$n"
	exit 1
fi
cp kmod/hvtrace.ko "$work/payload/modules/"
cp kmod/tests/guest/host-run.sh "$work/payload/run.sh"

testbed/guest-run.sh --payload "$work/payload" --out "$work/out" \
	--cpu-model "$model" --mem 512 --cpus 2 --timeout 2400 --quiet \
	> "$work/guest.log" 2>&1
rc=$?
if [ $rc -le 1 ] && [ -f "$work/out/run.log" ]; then
	ok "guest ($model, 2 CPUs) booted and ran the payload (guest-run status $rc)"
	grep -E '^(not )?ok [0-9]+|^# ' "$work/out/run.log" | sed 's/^/# guest: /'
	g_fail=$(grep -c '^not ok' "$work/out/run.log")
	g_pass=$(grep -c '^ok' "$work/out/run.log")
	if [ "$g_fail" -eq 0 ] && [ "$g_pass" -ge 15 ]; then
		ok "all $g_pass guest checks pass"
	else
		not_ok "guest checks: $g_pass pass, $g_fail fail"
	fi
else
	not_ok "guest ($model, 2 CPUs) booted and ran the payload (guest-run status $rc)"
	tail -n 40 "$work/guest.log" | sed 's/^/# /'
fi
echo "1..$n"
[ $failed -eq 0 ]
