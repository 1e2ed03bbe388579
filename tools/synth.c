// SPDX-License-Identifier: GPL-2.0
/*
 * hvtrace-synth: write a synthetic hvtrace CTF trace through libbabeltrace2.
 *
 * An in-process source component class produces one stream per vCPU (like
 * LTTng's per-CPU stream files) carrying hvtrace_session, hvtrace_exit and
 * hvtrace_resume events whose payload field classes are generated from the
 * X-macro lists of schemas/hvtrace_events.h; sink.ctf.fs writes them.  The
 * content is a deterministic function of the seed: a seeded mix of exit
 * reasons at fixed guest sites, plausible GPR/XMM/MXCSR evolution, handler
 * effects with real changed masks and latencies from a known distribution.
 *
 * Edits produce the known divergences the analyzer's tests look for: drop,
 * insert or alter exits, lose exits as the tracer would (a seq gap and a
 * discarded-events record), lose whole packets (a packet_seq_num gap and a
 * discarded-packets record), break the exit/resume chain, write another
 * schema version or no session records, declare a field wider than the
 * schema's type, write the field layout of an older schema version or leave
 * fields out.  Memory use does not depend on the number of exits.
 */
#define _GNU_SOURCE
#include <babeltrace2/babeltrace.h>
#include <ctype.h>
#include <errno.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hvtrace_events.h"
#include "exit_reasons.h"
#include "../kmod/hypercall.h"

#define SYNTH_ERR 2
#define MAX_VCPUS 64
#define MAX_EDITS 8192
#define PACKET_EVENTS 2048	/* events per packet before it is closed */
#define TSC_PER_NS 3		/* the synthetic CPU runs at 3 GHz */
#define NSITES 6		/* guest code sites per synchronous reason */

/* ---------------------------------------------------------------- rng */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ull);

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}

static uint64_t mix64(uint64_t a, uint64_t b)
{
	uint64_t x = a ^ rotl(b, 29);

	return splitmix64(&x);
}

/* ------------------------------------------------------ reason kinds */

/*
 * The exit reasons this writer can synthesize.  base is the handler's
 * latency floor in TSC ticks: latency = base + uniform[0, base / 2).
 */
struct kind {
	unsigned int reason;
	const char *alias;
	bool async;
	unsigned int base;
	bool fault;	/* refused: #GP delivered at the guest's fixup */
};

static const struct kind kinds[] = {
	{ HVTRACE_EXIT_CPUID, "cpuid", false, 1100, false },
	{ HVTRACE_EXIT_RDMSR, "rdmsr", false, 900, false },
	{ HVTRACE_EXIT_WRMSR, "wrmsr", false, 1000, false },
	{ HVTRACE_EXIT_IO_INSTRUCTION, "io", false, 2400, false },
	{ HVTRACE_EXIT_VMCALL, "vmcall", false, 1500, false },
	{ HVTRACE_EXIT_HLT, "hlt", false, 4000, false },
	{ HVTRACE_EXIT_RDTSC, "rdtsc", false, 700, false },
	{ HVTRACE_EXIT_RDTSCP, "rdtscp", false, 760, false },
	{ HVTRACE_EXIT_CR_ACCESS, "cr", false, 1300, false },
	{ HVTRACE_EXIT_XSETBV, "xsetbv", false, 1200, false },
	{ HVTRACE_EXIT_INVD, "invd", false, 800, false },
	{ HVTRACE_EXIT_EXCEPTION_NMI, "exception", false, 2000, false },
	{ HVTRACE_EXIT_EXTERNAL_INTERRUPT, "extint", true, 3000, false },
	{ HVTRACE_EXIT_PREEMPTION_TIMER, "preempt", true, 600, false },
	/* WRMSR to an MSR the hypervisor refuses (kmod/workload.h: resumed
	 * at the fixup one NOP past the instruction, RAX = 13) */
	{ HVTRACE_EXIT_WRMSR, "wrmsr-gp", false, 1600, true },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static const char *reason_name(unsigned int code)
{
	switch (code) {
#define X(c, name, q) case c: return #name;
	HVTRACE_EXIT_REASONS(X)
#undef X
	}
	return NULL;
}

static const char default_mix[] =
	"cpuid=30,rdmsr=12,wrmsr=6,io=18,vmcall=8,hlt=3,rdtsc=6,rdtscp=2,"
	"cr=5,xsetbv=1,invd=1,exception=3,extint=4,preempt=1";

/* --------------------------------------------------------- options */

enum brk_kind {
	BRK_GAP,		/* seq jumps by one more, no discarded record */
	BRK_NO_RESUME,		/* the exit's resume is not written */
	BRK_DUP_RESUME,		/* the resume is written twice */
	BRK_RESUME_SEQ,		/* the resume names another seq */
	BRK_VALUES_LEN,		/* one value more than bits in changed */
	BRK_RIP,		/* a skipping exit resumes at its own RIP */
	BRK_RSP,		/* gpr[4] disagrees with rsp */
	BRK_VALUES_LONG,	/* values holds more elements than the schema's max */
	BRK_NKINDS
};

static const char *const brk_names[BRK_NKINDS] = {
	"gap", "no-resume", "dup-resume", "resume-seq", "values-len", "rip",
	"rsp", "values-long",
};

struct edit {
	uint64_t seq;		/* in the unedited numbering */
	uint64_t n;		/* insert/discard count, break kind */
	int field;		/* alter: index into fields[] */
	int elem;		/* alter: array element */
	uint64_t val;
	char text[HVTRACE_COMM_LEN];	/* alter of a text field */
	bool done;
};

struct edits {
	struct edit e[MAX_EDITS];
	int n;
};

struct opts {
	const char *out;
	uint64_t exits;
	unsigned int vcpus;
	uint64_t seed;
	uint64_t async_seed;
	bool async_seed_set;
	unsigned int weight[NKINDS];
	unsigned int edit_vcpu;
	struct edits drop, insert, alter, discard, brk, dpk;
	bool dpk_end;		/* the packet holding the session END is lost */
	bool no_session;	/* no hvtrace_session records at all */
	const char *wide;	/* a field declared 64-bit in the metadata */
	uint64_t wide_seq, wide_val;
	uint32_t schema_version;
	unsigned int layout;	/* fields of schema v1, v2 or v3 (0: the version's) */
	const char *omit[8];	/* exit fields left out of the metadata */
	int nomit;
	uint32_t pid, tid, cpl;	/* who caused the exits (schema v3) */
	bool tid_set;
	char comm[HVTRACE_COMM_LEN];
	bool expect_hist;
	bool quiet;
	bool serial;		/* vCPUs run one after the other */
	uint64_t code_base;	/* guest code address (a module's load address) */
};

/* Alterable fields, generated from the schema lists. */
enum rec_kind { REC_EXIT, REC_RESUME };

struct field_desc {
	const char *name;
	enum rec_kind rec;
	size_t off, size;
	unsigned int count;	/* 1 for scalars */
	bool txt;		/* NUL-padded text of count bytes */
};

#define FD_INT(rec, st, type, name) \
	{ #name, rec, offsetof(struct st, name), sizeof(type), 1, false },
#define FD_ARR(rec, st, type, name, cnt) \
	{ #name, rec, offsetof(struct st, name), sizeof(type), cnt, false },
#define FD_TXT(rec, st, name, cnt) \
	{ #name, rec, offsetof(struct st, name), 1, cnt, true },
#define FD_SEQ(rec, st, type, name, ltype, max) \
	{ "_" #name "_length", rec, offsetof(struct st, name##_len), sizeof(ltype), 1, false }, \
	{ #name, rec, offsetof(struct st, name), sizeof(type), max, false },
#define E_INT(t, n) FD_INT(REC_EXIT, hvtrace_exit_rec, t, n)
#define E_ARR(t, n, c) FD_ARR(REC_EXIT, hvtrace_exit_rec, t, n, c)
#define E_TXT(n, c) FD_TXT(REC_EXIT, hvtrace_exit_rec, n, c)
#define E_SEQ(t, n, l, m) FD_SEQ(REC_EXIT, hvtrace_exit_rec, t, n, l, m)
#define R_INT(t, n) FD_INT(REC_RESUME, hvtrace_resume_rec, t, n)
#define R_ARR(t, n, c) FD_ARR(REC_RESUME, hvtrace_resume_rec, t, n, c)
#define R_TXT(n, c) FD_TXT(REC_RESUME, hvtrace_resume_rec, n, c)
#define R_SEQ(t, n, l, m) FD_SEQ(REC_RESUME, hvtrace_resume_rec, t, n, l, m)

static const struct field_desc fields[] = {
	HVTRACE_EXIT_FIELDS(E_INT, E_INT, E_ARR, E_TXT, E_SEQ)
	HVTRACE_RESUME_FIELDS(R_INT, R_INT, R_ARR, R_TXT, R_SEQ)
};
#define NFIELDS ((int)(sizeof(fields) / sizeof(fields[0])))

static const char *const gpr_names[16] = {
#define G(i, n) [i] = #n,
	HVTRACE_GPRS(G)
#undef G
};

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("hvtrace-synth: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(SYNTH_ERR);
}

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		die("%s: expected a number, got '%s'", what, s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		die("%s: expected a number, got '%s'", what, s);
	return v;
}

static uint32_t parse_u32(const char *s, const char *what)
{
	uint64_t v = parse_u64(s, what);

	if (v > UINT32_MAX)
		die("%s: '%s' does not fit in 32 bits", what, s);
	return (uint32_t)v;
}

static void add_edit(struct edits *ed, struct edit e, const char *opt)
{
	if (ed->n == MAX_EDITS)
		die("%s: at most %d edits", opt, MAX_EDITS);
	if (e.seq == 0)
		die("%s: seq numbers start at 1", opt);
	ed->e[ed->n++] = e;
}

static int edit_cmp(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

static void parse_mix(struct opts *o, const char *spec)
{
	char *dup = strdup(spec), *save = NULL, *tok;
	unsigned long long total = 0;

	if (!dup)
		die("out of memory");
	memset(o->weight, 0, sizeof(o->weight));
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		size_t k;

		if (!eq)
			die("--mix: '%s' is not NAME=WEIGHT", tok);
		*eq = '\0';
		for (k = 0; k < NKINDS; k++)
			if (!strcasecmp(tok, kinds[k].alias) ||
			    !strcasecmp(tok, reason_name(kinds[k].reason)))
				break;
		if (k == NKINDS)
			die("--mix: cannot synthesize exit reason '%s' (known: cpuid rdmsr wrmsr io vmcall hlt rdtsc rdtscp cr xsetbv invd exception extint preempt wrmsr-gp)",
			    tok);
		o->weight[k] = (unsigned int)parse_u64(eq + 1, "--mix weight");
		if (o->weight[k] > 1000000)
			die("--mix: weight of %s above 1000000", tok);
		total += o->weight[k];
	}
	free(dup);
	if (!total)
		die("--mix: all weights are zero");
}

static void parse_list(struct edits *ed, const char *list, const char *opt)
{
	char *dup = strdup(list), *save = NULL, *tok;

	if (!dup)
		die("out of memory");
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct edit e = { .seq = parse_u64(tok, opt) };

		add_edit(ed, e, opt);
	}
	free(dup);
}

static int find_field(const char *name, enum rec_kind rec, int *elem)
{
	char buf[64];
	const char *br = strchr(name, '[');
	size_t len = br ? (size_t)(br - name) : strlen(name);

	*elem = 0;
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, name, len);
	buf[len] = '\0';
	if (br) {
		char *end;
		long v = strtol(br + 1, &end, 10);

		if (end == br + 1 || *end != ']' || end[1] || v < 0)
			return -1;
		*elem = (int)v;
	}
	if (rec == REC_EXIT && !br) {
		for (int i = 0; i < 16; i++)
			if (!strcmp(buf, gpr_names[i]) && i != 4) {
				*elem = i;
				return find_field("gpr", REC_EXIT, &(int){ 0 });
			}
	}
	for (int i = 0; i < NFIELDS; i++)
		if (fields[i].rec == rec && !strcmp(fields[i].name, buf)) {
			if ((unsigned int)*elem >= fields[i].count)
				return -1;
			return i;
		}
	return -1;
}

static void parse_alter(struct opts *o, const char *arg)
{
	const char *colon = strchr(arg, ':'), *eq = strrchr(arg, '=');
	struct edit e = { 0 };
	enum rec_kind rec = REC_EXIT;
	char name[64], seqbuf[32];
	const char *fname;

	if (!colon || !eq || eq < colon || (size_t)(colon - arg) >= sizeof(seqbuf) ||
	    (size_t)(eq - colon) >= sizeof(name))
		die("--alter: '%s' is not SEQ:FIELD=VALUE", arg);
	memcpy(seqbuf, arg, (size_t)(colon - arg));
	seqbuf[colon - arg] = '\0';
	memcpy(name, colon + 1, (size_t)(eq - colon - 1));
	name[eq - colon - 1] = '\0';
	e.seq = parse_u64(seqbuf, "--alter seq");
	fname = name;
	if (!strncmp(fname, "resume.", 7)) {
		rec = REC_RESUME;
		fname += 7;
	} else if (!strncmp(fname, "exit.", 5)) {
		fname += 5;
	}
	e.field = find_field(fname, rec, &e.elem);
	if (e.field < 0)
		die("--alter: unknown field '%s' (exit fields by name, gpr[i], xmm[i], a GPR name, or resume.FIELD)",
		    name);
	if (fields[e.field].txt) {
		if (strlen(eq + 1) >= sizeof(e.text))
			die("--alter: '%s': at most %zu characters", name, sizeof(e.text) - 1);
		strncpy(e.text, eq + 1, sizeof(e.text));
	} else {
		e.val = parse_u64(eq + 1, "--alter value");
	}
	add_edit(&o->alter, e, "--alter");
}

static void usage(FILE *f)
{
	fputs("usage: hvtrace-synth --out DIR [--exits N] [--vcpus N] [--seed S]\n"
	      "         [--async-seed S] [--mix NAME=W,...] [--edit-vcpu N]\n"
	      "         [--drop-seq LIST] [--insert-at SEQ:N] [--alter SEQ:FIELD=VAL]\n"
	      "         [--discarded N@SEQ] [--discarded-packet N@SEQ|end]\n"
	      "         [--break KIND@SEQ] [--schema-version V] [--no-session]\n"
	      "         [--wide FIELD=VAL@SEQ] [--serial-vcpus] [--code-base ADDR]\n"
	      "         [--layout V] [--omit FIELD] [--pid P] [--tid T] [--comm NAME]\n"
	      "         [--cpl C]\n"
	      "         [--expect-hist] [--quiet]\n"
	      "Writes a deterministic synthetic hvtrace CTF trace into DIR (new or empty).\n"
	      "  --exits N          exits in the unedited trace, all vCPUs (default 1000)\n"
	      "  --vcpus N          vCPUs, one stream each (default 1, at most 64)\n"
	      "  --seed S           content seed (default 1)\n"
	      "  --async-seed S     where asynchronous exits fall (default: the seed)\n"
	      "  --mix SPEC         reason weights (default " "cpuid=30,rdmsr=12,...)\n"
	      "  --edit-vcpu N      vCPU the edits below apply to (default 0)\n"
	      "  --drop-seq LIST    leave these exits out (the run never had them)\n"
	      "  --insert-at SEQ:N  N extra exits before exit SEQ\n"
	      "  --poll-at SEQ:N    N extra exits of a polling loop (IN 0x3fd, RDTSC,\n"
	      "                     again) before exit SEQ\n"
	      "  --alter SEQ:F=V    write V into field F of exit SEQ (resume.F: its resume;\n"
	      "                     comm=NAME: a name)\n"
	      "  --discarded N@SEQ  the tracer loses exits SEQ..SEQ+N-1 (gap + record)\n"
	      "  --discarded-packet N@SEQ  exits SEQ..SEQ+N-1 are in a packet the tracer\n"
	      "                     loses whole (gap + packet_seq_num gap); 'end': the\n"
	      "                     packet holding the session END record only\n"
	      "  --break KIND@SEQ   break the chain: gap no-resume dup-resume resume-seq\n"
	      "                     values-len rip rsp values-long\n"
	      "  --schema-version V schema version written in the session events; the\n"
	      "                     events have that version's fields (v1, v2, v3)\n"
	      "  --layout V         write the fields of schema V (1, 2 or 3) whatever\n"
	      "                     version the session events say\n"
	      "  --omit FIELD       leave exit field FIELD out of the trace (repeatable)\n"
	      "  --pid P            process id of the exits' thread (default 4000)\n"
	      "  --tid T            its thread id (default: P + the vCPU number)\n"
	      "  --comm NAME        its name (default hvt-synth)\n"
	      "  --cpl C            the guest's privilege level at the exits (default 0)\n"
	      "  --no-session       write no hvtrace_session records\n"
	      "  --wide F=V@SEQ     declare exit/resume field F as a 64-bit integer and\n"
	      "                     write V into it at exit SEQ (and its resume)\n"
	      "  --serial-vcpus     vCPUs run one after the other, not interleaved\n"
	      "  --code-base ADDR   guest code address (default 0xffffffffc0400000):\n"
	      "                     the same run with its code loaded elsewhere\n"
	      "  --expect-hist      print the exit-reason histogram (CSV) on stdout\n"
	      "SEQ numbers are those of the unedited trace.\n", f);
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->exits = 1000;
	o->vcpus = 1;
	o->seed = 1;
	o->schema_version = HVTRACE_SCHEMA_VERSION;
	o->pid = 4000;
	strcpy(o->comm, "hvt-synth");
	parse_mix(o, default_mix);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

#define NEEDV() do { if (!v) die("%s needs a value", a); i++; } while (0)
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--out")) {
			NEEDV();
			o->out = v;
		} else if (!strcmp(a, "--exits")) {
			NEEDV();
			o->exits = parse_u64(v, a);
		} else if (!strcmp(a, "--vcpus")) {
			NEEDV();
			o->vcpus = (unsigned int)parse_u64(v, a);
			if (o->vcpus < 1 || o->vcpus > MAX_VCPUS)
				die("--vcpus: between 1 and %d", MAX_VCPUS);
		} else if (!strcmp(a, "--seed")) {
			NEEDV();
			o->seed = parse_u64(v, a);
		} else if (!strcmp(a, "--async-seed")) {
			NEEDV();
			o->async_seed = parse_u64(v, a);
			o->async_seed_set = true;
		} else if (!strcmp(a, "--mix")) {
			NEEDV();
			parse_mix(o, v);
		} else if (!strcmp(a, "--edit-vcpu")) {
			NEEDV();
			o->edit_vcpu = (unsigned int)parse_u64(v, a);
		} else if (!strcmp(a, "--drop-seq")) {
			NEEDV();
			parse_list(&o->drop, v, a);
		} else if (!strcmp(a, "--insert-at") || !strcmp(a, "--poll-at")) {
			const char *c;
			char buf[32];
			struct edit e = { 0 };

			NEEDV();
			c = strchr(v, ':');
			if (!c || (size_t)(c - v) >= sizeof(buf))
				die("--insert-at: '%s' is not SEQ:N", v);
			memcpy(buf, v, (size_t)(c - v));
			buf[c - v] = '\0';
			e.seq = parse_u64(buf, a);
			e.n = parse_u64(c + 1, a);
			if (!e.n || e.n > 1000000)
				die("%s: N between 1 and 1000000", a);
			e.field = !strcmp(a, "--poll-at");	/* a polling loop */
			add_edit(&o->insert, e, a);
		} else if (!strcmp(a, "--alter")) {
			NEEDV();
			parse_alter(o, v);
		} else if (!strcmp(a, "--discarded")) {
			const char *at;
			char buf[32];
			struct edit e = { 0 };

			NEEDV();
			at = strchr(v, '@');
			if (!at || (size_t)(at - v) >= sizeof(buf))
				die("--discarded: '%s' is not N@SEQ", v);
			memcpy(buf, v, (size_t)(at - v));
			buf[at - v] = '\0';
			e.n = parse_u64(buf, a);
			e.seq = parse_u64(at + 1, a);
			if (!e.n)
				die("--discarded: N must be at least 1");
			add_edit(&o->discard, e, a);
		} else if (!strcmp(a, "--break")) {
			const char *at;
			struct edit e = { 0 };
			size_t k;

			NEEDV();
			at = strchr(v, '@');
			if (!at)
				die("--break: '%s' is not KIND@SEQ", v);
			for (k = 0; k < BRK_NKINDS; k++)
				if (strlen(brk_names[k]) == (size_t)(at - v) &&
				    !strncmp(v, brk_names[k], (size_t)(at - v)))
					break;
			if (k == BRK_NKINDS)
				die("--break: unknown kind in '%s' (gap no-resume dup-resume resume-seq values-len rip rsp values-long)", v);
			e.n = k;
			e.seq = parse_u64(at + 1, a);
			add_edit(&o->brk, e, a);
		} else if (!strcmp(a, "--discarded-packet")) {
			const char *at;
			char buf[32];
			struct edit e = { 0 };

			NEEDV();
			if (!strcmp(v, "end")) {
				o->dpk_end = true;
				continue;
			}
			at = strchr(v, '@');
			if (!at || (size_t)(at - v) >= sizeof(buf))
				die("--discarded-packet: '%s' is not N@SEQ or end", v);
			memcpy(buf, v, (size_t)(at - v));
			buf[at - v] = '\0';
			e.n = parse_u64(buf, a);
			e.seq = parse_u64(at + 1, a);
			if (!e.n)
				die("--discarded-packet: N must be at least 1");
			add_edit(&o->dpk, e, a);
		} else if (!strcmp(a, "--no-session")) {
			o->no_session = true;
		} else if (!strcmp(a, "--wide")) {
			const char *eq, *at;
			char *f;

			NEEDV();
			eq = strchr(v, '=');
			at = eq ? strchr(eq, '@') : NULL;
			if (!eq || !at || eq == v)
				die("--wide: '%s' is not FIELD=VALUE@SEQ", v);
			f = strndup(v, (size_t)(eq - v));
			if (!f)
				die("out of memory");
			if (strcmp(f, "vcpu") && strcmp(f, "insn_len") && strcmp(f, "action") &&
			    strcmp(f, "mxcsr"))
				die("--wide: FIELD is one of vcpu insn_len action mxcsr");
			o->wide = f;
			{
				char num[32];

				if ((size_t)(at - eq - 1) >= sizeof(num))
					die("--wide: '%s' is not FIELD=VALUE@SEQ", v);
				memcpy(num, eq + 1, (size_t)(at - eq - 1));
				num[at - eq - 1] = '\0';
				o->wide_val = parse_u64(num, a);
			}
			o->wide_seq = parse_u64(at + 1, a);
		} else if (!strcmp(a, "--schema-version")) {
			NEEDV();
			o->schema_version = (uint32_t)parse_u64(v, a);
		} else if (!strcmp(a, "--layout")) {
			NEEDV();
			o->layout = (unsigned int)parse_u64(v, a);
			if (o->layout < 1 || o->layout > HVTRACE_SCHEMA_VERSION)
				die("--layout: 1 to %d", HVTRACE_SCHEMA_VERSION);
		} else if (!strcmp(a, "--omit")) {
			NEEDV();
			if (find_field(v, REC_EXIT, &(int){ 0 }) < 0 || strchr(v, '['))
				die("--omit: '%s' is not an exit field", v);
			if (o->nomit == (int)(sizeof(o->omit) / sizeof(o->omit[0])))
				die("--omit: at most %zu fields",
				    sizeof(o->omit) / sizeof(o->omit[0]));
			o->omit[o->nomit++] = v;
		} else if (!strcmp(a, "--pid")) {
			NEEDV();
			o->pid = (uint32_t)parse_u32(v, a);
		} else if (!strcmp(a, "--tid")) {
			NEEDV();
			o->tid = (uint32_t)parse_u32(v, a);
			o->tid_set = true;
		} else if (!strcmp(a, "--cpl")) {
			NEEDV();
			o->cpl = (uint32_t)parse_u64(v, a);
			if (o->cpl > 3)
				die("--cpl: 0 to 3");
		} else if (!strcmp(a, "--comm")) {
			NEEDV();
			if (strlen(v) >= sizeof(o->comm))
				die("--comm: at most %zu characters", sizeof(o->comm) - 1);
			strncpy(o->comm, v, sizeof(o->comm));
		} else if (!strcmp(a, "--expect-hist")) {
			o->expect_hist = true;
		} else if (!strcmp(a, "--code-base")) {
			NEEDV();
			o->code_base = parse_u64(v, a);
			if (o->code_base & 0xfff)
				die("--code-base: a page-aligned address");
		} else if (!strcmp(a, "--serial-vcpus")) {
			o->serial = true;
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			o->quiet = true;
		} else {
			die("unknown option '%s' (try --help)", a);
		}
#undef NEEDV
	}
	if (!o->out)
		die("--out DIR is required");
	if (o->exits < o->vcpus)
		die("--exits: at least one exit per vCPU (%u)", o->vcpus);
	if (o->edit_vcpu >= o->vcpus)
		die("--edit-vcpu %u: only %u vCPUs", o->edit_vcpu, o->vcpus);
	if (!o->async_seed_set)
		o->async_seed = o->seed;
	qsort(o->drop.e, (size_t)o->drop.n, sizeof(struct edit), edit_cmp);
	qsort(o->insert.e, (size_t)o->insert.n, sizeof(struct edit), edit_cmp);
	qsort(o->alter.e, (size_t)o->alter.n, sizeof(struct edit), edit_cmp);
	qsort(o->discard.e, (size_t)o->discard.n, sizeof(struct edit), edit_cmp);
	qsort(o->dpk.e, (size_t)o->dpk.n, sizeof(struct edit), edit_cmp);
	qsort(o->brk.e, (size_t)o->brk.n, sizeof(struct edit), edit_cmp);
}

/* ---------------------------------------------------- guest model */

struct site {
	uint64_t rip;
	uint64_t p1, p2;	/* reason-specific parameters */
	uint32_t insn_len;
};

static struct site sites[NKINDS][NSITES];

static const uint32_t cpuid_leaves[] = {
	0x0, 0x1, 0x4, 0x6, 0x7, 0xb, 0xd, 0x80000000, 0x80000001,
	0x80000007, 0x80000008, 0x40000000, 0x40000001,
};
static const uint32_t rdmsr_idx[] = {
	0x10, 0x1b, 0x3a, 0x174, 0x175, 0x176, 0x1a0, 0x277, 0xc0000080,
	0xc0000081, 0xc0000082, 0xc0000100, 0xc0000101, 0xc0000102,
};
static const uint32_t wrmsr_idx[] = {
	0x174, 0x1d9, 0x277, 0x6e0, 0xc0000100, 0xc0000101, 0xc0000102,
};
static const uint16_t io_ports[] = {
	0x3f8, 0x3f9, 0x3fd, 0x60, 0x64, 0x70, 0x71, 0x80, 0xcf8, 0xcfc,
	0x1f7, 0x40, 0x43,
};
static const uint64_t hypercalls[] = {
	HVT_HC_MARKER, HVT_HC_LOG, HVT_HC_MARKER, 0x48560042,
};
/* (cr, access type, gpr): mov to cr0/cr3/cr4, mov from cr3, clts */
static const uint8_t cr_forms[][3] = {
	{ 0, 0, 0 }, { 3, 0, 0 }, { 4, 0, 1 }, { 3, 1, 3 }, { 0, 2, 0 },
	{ 3, 1, 6 },
};
/* (vector, type, has error code, insn_len) */
static const uint8_t exc_forms[][4] = {
	{ 6, 3, 0, 0 }, { 3, 6, 0, 1 }, { 13, 3, 1, 0 }, { 14, 3, 1, 0 },
};

#define ARRN(a) (sizeof(a) / sizeof((a)[0]))
#define GUEST_CODE_DEFAULT 0xffffffffc0400000ull
static uint64_t guest_code = GUEST_CODE_DEFAULT;
#define GUEST_STACK 0xffffc90000a08000ull

static void build_sites(uint64_t seed)
{
	struct rng r;

	rng_seed(&r, seed, 0x5173);
	for (size_t k = 0; k < NKINDS; k++) {
		for (int i = 0; i < NSITES; i++) {
			struct site *s = &sites[k][i];

			s->rip = guest_code + k * 0x1000 + (uint64_t)i * 0xa0 +
				 rng_below(&r, 0x60);
			switch (kinds[k].reason) {
			case HVTRACE_EXIT_CPUID:
				s->p1 = cpuid_leaves[rng_below(&r, ARRN(cpuid_leaves))];
				s->p2 = (s->p1 == 4 || s->p1 == 7 || s->p1 == 0xb ||
					 s->p1 == 0xd) ? rng_below(&r, 3) : 0;
				s->insn_len = 2;
				break;
			case HVTRACE_EXIT_RDMSR:
				s->p1 = rdmsr_idx[rng_below(&r, ARRN(rdmsr_idx))];
				s->insn_len = 2;
				break;
			case HVTRACE_EXIT_WRMSR:
				s->p1 = kinds[k].fault ? 0x40000140 + rng_below(&r, 0x40) :
					wrmsr_idx[rng_below(&r, ARRN(wrmsr_idx))];
				s->insn_len = 2;
				break;
			case HVTRACE_EXIT_IO_INSTRUCTION: {
				static const uint8_t sizes[] = { 1, 1, 2, 4 };
				uint16_t port = io_ports[rng_below(&r, ARRN(io_ports))];
				bool imm = port < 0x100 && rng_below(&r, 2);

				s->p1 = port;
				/* bits 2:0 size-1, bit 3 IN, bit 6 immediate */
				s->p2 = (uint64_t)(sizes[rng_below(&r, 4)] - 1) |
					(rng_below(&r, 2) << 3) | ((uint64_t)imm << 6);
				s->insn_len = imm ? 2 : 1;
				break;
			}
			case HVTRACE_EXIT_VMCALL:
				s->p1 = hypercalls[rng_below(&r, ARRN(hypercalls))];
				s->insn_len = 3;
				break;
			case HVTRACE_EXIT_HLT:
				s->insn_len = 1;
				break;
			case HVTRACE_EXIT_RDTSC:
			case HVTRACE_EXIT_INVD:
				s->insn_len = 2;
				break;
			case HVTRACE_EXIT_RDTSCP:
			case HVTRACE_EXIT_XSETBV:
				s->insn_len = 3;
				break;
			case HVTRACE_EXIT_CR_ACCESS:
				s->p1 = rng_below(&r, ARRN(cr_forms));
				s->insn_len = cr_forms[s->p1][1] == 2 ? 2 : 3;
				break;
			case HVTRACE_EXIT_EXCEPTION_NMI:
				s->p1 = rng_below(&r, ARRN(exc_forms));
				s->insn_len = exc_forms[s->p1][3];
				break;
			default:
				break;
			}
		}
	}
}

/* The architectural state a vCPU's guest carries from exit to exit. */
struct gstate {
	uint64_t gpr[16];
	uint64_t rip, rflags, cr0, cr3, cr4;
	uint64_t xmm[32];
	uint32_t mxcsr;
	uint64_t vtsc;		/* guest-visible TSC: content, not timing */
};

static uint64_t cpuid_value(uint32_t leaf, uint32_t sub, int reg)
{
	if (leaf == 0) {
		static const uint32_t v[4] = { 0x16, 0x756e6547, 0x6c65746e, 0x49656e69 };

		return v[reg];	/* eax ebx ecx edx: "GenuineIntel" */
	}
	if (leaf == 0x40000000) {
		static const uint32_t v[4] = { 0x40000001, 0x72547648, 0x20656361, 0x00000000 };

		return v[reg];	/* "HvTrace " */
	}
	return mix64(((uint64_t)leaf << 8) | sub, (uint64_t)reg + 11) & 0xffffffffull;
}

static uint64_t msr_value(uint32_t idx, const struct gstate *g, unsigned int vcpu)
{
	switch (idx) {
	case 0x10:
		return g->vtsc;
	case 0x1b:
		return 0xfee00900ull | (vcpu ? 0 : 0x100);
	case 0x3a:
		return 0x5;
	case 0x277:
		return 0x0007040600070406ull;
	case 0xc0000080:
		return 0xd01;
	case 0xc0000100:
		return 0x7f3a1c9e4740ull;
	case 0xc0000101:
		return 0xffff888007a00000ull + ((uint64_t)vcpu << 20);
	default:
		return mix64(idx, 0x3d) & 0xffffffffffffull;
	}
}

static uint64_t io_in_value(uint16_t port)
{
	switch (port) {
	case 0x3fd:
		return 0x60;
	case 0x64:
		return 0x1c;
	case 0xcfc:
		return 0x12378086;
	case 0x71:
		return 0x26;
	default:
		return mix64(port, 0x10) & 0xffffffff;
	}
}

/* The guest runs between two exits: a few registers change. */
static void guest_progress(struct gstate *g, struct rng *r)
{
	unsigned int k = (unsigned int)rng_below(r, 4);

	for (unsigned int i = 0; i < k; i++) {
		unsigned int reg = (unsigned int)rng_below(r, 16);
		uint64_t v = rng_next(r);

		if (reg == 4)
			continue;
		switch (v & 3) {
		case 0:
			g->gpr[reg] = (v >> 8) & 0xffff;
			break;
		case 1:
			g->gpr[reg] = 0xffff888000000000ull | ((v >> 4) & 0x3ffffff8ull);
			break;
		case 2:
			g->gpr[reg] += 1;
			break;
		default:
			g->gpr[reg] = v >> 2;
			break;
		}
	}
	/* push/pop within the 16 KiB guest stack */
	{
		int64_t d = ((int64_t)rng_below(r, 9) - 4) * 8;
		uint64_t sp = g->gpr[4] + (uint64_t)d;

		if (sp <= GUEST_STACK && sp > GUEST_STACK - 0x3f00)
			g->gpr[4] = sp;
	}
	g->rflags = 0x2 | (rng_next(r) & 0x8d5);	/* CF PF AF ZF SF OF */
	if (!rng_below(r, 4)) {
		unsigned int x = (unsigned int)rng_below(r, 16);
		uint64_t v = rng_next(r);

		if (v & 1) {	/* two doubles */
			double a = (double)(int64_t)(v >> 44) / 64.0 - 1000.0;
			double b = (double)((v >> 8) & 0xfffff) / 1024.0;

			memcpy(&g->xmm[2 * x], &a, 8);
			memcpy(&g->xmm[2 * x + 1], &b, 8);
		} else {	/* four floats */
			float f[4];

			for (int i = 0; i < 4; i++)
				f[i] = (float)((v >> (i * 16)) & 0xffff) / 16.0f;
			memcpy(&g->xmm[2 * x], f, 16);
		}
	}
	if (!rng_below(r, 50))
		g->mxcsr |= 0x20;	/* precision, sticky */
	if (!rng_below(r, 400))
		g->mxcsr = (g->mxcsr & ~0x6000u) | ((uint32_t)rng_below(r, 4) << 13);
	g->vtsc += 2000 + rng_below(r, 30000);
}

/* One generated exit with its resume. */
#define MAX_PAIR_ALTERS 16

struct pair {
	struct hvtrace_exit_rec x;
	struct hvtrace_resume_rec r;
	unsigned int kind;
	uint64_t lat;		/* handler latency, TSC ticks */
	/* --alter edits of this exit: applied again once seq and tsc are set */
	const struct edit *alters[MAX_PAIR_ALTERS];
	int nalters;
	unsigned int extra_values;	/* values-long: elements past values_len */
	bool wide;		/* --wide: write wide_val into the wide field */
};

static unsigned int pick_kind(struct rng *r, const unsigned int *w, bool async)
{
	uint64_t total = 0, p;
	size_t k;

	for (k = 0; k < NKINDS; k++)
		if (kinds[k].async == async)
			total += w[k];
	p = rng_below(r, total);
	for (k = 0; k < NKINDS; k++) {
		if (kinds[k].async != async)
			continue;
		if (p < w[k])
			return (unsigned int)k;
		p -= w[k];
	}
	return 0;
}

static void chg(struct hvtrace_resume_rec *r, unsigned int bit, uint64_t v)
{
	/* callers add bits in ascending order */
	r->changed |= 1ull << bit;
	r->values[r->values_len++] = v;
}

/*
 * Fill p for an exit of kind k at site s (NULL for asynchronous exits)
 * from guest state g, and apply the handler's changes to g.
 */
static void make_exit(struct pair *p, struct gstate *g, unsigned int k,
		      const struct site *s, unsigned int vcpu, struct rng *r,
		      bool final)
{
	struct hvtrace_exit_rec *x = &p->x;
	struct hvtrace_resume_rec *rr = &p->r;
	unsigned int reason = kinds[k].reason;
	uint64_t newrip;

	memset(p, 0, sizeof(*p));
	p->kind = k;
	if (s) {
		g->rip = s->rip;
		x->insn_len = s->insn_len;
	} else {
		g->rip += 1 + rng_below(r, 0x40);
	}
	/* what the instruction consumes, set up by the guest before it */
	switch (reason) {
	case HVTRACE_EXIT_CPUID:
		g->gpr[0] = s->p1;
		g->gpr[1] = s->p2;
		break;
	case HVTRACE_EXIT_RDMSR:
		g->gpr[1] = s->p1;
		break;
	case HVTRACE_EXIT_WRMSR:
		g->gpr[1] = s->p1;
		g->gpr[0] = rng_next(r) & 0xffffffff;
		g->gpr[2] = rng_next(r) & 0xffff;
		break;
	case HVTRACE_EXIT_IO_INSTRUCTION:
		g->gpr[2] = (g->gpr[2] & ~0xffffull) | s->p1;
		break;
	case HVTRACE_EXIT_VMCALL:
		g->gpr[0] = final ? HVT_HC_END : s->p1;
		g->gpr[3] = final ? 0 : rng_below(r, 0x10000);
		if (s->p1 == HVT_HC_LOG)
			g->gpr[1] = rng_below(r, 300);
		break;
	case HVTRACE_EXIT_XSETBV:
		g->gpr[1] = 0;
		g->gpr[0] = 0x7;
		g->gpr[2] = 0;
		break;
	case HVTRACE_EXIT_CR_ACCESS: {
		const uint8_t *f = cr_forms[s->p1];

		if (f[1] == 0 && f[0] == 3)
			g->gpr[f[2]] = 0x10a000 + ((uint64_t)vcpu << 12) +
				       (rng_below(r, 4) << 12);
		else if (f[1] == 0 && f[0] == 0)
			g->gpr[f[2]] = 0x80050033;
		else if (f[1] == 0 && f[0] == 4)
			g->gpr[f[2]] = 0x3706f0;
		break;
	}
	default:
		break;
	}
	x->vcpu = vcpu;
	x->exit_reason = reason;
	x->rip = g->rip;
	x->rsp = g->gpr[4];
	x->rflags = g->rflags;
	x->cr0 = g->cr0;
	x->cr3 = g->cr3;
	x->cr4 = g->cr4;
	memcpy(x->gpr, g->gpr, sizeof(x->gpr));
	memcpy(x->xmm, g->xmm, sizeof(x->xmm));
	x->mxcsr = g->mxcsr;
	rr->vcpu = vcpu;
	rr->action = HVTRACE_ACT_RESUME;
	newrip = g->rip + x->insn_len;

	switch (reason) {
	case HVTRACE_EXIT_CPUID: {
		uint32_t leaf = (uint32_t)s->p1, sub = (uint32_t)s->p2;

		/* bits: rax(0) rcx(1) rdx(2) rbx(3) in ascending order */
		chg(rr, 0, cpuid_value(leaf, sub, 0));
		chg(rr, 1, cpuid_value(leaf, sub, 2));
		chg(rr, 2, cpuid_value(leaf, sub, 3));
		chg(rr, 3, cpuid_value(leaf, sub, 1));
		chg(rr, HVTRACE_CHG_RIP, newrip);
		break;
	}
	case HVTRACE_EXIT_RDMSR: {
		uint64_t v = msr_value((uint32_t)s->p1, g, vcpu);

		chg(rr, 0, v & 0xffffffff);
		chg(rr, 2, v >> 32);
		chg(rr, HVTRACE_CHG_RIP, newrip);
		break;
	}
	case HVTRACE_EXIT_IO_INSTRUCTION: {
		unsigned int size = (unsigned int)(s->p2 & 7) + 1;
		bool in = s->p2 & 8;

		x->exit_qual = (s->p2 & 0x4f) | (s->p1 << 16);
		if (in) {
			uint64_t mask = size == 4 ? 0xffffffffffffffffull :
					((1ull << (size * 8)) - 1);
			uint64_t v = io_in_value((uint16_t)s->p1) & mask;

			chg(rr, 0, (g->gpr[0] & ~mask) | v);
		}
		chg(rr, HVTRACE_CHG_RIP, newrip);
		break;
	}
	case HVTRACE_EXIT_VMCALL:
		if (final) {
			rr->action = HVTRACE_ACT_STOP;
			break;
		}
		if (g->gpr[0] == HVT_HC_MARKER)
			chg(rr, 0, 0);
		else if (g->gpr[0] == HVT_HC_LOG)
			chg(rr, 0, g->gpr[1] > 256 ? (uint64_t)-22 : 0);
		else
			chg(rr, 0, (uint64_t)-38);	/* -ENOSYS */
		chg(rr, HVTRACE_CHG_RIP, newrip);
		break;
	case HVTRACE_EXIT_RDTSC:
		chg(rr, 0, g->vtsc & 0xffffffff);
		chg(rr, 2, g->vtsc >> 32);
		chg(rr, HVTRACE_CHG_RIP, newrip);
		break;
	case HVTRACE_EXIT_RDTSCP:
		chg(rr, 0, g->vtsc & 0xffffffff);
		chg(rr, 1, vcpu);
		chg(rr, 2, g->vtsc >> 32);
		chg(rr, HVTRACE_CHG_RIP, newrip);
		break;
	case HVTRACE_EXIT_CR_ACCESS: {
		const uint8_t *f = cr_forms[s->p1];

		x->exit_qual = f[0] | ((uint64_t)f[1] << 4) | ((uint64_t)f[2] << 8);
		if (f[1] == 1) {		/* mov from cr3 */
			chg(rr, f[2], g->cr3);
		} else if (f[1] == 0) {		/* mov to cr: VMCS, not a GPR */
			if (f[0] == 3)
				g->cr3 = g->gpr[f[2]];
		} else {			/* clts */
			g->cr0 &= ~8ull;
		}
		chg(rr, HVTRACE_CHG_RIP, newrip);
		break;
	}
	case HVTRACE_EXIT_WRMSR:
		if (kinds[k].fault) {
			chg(rr, 0, 13);			/* #GP */
			chg(rr, HVTRACE_CHG_RIP, newrip + 1);	/* the fixup */
			break;
		}
		chg(rr, HVTRACE_CHG_RIP, newrip);
		break;
	case HVTRACE_EXIT_HLT:
	case HVTRACE_EXIT_XSETBV:
	case HVTRACE_EXIT_INVD:
		chg(rr, HVTRACE_CHG_RIP, newrip);
		break;
	case HVTRACE_EXIT_EXCEPTION_NMI: {
		const uint8_t *f = exc_forms[s->p1];

		x->intr_info = f[0] | ((uint32_t)f[1] << 8) |
			       ((uint32_t)f[2] << 11) | (1u << 31);
		if (f[2])
			x->intr_error = f[0] == 14 ? 0x2 : 0;
		if (f[0] == 14)
			x->exit_qual = 0x00007f0000001000ull + (rng_below(r, 0x100) << 12);
		/* reflect the exception into the guest */
		rr->action = HVTRACE_ACT_INJECT;
		rr->inject_info = x->intr_info;
		rr->inject_error = x->intr_error;
		break;
	}
	case HVTRACE_EXIT_EXTERNAL_INTERRUPT:
		x->intr_info = (uint32_t)(0x20 + rng_below(r, 0xd0)) | (1u << 31);
		break;
	default:
		break;
	}
	/* apply the handler's changes: the state the guest resumes with */
	for (unsigned int b = 0, i = 0; b < HVTRACE_CHG_NBITS; b++) {
		uint64_t v;

		if (!(rr->changed & (1ull << b)))
			continue;
		v = rr->values[i++];
		if (b < 16)
			g->gpr[b] = v;
		else if (b == HVTRACE_CHG_RIP)
			g->rip = v;
		else if (b == HVTRACE_CHG_RFLAGS)
			g->rflags = v;
		else if (b < HVTRACE_CHG_MXCSR)
			g->xmm[b - 18] = v;
		else
			g->mxcsr = (uint32_t)v;
	}
	p->lat = kinds[k].base + rng_below(r, kinds[k].base / 2);
}

static bool kind_skips(unsigned int k)
{
	switch (kinds[k].reason) {
	case HVTRACE_EXIT_CPUID: case HVTRACE_EXIT_RDMSR:
	case HVTRACE_EXIT_WRMSR: case HVTRACE_EXIT_IO_INSTRUCTION:
	case HVTRACE_EXIT_VMCALL: case HVTRACE_EXIT_HLT:
	case HVTRACE_EXIT_RDTSC: case HVTRACE_EXIT_RDTSCP:
	case HVTRACE_EXIT_CR_ACCESS: case HVTRACE_EXIT_XSETBV:
	case HVTRACE_EXIT_INVD:
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------ per-vCPU run */

struct hist_row {
	uint64_t count, total, min, max;
};

struct vcpu {
	unsigned int id;
	struct gstate g;
	struct rng content, async, timing, ins;
	uint64_t n_total;	/* exits in the unedited run */
	uint64_t n_async;	/* of which asynchronous */
	uint64_t made;		/* unedited exits generated so far */
	uint64_t async_left;
	uint64_t out_seq;	/* last seq written (or lost) */
	uint64_t emitted;
	uint64_t pending_ins;
	uint64_t poll_len;	/* the pending insert is a polling loop this long */
	bool ins_checked;	/* inserts before exit made+1 looked up */
	uint64_t lost;		/* events lost since the last packet */
	uint64_t lost_packets;	/* packets lost since the last packet */
	bool done;

	/* stream state */
	bt_stream *stream;
	bt_packet *packet;
	uint64_t packet_events;
	bool close_after_resume;
	int64_t last_ns;
	bool began, ended, session_started;

	/* the exit waiting for its resume */
	bool have_pair;
	struct pair pair;
	int64_t exit_ns, resume_ns, next_ns;
	int resume_copies;	/* resumes still to write for the pair */
	bool exit_written;
};

struct synth {
	struct opts o;
	bt_trace_class *tc;
	bt_stream_class *sc;
	bt_clock_class *cc;
	bt_event_class *ec_exit, *ec_resume, *ec_session;
	bt_trace *trace;
	struct vcpu v[MAX_VCPUS];
	struct hist_row hist[HVTRACE_EXIT_REASON_MAX];
	uint64_t total_emitted;
	bool finished;
};

static struct edit *edit_at(struct edits *ed, uint64_t seq)
{
	for (int i = 0; i < ed->n; i++)
		if (ed->e[i].seq == seq && !ed->e[i].done)
			return &ed->e[i];
	return NULL;
}

static bool brk_at(struct opts *o, unsigned int kind, uint64_t seq)
{
	for (int i = 0; i < o->brk.n; i++)
		if (o->brk.e[i].seq == seq && o->brk.e[i].n == kind &&
		    !o->brk.e[i].done) {
			o->brk.e[i].done = true;
			return true;
		}
	return false;
}

static void apply_alter(struct pair *p, const struct edit *e)
{
	const struct field_desc *f = &fields[e->field];
	unsigned char *base = f->rec == REC_EXIT ? (unsigned char *)&p->x :
			      (unsigned char *)&p->r;
	unsigned char *dst = base + f->off + (size_t)e->elem * f->size;

	if (f->txt) {
		memcpy(dst, e->text, f->count);
		return;
	}
	switch (f->size) {
	case 1: { uint8_t v = (uint8_t)e->val; memcpy(dst, &v, 1); break; }
	case 2: { uint16_t v = (uint16_t)e->val; memcpy(dst, &v, 2); break; }
	case 4: { uint32_t v = (uint32_t)e->val; memcpy(dst, &v, 4); break; }
	default: memcpy(dst, &e->val, 8); break;
	}
	/* keep the exit's rsp and gpr[4] one value, as the kernel writes them */
	if (f->rec == REC_EXIT && !strcmp(f->name, "rsp"))
		p->x.gpr[4] = p->x.rsp;
	else if (f->rec == REC_EXIT && !strcmp(f->name, "gpr") && e->elem == 4)
		p->x.rsp = p->x.gpr[4];
}

/*
 * Produce the vCPU's next exit to write into v->pair.  Returns false when
 * the vCPU's run is over.
 */
static bool next_pair(struct synth *sy, struct vcpu *v)
{
	struct opts *o = &sy->o;
	bool editing = v->id == o->edit_vcpu;

	for (;;) {
		uint64_t orig;
		bool is_async, final;
		unsigned int k;

		if (v->made == v->n_total && !v->pending_ins)
			return false;
		if (editing && !v->ins_checked) {
			struct edit *e = edit_at(&o->insert, v->made + 1);

			v->ins_checked = true;
			if (e) {
				e->done = true;
				v->pending_ins = e->n;
				v->poll_len = e->field ? e->n : 0;
			}
		}
		if (v->pending_ins) {
			/* an extra exit at a site of its own; main state untouched */
			struct gstate tmp = v->g;
			struct site s = {
				.rip = guest_code + 0xf000 + rng_below(&v->ins, 0x100),
				.p1 = 0x40000010 + rng_below(&v->ins, 4),
				.insn_len = 2,
			};
			size_t k0;

			/*
			 * --poll-at: a guest polling a UART: IN from the line
			 * status port 0x3fd, then RDTSC for its timeout, again
			 * and again at the same two RIPs (period 2).
			 */
			int poll_in = v->poll_len && (v->poll_len - v->pending_ins) % 2 == 0;
			uint32_t want = !v->poll_len ? HVTRACE_EXIT_CPUID :
					poll_in ? HVTRACE_EXIT_IO_INSTRUCTION : HVTRACE_EXIT_RDTSC;

			if (v->poll_len) {
				s.rip = guest_code + 0xf800 + (poll_in ? 0 : 4);
				s.p1 = poll_in ? 0x3fd : 0;
				s.p2 = poll_in ? 1 << 3 : 0;	/* 1 byte, IN, port in DX */
				s.insn_len = poll_in ? 1 : 2;
			}
			for (k0 = 0; kinds[k0].reason != want; k0++)
				;
			make_exit(&v->pair, &tmp, (unsigned int)k0, &s, v->id,
				  &v->ins, false);
			v->pending_ins--;
			v->pair.x.seq = v->pair.r.seq = ++v->out_seq;
			v->resume_copies = 1;
			return true;
		}
		orig = ++v->made;
		v->ins_checked = false;
		final = orig == v->n_total;
		/* selection sampling: exactly n_async asynchronous exits */
		is_async = !final && v->async_left &&
			   rng_below(&v->async, v->n_total - orig) < v->async_left;
		if (is_async) {
			v->async_left--;
			k = pick_kind(&v->async, o->weight, true);
			make_exit(&v->pair, &v->g, k, NULL, v->id, &v->async, false);
		} else {
			size_t kv = 0;

			guest_progress(&v->g, &v->content);
			if (final) {
				for (kv = 0; kinds[kv].reason != HVTRACE_EXIT_VMCALL; kv++)
					;
				k = (unsigned int)kv;
			} else {
				k = pick_kind(&v->content, o->weight, false);
			}
			make_exit(&v->pair, &v->g, k,
				  &sites[k][rng_below(&v->content, NSITES)],
				  v->id, &v->content, final);
		}
		if (!editing)
			goto keep;
		if (edit_at(&o->drop, orig)) {
			edit_at(&o->drop, orig)->done = true;
			continue;
		}
		{
			struct edit *d = NULL;

			for (int i = 0; i < o->discard.n; i++)
				if (orig >= o->discard.e[i].seq &&
				    orig < o->discard.e[i].seq + o->discard.e[i].n)
					d = &o->discard.e[i];
			if (d) {
				++v->out_seq;
				v->lost += 2;	/* the exit and its resume */
				continue;
			}
			for (int i = 0; i < o->dpk.n; i++)
				if (orig >= o->dpk.e[i].seq &&
				    orig < o->dpk.e[i].seq + o->dpk.e[i].n)
					d = &o->dpk.e[i];
			if (d) {
				/* one lost packet holds the whole range */
				++v->out_seq;
				v->lost_packets = 1;
				d->done = true;
				continue;
			}
		}
		if (brk_at(o, BRK_GAP, orig))
			++v->out_seq;
		for (struct edit *a; (a = edit_at(&o->alter, orig));) {
			a->done = true;
			apply_alter(&v->pair, a);
			if (v->pair.nalters == MAX_PAIR_ALTERS)
				die("--alter: at most %d fields of one exit", MAX_PAIR_ALTERS);
			v->pair.alters[v->pair.nalters++] = a;
		}
		if (o->wide && orig == o->wide_seq)
			v->pair.wide = true;
keep:
		v->pair.x.seq = v->pair.r.seq = ++v->out_seq;
		v->pair.x.vcpu = v->pair.r.vcpu = v->id;
		v->resume_copies = 1;
		if (editing) {
			struct pair *p = &v->pair;

			if (brk_at(o, BRK_NO_RESUME, orig))
				v->resume_copies = 0;
			if (brk_at(o, BRK_DUP_RESUME, orig))
				v->resume_copies = 2;
			if (brk_at(o, BRK_RESUME_SEQ, orig))
				p->r.seq += 7;
			if (brk_at(o, BRK_VALUES_LEN, orig) &&
			    p->r.values_len < HVTRACE_CHG_NBITS)
				p->r.values[p->r.values_len++] = 0xbad;
			if (brk_at(o, BRK_VALUES_LONG, orig))
				p->extra_values = HVTRACE_CHG_NBITS + 9u - p->r.values_len;
			if (brk_at(o, BRK_RSP, orig))
				p->x.gpr[4] += 8;
			/* rip: the first skipping exit at or after SEQ */
			for (int i = 0; i < o->brk.n; i++) {
				struct edit *b = &o->brk.e[i];

				if (b->n == BRK_RIP && !b->done && orig >= b->seq &&
				    kind_skips(p->kind) &&
				    (p->r.changed >> HVTRACE_CHG_RIP) & 1) {
					unsigned int idx = (unsigned int)__builtin_popcountll(
						p->r.changed & ((1ull << HVTRACE_CHG_RIP) - 1));

					p->r.values[idx] = p->x.rip;
					b->done = true;
				}
			}
		}
		return true;
	}
}

/* ---------------------------------------------------- trace IR setup */

#define BITS_u8 8
#define BITS_u16 16
#define BITS_u32 32
#define BITS_u64 64
#define BITS_s32 32
#define SIGNED_u8 0
#define SIGNED_u16 0
#define SIGNED_u32 0
#define SIGNED_u64 0
#define SIGNED_s32 1
#define BITS(t) BITS_##t
#define SIGNED(t) SIGNED_##t

/* --wide: the field declared as a 64-bit integer, whatever its schema type. */
static const char *wide_field;

static bt_field_class *int_fc(bt_trace_class *tc, unsigned int bits, bool sgn,
			      bool hex)
{
	bt_field_class *fc = sgn ? bt_field_class_integer_signed_create(tc) :
			     bt_field_class_integer_unsigned_create(tc);

	if (!fc)
		die("out of memory");
	bt_field_class_integer_set_field_value_range(fc, bits);
	bt_field_class_integer_set_preferred_display_base(fc,
		hex ? BT_FIELD_CLASS_INTEGER_PREFERRED_DISPLAY_BASE_HEXADECIMAL :
		      BT_FIELD_CLASS_INTEGER_PREFERRED_DISPLAY_BASE_DECIMAL);
	return fc;
}

static void add_member(bt_field_class *st, const char *name, bt_field_class *fc)
{
	if (bt_field_class_structure_append_member(st, name, fc))
		die("cannot add field '%s'", name);
	bt_field_class_put_ref(fc);
}

static void fc_int(bt_trace_class *tc, bt_field_class *st, const char *name,
		   unsigned int bits, bool sgn, bool hex)
{
	if (wide_field && !strcmp(name, wide_field))
		bits = 64;
	add_member(st, name, int_fc(tc, bits, sgn, hex));
}

static void fc_arr(bt_trace_class *tc, bt_field_class *st, const char *name,
		   unsigned int bits, uint64_t count)
{
	bt_field_class *el = int_fc(tc, bits, false, true);
	bt_field_class *fc = bt_field_class_array_static_create(tc, el, count);

	if (!fc)
		die("out of memory");
	bt_field_class_put_ref(el);
	add_member(st, name, fc);
}

static void fc_txt(bt_trace_class *tc, bt_field_class *st, const char *name)
{
	bt_field_class *fc = bt_field_class_string_create(tc);

	if (!fc)
		die("out of memory");
	add_member(st, name, fc);
}

/* As lttng-modules' ctf_sequence_hex: a "_NAME_length" member, then NAME. */
static void fc_seq(bt_trace_class *tc, bt_field_class *st, const char *name,
		   unsigned int bits, unsigned int lbits)
{
	char lname[64];
	bt_field_class *len = int_fc(tc, lbits, false, false);
	bt_field_class *el = int_fc(tc, bits, false, true);
	bt_field_class *fc;

	snprintf(lname, sizeof(lname), "_%s_length", name);
	if (bt_field_class_structure_append_member(st, lname, len))
		die("cannot add field '%s'", lname);
	fc = bt_field_class_array_dynamic_create(tc, el, len);
	if (!fc)
		die("out of memory");
	bt_field_class_put_ref(len);
	bt_field_class_put_ref(el);
	add_member(st, name, fc);
}

/*
 * The fields this trace has, per event in schema order: those of the
 * layout's schema version (--layout, else --schema-version) but --omit's.
 */
#define NAME_1(type, name) #name,
#define NAME_A(type, name, count) #name,
#define NAME_T(name, count) #name,
#define NAME_S(type, name, ltype, max) #name,
#define NAME_LIST(list) { list(NAME_1, NAME_1, NAME_A, NAME_T, NAME_S) }
static const char *const exit_names[] = NAME_LIST(HVTRACE_EXIT_FIELDS);
static const char *const resume_names[] = NAME_LIST(HVTRACE_RESUME_FIELDS);
static const char *const session_names[] = NAME_LIST(HVTRACE_SESSION_FIELDS);
#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
static bool exit_w[NELEMS(exit_names)];
static bool resume_w[NELEMS(resume_names)];
static bool session_w[NELEMS(session_names)];

struct added { const char *event, *name; };
#define ADDED(ev, n) { ev, #n },
static const struct added added_v2[] = { HVTRACE_V2_FIELDS(ADDED) };
static const struct added added_v3[] = { HVTRACE_V3_FIELDS(ADDED) };

static bool listed(const struct added *a, size_t n, const char *event, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i].event, event) && !strcmp(a[i].name, name))
			return true;
	return false;
}

static void layout_event(const struct opts *o, unsigned int layout, const char *event,
			 const char *const *names, bool *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		w[i] = !(layout < 2 && listed(added_v2, NELEMS(added_v2), event, names[i])) &&
		       !(layout < 3 && listed(added_v3, NELEMS(added_v3), event, names[i]));
		for (int k = 0; k < o->nomit && !strcmp(event, HVTRACE_EVENT_EXIT); k++)
			if (!strcmp(o->omit[k], names[i]))
				w[i] = false;
	}
}

static void layout_init(const struct opts *o)
{
	unsigned int l = o->layout;

	if (!l)
		l = o->schema_version < 1 ? 1 : o->schema_version > HVTRACE_SCHEMA_VERSION ?
		    HVTRACE_SCHEMA_VERSION : o->schema_version;
	layout_event(o, l, HVTRACE_EVENT_EXIT, exit_names, exit_w, NELEMS(exit_w));
	layout_event(o, l, HVTRACE_EVENT_RESUME, resume_names, resume_w, NELEMS(resume_w));
	layout_event(o, l, HVTRACE_EVENT_SESSION, session_names, session_w,
		     NELEMS(session_w));
}

#define FC_INT(type, name) if (w[k++]) fc_int(tc, st, #name, BITS(type), SIGNED(type), false);
#define FC_HEX(type, name) if (w[k++]) fc_int(tc, st, #name, BITS(type), SIGNED(type), true);
#define FC_ARR(type, name, count) if (w[k++]) fc_arr(tc, st, #name, BITS(type), count);
#define FC_TXT(name, count) if (w[k++]) fc_txt(tc, st, #name);
#define FC_SEQ(type, name, ltype, max) \
	if (w[k++]) fc_seq(tc, st, #name, BITS(type), BITS(ltype));

static bt_event_class *make_ec(bt_stream_class *sc, const char *name,
			       bt_field_class *st)
{
	bt_event_class *ec = bt_event_class_create(sc);

	if (!ec || bt_event_class_set_name(ec, name) ||
	    bt_event_class_set_payload_field_class(ec, st))
		die("cannot create event class %s", name);
	bt_field_class_put_ref(st);
	return ec;
}

static void build_classes(struct synth *sy, bt_self_component *self)
{
	bt_trace_class *tc = bt_trace_class_create(self);
	bt_field_class *st, *pc;
	const bool *w;
	size_t k;

	if (!tc)
		die("out of memory");
	sy->tc = tc;
	sy->sc = bt_stream_class_create(tc);
	sy->cc = bt_clock_class_create(self);
	if (!sy->sc || !sy->cc)
		die("out of memory");
	bt_clock_class_set_name(sy->cc, "monotonic");
	bt_clock_class_set_description(sy->cc, "Monotonic Clock");
	bt_clock_class_set_frequency(sy->cc, 1000000000);
	bt_clock_class_set_offset(sy->cc, 1700000000, 0);
	bt_clock_class_set_origin_is_unix_epoch(sy->cc, BT_TRUE);
	bt_stream_class_set_name(sy->sc, "hvtrace");
	bt_stream_class_set_default_clock_class(sy->sc, sy->cc);
	bt_stream_class_set_supports_packets(sy->sc, BT_TRUE, BT_TRUE, BT_TRUE);
	bt_stream_class_set_supports_discarded_events(sy->sc, BT_TRUE, BT_TRUE);
	/* a packet_seq_num in each packet context, as LTTng writes it */
	if (sy->o.dpk.n || sy->o.dpk_end)
		bt_stream_class_set_supports_discarded_packets(sy->sc, BT_TRUE, BT_TRUE);
	/* like LTTng's kernel channels: the CPU of each stream file */
	pc = bt_field_class_structure_create(tc);
	if (!pc)
		die("out of memory");
	fc_int(tc, pc, "cpu_id", 32, false, false);
	bt_stream_class_set_packet_context_field_class(sy->sc, pc);
	bt_field_class_put_ref(pc);

	st = bt_field_class_structure_create(tc);
	w = exit_w;
	k = 0;
	HVTRACE_EXIT_FIELDS(FC_INT, FC_HEX, FC_ARR, FC_TXT, FC_SEQ)
	sy->ec_exit = make_ec(sy->sc, HVTRACE_EVENT_EXIT, st);
	st = bt_field_class_structure_create(tc);
	w = resume_w;
	k = 0;
	HVTRACE_RESUME_FIELDS(FC_INT, FC_HEX, FC_ARR, FC_TXT, FC_SEQ)
	sy->ec_resume = make_ec(sy->sc, HVTRACE_EVENT_RESUME, st);
	st = bt_field_class_structure_create(tc);
	w = session_w;
	k = 0;
	HVTRACE_SESSION_FIELDS(FC_INT, FC_HEX, FC_ARR, FC_TXT, FC_SEQ)
	sy->ec_session = make_ec(sy->sc, HVTRACE_EVENT_SESSION, st);
}

/* --------------------------------------------------- writing fields */

static inline bt_field *mem(bt_field *st, uint64_t i)
{
	return bt_field_structure_borrow_member_field_by_index(st, i);
}

static inline void set_num(bt_field *f, bool sgn, uint64_t v)
{
	if (sgn)
		bt_field_integer_signed_set_value(f, (int64_t)v);
	else
		bt_field_integer_unsigned_set_value(f, v);
}

#define SET_INT(type, name) \
	if (w[k++]) set_num(mem(p, i++), SIGNED(type), (uint64_t)rec->name);
#define SET_ARR(type, name, count) if (w[k++]) do {			\
		bt_field *a_ = mem(p, i++);				\
		for (uint64_t j_ = 0; j_ < (count); j_++)		\
			bt_field_integer_unsigned_set_value(		\
				bt_field_array_borrow_element_field_by_index(a_, j_), \
				(uint64_t)rec->name[j_]);		\
	} while (0);
#define SET_TXT(name, count) if (w[k++]) do {			\
		char t_[(count) + 1];					\
		memcpy(t_, rec->name, (count));				\
		t_[(count)] = '\0';					\
		if (bt_field_string_set_value(mem(p, i++), t_))		\
			die("out of memory");				\
	} while (0);
#define SET_SEQ(type, name, ltype, max) if (w[k++]) do {		\
		bt_field *d_;						\
		uint64_t n_ = rec->name##_len;				\
		bt_field_integer_unsigned_set_value(mem(p, i++), n_);	\
		d_ = mem(p, i++);					\
		if (bt_field_array_dynamic_set_length(d_, n_))		\
			die("out of memory");				\
		for (uint64_t j_ = 0; j_ < n_; j_++)			\
			bt_field_integer_unsigned_set_value(		\
				bt_field_array_borrow_element_field_by_index(d_, j_), \
				(uint64_t)rec->name[j_]);		\
	} while (0);

static void fill_exit(bt_field *p, const struct hvtrace_exit_rec *rec)
{
	const bool *w = exit_w;
	uint64_t i = 0;
	size_t k = 0;

	HVTRACE_EXIT_FIELDS(SET_INT, SET_INT, SET_ARR, SET_TXT, SET_SEQ)
}

static void fill_resume(bt_field *p, const struct hvtrace_resume_rec *rec)
{
	const bool *w = resume_w;
	uint64_t i = 0;
	size_t k = 0;

	HVTRACE_RESUME_FIELDS(SET_INT, SET_INT, SET_ARR, SET_TXT, SET_SEQ)
}

static void fill_session(bt_field *p, const struct hvtrace_session_rec *rec)
{
	const bool *w = session_w;
	uint64_t i = 0;
	size_t k = 0;

	HVTRACE_SESSION_FIELDS(SET_INT, SET_INT, SET_ARR, SET_TXT, SET_SEQ)
}

/* --wide and --break values-long: what the record types cannot hold. */
static void fill_extra(struct synth *sy, bt_field *p, const struct pair *pr, bool resume)
{
	if (pr->wide) {
		bt_field *f = bt_field_structure_borrow_member_field_by_name(p, sy->o.wide);

		if (f)
			bt_field_integer_unsigned_set_value(f, sy->o.wide_val);
	}
	if (resume && pr->extra_values) {
		uint64_t n = pr->r.values_len + (uint64_t)pr->extra_values;
		bt_field *len = bt_field_structure_borrow_member_field_by_name(p, "_values_length");
		bt_field *d = bt_field_structure_borrow_member_field_by_name(p, "values");

		if (!len || !d || bt_field_array_dynamic_set_length(d, n))
			die("--break values-long: cannot lengthen values");
		bt_field_integer_unsigned_set_value(len, n);
		for (uint64_t j = pr->r.values_len; j < n; j++)
			bt_field_integer_unsigned_set_value(
				bt_field_array_borrow_element_field_by_index(d, j), 0xbad);
	}
}

/* ------------------------------------------------ message iterator */

struct out {
	bt_self_message_iterator *it;
	bt_message_array_const msgs;
	uint64_t cap, n;
};

static void push(struct out *o, bt_message *m)
{
	if (!m)
		die("out of memory");
	o->msgs[o->n++] = m;
}

static void open_packet(struct synth *sy, struct out *o, struct vcpu *v, int64_t ns)
{
	(void)sy;
	v->packet = bt_packet_create(v->stream);
	if (!v->packet)
		die("out of memory");
	bt_field_integer_unsigned_set_value(
		mem(bt_packet_borrow_context_field(v->packet), 0), v->id);
	push(o, bt_message_packet_beginning_create_with_default_clock_snapshot(
		o->it, v->packet, (uint64_t)ns));
	v->packet_events = 0;
}

static void close_packet(struct out *o, struct vcpu *v, int64_t ns)
{
	push(o, bt_message_packet_end_create_with_default_clock_snapshot(
		o->it, v->packet, (uint64_t)ns));
	bt_packet_put_ref(v->packet);
	v->packet = NULL;
}

/* Messages before an event of v at ns: lost-events record, packet. */
static void before_event(struct synth *sy, struct out *o, struct vcpu *v,
			 int64_t ns, int64_t packet_end_ns)
{
	if (v->lost_packets) {
		bt_message *m;

		if (v->packet)
			close_packet(o, v, v->last_ns);
		/* from the last packet's end to the next packet's beginning */
		m = bt_message_discarded_packets_create_with_default_clock_snapshots(
			o->it, v->stream, (uint64_t)v->last_ns, (uint64_t)ns);
		if (!m)
			die("out of memory");
		bt_message_discarded_packets_set_count(m, v->lost_packets);
		push(o, m);
		v->lost_packets = 0;
		open_packet(sy, o, v, ns);
	}
	if (v->lost) {
		bt_message *m;

		if (v->packet)
			close_packet(o, v, v->last_ns);
		/* CTF 1.8: the range runs from the last packet's end to the
		 * end of the packet that reports the loss */
		m = bt_message_discarded_events_create_with_default_clock_snapshots(
			o->it, v->stream, (uint64_t)v->last_ns, (uint64_t)packet_end_ns);
		if (!m)
			die("out of memory");
		bt_message_discarded_events_set_count(m, v->lost);
		push(o, m);
		v->lost = 0;
		open_packet(sy, o, v, ns);
		v->close_after_resume = true;
	} else if (!v->packet) {
		open_packet(sy, o, v, ns);
	}
}

static void after_event(struct out *o, struct vcpu *v, int64_t ns, bool resume)
{
	v->last_ns = ns;
	v->packet_events++;
	if (resume && (v->close_after_resume || v->packet_events >= PACKET_EVENTS)) {
		close_packet(o, v, ns);
		v->close_after_resume = false;
	}
}

static void session_rec(struct synth *sy, struct vcpu *v, bool end,
			struct hvtrace_session_rec *s, int64_t ns)
{
	static const uint64_t msrs[HVTRACE_NR_VMX_MSRS] = {
		0x00d810000000002bull, 0x0000003f00000016ull, 0xfff9fffe0401e172ull,
		0x003fffff00036dffull, 0x0000f3ff000011ffull, 0x00000000000401e7ull,
		0x0000000080000021ull, 0x00000000ffffffffull, 0x0000000000002000ull,
		0x00000000003727ffull, 0x000000000000002eull, 0x000153fb00000000ull,
		0x00000f0106334141ull, 0x0000003f00000016ull, 0xfff9fffe04006172ull,
		0x003fffff00036dfbull, 0x0000f3ff000011fbull,
	};

	memset(s, 0, sizeof(*s));
	s->phase = end ? HVTRACE_PHASE_END : HVTRACE_PHASE_START;
	s->schema_version = sy->o.schema_version;
	snprintf(s->module_version, sizeof(s->module_version), "synth-1");
	s->run_id = mix64(sy->o.seed, sy->o.async_seed ^ 0x52554e);
	s->vcpu = v->id;
	snprintf(s->workload, sizeof(s->workload), "synth-mix");
	s->seed = sy->o.seed;
	s->iterations = v->n_total;
	snprintf(s->cpu_model, sizeof(s->cpu_model), "hvtrace-synth virtual CPU @ 3.00GHz");
	memcpy(s->vmx_msrs, msrs, sizeof(msrs));
	s->pin_ctls = 0x16;
	s->proc_ctls = 0x96206df2;	/* HLT RDTSC CR3 IO-bitmaps MSR-bitmaps 2nd */
	s->proc2_ctls = 0x8;		/* RDTSCP */
	s->exit_ctls = 0x36dff;
	s->entry_ctls = 0x13ff;
	s->exception_bitmap = (1u << 3) | (1u << 6) | (1u << 13) | (1u << 14);
	s->trap_mask = 0;
	if (end) {
		s->exits = v->emitted;
		s->end_reason = HVTRACE_EXIT_VMCALL;
	}
	s->tsc = (uint64_t)ns * TSC_PER_NS;
}

static void emit_session(struct synth *sy, struct out *o, struct vcpu *v, bool end,
			 int64_t ns)
{
	struct hvtrace_session_rec s;
	bt_message *m;

	before_event(sy, o, v, ns, ns);
	session_rec(sy, v, end, &s, ns);
	m = bt_message_event_create_with_packet_and_default_clock_snapshot(
		o->it, sy->ec_session, v->packet, (uint64_t)ns);
	if (!m)
		die("out of memory");
	fill_session(bt_event_borrow_payload_field(bt_message_event_borrow_event(m)), &s);
	push(o, m);
	after_event(o, v, ns, true);
}

/* Time of v's next message, or INT64_MAX when it has nothing left. */
static int64_t vcpu_next_ns(const struct vcpu *v)
{
	if (v->ended)
		return INT64_MAX;
	if (v->have_pair)
		return v->exit_written ? v->resume_ns : v->exit_ns;
	return v->next_ns;
}

/* Write the next message(s) of v; at most 5 messages. */
static void step_vcpu(struct synth *sy, struct out *o, struct vcpu *v)
{
	if (!v->began) {
		push(o, bt_message_stream_beginning_create(o->it, v->stream));
		v->began = true;
		return;
	}
	if (!v->session_started) {
		if (!sy->o.no_session)
			emit_session(sy, o, v, false, v->next_ns);
		v->session_started = true;
		v->next_ns += 500;
		return;
	}
	if (!v->have_pair) {
		if (v->done || !next_pair(sy, v)) {
			v->done = true;
			if (sy->o.dpk_end && v->id == sy->o.edit_vcpu) {
				/*
				 * The END record's packet is lost; a later (empty)
				 * packet shows the packet_seq_num gap.
				 */
				v->lost_packets = 1;
				before_event(sy, o, v, v->next_ns, v->next_ns);
				v->last_ns = v->next_ns;
			} else if (!sy->o.no_session) {
				/* a loss at the very end is reported before the end record */
				emit_session(sy, o, v, true, v->next_ns);
			}
			if (v->packet)
				close_packet(o, v, v->last_ns);
			push(o, bt_message_stream_end_create(o->it, v->stream));
			v->ended = true;
			return;
		}
		v->have_pair = true;
		v->exit_written = false;
		v->exit_ns = v->next_ns;
		v->pair.x.tsc = (uint64_t)v->exit_ns * TSC_PER_NS;
		v->pair.r.tsc = v->pair.x.tsc + v->pair.lat;
		/* who: one thread per vCPU of one process (as a VMM's) */
		v->pair.x.pid = sy->o.pid;
		v->pair.x.tid = sy->o.tid_set ? sy->o.tid : sy->o.pid + v->id;
		memcpy(v->pair.x.comm, sy->o.comm, sizeof(v->pair.x.comm));
		v->pair.x.cpl = (uint8_t)sy->o.cpl;
		/* --alter wins over the computed seq and tsc */
		for (int i = 0; i < v->pair.nalters; i++)
			apply_alter(&v->pair, v->pair.alters[i]);
		v->resume_ns = v->exit_ns + (int64_t)(v->pair.lat / TSC_PER_NS) + 1;
		return;
	}
	if (!v->exit_written) {
		bt_message *m;
		struct hist_row *h;
		uint32_t basic = v->pair.x.exit_reason & HVTRACE_EXIT_REASON_BASIC_MASK;

		before_event(sy, o, v, v->exit_ns, v->resume_ns);
		m = bt_message_event_create_with_packet_and_default_clock_snapshot(
			o->it, sy->ec_exit, v->packet, (uint64_t)v->exit_ns);
		if (!m)
			die("out of memory");
		fill_exit(bt_event_borrow_payload_field(bt_message_event_borrow_event(m)),
			  &v->pair.x);
		fill_extra(sy, bt_event_borrow_payload_field(bt_message_event_borrow_event(m)),
			   &v->pair, false);
		push(o, m);
		after_event(o, v, v->exit_ns, false);
		v->exit_written = true;
		v->emitted++;
		sy->total_emitted++;
		if (basic < HVTRACE_EXIT_REASON_MAX) {
			uint64_t lat = v->pair.r.tsc - v->pair.x.tsc;

			h = &sy->hist[basic];
			if (!h->count || lat < h->min)
				h->min = lat;
			if (lat > h->max)
				h->max = lat;
			h->count++;
			h->total += lat;
		}
		return;
	}
	for (; v->resume_copies > 0; v->resume_copies--) {
		bt_message *m;

		before_event(sy, o, v, v->resume_ns, v->resume_ns);
		m = bt_message_event_create_with_packet_and_default_clock_snapshot(
			o->it, sy->ec_resume, v->packet, (uint64_t)v->resume_ns);
		if (!m)
			die("out of memory");
		fill_resume(bt_event_borrow_payload_field(bt_message_event_borrow_event(m)),
			    &v->pair.r);
		fill_extra(sy, bt_event_borrow_payload_field(bt_message_event_borrow_event(m)),
			   &v->pair, true);
		push(o, m);
		after_event(o, v, v->resume_ns, v->resume_copies == 1);
	}
	v->have_pair = false;
	/* the guest runs until its next exit */
	v->next_ns = v->resume_ns + 150 + (int64_t)rng_below(&v->timing, 4000);
}

static bt_message_iterator_class_next_method_status
synth_next(bt_self_message_iterator *it, bt_message_array_const msgs,
	   uint64_t capacity, uint64_t *count)
{
	struct synth *sy = bt_self_message_iterator_get_data(it);
	struct out o = { .it = it, .msgs = msgs, .cap = capacity, .n = 0 };

	if (sy->finished)
		return BT_MESSAGE_ITERATOR_CLASS_NEXT_METHOD_STATUS_END;
	while (o.n + 6 <= o.cap || (o.n == 0)) {
		struct vcpu *best = NULL;
		int64_t bt = INT64_MAX;

		for (unsigned int i = 0; i < sy->o.vcpus; i++) {
			int64_t t = vcpu_next_ns(&sy->v[i]);

			if (t < bt) {
				bt = t;
				best = &sy->v[i];
			}
		}
		if (!best) {
			sy->finished = true;
			break;
		}
		step_vcpu(sy, &o, best);
		if (o.cap < 6)
			break;
	}
	*count = o.n;
	if (!o.n)
		return BT_MESSAGE_ITERATOR_CLASS_NEXT_METHOD_STATUS_END;
	return BT_MESSAGE_ITERATOR_CLASS_NEXT_METHOD_STATUS_OK;
}

static bt_message_iterator_class_initialize_method_status
synth_iter_init(bt_self_message_iterator *it,
		bt_self_message_iterator_configuration *cfg,
		bt_self_component_port_output *port)
{
	bt_self_component *self = bt_self_message_iterator_borrow_component(it);
	struct synth *sy = bt_self_component_get_data(self);

	(void)cfg;
	(void)port;
	bt_self_message_iterator_set_data(it, sy);
	return BT_MESSAGE_ITERATOR_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

static void init_vcpus(struct synth *sy)
{
	struct opts *o = &sy->o;
	uint64_t wa = 0, w = 0;

	for (size_t k = 0; k < NKINDS; k++) {
		w += o->weight[k];
		if (kinds[k].async)
			wa += o->weight[k];
	}
	for (unsigned int i = 0; i < o->vcpus; i++) {
		struct vcpu *v = &sy->v[i];
		char name[32];

		v->id = i;
		rng_seed(&v->content, o->seed, 0x100 + i);
		rng_seed(&v->async, o->async_seed, 0x200 + i);
		rng_seed(&v->timing, o->seed, 0x300 + i);
		rng_seed(&v->ins, o->seed, 0x400 + i);
		v->n_total = o->exits / o->vcpus + (i < o->exits % o->vcpus);
		v->n_async = v->n_total > 1 ? (v->n_total - 1) * wa / w : 0;
		v->async_left = v->n_async;
		for (int r = 0; r < 16; r++)
			v->g.gpr[r] = mix64(o->seed, 0x600 + i * 16 + (unsigned int)r) >> 16;
		v->g.gpr[4] = GUEST_STACK - 0x100;
		v->g.rip = guest_code;
		v->g.rflags = 0x2;
		v->g.cr0 = 0x80050033;
		v->g.cr3 = 0x10a000 + ((uint64_t)i << 12);
		v->g.cr4 = 0x3706f0;
		v->g.mxcsr = 0x1f80;
		v->g.vtsc = 0x1000000000ull + ((uint64_t)i << 24);
		/* serial: each vCPU starts 1000 s after the one before */
		v->next_ns = 1000 + (int64_t)i * (o->serial ? 1000000000000ll : 37);
		v->stream = bt_stream_create(sy->sc, sy->trace);
		if (!v->stream)
			die("out of memory");
		snprintf(name, sizeof(name), "channel0_%u", i);
		bt_stream_set_name(v->stream, name);
	}
}

static bt_component_class_initialize_method_status
synth_comp_init(bt_self_component_source *self_src,
		bt_self_component_source_configuration *cfg,
		const bt_value *params, void *data)
{
	struct synth *sy = data;
	bt_self_component *self = bt_self_component_source_as_self_component(self_src);
	uint8_t uuid[16];
	uint64_t x = sy->o.seed ^ 0x75756964;

	(void)cfg;
	(void)params;
	bt_self_component_set_data(self, sy);
	if (bt_self_component_source_add_output_port(self_src, "out", NULL, NULL))
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
	build_classes(sy, self);
	sy->trace = bt_trace_create(sy->tc);
	if (!sy->trace)
		die("out of memory");
	bt_trace_set_name(sy->trace, "hvtrace-synth");
	for (int i = 0; i < 16; i += 8) {
		uint64_t r = splitmix64(&x);

		memcpy(uuid + i, &r, 8);
	}
	uuid[6] = (uuid[6] & 0x0f) | 0x40;
	uuid[8] = (uuid[8] & 0x3f) | 0x80;
	bt_trace_set_uuid(sy->trace, uuid);
	bt_trace_set_environment_entry_string(sy->trace, "domain", "kernel");
	bt_trace_set_environment_entry_string(sy->trace, "tracer_name", "lttng-modules");
	bt_trace_set_environment_entry_integer(sy->trace, "tracer_major", 2);
	bt_trace_set_environment_entry_integer(sy->trace, "tracer_minor", 13);
	bt_trace_set_environment_entry_integer(sy->trace, "tracer_patchlevel", 9);
	bt_trace_set_environment_entry_string(sy->trace, "hostname", "hvtrace-synth");
	bt_trace_set_environment_entry_string(sy->trace, "trace_name", "hvtrace-synth");
	init_vcpus(sy);
	return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

/* ------------------------------------------------------------ main */

static void print_bt_error(void)
{
	const bt_error *err = bt_current_thread_take_error();

	if (!err) {
		fprintf(stderr, "hvtrace-synth: babeltrace2 graph failed\n");
		return;
	}
	/* the deepest cause says what went wrong first */
	{
		uint64_t n = bt_error_get_cause_count(err);
		const bt_error_cause *c = bt_error_borrow_cause_by_index(err, n ? n - 1 : 0);

		fprintf(stderr, "hvtrace-synth: writing the trace failed: %s\n",
			n ? bt_error_cause_get_message(c) : "unknown cause");
	}
	bt_error_release(err);
}

static void check_out_dir(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return;
		die("%s: %s", path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		die("%s: exists and is not a directory", path);
	d = opendir(path);
	if (!d)
		die("%s: %s", path, strerror(errno));
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			closedir(d);
			die("%s: exists and is not empty", path);
		}
	closedir(d);
}

static void print_hist(const struct synth *sy)
{
	printf("reason,count,handler_ticks_total,handler_ticks_min,handler_ticks_max\n");
	for (unsigned int r = 0; r < HVTRACE_EXIT_REASON_MAX; r++) {
		const struct hist_row *h = &sy->hist[r];

		if (h->count)
			printf("%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
			       reason_name(r), h->count, h->total, h->min, h->max);
	}
}

int main(int argc, char **argv)
{
	static struct synth sy;
	bt_message_iterator_class *mic;
	bt_component_class_source *cls;
	const bt_plugin *ctf = NULL;
	const bt_component_source *src;
	const bt_component_sink *sink;
	bt_graph *g;
	bt_value *params;
	bt_graph_run_status st;

	parse_args(&sy.o, argc, argv);
	check_out_dir(sy.o.out);
	wide_field = sy.o.wide;
	layout_init(&sy.o);
	if (sy.o.code_base)
		guest_code = sy.o.code_base;
	build_sites(sy.o.seed);

	mic = bt_message_iterator_class_create(synth_next);
	if (!mic || bt_message_iterator_class_set_initialize_method(mic, synth_iter_init))
		die("out of memory");
	cls = bt_component_class_source_create("hvtrace-synth", mic);
	if (!cls || bt_component_class_source_set_initialize_method(cls, synth_comp_init))
		die("out of memory");
	if (bt_plugin_find("ctf", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, &ctf) !=
	    BT_PLUGIN_FIND_STATUS_OK)
		die("babeltrace2's ctf plugin is not installed");
	g = bt_graph_create(0);
	params = bt_value_map_create();
	if (!g || !params ||
	    bt_value_map_insert_string_entry(params, "path", sy.o.out) ||
	    bt_value_map_insert_bool_entry(params, "assume-single-trace", BT_TRUE) ||
	    bt_value_map_insert_bool_entry(params, "quiet", BT_TRUE))
		die("out of memory");
	if (bt_graph_add_source_component_with_initialize_method_data(
		    g, cls, "synth", NULL, &sy, BT_LOGGING_LEVEL_WARNING, &src) !=
	    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		print_bt_error();
		return SYNTH_ERR;
	}
	if (bt_graph_add_sink_component(g,
		    bt_plugin_borrow_sink_component_class_by_name_const(ctf, "fs"),
		    "sink", params, BT_LOGGING_LEVEL_WARNING, &sink) !=
	    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		print_bt_error();
		return SYNTH_ERR;
	}
	if (bt_graph_connect_ports(g,
		    bt_component_source_borrow_output_port_by_index_const(src, 0),
		    bt_component_sink_borrow_input_port_by_index_const(sink, 0), NULL) !=
	    BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
		print_bt_error();
		return SYNTH_ERR;
	}
	do {
		st = bt_graph_run(g);
	} while (st == BT_GRAPH_RUN_STATUS_AGAIN);
	if (st != BT_GRAPH_RUN_STATUS_OK) {
		print_bt_error();
		return SYNTH_ERR;
	}
	for (int i = 0; i < sy.o.drop.n; i++)
		if (!sy.o.drop.e[i].done)
			die("--drop-seq %" PRIu64 ": no such exit on vCPU %u",
			    sy.o.drop.e[i].seq, sy.o.edit_vcpu);
	for (int i = 0; i < sy.o.alter.n; i++)
		if (!sy.o.alter.e[i].done)
			die("--alter %" PRIu64 ": no such exit on vCPU %u",
			    sy.o.alter.e[i].seq, sy.o.edit_vcpu);
	for (int i = 0; i < sy.o.dpk.n; i++)
		if (!sy.o.dpk.e[i].done)
			die("--discarded-packet %" PRIu64 ": no such exit on vCPU %u",
			    sy.o.dpk.e[i].seq, sy.o.edit_vcpu);
	for (int i = 0; i < sy.o.insert.n; i++)
		if (!sy.o.insert.e[i].done)
			die("--insert-at %" PRIu64 ": no such exit on vCPU %u",
			    sy.o.insert.e[i].seq, sy.o.edit_vcpu);
	for (int i = 0; i < sy.o.brk.n; i++)
		if (!sy.o.brk.e[i].done)
			die("--break %s@%" PRIu64 ": no suitable exit on vCPU %u",
			    brk_names[sy.o.brk.e[i].n], sy.o.brk.e[i].seq, sy.o.edit_vcpu);
	if (sy.o.expect_hist)
		print_hist(&sy);
	if (!sy.o.quiet)
		fprintf(stderr, "hvtrace-synth: %" PRIu64 " exits on %u vCPU(s) written to %s\n",
			sy.total_emitted, sy.o.vcpus, sy.o.out);
	bt_graph_put_ref(g);
	bt_value_put_ref(params);
	bt_plugin_put_ref(ctf);
	bt_component_class_source_put_ref(cls);
	bt_message_iterator_class_put_ref(mic);
	return 0;
}
