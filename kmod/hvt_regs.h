/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layout of struct hvt_regs, shared by C and asm/vmexit.S.
 *
 * The exit stub saves the guest's registers at these byte offsets from the
 * struct hvt_regs pointer; kmod/hvt.h static_asserts each one against
 * offsetof() so the two can never drift apart.
 */
#ifndef HVT_REGS_H
#define HVT_REGS_H

/* GPR slots in SDM order (the order of hvtrace_exit.gpr[]). */
#define HVT_R_RAX	0
#define HVT_R_RCX	1
#define HVT_R_RDX	2
#define HVT_R_RBX	3
#define HVT_R_RSP	4	/* not saved by the stub: lives in the VMCS */
#define HVT_R_RBP	5
#define HVT_R_RSI	6
#define HVT_R_RDI	7
#define HVT_R_R8	8
#define HVT_R_R9	9
#define HVT_R_R10	10
#define HVT_R_R11	11
#define HVT_R_R12	12
#define HVT_R_R13	13
#define HVT_R_R14	14
#define HVT_R_R15	15
#define HVT_NR_GPRS	16

#define HVT_REGS_GPR(i)		((i) * 8)		/* u64 gpr[16] */
#define HVT_REGS_XMM(i)		(128 + (i) * 16)	/* u64 xmm[32], lo,hi */
#define HVT_REGS_MXCSR		384			/* u32 */
#define HVT_REGS_LAUNCHED	388			/* u32: 0 = VMLAUNCH */
#define HVT_REGS_SIZE		392

/* hvt_vmx_run() return values (see asm/vmexit.S). */
#define HVT_RUN_STOPPED		0	/* the exit handler asked to stop */
#define HVT_RUN_FAIL_INVALID	1	/* VMLAUNCH/VMRESUME: VMfailInvalid */
#define HVT_RUN_FAIL_VALID	2	/* VMLAUNCH/VMRESUME: VMfailValid */
#define HVT_RUN_FAIL_HOST_RSP	3	/* VMWRITE of HOST_RSP failed */

#endif /* HVT_REGS_H */
