#!/bin/bash
# Plain LTTng kvm traces (lttng-modules' kvm_x86_exit / kvm_x86_entry, or
# the older kvm_exit / kvm_entry, recorded without hvtrace.ko), written by
# hvtrace-kvmsynth: hvtrace hist gives perf kvm stat's table (count, %,
# exit-to-entry time per reason, per vCPU) equal to what the writer made;
# replay, diff and dump say in one line that such traces carry no register
# state (status 2).
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash
KVMSYNTH=${KVMSYNTH:-build/bin/hvtrace-kvmsynth}

kvmsynth() {	# kvmsynth DIR ARGS...: a trace in $T/DIR, expected CSV in $T/DIR.csv
	local d=$1
	shift
	"$KVMSYNTH" --out "$T/$d" --expect-hist "$@" > "$T/$d.csv"
}

# same VCPU TRACE [HIST-OPTIONS...]: hist --format csv of TRACE (rows of
# vCPU VCPU, or 'all') equals the writer's count, timed count, total, min
# and max per reason.
same() {
	local vcpu=$1 d=$2
	shift 2
	"$HVTRACE" hist --format csv "$@" "$T/$d" > "$T/got.csv" 2> "$T/err" || return 1
	/usr/bin/python3 - "$T/$d.csv" "$T/got.csv" "$vcpu" <<'PY'
import csv, sys
want = {r["reason"]: r for r in csv.DictReader(open(sys.argv[1])) if r["vcpu"] == sys.argv[3]}
got = {r["reason"].split(" ")[0]: r for r in csv.DictReader(open(sys.argv[2]))}
bad = []
if set(want) != set(got):
    bad.append("reasons: want %s got %s" % (sorted(want), sorted(got)))
for k, w in want.items():
    g = got.get(k)
    if not g:
        continue
    timed = int(g["count"]) - int(g["untimed"])
    pairs = [("count", w["count"], g["count"]), ("timed", w["timed"], str(timed)),
             ("total", w["total_ns"], g["time"])]
    if int(w["timed"]):
        pairs += [("min", w["min_ns"], g["min"]), ("max", w["max_ns"], g["max"])]
    for name, a, b in pairs:
        if a != b:
            bad.append("%s %s: want %s got %s" % (k, name, a, b))
if bad:
    print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}

# ---- kvm_x86_exit with vcpu_id (lttng-modules 2.13 on a 6.x kernel)
kvmsynth x86 --exits 6000 --vcpus 3 --seed 7
check "hist: per reason, count/time/min/max equal the writer's (3 vCPUs, paired per CPU)" same all x86
for v in 0 1 2; do
	check "hist --vcpu $v: equal the writer's for vCPU $v" same "$v" x86 --vcpu "$v"
done
run hist "$T/x86"
ok $RC "hist on a plain kvm trace: status 0" "$(head -3 "$T/err")"
check "the header says what the trace is and that it has no register state" \
	grep -q "^plain LTTng kvm trace (lttng-modules' kvm probes, no hvtrace.ko): exit reason, RIP and info words only, no register state$" "$T/out"
check "the header counts exits, entries and vCPUs" \
	grep -qE '^events 11997  exits 6000  entries 5997  vcpus 3  span [0-9.]+ s  discarded 0 events$' "$T/out"
check "the header says how exits are timed" \
	grep -q '^grouped by reason; time = kvm_exit to the next kvm_entry of the same CPU, in ns (as perf kvm stat report)' "$T/out"
check "the exits no entry followed are said (the last one of each vCPU)" \
	grep -q '^3 exits without time: no kvm_entry of that CPU followed (the guest stopped, or the entry was lost)$' "$T/out"
total=$(awk -F, '$1 == "all" {s += $5} END {print s}' "$T/x86.csv")
check "the total time is the writer's ($total ns)" grep -q "^total  6000 exits  $total ns from exit to entry" "$T/out"
hlt=$(awk -F, '$1 == "all" && $2 == "HLT" {print $3}' "$T/x86.csv")
check "a row: HLT $hlt exits" grep -qE "^HLT +$hlt +[0-9.]+ " "$T/out"
# independent count: babeltrace2's own text output
bt_hlt=$(babeltrace2 "$T/x86" 2>/dev/null | grep -c 'kvm_x86_exit: .*exit_reason = 12,')
check "babeltrace2 counts the same HLT exits ($bt_hlt)" test "$bt_hlt" -eq "$hlt"

run hist --by vcpu "$T/x86"
for v in 0 1 2; do
	n=$(awk -F, -v v="$v" '$1 == v {s += $3} END {print s}' "$T/x86.csv")
	check "--by vcpu: vCPU $v has $n exits" grep -qE "^ +$v +$n +" "$T/out"
done
run hist --by rip --top 3 "$T/x86"
check "--by rip: reason and guest RIP per row" grep -qE '^[A-Z_]+ +0xffffffff81[0-9a-f]{6} +[0-9]+ ' "$T/out"
check "--top 3: the rest is counted" grep -qE '^[0-9]+ more groups \([0-9]+ exits\) not shown \(--top\)$' "$T/out"
run hist --sort time --top 1 "$T/x86"
check "--sort time: HLT first (the vCPU sleeps in it)" grep -qE '^HLT +[0-9]+ ' "$T/out"

if json_validator; then
	run hist --format json "$T/x86"
	check "--format json validates against hist-kvm.schema.json" \
		validate_json schemas/json/hist-kvm.schema.json "$T/out"
	check "--format json: the counts add up" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ok = d["source"] == "lttng-kvm" and d["exits"] == 6000 and sum(g["count"] for g in d["groups"]) == 6000 \
     and d["untimed_exits"] == 3 and d["pairing"] == "cpu" and d["vcpus"] == 3
sys.exit(0 if ok else 1)' "$T/out"
	run hist --format json --by vcpu --vcpu 1 "$T/x86"
	check "--format json --by vcpu --vcpu 1 validates" validate_json schemas/json/hist-kvm.schema.json "$T/out"
else
	skip "--format json validates against hist-kvm.schema.json" "no python3-jsonschema"
fi
run hist --svg "$T/kvm.svg" "$T/x86"
check "--svg writes a chart" grep -q '<svg' "$T/kvm.svg"

# ---- older kernels: kvm_exit without vcpu_id, kvm_entry with a valid one
kvmsynth old --format old --exits 3000 --vcpus 3 --seed 2
check "kvm_exit / kvm_entry (no vcpu_id in the exit): equal the writer's" same all old
check "... per vCPU from the entries' vcpu_id (vCPU 2)" same 2 old --vcpu 2
run hist "$T/old"
check "the header says where the vCPU came from" \
	grep -q "^vCPUs: from kvm_entry's vcpu_id (these exits carry none)$" "$T/out"

# ---- vCPU threads that move between CPUs: paired by the tid context
kvmsynth mig --tid --migrate 4 --vcpus 4 --cpus 2 --exits 8000 --seed 3
check "migrating vCPU threads, tid context: equal the writer's" same all mig
check "... and per vCPU (vCPU 3)" same 3 mig --vcpu 3
run hist "$T/mig"
check "the header says exits are paired per thread" \
	grep -q 'time = kvm_exit to the next kvm_entry of the same thread (tid context)' "$T/out"

# ---- a folder with two traces over the same time and CPUs (two hosts):
# exits pair with entries of their own trace
mkdir -p "$T/two"
"$KVMSYNTH" --out "$T/two/a" --exits 3000 --seed 1 --expect-hist > "$T/two-a.csv"
"$KVMSYNTH" --out "$T/two/b" --exits 3000 --seed 2 --expect-hist > "$T/two-b.csv"
{ head -1 "$T/two-a.csv"; tail -n +2 "$T/two-a.csv"; tail -n +2 "$T/two-b.csv"; } |
	/usr/bin/python3 -c '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
acc = {}
for r in rows:
    if r["vcpu"] != "all":
        continue
    a = acc.setdefault(r["reason"], [0, 0, 0, None, 0])
    a[0] += int(r["count"]); a[1] += int(r["timed"]); a[2] += int(r["total_ns"])
    if int(r["timed"]):
        a[3] = int(r["min_ns"]) if a[3] is None else min(a[3], int(r["min_ns"]))
        a[4] = max(a[4], int(r["max_ns"]))
print("vcpu,reason,count,timed,total_ns,min_ns,max_ns")
for k, a in acc.items():
    print("all,%s,%d,%d,%d,%d,%d" % (k, a[0], a[1], a[2], a[3] or 0, a[4]))' > "$T/two.csv"
check "two traces in one folder, same CPUs and times: the sum of what was written" same all two

# ---- AMD: SVM exit codes
kvmsynth svm --isa svm --exits 2000 --seed 4
check "isa 2 (SVM): codes counted as the writer's" same all svm
run hist "$T/svm"
check "SVM codes are named" grep -qE '^svm:0x78 HLT +[0-9]+ ' "$T/out"

# ---- only kvm_x86_exit enabled: counts, no time
kvmsynth noentry --no-entry --exits 1000 --seed 5
run hist "$T/noentry"
check "exits only: counted, every one without time, and said why" \
	grep -q '^1000 exits without time: no kvm_entry of that CPU followed (kvm_x86_entry was not enabled)$' "$T/out"

# ---- lost events are never silent
kvmsynth lost --discarded 20@100 --exits 2000 --seed 6
check "with 20 exits lost: counts equal the writer's (which lacks them too)" same all lost
run hist "$T/lost"
check "the loss is a warning on stderr" grep -q 'hvtrace: warning: .*: 40 events discarded by the tracer' "$T/err"
check "and in the header" grep -qE '^events [0-9]+  exits 1980  .* discarded 40 events$' "$T/out"

# ---- replay, diff and dump refuse, in one line, status 2
for verb in "replay" "replay --check" "dump"; do
	# shellcheck disable=SC2086
	expect_error "$verb on a plain kvm trace: no register state" \
		"a plain LTTng kvm trace (lttng-modules' kvm_x86_exit/kvm_exit events, no hvtrace events): it carries no register state; only hvtrace hist reads it" \
		$verb "$T/x86"
done
expect_error "diff of two plain kvm traces: no register state" "it carries no register state" \
	diff "$T/x86" "$T/x86"
expect_error "diff of an hvtrace trace with a plain kvm trace: no register state" \
	"B: $T/x86: a plain LTTng kvm trace" diff tests/e2e/traces/mix-s42-n5 "$T/x86"
expect_error "hist --by qual on a plain kvm trace" "--by qual needs hvtrace's own events" \
	hist --by qual "$T/x86"

# ---- damaged kvm traces: a table or one clean error, never a crash
kvmsynth fz --exits 400 --tid --seed 8
crashed=0
for i in $(seq 1 12); do
	rm -rf "$T/fzm"
	cp -r "$T/fz" "$T/fzm"
	/usr/bin/python3 - "$T/fzm/channel0_$((i % 2))" "$i" <<'PY'
import random, sys
random.seed(int(sys.argv[2]))
b = bytearray(open(sys.argv[1], "rb").read())
for _ in range(1 + int(sys.argv[2]) % 8):
    b[random.randrange(len(b))] = random.randrange(256)
open(sys.argv[1], "wb").write(b)
PY
	HVT_WATCHDOG_SECONDS=5 timeout 60 "$HVTRACE" hist "$T/fzm" > /dev/null 2> "$T/fz.err"
	rc=$?
	if { [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; } || grep -q 'AddressSanitizer\|runtime error' "$T/fz.err" ||
	   { [ "$rc" -eq 2 ] && [ "$(wc -l < "$T/fz.err")" -ne 1 ]; }; then
		crashed=$((crashed + 1))
		echo "# mutation $i: status $rc: $(head -2 "$T/fz.err")"
	fi
done
ok $crashed "12 damaged kvm traces: each a table or one clean error"

# ---- --kvm-events: the same table from kvm events beside hvtrace's (here a
# folder holding an hvtrace trace and a kvm trace)
mkdir -p "$T/mixed"
cp -r "$T/x86" "$T/mixed/kvm"
cp "$T/x86.csv" "$T/mixed.csv"
"$HVT_SYNTH" --out "$T/mixed/hv" --quiet --exits 500 --seed 1
check "hist --kvm-events on hvtrace + kvm traces: the kvm table, equal the writer's" \
	same all mixed --kvm-events
run hist --kvm-events "$T/mixed"
check "... and the header says what was left aside" \
	grep -qE "^lttng-modules' kvm events of these traces \(--kvm-events; [0-9]+ hvtrace events beside them not used here\)$" "$T/out"
synth hvonly --exits 300 --seed 2
expect_error "hist --kvm-events on a trace without kvm events" "hist: no lttng-modules kvm events" \
	hist --kvm-events "$T/hvonly"

# ---- an hvtrace trace is still read as before (kvm events beside it are skipped)
synth hv --exits 500 --seed 1
run hist --format csv "$T/hv"
ok $RC "hist of an hvtrace trace: unchanged path, status 0"
check "... its table is the hvtrace one (handler time columns)" \
	grep -q '^reason,count,percent,time,time_percent,min,max,mean,stddev,p50,p99$' "$T/out"

done_testing
