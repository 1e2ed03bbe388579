/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host mode (kmod/host_mode.c): the launch of the running Linux as a guest
 * on one CPU, and the VM-exit stub of that guest.
 *
 * hvt_host_launch() is SimpleVisor's trick in Linux terms: called from the
 * virtualization cross-call with the VMCS filled from the CPU's live state,
 * it writes its own RSP and a label right after VMLAUNCH as the guest's
 * RSP/RIP, so a successful VMLAUNCH simply "returns" into the interrupted
 * kernel, now in VMX non-root operation, with every GPR unchanged.
 *
 * hvt_host_vmexit (HOST_RIP) runs on the CPU's own host stack (HOST_RSP).
 * The top of that stack holds, from HOST_RSP upwards, an IRETQ frame (RIP,
 * CS, RFLAGS, RSP, SS) and the struct hvt_host_cpu pointer; the stub pushes
 * the 16 GPR slots below it in SDM order, giving a struct hvt_host_frame
 * (kmod/host_mode.h) to hvt_host_handle_exit().  It returns 0 to resume
 * the guest (VMRESUME with the possibly changed GPRs) or 1 when the CPU
 * was devirtualized: the frame then holds the guest's GPRs and IRETQ frame,
 * and IRETQ continues the kernel where it was, no longer in VMX operation.
 *
 * Guest XMM/AVX state is never touched: host C code is built without SSE,
 * so the registers stay the guest's across the exit.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <linux/version.h>
#include <asm/unwind_hints.h>
#include <asm/nospec-branch.h>

/* 6.4 renamed UNWIND_HINT_EMPTY (a stack's bottom) UNWIND_HINT_END_OF_STACK. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define HVT_UNWIND_HINT_END	UNWIND_HINT_END_OF_STACK
#else
#define HVT_UNWIND_HINT_END	UNWIND_HINT_EMPTY
#endif

/* VMCS field encodings (SDM Vol. 3D, Appendix B). */
#define VMCS_GUEST_RSP	0x0000681c
#define VMCS_GUEST_RIP	0x0000681e

/* hvt_host_launch() results besides 0 (as hvt_vmx_run's, hvt_regs.h). */
#define HVT_LAUNCH_FAIL_INVALID	1
#define HVT_LAUNCH_FAIL_VALID	2
#define HVT_LAUNCH_FAIL_WRITE	3

	.section .text, "ax"

/**
 * hvt_host_launch - enter VMX non-root operation where the caller stands
 *
 * Called with interrupts off, the CPU's VMCS current and every field but
 * GUEST_RSP/GUEST_RIP written.  Returns 0 in VMX non-root operation (the
 * VMLAUNCH succeeded; a VM-entry failure instead exits to hvt_host_vmexit,
 * which devirtualizes and also returns here with 0: the caller checks its
 * own state), or HVT_LAUNCH_FAIL_* in VMX root operation.
 */
SYM_FUNC_START(hvt_host_launch)
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15

	mov $VMCS_GUEST_RSP, %eax
	vmwrite %rsp, %rax
	jbe .Lwrite_fail
	lea hvt_host_guest_start(%rip), %rdx
	mov $VMCS_GUEST_RIP, %eax
	vmwrite %rdx, %rax
	jbe .Lwrite_fail

	/* The guest continues below in this very frame. */
	UNWIND_HINT_SAVE
	vmlaunch
	mov $HVT_LAUNCH_FAIL_INVALID, %eax
	jc .Lout
	mov $HVT_LAUNCH_FAIL_VALID, %eax
	jmp .Lout

/*
 * First guest instruction (GUEST_RIP): the kernel, now in VMX non-root
 * operation, with RSP as written above.
 */
SYM_INNER_LABEL(hvt_host_guest_start, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR
	xor %eax, %eax
	jmp .Lout

.Lwrite_fail:
	mov $HVT_LAUNCH_FAIL_WRITE, %eax
.Lout:
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	RET
SYM_FUNC_END(hvt_host_launch)

/*
 * hvt_host_vmexit - VM-exit entry point of host mode (HOST_RIP), never
 * called.  Interrupts are off (RFLAGS = 0x2 after an exit), RSP is the
 * CPU's HOST_RSP, every GPR but RSP holds the guest's value.
 */
SYM_CODE_START(hvt_host_vmexit)
	HVT_UNWIND_HINT_END
	ENDBR
	/* struct hvt_host_frame: gpr[0] (RAX) lowest, gpr[15] (R15) highest. */
	push %r15
	push %r14
	push %r13
	push %r12
	push %r11
	push %r10
	push %r9
	push %r8
	push %rdi
	push %rsi
	push %rbp
	push $0			/* gpr[4], RSP: filled from GUEST_RSP */
	push %rbx
	push %rdx
	push %rcx
	push %rax

	/* No guest value reaches host C code through callee-saved registers. */
	xor %ebx, %ebx
	xor %ebp, %ebp
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d

	mov %rsp, %rdi
	call hvt_host_handle_exit
	test %eax, %eax
	jnz .Lleave

	pop %rax
	pop %rcx
	pop %rdx
	pop %rbx
	add $8, %rsp
	pop %rbp
	pop %rsi
	pop %rdi
	pop %r8
	pop %r9
	pop %r10
	pop %r11
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	vmresume

	/*
	 * VMRESUME failed (it fell through): save the registers again and
	 * leave VMX operation with the guest state of the VMCS.
	 */
	push %r15
	push %r14
	push %r13
	push %r12
	push %r11
	push %r10
	push %r9
	push %r8
	push %rdi
	push %rsi
	push %rbp
	push $0
	push %rbx
	push %rdx
	push %rcx
	push %rax
	mov %rsp, %rdi
	call hvt_host_resume_failed

.Lleave:
	/* Devirtualized: the guest's registers, then its IRETQ frame. */
	pop %rax
	pop %rcx
	pop %rdx
	pop %rbx
	add $8, %rsp
	pop %rbp
	pop %rsi
	pop %rdi
	pop %r8
	pop %r9
	pop %r10
	pop %r11
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	iretq
SYM_CODE_END(hvt_host_vmexit)
