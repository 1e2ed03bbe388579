/* SPDX-License-Identifier: GPL-2.0 */
/*
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

#endif /* HVT_HYPERCALL_H */
