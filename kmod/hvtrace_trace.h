/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvtrace kernel tracepoints: hvtrace:hvtrace_exit, hvtrace:hvtrace_resume,
 * hvtrace:hvtrace_session.  Their fields are generated from the X-macro
 * lists of schemas/hvtrace_events.h, so ftrace and perf see exactly the
 * fields the LTTng probe (hvtrace_lttng.h) records; no field name is written
 * here.  Each event takes a pointer to the schema's plain C record.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM hvtrace

#if !defined(_HVTRACE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _HVTRACE_TRACE_H

#include <linux/tracepoint.h>
#include "hvtrace_events.h"

/*
 * Field-kind adapters: TP_STRUCT__entry entries and TP_fast_assign
 * statements for each X-macro kind.  A sequence is stored as its length
 * plus the full fixed-size array (ftrace has no cheaper variable array that
 * perf decodes as well).
 */
#ifndef HVT_TP_ADAPTERS
#define HVT_TP_ADAPTERS
#define HVT_TP_E_INT(type, name)		__field(type, name)
#define HVT_TP_E_ARR(type, name, count)		__array(type, name, count)
#define HVT_TP_E_TXT(name, count)		__array(char, name, count)
#define HVT_TP_E_SEQ(type, name, ltype, max)	\
	__field(ltype, name##_len) __array(type, name, max)
#define HVT_TP_ENTRY(list)						\
	list(HVT_TP_E_INT, HVT_TP_E_INT, HVT_TP_E_ARR, HVT_TP_E_TXT,	\
	     HVT_TP_E_SEQ)

#define HVT_TP_A_INT(type, name)	__entry->name = r->name;
#define HVT_TP_A_ARR(type, name, count)					\
	memcpy(__entry->name, r->name, sizeof(__entry->name));
#define HVT_TP_A_TXT(name, count)					\
	memcpy(__entry->name, r->name, sizeof(__entry->name));
#define HVT_TP_A_SEQ(type, name, ltype, max)				\
	__entry->name##_len = r->name##_len;				\
	memcpy(__entry->name, r->name, sizeof(__entry->name));
#define HVT_TP_ASSIGN(list)						\
	list(HVT_TP_A_INT, HVT_TP_A_INT, HVT_TP_A_ARR, HVT_TP_A_TXT,	\
	     HVT_TP_A_SEQ)
#endif

TRACE_EVENT(hvtrace_exit,
	TP_PROTO(const struct hvtrace_exit_rec *r),
	TP_ARGS(r),
	TP_STRUCT__entry(HVT_TP_ENTRY(HVTRACE_EXIT_FIELDS)),
	TP_fast_assign(HVT_TP_ASSIGN(HVTRACE_EXIT_FIELDS)),
	TP_printk("vcpu=%u seq=%llu pid=%u tid=%u comm=%.16s cpl=%u reason=%#x qual=%#llx rip=%#llx",
		  __entry->vcpu, (unsigned long long)__entry->seq,
		  __entry->pid, __entry->tid, __entry->comm, __entry->cpl,
		  __entry->exit_reason, (unsigned long long)__entry->exit_qual,
		  (unsigned long long)__entry->rip)
);

TRACE_EVENT(hvtrace_resume,
	TP_PROTO(const struct hvtrace_resume_rec *r),
	TP_ARGS(r),
	TP_STRUCT__entry(HVT_TP_ENTRY(HVTRACE_RESUME_FIELDS)),
	TP_fast_assign(HVT_TP_ASSIGN(HVTRACE_RESUME_FIELDS)),
	TP_printk("vcpu=%u seq=%llu action=%u changed=%#llx",
		  __entry->vcpu, (unsigned long long)__entry->seq,
		  __entry->action, (unsigned long long)__entry->changed)
);

TRACE_EVENT(hvtrace_session,
	TP_PROTO(const struct hvtrace_session_rec *r),
	TP_ARGS(r),
	TP_STRUCT__entry(HVT_TP_ENTRY(HVTRACE_SESSION_FIELDS)),
	TP_fast_assign(HVT_TP_ASSIGN(HVTRACE_SESSION_FIELDS)),
	TP_printk("phase=%u run_id=%llu vcpu=%u exits=%llu status=%d",
		  __entry->phase, (unsigned long long)__entry->run_id,
		  __entry->vcpu, (unsigned long long)__entry->exits,
		  __entry->status)
);

#endif /* _HVTRACE_TRACE_H */

/* This part must be outside the multi-read protection. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE hvtrace_trace
#include <trace/define_trace.h>
