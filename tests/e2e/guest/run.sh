#!/bin/sh
# Payload run.sh (testbed/guest-run.sh) of tests/e2e/run-workloads.sh:
# loads hvtrace.ko, records each workload of /in/env's WORKLOADS in its own
# LTTng session (/out/traces/WORKLOAD), runs it with SEED and ITERATIONS
# through hvtctl, and keeps hvtctl's answer in /out/runs/WORKLOAD.txt.
# REPEAT=2 records every run a second time (WORKLOAD.2) for seed parity.
# The traces are checked on the host by hvtrace-wlcheck.
. /usr/lib/hvtrace-testbed/lib.sh
cd /in
. /in/env
mkdir -p /out/traces /out/runs
hvt_mark "e2e: load hvtrace.ko"
# HVT_INSMOD_ARGS e.g. slice_us=20: frequent preemption-timer exits
# (asynchronous) between and inside the workloads' operations.
insmod modules/hvtrace.ko ${HVT_INSMOD_ARGS:-} ||
	{ echo "insmod hvtrace.ko failed"; exit 1; }
hvtctl list > /out/workloads.txt
hvt_start_sessiond hvtrace || { echo "lttng-sessiond did not start"; exit 1; }
lsmod > /out/lsmod.txt
lttng list -k > /out/lttng-list-k.txt 2>&1
if ! grep -q hvtrace_exit /out/lttng-list-k.txt; then
	# Say why the probe is missing, then try loading it by hand.
	echo "lttng does not list hvtrace_exit; loading lttng-probe-hvtrace"
	modprobe lttng-probe-hvtrace 2>&1 | tee /out/modprobe-probe.txt
	dmesg | tail -n 20 > /out/dmesg-after-probe.txt
	lttng list -k > /out/lttng-list-k.txt 2>&1
	grep -q hvtrace_exit /out/lttng-list-k.txt ||
		echo "lttng still does not list hvtrace_exit"
fi
failed=0
# record NAME WORKLOAD: one LTTng session around one hvtctl run
record() {
	name=$1 wl=$2
	hvt_mark "e2e: $name: $wl seed $SEED iterations $ITERATIONS"
	lttng create "e2e-$name" --output="/out/traces/$name" > /dev/null || failed=1
	# Large sub-buffers: a run is a burst of full-state events and kernel
	# channels discard what does not fit.
	lttng enable-channel -k --subbuf-size=4M --num-subbuf=8 wl \
		>> /out/lttng.log 2>&1 || failed=1
	lttng enable-event -k -c wl 'hvtrace_*' >> /out/lttng.log 2>&1 || failed=1
	lttng start >> /out/lttng.log 2>&1 || failed=1
	hvtctl run "$wl" -s "$SEED" -n "$ITERATIONS" > "/out/runs/$name.txt" 2>&1
	echo "rc=$?" >> "/out/runs/$name.txt"
	lttng stop > /dev/null
	lttng destroy > /dev/null
	cat "/out/runs/$name.txt"
}
for wl in $WORKLOADS; do
	record "$wl" "$wl"
	[ "${REPEAT:-1}" -ge 2 ] && record "$wl.2" "$wl"
done
dmesg | grep hvtrace > /out/dmesg-hvtrace.txt
rmmod hvtrace || failed=1
exit $failed
