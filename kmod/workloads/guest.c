// SPDX-License-Identifier: GPL-2.0
/*
 * The guest interpreter: the guest_main() of every sandbox workload.  It
 * runs in VMX non-root operation, walks the workload's plan (plan.c) and
 * hands each operation's register frame to its asm/guest_ops.S helper.
 * It keeps no result: the trace is checked against the plan offline
 * (tests/e2e/wlcheck.c), so the guest's path never depends on what the
 * hypervisor answered and a wrong answer cannot hide a later exit.
 */
#define pr_fmt(fmt) "hvtrace: " fmt

#include <linux/kernel.h>
#include "../workload.h"
#include "plan.h"
#include "guest_ops.h"
#include "guests.h"

typedef void (*hvt_gop_fn)(struct hvt_guest_frame *f);

#define HVT_GOP_CR_PTR(kind, reg) [HVT_GOP_REG_##reg] = hvt_gop_##kind##_##reg,

enum {
	HVT_GOP_REG_rax = 0, HVT_GOP_REG_rcx, HVT_GOP_REG_rdx, HVT_GOP_REG_rbx,
	HVT_GOP_REG_rsp, HVT_GOP_REG_rbp, HVT_GOP_REG_rsi, HVT_GOP_REG_rdi,
	HVT_GOP_REG_r8, HVT_GOP_REG_r9, HVT_GOP_REG_r10, HVT_GOP_REG_r11,
	HVT_GOP_REG_r12, HVT_GOP_REG_r13, HVT_GOP_REG_r14, HVT_GOP_REG_r15,
};

static const hvt_gop_fn cr0_toggle[16] = {
	HVT_GOP_CR_REGS(HVT_GOP_CR_PTR, cr0_toggle)
};
static const hvt_gop_fn cr4_toggle[16] = {
	HVT_GOP_CR_REGS(HVT_GOP_CR_PTR, cr4_toggle)
};
static const hvt_gop_fn cr3_store[16] = {
	HVT_GOP_CR_REGS(HVT_GOP_CR_PTR, cr3_store)
};
static const hvt_gop_fn cr3_reload[16] = {
	HVT_GOP_CR_REGS(HVT_GOP_CR_PTR, cr3_reload)
};

/* in/out helpers by [direction: 0 out, 1 in][imm][size 1, 2, 4 -> 0, 1, 2] */
static const hvt_gop_fn io_ops[2][2][3] = {
	{ { hvt_gop_outb_dx, hvt_gop_outw_dx, hvt_gop_outl_dx },
	  { hvt_gop_outb_imm, hvt_gop_outw_imm, hvt_gop_outl_imm } },
	{ { hvt_gop_inb_dx, hvt_gop_inw_dx, hvt_gop_inl_dx },
	  { hvt_gop_inb_imm, hvt_gop_inw_imm, hvt_gop_inl_imm } },
};

static HVT_GUEST_CODE hvt_gop_fn io_op(const struct hvt_op *op, int in)
{
	unsigned int sz = op->size == 1 ? 0 : op->size == 2 ? 1 : 2;

	return io_ops[in][op->imm ? 1 : 0][sz];
}

static HVT_GUEST_CODE hvt_gop_fn op_helper(struct hvt_op *op)
{
	switch (op->kind) {
	case HVT_OP_CPUID:
		return hvt_gop_cpuid;
	case HVT_OP_WRMSR:
	case HVT_OP_WRMSR_GP:
		return hvt_gop_wrmsr;
	case HVT_OP_RDMSR:
	case HVT_OP_RDMSR_HOST:
		return hvt_gop_rdmsr;
	case HVT_OP_OUT_ECHO:
	case HVT_OP_OUT_OTHER:
		return io_op(op, 0);
	case HVT_OP_IN_ECHO:
	case HVT_OP_IN_OTHER:
		return io_op(op, 1);
	case HVT_OP_HC_LOG:
	case HVT_OP_HC_LOG_BAD:
		op->frame.gpr[HVT_RBX] = (unsigned long)hvt_plan_log_text;
		return hvt_gop_vmcall;
	case HVT_OP_HC_MARKER:
	case HVT_OP_HC_INVALID:
		return hvt_gop_vmcall;
	case HVT_OP_HLT:
		return hvt_gop_hlt;
	case HVT_OP_INVD:
		return hvt_gop_invd;
	case HVT_OP_RDTSC:
		return hvt_gop_rdtsc;
	case HVT_OP_RDTSCP:
		return hvt_gop_rdtscp;
	case HVT_OP_CR0_TOGGLE:
		return cr0_toggle[op->reg & 15];
	case HVT_OP_CR4_TOGGLE:
		return cr4_toggle[op->reg & 15];
	case HVT_OP_CR3_STORE:
		return cr3_store[op->reg & 15];
	case HVT_OP_CR3_RELOAD:
		return cr3_reload[op->reg & 15];
	case HVT_OP_XSETBV:
		return hvt_gop_xsetbv;
	case HVT_OP_XSETBV_GP:
		return hvt_gop_xsetbv_gp;
	case HVT_OP_UD:
		return hvt_gop_ud2;
	case HVT_OP_BP:
		return hvt_gop_int3;
	case HVT_OP_GP:
		return hvt_gop_gp;
	case HVT_OP_XMM_ARITH:
		return hvt_gop_xmm_arith;
	case HVT_OP_FATAL:
		return hvt_gop_fatal;
	}
	return NULL;
}

/*
 * Run workload @id's plan.  An operation the interpreter does not know
 * (a plan/interpreter mismatch) ends the guest early with no further exit;
 * the checker then reports the missing exits.
 */
HVT_GUEST_CODE void hvt_guest_run_plan(unsigned int id,
				       const struct hvt_wl_args *args)
{
	struct hvt_plan plan;
	struct hvt_op op;
	hvt_gop_fn fn;

	if (hvt_plan_init(&plan, id, args->seed, args->iterations))
		return;
	while (hvt_plan_next(&plan, &op) > 0) {
		fn = op_helper(&op);
		if (!fn)
			return;
		fn(&op.frame);
	}
}
