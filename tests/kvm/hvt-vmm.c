// SPDX-License-Identifier: GPL-2.0
/*
 * hvt-vmm: a small deterministic VMM on /dev/kvm for the KVM backend's proof.
 *
 * It builds a 64-bit guest program from a seed: a sequence of operations,
 * each one loading XMM0-15, MXCSR and the 15 GPRs but RSP with seeded values
 * and then executing one instruction that makes a VM exit (CPUID of a leaf
 * of ours, OUT/IN of 1/2/4 bytes, HLT, VMCALL, WRMSR/RDMSR of IA32_PAT,
 * RDMSR of an MSR KVM does not know (KVM injects #GP, the guest's handler
 * skips it), MMIO write/read of a GPR, MMIO read into an XMM register that
 * KVM's emulator completes).  Since the VMM wrote every byte of the guest
 * and answers every exit that reaches userspace, it knows for each of those
 * exits the RIP, every register, XMM and MXCSR at the exit, and what KVM
 * changes before the guest resumes: it writes that plan (--plan FILE, one
 * JSON object a line) for tests/kvm/kvmcheck.py to compare with the trace.
 *
 *   hvt-vmm [--seed N] [--ops N] [--vms N] [--vcpus N] [--until FILE]
 *           [--plan FILE] [--quiet] [--no-yield]
 *
 * --vms N runs N VMs one after the other (each created, run to its end and
 * destroyed); --until FILE keeps doing so until FILE exists.  --vcpus N
 * gives each VM N vCPUs that run at the same time, one thread each: vCPU v
 * runs the program of seed + v in its own 4 MiB of RAM (code, op data,
 * stack and MMIO addresses of its own; the page tables, GDT, IDT and #GP
 * handler are shared) and its thread answers its own userspace exits
 * against its own ops; with N > 1 each thread yields the CPU after every
 * KVM_RUN so that the vCPUs' exits interleave on one host CPU too (not with
 * --no-yield: then only the scheduler's time slices interleave them).  Every
 * plan line names its vm_index and vcpu.  Any exit that reaches userspace
 * and differs from the plan is fatal (status 2).
 *
 * No in-kernel irqchip: HLT exits to userspace, and nothing interrupts the
 * guest (RFLAGS.IF stays 0).  Exits the plan does not name (EPT violations
 * of RAM on first touch, external interrupts of the host, ...) are
 * asynchronous: the checker allows them and requires that they change none
 * of the guest's registers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define VCPU_MEM	0x400000ULL	/* 4 MiB of RAM per vCPU at GPA 0 */
#define MAX_VCPUS	8
#define PML4_GPA	0x1000
#define PDPT_GPA	0x2000
#define PD_GPA		0x3000
#define GDT_GPA		0x4000
#define IDT_GPA		0x5000
#define GP_HANDLER_GPA	0xf000
#define CODE_GPA	0x100000
#define CODE_END	0x1f0000
#define XMM_GPA		0x200000	/* 256 bytes per op */
#define MXCSR_GPA	0x300000	/* 4 bytes per op */
#define STACK_TOP	0x3ff000
#define MMIO_GPA	0x20000000ULL	/* no memory slot: MMIO */
#define MMIO_VCPU	0x10000		/* vCPU v's MMIO at MMIO_GPA + v * this */
#define MAX_OPS		2000
#define CPUID_LEAF0	0x4fffff00u	/* our CPUID leaves: LEAF0 + 0..7 */
#define NR_LEAVES	8
#define PORT0		0xe000		/* our ports: PORT0 + 0..15 */
#define MSR_PAT		0x277
#define MSR_UNKNOWN	0x4b564d99u	/* not an MSR KVM knows: #GP */
#define KVM_ENOSYS	1000
#define RFLAGS_INIT	0x2

enum op_kind {
	OP_CPUID, OP_OUT, OP_IN, OP_HLT, OP_VMCALL, OP_WRMSR, OP_RDMSR,
	OP_RDMSR_GP, OP_MMIO_W, OP_MMIO_R, OP_MMIO_XMM, NR_OP_KINDS
};
static const char *const op_names[NR_OP_KINDS] = {
	"cpuid", "out", "in", "hlt", "vmcall", "wrmsr", "rdmsr",
	"rdmsr_gp", "mmio_write", "mmio_read", "mmio_xmm",
};

/* SDM exit reasons the plan names */
#define R_CPUID		10
#define R_HLT		12
#define R_VMCALL	18
#define R_RDMSR		31
#define R_WRMSR		32
#define R_IO		30
#define R_EPT_VIOL	48
#define R_EPT_MISC	49

struct op {
	enum op_kind kind;
	uint64_t gpr[16];
	uint64_t xmm[32];
	uint32_t mxcsr;
	uint64_t rip, rip_after;	/* exiting instruction, next one */
	unsigned int size;		/* I/O or MMIO bytes */
	unsigned int port, reg;		/* port; GPR or XMM register */
	uint64_t addr;			/* MMIO address */
	uint64_t data[2];		/* IN / MMIO read data the VMM supplies */
};

/* one vCPU's program: its ops, CPUID leaves and where its RAM begins */
struct prog {
	struct op ops[MAX_OPS];
	uint32_t leaves[NR_LEAVES][4];
	uint64_t base;		/* GPA of its 4 MiB: vcpu * VCPU_MEM */
	uint64_t end_rip;	/* the final HLT */
	int vm_index, id, fd;
	unsigned int uexits;
	struct kvm_run *run;
};

static struct prog progs[MAX_VCPUS];
static unsigned int nr_ops, nr_vcpus = 1;
static uint64_t mem_size = VCPU_MEM;
static uint64_t rng_state;
static uint8_t *mem;
static uint64_t code_pc, code_end;
static int quiet, no_yield;
static pthread_barrier_t start_barrier;

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hvt-vmm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t rnd(void)	/* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- guest code emission ---------------------------------------------- */

static void emit(const void *p, size_t n)
{
	if (code_pc + n > code_end)
		die("guest code too large");
	memcpy(mem + code_pc, p, n);
	code_pc += n;
}

static void emit1(uint8_t b)
{
	emit(&b, 1);
}

static void emit32(uint32_t v)
{
	emit(&v, 4);
}

/* movabs r64, imm64 */
static void emit_movabs(unsigned int r, uint64_t v)
{
	emit1(0x48 | (r >= 8 ? 1 : 0));
	emit1(0xb8 + (r & 7));
	emit(&v, 8);
}

/* ModRM + SIB for an absolute [disp32] operand with reg field r. */
static void emit_abs(unsigned int r, uint32_t addr)
{
	emit1(0x04 | ((r & 7) << 3));
	emit1(0x25);
	emit32(addr);
}

/* movdqu xmmN, [addr] */
static void emit_movdqu_load(unsigned int n, uint32_t addr)
{
	emit1(0xf3);
	if (n >= 8)
		emit1(0x44);
	emit1(0x0f);
	emit1(0x6f);
	emit_abs(n, addr);
}

static void write_plan(FILE *f, const struct prog *pg, unsigned int i)
{
	const struct op *o = &pg->ops[i];
	uint64_t chg[64];
	int has[64] = { 0 };
	int reason = 0, j, first = 1;
	const char *inject = "null";
	char qual[64] = "null";

	memset(chg, 0, sizeof(chg));
	switch (o->kind) {
	case OP_CPUID: {
		const uint32_t *l = pg->leaves[o->gpr[0] - CPUID_LEAF0];

		reason = R_CPUID;
		has[0] = has[3] = has[1] = has[2] = 1;
		chg[0] = l[0];
		chg[3] = l[1];
		chg[1] = l[2];
		chg[2] = l[3];
		break;
	}
	case OP_OUT:
	case OP_IN:
		reason = R_IO;
		snprintf(qual, sizeof(qual), "%u",
			 (o->size - 1) | (o->kind == OP_IN ? 8 : 0) |
			 (o->port << 16));
		if (o->kind == OP_IN) {
			uint64_t mask = o->size == 8 ? ~0ULL :
					(1ULL << (8 * o->size)) - 1;
			uint64_t v = o->size == 4 ? (o->data[0] & mask) :
				     (o->gpr[0] & ~mask) | (o->data[0] & mask);

			has[0] = 1;
			chg[0] = v;
		}
		break;
	case OP_HLT:
		reason = R_HLT;
		break;
	case OP_VMCALL:
		reason = R_VMCALL;
		has[0] = 1;
		chg[0] = (uint64_t)-KVM_ENOSYS;
		break;
	case OP_WRMSR:
		reason = R_WRMSR;
		break;
	case OP_RDMSR:
		reason = R_RDMSR;
		has[0] = has[2] = 1;
		chg[0] = o->data[0] & 0xffffffffULL;
		chg[2] = o->data[0] >> 32;
		break;
	case OP_RDMSR_GP:
		reason = R_RDMSR;
		inject = "[2147486477, 0]";	/* 0x80000b0d: #GP, error code 0 */
		/* a fault is injected with RFLAGS.RF set (SDM 6.13, KVM does) */
		has[17] = 1;
		chg[17] = RFLAGS_INIT | 0x10000;
		break;
	case OP_MMIO_W:
	case OP_MMIO_R:
	case OP_MMIO_XMM:
		reason = -1;	/* EPT violation (first access) or misconfig */
		if (o->kind == OP_MMIO_R) {
			has[o->reg] = 1;
			chg[o->reg] = o->data[0];
		}
		if (o->kind == OP_MMIO_XMM) {
			has[18 + 2 * o->reg] = 1;
			chg[18 + 2 * o->reg] = o->data[0];
			has[19 + 2 * o->reg] = 1;
			chg[19 + 2 * o->reg] = o->data[1];
		}
		break;
	default:
		break;
	}
	/* a change to the value the register already has is no change */
	for (j = 0; j < 16; j++)
		if (has[j] && chg[j] == o->gpr[j])
			has[j] = 0;
	for (j = 0; j < 32; j++)
		if (has[18 + j] && chg[18 + j] == o->xmm[j])
			has[18 + j] = 0;
	if (o->kind != OP_RDMSR_GP) {
		has[16] = 1;
		chg[16] = o->rip_after;
	}
	fprintf(f, "{\"vm_index\": %d, \"vcpu\": %d, \"op\": %u, \"kind\": \"%s\", \"reason\": %d, \"qual\": %s, "
		"\"mmio_gpa\": %" PRIu64 ", \"rip\": %" PRIu64 ", \"rflags\": %d, \"mxcsr\": %u, \"gpr\": [",
		pg->vm_index, pg->id, i, op_names[o->kind], reason, qual,
		(o->kind >= OP_MMIO_W) ? o->addr : 0, o->rip, RFLAGS_INIT,
		o->mxcsr);
	for (j = 0; j < 16; j++)
		fprintf(f, "%s%" PRIu64, j ? ", " : "", o->gpr[j]);
	fprintf(f, "], \"xmm\": [");
	for (j = 0; j < 32; j++)
		fprintf(f, "%s%" PRIu64, j ? ", " : "", o->xmm[j]);
	fprintf(f, "], \"inject\": %s, \"changes\": {", inject);
	for (j = 0; j < 64; j++) {
		if (!has[j])
			continue;
		fprintf(f, "%s\"%d\": %" PRIu64, first ? "" : ", ", j, chg[j]);
		first = 0;
	}
	fprintf(f, "}}\n");
}

/* What every vCPU shares: page tables, GDT, IDT and the #GP handler. */
static void build_shared(void)
{
	unsigned int i;
	uint64_t *pml4 = (uint64_t *)(mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(mem + PD_GPA);
	uint64_t *gdt = (uint64_t *)(mem + GDT_GPA);
	uint8_t *idt = mem + IDT_GPA;
	static const uint8_t gp_handler[] = {
		0x48, 0x83, 0xc4, 0x08,		/* add $8, %rsp (error code) */
		0x48, 0x83, 0x04, 0x24, 0x02,	/* addq $2, (%rsp): skip RDMSR */
		0x48, 0xcf,			/* iretq */
	};
	uint64_t h = GP_HANDLER_GPA;

	memset(mem, 0, mem_size);
	pml4[0] = PDPT_GPA | 3;
	pdpt[0] = PD_GPA | 3;
	for (i = 0; i < 512; i++)	/* identity, 1 GiB in 2 MiB pages */
		pd[i] = ((uint64_t)i << 21) | 0x83;
	gdt[1] = 0x00af9b000000ffffULL;	/* 0x08: 64-bit code */
	gdt[2] = 0x00cf93000000ffffULL;	/* 0x10: data */
	memcpy(mem + GP_HANDLER_GPA, gp_handler, sizeof(gp_handler));
	idt += 13 * 16;			/* #GP: interrupt gate to the handler */
	idt[0] = h & 0xff;
	idt[1] = (h >> 8) & 0xff;
	idt[2] = 0x08;
	idt[5] = 0x8e;
	idt[6] = (h >> 16) & 0xff;
	idt[7] = (h >> 24) & 0xff;
}

/* Builds vCPU pg's program in its RAM; sets its final HLT's RIP. */
static void build_prog(struct prog *pg, uint64_t seed, unsigned int n)
{
	uint64_t pat = 0x0007040600070406ULL;	/* IA32_PAT at reset */
	static const uint8_t pat_types[] = { 0, 1, 4, 5, 6, 7 };
	unsigned int i, j, mmio_slot = 0;
	const uint64_t b = pg->base;

	rng_state = seed;
	for (i = 0; i < NR_LEAVES; i++)
		for (j = 0; j < 4; j++)
			pg->leaves[i][j] = (uint32_t)rnd();

	code_pc = b + CODE_GPA;
	code_end = b + CODE_END;
	for (i = 0; i < n; i++) {
		struct op *o = &pg->ops[i];
		uint8_t insn[16];
		unsigned int len = 0;

		memset(o, 0, sizeof(*o));
		o->kind = rnd() % NR_OP_KINDS;
		for (j = 0; j < 16; j++)
			o->gpr[j] = rnd();
		o->gpr[4] = b + STACK_TOP;
		for (j = 0; j < 32; j++)
			o->xmm[j] = rnd();
		o->mxcsr = rnd() & 0xffbf;	/* no DAZ, no reserved bits */
		switch (o->kind) {
		case OP_CPUID:
			o->gpr[0] = CPUID_LEAF0 + rnd() % NR_LEAVES;
			insn[len++] = 0x0f;
			insn[len++] = 0xa2;
			break;
		case OP_OUT:
		case OP_IN:
			o->size = 1u << (rnd() % 3);
			o->port = PORT0 + rnd() % 16;
			o->gpr[2] = (o->gpr[2] & ~0xffffULL) | o->port;
			o->data[0] = rnd();
			if (o->size == 2)
				insn[len++] = 0x66;
			if (o->kind == OP_OUT)
				insn[len++] = o->size == 1 ? 0xee : 0xef;
			else
				insn[len++] = o->size == 1 ? 0xec : 0xed;
			break;
		case OP_HLT:
			insn[len++] = 0xf4;
			break;
		case OP_VMCALL:
			o->gpr[0] = 0x10000 + (rnd() & 0xffff);	/* unknown: -KVM_ENOSYS */
			insn[len++] = 0x0f;
			insn[len++] = 0x01;
			insn[len++] = 0xc1;
			break;
		case OP_WRMSR:
			for (j = 0, pat = 0; j < 8; j++)
				pat |= (uint64_t)pat_types[rnd() % 6] << (8 * j);
			o->gpr[1] = (o->gpr[1] & ~0xffffffffULL) | MSR_PAT;
			o->gpr[0] = (o->gpr[0] & ~0xffffffffULL) | (pat & 0xffffffffULL);
			o->gpr[2] = (o->gpr[2] & ~0xffffffffULL) | (pat >> 32);
			insn[len++] = 0x0f;
			insn[len++] = 0x30;
			break;
		case OP_RDMSR:
			o->gpr[1] = (o->gpr[1] & ~0xffffffffULL) | MSR_PAT;
			o->data[0] = pat;
			insn[len++] = 0x0f;
			insn[len++] = 0x32;
			break;
		case OP_RDMSR_GP:
			o->gpr[1] = (o->gpr[1] & ~0xffffffffULL) | MSR_UNKNOWN;
			insn[len++] = 0x0f;
			insn[len++] = 0x32;
			break;
		case OP_MMIO_W:
		case OP_MMIO_R:
		case OP_MMIO_XMM:
			o->addr = MMIO_GPA + MMIO_VCPU * pg->id +
				  16 * (mmio_slot++ % 256);
			o->data[0] = rnd();
			o->data[1] = rnd();
			o->size = o->kind == OP_MMIO_XMM ? 16 : 8;
			do {
				o->reg = rnd() % 16;
			} while (o->kind != OP_MMIO_XMM && o->reg == 4);
			if (o->kind == OP_MMIO_XMM) {	/* movdqu xmmN, [addr] */
				insn[len++] = 0xf3;
				if (o->reg >= 8)
					insn[len++] = 0x44;
				insn[len++] = 0x0f;
				insn[len++] = 0x6f;
			} else {	/* mov [addr], r64 / mov r64, [addr] */
				insn[len++] = 0x48 | (o->reg >= 8 ? 4 : 0);
				insn[len++] = o->kind == OP_MMIO_W ? 0x89 : 0x8b;
			}
			insn[len++] = 0x04 | ((o->reg & 7) << 3);
			insn[len++] = 0x25;
			memcpy(insn + len, &o->addr, 4);
			len += 4;
			break;
		default:
			break;
		}
		/* the op's state: XMM, MXCSR, then the GPRs, then the exit */
		memcpy(mem + b + XMM_GPA + 256 * i, o->xmm, 256);
		memcpy(mem + b + MXCSR_GPA + 4 * i, &o->mxcsr, 4);
		for (j = 0; j < 16; j++)
			emit_movdqu_load(j, b + XMM_GPA + 256 * i + 16 * j);
		emit1(0x0f);		/* ldmxcsr [addr] */
		emit1(0xae);
		emit_abs(2, b + MXCSR_GPA + 4 * i);
		for (j = 0; j < 16; j++)
			if (j != 4)
				emit_movabs(j, o->gpr[j]);
		o->rip = code_pc;
		emit(insn, len);
		o->rip_after = code_pc;
	}
	emit1(0xf4);	/* the end: HLT */
	pg->end_rip = code_pc - 1;
}

/* ---- running ----------------------------------------------------------- */

static int kvm_fd;

static void setup_cpuid(int vcpu, const struct prog *pg)
{
	struct kvm_cpuid2 *c;
	unsigned int nent = 256, i;

	c = calloc(1, sizeof(*c) + (nent + NR_LEAVES) * sizeof(c->entries[0]));
	if (!c)
		die("out of memory");
	c->nent = nent;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0)
		die("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	for (i = 0; i < NR_LEAVES; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

		memset(e, 0, sizeof(*e));
		e->function = CPUID_LEAF0 + i;
		e->eax = pg->leaves[i][0];
		e->ebx = pg->leaves[i][1];
		e->ecx = pg->leaves[i][2];
		e->edx = pg->leaves[i][3];
	}
	if (ioctl(vcpu, KVM_SET_CPUID2, c) < 0)
		die("KVM_SET_CPUID2: %s", strerror(errno));
	free(c);
}

static void setup_regs(int vcpu, uint64_t entry, uint64_t stack)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 0xb,
		.present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 0x3,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};

	if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS: %s", strerror(errno));
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.gdt.base = GDT_GPA;
	s.gdt.limit = 3 * 8 - 1;
	s.idt.base = IDT_GPA;
	s.idt.limit = 32 * 16 - 1;
	s.cr3 = PML4_GPA;
	s.cr4 = 0x620;			/* PAE OSFXSR OSXMMEXCPT */
	s.cr0 = 0x80050033;		/* PG AM WP NE ET MP PE */
	s.efer = 0x500;			/* LMA LME */
	if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0)
		die("KVM_SET_SREGS: %s", strerror(errno));
	memset(&r, 0, sizeof(r));
	r.rip = entry;
	r.rsp = stack;
	r.rflags = RFLAGS_INIT;
	if (ioctl(vcpu, KVM_SET_REGS, &r) < 0)
		die("KVM_SET_REGS: %s", strerror(errno));
}

/* Runs one vCPU to its final HLT, checking every userspace exit. */
static void run_vcpu(struct prog *pg)
{
	struct kvm_run *run = pg->run;
	unsigned int next = 0;
	int vm_index = pg->vm_index, id = pg->id;

	for (;;) {
		struct op *o;

		if (ioctl(pg->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("vm %d vcpu %d: KVM_RUN: %s", vm_index, id,
			    strerror(errno));
		}
		pg->uexits++;
		/* the next op that reaches userspace */
		while (next < nr_ops &&
		       pg->ops[next].kind != OP_OUT &&
		       pg->ops[next].kind != OP_IN &&
		       pg->ops[next].kind != OP_HLT &&
		       pg->ops[next].kind < OP_MMIO_W)
			next++;
		o = next < nr_ops ? &pg->ops[next] : NULL;
		switch (run->exit_reason) {
		case KVM_EXIT_HLT:
			if (!o) {
				struct kvm_regs r;

				if (ioctl(pg->fd, KVM_GET_REGS, &r) < 0)
					die("KVM_GET_REGS: %s", strerror(errno));
				if (r.rip != pg->end_rip + 1)
					die("vm %d vcpu %d: final HLT at rip %#llx, expected %#" PRIx64,
					    vm_index, id, r.rip - 1, pg->end_rip);
				return;
			}
			if (o->kind != OP_HLT)
				die("vm %d vcpu %d op %u: HLT exit, expected %s",
				    vm_index, id, next, op_names[o->kind]);
			next++;
			break;
		case KVM_EXIT_IO: {
			uint8_t *d = (uint8_t *)run + run->io.data_offset;
			int in = run->io.direction == KVM_EXIT_IO_IN;

			if (!o || o->kind != (in ? OP_IN : OP_OUT) ||
			    run->io.port != o->port || run->io.size != o->size ||
			    run->io.count != 1)
				die("vm %d vcpu %d op %u: unexpected I/O %s port %#x size %u",
				    vm_index, id, next, in ? "in" : "out",
				    run->io.port, run->io.size);
			if (in) {
				memcpy(d, &o->data[0], o->size);
			} else if (memcmp(d, &o->gpr[0], o->size)) {
				die("vm %d vcpu %d op %u: OUT data differs",
				    vm_index, id, next);
			}
			next++;
			break;
		}
		case KVM_EXIT_MMIO: {
			uint64_t off;

			if (!o || o->kind < OP_MMIO_W ||
			    run->mmio.phys_addr < o->addr ||
			    run->mmio.phys_addr + run->mmio.len > o->addr + o->size)
				die("vm %d vcpu %d op %u: unexpected MMIO %s %#llx len %u",
				    vm_index, id, next,
				    run->mmio.is_write ? "write" : "read",
				    run->mmio.phys_addr, run->mmio.len);
			off = run->mmio.phys_addr - o->addr;
			if (o->kind == OP_MMIO_W) {
				if (!run->mmio.is_write ||
				    memcmp(run->mmio.data, &o->gpr[o->reg],
					   run->mmio.len))
					die("vm %d vcpu %d op %u: MMIO write data differs",
					    vm_index, id, next);
			} else {
				memcpy(run->mmio.data, (uint8_t *)o->data + off,
				       run->mmio.len);
			}
			/* the last fragment completes the op */
			if (off + run->mmio.len == o->size)
				next++;
			break;
		}
		default:
			die("vm %d vcpu %d op %u: unexpected exit %u (hw reason %#llx)",
			    vm_index, id, next, run->exit_reason,
			    (unsigned long long)run->hw.hardware_exit_reason);
		}
		/* let the other vCPUs' threads run: their exits interleave */
		if (nr_vcpus > 1 && !no_yield)
			sched_yield();
	}
}

static void *vcpu_thread(void *arg)
{
	pthread_barrier_wait(&start_barrier);
	run_vcpu(arg);
	return NULL;
}

/* Runs one VM (all its vCPUs at the same time) to its vCPUs' final HLTs. */
static void run_vm(int vm_index, uint64_t seed, FILE *plan)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0,
	};
	pthread_t threads[MAX_VCPUS];
	unsigned int i, v;
	long run_size;
	int vm, rc;

	vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM: %s", strerror(errno));
	if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
		die("KVM_SET_TSS_ADDR: %s", strerror(errno));
	mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	build_shared();
	for (v = 0; v < nr_vcpus; v++) {
		struct prog *pg = &progs[v];

		pg->vm_index = vm_index;
		pg->id = v;
		pg->base = v * VCPU_MEM;
		pg->uexits = 0;
		build_prog(pg, seed + v, nr_ops);
	}
	region.memory_size = mem_size;
	region.userspace_addr = (uint64_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	for (v = 0; v < nr_vcpus; v++) {
		struct prog *pg = &progs[v];

		pg->fd = ioctl(vm, KVM_CREATE_VCPU, v);
		if (pg->fd < 0)
			die("KVM_CREATE_VCPU %u: %s", v, strerror(errno));
		pg->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE,
			       MAP_SHARED, pg->fd, 0);
		if (pg->run == MAP_FAILED)
			die("mmap kvm_run: %s", strerror(errno));
		setup_cpuid(pg->fd, pg);
		setup_regs(pg->fd, pg->base + CODE_GPA, pg->base + STACK_TOP);
	}
	for (v = 0; plan && v < nr_vcpus; v++) {
		for (i = 0; i < nr_ops; i++)
			write_plan(plan, &progs[v], i);
		/* the final HLT: the vCPU's last exit, no resume */
		fprintf(plan, "{\"vm_index\": %d, \"vcpu\": %u, \"op\": %u, \"kind\": \"end\", \"reason\": %d, \"qual\": null, \"mmio_gpa\": 0, \"rip\": %" PRIu64 ", \"inject\": null, \"changes\": {}}\n",
			vm_index, v, nr_ops, R_HLT, progs[v].end_rip);
	}

	if (nr_vcpus == 1) {
		run_vcpu(&progs[0]);
	} else {
		if (pthread_barrier_init(&start_barrier, NULL, nr_vcpus))
			die("pthread_barrier_init failed");
		for (v = 0; v < nr_vcpus; v++) {
			rc = pthread_create(&threads[v], NULL, vcpu_thread, &progs[v]);
			if (rc)
				die("pthread_create: %s", strerror(rc));
		}
		for (v = 0; v < nr_vcpus; v++)
			pthread_join(threads[v], NULL);
		pthread_barrier_destroy(&start_barrier);
	}
	for (v = 0; v < nr_vcpus; v++) {
		struct prog *pg = &progs[v];

		if (!quiet && nr_vcpus == 1)
			printf("hvt-vmm: vm %d pid %d: %u ops ran as planned, %u exits to userspace, final HLT at %#" PRIx64 "\n",
			       vm_index, getpid(), nr_ops, pg->uexits, pg->end_rip);
		else if (!quiet)
			printf("hvt-vmm: vm %d vcpu %u pid %d: %u ops ran as planned, %u exits to userspace, final HLT at %#" PRIx64 "\n",
			       vm_index, v, getpid(), nr_ops, pg->uexits, pg->end_rip);
		munmap(pg->run, run_size);
		close(pg->fd);
	}
	close(vm);
	munmap(mem, mem_size);
}

int main(int argc, char **argv)
{
	uint64_t seed = 1;
	unsigned int n = 100, vms = 1, i;
	const char *plan_path = NULL, *until = NULL;
	FILE *plan = NULL;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < (unsigned int)argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--ops") && i + 1 < (unsigned int)argc)
			n = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--vms") && i + 1 < (unsigned int)argc)
			vms = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--vcpus") && i + 1 < (unsigned int)argc)
			nr_vcpus = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--plan") && i + 1 < (unsigned int)argc)
			plan_path = argv[++i];
		else if (!strcmp(argv[i], "--until") && i + 1 < (unsigned int)argc)
			until = argv[++i];
		else if (!strcmp(argv[i], "--quiet"))
			quiet = 1;
		else if (!strcmp(argv[i], "--no-yield"))
			no_yield = 1;
		else
			die("usage: hvt-vmm [--seed N] [--ops N (1..%d)] [--vms N] [--vcpus N (1..%d)] [--until FILE] [--plan FILE] [--quiet] [--no-yield]",
			    MAX_OPS, MAX_VCPUS);
	}
	if (n < 1 || n > MAX_OPS || vms < 1 || vms > 100000 ||
	    nr_vcpus < 1 || nr_vcpus > MAX_VCPUS)
		die("--ops must be 1..%d, --vms 1..100000 and --vcpus 1..%d",
		    MAX_OPS, MAX_VCPUS);
	nr_ops = n;
	mem_size = nr_vcpus * VCPU_MEM;
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		die("/dev/kvm: %s", strerror(errno));
	if (plan_path) {
		plan = fopen(plan_path, "w");
		if (!plan)
			die("%s: %s", plan_path, strerror(errno));
		if (nr_vcpus == 1)
			fprintf(plan, "{\"seed\": %" PRIu64 ", \"ops\": %u, \"vms\": %u, \"pid\": %d}\n",
				seed, n, vms, getpid());
		else
			fprintf(plan, "{\"seed\": %" PRIu64 ", \"ops\": %u, \"vms\": %u, \"vcpus\": %u, \"pid\": %d}\n",
				seed, n, vms, nr_vcpus, getpid());
	}
	for (i = 0; until ? access(until, F_OK) != 0 : i < vms; i++)
		run_vm(i, seed, i < vms ? plan : NULL);
	if (until && !quiet)
		printf("hvt-vmm: %u VMs ran as planned\n", i);
	if (plan && fclose(plan))
		die("%s: %s", plan_path, strerror(errno));
	return 0;
}
