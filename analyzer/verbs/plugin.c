// SPDX-License-Identifier: GPL-2.0
/*
 * The babeltrace2 plugin "hvtrace": sink.hvtrace.hist, the exit histogram
 * of `hvtrace hist`, as a component of any babeltrace2 graph.  With it the
 * histogram runs on whatever babeltrace2 can read, a live LTTng session
 * included:
 *
 *   babeltrace2 --plugin-path build/lib/babeltrace2/plugins \
 *	-i lttng-live net://localhost/host/HOST/SESSION -c sink.hvtrace.hist
 *   babeltrace2 --plugin-path ... TRACE -c sink.hvtrace.hist -p 'by="qual"'
 *
 * Parameters (all optional): by (reason|qual|rip|vcpu|vm|pid|comm), sort
 * (count|time|mean|max|name), top, vcpu, vm, pid, format (text|json|csv), time
 * (tsc|ns).  The report is printed when the input ends.  Decoding and
 * accumulation are those of the command (reader.c, hist.c).
 */
#include <babeltrace2/babeltrace.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verbs/hist_cmd.h"
#include "verbs/output.h"
#include "decode/reader.h"
#include "verbs/verbs.h"

struct hist_sink {
	struct hvt_hist_opts opts;
	struct hvt_reader *dec;
	struct hvt_hist *hist;
	bt_message_iterator *it;
	int reported;
};

static int pick(const char *v, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(v, names[i]))
			return i;
	return -1;
}

/* A string parameter among names; 0 if absent, -1 after an error line. */
static int param_choice(const bt_value *params, const char *key,
			const char *const *names, int n, int *out)
{
	const bt_value *v = bt_value_map_borrow_entry_value_const(params, key);
	int i;

	if (!v)
		return 0;
	if (!bt_value_is_string(v) ||
	    (i = pick(bt_value_string_get(v), names, n)) < 0) {
		hvt_error("sink.hvtrace.hist: parameter '%s' takes one of: %s%s%s%s%s", key,
			  names[0], n > 1 ? ", " : "", n > 1 ? names[1] : "",
			  n > 2 ? ", " : "", n > 2 ? "..." : "");
		return -1;
	}
	*out = i;
	return 0;
}

static int param_int(const bt_value *params, const char *key, int64_t min, int64_t *out)
{
	const bt_value *v = bt_value_map_borrow_entry_value_const(params, key);
	int64_t x;

	if (!v)
		return 0;
	if (bt_value_is_signed_integer(v))
		x = bt_value_integer_signed_get(v);
	else if (bt_value_is_unsigned_integer(v) &&
		 bt_value_integer_unsigned_get(v) <= (uint64_t)INT64_MAX)
		x = (int64_t)bt_value_integer_unsigned_get(v);
	else
		x = min - 1;
	if (x < min) {
		hvt_error("sink.hvtrace.hist: parameter '%s' takes an integer >= %lld", key,
			  (long long)min);
		return -1;
	}
	*out = x;
	return 0;
}

static bt_component_class_initialize_method_status
hist_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
	  const bt_value *params, void *init_data)
{
	static const char *const by[] = { "reason", "qual", "rip", "vcpu", "vm", "pid", "comm" };
	static const char *const sort[] = { "count", "time", "mean", "max", "name" };
	static const char *const fmt[] = { "text", "json", "csv" };
	static const char *const tm[] = { "tsc", "ns" };
	struct hist_sink *d = calloc(1, sizeof(*d));
	int b = 0, s = 0, f = 0, t = 0;

	(void)config;
	(void)init_data;
	if (!d)
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	d->opts.top = -1;
	d->opts.vcpu = -1;
	hvt_who_init(&d->opts.who);
	if (param_choice(params, "by", by, 7, &b) || param_choice(params, "sort", sort, 5, &s) ||
	    param_choice(params, "format", fmt, 3, &f) || param_choice(params, "time", tm, 2, &t) ||
	    param_int(params, "top", 1, &d->opts.top) || param_int(params, "vcpu", 0, &d->opts.vcpu) ||
	    param_int(params, "vm", 0, &d->opts.who.vm) || param_int(params, "pid", 0, &d->opts.who.pid)) {
		free(d);
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
	}
	d->opts.by = (enum hvt_hist_by)b;
	d->opts.sort = (enum hvt_hist_sort)s;
	d->opts.format = (enum hvt_format)f;
	d->opts.time_ns = t;
	d->dec = hvt_decoder_new(hvt_hist_read_flags(d->opts.by, &d->opts.who));
	d->hist = hvt_hist_new(&d->opts);
	if (!d->dec || !d->hist ||
	    bt_self_component_sink_add_input_port(self, "in", NULL, NULL) !=
	    BT_SELF_COMPONENT_ADD_PORT_STATUS_OK) {
		hvt_reader_close(d->dec);
		hvt_hist_free(d->hist);
		free(d);
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	}
	bt_self_component_set_data(bt_self_component_sink_as_self_component(self), d);
	return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

static struct hist_sink *sink_data(bt_self_component_sink *self)
{
	return bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
}

static bt_component_class_sink_graph_is_configured_method_status
hist_configured(bt_self_component_sink *self)
{
	struct hist_sink *d = sink_data(self);
	bt_self_component_port_input *port =
		bt_self_component_sink_borrow_input_port_by_name(self, "in");

	if (bt_message_iterator_create_from_sink_component(self, port, &d->it) !=
	    BT_MESSAGE_ITERATOR_CREATE_FROM_SINK_COMPONENT_STATUS_OK)
		return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_ERROR;
	return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_OK;
}

static bt_component_class_sink_consume_method_status
hist_consume(bt_self_component_sink *self)
{
	struct hist_sink *d = sink_data(self);
	struct hvt_err err = { { 0 } };
	bt_message_array_const msgs;
	struct hvt_event ev;
	uint64_t count, i;
	int failed = 0;

	switch (bt_message_iterator_next(d->it, &msgs, &count)) {
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
		break;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_AGAIN;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
		d->reported = 1;
		if (hvt_decoder_finish(d->dec, &err)) {
			hvt_error("%s", err.msg);
			return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
		}
		if (hvt_hist_report(d->hist, d->dec, &d->opts) != HVT_EXIT_OK)
			return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_END;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_MEMORY_ERROR;
	default:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
	}
	for (i = 0; i < count; i++) {
		if (!failed) {
			int ret = hvt_decoder_decode(d->dec, msgs[i], &ev, &err);

			if (ret < 0 || (ret > 0 && hvt_hist_add(d->hist, d->dec, &ev))) {
				hvt_error("sink.hvtrace.hist: %s", ret < 0 ? err.msg : "out of memory");
				failed = 1;
			}
		}
		bt_message_put_ref(msgs[i]);
	}
	return failed ? BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR :
			BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK;
}

static void hist_finalize(bt_self_component_sink *self)
{
	struct hist_sink *d = sink_data(self);

	if (!d)
		return;
	bt_message_iterator_put_ref(d->it);
	hvt_hist_free(d->hist);
	hvt_reader_close(d->dec);
	free(d);
}

BT_PLUGIN_MODULE();
BT_PLUGIN(hvtrace);
BT_PLUGIN_DESCRIPTION("hvtrace: VM-exit analysis of hvtrace traces");
BT_PLUGIN_LICENSE("GPL-2.0");
BT_PLUGIN_SINK_COMPONENT_CLASS(hist, hist_consume);
BT_PLUGIN_SINK_COMPONENT_CLASS_DESCRIPTION(hist,
	"Exit histogram of hvtrace_exit/hvtrace_resume events (as `hvtrace hist`)");
BT_PLUGIN_SINK_COMPONENT_CLASS_HELP(hist,
	"Parameters: by=reason|qual|rip|vcpu|vm|pid|comm sort=count|time|mean|max|name top=N "
	"vcpu=N vm=N pid=N format=text|json|csv time=tsc|ns. The report is printed when the "
	"input ends.");
BT_PLUGIN_SINK_COMPONENT_CLASS_INITIALIZE_METHOD(hist, hist_init);
BT_PLUGIN_SINK_COMPONENT_CLASS_GRAPH_IS_CONFIGURED_METHOD(hist, hist_configured);
BT_PLUGIN_SINK_COMPONENT_CLASS_FINALIZE_METHOD(hist, hist_finalize);
