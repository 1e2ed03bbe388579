# make bench-capture: the capture side of the bench, in one Bochs boot
# (bench/capture.sh): handler cycles per exit with tracing off and on, trace
# bytes per exit, a large mix recording brought back to build/bench/capture/
# and the analyzer timed on it.  Results: build/bench/capture.json.
# CAPTURE_ARGS e.g. --before DIR (another build's modules, measured in the
# same boot), --large-exits N, --budget SEC, --iterations "mix:N cpuid:N".
.PHONY: bench-capture
bench-capture: e2e-prep
	@bash bench/capture.sh $(CAPTURE_ARGS)
