/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hvtrace control device (/dev/hvtrace) ABI.  Root-only (CAP_SYS_ADMIN).
 *
 * Every struct starts with size and version: the module rejects a size or a
 * version it does not know with -EINVAL, so the ABI can grow.
 */
#ifndef _UAPI_HVTRACE_H
#define _UAPI_HVTRACE_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/ioctl.h>
#else
#include <linux/types.h>
#include <sys/ioctl.h>
#endif

#define HVTRACE_DEVICE		"/dev/hvtrace"
#define HVTRACE_ABI_VERSION	1
#define HVTRACE_NAME_LEN	32

/*
 * Optional exit classes a run may trap, on top of those its workload needs
 * (struct hvtrace_run.trap_mask).  HVTRACE_TRAP_DEFAULT traps what the
 * workload documents.
 */
#define HVTRACE_TRAP_HLT	(1ULL << 0)
#define HVTRACE_TRAP_RDTSC	(1ULL << 1)	/* RDTSC and RDTSCP */
#define HVTRACE_TRAP_CR3	(1ULL << 2)	/* CR3 load and store */
#define HVTRACE_TRAP_CR0_CR4	(1ULL << 3)	/* CR0/CR4 guest/host masks */
#define HVTRACE_TRAP_MSR	(1ULL << 4)	/* every MSR through the bitmaps */
#define HVTRACE_TRAP_IO		(1ULL << 5)	/* every port through the bitmaps */
#define HVTRACE_TRAP_EXC	(1ULL << 6)	/* #UD #BP #GP via exception bitmap */
#define HVTRACE_TRAP_INVLPG	(1ULL << 7)
#define HVTRACE_TRAP_PAUSE	(1ULL << 8)
#define HVTRACE_TRAP_DEFAULT	0ULL

/* HVTRACE_IOC_RUN: run a workload to completion on one CPU. */
struct hvtrace_run {
	__u32 size;		/* in: sizeof(struct hvtrace_run) */
	__u32 version;		/* in: HVTRACE_ABI_VERSION */
	char workload[HVTRACE_NAME_LEN];	/* in: NUL-terminated name */
	__u64 seed;		/* in */
	__u64 iterations;	/* in: 1 .. HVTRACE_MAX_ITERATIONS */
	__u32 cpu;		/* in: online CPU to run on */
	__u32 flags;		/* in: 0 (reserved, must be zero) */
	__u64 trap_mask;	/* in: HVTRACE_TRAP_* */
	__u64 run_id;		/* out: id in the hvtrace_session events */
	__u64 exits;		/* out: VM exits of this run */
	__s32 status;		/* out: 0, or -errno why the run ended early */
	__u32 end_reason;	/* out: full exit reason of the last exit */
	__u32 vm_insn_error;	/* out: VM-instruction error on VMfailValid */
	__u32 reserved;
};
#define HVTRACE_MAX_ITERATIONS	(1ULL << 32)

/* HVTRACE_IOC_COUNTERS: module-wide counters since load. */
#define HVTRACE_NR_REASONS	128
struct hvtrace_counters {
	__u32 size;
	__u32 version;
	__u64 runs;
	__u64 runs_failed;
	__u64 exits;
	__u64 vmx_failures;	/* VMfailValid/VMfailInvalid of any VMX insn */
	__u64 entry_failures;	/* exits with reason bit 31 set */
	__u64 unhandled;	/* exits that stopped a run as unhandled */
	__u64 dropped;		/* exits while no tracer was attached */
	__u64 by_reason[HVTRACE_NR_REASONS];
	/*
	 * Handler time, counted whether or not a tracer is attached: the sum
	 * over exits of resume TSC - exit TSC (the two points the
	 * hvtrace_exit and hvtrace_resume events carry), and how many exits
	 * it covers.  run_tsc_total: TSC from the first VM entry of each run
	 * to its stop (guest time, exit/entry transitions and handlers).
	 */
	__u64 handler_tsc_total;
	__u64 handler_exits;
	__u64 run_tsc_total;
	/*
	 * Yields out of the run's FPU/irq-off region between exits and their
	 * TSC time, which is inside handler_tsc_total: the host's time
	 * (interrupts, scheduler, a trace consumer), not the exit's.
	 */
	__u64 yields;
	__u64 yield_tsc_total;
};

/* HVTRACE_IOC_WORKLOAD: describe workload number index (in); -ENOENT past the end. */
struct hvtrace_workload_info {
	__u32 size;
	__u32 version;
	__u32 index;		/* in */
	__u32 reserved;
	char name[HVTRACE_NAME_LEN];	/* out */
	char description[128];		/* out */
};

#define HVTRACE_IOC_MAGIC	'H'
#define HVTRACE_IOC_RUN		_IOWR(HVTRACE_IOC_MAGIC, 1, struct hvtrace_run)
#define HVTRACE_IOC_COUNTERS	_IOWR(HVTRACE_IOC_MAGIC, 2, struct hvtrace_counters)
#define HVTRACE_IOC_WORKLOAD	_IOWR(HVTRACE_IOC_MAGIC, 3, struct hvtrace_workload_info)

#endif /* _UAPI_HVTRACE_H */
