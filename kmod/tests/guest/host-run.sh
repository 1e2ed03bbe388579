#!/bin/sh
# Host mode inside the Bochs guest (payload run.sh of kmod/tests/bochs-host.sh):
# TAP on stdout, evidence in /out.
#   /in/modules/hvtrace.ko, /in/bin/hostmode
. /usr/lib/hvtrace-testbed/lib.sh
cd /in
tap_n=0
failed=0
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); failed=$((failed + 1)); echo "not ok $tap_n - $*"; }
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# kv KEY FILE: the value of KEY=... in FILE
kv() { tr ' ' '\n' < "$2" | sed -n "s/^$1=//p" | tail -n 1; }
dmesg_has() { dmesg | grep -q "$1"; }
# checkx NAME EXPR: one test from a shell expression
checkx() {
	if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

ncpu=$(grep -c '^processor' /proc/cpuinfo)
echo "# $ncpu CPUs: $(grep -m1 'model name' /proc/cpuinfo)"
grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'vmx|vpid|pcid|invpcid|pti|xsave|xsaves' | tr '\n' ' ' | sed 's/^/# flags: /'
echo
mask=$(( (1 << ncpu) - 1 ))
mask=$(printf '%#x' $mask)

hvt_mark "host: load"
check "insmod hvtrace.ko" insmod modules/hvtrace.ko
check "$ncpu CPUs online" [ "$ncpu" -ge 2 ]

hvt_mark "host: known CPUID leaves, native"
bin/hostmode cpuid -n 20 > /out/cpuid-native.txt
check "native run of the CPUID program" [ -s /out/cpuid-native.txt ]
bin/hostmode cpuid > /out/cpuid-native-1.txt

hvt_mark "host: the same program with every CPU virtualized (ftrace on)"
tr=/sys/kernel/tracing
echo 8192 > $tr/buffer_size_kb
: > $tr/trace
echo 1 > $tr/events/hvtrace/enable
bin/hostmode run -- sh -c 'echo $$ > /out/cpuid.pid; exec bin/hostmode cpuid -n 20' \
	> /out/cpuid-virt.txt 2> /out/run1.err
rc=$?
echo 0 > $tr/events/hvtrace/enable
cat $tr/trace > /out/ftrace-run1.txt
cat /out/run1.err
check "hostmode run exits 0" [ $rc -eq 0 ]
check "every CPU virtualized ($mask)" grep -q "virtualized=$mask" /out/run1.err
check "the CPUID program prints the same with and without hvtrace" \
	cmp /out/cpuid-native.txt /out/cpuid-virt.txt
insn=$(kv cpuid_insn /out/cpuid-virt.txt)
want=$(kv cpuid_count /out/cpuid-virt.txt)
got=$(grep "hvtrace_exit:" /out/ftrace-run1.txt | grep -c "reason=0xa .*rip=$insn\$")
check "exactly $want CPUID exits at the program's CPUID instruction $insn ($got)" \
	[ "$got" = "$want" ]
cpus_seen=$(grep "hvtrace_exit:" /out/ftrace-run1.txt | grep "rip=$insn\$" | sed -n 's/.*vcpu=\([0-9]*\) .*/\1/p' | sort -u | wc -l)
check "those exits come from all $ncpu CPUs ($cpus_seen)" [ "$cpus_seen" = "$ncpu" ]
cpid=$(cat /out/cpuid.pid)
got=$(grep "hvtrace_exit:" /out/ftrace-run1.txt | grep -c "pid=$cpid tid=$cpid comm=hostmode cpl=3 reason=0xa .*rip=$insn\$")
check "each says who: pid $cpid, comm hostmode, CPL 3 (user) ($got)" [ "$got" = "$want" ]
nexit=$(grep -c "hvtrace_exit:" /out/ftrace-run1.txt)
nres=$(grep -c "hvtrace_resume:" /out/ftrace-run1.txt)
checkx "one resume per exit in the trace ($nexit exits, $nres resumes)" \
	'[ "$nexit" -gt 0 ] && [ "$nexit" = "$nres" ]'
traced=$(kv traced /out/run1.err)
check "the session traced what ftrace holds ($traced)" [ "$traced" = "$nexit" ]
checkx "no exit dropped or filtered" \
	'[ "$(kv dropped /out/run1.err)" = 0 ] && [ "$(kv filtered /out/run1.err)" = 0 ]'
check "host state identical across (de)virtualization (2 checks per CPU)" \
	sh -c "[ \"$(kv host_mismatches /out/run1.err)\" = 0 ] && [ \"$(kv host_checks /out/run1.err)\" = $((2 * ncpu)) ]"
check "session events START and END per CPU" \
	[ "$(grep -c 'hvtrace_session:' /out/ftrace-run1.txt)" = $((2 * ncpu)) ]

hvt_mark "host: one session at a time"
bin/hostmode busy > /out/busy.txt 2>&1
rc=$?
cat /out/busy.txt
check "a second session is refused with EBUSY and only the owner ends it" [ $rc -eq 0 ]

hvt_mark "host: a killed owner gives the CPUs back (the session ends with its file)"
ended0=$(dmesg | grep -c "hvtrace: host session [0-9]* ended")
bin/hostmode run -- sh -c 'kill -9 $PPID; sleep 1' 2> /out/run-killed.err
ended1=$(dmesg | grep -c "hvtrace: host session [0-9]* ended")
bin/hostmode run -- true 2> /out/run-after-kill.err
rc=$?
checkx "SIGKILL of the owner ended its session; the next one starts" \
	'[ "$ended1" = $((ended0 + 1)) ] && [ $rc -eq 0 ] && [ "$(kv host_mismatches /out/run-after-kill.err)" = 0 ]'

hvt_mark "host: 50 virtualize/devirtualize cycles, a busy program on each CPU"
spins=""
c=0
while [ $c -lt "$ncpu" ]; do
	bin/hostmode spin 100000 $c &
	spins="$spins $!"
	c=$((c + 1))
done
bin/hostmode cycles 50 > /out/cycles.tap 2>&1
rc=$?
alive=0
for p in $spins; do
	kill -0 $p 2>/dev/null && alive=$((alive + 1))
done
kill $spins 2>/dev/null
wait 2>/dev/null
sed -n '1p;$p' /out/cycles.tap | sed 's/^/# /'
okc=$(grep -c '^ok' /out/cycles.tap)
checkx "50 cycles, each with every CPU virtualized, CPUID exits counted and the host-state check passing ($okc ok)" \
	'[ $rc -eq 0 ] && [ "$okc" = 50 ]'
check "the $ncpu busy programs (one pinned on each CPU) ran through all 50 cycles ($alive alive)" \
	[ "$alive" = "$ncpu" ]
grep '^not ok' /out/cycles.tap | head -n 5 | sed 's/^/# /'

hvt_mark "host: LTTng records a host session with the full register state"
if hvt_start_sessiond hvtrace; then
	lttng list -k 2>/dev/null | grep -q hvtrace_exit ||
		modprobe lttng-probe-hvtrace > /out/modprobe-probe.txt 2>&1
	lttng create h1 --output=/out/trace > /dev/null
	lttng enable-channel -k --subbuf-size=1M --num-subbuf=8 hchan > /dev/null
	lttng enable-event -k -c hchan 'hvtrace_*' > /out/lttng-enable.txt 2>&1
	lttng start > /dev/null
	bin/hostmode run -- bin/hostmode cpuid > /out/cpuid-lttng.txt 2> /out/run-lttng.err
	rc=$?
	lttng stop > /dev/null
	lttng destroy > /dev/null
	cat /out/run-lttng.err
	grep leaf /out/cpuid-native.txt > /tmp/leaves-native.txt
	grep leaf /out/cpuid-lttng.txt > /tmp/leaves-lttng.txt
	check "CPUID program under LTTng: exit 0, the same leaves and values" \
		sh -c "[ $rc -eq 0 ] && [ -s /tmp/leaves-lttng.txt ] && cmp /tmp/leaves-native.txt /tmp/leaves-lttng.txt"
	check "LTTng trace written, nothing dropped" \
		sh -c "[ -f /out/trace/kernel/metadata ] && [ \"$(kv dropped /out/run-lttng.err)\" = 0 ]"
	hvt_mark "host: hvtrace record --host"
	if command -v hvtrace > /dev/null; then
		hvtrace record --host --cpus 0-$((ncpu - 1)) --output /out/rec-host --subbuf-size 1M --num-subbuf 8 \
			-- bin/hostmode cpuid > /out/record-host.txt 2>&1
		rc=$?
		sed 's/^/# record: /' /out/record-host.txt
		checkx "hvtrace record --host -- hostmode cpuid: status 0, host state intact, nothing lost" \
			'[ $rc -eq 0 ] && grep -q "host state intact" /out/record-host.txt && grep -q "events discarded: 0, packets lost: 0" /out/record-host.txt'
	else
		not_ok "hvtrace (the CLI) in the payload"
	fi
else
	not_ok "lttng-sessiond with the hvtrace probe"
fi

hvt_mark "host: I/O trapped (port 0x80); string I/O runs natively under the monitor trap flag"
bin/hostmode io 20 > /out/io-native.txt 2>&1
: > $tr/trace
echo 1 > $tr/events/hvtrace/enable
bin/hostmode run -t io=0x80 -- bin/hostmode io 20 > /out/io-virt.txt 2> /out/run-io.err
rc=$?
echo 0 > $tr/events/hvtrace/enable
cat $tr/trace > /out/ftrace-io.txt
cat /out/run-io.err
check "hostmode run -t io=0x80 exits 0" [ $rc -eq 0 ]
check "the I/O program prints the same with and without hvtrace" \
	cmp /out/io-native.txt /out/io-virt.txt
n_out=$(grep "hvtrace_exit:" /out/ftrace-io.txt | grep -c "reason=0x1e .*rip=$(kv out_insn /out/io-virt.txt)\$")
n_in=$(grep "hvtrace_exit:" /out/ftrace-io.txt | grep -c "reason=0x1e .*rip=$(kv in_insn /out/io-virt.txt)\$")
n_outs=$(grep "hvtrace_exit:" /out/ftrace-io.txt | grep -c "reason=0x1e .*rip=$(kv outs_insn /out/io-virt.txt)\$")
checkx "exactly 20 OUT and 20 IN exits at the program's instructions ($n_out, $n_in)" \
	'[ "$n_out" = 20 ] && [ "$n_in" = 20 ]'
mtf=$(kv reason_37 /out/run-io.err)
if dmesg | grep -q "monitor trap flag yes"; then
	checkx "its REP OUTSB exited and ran natively under the monitor trap flag ($n_outs I/O, ${mtf:-0} MTF exits)" \
		'[ "$n_outs" -ge 1 ] && [ "${mtf:-0}" -ge 1 ]'
else
	checkx "no monitor trap flag: its REP OUTSB exited once, then the port was left open ($n_outs)" \
		'[ "$n_outs" = 1 ] && dmesg_has "port(s) left untrapped"'
fi
check "host state intact (I/O session)" [ "$(kv host_mismatches /out/run-io.err)" = 0 ]

hvt_mark "host: MSRs read through /dev/cpu/N/msr, two of them trapped"
if insmod modules/msr.ko 2>/dev/null || [ -d /dev/cpu/0 ] || modprobe msr 2>/dev/null; then
	bin/hostmode msr > /out/msr-native.txt 2>&1
	: > $tr/trace
	echo 1 > $tr/events/hvtrace/enable
	bin/hostmode run -t msr=0x3a,msr=0x480 -- sh -c 'echo $$ > /out/msr.pid; exec bin/hostmode msr' \
		> /out/msr-virt.txt 2> /out/run-msr.err
	rc=$?
	echo 0 > $tr/events/hvtrace/enable
	cat $tr/trace > /out/ftrace-msr.txt
	cat /out/msr-virt.txt /out/run-msr.err
	checkx "the MSR program prints the same with and without hvtrace" \
		'[ $rc -eq 0 ] && grep -q "msr 0x480" /out/msr-virt.txt && cmp /out/msr-native.txt /out/msr-virt.txt'
	checkx "exactly $((2 * ncpu)) RDMSR exits (0x3a and 0x480 on each CPU; 0x1b untrapped) ($(kv reason_31 /out/run-msr.err))" \
		'[ "$(kv reason_31 /out/run-msr.err)" = $((2 * ncpu)) ]'
	mpid=$(cat /out/msr.pid)
	got=$(grep "hvtrace_exit:" /out/ftrace-msr.txt | grep -c "pid=$mpid tid=$mpid comm=hostmode cpl=0 reason=0x1f ")
	check "each says who: the reader's pid $mpid, comm hostmode, CPL 0 (the msr driver's RDMSR) ($got)" \
		[ "$got" = $((2 * ncpu)) ]
else
	not_ok "msr.ko loads (/dev/cpu/N/msr)"
fi

hvt_mark "host: #BP and #UD trapped (exception bitmap) and delivered again"
bin/hostmode exc 10 > /out/exc-native.txt 2>&1
bin/hostmode run -t exc=3,exc=6 -- bin/hostmode exc 10 > /out/exc-virt.txt 2> /out/run-exc.err
rc=$?
cat /out/exc-virt.txt /out/run-exc.err
checkx "a program taking 10 INT3 (SIGTRAP) and 10 UD2 (SIGILL) runs the same under hvtrace" \
	'[ $rc -eq 0 ] && cmp /out/exc-native.txt /out/exc-virt.txt'
checkx "at least 20 exception exits, each delivered again, host state intact ($(kv reason_0 /out/run-exc.err))" \
	'[ "$(kv reason_0 /out/run-exc.err)" -ge 20 ] && [ "$(kv host_mismatches /out/run-exc.err)" = 0 ]'

hvt_mark "host: RDTSC trapped on every CPU (kernel and user) while a program runs"
bin/hostmode run -t rdtsc -- bin/hostmode spin 0.5 > /dev/null 2> /out/run-rdtsc.err
rc=$?
cat /out/run-rdtsc.err
checkx "hostmode run -t rdtsc exits 0 with RDTSC/RDTSCP exits ($(kv reason_16 /out/run-rdtsc.err), $(kv reason_51 /out/run-rdtsc.err))" \
	'[ $rc -eq 0 ] && [ "$(kv reason_16 /out/run-rdtsc.err)" -gt 0 ]'
check "host state intact (RDTSC session)" [ "$(kv host_mismatches /out/run-rdtsc.err)" = 0 ]

hvt_mark "host: CPU 1 offline and online again while virtualized"
# Inside the session: CPU 1 leaves (devirtualized first, on itself), the
# session goes on with CPU 0, CPU 1 comes back and is virtualized again,
# and the CPUID program then exits on both CPUs and prints what it prints
# natively.
bin/hostmode run -- sh -c 'echo 0 > /sys/devices/system/cpu/cpu1/online &&
	bin/hostmode stats > /out/hotplug-off.txt &&
	echo 1 > /sys/devices/system/cpu/cpu1/online &&
	bin/hostmode stats > /out/hotplug-on.txt &&
	bin/hostmode cpuid > /out/cpuid-hotplug.txt' 2> /out/run-hotplug.err
rc=$?
cat /out/hotplug-off.txt /out/hotplug-on.txt /out/run-hotplug.err
check "CPU 1 went offline and came back during a session" [ $rc -eq 0 ]
check "it was devirtualized first (dmesg)" dmesg_has "hvtrace: cpu 1 going offline: devirtualized"
checkx "while offline only CPU 0 was virtualized, once back both ($(kv virtualized /out/hotplug-off.txt), $(kv virtualized /out/hotplug-on.txt))" \
	'[ "$(kv virtualized /out/hotplug-off.txt)" = 0x1 ] && [ "$(kv virtualized /out/hotplug-on.txt)" = $mask ] && dmesg_has "hvtrace: cpu 1 online again: virtualized"'
check "after it came back the CPUID program prints the same as natively" \
	cmp /out/cpuid-native-1.txt /out/cpuid-hotplug.txt
check "host state intact (hotplug session: $(kv host_checks /out/run-hotplug.err) checks, 2 more for CPU 1), nothing left virtualized" \
	sh -c "[ \"$(kv host_mismatches /out/run-hotplug.err)\" = 0 ] && [ \"$(kv host_checks /out/run-hotplug.err)\" = $((2 * ncpu + 2)) ] && [ \"$(kv virtualized /out/run-hotplug.err)\" = 0 ]"

# pm_test=core runs every step of suspend but the firmware call: tasks
# frozen, devices suspended, CPU 1 taken down (hotplug callback), syscore
# suspend on CPU 0 (its devirtualization), then all of it undone.
hvt_mark "host: suspend to RAM (pm_test=core) while virtualized"
if grep -qw mem /sys/power/state && grep -qw core /sys/power/pm_test; then
	echo 0 > /sys/module/suspend/parameters/pm_test_delay
	bin/hostmode run -- sh -c 'echo core > /sys/power/pm_test && echo mem > /sys/power/state;
		s=$?; echo none > /sys/power/pm_test; [ $s -eq 0 ] &&
		bin/hostmode stats > /out/suspend-after.txt &&
		bin/hostmode cpuid > /out/cpuid-suspend.txt' 2> /out/run-suspend.err
	rc=$?
	cat /out/suspend-after.txt /out/run-suspend.err
	dmesg | grep -E "PM: suspend|hvtrace: cpu" | tail -n 8 | sed 's/^/# /'
	check "suspend (pm_test=core) with every CPU virtualized: the system came back, status 0" [ $rc -eq 0 ]
	checkx "CPU 1 devirtualized going down, CPU 0 in syscore suspend; CPU 0 virtualized again in syscore resume, CPU 1 online again" \
		'dmesg_has "hvtrace: cpu 0: devirtualized for suspend" && dmesg_has "hvtrace: cpu 0: resumed: virtualized again" && [ "$(dmesg | grep -c "hvtrace: cpu 1 online again: virtualized")" -ge 2 ]'
	checkx "after resume every CPU virtualized again ($(kv virtualized /out/suspend-after.txt)) and the CPUID program prints the same" \
		'[ "$(kv virtualized /out/suspend-after.txt)" = $mask ] && cmp /out/cpuid-native-1.txt /out/cpuid-suspend.txt'
	check "host state intact across suspend ($(kv host_checks /out/run-suspend.err) checks: 4 per CPU)" \
		sh -c "[ \"$(kv host_mismatches /out/run-suspend.err)\" = 0 ] && [ \"$(kv host_checks /out/run-suspend.err)\" = $((4 * ncpu)) ] && [ \"$(kv virtualized /out/run-suspend.err)\" = 0 ]"
else
	not_ok "suspend to RAM with pm_test=core offered ($(cat /sys/power/state), $(cat /sys/power/pm_test))"
fi
hvt_mark "host: hibernation (pm_test=core) while virtualized"
if grep -qw disk /sys/power/state; then
	c0=$(dmesg | grep -c "hvtrace: cpu 0: devirtualized for suspend")
	bin/hostmode run -- sh -c 'echo core > /sys/power/pm_test && echo disk > /sys/power/state;
		s=$?; echo none > /sys/power/pm_test; [ $s -eq 0 ] &&
		bin/hostmode stats > /out/hibernate-after.txt' 2> /out/run-hibernate.err
	rc=$?
	c1=$(dmesg | grep -c "hvtrace: cpu 0: devirtualized for suspend")
	cat /out/hibernate-after.txt /out/run-hibernate.err
	dmesg | grep -E "PM: |hvtrace: cpu" | tail -n 6 | sed 's/^/# /'
	checkx "hibernation image path (pm_test=core): back with every CPU virtualized again, host state intact ($(kv host_checks /out/run-hibernate.err) checks)" \
		'[ $rc -eq 0 ] && [ "$c1" = $((c0 + 1)) ] && [ "$(kv virtualized /out/hibernate-after.txt)" = $mask ] && [ "$(kv host_mismatches /out/run-hibernate.err)" = 0 ] && [ "$(kv host_checks /out/run-hibernate.err)" = $((4 * ncpu)) ]'
else
	not_ok "hibernation offered ($(cat /sys/power/state))"
fi

hvt_mark "host: coexistence with another VMX user (the sandbox)"
# A sandbox run holds VMX on CPU 1: host mode refuses, clearly.
bin/hvtctl run selftest-spin -n 4000000000 -c 1 > /out/sandbox-bg.txt 2>&1 &
sb=$!
sleep 1
i=0
: > /out/run-vmxheld.err
while [ $i -lt 10 ] && kill -0 $sb 2>/dev/null; do
	bin/hostmode run -- true > /dev/null 2> /out/run-vmxheld.err
	grep -q "Device or resource busy" /out/run-vmxheld.err && break
	i=$((i + 1))
	sleep 0.5
done
kill -TERM $sb 2>/dev/null
wait $sb 2>/dev/null
cat /out/run-vmxheld.err
checkx "while a sandbox run holds VMX on cpu 1, HOST_ON fails with EBUSY and dmesg names the cause" \
	'grep -q "Device or resource busy" /out/run-vmxheld.err && dmesg_has "hvtrace: cpu 1: not virtualized: CR4.VMXE already set: another hypervisor holds VMX"'
# Under host mode, a sandbox run's VMXON gets #UD (CR4.VMXE in the shadow).
bin/hostmode run -- bin/hvtctl run selftest-cpuid -c 0 > /out/sandbox-under-host.txt 2> /out/run-sandbox.err
rc=$?
cat /out/sandbox-under-host.txt /out/run-sandbox.err
checkx "a sandbox run inside host mode fails cleanly (VMXON #UD, CR4.VMXE shadowed), host state intact" \
	'[ "$(kv ud /out/run-sandbox.err)" -ge 1 ] && [ "$(kv host_mismatches /out/run-sandbox.err)" = 0 ] && [ "$(kv virtualized /out/run-sandbox.err)" = 0 ]'

hvt_mark "host: the reboot path ends a session first (selftest_reboot=1)"
bin/hostmode run -- sh -c 'echo 1 > /sys/module/hvtrace/parameters/selftest_reboot' 2> /out/run-reboot.err
rc=$?
cat /out/run-reboot.err
checkx "a session ended by the reboot notifier: every CPU devirtualized, host state intact" \
	'[ $rc -eq 0 ] && grep -q "had ended already" /out/run-reboot.err && dmesg_has "hvtrace: reboot: every CPU devirtualized first" && [ "$(kv virtualized /out/run-reboot.err)" = 0 ] && [ "$(kv host_mismatches /out/run-reboot.err)" = 0 ]'

hvt_mark "host: two recorded runs of the same deterministic program (for hvtrace diff)"
# The recorder pinned to CPU 0 with address randomization off; its command
# inherits both, so the CPUID program's exits land at the same addresses
# on the same CPUs in both runs.  The host diffs the two traces.
if command -v hvtrace > /dev/null && [ -S /run/lttng/client-lttng-sessiond ]; then
	for r in a b; do
		bin/hostmode pinned 0 -- hvtrace record --host --cpus 0-$((ncpu - 1)) \
			--output /out/diff-$r --subbuf-size 1M --num-subbuf 8 \
			-- bin/hostmode cpuid > /out/diff-$r.txt 2>&1
		echo "rc=$?" >> /out/diff-$r.txt
	done
	sed 's/^/# diff-a: /' /out/diff-a.txt | grep -v " leaf "
	checkx "two record --host runs of hostmode cpuid: status 0, nothing lost, the same output" \
		'grep -q "^rc=0" /out/diff-a.txt && grep -q "^rc=0" /out/diff-b.txt && grep leaf /out/diff-a.txt > /tmp/da && grep leaf /out/diff-b.txt > /tmp/db && [ -s /tmp/da ] && cmp /tmp/da /tmp/db'
else
	not_ok "hvtrace and lttng-sessiond for the diff runs"
fi

# The soak: both CPUs virtualized for SOAK_MIN minutes of wall-clock time
# (the host's: Bochs' guest clock runs 5 to 15 times slower under this
# load, so guest minutes would make the suite's length unpredictable) under
# a mixed load that checks its own results: the CPUID and MSR programs
# (RDMSR of 0x3a trapped), two syscall-heavy programs, disk writes and
# reads with O_DIRECT, and LTTng writing the trace; then devirtualized.
# The host's bochs-host.sh writes HVT-SOAK-STOP into the payload disk's
# last sector SOAK_MIN minutes after the "soak started" mark; the guest
# polls it, and stops on its own after 2 x SOAK_MIN guest minutes (then
# the check fails: the host's deadline never came).
soak_min=$(cat /in/soak_min 2>/dev/null || echo 1)
soak_cap=$((soak_min * 120))
cat > /tmp/soak.sh <<'SOAK'
cap=$1
cd /in
bin/hostmode load cpuid $cap > /out/soak-cpuid.txt 2>&1 & p_cpuid=$!
bin/hostmode load msr $cap > /out/soak-msr.txt 2>&1 & p_msr=$!
bin/hostmode load syscall $cap > /out/soak-sys1.txt 2>&1 & p_sys1=$!
bin/hostmode load syscall $cap > /out/soak-sys2.txt 2>&1 & p_sys2=$!
# disk: 1 MiB written near the end of the output disk (the results tar
# fills it from the start) and read back, both with O_DIRECT (real ATA
# I/O); the payload disk's last sector polled for the host's stop.  The
# payload disk is the small one (a few MB), the output disk the size of
# the guest's memory.
in=""
out=""
for blk in /sys/block/sd*; do
	if [ -z "$in" ] || [ "$(cat $blk/size)" -lt "$(cat /sys/block/${in#/dev/}/size)" ]; then
		[ -n "$in" ] && out=$in
		in=/dev/${blk##*/}
	else
		out=/dev/${blk##*/}
	fi
done
last=$(( $(cat /sys/block/${in#/dev/}/size) - 1 ))
seek=$(( $(cat /sys/block/${out#/dev/}/size) / 2048 - 16 ))
echo "soak: payload disk $in (last sector $last), output disk $out (1 MiB at $seek MiB)"
dd if=/dev/urandom of=/tmp/soak-blk bs=1M count=1 iflag=fullblock 2>/dev/null
ref=$(md5sum < /tmp/soak-blk)
u0=$(cut -d. -f1 /proc/uptime)
n=0
bad=0
stopped=cap
while [ "$(cut -d. -f1 /proc/uptime)" -lt $((u0 + cap)) ]; do
	dd if=/tmp/soak-blk of=$out bs=1M seek=$seek count=1 oflag=direct conv=notrunc,fsync 2>/dev/null ||
		bad=$((bad + 1))
	[ "$(dd if=$out bs=1M skip=$seek count=1 iflag=direct 2>/dev/null | md5sum)" = "$ref" ] ||
		bad=$((bad + 1))
	n=$((n + 1))
	if [ "$(dd if=$in bs=512 skip=$last count=1 iflag=direct 2>/dev/null | head -c 13)" = HVT-SOAK-STOP ]; then
		stopped=host
		break
	fi
	sleep 1
done
kill -TERM $p_cpuid $p_msr $p_sys1 $p_sys2 2>/dev/null
echo "disk $out: passes=$n mismatches=$bad" > /out/soak-disk.txt
wait $p_cpuid; ra=$?
wait $p_msr; rb=$?
wait $p_sys1; rc=$?
wait $p_sys2; rd=$?
echo "soak: stopped by $stopped after $(( $(cut -d. -f1 /proc/uptime) - u0 )) guest s"
echo "soak: cpuid=$ra msr=$rb syscall=$rc,$rd disk=$bad"
[ $ra -eq 0 ] && [ $rb -eq 0 ] && [ $rc -eq 0 ] && [ $rd -eq 0 ] && [ $bad -eq 0 ] && [ $n -gt 0 ]
SOAK
if command -v hvtrace > /dev/null && [ -S /run/lttng/client-lttng-sessiond ]; then
	hvt_mark "host: soak started ($soak_min min of the host's time)"
	hvtrace record --host --cpus 0-$((ncpu - 1)) --trap msr=0x3a --output /out/soak \
		--subbuf-size 1M --num-subbuf 16 -- sh /tmp/soak.sh $soak_cap > /out/soak-record.txt 2>&1
	rc=$?
	hvt_mark "host: soak ended"
	sed 's/^/# soak: /' /out/soak-record.txt
	cat /out/soak-cpuid.txt /out/soak-msr.txt /out/soak-sys1.txt /out/soak-sys2.txt /out/soak-disk.txt | grep -v "^cpu " | sed 's/^/# soak: /'
	checkx "soak: both CPUs virtualized until the host's deadline ($soak_min min), status 0, host state intact" \
		'[ $rc -eq 0 ] && grep -q "host state intact" /out/soak-record.txt && grep -q "cpus $mask," /out/soak-record.txt && grep -q "^soak: stopped by host" /out/soak-record.txt'
	checkx "soak: nothing dropped by the module, LTTng discarded 0 and lost 0 (else counted above)" \
		'grep -q " 0 dropped" /out/soak-record.txt && grep -q "events discarded: 0, packets lost: 0" /out/soak-record.txt'
	checkx "soak: every program's results checked, 0 mismatches, and the CPUID and MSR values equal to the native runs" \
		'grep -q "^soak: cpuid=0 msr=0 syscall=0,0 disk=0" /out/soak-record.txt && grep " leaf " /out/soak-cpuid.txt > /tmp/s1 && grep " leaf " /out/cpuid-native-1.txt > /tmp/n1 && cmp /tmp/s1 /tmp/n1 && grep " msr " /out/soak-msr.txt > /tmp/s2 && grep " msr " /out/msr-native.txt > /tmp/n2 && cmp /tmp/s2 /tmp/n2'
else
	not_ok "hvtrace and lttng-sessiond for the soak"
fi

hvt_mark "host: unload"
check "rmmod hvtrace" rmmod hvtrace
check "unload reports 0 allocations outstanding" dmesg_has "hvtrace: unloaded, 0 allocations outstanding"
sessions=$(dmesg | grep -c "hvtrace: host session [0-9]* ended: .*host state intact\$")
check "every host session ended with the host state intact ($sessions)" [ "$sessions" -ge 62 ]
check "no warning, BUG, oops or lockup in dmesg" \
	sh -c 'dmesg | grep -E "WARNING:|BUG:|Oops|soft lockup|rcu_sched self-detected|rcu: INFO|general protection|invalid opcode|hvtrace: .*(CHANGED|STILL|unexpected|not virtualized)" | grep -v "not virtualized: CR4.VMXE already set" > /out/dmesg-problems.txt; [ ! -s /out/dmesg-problems.txt ]'
head -n 5 /out/dmesg-problems.txt | sed 's/^/# /'
dmesg | grep hvtrace > /out/dmesg-hvtrace.txt
dmesg > /out/dmesg.txt
echo "1..$tap_n"
[ $failed -eq 0 ]
