/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Replay: rebuild each vCPU's register state from hvtrace_exit and
 * hvtrace_resume events, and check the exit -> resume chain.
 *
 * The engine keeps only the current state of each vCPU (the last exit, the
 * state the guest resumed with, counters): its memory does not grow with
 * the trace.  Events are fed in trace order; hooks see each exit before
 * the engine updates the vCPU, and each resume after it.
 */
#ifndef HVT_REPLAY_H
#define HVT_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include "hvtrace_events.h"
#include "decode/reader.h"

/* The registers a resume can change, plus the control registers. */
struct hvt_vstate {
	uint64_t gpr[16];	/* SDM order; gpr[4] is RSP */
	uint64_t rip, rflags;
	uint64_t xmm[32];	/* xmm[2i] low, xmm[2i+1] high half of XMMi */
	uint32_t mxcsr;
	uint64_t cr0, cr3, cr4;
	uint64_t cr0_shadow, cr4_shadow;	/* what the guest reads (v2) */
	uint32_t intr_state;			/* interruptibility (v2) */
};

void hvt_vstate_from_exit(struct hvt_vstate *s, const struct hvtrace_exit_rec *e);
/* Value of one HVTRACE_CHG_* bit's register; set it. */
uint64_t hvt_vstate_get(const struct hvt_vstate *s, unsigned int bit);
void hvt_vstate_set(struct hvt_vstate *s, unsigned int bit, uint64_t v);
/* Mask of HVTRACE_CHG_* bits whose registers differ between a and b. */
uint64_t hvt_vstate_diff(const struct hvt_vstate *a, const struct hvt_vstate *b);

/* Result of applying a resume's changes. */
enum hvt_apply_status {
	HVT_APPLY_OK,
	HVT_APPLY_UNKNOWN_BITS,	/* changed has bits >= HVTRACE_CHG_NBITS */
	HVT_APPLY_VALUES_LEN,	/* values_len != popcount(changed) */
};
/*
 * s = s + the resume's changes, values taken in ascending bit order.  On
 * a length mismatch the values present are applied as far as they go.
 */
enum hvt_apply_status hvt_vstate_apply(struct hvt_vstate *s,
				       const struct hvtrace_resume_rec *r);
/* Index into r->values of bit's value; -1 if bit is not set or missing. */
int hvt_resume_value_index(const struct hvtrace_resume_rec *r, unsigned int bit);

/*
 * "rax".."r15", "rip", "rflags", "xmm3.lo", "xmm3.hi", "mxcsr", "cr0",
 * "cr3", "cr4", "cr0_shadow", "cr4_shadow", "interruptibility".
 */
const char *hvt_chg_bit_name(unsigned int bit, char *buf, size_t len);

/*
 * RFLAGS with its flags: "CF ZF IF IOPL=0" (set flags in bit order, IOPL
 * always).  MXCSR: "flags=PE masks=IM,DM,ZM,OM,UM,PM rc=nearest fz=0 daz=0".
 * Both return snprintf's count.
 */
int hvt_rflags_format(uint64_t rflags, char *buf, size_t len);
int hvt_mxcsr_format(uint32_t mxcsr, char *buf, size_t len);
/* MXCSR rounding control name: nearest, down, up, zero. */
const char *hvt_mxcsr_rc_name(uint32_t mxcsr);

/*
 * Reasons whose handler completes the instruction and skips it: on
 * resume, RIP must be the exit's RIP + insn_len.
 */
int hvt_reason_skips_insn(uint32_t basic);

/* ---- the chain checker ---------------------------------------------- */

/*
 * Whose RIP rules a resume is checked against.  AUTO: each trace's own,
 * from the backend its session records name (sandbox when they say none).
 *
 * SANDBOX: a skipping exit (hvt_reason_skips_insn) resumed with
 *   action RESUME must resume at RIP + insn_len, or at a fault fixup with
 *   the vector in RAX (the sandbox's exception table, kmod/workload.h).
 * HOST: the same without fixups (host mode injects a fault instead).
 * KVM: RIP + insn_len too, except where KVM legitimately does not
 *   advance it (see replay.c, kvm_excused()): a REP string I/O
 *   instruction its emulator restarts with RCX decreased, a resume into a
 *   reset vCPU (SMM entry, INIT, SIPI: RFLAGS 0x2 and CR0.PE clear), and
 *   RIP set elsewhere by the VMM at an exit KVM hands to userspace (HLT,
 *   port I/O, MSRs, hypercalls).  RIP left on a completed instruction is
 *   always a violation.
 *   Injected events (action INJECT) are never RIP checks, in any rules.
 */
enum hvt_rules { HVT_RULES_AUTO, HVT_RULES_SANDBOX, HVT_RULES_KVM, HVT_RULES_HOST };
const char *hvt_rules_name(enum hvt_rules r);

#define HVT_VIOLATIONS(V)						\
	V(GAP, "gap", "seq jumps forward on a vCPU (exits missing)")	\
	V(SEQ_ORDER, "seq-order", "seq repeats or goes backwards")	\
	V(NO_RESUME, "no-resume", "an exit without its resume")	\
	V(DUP_RESUME, "dup-resume", "a second resume for one exit")	\
	V(RESUME_SEQ, "resume-seq", "a resume whose seq is not its exit's") \
	V(ORPHAN_RESUME, "orphan-resume", "a resume with no exit before it") \
	V(VALUES_LEN, "values-len", "values length is not popcount(changed)") \
	V(UNKNOWN_BITS, "unknown-bits", "changed has bits beyond the schema") \
	V(RIP_SKIP, "rip-skip", "RIP not advanced by insn_len past a completed instruction (a fault fixup with the vector in RAX excepted)") \
	V(RSP, "rsp", "exit rsp differs from gpr[4]")			\
	V(ACTION, "action", "unknown action, or inject without a valid event") \
	V(DISCARDED, "discarded", "the tracer discarded events")

#define HVT_V_ENUM(id, name, desc) HVT_VIOL_##id,
enum hvt_viol_kind { HVT_VIOLATIONS(HVT_V_ENUM) HVT_VIOL_NKINDS };
#undef HVT_V_ENUM

const char *hvt_viol_name(enum hvt_viol_kind k);
const char *hvt_viol_desc(enum hvt_viol_kind k);

struct hvt_violation {
	enum hvt_viol_kind kind;
	uint32_t trace;		/* index of the trace (several may be read) */
	uint32_t vm;		/* KVM: the VM (hvtrace_exit.vm); 0 elsewhere */
	uint32_t vcpu;		/* UINT32_MAX when not tied to a vCPU */
	uint64_t seq;		/* 0 when not tied to an exit */
	char detail[200];
};

/*
 * Per-vCPU timeline state, per (trace, VM, vCPU): vCPU numbers and seq
 * restart in each trace and, under KVM, in each VM.
 */
struct hvt_replay_vcpu {
	uint32_t trace;
	uint32_t vm;
	uint32_t vcpu;
	uint64_t exits, resumes;
	uint64_t first_seq, last_seq;
	int64_t first_ns, last_ns;
	uint64_t missing;	/* exits missing from seq gaps */
	int have_exit;
	int pending;		/* last_exit waits for its resume */
	int resumed;		/* `state` is the state after last_exit's resume */
	struct hvtrace_exit_rec last_exit;
	int64_t last_exit_ns;
	struct hvtrace_resume_rec last_resume;
	struct hvt_vstate state;	/* at last exit, then as resumed */
	uint64_t latency_total;	/* resume.tsc - exit.tsc, summed */
};

struct hvt_replay;

struct hvt_replay_hooks {
	void *ud;
	/* each violation, as found */
	void (*violation)(void *ud, const struct hvt_violation *v);
	/* an exit, before vc is updated (vc->state is the previous resume's) */
	void (*exit)(void *ud, const struct hvt_replay_vcpu *vc,
		     const struct hvtrace_exit_rec *e, int64_t ts_ns);
	/* a resume matching vc->last_exit, after vc->state was updated */
	void (*resume)(void *ud, const struct hvt_replay_vcpu *vc,
		       const struct hvtrace_resume_rec *r, int64_t ts_ns);
};

struct hvt_replay *hvt_replay_new(const struct hvt_replay_hooks *hooks);
/* The rules for every trace (default HVT_RULES_AUTO). */
void hvt_replay_set_rules(struct hvt_replay *rp, enum hvt_rules rules);
/*
 * Trace `trace` was recorded by backend (HVTRACE_BACKEND_*): for a part of
 * a parallel read that may not see the trace's session records.  -1 when
 * out of memory.
 */
int hvt_replay_set_backend(struct hvt_replay *rp, uint32_t trace, unsigned int backend);
/* The rules trace `trace` was checked with (AUTO resolved). */
enum hvt_rules hvt_replay_rules_of(const struct hvt_replay *rp, uint32_t trace);
void hvt_replay_free(struct hvt_replay *rp);
/* Feed one event; 0, or -1 when out of memory. */
int hvt_replay_feed(struct hvt_replay *rp, const struct hvt_event *ev);
/* The same for an event of trace `trace` (hvt_reader_stream_trace()). */
int hvt_replay_feed_in(struct hvt_replay *rp, const struct hvt_event *ev, uint32_t trace);
/* End of trace: exits still waiting for a resume are reported. */
void hvt_replay_finish(struct hvt_replay *rp);

size_t hvt_replay_vcpu_count(const struct hvt_replay *rp);
/* vCPUs in ascending (trace, vm, id) order; find: the first with that id. */
const struct hvt_replay_vcpu *hvt_replay_vcpu_at(const struct hvt_replay *rp, size_t i);
const struct hvt_replay_vcpu *hvt_replay_find(const struct hvt_replay *rp, uint32_t vcpu);

uint64_t hvt_replay_violations(const struct hvt_replay *rp, enum hvt_viol_kind k);
uint64_t hvt_replay_violation_total(const struct hvt_replay *rp);
/* Events the tracer reported discarded (and discarded-event records). */
uint64_t hvt_replay_discarded(const struct hvt_replay *rp);
uint64_t hvt_replay_discard_records(const struct hvt_replay *rp);
/* Whole packets the tracer lost (their events are not known). */
uint64_t hvt_replay_discarded_packets(const struct hvt_replay *rp);
/*
 * Skipping exits resumed elsewhere than after the instruction with RAX set
 * to an exception vector: faults delivered at a guest fixup (the sandbox's
 * exception table, kmod/workload.h), not violations.
 */
uint64_t hvt_replay_fault_fixups(const struct hvt_replay *rp);
/*
 * KVM rules: REP INS/OUTS exits resumed at the same RIP with RCX
 * decreased (KVM's emulator did part of the count and restarts the
 * instruction), and resumes into a reset vCPU (SMM entry, INIT or SIPI).
 */
uint64_t hvt_replay_string_restarts(const struct hvt_replay *rp);
uint64_t hvt_replay_vcpu_resets(const struct hvt_replay *rp);
/* KVM rules: RIP moved elsewhere at an exit KVM hands to the VMM. */
uint64_t hvt_replay_vmm_rip_writes(const struct hvt_replay *rp);
/* Events lost (discard records, seq gaps): the timeline is incomplete. */
int hvt_replay_incomplete(const struct hvt_replay *rp);

#endif /* HVT_REPLAY_H */
