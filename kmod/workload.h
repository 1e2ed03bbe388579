/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contract between the hypervisor core (vmx*.c, exit*.c, asm/vmexit.S)
 * and the guest workloads (workloads/, asm/guest_ops.S).
 *
 * A workload's guest_main() runs in VMX non-root operation on the CPU of the
 * run, in 64-bit mode with the host's CR3, GDT and IDT, on a stack of its own
 * (HVT_GUEST_STACK_SIZE), with RFLAGS.IF clear (no interrupt is ever
 * delivered through the host's IDT in non-root mode), and with the exits of
 * its hvt_workload.traps armed.  Every exception exits (exception bitmap all
 * ones): an exception whose faulting RIP has an entry in the guest exception
 * table (hvt_guest_fixup()) resumes the guest at the fixup with the vector in
 * RAX; any other ends the run as unhandled.
 *
 * When guest_main() returns, the entry trampoline issues HVT_HC_END.
 */
#ifndef HVT_WORKLOAD_H
#define HVT_WORKLOAD_H

#include <linux/types.h>
#include "hypercall.h"

#define HVT_GUEST_STACK_SIZE	(16 * 1024)

struct hvt_wl_args {
	u64 seed;
	u64 iterations;
};

struct hvt_workload {
	const char *name;		/* as in struct hvtrace_run.workload */
	const char *description;	/* one line: which exits, how many */
	u64 traps;			/* HVTRACE_TRAP_* it needs armed */
	/* MSR indices whose RDMSR/WRMSR must exit (bitmap bits), 0-terminated */
	const u32 *msrs;
	/* I/O ports whose IN/OUT must exit (bitmap bits), 0xffffffff-terminated */
	const u32 *ports;
	void (*guest_main)(const struct hvt_wl_args *args);
};

/* The table of workloads (workloads/table.c); NULL-terminated lookup. */
const struct hvt_workload *hvt_workload_find(const char *name);
const struct hvt_workload *hvt_workload_get(unsigned int index);

/*
 * Guest exception table (asm/guest_ops.S): the RIP to resume at when the
 * guest instruction at @rip raised an exception, or 0 if none is registered.
 */
unsigned long hvt_guest_fixup(unsigned long rip);

/* Guest entry trampoline (asm/): calls guest_main(args), then HVT_HC_END. */
void hvt_guest_entry(void);

#endif /* HVT_WORKLOAD_H */
