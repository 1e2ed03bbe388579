#!/bin/bash
# TAP (fast, no emulator): tests/kvm/kvmcheck.py on the recorded KVM sample
# samples/kvm-vmm-s42 (hvt-vmm seed 42 under kvm_intel in Bochs): the trace
# equals its plan value by value and agrees with the kernel's kvm:kvm_exit
# of the same run; a one-bit change of the plan (XMM, GPR, injected error
# code, I/O qualification) and a missing exit are each reported.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
S=samples/kvm-vmm-s42
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
if ! command -v babeltrace2 > /dev/null || [ ! -f "$S/plan.jsonl" ]; then
	echo "1..0 # SKIP babeltrace2 or $S missing"
	exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
zcat "$S/ftrace-kvm_exit.txt.gz" > "$T/ftrace.txt"
if python3 tests/kvm/kvmcheck.py --ftrace "$T/ftrace.txt" "$S" "$S/plan.jsonl" > "$T/out" 2>&1; then
	ok "the sample equals its plan; ftrace's kvm:kvm_exit agrees"
else
	not_ok "the sample equals its plan; ftrace's kvm:kvm_exit agrees"
	sed 's/^/# /' "$T/out" | tail -n 10
fi
# mutate NAME PYTHON: a plan changed by PYTHON (on L, the plan's lines) must fail
mutate() {
	python3 - "$S/plan.jsonl" "$T/bad.jsonl" "$2" <<'PYEOF'
import json, sys
L = [json.loads(x) for x in open(sys.argv[1])]
exec(sys.argv[3])
open(sys.argv[2], "w").write("".join(json.dumps(x) + "\n" for x in L))
PYEOF
	if python3 tests/kvm/kvmcheck.py "$S" "$T/bad.jsonl" > "$T/out" 2>&1; then
		not_ok "a plan with $1 is reported"
	elif grep -q "FAIL" "$T/out"; then
		ok "a plan with $1 is reported: $(grep -m1 FAIL "$T/out" | cut -c1-110)"
	else
		not_ok "a plan with $1 is reported (no FAIL line)"
		sed 's/^/# /' "$T/out" | tail -n 5
	fi
}
mutate "one XMM bit changed" 'L[10]["xmm"][7] ^= 1'
mutate "one GPR bit changed" 'L[20]["gpr"][13] ^= 1 << 40'
mutate "the injected #GP error code changed" 'next(p for p in L[1:] if p.get("kind") == "rdmsr_gp")["inject"][1] = 1'
mutate "an I/O qualification changed" 'next(p for p in L[1:] if p.get("kind") == "out")["qual"] ^= 1 << 16'
mutate "one KVM change to RAX changed" 'next(p for p in L[1:] if p.get("kind") == "vmcall")["changes"]["0"] ^= 1'
mutate "an extra planned exit" 'L.insert(5, dict(L[5], rip=L[5]["rip"] + 1))'
echo "1..$n"
[ $failed -eq 0 ]
