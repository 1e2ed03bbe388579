// SPDX-License-Identifier: GPL-2.0
/*
 * hvtrace-kvmsynth: writes a synthetic *plain* LTTng kvm trace, the kind
 * lttng-modules' own kvm probes record without hvtrace.ko: kvm_x86_exit /
 * kvm_x86_entry events (or the older kvm_exit / kvm_entry), one stream file
 * per CPU with cpu_id in the packet context, a monotonic clock.  Field
 * names and types follow lttng-modules'
 * include/instrumentation/events/arch/x86/kvm/trace.h:
 *
 *   kvm_x86_exit (kernel >= 5.10): exit_reason, guest_rip, isa, info1,
 *                info2, intr_info, error_code, vcpu_id
 *   kvm_exit     (older: lttng-modules before the kvm_x86_ map, or kernels
 *                before 5.7 with it): exit_reason, guest_rip, isa, info1, info2
 *   kvm_x86_entry / kvm_entry: vcpu_id.  lttng-modules 2.13 declares
 *                kvm_entry(unsigned int vcpu_id) while kernels since 5.10
 *                pass the vCPU pointer, so in "x86" traces its vcpu_id is
 *                the low half of a pointer (written so here); in "old"
 *                traces it is the vCPU's id.
 *
 * The analyzer's tests read these traces (hvtrace hist gives perf kvm
 * stat's table on them; replay and diff refuse them).  Deterministic for a
 * seed; --expect-hist prints what was written as CSV.
 */
#include <babeltrace2/babeltrace.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exit_reasons.h"

#define ERR 2
#define MAX_VCPUS 64
#define NRIPS 8			/* guest RIPs per reason */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("hvtrace-kvmsynth: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(ERR);
}

/* xoshiro-style generator, seeded by splitmix64 */
struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}

/*
 * What a Linux guest's exits look like to KVM on VMX: reason, weight,
 * handling time (exit to entry) base in ns.  SVM codes for --isa svm.
 */
struct kind {
	uint32_t vmx, svm;
	unsigned int weight;
	unsigned int base_ns;	/* handling takes base + [0, base) ns */
};

static const struct kind kinds[] = {
	{ 1, 0x060, 20, 900 },		/* EXTERNAL_INTERRUPT / SVM INTR */
	{ 12, 0x078, 8, 40000 },	/* HLT: the vCPU sleeps until an event */
	{ 30, 0x07b, 18, 2500 },	/* IO_INSTRUCTION / IOIO */
	{ 32, 0x07c, 15, 700 },		/* WRMSR / MSR */
	{ 31, 0x07c, 3, 600 },		/* RDMSR / MSR */
	{ 48, 0x400, 10, 3000 },	/* EPT_VIOLATION / NPF */
	{ 49, 0x400, 6, 4000 },		/* EPT_MISCONFIG (MMIO) / NPF */
	{ 10, 0x072, 5, 1200 },		/* CPUID */
	{ 40, 0x077, 4, 500 },		/* PAUSE */
	{ 52, 0x060, 3, 800 },		/* PREEMPTION_TIMER / INTR */
	{ 7, 0x064, 4, 600 },		/* INTERRUPT_WINDOW / VINTR */
	{ 0, 0x04e, 2, 5000 },		/* EXCEPTION_NMI (#PF) / EXCP PF */
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

struct vcpu {
	unsigned int id;
	unsigned int cpu;	/* where it runs now */
	int32_t tid;
	struct rng r;
	uint64_t left;		/* exits still to make */
	uint64_t made;
	int64_t next_ns;	/* time of its next event */
	bool in_exit;		/* the next event is the entry */
	unsigned int kind;	/* of the pending exit */
	int64_t exit_ns;
	bool lose;		/* the pending exit and its entry are lost */
};

struct opts {
	const char *out;
	uint64_t exits;
	unsigned int vcpus, cpus;
	uint64_t seed;
	bool old;		/* kvm_exit / kvm_entry, no vcpu_id in the exit */
	bool svm;
	bool tid;		/* a tid context field in every event */
	unsigned int migrate;	/* 1 in N entries happens on another CPU */
	uint64_t lose_n, lose_at;	/* vCPU 0 loses exits lose_at.. */
	bool expect;
	bool no_entry;		/* only exit events are enabled */
};

/* Expected histogram: per vCPU (and all) per kind. */
struct exp {
	uint64_t count, timed, total, min, max;
};

static struct {
	struct opts o;
	struct vcpu v[MAX_VCPUS];
	bt_trace_class *tc;
	bt_stream_class *sc;
	bt_clock_class *cc;
	bt_event_class *ec_exit, *ec_entry;
	bt_trace *trace;
	bt_stream **stream;	/* per CPU */
	bt_packet **packet;
	uint64_t *packet_events;
	int64_t *last_ns;
	uint64_t *lost;		/* per CPU: events lost before the next one */
	bool *close_after;	/* per CPU: the packet ends with this event */
	struct exp exp[MAX_VCPUS][NKINDS];
	uint64_t lost_total;
	bool finished;
} S;

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		die("%s needs a number", what);
	v = strtoull(s, &end, 0);
	if (*end)
		die("%s: '%s' is not a number", what, s);
	return v;
}

static void usage(FILE *f)
{
	fputs("usage: hvtrace-kvmsynth --out DIR [--exits N] [--vcpus N] [--cpus N]\n"
	      "         [--seed S] [--format x86|old] [--isa vmx|svm] [--tid]\n"
	      "         [--migrate N] [--discarded N@K] [--no-entry] [--expect-hist]\n"
	      "Writes a synthetic plain LTTng kvm trace (lttng-modules' kvm probes,\n"
	      "no hvtrace.ko) into DIR (new or empty).\n"
	      "  --exits N        exits, all vCPUs (default 1000)\n"
	      "  --vcpus N        vCPUs (default 2, at most 64)\n"
	      "  --cpus N         host CPUs, one stream file each (default: vcpus)\n"
	      "  --format x86     kvm_x86_exit with vcpu_id, kvm_x86_entry whose vcpu_id\n"
	      "                   is a pointer's low half (lttng-modules 2.13, kernel 6.x)\n"
	      "  --format old     kvm_exit without vcpu_id, kvm_entry with it\n"
	      "  --isa svm        AMD exit codes (isa 2) instead of VMX (isa 1)\n"
	      "  --tid            a tid context in each event (lttng add-context -t tid)\n"
	      "  --migrate N      1 in N entries happens on another CPU (needs --tid to\n"
	      "                   pair exits with entries exactly)\n"
	      "  --discarded N@K  the tracer loses vCPU 0's exits K..K+N-1 and entries\n"
	      "  --no-entry       only kvm_x86_exit enabled: counts, no time\n"
	      "  --expect-hist    print vcpu,reason,count,timed,total_ns,min_ns,max_ns\n"
	      "                   (vcpu 'all' for every vCPU) on stdout\n", f);
}

static void parse_args(int argc, char **argv)
{
	struct opts *o = &S.o;

	o->exits = 1000;
	o->vcpus = 2;
	o->seed = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--out") && v) {
			o->out = v;
			i++;
		} else if (!strcmp(a, "--exits") && v) {
			o->exits = parse_u64(v, a);
			i++;
		} else if (!strcmp(a, "--vcpus") && v) {
			o->vcpus = (unsigned int)parse_u64(v, a);
			i++;
		} else if (!strcmp(a, "--cpus") && v) {
			o->cpus = (unsigned int)parse_u64(v, a);
			i++;
		} else if (!strcmp(a, "--seed") && v) {
			o->seed = parse_u64(v, a);
			i++;
		} else if (!strcmp(a, "--format") && v) {
			if (strcmp(v, "x86") && strcmp(v, "old"))
				die("--format takes x86 or old, not '%s'", v);
			o->old = !strcmp(v, "old");
			i++;
		} else if (!strcmp(a, "--isa") && v) {
			if (strcmp(v, "vmx") && strcmp(v, "svm"))
				die("--isa takes vmx or svm, not '%s'", v);
			o->svm = !strcmp(v, "svm");
			i++;
		} else if (!strcmp(a, "--tid")) {
			o->tid = true;
		} else if (!strcmp(a, "--migrate") && v) {
			o->migrate = (unsigned int)parse_u64(v, a);
			i++;
		} else if (!strcmp(a, "--discarded") && v) {
			const char *at = strchr(v, '@');
			char buf[32];

			if (!at || (size_t)(at - v) >= sizeof(buf))
				die("--discarded: '%s' is not N@K", v);
			memcpy(buf, v, (size_t)(at - v));
			buf[at - v] = '\0';
			o->lose_n = parse_u64(buf, a);
			o->lose_at = parse_u64(at + 1, a);
			i++;
		} else if (!strcmp(a, "--no-entry")) {
			o->no_entry = true;
		} else if (!strcmp(a, "--expect-hist")) {
			o->expect = true;
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			/* quiet is the default */
		} else {
			die("unknown option or missing value: '%s' (try --help)", a);
		}
	}
	if (!o->out)
		die("--out DIR is required");
	if (!o->vcpus || o->vcpus > MAX_VCPUS)
		die("--vcpus between 1 and %d", MAX_VCPUS);
	if (!o->cpus)
		o->cpus = o->vcpus;
	if (o->cpus > 256)
		die("--cpus at most 256");
	if (o->exits < o->vcpus)
		die("--exits: at least one per vCPU");
}

/* ------------------------------------------------------------ classes */

static bt_field_class *int_fc(unsigned int bits, bool sgn, bool hex)
{
	bt_field_class *fc = sgn ? bt_field_class_integer_signed_create(S.tc) :
			     bt_field_class_integer_unsigned_create(S.tc);

	if (!fc)
		die("out of memory");
	bt_field_class_integer_set_field_value_range(fc, bits);
	if (hex)
		bt_field_class_integer_set_preferred_display_base(fc,
			BT_FIELD_CLASS_INTEGER_PREFERRED_DISPLAY_BASE_HEXADECIMAL);
	return fc;
}

static void member(bt_field_class *st, const char *name, unsigned int bits, bool sgn, bool hex)
{
	bt_field_class *fc = int_fc(bits, sgn, hex);

	if (bt_field_class_structure_append_member(st, name, fc))
		die("cannot add field %s", name);
	bt_field_class_put_ref(fc);
}

static bt_event_class *event_class(const char *name, bt_field_class *st)
{
	bt_event_class *ec = bt_event_class_create(S.sc);

	if (!ec || bt_event_class_set_name(ec, name) ||
	    bt_event_class_set_payload_field_class(ec, st))
		die("cannot create event class %s", name);
	bt_field_class_put_ref(st);
	return ec;
}

static void build_classes(bt_self_component *self)
{
	bt_field_class *st;

	S.tc = bt_trace_class_create(self);
	if (!S.tc)
		die("out of memory");
	S.sc = bt_stream_class_create(S.tc);
	S.cc = bt_clock_class_create(self);
	if (!S.sc || !S.cc)
		die("out of memory");
	bt_clock_class_set_name(S.cc, "monotonic");
	bt_clock_class_set_frequency(S.cc, 1000000000);
	bt_clock_class_set_offset(S.cc, 1700000000, 0);
	bt_clock_class_set_origin_is_unix_epoch(S.cc, BT_TRUE);
	bt_stream_class_set_default_clock_class(S.sc, S.cc);
	bt_stream_class_set_supports_packets(S.sc, BT_TRUE, BT_TRUE, BT_TRUE);
	bt_stream_class_set_supports_discarded_events(S.sc, BT_TRUE, BT_TRUE);
	st = bt_field_class_structure_create(S.tc);
	member(st, "cpu_id", 32, false, false);
	bt_stream_class_set_packet_context_field_class(S.sc, st);
	bt_field_class_put_ref(st);
	if (S.o.tid) {
		st = bt_field_class_structure_create(S.tc);
		member(st, "tid", 32, true, false);
		bt_stream_class_set_event_common_context_field_class(S.sc, st);
		bt_field_class_put_ref(st);
	}
	/* lttng-modules: ctf_integer(unsigned int / u32 / unsigned long / u64) */
	st = bt_field_class_structure_create(S.tc);
	member(st, "exit_reason", 32, false, false);
	member(st, "guest_rip", 64, false, false);
	member(st, "isa", 32, false, false);
	member(st, "info1", 64, false, false);
	member(st, "info2", 64, false, false);
	if (!S.o.old) {
		member(st, "intr_info", 32, false, false);
		member(st, "error_code", 32, false, false);
		member(st, "vcpu_id", 32, false, false);
	}
	S.ec_exit = event_class(S.o.old ? "kvm_exit" : "kvm_x86_exit", st);
	st = bt_field_class_structure_create(S.tc);
	member(st, "vcpu_id", 32, false, false);
	S.ec_entry = event_class(S.o.old ? "kvm_entry" : "kvm_x86_entry", st);
}

/* ------------------------------------------------------------ events */

struct out {
	bt_self_message_iterator *it;
	bt_message_array_const msgs;
	uint64_t cap, n;
};

static void push(struct out *o, bt_message *m)
{
	if (!m)
		die("out of memory");
	o->msgs[o->n++] = m;
}

static void open_packet(struct out *o, unsigned int cpu, int64_t ns)
{
	S.packet[cpu] = bt_packet_create(S.stream[cpu]);
	if (!S.packet[cpu])
		die("out of memory");
	bt_field_integer_unsigned_set_value(bt_field_structure_borrow_member_field_by_index(
		bt_packet_borrow_context_field(S.packet[cpu]), 0), cpu);
	push(o, bt_message_packet_beginning_create_with_default_clock_snapshot(
		o->it, S.packet[cpu], (uint64_t)ns));
	S.packet_events[cpu] = 0;
}

static void close_packet(struct out *o, unsigned int cpu, int64_t ns)
{
	push(o, bt_message_packet_end_create_with_default_clock_snapshot(
		o->it, S.packet[cpu], (uint64_t)ns));
	bt_packet_put_ref(S.packet[cpu]);
	S.packet[cpu] = NULL;
}

static void before(struct out *o, unsigned int cpu, int64_t ns)
{
	if (S.lost[cpu]) {
		bt_message *m;

		if (S.packet[cpu])
			close_packet(o, cpu, S.last_ns[cpu]);
		m = bt_message_discarded_events_create_with_default_clock_snapshots(
			o->it, S.stream[cpu], (uint64_t)S.last_ns[cpu], (uint64_t)ns);
		if (!m)
			die("out of memory");
		bt_message_discarded_events_set_count(m, S.lost[cpu]);
		push(o, m);
		S.lost[cpu] = 0;
		/* CTF: the loss is reported by the next packet, which ends at ns */
		S.close_after[cpu] = true;
	}
	if (!S.packet[cpu])
		open_packet(o, cpu, ns);
}

static void set_u(bt_field *st, const char *name, uint64_t v)
{
	bt_field *f = bt_field_structure_borrow_member_field_by_name(st, name);

	if (!f)
		die("no field %s", name);
	bt_field_integer_unsigned_set_value(f, v);
}

static void emit(struct out *o, struct vcpu *v, bool exit_ev, int64_t ns)
{
	unsigned int cpu = v->cpu;
	const struct kind *k = &kinds[v->kind];
	bt_message *m;
	bt_event *e;
	bt_field *p;

	before(o, cpu, ns);
	m = bt_message_event_create_with_packet_and_default_clock_snapshot(
		o->it, exit_ev ? S.ec_exit : S.ec_entry, S.packet[cpu], (uint64_t)ns);
	if (!m)
		die("out of memory");
	e = bt_message_event_borrow_event(m);
	p = bt_event_borrow_payload_field(e);
	if (S.o.tid)
		bt_field_integer_signed_set_value(bt_field_structure_borrow_member_field_by_index(
			bt_event_borrow_common_context_field(e), 0), v->tid);
	if (exit_ev) {
		uint64_t site = rng_below(&v->r, NRIPS);

		set_u(p, "exit_reason", S.o.svm ? k->svm : k->vmx);
		set_u(p, "guest_rip", 0xffffffff81000000ull + v->kind * 0x10000 + site * 0x40);
		set_u(p, "isa", S.o.svm ? 2 : 1);
		set_u(p, "info1", k->vmx == 30 ? 0x3f80008ull + (site << 16) : site);
		set_u(p, "info2", k->vmx == 48 ? 0xfee00000ull + site * 0x10 : 0);
		if (!S.o.old) {
			set_u(p, "intr_info", k->vmx == 1 ? 0x800000ecu : 0);
			set_u(p, "error_code", 0);
			set_u(p, "vcpu_id", v->id);
		}
	} else {
		/* x86: what lttng-modules 2.13 reads from the vCPU pointer */
		set_u(p, "vcpu_id", S.o.old ? v->id : 0x9c5b4000u + v->id * 0x2400u);
	}
	push(o, m);
	S.last_ns[cpu] = ns;
	if (++S.packet_events[cpu] >= 1024 || S.close_after[cpu]) {
		close_packet(o, cpu, ns);
		S.close_after[cpu] = false;
	}
}

static void account(struct vcpu *v, bool timed, uint64_t t)
{
	struct exp *x = &S.exp[v->id][v->kind];

	x->count++;
	if (!timed)
		return;
	if (!x->timed || t < x->min)
		x->min = t;
	if (t > x->max)
		x->max = t;
	x->timed++;
	x->total += t;
}

/* The next event of v: its exit, or the entry that ends it. */
static void step(struct out *o, struct vcpu *v)
{
	if (!v->in_exit) {
		unsigned int w = 0, pick;

		for (size_t k = 0; k < NKINDS; k++)
			w += kinds[k].weight;
		pick = (unsigned int)rng_below(&v->r, w);
		for (v->kind = 0; pick >= kinds[v->kind].weight; v->kind++)
			pick -= kinds[v->kind].weight;
		v->made++;
		v->left--;
		v->lose = v->id == 0 && S.o.lose_n && v->made >= S.o.lose_at &&
			  v->made < S.o.lose_at + S.o.lose_n;
		v->exit_ns = v->next_ns;
		if (v->lose)
			S.lost[v->cpu] += S.o.no_entry ? 1 : 2;
		else
			emit(o, v, true, v->next_ns);
		v->in_exit = true;
		v->next_ns += kinds[v->kind].base_ns + (int64_t)rng_below(&v->r, kinds[v->kind].base_ns);
		/* the guest's last exit: it is not entered again */
		if (!v->left) {
			if (!v->lose)
				account(v, false, 0);
			v->next_ns = INT64_MAX;
		}
		return;
	}
	if (S.o.migrate && rng_below(&v->r, S.o.migrate) == 0 && S.o.cpus > 1)
		v->cpu = (v->cpu + 1 + (unsigned int)rng_below(&v->r, S.o.cpus - 1)) % S.o.cpus;
	if (!v->lose) {
		if (!S.o.no_entry)
			emit(o, v, false, v->next_ns);
		account(v, !S.o.no_entry, (uint64_t)(v->next_ns - v->exit_ns));
	}
	v->in_exit = false;
	/* the guest runs until its next exit */
	v->next_ns += 200 + (int64_t)rng_below(&v->r, 5000);
}

static bt_message_iterator_class_next_method_status
next(bt_self_message_iterator *it, bt_message_array_const msgs, uint64_t capacity,
     uint64_t *count)
{
	struct out o = { .it = it, .msgs = msgs, .cap = capacity, .n = 0 };

	while (!S.finished && o.n + 5 <= o.cap) {
		struct vcpu *best = NULL;

		for (unsigned int i = 0; i < S.o.vcpus; i++)
			if (S.v[i].next_ns != INT64_MAX &&
			    (!best || S.v[i].next_ns < best->next_ns))
				best = &S.v[i];
		if (!best) {
			for (unsigned int c = 0; c < S.o.cpus; c++) {
				if (S.packet[c])
					close_packet(&o, c, S.last_ns[c]);
				push(&o, bt_message_stream_end_create(it, S.stream[c]));
			}
			S.finished = true;
			break;
		}
		step(&o, best);
	}
	*count = o.n;
	return o.n ? BT_MESSAGE_ITERATOR_CLASS_NEXT_METHOD_STATUS_OK :
		     BT_MESSAGE_ITERATOR_CLASS_NEXT_METHOD_STATUS_END;
}

static bt_message_iterator_class_initialize_method_status
iter_init(bt_self_message_iterator *it, bt_self_message_iterator_configuration *cfg,
	  bt_self_component_port_output *port)
{
	(void)cfg;
	(void)port;
	(void)it;
	return BT_MESSAGE_ITERATOR_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

static bool started;

/* Stream beginnings go out with the first batch. */
static bt_message_iterator_class_next_method_status
next_first(bt_self_message_iterator *it, bt_message_array_const msgs, uint64_t capacity,
	   uint64_t *count)
{
	if (!started) {
		uint64_t n = 0;

		if (capacity < S.o.cpus)
			die("message batch too small");
		for (unsigned int c = 0; c < S.o.cpus; c++) {
			bt_message *m = bt_message_stream_beginning_create(it, S.stream[c]);

			if (!m)
				die("out of memory");
			msgs[n++] = m;
		}
		started = true;
		*count = n;
		return BT_MESSAGE_ITERATOR_CLASS_NEXT_METHOD_STATUS_OK;
	}
	return next(it, msgs, capacity, count);
}

static bt_component_class_initialize_method_status
comp_init(bt_self_component_source *self_src, bt_self_component_source_configuration *cfg,
	  const bt_value *params, void *data)
{
	bt_self_component *self = bt_self_component_source_as_self_component(self_src);
	struct rng ur = { S.o.seed ^ 0x75756964 };
	uint8_t uuid[16];

	(void)cfg;
	(void)params;
	(void)data;
	if (bt_self_component_source_add_output_port(self_src, "out", NULL, NULL))
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
	build_classes(self);
	S.trace = bt_trace_create(S.tc);
	if (!S.trace)
		die("out of memory");
	for (int i = 0; i < 16; i += 8) {
		uint64_t r = rng_next(&ur);

		memcpy(uuid + i, &r, 8);
	}
	uuid[6] = (uuid[6] & 0x0f) | 0x40;
	uuid[8] = (uuid[8] & 0x3f) | 0x80;
	bt_trace_set_uuid(S.trace, uuid);
	bt_trace_set_environment_entry_string(S.trace, "domain", "kernel");
	bt_trace_set_environment_entry_string(S.trace, "tracer_name", "lttng-modules");
	bt_trace_set_environment_entry_integer(S.trace, "tracer_major", 2);
	bt_trace_set_environment_entry_integer(S.trace, "tracer_minor", 13);
	bt_trace_set_environment_entry_string(S.trace, "hostname", "hvtrace-kvmsynth");
	S.stream = calloc(S.o.cpus, sizeof(*S.stream));
	S.packet = calloc(S.o.cpus, sizeof(*S.packet));
	S.packet_events = calloc(S.o.cpus, sizeof(*S.packet_events));
	S.last_ns = calloc(S.o.cpus, sizeof(*S.last_ns));
	S.lost = calloc(S.o.cpus, sizeof(*S.lost));
	S.close_after = calloc(S.o.cpus, sizeof(*S.close_after));
	if (!S.stream || !S.packet || !S.packet_events || !S.last_ns || !S.lost ||
	    !S.close_after)
		die("out of memory");
	for (unsigned int c = 0; c < S.o.cpus; c++) {
		char name[32];

		S.stream[c] = bt_stream_create(S.sc, S.trace);
		if (!S.stream[c])
			die("out of memory");
		snprintf(name, sizeof(name), "channel0_%u", c);
		bt_stream_set_name(S.stream[c], name);
	}
	for (unsigned int i = 0; i < S.o.vcpus; i++) {
		struct vcpu *v = &S.v[i];

		v->id = i;
		v->cpu = i % S.o.cpus;
		v->tid = 4000 + (int32_t)i;
		v->r.s = S.o.seed * 0x100000001b3ull + i;
		v->left = S.o.exits / S.o.vcpus + (i < S.o.exits % S.o.vcpus);
		v->next_ns = 1000 + i * 37;
	}
	return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

static void check_out_dir(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
		die("%s: not a folder", path);
}

static const char *reason_name(uint32_t code, char *buf, size_t len)
{
	switch (code) {
#define X(c, name, q) case c: snprintf(buf, len, "%s", #name); return buf;
	HVTRACE_EXIT_REASONS(X)
#undef X
	}
	snprintf(buf, len, "UNKNOWN(%u)", code);
	return buf;
}

static void print_expect(void)
{
	char name[64];

	printf("vcpu,reason,count,timed,total_ns,min_ns,max_ns\n");
	for (unsigned int i = 0; i <= S.o.vcpus; i++) {
		/* several kinds share an SVM code: merge by the code written */
		for (size_t k = 0; k < NKINDS; k++) {
			uint32_t code = S.o.svm ? kinds[k].svm : kinds[k].vmx;
			struct exp t = { 0 };
			bool first = true;

			for (size_t k2 = 0; k2 < k; k2++)
				if ((S.o.svm ? kinds[k2].svm : kinds[k2].vmx) == code)
					first = false;
			if (!first)
				continue;
			for (unsigned int j = 0; j < S.o.vcpus; j++) {
				if (i < S.o.vcpus && j != i)
					continue;
				for (size_t k2 = k; k2 < NKINDS; k2++) {
					const struct exp *x = &S.exp[j][k2];

					if ((S.o.svm ? kinds[k2].svm : kinds[k2].vmx) != code)
						continue;
					if (x->timed && (!t.timed || x->min < t.min))
						t.min = x->min;
					if (x->max > t.max)
						t.max = x->max;
					t.count += x->count;
					t.timed += x->timed;
					t.total += x->total;
				}
			}
			if (!t.count)
				continue;
			if (S.o.svm)
				snprintf(name, sizeof(name), "svm:0x%x", code);
			else
				reason_name(code, name, sizeof(name));
			if (i < S.o.vcpus)
				printf("%u,", i);
			else
				printf("all,");
			printf("%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
			       name, t.count, t.timed, t.total, t.min, t.max);
		}
	}
}

int main(int argc, char **argv)
{
	bt_message_iterator_class *mic;
	bt_component_class_source *cls;
	const bt_plugin *ctf = NULL;
	const bt_component_source *src;
	const bt_component_sink *sink;
	bt_graph *g;
	bt_value *params;
	bt_graph_run_status st;

	parse_args(argc, argv);
	check_out_dir(S.o.out);
	mic = bt_message_iterator_class_create(next_first);
	if (!mic || bt_message_iterator_class_set_initialize_method(mic, iter_init))
		die("out of memory");
	cls = bt_component_class_source_create("hvtrace-kvmsynth", mic);
	if (!cls || bt_component_class_source_set_initialize_method(cls, comp_init))
		die("out of memory");
	if (bt_plugin_find("ctf", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, &ctf) !=
	    BT_PLUGIN_FIND_STATUS_OK)
		die("babeltrace2's ctf plugin is not installed");
	g = bt_graph_create(0);
	params = bt_value_map_create();
	if (!g || !params || bt_value_map_insert_string_entry(params, "path", S.o.out) ||
	    bt_value_map_insert_bool_entry(params, "assume-single-trace", BT_TRUE) ||
	    bt_value_map_insert_bool_entry(params, "quiet", BT_TRUE))
		die("out of memory");
	if (bt_graph_add_source_component_with_initialize_method_data(
		    g, cls, "kvmsynth", NULL, NULL, BT_LOGGING_LEVEL_WARNING, &src) !=
		    BT_GRAPH_ADD_COMPONENT_STATUS_OK ||
	    bt_graph_add_sink_component(g,
		    bt_plugin_borrow_sink_component_class_by_name_const(ctf, "fs"),
		    "sink", params, BT_LOGGING_LEVEL_WARNING, &sink) !=
		    BT_GRAPH_ADD_COMPONENT_STATUS_OK ||
	    bt_graph_connect_ports(g,
		    bt_component_source_borrow_output_port_by_index_const(src, 0),
		    bt_component_sink_borrow_input_port_by_index_const(sink, 0), NULL) !=
		    BT_GRAPH_CONNECT_PORTS_STATUS_OK)
		die("cannot build the babeltrace2 graph");
	do {
		st = bt_graph_run(g);
	} while (st == BT_GRAPH_RUN_STATUS_AGAIN);
	if (st != BT_GRAPH_RUN_STATUS_OK)
		die("writing the trace failed (is %s new or empty?)", S.o.out);
	if (S.o.expect)
		print_expect();
	bt_graph_put_ref(g);
	bt_value_put_ref(params);
	bt_plugin_put_ref(ctf);
	bt_component_class_source_put_ref(cls);
	bt_message_iterator_class_put_ref(mic);
	return 0;
}
