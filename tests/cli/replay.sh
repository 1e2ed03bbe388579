#!/bin/bash
# hvtrace replay: summary, --at (full state, flags and MXCSR decoded),
# --step (handler vs guest changes), --check (every violation kind at its
# seq), JSON validated against schemas/json/replay.schema.json, bad input.
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash

synth clean --exits 3000 --vcpus 2 --seed 11
synth alt --exits 400 --seed 5 --mix cpuid=3,rdmsr=1,io=1 --alter 33:rflags=0x246 --alter 33:mxcsr=0x9fe1 \
	--alter 33:xmm[0]=0x3ff0000000000000 --alter 33:xmm[1]=0x4000000040400000 \
	--alter 34:mxcsr=0x7f80

# ---- --check on a clean trace
run replay --check "$T/clean"
ok $RC "--check passes on a clean trace (status 0)" "$(cat "$T/out" "$T/err")"
check "--check says chain OK with every exit and resume" \
	grep -q '^replay check: 3000 exits, 3000 resumes on 2 vCPUs: chain OK$' "$T/out"

# ---- refused WRMSRs resumed at their fault fixup (RAX = 13) are no violation
synth gp --exits 1000 --seed 12 --mix cpuid=5,wrmsr=2,wrmsr-gp=2
run replay --check "$T/gp"
ok $RC "--check passes with faults delivered at fixups" "$(cat "$T/out")"
nfix=$(grep -o '^([0-9]* faulting instructions resumed at their fixup' "$T/out" | grep -o '[0-9]*')
nbt=$(babeltrace2 "$T/gp" 2>/dev/null | grep ' hvtrace_resume: ' | grep -c 'values = \[ \[0\] = 0xD, ')
check "every fixup resume is counted ($nbt with RAX = 13 in babeltrace2)" test "${nfix:-0}" -eq "$nbt" -a "$nbt" -gt 0

# ---- every violation kind, reported once at its seq
brk() {		# brk NAME KIND SEQ WANT-SEQ WANT-KIND [synth args]
	local name=$1 kind=$2 seq=$3 wseq=$4 wkind=$5
	shift 5
	synth "b-$kind" --exits 300 --seed 3 --break "$kind@$seq" "$@"
	run replay --check "$T/b-$kind"
	local lines
	lines=$(grep -c '^vCPU ' "$T/out")
	if [ "$RC" -eq 1 ] && [ "$lines" -eq 1 ] &&
	   grep -q "^vCPU 0 seq $wseq: $wkind: " "$T/out"; then
		ok 0 "$name"
	else
		ok 1 "$name" "status $RC (want 1), $lines violation lines (want 1):" "$(cat "$T/out" "$T/err")"
	fi
}
brk "a seq gap is reported at the exit after it" gap 120 121 gap
brk "an exit without resume is reported at its seq" no-resume 77 77 no-resume
brk "a second resume is reported" dup-resume 50 50 dup-resume
brk "a resume naming another seq is reported" resume-seq 60 60 resume-seq
brk "values longer than popcount(changed) are reported" values-len 90 90 values-len
brk "RIP not advanced past CPUID is reported" rip 40 40 rip-skip --mix cpuid=1
brk "rsp differing from gpr[4] is reported" rsp 10 10 rsp

synth lost --exits 300 --seed 3 --discarded 4@100
run replay --check "$T/lost"
ok $((RC != 1)) "discarded events fail the check (status 1)"
check "the discarded record is reported with its count" grep -q '^discarded: the tracer discarded 8 events' "$T/out"
check "the gap they leave is reported at seq 104" grep -q '^vCPU 0 seq 104: gap: seq jumps from 99 to 104: 4 exits missing' "$T/out"
check "the result says INCOMPLETE" grep -q '^INCOMPLETE: 8 events discarded by the tracer, 4 exits missing' "$T/out"

run replay --check --max 1 "$T/lost"
check "--max 1 shows one violation and says how many there were" \
	bash -c "[ \$(grep -c '^vCPU \|^discarded:' '$T/out') -eq 1 ] && grep -q '1 of them shown' '$T/out'"

if json_validator; then
	for tr in clean lost b-dup-resume; do
		run replay --check --format json "$T/$tr"
		cp "$T/out" "$T/check-$tr.json"
		validate_json schemas/json/replay.schema.json "$T/check-$tr.json" > "$T/verr" 2>&1
		ok $? "--check --format json on $tr validates" "$(cat "$T/verr")"
	done
	/usr/bin/python3 - "$T/check-lost.json" "$T/check-clean.json" > "$T/d1" <<'PY'
import json, sys
lost, clean = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = []
if clean["ok"] is not True or clean["violations"] or clean["exits"] != 3000: bad.append("clean %r" % clean)
if lost["ok"] or not lost["incomplete"] or lost["counts"]["gap"] != 1 or lost["counts"]["discarded"] != 1: bad.append("lost counts")
if [v["seq"] for v in lost["violations"] if v["kind"] == "gap"] != [104]: bad.append("gap seq")
print("\n".join(bad)); sys.exit(1 if bad else 0)
PY
	ok $? "JSON check results carry the counts and seqs" "$(cat "$T/d1")"
else
	ok 1 "python3-jsonschema available"
fi

# ---- parallel check (one thread per group of streams) = serial check
synth par --exits 4000 --vcpus 4 --seed 13 --edit-vcpu 2 --break no-resume@50 \
	--break rsp@70 --discarded 2@100
run replay --check "$T/par"
sort "$T/out" > "$T/par.txt"
HVT_REPLAY_SERIAL=1 timeout 120 "$HVTRACE" replay --check "$T/par" 2>&1 | sort > "$T/ser.txt"
check "parallel and serial --check report the same (4 vCPUs)" cmp -s "$T/par.txt" "$T/ser.txt"
check "and find the 4 problems on vCPU 2" \
	grep -q '^replay check: 3998 exits, 3997 resumes on 4 vCPUs: 4 violations (gap 1, no-resume 1, rsp 1, discarded 1)$' "$T/par.txt"

# ---- several traces at once: vCPU numbers and seq restart in each
mkdir -p "$T/multi"
"$HVT_SYNTH" --out "$T/multi/run1" --quiet --exits 300 --seed 1
"$HVT_SYNTH" --out "$T/multi/run2" --quiet --exits 200 --seed 2
run replay --check "$T/multi"
ok $RC "two traces of vCPU 0 check clean (no seq going back)" "$(cat "$T/out" "$T/err")"
check "the traces are listed" grep -q "^trace 1: $T/multi/run2\$" "$T/out"
run replay "$T/multi"
check "the summary has one row per trace and vCPU" \
	bash -c "grep -qE '^ +0 +0 +300 +1 +300 ' '$T/out' && grep -qE '^ +1 +0 +200 +1 +200 ' '$T/out'"

run replay --at 5 --trace 1 "$T/multi"
check "--at --trace 1 picks the second trace" grep -q "^trace 1 ($T/multi/run2) vCPU 0 exit seq 5 " "$T/out"

# ---- summary
run replay "$T/clean"
ok $RC "summary exits 0"
check "summary has one row per vCPU with 1500 exits, seq 1..1500" \
	bash -c "[ \$(grep -cE '^ +[01] +1500 +1 +1500 +0 ' '$T/out') -eq 2 ]"
check "the last exit of each vCPU is the end-of-run hypercall" \
	bash -c "[ \$(grep -c 'VMCALL .*HVT_HC_END' '$T/out') -eq 2 ]"

# ---- --at: values as babeltrace2 shows them, decoded flags
run replay --at 33 "$T/alt"
ok $RC "--at 33 exits 0" "$(cat "$T/err")"
bt_line=$(babeltrace2 "$T/alt" 2>/dev/null | grep ' hvtrace_exit: ' | grep 'seq = 33,')
bt_rip=$(printf '%s' "$bt_line" | grep -o 'rip = 0x[0-9A-F]*' | awk '{print tolower($3)}')
bt_rax=$(printf '%s' "$bt_line" | grep -o '\[0\] = 0x[0-9A-F]*' | head -1 | awk '{print tolower($3)}')
check "rip matches babeltrace2's ($bt_rip)" grep -qE "^  rip +0x0*${bt_rip#0x}$" "$T/out"
check "rax matches babeltrace2's ($bt_rax)" grep -qE "^  rax +0x0*${bt_rax#0x} " "$T/out"
check "RFLAGS 0x246 decodes as PF ZF IF IOPL=0" grep -qF '[PF ZF IF IOPL=0]' "$T/out"
check "MXCSR 0x9fe1 decodes flags, masks, rounding, FZ, DAZ" \
	grep -qF '[flags=IE,PE masks=IM,DM,ZM,OM,UM,PM rc=nearest fz=1 daz=1]' "$T/out"
check "xmm0 is shown high half first" grep -q '^  xmm0   0x40000000404000003ff0000000000000$' "$T/out"
check "the handler's changes follow the state" grep -qE '^  rip +0x[0-9a-f]+ -> 0x' "$T/out"
run replay --at 34 "$T/alt"
check "MXCSR rounding control 3 is toward zero" grep -qF 'rc=zero fz=0 daz=0' "$T/out"
run replay --at 33 --float "$T/alt"
check "--float shows xmm0 as f64 1 and f32 3 2" grep -qF 'f32 [0 1.875 3 2]  f64 [1 2]' "$T/out"
if json_validator; then
	run replay --at 33 --float --format json "$T/alt"
	cp "$T/out" "$T/at.json"
	validate_json schemas/json/replay.schema.json "$T/at.json" 2> "$T/verr"
	ok $? "--at --format json validates" "$(cat "$T/verr")"
	run replay --format json "$T/clean"
	cp "$T/out" "$T/sum.json"
	validate_json schemas/json/replay.schema.json "$T/sum.json" 2> "$T/verr"
	ok $? "summary --format json validates" "$(cat "$T/verr")"
fi

# ---- --step
run replay --step --vcpu 1 --from 10 --count 5 "$T/clean"
ok $RC "--step exits 0"
check "--count 5 shows 5 exits" test "$(grep -c '^vCPU 1 seq ' "$T/out")" -eq 5
check "--from 10 starts at seq 10" bash -c "grep '^vCPU' '$T/out' | head -1 | grep -q '^vCPU 1 seq 10 '"
check "every exit shows the handler's RIP change" \
	test "$(grep -c '^  handler  rip ' "$T/out")" -ge 4
check "guest changes are listed" grep -q '^  guest    ' "$T/out"
if json_validator; then
	run replay --step --count 20 --format json "$T/clean"
	cp "$T/out" "$T/step.json"
	validate_json schemas/json/replay.schema.json "$T/step.json" 2> "$T/verr"
	ok $? "--step --format json validates" "$(cat "$T/verr")"
fi

# ---- bad input: status 2, one line
expect_error "missing trace folder" "no-such" replay "$T/no-such"
expect_error "--at a seq that does not exist" "no exit with seq 99999" replay --at 99999 --vcpu 0 "$T/clean"
expect_error "--at without a number" "--at" replay --at x "$T/clean"
expect_error "two modes at once" "choose one" replay --check --step "$T/clean"
expect_error "unknown option" "--bogus" replay --bogus "$T/clean"
expect_error "--step from past the end" "no exit" replay --step --from 999999 "$T/clean"
expect_error "--vcpu with --check" "--vcpu and --trace go with" replay --check --vcpu 1 "$T/clean"
expect_error "no trace" "missing TRACE" replay
synth v9 --exits 20 --schema-version 9
expect_error "a trace of an unknown schema version" "schema" replay --check "$T/v9"

done_testing
