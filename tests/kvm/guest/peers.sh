# Peers of one recorded KVM run (busybox sh, in the Bochs guest):
#   hvtrace record --kvm ... -- sh /in/peers.sh NAME COMMAND ARGS...
# hvtrace record runs this after it attached, as its direct child, so the
# recording's LTTng session is hvtrace-record-$PPID.  Into that session (its
# channel "hvtrace") goes lttng-modules' own kvm_x86_exit when the kvm-x86
# probe is loaded (not kvm_x86_entry: on 6.1 it records the vCPU pointer as
# the id); then COMMAND runs under `perf kvm stat record` when perf is there.
# Results: /out/logs/NAME-lttng-peer.txt, /out/perf-NAME.data.
name=$1
shift
if grep -q '^lttng_probe_kvm_x86 ' /proc/modules; then
	lttng enable-event --kernel --session "hvtrace-record-$PPID" --channel hvtrace \
		kvm_x86_exit > /out/logs/$name-lttng-peer.txt 2>&1
	echo "rc=$?" >> /out/logs/$name-lttng-peer.txt
fi
if command -v perf > /dev/null; then
	exec perf kvm stat record -o /out/perf-$name.data -- "$@"
fi
exec "$@"
