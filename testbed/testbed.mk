# testbed/testbed.mk: the Bochs end-to-end run and the demo (included by the
# top Makefile).
#
#   make e2e     install what is missing, fetch the kernel, build lttng-modules,
#                the modules, hvtctl, hvtrace and hvtrace-wlcheck, boot the
#                scenario in Bochs (testbed/e2e-run.sh) and check it
#                (testbed/e2e-check.sh, TAP).  Everything is cached: after an
#                edit of kmod/ only the modules are rebuilt and the guest booted.
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

# The boot runs first, in the open, so its progress shows; the checks then
# judge exactly its results (HVT_E2E_SINCE), even when another build in the
# tree changed an input meanwhile.  kmod/tests/bochs-kmod.sh (the module's
# own suite on 2 CPUs: host state, hotplug, error paths) and
# tests/kvm/bochs-kvm.sh (the KVM backend's proof, cached on its payload)
# boot themselves.
e2e: e2e-prep
	@since=$$(date +%s); bash testbed/e2e-run.sh || true; \
	HVT_E2E_SINCE=$$since bash tests/run-suites.sh testbed/e2e-check.sh \
		kmod/tests/bochs-kmod.sh tests/kvm/bochs-kvm.sh

demo: e2e-prep
	@bash testbed/demo.sh

# record's argument handling needs no module: a fast suite.
CHECK_SUITES += testbed/test-record-cli.sh
