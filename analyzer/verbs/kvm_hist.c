// SPDX-License-Identifier: GPL-2.0
/*
 * hvtrace hist on plain LTTng kvm traces: perf kvm stat report's table,
 * from the engine's rows (engine/kvm_stat.c), sorted and printed as text,
 * CSV, JSON or SVG.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "decode/reader.h"
#include "engine/kvm_stat.h"
#include "engine/stats.h"
#include "verbs/kvm_hist.h"
#include "verbs/output.h"
#include "verbs/verbs.h"
#include "vmx/qual.h"

static const struct hvt_hist_opts *sort_o;

static int cmp_key(const struct hvt_kvm_group *a, const struct hvt_kvm_group *b)
{
	if (a->vcpu != b->vcpu)
		return a->vcpu < b->vcpu ? -1 : 1;
	if (a->isa != b->isa)
		return a->isa < b->isa ? -1 : 1;
	if (a->reason != b->reason)
		return a->reason < b->reason ? -1 : 1;
	if (a->rip != b->rip)
		return a->rip < b->rip ? -1 : 1;
	return 0;
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct hvt_kvm_group *a = pa, *b = pb;
	double x = 0, y = 0;

	switch (sort_o->sort) {
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
		return cmp_key(a, b);
	}
	if (x != y)
		return x > y ? -1 : 1;
	return cmp_key(a, b);
}

static double pct(double a, double b)
{
	return b > 0 ? 100.0 * a / b : 0.0;
}

/* perf kvm stat's "( +- x% )": the standard error of the mean, relative. */
static double rel_stderr(const struct hvt_lat *l)
{
	if (l->n < 2 || l->mean <= 0)
		return 0.0;
	return 100.0 * hvt_lat_stddev(l) / sqrt((double)l->n) / l->mean;
}

static void vcpu_text(uint32_t v, char *buf, size_t len)
{
	if (v == HVT_KVM_NO_VCPU)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%u", v);
}

static const char *pairing(const struct hvt_kvm_stat *h)
{
	return h->by_tid && h->by_cpu ? "thread (tid) where the events say, else CPU" :
	       h->by_tid ? "thread (tid context)" : "CPU";
}

static int report_text(const struct hvt_hist_opts *o, const struct hvt_kvm_stat *h,
		       const struct hvt_reader *r,
		       const struct hvt_kvm_group *rows, size_t nrows, size_t shown,
		       const struct hvt_lat *total, int csv)
{
	struct hvt_table *t = hvt_table_new();
	uint64_t max_count = 0;
	int ret;

	if (!t)
		return -1;
	if (o->by == HVT_BY_VCPU) {
		hvt_table_col(t, "vcpu", HVT_RIGHT);
	} else {
		hvt_table_col(t, "reason", HVT_LEFT);
		if (o->by == HVT_BY_RIP)
			hvt_table_col(t, "rip", HVT_LEFT);
	}
	hvt_table_col(t, "count", HVT_RIGHT);
	hvt_table_col(t, csv ? "percent" : "%", HVT_RIGHT);
	if (!csv)
		hvt_table_col(t, "", HVT_LEFT);
	hvt_table_col(t, "time", HVT_RIGHT);
	hvt_table_col(t, csv ? "time_percent" : "time%", HVT_RIGHT);
	hvt_table_col(t, "min", HVT_RIGHT);
	hvt_table_col(t, "max", HVT_RIGHT);
	hvt_table_col(t, "mean", HVT_RIGHT);
	hvt_table_col(t, csv ? "mean_stderr_percent" : "+-%", HVT_RIGHT);
	hvt_table_col(t, "p50", HVT_RIGHT);
	hvt_table_col(t, "p99", HVT_RIGHT);
	hvt_table_col(t, csv ? "untimed" : "no time", HVT_RIGHT);
	for (size_t i = 0; i < shown; i++)
		if (rows[i].count > max_count)
			max_count = rows[i].count;
	for (size_t i = 0; i < shown; i++) {
		const struct hvt_kvm_group *g = &rows[i];
		const struct hvt_lat *l = &g->lat;
		char buf[200];

		hvt_table_row(t);
		if (o->by == HVT_BY_VCPU) {
			vcpu_text(g->vcpu, buf, sizeof(buf));
			hvt_table_cell(t, "%s", buf);
		} else {
			hvt_kvm_reason_format(g->isa, g->reason, buf, sizeof(buf));
			hvt_table_cell(t, "%s", buf);
			if (o->by == HVT_BY_RIP)
				hvt_table_cell(t, "0x%" PRIx64, g->rip);
		}
		hvt_table_cell(t, "%" PRIu64, g->count);
		hvt_table_cell(t, "%.2f", pct((double)g->count, (double)h->exits));
		if (!csv) {
			hvt_bar(buf, sizeof(buf), max_count ? (double)g->count / (double)max_count : 0,
				20);
			hvt_table_cell(t, "%s", buf);
		}
		hvt_table_cell(t, "%s", hvt_u128_str(l->sum, buf, sizeof(buf)));
		hvt_table_cell(t, "%.2f", pct(hvt_lat_sum_double(l), hvt_lat_sum_double(total)));
		if (l->n) {
			hvt_table_cell(t, "%" PRIu64, l->min);
			hvt_table_cell(t, "%" PRIu64, l->max);
			hvt_table_cell(t, "%.1f", l->mean);
			hvt_table_cell(t, "%.2f", rel_stderr(l));
			hvt_table_cell(t, "%" PRIu64, hvt_lat_percentile(l, 50));
			hvt_table_cell(t, "%" PRIu64, hvt_lat_percentile(l, 99));
		} else {
			for (int k = 0; k < 6; k++)
				hvt_table_cell(t, "%s", csv ? "" : "-");
		}
		hvt_table_cell(t, "%" PRIu64, g->count - l->n);
	}
	if (csv) {
		ret = hvt_table_csv(t, stdout);
		hvt_table_free(t);
		return ret;
	}
	printf("hvtrace hist: ");
	for (size_t k = 0; k < hvt_reader_trace_count(r); k++)
		printf("%s%s", k ? ", " : "", hvt_reader_trace_path(r, k));
	if (h->hvtrace_events)
		printf("\nlttng-modules' kvm events of these traces (--kvm-events; %" PRIu64
		       " hvtrace events beside them not used here)\n", h->hvtrace_events);
	else
		printf("\nplain LTTng kvm trace (lttng-modules' kvm probes, no hvtrace.ko): exit reason,"
		       " RIP and info words only, no register state\n");
	printf("events %" PRIu64 "  exits %" PRIu64 "  entries %" PRIu64 "  vcpus %zu"
	       "  span %.6f s  discarded %" PRIu64 " events", h->events, h->exits, h->entries,
	       h->nvcpus, h->have_ts ? (double)(h->last_ns - h->first_ns) / 1e9 : 0.0,
	       h->discarded);
	if (h->lost_packets)
		printf(", %" PRIu64 " lost packet%s", h->lost_packets, h->lost_packets == 1 ? "" : "s");
	printf("\ngrouped by %s; time = kvm_exit to the next kvm_entry of the same %s, in ns"
	       " (as perf kvm stat report); +-%% = stderr of the mean; p50/p99 within 0.8%%\n",
	       o->by == HVT_BY_VCPU ? "vcpu" : o->by == HVT_BY_RIP ? "reason and rip" : "reason",
	       pairing(h));
	if (o->vcpu >= 0)
		printf("vcpu %" PRId64 " only\n", o->vcpu);
	printf("\n");
	ret = hvt_table_print(t, stdout);
	hvt_table_free(t);
	printf("\n");
	if (shown < nrows) {
		uint64_t rest = 0;

		for (size_t k = shown; k < nrows; k++)
			rest += rows[k].count;
		printf("%zu more groups (%" PRIu64 " exits) not shown (--top)\n", nrows - shown, rest);
	}
	{
		char tb[48];

		printf("total  %" PRIu64 " exits  %s ns from exit to entry", h->exits,
		       hvt_u128_str(total->sum, tb, sizeof(tb)));
	}
	if (total->n)
		printf("  mean %.1f  p50 %" PRIu64 "  p99 %" PRIu64, total->mean,
		       hvt_lat_percentile(total, 50), hvt_lat_percentile(total, 99));
	printf("\n");
	if (h->untimed)
		printf("%" PRIu64 " exit%s without time: no kvm_entry of that %s followed%s%s\n",
		       h->untimed, h->untimed == 1 ? "" : "s", h->by_tid ? "thread" : "CPU",
		       !h->entries ? " (kvm_x86_entry was not enabled)" :
		       " (the guest stopped, or the entry was lost)",
		       h->negative ? "; some entries came before their exit" : "");
	if (h->lost_pending)
		printf("%" PRIu64 " of them were waiting when the tracer lost events\n",
		       h->lost_pending);
	if (!h->exit_vcpu && h->by_cpu && h->entries)
		printf("vCPUs: from kvm_entry's vcpu_id (these exits carry none)\n");
	return ret;
}

static json_t *jlat(const struct hvt_lat *l)
{
	json_t *j = json_object();
	char b[48];

	json_object_set_new(j, "samples", hvt_json_u64(l->n));
	if (l->sum <= (unsigned __int128)INT64_MAX)
		json_object_set_new(j, "total", json_integer((json_int_t)l->sum));
	else
		json_object_set_new(j, "total", json_string(hvt_u128_str(l->sum, b, sizeof(b))));
	if (l->n) {
		json_object_set_new(j, "min", hvt_json_u64(l->min));
		json_object_set_new(j, "max", hvt_json_u64(l->max));
		json_object_set_new(j, "mean", json_real(l->mean));
		json_object_set_new(j, "stddev", json_real(hvt_lat_stddev(l)));
		json_object_set_new(j, "mean_stderr_percent", json_real(rel_stderr(l)));
		json_object_set_new(j, "p50", hvt_json_u64(hvt_lat_percentile(l, 50)));
		json_object_set_new(j, "p99", hvt_json_u64(hvt_lat_percentile(l, 99)));
	} else {
		static const char *const none[] = { "min", "max", "mean", "stddev",
						    "mean_stderr_percent", "p50", "p99" };

		for (size_t k = 0; k < sizeof(none) / sizeof(none[0]); k++)
			json_object_set_new(j, none[k], json_null());
	}
	return j;
}

static int report_json(const struct hvt_hist_opts *o, const struct hvt_kvm_stat *h,
		       const struct hvt_reader *r,
		       const struct hvt_kvm_group *rows, size_t nrows, size_t shown,
		       const struct hvt_lat *total)
{
	json_t *root = json_object(), *traces = json_array(), *groups = json_array();
	int ret;

	for (size_t k = 0; k < hvt_reader_trace_count(r); k++)
		json_array_append_new(traces, json_string(hvt_reader_trace_path(r, k)));
	json_object_set_new(root, "verb", json_string("hist"));
	json_object_set_new(root, "source", json_string("lttng-kvm"));
	json_object_set_new(root, "traces", traces);
	json_object_set_new(root, "group_by", json_string(o->by == HVT_BY_VCPU ? "vcpu" :
			    o->by == HVT_BY_RIP ? "rip" : "reason"));
	json_object_set_new(root, "time_unit", json_string("ns"));
	json_object_set_new(root, "pairing", json_string(h->by_tid && h->by_cpu ? "mixed" :
			    h->by_tid ? "tid" : "cpu"));
	json_object_set_new(root, "vcpu_filter", o->vcpu >= 0 ? json_integer(o->vcpu) : json_null());
	json_object_set_new(root, "percentile_precision", json_real(1.0 / (2.0 * HVT_LAT_SUB)));
	json_object_set_new(root, "events", hvt_json_u64(h->events));
	json_object_set_new(root, "exits", hvt_json_u64(h->exits));
	json_object_set_new(root, "entries", hvt_json_u64(h->entries));
	json_object_set_new(root, "untimed_exits", hvt_json_u64(h->untimed));
	json_object_set_new(root, "entries_without_exit", hvt_json_u64(h->orphan_entries));
	json_object_set_new(root, "vcpus", json_integer((json_int_t)h->nvcpus));
	json_object_set_new(root, "span_ns", json_integer(h->have_ts ? h->last_ns - h->first_ns : 0));
	json_object_set_new(root, "discarded_events", hvt_json_u64(h->discarded));
	json_object_set_new(root, "lost_packets", hvt_json_u64(h->lost_packets));
	for (size_t i = 0; i < shown; i++) {
		const struct hvt_kvm_group *g = &rows[i];
		json_t *j = json_object();
		char buf[96];

		if (o->by == HVT_BY_VCPU) {
			json_object_set_new(j, "vcpu", g->vcpu == HVT_KVM_NO_VCPU ? json_null() :
					    json_integer(g->vcpu));
		} else {
			hvt_kvm_reason_format(g->isa, g->reason, buf, sizeof(buf));
			json_object_set_new(j, "reason", json_string(buf));
			json_object_set_new(j, "reason_code", json_integer(g->reason));
			json_object_set_new(j, "isa", json_string(g->isa == 2 ? "svm" :
					    g->isa == 1 ? "vmx" : "unknown"));
			if (o->by == HVT_BY_RIP)
				json_object_set_new(j, "rip", hvt_json_hex(g->rip));
		}
		json_object_set_new(j, "count", hvt_json_u64(g->count));
		json_object_set_new(j, "untimed", hvt_json_u64(g->count - g->lat.n));
		json_object_set_new(j, "percent", json_real(pct((double)g->count, (double)h->exits)));
		json_object_set_new(j, "time_percent", json_real(pct(hvt_lat_sum_double(&g->lat),
								   hvt_lat_sum_double(total))));
		json_object_set_new(j, "latency", jlat(&g->lat));
		json_array_append_new(groups, j);
	}
	json_object_set_new(root, "groups", groups);
	json_object_set_new(root, "groups_hidden", json_integer((json_int_t)(nrows - shown)));
	json_object_set_new(root, "total", jlat(total));
	ret = hvt_json_write(stdout, root, 2);
	json_decref(root);
	return ret;
}

static int report_svg(const struct hvt_hist_opts *o, const struct hvt_kvm_stat *h,
		      const struct hvt_kvm_group *rows, size_t shown)
{
	struct hvt_svg_bar *bars = calloc(shown ? shown : 1, sizeof(*bars));
	char (*labels)[96] = calloc(shown ? shown : 1, sizeof(*labels));
	char (*values)[48] = calloc(shown ? shown : 1, sizeof(*values));
	FILE *f = NULL;
	int ret = -1;

	if (!bars || !labels || !values)
		goto out;
	for (size_t i = 0; i < shown; i++) {
		if (h->by == HVT_BY_VCPU)
			vcpu_text(rows[i].vcpu, labels[i], sizeof(labels[i]));
		else
			hvt_kvm_reason_format(rows[i].isa, rows[i].reason, labels[i],
					      sizeof(labels[i]));
		snprintf(values[i], sizeof(values[i]), "%" PRIu64 " (%.1f%%)", rows[i].count,
			 pct((double)rows[i].count, (double)h->exits));
		bars[i].label = labels[i];
		bars[i].value = (double)rows[i].count;
		bars[i].value_text = values[i];
	}
	f = fopen(o->svg, "w");
	if (!f) {
		hvt_error("hist: %s: cannot write the chart", o->svg);
		goto out;
	}
	ret = hvt_svg_bars(f, "hvtrace hist: KVM exits (plain LTTng kvm trace)",
			   "count per group; time from kvm_exit to kvm_entry in the table", bars,
			   shown);
	if (fclose(f))
		ret = -1;
out:
	free(bars);
	free(labels);
	free(values);
	return ret;
}

int hvt_kvm_hist_applies(const char *const *paths, size_t npaths)
{
	struct hvt_err err;
	struct hvt_reader *r = hvt_reader_open(paths, npaths, HVT_READ_KVM, &err);
	int only;

	if (!r)
		return 0;	/* the usual path says what is wrong */
	only = hvt_reader_kvm_only(r);
	hvt_reader_close(r);
	return only;
}

int hvt_kvm_hist(const struct hvt_hist_opts *o)
{
	struct hvt_kvm_stat h = { .by = o->by, .vcpu = o->vcpu };
	struct hvt_reader *r;

	struct hvt_event ev;
	struct hvt_err err;
	struct hvt_kvm_group *rows = NULL;
	struct hvt_lat total;
	size_t nrows = 0, shown;
	int rc, ret = HVT_EXIT_ERROR;

	if (o->by == HVT_BY_QUAL)
		return hvt_error("hist: --by qual needs hvtrace's own events; a plain kvm trace groups by reason, rip or vcpu");
	/* keys only: beside kvm events, hvtrace's are read but not used */
	r = hvt_reader_open(o->paths, o->npaths, HVT_READ_KVM | HVT_READ_KEYS_ONLY, &err);
	if (!r)
		return hvt_error("%s", err.msg);
	h.r = r;
	while ((rc = hvt_reader_next(r, &ev, &err)) > 0) {
		if (ev.type == HVT_EV_DISCARDED) {
			if (ev.u.discarded.packets)
				hvt_warn("%s: %" PRIu64 " packet%s lost by the tracer",
					 hvt_reader_stream_name(r, ev.stream), ev.u.discarded.packets,
					 ev.u.discarded.packets == 1 ? "" : "s");
			else
				hvt_warn("%s: %" PRIu64 " events discarded by the tracer between %"
					 PRId64 " and %" PRId64 " ns",
					 hvt_reader_stream_name(r, ev.stream), ev.u.discarded.count,
					 ev.u.discarded.begin_ns, ev.u.discarded.end_ns);
		}
		if (hvt_kvm_stat_take(&h, &ev)) {
			hvt_error("hist: out of memory");
			goto out;
		}
	}
	if (rc < 0) {
		hvt_error("%s", err.msg);
		goto out;
	}
	if (!h.events) {
		hvt_error("hist: no lttng-modules kvm events (kvm_x86_exit, kvm_x86_entry, kvm_exit, kvm_entry) in %s",
			  o->npaths == 1 ? o->paths[0] : "these traces");
		goto out;
	}
	for (size_t i = 0; i < h.np; i++)
		if (hvt_kvm_stat_flush(&h, &h.p[i])) {
			hvt_error("hist: out of memory");
			goto out;
		}
	if (hvt_kvm_stat_rows(&h, &rows, &nrows, &total)) {
		hvt_error("hist: out of memory");
		goto out;
	}
	sort_o = o;
	qsort(rows, nrows, sizeof(*rows), cmp_rows);
	shown = o->top >= 0 && (size_t)o->top < nrows ? (size_t)o->top : nrows;
	if (o->format == HVT_FMT_JSON)
		rc = report_json(o, &h, r, rows, nrows, shown, &total);
	else
		rc = report_text(o, &h, r, rows, nrows, shown, &total, o->format == HVT_FMT_CSV);
	if (!rc && o->svg)
		rc = report_svg(o, &h, rows, shown);
	ret = rc ? HVT_EXIT_ERROR : HVT_EXIT_OK;
	hvt_lat_free(&total);
out:
	hvt_kvm_rows_free(rows, nrows);
	for (size_t i = 0; i < h.ng; i++)
		hvt_lat_free(&h.g[i].lat);
	free(h.g);
	free(h.p);
	free(h.vcpus);
	hvt_reader_close(r);
	return ret;
}

