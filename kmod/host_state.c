// SPDX-License-Identifier: GPL-2.0
/*
 * Host-state hygiene around VM entries and exits, and the checks that prove
 * it.  Every capture backend that executes VMLAUNCH/VMRESUME itself (the
 * sandbox today, host mode next) calls these helpers; what they do mirrors
 * what KVM does around its own entries (vmx_vcpu_run, kvm_load_ldt,
 * hw_breakpoint_restore), each step with the SDM or kernel rule that
 * forces it.
 *
 *   hvt_host_prepare_entry()  before every VM entry: HOST_CR3/HOST_CR4
 *                             follow the kernel, the LDT selector to reload
 *   hvt_host_restore()        first thing after every VM exit: the state a
 *                             VM exit does not load (SDM 28.5) put back
 *   hvt_host_snapshot()/..._compare()   the integrity check (host_check=)
 */
#define pr_fmt(fmt) "hvtrace: " fmt

#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/hw_breakpoint.h>
#include <asm/desc.h>
#include <asm/debugreg.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/vmx.h>
#include <asm/fpu/api.h>

#include "hvt.h"

/*
 * host_check: 0 off, 1 compare the whole host state before and after each
 * run (default), 2 also compare the state a VM exit clobbers after every
 * exit.  Any difference is counted (hvt_stats.host_mismatches, the session
 * record) and logged: it is a bug of hvtrace.
 */
unsigned int hvt_host_check = 1;
module_param_named(host_check, hvt_host_check, uint, 0644);
MODULE_PARM_DESC(host_check,
		 "host-state integrity check: 0 off, 1 around runs, 2 also at every exit");

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

/* DR7 after a VM exit, and its reserved always-1 bit (SDM 28.5.1). */
#define HVT_DR7_FIXED_1	0x400ul

#define HVT_READ_SEG(seg, var) asm volatile("mov %%" #seg ", %0" : "=rm" (var))

/**
 * hvt_host_prepare_entry - make the VMCS host-state area current
 * @v: the vCPU about to enter
 *
 * Runs with interrupts off right before VMLAUNCH/VMRESUME.  The kernel
 * changes CR4 at run time (CR4.PCE follows the address space: perf's rdpmc
 * permission, switched in switch_mm and by IPI) and the run thread borrows
 * whichever address space the CPU last had, which can change while the run
 * yields: a VM exit loads HOST_CR3/HOST_CR4 verbatim (SDM 28.5.1), so both
 * must be the live values at each entry, as KVM's vmx_vcpu_run() ensures.
 * The LDT selector is taken here because a VM exit leaves LDTR unusable
 * (SDM 28.5.2) and hvt_host_restore() must reload exactly this one.
 */
void hvt_host_prepare_entry(struct hvt_vcpu *v)
{
	unsigned long cr3 = __read_cr3(), cr4 = cr4_read_shadow() | X86_CR4_VMXE;

	if (unlikely(cr3 != v->host.cr3)) {
		hvt_vmwrite(v, HOST_CR3, cr3);
		v->host.cr3 = cr3;
	}
	if (unlikely(cr4 != v->host.cr4)) {
		hvt_vmwrite(v, HOST_CR4, cr4);
		v->host.cr4 = cr4;
	}
	v->host.ldt_sel = hvt_sldt();
}

/**
 * hvt_host_reload_debug - take the host's DR7 and IA32_DEBUGCTL anew
 * @v: the vCPU
 *
 * A VM exit sets DR7 to 0x400 and clears IA32_DEBUGCTL (SDM 28.5.1).  The
 * host's values (perf breakpoints, LBR and BTF users) change only while
 * host code runs with interrupts on (an IPI installs a breakpoint), so they
 * are read at the start of a run and after every interrupt window or yield,
 * when hvt_host_restore() has already put them back.
 */
void hvt_host_reload_debug(struct hvt_vcpu *v)
{
	v->host.dr7 = native_get_debugreg(7);
	rdmsrl(MSR_IA32_DEBUGCTLMSR, v->host.debugctl);
}

/**
 * hvt_host_restore - put back what a VM exit does not restore
 * @v: the vCPU that just exited
 *
 * Called first thing after every VM exit, interrupts off:
 *  - GDTR/IDTR limits: a VM exit sets both to 0xffff (SDM 28.5.2);
 *  - LDTR: left unusable by the exit; the scheduler's same-mm path never
 *    reloads it, so a task of the borrowed address space using modify_ldt()
 *    would find its selectors dead (KVM: kvm_load_ldt);
 *  - DR7: set to 0x400 by the exit (the guest's DR7 is loaded and saved
 *    through the debug-controls VMCS bits, so host breakpoints never fire
 *    in the guest); the host's value is written back, which re-arms its
 *    breakpoints (DR0-3 and DR6 are untouched by exits, and MOV DR in the
 *    guest exits and stops the run);
 *  - IA32_DEBUGCTL: cleared by the exit.
 * The TR limit (0x67 after an exit) is fixed lazily by the kernel
 * (invalidate_tss_limit() at the callers that return to host code).
 */
void hvt_host_restore(struct hvt_vcpu *v)
{
	native_load_gdt(&v->host.gdt);
	native_load_idt(&v->host.idt);
	if (v->host.ldt_sel)
		asm volatile("lldt %0" : : "rm" (v->host.ldt_sel));
	if (v->host.dr7 != HVT_DR7_FIXED_1)
		native_set_debugreg(7, v->host.dr7);
	if (v->host.debugctl)
		wrmsrl(MSR_IA32_DEBUGCTLMSR, v->host.debugctl);
}

/* ---- the integrity check ---------------------------------------------- */

#define HVT_HOST_MSRS(M)						\
	M(MSR_EFER, efer)						\
	M(MSR_IA32_CR_PAT, pat)						\
	M(MSR_IA32_DEBUGCTLMSR, debugctl)				\
	M(MSR_FS_BASE, fs_base)						\
	M(MSR_GS_BASE, gs_base)						\
	M(MSR_KERNEL_GS_BASE, kernel_gs_base)				\
	M(MSR_IA32_SYSENTER_CS, sysenter_cs)				\
	M(MSR_IA32_SYSENTER_ESP, sysenter_esp)				\
	M(MSR_IA32_SYSENTER_EIP, sysenter_eip)				\
	M(MSR_STAR, star)						\
	M(MSR_LSTAR, lstar)						\
	M(MSR_CSTAR, cstar)						\
	M(MSR_SYSCALL_MASK, sfmask)

/*
 * Captures the host state the kernel relies on.  Interrupts off, on the
 * CPU of the run: before the run, and again after each yield (the
 * scheduler may legitimately have switched the borrowed address space,
 * with its CR3, CR4.PCE and LDT, or armed a breakpoint), so that the
 * comparison after the run holds hvtrace to what the kernel last set.  DR7 is the kernel's view (per-CPU cpu_dr7, 0x400 when
 * no breakpoint is armed), compared with the register.
 */
void hvt_host_snapshot(struct hvt_host_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->cr0 = read_cr0();
	s->cr3 = __read_cr3();
	/* CR4.VMXE is the run's own, set while it is in VMX operation. */
	s->cr4 = __read_cr4() & ~X86_CR4_VMXE;
	s->cr4_kernel = cr4_read_shadow() & ~X86_CR4_VMXE;
	/* Bit 10 reads as 1 on hardware; a written 0 is the same state. */
	s->dr7 = native_get_debugreg(7) | HVT_DR7_FIXED_1;
	native_store_gdt(&s->gdt);
	store_idt(&s->idt);
	s->ldt_sel = hvt_sldt();
	s->tr = hvt_str();
	HVT_READ_SEG(cs, s->cs);
	HVT_READ_SEG(ss, s->ss);
	HVT_READ_SEG(ds, s->ds);
	HVT_READ_SEG(es, s->es);
	HVT_READ_SEG(fs, s->fs);
	HVT_READ_SEG(gs, s->gs);
#define HVT_SNAP_MSR(idx, name) rdmsrl_safe(idx, &s->name);
	HVT_HOST_MSRS(HVT_SNAP_MSR)
#undef HVT_SNAP_MSR
	if (boot_cpu_has(X86_FEATURE_RDTSCP) || boot_cpu_has(X86_FEATURE_RDPID))
		rdmsrl_safe(MSR_TSC_AUX, &s->tsc_aux);
	if (boot_cpu_has(X86_FEATURE_OSPKE))
		s->pkru = rdpkru();
}

static unsigned int hvt_mismatch(unsigned int cpu, const char *where,
				 const char *what, u64 want, u64 got)
{
	if (want == got)
		return 0;
	pr_err_ratelimited("cpu %u: host state changed %s: %s was %#llx, now %#llx\n",
			   cpu, where, what, want, got);
	return 1;
}

/**
 * hvt_host_compare - compare the host state with a snapshot
 * @v: the vCPU (its mismatch counter is raised)
 * @want: snapshot taken before the run
 * @where: "after the run", for the log
 *
 * CR4 is compared with the kernel's shadow too: after a run it must hold
 * exactly what the kernel believes it holds.  Returns the number of
 * differing items.
 */
unsigned int hvt_host_compare(struct hvt_vcpu *v, const struct hvt_host_snap *want,
			      const char *where)
{
	unsigned int n = hvt_host_compare_cpu(v->cpu, want, where);

	v->host_mismatches += n;
	return n;
}

/**
 * hvt_host_compare_cpu - hvt_host_compare() for a caller without a vCPU
 * @cpu: the CPU compared (this one), for the log
 * @want: the snapshot
 * @where: for the log
 *
 * Host mode compares the state a CPU had before virtualization with what
 * its guest sees right after VMLAUNCH, and the guest's view before
 * devirtualization with the hardware after VMXOFF.
 */
unsigned int hvt_host_compare_cpu(unsigned int cpu,
				  const struct hvt_host_snap *want,
				  const char *where)
{
	struct hvt_host_snap now;
	unsigned int n = 0;

	hvt_host_snapshot(&now);
#define HVT_CMP(f) (n += hvt_mismatch(cpu, where, #f, want->f, now.f))
	HVT_CMP(cr0);
	HVT_CMP(cr3);
	HVT_CMP(cr4);
	n += hvt_mismatch(cpu, where, "cr4 (kernel's shadow)", now.cr4_kernel, now.cr4);
	HVT_CMP(dr7);
	HVT_CMP(gdt.address);
	HVT_CMP(gdt.size);
	HVT_CMP(idt.address);
	HVT_CMP(idt.size);
	HVT_CMP(ldt_sel);
	HVT_CMP(tr);
	HVT_CMP(cs);
	HVT_CMP(ss);
	HVT_CMP(ds);
	HVT_CMP(es);
	HVT_CMP(fs);
	HVT_CMP(gs);
#define HVT_CMP_MSR(idx, name) HVT_CMP(name);
	HVT_HOST_MSRS(HVT_CMP_MSR)
#undef HVT_CMP_MSR
	HVT_CMP(tsc_aux);
	HVT_CMP(pkru);
#undef HVT_CMP
	atomic64_inc(&hvt_stats.host_checks);
	atomic64_add(n, &hvt_stats.host_mismatches);
	return n;
}

/**
 * hvt_host_check_exit - the per-exit part of the check (host_check=2)
 * @v: the vCPU, right after hvt_host_restore()
 *
 * Compares what a VM exit clobbers or loads from the VMCS with what the
 * kernel set before the entry: LDTR, GDTR, IDTR, CR3, CR4 against the
 * kernel's shadow, DR7 against the host's value and the kernel's
 * breakpoint record.
 */
void hvt_host_check_exit(struct hvt_vcpu *v)
{
	struct desc_ptr gdt, idt;
	unsigned int n = 0;
	const char *w = "at an exit";

	native_store_gdt(&gdt);
	store_idt(&idt);
	n += hvt_mismatch(v->cpu, w, "ldtr", v->host.ldt_sel, hvt_sldt());
	n += hvt_mismatch(v->cpu, w, "gdtr.limit", v->host.gdt.size, gdt.size);
	n += hvt_mismatch(v->cpu, w, "idtr.limit", v->host.idt.size, idt.size);
	n += hvt_mismatch(v->cpu, w, "cr3", v->host.cr3, __read_cr3());
	n += hvt_mismatch(v->cpu, w, "cr4", cr4_read_shadow() | X86_CR4_VMXE,
			  __read_cr4());
	n += hvt_mismatch(v->cpu, w, "dr7", v->host.dr7 | HVT_DR7_FIXED_1,
			  native_get_debugreg(7) | HVT_DR7_FIXED_1);
	/* ... and the kernel's breakpoint record agrees with it. */
	if (hw_breakpoint_active())
		n += hvt_mismatch(v->cpu, w, "dr7 (kernel's record)",
				  this_cpu_read(cpu_dr7) & ~HVT_DR7_FIXED_1,
				  native_get_debugreg(7) & ~HVT_DR7_FIXED_1);
	v->host_mismatches += n;
	atomic64_inc(&hvt_stats.host_checks);
	atomic64_add(n, &hvt_stats.host_mismatches);
}
