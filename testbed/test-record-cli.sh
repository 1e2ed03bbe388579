#!/bin/bash
# TAP: `hvtrace record` argument handling on any machine (no module, no
# session daemon needed): every bad input is one line on stderr and status 2,
# --help is status 0, and a missing /dev/hvtrace is explained.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
hvtrace=${HVT_BIN:-$top/build/bin/hvtrace}
n=0
failed=0
# expect STATUS PATTERN ARGS...: status, and (for errors) exactly one stderr
# line matching PATTERN.
expect() {
	local want=$1 pat=$2 err rc lines
	shift 2
	n=$((n + 1))
	err=$("$hvtrace" record "$@" 2>&1 > /dev/null)
	rc=$?
	lines=$(printf '%s' "$err" | grep -c '')
	if [ "$rc" -eq "$want" ] && { [ "$want" -eq 0 ] || { [ "$lines" -eq 1 ] && grep -q -- "$pat" <<< "$err"; }; }; then
		echo "ok $n - record $* -> status $want"
	else
		failed=$((failed + 1))
		echo "not ok $n - record $* -> status $want (got $rc)"
		printf '%s\n' "$err" | sed 's/^/# /'
	fi
}
expect 0 '' --help
expect 2 'workload NAME is required'
expect 2 "bad --seed 'x'" --workload cpuid --seed x
expect 2 "bad --seed '-1'" --workload cpuid --seed -1
expect 2 "bad --iterations '0'" --workload cpuid --iterations 0
expect 2 "bad --iterations '4294967297'" --workload cpuid --iterations 4294967297
expect 2 "bad --cpu '4294967296'" --workload cpuid --cpu 4294967296
expect 2 "bad --trap 'hlt,nope'" --workload cpuid --trap hlt,nope
expect 2 "bad --subbuf-size '3M'" --workload cpuid --subbuf-size 3M
expect 2 "bad --subbuf-size '1k'" --workload cpuid --subbuf-size 1k
expect 2 "bad --subbuf-size '4Q'" --workload cpuid --subbuf-size 4Q
expect 2 "bad --num-subbuf '3'" --workload cpuid --num-subbuf 3
expect 2 "bad workload name" --workload 0123456789012345678901234567890123456789
expect 2 "unknown option '--bogus'" --bogus
expect 2 "unexpected argument 'extra'" --workload cpuid extra
expect 2 "needs a value" --workload
expect 2 "bad --format 'xml'" --workload cpuid --format xml
# --kvm
expect 2 'needs either --duration S or -- COMMAND' --kvm
expect 2 'needs either --duration S or -- COMMAND' --kvm --duration 1 -- true
expect 2 "bad --duration '0'" --kvm --duration 0
expect 2 "bad --pid '0'" --kvm --pid 0 --duration 1
expect 2 "bad --reasons 'CPUID,NOPE'" --kvm --reasons CPUID,NOPE --duration 1
expect 2 "bad --reasons '128'" --kvm --reasons 128 --duration 1
expect 2 'no --workload or --list with it' --kvm --workload cpuid --duration 1
expect 2 'not available with --kvm' --kvm --format json --duration 1
expect 2 'go with --kvm' --workload cpuid --pid 7
expect 2 "the command goes after --" --kvm --duration 1 extra
if [ ! -e /dev/hvtrace ]; then
	expect 2 'cannot open /dev/hvtrace' --kvm --pid 7 --reasons cpuid,io_instruction,48 --duration 1
	expect 2 'cannot open /dev/hvtrace' --kvm -- true
fi
if [ ! -e /dev/hvtrace ]; then
	expect 2 'cannot open /dev/hvtrace' --list
	expect 2 'cannot open /dev/hvtrace' --workload cpuid --trap hlt,rdtsc --subbuf-size 1M --num-subbuf 4
fi
echo "1..$n"
[ "$failed" -eq 0 ]
