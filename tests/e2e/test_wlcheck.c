/*
 * Unit tests of hvtrace-wlcheck's checks, without a trace file: a model of
 * a correct hypervisor running the plan's guest (written forward, from the
 * sandbox device model) produces the events a recording would hold, and
 * the checker must accept them; then single faults are injected (a wrong
 * register, a lost exit, a wrong handler answer...) and the checker must
 * flag exactly the property each one breaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define WLCHECK_NO_MAIN
#include "wlcheck.c"

/* ---- the simulated machine ------------------------------------------- */

#define SIM_CR0 0x80050033ull
#define SIM_CR3 0x10c4e000ull
#define SIM_CR4 0x3706f0ull	/* OSXSAVE set */

/* CR4 of the simulated CPU; tests may clear OSXSAVE (bit 18). */
static uint64_t sim_cr4 = SIM_CR4;
/* Non-zero: the CR4 the exits report instead of sim_cr4. */
static uint64_t sim_report_cr4;

static int sim_no_xsave(unsigned int kind)
{
	return (kind == HVT_OP_XSETBV || kind == HVT_OP_XSETBV_GP) &&
	       !(sim_cr4 & CR4_OSXSAVE);
}
#define SIM_XCR0 0x7ull
#define SIM_RSP 0xffffc90000a3fe40ull
#define SIM_LOGPTR 0xffffffffc0a01230ull
#define SIM_TEXT 0xffffffffc0a00000ull

enum fault {
	F_NONE, F_GPR, F_XMM, F_MXCSR, F_RFLAGS, F_DROP_EXIT, F_NO_RESUME,
	F_RDMSR_VALUE, F_RIP_ADVANCE, F_MASK, F_END_STATUS, F_DISCARDED,
	F_ASYNC_CHANGES, F_REASON, F_VTSC, F_ECHO, F_FIXUP, F_QUAL,
	F_OTHER_SEED, F_WHO,
};

struct sim {
	struct checker *ck;
	uint64_t seed, iterations;
	enum fault fault;
	uint64_t fault_at;	/* synchronous exit number to damage */
	uint64_t sync_n;
	uint64_t seq;
	uint64_t exits;
	int async_every;	/* an external interrupt every N exits */
	uint64_t shadow[HVT_NR_SCRATCH_MSRS];
	uint32_t echo[HVT_NR_ECHO_PORTS];
	uint64_t vtsc;
	uint32_t last_reason;
	uint32_t cr0_shadow, cr4_shadow;
};

static void feed(struct sim *s, const struct hvt_event *ev)
{
	checker_event(s->ck, ev, "sim");
}

static uint64_t site_rip(unsigned int kind, const struct hvt_op *op,
			 unsigned int idx)
{
	if (kind == OP_END)
		return SIM_TEXT + 0x10;
	return SIM_TEXT + 0x1000 + kind * 0x1000 + op->reg * 0x80 +
	       op->size * 0x10 + op->imm * 0x8 + (op->kind != kind) * 0x4 +
	       idx * 0x40;
}

static void emit_exit(struct sim *s, struct hvtrace_exit_rec *e)
{
	struct hvt_event ev = { .type = HVT_EV_EXIT };

	e->vcpu = 1;
	e->seq = ++s->seq;
	e->rsp = SIM_RSP;
	e->gpr[HVT_RSP] = SIM_RSP;
	e->cr0 = SIM_CR0;
	e->cr3 = SIM_CR3;
	e->cr4 = sim_report_cr4 ? sim_report_cr4 : sim_cr4;
	/* the run's kthread; F_WHO: another task's name at one exit */
	e->pid = e->tid = 4321;
	snprintf(e->comm, sizeof(e->comm), "%s",
		 s->fault == F_WHO && s->seq == s->fault_at ? "kworker/1:0" : "hvtrace/1");
	s->exits++;
	s->last_reason = e->exit_reason;
	ev.u.exit = *e;
	feed(s, &ev);
}

static void emit_resume(struct sim *s, uint8_t action, uint64_t mask,
			const uint64_t *val)
{
	struct hvt_event ev = { .type = HVT_EV_RESUME };
	struct hvtrace_resume_rec *r = &ev.u.resume;
	unsigned int b;

	r->vcpu = 1;
	r->seq = s->seq;
	r->action = action;
	r->changed = mask;
	for (b = 0; b < HVTRACE_CHG_NBITS; b++)
		if (mask & BIT(b))
			r->values[r->values_len++] = val[b];
	feed(s, &ev);
}

static void maybe_async(struct sim *s)
{
	struct hvtrace_exit_rec e = { 0 };
	uint64_t val[HVTRACE_CHG_NBITS] = { 0 };

	if (!s->async_every || (s->exits + 1) % s->async_every)
		return;
	e.exit_reason = HVTRACE_EXIT_EXTERNAL_INTERRUPT;
	e.rip = SIM_TEXT + 0x777;
	emit_exit(s, &e);
	val[HVT_RAX] = 1;
	emit_resume(s, HVTRACE_ACT_RESUME,
		    s->fault == F_ASYNC_CHANGES ? CHG_RAX : 0, val);
}

/* Fill in what the hardware reports for exit @idx of @op. */
static void hw_exit(unsigned int kind, const struct hvt_op *op,
		    unsigned int idx, struct hvtrace_exit_rec *e)
{
	e->exit_reason = exit_reason_of(kind, idx);
	e->rip = site_rip(kind, op, idx);
	if (sim_no_xsave(kind)) {
		e->exit_reason = HVTRACE_EXIT_EXCEPTION_NMI;
		e->intr_info = INTR_VALID | INTR_TYPE_HW_EXC << 8 | VEC_UD;
		e->rflags |= RFLAGS_RF;
		return;
	}
	switch (kind) {
	case HVT_OP_CPUID: case HVT_OP_WRMSR: case HVT_OP_WRMSR_GP:
	case HVT_OP_RDMSR: case HVT_OP_RDMSR_HOST: case HVT_OP_RDTSC:
	case HVT_OP_INVD:
		e->insn_len = 2;
		break;
	case HVT_OP_HLT:
		e->insn_len = 1;
		break;
	case HVT_OP_RDTSCP: case HVT_OP_XSETBV: case HVT_OP_XSETBV_GP:
	case HVT_OP_HC_MARKER: case HVT_OP_HC_LOG: case HVT_OP_HC_LOG_BAD:
	case HVT_OP_HC_INVALID: case HVT_OP_XMM_ARITH: case OP_END:
		e->insn_len = 3;
		break;
	case HVT_OP_OUT_ECHO: case HVT_OP_OUT_OTHER:
	case HVT_OP_IN_ECHO: case HVT_OP_IN_OTHER:
		e->insn_len = io_insn_len(op);
		e->exit_qual = (op->size - 1) | (uint64_t)op->port << 16 |
			       (op->imm ? 0x40 : 0) |
			       ((kind == HVT_OP_IN_ECHO ||
				 kind == HVT_OP_IN_OTHER) ? 8 : 0);
		break;
	case HVT_OP_CR0_TOGGLE: case HVT_OP_CR4_TOGGLE:
		e->insn_len = mov_cr_len(op->reg);
		e->exit_qual = (kind == HVT_OP_CR0_TOGGLE ? 0 : 4) |
			       op->reg << 8;
		break;
	case HVT_OP_CR3_STORE: case HVT_OP_CR3_RELOAD:
		e->insn_len = mov_cr_len(op->reg);
		e->exit_qual = 3 | (idx == 0 ? 0x10 : 0) | op->reg << 8;
		break;
	case HVT_OP_UD:
		e->intr_info = INTR_VALID | INTR_TYPE_HW_EXC << 8 | VEC_UD;
		break;
	case HVT_OP_BP:
		e->intr_info = INTR_VALID | INTR_TYPE_SW_EXC << 8 | VEC_BP;
		e->insn_len = 1;
		break;
	case HVT_OP_GP:
		e->intr_info = INTR_VALID | INTR_ERR_VALID |
			       INTR_TYPE_HW_EXC << 8 | VEC_GP;
		break;
	case HVT_OP_FATAL:
		e->intr_info = INTR_VALID | INTR_ERR_VALID |
			       INTR_TYPE_HW_EXC << 8 | VEC_GP;
		e->intr_error = HVT_FATAL_VECTOR * 8 + 2;
		e->idt_info = INTR_VALID | INTR_TYPE_SW_INT << 8 |
			      HVT_FATAL_VECTOR;
		break;
	}
}

static int faulty(struct sim *s, enum fault f)
{
	return s->fault == f && s->sync_n == s->fault_at;
}

/* The hypervisor's answer to one exit, per the sandbox device model. */
static void handle(struct sim *s, unsigned int kind, const struct hvt_op *op,
		   unsigned int idx, const struct hvtrace_exit_rec *e,
		   struct hvtrace_exit_rec *next_state)
{
	uint64_t val[HVTRACE_CHG_NBITS] = { 0 }, mask = CHG_RIP;
	uint64_t next_rip = e->rip + e->insn_len;
	unsigned int fix_len = 0, b;

	switch (kind) {
	case HVT_OP_CPUID:
		mask |= CHG_RAX | CHG_RBX | CHG_RCX | CHG_RDX;
		val[HVT_RAX] = op->leaf ^ 0x1111;
		val[HVT_RBX] = op->subleaf * 3;
		val[HVT_RCX] = 0x6c65746e;
		val[HVT_RDX] = op->leaf >> 4;
		break;
	case HVT_OP_WRMSR:
		s->shadow[op->msr - HVT_SCRATCH_MSR_BASE] =
			e->gpr[HVT_RDX] << 32 | (uint32_t)e->gpr[HVT_RAX];
		break;
	case HVT_OP_RDMSR:
		mask |= CHG_RAX | CHG_RDX;
		val[HVT_RAX] = (uint32_t)s->shadow[op->msr - HVT_SCRATCH_MSR_BASE];
		val[HVT_RDX] = s->shadow[op->msr - HVT_SCRATCH_MSR_BASE] >> 32;
		if (faulty(s, F_RDMSR_VALUE))
			val[HVT_RAX] ^= 1;
		break;
	case HVT_OP_RDMSR_HOST:
		mask |= CHG_RAX | CHG_RDX;
		val[HVT_RAX] = op->msr * 7;
		val[HVT_RDX] = 0;
		break;
	case HVT_OP_WRMSR_GP:
		fix_len = 2;
		break;
	case HVT_OP_XSETBV_GP:
		fix_len = 3;
		break;
	case HVT_OP_XSETBV:
		fix_len = sim_no_xsave(kind) ? 3 : 0;
		break;
	case HVT_OP_UD:
		fix_len = 2;
		break;
	case HVT_OP_BP:
		fix_len = 1;
		break;
	case HVT_OP_GP:
		fix_len = 3;
		break;
	case HVT_OP_OUT_ECHO: {
		uint32_t m = op->size == 4 ? ~0u : (1u << 8 * op->size) - 1;

		s->echo[op->port - HVT_ECHO_PORT_BASE] = (uint32_t)e->gpr[HVT_RAX] & m;
		break;
	}
	case HVT_OP_IN_ECHO:
	case HVT_OP_IN_OTHER: {
		uint32_t m = op->size == 4 ? ~0u : (1u << 8 * op->size) - 1;
		uint32_t d = kind == HVT_OP_IN_ECHO ?
			     s->echo[op->port - HVT_ECHO_PORT_BASE] & m : m;

		mask |= CHG_RAX;
		val[HVT_RAX] = op->size == 4 ? d : (e->gpr[HVT_RAX] & ~(uint64_t)m) | d;
		if (faulty(s, F_ECHO))
			val[HVT_RAX] ^= 0x1;
		break;
	}
	case HVT_OP_HC_MARKER: case HVT_OP_HC_LOG: case HVT_OP_XMM_ARITH:
		mask |= CHG_RAX;
		break;
	case HVT_OP_HC_LOG_BAD:
		mask |= CHG_RAX;
		val[HVT_RAX] = (uint64_t)-EINVAL;
		break;
	case HVT_OP_HC_INVALID:
		mask |= CHG_RAX;
		val[HVT_RAX] = (uint64_t)-ENOSYS;
		break;
	case HVT_OP_RDTSC: case HVT_OP_RDTSCP:
		s->vtsc += HVT_VTSC_STEP;
		mask |= CHG_RAX | CHG_RDX;
		val[HVT_RAX] = (uint32_t)s->vtsc;
		val[HVT_RDX] = s->vtsc >> 32;
		if (kind == HVT_OP_RDTSCP)
			mask |= CHG_RCX;
		if (faulty(s, F_VTSC))
			val[HVT_RAX] += 1;
		break;
	case HVT_OP_CR0_TOGGLE: case HVT_OP_CR4_TOGGLE: {
		/* Host-owned bits: the read shadow takes the value written. */
		unsigned int b = kind == HVT_OP_CR0_TOGGLE ? HVTRACE_CHG_CR0_SHADOW :
							     HVTRACE_CHG_CR4_SHADOW;

		mask |= BIT(b);
		val[b] = e->gpr[op->reg];
		break;
	}
	case HVT_OP_CR3_STORE: case HVT_OP_CR3_RELOAD:
		if (idx == 0) {
			mask |= BIT(op->reg);
			val[op->reg] = SIM_CR3;
		}
		break;
	}
	if (fix_len) {
		mask |= CHG_RAX;
		val[HVT_RAX] = kind == HVT_OP_UD || sim_no_xsave(kind) ? VEC_UD :
			       kind == HVT_OP_BP ? VEC_BP : VEC_GP;
		next_rip = e->rip + fix_len + HVT_FIXUP_GAP;
		if (faulty(s, F_FIXUP))
			next_rip = e->rip + fix_len;
	}
	val[HVTRACE_CHG_RIP] = next_rip;
	if (faulty(s, F_RIP_ADVANCE))
		val[HVTRACE_CHG_RIP] += 1;
	if (faulty(s, F_MASK))
		mask |= CHG_RBX;
	if (faulty(s, F_NO_RESUME))
		return;
	emit_resume(s, HVTRACE_ACT_RESUME, mask, val);

	*next_state = *e;
	for (b = 0; b < 16; b++)
		if (mask & BIT(b))
			next_state->gpr[b] = val[b];
	next_state->rip = val[HVTRACE_CHG_RIP];
}

static void sim_op(struct sim *s, const struct hvt_op *plan_op)
{
	struct hvt_op op = *plan_op;
	struct hvtrace_exit_rec e = { 0 }, next = { 0 };
	unsigned int kind = op.kind, idx, n = hvt_plan_op_exits(kind);
	uint64_t cr_orig = 0;

	memcpy(e.gpr, op.frame.gpr, sizeof(e.gpr));
	memcpy(e.xmm, op.frame.xmm, sizeof(e.xmm));
	e.mxcsr = op.frame.mxcsr;
	e.rflags = op.frame.rflags;
	/* What the guest computes at run time. */
	switch (kind) {
	case HVT_OP_CR0_TOGGLE:
		cr_orig = SIM_CR0;
		e.gpr[op.reg] = cr_orig ^ HVT_CR0_TOGGLE_BIT;
		break;
	case HVT_OP_CR4_TOGGLE:
		cr_orig = SIM_CR4;
		e.gpr[op.reg] = cr_orig ^ HVT_CR4_TOGGLE_BIT;
		break;
	case HVT_OP_XSETBV: case HVT_OP_XSETBV_GP:
		e.gpr[HVT_RAX] = sim_no_xsave(kind) ? 0 : SIM_XCR0;
		e.gpr[HVT_RDX] = 0;
		e.gpr[HVT_RCX] = kind == HVT_OP_XSETBV ? 0 : 1;
		break;
	case HVT_OP_HC_LOG: case HVT_OP_HC_LOG_BAD:
		e.gpr[HVT_RBX] = SIM_LOGPTR;
		break;
	case HVT_OP_XMM_ARITH:
		sse_model(e.xmm, &e.mxcsr);
		break;
	}
	if (kind == HVT_OP_UD || kind == HVT_OP_GP || kind == HVT_OP_FATAL)
		e.rflags |= RFLAGS_RF;

	for (idx = 0; idx < n; idx++) {
		struct hvtrace_exit_rec x = e;

		if (idx == 1 && (kind == HVT_OP_CR0_TOGGLE ||
				 kind == HVT_OP_CR4_TOGGLE))
			x.gpr[op.reg] = cr_orig;
		maybe_async(s);
		hw_exit(kind, &op, idx, &x);
		if (idx == 1)
			x.rip = e.rip;	/* where the first resume left it */
		if (idx == 1 && (kind == HVT_OP_CR0_TOGGLE ||
				 kind == HVT_OP_CR4_TOGGLE))
			x.rip += 4;
		s->sync_n++;
		if (faulty(s, F_GPR))
			x.gpr[8] ^= 0x100;
		if (faulty(s, F_XMM))
			x.xmm[7] ^= 1;
		if (faulty(s, F_MXCSR))
			x.mxcsr ^= 0x2000;
		if (faulty(s, F_RFLAGS))
			x.rflags ^= 0x1;
		if (faulty(s, F_QUAL))
			x.exit_qual ^= 0x10000;
		if (faulty(s, F_REASON))
			x.exit_reason = HVTRACE_EXIT_HLT == x.exit_reason ?
					HVTRACE_EXIT_CPUID : HVTRACE_EXIT_HLT;
		if (faulty(s, F_DROP_EXIT)) {
			/* the tracer never recorded it: seq moves on */
			s->seq++;
			e.rip = x.rip + x.insn_len;
			continue;
		}
		emit_exit(s, &x);
		if (kind == HVT_OP_FATAL) {
			uint64_t v[HVTRACE_CHG_NBITS] = { 0 };

			emit_resume(s, HVTRACE_ACT_STOP, 0, v);
			return;
		}
		handle(s, kind, &op, idx, &x, &next);
		e = next;
	}
}

static void session(struct sim *s, uint8_t phase, int32_t status)
{
	struct hvt_event ev = { .type = HVT_EV_SESSION };
	struct hvtrace_session_rec *r = &ev.u.session;
	const char *name = hvt_plan_workload_name(s->ck->wl);

	r->phase = phase;
	r->schema_version = HVTRACE_SCHEMA_VERSION;
	r->run_id = 77;
	r->vcpu = 1;
	memcpy(r->workload, name, strlen(name));
	r->seed = s->seed;
	r->iterations = s->iterations;
	r->exits = s->exits;
	r->status = status;
	r->end_reason = s->last_reason;
	feed(s, &ev);
}

/* Simulate one run of @wl and check it; returns the checker. */
static struct checker *simulate(unsigned int wl, uint64_t seed, uint64_t iters,
				enum fault f, uint64_t fault_at, int async_every)
{
	static struct checker ck;
	struct sim s = { .ck = &ck, .fault = f, .fault_at = fault_at,
			 .async_every = async_every, .seed = seed,
			 .iterations = iters };
	struct hvt_plan plan;
	struct hvt_op op;
	unsigned int i;
	int32_t status = hvt_plan_ends_with_fatal(wl) ? HVT_STATUS_EFAULT : 0;

	/* F_OTHER_SEED: the checker looks for the run of the next seed. */
	checker_init(&ck, wl, seed + (f == F_OTHER_SEED), iters);
	for (i = 0; i < HVT_NR_ECHO_PORTS; i++)
		s.echo[i] = 0xffffffffu;
	session(&s, HVTRACE_PHASE_START, 0);
	hvt_plan_init(&plan, wl, seed, iters);
	while (hvt_plan_next(&plan, &op))
		sim_op(&s, &op);
	if (!hvt_plan_ends_with_fatal(wl)) {
		struct hvtrace_exit_rec e = { 0 };
		uint64_t v[HVTRACE_CHG_NBITS] = { 0 };

		e.exit_reason = HVTRACE_EXIT_VMCALL;
		e.insn_len = 3;
		e.rip = SIM_TEXT + 0x10;
		e.gpr[HVT_RAX] = HVT_HC_END;
		emit_exit(&s, &e);
		emit_resume(&s, HVTRACE_ACT_STOP, 0, v);
	}
	if (f == F_DISCARDED) {
		struct hvt_event ev = { .type = HVT_EV_DISCARDED };

		ev.u.discarded.count = 12;
		feed(&s, &ev);
	}
	session(&s, HVTRACE_PHASE_END,
		f == F_END_STATUS ? status - 1 : status);
	checker_finish(&ck, "sim");
	return &ck;
}

static void print_failures(void)
{
	unsigned int c, i;

	for (c = 0; c < C_N; c++)
		for (i = 0; i < stats[c].failed && i < MAX_MSGS; i++)
			print_message("# %s: %s\n", cat_name[c], stats[c].msg[i]);
}

/* Every property checked at least once and none failed. */
static void assert_all_pass(void)
{
	unsigned int c;

	for (c = 0; c < C_N; c++) {
		if (stats[c].failed)
			print_failures();
		assert_int_equal(stats[c].failed, 0);
		assert_true(stats[c].checked > 0);
	}
}

/* Exactly the properties in @cats failed. */
static void assert_fails_only(uint32_t cats)
{
	unsigned int c;

	for (c = 0; c < C_N; c++) {
		if (cats & (1u << c)) {
			assert_true(stats[c].failed > 0);
		} else {
			if (stats[c].failed)
				print_failures();
			assert_int_equal(stats[c].failed, 0);
		}
	}
}

#define CAT(c) (1u << (c))

static void test_correct_runs_pass(void **state)
{
	unsigned int wl;

	(void)state;
	for (wl = 0; wl < HVT_WL_COUNT; wl++) {
		struct checker *ck = simulate(wl, 1000 + wl, 40, F_NONE, 0, 0);

		assert_true(ck->finished);
		assert_all_pass();
	}
}

static void test_async_exits_are_skipped(void **state)
{
	struct checker *ck;

	(void)state;
	ck = simulate(HVT_WL_mix, 5, 60, F_NONE, 0, 7);
	assert_true(ck->async_exits > 10);
	assert_all_pass();
}

static void test_async_exit_with_changes_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_cpuid, 5, 20, F_ASYNC_CHANGES, 0, 5);
	assert_fails_only(CAT(C_CHANGES));
}

static void test_wrong_gpr_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_mix, 9, 30, F_GPR, 77, 0);
	assert_fails_only(CAT(C_GPR));
}

static void test_wrong_xmm_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_xmm, 9, 30, F_XMM, 12, 0);
	assert_fails_only(CAT(C_XMM));
}

static void test_wrong_mxcsr_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_io, 9, 30, F_MXCSR, 3, 0);
	assert_fails_only(CAT(C_XMM));
}

static void test_wrong_rflags_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_msr, 9, 30, F_RFLAGS, 8, 0);
	assert_fails_only(CAT(C_RFLAGS));
}

static void test_lost_exit_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_cpuid, 2, 30, F_DROP_EXIT, 10, 0);
	/* seq gap; the run has one exit less than the plan, so every later
	 * exit is one op early: reasons still match for cpuid but GPRs do
	 * not, the plan is one exit short, and the end count differs. */
	assert_true(stats[C_SEQ].failed > 0);
	assert_true(stats[C_GPR].failed > 0);
	assert_true(stats[C_REASON].failed > 0);
}

static void test_missing_resume_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_hlt, 2, 30, F_NO_RESUME, 4, 0);
	assert_true(stats[C_RESUME].failed > 0);
}

static void test_wrong_rdmsr_value_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_msr, 4, 30, F_RDMSR_VALUE, 7, 0);
	assert_fails_only(CAT(C_CHANGES));
}

static void test_wrong_echo_value_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_io, 4, 30, F_ECHO, 2, 0);
	assert_fails_only(CAT(C_CHANGES));
}

static void test_wrong_vtsc_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_rdtsc, 4, 30, F_VTSC, 5, 0);
	assert_fails_only(CAT(C_CHANGES));
}

static void test_wrong_rip_advance_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_vmcall, 4, 30, F_RIP_ADVANCE, 5, 0);
	assert_fails_only(CAT(C_RIP));
}

static void test_skip_instead_of_fixup_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_exceptions, 4, 30, F_FIXUP, 5, 0);
	assert_fails_only(CAT(C_RIP));
}

static void test_extra_changed_register_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_cr, 4, 30, F_MASK, 9, 0);
	assert_true(stats[C_CHANGES].failed > 0);
}

static void test_wrong_reason_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_cpuid, 4, 30, F_REASON, 9, 0);
	assert_true(stats[C_REASON].failed > 0);
}

static void test_wrong_qualification_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_io, 4, 30, F_QUAL, 2, 0);
	assert_fails_only(CAT(C_INFO));
}

static void test_wrong_end_status_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_triplefault, 4, 5, F_END_STATUS, 0, 0);
	assert_fails_only(CAT(C_END));
}

static void test_discarded_events_fail(void **state)
{
	(void)state;
	simulate(HVT_WL_hlt, 4, 5, F_DISCARDED, 0, 0);
	assert_fails_only(CAT(C_DISCARD));
}

static void test_xsetbv_without_osxsave_is_ud(void **state)
{
	(void)state;
	sim_cr4 = SIM_CR4 & ~CR4_OSXSAVE;
	simulate(HVT_WL_xsetbv, 3, 20, F_NONE, 0, 0);
	sim_cr4 = SIM_CR4;
	assert_all_pass();
}

static void test_xsetbv_ud_with_osxsave_fails(void **state)
{
	(void)state;
	/* The CPU raised #UD but the exits' CR4 says OSXSAVE is set. */
	sim_cr4 = SIM_CR4 & ~CR4_OSXSAVE;
	sim_report_cr4 = SIM_CR4;
	simulate(HVT_WL_xsetbv, 3, 20, F_NONE, 0, 0);
	sim_cr4 = SIM_CR4;
	sim_report_cr4 = 0;
	assert_true(stats[C_REASON].failed > 0);
}

static void test_wrong_who_fails(void **state)
{
	(void)state;
	simulate(HVT_WL_cpuid, 9, 30, F_WHO, 12, 0);
	assert_fails_only(CAT(C_WHO));
}

static void test_other_seed_fails(void **state)
{
	(void)state;
	/* The run recorded seed 4; the checker asked for seed 5. */
	simulate(HVT_WL_cpuid, 4, 5, F_OTHER_SEED, 0, 0);
	assert_true(stats[C_START].failed > 0);
	assert_int_equal(stats[C_GPR].checked, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_correct_runs_pass),
		cmocka_unit_test(test_async_exits_are_skipped),
		cmocka_unit_test(test_async_exit_with_changes_fails),
		cmocka_unit_test(test_wrong_gpr_fails),
		cmocka_unit_test(test_wrong_xmm_fails),
		cmocka_unit_test(test_wrong_mxcsr_fails),
		cmocka_unit_test(test_wrong_rflags_fails),
		cmocka_unit_test(test_lost_exit_fails),
		cmocka_unit_test(test_missing_resume_fails),
		cmocka_unit_test(test_wrong_rdmsr_value_fails),
		cmocka_unit_test(test_wrong_echo_value_fails),
		cmocka_unit_test(test_wrong_vtsc_fails),
		cmocka_unit_test(test_wrong_rip_advance_fails),
		cmocka_unit_test(test_skip_instead_of_fixup_fails),
		cmocka_unit_test(test_extra_changed_register_fails),
		cmocka_unit_test(test_wrong_reason_fails),
		cmocka_unit_test(test_wrong_qualification_fails),
		cmocka_unit_test(test_wrong_end_status_fails),
		cmocka_unit_test(test_discarded_events_fail),
		cmocka_unit_test(test_xsetbv_without_osxsave_is_ud),
		cmocka_unit_test(test_xsetbv_ud_with_osxsave_fails),
		cmocka_unit_test(test_other_seed_fails),
		cmocka_unit_test(test_wrong_who_fails),
	};

	return cmocka_run_group_tests_name("wlcheck", tests, NULL, NULL);
}
