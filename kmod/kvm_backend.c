// SPDX-License-Identifier: GPL-2.0
/*
 * KVM capture backend: full-state traces of the VM exits of real KVM guests.
 *
 * No VMXON of our own.  Two probes sit on kvm.ko's tracepoints:
 *   kvm_exit(struct kvm_vcpu *vcpu, u32 isa)   called by vmx_vcpu_run() right
 *       after the VM exit, interrupts off, the vCPU's VMCS current;
 *   kvm_entry(struct kvm_vcpu *vcpu[, bool force_immediate_exit])
 *                                              called by vmx_vcpu_run() right
 *       before the VM entry, interrupts off, the VMCS current.
 * They emit the same hvtrace_exit / hvtrace_resume tracepoints as the
 * sandbox (hvtrace_trace.h, fields from schemas/hvtrace_events.h): one
 * emitter, one schema, whatever the backend.
 *
 * Kernels handled: 6.1 and later with kvm_intel, built against the
 * running kernel's headers; built against Debian's 6.1.192 and 6.12.117
 * (kmod/tests/build-w1.sh, build-kernels.sh) and run on both in Bochs
 * (kmod/tests/bochs-kernels.sh).
 * Older kernels, or a kernel without CONFIG_KVM_INTEL, build a stub that
 * refuses to attach, saying why.  What this relies on, kernel by kernel:
 *  - kvm_exit(struct kvm_vcpu *vcpu, u32 isa): that prototype since 5.16,
 *    unchanged through 6.12;
 *  - kvm_entry: (struct kvm_vcpu *vcpu) up to 6.8; 6.9 added "bool
 *    force_immediate_exit", and stable kernels took that change too
 *    (Debian's 6.1.192 has it), so the version number does not tell.  The
 *    event's own record does: the same change added its "immediate_exit"
 *    field.  At attach the probe whose type matches is picked from kvm.ko's
 *    description of the event (hvt_kvm_entry_proto()), and an event whose
 *    fields are neither shape is refused;
 *  - struct kvm_vcpu_arch: unsigned long regs[NR_VCPU_REGS] in SDM order
 *    (RAX RCX RDX RBX RSP RBP RSI RDI R8..R15, then RIP), u32 regs_avail and
 *    regs_dirty bitmaps: the same in 6.1 and 6.12.  RSP and RIP are lazily
 *    loaded (VMX_REGS_LAZY_LOAD_SET in arch/x86/kvm/vmx/vmx.h): at kvm_exit
 *    regs[RSP]/regs[RIP] are stale and the VMCS holds the truth; at
 *    kvm_entry a dirty regs[] entry is what vmx_vcpu_run() writes to the
 *    VMCS right after the tracepoint (6.1 and 6.12 alike);
 *  - the vCPU's VMCS is current in vmx_vcpu_run() (loaded by vcpu_load()
 *    for the whole KVM_RUN ioctl), where both tracepoints are called with
 *    interrupts off: 6.1 and 6.12 alike;
 *  - the guest FPU (struct fpu_guest guest_fpu, its fpstate) is loaded for
 *    the whole KVM_RUN loop (kvm_load_guest_fpu) and reloaded before each
 *    entry with interrupts off when TIF_NEED_FPU_LOAD is set: 6.1 and 6.12
 *    alike.  The task's own struct fpu moved out of thread_struct in 6.16
 *    (x86_task_fpu()): hvt_kvm_cur_fpstate() follows;
 *  - vcpu->arch.last_vmentry_cpu, guest_state_protected and
 *    kvm->userspace_pid: the same in 6.1 and 6.12;
 *  - kvm.ko exports the static call kvm_x86_cache_reg (6.1 and 6.12), whose
 *    target names the vendor module.
 * At attach the tracepoints are looked up by name in kvm.ko's tracepoint
 * list, kvm_entry's shape is checked and the vendor module must be
 * kvm_intel; at each vCPU's first exit the register cache is checked
 * against the VMCS (regs_dirty must be 0 at an exit, and a cached RIP must
 * equal GUEST_RIP): a vCPU failing that is reported and never traced.
 *
 * Identity: every VM gets a number when its first exit is seen (from 1, per
 * module load); its VMM is kvm->userspace_pid.  Per-vCPU state lives in an
 * xarray keyed by the struct kvm_vcpu pointer.  Nothing of KVM is pinned:
 * VMs live and die as without us, so a freed vCPU's address can come back
 * as another vCPU.  That is recognized exactly: vcpu->arch.last_vmentry_cpu
 * is -1 from the vCPU's creation until vcpu_enter_guest() sets it after the
 * first exit, so at kvm_exit it says "this vCPU's first exit ever"; state
 * found under that address then belongs to a dead vCPU, hence to a dead VM
 * (6.1 frees vCPUs only with their VM), which is ended (END session event,
 * a STOP resume for a vCPU left between exit and entry) and forgotten.  The
 * same test tells a new VM at a freed struct kvm's address from the old one
 * when its vCPU id was already seen there.  Only our own records are freed
 * there (after an RCU grace period); the probes dereference nothing but the
 * live vCPU they are called for.  kvm.ko stays loaded while attached (a
 * module reference); kvm_intel cannot be unloaded while a VM exists (each
 * VM holds it), and nothing of it is used when none does.
 *
 * Guests with protected state (vcpu->arch.guest_state_protected: SEV-ES/SNP;
 * TDX on later kernels) are reported with an UNTRACEABLE session event and
 * counted, never traced.
 */
#define pr_fmt(fmt) "hvtrace: " fmt

#include <linux/version.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>
#include <linux/tracepoint.h>
#include <linux/trace_events.h>
#include <linux/kallsyms.h>
#include <linux/utsname.h>
#include <linux/sched.h>
#include <linux/static_call_types.h>
#include <asm/vmx.h>
#include <asm/processor.h>
#include <asm/fpu/types.h>

#include "hvt.h"
#include <asm/asm.h>
#include "kvm_backend.h"
#include "hvtrace_trace.h"

/* The oldest kernel handled; there is no upper bound (see the top). */
#define HVT_KVM_MIN_VERSION	KERNEL_VERSION(6, 1, 0)

#if LINUX_VERSION_CODE >= HVT_KVM_MIN_VERSION && IS_ENABLED(CONFIG_KVM_INTEL)
#define HVT_KVM_SUPPORTED 1
#include <linux/kvm_host.h>
/* "modinfo -F hvtrace_kvm hvtrace.ko" tells a real backend from the stub. */
MODULE_INFO(hvtrace_kvm, "kvm_intel");
#else
#define HVT_KVM_SUPPORTED 0
MODULE_INFO(hvtrace_kvm, "stub");
#endif

static DEFINE_MUTEX(hvt_kvm_mutex);	/* attach, detach, stats */

/* Counters of the current (or last) attachment. */
static struct {
	atomic64_t exits, traced, resumes, filtered_pid, filtered_reason;
	atomic64_t dropped, untraceable, vms, vcpus, fpu_from_memory;
} hvt_kc;

static void hvt_kvm_fill_stats(struct hvtrace_kvm_stats *st, u64 id,
			       bool attached)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->version = HVTRACE_ABI_VERSION;
	st->attach_id = id;
	st->attached = attached;
	st->exits = atomic64_read(&hvt_kc.exits);
	st->traced = atomic64_read(&hvt_kc.traced);
	st->resumes = atomic64_read(&hvt_kc.resumes);
	st->filtered_pid = atomic64_read(&hvt_kc.filtered_pid);
	st->filtered_reason = atomic64_read(&hvt_kc.filtered_reason);
	st->dropped = atomic64_read(&hvt_kc.dropped);
	st->untraceable = atomic64_read(&hvt_kc.untraceable);
	st->vms = atomic64_read(&hvt_kc.vms);
	st->vcpus = atomic64_read(&hvt_kc.vcpus);
	st->fpu_from_memory = atomic64_read(&hvt_kc.fpu_from_memory);
}

#if HVT_KVM_SUPPORTED

static u64 hvt_kvm_next_id;		/* attach ids, under hvt_kvm_mutex */

/* Caps that keep a runaway host from eating memory through us. */
#define HVT_KVM_MAX_VMS		256
#define HVT_KVM_MAX_VCPUS	4096

/* One VM seen while attached. */
struct hvt_kvm_vm {
	struct list_head node;
	struct rcu_head rcu;
	const struct kvm *kvm;		/* identity only: never dereferenced */
	u32 vm;				/* number, from 1 per module load */
	pid_t pid;			/* kvm->userspace_pid */
	bool untraceable;		/* protected guest state */
	u64 seen_ids;			/* vCPU ids 0..63 seen in this VM */
	atomic64_t exits, traced, filtered, dropped;
	struct hvtrace_session_rec srec;
};

/* One vCPU seen while attached, found by its struct kvm_vcpu pointer. */
struct hvt_kvm_vcpu {
	struct rcu_head rcu;
	struct hvt_kvm_vm *vm;
	u64 seq;			/* per vCPU, from 1, every exit */
	bool pending;			/* exit traced, its resume not yet */
	bool broken;			/* failed the register-cache check */
	bool first_run;			/* made before the vCPU's first run ended */
	struct hvtrace_exit_rec exit_rec;	/* state at the traced exit */
	struct hvtrace_resume_rec resume_rec;
};

static struct {
	struct file *owner;		/* NULL: not attached */
	u64 id;
	u32 nr_pids;
	s32 pids[HVTRACE_KVM_MAX_PIDS];
	u64 reasons[HVTRACE_NR_REASONS / 64];
	bool all_reasons;
	struct module *kvm_mod;
	struct tracepoint *tp_exit, *tp_entry;
	void *entry_probe;		/* the one of kvm_entry's prototype */
	spinlock_t lock;		/* vms, vm/vCPU creation and end */
	struct list_head vms;
	u32 nr_vms, nr_vcpus;
	struct xarray vcpus;
	struct hvtrace_session_rec srec;	/* attach/detach, under mutex */
} hvt_k = {
	.lock = __SPIN_LOCK_UNLOCKED(hvt_k.lock),
	.vms = LIST_HEAD_INIT(hvt_k.vms),
};

static u32 hvt_kvm_vm_numbers;	/* VM numbers handed out this module load */

/*
 * VMREAD of the current VMCS; 0 when it fails (VMfail or a fault).  "asm
 * volatile goto": GCC before 14 does not treat an asm goto with outputs as
 * volatile (GCC bug 113921, the kernel's asm_goto_output() works around
 * it), and CSE then merged two VMREADs of GUEST_RIP here into a wrong value.
 */
static u64 hvt_vmr(unsigned long field)
{
	unsigned long v;

	asm volatile goto("1: vmread %[f], %[v]\n\t"
			  "jbe %l[fail]\n\t"
			  _ASM_EXTABLE(1b, %l[fail])
			  : [v] "=r" (v) : [f] "r" (field) : "cc" : fail);
	return v;
fail:
	return 0;
}

/* ---- session events --------------------------------------------------- */

static void hvt_kvm_session_fill(struct hvtrace_session_rec *s, u8 phase,
				 const struct hvt_kvm_vm *vm)
{
	memset(s, 0, sizeof(*s));
	s->phase = phase;
	s->schema_version = HVTRACE_SCHEMA_VERSION;
	strscpy(s->module_version, HVT_MODULE_VERSION,
		sizeof(s->module_version));
	s->run_id = hvt_k.id;
	strscpy(s->workload, "kvm", sizeof(s->workload));
	strscpy(s->cpu_model, boot_cpu_data.x86_model_id,
		sizeof(s->cpu_model));
	memcpy(s->vmx_msrs, hvt_vmx_msrs, sizeof(s->vmx_msrs));
	s->backend = HVTRACE_BACKEND_KVM;
	strscpy(s->kernel_release, init_utsname()->release,
		sizeof(s->kernel_release));
	if (vm) {
		s->vm = vm->vm;
		s->vmm_pid = vm->pid;
	}
	s->tsc = rdtsc_ordered();
}

/* START of a VM, at its first exit: the controls KVM runs it with. */
static void hvt_kvm_session_vm_start(struct hvt_kvm_vm *vm)
{
	struct hvtrace_session_rec *s = &vm->srec;

	hvt_kvm_session_fill(s, vm->untraceable ? HVTRACE_PHASE_UNTRACEABLE :
			     HVTRACE_PHASE_START, vm);
	/* the VMM's command name, for people reading the trace */
	strscpy(s->workload, current->comm, sizeof(s->workload));
	s->pin_ctls = hvt_vmr(PIN_BASED_VM_EXEC_CONTROL);
	s->proc_ctls = hvt_vmr(CPU_BASED_VM_EXEC_CONTROL);
	s->proc2_ctls = hvt_vmr(SECONDARY_VM_EXEC_CONTROL);
	s->exit_ctls = hvt_vmr(VM_EXIT_CONTROLS);
	s->entry_ctls = hvt_vmr(VM_ENTRY_CONTROLS);
	s->exception_bitmap = hvt_vmr(EXCEPTION_BITMAP);
	if (vm->untraceable)
		s->status = -EPERM;
	trace_hvtrace_session(s);
}

/* END of a VM: at detach, or when the VMM closed it while attached. */
static void hvt_kvm_session_vm_end(struct hvt_kvm_vm *vm)
{
	struct hvtrace_session_rec *s = &vm->srec;

	hvt_kvm_session_fill(s, HVTRACE_PHASE_END, vm);
	s->exits = atomic64_read(&vm->exits);
	s->dropped = atomic64_read(&vm->dropped);
	s->filtered = atomic64_read(&vm->filtered);
	if (vm->untraceable)
		s->status = -EPERM;
	trace_hvtrace_session(s);
}

/* ---- guest state ------------------------------------------------------ */

static bool hvt_kvm_reason_wanted(u32 basic)
{
	if (hvt_k.all_reasons)
		return true;
	if (basic >= HVTRACE_NR_REASONS)
		return false;
	return hvt_k.reasons[basic / 64] & BIT_ULL(basic % 64);
}

static bool hvt_kvm_pid_wanted(pid_t pid)
{
	u32 i;

	if (!hvt_k.nr_pids)
		return true;
	for (i = 0; i < hvt_k.nr_pids; i++)
		if (hvt_k.pids[i] == pid)
			return true;
	return false;
}

/* current's fpstate: the guest's during KVM_RUN (fpu_swap_kvm_fpstate) */
static struct fpstate *hvt_kvm_cur_fpstate(void)
{
	/*
	 * 6.16 moved the task's struct fpu out of thread_struct, behind
	 * x86_task_fpu() (a macro, or with CONFIG_X86_DEBUG_FPU a function);
	 * up to then (6.1 .. 6.12 here) it is current->thread.fpu.
	 */
#if defined(x86_task_fpu) || LINUX_VERSION_CODE >= KERNEL_VERSION(6, 16, 0)
	return x86_task_fpu(current)->fpstate;
#else
	return current->thread.fpu.fpstate;
#endif
}

/*
 * XMM0-15 and MXCSR of the guest.
 *
 * Why reading the live registers is safe and right: KVM loads the guest's
 * FPU state into the registers once per KVM_RUN (kvm_load_guest_fpu ->
 * fpu_swap_kvm_fpstate, which makes the guest fpstate current's fpstate)
 * and keeps it there for the whole run loop.  Whenever the kernel borrowed
 * the FPU meanwhile (kernel_fpu_begin in a softirq, a context switch) it
 * saved the guest's registers into that fpstate and set TIF_NEED_FPU_LOAD;
 * vcpu_enter_guest() reloads them with interrupts off before every entry.
 * Both probes run inside that interrupts-off window, so unless the flag is
 * set the registers hold exactly the guest's values.  We only read them
 * (MOVDQU stores, STMXCSR) into our own buffer: no XSAVE/XRSTOR, no
 * kernel_fpu_begin(), nothing of KVM's or the task's FPU state is touched.
 * When the flag is set anyway, or current's fpstate is not the guest's, the
 * values are read from the guest fpstate in memory (its legacy area: an
 * XSAVE component in init state reads as zeros / MXCSR_DEFAULT) and counted.
 */
static void hvt_kvm_read_fpu(struct kvm_vcpu *vcpu, u64 *xmm, u32 *mxcsr)
{
	struct fpstate *fps = vcpu->arch.guest_fpu.fpstate;
	struct fxregs_state *fx;
	u64 xfeatures = ~0ULL;

	if (!test_thread_flag(TIF_NEED_FPU_LOAD) &&
	    (!fps || hvt_kvm_cur_fpstate() == fps)) {
		asm volatile("movdqu %%xmm0, 0x00(%[p])\n\t"
			     "movdqu %%xmm1, 0x10(%[p])\n\t"
			     "movdqu %%xmm2, 0x20(%[p])\n\t"
			     "movdqu %%xmm3, 0x30(%[p])\n\t"
			     "movdqu %%xmm4, 0x40(%[p])\n\t"
			     "movdqu %%xmm5, 0x50(%[p])\n\t"
			     "movdqu %%xmm6, 0x60(%[p])\n\t"
			     "movdqu %%xmm7, 0x70(%[p])\n\t"
			     "movdqu %%xmm8, 0x80(%[p])\n\t"
			     "movdqu %%xmm9, 0x90(%[p])\n\t"
			     "movdqu %%xmm10, 0xa0(%[p])\n\t"
			     "movdqu %%xmm11, 0xb0(%[p])\n\t"
			     "movdqu %%xmm12, 0xc0(%[p])\n\t"
			     "movdqu %%xmm13, 0xd0(%[p])\n\t"
			     "movdqu %%xmm14, 0xe0(%[p])\n\t"
			     "movdqu %%xmm15, 0xf0(%[p])\n\t"
			     "stmxcsr %[m]"
			     : [m] "=m" (*mxcsr)
			     : [p] "r" (xmm)
			     : "memory");
		return;
	}
	atomic64_inc(&hvt_kc.fpu_from_memory);
	if (!fps) {
		memset(xmm, 0, 32 * sizeof(u64));
		*mxcsr = MXCSR_DEFAULT;
		return;
	}
	fx = &fps->regs.fxsave;
	if (boot_cpu_has(X86_FEATURE_XSAVE))
		xfeatures = fps->regs.xsave.header.xfeatures;
	if (xfeatures & XFEATURE_MASK_SSE)
		memcpy(xmm, fx->xmm_space, 32 * sizeof(u64));
	else
		memset(xmm, 0, 32 * sizeof(u64));
	*mxcsr = (xfeatures & (XFEATURE_MASK_SSE | XFEATURE_MASK_YMM)) ?
		 fx->mxcsr : MXCSR_DEFAULT;
}

/* RSP or RIP as the next VM entry will load it. */
static u64 hvt_kvm_lazy_at_entry(struct kvm_vcpu *vcpu, int reg,
				 unsigned long field)
{
	if (vcpu->arch.regs_dirty & BIT(reg))
		return vcpu->arch.regs[reg];
	return hvt_vmr(field);
}

/* ---- per-VM and per-vCPU state ---------------------------------------- */

/*
 * A vCPU whose last traced exit has no resume when its VM ends or we
 * detach: the trace ends there for it, said with a STOP resume.
 */
static void hvt_kvm_stop_pending(struct hvt_kvm_vcpu *s)
{
	struct hvtrace_resume_rec *r = &s->resume_rec;

	if (!s->pending)
		return;
	s->pending = false;
	memset(r, 0, sizeof(*r));
	r->vcpu = s->exit_rec.vcpu;
	r->vm = s->exit_rec.vm;
	r->seq = s->exit_rec.seq;
	r->action = HVTRACE_ACT_STOP;
	r->tsc = rdtsc_ordered();
	trace_hvtrace_resume(r);
	atomic64_inc(&hvt_kc.resumes);
}

/*
 * A VM ends (it died, or we detach): its END event, a STOP for each of its
 * vCPUs left between exit and entry, and our records of it go (after a
 * grace period: a probe may still hold a pointer it loaded).  hvt_k.lock
 * held, or no probe registered any more.
 */
static void hvt_kvm_vm_end(struct hvt_kvm_vm *vm)
{
	struct hvt_kvm_vcpu *s;
	unsigned long idx;

	xa_for_each(&hvt_k.vcpus, idx, s) {
		if (s->vm != vm)
			continue;
		hvt_kvm_stop_pending(s);
		xa_erase(&hvt_k.vcpus, idx);
		hvt_k.nr_vcpus--;
		kfree_rcu(s, rcu);
	}
	hvt_kvm_session_vm_end(vm);
	list_del(&vm->node);
	hvt_k.nr_vms--;
	kfree_rcu(vm, rcu);
}

/*
 * The register-cache assumptions, checked at a vCPU's first exit: KVM has
 * just reset its cache (nothing dirty), and if some other kvm_exit probe
 * already read RIP into the cache it must equal the VMCS.
 */
static bool hvt_kvm_cache_ok(struct kvm_vcpu *vcpu)
{
	if (vcpu->arch.regs_dirty)
		return false;
	if ((vcpu->arch.regs_avail & BIT(VCPU_REGS_RIP)) &&
	    vcpu->arch.regs[VCPU_REGS_RIP] != hvt_vmr(GUEST_RIP))
		return false;
	return true;
}

/* The live VM record of vcpu's VM, a new one, or NULL (caps, memory). */
static struct hvt_kvm_vm *hvt_kvm_vm_find(struct kvm_vcpu *vcpu, bool first,
					  bool *created)
{
	u64 id_bit = vcpu->vcpu_id < 64 ? BIT_ULL(vcpu->vcpu_id) : 0;
	struct hvt_kvm_vm *vm, *found = NULL;

	*created = false;
	list_for_each_entry(vm, &hvt_k.vms, node) {
		if (vm->kvm == vcpu->kvm && vm->pid == vcpu->kvm->userspace_pid) {
			found = vm;
			break;
		}
	}
	/* the first exit of a vCPU id this VM record already has: a new VM */
	if (found && first && (found->seen_ids & id_bit)) {
		hvt_kvm_vm_end(found);
		found = NULL;
	}
	if (!found) {
		if (hvt_k.nr_vms >= HVT_KVM_MAX_VMS)
			return NULL;
		found = kzalloc(sizeof(*found), GFP_ATOMIC);
		if (!found)
			return NULL;
		found->kvm = vcpu->kvm;
		found->vm = ++hvt_kvm_vm_numbers;
		found->pid = vcpu->kvm->userspace_pid;
		found->untraceable = vcpu->arch.guest_state_protected;
		list_add_tail(&found->node, &hvt_k.vms);
		hvt_k.nr_vms++;
		atomic64_inc(&hvt_kc.vms);
		*created = true;
	}
	found->seen_ids |= id_bit;
	return found;
}

static struct hvt_kvm_vcpu *hvt_kvm_vcpu_get(struct kvm_vcpu *vcpu)
{
	struct hvt_kvm_vcpu *s = xa_load(&hvt_k.vcpus, (unsigned long)vcpu);
	/* set by vcpu_enter_guest() after the vCPU's first exit, -1 before */
	bool first = vcpu->arch.last_vmentry_cpu == -1;
	struct hvt_kvm_vm *vm;
	unsigned long flags;
	bool created;
	void *old;

	/*
	 * Exits that KVM handles in its fastpath re-enter the guest inside the
	 * same vcpu_enter_guest(): last_vmentry_cpu stays -1 for all exits of
	 * the vCPU's first run, which first_run covers.
	 */
	if (s && s->vm->kvm == vcpu->kvm && (!first || s->first_run))
		return s;
	spin_lock_irqsave(&hvt_k.lock, flags);
	/* a record under this address is of a dead vCPU, so of a dead VM */
	if (s)
		hvt_kvm_vm_end(s->vm);
	s = NULL;
	if (hvt_k.nr_vcpus >= HVT_KVM_MAX_VCPUS)
		goto out;
	vm = hvt_kvm_vm_find(vcpu, first, &created);
	if (!vm)
		goto out;
	if (created)
		hvt_kvm_session_vm_start(vm);
	s = kzalloc(sizeof(*s), GFP_ATOMIC);
	if (!s)
		goto out;
	s->vm = vm;
	s->first_run = first;
	if (!vm->untraceable && !hvt_kvm_cache_ok(vcpu)) {
		s->broken = true;
		pr_err("KVM's register cache is not what this module was built for (vm %u vcpu %d: regs_dirty %#x, regs_avail %#x at kvm_exit); not tracing this vCPU\n",
		       vm->vm, vcpu->vcpu_id, vcpu->arch.regs_dirty,
		       vcpu->arch.regs_avail);
	}
	old = xa_store(&hvt_k.vcpus, (unsigned long)vcpu, s, GFP_ATOMIC);
	if (xa_is_err(old)) {
		kfree(s);
		s = NULL;
		goto out;
	}
	hvt_k.nr_vcpus++;
	atomic64_inc(&hvt_kc.vcpus);
out:
	spin_unlock_irqrestore(&hvt_k.lock, flags);
	return s;
}

/* ---- the probes ------------------------------------------------------- */

static void hvt_kvm_exit_probe(void *data, struct kvm_vcpu *vcpu, u32 isa)
{
	struct hvtrace_exit_rec *e;
	struct hvt_kvm_vcpu *s;
	u32 reason;
	int i;

	atomic64_inc(&hvt_kc.exits);
	if (!hvt_kvm_pid_wanted(vcpu->kvm->userspace_pid)) {
		atomic64_inc(&hvt_kc.filtered_pid);
		return;
	}
	s = hvt_kvm_vcpu_get(vcpu);
	if (!s) {
		atomic64_inc(&hvt_kc.dropped);
		return;
	}
	s->pending = false;
	atomic64_inc(&s->vm->exits);
	if (s->vm->untraceable || s->broken) {
		atomic64_inc(&hvt_kc.untraceable);
		return;
	}
	s->seq++;
	reason = hvt_vmr(VM_EXIT_REASON);
	if (!hvt_kvm_reason_wanted(reason & HVTRACE_EXIT_REASON_BASIC_MASK)) {
		atomic64_inc(&hvt_kc.filtered_reason);
		atomic64_inc(&s->vm->filtered);
		return;
	}
	if (!trace_hvtrace_exit_enabled()) {
		atomic64_inc(&hvt_kc.dropped);
		atomic64_inc(&s->vm->dropped);
		return;
	}

	e = &s->exit_rec;
	e->tsc = rdtsc_ordered();
	e->vcpu = vcpu->vcpu_id;
	e->vm = s->vm->vm;
	e->seq = s->seq;
	e->exit_reason = reason;
	e->exit_qual = hvt_vmr(EXIT_QUALIFICATION);
	e->insn_len = hvt_vmr(VM_EXIT_INSTRUCTION_LEN);
	e->insn_info = hvt_vmr(VMX_INSTRUCTION_INFO);
	e->guest_linear = hvt_vmr(GUEST_LINEAR_ADDRESS);
	e->guest_phys = hvt_vmr(GUEST_PHYSICAL_ADDRESS);
	e->intr_info = hvt_vmr(VM_EXIT_INTR_INFO);
	e->intr_error = hvt_vmr(VM_EXIT_INTR_ERROR_CODE);
	e->idt_info = hvt_vmr(IDT_VECTORING_INFO_FIELD);
	e->idt_error = hvt_vmr(IDT_VECTORING_ERROR_CODE);
	e->rip = hvt_vmr(GUEST_RIP);
	e->rsp = hvt_vmr(GUEST_RSP);
	e->rflags = hvt_vmr(GUEST_RFLAGS);
	e->cr0 = hvt_vmr(GUEST_CR0);
	e->cr3 = hvt_vmr(GUEST_CR3);
	e->cr4 = hvt_vmr(GUEST_CR4);
	e->cr0_shadow = hvt_guest_cr_view(e->cr0, hvt_vmr(CR0_GUEST_HOST_MASK),
					  hvt_vmr(CR0_READ_SHADOW));
	e->cr4_shadow = hvt_guest_cr_view(e->cr4, hvt_vmr(CR4_GUEST_HOST_MASK),
					  hvt_vmr(CR4_READ_SHADOW));
	e->interruptibility = hvt_vmr(GUEST_INTERRUPTIBILITY_INFO);
	/*
	 * Who: the VMM thread running this vCPU (pid its process, tid the
	 * vCPU thread) and the guest's CPL, SS.DPL as KVM's vmx_get_cpl()
	 * reads it; 0 while the guest believes it is in real mode (KVM may
	 * run that in virtual-8086 mode, where SS.DPL is 3).
	 */
	e->pid = current->tgid;
	e->tid = current->pid;
	memcpy(e->comm, current->comm, sizeof(e->comm));
	e->cpl = (e->cr0_shadow & X86_CR0_PE) ?
		 (hvt_vmr(GUEST_SS_AR_BYTES) >> 5) & 3 : 0;
	hvt_exit_clear_undefined(e, hvt_vmr(SECONDARY_VM_EXEC_CONTROL) &
				 SECONDARY_EXEC_ENABLE_EPT);
	/* Filled by __vmx_vcpu_run at the exit, but for the lazy RSP/RIP. */
	for (i = 0; i < 16; i++)
		e->gpr[i] = vcpu->arch.regs[i];
	e->gpr[VCPU_REGS_RSP] = e->rsp;
	hvt_kvm_read_fpu(vcpu, e->xmm, &e->mxcsr);
	trace_hvtrace_exit(e);
	atomic64_inc(&hvt_kc.traced);
	atomic64_inc(&s->vm->traced);
	s->pending = true;
}

static void hvt_kvm_chg(struct hvtrace_resume_rec *r, unsigned int bit,
			u64 old, u64 now)
{
	if (old == now)
		return;
	/* callers go in ascending bit order: values[] follows the mask */
	r->changed |= BIT_ULL(bit);
	r->values[r->values_len++] = now;
}

static void hvt_kvm_entry(struct kvm_vcpu *vcpu)
{
	struct hvt_kvm_vcpu *s = xa_load(&hvt_k.vcpus, (unsigned long)vcpu);
	const struct hvtrace_exit_rec *e;
	struct hvtrace_resume_rec *r;
	u64 xmm[32];
	u32 mxcsr, info;
	bool first;
	int i;

	if (!s)
		return;
	first = vcpu->arch.last_vmentry_cpu == -1;
	/* a dead vCPU's record (see hvt_kvm_vcpu_get): its next exit ends it */
	if (s->vm->kvm != vcpu->kvm || (first && !s->first_run))
		return;
	if (!first)
		s->first_run = false;
	if (!s->pending)
		return;
	s->pending = false;
	if (!trace_hvtrace_resume_enabled())
		return;
	e = &s->exit_rec;
	r = &s->resume_rec;
	memset(r, 0, sizeof(*r));
	r->vcpu = e->vcpu;
	r->vm = e->vm;
	r->seq = e->seq;
	for (i = 0; i < 16; i++) {
		u64 now = vcpu->arch.regs[i];

		if (i == VCPU_REGS_RSP)
			now = hvt_kvm_lazy_at_entry(vcpu, VCPU_REGS_RSP,
						    GUEST_RSP);
		hvt_kvm_chg(r, HVTRACE_CHG_GPR(i), e->gpr[i], now);
	}
	hvt_kvm_chg(r, HVTRACE_CHG_RIP, e->rip,
		    hvt_kvm_lazy_at_entry(vcpu, VCPU_REGS_RIP, GUEST_RIP));
	hvt_kvm_chg(r, HVTRACE_CHG_RFLAGS, e->rflags, hvt_vmr(GUEST_RFLAGS));
	hvt_kvm_read_fpu(vcpu, xmm, &mxcsr);
	for (i = 0; i < 16; i++) {
		hvt_kvm_chg(r, HVTRACE_CHG_XMM_LO(i), e->xmm[2 * i],
			    xmm[2 * i]);
		hvt_kvm_chg(r, HVTRACE_CHG_XMM_HI(i), e->xmm[2 * i + 1],
			    xmm[2 * i + 1]);
	}
	hvt_kvm_chg(r, HVTRACE_CHG_MXCSR, e->mxcsr, mxcsr);
	hvt_kvm_chg(r, HVTRACE_CHG_CR0, e->cr0, hvt_vmr(GUEST_CR0));
	hvt_kvm_chg(r, HVTRACE_CHG_CR3, e->cr3, hvt_vmr(GUEST_CR3));
	hvt_kvm_chg(r, HVTRACE_CHG_CR4, e->cr4, hvt_vmr(GUEST_CR4));
	hvt_kvm_chg(r, HVTRACE_CHG_CR0_SHADOW, e->cr0_shadow,
		    hvt_vmr(CR0_READ_SHADOW));
	hvt_kvm_chg(r, HVTRACE_CHG_CR4_SHADOW, e->cr4_shadow,
		    hvt_vmr(CR4_READ_SHADOW));
	hvt_kvm_chg(r, HVTRACE_CHG_INTR_STATE, e->interruptibility,
		    hvt_vmr(GUEST_INTERRUPTIBILITY_INFO));
	/* The event KVM injects with this entry (valid bit 31). */
	info = hvt_vmr(VM_ENTRY_INTR_INFO_FIELD);
	if (info & INTR_INFO_VALID_MASK) {
		r->action = HVTRACE_ACT_INJECT;
		r->inject_info = info;
		if (info & INTR_INFO_DELIVER_CODE_MASK)
			r->inject_error = hvt_vmr(VM_ENTRY_EXCEPTION_ERROR_CODE);
	} else {
		r->action = HVTRACE_ACT_RESUME;
	}
	r->tsc = rdtsc_ordered();
	trace_hvtrace_resume(r);
	atomic64_inc(&hvt_kc.resumes);
}

/*
 * One probe per kvm_entry prototype (see the top): the probe registered
 * has the tracepoint's exact type, which kernels that check the type of
 * indirect calls (kCFI) require.
 */
static void hvt_kvm_entry_probe(void *data, struct kvm_vcpu *vcpu)
{
	hvt_kvm_entry(vcpu);
}

static void hvt_kvm_entry_probe_fie(void *data, struct kvm_vcpu *vcpu,
				    bool force_immediate_exit)
{
	hvt_kvm_entry(vcpu);
}

/* ---- attach / detach -------------------------------------------------- */

struct hvt_kvm_found {
	struct module *mod;
	struct tracepoint *tp_exit, *tp_entry;
};
static struct hvt_kvm_found hvt_kvm_found;

/*
 * Called for every module with tracepoints when the notifier is registered
 * (and for modules coming meanwhile): picks kvm.ko's kvm_exit/kvm_entry.
 */
static int hvt_kvm_tp_notify(struct notifier_block *nb, unsigned long val,
			     void *data)
{
	struct tp_module *tp_mod = data;
	struct module *mod = tp_mod->mod;
	struct tracepoint *tp_exit = NULL, *tp_entry = NULL;
	unsigned int i;

	if (val != MODULE_STATE_COMING || strcmp(mod->name, "kvm") ||
	    hvt_kvm_found.mod)
		return NOTIFY_OK;
	for (i = 0; i < mod->num_tracepoints; i++) {
		struct tracepoint *tp =
			tracepoint_ptr_deref(&mod->tracepoints_ptrs[i]);

		if (!strcmp(tp->name, "kvm_exit"))
			tp_exit = tp;
		else if (!strcmp(tp->name, "kvm_entry"))
			tp_entry = tp;
	}
	if (tp_exit && tp_entry && try_module_get(mod)) {
		hvt_kvm_found.mod = mod;
		hvt_kvm_found.tp_exit = tp_exit;
		hvt_kvm_found.tp_entry = tp_entry;
	}
	return NOTIFY_OK;
}

static struct notifier_block hvt_kvm_tp_nb = {
	.notifier_call = hvt_kvm_tp_notify,
};

/*
 * The probe for kvm_entry's prototype, read from kvm.ko's own description
 * of the event (its trace_event_call, whose record fields come from the
 * same TRACE_EVENT as the prototype): "vcpu_id, rip" is kvm_entry(vcpu),
 * "vcpu_id, rip, immediate_exit" is kvm_entry(vcpu, force_immediate_exit)
 * (6.9, and stable kernels that took that change).  NULL, said in dmesg,
 * for any other shape.  Without event tracing there is no description:
 * then the mainline version decides.
 */
static void *hvt_kvm_entry_proto(struct module *mod, struct tracepoint *tp,
				 bool *fie)
{
#ifdef CONFIG_EVENT_TRACING
	unsigned int i;

	for (i = 0; i < mod->num_trace_events; i++) {
		struct trace_event_call *call = mod->trace_events[i];
		const struct trace_event_fields *f;
		bool vcpu_id = false, rip = false, other = false;
		char names[128] = "";
		size_t len = 0;

		if (!call || !(call->flags & TRACE_EVENT_FL_TRACEPOINT) ||
		    call->tp != tp || !call->class)
			continue;
		*fie = false;
		for (f = call->class->fields_array; f && f->type; f++) {
			if (f->type == TRACE_FUNCTION_TYPE || !f->name) {
				other = true;
				continue;
			}
			len += scnprintf(names + len, sizeof(names) - len, "%s%s",
					 len ? ", " : "", f->name);
			if (!strcmp(f->name, "vcpu_id"))
				vcpu_id = true;
			else if (!strcmp(f->name, "rip"))
				rip = true;
			else if (!strcmp(f->name, "immediate_exit"))
				*fie = true;
			else
				other = true;
		}
		if (vcpu_id && rip && !other)
			return *fie ? (void *)hvt_kvm_entry_probe_fie :
				      (void *)hvt_kvm_entry_probe;
		pr_info("kvm attach refused: kvm.ko's kvm_entry event has the fields (%s); this module knows (vcpu_id, rip) for kvm_entry(vcpu) and (vcpu_id, rip, immediate_exit) for kvm_entry(vcpu, force_immediate_exit)\n",
			names);
		return NULL;
	}
#endif
	*fie = LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0);
	pr_info("kvm: no description of kvm.ko's kvm_entry event to read; assuming kvm_entry(vcpu%s) by the kernel version\n",
		*fie ? ", force_immediate_exit" : "");
	return *fie ? (void *)hvt_kvm_entry_probe_fie :
		      (void *)hvt_kvm_entry_probe;
}

/*
 * The vendor module behind kvm.ko's static calls must be kvm_intel: the
 * probes VMREAD.  kvm_x86_cache_reg is one of the two static calls kvm.ko
 * exports; its target names the module.
 */
static int hvt_kvm_check_vendor(void)
{
	struct static_call_key *key;
	char sym[KSYM_SYMBOL_LEN];
	void *func;

	if (!boot_cpu_has(X86_FEATURE_VMX))
		return -EOPNOTSUPP;
	key = __symbol_get("__SCK__kvm_x86_cache_reg");
	if (!key)
		return 0;	/* cannot tell: the CPU has VMX */
	func = READ_ONCE(key->func);
	sprint_symbol(sym, (unsigned long)func);
	__symbol_put("__SCK__kvm_x86_cache_reg");
	if (strstr(sym, "[kvm_intel]"))
		return 0;
	pr_info("kvm attach refused: KVM's vendor module is not kvm_intel (kvm_x86_cache_reg -> %s); modprobe kvm_intel\n",
		sym);
	return -ENODEV;
}

static int hvt_kvm_do_attach(struct file *owner, struct hvtrace_kvm_attach *req)
{
	bool fie;
	int err, i;

	if (hvt_k.owner) {
		pr_info("kvm attach refused: already attached (attach %llu)\n",
			hvt_k.id);
		return -EBUSY;
	}
	err = hvt_kvm_check_vendor();
	if (err == -EOPNOTSUPP)
		pr_info("kvm attach refused: this CPU has no VMX; only kvm_intel is handled\n");
	if (err)
		return err;

	memset(&hvt_kvm_found, 0, sizeof(hvt_kvm_found));
	err = register_tracepoint_module_notifier(&hvt_kvm_tp_nb);
	if (err)
		return err;
	unregister_tracepoint_module_notifier(&hvt_kvm_tp_nb);
	if (!hvt_kvm_found.mod) {
		pr_info("kvm attach refused: kvm.ko is not loaded or has no kvm_exit/kvm_entry tracepoints (modprobe kvm_intel)\n");
		return -ENOENT;
	}
	hvt_k.entry_probe = hvt_kvm_entry_proto(hvt_kvm_found.mod,
						hvt_kvm_found.tp_entry, &fie);
	if (!hvt_k.entry_probe) {
		module_put(hvt_kvm_found.mod);
		return -EOPNOTSUPP;
	}
	memset(&hvt_kc, 0, sizeof(hvt_kc));
	hvt_k.kvm_mod = hvt_kvm_found.mod;
	hvt_k.tp_exit = hvt_kvm_found.tp_exit;
	hvt_k.tp_entry = hvt_kvm_found.tp_entry;
	hvt_k.nr_pids = req->nr_pids;
	for (i = 0; i < HVTRACE_KVM_MAX_PIDS; i++)
		hvt_k.pids[i] = req->pids[i];
	hvt_k.all_reasons = true;
	for (i = 0; i < ARRAY_SIZE(hvt_k.reasons); i++) {
		hvt_k.reasons[i] = req->reasons[i];
		if (req->reasons[i])
			hvt_k.all_reasons = false;
	}
	hvt_k.nr_vms = 0;
	hvt_k.nr_vcpus = 0;
	xa_init(&hvt_k.vcpus);
	hvt_k.id = ++hvt_kvm_next_id;
	hvt_k.owner = owner;

	hvt_kvm_session_fill(&hvt_k.srec, HVTRACE_PHASE_ATTACH, NULL);
	trace_hvtrace_session(&hvt_k.srec);

	err = tracepoint_probe_register(hvt_k.tp_entry, hvt_k.entry_probe,
					NULL);
	if (err)
		goto fail_reg;
	err = tracepoint_probe_register(hvt_k.tp_exit,
					(void *)hvt_kvm_exit_probe, NULL);
	if (err) {
		tracepoint_probe_unregister(hvt_k.tp_entry, hvt_k.entry_probe,
					    NULL);
		goto fail_reg;
	}
	req->attach_id = hvt_k.id;
	pr_info("kvm attach %llu: tracing %s%s, %s, kvm_entry(vcpu%s)\n",
		hvt_k.id, req->nr_pids ? "selected VMMs" : "every VMM",
		hvt_k.all_reasons ? "" : " (selected exit reasons)",
		init_utsname()->release, fie ? ", force_immediate_exit" : "");
	return 0;

fail_reg:
	pr_err("kvm attach: tracepoint_probe_register failed (%d)\n", err);
	tracepoint_synchronize_unregister();
	hvt_k.owner = NULL;
	module_put(hvt_kvm_found.mod);
	return err;
}

static void hvt_kvm_do_detach(struct hvtrace_kvm_stats *st)
{
	struct hvtrace_session_rec *s = &hvt_k.srec;

	tracepoint_probe_unregister(hvt_k.tp_exit,
				    (void *)hvt_kvm_exit_probe, NULL);
	tracepoint_probe_unregister(hvt_k.tp_entry, hvt_k.entry_probe, NULL);
	/* no probe runs any more after this */
	tracepoint_synchronize_unregister();
	while (!list_empty(&hvt_k.vms))
		hvt_kvm_vm_end(list_first_entry(&hvt_k.vms, struct hvt_kvm_vm,
						node));
	xa_destroy(&hvt_k.vcpus);

	hvt_kvm_session_fill(s, HVTRACE_PHASE_DETACH, NULL);
	s->exits = atomic64_read(&hvt_kc.exits);
	s->dropped = atomic64_read(&hvt_kc.dropped);
	s->filtered = atomic64_read(&hvt_kc.filtered_pid) +
		      atomic64_read(&hvt_kc.filtered_reason);
	trace_hvtrace_session(s);

	module_put(hvt_k.kvm_mod);
	hvt_k.kvm_mod = NULL;
	hvt_k.owner = NULL;
	hvt_kvm_fill_stats(st, hvt_k.id, false);
	pr_info("kvm detach %llu: %llu exits, %llu traced, %llu filtered, %llu dropped, %llu untraceable, %llu VMs, %llu vCPUs\n",
		hvt_k.id, st->exits, st->traced,
		st->filtered_pid + st->filtered_reason, st->dropped,
		st->untraceable, st->vms, st->vcpus);
}

#else /* !HVT_KVM_SUPPORTED */

static int hvt_kvm_do_attach(struct file *owner, struct hvtrace_kvm_attach *req)
{
	pr_info("kvm attach refused: built for kernel %s%s; the KVM backend handles 6.1 and later with kvm_intel\n",
		init_utsname()->release,
		IS_ENABLED(CONFIG_KVM_INTEL) ? "" : " without CONFIG_KVM_INTEL");
	return -EOPNOTSUPP;
}

static struct {
	struct file *owner;
	u64 id;
} hvt_k;

static void hvt_kvm_do_detach(struct hvtrace_kvm_stats *st)
{
}

#endif /* HVT_KVM_SUPPORTED */

int hvt_kvm_attach(struct file *owner, struct hvtrace_kvm_attach *req)
{
	int err;

	mutex_lock(&hvt_kvm_mutex);
	err = hvt_kvm_do_attach(owner, req);
	mutex_unlock(&hvt_kvm_mutex);
	return err;
}

int hvt_kvm_detach(struct file *owner, struct hvtrace_kvm_stats *st)
{
	int err = 0;

	mutex_lock(&hvt_kvm_mutex);
	if (!hvt_k.owner)
		err = -ENOENT;
	else if (hvt_k.owner != owner)
		err = -EPERM;
	else
		hvt_kvm_do_detach(st);
	mutex_unlock(&hvt_kvm_mutex);
	return err;
}

int hvt_kvm_stats(struct hvtrace_kvm_stats *st)
{
	mutex_lock(&hvt_kvm_mutex);
	hvt_kvm_fill_stats(st, hvt_k.id, hvt_k.owner != NULL);
	mutex_unlock(&hvt_kvm_mutex);
	return 0;
}

void hvt_kvm_release(struct file *owner)
{
	struct hvtrace_kvm_stats st;

	mutex_lock(&hvt_kvm_mutex);
	if (hvt_k.owner && hvt_k.owner == owner)
		hvt_kvm_do_detach(&st);
	mutex_unlock(&hvt_kvm_mutex);
}
