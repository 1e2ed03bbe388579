// SPDX-License-Identifier: GPL-2.0
/*
 * VM-exit handling: trace the exit, dispatch on the basic exit reason
 * through one table, apply the sandbox device model, trace the resume.
 *
 * Handlers return HVTRACE_ACT_RESUME or HVTRACE_ACT_STOP and record every
 * register they change with hvt_set_gpr()/hvt_set_rip(), so that the
 * hvtrace_resume event lists exactly what the guest resumes with.
 */
#define pr_fmt(fmt) "hvtrace: " fmt

#include <linux/kernel.h>
#include <linux/uaccess.h>
#include <linux/sched.h>
#include <linux/irqflags.h>
#include <asm/vmx.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/fpu/xcr.h>
#include <asm/trapnr.h>
#include <asm/cpufeature.h>
#include <asm/special_insns.h>

#include "hvt.h"
#include "hvtrace_trace.h"

#define HVT_HC_LOG_MAX	256

const char *hvt_exit_reason_name(u32 basic)
{
	switch (basic) {
#define HVT_X_NAME(code, name, qual) case code: return #name;
	HVTRACE_EXIT_REASONS(HVT_X_NAME)
#undef HVT_X_NAME
	}
	return NULL;
}

/* ---- helpers for handlers --------------------------------------------- */

static void hvt_set_gpr(struct hvt_vcpu *v, unsigned int i, u64 val)
{
	v->regs.gpr[i] = val;
	v->changed |= BIT_ULL(HVTRACE_CHG_GPR(i));
}

static void hvt_set_rip(struct hvt_vcpu *v, u64 rip)
{
	v->rip = rip;
	v->changed |= BIT_ULL(HVTRACE_CHG_RIP);
}

/*
 * Writes a VMCS guest-state field the resume record reports (control
 * registers, read shadows, interruptibility): the value the guest resumes
 * with is traced, as the schema promises.
 */
static void hvt_set_vmcs(struct hvt_vcpu *v, unsigned int bit,
			 unsigned long field, u64 val)
{
	hvt_vmwrite(v, field, val);
	v->chg_val[bit - HVTRACE_CHG_CR0] = val;
	v->changed |= BIT_ULL(bit);
}

/* DR6.BS: a single-step trap pending (SDM 25.4.1.2, pending debug exceptions). */
#define HVT_PENDING_DBG_BS	BIT(14)

/*
 * Completes the exiting instruction as the CPU would have: RIP past it,
 * STI/MOV-SS blocking gone, and with RFLAGS.TF set the single-step trap
 * that instruction owes the guest, made pending so that it is delivered
 * right after the entry (KVM: kvm_skip_emulated_instruction).
 */
static int hvt_skip(struct hvt_vcpu *v)
{
	u64 intr = v->interruptibility;

	if (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
		hvt_set_vmcs(v, HVTRACE_CHG_INTR_STATE,
			     GUEST_INTERRUPTIBILITY_INFO,
			     intr & ~(u64)(GUEST_INTR_STATE_STI |
					   GUEST_INTR_STATE_MOV_SS));
	if (v->rflags & X86_EFLAGS_TF)
		hvt_vmwrite(v, GUEST_PENDING_DBG_EXCEPTIONS,
			    hvt_vmread_or0(v, GUEST_PENDING_DBG_EXCEPTIONS) |
			    HVT_PENDING_DBG_BS);
	hvt_set_rip(v, v->rip + v->insn_len);
	return HVTRACE_ACT_RESUME;
}

static int hvt_stop(struct hvt_vcpu *v, int status)
{
	if (!v->status)
		v->status = status;
	return HVTRACE_ACT_STOP;
}

static int hvt_stop_unhandled(struct hvt_vcpu *v, const char *what)
{
	u32 basic = v->exit_reason & HVTRACE_EXIT_REASON_BASIC_MASK;
	const char *name = hvt_exit_reason_name(basic);

	atomic64_inc(&hvt_stats.unhandled);
	pr_warn_ratelimited("cpu %u run %llu: unhandled %s: exit %s%s(%u) qual %#llx rip %#llx; stopping\n",
			    v->cpu, v->req->run_id, what,
			    name ? name : "UNKNOWN", name ? " " : "", basic,
			    v->exit_qual, v->rip);
	return hvt_stop(v, -EFAULT);
}

/*
 * An exception the guest must see (#GP from a refused WRMSR, XSETBV, CR
 * write...) or one it raised: resume at its fixup with RAX = vector, or
 * stop when the faulting instruction has none.
 */
static int hvt_guest_exception(struct hvt_vcpu *v, unsigned int vector)
{
	unsigned long fixup = hvt_guest_fixup(v->rip);

	if (!fixup)
		return hvt_stop_unhandled(v, "exception without fixup");
	hvt_set_rip(v, fixup);
	hvt_set_gpr(v, HVT_R_RAX, vector);
	return HVTRACE_ACT_RESUME;
}

#define HVT_GP_VECTOR	13

static u64 *hvt_gpr_ptr(struct hvt_vcpu *v, unsigned int sdm_index)
{
	return &v->regs.gpr[sdm_index & 15];
}

/* ---- handlers --------------------------------------------------------- */

static int hvt_h_exception(struct hvt_vcpu *v)
{
	u32 info = v->intr_info;
	unsigned int vector = info & INTR_INFO_VECTOR_MASK;
	unsigned int type = info & INTR_INFO_INTR_TYPE_MASK;

	if (!(info & INTR_INFO_VALID_MASK))
		return hvt_stop_unhandled(v, "exception exit without valid info");
	/* Host NMIs were handed over first thing (hvt_handle_exit). */
	if (type == INTR_TYPE_NMI_INTR)
		return HVTRACE_ACT_RESUME;
	/* Forwarded at the exit already (hvt_forward_mce); the guest goes on. */
	if (type == INTR_TYPE_HARD_EXCEPTION && vector == X86_TRAP_MC)
		return HVTRACE_ACT_RESUME;
	/* The injection's stand-in #MC: step over the guest's UD2. */
	if (v->req->fault == HVT_FAULT_MCE && vector == X86_TRAP_UD) {
		hvt_set_rip(v, v->rip + 2);
		return HVTRACE_ACT_RESUME;
	}
	return hvt_guest_exception(v, vector);
}

static int hvt_h_external_interrupt(struct hvt_vcpu *v)
{
	/*
	 * Acknowledge-on-exit is 0: the interrupt is still pending in the
	 * local APIC.  Open a one-instruction window (STI's shadow covers
	 * the NOP) so the host takes it through its own IDT.
	 */
	local_irq_enable();
	asm volatile("nop" ::: "memory");
	local_irq_disable();
	/* Host code ran (an IPI may have armed a breakpoint): follow it. */
	hvt_host_reload_debug(v);
	return HVTRACE_ACT_RESUME;
}

static int hvt_h_triple_fault(struct hvt_vcpu *v)
{
	pr_warn_ratelimited("cpu %u run %llu: guest triple fault at rip %#llx; stopping\n",
			    v->cpu, v->req->run_id, v->rip);
	return hvt_stop(v, -EFAULT);
}

static int hvt_h_cpuid(struct hvt_vcpu *v)
{
	u32 a, b, c, d;

	cpuid_count((u32)v->regs.gpr[HVT_R_RAX], (u32)v->regs.gpr[HVT_R_RCX],
		    &a, &b, &c, &d);
	hvt_set_gpr(v, HVT_R_RAX, a);
	hvt_set_gpr(v, HVT_R_RCX, c);
	hvt_set_gpr(v, HVT_R_RDX, d);
	hvt_set_gpr(v, HVT_R_RBX, b);
	return hvt_skip(v);
}

static int hvt_h_hlt(struct hvt_vcpu *v)
{
	return hvt_skip(v);
}

/* INVD would discard the host's dirty cache lines: never executed. */
static int hvt_h_invd(struct hvt_vcpu *v)
{
	return hvt_skip(v);
}

static void hvt_vtsc(struct hvt_vcpu *v)
{
	u64 t = HVT_VTSC_STEP * ++v->vtsc_count;

	hvt_set_gpr(v, HVT_R_RAX, (u32)t);
	hvt_set_gpr(v, HVT_R_RDX, t >> 32);
}

static int hvt_h_rdtsc(struct hvt_vcpu *v)
{
	hvt_vtsc(v);
	return hvt_skip(v);
}

static int hvt_h_rdtscp(struct hvt_vcpu *v)
{
	hvt_vtsc(v);
	hvt_set_gpr(v, HVT_R_RCX, 0);	/* TSC_AUX shadow */
	return hvt_skip(v);
}

static int hvt_h_vmcall(struct hvt_vcpu *v)
{
	u64 nr = v->regs.gpr[HVT_R_RAX];
	u64 a1 = v->regs.gpr[HVT_R_RBX], a2 = v->regs.gpr[HVT_R_RCX];
	char buf[HVT_HC_LOG_MAX + 1];
	s64 ret = 0;

	switch (nr) {
	case HVT_HC_END:
		/* RBX = status: 0, or -errno; anything else is -EPROTO. */
		if (a1 && (s64)a1 < 0 && (s64)a1 >= -MAX_ERRNO)
			return hvt_stop(v, (s64)a1);
		return hvt_stop(v, a1 ? -EPROTO : 0);
	case HVT_HC_MARKER:
		/* The marker value is in the traced exit's RBX. */
		break;
	case HVT_HC_LOG:
		if (a2 > HVT_HC_LOG_MAX) {
			ret = -EINVAL;
			break;
		}
		if (copy_from_kernel_nofault(buf, (const void *)a1, a2)) {
			ret = -EFAULT;
			break;
		}
		buf[a2] = 0;
		pr_info_ratelimited("cpu %u run %llu: guest: %s\n", v->cpu,
				    v->req->run_id, buf);
		break;
	default:
		ret = -ENOSYS;
		break;
	}
	hvt_set_gpr(v, HVT_R_RAX, (u64)ret);
	return hvt_skip(v);
}

static bool hvt_cr_fixed_ok(u64 val, int f0, int f1)
{
	u64 fixed0 = hvt_vmx_msrs[f0], fixed1 = hvt_vmx_msrs[f1];

	return (val & fixed0) == fixed0 && !(val & ~fixed1);
}

/*
 * MOV to CR0/CR4 that exited because it changes a masked bit: the read
 * shadow takes the new value, the real register only its unmasked bits.
 */
static int hvt_write_cr(struct hvt_vcpu *v, unsigned int cr, u64 val)
{
	bool is0 = cr == 0;
	u64 mask = is0 ? v->cr0_mask : v->cr4_mask;
	u64 cur = hvt_vmread_or0(v, is0 ? GUEST_CR0 : GUEST_CR4);
	u64 next = (cur & mask) | (val & ~mask);

	if ((is0 && (val >> 32)) ||
	    !hvt_cr_fixed_ok(next, is0 ? HVT_MSRI_VMX_CR0_FIXED0 :
				    HVT_MSRI_VMX_CR4_FIXED0,
			     is0 ? HVT_MSRI_VMX_CR0_FIXED1 :
				   HVT_MSRI_VMX_CR4_FIXED1))
		return hvt_guest_exception(v, HVT_GP_VECTOR);
	/* The resume lists what changed: the shadow, the register if it did. */
	if (val != hvt_vmread_or0(v, is0 ? CR0_READ_SHADOW : CR4_READ_SHADOW))
		hvt_set_vmcs(v, is0 ? HVTRACE_CHG_CR0_SHADOW : HVTRACE_CHG_CR4_SHADOW,
			     is0 ? CR0_READ_SHADOW : CR4_READ_SHADOW, val);
	if (next != cur)
		hvt_set_vmcs(v, is0 ? HVTRACE_CHG_CR0 : HVTRACE_CHG_CR4,
			     is0 ? GUEST_CR0 : GUEST_CR4, next);
	return hvt_skip(v);
}

static int hvt_h_cr_access(struct hvt_vcpu *v)
{
	u64 q = v->exit_qual;
	unsigned int cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
	u64 *gpr = hvt_gpr_ptr(v, reg);
	u64 shadow;

	switch (type) {
	case 0:		/* MOV to CR */
		if (cr == 0 || cr == 4)
			return hvt_write_cr(v, cr, *gpr);
		if (cr == 3) {
			/* Only a reload of the current CR3 (bit 63: no flush). */
			if ((*gpr & ~BIT_ULL(63)) != v->guest_cr3)
				return hvt_guest_exception(v, HVT_GP_VECTOR);
			return hvt_skip(v);
		}
		break;
	case 1:		/* MOV from CR */
		if (cr == 3) {
			hvt_set_gpr(v, reg, hvt_vmread_or0(v, GUEST_CR3));
			return hvt_skip(v);
		}
		break;
	case 2:		/* CLTS */
		shadow = hvt_vmread_or0(v, CR0_READ_SHADOW);
		return hvt_write_cr(v, 0, shadow & ~(u64)X86_CR0_TS);
	case 3:		/* LMSW: low four bits; it never clears PE */
		shadow = hvt_vmread_or0(v, CR0_READ_SHADOW);
		return hvt_write_cr(v, 0, (shadow & ~0xeull) |
				   ((q >> 16) & 0xf));
	}
	return hvt_stop_unhandled(v, "control-register access");
}

static int hvt_h_io(struct hvt_vcpu *v)
{
	u64 q = v->exit_qual;
	unsigned int size = (q & 7) + 1, port = (q >> 16) & 0xffff;
	bool in = q & BIT(3);
	u64 mask = size == 4 ? 0xffffffffull : (1ull << (size * 8)) - 1;
	bool echo = port >= HVT_ECHO_PORT_BASE &&
		    port < HVT_ECHO_PORT_BASE + HVT_NR_ECHO_PORTS;
	u64 rax = v->regs.gpr[HVT_R_RAX], val;

	if (q & (BIT(4) | BIT(5)))	/* INS/OUTS and REP forms */
		return hvt_stop_unhandled(v, "string or REP I/O");
	if (size != 1 && size != 2 && size != 4)
		return hvt_stop_unhandled(v, "I/O size");
	if (in) {
		val = echo ? v->echo[port - HVT_ECHO_PORT_BASE] & mask : mask;
		if (size == 4)
			hvt_set_gpr(v, HVT_R_RAX, val);
		else
			hvt_set_gpr(v, HVT_R_RAX, (rax & ~mask) | val);
	} else if (echo) {
		v->echo[port - HVT_ECHO_PORT_BASE] = rax & mask;
	}
	return hvt_skip(v);
}

static bool hvt_scratch_msr(u32 msr)
{
	return msr >= HVT_SCRATCH_MSR_BASE &&
	       msr < HVT_SCRATCH_MSR_BASE + HVT_NR_SCRATCH_MSRS;
}

static int hvt_h_rdmsr(struct hvt_vcpu *v)
{
	u32 msr = (u32)v->regs.gpr[HVT_R_RCX];
	u64 val;

	if (hvt_scratch_msr(msr))
		val = v->msr_shadow[msr - HVT_SCRATCH_MSR_BASE];
	else if (rdmsrl_safe(msr, &val))
		return hvt_guest_exception(v, HVT_GP_VECTOR);
	hvt_set_gpr(v, HVT_R_RAX, (u32)val);
	hvt_set_gpr(v, HVT_R_RDX, val >> 32);
	return hvt_skip(v);
}

static int hvt_h_wrmsr(struct hvt_vcpu *v)
{
	u32 msr = (u32)v->regs.gpr[HVT_R_RCX];
	u64 val = (v->regs.gpr[HVT_R_RDX] << 32) |
		  (u32)v->regs.gpr[HVT_R_RAX];

	/* Host MSRs are never written by the guest. */
	if (!hvt_scratch_msr(msr))
		return hvt_guest_exception(v, HVT_GP_VECTOR);
	v->msr_shadow[msr - HVT_SCRATCH_MSR_BASE] = val;
	return hvt_skip(v);
}

static int hvt_h_preemption_timer(struct hvt_vcpu *v)
{
	v->want_yield = true;
	return HVTRACE_ACT_RESUME;
}

static int hvt_h_xsetbv(struct hvt_vcpu *v)
{
	u32 idx = (u32)v->regs.gpr[HVT_R_RCX];
	u64 val = (v->regs.gpr[HVT_R_RDX] << 32) |
		  (u32)v->regs.gpr[HVT_R_RAX];

	/*
	 * XGETBV needs the host's CR4.OSXSAVE: a kernel running without
	 * XSAVE (it turns it off on CPUs whose XSAVE it distrusts) would
	 * take #UD here in VMX root.  The guest can set its own CR4.OSXSAVE
	 * whatever the host did, so without host XSAVE its XCR0 write is
	 * refused with #GP like any other change.
	 */
	if (!boot_cpu_has(X86_FEATURE_OSXSAVE) || idx != 0 ||
	    val != xgetbv(XCR_XFEATURE_ENABLED_MASK))
		return hvt_guest_exception(v, HVT_GP_VECTOR);
	return hvt_skip(v);
}

static int hvt_h_entry_failure(struct hvt_vcpu *v)
{
	atomic64_inc(&hvt_stats.entry_failures);
	pr_err("cpu %u run %llu: VM-entry failure, exit reason %#x qual %#llx\n",
	       v->cpu, v->req->run_id, v->exit_reason, v->exit_qual);
	return hvt_stop(v, -EIO);
}

static int hvt_h_unhandled(struct hvt_vcpu *v)
{
	return hvt_stop_unhandled(v, "exit reason");
}

typedef int (*hvt_exit_handler)(struct hvt_vcpu *v);

static const hvt_exit_handler hvt_exit_handlers[] = {
	[HVTRACE_EXIT_EXCEPTION_NMI]		= hvt_h_exception,
	[HVTRACE_EXIT_EXTERNAL_INTERRUPT]	= hvt_h_external_interrupt,
	[HVTRACE_EXIT_TRIPLE_FAULT]		= hvt_h_triple_fault,
	[HVTRACE_EXIT_CPUID]			= hvt_h_cpuid,
	[HVTRACE_EXIT_HLT]			= hvt_h_hlt,
	[HVTRACE_EXIT_INVD]			= hvt_h_invd,
	[HVTRACE_EXIT_RDTSC]			= hvt_h_rdtsc,
	[HVTRACE_EXIT_VMCALL]			= hvt_h_vmcall,
	[HVTRACE_EXIT_CR_ACCESS]		= hvt_h_cr_access,
	[HVTRACE_EXIT_IO_INSTRUCTION]		= hvt_h_io,
	[HVTRACE_EXIT_RDMSR]			= hvt_h_rdmsr,
	[HVTRACE_EXIT_WRMSR]			= hvt_h_wrmsr,
	[HVTRACE_EXIT_RDTSCP]			= hvt_h_rdtscp,
	[HVTRACE_EXIT_PREEMPTION_TIMER]		= hvt_h_preemption_timer,
	[HVTRACE_EXIT_XSETBV]			= hvt_h_xsetbv,
};

/* ---- the exit path ---------------------------------------------------- */

/* VM_EXIT_INTR_INFO-style error code, when the info says one is valid. */
static u64 hvt_read_error(struct hvt_vcpu *v, u32 info, unsigned long field,
			  int *bad)
{
	u64 x = 0;

	if ((info & INTR_INFO_VALID_MASK) && (info & INTR_INFO_DELIVER_CODE_MASK))
		*bad |= hvt_vmread(v, field, &x);
	return x;
}

/*
 * Reads what the handlers need into v, and the exit TSC.  Only when @traced
 * (a tracer is attached to hvtrace_exit) does it read the VMCS fields no
 * handler uses and copy the guest registers into v->exit_rec: without a
 * tracer nobody reads them, so the exit path skips those VMREADs and a
 * 400-byte copy.  v->exit_rec.seq and .tsc are always kept (seq counts every
 * exit, the TSC feeds the handler-time counters).  The exit reason and
 * interruption info are already in v (hvt_handle_exit).
 */
static int hvt_read_exit(struct hvt_vcpu *v, bool traced)
{
	struct hvtrace_exit_rec *e = &v->exit_rec;
	unsigned int def;
	u64 x[8];
	int bad = 0;

	bad |= hvt_vmread(v, EXIT_QUALIFICATION, &x[0]);
	bad |= hvt_vmread(v, VM_EXIT_INSTRUCTION_LEN, &x[1]);
	bad |= hvt_vmread(v, GUEST_RIP, &x[2]);
	bad |= hvt_vmread(v, GUEST_RSP, &x[3]);
	bad |= hvt_vmread(v, GUEST_RFLAGS, &x[4]);
	bad |= hvt_vmread(v, GUEST_INTERRUPTIBILITY_INFO, &x[5]);
	bad |= hvt_vmread(v, IDT_VECTORING_INFO_FIELD, &x[6]);

	v->exit_qual = x[0];
	v->insn_len = x[1];
	v->rip = x[2];
	v->regs.gpr[HVT_R_RSP] = x[3];
	v->rflags = x[4];
	v->interruptibility = x[5];
	v->idt_info = x[6];
	e->seq = ++v->seq;

	if (traced) {
		def = hvt_exit_defined_fields(v->exit_reason, v->exit_qual,
					      v->intr_info, v->idt_info,
					      v->ctl_proc2 & SECONDARY_EXEC_ENABLE_EPT);
		e->vcpu = v->cpu;
		e->vm = 0;
		e->exit_reason = v->exit_reason;
		e->exit_qual = v->exit_qual;
		e->insn_len = (def & HVT_DEF_INSN_LEN) ? v->insn_len : 0;
		e->insn_info = 0;
		if (def & HVT_DEF_INSN_INFO) {
			bad |= hvt_vmread(v, VMX_INSTRUCTION_INFO, &x[7]);
			e->insn_info = x[7];
		}
		e->guest_linear = 0;
		if (def & HVT_DEF_LINEAR)
			bad |= hvt_vmread(v, GUEST_LINEAR_ADDRESS, &e->guest_linear);
		e->guest_phys = 0;
		if (def & HVT_DEF_PHYS)
			bad |= hvt_vmread(v, GUEST_PHYSICAL_ADDRESS, &e->guest_phys);
		e->intr_info = v->intr_info;
		e->intr_error = hvt_read_error(v, v->intr_info,
					       VM_EXIT_INTR_ERROR_CODE, &bad);
		e->idt_info = v->idt_info;
		e->idt_error = hvt_read_error(v, v->idt_info,
					      IDT_VECTORING_ERROR_CODE, &bad);
		e->rip = v->rip;
		e->rsp = x[3];
		e->rflags = v->rflags;
		bad |= hvt_vmread(v, GUEST_CR0, &e->cr0);
		bad |= hvt_vmread(v, GUEST_CR3, &e->cr3);
		bad |= hvt_vmread(v, GUEST_CR4, &e->cr4);
		/* What the guest reads: the shadow for bits the host owns. */
		e->cr0_shadow = hvt_guest_cr_view(e->cr0, v->cr0_mask,
				hvt_vmread_or0(v, CR0_READ_SHADOW));
		e->cr4_shadow = hvt_guest_cr_view(e->cr4, v->cr4_mask,
				hvt_vmread_or0(v, CR4_READ_SHADOW));
		e->interruptibility = v->interruptibility;
		/* Who: the run's kthread ("hvtrace/N"); the workload's CPL. */
		e->pid = current->tgid;
		e->tid = current->pid;
		memcpy(e->comm, current->comm, sizeof(e->comm));
		e->cpl = (hvt_vmread_or0(v, GUEST_SS_AR_BYTES) >> 5) & 3;
		memcpy(e->gpr, v->regs.gpr, sizeof(e->gpr));
		memcpy(e->xmm, v->regs.xmm, sizeof(e->xmm));
		e->mxcsr = v->regs.mxcsr;
	}
	e->tsc = rdtsc_ordered();
	return bad;
}

/* The value of change bit @bit in the state the guest resumes with. */
static u64 hvt_changed_value(struct hvt_vcpu *v, unsigned int bit)
{
	if (bit < HVTRACE_CHG_RIP)
		return v->regs.gpr[bit];
	if (bit == HVTRACE_CHG_RIP)
		return v->rip;
	if (bit == HVTRACE_CHG_RFLAGS)
		return v->rflags;
	if (bit < HVTRACE_CHG_MXCSR)
		return v->regs.xmm[bit - HVTRACE_CHG_XMM_LO(0)];
	if (bit == HVTRACE_CHG_MXCSR)
		return v->regs.mxcsr;
	return v->chg_val[bit - HVTRACE_CHG_CR0];
}

/*
 * Emits hvtrace_resume and counts the handler time.  The values of the
 * changed registers are gathered only for a tracer, one per set bit of the
 * mask (a handler changes a few of the 51), not by testing every bit.
 */
static void hvt_emit_resume(struct hvt_vcpu *v)
{
	struct hvtrace_resume_rec *r = &v->resume_rec;
	u64 m = v->changed;
	unsigned int n = 0;

	if (trace_hvtrace_resume_enabled()) {
		r->vcpu = v->cpu;
		r->seq = v->seq;
		r->action = v->action;
		r->changed = m;
		r->vm = 0;
		r->inject_info = v->inject_info;
		r->inject_error = v->inject_error;
		for (; m; m &= m - 1)
			r->values[n++] = hvt_changed_value(v, __ffs64(m));
		r->values_len = n;
		r->tsc = rdtsc_ordered();
		trace_hvtrace_resume(r);
	} else {
		r->tsc = rdtsc_ordered();
	}
	/* Counted with or without a tracer: the cost of tracing shows. */
	this_cpu_add(hvt_pcpu_stats.handler_tsc_total, r->tsc - v->exit_rec.tsc);
	this_cpu_inc(hvt_pcpu_stats.handler_exits);
}

/*
 * Leaves the FPU/irq-off region (hvt_yield) and counts the time it took:
 * it is part of the handler time, but it is the host's (interrupts, the
 * scheduler, a trace consumer draining its buffers), not the exit's.
 */
static void hvt_yield_counted(struct hvt_vcpu *v)
{
	u64 t0 = rdtsc();

	hvt_yield(v);
	this_cpu_add(hvt_pcpu_stats.yield_tsc_total, v->slice_start - t0);
	this_cpu_inc(hvt_pcpu_stats.yields);
}

/*
 * A machine check belongs to the host: one raised in the guest (#MC
 * exception exit) or during VM entry (exit reason 41) is handed to the
 * kernel's handler as KVM does (kvm_machine_check), or MCG_STATUS.MCIP
 * stays set and the next #MC shuts the CPU down.  The selftest build's
 * injection only counts it (a real #MC cannot be raised on purpose).
 */
static void hvt_forward_mce(struct hvt_vcpu *v)
{
	atomic64_inc(&hvt_stats.mce_forwarded);
	if (v->req->fault == HVT_FAULT_MCE)
		return;
#if IS_ENABLED(CONFIG_X86_MCE)
	asm volatile("int $0x12");
#endif
}

static bool hvt_is_mce(struct hvt_vcpu *v, u32 basic)
{
	u32 info = v->intr_info;

	if (basic == HVTRACE_EXIT_ENTRY_FAIL_MACHINE_CHECK)
		return true;
	if (basic != HVTRACE_EXIT_EXCEPTION_NMI || !(info & INTR_INFO_VALID_MASK))
		return false;
	if (v->req->fault == HVT_FAULT_MCE &&
	    (info & INTR_INFO_VECTOR_MASK) == X86_TRAP_UD)
		return true;	/* injected: the selftest guest's UD2 */
	return (info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_HARD_EXCEPTION &&
	       (info & INTR_INFO_VECTOR_MASK) == X86_TRAP_MC;
}

/*
 * An event whose delivery the exit interrupted (IDT-vectoring information
 * valid, SDM 28.2.4) is re-injected with the entry, unless the handler
 * injects one itself.  Bit 12 (NMI unblocking) and the reserved bits are
 * not part of the VM-entry interruption-information format.
 */
static void hvt_reinject(struct hvt_vcpu *v)
{
	u32 info = v->idt_info;
	u32 err = 0;

	if (!(info & VECTORING_INFO_VALID_MASK))
		return;
	info &= VECTORING_INFO_VALID_MASK | VECTORING_INFO_DELIVER_CODE_MASK |
		VECTORING_INFO_TYPE_MASK | VECTORING_INFO_VECTOR_MASK;
	hvt_vmwrite(v, VM_ENTRY_INTR_INFO_FIELD, info);
	if (info & VECTORING_INFO_DELIVER_CODE_MASK) {
		err = (u32)hvt_vmread_or0(v, IDT_VECTORING_ERROR_CODE);
		hvt_vmwrite(v, VM_ENTRY_EXCEPTION_ERROR_CODE, err);
	}
	if (hvt_soft_event(info))
		hvt_vmwrite(v, VM_ENTRY_INSTRUCTION_LEN, v->insn_len);
	v->inject_info = info;
	v->inject_error = err;
	v->action = HVTRACE_ACT_INJECT;
}

/**
 * hvt_handle_exit - C side of the VM-exit stub (asm/vmexit.S)
 * @regs: the guest registers the stub saved; changes are restored on entry
 *
 * Runs with interrupts disabled inside the run's kernel_fpu_begin() region.
 * Returns 0 to resume the guest, non-zero to stop the run.
 */
int hvt_handle_exit(struct hvt_regs *regs)
{
	struct hvt_vcpu *v = container_of(regs, struct hvt_vcpu, regs);
	hvt_exit_handler handler = hvt_h_unhandled;
	bool traced = trace_hvtrace_exit_enabled();
	u64 reason = 0, info = 0;
	u32 basic;
	int bad;

	/* The host first: what the exit clobbered, then NMIs and #MC. */
	hvt_host_restore(v);
	if (hvt_host_check > 1)
		hvt_host_check_exit(v);
	bad = hvt_vmread(v, VM_EXIT_REASON, &reason);
	bad |= hvt_vmread(v, VM_EXIT_INTR_INFO, &info);
	v->exit_reason = reason;
	v->intr_info = info;
	basic = v->exit_reason & HVTRACE_EXIT_REASON_BASIC_MASK;
	if (bad || (basic == HVTRACE_EXIT_EXCEPTION_NMI &&
		    (info & INTR_INFO_VALID_MASK) &&
		    (info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)) {
		/*
		 * A host NMI (perf, a backtrace request) caused the exit, or
		 * the exit cannot be read and might have been one: the host's
		 * handler runs now, before anything else; a spurious NMI is
		 * harmless, a lost one is not.
		 */
		asm volatile("int $2");
	}
	if (!bad && hvt_is_mce(v, basic))
		hvt_forward_mce(v);

	v->changed = 0;
	v->want_yield = false;
	v->inject_info = 0;
	v->inject_error = 0;
	if (bad || hvt_read_exit(v, traced)) {
		v->action = hvt_stop(v, -EIO);
		goto out;
	}
	v->exits++;
	v->end_reason = v->exit_reason;
	this_cpu_inc(hvt_pcpu_stats.exits);
	if (basic < HVTRACE_NR_REASONS)
		this_cpu_inc(hvt_pcpu_stats.by_reason[basic]);

	if (traced) {
		trace_hvtrace_exit(&v->exit_rec);
	} else {
		v->dropped++;
		this_cpu_inc(hvt_pcpu_stats.dropped);
	}

	if (v->exit_reason & HVTRACE_EXIT_REASON_ENTRY_FAIL)
		handler = hvt_h_entry_failure;
	else if (basic < ARRAY_SIZE(hvt_exit_handlers) &&
		 hvt_exit_handlers[basic])
		handler = hvt_exit_handlers[basic];
	v->action = handler(v);

	if (v->action == HVTRACE_ACT_RESUME) {
		if (v->changed & BIT_ULL(HVTRACE_CHG_RIP))
			hvt_vmwrite(v, GUEST_RIP, v->rip);
		if (v->changed & BIT_ULL(HVTRACE_CHG_RFLAGS))
			hvt_vmwrite(v, GUEST_RFLAGS, v->rflags);
		if (v->changed & BIT_ULL(HVTRACE_CHG_GPR(HVT_R_RSP)))
			hvt_vmwrite(v, GUEST_RSP, v->regs.gpr[HVT_R_RSP]);
		hvt_reinject(v);
		if (READ_ONCE(v->req->abort))
			v->action = hvt_stop(v, -EINTR);
		else if (v->want_yield || need_resched() ||
			 rdtsc() - v->slice_start > v->slice_tsc)
			hvt_yield_counted(v);
		if (v->vmx_failed)
			v->action = hvt_stop(v, -EIO);
	}
out:
	hvt_emit_resume(v);
	if (v->action != HVTRACE_ACT_STOP)
		hvt_host_prepare_entry(v);
	return v->action == HVTRACE_ACT_STOP;
}
