// SPDX-License-Identifier: GPL-2.0
/*
 * hvtrace dump: every event with decoded names, one per line, in time order.
 *
 * Text: an exit line shows vcpu, seq, reason, decoded qualification, RIP and
 * the key registers (-v: the full state on following lines); a resume line
 * the action and each changed register by name with its new value.
 * --format json: one JSON object per line holding every schema field
 * (generated from the X-macro lists) plus the decoded names.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "verbs/output.h"
#include "vmx/qual.h"
#include "decode/reader.h"
#include "engine/who.h"
#include "verbs/verbs.h"

struct dump_opts {
	int verbose, json;
	int64_t vcpu;		/* -1: all */
	int64_t limit;		/* -1: all */
	int reasons;		/* --reason given: only these exits (+ resumes) */
	unsigned char reason[HVTRACE_EXIT_REASON_BASIC_MASK + 1];
	struct hvt_who who;	/* --vm, --pid, --comm */
	int has_seq;		/* --seq A[..B] */
	uint64_t seq_lo, seq_hi;
	const char *const *paths;
	size_t npaths;
};

/* Text fields are NUL-padded; keep printable ASCII only (JSON wants UTF-8). */
static const char *phase_name(unsigned int phase, const char *unknown)
{
	switch (phase) {
	case HVTRACE_PHASE_START: return "START";
	case HVTRACE_PHASE_END: return "END";
	case HVTRACE_PHASE_ATTACH: return "ATTACH";
	case HVTRACE_PHASE_DETACH: return "DETACH";
	case HVTRACE_PHASE_UNTRACEABLE: return "UNTRACEABLE";
	default: return unknown;
	}
}

static void clean_text(const char *src, size_t n, char *dst)
{
	size_t i;

	for (i = 0; i < n && src[i]; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

static void ts_text(const struct hvt_event *ev, char *buf, size_t len)
{
	int64_t s = ev->ts_ns / 1000000000, ns = ev->ts_ns % 1000000000;

	if (ns < 0) {
		ns += 1000000000;
		s--;
	}
	snprintf(buf, len, "%" PRId64 ".%09" PRId64, s, ns);
}

/* ---- JSON: every field, generated from the schema ---------------------- */

#define J_VAL(v) _Generic((v), int32_t: json_integer((json_int_t)(v)), \
			  default: hvt_json_u64((uint64_t)(v)))
#define J_INT(type, name) json_object_set_new(o, #name, J_VAL(rec->name));
#define J_HEX(type, name) json_object_set_new(o, #name, hvt_json_hex(rec->name));
#define J_ARR(type, name, n) do {					\
	json_t *a = json_array();					\
	for (size_t i = 0; i < (n); i++)				\
		json_array_append_new(a, hvt_json_hex(rec->name[i]));	\
	json_object_set_new(o, #name, a);				\
} while (0);
#define J_TXT(name, n) do {						\
	char t[(n) + 1];						\
	clean_text(rec->name, (n), t);					\
	json_object_set_new(o, #name, json_string(t));			\
} while (0);
#define J_SEQ(type, name, ltype, max) do {				\
	json_t *a = json_array();					\
	for (size_t i = 0; i < rec->name##_len && i < (max); i++)	\
		json_array_append_new(a, hvt_json_hex(rec->name[i]));	\
	json_object_set_new(o, #name, a);				\
} while (0);
#define J_LIST(list) list(J_INT, J_HEX, J_ARR, J_TXT, J_SEQ)

static void json_exit(json_t *o, const struct hvtrace_exit_rec *rec)
{
	struct hvt_qual q;
	char buf[200];

	J_LIST(HVTRACE_EXIT_FIELDS)
	hvt_qual_decode(rec, &q);
	hvt_exit_reason_format(rec->exit_reason, buf, sizeof(buf));
	json_object_set_new(o, "reason", json_string(buf));
	json_object_set_new(o, "async", json_boolean(hvt_exit_is_async(&q)));
	json_object_set_new(o, "qual_kind", json_string(hvt_qual_kind_name(q.kind)));
	hvt_qual_format(&q, buf, sizeof(buf), HVT_QUAL_FULL);
	json_object_set_new(o, "qual", json_string(buf));
	json_object_set_new(o, "qual_key", hvt_json_hex(q.key));
}

static void json_resume(json_t *o, const struct hvtrace_resume_rec *rec)
{
	const char *an = hvt_action_name(rec->action);
	json_t *chg = json_object();
	unsigned int bit, k = 0;
	char nb[16];

	J_LIST(HVTRACE_RESUME_FIELDS)
	json_object_set_new(o, "action_name", an ? json_string(an) : json_null());
	for (bit = 0; bit < 64 && k < rec->values_len; bit++)
		if (rec->changed >> bit & 1)
			json_object_set_new(chg, hvt_chg_name(bit, nb, sizeof(nb)),
					    hvt_json_hex(rec->values[k++]));
	json_object_set_new(o, "changed_regs", chg);
}

static void json_session(json_t *o, const struct hvtrace_session_rec *rec)
{
	J_LIST(HVTRACE_SESSION_FIELDS)
	json_object_set_new(o, "phase_name", json_string(phase_name(rec->phase, "?")));
}

static int dump_json(const struct hvt_reader *r, const struct hvt_event *ev)
{
	json_t *o = json_object();
	int ret;

	json_object_set_new(o, "type", json_string(ev->type == HVT_EV_EXIT ? "exit" :
		ev->type == HVT_EV_RESUME ? "resume" :
		ev->type == HVT_EV_SESSION ? "session" : "discarded"));
	json_object_set_new(o, "ts_ns", json_integer(ev->ts_ns));
	json_object_set_new(o, "stream", json_string(hvt_reader_stream_name(r, ev->stream)));
	switch (ev->type) {
	case HVT_EV_EXIT:
		json_exit(o, &ev->u.exit);
		break;
	case HVT_EV_RESUME:
		json_resume(o, &ev->u.resume);
		break;
	case HVT_EV_SESSION:
		json_session(o, &ev->u.session);
		break;
	case HVT_EV_DISCARDED:
		json_object_set_new(o, "count", hvt_json_u64(ev->u.discarded.count));
		if (ev->u.discarded.packets)
			json_object_set_new(o, "packets", hvt_json_u64(ev->u.discarded.packets));
		json_object_set_new(o, "begin_ns", json_integer(ev->u.discarded.begin_ns));
		json_object_set_new(o, "end_ns", json_integer(ev->u.discarded.end_ns));
		break;
	case HVT_EV_KVM:	/* not returned: dump reads without HVT_READ_KVM */
		break;
	}
	ret = hvt_json_write(stdout, o, 0);
	json_decref(o);
	return ret;
}

/* ---- text ------------------------------------------------------------------ */

/* -v: every schema field not already on the event's line, name=value. */
#define T_INT(type, name) printf(" %s=%" PRId64, #name, (int64_t)rec->name);
#define T_HEX(type, name) printf(" %s=0x%" PRIx64, #name, (uint64_t)rec->name);
#define T_ARR(type, name, n) do {					\
	printf("\n    %s:", #name);						\
	for (size_t i = 0; i < (n); i++)				\
		printf(" %" PRIx64, (uint64_t)rec->name[i]);		\
} while (0);
#define T_TXT(name, n) do {						\
	char t[(n) + 1];						\
	clean_text(rec->name, (n), t);					\
	printf(" %s=\"%s\"", #name, t);					\
} while (0);
#define T_SEQ(type, name, ltype, max) do {				\
	printf(" %s=[", #name);						\
	for (size_t i = 0; i < rec->name##_len && i < (max); i++)	\
		printf("%s%" PRIx64, i ? " " : "", (uint64_t)rec->name[i]); \
	printf("]");							\
} while (0);
#define T_LIST(list) list(T_INT, T_HEX, T_ARR, T_TXT, T_SEQ)
#define T_SKIP(type, name, n)	/* arrays an exit shows by register name */
#define T_LIST_SCALARS(list) list(T_INT, T_HEX, T_SKIP, T_TXT, T_SEQ)

static void verbose_exit(const struct hvtrace_exit_rec *rec)
{
	unsigned int i;

	/* Registers by name first, as a debugger shows them. */
	for (i = 0; i < 16; i++)
		printf("%s    %-3s %016" PRIx64, i % 4 ? "" : "\n", hvt_gpr_name(i),
		       rec->gpr[i]);
	printf("\n    rip %016" PRIx64 "    rflags %016" PRIx64 "    mxcsr %08" PRIx32,
	       rec->rip, rec->rflags, rec->mxcsr);
	printf("\n    cr0 %016" PRIx64 "    cr3 %016" PRIx64 "    cr4 %016" PRIx64,
	       rec->cr0, rec->cr3, rec->cr4);
	for (i = 0; i < 16; i++)
		printf("%s    xmm%-2u %016" PRIx64 "%016" PRIx64, i % 2 ? "" : "\n", i,
		       rec->xmm[2 * i + 1], rec->xmm[2 * i]);
	printf("\n   ");
	T_LIST_SCALARS(HVTRACE_EXIT_FIELDS)
	printf("\n");
}

static void text_exit(const struct hvt_event *ev, const char *ts, int verbose)
{
	const struct hvtrace_exit_rec *e = &ev->u.exit;
	struct hvt_qual q;
	char reason[64], qual[160];

	hvt_qual_decode(e, &q);
	hvt_exit_reason_format(e->exit_reason, reason, sizeof(reason));
	hvt_qual_format(&q, qual, sizeof(qual), HVT_QUAL_FULL);
	printf("%s exit    vcpu %" PRIu32 " seq %" PRIu64 " %s%s%s%s rip 0x%" PRIx64
	       " len %" PRIu32 " rax 0x%" PRIx64 " rcx 0x%" PRIx64 " rdx 0x%" PRIx64
	       " rbx 0x%" PRIx64 " rsp 0x%" PRIx64 " tsc %" PRIu64, ts, e->vcpu, e->seq, reason,
	       qual[0] ? " (" : "", qual, qual[0] ? ")" : "", e->rip, e->insn_len, e->gpr[0],
	       e->gpr[1], e->gpr[2], e->gpr[3], e->rsp, e->tsc);
	if (q.kind == HVTRACE_QUAL_NONE && e->exit_qual)
		printf(" qual 0x%" PRIx64, e->exit_qual);
	if (e->comm[0]) {
		char comm[HVTRACE_COMM_LEN + 1];

		/* schema v3: who caused the exit */
		hvt_who_comm(e, comm);
		printf(" pid %" PRIu32 " tid %" PRIu32 " comm %s cpl %u", e->pid, e->tid, comm,
		       (unsigned int)e->cpl);
	}
	if (verbose)
		verbose_exit(e);
	else
		printf("\n");
}

static void text_resume(const struct hvt_event *ev, const char *ts, int verbose)
{
	const struct hvtrace_resume_rec *rec = &ev->u.resume;
	const char *an = hvt_action_name(rec->action);
	unsigned int bit, k = 0;
	char nb[16];

	printf("%s resume  vcpu %" PRIu32 " seq %" PRIu64 " ", ts, rec->vcpu, rec->seq);
	if (an)
		printf("%s", an);
	else
		printf("ACTION(%u)", rec->action);
	if (rec->action == HVTRACE_ACT_INJECT)
		printf(" inject 0x%" PRIx32 " error 0x%" PRIx32, rec->inject_info,
		       rec->inject_error);
	for (bit = 0; bit < 64; bit++) {
		if (!(rec->changed >> bit & 1))
			continue;
		if (k < rec->values_len)
			printf(" %s=0x%" PRIx64, hvt_chg_name(bit, nb, sizeof(nb)),
			       rec->values[k++]);
		else
			printf(" %s=?", hvt_chg_name(bit, nb, sizeof(nb)));
	}
	if (!rec->changed)
		printf(" (no change)");
	printf(" tsc %" PRIu64, rec->tsc);
	if (verbose) {
		printf("\n   ");
		T_LIST(HVTRACE_RESUME_FIELDS)
	}
	printf("\n");
}

static void text_session(const struct hvt_event *ev, const char *ts, int verbose)
{
	const struct hvtrace_session_rec *rec = &ev->u.session;
	char wl[sizeof(rec->workload) + 1], mv[sizeof(rec->module_version) + 1];

	clean_text(rec->workload, sizeof(rec->workload), wl);
	clean_text(rec->module_version, sizeof(rec->module_version), mv);
	printf("%s session vcpu %" PRIu32 " %s run %" PRIu64 " workload %s seed %" PRIu64
	       " iterations %" PRIu64 " schema %" PRIu32 " module %s",
	       ts, rec->vcpu, phase_name(rec->phase, "PHASE?"), rec->run_id, wl,
	       rec->seed, rec->iterations, rec->schema_version, mv);
	if (rec->phase == HVTRACE_PHASE_END) {
		char reason[64];

		hvt_exit_reason_format(rec->end_reason, reason, sizeof(reason));
		printf(" exits %" PRIu64 " dropped %" PRIu64 " status %" PRId32
		       " end %s vm_insn_error %" PRIu32, rec->exits, rec->dropped,
		       rec->status, reason, rec->vm_insn_error);
	}
	if (verbose) {
		printf("\n   ");
		T_LIST(HVTRACE_SESSION_FIELDS)
	}
	printf("\n");
}

static int dump_text(const struct hvt_reader *r, const struct hvt_event *ev, int verbose)
{
	char ts[32];

	ts_text(ev, ts, sizeof(ts));
	switch (ev->type) {
	case HVT_EV_EXIT:
		text_exit(ev, ts, verbose);
		break;
	case HVT_EV_RESUME:
		text_resume(ev, ts, verbose);
		break;
	case HVT_EV_SESSION:
		text_session(ev, ts, verbose);
		break;
	case HVT_EV_DISCARDED:
		if (ev->u.discarded.packets)
			printf("%s LOST    %s: %" PRIu64 " packet%s lost whole by the tracer (events unknown)",
			       ts, hvt_reader_stream_name(r, ev->stream), ev->u.discarded.packets,
			       ev->u.discarded.packets == 1 ? "" : "s");
		else if (ev->u.discarded.count)
			printf("%s LOST    %s: %" PRIu64 " events discarded by the tracer",
			       ts, hvt_reader_stream_name(r, ev->stream), ev->u.discarded.count);
		else
			printf("%s LOST    %s: events discarded by the tracer (count unknown)",
			       ts, hvt_reader_stream_name(r, ev->stream));
		printf(" between %" PRId64 " and %" PRId64 " ns\n", ev->u.discarded.begin_ns,
		       ev->u.discarded.end_ns);
		break;
	case HVT_EV_KVM:	/* not returned: dump reads without HVT_READ_KVM */
		break;
	}
	return ferror(stdout) ? -1 : 0;
}

/* ---- command line -------------------------------------------------------- */

static void dump_usage(FILE *f)
{
	fprintf(f,
		"usage: hvtrace dump [OPTION...] TRACE...\n"
		"Every event with decoded names, one per line, in time order: exits (vcpu,\n"
		"seq, reason, qualification, RIP, key registers), resumes (action, changed\n"
		"registers with their new values), session records and lost-event records.\n\n"
		"  -v, --verbose          the full guest state of each exit\n"
		"  --format text|json     json: one object per line with every field\n"
		"  --vcpu N               events of vCPU N only (lost-event records stay)\n"
		"  --reason NAME[,NAME]   exits of these reasons (names or numbers) and\n"
		"                         their resumes; session and lost records stay\n"
		"  --seq A[..B]           exits with seq A (to B) and their resumes\n"
		"  --pid PID              exits caused by process PID and their resumes\n"
		"  --comm NAME            exits caused by threads named NAME (schema v3)\n"
		"  --vm N                 exits of the VM numbered N or whose VMM has pid N\n"
		"  --limit N              stop after N events\n"
		"  -h, --help             this help\n");
}

static int parse_num(const char *s, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int dump_parse(int argc, char **argv, struct dump_opts *o, int *help)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "format", required_argument, NULL, 'f' },
		{ "vcpu", required_argument, NULL, 'c' },
		{ "limit", required_argument, NULL, 'n' },
		{ "reason", required_argument, NULL, 'r' },
		{ "seq", required_argument, NULL, 's' },
		{ "pid", required_argument, NULL, 'P' },
		{ "comm", required_argument, NULL, 'C' },
		{ "vm", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->vcpu = o->limit = -1;
	hvt_who_init(&o->who);
	*help = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			o->verbose = 1;
			break;
		case 'f':
			if (!strcmp(optarg, "json"))
				o->json = 1;
			else if (strcmp(optarg, "text"))
				return hvt_error("dump: --format takes text or json, not '%s'", optarg);
			break;
		case 'c':
			if (parse_num(optarg, UINT32_MAX, &o->vcpu))
				return hvt_error("dump: --vcpu takes a vCPU number, not '%s'", optarg);
			break;
		case 's': {
			char *dots = strstr(optarg, "..");
			int64_t lo, hi;

			if (dots)
				*dots = '\0';
			if (parse_num(optarg, INT64_MAX, &lo) ||
			    (dots && parse_num(dots + 2, INT64_MAX, &hi)) || (dots && hi < lo)) {
				if (dots)
					*dots = '.';
				return hvt_error("dump: --seq takes SEQ or FIRST..LAST, not '%s'", optarg);
			}
			if (dots)
				*dots = '.';
			o->has_seq = 1;
			o->seq_lo = (uint64_t)lo;
			o->seq_hi = dots ? (uint64_t)hi : (uint64_t)lo;
			break;
		}
		case 'P':
			if (parse_num(optarg, UINT32_MAX, &o->who.pid))
				return hvt_error("dump: --pid takes a process id, not '%s'", optarg);
			break;
		case 'C':
			if (!optarg[0])
				return hvt_error("dump: --comm takes a thread name, not ''");
			hvt_who_set_comm(&o->who, optarg);
			break;
		case 'M':
			if (parse_num(optarg, UINT32_MAX, &o->who.vm))
				return hvt_error("dump: --vm takes a VM number or a VMM pid, not '%s'",
						 optarg);
			break;
		case 'n':
			if (parse_num(optarg, INT64_MAX, &o->limit))
				return hvt_error("dump: --limit takes a number, not '%s'", optarg);
			break;
		case 'r': {
			char *list = strdup(optarg), *tok, *save = NULL;

			if (!list)
				return hvt_error("out of memory");
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				uint32_t b;

				if (hvt_exit_reason_parse(tok, &b)) {
					hvt_error("dump: --reason: '%s' is not an exit reason name or number",
						  tok);
					free(list);
					return HVT_EXIT_ERROR;
				}
				o->reason[b] = 1;
				o->reasons = 1;
			}
			free(list);
			if (!o->reasons)
				return hvt_error("dump: --reason needs a reason name");
			break;
		}
		case 'h':
			*help = 1;
			return 0;
		case ':':
			return hvt_error("dump: option '%s' needs a value", argv[optind - 1]);
		default:
			return hvt_error("dump: unknown option '%s' (try hvtrace dump --help)",
					 argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return hvt_error("dump: no TRACE given (try hvtrace dump --help)");
	o->paths = (const char *const *)argv + optind;
	o->npaths = (size_t)(argc - optind);
	return 0;
}

/*
 * --reason: an exit of a chosen reason is shown, and so is the resume that
 * ends it (the last shown exit of each vCPU is remembered).
 */
static int reason_wanted(const struct dump_opts *o, const struct hvt_reader *r,
			 const struct hvt_event *ev)
{
	static struct { uint32_t trace, vcpu; uint64_t seq; int valid; } shown[256];
	uint32_t trace = hvt_reader_stream_trace(r, ev->stream);
	uint32_t vcpu;
	size_t i;

	if (ev->type != HVT_EV_EXIT && ev->type != HVT_EV_RESUME)
		return 1;
	vcpu = ev->type == HVT_EV_EXIT ? ev->u.exit.vcpu : ev->u.resume.vcpu;
	for (i = 0; i < 256; i++)
		if (!shown[i].valid || (shown[i].trace == trace && shown[i].vcpu == vcpu))
			break;
	if (ev->type == HVT_EV_EXIT) {
		int want = o->reason[ev->u.exit.exit_reason & HVTRACE_EXIT_REASON_BASIC_MASK];

		if (i < 256) {
			shown[i].trace = trace;
			shown[i].vcpu = vcpu;
			shown[i].valid = 1;
			shown[i].seq = want ? ev->u.exit.seq : UINT64_MAX;
		}
		return want;
	}
	return i < 256 && shown[i].valid && shown[i].seq == ev->u.resume.seq;
}

/*
 * --seq, --pid, --comm, --vm: an exit that passes is shown with the resume
 * that ends it (the last exit of each vCPU is remembered); session and
 * lost-event records stay.
 */
struct exit_memo {
	uint32_t trace, vcpu;
	uint64_t seq;
	int shown;
};

static int exit_wanted(struct dump_opts *o, const struct hvt_reader *r,
		       const struct hvt_event *ev, struct exit_memo **memo, size_t *nmemo)
{
	uint32_t trace = hvt_reader_stream_trace(r, ev->stream);
	uint32_t vcpu;
	struct exit_memo *m = NULL;
	size_t i;

	if (ev->type == HVT_EV_SESSION)
		return hvt_who_session(&o->who, trace, &ev->u.session) ? -1 : 1;
	if (ev->type != HVT_EV_EXIT && ev->type != HVT_EV_RESUME)
		return 1;
	vcpu = ev->type == HVT_EV_EXIT ? ev->u.exit.vcpu : ev->u.resume.vcpu;
	for (i = 0; i < *nmemo; i++)
		if ((*memo)[i].trace == trace && (*memo)[i].vcpu == vcpu)
			m = &(*memo)[i];
	if (ev->type == HVT_EV_RESUME)
		return m && m->shown && m->seq == ev->u.resume.seq;
	if (!m) {
		struct exit_memo *n = realloc(*memo, (*nmemo + 1) * sizeof(*n));

		if (!n)
			return -1;
		*memo = n;
		m = &n[(*nmemo)++];
		m->trace = trace;
		m->vcpu = vcpu;
	}
	hvt_who_exit(&o->who, &ev->u.exit);
	m->seq = ev->u.exit.seq;
	m->shown = (!o->has_seq || (ev->u.exit.seq >= o->seq_lo && ev->u.exit.seq <= o->seq_hi)) &&
		   hvt_who_match(&o->who, trace, &ev->u.exit);
	return m->shown;
}

static int event_vcpu(const struct hvt_event *ev, uint32_t *vcpu)
{
	switch (ev->type) {
	case HVT_EV_EXIT:
		*vcpu = ev->u.exit.vcpu;
		return 1;
	case HVT_EV_RESUME:
		*vcpu = ev->u.resume.vcpu;
		return 1;
	case HVT_EV_SESSION:
		*vcpu = ev->u.session.vcpu;
		return 1;
	default:
		return 0;
	}
}

int cmd_dump(int argc, char **argv)
{
	struct hvt_err err = { { 0 } };
	struct hvt_event ev;
	struct dump_opts o;
	struct hvt_reader *r;
	int64_t n = 0;
	int rc = 0, help, ret = HVT_EXIT_OK;
	struct exit_memo *memo = NULL;
	size_t nmemo = 0;
	uint64_t exits = 0;

	if (dump_parse(argc, argv, &o, &help))
		return HVT_EXIT_ERROR;
	if (help) {
		dump_usage(stdout);
		return HVT_EXIT_OK;
	}
	r = hvt_reader_open(o.paths, o.npaths, 0, &err);
	if (!r)
		return hvt_error("%s", err.msg);
	while ((o.limit < 0 || n < o.limit) && (rc = hvt_reader_next(r, &ev, &err)) > 0) {
		uint32_t vcpu;

		if (o.vcpu >= 0 && event_vcpu(&ev, &vcpu) && vcpu != (uint64_t)o.vcpu)
			continue;
		if (o.reasons && !reason_wanted(&o, r, &ev))
			continue;
		if (o.has_seq || hvt_who_active(&o.who)) {
			int w = exit_wanted(&o, r, &ev, &memo, &nmemo);

			if (w < 0) {
				ret = hvt_error("out of memory");
				goto out;
			}
			exits += ev.type == HVT_EV_EXIT;
			if (ev.type == HVT_EV_SESSION && hvt_who_needs_thread(&o.who)) {
				uint32_t schema, t = hvt_who_lacks_thread(&o.who, exits, &schema);

				if (t) {
					ret = hvt_error_no_thread(hvt_reader_trace_path(r, t - 1), schema,
								  o.who.pid >= 0 ? "--pid" : "--comm");
					goto out;
				}
			}
			if (!w)
				continue;
		}
		n++;
		if (o.json ? dump_json(r, &ev) : dump_text(r, &ev, o.verbose)) {
			ret = hvt_error("cannot write the output: %s", strerror(errno));
			goto out;
		}
	}
	if (o.limit >= 0 && n >= o.limit)
		rc = 0;
	if (rc < 0)
		ret = hvt_error("%s", err.msg);
	else if (fflush(stdout))
		ret = hvt_error("cannot write the output: %s", strerror(errno));
	else
		hvt_warn_unversioned(r);
	if (ret == HVT_EXIT_OK && hvt_who_needs_thread(&o.who)) {
		uint32_t schema, t = hvt_who_lacks_thread(&o.who, exits, &schema);

		if (t)
			ret = hvt_error_no_thread(hvt_reader_trace_path(r, t - 1), schema,
						  o.who.pid >= 0 ? "--pid" : "--comm");
	}
out:
	free(memo);
	hvt_who_free(&o.who);
	hvt_reader_close(r);
	return ret;
}
