#!/bin/bash
# hvtrace diff: inputs and programs.  --inputs loose (the default on KVM and
# host-mode traces): a differing value the guest read from outside (RDTSC,
# IN, RDMSR, MMIO) or an interrupt injected at another exit is an input
# difference, listed apart and not a divergence; register values that
# differ after it are data derived from it; control flow (exits missing or
# inserted), control registers and injected exceptions still diverge.
# --inputs strict (the sandbox's default) counts everything.  --comm and
# --pid compare the exits of one program, thread by thread over all CPUs,
# whatever else ran; traces older than schema v3 are refused in one line.
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash

first_seq() {	# first_seq TRACE REASON FROM: seq of the first such exit of vCPU 0
	"$HVTRACE" dump --vcpu 0 --reason "$2" "$1" 2>/dev/null |
		awk -v from="$3" '$2 == "exit" { if ($6 + 0 >= from) { print $6; exit } }'
}

expect() {	# expect NAME STATUS PATTERN ARGS...
	local name=$1 st=$2 pat=$3
	shift 3
	run "$@"
	if [ "$RC" -eq "$st" ] && grep -qE -- "$pat" "$T/out"; then
		ok 0 "$name"
	else
		ok 1 "$name" "status $RC (want $st), want /$pat/:" "$(grep -v '^  ' "$T/out" | head -12)" "$(head -3 "$T/err")"
	fi
}

common=(--exits 800 --seed 31 --mix cpuid=4,rdtsc=3,io=1)
synth a "${common[@]}"
tsc=$(first_seq "$T/a" RDTSC 100)
cpuid=$(first_seq "$T/a" CPUID $((tsc + 1)))
check "the trace has an RDTSC ($tsc) and a CPUID after it ($cpuid)" test -n "$tsc" -a -n "$cpuid"
cpuid0=$(first_seq "$T/a" CPUID 20)
[ "$cpuid0" -lt "$tsc" ] || cpuid0=
check "and a CPUID before it ($cpuid0)" test -n "$cpuid0"

# B read another TSC value; the guest carried it in rbx to the next CPUID
synth tsc "${common[@]}" --alter "$tsc:resume.values[0]=0x1234" --alter "$cpuid:rbx=0x1234"
expect "default (sandbox: strict): the TSC value is the first divergence" 1 \
	"^first divergence: vCPU 0, A seq $tsc, B seq $tsc: resume.values\[0\] \(rax\) differs" diff "$T/a" "$T/tsc"
expect "--inputs loose: same control flow, status 0" 0 \
	": SAME CONTROL FLOW \(inputs differ\)$" diff --inputs loose "$T/a" "$T/tsc"
check "... the RDTSC value is listed as an input difference" \
	grep -qE "^  vCPU 0  A seq $tsc / B seq $tsc  RDTSC  resume.values\[0\] \(rax\): A 0x[0-9a-f]+, B 0x1234$" "$T/out"
check "... and rbx at the later CPUID counted as data derived from it" \
	grep -qE '^data derived from them: 1 register value differs .* \(in 1 aligned exit with no other difference\)' "$T/out"
check "... with no first divergence" sh -c "! grep -q '^first divergence' '$T/out'"
run diff --inputs loose --format json "$T/a" "$T/tsc"
check "--format json: input_differences and summary counts" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
ok = (d["inputs"] == "loose" and d["same"] and d["first_divergence"] is None and
      len(d["input_differences"]) == 1 and d["input_differences"][0]["seq_a"] == int(sys.argv[2]) and
      s["input_differences"] == 1 and s["data_differences"] == 1 and s["data_pairs"] == 1 and
      s["field_differences"] == 0)
sys.exit(0 if ok else 1)' "$T/out" "$tsc"
if json_validator && validate_json schemas/json/diff.schema.json "$T/out" 2> "$T/verr"; then
	ok 0 "--format json validates against diff.schema.json"
else
	ok 1 "--format json validates against diff.schema.json" "$(cat "$T/verr" 2>/dev/null)"
fi
run diff --inputs loose --format csv "$T/a" "$T/tsc"
check "--format csv: one input row" \
	test "$(grep -c "^input,0,$tsc,$tsc,RDTSC,resume.values\[0\] (rax)," "$T/out")" -eq 1
expect "--strict-inputs: the TSC value diverges again" 1 \
	"^first divergence: vCPU 0, A seq $tsc, B seq $tsc: resume.values\[0\] \(rax\) differs" \
	diff --inputs loose --strict-inputs "$T/a" "$T/tsc"

# what stays a divergence under --inputs loose
synth pre "${common[@]}" --alter "$cpuid0:rbx=0x1234" --alter "$tsc:resume.values[0]=0x1234"
expect "a register that differs before any input difference diverges" 1 \
	"^first divergence: vCPU 0, A seq $cpuid0, B seq $cpuid0: exit.gpr\[3\] \(rbx\) differs" \
	diff --inputs loose "$T/a" "$T/pre"
synth cpuidval "${common[@]}" --alter "$cpuid:resume.values[0]=0x77"
expect "a CPUID result (not an input) diverges" 1 \
	"^first divergence: vCPU 0, A seq $cpuid, B seq $cpuid: resume.values\[0\] \(rax\) differs" \
	diff --inputs loose "$T/a" "$T/cpuidval"
synth cr3 "${common[@]}" --alter "$tsc:resume.values[0]=0x1234" --alter "$cpuid:cr3=0x5000"
expect "CR3 after an input difference is no data: diverges" 1 \
	"^first divergence: vCPU 0, A seq $cpuid, B seq $cpuid: exit.cr3 differs" \
	diff --inputs loose "$T/a" "$T/cr3"
synth drop "${common[@]}" --alter "$tsc:resume.values[0]=0x1234" --drop-seq $((tsc + 5))
expect "an exit missing after an input difference: control flow diverges" 1 \
	"^first divergence: vCPU 0, A seq $((tsc + 5)), B seq -: exit missing in B" \
	diff --inputs loose "$T/a" "$T/drop"
check "... and the input difference before it is named" \
	grep -qE "^after the input difference at A seq $tsc / B seq $tsc: RDTSC  resume.values\[0\] \(rax\): A 0x[0-9a-f]+, B 0x1234$" "$T/out"

# interrupts injected at other exits: timing; an injected exception is not
synth irq "${common[@]}" --alter "$cpuid:resume.action=2" --alter "$cpuid:resume.inject_info=0x80000030"
expect "an external interrupt injected at another exit: an input difference" 0 \
	"^  vCPU 0  A seq $cpuid / B seq $cpuid  CPUID .* resume.action: A 0, B 2$" \
	diff --inputs loose "$T/a" "$T/irq"
synth exc "${common[@]}" --alter "$cpuid:resume.action=2" --alter "$cpuid:resume.inject_info=0x80000b0e"
expect "an exception (#PF) injected in one run only diverges" 1 \
	"^first divergence: vCPU 0, A seq $cpuid, B seq $cpuid: resume.action differs" \
	diff --inputs loose "$T/a" "$T/exc"

# ---- one program among others (host mode): --comm, --pid
# prog is exits 100..139 of vCPU 0 in both runs (pid 200 in A, 300 in B);
# B's other exits differ
prog_a=() prog_b=() prog_c=()
for s in $(seq 100 139); do
	prog_a+=(--alter "$s:comm=prog" --alter "$s:pid=200" --alter "$s:tid=200")
	prog_b+=(--alter "$s:comm=prog" --alter "$s:pid=300" --alter "$s:tid=301")
done
host=(--exits 1200 --vcpus 2 --seed 32 --comm bash --pid 100)
synth ha "${host[@]}" "${prog_a[@]}"
synth hb "${host[@]}" "${prog_b[@]}" --alter 20:rbx=0x99 --alter 400:rcx=0x98
synth hc "${host[@]}" "${prog_b[@]}" --alter 20:rbx=0x99 --alter 120:rcx=0x97
expect "the whole machine: different (other programs' exits differ)" 1 ": DIFFERENT$" diff "$T/ha" "$T/hb"
expect "--comm prog: the program's 40 exits, one thread, the same" 0 \
	"^A: .*\(40 exits compared on 1 thread, 1160 exits of other programs left out" \
	diff --async --comm prog "$T/ha" "$T/hb"
check "... SAME (pid and tid differ by nature)" grep -q ': SAME$' "$T/out"
check "... CR3 is ignored (two processes)" grep -q '^ignored fields: .*exit.cr3' "$T/out"
expect "--pid 200,300: the same" 0 ": SAME$" diff --pid 200,300 "$T/ha" "$T/hb"
expect "--pid 200 (B has no pid 200): nothing of B to compare" 1 "missing in B \(in A only\): 40$" \
	diff --async --pid 200 "$T/ha" "$T/hb"
expect "--comm prog, B changed inside the program: diverges there" 1 \
	"^first divergence: thread 0, A seq 120, B seq 120: exit.gpr\[1\] \(rcx\) differs" diff --comm prog "$T/ha" "$T/hc"

# ---- several VMs (KVM): each VM's vCPU 0 is a timeline of its own, VMs
# matched in order of appearance (their numbers differ between boots)
vma=() vmb=()
for s in $(seq 1 400); do
	if [ "$s" -le 200 ]; then a=5 b=9; else a=6 b=10; fi
	vma+=(--alter "$s:vm=$a" --alter "$s:resume.vm=$a")
	vmb+=(--alter "$s:vm=$b" --alter "$s:resume.vm=$b")
done
synth vm-a --exits 400 --seed 34 "${vma[@]}"
synth vm-b --exits 400 --seed 34 "${vmb[@]}"
synth vm-c --exits 400 --seed 34 "${vmb[@]}" --alter 300:rbx=0x77
expect "two VMs numbered 5, 6 against 9, 10: the same, on 2 vCPUs" 0 \
	"^A: .*compared on 2 vCPUs" diff "$T/vm-a" "$T/vm-b"
check "... SAME" grep -q ': SAME$' "$T/out"
expect "a change in the second VM is named VM #1" 1 \
	"^first divergence: VM #1 vCPU 0, A seq 300, B seq 300: exit.gpr\[3\] \(rbx\) differs" \
	diff "$T/vm-a" "$T/vm-c"

# ---- traces older than schema v3 say nothing of threads
synth v2 --exits 300 --seed 33 --schema-version 2
expect_error "--comm on a schema v2 trace: one line, status 2" "a schema v2 trace" \
	diff --comm prog "$T/v2" "$T/v2"
expect_error "--inputs takes auto, loose or strict" "--inputs takes auto, loose or strict" \
	diff --inputs lax "$T/a" "$T/a"
expect_error "--pid takes PID or PID_A,PID_B" "--pid takes PID or PID_A,PID_B" diff --pid 1,x "$T/a" "$T/a"

# ---- two boots of a real Linux guest under KVM, when this tree has them
la=build/kvm-e2e/latest/traces/linux-a lb=build/kvm-e2e/latest/traces/linux-b
if [ -d "$la" ] && [ -d "$lb" ]; then
	expect "two Linux boots (KVM: loose): the first divergence is control flow" 1 \
		"^first divergence: vCPU 0, A seq [0-9]+, B seq -: exit missing in B" diff "$la" "$lb"
	check "... the RTC reads are input differences" \
		grep -qE '^  vCPU 0  A seq [0-9]+ / B seq [0-9]+  IO_INSTRUCTION in 0x71 1B  resume' "$T/out"
	expect "... --strict-inputs: the first RTC read that differs" 1 \
		"^first divergence: .*: resume\.(changed|values[^ ]*( \(rax\))?) differs" diff --strict-inputs "$la" "$lb"
	check "... it is the in 0x71" grep -qE '^  !  +[0-9]+ +[0-9]+  IO_INSTRUCTION in 0x71 1B' "$T/out"
else
	for n in 1 2 3 4; do skip "two Linux boots under KVM ($n)" "no $la (make e2e's KVM run)"; done
fi

done_testing
