#!/bin/bash
# hvtrace replay --check under each backend's RIP rules (--rules, and auto
# from the session records): KVM's emulator restarting REP INS with RCX
# decreased, a resume into a reset vCPU (SMM entry), RIP set by the VMM at
# an exit handed to userspace are no violation under KVM's rules and are
# under the sandbox's; a CPUID not advanced, or a REP INS without progress,
# stays one under every rules.  Host-mode traces: one chain per CPU, no
# sandbox fault fixups.  The real Linux boot of the KVM end-to-end run is
# checked when it is present (build/kvm-e2e).
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash

# the seq of the first exit of REASON on vCPU 0 with seq >= FROM
first_seq() {	# first_seq TRACE REASON FROM
	"$HVTRACE" dump --vcpu 0 --reason "$2" "$1" 2>/dev/null |
		awk -v from="$3" '$2 == "exit" { if ($6 + 0 >= from) { print $6; exit } }'
}

synth base --exits 600 --seed 21 --mix cpuid=4,rdtsc=3,io=1
cpuid=$(first_seq "$T/base" CPUID 50)
rdtsc=$(first_seq "$T/base" RDTSC 50)
check "the synthetic trace has a CPUID ($cpuid) and an RDTSC ($rdtsc) exit" \
	test -n "$cpuid" -a -n "$rdtsc"

# expect NAME STATUS PATTERN ARGS...: status and a line of the output
expect() {
	local name=$1 st=$2 pat=$3
	shift 3
	run "$@"
	if [ "$RC" -eq "$st" ] && grep -qE -- "$pat" "$T/out"; then
		ok 0 "$name"
	else
		ok 1 "$name" "status $RC (want $st), want /$pat/:" "$(cat "$T/out" "$T/err" | head -8)"
	fi
}

# ---- a CPUID whose RIP was not advanced: a violation under every rules
synth cpuid-stuck --exits 600 --seed 21 --mix cpuid=4,rdtsc=3,io=1 --break "rip@$cpuid"
for rules in sandbox kvm host auto; do
	expect "CPUID not advanced: rip-skip at seq $cpuid under --rules $rules" 1 \
		"^vCPU 0 seq $cpuid: rip-skip: RIP not advanced" replay --check --rules "$rules" "$T/cpuid-stuck"
done

# ---- REP INS restarted by KVM's emulator (an RDTSC exit made one: its
# resume has three values, as RCX, RDI and RFLAGS need)
restart=(--alter "$rdtsc:exit_reason=30" --alter "$rdtsc:exit_qual=0x5110039" --alter "$rdtsc:rcx=4"
	 --alter "$rdtsc:resume.changed=0x20082" --alter "$rdtsc:resume.values[1]=0x6f4c"
	 --alter "$rdtsc:resume.values[2]=0x10046")
synth rep --exits 600 --seed 21 --mix cpuid=4,rdtsc=3,io=1 "${restart[@]}" \
	--alter "$rdtsc:resume.values[0]=0"
run dump --seq "$rdtsc" "$T/rep"
check "the edited exit is a rep ins resumed with rcx 0 at the same RIP" \
	grep -qE "seq $rdtsc RESUME rcx=0x0 rdi=0x6f4c rflags=0x10046 tsc" "$T/out"
expect "REP INS restarted (RCX 4 -> 0): no violation under --rules kvm" 0 \
	"^rules: kvm \(not violations: 1 REP string I/O restart by KVM's emulator, 0 resumes" \
	replay --check --rules kvm "$T/rep"
expect "... and a rip-skip under --rules sandbox" 1 "^vCPU 0 seq $rdtsc: rip-skip: " \
	replay --check --rules sandbox "$T/rep"
run replay --check --rules kvm --format json "$T/rep"
check "--format json counts it in string_restarts" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["ok"] and d["string_restarts"] == 1 and d["rules"] == "kvm" else 1)' "$T/out"
synth rep-stuck --exits 600 --seed 21 --mix cpuid=4,rdtsc=3,io=1 "${restart[@]}" \
	--alter "$rdtsc:resume.values[0]=4"
expect "REP INS at the same RIP with RCX unchanged: rip-skip under --rules kvm" 1 \
	"^vCPU 0 seq $rdtsc: rip-skip: RIP not advanced" replay --check --rules kvm "$T/rep-stuck"

# ---- an SMI taken at an OUT (SeaBIOS's out 0xb2): RIP 0x8000, RFLAGS 2,
# CR0.PE clear; and RIP set elsewhere by the VMM after an OUT
smm=(--alter "$rdtsc:exit_reason=30" --alter "$rdtsc:exit_qual=0xb20000"
     --alter "$rdtsc:cr0=0x80000011" --alter "$rdtsc:rflags=0x46")
synth smm --exits 600 --seed 21 --mix cpuid=4,rdtsc=3,io=1 "${smm[@]}" \
	--alter "$rdtsc:resume.changed=0x8000000030000" --alter "$rdtsc:resume.values[0]=0x8000" \
	--alter "$rdtsc:resume.values[1]=0x2" --alter "$rdtsc:resume.values[2]=0x30"
expect "SMM entry at an OUT: no violation under --rules kvm" 0 \
	"^rules: kvm \(not violations: 0 REP string I/O restarts by KVM's emulator, 1 resume into a reset vCPU" \
	replay --check --rules kvm "$T/smm"
expect "... and a rip-skip under --rules sandbox" 1 "^vCPU 0 seq $rdtsc: rip-skip: resumed rip 0x8000" \
	replay --check --rules sandbox "$T/smm"
synth vmm-rip --exits 600 --seed 21 --mix cpuid=4,rdtsc=3,io=1 "${smm[@]}" \
	--alter "$rdtsc:resume.changed=0x10005" --alter "$rdtsc:resume.values[2]=0x1100"
expect "RIP set by the VMM after an OUT: no violation under --rules kvm" 0 \
	", 1 RIP set by the VMM after an exit to userspace\)$" replay --check --rules kvm "$T/vmm-rip"
synth cpuid-moved --exits 600 --seed 21 --mix cpuid=4,rdtsc=3,io=1 \
	--alter "$cpuid:resume.values[4]=0x1100"
expect "CPUID resumed elsewhere: rip-skip under --rules kvm (KVM keeps CPUID in the kernel)" 1 \
	"^vCPU 0 seq $cpuid: rip-skip: resumed rip 0x1100" replay --check --rules kvm "$T/cpuid-moved"

# ---- sandbox traces stay on the sandbox's rules by default
run replay --check "$T/base"
ok $RC "a sandbox trace: chain OK by default" "$(cat "$T/out")"
check "... with no rules line (sandbox rules)" sh -c "! grep -q '^rules:' '$T/out'"

# ---- host mode: one chain per CPU, exits of several programs interleaved
synth host --exits 2000 --vcpus 2 --seed 22 --pid 300 --comm prog --alter 40:comm=other --alter 40:pid=301
expect "two CPUs under --rules host: chain OK on 2 vCPUs" 0 \
	"^replay check: 2000 exits, 2000 resumes on 2 vCPUs: chain OK$" replay --check --rules host "$T/host"
check "... the rules line says host" grep -q '^rules: host$' "$T/out"
synth host-gp --exits 1000 --seed 12 --mix cpuid=5,wrmsr=2,wrmsr-gp=2
expect "sandbox fault fixups are violations under --rules host" 1 "^vCPU 0 seq [0-9]+: rip-skip: resumed rip" \
	replay --check --rules host "$T/host-gp"

# ---- a real KVM trace of the repository: KVM's rules by its session records
expect "samples/kvm-vmm-s42 (hvt-vmm under KVM): chain OK under KVM's rules" 0 \
	"^rules: kvm " replay --check samples/kvm-vmm-s42

# ---- the Linux boot of the KVM end-to-end run, when this tree has one
lin=build/kvm-e2e/latest/traces/linux-a
if [ -f "$lin/kernel/metadata" ] || [ -n "$(find "$lin" -name metadata 2>/dev/null | head -1)" ]; then
	expect "a real Linux boot under KVM: chain OK (auto: KVM's rules)" 0 \
		"^rules: kvm \(not violations: [1-9][0-9]* REP string I/O restarts?[^,]*, [1-9][0-9]* resumes? into a reset vCPU" \
		replay --check "$lin"
	expect "... and its three KVM cases are rip-skip under --rules sandbox" 1 \
		" violations \(rip-skip [0-9]+\)$" replay --check --rules sandbox "$lin"
else
	skip "a real Linux boot under KVM: chain OK" "no $lin (make e2e's KVM run)"
	skip "... and its three KVM cases are rip-skip under --rules sandbox" "no $lin"
fi

# ---- bad input
expect_error "--rules takes auto, sandbox, kvm or host" "--rules takes auto, sandbox, kvm or host" \
	replay --check --rules xen "$T/base"
expect_error "--rules goes with --check" "--rules goes with --check" replay --rules kvm "$T/base"

done_testing
