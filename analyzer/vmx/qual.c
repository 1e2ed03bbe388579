// SPDX-License-Identifier: GPL-2.0
/*
 * Exit names and exit-qualification decoding.  Bit layouts are those of the
 * Intel SDM Vol. 3C, section 28.2.1 (Tables 28-2 to 28-7) and 25.9.2 (VM-exit
 * interruption information).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../kmod/hypercall.h"
#include "vmx/qual.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- exit reasons -------------------------------------------------------- */

#define REASON_NAME(code, name, kind) [code] = #name,
static const char *const reason_names[HVTRACE_EXIT_REASON_MAX] = {
	HVTRACE_EXIT_REASONS(REASON_NAME)
};
#undef REASON_NAME

#define REASON_KIND(code, name, kind) [code] = HVTRACE_QUAL_##kind,
static const unsigned char reason_kinds[HVTRACE_EXIT_REASON_MAX] = {
	HVTRACE_EXIT_REASONS(REASON_KIND)
};
#undef REASON_KIND

#define KIND_NAME(kind) #kind,
static const char *const kind_names[HVTRACE_QUAL_NKINDS] = {
	HVTRACE_QUAL_KINDS(KIND_NAME)
};
#undef KIND_NAME

const char *hvt_exit_reason_name(uint32_t basic)
{
	return basic < HVTRACE_EXIT_REASON_MAX ? reason_names[basic] : NULL;
}

enum hvtrace_qual_kind hvt_exit_qual_kind(uint32_t basic)
{
	if (basic < HVTRACE_EXIT_REASON_MAX && reason_names[basic])
		return (enum hvtrace_qual_kind)reason_kinds[basic];
	return HVTRACE_QUAL_NONE;
}

const char *hvt_qual_kind_name(enum hvtrace_qual_kind k)
{
	return (unsigned int)k < HVTRACE_QUAL_NKINDS ? kind_names[k] : "?";
}

int hvt_exit_reason_format(uint32_t reason, char *buf, size_t len)
{
	uint32_t basic = reason & HVTRACE_EXIT_REASON_BASIC_MASK;
	const char *name = hvt_exit_reason_name(basic);
	const char *fail = (reason & HVTRACE_EXIT_REASON_ENTRY_FAIL) ?
		"(entry-failure)" : "";

	if (name)
		return snprintf(buf, len, "%s%s", name, fail);
	return snprintf(buf, len, "UNKNOWN(%" PRIu32 ")%s", basic, fail);
}

int hvt_exit_reason_parse(const char *s, uint32_t *basic)
{
	unsigned long v;
	char *end;
	uint32_t i;

	if (!s || !*s)
		return -1;
	for (i = 0; i < HVTRACE_EXIT_REASON_MAX; i++)
		if (reason_names[i] && !strcasecmp(s, reason_names[i])) {
			*basic = i;
			return 0;
		}
	if (!strncasecmp(s, "UNKNOWN(", 8))
		s += 8;
	v = strtoul(s, &end, 0);
	if (end == s || (*end && strcmp(end, ")")) || v > HVTRACE_EXIT_REASON_BASIC_MASK ||
	    !isdigit((unsigned char)*s))
		return -1;
	*basic = (uint32_t)v;
	return 0;
}

int hvt_exit_is_async(const struct hvt_qual *q)
{
	switch (q->basic) {
	case HVTRACE_EXIT_EXTERNAL_INTERRUPT:
	case HVTRACE_EXIT_INTERRUPT_WINDOW:
	case HVTRACE_EXIT_NMI_WINDOW:
	case HVTRACE_EXIT_PREEMPTION_TIMER:
		return 1;
	case HVTRACE_EXIT_EXCEPTION_NMI:
		/* Interruption type 2 is an NMI, not a guest exception. */
		return q->u.exc.valid && q->u.exc.type == 2;
	default:
		return 0;
	}
}

/* ---- names ----------------------------------------------------------------- */

#define GPR_NAME(i, name) [i] = #name,
static const char *const gpr_names[16] = { HVTRACE_GPRS(GPR_NAME) };
#undef GPR_NAME

const char *hvt_gpr_name(unsigned int i)
{
	return i < 16 ? gpr_names[i] : "?";
}

const char *hvt_chg_name(unsigned int bit, char *buf, size_t len)
{
	if (bit < 16)
		return gpr_names[bit];
	if (bit == HVTRACE_CHG_RIP)
		return "rip";
	if (bit == HVTRACE_CHG_RFLAGS)
		return "rflags";
	if (bit == HVTRACE_CHG_MXCSR)
		return "mxcsr";
	if (bit >= HVTRACE_CHG_XMM_LO(0) && bit <= HVTRACE_CHG_XMM_HI(15))
		snprintf(buf, len, "xmm%u.%s", (bit - HVTRACE_CHG_XMM_LO(0)) / 2,
			 (bit - HVTRACE_CHG_XMM_LO(0)) % 2 ? "hi" : "lo");
	else
		snprintf(buf, len, "bit%u", bit);
	return buf;
}

#define ACTION_NAME(code, name) [code] = #name,
static const char *const action_names[] = { HVTRACE_ACTIONS(ACTION_NAME) };
#undef ACTION_NAME

const char *hvt_action_name(unsigned int action)
{
	return action < ARRAY_LEN(action_names) ? action_names[action] : NULL;
}

static const char *const exc_names[32] = {
	[0] = "#DE", [1] = "#DB", [2] = "NMI", [3] = "#BP", [4] = "#OF",
	[5] = "#BR", [6] = "#UD", [7] = "#NM", [8] = "#DF", [10] = "#TS",
	[11] = "#NP", [12] = "#SS", [13] = "#GP", [14] = "#PF", [16] = "#MF",
	[17] = "#AC", [18] = "#MC", [19] = "#XM", [20] = "#VE", [21] = "#CP",
	[28] = "#HV", [29] = "#VC", [30] = "#SX",
};

const char *hvt_exception_name(unsigned int vector)
{
	return vector < 32 ? exc_names[vector] : NULL;
}

/* Interruption types, SDM 25.9.2 (VM-exit interruption information 10:8). */
static const char *const intr_types[8] = {
	"ext-interrupt", "reserved", "nmi", "hw-exception",
	"sw-interrupt", "priv-sw-exception", "sw-exception", "other-event",
};

struct msr_name {
	uint32_t lo, hi;	/* a range: the name gets the offset appended */
	const char *name;
};

#define VMX_MSR(idx, name) { idx, idx, "IA32_" #name },
static const struct msr_name msr_names[] = {
	{ 0x10, 0x10, "IA32_TIME_STAMP_COUNTER" },
	{ 0x1b, 0x1b, "IA32_APIC_BASE" },
	{ 0x3a, 0x3a, "IA32_FEATURE_CONTROL" },
	{ 0x3b, 0x3b, "IA32_TSC_ADJUST" },
	{ 0x48, 0x48, "IA32_SPEC_CTRL" },
	{ 0x49, 0x49, "IA32_PRED_CMD" },
	{ 0x8b, 0x8b, "IA32_BIOS_SIGN_ID" },
	{ 0xe7, 0xe7, "IA32_MPERF" },
	{ 0xe8, 0xe8, "IA32_APERF" },
	{ 0xfe, 0xfe, "IA32_MTRRCAP" },
	{ 0x10a, 0x10a, "IA32_ARCH_CAPABILITIES" },
	{ 0x174, 0x174, "IA32_SYSENTER_CS" },
	{ 0x175, 0x175, "IA32_SYSENTER_ESP" },
	{ 0x176, 0x176, "IA32_SYSENTER_EIP" },
	{ 0x179, 0x179, "IA32_MCG_CAP" },
	{ 0x17a, 0x17a, "IA32_MCG_STATUS" },
	{ 0x1a0, 0x1a0, "IA32_MISC_ENABLE" },
	{ 0x1d9, 0x1d9, "IA32_DEBUGCTL" },
	{ 0x200, 0x20f, "IA32_MTRR_PHYS" },
	{ 0x277, 0x277, "IA32_PAT" },
	{ 0x2ff, 0x2ff, "IA32_MTRR_DEF_TYPE" },
	HVTRACE_VMX_MSRS(VMX_MSR)
	{ 0x491, 0x491, "IA32_VMX_VMFUNC" },
	{ 0x6e0, 0x6e0, "IA32_TSC_DEADLINE" },
	{ 0x800, 0x8ff, "IA32_X2APIC" },
	{ 0xda0, 0xda0, "IA32_XSS" },
	{ 0x40000100, 0x4000010f, "HVTRACE_SCRATCH" },
	{ 0xc0000080, 0xc0000080, "IA32_EFER" },
	{ 0xc0000081, 0xc0000081, "IA32_STAR" },
	{ 0xc0000082, 0xc0000082, "IA32_LSTAR" },
	{ 0xc0000083, 0xc0000083, "IA32_CSTAR" },
	{ 0xc0000084, 0xc0000084, "IA32_FMASK" },
	{ 0xc0000100, 0xc0000100, "IA32_FS_BASE" },
	{ 0xc0000101, 0xc0000101, "IA32_GS_BASE" },
	{ 0xc0000102, 0xc0000102, "IA32_KERNEL_GS_BASE" },
	{ 0xc0000103, 0xc0000103, "IA32_TSC_AUX" },
};
#undef VMX_MSR

const char *hvt_msr_name(uint32_t index, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(msr_names); i++) {
		const struct msr_name *m = &msr_names[i];

		if (index < m->lo || index > m->hi)
			continue;
		if (m->lo == m->hi)
			return m->name;
		snprintf(buf, len, "%s+0x%" PRIx32, m->name, index - m->lo);
		return buf;
	}
	return NULL;
}

static const struct { uint64_t nr; const char *name; } hypercalls[] = {
	{ HVT_HC_END, "HVT_HC_END" },
	{ HVT_HC_MARKER, "HVT_HC_MARKER" },
	{ HVT_HC_LOG, "HVT_HC_LOG" },
};

static const char *hypercall_name(uint64_t nr)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(hypercalls); i++)
		if (hypercalls[i].nr == nr)
			return hypercalls[i].name;
	return NULL;
}

/* ---- decoding ---------------------------------------------------------- */

/*
 * CPUID leaves whose output depends on ECX (SDM CPUID, "sub-leaf").  For
 * every other leaf ECX is ignored by the CPU, so it is not part of the key.
 */
static int cpuid_has_subleaf(uint32_t leaf)
{
	static const uint32_t leaves[] = {
		0x4, 0x7, 0xb, 0xd, 0xf, 0x10, 0x12, 0x14, 0x17, 0x18, 0x1b,
		0x1d, 0x1f, 0x20, 0x23, 0x24, 0x8000001d, 0x80000020, 0x80000026,
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(leaves); i++)
		if (leaves[i] == leaf)
			return 1;
	return 0;
}

void hvt_qual_decode(const struct hvtrace_exit_rec *e, struct hvt_qual *q)
{
	uint64_t x = e->exit_qual;

	memset(q, 0, sizeof(*q));
	q->reason = e->exit_reason;
	q->basic = e->exit_reason & HVTRACE_EXIT_REASON_BASIC_MASK;
	q->entry_failure = !!(e->exit_reason & HVTRACE_EXIT_REASON_ENTRY_FAIL);
	q->kind = hvt_exit_qual_kind(q->basic);

	switch (q->kind) {
	case HVTRACE_QUAL_CPUID:
		q->u.cpuid.leaf = (uint32_t)e->gpr[0];
		q->u.cpuid.has_subleaf = cpuid_has_subleaf(q->u.cpuid.leaf);
		q->u.cpuid.subleaf = q->u.cpuid.has_subleaf ? (uint32_t)e->gpr[1] : 0;
		q->key = (uint64_t)q->u.cpuid.leaf << 32 | q->u.cpuid.subleaf;
		break;
	case HVTRACE_QUAL_MSR:
		q->u.msr.index = (uint32_t)e->gpr[1];
		q->u.msr.write = q->basic == HVTRACE_EXIT_WRMSR;
		q->key = q->u.msr.index;
		break;
	case HVTRACE_QUAL_IO:	/* Table 28-5 */
		q->u.io.size = (uint8_t)((x & 7) + 1);	/* 0, 1, 3: 1, 2, 4 bytes */
		q->u.io.in = (x >> 3) & 1;
		q->u.io.string = (x >> 4) & 1;
		q->u.io.rep = (x >> 5) & 1;
		q->u.io.imm = (x >> 6) & 1;
		q->u.io.port = (uint16_t)(x >> 16);
		q->key = q->u.io.port | (uint64_t)q->u.io.size << 16 |
			 (uint64_t)q->u.io.in << 24 | (uint64_t)q->u.io.string << 25 |
			 (uint64_t)q->u.io.rep << 26;
		break;
	case HVTRACE_QUAL_CR:	/* Table 28-3 */
		q->u.cr.cr = x & 0xf;
		q->u.cr.access = (x >> 4) & 3;
		q->u.cr.lmsw_mem = (x >> 6) & 1;
		q->u.cr.gpr = (x >> 8) & 0xf;
		q->u.cr.lmsw_data = (uint16_t)(x >> 16);
		q->key = q->u.cr.cr | (uint64_t)q->u.cr.access << 4;
		if (q->u.cr.access <= HVT_CR_MOV_FROM)
			q->key |= (uint64_t)q->u.cr.gpr << 8;
		break;
	case HVTRACE_QUAL_DR:	/* Table 28-4 */
		q->u.dr.dr = x & 7;
		q->u.dr.from_dr = (x >> 4) & 1;
		q->u.dr.gpr = (x >> 8) & 0xf;
		q->key = q->u.dr.dr | (uint64_t)q->u.dr.from_dr << 4 |
			 (uint64_t)q->u.dr.gpr << 8;
		break;
	case HVTRACE_QUAL_EXCEPTION:	/* interruption information, 25.9.2 */
		q->u.exc.valid = (e->intr_info >> 31) & 1;
		q->u.exc.vector = e->intr_info & 0xff;
		q->u.exc.type = (e->intr_info >> 8) & 7;
		q->u.exc.has_error = (e->intr_info >> 11) & 1;
		q->u.exc.error = e->intr_error;
		q->key = q->u.exc.valid ?
			q->u.exc.vector | (uint64_t)q->u.exc.type << 8 : 0xffff;
		break;
	case HVTRACE_QUAL_VMCALL:
		q->u.vmcall.nr = e->gpr[0];
		q->key = q->u.vmcall.nr;
		break;
	case HVTRACE_QUAL_EPT:	/* Table 28-7 */
		q->u.ept.access = x & 7;
		q->u.ept.perms = (x >> 3) & 7;
		q->u.ept.linear_valid = (x >> 7) & 1;
		q->u.ept.translation = (x >> 8) & 1;
		q->u.ept.gpa = e->guest_phys;
		q->u.ept.gla = e->guest_linear;
		q->key = q->u.ept.access | (uint64_t)q->u.ept.linear_valid << 3 |
			 (uint64_t)q->u.ept.translation << 4;
		break;
	case HVTRACE_QUAL_TASK_SWITCH:	/* Table 28-2 */
		q->u.ts.selector = (uint16_t)x;
		q->u.ts.source = (x >> 30) & 3;
		q->key = q->u.ts.selector | (uint64_t)q->u.ts.source << 16;
		break;
	case HVTRACE_QUAL_INVLPG:
		q->u.invlpg.addr = x;
		q->key = x;
		break;
	default:
		break;
	}
}

/* ---- text ---------------------------------------------------------------- */

static const char *const cr_access_names[4] = { "mov to", "mov from", "clts", "lmsw" };
static const char *const ts_sources[4] = { "call", "iret", "jmp", "idt-gate" };

int hvt_qual_format(const struct hvt_qual *q, char *buf, size_t len,
		    unsigned int flags)
{
	int full = flags & HVT_QUAL_FULL;
	const char *name;
	char nbuf[48];
	int n;

	if (len)
		buf[0] = '\0';
	switch (q->kind) {
	case HVTRACE_QUAL_CPUID:
		if (q->u.cpuid.has_subleaf)
			return snprintf(buf, len, "leaf 0x%" PRIx32 " subleaf 0x%" PRIx32,
					q->u.cpuid.leaf, q->u.cpuid.subleaf);
		return snprintf(buf, len, "leaf 0x%" PRIx32, q->u.cpuid.leaf);
	case HVTRACE_QUAL_MSR:
		name = hvt_msr_name(q->u.msr.index, nbuf, sizeof(nbuf));
		return snprintf(buf, len, "0x%" PRIx32 "%s%s", q->u.msr.index,
				name ? " " : "", name ? name : "");
	case HVTRACE_QUAL_IO:
		return snprintf(buf, len, "%s%s 0x%x %uB%s", q->u.io.rep ? "rep " : "",
				q->u.io.in ? (q->u.io.string ? "ins" : "in") :
					     (q->u.io.string ? "outs" : "out"),
				q->u.io.port, q->u.io.size,
				full ? (q->u.io.imm ? " imm" : " dx") : "");
	case HVTRACE_QUAL_CR:
		switch (q->u.cr.access) {
		case HVT_CR_MOV_TO:
			return snprintf(buf, len, "mov to cr%u from %s", q->u.cr.cr,
					hvt_gpr_name(q->u.cr.gpr));
		case HVT_CR_MOV_FROM:
			return snprintf(buf, len, "mov from cr%u to %s", q->u.cr.cr,
					hvt_gpr_name(q->u.cr.gpr));
		case HVT_CR_CLTS:
			return snprintf(buf, len, "clts");
		default:
			if (full)
				return snprintf(buf, len, "lmsw 0x%x (%s)", q->u.cr.lmsw_data,
						q->u.cr.lmsw_mem ? "memory" : "register");
			return snprintf(buf, len, "%s", cr_access_names[HVT_CR_LMSW]);
		}
	case HVTRACE_QUAL_DR:
		if (q->u.dr.from_dr)
			return snprintf(buf, len, "mov from dr%u to %s", q->u.dr.dr,
					hvt_gpr_name(q->u.dr.gpr));
		return snprintf(buf, len, "mov to dr%u from %s", q->u.dr.dr,
				hvt_gpr_name(q->u.dr.gpr));
	case HVTRACE_QUAL_EXCEPTION:
		if (!q->u.exc.valid)
			return snprintf(buf, len, "no event");
		name = q->u.exc.type == 0 || q->u.exc.type == 4 ? NULL :
			hvt_exception_name(q->u.exc.vector);
		if (name)
			n = snprintf(buf, len, "%s %s", name, intr_types[q->u.exc.type]);
		else
			n = snprintf(buf, len, "vector 0x%x %s", q->u.exc.vector,
				     intr_types[q->u.exc.type]);
		if (full && q->u.exc.has_error && n >= 0 && (size_t)n < len)
			n += snprintf(buf + n, len - n, " error 0x%" PRIx32, q->u.exc.error);
		return n;
	case HVTRACE_QUAL_VMCALL:
		name = hypercall_name(q->u.vmcall.nr);
		return snprintf(buf, len, "nr 0x%" PRIx64 "%s%s", q->u.vmcall.nr,
				name ? " " : "", name ? name : "");
	case HVTRACE_QUAL_EPT:
		n = snprintf(buf, len, "%c%c%c%s%s",
			     q->u.ept.access & 1 ? 'r' : '-', q->u.ept.access & 2 ? 'w' : '-',
			     q->u.ept.access & 4 ? 'x' : '-',
			     q->u.ept.linear_valid ? " linear" : "",
			     q->u.ept.linear_valid ?
				(q->u.ept.translation ? " translation" : " paging-entry") : "");
		if (full && n >= 0 && (size_t)n < len)
			n += snprintf(buf + n, len - n, " gpa 0x%" PRIx64 " perm %c%c%c",
				      q->u.ept.gpa, q->u.ept.perms & 1 ? 'r' : '-',
				      q->u.ept.perms & 2 ? 'w' : '-',
				      q->u.ept.perms & 4 ? 'x' : '-');
		return n;
	case HVTRACE_QUAL_TASK_SWITCH:
		return snprintf(buf, len, "%s selector 0x%x", ts_sources[q->u.ts.source],
				q->u.ts.selector);
	case HVTRACE_QUAL_INVLPG:
		return snprintf(buf, len, "addr 0x%" PRIx64, q->u.invlpg.addr);
	default:
		return 0;
	}
}
