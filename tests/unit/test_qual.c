// SPDX-License-Identifier: GPL-2.0
/*
 * Exit-qualification decoding against the bit layouts of the Intel SDM
 * Vol. 3C, 28.2.1 (Tables 28-2 to 28-7) and 25.9.2 (interruption info).
 * Each case builds the raw qualification the processor would write and
 * checks both the decoded parts and their text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmx/qual.h"

static struct hvtrace_exit_rec rec(uint32_t reason, uint64_t qual)
{
	struct hvtrace_exit_rec e;

	memset(&e, 0, sizeof(e));
	e.exit_reason = reason;
	e.exit_qual = qual;
	return e;
}

static const char *text(const struct hvt_qual *q, unsigned int flags)
{
	static char buf[256];

	hvt_qual_format(q, buf, sizeof(buf), flags);
	return buf;
}

static void test_reason_names_from_table(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(hvt_exit_reason_name(10), "CPUID");
	assert_string_equal(hvt_exit_reason_name(0), "EXCEPTION_NMI");
	assert_string_equal(hvt_exit_reason_name(48), "EPT_VIOLATION");
	assert_null(hvt_exit_reason_name(35));	/* not defined by the SDM */
	assert_null(hvt_exit_reason_name(1000));
	hvt_exit_reason_format(30, buf, sizeof(buf));
	assert_string_equal(buf, "IO_INSTRUCTION");
	hvt_exit_reason_format(35, buf, sizeof(buf));
	assert_string_equal(buf, "UNKNOWN(35)");
	hvt_exit_reason_format(0x1234, buf, sizeof(buf));
	assert_string_equal(buf, "UNKNOWN(4660)");
	/* Bit 31: VM-entry failure (SDM 25.9.1). */
	hvt_exit_reason_format(0x80000021u, buf, sizeof(buf));
	assert_string_equal(buf, "ENTRY_FAIL_GUEST_STATE(entry-failure)");
}

static void test_reason_parse(void **state)
{
	uint32_t b = 0;

	(void)state;
	assert_int_equal(hvt_exit_reason_parse("cpuid", &b), 0);
	assert_int_equal(b, 10);
	assert_int_equal(hvt_exit_reason_parse("RDMSR", &b), 0);
	assert_int_equal(b, 31);
	assert_int_equal(hvt_exit_reason_parse("48", &b), 0);
	assert_int_equal(b, 48);
	assert_int_equal(hvt_exit_reason_parse("UNKNOWN(99)", &b), 0);
	assert_int_equal(b, 99);
	assert_int_equal(hvt_exit_reason_parse("nonsense", &b), -1);
	assert_int_equal(hvt_exit_reason_parse("", &b), -1);
	assert_int_equal(hvt_exit_reason_parse("70000", &b), -1);
}

static void test_cpuid_leaf_subleaf(void **state)
{
	struct hvtrace_exit_rec e = rec(HVTRACE_EXIT_CPUID, 0);
	struct hvt_qual q, q2;

	(void)state;
	e.gpr[0] = 0xdeadbeef00000007ull;	/* upper half ignored: EAX */
	e.gpr[1] = 0x2;
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.kind, HVTRACE_QUAL_CPUID);
	assert_int_equal(q.u.cpuid.leaf, 7);
	assert_true(q.u.cpuid.has_subleaf);
	assert_int_equal(q.u.cpuid.subleaf, 2);
	assert_string_equal(text(&q, 0), "leaf 0x7 subleaf 0x2");

	/* Leaf 1 ignores ECX: garbage in RCX must not split the group. */
	e.gpr[0] = 1;
	e.gpr[1] = 0x1234;
	hvt_qual_decode(&e, &q);
	e.gpr[1] = 0x9999;
	hvt_qual_decode(&e, &q2);
	assert_false(q.u.cpuid.has_subleaf);
	assert_int_equal(q.key, q2.key);
	assert_string_equal(text(&q, 0), "leaf 0x1");
	/* Different subleaves of leaf 4 are different keys. */
	e.gpr[0] = 4;
	e.gpr[1] = 0;
	hvt_qual_decode(&e, &q);
	e.gpr[1] = 1;
	hvt_qual_decode(&e, &q2);
	assert_int_not_equal(q.key, q2.key);
}

static void test_msr_names(void **state)
{
	struct hvtrace_exit_rec e = rec(HVTRACE_EXIT_RDMSR, 0);
	struct hvt_qual q;
	char buf[48];

	(void)state;
	e.gpr[1] = 0xffffffffc0000080ull;	/* ECX only */
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.kind, HVTRACE_QUAL_MSR);
	assert_int_equal(q.u.msr.index, 0xc0000080);
	assert_false(q.u.msr.write);
	assert_string_equal(text(&q, 0), "0xc0000080 IA32_EFER");
	e.exit_reason = HVTRACE_EXIT_WRMSR;
	e.gpr[1] = 0x1b;
	hvt_qual_decode(&e, &q);
	assert_true(q.u.msr.write);
	assert_string_equal(text(&q, 0), "0x1b IA32_APIC_BASE");
	assert_string_equal(hvt_msr_name(0x10, buf, sizeof(buf)), "IA32_TIME_STAMP_COUNTER");
	assert_string_equal(hvt_msr_name(0x480, buf, sizeof(buf)), "IA32_VMX_BASIC");
	assert_string_equal(hvt_msr_name(0x490, buf, sizeof(buf)), "IA32_VMX_TRUE_ENTRY_CTLS");
	assert_string_equal(hvt_msr_name(0xc0000102, buf, sizeof(buf)), "IA32_KERNEL_GS_BASE");
	assert_string_equal(hvt_msr_name(0xc0000103, buf, sizeof(buf)), "IA32_TSC_AUX");
	assert_string_equal(hvt_msr_name(0x277, buf, sizeof(buf)), "IA32_PAT");
	assert_string_equal(hvt_msr_name(0x1a0, buf, sizeof(buf)), "IA32_MISC_ENABLE");
	assert_string_equal(hvt_msr_name(0x4000010a, buf, sizeof(buf)), "HVTRACE_SCRATCH+0xa");
	assert_null(hvt_msr_name(0x4000011f, buf, sizeof(buf)));
	assert_null(hvt_msr_name(0x12345, buf, sizeof(buf)));
}

/* SDM Table 28-5: size 2:0, direction 3, string 4, REP 5, imm 6, port 31:16. */
static void test_io_table_28_5(void **state)
{
	struct hvtrace_exit_rec e;
	struct hvt_qual q, q2;

	(void)state;
	e = rec(HVTRACE_EXIT_IO_INSTRUCTION, 0x80ull << 16 | 0 << 3 | 0 | 1 << 6);
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.u.io.port, 0x80);
	assert_int_equal(q.u.io.size, 1);
	assert_false(q.u.io.in);
	assert_true(q.u.io.imm);
	assert_string_equal(text(&q, 0), "out 0x80 1B");
	assert_string_equal(text(&q, HVT_QUAL_FULL), "out 0x80 1B imm");

	e = rec(HVTRACE_EXIT_IO_INSTRUCTION, 0xcfcull << 16 | 1 << 3 | 3);
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.u.io.port, 0xcfc);
	assert_int_equal(q.u.io.size, 4);
	assert_true(q.u.io.in);
	assert_string_equal(text(&q, 0), "in 0xcfc 4B");

	e = rec(HVTRACE_EXIT_IO_INSTRUCTION, 0x3f8ull << 16 | 1 << 5 | 1 << 4 | 1);
	hvt_qual_decode(&e, &q);
	assert_true(q.u.io.string);
	assert_true(q.u.io.rep);
	assert_int_equal(q.u.io.size, 2);
	assert_string_equal(text(&q, 0), "rep outs 0x3f8 2B");

	/* Same port, other direction: another key. */
	e = rec(HVTRACE_EXIT_IO_INSTRUCTION, 0x60ull << 16 | 1 << 3);
	hvt_qual_decode(&e, &q);
	e = rec(HVTRACE_EXIT_IO_INSTRUCTION, 0x60ull << 16);
	hvt_qual_decode(&e, &q2);
	assert_int_not_equal(q.key, q2.key);
	/* Operand encoding (DX or immediate) is not part of the key. */
	e = rec(HVTRACE_EXIT_IO_INSTRUCTION, 0x60ull << 16 | 1 << 6);
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.key, q2.key);
}

/* SDM Table 28-3: CR 3:0, access type 5:4, LMSW operand 6, GPR 11:8, LMSW data 31:16. */
static void test_cr_table_28_3(void **state)
{
	struct hvtrace_exit_rec e;
	struct hvt_qual q;

	(void)state;
	e = rec(HVTRACE_EXIT_CR_ACCESS, 3 | 0 << 4 | 0 << 8);	/* mov cr3, rax */
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.u.cr.cr, 3);
	assert_int_equal(q.u.cr.access, HVT_CR_MOV_TO);
	assert_string_equal(text(&q, 0), "mov to cr3 from rax");

	e = rec(HVTRACE_EXIT_CR_ACCESS, 8 | 1 << 4 | 9 << 8);	/* mov r9, cr8 */
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.u.cr.access, HVT_CR_MOV_FROM);
	assert_int_equal(q.u.cr.gpr, 9);
	assert_string_equal(text(&q, 0), "mov from cr8 to r9");

	e = rec(HVTRACE_EXIT_CR_ACCESS, 2 << 4);
	hvt_qual_decode(&e, &q);
	assert_string_equal(text(&q, 0), "clts");

	e = rec(HVTRACE_EXIT_CR_ACCESS, 3 << 4 | 1 << 6 | 0x0011ull << 16);
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.u.cr.access, HVT_CR_LMSW);
	assert_true(q.u.cr.lmsw_mem);
	assert_int_equal(q.u.cr.lmsw_data, 0x11);
	assert_string_equal(text(&q, 0), "lmsw");
	assert_string_equal(text(&q, HVT_QUAL_FULL), "lmsw 0x11 (memory)");
}

/* SDM Table 28-4: DR 2:0, direction 4 (1 = MOV from DR), GPR 11:8. */
static void test_dr_table_28_4(void **state)
{
	struct hvtrace_exit_rec e;
	struct hvt_qual q;

	(void)state;
	e = rec(HVTRACE_EXIT_DR_ACCESS, 7 | 0 << 4 | 3 << 8);
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.u.dr.dr, 7);
	assert_false(q.u.dr.from_dr);
	assert_string_equal(text(&q, 0), "mov to dr7 from rbx");
	e = rec(HVTRACE_EXIT_DR_ACCESS, 6 | 1 << 4 | 1 << 8);
	hvt_qual_decode(&e, &q);
	assert_string_equal(text(&q, 0), "mov from dr6 to rcx");
}

/* Interruption info: vector 7:0, type 10:8, error valid 11, valid 31. */
static void test_exception_interruption_info(void **state)
{
	struct hvtrace_exit_rec e = rec(HVTRACE_EXIT_EXCEPTION_NMI, 0);
	struct hvt_qual q;

	(void)state;
	e.intr_info = 1u << 31 | 3 << 8 | 6;		/* #UD, hardware exception */
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.u.exc.vector, 6);
	assert_int_equal(q.u.exc.type, 3);
	assert_string_equal(text(&q, 0), "#UD hw-exception");
	assert_false(hvt_exit_is_async(&q));

	e.intr_info = 1u << 31 | 1 << 11 | 3 << 8 | 13;	/* #GP with error code */
	e.intr_error = 0x10;
	hvt_qual_decode(&e, &q);
	assert_true(q.u.exc.has_error);
	assert_string_equal(text(&q, HVT_QUAL_FULL), "#GP hw-exception error 0x10");

	e.intr_info = 1u << 31 | 6 << 8 | 3;		/* INT3: software exception */
	hvt_qual_decode(&e, &q);
	assert_string_equal(text(&q, 0), "#BP sw-exception");

	e.intr_info = 1u << 31 | 2 << 8 | 2;		/* NMI */
	hvt_qual_decode(&e, &q);
	assert_string_equal(text(&q, 0), "NMI nmi");
	assert_true(hvt_exit_is_async(&q));

	e.intr_info = 1u << 31 | 1 << 11 | 3 << 8 | 14;	/* #PF */
	hvt_qual_decode(&e, &q);
	assert_string_equal(text(&q, 0), "#PF hw-exception");

	e.intr_info = 0;				/* not valid */
	hvt_qual_decode(&e, &q);
	assert_string_equal(text(&q, 0), "no event");
	assert_string_equal(hvt_exception_name(19), "#XM");
	assert_null(hvt_exception_name(15));
}

static void test_vmcall_number(void **state)
{
	struct hvtrace_exit_rec e = rec(HVTRACE_EXIT_VMCALL, 0);
	struct hvt_qual q;

	(void)state;
	e.gpr[0] = 0x48560001;
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.u.vmcall.nr, 0x48560001);
	assert_string_equal(text(&q, 0), "nr 0x48560001 HVT_HC_MARKER");
	e.gpr[0] = 0x77;
	hvt_qual_decode(&e, &q);
	assert_string_equal(text(&q, 0), "nr 0x77");
}

/* SDM Table 28-7: read 0, write 1, fetch 2, R 3, W 4, X 5, GLA valid 7, translation 8. */
static void test_ept_table_28_7(void **state)
{
	struct hvtrace_exit_rec e = rec(HVTRACE_EXIT_EPT_VIOLATION, 2 | 1 << 3 | 1 << 7 | 1 << 8);
	struct hvt_qual q;

	(void)state;
	e.guest_phys = 0xfee00000;
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.u.ept.access, 2);
	assert_int_equal(q.u.ept.perms, 1);
	assert_true(q.u.ept.linear_valid);
	assert_true(q.u.ept.translation);
	assert_string_equal(text(&q, 0), "-w- linear translation");
	assert_string_equal(text(&q, HVT_QUAL_FULL),
			    "-w- linear translation gpa 0xfee00000 perm r--");
}

/* SDM Table 28-2: selector 15:0, source 31:30. */
static void test_task_switch_table_28_2(void **state)
{
	struct hvtrace_exit_rec e = rec(HVTRACE_EXIT_TASK_SWITCH, 3ull << 30 | 0x28);
	struct hvt_qual q;

	(void)state;
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.u.ts.selector, 0x28);
	assert_int_equal(q.u.ts.source, HVT_TS_IDT_GATE);
	assert_string_equal(text(&q, 0), "idt-gate selector 0x28");
	e.exit_qual = 1ull << 30 | 0x30;
	hvt_qual_decode(&e, &q);
	assert_string_equal(text(&q, 0), "iret selector 0x30");
}

static void test_invlpg_and_none(void **state)
{
	struct hvtrace_exit_rec e = rec(HVTRACE_EXIT_INVLPG, 0xffff888000001000ull);
	struct hvt_qual q;

	(void)state;
	hvt_qual_decode(&e, &q);
	assert_string_equal(text(&q, 0), "addr 0xffff888000001000");
	e = rec(HVTRACE_EXIT_HLT, 0x55);
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.kind, HVTRACE_QUAL_NONE);
	assert_int_equal(q.key, 0);
	assert_string_equal(text(&q, 0), "");
	e = rec(99, 0x55);
	hvt_qual_decode(&e, &q);
	assert_int_equal(q.kind, HVTRACE_QUAL_NONE);
	assert_int_equal(q.basic, 99);
	e = rec(HVTRACE_EXIT_EXTERNAL_INTERRUPT, 0);
	hvt_qual_decode(&e, &q);
	assert_true(hvt_exit_is_async(&q));
	e = rec(HVTRACE_EXIT_PREEMPTION_TIMER, 0);
	hvt_qual_decode(&e, &q);
	assert_true(hvt_exit_is_async(&q));
}

static void test_changed_bit_names(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(hvt_chg_name(HVTRACE_CHG_GPR(0), buf, sizeof(buf)), "rax");
	assert_string_equal(hvt_chg_name(HVTRACE_CHG_GPR(15), buf, sizeof(buf)), "r15");
	assert_string_equal(hvt_chg_name(HVTRACE_CHG_RIP, buf, sizeof(buf)), "rip");
	assert_string_equal(hvt_chg_name(HVTRACE_CHG_RFLAGS, buf, sizeof(buf)), "rflags");
	assert_string_equal(hvt_chg_name(HVTRACE_CHG_XMM_LO(3), buf, sizeof(buf)), "xmm3.lo");
	assert_string_equal(hvt_chg_name(HVTRACE_CHG_XMM_HI(15), buf, sizeof(buf)), "xmm15.hi");
	assert_string_equal(hvt_chg_name(HVTRACE_CHG_MXCSR, buf, sizeof(buf)), "mxcsr");
	assert_string_equal(hvt_chg_name(60, buf, sizeof(buf)), "bit60");
	assert_string_equal(hvt_action_name(HVTRACE_ACT_INJECT), "INJECT");
	assert_null(hvt_action_name(9));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason_names_from_table),
		cmocka_unit_test(test_reason_parse),
		cmocka_unit_test(test_cpuid_leaf_subleaf),
		cmocka_unit_test(test_msr_names),
		cmocka_unit_test(test_io_table_28_5),
		cmocka_unit_test(test_cr_table_28_3),
		cmocka_unit_test(test_dr_table_28_4),
		cmocka_unit_test(test_exception_interruption_info),
		cmocka_unit_test(test_vmcall_number),
		cmocka_unit_test(test_ept_table_28_7),
		cmocka_unit_test(test_task_switch_table_28_2),
		cmocka_unit_test(test_invlpg_and_none),
		cmocka_unit_test(test_changed_bit_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
