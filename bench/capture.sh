#!/bin/bash
# make bench-capture: the capture side of the bench, measured in Bochs.
#
# usage: bench/capture.sh [--out DIR] [--before-rev REV | --before DIR]
#            [--iterations "mix:N cpuid:N"]
#            [--seed N] [--probe-exits N] [--large-exits N] [--budget SEC]
#            [--mem MB] [--timeout SEC] [--runs N] [--reuse] [--no-analyzer]
#            [--no-large] [--attribution] [--parts "sandbox host kvm"]
#            [--rounds N] [--cpu-model MODEL]
#
# One Bochs boot (bench/capture/guest.sh inside).  For each workload: one run
# with no tracer and one under `hvtrace record`; the module's counters give
# the mean handler time per exit (resume TSC - exit TSC, kept whether or not
# a tracer is attached) and the mean run time per exit (first VM entry to
# stop: guest work, VM exit/entry and handler); for the traced run also the
# trace's own resume.tsc - exit.tsc (`hvtrace hist --format json`) and trace
# bytes per exit (CTF stream files / exits).  --before-rev REV builds git
# revision REV's modules and hvtctl in a scratch tree (--before DIR: a folder
# with another build's hvtrace.ko, lttng-probe-hvtrace.ko and hvtctl) and
# measures that build first in the same boot, for a before/after comparison.  Then a large mix
# recording: PROBE_EXITS first, timed; LARGE_EXITS when the time that
# predicts fits --budget guest seconds, else the largest multiple of 50k
# that does.  The large trace comes back to OUT/traces and the analyzer is
# timed on it (decode, hist, replay --check, diff with itself; median of
# --runs rounds).  Results: a table on stdout and build/bench/capture.json.
# --reuse skips the boot and reads OUT as the last boot left it.
# --no-large skips the large recording; --attribution adds untraced-style
# runs with LTTng enabling only hvtrace_exit, only hvtrace_resume, and with
# ftrace, to see where the traced handler time goes.
#
# Host mode and KVM (--parts; both by default, after the sandbox part, in
# the same boot; bench/capture/capbench.c is the measuring program): --rounds
# N rounds, each measuring every mode once in turn (interleaved), medians
# reported.  Host mode: TSC cycles per CPUID of a CPUID loop (trapped exit),
# of a CPU-bound loop and of a getppid() loop, not virtualized, virtualized
# with only CPUID trapped and no tracer, and under hvtrace record --host.
# KVM (kvm_intel loaded last: the sandbox refuses to run beside it): TSC
# cycles per exit of a CPUID loop (exits KVM handles in the kernel) and of
# an OUT loop (exits to the VMM) measured by our VMM, and the TSC of a whole
# hvt-vmm run (seed --seed), each not attached, attached with no tracer, and
# under hvtrace record --kvm; bytes per exit of those traces.  The default
# model is corei7_haswell_4770: Debian's kernel keeps XSAVE on there, so
# KVM's guest-FPU path is the one real machines take.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

out=build/bench/capture
before=""
before_rev=""
iters="mix:2000 cpuid:1000"
seed=42
probe=100000
large=1000000
budget=1500
mem=3072
timeout_s=5400
runs=3
reuse=no
analyzer=yes
attribution=0
parts="sandbox host kvm"
rounds=5
model=corei7_haswell_4770
die() { echo "bench-capture: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=${2:-}; shift 2 || die "--out needs a value" ;;
	--before) before=${2:-}; shift 2 || die "--before needs a value" ;;
	--before-rev) before_rev=${2:-}; shift 2 || die "--before-rev needs a value" ;;
	--iterations) iters=${2:-}; shift 2 || die "--iterations needs a value" ;;
	--seed) seed=${2:-}; shift 2 || die "--seed needs a value" ;;
	--probe-exits) probe=${2:-}; shift 2 || die "--probe-exits needs a value" ;;
	--large-exits) large=${2:-}; shift 2 || die "--large-exits needs a value" ;;
	--budget) budget=${2:-}; shift 2 || die "--budget needs a value" ;;
	--mem) mem=${2:-}; shift 2 || die "--mem needs a value" ;;
	--timeout) timeout_s=${2:-}; shift 2 || die "--timeout needs a value" ;;
	--runs) runs=${2:-}; shift 2 || die "--runs needs a value" ;;
	--reuse) reuse=yes; shift ;;
	--no-analyzer) analyzer=no; shift ;;
	--no-large) probe=0; large=0; shift ;;
	--attribution) attribution=1; shift ;;
	--parts) parts=${2:-}; shift 2 || die "--parts needs a value" ;;
	--rounds) rounds=${2:-}; shift 2 || die "--rounds needs a value" ;;
	--cpu-model) model=${2:-}; shift 2 || die "--cpu-model needs a value" ;;
	-h|--help) sed -n 's/^# usage: //p; s/^#            /    /p' "$0"; exit 0 ;;
	*) die "unknown option '$1'" ;;
	esac
done
for p in $parts; do
	case $p in sandbox|host|kvm) ;; *) die "--parts: unknown part '$p' (sandbox host kvm)" ;; esac
done
[ -n "$parts" ] || die "--parts is empty"
[[ $model =~ ^[a-z0-9_]+$ ]] || die "bad --cpu-model '$model'"
for v in "$seed" "$probe" "$large" "$budget" "$mem" "$timeout_s" "$runs" "$rounds"; do
	[[ $v =~ ^[0-9]+$ ]] || die "not a number: '$v'"
done
for w in $iters; do
	[[ $w =~ ^[a-z0-9_-]+:[0-9]+$ ]] || die "bad --iterations entry '$w' (NAME:N)"
done
[[ " $iters " == *" mix:"* ]] || die "--iterations must include mix"

hvt=build/bin/hvtrace
need="$hvt"
[ "$reuse" = yes ] || need="kmod/hvtrace.ko kmod/lttng-probe-hvtrace.ko kmod/tools/hvtctl $hvt"
for f in $need; do
	[ -f "$f" ] || die "missing $f (make e2e-prep)"
done
command -v jq > /dev/null || die "jq missing"
[ -x /usr/bin/time ] || die "/usr/bin/time missing"

if [ "$reuse" = no ]; then
	payload=$(mktemp -d "${TMPDIR:-/tmp}/hvt-capture.XXXXXX")
	trap 'rm -rf "$payload"' EXIT
	variants=""
	if [ -n "$before_rev" ]; then
		# REV's modules and its hvtctl (the counters struct is that
		# revision's), built against the same kernel and LTTng trees.
		rev=$(git rev-parse --verify "$before_rev^{commit}") ||
			die "--before-rev: no revision '$before_rev'"
		before=$payload/src-before/out
		mkdir -p "$before"
		git archive "$rev" | tar x -C "$payload/src-before"
		echo "bench-capture: building $rev's modules" >&2
		make -s -C "$payload/src-before/kmod" KDIR="$top/build/cache/kernel/kdir" \
			LTTNG_SRC="$top/build/cache/lttng-build" > "$payload/before-build.log" 2>&1 ||
			{ tail -n 20 "$payload/before-build.log" >&2; die "--before-rev: build failed"; }
		cc -std=c11 -O2 -static -o "$before/hvtctl" "$payload/src-before/kmod/tools/hvtctl.c"
		cp "$payload/src-before/kmod/hvtrace.ko" \
			"$payload/src-before/kmod/lttng-probe-hvtrace.ko" "$before/"
		echo "$rev" > "$before/commit"
	fi
	if [ -n "$before" ]; then
		for f in hvtrace.ko lttng-probe-hvtrace.ko hvtctl; do
			[ -f "$before/$f" ] || die "--before: no $before/$f"
		done
		mkdir -p "$payload/before"
		cp "$before/hvtrace.ko" "$before/lttng-probe-hvtrace.ko" "$before/hvtctl" \
			"$payload/before/"
		rm -rf "$payload/src-before"
		variants="before"
	fi
	mkdir -p "$payload/after" "$payload/modules"
	cp kmod/hvtrace.ko kmod/lttng-probe-hvtrace.ko kmod/tools/hvtctl "$payload/after/"
	# installed too, so that modprobe (lttng-sessiond) finds the probe
	cp kmod/hvtrace.ko kmod/lttng-probe-hvtrace.ko "$payload/modules/"
	variants="$variants after"
	mkdir -p "$payload/bin"
	cp kmod/tools/hvtctl "$payload/bin/"
	bash testbed/payload-add-bin.sh "$payload" "$hvt"
	cp bench/capture/guest.sh "$payload/run.sh"
	# host mode and KVM: the measuring program, hvt-vmm, KVM's modules
	cc -std=gnu11 -Wall -Wextra -O2 -static -o "$payload/bin/capbench" \
		bench/capture/capbench.c || die "capbench does not build"
	if [[ " $parts " == *" kvm "* ]]; then
		cc -std=gnu11 -Wall -Wextra -O2 -static -o "$payload/bin/hvt-vmm" \
			tests/kvm/hvt-vmm.c || die "hvt-vmm does not build"
		kmods=build/cache/kernel/root/lib/modules/$(cat build/cache/kernel/kver)/kernel
		cp "$kmods/virt/lib/irqbypass.ko" "$kmods/arch/x86/kvm/kvm.ko" \
			"$kmods/arch/x86/kvm/kvm-intel.ko" "$payload/modules/" ||
			die "KVM's modules missing from build/cache/kernel (make e2e-prep)"
	fi
	{
		echo "SEED=$seed"
		echo "WORKLOADS=\"$iters\""
		echo "VARIANTS=\"${variants# }\""
		echo "PROBE_EXITS=$probe"
		echo "LARGE_EXITS=$large"
		echo "LARGE_BUDGET=$budget"
		# 8 MiB x 128 = 1 GiB: record's ceiling, one CPU
		echo "SUBBUF=8M"
		echo "NUMSUB=128"
		echo "ATTRIBUTION=$attribution"
		echo "PARTS=\"$parts\""
		echo "ROUNDS=$rounds"
		echo "HOST_CPUID=2000"
		echo "HOST_GAP=500"
		echo "HOST_BURST=5000"
		echo "HOST_CPU=10000000"
		echo "HOST_SYS=20000"
		echo "KVM_CPUID=10000"
		echo "KVM_OUT=3000"
		echo "VMM_OPS=2000"
		echo "VMM_VMS=3"
	} > "$payload/env"
	rm -rf "$out"
	mkdir -p "$(dirname "$out")"
	echo "bench-capture: booting Bochs ($model, --mem $mem; parts: $parts); progress in $out.progress" >&2
	t0=$(date +%s)
	# bash reads a script as it runs: a commit to guest-run.sh during this
	# long boot would break it at the end and lose the results.  Run a
	# copy, beside the original (it finds the tree from its own folder).
	grun=testbed/.guest-run-capture.$$.sh
	cp testbed/guest-run.sh "$grun"
	trap 'rm -rf "$payload" "$grun"' EXIT
	set +e
	bash "$grun" --payload "$payload" --out "$out" --mem "$mem" \
		--cpu-model "$model" --timeout "$timeout_s" 2>&1 |
		while IFS= read -r line; do
			printf '%s +%ss %s\n' "$(date -u +%T)" "$(($(date +%s) - t0))" "$line"
		done > "$out.progress"
	rc=${PIPESTATUS[0]}
	set -e
	echo "boot_wall_s=$(($(date +%s) - t0)) guest_run_rc=$rc model=$model" \
		"commit=$(git rev-parse --short HEAD 2> /dev/null || echo none)" > "$out.boot"
	mv "$out.progress" "$out.boot" "$out/" 2> /dev/null || true
	[ "$rc" -le 1 ] || die "the Bochs run failed (status $rc); see $out"
fi
[ -f "$out/results.txt" ] || die "no $out/results.txt (did the boot finish?)"

# ---- host side: the numbers ------------------------------------------------

# field LINE KEY
field() { tr ' ' '\n' <<< "$1" | sed -n "s/^$2=//p"; }

# stream_bytes DIR: the CTF stream files (no metadata, no index)
stream_bytes() {
	find "$1" -type f ! -name metadata ! -path '*/index/*' -printf '%s\n' |
		awk '{ s += $1 } END { print s + 0 }'
}

json=$out/capture.jsonl
: > "$json"
while IFS= read -r line; do
	case $line in tag=*) ;; *) continue ;; esac
	tag=$(field "$line" tag)
	mode=$(field "$line" mode)
	exits=$(field "$line" exits)
	tr_mean=null tr_p50=null tr_p99=null tr_exits=null bytes=null lost=null
	tdir=$out/traces/$tag
	if [ "$mode" != off ] && [ -d "$tdir" ]; then
		h=$("$hvt" hist --format json "$tdir")
		tr_mean=$(jq '.total.latency.mean // .total.mean' <<< "$h")
		tr_p50=$(jq '.total.latency.p50 // .total.p50' <<< "$h")
		tr_p99=$(jq '.total.latency.p99 // .total.p99' <<< "$h")
		tr_exits=$(jq '.exits' <<< "$h")
		lost=$(jq '.lost.discarded_events + .lost.discarded_records + .lost.seq_gaps' <<< "$h")
		sb=$(stream_bytes "$tdir")
		bytes=$(awk -v b="$sb" -v x="$tr_exits" 'BEGIN { printf "%.1f", b / x }')
	fi
	jq -cn --arg tag "$tag" --arg variant "$(field "$line" variant)" \
		--arg mode "$mode" --arg workload "$(field "$line" workload)" \
		--argjson iterations "$(field "$line" iterations)" \
		--argjson rc "$(field "$line" rc)" --argjson exits "$exits" \
		--argjson handler_tsc "$(field "$line" handler_tsc)" \
		--argjson handler_exits "$(field "$line" handler_exits)" \
		--argjson run_tsc "$(field "$line" run_tsc)" \
		--argjson yields "$(field "$line" yields | grep . || echo 0)" \
		--argjson yield_tsc "$(field "$line" yield_tsc | grep . || echo 0)" \
		--argjson dropped "$(field "$line" dropped)" \
		--arg record_lost "$(field "$line" lost)" \
		--argjson guest_s "$(field "$line" guest_s)" \
		--argjson trace_mean "$tr_mean" --argjson trace_p50 "$tr_p50" \
		--argjson trace_p99 "$tr_p99" --argjson trace_exits "$tr_exits" \
		--argjson trace_lost "$lost" --argjson bytes_per_exit "$bytes" \
		'{tag: $tag, variant: $variant, mode: $mode, workload: $workload,
		  iterations: $iterations, rc: $rc, exits: $exits,
		  handler_cycles_per_exit: (if $handler_exits > 0 then $handler_tsc / $handler_exits else null end),
		  handler_cycles_per_exit_no_yields: (if $handler_exits > 0 then ($handler_tsc - $yield_tsc) / $handler_exits else null end),
		  yields: $yields, yield_tsc: $yield_tsc,
		  run_cycles_per_exit: (if $exits > 0 then $run_tsc / $exits else null end),
		  handler_exits: $handler_exits, dropped: $dropped,
		  record_discarded: $record_lost, guest_s: $guest_s,
		  trace_exits: $trace_exits, trace_handler_mean: $trace_mean,
		  trace_handler_p50: $trace_p50, trace_handler_p99: $trace_p99,
		  trace_lost: $trace_lost, trace_bytes_per_exit: $bytes_per_exit}' >> "$json"
done < "$out/results.txt"

if [ -s "$json" ]; then
printf '%-26s %8s %8s %8s %6s %9s %8s %8s %8s %7s\n' run exits "hdl/exit" "-yields" yields \
	"trace.mean" "tr.p50" "tr.p99" "run/exit" "B/exit"
jq -r '[.tag, .exits, (.handler_cycles_per_exit // 0 | . * 10 | round / 10),
	(.handler_cycles_per_exit_no_yields // 0 | . * 10 | round / 10), .yields,
	(.trace_handler_mean // "-" | if type == "number" then (. * 10 | round / 10) else . end),
	(.trace_handler_p50 // "-"), (.trace_handler_p99 // "-"),
	(.run_cycles_per_exit // 0 | round),
	(.trace_bytes_per_exit // "-")] | @tsv' "$json" |
	awk -F'\t' '{ printf "%-26s %8s %8s %8s %6s %9s %8s %8s %8s %7s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }'

# Tracing overhead per exit: traced minus untraced, same variant and workload.
echo
printf '%-8s %-8s %12s %12s %12s %12s %12s\n' variant workload "hdl off" "hdl on" "overhead" \
	"-yields" "run overhead"
jq -s -r 'group_by(.variant + "/" + .workload)[] |
	(map(select(.mode == "off"))[0]) as $off | (map(select(.mode == "on"))[0]) as $on |
	select($off != null and $on != null) |
	[$off.variant, $off.workload, ($off.handler_cycles_per_exit | . * 10 | round / 10),
	 ($on.handler_cycles_per_exit | . * 10 | round / 10),
	 ($on.handler_cycles_per_exit - $off.handler_cycles_per_exit | . * 10 | round / 10),
	 ($on.handler_cycles_per_exit_no_yields - $off.handler_cycles_per_exit_no_yields | . * 10 | round / 10),
	 ($on.run_cycles_per_exit - $off.run_cycles_per_exit | round)] | @tsv' "$json" |
	awk -F'\t' '{ printf "%-8s %-8s %12s %12s %12s %12s %12s\n", $1, $2, $3, $4, $5, $6, $7 }'
fi
plan=$(grep '^plan ' "$out/results.txt" || true)
[ -n "$plan" ] && echo && echo "large recording: ${plan#plan }"

# ---- host mode and KVM: one object per measurement, medians, ratios -------
pjson=$out/parts.jsonl
grep '^part=' "$out/results.txt" | jq -R -c 'split(" ") | map(select(length > 0) | split("=")
	| {(.[0]): (.[1:] | join("=") | if test("^-?[0-9]+(\\.[0-9]+)?$") then tonumber else . end)}) | add' \
	> "$pjson" || true
tjson=$out/part-traces.jsonl
: > "$tjson"
for tdir in "$out"/traces/kvm-* "$out"/traces/host-*; do
	[ -d "$tdir" ] || continue
	tx=$("$hvt" hist --format json "$tdir" 2> /dev/null | jq '.exits // 0' || echo 0)
	jq -cn --arg trace "$(basename "$tdir")" --argjson exits "${tx:-0}" \
		--argjson bytes "$(stream_bytes "$tdir")" \
		'{trace: $trace, exits: $exits, bytes: $bytes,
		  bytes_per_exit: (if $exits > 0 then ($bytes / $exits * 10 | round / 10) else null end)}' >> "$tjson"
done
parts_summary=$(jq -s --slurpfile traces "$tjson" '
  def median: map(select(type == "number")) | sort
    | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
      else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def r1: if type == "number" then ((. * 10 | round / 10) + 0) else . end;
  . as $all
  # hvt-vmm: cycles per exit, the exits being those of the traced run of the
  # same round (same seed, same guest program)
  | ($all | map(select(.prog == "vmm" and .mode == "traced")
      | {key: (.round | tostring), value: .exits}) | from_entries) as $vmmx
  | ($all | map(. + {per: (if .prog == "vmm" then
        (if (.cycles | type) == "number" and (($vmmx[.round | tostring] // 0) | type) == "number"
            and ($vmmx[.round | tostring] // 0) > 0
         then .cycles / $vmmx[.round | tostring] else null end)
      elif (.cycles | type) == "number" and .n > 0 then .cycles / .n else null end)})) as $rows
  | def base($r): if $r.part == "host" then "native" else "off" end;
    def basever($r): $rows | map(select(.part == $r.part and .prog == $r.prog
        and .round == $r.round and .mode == base($r)))[0].per;
  [ $rows | group_by([.part, .prog, .mode])[] | . as $g
    | ($g[0]) as $f
    | { part: $f.part, prog: $f.prog, mode: $f.mode, rounds: ($g | length),
        per: ($g | map(.per) | median | r1),
        per_all: ($g | map(.per | r1)),
        ratio: ($g | map(basever(.) as $b | if (.per | type) == "number" and ($b | type) == "number" and $b > 0
                                             then .per / $b else null end) | median
                 | if type == "number" then (. * 10000 | round / 10000) else . end),
        exits: ($g | map(.exits) | median), dropped: ($g | map(.dropped) | median),
        buffer_full: ($g | map(.buffer_full // 0) | median),
        # host mode, virtualized: CPU time of the ring drainer kthread per op
        drainer_cycles_per_op: ($g | map(if (.drainer_cycles | type) == "number" and .n > 0
                                         then .drainer_cycles / .n else null end) | median
                                 | if type == "number" then (. * 100 | round / 100) else . end),
        drainer_cycles: ($g | map(.drainer_cycles) | median),
        drainer_slices: ($g | map(.drainer_slices) | median),
        rc_bad: ($g | map(select(.rc != 0)) | length),
        lost: ($g | map(select(.lost != 0)) | length) } ]
  | map(. as $x | . + { overhead: (($x.per // null) as $p
        | ([$rows[] | select(.part == $x.part and .prog == $x.prog and .mode == (if $x.part == "host" then "native" else "off" end)) | .per] | median) as $b
        | if ($p | type) == "number" and ($b | type) == "number" then ($p - $b | r1) else null end) }) as $summary
  | def row($part; $prog; $mode): $summary | map(select(.part == $part and .prog == $prog and .mode == $mode))[0];
    def target($what; $value; $limit; $ok): {target: $what, value: $value, limit: $limit, met: $ok};
  { rows: $rows, summary: $summary, traces: $traces,
    targets: ([ row("host"; "cpu"; "virt") | select(. != null) | .ratio as $x
                | target("host mode, CPU-bound: virtualized (CPUID trapped) / native"; $x; 1.02; ($x | type) == "number" and $x <= 1.02) ]
      + [ $summary[] | select(.mode == "traced" and .prog != "burst")
          | (.dropped == 0 and .lost == 0 and .rc_bad == 0) as $ok
          | target("\(.part) \(.prog) traced: status 0, 0 dropped, 0 discarded (runs not ok)"; (.rc_bad + .lost + (if .dropped == 0 then 0 else 1 end)); 0; $ok) ]
      # back-to-back trapped exits outrun the ring on one CPU: what is lost
      # must be counted, never silent
      + [ $rows | map(select(.part == "host" and .prog == "burst" and .mode == "traced")) | select(length > 0)
          | map(select(.exits != .traced + .dropped)) | length as $bad
          | target("host burst traced: every exit traced or counted as dropped (runs not)"; $bad; 0; $bad == 0) ]) }
' "$pjson")

# ---- the analyzer on the large real trace ----------------------------------
abench=$out/analyzer.jsonl
touch "$abench"		# --no-analyzer keeps the last timings
big=$(find "$out/traces" -maxdepth 1 -type d \( -name '*-large-mix' -o -name '*-probe-mix' \) | sort | head -n 1)
if [ "$analyzer" = yes ] && [ -n "$big" ]; then
	bx=$(jq -s --arg t "$(basename "$big")" 'map(select(.tag == $t))[0].trace_exits' "$json")
	ev=$((2 * bx + 2))
	: > "$abench"
	echo
	echo "analyzer on $big ($bx exits, $(du -sh "$big" | cut -f1)), median of $runs rounds:"
	names=(decode hist "hist --by qual" "replay --check" "diff self")
	cmds=("babeltrace2 '$big' -c sink.utils.dummy" "'$hvt' hist '$big'"
	      "'$hvt' hist --by qual '$big'" "'$hvt' replay --check '$big'"
	      "'$hvt' diff '$big' '$big'")
	for ((k = 1; k <= runs; k++)); do
		for i in "${!cmds[@]}"; do
			/usr/bin/time -o "$out/time.txt" -f '%e %U %S %M' bash -c "${cmds[$i]}" \
				> /dev/null 2> "$out/stderr.txt" || {
				echo "bench-capture: '${cmds[$i]}' failed:" >&2
				tail -n 5 "$out/stderr.txt" >&2
				exit 2
			}
			read -r t u s rss < "$out/time.txt"
			e=$ev
			[ "${names[$i]}" = "diff self" ] && e=$((2 * ev))	# both inputs
			jq -cn --arg name "${names[$i]}" --argjson round "$k" --argjson wall "$t" \
				--argjson cpu "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" \
				--argjson rss "$rss" --argjson events "$e" \
				'{name: $name, round: $round, wall_s: $wall, cpu_s: $cpu,
				  peak_rss_kb: $rss, events: $events}' >> "$abench"
		done
	done
	rm -f "$out/time.txt" "$out/stderr.txt"
	jq -s -r 'group_by(.name)[] | (map(.wall_s) | sort | .[length / 2 | floor]) as $w |
		[.[0].name, $w, (map(.cpu_s) | sort | .[length / 2 | floor]),
		 (.[0].events / $w | round), (map(.peak_rss_kb) | max)] | @tsv' "$abench" |
		awk -F'\t' 'BEGIN { printf "  %-16s %8s %8s %12s %10s\n", "command", "wall.s", "cpu.s", "events/s", "rss.KB" }
			{ printf "  %-16s %8s %8s %12s %10s\n", $1, $2, $3, $4, $5 }'
fi

jq -n --slurpfile runs "$json" --slurpfile analyzer "$abench" --argjson parts "${parts_summary:-null}" \
	--arg date "$(date -u +%FT%TZ)" --arg plan "${plan#plan }" \
	--arg host "$(uname -srm), $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)" \
	--arg bochs "$(dpkg-query -W -f '${Version}' bochs 2> /dev/null || echo unknown)" \
	--arg boot "$(cat "$out/$(basename "$out").boot" 2> /dev/null || true)" \
	--arg commit "$(sed -n 's/.*commit=\([0-9a-f]*\).*/\1/p' "$out/$(basename "$out").boot" 2> /dev/null)" \
	'{date: $date, commit: $commit, host: $host, bochs: $bochs, boot: $boot,
	  large_plan: $plan, runs: $runs, analyzer_on_large_trace: $analyzer,
	  host_mode_and_kvm: $parts}' \
	> "$out.json"
echo
# host mode and KVM: the tables and targets (exit status 1 when one is missed)
status=0
if [ "$(jq '.host_mode_and_kvm.rows | length' "$out.json")" -gt 0 ]; then
	echo
	bash bench/report.sh --capture "$out.json" || status=1
fi
echo "results: $out.json (raw: $json, $abench, $pjson)"
exit $status
