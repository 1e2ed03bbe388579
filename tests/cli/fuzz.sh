#!/bin/bash
# The reader on mutated CTF stream files: every input gives a result or a
# clean one-line error, never a crash or a sanitizer report (bounded run).
#   HVT_FUZZ_ITERS   deterministic mutations (default 400)
#   HVT_FUZZ_SECONDS libFuzzer time budget (clang builds); unset: not run
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash
MUT=${HVT_FUZZ_MUT:-build/asan/tests/fuzz/fuzz_reader_mut}
LF=${HVT_FUZZ_LF:-build/fuzz/fuzz_reader}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
# Inputs on which libbabeltrace2 loops end after 2 s (the guard's watchdog).
export HVT_WATCHDOG_SECONDS=${HVT_WATCHDOG_SECONDS:-2}

synth seed --exits 60 --seed 9
check "seed trace has one stream file" test -f "$T/seed/channel0_0"
export HVT_FUZZ_TRACE=$T/seed

if [ -x "$MUT" ]; then
	timeout 600 "$MUT" "${HVT_FUZZ_ITERS:-400}" > "$T/mut.log" 2>&1
	ok $? "deterministic mutations: no crash" "$(tail -20 "$T/mut.log")"
	check "mutations produced both results and clean errors" \
		grep -Eq 'inputs: [1-9][0-9]* read, [1-9][0-9]* clean errors .*no crash' "$T/mut.log"
else
	ok 1 "mutation harness built ($MUT)"
fi

# libFuzzer (coverage-guided, in-process) is for longer manual runs: it stops
# at libbabeltrace2's own assertions, which the CLI guard handles.  Here it
# runs only when asked (HVT_FUZZ_SECONDS set).
if [ -x "$LF" ] && [ -n "${HVT_FUZZ_SECONDS:-}" ]; then
	mkdir -p "$T/corpus"
	cp "$T/seed/channel0_0" "$T/corpus/seed"
	(cd "$T" && timeout 300 "$OLDPWD/$LF" -max_total_time="${HVT_FUZZ_SECONDS:-20}" \
		-timeout=10 -rss_limit_mb=2048 -seed=1 "$T/corpus" > "$T/lf.log" 2>&1)
	ok $? "libFuzzer run: no crash" "$(grep -E 'ERROR|SUMMARY|crash' "$T/lf.log" | head -5)"
	check "libFuzzer executed inputs" grep -q 'Done [1-9][0-9]* runs' "$T/lf.log"
else
	skip "libFuzzer run" "set HVT_FUZZ_SECONDS (and install clang) to run it"
fi

done_testing
