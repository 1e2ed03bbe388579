#!/bin/bash
# The babeltrace2 plugin (sink.hvtrace.hist): inside babeltrace2's own graph
# it gives the same histogram as `hvtrace hist`, takes the same choices as
# parameters, and rejects bad ones.
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash
P=${HVT_PLUGIN_DIR:-build/lib/babeltrace2/plugins}

check "plugin built" test -f "$P/babeltrace-plugin-hvtrace.so"
babeltrace2 --plugin-path "$P" list-plugins > "$T/list" 2>&1
check "babeltrace2 lists sink.hvtrace.hist" grep -q "'sink.hvtrace.hist'" "$T/list"

synth t --exits 3000 --vcpus 2 --seed 13 --discarded 7@300
for params in 'by="reason"' 'by="qual",sort="time"' 'by="rip",top=5' 'by="vcpu"' \
	'time="ns",vcpu=1'; do
	opts=$(echo "$params" | sed -e 's/by="\([a-z]*\)"/--by \1/' -e 's/sort="\([a-z]*\)"/--sort \1/' \
		-e 's/top=\([0-9]*\)/--top \1/' -e 's/time="\([a-z]*\)"/--time \1/' \
		-e 's/vcpu=\([0-9]*\)/--vcpu \1/' -e 's/,/ /g')
	babeltrace2 --plugin-path "$P" "$T/t" -c sink.hvtrace.hist \
		-p "$params,format=\"json\"" > "$T/plugin.json" 2> "$T/plugin.err"
	rc=$?
	run hist --threads 1 $opts --format json "$T/t"
	/usr/bin/python3 - "$T/plugin.json" "$T/out" > "$T/d" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
for d in (a, b):
    for k in ("traces", "threads"):
        d.pop(k, None)
    for r in d["runs"]:
        r.pop("trace", None)
    for w in d["warnings"]:
        w.pop("stream", None); w.pop("message", None)
if a != b:
    for k in a:
        if a[k] != b.get(k):
            print(k, json.dumps(a[k])[:300], "!=", json.dumps(b.get(k))[:300])
    sys.exit(1)
PY
	ok $(( rc != 0 || $? != 0 )) "plugin ($params) = hvtrace hist $opts" "$(cat "$T/d" "$T/plugin.err" | head -8)"
done
babeltrace2 --plugin-path "$P" "$T/t" -c sink.hvtrace.hist > "$T/out" 2> "$T/err"
ok $? "plugin text report"
check "text report counts the exits" grep -q 'exits 2993 ' "$T/out"
check "lost events reported on stderr" grep -q 'seq gap: exits 300..306 missing (7)' "$T/err"

babeltrace2 --plugin-path "$P" "$T/t" -c sink.hvtrace.hist -p 'by="colour"' > /dev/null 2> "$T/err"
rc=$?
ok $(( rc == 0 )) "bad parameter: babeltrace2 fails"
check "bad parameter: hvtrace says which" grep -q "^hvtrace: sink.hvtrace.hist: parameter 'by' takes one of" "$T/err"
babeltrace2 --plugin-path "$P" "$T/t" -c sink.hvtrace.hist -p 'top=-2' > /dev/null 2> "$T/err"
ok $(( $? == 0 )) "top=-2 is refused"

done_testing
