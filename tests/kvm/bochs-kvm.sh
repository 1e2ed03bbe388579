#!/bin/bash
# TAP: the KVM capture backend in Bochs (corei7_haswell_4770: VMX with EPT,
# and Debian's kernel keeps XSAVE on there, so KVM's guest-FPU path is the
# one real machines take; 1024 MB so that kvm_intel has room for its VMs).
#
# Inside the guest (tests/kvm/guest/run.sh): kvm_intel and hvtrace.ko load,
# hvt-vmm (tests/kvm/hvt-vmm.c, our deterministic VMM on /dev/kvm) runs
# seeded guest programs while `hvtrace record --kvm` records them; filters;
# attach/detach cycles while VMs run; unloads.  On the host: kvmcheck.py
# compares every exit with the VMM's plan value by value, the kernel's own
# kvm:kvm_exit (ftrace, same run) is the peer for counts and RIPs, and the
# log and dmesg checks below.  Results in build/kvm-e2e/latest; the boot is
# skipped when its inputs are unchanged (--force boots anyway).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
kdir=${KDIR:-$top/build/cache/kernel/kdir}
lttng=${LTTNG_SRC:-$top/build/cache/lttng-build}
hvtrace=${HVT_BIN:-$top/build/bin/hvtrace}
res=$top/build/kvm-e2e
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
if [ ! -f "$lttng/Module.symvers" ]; then
	bash testbed/fetch-kernel.sh build/cache/kernel > /dev/null 2>&1
	bash testbed/build-lttng.sh build/cache/kernel "$lttng" > /dev/null 2>&1
fi
work=$res/work
rm -rf "$work"
mkdir -p "$work/payload/modules"
if make -C kmod KDIR="$kdir" LTTNG_SRC="$lttng" > "$res/build.log" 2>&1 &&
   ${CC:-cc} -std=gnu11 -Wall -Wextra -O2 -static -o "$work/hvt-vmm" tests/kvm/hvt-vmm.c \
	>> "$res/build.log" 2>&1 &&
   ${CC:-cc} -std=gnu11 -Wall -Wextra -O2 -static -I kmod/uapi -o "$work/kvm-cycles" \
	tests/kvm/kvm-cycles.c >> "$res/build.log" 2>&1 && [ -x "$hvtrace" ]; then
	ok "hvtrace.ko, the LTTng probe, hvt-vmm and hvtrace build"
else
	not_ok "hvtrace.ko, the LTTng probe, hvt-vmm and hvtrace build (hvtrace: make analyzer)"
	tail -n 20 "$res/build.log" | sed 's/^/# /'
	echo "1..$n"
	exit 1
fi
kver=$(cat build/cache/kernel/kver)
kmods=build/cache/kernel/root/lib/modules/$kver/kernel
cp kmod/hvtrace.ko kmod/lttng-probe-hvtrace.ko "$kmods/virt/lib/irqbypass.ko" \
	"$kmods/arch/x86/kvm/kvm.ko" "$kmods/arch/x86/kvm/kvm-intel.ko" "$work/payload/modules/"
testbed/payload-add-bin.sh "$work/payload" "$hvtrace" "$work/hvt-vmm" "$work/kvm-cycles" > /dev/null
cp tests/kvm/guest/run.sh "$work/payload/run.sh"
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
CYCLES=${HVT_KVM_CYCLES:-50}"
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
for t in vmm-a vmm-b vmm-c vmm-reasons vmm-pid; do
	check "record --kvm $t: status 0, 0 dropped, 0 discarded" \
		sh -c "grep -qx 0 '$L/$t.rc' && grep -q ' 0 dropped' '$L/$t.out' && grep -q 'events discarded: 0, packets lost: 0' '$L/$t.out'"
done
check "vmm-a: every exit equals the plan value by value; ftrace kvm:kvm_exit agrees" \
	python3 tests/kvm/kvmcheck.py --ftrace "$out/ftrace-vmm-a.txt" "$out/traces/vmm-a" "$out/plans/vmm-a.jsonl"
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
	check "linux-a: seq gap-free, one resume per exit; ftrace kvm:kvm_exit agrees per reason, count and RIP sequence" \
		python3 tests/kvm/kvmcheck.py --no-plan --ftrace "$out/ftrace-linux-a.txt" "$out/traces/linux-a"
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
