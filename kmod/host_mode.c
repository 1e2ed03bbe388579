// SPDX-License-Identifier: GPL-2.0
/*
 * Host mode: the running Linux becomes a guest on the CPUs the user picks
 * (SimpleVisor's design), its trapped exits are traced, and the CPUs are
 * given back.
 *
 *  - Virtualization: a cross-call on each chosen CPU captures that CPU's
 *    live state into its VMCS (guest state = exactly what the CPU holds),
 *    and hvt_host_launch() (asm/host_vmexit.S) VMLAUNCHes so that the
 *    interrupted kernel code simply continues, in VMX non-root operation.
 *  - Host side: per-CPU VMXON region, VMCS, 16 KiB host stack and a fixed
 *    HOST_CR3 = the kernel's own page tables, never a user mm: the guest
 *    switches CR3 freely without exiting.  init_mm is not exported to
 *    modules, so HOST_CR3 is a top-level table holding the kernel half of
 *    swapper_pg_dir (taken from any PGD: every mm's kernel half is a copy
 *    of it, and those top-level entries never change after boot, the
 *    vmalloc and module areas being pre-allocated) and an empty user half,
 *    as swapper_pg_dir has.
 *  - Pass-through: external interrupts and NMIs do not exit (they reach
 *    Linux through its own IDT as on bare metal; in VMX root, where RFLAGS.IF
 *    is 0, only an NMI or #MC can arrive, and the kernel's handlers run on
 *    their IST stacks with the kernel's GS base, CR3 and IDT, which HOST_*
 *    give).  Exception bitmap empty, MSR and I/O bitmaps clear, unless the
 *    session asks.  VPID on when the CPU has it with INVVPID.
 *  - Always exiting, handled here: CPUID (executed for the guest: the guest
 *    sees exactly the hardware's values, nothing hidden, VMX included),
 *    XSETBV (executed), INVD (WBINVD instead: never drop dirty lines),
 *    GETSEC and every VMX instruction (#UD, as a CPU without VMX in reach),
 *    INIT (the CPU waits for SIPI as it would), MSR accesses outside the
 *    bitmap's ranges (executed), CR4 writes that touch VMXE.
 *  - CR4.VMXE is hidden: it is in the CR4 guest/host mask and the read
 *    shadow holds what the guest last wrote there (0 at first).
 *  - Devirtualization: a VMCALL with the module's random key from CPL 0
 *    (anything else gets #UD, as VMCALL outside VMX does) makes the exit
 *    handler put every piece of guest state into the hardware, execute
 *    VMXOFF and IRETQ into the caller.  Unload, the end of a session, CPU
 *    hotplug teardown, suspend/hibernation and reboot/kexec all
 *    devirtualize first; a session's CPU that comes back (online again,
 *    resume) is virtualized again (KVM's design: cpuhp and syscore_ops).
 *  - Tracing: the exit handler never calls into a tracer.  It writes the
 *    exit record (full state) and the resume record into a per-CPU
 *    single-producer ring (its own memory, no lock: the interrupted kernel
 *    may hold any lock, be inside the tracer or in RCU-idle code), and a
 *    per-CPU kthread drains the rings into the hvtrace_exit/hvtrace_resume
 *    tracepoints from process context.  A full ring or no tracer attached
 *    is counted (dropped), never silent.
 */
#define pr_fmt(fmt) "hvtrace: " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/syscore_ops.h>
#include <linux/utsname.h>
#include <linux/vmalloc.h>
#include <asm/cpu_entry_area.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/xcr.h>
#include <asm/invpcid.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>
#include <asm/vmx.h>

#include "hvt.h"
#include "vmx_ops.h"
#include "host_mode.h"
#include "hvtrace_trace.h"

/* 6.6 renamed the control SECONDARY_EXEC_ENABLE_XSAVES. */
#ifndef SECONDARY_EXEC_XSAVES
#define SECONDARY_EXEC_XSAVES	SECONDARY_EXEC_ENABLE_XSAVES
#endif

/* VMCALL that devirtualizes: RAX = this, RBX = hvt_host_key, CPL 0. */
#define HVT_HOST_HC_DEVIRT	0x4856540000000001ull	/* "HVT" + 1 */

#define HVT_HOST_STACK_ORDER	2			/* 16 KiB */
#define HVT_HOST_STACK_SIZE	(PAGE_SIZE << HVT_HOST_STACK_ORDER)
#define HVT_HOST_RING		1024			/* records per CPU */
#define HVT_HOST_MAX_CPUS	64			/* uapi: a u64 mask */

#define HVT_AR_UNUSABLE		BIT(16)
#define HVT_AR_TSS_BUSY64	0x8b
#define HVT_MISC_WAIT_SIPI	BIT_ULL(8)	/* IA32_VMX_MISC */
#define HVT_VPID_INVVPID	BIT_ULL(32)	/* IA32_VMX_EPT_VPID_CAP */
#define HVT_VPID_SINGLE		BIT_ULL(41)
#define HVT_VPID_ALL		BIT_ULL(42)
#define HVT_INVVPID_SINGLE	1
#define HVT_INVVPID_ALL		2
#define HVT_BASIC_TRUE_CTLS	BIT_ULL(55)

/* Vectors a session may not trap: their handling belongs to the host. */
#define HVT_HOST_EXC_FORBIDDEN	(BIT(X86_TRAP_DB) | BIT(X86_TRAP_NMI) | \
				 BIT(X86_TRAP_MC))
#define HVT_HOST_TRAPS		(HVTRACE_TRAP_RDTSC | HVTRACE_TRAP_MSR | \
				 HVTRACE_TRAP_IO | HVTRACE_TRAP_EXC)

/*
 * What the exit stub builds on the host stack (asm/host_vmexit.S): the
 * GPRs in SDM order, then an IRETQ frame used only to devirtualize, then
 * this CPU's struct.  HOST_RSP points at .rip.
 */
struct hvt_host_frame {
	u64 gpr[HVT_NR_GPRS];
	u64 rip, cs, rflags, rsp, ss;
	struct hvt_host_cpu *pc;
};
static_assert(offsetof(struct hvt_host_frame, rip) == 16 * 8);
static_assert(sizeof(struct hvt_host_frame) == 22 * 8);

/* One traced exit: both records (the exit's says who caused it). */
struct hvt_host_rec {
	struct hvtrace_exit_rec exit;
	struct hvtrace_resume_rec resume;
};
static_assert(HVTRACE_COMM_LEN == TASK_COMM_LEN);

enum hvt_host_action { HVT_H_RESUME, HVT_H_INJECT, HVT_H_LEAVE };

/* Controls and traps of a session, the same on every CPU. */
struct hvt_host_cfg {
	u32 pin, proc, proc2, exitc, entryc;
	u32 exc_bitmap;
	u64 trap_mask;
	bool vpid, vpid_single, wait_sipi, mtf;
	struct hvtrace_host_on on;
};

struct hvt_host_cpu {
	unsigned int cpu;
	void *vmxon, *vmcs, *msr_bitmap, *io_a, *io_b;
	void *stack;
	struct hvt_host_rec *ring;
	unsigned long ring_head;	/* written by the exit handler only */
	unsigned long ring_tail;	/* written by the drainer only */
	struct task_struct *drainer;
	bool draining;			/* the drainer emits on this CPU now */
	bool want;			/* in the session: virtualize when back */
	bool active;			/* in VMX non-root operation */
	bool in_vmx;			/* VMXON done, VMXOFF not yet */
	int err;
	u64 entry_fail, entry_qual;	/* exit of a failed VMLAUNCH */
	u32 vm_insn_error;
	u16 vpid;
	u64 host_cr3;
	u64 cr4_mask;
	u32 mtf_port, mtf_size;		/* I/O bits reopened for one instruction */
	bool mtf_armed;

	/* the exit being handled (VMX root only) */
	struct hvt_host_frame *f;
	u32 reason, insn_len, intr_info, idt_info, interruptibility;
	u64 qual, rip, rflags;
	u64 changed;
	u64 chg_val[HVTRACE_CHG_NBITS - HVTRACE_CHG_CR0];
	u32 inject_info, inject_error;
	u64 seq;

	/* counters: written on this CPU in VMX root, read after the session */
	u64 exits, recorded, dropped, buffer_full, self_filtered;
	u64 unhandled, ud_injected, vmx_errors, io_reopened;
	u64 by_reason[HVTRACE_NR_REASONS];
	u64 traced;			/* drainer */
	u64 host_checks, host_mismatches;
	struct hvtrace_session_rec session;
};

static DEFINE_MUTEX(hvt_host_lock);
static struct hvt_host_cpu *hvt_host_cpus[HVT_HOST_MAX_CPUS];
static struct hvt_host_cfg hvt_host_cfg;
static void *hvt_host_pgd;	/* HOST_CR3 of every CPU of the session */
static struct file *hvt_host_owner;
static u64 hvt_host_session_id;
static u64 hvt_host_sessions;
static u64 hvt_host_key;
static struct hvtrace_host_stats hvt_host_last;	/* of the last session */
static enum cpuhp_state hvt_host_cpuhp;
/* The END records' status: 0, or -ECANCELED when reboot/kexec ended it. */
static int hvt_host_end_status;
static char hvt_host_model[48];

int hvt_host_launch(void);
void hvt_host_vmexit(void);
int hvt_host_handle_exit(struct hvt_host_frame *f);
void hvt_host_resume_failed(struct hvt_host_frame *f);

/* ---- small helpers (VMX root safe: no printk, no locks) --------------- */

static u64 hvt_vr(struct hvt_host_cpu *pc, unsigned long field)
{
	unsigned long v;

	if (__hvt_vmread(field, &v))
		pc->vmx_errors++;
	return v;
}

static void hvt_vw(struct hvt_host_cpu *pc, unsigned long field, u64 val)
{
	if (__hvt_vmwrite(field, val))
		pc->vmx_errors++;
}

static void hvt_raw_write_cr4(unsigned long v)
{
	asm volatile("mov %0, %%cr4" : : "r" (v) : "memory");
}

static void hvt_raw_write_cr3(unsigned long v)
{
	asm volatile("mov %0, %%cr3" : : "r" (v) : "memory");
}

static void hvt_invvpid(unsigned long type, u16 vpid)
{
	struct {
		u64 vpid;
		u64 gla;
	} op = { vpid, 0 };

	asm volatile("invvpid %0, %1" : : "m" (op), "r" (type) : "cc", "memory");
}

/*
 * Every TLB entry of VPID 0, every PCID, globals included.  At
 * virtualization: HOST_CR3 runs with PCID 0, which the kernel stops
 * flushing after boot (under PTI its kernel mappings are not global and
 * its flushes reach only the ASIDs it tracks), so entries of PCID 0 could
 * be stale; everything the exit handler touches afterwards (module text,
 * host stacks, rings, per-CPU data, task structs) stays mapped unchanged
 * until devirtualization.  At devirtualization: the guest's TLB work was
 * done under its VPID, so VPID 0 may hold translations it since changed.
 */
static void hvt_host_flush_all(void)
{
	unsigned long cr4;

	if (boot_cpu_has(X86_FEATURE_INVPCID)) {
		invpcid_flush_all();
		return;
	}
	cr4 = __read_cr4();
	hvt_raw_write_cr4(cr4 ^ X86_CR4_PGE);
	hvt_raw_write_cr4(cr4);
}

/* The guest's TLB after an emulated CR write that must flush it. */
static void hvt_host_flush_guest(struct hvt_host_cpu *pc)
{
	if (!pc->vpid)
		return;		/* VPID 0: every VM entry flushes anyway */
	hvt_invvpid(hvt_host_cfg.vpid_single ? HVT_INVVPID_SINGLE :
		    HVT_INVVPID_ALL, pc->vpid);
}

static u32 hvt_ar(u16 sel)
{
	u32 ar;

	if (!(sel & ~3))
		return HVT_AR_UNUSABLE;
	asm("lar %1, %0" : "=r" (ar) : "r" ((u32)sel));
	return (ar >> 8) & 0xf0ff;
}

static u32 hvt_lsl(u16 sel)
{
	u32 limit;

	if (!(sel & ~3))
		return 0;
	asm("lsl %1, %0" : "=r" (limit) : "r" ((u32)sel));
	return limit;
}

static u16 hvt_sldt(void)
{
	u16 sel;

	asm volatile("sldt %0" : "=rm" (sel));
	return sel;
}

static u16 hvt_str(void)
{
	u16 sel;

	asm volatile("str %0" : "=rm" (sel));
	return sel;
}

#define HVT_SEG(seg) ({ u16 __s; asm volatile("mov %%" #seg ", %0" : "=rm" (__s)); __s; })

/* Base of a 16-byte system descriptor (LDT) in the GDT. */
static u64 hvt_sys_base(const struct desc_ptr *gdt, u16 sel)
{
	const struct ldttss_desc *d = (const void *)(gdt->address + (sel & ~7));

	return d->base0 | ((u64)d->base1 << 16) | ((u64)d->base2 << 24) |
	       ((u64)d->base3 << 32);
}

static u32 hvt_adjust(int plain, int true_ctl, u32 want)
{
	u64 cap = hvt_vmx_msrs[(hvt_vmx_msrs[HVT_MSRI_VMX_BASIC] &
				HVT_BASIC_TRUE_CTLS) ? true_ctl : plain];

	return (want | (u32)cap) & (u32)(cap >> 32);
}

/* ---- session configuration (process context) -------------------------- */

static int hvt_host_config(struct hvt_host_cfg *c, const struct hvtrace_host_on *on)
{
	u64 vpid_cap = hvt_vmx_msrs[HVT_MSRI_VMX_EPT_VPID_CAP];
	u64 proc2_cap = hvt_vmx_msrs[HVT_MSRI_VMX_PROCBASED_CTLS2];
	u32 want, unhandled, p2;

	memset(c, 0, sizeof(*c));
	c->on = *on;
	c->trap_mask = on->trap_mask;
	c->exc_bitmap = (on->trap_mask & HVTRACE_TRAP_EXC) ? on->exc_bitmap : 0;

	/* No interrupt, NMI or preemption-timer exiting: pass-through. */
	c->pin = hvt_adjust(HVT_MSRI_VMX_PINBASED_CTLS,
			    HVT_MSRI_VMX_TRUE_PINBASED_CTLS, 0);
	if (c->pin & (PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING |
		      PIN_BASED_VMX_PREEMPTION_TIMER)) {
		pr_err("host mode: the CPU forces interrupt or NMI exiting (pin-based %#x)\n",
		       c->pin);
		return -EOPNOTSUPP;
	}
	want = CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_USE_IO_BITMAPS |
	       CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
	if (on->trap_mask & HVTRACE_TRAP_RDTSC)
		want |= CPU_BASED_RDTSC_EXITING;
	c->proc = hvt_adjust(HVT_MSRI_VMX_PROCBASED_CTLS,
			     HVT_MSRI_VMX_TRUE_PROCBASED_CTLS, want);
	/*
	 * Exiting controls the handler does not complete: refuse if the CPU
	 * forces one (the reserved default-1 bits are no exits).
	 */
	unhandled = CPU_BASED_INTR_WINDOW_EXITING | CPU_BASED_HLT_EXITING |
		    CPU_BASED_INVLPG_EXITING | CPU_BASED_MWAIT_EXITING |
		    CPU_BASED_RDPMC_EXITING | CPU_BASED_CR8_LOAD_EXITING |
		    CPU_BASED_CR8_STORE_EXITING | CPU_BASED_TPR_SHADOW |
		    CPU_BASED_NMI_WINDOW_EXITING | CPU_BASED_MOV_DR_EXITING |
		    CPU_BASED_UNCOND_IO_EXITING | CPU_BASED_MONITOR_EXITING |
		    CPU_BASED_PAUSE_EXITING | CPU_BASED_MONITOR_TRAP_FLAG;
	if (!(on->trap_mask & HVTRACE_TRAP_RDTSC))
		unhandled |= CPU_BASED_RDTSC_EXITING;
	if ((c->proc & want) != want || (c->proc & unhandled)) {
		pr_err("host mode: processor-based controls %#x unusable (wanted %#x)\n",
		       c->proc, want);
		return -EOPNOTSUPP;
	}
	c->mtf = !!((hvt_vmx_msrs[(hvt_vmx_msrs[HVT_MSRI_VMX_BASIC] &
				   HVT_BASIC_TRUE_CTLS) ?
				  HVT_MSRI_VMX_TRUE_PROCBASED_CTLS :
				  HVT_MSRI_VMX_PROCBASED_CTLS] >> 32) &
		    CPU_BASED_MONITOR_TRAP_FLAG);

	/*
	 * Instructions Linux may use that would raise #UD in the guest
	 * without their "enable" control: RDTSCP/RDPID, INVPCID, XSAVES,
	 * TPAUSE/UMWAIT.  VPID needs INVVPID to keep the TLB honest.
	 */
	p2 = SECONDARY_EXEC_ENABLE_RDTSCP | SECONDARY_EXEC_ENABLE_INVPCID |
	     SECONDARY_EXEC_XSAVES | SECONDARY_EXEC_ENABLE_USR_WAIT_PAUSE;
	c->vpid = (vpid_cap & HVT_VPID_INVVPID) &&
		  (vpid_cap & (HVT_VPID_SINGLE | HVT_VPID_ALL)) &&
		  ((proc2_cap >> 32) & SECONDARY_EXEC_ENABLE_VPID);
	c->vpid_single = !!(vpid_cap & HVT_VPID_SINGLE);
	if (c->vpid)
		p2 |= SECONDARY_EXEC_ENABLE_VPID;
	c->proc2 = (p2 | (u32)proc2_cap) & (u32)(proc2_cap >> 32);
	if ((u32)proc2_cap) {
		pr_err("host mode: secondary controls %#x forced on\n",
		       (u32)proc2_cap);
		return -EOPNOTSUPP;
	}
	want = VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_DEBUG_CONTROLS |
	       VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT |
	       VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER;
	c->exitc = hvt_adjust(HVT_MSRI_VMX_EXIT_CTLS,
			      HVT_MSRI_VMX_TRUE_EXIT_CTLS, want);
	want = VM_ENTRY_IA32E_MODE | VM_ENTRY_LOAD_DEBUG_CONTROLS |
	       VM_ENTRY_LOAD_IA32_PAT | VM_ENTRY_LOAD_IA32_EFER;
	c->entryc = hvt_adjust(HVT_MSRI_VMX_ENTRY_CTLS,
			       HVT_MSRI_VMX_TRUE_ENTRY_CTLS, want);
	if (!(c->exitc & VM_EXIT_HOST_ADDR_SPACE_SIZE) ||
	    !(c->entryc & VM_ENTRY_IA32E_MODE) ||
	    !(c->exitc & VM_EXIT_SAVE_DEBUG_CONTROLS) ||
	    !(c->entryc & VM_ENTRY_LOAD_DEBUG_CONTROLS)) {
		pr_err("host mode: VM-exit/entry controls %#x/%#x lack 64-bit host/guest or debug controls\n",
		       c->exitc, c->entryc);
		return -EOPNOTSUPP;
	}
	c->wait_sipi = !!(hvt_vmx_msrs[HVT_MSRI_VMX_MISC] & HVT_MISC_WAIT_SIPI);
	return 0;
}

/* Sets the bitmap bits of [first, last] within [base, base + span). */
static void hvt_set_bits(void *bitmap, u32 base, u32 span, u32 first, u32 last)
{
	u64 lo = max_t(u64, first, base), hi = min_t(u64, last, (u64)base + span - 1);

	for (; lo <= hi && lo >= base; lo++)
		__set_bit(lo - base, bitmap);
}

static void hvt_host_bitmaps(struct hvt_host_cpu *pc, const struct hvt_host_cfg *c)
{
	u8 *msr = pc->msr_bitmap;
	u32 i;

	memset(pc->msr_bitmap, 0, PAGE_SIZE);
	memset(pc->io_a, 0, PAGE_SIZE);
	memset(pc->io_b, 0, PAGE_SIZE);
	if (c->trap_mask & HVTRACE_TRAP_MSR) {
		for (i = 0; i < c->on.nr_msrs; i++) {
			u32 a = c->on.msrs[i].first, b = c->on.msrs[i].last;

			/* read low, read high, write low, write high (SDM 25.6.9) */
			hvt_set_bits(msr, 0, 0x2000, a, b);
			hvt_set_bits(msr + 1024, 0xc0000000, 0x2000, a, b);
			hvt_set_bits(msr + 2048, 0, 0x2000, a, b);
			hvt_set_bits(msr + 3072, 0xc0000000, 0x2000, a, b);
		}
	}
	if (c->trap_mask & HVTRACE_TRAP_IO) {
		for (i = 0; i < c->on.nr_ports; i++) {
			hvt_set_bits(pc->io_a, 0, 0x8000, c->on.ports[i].first,
				     c->on.ports[i].last);
			hvt_set_bits(pc->io_b, 0x8000, 0x8000,
				     c->on.ports[i].first, c->on.ports[i].last);
		}
	}
}

/* ---- per-CPU resources ------------------------------------------------ */

static void hvt_host_cpu_free(struct hvt_host_cpu *pc)
{
	if (!pc)
		return;
	hvt_free_page(pc->vmxon);
	hvt_free_page(pc->vmcs);
	hvt_free_page(pc->msr_bitmap);
	hvt_free_page(pc->io_a);
	hvt_free_page(pc->io_b);
	hvt_free_pages(pc->stack, HVT_HOST_STACK_ORDER);
	hvt_vfree(pc->ring);
	kfree(pc);
}

static struct hvt_host_cpu *hvt_host_cpu_alloc(unsigned int cpu)
{
	struct hvt_host_cpu *pc = kzalloc(sizeof(*pc), GFP_KERNEL);

	if (!pc)
		return NULL;
	pc->cpu = cpu;
	pc->vmxon = hvt_alloc_page();
	pc->vmcs = hvt_alloc_page();
	pc->msr_bitmap = hvt_alloc_page();
	pc->io_a = hvt_alloc_page();
	pc->io_b = hvt_alloc_page();
	/* Direct-mapped pages: mapped in init_mm like everything HOST_CR3 needs. */
	pc->stack = hvt_alloc_pages(HVT_HOST_STACK_ORDER);
	pc->ring = hvt_vzalloc(sizeof(*pc->ring) * HVT_HOST_RING);
	if (!pc->vmxon || !pc->vmcs || !pc->msr_bitmap || !pc->io_a ||
	    !pc->io_b || !pc->stack || !pc->ring) {
		hvt_host_cpu_free(pc);
		return NULL;
	}
	return pc;
}

/* ---- virtualization (cross-call on the CPU, interrupts off) ----------- */

/* Fills the whole VMCS from this CPU's live state.  Returns VMX errors. */
static int hvt_host_vmcs_fill(struct hvt_host_cpu *pc)
{
	const struct hvt_host_cfg *c = &hvt_host_cfg;
	u64 cr0 = read_cr0(), cr3 = __read_cr3(), cr4 = __read_cr4();
	u64 efer, pat, debugctl, fs_base, gs_base, sysenter_cs, sysenter_esp;
	u64 sysenter_eip, *top;
	struct desc_ptr gdt, idt;
	u16 sel, tr = hvt_str(), ldt = hvt_sldt();
	unsigned long tr_base = (unsigned long)&get_cpu_entry_area(pc->cpu)->tss.x86_tss;

	rdmsrl(MSR_EFER, efer);
	rdmsrl(MSR_IA32_CR_PAT, pat);
	rdmsrl(MSR_IA32_DEBUGCTLMSR, debugctl);
	rdmsrl(MSR_FS_BASE, fs_base);
	rdmsrl(MSR_GS_BASE, gs_base);
	rdmsrl(MSR_IA32_SYSENTER_CS, sysenter_cs);
	rdmsrl(MSR_IA32_SYSENTER_ESP, sysenter_esp);
	rdmsrl(MSR_IA32_SYSENTER_EIP, sysenter_eip);
	native_store_gdt(&gdt);
	store_idt(&idt);
	pc->vmx_errors = 0;

	/* ---- controls ---- */
	hvt_vw(pc, PIN_BASED_VM_EXEC_CONTROL, c->pin);
	hvt_vw(pc, CPU_BASED_VM_EXEC_CONTROL, c->proc);
	hvt_vw(pc, SECONDARY_VM_EXEC_CONTROL, c->proc2);
	hvt_vw(pc, VM_EXIT_CONTROLS, c->exitc);
	hvt_vw(pc, VM_ENTRY_CONTROLS, c->entryc);
	hvt_vw(pc, EXCEPTION_BITMAP, c->exc_bitmap);
	hvt_vw(pc, PAGE_FAULT_ERROR_CODE_MASK, 0);
	hvt_vw(pc, PAGE_FAULT_ERROR_CODE_MATCH, 0);
	hvt_vw(pc, CR3_TARGET_COUNT, 0);
	hvt_vw(pc, VM_EXIT_MSR_STORE_COUNT, 0);
	hvt_vw(pc, VM_EXIT_MSR_LOAD_COUNT, 0);
	hvt_vw(pc, VM_ENTRY_MSR_LOAD_COUNT, 0);
	hvt_vw(pc, VM_ENTRY_INTR_INFO_FIELD, 0);
	hvt_vw(pc, TSC_OFFSET, 0);
	hvt_vw(pc, MSR_BITMAP, __pa(pc->msr_bitmap));
	hvt_vw(pc, IO_BITMAP_A, __pa(pc->io_a));
	hvt_vw(pc, IO_BITMAP_B, __pa(pc->io_b));
	if (c->proc2 & SECONDARY_EXEC_XSAVES)
		hvt_vw(pc, XSS_EXIT_BITMAP, 0);
	if (c->proc2 & SECONDARY_EXEC_ENABLE_VPID)
		hvt_vw(pc, VIRTUAL_PROCESSOR_ID, pc->vpid);
	/* CR0 is the guest's alone; CR4.VMXE is ours and hidden. */
	pc->cr4_mask = X86_CR4_VMXE;
	hvt_vw(pc, CR0_GUEST_HOST_MASK, 0);
	hvt_vw(pc, CR0_READ_SHADOW, cr0);
	hvt_vw(pc, CR4_GUEST_HOST_MASK, pc->cr4_mask);
	hvt_vw(pc, CR4_READ_SHADOW, cr4 & ~X86_CR4_VMXE);

	/* ---- host state: the kernel, on its own page tables ---- */
	hvt_vw(pc, HOST_CR0, cr0);
	hvt_vw(pc, HOST_CR3, pc->host_cr3);
	hvt_vw(pc, HOST_CR4, cr4);
	hvt_vw(pc, HOST_CS_SELECTOR, __KERNEL_CS);
	hvt_vw(pc, HOST_SS_SELECTOR, __KERNEL_DS);
	hvt_vw(pc, HOST_DS_SELECTOR, 0);
	hvt_vw(pc, HOST_ES_SELECTOR, 0);
	hvt_vw(pc, HOST_FS_SELECTOR, 0);
	hvt_vw(pc, HOST_GS_SELECTOR, 0);
	hvt_vw(pc, HOST_TR_SELECTOR, tr);
	hvt_vw(pc, HOST_FS_BASE, 0);
	/* This CPU's per-CPU area: the exit may come from user mode. */
	hvt_vw(pc, HOST_GS_BASE, gs_base);
	hvt_vw(pc, HOST_TR_BASE, tr_base);
	hvt_vw(pc, HOST_GDTR_BASE, gdt.address);
	hvt_vw(pc, HOST_IDTR_BASE, idt.address);
	hvt_vw(pc, HOST_IA32_SYSENTER_CS, sysenter_cs);
	hvt_vw(pc, HOST_IA32_SYSENTER_ESP, sysenter_esp);
	hvt_vw(pc, HOST_IA32_SYSENTER_EIP, sysenter_eip);
	if (c->exitc & VM_EXIT_LOAD_IA32_EFER)
		hvt_vw(pc, HOST_IA32_EFER, efer);
	if (c->exitc & VM_EXIT_LOAD_IA32_PAT)
		hvt_vw(pc, HOST_IA32_PAT, pat);
	top = (u64 *)((u8 *)pc->stack + HVT_HOST_STACK_SIZE);
	top[-1] = (unsigned long)pc;	/* hvt_host_frame.pc */
	hvt_vw(pc, HOST_RSP, (unsigned long)&top[-6]);
	hvt_vw(pc, HOST_RIP, (unsigned long)hvt_host_vmexit);

	/* ---- guest state: this CPU as it is (RSP/RIP: hvt_host_launch) ---- */
	hvt_vw(pc, GUEST_CR0, cr0);
	hvt_vw(pc, GUEST_CR3, cr3);
	hvt_vw(pc, GUEST_CR4, cr4);
	hvt_vw(pc, GUEST_DR7, native_get_debugreg(7));
	hvt_vw(pc, GUEST_IA32_DEBUGCTL, debugctl);
	hvt_vw(pc, GUEST_RFLAGS, native_save_fl());

#define HVT_GUEST_SEG(SEG, s, base)					\
	do {								\
		sel = s;						\
		hvt_vw(pc, GUEST_##SEG##_SELECTOR, sel);		\
		hvt_vw(pc, GUEST_##SEG##_BASE, base);			\
		hvt_vw(pc, GUEST_##SEG##_LIMIT, hvt_lsl(sel));		\
		hvt_vw(pc, GUEST_##SEG##_AR_BYTES, hvt_ar(sel));	\
	} while (0)
	HVT_GUEST_SEG(CS, HVT_SEG(cs), 0);
	HVT_GUEST_SEG(SS, HVT_SEG(ss), 0);
	HVT_GUEST_SEG(DS, HVT_SEG(ds), 0);
	HVT_GUEST_SEG(ES, HVT_SEG(es), 0);
	HVT_GUEST_SEG(FS, HVT_SEG(fs), fs_base);
	HVT_GUEST_SEG(GS, HVT_SEG(gs), gs_base);
#undef HVT_GUEST_SEG
	hvt_vw(pc, GUEST_LDTR_SELECTOR, ldt);
	hvt_vw(pc, GUEST_LDTR_BASE, ldt ? hvt_sys_base(&gdt, ldt) : 0);
	hvt_vw(pc, GUEST_LDTR_LIMIT, hvt_lsl(ldt));
	hvt_vw(pc, GUEST_LDTR_AR_BYTES, hvt_ar(ldt));
	hvt_vw(pc, GUEST_TR_SELECTOR, tr);
	hvt_vw(pc, GUEST_TR_BASE, tr_base);
	hvt_vw(pc, GUEST_TR_LIMIT, hvt_lsl(tr));
	hvt_vw(pc, GUEST_TR_AR_BYTES, HVT_AR_TSS_BUSY64);
	hvt_vw(pc, GUEST_GDTR_BASE, gdt.address);
	hvt_vw(pc, GUEST_GDTR_LIMIT, gdt.size);
	hvt_vw(pc, GUEST_IDTR_BASE, idt.address);
	hvt_vw(pc, GUEST_IDTR_LIMIT, idt.size);
	hvt_vw(pc, GUEST_SYSENTER_CS, sysenter_cs);
	hvt_vw(pc, GUEST_SYSENTER_ESP, sysenter_esp);
	hvt_vw(pc, GUEST_SYSENTER_EIP, sysenter_eip);
	if (c->entryc & VM_ENTRY_LOAD_IA32_EFER)
		hvt_vw(pc, GUEST_IA32_EFER, efer);
	if (c->entryc & VM_ENTRY_LOAD_IA32_PAT)
		hvt_vw(pc, GUEST_IA32_PAT, pat);
	hvt_vw(pc, VMCS_LINK_POINTER, ~0ull);
	hvt_vw(pc, GUEST_INTERRUPTIBILITY_INFO, 0);
	hvt_vw(pc, GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	hvt_vw(pc, GUEST_PENDING_DBG_EXCEPTIONS, 0);
	return pc->vmx_errors ? -EIO : 0;
}

/*
 * Virtualizes this CPU.  Runs in the cross-call (interrupts off); on
 * success it returns in VMX non-root operation.  The host-state check
 * compares the state before VMXON with what the guest sees right after
 * VMLAUNCH: the capture must be exact.
 */
static int hvt_host_virtualize(struct hvt_host_cpu *pc)
{
	u64 cr0 = read_cr0(), cr4 = __read_cr4();
	u64 f0, f1;
	u32 rev = (u32)hvt_vmx_msrs[HVT_MSRI_VMX_BASIC] & 0x7fffffffu;
	struct hvt_host_snap before;
	int r;

	if (cr4 & X86_CR4_VMXE)
		return -EBUSY;
	hvt_host_snapshot(&before);
	f0 = hvt_vmx_msrs[HVT_MSRI_VMX_CR0_FIXED0];
	f1 = hvt_vmx_msrs[HVT_MSRI_VMX_CR0_FIXED1];
	if ((cr0 & f0) != f0 || (cr0 & ~f1))
		return -EOPNOTSUPP;
	cr4 |= X86_CR4_VMXE;
	f0 = hvt_vmx_msrs[HVT_MSRI_VMX_CR4_FIXED0];
	f1 = hvt_vmx_msrs[HVT_MSRI_VMX_CR4_FIXED1];
	if ((cr4 & f0) != f0 || (cr4 & ~f1))
		return -EOPNOTSUPP;

	/*
	 * CR4.VMXE goes into the register only, never into the kernel's CR4
	 * shadow: the guest must keep believing it is clear (the read shadow
	 * says so), and its own CR4 writes come from that shadow.
	 */
	hvt_raw_write_cr4(cr4);
	*(u32 *)pc->vmxon = rev;
	r = hvt_vmxon(__pa(pc->vmxon));
	if (r) {
		hvt_raw_write_cr4(cr4 & ~X86_CR4_VMXE);
		return -EIO;
	}
	pc->in_vmx = true;
	memset(pc->vmcs, 0, PAGE_SIZE);
	*(u32 *)pc->vmcs = rev;
	r = hvt_vmclear(__pa(pc->vmcs));
	if (!r)
		r = hvt_vmptrld(__pa(pc->vmcs));
	if (r)
		goto fail;
	if (hvt_host_cfg.vpid)
		hvt_invvpid(HVT_INVVPID_ALL, 0);
	hvt_host_flush_all();
	r = hvt_host_vmcs_fill(pc);
	if (r)
		goto fail;

	pc->entry_fail = 0;
	pc->active = true;
	r = hvt_host_launch();
	if (r || !pc->active) {
		/* VMfail, or an entry failure already devirtualized us. */
		if (r == 2)
			pc->vm_insn_error = hvt_vr(pc, VM_INSTRUCTION_ERROR);
		pc->active = false;
		if (pc->in_vmx)
			goto fail;
		return -EIO;
	}

	/* VMX non-root from here on: what does the guest see? */
	pc->host_mismatches += hvt_host_compare_cpu(pc->cpu, &before,
						    "after virtualizing");
	pc->host_checks++;
	return 0;

fail:
	hvt_vmclear(__pa(pc->vmcs));
	hvt_vmxoff();
	pc->in_vmx = false;
	hvt_raw_write_cr4(__read_cr4() & ~X86_CR4_VMXE);
	return -EIO;
}

static void hvt_host_on_cpu(void *data)
{
	struct hvt_host_cpu *pc = data;

	pc->err = hvt_host_virtualize(pc);
}

/* The devirtualizing VMCALL; a #UD (not virtualized) leaves RAX as it was. */
static u64 hvt_host_vmcall_devirt(void)
{
	u64 rax = HVT_HOST_HC_DEVIRT;

	asm volatile("1: vmcall\n2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : "+a" (rax) : "b" (hvt_host_key) : "memory", "cc");
	return rax;
}

/* Devirtualizes this CPU (interrupts off, on it) and checks the host state. */
static void hvt_host_off_cpu(void *data)
{
	struct hvt_host_cpu *pc = data;
	struct hvt_host_snap guest;

	if (!pc->active)
		return;
	hvt_host_snapshot(&guest);
	if (hvt_host_vmcall_devirt()) {
		pc->err = -EIO;
		return;
	}
	/* A VM exit left TR's limit at 0x67: the kernel reloads it lazily. */
	invalidate_tss_limit();
	pc->host_mismatches += hvt_host_compare_cpu(pc->cpu, &guest,
						    "after devirtualizing");
	pc->host_checks++;
}

/* ---- the exit handler (VMX root, interrupts off) ---------------------- */

static void hvt_set_gpr(struct hvt_host_cpu *pc, unsigned int i, u64 val)
{
	pc->f->gpr[i] = val;
	pc->changed |= BIT_ULL(HVTRACE_CHG_GPR(i));
}

static void hvt_set_vmcs(struct hvt_host_cpu *pc, unsigned int bit,
			 unsigned long field, u64 val)
{
	hvt_vw(pc, field, val);
	pc->chg_val[bit - HVTRACE_CHG_CR0] = val;
	pc->changed |= BIT_ULL(bit);
}

/* DR6.BS in the pending debug exceptions (SDM 25.4.1.2). */
#define HVT_PENDING_DBG_BS	BIT(14)

/* Completes the exiting instruction as the CPU would have. */
static int hvt_skip(struct hvt_host_cpu *pc)
{
	u32 intr = pc->interruptibility;

	if (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
		hvt_set_vmcs(pc, HVTRACE_CHG_INTR_STATE,
			     GUEST_INTERRUPTIBILITY_INFO,
			     intr & ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
	if (pc->rflags & X86_EFLAGS_TF)
		hvt_vw(pc, GUEST_PENDING_DBG_EXCEPTIONS,
		       hvt_vr(pc, GUEST_PENDING_DBG_EXCEPTIONS) | HVT_PENDING_DBG_BS);
	pc->rip += pc->insn_len;
	pc->changed |= BIT_ULL(HVTRACE_CHG_RIP);
	return HVT_H_RESUME;
}

static int hvt_inject(struct hvt_host_cpu *pc, u32 info, u32 err)
{
	hvt_vw(pc, VM_ENTRY_INTR_INFO_FIELD, info);
	if (info & INTR_INFO_DELIVER_CODE_MASK)
		hvt_vw(pc, VM_ENTRY_EXCEPTION_ERROR_CODE, err);
	else
		err = 0;
	switch (info & INTR_INFO_INTR_TYPE_MASK) {
	case INTR_TYPE_SOFT_INTR:
	case INTR_TYPE_SOFT_EXCEPTION:
	case INTR_TYPE_PRIV_SW_EXCEPTION:
		hvt_vw(pc, VM_ENTRY_INSTRUCTION_LEN, pc->insn_len);
		break;
	}
	pc->inject_info = info;
	pc->inject_error = err;
	return HVT_H_INJECT;
}

static int hvt_inject_ud(struct hvt_host_cpu *pc)
{
	pc->ud_injected++;
	return hvt_inject(pc, INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION |
			  X86_TRAP_UD, 0);
}

static int hvt_inject_gp(struct hvt_host_cpu *pc)
{
	return hvt_inject(pc, INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION |
			  INTR_INFO_DELIVER_CODE_MASK | X86_TRAP_GP, 0);
}

static u32 hvt_cpl(struct hvt_host_cpu *pc)
{
	return (hvt_vr(pc, GUEST_SS_AR_BYTES) >> 5) & 3;
}

static int hvt_h_cpuid(struct hvt_host_cpu *pc)
{
	u32 a, b, c, d;

	/* The hardware's answer, untouched: nothing is hidden. */
	cpuid_count((u32)pc->f->gpr[HVT_R_RAX], (u32)pc->f->gpr[HVT_R_RCX],
		    &a, &b, &c, &d);
	hvt_set_gpr(pc, HVT_R_RAX, a);
	hvt_set_gpr(pc, HVT_R_RCX, c);
	hvt_set_gpr(pc, HVT_R_RDX, d);
	hvt_set_gpr(pc, HVT_R_RBX, b);
	return hvt_skip(pc);
}

/* MSRs whose guest value lives in the VMCS, not in the register, in root. */
static unsigned long hvt_msr_field(u32 msr)
{
	switch (msr) {
	case MSR_FS_BASE:		return GUEST_FS_BASE;
	case MSR_GS_BASE:		return GUEST_GS_BASE;
	case MSR_IA32_SYSENTER_CS:	return GUEST_SYSENTER_CS;
	case MSR_IA32_SYSENTER_ESP:	return GUEST_SYSENTER_ESP;
	case MSR_IA32_SYSENTER_EIP:	return GUEST_SYSENTER_EIP;
	case MSR_IA32_DEBUGCTLMSR:	return GUEST_IA32_DEBUGCTL;
	case MSR_EFER:			return GUEST_IA32_EFER;
	case MSR_IA32_CR_PAT:		return GUEST_IA32_PAT;
	}
	return 0;
}

static int hvt_h_rdmsr(struct hvt_host_cpu *pc)
{
	u32 msr = (u32)pc->f->gpr[HVT_R_RCX];
	unsigned long field = hvt_msr_field(msr);
	u64 val;

	if (field)
		val = hvt_vr(pc, field);
	else if (rdmsrl_safe(msr, &val))
		return hvt_inject_gp(pc);
	hvt_set_gpr(pc, HVT_R_RAX, (u32)val);
	hvt_set_gpr(pc, HVT_R_RDX, val >> 32);
	return hvt_skip(pc);
}

static int hvt_h_wrmsr(struct hvt_host_cpu *pc)
{
	u32 msr = (u32)pc->f->gpr[HVT_R_RCX];
	unsigned long field = hvt_msr_field(msr);
	u64 val = (pc->f->gpr[HVT_R_RDX] << 32) | (u32)pc->f->gpr[HVT_R_RAX];

	if (field)
		hvt_vw(pc, field, val);
	else if (wrmsrl_safe(msr, val))
		return hvt_inject_gp(pc);
	return hvt_skip(pc);
}

static int hvt_h_rdtsc(struct hvt_host_cpu *pc)
{
	u64 t = rdtsc();	/* TSC offset 0: the guest's TSC is the host's */

	hvt_set_gpr(pc, HVT_R_RAX, (u32)t);
	hvt_set_gpr(pc, HVT_R_RDX, t >> 32);
	return hvt_skip(pc);
}

static int hvt_h_rdtscp(struct hvt_host_cpu *pc)
{
	u32 lo, hi, aux;

	asm volatile("rdtscp" : "=a" (lo), "=d" (hi), "=c" (aux));
	hvt_set_gpr(pc, HVT_R_RAX, lo);
	hvt_set_gpr(pc, HVT_R_RDX, hi);
	hvt_set_gpr(pc, HVT_R_RCX, aux);
	return hvt_skip(pc);
}

static int hvt_h_xsetbv(struct hvt_host_cpu *pc)
{
	u32 idx = (u32)pc->f->gpr[HVT_R_RCX];
	u32 lo = (u32)pc->f->gpr[HVT_R_RAX], hi = (u32)pc->f->gpr[HVT_R_RDX];

	/* XSETBV needs CR4.OSXSAVE in root as well: HOST_CR4 is the guest's. */
	if (!(__read_cr4() & X86_CR4_OSXSAVE))
		return hvt_inject_ud(pc);
	asm goto("1: xsetbv\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : "c" (idx), "a" (lo), "d" (hi) : "memory" : fault);
	return hvt_skip(pc);
fault:
	return hvt_inject_gp(pc);
}

static int hvt_h_invd(struct hvt_host_cpu *pc)
{
	/* INVD would drop dirty lines of the whole machine: write them back. */
	wbinvd();
	return hvt_skip(pc);
}

static int hvt_h_vmx_insn(struct hvt_host_cpu *pc)
{
	return hvt_inject_ud(pc);
}

static int hvt_h_vmcall(struct hvt_host_cpu *pc)
{
	if (pc->f->gpr[HVT_R_RAX] == HVT_HOST_HC_DEVIRT &&
	    pc->f->gpr[HVT_R_RBX] == hvt_host_key && hvt_cpl(pc) == 0) {
		hvt_set_gpr(pc, HVT_R_RAX, 0);
		hvt_skip(pc);
		return HVT_H_LEAVE;
	}
	return hvt_inject_ud(pc);
}

static int hvt_h_cr(struct hvt_host_cpu *pc)
{
	u64 q = pc->qual, old, val, real;
	unsigned int cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
	u64 *gpr = &pc->f->gpr[reg];

	if (type == 0 && cr == 4) {
		/* The masked bit (VMXE) keeps its real value; the shadow takes the write. */
		val = *gpr;
		old = hvt_vr(pc, GUEST_CR4);
		real = (val & ~pc->cr4_mask) | (old & pc->cr4_mask);
		if ((real & hvt_vmx_msrs[HVT_MSRI_VMX_CR4_FIXED0]) !=
		    hvt_vmx_msrs[HVT_MSRI_VMX_CR4_FIXED0] ||
		    (real & ~hvt_vmx_msrs[HVT_MSRI_VMX_CR4_FIXED1]))
			return hvt_inject_gp(pc);
		hvt_set_vmcs(pc, HVTRACE_CHG_CR4_SHADOW, CR4_READ_SHADOW, val);
		hvt_set_vmcs(pc, HVTRACE_CHG_CR4, GUEST_CR4, real);
		if ((old ^ real) & (X86_CR4_PGE | X86_CR4_PCIDE | X86_CR4_PAE |
				    X86_CR4_PSE | X86_CR4_SMEP | X86_CR4_SMAP |
				    X86_CR4_LA57 | X86_CR4_PKE))
			hvt_host_flush_guest(pc);
		return hvt_skip(pc);
	}
	if (type == 0 && cr == 3) {	/* only if the CPU forces CR3 exiting */
		val = *gpr;
		hvt_set_vmcs(pc, HVTRACE_CHG_CR3, GUEST_CR3, val & ~BIT_ULL(63));
		if (!(val & BIT_ULL(63)) ||
		    !(hvt_vr(pc, GUEST_CR4) & X86_CR4_PCIDE))
			hvt_host_flush_guest(pc);
		return hvt_skip(pc);
	}
	if (type == 1 && cr == 3) {
		hvt_set_gpr(pc, reg, hvt_vr(pc, GUEST_CR3));
		return hvt_skip(pc);
	}
	pc->unhandled++;
	return hvt_inject_ud(pc);
}

static void hvt_io_bits(struct hvt_host_cpu *pc, u32 port, u32 size, bool set)
{
	u32 p;

	for (p = port; p < port + size && p <= 0xffff; p++) {
		void *b = p < 0x8000 ? pc->io_a : pc->io_b;

		if (set)
			__set_bit(p & 0x7fff, b);
		else
			__clear_bit(p & 0x7fff, b);
	}
}

static int hvt_h_io(struct hvt_host_cpu *pc)
{
	u64 q = pc->qual, rax = pc->f->gpr[HVT_R_RAX];
	u32 size = (q & 7) + 1, port = (q >> 16) & 0xffff;
	u64 mask = size == 4 ? 0xffffffffull : (1ull << (size * 8)) - 1, val;

	if (q & (BIT(4) | BIT(5))) {
		/*
		 * INS/OUTS/REP touch guest memory through the guest's page
		 * tables: let the instruction run natively once, with these
		 * ports reopened, and close them again at the monitor-trap
		 * exit that follows it.
		 */
		if (!hvt_host_cfg.mtf || pc->mtf_armed) {
			/* No monitor trap flag: the port stays open on this CPU. */
			hvt_io_bits(pc, port, size, false);
			pc->io_reopened++;
			return HVT_H_RESUME;
		}
		hvt_io_bits(pc, port, size, false);
		pc->mtf_port = port;
		pc->mtf_size = size;
		pc->mtf_armed = true;
		hvt_vw(pc, CPU_BASED_VM_EXEC_CONTROL,
		       hvt_host_cfg.proc | CPU_BASED_MONITOR_TRAP_FLAG);
		return HVT_H_RESUME;
	}
	if (q & BIT(3)) {
		switch (size) {
		case 1:
			val = inb(port);
			break;
		case 2:
			val = inw(port);
			break;
		default:
			val = inl(port);
			break;
		}
		hvt_set_gpr(pc, HVT_R_RAX, size == 4 ? val : (rax & ~mask) | val);
	} else {
		switch (size) {
		case 1:
			outb(rax, port);
			break;
		case 2:
			outw(rax, port);
			break;
		default:
			outl(rax, port);
			break;
		}
	}
	return hvt_skip(pc);
}

static int hvt_h_mtf(struct hvt_host_cpu *pc)
{
	if (pc->mtf_armed) {
		hvt_io_bits(pc, pc->mtf_port, pc->mtf_size, true);
		pc->mtf_armed = false;
	}
	hvt_vw(pc, CPU_BASED_VM_EXEC_CONTROL, hvt_host_cfg.proc);
	return HVT_H_RESUME;
}

static int hvt_h_exception(struct hvt_host_cpu *pc)
{
	u32 info = pc->intr_info, vec = info & INTR_INFO_VECTOR_MASK;
	u32 err = 0;

	if (!(info & INTR_INFO_VALID_MASK))
		return HVT_H_RESUME;
	/* NMI exiting is off; an NMI exit would still belong to the host. */
	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR) {
		asm volatile("int $2");
		return HVT_H_RESUME;
	}
	/* A trapped #PF does not load CR2 (SDM 27.1): the delivery must. */
	if (vec == X86_TRAP_PF)
		native_write_cr2(pc->qual);
	/* An exception of IRET lifted NMI blocking: put it back (SDM 27.2.3). */
	if ((info & INTR_INFO_UNBLOCK_NMI) && vec != X86_TRAP_DF)
		hvt_set_vmcs(pc, HVTRACE_CHG_INTR_STATE,
			     GUEST_INTERRUPTIBILITY_INFO,
			     pc->interruptibility | GUEST_INTR_STATE_NMI);
	if (info & INTR_INFO_DELIVER_CODE_MASK)
		err = hvt_vr(pc, VM_EXIT_INTR_ERROR_CODE);
	return hvt_inject(pc, info & (INTR_INFO_VALID_MASK |
				      INTR_INFO_INTR_TYPE_MASK |
				      INTR_INFO_DELIVER_CODE_MASK |
				      INTR_INFO_VECTOR_MASK), err);
}

static int hvt_h_init(struct hvt_host_cpu *pc)
{
	/* As on bare metal, an INIT parks the CPU until a SIPI. */
	if (hvt_host_cfg.wait_sipi)
		hvt_vw(pc, GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_WAIT_SIPI);
	return HVT_H_RESUME;
}

static int hvt_h_sipi(struct hvt_host_cpu *pc)
{
	/*
	 * Starting real-mode code needs "unrestricted guest" (and so EPT),
	 * which host mode does not use: the CPU stays parked, as after a
	 * failed startup.  Linux sends INIT/SIPI only to CPUs it brings
	 * online, which are never virtualized.
	 */
	pc->unhandled++;
	return HVT_H_RESUME;
}

static int hvt_h_leave(struct hvt_host_cpu *pc)
{
	return HVT_H_LEAVE;
}

static int hvt_h_unexpected(struct hvt_host_cpu *pc)
{
	pc->unhandled++;
	return hvt_inject_ud(pc);
}

typedef int (*hvt_host_handler)(struct hvt_host_cpu *pc);

static const hvt_host_handler hvt_host_handlers[] = {
	[HVTRACE_EXIT_EXCEPTION_NMI]	= hvt_h_exception,
	[HVTRACE_EXIT_TRIPLE_FAULT]	= hvt_h_leave,
	[HVTRACE_EXIT_INIT_SIGNAL]	= hvt_h_init,
	[HVTRACE_EXIT_SIPI]		= hvt_h_sipi,
	[HVTRACE_EXIT_CPUID]		= hvt_h_cpuid,
	[HVTRACE_EXIT_GETSEC]		= hvt_h_vmx_insn,
	[HVTRACE_EXIT_INVD]		= hvt_h_invd,
	[HVTRACE_EXIT_RDTSC]		= hvt_h_rdtsc,
	[HVTRACE_EXIT_VMCALL]		= hvt_h_vmcall,
	[HVTRACE_EXIT_VMCLEAR]		= hvt_h_vmx_insn,
	[HVTRACE_EXIT_VMLAUNCH]		= hvt_h_vmx_insn,
	[HVTRACE_EXIT_VMPTRLD]		= hvt_h_vmx_insn,
	[HVTRACE_EXIT_VMPTRST]		= hvt_h_vmx_insn,
	[HVTRACE_EXIT_VMREAD]		= hvt_h_vmx_insn,
	[HVTRACE_EXIT_VMRESUME]		= hvt_h_vmx_insn,
	[HVTRACE_EXIT_VMWRITE]		= hvt_h_vmx_insn,
	[HVTRACE_EXIT_VMXOFF]		= hvt_h_vmx_insn,
	[HVTRACE_EXIT_VMXON]		= hvt_h_vmx_insn,
	[HVTRACE_EXIT_CR_ACCESS]	= hvt_h_cr,
	[HVTRACE_EXIT_IO_INSTRUCTION]	= hvt_h_io,
	[HVTRACE_EXIT_RDMSR]		= hvt_h_rdmsr,
	[HVTRACE_EXIT_WRMSR]		= hvt_h_wrmsr,
	[HVTRACE_EXIT_MONITOR_TRAP_FLAG]	= hvt_h_mtf,
	[HVTRACE_EXIT_INVEPT]		= hvt_h_vmx_insn,
	[HVTRACE_EXIT_RDTSCP]		= hvt_h_rdtscp,
	[HVTRACE_EXIT_INVVPID]		= hvt_h_vmx_insn,
	[HVTRACE_EXIT_XSETBV]		= hvt_h_xsetbv,
	[HVTRACE_EXIT_VMFUNC]		= hvt_h_vmx_insn,
};

/* Guest XMM0-15 and MXCSR, still in the registers (root code has no SSE). */
static void hvt_read_xmm(u64 *xmm, u32 *mxcsr)
{
	asm volatile("movdqu %%xmm0, 0x00(%1)\n\t"
		     "movdqu %%xmm1, 0x10(%1)\n\t"
		     "movdqu %%xmm2, 0x20(%1)\n\t"
		     "movdqu %%xmm3, 0x30(%1)\n\t"
		     "movdqu %%xmm4, 0x40(%1)\n\t"
		     "movdqu %%xmm5, 0x50(%1)\n\t"
		     "movdqu %%xmm6, 0x60(%1)\n\t"
		     "movdqu %%xmm7, 0x70(%1)\n\t"
		     "movdqu %%xmm8, 0x80(%1)\n\t"
		     "movdqu %%xmm9, 0x90(%1)\n\t"
		     "movdqu %%xmm10, 0xa0(%1)\n\t"
		     "movdqu %%xmm11, 0xb0(%1)\n\t"
		     "movdqu %%xmm12, 0xc0(%1)\n\t"
		     "movdqu %%xmm13, 0xd0(%1)\n\t"
		     "movdqu %%xmm14, 0xe0(%1)\n\t"
		     "movdqu %%xmm15, 0xf0(%1)\n\t"
		     "stmxcsr %0"
		     : "=m" (*mxcsr) : "r" (xmm) : "memory");
}

/* Claims the next ring slot, or counts why there is none. */
static struct hvt_host_rec *hvt_ring_claim(struct hvt_host_cpu *pc)
{
	unsigned long head = pc->ring_head;

	if (!trace_hvtrace_exit_enabled()) {
		pc->dropped++;
		return NULL;
	}
	if (READ_ONCE(pc->draining)) {
		/* The drainer's own exits would feed themselves: counted only. */
		pc->self_filtered++;
		return NULL;
	}
	if (head - smp_load_acquire(&pc->ring_tail) >= HVT_HOST_RING) {
		pc->dropped++;
		pc->buffer_full++;
		return NULL;
	}
	return &pc->ring[head % HVT_HOST_RING];
}

static void hvt_fill_exit(struct hvt_host_cpu *pc, struct hvt_host_rec *rec)
{
	struct hvtrace_exit_rec *e = &rec->exit;
	struct task_struct *t = current;
	unsigned int def;
	u64 shadow;

	e->vcpu = pc->cpu;
	e->seq = pc->seq;
	e->vm = 0;
	e->exit_reason = pc->reason;
	e->exit_qual = pc->qual;
	/* The SDM's defined-field rule, shared by every backend (exit_info.c). */
	def = hvt_exit_defined_fields(pc->reason, pc->qual, pc->intr_info,
				      pc->idt_info, false);
	e->insn_len = (def & HVT_DEF_INSN_LEN) ? pc->insn_len : 0;
	e->insn_info = (def & HVT_DEF_INSN_INFO) ?
		       hvt_vr(pc, VMX_INSTRUCTION_INFO) : 0;
	e->guest_linear = (def & HVT_DEF_LINEAR) ?
			  hvt_vr(pc, GUEST_LINEAR_ADDRESS) : 0;
	e->guest_phys = 0;	/* no EPT: the field does not exist */
	e->intr_info = pc->intr_info;
	e->intr_error = ((pc->intr_info & INTR_INFO_VALID_MASK) &&
			 (pc->intr_info & INTR_INFO_DELIVER_CODE_MASK)) ?
			hvt_vr(pc, VM_EXIT_INTR_ERROR_CODE) : 0;
	e->idt_info = pc->idt_info;
	e->idt_error = ((pc->idt_info & VECTORING_INFO_VALID_MASK) &&
			(pc->idt_info & VECTORING_INFO_DELIVER_CODE_MASK)) ?
			hvt_vr(pc, IDT_VECTORING_ERROR_CODE) : 0;
	e->rip = pc->rip;
	e->rsp = pc->f->gpr[HVT_R_RSP];
	e->rflags = pc->rflags;
	e->cr0 = hvt_vr(pc, GUEST_CR0);
	e->cr3 = hvt_vr(pc, GUEST_CR3);
	e->cr4 = hvt_vr(pc, GUEST_CR4);
	e->cr0_shadow = e->cr0;	/* CR0 guest/host mask 0 */
	shadow = hvt_vr(pc, CR4_READ_SHADOW);
	e->cr4_shadow = hvt_guest_cr_view(e->cr4, pc->cr4_mask, shadow);
	e->interruptibility = pc->interruptibility;
	memcpy(e->gpr, pc->f->gpr, sizeof(e->gpr));
	hvt_read_xmm(e->xmm, &e->mxcsr);
	/*
	 * Who: the task current on this CPU when the exit came (for an exit
	 * in an interrupt handler, the task it interrupted; the idle task is
	 * pid 0) and the guest's CPL.  Plain reads of the task struct: no
	 * lock, a racing comm update shows as a mixed name at worst.
	 */
	e->pid = t->tgid;
	e->tid = t->pid;
	e->cpl = hvt_cpl(pc);
	memcpy(e->comm, t->comm, sizeof(e->comm));
	e->tsc = rdtsc_ordered();
}

static u64 hvt_changed_value(struct hvt_host_cpu *pc, unsigned int bit)
{
	if (bit < HVTRACE_CHG_RIP)
		return pc->f->gpr[bit];
	if (bit == HVTRACE_CHG_RIP)
		return pc->rip;
	if (bit == HVTRACE_CHG_RFLAGS)
		return pc->rflags;
	if (bit >= HVTRACE_CHG_CR0)
		return pc->chg_val[bit - HVTRACE_CHG_CR0];
	return 0;	/* XMM/MXCSR: host mode never changes them */
}

static void hvt_fill_resume(struct hvt_host_cpu *pc, struct hvt_host_rec *rec,
			    int action)
{
	struct hvtrace_resume_rec *r = &rec->resume;
	u64 m = pc->changed;
	unsigned int n = 0;

	r->vcpu = pc->cpu;
	r->seq = pc->seq;
	r->vm = 0;
	r->action = action == HVT_H_LEAVE ? HVTRACE_ACT_STOP :
		    action == HVT_H_INJECT ? HVTRACE_ACT_INJECT : HVTRACE_ACT_RESUME;
	r->changed = m;
	r->inject_info = pc->inject_info;
	r->inject_error = pc->inject_error;
	for (; m; m &= m - 1)
		r->values[n++] = hvt_changed_value(pc, __ffs64(m));
	r->values_len = n;
	r->tsc = rdtsc_ordered();
}

/*
 * An event whose delivery the exit interrupted is delivered again with
 * the entry (SDM 28.2.4), unless the handler injects one itself.
 */
static int hvt_reinject(struct hvt_host_cpu *pc, int action)
{
	u32 info = pc->idt_info;
	u32 err = 0;

	if (action != HVT_H_RESUME || !(info & VECTORING_INFO_VALID_MASK))
		return action;
	info &= VECTORING_INFO_VALID_MASK | VECTORING_INFO_DELIVER_CODE_MASK |
		VECTORING_INFO_TYPE_MASK | VECTORING_INFO_VECTOR_MASK;
	if (info & VECTORING_INFO_DELIVER_CODE_MASK)
		err = hvt_vr(pc, IDT_VECTORING_ERROR_CODE);
	return hvt_inject(pc, info, err);
}

/*
 * Devirtualizes: every piece of guest state from the VMCS into the
 * hardware, VMXOFF, and the frame set up so the stub's IRETQ continues
 * the guest at @pc->rip.  Only from CPL 0 on a kernel CR3 (the stub and
 * this code must stay mapped until the IRETQ).  Returns false when VMXOFF
 * failed (the CPU stays virtualized).
 */
static bool hvt_host_leave(struct hvt_host_cpu *pc)
{
	struct hvt_host_frame *f = pc->f;
	struct desc_ptr gdt, idt;
	u64 cr0 = hvt_vr(pc, GUEST_CR0), cr3 = hvt_vr(pc, GUEST_CR3);
	u64 cr4 = hvt_vr(pc, GUEST_CR4), shadow = hvt_vr(pc, CR4_READ_SHADOW);
	u64 dr7 = hvt_vr(pc, GUEST_DR7), debugctl = hvt_vr(pc, GUEST_IA32_DEBUGCTL);
	bool vefer = hvt_host_cfg.exitc & VM_EXIT_SAVE_IA32_EFER;
	bool vpat = hvt_host_cfg.exitc & VM_EXIT_SAVE_IA32_PAT;
	u64 efer = vefer ? hvt_vr(pc, GUEST_IA32_EFER) : 0;
	u64 pat = vpat ? hvt_vr(pc, GUEST_IA32_PAT) : 0;
	u64 se_cs = hvt_vr(pc, GUEST_SYSENTER_CS), se_esp = hvt_vr(pc, GUEST_SYSENTER_ESP);
	u64 se_eip = hvt_vr(pc, GUEST_SYSENTER_EIP);
	u64 fs_base = hvt_vr(pc, GUEST_FS_BASE), gs_base = hvt_vr(pc, GUEST_GS_BASE);
	u16 ds = hvt_vr(pc, GUEST_DS_SELECTOR), es = hvt_vr(pc, GUEST_ES_SELECTOR);
	u16 fs = hvt_vr(pc, GUEST_FS_SELECTOR), gs = hvt_vr(pc, GUEST_GS_SELECTOR);
	u16 ldt = hvt_vr(pc, GUEST_LDTR_SELECTOR);
	u64 cur;

	gdt.address = hvt_vr(pc, GUEST_GDTR_BASE);
	gdt.size = hvt_vr(pc, GUEST_GDTR_LIMIT);
	idt.address = hvt_vr(pc, GUEST_IDTR_BASE);
	idt.size = hvt_vr(pc, GUEST_IDTR_LIMIT);
	f->rip = pc->rip;
	f->rsp = f->gpr[HVT_R_RSP];
	f->rflags = pc->rflags;
	f->cs = hvt_vr(pc, GUEST_CS_SELECTOR);
	f->ss = hvt_vr(pc, GUEST_SS_SELECTOR);

	if (hvt_vmxoff())
		return false;
	pc->in_vmx = false;
	/* VMXE as the guest last wrote it (the read shadow), the rest real. */
	hvt_raw_write_cr4((cr4 & ~X86_CR4_VMXE) | (shadow & X86_CR4_VMXE));
	if (read_cr0() != cr0)
		write_cr0(cr0);
	hvt_raw_write_cr3(cr3 & ~BIT_ULL(63));
	hvt_host_flush_all();
	native_load_gdt(&gdt);
	native_load_idt(&idt);
	asm volatile("lldt %0" : : "rm" (ldt));
	native_set_debugreg(7, dr7);
	wrmsrl(MSR_IA32_DEBUGCTLMSR, debugctl);
	wrmsrl(MSR_IA32_SYSENTER_CS, se_cs);
	wrmsrl(MSR_IA32_SYSENTER_ESP, se_esp);
	wrmsrl(MSR_IA32_SYSENTER_EIP, se_eip);
	rdmsrl(MSR_EFER, cur);
	if (vefer && cur != efer)
		wrmsrl(MSR_EFER, efer);
	rdmsrl(MSR_IA32_CR_PAT, cur);
	if (vpat && cur != pat)
		wrmsrl(MSR_IA32_CR_PAT, pat);
	asm volatile("mov %0, %%ds" : : "rm" (ds));
	asm volatile("mov %0, %%es" : : "rm" (es));
	if (fs)
		asm volatile("mov %0, %%fs" : : "rm" (fs));
	wrmsrl(MSR_FS_BASE, fs_base);
	pc->active = false;
	/*
	 * Last: a GS load changes the GS base the per-CPU accesses above
	 * used; nothing reads per-CPU data between it and the IRETQ.
	 */
	asm volatile("test %0, %0\n\t"
		     "jz 1f\n\t"
		     "mov %0, %%gs\n"
		     "1: wrmsr"
		     : : "r" ((u32)gs), "c" (MSR_GS_BASE), "a" ((u32)gs_base),
		       "d" ((u32)(gs_base >> 32)) : "memory", "cc");
	return true;
}

/* May this exit be turned into a devirtualization?  (See hvt_host_leave.) */
static bool hvt_host_can_leave(struct hvt_host_cpu *pc)
{
	return hvt_cpl(pc) == 0 &&
	       !(hvt_vr(pc, GUEST_CR3) & BIT_ULL(PTI_PGTABLE_SWITCH_BIT));
}

/**
 * hvt_host_handle_exit - C side of the host-mode exit stub
 * @f: the guest's GPRs on this CPU's host stack
 *
 * VMX root operation, interrupts off, on the kernel's page tables and
 * per-CPU area, while the interrupted kernel may hold any lock or be in
 * any state: nothing here takes a lock, sleeps, prints or calls a tracer.
 * Returns 0 to VMRESUME, 1 when the CPU was devirtualized.
 */
int hvt_host_handle_exit(struct hvt_host_frame *f)
{
	struct hvt_host_cpu *pc = f->pc;
	hvt_host_handler handler = hvt_h_unexpected;
	struct hvt_host_rec *rec;
	u32 basic;
	int action;

	pc->f = f;
	pc->reason = hvt_vr(pc, VM_EXIT_REASON);
	pc->qual = hvt_vr(pc, EXIT_QUALIFICATION);
	pc->insn_len = hvt_vr(pc, VM_EXIT_INSTRUCTION_LEN);
	pc->intr_info = hvt_vr(pc, VM_EXIT_INTR_INFO);
	pc->idt_info = hvt_vr(pc, IDT_VECTORING_INFO_FIELD);
	pc->interruptibility = hvt_vr(pc, GUEST_INTERRUPTIBILITY_INFO);
	pc->rip = hvt_vr(pc, GUEST_RIP);
	pc->rflags = hvt_vr(pc, GUEST_RFLAGS);
	f->gpr[HVT_R_RSP] = hvt_vr(pc, GUEST_RSP);
	pc->changed = 0;
	pc->inject_info = 0;
	pc->inject_error = 0;
	basic = pc->reason & HVTRACE_EXIT_REASON_BASIC_MASK;
	pc->seq++;
	pc->exits++;
	if (basic < HVTRACE_NR_REASONS)
		pc->by_reason[basic]++;

	rec = hvt_ring_claim(pc);
	if (rec)
		hvt_fill_exit(pc, rec);

	if (pc->reason & HVTRACE_EXIT_REASON_ENTRY_FAIL) {
		/* Only a VMLAUNCH can fail this way: give the CPU back. */
		pc->entry_fail = pc->reason;
		pc->entry_qual = pc->qual;
		handler = hvt_h_leave;
	} else if (basic < ARRAY_SIZE(hvt_host_handlers) &&
		   hvt_host_handlers[basic]) {
		handler = hvt_host_handlers[basic];
	}
	action = handler(pc);
	if (action == HVT_H_LEAVE && !hvt_host_can_leave(pc)) {
		pc->unhandled++;
		action = hvt_inject_ud(pc);
	}
	action = hvt_reinject(pc, action);
	if (action != HVT_H_LEAVE) {
		if (pc->changed & BIT_ULL(HVTRACE_CHG_RIP))
			hvt_vw(pc, GUEST_RIP, pc->rip);
		if (pc->changed & BIT_ULL(HVTRACE_CHG_GPR(HVT_R_RSP)))
			hvt_vw(pc, GUEST_RSP, f->gpr[HVT_R_RSP]);
	}
	if (rec) {
		hvt_fill_resume(pc, rec, action);
		pc->recorded++;
		smp_store_release(&pc->ring_head, pc->ring_head + 1);
	}
	if (action == HVT_H_LEAVE) {
		if (hvt_host_leave(pc))
			return 1;
		/* VMXOFF failed: still a guest; the caller sees RAX != 0. */
		pc->vmx_errors++;
		f->gpr[HVT_R_RAX] = ~0ull;
		hvt_vw(pc, GUEST_RIP, pc->rip);
	}
	return 0;
}

/*
 * VMRESUME fell through (VMfail): the guest state in the VMCS is what the
 * CPU would not take.  Leave VMX operation with it instead of looping.
 */
void hvt_host_resume_failed(struct hvt_host_frame *f)
{
	struct hvt_host_cpu *pc = f->pc;

	pc->f = f;
	pc->vm_insn_error = hvt_vr(pc, VM_INSTRUCTION_ERROR);
	pc->vmx_errors++;
	pc->rip = hvt_vr(pc, GUEST_RIP);
	pc->rflags = hvt_vr(pc, GUEST_RFLAGS);
	f->gpr[HVT_R_RSP] = hvt_vr(pc, GUEST_RSP);
	hvt_host_leave(pc);
}

/* ---- draining the rings (process context) ----------------------------- */

static void hvt_host_drain(struct hvt_host_cpu *pc)
{
	unsigned long tail = pc->ring_tail, head, flags;
	unsigned int n = 0;

	head = smp_load_acquire(&pc->ring_head);
	while (tail != head && n++ < 256) {
		struct hvt_host_rec *rec = &pc->ring[tail % HVT_HOST_RING];

		/*
		 * Interrupts off while emitting, so that the "draining" flag
		 * covers exactly the drainer's own exits on this CPU (a
		 * trapped RDTSC in the tracer's clock), never an interrupt's.
		 */
		local_irq_save(flags);
		WRITE_ONCE(pc->draining, smp_processor_id() == pc->cpu);
		trace_hvtrace_exit(&rec->exit);
		trace_hvtrace_resume(&rec->resume);
		WRITE_ONCE(pc->draining, false);
		local_irq_restore(flags);
		pc->traced++;
		tail++;
		smp_store_release(&pc->ring_tail, tail);
	}
}

static int hvt_host_drainer(void *data)
{
	struct hvt_host_cpu *pc = data;

	while (!kthread_should_stop()) {
		hvt_host_drain(pc);
		if (READ_ONCE(pc->ring_head) == pc->ring_tail)
			schedule_timeout_interruptible(1);
		else
			cond_resched();
	}
	while (READ_ONCE(pc->ring_head) != pc->ring_tail)
		hvt_host_drain(pc);
	return 0;
}

/* ---- sessions (process context) --------------------------------------- */

static void hvt_host_emit_session(struct hvt_host_cpu *pc, u8 phase)
{
	struct hvtrace_session_rec *s = &pc->session;
	const struct hvt_host_cfg *c = &hvt_host_cfg;

	memset(s, 0, sizeof(*s));
	s->phase = phase;
	s->schema_version = HVTRACE_SCHEMA_VERSION;
	strscpy(s->module_version, HVT_MODULE_VERSION, sizeof(s->module_version));
	s->run_id = hvt_host_session_id;
	s->vcpu = pc->cpu;
	strscpy(s->workload, "host", sizeof(s->workload));
	memcpy(s->cpu_model, hvt_host_model, sizeof(s->cpu_model));
	memcpy(s->vmx_msrs, hvt_vmx_msrs, sizeof(s->vmx_msrs));
	s->pin_ctls = c->pin;
	s->proc_ctls = c->proc;
	s->proc2_ctls = c->proc2;
	s->exit_ctls = c->exitc;
	s->entry_ctls = c->entryc;
	s->exception_bitmap = c->exc_bitmap;
	s->trap_mask = c->trap_mask;
	s->exits = pc->exits;
	s->dropped = pc->dropped;
	s->filtered = pc->self_filtered;
	/* a CPU's own error (not virtualized again), else why it ended */
	s->status = pc->err ?: (phase == HVTRACE_PHASE_END ? hvt_host_end_status : 0);
	s->end_reason = pc->reason;
	s->vm_insn_error = pc->vm_insn_error;
	s->backend = HVTRACE_BACKEND_HOST;
	/* init_utsname(): the owner may be exiting (its nsproxy gone) */
	strscpy(s->kernel_release, init_utsname()->release,
		sizeof(s->kernel_release));
	s->host_mismatches = pc->host_mismatches;
	s->tsc = rdtsc_ordered();
	trace_hvtrace_session(s);
}

static void hvt_host_collect(struct hvtrace_host_stats *st)
{
	unsigned int cpu, i;

	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->version = HVTRACE_ABI_VERSION;
	st->session_id = hvt_host_session_id;
	for (cpu = 0; cpu < HVT_HOST_MAX_CPUS; cpu++) {
		struct hvt_host_cpu *pc = hvt_host_cpus[cpu];

		if (!pc)
			continue;
		if (READ_ONCE(pc->active))
			st->virtualized |= BIT_ULL(cpu);
		st->exits += READ_ONCE(pc->exits);
		st->traced += READ_ONCE(pc->traced);
		st->dropped += READ_ONCE(pc->dropped);
		st->filtered += READ_ONCE(pc->self_filtered);
		st->buffer_full += READ_ONCE(pc->buffer_full);
		st->unhandled += READ_ONCE(pc->unhandled);
		st->ud_injected += READ_ONCE(pc->ud_injected);
		st->host_checks += pc->host_checks;
		st->host_mismatches += pc->host_mismatches;
		for (i = 0; i < HVTRACE_NR_REASONS; i++)
			st->by_reason[i] += READ_ONCE(pc->by_reason[i]);
	}
}

/*
 * Devirtualizes one CPU from process context: the cross-call runs on that
 * CPU (directly, interrupts off, when it is the caller's).  An offline CPU
 * was devirtualized by the hotplug callback.
 */
static void hvt_host_off_one(struct hvt_host_cpu *pc)
{
	if (pc->active)
		smp_call_function_single(pc->cpu, hvt_host_off_cpu, pc, 1);
}

/* Ends the session: every CPU given back, rings drained, counters kept. */
static void hvt_host_end_locked(void)
{
	unsigned int cpu;
	u64 left = 0;
	bool stuck = false;

	for (cpu = 0; cpu < HVT_HOST_MAX_CPUS; cpu++) {
		struct hvt_host_cpu *pc = hvt_host_cpus[cpu];

		if (!pc)
			continue;
		pc->want = false;
		hvt_host_off_one(pc);
		if (pc->active)
			left |= BIT_ULL(cpu);
		if (pc->drainer) {
			kthread_stop(pc->drainer);
			put_task_struct(pc->drainer);
			pc->drainer = NULL;
		}
		if (pc->host_mismatches)
			pr_err("cpu %u: host state changed across (de)virtualization (%llu differences)\n",
			       cpu, pc->host_mismatches);
		if (pc->unhandled)
			pr_warn("cpu %u: %llu exits answered as unexpected\n",
				cpu, pc->unhandled);
		if (pc->io_reopened)
			pr_info("cpu %u: string I/O on a trapped port without the monitor trap flag: %llu port(s) left untrapped\n",
				cpu, pc->io_reopened);
		hvt_host_emit_session(pc, HVTRACE_PHASE_END);
	}
	hvt_host_collect(&hvt_host_last);
	pr_info("host session %llu ended: %llu exits, %llu traced, %llu dropped, host state %s%s\n",
		hvt_host_session_id, hvt_host_last.exits, hvt_host_last.traced,
		hvt_host_last.dropped,
		hvt_host_last.host_mismatches ? "CHANGED" : "intact",
		left ? ", SOME CPUS STILL VIRTUALIZED" : "");
	for (cpu = 0; cpu < HVT_HOST_MAX_CPUS; cpu++) {
		struct hvt_host_cpu *pc = hvt_host_cpus[cpu];

		/* A CPU that could not leave keeps its pages (never freed under it). */
		if (!pc || pc->active || pc->in_vmx) {
			stuck |= !!pc;
			continue;
		}
		hvt_host_cpu_free(pc);
		hvt_host_cpus[cpu] = NULL;
	}
	if (!stuck) {
		hvt_free_page(hvt_host_pgd);
		hvt_host_pgd = NULL;
	}
	hvt_host_owner = NULL;
	hvt_host_end_status = 0;
}

static const char *hvt_host_errstr(int err)
{
	switch (err) {
	case -EBUSY:
		return "CR4.VMXE already set: another hypervisor holds VMX";
	case -EOPNOTSUPP:
		return "CR0/CR4 violate the VMX fixed bits";
	default:
		return "VMX instruction failed";
	}
}

int hvt_host_on(struct file *owner, struct hvtrace_host_on *on)
{
	struct hvt_host_cfg cfg;
	u64 cpus = on->cpus;
	unsigned int cpu, i;
	int err = 0;

	if (on->flags)
		return -EINVAL;
	if (on->trap_mask & ~HVT_HOST_TRAPS)
		return -EINVAL;
	if (on->nr_msrs > HVTRACE_HOST_MAX_RANGES ||
	    on->nr_ports > HVTRACE_HOST_MAX_RANGES)
		return -EINVAL;
	for (i = 0; i < on->nr_msrs; i++)
		if (on->msrs[i].first > on->msrs[i].last)
			return -EINVAL;
	for (i = 0; i < on->nr_ports; i++)
		if (on->ports[i].first > on->ports[i].last ||
		    on->ports[i].last > 0xffff)
			return -EINVAL;
	if ((on->trap_mask & HVTRACE_TRAP_EXC) &&
	    (on->exc_bitmap & HVT_HOST_EXC_FORBIDDEN))
		return -EINVAL;

	cpus_read_lock();
	mutex_lock(&hvt_host_lock);
	if (hvt_host_owner) {
		err = -EBUSY;
		goto out;
	}
	if (!cpus) {
		for_each_online_cpu(cpu)
			if (cpu < HVT_HOST_MAX_CPUS)
				cpus |= BIT_ULL(cpu);
	}
	for (cpu = 0; cpu < HVT_HOST_MAX_CPUS; cpu++)
		if ((cpus & BIT_ULL(cpu)) && !cpu_online(cpu)) {
			err = -EINVAL;
			goto out;
		}
	if (cpus >> min_t(unsigned int, nr_cpu_ids, HVT_HOST_MAX_CPUS) ||
	    !cpus) {
		err = -EINVAL;
		goto out;
	}
	err = hvt_host_config(&cfg, on);
	if (err)
		goto out;
	hvt_host_cfg = cfg;
	hvt_host_pgd = hvt_alloc_page();
	if (!hvt_host_pgd) {
		err = -ENOMEM;
		goto out;
	}
	memcpy((pgd_t *)hvt_host_pgd + PTRS_PER_PGD / 2,
	       (pgd_t *)__va(read_cr3_pa()) + PTRS_PER_PGD / 2,
	       PAGE_SIZE / 2);
	hvt_host_session_id = (1ull << 32) | ++hvt_host_sessions;
	hvt_host_owner = owner;

	for (cpu = 0; cpu < HVT_HOST_MAX_CPUS; cpu++) {
		struct hvt_host_cpu *pc;
		struct task_struct *t;

		if (!(cpus & BIT_ULL(cpu)))
			continue;
		pc = hvt_host_cpus[cpu] ?: hvt_host_cpu_alloc(cpu);
		hvt_host_cpus[cpu] = pc;
		if (!pc) {
			err = -ENOMEM;
			goto fail;
		}
		pc->vpid = cfg.vpid ? cpu + 1 : 0;
		pc->host_cr3 = __pa(hvt_host_pgd);
		hvt_host_bitmaps(pc, &cfg);
		t = kthread_create_on_cpu(hvt_host_drainer, pc, cpu,
					  "hvtrace-host/%u");
		if (IS_ERR(t)) {
			err = PTR_ERR(t);
			goto fail;
		}
		get_task_struct(t);
		pc->drainer = t;
		wake_up_process(t);
	}
	for (cpu = 0; cpu < HVT_HOST_MAX_CPUS; cpu++) {
		struct hvt_host_cpu *pc = hvt_host_cpus[cpu];

		if (!pc || !(cpus & BIT_ULL(cpu)))
			continue;
		pc->err = 0;
		smp_call_function_single(cpu, hvt_host_on_cpu, pc, 1);
		if (pc->err) {
			err = pc->err;
			pr_err("cpu %u: not virtualized: %s (%d)\n", cpu,
			       hvt_host_errstr(err), err);
			if (pc->entry_fail)
				pr_err("cpu %u: VM-entry failure, exit reason %#llx qualification %#llx\n",
				       cpu, pc->entry_fail, pc->entry_qual);
			if (pc->vm_insn_error)
				pr_err("cpu %u: VMLAUNCH VM-instruction error %u\n",
				       cpu, pc->vm_insn_error);
			goto fail;
		}
		pc->want = true;
		hvt_host_emit_session(pc, HVTRACE_PHASE_START);
	}
	on->session_id = hvt_host_session_id;
	on->virtualized = cpus;
	pr_info("host session %llu: cpus %#llx virtualized, traps %#llx, vpid %s, monitor trap flag %s\n",
		hvt_host_session_id, cpus, cfg.trap_mask, cfg.vpid ? "on" : "off",
		cfg.mtf ? "yes" : "no");
	goto out;
fail:
	hvt_host_end_locked();
out:
	mutex_unlock(&hvt_host_lock);
	cpus_read_unlock();
	return err;
}

/* Ends the session of @owner (any when NULL); @status goes to its END records. */
static int hvt_host_off_status(struct file *owner, struct hvtrace_host_stats *st,
			       int status)
{
	int err = 0;

	cpus_read_lock();
	mutex_lock(&hvt_host_lock);
	if (!hvt_host_owner || (owner && hvt_host_owner != owner)) {
		err = -ENOENT;
	} else {
		hvt_host_end_status = status;
		hvt_host_end_locked();
		if (st)
			*st = hvt_host_last;
	}
	mutex_unlock(&hvt_host_lock);
	cpus_read_unlock();
	return err;
}

int hvt_host_off(struct file *owner, struct hvtrace_host_stats *st)
{
	return hvt_host_off_status(owner, st, 0);
}

int hvt_host_stats(struct hvtrace_host_stats *st)
{
	mutex_lock(&hvt_host_lock);
	if (hvt_host_owner)
		hvt_host_collect(st);
	else
		*st = hvt_host_last;
	mutex_unlock(&hvt_host_lock);
	return 0;
}

void hvt_host_release(struct file *file)
{
	hvt_host_off(file, NULL);
}

/*
 * A CPU going offline is devirtualized first, on itself (AP hotplug
 * callbacks run on the CPU concerned); the session goes on with the others,
 * and the CPU is virtualized again when it comes back (hvt_host_cpu_up).
 * Suspend and hibernation take the secondary CPUs down this way before
 * syscore_ops run on the last one.
 */
static int hvt_host_cpu_down(unsigned int cpu)
{
	struct hvt_host_cpu *pc;

	if (cpu >= HVT_HOST_MAX_CPUS)
		return 0;
	mutex_lock(&hvt_host_lock);
	pc = hvt_host_cpus[cpu];
	if (pc && pc->active) {
		local_irq_disable();
		hvt_host_off_cpu(pc);
		local_irq_enable();
		pr_info("cpu %u going offline: devirtualized\n", cpu);
	}
	mutex_unlock(&hvt_host_lock);
	return 0;
}

/*
 * A session's CPU coming (back) online is virtualized again, on itself,
 * with the state it has now; a failure leaves it native, logged and kept
 * as that CPU's status in the END record.
 */
static int hvt_host_cpu_up(unsigned int cpu)
{
	struct hvt_host_cpu *pc;

	if (cpu >= HVT_HOST_MAX_CPUS)
		return 0;
	mutex_lock(&hvt_host_lock);
	pc = hvt_host_cpus[cpu];
	if (hvt_host_owner && pc && pc->want && !pc->active) {
		pc->err = 0;
		smp_call_function_single(cpu, hvt_host_on_cpu, pc, 1);
		if (pc->err)
			pr_err("cpu %u: not virtualized again: %s (%d)\n", cpu,
			       hvt_host_errstr(pc->err), pc->err);
		else
			pr_info("cpu %u online again: virtualized\n", cpu);
	}
	mutex_unlock(&hvt_host_lock);
	return 0;
}

/*
 * Suspend, hibernation (image and restore) and kexec with preserved
 * context: the secondary CPUs went down through the hotplug callback;
 * syscore_suspend runs last, on the remaining CPU, interrupts off, every
 * task frozen (nobody holds hvt_host_lock), before the firmware or the
 * other kernel gets the CPU.  syscore_resume virtualizes it again first
 * thing after; the others follow as they come online.
 */
static int hvt_host_syscore_suspend(void)
{
	unsigned int cpu = smp_processor_id();
	struct hvt_host_cpu *pc;

	pc = cpu < HVT_HOST_MAX_CPUS ? READ_ONCE(hvt_host_cpus[cpu]) : NULL;
	if (pc && pc->active) {
		hvt_host_off_cpu(pc);
		pr_info("cpu %u: devirtualized for suspend\n", cpu);
	}
	return 0;
}

static void hvt_host_syscore_resume(void)
{
	unsigned int cpu = smp_processor_id();
	struct hvt_host_cpu *pc;

	pc = cpu < HVT_HOST_MAX_CPUS ? READ_ONCE(hvt_host_cpus[cpu]) : NULL;
	if (!pc || !pc->want || pc->active)
		return;
	pc->err = hvt_host_virtualize(pc);
	if (pc->err)
		pr_err("cpu %u: not virtualized again after resume: %s (%d)\n",
		       cpu, hvt_host_errstr(pc->err), pc->err);
	else
		pr_info("cpu %u: resumed: virtualized again\n", cpu);
}

#ifdef HVT_SYSCORE_HAS_DATA
/*
 * Upstream's syscore rework (callbacks with a data pointer, registered in
 * a struct syscore) came to 6.12 in stable 6.12.114: Kbuild tells which
 * interface the headers have.
 */
static int hvt_host_syscore_suspend_data(void *data)
{
	return hvt_host_syscore_suspend();
}

static void hvt_host_syscore_resume_data(void *data)
{
	hvt_host_syscore_resume();
}

static const struct syscore_ops hvt_host_syscore_ops = {
	.suspend = hvt_host_syscore_suspend_data,
	.resume = hvt_host_syscore_resume_data,
};

static struct syscore hvt_host_syscore = {
	.ops = &hvt_host_syscore_ops,
};

static void hvt_host_syscore_register(bool on)
{
	if (on)
		register_syscore(&hvt_host_syscore);
	else
		unregister_syscore(&hvt_host_syscore);
}
#else
static struct syscore_ops hvt_host_syscore_ops = {
	.suspend = hvt_host_syscore_suspend,
	.resume = hvt_host_syscore_resume,
};

static void hvt_host_syscore_register(bool on)
{
	if (on)
		register_syscore_ops(&hvt_host_syscore_ops);
	else
		unregister_syscore_ops(&hvt_host_syscore_ops);
}
#endif

/* Reboot, halt, power-off, kexec: no CPU may stay in VMX operation. */
static int hvt_host_reboot(struct notifier_block *nb, unsigned long code,
			   void *unused)
{
	/* The END records say the session did not end by its owner's will. */
	if (!hvt_host_off_status(NULL, NULL, -ECANCELED))
		pr_info("reboot: every CPU devirtualized first\n");
	return NOTIFY_DONE;
}

static struct notifier_block hvt_host_reboot_nb = {
	.notifier_call = hvt_host_reboot,
};

/* The selftest's entry to the reboot path (main.c: selftest_reboot=1). */
void hvt_host_reboot_selftest(void)
{
	hvt_host_reboot(&hvt_host_reboot_nb, SYS_RESTART, NULL);
}

int hvt_host_init(void)
{
	u32 *p = (u32 *)hvt_host_model;
	int r, i;

	hvt_host_key = get_random_u64() | 1;
	if (cpuid_eax(0x80000000) >= 0x80000004)
		for (i = 0; i < 3; i++)
			cpuid(0x80000002 + i, &p[4 * i], &p[4 * i + 1],
			      &p[4 * i + 2], &p[4 * i + 3]);
	r = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "hvtrace/host:online",
				      hvt_host_cpu_up, hvt_host_cpu_down);
	if (r < 0)
		return r;
	hvt_host_cpuhp = r;
	register_reboot_notifier(&hvt_host_reboot_nb);
	hvt_host_syscore_register(true);
	return 0;
}

void hvt_host_exit(void)
{
	hvt_host_off(NULL, NULL);
	hvt_host_syscore_register(false);
	unregister_reboot_notifier(&hvt_host_reboot_nb);
	cpuhp_remove_state_nocalls(hvt_host_cpuhp);
}
