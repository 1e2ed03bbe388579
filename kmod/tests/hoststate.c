// SPDX-License-Identifier: GPL-2.0
/*
 * hoststate: user-visible host-state tests of hvtrace.ko, run inside the
 * Bochs guest (kmod/tests/guest/run.sh).  Each prints TAP lines.
 *
 *   hoststate ldt CPU N    a process with an LDT entry, pinned to CPU, runs
 *                          N sandbox runs on CPU itself (the run thread
 *                          borrows its address space) and checks after each
 *                          that its LDT selector still works
 *   hoststate hwbp CPU N   hardware breakpoints through perf: a write
 *                          breakpoint on module data the guest writes (must
 *                          never fire in the guest nor end the run; an
 *                          execute breakpoint on guest code is refused, as
 *                          guest code is on kprobes' blacklist), and one on
 *                          the host's CPUID handler (must count every CPUID
 *                          exit: none lost)
 *
 * Exit status: 0 all passed, 1 a check failed, 2 could not test.
 */
#define _GNU_SOURCE
#include <asm/ldt.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../uapi/hvtrace.h"

static int tap_n, tap_failed;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		tap_failed++;
}

static void die(const char *what)
{
	fprintf(stderr, "hoststate: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void pin(unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

/* One sandbox run from this very process (so its mm is the one borrowed). */
static int run(int fd, const char *wl, unsigned int cpu, uint64_t n,
	       struct hvtrace_run *r)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->version = HVTRACE_ABI_VERSION;
	snprintf(r->workload, sizeof(r->workload), "%s", wl);
	r->iterations = n;
	r->cpu = cpu;
	return ioctl(fd, HVTRACE_IOC_RUN, r);
}

/* LAR: ZF set when the selector names a valid, accessible descriptor. */
static int selector_valid(unsigned int sel)
{
	unsigned int ar = 0;
	unsigned char zf;

	__asm__ volatile("lar %2, %0\n\tsetz %1" : "+r" (ar), "=qm" (zf) : "r" (sel) : "cc");
	return zf;
}

static int test_ldt(int fd, unsigned int cpu, unsigned int n)
{
	struct user_desc d = {
		.entry_number = 0, .base_addr = 0, .limit = 0xfffff,
		.seg_32bit = 1, .contents = 0, .read_exec_only = 0,
		.limit_in_pages = 1, .seg_not_present = 0, .useable = 1,
	};
	const unsigned int sel = (0 << 3) | 4 | 3;	/* LDT entry 0, RPL 3 */
	struct hvtrace_run r;
	unsigned int i, bad = 0, failed_runs = 0;

	pin(cpu);
	if (syscall(SYS_modify_ldt, 1, &d, sizeof(d)))
		die("modify_ldt");
	check(selector_valid(sel), "LDT selector %#x valid before any run", sel);
	for (i = 0; i < n; i++) {
		if (run(fd, "selftest-cpuid", cpu, 20, &r) || r.status)
			failed_runs++;
		/* Back on our CPU with our own mm: the same-mm path. */
		if (!selector_valid(sel))
			bad++;
	}
	check(!failed_runs, "%u runs on cpu %u from the LDT process: all status 0 (%u failed)",
	      n, cpu, failed_runs);
	check(!bad, "LDT selector still valid after each run (%u of %u lost it)", bad, n);
	return 0;
}

static unsigned long ksym(const char *name)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], sym[256], type;
	unsigned long addr, found = 0;

	if (!f)
		die("/proc/kallsyms");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx %c %255s", &addr, &type, sym) == 3 &&
		    !strcmp(sym, name)) {
			found = addr;
			break;
		}
	}
	fclose(f);
	return found;
}

static int bp_open(unsigned long addr, unsigned int cpu, unsigned int type)
{
	struct perf_event_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = type;
	a.bp_addr = addr;
	a.bp_len = type == HW_BREAKPOINT_X ? sizeof(long) : HW_BREAKPOINT_LEN_8;
	a.exclude_user = 1;
	/* Per CPU, every task: the handler runs in the run's kthread. */
	fd = (int)syscall(SYS_perf_event_open, &a, -1, (int)cpu, -1, 0);
	return fd;
}

static uint64_t bp_count(int fd)
{
	uint64_t c = 0;

	if (read(fd, &c, sizeof(c)) != sizeof(c))
		die("read perf counter");
	return c;
}

static int test_hwbp(int fd, unsigned int cpu, unsigned int n)
{
	unsigned long guest = ksym("hvt_st_cpuid_done"), host = ksym("hvt_h_cpuid");
	unsigned long probe = ksym("__x64_sys_getppid");
	struct hvtrace_run r;
	int gfd, hfd, pfd;
	uint64_t g, h, p;
	int i, rc;

	if (!guest || !host || !probe) {
		fprintf(stderr, "hoststate: symbols not in /proc/kallsyms\n");
		return 2;
	}
	pin(cpu);
	/* Does this CPU (emulator) raise data/code breakpoints at all? */
	pfd = bp_open(probe, cpu, HW_BREAKPOINT_X);
	if (pfd < 0)
		die("perf_event_open (breakpoint)");
	for (i = 0; i < 10; i++)
		syscall(SYS_getppid);
	p = bp_count(pfd);
	close(pfd);
	if (p < 10) {
		printf("# the CPU raised %" PRIu64 " of 10 breakpoint hits on getppid: no debug-register emulation\n", p);
		return 3;
	}
	check(bp_open(ksym("hvt_st_cpuid"), cpu, HW_BREAKPOINT_X) < 0 && errno == EINVAL,
	      "an execute breakpoint on guest code is refused (kprobes blacklist)");
	gfd = bp_open(guest, cpu, HW_BREAKPOINT_W);
	hfd = bp_open(host, cpu, HW_BREAKPOINT_X);
	if (gfd < 0 || hfd < 0)
		die("perf_event_open (breakpoint)");
	rc = run(fd, "selftest-cpuid", cpu, n, &r);
	g = bp_count(gfd);
	h = bp_count(hfd);
	check(!rc && r.status == 0 && r.exits == n + 1,
	      "run with a breakpoint on guest code: status 0, %u exits (got rc %d status %d exits %llu)",
	      n + 1, rc, r.status, (unsigned long long)r.exits);
	check(g == 0, "the write breakpoint on data the guest writes never fired (%" PRIu64 ")", g);
	check(h == n, "the breakpoint on the host's CPUID handler fired once per CPUID exit (%" PRIu64 " of %u)",
	      h, n);
	close(gfd);
	close(hfd);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int cpu, n;
	int fd, rc;

	if (argc != 4) {
		fprintf(stderr, "usage: hoststate ldt|hwbp CPU N\n");
		return 2;
	}
	cpu = (unsigned int)strtoul(argv[2], NULL, 0);
	n = (unsigned int)strtoul(argv[3], NULL, 0);
	fd = open(HVTRACE_DEVICE, O_RDWR);
	if (fd < 0)
		die(HVTRACE_DEVICE);
	if (!strcmp(argv[1], "ldt"))
		rc = test_ldt(fd, cpu, n);
	else if (!strcmp(argv[1], "hwbp"))
		rc = test_hwbp(fd, cpu, n);
	else {
		fprintf(stderr, "hoststate: unknown test '%s'\n", argv[1]);
		return 2;
	}
	close(fd);
	if (rc)
		return rc;
	return tap_failed ? 1 : 0;
}
