/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the sandbox guest sees of the hypervisor: the hypercall ABI and the
 * fixed addresses of the sandbox device model.  Plain C (no kernel headers):
 * the module, the plan generator and the userland checker all include it.
 *
 * hvtrace hypercall ABI (guest -> hypervisor, VMCALL).
 *
 * RAX = number; arguments in RBX, RCX, RDX.  On return RAX = 0 or -errno
 * (the hypervisor writes RAX and advances RIP past VMCALL).  Every argument
 * is validated: an unknown number returns -ENOSYS; a bad argument -EINVAL;
 * neither stops the run.
 */
#ifndef HVT_HYPERCALL_H
#define HVT_HYPERCALL_H

#define HVT_HC_END	0x48560000	/* end of run; RBX = status (0 = ok) */
#define HVT_HC_MARKER	0x48560001	/* RBX = marker value, traced */
#define HVT_HC_LOG	0x48560002	/* RBX = guest pointer, RCX = length
					 * (<= 256): printed to dmesg */

/* Scratch MSR file of the sandbox device model (per run, initially 0). */
#define HVT_SCRATCH_MSR_BASE	0x40000100u
#define HVT_NR_SCRATCH_MSRS	16
/* Echo device of the sandbox device model: IN returns the last OUT. */
#define HVT_ECHO_PORT_BASE	0xe000u
#define HVT_NR_ECHO_PORTS	16
/* RDTSC/RDTSCP return HVT_VTSC_STEP * n for the n-th such exit of a run. */
#define HVT_VTSC_STEP		0x100000ull

#endif /* HVT_HYPERCALL_H */
