/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who caused an exit: the VM (KVM: the per-load VM number and its VMM's
 * pid) and the thread (schema v3: pid, tid, comm).  Shared by hist, dump
 * and diff: the --vm, --pid and --comm filters, the VM map the session
 * records give, and what each trace's session records say about it
 * (schema version, backend).
 *
 * A VM is named by its number (hvtrace_exit.vm) and its VMM's pid
 * (hvtrace_session.vmm_pid of that VM; on schema v3 KVM traces also the
 * exit's own pid).  --vm N matches either.
 */
#ifndef HVT_ENGINE_WHO_H
#define HVT_ENGINE_WHO_H

#include <stddef.h>
#include <stdint.h>
#include "hvtrace_events.h"

/* A trace as its session records describe it. */
struct hvt_who_trace {
	uint32_t trace;
	uint32_t schema;	/* lowest schema_version seen */
	int backend;		/* HVTRACE_BACKEND_*; the last non-sandbox one seen */
};

struct hvt_who_vm {
	uint32_t trace, vm, pid;
};

struct hvt_who {
	int64_t pid;		/* --pid: -1 any */
	int64_t vm;		/* --vm: VM number or VMM pid, -1 any */
	int has_comm;		/* --comm */
	char comm[HVTRACE_COMM_LEN];	/* NUL padded, at most 15 characters */

	struct hvt_who_vm *vms;
	size_t nvms, cap_vms;
	struct hvt_who_trace *traces;
	size_t ntraces, cap_traces;
	uint64_t exits_with_comm;	/* exits whose comm is not empty */
};

void hvt_who_init(struct hvt_who *w);
void hvt_who_free(struct hvt_who *w);
/* --comm NAME: compared on its first 15 characters, as the kernel keeps. */
void hvt_who_set_comm(struct hvt_who *w, const char *name);
/* Any of --pid, --comm, --vm given. */
int hvt_who_active(const struct hvt_who *w);
/* --pid or --comm given: the trace must say who caused its exits (v3). */
int hvt_who_needs_thread(const struct hvt_who *w);

/* Note a session record of trace `trace`; -1 when out of memory. */
int hvt_who_session(struct hvt_who *w, uint32_t trace, const struct hvtrace_session_rec *s);
/* Note an exit (counts exits that name their thread). */
void hvt_who_exit(struct hvt_who *w, const struct hvtrace_exit_rec *e);
/* Add another part's VMs and traces (a parallel read); -1 out of memory. */
int hvt_who_merge(struct hvt_who *dst, const struct hvt_who *src);

/* The VMM pid of VM `vm` of trace `trace` from the session records; 0 unknown. */
uint32_t hvt_who_vm_pid(const struct hvt_who *w, uint32_t trace, uint32_t vm);
/* The VM's pid as far as known: the exit's own (v3 KVM), else the sessions'. */
uint32_t hvt_who_exit_vm_pid(const struct hvt_who *w, uint32_t trace,
			     const struct hvtrace_exit_rec *e);
const struct hvt_who_trace *hvt_who_trace_info(const struct hvt_who *w, uint32_t trace);
/* The backend of trace `trace` (HVTRACE_BACKEND_SANDBOX when not said). */
int hvt_who_backend(const struct hvt_who *w, uint32_t trace);

/* The exit passes --pid, --comm and --vm. */
int hvt_who_match(const struct hvt_who *w, uint32_t trace, const struct hvtrace_exit_rec *e);

/*
 * Whether the traces read say who caused their exits: 0 yes; otherwise
 * the index of a trace that does not (+1), with its schema version in
 * *schema (0: no session record, and no exit named a thread).
 */
uint32_t hvt_who_lacks_thread(const struct hvt_who *w, uint64_t exits, uint32_t *schema);

/* The comm of an exit as a C string (printable ASCII, '?' for the rest). */
void hvt_who_comm(const struct hvtrace_exit_rec *e, char out[HVTRACE_COMM_LEN + 1]);

/* A 64-bit key of a comm (equal comms, equal keys; FNV-1a over 16 bytes). */
uint64_t hvt_who_comm_key(const char *comm);

#endif /* HVT_ENGINE_WHO_H */
