# KVM backend proof inside the Bochs guest (payload run.sh, busybox sh).
# kvm_intel runs hvt-vmm's seeded guests while hvtrace record --kvm records;
# the host checks the traces against the VMM's plans (tests/kvm/kvmcheck.py).
. /usr/lib/hvtrace-testbed/lib.sh
[ -f /in/env ] && . /in/env
SEED=${SEED:-42}
SEED2=${SEED2:-4242}
OPS=${OPS:-300}
CYCLES=${CYCLES:-50}
SMP_OPS=${SMP_OPS:-200}
mkdir -p /out/traces /out/logs /out/plans
MP=/usr/sbin/modprobe

# name CMD...: output in /out/logs/name.{out,err,rc}
run() {
	name=$1
	shift
	"$@" > /out/logs/$name.out 2> /out/logs/$name.err
	echo $? > /out/logs/$name.rc
	hvt_mark "$name: rc $(cat /out/logs/$name.rc) $(tail -n 1 /out/logs/$name.err)"
}

hvt_mark "cpu flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(vmx|ept|vpid|xsave|avx|avx2)$' | tr '\n' ' ')"
hvt_mark "fpu: $(dmesg | grep -m1 'x86/fpu: Enabled xstate' | sed 's/^\[[^]]*\] //')"
$MP hvtrace > /out/logs/modprobe-hvtrace.txt 2>&1; echo "modprobe hvtrace rc=$?" >> /out/logs/modprobe-hvtrace.txt
hvt_start_sessiond hvtrace || hvt_mark "sessiond failed"
$MP lttng-probe-hvtrace
# no kvm.ko yet: attach is refused
run nokvm hvtrace record --kvm --duration 1 --output /out/traces/nokvm
$MP kvm_intel > /out/logs/modprobe-kvm.txt 2>&1; echo "modprobe kvm_intel rc=$?" >> /out/logs/modprobe-kvm.txt
# lttng-modules' own kvm probe (a peer: kvm_x86_exit), when the payload has
# it: it uses kvm.ko's symbols, so it loads only now (not by sessiond)
if [ -f /in/kvm-probe/lttng-probe-kvm-x86.ko ]; then
	insmod /in/kvm-probe/lttng-probe-kvm-x86.ko > /out/logs/insmod-kvm-probe.txt 2>&1
	echo "rc=$?" >> /out/logs/insmod-kvm-probe.txt
fi
hvt_mark "modules: $(grep -E '^(kvm_intel|kvm|hvtrace|lttng_probe_kvm_x86) ' /proc/modules | cut -d' ' -f1 | tr '\n' ' ')"
ls -l /dev/kvm > /out/logs/devkvm.txt 2>&1

mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
T=/sys/kernel/tracing

# the VMM alone, not traced
run vmm-alone hvt-vmm --seed $SEED --ops $OPS --plan /out/plans/alone.jsonl

# vmm-a: traced, with peers on the same run: the kernel's own kvm:kvm_exit
# through ftrace, lttng-modules' kvm_x86_exit in the same LTTng session and
# perf kvm stat (/in/peers.sh)
echo 16384 > $T/buffer_size_kb
echo > $T/trace
echo 1 > $T/events/kvm/kvm_exit/enable
run vmm-a hvtrace record --kvm --output /out/traces/vmm-a -- sh /in/peers.sh vmm-a \
	hvt-vmm --seed $SEED --ops $OPS --plan /out/plans/vmm-a.jsonl
echo 0 > $T/events/kvm/kvm_exit/enable
cat $T/trace > /out/ftrace-vmm-a.txt
echo > $T/trace

if [ "${QUICK:-}" = 1 ]; then dmesg > /out/dmesg-full.txt; exit 0; fi
run vmm-b hvtrace record --kvm --output /out/traces/vmm-b -- \
	hvt-vmm --seed $SEED --ops $OPS --plan /out/plans/vmm-b.jsonl
run vmm-c hvtrace record --kvm --output /out/traces/vmm-c -- \
	hvt-vmm --seed $SEED2 --ops $OPS --vms 2 --plan /out/plans/vmm-c.jsonl
run vmm-reasons hvtrace record --kvm --reasons CPUID,IO_INSTRUCTION --output /out/traces/vmm-reasons -- \
	hvt-vmm --seed $SEED --ops $OPS --plan /out/plans/vmm-reasons.jsonl
run vmm-pid hvtrace record --kvm --pid 1 --output /out/traces/vmm-pid -- \
	hvt-vmm --seed $SEED --ops $OPS --plan /out/plans/vmm-pid.jsonl
# vmm-smp: 2 VMs one after the other, each with 3 vCPUs running at the same
# time (a thread each, time-sliced on this one CPU; each yields after every
# KVM_RUN), vCPU v running the program of seed SEED2 + v
run vmm-smp hvtrace record --kvm --output /out/traces/vmm-smp -- \
	hvt-vmm --seed $SEED2 --ops $SMP_OPS --vms 2 --vcpus 3 --plan /out/plans/vmm-smp.jsonl

# attach/detach while guests run: a VMM runs VMs one after another in the
# background while record attaches and detaches CYCLES times
rm -f /tmp/cycles-done
hvt-vmm --seed $SEED --ops $OPS --until /tmp/cycles-done > /out/logs/cycles-vmm.out 2>&1 &
vpid=$!
kvm-cycles $CYCLES 50 > /out/logs/cycles.txt 2>&1
echo $? > /out/logs/cycles.rc
# and a few whole recordings (LTTng session each) meanwhile
i=0; ok=0
while [ $i -lt 3 ]; do
	i=$((i + 1))
	rm -rf /tmp/cyc
	if hvtrace record --kvm --duration 0.2 --output /tmp/cyc > /tmp/cyc.out 2> /tmp/cyc.err; then ok=$((ok + 1)); else
		echo "record cycle $i: $(cat /tmp/cyc.err)" >> /out/logs/cycles-record.txt; fi
	grep -h "kvm attach" /tmp/cyc.out >> /out/logs/cycles-record.txt
done
echo "record cycles $i ok $ok" >> /out/logs/cycles-record.txt
hvt_mark "attach/detach: $(tail -n 1 /out/logs/cycles.txt); $(tail -n 1 /out/logs/cycles-record.txt); VMM alive: $(kill -0 $vpid 2>/dev/null && echo yes || echo no)"
touch /tmp/cycles-done
wait $vpid
echo $? > /out/logs/cycles-vmm.rc
hvt_mark "background VMM rc $(cat /out/logs/cycles-vmm.rc)"

# A real Linux guest under QEMU/KVM (when the payload carries it, /in/l2):
# Debian's kernel (PVH vmlinux) + a busybox initramfs booted to a marker,
# twice, both recorded; the first with its peers (ftrace's kvm:kvm_exit,
# lttng-modules' kvm_x86_exit, perf kvm stat).
if [ -f /in/l2/vmlinux ] && [ "${LINUX:-1}" = 1 ]; then
	cat > /tmp/qemu.sh <<'QEOF'
exec qemu-system-x86_64 -L /in/share -enable-kvm -M pc -cpu host -vga none -m 128 -smp 1 \
	-nodefaults -no-user-config -nographic -no-reboot -serial stdio \
	-kernel /in/l2/vmlinux -initrd /in/l2/tiny.cpio.gz \
	-append "console=ttyS0 rdinit=/init panic=-1 reboot=t"
QEOF
	echo > $T/trace
	echo 65536 > $T/buffer_size_kb
	echo 1 > $T/events/kvm/kvm_exit/enable
	run linux-a hvtrace record --kvm --subbuf-size 1M --num-subbuf 64 --output /out/traces/linux-a -- \
		sh /in/peers.sh linux-a sh /tmp/qemu.sh
	echo 0 > $T/events/kvm/kvm_exit/enable
	cat $T/trace > /out/ftrace-linux-a.txt
	echo > $T/trace
	echo 1408 > $T/buffer_size_kb
	run linux-b hvtrace record --kvm --subbuf-size 1M --num-subbuf 64 --output /out/traces/linux-b -- sh /tmp/qemu.sh
	hvt_mark "linux guests: $(grep -h L2-MARKER /out/logs/linux-a.out /out/logs/linux-b.out | tr '\n' ' ')"
fi

grep -E '^(kvm_intel|kvm|hvtrace) ' /proc/modules > /out/logs/modules-after.txt
# the kvm-x86 probe holds kvm.ko (its symbols): out before the reference tests
if grep -q '^lttng_probe_kvm_x86 ' /proc/modules; then
	rmmod lttng_probe_kvm_x86 > /out/logs/rmmod-kvm-probe.txt 2>&1
	echo "rc=$?" >> /out/logs/rmmod-kvm-probe.txt
fi
# module references while attached: kvm_intel may go (no VM left, nothing
# of it in use), kvm.ko may not (its tracepoints carry our probes)
hvtrace record --kvm --duration 6 --output /tmp/hold > /out/logs/hold.out 2> /out/logs/hold.err &
hpid=$!
sleep 2
rmmod kvm_intel > /out/logs/rmmod-kvm-intel.txt 2>&1; echo "rc=$?" >> /out/logs/rmmod-kvm-intel.txt
rmmod kvm > /out/logs/rmmod-kvm-attached.txt 2>&1; echo "rc=$?" >> /out/logs/rmmod-kvm-attached.txt
grep -E '^(kvm_intel|kvm|hvtrace) ' /proc/modules > /out/logs/modules-attached.txt
wait $hpid
echo $? > /out/logs/hold.rc
rmmod kvm > /out/logs/rmmod-kvm.txt 2>&1; echo "rc=$?" >> /out/logs/rmmod-kvm.txt
rmmod hvtrace > /out/logs/rmmod-hvtrace.txt 2>&1; echo "rc=$?" >> /out/logs/rmmod-hvtrace.txt
hvt_mark "attached: rmmod kvm_intel $(tail -1 /out/logs/rmmod-kvm-intel.txt), rmmod kvm $(tail -1 /out/logs/rmmod-kvm-attached.txt); detached: rmmod kvm $(tail -1 /out/logs/rmmod-kvm.txt), hvtrace $(tail -1 /out/logs/rmmod-hvtrace.txt)"
dmesg > /out/dmesg-full.txt
exit 0
