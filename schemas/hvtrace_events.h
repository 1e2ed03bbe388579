/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hvtrace trace format, schema v3: the one definition of every event's
 * fields.  The kernel tracepoints (kmod/), the LTTng probe, the analyzer and
 * the synthetic trace writer all expand these lists; no field name is spelled
 * anywhere else.
 *
 * Each list is an X-macro over five field kinds:
 *   INT(type, name)              integer shown in decimal
 *   HEX(type, name)              integer shown in hex
 *   ARR(type, name, count)       fixed array of hex integers
 *   TXT(name, count)             NUL-padded text of at most count bytes
 *   SEQ(type, name, ltype, max)  variable-length array of hex integers; the
 *                                record holds ltype name##_len and type name[max]
 * Types are u8/u16/u32/u64/s32 (kernel names; userland gets typedefs below).
 *
 * LTTng event names are the tracepoint names: hvtrace_exit, hvtrace_resume,
 * hvtrace_session (TRACE_SYSTEM hvtrace; perf/ftrace call them
 * hvtrace:hvtrace_exit and so on, as kvm's are kvm:kvm_exit).
 */
#ifndef HVTRACE_SCHEMA_EVENTS_H
#define HVTRACE_SCHEMA_EVENTS_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
#endif

#define HVTRACE_SCHEMA_VERSION 3
/*
 * Oldest version the analyzer still reads (see HVTRACE_V2_FIELDS and
 * HVTRACE_V3_FIELDS).
 */
#define HVTRACE_SCHEMA_VERSION_MIN 1

/* Event names, as LTTng and babeltrace2 show them. */
#define HVTRACE_EVENT_EXIT	"hvtrace_exit"
#define HVTRACE_EVENT_RESUME	"hvtrace_resume"
#define HVTRACE_EVENT_SESSION	"hvtrace_session"

/*
 * hvtrace_exit: one per VM exit, the guest's full state at the exit.
 * gpr[] is in SDM register order (RAX RCX RDX RBX RSP RBP RSI RDI R8..R15);
 * gpr[4] equals rsp (the guest RSP lives in the VMCS).  xmm[2*i] is the low
 * and xmm[2*i+1] the high 64 bits of XMMi.  seq counts exits per vCPU from 1,
 * +1 each exit, never reset within a module load.
 *
 * Schema v2 appends: vm (0 for the sandbox and host mode; the per-load VM
 * number under KVM, whose VMM pid the session events give); cr0_shadow and
 * cr4_shadow, what the guest reads from CR0/CR4 (the read shadows; bits
 * outside the guest/host masks read as cr0/cr4); interruptibility, the
 * guest interruptibility state.  Exit-information fields the SDM leaves
 * undefined for an exit reason (insn_len, insn_info, guest_linear,
 * guest_phys, intr_error, idt_error) are recorded as 0.
 *
 * Schema v3 appends who caused the exit: pid (thread group id), tid
 * (thread id), comm (the thread's name, NUL padded) and cpl (the guest's
 * current privilege level, SS.DPL in the guest-state area: 0 kernel, 3
 * user).  Host mode: the task current on the CPU when the exit came (for
 * an exit in an interrupt handler, the task it interrupted; kernel
 * threads are themselves, the idle task is pid 0 tid 0 "swapper/N").
 * KVM: the VMM thread running the vCPU (pid the VMM process, tid the vCPU
 * thread) while cpl is the guest's.  Sandbox: the module's run thread
 * ("hvtrace/N") while cpl is the workload's.
 */
#define HVTRACE_EXIT_FIELDS(INT, HEX, ARR, TXT, SEQ)			\
	INT(u32, vcpu)							\
	INT(u64, seq)							\
	HEX(u32, exit_reason)						\
	HEX(u64, exit_qual)						\
	INT(u32, insn_len)						\
	HEX(u32, insn_info)						\
	HEX(u64, guest_linear)						\
	HEX(u64, guest_phys)						\
	HEX(u32, intr_info)						\
	HEX(u32, intr_error)						\
	HEX(u32, idt_info)						\
	HEX(u32, idt_error)						\
	HEX(u64, rip)							\
	HEX(u64, rsp)							\
	HEX(u64, rflags)						\
	HEX(u64, cr0)							\
	HEX(u64, cr3)							\
	HEX(u64, cr4)							\
	ARR(u64, gpr, 16)						\
	ARR(u64, xmm, 32)						\
	HEX(u32, mxcsr)							\
	INT(u64, tsc)							\
	INT(u32, vm)							\
	HEX(u64, cr0_shadow)						\
	HEX(u64, cr4_shadow)						\
	HEX(u32, interruptibility)					\
	INT(u32, pid)							\
	INT(u32, tid)							\
	TXT(comm, HVTRACE_COMM_LEN)					\
	INT(u8, cpl)

/* Bytes of hvtrace_exit.comm: the kernel's TASK_COMM_LEN. */
#define HVTRACE_COMM_LEN 16

/*
 * hvtrace_resume: one per VM entry that follows an exit (or per stop).
 * changed is a mask of HVTRACE_CHG_* bits; values[] holds the new value of
 * each set bit, in ascending bit order.  The state the guest resumes with is
 * the exit's state with these replacements.  inject_* are the VM-entry
 * interruption info and error code when action is HVTRACE_ACT_INJECT.
 * Schema v2 appends vm (as in hvtrace_exit) and the control-register,
 * read-shadow and interruptibility bits of changed.
 */
#define HVTRACE_RESUME_FIELDS(INT, HEX, ARR, TXT, SEQ)			\
	INT(u32, vcpu)							\
	INT(u64, seq)							\
	INT(u8, action)							\
	HEX(u64, changed)						\
	HEX(u32, inject_info)						\
	HEX(u32, inject_error)						\
	SEQ(u64, values, u8, HVTRACE_CHG_NBITS)				\
	INT(u64, tsc)							\
	INT(u32, vm)

/*
 * hvtrace_session: phase HVTRACE_PHASE_START when a run starts, and
 * HVTRACE_PHASE_END when it ends (then exits, dropped, status, end_reason
 * and vm_insn_error are final).  vmx_msrs[] holds the capability MSRs in
 * the order of HVTRACE_VMX_MSRS below.  dropped counts exits the module
 * handled while no tracer was attached to hvtrace_exit.
 *
 * Schema v2 appends: backend (HVTRACE_BACKEND_*), vm and vmm_pid (KVM: the
 * VM's number and its VMM's pid), kernel_release (uname -r of the traced
 * host), filtered (exits left out by a filter; dropped counts exits lost
 * for want of a tracer or buffer space) and host_mismatches (host-state
 * checks that failed during the run; 0 on a healthy host).
 */
#define HVTRACE_SESSION_FIELDS(INT, HEX, ARR, TXT, SEQ)			\
	INT(u8, phase)							\
	INT(u32, schema_version)					\
	TXT(module_version, 32)						\
	INT(u64, run_id)						\
	INT(u32, vcpu)							\
	TXT(workload, 32)						\
	INT(u64, seed)							\
	INT(u64, iterations)						\
	TXT(cpu_model, 48)						\
	ARR(u64, vmx_msrs, HVTRACE_NR_VMX_MSRS)				\
	HEX(u32, pin_ctls)						\
	HEX(u32, proc_ctls)						\
	HEX(u32, proc2_ctls)						\
	HEX(u32, exit_ctls)						\
	HEX(u32, entry_ctls)						\
	HEX(u32, exception_bitmap)					\
	HEX(u64, trap_mask)						\
	INT(u64, exits)							\
	INT(u64, dropped)						\
	INT(s32, status)						\
	HEX(u32, end_reason)						\
	INT(u32, vm_insn_error)						\
	INT(u64, tsc)							\
	INT(u8, backend)						\
	INT(u32, vm)							\
	INT(u32, vmm_pid)						\
	TXT(kernel_release, 64)						\
	INT(u64, filtered)						\
	INT(u64, host_mismatches)

/* Capability MSRs recorded in hvtrace_session.vmx_msrs[], in this order. */
#define HVTRACE_VMX_MSRS(M)						\
	M(0x480, VMX_BASIC)						\
	M(0x481, VMX_PINBASED_CTLS)					\
	M(0x482, VMX_PROCBASED_CTLS)					\
	M(0x483, VMX_EXIT_CTLS)						\
	M(0x484, VMX_ENTRY_CTLS)					\
	M(0x485, VMX_MISC)						\
	M(0x486, VMX_CR0_FIXED0)					\
	M(0x487, VMX_CR0_FIXED1)					\
	M(0x488, VMX_CR4_FIXED0)					\
	M(0x489, VMX_CR4_FIXED1)					\
	M(0x48a, VMX_VMCS_ENUM)						\
	M(0x48b, VMX_PROCBASED_CTLS2)					\
	M(0x48c, VMX_EPT_VPID_CAP)					\
	M(0x48d, VMX_TRUE_PINBASED_CTLS)				\
	M(0x48e, VMX_TRUE_PROCBASED_CTLS)				\
	M(0x48f, VMX_TRUE_EXIT_CTLS)					\
	M(0x490, VMX_TRUE_ENTRY_CTLS)
#define HVTRACE_NR_VMX_MSRS 17

/* hvtrace_session.phase */
#define HVTRACE_PHASE_START	0
#define HVTRACE_PHASE_END	1
#define HVTRACE_PHASE_ATTACH	2	/* a backend attached to a running VM */
#define HVTRACE_PHASE_DETACH	3	/* ... and detached (counters final) */
#define HVTRACE_PHASE_UNTRACEABLE 4	/* a VM whose state cannot be read */

/* hvtrace_session.backend */
#define HVTRACE_BACKEND_SANDBOX	0
#define HVTRACE_BACKEND_KVM	1
#define HVTRACE_BACKEND_HOST	2

/*
 * Fields that schema v1 traces lack: a reader zero-fills them there (and
 * only there: a v2 event class without them is not hvtrace's).
 * F(event list name, field name).
 */
#define HVTRACE_V2_FIELDS(F)						\
	F(HVTRACE_EVENT_EXIT, vm)					\
	F(HVTRACE_EVENT_EXIT, cr0_shadow)				\
	F(HVTRACE_EVENT_EXIT, cr4_shadow)				\
	F(HVTRACE_EVENT_EXIT, interruptibility)				\
	F(HVTRACE_EVENT_RESUME, vm)					\
	F(HVTRACE_EVENT_SESSION, backend)				\
	F(HVTRACE_EVENT_SESSION, vm)					\
	F(HVTRACE_EVENT_SESSION, vmm_pid)				\
	F(HVTRACE_EVENT_SESSION, kernel_release)			\
	F(HVTRACE_EVENT_SESSION, filtered)				\
	F(HVTRACE_EVENT_SESSION, host_mismatches)

/*
 * Fields that schema v1 and v2 traces lack: a reader zero-fills them there
 * (comm empty), and only there (a v3 event class without them is not
 * hvtrace's).  Same form as HVTRACE_V2_FIELDS.
 */
#define HVTRACE_V3_FIELDS(F)						\
	F(HVTRACE_EVENT_EXIT, pid)					\
	F(HVTRACE_EVENT_EXIT, tid)					\
	F(HVTRACE_EVENT_EXIT, comm)					\
	F(HVTRACE_EVENT_EXIT, cpl)

/* hvtrace_resume.action */
#define HVTRACE_ACTIONS(A)						\
	A(0, RESUME)	/* VMRESUME with the changes applied */		\
	A(1, STOP)	/* the run ends here; the guest is not resumed */	\
	A(2, INJECT)	/* VMRESUME injecting inject_info */
#define HVTRACE_A_ENUM(code, name) HVTRACE_ACT_##name = code,
enum hvtrace_action { HVTRACE_ACTIONS(HVTRACE_A_ENUM) };
#undef HVTRACE_A_ENUM

/*
 * hvtrace_resume.changed bits.  GPR bits use the SDM order of gpr[]; a
 * changed XMM register sets two bits (low half, high half).
 */
#define HVTRACE_CHG_GPR(i)	(i)		/* 0..15 */
#define HVTRACE_CHG_RIP		16
#define HVTRACE_CHG_RFLAGS	17
#define HVTRACE_CHG_XMM_LO(i)	(18 + 2 * (i))	/* 18..48 even */
#define HVTRACE_CHG_XMM_HI(i)	(19 + 2 * (i))	/* 19..49 odd */
#define HVTRACE_CHG_MXCSR	50
/* Schema v2: control registers, read shadows, interruptibility state. */
#define HVTRACE_CHG_CR0		51
#define HVTRACE_CHG_CR3		52
#define HVTRACE_CHG_CR4		53
#define HVTRACE_CHG_CR0_SHADOW	54
#define HVTRACE_CHG_CR4_SHADOW	55
#define HVTRACE_CHG_INTR_STATE	56
#define HVTRACE_CHG_NBITS	57

/* GPR names in SDM order, for printing: HVTRACE_GPRS(G) G(index, name). */
#define HVTRACE_GPRS(G)							\
	G(0, rax) G(1, rcx) G(2, rdx) G(3, rbx)				\
	G(4, rsp) G(5, rbp) G(6, rsi) G(7, rdi)				\
	G(8, r8) G(9, r9) G(10, r10) G(11, r11)				\
	G(12, r12) G(13, r13) G(14, r14) G(15, r15)

/*
 * Fields whose values differ between two runs with the same workload and
 * seed by design: ignored by `hvtrace diff` unless asked.  The VM number
 * and VMM pid name a KVM guest in one module load; two boots of one guest
 * get others.  The pid and tid of an exit's thread are the kernel's choice
 * at each run; its comm (the program's name) and cpl are compared.
 */
#define HVTRACE_NONDET_FIELDS(N)					\
	N(HVTRACE_EVENT_EXIT, tsc)					\
	N(HVTRACE_EVENT_RESUME, tsc)					\
	N(HVTRACE_EVENT_SESSION, run_id)				\
	N(HVTRACE_EVENT_SESSION, tsc)					\
	N(HVTRACE_EVENT_SESSION, vmm_pid)				\
	N(HVTRACE_EVENT_EXIT, vm)					\
	N(HVTRACE_EVENT_RESUME, vm)					\
	N(HVTRACE_EVENT_SESSION, vm)					\
	N(HVTRACE_EVENT_EXIT, pid)					\
	N(HVTRACE_EVENT_EXIT, tid)

/* Plain C records of the three events, generated from the lists above. */
#define HVTRACE_REC_FIELD(type, name) type name;
#define HVTRACE_REC_ARRAY(type, name, count) type name[count];
#define HVTRACE_REC_TEXT(name, count) char name[count];
#define HVTRACE_REC_SEQ(type, name, ltype, max) ltype name##_len; type name[max];
#define HVTRACE_REC_LIST(list)						\
	list(HVTRACE_REC_FIELD, HVTRACE_REC_FIELD, HVTRACE_REC_ARRAY,	\
	     HVTRACE_REC_TEXT, HVTRACE_REC_SEQ)

struct hvtrace_exit_rec { HVTRACE_REC_LIST(HVTRACE_EXIT_FIELDS) };
struct hvtrace_resume_rec { HVTRACE_REC_LIST(HVTRACE_RESUME_FIELDS) };
struct hvtrace_session_rec { HVTRACE_REC_LIST(HVTRACE_SESSION_FIELDS) };

#endif /* HVTRACE_SCHEMA_EVENTS_H */
