#!/bin/bash
# hvtrace diff: a run against itself, removed/inserted/altered exits found
# exactly where they were made, ignores, asynchronous exits, lost data,
# the alignment window's boundary, JSON against diff.schema.json, bad input.
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash

common=(--exits 4000 --vcpus 2 --seed 21)
synth a "${common[@]}"
synth a2 "${common[@]}"
synth drop "${common[@]}" --drop-seq 100,101,1500
synth ins "${common[@]}" --insert-at 700:3
synth alt "${common[@]}" --alter 250:rbx=0x1234 --alter 900:resume.action=2
synth asy "${common[@]}" --async-seed 77
synth lost "${common[@]}" --discarded 5@300
synth mix "${common[@]}" --drop-seq 10 --insert-at 1200:2 --alter 1800:mxcsr=0x5f80

run diff "$T/a" "$T/a2"
ok $RC "two runs with the same seed: status 0" "$(cat "$T/out" "$T/err")"
check "they are reported SAME" grep -q ': SAME$' "$T/out"
check "the ignored fields are listed" \
	grep -q '^ignored fields: exit.seq,exit.tsc,exit.vm,exit.pid,exit.tid,resume.seq,resume.tsc,resume.vm,session.run_id,session.tsc,session.vm,session.vmm_pid$' "$T/out"
check "asynchronous exits skipped are counted" grep -qE '^asynchronous exits skipped: A [1-9][0-9]*, B [1-9]' "$T/out"

run diff "$T/a" "$T/drop"
ok $((RC != 1)) "three exits removed: status 1"
check "exactly 3 missing in B" grep -q '^missing in B (in A only): 3$' "$T/out"
check "they are A seq 100, 101, 1500 on vCPU 0" \
	test "$(grep -E '^  vCPU 0  A seq ' "$T/out" | awk '{print $5}' | tr '\n' ' ')" = "100 101 1500 "
check "nothing inserted, no field differs" \
	grep -q '(0 with differing fields), 3 missing in B, 0 inserted in B, 0 session fields differ: DIFFERENT$' "$T/out"
check "first divergence at A seq 100" grep -q '^first divergence: vCPU 0, A seq 100, B seq -: exit missing in B$' "$T/out"
check "context shows the exits before it" grep -qE '^  = +99 +99  ' "$T/out"
check "the exit after the gap pairs with B seq 100" grep -qE '^  = +102 +100  ' "$T/out"

run diff "$T/a" "$T/ins"
ok $((RC != 1)) "three exits inserted: status 1"
check "exactly 3 inserted in B, at B seq 700..702" \
	test "$(grep -E '^  vCPU 0  B seq ' "$T/out" | awk '{print $5}' | tr '\n' ' ')" = "700 701 702 "
check "nothing missing" grep -q ' 0 missing in B, 3 inserted in B' "$T/out"

run diff "$T/a" "$T/alt"
ok $((RC != 1)) "altered fields: status 1"
bt_rbx=$(babeltrace2 "$T/a" 2>/dev/null | grep ' hvtrace_exit: ' | grep '{ vcpu = 0, seq = 250,' |
	grep -o '\[3\] = 0x[0-9A-F]*' | head -1 | awk '{print tolower($3)}')
check "rbx reported with both values (A $bt_rbx)" \
	grep -q "^  vCPU 0  A seq 250 / B seq 250  .*  exit.gpr\[3\] (rbx): A $bt_rbx, B 0x1234$" "$T/out"
check "resume.action reported with both values" \
	grep -qE '^  vCPU 0  A seq 900 / B seq 900  .*  resume.action: A [01], B 2$' "$T/out"
check "exactly 2 field differences in 2 exits" grep -q '^field differences: 2 in 2 aligned exits$' "$T/out"
check "first divergence is the rbx at seq 250" \
	grep -q "^first divergence: vCPU 0, A seq 250, B seq 250: exit.gpr\[3\] (rbx) differs: A $bt_rbx, B 0x1234$" "$T/out"
run diff --ignore rbx,resume.action "$T/a" "$T/alt"
ok $RC "--ignore rbx,resume.action: status 0" "$(tail -3 "$T/out")"
run diff --ignore exit.gpr[3] --ignore action "$T/a" "$T/alt"
ok $RC "--ignore by array element and bare name: status 0"

run diff "$T/a" "$T/asy"
ok $RC "other asynchronous exits only: status 0 (skipped by default)" "$(tail -3 "$T/out")"
run diff --async "$T/a" "$T/asy"
ok $((RC != 1)) "--async compares them: status 1"
check "--async lists no skipped count line" bash -c "! grep -q '^asynchronous exits skipped' '$T/out'"

run diff "$T/a" "$T/lost"
ok $((RC != 1)) "discarded events in B: status 1"
check "B is INCOMPLETE with its discarded count and gap" \
	grep -q '^INCOMPLETE B: the tracer discarded 10 events; 1 seq gap (5 exits missing)$' "$T/out"
check "the lost exits show as missing in B" grep -q ' 5 missing in B, 0 inserted in B' "$T/out"
check "the summary says INCOMPLETE" grep -q 'INCOMPLETE: lost data' "$T/out"

run diff "$T/a" "$T/mix"
check "mixed edits: 1 missing, 2 inserted, 1 field" \
	grep -q '(1 with differing fields), 1 missing in B, 2 inserted in B, ' "$T/out"
check "the MXCSR change is named with both values" grep -qE 'exit.mxcsr: A 0x[0-9a-f]+, B 0x5f80$' "$T/out"

run diff --format csv "$T/a" "$T/mix"
check "--format csv: header and one row per finding (1 missing, 2 inserted, 1 field)" \
	bash -c "head -1 '$T/out' | grep -qx 'kind,vcpu,seq_a,seq_b,exit,field,a,b,trace,vm' &&
		 [ \$(grep -c '^missing,0,10,,' '$T/out') -eq 1 ] &&
		 [ \$(grep -c '^inserted,0,,' '$T/out') -eq 2 ] &&
		 [ \$(grep -c '^field,0,1800,1801,.*,exit.mxcsr,0x[0-9a-f]*,0x5f80,0,0\$' '$T/out') -eq 1 ]"

# ---- the window boundary: a block longer than the window is found by
# growing it (up to --max-window); past that bound, the report says so
synth w1 --exits 3000 --seed 8 --mix cpuid=5,rdmsr=3,io=2 --insert-at 500:56
synth a-w --exits 3000 --seed 8 --mix cpuid=5,rdmsr=3,io=2
run diff --window 64 --resync 8 "$T/a-w" "$T/w1"
check "56 inserted with window 64, resync 8: exactly 56, nothing missing" \
	grep -q ' 0 missing in B, 56 inserted in B' "$T/out"
synth w2 --exits 3000 --seed 8 --mix cpuid=5,rdmsr=3,io=2 --insert-at 500:300
run diff --window 64 --resync 8 "$T/a-w" "$T/w2"
check "300 inserted with window 64: the window grows, exactly 300" \
	grep -q ' 0 missing in B, 300 inserted in B' "$T/out"
run diff --window 64 --max-window 128 --resync 8 "$T/a-w" "$T/w2"
inserted=$(grep -o ' [0-9]* inserted in B' "$T/out" | awk '{print $1}')
missing=$(grep -o ' [0-9]* missing in B' "$T/out" | awk '{print $1}')
check "300 inserted, past --max-window 128: inserted - missing is still 300 ($inserted - $missing)" \
	test "$((inserted - missing))" -eq 300
check "and the report says the bound was hit, where" \
	grep -q '^BOUND HIT: 1 divergence ran past --max-window 128 exits with no 8 equal exits in a row (first: vCPU 0 from A seq 500, B seq 500)' "$T/out"
run diff "$T/a-w" "$T/w2"
check "with the default window the 300 are exact" grep -q ' 0 missing in B, 300 inserted in B' "$T/out"

# ---- the same run with its code loaded at another address
synth r1 --exits 3000 --seed 4
synth r2 --exits 3000 --seed 4 --code-base 0xffffffffc0a13000 --drop-seq 77
run diff --rip-key page --ignore rip "$T/r1" "$T/r2"
check "code moved by whole pages: --rip-key page --ignore rip finds just the dropped exit" \
	grep -q '(0 with differing fields), 1 missing in B, 0 inserted in B, 0 session fields differ: DIFFERENT$' "$T/out"
run diff --rip-key page "$T/r1" "$T/r2"
check "without --ignore rip, every exit's rip and resumed rip differ" \
	grep -qE '^field differences: [0-9]+ in 2850 aligned exits$' "$T/out"

# ---- inputs holding several traces: trace i of A against trace i of B
mkdir -p "$T/ma" "$T/mb"
"$HVT_SYNTH" --out "$T/ma/r1" --quiet --exits 500 --seed 1
"$HVT_SYNTH" --out "$T/ma/r2" --quiet --exits 500 --seed 2
"$HVT_SYNTH" --out "$T/mb/r1" --quiet --exits 500 --seed 1
"$HVT_SYNTH" --out "$T/mb/r2" --quiet --exits 500 --seed 2 --drop-seq 40
run diff "$T/ma" "$T/mb"
check "two traces each: the one dropped exit, in trace 1" \
	bash -c "grep -q '^  trace 1 vCPU 0  A seq 40  ' '$T/out' && grep -q ' 1 missing in B, 0 inserted in B' '$T/out'"

# ---- runs that interleave their vCPUs differently: one vCPU per pass
synth il --exits 20000 --vcpus 2 --seed 6
synth se --exits 20000 --vcpus 2 --seed 6 --serial-vcpus --edit-vcpu 1 --drop-seq 9000
run diff --window 256 --max-window 256 --format json "$T/il" "$T/se"
/usr/bin/python3 - "$T/out" > "$T/d0" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
ok = s["per_vcpu_passes"] and s["missing_in_b"] == 1 and s["inserted_in_b"] == 0 and \
     s["field_differences"] == 0 and [(m["vcpu"], m["seq"]) for m in d["missing_in_b"]] == [(1, 9000)]
print(json.dumps(s)); sys.exit(0 if ok else 1)
PY
ok $? "vCPUs interleaved vs one after the other: compared per vCPU, exactly the one dropped exit" "$(cat "$T/d0")"

if json_validator; then
	for b in a2 drop alt lost; do
		run diff --format json "$T/a" "$T/$b"
		cp "$T/out" "$T/d-$b.json"
		validate_json schemas/json/diff.schema.json "$T/d-$b.json" > "$T/verr" 2>&1
		ok $? "--format json ($b) validates against diff.schema.json" "$(cat "$T/verr")"
	done
	/usr/bin/python3 - "$T/d-a2.json" "$T/d-drop.json" "$T/d-alt.json" "$T/d-lost.json" > "$T/d1" <<'PY'
import json, sys
same, drop, alt, lost = (json.load(open(p)) for p in sys.argv[1:5])
bad = []
if not same["same"] or same["first_divergence"] is not None: bad.append("same")
if [m["seq"] for m in drop["missing_in_b"]] != [100, 101, 1500]: bad.append("drop seqs")
if drop["first_divergence"]["kind"] != "missing" or drop["first_divergence"]["seq_a"] != 100: bad.append("drop first")
f = [x for x in alt["field_differences"] if x["field"] == "exit.gpr[3] (rbx)"]
if len(f) != 1 or f[0]["b"] != "0x1234" or f[0]["seq_a"] != 250: bad.append("alt field %r" % f)
if not lost["incomplete"] or lost["b"]["discarded_events"] != 10 or lost["b"]["gap_exits"] != 5: bad.append("lost")
print("\n".join(bad)); sys.exit(1 if bad else 0)
PY
	ok $? "JSON results carry the same findings" "$(cat "$T/d1")"
else
	ok 1 "python3-jsonschema available"
fi

# ---- bad input
expect_error "one trace only" "needs two traces" diff "$T/a"
expect_error "missing second trace" "no-such" diff "$T/a" "$T/no-such"
expect_error "unknown --ignore field" "no such field" diff --ignore bogus "$T/a" "$T/a2"
expect_error "--window too small" "--window" diff --window 3 "$T/a" "$T/a2"
expect_error "bad --format" "--format" diff --format xml "$T/a" "$T/a2"
synth v7 --exits 20 --schema-version 7
expect_error "a trace of an unknown schema version" "schema" diff "$T/a" "$T/v7"

done_testing
