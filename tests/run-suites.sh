#!/bin/bash
# Run test suites that speak TAP ("ok N - name" / "not ok N - name") and
# print one closing line: "N passed, N failed".  A suite that exits non-zero
# without reporting a failing test counts as one failed test of its own, so a
# crash can never pass unseen.
#
# usage: tests/run-suites.sh SUITE...   (each an executable; output kept in
#        $HVT_TEST_LOG_DIR, default build/test-logs)
set -u
logdir=${HVT_TEST_LOG_DIR:-build/test-logs}
mkdir -p "$logdir"
export CMOCKA_MESSAGE_OUTPUT=TAP
pass=0
fail=0
for suite in "$@"; do
	name=$(basename "$suite")
	log=$logdir/$name.log
	echo "== $name"
	"$suite" > "$log" 2>&1
	rc=$?
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
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
