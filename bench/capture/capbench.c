// SPDX-License-Identifier: GPL-2.0
/*
 * capbench: the measuring programs of the capture bench's KVM and host-mode
 * parts (bench/capture/guest.sh runs them in the Bochs guest).  Static; no
 * dependency but libc and the module's uapi header.
 *
 *   capbench tsc                 print the TSC
 *   capbench cpuid N [GAP]       N CPUIDs (leaf 0), each followed by GAP
 *                                rounds of the CPU-bound loop's work (default
 *                                0: back to back): TSC cycles per CPUID
 *   capbench cpu N               CPU-bound: N rounds of integer mixing
 *   capbench sys N               syscall-heavy: N getppid() system calls
 *   capbench host [-c MASK] -- CMD ARGS...
 *                                virtualize the CPUs (host mode, only CPUID
 *                                trapped), run CMD, give the CPUs back and
 *                                print the session's counters and the CPU
 *                                time its ring drainers took meanwhile; no
 *                                LTTng session is made (untraced unless the
 *                                caller runs one)
 *   capbench attach [--pid PID] -- CMD ARGS...
 *                                attach hvtrace's KVM backend (every VMM,
 *                                or only PID's; every reason), run CMD,
 *                                detach and print
 *                                the attachment's counters; no LTTng session
 *                                is made (exits counted as dropped unless the
 *                                caller runs one)
 *   capbench kvm [--cpuid N] [--out N] [--warm N]
 *                                a VMM on /dev/kvm: one vCPU runs a loop of
 *                                N CPUIDs (exits KVM handles in the kernel,
 *                                default 10000), then a loop of N OUTs (exits
 *                                that reach this program, default 3000);
 *                                TSC cycles per exit of each, measured by the
 *                                VMM around its KVM_RUN calls
 *
 * Every measure prints one line "name=... n=N cycles=C per=C/N".  The TSC is
 * read with RDTSCP (ordered after the work before it) on the CPU the program
 * is pinned to (CPU 0).  Bad usage: one line on stderr, status 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../kmod/uapi/hvtrace.h"

#define CPUID_REASON	10

static int usage(const char *why)
{
	fprintf(stderr, "capbench: %s (usage: capbench tsc | cpuid N | cpu N | sys N | host [-c MASK] -- CMD... | attach [--pid PID] -- CMD... | kvm [--cpuid N] [--out N] [--warm N])\n",
		why);
	return 2;
}

static uint64_t tsc(void)
{
	uint32_t lo, hi, aux;

	asm volatile("rdtscp" : "=a" (lo), "=d" (hi), "=c" (aux) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* a count: decimal, 1 .. 10^10 */
static int count_arg(const char *s, long long *n)
{
	char *end;

	errno = 0;
	*n = strtoll(s, &end, 10);
	return (errno || *end || end == s || *n < 1 || *n > 10000000000LL) ? -1 : 0;
}

static void pin0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("capbench: sched_setaffinity");
}

static void report(const char *name, long long n, uint64_t cycles)
{
	printf("name=%s n=%lld cycles=%" PRIu64 " per=%.1f\n", name, n, cycles,
	       (double)cycles / (double)n);
}

static inline void cpuid0(void)
{
	uint32_t a = 0, b, c = 0, d;

	asm volatile("cpuid" : "+a" (a), "=b" (b), "+c" (c), "=d" (d) : : "memory");
}

/* n rounds of xorshift64 and a multiply: ALU work only */
static uint64_t alu(long long n, uint64_t x)
{
	uint64_t sum = 0;
	long long i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += x * 0x2545f4914f6cdd1dULL;
	}
	return sum;
}

static int cmd_cpuid(long long n, long long gap)
{
	uint64_t t0, t1, sum = 0;
	long long i;

	for (i = 0; i < 100; i++)	/* warm-up: code and data in the caches */
		cpuid0();
	t0 = tsc();
	for (i = 0; i < n; i++) {
		cpuid0();
		if (gap)
			sum += alu(gap, (uint64_t)i + 1);
	}
	t1 = tsc();
	report("cpuid", n, t1 - t0);
	printf("gap=%lld checksum=%" PRIx64 "\n", gap, sum);
	return 0;
}

static int cmd_cpu(long long n)
{
	uint64_t t0, t1, sum;

	t0 = tsc();
	sum = alu(n, 0x9e3779b97f4a7c15ULL);
	t1 = tsc();
	report("cpu", n, t1 - t0);
	printf("checksum=%" PRIx64 "\n", sum);
	return 0;
}

static int cmd_sys(long long n)
{
	uint64_t t0, t1;
	long long i;
	long r = 0;

	r += syscall(SYS_getppid);
	t0 = tsc();
	for (i = 0; i < n; i++)
		r += syscall(SYS_getppid);
	t1 = tsc();
	report("sys", n, t1 - t0);
	return r > 0 ? 0 : 1;
}

static int dev_open(void)
{
	int fd = open(HVTRACE_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "capbench: %s: %s\n", HVTRACE_DEVICE, strerror(errno));
	return fd;
}

/* Runs argv[0..] (a command) and waits for it: its exit status, or -1. */
static int run_cmd(char **argv)
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "capbench: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * CPU time (ns) and time slices of host mode's ring drainers (the kthreads
 * "hvtrace-host/N" of the session), summed, from /proc/PID/schedstat.
 */
static void drainer_time(unsigned long long *ns, unsigned long long *slices)
{
	char path[64], comm[32];
	unsigned long long a, b, c;
	FILE *f;
	int pid;

	*ns = *slices = 0;
	for (pid = 2; pid < 32768; pid++) {
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f) || strncmp(comm, "hvtrace-host/", 13)) {
			fclose(f);
			continue;
		}
		fclose(f);
		snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu %llu %llu", &a, &b, &c) == 3) {
			*ns += a;
			*slices += c;
		}
		fclose(f);
	}
}

static int cmd_host(int argc, char **argv)
{
	unsigned long long ns0, sl0, ns1, sl1;
	struct timespec w0, w1;
	uint64_t t0, t1;
	double tsc_per_ns;
	struct hvtrace_host_on on;
	struct hvtrace_host_stats st;
	int i, fd, rc;

	memset(&on, 0, sizeof(on));
	for (i = 0; i < argc && strcmp(argv[i], "--"); i++) {
		char *end;

		if (strcmp(argv[i], "-c") || i + 1 >= argc)
			return usage("host: bad argument");
		on.cpus = strtoull(argv[++i], &end, 0);
		if (*end)
			return usage("host: bad CPU mask");
	}
	if (i + 1 >= argc)
		return usage("host: no command");
	fd = dev_open();
	if (fd < 0)
		return 2;
	on.size = sizeof(on);
	on.version = HVTRACE_ABI_VERSION;
	if (ioctl(fd, HVTRACE_IOC_HOST_ON, &on)) {
		fprintf(stderr, "capbench: HOST_ON: %s\n", strerror(errno));
		return 2;
	}
	drainer_time(&ns0, &sl0);
	clock_gettime(CLOCK_MONOTONIC, &w0);
	t0 = tsc();
	rc = run_cmd(argv + i + 1);
	t1 = tsc();
	clock_gettime(CLOCK_MONOTONIC, &w1);
	drainer_time(&ns1, &sl1);
	/* the TSC's rate over the same span: drainer time in TSC cycles */
	tsc_per_ns = (double)(t1 - t0) /
		     ((double)(w1.tv_sec - w0.tv_sec) * 1e9 + (double)(w1.tv_nsec - w0.tv_nsec));
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	st.version = HVTRACE_ABI_VERSION;
	if (ioctl(fd, HVTRACE_IOC_HOST_OFF, &st)) {
		fprintf(stderr, "capbench: HOST_OFF: %s\n", strerror(errno));
		return 2;
	}
	close(fd);
	printf("host_session virtualized=%#llx exits=%llu cpuid_exits=%llu traced=%llu dropped=%llu buffer_full=%llu filtered=%llu host_mismatches=%llu drainer_ns=%llu drainer_slices=%llu drainer_cycles=%.0f\n",
	       (unsigned long long)on.virtualized, (unsigned long long)st.exits,
	       (unsigned long long)st.by_reason[CPUID_REASON],
	       (unsigned long long)st.traced, (unsigned long long)st.dropped,
	       (unsigned long long)st.buffer_full, (unsigned long long)st.filtered,
	       (unsigned long long)st.host_mismatches, ns1 - ns0, sl1 - sl0,
	       (double)(ns1 - ns0) * tsc_per_ns);
	if (rc < 0)
		return 2;
	return rc ? rc : (st.host_mismatches ? 1 : 0);
}

static int cmd_attach(int argc, char **argv)
{
	struct hvtrace_kvm_attach at;
	struct hvtrace_kvm_stats st;
	int fd, rc;

	long long pid = 0;

	if (argc > 2 && !strcmp(argv[0], "--pid")) {
		if (count_arg(argv[1], &pid) || pid > 0x7fffffff)
			return usage("attach: bad pid");
		argc -= 2;
		argv += 2;
	}
	if (argc < 2 || strcmp(argv[0], "--"))
		return usage("attach: no command");
	fd = dev_open();
	if (fd < 0)
		return 2;
	memset(&at, 0, sizeof(at));
	at.size = sizeof(at);
	at.version = HVTRACE_ABI_VERSION;
	if (pid) {
		at.nr_pids = 1;
		at.pids[0] = (__s32)pid;
	}
	if (ioctl(fd, HVTRACE_IOC_KVM_ATTACH, &at)) {
		fprintf(stderr, "capbench: KVM_ATTACH: %s\n", strerror(errno));
		return 2;
	}
	rc = run_cmd(argv + 1);
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	st.version = HVTRACE_ABI_VERSION;
	if (ioctl(fd, HVTRACE_IOC_KVM_DETACH, &st)) {
		fprintf(stderr, "capbench: KVM_DETACH: %s\n", strerror(errno));
		return 2;
	}
	close(fd);
	printf("kvm_attach exits=%llu traced=%llu dropped=%llu filtered=%llu vms=%llu\n",
	       (unsigned long long)st.exits, (unsigned long long)st.traced,
	       (unsigned long long)st.dropped,
	       (unsigned long long)(st.filtered_pid + st.filtered_reason),
	       (unsigned long long)st.vms);
	return rc < 0 ? 2 : rc;
}

/* ---- the VMM ----------------------------------------------------------- */

#define VM_MEM		0x100000	/* 1 MiB of RAM at GPA 0 */
#define CPUID_LOOP	0x1000
#define OUT_LOOP	0x1100
#define OUT_PORT	0x10

/*
 * 32-bit protected mode, flat segments, no paging.  ESI counts down.
 *   cpuid loop: xor eax,eax; cpuid; dec esi; jnz loop; hlt
 *   out loop:   out 0x10,al; dec esi; jnz loop; hlt
 */
static const uint8_t cpuid_code[] = { 0x31, 0xc0, 0x0f, 0xa2, 0x4e, 0x75, 0xf9, 0xf4 };
static const uint8_t out_code[] = { 0xe6, OUT_PORT, 0x4e, 0x75, 0xfb, 0xf4 };

struct vm {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	long run_size;
};

static int vm_die(const char *what)
{
	fprintf(stderr, "capbench: kvm: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void vm_create(struct vm *v)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = VM_MEM,
	};
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 0xb,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 0x3,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_cpuid2 *c;
	struct kvm_sregs s;
	uint8_t *mem;

	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0)
		vm_die("/dev/kvm");
	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		vm_die("KVM_CREATE_VM");
	if (ioctl(v->vm, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
		vm_die("KVM_SET_TSS_ADDR");
	mem = mmap(NULL, VM_MEM, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		vm_die("mmap");
	memset(mem, 0xf4, VM_MEM);	/* HLT everywhere else */
	memcpy(mem + CPUID_LOOP, cpuid_code, sizeof(cpuid_code));
	memcpy(mem + OUT_LOOP, out_code, sizeof(out_code));
	region.userspace_addr = (uint64_t)(uintptr_t)mem;
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		vm_die("KVM_SET_USER_MEMORY_REGION");
	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		vm_die("KVM_CREATE_VCPU");
	v->run_size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (v->run_size <= 0)
		vm_die("KVM_GET_VCPU_MMAP_SIZE");
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED)
		vm_die("mmap kvm_run");
	/* the CPUID the host's KVM offers, as a VMM would give its guest */
	c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	if (!c)
		vm_die("calloc");
	c->nent = 256;
	if (ioctl(v->kvm, KVM_GET_SUPPORTED_CPUID, c) < 0)
		vm_die("KVM_GET_SUPPORTED_CPUID");
	if (ioctl(v->vcpu, KVM_SET_CPUID2, c) < 0)
		vm_die("KVM_SET_CPUID2");
	free(c);
	if (ioctl(v->vcpu, KVM_GET_SREGS, &s) < 0)
		vm_die("KVM_GET_SREGS");
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr0 = 0x31;		/* PE ET NE */
	s.cr4 = 0;
	s.efer = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &s) < 0)
		vm_die("KVM_SET_SREGS");
}

/* Runs the loop at RIP n times; returns the TSC cycles of the whole run. */
static uint64_t vm_loop(struct vm *v, uint64_t rip, long long n, long long *uexits)
{
	struct kvm_regs r;
	uint64_t t0, t1;

	memset(&r, 0, sizeof(r));
	r.rip = rip;
	r.rsi = (uint64_t)n;
	r.rsp = VM_MEM - 16;
	r.rflags = 0x2;
	if (ioctl(v->vcpu, KVM_SET_REGS, &r) < 0)
		vm_die("KVM_SET_REGS");
	*uexits = 0;
	t0 = tsc();
	for (;;) {
		if (ioctl(v->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			vm_die("KVM_RUN");
		}
		(*uexits)++;
		if (v->run->exit_reason == KVM_EXIT_HLT)
			break;
		if (v->run->exit_reason != KVM_EXIT_IO || v->run->io.port != OUT_PORT ||
		    v->run->io.direction != KVM_EXIT_IO_OUT) {
			fprintf(stderr, "capbench: kvm: unexpected exit %u\n",
				v->run->exit_reason);
			exit(2);
		}
	}
	t1 = tsc();
	if (ioctl(v->vcpu, KVM_GET_REGS, &r) < 0)
		vm_die("KVM_GET_REGS");
	if (r.rsi != 0) {
		fprintf(stderr, "capbench: kvm: loop at %#" PRIx64 " stopped with %llu left\n",
			rip, (unsigned long long)r.rsi);
		exit(2);
	}
	return t1 - t0;
}

static int cmd_kvm(int argc, char **argv)
{
	long long ncpuid = 10000, nout = 3000, warm = 200, ue;
	struct vm v;
	uint64_t c;
	int i;

	for (i = 0; i < argc; i++) {
		long long *dst = NULL;

		if (!strcmp(argv[i], "--cpuid"))
			dst = &ncpuid;
		else if (!strcmp(argv[i], "--out"))
			dst = &nout;
		else if (!strcmp(argv[i], "--warm"))
			dst = &warm;
		if (!dst || i + 1 >= argc || count_arg(argv[++i], dst))
			return usage("kvm: bad argument");
	}
	vm_create(&v);
	/* warm-up: EPT entries of the code page, caches, the first-exit checks */
	vm_loop(&v, CPUID_LOOP, warm, &ue);
	vm_loop(&v, OUT_LOOP, warm, &ue);
	c = vm_loop(&v, CPUID_LOOP, ncpuid, &ue);
	report("kvm_cpuid", ncpuid, c);
	c = vm_loop(&v, OUT_LOOP, nout, &ue);
	report("kvm_out", nout, c);
	if (ue != nout + 1) {
		fprintf(stderr, "capbench: kvm: %lld exits to userspace, expected %lld\n",
			ue, nout + 1);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long long n;

	if (argc < 2)
		return usage("no command");
	pin0();
	if (!strcmp(argv[1], "tsc") && argc == 2) {
		printf("%" PRIu64 "\n", tsc());
		return 0;
	}
	if (!strcmp(argv[1], "host"))
		return cmd_host(argc - 2, argv + 2);
	if (!strcmp(argv[1], "attach"))
		return cmd_attach(argc - 2, argv + 2);
	if (!strcmp(argv[1], "kvm"))
		return cmd_kvm(argc - 2, argv + 2);
	if (!strcmp(argv[1], "cpuid") && argc == 4) {
		long long gap;

		if (count_arg(argv[2], &n) || count_arg(argv[3], &gap))
			return usage("bad count or gap");
		return cmd_cpuid(n, gap);
	}
	if (argc != 3 || count_arg(argv[2], &n))
		return usage("bad command or count");
	if (!strcmp(argv[1], "cpuid"))
		return cmd_cpuid(n, 0);
	if (!strcmp(argv[1], "cpu"))
		return cmd_cpu(n);
	if (!strcmp(argv[1], "sys"))
		return cmd_sys(n);
	return usage("unknown command");
}
