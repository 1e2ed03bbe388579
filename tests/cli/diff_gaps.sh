#!/bin/bash
# hvtrace diff past long gaps: blocks of thousands of exits inserted or
# missing (one, several, at the start, at the end), a polling loop that ran
# longer in one run, two loops whose iterations look alike, the bound
# (--max-window) hit and said so, memory and time of a long gap.
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash

# summary COUNTS: "aligned differing missing inserted" from the text summary
summary() {
	sed -n 's/^summary: \([0-9]*\) exits aligned (\([0-9]*\) with differing fields), \([0-9]*\) missing in B, \([0-9]*\) inserted in B.*/\1 \2 \3 \4/p' "$T/out"
}

# expect NAME "ALIGNED DIFFERING MISSING INSERTED" A B [OPTIONS...]
expect() {
	local name=$1 want=$2 a=$3 b=$4
	shift 4
	run diff "$@" "$T/$a" "$T/$b"
	local got
	got=$(summary)
	if [ "$RC" -eq 1 ] && [ "$got" = "$want" ] && ! grep -q '^BOUND HIT' "$T/out"; then
		ok 0 "$name"
	else
		ok 1 "$name" "status $RC, got '$got', want '$want'" "$(tail -3 "$T/out")" "$(head -3 "$T/err")"
	fi
}

# ---- the case of issue 9: 3000 exits inserted into a 10,000-exit run
synth base --exits 10000 --seed 5
synth ins3000 --exits 10000 --seed 5 --insert-at 4000:3000
run diff --format json "$T/base" "$T/base"
aligned=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["aligned"])' "$T/out")
expect "3000 inserted in a 10,000-exit run: exactly 3000 inserted, nothing missing, no field differs" \
	"$aligned 0 0 3000" base ins3000
check "listed from B seq 4000 to 6999" \
	test "$(grep -E '^  vCPU 0  B seq ' "$T/out" | awk 'NR == 1 {f = $5} {l = $5} END {print f, l, NR}')" = "4000 4999 1000"
check "the first divergence is B seq 4000 inserted" \
	grep -q '^first divergence: vCPU 0, A seq -, B seq 4000: exit inserted in B$' "$T/out"
expect "the other way round: exactly 3000 missing" "$aligned 0 3000 0" ins3000 base
run diff --max 0 --format csv "$T/base" "$T/ins3000"
check "--max 0 lists all 3000, B seq 4000..6999" \
	test "$(grep -c '^inserted,0,,' "$T/out")" -eq 3000 -a \
	     "$(grep '^inserted,0,,' "$T/out" | cut -d, -f4 | sort -n | sed -n '1p;$p' | tr '\n' ' ')" = "4000 6999 "

# ---- deletions: 3000 consecutive exits the second run never had
synth del3000 --exits 10000 --seed 5 --drop-seq "$(seq -s, 2001 5000)"
# (--async: the dropped block holds asynchronous exits too; counted with them)
expect "3000 dropped exits: exactly 3000 missing" "7000 0 3000 0" base del3000 --async
check "they are A seq 2001..5000" \
	test "$(grep -E '^  vCPU 0  A seq ' "$T/out" | awk 'NR == 1 {f = $5} {l = $5} END {print f, NR}')" = "2001 1000"

# ---- several long gaps, both ways, and at the start and the end
synth many --exits 20000 --seed 5 --insert-at 1:2500 --insert-at 6000:4000 \
	--drop-seq "$(seq -s, 9001 12000)" --insert-at 15000:40 --drop-seq "$(seq -s, 17001 19999)"
synth base20 --exits 20000 --seed 5
expect "gaps at the start (2500), middle (4000, 40 inserted; 3000 dropped) and end (2999 dropped): each exact" \
	"14001 0 5999 6540" base20 many --max 0 --async
check "the 2500 at the start are B seq 1..2500" \
	test "$(grep -E '^  vCPU 0  B seq ' "$T/out" | awk '{print $5}' | sed -n '1p;2500p' | tr '\n' ' ')" = "1 2500 "

# ---- a gap on the second vCPU while the first runs on
synth v2 --exits 20000 --vcpus 2 --seed 9
synth v2ins --exits 20000 --vcpus 2 --seed 9 --edit-vcpu 1 --insert-at 3000:6000
run diff "$T/v2" "$T/v2ins"
check "6000 inserted on vCPU 1 of 2: exact" grep -q ' 0 missing in B, 6000 inserted in B' "$T/out"
check "listed on vCPU 1 from B seq 3000" grep -q '^  vCPU 1  B seq 3000  ' "$T/out"

# ---- a polling loop (IN 0x3fd, RDTSC, again) 3000 exits longer in B
synth poll500 --exits 10000 --seed 5 --poll-at 4000:500
synth poll3500 --exits 10000 --seed 5 --poll-at 4000:3500
run diff --format json "$T/poll500" "$T/poll500"
alp=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["aligned"])' "$T/out")
expect "a polling loop 3000 exits longer: 3000 inserted, no field differs" "$alp 0 0 3000" poll500 poll3500
expect "and 3000 shorter: 3000 missing" "$alp 0 3000 0" poll3500 poll500

# ---- two loops with a few exits between: the second loop's iterations
# also match the first loop's extra ones (a resync there would report the
# exits between the loops missing and inserted)
synth two --exits 10000 --seed 5 --poll-at 3000:200 --poll-at 3010:200
synth twolong --exits 10000 --seed 5 --poll-at 3000:3200 --poll-at 3010:200
run diff --format json "$T/two" "$T/two"
alt=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["aligned"])' "$T/out")
expect "first of two loops 3000 exits longer: exactly 3000 inserted" "$alt 0 0 3000" two twolong
expect "with --window 64: the same" "$alt 0 0 3000" two twolong --window 64

# ---- a block replaced by as many other exits (a polling loop in A where
# B ran other code): nothing in common, reported as such, quickly
synth repa --exits 40000 --seed 5 --poll-at 10001:20000
synth repb --exits 40000 --seed 5 --insert-at 10001:20000
SECONDS=0
run diff --format json "$T/repa" "$T/repa"
alr=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["aligned"])' "$T/out")
expect "20000 exits replaced by 20000 others: 20000 missing, 20000 inserted" \
	"$((alr - 20000)) 0 20000 20000" repa repb
check "in under 20 s ($SECONDS s)" test "$SECONDS" -lt 20

# ---- the bound: past --max-window the report says so
run diff --window 256 --max-window 1024 "$T/base" "$T/ins3000"
ins=$(summary | awk '{print $4}')
mis=$(summary | awk '{print $3}')
check "--max-window 1024 below the gap: inserted - missing is still 3000 ($ins - $mis)" \
	test "$((ins - mis))" -eq 3000
check "and a BOUND HIT line says where and what to raise" \
	grep -q '^BOUND HIT: 1 divergence ran past --max-window 1024 exits with no 8 equal exits in a row (first: vCPU 0 from A seq 400[0-9], B seq 4000); .* raise --max-window$' "$T/out"
run diff --window 256 --max-window 1024 --format json "$T/base" "$T/ins3000"
check "JSON: summary.bound_hits 1, max_window 1024" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["summary"]["bound_hits"] == 1 and d["max_window"] == 1024 else 1)' "$T/out"
check "with --format json the bound hit is also one line on stderr" \
	grep -q '^hvtrace: warning: diff: 1 divergence ran past --max-window 1024 exits' "$T/err"
run diff --window 256 --max-window 4096 --format json "$T/base" "$T/ins3000"
check "--max-window 4096: exact, the window grew, no bound hit" /usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
sys.exit(0 if s["bound_hits"] == 0 and s["window_growths"] >= 1 and s["inserted_in_b"] == 3000 and s["missing_in_b"] == 0 else 1)' "$T/out"

if json_validator; then
	run diff --window 256 --max-window 1024 --format json "$T/base" "$T/ins3000"
	check "--format json with a bound hit validates against diff.schema.json" \
		validate_json schemas/json/diff.schema.json "$T/out"
else
	skip "--format json with a bound hit validates against diff.schema.json" "no python3-jsonschema"
fi

# ---- memory and time of a long gap: bounded by the gap, not the trace
synth g20k --exits 60000 --seed 5 --insert-at 30000:20000
synth b60k --exits 60000 --seed 5
/usr/bin/time -f '%M %e' -o "$T/time" "$HVTRACE" diff "$T/b60k" "$T/g20k" > "$T/out" 2> "$T/err"
RC=$?
read -r rss secs < <(tail -1 "$T/time")
check "20000 inserted in 60000: exact with the defaults" grep -q ' 0 missing in B, 20000 inserted in B' "$T/out"
# the window grew to 32768 exits per side: packed, about 0.3 KB each, on
# top of the ~26 MB base (sanitized builds pad every allocation)
case $HVTRACE in
*asan*) skip "peak RSS ${rss} KB: under 64 MB" "sanitized build" ;;
*) check "peak RSS ${rss} KB: under 64 MB" test "$rss" -lt 65536 ;;
esac

# ---- bad input
expect_error "--max-window below --window" "--max-window 100 is below --window 2048" \
	diff --max-window 100 "$T/base" "$T/ins3000"
expect_error "--max-window not a number" "--max-window" diff --max-window lots "$T/base" "$T/ins3000"
expect_error "--max-window too small" "--max-window between" diff --max-window 8 --window 16 "$T/base" "$T/ins3000"

done_testing
