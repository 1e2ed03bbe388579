// SPDX-License-Identifier: GPL-2.0
/* hvtrace: the command-line entry point; dispatches to one verb per file. */
#include <stdio.h>
#include <string.h>

#include "guard.h"
#include "hvtrace_events.h"
#include "verbs.h"

#ifndef HVTRACE_VERSION
#define HVTRACE_VERSION "0.1.0"
#endif

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct verb verbs[] = {
	{ "hist", cmd_hist, "exit histogram: count, %, handler time and latency statistics" },
	{ "dump", cmd_dump, "every event with decoded names, one per line" },
	{ "replay", cmd_replay, "rebuild each vCPU's state timeline; --check the chain" },
	{ "diff", cmd_diff, "align two runs' exits and report where they differ" },
	{ "record", cmd_record, "record a workload run into an LTTng trace" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: hvtrace VERB [OPTION...] [TRACE...]\n"
		   "       hvtrace VERB --help | hvtrace --help | hvtrace --version\n\n"
		   "Record and analyse the VM exits of a guest traced by hvtrace.ko.\n"
		   "TRACE is a CTF trace folder or an LTTng session output folder.\n\n"
		   "verbs:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\nExit status: 0 success, 1 diff found differences, 2 error.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		fprintf(stderr, "hvtrace: no verb given (try hvtrace --help)\n");
		return HVT_EXIT_ERROR;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return HVT_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("hvtrace %s (trace schema v%d)\n", HVTRACE_VERSION,
		       HVTRACE_SCHEMA_VERSION);
		return HVT_EXIT_OK;
	}
	/* A corrupt trace must end in one clear line even if libbabeltrace2 aborts. */
	hvt_guard_enable();
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].run(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		fprintf(stderr, "hvtrace: unknown option '%s' (try hvtrace --help)\n", argv[1]);
	else
		fprintf(stderr, "hvtrace: unknown verb '%s' (try hvtrace --help)\n", argv[1]);
	return HVT_EXIT_ERROR;
}
