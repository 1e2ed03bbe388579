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
	/*
	 * Host-state integrity checks made (module parameter host_check) and
	 * how many found the host changed (a bug of hvtrace: 0 expected);
	 * machine checks handed to the host's handler.
	 */
	__u64 host_checks;
	__u64 host_mismatches;
	__u64 mce_forwarded;
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

/*
 * HVTRACE_IOC_KVM_ATTACH: trace the VM exits of KVM's guests (kvm_intel)
 * through kvm.ko's kvm_exit/kvm_entry tracepoints.  One attachment at a
 * time (EBUSY); it belongs to the file descriptor that made it and ends
 * with HVTRACE_IOC_KVM_DETACH or when that descriptor is closed.
 */
#define HVTRACE_KVM_MAX_PIDS	16
struct hvtrace_kvm_attach {
	__u32 size;		/* in: sizeof(struct hvtrace_kvm_attach) */
	__u32 version;		/* in: HVTRACE_ABI_VERSION */
	__u32 flags;		/* in: 0 (reserved) */
	__u32 nr_pids;		/* in: 0 = every VMM, else pids[0..nr_pids) */
	__s32 pids[HVTRACE_KVM_MAX_PIDS];	/* in: VMM pids (kvm->userspace_pid) */
	/* in: basic exit reasons to record, bit n = reason n; all 0 = every reason */
	__u64 reasons[HVTRACE_NR_REASONS / 64];
	__u64 attach_id;	/* out: run_id of this attachment's session events */
};

/*
 * HVTRACE_IOC_KVM_DETACH (the caller's attachment; out: its final counters)
 * and HVTRACE_IOC_KVM_STATS (the current or last attachment, any caller).
 */
struct hvtrace_kvm_stats {
	__u32 size;		/* in: sizeof(struct hvtrace_kvm_stats) */
	__u32 version;		/* in: HVTRACE_ABI_VERSION */
	__u64 attach_id;	/* 0: never attached */
	__u32 attached;		/* 1 while attached */
	__u32 reserved;
	__u64 exits;		/* every kvm_exit seen while attached */
	__u64 traced;		/* hvtrace_exit events emitted */
	__u64 resumes;		/* hvtrace_resume events emitted */
	__u64 filtered_pid;	/* exits of VMMs not selected */
	__u64 filtered_reason;	/* exits whose reason was not selected */
	__u64 dropped;		/* no tracer on hvtrace_exit, or no memory */
	__u64 untraceable;	/* exits of guests with protected state */
	__u64 vms;		/* VMs seen (each got a VM number) */
	__u64 vcpus;		/* vCPUs seen */
	__u64 fpu_from_memory;	/* XMM/MXCSR read from the saved guest fpstate */
};

/*
 * Host mode: virtualize the running Linux on chosen CPUs and trace the
 * exits it chose to trap (kmod/host_mode.c).  HVTRACE_IOC_HOST_ON starts a
 * session (one at a time: EBUSY); it belongs to the file descriptor that
 * made it and ends with HVTRACE_IOC_HOST_OFF or when that descriptor is
 * closed.  CPUID always exits; trap_mask adds HVTRACE_TRAP_RDTSC,
 * HVTRACE_TRAP_MSR (the msrs[] ranges), HVTRACE_TRAP_IO (the ports[]
 * ranges) and HVTRACE_TRAP_EXC (exc_bitmap; never #DB, NMI or #MC).
 */
#define HVTRACE_HOST_MAX_RANGES	8
struct hvtrace_host_range {
	__u32 first;		/* inclusive */
	__u32 last;		/* inclusive */
};

struct hvtrace_host_on {
	__u32 size;		/* in: sizeof(struct hvtrace_host_on) */
	__u32 version;		/* in: HVTRACE_ABI_VERSION */
	__u64 cpus;		/* in: bit n = CPU n; 0 = every online CPU (< 64) */
	__u64 trap_mask;	/* in: HVTRACE_TRAP_RDTSC|MSR|IO|EXC */
	__u32 exc_bitmap;	/* in: vectors, with HVTRACE_TRAP_EXC */
	__u32 flags;		/* in: 0 (reserved) */
	__u32 nr_msrs;		/* in: ranges used in msrs[] */
	__u32 nr_ports;		/* in: ranges used in ports[] */
	struct hvtrace_host_range msrs[HVTRACE_HOST_MAX_RANGES];
	struct hvtrace_host_range ports[HVTRACE_HOST_MAX_RANGES];
	__u64 session_id;	/* out: run_id of the session events */
	__u64 virtualized;	/* out: CPUs virtualized */
};

/*
 * HVTRACE_IOC_HOST_OFF (the caller's session; out: final counters) and
 * HVTRACE_IOC_HOST_STATS (the current or last session, any caller).
 */
struct hvtrace_host_stats {
	__u32 size;		/* in: sizeof(struct hvtrace_host_stats) */
	__u32 version;		/* in: HVTRACE_ABI_VERSION */
	__u64 session_id;	/* 0: never started */
	__u64 virtualized;	/* CPUs virtualized now */
	__u64 exits;		/* every VM exit of the session */
	__u64 traced;		/* exit records emitted as hvtrace_exit */
	__u64 dropped;		/* no tracer attached, or a full buffer */
	__u64 buffer_full;	/* ... of which for a full buffer */
	__u64 filtered;		/* the ring drainer's own exits (not recorded) */
	__u64 unhandled;	/* exits answered with #UD as unexpected */
	__u64 ud_injected;	/* #UD injected (VMX insns, GETSEC, bad VMCALL) */
	__u64 host_checks;	/* host-state comparisons at (de)virtualization */
	__u64 host_mismatches;	/* ... that found a difference (0 expected) */
	__u64 by_reason[HVTRACE_NR_REASONS];
};

#define HVTRACE_IOC_MAGIC	'H'
#define HVTRACE_IOC_RUN		_IOWR(HVTRACE_IOC_MAGIC, 1, struct hvtrace_run)
#define HVTRACE_IOC_COUNTERS	_IOWR(HVTRACE_IOC_MAGIC, 2, struct hvtrace_counters)
#define HVTRACE_IOC_WORKLOAD	_IOWR(HVTRACE_IOC_MAGIC, 3, struct hvtrace_workload_info)
#define HVTRACE_IOC_KVM_ATTACH	_IOWR(HVTRACE_IOC_MAGIC, 4, struct hvtrace_kvm_attach)
#define HVTRACE_IOC_KVM_DETACH	_IOWR(HVTRACE_IOC_MAGIC, 5, struct hvtrace_kvm_stats)
#define HVTRACE_IOC_KVM_STATS	_IOWR(HVTRACE_IOC_MAGIC, 6, struct hvtrace_kvm_stats)
#define HVTRACE_IOC_HOST_ON	_IOWR(HVTRACE_IOC_MAGIC, 7, struct hvtrace_host_on)
#define HVTRACE_IOC_HOST_OFF	_IOWR(HVTRACE_IOC_MAGIC, 8, struct hvtrace_host_stats)
#define HVTRACE_IOC_HOST_STATS	_IOWR(HVTRACE_IOC_MAGIC, 9, struct hvtrace_host_stats)

#endif /* _UAPI_HVTRACE_H */
