// SPDX-License-Identifier: GPL-2.0
/* hvtrace diff: align two runs' exit sequences and compare them. */
#include <stdio.h>
#include "verbs.h"

int cmd_diff(int argc, char **argv)
{
	(void)argv;
	if (argc < 3) {
		fprintf(stderr, "hvtrace diff: usage: hvtrace diff A B\n");
		return HVT_EXIT_ERROR;
	}
	fprintf(stderr, "hvtrace diff: not available in this build yet\n");
	return HVT_EXIT_ERROR;
}
