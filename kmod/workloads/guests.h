/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HVT_WL_GUESTS_H
#define HVT_WL_GUESTS_H

#include "../workload.h"

/* Run the plan of workload @id (enum hvt_workload_id) in the guest. */
void hvt_guest_run_plan(unsigned int id, const struct hvt_wl_args *args);

#endif /* HVT_WL_GUESTS_H */
