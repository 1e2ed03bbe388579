/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The trace reader: a libbabeltrace2 graph (source.ctf.fs -> muxer -> sink)
 * that turns hvtrace_* CTF events into the plain records of
 * schemas/hvtrace_events.h, pulled one at a time, in time order.
 */
#ifndef HVT_READER_H
#define HVT_READER_H

#include <stddef.h>
#include <stdint.h>
#include "hvtrace_events.h"
#include "decode/kvm_events.h"

enum hvt_ev_type {
	HVT_EV_EXIT,
	HVT_EV_RESUME,
	HVT_EV_SESSION,
	HVT_EV_DISCARDED,	/* the tracer lost events: u.discarded */
	HVT_EV_KVM,		/* plain LTTng kvm event (HVT_READ_KVM): u.kvm */
};

struct hvt_event {
	enum hvt_ev_type type;
	uint32_t stream;	/* index into hvt_reader_stream_name() */
	int64_t ts_ns;		/* default clock, ns from origin; 0 if none */
	union {
		struct hvtrace_exit_rec exit;
		struct hvtrace_resume_rec resume;
		struct hvtrace_session_rec session;
		struct hvt_kvm_rec kvm;
		struct {
			uint64_t count;		/* 0 when the tracer did not say */
			/*
			 * Whole packets lost (a packet_seq_num gap): the
			 * events they held are not known (count is then 0).
			 * 0 for a discarded-events record.
			 */
			uint64_t packets;
			int64_t begin_ns, end_ns;
		} discarded;
	} u;
};

/* Open flags. */
/*
 * HVT_READ_KEYS_ONLY: exit: vcpu seq exit_reason rip tsc, plus what the
 * reason's qualification decoding needs (qual.h): exit_qual (I/O, CR, DR,
 * EPT, task switch, INVLPG), gpr[0..1] (CPUID, MSR, VMCALL), intr_info
 * (exception), guest_phys and guest_linear (EPT); resume: vcpu seq action
 * tsc; session: all.  Everything else reads as zero.
 */
#define HVT_READ_KEYS_ONLY 0x1
/*
 * HVT_READ_NO_XMM: exit: everything but xmm[] (its contents are then
 * unspecified).  For readers that never look at vector state, such as
 * replay --check: XMM0-15 are half of an exit's integers.
 */
#define HVT_READ_NO_XMM 0x2
/*
 * HVT_READ_KVM: also return plain LTTng kvm events (kvm_x86_exit,
 * kvm_x86_entry, kvm_exit, kvm_entry: kvm_events.h) as HVT_EV_KVM, and
 * accept traces that hold only those.  Without it, such a trace fails to
 * open with one line saying it carries no register state.
 */
#define HVT_READ_KVM 0x4
/*
 * HVT_READ_WHO: with HVT_READ_KEYS_ONLY, exits also carry who caused them:
 * vm (schema v2), pid, tid, comm, cpl (schema v3); zero and empty in older
 * traces.  For hist --by vm|pid|comm and its filters, at keys-only speed.
 */
#define HVT_READ_WHO 0x8

/* The traces hold plain kvm events and no hvtrace events at all. */
struct hvt_reader;
int hvt_reader_kvm_only(const struct hvt_reader *r);

struct hvt_err {
	char msg[512];		/* one line, no trailing newline */
};

struct hvt_reader;

/*
 * Open one or more inputs: a CTF trace folder (holds "metadata"), or any
 * folder below which such traces are found (an LTTng session output).
 * Returns NULL with err->msg set when an input is missing, holds no CTF
 * trace, has no hvtrace events, or has a schema version this build does
 * not know.
 */
struct hvt_reader *hvt_reader_open(const char *const *paths, size_t npaths,
				   unsigned int flags, struct hvt_err *err);

/*
 * Parallel reading: the stream files of the traces are split in nparts
 * groups (whole streams, balanced by size; the split is the same for every
 * part), and this reader reads part `part` only, through a folder of links
 * it removes at close.  Events are in time order within the part; each
 * stream (an LTTng per-CPU buffer, hence each vCPU of a sandbox run) lives
 * in exactly one part.  Run one reader per thread and merge the results.
 * hvt_reader_max_parts() says how many parts make sense (the number of
 * streams; 1 when the traces cannot be split).
 */
struct hvt_reader *hvt_reader_open_part(const char *const *paths, size_t npaths,
					unsigned int flags, unsigned int part,
					unsigned int nparts, struct hvt_err *err);
unsigned int hvt_reader_max_parts(const char *const *paths, size_t npaths);

/* 1: *ev filled; 0: end of trace; -1: error (err->msg set, e.g. corrupt). */
int hvt_reader_next(struct hvt_reader *r, struct hvt_event *ev,
		    struct hvt_err *err);

const char *hvt_reader_stream_name(const struct hvt_reader *r, uint32_t stream);
uint32_t hvt_reader_stream_count(const struct hvt_reader *r);

/*
 * Which trace a stream belongs to (the index of its folder in
 * hvt_reader_trace_path(), the same in every part of a parallel read):
 * vCPU numbers and seq restart in each trace, so per-vCPU state is keyed by
 * (trace, vcpu) when several traces are read together.
 */
uint32_t hvt_reader_stream_trace(const struct hvt_reader *r, uint32_t stream);

/*
 * hvtrace events (exits and resumes) and hvtrace_session records this
 * reader returned for trace `trace` (an hvt_reader_stream_trace() index).
 * A trace with events and no session record does not say its schema
 * version: it was read by its event layout only (verbs warn).
 */
uint64_t hvt_reader_trace_events(const struct hvt_reader *r, uint32_t trace);
uint64_t hvt_reader_trace_sessions(const struct hvt_reader *r, uint32_t trace);

/* hvtrace_* events are returned; this counts the other events skipped. */
uint64_t hvt_reader_other_events(const struct hvt_reader *r);

/* The CTF trace folders found below the paths given to hvt_reader_open(). */
size_t hvt_reader_trace_count(const struct hvt_reader *r);
const char *hvt_reader_trace_path(const struct hvt_reader *r, size_t i);

void hvt_reader_close(struct hvt_reader *r);

/*
 * The same decoding for messages of another libbabeltrace2 graph (the
 * babeltrace2 plugin, analyzer/plugin.c): msg is a const bt_message *; the
 * caller keeps its reference.  Returns like hvt_reader_next() (0: not an
 * hvtrace event).  hvt_decoder_finish() says whether the input had hvtrace
 * events at all.  Close with hvt_reader_close().
 */
struct hvt_reader *hvt_decoder_new(unsigned int flags);
int hvt_decoder_decode(struct hvt_reader *r, const void *msg, struct hvt_event *ev,
		       struct hvt_err *err);
int hvt_decoder_finish(struct hvt_reader *r, struct hvt_err *err);

#endif /* HVT_READER_H */
