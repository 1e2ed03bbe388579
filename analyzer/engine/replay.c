// SPDX-License-Identifier: GPL-2.0
/*
 * Replay engine: per-vCPU state from exit/resume events, and the checks of
 * the exit -> resume chain.  See replay.h.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exit_reasons.h"
#include "engine/replay.h"

/* ---- state ---------------------------------------------------------- */

void hvt_vstate_from_exit(struct hvt_vstate *s, const struct hvtrace_exit_rec *e)
{
	memcpy(s->gpr, e->gpr, sizeof(s->gpr));
	s->rip = e->rip;
	s->rflags = e->rflags;
	memcpy(s->xmm, e->xmm, sizeof(s->xmm));
	s->mxcsr = e->mxcsr;
	s->cr0 = e->cr0;
	s->cr3 = e->cr3;
	s->cr4 = e->cr4;
	s->cr0_shadow = e->cr0_shadow;
	s->cr4_shadow = e->cr4_shadow;
	s->intr_state = e->interruptibility;
}

/* The v2 bits past MXCSR, in HVTRACE_CHG_* order. */
static uint64_t *ctl_reg(struct hvt_vstate *s, unsigned int bit)
{
	switch (bit) {
	case HVTRACE_CHG_CR0: return &s->cr0;
	case HVTRACE_CHG_CR3: return &s->cr3;
	case HVTRACE_CHG_CR4: return &s->cr4;
	case HVTRACE_CHG_CR0_SHADOW: return &s->cr0_shadow;
	case HVTRACE_CHG_CR4_SHADOW: return &s->cr4_shadow;
	default: return NULL;
	}
}

uint64_t hvt_vstate_get(const struct hvt_vstate *s, unsigned int bit)
{
	if (bit < 16)
		return s->gpr[bit];
	if (bit == HVTRACE_CHG_RIP)
		return s->rip;
	if (bit == HVTRACE_CHG_RFLAGS)
		return s->rflags;
	if (bit < HVTRACE_CHG_MXCSR)
		return s->xmm[bit - HVTRACE_CHG_XMM_LO(0)];
	if (bit == HVTRACE_CHG_MXCSR)
		return s->mxcsr;
	if (bit == HVTRACE_CHG_INTR_STATE)
		return s->intr_state;
	switch (bit) {
	case HVTRACE_CHG_CR0: return s->cr0;
	case HVTRACE_CHG_CR3: return s->cr3;
	case HVTRACE_CHG_CR4: return s->cr4;
	case HVTRACE_CHG_CR0_SHADOW: return s->cr0_shadow;
	case HVTRACE_CHG_CR4_SHADOW: return s->cr4_shadow;
	default: return 0;
	}
}

void hvt_vstate_set(struct hvt_vstate *s, unsigned int bit, uint64_t v)
{
	if (bit < 16)
		s->gpr[bit] = v;
	else if (bit == HVTRACE_CHG_RIP)
		s->rip = v;
	else if (bit == HVTRACE_CHG_RFLAGS)
		s->rflags = v;
	else if (bit < HVTRACE_CHG_MXCSR)
		s->xmm[bit - HVTRACE_CHG_XMM_LO(0)] = v;
	else if (bit == HVTRACE_CHG_MXCSR)
		s->mxcsr = (uint32_t)v;
	else if (bit == HVTRACE_CHG_INTR_STATE)
		s->intr_state = (uint32_t)v;
	else if (ctl_reg(s, bit))
		*ctl_reg(s, bit) = v;
}

uint64_t hvt_vstate_diff(const struct hvt_vstate *a, const struct hvt_vstate *b)
{
	uint64_t m = 0;

	for (unsigned int bit = 0; bit < HVTRACE_CHG_NBITS; bit++)
		if (hvt_vstate_get(a, bit) != hvt_vstate_get(b, bit))
			m |= 1ull << bit;
	return m;
}

enum hvt_apply_status hvt_vstate_apply(struct hvt_vstate *s,
				       const struct hvtrace_resume_rec *r)
{
	unsigned int n = r->values_len, i = 0;

	if (n > HVTRACE_CHG_NBITS)
		n = HVTRACE_CHG_NBITS;
	for (unsigned int bit = 0; bit < HVTRACE_CHG_NBITS; bit++) {
		if (!(r->changed & (1ull << bit)))
			continue;
		if (i < n)
			hvt_vstate_set(s, bit, r->values[i]);
		i++;
	}
	if (r->changed >> HVTRACE_CHG_NBITS)
		return HVT_APPLY_UNKNOWN_BITS;
	if (i != r->values_len)
		return HVT_APPLY_VALUES_LEN;
	return HVT_APPLY_OK;
}

int hvt_resume_value_index(const struct hvtrace_resume_rec *r, unsigned int bit)
{
	int idx;

	if (bit >= HVTRACE_CHG_NBITS || !(r->changed & (1ull << bit)))
		return -1;
	idx = __builtin_popcountll(r->changed & ((1ull << bit) - 1));
	return idx < r->values_len ? idx : -1;
}

const char *hvt_chg_bit_name(unsigned int bit, char *buf, size_t len)
{
	static const char *const gpr[16] = {
#define G(i, n) [i] = #n,
		HVTRACE_GPRS(G)
#undef G
	};

	if (bit < 16)
		snprintf(buf, len, "%s", gpr[bit]);
	else if (bit == HVTRACE_CHG_RIP)
		snprintf(buf, len, "rip");
	else if (bit == HVTRACE_CHG_RFLAGS)
		snprintf(buf, len, "rflags");
	else if (bit < HVTRACE_CHG_MXCSR)
		snprintf(buf, len, "xmm%u.%s", (bit - HVTRACE_CHG_XMM_LO(0)) / 2,
			 (bit - HVTRACE_CHG_XMM_LO(0)) % 2 ? "hi" : "lo");
	else if (bit == HVTRACE_CHG_MXCSR)
		snprintf(buf, len, "mxcsr");
	else if (bit == HVTRACE_CHG_CR0)
		snprintf(buf, len, "cr0");
	else if (bit == HVTRACE_CHG_CR3)
		snprintf(buf, len, "cr3");
	else if (bit == HVTRACE_CHG_CR4)
		snprintf(buf, len, "cr4");
	else if (bit == HVTRACE_CHG_CR0_SHADOW)
		snprintf(buf, len, "cr0_shadow");
	else if (bit == HVTRACE_CHG_CR4_SHADOW)
		snprintf(buf, len, "cr4_shadow");
	else if (bit == HVTRACE_CHG_INTR_STATE)
		snprintf(buf, len, "interruptibility");
	else
		snprintf(buf, len, "bit%u", bit);
	return buf;
}

/* ---- flags ---------------------------------------------------------- */

int hvt_rflags_format(uint64_t rflags, char *buf, size_t len)
{
	static const struct { unsigned int bit; const char *name; } fl[] = {
		{ 0, "CF" }, { 2, "PF" }, { 4, "AF" }, { 6, "ZF" }, { 7, "SF" },
		{ 8, "TF" }, { 9, "IF" }, { 10, "DF" }, { 11, "OF" },
		{ 14, "NT" }, { 16, "RF" }, { 17, "VM" }, { 18, "AC" },
		{ 19, "VIF" }, { 20, "VIP" }, { 21, "ID" },
	};
	size_t off = 0;
	int n;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		if (!(rflags & (1ull << fl[i].bit)))
			continue;
		n = snprintf(buf + off, off < len ? len - off : 0, "%s ", fl[i].name);
		off += (size_t)n;
	}
	n = snprintf(buf + (off < len ? off : len), off < len ? len - off : 0,
		     "IOPL=%u", (unsigned int)((rflags >> 12) & 3));
	return (int)(off + (size_t)n);
}

const char *hvt_mxcsr_rc_name(uint32_t mxcsr)
{
	static const char *const rc[4] = { "nearest", "down", "up", "zero" };

	return rc[(mxcsr >> 13) & 3];
}

int hvt_mxcsr_format(uint32_t mxcsr, char *buf, size_t len)
{
	static const char *const flags[6] = { "IE", "DE", "ZE", "OE", "UE", "PE" };
	static const char *const masks[6] = { "IM", "DM", "ZM", "OM", "UM", "PM" };
	char f[32] = "", m[32] = "";

	for (int i = 0; i < 6; i++) {
		if (mxcsr & (1u << i)) {
			if (f[0])
				strcat(f, ",");
			strcat(f, flags[i]);
		}
		if (mxcsr & (1u << (7 + i))) {
			if (m[0])
				strcat(m, ",");
			strcat(m, masks[i]);
		}
	}
	return snprintf(buf, len, "flags=%s masks=%s rc=%s fz=%u daz=%u",
			f[0] ? f : "-", m[0] ? m : "-", hvt_mxcsr_rc_name(mxcsr),
			(mxcsr >> 15) & 1, (mxcsr >> 6) & 1);
}

int hvt_reason_skips_insn(uint32_t basic)
{
	switch (basic) {
	case HVTRACE_EXIT_CPUID:
	case HVTRACE_EXIT_RDMSR:
	case HVTRACE_EXIT_WRMSR:
	case HVTRACE_EXIT_IO_INSTRUCTION:
	case HVTRACE_EXIT_VMCALL:
	case HVTRACE_EXIT_HLT:
	case HVTRACE_EXIT_RDTSC:
	case HVTRACE_EXIT_RDTSCP:
	case HVTRACE_EXIT_CR_ACCESS:
	case HVTRACE_EXIT_XSETBV:
	case HVTRACE_EXIT_INVD:
		return 1;
	default:
		return 0;
	}
}

/* ---- checker -------------------------------------------------------- */

static const char *const viol_names[] = {
#define V(id, name, desc) name,
	HVT_VIOLATIONS(V)
#undef V
};
static const char *const viol_descs[] = {
#define V(id, name, desc) desc,
	HVT_VIOLATIONS(V)
#undef V
};

const char *hvt_viol_name(enum hvt_viol_kind k)
{
	return k < HVT_VIOL_NKINDS ? viol_names[k] : "?";
}

const char *hvt_viol_desc(enum hvt_viol_kind k)
{
	return k < HVT_VIOL_NKINDS ? viol_descs[k] : "?";
}

struct hvt_replay {
	struct hvt_replay_hooks hooks;
	struct hvt_replay_vcpu *v;	/* sorted by vcpu id */
	size_t nv, cap;
	size_t last;			/* index of the last vCPU looked up */
	uint64_t counts[HVT_VIOL_NKINDS];
	uint64_t discarded, discard_records, discarded_packets;
	uint64_t fault_fixups;
	uint64_t string_restarts, vcpu_resets, vmm_rip_writes;
	uint32_t cur_trace;		/* trace of the event being fed */
	uint32_t cur_vm;		/* and its VM */
	enum hvt_rules rules;		/* forced, or AUTO */
	unsigned char *backend;		/* per trace: HVTRACE_BACKEND_* + 1, 0 unknown */
	size_t nbackend;
};

const char *hvt_rules_name(enum hvt_rules r)
{
	switch (r) {
	case HVT_RULES_SANDBOX:
		return "sandbox";
	case HVT_RULES_KVM:
		return "kvm";
	case HVT_RULES_HOST:
		return "host";
	default:
		return "auto";
	}
}

void hvt_replay_set_rules(struct hvt_replay *rp, enum hvt_rules rules)
{
	rp->rules = rules;
}

enum hvt_rules hvt_replay_rules_of(const struct hvt_replay *rp, uint32_t trace)
{
	if (rp->rules != HVT_RULES_AUTO)
		return rp->rules;
	if (trace < rp->nbackend) {
		if (rp->backend[trace] == HVTRACE_BACKEND_KVM + 1)
			return HVT_RULES_KVM;
		if (rp->backend[trace] == HVTRACE_BACKEND_HOST + 1)
			return HVT_RULES_HOST;
	}
	return HVT_RULES_SANDBOX;
}

int hvt_replay_set_backend(struct hvt_replay *rp, uint32_t t, unsigned int backend)
{
	if (backend == HVTRACE_BACKEND_SANDBOX || backend > 250)
		return 0;
	if (t >= rp->nbackend) {
		size_t n = (size_t)t + 1;
		unsigned char *b = realloc(rp->backend, n);

		if (!b)
			return -1;
		memset(b + rp->nbackend, 0, n - rp->nbackend);
		rp->backend = b;
		rp->nbackend = n;
	}
	rp->backend[t] = (unsigned char)(backend + 1);
	return 0;
}

/* A session record names its trace's backend (sandbox unless it says). */
static int note_backend(struct hvt_replay *rp, const struct hvtrace_session_rec *s)
{
	return hvt_replay_set_backend(rp, rp->cur_trace, s->backend);
}

struct hvt_replay *hvt_replay_new(const struct hvt_replay_hooks *hooks)
{
	struct hvt_replay *rp = calloc(1, sizeof(*rp));

	if (rp && hooks)
		rp->hooks = *hooks;
	return rp;
}

void hvt_replay_free(struct hvt_replay *rp)
{
	if (!rp)
		return;
	free(rp->v);
	free(rp->backend);
	free(rp);
}

/*
 * vCPUs are (trace, VM, vCPU id): vCPU numbers and seq restart in each
 * trace, and under KVM in each VM (several VMs each have a vCPU 0).
 */
static int vcmp(uint32_t ta, uint32_t ma, uint32_t ia, const struct hvt_replay_vcpu *b)
{
	if (ta != b->trace)
		return ta < b->trace ? -1 : 1;
	if (ma != b->vm)
		return ma < b->vm ? -1 : 1;
	if (ia != b->vcpu)
		return ia < b->vcpu ? -1 : 1;
	return 0;
}

/* The state of (the trace being fed, vm, vCPU id), created on first use. */
static struct hvt_replay_vcpu *get_vcpu(struct hvt_replay *rp, uint32_t vm, uint32_t id)
{
	uint32_t t = rp->cur_trace;
	size_t lo = 0, hi = rp->nv;

	if (rp->last < rp->nv && !vcmp(t, vm, id, &rp->v[rp->last]))
		return &rp->v[rp->last];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (vcmp(t, vm, id, &rp->v[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == rp->nv || vcmp(t, vm, id, &rp->v[lo])) {
		if (rp->nv == rp->cap) {
			size_t cap = rp->cap ? rp->cap * 2 : 8;
			struct hvt_replay_vcpu *nv = realloc(rp->v, cap * sizeof(*nv));

			if (!nv)
				return NULL;
			rp->v = nv;
			rp->cap = cap;
		}
		memmove(&rp->v[lo + 1], &rp->v[lo], (rp->nv - lo) * sizeof(*rp->v));
		memset(&rp->v[lo], 0, sizeof(*rp->v));
		rp->v[lo].vcpu = id;
		rp->v[lo].vm = vm;
		rp->v[lo].trace = t;
		rp->nv++;
	}
	rp->last = lo;
	return &rp->v[lo];
}

static void report(struct hvt_replay *rp, enum hvt_viol_kind k, uint32_t vcpu,
		   uint64_t seq, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void report(struct hvt_replay *rp, enum hvt_viol_kind k, uint32_t vcpu,
		   uint64_t seq, const char *fmt, ...)
{
	struct hvt_violation v = { .kind = k, .trace = rp->cur_trace, .vm = rp->cur_vm,
				   .vcpu = vcpu, .seq = seq };
	va_list ap;

	rp->counts[k]++;
	if (!rp->hooks.violation)
		return;
	va_start(ap, fmt);
	vsnprintf(v.detail, sizeof(v.detail), fmt, ap);
	va_end(ap);
	rp->hooks.violation(rp->hooks.ud, &v);
}

static void missing_resume(struct hvt_replay *rp, struct hvt_replay_vcpu *vc,
			   const char *why)
{
	report(rp, HVT_VIOL_NO_RESUME, vc->vcpu, vc->last_exit.seq,
	       "exit %" PRIu64 " has no resume (%s)", vc->last_exit.seq, why);
	vc->pending = 0;
}

static void feed_exit(struct hvt_replay *rp, const struct hvtrace_exit_rec *e,
		      int64_t ts)
{
	struct hvt_replay_vcpu *vc = get_vcpu(rp, e->vm, e->vcpu);

	if (!vc)
		return;
	if (rp->hooks.exit)
		rp->hooks.exit(rp->hooks.ud, vc, e, ts);
	if (vc->pending)
		missing_resume(rp, vc, "the next exit came first");
	if (vc->have_exit) {
		if (e->seq > vc->last_seq + 1) {
			uint64_t n = e->seq - vc->last_seq - 1;

			vc->missing += n;
			report(rp, HVT_VIOL_GAP, vc->vcpu, e->seq,
			       "seq jumps from %" PRIu64 " to %" PRIu64 ": %" PRIu64
			       " exit%s missing%s", vc->last_seq, e->seq, n,
			       n == 1 ? "" : "s",
			       rp->discarded || rp->discarded_packets ?
			       " (the tracer discarded events)" : "");
		} else if (e->seq <= vc->last_seq && e->seq != 1) {
			report(rp, HVT_VIOL_SEQ_ORDER, vc->vcpu, e->seq,
			       "seq goes from %" PRIu64 " back to %" PRIu64,
			       vc->last_seq, e->seq);
		}
	} else {
		vc->first_seq = e->seq;
		vc->first_ns = ts;
		vc->have_exit = 1;
	}
	if (e->rsp != e->gpr[4])
		report(rp, HVT_VIOL_RSP, vc->vcpu, e->seq,
		       "rsp 0x%" PRIx64 " but gpr[4] 0x%" PRIx64, e->rsp, e->gpr[4]);
	vc->exits++;
	vc->last_seq = e->seq;
	vc->last_ns = ts;
	vc->last_exit = *e;
	vc->last_exit_ns = ts;
	vc->pending = 1;
	vc->resumed = 0;
	hvt_vstate_from_exit(&vc->state, e);
}

/*
 * KVM's own reasons to resume a skipping exit elsewhere than after the
 * instruction (vc->state is already the resumed state):
 *
 * - REP INS/OUTS: KVM emulates string I/O (handle_io ->
 *   kvm_emulate_instruction); x86_emulate_insn() does as many iterations
 *   as its PIO read-ahead buffer holds, writes RCX/RDI/RSI back and, while
 *   the instruction is not complete by string_insn_completed() (which,
 *   for plain REP, never says so on RCX = 0 alone), skips the RIP write
 *   back with RFLAGS.RF set: the guest executes the instruction again,
 *   which exits again and finds RCX = 0 (a Linux boot: `rep insb` from
 *   fw_cfg, 0x511, RCX 4 -> 0 at the same RIP, then RIP + 2 at the next
 *   exit).  Accepted when RCX went down: the emulator made progress.
 * - A reset vCPU: an SMI taken at this entry (enter_smm(): RIP 0x8000,
 *   RFLAGS 0x2, CR0.PE and PG cleared; SeaBIOS raises one with `out 0xb2`),
 *   or INIT/SIPI (RIP 0xfff0 or the SIPI vector, RFLAGS 0x2, real mode).
 *   Accepted when the resume sets RFLAGS to 0x2 and CR0.PE is clear.
 * - The VMM set RIP: exits KVM hands to userspace (HLT without an
 *   in-kernel LAPIC, port I/O, MSRs under a filter, hypercalls) return to
 *   the VMM, whose KVM_SET_REGS before the next KVM_RUN is part of the
 *   state the guest resumes with.  Accepted when RIP moved elsewhere than
 *   the instruction (never when it stayed on it) at such an exit.
 * An exit KVM completes in the kernel (CPUID, RDTSC, CR access...) has
 * no such excuse: RIP must advance by insn_len.
 */
static int kvm_excused(struct hvt_replay *rp, const struct hvt_replay_vcpu *vc,
		       const struct hvtrace_exit_rec *e)
{
	uint32_t basic = e->exit_reason & HVTRACE_EXIT_REASON_BASIC_MASK;
	const struct hvt_vstate *s = &vc->state;

	if (basic == HVTRACE_EXIT_IO_INSTRUCTION && (e->exit_qual & 0x30) == 0x30 &&
	    s->rip == e->rip && s->gpr[1] < e->gpr[1]) {
		rp->string_restarts++;
		return 1;
	}
	if (s->rip == e->rip)
		return 0;
	if (s->rflags == 0x2 && !(s->cr0 & 1) && (e->rflags != 0x2 || (e->cr0 & 1))) {
		rp->vcpu_resets++;
		return 1;
	}
	switch (basic) {
	case HVTRACE_EXIT_HLT:
	case HVTRACE_EXIT_IO_INSTRUCTION:
	case HVTRACE_EXIT_RDMSR:
	case HVTRACE_EXIT_WRMSR:
	case HVTRACE_EXIT_VMCALL:
		rp->vmm_rip_writes++;
		return 1;
	default:
		return 0;
	}
}

static void check_resume(struct hvt_replay *rp, struct hvt_replay_vcpu *vc,
			 const struct hvtrace_resume_rec *r)
{
	const struct hvtrace_exit_rec *e = &vc->last_exit;
	uint32_t basic = e->exit_reason & HVTRACE_EXIT_REASON_BASIC_MASK;

	switch (hvt_vstate_apply(&vc->state, r)) {
	case HVT_APPLY_UNKNOWN_BITS:
		report(rp, HVT_VIOL_UNKNOWN_BITS, vc->vcpu, r->seq,
		       "changed 0x%" PRIx64 " has bits above %d", r->changed,
		       HVTRACE_CHG_NBITS - 1);
		break;
	case HVT_APPLY_VALUES_LEN:
		report(rp, HVT_VIOL_VALUES_LEN, vc->vcpu, r->seq,
		       "changed 0x%" PRIx64 " has %d bits but values has %u",
		       r->changed,
		       __builtin_popcountll(r->changed &
					    ((1ull << HVTRACE_CHG_NBITS) - 1)),
		       (unsigned int)r->values_len);
		break;
	default:
		break;
	}
	if (r->action > HVTRACE_ACT_INJECT)
		report(rp, HVT_VIOL_ACTION, vc->vcpu, r->seq, "unknown action %u",
		       (unsigned int)r->action);
	else if (r->action == HVTRACE_ACT_INJECT && !(r->inject_info & (1u << 31)))
		report(rp, HVT_VIOL_ACTION, vc->vcpu, r->seq,
		       "inject with invalid event info 0x%x", (unsigned int)r->inject_info);
	if (r->action == HVTRACE_ACT_RESUME && hvt_reason_skips_insn(basic) &&
	    !(e->exit_reason & HVTRACE_EXIT_REASON_ENTRY_FAIL)) {
		enum hvt_rules rules = hvt_replay_rules_of(rp, rp->cur_trace);
		uint64_t want = e->rip + e->insn_len;
		int idx = hvt_resume_value_index(r, HVTRACE_CHG_RIP);
		int rax = hvt_resume_value_index(r, 0);
		uint64_t rip = idx < 0 ? e->rip : r->values[idx];

		if (idx >= 0 && rip == want)
			return;
		if (rules == HVT_RULES_KVM && kvm_excused(rp, vc, e))
			return;
		if (rip == e->rip) {
			report(rp, HVT_VIOL_RIP_SKIP, vc->vcpu, r->seq,
			       "RIP not advanced past a completed instruction (exit rip 0x%" PRIx64
			       " + insn_len %u = 0x%" PRIx64 "): the guest runs it again",
			       e->rip, (unsigned int)e->insn_len, want);
		} else if (rules == HVT_RULES_SANDBOX && rax >= 0 && r->values[rax] < 32) {
			/*
			 * Not completed but faulted: the sandbox resumes a faulting
			 * instruction at its fixup with the vector in RAX
			 * (kmod/workload.h, the guest exception table).
			 */
			rp->fault_fixups++;
		} else {
			report(rp, HVT_VIOL_RIP_SKIP, vc->vcpu, r->seq,
			       "resumed rip 0x%" PRIx64 ", expected exit rip 0x%" PRIx64
			       " + insn_len %u = 0x%" PRIx64 "%s", rip, e->rip,
			       (unsigned int)e->insn_len, want,
			       rules == HVT_RULES_SANDBOX ?
			       " (or a fault fixup with the vector in rax)" : "");
		}
	}
}

static void feed_resume(struct hvt_replay *rp, const struct hvtrace_resume_rec *r,
			int64_t ts)
{
	struct hvt_replay_vcpu *vc = get_vcpu(rp, r->vm, r->vcpu);

	if (!vc)
		return;
	vc->resumes++;
	if (!vc->have_exit) {
		report(rp, HVT_VIOL_ORPHAN_RESUME, vc->vcpu, r->seq,
		       "resume for seq %" PRIu64 " before any exit on vCPU %u",
		       r->seq, (unsigned int)r->vcpu);
		return;
	}
	if (!vc->pending) {
		if (r->seq == vc->last_exit.seq)
			report(rp, HVT_VIOL_DUP_RESUME, vc->vcpu, r->seq,
			       "exit %" PRIu64 " already had its resume", r->seq);
		else
			report(rp, HVT_VIOL_ORPHAN_RESUME, vc->vcpu, r->seq,
			       "resume for seq %" PRIu64 " with no exit waiting (last exit %" PRIu64 ")",
			       r->seq, vc->last_exit.seq);
		return;
	}
	if (r->seq != vc->last_exit.seq)
		report(rp, HVT_VIOL_RESUME_SEQ, vc->vcpu, vc->last_exit.seq,
		       "resume names seq %" PRIu64 " but follows exit %" PRIu64,
		       r->seq, vc->last_exit.seq);
	check_resume(rp, vc, r);
	vc->pending = 0;
	vc->resumed = 1;
	vc->last_resume = *r;
	vc->last_ns = ts;
	vc->latency_total += r->tsc - vc->last_exit.tsc;
	if (rp->hooks.resume)
		rp->hooks.resume(rp->hooks.ud, vc, r, ts);
}

int hvt_replay_feed(struct hvt_replay *rp, const struct hvt_event *ev)
{
	return hvt_replay_feed_in(rp, ev, 0);
}

int hvt_replay_feed_in(struct hvt_replay *rp, const struct hvt_event *ev, uint32_t trace)
{
	rp->cur_trace = trace;
	switch (ev->type) {
	case HVT_EV_EXIT:
		rp->cur_vm = ev->u.exit.vm;
		if (!get_vcpu(rp, ev->u.exit.vm, ev->u.exit.vcpu))
			return -1;
		feed_exit(rp, &ev->u.exit, ev->ts_ns);
		break;
	case HVT_EV_RESUME:
		rp->cur_vm = ev->u.resume.vm;
		if (!get_vcpu(rp, ev->u.resume.vm, ev->u.resume.vcpu))
			return -1;
		feed_resume(rp, &ev->u.resume, ev->ts_ns);
		break;
	case HVT_EV_SESSION:
		if (note_backend(rp, &ev->u.session))
			return -1;
		break;
	case HVT_EV_DISCARDED:
		rp->cur_vm = 0;
		rp->discard_records++;
		rp->discarded += ev->u.discarded.count;
		rp->discarded_packets += ev->u.discarded.packets;
		if (ev->u.discarded.packets)
			report(rp, HVT_VIOL_DISCARDED, UINT32_MAX, 0,
			       "the tracer lost %" PRIu64 " packet%s whole (the events in %s unknown)",
			       ev->u.discarded.packets, ev->u.discarded.packets == 1 ? "" : "s",
			       ev->u.discarded.packets == 1 ? "it are" : "them are");
		else
			report(rp, HVT_VIOL_DISCARDED, UINT32_MAX, 0,
			       "the tracer discarded %" PRIu64 " events%s", ev->u.discarded.count,
			       ev->u.discarded.count ? "" : " (count unknown)");
		break;
	default:
		break;
	}
	return 0;
}

void hvt_replay_finish(struct hvt_replay *rp)
{
	for (size_t i = 0; i < rp->nv; i++)
		if (rp->v[i].pending) {
			rp->cur_trace = rp->v[i].trace;
			rp->cur_vm = rp->v[i].vm;
			missing_resume(rp, &rp->v[i], "the trace ends");
		}
}

size_t hvt_replay_vcpu_count(const struct hvt_replay *rp)
{
	return rp->nv;
}

const struct hvt_replay_vcpu *hvt_replay_vcpu_at(const struct hvt_replay *rp, size_t i)
{
	return i < rp->nv ? &rp->v[i] : NULL;
}

const struct hvt_replay_vcpu *hvt_replay_find(const struct hvt_replay *rp, uint32_t vcpu)
{
	for (size_t i = 0; i < rp->nv; i++)
		if (rp->v[i].vcpu == vcpu)
			return &rp->v[i];
	return NULL;
}

uint64_t hvt_replay_violations(const struct hvt_replay *rp, enum hvt_viol_kind k)
{
	return k < HVT_VIOL_NKINDS ? rp->counts[k] : 0;
}

uint64_t hvt_replay_violation_total(const struct hvt_replay *rp)
{
	uint64_t n = 0;

	for (int k = 0; k < HVT_VIOL_NKINDS; k++)
		n += rp->counts[k];
	return n;
}

uint64_t hvt_replay_discarded(const struct hvt_replay *rp)
{
	return rp->discarded;
}

uint64_t hvt_replay_discarded_packets(const struct hvt_replay *rp)
{
	return rp->discarded_packets;
}

uint64_t hvt_replay_discard_records(const struct hvt_replay *rp)
{
	return rp->discard_records;
}

uint64_t hvt_replay_fault_fixups(const struct hvt_replay *rp)
{
	return rp->fault_fixups;
}

uint64_t hvt_replay_string_restarts(const struct hvt_replay *rp)
{
	return rp->string_restarts;
}

uint64_t hvt_replay_vcpu_resets(const struct hvt_replay *rp)
{
	return rp->vcpu_resets;
}

uint64_t hvt_replay_vmm_rip_writes(const struct hvt_replay *rp)
{
	return rp->vmm_rip_writes;
}

int hvt_replay_incomplete(const struct hvt_replay *rp)
{
	return rp->discard_records || rp->counts[HVT_VIOL_GAP];
}
