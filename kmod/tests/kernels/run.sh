# KVM backend on the booted kernel, without LTTng (payload run.sh of
# kmod/tests/bochs-kernels.sh, busybox sh): kvm_intel and hvtrace.ko load,
# ftrace records hvtrace's events and KVM's own kvm_exit/kvm_entry while
# attach-run attaches the backend around one hvt-vmm run.  The host checks
# the trace against hvt-vmm's plan (kmod/tests/kernels/check.py).
. /usr/lib/hvtrace-testbed/lib.sh
[ -f /in/env ] && . /in/env
SEED=${SEED:-42}
OPS=${OPS:-300}
mkdir -p /out/logs
hvt_mark "kernel $(uname -r); cpu flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(vmx|ept|vpid|xsave|avx|ibt)$' | tr '\n' ' ')"
hvt_mark "fpu: $(dmesg | grep -m1 'x86/fpu: Enabled xstate' | sed 's/^\[[^]]*\] //')"
/usr/sbin/modprobe kvm_intel > /out/logs/modprobe-kvm.txt 2>&1
echo "rc=$?" >> /out/logs/modprobe-kvm.txt
/usr/sbin/modprobe hvtrace > /out/logs/modprobe-hvtrace.txt 2>&1
echo "rc=$?" >> /out/logs/modprobe-hvtrace.txt
hvt_mark "modules: $(grep -E '^(kvm_intel|kvm|hvtrace) ' /proc/modules | cut -d' ' -f1 | tr '\n' ' ')"

T=/sys/kernel/tracing
mount -t tracefs nodev $T 2> /dev/null
echo 0 > $T/tracing_on
echo > $T/trace
echo 16384 > $T/buffer_size_kb
for e in hvtrace/hvtrace_exit hvtrace/hvtrace_resume hvtrace/hvtrace_session \
	kvm/kvm_exit kvm/kvm_entry; do
	echo 1 > $T/events/$e/enable || hvt_mark "cannot enable $e"
done
echo 1 > $T/tracing_on
attach-run hvt-vmm --seed $SEED --ops $OPS --plan /out/plan.jsonl \
	> /out/logs/attach-run.out 2> /out/logs/attach-run.err
echo $? > /out/logs/attach-run.rc
echo 0 > $T/tracing_on
cat $T/per_cpu/cpu0/stats > /out/logs/ftrace-stats.txt 2>&1
cat $T/trace > /out/trace.txt
hvt_mark "attach-run rc $(cat /out/logs/attach-run.rc): $(tr '\n' ' ' < /out/logs/attach-run.out)"
for e in hvtrace kvm/kvm_exit kvm/kvm_entry; do
	echo 0 > $T/events/$e/enable
done
/usr/sbin/rmmod hvtrace > /out/logs/rmmod-hvtrace.txt 2>&1
echo "rc=$?" >> /out/logs/rmmod-hvtrace.txt
exit 0
