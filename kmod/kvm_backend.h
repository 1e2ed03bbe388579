/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KVM capture backend (kvm_backend.c): probes on kvm.ko's kvm_exit and
 * kvm_entry tracepoints that emit hvtrace_exit/hvtrace_resume for the vCPUs
 * of the VMs kvm_intel runs.  Attached through /dev/hvtrace (control.c);
 * an attachment belongs to the file that made it and ends with it.
 */
#ifndef HVT_KVM_BACKEND_H
#define HVT_KVM_BACKEND_H

#include <linux/fs.h>
#include "uapi/hvtrace.h"

int hvt_kvm_attach(struct file *owner, struct hvtrace_kvm_attach *req);
int hvt_kvm_detach(struct file *owner, struct hvtrace_kvm_stats *st);
int hvt_kvm_stats(struct hvtrace_kvm_stats *st);
/* The control device's file is being released: detach if it attached. */
void hvt_kvm_release(struct file *owner);

#endif /* HVT_KVM_BACKEND_H */
