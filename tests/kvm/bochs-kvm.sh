#!/bin/bash
# TAP: the KVM capture backend in Bochs (corei7_haswell_4770: VMX with EPT,
# and Debian's kernel keeps XSAVE on there, so KVM's guest-FPU path is the
# one real machines take; 1024 MB so that kvm_intel has room for its VMs).
#
# Inside the guest (tests/kvm/guest/run.sh): kvm_intel and hvtrace.ko load,
# hvt-vmm (tests/kvm/hvt-vmm.c, our deterministic VMM on /dev/kvm) runs
# seeded guest programs while `hvtrace record --kvm` records them (vmm-smp:
# 2 VMs of 3 vCPUs each running at once); filters; attach/detach cycles
# while VMs run; unloads.  On the host: kvmcheck.py
# compares every exit with the VMM's plan value by value; three peers watch
# the same runs (vmm-a, linux-a): lttng-modules' own kvm_x86_exit in the same
# LTTng session (count per reason per vCPU, reason and RIP exit by exit),
# perf kvm stat (its report's count per reason per vCPU against hvtrace hist)
# and the kernel's kvm:kvm_exit through ftrace (counts and RIPs per reason);
# then the log and dmesg checks below.  Results in build/kvm-e2e/latest
# (HVT_KVM_RES moves build/kvm-e2e); the boot is skipped when its inputs are
# unchanged (--force boots anyway).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
kdir=${KDIR:-$top/build/cache/kernel/kdir}
lttng=${LTTNG_SRC:-$top/build/cache/lttng-build}
hvtrace=${HVT_BIN:-$top/build/bin/hvtrace}
res=${HVT_KVM_RES:-$top/build/kvm-e2e}
kcache=$top/build/cache/kernel
kvmprobe=$lttng-kvm/lttng-probe-kvm-x86.ko
perf=$kcache/perf/usr/bin/perf
out=$res/latest
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() {	# check "description" command...
	local d=$1
	shift
	if "$@" > "$res/check.log" 2>&1; then ok "$d"; else
		not_ok "$d"
		sed 's/^/# /' "$res/check.log" | tail -n 15
	fi
}
force=no
[ "${1:-}" = --force ] && force=yes

if ! command -v bochs > /dev/null; then
	echo "1..0 # SKIP bochs missing (testbed/install-deps.sh e2e)"
	exit 0
fi
mkdir -p "$res"
# the peers need KVM's headers (lttng-modules' kvm-x86 probe) and linux-perf
# of the kernel's version: fetched and built by the e2e-prep step, else here
if [ ! -f "$lttng/Module.symvers" ] || [ ! -f "$kvmprobe" ] || [ ! -x "$perf" ]; then
	bash testbed/fetch-kernel.sh "$kcache" > /dev/null 2>&1
	bash testbed/build-lttng.sh "$kcache" "$lttng" > /dev/null 2>&1
fi
work=$res/work
rm -rf "$work"
mkdir -p "$work/payload/modules"
if make -C kmod KDIR="$kdir" LTTNG_SRC="$lttng" > "$res/build.log" 2>&1 &&
   ${CC:-cc} -std=gnu11 -Wall -Wextra -O2 -static -o "$work/hvt-vmm" tests/kvm/hvt-vmm.c \
	>> "$res/build.log" 2>&1 &&
   ${CC:-cc} -std=gnu11 -Wall -Wextra -O2 -static -I kmod/uapi -o "$work/kvm-cycles" \
	tests/kvm/kvm-cycles.c >> "$res/build.log" 2>&1 && [ -x "$hvtrace" ] &&
   [ -f "$kvmprobe" ] && "$perf" --version > "$res/perf-version.txt" 2>&1; then
	ok "hvtrace.ko, the LTTng probe, hvt-vmm, hvtrace, lttng-modules' kvm-x86 probe and $(cat "$res/perf-version.txt") are there"
else
	not_ok "hvtrace.ko, the LTTng probe, hvt-vmm, hvtrace (make analyzer), $kvmprobe and $perf (testbed/fetch-kernel.sh, build-lttng.sh)"
	tail -n 20 "$res/build.log" | sed 's/^/# /'
	echo "1..$n"
	exit 1
fi
kver=$(cat build/cache/kernel/kver)
kmods=build/cache/kernel/root/lib/modules/$kver/kernel
cp kmod/hvtrace.ko kmod/lttng-probe-hvtrace.ko "$kmods/virt/lib/irqbypass.ko" \
	"$kmods/arch/x86/kvm/kvm.ko" "$kmods/arch/x86/kvm/kvm-intel.ko" "$work/payload/modules/"
testbed/payload-add-bin.sh "$work/payload" "$hvtrace" "$work/hvt-vmm" "$work/kvm-cycles" "$perf" > /dev/null
# not in modules/: the guest's sessiond would load it at its start, and
# kvm.ko with it (run.sh loads it after kvm_intel)
mkdir -p "$work/payload/kvm-probe"
cp "$kvmprobe" "$work/payload/kvm-probe/"
cp tests/kvm/guest/run.sh "$work/payload/run.sh"
cp tests/kvm/guest/peers.sh "$work/payload/peers.sh"
# the real Linux guest: QEMU and its firmware, Debian's kernel as a PVH
# vmlinux, a busybox initramfs (tests/kvm/mkl2.py)
linux=no
qemu=$(command -v qemu-system-x86_64 || true)
if [ -n "$qemu" ] && [ -f /usr/share/seabios/bios-256k.bin ] && [ -f /usr/share/qemu/pvh.bin ]; then
	if [ ! -f "$res/l2/vmlinux" ] || [ "$res/l2/vmlinux" -ot build/cache/kernel/kver ]; then
		python3 tests/kvm/mkl2.py build/cache/kernel/root/boot/vmlinuz-$(cat build/cache/kernel/kver) \
			"$(command -v busybox)" "$res/l2" >> "$res/build.log" 2>&1
	fi
	testbed/payload-add-bin.sh "$work/payload" "$qemu" > /dev/null
	mkdir -p "$work/payload/share" "$work/payload/l2"
	cp /usr/share/seabios/bios-256k.bin /usr/share/qemu/pvh.bin /usr/share/qemu/linuxboot_dma.bin \
		/usr/share/qemu/linuxboot.bin /usr/share/qemu/kvmvapic.bin "$work/payload/share/"
	cp "$res/l2/vmlinux" "$res/l2/tiny.cpio.gz" "$work/payload/l2/"
	linux=yes
fi
params="SEED=${HVT_KVM_SEED:-42}
SEED2=${HVT_KVM_SEED2:-4242}
OPS=${HVT_KVM_OPS:-300}
CYCLES=${HVT_KVM_CYCLES:-50}
SMP_OPS=${HVT_KVM_SMP_OPS:-200}"
# HVT_KVM_QUICK=1: only up to vmm-a (a shorter boot while developing)
[ -n "${HVT_KVM_QUICK:-}" ] && params="$params
QUICK=$HVT_KVM_QUICK"
echo "$params" > "$work/payload/env"

inputs=$( { (cd "$work/payload" && find . -type f | sort | xargs sha256sum)
	cat build/cache/testbed-base/.stamp 2> /dev/null; sha256sum testbed/guest-run.sh; } |
	sha256sum | cut -c1-32)
if [ "$force" = yes ] || [ ! -f "$out/inputs.sha" ] || [ "$(cat "$out/inputs.sha")" != "$inputs" ]; then
	rm -rf "$res/boot"
	start=$(date +%s)
	testbed/guest-run.sh --payload "$work/payload" --out "$res/boot" \
		--cpu-model corei7_haswell_4770 --mem 2048 --timeout 3600 --quiet \
		> "$res/guest-run.log" 2>&1
	rc=$?
	rm -rf "$out"
	mv "$res/boot" "$out" 2> /dev/null || mkdir -p "$out"
	cp "$res/guest-run.log" "$out/"
	echo "rc=$rc seconds=$(( $(date +%s) - start ))" > "$out/boot-status.txt"
	[ $rc -eq 0 ] && echo "$inputs" > "$out/inputs.sha"
else
	echo "# results in $out are current (same payload): not booting again"
fi
if grep -q '^rc=0' "$out/boot-status.txt" 2> /dev/null; then
	ok "the guest booted and ran the scenario ($(cat "$out/boot-status.txt"))"
else
	not_ok "the guest booted and ran the scenario ($(cat "$out/boot-status.txt" 2> /dev/null))"
	tail -n 25 "$out/guest-run.log" 2> /dev/null | sed 's/^/# /'
	echo "1..$n"
	exit 1
fi
L=$out/logs

check "kvm_intel and hvtrace.ko load together (VMX owned by KVM)" \
	grep -q 'modprobe hvtrace rc=0' "$L/modprobe-hvtrace.txt"
check "XSAVE is on in the guest kernel (KVM's real guest-FPU path)" \
	grep -q 'xstate features 0x7' "$out/run.log"
check "hvt-vmm alone runs its plan" grep -q 'ops ran as planned' "$L/vmm-alone.out"
for t in vmm-a vmm-b vmm-c vmm-reasons vmm-pid vmm-smp; do
	check "record --kvm $t: status 0, 0 dropped, 0 discarded" \
		sh -c "grep -qx 0 '$L/$t.rc' && grep -q ' 0 dropped' '$L/$t.out' && grep -q 'events discarded: 0, packets lost: 0' '$L/$t.out'"
done
vmxh=$(ls "$kcache"/root/usr/src/linux-headers-*-common/arch/x86/include/uapi/asm/vmx.h | sed -n 1p)
# perf_args NAME: perf kvm stat report (of the guest's perf.data, read here
# with the same perf) and hvtrace hist, per vCPU of the trace, as kvmcheck
# --perf arguments
perf_args() {
	local v
	for v in $("$hvtrace" hist --by vcpu --format csv "$out/traces/$1" 2> /dev/null | tail -n +2 | cut -d, -f1); do
		"$perf" kvm -i "$out/perf-$1.data" stat report --vcpu "$v" > "$res/perf-$1-vcpu$v.txt" 2>&1
		"$hvtrace" hist --vcpu "$v" --format csv "$out/traces/$1" > "$res/hist-$1-vcpu$v.csv" 2>&1
		echo "--perf $v,$res/perf-$1-vcpu$v.txt,$res/hist-$1-vcpu$v.csv"
	done
}
check "lttng-modules' kvm-x86 probe loads after kvm_intel; kvm_x86_exit enabled in vmm-a's session" \
	sh -c "grep -qx rc=0 '$L/insmod-kvm-probe.txt' && grep -qx rc=0 '$L/vmm-a-lttng-peer.txt'"
check "vmm-a: every exit equals the plan value by value" \
	python3 tests/kvm/kvmcheck.py "$out/traces/vmm-a" "$out/plans/vmm-a.jsonl"
check "vmm-a peers: kvm_x86_exit (same session) per reason and exit by exit, perf kvm stat per reason, ftrace kvm:kvm_exit" \
	python3 tests/kvm/kvmcheck.py --lttng-peer $(perf_args vmm-a) --vmx-h "$vmxh" \
	--ftrace "$out/ftrace-vmm-a.txt" "$out/traces/vmm-a" "$out/plans/vmm-a.jsonl"
cp "$res/check.log" "$res/peers-vmm-a.txt"
# the peer checks themselves: one guest_rip of kvm_x86_exit changed, one
# kvm_x86_exit left out, one count of perf's report changed: each reported
babeltrace2 "$out/traces/vmm-a" > "$res/bt-vmm-a.txt" 2> /dev/null
python3 - "$res/bt-vmm-a.txt" "$res/bt-vmm-a-bad.txt" "$res/perf-vmm-a-vcpu0.txt" "$res/perf-vmm-a-bad.txt" <<'PYEOF'
import re, sys
L = open(sys.argv[1]).read().splitlines(True)
k = [i for i, x in enumerate(L) if " kvm_x86_exit: " in x]
L[k[40]] = re.sub(r"guest_rip = (\d+)", lambda m: "guest_rip = %d" % (int(m.group(1)) + 1), L[k[40]])
del L[k[100]]
open(sys.argv[2], "w").write("".join(L))
P = open(sys.argv[3]).read().splitlines(True)
r = next(i for i, x in enumerate(P) if re.match(r"\s*IO_INSTRUCTION\s+\d+", x))
P[r] = re.sub(r"(IO_INSTRUCTION\s+)(\d+)", lambda m: m.group(1) + str(int(m.group(2)) + 1), P[r])
open(sys.argv[4], "w").write("".join(P))
PYEOF
check "kvmcheck reports a changed kvm_x86_exit guest_rip, a missing kvm_x86_exit and a changed perf count" \
	sh -c "! python3 tests/kvm/kvmcheck.py --bt-text '$res/bt-vmm-a-bad.txt' --lttng-peer \
		--perf '0,$res/perf-vmm-a-bad.txt,$res/hist-vmm-a-vcpu0.csv' --vmx-h '$vmxh' \
		'$out/traces/vmm-a' '$out/plans/vmm-a.jsonl' > '$res/bad-peers.out' &&
	       grep -q 'lttng peer: vcpu 0 exit 41 .*rip' '$res/bad-peers.out' &&
	       grep -q 'lttng peer: vcpu 0: [0-9]* kvm_x86_exit events, [0-9]* hvtrace exits' '$res/bad-peers.out' &&
	       grep -q 'perf peer: vcpu 0 IO_INSTRUCTION: perf kvm stat' '$res/bad-peers.out'"
# the checker itself: one bit changed in an XMM value and in a GPR of the
# plan, and the error code of the injected #GP, must each be reported
python3 - "$out/plans/vmm-b.jsonl" "$res/bad-plan.jsonl" <<'PYEOF'
import json, sys
L = [json.loads(x) for x in open(sys.argv[1])]
L[10]["xmm"][7] ^= 1
L[20]["gpr"][13] ^= 1 << 40
next(p for p in L[1:] if p.get("kind") == "rdmsr_gp")["inject"][1] = 1
open(sys.argv[2], "w").write("".join(json.dumps(x) + "\n" for x in L))
PYEOF
check "kvmcheck reports a one-bit change of the plan in XMM, in a GPR and in an injected error code" \
	sh -c "! python3 tests/kvm/kvmcheck.py '$out/traces/vmm-b' '$res/bad-plan.jsonl' > '$res/bad-plan.out' &&
	       [ \$(grep -c 'FAIL' '$res/bad-plan.out') -eq 3 ]"
check "vmm-b (same seed): every exit equals the plan" \
	python3 tests/kvm/kvmcheck.py "$out/traces/vmm-b" "$out/plans/vmm-b.jsonl"
check "vmm-c (other seed, 2 VMs in one VMM): every exit of both VMs equals the plan" \
	python3 tests/kvm/kvmcheck.py "$out/traces/vmm-c" "$out/plans/vmm-c.jsonl"
check "vmm-smp (2 VMs of 3 vCPUs each at the same time): every exit of every vCPU equals its plan; their exits interleave; hist --by vm and --by vcpu count as the trace" \
	python3 tests/kvm/kvmcheck.py --hist "$hvtrace" "$out/traces/vmm-smp" "$out/plans/vmm-smp.jsonl"
cp "$res/check.log" "$res/smp.txt"
# the per-vCPU check itself: one GPR bit of one op of the second VM's vCPU 1
# changed in the plan must be reported for that vCPU (and only there)
python3 - "$out/plans/vmm-smp.jsonl" "$res/bad-smp.jsonl" <<'PYEOF'
import json, sys
L = [json.loads(x) for x in open(sys.argv[1])]
next(p for p in L[1:] if p["vm_index"] == 1 and p["vcpu"] == 1 and p["op"] == 7)["gpr"][9] ^= 1 << 33
open(sys.argv[2], "w").write("".join(json.dumps(x) + "\n" for x in L))
PYEOF
check "kvmcheck reports a one-bit change of the plan of one vCPU, for that vCPU" \
	sh -c "! python3 tests/kvm/kvmcheck.py '$out/traces/vmm-smp' '$res/bad-smp.jsonl' > '$res/bad-smp.out' &&
	       [ \$(grep -c 'FAIL' '$res/bad-smp.out') -eq 1 ] && grep -q 'FAIL vm [0-9]* vcpu 1 seq [0-9]* op 7 .*gpr\[9\]' '$res/bad-smp.out'"
check "--reasons CPUID,IO_INSTRUCTION: only those, each as planned; the rest counted as filtered" \
	python3 tests/kvm/kvmcheck.py --reasons 10,30 "$out/traces/vmm-reasons" "$out/plans/vmm-reasons.jsonl"
check "--pid 1: no exit recorded, all counted as filtered" \
	python3 tests/kvm/kvmcheck.py --expect-none "$out/traces/vmm-pid" "$out/plans/vmm-pid.jsonl"
check "trace folders are readable by their owner only" \
	sh -c "[ \"\$(stat -c %a '$out/traces/vmm-a')\" = 700 ]"
cyc=$(tail -n 1 "$L/cycles.txt" 2> /dev/null)
check "attach/detach ioctl cycles while VMs run: all succeed ($cyc)" \
	sh -c "grep -qx 0 '$L/cycles.rc' && echo '$cyc' | awk '{ exit !(\$2 >= 50 && \$2 == \$4 && \$6 > 0) }'"
rcyc=$(tail -n 1 "$L/cycles-record.txt" 2> /dev/null)
check "record --kvm --duration cycles while VMs run: all succeed ($rcyc)" \
	sh -c "echo '$rcyc' | awk '{ exit !(\$3 > 0 && \$3 == \$5) }'"
check "the VMM running during the cycles finished every VM as planned" \
	sh -c "grep -qx 0 '$L/cycles-vmm.rc' && grep -q 'VMs ran as planned' '$L/cycles-vmm.out'"
if [ $linux = yes ]; then
	H=$hvtrace
	for t in linux-a linux-b; do
		check "$t: a Linux guest under QEMU/KVM reaches its init marker while recorded (status 0, 0 dropped, 0 discarded)" \
			sh -c "grep -qx 0 '$L/$t.rc' && grep -q L2-MARKER '$L/$t.out' && grep -q ' 0 dropped' '$L/$t.out' && grep -q 'events discarded: 0, packets lost: 0' '$L/$t.out'"
	done
	check "linux-a: seq gap-free, one resume per exit; peers: kvm_x86_exit (same session) per reason and exit by exit, perf kvm stat per reason, ftrace kvm:kvm_exit per reason, count and RIP sequence" \
		python3 tests/kvm/kvmcheck.py --no-plan --lttng-peer $(perf_args linux-a) --vmx-h "$vmxh" \
		--ftrace "$out/ftrace-linux-a.txt" "$out/traces/linux-a"
	cp "$res/check.log" "$res/peers-linux-a.txt"
	check "linux-b: seq gap-free, one resume per exit" \
		python3 tests/kvm/kvmcheck.py --no-plan "$out/traces/linux-b"
	check "hvtrace hist reads the Linux guest's trace" "$H" hist "$out/traces/linux-a"
	"$H" hist "$out/traces/linux-a" > "$res/hist-linux-a.txt" 2>&1
	"$H" replay --check "$out/traces/linux-a" > "$res/replay-linux-a.txt" 2>&1
	echo "replay status $?" >> "$res/replay-linux-a.txt"
	"$H" diff "$out/traces/linux-a" "$out/traces/linux-b" > "$res/diff-linux.txt" 2>&1
	echo "diff status $?" >> "$res/diff-linux.txt"
	echo "# linux-a: $(grep -m1 '^events' "$res/hist-linux-a.txt"); replay: $(tail -n 2 "$res/replay-linux-a.txt" | tr '\n' ' ')"
	echo "# diff linux-a linux-b: $(grep '^summary' "$res/diff-linux.txt") $(tail -n 1 "$res/diff-linux.txt")"
else
	echo "# no qemu-system-x86_64/seabios here: the real-Linux-guest part is skipped (testbed/install-deps.sh e2e)"
fi
check "before kvm.ko is loaded, record --kvm is refused (status 2, ENOENT explained)" \
	sh -c "grep -qx 2 '$L/nokvm.rc' && grep -q 'kvm.ko is not loaded' '$L/nokvm.err'"
check "lttng-modules' kvm-x86 probe unloads after the peer runs (it holds kvm.ko)" \
	grep -qx rc=0 "$L/rmmod-kvm-probe.txt"
check "while attached: kvm_intel unloads (no VM, nothing of it used), kvm.ko does not (our module reference)" \
	sh -c "grep -q 'rc=0' '$L/rmmod-kvm-intel.txt' && ! grep -q 'rc=0' '$L/rmmod-kvm-attached.txt' && grep -q '^kvm ' '$L/modules-attached.txt'"
check "after the detach kvm.ko unloads (no reference left); that recording ended cleanly" \
	sh -c "grep -q 'rc=0' '$L/rmmod-kvm.txt' && grep -qx 0 '$L/hold.rc'"
check "hvtrace unloads, 0 allocations outstanding" \
	sh -c "grep -q 'rc=0' '$L/rmmod-hvtrace.txt' && grep -q 'unloaded, 0 allocations outstanding' '$out/dmesg-full.txt'"
check "dmesg: no WARNING, BUG, Oops or call trace" \
	sh -c "! grep -E 'WARNING|BUG|Oops|Call Trace|general protection' '$out/dmesg-full.txt'"
check "dmesg: every attach has its detach" \
	sh -c "[ \$(grep -c 'kvm attach [0-9]*:' '$out/dmesg-full.txt') -eq \$(grep -c 'kvm detach [0-9]*:' '$out/dmesg-full.txt') ]"

echo "1..$n"
[ $failed -eq 0 ]
