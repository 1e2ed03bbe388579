// SPDX-License-Identifier: GPL-2.0
/*
 * A small TSDL (CTF 1.8 metadata) reader for the fast decoder; see
 * ctf_meta.h.  Strict: what it does not know is an error, never a guess.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode/ctf_meta.h"

#define MAX_DEPTH 32
#define MAX_META_BYTES (64u << 20)

/* ---- allocation ---------------------------------------------------------- */

static void *m_alloc(struct ct_meta *m, size_t n)
{
	void *p;

	if (m->nallocs == m->cap_allocs) {
		size_t cap = m->cap_allocs ? 2 * m->cap_allocs : 64;
		void **na = realloc(m->allocs, cap * sizeof(*na));

		if (!na)
			return NULL;
		m->allocs = na;
		m->cap_allocs = cap;
	}
	p = calloc(1, n ? n : 1);
	if (p)
		m->allocs[m->nallocs++] = p;
	return p;
}

static char *m_strndup(struct ct_meta *m, const char *s, size_t n)
{
	char *p = m_alloc(m, n + 1);

	if (p)
		memcpy(p, s, n);
	return p;
}

/* Grow an array owned by the arena: a new block, the old one stays listed. */
static void *m_grow(struct ct_meta *m, void *old, size_t n, size_t esize)
{
	void *p = m_alloc(m, (n + 1) * esize);

	if (p && old && n)
		memcpy(p, old, n * esize);
	return p;
}

void ctf_meta_free(struct ct_meta *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nallocs; i++)
		free(m->allocs[i]);
	free(m->allocs);
	free(m);
}

/* ---- lexer ---------------------------------------------------------------- */

enum tok_kind { T_EOF, T_ID, T_NUM, T_STR, T_PUNCT };

struct tok {
	enum tok_kind kind;
	const char *s;		/* T_ID, T_PUNCT: text; T_STR: unescaped copy */
	size_t len;
	uint64_t num;
};

struct parser {
	struct ct_meta *m;
	const char *p, *end;
	struct tok t;		/* current token */
	char *why;
	size_t whylen;
	int failed;
	int depth;
	/* aliases and named declarations */
	struct alias { char *name; struct ct_type *type; } *aliases;
	size_t naliases;
};

static void fail(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = 1;
	va_start(ap, fmt);
	vsnprintf(ps->why, ps->whylen, fmt, ap);
	va_end(ap);
	/* one line: quoted metadata text may hold newlines and tabs */
	for (char *p = ps->why; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = ' ';
}

static void next(struct parser *ps)
{
	const char *p = ps->p;

	ps->t.kind = T_EOF;
	ps->t.s = "";
	ps->t.len = 0;
	if (ps->failed)
		return;
	for (;;) {
		while (p < ps->end && isspace((unsigned char)*p))
			p++;
		if (p + 1 < ps->end && p[0] == '/' && p[1] == '*') {
			const char *q = p + 2;

			while (q + 1 < ps->end && !(q[0] == '*' && q[1] == '/'))
				q++;
			if (q + 1 >= ps->end) {
				fail(ps, "unterminated comment");
				return;
			}
			p = q + 2;
			continue;
		}
		if (p + 1 < ps->end && p[0] == '/' && p[1] == '/') {
			while (p < ps->end && *p != '\n')
				p++;
			continue;
		}
		break;
	}
	if (p >= ps->end || !*p) {
		ps->p = p;
		return;
	}
	if (isalpha((unsigned char)*p) || *p == '_') {
		const char *q = p;

		while (q < ps->end && (isalnum((unsigned char)*q) || *q == '_'))
			q++;
		ps->t.kind = T_ID;
		ps->t.s = p;
		ps->t.len = (size_t)(q - p);
		ps->p = q;
		return;
	}
	if (isdigit((unsigned char)*p)) {
		const char *q = p;
		uint64_t v = 0;
		unsigned int base = 10;

		if (q + 1 < ps->end && q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
			base = 16;
			q += 2;
		} else if (q[0] == '0' && q + 1 < ps->end && isdigit((unsigned char)q[1])) {
			base = 8;
			q++;
		}
		for (; q < ps->end && isxdigit((unsigned char)*q); q++) {
			unsigned int d = isdigit((unsigned char)*q) ? (unsigned int)(*q - '0') :
				(unsigned int)(tolower((unsigned char)*q) - 'a' + 10);

			if (d >= base)
				break;
			if (v > (UINT64_MAX - d) / base) {
				fail(ps, "number too large");
				return;
			}
			v = v * base + d;
		}
		/* integer suffixes (u, l, ul...) */
		while (q < ps->end && (*q == 'u' || *q == 'U' || *q == 'l' || *q == 'L'))
			q++;
		if (q < ps->end && (isalnum((unsigned char)*q) || *q == '.' || *q == '_')) {
			fail(ps, "bad number");
			return;
		}
		ps->t.kind = T_NUM;
		ps->t.num = v;
		ps->t.s = p;
		ps->t.len = (size_t)(q - p);
		ps->p = q;
		return;
	}
	if (*p == '"') {
		const char *q = p + 1;
		char *buf, *o;

		while (q < ps->end && *q != '"') {
			if (*q == '\\' && q + 1 < ps->end)
				q++;
			q++;
		}
		if (q >= ps->end) {
			fail(ps, "unterminated string");
			return;
		}
		buf = m_alloc(ps->m, (size_t)(q - p));
		if (!buf) {
			fail(ps, "out of memory");
			return;
		}
		o = buf;
		for (p++; p < q; p++) {
			if (*p == '\\' && p + 1 < q) {
				p++;
				*o++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
			} else {
				*o++ = *p;
			}
		}
		*o = '\0';
		ps->t.kind = T_STR;
		ps->t.s = buf;
		ps->t.len = (size_t)(o - buf);
		ps->p = q + 1;
		return;
	}
	ps->t.kind = T_PUNCT;
	ps->t.s = p;
	if (p + 1 < ps->end && p[0] == ':' && p[1] == '=')
		ps->t.len = 2;
	else if (p + 2 < ps->end && p[0] == '.' && p[1] == '.' && p[2] == '.')
		ps->t.len = 3;
	else if (strchr("{}()[];:=,.<>-+*", *p))
		ps->t.len = 1;
	else {
		fail(ps, "unexpected character '%c'", isprint((unsigned char)*p) ? *p : '?');
		return;
	}
	ps->p = p + ps->t.len;
}

static int is(struct parser *ps, const char *s)
{
	size_t n = strlen(s);

	return !ps->failed && (ps->t.kind == T_ID || ps->t.kind == T_PUNCT) &&
	       ps->t.len == n && !memcmp(ps->t.s, s, n);
}

static int accept(struct parser *ps, const char *s)
{
	if (!is(ps, s))
		return 0;
	next(ps);
	return 1;
}

static int expect(struct parser *ps, const char *s)
{
	if (accept(ps, s))
		return 1;
	fail(ps, "expected '%s' near '%.*s'", s, (int)(ps->t.len > 40 ? 40 : ps->t.len),
	     ps->t.s);
	return 0;
}

static char *tok_dup(struct parser *ps)
{
	char *s = m_strndup(ps->m, ps->t.s, ps->t.len);

	if (!s)
		fail(ps, "out of memory");
	return s;
}

/* ---- values --------------------------------------------------------------- */

/* A value: number (maybe negative), string, or dotted identifiers. */
struct value {
	int kind;		/* 0 none, 1 number, 2 text */
	int64_t num;		/* as signed; unsigned kept bitwise */
	int negative;
	char text[256];
};

static void parse_value(struct parser *ps, struct value *v)
{
	memset(v, 0, sizeof(*v));
	if (accept(ps, "-")) {
		if (ps->t.kind != T_NUM) {
			fail(ps, "expected a number after '-'");
			return;
		}
		v->kind = 1;
		v->negative = 1;
		v->num = -(int64_t)ps->t.num;
		next(ps);
		return;
	}
	accept(ps, "+");
	if (ps->t.kind == T_NUM) {
		v->kind = 1;
		v->num = (int64_t)ps->t.num;
		next(ps);
		return;
	}
	if (ps->t.kind == T_STR) {
		v->kind = 2;
		snprintf(v->text, sizeof(v->text), "%s", ps->t.s);
		next(ps);
		return;
	}
	if (ps->t.kind == T_ID) {
		size_t n = 0;

		v->kind = 2;
		for (;;) {
			if (ps->t.kind != T_ID || n + ps->t.len + 2 >= sizeof(v->text)) {
				fail(ps, "bad value");
				return;
			}
			memcpy(v->text + n, ps->t.s, ps->t.len);
			n += ps->t.len;
			v->text[n] = '\0';
			next(ps);
			if (!accept(ps, "."))
				break;
			v->text[n++] = '.';
		}
		return;
	}
	fail(ps, "expected a value");
}

static int parse_uuid(const char *s, unsigned char out[16])
{
	int i = 0;

	while (*s && i < 16) {
		unsigned int b;

		if (*s == '-') {
			s++;
			continue;
		}
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) ||
		    sscanf(s, "%2x", &b) != 1)
			return -1;
		out[i++] = (unsigned char)b;
		s += 2;
	}
	return i == 16 && !*s ? 0 : -1;
}

/* ---- types ----------------------------------------------------------------- */

static struct ct_type *parse_type(struct parser *ps);

static struct ct_type *new_type(struct parser *ps, enum ct_kind k)
{
	struct ct_type *t = m_alloc(ps->m, sizeof(*t));

	if (!t) {
		fail(ps, "out of memory");
		return NULL;
	}
	t->kind = k;
	return t;
}

static struct ct_type *find_alias(struct parser *ps, const char *name)
{
	size_t i;

	for (i = ps->naliases; i-- > 0;)
		if (!strcmp(ps->aliases[i].name, name))
			return ps->aliases[i].type;
	return NULL;
}

static void add_alias(struct parser *ps, const char *name, struct ct_type *t)
{
	struct alias *na;

	if (!t || ps->failed)
		return;
	na = m_grow(ps->m, ps->aliases, ps->naliases, sizeof(*na));
	if (!na) {
		fail(ps, "out of memory");
		return;
	}
	ps->aliases = na;
	na[ps->naliases].name = m_strndup(ps->m, name, strlen(name));
	na[ps->naliases].type = t;
	ps->naliases++;
}

static struct ct_type *parse_integer(struct parser *ps)
{
	struct ct_type *t = new_type(ps, CT_INT);
	int have_align = 0;

	if (!t || !expect(ps, "{"))
		return NULL;
	t->bo = CT_BO_NATIVE;
	while (!ps->failed && !accept(ps, "}")) {
		char key[32];
		struct value v;

		if (ps->t.kind != T_ID || ps->t.len >= sizeof(key)) {
			fail(ps, "bad integer attribute");
			return NULL;
		}
		memcpy(key, ps->t.s, ps->t.len);
		key[ps->t.len] = '\0';
		next(ps);
		if (!expect(ps, "="))
			return NULL;
		parse_value(ps, &v);
		if (ps->failed)
			return NULL;
		if (!strcmp(key, "size")) {
			if (v.kind != 1 || v.num < 1 || v.num > 64) {
				fail(ps, "integer size must be 1 to 64 bits");
				return NULL;
			}
			t->size = (unsigned int)v.num;
		} else if (!strcmp(key, "align")) {
			if (v.kind != 1 || v.num < 1 || v.num > 4096 || (v.num & (v.num - 1))) {
				fail(ps, "integer align must be a power of two");
				return NULL;
			}
			t->align = (unsigned int)v.num;
			have_align = 1;
		} else if (!strcmp(key, "signed")) {
			if (v.kind == 1)
				t->is_signed = v.num != 0;
			else if (!strcmp(v.text, "true") || !strcmp(v.text, "TRUE"))
				t->is_signed = 1;
			else if (!strcmp(v.text, "false") || !strcmp(v.text, "FALSE"))
				t->is_signed = 0;
			else {
				fail(ps, "bad signed value");
				return NULL;
			}
		} else if (!strcmp(key, "byte_order")) {
			if (!strcmp(v.text, "le") || !strcmp(v.text, "little"))
				t->bo = CT_BO_LE;
			else if (!strcmp(v.text, "be") || !strcmp(v.text, "big") ||
				 !strcmp(v.text, "network"))
				t->bo = CT_BO_BE;
			else if (!strcmp(v.text, "native"))
				t->bo = CT_BO_NATIVE;
			else {
				fail(ps, "bad byte_order");
				return NULL;
			}
		} else if (!strcmp(key, "encoding")) {
			if (!strcmp(v.text, "UTF8") || !strcmp(v.text, "ASCII") ||
			    !strcmp(v.text, "utf8") || !strcmp(v.text, "ascii"))
				t->encoded = 1;
			else if (!strcmp(v.text, "none"))
				t->encoded = 0;
			else {
				fail(ps, "bad encoding");
				return NULL;
			}
		} else if (!strcmp(key, "map")) {
			/* clock.NAME.value */
			const char *s = v.text;
			size_t n = strlen(s);

			if (v.kind != 2 || strncmp(s, "clock.", 6) || n < 13 ||
			    strcmp(s + n - 6, ".value")) {
				fail(ps, "bad integer map");
				return NULL;
			}
			t->clock = m_strndup(ps->m, s + 6, n - 12);
		} else if (!strcmp(key, "base")) {
			/* display only */
		} else {
			fail(ps, "unknown integer attribute '%s'", key);
			return NULL;
		}
		if (!expect(ps, ";"))
			return NULL;
	}
	if (!t->size) {
		fail(ps, "integer without size");
		return NULL;
	}
	if (!have_align)
		t->align = t->size % 8 ? 1 : 8;
	return t;
}

static struct ct_type *parse_float(struct parser *ps)
{
	struct ct_type *t = new_type(ps, CT_FLOAT);

	if (!t || !expect(ps, "{"))
		return NULL;
	while (!ps->failed && !accept(ps, "}")) {
		struct value v;

		next(ps);
		if (!expect(ps, "="))
			return NULL;
		parse_value(ps, &v);
		if (!expect(ps, ";"))
			return NULL;
	}
	t->align = 8;
	return t;
}

static struct ct_type *parse_string(struct parser *ps)
{
	struct ct_type *t = new_type(ps, CT_STRING);

	if (!t)
		return NULL;
	t->align = 8;
	t->encoded = 1;
	if (accept(ps, "{")) {
		while (!ps->failed && !accept(ps, "}")) {
			struct value v;

			if (!is(ps, "encoding")) {
				fail(ps, "unknown string attribute");
				return NULL;
			}
			next(ps);
			if (!expect(ps, "="))
				return NULL;
			parse_value(ps, &v);
			if (!expect(ps, ";"))
				return NULL;
		}
	}
	return t;
}

/* Identifiers up to (not including) a stop token: an alias name. */
static int alias_words(struct parser *ps, char *buf, size_t len, int keep_last)
{
	const char *save_p;
	struct tok save_t;
	size_t n = 0;
	int words = 0;

	buf[0] = '\0';
	for (;;) {
		if (ps->t.kind != T_ID)
			break;
		if (keep_last) {
			/* look ahead: the last identifier before ; [ : is a name */
			save_p = ps->p;
			save_t = ps->t;
			next(ps);
			if (ps->t.kind != T_ID) {
				ps->p = save_p;
				ps->t = save_t;
				break;
			}
			ps->p = save_p;
			ps->t = save_t;
		}
		if (n + ps->t.len + 2 >= len) {
			fail(ps, "type name too long");
			return -1;
		}
		if (n)
			buf[n++] = ' ';
		memcpy(buf + n, ps->t.s, ps->t.len);
		n += ps->t.len;
		buf[n] = '\0';
		words++;
		next(ps);
	}
	return words;
}

static struct ct_type *alias_type(struct parser *ps, int keep_last)
{
	char name[256];
	struct ct_type *t;

	if (alias_words(ps, name, sizeof(name), keep_last) <= 0) {
		fail(ps, "expected a type near '%.*s'", (int)(ps->t.len > 40 ? 40 : ps->t.len),
		     ps->t.s);
		return NULL;
	}
	t = find_alias(ps, name);
	if (!t)
		fail(ps, "unknown type '%s'", name);
	return t;
}

static struct ct_type *apply_dims(struct parser *ps, struct ct_type *t);
static int parse_fields(struct parser *ps, struct ct_type *st);

static struct ct_type *parse_enum(struct parser *ps)
{
	struct ct_type *t, *base = NULL;
	char tname[300] = "";
	int64_t nextv = 0;

	if (ps->t.kind == T_ID) {
		snprintf(tname, sizeof(tname), "enum %.*s", (int)ps->t.len, ps->t.s);
		next(ps);
		if (!is(ps, ":") && !is(ps, "{")) {
			t = find_alias(ps, tname);
			if (!t)
				fail(ps, "unknown type '%s'", tname);
			return t;
		}
	}
	if (accept(ps, ":")) {
		if (accept(ps, "integer"))
			base = parse_integer(ps);
		else
			base = alias_type(ps, 0);
	} else {
		base = find_alias(ps, "int");
	}
	if (!base || base->kind != CT_INT) {
		fail(ps, "enum without an integer type");
		return NULL;
	}
	t = new_type(ps, CT_ENUM);
	if (!t || !expect(ps, "{"))
		return NULL;
	t->base = base;
	while (!ps->failed && !accept(ps, "}")) {
		struct ct_label *nl;
		struct value lo, hi;
		char *name;

		if (ps->t.kind != T_ID && ps->t.kind != T_STR) {
			fail(ps, "bad enum label");
			return NULL;
		}
		name = tok_dup(ps);
		next(ps);
		lo.num = nextv;
		hi.num = nextv;
		if (accept(ps, "=")) {
			parse_value(ps, &lo);
			if (lo.kind != 1) {
				fail(ps, "bad enum value");
				return NULL;
			}
			hi = lo;
			if (accept(ps, "...")) {
				parse_value(ps, &hi);
				if (hi.kind != 1) {
					fail(ps, "bad enum range");
					return NULL;
				}
			}
		}
		nl = m_grow(ps->m, t->labels, t->nlabels, sizeof(*nl));
		if (!nl) {
			fail(ps, "out of memory");
			return NULL;
		}
		t->labels = nl;
		nl[t->nlabels].name = name;
		nl[t->nlabels].lo = lo.num;
		nl[t->nlabels].hi = hi.num;
		t->nlabels++;
		nextv = hi.num + 1;
		if (!accept(ps, ",") && !is(ps, "}")) {
			fail(ps, "expected ',' in enum");
			return NULL;
		}
	}
	t->size = base->size;
	t->align = base->align;
	t->is_signed = base->is_signed;
	t->bo = base->bo;
	if (tname[0])
		add_alias(ps, tname, t);
	return t;
}

static struct ct_type *parse_struct(struct parser *ps)
{
	char tname[300] = "";
	struct ct_type *t;

	if (ps->t.kind == T_ID) {
		snprintf(tname, sizeof(tname), "struct %.*s", (int)ps->t.len, ps->t.s);
		next(ps);
		if (!is(ps, "{")) {
			t = find_alias(ps, tname);
			if (!t)
				fail(ps, "unknown type '%s'", tname);
			return t;
		}
	}
	t = new_type(ps, CT_STRUCT);
	if (!t || !expect(ps, "{") || parse_fields(ps, t))
		return NULL;
	t->align = 1;
	if (accept(ps, "align")) {
		struct value v;

		if (!expect(ps, "("))
			return NULL;
		parse_value(ps, &v);
		if (v.kind != 1 || v.num < 1 || v.num > 4096 || (v.num & (v.num - 1))) {
			fail(ps, "bad struct align");
			return NULL;
		}
		t->align = (unsigned int)v.num;
		if (!expect(ps, ")"))
			return NULL;
	}
	if (tname[0])
		add_alias(ps, tname, t);
	return t;
}

static struct ct_type *parse_variant(struct parser *ps)
{
	char tname[300] = "";
	struct ct_type *t, *ref = NULL;
	char *tag = NULL;

	if (ps->t.kind == T_ID) {
		snprintf(tname, sizeof(tname), "variant %.*s", (int)ps->t.len, ps->t.s);
		next(ps);
	}
	if (accept(ps, "<")) {
		struct value v;

		parse_value(ps, &v);
		if (v.kind != 2 || !expect(ps, ">")) {
			fail(ps, "bad variant tag");
			return NULL;
		}
		tag = m_strndup(ps->m, v.text, strlen(v.text));
	}
	if (!is(ps, "{")) {
		if (!tname[0]) {
			fail(ps, "variant without fields");
			return NULL;
		}
		ref = find_alias(ps, tname);
		if (!ref || ref->kind != CT_VARIANT) {
			fail(ps, "unknown type '%s'", tname);
			return NULL;
		}
		t = new_type(ps, CT_VARIANT);
		if (!t)
			return NULL;
		*t = *ref;
		if (tag)
			t->tag = tag;
		return t;
	}
	t = new_type(ps, CT_VARIANT);
	if (!t || !expect(ps, "{") || parse_fields(ps, t))
		return NULL;
	t->tag = tag;
	t->align = 1;
	if (tname[0])
		add_alias(ps, tname, t);
	return t;
}

static struct ct_type *parse_type(struct parser *ps)
{
	struct ct_type *t = NULL;

	if (++ps->depth > MAX_DEPTH) {
		fail(ps, "types nested too deeply");
		return NULL;
	}
	if (accept(ps, "integer"))
		t = parse_integer(ps);
	else if (accept(ps, "floating_point"))
		t = parse_float(ps);
	else if (accept(ps, "string"))
		t = parse_string(ps);
	else if (accept(ps, "enum"))
		t = parse_enum(ps);
	else if (accept(ps, "struct"))
		t = parse_struct(ps);
	else if (accept(ps, "variant"))
		t = parse_variant(ps);
	else
		fail(ps, "expected a type near '%.*s'", (int)(ps->t.len > 40 ? 40 : ps->t.len),
		     ps->t.s);
	ps->depth--;
	return t;
}

static int is_type_keyword(struct parser *ps)
{
	return is(ps, "integer") || is(ps, "floating_point") || is(ps, "string") ||
	       is(ps, "enum") || is(ps, "struct") || is(ps, "variant");
}

/* [N] or [path]: arrays and sequences, innermost last. */
static struct ct_type *apply_dims(struct parser *ps, struct ct_type *t)
{
	struct { int seq; uint64_t n; char *name; } dims[8];
	int nd = 0, i;

	while (!ps->failed && accept(ps, "[")) {
		if (nd == 8) {
			fail(ps, "too many dimensions");
			return NULL;
		}
		if (ps->t.kind == T_NUM) {
			dims[nd].seq = 0;
			dims[nd].n = ps->t.num;
			dims[nd].name = NULL;
			next(ps);
		} else {
			struct value v;

			parse_value(ps, &v);
			if (v.kind != 2) {
				fail(ps, "bad array length");
				return NULL;
			}
			dims[nd].seq = 1;
			dims[nd].name = m_strndup(ps->m, v.text, strlen(v.text));
		}
		nd++;
		if (!expect(ps, "]"))
			return NULL;
	}
	/* a[2][3]: an array of 2 arrays of 3 */
	for (i = nd; i-- > 0;) {
		struct ct_type *a = new_type(ps, dims[i].seq ? CT_SEQ : CT_ARRAY);

		if (!a)
			return NULL;
		a->elem = t;
		a->length = dims[i].n;
		a->length_name = dims[i].name;
		a->align = ctf_meta_align(t);
		t = a;
	}
	return t;
}

static int add_member(struct parser *ps, struct ct_type *st, char *name, struct ct_type *t)
{
	struct ct_member *nm = m_grow(ps->m, st->members, st->nmembers, sizeof(*nm));

	if (!nm) {
		fail(ps, "out of memory");
		return -1;
	}
	st->members = nm;
	nm[st->nmembers].name = name;
	nm[st->nmembers].type = t;
	st->nmembers++;
	return 0;
}

/* Field declarations up to the closing brace (consumed). */
static int parse_fields(struct parser *ps, struct ct_type *st)
{
	while (!ps->failed && !accept(ps, "}")) {
		struct ct_type *t;
		char *name;

		if (accept(ps, "typealias")) {
			char an[256];

			t = parse_type(ps);
			if (!expect(ps, ":=") || alias_words(ps, an, sizeof(an), 0) <= 0)
				return -1;
			add_alias(ps, an, t);
			expect(ps, ";");
			continue;
		}
		if (is_type_keyword(ps))
			t = parse_type(ps);
		else
			t = alias_type(ps, 1);
		if (!t || ps->t.kind != T_ID) {
			fail(ps, "expected a field name");
			return -1;
		}
		name = tok_dup(ps);
		next(ps);
		t = apply_dims(ps, t);
		if (!t || add_member(ps, st, name, t) || !expect(ps, ";"))
			return -1;
	}
	return ps->failed ? -1 : 0;
}

/* ---- blocks ------------------------------------------------------------------ */

/* key[.key...] = value;  or  key[.key...] := type; */
struct assign {
	char key[64];
	int is_type;
	struct value v;
	struct ct_type *type;
};

/* 1: one assignment read; 0: end of block (consumed); -1: error */
static int parse_assign(struct parser *ps, struct assign *a)
{
	size_t n = 0;

	memset(a, 0, sizeof(*a));
	if (accept(ps, "}"))
		return 0;
	for (;;) {
		if (ps->t.kind != T_ID || n + ps->t.len + 2 >= sizeof(a->key)) {
			fail(ps, "bad assignment");
			return -1;
		}
		memcpy(a->key + n, ps->t.s, ps->t.len);
		n += ps->t.len;
		a->key[n] = '\0';
		next(ps);
		if (!accept(ps, "."))
			break;
		a->key[n++] = '.';
	}
	if (accept(ps, ":=")) {
		a->is_type = 1;
		if (is_type_keyword(ps))
			a->type = parse_type(ps);
		else
			a->type = alias_type(ps, 0);
		if (a->type)
			a->type = apply_dims(ps, a->type);
	} else if (expect(ps, "=")) {
		parse_value(ps, &a->v);
	}
	if (ps->failed || !expect(ps, ";"))
		return -1;
	return 1;
}

static int u64_value(struct parser *ps, const struct assign *a, uint64_t *out)
{
	if (a->is_type || a->v.kind != 1 || a->v.negative) {
		fail(ps, "%s: expected a number", a->key);
		return -1;
	}
	*out = (uint64_t)a->v.num;
	return 0;
}

static void parse_trace(struct parser *ps)
{
	struct ct_meta *m = ps->m;
	struct assign a;
	int r;

	while ((r = parse_assign(ps, &a)) > 0) {
		uint64_t u;

		if (!strcmp(a.key, "major") && !u64_value(ps, &a, &u))
			m->major = (unsigned int)u;
		else if (!strcmp(a.key, "minor") && !u64_value(ps, &a, &u))
			m->minor = (unsigned int)u;
		else if (!strcmp(a.key, "uuid")) {
			if (a.v.kind != 2 || parse_uuid(a.v.text, m->uuid))
				fail(ps, "bad trace uuid");
			m->has_uuid = 1;
		} else if (!strcmp(a.key, "byte_order")) {
			if (!strcmp(a.v.text, "le"))
				m->bo = CT_BO_LE;
			else if (!strcmp(a.v.text, "be") || !strcmp(a.v.text, "network"))
				m->bo = CT_BO_BE;
			else
				fail(ps, "bad trace byte_order");
		} else if (!strcmp(a.key, "packet.header")) {
			if (!a.type || a.type->kind != CT_STRUCT)
				fail(ps, "packet.header is not a struct");
			m->packet_header = a.type;
		} else if (strcmp(a.key, "major") && strcmp(a.key, "minor")) {
			fail(ps, "unknown trace attribute '%s'", a.key);
		}
	}
}

static void parse_env(struct parser *ps)
{
	struct assign a;

	while (parse_assign(ps, &a) > 0) {
		if (a.v.kind != 2)
			continue;
		if (!strcmp(a.key, "trace_name"))
			ps->m->trace_name = m_strndup(ps->m, a.v.text, strlen(a.v.text));
		else if (!strcmp(a.key, "hostname"))
			ps->m->hostname = m_strndup(ps->m, a.v.text, strlen(a.v.text));
	}
}

static void parse_clock(struct parser *ps)
{
	struct ct_meta *m = ps->m;
	struct ct_clock c, *nc;
	struct assign a;

	memset(&c, 0, sizeof(c));
	c.freq = 1000000000;
	while (parse_assign(ps, &a) > 0) {
		uint64_t u;

		if (!strcmp(a.key, "name")) {
			if (a.v.kind != 2)
				fail(ps, "bad clock name");
			else
				c.name = m_strndup(m, a.v.text, strlen(a.v.text));
		} else if (!strcmp(a.key, "freq")) {
			if (!u64_value(ps, &a, &u)) {
				if (!u)
					fail(ps, "clock frequency 0");
				c.freq = u;
			}
		} else if (!strcmp(a.key, "offset_s")) {
			if (a.v.kind != 1)
				fail(ps, "bad clock offset_s");
			c.offset_s = a.v.num;
		} else if (!strcmp(a.key, "offset")) {
			if (!u64_value(ps, &a, &u))
				c.offset = u;
		} else if (!strcmp(a.key, "uuid")) {
			if (a.v.kind != 2 || parse_uuid(a.v.text, c.uuid))
				fail(ps, "bad clock uuid");
			c.has_uuid = 1;
		} else if (strcmp(a.key, "description") && strcmp(a.key, "precision") &&
			   strcmp(a.key, "absolute")) {
			fail(ps, "unknown clock attribute '%s'", a.key);
		}
	}
	if (ps->failed)
		return;
	if (!c.name) {
		fail(ps, "clock without a name");
		return;
	}
	nc = m_grow(m, m->clocks, m->nclocks, sizeof(*nc));
	if (!nc) {
		fail(ps, "out of memory");
		return;
	}
	m->clocks = nc;
	nc[m->nclocks++] = c;
}

static void parse_stream(struct parser *ps)
{
	struct ct_meta *m = ps->m;
	struct ct_stream s, *ns;
	struct assign a;

	memset(&s, 0, sizeof(s));
	while (parse_assign(ps, &a) > 0) {
		if (!strcmp(a.key, "id")) {
			if (!u64_value(ps, &a, &s.id))
				s.has_id = 1;
		} else if (!strcmp(a.key, "packet.context")) {
			s.packet_context = a.type;
		} else if (!strcmp(a.key, "event.header")) {
			s.event_header = a.type;
		} else if (!strcmp(a.key, "event.context")) {
			s.event_context = a.type;
		} else {
			fail(ps, "unknown stream attribute '%s'", a.key);
		}
	}
	if (ps->failed)
		return;
	ns = m_grow(m, m->streams, m->nstreams, sizeof(*ns));
	if (!ns) {
		fail(ps, "out of memory");
		return;
	}
	m->streams = ns;
	ns[m->nstreams++] = s;
}

static void parse_event(struct parser *ps)
{
	struct ct_meta *m = ps->m;
	struct ct_event e, *ne;
	struct assign a;
	int have_id = 0;

	memset(&e, 0, sizeof(e));
	while (parse_assign(ps, &a) > 0) {
		if (!strcmp(a.key, "name")) {
			if (a.v.kind != 2)
				fail(ps, "bad event name");
			else
				e.name = m_strndup(m, a.v.text, strlen(a.v.text));
		} else if (!strcmp(a.key, "id")) {
			have_id = !u64_value(ps, &a, &e.id);
		} else if (!strcmp(a.key, "stream_id")) {
			u64_value(ps, &a, &e.stream_id);
		} else if (!strcmp(a.key, "fields")) {
			e.fields = a.type;
		} else if (!strcmp(a.key, "context")) {
			e.context = a.type;
		} else if (strcmp(a.key, "loglevel") && strcmp(a.key, "model.emf.uri")) {
			fail(ps, "unknown event attribute '%s'", a.key);
		}
	}
	if (ps->failed)
		return;
	if (!have_id)
		e.id = m->nevents;	/* CTF: ids in order of declaration */
	ne = m_grow(m, m->events, m->nevents, sizeof(*ne));
	if (!ne) {
		fail(ps, "out of memory");
		return;
	}
	m->events = ne;
	ne[m->nevents++] = e;
}

static void skip_block(struct parser *ps)
{
	int depth = 1;

	while (!ps->failed && ps->t.kind != T_EOF && depth) {
		if (is(ps, "{"))
			depth++;
		else if (is(ps, "}"))
			depth--;
		next(ps);
	}
}

struct ct_meta *ctf_meta_parse(const char *text, size_t len, char *why, size_t whylen)
{
	struct parser ps;
	struct ct_meta *m = calloc(1, sizeof(*m));

	if (!m) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	memset(&ps, 0, sizeof(ps));
	ps.m = m;
	ps.p = text;
	ps.end = text + len;
	ps.why = why;
	ps.whylen = whylen;
	m->bo = CT_BO_NATIVE;
	next(&ps);
	while (!ps.failed && ps.t.kind != T_EOF) {
		if (accept(&ps, "typealias")) {
			struct ct_type *t = parse_type(&ps);
			char an[256];

			if (!t || !expect(&ps, ":=") || alias_words(&ps, an, sizeof(an), 0) <= 0)
				break;
			t = apply_dims(&ps, t);
			add_alias(&ps, an, t);
			expect(&ps, ";");
		} else if (accept(&ps, "typedef")) {
			struct ct_type *t = is_type_keyword(&ps) ? parse_type(&ps) :
				alias_type(&ps, 1);
			char *name;

			if (!t || ps.t.kind != T_ID) {
				fail(&ps, "bad typedef");
				break;
			}
			name = tok_dup(&ps);
			next(&ps);
			t = apply_dims(&ps, t);
			add_alias(&ps, name, t);
			expect(&ps, ";");
		} else if (accept(&ps, "trace")) {
			if (expect(&ps, "{"))
				parse_trace(&ps);
			expect(&ps, ";");
		} else if (accept(&ps, "env")) {
			if (expect(&ps, "{"))
				parse_env(&ps);
			expect(&ps, ";");
		} else if (accept(&ps, "clock")) {
			if (expect(&ps, "{"))
				parse_clock(&ps);
			expect(&ps, ";");
		} else if (accept(&ps, "stream")) {
			if (expect(&ps, "{"))
				parse_stream(&ps);
			expect(&ps, ";");
		} else if (accept(&ps, "event")) {
			if (expect(&ps, "{"))
				parse_event(&ps);
			expect(&ps, ";");
		} else if (accept(&ps, "callsite")) {
			if (expect(&ps, "{"))
				skip_block(&ps);
			expect(&ps, ";");
		} else if (is(&ps, "struct") || is(&ps, "enum") || is(&ps, "variant")) {
			parse_type(&ps);
			expect(&ps, ";");
		} else {
			fail(&ps, "unexpected '%.*s' at top level",
			     (int)(ps.t.len > 40 ? 40 : ps.t.len), ps.t.s);
		}
	}
	if (!ps.failed && m->bo == CT_BO_NATIVE)
		fail(&ps, "trace block without byte_order");
	if (!ps.failed && (m->major != 1 || m->minor != 8))
		fail(&ps, "CTF %u.%u, not 1.8", m->major, m->minor);
	if (ps.failed) {
		ctf_meta_free(m);
		return NULL;
	}
	return m;
}

/* ---- the metadata file ---------------------------------------------------- */

static uint32_t rd32(const unsigned char *p, int be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] :
		    (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

#define META_MAGIC 0x75D11D57u
#define META_HDR 37

struct ct_meta *ctf_meta_load(const char *dir, char *why, size_t whylen)
{
	char path[PATH_MAX];
	unsigned char *buf = NULL;
	char *text = NULL;
	size_t n = 0, tlen = 0;
	struct ct_meta *m = NULL;
	struct stat st;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/metadata", dir) >= (int)sizeof(path)) {
		snprintf(why, whylen, "path too long");
		return NULL;
	}
	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) || st.st_size > (off_t)MAX_META_BYTES) {
		snprintf(why, whylen, "cannot read %s", path);
		if (f)
			fclose(f);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		fclose(f);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	if (n >= 4 && (rd32(buf, 0) == META_MAGIC || rd32(buf, 1) == META_MAGIC)) {
		int be = rd32(buf, 1) == META_MAGIC;
		size_t off = 0;

		text = malloc(n + 1);
		if (!text) {
			snprintf(why, whylen, "out of memory");
			goto out;
		}
		while (off < n) {
			uint32_t content, packet;

			if (n - off < META_HDR || rd32(buf + off, be) != META_MAGIC) {
				snprintf(why, whylen, "metadata packet at %zu: bad header", off);
				goto out;
			}
			content = rd32(buf + off + 24, be);
			packet = rd32(buf + off + 28, be);
			if (content % 8 || packet % 8 || content / 8 < META_HDR ||
			    content > packet || packet / 8 > n - off ||
			    buf[off + 32] || buf[off + 33] || buf[off + 34]) {
				snprintf(why, whylen, "metadata packet at %zu: bad sizes or scheme", off);
				goto out;
			}
			memcpy(text + tlen, buf + off + META_HDR, content / 8 - META_HDR);
			tlen += content / 8 - META_HDR;
			off += packet / 8;
		}
	} else {
		text = (char *)buf;
		buf = NULL;
		tlen = n;
	}
	text[tlen] = '\0';
	if (strlen(text) != tlen) {
		snprintf(why, whylen, "metadata holds a NUL byte");
		goto out;
	}
	m = ctf_meta_parse(text, tlen, why, whylen);
out:
	free(buf);
	free(text);
	return m;
}

/* ---- queries --------------------------------------------------------------- */

enum ct_bo ctf_meta_int_bo(const struct ct_meta *m, const struct ct_type *t)
{
	if (t->kind == CT_ENUM)
		t = t->base;
	return t->bo == CT_BO_NATIVE ? m->bo : t->bo;
}

unsigned int ctf_meta_align(const struct ct_type *t)
{
	unsigned int a = t->align ? t->align : 1;
	size_t i;

	if (t->kind == CT_STRUCT)
		for (i = 0; i < t->nmembers; i++) {
			unsigned int ma = ctf_meta_align(t->members[i].type);

			if (ma > a)
				a = ma;
		}
	return a;
}

const char *ctf_meta_name(const char *tsdl_name)
{
	return tsdl_name[0] == '_' ? tsdl_name + 1 : tsdl_name;
}

const struct ct_member *ctf_meta_member(const struct ct_type *st, const char *name)
{
	size_t i;

	if (!st || (st->kind != CT_STRUCT && st->kind != CT_VARIANT))
		return NULL;
	for (i = 0; i < st->nmembers; i++)
		if (!strcmp(ctf_meta_name(st->members[i].name), ctf_meta_name(name)))
			return &st->members[i];
	return NULL;
}
