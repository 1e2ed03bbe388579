#!/bin/bash
# The defects an adversarial review of the reader and the verbs found
# (issue 10), each reproduced on a synthetic trace: lost packets, an exit
# without resume at the end, latency sums and wild resume TSCs, --threads
# determinism, replay --step across a gap, silent truncation in the reader,
# synth edits that did nothing, traces without session records, --vcpu.
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash

# json_get FILE EXPR: a Python expression over the document d.
json_get() {
	/usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- 1. discarded packets are reported, never dropped ------------------
synth pk --exits 3000 --seed 5 --discarded-packet 5@1000
run hist --format json "$T/pk"
ok $RC "hist on a trace with a lost packet exits 0" "$(cat "$T/err")"
check "hist json: lost.discarded_packets 1" \
	test "$(json_get "$T/out" 'd["lost"]["discarded_packets"]')" = 1
check "hist json: the warning says packets" \
	test "$(json_get "$T/out" '[w["packets"] for w in d["warnings"] if w["kind"] == "discarded"]')" = "[1]"
check "hist warns of the lost packet on stderr" grep -q '1 packet lost by the tracer' "$T/err"
if json_validator; then
	validate_json schemas/json/hist.schema.json "$T/out" 2> "$T/verr"
	ok $? "hist json with a lost packet validates" "$(cat "$T/verr")"
fi
run hist "$T/pk"
check "hist text header counts the lost packet" grep -q 'discarded 0 events, 1 lost packet' "$T/out"
run replay --check "$T/pk"
check "replay --check: INCOMPLETE names the lost packet" \
	grep -q 'INCOMPLETE: 0 events discarded by the tracer, 1 packet lost whole' "$T/out"
run dump "$T/pk"
check "dump shows a LOST line for the packet" grep -q 'LOST .*1 packet lost' "$T/out"
run dump --format json "$T/pk"
check "dump json: the discarded record says packets 1" grep -q '"packets":1' "$T/out"
if json_validator; then
	validate_json schemas/json/dump.schema.json "$T/out" lines 2> "$T/verr"
	ok $? "dump json with a lost packet validates" "$(cat "$T/verr")"
fi

# A lost packet holding only the session END leaves no seq gap.
synth pkend --exits 2000 --seed 5 --discarded-packet end
run hist --format json "$T/pkend"
check "hist: a lost END packet (no seq gap) is still counted" \
	test "$(json_get "$T/out" 'd["lost"]["discarded_packets"], d["lost"]["seq_gaps"]')" = "(1, 0)"
run replay --check --format json "$T/pkend"
check "replay --check json: incomplete, discarded_packets 1" \
	test "$(json_get "$T/out" 'd["incomplete"], d["discarded_packets"]')" = "(True, 1)"
if json_validator; then
	validate_json schemas/json/replay.schema.json "$T/out" 2> "$T/verr"
	ok $? "replay --check json with a lost packet validates" "$(cat "$T/verr")"
fi

synth pkref --exits 3000 --seed 5
run diff "$T/pkref" "$T/pk"
check "diff: INCOMPLETE B names the lost packet" \
	grep -q 'INCOMPLETE B: .*1 packet lost whole' "$T/out"

# ---- 4. replay --step does not step across a seq gap ---------------------
synth stepgap --exits 2000 --seed 5 --discarded 5@1000
run replay --step --from 999 --count 1 "$T/stepgap"
check "replay --step: a gap note after seq 999" \
	grep -q 'gap      exits 1000..1004 missing (5)' "$T/out"
if grep -q '^  guest ' "$T/out"; then
	ok 1 "replay --step: no guest changes claimed across the gap" "$(cat "$T/out")"
else
	ok 0 "replay --step: no guest changes claimed across the gap"
fi
run replay --step --from 999 --count 1 --format json "$T/stepgap"
check "replay --step json: guest null and the gap given" \
	test "$(json_get "$T/out" 'd["steps"][0]["guest"], d["steps"][0]["gap"]')" = \
	"(None, {'from_seq': 1000, 'to_seq': 1004, 'missing': 5})"
if json_validator; then
	validate_json schemas/json/replay.schema.json "$T/out" 2> "$T/verr"
	ok $? "replay --step json with a gap validates" "$(cat "$T/verr")"
fi

# ---- 2. an exit without resume at the end of a stream ------------------
synth nores --exits 2000 --seed 5 --break no-resume@2000
run hist --format json "$T/nores"
check "hist: the last exit without resume is counted" \
	test "$(json_get "$T/out" 'd["exits"], d["resumes"], d["lost"]["exits_without_resume"]')" = "(2000, 1999, 1)"
check "hist warns of the exit without resume" grep -q '1 exits have no resume event' "$T/err"
run hist --threads 2 --format json "$T/nores"
check "hist --threads 2: the same count" \
	test "$(json_get "$T/out" 'd["lost"]["exits_without_resume"]')" = 1

# ---- 3. latency sums cannot overflow; wild resume TSCs are flagged -------
synth wild --exits 400 --seed 5 --alter 100:resume.tsc=18446744073709551000 \
	--alter 200:resume.tsc=18446744073709551100
run hist --format json "$T/wild"
check "hist: two wild resume TSCs are flagged" \
	test "$(json_get "$T/out" 'd["lost"]["implausible_latencies"]')" = 2
check "hist: and left out of the times (max stays small)" \
	test "$(json_get "$T/out" 'd["total"]["max"] < 10**6 and d["total"]["samples"] == 398')" = True
check "hist warns of the wild TSCs" grep -q '2 resumes have a TSC implausibly far after' "$T/err"
run hist "$T/wild"
check "synth --alter SEQ:resume.tsc takes effect (dump shows it)" \
	sh -c "'$HVTRACE' dump '$T/wild' | grep -q 'resume  vcpu 0 seq 100 .* tsc 18446744073709551000'"

# ---- 5. --threads 1 and --threads 2 agree past the warning cap -----------
gaps=()
for i in $(seq 10 10 900); do gaps+=(--break "gap@$i"); done
synth ga --exits 1000 --seed 7 "${gaps[@]}"
synth gb --exits 1000 --seed 8 "${gaps[@]}"
run hist --threads 1 --format json "$T/gb" "$T/ga"
grep -v '"threads"' "$T/out" > "$T/one"
cp "$T/err" "$T/one.err"
check "hist: 180 gap warnings, 64 kept" \
	test "$(json_get "$T/out" 'len(d["warnings"]), d["warnings_omitted"]')" = "(64, 116)"
run hist --threads 2 --format json "$T/gb" "$T/ga"
check "--threads 2 used two threads" grep -q '"threads": 2' "$T/out"
grep -v '"threads"' "$T/out" | cmp -s - "$T/one"
ok $? "--threads 2 = --threads 1 past the warning cap (json)" "$(grep -v '"threads"' "$T/out" | diff "$T/one" - | head -8)"
cmp -s "$T/err" "$T/one.err"
ok $? "--threads 2 = --threads 1 past the warning cap (stderr)" "$(diff "$T/one.err" "$T/err" | head -6)"
run hist --threads 1 "$T/gb" "$T/ga"
cp "$T/out" "$T/one.txt"
run hist --threads 2 "$T/gb" "$T/ga"
cmp -s "$T/out" "$T/one.txt"
ok $? "--threads 2 = --threads 1 (text, two runs)" "$(diff "$T/one.txt" "$T/out" | head -6)"

# ---- 7. --vcpu counts that vCPU's events; no silent schema version --------
synth three --exits 3000 --vcpus 3 --seed 9
run hist --vcpu 1 --format json "$T/three"
check "hist --vcpu 1: events are vCPU 1's (exits + resumes + its 2 session records)" \
	test "$(json_get "$T/out" 'd["events"] == d["exits"] + d["resumes"] + 2 and d["exits"] == 1000')" = True
synth nosess --exits 300 --seed 9 --no-session
for verb in hist dump "replay --check" "replay"; do
	run $verb "$T/nosess"
	check "$verb warns when no session record says the schema version" \
		grep -q 'no hvtrace_session record: the trace does not say its schema version' "$T/err"
done
run diff "$T/nosess" "$T/nosess"
check "diff warns when no session record says the schema version" \
	grep -q 'A: 1 trace without any hvtrace_session record' "$T/err"

# ---- 6. the reader never cuts silently -----------------------------------
synth long --exits 50 --seed 3 --break values-long@20
expect_error "reader: a values sequence past the schema's max is an error" \
	"corrupt hvtrace_resume event" replay --check "$T/long"
synth wide --exits 50 --seed 3 --wide vcpu=4294967296@20
expect_error "reader: a 64-bit vcpu value is not narrowed to 32 bits" \
	"field 'vcpu' holds 4294967296, which does not fit its 32-bit schema type" dump "$T/wide"
# The libbabeltrace2 decoder (the reference) on its own, too.
expect_error "reader (bt2): a values sequence past the schema's max is an error" \
	"elements, the schema allows at most" replay --decoder bt2 --check "$T/long"
expect_error "reader (bt2): a 64-bit vcpu value is not narrowed to 32 bits" \
	"field 'vcpu' holds 4294967296, which does not fit its 32-bit schema type" \
	dump --decoder bt2 "$T/wide"
for t in pk pkend; do
	run hist --decoder bt2 --format json "$T/$t"
	check "hist --decoder bt2: the lost packet of $t is counted" \
		test "$(json_get "$T/out" 'd["lost"]["discarded_packets"]')" = 1
done
synth wideok --exits 50 --seed 3 --wide vcpu=0@20
run hist "$T/wideok"
ok $RC "reader: a wider metadata integer with values that fit reads fine" "$(cat "$T/err")"

done_testing
