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

hvt_mark "host: the same program with every CPU virtualized (ftrace on)"
tr=/sys/kernel/tracing
echo 8192 > $tr/buffer_size_kb
: > $tr/trace
echo 1 > $tr/events/hvtrace/enable
bin/hostmode run -- bin/hostmode cpuid -n 20 > /out/cpuid-virt.txt 2> /out/run1.err
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
nexit=$(grep -c "hvtrace_exit:" /out/ftrace-run1.txt)
nres=$(grep -c "hvtrace_resume:" /out/ftrace-run1.txt)
check "one resume per exit in the trace ($nexit exits, $nres resumes)" \
	[ "$nexit" -gt 0 ] && [ "$nexit" = "$nres" ]
traced=$(kv traced /out/run1.err)
check "the session traced what ftrace holds ($traced)" [ "$traced" = "$nexit" ]
check "no exit dropped" [ "$(kv dropped /out/run1.err)" = 0 ]
check "host state identical across (de)virtualization (2 checks per CPU)" \
	sh -c "[ \"$(kv host_mismatches /out/run1.err)\" = 0 ] && [ \"$(kv host_checks /out/run1.err)\" = $((2 * ncpu)) ]"
check "session events START and END per CPU" \
	[ "$(grep -c 'hvtrace_session:' /out/ftrace-run1.txt)" = $((2 * ncpu)) ]

hvt_mark "host: one session at a time"
bin/hostmode busy > /out/busy.txt 2>&1
rc=$?
cat /out/busy.txt
check "a second session is refused with EBUSY and only the owner ends it" [ $rc -eq 0 ]

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
kill $spins 2>/dev/null
wait 2>/dev/null
sed -n '1p;$p' /out/cycles.tap | sed 's/^/# /'
okc=$(grep -c '^ok' /out/cycles.tap)
check "50 cycles, each with every CPU virtualized, CPUID exits counted and the host-state check passing ($okc ok)" \
	[ $rc -eq 0 ] && [ "$okc" = 50 ]
grep '^not ok' /out/cycles.tap | head -n 5 | sed 's/^/# /'

hvt_mark "host: unload"
check "rmmod hvtrace" rmmod hvtrace
check "unload reports 0 allocations outstanding" dmesg_has "hvtrace: unloaded, 0 allocations outstanding"
sessions=$(dmesg | grep -c "hvtrace: host session [0-9]* ended: .*host state intact\$")
check "every host session ended with the host state intact ($sessions)" [ "$sessions" -ge 52 ]
check "no warning, BUG, oops or lockup in dmesg" \
	sh -c 'dmesg | grep -E "WARNING:|BUG:|Oops|soft lockup|rcu_sched self-detected|rcu: INFO|general protection|invalid opcode|hvtrace: .*(CHANGED|STILL|unexpected|not virtualized)" > /out/dmesg-problems.txt; [ ! -s /out/dmesg-problems.txt ]'
head -n 5 /out/dmesg-problems.txt | sed 's/^/# /'
dmesg | grep hvtrace > /out/dmesg-hvtrace.txt
dmesg > /out/dmesg.txt
echo "1..$tap_n"
[ $failed -eq 0 ]
