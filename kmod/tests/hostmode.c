// SPDX-License-Identifier: GPL-2.0
/*
 * hostmode: drives and checks host mode (/dev/hvtrace HOST_* ioctls) in the
 * Bochs guest.  Static; no dependency but libc.
 *
 *   hostmode cpuid [-n ROUNDS]      known CPUID leaves on every online CPU
 *                                   (printed once; ROUNDS more rounds silent)
 *   hostmode run [-c MASK] [-t TRAPS] -- CMD [ARGS]
 *                                   virtualize, run CMD, devirtualize, print
 *                                   the session's counters on stderr
 *   hostmode cycles N [-c MASK]     N virtualize/CPUID/devirtualize cycles,
 *                                   each checked (TAP on stdout)
 *   hostmode busy                   a second session is refused (EBUSY)
 *   hostmode spin SECONDS [CPU]     burn a CPU (a busy program)
 *   hostmode msr                    IA32_FEATURE_CONTROL, IA32_VMX_BASIC and
 *                                   IA32_APIC_BASE of every CPU through
 *                                   /dev/cpu/N/msr (msr.ko)
 *   hostmode exc N                  N INT3 (SIGTRAP) and N UD2 (SIGILL, RIP
 *                                   moved past it by the handler)
 *   hostmode io N                   N OUT and N IN on port 0x80, then one
 *                                   REP OUTSB of 4 bytes (needs ioperm)
 *   hostmode stats                  the running session's counters (HOST_STATS)
 *   hostmode pinned CPU -- CMD      run CMD on CPU, address randomization off
 *                                   (two runs of a program, same addresses)
 *   hostmode load KIND SECONDS      a soak load that checks its own results
 *                                   until SECONDS pass or SIGTERM comes:
 *                                   cpuid (the known leaves on every CPU, each
 *                                   round equal to the first; prints the first
 *                                   round as "hostmode cpuid" does), msr (the
 *                                   MSRs of "hostmode msr" on every CPU, each
 *                                   read equal to the first), syscall
 *                                   (getppid/getpid/clock_gettime bursts,
 *                                   results checked)
 *
 * TRAPS: comma list of cpuid (always on), rdtsc, msr=A[-B], io=P[-Q],
 * exc=V; numbers in C syntax.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <ucontext.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../uapi/hvtrace.h"

#define CPUID_REASON 10

static const unsigned int leaves[][2] = {
	{ 0, 0 }, { 1, 0 }, { 4, 0 }, { 7, 0 }, { 0xb, 0 }, { 0xd, 0 },
	{ 0xd, 1 }, { 0x80000000, 0 }, { 0x80000001, 0 }, { 0x80000002, 0 },
	{ 0x80000003, 0 }, { 0x80000004, 0 }, { 0x80000008, 0 },
};
#define NLEAVES (sizeof(leaves) / sizeof(leaves[0]))

/* The one CPUID instruction of this program, at a known address. */
__attribute__((noinline, noclone))
static void do_cpuid(unsigned int leaf, unsigned int sub, unsigned int r[4])
{
	asm volatile(".globl hostmode_cpuid_insn\n"
		     "hostmode_cpuid_insn: cpuid"
		     : "=a" (r[0]), "=b" (r[1]), "=c" (r[2]), "=d" (r[3])
		     : "a" (leaf), "c" (sub));
}
extern char hostmode_cpuid_insn[];

static int ncpus(void)
{
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static int cmd_cpuid(int argc, char **argv)
{
	long rounds = 0, done = 0;
	int cpu, i, n = ncpus();
	unsigned int r[4];

	if (argc > 2 && !strcmp(argv[1], "-n"))
		rounds = strtol(argv[2], NULL, 0);
	for (cpu = 0; cpu < n; cpu++) {
		if (pin(cpu)) {
			perror("sched_setaffinity");
			return 2;
		}
		for (i = 0; i < (int)NLEAVES; i++) {
			do_cpuid(leaves[i][0], leaves[i][1], r);
			done++;
			printf("cpu %d leaf %#x.%u: %08x %08x %08x %08x\n", cpu,
			       leaves[i][0], leaves[i][1], r[0], r[1], r[2], r[3]);
		}
		for (long k = 0; k < rounds; k++)
			for (i = 0; i < (int)NLEAVES; i++, done++)
				do_cpuid(leaves[i][0], leaves[i][1], r);
	}
	printf("cpuid_insn=%p cpuid_count=%ld\n", (void *)hostmode_cpuid_insn, done);
	return 0;
}

static int parse_range(const char *s, struct hvtrace_host_range *r)
{
	char *end;

	r->first = strtoul(s, &end, 0);
	r->last = r->first;
	if (*end == '-')
		r->last = strtoul(end + 1, &end, 0);
	return *end ? -1 : 0;
}

static int parse_traps(char *spec, struct hvtrace_host_on *on)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "cpuid"))
			continue;
		if (!strcmp(tok, "rdtsc")) {
			on->trap_mask |= HVTRACE_TRAP_RDTSC;
		} else if (!strncmp(tok, "msr=", 4) && on->nr_msrs < HVTRACE_HOST_MAX_RANGES) {
			on->trap_mask |= HVTRACE_TRAP_MSR;
			if (parse_range(tok + 4, &on->msrs[on->nr_msrs++]))
				return -1;
		} else if (!strncmp(tok, "io=", 3) && on->nr_ports < HVTRACE_HOST_MAX_RANGES) {
			on->trap_mask |= HVTRACE_TRAP_IO;
			if (parse_range(tok + 3, &on->ports[on->nr_ports++]))
				return -1;
		} else if (!strncmp(tok, "exc=", 4)) {
			on->trap_mask |= HVTRACE_TRAP_EXC;
			on->exc_bitmap |= 1u << (strtoul(tok + 4, NULL, 0) & 31);
		} else {
			fprintf(stderr, "hostmode: bad trap '%s'\n", tok);
			return -1;
		}
	}
	return 0;
}

static int dev_open(void)
{
	/* not inherited: a session must end with its owner, not with a child */
	int fd = open(HVTRACE_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		perror(HVTRACE_DEVICE);
	return fd;
}

static int host_on(int fd, struct hvtrace_host_on *on)
{
	on->size = sizeof(*on);
	on->version = HVTRACE_ABI_VERSION;
	if (ioctl(fd, HVTRACE_IOC_HOST_ON, on)) {
		fprintf(stderr, "hostmode: HOST_ON: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int host_stats(int fd, unsigned long req, struct hvtrace_host_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->version = HVTRACE_ABI_VERSION;
	if (ioctl(fd, req, st)) {
		fprintf(stderr, "hostmode: %s: %s\n",
			req == HVTRACE_IOC_HOST_OFF ? "HOST_OFF" : "HOST_STATS",
			strerror(errno));
		return -1;
	}
	return 0;
}

static void print_stats(FILE *f, const struct hvtrace_host_stats *st)
{
	int i;

	fprintf(f, "host: session=%#llx virtualized=%#llx exits=%llu traced=%llu dropped=%llu buffer_full=%llu filtered=%llu unhandled=%llu ud=%llu host_checks=%llu host_mismatches=%llu cpuid_exits=%llu",
		(unsigned long long)st->session_id,
		(unsigned long long)st->virtualized,
		(unsigned long long)st->exits, (unsigned long long)st->traced,
		(unsigned long long)st->dropped,
		(unsigned long long)st->buffer_full,
		(unsigned long long)st->filtered,
		(unsigned long long)st->unhandled,
		(unsigned long long)st->ud_injected,
		(unsigned long long)st->host_checks,
		(unsigned long long)st->host_mismatches,
		(unsigned long long)st->by_reason[CPUID_REASON]);
	/* every basic reason seen: reason_N=count */
	for (i = 0; i < HVTRACE_NR_REASONS; i++)
		if (st->by_reason[i])
			fprintf(f, " reason_%d=%llu", i,
				(unsigned long long)st->by_reason[i]);
	fprintf(f, "\n");
}

static int cmd_run(int argc, char **argv)
{
	struct hvtrace_host_on on;
	struct hvtrace_host_stats st;
	int i, fd, status = 0;
	pid_t pid;

	memset(&on, 0, sizeof(on));
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc)
			on.cpus = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			if (parse_traps(argv[++i], &on))
				return 2;
		} else {
			fprintf(stderr, "hostmode run: bad argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "hostmode run: no command\n");
		return 2;
	}
	fd = dev_open();
	if (fd < 0 || host_on(fd, &on))
		return 2;
	fprintf(stderr, "host: on session=%#llx virtualized=%#llx\n",
		(unsigned long long)on.session_id,
		(unsigned long long)on.virtualized);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		execvp(argv[i + 1], argv + i + 1);
		perror(argv[i + 1]);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (ioctl(fd, HVTRACE_IOC_HOST_OFF, (memset(&st, 0, sizeof(st)),
					    st.size = sizeof(st),
					    st.version = HVTRACE_ABI_VERSION, &st))) {
		if (errno != ENOENT || host_stats(fd, HVTRACE_IOC_HOST_STATS, &st)) {
			fprintf(stderr, "hostmode: HOST_OFF: %s\n", strerror(errno));
			return 2;
		}
		fprintf(stderr, "host: the session had ended already (reboot path, hotplug of every CPU)\n");
	}
	print_stats(stderr, &st);
	close(fd);
	if (pid < 0)
		return 2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

static int cmd_cycles(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 0) : 1, c;
	unsigned long long mask = 0, want;
	int cpu, ncpu = ncpus(), failed = 0, k, fd;
	struct hvtrace_host_on on;
	struct hvtrace_host_stats st;
	unsigned int r[4];

	if (argc > 3 && !strcmp(argv[2], "-c"))
		mask = strtoull(argv[3], NULL, 0);
	want = mask ? mask : (ncpu >= 64 ? ~0ull : (1ull << ncpu) - 1);
	fd = dev_open();
	if (fd < 0)
		return 2;
	for (c = 1; c <= n; c++) {
		int ncycle = 0;
		char why[256] = "";

		memset(&on, 0, sizeof(on));
		on.cpus = mask;
		if (host_on(fd, &on)) {
			printf("not ok %ld - cycle %ld: HOST_ON failed (%s)\n", c, c,
			       strerror(errno));
			failed++;
			continue;
		}
		for (cpu = 0; cpu < ncpu; cpu++) {
			if (!(want & (1ull << cpu)))
				continue;
			ncycle++;
			pin(cpu);
			for (k = 0; k < 100; k++)
				do_cpuid(k & 1 ? 1 : 0, 0, r);
		}
		if (host_stats(fd, HVTRACE_IOC_HOST_OFF, &st)) {
			printf("not ok %ld - cycle %ld: HOST_OFF failed\n", c, c);
			failed++;
			continue;
		}
		if (on.virtualized != want)
			snprintf(why, sizeof(why), "virtualized %#llx, wanted %#llx",
				 (unsigned long long)on.virtualized, want);
		else if (st.virtualized)
			snprintf(why, sizeof(why), "still virtualized: %#llx",
				 (unsigned long long)st.virtualized);
		else if (st.by_reason[CPUID_REASON] < 100ull * ncycle)
			snprintf(why, sizeof(why), "%llu CPUID exits < %d",
				 (unsigned long long)st.by_reason[CPUID_REASON],
				 100 * ncycle);
		else if (st.host_checks != 2ull * ncycle || st.host_mismatches)
			snprintf(why, sizeof(why), "host checks %llu (want %d), mismatches %llu",
				 (unsigned long long)st.host_checks, 2 * ncycle,
				 (unsigned long long)st.host_mismatches);
		if (why[0]) {
			printf("not ok %ld - cycle %ld: %s\n", c, c, why);
			failed++;
		} else {
			printf("ok %ld - cycle %ld: cpus %#llx, %llu exits (%llu CPUID), host state intact (%llu checks)\n",
			       c, c, (unsigned long long)on.virtualized,
			       (unsigned long long)st.exits,
			       (unsigned long long)st.by_reason[CPUID_REASON],
			       (unsigned long long)st.host_checks);
		}
		fflush(stdout);
	}
	close(fd);
	printf("1..%ld\n", n);
	return failed ? 1 : 0;
}

static int cmd_busy(void)
{
	struct hvtrace_host_on on;
	struct hvtrace_host_stats st;
	int a = dev_open(), b = dev_open(), rc = 1;

	if (a < 0 || b < 0)
		return 2;
	memset(&on, 0, sizeof(on));
	if (host_on(a, &on))
		return 2;
	memset(&on, 0, sizeof(on));
	on.size = sizeof(on);
	on.version = HVTRACE_ABI_VERSION;
	if (ioctl(b, HVTRACE_IOC_HOST_ON, &on) && errno == EBUSY)
		rc = 0;
	printf("second session: %s\n", rc ? "NOT refused" : "refused with EBUSY");
	/* The other descriptor may not end the session; its owner may. */
	if (!host_stats(b, HVTRACE_IOC_HOST_OFF, &st))
		rc = 1;
	if (host_stats(a, HVTRACE_IOC_HOST_OFF, &st))
		rc = 1;
	close(a);
	close(b);
	return rc;
}

/* The program's I/O instructions, at known addresses. */
__attribute__((noinline, noclone))
static void do_out(unsigned char v)
{
	asm volatile(".globl hostmode_out_insn\n"
		     "hostmode_out_insn: outb %0, $0x80" : : "a" (v));
}

__attribute__((noinline, noclone))
static unsigned char do_in(void)
{
	unsigned char v;

	asm volatile(".globl hostmode_in_insn\n"
		     "hostmode_in_insn: inb $0x80, %0" : "=a" (v));
	return v;
}

__attribute__((noinline, noclone))
static void do_outs(const void *buf, unsigned long n)
{
	asm volatile(".globl hostmode_outs_insn\n"
		     "hostmode_outs_insn: rep outsb"
		     : "+S" (buf), "+c" (n) : "d" (0x80) : "memory");
}
extern char hostmode_out_insn[], hostmode_in_insn[], hostmode_outs_insn[];

static int cmd_io(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 0) : 10, i;
	unsigned long sum = 0;
	static const char buf[4] = "hvt";

	if (ioperm(0x80, 1, 1)) {
		perror("ioperm");
		return 2;
	}
	for (i = 0; i < n; i++) {
		do_out((unsigned char)i);
		sum += do_in();
	}
	do_outs(buf, sizeof(buf));
	printf("out_insn=%p in_insn=%p outs_insn=%p io_count=%ld in_sum=%lu\n",
	       (void *)hostmode_out_insn, (void *)hostmode_in_insn,
	       (void *)hostmode_outs_insn, n, sum);
	return 0;
}

static int cmd_msr(void)
{
	static const unsigned int msrs[] = { 0x3a, 0x480, 0x1b };
	int cpu, i, n = ncpus(), reads = 0;
	char path[64];

	for (cpu = 0; cpu < n; cpu++) {
		int fd;

		/*
		 * On the CPU whose MSRs it reads: the msr driver then executes
		 * RDMSR in this task (from another CPU, an IPI would run it in
		 * whatever task that CPU interrupted).
		 */
		if (pin(cpu)) {
			perror("sched_setaffinity");
			return 2;
		}
		snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			perror(path);
			return 2;
		}
		for (i = 0; i < 3; i++) {
			uint64_t v;

			if (pread(fd, &v, sizeof(v), msrs[i]) != sizeof(v)) {
				perror("pread");
				return 2;
			}
			reads++;
			printf("cpu %d msr %#x: %#llx\n", cpu, msrs[i],
			       (unsigned long long)v);
		}
		close(fd);
	}
	printf("msr_reads=%d\n", reads);
	return 0;
}

static volatile sig_atomic_t n_trap, n_ill;

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	n_trap++;
}

static void on_ill(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	(void)si;
	uc->uc_mcontext.gregs[REG_RIP] += 2;	/* past the UD2 */
	n_ill++;
}

static int cmd_exc(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 0) : 10, i;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_SIGINFO;
	sa.sa_sigaction = on_trap;
	sigaction(SIGTRAP, &sa, NULL);
	sa.sa_sigaction = on_ill;
	sigaction(SIGILL, &sa, NULL);
	for (i = 0; i < n; i++) {
		asm volatile("int3" ::: "memory");
		asm volatile("ud2" ::: "memory");
	}
	printf("int3=%ld sigtrap=%d ud2=%ld sigill=%d\n", n, (int)n_trap, n,
	       (int)n_ill);
	return n_trap == n && n_ill == n ? 0 : 1;
}

static int cmd_stats(void)
{
	struct hvtrace_host_stats st;
	int fd = dev_open();

	if (fd < 0 || host_stats(fd, HVTRACE_IOC_HOST_STATS, &st))
		return 2;
	print_stats(stdout, &st);
	close(fd);
	return 0;
}

static int cmd_pinned(int argc, char **argv)
{
	int p;

	if (argc < 4 || strcmp(argv[2], "--")) {
		fprintf(stderr, "usage: hostmode pinned CPU -- CMD [ARGS]\n");
		return 2;
	}
	if (pin(atoi(argv[1]))) {
		perror("sched_setaffinity");
		return 2;
	}
	p = personality(0xffffffff);
	if (p < 0 || personality((unsigned long)p | ADDR_NO_RANDOMIZE) < 0) {
		perror("personality");
		return 2;
	}
	execvp(argv[3], argv + 3);
	perror(argv[3]);
	return 127;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void pause_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

static volatile sig_atomic_t load_stop;

static void on_term(int sig)
{
	(void)sig;
	load_stop = 1;
}

/* The known leaves on every CPU, round after round, each equal to the first. */
static int load_cpuid(double secs)
{
	static unsigned int ref[64][NLEAVES][4];
	unsigned int r[4];
	long rounds = 0, bad = 0, done = 0;
	int cpu, i, n = ncpus() > 64 ? 64 : ncpus();
	double end = now() + secs;

	do {
		for (cpu = 0; cpu < n; cpu++) {
			if (pin(cpu))
				return 2;
			for (i = 0; i < (int)NLEAVES; i++, done++) {
				do_cpuid(leaves[i][0], leaves[i][1], r);
				if (!rounds)
					memcpy(ref[cpu][i], r, sizeof(r));
				else if (memcmp(ref[cpu][i], r, sizeof(r)))
					bad++;
			}
		}
		rounds++;
		pause_ms(100);
	} while (!load_stop && now() < end);
	for (cpu = 0; cpu < n; cpu++)
		for (i = 0; i < (int)NLEAVES; i++)
			printf("cpu %d leaf %#x.%u: %08x %08x %08x %08x\n", cpu,
			       leaves[i][0], leaves[i][1], ref[cpu][i][0],
			       ref[cpu][i][1], ref[cpu][i][2], ref[cpu][i][3]);
	printf("load cpuid: rounds=%ld cpuids=%ld mismatches=%ld\n", rounds, done, bad);
	return bad || rounds < 2 ? 1 : 0;
}

/* The MSRs of "hostmode msr" on every CPU, each read equal to the first. */
static int load_msr(double secs)
{
	static const unsigned int msrs[] = { 0x3a, 0x480, 0x1b };
	static uint64_t ref[64][3];
	int cpu, i, n = ncpus() > 64 ? 64 : ncpus(), fd[64];
	long rounds = 0, bad = 0, reads = 0;
	double end = now() + secs;
	char path[64];

	for (cpu = 0; cpu < n; cpu++) {
		snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
		fd[cpu] = open(path, O_RDONLY);
		if (fd[cpu] < 0) {
			perror(path);
			return 2;
		}
	}
	do {
		for (cpu = 0; cpu < n; cpu++)
			for (i = 0; i < 3; i++, reads++) {
				uint64_t v;

				if (pread(fd[cpu], &v, sizeof(v), msrs[i]) != sizeof(v)) {
					perror("pread");
					return 2;
				}
				if (!rounds)
					ref[cpu][i] = v;
				else if (v != ref[cpu][i])
					bad++;
			}
		rounds++;
		pause_ms(50);
	} while (!load_stop && now() < end);
	for (cpu = 0; cpu < n; cpu++) {
		close(fd[cpu]);
		for (i = 0; i < 3; i++)
			printf("cpu %d msr %#x: %#llx\n", cpu, msrs[i],
			       (unsigned long long)ref[cpu][i]);
	}
	printf("load msr: rounds=%ld reads=%ld mismatches=%ld\n", rounds, reads, bad);
	return bad || rounds < 2 ? 1 : 0;
}

/* Bursts of cheap system calls whose results are known. */
static int load_syscall(double secs)
{
	pid_t me = getpid(), parent = getppid();
	long calls = 0, bad = 0, bursts = 0;
	double end = now() + secs, last = 0;
	struct timespec t;

	do {
		for (int i = 0; i < 500; i++) {
			if (getpid() != me || getppid() != parent)
				bad++;
			clock_gettime(CLOCK_MONOTONIC, &t);
			if (t.tv_sec + t.tv_nsec / 1e9 < last)
				bad++;	/* time went back */
			last = t.tv_sec + t.tv_nsec / 1e9;
			calls += 3;
		}
		bursts++;
		pause_ms(20);	/* some idle time: the soak's guest clock must advance */
	} while (!load_stop && now() < end);
	printf("load syscall: bursts=%ld calls=%ld mismatches=%ld\n", bursts, calls, bad);
	return bad || bursts < 2 ? 1 : 0;
}

static int cmd_load(int argc, char **argv)
{
	double secs = argc > 2 ? atof(argv[2]) : 0;

	if (argc < 3 || secs <= 0) {
		fprintf(stderr, "usage: hostmode load cpuid|msr|syscall SECONDS\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	if (!strcmp(argv[1], "cpuid"))
		return load_cpuid(secs);
	if (!strcmp(argv[1], "msr"))
		return load_msr(secs);
	if (!strcmp(argv[1], "syscall"))
		return load_syscall(secs);
	fprintf(stderr, "hostmode load: unknown kind '%s'\n", argv[1]);
	return 2;
}

static int cmd_spin(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1;
	struct timespec t0, t;
	volatile unsigned long x = 0;

	if (argc > 2 && pin(atoi(argv[2])))
		perror("sched_setaffinity");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 100000; i++)
			x += i;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "cpuid"))
		return cmd_cpuid(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "cycles"))
		return cmd_cycles(argc - 1, argv + 1);
	if (!strcmp(argv[1], "busy"))
		return cmd_busy();
	if (!strcmp(argv[1], "spin"))
		return cmd_spin(argc - 1, argv + 1);
	if (!strcmp(argv[1], "io"))
		return cmd_io(argc - 1, argv + 1);
	if (!strcmp(argv[1], "msr"))
		return cmd_msr();
	if (!strcmp(argv[1], "exc"))
		return cmd_exc(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stats"))
		return cmd_stats();
	if (!strcmp(argv[1], "pinned"))
		return cmd_pinned(argc - 1, argv + 1);
	if (!strcmp(argv[1], "load"))
		return cmd_load(argc - 1, argv + 1);
usage:
	fprintf(stderr, "usage: hostmode cpuid|run|cycles|busy|spin|io|msr|exc|stats|pinned|load ...\n");
	return 2;
}
