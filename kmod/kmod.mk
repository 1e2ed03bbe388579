# kmod/kmod.mk: hvtrace.ko, lttng-probe-hvtrace.ko and hvtctl (included by
# the top Makefile).
#
#   make kmod [KDIR=...] [LTTNG_SRC=...]
#
# KDIR: kernel build tree; default build/cache/kernel/kdir when it exists
# (testbed/fetch-kernel.sh), else /lib/modules/$(uname -r)/build.
# LTTNG_SRC: a built lttng-modules tree for the LTTng probe; default
# build/cache/lttng-build when it holds a Module.symvers
# (testbed/build-lttng.sh), else no probe.

HVT_KDIR_DEFAULT := $(if $(wildcard build/cache/kernel/kdir/Makefile),$(CURDIR)/build/cache/kernel/kdir,/lib/modules/$(shell uname -r)/build)
KDIR ?= $(HVT_KDIR_DEFAULT)
HVT_LTTNG_DEFAULT := $(if $(wildcard build/cache/lttng-build/Module.symvers),$(CURDIR)/build/cache/lttng-build,)
LTTNG_SRC ?= $(HVT_LTTNG_DEFAULT)

.PHONY: kmod kmod-clean hvtctl
all: kmod hvtctl

kmod:
	@if [ -f "$(KDIR)/Makefile" ]; then \
		$(MAKE) -C kmod KDIR=$(KDIR) LTTNG_SRC=$(LTTNG_SRC); \
	else \
		echo "kmod: no kernel build tree at $(KDIR) (run testbed/fetch-kernel.sh build/cache/kernel, or pass KDIR=); skipping hvtrace.ko"; \
	fi

hvtctl: kmod/tools/hvtctl

kmod/tools/hvtctl: kmod/tools/hvtctl.c kmod/uapi/hvtrace.h schemas/exit_reasons.h
	$(CC) -std=c11 -Wall -Wextra -O2 -static -o $@ $<

kmod-clean:
	-@[ -f "$(KDIR)/Makefile" ] && $(MAKE) -C kmod KDIR=$(KDIR) clean
	rm -f kmod/tools/hvtctl

clean: kmod-clean

CHECK_SUITES += kmod/tests/build-w1.sh
# the same against Debian's 6.12 headers (fetched and cached by the script)
CHECK_SUITES += kmod/tests/build-kernels.sh
E2E_SUITES += kmod/tests/bochs-kmod.sh
E2E_SUITES += kmod/tests/bochs-host.sh
# the KVM backend at run time on Debian's 6.1 and 6.12 (ftrace, no LTTng; make test)
E2E_SUITES += kmod/tests/bochs-kernels.sh
