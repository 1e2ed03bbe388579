# tools/: hvtrace-synth, the synthetic trace writer (tests and bench use it).
SYNTH_BIN := $(BUILD)/bin/hvtrace-synth
SYNTH_CFLAGS ?= -std=c11 -O2 -g -Wall -Wextra
SYNTH_BT_CFLAGS := $(shell pkg-config --cflags babeltrace2 2>/dev/null)
SYNTH_BT_LIBS := $(shell pkg-config --libs babeltrace2 2>/dev/null || echo -lbabeltrace2)

all: $(SYNTH_BIN)

$(SYNTH_BIN): tools/synth.c schemas/hvtrace_events.h schemas/exit_reasons.h kmod/hypercall.h
	@mkdir -p $(dir $@)
	$(CC) $(SYNTH_CFLAGS) -Ischemas $(SYNTH_BT_CFLAGS) -o $@ tools/synth.c $(SYNTH_BT_LIBS)

# hvtrace-kvmsynth: plain LTTng kvm traces (kvm_x86_exit/entry, no hvtrace.ko)
KVMSYNTH_BIN := $(BUILD)/bin/hvtrace-kvmsynth
all: $(KVMSYNTH_BIN)

$(KVMSYNTH_BIN): tools/kvmsynth.c schemas/exit_reasons.h
	@mkdir -p $(dir $@)
	$(CC) $(SYNTH_CFLAGS) -Ischemas $(SYNTH_BT_CFLAGS) -o $@ tools/kvmsynth.c $(SYNTH_BT_LIBS)
# tests/cli/hist_kvm.sh reads its traces
analyzer-tests: $(KVMSYNTH_BIN)
