#!/bin/bash
# Who caused the exits: hist --by vm|pid|comm and the --vm, --pid, --comm
# filters of hist and dump (dump --seq too).  Counts agree with an
# independent babeltrace2 | grep count, in text, CSV and JSON (validated
# against schemas/json/hist.schema.json), with one and two threads and with
# both decoders; a VM is named by its number and its VMM's pid (the KVM
# sample's session records); traces older than schema v3 are refused in
# one line for pid and comm.
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash

# Three programs on two vCPUs: exits 100..399 of vCPU 0 are "worker"
# (pid 4100), 500..549 of vCPU 0 are "init" (pid 1); the rest "shell"
# (pid 4000, tid 4000 + vCPU).
edits=()
for s in $(seq 100 399); do edits+=(--alter "$s:comm=worker" --alter "$s:pid=4100" --alter "$s:tid=4101"); done
for s in $(seq 500 549); do edits+=(--alter "$s:comm=init" --alter "$s:pid=1" --alter "$s:tid=1"); done
synth who --exits 3000 --vcpus 2 --seed 41 --comm shell --pid 4000 "${edits[@]}"
check "synthetic trace written" test -f "$T/who/metadata"

# independent counts: babeltrace2's text, per comm and per pid
babeltrace2 "$T/who" 2>/dev/null | grep ' hvtrace_exit: ' > "$T/bt.txt"
bt_comm() { grep -c "comm = \"$1\"" "$T/bt.txt"; }
bt_pid() { grep -c " pid = $1, " "$T/bt.txt"; }
check "babeltrace2 sees 300 worker, 50 init, 2650 shell exits" \
	test "$(bt_comm worker)" -eq 300 -a "$(bt_comm init)" -eq 50 -a "$(bt_comm shell)" -eq 2650

run hist --by comm --format csv "$T/who"
ok $RC "hist --by comm --format csv exits 0" "$(cat "$T/err")"
for c in shell worker init; do
	n=$(awk -F, -v c="$c" '$1 == c { print $2 }' "$T/out")
	check "--by comm: $c has $(bt_comm $c) exits as babeltrace2 counts" test "${n:-x}" = "$(bt_comm $c)"
done
check "--by comm: three rows, header comm,count,..." \
	test "$(head -1 "$T/out" | cut -d, -f1-2)" = "comm,count" -a "$(wc -l < "$T/out")" -eq 4

run hist --by pid --format json "$T/who"
cp "$T/out" "$T/pid.json"
/usr/bin/python3 -c '
import json, sys
for g in sorted(json.load(open(sys.argv[1]))["groups"], key=lambda g: g["pid"]):
    print(g["pid"], g["comm"], g["count"])' "$T/pid.json" > "$T/pid.txt"
printf '%s\n' "1 init $(bt_pid 1)" "4000 shell $(bt_pid 4000)" "4100 worker $(bt_pid 4100)" > "$T/pid.want"
if diff -u "$T/pid.want" "$T/pid.txt" > "$T/d"; then ok 0 "--by pid (json): pid, comm and count as babeltrace2 counts"
else ok 1 "--by pid (json): pid, comm and count as babeltrace2 counts" "$(cat "$T/d")"; fi
if json_validator && validate_json schemas/json/hist.schema.json "$T/pid.json" 2> "$T/verr"; then
	ok 0 "--by pid json validates against hist.schema.json"
else
	ok 1 "--by pid json validates against hist.schema.json" "$(cat "$T/verr" 2>/dev/null)"
fi

run hist --by pid "$T/who"
check "--by pid text: a row 'pid comm count' for the worker" \
	grep -qE '^ *4100 +worker +300 ' "$T/out"

# --pid and --comm: the per-reason counts of that program alone
bt_reason_pid() {	# reason code -> count, exits of pid $1
	grep " pid = $1, " "$T/bt.txt" | grep -o 'exit_reason = 0x[0-9A-F]*' |
		sort | uniq -c | awk '{printf "%d %d\n", strtonum($4), $1}' | sort -n
}
bt_reason_pid 4100 > "$T/want.txt"
run hist --pid 4100 --format json "$T/who"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for g in sorted(d["groups"], key=lambda g: g["reason_code"]):
    print(g["reason_code"], g["count"])
print("filtered", d["filtered_exits"], d["pid_filter"], d["exits"])' "$T/out" > "$T/got.txt"
echo "filtered 2700 4100 300" >> "$T/want.txt"
if diff -u "$T/want.txt" "$T/got.txt" > "$T/d"; then ok 0 "--pid 4100: per-reason counts as babeltrace2's, 2700 left out"
else ok 1 "--pid 4100: per-reason counts as babeltrace2's, 2700 left out" "$(cat "$T/d")"; fi
run hist --comm worker "$T/who"
check "--comm worker text: 300 exits, the filter line" \
	sh -c "grep -q '^only exits of comm worker: 2700 other exits left out$' '$T/out' && grep -q '^total  300 exits' '$T/out'"
run hist --comm worker "$T/who"
check "--comm: no seq gap warning (left-out exits still count for seq)" sh -c "! grep -q 'seq gap' '$T/err'"
run hist --comm worker-thread-name-too-long "$T/who"
check "--comm: compared on its first 15 characters (none here)" grep -q 'no exit in this trace passes' "$T/err"

# two VMs one after the other, each with its vCPU 0 counting seq from 1
# (a VMM that runs two guests): two vCPUs, no seq warning, every exit timed
twovm=()
for s in $(seq 1 400); do
	if [ "$s" -le 200 ]; then twovm+=(--alter "$s:vm=5" --alter "$s:resume.vm=5")
	else twovm+=(--alter "$s:vm=6" --alter "$s:resume.vm=6" --alter "$s:seq=$((s - 200))"
		     --alter "$s:resume.seq=$((s - 200))"); fi
done
synth twovm --exits 400 --seed 43 "${twovm[@]}"
run hist "$T/twovm"
check "two VMs' vCPU 0: 'vcpus 2' and no seq warning" \
	sh -c "grep -qE '^events [0-9]+  exits 400  resumes 400  vcpus 2 ' '$T/out' && ! grep -q 'seq went back' '$T/err'"
check "... and no exit without its resume" sh -c "! grep -q 'have no resume' '$T/err'"
run hist --by vm --format csv "$T/twovm"
check "--by vm: 200 exits each, no VMM pid (a synthetic sandbox trace)" \
	sh -c "grep -q '^5,,200,' '$T/out' && grep -q '^6,,200,' '$T/out'"
run hist --vm 6 "$T/twovm"
check "--vm 6: 200 exits" grep -q '^total  200 exits' "$T/out"
for th in 1 2; do "$HVTRACE" hist --threads $th --by vm "$T/twovm" > "$T/tv$th" 2>&1; done
check "--by vm on two VMs: the same with one and two threads" cmp -s "$T/tv1" "$T/tv2"

# a KVM trace (hvt-vmm under KVM, schema v2): the VM's pid from its session records
run hist --by vm samples/kvm-vmm-s42
check "KVM sample --by vm: one row, vm 1, VMM pid 196, 351 exits" grep -qE '^ *1 +196 +351 ' "$T/out"
run hist --vm 196 --format csv samples/kvm-vmm-s42
cp "$T/out" "$T/vm-pid.csv"
run hist --vm 1 --format csv samples/kvm-vmm-s42
check "--vm 196 (the VMM pid) and --vm 1 (the VM number) agree" cmp -s "$T/out" "$T/vm-pid.csv"
check "... and count its 351 exits" sh -c "awk -F, 'NR > 1 { s += \$2 } END { exit s != 351 }' '$T/out'"
run hist --vm 5 samples/kvm-vmm-s42
check "--vm 5: no exit passes, said on stderr" grep -q 'no exit in this trace passes' "$T/err"

# schema v2: no pid or comm
expect_error "hist --by pid on a schema v2 trace: one line, status 2" "a schema v2 trace" \
	hist --by pid samples/kvm-vmm-s42
expect_error "hist --by comm on a schema v2 trace" "--by comm needs them" hist --by comm samples/kvm-vmm-s42
expect_error "hist --pid on a schema v2 trace" "--pid needs them" hist --pid 4 samples/kvm-vmm-s42
synth v1 --exits 200 --seed 42 --schema-version 1
expect_error "hist --by comm on a schema v1 synthetic trace" "a schema v1 trace" hist --by comm "$T/v1"
synth nosess --exits 200 --seed 42 --schema-version 2 --no-session
expect_error "hist --by comm on a trace without session records or thread names" \
	"no exit of this trace says which process caused it" hist --by comm "$T/nosess"
expect_error "dump --pid on a schema v2 trace" "--pid needs them" dump --pid 4 samples/kvm-vmm-s42
expect_error "--by takes the new names in its message" "vcpu, vm, pid or comm" hist --by thread "$T/who"
expect_error "--pid takes a number" "--pid takes a process id" hist --pid x "$T/who"

# one thread or two, either decoder: the same bytes
for args in "--by comm" "--by pid --format json" "--by vm --format csv" "--pid 4100 --by qual" \
	    "--comm init --format json"; do
	# shellcheck disable=SC2086
	"$HVTRACE" hist --threads 1 $args "$T/who" > "$T/t1" 2>&1
	# shellcheck disable=SC2086
	"$HVTRACE" hist --threads 2 $args "$T/who" > "$T/t2" 2>&1
	sed -i '/"threads"/d' "$T/t1" "$T/t2"
	check "hist $args: --threads 1 and 2 give the same output" cmp -s "$T/t1" "$T/t2"
	# shellcheck disable=SC2086
	"$HVTRACE" --decoder bt2 hist $args "$T/who" > "$T/b" 2>&1
	# shellcheck disable=SC2086
	"$HVTRACE" --decoder fast hist $args "$T/who" > "$T/f" 2>&1
	check "hist $args: --decoder bt2 and fast give the same output" cmp -s "$T/b" "$T/f"
done

# the babeltrace2 plugin (sink.hvtrace.hist) groups and filters the same way
P=${HVT_PLUGIN_DIR:-build/lib/babeltrace2/plugins}
if [ -f "$P/babeltrace-plugin-hvtrace.so" ]; then
	for prm in 'by="comm"' 'by="pid",format="csv"' 'pid=4100,by="qual"'; do
		babeltrace2 --plugin-path "$P" "$T/who" -c sink.hvtrace.hist -p "$prm" > "$T/p" 2> /dev/null
		case $prm in
		'by="comm"') args="--by comm" ;;
		'by="pid",format="csv"') args="--by pid --format csv" ;;
		*) args="--pid 4100 --by qual" ;;
		esac
		# shellcheck disable=SC2086
		"$HVTRACE" hist --threads 1 $args "$T/who" > "$T/h" 2> /dev/null
		# the plugin's header names no trace folder
		sed -i '1{/^hvtrace hist: /d}' "$T/p" "$T/h"
		check "plugin -p '$prm' gives hist $args's table" cmp -s "$T/p" "$T/h"
	done
else
	skip "plugin -p by=comm, pid, filters" "no $P/babeltrace-plugin-hvtrace.so"
fi

# --svg with --by comm: one bar per program, labelled
run hist --by comm --svg "$T/c.svg" "$T/who"
check "--by comm --svg: a bar labelled with each comm" \
	sh -c "grep -q 'comm worker' '$T/c.svg' && grep -q 'comm init' '$T/c.svg' && grep -q 'comm shell' '$T/c.svg'"

# dump --pid, --comm, --seq
run dump --pid 4100 "$T/who"
check "dump --pid 4100: 300 exits, each with its resume" \
	test "$(grep -c ' exit    vcpu 0 seq [0-9]* .* pid 4100 tid 4101 comm worker cpl 0$' "$T/out")" -eq 300 -a \
	     "$(grep -c ' resume  ' "$T/out")" -eq 300
check "... and no other exit" test "$(grep -c ' exit    ' "$T/out")" -eq 300
run dump --comm init --format json "$T/who"
check "dump --comm init --format json: 50 exits named init" /usr/bin/python3 -c '
import json, sys
ex = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ex = [e for e in ex if e["type"] == "exit"]
sys.exit(0 if len(ex) == 50 and all(e["comm"] == "init" and e["pid"] == 1 for e in ex) else 1)' "$T/out"
run dump --vcpu 0 --seq 500..504 "$T/who"
check "dump --vcpu 0 --seq 500..504: five exits, five resumes" \
	test "$(grep -c ' exit    vcpu 0 seq 50[0-4] ' "$T/out")" -eq 5 -a "$(grep -c ' resume  vcpu 0 seq 50[0-4] ' "$T/out")" -eq 5
expect_error "dump --seq 9..3: refused" "--seq takes SEQ or FIRST..LAST" dump --seq 9..3 "$T/who"

done_testing
