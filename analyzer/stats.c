// SPDX-License-Identifier: GPL-2.0
/* Streaming latency statistics: see stats.h for the precision contract. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

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
	l->sumsq += (unsigned __int128)v * v;
	l->mean = (double)l->sum / (double)l->n;
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
	dst->sumsq += src->sumsq;
	dst->mean = (double)dst->sum / (double)dst->n;
	return 0;
}

double hvt_lat_stddev(const struct hvt_lat *l)
{
	long double n, mean, var;

	if (!l->n)
		return 0.0;
	n = (long double)l->n;
	mean = (long double)l->sum / n;
	var = (long double)l->sumsq / n - mean * mean;
	return var > 0 ? (double)sqrtl(var) : 0.0;
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
