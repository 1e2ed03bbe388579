# make bench: analysis speed and memory against babeltrace2 and awk baselines
# (bench/run.sh; BENCH_ARGS e.g. --sizes "100000 1000000" --runs 3), then
# diff past long gaps (bench/diff_gap.sh: exactness, time and RSS ratios).
.PHONY: bench
bench: all
	@bash testbed/install-deps.sh build
	@bash bench/run.sh $(BENCH_ARGS)
	@bash bench/diff_gap.sh
