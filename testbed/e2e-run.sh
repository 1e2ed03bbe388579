#!/bin/bash
# The end-to-end Bochs run: builds the payloads from the built tree, boots
# the scenario (testbed/e2e/guest.sh) on a VMX CPU and, at the same time, the
# negative boot (testbed/e2e/novmx.sh) on a CPU without VMX, and leaves:
#   build/e2e/latest/            the scenario's /out: traces/<workload>/,
#                                error-traces/, logs/, dmesg.txt, serial.log
#   build/e2e/latest/novmx/      the negative boot's /out
#   build/e2e/latest/inputs.sha  what the run was made from
# A run whose inputs (modules, hvtrace, hvtctl, scripts, parameters) have not
# changed is not repeated unless --force is given.
#
# usage: testbed/e2e-run.sh [--force] [--quiet] [--no-retry]
#   --no-retry: when the last boot with the same inputs failed, fail at once
#   (e2e-check.sh uses it so that one failure is not booted twice)
# Needs: kmod/hvtrace.ko, kmod/lttng-probe-hvtrace.ko, kmod/tools/hvtctl,
#        build/bin/hvtrace (make kmod hvtctl analyzer); override with
#        HVT_KMOD_DIR, HVT_HVTCTL, HVT_BIN.
# Exit status: 0 both boots finished (the checks are e2e-check.sh's job),
# 2 a boot failed or an input is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
prog=e2e-run
die() { echo "$prog: $*" >&2; exit 2; }

force=no
quiet=
retry=yes
while [ $# -gt 0 ]; do
	case $1 in
	--force) force=yes ;;
	--quiet) quiet=--quiet ;;
	--no-retry) retry=no ;;
	*) die "unknown option '$1' (usage: e2e-run.sh [--force] [--quiet] [--no-retry])" ;;
	esac
	shift
done

kmod=${HVT_KMOD_DIR:-$top/kmod}
hvtctl=${HVT_HVTCTL:-$top/kmod/tools/hvtctl}
hvtrace=${HVT_BIN:-$top/build/bin/hvtrace}
for f in "$kmod/hvtrace.ko" "$kmod/lttng-probe-hvtrace.ko" "$hvtctl" "$hvtrace"; do
	[ -f "$f" ] || die "missing $f (make kmod hvtctl analyzer)"
done

# Scenario parameters (the host checks read them back from env).
params="SEED=${HVT_E2E_SEED:-42}
SEED2=${HVT_E2E_SEED2:-4242}
ITERATIONS=${HVT_E2E_ITERATIONS:-20}
MIX_ITERATIONS=${HVT_E2E_MIX_ITERATIONS:-200}
CYCLES=${HVT_E2E_CYCLES:-50}"

# The cached kernel, LTTng modules and base image first: the payload leaves
# out the libraries the base image has, and the two boots below then do not
# wait on the same build.  (The base image is part of the inputs below.)
"$top/testbed/fetch-kernel.sh" "$top/build/cache/kernel" >&2
"$top/testbed/build-lttng.sh" "$top/build/cache/kernel" "$top/build/cache/lttng-build" >&2
"$top/testbed/mkbase.sh" "$top/build/cache/kernel" "$top/build/cache/lttng-build" \
	"$top/build/cache/testbed-base" >&2

res=$top/build/e2e
latest=$res/latest
mkdir -p "$res"
inputs=$( {
	sha256sum "$kmod/hvtrace.ko" "$kmod/lttng-probe-hvtrace.ko" "$hvtctl" "$hvtrace" \
		"$here/e2e/guest.sh" "$here/e2e/novmx.sh" "$here/guest-run.sh" | cut -d' ' -f1
	cat "$top/build/cache/testbed-base/.stamp" 2> /dev/null || true
	echo "$params"
} | sha256sum | cut -c1-32)
if [ "$force" = no ] && [ -f "$latest/inputs.sha" ] &&
   [ "$(cat "$latest/inputs.sha")" = "$inputs" ] && [ -f "$latest/novmx/alive.txt" ]; then
	echo "$prog: results in $latest are current (same modules, tools and scripts); not booting again" >&2
	touch "$latest/inputs.sha"	# for make e2e: results valid for this run
	exit 0
fi
if [ "$force" = no ] && [ "$retry" = no ] && [ -f "$res/failed.sha" ] &&
   [ "$(cat "$res/failed.sha")" = "$inputs" ]; then
	die "the last boot with these inputs failed (see $latest); run testbed/e2e-run.sh to retry"
fi

work=$(mktemp -d "$res/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
for p in main novmx; do
	mkdir -p "$work/$p/modules"
	cp "$kmod/hvtrace.ko" "$work/$p/modules/"
done
cp "$kmod/lttng-probe-hvtrace.ko" "$work/main/modules/"
"$here/payload-add-bin.sh" "$work/main" "$hvtrace" "$hvtctl"
cp "$here/e2e/guest.sh" "$work/main/run.sh"
echo "$params" > "$work/main/env"
cp "$here/e2e/novmx.sh" "$work/novmx/run.sh"

start=$(date +%s)
"$here/guest-run.sh" --payload "$work/novmx" --out "$work/out-novmx" \
	--cpu-model p4_prescott_celeron_336 --mem 256 --timeout 900 --quiet \
	> "$work/novmx.log" 2>&1 &
npid=$!
set +e
"$here/guest-run.sh" --payload "$work/main" --out "$work/out-main" --timeout 3600 $quiet
mrc=$?
wait "$npid"
nrc=$?
set -e
elapsed=$(( $(date +%s) - start ))

rm -rf "$latest"
mkdir -p "$latest"
[ -d "$work/out-main" ] && cp -a "$work/out-main/." "$latest/"
mkdir -p "$latest/novmx"
[ -d "$work/out-novmx" ] && cp -a "$work/out-novmx/." "$latest/novmx/"
cp "$work/novmx.log" "$latest/novmx/guest-run.log"
echo "$params" > "$latest/env"
printf 'main=%s novmx=%s seconds=%s\n' "$mrc" "$nrc" "$elapsed" > "$latest/boot-status.txt"
if [ "$mrc" -ne 0 ] || [ "$nrc" -ne 0 ]; then
	[ "$nrc" -eq 0 ] || sed 's/^/novmx: /' "$work/novmx.log" | tail -n 30 >&2
	echo "$inputs" > "$res/failed.sha"
	die "a boot failed (scenario status $mrc, negative boot status $nrc); see $latest"
fi
echo "$inputs" > "$latest/inputs.sha"
rm -f "$res/failed.sha"
echo "$prog: both boots finished in ${elapsed}s; results in $latest" >&2
