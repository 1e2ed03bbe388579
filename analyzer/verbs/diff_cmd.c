// SPDX-License-Identifier: GPL-2.0
/*
 * hvtrace diff A B: align two runs' exits per vCPU and report where they
 * differ.  Exit status as diff(1): 0 same, 1 different (or incomplete),
 * 2 trouble.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "engine/diff.h"
#include "verbs/output.h"
#include "verbs/verbs.h"

struct dopts {
	struct hvt_diff_opts d;
	const char *a, *b;
	int json, csv;
	int no_default_ignore;
	const char *ignore[64];
	int nignore;
};

static void usage(FILE *f)
{
	fputs("usage: hvtrace diff [options] A B\n"
	      "Aligns the exits of runs A and B per vCPU (Myers' O(ND) alignment on\n"
	      "reason, decoded qualification and RIP) and compares every field of each\n"
	      "aligned exit and its resume.\n"
	      "  --ignore F,...        also ignore these fields: tsc, exit.rip,\n"
	      "                        resume.values, rbx, gpr[3], xmm[5], session.seed...\n"
	      "  --no-default-ignore   compare the nondeterministic fields and seq too\n"
	      "  --async               compare asynchronous exits (external interrupts,\n"
	      "                        NMIs, interrupt/NMI windows, preemption timer)\n"
	      "  --rip-key full|page|none  how much of RIP identifies an exit: all of it\n"
	      "                        (default), its offset in the page (runs whose\n"
	      "                        code was loaded at another address; add\n"
	      "                        --ignore rip), or nothing\n"
	      "  --window N            exits per vCPU and side first buffered when the\n"
	      "                        runs diverge (2048); doubled while no resync\n"
	      "  --max-window N        the most it grows to (65536; about 0.3 KB of\n"
	      "                        memory per buffered exit); a divergence longer\n"
	      "                        than that is reported as such\n"
	      "  --resync N            equal exits in a row that end a divergence (8)\n"
	      "  --max N               entries listed per list, 0 for all (1000)\n"
	      "  --inputs auto|loose|strict  values the guest reads from outside (IN,\n"
	      "                        RDTSC, RDRAND, RDMSR, MMIO reads) and the exits\n"
	      "                        where an interrupt was injected: loose lists\n"
	      "                        their differences apart and counts register\n"
	      "                        values that differ after them as data, not as\n"
	      "                        divergences; strict counts everything; auto\n"
	      "                        (default): loose for KVM and host-mode traces\n"
	      "  --strict-inputs       the same as --inputs strict\n"
	      "  --comm NAME, --pid PID|PID_A,PID_B\n"
	      "                        compare the exits of that program only (host\n"
	      "                        mode; schema v3), thread by thread over all\n"
	      "                        CPUs; CR3 (its page tables) is then ignored\n"
	      "  --format text|json|csv  (csv: one row per finding)\n"
	      "Exit status: 0 same, 1 different or incomplete, 2 trouble.\n", f);
}

static int num(const char *opt, const char *v, uint64_t *out)
{
	char *end;

	if (!v || !*v || *v == '-')
		return hvt_error("diff: %s needs a number", opt);
	errno = 0;
	*out = strtoull(v, &end, 0);
	if (errno || *end)
		return hvt_error("diff: %s: '%s' is not a number", opt, v);
	return 0;
}

static int parse(struct dopts *o, int argc, char **argv)
{
	int npos = 0;

	memset(o, 0, sizeof(*o));
	o->d.window = HVT_DIFF_WINDOW_DEFAULT;
	o->d.max_window = 0;
	o->d.resync = HVT_DIFF_RESYNC_DEFAULT;
	o->d.max_list = HVT_DIFF_MAX_LIST_DEFAULT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n = 0;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--async")) {
			o->d.async = 1;
		} else if (!strcmp(a, "--rip-key")) {
			if (!v || (strcmp(v, "full") && strcmp(v, "page") && strcmp(v, "none")))
				return hvt_error("diff: --rip-key takes full, page or none");
			o->d.rip_mask = !strcmp(v, "full") ? ~0ull :
					!strcmp(v, "page") ? 0xfff : HVT_DIFF_RIP_NONE;
			i++;
		} else if (!strcmp(a, "--inputs")) {
			if (!v || (strcmp(v, "auto") && strcmp(v, "loose") && strcmp(v, "strict")))
				return hvt_error("diff: --inputs takes auto, loose or strict");
			o->d.inputs = !strcmp(v, "auto") ? HVT_DIFF_INPUTS_AUTO :
				      !strcmp(v, "loose") ? HVT_DIFF_INPUTS_LOOSE :
				      HVT_DIFF_INPUTS_STRICT;
			i++;
		} else if (!strcmp(a, "--strict-inputs")) {
			o->d.inputs = HVT_DIFF_INPUTS_STRICT;
		} else if (!strcmp(a, "--pid")) {
			/* PID (both runs) or PID_A,PID_B */
			char *end;
			unsigned long long pa, pb;

			if (!v || !*v || *v == '-')
				return hvt_error("diff: --pid takes PID or PID_A,PID_B");
			errno = 0;
			pa = strtoull(v, &end, 10);
			pb = pa;
			if (!errno && *end == ',' && end[1] && end[1] != '-')
				pb = strtoull(end + 1, &end, 10);
			if (errno || *end || pa > UINT32_MAX || pb > UINT32_MAX)
				return hvt_error("diff: --pid takes PID or PID_A,PID_B, not '%s'", v);
			o->d.pid_set = 1;
			o->d.pid[0] = (uint32_t)pa;
			o->d.pid[1] = (uint32_t)pb;
			i++;
		} else if (!strcmp(a, "--comm")) {
			if (!v || !*v)
				return hvt_error("diff: --comm needs a thread name");
			o->d.comm = v;
			i++;
		} else if (!strcmp(a, "--no-default-ignore")) {
			o->no_default_ignore = 1;
		} else if (!strcmp(a, "--ignore")) {
			if (!v)
				return hvt_error("diff: --ignore needs a field list");
			if (o->nignore == 64)
				return hvt_error("diff: too many --ignore options");
			o->ignore[o->nignore++] = v;
			i++;
		} else if (!strcmp(a, "--format")) {
			if (!v || (strcmp(v, "text") && strcmp(v, "json") && strcmp(v, "csv")))
				return hvt_error("diff: --format takes text, json or csv");
			o->json = !strcmp(v, "json");
			o->csv = !strcmp(v, "csv");
			i++;
		} else if (!strcmp(a, "--window") || !strcmp(a, "--resync") ||
			   !strcmp(a, "--max") || !strcmp(a, "--max-window")) {
			if (num(a, v, &n))
				return HVT_EXIT_ERROR;
			i++;
			if (!strcmp(a, "--window")) {
				if (n < 16 || n > 1000000)
					return hvt_error("diff: --window between 16 and 1000000");
				o->d.window = (unsigned int)n;
			} else if (!strcmp(a, "--max-window")) {
				if (n < 16 || n > 4000000)
					return hvt_error("diff: --max-window between 16 and 4000000");
				o->d.max_window = (unsigned int)n;
			} else if (!strcmp(a, "--resync")) {
				if (n < 1 || n > 1000)
					return hvt_error("diff: --resync between 1 and 1000");
				o->d.resync = (unsigned int)n;
			} else {
				o->d.max_list = n;
			}
		} else if (a[0] == '-' && a[1]) {
			return hvt_error("diff: unknown option '%s' (try hvtrace diff --help)", a);
		} else if (npos == 0) {
			o->a = a;
			npos++;
		} else if (npos == 1) {
			o->b = a;
			npos++;
		} else {
			return hvt_error("diff: more than two traces given ('%s')", a);
		}
	}
	if (npos != 2)
		return hvt_error("diff: needs two traces: hvtrace diff A B");
	if (!o->d.max_window)
		o->d.max_window = o->d.window > HVT_DIFF_MAX_WINDOW_DEFAULT ?
				  o->d.window : HVT_DIFF_MAX_WINDOW_DEFAULT;
	else if (o->d.max_window < o->d.window)
		return hvt_error("diff: --max-window %u is below --window %u",
				 o->d.max_window, o->d.window);
	return 0;
}

static const char *seqstr(uint64_t s, char *buf, size_t len)
{
	if (!s)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%" PRIu64, s);
	return buf;
}

static void print_ctx(FILE *f, const struct hvt_diff_ctx *c)
{
	char sa[24], sb[24];

	fprintf(f, "  %c %10s %10s  %s  rip 0x%" PRIx64 "\n", c->op,
		seqstr(c->seq_a, sa, sizeof(sa)), seqstr(c->seq_b, sb, sizeof(sb)),
		c->label, c->rip);
}

/*
 * What a timeline is: "vCPU", or "thread" (--pid/--comm), after "trace N "
 * when an input holds several traces.
 */
static const char *tr(const struct hvt_diff_result *r, uint32_t trace, uint32_t vm, char *buf,
		      size_t len)
{
	const char *unit = r->by_thread ? "thread" : "vCPU";
	size_t off = 0;

	buf[0] = '\0';
	if (r->side[0].traces > 1 || r->side[1].traces > 1)
		off += (size_t)snprintf(buf, len, "trace %u ", trace);
	/* KVM, several VMs: their order of appearance (numbers differ by boot) */
	if (r->vms > 1 && off < len)
		off += (size_t)snprintf(buf + off, len - off, "VM #%u ", vm);
	if (off < len)
		snprintf(buf + off, len - off, "%s", unit);
	return buf;
}

static void side_line(FILE *f, const char *name, const char *path,
		      const struct hvt_diff_side *s, int by_thread)
{
	if (by_thread)
		fprintf(f, "%s: %s  (%" PRIu64 " exits compared on %u thread%s, %" PRIu64
			" exits of other programs left out", name, path, s->exits, s->threads,
			s->threads == 1 ? "" : "s", s->filtered);
	else
		fprintf(f, "%s: %s  (%" PRIu64 " exits compared on %u vCPU%s", name, path,
			s->exits, s->vcpus, s->vcpus == 1 ? "" : "s");
	if (s->async_skipped)
		fprintf(f, ", %" PRIu64 " asynchronous skipped", s->async_skipped);
	fprintf(f, ")\n");
}

/* The verdict: DIFFERENT, SAME, or SAME but for inputs (loose). */
static const char *verdict(const struct hvt_diff_result *r)
{
	if (!hvt_diff_same(r))
		return "DIFFERENT";
	if (r->input_diffs)
		return "SAME CONTROL FLOW (inputs differ)";
	return "SAME";
}

static const char *inputs_mode(const struct dopts *o, const struct hvt_diff_result *r)
{
	if (o->d.inputs == HVT_DIFF_INPUTS_STRICT)
		return "strict";
	if (o->d.inputs == HVT_DIFF_INPUTS_LOOSE)
		return "loose";
	return r->side[0].loose || r->side[1].loose ? "loose" : "strict";
}

static void text_report(FILE *f, const struct dopts *o, const struct hvt_diff *d)
{
	const struct hvt_diff_result *r = hvt_diff_result(d);
	const struct hvt_diff_first *fd = &r->first;
	char ign[1024], t[48];
	int incomplete = hvt_diff_incomplete(r);

	side_line(f, "A", o->a, &r->side[0], r->by_thread);
	side_line(f, "B", o->b, &r->side[1], r->by_thread);
	hvt_diff_ignored(d, ign, sizeof(ign));
	fprintf(f, "ignored fields: %s\n", ign[0] ? ign : "(none)");
	if (r->by_thread) {
		fprintf(f, "compared: the exits of");
		if (o->d.pid_set && o->d.pid[0] == o->d.pid[1])
			fprintf(f, " pid %" PRIu32, o->d.pid[0]);
		else if (o->d.pid_set)
			fprintf(f, " pid %" PRIu32 " (A) and %" PRIu32 " (B)", o->d.pid[0],
				o->d.pid[1]);
		if (o->d.comm)
			fprintf(f, "%s comm %s", o->d.pid_set ? "," : "", o->d.comm);
		fprintf(f, ", thread by thread (CPU and seq positional)\n");
	}
	if (!strcmp(inputs_mode(o, r), "loose"))
		fprintf(f, "inputs: loose (values read from outside and interrupt points that differ are listed apart; register values after them are data; --strict-inputs counts them)\n");
	if (!o->d.async)
		fprintf(f, "asynchronous exits skipped: A %" PRIu64 ", B %" PRIu64
			" (--async compares them)\n", r->side[0].async_skipped,
			r->side[1].async_skipped);
	for (int s = 0; s < 2; s++) {
		const struct hvt_diff_side *sd = &r->side[s];

		if (sd->discard_records || sd->gaps) {
			fprintf(f, "INCOMPLETE %s: the tracer discarded %" PRIu64 " events; ",
				s ? "B" : "A", sd->discarded);
			if (sd->discarded_packets)
				fprintf(f, "%" PRIu64 " packet%s lost whole (events unknown); ",
					sd->discarded_packets, sd->discarded_packets == 1 ? "" : "s");
			fprintf(f, "%" PRIu64 " seq gap%s (%" PRIu64 " exits missing)\n",
				sd->gaps, sd->gaps == 1 ? "" : "s", sd->gap_exits);
		}
		if (sd->orphan_resumes || sd->missing_resumes)
			fprintf(f, "warning %s: %" PRIu64 " resumes without their exit, %" PRIu64
				" exits without their resume\n", s ? "B" : "A",
				sd->orphan_resumes, sd->missing_resumes);
	}
	if (fd->valid) {
		char sa[24], sb[24], t[48];

		fprintf(f, "\nfirst divergence: %s %u, A seq %s, B seq %s: ",
			tr(r, fd->trace, fd->vm, t, sizeof(t)), fd->vcpu,
			seqstr(fd->seq_a, sa, sizeof(sa)), seqstr(fd->seq_b, sb, sizeof(sb)));
		if (!strcmp(fd->kind, "field"))
			fprintf(f, "%s differs: A %s, B %s\n", fd->field.field, fd->field.a,
				fd->field.b);
		else if (!strcmp(fd->kind, "missing"))
			fprintf(f, "exit missing in B\n");
		else
			fprintf(f, "exit inserted in B\n");
		if (fd->has_input)
			fprintf(f, "after the input difference at A seq %s / B seq %s: %s  %s: A %s, B %s\n",
				seqstr(fd->input.seq_a, sa, sizeof(sa)),
				seqstr(fd->input.seq_b, sb, sizeof(sb)), fd->input.label,
				fd->input.field, fd->input.a, fd->input.b);
		fprintf(f, "  %c %10s %10s\n", ' ', "A seq", "B seq");
		for (int i = 0; i < fd->nbefore; i++)
			print_ctx(f, &fd->before[i]);
		print_ctx(f, &fd->at);
		for (int i = 0; i < fd->nafter; i++)
			print_ctx(f, &fd->after[i]);
	}
	if (r->missing) {
		fprintf(f, "\nmissing in B (in A only): %" PRIu64 "\n", r->missing);
		for (size_t i = 0; i < r->n_missing_list; i++)
			fprintf(f, "  %s %u  A seq %" PRIu64 "  %s  rip 0x%" PRIx64 "\n",
				tr(r, r->missing_list[i].trace, r->missing_list[i].vm, t, sizeof(t)),
				r->missing_list[i].vcpu, r->missing_list[i].seq,
				r->missing_list[i].label, r->missing_list[i].rip);
		if (r->n_missing_list < r->missing)
			fprintf(f, "  ... %" PRIu64 " more (--max)\n", r->missing - r->n_missing_list);
	}
	if (r->inserted) {
		fprintf(f, "\ninserted in B (in B only): %" PRIu64 "\n", r->inserted);
		for (size_t i = 0; i < r->n_inserted_list; i++)
			fprintf(f, "  %s %u  B seq %" PRIu64 "  %s  rip 0x%" PRIx64 "\n",
				tr(r, r->inserted_list[i].trace, r->inserted_list[i].vm, t, sizeof(t)),
				r->inserted_list[i].vcpu, r->inserted_list[i].seq,
				r->inserted_list[i].label, r->inserted_list[i].rip);
		if (r->n_inserted_list < r->inserted)
			fprintf(f, "  ... %" PRIu64 " more (--max)\n", r->inserted - r->n_inserted_list);
	}
	if (r->input_diffs) {
		fprintf(f, "\ninput differences: %" PRIu64 " in %" PRIu64 " aligned exit%s (values the guest read from outside, interrupts injected at other exits)\n",
			r->input_diffs, r->input_pairs, r->input_pairs == 1 ? "" : "s");
		for (size_t i = 0; i < r->n_inputs; i++) {
			const struct hvt_diff_field *x = &r->inputs[i];
			char sa[24], sb[24];

			fprintf(f, "  %s %u  A seq %s / B seq %s  %s  %s: A %s, B %s\n",
				tr(r, x->trace, x->vm, t, sizeof(t)), x->vcpu,
				seqstr(x->seq_a, sa, sizeof(sa)), seqstr(x->seq_b, sb, sizeof(sb)),
				x->label, x->field, x->a, x->b);
		}
		if (r->n_inputs < r->input_diffs)
			fprintf(f, "  ... %" PRIu64 " more (--max)\n", r->input_diffs - r->n_inputs);
		if (r->data_diffs)
			fprintf(f, "data derived from them: %" PRIu64 " register value%s differ%s after the first input difference of %s vCPU (in %" PRIu64 " aligned exit%s with no other difference): not divergences\n",
				r->data_diffs, r->data_diffs == 1 ? "" : "s",
				r->data_diffs == 1 ? "s" : "", "their", r->data_pairs,
				r->data_pairs == 1 ? "" : "s");
	}
	if (r->field_diffs || r->session_diffs) {
		uint64_t listed = r->n_fields;

		fprintf(f, "\nfield differences: %" PRIu64 " in %" PRIu64 " aligned exit%s",
			r->field_diffs, r->differing_pairs, r->differing_pairs == 1 ? "" : "s");
		if (r->session_diffs)
			fprintf(f, ", %" PRIu64 " in session records", r->session_diffs);
		fprintf(f, "\n");
		for (size_t i = 0; i < r->n_fields; i++) {
			const struct hvt_diff_field *x = &r->fields[i];
			char sa[24], sb[24];

			fprintf(f, "  %s %u  A seq %s / B seq %s  %s  %s: A %s, B %s\n",
				tr(r, x->trace, x->vm, t, sizeof(t)), x->vcpu,
				seqstr(x->seq_a, sa, sizeof(sa)), seqstr(x->seq_b, sb, sizeof(sb)),
				x->label, x->field, x->a, x->b);
		}
		if (listed < r->field_diffs + r->session_diffs)
			fprintf(f, "  ... %" PRIu64 " more (--max)\n",
				r->field_diffs + r->session_diffs - listed);
	}
	fprintf(f, "\nsummary: %" PRIu64 " exits aligned (%" PRIu64 " with differing fields), %"
		PRIu64 " missing in B, %" PRIu64 " inserted in B, %" PRIu64
		" session field%s differ", r->aligned, r->differing_pairs, r->missing,
		r->inserted, r->session_diffs, r->session_diffs == 1 ? "" : "s");
	if (r->input_diffs)
		fprintf(f, ", %" PRIu64 " input%s differ", r->input_diffs,
			r->input_diffs == 1 ? "" : "s");
	fprintf(f, ": %s%s\n", verdict(r), incomplete ? " (INCOMPLETE: lost data, see above)" : "");
	if (r->bound_hits) {
		char t[48];

		fprintf(f, "BOUND HIT: %" PRIu64 " divergence%s ran past --max-window %u exits with no %u equal exits in a row (first: %s %u from A seq %" PRIu64 ", B seq %" PRIu64 "); past it, half a window at a time is listed as missing and inserted, with nothing to pair on, so that region's counts are not minimal (their difference is): raise --max-window\n",
			r->bound_hits, r->bound_hits == 1 ? "" : "s", r->max_window, o->d.resync,
			tr(r, r->bound_at.trace, 0, t, sizeof(t)), r->bound_at.vcpu,
			r->bound_at.seq_a, r->bound_at.seq_b);
	}
}

static json_t *jctx(const struct hvt_diff_ctx *c)
{
	json_t *j = json_object();
	char op[2] = { c->op, 0 };

	json_object_set_new(j, "op", json_string(op));
	json_object_set_new(j, "seq_a", c->seq_a ? hvt_json_u64(c->seq_a) : json_null());
	json_object_set_new(j, "seq_b", c->seq_b ? hvt_json_u64(c->seq_b) : json_null());
	json_object_set_new(j, "exit", json_string(c->label));
	json_object_set_new(j, "rip", hvt_json_hex(c->rip));
	return j;
}

static json_t *jfield(const struct hvt_diff_field *x)
{
	json_t *j = json_object();

	json_object_set_new(j, "trace", json_integer(x->trace));
	json_object_set_new(j, "vm", json_integer(x->vm));
	json_object_set_new(j, "vcpu", json_integer(x->vcpu));
	json_object_set_new(j, "seq_a", x->seq_a ? hvt_json_u64(x->seq_a) : json_null());
	json_object_set_new(j, "seq_b", x->seq_b ? hvt_json_u64(x->seq_b) : json_null());
	json_object_set_new(j, "exit", json_string(x->label));
	json_object_set_new(j, "field", json_string(x->field));
	json_object_set_new(j, "a", json_string(x->a));
	json_object_set_new(j, "b", json_string(x->b));
	return j;
}

static json_t *jitems(const struct hvt_diff_item *l, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *j = json_object();

		json_object_set_new(j, "trace", json_integer(l[i].trace));
		json_object_set_new(j, "vm", json_integer(l[i].vm));
		json_object_set_new(j, "vcpu", json_integer(l[i].vcpu));
		json_object_set_new(j, "seq", hvt_json_u64(l[i].seq));
		json_object_set_new(j, "exit", json_string(l[i].label));
		json_object_set_new(j, "rip", hvt_json_hex(l[i].rip));
		json_array_append_new(a, j);
	}
	return a;
}

static json_t *jside(const char *path, const struct hvt_diff_side *s)
{
	json_t *j = json_object();

	json_object_set_new(j, "trace", json_string(path));
	json_object_set_new(j, "exits", hvt_json_u64(s->exits));
	json_object_set_new(j, "resumes", hvt_json_u64(s->resumes));
	json_object_set_new(j, "vcpus", json_integer(s->vcpus));
	json_object_set_new(j, "traces", json_integer(s->traces));
	json_object_set_new(j, "async_skipped", hvt_json_u64(s->async_skipped));
	json_object_set_new(j, "discarded_events", hvt_json_u64(s->discarded));
	json_object_set_new(j, "discard_records", hvt_json_u64(s->discard_records));
	json_object_set_new(j, "discarded_packets", hvt_json_u64(s->discarded_packets));
	json_object_set_new(j, "filtered", hvt_json_u64(s->filtered));
	json_object_set_new(j, "seq_gaps", hvt_json_u64(s->gaps));
	json_object_set_new(j, "gap_exits", hvt_json_u64(s->gap_exits));
	json_object_set_new(j, "orphan_resumes", hvt_json_u64(s->orphan_resumes));
	json_object_set_new(j, "missing_resumes", hvt_json_u64(s->missing_resumes));
	return j;
}

static void json_report(FILE *f, const struct dopts *o, const struct hvt_diff *d)
{
	const struct hvt_diff_result *r = hvt_diff_result(d);
	json_t *j = json_object(), *ign = json_array(), *fl = json_array();
	char buf[1024], *save = NULL;

	json_object_set_new(j, "verb", json_string("diff"));
	json_object_set_new(j, "a", jside(o->a, &r->side[0]));
	json_object_set_new(j, "b", jside(o->b, &r->side[1]));
	hvt_diff_ignored(d, buf, sizeof(buf));
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(ign, json_string(t));
	json_object_set_new(j, "ignored", ign);
	json_object_set_new(j, "async_compared", json_boolean(o->d.async));
	json_object_set_new(j, "window", json_integer(o->d.window));
	json_object_set_new(j, "max_window", json_integer(o->d.max_window));
	json_object_set_new(j, "resync", json_integer(o->d.resync));
	json_object_set_new(j, "rip_key", json_string(o->d.rip_mask == 0xfff ? "page" :
				o->d.rip_mask == HVT_DIFF_RIP_NONE ? "none" : "full"));
	json_object_set_new(j, "inputs", json_string(inputs_mode(o, r)));
	if (o->d.pid_set) {
		json_t *pp = json_array();

		json_array_append_new(pp, json_integer(o->d.pid[0]));
		json_array_append_new(pp, json_integer(o->d.pid[1]));
		json_object_set_new(j, "pid_filter", pp);
	} else {
		json_object_set_new(j, "pid_filter", json_null());
	}
	json_object_set_new(j, "comm_filter", o->d.comm ? json_string(o->d.comm) : json_null());
	json_object_set_new(j, "same", json_boolean(hvt_diff_same(r)));
	json_object_set_new(j, "incomplete", json_boolean(hvt_diff_incomplete(r)));
	if (r->first.valid) {
		json_t *fd = json_object(), *b = json_array(), *a = json_array();

		json_object_set_new(fd, "kind", json_string(r->first.kind));
		json_object_set_new(fd, "trace", json_integer(r->first.trace));
		json_object_set_new(fd, "vm", json_integer(r->first.vm));
		json_object_set_new(fd, "vcpu", json_integer(r->first.vcpu));
		json_object_set_new(fd, "seq_a", r->first.seq_a ? hvt_json_u64(r->first.seq_a) : json_null());
		json_object_set_new(fd, "seq_b", r->first.seq_b ? hvt_json_u64(r->first.seq_b) : json_null());
		if (!strcmp(r->first.kind, "field"))
			json_object_set_new(fd, "field", jfield(&r->first.field));
		for (int i = 0; i < r->first.nbefore; i++)
			json_array_append_new(b, jctx(&r->first.before[i]));
		for (int i = 0; i < r->first.nafter; i++)
			json_array_append_new(a, jctx(&r->first.after[i]));
		json_object_set_new(fd, "at", jctx(&r->first.at));
		json_object_set_new(fd, "after_input", r->first.has_input ?
				    jfield(&r->first.input) : json_null());
		json_object_set_new(fd, "before", b);
		json_object_set_new(fd, "after", a);
		json_object_set_new(j, "first_divergence", fd);
	} else {
		json_object_set_new(j, "first_divergence", json_null());
	}
	json_object_set_new(j, "missing_in_b", jitems(r->missing_list, r->n_missing_list));
	json_object_set_new(j, "inserted_in_b", jitems(r->inserted_list, r->n_inserted_list));
	for (size_t i = 0; i < r->n_fields; i++)
		json_array_append_new(fl, jfield(&r->fields[i]));
	json_object_set_new(j, "field_differences", fl);
	fl = json_array();
	for (size_t i = 0; i < r->n_inputs; i++)
		json_array_append_new(fl, jfield(&r->inputs[i]));
	json_object_set_new(j, "input_differences", fl);
	{
		json_t *s = json_object();

		json_object_set_new(s, "aligned", hvt_json_u64(r->aligned));
		json_object_set_new(s, "differing_pairs", hvt_json_u64(r->differing_pairs));
		json_object_set_new(s, "field_differences", hvt_json_u64(r->field_diffs));
		json_object_set_new(s, "session_differences", hvt_json_u64(r->session_diffs));
		json_object_set_new(s, "input_differences", hvt_json_u64(r->input_diffs));
		json_object_set_new(s, "input_pairs", hvt_json_u64(r->input_pairs));
		json_object_set_new(s, "data_differences", hvt_json_u64(r->data_diffs));
		json_object_set_new(s, "data_pairs", hvt_json_u64(r->data_pairs));
		json_object_set_new(s, "missing_in_b", hvt_json_u64(r->missing));
		json_object_set_new(s, "inserted_in_b", hvt_json_u64(r->inserted));
		json_object_set_new(s, "windows", hvt_json_u64(r->windows));
		json_object_set_new(s, "half_steps", hvt_json_u64(r->half_steps));
		json_object_set_new(s, "window_growths", hvt_json_u64(r->growths));
		json_object_set_new(s, "bound_hits", hvt_json_u64(r->bound_hits));
		json_object_set_new(s, "per_vcpu_passes", json_boolean(r->per_vcpu_passes));
		json_object_set_new(s, "truncated", json_boolean(
			r->n_missing_list < r->missing || r->n_inserted_list < r->inserted ||
			r->n_fields < r->field_diffs + r->session_diffs ||
			r->n_inputs < r->input_diffs));
		json_object_set_new(j, "summary", s);
	}
	hvt_json_write(f, j, 2);
	json_decref(j);
}

/* One row per finding: kind,vcpu,seq_a,seq_b,exit,field,a,b,trace. */
static void csv_report(FILE *f, const struct hvt_diff *d)
{
	const struct hvt_diff_result *r = hvt_diff_result(d);
	char sa[24], sb[24];

	fprintf(f, "kind,vcpu,seq_a,seq_b,exit,field,a,b,trace,vm\n");
	for (size_t i = 0; i < r->n_missing_list; i++) {
		fprintf(f, "missing,%u,%" PRIu64 ",,", r->missing_list[i].vcpu,
			r->missing_list[i].seq);
		hvt_csv_field(f, r->missing_list[i].label);
		fprintf(f, ",,,,%u,%u\n", r->missing_list[i].trace, r->missing_list[i].vm);
	}
	for (size_t i = 0; i < r->n_inserted_list; i++) {
		fprintf(f, "inserted,%u,,%" PRIu64 ",", r->inserted_list[i].vcpu,
			r->inserted_list[i].seq);
		hvt_csv_field(f, r->inserted_list[i].label);
		fprintf(f, ",,,,%u,%u\n", r->inserted_list[i].trace, r->inserted_list[i].vm);
	}
	for (size_t i = 0; i < r->n_fields + r->n_inputs; i++) {
		const struct hvt_diff_field *x = i < r->n_fields ? &r->fields[i] :
						 &r->inputs[i - r->n_fields];

		fprintf(f, "%s,%u,%s,%s,", i < r->n_fields ? "field" : "input", x->vcpu,
			x->seq_a ? (snprintf(sa, sizeof(sa), "%" PRIu64, x->seq_a), sa) : "",
			x->seq_b ? (snprintf(sb, sizeof(sb), "%" PRIu64, x->seq_b), sb) : "");
		hvt_csv_field(f, x->label);
		fputc(',', f);
		hvt_csv_field(f, x->field);
		fputc(',', f);
		hvt_csv_field(f, x->a);
		fputc(',', f);
		hvt_csv_field(f, x->b);
		fprintf(f, ",%u,%u\n", x->trace, x->vm);
	}
}

int cmd_diff(int argc, char **argv)
{
	struct dopts o;
	struct hvt_diff *d;
	struct hvt_err err = { { 0 } };
	const struct hvt_diff_result *r;
	int status;

	if (parse(&o, argc, argv))
		return HVT_EXIT_ERROR;
	o.d.progress = hvt_is_tty(stderr);
	d = hvt_diff_new(&o.d);
	if (!d)
		return hvt_error("diff: out of memory");
	if (o.no_default_ignore)
		hvt_diff_clear_ignores(d);
	for (int i = 0; i < o.nignore; i++) {
		char *list = strdup(o.ignore[i]), *save = NULL, msg[256];

		if (!list) {
			hvt_diff_free(d);
			return hvt_error("diff: out of memory");
		}
		for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (hvt_diff_ignore(d, t, msg, sizeof(msg))) {
				free(list);
				hvt_diff_free(d);
				return hvt_error("diff: %s", msg);
			}
		}
		free(list);
	}
	if (hvt_diff_run(d, &o.a, 1, &o.b, 1, &err)) {
		hvt_diff_free(d);
		return hvt_error("%s", err.msg);
	}
	{
		uint32_t trace, schema;
		int side = hvt_diff_no_thread(d, &trace, &schema);

		if (side) {
			char path[600];

			snprintf(path, sizeof(path), "%s (trace %u)", side == 1 ? o.a : o.b, trace);
			hvt_diff_free(d);
			return hvt_error_no_thread(path, schema, o.d.comm ? "--comm" : "--pid");
		}
	}
	hvt_output_init();
	if (o.json)
		json_report(stdout, &o, d);
	else if (o.csv)
		csv_report(stdout, d);
	else
		text_report(stdout, &o, d);
	r = hvt_diff_result(d);
	for (int s = 0; s < 2; s++)
		if (r->side[s].unversioned)
			hvt_warn("diff: %s: %u trace%s without any hvtrace_session record: the schema version is not recorded (read by the event layout, as schema v%d)",
				 s ? "B" : "A", (unsigned int)r->side[s].unversioned,
				 r->side[s].unversioned == 1 ? "" : "s", HVTRACE_SCHEMA_VERSION);
	if (r->bound_hits && (o.json || o.csv))
		hvt_warn("diff: %" PRIu64 " divergence%s ran past --max-window %u exits without a resync: listed as missing and inserted half a window at a time there, not minimal (raise --max-window)",
			 r->bound_hits, r->bound_hits == 1 ? "" : "s", r->max_window);
	status = hvt_diff_same(r) && !hvt_diff_incomplete(r) ? HVT_EXIT_OK : HVT_EXIT_DIFFER;
	fflush(stdout);
	hvt_diff_free(d);
	return status;
}
