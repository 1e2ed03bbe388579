// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/hvtrace: the control device (ABI in uapi/hvtrace.h).  Root only
 * (CAP_SYS_ADMIN); every argument is validated, every refusal has an errno
 * and a log line.
 */
#define pr_fmt(fmt) "hvtrace: " fmt

#include <linux/version.h>
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/string.h>
#include <linux/compat.h>
#include <linux/slab.h>

#include "hvt.h"
#include "kvm_backend.h"
#include "host_mode.h"

#define HVT_TRAP_ALL	(HVTRACE_TRAP_HLT | HVTRACE_TRAP_RDTSC |	\
			 HVTRACE_TRAP_CR3 | HVTRACE_TRAP_CR0_CR4 |	\
			 HVTRACE_TRAP_MSR | HVTRACE_TRAP_IO |		\
			 HVTRACE_TRAP_EXC | HVTRACE_TRAP_INVLPG |	\
			 HVTRACE_TRAP_PAUSE)

#define hvt_reject(err, fmt, ...)					\
	({								\
		pr_info_ratelimited("ioctl rejected (%d): " fmt "\n",	\
				    err, ##__VA_ARGS__);		\
		err;							\
	})

/* Reads the size/version header every ioctl struct starts with. */
static int hvt_check_header(const void __user *argp, u32 want_size)
{
	u32 hdr[2];

	if (copy_from_user(hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr[0] != want_size)
		return hvt_reject(-EINVAL, "struct size %u, expected %u",
				  hdr[0], want_size);
	if (hdr[1] != HVTRACE_ABI_VERSION)
		return hvt_reject(-EINVAL, "ABI version %u, expected %u",
				  hdr[1], HVTRACE_ABI_VERSION);
	return 0;
}

static const struct hvt_workload *hvt_lookup(const char *name, u32 *exc,
					     enum hvt_vmcs_fault *fault)
{
	const struct hvt_workload *wl;

	*exc = ~0u;
	*fault = HVT_FAULT_NONE;
	wl = hvt_selftest_find(name, exc, fault);
	if (wl)
		return wl;
	return hvt_workload_find(name);
}

/* Index order: the workload library, then the built-in self-tests. */
static const struct hvt_workload *hvt_list_workload(u32 index)
{
	u32 n = 0;

	while (n <= index && hvt_workload_get(n))
		n++;
	if (n > index)
		return hvt_workload_get(index);
	return hvt_selftest_get(index - n);
}

static long hvt_ioc_run(void __user *argp)
{
	struct hvtrace_run r;
	struct hvt_run_req req;
	int err;

	err = hvt_check_header(argp, sizeof(r));
	if (err)
		return err;
	if (copy_from_user(&r, argp, sizeof(r)))
		return -EFAULT;
	if (!memchr(r.workload, 0, sizeof(r.workload)))
		return hvt_reject(-EINVAL, "workload name not NUL-terminated");
	memset(&req, 0, sizeof(req));
	req.wl = hvt_lookup(r.workload, &req.exc_bitmap, &req.fault);
	if (!req.wl || !req.wl->guest_main)
		return hvt_reject(-EINVAL, "unknown workload \"%s\"",
				  r.workload);
	if (r.iterations == 0 || r.iterations > HVTRACE_MAX_ITERATIONS)
		return hvt_reject(-EINVAL, "iterations %llu not in 1..%llu",
				  r.iterations, HVTRACE_MAX_ITERATIONS);
	if (r.cpu >= nr_cpu_ids || !cpu_online(r.cpu))
		return hvt_reject(-EINVAL, "cpu %u is not online", r.cpu);
	if (r.flags)
		return hvt_reject(-EINVAL, "reserved flags %#x", r.flags);
	if (r.reserved)
		return hvt_reject(-EINVAL, "reserved field %#x", r.reserved);
	if (r.trap_mask & ~HVT_TRAP_ALL)
		return hvt_reject(-EINVAL, "unknown trap bits %#llx",
				  r.trap_mask & ~HVT_TRAP_ALL);

	req.seed = r.seed;
	req.iterations = r.iterations;
	req.cpu = r.cpu;
	/* Always armed for safety: HLT, MSR and I/O bitmaps, exceptions. */
	req.trap_mask = r.trap_mask | req.wl->traps | HVTRACE_TRAP_HLT |
			HVTRACE_TRAP_MSR | HVTRACE_TRAP_IO | HVTRACE_TRAP_EXC;
	err = hvt_run(&req);
	if (err == -EBUSY)
		return hvt_reject(err, "cpu %u already runs a workload",
				  r.cpu);
	if (err == -EINVAL)
		return hvt_reject(err, "cpu %u went offline", r.cpu);
	if (err)
		return err;

	r.run_id = req.run_id;
	r.exits = req.exits;
	r.status = req.status;
	r.end_reason = req.end_reason;
	r.vm_insn_error = req.vm_insn_error;
	if (copy_to_user(argp, &r, sizeof(r)))
		return -EFAULT;
	return 0;
}

static long hvt_ioc_counters(void __user *argp)
{
	struct hvtrace_counters c;
	int err, i, cpu;

	err = hvt_check_header(argp, sizeof(c));
	if (err)
		return err;
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.version = HVTRACE_ABI_VERSION;
	c.runs = atomic64_read(&hvt_stats.runs);
	c.runs_failed = atomic64_read(&hvt_stats.runs_failed);
	c.vmx_failures = atomic64_read(&hvt_stats.vmx_failures);
	c.entry_failures = atomic64_read(&hvt_stats.entry_failures);
	c.unhandled = atomic64_read(&hvt_stats.unhandled);
	c.run_tsc_total = atomic64_read(&hvt_stats.run_tsc_total);
	c.host_checks = atomic64_read(&hvt_stats.host_checks);
	c.host_mismatches = atomic64_read(&hvt_stats.host_mismatches);
	c.mce_forwarded = atomic64_read(&hvt_stats.mce_forwarded);
	/* The per-exit counters are per CPU (no shared line per exit). */
	for_each_possible_cpu(cpu) {
		const struct hvt_pcpu_stats *p = per_cpu_ptr(&hvt_pcpu_stats, cpu);

		c.exits += READ_ONCE(p->exits);
		c.dropped += READ_ONCE(p->dropped);
		for (i = 0; i < HVTRACE_NR_REASONS; i++)
			c.by_reason[i] += READ_ONCE(p->by_reason[i]);
		c.handler_tsc_total += READ_ONCE(p->handler_tsc_total);
		c.handler_exits += READ_ONCE(p->handler_exits);
		c.yields += READ_ONCE(p->yields);
		c.yield_tsc_total += READ_ONCE(p->yield_tsc_total);
	}
	if (copy_to_user(argp, &c, sizeof(c)))
		return -EFAULT;
	return 0;
}

static long hvt_ioc_workload(void __user *argp)
{
	struct hvtrace_workload_info w;
	const struct hvt_workload *wl;
	int err;

	err = hvt_check_header(argp, sizeof(w));
	if (err)
		return err;
	if (copy_from_user(&w, argp, sizeof(w)))
		return -EFAULT;
	if (w.reserved)
		return hvt_reject(-EINVAL, "reserved field %#x", w.reserved);
	wl = hvt_list_workload(w.index);
	if (!wl)
		return -ENOENT;
	memset(w.name, 0, sizeof(w.name));
	memset(w.description, 0, sizeof(w.description));
	strscpy(w.name, wl->name, sizeof(w.name));
	if (wl->description)
		strscpy(w.description, wl->description, sizeof(w.description));
	if (copy_to_user(argp, &w, sizeof(w)))
		return -EFAULT;
	return 0;
}

static long hvt_ioc_kvm_attach(struct file *file, void __user *argp)
{
	struct hvtrace_kvm_attach a;
	u32 i;
	int err;

	err = hvt_check_header(argp, sizeof(a));
	if (err)
		return err;
	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.flags)
		return hvt_reject(-EINVAL, "reserved flags %#x", a.flags);
	if (a.nr_pids > HVTRACE_KVM_MAX_PIDS)
		return hvt_reject(-EINVAL, "%u pids, at most %u", a.nr_pids,
				  HVTRACE_KVM_MAX_PIDS);
	for (i = 0; i < a.nr_pids; i++)
		if (a.pids[i] <= 0)
			return hvt_reject(-EINVAL, "pid %d", a.pids[i]);
	err = hvt_kvm_attach(file, &a);
	if (err)
		return err;
	if (copy_to_user(argp, &a, sizeof(a))) {
		struct hvtrace_kvm_stats st;

		hvt_kvm_detach(file, &st);
		return -EFAULT;
	}
	return 0;
}

static long hvt_ioc_kvm_stats(struct file *file, void __user *argp,
			      bool detach)
{
	struct hvtrace_kvm_stats st;
	int err;

	err = hvt_check_header(argp, sizeof(st));
	if (err)
		return err;
	err = detach ? hvt_kvm_detach(file, &st) : hvt_kvm_stats(&st);
	if (err)
		return err;
	if (copy_to_user(argp, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

static long hvt_ioc_host_on(struct file *file, void __user *argp)
{
	struct hvtrace_host_on on;
	int err;

	err = hvt_check_header(argp, sizeof(on));
	if (err)
		return err;
	if (copy_from_user(&on, argp, sizeof(on)))
		return -EFAULT;
	err = hvt_host_on(file, &on);
	if (err == -EBUSY)
		return hvt_reject(err, "a host-mode session is already running");
	if (err == -EINVAL)
		return hvt_reject(err, "host mode: bad cpus %#llx, traps %#llx, exceptions %#x or ranges",
				  on.cpus, on.trap_mask, on.exc_bitmap);
	if (err)
		return err;
	if (copy_to_user(argp, &on, sizeof(on))) {
		hvt_host_off(file, NULL);
		return -EFAULT;
	}
	return 0;
}

static long hvt_ioc_host_stats(struct file *file, void __user *argp, bool off)
{
	struct hvtrace_host_stats *st;
	int err;

	err = hvt_check_header(argp, sizeof(*st));
	if (err)
		return err;
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	err = off ? hvt_host_off(file, st) : hvt_host_stats(st);
	if (!err && copy_to_user(argp, st, sizeof(*st)))
		err = -EFAULT;
	kfree(st);
	return err;
}

static long hvt_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (cmd) {
	case HVTRACE_IOC_RUN:
		return hvt_ioc_run(argp);
	case HVTRACE_IOC_COUNTERS:
		return hvt_ioc_counters(argp);
	case HVTRACE_IOC_WORKLOAD:
		return hvt_ioc_workload(argp);
	case HVTRACE_IOC_KVM_ATTACH:
		return hvt_ioc_kvm_attach(file, argp);
	case HVTRACE_IOC_KVM_DETACH:
		return hvt_ioc_kvm_stats(file, argp, true);
	case HVTRACE_IOC_KVM_STATS:
		return hvt_ioc_kvm_stats(file, argp, false);
	case HVTRACE_IOC_HOST_ON:
		return hvt_ioc_host_on(file, argp);
	case HVTRACE_IOC_HOST_OFF:
		return hvt_ioc_host_stats(file, argp, true);
	case HVTRACE_IOC_HOST_STATS:
		return hvt_ioc_host_stats(file, argp, false);
	default:
		return -ENOTTY;
	}
}

static int hvt_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return nonseekable_open(inode, file);
}

/* A KVM attachment ends with the file that made it (e.g. record killed). */
static int hvt_release(struct inode *inode, struct file *file)
{
	hvt_kvm_release(file);
	hvt_host_release(file);
	return 0;
}

static const struct file_operations hvt_fops = {
	.owner		= THIS_MODULE,
	.open		= hvt_open,
	.release	= hvt_release,
	.unlocked_ioctl	= hvt_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
	/* 6.12 removed no_llseek: no .llseek means "not seekable" there */
	.llseek		= no_llseek,
#endif
};

static struct miscdevice hvt_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "hvtrace",
	.fops	= &hvt_fops,
	.mode	= 0600,
};

int hvt_control_init(void)
{
	return misc_register(&hvt_misc);
}

void hvt_control_exit(void)
{
	misc_deregister(&hvt_misc);
}
