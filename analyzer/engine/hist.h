/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exit histogram's engine (engine/hist.c): accumulation of exits into
 * groups with their handler-latency statistics, per-vCPU seq and pairing
 * checks, warnings, and the parallel read that fills it.  The hist verb
 * (verbs/hist_cmd.c) and the babeltrace2 plugin sort and print its result.
 */
#ifndef HVT_ENGINE_HIST_H
#define HVT_ENGINE_HIST_H

#include <stddef.h>
#include <stdint.h>

#include "decode/reader.h"
#include "engine/stats.h"
#include "engine/who.h"
#include "vmx/qual.h"

/* What an exit is grouped by. */
enum hvt_hist_by { HVT_BY_REASON, HVT_BY_QUAL, HVT_BY_RIP, HVT_BY_VCPU, HVT_BY_VM,
		  HVT_BY_PID, HVT_BY_COMM };

#define HVT_HIST_MAX_WARNINGS 64		/* kept in detail; the rest only counted */
#define HVT_HIST_MAX_RUNS 16		/* runs described in the header */
#define HVT_HIST_MAX_UNVERSIONED 16	/* traces without session records, named */
/*
 * A handler latency (resume.tsc - exit.tsc) above this many TSC cycles per
 * ns of the tracer's clock between the two events (plus 1 ms), or above
 * 2^48 cycles when the events have no time, is not believable: no CPU
 * counts 16 cycles per ns.  Such resumes are left out of the times.
 */
#define HVT_HIST_WILD_CYCLES_PER_NS 16
#define HVT_HIST_WILD_SLACK_NS 1000000
#define HVT_HIST_WILD_NO_CLOCK (UINT64_C(1) << 48)


/* ---- accumulation ------------------------------------------------------ */

struct hvt_hist_group {
	uint32_t reason;	/* basic | entry-failure bit */
	uint64_t key;		/* qual key, RIP or vCPU, by mode */
	struct hvt_qual q;	/* of the group's first exit (labels) */
	uint64_t rip;
	uint32_t vcpu;
	/* --by vm, pid, comm: who the group's first exit names */
	uint32_t trace, vm, vm_pid, pid;
	char comm[HVTRACE_COMM_LEN + 1];
	uint64_t count;
	struct hvt_lat lat;
};

/* A vCPU: (trace, VM, vCPU id); under KVM each VM has its own vCPU 0. */
struct hvt_hist_vcpu {
	uint32_t trace, vm, vcpu;
	uint32_t stream;
	int have_seq, pending;
	uint64_t last_seq;
	uint64_t pend_seq, pend_tsc;
	int64_t pend_ns;
	size_t pend_group;
	uint64_t exits;
};

struct hvt_hist_warning {
	enum { HVT_HIST_W_DISCARDED, HVT_HIST_W_SEQ_GAP, HVT_HIST_W_SEQ_BACK } kind;
	char stream[200];
	uint32_t vcpu;
	uint64_t count, first, last;	/* gap: missing seq range */
	uint64_t packets;		/* discarded: whole packets lost */
	int64_t begin_ns, end_ns;
};

/* A workload run, from its hvtrace_session records. */
struct hvt_hist_run {
	uint32_t trace;
	uint64_t run_id, seed, iterations, dropped;
	char workload[sizeof(((struct hvtrace_session_rec *)0)->workload) + 1];
	char module[sizeof(((struct hvtrace_session_rec *)0)->module_version) + 1];
	int ended;
	int32_t status;
};

struct hvt_hist_acc {
	const struct hvt_reader *r;
	enum hvt_hist_by by;
	int time_ns;		/* latencies from event times, not TSC */
	int64_t vcpu_filter;	/* -1: every vCPU */
	/*
	 * --vm, --pid, --comm (who.filters), the VMs and schema versions the
	 * session records give.  Exits the filters leave out still go through
	 * the seq and pairing checks, and are counted in filtered_exits.
	 */
	struct hvt_who who;
	uint64_t filtered_exits;

	struct hvt_hist_group *groups;
	size_t ngroups, cap_groups;
	uint32_t *slots;	/* open addressing: group index + 1, 0 empty */
	size_t nslots;

	struct hvt_hist_vcpu *vcpus;
	size_t nvcpus, cap_vcpus, last_vcpu;

	uint64_t events, exits, resumes, sessions, unmatched_resumes, other_events;
	uint64_t no_resume, negative_latency, wild_latency;
	uint64_t discarded, discarded_packets, discarded_records, seq_missing, seq_gaps,
		 seq_back;
	int64_t first_ns, last_ns;
	int have_ts;
	int threads;		/* decoding threads used */
	struct hvt_lat total;

	struct hvt_hist_run runs[HVT_HIST_MAX_RUNS];
	size_t nruns;
	uint64_t runs_omitted;

	/*
	 * The HVT_HIST_MAX_WARNINGS first warnings in (time, stream, ...) order: each
	 * part of a parallel read keeps its own first ones, so the merge
	 * keeps the same ones whatever the number of parts.
	 */
	struct hvt_hist_warning warnings[HVT_HIST_MAX_WARNINGS];
	size_t nwarnings;
	uint64_t warnings_dropped;

	uint32_t unversioned[HVT_HIST_MAX_UNVERSIONED];	/* traces without session records */
	size_t nunversioned;
	uint64_t unversioned_omitted;
};


/* What to read and how to group it. */
struct hvt_hist_params {
	const char *const *paths;
	size_t npaths;
	enum hvt_hist_by by;
	int time_ns;		/* latencies from event times, not TSC */
	int64_t vcpu;		/* -1: every vCPU */
	const struct hvt_who *who;	/* NULL, or its --vm/--pid/--comm filters */
	/*
	 * NULL, or called now and then with the events read so far and the
	 * threads reading them, and once with (0, 0) when the read is over.
	 */
	void (*progress)(uint64_t events, unsigned int threads);
};

/* Set up an empty accumulator (the plugin feeds it event by event). */
void hvt_hist_acc_init(struct hvt_hist_acc *h, enum hvt_hist_by by, int time_ns,
		       int64_t vcpu);
/* Take the --vm/--pid/--comm filters of f (NULL: none). */
void hvt_hist_acc_filter(struct hvt_hist_acc *h, const struct hvt_who *f);
/* The reader flags the grouping and filters need. */
unsigned int hvt_hist_read_flags(enum hvt_hist_by by, const struct hvt_who *f);
/* Account one event; -1 when out of memory. */
int hvt_hist_acc_add(struct hvt_hist_acc *h, const struct hvt_event *ev);
/* End of input: pending exits become exits without a resume. */
void hvt_hist_acc_flush(struct hvt_hist_acc *h);
void hvt_hist_acc_free(struct hvt_hist_acc *h);

/* Warnings in (time, stream, ...) order; runs in trace, run order. */
int hvt_hist_cmp_warnings(const void *pa, const void *pb);
void hvt_hist_sort_runs(struct hvt_hist_acc *h);

/*
 * Read the traces in nthreads parts into *h (initialised here).  Returns 0,
 * 1 when the parts overlap (a vCPU spans parts: read again with one), or -1
 * with *err set.  *parts keeps the readers *h refers to until
 * hvt_hist_parts_free().
 */
struct hvt_hist_part;
int hvt_hist_acc_read(const struct hvt_hist_params *o, unsigned int nthreads,
		      struct hvt_hist_acc *h, struct hvt_hist_part **parts,
		      struct hvt_err *err);
void hvt_hist_parts_free(struct hvt_hist_part *parts, unsigned int n);

#endif /* HVT_ENGINE_HIST_H */
