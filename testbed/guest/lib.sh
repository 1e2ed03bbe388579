# hvtrace test bed: shell helpers for payload scripts inside the Bochs guest.
# Source it from run.sh:   . /usr/lib/hvtrace-testbed/lib.sh

# hvt_mark TEXT: a progress line on the console, with the guest's uptime;
# testbed/guest-run.sh shows these lines while Bochs runs.
hvt_mark() {
	echo "HVT-GUEST: [$(cut -d' ' -f1 /proc/uptime)] $*"
}

# hvt_start_sessiond [PROBE,...]: start the root LTTng session daemon
# (loading lttng-probe-PROBE.ko for each named probe) and wait until it
# accepts clients.  Its log goes to /out/sessiond.log.  Returns 1 when it does
# not come up.
hvt_start_sessiond() {
	extra=""
	[ -n "$1" ] && extra="--extra-kmod-probes=$1"
	lttng-sessiond -b $extra > /out/sessiond.log 2>&1 || return 1
	n=0
	while [ ! -S /run/lttng/client-lttng-sessiond ] && [ $n -lt 600 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -S /run/lttng/client-lttng-sessiond ] || return 1
	# The daemon loads its kernel modules after it creates the socket.
	lttng list -k > /dev/null 2>&1
}
