// SPDX-License-Identifier: GPL-2.0
/* Streaming latency statistics: see stats.h for the precision contract. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stats.h"

void hvt_lat_init(struct hvt_lat *l)
{
	memset(l, 0, sizeof(*l));
}

static unsigned int ilog2_u64(uint64_t v)
{
	return 63u - (unsigned int)__builtin_clzll(v);
}

/* Block and slot of a value; block 0 holds 0 .. HVT_LAT_SUB-1 exactly. */
static void locate(uint64_t v, unsigned int *b, unsigned int *s)
{
	unsigned int e;

	if (v < HVT_LAT_SUB) {
		*b = 0;
		*s = (unsigned int)v;
		return;
	}
	e = ilog2_u64(v);
	*b = e - HVT_LAT_SUB_BITS + 1;
	*s = (unsigned int)((v >> (e - HVT_LAT_SUB_BITS)) - HVT_LAT_SUB);
}

static void bounds(unsigned int b, unsigned int s, uint64_t *lo, uint64_t *width)
{
	unsigned int shift;

	if (b == 0) {
		*lo = s;
		*width = 1;
		return;
	}
	shift = b - 1;
	*lo = ((uint64_t)HVT_LAT_SUB + s) << shift;
	*width = (uint64_t)1 << shift;
}

void hvt_lat_bucket(uint64_t v, uint64_t *lo, uint64_t *width)
{
	unsigned int b, s;

	locate(v, &b, &s);
	bounds(b, s, lo, width);
}

static int add_count(struct hvt_lat *l, uint64_t v, uint64_t count)
{
	unsigned int b, s;

	locate(v, &b, &s);
	if (!l->block[b]) {
		l->block[b] = calloc(HVT_LAT_SUB, sizeof(uint64_t));
		if (!l->block[b])
			return -1;
	}
	l->block[b][s] += count;
	return 0;
}

/* sumsq += x (x < 2^128), with the carry into the top limb. */
static void sumsq_add(uint64_t sq[3], unsigned __int128 x)
{
	unsigned __int128 lo = ((unsigned __int128)sq[1] << 64) | sq[0];
	unsigned __int128 r = lo + x;

	if (r < lo)
		sq[2]++;
	sq[0] = (uint64_t)r;
	sq[1] = (uint64_t)(r >> 64);
}

/* a (192 bits) += b (192 bits). */
static void sumsq_merge(uint64_t a[3], const uint64_t b[3])
{
	unsigned __int128 c = 0;

	for (int i = 0; i < 3; i++) {
		c += (unsigned __int128)a[i] + b[i];
		a[i] = (uint64_t)c;
		c >>= 64;
	}
}

int hvt_lat_add(struct hvt_lat *l, uint64_t v)
{
	if (add_count(l, v, 1))
		return -1;
	if (!l->n || v < l->min)
		l->min = v;
	if (!l->n || v > l->max)
		l->max = v;
	l->n++;
	l->sum += v;
	sumsq_add(l->sumsq, (unsigned __int128)v * v);
	l->mean = (double)((long double)l->sum / (long double)l->n);
	return 0;
}

int hvt_lat_merge(struct hvt_lat *dst, const struct hvt_lat *src)
{
	unsigned int b, s;

	if (!src->n)
		return 0;
	for (b = 0; b < HVT_LAT_BLOCKS; b++) {
		if (!src->block[b])
			continue;
		for (s = 0; s < HVT_LAT_SUB; s++) {
			uint64_t lo, w;

			if (!src->block[b][s])
				continue;
			bounds(b, s, &lo, &w);
			if (add_count(dst, lo, src->block[b][s]))
				return -1;
		}
	}
	if (!dst->n || src->min < dst->min)
		dst->min = src->min;
	if (!dst->n || src->max > dst->max)
		dst->max = src->max;
	dst->n += src->n;
	dst->sum += src->sum;
	sumsq_merge(dst->sumsq, src->sumsq);
	dst->mean = (double)((long double)dst->sum / (long double)dst->n);
	return 0;
}

/* Exact n * sumsq - sum^2 (>= 0 by Cauchy-Schwarz), in four 64-bit limbs. */
static void var_numerator(const struct hvt_lat *l, uint64_t out[4])
{
	uint64_t a[4] = { 0 }, b[4] = { 0 };
	unsigned __int128 c = 0, borrow = 0;
	uint64_t s[2] = { (uint64_t)l->sum, (uint64_t)(l->sum >> 64) };
	int i, j;

	/* a = n * sumsq */
	for (i = 0; i < 3; i++) {
		c += (unsigned __int128)l->n * l->sumsq[i];
		a[i] = (uint64_t)c;
		c >>= 64;
	}
	a[3] = (uint64_t)c;
	/* b = sum * sum */
	for (i = 0; i < 2; i++) {
		c = 0;
		for (j = 0; j < 2; j++) {
			c += (unsigned __int128)s[i] * s[j] + b[i + j];
			b[i + j] = (uint64_t)c;
			c >>= 64;
		}
		b[i + 2] += (uint64_t)c;
	}
	for (i = 0; i < 4; i++) {
		unsigned __int128 d = (unsigned __int128)a[i] - b[i] - borrow;

		out[i] = (uint64_t)d;
		borrow = (d >> 64) ? 1 : 0;
	}
	if (borrow)	/* cannot happen; be safe */
		memset(out, 0, 4 * sizeof(out[0]));
}

double hvt_lat_stddev(const struct hvt_lat *l)
{
	uint64_t num[4];
	long double n, var = 0;
	int i;

	if (!l->n)
		return 0.0;
	var_numerator(l, num);
	for (i = 3; i >= 0; i--)
		var = var * 18446744073709551616.0L + (long double)num[i];
	n = (long double)l->n;
	var = var / n / n;
	return var > 0 ? (double)sqrtl(var) : 0.0;
}

char *hvt_u128_str(unsigned __int128 v, char *buf, size_t len)
{
	char tmp[48];
	size_t i = sizeof(tmp);

	tmp[--i] = '\0';
	do {
		tmp[--i] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v && i > 0);
	snprintf(buf, len, "%s", tmp + i);
	return buf;
}

double hvt_lat_sum_double(const struct hvt_lat *l)
{
	return (double)l->sum;
}

uint64_t hvt_lat_percentile(const struct hvt_lat *l, double p)
{
	uint64_t rank, seen = 0;
	unsigned int b, s;

	if (!l->n)
		return 0;
	if (p <= 0)
		return l->min;
	rank = (uint64_t)ceil(p / 100.0 * (double)l->n);
	if (rank < 1)
		rank = 1;
	if (rank >= l->n)
		return l->max;
	for (b = 0; b < HVT_LAT_BLOCKS; b++) {
		if (!l->block[b])
			continue;
		for (s = 0; s < HVT_LAT_SUB; s++) {
			uint64_t lo, w, mid;

			seen += l->block[b][s];
			if (seen < rank)
				continue;
			bounds(b, s, &lo, &w);
			mid = lo + (w - 1) / 2;
			if (mid < l->min)
				mid = l->min;
			if (mid > l->max)
				mid = l->max;
			return mid;
		}
	}
	return l->max;
}

void hvt_lat_free(struct hvt_lat *l)
{
	unsigned int b;

	for (b = 0; b < HVT_LAT_BLOCKS; b++)
		free(l->block[b]);
	memset(l, 0, sizeof(*l));
}
