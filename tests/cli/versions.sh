#!/bin/bash
# Schema versions: traces of schema v1, v2 and v3 are read by both decoders
# (the fields a version lacks read as zero, comm as empty, and only there),
# and a trace whose fields are not exactly those of its version is refused
# in one line (libbabeltrace2's reader) or handed to libbabeltrace2 (the
# fast decoder steps aside).
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash
export HVT_WATCHDOG_SECONDS=${HVT_WATCHDOG_SECONDS:-3}

# The same run written as each schema version; v3 says who caused it.
synth v1 --exits 600 --vcpus 2 --seed 21 --schema-version 1
synth v2 --exits 600 --vcpus 2 --seed 21 --schema-version 2
synth v3 --exits 600 --vcpus 2 --seed 21 --pid 900 --comm probe --cpl 3 --alter 7:comm=other

# records DECODER TRACE: dump's JSON lines, or nothing on failure
records() {
	timeout 120 "$HVTRACE" --decoder "$1" dump --format json "$2" 2> "$T/err.$1"
}

for v in 1 2 3; do
	records bt2 "$T/v$v" > "$T/v$v.bt2"
	rb=$?
	records fast "$T/v$v" > "$T/v$v.fast"
	rf=$?
	ok $(( rb != 0 || rf != 0 )) "schema v$v: read by libbabeltrace2 and by the fast decoder" \
		"status $rb $rf" "$(head -2 "$T/err.bt2" "$T/err.fast")"
	check "schema v$v: both decoders give the same records" cmp -s "$T/v$v.bt2" "$T/v$v.fast"
	"$HVTRACE" dump -v "$T/v$v" 2>&1 > /dev/null | grep -q 'fast decoder'
	ok $? "schema v$v: the fast decoder vouches for it (auto)"
done

# The who fields: as written in v3, zero and empty before; everything else
# is the same record in every version.
/usr/bin/python3 - "$T" > "$T/who.txt" 2>&1 <<'PY'
import json, sys
t = sys.argv[1]
def exits(v):
    return [r for r in map(json.loads, open(f"{t}/v{v}.bt2")) if r["type"] == "exit"]
who = ("pid", "tid", "comm", "cpl")
e1, e2, e3 = exits(1), exits(2), exits(3)
bad = []
if not e3 or len(e1) != len(e3) or len(e2) != len(e3):
    bad.append(f"exit counts {len(e1)} {len(e2)} {len(e3)}")
for r in e3:
    want = (900, 900 + r["vcpu"], "other" if (r["vcpu"], r["seq"]) == (0, 7) else "probe", 3)
    if tuple(r[k] for k in who) != want:
        bad.append(f"v3 vcpu {r['vcpu']} seq {r['seq']}: {[r[k] for k in who]}, want {list(want)}")
for v, es in ((1, e1), (2, e2)):
    for r in es:
        if tuple(r[k] for k in who) != (0, 0, "", 0):
            bad.append(f"v{v} vcpu {r['vcpu']} seq {r['seq']}: {[r[k] for k in who]}")
def rest(r):
    return {k: x for k, x in r.items() if k not in who and k != "stream"}
for a, b, c in zip(e1, e2, e3):
    if not (rest(a) == rest(b) == rest(c)):
        bad.append(f"vcpu {c['vcpu']} seq {c['seq']}: records differ beyond who")
        break
print("\n".join(bad[:5]) if bad else f"{len(e3)} exits checked")
sys.exit(1 if bad else 0)
PY
ok $? "v3 exits carry pid/tid/comm/cpl as written; v1/v2 read them as 0 and \"\"; the rest is the same record" \
	"$(cat "$T/who.txt")"
run hist --format csv "$T/v1"
cp "$T/out" "$T/hist.v1"
run hist --format csv "$T/v3"
check "hist of the v1 and v3 traces of one run are the same" cmp -s "$T/hist.v1" "$T/out"

# ---- wrong layouts
# expect_refused NAME NEEDLE TRACE: every decoder choice says NEEDLE, status 2;
# --decoder fast may instead step aside (its own one-line refusal).
expect_refused() {
	local name=$1 needle=$2 tr=$3
	expect_error "$name (libbabeltrace2)" "$needle" --decoder bt2 hist "$tr"
	expect_error "$name (auto)" "$needle" hist "$tr"
	run --decoder fast hist "$tr"
	if [ "$RC" = 2 ] && [ "$(wc -l < "$T/err")" = 1 ] &&
	   { grep -qF -- "$needle" "$T/err" || grep -q -- '--decoder fast' "$T/err"; }; then
		ok 0 "$name (--decoder fast)"
	else
		ok 1 "$name (--decoder fast)" "status $RC" "$(head -3 "$T/err")"
	fi
}
synth l2v3 --exits 50 --layout 2
expect_refused "version 3 with v2's fields is refused" \
	"trace schema version 3 but its hvtrace events have the fields of schema v2" "$T/l2v3"
synth l3v2 --exits 50 --schema-version 2 --layout 3
expect_refused "version 2 with v3's fields is refused" \
	"trace schema version 2 but its hvtrace events have the fields of schema v3" "$T/l3v2"
synth l1v3 --exits 50 --layout 1
expect_refused "version 3 with v1's fields is refused" \
	"have the fields of schema v1" "$T/l1v3"
synth nocomm --exits 50 --omit comm
expect_refused "a v3 exit without comm is refused" \
	"event hvtrace_exit lacks field 'comm' of schema v3" "$T/nocomm"
synth nocomm-ns --exits 50 --omit comm --no-session
expect_refused "... also with no session record to give a version" \
	"event hvtrace_exit lacks field 'comm' of schema v3" "$T/nocomm-ns"
synth nowho --exits 50 --omit pid --omit tid --omit comm --omit cpl --no-session
run hist --format csv "$T/nowho"
ok $(( RC != 0 )) "without a session record, an exit with v2's fields is read as v2" "$(head -2 "$T/err")"
synth v3v1 --exits 50 --layout 3 --omit vm --omit cr0_shadow --omit cr4_shadow \
	--omit interruptibility --no-session
expect_refused "v3's fields without v2's are refused" \
	"event hvtrace_exit has field 'pid' of schema v3 without those of schema v2" "$T/v3v1"

# Metadata edits the fast decoder must not accept while libbabeltrace2 reads
# by name: pid and tid swapped in order (same widths) is handed over, and the
# answer is libbabeltrace2's.
cp -r "$T/v3" "$T/swap"
/usr/bin/python3 - "$T/swap/metadata" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s2 = re.sub(r"\b_pid;", "@@;", s, count=1)
s2 = re.sub(r"\b_tid;", "_pid;", s2, count=1).replace("@@;", "_tid;")
assert s2 != s
open(p, "w").write(s2)
PY
run --decoder fast dump --format json "$T/swap"
ok $(( RC != 2 )) "fields out of the schema's order: the fast decoder steps aside" \
	"status $RC" "$(head -2 "$T/err")"
grep -q "out of the schema's order" "$T/err"
ok $? "... saying why" "$(head -2 "$T/err")"
run --decoder auto dump --format json "$T/swap"
cp "$T/out" "$T/swap.auto"
run --decoder bt2 dump --format json "$T/swap"
check "... auto reads it as libbabeltrace2 does" cmp -s "$T/swap.auto" "$T/out"
check "... by name: pid and tid read swapped" \
	grep -q '"vcpu":1,"seq":1,.*"pid":901,"tid":900,' "$T/out"

done_testing
