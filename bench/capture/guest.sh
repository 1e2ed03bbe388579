#!/bin/sh
# Capture bench, run inside the Bochs guest by testbed/guest-run.sh (payload
# run.sh; bench/capture.sh builds the payload).  /in/env sets SEED, WORKLOADS
# ("name:iterations ..."), VARIANTS (module folders under /in, measured in
# turn), PROBE_EXITS, LARGE_EXITS, LARGE_BUDGET (guest seconds), SUBBUF,
# NUMSUB, ATTRIBUTION (1: also the tracer attribution runs below).
#
# For each variant: load its hvtrace.ko; per workload one run with no
# tracer (hvtctl run) and one under LTTng (hvtrace record), the module's
# counters read before and after each.  Then, with the last variant, a
# recording of PROBE_EXITS mix exits, timed, and from its time either
# LARGE_EXITS or the largest count that fits LARGE_BUDGET.
# /out/results.txt: one line per measurement, "key=value" words.
. /usr/lib/hvtrace-testbed/lib.sh
cd /in || exit 2
. /in/env
R=/out/results.txt
mkdir -p /out/traces /out/logs
: > "$R"

now() { cut -d' ' -f1 /proc/uptime; }
# each variant's own hvtctl: the counters struct is its revision's
hvtctl() { "/in/$var/hvtctl" "$@"; }

# cdelta FILE0 FILE1 KEY: counter KEY after minus before
cdelta() {
	awk -v k="$3" 'FNR == 1 { f++ } $1 == k { v[f] = $2 } END { print v[2] - v[1] }' "$1" "$2"
}

# measure VARIANT MODE WORKLOAD ITERATIONS [RECORD-ARGS...]
measure() {
	var=$1 mode=$2 wl=$3 n=$4
	shift 4
	tag=$var-$mode-$wl
	hvt_mark "$tag: $n iterations"
	# A warm-up run first: the guest's log hypercalls print through a
	# ratelimit (10 per 5 s), and the first run after a quiet spell
	# would pay for printing them to the serial console.
	hvtctl run mix -n 200 -s "$SEED" > /dev/null 2>&1
	hvtctl counters > "/out/logs/$tag.c0"
	t0=$(now)
	case $mode in
	on|probe|large)
		hvtrace record --workload "$wl" --seed "$SEED" --iterations "$n" \
			--output "/out/traces/$tag" "$@" > "/out/logs/$tag.txt" 2>&1
		rc=$? ;;
	*)	# off, or a tracer set up by the caller
		hvtctl run "$wl" -n "$n" -s "$SEED" > "/out/logs/$tag.txt" 2>&1
		rc=$? ;;
	esac
	t1=$(now)
	hvtctl counters > "/out/logs/$tag.c1"
	c0=/out/logs/$tag.c0
	c1=/out/logs/$tag.c1
	disc=$(sed -n 's/^events discarded: \([0-9]*\), packets lost: \([0-9]*\).*/\1+\2/p' "/out/logs/$tag.txt")
	echo "tag=$tag variant=$var mode=$mode workload=$wl iterations=$n rc=$rc" \
	     "exits=$(cdelta "$c0" "$c1" exits)" \
	     "handler_tsc=$(cdelta "$c0" "$c1" handler_tsc_total)" \
	     "handler_exits=$(cdelta "$c0" "$c1" handler_exits)" \
	     "run_tsc=$(cdelta "$c0" "$c1" run_tsc_total)" \
	     "yields=$(cdelta "$c0" "$c1" yields)" \
	     "yield_tsc=$(cdelta "$c0" "$c1" yield_tsc_total)" \
	     "dropped=$(cdelta "$c0" "$c1" dropped)" \
	     "lost=${disc:-none} guest_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
	     >> "$R"
	tail -n 1 "$R"
}

stop_sessiond() {
	kill "$(pidof lttng-sessiond)" 2> /dev/null
	n=0
	while pidof lttng-sessiond > /dev/null && [ $n -lt 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
}

last=""
for var in $VARIANTS; do
	last=$var
	hvt_mark "variant $var: load /in/$var/hvtrace.ko"
	insmod "/in/$var/hvtrace.ko" || { echo "variant $var: insmod failed"; exit 2; }
	hvt_start_sessiond hvtrace || { echo "lttng-sessiond did not start"; exit 2; }
	grep -q '^lttng_probe_hvtrace ' /proc/modules ||
		insmod "/in/$var/lttng-probe-hvtrace.ko"
	grep -E '^(hvtrace|lttng_probe_hvtrace) ' /proc/modules > "/out/logs/modules-$var.txt"
	for w in $WORKLOADS; do
		wl=${w%%:*}
		n=${w#*:}
		measure "$var" off "$wl" "$n"
		measure "$var" on "$wl" "$n"
	done
	if [ "$var" != "$(echo $VARIANTS | awk '{ print $NF }')" ]; then
		stop_sessiond
		rmmod lttng_probe_hvtrace 2> /dev/null
		rmmod hvtrace || { echo "variant $var: rmmod failed"; exit 2; }
	fi
done

# Where the traced handler time goes (last variant, mix): LTTng with only
# hvtrace_exit enabled, with only hvtrace_resume, and ftrace with both.
if [ "${ATTRIBUTION:-0}" = 1 ]; then
	n=$(echo $WORKLOADS | tr ' ' '\n' | sed -n 's/^mix://p')
	for ev in exit resume; do
		lttng create "attr-$ev" --output "/tmp/attr-$ev" > "/out/logs/attr-$ev.lttng" 2>&1
		lttng enable-channel -k --subbuf-size 4M --num-subbuf 64 ch >> "/out/logs/attr-$ev.lttng" 2>&1
		lttng enable-event -k -c ch "hvtrace_$ev" >> "/out/logs/attr-$ev.lttng" 2>&1
		lttng start >> "/out/logs/attr-$ev.lttng" 2>&1
		measure "$last" "lttng_${ev}_only" mix "$n"
		lttng stop >> "/out/logs/attr-$ev.lttng" 2>&1
		lttng destroy >> "/out/logs/attr-$ev.lttng" 2>&1
		rm -rf "/tmp/attr-$ev"
	done
	tr=/sys/kernel/tracing
	[ -d $tr/events ] || mount -t tracefs nodev $tr 2> /dev/null
	if [ -d $tr/events/hvtrace ]; then
		echo 1 > $tr/events/hvtrace/enable
		measure "$last" ftrace mix "$n"
		echo 0 > $tr/events/hvtrace/enable
		echo > $tr/trace
	fi
fi

[ "$PROBE_EXITS" -gt 0 ] || exit 0
# Exits per mix iteration for this seed, from the untraced run.
epi=$(awk -v t="$last-off-mix" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
	f["tag"] == t { print f["exits"] / f["iterations"] }' "$R")
[ -n "$epi" ] || epi=8.9
bufargs="--subbuf-size $SUBBUF --num-subbuf $NUMSUB"
probe_n=$(awk -v e="$PROBE_EXITS" -v p="$epi" 'BEGIN { printf "%d", e / p + 1 }')
# shellcheck disable=SC2086
measure "$last" probe mix "$probe_n" $bufargs
t_probe=$(awk -F'guest_s=' 'END { print $2 }' "$R")
x_probe=$(awk 'END { for (i = 1; i <= NF; i++) if ($i ~ /^exits=/) print substr($i, 7) }' "$R")
plan=$(awk -v t="$t_probe" -v x="$x_probe" -v want="$LARGE_EXITS" -v b="$LARGE_BUDGET" 'BEGIN {
	est = t * want / x
	if (est <= b) { printf "%d %d full", want, est; exit }
	n = int(b * x / t / 50000) * 50000
	printf "%d %d budget", n, b }')
set -- $plan
echo "plan probe_exits=$x_probe probe_guest_s=$t_probe want=$LARGE_EXITS budget_s=$LARGE_BUDGET" \
     "large_exits=$1 est_guest_s=$2 why=$3" >> "$R"
tail -n 1 "$R"
if [ "$1" -gt "$x_probe" ]; then
	rm -rf "/out/traces/$last-probe-mix"
	large_n=$(awk -v e="$1" -v p="$epi" 'BEGIN { printf "%d", e / p + 1 }')
	# shellcheck disable=SC2086
	measure "$last" large mix "$large_n" $bufargs
fi
"/in/$last/hvtctl" counters > /out/logs/counters-final.txt
free -m > /out/logs/free.txt
exit 0
