# make bench-capture: the capture side of the bench, in one Bochs boot
# (bench/capture.sh): the sandbox's handler cycles per exit with tracing off
# and on, trace bytes per exit, a large mix recording brought back to
# build/bench/capture/ and the analyzer timed on it; then host mode (CPUID
# trap cost, CPU-bound and syscall slowdown) and KVM (cycles per exit not
# attached, attached, recorded; bytes per exit), interleaved rounds.
# Results: build/bench/capture.json; bench/report.sh --capture prints the
# host-mode and KVM tables and targets (exit 1 when one is missed).
# CAPTURE_ARGS e.g. --before DIR (another build's modules, measured in the
# same boot), --large-exits N, --budget SEC, --iterations "mix:N cpuid:N",
# --parts "host kvm", --rounds N.
.PHONY: bench-capture
bench-capture: e2e-prep
	@bash bench/capture.sh $(CAPTURE_ARGS)
