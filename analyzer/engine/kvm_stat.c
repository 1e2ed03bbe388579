// SPDX-License-Identifier: GPL-2.0
/*
 * hist on plain LTTng kvm traces, the engine: perf kvm stat report's numbers.
 *
 * perf kvm stat times an exit from kvm_exit to the next kvm_entry of the
 * same vCPU thread.  An LTTng kernel trace has one stream per CPU, so an
 * exit is paired with the next entry of the same thread when the events
 * carry a tid context (lttng add-context -k -t tid), else with the next
 * entry on the same CPU (a vCPU thread migrated between its exit and its
 * entry is then paired wrongly: the header says which pairing was used).
 * The vCPU is the exit's vcpu_id; traces whose exits have none (kernels
 * before 5.10) take the entry's, which those kernels filled correctly.
 * Exits with no entry after them (the guest stopped; the entry was lost or
 * not enabled) are counted but have no time, and that is said.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kvm_stat.h"
#include "vmx/qual.h"

static struct hvt_kvm_group *group_of(struct hvt_kvm_stat *h, uint32_t vcpu, uint32_t isa,
				      uint32_t reason, uint64_t rip)
{
	for (size_t i = h->ng; i-- > 0;)
		if (h->g[i].vcpu == vcpu && h->g[i].isa == isa && h->g[i].reason == reason &&
		    h->g[i].rip == rip)
			return &h->g[i];
	if (h->ng == h->capg) {
		size_t cap = h->capg ? h->capg * 2 : 32;
		struct hvt_kvm_group *n = realloc(h->g, cap * sizeof(*n));

		if (!n)
			return NULL;
		h->g = n;
		h->capg = cap;
	}
	memset(&h->g[h->ng], 0, sizeof(h->g[0]));
	h->g[h->ng].vcpu = vcpu;
	h->g[h->ng].isa = isa;
	h->g[h->ng].reason = reason;
	h->g[h->ng].rip = rip;
	hvt_lat_init(&h->g[h->ng].lat);
	return &h->g[h->ng++];
}

static int note_vcpu(struct hvt_kvm_stat *h, uint32_t vcpu)
{
	for (size_t i = 0; i < h->nvcpus; i++)
		if (h->vcpus[i] == vcpu)
			return 0;
	if (h->nvcpus == h->capv) {
		size_t cap = h->capv ? h->capv * 2 : 16;
		uint32_t *n = realloc(h->vcpus, cap * sizeof(*n));

		if (!n)
			return -1;
		h->vcpus = n;
		h->capv = cap;
	}
	h->vcpus[h->nvcpus++] = vcpu;
	return 0;
}

/* Count an exit (its time when known: t >= 0). */
static int add_exit(struct hvt_kvm_stat *h, const struct hvt_kvm_pending *x, uint32_t vcpu,
		    int64_t t)
{
	struct hvt_kvm_group *g;

	if (h->vcpu >= 0 && (int64_t)vcpu != h->vcpu)
		return 0;
	if (note_vcpu(h, vcpu))
		return -1;
	g = group_of(h, vcpu, x->isa, x->reason, h->by == HVT_BY_RIP ? x->rip : 0);
	if (!g)
		return -1;
	g->count++;
	h->exits++;
	if (t < 0) {
		h->untimed++;
		return 0;
	}
	return hvt_lat_add(&g->lat, (uint64_t)t);
}

static struct hvt_kvm_pending *pending_of(struct hvt_kvm_stat *h, uint32_t trace, int64_t key)
{
	for (size_t i = 0; i < h->np; i++)
		if (h->p[i].key == key && h->p[i].trace == trace)
			return &h->p[i];
	if (h->np == h->capp) {
		size_t cap = h->capp ? h->capp * 2 : 16;
		struct hvt_kvm_pending *n = realloc(h->p, cap * sizeof(*n));

		if (!n)
			return NULL;
		h->p = n;
		h->capp = cap;
	}
	memset(&h->p[h->np], 0, sizeof(h->p[0]));
	h->p[h->np].key = key;
	h->p[h->np].trace = trace;
	h->p[h->np].entered = -1;
	return &h->p[h->np++];
}

/* An exit that will get no entry: counted without a time. */
int hvt_kvm_stat_flush(struct hvt_kvm_stat *h, struct hvt_kvm_pending *p)
{
	int rc = 0;

	if (p->used)
		rc = add_exit(h, p, p->has_vcpu ? p->vcpu : HVT_KVM_NO_VCPU, -1);
	p->used = 0;
	return rc;
}

int hvt_kvm_stat_take(struct hvt_kvm_stat *h, const struct hvt_event *ev)
{
	const struct hvt_kvm_rec *k = &ev->u.kvm;
	struct hvt_kvm_pending *p;
	int64_t key;

	if (ev->type == HVT_EV_DISCARDED) {
		h->discard_records++;
		h->discarded += ev->u.discarded.count;
		h->lost_packets += ev->u.discarded.packets;
		/* the entry of an exit on that stream may be among them */
		for (size_t i = 0; i < h->np; i++) {
			if (!h->p[i].used || h->p[i].stream != ev->stream)
				continue;
			h->lost_pending++;
			if (hvt_kvm_stat_flush(h, &h->p[i]))
				return -1;
		}
		return 0;
	}
	if (ev->type != HVT_EV_KVM) {
		h->hvtrace_events++;
		return 0;
	}
	h->events++;
	if (ev->ts_ns) {
		if (!h->have_ts || ev->ts_ns < h->first_ns)
			h->first_ns = ev->ts_ns;
		if (!h->have_ts || ev->ts_ns > h->last_ns)
			h->last_ns = ev->ts_ns;
		h->have_ts = 1;
	}
	if (k->has & HVT_KVM_HAS_TID) {
		key = k->tid;
		h->by_tid = 1;
	} else {
		key = -1 - (int64_t)k->cpu;
		h->by_cpu = 1;
	}
	p = pending_of(h, hvt_reader_stream_trace(h->r, ev->stream), key);
	if (!p)
		return -1;
	if (k->kind == HVT_KVM_EXIT) {
		if (hvt_kvm_stat_flush(h, p))
			return -1;
		p->used = 1;
		p->stream = ev->stream;
		p->ts = ev->ts_ns;
		p->isa = k->isa;
		p->reason = k->exit_reason;
		p->rip = k->guest_rip;
		p->has_vcpu = !!(k->has & HVT_KVM_HAS_VCPU);
		p->vcpu = k->vcpu_id;
		if (p->has_vcpu)
			h->exit_vcpu = 1;
		else if (p->entered >= 0) {
			/* kernels before 5.10: the vCPU last entered from here */
			p->has_vcpu = 1;
			p->vcpu = (uint32_t)p->entered;
		}
		if (k->isa == 2)
			h->svm = 1;
		return 0;
	}
	h->entries++;
	if (!h->exit_vcpu && (k->has & HVT_KVM_HAS_VCPU))
		p->entered = k->vcpu_id;
	if (!p->used) {
		h->orphan_entries++;	/* the first entry of a vCPU, or its exit was lost */
		return 0;
	}
	p->used = 0;
	if (ev->ts_ns < p->ts) {
		h->negative++;
		return add_exit(h, p, p->has_vcpu ? p->vcpu : HVT_KVM_NO_VCPU, -1);
	}
	/* kernels before 5.10: the exit has no vcpu_id, the entry's is right */
	return add_exit(h, p, !h->exit_vcpu && (k->has & HVT_KVM_HAS_VCPU) ? k->vcpu_id :
			p->has_vcpu ? p->vcpu : HVT_KVM_NO_VCPU, ev->ts_ns - p->ts);
}

/* ---- grouping for the report ---------------------------------------------- */

void hvt_kvm_rows_free(struct hvt_kvm_group *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hvt_lat_free(&rows[i].lat);
	free(rows);
}

/* The rows: groups merged over what the grouping leaves out. */
int hvt_kvm_stat_rows(const struct hvt_kvm_stat *h, struct hvt_kvm_group **rows, size_t *nrows,
		     struct hvt_lat *total)
{
	struct hvt_kvm_stat m = { .by = h->by, .vcpu = h->vcpu };

	hvt_lat_init(total);
	for (size_t i = 0; i < h->ng; i++) {
		const struct hvt_kvm_group *s = &h->g[i];
		struct hvt_kvm_group *d;

		if (h->by == HVT_BY_VCPU)
			d = group_of(&m, s->vcpu, 0, 0, 0);
		else
			d = group_of(&m, HVT_KVM_NO_VCPU, s->isa, s->reason, s->rip);
		if (!d || hvt_lat_merge(&d->lat, &s->lat) || hvt_lat_merge(total, &s->lat)) {
			hvt_kvm_rows_free(m.g, m.ng);
			return -1;
		}
		d->count += s->count;
	}
	*rows = m.g;
	*nrows = m.ng;
	return 0;
}

