// SPDX-License-Identifier: GPL-2.0
/*
 * VMX operation for one run: load-time capability checks, per-CPU
 * resources, VMXON, the VMCS (built from the capability MSRs), the run on
 * the requested CPU, VMXOFF.  VMX operation exists only while a run is in
 * progress; CR4.VMXE is cleared again on every path.
 */
#define pr_fmt(fmt) "hvtrace: " fmt

#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/reboot.h>
#include <linux/spinlock.h>
#include <linux/utsname.h>
#include <linux/string.h>
#include <linux/percpu.h>
#include <asm/vmx.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/fpu/api.h>
#include <asm/desc.h>
#include <asm/tlbflush.h>
#include <asm/special_insns.h>
#include <asm/processor.h>
#include <asm/cpu_entry_area.h>
#include <asm/tsc.h>
#include <asm/debugreg.h>

#include "hvt.h"
#include "vmx_ops.h"
#include "hvtrace_trace.h"

static_assert(HVT_MSRI_COUNT == HVTRACE_NR_VMX_MSRS);

#define HVT_MSRN(idx, name) idx,
static const u32 hvt_vmx_msr_index[] = { HVTRACE_VMX_MSRS(HVT_MSRN) };
#undef HVT_MSRN

/* IA32_VMX_BASIC bits (SDM Vol. 3D, A.1) */
#define HVT_BASIC_REVISION(b)	((u32)(b) & 0x7fffffffu)
#define HVT_BASIC_SIZE(b)	((u32)((b) >> 32) & 0x1fffu)
#define HVT_BASIC_32BIT_PA	BIT_ULL(48)
#define HVT_BASIC_MEMTYPE(b)	((u32)((b) >> 50) & 0xfu)
#define HVT_BASIC_TRUE_CTLS	BIT_ULL(55)
#define HVT_MEMTYPE_WB		6

/* IA32_FEATURE_CONTROL bits */
#define FEAT_CTL_LOCK		BIT_ULL(0)
#define FEAT_CTL_VMX_OUTSIDE	BIT_ULL(2)

/*
 * CR0/CR4 bits owned by the hypervisor (guest/host masks when the run traps
 * CR0/CR4).  A guest MOV to CR0/CR4 exits when it changes one of these bits
 * relative to the read shadow; the handler records the value in the shadow
 * and applies only the bits outside the mask, so the guest can never switch
 * off paging, protection, caching or VMX of the shared address space.
 */
#define HVT_CR0_MASK	(X86_CR0_PE | X86_CR0_WP | X86_CR0_NW | X86_CR0_CD | \
			 X86_CR0_PG)
#define HVT_CR4_MASK	(X86_CR4_PSE | X86_CR4_PAE | X86_CR4_PGE | \
			 X86_CR4_LA57 | X86_CR4_VMXE | X86_CR4_PCIDE | \
			 X86_CR4_SMEP | X86_CR4_SMAP)

u64 hvt_vmx_msrs[HVTRACE_NR_VMX_MSRS];
static char hvt_cpu_model[48];
static struct hvt_cpu **hvt_cpus;
static DEFINE_MUTEX(hvt_cpus_lock);
static atomic64_t hvt_run_ids = ATOMIC64_INIT(0);

/* ---- VMX instruction reporting ---------------------------------------- */

static void hvt_vmx_failed(struct hvt_vcpu *v, const char *what,
			   unsigned long field, int r)
{
	unsigned long err = 0;

	atomic64_inc(&hvt_stats.vmx_failures);
	if (r == HVT_VMX_FAIL_VALID)
		__hvt_vmread(VM_INSTRUCTION_ERROR, &err);
	if (!v->vmx_failed) {
		v->vmx_failed = true;
		v->vm_insn_error = err;
	}
	pr_err("cpu %u: %s %#lx failed: %s, VM-instruction error %lu\n",
	       v->cpu, what, field, hvt_vmx_outcome(r), err);
}

int hvt_vmwrite(struct hvt_vcpu *v, unsigned long field, u64 val)
{
	int r = __hvt_vmwrite(field, val);

	if (r)
		hvt_vmx_failed(v, "VMWRITE", field, r);
	return r;
}

int hvt_vmread(struct hvt_vcpu *v, unsigned long field, u64 *val)
{
	unsigned long x;
	int r = __hvt_vmread(field, &x);

	*val = x;
	if (r)
		hvt_vmx_failed(v, "VMREAD", field, r);
	return r;
}

u64 hvt_vmread_or0(struct hvt_vcpu *v, unsigned long field)
{
	u64 x;

	return hvt_vmread(v, field, &x) ? 0 : x;
}

/* ---- load-time checks ------------------------------------------------- */

struct hvt_cpu_check {
	int err;
	u64 feat_ctl;
	bool locked_now;
	bool vmx_held;
};
static DEFINE_PER_CPU(struct hvt_cpu_check, hvt_check);

/*
 * Pass 1 (@lock false) only looks; pass 2 (@lock true), run only when
 * every CPU passed, locks an unlocked IA32_FEATURE_CONTROL: a refusal on
 * one CPU must not leave the others' locked behind.
 */
static void hvt_check_this_cpu(void *lockp)
{
	struct hvt_cpu_check *c = this_cpu_ptr(&hvt_check);
	bool lock = *(bool *)lockp;
	u64 fc;

	c->err = 0;
	c->locked_now = false;
	if (!(cpuid_ecx(1) & BIT(5))) {
		c->err = -ENODEV;
		return;
	}
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &fc)) {
		c->err = -EOPNOTSUPP;
		return;
	}
	if (!(fc & FEAT_CTL_LOCK)) {
		if (!lock) {
			c->feat_ctl = fc;
			goto vmxe;
		}
		/* Unlocked: enable VMX outside SMX and lock, as KVM does. */
		fc |= FEAT_CTL_LOCK | FEAT_CTL_VMX_OUTSIDE;
		if (wrmsrl_safe(MSR_IA32_FEAT_CTL, fc) ||
		    rdmsrl_safe(MSR_IA32_FEAT_CTL, &fc) ||
		    !(fc & FEAT_CTL_LOCK)) {
			c->err = -EPERM;
			return;
		}
		c->locked_now = true;
	}
	c->feat_ctl = fc;
	if (!(fc & FEAT_CTL_VMX_OUTSIDE)) {
		c->err = -EOPNOTSUPP;
		return;
	}
vmxe:
	/* Another hypervisor (kvm_intel) holds VMX: only sandbox runs refuse. */
	c->vmx_held = !!(__read_cr4() & X86_CR4_VMXE);
}

/* Returns the allowed-settings MSR for a control, honouring true controls. */
static u64 hvt_ctl_msr(int plain, int true_ctl)
{
	if (hvt_vmx_msrs[HVT_MSRI_VMX_BASIC] & HVT_BASIC_TRUE_CTLS)
		return hvt_vmx_msrs[true_ctl];
	return hvt_vmx_msrs[plain];
}

/*
 * Computes a control word: bits the CPU forces to 1 (allowed-0 settings,
 * low half) plus the wanted bits it allows (allowed-1 settings, high half).
 * Fails when a required bit is not allowed.
 */
static int hvt_adjust_ctl(u64 cap, u32 want, u32 required, u32 *out,
			  const char *name)
{
	u32 v = (want | required | (u32)cap) & (u32)(cap >> 32);

	if ((v & required) != required) {
		pr_err("CPU lacks required %s controls %#x (allowed %#x)\n",
		       name, required & ~v, (u32)(cap >> 32));
		return -EOPNOTSUPP;
	}
	*out = v;
	return 0;
}

static void hvt_read_cpu_model(void)
{
	u32 *p = (u32 *)hvt_cpu_model;
	unsigned int i;

	memset(hvt_cpu_model, 0, sizeof(hvt_cpu_model));
	if (cpuid_eax(0x80000000) < 0x80000004)
		return;
	for (i = 0; i < 3; i++)
		cpuid(0x80000002 + i, &p[4 * i], &p[4 * i + 1], &p[4 * i + 2],
		      &p[4 * i + 3]);
}

/*
 * Load-time checks on every online CPU.  Each refusal has its own dmesg
 * line and errno; nothing on the host is changed except locking an
 * unlocked IA32_FEATURE_CONTROL with VMX enabled.
 */
int hvt_vmx_init(void)
{
	u32 dummy;
	int cpu, err = 0, i, held = -1;
	bool lock = false;
	u64 basic;

	cpus_read_lock();
	on_each_cpu(hvt_check_this_cpu, &lock, 1);
	for_each_online_cpu(cpu)
		err = err ?: per_cpu_ptr(&hvt_check, cpu)->err;
	if (!err) {
		lock = true;
		on_each_cpu(hvt_check_this_cpu, &lock, 1);
	}
	err = 0;
	for_each_online_cpu(cpu) {
		struct hvt_cpu_check *c = per_cpu_ptr(&hvt_check, cpu);

		if (c->locked_now)
			pr_info("cpu %d: IA32_FEATURE_CONTROL was unlocked; locked with VMX enabled (%#llx)\n",
				cpu, c->feat_ctl);
		if (c->vmx_held && held < 0)
			held = cpu;
		if (!c->err || err)
			continue;
		err = c->err;
		switch (err) {
		case -ENODEV:
			pr_err("cpu %d: no VMX (CPUID.1:ECX.VMX[bit 5] = 0); not loading\n",
			       cpu);
			break;
		case -EOPNOTSUPP:
			pr_err("cpu %d: VMX disabled by firmware (IA32_FEATURE_CONTROL %#llx locked without VMX outside SMX); not loading\n",
			       cpu, c->feat_ctl);
			break;
		case -EPERM:
			pr_err("cpu %d: IA32_FEATURE_CONTROL unlocked but cannot be locked with VMX enabled; not loading\n",
			       cpu);
			break;
		}
	}
	cpus_read_unlock();
	if (err)
		return err;
	if (held >= 0)
		pr_info("cpu %d: CR4.VMXE set: VMX is held by another hypervisor (kvm_intel?); sandbox runs will be refused, the KVM backend works\n",
			held);

	for (i = 0; i < HVTRACE_NR_VMX_MSRS; i++)
		if (rdmsrl_safe(hvt_vmx_msr_index[i], &hvt_vmx_msrs[i]))
			hvt_vmx_msrs[i] = 0;
	basic = hvt_vmx_msrs[HVT_MSRI_VMX_BASIC];
	if (HVT_BASIC_SIZE(basic) > PAGE_SIZE || HVT_BASIC_SIZE(basic) == 0) {
		pr_err("IA32_VMX_BASIC %#llx: VMCS size %u unsupported; not loading\n",
		       basic, HVT_BASIC_SIZE(basic));
		return -EOPNOTSUPP;
	}
	if (HVT_BASIC_MEMTYPE(basic) != HVT_MEMTYPE_WB ||
	    (basic & HVT_BASIC_32BIT_PA)) {
		pr_err("IA32_VMX_BASIC %#llx: VMCS memory type/address width unsupported; not loading\n",
		       basic);
		return -EOPNOTSUPP;
	}
	/* The controls every run needs must exist. */
	err = hvt_adjust_ctl(hvt_ctl_msr(HVT_MSRI_VMX_PINBASED_CTLS,
					 HVT_MSRI_VMX_TRUE_PINBASED_CTLS),
			     0, PIN_BASED_EXT_INTR_MASK |
			     PIN_BASED_VMX_PREEMPTION_TIMER, &dummy,
			     "pin-based");
	if (!err)
		err = hvt_adjust_ctl(hvt_ctl_msr(HVT_MSRI_VMX_PROCBASED_CTLS,
						 HVT_MSRI_VMX_TRUE_PROCBASED_CTLS),
				     0, CPU_BASED_HLT_EXITING |
				     CPU_BASED_USE_IO_BITMAPS |
				     CPU_BASED_USE_MSR_BITMAPS, &dummy,
				     "processor-based");
	if (!err)
		err = hvt_adjust_ctl(hvt_ctl_msr(HVT_MSRI_VMX_EXIT_CTLS,
						 HVT_MSRI_VMX_TRUE_EXIT_CTLS),
				     0, VM_EXIT_HOST_ADDR_SPACE_SIZE, &dummy,
				     "VM-exit");
	if (!err)
		err = hvt_adjust_ctl(hvt_ctl_msr(HVT_MSRI_VMX_ENTRY_CTLS,
						 HVT_MSRI_VMX_TRUE_ENTRY_CTLS),
				     0, VM_ENTRY_IA32E_MODE, &dummy, "VM-entry");
	if (err) {
		pr_err("VMX capabilities insufficient; not loading\n");
		return err;
	}
	hvt_read_cpu_model();

	hvt_cpus = kcalloc(nr_cpu_ids, sizeof(*hvt_cpus), GFP_KERNEL);
	if (!hvt_cpus)
		return -ENOMEM;
	pr_info("VMX revision %#x, VMCS size %u, true controls %s\n",
		HVT_BASIC_REVISION(basic), HVT_BASIC_SIZE(basic),
		(basic & HVT_BASIC_TRUE_CTLS) ? "yes" : "no");
	return 0;
}

/* ---- per-CPU resources ------------------------------------------------ */

static void hvt_cpu_free(struct hvt_cpu *pc)
{
	if (!pc)
		return;
	hvt_free_page(pc->vmxon);
	hvt_free_page(pc->vmcs);
	hvt_free_page(pc->msr_bitmap);
	hvt_free_page(pc->io_bitmap_a);
	hvt_free_page(pc->io_bitmap_b);
	hvt_free_page(pc->guest_pgd);
	hvt_vfree(pc->stack);
	hvt_free_pages(pc, get_order(sizeof(*pc)));
}

static struct hvt_cpu *hvt_cpu_alloc(unsigned int cpu)
{
	struct hvt_cpu *pc = hvt_alloc_pages(get_order(sizeof(*pc)));

	if (!pc)
		return NULL;
	pc->vcpu.cpu = cpu;
	pc->vmxon = hvt_alloc_page();
	pc->vmcs = hvt_alloc_page();
	pc->msr_bitmap = hvt_alloc_page();
	pc->io_bitmap_a = hvt_alloc_page();
	pc->io_bitmap_b = hvt_alloc_page();
	pc->guest_pgd = hvt_alloc_page();
	pc->stack = hvt_vzalloc(HVT_GUEST_STACK_SIZE);
	if (!pc->vmxon || !pc->vmcs || !pc->msr_bitmap || !pc->io_bitmap_a ||
	    !pc->io_bitmap_b || !pc->guest_pgd || !pc->stack) {
		hvt_cpu_free(pc);
		return NULL;
	}
	/* Every MSR and every port exits: nothing the guest does reaches them. */
	memset(pc->msr_bitmap, 0xff, PAGE_SIZE);
	memset(pc->io_bitmap_a, 0xff, PAGE_SIZE);
	memset(pc->io_bitmap_b, 0xff, PAGE_SIZE);
	/*
	 * The guest's CR3: a private top-level table holding the kernel half
	 * of the host's (those entries never change after boot), so the
	 * guest's address space is the kernel's, independent of whichever mm
	 * this thread borrows, and identical in every run on this CPU.
	 */
	memcpy((u64 *)pc->guest_pgd + PTRS_PER_PGD / 2,
	       (u64 *)__va(read_cr3_pa()) + PTRS_PER_PGD / 2,
	       PAGE_SIZE / 2);
	atomic_set(&pc->busy, 0);
	return pc;
}

void hvt_vmx_free_all(void)
{
	unsigned int cpu;

	if (!hvt_cpus)
		return;
	for (cpu = 0; cpu < nr_cpu_ids; cpu++)
		hvt_cpu_free(hvt_cpus[cpu]);
	kfree(hvt_cpus);
	hvt_cpus = NULL;
}

/* ---- VMCS ------------------------------------------------------------- */

static u32 hvt_read_ar(u16 sel)
{
	/* Unusable (bit 16) for a null selector, else the GDT's access rights. */
	u32 ar;

	if (!(sel & ~3))
		return BIT(16);
	asm("lar %1, %0" : "=r" (ar) : "r" ((u32)sel));
	return (ar >> 8) & 0xf0ff;
}

/*
 * Fills the VMCS field by field.  Host state is this CPU's current state;
 * guest state mirrors it (same GDT, IDT, TR, CR0, CR4, 64-bit code segment,
 * EFER, PAT) with its own stack, the private CR3 above, RFLAGS = 0x2 (IF
 * clear: no interrupt is ever delivered through the host IDT in non-root
 * mode) and RIP = hvt_guest_entry.
 */
static int hvt_vmcs_setup(struct hvt_cpu *pc, struct hvt_run_req *req)
{
	struct hvt_vcpu *v = &pc->vcpu;
	u64 traps = req->trap_mask;
	struct desc_ptr gdt, idt;
	unsigned long tr_base;
	u32 pin, proc, proc2 = 0, exitc, entryc;
	u64 cr0 = read_cr0(), cr4 = __read_cr4(), efer, pat;
	u64 sysenter_cs, sysenter_esp, sysenter_eip, fs_base, gs_base;
	u64 *stack_top;
	u32 rate, timer;
	u16 tr, ss = __KERNEL_DS;
	int err;

	/* ---- controls ---- */
	/*
	 * Interrupt policy: external-interrupt exiting = 1 with
	 * acknowledge-interrupt-on-exit = 0 (the host takes the interrupt
	 * itself after the exit), NMI exiting = 1, and the guest runs with
	 * RFLAGS.IF clear.  The VMX-preemption timer bounds the time between
	 * exits so that long runs leave the FPU region regularly.
	 */
	err = hvt_adjust_ctl(hvt_ctl_msr(HVT_MSRI_VMX_PINBASED_CTLS,
					 HVT_MSRI_VMX_TRUE_PINBASED_CTLS),
			     PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING |
			     PIN_BASED_VMX_PREEMPTION_TIMER,
			     PIN_BASED_EXT_INTR_MASK |
			     PIN_BASED_VMX_PREEMPTION_TIMER, &pin, "pin-based");
	if (err)
		return err;
	proc = CPU_BASED_HLT_EXITING | CPU_BASED_USE_IO_BITMAPS |
	       CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_MWAIT_EXITING |
	       CPU_BASED_MONITOR_EXITING | CPU_BASED_RDPMC_EXITING |
	       CPU_BASED_MOV_DR_EXITING | CPU_BASED_CR8_LOAD_EXITING |
	       CPU_BASED_CR8_STORE_EXITING |
	       CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
	if (traps & HVTRACE_TRAP_RDTSC)
		proc |= CPU_BASED_RDTSC_EXITING;
	if (traps & HVTRACE_TRAP_CR3)
		proc |= CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING;
	if (traps & HVTRACE_TRAP_INVLPG)
		proc |= CPU_BASED_INVLPG_EXITING;
	if (traps & HVTRACE_TRAP_PAUSE)
		proc |= CPU_BASED_PAUSE_EXITING;
	err = hvt_adjust_ctl(hvt_ctl_msr(HVT_MSRI_VMX_PROCBASED_CTLS,
					 HVT_MSRI_VMX_TRUE_PROCBASED_CTLS),
			     proc, CPU_BASED_HLT_EXITING |
			     CPU_BASED_USE_IO_BITMAPS | CPU_BASED_USE_MSR_BITMAPS,
			     &proc, "processor-based");
	if (err)
		return err;
	if (proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) {
		/* RDTSCP would #UD in the guest without "enable RDTSCP". */
		err = hvt_adjust_ctl(hvt_vmx_msrs[HVT_MSRI_VMX_PROCBASED_CTLS2],
				     SECONDARY_EXEC_ENABLE_RDTSCP, 0, &proc2,
				     "secondary");
		if (err)
			return err;
	}
	err = hvt_adjust_ctl(hvt_ctl_msr(HVT_MSRI_VMX_EXIT_CTLS,
					 HVT_MSRI_VMX_TRUE_EXIT_CTLS),
			     VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_PAT |
			     VM_EXIT_LOAD_IA32_PAT | VM_EXIT_SAVE_IA32_EFER |
			     VM_EXIT_LOAD_IA32_EFER | VM_EXIT_SAVE_DEBUG_CONTROLS,
			     VM_EXIT_HOST_ADDR_SPACE_SIZE, &exitc, "VM-exit");
	if (err)
		return err;
	/* Acknowledge-interrupt-on-exit stays 0 (see the policy above). */
	if (exitc & VM_EXIT_ACK_INTR_ON_EXIT) {
		pr_err("cpu %u: acknowledge-interrupt-on-exit is forced on\n",
		       v->cpu);
		return -EOPNOTSUPP;
	}
	err = hvt_adjust_ctl(hvt_ctl_msr(HVT_MSRI_VMX_ENTRY_CTLS,
					 HVT_MSRI_VMX_TRUE_ENTRY_CTLS),
			     VM_ENTRY_IA32E_MODE | VM_ENTRY_LOAD_IA32_PAT |
			     VM_ENTRY_LOAD_IA32_EFER | VM_ENTRY_LOAD_DEBUG_CONTROLS,
			     VM_ENTRY_IA32E_MODE, &entryc, "VM-entry");
	if (err)
		return err;
	v->ctl_pin = pin;
	v->ctl_proc = proc;
	v->ctl_proc2 = proc2;
	v->ctl_exit = exitc;
	v->ctl_entry = entryc;

	hvt_vmwrite(v, PIN_BASED_VM_EXEC_CONTROL, pin);
	hvt_vmwrite(v, CPU_BASED_VM_EXEC_CONTROL, proc);
	if (proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
		hvt_vmwrite(v, SECONDARY_VM_EXEC_CONTROL, proc2);
	hvt_vmwrite(v, VM_EXIT_CONTROLS, exitc);
	hvt_vmwrite(v, VM_ENTRY_CONTROLS, entryc);
	hvt_vmwrite(v, EXCEPTION_BITMAP, req->exc_bitmap);
	hvt_vmwrite(v, PAGE_FAULT_ERROR_CODE_MASK, 0);
	hvt_vmwrite(v, PAGE_FAULT_ERROR_CODE_MATCH, 0);
	hvt_vmwrite(v, CR3_TARGET_COUNT, 0);
	hvt_vmwrite(v, VM_EXIT_MSR_STORE_COUNT, 0);
	hvt_vmwrite(v, VM_EXIT_MSR_LOAD_COUNT, 0);
	hvt_vmwrite(v, VM_ENTRY_MSR_LOAD_COUNT, 0);
	hvt_vmwrite(v, VM_ENTRY_INTR_INFO_FIELD, 0);
	hvt_vmwrite(v, TSC_OFFSET, 0);
	hvt_vmwrite(v, IO_BITMAP_A, __pa(pc->io_bitmap_a));
	hvt_vmwrite(v, IO_BITMAP_B, __pa(pc->io_bitmap_b));
	hvt_vmwrite(v, MSR_BITMAP, __pa(pc->msr_bitmap));

	v->cr0_mask = (traps & HVTRACE_TRAP_CR0_CR4) ? HVT_CR0_MASK : 0;
	v->cr4_mask = (traps & HVTRACE_TRAP_CR0_CR4) ? HVT_CR4_MASK : 0;
	hvt_vmwrite(v, CR0_GUEST_HOST_MASK, v->cr0_mask);
	hvt_vmwrite(v, CR4_GUEST_HOST_MASK, v->cr4_mask);
	hvt_vmwrite(v, CR0_READ_SHADOW, cr0);
	hvt_vmwrite(v, CR4_READ_SHADOW, cr4);

	/* Preemption timer: counts down at TSC >> IA32_VMX_MISC[4:0]. */
	rate = hvt_vmx_msrs[HVT_MSRI_VMX_MISC] & 0x1f;
	timer = (u32)min_t(u64, v->slice_tsc >> rate, U32_MAX);
	hvt_vmwrite(v, VMX_PREEMPTION_TIMER_VALUE, timer ? timer : 1);

	/* ---- host state ---- */
	native_store_gdt(&gdt);
	store_idt(&idt);
	v->host.gdt = gdt;
	v->host.idt = idt;
	hvt_host_reload_debug(v);
	tr = 0;
	asm("str %0" : "=rm" (tr));
	tr_base = (unsigned long)&get_cpu_entry_area(v->cpu)->tss.x86_tss;
	rdmsrl(MSR_EFER, efer);
	rdmsrl(MSR_IA32_CR_PAT, pat);
	rdmsrl(MSR_IA32_SYSENTER_CS, sysenter_cs);
	rdmsrl(MSR_IA32_SYSENTER_ESP, sysenter_esp);
	rdmsrl(MSR_IA32_SYSENTER_EIP, sysenter_eip);
	rdmsrl(MSR_FS_BASE, fs_base);
	rdmsrl(MSR_GS_BASE, gs_base);

	hvt_vmwrite(v, HOST_CR0, cr0);
	/* Kept current before every entry by hvt_host_prepare_entry(). */
	v->host.cr3 = __read_cr3();
	v->host.cr4 = cr4;
	hvt_vmwrite(v, HOST_CR3, v->host.cr3);
	hvt_vmwrite(v, HOST_CR4, v->host.cr4);
	hvt_vmwrite(v, HOST_CS_SELECTOR, __KERNEL_CS);
	hvt_vmwrite(v, HOST_SS_SELECTOR, __KERNEL_DS);
	hvt_vmwrite(v, HOST_DS_SELECTOR, 0);
	hvt_vmwrite(v, HOST_ES_SELECTOR, 0);
	hvt_vmwrite(v, HOST_FS_SELECTOR, 0);
	hvt_vmwrite(v, HOST_GS_SELECTOR, 0);
	hvt_vmwrite(v, HOST_TR_SELECTOR, tr);
	hvt_vmwrite(v, HOST_FS_BASE, fs_base);
	hvt_vmwrite(v, HOST_GS_BASE, gs_base);
	hvt_vmwrite(v, HOST_TR_BASE, tr_base);
	hvt_vmwrite(v, HOST_GDTR_BASE, gdt.address);
	hvt_vmwrite(v, HOST_IDTR_BASE, idt.address);
	hvt_vmwrite(v, HOST_IA32_SYSENTER_CS, sysenter_cs);
	hvt_vmwrite(v, HOST_IA32_SYSENTER_ESP, sysenter_esp);
	hvt_vmwrite(v, HOST_IA32_SYSENTER_EIP, sysenter_eip);
	if (exitc & VM_EXIT_LOAD_IA32_EFER)
		hvt_vmwrite(v, HOST_IA32_EFER, efer);
	if (exitc & VM_EXIT_LOAD_IA32_PAT)
		hvt_vmwrite(v, HOST_IA32_PAT, pat);
	hvt_vmwrite(v, HOST_RIP, (unsigned long)hvt_vmexit);

	/* ---- guest state ---- */
	v->guest_cr3 = __pa(pc->guest_pgd);
	hvt_vmwrite(v, GUEST_CR0, cr0);
	hvt_vmwrite(v, GUEST_CR3, v->guest_cr3);
	hvt_vmwrite(v, GUEST_CR4, cr4);
	/*
	 * Loaded at entry and saved at exit ("load/save debug controls"):
	 * no host breakpoint is armed while the guest runs, and the host's
	 * are re-armed after each exit (hvt_host_restore).
	 */
	hvt_vmwrite(v, GUEST_DR7, 0x400);

	hvt_vmwrite(v, GUEST_CS_SELECTOR, __KERNEL_CS);
	hvt_vmwrite(v, GUEST_CS_BASE, 0);
	hvt_vmwrite(v, GUEST_CS_LIMIT, 0xffffffff);
	hvt_vmwrite(v, GUEST_CS_AR_BYTES, hvt_read_ar(__KERNEL_CS));
	hvt_vmwrite(v, GUEST_SS_SELECTOR, ss);
	hvt_vmwrite(v, GUEST_SS_BASE, 0);
	hvt_vmwrite(v, GUEST_SS_LIMIT, 0xffffffff);
	hvt_vmwrite(v, GUEST_SS_AR_BYTES, hvt_read_ar(ss));
	/* DS, ES, FS, GS: null selectors (as in the kernel), unusable. */
	hvt_vmwrite(v, GUEST_DS_SELECTOR, 0);
	hvt_vmwrite(v, GUEST_DS_BASE, 0);
	hvt_vmwrite(v, GUEST_DS_LIMIT, 0);
	hvt_vmwrite(v, GUEST_DS_AR_BYTES, hvt_read_ar(0));
	hvt_vmwrite(v, GUEST_ES_SELECTOR, 0);
	hvt_vmwrite(v, GUEST_ES_BASE, 0);
	hvt_vmwrite(v, GUEST_ES_LIMIT, 0);
	hvt_vmwrite(v, GUEST_ES_AR_BYTES, hvt_read_ar(0));
	hvt_vmwrite(v, GUEST_FS_SELECTOR, 0);
	hvt_vmwrite(v, GUEST_FS_BASE, 0);
	hvt_vmwrite(v, GUEST_FS_LIMIT, 0);
	hvt_vmwrite(v, GUEST_FS_AR_BYTES, hvt_read_ar(0));
	/* GS base is this CPU's per-CPU area, as in the host kernel. */
	hvt_vmwrite(v, GUEST_GS_SELECTOR, 0);
	hvt_vmwrite(v, GUEST_GS_BASE, gs_base);
	hvt_vmwrite(v, GUEST_GS_LIMIT, 0);
	hvt_vmwrite(v, GUEST_GS_AR_BYTES, hvt_read_ar(0));
	hvt_vmwrite(v, GUEST_LDTR_SELECTOR, 0);
	hvt_vmwrite(v, GUEST_LDTR_BASE, 0);
	hvt_vmwrite(v, GUEST_LDTR_LIMIT, 0);
	hvt_vmwrite(v, GUEST_LDTR_AR_BYTES, BIT(16));
	hvt_vmwrite(v, GUEST_TR_SELECTOR, tr);
	hvt_vmwrite(v, GUEST_TR_BASE, tr_base);
	hvt_vmwrite(v, GUEST_TR_LIMIT, __KERNEL_TSS_LIMIT);
	hvt_vmwrite(v, GUEST_TR_AR_BYTES, 0x8b);	/* present, busy 64-bit TSS */
	hvt_vmwrite(v, GUEST_GDTR_BASE, gdt.address);
	hvt_vmwrite(v, GUEST_GDTR_LIMIT, gdt.size);
	hvt_vmwrite(v, GUEST_IDTR_BASE, idt.address);
	hvt_vmwrite(v, GUEST_IDTR_LIMIT, idt.size);

	hvt_vmwrite(v, GUEST_IA32_DEBUGCTL, 0);
	hvt_vmwrite(v, GUEST_SYSENTER_CS, sysenter_cs);
	hvt_vmwrite(v, GUEST_SYSENTER_ESP, sysenter_esp);
	hvt_vmwrite(v, GUEST_SYSENTER_EIP, sysenter_eip);
	if (entryc & VM_ENTRY_LOAD_IA32_EFER)
		hvt_vmwrite(v, GUEST_IA32_EFER, efer);
	if (entryc & VM_ENTRY_LOAD_IA32_PAT)
		hvt_vmwrite(v, GUEST_IA32_PAT, pat);
	hvt_vmwrite(v, VMCS_LINK_POINTER, ~0ull);
	hvt_vmwrite(v, GUEST_INTERRUPTIBILITY_INFO, 0);
	hvt_vmwrite(v, GUEST_ACTIVITY_STATE, 0);
	hvt_vmwrite(v, GUEST_PENDING_DBG_EXCEPTIONS, 0);

	/* Stack: guest_main at the top (see asm/guest_entry.S). */
	stack_top = (u64 *)((u8 *)pc->stack + HVT_GUEST_STACK_SIZE);
	stack_top[-1] = 0;
	stack_top[-2] = (unsigned long)req->wl->guest_main;
	hvt_vmwrite(v, GUEST_RSP, (unsigned long)&stack_top[-2]);
	hvt_vmwrite(v, GUEST_RIP, (unsigned long)hvt_guest_entry);
	hvt_vmwrite(v, GUEST_RFLAGS, X86_EFLAGS_FIXED);

	/* Self-tests of the failure paths break the VMCS on purpose. */
	if (req->fault == HVT_FAULT_GUEST_STATE)
		hvt_vmwrite(v, GUEST_RFLAGS, 0);
	else if (req->fault == HVT_FAULT_CONTROL)
		hvt_vmwrite(v, CR3_TARGET_COUNT, 5);

	/* GPRs zero but RDI = args; XMM zero; MXCSR at its reset value. */
	memset(&v->regs, 0, sizeof(v->regs));
	pc->args.seed = req->seed;
	pc->args.iterations = req->iterations;
	v->regs.gpr[HVT_R_RDI] = (unsigned long)&pc->args;
	v->regs.gpr[HVT_R_RSP] = (unsigned long)&stack_top[-2];
	v->regs.mxcsr = 0x1f80;
	v->regs.launched = 0;

	return v->vmx_failed ? -EIO : 0;
}

/* ---- session events --------------------------------------------------- */

static void hvt_emit_session(struct hvt_vcpu *v, u8 phase)
{
	struct hvtrace_session_rec *s = &v->session_rec;
	struct hvt_run_req *req = v->req;

	memset(s, 0, sizeof(*s));
	s->phase = phase;
	s->schema_version = HVTRACE_SCHEMA_VERSION;
	strscpy(s->module_version, HVT_MODULE_VERSION,
		sizeof(s->module_version));
	s->run_id = req->run_id;
	s->vcpu = v->cpu;
	strscpy(s->workload, req->wl->name, sizeof(s->workload));
	s->seed = req->seed;
	s->iterations = req->iterations;
	memcpy(s->cpu_model, hvt_cpu_model, sizeof(s->cpu_model));
	memcpy(s->vmx_msrs, hvt_vmx_msrs, sizeof(s->vmx_msrs));
	s->pin_ctls = v->ctl_pin;
	s->proc_ctls = v->ctl_proc;
	s->proc2_ctls = v->ctl_proc2;
	s->exit_ctls = v->ctl_exit;
	s->entry_ctls = v->ctl_entry;
	s->exception_bitmap = req->exc_bitmap;
	s->trap_mask = req->trap_mask;
	s->exits = v->exits;
	s->dropped = v->dropped;
	s->status = v->status;
	s->end_reason = v->end_reason;
	s->vm_insn_error = v->vm_insn_error;
	s->backend = HVTRACE_BACKEND_SANDBOX;
	strscpy(s->kernel_release, utsname()->release, sizeof(s->kernel_release));
	s->host_mismatches = v->host_mismatches;
	s->tsc = rdtsc_ordered();
	trace_hvtrace_session(s);
}

/* ---- the run ---------------------------------------------------------- */

/*
 * Leaves the FPU/irq-off region for a moment so interrupts, the scheduler
 * and RCU get in, then re-enters it.  The guest's XMM/MXCSR are in
 * v->regs, not in the registers, so nothing of the guest is lost.  Still
 * in VMX operation; the kthread is bound to this CPU.
 */
void hvt_yield(struct hvt_vcpu *v)
{
	struct hvt_cpu *pc = container_of(v, struct hvt_cpu, vcpu);
	u64 pa = __pa(pc->vmcs);
	int r;

	/*
	 * VM exits set TR's limit to 0x67: let the kernel fix it lazily.  The
	 * rest of the host state was restored at the exit (hvt_handle_exit).
	 */
	invalidate_tss_limit();
	local_irq_enable();
	kernel_fpu_end();
	cond_resched();
	kernel_fpu_begin();
	local_irq_disable();

	/* Nobody else may use VMX here, but make the VMCS current anyway. */
	r = hvt_vmptrld(pa);
	if (r)
		hvt_vmx_failed(v, "VMPTRLD", 0, r);
	/*
	 * The scheduler may have switched this CPU's mm (CR3, CR4.PCE, LDT):
	 * hvt_host_prepare_entry() follows it before the entry.
	 */
	hvt_host_reload_debug(v);
	if (hvt_host_check)
		hvt_host_snapshot(&pc->host_snap);
	v->slice_start = rdtsc();
}

/*
 * VMXOFF, or its failure injected by the selftest (which really leaves VMX
 * operation, then reports VMfailInvalid so that the failure path runs).
 */
static int hvt_vmxoff_checked(struct hvt_vcpu *v)
{
	int r = hvt_vmxoff();

	if (!r && v->req->fault == HVT_FAULT_VMXOFF) {
		container_of(v, struct hvt_cpu, vcpu)->stuck_injected = true;
		return HVT_VMX_FAIL_INVALID;
	}
	return r;
}

static void hvt_run_here(struct hvt_cpu *pc, struct hvt_run_req *req)
{
	struct hvt_vcpu *v = &pc->vcpu;
	u64 vmxon_pa = __pa(pc->vmxon), vmcs_pa = __pa(pc->vmcs);
	u64 cr0f0 = hvt_vmx_msrs[HVT_MSRI_VMX_CR0_FIXED0];
	u64 cr0f1 = hvt_vmx_msrs[HVT_MSRI_VMX_CR0_FIXED1];
	u64 cr4f0 = hvt_vmx_msrs[HVT_MSRI_VMX_CR4_FIXED0];
	u64 cr4f1 = hvt_vmx_msrs[HVT_MSRI_VMX_CR4_FIXED1];
	u32 rev = HVT_BASIC_REVISION(hvt_vmx_msrs[HVT_MSRI_VMX_BASIC]);
	struct hvt_host_snap *snap = &pc->host_snap;
	bool started = false;
	u64 cr0, cr4, run_tsc;
	int r, ret;

	v->req = req;
	v->exits = 0;
	v->dropped = 0;
	v->vtsc_count = 0;
	v->status = 0;
	v->end_reason = 0;
	v->vm_insn_error = 0;
	v->vmx_failed = false;
	v->host_mismatches = 0;
	v->ctl_pin = v->ctl_proc = v->ctl_proc2 = 0;
	v->ctl_exit = v->ctl_entry = 0;
	memset(v->msr_shadow, 0, sizeof(v->msr_shadow));
	memset(v->echo, 0xff, sizeof(v->echo));
	/* 50 us .. 1 s: shorter would starve the guest, longer the host. */
	v->slice_tsc = (u64)(tsc_khz ? tsc_khz : 1000000) *
		       clamp_val(READ_ONCE(hvt_slice_us), 50u, 1000000u) / 1000;

	/*
	 * Bound to its CPU, but a CPU going offline pushes every task that
	 * is not a per-CPU kthread away as soon as it schedules (balance_push,
	 * from CPUHP_AP_ACTIVE on, before our teardown callback runs): the
	 * yields would resume elsewhere with this CPU still in VMX operation.
	 * Migration stays disabled for the whole run; the teardown callback
	 * then ends the run here.
	 */
	migrate_disable();
	kernel_fpu_begin();
	local_irq_disable();

	/* The kthread is bound, but a CPU that went offline unbound it. */
	if (smp_processor_id() != v->cpu || READ_ONCE(req->abort)) {
		v->status = -EAGAIN;
		goto out_fpu;
	}
	if (hvt_host_check)
		hvt_host_snapshot(snap);
	if (__read_cr4() & X86_CR4_VMXE) {
		pr_err("cpu %u: CR4.VMXE already set: VMX in use by another hypervisor\n",
		       v->cpu);
		v->status = -EBUSY;
		goto out_fpu;
	}
	cr0 = read_cr0();
	if ((cr0 & cr0f0) != cr0f0 || (cr0 & ~cr0f1)) {
		pr_err("cpu %u: CR0 %#llx violates VMX fixed bits\n", v->cpu, cr0);
		v->status = -EOPNOTSUPP;
		goto out_fpu;
	}
	cr4_set_bits_irqsoff(X86_CR4_VMXE);
	cr4 = __read_cr4();
	if ((cr4 & cr4f0) != cr4f0 || (cr4 & ~cr4f1)) {
		pr_err("cpu %u: CR4 %#llx violates VMX fixed bits\n", v->cpu, cr4);
		v->status = -EOPNOTSUPP;
		goto out_cr4;
	}

	*(u32 *)pc->vmxon = rev;
	r = hvt_vmxon(vmxon_pa);
	if (r) {
		atomic64_inc(&hvt_stats.vmx_failures);
		pr_err("cpu %u: VMXON failed: %s\n", v->cpu, hvt_vmx_outcome(r));
		v->status = -EIO;
		goto out_cr4;
	}
	memset(pc->vmcs, 0, PAGE_SIZE);
	*(u32 *)pc->vmcs = rev;
	r = hvt_vmclear(vmcs_pa);
	if (!r)
		r = hvt_vmptrld(vmcs_pa);
	if (r) {
		atomic64_inc(&hvt_stats.vmx_failures);
		pr_err("cpu %u: VMCLEAR/VMPTRLD failed: %s\n", v->cpu,
		       hvt_vmx_outcome(r));
		v->status = -EIO;
		goto out_vmxoff;
	}

	ret = hvt_vmcs_setup(pc, req);
	hvt_emit_session(v, HVTRACE_PHASE_START);
	started = true;
	if (ret) {
		v->status = ret;
		goto out_vmclear;
	}

	v->slice_start = rdtsc();
	run_tsc = rdtsc_ordered();
	hvt_host_prepare_entry(v);
	ret = hvt_vmx_run(&v->regs);
	invalidate_tss_limit();
	/* Restored at the last exit already; this covers a failed entry. */
	hvt_host_restore(v);
	atomic64_add(rdtsc_ordered() - run_tsc, &hvt_stats.run_tsc_total);
	if (ret != HVT_RUN_STOPPED) {
		/* VMLAUNCH/VMRESUME did not enter the guest. */
		atomic64_inc(&hvt_stats.vmx_failures);
		if (ret == HVT_RUN_FAIL_VALID) {
			u64 err = 0;

			hvt_vmread(v, VM_INSTRUCTION_ERROR, &err);
			v->vm_insn_error = err;
		}
		pr_err("cpu %u: %s failed (%s), VM-instruction error %u\n",
		       v->cpu, v->regs.launched ? "VMRESUME" : "VMLAUNCH",
		       ret == HVT_RUN_FAIL_VALID ? "VMfailValid" :
		       ret == HVT_RUN_FAIL_INVALID ? "VMfailInvalid" :
		       ret == HVT_RUN_FAIL_HOST_RSP ? "HOST_RSP write" :
		       "fault", v->vm_insn_error);
		if (!v->status)
			v->status = -EIO;
	}

out_vmclear:
	r = hvt_vmclear(vmcs_pa);
	if (r) {
		atomic64_inc(&hvt_stats.vmx_failures);
		pr_err("cpu %u: VMCLEAR failed: %s\n", v->cpu,
		       hvt_vmx_outcome(r));
	}
out_vmxoff:
	r = hvt_vmxoff_checked(v);
	if (r) {
		/*
		 * Still in VMX operation: clearing CR4.VMXE now would raise
		 * #GP (SDM 23.8).  The CPU keeps VMX on; no run uses it again
		 * and the module stays loaded (hvt_cpu_stuck).
		 */
		atomic64_inc(&hvt_stats.vmx_failures);
		pr_err("cpu %u: VMXOFF failed: %s; CPU left in VMX operation, no further runs on it\n",
		       v->cpu, hvt_vmx_outcome(r));
		if (!v->status)
			v->status = -EIO;
		pc->stuck = true;
		req->vmxe_left = true;
		goto out_session;
	}
out_cr4:
	cr4_clear_bits_irqsoff(X86_CR4_VMXE);
	req->vmxe_left = !!(__read_cr4() & X86_CR4_VMXE);
	if (req->vmxe_left)
		pr_err("cpu %u: CR4.VMXE still set after the run\n", v->cpu);
	if (hvt_host_check && hvt_host_compare(v, snap, "after the run"))
		pr_err("cpu %u run %llu: host state differs after the run\n",
		       v->cpu, req->run_id);
out_session:
	if (started)
		hvt_emit_session(v, HVTRACE_PHASE_END);
out_fpu:
	local_irq_enable();
	kernel_fpu_end();
	migrate_enable();
}

static int hvt_run_thread(void *data)
{
	struct hvt_run_req *req = data;
	struct hvt_cpu *pc = hvt_cpus[req->cpu];

	hvt_run_here(pc, req);
	req->exits = pc->vcpu.exits;
	req->status = pc->vcpu.status;
	req->end_reason = pc->vcpu.end_reason;
	req->vm_insn_error = pc->vcpu.vm_insn_error;
	req->host_mismatches = pc->vcpu.host_mismatches;
	if (req->end_status)
		req->status = req->end_status;
	/* Waited for by the ioctl and by a hotplug or reboot callback. */
	complete_all(&req->done);
	return 0;
}

/*
 * CPU hotplug: a run holds no hotplug lock (a writer would wait for the
 * whole run, and every reader behind it: loading a module, enabling a
 * tracepoint).  Instead the teardown callback of a CPU going offline ends
 * the run on it at its next exit and waits for it; the run's status is
 * -ENODEV.  The online callback checks a CPU's VMX capabilities against
 * the ones read at load (KVM checks each CPU's compatibility the same way).
 */
static enum cpuhp_state hvt_cpuhp_state;
static DEFINE_PER_CPU(struct hvt_run_req *, hvt_active_req);
static DEFINE_PER_CPU(bool, hvt_cpu_compatible);
static DEFINE_SPINLOCK(hvt_active_lock);

static int hvt_cpu_online(unsigned int cpu)
{
	u64 val;
	int i, bad = -1;

	for (i = 0; i < HVTRACE_NR_VMX_MSRS; i++) {
		if (rdmsrl_safe(hvt_vmx_msr_index[i], &val))
			val = 0;
		if (val != hvt_vmx_msrs[i]) {
			bad = i;
			break;
		}
	}
	per_cpu(hvt_cpu_compatible, cpu) = bad < 0;
	if (bad >= 0)
		pr_warn("cpu %u: VMX capability MSR %#x differs from the other CPUs' (%#llx, expected %#llx); no runs on it\n",
			cpu, hvt_vmx_msr_index[bad], val, hvt_vmx_msrs[bad]);
	return 0;
}

/* Ends the run on @cpu (if any) with @status and waits for it. */
static void hvt_end_run_on(unsigned int cpu, const char *why, int status)
{
	struct hvt_run_req *req;

	spin_lock(&hvt_active_lock);
	req = per_cpu(hvt_active_req, cpu);
	if (req) {
		WRITE_ONCE(req->end_status, status);
		WRITE_ONCE(req->abort, true);
	}
	spin_unlock(&hvt_active_lock);
	if (!req)
		return;
	pr_info("cpu %u %s: ending its run %llu\n", cpu, why, req->run_id);
	wait_for_completion(&req->done);
}

static int hvt_cpu_offline(unsigned int cpu)
{
	hvt_end_run_on(cpu, "going offline", -ENODEV);
	return 0;
}

/*
 * Reboot, halt, power-off and kexec (kernel_kexec() calls the reboot
 * notifiers too): no CPU may be left in VMX operation, where INIT is
 * blocked.  Emergency paths (panic, crash kexec) are covered by the
 * kernel: it executes VMXOFF on every CPU whose CR4.VMXE is set
 * (cpu_emergency_vmxoff in 6.1), which includes ours since the run keeps
 * CR4.VMXE exactly while in VMX operation.
 */
static int hvt_reboot(struct notifier_block *nb, unsigned long code, void *unused)
{
	unsigned int cpu;

	for_each_online_cpu(cpu)
		hvt_end_run_on(cpu, "reboot", -ESHUTDOWN);
	return NOTIFY_DONE;
}

static struct notifier_block hvt_reboot_nb = {
	.notifier_call = hvt_reboot,
};

int hvt_vmx_hotplug_init(void)
{
	int cpu, bad = -1;
	int r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "hvtrace:online",
				  hvt_cpu_online, hvt_cpu_offline);

	if (r < 0)
		return r;
	hvt_cpuhp_state = r;
	cpus_read_lock();
	for_each_online_cpu(cpu)
		if (!per_cpu(hvt_cpu_compatible, cpu))
			bad = bad < 0 ? cpu : bad;
	cpus_read_unlock();
	if (bad >= 0) {
		pr_err("cpu %d: VMX capabilities differ from those read at load; not loading\n",
		       bad);
		cpuhp_remove_state(hvt_cpuhp_state);
		return -EOPNOTSUPP;
	}
	register_reboot_notifier(&hvt_reboot_nb);
	return 0;
}

void hvt_vmx_hotplug_exit(void)
{
	unregister_reboot_notifier(&hvt_reboot_nb);
	cpuhp_remove_state(hvt_cpuhp_state);
}

/* The selftest's entry to the reboot path (fault injection). */
void hvt_vmx_reboot_selftest(void)
{
	hvt_reboot(&hvt_reboot_nb, SYS_RESTART, NULL);
}

static void hvt_clear_vmxe(void *unused)
{
	cr4_clear_bits_irqsoff(X86_CR4_VMXE);
}

/*
 * Executes @req on req->cpu in a kthread bound to it and waits.  Returns 0
 * when the run happened (its outcome is in req->status) or -errno when it
 * could not start.  A signal to the caller stops the run at its next exit,
 * and so does the CPU going offline.
 */
int hvt_run(struct hvt_run_req *req)
{
	struct task_struct *t;
	struct hvt_cpu *pc;
	int err = 0;

	init_completion(&req->done);
	req->abort = false;
	req->end_status = 0;
	if (req->cpu >= nr_cpu_ids)
		return -EINVAL;
	mutex_lock(&hvt_cpus_lock);
	pc = hvt_cpus[req->cpu];
	if (!pc) {
		pc = hvt_cpu_alloc(req->cpu);
		hvt_cpus[req->cpu] = pc;
	}
	mutex_unlock(&hvt_cpus_lock);
	if (!pc)
		return -ENOMEM;
	if (atomic_cmpxchg(&pc->busy, 0, 1))
		return -EBUSY;
	if (pc->stuck) {
		pr_err("cpu %u: left in VMX operation by a failed VMXOFF; run refused\n",
		       req->cpu);
		err = -EIO;
		if (pc->stuck_injected) {
			/* Injected: the CPU did leave VMX operation. */
			smp_call_function_single(req->cpu, hvt_clear_vmxe, NULL, 1);
			pc->stuck = pc->stuck_injected = false;
		}
		goto out_busy;
	}

	/*
	 * Online and compatible, checked and the run published under the
	 * hotplug read lock, held only until the thread is started: from
	 * then on the teardown callback sees the run and ends it.
	 */
	cpus_read_lock();
	if (!cpu_online(req->cpu)) {
		err = -EINVAL;
		goto out_unlock;
	}
	if (!per_cpu(hvt_cpu_compatible, req->cpu)) {
		pr_err("cpu %u: VMX capabilities differ from the other CPUs'; run refused\n",
		       req->cpu);
		err = -EOPNOTSUPP;
		goto out_unlock;
	}
	req->run_id = atomic64_inc_return(&hvt_run_ids);
	t = kthread_create(hvt_run_thread, req, "hvtrace/%u", req->cpu);
	if (IS_ERR(t)) {
		err = PTR_ERR(t);
		goto out_unlock;
	}
	get_task_struct(t);
	kthread_bind(t, req->cpu);
	spin_lock(&hvt_active_lock);
	per_cpu(hvt_active_req, req->cpu) = req;
	spin_unlock(&hvt_active_lock);
	wake_up_process(t);
	cpus_read_unlock();

	if (wait_for_completion_interruptible(&req->done)) {
		WRITE_ONCE(req->abort, true);
		wait_for_completion(&req->done);
	}
	spin_lock(&hvt_active_lock);
	per_cpu(hvt_active_req, req->cpu) = NULL;
	spin_unlock(&hvt_active_lock);

	atomic64_inc(&hvt_stats.runs);
	if (req->status)
		atomic64_inc(&hvt_stats.runs_failed);
	pr_info("run %llu on cpu %u: workload %s, %llu exits, status %d, CR4.VMXE %s, host state %s\n",
		req->run_id, req->cpu, req->wl->name, req->exits, req->status,
		req->vmxe_left ? "SET" : "clear",
		!hvt_host_check ? "not checked" :
		req->host_mismatches ? "CHANGED" : "intact");
	kthread_stop(t);
	put_task_struct(t);
	goto out_busy;
out_unlock:
	cpus_read_unlock();
out_busy:
	atomic_set(&pc->busy, 0);
	return err;
}
