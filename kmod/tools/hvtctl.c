// SPDX-License-Identifier: GPL-2.0
/*
 * hvtctl: minimal driver of /dev/hvtrace for tests and bring-up.
 *
 *   hvtctl run WORKLOAD [-s SEED] [-n ITERATIONS] [-c CPU] [-t TRAPMASK]
 *   hvtctl counters
 *   hvtctl list
 *   hvtctl check-args        TAP: every bad argument gets its errno
 *
 * Exit status: 0 ok; 1 the run ended with a non-zero status; 2 bad usage
 * or an ioctl error (one line on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../uapi/hvtrace.h"
#include "../../schemas/exit_reasons.h"

static const char *reason_name(uint32_t reason)
{
	static char buf[32];

	switch (reason & HVTRACE_EXIT_REASON_BASIC_MASK) {
#define X(code, name, qual) case code: return #name;
	HVTRACE_EXIT_REASONS(X)
#undef X
	}
	snprintf(buf, sizeof(buf), "UNKNOWN(%u)",
		 reason & HVTRACE_EXIT_REASON_BASIC_MASK);
	return buf;
}

static int open_dev(void)
{
	int fd = open(HVTRACE_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "hvtctl: %s: %s\n", HVTRACE_DEVICE,
			strerror(errno));
		exit(2);
	}
	return fd;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || !*s || *end || *s == '-' ? -1 : 0;
}

static void init_run(struct hvtrace_run *r, const char *wl)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->version = HVTRACE_ABI_VERSION;
	snprintf(r->workload, sizeof(r->workload), "%s", wl);
	r->iterations = 1;
}

static int cmd_run(int argc, char **argv)
{
	struct hvtrace_run r;
	uint64_t v;
	int fd, i;

	if (argc < 1) {
		fprintf(stderr, "hvtctl: run: missing WORKLOAD\n");
		return 2;
	}
	if (strlen(argv[0]) >= HVTRACE_NAME_LEN) {
		fprintf(stderr, "hvtctl: run: workload name too long\n");
		return 2;
	}
	init_run(&r, argv[0]);
	for (i = 1; i < argc; i += 2) {
		if (i + 1 >= argc || parse_u64(argv[i + 1], &v)) {
			fprintf(stderr, "hvtctl: run: bad option '%s'\n",
				argv[i]);
			return 2;
		}
		if (!strcmp(argv[i], "-s"))
			r.seed = v;
		else if (!strcmp(argv[i], "-n"))
			r.iterations = v;
		else if (!strcmp(argv[i], "-c") && v <= UINT32_MAX)
			r.cpu = (uint32_t)v;
		else if (!strcmp(argv[i], "-t"))
			r.trap_mask = v;
		else {
			fprintf(stderr, "hvtctl: run: bad option '%s'\n",
				argv[i]);
			return 2;
		}
	}
	fd = open_dev();
	if (ioctl(fd, HVTRACE_IOC_RUN, &r)) {
		fprintf(stderr, "hvtctl: run %s: %s\n", r.workload,
			strerror(errno));
		return 2;
	}
	close(fd);
	printf("run_id=%" PRIu64 " workload=%s exits=%" PRIu64
	       " status=%d end_reason=%#x(%s) vm_insn_error=%u\n",
	       (uint64_t)r.run_id, r.workload, (uint64_t)r.exits, r.status,
	       r.end_reason, r.exits ? reason_name(r.end_reason) : "none",
	       r.vm_insn_error);
	return r.status ? 1 : 0;
}

static int cmd_counters(void)
{
	struct hvtrace_counters c;
	int fd = open_dev(), i;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.version = HVTRACE_ABI_VERSION;
	if (ioctl(fd, HVTRACE_IOC_COUNTERS, &c)) {
		fprintf(stderr, "hvtctl: counters: %s\n", strerror(errno));
		return 2;
	}
	close(fd);
	printf("runs %llu\nruns_failed %llu\nexits %llu\nvmx_failures %llu\n"
	       "entry_failures %llu\nunhandled %llu\ndropped %llu\n",
	       (unsigned long long)c.runs, (unsigned long long)c.runs_failed,
	       (unsigned long long)c.exits,
	       (unsigned long long)c.vmx_failures,
	       (unsigned long long)c.entry_failures,
	       (unsigned long long)c.unhandled,
	       (unsigned long long)c.dropped);
	printf("handler_tsc_total %llu\nhandler_exits %llu\nrun_tsc_total %llu\n"
	       "yields %llu\nyield_tsc_total %llu\n",
	       (unsigned long long)c.handler_tsc_total,
	       (unsigned long long)c.handler_exits,
	       (unsigned long long)c.run_tsc_total,
	       (unsigned long long)c.yields,
	       (unsigned long long)c.yield_tsc_total);
	printf("host_checks %llu\nhost_mismatches %llu\nmce_forwarded %llu\n",
	       (unsigned long long)c.host_checks,
	       (unsigned long long)c.host_mismatches,
	       (unsigned long long)c.mce_forwarded);
	for (i = 0; i < HVTRACE_NR_REASONS; i++)
		if (c.by_reason[i])
			printf("reason %s %llu\n", reason_name(i),
			       (unsigned long long)c.by_reason[i]);
	return 0;
}

static int cmd_list(void)
{
	struct hvtrace_workload_info w;
	int fd = open_dev();
	unsigned int i;

	for (i = 0;; i++) {
		memset(&w, 0, sizeof(w));
		w.size = sizeof(w);
		w.version = HVTRACE_ABI_VERSION;
		w.index = i;
		if (ioctl(fd, HVTRACE_IOC_WORKLOAD, &w)) {
			if (errno == ENOENT)
				break;
			fprintf(stderr, "hvtctl: list: %s\n", strerror(errno));
			return 2;
		}
		printf("%-24s %s\n", w.name, w.description);
	}
	close(fd);
	return 0;
}

/* ---- check-args: TAP ---- */

static int tap_n, tap_failed;

static void expect(const char *name, int ret, int err, int want)
{
	int ok = want ? (ret == -1 && err == want) : ret == 0;

	tap_n++;
	if (!ok)
		tap_failed++;
	printf("%sok %d - %s (got %s, want %s)\n", ok ? "" : "not ", tap_n,
	       name, ret ? strerror(err) : "success",
	       want ? strerror(want) : "success");
}

#define TRY_RUN(name, want, mutate)					\
	do {								\
		struct hvtrace_run r;					\
		int ret;						\
		init_run(&r, "selftest-cpuid");				\
		mutate;							\
		ret = ioctl(fd, HVTRACE_IOC_RUN, &r);			\
		expect(name, ret, errno, want);				\
	} while (0)

static int cmd_check_args(void)
{
	int fd = open_dev();
	struct hvtrace_counters c;
	char small[8] = { 0 };
	int ret;

	TRY_RUN("valid run succeeds", 0, (void)0);
	TRY_RUN("size mismatch -> EINVAL", EINVAL, r.size -= 8);
	TRY_RUN("version mismatch -> EINVAL", EINVAL, r.version = 99);
	TRY_RUN("unknown workload -> EINVAL", EINVAL,
		strcpy(r.workload, "no-such-workload"));
	TRY_RUN("unterminated workload name -> EINVAL", EINVAL,
		memset(r.workload, 'a', sizeof(r.workload)));
	TRY_RUN("iterations 0 -> EINVAL", EINVAL, r.iterations = 0);
	TRY_RUN("iterations too large -> EINVAL", EINVAL,
		r.iterations = HVTRACE_MAX_ITERATIONS + 1);
	TRY_RUN("invalid cpu -> EINVAL", EINVAL, r.cpu = 4096);
	TRY_RUN("offline/absent cpu 1 -> EINVAL", EINVAL,
		r.cpu = (uint32_t)sysconf(_SC_NPROCESSORS_CONF));
	TRY_RUN("reserved flags -> EINVAL", EINVAL, r.flags = 1);
	TRY_RUN("reserved field -> EINVAL", EINVAL, r.reserved = 1);
	TRY_RUN("unknown trap bits -> EINVAL", EINVAL,
		r.trap_mask = 1ULL << 40);

	ret = ioctl(fd, HVTRACE_IOC_RUN, (void *)8);
	expect("bad pointer -> EFAULT", ret, errno, EFAULT);
	ret = ioctl(fd, _IOWR(HVTRACE_IOC_MAGIC, 77, struct hvtrace_run), small);
	expect("unknown ioctl -> ENOTTY", ret, errno, ENOTTY);
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c) + 1;
	c.version = HVTRACE_ABI_VERSION;
	ret = ioctl(fd, HVTRACE_IOC_COUNTERS, &c);
	expect("counters size mismatch -> EINVAL", ret, errno, EINVAL);
	{
		struct hvtrace_workload_info w;

		memset(&w, 0, sizeof(w));
		w.size = sizeof(w);
		w.version = HVTRACE_ABI_VERSION;
		w.index = 100000;
		ret = ioctl(fd, HVTRACE_IOC_WORKLOAD, &w);
		expect("workload index past the end -> ENOENT", ret, errno,
		       ENOENT);
	}
	close(fd);
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "counters") && argc == 2)
		return cmd_counters();
	if (!strcmp(argv[1], "list") && argc == 2)
		return cmd_list();
	if (!strcmp(argv[1], "check-args") && argc == 2)
		return cmd_check_args();
usage:
	fprintf(stderr, "usage: hvtctl run WORKLOAD [-s SEED] [-n ITER] [-c CPU] [-t TRAPMASK] | counters | list | check-args\n");
	return 2;
}
