/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The engine behind hist on plain LTTng kvm traces (engine/kvm_stat.c):
 * exits paired with the next entry of the same vCPU thread (or CPU), timed
 * and grouped the way perf kvm stat report does.  verbs/kvm_hist.c sorts
 * and prints.
 */
#ifndef HVT_ENGINE_KVM_STAT_H
#define HVT_ENGINE_KVM_STAT_H

#include <stddef.h>
#include <stdint.h>

#include "decode/reader.h"
#include "engine/hist.h"
#include "engine/stats.h"

#define HVT_KVM_NO_VCPU UINT32_MAX

#define HVT_KVM_NO_VCPU UINT32_MAX

struct hvt_kvm_group {
	uint32_t vcpu;		/* HVT_KVM_NO_VCPU: grouped over every vCPU */
	uint32_t isa, reason;
	uint64_t rip;		/* --by rip */
	uint64_t count;		/* exits, timed or not */
	struct hvt_lat lat;	/* exit-to-entry times, ns */
};

/* An exit waiting for its entry, per pairing key (tid or CPU). */
struct hvt_kvm_pending {
	int64_t key;		/* tid, or -1 - CPU */
	uint32_t trace;		/* keys restart in each trace */
	int used;
	int64_t ts;
	uint32_t isa, reason, vcpu;
	int has_vcpu;
	uint64_t rip;
	int64_t entered;	/* vcpu_id of the last entry here, -1: none */
	uint32_t stream;	/* where the exit was */
};

struct hvt_kvm_stat {
	enum hvt_hist_by by;		/* reason (and rip) or vcpu */
	int64_t vcpu;			/* -1: every vCPU */
	const struct hvt_reader *r;
	struct hvt_kvm_group *g;		/* every (vcpu, isa, reason[, rip]) seen */
	size_t ng, capg;
	struct hvt_kvm_pending *p;
	size_t np, capp;
	uint64_t events, exits, entries, untimed, orphan_entries, negative;
	uint64_t discarded, discard_records, lost_packets, lost_pending;
	uint64_t hvtrace_events;	/* hvtrace's own, beside (--kvm-events) */
	uint32_t *vcpus;
	size_t nvcpus, capv;
	int by_tid, by_cpu;		/* pairing keys met */
	int exit_vcpu;			/* exits carry vcpu_id */
	int64_t first_ns, last_ns;
	int have_ts;
	int svm;
};

/* Account one event (kvm or hvtrace); -1 when out of memory. */
int hvt_kvm_stat_take(struct hvt_kvm_stat *h, const struct hvt_event *ev);
/* An exit still waiting for its entry at the end: counted, untimed. */
int hvt_kvm_stat_flush(struct hvt_kvm_stat *h, struct hvt_kvm_pending *p);
/*
 * The rows, unsorted: groups merged over what the grouping leaves out, and
 * the total.  -1 when out of memory.
 */
int hvt_kvm_stat_rows(const struct hvt_kvm_stat *h, struct hvt_kvm_group **rows,
		      size_t *nrows, struct hvt_lat *total);
void hvt_kvm_rows_free(struct hvt_kvm_group *rows, size_t n);

#endif /* HVT_ENGINE_KVM_STAT_H */
