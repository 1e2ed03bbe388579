/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvtrace hist on plain LTTng kvm traces (kvm_events.h): the table perf kvm
 * stat report prints (count, %, exit-to-entry time per exit reason, per
 * vCPU), from kvm_x86_exit / kvm_x86_entry events recorded without
 * hvtrace.ko.  hist.c hands over when the traces hold only such events.
 */
#ifndef HVT_KVM_HIST_H
#define HVT_KVM_HIST_H

#include <stddef.h>

#include "verbs/hist_cmd.h"

/* 1 when the traces hold plain kvm events and no hvtrace events. */
int hvt_kvm_hist_applies(const char *const *paths, size_t npaths);

/* Run hist on such traces; returns the exit status. */
int hvt_kvm_hist(const struct hvt_hist_opts *o);

#endif /* HVT_KVM_HIST_H */
