// SPDX-License-Identifier: GPL-2.0
/*
 * The trace reader on traces written by hvtrace-synth (through
 * libbabeltrace2's sink.ctf.fs, from the same schema): every field decodes to
 * the value written, keys-only mode decodes the keys only, lost events are
 * reported with their stream, and each kind of bad input gives a clear
 * error instead of a crash.
 *
 * HVT_SYNTH names the writer (default build/bin/hvtrace-synth); run from the
 * top of the tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "decode/reader.h"
#include "decode/ctf_fast.h"

static char tmp[256];

static const char *synth(void)
{
	const char *s = getenv("HVT_SYNTH");

	return s ? s : "build/bin/hvtrace-synth";
}

/* Write a synthetic trace into tmp/name; returns its path. */
static const char *make_trace(const char *name, const char *args)
{
	static char path[8][1024];
	static int next;
	char cmd[2048];
	char *p = path[next++ % 8];

	assert_true(strlen(tmp) + strlen(name) + 2 < 512);

	snprintf(p, 1024, "%s/%s", tmp, name);
	snprintf(cmd, sizeof(cmd), "%s --out %s --quiet %s", synth(), p, args);
	assert_int_equal(system(cmd), 0);
	return p;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "%s/hvt-reader-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp))
		return -1;
	if (access(synth(), X_OK)) {
		fprintf(stderr, "%s is not built\n", synth());
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) ? -1 : 0;
}

static struct hvt_reader *open1(const char *path, unsigned int flags, struct hvt_err *err)
{
	return hvt_reader_open(&path, 1, flags, err);
}

static void test_counts_and_time_order(void **state)
{
	const char *p = make_trace("counts", "--exits 3000 --vcpus 3 --seed 5");
	struct hvt_err err = { { 0 } };
	struct hvt_event ev;
	struct hvt_reader *r = open1(p, 0, &err);
	uint64_t exits = 0, resumes = 0, sessions = 0;
	int64_t last = INT64_MIN;
	int rc;

	(void)state;
	assert_non_null(r);
	while ((rc = hvt_reader_next(r, &ev, &err)) > 0) {
		exits += ev.type == HVT_EV_EXIT;
		resumes += ev.type == HVT_EV_RESUME;
		sessions += ev.type == HVT_EV_SESSION;
		assert_true(ev.ts_ns >= last);
		last = ev.ts_ns;
		assert_true(ev.stream < hvt_reader_stream_count(r));
	}
	assert_int_equal(rc, 0);
	assert_int_equal(exits, 3000);
	assert_int_equal(resumes, 3000);
	assert_true(sessions >= 3);
	assert_int_equal(hvt_reader_stream_count(r), 3);
	assert_int_equal(hvt_reader_trace_count(r), 1);
	hvt_reader_close(r);
}

static int find_exit(struct hvt_reader *r, uint32_t vcpu, uint64_t seq, struct hvt_event *out)
{
	struct hvt_err err;

	while (hvt_reader_next(r, out, &err) > 0)
		if (out->type == HVT_EV_EXIT && out->u.exit.vcpu == vcpu &&
		    out->u.exit.seq == seq)
			return 1;
	return 0;
}

static void test_every_field_decodes(void **state)
{
	const char *p = make_trace("alter",
		"--exits 200 --alter 17:rip=0x1122334455667788 "
		"--alter 17:gpr[15]=0xfedcba9876543210 --alter 17:xmm[31]=0xa5a5a5a5a5a5a5a5 "
		"--alter 17:xmm[0]=0x1 --alter 17:mxcsr=0x1fbf --alter 17:cr3=0x7000 "
		"--alter 17:idt_info=0x80000b0e --alter 17:guest_phys=0xfee00000");
	struct hvt_err err = { { 0 } };
	struct hvt_event ev;
	struct hvt_reader *r = open1(p, 0, &err);

	(void)state;
	assert_non_null(r);
	assert_true(find_exit(r, 0, 17, &ev));
	assert_int_equal(ev.u.exit.rip, 0x1122334455667788ull);
	assert_int_equal(ev.u.exit.gpr[15], 0xfedcba9876543210ull);
	assert_int_equal(ev.u.exit.xmm[31], 0xa5a5a5a5a5a5a5a5ull);
	assert_int_equal(ev.u.exit.xmm[0], 1);
	assert_int_equal(ev.u.exit.mxcsr, 0x1fbf);
	assert_int_equal(ev.u.exit.cr3, 0x7000);
	assert_int_equal(ev.u.exit.idt_info, 0x80000b0e);
	assert_int_equal(ev.u.exit.guest_phys, 0xfee00000);
	hvt_reader_close(r);

	/* Keys only: the keys still decode, the rest reads as zero. */
	r = open1(p, HVT_READ_KEYS_ONLY, &err);
	assert_non_null(r);
	assert_true(find_exit(r, 0, 17, &ev));
	assert_int_equal(ev.u.exit.rip, 0x1122334455667788ull);
	assert_int_equal(ev.u.exit.gpr[15], 0);
	assert_int_equal(ev.u.exit.xmm[31], 0);
	assert_int_equal(ev.u.exit.mxcsr, 0);
	assert_int_equal(ev.u.exit.idt_info, 0);
	hvt_reader_close(r);
}

/* Keys only: each exit has what its reason's qualification needs. */
static void test_keys_follow_the_reason(void **state)
{
	const char *p = make_trace("keys", "--exits 600 --seed 21");
	struct hvt_err err = { { 0 } };
	struct hvt_reader *full = open1(p, 0, &err), *keys = open1(p, HVT_READ_KEYS_ONLY, &err);
	struct hvt_event a, b;
	int n = 0, cpuid = 0, msr = 0, io = 0;

	(void)state;
	assert_non_null(full);
	assert_non_null(keys);
	for (;;) {
		int ra = hvt_reader_next(full, &a, &err), rb = hvt_reader_next(keys, &b, &err);

		assert_int_equal(ra, rb);
		if (ra <= 0)
			break;
		assert_int_equal(a.type, b.type);
		if (a.type != HVT_EV_EXIT)
			continue;
		n++;
		assert_int_equal(a.u.exit.exit_reason, b.u.exit.exit_reason);
		assert_int_equal(a.u.exit.seq, b.u.exit.seq);
		assert_int_equal(a.u.exit.tsc, b.u.exit.tsc);
		switch (a.u.exit.exit_reason) {
		case 10:	/* CPUID: leaf and subleaf */
			cpuid++;
			assert_int_equal(a.u.exit.gpr[0], b.u.exit.gpr[0]);
			assert_int_equal(a.u.exit.gpr[1], b.u.exit.gpr[1]);
			break;
		case 31:	/* RDMSR: index */
			msr++;
			assert_int_equal(a.u.exit.gpr[1], b.u.exit.gpr[1]);
			break;
		case 30:	/* I/O: the qualification */
			io++;
			assert_int_equal(a.u.exit.exit_qual, b.u.exit.exit_qual);
			assert_int_equal(b.u.exit.gpr[0], 0);
			break;
		}
		assert_int_equal(b.u.exit.xmm[0], 0);
		assert_int_equal(b.u.exit.cr3, 0);
	}
	assert_int_equal(n, 600);
	assert_true(cpuid > 0 && msr > 0 && io > 0);
	hvt_reader_close(full);
	hvt_reader_close(keys);
}

/*
 * Who caused an exit (schema v3): a full read has pid, tid, comm and cpl
 * (and vm) as written; keys only leaves them zero unless HVT_READ_WHO asks
 * for them; a schema v2 trace reads the v3 ones as zero.  Both decoders.
 */
static void test_who_fields(void **state)
{
	const char *v3 = make_trace("who3", "--exits 300 --vcpus 2 --seed 4 --pid 500 "
				    "--comm unit-test --cpl 3 --alter 9:comm=x --alter 10:cpl=0 "
				    "--alter 11:vm=7");
	const char *v2 = make_trace("who2", "--exits 300 --vcpus 2 --seed 4 --schema-version 2");
	static const unsigned int flags[] = {
		0, HVT_READ_KEYS_ONLY, HVT_READ_KEYS_ONLY | HVT_READ_WHO,
	};
	static const enum hvt_decoder_mode modes[] = { HVT_DECODER_BT2, HVT_DECODER_FAST };

	(void)state;
	for (size_t m = 0; m < 2; m++) {
		hvt_decoder_set(modes[m], 1, 0);
		for (size_t k = 0; k < 3; k++) {
			int keys_only = flags[k] == HVT_READ_KEYS_ONLY;

			for (int t = 0; t < 2; t++) {
				struct hvt_err err = { { 0 } };
				struct hvt_reader *r = open1(t ? v2 : v3, flags[k], &err);
				struct hvt_event ev;
				int n = 0, other = 0, user = 0;

				if (!r)
					fail_msg("decoder %zu flags %#x: %s", m, flags[k], err.msg);
				while (hvt_reader_next(r, &ev, &err) > 0) {
					const struct hvtrace_exit_rec *e = &ev.u.exit;
					int altered = e->vcpu == 0 && e->seq == 9;

					if (ev.type != HVT_EV_EXIT)
						continue;
					n++;
					if (t || keys_only) {
						assert_int_equal(e->vm, 0);
						assert_int_equal(e->pid, 0);
						assert_int_equal(e->tid, 0);
						assert_string_equal(e->comm, "");
						assert_int_equal(e->cpl, 0);
						continue;
					}
					assert_int_equal(e->vm, e->vcpu == 0 && e->seq == 11 ? 7 : 0);
					assert_int_equal(e->pid, 500);
					assert_int_equal(e->tid, 500 + e->vcpu);
					assert_string_equal(e->comm, altered ? "x" : "unit-test");
					assert_int_equal(e->cpl, e->vcpu == 0 && e->seq == 10 ? 0 : 3);
					other += altered;
					user += e->cpl == 3;
				}
				assert_string_equal(err.msg, "");
				assert_int_equal(n, 300);
				if (!t && !keys_only) {
					assert_int_equal(other, 1);
					assert_int_equal(user, 299);
				}
				hvt_reader_close(r);
			}
		}
	}
	hvt_decoder_set(HVT_DECODER_AUTO, 0, 0);
}

/* No XMM: every exit and resume field but xmm[] decodes as in a full read. */
static void test_no_xmm_keeps_the_rest(void **state)
{
	const char *p = make_trace("noxmm", "--exits 300 --seed 5 --alter 40:xmm[7]=0x77");
	struct hvt_err err = { { 0 } };
	struct hvt_reader *full = open1(p, 0, &err), *lean = open1(p, HVT_READ_NO_XMM, &err);
	struct hvt_event a, b;
	int exits = 0, resumes = 0, xmm_seen = 0;

	(void)state;
	assert_non_null(full);
	assert_non_null(lean);
	for (;;) {
		int ra = hvt_reader_next(full, &a, &err), rb = hvt_reader_next(lean, &b, &err);

		assert_int_equal(ra, rb);
		if (ra <= 0)
			break;
		assert_int_equal(a.type, b.type);
		if (a.type == HVT_EV_EXIT) {
			exits++;
			if (a.u.exit.seq == 40 && a.u.exit.xmm[7] == 0x77)
				xmm_seen = 1;
			/* every schema field but the vector state */
			memcpy(a.u.exit.xmm, b.u.exit.xmm, sizeof(a.u.exit.xmm));
#define SAME_INT(type, name) assert_int_equal(a.u.exit.name, b.u.exit.name);
#define SAME_ARR(type, name, count) \
	assert_memory_equal(a.u.exit.name, b.u.exit.name, sizeof(a.u.exit.name));
#define SAME_TXT(name, count) assert_string_equal(a.u.exit.name, b.u.exit.name);
#define SAME_SEQ(type, name, ltype, max)
			HVTRACE_EXIT_FIELDS(SAME_INT, SAME_INT, SAME_ARR, SAME_TXT, SAME_SEQ)
#undef SAME_INT
#undef SAME_ARR
#undef SAME_TXT
#undef SAME_SEQ
		} else if (a.type == HVT_EV_RESUME) {
			resumes++;
			assert_int_equal(a.u.resume.changed, b.u.resume.changed);
			assert_int_equal(a.u.resume.values_len, b.u.resume.values_len);
			assert_memory_equal(a.u.resume.values, b.u.resume.values,
					    a.u.resume.values_len * sizeof(a.u.resume.values[0]));
		}
	}
	assert_int_equal(exits, 300);
	assert_int_equal(resumes, 300);
	assert_true(xmm_seen);
	hvt_reader_close(full);
	hvt_reader_close(lean);
}

static void test_session_text_and_resume_seq(void **state)
{
	const char *p = make_trace("session", "--exits 50");
	struct hvt_err err = { { 0 } };
	struct hvt_event ev;
	struct hvt_reader *r = open1(p, 0, &err);
	int sessions = 0, resumes = 0;

	(void)state;
	assert_non_null(r);
	while (hvt_reader_next(r, &ev, &err) > 0) {
		if (ev.type == HVT_EV_SESSION) {
			sessions++;
			assert_int_equal(ev.u.session.schema_version, HVTRACE_SCHEMA_VERSION);
			assert_true(strlen(ev.u.session.workload) > 0);
			assert_true(strlen(ev.u.session.workload) < sizeof(ev.u.session.workload));
			assert_true(strlen(ev.u.session.cpu_model) > 0);
		}
		if (ev.type == HVT_EV_RESUME) {
			resumes++;
			assert_true(ev.u.resume.values_len <= HVTRACE_CHG_NBITS);
			assert_int_equal(ev.u.resume.values_len,
					 __builtin_popcountll(ev.u.resume.changed));
		}
	}
	assert_true(sessions >= 1);
	assert_int_equal(resumes, 50);
	hvt_reader_close(r);
}

static void test_discarded_events_reported(void **state)
{
	const char *p = make_trace("lost", "--exits 400 --vcpus 2 --discarded 10@100");
	struct hvt_err err = { { 0 } };
	struct hvt_event ev;
	struct hvt_reader *r = open1(p, 0, &err);
	int records = 0;
	uint64_t lost = 0;

	(void)state;
	assert_non_null(r);
	while (hvt_reader_next(r, &ev, &err) > 0) {
		if (ev.type != HVT_EV_DISCARDED)
			continue;
		records++;
		lost += ev.u.discarded.count;
		assert_true(ev.u.discarded.begin_ns <= ev.u.discarded.end_ns);
		assert_non_null(strstr(hvt_reader_stream_name(r, ev.stream), "lost"));
	}
	assert_int_equal(records, 1);
	assert_true(lost >= 10);
	hvt_reader_close(r);
}

/*
 * A packet the tracer lost whole (packet_seq_num gap) is a discarded record
 * with packets set, not dropped; so is one that held only the session END
 * (no seq gap to give it away).
 */
static void test_discarded_packets_reported(void **state)
{
	static const char *const args[2] = {
		"--exits 3000 --seed 5 --discarded-packet 5@1000",
		"--exits 2000 --seed 5 --discarded-packet end",
	};
	struct hvt_err err = { { 0 } };
	struct hvt_event ev;

	(void)state;
	for (int k = 0; k < 2; k++) {
		const char *p = make_trace(k ? "lostpk-end" : "lostpk", args[k]);
		struct hvt_reader *r = open1(p, 0, &err);
		int records = 0;
		uint64_t packets = 0, events = 0, sessions = 0;

		assert_non_null(r);
		while (hvt_reader_next(r, &ev, &err) > 0) {
			sessions += ev.type == HVT_EV_SESSION;
			if (ev.type != HVT_EV_DISCARDED)
				continue;
			records++;
			packets += ev.u.discarded.packets;
			events += ev.u.discarded.count;
			assert_true(ev.u.discarded.begin_ns <= ev.u.discarded.end_ns);
		}
		assert_int_equal(records, 1);
		assert_int_equal(packets, 1);
		assert_int_equal(events, 0);	/* unknown, never invented */
		assert_int_equal(sessions, k ? 1 : 2);
		assert_int_equal(hvt_reader_trace_sessions(r, 0), sessions);
		hvt_reader_close(r);
	}
}

/* Values the record cannot hold are errors, never cut. */
static void test_no_silent_truncation(void **state)
{
	struct hvt_err err = { { 0 } };
	struct hvt_event ev;
	const char *p;
	struct hvt_reader *r;
	int rc;

	(void)state;
	p = make_trace("wide", "--exits 50 --seed 3 --wide vcpu=4294967296@20");
	r = open1(p, 0, &err);
	assert_non_null(r);
	while ((rc = hvt_reader_next(r, &ev, &err)) > 0)
		;
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err.msg, "field 'vcpu' holds 4294967296"));
	hvt_reader_close(r);
	/* wider in the metadata, but every value fits: read as usual */
	p = make_trace("wideok", "--exits 50 --seed 3 --wide vcpu=0@20");
	r = open1(p, 0, &err);
	assert_non_null(r);
	while ((rc = hvt_reader_next(r, &ev, &err)) > 0)
		;
	assert_int_equal(rc, 0);
	hvt_reader_close(r);
	p = make_trace("long", "--exits 50 --seed 3 --break values-long@20");
	r = open1(p, 0, &err);
	assert_non_null(r);
	while ((rc = hvt_reader_next(r, &ev, &err)) > 0)
		assert_true(ev.type != HVT_EV_RESUME || ev.u.resume.values_len <= HVTRACE_CHG_NBITS);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err.msg, "corrupt hvtrace_resume event"));
	hvt_reader_close(r);
}

static void test_session_folder_search(void **state)
{
	char top[512], cmd[2048];
	struct hvt_err err = { { 0 } };
	struct hvt_reader *r;
	struct hvt_event ev;
	uint64_t exits = 0;

	(void)state;
	/* An LTTng-like layout: top/kernel/... and top/ust/... */
	snprintf(top, sizeof(top), "%s/lttng-out", tmp);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/kernel %s/other", top, top);
	assert_int_equal(system(cmd), 0);
	make_trace("lttng-out/kernel/run1", "--exits 100");
	make_trace("lttng-out/other/run2", "--exits 70 --seed 3");
	r = open1(top, 0, &err);
	assert_non_null(r);
	assert_int_equal(hvt_reader_trace_count(r), 2);
	assert_non_null(strstr(hvt_reader_trace_path(r, 0), "kernel/run1"));
	while (hvt_reader_next(r, &ev, &err) > 0)
		exits += ev.type == HVT_EV_EXIT;
	assert_int_equal(exits, 170);
	hvt_reader_close(r);
}

static void expect_open_error(const char *path, const char *needle)
{
	struct hvt_err err = { { 0 } };
	struct hvt_reader *r = open1(path, 0, &err);

	if (r) {
		/* Some damage only shows while reading: it must end in -1. */
		struct hvt_event ev;
		int rc;

		while ((rc = hvt_reader_next(r, &ev, &err)) > 0)
			;
		hvt_reader_close(r);
		assert_int_equal(rc, -1);
	}
	assert_true(strlen(err.msg) > 0);
	assert_null(strchr(err.msg, '\n'));
	if (!strstr(err.msg, needle))
		fail_msg("error '%s' lacks '%s'", err.msg, needle);
}

static void test_bad_inputs(void **state)
{
	char path[512], cmd[2048];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/none", tmp);
	expect_open_error(path, "No such file");

	snprintf(path, sizeof(path), "%s/file", tmp);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("x\n", f);
	fclose(f);
	expect_open_error(path, "not a trace folder");

	snprintf(path, sizeof(path), "%s/empty", tmp);
	assert_int_equal(mkdir(path, 0755), 0);
	expect_open_error(path, "not a CTF trace");

	expect_open_error(make_trace("v7", "--exits 20 --schema-version 7"),
			  "schema version 7");
	/* A version and fields of another version; a version's fields in part. */
	expect_open_error(make_trace("l2v3", "--exits 20 --layout 2"),
			  "trace schema version 3 but its hvtrace events have the fields of schema v2");
	expect_open_error(make_trace("nocpl", "--exits 20 --omit cpl"),
			  "event hvtrace_exit lacks field 'cpl' of schema v3");

	/* A CTF trace with other events only. */
	snprintf(cmd, sizeof(cmd),
		 "printf '[    0.000000] hello\\n' > %s/d.txt && "
		 "babeltrace2 -c source.text.dmesg -p 'path=\"%s/d.txt\"' "
		 "-c sink.ctf.fs -p 'path=\"%s/dmesg\"' >/dev/null 2>&1", tmp, tmp, tmp);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/dmesg", tmp);
	expect_open_error(path, "no hvtrace events in this trace (it has: string)");

	/* Garbage metadata. */
	snprintf(path, sizeof(path), "%s/badmeta", tmp);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && echo 'this is not TSDL {' > %s/metadata",
		 path, path);
	assert_int_equal(system(cmd), 0);
	expect_open_error(path, "badmeta");

	/* A stream file cut in the middle of a packet. */
	make_trace("cut", "--exits 3000");
	snprintf(path, sizeof(path), "%s/cut", tmp);
	snprintf(cmd, sizeof(cmd), "f=$(ls %s/channel* | head -1); "
		 "truncate -s $(( $(stat -c %%s $f) * 2 / 3 + 5 )) $f", path);
	assert_int_equal(system(cmd), 0);
	expect_open_error(path, "cut");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_time_order),
		cmocka_unit_test(test_every_field_decodes),
		cmocka_unit_test(test_keys_follow_the_reason),
		cmocka_unit_test(test_no_xmm_keeps_the_rest),
		cmocka_unit_test(test_who_fields),
		cmocka_unit_test(test_session_text_and_resume_seq),
		cmocka_unit_test(test_discarded_events_reported),
		cmocka_unit_test(test_discarded_packets_reported),
		cmocka_unit_test(test_no_silent_truncation),
		cmocka_unit_test(test_session_folder_search),
		cmocka_unit_test(test_bad_inputs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
