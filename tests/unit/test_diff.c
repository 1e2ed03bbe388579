// SPDX-License-Identifier: GPL-2.0
/* Diff engine pieces that need no trace: alignment keys and ignores. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "engine/diff.h"
#include "exit_reasons.h"

static struct hvt_diff *new_diff(void)
{
	struct hvt_diff_opts o = { .window = 64, .resync = 8 };
	struct hvt_diff *d = hvt_diff_new(&o);

	assert_non_null(d);
	return d;
}

static void test_default_ignores_are_nondet_fields_and_seq(void **st)
{
	struct hvt_diff *d = new_diff();
	char buf[512];

	(void)st;
	hvt_diff_ignored(d, buf, sizeof(buf));
	assert_string_equal(buf, "exit.seq,exit.tsc,exit.vm,exit.pid,exit.tid,resume.seq,resume.tsc,resume.vm,session.run_id,session.tsc,session.vm,session.vmm_pid");
	hvt_diff_clear_ignores(d);
	hvt_diff_ignored(d, buf, sizeof(buf));
	assert_string_equal(buf, "");
	hvt_diff_free(d);
}

static void test_ignore_specs(void **st)
{
	struct hvt_diff *d = new_diff();
	char buf[512], msg[256];

	(void)st;
	hvt_diff_clear_ignores(d);
	assert_int_equal(hvt_diff_ignore(d, "rbx", msg, sizeof(msg)), 0);
	assert_int_equal(hvt_diff_ignore(d, "exit.xmm[5]", msg, sizeof(msg)), 0);
	assert_int_equal(hvt_diff_ignore(d, "hvtrace_resume.action", msg, sizeof(msg)), 0);
	hvt_diff_ignored(d, buf, sizeof(buf));
	assert_string_equal(buf, "exit.gpr[3],exit.xmm[5],resume.action");
	hvt_diff_clear_ignores(d);
	assert_int_equal(hvt_diff_ignore(d, "tsc", msg, sizeof(msg)), 0);
	hvt_diff_ignored(d, buf, sizeof(buf));
	assert_string_equal(buf, "exit.tsc,resume.tsc,session.tsc");
	assert_int_equal(hvt_diff_ignore(d, "nosuch", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "nosuch"));
	assert_int_equal(hvt_diff_ignore(d, "exit.gpr[16]", msg, sizeof(msg)), -1);
	assert_int_equal(hvt_diff_ignore(d, "frob.rip", msg, sizeof(msg)), -1);
	hvt_diff_free(d);
}

static void test_key_is_reason_qualification_and_rip(void **st)
{
	struct hvtrace_exit_rec a, b;

	(void)st;
	memset(&a, 0, sizeof(a));
	a.exit_reason = HVTRACE_EXIT_CPUID;
	a.rip = 0xffffffffc0400010;
	a.gpr[0] = 7;		/* leaf */
	b = a;
	b.gpr[3] = 0x1234;	/* not part of what identifies the exit */
	b.tsc = 99;
	b.seq = 5;
	assert_true(hvt_diff_key(&a) == hvt_diff_key(&b));
	b.gpr[0] = 1;		/* another leaf */
	assert_true(hvt_diff_key(&a) != hvt_diff_key(&b));
	b = a;
	b.rip += 2;
	assert_true(hvt_diff_key(&a) != hvt_diff_key(&b));
	b = a;
	b.exit_reason = HVTRACE_EXIT_RDMSR;
	assert_true(hvt_diff_key(&a) != hvt_diff_key(&b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_ignores_are_nondet_fields_and_seq),
		cmocka_unit_test(test_ignore_specs),
		cmocka_unit_test(test_key_is_reason_qualification_and_rip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
