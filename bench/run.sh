#!/bin/bash
# hvtrace benchmark: synthetic traces (2 vCPUs) of each size in BENCH_SIZES,
# an altered copy of each (3 exits dropped, 3 inserted, one register
# changed), then for each size the median over BENCH_REPS runs of:
#   decode   babeltrace2 -c sink.utils.dummy TRACE      (the baseline)
#   awk      babeltrace2 TRACE | awk counting exit reasons
#   hist     hvtrace hist TRACE
#   histq    hvtrace hist --by qual TRACE
#   check    hvtrace replay --check TRACE
#   diff     hvtrace diff TRACE ALTERED        (baseline: decode of both)
# Wall time and peak RSS come from /usr/bin/time.  The table goes to stdout,
# every number to $BENCH_DIR/results.json.
#
#   BENCH_SIZES  exits per trace (default "1000000 10000000")
#   BENCH_REPS   runs per measurement (default 3; the awk pipeline runs once
#                on traces above 2M exits: it is the slow baseline)
#   BENCH_DIR    traces and results (default $BUILD/bench)
set -u
BUILD=${BUILD:-build}
SIZES=${BENCH_SIZES:-1000000 10000000}
REPS=${BENCH_REPS:-3}
DIR=${BENCH_DIR:-$BUILD/bench}
HVT=${HVTRACE:-$BUILD/bin/hvtrace}
SYN=${HVT_SYNTH:-$BUILD/bin/hvtrace-synth}
mkdir -p "$DIR/traces"
for tool in babeltrace2 /usr/bin/time awk python3; do
	command -v "$tool" > /dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done
[ -x "$HVT" ] && [ -x "$SYN" ] || { echo "bench: build first (make)" >&2; exit 2; }

# make_trace NAME ARGS...: a synthetic trace, reused when made with the same ARGS.
make_trace() {
	local name=$1
	shift
	local d="$DIR/traces/$name" stamp="$DIR/traces/$name.args"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$*" ] && [ -f "$d/metadata" ]; then
		return 0
	fi
	rm -rf "$d" "$stamp"
	echo "bench: writing $name ($*)" >&2
	"$SYN" --out "$d" --quiet "$@" || exit 2
	echo "$*" > "$stamp"
}

# measure OUT CMD...: run CMD, append "seconds maxrss_kb" to OUT.
measure() {
	local out=$1
	shift
	/usr/bin/time -f '%e %M' -o "$out.t" bash -c "$*" > /dev/null 2>&1
	local rc=$?
	if [ $rc -gt 1 ]; then
		echo "bench: '$*' failed (status $rc)" >&2
		exit 2
	fi
	tail -1 "$out.t" >> "$out"
}

median() {	# median of column $2 in file $1
	awk -v c="$2" '{print $c}' "$1" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
maxcol() {
	awk -v c="$2" 'BEGIN {m=0} {if ($c > m) m = $c} END {print m}' "$1"
}

AWK_COUNT='/ hvtrace_exit: / { if (match($0, /exit_reason = 0x[0-9A-F]+/)) n[substr($0, RSTART + 14, RLENGTH - 14)]++ } END { for (r in n) print r, n[r] }'

rm -f "$DIR"/m.*
for n in $SIZES; do
	half=$((n / 2))
	make_trace "base-$n" --exits "$n" --vcpus 2 --seed 1
	make_trace "alt-$n" --exits "$n" --vcpus 2 --seed 1 \
		--drop-seq "$((half / 3)),$((half / 3 + 1)),$((half / 2))" \
		--insert-at "$((half * 2 / 3)):3" --alter "$((half - 5)):rbx=0x1234"
	base="$DIR/traces/base-$n"
	alt="$DIR/traces/alt-$n"
	events=$(( 2 * n + 4 ))	# exits + resumes + session start/end per vCPU
	for ((r = 1; r <= REPS; r++)); do
		echo "bench: $n exits, run $r/$REPS" >&2
		measure "$DIR/m.$n.decode" babeltrace2 -c sink.utils.dummy "$base"
		measure "$DIR/m.$n.decode_alt" babeltrace2 -c sink.utils.dummy "$alt"
		if [ "$r" -eq 1 ] || [ "$n" -le 2000000 ]; then
			measure "$DIR/m.$n.awk" "babeltrace2 '$base' 2>/dev/null | awk '$AWK_COUNT'"
		fi
		measure "$DIR/m.$n.hist" "$HVT" hist "$base"
		measure "$DIR/m.$n.histq" "$HVT" hist --by qual "$base"
		measure "$DIR/m.$n.check" "$HVT" replay --check "$base"
		measure "$DIR/m.$n.diff" "$HVT" diff "$base" "$alt"
	done
	echo "$n $events" >> "$DIR/m.sizes"
done

python3 - "$DIR" <<'PY'
import json, os, sys
d = sys.argv[1]
def col(path, c):
    return [float(l.split()[c]) for l in open(path) if l.strip()]
def med(v):
    v = sorted(v); k = len(v)
    return v[k // 2] if k % 2 else (v[k // 2 - 1] + v[k // 2]) / 2
res = {"sizes": [], "targets": {
    "hist_vs_decode_max": 1.10, "diff_vs_decode_both_max": 1.3,
    "check_vs_decode_max": 1.3, "rss_mib_max": 64, "rss_flat_pct": 10,
    "hist_vs_awk_min_speedup": 5}}
rows = []
for line in open(os.path.join(d, "m.sizes")):
    n, events = map(int, line.split())
    m = {}
    for k in ("decode", "decode_alt", "awk", "hist", "histq", "check", "diff"):
        p = os.path.join(d, "m.%d.%s" % (n, k))
        m[k] = {"runs_s": col(p, 0), "median_s": med(col(p, 0)),
                "max_rss_mib": max(col(p, 1)) / 1024}
    dec = m["decode"]["median_s"]
    both = dec + m["decode_alt"]["median_s"]
    for k, v in m.items():
        base = both if k == "diff" else dec
        v["ratio_to_baseline"] = v["median_s"] / base if base else None
        v["events_per_s"] = (events * (2 if k in ("diff",) else 1)) / v["median_s"] if v["median_s"] else None
    m["hist"]["speedup_vs_awk"] = m["awk"]["median_s"] / m["hist"]["median_s"]
    res["sizes"].append({"exits": n, "events": events, "measures": m})
s = res["sizes"]
print("%-8s %-7s %9s %8s %12s %9s  %s" % ("exits", "what", "median_s", "ratio", "events/s", "rss_MiB", "baseline"))
for e in s:
    for k in ("decode", "awk", "hist", "histq", "check", "diff"):
        v = e["measures"][k]
        print("%-8d %-7s %9.2f %8.2f %12.0f %9.1f  %s" % (e["exits"], k, v["median_s"],
              v["ratio_to_baseline"], v["events_per_s"], v["max_rss_mib"],
              "decode of both" if k == "diff" else "decode"))
verdict = {}
for e in s:
    m = e["measures"]
    verdict["hist<=1.10x decode @%d" % e["exits"]] = m["hist"]["ratio_to_baseline"] <= 1.10
    verdict["check<=1.3x decode @%d" % e["exits"]] = m["check"]["ratio_to_baseline"] <= 1.3
    verdict["diff<=1.3x decode both @%d" % e["exits"]] = m["diff"]["ratio_to_baseline"] <= 1.3
    verdict["hist>=5x faster than awk @%d" % e["exits"]] = m["hist"]["speedup_vs_awk"] >= 5
    verdict["diff rss<64MiB @%d" % e["exits"]] = m["diff"]["max_rss_mib"] < 64
if len(s) >= 2:
    a, b = s[0]["measures"]["diff"]["max_rss_mib"], s[-1]["measures"]["diff"]["max_rss_mib"]
    verdict["diff rss flat (%d vs %d exits, within 10%%)" % (s[0]["exits"], s[-1]["exits"])] = abs(b - a) <= 0.10 * a
    a, b = s[0]["measures"]["check"]["max_rss_mib"], s[-1]["measures"]["check"]["max_rss_mib"]
    verdict["check rss flat (within 10%)"] = abs(b - a) <= 0.10 * a
res["verdict"] = verdict
print()
for k, v in verdict.items():
    print("%-4s %s" % ("met" if v else "MISS", k))
json.dump(res, open(os.path.join(d, "results.json"), "w"), indent=2)
print("\nresults: %s" % os.path.join(d, "results.json"))
PY
