# make bench: analysis speed and memory against babeltrace2 and awk baselines
# (bench/run.sh; BENCH_ARGS e.g. --sizes "100000 1000000" --runs 3).
.PHONY: bench
bench: all
	@bash testbed/install-deps.sh build
	@bash bench/run.sh $(BENCH_ARGS)
