/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The register frame the guest interpreter hands to the instruction helpers
 * of asm/guest_ops.S: every helper loads the guest's GPRs (all but RSP),
 * XMM0-15, MXCSR and RFLAGS from the frame, executes its one exiting
 * instruction (or short sequence), and stores the registers back.
 *
 * Included by C (kernel and userland) and by assembly, so the layout is
 * spelled as offsets; plan.h checks the C struct against them.
 */
#ifndef HVT_WL_FRAME_H
#define HVT_WL_FRAME_H

#define HVT_FRAME_GPR(i)	((i) * 8)		/* SDM order, 16 slots */
#define HVT_FRAME_XMM(i)	(128 + (i) * 16)	/* lo at +0, hi at +8 */
#define HVT_FRAME_RFLAGS	384
#define HVT_FRAME_MXCSR		392
#define HVT_FRAME_SIZE		400

/* GPR slots in SDM order (the order of hvtrace_exit.gpr[]). */
#define HVT_RAX	0
#define HVT_RCX	1
#define HVT_RDX	2
#define HVT_RBX	3
#define HVT_RSP	4
#define HVT_RBP	5
#define HVT_RSI	6
#define HVT_RDI	7

/* Bits the CR workload toggles: they must be in K1's guest/host masks. */
#define HVT_CR0_TOGGLE_BIT	(1 << 30)	/* CR0.CD */
#define HVT_CR4_TOGGLE_BIT	(1 << 7)	/* CR4.PGE */

/*
 * Bytes between a faulting helper instruction and its fixup label: the
 * helpers put one NOP there, so "RIP = fixup" and "RIP += insn_len" can
 * never be confused in a trace.
 */
#define HVT_FIXUP_GAP		1

/* Empty-IDT software interrupt of the triplefault workload. */
#define HVT_FATAL_VECTOR	0x21

#endif /* HVT_WL_FRAME_H */
