// SPDX-License-Identifier: GPL-2.0
/* Myers alignment: scripts are valid, minimal, and find known edits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/align.h"

static uint64_t rnd_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* The script must rebuild both sequences and pair only equal keys. */
static void check_script(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
			 const struct hvt_script *s)
{
	size_t ia = 0, ib = 0, d = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct hvt_edit *e = &s->e[i];

		assert_true(e->len > 0);
		switch (e->op) {
		case HVT_EDIT_EQUAL:
			assert_int_equal(e->a_pos, ia);
			assert_int_equal(e->b_pos, ib);
			for (size_t k = 0; k < e->len; k++)
				assert_true(a[ia + k] == b[ib + k]);
			ia += e->len;
			ib += e->len;
			break;
		case HVT_EDIT_DELETE:
			assert_int_equal(e->a_pos, ia);
			ia += e->len;
			d += e->len;
			break;
		case HVT_EDIT_INSERT:
			assert_int_equal(e->b_pos, ib);
			ib += e->len;
			d += e->len;
			break;
		}
	}
	assert_int_equal(ia, na);
	assert_int_equal(ib, nb);
	assert_int_equal(d, s->d);
}

/* Edit distance by dynamic programming over the LCS, for small inputs. */
static size_t dp_distance(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
	size_t *row = calloc(nb + 1, sizeof(*row)), *prev = calloc(nb + 1, sizeof(*prev));
	size_t lcs;

	assert_non_null(row);
	assert_non_null(prev);
	for (size_t i = 1; i <= na; i++) {
		for (size_t j = 1; j <= nb; j++)
			row[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 :
				 (prev[j] > row[j - 1] ? prev[j] : row[j - 1]);
		memcpy(prev, row, (nb + 1) * sizeof(*row));
	}
	lcs = prev[nb];
	free(row);
	free(prev);
	return na + nb - 2 * lcs;
}

static void test_identical_sequences_have_no_edit(void **st)
{
	uint64_t a[500];
	struct hvt_script s = { 0 };

	(void)st;
	for (size_t i = 0; i < 500; i++)
		a[i] = rnd() % 7;
	assert_int_equal(hvt_align(a, 500, a, 500, &s), 0);
	assert_int_equal(s.d, 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.e[0].op, HVT_EDIT_EQUAL);
	assert_int_equal(s.e[0].len, 500);
	hvt_script_free(&s);
}

static void test_empty_inputs(void **st)
{
	uint64_t a[3] = { 1, 2, 3 };
	struct hvt_script s = { 0 };

	(void)st;
	assert_int_equal(hvt_align(a, 0, a, 0, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(hvt_align(a, 3, a, 0, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.e[0].op, HVT_EDIT_DELETE);
	assert_int_equal(s.e[0].len, 3);
	assert_int_equal(hvt_align(a, 0, a, 3, &s), 0);
	assert_int_equal(s.e[0].op, HVT_EDIT_INSERT);
	assert_int_equal(s.d, 3);
	hvt_script_free(&s);
}

/* k elements removed from a copy: exactly those k deletions, nothing else. */
static void test_k_removed_are_k_deletions_at_their_place(void **st)
{
	enum { N = 2000 };
	static uint64_t a[N], b[N];
	const size_t gone[] = { 0, 17, 18, 500, 1999 };
	struct hvt_script s = { 0 };
	size_t nb = 0, g = 0, found = 0;

	(void)st;
	for (size_t i = 0; i < N; i++)
		a[i] = (uint64_t)i * 2654435761u;	/* distinct keys */
	for (size_t i = 0; i < N; i++) {
		if (g < 5 && gone[g] == i) {
			g++;
			continue;
		}
		b[nb++] = a[i];
	}
	assert_int_equal(hvt_align(a, N, b, nb, &s), 0);
	check_script(a, N, b, nb, &s);
	assert_int_equal(s.d, 5);
	for (size_t i = 0; i < s.n; i++) {
		assert_int_not_equal(s.e[i].op, HVT_EDIT_INSERT);
		if (s.e[i].op == HVT_EDIT_DELETE)
			for (size_t k = 0; k < s.e[i].len; k++) {
				size_t pos = s.e[i].a_pos + k;

				assert_true(pos == 0 || pos == 17 || pos == 18 ||
					    pos == 500 || pos == 1999);
				found++;
			}
	}
	assert_int_equal(found, 5);
	hvt_script_free(&s);
}

/* k elements inserted into a copy: exactly k insertions at their place. */
static void test_k_inserted_are_k_insertions(void **st)
{
	enum { N = 1000 };
	static uint64_t a[N], b[N + 3];
	struct hvt_script s = { 0 };
	size_t nb = 0;

	(void)st;
	for (size_t i = 0; i < N; i++) {
		a[i] = 1000 + i;
		if (i == 250 || i == 251 || i == 900)
			b[nb++] = 7;	/* a key that never occurs in a */
		b[nb++] = a[i];
	}
	assert_int_equal(hvt_align(a, N, b, nb, &s), 0);
	check_script(a, N, b, nb, &s);
	assert_int_equal(s.d, 3);
	for (size_t i = 0; i < s.n; i++) {
		assert_int_not_equal(s.e[i].op, HVT_EDIT_DELETE);
		if (s.e[i].op == HVT_EDIT_INSERT)
			assert_true(b[s.e[i].b_pos] == 7);
	}
	hvt_script_free(&s);
}

/* Repetitive keys (loops) still give a minimal script. */
static void test_random_scripts_are_valid_and_minimal(void **st)
{
	uint64_t a[120], b[120];
	struct hvt_script s = { 0 };

	(void)st;
	for (int round = 0; round < 400; round++) {
		size_t na = rnd() % 120, nb = 0, alph = 2 + rnd() % 6;

		for (size_t i = 0; i < na; i++)
			a[i] = rnd() % alph;
		/* b: a with random edits, or unrelated */
		if (round % 5 == 0) {
			nb = rnd() % 120;
			for (size_t i = 0; i < nb; i++)
				b[i] = rnd() % alph;
		} else {
			for (size_t i = 0; i < na && nb < 120; i++) {
				uint64_t r = rnd() % 10;

				if (r == 0)
					continue;
				if (r == 1 && nb < 119)
					b[nb++] = rnd() % alph;
				b[nb++] = a[i];
			}
		}
		assert_int_equal(hvt_align(a, na, b, nb, &s), 0);
		check_script(a, na, b, nb, &s);
		assert_int_equal(s.d, dp_distance(a, na, b, nb));
	}
	hvt_script_free(&s);
}

/* A divergence at a known position: the first edit is there. */
static void test_first_edit_at_known_position(void **st)
{
	uint64_t a[300], b[300];
	struct hvt_script s = { 0 };

	(void)st;
	for (size_t i = 0; i < 300; i++)
		a[i] = b[i] = i % 13;	/* periodic, like a guest loop */
	b[137] = 99;
	assert_int_equal(hvt_align(a, 300, b, 300, &s), 0);
	check_script(a, 300, b, 300, &s);
	assert_int_equal(s.d, 2);
	assert_int_equal(s.e[0].op, HVT_EDIT_EQUAL);
	assert_int_equal(s.e[0].len, 137);
	assert_int_not_equal(s.e[1].op, HVT_EDIT_EQUAL);
	hvt_script_free(&s);
}

/* The resync anchor: the first place where run equal keys agree. */
static void test_anchor_finds_block_end_and_nothing_earlier(void **st)
{
	enum { W = 64, R = 8 };
	uint64_t a[W], b[W];
	size_t i, j;

	(void)st;
	for (size_t k = 0; k < W; k++)
		a[k] = 100 + k % 9;	/* repetitive, like a loop */
	/* b: W - R inserted exits of keys never in a, then a's start */
	for (size_t k = 0; k < W - R; k++)
		b[k] = 1000 + k;
	for (size_t k = W - R; k < W; k++)
		b[k] = a[k - (W - R)];
	assert_int_equal(hvt_align_anchor(a, W, b, W, R, &i, &j), 1);
	assert_int_equal(i, 0);
	assert_int_equal(j, W - R);
	/* one inserted exit more and the block no longer fits the window */
	for (size_t k = 0; k < W - R + 1; k++)
		b[k] = 1000 + k;
	for (size_t k = W - R + 1; k < W; k++)
		b[k] = a[k - (W - R + 1)];
	assert_int_equal(hvt_align_anchor(a, W, b, W, R, &i, &j), 0);
}

static void test_anchor_prefers_smallest_total_offset(void **st)
{
	uint64_t a[40], b[40];
	size_t i, j;

	(void)st;
	for (size_t k = 0; k < 40; k++)
		a[k] = b[k] = k;
	b[3] = 999;			/* a substitution at 3 */
	assert_int_equal(hvt_align_anchor(a, 40, b, 40, 4, &i, &j), 1);
	assert_int_equal(i, 4);		/* a[4..8) == b[4..8), before that b[3] */
	assert_int_equal(j, 4);
	assert_int_equal(hvt_align_anchor(a, 40, b, 40, 3, &i, &j), 1);
	assert_int_equal(i, 0);		/* a[0..3) == b[0..3) */
	assert_int_equal(j, 0);
	assert_int_equal(hvt_align_anchor(a, 2, b, 40, 3, &i, &j), 0);
}


/* ---- the streaming alignment (hvt_salign_step), as diff.c drives it ------ */

/*
 * Runs the same loop as diff.c's advance() over two whole key sequences:
 * lockstep while equal, then windows of up to hvt_salign_window() keys per
 * side.  Counts the result and checks every pair is equal; del[i] / ins[j]
 * mark what was reported missing / inserted.
 */
struct sim {
	size_t equal, missing, inserted;
	struct hvt_salign_stats st;
	unsigned char *del, *ins;
};

static void stream_diff(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
			size_t window, size_t max_window, struct sim *r)
{
	const struct hvt_salign_cfg c = { .window = window, .max_window = max_window, .run = 8 };
	struct hvt_salign st = { 0 };
	struct hvt_script s = { 0 };
	size_t i = 0, j = 0;

	memset(r, 0, sizeof(*r));
	r->del = calloc(na + 1, 1);
	r->ins = calloc(nb + 1, 1);
	assert_non_null(r->del);
	assert_non_null(r->ins);
	for (;;) {
		size_t W, wa, wb;
		int rc, nbnd;

		while (i < na && j < nb && a[i] == b[j]) {
			i++;
			j++;
			r->equal++;
		}
		if (i == na && j == nb)
			break;
		W = hvt_salign_window(&c, &st);
		wa = na - i < W ? na - i : W;
		wb = nb - j < W ? nb - j : W;
		rc = hvt_salign_step(&c, &st, a + i, wa, b + j, wb,
				     na - i <= W && nb - j <= W, &s, &r->st, &nbnd);
		assert_true(rc >= 0);
		if (rc == HVT_SA_GROW) {
			assert_true(hvt_salign_window(&c, &st) > W);
			continue;
		}
		assert_true(s.n > 0);
		for (size_t e = 0; e < s.n; e++)
			for (size_t k = 0; k < s.e[e].len; k++)
				switch (s.e[e].op) {
				case HVT_EDIT_EQUAL:
					assert_true(a[i] == b[j]);
					i++;
					j++;
					r->equal++;
					break;
				case HVT_EDIT_DELETE:
					r->del[i++] = 1;
					r->missing++;
					break;
				case HVT_EDIT_INSERT:
					r->ins[j++] = 1;
					r->inserted++;
					break;
				}
	}
	hvt_script_free(&s);
}

static void sim_free(struct sim *r)
{
	free(r->del);
	free(r->ins);
}

/* Keys like a guest's exits: a few dozen sites, in a random order. */
static void random_keys(uint64_t *k, size_t n, uint64_t base, unsigned int sites)
{
	for (size_t i = 0; i < n; i++)
		k[i] = base + rnd() % sites;
}

/* b = a with blocks of fresh keys inserted before a[at[i]], len[i] long. */
static size_t insert_blocks(uint64_t *b, const uint64_t *a, size_t na, const size_t *at,
			    const size_t *len, size_t nblk)
{
	size_t nb = 0, blk = 0;

	for (size_t i = 0; i <= na; i++) {
		while (blk < nblk && at[blk] == i) {
			random_keys(b + nb, len[blk], 5000 + 1000 * blk, 1000);
			nb += len[blk++];
		}
		if (i < na)
			b[nb++] = a[i];
	}
	return nb;
}

static void check_block(const unsigned char *mark, size_t n, size_t from, size_t len)
{
	for (size_t k = 0; k < n; k++)
		assert_int_equal(mark[k], k >= from && k < from + len);
}

/* The case of issue 9: 3000 exits inserted into a 10,000-exit run. */
static void test_stream_3000_inserted_in_10000_exactly(void **st)
{
	enum { N = 10000, G = 3000 };
	uint64_t *a = malloc(N * sizeof(*a)), *b = malloc((N + G) * sizeof(*b));
	const size_t at[] = { 4000 }, len[] = { G };
	struct sim r;

	(void)st;
	random_keys(a, N, 0, 84);
	assert_int_equal(insert_blocks(b, a, N, at, len, 1), N + G);
	stream_diff(a, N, b, N + G, 2048, 32768, &r);
	assert_int_equal(r.inserted, G);
	assert_int_equal(r.missing, 0);
	assert_int_equal(r.equal, N);
	check_block(r.ins, N + G, 4000, G);
	assert_true(r.st.growths >= 1);
	assert_int_equal(r.st.bound_hits, 0);
	sim_free(&r);
	/* the other way round: 3000 missing, at their place */
	stream_diff(b, N + G, a, N, 2048, 32768, &r);
	assert_int_equal(r.missing, G);
	assert_int_equal(r.inserted, 0);
	check_block(r.del, N + G, 4000, G);
	sim_free(&r);
	free(a);
	free(b);
}

/* Several long gaps, both ways, and gaps at the very start and end. */
static void test_stream_several_gaps_and_gaps_at_the_ends(void **st)
{
	enum { N = 20000 };
	uint64_t *a = malloc(N * sizeof(*a)), *b = malloc((N + 20000) * sizeof(*b));
	const size_t at[] = { 0, 3000, 9000, 15000, N }, len[] = { 2500, 5000, 40, 7000, 3000 };
	size_t nb, total = 0;
	struct sim r;

	(void)st;
	random_keys(a, N, 0, 84);
	nb = insert_blocks(b, a, N, at, len, 5);
	for (size_t k = 0; k < 5; k++)
		total += len[k];
	stream_diff(a, N, b, nb, 2048, 32768, &r);
	assert_int_equal(r.inserted, total);
	assert_int_equal(r.missing, 0);
	assert_int_equal(r.equal, N);
	/* each block reported where it is in b */
	for (size_t k = 0, off = 0; k < 5; k++) {
		for (size_t m = 0; m < len[k]; m++)
			assert_int_equal(r.ins[at[k] + off + m], 1);
		off += len[k];
	}
	sim_free(&r);
	/* deletions: the same blocks missing in the second run */
	stream_diff(b, nb, a, N, 2048, 32768, &r);
	assert_int_equal(r.missing, total);
	assert_int_equal(r.inserted, 0);
	sim_free(&r);
	free(a);
	free(b);
}

/* A polling loop (period 2) that ran 3000 exits longer in one run. */
static void test_stream_longer_polling_loop(void **st)
{
	enum { R1 = 2000, L = 500, G = 3000, R2 = 4000 };
	uint64_t *a = malloc((R1 + L + R2) * sizeof(*a));
	uint64_t *b = malloc((R1 + L + G + R2) * sizeof(*b));
	size_t na = 0, nb = 0;
	struct sim r;

	(void)st;
	random_keys(a, R1, 0, 84);
	memcpy(b, a, R1 * sizeof(*a));
	na = nb = R1;
	for (size_t k = 0; k < L; k++)
		a[na++] = 900 + k % 2;
	for (size_t k = 0; k < L + G; k++)
		b[nb++] = 900 + k % 2;
	random_keys(a + na, R2, 0, 84);
	memcpy(b + nb, a + na, R2 * sizeof(*a));
	na += R2;
	nb += R2;
	stream_diff(a, na, b, nb, 2048, 32768, &r);
	assert_int_equal(r.inserted, G);
	assert_int_equal(r.missing, 0);
	assert_int_equal(r.equal, na);
	sim_free(&r);
	free(a);
	free(b);
}

/*
 * Two polling loops with a few other exits between them; the first ran
 * 3000 exits longer in B.  The second loop's exits also match the first
 * loop's extra iterations: the nearest shared run is a false resync that
 * would report the exits between the loops missing.
 */
static void test_stream_two_loops_no_false_resync(void **st)
{
	enum { R1 = 1500, L1 = 100, Y = 10, L2 = 100, G = 3000, R2 = 3000 };
	size_t n = R1 + L1 + G + Y + L2 + R2;
	uint64_t *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
	uint64_t y[Y];
	size_t na = 0, nb = 0;
	struct sim r;

	(void)st;
	random_keys(a, R1, 0, 84);
	memcpy(b, a, R1 * sizeof(*a));
	na = nb = R1;
	random_keys(y, Y, 0, 84);
	for (size_t k = 0; k < L1; k++)
		a[na++] = 900 + k % 2;
	for (size_t k = 0; k < L1 + G; k++)
		b[nb++] = 900 + k % 2;
	for (size_t k = 0; k < Y; k++)
		a[na++] = b[nb++] = y[k];
	for (size_t k = 0; k < L2; k++)
		a[na++] = b[nb++] = 900 + k % 2;
	random_keys(a + na, R2, 0, 84);
	memcpy(b + nb, a + na, R2 * sizeof(*a));
	na += R2;
	nb += R2;
	stream_diff(a, na, b, nb, 2048, 32768, &r);
	assert_int_equal(r.missing, 0);
	assert_int_equal(r.inserted, G);
	sim_free(&r);
	free(a);
	free(b);
}

/* One changed exit inside a long loop: 1 missing + 1 inserted, no more. */
static void test_stream_change_inside_a_loop(void **st)
{
	enum { N = 12000 };
	uint64_t *a = malloc(N * sizeof(*a)), *b = malloc(N * sizeof(*b));
	struct sim r;

	(void)st;
	for (size_t k = 0; k < N; k++)
		a[k] = b[k] = 900 + k % 3;
	b[5000] = 777;
	stream_diff(a, N, b, N, 2048, 32768, &r);
	assert_int_equal(r.missing, 1);
	assert_int_equal(r.inserted, 1);
	assert_int_equal(r.equal, N - 1);
	sim_free(&r);
	/* the whole run one loop, 2 iterations (6 exits) longer in b */
	b[5000] = a[5000];
	stream_diff(a, N - 6, b, N, 2048, 32768, &r);
	assert_int_equal(r.missing, 0);
	assert_int_equal(r.inserted, 6);
	sim_free(&r);
	free(a);
	free(b);
}

/* Past max_window the step says so, and the difference stays right. */
static void test_stream_bound_hit_is_reported(void **st)
{
	enum { N = 10000, G = 3000 };
	uint64_t *a = malloc(N * sizeof(*a)), *b = malloc((N + G) * sizeof(*b));
	const size_t at[] = { 4000 }, len[] = { G };
	struct sim r;

	(void)st;
	random_keys(a, N, 0, 84);
	insert_blocks(b, a, N, at, len, 1);
	stream_diff(a, N, b, N + G, 256, 1024, &r);
	assert_int_equal(r.st.bound_hits, 1);
	assert_true(r.st.half_steps >= 1);
	assert_int_equal(r.inserted - r.missing, G);
	sim_free(&r);
	/* with room for the gap: exact, no bound */
	stream_diff(a, N, b, N + G, 256, 4096, &r);
	assert_int_equal(r.st.bound_hits, 0);
	assert_int_equal(r.inserted, G);
	assert_int_equal(r.missing, 0);
	sim_free(&r);
	free(a);
	free(b);
}

/* Anchors: unique runs are preferred; orphans are flagged. */
static void test_anchors_unique_and_orphan(void **st)
{
	uint64_t a[64], b[64];
	struct hvt_anchors an;

	(void)st;
	/* a: loop then marker M; b: the loop longer, then M */
	for (size_t k = 0; k < 64; k++)
		a[k] = b[k] = 900 + k % 2;
	for (size_t k = 0; k < 8; k++)
		a[20 + k] = b[40 + k] = 100 + k;
	assert_int_equal(hvt_align_anchors(a, 64, b, 64, 4, &an), 0);
	assert_true(an.found);
	assert_int_equal(an.i + an.j, 0);	/* the loop matches at once */
	assert_true(an.unique);		/* the first gram that holds part of M */
	assert_int_equal(an.ui, 17);
	assert_int_equal(an.uj, 37);
	/* b: a key a never has, then a loop that a also has after it */
	for (size_t k = 0; k < 64; k++)
		a[k] = b[k] = 900 + k % 2;
	a[0] = 555;
	assert_int_equal(hvt_align_anchors(a, 64, b, 64, 4, &an), 0);
	assert_false(an.unique);
	assert_true(an.found);
	assert_int_equal(an.i, 1);
	assert_true(an.orphan);
	/* nothing shared */
	for (size_t k = 0; k < 64; k++)
		b[k] = 3000 + k;
	assert_int_equal(hvt_align_anchors(a, 64, b, 64, 4, &an), 0);
	assert_false(an.found);
	assert_false(an.unique);
}


/*
 * Random runs: a common base with blocks of other exits added to either
 * side at random places, windows far smaller than the blocks: the
 * streaming result is the minimal edit distance (the dynamic program's).
 */
static void test_stream_random_blocks_are_minimal(void **st)
{
	enum { MAXN = 3000 };
	uint64_t *base = malloc(MAXN * sizeof(uint64_t));
	uint64_t *a = malloc(MAXN * sizeof(uint64_t)), *b = malloc(MAXN * sizeof(uint64_t));

	(void)st;
	for (int t = 0; t < 120; t++) {
		size_t nbase = 200 + rnd() % 500, na = 0, nb = 0;
		size_t window = 16 + rnd() % 48;
		uint64_t fresh = 100000 + (uint64_t)t * 10000;
		struct sim r;

		random_keys(base, nbase, 0, 20 + rnd() % 60);
		for (size_t i = 0; i <= nbase; i++) {
			if (rnd() % 150 == 0) {	/* a block on one side */
				size_t len = 1 + rnd() % 400;
				int side = rnd() % 2;

				for (size_t k = 0; k < len && (side ? nb : na) < MAXN - 1; k++) {
					if (side)
						b[nb++] = fresh++;
					else
						a[na++] = fresh++;
				}
			}
			if (i < nbase && na < MAXN && nb < MAXN) {
				a[na++] = base[i];
				b[nb++] = base[i];
			}
		}
		stream_diff(a, na, b, nb, window, 4096, &r);
		assert_int_equal(r.equal + r.missing, na);
		assert_int_equal(r.equal + r.inserted, nb);
		assert_int_equal(r.missing + r.inserted, dp_distance(a, na, b, nb));
		assert_int_equal(r.st.bound_hits, 0);
		sim_free(&r);
	}
	free(base);
	free(a);
	free(b);
}


/* Large inputs with no key in common: everything deleted and inserted, fast. */
static void test_disjoint_large_inputs(void **st)
{
	enum { N = 3000 };
	uint64_t *a = malloc(N * sizeof(*a)), *b = malloc(N * sizeof(*b));
	struct hvt_script s = { 0 };

	(void)st;
	for (size_t k = 0; k < N; k++) {
		a[k] = k % 50;
		b[k] = 1000 + k % 70;
	}
	assert_int_equal(hvt_align(a, N, b, N - 1, &s), 0);
	check_script(a, N, b, N - 1, &s);
	assert_int_equal(s.d, 2 * N - 1);
	assert_int_equal(s.n, 2);
	/* one key in common: Myers again, and minimal */
	b[1234] = a[77];
	assert_int_equal(hvt_align(a, N, b, N, &s), 0);
	check_script(a, N, b, N, &s);
	assert_int_equal(s.d, 2 * N - 2);
	hvt_script_free(&s);
	free(a);
	free(b);
}


/*
 * A run that ends with fewer exits left than resync: they resynchronise on
 * what is left (b went on far past max_window after a's last exit).
 */
static void test_stream_short_tail_of_an_ended_run(void **st)
{
	enum { P = 2000, X = 5000, Q = 100000 };
	uint64_t *a = malloc((P + 1) * sizeof(*a)), *b = malloc((P + X + 1 + Q) * sizeof(*b));
	struct sim r;

	(void)st;
	random_keys(a, P, 0, 84);
	a[P] = 4242;			/* the last exit, once */
	memcpy(b, a, P * sizeof(*a));
	for (size_t k = 0; k < X; k++)
		b[P + k] = 10000 + k;
	b[P + X] = 4242;
	for (size_t k = 0; k < Q; k++)
		b[P + X + 1 + k] = 200000 + k;
	stream_diff(a, P + 1, b, P + X + 1 + Q, 2048, 65536, &r);
	assert_int_equal(r.missing, 0);
	assert_int_equal(r.inserted, X + Q);
	assert_int_equal(r.st.bound_hits, 0);
	sim_free(&r);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical_sequences_have_no_edit),
		cmocka_unit_test(test_empty_inputs),
		cmocka_unit_test(test_k_removed_are_k_deletions_at_their_place),
		cmocka_unit_test(test_k_inserted_are_k_insertions),
		cmocka_unit_test(test_random_scripts_are_valid_and_minimal),
		cmocka_unit_test(test_first_edit_at_known_position),
		cmocka_unit_test(test_anchor_finds_block_end_and_nothing_earlier),
		cmocka_unit_test(test_anchor_prefers_smallest_total_offset),
		cmocka_unit_test(test_anchors_unique_and_orphan),
		cmocka_unit_test(test_stream_3000_inserted_in_10000_exactly),
		cmocka_unit_test(test_stream_several_gaps_and_gaps_at_the_ends),
		cmocka_unit_test(test_stream_longer_polling_loop),
		cmocka_unit_test(test_stream_two_loops_no_false_resync),
		cmocka_unit_test(test_stream_change_inside_a_loop),
		cmocka_unit_test(test_stream_bound_hit_is_reported),
		cmocka_unit_test(test_stream_random_blocks_are_minimal),
		cmocka_unit_test(test_disjoint_large_inputs),
		cmocka_unit_test(test_stream_short_tail_of_an_ended_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
