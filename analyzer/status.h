/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exit statuses of the hvtrace command.  A leaf every layer may use:
 * the decoders' watchdog ends the process with HVT_EXIT_ERROR too.
 */
#ifndef HVT_STATUS_H
#define HVT_STATUS_H

#define HVT_EXIT_OK	0
#define HVT_EXIT_DIFFER	1	/* diff: the runs differ */
#define HVT_EXIT_ERROR	2	/* bad input or trouble */

#endif /* HVT_STATUS_H */
