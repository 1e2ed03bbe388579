# tests/e2e/e2e.mk: the workload plan's unit test and the end-to-end
# checker.  Included by the top Makefile (BUILD, CHECK_SUITES come from
# there; HVT_LIB, HVT_LDLIBS, HVT_CPPFLAGS, HVT_CFLAGS, HVT_SAN from
# analyzer/analyzer.mk).
#
#   $(BUILD)/bin/hvtrace-wlcheck TRACE_DIR WORKLOAD SEED ITERATIONS
#       regenerates the plan and checks a recorded run against it (TAP)
#   $(BUILD)/tests/e2e/test_plan (and an ASan/UBSan twin)
#       unit test of kmod/workloads/plan.c

E2E_PLAN_SRC := kmod/workloads/plan.c
E2E_PLAN_DEPS := $(E2E_PLAN_SRC) kmod/workloads/plan.h kmod/workloads/frame.h \
	schemas/hvtrace_events.h
E2E_CPPFLAGS := -I schemas -I analyzer -I kmod/workloads -I kmod -D_GNU_SOURCE \
	$(HVT_PKG_CFLAGS)
E2E_CFLAGS := -std=c11 -Wall -Wextra -O2 -g
E2E_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined

WLCHECK_BIN := $(BUILD)/bin/hvtrace-wlcheck
WLCHECK_ASAN_BIN := $(BUILD)/asan/bin/hvtrace-wlcheck
E2E_PLAN_TEST := $(BUILD)/tests/e2e/test_plan
E2E_PLAN_ASAN_TEST := $(BUILD)/asan/tests/e2e/test_plan
E2E_WLCHECK_TEST := $(BUILD)/tests/e2e/test_wlcheck
E2E_WLCHECK_ASAN_TEST := $(BUILD)/asan/tests/e2e/test_wlcheck

.PHONY: e2e-tools
all: e2e-tools
e2e-tools: $(WLCHECK_BIN) $(WLCHECK_ASAN_BIN) $(E2E_PLAN_TEST) \
	$(E2E_PLAN_ASAN_TEST) $(E2E_WLCHECK_TEST) $(E2E_WLCHECK_ASAN_TEST)
check: e2e-tools
CHECK_SUITES += $(E2E_PLAN_TEST) $(E2E_PLAN_ASAN_TEST) $(E2E_WLCHECK_TEST) \
	$(E2E_WLCHECK_ASAN_TEST) tests/e2e/test_wlcheck_real.sh

$(WLCHECK_BIN): tests/e2e/wlcheck.c $(E2E_PLAN_DEPS) kmod/hypercall.h \
		analyzer/decode/reader.h $(HVT_LIB)
	@mkdir -p $(@D)
	$(CC) $(E2E_CPPFLAGS) $(E2E_CFLAGS) -o $@ tests/e2e/wlcheck.c \
		$(E2E_PLAN_SRC) $(HVT_LIB) $(HVT_LDLIBS) -lm

$(WLCHECK_ASAN_BIN): tests/e2e/wlcheck.c $(E2E_PLAN_DEPS) kmod/hypercall.h \
		analyzer/decode/reader.h $(HVT_ASAN_LIB)
	@mkdir -p $(@D)
	$(CC) $(E2E_CPPFLAGS) $(E2E_CFLAGS) $(E2E_SAN) -o $@ \
		tests/e2e/wlcheck.c $(E2E_PLAN_SRC) $(HVT_ASAN_LIB) \
		$(HVT_LDLIBS) -lm

$(E2E_PLAN_TEST): tests/e2e/test_plan.c $(E2E_PLAN_DEPS)
	@mkdir -p $(@D)
	$(CC) $(E2E_CPPFLAGS) $(E2E_CFLAGS) -o $@ tests/e2e/test_plan.c \
		$(E2E_PLAN_SRC) -lcmocka

$(E2E_PLAN_ASAN_TEST): tests/e2e/test_plan.c $(E2E_PLAN_DEPS)
	@mkdir -p $(@D)
	$(CC) $(E2E_CPPFLAGS) $(E2E_CFLAGS) $(E2E_SAN) -o $@ \
		tests/e2e/test_plan.c $(E2E_PLAN_SRC) -lcmocka

# The checker's own test includes wlcheck.c and feeds it simulated events;
# it needs no trace, so it links only the plan (and libbabeltrace2-free).
$(E2E_WLCHECK_TEST): tests/e2e/test_wlcheck.c tests/e2e/wlcheck.c $(E2E_PLAN_DEPS)
	@mkdir -p $(@D)
	$(CC) $(E2E_CPPFLAGS) $(E2E_CFLAGS) -o $@ tests/e2e/test_wlcheck.c \
		$(E2E_PLAN_SRC) -lcmocka

$(E2E_WLCHECK_ASAN_TEST): tests/e2e/test_wlcheck.c tests/e2e/wlcheck.c \
		$(E2E_PLAN_DEPS)
	@mkdir -p $(@D)
	$(CC) $(E2E_CPPFLAGS) $(E2E_CFLAGS) $(E2E_SAN) -o $@ \
		tests/e2e/test_wlcheck.c $(E2E_PLAN_SRC) -lcmocka
