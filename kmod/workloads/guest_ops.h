/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest instruction helpers of asm/guest_ops.S.  Each loads the guest
 * registers from @f, runs its instruction(s) in VMX non-root operation and
 * stores the registers back into @f (see the comment atop guest_ops.S).
 */
#ifndef HVT_WL_GUEST_OPS_H
#define HVT_WL_GUEST_OPS_H

#include "plan.h"

#define HVT_GOP_DECL(name) void hvt_gop_##name(struct hvt_guest_frame *f);

#define HVT_GOP_SIMPLE(G)						\
	G(cpuid) G(rdmsr) G(wrmsr) G(vmcall) G(hlt) G(rdtsc) G(rdtscp)	\
	G(ud2) G(int3) G(gp) G(xsetbv) G(xsetbv_gp) G(xmm_arith) G(fatal) \
	G(invd)								\
	G(inb_dx) G(inw_dx) G(inl_dx) G(outb_dx) G(outw_dx) G(outl_dx)	\
	G(inb_imm) G(inw_imm) G(inl_imm) G(outb_imm) G(outw_imm) G(outl_imm)

/* CR helpers: G(kind, reg) for every GPR but RSP. */
#define HVT_GOP_CR_REGS(G, kind)					\
	G(kind, rax) G(kind, rcx) G(kind, rdx) G(kind, rbx)		\
	G(kind, rbp) G(kind, rsi) G(kind, rdi) G(kind, r8)		\
	G(kind, r9) G(kind, r10) G(kind, r11) G(kind, r12)		\
	G(kind, r13) G(kind, r14) G(kind, r15)
#define HVT_GOP_CR(G)							\
	HVT_GOP_CR_REGS(G, cr0_toggle) HVT_GOP_CR_REGS(G, cr4_toggle)	\
	HVT_GOP_CR_REGS(G, cr3_store) HVT_GOP_CR_REGS(G, cr3_reload)

#define HVT_GOP_CR_DECL(kind, reg) HVT_GOP_DECL(kind##_##reg)

HVT_GOP_SIMPLE(HVT_GOP_DECL)
HVT_GOP_CR(HVT_GOP_CR_DECL)

#endif /* HVT_WL_GUEST_OPS_H */
