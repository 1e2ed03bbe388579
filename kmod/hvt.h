/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvtrace internals shared by the core files (main.c, sandbox.c, sandbox_exit.c,
 * control.c, selftest.c).  Nothing here is ABI.
 */
#ifndef HVT_H
#define HVT_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/percpu.h>
#include <linux/completion.h>
#include <linux/stddef.h>
#include <linux/build_bug.h>
#include <asm/desc_defs.h>

#include "hvtrace_events.h"
#include "exit_reasons.h"
#include "uapi/hvtrace.h"
#include "workload.h"
#include "hvt_regs.h"

#define HVT_MODULE_VERSION	"0.1.0"

/* The guest's registers as the exit stub saves and restores them. */
struct hvt_regs {
	u64 gpr[HVT_NR_GPRS];	/* SDM order; gpr[HVT_R_RSP] mirrors GUEST_RSP */
	u64 xmm[32];		/* XMMi = xmm[2i] (low), xmm[2i+1] (high) */
	u32 mxcsr;
	u32 launched;		/* 0: next entry is VMLAUNCH, else VMRESUME */
};

static_assert(offsetof(struct hvt_regs, gpr[0]) == HVT_REGS_GPR(0));
static_assert(offsetof(struct hvt_regs, gpr[15]) == HVT_REGS_GPR(15));
static_assert(offsetof(struct hvt_regs, xmm[0]) == HVT_REGS_XMM(0));
static_assert(offsetof(struct hvt_regs, xmm[30]) == HVT_REGS_XMM(15));
static_assert(offsetof(struct hvt_regs, mxcsr) == HVT_REGS_MXCSR);
static_assert(offsetof(struct hvt_regs, launched) == HVT_REGS_LAUNCHED);
static_assert(sizeof(struct hvt_regs) == HVT_REGS_SIZE);

/*
 * Self-tests of the error paths: a deliberately broken VMCS (never used by
 * the workload library).
 */
enum hvt_vmcs_fault {
	HVT_FAULT_NONE = 0,
	HVT_FAULT_GUEST_STATE,	/* GUEST_RFLAGS bit 1 clear: VM-entry failure */
	HVT_FAULT_CONTROL,	/* CR3-target count 5 > 4: VMfailValid, error 7 */
	HVT_FAULT_VMXOFF,	/* VMXOFF reported failed (after really leaving) */
	HVT_FAULT_MCE,		/* the guest's #UD taken for a machine check */
};

/* A run request, filled by control.c, executed by sandbox.c on req->cpu. */
struct hvt_run_req {
	const struct hvt_workload *wl;
	u32 exc_bitmap;		/* exception bitmap (all ones but for selftests) */
	enum hvt_vmcs_fault fault;	/* selftests only */
	u64 seed;
	u64 iterations;
	u32 cpu;
	u64 trap_mask;		/* HVTRACE_TRAP_* in force (workload | request) */
	/* results */
	u64 run_id;
	u64 exits;
	s32 status;
	u32 end_reason;
	u32 vm_insn_error;
	bool vmxe_left;		/* CR4.VMXE found set after VMXOFF (a bug) */
	u64 host_mismatches;	/* host-state check failures (host_state.c) */
	int end_status;		/* ended from outside: CPU offline, reboot */
	/* set by the waiting ioctl when its caller is signalled */
	bool abort;
	struct completion done;
};

/* Per-CPU state of the virtual CPU while a run executes. */
struct hvt_vcpu {
	struct hvt_regs regs;		/* saved/restored by asm/vmexit.S */
	struct hvt_run_req *req;
	unsigned int cpu;

	/* exit being handled */
	u32 exit_reason;
	u64 exit_qual;
	u32 insn_len;
	u64 rip;
	u64 rflags;
	u64 changed;			/* HVTRACE_CHG_* bits set by handlers */
	u8 action;			/* HVTRACE_ACT_* */
	u32 intr_info;
	u32 idt_info;			/* IDT-vectoring information */
	u32 interruptibility;		/* guest interruptibility state */
	u32 inject_info, inject_error;	/* event injected with the entry */
	u64 chg_val[HVTRACE_CHG_NBITS - HVTRACE_CHG_CR0];	/* CR..bits */
	bool want_yield;		/* leave the FPU region before resuming */

	/* run state */
	u64 seq;			/* per vCPU, never reset within a load */
	u64 exits;
	u64 dropped;
	u64 vtsc_count;
	s32 status;
	u32 end_reason;
	u32 vm_insn_error;
	bool vmx_failed;		/* a VMX instruction failed */
	u64 msr_shadow[HVT_NR_SCRATCH_MSRS];
	u32 echo[HVT_NR_ECHO_PORTS];
	u64 cr0_mask, cr4_mask;
	u64 guest_cr3;
	u64 slice_start;		/* TSC when the run last (re)entered the FPU region */
	u64 slice_tsc;			/* host time budget before leaving it */
	u32 ctl_pin, ctl_proc, ctl_proc2, ctl_exit, ctl_entry;

	/* host state a VM exit does not restore in full (host_state.c) */
	struct {
		struct desc_ptr gdt, idt;
		unsigned long cr3, cr4;	/* in the VMCS host-state area */
		unsigned long dr7;
		u64 debugctl;
		u16 ldt_sel;
	} host;
	u64 host_mismatches;		/* host-state check failures, this run */

	/* trace records, kept here rather than on the stack */
	struct hvtrace_exit_rec exit_rec;
	struct hvtrace_resume_rec resume_rec;
	struct hvtrace_session_rec session_rec;
};

/* The host state the integrity check compares (host_state.c). */
struct hvt_host_snap {
	unsigned long cr0, cr3, cr4, cr4_kernel, dr7;
	struct desc_ptr gdt, idt;
	u16 ldt_sel, tr, cs, ss, ds, es, fs, gs;
	u64 efer, pat, debugctl, fs_base, gs_base, kernel_gs_base;
	u64 sysenter_cs, sysenter_esp, sysenter_eip;
	u64 star, lstar, cstar, sfmask, tsc_aux;
	u32 pkru;
};

/* Per-CPU resources, allocated on the first run on that CPU, freed at unload. */
struct hvt_cpu {
	struct hvt_vcpu vcpu;
	void *vmxon;			/* VMXON region (one page) */
	void *vmcs;			/* VMCS region (one page) */
	void *msr_bitmap;		/* one page */
	void *io_bitmap_a;		/* ports 0x0000..0x7fff */
	void *io_bitmap_b;		/* ports 0x8000..0xffff */
	void *guest_pgd;		/* guest CR3: the kernel half of the host's */
	void *stack;			/* guest stack, HVT_GUEST_STACK_SIZE, vmalloc'd */
	struct hvt_wl_args args;	/* what the guest gets in RDI */
	struct hvt_host_snap host_snap;	/* host state before the run */
	atomic_t busy;
	bool stuck;			/* VMXOFF failed: VMX left on, no runs */
	bool stuck_injected;		/* ... only by the selftest's injection */
};

/* Module-wide counters of rare events (main.c). */
struct hvt_stats {
	atomic64_t runs;
	atomic64_t runs_failed;
	atomic64_t vmx_failures;
	atomic64_t entry_failures;
	atomic64_t unhandled;
	atomic64_t run_tsc_total;	/* first VM entry to stop, every run */
	atomic64_t host_checks;		/* host-state comparisons made */
	atomic64_t host_mismatches;	/* ... that found a difference */
	atomic64_t mce_forwarded;	/* machine checks handed to the host */
};

/*
 * Per-exit counters, per CPU: runs on several CPUs at once never share a
 * cache line per exit.  Summed when read (control.c).
 */
struct hvt_pcpu_stats {
	u64 exits;
	u64 dropped;
	u64 by_reason[HVTRACE_NR_REASONS];
	u64 handler_tsc_total;	/* sum of resume TSC - exit TSC */
	u64 handler_exits;	/* exits handler_tsc_total covers */
	u64 yields;		/* hvt_yield calls between exits */
	u64 yield_tsc_total;	/* their time (inside handler_tsc) */
};
DECLARE_PER_CPU(struct hvt_pcpu_stats, hvt_pcpu_stats);
extern struct hvt_stats hvt_stats;

/* Index of each capability MSR in hvt_vmx_msrs[] (= hvtrace_session.vmx_msrs[]). */
#define HVT_MSRI(idx, name) HVT_MSRI_##name,
enum { HVTRACE_VMX_MSRS(HVT_MSRI) HVT_MSRI_COUNT };
#undef HVT_MSRI
extern u64 hvt_vmx_msrs[HVTRACE_NR_VMX_MSRS];
extern unsigned int hvt_slice_us;

/* Allocation accounting (main.c): every page/object the module owns. */
void *hvt_alloc_page(void);
void hvt_free_page(void *p);
void *hvt_alloc_pages(unsigned int order);
void hvt_free_pages(void *p, unsigned int order);
void *hvt_vzalloc(unsigned long size);
void hvt_vfree(void *p);
long hvt_allocs_outstanding(void);

/* sandbox.c: the sandbox backend (VMX setup, runs) */
int hvt_vmx_check_cpu(void);
int hvt_run(struct hvt_run_req *req);
void hvt_vmx_free_all(void);
int hvt_vmx_init(void);
int hvt_vmread(struct hvt_vcpu *v, unsigned long field, u64 *val);
int hvt_vmwrite(struct hvt_vcpu *v, unsigned long field, u64 val);
u64 hvt_vmread_or0(struct hvt_vcpu *v, unsigned long field);
void hvt_yield(struct hvt_vcpu *v);
int hvt_vmx_hotplug_init(void);
void hvt_vmx_hotplug_exit(void);
void hvt_vmx_reboot_selftest(void);

/* host_state.c */
extern unsigned int hvt_host_check;
void hvt_host_prepare_entry(struct hvt_vcpu *v);
void hvt_host_reload_debug(struct hvt_vcpu *v);
void hvt_host_restore(struct hvt_vcpu *v);
void hvt_host_snapshot(struct hvt_host_snap *s);
unsigned int hvt_host_compare(struct hvt_vcpu *v, const struct hvt_host_snap *want,
			      const char *where);
unsigned int hvt_host_compare_cpu(unsigned int cpu,
				  const struct hvt_host_snap *want,
				  const char *where);
void hvt_host_check_exit(struct hvt_vcpu *v);

/* exit_info.c: which exit-information fields an exit defines (SDM 28.2) */
#define HVT_DEF_INSN_LEN	BIT(0)
#define HVT_DEF_INSN_INFO	BIT(1)
#define HVT_DEF_LINEAR		BIT(2)
#define HVT_DEF_PHYS		BIT(3)
unsigned int hvt_exit_defined_fields(u32 reason, u64 qual, u32 intr_info,
				     u32 idt, bool ept);
void hvt_exit_clear_undefined(struct hvtrace_exit_rec *e, bool ept);
bool hvt_soft_event(u32 info);
u64 hvt_guest_cr_view(u64 cr, u64 mask, u64 shadow);

/* sandbox_exit.c: the sandbox backend's exit handlers */
int hvt_handle_exit(struct hvt_regs *regs);
const char *hvt_exit_reason_name(u32 basic);

/* control.c */
int hvt_control_init(void);
void hvt_control_exit(void);

/* selftest.c */
const struct hvt_workload *hvt_selftest_find(const char *name, u32 *exc_bitmap,
					     enum hvt_vmcs_fault *fault);
const struct hvt_workload *hvt_selftest_get(unsigned int index);

/* asm/vmexit.S */
int hvt_vmx_run(struct hvt_regs *regs);
void hvt_vmexit(void);

#endif /* HVT_H */
