/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VM entry and the VM-exit stub of hvtrace.
 *
 * One function, hvt_vmx_run(), owns the whole life of a run on the host
 * stack: it records its stack pointer as the VMCS HOST_RSP, loads the
 * guest's registers and enters the guest.  Every VM exit lands on
 * hvt_vmexit (the VMCS HOST_RIP), which is inside hvt_vmx_run's frame: it
 * saves the guest's registers, calls the C exit handler, and either enters
 * the guest again with the (possibly changed) registers or returns.
 *
 * Register offsets come from kmod/hvt_regs.h, checked against the C struct
 * with static_assert in kmod/hvt.h.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/unwind_hints.h>
#include <asm/nospec-branch.h>
#include "hvt_regs.h"

/* VMCS field encoding of the host RSP (SDM Vol. 3D, Appendix B.4.4). */
#define VMCS_HOST_RSP	0x00006c14

#define GPR(r)		HVT_REGS_GPR(HVT_R_##r)
#define XMM(i)		HVT_REGS_XMM(i)

/* Internal fault code: VMLAUNCH/VMRESUME raised #UD/#GP (not in VMX operation). */
#define HVT_RUN_FAULT	4

	.section .text, "ax"

/**
 * hvt_vmx_run - run the guest until its exit handler asks to stop
 * @regs:	struct hvt_regs * (in RDI): the guest's GPRs, XMM0-15, MXCSR
 *		and whether the VMCS was already launched
 *
 * Called with the run's VMCS current, interrupts disabled and inside a
 * kernel_fpu_begin() region.  The guest's RSP, RIP and RFLAGS live in the
 * VMCS; regs->gpr[HVT_R_RSP] is neither loaded nor saved here.
 *
 * After each VM exit the guest's registers are stored into @regs and
 * hvt_handle_exit(@regs) is called; it returns 0 to resume the guest (with
 * whatever it changed in @regs and the VMCS) and non-zero to stop.
 *
 * Returns:
 *	HVT_RUN_STOPPED (0)		the exit handler stopped the run
 *	HVT_RUN_FAIL_INVALID (1)	VMLAUNCH/VMRESUME VMfailInvalid
 *	HVT_RUN_FAIL_VALID (2)		VMLAUNCH/VMRESUME VMfailValid (see
 *					the VM-instruction error field)
 *	HVT_RUN_FAIL_HOST_RSP (3)	VMWRITE of HOST_RSP failed
 *	4				VMLAUNCH/VMRESUME faulted
 */
SYM_FUNC_START(hvt_vmx_run)
	/*
	 * No frame pointer: RBP holds guest values while the exit handler
	 * runs, so the unwind state must stay RSP-based throughout.
	 */
	push %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx

	/* @regs stays at (%rsp) for the whole run: the exit stub reloads it. */
	push %rdi

	/*
	 * Every VM exit loads RSP from the VMCS: point it here, so the exit
	 * stub runs in this frame (16-byte aligned: 7 pushes after the call).
	 */
	mov $VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax
	jbe .Lhost_rsp_fail

.Lenter:
	mov (%rsp), %rax

	/* Guest SSE state: host C code never touches it (-mno-sse). */
	movdqu XMM(0)(%rax), %xmm0
	movdqu XMM(1)(%rax), %xmm1
	movdqu XMM(2)(%rax), %xmm2
	movdqu XMM(3)(%rax), %xmm3
	movdqu XMM(4)(%rax), %xmm4
	movdqu XMM(5)(%rax), %xmm5
	movdqu XMM(6)(%rax), %xmm6
	movdqu XMM(7)(%rax), %xmm7
	movdqu XMM(8)(%rax), %xmm8
	movdqu XMM(9)(%rax), %xmm9
	movdqu XMM(10)(%rax), %xmm10
	movdqu XMM(11)(%rax), %xmm11
	movdqu XMM(12)(%rax), %xmm12
	movdqu XMM(13)(%rax), %xmm13
	movdqu XMM(14)(%rax), %xmm14
	movdqu XMM(15)(%rax), %xmm15
	ldmxcsr HVT_REGS_MXCSR(%rax)

	/* ZF=1: never launched.  The MOVs below leave the flags alone. */
	cmpl $0, HVT_REGS_LAUNCHED(%rax)

	mov GPR(RCX)(%rax), %rcx
	mov GPR(RDX)(%rax), %rdx
	mov GPR(RBX)(%rax), %rbx
	mov GPR(RBP)(%rax), %rbp
	mov GPR(RSI)(%rax), %rsi
	mov GPR(RDI)(%rax), %rdi
	mov GPR(R8)(%rax), %r8
	mov GPR(R9)(%rax), %r9
	mov GPR(R10)(%rax), %r10
	mov GPR(R11)(%rax), %r11
	mov GPR(R12)(%rax), %r12
	mov GPR(R13)(%rax), %r13
	mov GPR(R14)(%rax), %r14
	mov GPR(R15)(%rax), %r15
	/* Last: this overwrites the @regs pointer. */
	mov GPR(RAX)(%rax), %rax

	jz .Lvmlaunch

	/*
	 * A successful VMRESUME/VMLAUNCH continues at hvt_vmexit (HOST_RIP)
	 * with RSP = HOST_RSP, i.e. in exactly this frame: tell objtool to
	 * carry the unwind state over.
	 */
	UNWIND_HINT_SAVE
.Lvmresume:
	vmresume
	jmp .Lvmfail
.Lvmlaunch:
	vmlaunch
	jmp .Lvmfail

	_ASM_EXTABLE(.Lvmresume, .Lvmfault)
	_ASM_EXTABLE(.Lvmlaunch, .Lvmfault)

/*
 * hvt_vmexit - VM-exit entry point (VMCS HOST_RIP), never called.
 *
 * RSP is the HOST_RSP written above, interrupts are disabled (RFLAGS =
 * 0x2 after a VM exit), every GPR but RSP still holds the guest's value.
 */
SYM_INNER_LABEL(hvt_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR

	push %rax
	mov 8(%rsp), %rax
	pop GPR(RAX)(%rax)
	mov %rcx, GPR(RCX)(%rax)
	mov %rdx, GPR(RDX)(%rax)
	mov %rbx, GPR(RBX)(%rax)
	mov %rbp, GPR(RBP)(%rax)
	mov %rsi, GPR(RSI)(%rax)
	mov %rdi, GPR(RDI)(%rax)
	mov %r8, GPR(R8)(%rax)
	mov %r9, GPR(R9)(%rax)
	mov %r10, GPR(R10)(%rax)
	mov %r11, GPR(R11)(%rax)
	mov %r12, GPR(R12)(%rax)
	mov %r13, GPR(R13)(%rax)
	mov %r14, GPR(R14)(%rax)
	mov %r15, GPR(R15)(%rax)

	movdqu %xmm0, XMM(0)(%rax)
	movdqu %xmm1, XMM(1)(%rax)
	movdqu %xmm2, XMM(2)(%rax)
	movdqu %xmm3, XMM(3)(%rax)
	movdqu %xmm4, XMM(4)(%rax)
	movdqu %xmm5, XMM(5)(%rax)
	movdqu %xmm6, XMM(6)(%rax)
	movdqu %xmm7, XMM(7)(%rax)
	movdqu %xmm8, XMM(8)(%rax)
	movdqu %xmm9, XMM(9)(%rax)
	movdqu %xmm10, XMM(10)(%rax)
	movdqu %xmm11, XMM(11)(%rax)
	movdqu %xmm12, XMM(12)(%rax)
	movdqu %xmm13, XMM(13)(%rax)
	movdqu %xmm14, XMM(14)(%rax)
	movdqu %xmm15, XMM(15)(%rax)
	stmxcsr HVT_REGS_MXCSR(%rax)

	/* The VMCS is launched: later entries use VMRESUME. */
	movl $1, HVT_REGS_LAUNCHED(%rax)

	/*
	 * Do not let guest values reach host C code, not even speculatively,
	 * through the callee-saved registers the handler would spill.
	 */
	xor %ebx, %ebx
	xor %ebp, %ebp
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d

	mov %rax, %rdi
	call hvt_handle_exit
	test %eax, %eax
	jz .Lenter

	mov $HVT_RUN_STOPPED, %eax
	jmp .Lout

.Lvmfail:
	/* VMLAUNCH/VMRESUME fell through: CF=1 VMfailInvalid, ZF=1 VMfailValid. */
	mov $HVT_RUN_FAIL_INVALID, %eax
	jc .Lout
	mov $HVT_RUN_FAIL_VALID, %eax
	jmp .Lout

.Lvmfault:
	mov $HVT_RUN_FAULT, %eax
	jmp .Lout

.Lhost_rsp_fail:
	mov $HVT_RUN_FAIL_HOST_RSP, %eax

.Lout:
	/* Drop @regs; restore the callee-saved registers (guest values gone). */
	add $8, %rsp
	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET
SYM_FUNC_END(hvt_vmx_run)
