/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exit names and exit-qualification decoding (Intel SDM Vol. 3C, 28.2.1).
 *
 * hvt_qual_decode() turns an exit record into a struct hvt_qual: the kind of
 * qualification the reason carries (schemas/exit_reasons.h), its decoded
 * parts, and a compact 64-bit key.  Two exits of the same reason have the
 * same key exactly when their decoded qualifications are the same: group by
 * (reason, key) to get "CPUID leaf 0x1" or "RDMSR IA32_EFER" rows, or align
 * two runs on it.  Parts that vary but do not name "what the guest did"
 * (the LMSW source value, the EPT permission bits, a subleaf of a CPUID leaf
 * that takes none) are left out of the key.
 */
#ifndef HVT_QUAL_H
#define HVT_QUAL_H

#include <stddef.h>
#include <stdint.h>
#include "exit_reasons.h"
#include "hvtrace_events.h"

/* Access types of a control-register exit (SDM Table 28-3, bits 5:4). */
enum hvt_cr_access { HVT_CR_MOV_TO, HVT_CR_MOV_FROM, HVT_CR_CLTS, HVT_CR_LMSW };

/* Source of a task switch (SDM Table 28-2, bits 31:30). */
enum hvt_ts_source { HVT_TS_CALL, HVT_TS_IRET, HVT_TS_JMP, HVT_TS_IDT_GATE };

struct hvt_qual {
	uint32_t reason;		/* the full 32-bit exit reason */
	uint32_t basic;			/* bits 15:0 */
	int entry_failure;		/* bit 31 */
	enum hvtrace_qual_kind kind;
	uint64_t key;
	union {
		struct { uint32_t leaf, subleaf; int has_subleaf; } cpuid;
		struct { uint32_t index; int write; } msr;
		struct {
			uint16_t port;
			uint8_t size;		/* bytes: 1, 2 or 4 */
			uint8_t in;		/* 1: IN/INS, 0: OUT/OUTS */
			uint8_t string, rep, imm;
		} io;
		struct {
			uint8_t cr, access, gpr, lmsw_mem;
			uint16_t lmsw_data;
		} cr;
		struct { uint8_t dr, from_dr, gpr; } dr;
		struct {
			uint8_t vector, type, valid, has_error;
			uint32_t error;
		} exc;
		struct { uint64_t nr; } vmcall;
		struct {
			uint8_t access;		/* bit 0 read, 1 write, 2 fetch */
			uint8_t perms;		/* bit 0 R, 1 W, 2 X of the entry */
			uint8_t linear_valid, translation;
			uint64_t gpa, gla;
		} ept;
		struct { uint16_t selector; uint8_t source; } ts;
		struct { uint64_t addr; } invlpg;
	} u;
};

/* Decode e->exit_reason and its qualification (needs only the key fields). */
void hvt_qual_decode(const struct hvtrace_exit_rec *e, struct hvt_qual *q);

/*
 * The qualification as text, without the reason: "leaf 0x7 subleaf 0x0",
 * "0xc0000080 IA32_EFER", "out 0x80 1B", "mov to cr3 from rax",
 * "#UD hw-exception", ...; "" for reasons without one.  By default only the
 * parts in the key are shown (a stable group label); HVT_QUAL_FULL adds the
 * rest (error code, EPT address and permissions, LMSW value).  Returns
 * snprintf's count.
 */
#define HVT_QUAL_FULL 0x1
int hvt_qual_format(const struct hvt_qual *q, char *buf, size_t len,
		    unsigned int flags);

/* The reason's name from schemas/exit_reasons.h, NULL when not in it. */
const char *hvt_exit_reason_name(uint32_t basic);

/*
 * The full reason as text: "CPUID", "UNKNOWN(99)", and for an entry
 * failure "ENTRY_FAIL_GUEST_STATE(entry-failure)".
 */
int hvt_exit_reason_format(uint32_t reason, char *buf, size_t len);

/* Name (case-insensitive) or number to basic reason; -1 if neither. */
int hvt_exit_reason_parse(const char *s, uint32_t *basic);

/* The qualification kind of a basic reason (NONE for unknown ones). */
enum hvtrace_qual_kind hvt_exit_qual_kind(uint32_t basic);
const char *hvt_qual_kind_name(enum hvtrace_qual_kind k);

/*
 * Asynchronous exits (external interrupt, NMI, interrupt/NMI window,
 * preemption timer): caused by events outside the guest's instruction
 * stream, so they move between runs of the same workload.
 */
int hvt_exit_is_async(const struct hvt_qual *q);

/* Names of well-known MSRs ("IA32_EFER"), NULL if unknown. */
const char *hvt_msr_name(uint32_t index, char *buf, size_t len);

/* "#UD", "#GP", "NMI"...; NULL for a vector without a mnemonic. */
const char *hvt_exception_name(unsigned int vector);

/* GPR name in SDM order ("rax" .. "r15"). */
const char *hvt_gpr_name(unsigned int i);

/*
 * Name of a hvtrace_resume.changed bit (HVTRACE_CHG_*): "rax".."r15",
 * "rip", "rflags", "xmm3.lo", "xmm3.hi", "mxcsr"; "bit51" beyond.
 */
const char *hvt_chg_name(unsigned int bit, char *buf, size_t len);

/* hvtrace_resume.action name ("RESUME", "STOP", "INJECT"), NULL if unknown. */
const char *hvt_action_name(unsigned int action);

#endif /* HVT_QUAL_H */
