#!/bin/bash
# Turn bench/run.sh's measurements (one JSON object per line) into the table
# and results.json, with each target checked.  Exit 1 when a target is missed.
#
# usage: bench/report.sh RESULTS.jsonl RESULTS.json
set -euo pipefail
in=${1:?usage: report.sh RESULTS.jsonl RESULTS.json}
out=${2:?usage: report.sh RESULTS.jsonl RESULTS.json}

machine="$(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
jq -s --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg machine "$machine" '
  def get($n; $s): map(select(.name == $n and .exits == $s))[0];
  . as $m
  | ($m | map(.exits) | unique) as $sizes
  | [ $sizes[] as $s
      | (get("decode"; $s).median_s) as $dec
      | (get("decode altered"; $s).median_s) as $dec2
      | $m[] | select(.exits == $s)
      | . + { ratio: (if .name == "diff" then .median_s / ($dec + $dec2)
                      else .median_s / $dec end),
              events_per_s: (.events / .median_s) } ] as $rows
  | ($sizes | min) as $small | ($sizes | max) as $large
  | def row($n; $s): $rows | map(select(.name == $n and .exits == $s))[0];
    def target($what; $value; $limit; $ok): {target: $what, value: $value, limit: $limit, met: $ok};
  ([ $sizes[] as $s
    | target("hist time / decode time, \($s) exits"; row("hist"; $s).ratio; 1.10; row("hist"; $s).ratio <= 1.10),
      target("diff time / decode time of both, \($s) exits"; row("diff"; $s).ratio; 1.3; row("diff"; $s).ratio <= 1.3),
      target("replay --check time / decode time, \($s) exits"; row("replay --check"; $s).ratio; 1.3; row("replay --check"; $s).ratio <= 1.3),
      ( "hist", "replay --check", "diff" ) as $v
      | target("\($v) peak RSS MiB, \($s) exits"; (row($v; $s).peak_rss_kb / 1024); 64; row($v; $s).peak_rss_kb < 65536) ]
  + [ ( "hist", "replay --check", "diff" ) as $v
    | select($small != $large)
    | (row($v; $large).peak_rss_kb / row($v; $small).peak_rss_kb) as $g
    | target("\($v) RSS at \($large) / at \($small) exits"; $g; 1.10; $g <= 1.10) ]
  + [ (row("awk pipeline"; $small).median_s / row("hist"; $small).median_s) as $x
    | target("awk pipeline time / hist time, \($small) exits"; $x; 5; $x >= 5) ]) as $targets
  | { date: $date, machine: $machine, measurements: $rows, targets: $targets }
' "$in" > "$out"

printf '\n%-16s %10s %10s %8s %12s %10s\n' measure exits median_s ratio events/s rss_MiB
jq -r '.measurements[] | [.name, .exits, .median_s, .ratio, .events_per_s, .peak_rss_kb / 1024]
	| @tsv' "$out" |
	awk -F'\t' '{ printf "%-16s %10d %10.3f %7.2fx %12.0f %10.1f\n", $1, $2, $3, $4, $5, $6 }'
printf '\n'
jq -r '.targets[] | [(if .met then "met   " else "MISSED" end), .target, .value, .limit] | @tsv' "$out" |
	awk -F'\t' '{ printf "%s  %-52s %8.3f (limit %s)\n", $1, $2, $3, $4 }'
echo "results: $out ($(jq -r .date "$out"), $(jq -r .machine "$out"))"
jq -e '[.targets[] | select(.met | not)] | length == 0' "$out" >/dev/null
