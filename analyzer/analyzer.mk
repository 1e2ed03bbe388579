# analyzer/analyzer.mk: the hvtrace command, its library, unit and CLI tests.
# Included by the top Makefile (BUILD, PREFIX, CHECK_SUITES come from there).
#
#   $(BUILD)/lib/libhvt.a         every analyzer/*/*.c except verbs/main.c, verbs/plugin.c
#   $(BUILD)/bin/hvtrace          verbs/main.c + libhvt.a
#   $(BUILD)/asan/...             the same with -fsanitize=address,undefined
#   $(BUILD)/tests/unit/test_*    one cmocka executable per tests/unit/test_*.c
#   $(BUILD)/asan/tests/unit/...  the same, sanitized
# Link against the library with $(HVT_LDLIBS); include -I schemas -I analyzer.

HVT_PKGS := babeltrace2 jansson lttng-ctl
HVT_PKG_CFLAGS := $(shell pkg-config --cflags $(HVT_PKGS) 2>/dev/null)
HVT_LDLIBS := $(shell pkg-config --libs $(HVT_PKGS) 2>/dev/null) -lpthread -lm
HVT_CPPFLAGS := -I schemas -I analyzer -I kmod/uapi -D_GNU_SOURCE $(HVT_PKG_CFLAGS)
HVT_CFLAGS := -std=c11 -Wall -Wextra -O2 -g -MMD -MP
HVT_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

HVT_LIB_SRCS := $(filter-out analyzer/verbs/main.c analyzer/verbs/plugin.c,\
	$(wildcard analyzer/*/*.c))
HVT_LIB_OBJS := $(patsubst analyzer/%.c,$(BUILD)/obj/analyzer/%.o,$(HVT_LIB_SRCS))
HVT_ASAN_OBJS := $(patsubst analyzer/%.c,$(BUILD)/asan/obj/analyzer/%.o,$(HVT_LIB_SRCS))
HVT_LIB := $(BUILD)/lib/libhvt.a
HVT_ASAN_LIB := $(BUILD)/asan/lib/libhvt.a
HVT_BIN := $(BUILD)/bin/hvtrace
HVT_ASAN_BIN := $(BUILD)/asan/bin/hvtrace

HVT_UNIT_SRCS := $(wildcard tests/unit/test_*.c)
HVT_UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(HVT_UNIT_SRCS))
HVT_ASAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/unit/%-asan,$(HVT_UNIT_SRCS))
HVT_CLI_TESTS := $(sort $(wildcard tests/cli/*.sh))
# Each CLI test also runs against the sanitized binary, through a wrapper.
HVT_ASAN_CLI_TESTS := $(patsubst tests/cli/%.sh,$(BUILD)/asan/tests/cli/%-asan,\
	$(filter-out tests/cli/fuzz.sh tests/cli/layout.sh,$(HVT_CLI_TESTS)))

# Fuzz targets of the reader (tests/unit/fuzz_reader.c, run by tests/cli/fuzz.sh):
# a deterministic mutation loop built with gcc + ASan/UBSan, and, when clang
# is installed, a libFuzzer target over a clang-built copy of the library.
HVT_FUZZ_MUT := $(BUILD)/asan/tests/fuzz/fuzz_reader_mut
HVT_CLANG := $(shell command -v clang 2>/dev/null)
HVT_FUZZ_LF := $(if $(HVT_CLANG),$(BUILD)/fuzz/fuzz_reader)
HVT_FUZZ_OBJS := $(patsubst analyzer/%.c,$(BUILD)/fuzz/obj/analyzer/%.o,$(HVT_LIB_SRCS))

# Sanitized runs: libbabeltrace2 keeps plugin objects for the process
# lifetime, so leak reports would be noise; every other check stays on.
export ASAN_OPTIONS ?= detect_leaks=0:abort_on_error=0
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

# The babeltrace2 plugin (sink.hvtrace.hist): the library built as PIC.
HVT_PLUGIN_DIR := $(BUILD)/lib/babeltrace2/plugins
HVT_PLUGIN := $(HVT_PLUGIN_DIR)/babeltrace-plugin-hvtrace.so
HVT_PIC_OBJS := $(patsubst analyzer/%.c,$(BUILD)/pic/obj/analyzer/%.o,$(HVT_LIB_SRCS))
HVT_PIC_LIB := $(BUILD)/pic/lib/libhvt-pic.a

.PHONY: analyzer analyzer-asan analyzer-tests analyzer-clean analyzer-install
all: analyzer analyzer-tests
analyzer: $(HVT_LIB) $(HVT_BIN) $(HVT_PLUGIN)
analyzer-asan: $(HVT_ASAN_LIB) $(HVT_ASAN_BIN)
# The integration tests read traces written by tools/ (hvtrace-synth).
analyzer-tests: $(HVT_UNIT_BINS) analyzer-asan $(HVT_ASAN_UNIT_BINS) $(HVT_ASAN_CLI_TESTS) \
	$(HVT_FUZZ_MUT) $(HVT_FUZZ_LF) \
	$(if $(wildcard tools/synth.c),$(BUILD)/bin/hvtrace-synth)
check: analyzer-tests
HVT_SUITES := $(HVT_UNIT_BINS) $(HVT_ASAN_UNIT_BINS) $(HVT_CLI_TESTS) \
	$(HVT_ASAN_CLI_TESTS)
CHECK_SUITES += $(HVT_SUITES)

# The analyzer's suites alone (make check runs them with everyone else's).
.PHONY: analyzer-check
analyzer-check: analyzer-tests
	@bash tests/run-suites.sh $(HVT_SUITES)

$(BUILD)/obj/analyzer/%.o: analyzer/%.c
	@mkdir -p $(@D)
	$(CC) $(HVT_CPPFLAGS) $(HVT_CFLAGS) -c $< -o $@

$(BUILD)/asan/obj/analyzer/%.o: analyzer/%.c
	@mkdir -p $(@D)
	$(CC) $(HVT_CPPFLAGS) $(HVT_CFLAGS) $(HVT_SAN) -c $< -o $@

$(BUILD)/pic/obj/analyzer/%.o: analyzer/%.c
	@mkdir -p $(@D)
	$(CC) $(HVT_CPPFLAGS) $(HVT_CFLAGS) -fPIC -c $< -o $@

$(HVT_PIC_LIB): $(HVT_PIC_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(HVT_PLUGIN): $(BUILD)/pic/obj/analyzer/verbs/plugin.o $(HVT_PIC_LIB)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-z,defs -o $@ $^ $(HVT_LDLIBS)

$(HVT_LIB): $(HVT_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(HVT_ASAN_LIB): $(HVT_ASAN_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(HVT_BIN): $(BUILD)/obj/analyzer/verbs/main.o $(HVT_LIB)
	@mkdir -p $(@D)
	$(CC) $(HVT_CFLAGS) -o $@ $^ $(HVT_LDLIBS)

$(HVT_ASAN_BIN): $(BUILD)/asan/obj/analyzer/verbs/main.o $(HVT_ASAN_LIB)
	@mkdir -p $(@D)
	$(CC) $(HVT_CFLAGS) $(HVT_SAN) -o $@ $^ $(HVT_LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(HVT_LIB)
	@mkdir -p $(@D)
	$(CC) $(HVT_CPPFLAGS) -I tests/unit $(HVT_CFLAGS) -o $@ $< $(HVT_LIB) \
		-lcmocka $(HVT_LDLIBS)

$(BUILD)/asan/tests/unit/%-asan: tests/unit/%.c $(HVT_ASAN_LIB)
	@mkdir -p $(@D)
	$(CC) $(HVT_CPPFLAGS) -I tests/unit $(HVT_CFLAGS) $(HVT_SAN) -o $@ $< \
		$(HVT_ASAN_LIB) -lcmocka $(HVT_LDLIBS)

$(BUILD)/asan/tests/cli/%-asan: tests/cli/%.sh
	@mkdir -p $(@D)
	printf '#!/bin/sh\nHVTRACE=$(abspath $(HVT_ASAN_BIN)) exec bash $(abspath $<) "$$@"\n' > $@
	chmod +x $@

$(HVT_FUZZ_MUT): tests/unit/fuzz_reader.c $(HVT_ASAN_LIB)
	@mkdir -p $(@D)
	$(CC) $(HVT_CPPFLAGS) $(HVT_CFLAGS) $(HVT_SAN) -DHVT_FUZZ_STANDALONE -o $@ $< \
		$(HVT_ASAN_LIB) $(HVT_LDLIBS)

# The fast decoder's fuzz target (tests/unit/fuzz_fast.c, run by
# tests/cli/decoders.sh): mutated stream files read by both decoders.
HVT_FUZZ_FAST := $(BUILD)/asan/tests/fuzz/fuzz_fast_mut
analyzer-tests: $(HVT_FUZZ_FAST)
$(HVT_FUZZ_FAST): tests/unit/fuzz_fast.c $(HVT_ASAN_LIB)
	@mkdir -p $(@D)
	$(CC) $(HVT_CPPFLAGS) $(HVT_CFLAGS) $(HVT_SAN) -o $@ $< $(HVT_ASAN_LIB) $(HVT_LDLIBS)

$(BUILD)/fuzz/obj/analyzer/%.o: analyzer/%.c
	@mkdir -p $(@D)
	$(HVT_CLANG) $(HVT_CPPFLAGS) $(HVT_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined \
		-c $< -o $@

$(BUILD)/fuzz/fuzz_reader: tests/unit/fuzz_reader.c $(HVT_FUZZ_OBJS)
	@mkdir -p $(@D)
	$(HVT_CLANG) $(HVT_CPPFLAGS) $(HVT_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ \
		$< $(HVT_FUZZ_OBJS) $(HVT_LDLIBS)

analyzer-install: $(HVT_BIN) $(HVT_PLUGIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/babeltrace2/plugins
	install -m 0755 $(HVT_BIN) $(DESTDIR)$(PREFIX)/bin/hvtrace
	install -m 0644 $(HVT_PLUGIN) $(DESTDIR)$(PREFIX)/lib/babeltrace2/plugins/
install: analyzer-install

analyzer-clean:
	rm -rf $(BUILD)/lib/libhvt.a $(BUILD)/asan $(BUILD)/fuzz $(BUILD)/pic $(HVT_PLUGIN)
clean: analyzer-clean

-include $(HVT_LIB_OBJS:.o=.d) $(HVT_ASAN_OBJS:.o=.d) $(HVT_FUZZ_OBJS:.o=.d) \
	$(HVT_PIC_OBJS:.o=.d) $(BUILD)/pic/obj/analyzer/verbs/plugin.d \
	$(BUILD)/obj/analyzer/verbs/main.d $(BUILD)/asan/obj/analyzer/verbs/main.d
