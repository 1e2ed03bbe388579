/*
 * hvtrace-wlcheck TRACE_DIR WORKLOAD SEED ITERATIONS
 *
 * Checks one recorded sandbox run against the workload's plan, value by
 * value.  It regenerates the plan (kmod/workloads/plan.c, the code the
 * guest ran), models the sandbox device (scratch MSRs, echo ports, virtual
 * TSC) and walks the run's events through the reader library:
 *
 *   - the session start with this workload, seed and iterations, and its end
 *     (status, exit count, nothing dropped);
 *   - no discarded events, seq gap-free, exactly one resume per exit;
 *   - the synchronous exits in plan order (asynchronous ones skipped), their
 *     qualification, interruption info and instruction length;
 *   - the guest state at each exit: GPRs, XMM lo/hi, MXCSR, RFLAGS;
 *   - the handler's changes in each resume: mask, values, RIP advance or
 *     fixup, action.
 *
 * Output is TAP, one test point per property; the first failures of each
 * are printed as diagnostics.  Exit status: 0 all pass, 1 a check failed,
 * 2 bad arguments or an unreadable trace.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/reader.h"
#include "exit_reasons.h"
#include "hypercall.h"
#include "plan.h"

#define PROG "hvtrace-wlcheck"

/* ---- test points ------------------------------------------------------ */

enum cat {
	C_START, C_DISCARD, C_SEQ, C_RESUME, C_REASON, C_INFO, C_GPR, C_XMM,
	C_RFLAGS, C_RIP, C_CHANGES, C_ACTION, C_END, C_WHO, C_N
};

static const char *const cat_name[C_N] = {
	[C_START] = "session start names the workload, seed and iterations",
	[C_DISCARD] = "no discarded events",
	[C_SEQ] = "exit seq gap-free from the run's first exit",
	[C_RESUME] = "exactly one resume per exit, same seq",
	[C_REASON] = "synchronous exit reasons in plan order",
	[C_INFO] = "exit qualification, interruption info, insn_len",
	[C_GPR] = "GPRs at each exit",
	[C_XMM] = "XMM0-15 and MXCSR at each exit",
	[C_RFLAGS] = "RFLAGS at each exit",
	[C_RIP] = "guest RIP: stable sites, advance by insn_len, fixups",
	[C_CHANGES] = "handler changes in the resume (mask and values)",
	[C_ACTION] = "resume actions (RESUME; STOP only at the end)",
	[C_END] = "session end: status, exits, nothing dropped",
	[C_WHO] = "who: the run's thread hvtrace/CPU, CPL 0 (schema v3; none before)",
};

#define MAX_MSGS 5

struct catstat {
	uint64_t checked, failed;
	char msg[MAX_MSGS][240];
};

static struct catstat stats[C_N];

__attribute__((format(printf, 3, 4)))
static int check(enum cat c, int ok, const char *fmt, ...)
{
	struct catstat *s = &stats[c];
	va_list ap;

	s->checked++;
	if (ok)
		return 1;
	if (s->failed < MAX_MSGS) {
		va_start(ap, fmt);
		vsnprintf(s->msg[s->failed], sizeof(s->msg[0]), fmt, ap);
		va_end(ap);
	}
	s->failed++;
	return 0;
}

/* ---- names ------------------------------------------------------------ */

static const char *reason_name(uint32_t reason, char *buf, size_t len)
{
	uint32_t basic = reason & HVTRACE_EXIT_REASON_BASIC_MASK;

#define X(code, name, qual) if (basic == code) { \
		snprintf(buf, len, "%s%s", #name, \
			 (reason & HVTRACE_EXIT_REASON_ENTRY_FAIL) ? \
			 "|ENTRY_FAIL" : ""); \
		return buf; }
	HVTRACE_EXIT_REASONS(X)
#undef X
	snprintf(buf, len, "UNKNOWN(%u)", basic);
	return buf;
}

static const char *const gpr_name[16] = {
#define G(i, name) [i] = #name,
	HVTRACE_GPRS(G)
#undef G
};

/* ---- the expected exits of each operation ----------------------------- */

/* Pseudo operation: the entry trampoline's HVT_HC_END. */
#define OP_END HVT_OP_NKINDS

#define VEC_GP 13
#define VEC_UD 6
#define VEC_BP 3
#define INTR_VALID (1u << 31)
#define INTR_ERR_VALID (1u << 11)
#define INTR_TYPE(i) (((i) >> 8) & 7)
#define INTR_TYPE_HW_EXC 3
#define INTR_TYPE_SW_INT 4
#define INTR_TYPE_SW_EXC 6
#define RFLAGS_RF (1ull << 16)
#define CR4_OSXSAVE (1ull << 18)

#define BIT(n) (1ull << (n))
#define CHG_RAX BIT(HVTRACE_CHG_GPR(HVT_RAX))
#define CHG_RCX BIT(HVTRACE_CHG_GPR(HVT_RCX))
#define CHG_RDX BIT(HVTRACE_CHG_GPR(HVT_RDX))
#define CHG_RBX BIT(HVTRACE_CHG_GPR(HVT_RBX))
#define CHG_RIP BIT(HVTRACE_CHG_RIP)

static uint32_t exit_reason_of(unsigned int kind, unsigned int idx)
{
	switch (kind) {
	case HVT_OP_CPUID:
		return HVTRACE_EXIT_CPUID;
	case HVT_OP_WRMSR:
	case HVT_OP_WRMSR_GP:
		return HVTRACE_EXIT_WRMSR;
	case HVT_OP_RDMSR:
	case HVT_OP_RDMSR_HOST:
		return HVTRACE_EXIT_RDMSR;
	case HVT_OP_OUT_ECHO:
	case HVT_OP_IN_ECHO:
	case HVT_OP_OUT_OTHER:
	case HVT_OP_IN_OTHER:
		return HVTRACE_EXIT_IO_INSTRUCTION;
	case HVT_OP_HC_MARKER:
	case HVT_OP_HC_LOG:
	case HVT_OP_HC_LOG_BAD:
	case HVT_OP_HC_INVALID:
	case HVT_OP_XMM_ARITH:
	case OP_END:
		return HVTRACE_EXIT_VMCALL;
	case HVT_OP_HLT:
		return HVTRACE_EXIT_HLT;
	case HVT_OP_INVD:
		return HVTRACE_EXIT_INVD;
	case HVT_OP_RDTSC:
		return HVTRACE_EXIT_RDTSC;
	case HVT_OP_RDTSCP:
		return HVTRACE_EXIT_RDTSCP;
	case HVT_OP_CR0_TOGGLE:
	case HVT_OP_CR4_TOGGLE:
	case HVT_OP_CR3_STORE:
	case HVT_OP_CR3_RELOAD:
		return HVTRACE_EXIT_CR_ACCESS;
	case HVT_OP_XSETBV:
	case HVT_OP_XSETBV_GP:
		return HVTRACE_EXIT_XSETBV;
	case HVT_OP_UD:
	case HVT_OP_BP:
	case HVT_OP_GP:
	case HVT_OP_FATAL:
		return HVTRACE_EXIT_EXCEPTION_NMI;
	}
	(void)idx;
	return 0xffff;
}

static int is_async(const struct hvtrace_exit_rec *e)
{
	uint32_t basic = e->exit_reason & HVTRACE_EXIT_REASON_BASIC_MASK;

	if (e->exit_reason & HVTRACE_EXIT_REASON_ENTRY_FAIL)
		return 0;
	switch (basic) {
	case HVTRACE_EXIT_EXTERNAL_INTERRUPT:
	case HVTRACE_EXIT_PREEMPTION_TIMER:
	case HVTRACE_EXIT_INTERRUPT_WINDOW:
	case HVTRACE_EXIT_NMI_WINDOW:
		return 1;
	case HVTRACE_EXIT_EXCEPTION_NMI:
		/* type 2 = NMI */
		return (e->intr_info & INTR_VALID) &&
		       INTR_TYPE(e->intr_info) == 2;
	}
	return 0;
}

/* Encoded lengths of the guest_ops.S instructions. */
static unsigned int io_insn_len(const struct hvt_op *op)
{
	return (op->imm ? 2 : 1) + (op->size == 2 ? 1 : 0);
}

static unsigned int mov_cr_len(unsigned int reg)
{
	return reg >= 8 ? 4 : 3;	/* 0f 2x /r, REX.B for r8-r15 */
}

/* ---- device model and run-wide consistency ---------------------------- */

struct kv {
	uint64_t key;
	uint64_t a, b, c, d;
	int used;
};

#define KV_SLOTS 512

/* Open-addressing table: the first value seen for a key is the reference. */
static struct kv *kv_get(struct kv *t, uint64_t key, int *fresh)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ull;
	unsigned int i, n;

	for (n = 0; n < KV_SLOTS; n++) {
		i = (unsigned int)((h >> 40) + n) % KV_SLOTS;
		if (!t[i].used) {
			t[i].used = 1;
			t[i].key = key;
			*fresh = 1;
			return &t[i];
		}
		if (t[i].key == key) {
			*fresh = 0;
			return &t[i];
		}
	}
	return NULL;
}

struct model {
	uint64_t gpr[16];
	uint64_t xmm[32];
	uint32_t mxcsr;
	uint64_t rflags;
	uint64_t rip;		/* RIP the handler resumed the op at */
	int rip_known;
	uint64_t cr_before;	/* CR toggles: operand at the first exit */
};

struct checker {
	unsigned int wl;
	unsigned int schema;	/* the run's schema version */
	uint64_t seed, iterations;

	/* plan walk */
	struct hvt_plan plan;
	struct hvt_op op;
	unsigned int op_kind;	/* op.kind, or OP_END */
	unsigned int exit_idx;	/* next exit within the op */
	int op_active;
	int end_emitted;	/* OP_END handed out */
	int finished;		/* the run's last exit was seen */
	int aligned;		/* the trace still follows the plan */
	int no_xsave;		/* XSETBV op with CR4.OSXSAVE clear: #UD */
	uint64_t ops_done;
	struct model m;

	/* device model */
	uint64_t msr_shadow[HVT_NR_SCRATCH_MSRS];
	uint32_t echo[HVT_NR_ECHO_PORTS];
	uint64_t vtsc_n;

	struct kv sites[KV_SLOTS];	/* (kind, variant, exit) -> RIP, RSP */
	struct kv answers[KV_SLOTS];	/* CPUID/MSR/XCR0/CR answers */

	/* the run */
	int found;
	uint64_t run_id;
	uint32_t vcpu;
	int have_end;
	struct hvtrace_session_rec end;
	uint64_t exits, async_exits, sync_exits;
	uint64_t last_seq;
	int have_seq;
	int pending;			/* an exit awaits its resume */
	int pending_sync;
	struct hvtrace_exit_rec pexit;
	unsigned int pkind, pidx;	/* what the pending exit was */
	uint32_t last_reason;
	int stopped;			/* a STOP resume was seen */
	uint64_t discarded;
};

/* ---- SSE model of the xmm workload ------------------------------------ */

struct v128 {
	uint64_t q[2];
};

#define SSE_OP(insn, d, s, mx)						\
	__asm__ volatile("ldmxcsr %2\n\t"				\
			 "movdqu %0, %%xmm0\n\t"			\
			 "movdqu %1, %%xmm1\n\t"			\
			 insn " %%xmm1, %%xmm0\n\t"			\
			 "movdqu %%xmm0, %0\n\t"			\
			 "stmxcsr %2"					\
			 : "+m"(*(d)) : "m"(*(s)), "m"(*(mx))		\
			 : "xmm0", "xmm1", "memory")

/*
 * The arithmetic of hvt_gop_xmm_arith, on this CPU, under the frame's
 * MXCSR: IEEE 754 makes the results and sticky flags the same as in the
 * guest.
 */
static void sse_model(uint64_t *xmm, uint32_t *mxcsr)
{
	struct v128 *x = (struct v128 *)xmm;
	uint32_t saved, mx = *mxcsr;

	__asm__ volatile("stmxcsr %0" : "=m"(saved));
	SSE_OP("addpd", &x[0], &x[1], &mx);
	SSE_OP("subpd", &x[2], &x[3], &mx);
	SSE_OP("mulpd", &x[4], &x[5], &mx);
	SSE_OP("divpd", &x[6], &x[7], &mx);
	SSE_OP("sqrtpd", &x[8], &x[9], &mx);
	SSE_OP("addps", &x[10], &x[11], &mx);
	SSE_OP("mulps", &x[12], &x[13], &mx);
	SSE_OP("divps", &x[14], &x[15], &mx);
	__asm__ volatile("ldmxcsr %0" : : "m"(saved));
	*mxcsr = mx;
}

/* ---- plan walk -------------------------------------------------------- */

static void start_op(struct checker *ck)
{
	struct model *m = &ck->m;

	memcpy(m->gpr, ck->op.frame.gpr, sizeof(m->gpr));
	memcpy(m->xmm, ck->op.frame.xmm, sizeof(m->xmm));
	m->mxcsr = ck->op.frame.mxcsr;
	m->rflags = ck->op.frame.rflags;
	m->rip_known = 0;
	if (ck->op.kind == HVT_OP_XMM_ARITH)
		sse_model(m->xmm, &m->mxcsr);
	ck->op_kind = ck->op.kind;
	ck->exit_idx = 0;
	ck->op_active = 1;
}

/* The next expected synchronous exit (1, with kind and idx), or 0 if none. */
static int next_expected(struct checker *ck, unsigned int *kind,
			 unsigned int *idx)
{
	if (ck->op_active &&
	    ck->exit_idx < (ck->op_kind == OP_END ? 1 :
			    hvt_plan_op_exits(ck->op_kind)))
		goto out;
	if (ck->op_active) {
		ck->op_active = 0;
		ck->ops_done++;
	}
	if (hvt_plan_next(&ck->plan, &ck->op)) {
		start_op(ck);
	} else if (!ck->end_emitted && !hvt_plan_ends_with_fatal(ck->wl)) {
		ck->end_emitted = 1;
		ck->op_kind = OP_END;
		ck->exit_idx = 0;
		ck->op_active = 1;
		memset(&ck->op, 0, sizeof(ck->op));
	} else {
		return 0;
	}
out:
	*kind = ck->op_kind;
	*idx = ck->exit_idx;
	return 1;
}

/* Synchronous exits the plan still expects (the run ended early). */
static uint64_t remaining_exits(struct checker *ck)
{
	uint64_t n = 0;
	struct hvt_op op;

	if (ck->op_active)
		n += (ck->op_kind == OP_END ? 1 : hvt_plan_op_exits(ck->op_kind)) -
		     ck->exit_idx;
	if (ck->op_kind == OP_END && ck->op_active)
		return n;
	while (hvt_plan_next(&ck->plan, &op))
		n += hvt_plan_op_exits(op.kind);
	if (!ck->end_emitted && !hvt_plan_ends_with_fatal(ck->wl))
		n++;
	return n;
}

static const char *kind_name(unsigned int kind)
{
	return kind == OP_END ? "END" : hvt_plan_op_name(kind);
}

/* ---- per-exit checks -------------------------------------------------- */

static void where(const struct checker *ck, const struct hvtrace_exit_rec *e,
		  char *buf, size_t len)
{
	snprintf(buf, len, "seq %" PRIu64 " (iteration %" PRIu64 " op %u %s exit %u)",
		 (uint64_t)e->seq, ck->op.iteration, ck->op.index,
		 kind_name(ck->op_kind), ck->exit_idx);
}

static void check_site(struct checker *ck, const struct hvtrace_exit_rec *e,
		       const char *at)
{
	const struct hvt_op *op = &ck->op;
	uint64_t key = (uint64_t)ck->op_kind | (uint64_t)ck->exit_idx << 8 |
		       (uint64_t)op->reg << 12 | (uint64_t)op->size << 16 |
		       (uint64_t)op->imm << 20 | (uint64_t)op->kind << 24;
	int fresh;
	struct kv *s = kv_get(ck->sites, key, &fresh);

	if (!s)
		return;
	if (fresh) {
		s->a = e->rip;
		s->b = e->rsp;
		return;
	}
	check(C_RIP, s->a == e->rip && s->b == e->rsp,
	      "%s: RIP %#" PRIx64 " RSP %#" PRIx64 ", the same site was at RIP %#"
	      PRIx64 " RSP %#" PRIx64, at, (uint64_t)e->rip, (uint64_t)e->rsp,
	      s->a, s->b);
}

static void check_info(struct checker *ck, const struct hvtrace_exit_rec *e,
		       const char *at)
{
	const struct hvt_op *op = &ck->op;
	unsigned int len = 0, cr = 0, access = 0;
	uint32_t vec = 0, type = 0;
	int errv = 0;
	uint64_t q = e->exit_qual;

	switch (ck->op_kind) {
	case HVT_OP_CPUID:
	case HVT_OP_WRMSR:
	case HVT_OP_WRMSR_GP:
	case HVT_OP_RDMSR:
	case HVT_OP_RDMSR_HOST:
	case HVT_OP_RDTSC:
	case HVT_OP_INVD:
		len = 2;
		break;
	case HVT_OP_HLT:
		len = 1;
		break;
	case HVT_OP_XSETBV:
	case HVT_OP_XSETBV_GP:
		if (ck->no_xsave) {
			vec = VEC_UD;
			type = INTR_TYPE_HW_EXC;
			break;
		}
		len = 3;
		break;
	case HVT_OP_RDTSCP:
	case HVT_OP_HC_MARKER:
	case HVT_OP_HC_LOG:
	case HVT_OP_HC_LOG_BAD:
	case HVT_OP_HC_INVALID:
	case HVT_OP_XMM_ARITH:
	case OP_END:
		len = 3;
		break;
	case HVT_OP_OUT_ECHO:
	case HVT_OP_IN_ECHO:
	case HVT_OP_OUT_OTHER:
	case HVT_OP_IN_OTHER: {
		int in = op->kind == HVT_OP_IN_ECHO || op->kind == HVT_OP_IN_OTHER;

		len = io_insn_len(op);
		check(C_INFO, (q & 7) == op->size - 1 && !!(q & 8) == in &&
		      !(q & 0x30) && !!(q & 0x40) == !!op->imm &&
		      ((q >> 16) & 0xffff) == op->port,
		      "%s: I/O qualification %#" PRIx64 ", expected %s size %u port %#x%s",
		      at, q, in ? "IN" : "OUT", op->size, op->port,
		      op->imm ? " (immediate)" : " (DX)");
		break;
	}
	case HVT_OP_CR0_TOGGLE:
		cr = 0;
		goto cr_write;
	case HVT_OP_CR4_TOGGLE:
		cr = 4;
cr_write:
		access = 0;
		goto cr_check;
	case HVT_OP_CR3_STORE:
		cr = 3;
		access = 1;
		goto cr_check;
	case HVT_OP_CR3_RELOAD:
		cr = 3;
		access = ck->exit_idx == 0 ? 1 : 0;
cr_check:
		len = mov_cr_len(op->reg);
		check(C_INFO, (q & 0xf) == cr && ((q >> 4) & 3) == access &&
		      ((q >> 8) & 0xf) == op->reg,
		      "%s: CR qualification %#" PRIx64 ", expected MOV %s CR%u with %s",
		      at, q, access ? "from" : "to", cr, gpr_name[op->reg]);
		break;
	case HVT_OP_UD:
		vec = VEC_UD;
		type = INTR_TYPE_HW_EXC;
		break;
	case HVT_OP_BP:
		vec = VEC_BP;
		type = INTR_TYPE_SW_EXC;
		len = 1;
		break;
	case HVT_OP_GP:
	case HVT_OP_FATAL:
		vec = VEC_GP;
		type = INTR_TYPE_HW_EXC;
		errv = 1;
		break;
	}
	if (vec) {
		check(C_INFO, (e->intr_info & INTR_VALID) &&
		      (e->intr_info & 0xff) == vec &&
		      INTR_TYPE(e->intr_info) == type &&
		      !!(e->intr_info & INTR_ERR_VALID) == errv,
		      "%s: interruption info %#x, expected vector %u type %u%s",
		      at, e->intr_info, vec, type, errv ? " with error code" : "");
		if (ck->op_kind == HVT_OP_GP)
			check(C_INFO, e->intr_error == 0,
			      "%s: #GP error code %#x, expected 0", at,
			      e->intr_error);
		if (ck->op_kind == HVT_OP_FATAL) {
			check(C_INFO, e->intr_error ==
			      HVT_FATAL_VECTOR * 8 + 2,
			      "%s: #GP error code %#x, expected %#x (IDT entry %#x)",
			      at, e->intr_error, HVT_FATAL_VECTOR * 8 + 2,
			      HVT_FATAL_VECTOR);
			check(C_INFO, (e->idt_info & INTR_VALID) &&
			      (e->idt_info & 0xff) == HVT_FATAL_VECTOR &&
			      INTR_TYPE(e->idt_info) == INTR_TYPE_SW_INT,
			      "%s: IDT-vectoring info %#x, expected INT %#x being delivered",
			      at, e->idt_info, HVT_FATAL_VECTOR);
		} else {
			check(C_INFO, !(e->idt_info & INTR_VALID),
			      "%s: IDT-vectoring info %#x valid, expected none",
			      at, e->idt_info);
		}
	}
	if (len)
		check(C_INFO, e->insn_len == len,
		      "%s: insn_len %u, expected %u", at, e->insn_len, len);
}

static void check_answer(struct checker *ck, uint64_t key, uint64_t a,
			 uint64_t b, uint64_t c, uint64_t d, enum cat cat,
			 const char *what, const char *at)
{
	int fresh;
	struct kv *s = kv_get(ck->answers, key, &fresh);

	if (!s)
		return;
	if (fresh) {
		s->a = a;
		s->b = b;
		s->c = c;
		s->d = d;
		return;
	}
	check(cat, s->a == a && s->b == b && s->c == c && s->d == d,
	      "%s: %s differs from its first answer in this run", at, what);
}

#define KEY_CPUID(leaf, sub) (1ull << 60 | (uint64_t)(leaf) << 20 | (sub))
#define KEY_MSR(msr) (2ull << 60 | (msr))
#define KEY_XCR0 (3ull << 60)
#define KEY_CR(n) (4ull << 60 | (n))
#define KEY_LOGPTR (5ull << 60)

static void check_state(struct checker *ck, const struct hvtrace_exit_rec *e,
			const char *at)
{
	struct model *m = &ck->m;
	const struct hvt_op *op = &ck->op;
	uint32_t skip = op->gpr_runtime | 1u << HVT_RSP;
	uint64_t rf_mask = ~0ull;
	unsigned int i, bad = 0;
	char detail[160] = "";

	if (ck->op_kind == OP_END) {
		check(C_GPR, e->gpr[HVT_RAX] == HVT_HC_END &&
		      e->gpr[HVT_RBX] == 0,
		      "%s: RAX %#" PRIx64 " RBX %#" PRIx64 ", expected HVT_HC_END, status 0",
		      at, (uint64_t)e->gpr[HVT_RAX], (uint64_t)e->gpr[HVT_RBX]);
		return;
	}
	check(C_GPR, e->gpr[HVT_RSP] == e->rsp,
	      "%s: gpr[rsp] %#" PRIx64 " differs from rsp %#" PRIx64, at,
	      (uint64_t)e->gpr[HVT_RSP], (uint64_t)e->rsp);
	for (i = 0; i < 16; i++) {
		if (skip & (1u << i) || e->gpr[i] == m->gpr[i])
			continue;
		if (!bad++)
			snprintf(detail, sizeof(detail), "%s %#" PRIx64 ", expected %#" PRIx64,
				 gpr_name[i], (uint64_t)e->gpr[i], m->gpr[i]);
	}
	check(C_GPR, !bad, "%s: %u GPRs differ, first %s", at, bad, detail);

	/* The registers the guest computed at run time. */
	switch (ck->op_kind) {
	case HVT_OP_CR0_TOGGLE:
	case HVT_OP_CR4_TOGGLE: {
		uint64_t bit = ck->op_kind == HVT_OP_CR0_TOGGLE ?
			       HVT_CR0_TOGGLE_BIT : HVT_CR4_TOGGLE_BIT;
		uint64_t cr = ck->op_kind == HVT_OP_CR0_TOGGLE ? e->cr0 : e->cr4;
		uint64_t v = e->gpr[op->reg];

		if (ck->exit_idx == 0) {
			m->cr_before = v;
			check(C_GPR, (v & ~bit) == (cr & ~bit),
			      "%s: %s %#" PRIx64 " is not CR%u %#" PRIx64 " with bit %#" PRIx64 " flipped",
			      at, gpr_name[op->reg], v,
			      ck->op_kind == HVT_OP_CR0_TOGGLE ? 0 : 4, cr, bit);
			check_answer(ck, KEY_CR(ck->op_kind), v, 0, 0, 0, C_GPR,
				     "the CR value the guest read", at);
		} else {
			check(C_GPR, v == (m->cr_before ^ bit),
			      "%s: %s %#" PRIx64 ", expected the value read before, %#" PRIx64,
			      at, gpr_name[op->reg], v, m->cr_before ^ bit);
		}
		break;
	}
	case HVT_OP_XSETBV:
	case HVT_OP_XSETBV_GP: {
		uint64_t xcr0 = (e->gpr[HVT_RDX] << 32) |
				(e->gpr[HVT_RAX] & 0xffffffffull);

		if (ck->no_xsave) {
			check(C_GPR, e->gpr[HVT_RCX] ==
			      (ck->op_kind == HVT_OP_XSETBV ? 0u : 1u) &&
			      !e->gpr[HVT_RAX] && !e->gpr[HVT_RDX],
			      "%s: CR4.OSXSAVE clear: RCX %#" PRIx64 " RDX:RAX %#" PRIx64
			      ":%#" PRIx64 ", expected ECX and 0:0", at,
			      (uint64_t)e->gpr[HVT_RCX], (uint64_t)e->gpr[HVT_RDX],
			      (uint64_t)e->gpr[HVT_RAX]);
			break;
		}
		check(C_GPR, e->gpr[HVT_RCX] ==
		      (ck->op_kind == HVT_OP_XSETBV ? 0u : 1u) &&
		      !(e->gpr[HVT_RAX] >> 32) && !(e->gpr[HVT_RDX] >> 32) &&
		      (xcr0 & 3) == 3,
		      "%s: RCX %#" PRIx64 " RDX:RAX %#" PRIx64 ":%#" PRIx64 " is not the XGETBV result",
		      at, (uint64_t)e->gpr[HVT_RCX], (uint64_t)e->gpr[HVT_RDX],
		      (uint64_t)e->gpr[HVT_RAX]);
		check_answer(ck, KEY_XCR0, xcr0, 0, 0, 0, C_GPR, "XCR0", at);
		break;
	}
	case HVT_OP_HC_LOG:
	case HVT_OP_HC_LOG_BAD:
		check(C_GPR, e->gpr[HVT_RBX] != 0, "%s: log buffer RBX is 0", at);
		check_answer(ck, KEY_LOGPTR, e->gpr[HVT_RBX], 0, 0, 0, C_GPR,
			     "the log buffer address", at);
		break;
	}

	bad = 0;
	for (i = 0; i < 32; i++) {
		if (e->xmm[i] == m->xmm[i])
			continue;
		if (!bad++)
			snprintf(detail, sizeof(detail), "xmm%u.%s %#" PRIx64 ", expected %#" PRIx64,
				 i / 2, i & 1 ? "hi" : "lo", (uint64_t)e->xmm[i], m->xmm[i]);
	}
	check(C_XMM, !bad, "%s: %u XMM halves differ, first %s", at, bad, detail);
	check(C_XMM, e->mxcsr == m->mxcsr, "%s: MXCSR %#x, expected %#x", at,
	      e->mxcsr, m->mxcsr);

	/* A fault-class exception exit reports RF as event delivery would
	 * have pushed it. */
	if (exit_reason_of(ck->op_kind, 0) == HVTRACE_EXIT_EXCEPTION_NMI ||
	    ck->no_xsave)
		rf_mask = ~RFLAGS_RF;
	check(C_RFLAGS, (e->rflags & rf_mask) == (m->rflags & rf_mask),
	      "%s: RFLAGS %#" PRIx64 ", expected %#" PRIx64, at,
	      (uint64_t)e->rflags, m->rflags);

	/* The second exit of an op follows the first's resume point. */
	if (ck->exit_idx > 0 && m->rip_known) {
		uint64_t gap = (ck->op_kind == HVT_OP_CR0_TOGGLE ||
				ck->op_kind == HVT_OP_CR4_TOGGLE) ? 4 : 0;

		check(C_RIP, e->rip == m->rip + gap,
		      "%s: RIP %#" PRIx64 ", expected %#" PRIx64 " after the first exit's resume",
		      at, (uint64_t)e->rip, m->rip + gap);
	}
}

static void on_sync_exit(struct checker *ck, const struct hvtrace_exit_rec *e)
{
	unsigned int kind, idx;
	uint32_t want;
	char at[160], got[48], exp[48];

	if (ck->finished) {
		check(C_REASON, 0, "seq %" PRIu64 ": %s after the run's last exit",
		      (uint64_t)e->seq, reason_name(e->exit_reason, got, sizeof(got)));
		ck->aligned = 0;
		return;
	}
	if (!ck->aligned)
		return;
	if (!next_expected(ck, &kind, &idx)) {
		check(C_REASON, 0, "seq %" PRIu64 ": %s, but the plan is complete",
		      (uint64_t)e->seq, reason_name(e->exit_reason, got, sizeof(got)));
		ck->aligned = 0;
		return;
	}
	where(ck, e, at, sizeof(at));
	want = exit_reason_of(kind, idx);
	/* Without CR4.OSXSAVE, XSETBV raises #UD before it could exit. */
	ck->no_xsave = (kind == HVT_OP_XSETBV || kind == HVT_OP_XSETBV_GP) &&
		       !(e->cr4 & CR4_OSXSAVE);
	if (ck->no_xsave)
		want = HVTRACE_EXIT_EXCEPTION_NMI;
	if (!check(C_REASON, e->exit_reason == want,
		   "%s: %s, expected %s; checking stops following the plan here",
		   at, reason_name(e->exit_reason, got, sizeof(got)),
		   reason_name(want, exp, sizeof(exp)))) {
		ck->aligned = 0;
		return;
	}
	check_info(ck, e, at);
	check_state(ck, e, at);
	if (kind != OP_END)
		check_site(ck, e, at);
	ck->pkind = kind;
	ck->pidx = idx;
	ck->pending_sync = 1;
	if (kind == OP_END || kind == HVT_OP_FATAL)
		ck->finished = 1;
}

/* ---- resume checks ---------------------------------------------------- */

static uint64_t expected_mask(const struct checker *ck, unsigned int kind,
			      unsigned int idx)
{
	switch (kind) {
	case HVT_OP_CPUID:
		return CHG_RAX | CHG_RCX | CHG_RDX | CHG_RBX | CHG_RIP;
	case HVT_OP_RDMSR:
	case HVT_OP_RDMSR_HOST:
	case HVT_OP_RDTSC:
		return CHG_RAX | CHG_RDX | CHG_RIP;
	case HVT_OP_RDTSCP:
		return CHG_RAX | CHG_RCX | CHG_RDX | CHG_RIP;
	case HVT_OP_XSETBV:
		return ck->no_xsave ? CHG_RAX | CHG_RIP : CHG_RIP;
	case HVT_OP_IN_ECHO:
	case HVT_OP_IN_OTHER:
	case HVT_OP_WRMSR_GP:
	case HVT_OP_XSETBV_GP:
	case HVT_OP_UD:
	case HVT_OP_BP:
	case HVT_OP_GP:
	case HVT_OP_HC_MARKER:
	case HVT_OP_HC_LOG:
	case HVT_OP_HC_LOG_BAD:
	case HVT_OP_HC_INVALID:
	case HVT_OP_XMM_ARITH:
		return CHG_RAX | CHG_RIP;
	case HVT_OP_CR0_TOGGLE:
		/*
		 * CD is a host-owned bit: only the read shadow changes, which
		 * schema v1 resumes did not report.
		 */
		return ck->schema < 2 ? CHG_RIP : BIT(HVTRACE_CHG_CR0_SHADOW) | CHG_RIP;
	case HVT_OP_CR4_TOGGLE:
		/* PGE likewise. */
		return ck->schema < 2 ? CHG_RIP : BIT(HVTRACE_CHG_CR4_SHADOW) | CHG_RIP;
	case HVT_OP_CR3_STORE:
		return BIT(HVTRACE_CHG_GPR(ck->op.reg)) | CHG_RIP;
	case HVT_OP_CR3_RELOAD:
		return idx == 0 ? BIT(HVTRACE_CHG_GPR(ck->op.reg)) | CHG_RIP :
				  CHG_RIP;
	default:
		return CHG_RIP;
	}
}

static void on_sync_resume(struct checker *ck,
			   const struct hvtrace_resume_rec *r)
{
	const struct hvtrace_exit_rec *e = &ck->pexit;
	const struct hvt_op *op = &ck->op;
	struct model *m = &ck->m;
	unsigned int kind = ck->pkind, idx = ck->pidx;
	uint64_t val[HVTRACE_CHG_NBITS] = { 0 }, want_mask, fixup, want_rip;
	unsigned int b, n = 0, fixed = 0;
	char at[160];

	snprintf(at, sizeof(at), "seq %" PRIu64 " resume (iteration %" PRIu64
		 " op %u %s exit %u)", (uint64_t)r->seq, op->iteration,
		 op->index, kind_name(kind), idx);

	for (b = 0; b < HVTRACE_CHG_NBITS; b++) {
		if (!(r->changed & BIT(b)))
			continue;
		if (n < r->values_len)
			val[b] = r->values[n];
		n++;
	}
	check(C_CHANGES, n == r->values_len && !(r->changed >> HVTRACE_CHG_NBITS),
	      "%s: mask %#" PRIx64 " has %u bits but %u values", at,
	      (uint64_t)r->changed, n, (unsigned int)r->values_len);

	if (kind == OP_END || kind == HVT_OP_FATAL) {
		check(C_ACTION, r->action == HVTRACE_ACT_STOP,
		      "%s: action %u, expected STOP", at, r->action);
		ck->exit_idx++;
		return;
	}
	check(C_ACTION, r->action == HVTRACE_ACT_RESUME,
	      "%s: action %u, expected RESUME", at, r->action);

	want_mask = expected_mask(ck, kind, idx);
	check(C_CHANGES, r->changed == want_mask,
	      "%s: changed mask %#" PRIx64 ", expected %#" PRIx64, at,
	      (uint64_t)r->changed, want_mask);

	/* RIP: after the instruction, or at its fixup one NOP further. */
	switch (kind) {
	case HVT_OP_WRMSR_GP:
	case HVT_OP_XSETBV_GP:
	case HVT_OP_UD:
	case HVT_OP_BP:
	case HVT_OP_GP:
		fixed = 1;
		break;
	case HVT_OP_XSETBV:
		fixed = ck->no_xsave;
		break;
	}
	if (fixed) {
		unsigned int len = kind == HVT_OP_WRMSR_GP ? 2 :
				   kind == HVT_OP_XSETBV_GP ? 3 :
				   kind == HVT_OP_XSETBV ? 3 :
				   kind == HVT_OP_UD ? 2 :
				   kind == HVT_OP_BP ? 1 : 3;

		fixup = e->rip + len + HVT_FIXUP_GAP;
		want_rip = fixup;
	} else {
		want_rip = e->rip + e->insn_len;
	}
	if (r->changed & CHG_RIP)
		check(C_RIP, val[HVTRACE_CHG_RIP] == want_rip,
		      "%s: RIP %#" PRIx64 ", expected %#" PRIx64 " (%s)", at,
		      val[HVTRACE_CHG_RIP], want_rip,
		      fixed ? "the fixup" : "exit RIP + insn_len");

	switch (kind) {
	case HVT_OP_CPUID:
		check(C_CHANGES, !(val[0] >> 32) && !(val[1] >> 32) &&
		      !(val[2] >> 32) && !(val[3] >> 32),
		      "%s: CPUID results not zero-extended", at);
		check_answer(ck, KEY_CPUID(op->leaf, op->subleaf), val[0],
			     val[3], val[1], val[2], C_CHANGES,
			     "CPUID result", at);
		break;
	case HVT_OP_WRMSR:
		ck->msr_shadow[op->msr - HVT_SCRATCH_MSR_BASE] =
			(e->gpr[HVT_RDX] << 32) |
			(e->gpr[HVT_RAX] & 0xffffffffull);
		break;
	case HVT_OP_RDMSR: {
		uint64_t v = ck->msr_shadow[op->msr - HVT_SCRATCH_MSR_BASE];

		check(C_CHANGES, val[HVT_RAX] == (v & 0xffffffffull) &&
		      val[HVT_RDX] == v >> 32,
		      "%s: RDMSR %#x returned RDX:RAX %#" PRIx64 ":%#" PRIx64
		      ", expected the last value written, %#" PRIx64, at,
		      op->msr, val[HVT_RDX], val[HVT_RAX], v);
		break;
	}
	case HVT_OP_RDMSR_HOST:
		check(C_CHANGES, !(val[HVT_RAX] >> 32) && !(val[HVT_RDX] >> 32),
		      "%s: RDMSR result not zero-extended", at);
		check_answer(ck, KEY_MSR(op->msr), val[HVT_RAX], val[HVT_RDX],
			     0, 0, C_CHANGES, "host MSR value", at);
		break;
	case HVT_OP_XSETBV:
	case HVT_OP_XSETBV_GP:
		if (ck->no_xsave) {
			check(C_CHANGES, val[HVT_RAX] == VEC_UD,
			      "%s: RAX %#" PRIx64 ", expected the #UD vector 6", at,
			      val[HVT_RAX]);
			break;
		}
		if (kind == HVT_OP_XSETBV)
			break;
		/* fall through */
	case HVT_OP_WRMSR_GP:
	case HVT_OP_GP:
		check(C_CHANGES, val[HVT_RAX] == VEC_GP,
		      "%s: RAX %#" PRIx64 ", expected the #GP vector 13", at,
		      val[HVT_RAX]);
		break;
	case HVT_OP_UD:
		check(C_CHANGES, val[HVT_RAX] == VEC_UD,
		      "%s: RAX %#" PRIx64 ", expected the #UD vector 6", at,
		      val[HVT_RAX]);
		break;
	case HVT_OP_BP:
		check(C_CHANGES, val[HVT_RAX] == VEC_BP,
		      "%s: RAX %#" PRIx64 ", expected the #BP vector 3", at,
		      val[HVT_RAX]);
		break;
	case HVT_OP_OUT_ECHO:
		ck->echo[op->port - HVT_ECHO_PORT_BASE] = (uint32_t)
			(e->gpr[HVT_RAX] & (op->size == 4 ? 0xffffffffu :
					    (1u << (op->size * 8)) - 1));
		break;
	case HVT_OP_IN_ECHO:
	case HVT_OP_IN_OTHER: {
		uint32_t mask = op->size == 4 ? 0xffffffffu :
				(1u << (op->size * 8)) - 1;
		uint32_t data = kind == HVT_OP_IN_ECHO ?
				ck->echo[op->port - HVT_ECHO_PORT_BASE] & mask :
				mask;
		uint64_t want = op->size == 4 ? data :
				(e->gpr[HVT_RAX] & ~(uint64_t)mask) | data;

		check(C_CHANGES, val[HVT_RAX] == want,
		      "%s: IN%u from port %#x gave RAX %#" PRIx64 ", expected %#" PRIx64,
		      at, op->size, op->port, val[HVT_RAX], want);
		break;
	}
	case HVT_OP_HC_MARKER:
	case HVT_OP_HC_LOG:
	case HVT_OP_XMM_ARITH:
		check(C_CHANGES, val[HVT_RAX] == 0,
		      "%s: hypercall returned %#" PRIx64 ", expected 0", at,
		      val[HVT_RAX]);
		break;
	case HVT_OP_HC_LOG_BAD:
		check(C_CHANGES, val[HVT_RAX] == (uint64_t)-EINVAL,
		      "%s: hypercall returned %" PRId64 ", expected -EINVAL", at,
		      (int64_t)val[HVT_RAX]);
		break;
	case HVT_OP_HC_INVALID:
		check(C_CHANGES, val[HVT_RAX] == (uint64_t)-ENOSYS,
		      "%s: hypercall returned %" PRId64 ", expected -ENOSYS", at,
		      (int64_t)val[HVT_RAX]);
		break;
	case HVT_OP_RDTSC:
	case HVT_OP_RDTSCP: {
		uint64_t tsc = HVT_VTSC_STEP * ++ck->vtsc_n;

		check(C_CHANGES, val[HVT_RAX] == (tsc & 0xffffffffull) &&
		      val[HVT_RDX] == tsc >> 32,
		      "%s: virtual TSC RDX:RAX %#" PRIx64 ":%#" PRIx64 ", expected %#" PRIx64,
		      at, val[HVT_RDX], val[HVT_RAX], tsc);
		if (kind == HVT_OP_RDTSCP)
			check(C_CHANGES, val[HVT_RCX] == 0,
			      "%s: RDTSCP RCX %#" PRIx64 ", expected TSC_AUX 0", at,
			      val[HVT_RCX]);
		break;
	}
	case HVT_OP_CR3_STORE:
	case HVT_OP_CR3_RELOAD:
		if (idx == 0) {
			check(C_CHANGES, val[op->reg] == e->cr3,
			      "%s: MOV from CR3 wrote %#" PRIx64 ", guest CR3 is %#" PRIx64,
			      at, val[op->reg], (uint64_t)e->cr3);
			check_answer(ck, KEY_CR(3), e->cr3, 0, 0, 0, C_CHANGES,
				     "guest CR3", at);
		}
		break;
	}

	/* The state the guest resumes with = exit state + changes. */
	for (b = 0; b < 16; b++)
		m->gpr[b] = e->gpr[b];
	memcpy(m->xmm, e->xmm, sizeof(m->xmm));
	m->mxcsr = e->mxcsr;
	m->rflags = e->rflags;
	m->rip = e->rip;
	for (b = 0; b < HVTRACE_CHG_NBITS; b++) {
		if (!(r->changed & BIT(b)))
			continue;
		if (b < 16)
			m->gpr[b] = val[b];
		else if (b == HVTRACE_CHG_RIP)
			m->rip = val[b];
		else if (b == HVTRACE_CHG_RFLAGS)
			m->rflags = val[b];
		else if (b < HVTRACE_CHG_MXCSR)
			m->xmm[b - HVTRACE_CHG_XMM_LO(0)] = val[b];
		else if (b == HVTRACE_CHG_MXCSR)
			m->mxcsr = (uint32_t)val[b];
		/* Control registers and shadows: not part of the model. */
	}
	m->rip_known = 1;
	ck->exit_idx++;
}

/* ---- event loop ------------------------------------------------------- */

/*
 * Who caused a sandbox exit: the run's kthread, bound to the run's CPU and
 * named for it, with the guest (kernel code) at CPL 0.  Older traces have
 * no such fields: the reader gives zero and empty.
 */
static void check_who(struct checker *ck, const struct hvtrace_exit_rec *e)
{
	char want[HVTRACE_COMM_LEN];

	if (ck->schema < 3) {
		check(C_WHO, e->pid == 0 && e->tid == 0 && !e->comm[0] && e->cpl == 0,
		      "exit seq %" PRIu64 ": schema v%u trace with pid %u comm '%.16s' cpl %u",
		      (uint64_t)e->seq, ck->schema, e->pid, e->comm, e->cpl);
		return;
	}
	snprintf(want, sizeof(want), "hvtrace/%u", e->vcpu);
	check(C_WHO, e->pid != 0 && e->pid == e->tid && e->cpl == 0 &&
	      !strncmp(e->comm, want, sizeof(want)),
	      "exit seq %" PRIu64 ": pid %u tid %u comm '%.16s' cpl %u, expected the kthread %s at CPL 0",
	      (uint64_t)e->seq, e->pid, e->tid, e->comm, e->cpl, want);
}

static void on_exit_event(struct checker *ck, const struct hvtrace_exit_rec *e)
{
	ck->exits++;
	check_who(ck, e);
	if (ck->have_seq)
		check(C_SEQ, e->seq == ck->last_seq + 1,
		      "exit seq %" PRIu64 " follows seq %" PRIu64,
		      (uint64_t)e->seq, ck->last_seq);
	ck->last_seq = e->seq;
	ck->have_seq = 1;
	if (ck->pending)
		check(C_RESUME, 0, "exit seq %" PRIu64 " has no resume before exit seq %"
		      PRIu64, (uint64_t)ck->pexit.seq, (uint64_t)e->seq);
	if (ck->stopped)
		check(C_ACTION, 0, "exit seq %" PRIu64 " after a STOP resume",
		      (uint64_t)e->seq);
	ck->pending = 1;
	ck->pending_sync = 0;
	ck->pexit = *e;
	ck->last_reason = e->exit_reason;
	if (is_async(e)) {
		ck->async_exits++;
		return;
	}
	ck->sync_exits++;
	on_sync_exit(ck, e);
}

static void on_resume_event(struct checker *ck,
			    const struct hvtrace_resume_rec *r)
{
	if (!check(C_RESUME, ck->pending && r->seq == ck->pexit.seq,
		   "resume seq %" PRIu64 " %s", (uint64_t)r->seq,
		   ck->pending ? "does not match the pending exit" :
				 "without an exit"))
		return;
	ck->pending = 0;
	if (r->action == HVTRACE_ACT_STOP)
		ck->stopped = 1;
	if (ck->pending_sync) {
		on_sync_resume(ck, r);
	} else if (is_async(&ck->pexit)) {
		check(C_CHANGES, r->changed == 0,
		      "seq %" PRIu64 ": asynchronous exit's resume changed %#" PRIx64,
		      (uint64_t)r->seq, (uint64_t)r->changed);
		check(C_ACTION, r->action == HVTRACE_ACT_RESUME,
		      "seq %" PRIu64 ": asynchronous exit's resume action %u",
		      (uint64_t)r->seq, r->action);
	}
}

static int session_matches(const struct checker *ck,
			   const struct hvtrace_session_rec *s)
{
	char name[sizeof(s->workload) + 1];

	memcpy(name, s->workload, sizeof(s->workload));
	name[sizeof(s->workload)] = 0;
	return !strcmp(name, hvt_plan_workload_name(ck->wl)) &&
	       s->seed == ck->seed && s->iterations == ck->iterations;
}

/* Reset the checker for a run of workload @wl, seed, iterations. */
static void checker_init(struct checker *ck, unsigned int wl, uint64_t seed,
			 uint64_t iterations)
{
	unsigned int i;

	memset(ck, 0, sizeof(*ck));
	memset(stats, 0, sizeof(stats));
	ck->wl = wl;
	ck->seed = seed;
	ck->iterations = iterations;
	hvt_plan_init(&ck->plan, wl, seed, iterations);
	for (i = 0; i < HVT_NR_ECHO_PORTS; i++)
		ck->echo[i] = 0xffffffffu;
	ck->aligned = 1;
}

/* Feed one event of the trace, in trace order. */
static void checker_event(struct checker *ck, const struct hvt_event *ev,
			  const char *stream)
{
	if (ev->type == HVT_EV_DISCARDED) {
		ck->discarded += ev->u.discarded.count ? ev->u.discarded.count : 1;
		check(C_DISCARD, 0, "the tracer discarded %" PRIu64
		      " events in stream %s", (uint64_t)ev->u.discarded.count,
		      stream);
		return;
	}
	if (ev->type == HVT_EV_SESSION) {
		const struct hvtrace_session_rec *s = &ev->u.session;

		if (!ck->found && s->phase == HVTRACE_PHASE_START &&
		    session_matches(ck, s)) {
			ck->found = 1;
			ck->run_id = s->run_id;
			ck->vcpu = s->vcpu;
			ck->schema = s->schema_version;
			check(C_START, s->schema_version >= HVTRACE_SCHEMA_VERSION_MIN &&
			      s->schema_version <= HVTRACE_SCHEMA_VERSION,
			      "schema version %u", s->schema_version);
		} else if (ck->found && !ck->have_end &&
			   s->phase == HVTRACE_PHASE_END &&
			   s->run_id == ck->run_id) {
			ck->have_end = 1;
			ck->end = *s;
		}
		return;
	}
	if (!ck->found || ck->have_end)
		return;
	if (ev->type == HVT_EV_EXIT && ev->u.exit.vcpu == ck->vcpu)
		on_exit_event(ck, &ev->u.exit);
	else if (ev->type == HVT_EV_RESUME && ev->u.resume.vcpu == ck->vcpu)
		on_resume_event(ck, &ev->u.resume);
}

/* After the last event: the run-level checks.  0 if the run was found. */
static int checker_finish(struct checker *ck, const char *path)
{
	check(C_DISCARD, ck->discarded == 0, "%" PRIu64 " events discarded in all",
	      ck->discarded);
	if (!check(C_START, ck->found,
		   "no session start for workload %s seed %" PRIu64 " iterations %"
		   PRIu64 " in %s", hvt_plan_workload_name(ck->wl), ck->seed,
		   ck->iterations, path))
		return -1;
	if (ck->pending)
		check(C_RESUME, 0, "exit seq %" PRIu64 " has no resume",
		      (uint64_t)ck->pexit.seq);
	if (ck->aligned) {
		int finished = ck->finished;
		uint64_t left = remaining_exits(ck);

		check(C_REASON, left == 0 && finished,
		      "the run ended %" PRIu64 " synchronous exits short of the plan",
		      left);
	}
	if (check(C_END, ck->have_end, "no session end for run %" PRIu64,
		  ck->run_id)) {
		const struct hvtrace_session_rec *s = &ck->end;
		int32_t want = hvt_plan_ends_with_fatal(ck->wl) ?
			       HVT_STATUS_EFAULT : 0;

		check(C_END, session_matches(ck, s),
		      "session end names another workload, seed or iterations");
		check(C_END, s->status == want, "status %d, expected %d",
		      s->status, want);
		check(C_END, s->exits == ck->exits,
		      "session end counts %" PRIu64 " exits, the trace holds %" PRIu64,
		      (uint64_t)s->exits, ck->exits);
		check(C_END, s->dropped == 0, "%" PRIu64 " exits dropped",
		      (uint64_t)s->dropped);
		check(C_END, s->end_reason == ck->last_reason,
		      "end_reason %#x, the last exit's reason is %#x",
		      s->end_reason, ck->last_reason);
	}
	return 0;
}

#ifndef WLCHECK_NO_MAIN
static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: " PROG " TRACE_DIR WORKLOAD SEED ITERATIONS\n"
		"       " PROG " --plan WORKLOAD SEED ITERATIONS\n"
		"Checks a recorded sandbox run against the workload's plan; TAP on stdout.\n"
		"--plan prints the synchronous exits the plan expects, one per line.\n"
		"Exit status: 0 all checks pass, 1 a check failed, 2 bad input.\n"
		"Workloads:");
	for (i = 0; i < HVT_WL_COUNT; i++)
		fprintf(f, " %s", hvt_plan_workload_name(i));
	fputc('\n', f);
}

/* --plan: the expected synchronous exits, one line each. */
static void print_plan(unsigned int wl, uint64_t seed, uint64_t iterations)
{
	static struct checker ck;
	unsigned int kind, idx;
	uint64_t n = 0;
	char rn[48];

	checker_init(&ck, wl, seed, iterations);
	printf("%-8s %-10s %-4s %-12s %-2s %-18s %s\n", "exit", "iteration",
	       "op", "operation", "#", "reason", "operands (RAX RBX RCX RDX RFLAGS MXCSR)");
	while (next_expected(&ck, &kind, &idx)) {
		const struct hvt_op *op = &ck.op;
		const uint64_t *g = op->frame.gpr;
		char what[64] = "";

		switch (kind) {
		case HVT_OP_CPUID:
			snprintf(what, sizeof(what), "leaf %#x.%u", op->leaf,
				 op->subleaf);
			break;
		case HVT_OP_WRMSR: case HVT_OP_RDMSR: case HVT_OP_RDMSR_HOST:
		case HVT_OP_WRMSR_GP:
			snprintf(what, sizeof(what), "msr %#x", op->msr);
			break;
		case HVT_OP_OUT_ECHO: case HVT_OP_IN_ECHO:
		case HVT_OP_OUT_OTHER: case HVT_OP_IN_OTHER:
			snprintf(what, sizeof(what), "port %#x size %u %s",
				 op->port, op->size, op->imm ? "imm" : "dx");
			break;
		case HVT_OP_CR0_TOGGLE: case HVT_OP_CR4_TOGGLE:
		case HVT_OP_CR3_STORE: case HVT_OP_CR3_RELOAD:
			snprintf(what, sizeof(what), "via %s", gpr_name[op->reg]);
			break;
		}
		n++;
		if (kind == OP_END)
			printf("%-8" PRIu64 " %-10s %-4s %-12s %-2u %-18s RBX 0\n", n,
			       "-", "-", "END", 0u,
			       reason_name(exit_reason_of(kind, idx), rn, sizeof(rn)));
		else
			printf("%-8" PRIu64 " %-10" PRIu64 " %-4u %-12s %-2u %-18s %s%s%#" PRIx64
			       " %#" PRIx64 " %#" PRIx64 " %#" PRIx64 " %#" PRIx64 " %#x\n",
			       n, op->iteration, op->index, hvt_plan_op_name(kind), idx,
			       reason_name(exit_reason_of(kind, idx), rn, sizeof(rn)),
			       what, *what ? "; " : "", g[HVT_RAX], g[HVT_RBX],
			       g[HVT_RCX], g[HVT_RDX], op->frame.rflags,
			       op->frame.mxcsr);
		ck.exit_idx++;
	}
}

static void report(struct checker *ck, int *all_ok)
{
	unsigned int c, i;

	printf("1..%d\n", C_N);
	for (c = 0; c < C_N; c++) {
		struct catstat *s = &stats[c];
		int ok = s->failed == 0 && s->checked > 0;

		printf("%s %u - %s (%" PRIu64 " checked, %" PRIu64 " failed)\n",
		       ok ? "ok" : "not ok", c + 1, cat_name[c], s->checked,
		       s->failed);
		if (!s->checked)
			printf("# nothing to check: the run was not found or had no such event\n");
		for (i = 0; i < s->failed && i < MAX_MSGS; i++)
			printf("# %s\n", s->msg[i]);
		if (s->failed > MAX_MSGS)
			printf("# ... and %" PRIu64 " more\n", s->failed - MAX_MSGS);
		if (!ok)
			*all_ok = 0;
	}
	printf("# run %" PRIu64 " on vCPU %u: %" PRIu64 " exits (%" PRIu64
	       " synchronous, %" PRIu64 " asynchronous), %" PRIu64
	       " operations checked\n", ck->run_id, ck->vcpu, ck->exits,
	       ck->sync_exits, ck->async_exits, ck->ops_done);
}

int main(int argc, char **argv)
{
	static struct checker ck;
	struct hvt_reader *rd;
	struct hvt_event ev;
	struct hvt_err err = { "" };
	const char *path;
	uint64_t seed, iterations;
	int id, rc, all_ok = 1;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "--plan")) {
		id = hvt_plan_workload_id(argv[2]);
		if (id < 0 || parse_u64(argv[3], &seed) ||
		    parse_u64(argv[4], &iterations) || !iterations) {
			fprintf(stderr, PROG ": --plan: expected WORKLOAD SEED ITERATIONS (try --help)\n");
			return 2;
		}
		print_plan((unsigned int)id, seed, iterations);
		return 0;
	}
	if (argc != 5) {
		fprintf(stderr, PROG ": expected 4 arguments, TRACE_DIR WORKLOAD SEED ITERATIONS (got %d)\n",
			argc - 1);
		return 2;
	}
	path = argv[1];
	id = hvt_plan_workload_id(argv[2]);
	if (id < 0) {
		fprintf(stderr, PROG ": unknown workload '%s' (try --help)\n", argv[2]);
		return 2;
	}
	if (parse_u64(argv[3], &seed)) {
		fprintf(stderr, PROG ": SEED '%s' is not an unsigned 64-bit number\n",
			argv[3]);
		return 2;
	}
	if (parse_u64(argv[4], &iterations) || iterations == 0) {
		fprintf(stderr, PROG ": ITERATIONS '%s' is not a number from 1\n",
			argv[4]);
		return 2;
	}
	checker_init(&ck, (unsigned int)id, seed, iterations);

	rd = hvt_reader_open(&path, 1, 0, &err);
	if (!rd) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return 2;
	}
	while ((rc = hvt_reader_next(rd, &ev, &err)) == 1)
		checker_event(&ck, &ev, hvt_reader_stream_name(rd, ev.stream));
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		hvt_reader_close(rd);
		return 2;
	}
	hvt_reader_close(rd);
	checker_finish(&ck, path);
	report(&ck, &all_ok);
	return all_ok ? 0 : 1;
}
#endif /* WLCHECK_NO_MAIN */
