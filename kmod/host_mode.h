/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host mode (host_mode.c, asm/host_vmexit.S): the running Linux as a guest
 * on chosen CPUs.  Entry points for main.c and control.c.
 */
#ifndef HVT_HOST_MODE_H
#define HVT_HOST_MODE_H

#include <linux/types.h>
#include "uapi/hvtrace.h"

struct file;

int hvt_host_init(void);
void hvt_host_exit(void);
int hvt_host_on(struct file *owner, struct hvtrace_host_on *on);
int hvt_host_off(struct file *owner, struct hvtrace_host_stats *st);
int hvt_host_stats(struct hvtrace_host_stats *st);
void hvt_host_release(struct file *file);
void hvt_host_reboot_selftest(void);

#endif /* HVT_HOST_MODE_H */
