#!/bin/bash
# TAP: the end-to-end checks of hvtrace in Bochs.  Runs testbed/e2e-run.sh
# (which boots only when its inputs changed), then checks on the host:
# the guest finished; dmesg is clean; every workload's trace was recorded
# without loss and matches its plan (hvtrace-wlcheck); `hvtrace hist` agrees
# with babeltrace2 counted by awk; seq is gap-free; `hvtrace replay --check`
# passes; same-seed mix runs diff equal and another seed differs; the
# triple-fault run, an interrupted recording and bad requests fail cleanly;
# 50 load/run/unload cycles
# leave nothing behind; a CPU without VMX is refused.  Writes
# build/e2e/latest/summary.txt (exits, handler latency, bytes per exit).
#
# usage: testbed/e2e-check.sh [--no-run]   (--no-run: check the last results)
# With HVT_E2E_SINCE=EPOCH (make e2e, which ran testbed/e2e-run.sh itself),
# no boot is started: the results must come from a run since EPOCH.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"
latest=build/e2e/latest
hvtrace=${HVT_BIN:-build/bin/hvtrace}
wlcheck=${HVT_WLCHECK:-build/bin/hvtrace-wlcheck}
reasons=schemas/exit_reasons.h
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
# check NAME CMD...: one test point from a command's status; its output as
# diagnostics when it fails.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		not_ok "$name"
		printf '%s\n' "$out" | tail -n 15 | sed 's/^/# /'
	fi
}
diag() { sed 's/^/# /'; }

fresh() { [ -f "$1" ] && [ "$(stat -c %Y "$1")" -ge "$HVT_E2E_SINCE" ]; }
if [ -n "${HVT_E2E_SINCE:-}" ]; then
	# A failed boot still leaves its results (boot-status.txt) to check.
	if ! fresh "$latest/inputs.sha" && ! fresh "$latest/boot-status.txt"; then
		not_ok "make e2e's Bochs run left results in $latest (see build/e2e/)"
		echo "1..$n"
		exit 1
	fi
elif [ "${1:-}" != --no-run ]; then
	mkdir -p build
	if ! "$here/e2e-run.sh" --quiet --no-retry 2> build/e2e-run.log; then
		not_ok "the Bochs boots finished"
		tail -n 30 build/e2e-run.log | diag
		echo "1..$n"
		exit 1
	fi
fi
if [ ! -f "$latest/env" ]; then
	not_ok "e2e results exist in $latest"
	echo "1..$n"
	exit 1
fi
. "$latest/env"

# ---- the host-state integrity check (host_check=2, kmod/host_state.c) ----
hc=$(sed -n 's/^host_checks //p' "$latest/logs/counters.txt" 2>/dev/null)
hm=$(sed -n 's/^host_mismatches //p' "$latest/logs/counters.txt" 2>/dev/null)
check "host-state check ran at every exit and run (${hc:-none} checks)" \
	[ "${hc:-0}" -gt 1000 ]
check "host-state check never found the host changed (${hm:-?} mismatches)" \
	sh -c "[ '${hm:-x}' = 0 ] && ! grep -qa 'host state changed' '$latest/dmesg.txt'"

# ---- the boot itself ----
check "the scenario boot and the negative boot finished" \
	grep -qx 'main=0 novmx=0 seconds=[0-9]*' "$latest/boot-status.txt"
check "guest printed its end marker" grep -qa 'HVT-GUEST: END rc=0' "$latest/serial.log"
# Kernel messages from hvtrace's first load on: Debian's kernel warns once
# at boot about Bochs' emulated CPU (xstate sizes, mitigations), which is
# counted in the summary but is not ours.
since_load() { awk '/hvtrace: / { on = 1 } on' "$1"; }
bad=$(since_load "$latest/dmesg.txt" |
	grep -a -E 'WARNING:|BUG:|Oops|objtool|Call Trace|general protection|RIP: ')
if [ -s "$latest/dmesg.txt" ] && grep -q 'hvtrace: ' "$latest/dmesg.txt" && [ -z "$bad" ]; then
	ok "dmesg from hvtrace's first load on has no WARNING/BUG/Oops/objtool/call trace"
else
	not_ok "dmesg from hvtrace's first load on has no WARNING/BUG/Oops/objtool/call trace"
	printf '%s\n' "$bad" | head -n 20 | diag
fi
boot_warn=$(awk '/hvtrace: / { exit } /WARNING:/ { n++ } END { print n + 0 }' "$latest/dmesg.txt")
# hvtrace's own error and warning lines (levels 0-4): only the kernel's
# taint notices and the report of the run that must fail (triplefault).
tf_run=$(sed -n 's/^run \([0-9]*\): workload triplefault .*/\1/p' \
	"$latest/logs/record-triplefault.txt" 2>/dev/null)
bad=$(grep -a -E '^<[0-4]>.*hvtrace: ' "$latest/dmesg-raw.txt" 2>/dev/null |
	grep -v -E 'hvtrace: (loading out-of-tree module taints kernel|module verification failed)' |
	grep -v -E "hvtrace: cpu [0-9]+ run ${tf_run:-none}: ")
if [ -s "$latest/dmesg-raw.txt" ] && [ -z "$bad" ]; then
	ok "no unexpected hvtrace: error or warning line in dmesg"
else
	not_ok "no unexpected hvtrace: error or warning line in dmesg"
	printf '%s\n' "$bad" | head -n 20 | diag
fi
check "hvtrace.ko and its LTTng probe were loaded" \
	grep -q '^lttng_probe_hvtrace ' "$latest/logs/modules-loaded.txt"

# ---- workloads and their traces ----
wls=$(awk '{ print $1 }' "$latest/workloads.txt" 2>/dev/null)
missing=""
for w in cpuid msr io vmcall hlt rdtsc cr xsetbv exceptions xmm mix triplefault; do
	printf '%s\n' $wls | grep -qx "$w" || missing="$missing $w"
done
if [ -n "$wls" ] && [ -z "$missing" ]; then
	ok "hvtrace record --list names every workload ($(echo $wls | wc -w))"
else
	not_ok "hvtrace record --list names every workload (missing:$missing)"
	cat "$latest/logs/list.err" 2>/dev/null | diag
fi

traces=""
for w in $wls; do
	case $w in
	triplefault|selftest-*) ;;
	*) traces="$traces $w" ;;
	esac
done
traces="$traces mix-a mix-b mix-c"
summary=$latest/summary.txt
{
	echo "hvtrace end-to-end run in Bochs ($(date -u '+%Y-%m-%d %H:%M UTC'))"
	echo "seed $SEED (mix-c: $SEED2), $ITERATIONS iterations per workload, $MIX_ITERATIONS for mix"
	echo "handler latency = resume.tsc - exit.tsc in guest TSC cycles (Bochs' emulated TSC)"
	echo "bytes/exit = trace stream bytes (exit + resume + session events) / exits"
	echo
	printf '%-12s %8s %10s %8s %8s %8s %8s %8s %10s\n' trace exits bytes/exit \
		lat.min lat.p50 lat.mean lat.p99 lat.max trace.KB
} > "$summary"

for t in $traces; do
	dir=$latest/traces/$t
	log=$latest/logs/record-$t.txt
	wl=$t
	seed=$SEED
	iters=$ITERATIONS
	case $t in
	mix-a|mix-b) wl=mix; iters=$MIX_ITERATIONS ;;
	mix-c) wl=mix; seed=$SEED2; iters=$MIX_ITERATIONS ;;
	esac
	if grep -qx 'rc=0' "$log" 2>/dev/null && [ -f "$dir/kernel/metadata" ]; then
		ok "$t: hvtrace record succeeded and left a trace"
	else
		not_ok "$t: hvtrace record succeeded and left a trace"
		cat "$log" 2>/dev/null | tail -n 5 | diag
		continue
	fi
	check "$t: record reports zero discarded events and lost packets" \
		grep -qx 'events discarded: 0, packets lost: 0' "$log"
	if [ -x "$wlcheck" ]; then
		check "$t: hvtrace-wlcheck $wl seed $seed iterations $iters" \
			"$wlcheck" "$dir" "$wl" "$seed" "$iters"
	else
		not_ok "$t: hvtrace-wlcheck exists ($wlcheck)"
	fi
	stats=$(babeltrace2 "$dir" 2> "$latest/logs/bt-$t.err" |
		gawk -f "$here/e2e/trace-stats.awk" "$reasons" -)
	exits=$(awk '$1 == "exits" { print $2 }' <<< "$stats")
	if [ "${exits:-0}" -gt 0 ] && ! grep -qi discard "$latest/logs/bt-$t.err" &&
	   grep -qx 'gaps 0' <<< "$stats" && grep -qx 'unmatched 0' <<< "$stats" &&
	   grep -qx "resumes $exits" <<< "$stats"; then
		ok "$t: $exits exits, gap-free seq, one resume per exit, babeltrace2 reports no discarded events"
	else
		not_ok "$t: gap-free seq, one resume per exit, no discarded events"
		{ grep -E '^(exits|resumes|gaps|unmatched)' <<< "$stats"; cat "$latest/logs/bt-$t.err"; } | diag
	fi
	want=$(awk '$1 == "reason" { print $2 "," $3 }' <<< "$stats" | sort)
	got=$("$hvtrace" hist --format csv "$dir" 2> "$latest/logs/hist-$t.err" |
		awk -F, 'NR > 1 { print $1 "," $2 }' | sort)
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		ok "$t: hvtrace hist --format csv counts equal babeltrace2 | awk"
	else
		not_ok "$t: hvtrace hist --format csv counts equal babeltrace2 | awk"
		diff <(echo "$want") <(echo "$got") | head -n 20 | diag
	fi
	check "$t: hvtrace replay --check passes" "$hvtrace" replay --check "$dir"
	bytes=$(find "$dir/kernel" -type f ! -name metadata ! -path '*/index/*' -printf '%s\n' |
		awk '{ s += $1 } END { print s + 0 }')
	kb=$(du -sk "$dir" | cut -f1)
	lat() { awk -v k="$1" '$1 == "latency" && $2 == k { print $3 }' <<< "$stats"; }
	printf '%-12s %8d %10.1f %8s %8s %8s %8s %8s %10s\n' "$t" "${exits:-0}" \
		"$(awk -v b="$bytes" -v e="${exits:-0}" 'BEGIN { print e ? b / e : 0 }')" \
		"$(lat min)" "$(lat p50)" "$(lat mean)" "$(lat p99)" "$(lat max)" "$kb" >> "$summary"
done

# ---- record --format json: valid, and the same run as the text one ----
js=$latest/logs/record-cpuid.json
if grep -qx 'rc=0' "$latest/logs/record-cpuid-json.err" 2>/dev/null &&
   out=$(/usr/bin/python3 - "$js" schemas/json/record.schema.json "$latest/logs/record-cpuid.txt" 2>&1 <<'PY'
import json, re, sys
import jsonschema
r = json.load(open(sys.argv[1]))
jsonschema.validate(r, json.load(open(sys.argv[2])))
text = open(sys.argv[3]).read()
m = re.search(r"^run \d+: workload cpuid .*: (\d+) exits, status 0", text, re.M)
assert m, "no result line in the text recording"
assert r["exits"] == int(m.group(1)), "exits %s, text run %s" % (r["exits"], m.group(1))
assert r["complete"] is True and r["status"] == 0 and r["discarded_events"] == 0, r
assert r["trace"] == "/out/json-traces/cpuid/kernel", r["trace"]
PY
); then
	ok "record --format json validates against its schema and agrees with the text run"
else
	not_ok "record --format json validates against its schema and agrees with the text run"
	{ printf '%s\n' "${out:-}"; cat "$js" "$latest/logs/record-cpuid-json.err"; } 2>/dev/null | tail -n 15 | diag
fi

# ---- determinism: same seed diffs equal, another seed differs ----
if [ -d "$latest/traces/mix-a" ] && [ -d "$latest/traces/mix-b" ] && [ -d "$latest/traces/mix-c" ]; then
	"$hvtrace" diff "$latest/traces/mix-a" "$latest/traces/mix-b" > "$latest/logs/diff-ab.txt" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then ok "hvtrace diff mix-a mix-b (same seed) exits 0"
	else not_ok "hvtrace diff mix-a mix-b (same seed) exits 0 (status $rc)"; head -n 20 "$latest/logs/diff-ab.txt" | diag; fi
	"$hvtrace" diff "$latest/traces/mix-a" "$latest/traces/mix-c" > "$latest/logs/diff-ac.txt" 2>&1
	rc=$?
	if [ $rc -eq 1 ]; then ok "hvtrace diff mix-a mix-c (other seed) exits 1"
	else not_ok "hvtrace diff mix-a mix-c (other seed) exits 1 (status $rc)"; head -n 20 "$latest/logs/diff-ac.txt" | diag; fi
else
	not_ok "mix-a, mix-b and mix-c traces exist"
fi

# ---- runs and requests that must fail cleanly ----
# The triplefault workload faults in the guest; the run must stop cleanly
# with an error status, and what was traced must still match its plan.
log=$latest/logs/record-triplefault.txt
tdir=$latest/error-traces/triplefault
if grep -qx 'rc=2' "$log" 2>/dev/null && grep -q 'the run ended early' "$log" &&
   grep -q '^run [0-9]*: workload triplefault .* status -[1-9]' "$log"; then
	ok "triplefault: record exits 2, the run ended early with an error status"
else
	not_ok "triplefault: record exits 2, the run ended early with an error status"
	cat "$log" 2>/dev/null | diag
fi
if [ -f "$tdir/kernel/metadata" ]; then
	check "triplefault: the trace up to the fault passes replay --check" \
		"$hvtrace" replay --check "$tdir"
	check "triplefault: hvtrace-wlcheck triplefault seed $SEED iterations 1" \
		"$wlcheck" "$tdir" triplefault "$SEED" 1
else
	not_ok "triplefault: a trace up to the fault was kept"
fi
log=$latest/logs/record-interrupted.txt
if grep -qx 'rc=2' "$log" 2>/dev/null &&
   grep -q 'the run ended early: Interrupted system call' "$log" &&
   ! grep -q 'hvtrace-record-' "$latest/logs/sessions-after-interrupt.txt"; then
	ok "record interrupted by SIGINT: the run ends early (EINTR), the session is destroyed"
else
	not_ok "record interrupted by SIGINT: the run ends early (EINTR), the session is destroyed"
	cat "$log" "$latest/logs/sessions-after-interrupt.txt" 2>/dev/null | diag
fi
if [ -f "$latest/error-traces/interrupted/kernel/metadata" ]; then
	check "record interrupted by SIGINT: the trace so far passes replay --check" \
		"$hvtrace" replay --check "$latest/error-traces/interrupted"
else
	not_ok "record interrupted by SIGINT: the trace so far was kept"
fi
# expect_fail LOG PATTERN NAME: exit 2 with one error line matching PATTERN.
expect_fail() {
	local log=$1 pat=$2 name=$3
	if grep -qx 'rc=2' "$log" 2>/dev/null && [ "$(grep -vc '^rc=' "$log")" -eq 1 ] &&
	   grep -q "$pat" "$log"; then
		ok "$name"
	else
		not_ok "$name"
		cat "$log" 2>/dev/null | diag
	fi
}
expect_fail "$latest/logs/bad-workload.txt" "unknown workload 'no-such-workload'" \
	"record of an unknown workload: one line, status 2"
expect_fail "$latest/logs/bad-output.txt" "is not empty" \
	"record into a non-empty folder: one line, status 2"
expect_fail "$latest/logs/no-sessiond.txt" "no LTTng session daemon" \
	"record without lttng-sessiond: one line, status 2"
expect_fail "$latest/logs/no-module.txt" "cannot open /dev/hvtrace" \
	"record --list without hvtrace.ko: one line, status 2"
check "hvtrace.ko unloads after the recordings" grep -qx 'rc=0' "$latest/logs/rmmod.txt"

# ---- load/run/unload cycles ----
cyc=$latest/logs/cycles.txt
good=$(grep -c -x 'cycle [0-9]* load=0 run=0 unload=0 listed=no' "$cyc" 2>/dev/null)
if [ "${good:-0}" -eq "$CYCLES" ] && [ "$(wc -l < "$cyc")" -eq "$CYCLES" ]; then
	ok "$CYCLES load/run/unload cycles: every step succeeded, hvtrace gone from /proc/modules"
else
	not_ok "$CYCLES load/run/unload cycles ($good good)"
	grep -v -x 'cycle [0-9]* load=0 run=0 unload=0 listed=no' "$cyc" 2>/dev/null | head | diag
fi
unl=$(grep -c 'hvtrace: unloaded, 0 allocations outstanding' "$latest/dmesg.txt")
leak=$(grep 'hvtrace: unloaded, ' "$latest/dmesg.txt" | grep -v ', 0 allocations outstanding')
if [ "$unl" -eq $((CYCLES + 1)) ] && [ -z "$leak" ]; then
	ok "every unload ($unl) reports 0 allocations outstanding (module accounting; no kmemleak in this kernel)"
else
	not_ok "every unload reports 0 allocations outstanding ($unl of $((CYCLES + 1)))"
	printf '%s\n' "$leak" | head | diag
fi
runs=$(grep -c 'hvtrace: run [0-9]* on cpu' "$latest/dmesg.txt")
vmxe=$(grep 'hvtrace: run [0-9]* on cpu' "$latest/dmesg.txt" | grep -vc 'CR4.VMXE clear, host state intact$')
if [ "$runs" -ge "$CYCLES" ] && [ "$vmxe" -eq 0 ]; then
	ok "every run ($runs) leaves CR4.VMXE clear and the host state intact (the module's own report)"
else
	not_ok "every run leaves CR4.VMXE clear and the host state intact ($vmxe of $runs not)"
fi

# ---- a CPU without VMX ----
nv=$latest/novmx
if [ -f "$nv/insmod.txt" ] && ! grep -qx 'rc=0' "$nv/insmod.txt" &&
   grep -q 'No such device' "$nv/insmod.txt" &&
   grep -q 'no VMX (CPUID.1:ECX.VMX\[bit 5\] = 0); not loading' "$nv/dmesg-hvtrace.txt" &&
   grep -qx 'listed=no' "$nv/listed.txt" && [ ! -s "$nv/vmx-flag.txt" ]; then
	ok "CPU without VMX: insmod fails with ENODEV and the module's 'no VMX' message"
else
	not_ok "CPU without VMX: insmod fails with ENODEV and the module's 'no VMX' message"
	cat "$nv/insmod.txt" "$nv/dmesg-hvtrace.txt" "$nv/listed.txt" 2>/dev/null | diag
fi
if grep -q '^alive ' "$nv/alive.txt" 2>/dev/null && grep -qa 'HVT-GUEST: END rc=0' "$nv/serial.log"; then
	ok "CPU without VMX: the guest keeps running after the refusal"
else
	not_ok "CPU without VMX: the guest keeps running after the refusal"
fi

{
	echo
	echo "boot: $(cat "$latest/boot-status.txt" 2>/dev/null)"
	echo "kernel warnings at boot, before hvtrace was loaded (Bochs' emulated CPU): $boot_warn"
	echo "checks: $((n - failed)) passed, $failed failed"
} >> "$summary"
sed 's/^/# /' "$summary"
echo "1..$n"
[ "$failed" -eq 0 ]
