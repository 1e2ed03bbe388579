#!/bin/bash
# Run test suites that speak TAP ("ok N - name" / "not ok N - name") and
# print one closing line: "N passed, N failed".  A suite that exits non-zero
# without reporting a failing test counts as one failed test of its own, so a
# crash can never pass unseen.
#
# usage: tests/run-suites.sh [--jobs N] SUITE...
#   Each SUITE is an executable; its output is kept in $HVT_TEST_LOG_DIR
#   (default build/test-logs).  --jobs N (or HVT_SUITE_JOBS=N) runs up to N
#   suites at once, started in the order given (put the long ones first);
#   each suite's results are printed when it ends, with its wall time.
#   The default is 1: one after the other, in order.
set -u
logdir=${HVT_TEST_LOG_DIR:-build/test-logs}
jobs=${HVT_SUITE_JOBS:-1}
if [ "${1:-}" = --jobs ]; then
	jobs=${2:-}
	shift 2 || true
fi
case $jobs in
''|*[!0-9]*|0) echo "run-suites: --jobs needs a positive number, not '$jobs'" >&2; exit 2 ;;
esac
mkdir -p "$logdir"
export CMOCKA_MESSAGE_OUTPUT=TAP
pass=0
fail=0
declare -A started_at=()

# report SUITE RC: print a finished suite's test points, add them up.
report() {
	local suite=$1 rc=$2 name log p f took
	name=$(basename "$suite")
	log=$logdir/$name.log
	took=$(( $(date +%s) - ${started_at[$suite]} ))
	echo "== $name ($((took / 60))m$((took % 60))s)"
	p=$(grep -cE '^ok [0-9]+' "$log")
	f=$(grep -cE '^not ok [0-9]+' "$log")
	grep -E '^(not )?ok [0-9]+' "$log" | sed 's/^/   /'
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "   not ok - $name exited with status $rc (log: $log)"
		tail -n 20 "$log" | sed 's/^/   | /'
		f=1
	elif [ "$f" -ne 0 ]; then
		echo "   (log: $log)"
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "   not ok - $name ran no test (log: $log)"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
}

if [ "$jobs" -eq 1 ]; then
	for suite in "$@"; do
		started_at[$suite]=$(date +%s)
		"$suite" > "$logdir/$(basename "$suite").log" 2>&1
		report "$suite" $?
	done
else
	# Each suite in the background; its status lands in a file, so that
	# whichever ends first is reported first.
	rcdir=$(mktemp -d "${TMPDIR:-/tmp}/hvt-suites.XXXXXX")
	trap 'rm -rf "$rcdir"' EXIT
	declare -A pending=()
	# reap: report every suite whose status is in; 1 when none was
	reap() {
		local k found=1
		for k in "${!pending[@]}"; do
			if [ -f "$rcdir/$k.rc" ]; then
				report "${pending[$k]}" "$(cat "$rcdir/$k.rc")"
				unset "pending[$k]"
				running=$((running - 1))
				found=0
			fi
		done
		return $found
	}
	idx=0
	running=0
	for suite in "$@"; do
		idx=$((idx + 1))
		while [ "$running" -ge "$jobs" ]; do
			wait -n 2> /dev/null
			reap || sleep 1
		done
		started_at[$suite]=$(date +%s)
		echo "-- $(basename "$suite") started"
		( "$suite" > "$logdir/$(basename "$suite").log" 2>&1; echo $? > "$rcdir/$idx.rc.tmp"
		  mv "$rcdir/$idx.rc.tmp" "$rcdir/$idx.rc" ) &
		pending[$idx]=$suite
		running=$((running + 1))
	done
	while [ "$running" -gt 0 ]; do
		wait -n 2> /dev/null
		reap || sleep 1
	done
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
