// SPDX-License-Identifier: GPL-2.0
/*
 * hvtrace record: run one workload of hvtrace.ko under an LTTng kernel
 * session and leave the CTF trace on disk.
 *
 *   hvtrace record --workload NAME [--seed N] [--iterations N] [--cpu N]
 *                  [--trap LIST] [--output DIR]
 *                  [--subbuf-size SIZE] [--num-subbuf N]
 *   hvtrace record --list
 *   hvtrace record --kvm [--pid PID]... [--reasons LIST] [--output DIR] ...
 *                  (--duration S | -- COMMAND ARGS...)
 *   hvtrace record --host [--cpus LIST] [--trap LIST] [--output DIR] ...
 *                  (--duration S | -- COMMAND ARGS...)
 *
 * Steps: check /dev/hvtrace and the workload name, check the session daemon
 * and that it knows the hvtrace_* kernel events (lttng-probe-hvtrace.ko),
 * create a session writing to DIR with one kernel channel in discard mode
 * (large buffers: the run keeps its CPU, so the consumer can only drain what
 * other CPUs let it), enable hvtrace_exit/resume/session, start, run the
 * workload with HVTRACE_IOC_RUN, stop (lttng_stop_tracing() waits until the
 * data is on disk), read the channel's discarded-event and lost-packet
 * counters, destroy the session.  Any discarded event is reported loudly and
 * makes the exit status 2: a trace with holes is not a clean recording.
 *
 * --kvm: the same session, but instead of a run the module's KVM backend is
 * attached (HVTRACE_IOC_KVM_ATTACH) while COMMAND runs (or for S seconds),
 * tracing the VM exits of real KVM guests; detached before the session
 * stops.  The attachment belongs to our descriptor of /dev/hvtrace, so it
 * ends even if this process dies.  Full guest state means guest secrets:
 * the trace folder is made readable by its owner only.
 *
 * --host: the same session around a host-mode session of the module
 * (HVTRACE_IOC_HOST_ON/OFF): the running Linux is virtualized on the chosen
 * CPUs while COMMAND runs (or for S seconds), its trapped exits traced,
 * and the CPUs given back before the LTTng session stops.  The session
 * belongs to our descriptor too: it ends if this process dies.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <lttng/lttng.h>

#include "hvtrace.h"
#include "hvtrace_events.h"
#include "exit_reasons.h"
#include "verbs/output.h"
#include "vmx/qual.h"
#include "verbs/verbs.h"

#define REC_CHANNEL		"hvtrace"
#define REC_DEF_SUBBUF		(4ULL << 20)	/* 4 MiB */
/*
 * Default sub-buffers per CPU: 256 MiB per CPU (TESTBED: 64 MiB lost half of
 * an 800k-exit burst, 256 MiB none), but LTTng allocates every possible
 * CPU's buffer up front, so the total is capped at 1 GiB and each CPU gets
 * at least 32 MiB.
 */
#define REC_MAX_NUM_SUBBUF	64ULL
#define REC_MIN_NUM_SUBBUF	8ULL
#define REC_TOTAL_BUDGET	(1ULL << 30)
#define REC_MAX_WORKLOADS	256

struct rec_opts {
	const char *workload;
	uint64_t seed;
	uint64_t iterations;
	uint32_t cpu;
	uint64_t trap_mask;
	const char *output;
	uint64_t subbuf_size;
	uint64_t num_subbuf;
	bool list;
	bool json;
	/* --kvm */
	bool kvm;
	uint32_t nr_pids;
	int32_t pids[HVTRACE_KVM_MAX_PIDS];
	uint64_t reasons[HVTRACE_NR_REASONS / 64];
	double duration;	/* seconds; 0: run the command */
	char **command;		/* after "--" */
	/* --host */
	bool host;
	const char *trap_spec;	/* --trap, parsed once the mode is known */
	struct hvtrace_host_on hon;
};

static const struct {
	const char *name;
	uint64_t bit;
} rec_traps[] = {
	{ "hlt", HVTRACE_TRAP_HLT },
	{ "rdtsc", HVTRACE_TRAP_RDTSC },
	{ "cr3", HVTRACE_TRAP_CR3 },
	{ "cr0_cr4", HVTRACE_TRAP_CR0_CR4 },
	{ "msr", HVTRACE_TRAP_MSR },
	{ "io", HVTRACE_TRAP_IO },
	{ "exc", HVTRACE_TRAP_EXC },
	{ "invlpg", HVTRACE_TRAP_INVLPG },
	{ "pause", HVTRACE_TRAP_PAUSE },
};

static const char *const rec_events[] = {
	HVTRACE_EVENT_EXIT, HVTRACE_EVENT_RESUME, HVTRACE_EVENT_SESSION,
};

/*
 * Ctrl-C or SIGTERM during a run: the module ends the run (status -EINTR)
 * when a signal is pending, so the handler only notes it; the verb then
 * stops and destroys the session as usual instead of leaving it behind.
 */
static volatile sig_atomic_t rec_signal;

static void rec_on_signal(int sig)
{
	rec_signal = sig;
}

static void rec_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rec_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void rec_usage(FILE *f)
{
	fprintf(f,
		"usage: hvtrace record --workload NAME [--seed N] [--iterations N] [--cpu N]\n"
		"                      [--trap LIST] [--output DIR]\n"
		"                      [--subbuf-size SIZE] [--num-subbuf N] [--format text|json]\n"
		"       hvtrace record --list\n"
		"Runs a workload of hvtrace.ko under an LTTng kernel session (needs root,\n"
		"a running lttng-sessiond --extra-kmod-probes=hvtrace and hvtrace.ko).\n"
		"  --workload NAME     a workload from --list\n"
		"  --seed N            workload seed (default 1)\n"
		"  --iterations N      workload iterations (default 20)\n"
		"  --cpu N             CPU to run on (default 0)\n"
		"  --trap LIST         extra exits to trap, comma-separated:\n"
		"                      hlt,rdtsc,cr3,cr0_cr4,msr,io,exc,invlpg,pause\n"
		"  --output DIR        trace folder, new or empty\n"
		"                      (default ./hvtrace-NAME-YYYYmmdd-HHMMSS)\n"
		"  --subbuf-size SIZE  LTTng sub-buffer size, power of 2, k/M/G suffix\n"
		"                      (default 4M)\n"
		"  --num-subbuf N      sub-buffers per CPU, power of 2 (default 64, fewer\n"
		"                      on machines with many CPUs: at most 1 GiB in all)\n"
		"  --format text|json  the run's result as text (default) or one JSON object\n"
		"                      (schemas/json/record.schema.json); errors stay on stderr\n"
		"  --list              list the module's workloads\n"
		"\n"
		"       hvtrace record --kvm [--pid PID]... [--reasons LIST] [--output DIR]\n"
		"                      [--subbuf-size SIZE] [--num-subbuf N]\n"
		"                      (--duration S | -- COMMAND ARGS...)\n"
		"Traces the VM exits of KVM guests (kvm_intel) with their full register state\n"
		"while COMMAND runs, or for S seconds.  The trace holds guest secrets (keys in\n"
		"registers): its folder is made readable by its owner only.\n"
		"  --pid PID           only VMs whose VMM has this pid (repeat, up to %d)\n"
		"  --reasons LIST      only these exit reasons, comma-separated names\n"
		"                      (CPUID,IO_INSTRUCTION,...) or numbers\n"
		"  --duration S        attach for S seconds (no command)\n"
		"\n"
		"       hvtrace record --host [--cpus LIST] [--trap LIST] [--output DIR]\n"
		"                      [--subbuf-size SIZE] [--num-subbuf N]\n"
		"                      (--duration S | -- COMMAND ARGS...)\n"
		"Virtualizes the running Linux on the chosen CPUs while COMMAND runs (or for\n"
		"S seconds) and traces the exits it traps with the full register state; the\n"
		"CPUs are given back afterwards.  CPUID always exits.\n"
		"  --cpus LIST         CPUs to virtualize, e.g. 0,2-3 (default: all online)\n"
		"  --trap LIST         also trap, comma-separated: rdtsc, msr=A[-B], io=P[-Q],\n"
		"                      exc=V (each range or vector repeatable, up to %d ranges)\n"
		"  --duration S        stay virtualized for S seconds (no command)\n",
		HVTRACE_KVM_MAX_PIDS, HVTRACE_HOST_MAX_RANGES);
}

/* One-line error, always the same shape; returns the error status. */
static int rec_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int rec_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);	/* keep the order of both streams in a shared log */
	fputs("hvtrace record: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return HVT_EXIT_ERROR;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

/* SIZE with an optional k/K, M or G suffix (powers of 1024). */
static bool parse_size(const char *s, uint64_t *v)
{
	char *end;
	unsigned int shift = 0;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	default:
		return false;
	}
	if (*end && end[1])
		return false;
	if (x > (UINT64_MAX >> shift))
		return false;
	*v = (uint64_t)x << shift;
	return true;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static bool parse_traps(const char *s, uint64_t *mask)
{
	char buf[256];
	char *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	*mask = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(rec_traps) / sizeof(rec_traps[0]); i++)
			if (!strcmp(t, rec_traps[i].name))
				break;
		if (i == sizeof(rec_traps) / sizeof(rec_traps[0]))
			return false;
		*mask |= rec_traps[i].bit;
	}
	return true;
}

/* Exit reasons by SDM name (any case) or number, comma-separated. */
static const struct {
	unsigned int code;
	const char *name;
} rec_reasons[] = {
#define REC_R(code, name, qual) { code, #name },
	HVTRACE_EXIT_REASONS(REC_R)
#undef REC_R
};

static bool parse_reasons(const char *s, uint64_t *mask)
{
	char buf[1024];
	char *save = NULL;
	bool any = false;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		size_t i;

		if (parse_u64(t, &v)) {
			if (v >= HVTRACE_NR_REASONS)
				return false;
		} else {
			for (i = 0; i < sizeof(rec_reasons) / sizeof(rec_reasons[0]); i++)
				if (!strcasecmp(t, rec_reasons[i].name))
					break;
			if (i == sizeof(rec_reasons) / sizeof(rec_reasons[0]))
				return false;
			v = rec_reasons[i].code;
		}
		mask[v / 64] |= 1ULL << (v % 64);
		any = true;
	}
	return any;
}

/* --cpus: comma-separated CPUs and ranges below 64, as a mask. */
static bool parse_cpus(const char *s, uint64_t *mask)
{
	char buf[256];
	char *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	*mask = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(t, '-');
		uint64_t a, b;

		if (dash)
			*dash = '\0';
		if (!parse_u64(t, &a) || (dash && !parse_u64(dash + 1, &b)))
			return false;
		if (!dash)
			b = a;
		if (a > b || b >= 64)
			return false;
		for (; a <= b; a++)
			*mask |= 1ULL << a;
	}
	return *mask != 0;
}

static bool parse_host_range(char *s, uint32_t max, struct hvtrace_host_range *r)
{
	char *dash = strchr(s, '-');
	uint64_t a, b;

	if (dash)
		*dash = '\0';
	if (!parse_u64(s, &a) || (dash && !parse_u64(dash + 1, &b)))
		return false;
	if (!dash)
		b = a;
	if (a > b || b > max)
		return false;
	r->first = (uint32_t)a;
	r->last = (uint32_t)b;
	return true;
}

/* --trap for --host: cpuid (always on), rdtsc, msr=A[-B], io=P[-Q], exc=V. */
static bool parse_host_traps(const char *s, struct hvtrace_host_on *on)
{
	char buf[512];
	char *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (!strcmp(t, "cpuid")) {
			continue;
		} else if (!strcmp(t, "rdtsc")) {
			on->trap_mask |= HVTRACE_TRAP_RDTSC;
		} else if (!strncmp(t, "msr=", 4)) {
			if (on->nr_msrs == HVTRACE_HOST_MAX_RANGES ||
			    !parse_host_range(t + 4, UINT32_MAX, &on->msrs[on->nr_msrs++]))
				return false;
			on->trap_mask |= HVTRACE_TRAP_MSR;
		} else if (!strncmp(t, "io=", 3)) {
			if (on->nr_ports == HVTRACE_HOST_MAX_RANGES ||
			    !parse_host_range(t + 3, 0xffff, &on->ports[on->nr_ports++]))
				return false;
			on->trap_mask |= HVTRACE_TRAP_IO;
		} else if (!strncmp(t, "exc=", 4)) {
			/* #DB, NMI and #MC belong to the host: the module refuses them */
			if (!parse_u64(t + 4, &v) || v > 31)
				return false;
			on->exc_bitmap |= 1u << v;
			on->trap_mask |= HVTRACE_TRAP_EXC;
		} else {
			return false;
		}
	}
	return true;
}

static uint64_t default_num_subbuf(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	uint64_t n = REC_MAX_NUM_SUBBUF;

	if (ncpu < 1)
		ncpu = 1;
	while (n > REC_MIN_NUM_SUBBUF && n * REC_DEF_SUBBUF * (uint64_t)ncpu > REC_TOTAL_BUDGET)
		n /= 2;
	return n;
}

static int rec_parse(int argc, char **argv, struct rec_opts *o)
{
	enum { O_SUBBUF = 256, O_NUMSUB, O_LIST, O_FORMAT, O_KVM, O_PID, O_REASONS,
	       O_DURATION, O_HOST, O_CPUS };
	static const struct option longopts[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 's' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "trap", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "subbuf-size", required_argument, NULL, O_SUBBUF },
		{ "num-subbuf", required_argument, NULL, O_NUMSUB },
		{ "list", no_argument, NULL, O_LIST },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ "kvm", no_argument, NULL, O_KVM },
		{ "pid", required_argument, NULL, O_PID },
		{ "reasons", required_argument, NULL, O_REASONS },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "host", no_argument, NULL, O_HOST },
		{ "cpus", required_argument, NULL, O_CPUS },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->iterations = 20;
	o->subbuf_size = REC_DEF_SUBBUF;
	o->num_subbuf = default_num_subbuf();
	optind = 1;
	opterr = 0;
	/* '+': stop at the first non-option (the command after "--") */
	while ((c = getopt_long(argc, argv, "+:w:s:n:c:t:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'w':
			o->workload = optarg;
			break;
		case 's':
			if (!parse_u64(optarg, &o->seed))
				return rec_err("bad --seed '%s' (an unsigned 64-bit number)", optarg);
			break;
		case 'n':
			if (!parse_u64(optarg, &o->iterations) || o->iterations == 0 ||
			    o->iterations > HVTRACE_MAX_ITERATIONS)
				return rec_err("bad --iterations '%s' (1..%llu)", optarg,
					       (unsigned long long)HVTRACE_MAX_ITERATIONS);
			break;
		case 'c':
			if (!parse_u64(optarg, &v) || v > UINT32_MAX)
				return rec_err("bad --cpu '%s'", optarg);
			o->cpu = (uint32_t)v;
			break;
		case 't':
			/* parsed below: its syntax depends on --host */
			o->trap_spec = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case O_SUBBUF:
			if (!parse_size(optarg, &o->subbuf_size) || !is_pow2(o->subbuf_size) ||
			    o->subbuf_size < 4096)
				return rec_err("bad --subbuf-size '%s' (a power of 2, at least 4k)", optarg);
			break;
		case O_NUMSUB:
			if (!parse_u64(optarg, &o->num_subbuf) || !is_pow2(o->num_subbuf) ||
			    o->num_subbuf < 2)
				return rec_err("bad --num-subbuf '%s' (a power of 2, at least 2)", optarg);
			break;
		case O_LIST:
			o->list = true;
			break;
		case O_FORMAT:
			if (!strcmp(optarg, "json"))
				o->json = true;
			else if (strcmp(optarg, "text"))
				return rec_err("bad --format '%s' (text or json)", optarg);
			break;
		case O_KVM:
			o->kvm = true;
			break;
		case O_PID:
			if (!parse_u64(optarg, &v) || v == 0 || v > INT32_MAX)
				return rec_err("bad --pid '%s'", optarg);
			if (o->nr_pids == HVTRACE_KVM_MAX_PIDS)
				return rec_err("at most %d --pid", HVTRACE_KVM_MAX_PIDS);
			o->pids[o->nr_pids++] = (int32_t)v;
			break;
		case O_REASONS:
			if (!parse_reasons(optarg, o->reasons))
				return rec_err("bad --reasons '%s' (comma-separated exit reason names such as CPUID,IO_INSTRUCTION, or numbers below %d)",
					       optarg, HVTRACE_NR_REASONS);
			break;
		case O_DURATION: {
			char *end;

			errno = 0;
			o->duration = strtod(optarg, &end);
			if (errno || *end || !(o->duration > 0) || o->duration > 1e7)
				return rec_err("bad --duration '%s' (seconds, > 0)", optarg);
			break;
		}
		case O_HOST:
			o->host = true;
			break;
		case O_CPUS:
			if (!parse_cpus(optarg, &v))
				return rec_err("bad --cpus '%s' (comma-separated CPUs or ranges below 64, e.g. 0,2-3)",
					       optarg);
			o->hon.cpus = v;
			break;
		case 'h':
			rec_usage(stdout);
			return -1;
		case ':':
			return rec_err("option '%s' needs a value", argv[optind - 1]);
		default:
			return rec_err("unknown option '%s' (see hvtrace record --help)",
				       argv[optind - 1]);
		}
	}
	if (o->host) {
		if (o->kvm || o->workload || o->list)
			return rec_err("--host traces the running Linux: no --kvm, --workload or --list with it");
		if (o->json)
			return rec_err("--format json is not available with --host yet");
		if (o->nr_pids || o->reasons[0] || o->reasons[1])
			return rec_err("--pid and --reasons go with --kvm");
		if (o->trap_spec && !parse_host_traps(o->trap_spec, &o->hon))
			return rec_err("bad --trap '%s' (comma-separated: cpuid,rdtsc,msr=A[-B],io=P[-Q],exc=V; at most %d ranges each)",
				       o->trap_spec, HVTRACE_HOST_MAX_RANGES);
		if (optind < argc && !strcmp(argv[optind - 1], "--"))
			o->command = &argv[optind];
		else if (optind < argc)
			return rec_err("unexpected argument '%s' (the command goes after --)",
				       argv[optind]);
		if (!o->command == !(o->duration > 0))
			return rec_err("--host needs either --duration S or -- COMMAND ARGS...");
		o->workload = "host";
		if (o->subbuf_size > (UINT64_MAX / o->num_subbuf))
			return rec_err("--subbuf-size times --num-subbuf overflows");
		return 0;
	}
	if (o->hon.cpus)
		return rec_err("--cpus goes with --host");
	if (o->trap_spec && !parse_traps(o->trap_spec, &o->trap_mask))
		return rec_err("bad --trap '%s' (comma-separated: hlt,rdtsc,cr3,cr0_cr4,msr,io,exc,invlpg,pause)",
			       o->trap_spec);
	if (o->kvm) {
		if (o->workload || o->list)
			return rec_err("--kvm traces KVM guests: no --workload or --list with it");
		if (o->json)
			return rec_err("--format json is not available with --kvm yet");
		if (optind < argc && !strcmp(argv[optind - 1], "--"))
			o->command = &argv[optind];
		else if (optind < argc)
			return rec_err("unexpected argument '%s' (the command goes after --)",
				       argv[optind]);
		if (!o->command == !(o->duration > 0))
			return rec_err("--kvm needs either --duration S or -- COMMAND ARGS...");
		o->workload = "kvm";
		if (o->subbuf_size > (UINT64_MAX / o->num_subbuf))
			return rec_err("--subbuf-size times --num-subbuf overflows");
		return 0;
	}
	if (o->nr_pids || o->duration > 0 || o->reasons[0] || o->reasons[1])
		return rec_err("--pid, --reasons and --duration go with --kvm");
	if (optind < argc)
		return rec_err("unexpected argument '%s'", argv[optind]);
	if (o->list)
		return 0;
	if (!o->workload)
		return rec_err("--workload NAME is required (hvtrace record --list shows them)");
	if (!*o->workload || strlen(o->workload) >= HVTRACE_NAME_LEN)
		return rec_err("bad workload name '%s' (1..%d characters)", o->workload,
			       HVTRACE_NAME_LEN - 1);
	if (o->subbuf_size > (UINT64_MAX / o->num_subbuf))
		return rec_err("--subbuf-size times --num-subbuf overflows");
	return 0;
}

static int open_device(int *fd)
{
	*fd = open(HVTRACE_DEVICE, O_RDWR | O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
		return rec_err("cannot open %s: %s (is hvtrace.ko loaded? modprobe hvtrace)",
			       HVTRACE_DEVICE, strerror(errno));
	if (errno == EACCES || errno == EPERM)
		return rec_err("cannot open %s: %s (recording needs root)", HVTRACE_DEVICE,
			       strerror(errno));
	return rec_err("cannot open %s: %s", HVTRACE_DEVICE, strerror(errno));
}

/* Fill names[] from HVTRACE_IOC_WORKLOAD; returns the count or -1. */
static int list_workloads(int fd, struct hvtrace_workload_info *wl, int max)
{
	int n;

	for (n = 0; n < max; n++) {
		memset(&wl[n], 0, sizeof(wl[n]));
		wl[n].size = sizeof(wl[n]);
		wl[n].version = HVTRACE_ABI_VERSION;
		wl[n].index = (uint32_t)n;
		if (ioctl(fd, HVTRACE_IOC_WORKLOAD, &wl[n]) < 0) {
			if (errno == ENOENT)
				break;
			rec_err("HVTRACE_IOC_WORKLOAD %d failed: %s", n, strerror(errno));
			return -1;
		}
		wl[n].name[HVTRACE_NAME_LEN - 1] = '\0';
		wl[n].description[sizeof(wl[n].description) - 1] = '\0';
	}
	return n;
}

/* mkdir -p: the folder and any missing parent. */
static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0750) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* The output folder: absolute (the session daemon resolves it), new or empty. */
static int prepare_output(const struct rec_opts *o, char *path, size_t len)
{
	char rel[PATH_MAX];
	char cwd[PATH_MAX];
	struct stat st;

	if (o->output) {
		if (snprintf(rel, sizeof(rel), "%s", o->output) >= (int)sizeof(rel))
			return rec_err("output path too long");
	} else {
		time_t now = time(NULL);
		struct tm tm;
		char stamp[32];

		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
		snprintf(rel, sizeof(rel), "hvtrace-%s-%s", o->workload, stamp);
	}
	if (stat(rel, &st) == 0) {
		DIR *d;
		struct dirent *e;
		bool empty = true;

		if (!S_ISDIR(st.st_mode))
			return rec_err("output '%s' exists and is not a folder", rel);
		d = opendir(rel);
		if (!d)
			return rec_err("cannot read output folder '%s': %s", rel, strerror(errno));
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				empty = false;
		closedir(d);
		if (!empty)
			return rec_err("output folder '%s' is not empty (a trace would be mixed into it)",
				       rel);
	} else if (mkdir_parents(rel) < 0) {
		return rec_err("cannot create output folder '%s': %s", rel, strerror(errno));
	}
	if (rel[0] == '/') {
		if (snprintf(path, len, "%s", rel) >= (int)len)
			return rec_err("output path too long");
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return rec_err("cannot get the current folder: %s", strerror(errno));
	if (snprintf(path, len, "%s/%s", cwd, rel) >= (int)len)
		return rec_err("output path too long");
	return 0;
}

/* Whether the kernel tracer knows every hvtrace event (probe module loaded). */
static int check_events(struct lttng_handle *h)
{
	struct lttng_event *evs = NULL;
	int n = lttng_list_tracepoints(h, &evs);
	size_t found = 0;

	if (n < 0)
		return rec_err("cannot list kernel tracepoints: %s (is lttng-modules loaded?)",
			       lttng_strerror(n));
	for (size_t i = 0; i < sizeof(rec_events) / sizeof(rec_events[0]); i++)
		for (int j = 0; j < n; j++)
			if (!strcmp(evs[j].name, rec_events[i])) {
				found++;
				break;
			}
	free(evs);
	if (found != sizeof(rec_events) / sizeof(rec_events[0]))
		return rec_err("the kernel tracer does not know the hvtrace events (start lttng-sessiond with --extra-kmod-probes=hvtrace, or modprobe lttng-probe-hvtrace)");
	return 0;
}

static int setup_session(const struct rec_opts *o, const char *session, const char *path,
			 struct lttng_handle **hp)
{
	struct lttng_domain dom;
	struct lttng_channel *ch;
	int ret;

	ret = lttng_create_session(session, path);
	if (ret < 0)
		return rec_err("cannot create LTTng session: %s", lttng_strerror(ret));
	memset(&dom, 0, sizeof(dom));
	dom.type = LTTNG_DOMAIN_KERNEL;
	dom.buf_type = LTTNG_BUFFER_GLOBAL;
	*hp = lttng_create_handle(session, &dom);
	if (!*hp)
		return rec_err("cannot create an LTTng handle for the kernel domain");
	if (check_events(*hp))
		return HVT_EXIT_ERROR;

	ch = lttng_channel_create(&dom);
	if (!ch)
		return rec_err("out of memory creating the channel");
	snprintf(ch->name, sizeof(ch->name), "%s", REC_CHANNEL);
	ch->enabled = 1;
	ch->attr.overwrite = 0;	/* discard mode: loss is counted, never silent */
	ch->attr.subbuf_size = o->subbuf_size;
	ch->attr.num_subbuf = o->num_subbuf;
	ch->attr.output = LTTNG_EVENT_SPLICE;
	ret = lttng_enable_channel(*hp, ch);
	lttng_channel_destroy(ch);
	if (ret < 0)
		return rec_err("cannot create kernel channel (%" PRIu64 " x %" PRIu64
			       " bytes per CPU): %s", o->num_subbuf, o->subbuf_size,
			       lttng_strerror(ret));

	for (size_t i = 0; i < sizeof(rec_events) / sizeof(rec_events[0]); i++) {
		struct lttng_event *ev = lttng_event_create();

		if (!ev)
			return rec_err("out of memory creating an event");
		snprintf(ev->name, sizeof(ev->name), "%s", rec_events[i]);
		ev->type = LTTNG_EVENT_TRACEPOINT;
		ev->loglevel_type = LTTNG_EVENT_LOGLEVEL_ALL;
		ret = lttng_enable_event(*hp, ev, REC_CHANNEL);
		lttng_event_destroy(ev);
		if (ret < 0)
			return rec_err("cannot enable kernel event %s: %s", rec_events[i],
				       lttng_strerror(ret));
	}
	return 0;
}

/* Discarded events and lost packets of our channel; -1 when unreadable. */
static int read_losses(struct lttng_handle *h, uint64_t *discarded, uint64_t *lost)
{
	struct lttng_channel *chs = NULL;
	int n = lttng_list_channels(h, &chs);
	int ret = -1;

	for (int i = 0; i < n; i++) {
		if (strcmp(chs[i].name, REC_CHANNEL))
			continue;
		if (lttng_channel_get_discarded_event_count(&chs[i], discarded) == 0 &&
		    lttng_channel_get_lost_packet_count(&chs[i], lost) == 0)
			ret = 0;
		break;
	}
	free(chs);
	return ret;
}

static const char *run_errno_hint(int err)
{
	switch (err) {
	case EINVAL:
		return "the module rejected the request (unknown workload, iterations, cpu or trap bits; dmesg has the reason)";
	case EBUSY:
		return "that CPU already runs a workload, or VMX is in use by another hypervisor (kvm_intel?)";
	case EOPNOTSUPP:
	case ENODEV:
		return "this CPU cannot run the hypervisor (no VMX, or VMX disabled by firmware)";
	case EPERM:
	case EACCES:
		return "recording needs root (CAP_SYS_ADMIN)";
	case ENOTTY:
		return "the module does not know this request (hvtrace.ko and hvtrace differ in version?)";
	default:
		return NULL;
	}
}

/* The run's result as one JSON object (schemas/json/record.schema.json). */
static int print_json(const struct rec_opts *o, const char *path, const struct hvtrace_run *run,
		      const char *reason, bool losses_known, uint64_t discarded, uint64_t lost)
{
	char trace[PATH_MAX + 8];
	json_t *j = json_object();
	int ret;

	if (!j)
		return -1;
	snprintf(trace, sizeof(trace), "%s/kernel", path);
	json_object_set_new(j, "verb", json_string("record"));
	json_object_set_new(j, "trace", json_string(trace));
	json_object_set_new(j, "workload", json_string(o->workload));
	json_object_set_new(j, "seed", hvt_json_u64(o->seed));
	json_object_set_new(j, "iterations", hvt_json_u64(o->iterations));
	json_object_set_new(j, "cpu", json_integer(o->cpu));
	json_object_set_new(j, "trap_mask", hvt_json_hex(o->trap_mask));
	json_object_set_new(j, "subbuf_size", hvt_json_u64(o->subbuf_size));
	json_object_set_new(j, "num_subbuf", hvt_json_u64(o->num_subbuf));
	json_object_set_new(j, "run_id", hvt_json_u64(run->run_id));
	json_object_set_new(j, "exits", hvt_json_u64(run->exits));
	json_object_set_new(j, "status", json_integer(run->status));
	json_object_set_new(j, "status_text",
			    json_string(run->status ? strerror(-run->status) : "completed"));
	json_object_set_new(j, "end_reason", json_integer(run->end_reason));
	json_object_set_new(j, "end_reason_name", json_string(reason));
	json_object_set_new(j, "vm_insn_error", json_integer(run->vm_insn_error));
	json_object_set_new(j, "discarded_events",
			    losses_known ? hvt_json_u64(discarded) : json_null());
	json_object_set_new(j, "lost_packets", losses_known ? hvt_json_u64(lost) : json_null());
	json_object_set_new(j, "complete",
			    json_boolean(!run->status && losses_known && !discarded && !lost));
	ret = hvt_json_write(stdout, j, 1);
	json_decref(j);
	return ret;
}

static int do_list(void)
{
	struct hvtrace_workload_info wl[REC_MAX_WORKLOADS];
	int fd, n, ret;

	ret = open_device(&fd);
	if (ret)
		return ret;
	n = list_workloads(fd, wl, REC_MAX_WORKLOADS);
	close(fd);
	if (n < 0)
		return HVT_EXIT_ERROR;
	int w = 0;

	for (int i = 0; i < n; i++)
		if ((int)strlen(wl[i].name) > w)
			w = (int)strlen(wl[i].name);
	for (int i = 0; i < n; i++)
		printf("%-*s  %s\n", w, wl[i].name, wl[i].description);
	return HVT_EXIT_OK;
}

/* Runs the command (or waits); returns its wait status, -1 if it could not run. */
static int run_command(const struct rec_opts *o, int devfd, pid_t *child)
{
	int wstatus = 0;

	*child = -1;
	if (!o->command) {
		struct timespec end, now;

		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += (time_t)o->duration;
		end.tv_nsec += (long)((o->duration - (double)(time_t)o->duration) * 1e9);
		if (end.tv_nsec >= 1000000000L) {
			end.tv_sec++;
			end.tv_nsec -= 1000000000L;
		}
		while (!rec_signal) {
			struct timespec left;

			clock_gettime(CLOCK_MONOTONIC, &now);
			left.tv_sec = end.tv_sec - now.tv_sec;
			left.tv_nsec = end.tv_nsec - now.tv_nsec;
			if (left.tv_nsec < 0) {
				left.tv_sec--;
				left.tv_nsec += 1000000000L;
			}
			if (left.tv_sec < 0)
				break;
			nanosleep(&left, NULL);
		}
		return 0;
	}
	fflush(stdout);
	fflush(stderr);
	*child = fork();
	if (*child < 0) {
		rec_err("cannot fork: %s", strerror(errno));
		return -1;
	}
	if (*child == 0) {
		close(devfd);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(o->command[0], o->command);
		fprintf(stderr, "hvtrace record: cannot run '%s': %s\n", o->command[0],
			strerror(errno));
		_exit(127);
	}
	while (waitpid(*child, &wstatus, 0) < 0) {
		if (errno != EINTR) {
			rec_err("waitpid: %s", strerror(errno));
			return -1;
		}
		if (rec_signal)	/* pass Ctrl-C/SIGTERM on if it was only ours */
			kill(*child, (int)rec_signal);
	}
	return wstatus;
}

static const char *kvm_errno_hint(int err)
{
	switch (err) {
	case EBUSY:
		return "another hvtrace record --kvm is attached";
	case ENOENT:
		return "kvm.ko is not loaded (modprobe kvm_intel); dmesg has the reason";
	case ENODEV:
	case EOPNOTSUPP:
		return "only KVM on Intel VMX (kvm_intel) on the kernels the module handles; dmesg has the reason";
	case ENOTTY:
		return "hvtrace.ko has no KVM backend (module older than this hvtrace?)";
	case EPERM:
	case EACCES:
		return "recording needs root (CAP_SYS_ADMIN)";
	default:
		return NULL;
	}
}

/*
 * A recording by a backend attached for the time of a command (KVM, host
 * mode): the LTTng session, the attachment, the command or the wait, the
 * detachment, the losses and the verdict are the same; what is attached,
 * and what its statistics say, are the backend's.
 */
struct rec_backend {
	/* Attach; prints what was attached.  0, or -1 after saying why. */
	int (*start)(struct rec_opts *o, int fd, void *ctx);
	/* Detach and fetch the statistics: 0, or -1 after saying why. */
	int (*end)(struct rec_opts *o, int fd, void *ctx);
	/* The statistics' lines on stdout. */
	void (*print)(const struct rec_opts *o, const void *ctx);
	/* Warnings on what the statistics say is wrong: 1 when any. */
	int (*warn)(const struct rec_opts *o, const void *ctx);
	const char *interrupted;	/* what a signal left: "detached, trace kept" */
};

static int record_backend(struct rec_opts *o, const struct rec_backend *be, void *ctx)
{
	struct lttng_handle *h = NULL;
	char path[PATH_MAX];
	char session[64];
	uint64_t discarded = 0, lost = 0;
	bool created = false, ended = false, losses_known;
	int fd = -1, ret, wstatus = 0, status = HVT_EXIT_ERROR;
	pid_t child = -1;

	ret = open_device(&fd);
	if (ret)
		return ret;
	if (lttng_session_daemon_alive() != 1) {
		rec_err("no LTTng session daemon is running (as root: lttng-sessiond -d --extra-kmod-probes=hvtrace)");
		goto out;
	}
	if (prepare_output(o, path, sizeof(path)))
		goto out;
	/* guest registers, or every traced program's, are secrets: owner only */
	if (chmod(path, 0700) < 0) {
		rec_err("cannot restrict '%s' to its owner: %s", path, strerror(errno));
		goto out;
	}

	rec_catch_signals();
	snprintf(session, sizeof(session), "hvtrace-record-%ld", (long)getpid());
	ret = setup_session(o, session, path, &h);
	created = true;
	if (ret)
		goto out;
	ret = lttng_start_tracing(session);
	if (ret < 0) {
		rec_err("cannot start tracing: %s", lttng_strerror(ret));
		goto out;
	}
	if (be->start(o, fd, ctx))
		goto out_stop;
	wstatus = run_command(o, fd, &child);
	if (be->end(o, fd, ctx))
		goto out_stop;
	ended = true;

out_stop:
	/* Stop waits until the consumer has written everything out. */
	ret = lttng_stop_tracing(session);
	if (ret < 0) {
		rec_err("cannot stop tracing: %s", lttng_strerror(ret));
		goto out;
	}
	if (!ended)
		goto out;
	losses_known = read_losses(h, &discarded, &lost) == 0;

	printf("trace: %s/kernel\n", path);
	be->print(o, ctx);
	if (losses_known && !discarded && !lost)
		printf("events discarded: 0, packets lost: 0\n");
	if (o->command) {
		if (WIFEXITED(wstatus))
			printf("command: exited with status %d\n", WEXITSTATUS(wstatus));
		else if (WIFSIGNALED(wstatus))
			printf("command: killed by signal %d\n", WTERMSIG(wstatus));
	}
	status = HVT_EXIT_OK;
	if (!losses_known) {
		rec_err("WARNING: cannot read the channel's discarded-event counters; the trace may be incomplete");
		status = HVT_EXIT_ERROR;
	} else if (discarded || lost) {
		rec_err("WARNING: LTTng DISCARDED %" PRIu64 " events and lost %" PRIu64
			" packets: the trace is incomplete (raise --subbuf-size/--num-subbuf)",
			discarded, lost);
		status = HVT_EXIT_ERROR;
	}
	if (be->warn(o, ctx))
		status = HVT_EXIT_ERROR;
	if (wstatus == -1) {
		status = HVT_EXIT_ERROR;	/* said already */
	} else if (o->command && !(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)) {
		rec_err("the command failed (%s %d)",
			WIFEXITED(wstatus) ? "exit status" : "signal",
			WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus));
		status = HVT_EXIT_ERROR;
	}
	if (rec_signal) {
		rec_err("interrupted by signal %d; %s", (int)rec_signal, be->interrupted);
		status = HVT_EXIT_ERROR;
	}
out:
	if (h)
		lttng_destroy_handle(h);
	if (created) {
		ret = lttng_destroy_session(session);
		if (ret < 0 && status == HVT_EXIT_OK) {
			rec_err("cannot destroy session %s: %s", session, lttng_strerror(ret));
			status = HVT_EXIT_ERROR;
		}
	}
	if (fd >= 0)
		close(fd);	/* also ends an attachment left behind */
	return status;
}

/* ---- record --kvm ------------------------------------------------------- */

static int kvm_start(struct rec_opts *o, int fd, void *ctx)
{
	struct hvtrace_kvm_attach at;

	(void)ctx;
	memset(&at, 0, sizeof(at));
	at.size = sizeof(at);
	at.version = HVTRACE_ABI_VERSION;
	at.nr_pids = o->nr_pids;
	memcpy(at.pids, o->pids, sizeof(at.pids));
	memcpy(at.reasons, o->reasons, sizeof(at.reasons));
	if (ioctl(fd, HVTRACE_IOC_KVM_ATTACH, &at) < 0) {
		int e = errno;
		const char *hint = kvm_errno_hint(e);

		return rec_err("HVTRACE_IOC_KVM_ATTACH failed: %s%s%s", strerror(e),
			       hint ? ": " : "", hint ? hint : ""), -1;
	}
	if (o->command)
		fprintf(stderr, "hvtrace record: attached to KVM (attach %" PRIu64 "), running %s\n",
			(uint64_t)at.attach_id, o->command[0]);
	else
		fprintf(stderr, "hvtrace record: attached to KVM (attach %" PRIu64 ") for %g s\n",
			(uint64_t)at.attach_id, o->duration);
	return 0;
}

static int kvm_end(struct rec_opts *o, int fd, void *ctx)
{
	struct hvtrace_kvm_stats *st = ctx;

	(void)o;
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->version = HVTRACE_ABI_VERSION;
	if (ioctl(fd, HVTRACE_IOC_KVM_DETACH, st) < 0)
		return rec_err("HVTRACE_IOC_KVM_DETACH failed: %s", strerror(errno)), -1;
	return 0;
}

static void kvm_print(const struct rec_opts *o, const void *ctx)
{
	const struct hvtrace_kvm_stats *st = ctx;

	(void)o;
	printf("kvm attach %" PRIu64 ": %" PRIu64 " exits seen, %" PRIu64 " traced, %" PRIu64
	       " resumes, %" PRIu64 " filtered (pid %" PRIu64 ", reason %" PRIu64 "), %" PRIu64
	       " dropped, %" PRIu64 " untraceable; %" PRIu64 " VMs, %" PRIu64 " vCPUs\n",
	       (uint64_t)st->attach_id, (uint64_t)st->exits, (uint64_t)st->traced,
	       (uint64_t)st->resumes, (uint64_t)(st->filtered_pid + st->filtered_reason),
	       (uint64_t)st->filtered_pid, (uint64_t)st->filtered_reason, (uint64_t)st->dropped,
	       (uint64_t)st->untraceable, (uint64_t)st->vms, (uint64_t)st->vcpus);
	if (st->fpu_from_memory)
		printf("XMM/MXCSR read from the saved guest FPU state at %" PRIu64 " exits\n",
		       (uint64_t)st->fpu_from_memory);
}

static int kvm_warn(const struct rec_opts *o, const void *ctx)
{
	const struct hvtrace_kvm_stats *st = ctx;

	(void)o;
	if (!st->dropped)
		return 0;
	rec_err("WARNING: the module DROPPED %" PRIu64 " exits (no tracer or no memory): the trace is incomplete",
		(uint64_t)st->dropped);
	return 1;
}

static int cmd_record_kvm(struct rec_opts *o)
{
	static const struct rec_backend kvm = {
		.start = kvm_start, .end = kvm_end, .print = kvm_print, .warn = kvm_warn,
		.interrupted = "detached, trace kept",
	};
	struct hvtrace_kvm_stats st;

	return record_backend(o, &kvm, &st);
}

/* ---- record --host ------------------------------------------------------ */

static const char *host_errno_hint(int err)
{
	switch (err) {
	case EBUSY:
		return "another host-mode session is running, or VMX is held by another hypervisor (kvm_intel?); dmesg has the reason";
	case EINVAL:
		return "a CPU is offline, or #DB/NMI/#MC were asked for (they belong to the host)";
	case EOPNOTSUPP:
		return "this CPU's VMX lacks what host mode needs; dmesg has the reason";
	case EIO:
		return "a VMX instruction failed; dmesg has the reason";
	case ENOTTY:
		return "hvtrace.ko has no host mode (module older than this hvtrace?)";
	case EPERM:
	case EACCES:
		return "recording needs root (CAP_SYS_ADMIN)";
	default:
		return NULL;
	}
}

static int host_start(struct rec_opts *o, int fd, void *ctx)
{
	(void)ctx;
	o->hon.size = sizeof(o->hon);
	o->hon.version = HVTRACE_ABI_VERSION;
	if (ioctl(fd, HVTRACE_IOC_HOST_ON, &o->hon) < 0) {
		int e = errno;
		const char *hint = host_errno_hint(e);

		return rec_err("HVTRACE_IOC_HOST_ON failed: %s%s%s", strerror(e),
			       hint ? ": " : "", hint ? hint : ""), -1;
	}
	fprintf(stderr, "hvtrace record: cpus %#" PRIx64 " virtualized (session %" PRIu64 ")%s%s\n",
		(uint64_t)o->hon.virtualized, (uint64_t)o->hon.session_id,
		o->command ? ", running " : "", o->command ? o->command[0] : "");
	return 0;
}

static int host_end(struct rec_opts *o, int fd, void *ctx)
{
	struct hvtrace_host_stats *st = ctx;

	(void)o;
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->version = HVTRACE_ABI_VERSION;
	if (ioctl(fd, HVTRACE_IOC_HOST_OFF, st) < 0)
		return rec_err("HVTRACE_IOC_HOST_OFF failed: %s", strerror(errno)), -1;
	return 0;
}

static void host_print(const struct rec_opts *o, const void *ctx)
{
	const struct hvtrace_host_stats *st = ctx;

	printf("host session %" PRIu64 ": cpus %#" PRIx64 ", %" PRIu64 " exits, %" PRIu64
	       " traced, %" PRIu64 " dropped (%" PRIu64 " for a full buffer), %" PRIu64
	       " filtered (the drainer's own); host state %s (%" PRIu64 " checks)\n",
	       (uint64_t)st->session_id, (uint64_t)o->hon.virtualized, (uint64_t)st->exits,
	       (uint64_t)st->traced, (uint64_t)st->dropped, (uint64_t)st->buffer_full,
	       (uint64_t)st->filtered, st->host_mismatches ? "CHANGED" : "intact",
	       (uint64_t)st->host_checks);
}

static int host_warn(const struct rec_opts *o, const void *ctx)
{
	const struct hvtrace_host_stats *st = ctx;
	int bad = 0;

	(void)o;
	if (st->dropped) {
		rec_err("WARNING: the module DROPPED %" PRIu64 " exits (%" PRIu64
			" for a full buffer): the trace is incomplete",
			(uint64_t)st->dropped, (uint64_t)st->buffer_full);
		bad = 1;
	}
	if (st->host_mismatches || st->virtualized) {
		rec_err("WARNING: host state changed (%" PRIu64 " differences) or CPUs %#" PRIx64
			" still virtualized: dmesg has the details",
			(uint64_t)st->host_mismatches, (uint64_t)st->virtualized);
		bad = 1;
	}
	return bad;
}

static int cmd_record_host(struct rec_opts *o)
{
	static const struct rec_backend host = {
		.start = host_start, .end = host_end, .print = host_print, .warn = host_warn,
		.interrupted = "CPUs given back, trace kept",
	};
	struct hvtrace_host_stats st;

	return record_backend(o, &host, &st);
}

int cmd_record(int argc, char **argv)
{
	struct hvtrace_workload_info wl[REC_MAX_WORKLOADS];
	struct rec_opts o;
	struct hvtrace_run run;
	struct lttng_handle *h = NULL;
	char path[PATH_MAX];
	char session[64];
	char reason[64];
	uint64_t discarded = 0, lost = 0;
	bool created = false, losses_known;
	int fd = -1, n, ret, run_errno = 0, status = HVT_EXIT_ERROR;

	ret = rec_parse(argc, argv, &o);
	if (ret)
		return ret < 0 ? HVT_EXIT_OK : ret;
	if (o.list)
		return do_list();
	if (o.kvm)
		return cmd_record_kvm(&o);
	if (o.host)
		return cmd_record_host(&o);

	/* Cheap checks first: device, workload name, session daemon. */
	ret = open_device(&fd);
	if (ret)
		return ret;
	n = list_workloads(fd, wl, REC_MAX_WORKLOADS);
	if (n < 0)
		goto out;
	{
		int i;
		char known[1024] = "";

		for (i = 0; i < n; i++)
			if (!strcmp(wl[i].name, o.workload))
				break;
		if (i == n) {
			for (int j = 0; j < n; j++) {
				size_t l = strlen(known);

				snprintf(known + l, sizeof(known) - l, "%s%s", j ? " " : "",
					 wl[j].name);
			}
			rec_err("unknown workload '%s' (known: %s)", o.workload, known);
			goto out;
		}
	}
	if (lttng_session_daemon_alive() != 1) {
		rec_err("no LTTng session daemon is running (as root: lttng-sessiond -d --extra-kmod-probes=hvtrace)");
		goto out;
	}
	if (prepare_output(&o, path, sizeof(path)))
		goto out;

	rec_catch_signals();
	snprintf(session, sizeof(session), "hvtrace-record-%ld", (long)getpid());
	ret = setup_session(&o, session, path, &h);
	created = true;
	if (ret)
		goto out;
	ret = lttng_start_tracing(session);
	if (ret < 0) {
		rec_err("cannot start tracing: %s", lttng_strerror(ret));
		goto out;
	}

	memset(&run, 0, sizeof(run));
	run.size = sizeof(run);
	run.version = HVTRACE_ABI_VERSION;
	snprintf(run.workload, sizeof(run.workload), "%s", o.workload);
	run.seed = o.seed;
	run.iterations = o.iterations;
	run.cpu = o.cpu;
	run.trap_mask = o.trap_mask;
	fprintf(stderr, "hvtrace record: running %s (seed %" PRIu64 ", %" PRIu64
		" iterations) on cpu %u\n", o.workload, o.seed, o.iterations, o.cpu);
	if (!rec_signal && ioctl(fd, HVTRACE_IOC_RUN, &run) < 0)
		run_errno = errno;

	/* Stop waits until the consumer has written everything out. */
	ret = lttng_stop_tracing(session);
	if (ret < 0) {
		rec_err("cannot stop tracing: %s", lttng_strerror(ret));
		goto out;
	}
	losses_known = read_losses(h, &discarded, &lost) == 0;

	if (rec_signal && (run_errno || run.exits == 0)) {
		rec_err("interrupted by signal %d before the run completed; session destroyed",
			(int)rec_signal);
		goto out;
	}
	if (run_errno) {
		const char *hint = run_errno_hint(run_errno);

		rec_err("HVTRACE_IOC_RUN failed: %s%s%s", strerror(run_errno),
			hint ? ": " : "", hint ? hint : "");
		goto out;
	}

	hvt_exit_reason_format(run.end_reason, reason, sizeof(reason));
	if (o.json) {
		if (print_json(&o, path, &run, reason, losses_known, discarded, lost) < 0) {
			rec_err("cannot write the JSON result: %s", strerror(errno));
			goto out;
		}
	} else {
		printf("trace: %s/kernel\n", path);
		printf("run %" PRIu64 ": workload %s seed %" PRIu64 " iterations %" PRIu64
		       " cpu %u: %" PRIu64 " exits, status %d (%s), last exit %s\n",
		       (uint64_t)run.run_id, o.workload, o.seed, o.iterations, o.cpu,
		       (uint64_t)run.exits, run.status,
		       run.status ? strerror(-run.status) : "completed", reason);
		if (run.vm_insn_error)
			printf("VM-instruction error: %u\n", run.vm_insn_error);
		if (losses_known && !discarded && !lost)
			printf("events discarded: 0, packets lost: 0\n");
	}
	status = HVT_EXIT_OK;
	if (!losses_known) {
		rec_err("WARNING: cannot read the channel's discarded-event counters; the trace may be incomplete");
		status = HVT_EXIT_ERROR;
	} else if (discarded || lost) {
		rec_err("WARNING: LTTng DISCARDED %" PRIu64 " events and lost %" PRIu64
			" packets: the trace is incomplete (raise --subbuf-size/--num-subbuf)",
			discarded, lost);
		status = HVT_EXIT_ERROR;
	}
	if (run.status) {
		rec_err("the run ended early: %s (status %d, last exit %s)",
			strerror(-run.status), run.status, reason);
		status = HVT_EXIT_ERROR;
	}
out:
	if (h)
		lttng_destroy_handle(h);
	if (created) {
		ret = lttng_destroy_session(session);
		if (ret < 0 && status == HVT_EXIT_OK) {
			rec_err("cannot destroy session %s: %s", session, lttng_strerror(ret));
			status = HVT_EXIT_ERROR;
		}
	}
	if (fd >= 0)
		close(fd);
	return status;
}
