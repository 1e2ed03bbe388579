/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The schema versions an event class's fields belong to, for both
 * decoders (reader.c, ctf_fast.c): schema v2 and v3 appended fields
 * (HVTRACE_V2_FIELDS, HVTRACE_V3_FIELDS of schemas/hvtrace_events.h) that
 * read as zero, or empty, in older traces, and only there.
 */
#ifndef HVT_DECODE_VERSIONS_H
#define HVT_DECODE_VERSIONS_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "hvtrace_events.h"

static const struct hvt_added_field {
	const char *event, *name;
	int version;
} hvt_added_fields[] = {
#define HVT_ADDED_V2(ev, n) { ev, #n, 2 },
#define HVT_ADDED_V3(ev, n) { ev, #n, 3 },
	HVTRACE_V2_FIELDS(HVT_ADDED_V2)
	HVTRACE_V3_FIELDS(HVT_ADDED_V3)
#undef HVT_ADDED_V2
#undef HVT_ADDED_V3
};
#define HVT_NR_ADDED (sizeof(hvt_added_fields) / sizeof(hvt_added_fields[0]))

/* The schema version that added a field of an event; 0: one of v1's. */
static inline int hvt_added_in(const char *event, const char *name)
{
	for (size_t i = 0; i < HVT_NR_ADDED; i++)
		if (!strcmp(hvt_added_fields[i].event, event) &&
		    !strcmp(hvt_added_fields[i].name, name))
			return hvt_added_fields[i].version;
	return 0;
}

/*
 * The schema versions whose fields an hvtrace event class has: *lo..*hi (a
 * version that added nothing to the event cannot be told from the one
 * before it).  The fields a version added are all there or all absent, and
 * never there without those of the versions before.  has(ctx, name) says
 * whether the class has a member so named.  Returns 0, or -1 with why in
 * why[] when the class breaks the rule.
 */
static inline int hvt_event_layout(const char *event, int (*has)(const void *, const char *),
				   const void *ctx, int *lo, int *hi, char *why, size_t len)
{
	*lo = 1;
	*hi = HVTRACE_SCHEMA_VERSION;
	for (int v = 2; v <= HVTRACE_SCHEMA_VERSION; v++) {
		const char *got = NULL, *miss = NULL;
		int n = 0, p = 0;

		for (size_t i = 0; i < HVT_NR_ADDED; i++) {
			if (hvt_added_fields[i].version != v ||
			    strcmp(hvt_added_fields[i].event, event))
				continue;
			n++;
			if (has(ctx, hvt_added_fields[i].name)) {
				p++;
				if (!got)
					got = hvt_added_fields[i].name;
			} else {
				miss = hvt_added_fields[i].name;
			}
		}
		if (!n)
			continue;
		if (p && p < n) {
			snprintf(why, len, "event %s lacks field '%s' of schema v%d (it has '%s')",
				 event, miss, v, got);
			return -1;
		}
		if (p && *hi < v) {
			snprintf(why, len, "event %s has field '%s' of schema v%d without those of schema v%d",
				 event, got, v, *hi + 1);
			return -1;
		}
		if (p)
			*lo = v;
		else if (*hi >= v)
			*hi = v - 1;
	}
	return 0;
}

#endif /* HVT_DECODE_VERSIONS_H */
