// SPDX-License-Identifier: GPL-2.0
/* Replay engine: state reconstruction, every chain violation, decoders. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "exit_reasons.h"
#include "engine/replay.h"

struct seen {
	int n;
	struct hvt_violation v[16];
};

static void on_viol(void *ud, const struct hvt_violation *v)
{
	struct seen *s = ud;

	if (s->n < 16)
		s->v[s->n] = *v;
	s->n++;
}

static struct hvt_event ev;

/* A CPUID exit at rip 0x1000 + seq (insn_len 2) on vcpu. */
static const struct hvt_event *exit_ev(uint32_t vcpu, uint64_t seq)
{
	memset(&ev, 0, sizeof(ev));
	ev.type = HVT_EV_EXIT;
	ev.u.exit.vcpu = vcpu;
	ev.u.exit.seq = seq;
	ev.u.exit.exit_reason = HVTRACE_EXIT_CPUID;
	ev.u.exit.insn_len = 2;
	ev.u.exit.rip = 0x1000 + seq;
	ev.u.exit.rsp = ev.u.exit.gpr[4] = 0x8000;
	ev.u.exit.gpr[0] = 7;
	ev.u.exit.mxcsr = 0x1f80;
	ev.u.exit.tsc = 100 * seq;
	return &ev;
}

/* Its proper resume: rax = 0x11, rip advanced. */
static const struct hvt_event *resume_ev(uint32_t vcpu, uint64_t seq)
{
	memset(&ev, 0, sizeof(ev));
	ev.type = HVT_EV_RESUME;
	ev.u.resume.vcpu = vcpu;
	ev.u.resume.seq = seq;
	ev.u.resume.changed = (1ull << 0) | (1ull << HVTRACE_CHG_RIP);
	ev.u.resume.values_len = 2;
	ev.u.resume.values[0] = 0x11;
	ev.u.resume.values[1] = 0x1000 + seq + 2;
	ev.u.resume.tsc = 100 * seq + 40;
	return &ev;
}

static struct hvt_replay *new_rp(struct seen *s)
{
	struct hvt_replay_hooks h = { .ud = s, .violation = on_viol };

	memset(s, 0, sizeof(*s));
	return hvt_replay_new(&h);
}

static void pair(struct hvt_replay *rp, uint32_t vcpu, uint64_t seq)
{
	assert_int_equal(hvt_replay_feed(rp, exit_ev(vcpu, seq)), 0);
	assert_int_equal(hvt_replay_feed(rp, resume_ev(vcpu, seq)), 0);
}

static void expect_one(struct seen *s, enum hvt_viol_kind k, uint64_t seq)
{
	assert_int_equal(s->n, 1);
	assert_int_equal(s->v[0].kind, k);
	assert_int_equal(s->v[0].seq, seq);
}

static void test_clean_chain_has_no_violation(void **st)
{
	struct seen s;
	struct hvt_replay *rp = new_rp(&s);

	(void)st;
	for (uint64_t q = 1; q <= 50; q++) {
		pair(rp, 0, q);
		pair(rp, 3, q);
	}
	hvt_replay_finish(rp);
	assert_int_equal(s.n, 0);
	assert_int_equal(hvt_replay_vcpu_count(rp), 2);
	assert_int_equal(hvt_replay_find(rp, 3)->exits, 50);
	assert_int_equal(hvt_replay_find(rp, 3)->latency_total, 50 * 40);
	assert_false(hvt_replay_incomplete(rp));
	hvt_replay_free(rp);
}

static void test_resumed_state_is_exit_plus_changes(void **st)
{
	struct seen s;
	struct hvt_replay *rp = new_rp(&s);
	const struct hvt_replay_vcpu *vc;
	struct hvt_event *e;

	(void)st;
	hvt_replay_feed(rp, exit_ev(0, 1));
	e = (struct hvt_event *)resume_ev(0, 1);
	/* rbx, rip, xmm3 high half, mxcsr: ascending bit order */
	e->u.resume.changed = (1ull << 3) | (1ull << HVTRACE_CHG_RIP) |
			      (1ull << HVTRACE_CHG_XMM_HI(3)) | (1ull << HVTRACE_CHG_MXCSR);
	e->u.resume.values_len = 4;
	e->u.resume.values[0] = 0xbb;
	e->u.resume.values[1] = 0x1003;
	e->u.resume.values[2] = 0xabcdef;
	e->u.resume.values[3] = 0x7f80;
	hvt_replay_feed(rp, e);
	vc = hvt_replay_find(rp, 0);
	assert_true(vc->resumed);
	assert_int_equal(vc->state.gpr[3], 0xbb);
	assert_int_equal(vc->state.gpr[0], 7);		/* unchanged */
	assert_int_equal(vc->state.rip, 0x1003);
	assert_int_equal(vc->state.xmm[7], 0xabcdef);
	assert_int_equal(vc->state.xmm[6], 0);
	assert_int_equal(vc->state.mxcsr, 0x7f80);
	assert_int_equal(s.n, 0);
	hvt_replay_free(rp);
}

static void test_gap_reported_at_exit_after_it(void **st)
{
	struct seen s;
	struct hvt_replay *rp = new_rp(&s);

	(void)st;
	pair(rp, 0, 1);
	pair(rp, 0, 2);
	pair(rp, 0, 6);
	expect_one(&s, HVT_VIOL_GAP, 6);
	assert_int_equal(hvt_replay_find(rp, 0)->missing, 3);
	assert_true(hvt_replay_incomplete(rp));
	hvt_replay_free(rp);
}

static void test_seq_going_back(void **st)
{
	struct seen s;
	struct hvt_replay *rp = new_rp(&s);

	(void)st;
	pair(rp, 0, 5);
	pair(rp, 0, 6);
	pair(rp, 0, 4);
	expect_one(&s, HVT_VIOL_SEQ_ORDER, 4);
	hvt_replay_free(rp);
}

static void test_missing_resume_next_exit_and_end(void **st)
{
	struct seen s;
	struct hvt_replay *rp = new_rp(&s);

	(void)st;
	hvt_replay_feed(rp, exit_ev(0, 1));
	pair(rp, 0, 2);
	expect_one(&s, HVT_VIOL_NO_RESUME, 1);
	hvt_replay_feed(rp, exit_ev(0, 3));
	hvt_replay_finish(rp);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[1].kind, HVT_VIOL_NO_RESUME);
	assert_int_equal(s.v[1].seq, 3);
	hvt_replay_free(rp);
}

static void test_duplicate_and_orphan_resumes(void **st)
{
	struct seen s;
	struct hvt_replay *rp = new_rp(&s);

	(void)st;
	hvt_replay_feed(rp, resume_ev(0, 9));		/* before any exit */
	expect_one(&s, HVT_VIOL_ORPHAN_RESUME, 9);
	pair(rp, 0, 1);
	hvt_replay_feed(rp, resume_ev(0, 1));		/* again */
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[1].kind, HVT_VIOL_DUP_RESUME);
	hvt_replay_feed(rp, resume_ev(0, 4));		/* nothing waiting */
	assert_int_equal(s.v[2].kind, HVT_VIOL_ORPHAN_RESUME);
	hvt_replay_free(rp);
}

static void test_resume_with_other_seq(void **st)
{
	struct seen s;
	struct hvt_replay *rp = new_rp(&s);
	struct hvt_event *e;

	(void)st;
	hvt_replay_feed(rp, exit_ev(0, 1));
	e = (struct hvt_event *)resume_ev(0, 8);
	e->u.resume.values[1] = 0x1003;		/* the right RIP for exit 1 */
	hvt_replay_feed(rp, e);
	expect_one(&s, HVT_VIOL_RESUME_SEQ, 1);
	hvt_replay_finish(rp);
	assert_int_equal(s.n, 1);	/* the exit counts as resumed */
	hvt_replay_free(rp);
}

static void test_values_length_and_unknown_bits(void **st)
{
	struct seen s;
	struct hvt_replay *rp = new_rp(&s);
	struct hvt_event *e;

	(void)st;
	hvt_replay_feed(rp, exit_ev(0, 1));
	e = (struct hvt_event *)resume_ev(0, 1);
	e->u.resume.values_len = 3;
	e->u.resume.values[2] = 0xbad;
	hvt_replay_feed(rp, e);
	expect_one(&s, HVT_VIOL_VALUES_LEN, 1);
	hvt_replay_feed(rp, exit_ev(0, 2));
	e = (struct hvt_event *)resume_ev(0, 2);
	e->u.resume.changed |= 1ull << 60;
	hvt_replay_feed(rp, e);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[1].kind, HVT_VIOL_UNKNOWN_BITS);
	hvt_replay_free(rp);
}

static void test_rip_must_skip_completed_instruction(void **st)
{
	struct seen s;
	struct hvt_replay *rp = new_rp(&s);
	struct hvt_event *e;

	(void)st;
	hvt_replay_feed(rp, exit_ev(0, 1));
	e = (struct hvt_event *)resume_ev(0, 1);
	e->u.resume.values[1] = 0x1001;		/* = exit rip */
	hvt_replay_feed(rp, e);
	expect_one(&s, HVT_VIOL_RIP_SKIP, 1);
	hvt_replay_feed(rp, exit_ev(0, 2));
	e = (struct hvt_event *)resume_ev(0, 2);
	e->u.resume.changed = 1;		/* rax only, no rip */
	e->u.resume.values_len = 1;
	hvt_replay_feed(rp, e);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[1].kind, HVT_VIOL_RIP_SKIP);
	/* a fault delivered at a fixup (vector 13 in rax) is no violation */
	hvt_replay_feed(rp, exit_ev(0, 3));
	e = (struct hvt_event *)resume_ev(0, 3);
	e->u.resume.values[0] = 13;
	e->u.resume.values[1] = 0x1000 + 3 + 2 + 1;
	hvt_replay_feed(rp, e);
	assert_int_equal(s.n, 2);
	assert_int_equal(hvt_replay_fault_fixups(rp), 1);
	/* the same RIP without a vector in rax is */
	hvt_replay_feed(rp, exit_ev(0, 4));
	e = (struct hvt_event *)resume_ev(0, 4);
	e->u.resume.values[0] = 0x1234;
	e->u.resume.values[1] = 0x1000 + 4 + 2 + 1;
	hvt_replay_feed(rp, e);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.v[2].kind, HVT_VIOL_RIP_SKIP);
	assert_int_equal(s.v[2].seq, 4);
	/* an exception exit does not skip: no rip needed */
	e = (struct hvt_event *)exit_ev(0, 5);
	e->u.exit.exit_reason = HVTRACE_EXIT_EXCEPTION_NMI;
	hvt_replay_feed(rp, e);
	e = (struct hvt_event *)resume_ev(0, 5);
	e->u.resume.changed = 0;
	e->u.resume.values_len = 0;
	e->u.resume.action = HVTRACE_ACT_INJECT;
	e->u.resume.inject_info = 0x80000306;
	hvt_replay_feed(rp, e);
	assert_int_equal(s.n, 3);
	hvt_replay_free(rp);
}

/* A session record of trace 0 naming its backend. */
static const struct hvt_event *session_ev(unsigned int backend)
{
	memset(&ev, 0, sizeof(ev));
	ev.type = HVT_EV_SESSION;
	ev.u.session.schema_version = 3;
	ev.u.session.backend = (uint8_t)backend;
	return &ev;
}

/*
 * An exit at seq and its resume under the rules in force: the exit is
 * edited by mk_exit, the resume has `n` changed registers (bits, values).
 */
static void kvm_pair(struct hvt_replay *rp, uint64_t seq, uint32_t reason, uint64_t qual,
		     uint64_t rcx, uint64_t rflags, uint64_t cr0, unsigned int n,
		     const unsigned int *bits, const uint64_t *vals)
{
	struct hvt_event *e = (struct hvt_event *)exit_ev(0, seq);

	e->u.exit.exit_reason = reason;
	e->u.exit.exit_qual = qual;
	e->u.exit.gpr[1] = rcx;
	e->u.exit.rflags = rflags;
	e->u.exit.cr0 = cr0;
	assert_int_equal(hvt_replay_feed(rp, e), 0);
	e = (struct hvt_event *)resume_ev(0, seq);
	e->u.resume.changed = 0;
	e->u.resume.values_len = (uint8_t)n;
	for (unsigned int i = 0; i < n; i++) {
		e->u.resume.changed |= 1ull << bits[i];
		e->u.resume.values[i] = vals[i];
	}
	assert_int_equal(hvt_replay_feed(rp, e), 0);
}

#define REP_INS 0x5110039ull	/* rep insb from port 0x511, dx */
#define PE_PG 0x80000011ull

/*
 * KVM's rules (the three rip-skip reports of a real Linux boot under the
 * sandbox's rules, and what they must still catch).
 */
static void test_kvm_rules(void **st)
{
	struct seen s;
	struct hvt_replay *rp;
	unsigned int rcx_rdi_rf[] = { 1, 7, HVTRACE_CHG_RFLAGS };
	unsigned int rcx_only[] = { 1 };
	unsigned int smm[] = { HVTRACE_CHG_RIP, HVTRACE_CHG_RFLAGS, HVTRACE_CHG_CR0 };
	unsigned int rip_only[] = { HVTRACE_CHG_RIP };
	unsigned int rax_only[] = { 0 };
	const uint64_t restart[] = { 0, 0x6f4c, 0x10046 };
	const uint64_t rcx_same[] = { 4 };
	const uint64_t smm_vals[] = { 0x8000, 0x2, 0x30 };
	const uint64_t elsewhere[] = { 0x1100 };
	const uint64_t rax[] = { 0xd };
	int pass;

	(void)st;
	/* the same events: pass 0 KVM by the session record, 1 by --rules */
	for (pass = 0; pass < 3; pass++) {
		rp = new_rp(&s);
		if (pass == 0)
			assert_int_equal(hvt_replay_feed(rp, session_ev(HVTRACE_BACKEND_KVM)), 0);
		else if (pass == 1)
			hvt_replay_set_rules(rp, HVT_RULES_KVM);
		/* pass 2: sandbox rules (no session record) */
		assert_int_equal(hvt_replay_rules_of(rp, 0),
				 pass == 2 ? HVT_RULES_SANDBOX : HVT_RULES_KVM);
		/* REP INS restarted: RCX 4 -> 0, RIP stays, RF set */
		kvm_pair(rp, 1, HVTRACE_EXIT_IO_INSTRUCTION, REP_INS, 4, 0x46, PE_PG, 3,
			 rcx_rdi_rf, restart);
		/* SMI at an OUT 0xb2: RIP 0x8000, RFLAGS 2, CR0.PE clear */
		kvm_pair(rp, 2, HVTRACE_EXIT_IO_INSTRUCTION, 0xb20000, 0, 0x46, PE_PG, 3, smm,
			 smm_vals);
		/* HLT handed to the VMM, which set RIP elsewhere */
		kvm_pair(rp, 3, HVTRACE_EXIT_HLT, 0, 0, 0x2, 0x10, 1, rip_only, elsewhere);
		if (pass < 2) {
			assert_int_equal(s.n, 0);
			assert_int_equal(hvt_replay_string_restarts(rp), 1);
			assert_int_equal(hvt_replay_vcpu_resets(rp), 1);
			assert_int_equal(hvt_replay_vmm_rip_writes(rp), 1);
		} else {
			assert_int_equal(s.n, 3);
			assert_int_equal(s.v[0].kind, HVT_VIOL_RIP_SKIP);
			assert_int_equal(s.v[2].seq, 3);
		}
		s.n = 0;
		/* still violations under KVM's rules: */
		/* REP INS at the same RIP with RCX unchanged (no progress) */
		kvm_pair(rp, 4, HVTRACE_EXIT_IO_INSTRUCTION, REP_INS, 4, 0x46, PE_PG, 1,
			 rcx_only, rcx_same);
		/* CPUID not advanced (KVM completes CPUID in the kernel) */
		kvm_pair(rp, 5, HVTRACE_EXIT_CPUID, 0, 0, 0x46, PE_PG, 1, rax_only, rax);
		/* CPUID resumed elsewhere: no VMM sees a CPUID exit */
		kvm_pair(rp, 6, HVTRACE_EXIT_CPUID, 0, 0, 0x46, PE_PG, 1, rip_only, elsewhere);
		/* a plain IN not advanced: not a string instruction */
		kvm_pair(rp, 7, HVTRACE_EXIT_IO_INSTRUCTION, 0x710008, 4, 0x46, PE_PG, 1,
			 rcx_only, restart);
		assert_int_equal(s.n, 4);
		for (int i = 0; i < 4; i++) {
			assert_int_equal(s.v[i].kind, HVT_VIOL_RIP_SKIP);
			assert_int_equal(s.v[i].seq, 4 + i);
		}
		hvt_replay_free(rp);
	}
	/* host rules: no sandbox fault fixups */
	rp = new_rp(&s);
	assert_int_equal(hvt_replay_feed(rp, session_ev(HVTRACE_BACKEND_HOST)), 0);
	assert_int_equal(hvt_replay_rules_of(rp, 0), HVT_RULES_HOST);
	{
		struct hvt_event *e;

		hvt_replay_feed(rp, exit_ev(0, 1));
		e = (struct hvt_event *)resume_ev(0, 1);
		e->u.resume.values[0] = 13;
		e->u.resume.values[1] = 0x1000 + 1 + 2 + 1;
		hvt_replay_feed(rp, e);
	}
	expect_one(&s, HVT_VIOL_RIP_SKIP, 1);
	assert_int_equal(hvt_replay_fault_fixups(rp), 0);
	hvt_replay_free(rp);
}

/* Two VMs' vCPU 0 interleaved on one trace: two chains, not one. */
static void test_vcpus_per_vm(void **st)
{
	struct seen s;
	struct hvt_replay *rp = new_rp(&s);
	struct hvt_event *e;

	(void)st;
	for (uint32_t vm = 1; vm <= 2; vm++) {
		e = (struct hvt_event *)exit_ev(0, 1);
		e->u.exit.vm = vm;
		assert_int_equal(hvt_replay_feed(rp, e), 0);
	}
	for (uint32_t vm = 1; vm <= 2; vm++) {
		e = (struct hvt_event *)resume_ev(0, 1);
		e->u.resume.vm = vm;
		assert_int_equal(hvt_replay_feed(rp, e), 0);
	}
	e = (struct hvt_event *)exit_ev(0, 3);	/* vm 2 jumps from 1 to 3 */
	e->u.exit.vm = 2;
	hvt_replay_feed(rp, e);
	hvt_replay_finish(rp);
	assert_int_equal(hvt_replay_vcpu_count(rp), 2);
	assert_int_equal(hvt_replay_vcpu_at(rp, 0)->vm, 1);
	assert_int_equal(hvt_replay_vcpu_at(rp, 1)->vm, 2);
	assert_int_equal(s.n, 2);		/* the gap and the last exit's resume */
	assert_int_equal(s.v[0].kind, HVT_VIOL_GAP);
	assert_int_equal(s.v[0].vm, 2);
	assert_int_equal(s.v[1].kind, HVT_VIOL_NO_RESUME);
	assert_int_equal(s.v[1].vm, 2);
	hvt_replay_free(rp);
}

static void test_rsp_action_and_discarded(void **st)
{
	struct seen s;
	struct hvt_replay *rp = new_rp(&s);
	struct hvt_event *e;

	(void)st;
	e = (struct hvt_event *)exit_ev(0, 1);
	e->u.exit.gpr[4] = 0x9000;
	hvt_replay_feed(rp, e);
	expect_one(&s, HVT_VIOL_RSP, 1);
	e = (struct hvt_event *)resume_ev(0, 1);
	e->u.resume.action = HVTRACE_ACT_INJECT;	/* no valid event */
	hvt_replay_feed(rp, e);
	assert_int_equal(s.v[1].kind, HVT_VIOL_ACTION);
	memset(&ev, 0, sizeof(ev));
	ev.type = HVT_EV_DISCARDED;
	ev.u.discarded.count = 12;
	hvt_replay_feed(rp, &ev);
	assert_int_equal(s.v[2].kind, HVT_VIOL_DISCARDED);
	assert_int_equal(hvt_replay_discarded(rp), 12);
	assert_true(hvt_replay_incomplete(rp));
	hvt_replay_free(rp);
}

static void test_rflags_decoding(void **st)
{
	char b[128];

	(void)st;
	hvt_rflags_format(0x2, b, sizeof(b));
	assert_string_equal(b, "IOPL=0");
	hvt_rflags_format(0x246, b, sizeof(b));
	assert_string_equal(b, "PF ZF IF IOPL=0");
	hvt_rflags_format(0x3f7fd5, b, sizeof(b));
	assert_string_equal(b, "CF PF AF ZF SF TF IF DF OF NT RF VM AC VIF VIP ID IOPL=3");
	hvt_rflags_format(0x1000 | 0x800, b, sizeof(b));
	assert_string_equal(b, "OF IOPL=1");
}

static void test_mxcsr_decoding(void **st)
{
	char b[128];

	(void)st;
	hvt_mxcsr_format(0x1f80, b, sizeof(b));
	assert_string_equal(b, "flags=- masks=IM,DM,ZM,OM,UM,PM rc=nearest fz=0 daz=0");
	hvt_mxcsr_format(0x9fe1, b, sizeof(b));
	assert_string_equal(b, "flags=IE,PE masks=IM,DM,ZM,OM,UM,PM rc=nearest fz=1 daz=1");
	hvt_mxcsr_format(0x2000 | 0x4 | 0x200, b, sizeof(b));
	assert_string_equal(b, "flags=ZE masks=ZM rc=down fz=0 daz=0");
	assert_string_equal(hvt_mxcsr_rc_name(0x4000), "up");
	assert_string_equal(hvt_mxcsr_rc_name(0x6000), "zero");
}

static void test_state_helpers(void **st)
{
	struct hvt_vstate a, b;
	char n[16];

	(void)st;
	memset(&a, 0, sizeof(a));
	b = a;
	b.gpr[15] = 1;
	b.xmm[31] = 2;
	b.rflags = 0x202;
	assert_int_equal(hvt_vstate_diff(&a, &b),
			 (1ull << 15) | (1ull << HVTRACE_CHG_XMM_HI(15)) |
			 (1ull << HVTRACE_CHG_RFLAGS));
	assert_string_equal(hvt_chg_bit_name(HVTRACE_CHG_XMM_HI(15), n, sizeof(n)), "xmm15.hi");
	assert_string_equal(hvt_chg_bit_name(4, n, sizeof(n)), "rsp");
	assert_true(hvt_reason_skips_insn(HVTRACE_EXIT_XSETBV));
	assert_false(hvt_reason_skips_insn(HVTRACE_EXIT_EXTERNAL_INTERRUPT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_chain_has_no_violation),
		cmocka_unit_test(test_resumed_state_is_exit_plus_changes),
		cmocka_unit_test(test_gap_reported_at_exit_after_it),
		cmocka_unit_test(test_seq_going_back),
		cmocka_unit_test(test_missing_resume_next_exit_and_end),
		cmocka_unit_test(test_duplicate_and_orphan_resumes),
		cmocka_unit_test(test_resume_with_other_seq),
		cmocka_unit_test(test_values_length_and_unknown_bits),
		cmocka_unit_test(test_rip_must_skip_completed_instruction),
		cmocka_unit_test(test_kvm_rules),
		cmocka_unit_test(test_vcpus_per_vm),
		cmocka_unit_test(test_rsp_action_and_discarded),
		cmocka_unit_test(test_rflags_decoding),
		cmocka_unit_test(test_mxcsr_decoding),
		cmocka_unit_test(test_state_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
