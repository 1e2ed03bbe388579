// SPDX-License-Identifier: GPL-2.0
/* hvtrace: the command-line entry point; dispatches to one verb per file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/ctf_fast.h"

#include "decode/guard.h"
#include "hvtrace_events.h"
#include "verbs/verbs.h"

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

/*
 * Options every verb takes, before or after the verb, removed from argv
 * here: --decoder bt2|fast|auto and --decoder-threads N (ctf_fast.h).  -v/--verbose stays for
 * the verb and also makes the reader say which decoder reads each trace.
 */
static int decoder_options(int *argc, char **argv)
{
	int mode = HVT_DECODER_AUTO, verbose = 0, i, o = 1;
	unsigned long threads = 0;

	for (i = 1; i < *argc; i++) {
		const char *a = argv[i], *v = NULL;
		int is_threads = 0;

		if (!strcmp(a, "--")) {
			while (i < *argc)
				argv[o++] = argv[i++];
			break;
		}
		if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
			verbose = 1;
		if (!strncmp(a, "--decoder=", 10)) {
			v = a + 10;
		} else if (!strncmp(a, "--decoder-threads=", 18)) {
			v = a + 18;
			is_threads = 1;
		} else if (!strcmp(a, "--decoder") || !strcmp(a, "--decoder-threads")) {
			is_threads = a[9] == '-';
			if (i + 1 >= *argc) {
				fprintf(stderr, "hvtrace: %s needs a value\n", a);
				return -1;
			}
			v = argv[++i];
		} else {
			argv[o++] = argv[i];
			continue;
		}
		if (is_threads) {
			char *end;

			threads = strtoul(v, &end, 10);
			if (!*v || *end || threads > 256) {
				fprintf(stderr, "hvtrace: --decoder-threads takes a number from 0 (the online CPUs) to 256, not '%s'\n",
					v);
				return -1;
			}
		} else if ((mode = hvt_decoder_parse(v)) < 0) {
			fprintf(stderr, "hvtrace: --decoder takes bt2, fast or auto, not '%s'\n", v);
			return -1;
		}
	}
	*argc = o;
	argv[o] = NULL;
	hvt_decoder_set((enum hvt_decoder_mode)mode, (unsigned int)threads, verbose);
	return 0;
}

int main(int argc, char **argv)
{
	size_t i;

	if (decoder_options(&argc, argv))
		return HVT_EXIT_ERROR;
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
