/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Streaming latency statistics with bounded memory.
 *
 * Count, sum (128 bits), sum of squares (192 bits), min and max are exact
 * integers that cannot overflow (2^64 samples of 2^64-1 each fit), so the
 * mean and the (population) standard deviation computed from them do not
 * depend on the order samples were added or merged in: a parallel read
 * prints exactly what a sequential one does.  The variance is computed as
 * (n * sumsq - sum^2) / n^2 in exact 256-bit integers, then rounded once.  Percentiles come
 * from a log-linear histogram: values below 2^HVT_LAT_SUB_BITS have one
 * bucket each (exact); above, each power of two [2^e, 2^(e+1)) is split in
 * 2^HVT_LAT_SUB_BITS equal buckets, so a bucket is at most 1/64 of its
 * values wide and the percentile reported (the bucket's middle, clamped to
 * [min, max]) is within 1/128 (0.8%) of the exact nearest-rank value.
 * Buckets are allocated one power of two (512 bytes) at a time, when first
 * hit: at most 59 blocks (30 KiB) per series, whatever the sample count.
 */
#ifndef HVT_STATS_H
#define HVT_STATS_H

#include <stddef.h>
#include <stdint.h>

#define HVT_LAT_SUB_BITS 6
#define HVT_LAT_SUB (1u << HVT_LAT_SUB_BITS)
#define HVT_LAT_BLOCKS (64 - HVT_LAT_SUB_BITS + 1)

struct hvt_lat {
	uint64_t n, min, max;
	unsigned __int128 sum;
	uint64_t sumsq[3];	/* 192 bits, least significant limb first */
	double mean;		/* sum / n, kept up to date */
	uint64_t *block[HVT_LAT_BLOCKS];
};

void hvt_lat_init(struct hvt_lat *l);
/* 0, or -1 when a bucket block cannot be allocated (the sample is lost). */
int hvt_lat_add(struct hvt_lat *l, uint64_t v);
/* Add every sample of src to dst (same result as adding them one by one). */
int hvt_lat_merge(struct hvt_lat *dst, const struct hvt_lat *src);
double hvt_lat_stddev(const struct hvt_lat *l);
/* Nearest-rank percentile, p in [0, 100]; 0 when empty. */
uint64_t hvt_lat_percentile(const struct hvt_lat *l, double p);
void hvt_lat_free(struct hvt_lat *l);

/* A 128-bit sum in decimal (at most 39 digits); returns buf. */
char *hvt_u128_str(unsigned __int128 v, char *buf, size_t len);
/* The sum as a double (for percentages and sorting). */
double hvt_lat_sum_double(const struct hvt_lat *l);

/* The bucket v falls in: [*lo, *lo + *width). */
void hvt_lat_bucket(uint64_t v, uint64_t *lo, uint64_t *width);

#endif /* HVT_STATS_H */
