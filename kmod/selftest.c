// SPDX-License-Identifier: GPL-2.0
/*
 * Built-in self-test guests of the hypervisor core ("selftest-*"), usable
 * with or without the workload library, plus weak stand-ins for the
 * workload table and guest exception table (workloads/, asm/guest_ops.S)
 * so the core links and runs on its own.  The library's definitions
 * replace the weak ones whenever they are linked in.
 *
 * Guest code runs in VMX non-root mode: notrace, no calls into the host.
 */
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/objtool.h>
#include <linux/string.h>
#include <asm/desc.h>

#include "hvt.h"

/*
 * Written by the selftest-cpuid guest on every iteration: module data a
 * host breakpoint can watch (kmod/tests/hoststate.c), which must never
 * fire while the guest runs.
 */
static u64 hvt_st_cpuid_done __used;

/* CPUID leaf 0, args->iterations times: 1 exit each, then HVT_HC_END. */
static notrace __kprobes void hvt_st_cpuid(const struct hvt_wl_args *args)
{
	u64 i;

	for (i = 0; i < args->iterations; i++) {
		u32 a = 0, b, c = 0, d;

		asm volatile("cpuid" : "+a" (a), "=b" (b), "+c" (c), "=d" (d));
		WRITE_ONCE(hvt_st_cpuid_done, READ_ONCE(hvt_st_cpuid_done) + 1);
	}
}

/*
 * One of each handled exit: CPUID, WRMSR/RDMSR of a scratch MSR, OUT/IN
 * on the echo device, HLT, RDTSC, RDTSCP, MOV from CR3, VMCALL marker,
 * XMM1 and MXCSR changed in between (they show in the next exit).
 */
static notrace __kprobes void hvt_st_mix(const struct hvt_wl_args *args)
{
	u64 i, v = 0x1122334455667788ull;

	for (i = 0; i < args->iterations; i++) {
		u32 a = 1, b, c = 0, d, mx = 0x1f80 | 0x6000;
		unsigned long cr3;

		asm volatile("cpuid" : "+a" (a), "=b" (b), "+c" (c), "=d" (d));
		asm volatile("wrmsr" : : "c" (0x40000100), "a" ((u32)v),
			     "d" ((u32)(v >> 32)));
		asm volatile("rdmsr" : "=a" (a), "=d" (d) : "c" (0x40000100));
		asm volatile("outl %0, %w1" : : "a" (0xcafe0000u + (u32)i),
			     "Nd" (0xe000));
		asm volatile("inl %w1, %0" : "=a" (a) : "Nd" (0xe000));
		asm volatile("movq %0, %%xmm1\n\tldmxcsr %1"
			     : : "r" (v + i), "m" (mx));
		asm volatile("hlt");
		asm volatile("rdtsc" : "=a" (a), "=d" (d));
		asm volatile("rdtscp" : "=a" (a), "=d" (d), "=c" (c));
		asm volatile("mov %%cr3, %0" : "=r" (cr3));
		a = HVT_HC_MARKER;
		asm volatile("vmcall" : "+a" (a) : "b" (i) : "memory");
	}
}

/* No exits of its own: only preemption-timer and interrupt exits. */
static notrace __kprobes void hvt_st_spin(const struct hvt_wl_args *args)
{
	u64 i, n = args->iterations * 1000000;

	for (i = 0; i < n; i++)
		asm volatile("" : : : "memory");
}

/*
 * An empty IDT, then a load from a non-canonical address:
 * #GP -> #GP (no IDT entry) -> #DF -> triple fault.
 */
static notrace __kprobes void hvt_st_triple_fault(const struct hvt_wl_args *args)
{
	struct desc_ptr empty = { .size = 0, .address = 0 };
	u64 bad = 0x8000000000000000ull, x;

	asm volatile("lidt %1\n\tmov (%2), %0"
		     : "=r" (x) : "m" (empty), "r" (bad) : "memory");
}

/* MONITOR exits (MONITOR exiting is on) and has no handler. */
static notrace __kprobes void hvt_st_unhandled(const struct hvt_wl_args *args)
{
	asm volatile("monitor" : : "a" (args), "c" (0), "d" (0));
}

/*
 * The guest's own CR4.OSXSAVE, then XSETBV of XCR0 = x87 only: the handler
 * must not execute XGETBV when the host runs without XSAVE (#UD in VMX
 * root); the write is refused (#GP, no fixup: run error -EFAULT).
 */
static notrace __kprobes void hvt_st_xsetbv(const struct hvt_wl_args *args)
{
	unsigned long cr4;

	asm volatile("mov %%cr4, %0" : "=r" (cr4));
	cr4 |= X86_CR4_OSXSAVE;
	asm volatile("mov %0, %%cr4" : : "r" (cr4));
	asm volatile("xsetbv" : : "a" (1), "d" (0), "c" (0));
}

/*
 * RFLAGS.TF set by POPF, then CPUID: the single-step trap owed for CPUID
 * (emulated by the handler) must come right after it, at
 * hvt_st_tf_after_cpuid, not one instruction later.  The #DB exit has no
 * fixup: run error -EFAULT, logged with its RIP.
 */
static notrace __kprobes void hvt_st_tf(const struct hvt_wl_args *args)
{
	u32 a = 0, b, c = 0, d;

	asm volatile("pushfq\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popfq\n\t"
		     "cpuid\n"
		     ".globl hvt_st_tf_after_cpuid\n"
		     "hvt_st_tf_after_cpuid:\n\t"
		     "nop\n\t"
		     "nop\n\t"
		     "pushfq\n\t"
		     "andq $~0x100, (%%rsp)\n\t"
		     "popfq"
		     : "+a" (a), "=b" (b), "+c" (c), "=d" (d) : : "memory");
}

/* UD2 once (taken for a machine check by the injection), then CPUIDs. */
static notrace __kprobes void hvt_st_mce(const struct hvt_wl_args *args)
{
	/* The hypervisor resumes after the UD2: tell objtool so. */
	asm volatile("ud2\n\t" ASM_REACHABLE);
	hvt_st_cpuid(args);
}

struct hvt_selftest {
	struct hvt_workload wl;
	u32 exc_bitmap;
	enum hvt_vmcs_fault fault;
};

static const struct hvt_selftest hvt_selftests[] = {
	{ { "selftest-cpuid", "CPUID leaf 0 x iterations; 1 CPUID exit each",
	    0, NULL, NULL, hvt_st_cpuid }, ~0u },
	{ { "selftest-mix", "one exit of each handled kind per iteration",
	    HVTRACE_TRAP_RDTSC | HVTRACE_TRAP_CR3, NULL, NULL, hvt_st_mix },
	  ~0u },
	{ { "selftest-spin", "busy loop of iterations x 1e6 steps; only asynchronous exits",
	    0, NULL, NULL, hvt_st_spin }, ~0u },
	{ { "selftest-triple-fault", "empty IDT then UD2: triple fault, run error -EFAULT",
	    0, NULL, NULL, hvt_st_triple_fault }, 0 },
	{ { "selftest-unhandled", "MONITOR: unhandled exit, run error -EFAULT",
	    0, NULL, NULL, hvt_st_unhandled }, ~0u },
	{ { "selftest-entry-fail", "invalid guest RFLAGS: VM-entry failure exit, run error -EIO",
	    0, NULL, NULL, hvt_st_cpuid }, ~0u, HVT_FAULT_GUEST_STATE },
	{ { "selftest-vmfail", "invalid control: VMLAUNCH VMfailValid (error 7), run error -EIO",
	    0, NULL, NULL, hvt_st_cpuid }, ~0u, HVT_FAULT_CONTROL },
	{ { "selftest-xsetbv", "guest CR4.OSXSAVE then XSETBV: refused with #GP, run error -EFAULT",
	    0, NULL, NULL, hvt_st_xsetbv }, ~0u },
	{ { "selftest-tf", "TF then CPUID: #DB right after the emulated CPUID, run error -EFAULT",
	    0, NULL, NULL, hvt_st_tf }, ~0u },
	{ { "selftest-mce", "injected machine check (the guest's UD2) forwarded, guest resumes",
	    0, NULL, NULL, hvt_st_mce }, ~0u, HVT_FAULT_MCE },
	{ { "selftest-vmxoff-fail", "injected VMXOFF failure: run error -EIO, CR4.VMXE kept, next run refused",
	    0, NULL, NULL, hvt_st_cpuid }, ~0u, HVT_FAULT_VMXOFF },
};

const struct hvt_workload *hvt_selftest_find(const char *name, u32 *exc,
					     enum hvt_vmcs_fault *fault)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hvt_selftests); i++) {
		if (!strcmp(name, hvt_selftests[i].wl.name)) {
			*exc = hvt_selftests[i].exc_bitmap;
			*fault = hvt_selftests[i].fault;
			return &hvt_selftests[i].wl;
		}
	}
	return NULL;
}

const struct hvt_workload *hvt_selftest_get(unsigned int index)
{
	return index < ARRAY_SIZE(hvt_selftests) ? &hvt_selftests[index].wl :
						   NULL;
}

/* Weak stand-ins, replaced by workloads/table.c and asm/guest_ops.S. */
const struct hvt_workload * __weak hvt_workload_find(const char *name)
{
	return NULL;
}

const struct hvt_workload * __weak hvt_workload_get(unsigned int index)
{
	return NULL;
}

unsigned long __weak hvt_guest_fixup(unsigned long rip)
{
	return 0;
}
