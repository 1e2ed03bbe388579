/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side instruction helpers of the sandbox workloads, and the guest
 * exception table.
 *
 * Every hvt_gop_* helper is a C-callable function run by the guest (VMX
 * non-root) with one argument, a struct hvt_guest_frame * (frame.h):
 *
 *   1. it saves the callee-saved registers and RFLAGS of the C caller,
 *   2. (some helpers) computes run-time values into the frame: current
 *      CR0/CR4 ^ toggle bit, current XCR0,
 *   3. loads XMM0-15, MXCSR, RFLAGS and the 15 GPRs other than RSP from the
 *      frame (RFLAGS before the GPRs: MOV leaves the flags alone, so the
 *      exit sees exactly the frame's RFLAGS),
 *   4. executes its exiting instruction(s), none of which changes RFLAGS,
 *   5. stores every GPR but RSP, RFLAGS, XMM0-15 and MXCSR back into the
 *      frame and returns to the caller with its own RFLAGS.
 *
 * Helpers whose instruction may fault (or which the hypervisor may answer
 * with the #GP fixup path) register the instruction's address in the
 * guest exception table with a fixup address HVT_FIXUP_GAP bytes (one NOP)
 * past the instruction's end: "resumed at the fixup" and "resumed after
 * the instruction" then reach the same store code yet differ in RIP.
 *
 * Nothing here reads the time or any other run-dependent state except
 * where documented (CR0, CR3, CR4, XCR0 of the running CPU).
 */
#include <linux/linkage.h>
#include <linux/objtool.h>
#include "../kmod/workloads/frame.h"

#define F_GPR(i)	HVT_FRAME_GPR(i)
#define F_XMM_(i)	HVT_FRAME_XMM(i)

	.section .rodata.hvt_guest_fixup, "a"
	.balign 8
.Lfixup_table_start:
	/* Guest code: in the module's kprobes blacklist (see HVT_GUEST_CODE). */
	.section .kprobes.text, "ax"

/* Save the caller's callee-saved registers and flags; keep the frame
 * pointer at 0(%rsp) for the store path. */
.macro GOP_ENTER
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	pushfq
	push	%rdi
.endm

.macro GOP_LOAD
	movdqu	F_XMM_(0)(%rdi), %xmm0
	movdqu	F_XMM_(1)(%rdi), %xmm1
	movdqu	F_XMM_(2)(%rdi), %xmm2
	movdqu	F_XMM_(3)(%rdi), %xmm3
	movdqu	F_XMM_(4)(%rdi), %xmm4
	movdqu	F_XMM_(5)(%rdi), %xmm5
	movdqu	F_XMM_(6)(%rdi), %xmm6
	movdqu	F_XMM_(7)(%rdi), %xmm7
	movdqu	F_XMM_(8)(%rdi), %xmm8
	movdqu	F_XMM_(9)(%rdi), %xmm9
	movdqu	F_XMM_(10)(%rdi), %xmm10
	movdqu	F_XMM_(11)(%rdi), %xmm11
	movdqu	F_XMM_(12)(%rdi), %xmm12
	movdqu	F_XMM_(13)(%rdi), %xmm13
	movdqu	F_XMM_(14)(%rdi), %xmm14
	movdqu	F_XMM_(15)(%rdi), %xmm15
	ldmxcsr	HVT_FRAME_MXCSR(%rdi)
	pushq	HVT_FRAME_RFLAGS(%rdi)
	popfq
	mov	F_GPR(0)(%rdi), %rax
	mov	F_GPR(1)(%rdi), %rcx
	mov	F_GPR(2)(%rdi), %rdx
	mov	F_GPR(3)(%rdi), %rbx
	mov	F_GPR(5)(%rdi), %rbp
	mov	F_GPR(6)(%rdi), %rsi
	mov	F_GPR(8)(%rdi), %r8
	mov	F_GPR(9)(%rdi), %r9
	mov	F_GPR(10)(%rdi), %r10
	mov	F_GPR(11)(%rdi), %r11
	mov	F_GPR(12)(%rdi), %r12
	mov	F_GPR(13)(%rdi), %r13
	mov	F_GPR(14)(%rdi), %r14
	mov	F_GPR(15)(%rdi), %r15
	mov	F_GPR(7)(%rdi), %rdi
.endm

/* Expects the frame pointer at 0(%rsp), as GOP_ENTER left it. */
.macro GOP_STORE_RET
	push	%rax
	mov	8(%rsp), %rax
	mov	%rcx, F_GPR(1)(%rax)
	mov	%rdx, F_GPR(2)(%rax)
	mov	%rbx, F_GPR(3)(%rax)
	mov	%rbp, F_GPR(5)(%rax)
	mov	%rsi, F_GPR(6)(%rax)
	mov	%rdi, F_GPR(7)(%rax)
	mov	%r8, F_GPR(8)(%rax)
	mov	%r9, F_GPR(9)(%rax)
	mov	%r10, F_GPR(10)(%rax)
	mov	%r11, F_GPR(11)(%rax)
	mov	%r12, F_GPR(12)(%rax)
	mov	%r13, F_GPR(13)(%rax)
	mov	%r14, F_GPR(14)(%rax)
	mov	%r15, F_GPR(15)(%rax)
	pop	%rcx
	mov	%rcx, F_GPR(0)(%rax)
	pushfq
	pop	%rcx
	mov	%rcx, HVT_FRAME_RFLAGS(%rax)
	movdqu	%xmm0, F_XMM_(0)(%rax)
	movdqu	%xmm1, F_XMM_(1)(%rax)
	movdqu	%xmm2, F_XMM_(2)(%rax)
	movdqu	%xmm3, F_XMM_(3)(%rax)
	movdqu	%xmm4, F_XMM_(4)(%rax)
	movdqu	%xmm5, F_XMM_(5)(%rax)
	movdqu	%xmm6, F_XMM_(6)(%rax)
	movdqu	%xmm7, F_XMM_(7)(%rax)
	movdqu	%xmm8, F_XMM_(8)(%rax)
	movdqu	%xmm9, F_XMM_(9)(%rax)
	movdqu	%xmm10, F_XMM_(10)(%rax)
	movdqu	%xmm11, F_XMM_(11)(%rax)
	movdqu	%xmm12, F_XMM_(12)(%rax)
	movdqu	%xmm13, F_XMM_(13)(%rax)
	movdqu	%xmm14, F_XMM_(14)(%rax)
	movdqu	%xmm15, F_XMM_(15)(%rax)
	stmxcsr	HVT_FRAME_MXCSR(%rax)
	pop	%rdi
	popfq
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	RET
.endm

/*
 * An instruction with a guest exception-table entry.  REACHABLE tells
 * objtool that the code after it runs (the hypervisor resumes there).
 * ANNOTATE_NOENDBR: both addresses are guest RIPs in a data table, never
 * the target of an indirect branch (objtool's IBT check, kernels with
 * CONFIG_X86_KERNEL_IBT such as Debian's 6.12, asks for that).
 */
.macro GOP_FIXUP_INSN insn:vararg
.Lfault_\@:
	ANNOTATE_NOENDBR
	\insn
	REACHABLE
	nop
.Lfixup_\@:
	ANNOTATE_NOENDBR
	.pushsection .rodata.hvt_guest_fixup, "a"
	.quad	.Lfault_\@, .Lfixup_\@
	.popsection
.endm

/* A helper that loads the frame and runs @insn. */
.macro GOP_SIMPLE name:req, insn:vararg
SYM_FUNC_START(hvt_gop_\name)
	GOP_ENTER
	GOP_LOAD
	\insn
	GOP_STORE_RET
SYM_FUNC_END(hvt_gop_\name)
.endm

/* A helper whose one instruction has a fixup. */
.macro GOP_FAULTING name:req, insn:vararg
SYM_FUNC_START(hvt_gop_\name)
	GOP_ENTER
	GOP_LOAD
	GOP_FIXUP_INSN \insn
	GOP_STORE_RET
SYM_FUNC_END(hvt_gop_\name)
.endm

GOP_SIMPLE	cpuid, cpuid
GOP_FAULTING	rdmsr, rdmsr
GOP_FAULTING	wrmsr, wrmsr
GOP_SIMPLE	vmcall, vmcall
GOP_SIMPLE	hlt, hlt
/* INVD exits unconditionally; the hypervisor skips it (never executed). */
GOP_SIMPLE	invd, invd
GOP_SIMPLE	rdtsc, rdtsc
GOP_SIMPLE	rdtscp, rdtscp
GOP_FAULTING	ud2, ud2
GOP_FAULTING	int3, int3
/* RSI holds a non-canonical address: #GP(0). */
GOP_FAULTING	gp, movq (%rsi), %rax

/* Port I/O through DX and through an immediate port (0x80). */
GOP_SIMPLE	inb_dx, inb %dx, %al
GOP_SIMPLE	inw_dx, inw %dx, %ax
GOP_SIMPLE	inl_dx, inl %dx, %eax
GOP_SIMPLE	outb_dx, outb %al, %dx
GOP_SIMPLE	outw_dx, outw %ax, %dx
GOP_SIMPLE	outl_dx, outl %eax, %dx
GOP_SIMPLE	inb_imm, inb $0x80, %al
GOP_SIMPLE	inw_imm, inw $0x80, %ax
GOP_SIMPLE	inl_imm, inl $0x80, %eax
GOP_SIMPLE	outb_imm, outb %al, $0x80
GOP_SIMPLE	outw_imm, outw %ax, $0x80
GOP_SIMPLE	outl_imm, outl %eax, $0x80

/*
 * XSETBV: the frame's RAX/RDX become the current XCR0 and RCX @ecx
 * (0: accepted as a no-op; 1: #GP fixup).  When CR4.OSXSAVE is clear (a
 * kernel that turned XSAVE off) XGETBV and XSETBV raise #UD instead: RAX
 * and RDX are then 0 and XSETBV's #UD resumes at the same fixup, so the
 * operation still makes exactly one exit; the checker tells the two cases
 * apart by the CR4 the exit records.
 */
.macro GOP_XSETBV name:req, ecx:req
SYM_FUNC_START(hvt_gop_\name)
	GOP_ENTER
	xor	%eax, %eax
	xor	%edx, %edx
	mov	%cr4, %rcx
	bt	$18, %rcx		/* CR4.OSXSAVE */
	jnc	1f
	xor	%ecx, %ecx
	xgetbv
1:	mov	%rax, F_GPR(0)(%rdi)
	mov	%rdx, F_GPR(2)(%rdi)
	movq	$\ecx, F_GPR(1)(%rdi)
	GOP_LOAD
	GOP_FIXUP_INSN xsetbv
	GOP_STORE_RET
SYM_FUNC_END(hvt_gop_\name)
.endm

GOP_XSETBV	xsetbv, 0
GOP_XSETBV	xsetbv_gp, 1

/*
 * SSE arithmetic under the frame's MXCSR (rounding mode, FZ), then VMCALL
 * (the frame holds HVT_HC_MARKER in RAX): the exit shows the results and
 * the sticky MXCSR flags.
 */
SYM_FUNC_START(hvt_gop_xmm_arith)
	GOP_ENTER
	GOP_LOAD
	addpd	%xmm1, %xmm0
	subpd	%xmm3, %xmm2
	mulpd	%xmm5, %xmm4
	divpd	%xmm7, %xmm6
	sqrtpd	%xmm9, %xmm8
	addps	%xmm11, %xmm10
	mulps	%xmm13, %xmm12
	divps	%xmm15, %xmm14
	vmcall
	GOP_STORE_RET
SYM_FUNC_END(hvt_gop_xmm_arith)

/*
 * The triplefault workload's last operation: load an empty IDT (limit 0)
 * and raise a software interrupt.  Its delivery faults (#GP, error code
 * vector * 8 + 2); the exception bitmap turns that into a VM exit with the
 * INT in the IDT-vectoring information, and with no fixup registered the
 * run stops there.  Should the guest ever be resumed, the IDT is restored.
 */
SYM_FUNC_START(hvt_gop_fatal)
	GOP_ENTER
	sub	$16, %rsp
	sidt	(%rsp)
	push	$0
	push	$0
	lidt	(%rsp)
	add	$16, %rsp
	GOP_LOAD
	int	$HVT_FATAL_VECTOR
	lidt	(%rsp)
	lea	16(%rsp), %rsp
	GOP_STORE_RET
SYM_FUNC_END(hvt_gop_fatal)

/* CR helpers, one per GPR operand (never RSP). */
.macro GOP_CR reg:req, idx:req
SYM_FUNC_START(hvt_gop_cr0_toggle_\reg)
	GOP_ENTER
	mov	%cr0, %rax
	push	%rax
	xor	$HVT_CR0_TOGGLE_BIT, %rax
	mov	%rax, F_GPR(\idx)(%rdi)
	GOP_LOAD
	mov	%\reg, %cr0
	mov	(%rsp), %\reg
	mov	%\reg, %cr0
	lea	8(%rsp), %rsp
	GOP_STORE_RET
SYM_FUNC_END(hvt_gop_cr0_toggle_\reg)

SYM_FUNC_START(hvt_gop_cr4_toggle_\reg)
	GOP_ENTER
	mov	%cr4, %rax
	push	%rax
	xor	$HVT_CR4_TOGGLE_BIT, %rax
	mov	%rax, F_GPR(\idx)(%rdi)
	GOP_LOAD
	mov	%\reg, %cr4
	mov	(%rsp), %\reg
	mov	%\reg, %cr4
	lea	8(%rsp), %rsp
	GOP_STORE_RET
SYM_FUNC_END(hvt_gop_cr4_toggle_\reg)

SYM_FUNC_START(hvt_gop_cr3_store_\reg)
	GOP_ENTER
	GOP_LOAD
	mov	%cr3, %\reg
	GOP_STORE_RET
SYM_FUNC_END(hvt_gop_cr3_store_\reg)

SYM_FUNC_START(hvt_gop_cr3_reload_\reg)
	GOP_ENTER
	GOP_LOAD
	mov	%cr3, %\reg
	mov	%\reg, %cr3
	GOP_STORE_RET
SYM_FUNC_END(hvt_gop_cr3_reload_\reg)
.endm

GOP_CR	rax, 0
GOP_CR	rcx, 1
GOP_CR	rdx, 2
GOP_CR	rbx, 3
GOP_CR	rbp, 5
GOP_CR	rsi, 6
GOP_CR	rdi, 7
GOP_CR	r8, 8
GOP_CR	r9, 9
GOP_CR	r10, 10
GOP_CR	r11, 11
GOP_CR	r12, 12
GOP_CR	r13, 13
GOP_CR	r14, 14
GOP_CR	r15, 15

/**
 * hvt_guest_fixup - look up the guest exception table
 * @rip (RDI): address of the guest instruction that faulted
 *
 * Returns in RAX the address to resume the guest at, or 0 when @rip has no
 * entry (the fault is then unhandled).  Runs in the host.
 */
SYM_FUNC_START(hvt_guest_fixup)
	lea	.Lfixup_table_start(%rip), %rdx
	lea	.Lfixup_table_end(%rip), %rcx
.Llookup:
	cmp	%rcx, %rdx
	jae	.Lnone
	cmp	(%rdx), %rdi
	je	.Lfound
	add	$16, %rdx
	jmp	.Llookup
.Lfound:
	mov	8(%rdx), %rax
	RET
.Lnone:
	xor	%eax, %eax
	RET
SYM_FUNC_END(hvt_guest_fixup)

	.section .rodata.hvt_guest_fixup, "a"
.Lfixup_table_end:
