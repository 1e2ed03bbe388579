// SPDX-License-Identifier: GPL-2.0
/* hvtrace dump: the exit dumpogram. */
#include <stdio.h>
#include "reader.h"
#include "verbs.h"

int cmd_dump(int argc, char **argv)
{
	struct hvt_err err = { { 0 } };
	struct hvt_event ev;
	struct hvt_reader *r;
	unsigned long long n = 0;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "hvtrace dump: missing TRACE\n");
		return HVT_EXIT_ERROR;
	}
	r = hvt_reader_open((const char *const *)argv + 1, argc - 1, 0, &err);
	if (!r) {
		fprintf(stderr, "hvtrace: %s\n", err.msg);
		return HVT_EXIT_ERROR;
	}
	while ((rc = hvt_reader_next(r, &ev, &err)) > 0)
		n += ev.type == HVT_EV_EXIT;
	hvt_reader_close(r);
	if (rc < 0) {
		fprintf(stderr, "hvtrace: %s\n", err.msg);
		return HVT_EXIT_ERROR;
	}
	printf("%llu exits\n", n);
	return HVT_EXIT_OK;
}
