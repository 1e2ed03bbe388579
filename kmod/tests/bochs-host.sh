#!/bin/bash
# TAP: host mode of hvtrace.ko in Bochs (emulated VMX, 2 CPUs) through
# testbed/guest-run.sh: the running Linux virtualized on every CPU while a
# program issues known CPUID leaves (same output with and without hvtrace,
# exactly its CPUID exits traced), one session at a time, 50
# virtualize/devirtualize cycles with a busy program on each CPU and the
# host-state check after each, CPU hotplug, suspend and hibernation
# (pm_test=core) while virtualized, two recorded runs diffed, a soak of
# SOAK_MIN minutes of guest time (default 1) under a mixed load, clean
# unload and dmesg (kmod/tests/guest/host-run.sh).  Results stay in
# build/host-e2e/ (HVT_HOST_WORK: another folder).
set -u
# soak_clock PID: the soak's wall clock.  Finds the Bochs of guest-run.sh
# PID (its descendant) and its run folder; once serial.log shows the
# guest's "host: soak started" mark, waits SOAK_MIN minutes and writes
# HVT-SOAK-STOP into the last sector of that run's payload disk, which the
# guest polls with O_DIRECT reads.
soak_clock() {
	local dir="" p a t0
	while kill -0 "$1" 2> /dev/null; do
		if [ -z "$dir" ]; then
			for p in $(pgrep -x bochs-bin); do
				a=$p
				while [ "$a" -gt 1 ] && [ "$a" != "$1" ]; do
					a=$(awk '{ print $4 }' "/proc/$a/stat" 2> /dev/null || echo 1)
				done
				[ "$a" = "$1" ] && dir=$(readlink "/proc/$p/cwd")
			done
		elif grep -qa "host: soak started" "$dir/serial.log" 2> /dev/null; then
			t0=$(date +%s)
			sleep $((soak_min * 60))
			printf 'HVT-SOAK-STOP' | dd of="$dir/in.img" bs=512 conv=notrunc,sync \
				seek=$(( $(stat -c %s "$dir/in.img") / 512 - 1 )) 2> /dev/null
			echo "stop written $(( $(date +%s) - t0 )) s after the soak started ($dir)"
			return 0
		fi
		sleep 5
	done
}

# One function, read whole before it runs: editing this file during a
# run cannot change the run.
main() {
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
kdir=${KDIR:-$top/build/cache/kernel/kdir}
lttng=${LTTNG_SRC:-$top/build/cache/lttng-build}
model=${HVT_HOST_CPU_MODEL:-corei7_haswell_4770}
soak_min=${SOAK_MIN:-1}
case $soak_min in
''|*[!0-9]*|0) echo "bochs-host: SOAK_MIN must be a whole number of minutes >= 1, not '$soak_min'" >&2; exit 2 ;;
esac
work=${HVT_HOST_WORK:-$top/build/host-e2e}
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

if ! command -v bochs > /dev/null; then
	echo "1..0 # SKIP bochs missing (testbed/install-deps.sh e2e)"
	exit 0
fi
if [ ! -f "$kdir/Makefile" ]; then
	bash testbed/fetch-kernel.sh build/cache/kernel > /dev/null 2>&1
fi

rm -rf "$work"
mkdir -p "$work/payload/modules" "$work/payload/bin"
lttng_arg=""
[ -f "$lttng/Module.symvers" ] && lttng_arg="LTTNG_SRC=$lttng"
if make -C kmod KDIR="$kdir" $lttng_arg > "$work/build.log" 2>&1 &&
   ${CC:-cc} -std=gnu11 -Wall -Wextra -O2 -static -o "$work/payload/bin/hostmode" \
	kmod/tests/hostmode.c >> "$work/build.log" 2>&1 &&
   ${CC:-cc} -std=c11 -Wall -Wextra -O2 -static -o "$work/payload/bin/hvtctl" \
	kmod/tools/hvtctl.c >> "$work/build.log" 2>&1; then
	ok "hvtrace.ko and hostmode build"
else
	not_ok "hvtrace.ko and hostmode build"
	tail -n 20 "$work/build.log" | sed 's/^/# /'
	echo "1..$n"
	exit 1
fi
cp kmod/hvtrace.ko "$work/payload/modules/"
# /dev/cpu/N/msr for the MSR program (the kernel package's msr.ko)
msrko=$(find build/cache/kernel/root/lib/modules -name msr.ko 2> /dev/null | head -n 1)
[ -n "$msrko" ] && cp "$msrko" "$work/payload/modules/"
# the CLI for "hvtrace record --host", with the libraries the base lacks
if [ -x build/bin/hvtrace ] || make -s build/bin/hvtrace >> "$work/build.log" 2>&1; then
	testbed/payload-add-bin.sh "$work/payload" build/bin/hvtrace >> "$work/build.log" 2>&1
fi
[ -f kmod/lttng-probe-hvtrace.ko ] && cp kmod/lttng-probe-hvtrace.ko "$work/payload/modules/"
cp kmod/tests/guest/host-run.sh "$work/payload/run.sh"
echo "$soak_min" > "$work/payload/soak_min"

testbed/guest-run.sh --payload "$work/payload" --out "$work/out" \
	--cpu-model "$model" --mem 512 --cpus 2 --timeout $((2400 + soak_min * 120)) --quiet \
	> "$work/guest.log" 2>&1 &
gpid=$!
soak_clock "$gpid" > "$work/soak-wall.txt" 2>&1 &
wpid=$!
wait "$gpid"
rc=$?
kill "$wpid" 2> /dev/null
wait "$wpid" 2> /dev/null
if [ $rc -le 1 ] && [ -f "$work/out/run.log" ]; then
	ok "guest ($model, 2 CPUs) booted and ran the payload (guest-run status $rc)"
	grep -E '^(not )?ok [0-9]+|^# ' "$work/out/run.log" | sed 's/^/# guest: /'
	g_fail=$(grep -c '^not ok' "$work/out/run.log")
	g_pass=$(grep -c '^ok' "$work/out/run.log")
	if [ "$g_fail" -eq 0 ] && [ "$g_pass" -ge 15 ]; then
		ok "all $g_pass guest checks pass"
	else
		not_ok "guest checks: $g_pass pass, $g_fail fail"
	fi
else
	not_ok "guest ($model, 2 CPUs) booted and ran the payload (guest-run status $rc)"
	tail -n 40 "$work/guest.log" | sed 's/^/# /'
fi

# The LTTng trace of one host session, value by value against what the
# CPUID program printed: every CPUID it executed (13 leaves on each CPU)
# is an exit at its CPUID instruction, with the leaf and subleaf in RAX/RCX,
# and the resume gives back exactly the values it printed, RIP + 2.
trace=$work/out/trace/kernel
if [ -f "$trace/metadata" ] && command -v babeltrace2 > /dev/null &&
   babeltrace2 "$trace" > "$work/trace.txt" 2> "$work/bt.err"; then
	if res=$(python3 - "$work/out/cpuid-lttng.txt" "$work/trace.txt" <<'PY'
import re, sys
prog = open(sys.argv[1]).read()
insn = int(re.search(r"cpuid_insn=(0x[0-9a-f]+)", prog).group(1), 16)
want = {}
for m in re.finditer(r"cpu (\d+) leaf (\S+)\.(\d+): (\w+) (\w+) (\w+) (\w+)", prog):
    want.setdefault(int(m[1]), []).append(
        (int(m[2], 16), int(m[3]), *(int(x, 16) for x in m.groups()[3:])))
def num(x):
    return int(x, 0)
exits, resumes = {}, {}
for line in open(sys.argv[2]):
    if "hvtrace_exit:" in line or "hvtrace_resume:" in line:
        vcpu = num(re.search(r"\bvcpu = (\w+)", line)[1])
        seq = num(re.search(r"\bseq = (\w+)", line)[1])
    if "hvtrace_exit:" in line:
        rip = num(re.search(r"\brip = (\w+)", line)[1])
        if rip == insn:
            gpr = [num(x) for x in re.findall(r"\] = (\w+)",
                                               re.search(r"gpr = \[(.*?)\]\s*,", line)[1])]
            exits.setdefault(vcpu, []).append((seq, gpr))
    elif "hvtrace_resume:" in line:
        ch = num(re.search(r"changed = (\w+)", line)[1])
        vals = [num(x) for x in re.findall(r"\] = (\w+)",
                                            re.search(r"values = \[(.*?)\]\s*,", line)[1])]
        resumes[(vcpu, seq)] = (ch, vals)
bad = 0
n = 0
for cpu, calls in want.items():
    got = sorted(exits.get(cpu, []))
    if len(got) != len(calls):
        print(f"cpu {cpu}: {len(got)} exits at the CPUID instruction, {len(calls)} CPUIDs printed")
        bad += 1
        continue
    for (leaf, sub, a, b, c, d), (seq, gpr) in zip(calls, got):
        n += 1
        ch, vals = resumes.get((cpu, seq), (0, []))
        if (gpr[0] & 0xffffffff, gpr[1] & 0xffffffff) != (leaf, sub) or \
           ch != 0x1000f or vals != [a, c, d, b, insn + 2]:
            bad += 1
            print(f"cpu {cpu} seq {seq}: leaf {leaf:#x}.{sub}: exit rax/rcx {gpr[0]:#x}/{gpr[1]:#x}, resume {ch:#x} {[hex(v) for v in vals]}")
print(f"{n} CPUID exits checked on {len(want)} CPUs, {bad} wrong")
sys.exit(1 if bad or not n else 0)
PY
	); then
		ok "LTTng trace: $res"
	else
		not_ok "LTTng trace: $(echo "$res" | tail -n 1)"
		echo "$res" | head -n 10 | sed 's/^/# /'
	fi
else
	not_ok "LTTng trace of the host session read by babeltrace2"
fi
rtrace=$work/out/rec-host/kernel
if [ -f "$rtrace/metadata" ] && [ -x build/bin/hvtrace ]; then
	if build/bin/hvtrace hist "$rtrace" > "$work/rec-hist.txt" 2>&1 &&
	   grep -q CPUID "$work/rec-hist.txt"; then
		ok "hvtrace hist reads the record --host trace"
		grep -E "CPUID|VMCALL" "$work/rec-hist.txt" | head -n 4 | sed 's/^/# /'
	else
		not_ok "hvtrace hist reads the record --host trace"
		head -n 5 "$work/rec-hist.txt" | sed 's/^/# /'
	fi
else
	not_ok "record --host left a trace"
fi

# hvtrace diff of the two recorded runs of the same CPUID program: its
# exits (--comm hostmode: thread by thread, the machine's other exits left
# out) are the same but for the fields that differ by nature, which diff
# ignores by default (TSC, pid, tid, CR3: another page-table page).  The
# whole machine's diff is shown for the record (the devirtualizing VMCALL
# runs on another kernel stack in each run).
da=$work/out/diff-a/kernel
db=$work/out/diff-b/kernel
if [ -f "$da/metadata" ] && [ -f "$db/metadata" ] && [ -x build/bin/hvtrace ]; then
	build/bin/hvtrace diff --comm hostmode "$da" "$db" > "$work/diff.txt" 2>&1
	drc=$?
	if [ $drc -eq 0 ] && grep -q "^summary: .*: SAME$" "$work/diff.txt"; then
		ok "hvtrace diff --comm hostmode of two runs of hostmode cpuid: SAME"
	else
		not_ok "hvtrace diff --comm hostmode of two runs of hostmode cpuid: status $drc"
	fi
	grep -E "^(A|B|ignored fields|compared|first divergence|summary):" "$work/diff.txt" |
		sed 's/^/# /'
	build/bin/hvtrace diff "$da" "$db" > "$work/diff-all.txt" 2>&1
	echo "# the whole machine (status $?):"
	grep -E "^(A|B|first divergence|summary):" "$work/diff-all.txt" | sed 's/^/#   /'
else
	not_ok "the two diff runs left their traces"
fi

sed 's/^/# soak clock: /' "$work/soak-wall.txt"
# The soak's trace: every exit the module traced is in it (or counted as
# discarded by LTTng), one resume per exit.
st=$work/out/soak/kernel
if [ -f "$st/metadata" ] && command -v babeltrace2 > /dev/null &&
   babeltrace2 "$st" > "$work/soak-trace.txt" 2> "$work/soak-bt.err"; then
	n_exit=$(grep -c "hvtrace_exit:" "$work/soak-trace.txt")
	n_res=$(grep -c "hvtrace_resume:" "$work/soak-trace.txt")
	traced=$(sed -n 's/.* exits, \([0-9]*\) traced,.*/\1/p' "$work/out/soak-record.txt")
	disc=$(sed -n 's/.*LTTng DISCARDED \([0-9]*\) events.*/\1/p' "$work/out/soak-record.txt")
	disc=${disc:-0}
	if [ -n "$traced" ] && [ "$n_exit" -le "$traced" ] &&
	   [ $((2 * traced - n_exit - n_res)) -le "$disc" ] && [ "$n_exit" -gt 0 ]; then
		ok "soak trace: $n_exit exits and $n_res resumes of $traced traced ($disc discarded, counted)"
	else
		not_ok "soak trace: $n_exit exits and $n_res resumes, ${traced:-?} traced, $disc discarded"
	fi
	rm -f "$work/soak-trace.txt"
else
	not_ok "the soak left a trace babeltrace2 reads"
fi
echo "1..$n"
[ $failed -eq 0 ]
}
main "$@"; exit $?
