// SPDX-License-Identifier: GPL-2.0
/*
 * Streaming latency statistics: exact count/min/max/sum, mean and stddev
 * against values computed by hand, percentiles within the documented
 * precision of the exact nearest-rank value, merging equal to adding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <cmocka.h>

#include "engine/stats.h"

/*
 * Values near 2^64 (a resume TSC stamped wildly late): the sum and the sum
 * of squares must not wrap.  Two samples 2^64-1000 and 2^64-2000: mean
 * 2^64-1500, population stddev 500, sum 2^65-3000.
 */
static void test_no_overflow(void **state)
{
	const uint64_t a = UINT64_MAX - 999, b = UINT64_MAX - 1999;
	struct hvt_lat l, m, n;
	char buf[48];

	(void)state;
	hvt_lat_init(&l);
	assert_int_equal(hvt_lat_add(&l, a), 0);
	assert_int_equal(hvt_lat_add(&l, b), 0);
	assert_true(l.sum == (unsigned __int128)a + b);
	assert_string_equal(hvt_u128_str(l.sum, buf, sizeof(buf)), "36893488147419100232");
	assert_true(fabs(l.mean - 18446744073709550116.0) / 1.8446744073709552e19 < 1e-15);
	assert_true(fabs(hvt_lat_stddev(&l) - 500.0) < 1e-6);
	assert_int_equal(l.max, a);
	/* merging two halves gives the same */
	hvt_lat_init(&m);
	hvt_lat_init(&n);
	assert_int_equal(hvt_lat_add(&m, a), 0);
	assert_int_equal(hvt_lat_add(&n, b), 0);
	assert_int_equal(hvt_lat_merge(&m, &n), 0);
	assert_true(m.sum == l.sum);
	assert_true(hvt_lat_stddev(&m) == hvt_lat_stddev(&l));
	/* many large samples: still exact (sum of squares past 2^128) */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(hvt_lat_add(&m, UINT64_MAX), 0);
	assert_true(hvt_lat_stddev(&m) > 0 && hvt_lat_stddev(&m) < 1e6);
	assert_string_equal(hvt_u128_str(0, buf, sizeof(buf)), "0");
	hvt_lat_free(&l);
	hvt_lat_free(&m);
	hvt_lat_free(&n);
}

static void test_hand_computed(void **state)
{
	/* 2 4 4 4 5 5 7 9: mean 5, population stddev 2 (textbook example). */
	static const uint64_t v[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	struct hvt_lat l;
	size_t i;

	(void)state;
	hvt_lat_init(&l);
	for (i = 0; i < 8; i++)
		assert_int_equal(hvt_lat_add(&l, v[i]), 0);
	assert_int_equal(l.n, 8);
	assert_int_equal(l.sum, 40);
	assert_int_equal(l.min, 2);
	assert_int_equal(l.max, 9);
	assert_true(fabs(l.mean - 5.0) < 1e-12);
	assert_true(fabs(hvt_lat_stddev(&l) - 2.0) < 1e-12);
	/* Below 64 the buckets are exact: nearest rank of 8 values. */
	assert_int_equal(hvt_lat_percentile(&l, 50), 4);	/* rank 4 */
	assert_int_equal(hvt_lat_percentile(&l, 75), 5);	/* rank 6 */
	assert_int_equal(hvt_lat_percentile(&l, 99), 9);	/* rank 8 */
	assert_int_equal(hvt_lat_percentile(&l, 0), 2);
	hvt_lat_free(&l);
}

static void test_empty_and_single(void **state)
{
	struct hvt_lat l;

	(void)state;
	hvt_lat_init(&l);
	assert_int_equal(hvt_lat_percentile(&l, 50), 0);
	assert_true(hvt_lat_stddev(&l) == 0.0);
	hvt_lat_add(&l, 123456789);
	assert_int_equal(hvt_lat_percentile(&l, 50), 123456789);	/* clamped */
	assert_int_equal(hvt_lat_percentile(&l, 99), 123456789);
	assert_true(hvt_lat_stddev(&l) == 0.0);
	hvt_lat_free(&l);
}

static void test_bucket_width_bound(void **state)
{
	uint64_t v, lo, w;

	(void)state;
	for (v = 0; v < 64; v++) {
		hvt_lat_bucket(v, &lo, &w);
		assert_int_equal(lo, v);
		assert_int_equal(w, 1);
	}
	for (v = 64; v < (1ull << 62); v = v * 3 + 7) {
		hvt_lat_bucket(v, &lo, &w);
		assert_true(lo <= v && v < lo + w);
		assert_true(w * 64 <= lo);	/* at most 1/64 of its values wide */
	}
	hvt_lat_bucket(UINT64_MAX, &lo, &w);
	assert_true(lo <= UINT64_MAX && UINT64_MAX - lo == w - 1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t exact_rank(const uint64_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);

	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

/* Percentiles of a skewed random sample: within 1/128 of the exact value. */
static void test_percentile_precision(void **state)
{
	enum { N = 50000 };
	static const double ps[] = { 1, 10, 50, 90, 99, 99.9 };
	uint64_t *v = malloc(N * sizeof(*v));
	uint64_t x = 88172645463325252ull;
	struct hvt_lat l;
	size_t i, k;

	(void)state;
	assert_non_null(v);
	hvt_lat_init(&l);
	for (i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* log-uniform from 1 to ~2^30: every bucket regime is used */
		v[i] = (x % 1000) + ((x >> 20) % 1000 < 50 ? (x >> 10) % (1u << 30) : 0);
		hvt_lat_add(&l, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	for (k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		uint64_t exact = exact_rank(v, N, ps[k]);
		uint64_t got = hvt_lat_percentile(&l, ps[k]);
		double err = fabs((double)got - (double)exact);

		assert_true(err <= (double)exact / 128.0 + 0.5);
	}
	assert_int_equal(l.min, v[0]);
	assert_int_equal(l.max, v[N - 1]);
	hvt_lat_free(&l);
	free(v);
}

/* Merging two halves gives the statistics of the whole. */
static void test_merge_equals_add(void **state)
{
	struct hvt_lat a, b, all;
	uint64_t i;

	(void)state;
	hvt_lat_init(&a);
	hvt_lat_init(&b);
	hvt_lat_init(&all);
	for (i = 1; i <= 10000; i++) {
		uint64_t v = (i * 2654435761u) % 100000;

		hvt_lat_add(i % 3 ? &a : &b, v);
		hvt_lat_add(&all, v);
	}
	assert_int_equal(hvt_lat_merge(&a, &b), 0);
	assert_int_equal(a.n, all.n);
	assert_int_equal(a.sum, all.sum);
	assert_int_equal(a.min, all.min);
	assert_int_equal(a.max, all.max);
	assert_true(fabs(a.mean - all.mean) < 1e-6);
	assert_true(fabs(hvt_lat_stddev(&a) - hvt_lat_stddev(&all)) < 1e-6);
	assert_int_equal(hvt_lat_percentile(&a, 50), hvt_lat_percentile(&all, 50));
	assert_int_equal(hvt_lat_percentile(&a, 99), hvt_lat_percentile(&all, 99));
	hvt_lat_free(&a);
	hvt_lat_free(&b);
	hvt_lat_free(&all);
}

/* Memory does not grow with the sample count: blocks are per power of two. */
static void test_bounded_memory(void **state)
{
	struct hvt_lat l;
	unsigned int b, used = 0;
	uint64_t i;

	(void)state;
	hvt_lat_init(&l);
	for (i = 0; i < 1000000; i++)
		hvt_lat_add(&l, 1000 + i % 3000);	/* 1000..3999: 3 powers of two */
	for (b = 0; b < HVT_LAT_BLOCKS; b++)
		used += l.block[b] != NULL;
	assert_int_equal(used, 3);
	hvt_lat_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_computed),
		cmocka_unit_test(test_no_overflow),
		cmocka_unit_test(test_empty_and_single),
		cmocka_unit_test(test_bucket_width_bound),
		cmocka_unit_test(test_percentile_precision),
		cmocka_unit_test(test_merge_equals_add),
		cmocka_unit_test(test_bounded_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
