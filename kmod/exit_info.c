// SPDX-License-Identifier: GPL-2.0
/*
 * Exit information as the SDM defines it (Vol. 3C, 28.2), for every capture
 * backend: which fields an exit defines, what the guest reads from its
 * control registers.  The trace records undefined fields as 0 (schema v2).
 */
#include <linux/kernel.h>
#include <asm/vmx.h>

#include "hvt.h"

static const u8 hvt_exit_defined[HVTRACE_NR_REASONS] = {
	/* Instruction-caused exits: the length of that instruction. */
	[HVTRACE_EXIT_TASK_SWITCH] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_CPUID] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_GETSEC] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_HLT] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_INVD] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_INVLPG] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_RDPMC] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_RDTSC] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_VMCALL] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_VMCLEAR] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
	[HVTRACE_EXIT_VMLAUNCH] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_VMPTRLD] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
	[HVTRACE_EXIT_VMPTRST] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
	[HVTRACE_EXIT_VMREAD] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
	[HVTRACE_EXIT_VMRESUME] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_VMWRITE] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
	[HVTRACE_EXIT_VMXOFF] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_VMXON] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
	[HVTRACE_EXIT_CR_ACCESS] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_DR_ACCESS] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_IO_INSTRUCTION] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_RDMSR] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_WRMSR] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_MWAIT] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_MONITOR] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_PAUSE] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_GDTR_IDTR_ACCESS] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
	[HVTRACE_EXIT_LDTR_TR_ACCESS] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
	[HVTRACE_EXIT_EPT_VIOLATION] = HVT_DEF_PHYS,
	[HVTRACE_EXIT_EPT_MISCONFIG] = HVT_DEF_PHYS,
	[HVTRACE_EXIT_INVEPT] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
	[HVTRACE_EXIT_RDTSCP] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_INVVPID] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
	[HVTRACE_EXIT_WBINVD] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_XSETBV] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_RDRAND] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
	[HVTRACE_EXIT_INVPCID] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
	[HVTRACE_EXIT_VMFUNC] = HVT_DEF_INSN_LEN,
	[HVTRACE_EXIT_RDSEED] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
	[HVTRACE_EXIT_XSAVES] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
	[HVTRACE_EXIT_XRSTORS] = HVT_DEF_INSN_LEN | HVT_DEF_INSN_INFO,
};

/* Software interrupts and exceptions (INT n, INT3/INTO, INT1). */
bool hvt_soft_event(u32 info)
{
	u32 type = info & INTR_INFO_INTR_TYPE_MASK;

	return (info & INTR_INFO_VALID_MASK) &&
	       (type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_SOFT_EXCEPTION ||
		type == INTR_TYPE_PRIV_SW_EXCEPTION);
}

/**
 * hvt_exit_defined_fields - the exit-information fields defined for an exit
 * @reason: full exit reason
 * @qual: exit qualification
 * @intr_info: VM-exit interruption information
 * @idt: IDT-vectoring information
 * @ept: "enable EPT" is in force
 *
 * Returns HVT_DEF_* bits: the rest read as 0 in the trace rather than as
 * whatever an earlier exit left in the VMCS (schema v2).
 */
unsigned int hvt_exit_defined_fields(u32 reason, u64 qual, u32 intr_info,
				     u32 idt, bool ept)
{
	u32 basic = reason & HVTRACE_EXIT_REASON_BASIC_MASK;
	unsigned int d = basic < HVTRACE_NR_REASONS ? hvt_exit_defined[basic] : 0;
	u64 q = qual;

	if (reason & HVTRACE_EXIT_REASON_ENTRY_FAIL)
		return 0;
	if (basic == HVTRACE_EXIT_EXCEPTION_NMI && hvt_soft_event(intr_info))
		d |= HVT_DEF_INSN_LEN;
	if (hvt_soft_event(idt))	/* exit during a software event's delivery */
		d |= HVT_DEF_INSN_LEN;
	if (basic == HVTRACE_EXIT_IO_INSTRUCTION && (q & BIT(4)))
		d |= HVT_DEF_LINEAR | HVT_DEF_INSN_INFO;	/* INS/OUTS */
	if (basic == HVTRACE_EXIT_CR_ACCESS && ((q >> 4) & 3) == 3 && (q & BIT(6)))
		d |= HVT_DEF_LINEAR;				/* LMSW m16 */
	if (basic == HVTRACE_EXIT_EPT_VIOLATION && (q & BIT(7)))
		d |= HVT_DEF_LINEAR;
	/* The field exists only with "enable EPT" (SDM 25.9.4). */
	if (!ept)
		d &= ~HVT_DEF_PHYS;
	return d;
}

/**
 * hvt_exit_clear_undefined - zero what the SDM leaves undefined in a record
 * @e: an exit record filled from the VMCS
 * @ept: "enable EPT" is in force
 *
 * For backends that read every field (the KVM backend); the sandbox reads
 * only the defined ones.
 */
void hvt_exit_clear_undefined(struct hvtrace_exit_rec *e, bool ept)
{
	unsigned int d = hvt_exit_defined_fields(e->exit_reason, e->exit_qual,
						 e->intr_info, e->idt_info, ept);

	if (!(d & HVT_DEF_INSN_LEN))
		e->insn_len = 0;
	if (!(d & HVT_DEF_INSN_INFO))
		e->insn_info = 0;
	if (!(d & HVT_DEF_LINEAR))
		e->guest_linear = 0;
	if (!(d & HVT_DEF_PHYS))
		e->guest_phys = 0;
	if (!((e->intr_info & INTR_INFO_VALID_MASK) &&
	      (e->intr_info & INTR_INFO_DELIVER_CODE_MASK)))
		e->intr_error = 0;
	if (!((e->idt_info & VECTORING_INFO_VALID_MASK) &&
	      (e->idt_info & VECTORING_INFO_DELIVER_CODE_MASK)))
		e->idt_error = 0;
}

/*
 * What the guest reads from CR0/CR4: the read shadow for the bits the host
 * owns (guest/host mask), the register for the others.
 */
u64 hvt_guest_cr_view(u64 cr, u64 mask, u64 shadow)
{
	return (cr & ~mask) | (shadow & mask);
}

