#!/bin/bash
# TAP: hvtrace.ko in Bochs (emulated VMX) through testbed/guest-run.sh.
#  1. corei7_skylake_x guest: load, runs, argument errnos, triple fault,
#     unhandled exit, preemption-timer yields, EBUSY, SIGINT, LTTng
#     recording, 50 load/run/unload cycles (kmod/tests/guest/run.sh);
#     then, on the host, babeltrace2 reads the recorded trace and every
#     schema field of every event is present.
#  2. a CPU model without VMX: the module refuses to load with ENODEV.
# Results stay in build/kmod-e2e/.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
kdir=${KDIR:-$top/build/cache/kernel/kdir}
lttng=${LTTNG_SRC:-$top/build/cache/lttng-build}
work=$top/build/kmod-e2e
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

if ! command -v bochs > /dev/null; then
	echo "1..0 # SKIP bochs missing (testbed/install-deps.sh e2e)"
	exit 0
fi
if [ ! -f "$lttng/Module.symvers" ]; then
	bash testbed/fetch-kernel.sh build/cache/kernel > /dev/null 2>&1
	bash testbed/build-lttng.sh build/cache/kernel "$lttng" > /dev/null 2>&1
fi

rm -rf "$work"
mkdir -p "$work/payload/modules" "$work/payload/bin"
if make -C kmod KDIR="$kdir" LTTNG_SRC="$lttng" > "$work/build.log" 2>&1 &&
   ${CC:-cc} -std=c11 -Wall -Wextra -O2 -static -o "$work/payload/bin/hvtctl" \
	kmod/tools/hvtctl.c >> "$work/build.log" 2>&1 &&
   ${CC:-cc} -std=c11 -Wall -Wextra -O2 -static -o "$work/payload/bin/hoststate" \
	kmod/tests/hoststate.c >> "$work/build.log" 2>&1; then
	ok "modules and hvtctl build"
else
	not_ok "modules and hvtctl build"
	tail -n 20 "$work/build.log" | sed 's/^/# /'
	echo "1..$n"
	exit 1
fi
cp kmod/hvtrace.ko kmod/lttng-probe-hvtrace.ko "$work/payload/modules/"
cp kmod/tests/guest/run.sh "$work/payload/"

# ---- 1. VMX guest ----
testbed/guest-run.sh --payload "$work/payload" --out "$work/vmx" \
	--mem 512 --cpus 2 --timeout 3600 --quiet > "$work/vmx.log" 2>&1
rc=$?
if [ $rc -le 1 ] && [ -f "$work/vmx/run.log" ]; then
	ok "guest booted and ran the payload (guest-run status $rc)"
	grep -E '^(not )?ok [0-9]+' "$work/vmx/run.log" | sed 's/^\(not \)\{0,1\}ok [0-9]* - /&/' |
	while IFS= read -r line; do echo "# guest: $line"; done
	g_fail=$(grep -c '^not ok' "$work/vmx/run.log")
	g_pass=$(grep -c '^ok' "$work/vmx/run.log")
	if [ "$g_fail" -eq 0 ] && [ "$g_pass" -ge 20 ]; then
		ok "all $g_pass guest checks pass"
	else
		not_ok "guest checks: $g_pass pass, $g_fail fail"
		grep '^not ok' "$work/vmx/run.log" | sed 's/^/# /'
	fi
else
	not_ok "guest booted and ran the payload (guest-run status $rc)"
	tail -n 30 "$work/vmx.log" | sed 's/^/# /'
fi

trace=$work/vmx/trace/kernel
if [ -f "$trace/metadata" ] && command -v babeltrace2 > /dev/null; then
	babeltrace2 "$trace" > "$work/trace.txt" 2> "$work/bt.err"
	bt=$?
	if [ $bt -eq 0 ] && [ -s "$work/trace.txt" ]; then
		ok "babeltrace2 reads the LTTng trace ($(wc -l < "$work/trace.txt") events)"
	else
		not_ok "babeltrace2 reads the LTTng trace (status $bt)"
	fi
	# Every field of every event, straight from the schema's lists.
	for ev in exit resume session; do
		EV=$(echo $ev | tr a-z A-Z)
		fields=$(printf '%s\n' '#include "hvtrace_events.h"' \
			'#define F(t, n) n' '#define A(t, n, c) n' \
			'#define T(n, c) n' '#define S(t, n, lt, m) n' \
			"HVTFIELDS HVTRACE_${EV}_FIELDS(F, F, A, T, S)" |
			${CC:-cc} -E -P -x c -I schemas - 2>/dev/null |
			sed -n 's/^HVTFIELDS //p')
		line=$(grep -m1 "hvtrace_$ev:" "$work/trace.txt")
		missing=""
		for f in $fields; do
			echo "$line" | grep -q "[{ ]$f = " || missing="$missing $f"
		done
		if [ -n "$line" ] && [ -n "$fields" ] && [ -z "$missing" ]; then
			ok "hvtrace_$ev carries all $(echo $fields | wc -w) schema fields"
		else
			not_ok "hvtrace_$ev carries all schema fields (missing:${missing:- event absent})"
		fi
	done
	nexit=$(grep -c 'hvtrace_exit:' "$work/trace.txt")
	nres=$(grep -c 'hvtrace_resume:' "$work/trace.txt")
	if [ "$nexit" -gt 0 ] && [ "$nexit" -eq "$nres" ]; then
		ok "one hvtrace_resume per hvtrace_exit ($nexit)"
	else
		not_ok "one hvtrace_resume per hvtrace_exit (exits $nexit, resumes $nres)"
	fi
	# Determinism: the two identical selftest-mix runs give the same exits
	# and resumes once the by-design differences (seq, tsc, asynchronous
	# exits, and since schema v3 the run kthread's pid and tid) are removed.
	awk -v dir="$work" '
		/hvtrace_session:.*phase = 0,/ {
			match($0, /run_id = [0-9]+/); run = substr($0, RSTART + 9, RLENGTH - 9)
			match($0, /workload = "[^"]*", seed = [0-9]+, iterations = [0-9]+/)
			key = substr($0, RSTART, RLENGTH); gsub(/[^a-z0-9-]/, "_", key)
			out = dir "/det." key "." run
		}
		/hvtrace_session:.*phase = 1,/ { out = "" }
		# asynchronous exits (interrupt, preemption timer, windows) and
		# their resumes vary between runs by design
		/hvtrace_exit:.*exit_reason = 0x(1|7|8|34),/ { skip = 1; next }
		/hvtrace_resume:/ && skip { skip = 0; next }
		/hvtrace_(exit|resume):/ && out != "" {
			sub(/^.*\}, \{ /, "")
			gsub(/seq = [0-9]+, /, ""); gsub(/tsc = [0-9]+/, "")
			gsub(/pid = [0-9]+, tid = [0-9]+/, "")
			print > out
		}' "$work/trace.txt"
	set -- "$work"/det.workload____selftest-mix___seed___7__iterations___3.*
	if [ $# -eq 2 ] && [ -s "$1" ] && cmp -s "$1" "$2"; then
		ok "two selftest-mix runs (seed 7) trace identically but for seq/tsc ($(wc -l < "$1") events each)"
	else
		not_ok "two selftest-mix runs (seed 7) trace identically but for seq/tsc ($# runs found)"
		[ $# -eq 2 ] && diff "$1" "$2" | head -n 10 | sed 's/^/# /'
	fi
	if grep -q 'hvtrace_exit:.*exit_reason = 0x2,' "$work/trace.txt"; then
		ok "the triple fault is in the trace"
	else
		not_ok "the triple fault is in the trace"
	fi
else
	not_ok "LTTng trace recorded in the guest"
fi

# ---- 2. CPU without VMX ----
mkdir -p "$work/payload-novmx"
cp -a "$work/payload/." "$work/payload-novmx/"
echo "HVT_KMOD_TESTS=novmx" > "$work/payload-novmx/env"
testbed/guest-run.sh --payload "$work/payload-novmx" --out "$work/novmx" \
	--cpu-model p4_prescott_celeron_336 --mem 512 --timeout 900 --quiet \
	> "$work/novmx.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && ! grep -q '^not ok' "$work/novmx/run.log"; then
	ok "no-VMX CPU: clean refusal ($(grep -c '^ok' "$work/novmx/run.log") checks)"
else
	not_ok "no-VMX CPU: clean refusal (guest-run status $rc)"
	grep '^not ok' "$work/novmx/run.log" 2>/dev/null | sed 's/^/# /'
	tail -n 10 "$work/novmx.log" | sed 's/^/# /'
fi
echo "1..$n"
[ $failed -eq 0 ]
