// SPDX-License-Identifier: GPL-2.0
/*
 * The fast decoder (ctf_fast.h): hvtrace's own CTF 1.8 stream files read
 * directly.  Three steps:
 *
 *  1. check: the metadata (ctf_meta.c) is compiled into decoding programs;
 *     every hvtrace event field is matched by name to the X-macro lists of
 *     schemas/hvtrace_events.h and must have exactly the record's width (an
 *     integer of sizeof(type) bytes, an array of the schema's length, a
 *     sequence, or text), the fields must be exactly those of schema v1,
 *     v2 or v3 in the schema's order (a sequence's length member before
 *     it, nothing else), every event class of a stream class of the same
 *     version; the packet context must carry a 64-bit
 *     clock-mapped timestamp_begin; there must be exactly one clock; every
 *     event class of a stream class must be one of ours.  The member names,
 *     order and integer widths are also compared with the trace class
 *     libbabeltrace2 built from the same metadata.
 *  2. index: each stream file's packets, from its LTTng index (when it
 *     agrees with the file) or by walking the packet headers; each packet's
 *     header and context are decoded and checked (magic, uuid, stream class,
 *     sizes within the file) up front, so the decoding of one packet needs
 *     nothing from the one before it (discarded-event counts come from the
 *     index).
 *  3. decode: chunks of packets are decoded by worker threads (and by the
 *     reading thread when it gets ahead) into arrays of records, handed out
 *     in stream order and merged across streams in libbabeltrace2's muxer
 *     order.
 *
 * Anything unexpected in steps 1 and 2 makes hvt_fast_open() step aside
 * (the caller reads with libbabeltrace2); in step 3 a malformed event is an
 * error, as it is for libbabeltrace2.
 */
#include <babeltrace2/babeltrace.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode/ctf_fast.h"
#include "decode/ctf_meta.h"
#include "decode/versions.h"
#include "vmx/qual.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the fast decoder reads little-endian integers with memcpy: a little-endian host only"
#endif

/* ---- process-wide settings -------------------------------------------------- */

static enum hvt_decoder_mode g_mode = HVT_DECODER_AUTO;
static unsigned int g_threads;
static int g_verbose;

void hvt_decoder_set(enum hvt_decoder_mode mode, unsigned int threads, int verbose)
{
	g_mode = mode;
	g_threads = threads;
	g_verbose = verbose;
}

enum hvt_decoder_mode hvt_decoder_mode(void)
{
	const char *e = getenv("HVTRACE_DECODER");
	int m;

	if (g_mode == HVT_DECODER_AUTO && e && (m = hvt_decoder_parse(e)) >= 0)
		return (enum hvt_decoder_mode)m;
	return g_mode;
}

unsigned int hvt_decoder_threads(void)
{
	long n;

	if (g_threads)
		return g_threads;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (unsigned int)n;
}

int hvt_decoder_verbose(void)
{
	return g_verbose;
}

int hvt_decoder_parse(const char *s)
{
	if (!strcmp(s, "bt2"))
		return HVT_DECODER_BT2;
	if (!strcmp(s, "fast"))
		return HVT_DECODER_FAST;
	if (!strcmp(s, "auto"))
		return HVT_DECODER_AUTO;
	return -1;
}

/* ---- the schema, from the X-macro lists -------------------------------------- */

enum sf_kind { SF_SCALAR, SF_ARRAY, SF_TEXT, SF_SEQ };

struct sfield {
	const char *name;
	unsigned char kind, esize, lsize, sgn;
	unsigned short count;
	size_t off, len_off;
};

#define SF_SGN(type) ((type)-1 < (type)1)
#define SF_SCALAR_(type, name) \
	{ #name, SF_SCALAR, sizeof(type), 0, SF_SGN(type), 1, offsetof(SF_REC, name), 0 },
#define SF_ARRAY_(type, name, n) \
	{ #name, SF_ARRAY, sizeof(type), 0, SF_SGN(type), n, offsetof(SF_REC, name), 0 },
#define SF_TEXT_(name, n) \
	{ #name, SF_TEXT, 1, 0, 0, n, offsetof(SF_REC, name), 0 },
#define SF_SEQ_(type, name, ltype, max) \
	{ #name, SF_SEQ, sizeof(type), sizeof(ltype), SF_SGN(type), max, \
	  offsetof(SF_REC, name), offsetof(SF_REC, name##_len) },
#define SF_LIST(list) list(SF_SCALAR_, SF_SCALAR_, SF_ARRAY_, SF_TEXT_, SF_SEQ_)

#define SF_REC struct hvtrace_exit_rec
static const struct sfield f_exit[] = { SF_LIST(HVTRACE_EXIT_FIELDS) };
#undef SF_REC
#define SF_REC struct hvtrace_resume_rec
static const struct sfield f_resume[] = { SF_LIST(HVTRACE_RESUME_FIELDS) };
#undef SF_REC
#define SF_REC struct hvtrace_session_rec
static const struct sfield f_session[] = { SF_LIST(HVTRACE_SESSION_FIELDS) };
#undef SF_REC

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MAXF 96

struct sschema {
	const char *event;
	enum hvt_ev_type type;
	const struct sfield *f;
	size_t nf;
	size_t recsize;
};

static const struct sschema sschemas[] = {
	{ HVTRACE_EVENT_EXIT, HVT_EV_EXIT, f_exit, NELEM(f_exit),
	  sizeof(struct hvtrace_exit_rec) },
	{ HVTRACE_EVENT_RESUME, HVT_EV_RESUME, f_resume, NELEM(f_resume),
	  sizeof(struct hvtrace_resume_rec) },
	{ HVTRACE_EVENT_SESSION, HVT_EV_SESSION, f_session, NELEM(f_session),
	  sizeof(struct hvtrace_session_rec) },
};

/*
 * HVT_READ_KEYS_ONLY and HVT_READ_NO_XMM (reader.h): the same fields as the
 * libbabeltrace2 path decodes, the others read as zero.
 */
#define KIND(k) (1u << HVTRACE_QUAL_##k)

static unsigned int key_take(const struct sschema *s, const struct sfield *fd,
			     unsigned int flags, unsigned int *need)
{
	*need = 0;
	if (s->type == HVT_EV_EXIT && (flags & HVT_READ_KEYS_ONLY)) {
		static const struct { size_t off; unsigned int need; } keys[] = {
			{ offsetof(struct hvtrace_exit_rec, vcpu), 0 },
			{ offsetof(struct hvtrace_exit_rec, seq), 0 },
			{ offsetof(struct hvtrace_exit_rec, exit_reason), 0 },
			{ offsetof(struct hvtrace_exit_rec, rip), 0 },
			{ offsetof(struct hvtrace_exit_rec, tsc), 0 },
			{ offsetof(struct hvtrace_exit_rec, exit_qual),
			  KIND(IO) | KIND(CR) | KIND(DR) | KIND(EPT) | KIND(TASK_SWITCH) |
			  KIND(INVLPG) },
			{ offsetof(struct hvtrace_exit_rec, intr_info), KIND(EXCEPTION) },
			{ offsetof(struct hvtrace_exit_rec, guest_phys), KIND(EPT) },
			{ offsetof(struct hvtrace_exit_rec, guest_linear), KIND(EPT) },
		};
		size_t i;

		if (fd->off == offsetof(struct hvtrace_exit_rec, gpr)) {
			*need = KIND(CPUID) | KIND(MSR) | KIND(VMCALL);
			return 2;
		}
		if ((flags & HVT_READ_WHO) &&
		    (fd->off == offsetof(struct hvtrace_exit_rec, vm) ||
		     fd->off == offsetof(struct hvtrace_exit_rec, pid) ||
		     fd->off == offsetof(struct hvtrace_exit_rec, tid) ||
		     fd->off == offsetof(struct hvtrace_exit_rec, comm) ||
		     fd->off == offsetof(struct hvtrace_exit_rec, cpl)))
			return fd->count;
		for (i = 0; i < NELEM(keys); i++)
			if (keys[i].off == fd->off) {
				*need = keys[i].need;
				return fd->count;
			}
		return 0;
	}
	if (s->type == HVT_EV_RESUME && (flags & HVT_READ_KEYS_ONLY)) {
		if (fd->off == offsetof(struct hvtrace_resume_rec, vcpu) ||
		    fd->off == offsetof(struct hvtrace_resume_rec, seq) ||
		    fd->off == offsetof(struct hvtrace_resume_rec, action) ||
		    fd->off == offsetof(struct hvtrace_resume_rec, tsc))
			return fd->count;
		return 0;
	}
	if (s->type == HVT_EV_EXIT && (flags & HVT_READ_NO_XMM) &&
	    fd->off == offsetof(struct hvtrace_exit_rec, xmm))
		return 0;
	return fd->count;
}

/* ---- bit reading ------------------------------------------------------------- */

static inline uint64_t rd_bits(const uint8_t *buf, uint64_t pos, unsigned int size,
			       int be, int sgn)
{
	uint64_t v = 0;

	if (!(pos & 7) && !(size & 7)) {
		const uint8_t *p = buf + (pos >> 3);
		unsigned int n = size >> 3, i;

		if (!be) {
			if (n == 8) {
				memcpy(&v, p, 8);
				return v;
			}
			if (n == 4) {
				uint32_t x;

				memcpy(&x, p, 4);
				v = x;
			} else {
				for (i = n; i-- > 0;)
					v = v << 8 | p[i];
			}
		} else {
			for (i = 0; i < n; i++)
				v = v << 8 | p[i];
		}
	} else {
		unsigned int i = 0;

		while (i < size) {
			uint64_t bp = pos + i;
			unsigned int off = (unsigned int)(bp & 7), take = 8 - off;
			unsigned int byte = buf[bp >> 3];

			if (take > size - i)
				take = size - i;
			if (!be) {
				v |= (uint64_t)((byte >> off) & ((1u << take) - 1)) << i;
			} else {
				v = v << take | ((byte >> (8 - off - take)) & ((1u << take) - 1));
			}
			i += take;
		}
	}
	if (sgn && size < 64 && (v >> (size - 1)) & 1)
		v |= ~(uint64_t)0 << size;
	return v;
}

static inline uint64_t align_up(uint64_t pos, unsigned int a)
{
	return a <= 1 ? pos : (pos + a - 1) & ~(uint64_t)(a - 1);
}

/* ---- compiled header / context programs ----------------------------------------- */

enum cn_kind { CN_INT, CN_STRUCT, CN_VARIANT, CN_ARRAY, CN_SEQ, CN_STRING };
enum cn_role { R_NONE, R_ID, R_MAGIC, R_STREAM_ID, R_STREAM_INST, R_UUID, R_TS_BEGIN,
	       R_TS_END, R_CONTENT, R_PACKET, R_DISC, R_SEQNUM };

struct cnode {
	unsigned char kind, be, sgn, clocked;
	unsigned int size, align;
	int role;
	int slot;
	struct cnode **kids;
	size_t nkids;
	/* variant */
	int tag_slot, tag_sgn;
	size_t nranges;
	int64_t *lo, *hi;
	size_t *opt;
	/* array, sequence */
	uint64_t length;
	int len_slot;
	int flat;	/* CN_STRUCT of CN_INT members only */
};

struct cctx {
	const struct ct_meta *m;
	const char *clock;	/* the one clock's name */
	struct { const char *name; int slot; const struct ct_type *type; } names[256];
	int nnames;
	int nslots;
	int scope;		/* 0 packet header, 1 packet context, 2 event header, 3 other */
	int depth;
	char why[200];
	/* allocations, freed with the decoder */
	void ***allocs;
	size_t *nallocs;
};

static void *c_alloc(struct cctx *c, size_t n)
{
	void **na = realloc(*c->allocs, (*c->nallocs + 1) * sizeof(*na));
	void *p;

	if (!na)
		return NULL;
	*c->allocs = na;
	p = calloc(1, n ? n : 1);
	if (p)
		na[(*c->nallocs)++] = p;
	return p;
}

static int name_slot(struct cctx *c, const char *path)
{
	const char *last = strrchr(path, '.');
	int i;

	last = last ? last + 1 : path;
	for (i = c->nnames; i-- > 0;)
		if (!strcmp(ctf_meta_name(c->names[i].name), ctf_meta_name(last)))
			return i;
	return -1;
}

static int role_of(struct cctx *c, const char *name, int top)
{
	const char *n = name ? ctf_meta_name(name) : "";

	switch (c->scope) {
	case 0:
		if (!strcmp(n, "magic") && top)
			return R_MAGIC;
		if (!strcmp(n, "stream_id"))
			return R_STREAM_ID;
		if (!strcmp(n, "stream_instance_id"))
			return R_STREAM_INST;
		return R_NONE;
	case 1:
		if (!top)
			return R_NONE;
		if (!strcmp(n, "timestamp_begin"))
			return R_TS_BEGIN;
		if (!strcmp(n, "timestamp_end"))
			return R_TS_END;
		if (!strcmp(n, "content_size"))
			return R_CONTENT;
		if (!strcmp(n, "packet_size"))
			return R_PACKET;
		if (!strcmp(n, "events_discarded"))
			return R_DISC;
		if (!strcmp(n, "packet_seq_num"))
			return R_SEQNUM;
		return R_NONE;
	case 2:
		return !strcmp(n, "id") ? R_ID : R_NONE;
	default:
		return R_NONE;
	}
}

static struct cnode *compile(struct cctx *c, const struct ct_type *t, const char *name,
			     int top)
{
	struct cnode *n;
	size_t i;

	if (++c->depth > 16) {
		snprintf(c->why, sizeof(c->why), "types nested too deeply");
		return NULL;
	}
	n = c_alloc(c, sizeof(*n));
	if (!n)
		return NULL;
	n->slot = -1;
	n->align = ctf_meta_align(t);
	switch (t->kind) {
	case CT_INT:
	case CT_ENUM: {
		const struct ct_type *it = t->kind == CT_ENUM ? t->base : t;

		n->kind = CN_INT;
		n->size = it->size;
		n->sgn = (unsigned char)it->is_signed;
		n->be = ctf_meta_int_bo(c->m, it) == CT_BO_BE;
		if (it->clock) {
			if (!c->clock || strcmp(it->clock, c->clock)) {
				snprintf(c->why, sizeof(c->why), "integer mapped to an unknown clock");
				return NULL;
			}
			n->clocked = !it->is_signed;
		}
		n->role = role_of(c, name, top);
		if (n->role == R_ID && n->clocked) {
			snprintf(c->why, sizeof(c->why), "clock-mapped event id");
			return NULL;
		}
		if (c->nnames < (int)NELEM(c->names) && name) {
			c->names[c->nnames].name = name;
			c->names[c->nnames].slot = c->nslots;
			c->names[c->nnames].type = t;
			c->nnames++;
		}
		n->slot = c->nslots++;
		break;
	}
	case CT_STRING:
		n->kind = CN_STRING;
		n->align = 8;
		break;
	case CT_STRUCT:
		n->kind = CN_STRUCT;
		n->kids = c_alloc(c, (t->nmembers + 1) * sizeof(*n->kids));
		if (!n->kids)
			return NULL;
		for (i = 0; i < t->nmembers; i++) {
			n->kids[i] = compile(c, t->members[i].type, t->members[i].name, top == 2);
			if (!n->kids[i])
				return NULL;
		}
		n->nkids = t->nmembers;
		n->flat = 1;
		for (i = 0; i < n->nkids; i++)
			if (n->kids[i]->kind != CN_INT)
				n->flat = 0;
		break;
	case CT_VARIANT: {
		int ts = t->tag ? name_slot(c, t->tag) : -1;
		const struct ct_type *tt;

		if (ts < 0 || c->names[ts].type->kind != CT_ENUM) {
			snprintf(c->why, sizeof(c->why), "variant tag not found or not an enum");
			return NULL;
		}
		tt = c->names[ts].type;
		n->kind = CN_VARIANT;
		n->align = 1;
		n->tag_slot = c->names[ts].slot;
		n->tag_sgn = tt->base->is_signed;
		n->kids = c_alloc(c, (t->nmembers + 1) * sizeof(*n->kids));
		n->lo = c_alloc(c, (tt->nlabels + 1) * sizeof(*n->lo));
		n->hi = c_alloc(c, (tt->nlabels + 1) * sizeof(*n->hi));
		n->opt = c_alloc(c, (tt->nlabels + 1) * sizeof(*n->opt));
		if (!n->kids || !n->lo || !n->hi || !n->opt)
			return NULL;
		for (i = 0; i < t->nmembers; i++) {
			n->kids[i] = compile(c, t->members[i].type, t->members[i].name, 0);
			if (!n->kids[i])
				return NULL;
		}
		n->nkids = t->nmembers;
		/* each label selects the option of the same name */
		for (i = 0; i < tt->nlabels; i++) {
			size_t o;

			for (o = 0; o < t->nmembers; o++)
				if (!strcmp(ctf_meta_name(t->members[o].name),
					    ctf_meta_name(tt->labels[i].name)))
					break;
			if (o == t->nmembers)
				continue;
			n->lo[n->nranges] = tt->labels[i].lo;
			n->hi[n->nranges] = tt->labels[i].hi;
			n->opt[n->nranges] = o;
			n->nranges++;
		}
		break;
	}
	case CT_ARRAY:
	case CT_SEQ:
		n->kind = t->kind == CT_ARRAY ? CN_ARRAY : CN_SEQ;
		if (t->kind == CT_SEQ) {
			int ls = name_slot(c, t->length_name);

			if (ls < 0 || c->names[ls].type->kind != CT_INT) {
				snprintf(c->why, sizeof(c->why), "sequence length not found");
				return NULL;
			}
			n->len_slot = c->names[ls].slot;
		}
		n->length = t->length;
		if (top && name && !strcmp(ctf_meta_name(name), "uuid") && c->scope == 0)
			n->role = R_UUID;
		n->kids = c_alloc(c, sizeof(*n->kids));
		if (!n->kids)
			return NULL;
		n->kids[0] = compile(c, t->elem, NULL, 0);
		if (!n->kids[0])
			return NULL;
		n->nkids = 1;
		break;
	default:
		snprintf(c->why, sizeof(c->why), "floating-point field");
		return NULL;
	}
	c->depth--;
	return n;
}

/* The values a walk found. */
struct wout {
	uint64_t clock;		/* the stream's default clock (in/out) */
	uint64_t id;
	int has_id;
	uint64_t magic, stream_id, stream_inst, ts_begin, ts_end, content, packet, disc, seqnum;
	unsigned int has;	/* 1 << role */
	unsigned char uuid[16];
	uint64_t slots[64];
	unsigned long budget;
};

static inline int walk_int(const struct cnode *n, const uint8_t *buf, uint64_t *pos,
			   uint64_t lim, struct wout *o)
{
	uint64_t v;

	*pos = align_up(*pos, n->align);
	if (*pos > lim || lim - *pos < n->size)
		return -1;
	{
		v = rd_bits(buf, *pos, n->size, n->be, n->sgn);
		*pos += n->size;
		if (n->slot >= 0 && n->slot < 64)
			o->slots[n->slot] = v;
		if (n->clocked && n->role != R_TS_END) {
			if (n->size == 64) {
				o->clock = v;
			} else {
				uint64_t mask = (UINT64_C(1) << n->size) - 1;

				if (v < (o->clock & mask))
					o->clock += mask + 1;
				o->clock = (o->clock & ~mask) | v;
			}
		}
		o->has |= 1u << n->role;
		switch (n->role) {
		case R_ID: o->id = v; o->has_id = 1; break;
		case R_MAGIC: o->magic = v; break;
		case R_STREAM_ID: o->stream_id = v; break;
		case R_STREAM_INST: o->stream_inst = v; break;
		case R_TS_BEGIN: o->ts_begin = v; break;
		case R_TS_END: o->ts_end = v; break;
		case R_CONTENT: o->content = v; break;
		case R_PACKET: o->packet = v; break;
		case R_DISC: o->disc = v; break;
		case R_SEQNUM: o->seqnum = v; break;
		default: break;
		}
		return 0;
	}
}

static int walk(const struct cnode *n, const uint8_t *buf, uint64_t *pos, uint64_t lim,
		struct wout *o)
{
	uint64_t i, len;

	if (!o->budget--)
		return -1;
	*pos = align_up(*pos, n->align);
	if (*pos > lim)
		return -1;
	switch (n->kind) {
	case CN_INT:
		return walk_int(n, buf, pos, lim, o);
	case CN_STRING: {
		const uint8_t *p = buf + (*pos >> 3), *z;

		z = memchr(p, 0, (size_t)((lim - *pos) >> 3));
		if (!z)
			return -1;
		*pos += (uint64_t)(z - p + 1) * 8;
		return 0;
	}
	case CN_STRUCT:
		if (n->flat) {
			for (i = 0; i < n->nkids; i++)
				if (walk_int(n->kids[i], buf, pos, lim, o))
					return -1;
			return 0;
		}
		for (i = 0; i < n->nkids; i++)
			if (walk(n->kids[i], buf, pos, lim, o))
				return -1;
		return 0;
	case CN_VARIANT: {
		uint64_t tag = n->tag_slot < 64 ? o->slots[n->tag_slot] : 0;

		for (i = 0; i < n->nranges; i++)
			if (n->tag_sgn ? ((int64_t)tag >= n->lo[i] && (int64_t)tag <= n->hi[i]) :
			    (tag >= (uint64_t)n->lo[i] && tag <= (uint64_t)n->hi[i]))
				return walk(n->kids[n->opt[i]], buf, pos, lim, o);
		return -1;
	}
	case CN_ARRAY:
	case CN_SEQ:
		len = n->kind == CN_ARRAY ? n->length :
			(n->len_slot < 64 ? o->slots[n->len_slot] : 0);
		if (len > lim - *pos)	/* every element takes at least a bit */
			return -1;
		for (i = 0; i < len; i++) {
			uint64_t at = *pos;

			if (walk(n->kids[0], buf, pos, lim, o))
				return -1;
			if (n->role == R_UUID && i < 16 && n->kids[0]->kind == CN_INT &&
			    n->kids[0]->size == 8)
				o->uuid[i] = (unsigned char)rd_bits(buf, align_up(at, n->kids[0]->align),
								    8, 0, 0);
			if (*pos == at && n->kids[0]->kind != CN_INT)
				return -1;	/* empty elements: refuse */
		}
		if (n->role == R_UUID)
			o->has |= 1u << R_UUID;
		return 0;
	}
	return -1;
}

/* ---- payload programs --------------------------------------------------------- */

enum pop_kind { P_INT, P_ARR, P_SEQ, P_STR, P_TEXTARR, P_TEXTSEQ };

struct pop {
	unsigned char kind, be, sgn, text_stops;	/* text_stops: stop at NUL */
	unsigned int size, align;	/* element bits */
	uint32_t count;
	int len_op;
	int field;			/* schema field, -1: skipped */
	unsigned int take;
	unsigned int need;
	uint32_t boff;			/* fixed layout: byte offset in the payload */
};

struct fclass {
	const struct sschema *s;
	struct pop *ops;
	size_t nops;
	unsigned int align;
	int missing[MAXF];	/* schema fields absent (zero-filled) */
	size_t nmissing;
	int has_need;
	size_t reason_op;
	struct cnode *ctx;	/* event-specific context, skipped */
	uint64_t id;
	const char *name;
	/*
	 * Fixed prefix: the leading fields that are little-endian whole-byte
	 * integers, arrays or text arrays at no more than byte alignment
	 * (all of them in LTTng's hvtrace events) sit at constant offsets, so
	 * only the fields wanted are touched; the rest (a text string, a
	 * sequence) is decoded field by field.
	 */
	size_t nfixed;
	uint32_t fixed_bytes;
	int plens[MAXF];	/* prefix integers that are later sequences' lengths */
	size_t nplens;
	int zero_all;		/* some field reads as zero: clear the record first */
	int keys[MAXF];		/* ops to store */
	size_t nkeys;
	int layout_lo, layout_hi;	/* schema versions its fields fit */
};

struct fsclass {
	uint64_t id;
	struct cnode *ctx;		/* packet context */
	struct cnode *eh;		/* event header */
	struct cnode *ectx;		/* stream event context */
	struct fclass *cls;		/* by position */
	size_t ncls;
	struct fclass *by_id[256];
	int has_disc, has_seq, has_end;
};

struct seen_ctx {
	const struct sschema *s;
	const unsigned char *seen;
};

static int seen_has(const void *ctx, const char *name)
{
	const struct seen_ctx *sc = ctx;

	for (size_t f = 0; f < sc->s->nf; f++)
		if (!strcmp(sc->s->f[f].name, name))
			return sc->seen[f];
	return 0;
}

static int compile_payload(struct cctx *c, const struct ct_type *fields, const struct sschema *s,
			   unsigned int flags, struct fclass *fc)
{
	unsigned char seen[MAXF] = { 0 };
	struct seen_ctx sctx = { s, seen };
	char lwhy[200];
	int last_f = -1;
	size_t i, f;

	fc->s = s;
	if (!fields || fields->kind != CT_STRUCT) {
		snprintf(c->why, sizeof(c->why), "event %s has no payload structure", s->event);
		return -1;
	}
	if (fields->nmembers > MAXF) {
		snprintf(c->why, sizeof(c->why), "event %s has %zu fields", s->event, fields->nmembers);
		return -1;
	}
	fc->align = ctf_meta_align(fields);
	fc->ops = c_alloc(c, (fields->nmembers + 1) * sizeof(*fc->ops));
	if (!fc->ops)
		return -1;
	for (i = 0; i < fields->nmembers; i++) {
		const struct ct_member *mb = &fields->members[i];
		const char *name = ctf_meta_name(mb->name);
		const struct ct_type *t = mb->type, *e = NULL;
		struct pop *op = &fc->ops[fc->nops];
		const struct sfield *fd = NULL;

		for (f = 0; f < s->nf; f++)
			if (!strcmp(s->f[f].name, name))
				break;
		if (f < s->nf) {
			if (seen[f]) {
				snprintf(c->why, sizeof(c->why), "event %s: field %s twice", s->event, name);
				return -1;
			}
			fd = &s->f[f];
			if ((int)f < last_f) {
				snprintf(c->why, sizeof(c->why), "event %s: field %s out of the schema's order",
					 s->event, name);
				return -1;
			}
			last_f = (int)f;
		}
		op->field = fd ? (int)f : -1;
		op->len_op = -1;
		if (t->kind == CT_ENUM)
			t = t->base;
		if (t->kind == CT_INT) {
			op->kind = P_INT;
			e = t;
		} else if (t->kind == CT_STRING) {
			op->kind = P_STR;
			op->align = 8;
			op->size = 8;
		} else if ((t->kind == CT_ARRAY || t->kind == CT_SEQ) &&
			   (t->elem->kind == CT_INT || t->elem->kind == CT_ENUM)) {
			e = t->elem->kind == CT_ENUM ? t->elem->base : t->elem;
			if (e->size == 8 && e->encoded && (!fd || fd->kind == SF_TEXT)) {
				op->kind = t->kind == CT_ARRAY ? P_TEXTARR : P_TEXTSEQ;
				op->text_stops = 1;
			} else if (fd && fd->kind == SF_TEXT) {
				op->kind = t->kind == CT_ARRAY ? P_TEXTARR : P_TEXTSEQ;
			} else {
				op->kind = t->kind == CT_ARRAY ? P_ARR : P_SEQ;
			}
			if (e->size % 8 || (e->align > 8 && e->size % e->align)) {
				snprintf(c->why, sizeof(c->why), "event %s: field %s: odd element layout",
					 s->event, name);
				return -1;
			}
			op->count = (uint32_t)(t->kind == CT_ARRAY ? (t->length > UINT32_MAX ? 0 :
								     t->length) : 0);
			if (t->kind == CT_ARRAY && t->length > 1u << 20) {
				snprintf(c->why, sizeof(c->why), "event %s: huge array", s->event);
				return -1;
			}
			if (t->kind == CT_SEQ) {
				size_t k;
				const char *ln = strrchr(t->length_name, '.');

				ln = ln ? ln + 1 : t->length_name;
				/* members and ops are one to one: find the member by name */
				for (k = i; k-- > 0;)
					if (!strcmp(ctf_meta_name(fields->members[k].name), ctf_meta_name(ln)))
						break;
				if (k == (size_t)-1 || fc->ops[k].kind != P_INT) {
					snprintf(c->why, sizeof(c->why), "event %s: field %s: length not found",
						 s->event, name);
					return -1;
				}
				op->len_op = (int)k;
			}
		} else {
			snprintf(c->why, sizeof(c->why), "event %s: field %s has a type the fast decoder does not read",
				 s->event, name);
			return -1;
		}
		if (e) {
			if (e->clock) {
				snprintf(c->why, sizeof(c->why), "event %s: clock-mapped field", s->event);
				return -1;
			}
			op->size = e->size;
			op->align = e->align ? e->align : 1;
			op->sgn = (unsigned char)e->is_signed;
			op->be = ctf_meta_int_bo(c->m, e) == CT_BO_BE;
		}
		/* The schema field must have exactly the record's layout. */
		if (fd) {
			int ok;

			switch (fd->kind) {
			case SF_SCALAR:
				ok = op->kind == P_INT && op->size == 8u * fd->esize &&
				     op->sgn == fd->sgn;
				break;
			case SF_ARRAY:
				ok = op->kind == P_ARR && op->size == 8u * fd->esize &&
				     op->count == fd->count && op->sgn == fd->sgn;
				break;
			case SF_SEQ:
				ok = op->kind == P_SEQ && op->size == 8u * fd->esize &&
				     op->sgn == fd->sgn;
				break;
			default:
				ok = op->kind == P_STR || op->kind == P_TEXTARR ||
				     op->kind == P_TEXTSEQ;
				break;
			}
			if (!ok) {
				snprintf(c->why, sizeof(c->why), "event %s: field %s does not have the layout of schema v%d",
					 s->event, name, HVTRACE_SCHEMA_VERSION);
				return -1;
			}
			seen[f] = 1;
			op->take = key_take(s, fd, flags, &op->need);
			if (op->need)
				fc->has_need = 1;
			if (s->type == HVT_EV_EXIT &&
			    fd->off == offsetof(struct hvtrace_exit_rec, exit_reason))
				fc->reason_op = fc->nops;
		}
		fc->nops++;
	}
	/* Nothing but the schema's fields and their sequences' lengths. */
	for (i = 0; i < fc->nops; i++) {
		size_t k;

		if (fc->ops[i].field >= 0)
			continue;
		for (k = i + 1; k < fc->nops; k++)
			if (fc->ops[k].field >= 0 && fc->ops[k].len_op == (int)i)
				break;
		if (k == fc->nops) {
			snprintf(c->why, sizeof(c->why), "event %s: field %s is not in schema v%d",
				 s->event, ctf_meta_name(fields->members[i].name),
				 HVTRACE_SCHEMA_VERSION);
			return -1;
		}
	}
	for (i = 0; i < fc->nops; i++) {
		const struct pop *op = &fc->ops[i];

		if (op->field >= 0 && (op->need ||
		    op->take < (op->kind == P_ARR ? op->count : op->kind == P_INT ? 1u :
				s->f[op->field].count)))
			fc->zero_all = 1;
	}
	for (i = 0; i < fc->nops && fc->align <= 8; i++) {
		struct pop *op = &fc->ops[i];

		if ((op->kind != P_INT && op->kind != P_ARR &&
		     !(op->kind == P_TEXTARR && op->size == 8)) || op->be || op->size % 8 ||
		    op->align > 8 || (op->kind == P_INT && op->size > 64))
			break;
		op->boff = fc->fixed_bytes;
		fc->fixed_bytes += (op->kind == P_INT ? 1 : op->count) * (op->size / 8);
		if (op->field >= 0) {
			if (op->take)
				fc->keys[fc->nkeys++] = (int)i;
		}
		fc->nfixed = i + 1;
	}
	for (i = fc->nfixed; i < fc->nops; i++)
		if (fc->ops[i].len_op >= 0 && (size_t)fc->ops[i].len_op < fc->nfixed)
			fc->plens[fc->nplens++] = fc->ops[i].len_op;
	for (f = 0; f < s->nf; f++) {
		if (seen[f])
			continue;
		fc->zero_all = 1;
		if (!hvt_added_in(s->event, s->f[f].name)) {
			snprintf(c->why, sizeof(c->why), "event %s lacks field '%s'", s->event,
				 s->f[f].name);
			return -1;
		}
		fc->missing[fc->nmissing++] = (int)f;
	}
	/* Exactly the fields of one schema version (v1, v2, v3). */
	if (hvt_event_layout(s->event, seen_has, &sctx, &fc->layout_lo, &fc->layout_hi,
			     lwhy, sizeof(lwhy))) {
		snprintf(c->why, sizeof(c->why), "%s", lwhy);
		return -1;
	}
	return 0;
}

/* ---- cross-check with libbabeltrace2's trace class ------------------------------ */

static int bt_check(const bt_trace_class *tc, const struct ct_meta *m, char *why, size_t len)
{
	uint64_t s, ns = bt_trace_class_get_stream_class_count(tc);

	if (ns != m->nstreams) {
		snprintf(why, len, "libbabeltrace2 sees %" PRIu64 " stream classes, the metadata %zu",
			 ns, m->nstreams);
		return -1;
	}
	for (s = 0; s < ns; s++) {
		const bt_stream_class *sc = bt_trace_class_borrow_stream_class_by_index_const(tc, s);
		uint64_t e, ne = bt_stream_class_get_event_class_count(sc);

		for (e = 0; e < ne; e++) {
			const bt_event_class *ec = bt_stream_class_borrow_event_class_by_index_const(sc, e);
			const bt_field_class *p = bt_event_class_borrow_payload_field_class_const(ec);
			const struct ct_event *me = NULL;
			uint64_t k, nm;
			size_t i;

			for (i = 0; i < m->nevents; i++)
				if (m->events[i].id == bt_event_class_get_id(ec) &&
				    m->events[i].stream_id == bt_stream_class_get_id(sc))
					me = &m->events[i];
			if (!me || !me->name || !bt_event_class_get_name(ec) ||
			    strcmp(me->name, bt_event_class_get_name(ec))) {
				snprintf(why, len, "event class %" PRIu64 ": libbabeltrace2 and the metadata disagree",
					 bt_event_class_get_id(ec));
				return -1;
			}
			if (!p || !me->fields)
				continue;
			nm = bt_field_class_structure_get_member_count(p);
			if (nm != me->fields->nmembers) {
				snprintf(why, len, "event %s: member count differs from libbabeltrace2's", me->name);
				return -1;
			}
			for (k = 0; k < nm; k++) {
				const bt_field_class_structure_member *mb =
					bt_field_class_structure_borrow_member_by_index_const(p, k);
				const bt_field_class *fc = bt_field_class_structure_member_borrow_field_class_const(mb);
				const struct ct_type *t = me->fields->members[k].type;
				bt_field_class_type ft = bt_field_class_get_type(fc);

				if (strcmp(bt_field_class_structure_member_get_name(mb),
					   ctf_meta_name(me->fields->members[k].name))) {
					snprintf(why, len, "event %s: member %" PRIu64 " differs from libbabeltrace2's",
						 me->name, k);
					return -1;
				}
				if (t->kind == CT_ENUM)
					t = t->base;
				if (t->kind == CT_INT &&
				    (!bt_field_class_type_is(ft, BT_FIELD_CLASS_TYPE_INTEGER) ||
				     bt_field_class_integer_get_field_value_range(fc) != t->size ||
				     !!bt_field_class_type_is(ft, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER) !=
				     !!t->is_signed)) {
					snprintf(why, len, "event %s: member %s: integer differs from libbabeltrace2's",
						 me->name, ctf_meta_name(me->fields->members[k].name));
					return -1;
				}
			}
		}
	}
	return 0;
}

/* ---- streams and packets ------------------------------------------------------- */

/* A packet's header and context, decoded (when indexing, and again when decoding). */
struct pinfo {
	uint64_t off;		/* bytes */
	uint64_t size;		/* bytes */
	uint64_t content;	/* bits */
	uint64_t ts_begin, ts_end, disc, seqnum;
	uint64_t data_at;	/* bits from the packet start: first event header */
};

struct ftrace {
	struct ct_meta *m;
	struct fsclass *sc;
	size_t nsc;
	int64_t base_ns;
	int base_overflows;
	uint64_t freq;
	struct cnode *ph;	/* packet header */
};

struct fstream {
	struct ftrace *tr;
	struct fsclass *sc;
	char *path;
	int fd;
	uint32_t ridx;		/* reader stream index */
	const char *name;	/* the reader's name for it */
	uint64_t inst;		/* stream id (instance), for tie breaks */
	int has_inst;
	uint64_t fsize;
	uint64_t *poff;		/* packet offsets: 8 bytes a packet is all that is kept */
	uint32_t npk;
	/* merge state */
	size_t next_chunk;	/* index into the chunk list of this stream */
	size_t first_chunk, nchunks;
	struct chunk *cur;
	size_t cur_pos;		/* records of cur handed out */
	struct seg *cur_seg;	/* where the next one is */
	size_t cur_off;
};

/* ---- chunks ---------------------------------------------------------------- */

enum { C_PENDING, C_BUSY, C_DONE, C_RELEASED };

struct rec {
	struct hvt_event ev;
	uint64_t raw_begin, raw_end;	/* discarded: raw clock values, for ties */
	int dpackets;			/* a discarded-packets record */
	/*
	 * The event class whose decoding last filled this slot completely:
	 * fields that class reads as zero are zero already (the slots are
	 * reused chunk after chunk).
	 */
	const void *cls;
};

/* Records in fixed segments: no reallocation, no copy, nothing that grows in steps. */
#define SEG_RECS 256

struct seg {
	struct seg *next;
	struct rec r[SEG_RECS];
};

/* The records of a chunk being decoded or read (a bounded number exist). */
struct work {
	struct seg *segs;	/* kept from chunk to chunk: never reallocated */
	struct seg *tail;	/* the segment being filled */
	uint32_t tail_n;	/* records in it */
	uint32_t nrecs;
	unsigned char failed;
	char *err;		/* when failed (NULL: out of memory) */
};

/* One per about 1 MiB of packets, for the whole trace: kept small. */
struct chunk {
	int64_t first_ns;
	uint32_t p0, p1;	/* packets [p0, p1) */
	uint32_t stream;
	unsigned char state;
	struct work *w;		/* while decoded and not yet released */
};

struct worker_buf {
	uint8_t *buf;
	size_t cap;
};

struct hvt_fast {
	unsigned int flags;
	struct ftrace *traces;
	size_t ntraces;
	struct fstream *streams;
	size_t nstreams;
	struct chunk *chunks;	/* by stream, then in file order */
	size_t nchunks, cap_chunks;
	uint32_t *sched;	/* chunk indices in decoding order */
	size_t next_sched;
	size_t inflight, window;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t *threads;
	unsigned int nthreads, want_threads;
	int stop;
	struct worker_buf mainbuf;
	struct work **pool;	/* free work areas */
	size_t npool, pool_max;
	void **allocs;
	size_t nallocs;
};

static int64_t to_ns(const struct ftrace *t, uint64_t v, int *ok)
{
	uint64_t ns;

	*ok = 0;
	if (t->base_overflows)
		return 0;
	if (t->freq == UINT64_C(1000000000)) {
		ns = v;
	} else {
		double d = 1e9 * (double)v / (double)t->freq;

		ns = d >= (double)UINT64_MAX ? UINT64_MAX : (uint64_t)d;
	}
	if (ns >= (uint64_t)INT64_MAX)
		return 0;
	if (t->base_ns > 0 && (int64_t)ns > INT64_MAX - t->base_ns)
		return 0;
	*ok = 1;
	return t->base_ns + (int64_t)ns;
}

static int64_t ns_or_zero(const struct ftrace *t, uint64_t v)
{
	int ok;
	int64_t ns = to_ns(t, v, &ok);

	return ok ? ns : 0;
}

/* ---- decoding one chunk ------------------------------------------------------ */

static void store(void *dst, unsigned int size, uint64_t v)
{
	switch (size) {
	case 1: { uint8_t x = (uint8_t)v; memcpy(dst, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(dst, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(dst, &x, 4); break; }
	default: memcpy(dst, &v, 8); break;
	}
}

static void *record_of(struct hvt_event *ev)
{
	switch (ev->type) {
	case HVT_EV_EXIT: return &ev->u.exit;
	case HVT_EV_RESUME: return &ev->u.resume;
	default: return &ev->u.session;
	}
}

static struct rec *chunk_add(struct work *w)
{
	struct rec *r;

	if (!w->tail || w->tail_n == SEG_RECS) {
		struct seg *next = w->tail ? w->tail->next : w->segs;

		if (!next) {
			size_t i;

			next = malloc(sizeof(*next));
			if (!next)
				return NULL;
			next->next = NULL;
			for (i = 0; i < SEG_RECS; i++)
				next->r[i].cls = NULL;
			if (w->tail)
				w->tail->next = next;
			else
				w->segs = next;
		}
		w->tail = next;
		w->tail_n = 0;
	}
	r = &w->tail->r[w->tail_n++];
	w->nrecs++;
	return r;
}

/* Take back the last record chunk_add() gave. */
static void chunk_unadd(struct work *w)
{
	w->tail_n--;
	w->nrecs--;
}

static void free_segs(struct work *w)
{
	while (w->segs) {
		struct seg *n = w->segs->next;

		free(w->segs);
		w->segs = n;
	}
}

static int cfail(struct work *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int cfail(struct work *c, const char *fmt, ...)
{
	va_list ap;

	c->failed = 1;
	free(c->err);
	va_start(ap, fmt);
	if (vasprintf(&c->err, fmt, ap) < 0)
		c->err = NULL;
	va_end(ap);
	return -1;
}

/* Decode one event's payload into its record; pos in bits. */
static int decode_payload(const struct fclass *fc, const uint8_t *buf, uint64_t *pos,
			  uint64_t lim, void *recp, int clean)
{
	char *rec = recp;
	const struct sschema *s = fc->s;
	uint64_t vals[MAXF];
	size_t i;

	*pos = align_up(*pos, fc->align);
	if (*pos > lim)
		return -1;
	i = 0;
	if (fc->nfixed && !(*pos & 7)) {
		const uint8_t *base = buf + (*pos >> 3);

		if ((lim - *pos) / 8 < fc->fixed_bytes)
			return -1;
		if (fc->zero_all && !clean)
			memset(rec, 0, s->recsize);
		for (i = 0; i < fc->nkeys; i++) {
			const struct pop *op = &fc->ops[fc->keys[i]];
			const struct sfield *fd = &s->f[op->field];

			if (op->kind == P_INT) {
				uint64_t v = 0;

				memcpy(&v, base + op->boff, op->size / 8);	/* little-endian host */
				store(rec + fd->off, fd->esize, v);
			} else if (op->kind == P_TEXTARR) {
				/* as the general path: up to a NUL, at most count - 1 */
				const uint8_t *p = base + op->boff, *z;
				size_t n = op->count;

				if (op->text_stops && (z = memchr(p, 0, n)))
					n = (size_t)(z - p);
				if (n > (size_t)fd->count - 1)
					n = fd->count - 1;
				memcpy(rec + fd->off, p, n);
				memset(rec + fd->off + n, 0, fd->count - n);
			} else {
				memcpy(rec + fd->off, base + op->boff, (size_t)op->take * fd->esize);
			}
		}
		for (i = 0; i < fc->nplens; i++) {
			const struct pop *op = &fc->ops[fc->plens[i]];
			uint64_t v = 0;

			memcpy(&v, base + op->boff, op->size / 8);
			if (op->sgn && op->size < 64 && (v >> (op->size - 1) & 1))
				v |= ~0ull << op->size;
			vals[fc->plens[i]] = v;
		}
		*pos += (uint64_t)fc->fixed_bytes * 8;
		if (fc->nfixed == fc->nops)
			goto need;
		i = fc->nfixed;
	} else if (fc->zero_all && !clean) {
		memset(rec, 0, s->recsize);
	}
	for (; i < fc->nops; i++) {
		const struct pop *op = &fc->ops[i];
		const struct sfield *fd = op->field >= 0 ? &s->f[op->field] : NULL;
		uint64_t n, k, take;

		switch (op->kind) {
		case P_INT:
			*pos = align_up(*pos, op->align);
			if (*pos > lim || lim - *pos < op->size)
				return -1;
			vals[i] = rd_bits(buf, *pos, op->size, op->be, op->sgn);
			*pos += op->size;
			if (fd && (op->take || !fc->zero_all))
				store(rec + fd->off, fd->esize, op->take ? vals[i] : 0);
			break;
		case P_ARR:
		case P_SEQ:
			n = op->kind == P_ARR ? op->count : vals[op->len_op];
			*pos = align_up(*pos, op->align);
			if (*pos > lim || n > (lim - *pos) / op->size)
				return -1;
			take = 0;
			if (fd && n > fd->count)
				return -2;	/* longer than the schema allows */
			if (fd) {
				take = n < op->take ? n : op->take;
				if (take > fd->count)
					take = fd->count;
				if (op->size == 64 && !op->be && !(*pos & 7)) {
					memcpy(rec + fd->off, buf + (*pos >> 3), take * 8);
				} else {
					for (k = 0; k < take; k++)
						store(rec + fd->off + k * fd->esize, fd->esize,
						      rd_bits(buf, *pos + k * op->size, op->size, op->be,
							      op->sgn));
				}
				if (take < fd->count)
					memset(rec + fd->off + take * fd->esize, 0,
					       (size_t)(fd->count - take) * fd->esize);
				if (fd->kind == SF_SEQ)
					store(rec + fd->len_off, fd->lsize, take);
			}
			*pos += n * op->size;
			break;
		case P_STR:
		case P_TEXTARR:
		case P_TEXTSEQ: {
			const uint8_t *p;

			if (op->kind == P_STR) {
				const uint8_t *z;

				*pos = align_up(*pos, 8);
				if (*pos > lim)
					return -1;
				p = buf + (*pos >> 3);
				z = memchr(p, 0, (size_t)((lim - *pos) >> 3));
				if (!z)
					return -1;
				n = (uint64_t)(z - p);
				*pos += (n + 1) * 8;
			} else {
				n = op->kind == P_TEXTARR ? op->count : vals[op->len_op];
				*pos = align_up(*pos, op->align);
				if (*pos > lim || n > (lim - *pos) / 8)
					return -1;
				p = buf + (*pos >> 3);
				*pos += n * 8;
				if (op->text_stops) {
					const uint8_t *z = memchr(p, 0, (size_t)n);

					if (z)
						n = (uint64_t)(z - p);
				}
			}
			if (fd) {
				if (!op->take)
					n = 0;
				if (n > (uint64_t)fd->count - 1)
					n = fd->count - 1;
				memcpy(rec + fd->off, p, (size_t)n);
				memset(rec + fd->off + n, 0, fd->count - n);
			}
			break;
		}
		}
	}
	for (i = 0; i < fc->nmissing; i++) {
		const struct sfield *fd = &s->f[fc->missing[i]];

		memset(rec + fd->off, 0, (size_t)fd->esize * fd->count);
		if (fd->kind == SF_SEQ)
			memset(rec + fd->len_off, 0, fd->lsize);
	}
need:
	if (fc->has_need) {
		const struct sfield *rf = &s->f[fc->ops[fc->reason_op].field];
		uint32_t reason;
		unsigned int kinds;

		memcpy(&reason, rec + rf->off, 4);
		kinds = 1u << hvt_exit_qual_kind(reason & HVTRACE_EXIT_REASON_BASIC_MASK);
		for (i = 0; i < fc->nops; i++) {
			const struct pop *op = &fc->ops[i];

			if (op->field >= 0 && op->need && !(op->need & kinds)) {
				const struct sfield *fd = &s->f[op->field];

				memset(rec + fd->off, 0, (size_t)fd->esize * fd->count);
			}
		}
	}
	return 0;
}

static int read_packet(struct worker_buf *wb, const struct fstream *st, const struct pinfo *p)
{
	size_t need = (size_t)p->size;

	if (need + 8 > wb->cap) {
		uint8_t *nb = realloc(wb->buf, need + 8);

		if (!nb)
			return -1;
		wb->buf = nb;
		wb->cap = need + 8;
	}
	for (size_t got = 0; got < need;) {
		ssize_t n = pread(st->fd, wb->buf + got, need - got, (off_t)(p->off + got));

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	memset(wb->buf + need, 0, 8);
	return 0;
}

static int scan_packet(struct ftrace *tr, int fd, uint64_t fsize, struct pinfo *pk,
		       struct fsclass **scp, uint64_t *inst, int *has_inst, char *why, size_t len);

/* Packet p's header and context again, checked as when indexing. */
static int rescan(const struct fstream *st, uint32_t p, struct pinfo *pi, char *why, size_t len)
{
	struct fsclass *sc = st->sc;
	uint64_t inst = st->inst;
	int has_inst = st->has_inst;

	memset(pi, 0, sizeof(*pi));
	pi->off = st->poff[p];
	if (scan_packet(st->tr, st->fd, st->fsize, pi, &sc, &inst, &has_inst, why, len))
		return -1;
	if (pi->off + pi->size != (p + 1 < st->npk ? st->poff[p + 1] : st->fsize)) {
		snprintf(why, len, "the packet at %" PRIu64 " changed size", pi->off);
		return -1;
	}
	return 0;
}

static int decode_chunk(struct hvt_fast *f, struct chunk *ch, struct worker_buf *wb)
{
	struct fstream *st = &f->streams[ch->stream];
	struct work *c = ch->w;
	struct ftrace *tr = st->tr;
	struct fsclass *sc = st->sc;
	struct pinfo pinfo[2];
	char why[300];
	uint32_t p;

	if (ch->p0 && rescan(st, ch->p0 - 1, &pinfo[(ch->p0 - 1) & 1], why, sizeof(why)))
		return cfail(c, "%s: %s", st->name, why);
	for (p = ch->p0; p < ch->p1; p++) {
		const struct pinfo *pk = &pinfo[p & 1];
		const struct pinfo *prev = p ? &pinfo[(p - 1) & 1] : NULL;
		uint64_t pos, lim;
		struct wout o;
		int ret;

		if (rescan(st, p, &pinfo[p & 1], why, sizeof(why)))
			return cfail(c, "%s: %s", st->name, why);
		pos = pk->data_at;
		lim = pk->content;
		if (read_packet(wb, st, pk))
			return cfail(c, "%s: cannot read the packet at offset %" PRIu64 ": %s",
				     st->name, pk->off, strerror(errno));
		/* Lost events, as libbabeltrace2 reports them before the packet. */
		if (sc->has_disc && (prev ? pk->disc != prev->disc : pk->disc != 0)) {
			struct rec *r = chunk_add(c);

			if (!r)
				return cfail(c, "out of memory");
			memset(r, 0, sizeof(*r));
			r->ev.type = HVT_EV_DISCARDED;
			r->ev.stream = st->ridx;
			r->ev.u.discarded.count = prev ? pk->disc - prev->disc : 0;
			if (sc->has_end) {
				r->raw_begin = prev ? prev->ts_end : pk->ts_begin;
				r->raw_end = pk->ts_end;
				r->ev.u.discarded.begin_ns = ns_or_zero(tr, r->raw_begin);
				r->ev.u.discarded.end_ns = ns_or_zero(tr, r->raw_end);
			}
			r->ev.ts_ns = r->ev.u.discarded.begin_ns;
		}
		/* Lost packets (a packet_seq_num gap), after the lost events. */
		if (sc->has_seq && prev && pk->seqnum - prev->seqnum > 1) {
			struct rec *r = chunk_add(c);

			if (!r)
				return cfail(c, "out of memory");
			memset(r, 0, sizeof(*r));
			r->ev.type = HVT_EV_DISCARDED;
			r->ev.stream = st->ridx;
			r->ev.u.discarded.packets = pk->seqnum - prev->seqnum - 1;
			r->dpackets = 1;
			if (sc->has_end) {
				r->raw_begin = prev->ts_end;
				r->raw_end = pk->ts_begin;
				r->ev.u.discarded.begin_ns = ns_or_zero(tr, r->raw_begin);
				r->ev.u.discarded.end_ns = ns_or_zero(tr, r->raw_end);
			}
			r->ev.ts_ns = r->ev.u.discarded.begin_ns;
		}
		memset(&o, 0, sizeof(o));
		o.clock = pk->ts_begin;
		while (pos < lim) {
			const struct fclass *fc;
			struct rec *r;
			uint64_t at = pos;

			o.has_id = 0;
			o.budget = 4096;
			if (sc->eh && walk(sc->eh, wb->buf, &pos, lim, &o))
				return cfail(c, "%s: packet at offset %" PRIu64 ": bad event header at bit %" PRIu64,
					     st->name, pk->off, pos);
			if (sc->ectx && walk(sc->ectx, wb->buf, &pos, lim, &o))
				return cfail(c, "%s: packet at offset %" PRIu64 ": bad event context",
					     st->name, pk->off);
			/*
			 * libbabeltrace2 2.0 finds the event class by the id's
			 * low 32 bits (a hash table keyed by a guint): so do we.
			 */
			if (o.has_id)
				fc = (uint32_t)o.id < 256 ? sc->by_id[(uint32_t)o.id] : NULL;
			else
				fc = sc->ncls == 1 ? &sc->cls[0] : NULL;
			if (!fc)
				return cfail(c, "%s: packet at offset %" PRIu64 ": unknown event class id %" PRIu64,
					     st->name, pk->off, o.id);
			if (fc->ctx && walk(fc->ctx, wb->buf, &pos, lim, &o))
				return cfail(c, "%s: packet at offset %" PRIu64 ": bad event context",
					     st->name, pk->off);
			r = chunk_add(c);
			if (!r)
				return cfail(c, "out of memory");
			r->ev.type = fc->s->type;
			r->ev.stream = st->ridx;
			r->ev.ts_ns = ns_or_zero(tr, o.clock);
			r->raw_begin = o.clock;
			r->raw_end = fc->id;
			ret = decode_payload(fc, wb->buf, &pos, lim, record_of(&r->ev),
					     r->cls == (const void *)fc);
			r->cls = ret ? NULL : fc;
			if (ret == -2) {
				chunk_unadd(c);
				return cfail(c, "%s: corrupt %s event: a sequence is longer than the schema allows",
					     st->name, fc->s->event);
			}
			if (ret) {
				chunk_unadd(c);
				return cfail(c, "%s: packet at offset %" PRIu64 ": event %s runs past the packet content",
					     st->name, pk->off, fc->s->event);
			}
			if (pos == at)
				return cfail(c, "%s: packet at offset %" PRIu64 ": an event of no size",
					     st->name, pk->off);
		}
	}
	return 0;
}

/* ---- threads ------------------------------------------------------------------ */

/* A work area for chunk c (the lock held when there are threads). */
static void take_pool(struct hvt_fast *f, struct chunk *c)
{
	c->w = f->npool ? f->pool[--f->npool] : calloc(1, sizeof(*c->w));
}

static void run_chunk(struct hvt_fast *f, struct chunk *c, struct worker_buf *wb)
{
	if (!c->w)
		return;		/* out of memory: get_chunk() says so */
	c->w->nrecs = 0;
	c->w->tail = NULL;
	c->w->tail_n = 0;
	c->w->failed = 0;
	decode_chunk(f, c, wb);
}

static void *worker(void *arg)
{
	struct hvt_fast *f = arg;
	struct worker_buf wb = { NULL, 0 };

	pthread_mutex_lock(&f->lock);
	for (;;) {
		struct chunk *c = NULL;

		while (!f->stop) {
			while (f->next_sched < f->nchunks &&
			       f->chunks[f->sched[f->next_sched]].state != C_PENDING)
				f->next_sched++;
			if (f->next_sched >= f->nchunks)
				break;
			if (f->inflight < f->window) {
				c = &f->chunks[f->sched[f->next_sched++]];
				break;
			}
			pthread_cond_wait(&f->cond, &f->lock);
		}
		if (!c)
			break;
		c->state = C_BUSY;
		f->inflight++;
		take_pool(f, c);
		pthread_mutex_unlock(&f->lock);
		run_chunk(f, c, &wb);
		pthread_mutex_lock(&f->lock);
		c->state = C_DONE;
		pthread_cond_broadcast(&f->cond);
	}
	pthread_mutex_unlock(&f->lock);
	free(wb.buf);
	return NULL;
}

/* The next chunk of a stream, decoded (by a worker, or here). */
static struct chunk *get_chunk(struct hvt_fast *f, struct fstream *st)
{
	struct chunk *c;

	if (st->next_chunk >= st->first_chunk + st->nchunks)
		return NULL;
	c = &f->chunks[st->next_chunk++];
	if (c->state == C_PENDING && !f->nthreads)
		c->state = C_BUSY;
	if (!f->nthreads) {
		take_pool(f, c);
		run_chunk(f, c, &f->mainbuf);
		c->state = C_DONE;
		return c->w ? c : NULL;
	}
	pthread_mutex_lock(&f->lock);
	if (c->state == C_PENDING) {
		c->state = C_BUSY;
		f->inflight++;
		take_pool(f, c);
		pthread_mutex_unlock(&f->lock);
		run_chunk(f, c, &f->mainbuf);
		pthread_mutex_lock(&f->lock);
		c->state = C_DONE;
	}
	while (c->state != C_DONE) {
		/* a worker has it: decode one further ahead meanwhile */
		struct chunk *o = NULL;

		while (f->next_sched < f->nchunks &&
		       f->chunks[f->sched[f->next_sched]].state != C_PENDING)
			f->next_sched++;
		if (f->next_sched < f->nchunks && f->inflight < f->window)
			o = &f->chunks[f->sched[f->next_sched++]];
		if (!o) {
			pthread_cond_wait(&f->cond, &f->lock);
			continue;
		}
		o->state = C_BUSY;
		f->inflight++;
		take_pool(f, o);
		pthread_mutex_unlock(&f->lock);
		run_chunk(f, o, &f->mainbuf);
		pthread_mutex_lock(&f->lock);
		o->state = C_DONE;
		pthread_cond_broadcast(&f->cond);
	}
	pthread_mutex_unlock(&f->lock);
	return c->w ? c : NULL;
}

static void release_chunk(struct hvt_fast *f, struct chunk *c)
{
	if (f->nthreads)
		pthread_mutex_lock(&f->lock);
	c->state = C_RELEASED;
	if (c->w && f->npool == f->pool_max) {
		free_segs(c->w);
		free(c->w->err);
		free(c->w);
	} else if (c->w) {
		free(c->w->err);
		c->w->err = NULL;
		f->pool[f->npool++] = c->w;
	}
	c->w = NULL;
	if (f->nthreads) {
		f->inflight--;
		pthread_cond_broadcast(&f->cond);
		pthread_mutex_unlock(&f->lock);
	}
}

/* ---- merge ---------------------------------------------------------------------- */

static int type_weight(const struct rec *r)
{
	return r->ev.type != HVT_EV_DISCARDED ? 5 : r->dpackets ? 1 : 4;
}

/* <0: a first (libbabeltrace2's muxer order for equal times). */
static int cmp_heads(const struct fstream *sa, const struct rec *a,
		     const struct fstream *sb, const struct rec *b)
{
	const struct ct_meta *ma = sa->tr->m, *mb = sb->tr->m;
	int r;

	if (a->ev.ts_ns != b->ev.ts_ns)
		return a->ev.ts_ns < b->ev.ts_ns ? -1 : 1;
	if (ma->has_uuid != mb->has_uuid)
		return ma->has_uuid ? -1 : 1;
	if (ma->has_uuid && (r = memcmp(ma->uuid, mb->uuid, 16)))
		return r;
	if (sa->sc->id != sb->sc->id)
		return sa->sc->id < sb->sc->id ? -1 : 1;
	if (sa->inst != sb->inst)
		return sa->inst < sb->inst ? -1 : 1;
	if (type_weight(a) != type_weight(b))
		return type_weight(b) - type_weight(a);
	if (a->ev.type != HVT_EV_DISCARDED && b->ev.type != HVT_EV_DISCARDED &&
	    a->raw_end != b->raw_end)
		return a->raw_end < b->raw_end ? -1 : 1;	/* event class id */
	return strcmp(sa->name, sb->name);
}

static void start_threads(struct hvt_fast *f)
{
	unsigned int i, n = f->want_threads;

	f->want_threads = 0;
	f->threads = calloc(n, sizeof(*f->threads));
	if (!f->threads)
		return;		/* the reading thread decodes alone */
	for (i = 0; i < n; i++) {
		if (pthread_create(&f->threads[i], NULL, worker, f))
			break;
		f->nthreads++;
	}
}

int hvt_fast_next(struct hvt_fast *f, struct hvt_event *ev, struct hvt_err *err)
{
	struct fstream *best = NULL;
	size_t i;

	if (f->want_threads)
		start_threads(f);

	for (i = 0; i < f->nstreams; i++) {
		struct fstream *st = &f->streams[i];

		while (!st->cur || st->cur_pos >= st->cur->w->nrecs) {
			if (st->cur) {
				if (st->cur->w->failed) {
					snprintf(err->msg, sizeof(err->msg), "%s",
						 st->cur->w->err ? st->cur->w->err : "out of memory");
					return -1;
				}
				release_chunk(f, st->cur);
				st->cur = NULL;
			}
			if (st->next_chunk < st->first_chunk + st->nchunks) {
				st->cur = get_chunk(f, st);
				if (!st->cur) {
					snprintf(err->msg, sizeof(err->msg), "out of memory");
					return -1;
				}
			}
			st->cur_pos = 0;
			if (!st->cur)
				break;
			st->cur_seg = st->cur->w->segs;
			st->cur_off = 0;
		}
		if (!st->cur)
			continue;
		if (!best || cmp_heads(st, &st->cur_seg->r[st->cur_off], best,
				       &best->cur_seg->r[best->cur_off]) < 0)
			best = st;
	}
	if (!best)
		return 0;
	{
		const struct rec *r = &best->cur_seg->r[best->cur_off];

		best->cur_pos++;
		if (++best->cur_off == SEG_RECS) {
			best->cur_seg = best->cur_seg->next;
			best->cur_off = 0;
		}
		size_t n;

		switch (r->ev.type) {
		case HVT_EV_EXIT:
			n = offsetof(struct hvt_event, u) + sizeof(r->ev.u.exit);
			break;
		case HVT_EV_RESUME:
			n = offsetof(struct hvt_event, u) + sizeof(r->ev.u.resume);
			break;
		case HVT_EV_SESSION:
			n = offsetof(struct hvt_event, u) + sizeof(r->ev.u.session);
			break;
		default:
			n = offsetof(struct hvt_event, u) + sizeof(r->ev.u.discarded);
			break;
		}
		memcpy(ev, &r->ev, n);
	}
	return 1;
}

/* ---- opening ---------------------------------------------------------------------- */

static int setup_trace(struct hvt_fast *f, struct ftrace *tr, const void *btc, char *why,
		       size_t len)
{
	struct ct_meta *m = tr->m;
	struct cctx c;
	size_t s, e;

	memset(&c, 0, sizeof(c));
	c.m = m;
	c.allocs = &f->allocs;
	c.nallocs = &f->nallocs;
	if (m->nclocks != 1) {
		snprintf(why, len, "%zu clocks in the metadata (the fast decoder reads traces with one)",
			 m->nclocks);
		return -1;
	}
	c.clock = m->clocks[0].name;
	{
		const struct ct_clock *ck = &m->clocks[0];
		int64_t off_s = ck->offset_s;
		uint64_t off_c = ck->offset;

		if (off_c >= ck->freq) {
			off_s += (int64_t)(off_c / ck->freq);
			off_c %= ck->freq;
		}
		tr->freq = ck->freq;
		if (off_s <= INT64_MIN / INT64_C(1000000000) - 1 ||
		    off_s >= INT64_MAX / INT64_C(1000000000) - 1) {
			tr->base_overflows = 1;
		} else {
			uint64_t cns = ck->freq == UINT64_C(1000000000) ? off_c :
				(uint64_t)(1e9 * (double)off_c / (double)ck->freq);

			tr->base_ns = off_s * INT64_C(1000000000) + (int64_t)cns;
		}
	}
	if (btc && bt_check(btc, m, why, len))
		return -1;
	if (m->packet_header) {
		c.scope = 0;
		tr->ph = compile(&c, m->packet_header, NULL, 2);
		if (!tr->ph) {
			snprintf(why, len, "packet header: %s", c.why[0] ? c.why : "out of memory");
			return -1;
		}
	}
	tr->sc = calloc(m->nstreams ? m->nstreams : 1, sizeof(*tr->sc));
	if (!tr->sc)
		return -1;
	tr->nsc = m->nstreams;
	for (s = 0; s < m->nstreams; s++) {
		struct fsclass *sc = &tr->sc[s];
		const struct ct_stream *ms = &m->streams[s];
		int nnames = c.nnames, nslots = c.nslots;

		sc->id = ms->id;
		if (!ms->packet_context) {
			snprintf(why, len, "stream class without packet context");
			return -1;
		}
		c.scope = 1;
		sc->ctx = compile(&c, ms->packet_context, NULL, 2);
		if (!sc->ctx) {
			snprintf(why, len, "packet context: %s", c.why[0] ? c.why : "out of memory");
			return -1;
		}
		{
			const struct ct_member *tb = ctf_meta_member(ms->packet_context, "timestamp_begin");
			const struct ct_member *te = ctf_meta_member(ms->packet_context, "timestamp_end");

			if (!tb || tb->type->kind != CT_INT || tb->type->size != 64 ||
			    !tb->type->clock || tb->type->is_signed) {
				snprintf(why, len, "packet context without a 64-bit clock timestamp_begin");
				return -1;
			}
			sc->has_end = te && te->type->kind == CT_INT && te->type->clock;
			sc->has_disc = ctf_meta_member(ms->packet_context, "events_discarded") != NULL;
			sc->has_seq = ctf_meta_member(ms->packet_context, "packet_seq_num") != NULL;
			if (!ctf_meta_member(ms->packet_context, "content_size") &&
			    !ctf_meta_member(ms->packet_context, "packet_size")) {
				snprintf(why, len, "packet context without sizes");
				return -1;
			}
		}
		c.nnames = nnames;
		c.nslots = nslots;
		if (ms->event_header) {
			c.scope = 2;
			sc->eh = compile(&c, ms->event_header, NULL, 0);
			if (!sc->eh) {
				snprintf(why, len, "event header: %s", c.why[0] ? c.why : "out of memory");
				return -1;
			}
		}
		if (ms->event_context) {
			c.scope = 3;
			sc->ectx = compile(&c, ms->event_context, NULL, 0);
			if (!sc->ectx) {
				snprintf(why, len, "event context: %s", c.why[0] ? c.why : "out of memory");
				return -1;
			}
		}
		if (c.nslots > 64) {
			snprintf(why, len, "too many header fields");
			return -1;
		}
		sc->cls = c_alloc(&c, (m->nevents + 1) * sizeof(*sc->cls));
		if (!sc->cls)
			return -1;
		for (e = 0; e < m->nevents; e++) {
			const struct ct_event *me = &m->events[e];
			const struct sschema *ss = NULL;
			struct fclass *fc;
			size_t k;

			if (me->stream_id != sc->id && m->nstreams > 1)
				continue;
			for (k = 0; k < NELEM(sschemas); k++)
				if (me->name && !strcmp(me->name, sschemas[k].event))
					ss = &sschemas[k];
			if (!ss) {
				snprintf(why, len, "event class '%s' is not hvtrace's",
					 me->name ? me->name : "?");
				return -1;
			}
			if (me->id >= 256 || sc->by_id[me->id]) {
				snprintf(why, len, "event id %" PRIu64 " out of range or twice", me->id);
				return -1;
			}
			fc = &sc->cls[sc->ncls];
			fc->id = me->id;
			fc->name = me->name;
			c.why[0] = '\0';
			if (compile_payload(&c, me->fields, ss, f->flags, fc)) {
				snprintf(why, len, "%s", c.why[0] ? c.why : "out of memory");
				return -1;
			}
			if (me->context) {
				c.scope = 3;
				fc->ctx = compile(&c, me->context, NULL, 0);
				if (!fc->ctx) {
					snprintf(why, len, "event context: %s", c.why);
					return -1;
				}
			}
			sc->by_id[me->id] = fc;
			sc->ncls++;
		}
		if (!sc->eh && sc->ncls > 1) {
			snprintf(why, len, "no event header but several event classes");
			return -1;
		}
		{
			int lo = 1, hi = HVTRACE_SCHEMA_VERSION;

			for (e = 0; e < sc->ncls; e++) {
				if (sc->cls[e].layout_lo > lo)
					lo = sc->cls[e].layout_lo;
				if (sc->cls[e].layout_hi < hi)
					hi = sc->cls[e].layout_hi;
			}
			if (lo > hi) {
				snprintf(why, len, "event classes with the fields of different schema versions");
				return -1;
			}
		}
		c.nnames = nnames;
		c.nslots = nslots;
	}
	return 0;
}

/* Decode a packet's header and context from the file; fill pk (off set). */
static int scan_packet(struct ftrace *tr, int fd, uint64_t fsize, struct pinfo *pk,
		       struct fsclass **scp, uint64_t *inst, int *has_inst, char *why, size_t len)
{
	uint8_t buf[4096];
	uint64_t pos = 0, lim;
	ssize_t n;
	struct wout o;
	struct fsclass *sc = NULL;
	size_t i;

	n = pread(fd, buf, sizeof(buf), (off_t)pk->off);
	if (n <= 0) {
		snprintf(why, len, "cannot read a packet header");
		return -1;
	}
	lim = (uint64_t)n * 8;
	memset(&o, 0, sizeof(o));
	o.budget = 100000;
	if (tr->ph && walk(tr->ph, buf, &pos, lim, &o)) {
		snprintf(why, len, "packet header at %" PRIu64 " not decodable", pk->off);
		return -1;
	}
	if ((o.has & (1u << R_MAGIC)) && o.magic != 0xc1fc1fc1) {
		snprintf(why, len, "bad packet magic at %" PRIu64, pk->off);
		return -1;
	}
	if ((o.has & (1u << R_UUID)) && (!tr->m->has_uuid || memcmp(o.uuid, tr->m->uuid, 16))) {
		snprintf(why, len, "packet uuid differs from the trace's at %" PRIu64, pk->off);
		return -1;
	}
	for (i = 0; i < tr->nsc; i++)
		if (!(o.has & (1u << R_STREAM_ID)) ? tr->nsc == 1 : tr->sc[i].id == o.stream_id)
			sc = &tr->sc[i];
	if (!sc || (*scp && *scp != sc)) {
		snprintf(why, len, "unknown or changing stream class at %" PRIu64, pk->off);
		return -1;
	}
	*scp = sc;
	if (o.has & (1u << R_STREAM_INST)) {
		if (*has_inst && *inst != o.stream_inst) {
			snprintf(why, len, "stream instance changes within a file");
			return -1;
		}
		*inst = o.stream_inst;
		*has_inst = 1;
	}
	if (walk(sc->ctx, buf, &pos, lim, &o)) {
		snprintf(why, len, "packet context at %" PRIu64 " not decodable", pk->off);
		return -1;
	}
	if (!(o.has & (1u << R_PACKET)))
		o.packet = (o.has & (1u << R_CONTENT)) ? o.content : (fsize - pk->off) * 8;
	if (!(o.has & (1u << R_CONTENT)))
		o.content = o.packet;
	if (!o.packet || o.packet % 8 || o.content > o.packet || o.content < pos ||
	    o.packet / 8 > fsize - pk->off || o.packet / 8 > (256u << 20)) {
		snprintf(why, len, "packet at %" PRIu64 ": sizes do not fit the file", pk->off);
		return -1;
	}
	pk->size = o.packet / 8;
	pk->content = o.content;
	pk->ts_begin = o.ts_begin;
	pk->ts_end = o.ts_end;
	pk->disc = o.disc;
	pk->seqnum = o.seqnum;
	pk->data_at = pos;
	if (sc->has_end && pk->ts_end < pk->ts_begin) {
		snprintf(why, len, "packet at %" PRIu64 " ends before it begins", pk->off);
		return -1;
	}
	return 0;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Packet offsets from DIR/index/FILE.idx; 0 when they describe the file exactly. */
static int read_index(const char *dir, const char *file, uint64_t fsize, uint64_t **offs,
		      size_t *n)
{
	char p[PATH_MAX];
	uint8_t hdr[16], ent[8 * 9];
	uint32_t elen;
	uint64_t at = 0;
	size_t cap = 0;
	FILE *fp;

	*offs = NULL;
	*n = 0;
	if (snprintf(p, sizeof(p), "%s/index/%s.idx", dir, file) >= (int)sizeof(p))
		return -1;
	fp = fopen(p, "rb");
	if (!fp)
		return -1;
	if (fread(hdr, 1, 16, fp) != 16 || be64(hdr) >> 32 != 0xC1F1DCC1u)
		goto bad;
	elen = (uint32_t)hdr[12] << 24 | (uint32_t)hdr[13] << 16 | (uint32_t)hdr[14] << 8 | hdr[15];
	if (elen < 24 || elen > 4096)
		goto bad;
	for (;;) {
		uint8_t big[4096];
		uint64_t off, psize;

		if (fread(big, 1, elen, fp) != elen)
			break;
		memcpy(ent, big, 24);
		off = be64(ent);
		psize = be64(ent + 8);
		if (off != at || !psize || psize % 8 || psize / 8 > fsize - at)
			goto bad;
		if (*n == cap) {
			uint64_t *no = realloc(*offs, (cap ? 2 * cap : 64) * sizeof(*no));

			if (!no)
				goto bad;
			*offs = no;
			cap = cap ? 2 * cap : 64;
		}
		(*offs)[(*n)++] = off;
		at += psize / 8;
	}
	fclose(fp);
	if (at != fsize || !*n) {
		free(*offs);
		*offs = NULL;
		*n = 0;
		return -1;
	}
	return 0;
bad:
	fclose(fp);
	free(*offs);
	*offs = NULL;
	*n = 0;
	return -1;
}

static int add_stream_file(struct hvt_fast *f, struct ftrace *tr, const char *dir,
			   const char *prefix, const char *file,
			   uint32_t (*lookup)(void *, const char *), void *ctx, char *why, size_t len)
{
	char path[PATH_MAX], name[PATH_MAX];
	struct fstream *st, *ns;
	uint64_t *offs = NULL, at = 0, chunk_bytes = 0;
	size_t noffs = 0, cap = 0;
	struct pinfo prev;
	struct stat sb;
	int use_index;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path) ||
	    snprintf(name, sizeof(name), "%s/%s", prefix, file) >= (int)sizeof(name)) {
		snprintf(why, len, "path too long");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		snprintf(why, len, "cannot open %s", path);
		return -1;
	}
	if (!sb.st_size) {
		close(fd);
		return 0;	/* libbabeltrace2 skips empty stream files too */
	}
	ns = realloc(f->streams, (f->nstreams + 1) * sizeof(*ns));
	if (!ns) {
		close(fd);
		return -1;
	}
	f->streams = ns;
	st = &ns[f->nstreams++];
	memset(st, 0, sizeof(*st));
	st->tr = tr;
	st->fd = fd;
	st->path = strdup(path);
	st->ridx = lookup(ctx, name);
	if (!st->path)
		return -1;
	if (st->ridx == UINT32_MAX) {
		snprintf(why, len, "libbabeltrace2 reports no stream for %s", name);
		return -1;
	}
	st->fsize = (uint64_t)sb.st_size;
	st->first_chunk = f->nchunks;
	memset(&prev, 0, sizeof(prev));
	use_index = !read_index(dir, file, (uint64_t)sb.st_size, &offs, &noffs);
	for (size_t i = 0; use_index ? i < noffs : at < (uint64_t)sb.st_size; i++) {
		struct pinfo pk;

		memset(&pk, 0, sizeof(pk));
		pk.off = use_index ? offs[i] : at;
		if (st->npk == UINT32_MAX ||
		    scan_packet(tr, fd, (uint64_t)sb.st_size, &pk, &st->sc, &st->inst, &st->has_inst,
				why, len))
			goto bad;
		if (i && (pk.ts_begin < prev.ts_begin ||
			  (st->sc->has_disc && pk.disc < prev.disc) ||
			  (st->sc->has_seq && pk.seqnum <= prev.seqnum))) {
			snprintf(why, len, "%s: packets out of order", path);
			goto bad;
		}
		prev = pk;
		if (st->npk == cap) {
			uint64_t *np = realloc(st->poff, (cap ? 2 * cap : 64) * sizeof(*np));

			if (!np)
				goto bad;
			st->poff = np;
			cap = cap ? 2 * cap : 64;
		}
		st->poff[st->npk] = pk.off;
		/* chunks of about 1 MiB of whole packets */
		if (!i || chunk_bytes + pk.size > (1u << 20)) {
			struct chunk *nc;

			if (f->nchunks == f->cap_chunks) {
				size_t ncap = f->cap_chunks ? 2 * f->cap_chunks : 64;

				nc = realloc(f->chunks, ncap * sizeof(*nc));
				if (!nc)
					goto bad;
				f->chunks = nc;
				f->cap_chunks = ncap;
			}
			nc = &f->chunks[f->nchunks++];
			memset(nc, 0, sizeof(*nc));
			nc->stream = (uint32_t)(f->nstreams - 1);
			nc->p0 = st->npk;
			nc->first_ns = ns_or_zero(tr, pk.ts_begin);
			chunk_bytes = 0;
		}
		chunk_bytes += pk.size;
		f->chunks[f->nchunks - 1].p1 = st->npk + 1;
		st->npk++;
		at = pk.off + pk.size;
		if (use_index && i + 1 < noffs && offs[i + 1] != at) {
			snprintf(why, len, "%s: index disagrees with the packet sizes", path);
			goto bad;
		}
	}
	free(offs);
	if (at != (uint64_t)sb.st_size) {
		snprintf(why, len, "%s: packets do not cover the file", path);
		return -1;
	}
	if (cap > st->npk) {
		uint64_t *np = realloc(st->poff, st->npk * sizeof(*np));

		if (np)
			st->poff = np;
	}
	st->nchunks = f->nchunks - st->first_chunk;
	st->next_chunk = st->first_chunk;
	if (!st->has_inst)
		st->inst = f->nstreams - 1;
	return 0;
bad:
	free(offs);
	return -1;
}

static int cmp_sched(const void *a, const void *b, void *arg)
{
	const struct hvt_fast *f = arg;
	const struct chunk *x = &f->chunks[*(const uint32_t *)a];
	const struct chunk *y = &f->chunks[*(const uint32_t *)b];

	if (x->first_ns != y->first_ns)
		return x->first_ns < y->first_ns ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct hvt_fast *hvt_fast_open(const char *const *dirs, const char *const *name_prefix,
			       const void *const *bt_trace_classes, size_t ndirs,
			       unsigned int flags, unsigned int nthreads,
			       uint32_t (*lookup)(void *ctx, const char *name), void *ctx,
			       char *why, size_t whylen)
{
	struct hvt_fast *f = calloc(1, sizeof(*f));
	size_t t, i, s;

	if (!f) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	why[0] = '\0';
	f->flags = flags;
	/* HVT_READ_KVM adds kvm event classes, which make it step aside anyway */
	if (flags & ~(unsigned int)(HVT_READ_KEYS_ONLY | HVT_READ_NO_XMM | HVT_READ_KVM |
				    HVT_READ_WHO)) {
		snprintf(why, whylen, "reader options it does not implement (0x%x)", flags);
		goto fail;
	}
	f->traces = calloc(ndirs ? ndirs : 1, sizeof(*f->traces));
	if (!f->traces)
		goto oom;
	for (t = 0; t < ndirs; t++) {
		struct ftrace *tr = &f->traces[t];
		char **files = NULL;
		size_t nfiles = 0;
		struct dirent *de;
		DIR *d;
		int bad = 0;

		tr->m = ctf_meta_load(dirs[t], why, whylen);
		f->ntraces = t + 1;
		if (!tr->m)
			goto fail;
		if (setup_trace(f, tr, bt_trace_classes ? bt_trace_classes[t] : NULL, why, whylen))
			goto fail;
		d = opendir(dirs[t]);
		if (!d) {
			snprintf(why, whylen, "cannot list %s", dirs[t]);
			goto fail;
		}
		while ((de = readdir(d))) {
			char **nf;

			if (de->d_name[0] == '.' || !strcmp(de->d_name, "metadata") ||
			    !strcmp(de->d_name, "index"))
				continue;
			nf = realloc(files, (nfiles + 1) * sizeof(*nf));
			if (!nf || !(nf[nfiles] = strdup(de->d_name))) {
				free(nf ? nf : files);
				closedir(d);
				goto oom;
			}
			files = nf;
			nfiles++;
		}
		closedir(d);
		if (nfiles)
			qsort(files, nfiles, sizeof(*files), cmp_name);
		for (i = 0; i < nfiles; i++) {
			char p[PATH_MAX];
			struct stat sb;

			if (!bad && snprintf(p, sizeof(p), "%s/%s", dirs[t], files[i]) < (int)sizeof(p) &&
			    !stat(p, &sb) && S_ISREG(sb.st_mode) &&
			    add_stream_file(f, tr, dirs[t], name_prefix[t], files[i], lookup, ctx, why,
					    whylen)) {
				if (!why[0])
					snprintf(why, whylen, "out of memory");
				bad = 1;
			}
			free(files[i]);
		}
		free(files);
		if (bad)
			goto fail;
	}
	/* two files of one stream (rotated traces): libbabeltrace2 joins them */
	for (s = 0; s < f->nstreams; s++)
		for (i = 0; i < s; i++)
			if (f->streams[i].tr == f->streams[s].tr &&
			    f->streams[i].inst == f->streams[s].inst) {
				snprintf(why, whylen, "several files of one stream (rotated trace)");
				goto fail;
			}
	for (s = 0; s < f->nstreams; s++)
		f->streams[s].name = f->streams[s].path;
	if (f->nchunks > UINT32_MAX) {
		snprintf(why, whylen, "too many packets");
		goto fail;
	}
	if (f->cap_chunks > f->nchunks) {
		struct chunk *nc = realloc(f->chunks, (f->nchunks + 1) * sizeof(*nc));

		if (nc)
			f->chunks = nc;
	}
	f->sched = calloc(f->nchunks + 1, sizeof(*f->sched));
	if (!f->sched)
		goto oom;
	for (i = 0; i < f->nchunks; i++)
		f->sched[i] = (uint32_t)i;
	qsort_r(f->sched, f->nchunks, sizeof(*f->sched), cmp_sched, f);
	if (!nthreads)
		nthreads = 1;
	/*
	 * Chunks decoded ahead: one per thread and one per stream (each
	 * stream has one being read); the work areas are reused, so memory
	 * does not depend on the trace's length.
	 */
	f->window = nthreads + f->nstreams + 1;
	f->pool_max = f->window + f->nstreams + 1;
	f->pool = calloc(f->pool_max, sizeof(*f->pool));
	if (!f->pool)
		goto oom;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	/* the workers start with the first record asked for */
	if (nthreads > 1 && f->nchunks > 1)
		f->want_threads = nthreads - 1;
	return f;
oom:
	snprintf(why, whylen, "out of memory");
fail:
	hvt_fast_close(f);
	return NULL;
}

int hvt_fast_probe(const char *dir, const char *probe_dir, char *why, size_t whylen)
{
	struct hvt_fast *f = calloc(1, sizeof(*f));
	char from[PATH_MAX], to[PATH_MAX];
	struct dirent *de;
	uint8_t *buf = NULL;
	int ret = -1;
	DIR *d = NULL;

	if (!f) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	f->traces = calloc(1, sizeof(*f->traces));
	if (!f->traces)
		goto out;
	f->traces[0].m = ctf_meta_load(dir, why, whylen);
	f->ntraces = 1;
	if (!f->traces[0].m || setup_trace(f, &f->traces[0], NULL, why, whylen))
		goto out;
	if (snprintf(from, sizeof(from), "%s/metadata", dir) >= (int)sizeof(from) ||
	    snprintf(to, sizeof(to), "%s/metadata", probe_dir) >= (int)sizeof(to)) {
		snprintf(why, whylen, "path too long");
		goto out;
	}
	{
		char *abs = realpath(from, NULL);

		if (!abs || symlink(abs, to)) {
			free(abs);
			snprintf(why, whylen, "cannot link %s", from);
			goto out;
		}
		free(abs);
	}
	d = opendir(dir);
	if (!d) {
		snprintf(why, whylen, "cannot list %s", dir);
		goto out;
	}
	while ((de = readdir(d))) {
		struct fsclass *sc = NULL;
		uint64_t inst = 0;
		int has_inst = 0, fd, out_fd;
		struct pinfo pk;
		struct stat sb;
		ssize_t n;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "metadata") ||
		    !strcmp(de->d_name, "index"))
			continue;
		if (snprintf(from, sizeof(from), "%s/%s", dir, de->d_name) >= (int)sizeof(from) ||
		    snprintf(to, sizeof(to), "%s/%s", probe_dir, de->d_name) >= (int)sizeof(to))
			goto out;
		if (stat(from, &sb) || !S_ISREG(sb.st_mode) || !sb.st_size)
			continue;
		fd = open(from, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(why, whylen, "cannot open %s", from);
			goto out;
		}
		memset(&pk, 0, sizeof(pk));
		if (scan_packet(&f->traces[0], fd, (uint64_t)sb.st_size, &pk, &sc, &inst, &has_inst,
				why, whylen)) {
			close(fd);
			goto out;
		}
		free(buf);
		buf = malloc((size_t)pk.size);
		n = buf ? pread(fd, buf, (size_t)pk.size, 0) : -1;
		close(fd);
		if (n != (ssize_t)pk.size) {
			snprintf(why, whylen, "cannot read %s", from);
			goto out;
		}
		out_fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (out_fd < 0 || write(out_fd, buf, (size_t)pk.size) != n) {
			if (out_fd >= 0)
				close(out_fd);
			snprintf(why, whylen, "cannot write %s", to);
			goto out;
		}
		close(out_fd);
	}
	ret = 0;
out:
	if (d)
		closedir(d);
	free(buf);
	hvt_fast_close(f);
	return ret;
}

void hvt_fast_close(struct hvt_fast *f)
{
	size_t i;

	if (!f)
		return;
	if (f->nthreads) {
		pthread_mutex_lock(&f->lock);
		f->stop = 1;
		pthread_cond_broadcast(&f->cond);
		pthread_mutex_unlock(&f->lock);
		for (i = 0; i < f->nthreads; i++)
			pthread_join(f->threads[i], NULL);
	}
	free(f->threads);
	if (f->pool) {
		pthread_mutex_destroy(&f->lock);
		pthread_cond_destroy(&f->cond);
	}
	for (i = 0; i < f->nchunks; i++)
		if (f->chunks[i].w) {
			free_segs(f->chunks[i].w);
			free(f->chunks[i].w->err);
			free(f->chunks[i].w);
		}
	free(f->chunks);
	for (i = 0; i < f->npool; i++) {
		free_segs(f->pool[i]);
		free(f->pool[i]->err);
		free(f->pool[i]);
	}
	free(f->pool);
	free(f->sched);
	for (i = 0; i < f->nstreams; i++) {
		if (f->streams[i].fd >= 0)
			close(f->streams[i].fd);
		free(f->streams[i].path);
		free(f->streams[i].poff);
	}
	free(f->streams);
	for (i = 0; i < f->ntraces; i++) {
		ctf_meta_free(f->traces[i].m);
		free(f->traces[i].sc);
	}
	free(f->traces);
	for (i = 0; i < f->nallocs; i++)
		free(f->allocs[i]);
	free(f->allocs);
	free(f->mainbuf.buf);
	free(f);
}
