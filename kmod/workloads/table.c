// SPDX-License-Identifier: GPL-2.0
/*
 * The table of sandbox workloads (kmod/workload.h): names and descriptions
 * come from plan.h's HVT_WORKLOADS list, so the module, the plan and the
 * checker can never disagree on them.
 */
#define pr_fmt(fmt) "hvtrace: " fmt

#include <linux/kernel.h>
#include <linux/string.h>
#include "../workload.h"
#include "../uapi/hvtrace.h"
#include "plan.h"
#include "guests.h"

/* MSRs the workloads touch: the scratch file, the host MSRs they read and
 * the first non-scratch index they write. */
static const u32 wl_msrs[] = {
	0x40000100, 0x40000101, 0x40000102, 0x40000103,
	0x40000104, 0x40000105, 0x40000106, 0x40000107,
	0x40000108, 0x40000109, 0x4000010a, 0x4000010b,
	0x4000010c, 0x4000010d, 0x4000010e, 0x4000010f,
	0x1b, 0x277, 0xc0000080,
	0
};

/* Ports: the echo device, the unclaimed ports used via DX, and 0x80. */
static const u32 wl_ports[] = {
	0xe000, 0xe001, 0xe002, 0xe003, 0xe004, 0xe005, 0xe006, 0xe007,
	0xe008, 0xe009, 0xe00a, 0xe00b, 0xe00c, 0xe00d, 0xe00e, 0xe00f,
	0xe010, 0xe011, 0xe012, 0xe013, 0xe014, 0xe015, 0xe016, 0xe017,
	0xe018, 0xe019, 0xe01a, 0xe01b, 0xe01c, 0xe01d, 0xe01e, 0xe01f,
	0x80,
	0xffffffff
};

static const u32 no_msrs[] = { 0 };
static const u32 no_ports[] = { 0xffffffff };

#define HVT_WL_MAIN(name, desc)						\
static HVT_GUEST_CODE void wl_main_##name(const struct hvt_wl_args *a)	\
{									\
	hvt_guest_run_plan(HVT_WL_##name, a);				\
}
HVT_WORKLOADS(HVT_WL_MAIN)
#undef HVT_WL_MAIN

/*
 * Exit classes each workload needs armed (CPUID, VMCALL and XSETBV always
 * exit; the exceptions workloads also need the exception bitmap).
 */
#define TRAPS_cpuid		0
#define TRAPS_msr		HVTRACE_TRAP_MSR
#define TRAPS_io		HVTRACE_TRAP_IO
#define TRAPS_vmcall		0
#define TRAPS_hlt		HVTRACE_TRAP_HLT
#define TRAPS_rdtsc		HVTRACE_TRAP_RDTSC
#define TRAPS_cr		(HVTRACE_TRAP_CR3 | HVTRACE_TRAP_CR0_CR4)
#define TRAPS_xsetbv		0
#define TRAPS_exceptions	HVTRACE_TRAP_EXC
#define TRAPS_xmm		0
#define TRAPS_mix		(HVTRACE_TRAP_HLT | HVTRACE_TRAP_RDTSC |	\
				 HVTRACE_TRAP_CR3 | HVTRACE_TRAP_CR0_CR4 |	\
				 HVTRACE_TRAP_MSR | HVTRACE_TRAP_IO |		\
				 HVTRACE_TRAP_EXC)
#define TRAPS_triplefault	HVTRACE_TRAP_EXC

#define HVT_WL_ENTRY(id, desc)						\
	[HVT_WL_##id] = {						\
		.name = #id,						\
		.description = desc,					\
		.traps = TRAPS_##id,					\
		.msrs = (TRAPS_##id & HVTRACE_TRAP_MSR) ? wl_msrs : no_msrs, \
		.ports = (TRAPS_##id & HVTRACE_TRAP_IO) ? wl_ports : no_ports, \
		.guest_main = wl_main_##id,				\
	},
static const struct hvt_workload workloads[HVT_WL_COUNT] = {
	HVT_WORKLOADS(HVT_WL_ENTRY)
};
#undef HVT_WL_ENTRY

const struct hvt_workload *hvt_workload_get(unsigned int index)
{
	if (index >= HVT_WL_COUNT)
		return NULL;
	return &workloads[index];
}

const struct hvt_workload *hvt_workload_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < HVT_WL_COUNT; i++)
		if (!strcmp(workloads[i].name, name))
			return &workloads[i];
	return NULL;
}
