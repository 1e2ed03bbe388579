/* SPDX-License-Identifier: GPL-2.0 */
/*
 * LTTng mapping of the hvtrace tracepoints (built into
 * lttng-probe-hvtrace.ko).  Fields come from the X-macro lists of
 * schemas/hvtrace_events.h, exactly as in hvtrace_trace.h.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM hvtrace

#if !defined(LTTNG_TRACE_HVTRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define LTTNG_TRACE_HVTRACE_H

#include <lttng/tracepoint-event.h>
#include <linux/types.h>
#include "hvtrace_events.h"

#ifndef HVT_LTTNG_ADAPTERS
#define HVT_LTTNG_ADAPTERS
#define HVT_L_INT(type, name)		ctf_integer(type, name, r->name)
#define HVT_L_HEX(type, name)		ctf_integer_hex(type, name, r->name)
#define HVT_L_ARR(type, name, count)	ctf_array_hex(type, name, r->name, count)
#define HVT_L_TXT(name, count)		ctf_array_text(char, name, r->name, count)
#define HVT_L_SEQ(type, name, ltype, max)				\
	ctf_sequence_hex(type, name, r->name, ltype, r->name##_len)
#define HVT_L_FIELDS(list)						\
	list(HVT_L_INT, HVT_L_HEX, HVT_L_ARR, HVT_L_TXT, HVT_L_SEQ)
#endif

LTTNG_TRACEPOINT_EVENT(hvtrace_exit,
	TP_PROTO(const struct hvtrace_exit_rec *r),
	TP_ARGS(r),
	TP_FIELDS(HVT_L_FIELDS(HVTRACE_EXIT_FIELDS))
)

LTTNG_TRACEPOINT_EVENT(hvtrace_resume,
	TP_PROTO(const struct hvtrace_resume_rec *r),
	TP_ARGS(r),
	TP_FIELDS(HVT_L_FIELDS(HVTRACE_RESUME_FIELDS))
)

LTTNG_TRACEPOINT_EVENT(hvtrace_session,
	TP_PROTO(const struct hvtrace_session_rec *r),
	TP_ARGS(r),
	TP_FIELDS(HVT_L_FIELDS(HVTRACE_SESSION_FIELDS))
)

#endif /* LTTNG_TRACE_HVTRACE_H */

/* This part must be outside the multi-read protection. */
#include <lttng/define_trace.h>
