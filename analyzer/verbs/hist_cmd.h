/* SPDX-License-Identifier: GPL-2.0 */
/* hvtrace hist: options (parsed separately so tests can drive them). */
#ifndef HVT_HIST_CMD_H
#define HVT_HIST_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "engine/hist.h"
#include "engine/who.h"

enum hvt_hist_sort { HVT_SORT_COUNT, HVT_SORT_TIME, HVT_SORT_MEAN, HVT_SORT_MAX,
		     HVT_SORT_NAME };
enum hvt_format { HVT_FMT_TEXT, HVT_FMT_JSON, HVT_FMT_CSV };

struct hvt_hist_opts {
	enum hvt_hist_by by;
	enum hvt_hist_sort sort;
	enum hvt_format format;
	int64_t top;		/* -1: every row */
	int64_t vcpu;		/* -1: every vCPU */
	struct hvt_who who;	/* --vm, --pid, --comm (filters only) */
	const char *svg;	/* NULL: no chart */
	int64_t threads;	/* 0: automatic */
	int time_ns;		/* --time ns: latencies from event times */
	int kvm_events;		/* --kvm-events: the table of lttng-modules' kvm
				 * events (kvm_hist.c), even beside hvtrace's */
	int help;
	const char *const *paths;
	size_t npaths;
};

/* 0, or HVT_EXIT_ERROR after printing why. */
int hvt_hist_parse(int argc, char **argv, struct hvt_hist_opts *o);

/*
 * The histogram fed event by event by another reader of messages (the
 * babeltrace2 plugin): new, add each decoded event, report (warnings on
 * stderr, the result on stdout; returns the exit status), free.
 */
struct hvt_hist;
struct hvt_reader;
struct hvt_event;
struct hvt_hist *hvt_hist_new(const struct hvt_hist_opts *o);
int hvt_hist_add(struct hvt_hist *h, const struct hvt_reader *r, const struct hvt_event *ev);
int hvt_hist_report(struct hvt_hist *h, const struct hvt_reader *r,
		    const struct hvt_hist_opts *o);
void hvt_hist_free(struct hvt_hist *h);

#endif /* HVT_HIST_CMD_H */
