/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Thin wrappers around the VMX instructions.  Each returns one of the
 * HVT_VMX_* outcomes below so that no failure can go unseen: VMfailInvalid
 * (CF=1), VMfailValid (ZF=1; the reason is in the VM-instruction error field
 * of the current VMCS) or a fault (#UD/#GP, caught by the exception table).
 */
#ifndef HVT_VMX_OPS_H
#define HVT_VMX_OPS_H

#include <linux/types.h>
#include <asm/asm.h>

#define HVT_VMX_OK		0
#define HVT_VMX_FAIL_INVALID	1
#define HVT_VMX_FAIL_VALID	2
#define HVT_VMX_FAULT		3

static inline const char *hvt_vmx_outcome(int r)
{
	switch (r) {
	case HVT_VMX_OK:
		return "ok";
	case HVT_VMX_FAIL_INVALID:
		return "VMfailInvalid";
	case HVT_VMX_FAIL_VALID:
		return "VMfailValid";
	default:
		return "fault";
	}
}

/* VMXON, VMCLEAR and VMPTRLD take a 64-bit physical address in memory. */
#define HVT_VMX_OP_PA(insn, pa)						\
	({								\
		int __r = HVT_VMX_OK;					\
		asm goto("1: " insn " %0\n\t"				\
			 "jc %l[fail_invalid]\n\t"			\
			 "jz %l[fail_valid]\n\t"			\
			 _ASM_EXTABLE(1b, %l[fault])			\
			 : : "m" (pa) : "cc", "memory"			\
			 : fail_invalid, fail_valid, fault);		\
		goto done;						\
fail_invalid:								\
		__r = HVT_VMX_FAIL_INVALID;				\
		goto done;						\
fail_valid:								\
		__r = HVT_VMX_FAIL_VALID;				\
		goto done;						\
fault:									\
		__r = HVT_VMX_FAULT;					\
done:									\
		__r;							\
	})

static inline int hvt_vmxon(u64 pa)
{
	return HVT_VMX_OP_PA("vmxon", pa);
}

static inline int hvt_vmclear(u64 pa)
{
	return HVT_VMX_OP_PA("vmclear", pa);
}

static inline int hvt_vmptrld(u64 pa)
{
	return HVT_VMX_OP_PA("vmptrld", pa);
}

static inline int hvt_vmxoff(void)
{
	asm goto("1: vmxoff\n\t"
		 "jc %l[fail_invalid]\n\t"
		 "jz %l[fail_valid]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : : "cc", "memory" : fail_invalid, fail_valid, fault);
	return HVT_VMX_OK;
fail_invalid:
	return HVT_VMX_FAIL_INVALID;
fail_valid:
	return HVT_VMX_FAIL_VALID;
fault:
	return HVT_VMX_FAULT;
}

static inline int __hvt_vmwrite(unsigned long field, unsigned long val)
{
	asm goto("1: vmwrite %1, %0\n\t"
		 "jc %l[fail_invalid]\n\t"
		 "jz %l[fail_valid]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : "r" (field), "rm" (val) : "cc", "memory"
		 : fail_invalid, fail_valid, fault);
	return HVT_VMX_OK;
fail_invalid:
	return HVT_VMX_FAIL_INVALID;
fail_valid:
	return HVT_VMX_FAIL_VALID;
fault:
	return HVT_VMX_FAULT;
}

/*
 * VMREAD: asm goto with an output (GCC >= 11, as the kernel's vmread does),
 * volatile: GCC bug 113921 treats an asm goto with outputs as non-volatile
 * and may merge two reads of one field across a VMCS change (the KVM
 * backend saw two GUEST_RIP reads merged).
 */
static inline int __hvt_vmread(unsigned long field, unsigned long *val)
{
	unsigned long v;

	asm volatile goto("1: vmread %[f], %[v]\n\t"
		 "jc %l[fail_invalid]\n\t"
		 "jz %l[fail_valid]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : [v] "=r" (v) : [f] "r" (field) : "cc"
		 : fail_invalid, fail_valid, fault);
	*val = v;
	return HVT_VMX_OK;
fail_invalid:
	*val = 0;
	return HVT_VMX_FAIL_INVALID;
fail_valid:
	*val = 0;
	return HVT_VMX_FAIL_VALID;
fault:
	*val = 0;
	return HVT_VMX_FAULT;
}

#endif /* HVT_VMX_OPS_H */
