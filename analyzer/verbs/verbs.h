/* SPDX-License-Identifier: GPL-2.0 */
/* The hvtrace verbs; each lives in its own file and returns the exit status. */
#ifndef HVT_VERBS_H
#define HVT_VERBS_H

int cmd_hist(int argc, char **argv);	/* hist_cmd.c */
int cmd_dump(int argc, char **argv);	/* dump.c */
int cmd_replay(int argc, char **argv);	/* replay_cmd.c */
int cmd_diff(int argc, char **argv);	/* diff_cmd.c */
int cmd_record(int argc, char **argv);	/* record.c */

#include "status.h"	/* the exit statuses */

#endif /* HVT_VERBS_H */
