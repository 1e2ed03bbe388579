# bench/: `make bench` measures hvtrace against babeltrace2 decode baselines
# on synthetic traces of 1M and 10M exits (see bench/run.sh for the knobs:
# BENCH_SIZES, BENCH_REPS, BENCH_DIR).
.PHONY: bench
bench: $(BUILD)/bin/hvtrace $(BUILD)/bin/hvtrace-synth
	@BUILD=$(BUILD) bash bench/run.sh
