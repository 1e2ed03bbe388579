#!/bin/bash
# hvtrace-synth: deterministic from the seed, readable by babeltrace2 as an
# LTTng-like kernel trace (per-vCPU streams, hvtrace_* events with the
# schema's fields), counts and edits exactly as asked, known histogram.
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash

S=$HVT_SYNTH
synth one --exits 2000 --vcpus 3 --seed 42
synth two --exits 2000 --vcpus 3 --seed 42
synth other --exits 2000 --vcpus 3 --seed 43

babeltrace2 "$T/one" > "$T/one.txt" 2> "$T/one.err"
ok $? "babeltrace2 reads the trace" "$(head -3 "$T/one.err")"
babeltrace2 "$T/two" > "$T/two.txt" 2>/dev/null
check "same seed, same events and values (only sink.ctf.fs's trace UUID differs)" \
	cmp -s "$T/one.txt" "$T/two.txt"
check "another seed, another trace" bash -c "! cmp -s <(cat '$T/one'/channel0_0) <(cat '$T/other'/channel0_0)"
check "one stream file per vCPU" test "$(ls "$T/one" | grep -c '^channel0_[0-2]$')" -eq 3
check "exactly 2000 exits" test "$(grep -c ' hvtrace_exit: ' "$T/one.txt")" -eq 2000
check "one resume per exit" test "$(grep -c ' hvtrace_resume: ' "$T/one.txt")" -eq 2000
check "a session start and end per vCPU" \
	test "$(grep ' hvtrace_session: ' "$T/one.txt" | grep -c 'phase = [01],')" -eq 6
check "the packet context names the CPU (cpu_id) of each stream" \
	grep -q ' hvtrace_exit: { cpu_id = 2 }, { vcpu = 2, seq = 1,' "$T/one.txt"
check "schema fields as lttng-modules writes them (sequence length member)" \
	grep -q '_values_length = [0-9]*, values = \[' "$T/one.txt"
check "session carries the schema version" grep -q 'schema_version = 3,' "$T/one.txt"
check "each vCPU counts seq from 1 to 667/667/666" \
	bash -c "grep ' hvtrace_exit: ' '$T/one.txt' | grep -c 'vcpu = 2, seq = 666,' | grep -qx 1"

# the known histogram equals what babeltrace2 counts
"$S" --out "$T/h" --exits 3000 --seed 9 --quiet --expect-hist > "$T/hist.csv"
ok $? "--expect-hist exits 0"
check "histogram header" test "$(head -1 "$T/hist.csv")" = "reason,count,handler_ticks_total,handler_ticks_min,handler_ticks_max"
tail -n +2 "$T/hist.csv" | cut -d, -f1,2 | sort > "$T/h1"
bt_reason_counts "$T/h" | while read -r code n; do
	name=$(grep -E "^[[:space:]]*X\($code, " schemas/exit_reasons.h | sed -E 's/.*X\([0-9]+, ([A-Z_0-9]+),.*/\1/')
	echo "$name,$n"
done | sort > "$T/h2"
check "histogram counts match babeltrace2's count by reason" diff -u "$T/h1" "$T/h2"
check "histogram counts sum to 3000" test "$(tail -n +2 "$T/hist.csv" | cut -d, -f2 | paste -sd+ | bc)" -eq 3000
check "latency bounds follow the CPUID distribution [1100, 1650)" \
	awk -F, '$1=="CPUID" { exit !($4 >= 1100 && $5 < 1650) }' "$T/hist.csv"

# edits
synth d --exits 1000 --seed 9 --drop-seq 5,6,7
check "--drop-seq removes 3 exits, seq stays contiguous" \
	bash -c "[ \$(babeltrace2 '$T/d' 2>/dev/null | grep -c ' hvtrace_exit: ') -eq 997 ] &&
		 babeltrace2 '$T/d' 2>/dev/null | grep -q 'hvtrace_exit: .*seq = 997,'"
synth i --exits 1000 --seed 9 --insert-at 10:4
babeltrace2 "$T/i" > "$T/i.txt" 2>/dev/null
check "--insert-at 10:4 adds 4 exits" test "$(grep -c ' hvtrace_exit: ' "$T/i.txt")" -eq 1004
check "inserted exits have their resumes" test "$(grep -c ' hvtrace_resume: ' "$T/i.txt")" -eq 1004
synth l --exits 1000 --seed 9 --discarded 3@50
babeltrace2 "$T/l" > "$T/l.txt" 2> "$T/l.err"
check "--discarded 3@50: babeltrace2 reports 6 discarded events" grep -q 'discarded 6 events' "$T/l.err"
check "--discarded 3@50: seq jumps from 49 to 53" \
	bash -c "grep ' hvtrace_exit: ' '$T/l.txt' | grep -o 'seq = [0-9]*' | sed -n '49,50p' | tr '\n' ' ' | grep -qx 'seq = 49 seq = 53 '"
synth a --exits 200 --seed 9 --alter 20:rip=0xdead --alter 20:resume.values[0]=0xbeef
check "--alter writes the exit field" grep -q 'seq = 20, .*rip = 0xDEAD,' <(babeltrace2 "$T/a" 2>/dev/null)
check "--alter writes the resume field" grep -q 'hvtrace_resume: .*seq = 20, .*values = \[ \[0\] = 0xBEEF' <(babeltrace2 "$T/a" 2>/dev/null)
synth v --exits 10 --schema-version 2
check "--schema-version writes that version" grep -q 'schema_version = 2,' <(babeltrace2 "$T/v" 2>/dev/null)
# ... with that version's fields: v2 has no pid/comm, v1 neither vm nor cr4_shadow
check "--schema-version 2: the exits have v2's fields, not v3's" \
	bash -c "grep -q 'interruptibility' '$T/v/metadata' && ! grep -Eq '\\b(pid|tid|comm|cpl);' '$T/v/metadata'"
synth v1 --exits 10 --schema-version 1
check "--schema-version 1: neither v2's nor v3's fields" \
	bash -c "! grep -Eq '\\b(vm|cr4_shadow|interruptibility|vmm_pid|pid|comm|cpl);' '$T/v1/metadata'"
# who caused the exits (schema v3): one process, a thread per vCPU
synth who --exits 6 --vcpus 2 --pid 321 --comm qemu-system-x86 --cpl 3 --alter 2:comm=other --alter 3:cpl=0
babeltrace2 "$T/who" 2>/dev/null | grep ' hvtrace_exit: ' > "$T/who.txt"
check "--pid/--comm/--cpl: vCPU 0's exits are thread 321" \
	grep -q 'vcpu = 0, seq = 1, .*pid = 321, tid = 321, comm = "qemu-system-x86", cpl = 3 }' "$T/who.txt"
check "--pid: vCPU 1's thread is 322" \
	grep -q 'vcpu = 1, seq = 1, .*pid = 321, tid = 322, comm = "qemu-system-x86", cpl = 3 }' "$T/who.txt"
check "--alter 2:comm=other and 3:cpl=0 change those exits only" \
	bash -c "grep -q 'vcpu = 0, seq = 2, .*comm = \"other\", cpl = 3 }' '$T/who.txt' &&
		 grep -q 'vcpu = 0, seq = 3, .*comm = \"qemu-system-x86\", cpl = 0 }' '$T/who.txt' &&
		 [ \$(grep -c 'comm = \"other\"' '$T/who.txt') = 1 ]"
synth lay --exits 10 --layout 2 --omit cr4_shadow
check "--layout 2 --omit cr4_shadow: version 3, v2's fields but one" \
	bash -c "grep -q 'schema_version = 3,' <(babeltrace2 '$T/lay' 2>/dev/null) &&
		 grep -q 'interruptibility' '$T/lay/metadata' &&
		 ! grep -Eq '\\b(cr4_shadow|pid|comm);' '$T/lay/metadata'"

# bad input: status 2, one line
bad() {
	local name=$1
	shift
	"$S" "$@" > "$T/bout" 2> "$T/berr"
	local rc=$? lines
	lines=$(wc -l < "$T/berr")
	if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -q '^hvtrace-synth: ' "$T/berr"; then
		ok 0 "$name"
	else
		ok 1 "$name" "status $rc, $lines lines:" "$(head -3 "$T/berr")"
	fi
}
bad "no --out" --exits 10
bad "--out not empty" --out "$T/one" --exits 10
bad "unknown option" --out "$T/x1" --bogus
bad "bad number" --out "$T/x2" --exits 12z
bad "unknown reason in --mix" --out "$T/x3" --mix cpuid=1,frobnicate=2
bad "unknown field in --alter" --out "$T/x4" --alter 3:nosuch=1
bad "--drop-seq past the end" --out "$T/x5" --exits 10 --drop-seq 50
bad "--vcpus 0" --out "$T/x6" --vcpus 0
bad "--comm longer than 15 bytes" --out "$T/x7" --comm 0123456789abcdef
bad "--cpl 4" --out "$T/x8" --cpl 4
bad "--layout 4" --out "$T/x9" --layout 4
bad "--omit of no exit field" --out "$T/x10" --omit nosuch
bad "--pid past 32 bits" --out "$T/x11" --pid 4294967296

done_testing
