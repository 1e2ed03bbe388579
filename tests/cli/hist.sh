#!/bin/bash
# hvtrace hist on synthetic traces: counts agree exactly with an independent
# count (babeltrace2's text output) and with the writer's own histogram, in
# text, JSON and CSV; JSON validates against schemas/json/hist.schema.json;
# grouping, sorting, --top, --vcpu, --svg and lost-event warnings behave.
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash

synth mix --exits 4000 --vcpus 3 --seed 11 --expect-hist > "$T/expect.csv" 2>/dev/null
check "synthetic trace written" test -f "$T/mix/metadata"

# Independent count: babeltrace2 | grep, per exit-reason code.
bt_reason_counts "$T/mix" > "$T/bt.txt"
check "babeltrace2 sees 4000 exits" \
	test "$(awk '{s += $2} END {print s}' "$T/bt.txt")" -eq 4000

run hist --format json "$T/mix"
cp "$T/out" "$T/hist.json"
ok $RC "hist --format json exits 0" "$(cat "$T/err")"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for g in sorted(d["groups"], key=lambda g: g["reason_code"]):
    print(g["reason_code"], g["count"])' "$T/hist.json" > "$T/json-counts.txt"
if diff -u "$T/bt.txt" "$T/json-counts.txt" > "$T/d1"; then ok 0 "json counts = babeltrace2 counts"
else ok 1 "json counts = babeltrace2 counts" "$(cat "$T/d1")"; fi

if json_validator; then
	if validate_json schemas/json/hist.schema.json "$T/hist.json" 2> "$T/verr"; then
		ok 0 "hist json validates against hist.schema.json"
	else
		ok 1 "hist json validates against hist.schema.json" "$(cat "$T/verr")"
	fi
else
	ok 1 "python3-jsonschema available" "install python3-jsonschema"
fi

# Text: count column per reason name; names mapped to codes by the JSON.
run hist "$T/mix"
ok $RC "hist text exits 0"
cp "$T/out" "$T/hist.txt"
/usr/bin/python3 -c '
import json, re, sys
d = json.load(open(sys.argv[1]))
code = {g["reason"]: g["reason_code"] for g in d["groups"]}
rows = []
for line in open(sys.argv[2]):
    m = re.match(r"^([A-Z_0-9()-]+)\*?\s+(\d+)\s", line)
    if m and m.group(1) in code:
        rows.append((code[m.group(1)], int(m.group(2))))
for c, n in sorted(rows):
    print(c, n)' "$T/hist.json" "$T/hist.txt" > "$T/text-counts.txt"
if diff -u "$T/bt.txt" "$T/text-counts.txt" > "$T/d2"; then ok 0 "text counts = babeltrace2 counts"
else ok 1 "text counts = babeltrace2 counts" "$(cat "$T/d2")"; fi
check "text header names the trace and the exits" \
	grep -q "exits 4000 " "$T/hist.txt"

# CSV: header + one row per reason; counts again.
run hist --format csv "$T/mix"
ok $RC "hist csv exits 0"
check "csv header" grep -q '^reason,count,percent,time,time_percent,min,max,mean,stddev,p50,p99$' "$T/out"
/usr/bin/python3 -c '
import csv, json, sys
d = json.load(open(sys.argv[1]))
code = {g["reason"]: g["reason_code"] for g in d["groups"]}
rows = sorted((code[r["reason"]], int(r["count"])) for r in csv.DictReader(open(sys.argv[2])))
for c, n in rows:
    print(c, n)' "$T/hist.json" "$T/out" > "$T/csv-counts.txt"
if diff -u "$T/bt.txt" "$T/csv-counts.txt" > "$T/d3"; then ok 0 "csv counts = babeltrace2 counts"
else ok 1 "csv counts = babeltrace2 counts" "$(cat "$T/d3")"; fi

# The writer's histogram: count, total handler ticks, min and max per reason.
/usr/bin/python3 - "$T/expect.csv" "$T/out" > "$T/d4" <<'PY'
import csv, sys
exp = {r["reason"]: r for r in csv.DictReader(open(sys.argv[1]))}
got = {r["reason"]: r for r in csv.DictReader(open(sys.argv[2]))}
bad = 0
if set(exp) != set(got):
    print("reasons differ:", sorted(exp), sorted(got)); bad = 1
for k in exp:
    e, g = exp[k], got.get(k)
    if g is None:
        continue
    for ek, gk in (("count", "count"), ("handler_ticks_total", "time"),
                   ("handler_ticks_min", "min"), ("handler_ticks_max", "max")):
        if int(e[ek]) != int(g[gk]):
            print(k, ek, e[ek], "!=", g[gk]); bad = 1
sys.exit(bad)
PY
ok $? "count, time, min, max = the writer's own histogram" "$(cat "$T/d4")"

# Percentages add up to 100; time percent too.
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
p = sum(g["percent"] for g in d["groups"]); t = sum(g["time_percent"] for g in d["groups"])
sys.exit(0 if abs(p - 100) < 1e-6 and abs(t - 100) < 1e-6 and d["exits"] == 4000 else 1)' "$T/hist.json"
ok $? "percent and time percent sum to 100"

# --by qual: rows refine reasons (their counts sum to the reason's count).
run hist --by qual --format json "$T/mix"
cp "$T/out" "$T/qual.json"
/usr/bin/python3 - "$T/hist.json" "$T/qual.json" > "$T/d5" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
by = {}
for g in b["groups"]:
    by[g["reason"]] = by.get(g["reason"], 0) + g["count"]
    assert "qual" in g and "qual_key" in g
want = {g["reason"]: g["count"] for g in a["groups"]}
if by != want:
    print(by, want); sys.exit(1)
cpuid = [g for g in b["groups"] if g["reason"] == "CPUID"]
if len(cpuid) < 2 or not all(g["qual"].startswith("leaf 0x") for g in cpuid):
    print("cpuid rows", cpuid); sys.exit(1)
PY
ok $? "--by qual rows sum to the reason counts, CPUID split by leaf" "$(cat "$T/d5")"
if json_validator; then
	validate_json schemas/json/hist.schema.json "$T/qual.json" 2> "$T/verr"
	ok $? "--by qual json validates" "$(cat "$T/verr")"
fi

# --by qual, independently: CPUID leaves, MSR indices and I/O ports counted
# from babeltrace2's text (RAX/RCX at the exit, qualification bits 31:16 and
# 3 per SDM Table 28-5) equal hist's rows.
babeltrace2 "$T/mix" 2>/dev/null | grep ' hvtrace_exit: ' > "$T/bt-exits.txt"
/usr/bin/python3 - "$T/bt-exits.txt" "$T/qual.json" > "$T/d7" <<'PY'
import collections, json, re, sys
want = collections.Counter()
for line in open(sys.argv[1]):
    reason = int(re.search(r"exit_reason = (0x[0-9A-Fa-f]+|\d+)", line).group(1), 0)
    gpr = re.search(r"gpr = \[ (.*?) \], xmm", line).group(1)
    regs = [int(v, 0) for v in re.findall(r"\[\d+\] = (0x[0-9A-Fa-f]+|\d+)", gpr)]
    qual = int(re.search(r"exit_qual = (0x[0-9A-Fa-f]+|\d+)", line).group(1), 0)
    if reason == 10:
        want[("CPUID", "leaf 0x%x" % (regs[0] & 0xffffffff))] += 1
    elif reason in (31, 32):
        want[("RDMSR" if reason == 31 else "WRMSR", "0x%x" % (regs[1] & 0xffffffff))] += 1
    elif reason == 30:
        want[("IO_INSTRUCTION", ("in" if qual & 8 else "out", qual >> 16 & 0xffff))] += 1
got = collections.Counter()
for g in json.load(open(sys.argv[2]))["groups"]:
    q = g.get("qual", "")
    if g["reason"] == "CPUID":
        got[("CPUID", q.split(" subleaf")[0])] += g["count"]
    elif g["reason"] in ("RDMSR", "WRMSR"):
        got[(g["reason"], q.split(" ")[0])] += g["count"]
    elif g["reason"] == "IO_INSTRUCTION":
        w = q.replace("rep ", "").split()
        got[("IO_INSTRUCTION", ("in" if w[0] in ("in", "ins") else "out", int(w[1], 16)))] += g["count"]
if want != got or not want:
    print("babeltrace2:", sorted(want.items())[:8]); print("hist:", sorted(got.items())[:8]); sys.exit(1)
PY
ok $? "--by qual CPUID leaves, MSR indices, I/O ports = babeltrace2 counts" "$(cat "$T/d7")"

# --by vcpu: three vCPUs, counts equal babeltrace2's per-vcpu counts.
run hist --by vcpu --format csv "$T/mix"
babeltrace2 "$T/mix" 2>/dev/null | grep ' hvtrace_exit: ' | grep -o '{ vcpu = [0-9]*' |
	awk '{print $4}' | sort -n | uniq -c | awk '{print $2","$1}' > "$T/bt-vcpu.txt"
tail -n +2 "$T/out" | cut -d, -f1,2 | sort -n > "$T/vcpu.txt"
if diff -u "$T/bt-vcpu.txt" "$T/vcpu.txt" > "$T/d6"; then ok 0 "--by vcpu = babeltrace2 per-vcpu counts"
else ok 1 "--by vcpu = babeltrace2 per-vcpu counts" "$(cat "$T/d6")"; fi

# --vcpu N: only that vCPU's exits.
want=$(grep '^1,' "$T/bt-vcpu.txt" | cut -d, -f2)
run hist --vcpu 1 --format json "$T/mix"
got=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["exits"])' "$T/out")
check "--vcpu 1 counts vcpu 1 only ($want)" test "$got" = "$want"

# --by rip: every group has a rip; sum is all exits.
run hist --by rip --format json "$T/mix"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if sum(g["count"] for g in d["groups"]) == 4000 and all(g["rip"].startswith("0x") for g in d["groups"]) else 1)' "$T/out"
ok $? "--by rip covers every exit"

# --sort and --top.
run hist --sort name --format csv "$T/mix"
tail -n +2 "$T/out" | cut -d, -f1 > "$T/names.txt"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
order = [g["reason"] for g in sorted(d["groups"], key=lambda g: g["reason_code"])]
got = [l.strip() for l in open(sys.argv[2])]
sys.exit(0 if order == got else 1)' "$T/hist.json" "$T/names.txt"
ok $? "--sort name orders by reason code"
run hist --sort time --format json "$T/mix"
/usr/bin/python3 -c '
import json, sys
t = [g["latency"]["total"] for g in json.load(open(sys.argv[1]))["groups"]]
sys.exit(0 if t == sorted(t, reverse=True) else 1)' "$T/out"
ok $? "--sort time orders by handler time"
run hist --top 3 --format json "$T/mix"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); full = json.load(open(sys.argv[2]))
ok = len(d["groups"]) == 3 and d["groups_omitted"] == len(full["groups"]) - 3 and \
     [g["count"] for g in d["groups"]] == [g["count"] for g in full["groups"][:3]]
sys.exit(0 if ok else 1)' "$T/out" "$T/hist.json"
ok $? "--top 3 keeps the first three rows"
run hist --top 2 "$T/mix"
check "--top text says how many rows are hidden" grep -q "more groups" "$T/out"

# --svg: a well-formed SVG with one bar per row.
run hist --svg "$T/h.svg" "$T/mix"
rows=$(/usr/bin/python3 -c '
import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
print(sum(1 for e in r.iter("{http://www.w3.org/2000/svg}rect")) - 1)' "$T/h.svg" 2>&1)
want=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["groups"]))' "$T/hist.json")
check "--svg writes one bar per row ($want)" test "$rows" = "$want"

# Lost events: the discarded record and the seq gap are reported, not hidden.
synth lost --exits 1000 --vcpus 2 --discarded 25@200
run hist --format json "$T/lost"
cp "$T/out" "$T/lost.json"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
kinds = sorted(w["kind"] for w in d["warnings"])
gap = [w for w in d["warnings"] if w["kind"] == "seq_gap"][0]
ok = d["lost"]["discarded_records"] == 1 and d["lost"]["discarded_events"] > 0 and \
     d["lost"]["seq_missing"] == 25 and kinds == ["discarded", "seq_gap"] and \
     gap["from_seq"] == 200 and gap["to_seq"] == 224 and d["exits"] == 975
sys.exit(0 if ok else 1)' "$T/lost.json"
ok $? "discarded events and the seq gap 200..224 are in the JSON" "$(head -c 600 "$T/lost.json")"
check "warnings on stderr name the stream and the range" grep -q 'seq gap: exits 200..224 missing (25)' "$T/err"
if json_validator; then
	validate_json schemas/json/hist.schema.json "$T/lost.json" 2> "$T/verr"
	ok $? "lost-events json validates" "$(cat "$T/verr")"
fi
run hist "$T/lost"
check "text header counts the discarded events" grep -Eq 'discarded [1-9][0-9]* events  seq gaps 25 exits' "$T/out"

# A broken chain: an exit with no resume is counted, its time unknown.
synth chain --exits 300 --break no-resume@50
run hist --format json "$T/chain"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["lost"]["exits_without_resume"] >= 1 and d["exits"] == 300 else 1)' "$T/out"
ok $? "an exit without resume is counted and reported"

# Two traces at once: per-trace vCPU state (no false seq gaps).
synth two1 --exits 200 --seed 1
synth two2 --exits 300 --seed 2
run hist --format json "$T/two1" "$T/two2"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["exits"] == 500 and d["lost"]["seq_gaps"] == 0 and d["lost"]["seq_backwards"] == 0 and len(d["traces"]) == 2 else 1)' "$T/out"
ok $? "two traces: 500 exits, no false gaps" "$(head -c 400 "$T/out")"

# --time ns: latencies on the tracer's clock.  hvtrace-synth runs its
# virtual CPU at 3 GHz and stamps events with the same clock, so the ns
# totals are a third of the TSC ones (give or take rounding per event).
run hist --time ns --format json "$T/mix"
cp "$T/out" "$T/ns.json"
/usr/bin/python3 -c '
import json, sys
ns = json.load(open(sys.argv[1])); tsc = json.load(open(sys.argv[2]))
ok = ns["latency_unit"] == "ns" and tsc["latency_unit"] == "tsc_cycles"
a = ns["total"]["total"]; b = tsc["total"]["total"] / 3.0
ok = ok and abs(a - b) <= 0.02 * b and ns["exits"] == tsc["exits"]
sys.exit(0 if ok else 1)' "$T/ns.json" "$T/hist.json"
ok $? "--time ns: handler time on the tracer clock (3 GHz synthetic CPU: a third of the cycles)"
if json_validator; then
	validate_json schemas/json/hist.schema.json "$T/ns.json" 2> "$T/verr"
	ok $? "--time ns json validates" "$(cat "$T/verr")"
fi

# The run is described from its session records.
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = d["runs"]
sys.exit(0 if len(r) == 1 and r[0]["seed"] == 11 and r[0]["workload"] and r[0]["ended"] and
         d["lost"]["dropped_by_module"] == 0 else 1)' "$T/hist.json"
ok $? "json names the run (workload, seed 11, ended)"
check "text header names the run" grep -Eq '^run [0-9]+: workload [a-z-]+ seed 11 ' "$T/hist.txt"

# Parallel decoding (one reader per stream group) gives the same result as
# one thread, in every format, warnings included.
for args in "" "--by qual" "--by rip" "--format csv" "--by vcpu --format csv"; do
	run hist --threads 1 $args "$T/mix"
	cp "$T/out" "$T/one"
	run hist --threads 3 $args "$T/mix"
	cmp -s "$T/one" "$T/out"
	ok $? "--threads 3 = --threads 1 (hist $args)" "$(diff "$T/one" "$T/out" | head -5)"
done
run hist --threads 1 --format json "$T/lost"
grep -v '"threads"' "$T/out" > "$T/one"
cp "$T/err" "$T/one.err"
run hist --threads 2 --format json "$T/lost"
grep -q '"threads": 2' "$T/out"
ok $? "--threads 2 used two threads"
grep -v '"threads"' "$T/out" | cmp -s - "$T/one" && cmp -s "$T/err" "$T/one.err"
ok $? "--threads 2 = --threads 1 on a trace with lost events (json and warnings)"

# Memory stays bounded: 3x the exits, the same peak RSS (past the
# libbabeltrace2 warm-up, which babeltrace2 -c sink.utils.dummy shows too).
if [ -x /usr/bin/time ]; then
	synth small --exits 100000 --vcpus 2 --seed 3
	synth large --exits 300000 --vcpus 2 --seed 3
	/usr/bin/time -f %M -o "$T/rss-small" "$HVTRACE" hist --threads 1 "$T/small" > /dev/null
	/usr/bin/time -f %M -o "$T/rss-large" "$HVTRACE" hist --threads 1 "$T/large" > /dev/null
	small=$(tail -1 "$T/rss-small")
	large=$(tail -1 "$T/rss-large")
	test $((large * 100)) -le $((small * 110))
	ok $? "peak RSS at 300k exits ($large KB) within 1.10x of 100k exits ($small KB)"
else
	skip "bounded memory" "/usr/bin/time not installed"
fi

done_testing
