/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The diff engine: align two runs' exits per vCPU and compare every field
 * of each aligned pair (exit and its resume).
 *
 * Both traces are streamed in lockstep.  While the runs agree, exits are
 * compared pair by pair and dropped.  When the alignment keys (reason,
 * decoded qualification, RIP) disagree, `window` exits of each side are
 * buffered and a resynchronisation point is looked for: a run of `resync`
 * equal keys in both, preferably one that occurs once on each side
 * (align.h, hvt_align_anchors()).  Without one, the window doubles, up to
 * `max_window`; Myers' O(ND) algorithm aligns what comes before the point
 * and the comparison continues in lockstep there.  Only when max_window
 * exits hold no resync run at all is a window committed half at a time,
 * and that is counted (bound_hits) and reported.  Memory is bounded by
 * max_window, not by the trace length.
 */
#ifndef HVT_DIFF_H
#define HVT_DIFF_H

#include <stddef.h>
#include <stdint.h>
#include "hvtrace_events.h"
#include "decode/reader.h"

#define HVT_DIFF_WINDOW_DEFAULT 2048
#define HVT_DIFF_MAX_WINDOW_DEFAULT 65536
#define HVT_DIFF_RESYNC_DEFAULT 8
#define HVT_DIFF_MAX_LIST_DEFAULT 1000

/*
 * Inputs (--inputs): values a guest reads from outside its own computation
 * (IN/INS, RDTSC/RDTSCP, RDRAND/RDSEED, RDPMC, RDMSR, MMIO reads through
 * EPT violations and misconfigurations, APIC page accesses) and where an
 * external interrupt or NMI was injected differ between two boots by
 * nature.  LOOSE: such a difference is an input difference (listed, not a
 * divergence), and register values that differ afterwards on that vCPU
 * are data derived from it (counted, not divergences): only control flow
 * (exits missing or inserted) and state outside the registers (control
 * registers, exit information, injected exceptions) diverge.  STRICT:
 * every difference counts.  AUTO: loose for KVM and host-mode traces (a
 * session record names the backend), strict for the sandbox, whose
 * handlers make every input deterministic.
 */
enum hvt_diff_inputs { HVT_DIFF_INPUTS_AUTO, HVT_DIFF_INPUTS_STRICT, HVT_DIFF_INPUTS_LOOSE };

struct hvt_diff_opts {
	unsigned int window;	/* exits per vCPU and side in one alignment */
	unsigned int max_window; /* the window grows up to this (0: default;
				  * raised to window if below it) */
	unsigned int resync;	/* equal exits in a row that end a divergence */
	int async;		/* compare asynchronous exits too */
	uint64_t max_list;	/* entries kept per list (0: no limit) */
	uint64_t rip_mask;	/* RIP bits in the key: ~0 all (0 is read as
				 * all), 0xfff the page offset (code moved by
				 * whole pages, e.g. a module loaded elsewhere),
				 * HVT_DIFF_RIP_NONE none */
	int progress;		/* a progress line on stderr (a terminal) */
	enum hvt_diff_inputs inputs;
	/*
	 * --pid/--comm: compare the exits of one program only (host mode: two
	 * runs of it among the rest of the machine).  Exits are then compared
	 * per thread, in time order over all CPUs; a side's threads are
	 * numbered in the order they first exit (thread 0 of A against thread
	 * 0 of B), their CPU and seq are left aside, and so is CR3 (two runs
	 * of a program are two processes).
	 */
	int pid_set;		/* --pid given (zero-initialised options: no filter) */
	uint32_t pid[2];	/* A's and B's (two runs get two pids) */
	const char *comm;	/* NULL: any */
};

#define HVT_DIFF_RIP_NONE 1	/* rip_mask value meaning: RIP not in the key */

/*
 * trace: index of the trace within its run's input (vCPU numbers and seq
 * restart in each); trace i of A is compared with trace i of B.
 */

/*
 * vm: under KVM, the VM's number on its side in order of first appearance
 * (0 the first; VM numbers themselves differ between boots), so that each
 * VM's vCPU 0 is a timeline of its own.  0 outside KVM.
 */

/* An exit present in one run only. */
struct hvt_diff_item {
	uint32_t trace;
	uint32_t vm;
	uint32_t vcpu;
	uint64_t seq;
	uint64_t rip;
	char label[112];	/* "CPUID leaf 0x1" */
};

/* One differing field of an aligned pair. */
struct hvt_diff_field {
	uint32_t trace;
	uint32_t vm;
	uint32_t vcpu;
	uint64_t seq_a, seq_b;	/* 0 for session fields */
	char label[112];
	char field[48];		/* "exit.gpr[0]", "resume.values[rax]" */
	char a[72], b[72];
};

struct hvt_diff_ctx {
	char op;		/* '=' aligned, '!' aligned but different,
				 * '-' in A only, '+' in B only */
	uint64_t seq_a, seq_b;
	uint64_t rip;
	char label[112];
};

#define HVT_DIFF_CTX 3

struct hvt_diff_first {
	int valid;
	const char *kind;	/* "field", "missing", "inserted" */
	uint32_t trace;
	uint32_t vm;
	uint32_t vcpu;
	uint64_t seq_a, seq_b;	/* 0 when that side has no exit there */
	struct hvt_diff_field field;	/* kind "field" */
	struct hvt_diff_ctx before[HVT_DIFF_CTX], after[HVT_DIFF_CTX];
	int nbefore, nafter;
	struct hvt_diff_ctx at;
	/* inputs loose: the last input difference of that vCPU before it */
	int has_input;
	struct hvt_diff_field input;
};

struct hvt_diff_side {
	uint64_t exits, resumes;	/* compared (async ones excluded) */
	uint64_t async_skipped;
	uint64_t discarded, discard_records;
	uint64_t discarded_packets;	/* whole packets lost (events unknown) */
	uint32_t unversioned;		/* traces read without any session record */
	uint64_t gaps, gap_exits;	/* seq gaps and exits missing in them */
	uint64_t orphan_resumes, missing_resumes;
	uint32_t vcpus;
	uint32_t traces;		/* CTF traces found in the input */
	uint64_t filtered;		/* exits left out by --pid/--comm */
	uint32_t threads;		/* --pid/--comm: threads compared */
	int loose;			/* a trace of this side has KVM or host inputs */
};

struct hvt_diff_result {
	struct hvt_diff_side side[2];
	uint64_t aligned;		/* pairs compared */
	uint64_t differing_pairs;	/* aligned pairs with a differing field */
	uint64_t field_diffs;
	uint64_t missing;		/* in A only */
	uint64_t inserted;		/* in B only */
	uint64_t session_diffs;
	uint64_t windows;		/* alignments run */
	uint64_t half_steps;		/* windows committed without resync */
	uint64_t growths;		/* windows doubled to find a resync */
	uint64_t bound_hits;		/* divergences that reached max_window
					 * without a resync: aligned half a window
					 * at a time, maybe not minimally */
	uint32_t max_window;		/* the bound in force */
	struct {			/* where the first bound hit began */
		uint32_t trace, vcpu;
		uint64_t seq_a, seq_b;
	} bound_at;
	size_t max_buffered;		/* most exits buffered at once (both sides) */
	int per_vcpu_passes;		/* 1: vCPUs were compared one pass each */
	struct hvt_diff_item *missing_list, *inserted_list;
	size_t n_missing_list, n_inserted_list;
	struct hvt_diff_field *fields;
	size_t n_fields;
	struct hvt_diff_first first;
	/* inputs (see enum hvt_diff_inputs) */
	int inputs_loose;		/* the comparison treated inputs as inputs */
	uint64_t input_diffs;		/* input values or interrupt points differing */
	uint64_t input_pairs;		/* aligned pairs with one */
	uint64_t data_diffs;		/* register values differing after one */
	uint64_t data_pairs;		/* aligned pairs with such values only */
	struct hvt_diff_field *inputs;	/* the input differences (max_list) */
	size_t n_inputs;
	int by_thread;			/* --pid/--comm: keyed by thread */
	uint32_t vms;			/* VMs seen on the side with more (KVM) */
};

struct hvt_diff;

struct hvt_diff *hvt_diff_new(const struct hvt_diff_opts *o);
void hvt_diff_free(struct hvt_diff *d);

/*
 * Ignore a field: "tsc" (every event's), "exit.rip", "resume.values",
 * "session.run_id", "gpr[3]", a GPR name ("rbx": exit.gpr[3]), "xmm[5]".
 * Returns 0, or -1 with msg set when no field has that name.
 */
int hvt_diff_ignore(struct hvt_diff *d, const char *spec, char *msg, size_t len);
/* Undo the default ignores (nondeterministic fields and seq). */
void hvt_diff_clear_ignores(struct hvt_diff *d);
/* The ignored fields as "exit.seq,exit.tsc,...". */
void hvt_diff_ignored(const struct hvt_diff *d, char *buf, size_t len);

/*
 * Run the comparison.  Returns 0 (result filled in), or -1 with err set
 * (unreadable input).
 */
int hvt_diff_run(struct hvt_diff *d, const char *const *a, size_t na,
		 const char *const *b, size_t nb, struct hvt_err *err);
const struct hvt_diff_result *hvt_diff_result(const struct hvt_diff *d);
/* The runs are the same (no edit, no field difference). */
int hvt_diff_same(const struct hvt_diff_result *r);
/* Lost data on either side: the comparison cannot vouch for all exits. */
int hvt_diff_incomplete(const struct hvt_diff_result *r);

/*
 * The exit reads a value from outside the guest: IN/INS, RDTSC(P),
 * RDRAND, RDSEED, RDPMC, RDMSR, an EPT violation for a read, an EPT
 * misconfiguration (KVM's MMIO), an APIC access.
 */
int hvt_diff_is_input(const struct hvtrace_exit_rec *e);

/*
 * --pid/--comm on a side whose traces do not say which thread caused an
 * exit (schema v3): returns the side (1 A, 2 B) and sets *path_index (the
 * trace) and *schema (0: no session record); 0 when both sides say.
 */
int hvt_diff_no_thread(const struct hvt_diff *d, uint32_t *trace, uint32_t *schema);

/* The alignment key of an exit: reason, decoded qualification, RIP. */
uint64_t hvt_diff_key(const struct hvtrace_exit_rec *e);

#endif /* HVT_DIFF_H */
