// SPDX-License-Identifier: GPL-2.0
/*
 * The workload plan generator (see plan.h).  Built twice: into hvtrace.ko
 * for the guest interpreter, and into the userland checker and its unit
 * test.  Everything here is integer arithmetic on the generator state, so
 * both builds produce the same plan bit for bit.
 */
#include "plan.h"

const char hvt_plan_log_text[HVT_LOG_TEXT_LEN + 1] =
	"hvtrace sandbox guest: hypercall log test line.";

#define NAME_STR(name, desc) #name,
static const char *const wl_names[] = { HVT_WORKLOADS(NAME_STR) };
#undef NAME_STR
#define DESC_STR(name, desc) desc,
static const char *const wl_descs[] = { HVT_WORKLOADS(DESC_STR) };
#undef DESC_STR
#define OP_STR(name, exits) #name,
static const char *const op_names[] = { HVT_OP_KINDS(OP_STR) };
#undef OP_STR
#define OP_EXITS(name, exits) exits,
static const unsigned char op_exits[] = { HVT_OP_KINDS(OP_EXITS) };
#undef OP_EXITS

/* Fixed recipes: the operations of one iteration, in order. */
static const unsigned char r_cpuid[] = {
	HVT_OP_CPUID, HVT_OP_CPUID, HVT_OP_CPUID, HVT_OP_CPUID,
};
static const unsigned char r_msr[] = {
	HVT_OP_WRMSR, HVT_OP_RDMSR, HVT_OP_RDMSR, HVT_OP_RDMSR_HOST,
	HVT_OP_WRMSR_GP,
};
static const unsigned char r_io[] = {
	HVT_OP_OUT_ECHO, HVT_OP_IN_ECHO, HVT_OP_IN_ECHO, HVT_OP_IN_OTHER,
	HVT_OP_OUT_OTHER,
};
static const unsigned char r_vmcall[] = {
	HVT_OP_HC_MARKER, HVT_OP_HC_LOG, HVT_OP_HC_LOG_BAD, HVT_OP_HC_INVALID,
};
static const unsigned char r_hlt[] = { HVT_OP_HLT };
static const unsigned char r_rdtsc[] = { HVT_OP_RDTSC, HVT_OP_RDTSCP };
static const unsigned char r_cr[] = {
	HVT_OP_CR0_TOGGLE, HVT_OP_CR4_TOGGLE, HVT_OP_CR3_STORE,
	HVT_OP_CR3_RELOAD,
};
static const unsigned char r_xsetbv[] = { HVT_OP_XSETBV, HVT_OP_XSETBV_GP };
static const unsigned char r_exceptions[] = { HVT_OP_UD, HVT_OP_BP, HVT_OP_GP };
static const unsigned char r_xmm[] = { HVT_OP_XMM_ARITH };
static const unsigned char r_triplefault[] = { HVT_OP_CPUID };

struct recipe {
	const unsigned char *ops;
	unsigned int n;
};

#define R(a) { a, sizeof(a) }
static const struct recipe recipes[HVT_WL_COUNT] = {
	[HVT_WL_cpuid] = R(r_cpuid),
	[HVT_WL_msr] = R(r_msr),
	[HVT_WL_io] = R(r_io),
	[HVT_WL_vmcall] = R(r_vmcall),
	[HVT_WL_hlt] = R(r_hlt),
	[HVT_WL_rdtsc] = R(r_rdtsc),
	[HVT_WL_cr] = R(r_cr),
	[HVT_WL_xsetbv] = R(r_xsetbv),
	[HVT_WL_exceptions] = R(r_exceptions),
	[HVT_WL_xmm] = R(r_xmm),
	[HVT_WL_mix] = { 0, HVT_MIX_OPS },
	[HVT_WL_triplefault] = R(r_triplefault),
};
#undef R

/* CPUID leaves and subleaves the workloads sweep (all architectural). */
static const u32 cpuid_leaves[][2] = {
	{ 0x0, 0 }, { 0x1, 0 }, { 0x2, 0 }, { 0x4, 0 }, { 0x4, 1 },
	{ 0x4, 2 }, { 0x4, 3 }, { 0x6, 0 }, { 0x7, 0 }, { 0x7, 1 },
	{ 0xb, 0 }, { 0xb, 1 }, { 0xd, 0 }, { 0xd, 1 }, { 0xd, 2 },
	{ 0x80000000, 0 }, { 0x80000001, 0 }, { 0x80000002, 0 },
	{ 0x80000003, 0 }, { 0x80000004, 0 }, { 0x80000006, 0 },
	{ 0x80000008, 0 },
};
#define NR_LEAVES (sizeof(cpuid_leaves) / sizeof(cpuid_leaves[0]))

/* Real MSRs read through the host: IA32_APIC_BASE, IA32_PAT, IA32_EFER. */
static const u32 host_msrs[] = { 0x1b, 0x277, 0xc0000080 };

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

int hvt_plan_workload_id(const char *name)
{
	unsigned int i;

	for (i = 0; i < HVT_WL_COUNT; i++)
		if (str_eq(name, wl_names[i]))
			return (int)i;
	return -1;
}

const char *hvt_plan_workload_name(unsigned int id)
{
	return id < HVT_WL_COUNT ? wl_names[id] : 0;
}

const char *hvt_plan_workload_desc(unsigned int id)
{
	return id < HVT_WL_COUNT ? wl_descs[id] : 0;
}

const char *hvt_plan_op_name(unsigned int kind)
{
	return kind < HVT_OP_NKINDS ? op_names[kind] : "?";
}

unsigned int hvt_plan_op_exits(unsigned int kind)
{
	return kind < HVT_OP_NKINDS ? op_exits[kind] : 0;
}

unsigned int hvt_plan_iteration_ops(unsigned int id)
{
	return id < HVT_WL_COUNT ? recipes[id].n : 0;
}

unsigned int hvt_plan_iteration_exits(unsigned int id)
{
	unsigned int i, n = 0;

	if (id >= HVT_WL_COUNT || !recipes[id].ops)
		return 0;
	for (i = 0; i < recipes[id].n; i++)
		n += op_exits[recipes[id].ops[i]];
	return n;
}

int hvt_plan_ends_with_fatal(unsigned int id)
{
	return id == HVT_WL_triplefault;
}

/* splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, full period. */
static HVT_GUEST_CODE u64 rng_next(struct hvt_plan *p)
{
	u64 z;

	p->rng += 0x9e3779b97f4a7c15ull;
	z = p->rng;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform enough in [0, n) for n far below 2^32; n > 0. */
static HVT_GUEST_CODE u32 rng_below(struct hvt_plan *p, u32 n)
{
	return (u32)((rng_next(p) >> 32) % n);
}

HVT_GUEST_CODE int hvt_plan_init(struct hvt_plan *p, unsigned int id,
				  u64 seed, u64 iterations)
{
	if (id >= HVT_WL_COUNT || iterations == 0)
		return -1;
	p->workload = id;
	p->seed = seed;
	p->iterations = iterations;
	/* Distinct streams per workload for one seed. */
	p->rng = seed ^ ((u64)(id + 1) * 0xd1b54a32d192ed03ull);
	p->iter = 0;
	p->step = 0;
	p->tail_done = 0;
	return 0;
}

/* A normal double: random sign and mantissa, exponent 2^-20..2^20. */
static HVT_GUEST_CODE u64 rand_double(struct hvt_plan *p, int positive)
{
	u64 sign = positive ? 0 : (rng_next(p) & 1) << 63;
	u64 exp = 1023 - 20 + rng_below(p, 41);

	return sign | exp << 52 | (rng_next(p) & 0xfffffffffffffull);
}

/* Two normal floats in one u64, exponents 2^-10..2^10. */
static HVT_GUEST_CODE u64 rand_float2(struct hvt_plan *p)
{
	u64 v = 0;
	int i;

	for (i = 0; i < 2; i++) {
		u64 sign = rng_next(p) & 1;
		u64 exp = 127 - 10 + rng_below(p, 21);
		u64 f = sign << 31 | exp << 23 | (rng_next(p) & 0x7fffff);

		v |= f << (32 * i);
	}
	return v;
}

/* Any non-RSP GPR index. */
static HVT_GUEST_CODE u32 rand_reg(struct hvt_plan *p)
{
	u32 r = rng_below(p, 15);

	return r >= HVT_RSP ? r + 1 : r;
}

static HVT_GUEST_CODE u32 rand_io_size(struct hvt_plan *p)
{
	static const unsigned char sizes[] = { 1, 2, 4 };

	return sizes[rng_below(p, 3)];
}

static HVT_GUEST_CODE void fill_frame(struct hvt_plan *p, struct hvt_op *op)
{
	struct hvt_guest_frame *f = &op->frame;
	unsigned int i;

	for (i = 0; i < 16; i++)
		f->gpr[i] = rng_next(p);
	f->gpr[HVT_RSP] = 0;
	for (i = 0; i < 32; i++)
		f->xmm[i] = rng_next(p);
	/* Status flags and DF at random; IF, TF, AC, NT, IOPL stay clear. */
	f->rflags = 0x2 | (rng_next(p) & 0xcd5);
	/* All exceptions masked; random rounding, FZ and sticky flags. */
	f->mxcsr = 0x1f80 | (u32)(rng_next(p) & 0xe03f);
	f->pad = 0;
}

static HVT_GUEST_CODE void shape_op(struct hvt_plan *p, struct hvt_op *op)
{
	u64 *g = op->frame.gpr;
	unsigned int i;

	op->gpr_runtime = 1u << HVT_RSP;
	switch (op->kind) {
	case HVT_OP_CPUID:
		i = rng_below(p, NR_LEAVES);
		op->leaf = cpuid_leaves[i][0];
		op->subleaf = cpuid_leaves[i][1];
		g[HVT_RAX] = op->leaf;
		g[HVT_RCX] = op->subleaf;
		break;
	case HVT_OP_WRMSR:
	case HVT_OP_RDMSR:
		op->msr = HVT_SCRATCH_MSR_BASE +
			  rng_below(p, HVT_NR_SCRATCH_MSRS);
		g[HVT_RCX] = op->msr;
		break;
	case HVT_OP_RDMSR_HOST:
		op->msr = host_msrs[rng_below(p, 3)];
		g[HVT_RCX] = op->msr;
		break;
	case HVT_OP_WRMSR_GP:
		op->msr = HVT_BAD_MSR_BASE + rng_below(p, HVT_BAD_MSR_SPAN);
		g[HVT_RCX] = op->msr;
		break;
	case HVT_OP_OUT_ECHO:
	case HVT_OP_IN_ECHO:
		op->size = rand_io_size(p);
		op->port = HVT_ECHO_PORT_BASE +
			   rng_below(p, HVT_NR_ECHO_PORTS);
		g[HVT_RDX] = (g[HVT_RDX] & ~0xffffull) | op->port;
		break;
	case HVT_OP_OUT_OTHER:
	case HVT_OP_IN_OTHER:
		op->size = rand_io_size(p);
		op->imm = rng_below(p, 2);
		if (op->imm) {
			op->port = HVT_OTHER_PORT_IMM;
		} else {
			op->port = HVT_OTHER_PORT_BASE +
				   rng_below(p, HVT_OTHER_PORT_COUNT);
			g[HVT_RDX] = (g[HVT_RDX] & ~0xffffull) | op->port;
		}
		break;
	case HVT_OP_HC_MARKER:
	case HVT_OP_XMM_ARITH:
		g[HVT_RAX] = HVT_HC_MARKER;
		break;
	case HVT_OP_HC_LOG:
		g[HVT_RAX] = HVT_HC_LOG;
		g[HVT_RBX] = 0;
		g[HVT_RCX] = 1 + rng_below(p, HVT_LOG_TEXT_LEN);
		op->gpr_runtime |= 1u << HVT_RBX;
		break;
	case HVT_OP_HC_LOG_BAD:
		g[HVT_RAX] = HVT_HC_LOG;
		g[HVT_RBX] = 0;
		g[HVT_RCX] = HVT_LOG_MAX + 1 + rng_below(p, 4096);
		op->gpr_runtime |= 1u << HVT_RBX;
		break;
	case HVT_OP_HC_INVALID:
		g[HVT_RAX] = HVT_HC_INVALID_BASE +
			     rng_below(p, HVT_HC_INVALID_SPAN);
		break;
	case HVT_OP_CR0_TOGGLE:
	case HVT_OP_CR4_TOGGLE:
		op->reg = rand_reg(p);
		g[op->reg] = 0;
		op->gpr_runtime |= 1u << op->reg;
		break;
	case HVT_OP_CR3_STORE:
	case HVT_OP_CR3_RELOAD:
		op->reg = rand_reg(p);
		break;
	case HVT_OP_XSETBV:
	case HVT_OP_XSETBV_GP:
		g[HVT_RAX] = 0;
		g[HVT_RDX] = 0;
		g[HVT_RCX] = op->kind == HVT_OP_XSETBV ? 0 : 1;
		op->gpr_runtime |= 1u << HVT_RAX | 1u << HVT_RCX |
				   1u << HVT_RDX;
		break;
	case HVT_OP_GP:
		/* Bit 63 set, bits 62..56 clear: non-canonical for 4 and
		 * 5-level paging alike. */
		g[HVT_RSI] = 0x8000000000000000ull |
			     (rng_next(p) & 0x00fffffffffffff8ull);
		break;
	default:
		break;
	}
	if (op->kind == HVT_OP_XMM_ARITH) {
		u64 *x = op->frame.xmm;

		/* XMM0..9: pairs of doubles (XMM9, the SQRTPD source,
		 * positive); XMM10..15: pairs of floats. */
		for (i = 0; i < 20; i++)
			x[i] = rand_double(p, i == 18 || i == 19);
		for (i = 20; i < 32; i++)
			x[i] = rand_float2(p);
	}
}

HVT_GUEST_CODE int hvt_plan_next(struct hvt_plan *p, struct hvt_op *op)
{
	const struct recipe *r = &recipes[p->workload];
	unsigned int kind;

	if (p->iter >= p->iterations) {
		if (!hvt_plan_ends_with_fatal(p->workload) || p->tail_done)
			return 0;
		p->tail_done = 1;
		kind = HVT_OP_FATAL;
	} else if (r->ops) {
		kind = r->ops[p->step];
	} else {
		/* mix: any kind but FATAL */
		kind = rng_below(p, HVT_OP_FATAL);
	}

	op->kind = kind;
	op->size = 0;
	op->port = 0;
	op->imm = 0;
	op->reg = 0;
	op->msr = 0;
	op->leaf = 0;
	op->subleaf = 0;
	op->iteration = p->iter;
	op->index = p->step;
	fill_frame(p, op);
	shape_op(p, op);

	if (kind != HVT_OP_FATAL && ++p->step >= r->n) {
		p->step = 0;
		p->iter++;
	}
	return 1;
}
