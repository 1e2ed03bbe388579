// SPDX-License-Identifier: GPL-2.0
/*
 * Myers' O(ND) difference algorithm, linear-space variant: find the middle
 * snake of an optimal edit path by running the greedy search from both
 * ends at once, then solve the two halves recursively.  Each level halves
 * the edit distance, so the recursion is O(log D) deep.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/align.h"

const char *hvt_edit_op_name(enum hvt_edit_op op)
{
	switch (op) {
	case HVT_EDIT_EQUAL:
		return "equal";
	case HVT_EDIT_DELETE:
		return "delete";
	case HVT_EDIT_INSERT:
		return "insert";
	}
	return "?";
}

void hvt_script_free(struct hvt_script *s)
{
	free(s->e);
	memset(s, 0, sizeof(*s));
}

static int emit(struct hvt_script *s, enum hvt_edit_op op, size_t a, size_t b,
		size_t len)
{
	struct hvt_edit *last;

	if (!len)
		return 0;
	if (op != HVT_EDIT_EQUAL)
		s->d += len;
	last = s->n ? &s->e[s->n - 1] : NULL;
	if (last && last->op == op &&
	    (op == HVT_EDIT_INSERT || last->a_pos + last->len == a) &&
	    (op == HVT_EDIT_DELETE || last->b_pos + last->len == b)) {
		last->len += len;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct hvt_edit *e = realloc(s->e, cap * sizeof(*e));

		if (!e)
			return -1;
		s->e = e;
		s->cap = cap;
	}
	s->e[s->n++] = (struct hvt_edit){ .op = op, .a_pos = a, .b_pos = b, .len = len };
	return 0;
}

struct snake {
	ptrdiff_t x, y;		/* start, forward coordinates */
	ptrdiff_t u, v;		/* end */
	ptrdiff_t d;		/* edit distance of the whole problem */
};

/*
 * vf[k + off] is the furthest x reached on diagonal k = x - y going
 * forward; vb the same on the reversed sequences.  Both hold at least
 * 2 * ((n + m + 1) / 2) + 3 entries.
 */
static void middle_snake(const uint64_t *a, ptrdiff_t n, const uint64_t *b,
			 ptrdiff_t m, ptrdiff_t *vf, ptrdiff_t *vb, struct snake *out)
{
	ptrdiff_t delta = n - m, maxd = (n + m + 1) / 2, off = maxd + 1;
	int odd = (int)(delta & 1);

	vf[off + 1] = 0;
	vb[off + 1] = 0;
	for (ptrdiff_t d = 0; d <= maxd; d++) {
		for (ptrdiff_t k = -d; k <= d; k += 2) {
			ptrdiff_t x, y, x0, y0;

			if (k == -d || (k != d && vf[off + k - 1] < vf[off + k + 1]))
				x = vf[off + k + 1];
			else
				x = vf[off + k - 1] + 1;
			y = x - k;
			x0 = x;
			y0 = y;
			while (x < n && y < m && a[x] == b[y]) {
				x++;
				y++;
			}
			vf[off + k] = x;
			/* reverse diagonal delta - k was reached in round d - 1 */
			if (odd && k >= delta - (d - 1) && k <= delta + (d - 1) &&
			    x + vb[off + delta - k] >= n) {
				*out = (struct snake){ x0, y0, x, y, 2 * d - 1 };
				return;
			}
		}
		for (ptrdiff_t k = -d; k <= d; k += 2) {
			ptrdiff_t x, y, x0, y0;

			if (k == -d || (k != d && vb[off + k - 1] < vb[off + k + 1]))
				x = vb[off + k + 1];
			else
				x = vb[off + k - 1] + 1;
			y = x - k;
			x0 = x;
			y0 = y;
			while (x < n && y < m && a[n - 1 - x] == b[m - 1 - y]) {
				x++;
				y++;
			}
			vb[off + k] = x;
			if (!odd && delta - k >= -d && delta - k <= d &&
			    x + vf[off + delta - k] >= n) {
				*out = (struct snake){ n - x, m - y, n - x0, m - y0, 2 * d };
				return;
			}
		}
	}
	/* unreachable: the paths meet by round maxd */
	*out = (struct snake){ 0, 0, 0, 0, n + m };
}

static int diff_rec(const uint64_t *a, size_t a0, size_t n, const uint64_t *b,
		    size_t b0, size_t m, ptrdiff_t *vf, ptrdiff_t *vb,
		    struct hvt_script *s)
{
	size_t pre = 0, suf = 0;
	struct snake sn;

	while (pre < n && pre < m && a[pre] == b[pre])
		pre++;
	if (emit(s, HVT_EDIT_EQUAL, a0, b0, pre))
		return -1;
	a += pre;
	b += pre;
	a0 += pre;
	b0 += pre;
	n -= pre;
	m -= pre;
	while (suf < n && suf < m && a[n - 1 - suf] == b[m - 1 - suf])
		suf++;
	n -= suf;
	m -= suf;
	if (!n) {
		if (emit(s, HVT_EDIT_INSERT, a0, b0, m))
			return -1;
	} else if (!m) {
		if (emit(s, HVT_EDIT_DELETE, a0, b0, n))
			return -1;
	} else {
		middle_snake(a, (ptrdiff_t)n, b, (ptrdiff_t)m, vf, vb, &sn);
		if (sn.d <= 1) {
			/* both ends differ here, so d >= 2; keep a safe answer */
			if (emit(s, HVT_EDIT_DELETE, a0, b0, n) ||
			    emit(s, HVT_EDIT_INSERT, a0 + n, b0, m))
				return -1;
		} else {
			size_t x = (size_t)sn.x, y = (size_t)sn.y;
			size_t u = (size_t)sn.u, v = (size_t)sn.v;

			if (diff_rec(a, a0, x, b, b0, y, vf, vb, s) ||
			    emit(s, HVT_EDIT_EQUAL, a0 + x, b0 + y, u - x) ||
			    diff_rec(a + u, a0 + u, n - u, b + v, b0 + v, m - v, vf, vb, s))
				return -1;
		}
	}
	return emit(s, HVT_EDIT_EQUAL, a0 + n, b0 + m, suf);
}

/*
 * Whether a and b share no key at all (then the script is everything
 * deleted and inserted: Myers would take O((na + nb)^2) to find that).
 * -1 when out of memory.
 */
static int disjoint(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
	size_t cap = 16, mask;
	struct { uint64_t k; int used; } *t;
	int rc = 1;

	while (cap < 2 * na)
		cap *= 2;
	mask = cap - 1;
	t = calloc(cap, sizeof(*t));
	if (!t)
		return -1;
	for (size_t i = 0; i < na; i++) {
		size_t h = (size_t)(a[i] ^ a[i] >> 29) & mask;

		while (t[h].used && t[h].k != a[i])
			h = (h + 1) & mask;
		t[h].used = 1;
		t[h].k = a[i];
	}
	for (size_t j = 0; j < nb && rc; j++) {
		size_t h = (size_t)(b[j] ^ b[j] >> 29) & mask;

		while (t[h].used && t[h].k != b[j])
			h = (h + 1) & mask;
		if (t[h].used)
			rc = 0;
	}
	free(t);
	return rc;
}

int hvt_align(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
	      struct hvt_script *s)
{
	size_t sz = 2 * ((na + nb + 1) / 2) + 4;
	ptrdiff_t *vf, *vb;
	int rc;

	s->n = 0;
	s->d = 0;
	if (na && nb && na + nb > 1024) {
		rc = disjoint(a, na, b, nb);
		if (rc < 0)
			return -1;
		if (rc)
			return emit(s, HVT_EDIT_DELETE, 0, 0, na) ||
			       emit(s, HVT_EDIT_INSERT, na, 0, nb) ? -1 : 0;
	}
	vf = malloc(sz * sizeof(*vf));
	vb = malloc(sz * sizeof(*vb));
	if (!vf || !vb) {
		free(vf);
		free(vb);
		return -1;
	}
	rc = diff_rec(a, 0, na, b, 0, nb, vf, vb, s);
	free(vf);
	free(vb);
	return rc;
}

static uint64_t gram_hash(const uint64_t *k, size_t run)
{
	uint64_t h = 0x6a09e667f3bcc908ull;

	for (size_t i = 0; i < run; i++) {
		h ^= k[i] + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 33;
	}
	return h;
}

int hvt_align_anchor(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
		     size_t run, size_t *ip, size_t *jp)
{
	struct slot { uint64_t h; size_t j; int used; } *tab;
	size_t cap = 16, best_i = 0, best_j = 0;
	int found = 0;

	if (!run || na < run || nb < run)
		return 0;
	while (cap < 2 * (nb - run + 1))
		cap *= 2;
	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return -1;
	/* first occurrence in b of each run-long gram */
	for (size_t j = 0; j + run <= nb; j++) {
		uint64_t h = gram_hash(b + j, run);
		size_t s = (size_t)h & (cap - 1);

		while (tab[s].used && tab[s].h != h)
			s = (s + 1) & (cap - 1);
		if (!tab[s].used) {
			tab[s].used = 1;
			tab[s].h = h;
			tab[s].j = j;
		}
	}
	for (size_t i = 0; i + run <= na; i++) {
		uint64_t h;
		size_t s;

		if (found && i >= best_i + best_j)
			break;	/* i + j cannot get smaller */
		h = gram_hash(a + i, run);
		s = (size_t)h & (cap - 1);
		while (tab[s].used && tab[s].h != h)
			s = (s + 1) & (cap - 1);
		if (!tab[s].used)
			continue;
		{
			size_t j = tab[s].j;

			/* a hash collision: look for the keys themselves */
			if (memcmp(a + i, b + j, run * sizeof(*a))) {
				for (j = 0; j + run <= nb; j++)
					if (!memcmp(a + i, b + j, run * sizeof(*a)))
						break;
				if (j + run > nb)
					continue;
			}
			if (!found || i + j < best_i + best_j) {
				best_i = i;
				best_j = j;
				found = 1;
			}
		}
	}
	free(tab);
	if (found) {
		*ip = best_i;
		*jp = best_j;
	}
	return found;
}

/* ---- anchors for the streaming diff ------------------------------------------ */

/* Occurrences of a value (a gram's hash or a key) in a and in b. */
struct occ {
	uint64_t h;
	size_t first[2];	/* first position in a, in b */
	uint32_t cnt[2];	/* saturates */
	int used;
};

struct occtab {
	struct occ *t;
	size_t mask;
};

static int occ_init(struct occtab *o, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	o->t = calloc(cap, sizeof(*o->t));
	o->mask = cap - 1;
	return o->t ? 0 : -1;
}

static struct occ *occ_find(const struct occtab *o, uint64_t h)
{
	size_t s = (size_t)(h ^ h >> 29) & o->mask;

	while (o->t[s].used && o->t[s].h != h)
		s = (s + 1) & o->mask;
	return &o->t[s];
}

static void occ_add(struct occtab *o, uint64_t h, int side, size_t pos)
{
	struct occ *e = occ_find(o, h);

	if (!e->used) {
		e->used = 1;
		e->h = h;
	}
	if (!e->cnt[side])
		e->first[side] = pos;
	if (e->cnt[side] < UINT32_MAX)
		e->cnt[side]++;
}

int hvt_align_anchors(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
		      size_t run, struct hvt_anchors *out)
{
	struct occtab grams = { 0 };
	size_t i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!run || na < run || nb < run)
		return 0;
	if (occ_init(&grams, na + nb))
		goto out;
	for (size_t j = 0; j + run <= nb; j++)
		occ_add(&grams, gram_hash(b + j, run), 1, j);
	for (i = 0; i + run <= na; i++)
		occ_add(&grams, gram_hash(a + i, run), 0, i);
	for (i = 0; i + run <= na; i++) {
		const struct occ *e;
		size_t j;

		if (out->found && out->unique && i >= out->ui + out->uj)
			break;	/* neither sum can get smaller */
		e = occ_find(&grams, gram_hash(a + i, run));
		if (!e->cnt[1])
			continue;
		j = e->first[1];
		if (memcmp(a + i, b + j, run * sizeof(*a))) {
			/* a hash collision: look for the keys themselves */
			for (j = 0; j + run <= nb; j++)
				if (!memcmp(a + i, b + j, run * sizeof(*a)))
					break;
			if (j + run > nb)
				continue;
		} else if (e->cnt[0] == 1 && e->cnt[1] == 1 && e->first[0] == i &&
			   (!out->unique || i + j < out->ui + out->uj)) {
			out->unique = 1;
			out->ui = i;
			out->uj = j;
		}
		if (!out->found || i + j < out->i + out->j) {
			out->found = 1;
			out->i = i;
			out->j = j;
		}
	}
	/* grams that start before the cut, found once on their side, never on the other */
	for (i = 0; out->found && i < out->i && i + run <= na && !out->orphan; i++) {
		const struct occ *e = occ_find(&grams, gram_hash(a + i, run));

		out->orphan = e->cnt[0] == 1 && !e->cnt[1];
	}
	for (i = 0; out->found && i < out->j && i + run <= nb && !out->orphan; i++) {
		const struct occ *e = occ_find(&grams, gram_hash(b + i, run));

		out->orphan = e->cnt[1] == 1 && !e->cnt[0];
	}
	rc = 0;
out:
	free(grams.t);
	return rc;
}

/* ---- the streaming alignment step -------------------------------------------- */

size_t hvt_salign_window(const struct hvt_salign_cfg *c, const struct hvt_salign *st)
{
	return st->win ? st->win : c->window;
}

int hvt_salign_step(const struct hvt_salign_cfg *c, struct hvt_salign *st,
		    const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
		    int final, struct hvt_script *out, struct hvt_salign_stats *stats,
		    int *new_bound)
{
	size_t W = hvt_salign_window(c, st), ai, bj, run;
	struct hvt_anchors an;
	int can_grow = !final && W < c->max_window;

	*new_bound = 0;
	stats->windows++;
	/* one run has ended with nothing left: the rest of the other is edits */
	if (!na || !nb)
		can_grow = 0;
	/*
	 * Cut where run equal keys follow each other in both runs: at a run
	 * found once on each side if there is one (inside a polling loop any
	 * iteration matches any other), else at the nearest shared run, unless
	 * the exits before it include one that the other run has not shown
	 * yet: then, as when nothing is shared, look further (the window
	 * doubles) while the bound allows.
	 */
	/*
	 * A run that has ended with fewer than run exits left (na < W only
	 * when it has ended) can only resynchronise on what it has left.
	 */
	run = c->run;
	if (na && na < W && na < run)
		run = na;
	if (nb && nb < W && nb < run)
		run = nb;
	if (hvt_align_anchors(a, na, b, nb, run, &an))
		return -1;
	if (an.unique) {
		ai = an.ui;
		bj = an.uj;
	} else if (an.found && (!an.orphan || !can_grow)) {
		ai = an.i;
		bj = an.j;
	} else if (can_grow) {
		st->win = W * 2 < c->max_window ? W * 2 : c->max_window;
		stats->growths++;
		return HVT_SA_GROW;
	} else if (final || !na || !nb) {
		ai = na;
		bj = nb;
	} else {
		/*
		 * max_window keys of each run share no run of resync: the bound
		 * is hit.  Commit the first half of this window's minimal script
		 * and slide on; the caller says so, since a block longer than the
		 * window may show as missing plus inserted exits there.
		 */
		if (!st->bound) {
			st->bound = 1;
			stats->bound_hits++;
			*new_bound = 1;
		}
		stats->half_steps++;
		/*
		 * Nothing to pair on: the first half of each window is reported
		 * missing and inserted as it is (Myers over max_window exits
		 * that share no run would cost O(W^2) and pair exits only by
		 * chance).
		 */
		out->n = 0;
		out->d = 0;
		if (emit(out, HVT_EDIT_DELETE, 0, 0, (na + 1) / 2) ||
		    emit(out, HVT_EDIT_INSERT, (na + 1) / 2, 0, (nb + 1) / 2))
			return -1;
		return HVT_SA_HALF;
	}
	if (hvt_align(a, ai, b, bj, out))
		return -1;
	st->win = 0;
	st->bound = 0;
	return HVT_SA_CUT;
}
