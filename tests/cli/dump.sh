#!/bin/bash
# hvtrace dump: one line per event, the same events as babeltrace2 shows,
# every field in JSON (validated against schemas/json/dump.schema.json) with
# the values written, decoded names, resume changes by register name.
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash

synth t --exits 600 --vcpus 2 --seed 4 --alter 33:rip=0xabcdef0123 \
	--alter 33:xmm[5]=0x5555aaaa --discarded 5@100

run dump "$T/t"
ok $RC "dump exits 0" "$(cat "$T/err")"
cp "$T/out" "$T/dump.txt"
for kind in exit resume session; do
	want=$(babeltrace2 "$T/t" 2>/dev/null | grep -c " hvtrace_$kind: ")
	got=$(grep -c "^[0-9.]* $kind " "$T/dump.txt")
	check "one $kind line per hvtrace_$kind event ($want)" test "$want" = "$got"
done
check "the lost events are a line of their own" grep -q ' LOST .*events discarded by the tracer' "$T/dump.txt"
check "exit lines decode reason and qualification" grep -Eq ' exit .* CPUID \(leaf 0x[0-9a-f]+' "$T/dump.txt"
check "altered RIP shows" grep -q 'vcpu 0 seq 33 .* rip 0xabcdef0123 ' "$T/dump.txt"
check "resume lines name the changed registers" grep -Eq ' resume .* RESUME .*rip=0x' "$T/dump.txt"

# Time order, as the muxer gives it.
awk '{print $1}' "$T/dump.txt" | sort -c -n 2>/dev/null
ok $? "lines are in time order"

run dump -v --vcpu 0 --limit 40 "$T/t"
check "-v shows the full state (xmm15, cr4)" grep -q 'xmm15 ' "$T/out"
check "-v shows cr4" grep -q 'cr4 ' "$T/out"
check "--vcpu 0 keeps vcpu 0 only" bash -c "! grep -E ' (exit|resume|session) +vcpu [1-9]' '$T/out'"
check "--limit 40 prints 40 events" test "$(grep -cE '^[0-9]+\.[0-9]+ ' "$T/out")" -eq 40

run dump --format json "$T/t"
ok $RC "dump --format json exits 0"
cp "$T/out" "$T/dump.jsonl"
check "one JSON line per text line" test "$(wc -l < "$T/dump.jsonl")" -eq "$(wc -l < "$T/dump.txt")"
if json_validator; then
	validate_json schemas/json/dump.schema.json "$T/dump.jsonl" lines 2> "$T/verr"
	ok $? "every line validates against dump.schema.json" "$(cat "$T/verr")"
else
	ok 1 "python3-jsonschema available"
fi
/usr/bin/python3 - "$T/dump.jsonl" > "$T/d1" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
x = [e for e in ev if e["type"] == "exit" and e["vcpu"] == 0 and e["seq"] == 33][0]
bad = []
if x["rip"] != "0xabcdef0123": bad.append("rip " + x["rip"])
if x["xmm"][5] != "0x5555aaaa": bad.append("xmm[5] " + x["xmm"][5])
if len(x["gpr"]) != 16 or len(x["xmm"]) != 32: bad.append("array sizes")
for r in (e for e in ev if e["type"] == "resume"):
    if len(r["values"]) != bin(int(r["changed"], 16)).count("1") or \
       len(r["changed_regs"]) != len(r["values"]):
        bad.append("resume %s/%s" % (r["vcpu"], r["seq"])); break
d = [e for e in ev if e["type"] == "discarded"]
if len(d) != 1 or d[0]["count"] < 5: bad.append("discarded %r" % d)
print("\n".join(bad)); sys.exit(1 if bad else 0)
PY
ok $? "JSON values are those written; resume changes match the mask" "$(cat "$T/d1")"

# Reasons in dump agree with hist.
run hist --format json "$T/t"
/usr/bin/python3 - "$T/out" "$T/dump.jsonl" <<'PY'
import collections, json, sys
h = json.load(open(sys.argv[1]))
c = collections.Counter(json.loads(l)["reason"] for l in open(sys.argv[2]) if '"type":"exit"' in l)
sys.exit(0 if c == {g["reason"]: g["count"] for g in h["groups"]} else 1)
PY
ok $? "dump reasons agree with hist counts"

# --reason: the exits of those reasons and their resumes only.
run dump --reason cpuid,RDMSR "$T/t"
cp "$T/out" "$T/reason.txt"
run hist --format json "$T/t"
want=$(/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sum(g["count"] for g in d["groups"] if g["reason"] in ("CPUID", "RDMSR")))' "$T/out")
exits=$(grep -c ' exit ' "$T/reason.txt")
others=$(grep ' exit ' "$T/reason.txt" | grep -vcE ' (CPUID|RDMSR) ')
resumes=$(grep -c ' resume ' "$T/reason.txt")
check "--reason cpuid,RDMSR: $want exits, all of those reasons" test "$exits" = "$want" -a "$others" = 0
check "--reason: each shown exit has its resume" test "$resumes" = "$want"
run dump --reason NOPE "$T/t"
check "--reason with an unknown name: status 2" test "$RC" = 2 -a "$(wc -l < "$T/err")" = 1

# A closed pipe ends dump quietly (no error message, no crash).
"$HVTRACE" dump "$T/t" 2> "$T/err" | head -1 > /dev/null
check "dump | head -1 leaves nothing on stderr" test ! -s "$T/err"

done_testing
