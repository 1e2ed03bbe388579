// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-ins for verbs whose source file is not in this tree yet.  The build
 * (analyzer.mk) defines HVT_FALLBACK_<verb> only while the verb's own file is
 * missing, so a stand-in never competes with the real verb at link time.
 */
#include <stdio.h>
#include "verbs.h"

#if defined(HVT_FALLBACK_replay) || defined(HVT_FALLBACK_diff) || \
	defined(HVT_FALLBACK_record)
static int hvt_not_built(const char *verb)
{
	fprintf(stderr, "hvtrace: verb %s is not built in\n", verb);
	return HVT_EXIT_ERROR;
}
#endif

#ifdef HVT_FALLBACK_replay
int cmd_replay(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return hvt_not_built("replay");
}
#endif

#ifdef HVT_FALLBACK_diff
int cmd_diff(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return hvt_not_built("diff");
}
#endif

#ifdef HVT_FALLBACK_record
int cmd_record(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return hvt_not_built("record");
}
#endif

/* Keeps the object non-empty when every verb is present. */
int hvt_fallback_unused;
