# testbed/testbed.mk: the Bochs end-to-end run and the demo (included by the
# top Makefile).
#
#   make e2e     install what is missing, fetch the kernel, build lttng-modules,
#                the modules, hvtctl, hvtrace and hvtrace-wlcheck, then run every
#                Bochs suite: the scenario (testbed/e2e-run.sh, checked by
#                testbed/e2e-check.sh), the module, host-mode, KVM and kernels
#                suites (TAP).  Everything is cached: after an edit of kmod/
#                only the modules are rebuilt and the guests booted.
#   make demo    record a workload twice with one seed and once with another
#                in Bochs (reusing fresh e2e results), then hist, replay, diff.
#   make e2e-prep   the build part of make e2e only.

HVT_E2E_KCACHE := $(CURDIR)/build/cache/kernel
HVT_E2E_LTTNG := $(CURDIR)/build/cache/lttng-build

.PHONY: e2e demo e2e-prep
E2E_SUITES += testbed/e2e-check.sh

# The kernel tree and lttng-modules exist only after the first two steps, so
# the module build runs in a sub-make that sees them.
e2e-prep:
	@bash testbed/install-deps.sh e2e
	@bash testbed/fetch-kernel.sh $(HVT_E2E_KCACHE)
	@bash testbed/build-lttng.sh $(HVT_E2E_KCACHE) $(HVT_E2E_LTTNG)
	@$(MAKE) --no-print-directory kmod hvtctl analyzer $(BUILD)/bin/hvtrace-wlcheck \
		KDIR=$(HVT_E2E_KCACHE)/kdir LTTNG_SRC=$(HVT_E2E_LTTNG)

# Every Bochs suite, TEST_JOBS at a time, the longest first (the top
# Makefile's E2E_ORDERED): the end-to-end checks (testbed/e2e-check.sh boots
# the scenario itself), the module's own suite on 2 CPUs (host state,
# hotplug, error paths), host mode, the KVM backend's proof with its peers,
# and the other kernels.  Each boots its own guest and is cached on its
# inputs.
e2e: e2e-prep
	@bash tests/run-suites.sh --jobs $(TEST_JOBS) $(E2E_ORDERED)

demo: e2e-prep
	@bash testbed/demo.sh

# record's argument handling needs no module: a fast suite.
CHECK_SUITES += testbed/test-record-cli.sh
