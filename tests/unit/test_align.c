// SPDX-License-Identifier: GPL-2.0
/* Myers alignment: scripts are valid, minimal, and find known edits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "align.h"

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
