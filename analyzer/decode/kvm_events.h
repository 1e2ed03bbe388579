/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Plain LTTng kvm events: what lttng-modules' own kvm probes record when
 * hvtrace.ko is not loaded (include/instrumentation/events/arch/x86/kvm/
 * trace.h in lttng-modules):
 *
 *   kvm_x86_exit   exit_reason, guest_rip, isa, info1, info2, intr_info,
 *                  error_code, vcpu_id        (kernels 5.10 and later)
 *   kvm_x86_exit   exit_reason, guest_rip, isa, info1, info2  (before 5.10)
 *   kvm_exit       the same, named before lttng-modules mapped the names
 *   kvm_x86_entry / kvm_entry   vcpu_id
 *
 * They carry no register state: hvtrace hist turns them into perf kvm
 * stat's table (kvm_hist.c); replay and diff refuse them.  lttng-modules
 * 2.13 declares kvm_entry(unsigned int vcpu_id) while kernels since 5.10
 * pass the vCPU pointer, so an entry's vcpu_id is trusted only in traces
 * whose exits have none (the older kernels, where it was right).
 */
#ifndef HVT_KVM_EVENTS_H
#define HVT_KVM_EVENTS_H

#include <stddef.h>
#include <stdint.h>

enum hvt_kvm_kind { HVT_KVM_NONE, HVT_KVM_EXIT, HVT_KVM_ENTRY };

#define HVT_KVM_HAS_VCPU 0x1	/* the event has a vcpu_id field */
#define HVT_KVM_HAS_TID 0x2	/* a tid (or vtid) context field */
#define HVT_KVM_HAS_CPU 0x4	/* the packet context says the CPU */

struct hvt_kvm_rec {
	uint32_t kind;		/* enum hvt_kvm_kind */
	uint32_t has;		/* HVT_KVM_HAS_* */
	uint32_t exit_reason;	/* exit: VMX basic reason, or SVM exit code */
	uint32_t isa;		/* exit: 1 VMX, 2 SVM (KVM_ISA_*) */
	uint64_t guest_rip, info1, info2;
	uint32_t intr_info, error_code;	/* exit, kernels 5.10 and later */
	uint32_t vcpu_id;
	uint32_t cpu;
	int64_t tid;
};

#define HVT_KVM_NFIELDS 8

/* How to read one kvm event class: member indices resolved once. */
struct hvt_kvm_class {
	int kind;			/* enum hvt_kvm_kind; 0: not a kvm event */
	int64_t idx[HVT_KVM_NFIELDS];	/* -1: the class lacks that field */
	unsigned char sgn[HVT_KVM_NFIELDS];
};

/* HVT_KVM_EXIT, HVT_KVM_ENTRY or HVT_KVM_NONE for an event name. */
int hvt_kvm_event_kind(const char *name);

/* Resolve an event class (a const bt_event_class *); c->kind 0 if not kvm. */
void hvt_kvm_resolve(const void *event_class, struct hvt_kvm_class *c);

/* Decode an event (a const bt_event *) of a resolved class. */
void hvt_kvm_decode(const struct hvt_kvm_class *c, const void *event,
		    struct hvt_kvm_rec *out);

/* "HLT", "UNKNOWN(77)" (VMX) or "svm:0x78 HLT" names of an exit. */
void hvt_kvm_reason_format(uint32_t isa, uint32_t reason, char *buf, size_t len);

#endif /* HVT_KVM_EVENTS_H */
