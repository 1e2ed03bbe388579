// SPDX-License-Identifier: GPL-2.0
/*
 * Who caused an exit (who.h): the --vm, --pid and --comm filters, the VM
 * map from session records, and what each trace says about itself.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/who.h"

void hvt_who_init(struct hvt_who *w)
{
	memset(w, 0, sizeof(*w));
	w->pid = -1;
	w->vm = -1;
}

void hvt_who_free(struct hvt_who *w)
{
	free(w->vms);
	free(w->traces);
	w->vms = NULL;
	w->traces = NULL;
	w->nvms = w->cap_vms = w->ntraces = w->cap_traces = 0;
}

void hvt_who_set_comm(struct hvt_who *w, const char *name)
{
	memset(w->comm, 0, sizeof(w->comm));
	strncpy(w->comm, name, sizeof(w->comm) - 1);
	w->has_comm = 1;
}

int hvt_who_active(const struct hvt_who *w)
{
	return w->pid >= 0 || w->vm >= 0 || w->has_comm;
}

int hvt_who_needs_thread(const struct hvt_who *w)
{
	return w->pid >= 0 || w->has_comm;
}

static struct hvt_who_trace *trace_slot(struct hvt_who *w, uint32_t trace)
{
	size_t i;

	for (i = 0; i < w->ntraces; i++)
		if (w->traces[i].trace == trace)
			return &w->traces[i];
	if (w->ntraces == w->cap_traces) {
		size_t cap = w->cap_traces ? 2 * w->cap_traces : 4;
		struct hvt_who_trace *n = realloc(w->traces, cap * sizeof(*n));

		if (!n)
			return NULL;
		w->traces = n;
		w->cap_traces = cap;
	}
	w->traces[w->ntraces].trace = trace;
	w->traces[w->ntraces].schema = UINT32_MAX;
	w->traces[w->ntraces].backend = HVTRACE_BACKEND_SANDBOX;
	return &w->traces[w->ntraces++];
}

static int note_trace(struct hvt_who *w, uint32_t trace, uint32_t schema, int backend)
{
	struct hvt_who_trace *t = trace_slot(w, trace);

	if (!t)
		return -1;
	if (schema < t->schema)
		t->schema = schema;
	if (backend != HVTRACE_BACKEND_SANDBOX)
		t->backend = backend;
	return 0;
}

static int note_vm(struct hvt_who *w, uint32_t trace, uint32_t vm, uint32_t pid)
{
	size_t i;

	for (i = 0; i < w->nvms; i++)
		if (w->vms[i].trace == trace && w->vms[i].vm == vm) {
			if (!w->vms[i].pid)
				w->vms[i].pid = pid;
			return 0;
		}
	if (w->nvms == w->cap_vms) {
		size_t cap = w->cap_vms ? 2 * w->cap_vms : 8;
		struct hvt_who_vm *n = realloc(w->vms, cap * sizeof(*n));

		if (!n)
			return -1;
		w->vms = n;
		w->cap_vms = cap;
	}
	w->vms[w->nvms].trace = trace;
	w->vms[w->nvms].vm = vm;
	w->vms[w->nvms].pid = pid;
	w->nvms++;
	return 0;
}

int hvt_who_session(struct hvt_who *w, uint32_t trace, const struct hvtrace_session_rec *s)
{
	if (note_trace(w, trace, s->schema_version, s->backend))
		return -1;
	if (s->backend == HVTRACE_BACKEND_KVM && s->vmm_pid &&
	    s->phase != HVTRACE_PHASE_ATTACH && s->phase != HVTRACE_PHASE_DETACH)
		return note_vm(w, trace, s->vm, s->vmm_pid);
	return 0;
}

void hvt_who_exit(struct hvt_who *w, const struct hvtrace_exit_rec *e)
{
	if (e->comm[0])
		w->exits_with_comm++;
}

int hvt_who_merge(struct hvt_who *dst, const struct hvt_who *src)
{
	size_t i;

	for (i = 0; i < src->ntraces; i++) {
		const struct hvt_who_trace *t = &src->traces[i];

		if (note_trace(dst, t->trace, t->schema, t->backend))
			return -1;
	}
	for (i = 0; i < src->nvms; i++)
		if (note_vm(dst, src->vms[i].trace, src->vms[i].vm, src->vms[i].pid))
			return -1;
	dst->exits_with_comm += src->exits_with_comm;
	return 0;
}

uint32_t hvt_who_vm_pid(const struct hvt_who *w, uint32_t trace, uint32_t vm)
{
	size_t i;

	for (i = 0; i < w->nvms; i++)
		if (w->vms[i].trace == trace && w->vms[i].vm == vm)
			return w->vms[i].pid;
	return 0;
}

const struct hvt_who_trace *hvt_who_trace_info(const struct hvt_who *w, uint32_t trace)
{
	size_t i;

	for (i = 0; i < w->ntraces; i++)
		if (w->traces[i].trace == trace)
			return &w->traces[i];
	return NULL;
}

int hvt_who_backend(const struct hvt_who *w, uint32_t trace)
{
	const struct hvt_who_trace *t = hvt_who_trace_info(w, trace);

	return t ? t->backend : HVTRACE_BACKEND_SANDBOX;
}

uint32_t hvt_who_exit_vm_pid(const struct hvt_who *w, uint32_t trace,
			     const struct hvtrace_exit_rec *e)
{
	uint32_t pid = hvt_who_vm_pid(w, trace, e->vm);

	if (!pid && e->pid && hvt_who_backend(w, trace) == HVTRACE_BACKEND_KVM)
		pid = e->pid;
	return pid;
}

int hvt_who_match(const struct hvt_who *w, uint32_t trace, const struct hvtrace_exit_rec *e)
{
	if (w->pid >= 0 && e->pid != (uint64_t)w->pid)
		return 0;
	if (w->has_comm && strncmp(e->comm, w->comm, sizeof(w->comm) - 1))
		return 0;
	if (w->vm >= 0 && e->vm != (uint64_t)w->vm &&
	    hvt_who_exit_vm_pid(w, trace, e) != (uint64_t)w->vm)
		return 0;
	return 1;
}

uint32_t hvt_who_lacks_thread(const struct hvt_who *w, uint64_t exits, uint32_t *schema)
{
	size_t i;

	for (i = 0; i < w->ntraces; i++)
		if (w->traces[i].schema < 3) {
			*schema = w->traces[i].schema;
			return w->traces[i].trace + 1;
		}
	if (!w->ntraces && exits && !w->exits_with_comm) {
		*schema = 0;
		return 1;
	}
	return 0;
}

void hvt_who_comm(const struct hvtrace_exit_rec *e, char out[HVTRACE_COMM_LEN + 1])
{
	size_t i;

	for (i = 0; i < HVTRACE_COMM_LEN && e->comm[i]; i++)
		out[i] = (e->comm[i] >= 0x20 && e->comm[i] < 0x7f) ? e->comm[i] : '?';
	out[i] = '\0';
}

uint64_t hvt_who_comm_key(const char *comm)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < HVTRACE_COMM_LEN && comm[i]; i++) {
		h ^= (unsigned char)comm[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
