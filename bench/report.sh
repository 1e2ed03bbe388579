#!/bin/bash
# Turn bench/run.sh's measurements (one JSON object per command and round)
# into the table and results.json, with each target checked.  Ratios are the
# median over rounds of the ratio within a round (paired measurements).
# Exit 1 when a target is missed.
#
# usage: bench/report.sh RESULTS.jsonl RESULTS.json
#        bench/report.sh --capture CAPTURE.json
# --capture prints the host-mode and KVM part of make bench-capture
# (bench/capture.sh computed the medians and ratios into CAPTURE.json) with
# its targets checked; exit 1 when one is missed.
set -euo pipefail
if [ "${1:-}" = --capture ]; then
	f=${2:?usage: report.sh --capture CAPTURE.json}
	[ -f "$f" ] || { echo "report: no $f" >&2; exit 2; }
	p='.host_mode_and_kvm'
	jq -e "$p.rows | length > 0" "$f" > /dev/null 2>&1 ||
		{ echo "report: $f has no host-mode or KVM measurements" >&2; exit 2; }
	rounds=$(jq "[$p.summary[].rounds] | max" "$f")
	echo "host mode and KVM: medians of $rounds interleaved rounds; cycles = the guest's TSC in Bochs (emulated: they count work, see docs/capture-bench.md)"
	for part in host kvm; do
		[ "$(jq --arg p "$part" "[$p.summary[] | select(.part == \$p)] | length" "$f")" -gt 0 ] || continue
		if [ "$part" = host ]; then
			printf '\n%-7s %-7s %6s %12s %8s %10s %7s %8s %6s\n' program mode rounds "cycles/op" ratio overhead exits dropped lost
		else
			printf '\n%-9s %-9s %6s %12s %8s %10s %7s %8s %6s\n' program mode rounds "cycles/exit" ratio overhead exits dropped lost
		fi
		jq -r --arg p "$part" "$p.summary | map(select(.part == \$p))
			| sort_by(.prog, (.mode | if . == \"native\" or . == \"off\" then 0 elif . == \"filtered\" then 1 elif . == \"virt\" or . == \"attached\" then 2 else 3 end))[]
			| [.prog, .mode, .rounds, (.per // \"-\"), (.ratio // \"-\"), (.overhead // \"-\"), (.exits // \"-\"), (.dropped // \"-\"), .lost] | @tsv" "$f" |
			awk -F'\t' -v w="$([ "$part" = host ] && echo 7 || echo 9)" '{ printf "%-*s %-*s %6s %12s %8s %10s %7s %8s %6s\n", w, $1, w, $2, $3, $4, $5, $6, $7, $8, $9 }'
	done
	echo
	echo "ratio: median over rounds of this mode / the unvirtualized (host) or unattached (KVM) run of the same round; overhead: difference of the medians"
	jq -r "$p.summary[] | select(.part == \"host\" and .mode == \"virt\" and .drainer_cycles_per_op != null)
		| \"host \\(.prog), virtualized: the ring drainer kthread ran \\(.drainer_cycles) cycles in \\(.drainer_slices) time slices: \\(.drainer_cycles_per_op) per op\"" "$f"
	jq -r "$p.traces[] | \"trace \\(.trace): \\(.exits) exits, \\(.bytes) bytes, \\(.bytes_per_exit // \"-\") bytes per exit\"" "$f"
	echo
	jq -r "$p.targets[] | [(if .met then \"met   \" else \"MISSED\" end), .target, .value, .limit] | @tsv" "$f" |
		awk -F'\t' '{ printf "%s  %-66s %8s (limit %s)\n", $1, $2, $3, $4 }'
	jq -e "[$p.targets[] | select(.met | not)] | length == 0" "$f" > /dev/null
	exit
fi
in=${1:?usage: report.sh RESULTS.jsonl RESULTS.json}
out=${2:?usage: report.sh RESULTS.jsonl RESULTS.json}

machine="$(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
jq -s --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg machine "$machine" '
  def median: sort | if length == 0 then null
    elif length % 2 == 1 then .[length / 2 | floor]
    else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  . as $m
  | ($m | map(.exits) | unique) as $sizes
  # the baseline of a row in its own round: decode, or both decodes for diff
  | def base2($r; $key; $b; $balt):
      ($m | map(select(.exits == $r.exits and .round == $r.round))) as $rd
      | ($rd | map(select(.name == $b))[0][$key]) as $d
      | if $r.name == "diff"
        then $d + ($rd | map(select(.name == $balt))[0][$key])
        else $d end;
    def base($r; $key): base2($r; $key; "decode"; "decode altered");
    def catbase($r): base2($r; "wall_s"; "cat"; "cat altered");
  [ $m | group_by([.exits, .name])[]
    | . as $g
    | { name: $g[0].name, exits: $g[0].exits, events: $g[0].events,
        rounds: ($g | length),
        median_wall_s: ($g | map(.wall_s) | median),
        median_cpu_s: ($g | map(.cpu_s) | median),
        peak_rss_kb: ($g | map(.peak_rss_kb) | max),
        ratio: ($g | map(.wall_s / base(.; "wall_s")) | median),
        speedup: ($g | map(base(.; "wall_s") / ([.wall_s, 0.01] | max)) | median),
        cpu_ratio: ($g | map(.cpu_s / base(.; "cpu_s")) | median),
        vs_cat: ($g | map(.wall_s / ([catbase(.), 0.01] | max)) | median),
        wall_s: ($g | map(.wall_s)) }
    | . + { events_per_s: (.events / ([.median_wall_s, 0.01] | max)) } ] as $rows
  | ($sizes | min) as $small | ($sizes | max) as $large
  | def row($n; $s): $rows | map(select(.name == $n and .exits == $s))[0];
    def target($what; $value; $limit; $ok): {target: $what, value: $value, limit: $limit, met: $ok};
  # speed targets at the largest size (issue 10); memory at every size
  ([ row("hist 1 thread"; $large).speedup as $x
     | target("hist, 1 thread: decode / hist (wall), \($large) exits"; $x; 5; $x >= 5) ]
   + [ row("hist 2 threads"; $large).speedup as $x
     | target("hist, 2 threads: decode / hist (wall), \($large) exits"; $x; 8; $x >= 8) ]
   + [ row("diff"; $large).speedup as $x
     | target("diff: decode of both / diff (wall), \($large) exits"; $x; 3; $x >= 3) ]
   + [ row("replay --check"; $large).speedup as $x
     | target("replay --check: decode / replay (wall), \($large) exits"; $x; 3; $x >= 3) ]
   + [ $sizes[] as $s
       | ( "hist 1 thread", "hist 2 threads", "replay --check", "diff" ) as $v
       | target("\($v) peak RSS MiB, \($s) exits"; (row($v; $s).peak_rss_kb / 1024); 64; row($v; $s).peak_rss_kb < 65536) ]
   + [ ( "hist 1 thread", "hist 2 threads", "replay --check", "diff" ) as $v
       | select($small != $large)
       | (row($v; $large).peak_rss_kb / row($v; $small).peak_rss_kb) as $g
       | target("\($v) RSS at \($large) / at \($small) exits"; $g; 1.10; $g <= 1.10) ]
   + [ (row("awk pipeline"; $small).median_wall_s / row("hist 2 threads"; $small).median_wall_s) as $x
       | target("awk pipeline / hist (wall), \($small) exits"; $x; 5; $x >= 5) ]) as $targets
  | { date: $date, machine: $machine, measurements: $rows, targets: $targets }
' "$in" > "$out"

printf '\n%-16s %10s %7s %9s %8s %8s %9s %11s %9s\n' measure exits rounds wall_s speedup cpu_ratio vs_cat events/s rss_MiB
jq -r '.measurements | sort_by(.exits) | .[] | [.name, .exits, .rounds, .median_wall_s, .speedup, .cpu_ratio,
	.vs_cat, .events_per_s, .peak_rss_kb / 1024] | @tsv' "$out" |
	awk -F'\t' '{ printf "%-16s %10d %7d %9.2f %7.2fx %8.2fx %8.1fx %11.0f %9.1f\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }'
echo "speedup: libbabeltrace2's decode time (diff: of both traces) / this one's; vs_cat: this time / cat's"

printf '\n'
jq -r '.targets[] | [(if .met then "met   " else "MISSED" end), .target, .value, .limit] | @tsv' "$out" |
	awk -F'\t' '{ printf "%s  %-46s %8.3f (limit %s)\n", $1, $2, $3, $4 }'
echo "results: $out ($(jq -r .date "$out"); $(jq -r .machine "$out"))"
jq -e '[.targets[] | select(.met | not)] | length == 0' "$out" >/dev/null
