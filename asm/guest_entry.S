/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's first instruction: the entry trampoline of every run.
 */
#include <linux/linkage.h>
#include <asm/unwind_hints.h>
#include <asm/nospec-branch.h>
#include "hypercall.h"

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
	UNWIND_HINT_EMPTY
	mov (%rsp), %rax
	CALL_NOSPEC rax
	mov $HVT_HC_END, %eax
	xor %ebx, %ebx
	vmcall
	ud2
SYM_CODE_END(hvt_guest_entry)
