// SPDX-License-Identifier: GPL-2.0
/* hvtrace replay: rebuild each vCPU's state timeline from exit/resume events. */
#include <stdio.h>
#include "reader.h"
#include "verbs.h"

int cmd_replay(int argc, char **argv)
{
	struct hvt_err err = { { 0 } };
	struct hvt_event ev;
	struct hvt_reader *r;
	unsigned long long exits = 0;
	const char *path;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "hvtrace replay: missing TRACE\n");
		return HVT_EXIT_ERROR;
	}
	path = argv[argc - 1];
	r = hvt_reader_open(&path, 1, 0, &err);
	if (!r) {
		fprintf(stderr, "hvtrace replay: %s\n", err.msg);
		return HVT_EXIT_ERROR;
	}
	while ((rc = hvt_reader_next(r, &ev, &err)) > 0)
		if (ev.type == HVT_EV_EXIT)
			exits++;
	hvt_reader_close(r);
	if (rc < 0) {
		fprintf(stderr, "hvtrace replay: %s\n", err.msg);
		return HVT_EXIT_ERROR;
	}
	printf("%llu exits\n", exits);
	return HVT_EXIT_OK;
}
