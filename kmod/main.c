// SPDX-License-Identifier: GPL-2.0
/*
 * hvtrace: a small Intel VMX hypervisor that traces every VM exit of a
 * sandbox guest (the workloads) into kernel tracepoints.
 *
 * Module load checks the CPUs (VMX present, enabled by firmware, not in
 * use) and registers /dev/hvtrace; VMX operation happens only while a run
 * requested through that device is in progress (sandbox.c).
 */
#define pr_fmt(fmt) "hvtrace: " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/vmalloc.h>
#include <linux/gfp.h>
#include <linux/mm.h>

#include "hvt.h"
#include "host_mode.h"

struct hvt_stats hvt_stats;
DEFINE_PER_CPU(struct hvt_pcpu_stats, hvt_pcpu_stats);

unsigned int hvt_slice_us = 2000;
module_param_named(slice_us, hvt_slice_us, uint, 0644);
MODULE_PARM_DESC(slice_us,
		 "longest stretch (microseconds, 50..1000000) a run keeps interrupts and preemption off before yielding (default 2000)");

static atomic_long_t hvt_allocs = ATOMIC_LONG_INIT(0);

static int hvt_allocs_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&hvt_allocs));
}

static const struct kernel_param_ops hvt_allocs_ops = {
	.get = hvt_allocs_get,
};
module_param_cb(allocations, &hvt_allocs_ops, NULL, 0444);
MODULE_PARM_DESC(allocations, "page allocations the module currently owns (read-only)");

/*
 * Writing 1 runs the reboot notifier's teardown as a reboot would (the
 * test bed cannot reboot with a run in progress and go on testing).
 */
static int hvt_selftest_reboot_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int err = kstrtobool(val, &on);

	if (err)
		return err;
	if (on) {
		hvt_vmx_reboot_selftest();
		hvt_host_reboot_selftest();
	}
	return 0;
}

static const struct kernel_param_ops hvt_selftest_reboot_ops = {
	.set = hvt_selftest_reboot_set,
};
module_param_cb(selftest_reboot, &hvt_selftest_reboot_ops, NULL, 0200);
MODULE_PARM_DESC(selftest_reboot, "write 1: end every run and host session as a reboot would (test)");

long hvt_allocs_outstanding(void)
{
	return atomic_long_read(&hvt_allocs);
}

void *hvt_alloc_pages(unsigned int order)
{
	void *p = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO, order);

	if (p)
		atomic_long_inc(&hvt_allocs);
	return p;
}

/*
 * Virtually mapped: vmalloc areas are separated by unmapped guard pages,
 * so an overflow of the guest stack faults (an exit) instead of writing
 * over a neighbour.
 */
void *hvt_vzalloc(unsigned long size)
{
	void *p = vzalloc(size);

	if (p)
		atomic_long_inc(&hvt_allocs);
	return p;
}

void hvt_vfree(void *p)
{
	if (!p)
		return;
	vfree(p);
	atomic_long_dec(&hvt_allocs);
}

void hvt_free_pages(void *p, unsigned int order)
{
	if (!p)
		return;
	free_pages((unsigned long)p, order);
	atomic_long_dec(&hvt_allocs);
}

void *hvt_alloc_page(void)
{
	return hvt_alloc_pages(0);
}

void hvt_free_page(void *p)
{
	hvt_free_pages(p, 0);
}

static int __init hvt_init(void)
{
	int err;

	err = hvt_vmx_init();
	if (err)
		goto fail;
	err = hvt_vmx_hotplug_init();
	if (err)
		goto fail_vmx;
	err = hvt_host_init();
	if (err)
		goto fail_hotplug;
	err = hvt_control_init();
	if (err)
		goto fail_host;
	pr_info("loaded, version %s, schema %d, /dev/hvtrace ready\n",
		HVT_MODULE_VERSION, HVTRACE_SCHEMA_VERSION);
	return 0;

fail_host:
	hvt_host_exit();
fail_hotplug:
	hvt_vmx_hotplug_exit();
fail_vmx:
	hvt_vmx_free_all();
fail:
	return err;
}

static void __exit hvt_exit(void)
{
	hvt_control_exit();
	/* Host mode: every CPU given back before anything is freed. */
	hvt_host_exit();
	hvt_vmx_hotplug_exit();
	hvt_vmx_free_all();
	pr_info("unloaded, %ld allocations outstanding\n",
		hvt_allocs_outstanding());
}

module_init(hvt_init);
module_exit(hvt_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvtrace: VMX hypervisor tracing every VM exit of a sandbox guest");
MODULE_VERSION(HVT_MODULE_VERSION);
