#!/bin/bash
# hvtrace-wlcheck on real recordings (tests/e2e/traces): the right
# (workload, seed, iterations) passes every check; any other is reported as
# a failure (status 1); bad input is one line on stderr and status 2.  TAP.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
wlcheck=${HVT_WLCHECK:-$top/build/bin/hvtrace-wlcheck}
traces=$top/tests/e2e/traces
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
# expect STATUS NAME ARGS...: run the checker, compare its exit status
expect() {
	want=$1 name=$2
	shift 2
	"$wlcheck" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$name (status $rc)"
	else
		not_ok "$name (status $rc, want $want)"
		sed 's/^/# /' "$tmp/out" "$tmp/err" | head -n 40
	fi
}

expect 0 "mix seed 42 x5 matches its plan" "$traces/mix-s42-n5" mix 42 5
grep -q '^ok 7 - GPRs at each exit ([1-9][0-9]* checked, 0 failed)' "$tmp/out" &&
	ok "mix: GPRs were checked at every exit" || not_ok "mix: GPR checks missing"
expect 0 "triplefault seed 42 x5 matches its plan (status -EFAULT)" \
	"$traces/triplefault-s42-n5" triplefault 42 5
expect 0 "xmm seed 5 x10 with preemption-timer exits matches its plan" \
	"$traces/xmm-s5-n10-slice1" xmm 5 10
grep -q '^# run .*(11 synchronous, 10 asynchronous)' "$tmp/out" &&
	ok "xmm: the 10 asynchronous exits were skipped, 11 synchronous checked" ||
	not_ok "xmm: asynchronous exits not counted as expected"
expect 0 "xmm seed 42 x20, schema v3, matches its plan" "$traces/xmm-s42-n20-v3" xmm 42 20
grep -q '^ok 14 - who: .*(21 checked, 0 failed)' "$tmp/out" &&
	ok "xmm v3: every exit names the run's kthread hvtrace/0 at CPL 0" ||
	not_ok "xmm v3: who checks missing or failed"
# --plan lists exactly the synchronous exits the real run made.
"$wlcheck" "$traces/mix-s42-n5" mix 42 5 > "$tmp/check" 2>&1
sync=$(sed -n 's/^# run .*exits (\([0-9]*\) synchronous.*/\1/p' "$tmp/check")
planned=$("$wlcheck" --plan mix 42 5 | tail -n +2 | wc -l)
[ -n "$sync" ] && [ "$planned" -eq "$sync" ] &&
	ok "--plan lists the $planned synchronous exits of the recorded run" ||
	not_ok "--plan lists $planned exits, the recorded run made '$sync'"
"$wlcheck" --plan mix 42 5 | tail -n 1 | grep -q ' END .*VMCALL' &&
	ok "--plan ends with the HVT_HC_END VMCALL" || not_ok "--plan: no END line last"
expect 2 "--plan with a bad workload" --plan nosuch 1 1
expect 1 "mix with another seed: no such run" "$traces/mix-s42-n5" mix 43 5
grep -q '^not ok 1 - session start' "$tmp/out" &&
	ok "another seed fails the session-start check" ||
	not_ok "another seed: session start not reported"
expect 1 "mix with other iterations: no such run" "$traces/mix-s42-n5" mix 42 4
expect 1 "a trace checked as another workload" "$traces/mix-s42-n5" cpuid 42 5
# Damage copies of the real trace, 7 bytes at a time across the stream:
# every damaged copy must be reported, as a failed check (1) or as an
# unreadable trace (2, one line on stderr), never pass.
caught=0 tried=0 missed=""
for off in 3000 6000 9000 12000 15000 18000 21000 24000; do
	rm -rf "$tmp/bad"
	cp -r "$traces/mix-s42-n5" "$tmp/bad"
	printf 'garbage' | dd of="$tmp/bad/kernel/wl_0" bs=1 seek=$off conv=notrunc 2> /dev/null
	"$wlcheck" "$tmp/bad" mix 42 5 > "$tmp/out" 2> "$tmp/err"
	rc=$?
	tried=$((tried + 1))
	if { [ $rc -eq 1 ] && grep -q '^not ok' "$tmp/out"; } ||
	   { [ $rc -eq 2 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ]; }; then
		caught=$((caught + 1))
	else
		missed="$missed $off(rc=$rc)"
	fi
done
[ $caught -eq $tried ] && ok "all $tried damaged copies of a real trace are reported" ||
	not_ok "damaged copies passed unnoticed at offsets:$missed"
cp -r "$traces/mix-s42-n5" "$tmp/short"
truncate -s 10000 "$tmp/short/kernel/wl_0"
expect 2 "a truncated real trace is unreadable" "$tmp/short" mix 42 5
[ "$(wc -l < "$tmp/err")" -eq 1 ] && ok "truncated trace: one line on stderr" ||
	not_ok "truncated trace: $(wc -l < "$tmp/err") lines on stderr"
expect 2 "unknown workload" "$traces/mix-s42-n5" nosuch 42 5
[ "$(wc -l < "$tmp/err")" -eq 1 ] && ok "unknown workload: one line on stderr" ||
	not_ok "unknown workload: $(wc -l < "$tmp/err") lines on stderr"
expect 2 "missing trace folder" "$tmp/none" mix 42 5
expect 2 "folder without a trace" "$tmp" mix 42 5
expect 2 "seed not a number" "$traces/mix-s42-n5" mix 4x2 5
expect 2 "negative seed" "$traces/mix-s42-n5" mix -1 5
expect 2 "zero iterations" "$traces/mix-s42-n5" mix 42 0
expect 2 "missing argument" "$traces/mix-s42-n5" mix 42
expect 0 "--help" --help
echo "1..$n"
[ "$failed" -eq 0 ]
