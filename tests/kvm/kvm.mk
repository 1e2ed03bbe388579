# tests/kvm/kvm.mk: the KVM capture backend's proof (included by the top
# Makefile).  hvt-vmm is our deterministic VMM on /dev/kvm; bochs-kvm.sh
# boots Bochs (corei7_haswell_4770) where kvm_intel runs hvt-vmm's guests
# and a real Linux guest under QEMU while hvtrace records them.
KVM_VMM_BIN := $(BUILD)/bin/hvt-vmm

.PHONY: kvm-tools
all: kvm-tools
kvm-tools: $(KVM_VMM_BIN)

$(KVM_VMM_BIN): tests/kvm/hvt-vmm.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -Wall -Wextra -O2 -static -o $@ $<

CHECK_SUITES += tests/kvm/kvmcheck-sample.sh
E2E_SUITES += tests/kvm/bochs-kvm.sh
