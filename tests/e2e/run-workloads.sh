#!/bin/bash
# Run sandbox workloads under LTTng inside Bochs and check every trace
# against its plan with hvtrace-wlcheck.  TAP on stdout (one test point per
# workload, each followed by the checker's own TAP lines as diagnostics).
#
# usage: tests/e2e/run-workloads.sh [--seed S] [--iterations N] [--out DIR]
#            [--timeout SEC] [--twice] [--slice-us US] [WORKLOAD...]
# --twice records every workload a second time in the same boot, checks
# that trace too, and requires `hvtrace diff` to call the two the same
# (seed parity: only the fields schemas/ names as nondeterministic differ).
# --slice-us US loads hvtrace.ko with slice_us=US: a short slice makes
# preemption-timer exits (asynchronous) fall between and inside operations.
# Default: every workload, seed 42, 20 iterations, out build/e2e-workloads.
# Needs: kmod/hvtrace.ko and kmod/lttng-probe-hvtrace.ko (make -C kmod
# LTTNG_SRC=...), kmod/tools/hvtctl, build/bin/hvtrace-wlcheck; override
# with HVT_KMOD_DIR, HVT_HVTCTL, HVT_WLCHECK.
# Exit status: 0 all pass, 1 a check failed, 2 bad usage or the run failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
prog=run-workloads
seed=42
iters=20
out=$top/build/e2e-workloads
timeout_s=3000
twice=no
slice=""
wls=()
die() { echo "$prog: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--seed) seed=${2:-}; shift 2 || die "--seed needs a value" ;;
	--iterations) iters=${2:-}; shift 2 || die "--iterations needs a value" ;;
	--out) out=${2:-}; shift 2 || die "--out needs a value" ;;
	--timeout) timeout_s=${2:-}; shift 2 || die "--timeout needs a value" ;;
	--twice) twice=yes; shift ;;
	--slice-us) slice=${2:-}; shift 2 || die "--slice-us needs a value" ;;
	-h|--help) sed -n 's/^# usage: //p; s/^#            /    /p' "$0"; exit 0 ;;
	-*) die "unknown option '$1'" ;;
	*) wls+=("$1"); shift ;;
	esac
done
[[ $seed =~ ^[0-9]+$ ]] || die "bad --seed '$seed'"
[[ $iters =~ ^[0-9]+$ ]] && [ "$iters" -ge 1 ] || die "bad --iterations '$iters'"
[ -z "$slice" ] || [[ $slice =~ ^[0-9]+$ ]] || die "bad --slice-us '$slice'"
kmod=${HVT_KMOD_DIR:-$top/kmod}
hvtctl=${HVT_HVTCTL:-$top/kmod/tools/hvtctl}
wlcheck=${HVT_WLCHECK:-$top/build/bin/hvtrace-wlcheck}
hvtrace=${HVT_HVTRACE:-$top/build/bin/hvtrace}
need=("$kmod/hvtrace.ko" "$kmod/lttng-probe-hvtrace.ko" "$hvtctl" "$wlcheck")
[ "$twice" = yes ] && need+=("$hvtrace")
for f in "${need[@]}"; do
	[ -f "$f" ] || die "missing $f (build it first)"
done
if [ ${#wls[@]} -eq 0 ]; then
	mapfile -t wls < <("$wlcheck" --help | sed -n 's/^Workloads: //p' | tr ' ' '\n')
fi
for wl in "${wls[@]}"; do
	[[ $wl =~ ^[a-z0-9_-]+$ ]] || die "bad workload name '$wl'"
done

payload=$(mktemp -d "${TMPDIR:-/tmp}/hvt-e2e-payload.XXXXXX")
trap 'rm -rf "$payload"' EXIT
mkdir -p "$payload/modules" "$payload/bin"
cp "$kmod/hvtrace.ko" "$kmod/lttng-probe-hvtrace.ko" "$payload/modules/"
cp "$hvtctl" "$payload/bin/hvtctl"
cp "$here/guest/run.sh" "$payload/run.sh"
printf 'WORKLOADS="%s"\nSEED=%s\nITERATIONS=%s\nREPEAT=%s\n' "${wls[*]}" \
	"$seed" "$iters" "$([ $twice = yes ] && echo 2 || echo 1)" > "$payload/env"
[ -n "$slice" ] && echo "HVT_INSMOD_ARGS=slice_us=$slice" >> "$payload/env"
rm -rf "$out"
"$top/testbed/guest-run.sh" --payload "$payload" --out "$out" \
	--timeout "$timeout_s" >&2
grc=$?
[ "$grc" -le 1 ] || die "the Bochs run failed (status $grc); see $out"

n=0
failed=0
runs=()
for wl in "${wls[@]}"; do
	runs+=("$wl")
	[ "$twice" = yes ] && runs+=("$wl.2")
done
ntests=${#runs[@]}
[ "$twice" = yes ] && ntests=$((ntests + ${#wls[@]}))
echo "1..$ntests"
for run in "${runs[@]}"; do
	wl=${run%.2}
	n=$((n + 1))
	log=$out/check-$run.tap
	if [ -d "$out/traces/$run" ]; then
		"$wlcheck" "$out/traces/$run" "$wl" "$seed" "$iters" > "$log" 2>&1
		rc=$?
	else
		echo "no trace for $run" > "$log"
		rc=2
	fi
	if [ "$rc" -eq 0 ]; then
		echo "ok $n - $run seed $seed iterations $iters: trace matches the plan"
	else
		echo "not ok $n - $run seed $seed iterations $iters: checker status $rc"
		failed=$((failed + 1))
	fi
	sed 's/^/# /' "$log"
	if [ "$twice" = yes ] && [ "$run" != "$wl" ]; then
		n=$((n + 1))
		"$hvtrace" diff "$out/traces/$wl" "$out/traces/$run" > "$out/diff-$wl.txt" 2>&1
		rc=$?
		if [ "$rc" -eq 0 ]; then
			echo "ok $n - $wl: two runs with seed $seed diff as the same"
		else
			echo "not ok $n - $wl: hvtrace diff of the two runs, status $rc"
			failed=$((failed + 1))
		fi
		sed 's/^/# /' "$out/diff-$wl.txt" | head -n 30
	fi
done
[ "$failed" -eq 0 ]
