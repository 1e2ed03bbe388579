#!/bin/bash
# hist and dump on real traces recorded by the test bed (samples/ and
# tests/e2e/traces/): the exit counts per reason agree exactly with an
# independent count (babeltrace2's text output), in text, JSON and CSV, and
# dump has one line per hvtrace event.
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash

traces=$(find samples tests/e2e/traces -name metadata 2>/dev/null | xargs -r -n1 dirname | sort)
if [ -z "$traces" ]; then
	skip "real traces" "no recorded trace in samples/ or tests/e2e/traces/"
	done_testing
	exit $?
fi

for tr in $traces; do
	name=${tr#./}
	bt_reason_counts "$tr" > "$T/bt.txt"
	run hist --format json "$tr"
	ok $RC "$name: hist --format json" "$(cat "$T/err")"
	cp "$T/out" "$T/h.json"
	/usr/bin/python3 -c '
import json, sys
for g in sorted(json.load(open(sys.argv[1]))["groups"], key=lambda g: g["reason_code"]):
    print(g["reason_code"] | (0x80000000 if g["entry_failure"] else 0), g["count"])' \
		"$T/h.json" > "$T/j.txt"
	diff -u "$T/bt.txt" "$T/j.txt" > "$T/d"
	ok $? "$name: json counts = babeltrace2 counts" "$(cat "$T/d")"
	if json_validator; then
		validate_json schemas/json/hist.schema.json "$T/h.json" 2> "$T/verr"
		ok $? "$name: json validates" "$(cat "$T/verr")"
	fi

	run hist --format csv "$tr"
	/usr/bin/python3 -c '
import csv, json, sys
code = {g["reason"]: g["reason_code"] | (0x80000000 if g["entry_failure"] else 0)
        for g in json.load(open(sys.argv[1]))["groups"]}
for c, n in sorted((code[r["reason"]], int(r["count"])) for r in csv.DictReader(open(sys.argv[2]))):
    print(c, n)' "$T/h.json" "$T/out" > "$T/c.txt"
	diff -u "$T/bt.txt" "$T/c.txt" > "$T/d"
	ok $? "$name: csv counts = babeltrace2 counts" "$(cat "$T/d")"

	run hist "$tr"
	total=$(awk '{s += $2} END {print s + 0}' "$T/bt.txt")
	check "$name: text header shows $total exits" grep -q "exits $total " "$T/out"
	/usr/bin/python3 -c '
import json, re, sys
code = {g["reason"]: g["reason_code"] | (0x80000000 if g["entry_failure"] else 0)
        for g in json.load(open(sys.argv[1]))["groups"]}
rows = []
for line in open(sys.argv[2]):
    m = re.match(r"^(\S+?)\*?\s+(\d+)\s", line)
    if m and m.group(1) in code:
        rows.append((code[m.group(1)], int(m.group(2))))
for c, n in sorted(rows):
    print(c, n)' "$T/h.json" "$T/out" > "$T/t.txt"
	diff -u "$T/bt.txt" "$T/t.txt" > "$T/d"
	ok $? "$name: text counts = babeltrace2 counts" "$(cat "$T/d")"

	run dump "$tr"
	want=$(babeltrace2 "$tr" 2>/dev/null | grep -cE ' hvtrace_(exit|resume|session): ')
	got=$(grep -cE '^[0-9.]+ (exit|resume|session) ' "$T/out")
	check "$name: dump has one line per hvtrace event ($want)" test "$want" = "$got"
	run dump --format json "$tr"
	if json_validator; then
		validate_json schemas/json/dump.schema.json "$T/out" lines 2> "$T/verr"
		ok $? "$name: dump json validates" "$(cat "$T/verr")"
	fi
done

done_testing
