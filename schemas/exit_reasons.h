/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMX basic exit reasons (Intel SDM Vol. 3C, Appendix C), the one table of
 * their names, and the kind of exit qualification each one carries.
 *
 * HVTRACE_EXIT_REASONS(X) expands X(code, NAME, qual_kind) once per reason.
 * Users define X and expand it; nothing else spells a reason's name.
 * Codes not in the table print as UNKNOWN(n).
 */
#ifndef HVTRACE_SCHEMA_EXIT_REASONS_H
#define HVTRACE_SCHEMA_EXIT_REASONS_H

/* How the analyzer decodes an exit's qualification (and related state). */
#define HVTRACE_QUAL_KINDS(Q)						\
	Q(NONE)		/* nothing beyond the reason */			\
	Q(EXCEPTION)	/* vector/type from VM-exit interruption info */	\
	Q(CPUID)	/* leaf = RAX, subleaf = RCX at the exit */		\
	Q(MSR)		/* MSR index = RCX at the exit */		\
	Q(IO)		/* port, direction, size, string/rep (Table 28-5) */	\
	Q(CR)		/* CR number, access type, GPR (Table 28-3) */	\
	Q(DR)		/* DR number, direction, GPR (Table 28-4) */	\
	Q(VMCALL)	/* hypercall number = RAX at the exit */		\
	Q(EPT)		/* access bits and guest-physical address */	\
	Q(TASK_SWITCH)	/* selector and source (Table 28-2) */		\
	Q(INVLPG)	/* linear address in the qualification */

#define HVTRACE_EXIT_REASONS(X)						\
	X(0, EXCEPTION_NMI, EXCEPTION)					\
	X(1, EXTERNAL_INTERRUPT, NONE)					\
	X(2, TRIPLE_FAULT, NONE)					\
	X(3, INIT_SIGNAL, NONE)						\
	X(4, SIPI, NONE)						\
	X(5, IO_SMI, NONE)						\
	X(6, OTHER_SMI, NONE)						\
	X(7, INTERRUPT_WINDOW, NONE)					\
	X(8, NMI_WINDOW, NONE)						\
	X(9, TASK_SWITCH, TASK_SWITCH)					\
	X(10, CPUID, CPUID)						\
	X(11, GETSEC, NONE)						\
	X(12, HLT, NONE)						\
	X(13, INVD, NONE)						\
	X(14, INVLPG, INVLPG)						\
	X(15, RDPMC, NONE)						\
	X(16, RDTSC, NONE)						\
	X(17, RSM, NONE)						\
	X(18, VMCALL, VMCALL)						\
	X(19, VMCLEAR, NONE)						\
	X(20, VMLAUNCH, NONE)						\
	X(21, VMPTRLD, NONE)						\
	X(22, VMPTRST, NONE)						\
	X(23, VMREAD, NONE)						\
	X(24, VMRESUME, NONE)						\
	X(25, VMWRITE, NONE)						\
	X(26, VMXOFF, NONE)						\
	X(27, VMXON, NONE)						\
	X(28, CR_ACCESS, CR)						\
	X(29, DR_ACCESS, DR)						\
	X(30, IO_INSTRUCTION, IO)					\
	X(31, RDMSR, MSR)						\
	X(32, WRMSR, MSR)						\
	X(33, ENTRY_FAIL_GUEST_STATE, NONE)				\
	X(34, ENTRY_FAIL_MSR_LOAD, NONE)				\
	X(36, MWAIT, NONE)						\
	X(37, MONITOR_TRAP_FLAG, NONE)					\
	X(39, MONITOR, NONE)						\
	X(40, PAUSE, NONE)						\
	X(41, ENTRY_FAIL_MACHINE_CHECK, NONE)				\
	X(43, TPR_BELOW_THRESHOLD, NONE)				\
	X(44, APIC_ACCESS, NONE)					\
	X(45, VIRTUALIZED_EOI, NONE)					\
	X(46, GDTR_IDTR_ACCESS, NONE)					\
	X(47, LDTR_TR_ACCESS, NONE)					\
	X(48, EPT_VIOLATION, EPT)					\
	X(49, EPT_MISCONFIG, NONE)					\
	X(50, INVEPT, NONE)						\
	X(51, RDTSCP, NONE)						\
	X(52, PREEMPTION_TIMER, NONE)					\
	X(53, INVVPID, NONE)						\
	X(54, WBINVD, NONE)						\
	X(55, XSETBV, NONE)						\
	X(56, APIC_WRITE, NONE)						\
	X(57, RDRAND, NONE)						\
	X(58, INVPCID, NONE)						\
	X(59, VMFUNC, NONE)						\
	X(60, ENCLS, NONE)						\
	X(61, RDSEED, NONE)						\
	X(62, PML_FULL, NONE)						\
	X(63, XSAVES, NONE)						\
	X(64, XRSTORS, NONE)						\
	X(65, PCONFIG, NONE)						\
	X(66, SPP_EVENT, NONE)						\
	X(67, UMWAIT, NONE)						\
	X(68, TPAUSE, NONE)						\
	X(69, LOADIWKEY, NONE)						\
	X(70, ENCLV, NONE)						\
	X(72, ENQCMD_PASID_FAIL, NONE)					\
	X(73, ENQCMDS_PASID_FAIL, NONE)					\
	X(74, BUS_LOCK, NONE)						\
	X(75, NOTIFY, NONE)						\
	X(76, SEAMCALL, NONE)						\
	X(77, TDCALL, NONE)

/* One past the largest basic reason in the table: size of per-reason arrays. */
#define HVTRACE_EXIT_REASON_MAX 78

/* Bits of the full 32-bit exit reason field (SDM 25.9.1). */
#define HVTRACE_EXIT_REASON_BASIC_MASK	0xffffu
#define HVTRACE_EXIT_REASON_ENTRY_FAIL	(1u << 31)

/* enum hvtrace_exit_reason { HVTRACE_EXIT_CPUID = 10, ... } */
#define HVTRACE_X_ENUM(code, name, qual) HVTRACE_EXIT_##name = code,
enum hvtrace_exit_reason { HVTRACE_EXIT_REASONS(HVTRACE_X_ENUM) };
#undef HVTRACE_X_ENUM

#define HVTRACE_Q_ENUM(kind) HVTRACE_QUAL_##kind,
enum hvtrace_qual_kind { HVTRACE_QUAL_KINDS(HVTRACE_Q_ENUM) HVTRACE_QUAL_NKINDS };
#undef HVTRACE_Q_ENUM

#endif /* HVTRACE_SCHEMA_EXIT_REASONS_H */
