// SPDX-License-Identifier: GPL-2.0
/*
 * Diff engine: two readers in lockstep, per-vCPU queues of exit+resume
 * items, Myers alignment on a bounded window when the runs disagree.
 * See diff.h for the contract.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/align.h"
#include "engine/diff.h"
#include "engine/who.h"
#include "vmx/qual.h"
#include "engine/replay.h"

/* ---- field descriptors, generated from the schema ---------------------- */

enum ev_kind { EVK_EXIT, EVK_RESUME, EVK_SESSION, EVK_N };
static const char *const ev_short[EVK_N] = { "exit", "resume", "session" };
static const char *const ev_long[EVK_N] = {
	HVTRACE_EVENT_EXIT, HVTRACE_EVENT_RESUME, HVTRACE_EVENT_SESSION,
};

enum fkind { FK_INT, FK_HEX, FK_ARR, FK_TXT, FK_SEQ };

struct fdesc {
	enum ev_kind ev;
	const char *name;
	enum fkind kind;
	size_t off, size;
	unsigned int count;
	size_t len_off, len_size;	/* FK_SEQ: the length member */
	int is_signed;
};

#define SGN_u8 0
#define SGN_u16 0
#define SGN_u32 0
#define SGN_u64 0
#define SGN_s32 1
#define FD_I(ev, st, k, type, name) \
	{ ev, #name, k, offsetof(struct st, name), sizeof(type), 1, 0, 0, SGN_##type },
#define FD_A(ev, st, type, name, cnt) \
	{ ev, #name, FK_ARR, offsetof(struct st, name), sizeof(type), cnt, 0, 0, 0 },
#define FD_T(ev, st, name, cnt) \
	{ ev, #name, FK_TXT, offsetof(struct st, name), 1, cnt, 0, 0, 0 },
#define FD_S(ev, st, type, name, ltype, max) \
	{ ev, #name, FK_SEQ, offsetof(struct st, name), sizeof(type), max, \
	  offsetof(struct st, name##_len), sizeof(ltype), 0 },

#define X_INT(t, n) FD_I(EVK_EXIT, hvtrace_exit_rec, FK_INT, t, n)
#define X_HEX(t, n) FD_I(EVK_EXIT, hvtrace_exit_rec, FK_HEX, t, n)
#define X_ARR(t, n, c) FD_A(EVK_EXIT, hvtrace_exit_rec, t, n, c)
#define X_TXT(n, c) FD_T(EVK_EXIT, hvtrace_exit_rec, n, c)
#define X_SEQ(t, n, l, m) FD_S(EVK_EXIT, hvtrace_exit_rec, t, n, l, m)
#define R_INT(t, n) FD_I(EVK_RESUME, hvtrace_resume_rec, FK_INT, t, n)
#define R_HEX(t, n) FD_I(EVK_RESUME, hvtrace_resume_rec, FK_HEX, t, n)
#define R_ARR(t, n, c) FD_A(EVK_RESUME, hvtrace_resume_rec, t, n, c)
#define R_TXT(n, c) FD_T(EVK_RESUME, hvtrace_resume_rec, n, c)
#define R_SEQ(t, n, l, m) FD_S(EVK_RESUME, hvtrace_resume_rec, t, n, l, m)
#define S_INT(t, n) FD_I(EVK_SESSION, hvtrace_session_rec, FK_INT, t, n)
#define S_HEX(t, n) FD_I(EVK_SESSION, hvtrace_session_rec, FK_HEX, t, n)
#define S_ARR(t, n, c) FD_A(EVK_SESSION, hvtrace_session_rec, t, n, c)
#define S_TXT(n, c) FD_T(EVK_SESSION, hvtrace_session_rec, n, c)
#define S_SEQ(t, n, l, m) FD_S(EVK_SESSION, hvtrace_session_rec, t, n, l, m)

static const struct fdesc fdescs[] = {
	HVTRACE_EXIT_FIELDS(X_INT, X_HEX, X_ARR, X_TXT, X_SEQ)
	HVTRACE_RESUME_FIELDS(R_INT, R_HEX, R_ARR, R_TXT, R_SEQ)
	HVTRACE_SESSION_FIELDS(S_INT, S_HEX, S_ARR, S_TXT, S_SEQ)
};
#define NFD (sizeof(fdescs) / sizeof(fdescs[0]))

/* Ignored: the whole field, or some of its elements (bit i: element i). */
struct fignore {
	int all;
	uint64_t elems;
};

/* ---- queues ---------------------------------------------------------------- */

struct item {
	struct hvtrace_exit_rec x;
	struct hvtrace_resume_rec r;
	int has_r;
	int no_resume_counted;
	uint64_t key;
};

/*
 * The exits of one side and vCPU not yet compared.  The first QFULL are
 * kept whole: they are compared next.  During a long divergence the rest
 * are packed, each as its XOR with the exit before it with the zero words
 * left out (consecutive exits differ in a few registers), except the last,
 * whose resume may still come.  Keys stay unpacked for the alignment.
 */
#define QFULL 128

struct qent {
	uint64_t key;
	unsigned char *blob;	/* the packed item, or NULL */
};

struct qextra {
	struct item tail;	/* item n - 1 when n > QFULL */
	struct item prev;	/* the last packed item, whole */
};

struct queue {
	struct qent *m;		/* ring: every item */
	size_t cap, head, n;
	struct item *full;	/* ring: items 0 .. min(n, QFULL) - 1 */
	size_t fcap, fhead;
	struct qextra *x;
};

static void qfree(struct queue *q);

/* What context and reports keep of an exit: enough for its label. */
struct kexit {
	uint64_t seq, qual, rip, gpr[3], lin, phys;
	uint32_t reason, intr_info, insn_len;
};

struct vst {
	uint32_t trace;		/* index of the trace in its side's input */
	uint32_t vcpu;
	struct queue q[2];
	int have_seq[2];
	uint64_t last_seq[2];
	int skip_resume[2];
	uint64_t skip_seq[2];
	int seen[2];
	int diverged;
	struct hvt_salign sa;	/* the divergence's window (align.h) */
	/* last aligned pairs, for the first divergence's context */
	struct { struct kexit a, b; int differs; } ring[HVT_DIFF_CTX];
	unsigned int ring_n, ring_head;
	int have_session[2];
	struct hvtrace_session_rec session[2];
	int tainted;		/* an input differed: later register values may too */
	struct hvt_diff_field last_input;	/* the last one (when tainted) */
};

/* --pid/--comm: the last exit of each CPU, for its resume. */
struct cpumap {
	uint32_t trace, cpu, ord;
	uint64_t seq;
	int wanted;
};

#define MAX_LOOSE_TRACES 256

/*
 * Numbers given in order of first appearance on one side, per trace: a
 * thread's (--pid/--comm: (trace, tid)) or a VM's (KVM: (trace, vm)).
 */
struct ordmap {
	struct ordent {
		uint32_t trace, key, ord;
	} *e;
	size_t n, cap;
	uint32_t next[MAX_LOOSE_TRACES];	/* the next number, per trace */
};

struct hvt_diff {
	struct hvt_diff_opts o;
	struct fignore ign[NFD];
	struct hvt_diff_result res;
	struct vst *v;
	size_t nv, capv;
	size_t lastv;
	int eof[2];
	size_t buffered[2];
	int filtered;		/* this pass compares one (trace, vCPU) */
	uint64_t filter;	/* its key */
	int count_global;	/* count discarded records in this pass */
	uint64_t *keys[2];	/* alignment scratch, window sized */
	size_t keys_cap;
	struct hvt_script script;
	uint64_t *ids;		/* (trace, vCPU) keys seen (per-vCPU passes) */
	size_t nids, capids;
	struct prefetch *pf;	/* [2], one decoding thread per trace */
	int overflow;
	int tty;			/* progress on stderr */
	uint64_t rip_mask;		/* RIP bits in the alignment key */
	uint64_t nevents;
	size_t cap_items;
	uint64_t first_key_after;	/* (trace, vCPU) whose next ops fill first.after */
	struct hvt_who who[2];		/* --pid/--comm, per side */
	int by_thread;
	struct ordmap tids[2];
	struct cpumap *cpus[2];
	size_t ncpus[2], capcpus[2];
	struct ordmap vms[2];
	/* per side and trace: a session record names the KVM or host backend */
	unsigned char loose[2][MAX_LOOSE_TRACES];
};

/* ---- keys and labels --------------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 29);
}

uint64_t hvt_diff_key(const struct hvtrace_exit_rec *e)
{
	struct hvt_qual q;

	hvt_qual_decode(e, &q);
	return mix(mix(mix(0x68767472, q.reason), q.key), e->rip);
}

static void kexit_of(struct kexit *k, const struct hvtrace_exit_rec *e)
{
	k->seq = e->seq;
	k->qual = e->exit_qual;
	k->rip = e->rip;
	k->gpr[0] = e->gpr[0];
	k->gpr[1] = e->gpr[1];
	k->gpr[2] = e->gpr[2];
	k->lin = e->guest_linear;
	k->phys = e->guest_phys;
	k->reason = e->exit_reason;
	k->intr_info = e->intr_info;
	k->insn_len = e->insn_len;
}

static void label_of(const struct kexit *k, char *buf, size_t len)
{
	struct hvtrace_exit_rec e;
	struct hvt_qual q;
	char reason[64], qual[96];

	memset(&e, 0, sizeof(e));
	e.seq = k->seq;
	e.exit_qual = k->qual;
	e.rip = k->rip;
	e.gpr[0] = k->gpr[0];
	e.gpr[1] = k->gpr[1];
	e.gpr[2] = k->gpr[2];
	e.guest_linear = k->lin;
	e.guest_phys = k->phys;
	e.exit_reason = k->reason;
	e.intr_info = k->intr_info;
	e.insn_len = k->insn_len;
	hvt_qual_decode(&e, &q);
	hvt_exit_reason_format(e.exit_reason, reason, sizeof(reason));
	hvt_qual_format(&q, qual, sizeof(qual), 0);
	snprintf(buf, len, "%.40s%s%.64s", reason, qual[0] ? " " : "", qual);
}

static void ctx_of(struct hvt_diff_ctx *c, char op, const struct kexit *a,
		   const struct kexit *b)
{
	c->op = op;
	c->seq_a = a ? a->seq : 0;
	c->seq_b = b ? b->seq : 0;
	c->rip = a ? a->rip : b->rip;
	label_of(a ? a : b, c->label, sizeof(c->label));
}

/* ---- setup --------------------------------------------------------------------- */

static int find_fdesc(enum ev_kind ev, const char *name)
{
	for (size_t i = 0; i < NFD; i++)
		if (fdescs[i].ev == ev && !strcmp(fdescs[i].name, name))
			return (int)i;
	return -1;
}

static void default_ignores(struct hvt_diff *d)
{
	int i;

#define N(event, field)							\
	for (int e_ = 0; e_ < EVK_N; e_++)				\
		if (!strcmp(ev_long[e_], event) &&			\
		    (i = find_fdesc((enum ev_kind)e_, #field)) >= 0)	\
			d->ign[i].all = 1;
	HVTRACE_NONDET_FIELDS(N)
#undef N
	/* seq is positional: the alignment replaces it */
	d->ign[find_fdesc(EVK_EXIT, "seq")].all = 1;
	d->ign[find_fdesc(EVK_RESUME, "seq")].all = 1;
}

struct hvt_diff *hvt_diff_new(const struct hvt_diff_opts *o)
{
	struct hvt_diff *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->o = *o;
	if (d->o.window < 16)
		d->o.window = 16;
	if (!d->o.max_window)
		d->o.max_window = HVT_DIFF_MAX_WINDOW_DEFAULT;
	if (d->o.max_window < d->o.window)
		d->o.max_window = d->o.window;
	if (!d->o.resync)
		d->o.resync = 1;
	d->filtered = 0;
	d->tty = o->progress;
	d->rip_mask = !o->rip_mask ? ~0ull : o->rip_mask == HVT_DIFF_RIP_NONE ? 0 : o->rip_mask;
	for (int s = 0; s < 2; s++) {
		hvt_who_init(&d->who[s]);
		d->who[s].pid = o->pid_set ? (int64_t)o->pid[s] : -1;
		if (o->comm)
			hvt_who_set_comm(&d->who[s], o->comm);
	}
	d->o.comm = NULL;	/* the caller's string is not kept */
	d->by_thread = hvt_who_needs_thread(&d->who[0]) || hvt_who_needs_thread(&d->who[1]);
	default_ignores(d);
	/* two runs of a program are two processes: their page tables differ */
	if (d->by_thread)
		d->ign[find_fdesc(EVK_EXIT, "cr3")].all = 1;
	return d;
}

void hvt_diff_clear_ignores(struct hvt_diff *d)
{
	memset(d->ign, 0, sizeof(d->ign));
}

int hvt_diff_ignore(struct hvt_diff *d, const char *spec, char *msg, size_t len)
{
	char name[64];
	const char *dot = strchr(spec, '.'), *fname = spec, *br;
	int evsel = -1, matched = 0;
	long elem = -1;
	size_t n;

	if (dot) {
		for (int e = 0; e < EVK_N; e++)
			if ((size_t)(dot - spec) == strlen(ev_short[e]) &&
			    !strncmp(spec, ev_short[e], (size_t)(dot - spec)))
				evsel = e;
			else if ((size_t)(dot - spec) == strlen(ev_long[e]) &&
				 !strncmp(spec, ev_long[e], (size_t)(dot - spec)))
				evsel = e;
		if (evsel < 0) {
			snprintf(msg, len, "--ignore %s: no event '%.*s' (exit, resume, session)",
				 spec, (int)(dot - spec), spec);
			return -1;
		}
		fname = dot + 1;
	}
	br = strchr(fname, '[');
	n = br ? (size_t)(br - fname) : strlen(fname);
	if (!n || n >= sizeof(name)) {
		snprintf(msg, len, "--ignore: bad field name '%s'", spec);
		return -1;
	}
	memcpy(name, fname, n);
	name[n] = '\0';
	if (br) {
		char *end;

		elem = strtol(br + 1, &end, 10);
		if (end == br + 1 || *end != ']' || end[1] || elem < 0 || elem > 63) {
			snprintf(msg, len, "--ignore: bad element in '%s'", spec);
			return -1;
		}
	} else if (evsel < 0 || evsel == EVK_EXIT) {
		/* a GPR name means that element of exit.gpr */
		for (unsigned int g = 0; g < 16; g++)
			if (!strcmp(name, hvt_gpr_name(g))) {
				d->ign[find_fdesc(EVK_EXIT, "gpr")].elems |= 1ull << g;
				if (g == 4)
					d->ign[find_fdesc(EVK_EXIT, "rsp")].all = 1;
				return 0;
			}
	}
	for (size_t i = 0; i < NFD; i++) {
		if ((evsel >= 0 && (int)fdescs[i].ev != evsel) || strcmp(fdescs[i].name, name))
			continue;
		if (elem >= 0) {
			if ((fdescs[i].kind != FK_ARR && fdescs[i].kind != FK_SEQ) ||
			    (unsigned long)elem >= fdescs[i].count)
				continue;
			d->ign[i].elems |= 1ull << elem;
		} else {
			d->ign[i].all = 1;
		}
		matched = 1;
	}
	if (!matched) {
		snprintf(msg, len, "--ignore %s: no such field in the hvtrace schema", spec);
		return -1;
	}
	return 0;
}

void hvt_diff_ignored(const struct hvt_diff *d, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < NFD && off < len; i++) {
		if (d->ign[i].all) {
			off += (size_t)snprintf(buf + off, len - off, "%s%s.%s", off ? "," : "",
						ev_short[fdescs[i].ev], fdescs[i].name);
			continue;
		}
		for (unsigned int e = 0; e < fdescs[i].count && e < 64 && off < len; e++)
			if (d->ign[i].elems & (1ull << e))
				off += (size_t)snprintf(buf + off, len - off, "%s%s.%s[%u]",
							off ? "," : "", ev_short[fdescs[i].ev],
							fdescs[i].name, e);
	}
}

void hvt_diff_free(struct hvt_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nv; i++) {
		qfree(&d->v[i].q[0]);
		qfree(&d->v[i].q[1]);
	}
	free(d->v);
	free(d->keys[0]);
	free(d->keys[1]);
	hvt_script_free(&d->script);
	free(d->res.missing_list);
	free(d->res.inserted_list);
	free(d->res.fields);
	free(d->res.inputs);
	free(d->ids);
	free(d->pf);
	for (int s = 0; s < 2; s++) {
		free(d->tids[s].e);
		free(d->cpus[s]);
		free(d->vms[s].e);
	}
	hvt_who_free(&d->who[0]);
	hvt_who_free(&d->who[1]);
	free(d);
}

const struct hvt_diff_result *hvt_diff_result(const struct hvt_diff *d)
{
	return &d->res;
}

int hvt_diff_same(const struct hvt_diff_result *r)
{
	return !r->missing && !r->inserted && !r->field_diffs && !r->session_diffs;
}

int hvt_diff_incomplete(const struct hvt_diff_result *r)
{
	for (int s = 0; s < 2; s++)
		if (r->side[s].discard_records || r->side[s].gaps)
			return 1;
	return 0;
}

/* ---- per-vCPU state ---------------------------------------------------------- */

/* A timeline id: the VM's order of appearance above the vCPU id. */
#define VM_SHIFT 16
#define ID_VM(id) ((id) >> VM_SHIFT)
#define ID_VCPU(id) ((id) & ((1u << VM_SHIFT) - 1))

static uint64_t vkey(uint32_t trace, uint32_t vcpu)
{
	return (uint64_t)trace << 32 | vcpu;
}

static struct vst *get_vst(struct hvt_diff *d, uint64_t key)
{
	size_t lo = 0, hi = d->nv;

	if (d->lastv < d->nv && vkey(d->v[d->lastv].trace, d->v[d->lastv].vcpu) == key)
		return &d->v[d->lastv];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (vkey(d->v[mid].trace, d->v[mid].vcpu) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == d->nv || vkey(d->v[lo].trace, d->v[lo].vcpu) != key) {
		if (d->nv == d->capv) {
			size_t cap = d->capv ? d->capv * 2 : 8;
			struct vst *nv = realloc(d->v, cap * sizeof(*nv));

			if (!nv)
				return NULL;
			d->v = nv;
			d->capv = cap;
		}
		memmove(&d->v[lo + 1], &d->v[lo], (d->nv - lo) * sizeof(*d->v));
		memset(&d->v[lo], 0, sizeof(*d->v));
		d->v[lo].vcpu = (uint32_t)key;
		d->v[lo].trace = (uint32_t)(key >> 32);
		d->nv++;
	}
	d->lastv = lo;
	return &d->v[lo];
}

#define QWORDS (sizeof(struct item) / sizeof(uint64_t))

/* cur XOR base as (zero words, literal words, literals...) runs. */
static unsigned char *pack(const struct item *cur, const struct item *base)
{
	uint64_t a[QWORDS], b[QWORDS];
	unsigned char buf[QWORDS * 12 + 8], *out;
	size_t w = 0, len = 0;

	memcpy(a, cur, sizeof(a));
	memcpy(b, base, sizeof(b));
	while (w < QWORDS) {
		uint16_t z = 0, l = 0;

		while (w + z < QWORDS && z < UINT16_MAX && a[w + z] == b[w + z])
			z++;
		w += z;
		while (w + l < QWORDS && l < UINT16_MAX && a[w + l] != b[w + l])
			l++;
		memcpy(buf + len, &z, 2);
		memcpy(buf + len + 2, &l, 2);
		len += 4;
		for (uint16_t k = 0; k < l; k++, w++) {
			uint64_t x = a[w] ^ b[w];

			memcpy(buf + len, &x, 8);
			len += 8;
		}
	}
	out = malloc(len + 4);
	if (!out)
		return NULL;
	{
		uint32_t l32 = (uint32_t)len;

		memcpy(out, &l32, 4);
	}
	memcpy(out + 4, buf, len);
	return out;
}

static void unpack(const unsigned char *blob, const struct item *base, struct item *out)
{
	uint64_t a[QWORDS];
	uint32_t len = 0;
	size_t w = 0, pos = 4;

	memcpy(a, base, sizeof(a));
	memcpy(&len, blob, 4);
	while (pos < 4 + (size_t)len) {
		uint16_t z, l;

		memcpy(&z, blob + pos, 2);
		memcpy(&l, blob + pos + 2, 2);
		pos += 4;
		w += z;
		for (uint16_t k = 0; k < l; k++, w++, pos += 8) {
			uint64_t x;

			memcpy(&x, blob + pos, 8);
			a[w] ^= x;
		}
	}
	memcpy(out, a, sizeof(a));
}

static struct qent *qmeta(struct queue *q, size_t i)
{
	return &q->m[(q->head + i) % q->cap];
}

static uint64_t qkey(struct queue *q, size_t i)
{
	return qmeta(q, i)->key;
}

static size_t qnfull(const struct queue *q)
{
	return q->n < QFULL ? q->n : QFULL;
}

/* Item i: only the whole ones (the first QFULL and the last). */
static struct item *qat(struct queue *q, size_t i)
{
	if (i < qnfull(q))
		return &q->full[(q->fhead + i) % q->fcap];
	return &q->x->tail;	/* i == n - 1 */
}

static int qpush(struct queue *q, const struct item *it)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct qent *nm = malloc(cap * sizeof(*nm));

		if (!nm)
			return -1;
		for (size_t i = 0; i < q->n; i++)
			nm[i] = *qmeta(q, i);
		free(q->m);
		q->m = nm;
		q->cap = cap;
		q->head = 0;
	}
	if (q->n < QFULL) {
		if (q->n == q->fcap) {
			size_t cap = q->fcap ? q->fcap * 2 : 16;
			struct item *nf;

			if (cap > QFULL)
				cap = QFULL;
			nf = malloc(cap * sizeof(*nf));
			if (!nf)
				return -1;
			for (size_t i = 0; i < q->n; i++)
				nf[i] = q->full[(q->fhead + i) % q->fcap];
			free(q->full);
			q->full = nf;
			q->fcap = cap;
			q->fhead = 0;
		}
		q->full[(q->fhead + q->n) % q->fcap] = *it;
	} else {
		if (!q->x && !(q->x = malloc(sizeof(*q->x))))
			return -1;
		if (q->n > QFULL) {
			/* the last item is final now: pack it against the one before */
			const struct item *base = q->n - 1 == QFULL ?
				&q->full[(q->fhead + QFULL - 1) % q->fcap] : &q->x->prev;
			unsigned char *blob = pack(&q->x->tail, base);

			if (!blob)
				return -1;
			qmeta(q, q->n - 1)->blob = blob;
			q->x->prev = q->x->tail;
		}
		q->x->tail = *it;
	}
	qmeta(q, q->n)->key = it->key;
	qmeta(q, q->n)->blob = NULL;
	q->n++;
	return 0;
}

static void qpop(struct hvt_diff *d, int s, struct queue *q)
{
	q->head = (q->head + 1) % q->cap;
	q->fhead = (q->fhead + 1) % q->fcap;
	q->n--;
	d->buffered[s]--;
	if (q->n >= QFULL) {
		/* item QFULL - 1 moves into the whole ones, where the head was */
		struct item *slot = &q->full[(q->fhead + QFULL - 1) % q->fcap];
		struct qent *e = qmeta(q, QFULL - 1);

		if (q->n == QFULL) {
			*slot = q->x->tail;
		} else {
			unpack(e->blob, &q->full[(q->fhead + QFULL - 2) % q->fcap], slot);
			free(e->blob);
			e->blob = NULL;
		}
	}
}

static void qfree(struct queue *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(qmeta(q, i)->blob);
	free(q->m);
	free(q->full);
	free(q->x);
	memset(q, 0, sizeof(*q));
}

/* Items of side s that will not change any more. */
static size_t complete(const struct hvt_diff *d, struct vst *v, int s)
{
	struct queue *q = &v->q[s];

	if (!q->n)
		return 0;
	if (!d->eof[s] && !qat(q, q->n - 1)->has_r)
		return q->n - 1;
	return q->n;
}

/* ---- reports ------------------------------------------------------------------ */

static int room(const struct hvt_diff *d, size_t n)
{
	return !d->o.max_list || n < d->o.max_list;
}

static void *grow(void *p, size_t n, size_t sz)
{
	/* lists grow in powers of two */
	if (n && (n & (n - 1)))
		return p;
	return realloc(p, (n ? n * 2 : 16) * sz);
}

static void after_ctx(struct hvt_diff *d, struct vst *v, char op, const struct kexit *a,
		      const struct kexit *b)
{
	struct hvt_diff_first *f = &d->res.first;

	if (f->valid && f->nafter < HVT_DIFF_CTX && vkey(v->trace, v->vcpu) == d->first_key_after)
		ctx_of(&f->after[f->nafter++], op, a, b);
}

static void set_first(struct hvt_diff *d, struct vst *v, const char *kind,
		      const struct kexit *a, const struct kexit *b)
{
	struct hvt_diff_first *f = &d->res.first;
	unsigned int n = v->ring_n;

	if (f->valid)
		return;
	f->valid = 1;
	f->kind = kind;
	f->vcpu = ID_VCPU(v->vcpu);
	f->vm = ID_VM(v->vcpu);
	f->trace = v->trace;
	f->seq_a = a ? a->seq : 0;
	f->seq_b = b ? b->seq : 0;
	ctx_of(&f->at, !strcmp(kind, "field") ? '!' : a ? '-' : '+', a, b);
	f->has_input = v->tainted;
	if (v->tainted)
		f->input = v->last_input;
	f->nbefore = 0;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int idx = (v->ring_head + HVT_DIFF_CTX - n + i) % HVT_DIFF_CTX;

		ctx_of(&f->before[f->nbefore++], v->ring[idx].differs ? '!' : '=',
		       &v->ring[idx].a, &v->ring[idx].b);
	}
	d->first_key_after = vkey(v->trace, v->vcpu);
}

static void report_only(struct hvt_diff *d, struct vst *v, int s, const struct item *it)
{
	struct hvt_diff_result *r = &d->res;
	struct kexit k;

	kexit_of(&k, &it->x);
	if (r->first.valid)
		after_ctx(d, v, s ? '+' : '-', s ? NULL : &k, s ? &k : NULL);
	set_first(d, v, s ? "inserted" : "missing", s ? NULL : &k, s ? &k : NULL);
	if (!s) {
		r->missing++;
		if (room(d, r->n_missing_list)) {
			struct hvt_diff_item *l = grow(r->missing_list, r->n_missing_list,
						       sizeof(*l));

			if (!l)
				return;
			r->missing_list = l;
			l = &l[r->n_missing_list++];
			l->vcpu = ID_VCPU(v->vcpu);
			l->vm = ID_VM(v->vcpu);
			l->trace = v->trace;
			l->seq = k.seq;
			l->rip = k.rip;
			label_of(&k, l->label, sizeof(l->label));
		}
	} else {
		r->inserted++;
		if (room(d, r->n_inserted_list)) {
			struct hvt_diff_item *l = grow(r->inserted_list, r->n_inserted_list,
						       sizeof(*l));

			if (!l)
				return;
			r->inserted_list = l;
			l = &l[r->n_inserted_list++];
			l->vcpu = ID_VCPU(v->vcpu);
			l->vm = ID_VM(v->vcpu);
			l->trace = v->trace;
			l->seq = k.seq;
			l->rip = k.rip;
			label_of(&k, l->label, sizeof(l->label));
		}
	}
}

/* Pair being compared, for field reports. */
struct pairctx {
	struct hvt_diff *d;
	struct vst *v;
	const struct hvtrace_exit_rec *xa, *xb;
	int ndiff;
	int loose;		/* inputs are inputs (enum hvt_diff_inputs) */
	int input;		/* the exit reads an input */
	int irq_timing;		/* one side injects an interrupt/NMI the other does not */
	int ninput, ndata;
};

/* Register contents (and addresses computed from them). */
static int is_data_field(const char *f)
{
	return !strncmp(f, "exit.gpr", 8) || !strcmp(f, "exit.rsp") ||
	       !strcmp(f, "exit.rflags") || !strncmp(f, "exit.xmm", 8) ||
	       !strcmp(f, "exit.mxcsr") || !strcmp(f, "exit.guest_linear") ||
	       !strcmp(f, "exit.guest_phys") || !strncmp(f, "resume.values", 13) ||
	       !strcmp(f, "resume.changed");
}

/* What the handler returned to the guest: the value an input read gave. */
static int is_returned_field(const char *f)
{
	return !strncmp(f, "resume.values", 13) || !strcmp(f, "resume.changed");
}

static int is_injection_field(const char *f)
{
	return !strcmp(f, "resume.action") || !strcmp(f, "resume.inject_info") ||
	       !strcmp(f, "resume.inject_error");
}

/* An input difference (listed apart); returns 1 when f is one. */
static int report_input(struct pairctx *p, const char *field, const char *a, const char *b)
{
	struct hvt_diff_result *r = &p->d->res;
	struct hvt_diff_field *f;

	if (!p->loose || !((p->input && is_returned_field(field)) ||
			   (p->irq_timing && is_injection_field(field))))
		return 0;
	p->ninput++;
	r->input_diffs++;
	f = &p->v->last_input;
	memset(f, 0, sizeof(*f));
	f->vcpu = ID_VCPU(p->v->vcpu);
	f->vm = ID_VM(p->v->vcpu);
	f->trace = p->v->trace;
	f->seq_a = p->xa ? p->xa->seq : 0;
	f->seq_b = p->xb ? p->xb->seq : 0;
	if (p->xa) {
		struct kexit ka;

		kexit_of(&ka, p->xa);
		label_of(&ka, f->label, sizeof(f->label));
	}
	snprintf(f->field, sizeof(f->field), "%s", field);
	snprintf(f->a, sizeof(f->a), "%s", a);
	snprintf(f->b, sizeof(f->b), "%s", b);
	if (!room(p->d, r->n_inputs))
		return 1;
	f = grow(r->inputs, r->n_inputs, sizeof(*f));
	if (!f)
		return 1;
	r->inputs = f;
	r->inputs[r->n_inputs++] = p->v->last_input;
	return 1;
}

static void report_field(struct pairctx *p, const char *field, const char *a, const char *b)
{
	struct hvt_diff *d = p->d;
	struct hvt_diff_result *r = &d->res;
	struct hvt_diff_field *f;
	struct kexit ka, kb;

	if (report_input(p, field, a, b))
		return;
	if (p->loose && p->v->tainted && is_data_field(field)) {
		/* a register value downstream of an input that differed */
		p->ndata++;
		r->data_diffs++;
		return;
	}
	p->ndiff++;
	r->field_diffs++;
	if (p->xa)
		kexit_of(&ka, p->xa);
	if (p->xb)
		kexit_of(&kb, p->xb);
	if (!r->first.valid) {
		set_first(d, p->v, "field", p->xa ? &ka : NULL, p->xb ? &kb : NULL);
		f = &r->first.field;
		goto fill;
	}
	if (!room(d, r->n_fields))
		return;
	f = grow(r->fields, r->n_fields, sizeof(*f));
	if (!f)
		return;
	r->fields = f;
	f = &f[r->n_fields++];
fill:
	f->vcpu = ID_VCPU(p->v->vcpu);
	f->vm = ID_VM(p->v->vcpu);
	f->trace = p->v->trace;
	f->seq_a = p->xa ? p->xa->seq : 0;
	f->seq_b = p->xb ? p->xb->seq : 0;
	if (p->xa)
		label_of(&ka, f->label, sizeof(f->label));
	else
		snprintf(f->label, sizeof(f->label), "session");
	snprintf(f->field, sizeof(f->field), "%s", field);
	snprintf(f->a, sizeof(f->a), "%s", a);
	snprintf(f->b, sizeof(f->b), "%s", b);
	/* the first divergence's field is also in the list */
	if (f == &r->first.field && room(d, r->n_fields)) {
		struct hvt_diff_field *l = grow(r->fields, r->n_fields, sizeof(*l));

		if (l) {
			r->fields = l;
			l[r->n_fields++] = *f;
		}
	}
}

static uint64_t load(const unsigned char *p, size_t size)
{
	switch (size) {
	case 1: return *p;
	case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
	default: { uint64_t v; memcpy(&v, p, 8); return v; }
	}
}

static void fmt_val(const struct fdesc *f, uint64_t v, char *buf, size_t len)
{
	if (f->kind == FK_INT && f->is_signed)
		snprintf(buf, len, "%d", (int32_t)v);
	else if (f->kind == FK_INT)
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "0x%" PRIx64, v);
}

static void elem_name(const struct fdesc *f, unsigned int i, char *buf, size_t len)
{
	if (f->ev == EVK_EXIT && !strcmp(f->name, "gpr"))
		snprintf(buf, len, "exit.gpr[%u] (%s)", i, hvt_gpr_name(i));
	else if (f->ev == EVK_EXIT && !strcmp(f->name, "xmm"))
		snprintf(buf, len, "exit.xmm[%u] (xmm%u.%s)", i, i / 2, i % 2 ? "hi" : "lo");
	else
		snprintf(buf, len, "%s.%s[%u]", ev_short[f->ev], f->name, i);
}

/*
 * A register ignored in the exit state is ignored in what the handler
 * wrote to it too (--ignore rip also skips the resume's new RIP).
 */
static int reg_ignored(const struct hvt_diff *d, unsigned int bit)
{
	static int gpr = -1, rip, rflags, xmm, mxcsr;

	if (gpr < 0) {
		rip = find_fdesc(EVK_EXIT, "rip");
		rflags = find_fdesc(EVK_EXIT, "rflags");
		xmm = find_fdesc(EVK_EXIT, "xmm");
		mxcsr = find_fdesc(EVK_EXIT, "mxcsr");
		gpr = find_fdesc(EVK_EXIT, "gpr");
	}
	if (bit < 16)
		return d->ign[gpr].all || (d->ign[gpr].elems >> bit & 1);
	if (bit == HVTRACE_CHG_RIP)
		return d->ign[rip].all;
	if (bit == HVTRACE_CHG_RFLAGS)
		return d->ign[rflags].all;
	if (bit < HVTRACE_CHG_MXCSR)
		return d->ign[xmm].all || (d->ign[xmm].elems >> (bit - HVTRACE_CHG_XMM_LO(0)) & 1);
	return bit == HVTRACE_CHG_MXCSR && d->ign[mxcsr].all;
}

/* Resume values named by register when both masks agree. */
static void cmp_values(struct pairctx *p, const struct fdesc *f, const struct fignore *ig,
		       const struct hvtrace_resume_rec *a, const struct hvtrace_resume_rec *b)
{
	char va[72], vb[72], name[48], reg[16];
	unsigned int na = a->values_len, nb = b->values_len;

	if (na > HVTRACE_CHG_NBITS)
		na = HVTRACE_CHG_NBITS;
	if (nb > HVTRACE_CHG_NBITS)
		nb = HVTRACE_CHG_NBITS;
	if (a->changed == b->changed && na == nb) {
		unsigned int i = 0;

		for (unsigned int bit = 0; bit < HVTRACE_CHG_NBITS && i < na; bit++) {
			if (!(a->changed & (1ull << bit)))
				continue;
			if (a->values[i] != b->values[i] && !(ig->elems & (1ull << i)) &&
			    !reg_ignored(p->d, bit)) {
				snprintf(name, sizeof(name), "resume.values[%u] (%s)", i,
					 hvt_chg_bit_name(bit, reg, sizeof(reg)));
				fmt_val(f, a->values[i], va, sizeof(va));
				fmt_val(f, b->values[i], vb, sizeof(vb));
				report_field(p, name, va, vb);
			}
			i++;
		}
		return;
	}
	if (na == nb && !memcmp(a->values, b->values, na * sizeof(a->values[0])))
		return;
	/* different shapes: show the lists */
	{
		size_t oa = 0, ob = 0;

		oa += (size_t)snprintf(va, sizeof(va), "[%u]", na);
		for (unsigned int i = 0; i < na && oa < sizeof(va); i++)
			oa += (size_t)snprintf(va + oa, sizeof(va) - oa, " 0x%" PRIx64, a->values[i]);
		ob += (size_t)snprintf(vb, sizeof(vb), "[%u]", nb);
		for (unsigned int i = 0; i < nb && ob < sizeof(vb); i++)
			ob += (size_t)snprintf(vb + ob, sizeof(vb) - ob, " 0x%" PRIx64, b->values[i]);
		report_field(p, "resume.values", va, vb);
	}
}

/* Compare one record of event kind ev field by field. */
static void cmp_record(struct pairctx *p, enum ev_kind ev, const void *ra, const void *rb)
{
	const unsigned char *a = ra, *b = rb;
	char va[72], vb[72], name[48];

	for (size_t i = 0; i < NFD; i++) {
		const struct fdesc *f = &fdescs[i];
		const struct fignore *ig = &p->d->ign[i];

		if (f->ev != ev || ig->all)
			continue;
		switch (f->kind) {
		case FK_INT:
		case FK_HEX: {
			uint64_t x = load(a + f->off, f->size), y = load(b + f->off, f->size);

			if (x != y) {
				fmt_val(f, x, va, sizeof(va));
				fmt_val(f, y, vb, sizeof(vb));
				snprintf(name, sizeof(name), "%s.%s", ev_short[ev], f->name);
				report_field(p, name, va, vb);
			}
			break;
		}
		case FK_ARR:
			if (!ig->elems && !memcmp(a + f->off, b + f->off, f->size * f->count))
				break;
			for (unsigned int e = 0; e < f->count; e++) {
				uint64_t x = load(a + f->off + e * f->size, f->size);
				uint64_t y = load(b + f->off + e * f->size, f->size);

				if (x == y || (ig->elems & (1ull << e)))
					continue;
				fmt_val(f, x, va, sizeof(va));
				fmt_val(f, y, vb, sizeof(vb));
				elem_name(f, e, name, sizeof(name));
				report_field(p, name, va, vb);
			}
			break;
		case FK_TXT:
			if (strncmp((const char *)a + f->off, (const char *)b + f->off, f->count)) {
				snprintf(va, sizeof(va), "\"%.*s\"", (int)f->count, (const char *)a + f->off);
				snprintf(vb, sizeof(vb), "\"%.*s\"", (int)f->count, (const char *)b + f->off);
				snprintf(name, sizeof(name), "%s.%s", ev_short[ev], f->name);
				report_field(p, name, va, vb);
			}
			break;
		case FK_SEQ:
			if (ev == EVK_RESUME)
				cmp_values(p, f, ig, ra, rb);
			break;
		}
	}
}

static void ring_push(struct vst *v, const struct item *a, const struct item *b, int differs)
{
	unsigned int i = v->ring_head;

	kexit_of(&v->ring[i].a, &a->x);
	kexit_of(&v->ring[i].b, &b->x);
	v->ring[i].differs = differs;
	v->ring_head = (i + 1) % HVT_DIFF_CTX;
	if (v->ring_n < HVT_DIFF_CTX)
		v->ring_n++;
}

/* An external interrupt or NMI injected at this entry. */
static int injects_irq(const struct item *it)
{
	uint32_t type = (it->r.inject_info >> 8) & 7;

	return it->has_r && it->r.action == HVTRACE_ACT_INJECT &&
	       (it->r.inject_info & (1u << 31)) && (type == 0 || type == 2);
}

/* No event, or an interrupt/NMI: what differs is when one came. */
static int irq_or_none(const struct item *it)
{
	return !it->has_r || it->r.action != HVTRACE_ACT_INJECT || injects_irq(it);
}

static int loose_inputs(const struct hvt_diff *d, uint32_t trace)
{
	if (d->o.inputs == HVT_DIFF_INPUTS_LOOSE)
		return 1;
	if (d->o.inputs == HVT_DIFF_INPUTS_STRICT || trace >= MAX_LOOSE_TRACES)
		return 0;
	return d->loose[0][trace] || d->loose[1][trace];
}

static void compare_pair(struct hvt_diff *d, struct vst *v, const struct item *a,
			 const struct item *b)
{
	struct pairctx p = { .d = d, .v = v, .xa = &a->x, .xb = &b->x };
	int had_first = d->res.first.valid;

	p.loose = loose_inputs(d, v->trace);
	if (p.loose) {
		d->res.inputs_loose = 1;
		p.input = hvt_diff_is_input(&a->x);
		p.irq_timing = (injects_irq(a) || injects_irq(b)) && irq_or_none(a) &&
			       irq_or_none(b);
	}
	d->res.aligned++;
	cmp_record(&p, EVK_EXIT, &a->x, &b->x);
	if (a->has_r && b->has_r) {
		cmp_record(&p, EVK_RESUME, &a->r, &b->r);
	} else if (a->has_r != b->has_r) {
		report_field(&p, "resume", a->has_r ? "present" : "absent",
			     b->has_r ? "present" : "absent");
	}
	if (p.ndiff)
		d->res.differing_pairs++;
	if (p.ninput) {
		d->res.input_pairs++;
		v->tainted = 1;
	}
	if (p.ndata && !p.ndiff && !p.ninput)
		d->res.data_pairs++;
	if (had_first) {
		struct kexit ka, kb;

		if (d->res.first.nafter < HVT_DIFF_CTX &&
		    vkey(v->trace, v->vcpu) == d->first_key_after) {
			kexit_of(&ka, &a->x);
			kexit_of(&kb, &b->x);
			after_ctx(d, v, p.ndiff ? '!' : '=', &ka, &kb);
		}
	}
	ring_push(v, a, b, p.ndiff);
}

/* ---- alignment ------------------------------------------------------------------ */

static int ensure_keys(struct hvt_diff *d, size_t n)
{
	if (n <= d->keys_cap)
		return 0;
	for (int s = 0; s < 2; s++) {
		uint64_t *k = realloc(d->keys[s], n * sizeof(uint64_t));

		if (!k)
			return -1;
		d->keys[s] = k;
	}
	d->keys_cap = n;
	return 0;
}

/* Commit one element of an edit: pair, or report one side's exit. */
static void commit_one(struct hvt_diff *d, struct vst *v, enum hvt_edit_op op)
{
	if (op == HVT_EDIT_EQUAL) {
		compare_pair(d, v, qat(&v->q[0], 0), qat(&v->q[1], 0));
		qpop(d, 0, &v->q[0]);
		qpop(d, 1, &v->q[1]);
	} else {
		int s = op == HVT_EDIT_INSERT;

		report_only(d, v, s, qat(&v->q[s], 0));
		qpop(d, s, &v->q[s]);
	}
}

/* Compare what can be compared on v; 0, or -1 when out of memory. */
static int advance(struct hvt_diff *d, struct vst *v)
{
	const struct hvt_salign_cfg cfg = {
		.window = d->o.window, .max_window = d->o.max_window, .run = d->o.resync,
	};

	for (;;) {
		size_t W = hvt_salign_window(&cfg, &v->sa);
		size_t ca = complete(d, v, 0), cb = complete(d, v, 1);
		size_t na, nb, i;
		struct hvt_salign_stats st = { 0 };
		int rc, new_bound;

		if (!v->diverged) {
			while (ca && cb) {
				struct item *a = qat(&v->q[0], 0), *b = qat(&v->q[1], 0);

				if (a->key != b->key) {
					v->diverged = 1;
					break;
				}
				compare_pair(d, v, a, b);
				qpop(d, 0, &v->q[0]);
				qpop(d, 1, &v->q[1]);
				ca--;
				cb--;
			}
			if (!v->diverged) {
				if ((!ca && d->eof[0] && cb) || (!cb && d->eof[1] && ca))
					v->diverged = 1;
				else
					return 0;
			}
		}
		if ((!d->eof[0] && ca < W) || (!d->eof[1] && cb < W))
			return 0;
		if (!ca && !cb) {
			v->diverged = 0;
			memset(&v->sa, 0, sizeof(v->sa));
			return 0;
		}
		na = ca < W ? ca : W;
		nb = cb < W ? cb : W;
		if (ensure_keys(d, W))
			return -1;
		for (i = 0; i < na; i++)
			d->keys[0][i] = qkey(&v->q[0], i);
		for (i = 0; i < nb; i++)
			d->keys[1][i] = qkey(&v->q[1], i);
		rc = hvt_salign_step(&cfg, &v->sa, d->keys[0], na, d->keys[1], nb,
				     d->eof[0] && d->eof[1] && ca <= W && cb <= W,
				     &d->script, &st, &new_bound);
		if (rc < 0)
			return -1;
		d->res.windows += st.windows;
		d->res.growths += st.growths;
		d->res.half_steps += st.half_steps;
		if (new_bound && !d->res.bound_hits++) {
			d->res.bound_at.trace = v->trace;
			d->res.bound_at.vcpu = ID_VCPU(v->vcpu);
			d->res.bound_at.seq_a = na ? qat(&v->q[0], 0)->x.seq : 0;
			d->res.bound_at.seq_b = nb ? qat(&v->q[1], 0)->x.seq : 0;
		}
		if (rc == HVT_SA_GROW)
			continue;
		for (i = 0; i < d->script.n; i++)
			for (size_t k = 0; k < d->script.e[i].len; k++)
				commit_one(d, v, d->script.e[i].op);
		if (rc == HVT_SA_CUT)
			v->diverged = 0;
	}
}

/* ---- reading ------------------------------------------------------------------- */

static int note_id(struct hvt_diff *d, uint64_t id)
{
	size_t i;

	for (i = 0; i < d->nids; i++)
		if (d->ids[i] == id)
			return 0;
	if (d->nids == d->capids) {
		size_t cap = d->capids ? d->capids * 2 : 8;
		uint64_t *n = realloc(d->ids, cap * sizeof(*n));

		if (!n)
			return -1;
		d->ids = n;
		d->capids = cap;
	}
	d->ids[d->nids++] = id;
	return 0;
}

/*
 * The number of (trace, key) in m, given at its first appearance: the
 * trace's next one (at most max), or `beyond` for a trace past
 * MAX_LOOSE_TRACES.  -1 out of memory.
 */
static int ordmap_get(struct ordmap *m, uint32_t trace, uint32_t key, uint32_t max,
		      uint32_t beyond, uint32_t *ord)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->e[i].trace == trace && m->e[i].key == key) {
			*ord = m->e[i].ord;
			return 0;
		}
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 8;
		struct ordent *n = realloc(m->e, cap * sizeof(*n));

		if (!n)
			return -1;
		m->e = n;
		m->cap = cap;
	}
	*ord = trace < MAX_LOOSE_TRACES ? m->next[trace]++ : beyond;
	if (*ord > max)
		*ord = max;
	m->e[m->n++] = (struct ordent){ .trace = trace, .key = key, .ord = *ord };
	return 0;
}

/* --pid/--comm: the number of (trace, tid) on side s, given in order of first exit. */
static int thread_ord(struct hvt_diff *d, int s, uint32_t trace, uint32_t tid, uint32_t *ord)
{
	struct ordmap *m = &d->tids[s];

	return ordmap_get(m, trace, tid, UINT32_MAX, (uint32_t)m->n, ord);
}

/* The order of appearance of VM `vm` of (side s, trace); -1 out of memory. */
static int vm_ord(struct hvt_diff *d, int s, uint32_t trace, uint32_t vm, uint32_t *ord)
{
	if (ordmap_get(&d->vms[s], trace, vm, (1u << (32 - VM_SHIFT)) - 1, 0, ord))
		return -1;
	if (*ord + 1 > d->res.vms)
		d->res.vms = *ord + 1;
	return 0;
}

static struct cpumap *cpu_slot(struct hvt_diff *d, int s, uint32_t trace, uint32_t cpu)
{
	size_t i;

	for (i = 0; i < d->ncpus[s]; i++)
		if (d->cpus[s][i].trace == trace && d->cpus[s][i].cpu == cpu)
			return &d->cpus[s][i];
	if (d->ncpus[s] == d->capcpus[s]) {
		size_t cap = d->capcpus[s] ? 2 * d->capcpus[s] : 8;
		struct cpumap *n = realloc(d->cpus[s], cap * sizeof(*n));

		if (!n)
			return NULL;
		d->cpus[s] = n;
		d->capcpus[s] = cap;
	}
	memset(&d->cpus[s][d->ncpus[s]], 0, sizeof(d->cpus[s][0]));
	d->cpus[s][d->ncpus[s]].trace = trace;
	d->cpus[s][d->ncpus[s]].cpu = cpu;
	return &d->cpus[s][d->ncpus[s]++];
}

/*
 * --pid/--comm: an exit of the program becomes an exit of its thread's
 * timeline (id = the thread's number, CPU and seq positional); its
 * resume follows it there.  Returns 1 to take the event with *id, 0 to
 * leave it out, -1 when out of memory.
 */
static int by_thread(struct hvt_diff *d, int s, const struct hvt_event *ev, uint32_t trace,
		     uint32_t *id)
{
	struct cpumap *c;

	if (ev->type == HVT_EV_SESSION)
		return 0;	/* they describe CPUs, not threads */
	c = cpu_slot(d, s, trace, ev->type == HVT_EV_EXIT ? ev->u.exit.vcpu : ev->u.resume.vcpu);
	if (!c)
		return -1;
	if (ev->type == HVT_EV_RESUME) {
		if (!c->wanted || c->seq != ev->u.resume.seq)
			return 0;
		*id = c->ord;
		return 1;
	}
	c->seq = ev->u.exit.seq;
	c->wanted = hvt_who_match(&d->who[s], trace, &ev->u.exit);
	if (!c->wanted) {
		d->res.side[s].filtered += d->count_global;
		return 0;
	}
	if (thread_ord(d, s, trace, ev->u.exit.tid, &c->ord))
		return -1;
	*id = c->ord;
	return 1;
}

int hvt_diff_no_thread(const struct hvt_diff *d, uint32_t *trace, uint32_t *schema)
{
	for (int s = 0; s < 2; s++) {
		uint32_t t;

		if (!d->by_thread)
			return 0;
		t = hvt_who_lacks_thread(&d->who[s], d->res.side[s].exits + d->res.side[s].filtered,
					 schema);
		if (t) {
			*trace = t - 1;
			return s + 1;
		}
	}
	return 0;
}

int hvt_diff_is_input(const struct hvtrace_exit_rec *e)
{
	switch (e->exit_reason & HVTRACE_EXIT_REASON_BASIC_MASK) {
	case HVTRACE_EXIT_IO_INSTRUCTION:
		return (e->exit_qual >> 3) & 1;		/* IN, INS */
	case HVTRACE_EXIT_EPT_VIOLATION:
		return e->exit_qual & 1;		/* a data read */
	case HVTRACE_EXIT_RDTSC:
	case HVTRACE_EXIT_RDTSCP:
	case HVTRACE_EXIT_RDRAND:
	case HVTRACE_EXIT_RDSEED:
	case HVTRACE_EXIT_RDPMC:
	case HVTRACE_EXIT_RDMSR:
	case HVTRACE_EXIT_EPT_MISCONFIG:
	case HVTRACE_EXIT_APIC_ACCESS:
		return 1;
	default:
		return 0;
	}
}

static int take_event(struct hvt_diff *d, int s, const struct hvt_event *ev, uint32_t trace)
{
	struct hvt_event copy;
	struct hvt_diff_side *st = &d->res.side[s];
	uint32_t id;
	struct vst *v;

	switch (ev->type) {
	case HVT_EV_EXIT:
		id = ev->u.exit.vcpu;
		break;
	case HVT_EV_RESUME:
		id = ev->u.resume.vcpu;
		break;
	case HVT_EV_SESSION:
		id = ev->u.session.vcpu;
		break;
	case HVT_EV_DISCARDED:
		if (d->count_global) {
			st->discard_records++;
			st->discarded += ev->u.discarded.count;
			st->discarded_packets += ev->u.discarded.packets;
		}
		return 0;
	default:
		return 0;
	}
	if (ev->type == HVT_EV_SESSION && d->by_thread &&
	    hvt_who_session(&d->who[s], trace, &ev->u.session))
		return -1;
	if (ev->type == HVT_EV_EXIT && d->by_thread)
		hvt_who_exit(&d->who[s], &ev->u.exit);
	if (ev->type == HVT_EV_SESSION && trace < MAX_LOOSE_TRACES &&
	    (ev->u.session.backend == HVTRACE_BACKEND_KVM ||
	     ev->u.session.backend == HVTRACE_BACKEND_HOST)) {
		d->loose[s][trace] = 1;
		st->loose = 1;
	}
	if (!d->by_thread && id < (1u << VM_SHIFT)) {
		/* KVM: each VM has its own vCPU 0 (a session's VM only when named) */
		uint32_t vm = ev->type == HVT_EV_EXIT ? ev->u.exit.vm :
			      ev->type == HVT_EV_RESUME ? ev->u.resume.vm : ev->u.session.vm;
		uint32_t ord = 0;

		if ((ev->type != HVT_EV_SESSION || vm) && vm_ord(d, s, trace, vm, &ord))
			return -1;
		id |= ord << VM_SHIFT;
	}
	if (d->by_thread) {
		int k = by_thread(d, s, ev, trace, &id);

		if (k <= 0)
			return k;
		/* the CPU is the scheduler's choice: the thread's number instead */
		copy = *ev;
		if (copy.type == HVT_EV_EXIT)
			copy.u.exit.vcpu = id;
		else
			copy.u.resume.vcpu = id;
		ev = &copy;
	}
	if (note_id(d, vkey(trace, id)))
		return -1;
	if (d->filtered && vkey(trace, id) != d->filter)
		return 0;
	v = get_vst(d, vkey(trace, id));
	if (!v)
		return -1;
	if (!v->seen[s]) {
		v->seen[s] = 1;
		st->vcpus++;
		if (d->by_thread)
			st->threads++;
	}
	if (ev->type == HVT_EV_SESSION) {
		if (ev->u.session.phase == HVTRACE_PHASE_START && !v->have_session[s]) {
			v->have_session[s] = 1;
			v->session[s] = ev->u.session;
		}
		return 0;
	}
	if (ev->type == HVT_EV_EXIT) {
		const struct hvtrace_exit_rec *e = &ev->u.exit;
		struct hvt_qual q;
		struct item it;

		/* --pid/--comm: seq counts a CPU's exits, not a thread's */
		if (!d->by_thread && v->have_seq[s] && e->seq > v->last_seq[s] + 1) {
			st->gaps++;
			st->gap_exits += e->seq - v->last_seq[s] - 1;
		}
		v->have_seq[s] = 1;
		v->last_seq[s] = e->seq;
		if (v->q[s].n) {
			struct item *last = qat(&v->q[s], v->q[s].n - 1);

			if (!last->has_r && !last->no_resume_counted) {
				last->no_resume_counted = 1;
				st->missing_resumes++;
			}
		}
		v->skip_resume[s] = 0;
		hvt_qual_decode(e, &q);
		if (!d->o.async && hvt_exit_is_async(&q)) {
			st->async_skipped++;
			v->skip_resume[s] = 1;
			v->skip_seq[s] = e->seq;
			return 0;
		}
		memset(&it, 0, sizeof(it));
		it.x = *e;
		it.key = mix(mix(mix(0x68767472, q.reason), q.key), e->rip & d->rip_mask);
		if (qpush(&v->q[s], &it))
			return -1;
		d->buffered[s]++;
		if (d->buffered[0] + d->buffered[1] > d->res.max_buffered)
			d->res.max_buffered = d->buffered[0] + d->buffered[1];
		st->exits++;
		return 0;
	}
	/* resume */
	{
		const struct hvtrace_resume_rec *r = &ev->u.resume;
		struct item *last = v->q[s].n ? qat(&v->q[s], v->q[s].n - 1) : NULL;

		if (v->skip_resume[s] && r->seq == v->skip_seq[s]) {
			v->skip_resume[s] = 0;
			return 0;
		}
		if (last && !last->has_r && last->x.seq == r->seq) {
			last->r = *r;
			last->has_r = 1;
			st->resumes++;
		} else {
			st->orphan_resumes++;
		}
	}
	return 0;
}

static void reset_pass(struct hvt_diff *d)
{
	for (size_t i = 0; i < d->nv; i++) {
		qfree(&d->v[i].q[0]);
		qfree(&d->v[i].q[1]);
	}
	d->nv = 0;
	d->lastv = 0;
	for (int s = 0; s < 2; s++) {
		d->tids[s].n = 0;
		d->ncpus[s] = 0;
		d->vms[s].n = 0;
		memset(d->tids[s].next, 0, sizeof(d->tids[s].next));
		memset(d->vms[s].next, 0, sizeof(d->vms[s].next));
	}
	memset(d->loose, 0, sizeof(d->loose));
	d->eof[0] = d->eof[1] = 0;
	d->buffered[0] = d->buffered[1] = 0;
	d->overflow = 0;
}

static void reset_result(struct hvt_diff *d)
{
	free(d->res.missing_list);
	free(d->res.inserted_list);
	free(d->res.fields);
	free(d->res.inputs);
	memset(&d->res, 0, sizeof(d->res));
	d->res.by_thread = d->by_thread;
	d->res.max_window = d->o.max_window;
}

/* Session START records of both runs, compared once per vCPU. */
static void compare_sessions(struct hvt_diff *d, struct vst *v)
{
	struct pairctx p = { .d = d, .v = v };
	uint64_t before = d->res.field_diffs;

	if (!v->have_session[0] || !v->have_session[1])
		return;
	cmp_record(&p, EVK_SESSION, &v->session[0], &v->session[1]);
	d->res.session_diffs += d->res.field_diffs - before;
	/* session differences are listed but not counted as exit fields */
	d->res.field_diffs = before;
}

/*
 * Each trace is decoded on a thread of its own (decoding dominates, and
 * the two inputs are independent), into a bounded ring of events that the
 * comparison consumes in batches.
 */
#define PF_RING 1024
#define PF_BATCH 64

/* An event with the index of its trace (several traces may be read). */
struct pf_ev {
	struct hvt_event ev;
	uint32_t trace;
};

struct prefetch {
	pthread_t th;
	int started;
	struct hvt_reader *r;
	struct pf_ev *buf;
	size_t head, n;		/* events ready: [head, head + n) */
	size_t taken;		/* of those, handed to the consumer */
	int done, rc, stop;
	int prod_waiting, cons_waiting;	/* signal only a waiting side */
	struct hvt_err err;
	pthread_mutex_t mu;
	pthread_cond_t data, space;
};

static void *pf_main(void *arg)
{
	struct prefetch *p = arg;

	for (;;) {
		size_t start, k, got;
		int rc = 1;

		pthread_mutex_lock(&p->mu);
		while (p->n == PF_RING && !p->stop) {
			p->prod_waiting = 1;
			pthread_cond_wait(&p->space, &p->mu);
			p->prod_waiting = 0;
		}
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		start = (p->head + p->n) % PF_RING;
		k = PF_RING - p->n;
		pthread_mutex_unlock(&p->mu);
		if (k > PF_BATCH)
			k = PF_BATCH;
		/* slots past head + n are the producer's alone */
		for (got = 0; got < k; got++) {
			struct pf_ev *e = &p->buf[(start + got) % PF_RING];

			rc = hvt_reader_next(p->r, &e->ev, &p->err);
			if (rc <= 0)
				break;
			e->trace = hvt_reader_stream_trace(p->r, e->ev.stream);
		}
		pthread_mutex_lock(&p->mu);
		p->n += got;
		if (rc <= 0) {
			p->done = 1;
			p->rc = rc;
		}
		if (p->cons_waiting)
			pthread_cond_signal(&p->data);
		pthread_mutex_unlock(&p->mu);
		if (rc <= 0)
			return NULL;
	}
}

static int pf_start(struct prefetch *p, struct hvt_reader *r)
{
	memset(p, 0, sizeof(*p));
	p->r = r;
	p->buf = malloc(PF_RING * sizeof(*p->buf));
	if (!p->buf)
		return -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->data, NULL);
	pthread_cond_init(&p->space, NULL);
	if (pthread_create(&p->th, NULL, pf_main, p)) {
		free(p->buf);
		p->buf = NULL;
		return -1;
	}
	p->started = 1;
	return 0;
}

/*
 * Up to max events: *ev points at the first of *count ready ones (they stay
 * valid until the next call).  1: events; 0: end; -1: error (err set).
 */
static int pf_get(struct prefetch *p, struct pf_ev **ev, size_t max, size_t *count,
		  struct hvt_err *err)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	if (p->taken) {
		p->head = (p->head + p->taken) % PF_RING;
		p->n -= p->taken;
		p->taken = 0;
		if (p->prod_waiting)
			pthread_cond_signal(&p->space);
	}
	while (!p->n && !p->done) {
		p->cons_waiting = 1;
		pthread_cond_wait(&p->data, &p->mu);
		p->cons_waiting = 0;
	}
	if (!p->n) {
		int rc = p->rc;

		if (rc < 0)
			*err = p->err;
		pthread_mutex_unlock(&p->mu);
		return rc < 0 ? -1 : 0;
	}
	n = p->n;
	pthread_mutex_unlock(&p->mu);
	/* contiguous part only */
	if (n > PF_RING - p->head)
		n = PF_RING - p->head;
	if (n > max)
		n = max;
	*ev = &p->buf[p->head];
	*count = n;
	p->taken = n;
	return 1;
}

static void pf_stop(struct prefetch *p)
{
	if (!p->started)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_signal(&p->space);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->data);
	pthread_cond_destroy(&p->space);
	free(p->buf);
	p->started = 0;
}

/* One pass over both traces; filter: -1 all vCPUs. */
static int run_pass(struct hvt_diff *d, const char *const *paths[2], const size_t np[2],
		    int filtered, uint64_t filter, struct hvt_err *err)
{
	struct hvt_reader *r[2] = { NULL, NULL };
	struct prefetch *pf = d->pf;
	int rc = -1;

	reset_pass(d);
	d->filtered = filtered;
	d->filter = filter;
	for (int s = 0; s < 2; s++) {
		r[s] = hvt_reader_open(paths[s], np[s], 0, err);
		if (!r[s]) {
			char m[sizeof(err->msg)];

			snprintf(m, sizeof(m), "%s: %.500s", s ? "B" : "A", err->msg);
			snprintf(err->msg, sizeof(err->msg), "%s", m);
			goto out;
		}
	}
	for (int s = 0; s < 2; s++) {
		d->res.side[s].traces = (uint32_t)hvt_reader_trace_count(r[s]);
		if (pf_start(&pf[s], r[s]))
			goto oom;
	}
	while (!d->eof[0] || !d->eof[1]) {
		int s = d->eof[0] ? 1 : d->eof[1] ? 0 : d->buffered[1] < d->buffered[0];
		struct pf_ev *evs;
		size_t cnt = 0;
		int got = pf_get(&pf[s], &evs, 256, &cnt, err);

		if (got < 0) {
			char m[sizeof(err->msg)];

			snprintf(m, sizeof(m), "%s: %.500s", s ? "B" : "A", err->msg);
			snprintf(err->msg, sizeof(err->msg), "%s", m);
			goto out;
		}
		if (!got)
			d->eof[s] = 1;
		for (size_t k = 0; k < cnt; k++)
			if (take_event(d, s, &evs[k].ev, evs[k].trace))
				goto oom;
		if (d->tty && (d->nevents >> 20) != ((d->nevents + cnt) >> 20))
			fprintf(stderr, "\rdiff: %" PRIu64 " events...", d->nevents + cnt);
		d->nevents += cnt;
		for (size_t i = 0; i < d->nv; i++)
			if (advance(d, &d->v[i]))
				goto oom;
		if (!filtered && d->buffered[0] + d->buffered[1] > d->cap_items) {
			/* the runs interleave their vCPUs too differently */
			d->overflow = 1;
			rc = 0;
			goto out;
		}
	}
	/* the trace ends: a last exit without its resume is one more */
	for (size_t i = 0; i < d->nv; i++)
		for (int s = 0; s < 2; s++) {
			struct queue *q = &d->v[i].q[s];

			if (q->n && !qat(q, q->n - 1)->has_r &&
			    !qat(q, q->n - 1)->no_resume_counted)
				d->res.side[s].missing_resumes++;
		}
	for (size_t i = 0; i < d->nv; i++) {
		if (advance(d, &d->v[i]))
			goto oom;
		compare_sessions(d, &d->v[i]);
	}
	rc = 0;
	goto out;
oom:
	snprintf(err->msg, sizeof(err->msg), "diff: out of memory");
out:
	if (d->tty && d->nevents >= (1u << 20))
		fprintf(stderr, "\r%40s\r", "");
	pf_stop(&pf[0]);
	pf_stop(&pf[1]);
	/* Traces that never said their schema version (no session record). */
	for (int s = 0; s < 2 && d->count_global && !rc; s++)
		for (size_t t = 0; r[s] && t < hvt_reader_trace_count(r[s]); t++)
			if (hvt_reader_trace_events(r[s], (uint32_t)t) &&
			    !hvt_reader_trace_sessions(r[s], (uint32_t)t))
				d->res.side[s].unversioned++;
	hvt_reader_close(r[0]);
	hvt_reader_close(r[1]);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int hvt_diff_run(struct hvt_diff *d, const char *const *a, size_t na,
		 const char *const *b, size_t nb, struct hvt_err *err)
{
	const char *const *paths[2] = { a, b };
	const size_t np[2] = { na, nb };
	struct hvt_diff_side global[2];

	reset_result(d);
	if (!d->pf)
		d->pf = calloc(2, sizeof(*d->pf));
	if (!d->pf) {
		snprintf(err->msg, sizeof(err->msg), "diff: out of memory");
		return -1;
	}
	d->nids = 0;
	/*
	 * Room for every vCPU's window plus one divergence grown to the
	 * bound on both sides; beyond that the vCPUs are compared one per pass.
	 */
	d->cap_items = (size_t)d->o.window * 8 + (size_t)d->o.max_window * 2;
	if (d->cap_items < 4096)
		d->cap_items = 4096;
	d->count_global = 1;
	if (run_pass(d, paths, np, 0, 0, err))
		return -1;
	if (!d->overflow)
		return 0;
	/*
	 * Too much buffered: compare one vCPU per pass instead, each pass
	 * keeping only that vCPU's exits.  Results start over.
	 */
	global[0] = d->res.side[0];
	global[1] = d->res.side[1];
	reset_result(d);
	d->res.per_vcpu_passes = 1;
	d->count_global = 0;
	for (size_t done = 0; done < d->nids; done++) {
		qsort(d->ids + done, d->nids - done, sizeof(*d->ids), cmp_u64);
		if (run_pass(d, paths, np, 1, d->ids[done], err))
			return -1;
	}
	for (int s = 0; s < 2; s++) {
		d->res.side[s].discarded = global[s].discarded;
		d->res.side[s].discard_records = global[s].discard_records;
		d->res.side[s].discarded_packets = global[s].discarded_packets;
		d->res.side[s].unversioned = global[s].unversioned;
		d->res.side[s].filtered = global[s].filtered;
	}
	return 0;
}
