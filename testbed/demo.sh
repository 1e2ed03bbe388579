#!/bin/bash
# make demo: the mix workload recorded in Bochs twice with one seed and once
# with another (the e2e scenario boot, reused while its inputs are unchanged),
# then the histogram, a replay summary and both diffs on the host.
#
# usage: testbed/demo.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"
hvtrace=${HVT_BIN:-build/bin/hvtrace}
t=build/e2e/latest/traces
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ -t 1 ] || say() { printf '\n== %s\n' "$*"; }

say "recording in Bochs (one boot records every workload; about 5-10 minutes when not cached)"
if ! "$here/e2e-run.sh"; then
	echo "demo: the Bochs run failed; see build/e2e/latest/serial.log" >&2
	exit 2
fi
for x in mix-a mix-b mix-c; do
	[ -d "$t/$x/kernel" ] || { echo "demo: trace $t/$x missing (see build/e2e/latest/logs/record-$x.txt)" >&2; exit 2; }
done
. build/e2e/latest/env

say "how they were recorded (inside the guest)"
for x in mix-a mix-b mix-c; do
	seed=$SEED
	[ $x = mix-c ] && seed=$SEED2
	echo "hvtrace record --workload mix --seed $seed --iterations $MIX_ITERATIONS --output /out/traces/$x"
	grep -E '^(trace|run|events)' "build/e2e/latest/logs/record-$x.txt" | sed 's/^/    /'
done

say "hvtrace hist $t/mix-a"
"$hvtrace" hist "$t/mix-a"
say "hvtrace hist --by qual --top 10 $t/mix-a"
"$hvtrace" hist --by qual --top 10 "$t/mix-a"
say "hvtrace replay $t/mix-a"
"$hvtrace" replay "$t/mix-a"
say "hvtrace replay --check $t/mix-a"
"$hvtrace" replay --check "$t/mix-a"
echo "(status $?)"
say "hvtrace diff $t/mix-a $t/mix-b    (same seed)"
"$hvtrace" diff "$t/mix-a" "$t/mix-b"
echo "(status $?: 0 = same)"
say "hvtrace diff --max 5 $t/mix-a $t/mix-c    (another seed)"
"$hvtrace" diff --max 5 "$t/mix-a" "$t/mix-c" | head -n 40
echo "(status ${PIPESTATUS[0]}: 1 = different)"

# seq counts exits since the module was loaded: point at real ones.
first=$("$hvtrace" dump "$t/mix-a" 2> /dev/null |
	awk '$2 == "exit" { for (i = 1; i < NF; i++) if ($i == "seq") { print $(i + 1); exit } }')
first=${first:-1}
say "where to go from here"
cat <<TXT
Traces (LTTng CTF, one folder per run): $top/$t/
  every workload: $(ls "$t" | tr '\n' ' ')
Try:
  $hvtrace dump $t/mix-a | head
  $hvtrace replay --at $((first + 24)) $t/mix-a          full guest state at the 25th exit
  $hvtrace replay --step --from $((first + 20)) --count 5 $t/mix-a   exit by exit
  $hvtrace hist --by rip --top 5 $t/mix-a
  $hvtrace hist --format json $t/cpuid
  babeltrace2 $t/cpuid | head
Checks of the whole run: bash testbed/e2e-check.sh --no-run   (summary in build/e2e/latest/summary.txt)
TXT
