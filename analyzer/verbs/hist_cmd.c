// SPDX-License-Identifier: GPL-2.0
/*
 * hvtrace hist: the exit histogram verb.  The engine (engine/hist.c) reads
 * and accumulates; this file parses the options, sorts the groups and
 * prints the warnings, the table, JSON, CSV or SVG.  hvt_hist_new() and
 * friends feed the same engine from the babeltrace2 plugin's graph.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode/reader.h"
#include "engine/hist.h"
#include "engine/stats.h"
#include "verbs/hist_cmd.h"
#include "verbs/kvm_hist.h"
#include "verbs/output.h"
#include "verbs/verbs.h"
#include "vmx/qual.h"

static const char *const by_names[] = { "reason", "qual", "rip", "vcpu", "vm", "pid", "comm" };
#define N_BY 7

/* Groups of these modes are one per reason (with a key); the others one per entity. */
static int by_reason(enum hvt_hist_by by)
{
	return by == HVT_BY_REASON || by == HVT_BY_QUAL || by == HVT_BY_RIP;
}

static int by_thread(enum hvt_hist_by by)
{
	return by == HVT_BY_PID || by == HVT_BY_COMM;
}
static const char *const sort_names[] = { "count", "time", "mean", "max", "name" };

/* ---- presentation -------------------------------------------------------- */

static enum hvt_hist_sort sort_mode;

static enum hvt_hist_by name_by;

static int cmp_name(const struct hvt_hist_group *a, const struct hvt_hist_group *b)
{
	if (name_by == HVT_BY_COMM) {
		int c = strcmp(a->comm, b->comm);

		if (c)
			return c;
	}
	if (a->reason != b->reason)
		return a->reason < b->reason ? -1 : 1;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return 0;
}

static int cmp_groups(const void *pa, const void *pb)
{
	const struct hvt_hist_group *a = pa, *b = pb;
	double x = 0, y = 0;

	switch (sort_mode) {
	case HVT_SORT_COUNT:
		x = (double)a->count;
		y = (double)b->count;
		break;
	case HVT_SORT_TIME:
		if (a->lat.sum != b->lat.sum)
			return a->lat.sum > b->lat.sum ? -1 : 1;
		break;
	case HVT_SORT_MEAN:
		x = a->lat.mean;
		y = b->lat.mean;
		break;
	case HVT_SORT_MAX:
		x = (double)a->lat.max;
		y = (double)b->lat.max;
		break;
	case HVT_SORT_NAME:
		return cmp_name(a, b);
	}
	if (x != y)
		return x > y ? -1 : 1;
	return cmp_name(a, b);
}

static void reason_text(const struct hvt_hist_group *g, char *buf, size_t len)
{
	hvt_exit_reason_format(g->reason, buf, len);
}

/* The VMM pid of a --by vm group: its exits', else the session records'. */
static uint32_t group_vm_pid(const struct hvt_hist_acc *h, const struct hvt_hist_group *g)
{
	return g->vm_pid ? g->vm_pid : hvt_who_vm_pid(&h->who, g->trace, g->vm);
}

static void label_text(const struct hvt_hist_acc *h, const struct hvt_hist_group *g, char *buf,
		       size_t len)
{
	switch (h->by) {
	case HVT_BY_VM: {
		uint32_t pid = group_vm_pid(h, g);

		if (pid)
			snprintf(buf, len, "vm %" PRIu32 " (pid %" PRIu32 ")", g->vm, pid);
		else
			snprintf(buf, len, "vm %" PRIu32, g->vm);
		break;
	}
	case HVT_BY_PID:
		snprintf(buf, len, "pid %" PRIu32 " (%s)", g->pid, g->comm);
		break;
	case HVT_BY_COMM:
		snprintf(buf, len, "%s", g->comm);
		break;
	case HVT_BY_QUAL:
		hvt_qual_format(&g->q, buf, len, 0);
		break;
	case HVT_BY_RIP:
		snprintf(buf, len, "0x%" PRIx64, g->key);
		break;
	case HVT_BY_VCPU:
		snprintf(buf, len, "%" PRIu64, g->key);
		break;
	default:
		buf[0] = '\0';
	}
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static double pct128(unsigned __int128 part, unsigned __int128 whole)
{
	return whole ? (double)(100.0L * (long double)part / (long double)whole) : 0.0;
}

/* A 128-bit total for JSON: an integer, or a decimal string past 2^63-1. */
static json_t *json_u128(unsigned __int128 v)
{
	char buf[48];

	if (v <= (unsigned __int128)UINT64_MAX)
		return hvt_json_u64((uint64_t)v);
	return json_string(hvt_u128_str(v, buf, sizeof(buf)));
}

static void warning_text(const struct hvt_hist_warning *w,
			 char *buf, size_t len)
{
	switch (w->kind) {
	case HVT_HIST_W_DISCARDED:
		if (w->packets)
			snprintf(buf, len, "%s: %" PRIu64 " packet%s lost by the tracer between %"
				 PRId64 " and %" PRId64 " ns (the events %s held are unknown)",
				 w->stream, w->packets, w->packets == 1 ? "" : "s",
				 w->begin_ns, w->end_ns, w->packets == 1 ? "it" : "they");
		else if (w->count)
			snprintf(buf, len, "%s: %" PRIu64 " events discarded by the tracer between %"
				 PRId64 " and %" PRId64 " ns",
				 w->stream, w->count,
				 w->begin_ns, w->end_ns);
		else
			snprintf(buf, len, "%s: events discarded by the tracer (count unknown) between %"
				 PRId64 " and %" PRId64 " ns",
				 w->stream, w->begin_ns, w->end_ns);
		break;
	case HVT_HIST_W_SEQ_GAP:
		snprintf(buf, len, "%s: vcpu %" PRIu32 " seq gap: exits %" PRIu64 "..%" PRIu64
			 " missing (%" PRIu64 ")", w->stream,
			 w->vcpu, w->first, w->last, w->count);
		break;
	case HVT_HIST_W_SEQ_BACK:
		snprintf(buf, len, "%s: vcpu %" PRIu32 " seq went back from %" PRIu64 " to %"
			 PRIu64 " (a new module load, or a reordered trace)",
			 w->stream, w->vcpu, w->first, w->last);
		break;
	}
}

static json_t *lat_json(const struct hvt_lat *l)
{
	json_t *o = json_object();

	json_object_set_new(o, "samples", hvt_json_u64(l->n));
	json_object_set_new(o, "total", json_u128(l->sum));
	if (l->n) {
		json_object_set_new(o, "min", hvt_json_u64(l->min));
		json_object_set_new(o, "max", hvt_json_u64(l->max));
		json_object_set_new(o, "mean", json_real(l->mean));
		json_object_set_new(o, "stddev", json_real(hvt_lat_stddev(l)));
		json_object_set_new(o, "p50", hvt_json_u64(hvt_lat_percentile(l, 50)));
		json_object_set_new(o, "p99", hvt_json_u64(hvt_lat_percentile(l, 99)));
	} else {
		json_object_set_new(o, "min", json_null());
		json_object_set_new(o, "max", json_null());
		json_object_set_new(o, "mean", json_null());
		json_object_set_new(o, "stddev", json_null());
		json_object_set_new(o, "p50", json_null());
		json_object_set_new(o, "p99", json_null());
	}
	return o;
}

static json_t *warnings_json(const struct hvt_hist_acc *h)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < h->nwarnings; i++) {
		const struct hvt_hist_warning *w = &h->warnings[i];
		json_t *o = json_object();
		char text[512];

		warning_text(w, text, sizeof(text));
		json_object_set_new(o, "kind", json_string(w->kind == HVT_HIST_W_DISCARDED ? "discarded" :
			w->kind == HVT_HIST_W_SEQ_GAP ? "seq_gap" : "seq_back"));
		json_object_set_new(o, "stream", json_string(w->stream));
		if (w->kind == HVT_HIST_W_DISCARDED) {
			json_object_set_new(o, "count", hvt_json_u64(w->count));
			json_object_set_new(o, "packets", hvt_json_u64(w->packets));
			json_object_set_new(o, "begin_ns", json_integer(w->begin_ns));
			json_object_set_new(o, "end_ns", json_integer(w->end_ns));
		} else {
			json_object_set_new(o, "vcpu", json_integer(w->vcpu));
			json_object_set_new(o, "from_seq", hvt_json_u64(w->first));
			json_object_set_new(o, "to_seq", hvt_json_u64(w->last));
			if (w->kind == HVT_HIST_W_SEQ_GAP)
				json_object_set_new(o, "count", hvt_json_u64(w->count));
		}
		json_object_set_new(o, "message", json_string(text));
		json_array_append_new(a, o);
	}
	return a;
}

static int print_json(const struct hvt_hist_acc *h, const struct hvt_reader *r,
		      const struct hvt_hist_opts *o, size_t shown)
{
	json_t *root = json_object(), *traces = json_array(), *groups = json_array();
	json_t *lost = json_object();
	size_t i;
	int ret;

	for (i = 0; i < hvt_reader_trace_count(r); i++)
		json_array_append_new(traces, json_string(hvt_reader_trace_path(r, i)));
	json_object_set_new(root, "verb", json_string("hist"));
	json_object_set_new(root, "schema_version", json_integer(HVTRACE_SCHEMA_VERSION));
	json_object_set_new(root, "traces", traces);
	json_object_set_new(root, "group_by", json_string(by_names[o->by]));
	json_object_set_new(root, "sort", json_string(sort_names[o->sort]));
	json_object_set_new(root, "vcpu_filter", o->vcpu >= 0 ?
			    json_integer(o->vcpu) : json_null());
	json_object_set_new(root, "vm_filter", o->who.vm >= 0 ?
			    json_integer(o->who.vm) : json_null());
	json_object_set_new(root, "pid_filter", o->who.pid >= 0 ?
			    json_integer(o->who.pid) : json_null());
	json_object_set_new(root, "comm_filter", o->who.has_comm ?
			    json_string(o->who.comm) : json_null());
	json_object_set_new(root, "filtered_exits", hvt_json_u64(h->filtered_exits));
	json_object_set_new(root, "latency_unit", json_string(o->time_ns ? "ns" : "tsc_cycles"));
	json_object_set_new(root, "percentile_precision",
			    json_real(1.0 / (2.0 * HVT_LAT_SUB)));
	json_object_set_new(root, "events", hvt_json_u64(h->events));
	json_object_set_new(root, "exits", hvt_json_u64(h->exits));
	json_object_set_new(root, "resumes", hvt_json_u64(h->resumes));
	json_object_set_new(root, "sessions", hvt_json_u64(h->sessions));
	json_object_set_new(root, "other_events", hvt_json_u64(h->other_events));
	json_object_set_new(root, "vcpus", json_integer((json_int_t)h->nvcpus));
	json_object_set_new(root, "threads", json_integer(h->threads));
	json_object_set_new(root, "first_ns", h->have_ts ? json_integer(h->first_ns) : json_null());
	json_object_set_new(root, "last_ns", h->have_ts ? json_integer(h->last_ns) : json_null());
	json_object_set_new(root, "span_ns", json_integer(h->have_ts ? h->last_ns - h->first_ns : 0));
	json_object_set_new(lost, "discarded_events", hvt_json_u64(h->discarded));
	json_object_set_new(lost, "discarded_packets", hvt_json_u64(h->discarded_packets));
	json_object_set_new(lost, "discarded_records", hvt_json_u64(h->discarded_records));
	json_object_set_new(lost, "seq_gaps", hvt_json_u64(h->seq_gaps));
	json_object_set_new(lost, "seq_missing", hvt_json_u64(h->seq_missing));
	json_object_set_new(lost, "seq_backwards", hvt_json_u64(h->seq_back));
	json_object_set_new(lost, "exits_without_resume", hvt_json_u64(h->no_resume));
	json_object_set_new(lost, "resumes_without_exit", hvt_json_u64(h->unmatched_resumes));
	json_object_set_new(lost, "negative_latencies", hvt_json_u64(h->negative_latency));
	json_object_set_new(lost, "implausible_latencies", hvt_json_u64(h->wild_latency));
	{
		uint64_t dropped = 0;

		for (i = 0; i < h->nruns; i++)
			dropped += h->runs[i].dropped;
		json_object_set_new(lost, "dropped_by_module", hvt_json_u64(dropped));
	}
	json_object_set_new(root, "lost", lost);
	{
		json_t *runs = json_array();

		for (i = 0; i < h->nruns; i++) {
			const struct hvt_hist_run *rr = &h->runs[i];
			json_t *ro = json_object();

			json_object_set_new(ro, "trace", json_string(hvt_reader_trace_path(r, rr->trace) ?
				hvt_reader_trace_path(r, rr->trace) : "?"));
			json_object_set_new(ro, "run_id", hvt_json_u64(rr->run_id));
			json_object_set_new(ro, "workload", json_string(rr->workload));
			json_object_set_new(ro, "seed", hvt_json_u64(rr->seed));
			json_object_set_new(ro, "iterations", hvt_json_u64(rr->iterations));
			json_object_set_new(ro, "module_version", json_string(rr->module));
			json_object_set_new(ro, "ended", json_boolean(rr->ended));
			json_object_set_new(ro, "status", rr->ended ? json_integer(rr->status) : json_null());
			json_object_set_new(ro, "dropped", hvt_json_u64(rr->dropped));
			json_array_append_new(runs, ro);
		}
		json_object_set_new(root, "runs", runs);
		json_object_set_new(root, "runs_omitted", hvt_json_u64(h->runs_omitted));
	}
	json_object_set_new(root, "warnings", warnings_json(h));
	json_object_set_new(root, "warnings_omitted", hvt_json_u64(h->warnings_dropped));
	for (i = 0; i < shown; i++) {
		const struct hvt_hist_group *g = &h->groups[i];
		json_t *go = json_object();
		char buf[160];

		if (by_reason(o->by)) {
			reason_text(g, buf, sizeof(buf));
			json_object_set_new(go, "reason", json_string(buf));
			json_object_set_new(go, "reason_code",
					    json_integer(g->reason & HVTRACE_EXIT_REASON_BASIC_MASK));
			json_object_set_new(go, "entry_failure",
					    json_boolean(g->reason & HVTRACE_EXIT_REASON_ENTRY_FAIL));
			json_object_set_new(go, "async", json_boolean(hvt_exit_is_async(&g->q)));
		}
		if (o->by == HVT_BY_QUAL) {
			hvt_qual_format(&g->q, buf, sizeof(buf), 0);
			json_object_set_new(go, "qual_kind", json_string(hvt_qual_kind_name(g->q.kind)));
			json_object_set_new(go, "qual", json_string(buf));
			json_object_set_new(go, "qual_key", hvt_json_hex(g->key));
		}
		if (o->by == HVT_BY_RIP)
			json_object_set_new(go, "rip", hvt_json_hex(g->key));
		if (o->by == HVT_BY_VCPU)
			json_object_set_new(go, "vcpu", hvt_json_u64(g->key));
		if (o->by == HVT_BY_VM) {
			uint32_t pid = group_vm_pid(h, g);

			json_object_set_new(go, "vm", json_integer(g->vm));
			json_object_set_new(go, "vm_pid", pid ? json_integer(pid) : json_null());
		}
		if (o->by == HVT_BY_PID)
			json_object_set_new(go, "pid", json_integer(g->pid));
		if (by_thread(o->by))
			json_object_set_new(go, "comm", json_string(g->comm));
		json_object_set_new(go, "count", hvt_json_u64(g->count));
		json_object_set_new(go, "percent", json_real(pct(g->count, h->exits)));
		json_object_set_new(go, "time_percent", json_real(pct128(g->lat.sum, h->total.sum)));
		json_object_set_new(go, "latency", lat_json(&g->lat));
		json_array_append_new(groups, go);
	}
	json_object_set_new(root, "groups", groups);
	json_object_set_new(root, "groups_omitted", json_integer((json_int_t)(h->ngroups - shown)));
	json_object_set_new(root, "total", lat_json(&h->total));
	ret = hvt_json_write(stdout, root, 1);
	json_decref(root);
	return ret;
}

/* Text (with bars) and CSV share one table; CSV drops the bar column. */
static int print_table(const struct hvt_hist_acc *h, const struct hvt_reader *r,
		       const struct hvt_hist_opts *o, size_t shown)
{
	int csv = o->format == HVT_FMT_CSV;
	struct hvt_table *t = hvt_table_new();
	uint64_t max_count = 0;
	size_t i;
	int ret;

	if (!t)
		return -1;
	for (i = 0; i < shown; i++)
		if (h->groups[i].count > max_count)
			max_count = h->groups[i].count;
	if (by_reason(o->by))
		hvt_table_col(t, "reason", HVT_LEFT);
	if (o->by == HVT_BY_QUAL)
		hvt_table_col(t, "qualification", HVT_LEFT);
	if (o->by == HVT_BY_RIP)
		hvt_table_col(t, "rip", HVT_LEFT);
	if (o->by == HVT_BY_VCPU)
		hvt_table_col(t, "vcpu", HVT_RIGHT);
	if (o->by == HVT_BY_VM) {
		hvt_table_col(t, "vm", HVT_RIGHT);
		hvt_table_col(t, csv ? "vm_pid" : "vmm pid", HVT_RIGHT);
	}
	if (o->by == HVT_BY_PID)
		hvt_table_col(t, "pid", HVT_RIGHT);
	if (by_thread(o->by))
		hvt_table_col(t, "comm", HVT_LEFT);
	hvt_table_col(t, "count", HVT_RIGHT);
	hvt_table_col(t, csv ? "percent" : "%", HVT_RIGHT);
	if (!csv)
		hvt_table_col(t, "", HVT_LEFT);
	hvt_table_col(t, "time", HVT_RIGHT);
	hvt_table_col(t, csv ? "time_percent" : "time%", HVT_RIGHT);
	hvt_table_col(t, "min", HVT_RIGHT);
	hvt_table_col(t, "max", HVT_RIGHT);
	hvt_table_col(t, "mean", HVT_RIGHT);
	hvt_table_col(t, "stddev", HVT_RIGHT);
	hvt_table_col(t, "p50", HVT_RIGHT);
	hvt_table_col(t, "p99", HVT_RIGHT);
	for (i = 0; i < shown; i++) {
		const struct hvt_hist_group *g = &h->groups[i];
		const struct hvt_lat *l = &g->lat;
		char buf[200];

		hvt_table_row(t);
		if (by_reason(o->by)) {
			reason_text(g, buf, sizeof(buf));
			if (!csv && hvt_exit_is_async(&g->q))
				strncat(buf, "*", sizeof(buf) - strlen(buf) - 1);
			hvt_table_cell(t, "%s", buf);
		}
		if (o->by == HVT_BY_VM) {
			uint32_t pid = group_vm_pid(h, g);

			hvt_table_cell(t, "%" PRIu32, g->vm);
			if (pid)
				hvt_table_cell(t, "%" PRIu32, pid);
			else
				hvt_table_cell(t, "%s", csv ? "" : "-");
		} else if (o->by == HVT_BY_PID) {
			hvt_table_cell(t, "%" PRIu32, g->pid);
			hvt_table_cell(t, "%s", g->comm);
		} else if (o->by == HVT_BY_COMM) {
			hvt_table_cell(t, "%s", g->comm);
		} else if (o->by != HVT_BY_REASON) {
			label_text(h, g, buf, sizeof(buf));
			hvt_table_cell(t, "%s", buf);
		}
		hvt_table_cell(t, "%" PRIu64, g->count);
		hvt_table_cell(t, "%.2f", pct(g->count, h->exits));
		if (!csv) {
			hvt_bar(buf, sizeof(buf), max_count ? (double)g->count / (double)max_count : 0,
				20);
			hvt_table_cell(t, "%s", buf);
		}
		hvt_table_cell(t, "%s", hvt_u128_str(l->sum, buf, sizeof(buf)));
		hvt_table_cell(t, "%.2f", pct128(l->sum, h->total.sum));
		if (l->n) {
			hvt_table_cell(t, "%" PRIu64, l->min);
			hvt_table_cell(t, "%" PRIu64, l->max);
			hvt_table_cell(t, "%.1f", l->mean);
			hvt_table_cell(t, "%.1f", hvt_lat_stddev(l));
			hvt_table_cell(t, "%" PRIu64, hvt_lat_percentile(l, 50));
			hvt_table_cell(t, "%" PRIu64, hvt_lat_percentile(l, 99));
		} else {
			for (int k = 0; k < 6; k++)
				hvt_table_cell(t, "%s", csv ? "" : "-");
		}
	}
	if (csv) {
		ret = hvt_table_csv(t, stdout);
	} else {
		size_t k;

		printf("hvtrace hist: ");
		for (k = 0; k < hvt_reader_trace_count(r); k++)
			printf("%s%s", k ? ", " : "", hvt_reader_trace_path(r, k));
		if (!hvt_reader_trace_count(r))
			printf("%u stream%s of a babeltrace2 graph", hvt_reader_stream_count(r),
			       hvt_reader_stream_count(r) == 1 ? "" : "s");
		printf("\n");
		printf("events %" PRIu64 "  exits %" PRIu64 "  resumes %" PRIu64 "  vcpus %zu"
		       "  span %.6f s  discarded %" PRIu64 " events",
		       h->events, h->exits, h->resumes, h->nvcpus,
		       h->have_ts ? (double)(h->last_ns - h->first_ns) / 1e9 : 0.0,
		       h->discarded);
		if (h->discarded_packets)
			printf(", %" PRIu64 " lost packet%s", h->discarded_packets,
			       h->discarded_packets == 1 ? "" : "s");
		if (h->seq_missing)
			printf("  seq gaps %" PRIu64 " exits", h->seq_missing);
		if (h->other_events)
			printf("  other events %" PRIu64, h->other_events);
		printf("\n");
		for (k = 0; k < h->nruns && k < 4; k++) {
			const struct hvt_hist_run *rr = &h->runs[k];

			printf("run %" PRIu64 ": workload %s seed %" PRIu64 " iterations %" PRIu64
			       " module %s", rr->run_id, rr->workload[0] ? rr->workload : "?",
			       rr->seed, rr->iterations, rr->module[0] ? rr->module : "?");
			if (rr->ended)
				printf(", ended with status %" PRId32, rr->status);
			else
				printf(", no end record");
			if (rr->dropped)
				printf(", %" PRIu64 " exits dropped by the module", rr->dropped);
			printf("\n");
		}
		if (h->nruns > 4 || h->runs_omitted)
			printf("... %" PRIu64 " more runs\n", (uint64_t)(h->nruns - (h->nruns > 4 ? 4 : h->nruns)) +
			       h->runs_omitted);
		printf("grouped by %s; handler time = %s;"
		       " p50/p99 within 0.8%%\n", by_names[o->by], o->time_ns ?
		       "resume - exit event time in ns (tracer clock)" :
		       "resume.tsc - exit.tsc in TSC cycles");
		if (o->vcpu >= 0)
			printf("vcpu %" PRId64 " only\n", o->vcpu);
		if (hvt_who_active(&o->who)) {
			printf("only exits of");
			if (o->who.vm >= 0)
				printf(" vm %" PRId64 " (a VM number or its VMM's pid)", o->who.vm);
			if (o->who.pid >= 0)
				printf(" pid %" PRId64, o->who.pid);
			if (o->who.has_comm)
				printf(" comm %s", o->who.comm);
			printf(": %" PRIu64 " other exits left out\n", h->filtered_exits);
		}
		printf("\n");
		ret = hvt_table_print(t, stdout);
		printf("\n");
		if (shown < h->ngroups) {
			uint64_t rest = 0;

			for (k = shown; k < h->ngroups; k++)
				rest += h->groups[k].count;
			printf("%zu more groups (%" PRIu64 " exits) not shown (--top)\n",
			       h->ngroups - shown, rest);
		}
		{
			char tb[48];

			printf("total  %" PRIu64 " exits  %s %s in handlers", h->exits,
			       hvt_u128_str(h->total.sum, tb, sizeof(tb)),
			       o->time_ns ? "ns" : "cycles");
		}
		if (h->total.n)
			printf("  mean %.1f  p50 %" PRIu64 "  p99 %" PRIu64, h->total.mean,
			       hvt_lat_percentile(&h->total, 50), hvt_lat_percentile(&h->total, 99));
		printf("\n");
		if (by_reason(o->by)) {
			for (k = 0; k < shown; k++)
				if (hvt_exit_is_async(&h->groups[k].q))
					break;
			if (k < shown)
				printf("* asynchronous exit (not caused by the guest's instruction)\n");
		}
	}
	hvt_table_free(t);
	return ret;
}

static int print_svg(const struct hvt_hist_acc *h, const struct hvt_reader *r,
		     const struct hvt_hist_opts *o, size_t shown)
{
	struct hvt_svg_bar *bars = calloc(shown ? shown : 1, sizeof(*bars));
	char (*labels)[200] = calloc(shown ? shown : 1, sizeof(*labels));
	char (*values)[64] = calloc(shown ? shown : 1, sizeof(*values));
	char title[300], sub[200];
	FILE *f = NULL;
	size_t i;
	int ret = -1;

	if (!bars || !labels || !values)
		goto out;
	for (i = 0; i < shown; i++) {
		const struct hvt_hist_group *g = &h->groups[i];
		char lab[160] = "";
		size_t n = 0;

		if (by_reason(o->by))
			n = (size_t)hvt_exit_reason_format(g->reason, labels[i], sizeof(labels[i]));
		label_text(h, g, lab, sizeof(lab));
		if (lab[0] && n < sizeof(labels[i]))
			snprintf(labels[i] + n, sizeof(labels[i]) - n, "%s%s",
				 n ? " " : o->by == HVT_BY_VCPU ? "vcpu " :
				 o->by == HVT_BY_COMM ? "comm " : "", lab);
		snprintf(values[i], sizeof(values[i]), "%" PRIu64 " (%.1f%%)", g->count,
			 pct(g->count, h->exits));
		bars[i].label = labels[i];
		bars[i].value = (double)g->count;
		bars[i].value_text = values[i];
	}
	snprintf(title, sizeof(title), "hvtrace hist: exits by %s", by_names[o->by]);
	snprintf(sub, sizeof(sub), "%s: %" PRIu64 " exits, %" PRIu64 " lost events%s",
		 hvt_reader_trace_count(r) ? hvt_reader_trace_path(r, 0) : "",
		 h->exits, h->discarded + h->seq_missing,
		 h->discarded_packets ? " and lost packets" : "");
	f = fopen(o->svg, "w");
	if (!f) {
		hvt_error("%s: %s", o->svg, strerror(errno));
		ret = -2;
		goto out;
	}
	ret = hvt_svg_bars(f, title, sub, bars, shown);
	if (fclose(f))
		ret = -1;
out:
	free(bars);
	free(labels);
	free(values);
	return ret;
}

/* ---- command line -------------------------------------------------------- */

static void hist_usage(FILE *f)
{
	fprintf(f,
		"usage: hvtrace hist [OPTION...] TRACE...\n"
		"Exit histogram: count, %% of exits, handler time (resume.tsc - exit.tsc)\n"
		"total and %%, min, max, mean, stddev, p50 and p99 of the handler latency.\n\n"
		"  --by reason|qual|rip|vcpu|vm|pid|comm\n"
		"                              group by exit reason (default), reason and\n"
		"                              decoded qualification, guest RIP, vCPU, VM\n"
		"                              (KVM: number and VMM pid), or the process or\n"
		"                              thread name that caused the exit (schema v3)\n"
		"  --sort count|time|mean|max|name   order of the rows (default count)\n"
		"  --top N                     show the first N rows only\n"
		"  --vcpu N                    count the exits of vCPU N only\n"
		"  --vm N                      exits of the VM numbered N or whose VMM has\n"
		"                              pid N only (KVM traces)\n"
		"  --pid PID                   exits caused by process PID only (schema v3)\n"
		"  --comm NAME                 exits caused by threads named NAME only\n"
		"  --format text|json|csv      output format (default text)\n"
		"  --svg FILE                  also write a bar chart to FILE\n"
		"  --time tsc|ns               handler time from the events' TSC (default)\n"
		"                              or from the tracer's clock in ns\n"
		"  --threads N                 decoding threads (default 0: one per stream\n"
		"                              file group, at most one per CPU)\n"
		"  -h, --help                  this help\n\n"
		"TRACE: a CTF trace folder, or a folder with traces below it (LTTng output).\n"
		"Lost events (discarded by the tracer, or seq gaps) are reported as warnings.\n"
		"A plain LTTng kvm trace (lttng-modules' kvm_x86_exit/kvm_x86_entry, no\n"
		"hvtrace.ko) gives perf kvm stat's table: count, %%, kvm_exit to kvm_entry\n"
		"time in ns per reason (--by reason|rip|vcpu, --vcpu N); --kvm-events gives\n"
		"that table from such events beside hvtrace's (a session that enabled both).\n");
}

static int pick(const char *arg, const char *const *names, size_t n, int *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(arg, names[i])) {
			*out = (int)i;
			return 0;
		}
	return -1;
}

static int parse_count(const char *s, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

int hvt_hist_parse(int argc, char **argv, struct hvt_hist_opts *o)
{
	static const struct option longopts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "sort", required_argument, NULL, 's' },
		{ "top", required_argument, NULL, 't' },
		{ "vcpu", required_argument, NULL, 'v' },
		{ "vm", required_argument, NULL, 'M' },
		{ "pid", required_argument, NULL, 'P' },
		{ "comm", required_argument, NULL, 'C' },
		{ "format", required_argument, NULL, 'f' },
		{ "svg", required_argument, NULL, 'g' },
		{ "threads", required_argument, NULL, 'j' },
		{ "time", required_argument, NULL, 'T' },
		{ "kvm-events", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = { "text", "json", "csv" };
	int c, v;

	memset(o, 0, sizeof(*o));
	o->vcpu = -1;
	o->top = -1;
	hvt_who_init(&o->who);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (pick(optarg, by_names, N_BY, &v))
				return hvt_error("hist: --by takes reason, qual, rip, vcpu, vm, pid or comm, not '%s'",
						 optarg);
			o->by = (enum hvt_hist_by)v;
			break;
		case 's':
			if (pick(optarg, sort_names, 5, &v))
				return hvt_error("hist: --sort takes count, time, mean, max or name, not '%s'",
						 optarg);
			o->sort = (enum hvt_hist_sort)v;
			break;
		case 't':
			if (parse_count(optarg, INT32_MAX, &o->top) || !o->top)
				return hvt_error("hist: --top takes a positive number, not '%s'", optarg);
			break;
		case 'v':
			if (parse_count(optarg, UINT32_MAX, &o->vcpu))
				return hvt_error("hist: --vcpu takes a vCPU number, not '%s'", optarg);
			break;
		case 'M':
			if (parse_count(optarg, UINT32_MAX, &o->who.vm))
				return hvt_error("hist: --vm takes a VM number or a VMM pid, not '%s'",
						 optarg);
			break;
		case 'P':
			if (parse_count(optarg, UINT32_MAX, &o->who.pid))
				return hvt_error("hist: --pid takes a process id, not '%s'", optarg);
			break;
		case 'C':
			if (!optarg[0])
				return hvt_error("hist: --comm takes a thread name, not ''");
			hvt_who_set_comm(&o->who, optarg);
			break;
		case 'f':
			if (pick(optarg, formats, 3, &v))
				return hvt_error("hist: --format takes text, json or csv, not '%s'", optarg);
			o->format = (enum hvt_format)v;
			break;
		case 'g':
			o->svg = optarg;
			break;
		case 'T':
			if (!strcmp(optarg, "ns"))
				o->time_ns = 1;
			else if (strcmp(optarg, "tsc"))
				return hvt_error("hist: --time takes tsc or ns, not '%s'", optarg);
			break;
		case 'j':
			if (parse_count(optarg, 256, &o->threads))
				return hvt_error("hist: --threads takes a number from 0 (automatic) to 256, not '%s'",
						 optarg);
			break;
		case 'K':
			o->kvm_events = 1;
			break;
		case 'h':
			o->help = 1;
			return 0;
		case ':':
			return hvt_error("hist: option '%s' needs a value", argv[optind - 1]);
		default:
			return hvt_error("hist: unknown option '%s' (try hvtrace hist --help)",
					 argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return hvt_error("hist: no TRACE given (try hvtrace hist --help)");
	o->paths = (const char *const *)argv + optind;
	o->npaths = (size_t)(argc - optind);
	return 0;
}


/* Warnings, then the table, JSON or CSV (and SVG); returns the exit status. */
static int hist_report(struct hvt_hist_acc *h, const struct hvt_hist_opts *o)
{
	size_t shown, i;
	int rc, ret = HVT_EXIT_OK;

	if (by_thread(o->by) || hvt_who_needs_thread(&o->who)) {
		uint32_t schema, t = hvt_who_lacks_thread(&h->who, h->exits + h->filtered_exits,
							  &schema);

		if (t)
			return hvt_error_no_thread(hvt_reader_trace_path(h->r, t - 1), schema,
						   by_thread(o->by) ? (o->by == HVT_BY_PID ?
						   "--by pid" : "--by comm") :
						   o->who.pid >= 0 ? "--pid" : "--comm");
	}
	qsort(h->warnings, h->nwarnings, sizeof(h->warnings[0]), hvt_hist_cmp_warnings);
	hvt_hist_sort_runs(h);
	for (i = 0; i < h->nunversioned; i++)
		hvt_warn_unversioned_trace(hvt_reader_trace_path(h->r, h->unversioned[i]));
	if (h->unversioned_omitted)
		hvt_warn("%" PRIu64 " more traces without session records", h->unversioned_omitted);
	for (i = 0; i < h->nwarnings; i++) {
		char text[512];

		warning_text(&h->warnings[i], text, sizeof(text));
		hvt_warn("%s", text);
	}
	if (h->warnings_dropped)
		hvt_warn("%" PRIu64 " more warnings not shown", h->warnings_dropped);
	for (i = 0; i < h->nruns; i++)
		if (h->runs[i].dropped)
			hvt_warn("run %" PRIu64 ": the module handled %" PRIu64
				 " exits while no tracer was attached (not in the trace)",
				 h->runs[i].run_id, h->runs[i].dropped);
	if (h->no_resume)
		hvt_warn("%" PRIu64 " exits have no resume event: their handler time is unknown",
			 h->no_resume);
	if (h->negative_latency)
		hvt_warn("%" PRIu64 " resumes are %s before their exit: left out of the times",
			 h->negative_latency, o->time_ns ? "timed (tracer clock)" : "stamped (TSC)");
	if (h->wild_latency)
		hvt_warn("%" PRIu64 " resumes have a TSC implausibly far after their exit's (over %d cycles per ns of the tracer clock between them): left out of the times",
			 h->wild_latency, HVT_HIST_WILD_CYCLES_PER_NS);
	if (o->vcpu >= 0 && !h->exits)
		hvt_warn("no exit of vcpu %" PRId64 " in this trace", o->vcpu);
	else if (hvt_who_active(&o->who) && !h->exits)
		hvt_warn("no exit in this trace passes --vm/--pid/--comm (%" PRIu64 " exits left out)",
			 h->filtered_exits);
	else if (!h->exits)
		hvt_warn("no exit in this trace (%" PRIu64 " hvtrace events)", h->events);

	sort_mode = o->sort;
	name_by = o->by;
	if (h->ngroups > 1)
		qsort(h->groups, h->ngroups, sizeof(*h->groups), cmp_groups);
	shown = h->ngroups;
	if (o->top > 0 && (size_t)o->top < shown)
		shown = (size_t)o->top;
	if (o->format == HVT_FMT_JSON)
		rc = print_json(h, h->r, o, shown);
	else
		rc = print_table(h, h->r, o, shown);
	if (!rc && o->svg)
		rc = print_svg(h, h->r, o, shown);
	if (rc == -1)
		ret = hvt_error("cannot write the output: %s", strerror(errno));
	else if (rc)
		ret = HVT_EXIT_ERROR;
	return ret;
}

/* ---- the same accumulation fed by another graph (analyzer/plugin.c) ---- */

struct hvt_hist *hvt_hist_new(const struct hvt_hist_opts *o)
{
	struct hvt_hist_acc *h = malloc(sizeof(*h));

	if (!h)
		return NULL;
	hvt_hist_acc_init(h, o->by, o->time_ns, o->vcpu);
	hvt_hist_acc_filter(h, &o->who);
	return (struct hvt_hist *)h;
}

int hvt_hist_add(struct hvt_hist *hh, const struct hvt_reader *r, const struct hvt_event *ev)
{
	struct hvt_hist_acc *h = (struct hvt_hist_acc *)hh;

	h->r = r;
	return hvt_hist_acc_add(h, ev);
}

int hvt_hist_report(struct hvt_hist *hh, const struct hvt_reader *r,
		    const struct hvt_hist_opts *o)
{
	struct hvt_hist_acc *h = (struct hvt_hist_acc *)hh;

	h->r = r;
	h->other_events = hvt_reader_other_events(r);
	hvt_hist_acc_flush(h);
	hvt_output_init();
	return hist_report(h, o);
}

void hvt_hist_free(struct hvt_hist *hh)
{
	struct hvt_hist_acc *h = (struct hvt_hist_acc *)hh;

	if (!h)
		return;
	hvt_hist_acc_free(h);
	free(h);
}

/* The engine's progress, on a terminal. */
static void progress(uint64_t events, unsigned int threads)
{
	if (!threads)
		hvt_progress_done();
	else if (threads == 1)
		hvt_progress("hvtrace hist: %" PRIu64 " events...", events);
	else
		hvt_progress("hvtrace hist: %" PRIu64 " events (%u threads)...", events, threads);
}

int cmd_hist(int argc, char **argv)
{
	struct hvt_hist_opts o;
	struct hvt_hist_params p;
	struct hvt_hist_part *workers = NULL;
	unsigned int nthreads;
	struct hvt_hist_acc h;
	struct hvt_err err = { 0 };
	int rc, ret = HVT_EXIT_OK;

	if (hvt_hist_parse(argc, argv, &o))
		return HVT_EXIT_ERROR;
	if (o.help) {
		hist_usage(stdout);
		return HVT_EXIT_OK;
	}
	hvt_output_init();
	/* plain LTTng kvm traces (no hvtrace events): perf kvm stat's table */
	if (o.kvm_events || hvt_kvm_hist_applies(o.paths, o.npaths))
		return hvt_kvm_hist(&o);
	nthreads = (unsigned int)o.threads;
	if (!nthreads) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		nthreads = hvt_reader_max_parts(o.paths, o.npaths);
		if (cpus > 0 && nthreads > (unsigned long)cpus)
			nthreads = (unsigned int)cpus;
		if (nthreads > 16)
			nthreads = 16;
	} else {
		unsigned int max = hvt_reader_max_parts(o.paths, o.npaths);

		if (nthreads > max)
			nthreads = max;
	}
	/*
	 * --vm N may name a VMM pid that only the session records give (before
	 * schema v3): they come before the VM's exits in time, so one reader.
	 */
	if (!nthreads || o.who.vm >= 0)
		nthreads = 1;
	p = (struct hvt_hist_params){ .paths = o.paths, .npaths = o.npaths, .by = o.by,
				      .time_ns = o.time_ns, .vcpu = o.vcpu, .who = &o.who,
				      .progress = hvt_progress_wanted() ? progress : NULL };
	memset(&h, 0, sizeof(h));
	rc = hvt_hist_acc_read(&p, nthreads, &h, &workers, &err);
	if (rc == 1) {
		/* A vCPU spans streams of different parts: one thread it is. */
		hvt_hist_acc_free(&h);
		hvt_hist_parts_free(workers, nthreads);
		nthreads = 1;
		rc = hvt_hist_acc_read(&p, 1, &h, &workers, &err);
	}
	if (rc < 0) {
		ret = hvt_error("%s", err.msg);
		goto out;
	}
	ret = hist_report(&h, &o);
out:
	hvt_hist_acc_free(&h);
	hvt_hist_parts_free(workers, nthreads);
	return ret;
}
