#!/bin/sh
# hvtrace end-to-end scenario, run inside the Bochs guest by testbed/guest-run.sh
# (payload run.sh).  /in/env sets SEED, SEED2, ITERATIONS, MIX_ITERATIONS,
# CYCLES.  Everything the host checks is written under /out:
#   traces/<workload>/       one LTTng trace per workload (hvtrace record)
#   traces/mix-{a,b,c}/      mix with SEED, SEED again, SEED2
#   error-traces/triplefault the run that must end with an error
#   logs/record-*.txt        record's output and "rc=N" per run
#   logs/cycles.txt          one line per load/run/unload cycle
#   dmesg-raw.txt            dmesg with log levels
# The script goes on after a failure (the host judges every step); it exits
# non-zero only when it could not start at all.
. /usr/lib/hvtrace-testbed/lib.sh
cd /in || exit 2
. /in/env
mkdir -p /out/traces /out/error-traces /out/logs

# record NAME ARGS...: hvtrace record into /out/traces/NAME, log + status.
record() {
	name=$1
	dir=$2
	shift 2
	hvt_mark "record $name: $*"
	hvtrace record "$@" --output "$dir/$name" > "/out/logs/record-$name.txt" 2>&1
	echo "rc=$?" >> "/out/logs/record-$name.txt"
	tail -n 4 "/out/logs/record-$name.txt"
}

hvt_mark "load hvtrace.ko"
# host_check=2: the host-state integrity check around every run and at
# every exit; e2e-check.sh requires it made and never failed.
modprobe hvtrace host_check=2
echo "rc=$?" > /out/logs/modprobe.txt
[ -c /dev/hvtrace ] || { echo "hvtrace.ko did not load"; exit 2; }
grep -E '^(hvtrace|lttng_probe_hvtrace) ' /proc/modules > /out/logs/modules-loaded.txt
hvt_start_sessiond hvtrace || { echo "lttng-sessiond did not start"; exit 2; }
grep -E '^(hvtrace|lttng_probe_hvtrace) ' /proc/modules >> /out/logs/modules-loaded.txt

hvtrace record --list > /out/workloads.txt 2> /out/logs/list.err
echo "rc=$?" >> /out/logs/list.err
for wl in $(awk '{ print $1 }' /out/workloads.txt); do
	case $wl in
	# The failing run is recorded below; selftest-* are the module's own
	# bring-up checks (kmod/tests), not trace workloads.
	triplefault|selftest-*) ;;
	*) record "$wl" /out/traces --workload "$wl" --seed "$SEED" --iterations "$ITERATIONS" ;;
	esac
done
# The same cpuid run again, its result as JSON for programs.
hvt_mark "record cpuid --format json"
hvtrace record --workload cpuid --seed "$SEED" --iterations "$ITERATIONS" --format json \
	--output /out/json-traces/cpuid > /out/logs/record-cpuid.json 2> /out/logs/record-cpuid-json.err
echo "rc=$?" >> /out/logs/record-cpuid-json.err
record mix-a /out/traces --workload mix --seed "$SEED" --iterations "$MIX_ITERATIONS"
record mix-b /out/traces --workload mix --seed "$SEED" --iterations "$MIX_ITERATIONS"
record mix-c /out/traces --workload mix --seed "$SEED2" --iterations "$MIX_ITERATIONS"
record triplefault /out/error-traces --workload triplefault --seed "$SEED" --iterations 1
# Ctrl-C during a long run: the run ends early (-EINTR), the session is
# stopped and destroyed, the trace so far is kept.  2000 selftest-spin
# iterations take about 1.5 s of guest time: 20000 outlast the signal 2 s in,
# and stay bounded (about 15 s of guest time) should the interruption fail.
hvt_mark "record interrupted by SIGINT"
hvtrace record --workload selftest-spin --seed 1 --iterations 20000 \
	--output /out/error-traces/interrupted > /out/logs/record-interrupted.txt 2>&1 &
rp=$!
sleep 2
kill -INT "$rp"
wait "$rp"
echo "rc=$?" >> /out/logs/record-interrupted.txt
lttng list > /out/logs/sessions-after-interrupt.txt 2>&1
# Bad input: an unknown workload, an existing non-empty output folder.
hvtrace record --workload no-such-workload --output /tmp/x > /out/logs/bad-workload.txt 2>&1
echo "rc=$?" >> /out/logs/bad-workload.txt
hvtrace record --workload cpuid --output /out/traces/cpuid > /out/logs/bad-output.txt 2>&1
echo "rc=$?" >> /out/logs/bad-output.txt
hvtctl counters > /out/logs/counters.txt 2>&1

# Without a session daemon the verb must refuse clearly.
hvt_mark "stop lttng-sessiond"
kill "$(pidof lttng-sessiond)" 2> /dev/null
n=0
while pidof lttng-sessiond > /dev/null && [ $n -lt 300 ]; do
	sleep 0.1
	n=$((n + 1))
done
hvtrace record --workload cpuid --output /tmp/nosessiond > /out/logs/no-sessiond.txt 2>&1
echo "rc=$?" >> /out/logs/no-sessiond.txt
rmmod lttng-probe-hvtrace 2> /dev/null
rmmod hvtrace
echo "rc=$?" > /out/logs/rmmod.txt
hvtrace record --list > /out/logs/no-module.txt 2>&1
echo "rc=$?" >> /out/logs/no-module.txt

# Load/run/unload cycles: every step's status, and whether the module is
# still listed afterwards.
hvt_mark "$CYCLES load/run/unload cycles"
: > /out/logs/cycles.txt
i=1
while [ $i -le "$CYCLES" ]; do
	insmod /in/modules/hvtrace.ko
	l=$?
	hvtctl run cpuid -s "$i" -n 2 > /dev/null 2>&1
	r=$?
	rmmod hvtrace
	u=$?
	if grep -q '^hvtrace ' /proc/modules; then listed=yes; else listed=no; fi
	echo "cycle $i load=$l run=$r unload=$u listed=$listed" >> /out/logs/cycles.txt
	i=$((i + 1))
done
hvt_mark "cycles done"
dmesg -r > /out/dmesg-raw.txt
exit 0
