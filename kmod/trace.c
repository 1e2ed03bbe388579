// SPDX-License-Identifier: GPL-2.0
/* Instantiates the hvtrace tracepoints (hvtrace_trace.h). */
#define CREATE_TRACE_POINTS
#include "hvtrace_trace.h"

EXPORT_TRACEPOINT_SYMBOL_GPL(hvtrace_exit);
EXPORT_TRACEPOINT_SYMBOL_GPL(hvtrace_resume);
EXPORT_TRACEPOINT_SYMBOL_GPL(hvtrace_session);
