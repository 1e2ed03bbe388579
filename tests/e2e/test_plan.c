/*
 * Unit tests of the workload plan generator (kmod/workloads/plan.c), built
 * for userland: determinism, seed sensitivity, the documented exit counts,
 * and the device-model constraints every generated value must respect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "plan.h"

#define ITERS 200

/* Synchronous exits per iteration as docs/workloads.md states them. */
static const struct {
	const char *name;
	unsigned int exits;	/* 0: varies (mix) */
	unsigned int ops;
} documented[] = {
	{ "cpuid", 4, 4 },	{ "msr", 5, 5 },	{ "io", 5, 5 },
	{ "vmcall", 4, 4 },	{ "hlt", 1, 1 },	{ "rdtsc", 2, 2 },
	{ "cr", 7, 4 },		{ "xsetbv", 2, 2 },	{ "exceptions", 3, 3 },
	{ "xmm", 1, 1 },	{ "mix", 0, 8 },	{ "triplefault", 1, 1 },
};
#define NR_DOC (sizeof(documented) / sizeof(documented[0]))

static int op_equal(const struct hvt_op *a, const struct hvt_op *b)
{
	return a->kind == b->kind && a->size == b->size &&
	       a->port == b->port && a->imm == b->imm && a->reg == b->reg &&
	       a->msr == b->msr && a->leaf == b->leaf &&
	       a->subleaf == b->subleaf && a->gpr_runtime == b->gpr_runtime &&
	       a->iteration == b->iteration && a->index == b->index &&
	       !memcmp(&a->frame, &b->frame, sizeof(a->frame));
}

static void test_every_workload_is_documented(void **state)
{
	unsigned int i;

	(void)state;
	assert_int_equal(HVT_WL_COUNT, NR_DOC);
	for (i = 0; i < NR_DOC; i++) {
		int id = hvt_plan_workload_id(documented[i].name);

		assert_true(id >= 0);
		assert_string_equal(hvt_plan_workload_name((unsigned int)id),
				    documented[i].name);
	}
	assert_int_equal(hvt_plan_workload_id("nosuch"), -1);
	assert_int_equal(hvt_plan_workload_id(""), -1);
	assert_int_equal(hvt_plan_workload_id("cpuidx"), -1);
	assert_null(hvt_plan_workload_name(HVT_WL_COUNT));
}

static void test_init_rejects_bad_input(void **state)
{
	struct hvt_plan p;

	(void)state;
	assert_int_equal(hvt_plan_init(&p, HVT_WL_COUNT, 1, 1), -1);
	assert_int_equal(hvt_plan_init(&p, HVT_WL_cpuid, 1, 0), -1);
	assert_int_equal(hvt_plan_init(&p, HVT_WL_cpuid, 1, 1), 0);
}

static void test_same_seed_same_plan(void **state)
{
	unsigned int w;

	(void)state;
	for (w = 0; w < HVT_WL_COUNT; w++) {
		struct hvt_plan a, b;
		struct hvt_op oa, ob;
		unsigned long n = 0;
		int ra, rb;

		/* Interleaved: no state shared between generators. */
		assert_int_equal(hvt_plan_init(&a, w, 0x5eed, ITERS), 0);
		assert_int_equal(hvt_plan_init(&b, w, 0x5eed, ITERS), 0);
		for (;;) {
			memset(&oa, 0xa5, sizeof(oa));
			memset(&ob, 0x5a, sizeof(ob));
			ra = hvt_plan_next(&a, &oa);
			rb = hvt_plan_next(&b, &ob);
			assert_int_equal(ra, rb);
			if (!ra)
				break;
			assert_true(op_equal(&oa, &ob));
			n++;
		}
		assert_true(n >= ITERS);
	}
}

static void test_different_seed_different_plan(void **state)
{
	unsigned int w;

	(void)state;
	for (w = 0; w < HVT_WL_COUNT; w++) {
		struct hvt_plan a, b;
		struct hvt_op oa, ob;
		unsigned long differ = 0, n = 0;

		hvt_plan_init(&a, w, 1, ITERS);
		hvt_plan_init(&b, w, 2, ITERS);
		while (hvt_plan_next(&a, &oa) && hvt_plan_next(&b, &ob)) {
			n++;
			differ += !op_equal(&oa, &ob);
		}
		/* Random GPRs make a collision practically impossible. */
		assert_int_equal(differ, n);
	}
}

static void test_workloads_differ_for_one_seed(void **state)
{
	struct hvt_plan a, b;
	struct hvt_op oa, ob;

	(void)state;
	hvt_plan_init(&a, HVT_WL_cpuid, 7, 1);
	hvt_plan_init(&b, HVT_WL_triplefault, 7, 1);
	hvt_plan_next(&a, &oa);
	hvt_plan_next(&b, &ob);
	assert_int_equal(oa.kind, ob.kind);
	assert_memory_not_equal(oa.frame.gpr, ob.frame.gpr,
				sizeof(oa.frame.gpr));
}

static void test_documented_exit_counts(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < NR_DOC; i++) {
		unsigned int w = (unsigned int)hvt_plan_workload_id(documented[i].name);
		unsigned long exits[ITERS] = { 0 }, ops[ITERS] = { 0 };
		unsigned long fatal = 0, it;
		struct hvt_plan p;
		struct hvt_op op;
		char want[32];

		assert_int_equal(hvt_plan_iteration_exits(w),
				 documented[i].exits);
		assert_int_equal(hvt_plan_iteration_ops(w), documented[i].ops);
		if (documented[i].exits) {
			/* The one-line description states the count too. */
			snprintf(want, sizeof(want), "%u exit",
				 documented[i].exits);
			assert_non_null(strstr(hvt_plan_workload_desc(w), want));
		}
		hvt_plan_init(&p, w, 42 + i, ITERS);
		while (hvt_plan_next(&p, &op)) {
			assert_true(hvt_plan_op_exits(op.kind) >= 1);
			if (op.kind == HVT_OP_FATAL) {
				assert_int_equal(op.iteration, ITERS);
				fatal++;
				continue;
			}
			assert_true(op.iteration < ITERS);
			assert_int_equal(op.index, ops[op.iteration]);
			exits[op.iteration] += hvt_plan_op_exits(op.kind);
			ops[op.iteration]++;
		}
		assert_int_equal(fatal, hvt_plan_ends_with_fatal(w) ? 1 : 0);
		for (it = 0; it < ITERS; it++) {
			assert_int_equal(ops[it], documented[i].ops);
			if (documented[i].exits)
				assert_int_equal(exits[it], documented[i].exits);
			else
				assert_true(exits[it] >= documented[i].ops);
		}
	}
}

static void test_mix_covers_every_kind_but_fatal(void **state)
{
	unsigned long seen[HVT_OP_NKINDS] = { 0 };
	struct hvt_plan p;
	struct hvt_op op;
	unsigned int k;

	(void)state;
	hvt_plan_init(&p, HVT_WL_mix, 3, 500);
	while (hvt_plan_next(&p, &op))
		seen[op.kind]++;
	for (k = 0; k < HVT_OP_NKINDS; k++) {
		if (k == HVT_OP_FATAL)
			assert_int_equal(seen[k], 0);
		else
			assert_true(seen[k] > 0);
	}
}

static int noncanonical(uint64_t a)
{
	/* Not canonical for 48-bit nor for 57-bit linear addresses. */
	int64_t s57 = (int64_t)(a << 7) >> 7;

	return (uint64_t)s57 != a;
}

static int normal_double(uint64_t v)
{
	unsigned int e = (unsigned int)(v >> 52) & 0x7ff;

	return e > 0 && e < 0x7ff;
}

static int normal_float(uint32_t v)
{
	unsigned int e = (v >> 23) & 0xff;

	return e > 0 && e < 0xff;
}

static void check_op_constraints(const struct hvt_op *op)
{
	const struct hvt_guest_frame *f = &op->frame;
	unsigned int i;

	assert_int_equal(f->rflags & ~0xcd5ull, 0x2);
	assert_int_equal(f->mxcsr & 0x1f80, 0x1f80);	/* all masked */
	assert_int_equal(f->mxcsr & ~0xffffu, 0);
	assert_int_equal(f->mxcsr & 0x40, 0);		/* no DAZ */
	assert_true(op->gpr_runtime & (1u << HVT_RSP));
	assert_int_equal(f->gpr[HVT_RSP], 0);

	switch (op->kind) {
	case HVT_OP_CPUID:
		assert_int_equal(f->gpr[HVT_RAX], op->leaf);
		assert_int_equal(f->gpr[HVT_RCX], op->subleaf);
		assert_true(op->leaf <= 0xd || (op->leaf >= 0x80000000 &&
						op->leaf <= 0x80000008));
		break;
	case HVT_OP_WRMSR:
	case HVT_OP_RDMSR:
		assert_int_equal(f->gpr[HVT_RCX], op->msr);
		assert_true(op->msr >= HVT_SCRATCH_MSR_BASE &&
			    op->msr < HVT_SCRATCH_MSR_BASE + 16);
		break;
	case HVT_OP_RDMSR_HOST:
		assert_true(op->msr == 0x1b || op->msr == 0x277 ||
			    op->msr == 0xc0000080);
		break;
	case HVT_OP_WRMSR_GP:
		assert_int_equal(f->gpr[HVT_RCX], op->msr);
		assert_true(op->msr >= HVT_SCRATCH_MSR_BASE + 16 &&
			    op->msr < HVT_BAD_MSR_BASE + HVT_BAD_MSR_SPAN);
		break;
	case HVT_OP_IN_ECHO:
	case HVT_OP_OUT_ECHO:
		assert_true(op->port >= 0xe000 && op->port <= 0xe00f);
		assert_int_equal(op->imm, 0);
		/* fall through */
	case HVT_OP_IN_OTHER:
	case HVT_OP_OUT_OTHER:
		assert_true(op->size == 1 || op->size == 2 || op->size == 4);
		if (op->imm)
			assert_int_equal(op->port, HVT_OTHER_PORT_IMM);
		else
			assert_int_equal(f->gpr[HVT_RDX] & 0xffff, op->port);
		if (op->kind == HVT_OP_IN_OTHER || op->kind == HVT_OP_OUT_OTHER)
			assert_true(op->imm || (op->port >= 0xe010 &&
						op->port <= 0xe01f));
		break;
	case HVT_OP_HC_LOG:
		assert_true(f->gpr[HVT_RCX] >= 1 &&
			    f->gpr[HVT_RCX] <= HVT_LOG_TEXT_LEN);
		assert_true(op->gpr_runtime & (1u << HVT_RBX));
		break;
	case HVT_OP_HC_LOG_BAD:
		assert_true(f->gpr[HVT_RCX] > HVT_LOG_MAX);
		break;
	case HVT_OP_HC_INVALID:
		assert_true(f->gpr[HVT_RAX] >= HVT_HC_INVALID_BASE &&
			    f->gpr[HVT_RAX] < HVT_HC_INVALID_BASE +
					       HVT_HC_INVALID_SPAN);
		break;
	case HVT_OP_CR0_TOGGLE:
	case HVT_OP_CR4_TOGGLE:
		assert_true(op->gpr_runtime & (1u << op->reg));
		/* fall through */
	case HVT_OP_CR3_STORE:
	case HVT_OP_CR3_RELOAD:
		assert_true(op->reg < 16 && op->reg != HVT_RSP);
		break;
	case HVT_OP_GP:
		assert_true(noncanonical(f->gpr[HVT_RSI]));
		break;
	case HVT_OP_XMM_ARITH:
		for (i = 0; i < 20; i++)
			assert_true(normal_double(f->xmm[i]));
		assert_int_equal(f->xmm[18] >> 63, 0);	/* SQRTPD source */
		assert_int_equal(f->xmm[19] >> 63, 0);
		for (i = 20; i < 32; i++) {
			assert_true(normal_float((uint32_t)f->xmm[i]));
			assert_true(normal_float((uint32_t)(f->xmm[i] >> 32)));
		}
		break;
	default:
		break;
	}
}

static void test_values_respect_device_model(void **state)
{
	unsigned int w;

	(void)state;
	for (w = 0; w < HVT_WL_COUNT; w++) {
		struct hvt_plan p;
		struct hvt_op op;

		hvt_plan_init(&p, w, 0xfeedULL * (w + 1), ITERS);
		while (hvt_plan_next(&p, &op))
			check_op_constraints(&op);
	}
}

static void test_huge_iteration_count_streams(void **state)
{
	struct hvt_plan p;
	struct hvt_op op;
	unsigned int i;

	(void)state;
	/* The maximum the control device accepts: nothing is precomputed. */
	assert_int_equal(hvt_plan_init(&p, HVT_WL_mix, 9, 1ULL << 32), 0);
	for (i = 0; i < 100000; i++)
		assert_int_equal(hvt_plan_next(&p, &op), 1);
	assert_int_equal(op.iteration, (100000 - 1) / HVT_MIX_OPS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_workload_is_documented),
		cmocka_unit_test(test_init_rejects_bad_input),
		cmocka_unit_test(test_same_seed_same_plan),
		cmocka_unit_test(test_different_seed_different_plan),
		cmocka_unit_test(test_workloads_differ_for_one_seed),
		cmocka_unit_test(test_documented_exit_counts),
		cmocka_unit_test(test_mix_covers_every_kind_but_fatal),
		cmocka_unit_test(test_values_respect_device_model),
		cmocka_unit_test(test_huge_iteration_count_streams),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
