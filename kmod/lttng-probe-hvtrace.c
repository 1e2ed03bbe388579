// SPDX-License-Identifier: GPL-2.0
/*
 * lttng-probe-hvtrace.ko: attaches LTTng to the hvtrace tracepoints of
 * hvtrace.ko.  Load it with `lttng-sessiond --extra-kmod-probes=hvtrace`;
 * it does not depend on hvtrace.ko (either may be loaded first).
 */
#include <linux/module.h>
#include <lttng/tracer.h>

/* The kernel-side declarations: their prototypes must match the probes'. */
#include "hvtrace_trace.h"

#include <wrapper/tracepoint.h>

#define LTTNG_PACKAGE_BUILD
#define CREATE_TRACE_POINTS
#undef TRACE_INCLUDE_PATH
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE hvtrace_lttng
#include "hvtrace_lttng.h"

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("LTTng probe for the hvtrace tracepoints");
MODULE_VERSION("0.1.0");
