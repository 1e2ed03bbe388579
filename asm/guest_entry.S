/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's first instruction: the entry trampoline of every run.
 */
#include <linux/linkage.h>
#include <linux/version.h>
#include <asm/unwind_hints.h>
#include <asm/nospec-branch.h>
#include "hypercall.h"

/* 6.4 renamed UNWIND_HINT_EMPTY (a stack's bottom) UNWIND_HINT_END_OF_STACK. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define HVT_UNWIND_HINT_END	UNWIND_HINT_END_OF_STACK
#else
#define HVT_UNWIND_HINT_END	UNWIND_HINT_EMPTY
#endif

	/* Guest code: in the module's kprobes blacklist (see HVT_GUEST_CODE). */
	.section .kprobes.text, "ax"

/**
 * hvt_guest_entry - guest entry point (VMCS GUEST_RIP at VMLAUNCH)
 *
 * Runs in VMX non-root operation.  The hypervisor enters here with every
 * GPR zero except RDI = struct hvt_wl_args * and RSP = the top of the guest
 * stack minus 16, where (%rsp) holds the workload's guest_main and 8(%rsp)
 * is zero; RSP is 16-byte aligned, so guest_main sees the usual ABI
 * alignment after the CALL.
 *
 * Calls guest_main(args) and then ends the run with HVT_HC_END, status 0.
 * Nothing returns here: a VMCALL that came back would be a hypervisor bug,
 * and the UD2 turns it into an unhandled exception that stops the run.
 */
SYM_CODE_START(hvt_guest_entry)
	HVT_UNWIND_HINT_END
	/* the guest's first RIP (VMCS), never an indirect branch target */
	ANNOTATE_NOENDBR
	mov (%rsp), %rax
	CALL_NOSPEC rax
	mov $HVT_HC_END, %eax
	xor %ebx, %ebx
	vmcall
	ud2
SYM_CODE_END(hvt_guest_entry)
