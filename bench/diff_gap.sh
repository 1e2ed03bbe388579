#!/bin/bash
# make bench, part 2: hvtrace diff past long gaps.  One run of N exits
# against the same run with a block of G exits inserted in its middle (a
# polling loop that ran longer, as two boots of a guest differ), for several
# G: whether the answer is exact (G inserted, nothing missing, no field
# differs), the wall time and peak RSS, each as a ratio to the diff of the
# run against itself (medians of --runs rounds).  The window doubles from
# 2048 while no resync is found, up to --max-window (65536); past it the
# report says BOUND HIT, which the last size shows.
#
# usage: bench/diff_gap.sh [--exits N] [--gaps "3000 30000 60000 100000"] [--runs N] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

exits=200000
gaps="3000 30000 60000 100000"
runs=3
out=build/bench
while [ $# -gt 0 ]; do
	case $1 in
	--exits) exits=$2; shift 2 ;;
	--gaps) gaps=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) echo "diff_gap: unknown option $1" >&2; exit 2 ;;
	esac
done
hvt=build/bin/hvtrace
synth=build/bin/hvtrace-synth
for t in "$hvt" "$synth" /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "diff_gap: $t missing (run make first)" >&2; exit 2; }
done
dir=$out/gap-traces
mkdir -p "$dir"
results=$out/diff-gap.jsonl
: > "$results"

trace() {	# trace NAME ARGS...: made once per size and edit
	[ -f "$dir/$1/metadata" ] && return 0
	rm -rf "${dir:?}/$1"
	"$synth" --out "$dir/$1" --quiet --exits "$exits" --seed 11 "${@:2}"
}

measure() {	# measure A B: "wall_s rss_kb" medians, the last summary in $dir/last.out
	local i w=() m=()
	for ((i = 0; i < runs; i++)); do
		/usr/bin/time -f '%e %M' -o "$dir/time" "$hvt" diff "$1" "$2" > "$dir/last.out" 2>&1 || true
		read -r a b < <(tail -1 "$dir/time")
		w+=("$a")
		m+=("$b")
	done
	printf '%s\n' "${w[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p" | tr '\n' ' '
	printf '%s\n' "${m[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

trace base
read -r base_w base_m < <(measure "$dir/base" "$dir/base")
printf '%-8s %-6s %9s %9s %8s %8s  %s\n' exits gap wall_s rss_MB x_wall x_rss result
printf '%-8s %-6s %9s %9.1f %8s %8s  %s\n' "$exits" 0 "$base_w" "$(echo "$base_m / 1024" | bc -l)" 1.00 1.00 "(itself)"
for g in $gaps; do
	trace "gap$g" --insert-at "$((exits / 4)):$g"
	read -r w m < <(measure "$dir/base" "$dir/gap$g")
	sum=$(grep '^summary:' "$dir/last.out" || true)
	if grep -q '^BOUND HIT' "$dir/last.out"; then
		res="bound hit (said so)"
	elif echo "$sum" | grep -q "(0 with differing fields), 0 missing in B, $g inserted in B"; then
		res="exact"
	else
		res="NOT EXACT: $sum"
	fi
	xw=$(echo "$w / $base_w" | bc -l)
	xm=$(echo "$m / $base_m" | bc -l)
	printf '%-8s %-6s %9s %9.1f %8.2f %8.2f  %s\n' "$exits" "$g" "$w" "$(echo "$m / 1024" | bc -l)" "$xw" "$xm" "$res"
	printf '{"exits":%s,"gap":%s,"wall_s":%s,"rss_kb":%s,"wall_ratio":%.3f,"rss_ratio":%.3f,"result":"%s"}\n' \
		"$exits" "$g" "$w" "$m" "$xw" "$xm" "$res" >> "$results"
done
echo "results: $results"
