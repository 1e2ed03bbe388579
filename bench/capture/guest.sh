#!/bin/sh
# Capture bench, run inside the Bochs guest by testbed/guest-run.sh (payload
# run.sh; bench/capture.sh builds the payload).  /in/env sets SEED, WORKLOADS
# ("name:iterations ..."), VARIANTS (module folders under /in, measured in
# turn), PROBE_EXITS, LARGE_EXITS, LARGE_BUDGET (guest seconds), SUBBUF,
# NUMSUB, ATTRIBUTION (1: also the tracer attribution runs below), PARTS
# (which of "sandbox host kvm" to run, in that order), ROUNDS and the
# host/KVM sizes (HOST_CPUID, HOST_GAP, HOST_BURST, HOST_CPU, HOST_SYS,
# KVM_CPUID, KVM_OUT, VMM_OPS, VMM_VMS).
#
# sandbox: for each variant, load its hvtrace.ko; per workload one run with
# no tracer (hvtctl run) and one under LTTng (hvtrace record), the module's
# counters read before and after each.  Then, with the last variant, a
# recording of PROBE_EXITS mix exits, timed, and from its time either
# LARGE_EXITS or the largest count that fits LARGE_BUDGET.
# host: host mode (the last variant's hvtrace.ko, no kvm_intel yet), ROUNDS
# rounds of: a CPUID loop paced by ALU work (HOST_GAP rounds between two
# CPUIDs), the same back to back (HOST_BURST), a CPU-bound loop and a
# syscall loop, each native,
# virtualized with no tracer (capbench host) and under hvtrace record --host,
# in that order (A B C A B C ...).
# kvm: modprobe kvm_intel beside hvtrace.ko (sandbox runs are refused from
# here on), ROUNDS rounds of: our VMM's CPUID and OUT loops (capbench kvm),
# not attached, attached for another VMM only (capbench attach --pid 1: the
# cost of KVM's tracepoints carrying our probes), attached with no tracer
# (capbench attach) and under hvtrace record --kvm; then hvt-vmm's seeded
# guest, the same without the "filtered" mode.
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

has_part() { case " ${PARTS:-sandbox} " in *" $1 "*) return 0 ;; esac; return 1; }

last=""
has_part sandbox || VARIANTS=""
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

large_part() {
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
}
if has_part sandbox && [ "$PROBE_EXITS" -gt 0 ]; then large_part; fi

# ---- host mode and KVM (bench/capture/capbench.c) -------------------------
if [ -z "$last" ] && { has_part host || has_part kvm; }; then
	last=after
	insmod /in/after/hvtrace.ko || { echo "insmod hvtrace.ko failed"; exit 2; }
	hvt_start_sessiond hvtrace || { echo "lttng-sessiond did not start"; exit 2; }
	grep -q '^lttng_probe_hvtrace ' /proc/modules || insmod /in/after/lttng-probe-hvtrace.ko
fi
ROUNDS=${ROUNDS:-5}
RBUF="--subbuf-size 1M --num-subbuf 32"

# kv FILE KEY: the value of KEY=... in FILE (first match)
kv() { tr ' ' '\n' < "$1" | sed -n "s/^$2=//p" | head -n 1; }
# lost FILE: "0" when record said nothing was discarded, else "yes"
lost() { grep -q 'events discarded: 0, packets lost: 0' "$1" && echo 0 || echo yes; }

# host_one ROUND NAME MODE CAPBENCH-ARGS...
host_one() {
	r=$1 prog=$2 mode=$3
	shift 3
	f=/out/logs/host-$prog-$mode-r$r.txt
	case $mode in
	native) capbench "$@" > "$f" 2>&1; rc=$? ;;
	virt) capbench host -- capbench "$@" > "$f" 2>&1; rc=$? ;;
	traced)
		rm -rf /tmp/htr
		# shellcheck disable=SC2086
		hvtrace record --host $RBUF --output /tmp/htr -- capbench "$@" > "$f" 2>&1
		rc=$?
		# round 1's trace comes back (bytes per exit); the others are
		# deleted here
		if [ "$r" = 1 ]; then mv /tmp/htr "/out/traces/host-$prog"; else rm -rf /tmp/htr; fi ;;
	esac
	if [ "$mode" = traced ]; then
		s=$(grep '^host session' "$f")
		ex=$(echo "$s" | sed -n 's/.*, \([0-9]*\) exits, \([0-9]*\) traced, \([0-9]*\) dropped (\([0-9]*\) for a full buffer), \([0-9]*\) filtered.*/\1 \2 \3 \4 \5/p')
		set -- $ex
		extra="exits=${1:-na} traced=${2:-na} dropped=${3:-na} buffer_full=${4:-na} filtered=${5:-na} lost=$(lost "$f")"
	elif [ "$mode" = virt ]; then
		extra="exits=$(kv "$f" exits) traced=$(kv "$f" traced) dropped=$(kv "$f" dropped) buffer_full=$(kv "$f" buffer_full) filtered=$(kv "$f" filtered) lost=0 drainer_ns=$(kv "$f" drainer_ns) drainer_slices=$(kv "$f" drainer_slices) drainer_cycles=$(kv "$f" drainer_cycles)"
	else
		extra="exits=0 traced=0 dropped=0 buffer_full=0 filtered=0 lost=0"
	fi
	echo "part=host round=$r prog=$prog mode=$mode rc=$rc n=$(kv "$f" n) cycles=$(kv "$f" cycles) $extra" >> "$R"
	tail -n 1 "$R"
}

if has_part host; then
	hvt_mark "host mode: $ROUNDS rounds (cpuid $HOST_CPUID gap $HOST_GAP, burst $HOST_BURST, cpu $HOST_CPU, sys $HOST_SYS)"
	r=1
	while [ $r -le "$ROUNDS" ]; do
		# cpuid: CPUIDs paced by ALU work, so that the ring's drainer
		# keeps up when traced; burst: back to back
		for p in "cpuid cpuid $HOST_CPUID $HOST_GAP" "burst cpuid $HOST_BURST" \
			 "cpu cpu $HOST_CPU" "sys sys $HOST_SYS"; do
			for m in native virt traced; do
				set -- $p
				name=$1
				shift
				host_one $r "$name" $m "$@"
			done
		done
		r=$((r + 1))
	done
fi

# kvm_one ROUND PROG MODE: PROG kvm (capbench kvm) or vmm (hvt-vmm)
kvm_one() {
	r=$1 prog=$2 mode=$3
	f=/out/logs/kvm-$prog-$mode-r$r.txt
	if [ "$prog" = kvm ]; then
		set -- capbench kvm --cpuid "$KVM_CPUID" --out "$KVM_OUT"
	else
		# the TSC around hvt-vmm, inside whatever attaches
		set -- sh -c "capbench tsc; hvt-vmm --seed $SEED --ops $VMM_OPS --vms $VMM_VMS --quiet; echo vmm_rc=\$?; capbench tsc"
	fi
	case $mode in
	off) "$@" > "$f" 2>&1; rc=$? ;;
	attached) capbench attach -- "$@" > "$f" 2>&1; rc=$? ;;
	# attached for another VMM (pid 1) only: the probes return at once
	filtered) capbench attach --pid 1 -- "$@" > "$f" 2>&1; rc=$? ;;
	traced)
		rm -rf /tmp/ktr
		# shellcheck disable=SC2086
		hvtrace record --kvm $RBUF --output /tmp/ktr -- "$@" > "$f" 2>&1
		rc=$?
		if [ "$r" = 1 ]; then mv /tmp/ktr "/out/traces/kvm-$prog"; else rm -rf /tmp/ktr; fi ;;
	esac
	case $mode in
	traced)
		s=$(grep '^kvm attach' "$f")
		ex=$(echo "$s" | sed -n 's/.*: \([0-9]*\) exits seen, \([0-9]*\) traced, .* \([0-9]*\) dropped.*/\1 \2 \3/p')
		set -- $ex
		extra="exits=${1:-na} traced=${2:-na} dropped=${3:-na} lost=$(lost "$f")" ;;
	attached|filtered) extra="exits=$(kv "$f" exits) traced=$(kv "$f" traced) dropped=$(kv "$f" dropped) filtered=$(kv "$f" filtered) lost=0" ;;
	*) extra="exits=na traced=0 dropped=0 lost=0" ;;
	esac
	if [ "$prog" = kvm ]; then
		for l in kvm_cpuid kvm_out; do
			line=$(grep "^name=$l " "$f")
			echo "part=kvm round=$r prog=$l mode=$mode rc=$rc n=$(echo "$line" | tr ' ' '\n' | sed -n 's/^n=//p') cycles=$(echo "$line" | tr ' ' '\n' | sed -n 's/^cycles=//p') $extra" >> "$R"
			tail -n 1 "$R"
		done
	else
		t=$(grep -E '^[0-9]+$' "$f" | tr '\n' ' ')
		set -- $t
		cyc=na
		[ $# -ge 2 ] && cyc=$(awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", b - a }')
		grep -q '^vmm_rc=0' "$f" || rc=1
		echo "part=kvm round=$r prog=vmm mode=$mode rc=$rc n=$VMM_VMS cycles=$cyc $extra" >> "$R"
		tail -n 1 "$R"
	fi
}

if has_part kvm; then
	/usr/sbin/modprobe kvm_intel > /out/logs/modprobe-kvm.txt 2>&1
	echo "modprobe kvm_intel rc=$?" >> /out/logs/modprobe-kvm.txt
	hvt_mark "kvm: $(cat /out/logs/modprobe-kvm.txt | tr '\n' ' '); $(dmesg | grep -m1 'x86/fpu: Enabled xstate' | sed 's/^\[[^]]*\] //')"
	hvt_mark "kvm: $ROUNDS rounds (cpuid $KVM_CPUID, out $KVM_OUT, hvt-vmm seed $SEED ops $VMM_OPS vms $VMM_VMS)"
	r=1
	while [ $r -le "$ROUNDS" ]; do
		for m in off filtered attached traced; do
			kvm_one $r kvm $m
		done
		for m in off attached traced; do
			kvm_one $r vmm $m
		done
		r=$((r + 1))
	done
fi
dmesg > /out/logs/dmesg.txt
free -m > /out/logs/free.txt
exit 0
