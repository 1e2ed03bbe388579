/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The workload plan: for (workload, seed, iterations) the exact sequence of
 * guest operations and the register values loaded before each one.  The
 * guest interpreter (kernel, workloads/guest.c) executes it; the end-to-end
 * checker (userland, tests/e2e/wlcheck.c) regenerates it and compares the
 * trace with it value by value.  Plain C: no kernel-only or libc-only
 * header, no floating point, no allocation; the state is a few words, so a
 * plan of 2^32 iterations costs no more memory than one of 1.
 */
#ifndef HVT_WL_PLAN_H
#define HVT_WL_PLAN_H

#include "../../schemas/hvtrace_events.h"
#include "frame.h"
#include "../hypercall.h"

/*
 * Guest operations: X(NAME, exits).  "exits" counts the synchronous VM
 * exits one operation causes (asynchronous exits come on top and vary).
 */
#define HVT_OP_KINDS(X)							\
	X(CPUID, 1)		/* CPUID leaf RAX subleaf RCX */	\
	X(WRMSR, 1)		/* WRMSR of a scratch MSR */		\
	X(RDMSR, 1)		/* RDMSR of a scratch MSR */		\
	X(RDMSR_HOST, 1)	/* RDMSR of a real MSR (PAT, EFER, APIC base) */ \
	X(WRMSR_GP, 1)		/* WRMSR of a non-scratch MSR: #GP fixup */ \
	X(OUT_ECHO, 1)		/* OUT to an echo port 0xe000..0xe00f */ \
	X(IN_ECHO, 1)		/* IN from an echo port */		\
	X(OUT_OTHER, 1)		/* OUT to an unclaimed port */		\
	X(IN_OTHER, 1)		/* IN from an unclaimed port */		\
	X(HC_MARKER, 1)		/* VMCALL HVT_HC_MARKER */		\
	X(HC_LOG, 1)		/* VMCALL HVT_HC_LOG, valid length */	\
	X(HC_LOG_BAD, 1)	/* VMCALL HVT_HC_LOG, length > 256: -EINVAL */ \
	X(HC_INVALID, 1)	/* VMCALL unknown number: -ENOSYS */	\
	X(HLT, 1)							\
	X(RDTSC, 1)							\
	X(RDTSCP, 1)							\
	X(CR0_TOGGLE, 2)	/* MOV to CR0 flipping CD, then back */	\
	X(CR4_TOGGLE, 2)	/* MOV to CR4 flipping PGE, then back */ \
	X(CR3_STORE, 1)		/* MOV from CR3 */			\
	X(CR3_RELOAD, 2)	/* MOV from CR3, MOV to CR3 */		\
	X(XSETBV, 1)		/* XSETBV XCR0 = current XCR0 */	\
	X(XSETBV_GP, 1)		/* XSETBV ECX = 1: #GP fixup */		\
	X(UD, 1)		/* UD2: #UD fixup */			\
	X(BP, 1)		/* INT3: #BP fixup */			\
	X(GP, 1)		/* load from a non-canonical address: #GP fixup */ \
	X(XMM_ARITH, 1)		/* SSE arithmetic, then VMCALL HVT_HC_MARKER */ \
	X(INVD, 1)		/* INVD: never executed, skipped (mix only) */ \
	X(FATAL, 1)		/* INT 0x21 with an empty IDT: run stops */

#define HVT_OP_ENUM(name, exits) HVT_OP_##name,
enum hvt_op_kind { HVT_OP_KINDS(HVT_OP_ENUM) HVT_OP_NKINDS };
#undef HVT_OP_ENUM

/*
 * The workloads: X(name, ops_per_iteration, description).  Each iteration
 * runs a fixed recipe of operations (mix: ops drawn at random among all
 * non-fatal kinds); see docs/workloads.md.
 */
#define HVT_WORKLOADS(X)						\
	X(cpuid, "CPUID over 22 leaves/subleaves: 4 exits per iteration") \
	X(msr, "scratch WRMSR, 2 scratch RDMSR, host RDMSR, WRMSR #GP: "	\
	       "5 exits per iteration")					\
	X(io, "OUT+2 IN echo ports, IN+OUT unclaimed, sizes 1/2/4: "	\
	      "5 exits per iteration")					\
	X(vmcall, "VMCALL marker, log, bad log, unknown number: "	\
		  "4 exits per iteration")				\
	X(hlt, "HLT: 1 exit per iteration")				\
	X(rdtsc, "RDTSC, RDTSCP (virtual TSC): 2 exits per iteration")	\
	X(cr, "CR0.CD and CR4.PGE shadow toggles, CR3 store, CR3 reload: " \
	      "7 exits per iteration")					\
	X(xsetbv, "XSETBV of current XCR0, XSETBV ECX=1 #GP: "		\
		  "2 exits per iteration")				\
	X(exceptions, "#UD ud2, #BP int3, #GP non-canonical, fixups: "	\
		      "3 exits per iteration")				\
	X(xmm, "SSE arithmetic under seeded MXCSR, VMCALL: "		\
	       "1 exit per iteration")					\
	X(mix, "8 seeded random operations of every kind per iteration") \
	X(triplefault, "CPUID: 1 exit per iteration, then INT with empty " \
		       "IDT: #GP exit, run stops -EFAULT")

#define HVT_WL_ENUM(name, desc) HVT_WL_##name,
enum hvt_workload_id { HVT_WORKLOADS(HVT_WL_ENUM) HVT_WL_COUNT };
#undef HVT_WL_ENUM

/* Operations per iteration of the mix workload. */
#define HVT_MIX_OPS		8

/*
 * Around the scratch MSRs and echo ports of the sandbox device model
 * (hypercall.h): MSRs the hypervisor refuses, ports it leaves unclaimed.
 */
#define HVT_BAD_MSR_BASE	0x40000110u	/* .. +0xef: never written */
#define HVT_BAD_MSR_SPAN	0xf0
#define HVT_OTHER_PORT_BASE	0xe010u	/* unclaimed, via DX */
#define HVT_OTHER_PORT_COUNT	16
#define HVT_OTHER_PORT_IMM	0x80u	/* unclaimed, immediate form */

/* Hypercall numbers no hypervisor implements (HC_INVALID). */
#define HVT_HC_INVALID_BASE	0x48561000u
#define HVT_HC_INVALID_SPAN	0x1000

/* HC_LOG lengths: valid 1..HVT_LOG_TEXT_LEN; bad 257..257+4095. */
#define HVT_LOG_MAX		256
#define HVT_LOG_TEXT_LEN	48

/* The status a run of the workload ends with (0, or -EFAULT = -14). */
#define HVT_STATUS_EFAULT	(-14)

#ifndef __ASSEMBLY__

/*
 * Code the guest executes in VMX non-root operation: never instrumented by
 * the function tracer (an ftrace hook there would read the TSC and run
 * host tracing code inside the guest), and in the kernel never probed: the
 * module's .kprobes.text is on kprobes' blacklist, since a probe's INT3
 * would trap in the guest and end the run.
 */
#ifdef __KERNEL__
#define HVT_GUEST_CODE __attribute__((__no_instrument_function__)) \
	__attribute__((__section__(".kprobes.text")))
#else
#define HVT_GUEST_CODE __attribute__((__no_instrument_function__))
#endif

/* The registers an operation starts from; layout as in frame.h. */
struct hvt_guest_frame {
	u64 gpr[16];
	u64 xmm[32];
	u64 rflags;
	u32 mxcsr;
	u32 pad;
};

_Static_assert(sizeof(struct hvt_guest_frame) == HVT_FRAME_SIZE,
	       "frame.h offsets");
_Static_assert(__builtin_offsetof(struct hvt_guest_frame, rflags) ==
	       HVT_FRAME_RFLAGS, "frame.h offsets");
_Static_assert(__builtin_offsetof(struct hvt_guest_frame, mxcsr) ==
	       HVT_FRAME_MXCSR, "frame.h offsets");

/* One guest operation of the plan. */
struct hvt_op {
	u32 kind;		/* enum hvt_op_kind */
	u32 size;		/* I/O: 1, 2 or 4 bytes */
	u32 port;		/* I/O port */
	u32 imm;		/* I/O: 1 = immediate-port form, 0 = DX */
	u32 reg;		/* CR ops: the GPR operand (never RSP) */
	u32 msr;		/* MSR ops: the index in ECX */
	u32 leaf, subleaf;	/* CPUID: EAX, ECX */
	/*
	 * GPRs (bit i = gpr[i]) whose value at the exit is not the frame's
	 * but computed by the guest at run time: RSP always; CR toggles the
	 * operand (current CR ^ bit, then current CR); CR3 ops nothing;
	 * XSETBV RAX RCX RDX (current XCR0, ECX); HC_LOG RBX (the buffer).
	 */
	u32 gpr_runtime;
	u64 iteration;		/* 0-based */
	u32 index;		/* operation number within the iteration */
	struct hvt_guest_frame frame;
};

/* Generator state: constant size whatever the iteration count. */
struct hvt_plan {
	u32 workload;		/* enum hvt_workload_id */
	u64 seed;
	u64 iterations;
	u64 rng;
	u64 iter;		/* current iteration */
	u32 step;		/* next operation within the iteration */
	u32 tail_done;		/* triplefault's final op emitted */
};

/* Workload id of @name, or -1 if there is no such workload. */
int hvt_plan_workload_id(const char *name);
const char *hvt_plan_workload_name(unsigned int id);
const char *hvt_plan_workload_desc(unsigned int id);
const char *hvt_plan_op_name(unsigned int kind);

/* Synchronous exits of one operation of @kind. */
unsigned int hvt_plan_op_exits(unsigned int kind);

/*
 * Synchronous exits of every iteration of workload @id, or 0 when the
 * count varies per iteration (mix: the sum of its operations' counts).
 */
unsigned int hvt_plan_iteration_exits(unsigned int id);

/* Operations per iteration of workload @id. */
unsigned int hvt_plan_iteration_ops(unsigned int id);

/*
 * Whether a run of workload @id ends with the entry trampoline's
 * HVT_HC_END (1 VMCALL exit, action STOP, status 0), or with its FATAL
 * operation (action STOP, status HVT_STATUS_EFAULT).
 */
int hvt_plan_ends_with_fatal(unsigned int id);

/* 0, or -1 for an unknown workload or iterations == 0. */
int hvt_plan_init(struct hvt_plan *p, unsigned int id, u64 seed,
		  u64 iterations);

/* 1: *op is the next operation; 0: the plan is complete. */
int hvt_plan_next(struct hvt_plan *p, struct hvt_op *op);

/* The guest-side text HC_LOG prints (its first op.gpr[RCX] bytes). */
extern const char hvt_plan_log_text[HVT_LOG_TEXT_LEN + 1];

#endif /* __ASSEMBLY__ */

#endif /* HVT_WL_PLAN_H */
