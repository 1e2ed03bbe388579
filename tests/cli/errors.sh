#!/bin/bash
# Bad input gives one clear line on stderr and exit status 2, never a crash
# or a hang: for the command line itself and for every kind of bad trace,
# through each verb that reads traces (hist, dump).
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash

# The command line.
run --help
ok $(( RC != 0 )) "--help exits 0"
check "--help lists the verbs" grep -q 'hist' "$T/out"
run --version
ok $(( RC != 0 )) "--version exits 0"
check "--version names the schema version" grep -q 'schema v3' "$T/out"
run hist --help
ok $(( RC != 0 )) "hist --help exits 0"
check "hist --help documents --by" grep -q -- '--by reason|qual|rip|vcpu' "$T/out"
run dump --help
ok $(( RC != 0 )) "dump --help exits 0"
expect_error "no verb" "no verb given"
expect_error "unknown verb" "unknown verb 'frobnicate'" frobnicate
expect_error "unknown top-level option" "unknown option '--frob'" --frob
expect_error "hist: unknown option" "unknown option '--frob'" hist --frob x
expect_error "hist: no trace" "no TRACE given" hist
expect_error "hist: bad --by" "--by takes" hist --by colour x
expect_error "hist: bad --sort" "--sort takes" hist --sort size x
expect_error "hist: bad --top" "--top takes a positive number" hist --top -3 x
expect_error "hist: --top 0" "--top takes a positive number" hist --top 0 x
expect_error "hist: bad --vcpu" "--vcpu takes" hist --vcpu one x
expect_error "hist: bad --format" "--format takes" hist --format xml x
expect_error "hist: bad --time" "--time takes tsc or ns" hist --time s x
expect_error "hist: bad --threads" "--threads takes" hist --threads -1 x
expect_error "hist: missing option value" "needs a value" hist x --top
expect_error "dump: bad --format" "--format takes" dump --format csv x
expect_error "dump: bad --limit" "--limit takes" dump --limit many x
expect_error "dump: no trace" "no TRACE given" dump

# Bad traces.
mkdir -p "$T/empty" "$T/notrace/sub"
echo hello > "$T/notrace/sub/readme"
echo x > "$T/file"
printf '[    0.000000] hello\n' > "$T/d.txt"
babeltrace2 -c source.text.dmesg -p "path=\"$T/d.txt\"" -c sink.ctf.fs -p "path=\"$T/dmesg\"" \
	> /dev/null 2>&1
mkdir -p "$T/badmeta" && echo 'this is not TSDL {' > "$T/badmeta/metadata"
synth v9 --exits 10 --schema-version 9
synth cut --exits 4000
f=$(ls "$T"/cut/channel* | head -1)
truncate -s $(( $(stat -c %s "$f") / 2 + 3 )) "$f"
synth garbled --exits 2000
f=$(ls "$T"/garbled/channel* | head -1)
# Overwrite the middle of the stream with noise (packet headers included).
dd if=/dev/urandom of="$f" bs=1 seek=$(( $(stat -c %s "$f") / 3 )) count=4096 conv=notrunc \
	status=none
synth emptystream --exits 10
: > "$(ls "$T"/emptystream/channel* | head -1)"

run hist "$T/emptystream"
check "hist: a trace without exits says so" grep -q 'warning: no exit in this trace' "$T/err"
check "hist: a trace without exits shows exits 0" grep -q 'exits 0 ' "$T/out"

for verb in hist dump; do
	expect_error "$verb: missing path" "No such file or directory" $verb "$T/nope"
	expect_error "$verb: a file, not a folder" "not a trace folder" $verb "$T/file"
	expect_error "$verb: empty folder" "not a CTF trace" $verb "$T/empty"
	expect_error "$verb: folder without trace" "not a CTF trace" $verb "$T/notrace"
	expect_error "$verb: CTF trace without hvtrace events" \
		"no hvtrace events in this trace (it has: string)" $verb "$T/dmesg"
	expect_error "$verb: corrupt metadata" "$T/badmeta" $verb "$T/badmeta"
	expect_error "$verb: unknown schema version" "schema version 9 is not known" $verb "$T/v9"
	expect_error "$verb: truncated stream file" "$T/cut" $verb "$T/cut"
	# An empty stream file is a stream without packets (an idle CPU): no error.
	run $verb "$T/emptystream"
	ok $RC "$verb: empty stream file reads as no events" "$(cat "$T/err")"
	run $verb "$T/garbled"
	if [ "$RC" -eq 2 ] && [ "$(wc -l < "$T/err")" -eq 1 ]; then
		ok 0 "$verb: garbled stream file: one line, status 2"
	elif [ "$RC" -eq 0 ]; then
		# Noise that still decodes is a result, not a crash: fine.
		ok 0 "$verb: garbled stream file: decoded without a crash"
	else
		ok 1 "$verb: garbled stream file" "status $RC" "$(head -3 "$T/err")"
	fi
	# Inputs found by fuzzing on which libbabeltrace2 2.0 itself aborts
	# (an assertion) or loops allocating without end: the guard makes both
	# one line and status 2.
	expect_error "$verb: packet sizes libbabeltrace2 asserts on" \
		"corrupt trace: libbabeltrace2 stopped: msg-iter.c" $verb tests/cli/data/bt-assert
	HVT_WATCHDOG_SECONDS=2 expect_error "$verb: packet libbabeltrace2 loops on" \
		"corrupt trace: libbabeltrace2 made no progress for 2 s" $verb tests/cli/data/bt-loop
	# One good and one bad input: the bad one is named.
	synth good-$verb --exits 10
	expect_error "$verb: good + missing input" "$T/nope2" $verb "$T/good-$verb" "$T/nope2"
done

done_testing
