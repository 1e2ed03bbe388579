/* SPDX-License-Identifier: GPL-2.0 */
/* hvtrace hist: options (parsed separately so tests can drive them). */
#ifndef HVT_HIST_H
#define HVT_HIST_H

#include <stddef.h>
#include <stdint.h>

enum hvt_hist_by { HVT_BY_REASON, HVT_BY_QUAL, HVT_BY_RIP, HVT_BY_VCPU };
enum hvt_hist_sort { HVT_SORT_COUNT, HVT_SORT_TIME, HVT_SORT_MEAN, HVT_SORT_MAX,
		     HVT_SORT_NAME };
enum hvt_format { HVT_FMT_TEXT, HVT_FMT_JSON, HVT_FMT_CSV };

struct hvt_hist_opts {
	enum hvt_hist_by by;
	enum hvt_hist_sort sort;
	enum hvt_format format;
	int64_t top;		/* -1: every row */
	int64_t vcpu;		/* -1: every vCPU */
	const char *svg;	/* NULL: no chart */
	int64_t threads;	/* 0: automatic */
	int time_ns;		/* --time ns: latencies from event times */
	int help;
	const char *const *paths;
	size_t npaths;
};

/* 0, or HVT_EXIT_ERROR after printing why. */
int hvt_hist_parse(int argc, char **argv, struct hvt_hist_opts *o);

#endif /* HVT_HIST_H */
