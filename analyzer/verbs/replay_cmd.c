// SPDX-License-Identifier: GPL-2.0
/*
 * hvtrace replay: rebuild each vCPU's state timeline from exit and resume
 * events.  Modes: per-vCPU summary (default), the full state at one exit
 * (--at), exit-by-exit deltas (--step), and the chain check (--check).
 * Only the current state of each vCPU is kept in memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "verbs/output.h"
#include "vmx/qual.h"
#include "decode/reader.h"
#include "engine/replay.h"
#include "verbs/verbs.h"

enum rmode { M_SUMMARY, M_AT, M_STEP, M_CHECK };
enum rfmt { F_TEXT, F_JSON, F_CSV };

struct ropts {
	enum rmode mode;
	enum rfmt fmt;
	const char **paths;
	size_t npaths;
	uint64_t at, from, count, max;
	int64_t vcpu;		/* -1: any */
	int64_t trace;		/* -1: any */
	int flt;
	int have_from;
	int have_rules;
	enum hvt_rules rules;	/* --rules */
	/* the backend of each trace, for the parts of a parallel check */
	unsigned char *backends;
	size_t nbackends;
};

struct rctx {
	struct ropts *o;
	struct hvt_replay *rp;
	FILE *out;
	uint64_t printed;	/* violations or steps written */
	int json_first;
	int stop;		/* enough read: --at found, --count reached */
	/* --at */
	int found;
	struct hvtrace_exit_rec at_exit;
	int64_t at_ns;
	int have_resume;
	struct hvtrace_resume_rec at_resume;
	uint32_t at_vcpu, at_trace;
	size_t ntraces;		/* several: name the trace of each vCPU */
	char **trace_paths;
};

static void usage(FILE *f)
{
	fputs("usage: hvtrace replay [options] TRACE...\n"
	      "  (default)            per-vCPU summary: exits, seq range, span, last exit\n"
	      "  --at SEQ [--vcpu N] [--trace I]\n"
	      "                       full state at exit SEQ (GPRs, RIP, RFLAGS, XMM,\n"
	      "                       MXCSR, exit info) and what its handler changed\n"
	      "  --float              with --at: XMM also as 4 x f32 and 2 x f64\n"
	      "  --step [--from SEQ] [--count N] [--vcpu N] [--trace I]\n"
	      "                       exit by exit: what the handler changed and what\n"
	      "                       the guest changed before the next exit\n"
	      "  --check              verify the exit/resume chain; exit 1 on violations\n"
	      "  --max N              with --check: print at most N violations\n"
	      "  --rules auto|sandbox|kvm|host\n"
	      "                       with --check: whose RIP rules (default auto: the\n"
	      "                       backend each trace's session records name; kvm\n"
	      "                       accepts REP string I/O restarted by KVM's emulator\n"
	      "                       and resumes into a reset vCPU: SMM entry, INIT)\n"
	      "  --format text|json|csv\n"
	      "Exit status: 0 ok, 1 violations found (--check), 2 error.\n", f);
}

static int parse_u64_arg(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

static int parse_args(struct ropts *o, int argc, char **argv)
{
	int nmodes = 0;

	memset(o, 0, sizeof(*o));
	o->vcpu = -1;
	o->trace = -1;
	o->paths = calloc((size_t)argc, sizeof(*o->paths));
	if (!o->paths)
		return hvt_error("replay: out of memory");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--check")) {
			o->mode = M_CHECK;
			nmodes++;
		} else if (!strcmp(a, "--step")) {
			o->mode = M_STEP;
			nmodes++;
		} else if (!strcmp(a, "--float")) {
			o->flt = 1;
		} else if (!strcmp(a, "--at") || !strcmp(a, "--vcpu") || !strcmp(a, "--trace") ||
			   !strcmp(a, "--from") || !strcmp(a, "--count") ||
			   !strcmp(a, "--max") || !strcmp(a, "--format") || !strcmp(a, "--rules")) {
			if (!v)
				return hvt_error("replay: %s needs a value", a);
			i++;
			if (!strcmp(a, "--rules")) {
				if (!strcmp(v, "auto"))
					o->rules = HVT_RULES_AUTO;
				else if (!strcmp(v, "sandbox"))
					o->rules = HVT_RULES_SANDBOX;
				else if (!strcmp(v, "kvm"))
					o->rules = HVT_RULES_KVM;
				else if (!strcmp(v, "host"))
					o->rules = HVT_RULES_HOST;
				else
					return hvt_error("replay: --rules takes auto, sandbox, kvm or host, not '%s'",
							 v);
				o->have_rules = 1;
				continue;
			}
			if (!strcmp(a, "--format")) {
				if (!strcmp(v, "text"))
					o->fmt = F_TEXT;
				else if (!strcmp(v, "json"))
					o->fmt = F_JSON;
				else if (!strcmp(v, "csv"))
					o->fmt = F_CSV;
				else
					return hvt_error("replay: unknown format '%s' (text, json, csv)", v);
				continue;
			}
			if (parse_u64_arg(v, &n))
				return hvt_error("replay: %s: '%s' is not a number", a, v);
			if (!strcmp(a, "--at")) {
				o->mode = M_AT;
				o->at = n;
				nmodes++;
			} else if (!strcmp(a, "--trace")) {
				if (n > UINT32_MAX)
					return hvt_error("replay: --trace %s out of range", v);
				o->trace = (int64_t)n;
			} else if (!strcmp(a, "--vcpu")) {
				if (n > UINT32_MAX)
					return hvt_error("replay: --vcpu %s out of range", v);
				o->vcpu = (int64_t)n;
			} else if (!strcmp(a, "--from")) {
				o->from = n;
				o->have_from = 1;
			} else if (!strcmp(a, "--count")) {
				o->count = n;
			} else {
				o->max = n;
			}
		} else if (a[0] == '-' && a[1]) {
			return hvt_error("replay: unknown option '%s' (try hvtrace replay --help)", a);
		} else {
			o->paths[o->npaths++] = a;
		}
	}
	if (nmodes > 1)
		return hvt_error("replay: choose one of --at, --step, --check");
	if (!o->npaths)
		return hvt_error("replay: missing TRACE (try hvtrace replay --help)");
	if ((o->have_from || o->count) && o->mode != M_STEP)
		return hvt_error("replay: --from and --count go with --step");
	if ((o->vcpu >= 0 || o->trace >= 0) && o->mode != M_AT && o->mode != M_STEP)
		return hvt_error("replay: --vcpu and --trace go with --at and --step");
	if (o->flt && o->mode != M_AT)
		return hvt_error("replay: --float goes with --at");
	if (o->have_rules && o->mode != M_CHECK)
		return hvt_error("replay: --rules goes with --check");
	if (o->fmt == F_CSV && (o->mode == M_AT || o->mode == M_STEP))
		return hvt_error("replay: --format csv is for the summary and --check");
	return 0;
}

/* ---- formatting helpers ---------------------------------------------- */

static void exit_label(const struct hvtrace_exit_rec *e, char *reason, size_t rlen,
		       char *qual, size_t qlen, unsigned int flags)
{
	struct hvt_qual q;

	hvt_qual_decode(e, &q);
	hvt_exit_reason_format(e->exit_reason, reason, rlen);
	hvt_qual_format(&q, qual, qlen, flags);
}

static const char *action_name(unsigned int a)
{
	switch (a) {
#define A(code, name) case code: return #name;
	HVTRACE_ACTIONS(A)
#undef A
	}
	return "UNKNOWN";
}

static json_t *jhex(uint64_t v)
{
	return hvt_json_hex(v);
}

/* One changed register: {"reg", "from", "to"}. */
static json_t *jchange(const char *reg, uint64_t from, uint64_t to)
{
	json_t *o = json_object();

	json_object_set_new(o, "reg", json_string(reg));
	json_object_set_new(o, "from", jhex(from));
	json_object_set_new(o, "to", jhex(to));
	return o;
}

static void stream_json_item(struct rctx *c, json_t *item)
{
	char *s = json_dumps(item, JSON_COMPACT);

	if (s) {
		fprintf(c->out, "%s%s", c->json_first ? "" : ",", s);
		free(s);
	}
	c->json_first = 0;
	json_decref(item);
}

/* Close a streamed object: append the members of tail, then '}'. */
static void stream_json_close(struct rctx *c, json_t *tail)
{
	char *s = json_dumps(tail, JSON_COMPACT);

	if (s) {
		/* s is "{...}": splice its members after the streamed array */
		size_t n = strlen(s);

		if (n > 2)
			fprintf(c->out, "],%s\n", s + 1);
		else
			fprintf(c->out, "]}\n");
		free(s);
	}
	json_decref(tail);
}

static json_t *jpaths(const struct ropts *o)
{
	json_t *a = json_array();

	for (size_t i = 0; i < o->npaths; i++)
		json_array_append_new(a, json_string(o->paths[i]));
	return a;
}

/* ---- --check ---------------------------------------------------------- */

static void hook_violation(void *ud, const struct hvt_violation *v)
{
	struct rctx *c = ud;

	if (c->o->mode != M_CHECK)
		return;
	if (c->o->max && c->printed >= c->o->max)
		return;
	c->printed++;
	if (c->o->fmt == F_JSON) {
		json_t *j = json_object();

		json_object_set_new(j, "kind", json_string(hvt_viol_name(v->kind)));
		json_object_set_new(j, "trace", json_integer(v->trace));
		json_object_set_new(j, "vm", json_integer(v->vm));
		json_object_set_new(j, "vcpu", v->vcpu == UINT32_MAX ? json_null() :
				    json_integer(v->vcpu));
		json_object_set_new(j, "seq", v->seq ? hvt_json_u64(v->seq) : json_null());
		json_object_set_new(j, "detail", json_string(v->detail));
		stream_json_item(c, j);
	} else if (c->o->fmt == F_CSV) {
		if (v->vcpu == UINT32_MAX)
			fprintf(c->out, "%s,,,", hvt_viol_name(v->kind));
		else
			fprintf(c->out, "%s,%u,%" PRIu64 ",", hvt_viol_name(v->kind),
				v->vcpu, v->seq);
		hvt_csv_field(c->out, v->detail);
		fprintf(c->out, ",%u\n", v->trace);
	} else {
		if (c->ntraces > 1)
			fprintf(c->out, "trace %u ", v->trace);
		if (v->vcpu != UINT32_MAX && v->vm)
			fprintf(c->out, "vm %u ", v->vm);
		if (v->vcpu == UINT32_MAX)
			fprintf(c->out, "%s: %s\n", hvt_viol_name(v->kind), v->detail);
		else
			fprintf(c->out, "vCPU %u seq %" PRIu64 ": %s: %s\n", v->vcpu, v->seq,
				hvt_viol_name(v->kind), v->detail);
	}
}

/* What --check reports, summed over the engines of a parallel read. */
struct check_totals {
	uint64_t counts[HVT_VIOL_NKINDS];
	uint64_t total, exits, resumes, discarded, packets, fixups, missing;
	uint64_t restarts, resets, vmm_rips;
	size_t vcpus;
	unsigned int rules_used;	/* bit per enum hvt_rules */
	int incomplete;
};

static void totals_add(struct check_totals *t, const struct hvt_replay *rp)
{
	size_t nv = hvt_replay_vcpu_count(rp);

	for (int k = 0; k < HVT_VIOL_NKINDS; k++)
		t->counts[k] += hvt_replay_violations(rp, (enum hvt_viol_kind)k);
	t->total += hvt_replay_violation_total(rp);
	for (size_t i = 0; i < nv; i++) {
		t->exits += hvt_replay_vcpu_at(rp, i)->exits;
		t->resumes += hvt_replay_vcpu_at(rp, i)->resumes;
		t->missing += hvt_replay_vcpu_at(rp, i)->missing;
	}
	t->vcpus += nv;
	t->discarded += hvt_replay_discarded(rp);
	t->packets += hvt_replay_discarded_packets(rp);
	t->fixups += hvt_replay_fault_fixups(rp);
	t->restarts += hvt_replay_string_restarts(rp);
	t->resets += hvt_replay_vcpu_resets(rp);
	t->vmm_rips += hvt_replay_vmm_rip_writes(rp);
	for (size_t i = 0; i < nv; i++)
		t->rules_used |= 1u << hvt_replay_rules_of(rp, hvt_replay_vcpu_at(rp, i)->trace);
	t->incomplete |= hvt_replay_incomplete(rp);
}

/* "kvm", "sandbox+kvm": the rules the vCPUs were checked with. */
static void rules_text(unsigned int used, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int r = HVT_RULES_SANDBOX; r <= HVT_RULES_HOST; r++)
		if (used & (1u << r))
			off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s",
						off ? "+" : "", hvt_rules_name((enum hvt_rules)r));
	if (!buf[0])
		snprintf(buf, len, "none");
}

static int finish_check(struct rctx *c, const struct check_totals *t)
{
	char rules[40];

	rules_text(t->rules_used, rules, sizeof(rules));
	if (c->o->fmt == F_JSON) {
		json_t *j = json_object(), *counts = json_object();

		for (int k = 0; k < HVT_VIOL_NKINDS; k++)
			json_object_set_new(counts, hvt_viol_name((enum hvt_viol_kind)k),
					    hvt_json_u64(t->counts[k]));
		json_object_set_new(j, "ok", json_boolean(t->total == 0));
		json_object_set_new(j, "incomplete", json_boolean(t->incomplete));
		json_object_set_new(j, "exits", hvt_json_u64(t->exits));
		json_object_set_new(j, "resumes", hvt_json_u64(t->resumes));
		json_object_set_new(j, "vcpus", json_integer((json_int_t)t->vcpus));
		json_object_set_new(j, "discarded_events", hvt_json_u64(t->discarded));
		json_object_set_new(j, "discarded_packets", hvt_json_u64(t->packets));
		json_object_set_new(j, "fault_fixups", hvt_json_u64(t->fixups));
		json_object_set_new(j, "rules", json_string(rules));
		json_object_set_new(j, "string_restarts", hvt_json_u64(t->restarts));
		json_object_set_new(j, "vcpu_resets", hvt_json_u64(t->resets));
		json_object_set_new(j, "vmm_rip_writes", hvt_json_u64(t->vmm_rips));
		json_object_set_new(j, "violation_total", hvt_json_u64(t->total));
		json_object_set_new(j, "violations_shown", hvt_json_u64(c->printed));
		json_object_set_new(j, "counts", counts);
		stream_json_close(c, j);
	} else if (c->o->fmt == F_TEXT) {
		fprintf(c->out, "replay check: %" PRIu64 " exits, %" PRIu64 " resumes on %zu vCPU%s: ",
			t->exits, t->resumes, t->vcpus, t->vcpus == 1 ? "" : "s");
		if (!t->total) {
			fprintf(c->out, "chain OK\n");
			if (t->fixups)
				fprintf(c->out, "(%" PRIu64 " faulting instruction%s resumed at %s fixup with the vector in rax)\n",
					t->fixups, t->fixups == 1 ? "" : "s",
					t->fixups == 1 ? "its" : "their");
		} else {
			int first = 1;

			fprintf(c->out, "%" PRIu64 " violation%s (", t->total, t->total == 1 ? "" : "s");
			for (int k = 0; k < HVT_VIOL_NKINDS; k++) {
				if (!t->counts[k])
					continue;
				fprintf(c->out, "%s%s %" PRIu64, first ? "" : ", ",
					hvt_viol_name((enum hvt_viol_kind)k), t->counts[k]);
				first = 0;
			}
			fprintf(c->out, ")\n");
			if (c->o->max && c->printed < t->total)
				fprintf(c->out, "(%" PRIu64 " of them shown, --max %" PRIu64 ")\n",
					c->printed, c->o->max);
		}
		if (t->rules_used & ~(1u << HVT_RULES_SANDBOX)) {
			fprintf(c->out, "rules: %s", rules);
			if (t->rules_used & (1u << HVT_RULES_KVM))
				fprintf(c->out, " (not violations: %" PRIu64 " REP string I/O restart%s by KVM's emulator, %" PRIu64 " resume%s into a reset vCPU (SMM entry, INIT, SIPI), %" PRIu64 " RIP%s set by the VMM after an exit to userspace)",
					t->restarts, t->restarts == 1 ? "" : "s",
					t->resets, t->resets == 1 ? "" : "s",
					t->vmm_rips, t->vmm_rips == 1 ? "" : "s");
			fprintf(c->out, "\n");
		}
		if (t->incomplete) {
			fprintf(c->out, "INCOMPLETE: %" PRIu64 " events discarded by the tracer, ",
				t->discarded);
			if (t->packets)
				fprintf(c->out, "%" PRIu64 " packet%s lost whole (events unknown), ",
					t->packets, t->packets == 1 ? "" : "s");
			fprintf(c->out, "%" PRIu64 " exits missing from seq gaps\n", t->missing);
		}
	}
	return t->total ? HVT_EXIT_DIFFER : HVT_EXIT_OK;
}

/*
 * --check on several threads: the reader splits the stream files in parts
 * (whole streams, so each vCPU's chain lives in one part); one engine per
 * part.  Violations go to a temporary file per part and are printed part
 * after part once all are done, so memory stays bounded.
 */
struct check_part {
	pthread_t th;
	const struct ropts *o;
	unsigned int part, nparts;
	struct hvt_reader *r;
	struct hvt_replay *rp;
	FILE *viol;
	int rc;			/* 0 ok, -1 error in err */
	struct hvt_err err;
};

static void part_violation(void *ud, const struct hvt_violation *v)
{
	struct check_part *p = ud;

	if (fwrite(v, sizeof(*v), 1, p->viol) != 1)
		p->rc = -1;
}

/*
 * Each trace's backend from its first session records (they open the
 * trace), for the parts of a parallel check: a part may hold none of them.
 * Reads until every trace has named one, or 65536 events.
 */
static int scan_backends(struct ropts *o)
{
	struct hvt_err err = { { 0 } };
	struct hvt_reader *r = hvt_reader_open(o->paths, o->npaths, HVT_READ_KEYS_ONLY, &err);
	struct hvt_event *ev = malloc(sizeof(*ev));
	size_t ntr, named = 0;
	uint64_t n = 0;
	int rc = 0;

	if (!r || !ev) {
		free(ev);
		if (r)
			hvt_reader_close(r);
		return r ? hvt_error("replay: out of memory") : hvt_error("%s", err.msg);
	}
	ntr = hvt_reader_trace_count(r);
	o->backends = calloc(ntr ? ntr : 1, 2);
	if (!o->backends) {
		free(ev);
		hvt_reader_close(r);
		return hvt_error("replay: out of memory");
	}
	o->nbackends = ntr;
	/* second half: whether the trace has named its backend yet */
	while (named < ntr && n++ < 65536 && (rc = hvt_reader_next(r, ev, &err)) > 0) {
		uint32_t t = hvt_reader_stream_trace(r, ev->stream);

		if (ev->type != HVT_EV_SESSION || t >= ntr)
			continue;
		if (ev->u.session.backend != HVTRACE_BACKEND_SANDBOX && ev->u.session.backend <= 250)
			o->backends[t] = (unsigned char)ev->u.session.backend;
		if (!o->backends[ntr + t]) {
			o->backends[ntr + t] = 1;
			named++;
		}
	}
	free(ev);
	hvt_reader_close(r);
	/* a read error shows again, in context, when the parts read the traces */
	(void)rc;
	return 0;
}

static void *part_main(void *arg)
{
	struct check_part *p = arg;
	struct hvt_replay_hooks hooks = { .ud = p, .violation = part_violation };
	struct hvt_event *ev = malloc(sizeof(*ev));
	int rc;

	p->rp = hvt_replay_new(&hooks);
	if (p->rp) {
		hvt_replay_set_rules(p->rp, p->o->rules);
		for (size_t t = 0; t < p->o->nbackends; t++)
			if (hvt_replay_set_backend(p->rp, (uint32_t)t, p->o->backends[t]))
				p->rc = -1;
	}
	p->viol = tmpfile();
	if (!ev || !p->rp || !p->viol) {
		snprintf(p->err.msg, sizeof(p->err.msg), "replay: out of memory (or no temporary file)");
		p->rc = -1;
		free(ev);
		return NULL;
	}
	while ((rc = hvt_reader_next(p->r, ev, &p->err)) > 0) {
		if (hvt_replay_feed_in(p->rp, ev, hvt_reader_stream_trace(p->r, ev->stream))) {
			snprintf(p->err.msg, sizeof(p->err.msg), "replay: out of memory");
			rc = -1;
			break;
		}
	}
	if (rc < 0)
		p->rc = -1;
	else
		hvt_replay_finish(p->rp);
	free(ev);
	return NULL;
}

static int check_parallel(struct rctx *c, unsigned int nparts)
{
	struct check_part *parts = calloc(nparts, sizeof(*parts));
	struct check_totals t;
	int status = HVT_EXIT_OK;
	unsigned int started = 0;

	if (!parts)
		return hvt_error("replay: out of memory");
	memset(&t, 0, sizeof(t));
	if (c->o->rules == HVT_RULES_AUTO && scan_backends(c->o)) {
		free(parts);
		return HVT_EXIT_ERROR;
	}
	for (unsigned int i = 0; i < nparts; i++) {
		parts[i].o = c->o;
		parts[i].part = i;
		parts[i].nparts = nparts;
		parts[i].r = hvt_reader_open_part(c->o->paths, c->o->npaths, HVT_READ_NO_XMM, i, nparts,
						  &parts[i].err);
		if (!parts[i].r) {
			status = hvt_error("%s", parts[i].err.msg);
			goto out;
		}
	}
	for (; started < nparts; started++)
		if (pthread_create(&parts[started].th, NULL, part_main, &parts[started])) {
			status = hvt_error("replay: cannot start a thread");
			break;
		}
	for (unsigned int i = 0; i < started; i++)
		pthread_join(parts[i].th, NULL);
	if (status != HVT_EXIT_OK)
		goto out;
	for (unsigned int i = 0; i < nparts; i++)
		if (parts[i].rc) {
			status = hvt_error("%s", parts[i].err.msg);
			goto out;
		}
	c->ntraces = hvt_reader_trace_count(parts[0].r);
	if (c->ntraces > 1 && c->o->fmt == F_TEXT)
		for (size_t i = 0; i < c->ntraces; i++)
			fprintf(c->out, "trace %zu: %s\n", i, hvt_reader_trace_path(parts[0].r, i));
	if (c->o->fmt == F_JSON)
		fprintf(c->out, "{\"verb\":\"replay\",\"mode\":\"check\",\"violations\":[");
	else if (c->o->fmt == F_CSV)
		fprintf(c->out, "kind,vcpu,seq,detail,trace\n");
	for (unsigned int i = 0; i < nparts; i++) {
		struct hvt_violation v;

		rewind(parts[i].viol);
		while (fread(&v, sizeof(v), 1, parts[i].viol) == 1)
			hook_violation(c, &v);
		totals_add(&t, parts[i].rp);
	}
	status = finish_check(c, &t);
	for (size_t k = 0; k < c->ntraces; k++) {
		uint64_t evs = 0, sess = 0;

		for (unsigned int i = 0; i < nparts; i++) {
			evs += hvt_reader_trace_events(parts[i].r, (uint32_t)k);
			sess += hvt_reader_trace_sessions(parts[i].r, (uint32_t)k);
		}
		if (evs && !sess)
			hvt_warn_unversioned_trace(hvt_reader_trace_path(parts[0].r, k));
	}
out:
	for (unsigned int i = 0; i < nparts; i++) {
		if (parts[i].viol)
			fclose(parts[i].viol);
		hvt_replay_free(parts[i].rp);
		hvt_reader_close(parts[i].r);
	}
	free(parts);
	return status;
}

/* ---- --step ----------------------------------------------------------- */

static void print_step(struct rctx *c, const struct hvt_replay_vcpu *vc,
		       const struct hvtrace_exit_rec *next)
{
	const struct hvtrace_exit_rec *e = &vc->last_exit;
	struct hvt_vstate at, next_state;
	char reason[64], qual[160], name[16];
	uint64_t gmask = 0;
	json_t *j = NULL, *hand = NULL, *guest = NULL;
	int text = c->o->fmt == F_TEXT;
	/*
	 * The next exit is not seq + 1 (exits lost, or a new module load):
	 * what changed between the two is not the guest's doing alone, and
	 * not known.  Say so instead of showing it as guest changes.
	 */
	int gap = next && next->seq != e->seq + 1;

	hvt_vstate_from_exit(&at, e);
	exit_label(e, reason, sizeof(reason), qual, sizeof(qual), 0);
	if (next && !gap) {
		hvt_vstate_from_exit(&next_state, next);
		gmask = hvt_vstate_diff(&vc->state, &next_state);
	}
	if (text) {
		if (c->ntraces > 1)
			fprintf(c->out, "trace %u ", vc->trace);
		if (vc->vm)
			fprintf(c->out, "vm %u ", vc->vm);
		fprintf(c->out, "vCPU %u seq %" PRIu64 "  %s%s%s  rip 0x%" PRIx64,
			vc->vcpu, e->seq, reason, qual[0] ? " " : "", qual, e->rip);
		if (vc->resumed)
			fprintf(c->out, "  handler %" PRIu64 " ticks  %s\n",
				vc->last_resume.tsc - e->tsc,
				action_name(vc->last_resume.action));
		else
			fprintf(c->out, "  (no resume)\n");
	} else {
		j = json_object();
		hand = json_array();
		guest = json_array();
		json_object_set_new(j, "trace", json_integer(vc->trace));
		json_object_set_new(j, "vcpu", json_integer(vc->vcpu));
		json_object_set_new(j, "seq", hvt_json_u64(e->seq));
		json_object_set_new(j, "reason", json_string(reason));
		json_object_set_new(j, "qual", json_string(qual));
		json_object_set_new(j, "rip", jhex(e->rip));
		json_object_set_new(j, "action", vc->resumed ?
				    json_string(action_name(vc->last_resume.action)) : json_null());
		json_object_set_new(j, "latency_ticks", vc->resumed ?
				    hvt_json_u64(vc->last_resume.tsc - e->tsc) : json_null());
	}
	if (vc->resumed) {
		const struct hvtrace_resume_rec *r = &vc->last_resume;

		for (unsigned int bit = 0; bit < HVTRACE_CHG_NBITS; bit++) {
			int idx = hvt_resume_value_index(r, bit);

			if (idx < 0)
				continue;
			hvt_chg_bit_name(bit, name, sizeof(name));
			if (text)
				fprintf(c->out, "  handler  %-8s 0x%016" PRIx64 " -> 0x%016" PRIx64 "\n",
					name, hvt_vstate_get(&at, bit), r->values[idx]);
			else
				json_array_append_new(hand, jchange(name, hvt_vstate_get(&at, bit),
								    r->values[idx]));
		}
		if (r->action == HVTRACE_ACT_INJECT) {
			if (text)
				fprintf(c->out, "  handler  inject   info 0x%x error 0x%x\n",
					(unsigned int)r->inject_info, (unsigned int)r->inject_error);
			else
				json_object_set_new(j, "inject", jhex(r->inject_info));
		}
	}
	if (gap) {
		uint64_t missing = next->seq > e->seq ? next->seq - e->seq - 1 : 0;

		if (text && missing)
			fprintf(c->out, "  gap      exits %" PRIu64 "..%" PRIu64 " missing (%" PRIu64
				"): what changed before exit %" PRIu64 " is unknown\n",
				e->seq + 1, next->seq - 1, missing, next->seq);
		else if (text)
			fprintf(c->out, "  gap      the next exit has seq %" PRIu64
				" (seq went back): what changed before it is unknown\n", next->seq);
		if (!text) {
			json_t *g = json_object();

			json_object_set_new(g, "from_seq", hvt_json_u64(e->seq + 1));
			json_object_set_new(g, "to_seq", hvt_json_u64(missing ? next->seq - 1 :
								     next->seq));
			json_object_set_new(g, "missing", hvt_json_u64(missing));
			json_object_set_new(j, "gap", g);
		}
	} else if (next) {
		/* Every HVTRACE_CHG_* register, control registers included. */
		for (unsigned int bit = 0; bit < HVTRACE_CHG_NBITS; bit++) {
			if (!(gmask & (1ull << bit)))
				continue;
			hvt_chg_bit_name(bit, name, sizeof(name));
			if (text)
				fprintf(c->out, "  guest    %-8s 0x%016" PRIx64 " -> 0x%016" PRIx64 "\n",
					name, hvt_vstate_get(&vc->state, bit),
					hvt_vstate_get(&next_state, bit));
			else
				json_array_append_new(guest, jchange(name,
					hvt_vstate_get(&vc->state, bit),
					hvt_vstate_get(&next_state, bit)));
		}
	} else if (text) {
		fprintf(c->out, "  guest    (no later exit on this vCPU)\n");
	}
	if (!text) {
		json_object_set_new(j, "handler", hand);
		json_object_set_new(j, "guest", next && !gap ? guest : json_null());
		if (!next || gap)
			json_decref(guest);
		stream_json_item(c, j);
	}
	c->printed++;
	if (c->o->count && c->printed >= c->o->count)
		c->stop = 1;
}

static int step_wanted(const struct rctx *c, const struct hvt_replay_vcpu *vc)
{
	if (c->o->vcpu >= 0 && (int64_t)vc->vcpu != c->o->vcpu)
		return 0;
	if (c->o->trace >= 0 && (int64_t)vc->trace != c->o->trace)
		return 0;
	if (!vc->have_exit || c->stop)
		return 0;
	return !c->o->have_from || vc->last_exit.seq >= c->o->from;
}

static void hook_exit(void *ud, const struct hvt_replay_vcpu *vc,
		    const struct hvtrace_exit_rec *e, int64_t ts)
{
	struct rctx *c = ud;

	if (c->o->mode == M_STEP) {
		if (step_wanted(c, vc))
			print_step(c, vc, e);
		return;
	}
	if (c->o->mode != M_AT)
		return;
	if (c->found) {
		/* the exit after --at's one on its vCPU: it had no resume */
		if (e->vcpu == c->at_vcpu && vc->trace == c->at_trace)
			c->stop = 1;
		return;
	}
	if (e->seq == c->o->at && (c->o->vcpu < 0 || (int64_t)e->vcpu == c->o->vcpu) &&
	    (c->o->trace < 0 || (int64_t)vc->trace == c->o->trace)) {
		c->found = 1;
		c->at_exit = *e;
		c->at_ns = ts;
		c->at_vcpu = e->vcpu;
		c->at_trace = vc->trace;
	}
}

static void hook_resume(void *ud, const struct hvt_replay_vcpu *vc,
		      const struct hvtrace_resume_rec *r, int64_t ts)
{
	struct rctx *c = ud;

	(void)ts;
	if (c->o->mode == M_AT && c->found && !c->have_resume && vc->vcpu == c->at_vcpu &&
	    vc->trace == c->at_trace && r->seq == c->at_exit.seq) {
		c->have_resume = 1;
		c->at_resume = *r;
		c->stop = 1;
	}
}

/* ---- --at ------------------------------------------------------------- */

static void put_xmm_float(FILE *f, uint64_t lo, uint64_t hi)
{
	float fl[4];
	double d[2];
	uint64_t q[2] = { lo, hi };

	memcpy(fl, q, sizeof(fl));
	memcpy(d, q, sizeof(d));
	fprintf(f, "    f32 [%g %g %g %g]  f64 [%g %g]\n", fl[0], fl[1], fl[2], fl[3],
		d[0], d[1]);
}

static int print_at(struct rctx *c)
{
	const struct hvtrace_exit_rec *e = &c->at_exit;
	const struct hvtrace_resume_rec *r = c->have_resume ? &c->at_resume : NULL;
	char reason[64], qual[200], fl[128], mx[128], name[16];
	struct hvt_qual q;
	FILE *f = c->out;

	hvt_qual_decode(e, &q);
	hvt_exit_reason_format(e->exit_reason, reason, sizeof(reason));
	hvt_qual_format(&q, qual, sizeof(qual), HVT_QUAL_FULL);
	hvt_rflags_format(e->rflags, fl, sizeof(fl));
	hvt_mxcsr_format(e->mxcsr, mx, sizeof(mx));
	if (c->o->fmt == F_JSON) {
		json_t *j = json_object(), *x = json_object(), *g = json_object();
		json_t *xmm = json_array(), *res;

		json_object_set_new(j, "verb", json_string("replay"));
		json_object_set_new(j, "mode", json_string("at"));
		json_object_set_new(j, "traces", jpaths(c->o));
		json_object_set_new(j, "trace", json_integer(c->at_trace));
		json_object_set_new(j, "vcpu", json_integer(e->vcpu));
		json_object_set_new(j, "seq", hvt_json_u64(e->seq));
		json_object_set_new(j, "ts_ns", json_integer(c->at_ns));
		json_object_set_new(x, "reason", json_string(reason));
		json_object_set_new(x, "reason_code", jhex(e->exit_reason));
		json_object_set_new(x, "qual", json_string(qual));
		json_object_set_new(x, "exit_qual", jhex(e->exit_qual));
		json_object_set_new(x, "insn_len", json_integer(e->insn_len));
		json_object_set_new(x, "insn_info", jhex(e->insn_info));
		json_object_set_new(x, "guest_linear", jhex(e->guest_linear));
		json_object_set_new(x, "guest_phys", jhex(e->guest_phys));
		json_object_set_new(x, "intr_info", jhex(e->intr_info));
		json_object_set_new(x, "intr_error", jhex(e->intr_error));
		json_object_set_new(x, "idt_info", jhex(e->idt_info));
		json_object_set_new(x, "idt_error", jhex(e->idt_error));
		json_object_set_new(x, "tsc", hvt_json_u64(e->tsc));
		json_object_set_new(j, "exit", x);
		for (unsigned int i = 0; i < 16; i++)
			json_object_set_new(g, hvt_gpr_name(i), jhex(e->gpr[i]));
		json_object_set_new(j, "gpr", g);
		json_object_set_new(j, "rip", jhex(e->rip));
		json_object_set_new(j, "rsp", jhex(e->rsp));
		json_object_set_new(j, "rflags", jhex(e->rflags));
		json_object_set_new(j, "rflags_decoded", json_string(fl));
		json_object_set_new(j, "cr0", jhex(e->cr0));
		json_object_set_new(j, "cr3", jhex(e->cr3));
		json_object_set_new(j, "cr4", jhex(e->cr4));
		for (unsigned int i = 0; i < 16; i++) {
			json_t *xi = json_object();
			char hex[40];

			snprintf(hex, sizeof(hex), "0x%016" PRIx64 "%016" PRIx64,
				 e->xmm[2 * i + 1], e->xmm[2 * i]);
			json_object_set_new(xi, "hex", json_string(hex));
			if (c->o->flt) {
				float fv[4];
				double dv[2];
				json_t *a4 = json_array(), *a2 = json_array();

				memcpy(fv, &e->xmm[2 * i], sizeof(fv));
				memcpy(dv, &e->xmm[2 * i], sizeof(dv));
				for (int k = 0; k < 4; k++)
					json_array_append_new(a4, isfinite(fv[k]) ?
							      json_real(fv[k]) : json_null());
				for (int k = 0; k < 2; k++)
					json_array_append_new(a2, isfinite(dv[k]) ?
							      json_real(dv[k]) : json_null());
				json_object_set_new(xi, "f32", a4);
				json_object_set_new(xi, "f64", a2);
			}
			json_array_append_new(xmm, xi);
		}
		json_object_set_new(j, "xmm", xmm);
		json_object_set_new(j, "mxcsr", jhex(e->mxcsr));
		json_object_set_new(j, "mxcsr_decoded", json_string(mx));
		if (r) {
			json_t *ch = json_array();
			struct hvt_vstate at;

			hvt_vstate_from_exit(&at, e);
			res = json_object();
			json_object_set_new(res, "action", json_string(action_name(r->action)));
			json_object_set_new(res, "latency_ticks", hvt_json_u64(r->tsc - e->tsc));
			json_object_set_new(res, "changed", jhex(r->changed));
			for (unsigned int bit = 0; bit < HVTRACE_CHG_NBITS; bit++) {
				int idx = hvt_resume_value_index(r, bit);

				if (idx >= 0)
					json_array_append_new(ch, jchange(
						hvt_chg_bit_name(bit, name, sizeof(name)),
						hvt_vstate_get(&at, bit), r->values[idx]));
			}
			json_object_set_new(res, "changes", ch);
			if (r->action == HVTRACE_ACT_INJECT) {
				json_object_set_new(res, "inject_info", jhex(r->inject_info));
				json_object_set_new(res, "inject_error", jhex(r->inject_error));
			}
		} else {
			res = json_null();
		}
		json_object_set_new(j, "resume", res);
		hvt_json_write(f, j, 2);
		json_decref(j);
		return HVT_EXIT_OK;
	}
	if (c->ntraces > 1)
		fprintf(f, "trace %u (%s) ", c->at_trace,
			c->at_trace < c->ntraces ? c->trace_paths[c->at_trace] : "?");
	fprintf(f, "vCPU %u exit seq %" PRIu64 "  at %" PRId64 ".%09" PRId64 " s  tsc %" PRIu64 "\n",
		e->vcpu, e->seq, c->at_ns / 1000000000, c->at_ns % 1000000000, e->tsc);
	fprintf(f, "  reason       %s (0x%x)%s%s\n", reason, (unsigned int)e->exit_reason,
		qual[0] ? "  " : "", qual);
	fprintf(f, "  exit_qual    0x%" PRIx64 "  insn_len %u  insn_info 0x%x\n",
		e->exit_qual, (unsigned int)e->insn_len, (unsigned int)e->insn_info);
	fprintf(f, "  guest_linear 0x%" PRIx64 "  guest_phys 0x%" PRIx64 "\n",
		e->guest_linear, e->guest_phys);
	fprintf(f, "  intr_info    0x%x  intr_error 0x%x  idt_info 0x%x  idt_error 0x%x\n",
		(unsigned int)e->intr_info, (unsigned int)e->intr_error,
		(unsigned int)e->idt_info, (unsigned int)e->idt_error);
	fprintf(f, "  rip    0x%016" PRIx64 "\n", e->rip);
	fprintf(f, "  rsp    0x%016" PRIx64 "\n", e->rsp);
	fprintf(f, "  rflags 0x%016" PRIx64 "  [%s]\n", e->rflags, fl);
	fprintf(f, "  cr0    0x%016" PRIx64 "  cr3 0x%016" PRIx64 "  cr4 0x%016" PRIx64 "\n",
		e->cr0, e->cr3, e->cr4);
	for (unsigned int i = 0; i < 16; i += 2)
		fprintf(f, "  %-4s   0x%016" PRIx64 "  %-4s 0x%016" PRIx64 "\n",
			hvt_gpr_name(i), e->gpr[i], hvt_gpr_name(i + 1), e->gpr[i + 1]);
	for (unsigned int i = 0; i < 16; i++) {
		fprintf(f, "  xmm%-2u  0x%016" PRIx64 "%016" PRIx64 "\n", i,
			e->xmm[2 * i + 1], e->xmm[2 * i]);
		if (c->o->flt)
			put_xmm_float(f, e->xmm[2 * i], e->xmm[2 * i + 1]);
	}
	fprintf(f, "  mxcsr  0x%08x  [%s]\n", (unsigned int)e->mxcsr, mx);
	if (!r) {
		fprintf(f, "resume: none recorded\n");
		return HVT_EXIT_OK;
	}
	fprintf(f, "resume: %s after %" PRIu64 " ticks, changed 0x%" PRIx64 "\n",
		action_name(r->action), r->tsc - e->tsc, r->changed);
	{
		struct hvt_vstate at;

		hvt_vstate_from_exit(&at, e);
		for (unsigned int bit = 0; bit < HVTRACE_CHG_NBITS; bit++) {
			int idx = hvt_resume_value_index(r, bit);

			if (idx >= 0)
				fprintf(f, "  %-8s 0x%016" PRIx64 " -> 0x%016" PRIx64 "\n",
					hvt_chg_bit_name(bit, name, sizeof(name)),
					hvt_vstate_get(&at, bit), r->values[idx]);
		}
	}
	if (r->action == HVTRACE_ACT_INJECT)
		fprintf(f, "  inject   info 0x%x error 0x%x\n",
			(unsigned int)r->inject_info, (unsigned int)r->inject_error);
	return HVT_EXIT_OK;
}

/* ---- summary ---------------------------------------------------------- */

static int print_summary(struct rctx *c)
{
	struct hvt_replay *rp = c->rp;
	size_t nv = hvt_replay_vcpu_count(rp);
	uint64_t total = hvt_replay_violation_total(rp);

	if (c->o->fmt == F_JSON) {
		json_t *j = json_object(), *a = json_array();

		json_object_set_new(j, "verb", json_string("replay"));
		json_object_set_new(j, "mode", json_string("summary"));
		json_object_set_new(j, "traces", jpaths(c->o));
		for (size_t i = 0; i < nv; i++) {
			const struct hvt_replay_vcpu *v = hvt_replay_vcpu_at(rp, i);
			json_t *o = json_object();
			char reason[64], qual[160];

			json_object_set_new(o, "trace", json_integer(v->trace));
			json_object_set_new(o, "vm", json_integer(v->vm));
			json_object_set_new(o, "vcpu", json_integer(v->vcpu));
			json_object_set_new(o, "exits", hvt_json_u64(v->exits));
			json_object_set_new(o, "first_seq", hvt_json_u64(v->first_seq));
			json_object_set_new(o, "last_seq", hvt_json_u64(v->last_seq));
			json_object_set_new(o, "missing", hvt_json_u64(v->missing));
			json_object_set_new(o, "span_ns", json_integer(v->last_ns - v->first_ns));
			if (v->have_exit) {
				json_t *le = json_object();

				exit_label(&v->last_exit, reason, sizeof(reason), qual,
					   sizeof(qual), 0);
				json_object_set_new(le, "seq", hvt_json_u64(v->last_exit.seq));
				json_object_set_new(le, "reason", json_string(reason));
				json_object_set_new(le, "qual", json_string(qual));
				json_object_set_new(le, "rip", jhex(v->last_exit.rip));
				json_object_set_new(le, "rsp", jhex(v->last_exit.rsp));
				json_object_set_new(le, "rflags", jhex(v->last_exit.rflags));
				json_object_set_new(o, "last_exit", le);
			}
			json_array_append_new(a, o);
		}
		json_object_set_new(j, "vcpus", a);
		json_object_set_new(j, "discarded_events", hvt_json_u64(hvt_replay_discarded(rp)));
		json_object_set_new(j, "discarded_packets",
				    hvt_json_u64(hvt_replay_discarded_packets(rp)));
		json_object_set_new(j, "incomplete", json_boolean(hvt_replay_incomplete(rp)));
		json_object_set_new(j, "violations", hvt_json_u64(total));
		hvt_json_write(c->out, j, 2);
		json_decref(j);
		return HVT_EXIT_OK;
	}
	{
		struct hvt_table *t = hvt_table_new();
		int vms = 0;

		if (!t)
			return hvt_error("replay: out of memory");
		for (size_t i = 0; i < nv; i++)
			vms |= hvt_replay_vcpu_at(rp, i)->vm != 0;
		if (c->ntraces > 1)
			hvt_table_col(t, "trace", HVT_RIGHT);
		if (vms)
			hvt_table_col(t, "vm", HVT_RIGHT);
		hvt_table_col(t, "vcpu", HVT_RIGHT);
		hvt_table_col(t, "exits", HVT_RIGHT);
		hvt_table_col(t, "first_seq", HVT_RIGHT);
		hvt_table_col(t, "last_seq", HVT_RIGHT);
		hvt_table_col(t, "missing", HVT_RIGHT);
		hvt_table_col(t, "span_s", HVT_RIGHT);
		hvt_table_col(t, "last_exit", HVT_LEFT);
		hvt_table_col(t, "rip", HVT_LEFT);
		for (size_t i = 0; i < nv; i++) {
			const struct hvt_replay_vcpu *v = hvt_replay_vcpu_at(rp, i);
			char reason[64], qual[160];

			exit_label(&v->last_exit, reason, sizeof(reason), qual, sizeof(qual), 0);
			hvt_table_row(t);
			if (c->ntraces > 1)
				hvt_table_cell(t, "%u", v->trace);
			if (vms)
				hvt_table_cell(t, "%u", v->vm);
			hvt_table_cell(t, "%u", v->vcpu);
			hvt_table_cell(t, "%" PRIu64, v->exits);
			hvt_table_cell(t, "%" PRIu64, v->first_seq);
			hvt_table_cell(t, "%" PRIu64, v->last_seq);
			hvt_table_cell(t, "%" PRIu64, v->missing);
			hvt_table_cell(t, "%.6f", (double)(v->last_ns - v->first_ns) / 1e9);
			hvt_table_cell(t, "%s%s%s", reason, qual[0] ? " " : "", qual);
			hvt_table_cell(t, "0x%" PRIx64, v->last_exit.rip);
		}
		if (c->o->fmt == F_CSV)
			hvt_table_csv(t, c->out);
		else
			hvt_table_print(t, c->out);
		hvt_table_free(t);
	}
	if (c->o->fmt == F_TEXT) {
		if (hvt_replay_incomplete(rp)) {
			fprintf(c->out, "INCOMPLETE: %" PRIu64 " events discarded by the tracer",
				hvt_replay_discarded(rp));
			if (hvt_replay_discarded_packets(rp))
				fprintf(c->out, ", %" PRIu64 " packet%s lost whole (events unknown)",
					hvt_replay_discarded_packets(rp),
					hvt_replay_discarded_packets(rp) == 1 ? "" : "s");
			fprintf(c->out, "\n");
		}
		if (total)
			fprintf(c->out, "%" PRIu64 " chain violation%s: run hvtrace replay --check\n",
				total, total == 1 ? "" : "s");
	}
	return HVT_EXIT_OK;
}

/* ---- entry ------------------------------------------------------------ */

int cmd_replay(int argc, char **argv)
{
	struct ropts o;
	struct rctx c = { 0 };
	struct hvt_err err = { { 0 } };
	struct hvt_reader *r;
	struct hvt_event *ev;
	struct hvt_replay_hooks hooks = {
		.violation = hook_violation,
		.exit = hook_exit,
		.resume = hook_resume,
	};
	int rc = 0, status = HVT_EXIT_OK, tty;
	uint64_t nev = 0;

	if (parse_args(&o, argc, argv)) {
		free(o.paths);
		return HVT_EXIT_ERROR;
	}
	hvt_output_init();
	c.o = &o;
	c.out = stdout;
	c.json_first = 1;
	hooks.ud = &c;
	ev = malloc(sizeof(*ev));
	c.rp = hvt_replay_new(&hooks);
	if (c.rp)
		hvt_replay_set_rules(c.rp, o.rules);
	if (!ev || !c.rp) {
		status = hvt_error("replay: out of memory");
		goto out;
	}
	if (o.mode == M_CHECK) {
		unsigned int nparts = hvt_reader_max_parts(o.paths, o.npaths);
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		if (ncpu > 0 && nparts > (unsigned int)ncpu)
			nparts = (unsigned int)ncpu;
		if (nparts > 16)
			nparts = 16;
		if (nparts > 1 && !getenv("HVT_REPLAY_SERIAL")) {
			status = check_parallel(&c, nparts);
			goto out;
		}
	}
	/* --check looks at no vector state: skip decoding XMM0-15 */
	r = hvt_reader_open(o.paths, o.npaths, o.mode == M_CHECK ? HVT_READ_NO_XMM : 0, &err);
	if (!r) {
		status = hvt_error("%s", err.msg);
		goto out;
	}
	c.ntraces = hvt_reader_trace_count(r);
	c.trace_paths = calloc(c.ntraces ? c.ntraces : 1, sizeof(*c.trace_paths));
	if (!c.trace_paths) {
		hvt_reader_close(r);
		status = hvt_error("replay: out of memory");
		goto out;
	}
	for (size_t i = 0; i < c.ntraces; i++)
		c.trace_paths[i] = strdup(hvt_reader_trace_path(r, i));
	if (c.ntraces > 1 && o.fmt == F_TEXT && o.mode != M_AT)
		for (size_t i = 0; i < c.ntraces; i++)
			fprintf(c.out, "trace %zu: %s\n", i, c.trace_paths[i] ? c.trace_paths[i] : "?");
	if (o.mode == M_CHECK && o.fmt == F_JSON)
		fprintf(c.out, "{\"verb\":\"replay\",\"mode\":\"check\",\"violations\":[");
	else if (o.mode == M_CHECK && o.fmt == F_CSV)
		fprintf(c.out, "kind,vcpu,seq,detail,trace\n");
	else if (o.mode == M_STEP && o.fmt == F_JSON)
		fprintf(c.out, "{\"verb\":\"replay\",\"mode\":\"step\",\"steps\":[");
	tty = hvt_is_tty(stderr);
	while (!c.stop && (rc = hvt_reader_next(r, ev, &err)) > 0) {
		if (tty && !(++nev & 0xfffff))
			fprintf(stderr, "\rreplay: %" PRIu64 " events...", nev);
		if (hvt_replay_feed_in(c.rp, ev, hvt_reader_stream_trace(r, ev->stream))) {
			rc = -1;
			snprintf(err.msg, sizeof(err.msg), "replay: out of memory");
			break;
		}
	}
	if (rc >= 0)
		hvt_warn_unversioned(r);
	hvt_reader_close(r);
	if (tty && nev > 0xfffff)
		fprintf(stderr, "\r%40s\r", "");
	if (!c.stop && rc < 0) {
		if (o.mode == M_CHECK || o.mode == M_STEP)
			fflush(c.out);
		status = hvt_error("%s", err.msg);
		goto out;
	}
	if (!c.stop)
		hvt_replay_finish(c.rp);
	switch (o.mode) {
	case M_CHECK: {
		struct check_totals t;

		memset(&t, 0, sizeof(t));
		totals_add(&t, c.rp);
		status = finish_check(&c, &t);
		break;
	}
	case M_STEP:
		if (!c.stop) {
			for (size_t i = 0; i < hvt_replay_vcpu_count(c.rp); i++) {
				const struct hvt_replay_vcpu *vc = hvt_replay_vcpu_at(c.rp, i);

				if (step_wanted(&c, vc))
					print_step(&c, vc, NULL);
			}
		}
		if (o.fmt == F_JSON) {
			json_t *t = json_object();

			json_object_set_new(t, "steps_shown", hvt_json_u64(c.printed));
			json_object_set_new(t, "incomplete", json_boolean(hvt_replay_incomplete(c.rp)));
			stream_json_close(&c, t);
		}
		if (!c.printed)
			status = hvt_error("replay: no exit%s%s to step through",
					   o.vcpu >= 0 ? " on that vCPU" : "",
					   o.have_from ? " from that seq on" : "");
		break;
	case M_AT:
		if (!c.found) {
			const struct hvt_replay_vcpu *vc = o.vcpu >= 0 ?
				hvt_replay_find(c.rp, (uint32_t)o.vcpu) : NULL;

			if (o.vcpu >= 0 && !vc)
				status = hvt_error("replay: no exits on vCPU %" PRId64, o.vcpu);
			else if (vc)
				status = hvt_error("replay: no exit with seq %" PRIu64 " on vCPU %" PRId64
						   " (its seq runs %" PRIu64 "..%" PRIu64 ")",
						   o.at, o.vcpu, vc->first_seq, vc->last_seq);
			else
				status = hvt_error("replay: no exit with seq %" PRIu64 " in the trace", o.at);
			break;
		}
		status = print_at(&c);
		break;
	default:
		status = print_summary(&c);
		break;
	}
out:
	fflush(stdout);
	for (size_t i = 0; c.trace_paths && i < c.ntraces; i++)
		free(c.trace_paths[i]);
	free(c.trace_paths);
	hvt_replay_free(c.rp);
	free(ev);
	free(o.paths);
	free(o.backends);
	return status;
}
