#!/bin/bash
# make bench: hvtrace's analysis speed and memory against the baselines a
# user would reach for, measured in the same run (ratios and medians: these
# machines are noisy; a lone absolute time means little).
#
# usage: bench/run.sh [--sizes "1000000 10000000"] [--runs N] [--out DIR]
#
# For each synthetic trace size it measures, each as the median of N runs:
#   decode   babeltrace2 TRACE -c sink.utils.dummy   (libbabeltrace2's decoding)
#   cat      cat TRACE/* > /dev/null   (the physical floor: the page cache)
#   awk      babeltrace2 TRACE | awk counting exit reasons  (smallest size only)
#   hist with the fast decoder on 1 and on 2 threads (--decoder-threads),
#   hist --decoder bt2 (libbabeltrace2 inside hvtrace), hist --by qual,
#   replay --check, diff TRACE ALTERED-COPY (the default decoder: auto)
# in rounds (each round runs each command once, in turn), and reports the
# median of the per-round ratios to the decode baseline (diff: to decoding
# both traces) and to cat, for wall and CPU time, events per second and peak
# RSS, then checks the targets.  Results go to stdout (a table) and
# OUT/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes="1000000 10000000"
runs=5
out=build/bench
while [ $# -gt 0 ]; do
	case $1 in
	--sizes) sizes=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) echo "bench: unknown option $1" >&2; exit 2 ;;
	esac
done
case $runs in ''|*[!0-9]*|0) echo "bench: --runs takes a positive number" >&2; exit 2 ;; esac

# /usr/bin/time (peak RSS) and jq (results.json) are small Debian packages.
if ! [ -x /usr/bin/time ] || ! command -v jq >/dev/null; then
	if [ "$(id -u)" -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time jq >/dev/null ||
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time jq >/dev/null; }
	fi
fi

hvt=build/bin/hvtrace
synth=build/bin/hvtrace-synth
for t in "$hvt" "$synth" /usr/bin/time jq babeltrace2; do
	command -v "$t" >/dev/null || { echo "bench: $t missing (run make first)" >&2; exit 2; }
done
mkdir -p "$out/traces"
results=$out/results.jsonl
: > "$results"

# Edits for the altered copy, in seq numbers of the unedited trace: a few
# removed, inserted and altered exits spread over the run.
edits() {
	local n=$1
	echo --drop-seq "$((n / 5)),$((n / 2)),$((n * 4 / 5))" \
	     --insert-at "$((n / 3)):2" --insert-at "$((n * 2 / 3)):1" \
	     --alter "$((n / 4)):rax=0x1234" --alter "$((n * 3 / 4)):rip=0x4242"
}

make_trace() {		# make_trace DIR N [edits...]
	local dir=$1 n=$2
	shift 2
	if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$n $*" ]; then
		return
	fi
	rm -rf "$dir"
	echo "bench: writing $dir ($n exits)" >&2
	"$synth" --out "$dir" --exits "$n" --seed 7 --quiet "$@"
	echo "$n $*" > "$dir/.complete"
}

# One round runs every measurement of a size once, in turn; ratios are taken
# between measurements of the same round (paired), so a burst of load on this
# shared machine moves numerator and denominator together.
names=()
evs=()
cmds=()
add() {		# add NAME EVENTS SHELL-COMMAND
	names+=("$1")
	evs+=("$2")
	cmds+=("$3")
}

run_round() {	# run_round SIZE ROUND
	local i t u s rss rc cpu
	for i in "${!cmds[@]}"; do
		rc=0
		/usr/bin/time -o "$out/time.txt" -f '%e %U %S %M' bash -c "${cmds[$i]}" \
			>/dev/null 2>"$out/stderr.txt" || rc=$?
		# diff exits 1 when the traces differ: that is its answer, not trouble
		if [ "$rc" -ne 0 ] && { [ "$rc" -ne 1 ] || [ "${names[$i]}" != diff ]; }; then
			echo "bench: '${cmds[$i]}' failed (status $rc):" >&2
			tail -n 5 "$out/stderr.txt" >&2
			exit 2
		fi
		read -r t u s rss < <(tail -n 1 "$out/time.txt")
		cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')
		jq -cn --arg name "${names[$i]}" --argjson size "$1" --argjson round "$2" \
			--argjson events "${evs[$i]}" --argjson wall "$t" \
			--argjson cpu "$cpu" --argjson rss_kb "$rss" \
			'{name: $name, exits: $size, round: $round, events: $events,
			  wall_s: $wall, cpu_s: $cpu, peak_rss_kb: $rss_kb}' >> "$results"
		printf '  round %d  %-16s %8.2f s wall %8.2f s cpu %7d KB\n' \
			"$2" "${names[$i]}" "$t" "$cpu" "$rss" >&2
	done
}

smallest=$(printf '%s\n' $sizes | sort -n | head -n 1)
for n in $sizes; do
	base=$out/traces/synth-$n
	alt=$out/traces/synth-$n-altered
	# shellcheck disable=SC2046
	make_trace "$base" "$n"
	# shellcheck disable=SC2046
	make_trace "$alt" "$n" $(edits "$n")
	events=$((2 * n + 2))
	names=()
	evs=()
	cmds=()
	add decode "$events" "babeltrace2 '$base' -c sink.utils.dummy"
	add "decode altered" "$events" "babeltrace2 '$alt' -c sink.utils.dummy"
	add cat "$events" "cat '$base'/* > /dev/null"
	add "cat altered" "$events" "cat '$alt'/* > /dev/null"
	if [ "$n" = "$smallest" ]; then
		add "awk pipeline" "$events" \
			"babeltrace2 '$base' | awk '/hvtrace_exit:/ { if (match(\$0, /exit_reason = [0-9A-Fa-fx]+/)) c[substr(\$0, RSTART + 14, RLENGTH - 14)]++ } END { for (r in c) print r, c[r] }'"
	fi
	add "hist 1 thread" "$events" "'$hvt' hist --decoder-threads 1 '$base'"
	add "hist 2 threads" "$events" "'$hvt' hist --decoder-threads 2 '$base'"
	add "hist bt2" "$events" "'$hvt' hist --decoder bt2 '$base'"
	add "hist --by qual" "$events" "'$hvt' hist --by qual '$base'"
	add "replay --check" "$events" "'$hvt' replay --check '$base'"
	add diff "$((2 * events))" "'$hvt' diff '$base' '$alt'"
	r=$runs
	# the largest traces take minutes a round: three rounds give a median
	[ "$n" -gt 2000000 ] && [ "$r" -gt 3 ] && r=3
	echo "bench: $n exits ($(du -sh "$base" | cut -f1) on disk), $r rounds" >&2
	for ((k = 1; k <= r; k++)); do
		run_round "$n" "$k"
	done
done
rm -f "$out/time.txt" "$out/stderr.txt"

bench/report.sh "$results" "$out/results.json"
