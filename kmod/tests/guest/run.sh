#!/bin/sh
# hvtrace.ko tests inside the Bochs guest (payload run.sh for
# testbed/guest-run.sh): TAP on stdout, evidence in /out.
#   /in/modules/hvtrace.ko, /in/modules/lttng-probe-hvtrace.ko, /in/bin/hvtctl
# HVT_KMOD_TESTS (in /in/env) selects: all (default) or novmx.
. /usr/lib/hvtrace-testbed/lib.sh
cd /in
[ -f /in/env ] && . /in/env
mode=${HVT_KMOD_TESTS:-all}
# (lib.sh's helpers use $n: the TAP counter has its own name)
tap_n=0
failed=0
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); failed=$((failed + 1)); echo "not ok $tap_n - $*"; }
# check NAME COMMAND...: one test from a command's status
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# field KEY: the value of KEY=... in the last hvtctl output (/tmp/run.out)
field() { tr ' ' '\n' < /tmp/run.out | sed -n "s/^$1=//p"; }
# run_wl ARGS...: hvtctl run, output in /tmp/run.out and /out/runs.log
run_wl() {
	hvtctl run "$@" > /tmp/run.out 2> /tmp/run.err
	rc=$?
	cat /tmp/run.out /tmp/run.err >> /out/runs.log
	return $rc
}
dmesg_has() { dmesg | grep -q "$1"; }

if [ "$mode" = novmx ]; then
	hvt_mark "kmod: no-VMX CPU: the module must refuse to load"
	insmod modules/hvtrace.ko 2> /tmp/insmod.err
	rc=$?
	cat /tmp/insmod.err
	check "insmod fails on a CPU without VMX" [ $rc -ne 0 ]
	check "the error is ENODEV (No such device)" grep -q "No such device" /tmp/insmod.err
	check "dmesg names the cause" dmesg_has "hvtrace: cpu 0: no VMX"
	check "nothing left loaded" sh -c '! grep -q "^hvtrace " /proc/modules'
	dmesg | grep hvtrace > /out/dmesg-hvtrace.txt
	echo "1..$tap_n"
	[ $failed -eq 0 ]
	exit
fi

hvt_mark "kmod: load"
# host_check=2: the host-state integrity check around every run and at
# every exit (kmod/host_state.c); any difference fails below.
check "insmod hvtrace.ko host_check=2" insmod modules/hvtrace.ko host_check=2
check "dmesg: loaded" dmesg_has "hvtrace: loaded, version"
check "/dev/hvtrace is a 0600 character device" \
	sh -c '[ -c /dev/hvtrace ] && [ "$(stat -c %a /dev/hvtrace)" = 600 ]'
hvtctl list > /out/workloads.txt
check "workload list includes the self-tests" grep -q "^selftest-cpuid " /out/workloads.txt

hvt_mark "kmod: simple runs"
run_wl selftest-cpuid -n 10
check "selftest-cpuid x10: status 0" [ "$(field status)" = 0 ]
check "selftest-cpuid x10: 11 exits (10 CPUID + VMCALL end)" [ "$(field exits)" = 11 ]
check "selftest-cpuid x10: last exit is VMCALL" grep -q "end_reason=0x12(VMCALL)" /tmp/run.out

ncpu=$(grep -c '^processor' /proc/cpuinfo)
echo "# $ncpu CPUs: $(grep -m1 'model name' /proc/cpuinfo)"

hvt_mark "kmod: host state"
# counter NAME: a value of hvtctl counters
counter() { hvtctl counters | sed -n "s/^$1 //p"; }
bin/hoststate ldt 0 20 > /tmp/hs.tap 2>&1
cat /tmp/hs.tap >> /out/hoststate.log
sed 's/^/# ldt: /' /tmp/hs.tap
check "an LDT process pinned to cpu 0 keeps its LDT selector across 20 runs" \
	sh -c '! grep -q "^not ok" /tmp/hs.tap && [ $(grep -c "^ok" /tmp/hs.tap) = 3 ]'
bin/hoststate hwbp 0 50 > /tmp/hs.tap 2>&1
rc=$?
cat /tmp/hs.tap >> /out/hoststate.log
sed 's/^/# hwbp: /' /tmp/hs.tap
if [ $rc = 3 ]; then
	ok "hardware breakpoints # SKIP this Bochs raises no debug-register breakpoints"
else
	check "hardware breakpoints: none fires in the guest, none of the host's is lost" \
		sh -c "[ $rc = 0 ] && [ \$(grep -c '^ok' /tmp/hs.tap) = 4 ]"
fi
run_wl selftest-xsetbv
st=$(field status)
check "guest CR4.OSXSAVE + XSETBV: refused (status -EFAULT), no oops" \
	sh -c "[ '$st' = -14 ] && ! dmesg | grep -q 'invalid opcode'"
run_wl selftest-tf
want=$(sed -n 's/^\([0-9a-f]*\) . hvt_st_tf_after_cpuid.*/\1/p' /proc/kallsyms)
st=$(field status)
check "TF over an emulated CPUID: #DB (qual BS) right after it, at hvt_st_tf_after_cpuid ($want)" \
	sh -c "[ -n '$want' ] && [ '$st' = -14 ] && dmesg | grep -q 'exit EXCEPTION_NMI (0) qual 0x4000 rip 0x$want'"
mce0=$(counter mce_forwarded)
run_wl selftest-mce -n 5
st=$(field status)/$(field exits)
check "injected machine check: forwarded once, the guest goes on (status 0, 7 exits: $st)" \
	sh -c "[ '$st' = 0/7 ] && [ $(counter mce_forwarded) = $((mce0 + 1)) ]"
run_wl selftest-vmxoff-fail -c 0
st=$(field status)
check "injected VMXOFF failure: status -EIO, CR4.VMXE left set, no #GP" \
	sh -c '[ '"$st"' = -5 ] && dmesg | grep -q "VMXOFF failed: VMfailInvalid; CPU left in VMX operation" && ! dmesg | grep -q "general protection"'
run_wl selftest-cpuid -c 0
check "the next run on that CPU is refused (EIO)" grep -q "Input/output error" /tmp/run.err
run_wl selftest-cpuid -c 0
check "after the injected failure the CPU works again" [ "$(field status)" = 0 ]
# A reboot (the notifier's teardown, triggered by the test parameter)
# ends a run in progress.
hvtctl run selftest-spin -n 100000 -c 0 > /tmp/bg.out 2>&1 &
bg=$!
sleep 1
echo 1 > /sys/module/hvtrace/parameters/selftest_reboot
wait $bg
cat /tmp/bg.out >> /out/runs.log
check "reboot notifier ends a run in progress (status -ESHUTDOWN)" grep -q "status=-108" /tmp/bg.out
if [ "$ncpu" -ge 2 ]; then
	hvtctl run selftest-mix -n 300 -c 0 > /tmp/c0.out 2>&1 &
	p0=$!
	hvtctl run selftest-mix -n 300 -c 1 > /tmp/c1.out 2>&1 &
	p1=$!
	wait $p0; r0=$?
	wait $p1; r1=$?
	check "runs on cpu 0 and cpu 1 at once: both status 0" \
		sh -c "[ $r0 = 0 ] && [ $r1 = 0 ] && grep -q 'status=0 ' /tmp/c0.out && grep -q 'status=0 ' /tmp/c1.out"
	bin/hoststate ldt 1 20 > /tmp/hs.tap 2>&1
	sed 's/^/# ldt cpu 1: /' /tmp/hs.tap
	check "the LDT test on cpu 1 too" sh -c '! grep -q "^not ok" /tmp/hs.tap && [ $(grep -c "^ok" /tmp/hs.tap) = 3 ]'
	hvtctl run selftest-spin -n 1000000 -c 1 > /tmp/bg.out 2>&1 &
	bg=$!
	sleep 1
	t0=$(date +%s)
	echo 0 > /sys/devices/system/cpu/cpu1/online
	t1=$(date +%s)
	wait $bg
	cat /tmp/bg.out >> /out/runs.log
	check "cpu 1 offline during a long run: the run ends with -ENODEV" grep -q "status=-19" /tmp/bg.out
	check "... and the offline completes promptly ($((t1 - t0)) s)" [ $((t1 - t0)) -le 60 ]
	echo 1 > /sys/devices/system/cpu/cpu1/online
	run_wl selftest-cpuid -c 1 -n 3
	check "cpu 1 back online: runs work there again" [ "$(field status)" = 0 ]
else
	not_ok "SMP tests need 2 CPUs (found $ncpu)"
fi
hc=$(counter host_checks)
hm=$(counter host_mismatches)
check "host-state check: made ($hc), and never found the host changed ($hm)" \
	sh -c "[ '${hc:-0}' -gt 100 ] && [ '$hm' = 0 ] && ! dmesg | grep -q 'host state changed'"
hvtctl counters > /out/counters-host.txt

hvt_mark "kmod: ftrace sees the tracepoints"
tr=/sys/kernel/tracing
if [ -d $tr/events/hvtrace ]; then
	cp $tr/events/hvtrace/hvtrace_exit/format /out/ftrace-hvtrace_exit.format
	check "ftrace format of hvtrace_exit has gpr[16], xmm[32], mxcsr" \
		sh -c 'grep -q "u64 gpr\[16\]" /out/ftrace-hvtrace_exit.format && grep -q "u64 xmm\[32\]" /out/ftrace-hvtrace_exit.format && grep -q "mxcsr" /out/ftrace-hvtrace_exit.format'
	echo 1 > $tr/events/hvtrace/enable
	: > $tr/trace
	run_wl selftest-cpuid -n 4
	echo 0 > $tr/events/hvtrace/enable
	cat $tr/trace > /out/ftrace.txt
	check "ftrace records 5 hvtrace_exit, 5 hvtrace_resume, 2 hvtrace_session" \
		sh -c '[ $(grep -c "hvtrace_exit:" /out/ftrace.txt) = 5 ] && [ $(grep -c "hvtrace_resume:" /out/ftrace.txt) = 5 ] && [ $(grep -c "hvtrace_session:" /out/ftrace.txt) = 2 ]'
else
	not_ok "tracefs has events/hvtrace"
fi

hvt_mark "kmod: argument validation"
hvtctl check-args > /out/check-args.tap 2>&1
sed 's/^/# check-args: /' /out/check-args.tap
check "check-args: every bad argument gets its errno" \
	sh -c '! grep -q "^not ok" /out/check-args.tap && grep -q "^1\.\." /out/check-args.tap'

hvt_mark "kmod: error paths"
run_wl selftest-triple-fault
check "triple fault: status -EFAULT" [ "$(field status)" = -14 ]
check "triple fault: end reason TRIPLE_FAULT" grep -q "end_reason=0x2(TRIPLE_FAULT)" /tmp/run.out
run_wl selftest-unhandled
check "unhandled MONITOR: status -EFAULT" [ "$(field status)" = -14 ]
check "unhandled MONITOR: end reason MONITOR" grep -q "(MONITOR)" /tmp/run.out
check "unhandled exit logged with its name" dmesg_has "unhandled exit reason: exit MONITOR"
run_wl selftest-entry-fail
check "invalid guest state: status -EIO" [ "$(field status)" = -5 ]
check "invalid guest state: VM-entry failure exit 0x80000021" grep -q "end_reason=0x80000021(ENTRY_FAIL_GUEST_STATE)" /tmp/run.out
run_wl selftest-vmfail
check "invalid control: status -EIO, no exit" [ "$(field status)/$(field exits)" = -5/0 ]
check "invalid control: VM-instruction error 7" [ "$(field vm_insn_error)" = 7 ]
check "VMLAUNCH failure logged with its error" dmesg_has "VMLAUNCH failed (VMfailValid), VM-instruction error 7"
hvtctl counters > /tmp/counters.txt
check "counters: entry_failures and vmx_failures counted" \
	sh -c 'grep -q "^entry_failures [1-9]" /tmp/counters.txt && grep -q "^vmx_failures [1-9]" /tmp/counters.txt'
run_wl selftest-spin -n 30
check "spin: completes with status 0" [ "$(field status)" = 0 ]
hvtctl counters > /out/counters-after-spin.txt
check "spin: preemption-timer exits happened" grep -q "^reason PREEMPTION_TIMER " /out/counters-after-spin.txt

hvt_mark "kmod: busy CPU and signal"
# A long run in the background (background jobs of a non-interactive shell
# ignore SIGINT: SIGTERM is the signal that reaches it).
hvtctl run selftest-spin -n 100000 > /out/bg.out 2>&1 &
bg=$!
# let it reach its run before probing (the probe itself could win the race)
sleep 0.5
busy=no
i=0
while [ $i -lt 100 ] && kill -0 $bg 2>/dev/null; do
	if hvtctl run selftest-cpuid > /tmp/busy.out 2>&1; then
		sleep 0.05
	elif grep -q "Device or resource busy" /tmp/busy.out; then
		busy=yes
		break
	fi
	i=$((i + 1))
done
check "second run on a busy CPU: EBUSY" [ $busy = yes ]
kill -TERM $bg
i=0
while kill -0 $bg 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
check "SIGTERM stops a long run promptly" sh -c "! kill -0 $bg 2>/dev/null"
check "interrupted run reports -EINTR in dmesg" dmesg_has "workload selftest-spin, [0-9]* exits, status -4,"

hvt_mark "kmod: LTTng recording"
if hvt_start_sessiond hvtrace; then
	ok "lttng-sessiond with --extra-kmod-probes=hvtrace"
	if ! lttng list -k 2>/dev/null | grep -q hvtrace_exit; then
		echo "# the session daemon did not load lttng-probe-hvtrace; modprobe it"
		modprobe lttng-probe-hvtrace > /out/modprobe-probe.txt 2>&1
	fi
	lttng list -k > /out/lttng-list-k.txt 2>&1
	check "LTTng knows hvtrace_exit, hvtrace_resume, hvtrace_session" \
		sh -c 'for e in exit resume session; do grep -q "hvtrace_$e " /out/lttng-list-k.txt || exit 1; done' 
	lttng create k1 --output=/out/trace > /dev/null
	lttng enable-channel -k --subbuf-size=1M --num-subbuf=8 k1chan > /dev/null
	lttng enable-event -k -c k1chan 'hvtrace_*' > /out/lttng-enable.txt 2>&1
	lttng start > /dev/null
	run_wl selftest-mix -n 3 -s 7
	check "selftest-mix under LTTng: status 0" [ "$(field status)" = 0 ]
	# the same run again: the host compares the two (determinism)
	run_wl selftest-mix -n 3 -s 7
	for wl in $(cut -d' ' -f1 /out/workloads.txt | grep -v '^selftest'); do
		run_wl "$wl" -n 2 -s 42
		echo "# $wl: $(cat /tmp/run.out)"
	done
	run_wl selftest-triple-fault
	lttng stop > /dev/null
	lttng destroy > /dev/null
	check "trace written" [ -f /out/trace/kernel/metadata ]
	lsmod > /out/lsmod.txt
	check "probe module loaded" grep -q "^lttng_probe_hvtrace" /out/lsmod.txt
else
	not_ok "lttng-sessiond with --extra-kmod-probes=hvtrace"
fi
hvtctl counters > /out/counters.txt

hvt_mark "kmod: unload"
check "rmmod hvtrace" rmmod hvtrace
check "unload reports 0 allocations outstanding" dmesg_has "hvtrace: unloaded, 0 allocations outstanding"

hvt_mark "kmod: 50 load/run/unload cycles"
cyc=0
i=0
while [ $i -lt 50 ]; do
	i=$((i + 1))
	insmod modules/hvtrace.ko || break
	run_wl selftest-cpuid -n 3 || break
	[ "$(field exits)" = 4 ] || break
	rmmod hvtrace || break
	cyc=$((cyc + 1))
done
check "50 load/run/unload cycles completed ($cyc)" [ $cyc -eq 50 ]
clean=$(dmesg | grep -c "hvtrace: unloaded, 0 allocations outstanding")
check "every unload left 0 allocations ($clean of 51)" [ "$clean" -eq 51 ]
vmxe=$(dmesg | grep -c "CR4.VMXE clear")
runs=$(dmesg | grep -c "hvtrace: run [0-9]* on cpu")
# (but the one whose VMXOFF failure was injected, which keeps it set)
check "CR4.VMXE clear after every run ($vmxe of $runs, 1 injected failure)" \
	[ "$vmxe" -eq $((runs - 1)) ]
check "no warning, BUG or lockup in dmesg since the first load" \
	sh -c 'dmesg | sed -n "/hvtrace: loaded/,\$p" | grep -E "WARNING:|BUG:|soft lockup|rcu_sched self-detected|rcu: INFO|general protection" > /out/dmesg-problems.txt; [ ! -s /out/dmesg-problems.txt ]'

dmesg | grep hvtrace > /out/dmesg-hvtrace.txt
echo "1..$tap_n"
[ $failed -eq 0 ]
