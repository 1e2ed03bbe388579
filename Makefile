# hvtrace top-level build.  `make` builds what this machine can build,
# `make test` runs every test this machine can run (installing missing Debian
# packages itself when run as root), `make check` the fast subset.
#
# Each part keeps its own rules in its own fragment:
#   analyzer/analyzer.mk  the hvtrace command, its library and unit tests
#   kmod/kmod.mk          hvtrace.ko and lttng-probe-hvtrace.ko (Kbuild)
#   testbed/testbed.mk    the Bochs end-to-end run, demo
#   bench/bench.mk        make bench
# Each fragment appends its test executables (TAP output) to CHECK_SUITES
# (fast, no emulator) or E2E_SUITES (the Bochs run).

BUILD ?= build
PREFIX ?= /usr/local
CHECK_SUITES :=
E2E_SUITES :=

.PHONY: all deps deps-build check test e2e demo bench install clean
all:

-include analyzer/analyzer.mk
-include kmod/kmod.mk
-include testbed/testbed.mk
-include tests/e2e/e2e.mk
-include tests/kvm/kvm.mk
-include tools/tools.mk
-include bench/bench.mk
-include bench/capture.mk

deps-build:
	@bash testbed/install-deps.sh build

deps:
	@bash testbed/install-deps.sh e2e

# The W=1 module build check needs the kernel headers: fetch them (cached)
# first, then build in a sub-make that sees them.
check: deps-build
	@bash testbed/fetch-kernel.sh $(BUILD)/cache/kernel
	@$(MAKE) --no-print-directory all
	@bash tests/run-suites.sh $(CHECK_SUITES)

# Everything: the Bochs suites (each boots its own guest; testbed/e2e-check.sh
# runs the end-to-end boot itself) and the fast suites, TEST_JOBS at a time
# (default: the online CPUs), the long Bochs suites started first.  Each
# suite's results print when it ends; the logs are in build/test-logs.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
# Longest first (a fresh clone on 2 CPUs: the module suite, a 2-CPU guest,
# about 20 min; KVM 13; end-to-end 12; host mode 9; kernels 4).
E2E_LONGEST := kmod/tests/bochs-kmod.sh tests/kvm/bochs-kvm.sh testbed/e2e-check.sh \
	kmod/tests/bochs-host.sh
E2E_ORDERED = $(foreach s,$(E2E_LONGEST),$(filter $(s),$(E2E_SUITES))) \
	$(filter-out $(E2E_LONGEST),$(E2E_SUITES))
test: e2e-prep
	@$(MAKE) --no-print-directory all
	@bash tests/run-suites.sh --jobs $(TEST_JOBS) $(E2E_ORDERED) $(CHECK_SUITES)

clean:
	rm -rf $(BUILD)/bin $(BUILD)/obj $(BUILD)/tests $(BUILD)/test-logs
