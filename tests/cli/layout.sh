#!/bin/bash
# analyzer/'s layers (vmx -> decode -> engine -> verbs): the real tree has
# its include arrows running one way, and the checker catches each kind of
# violation planted in a copy of it.
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash
CHK=analyzer/layout-check.py

python3 "$CHK" analyzer > "$T/out" 2>&1
ok $? "analyzer/: every include runs down the layers" "$(cat "$T/out")"

# plant VIOLATION-FILE LINE: a copy of the tree with LINE added to FILE
plant() {
	rm -rf "$T/a" && cp -r analyzer "$T/a" && printf '%s\n' "$2" >> "$T/a/$1"
}
bad() {	# bad NAME FILE LINE NEEDLE: the checker refuses, naming NEEDLE
	plant "$2" "$3"
	python3 "$CHK" "$T/a" > "$T/out" 2>&1
	local rc=$?
	if [ "$rc" -eq 1 ] && grep -qF "$4" "$T/out"; then ok 0 "$1"
	else ok 1 "$1" "status $rc: $(cat "$T/out")"; fi
}
bad "decode/ including an engine header is refused" \
	decode/reader.c '#include "engine/stats.h"' 'decode/reader.c:'
bad "engine/ including a verbs header is refused" \
	engine/diff.c '#include "verbs/output.h"' 'is above engine/'
bad "vmx/ including a decode header is refused" \
	vmx/qual.h '#include "decode/reader.h"' 'is above vmx/'
bad "status.h including anything of the analyzer is refused" \
	status.h '#include "vmx/qual.h"' 'is above status.h'
bad "an analyzer header without its folder is refused" \
	engine/replay.c '#include "reader.h"' 'without its folder'
plant verbs/dump.c '#include "engine/diff.h"'
touch "$T/a/loose.c"
python3 "$CHK" "$T/a" > "$T/out" 2>&1
rc=$?
check "a C file outside the layers is refused, a verb including an engine is not" \
	sh -c "[ $rc -eq 1 ] && grep -q '^loose.c: outside' '$T/out' && [ \$(wc -l < '$T/out') -eq 1 ]"
python3 "$CHK" "$T/none" > "$T/out" 2>&1
ok $(( $? != 2 )) "a missing folder is a usage error (status 2)"
done_testing
