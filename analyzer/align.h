/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sequence alignment of two runs' exits: Myers' O(ND) difference algorithm
 * ("An O(ND) Difference Algorithm and Its Variations", Algorithmica 1986)
 * in its linear-space form (middle snake, divide and conquer).
 *
 * Elements are 64-bit keys; two elements match when their keys are equal.
 * The result is a minimal edit script: runs of equal elements, deletions
 * (in a only) and insertions (in b only), in order.  Time O((N+M) D),
 * space O(N+M) plus the script.
 */
#ifndef HVT_ALIGN_H
#define HVT_ALIGN_H

#include <stddef.h>
#include <stdint.h>

enum hvt_edit_op {
	HVT_EDIT_EQUAL,		/* a[a_pos..+len) matches b[b_pos..+len) */
	HVT_EDIT_DELETE,	/* a[a_pos..+len) has no partner in b */
	HVT_EDIT_INSERT,	/* b[b_pos..+len) has no partner in a */
};

struct hvt_edit {
	enum hvt_edit_op op;
	size_t a_pos, b_pos, len;
};

struct hvt_script {
	struct hvt_edit *e;
	size_t n, cap;
	size_t d;		/* edit distance: deleted + inserted elements */
};

/*
 * Align a[0..na) with b[0..nb); the script is appended to s (cleared
 * first).  Consecutive edits of one kind are merged.  Returns 0, or -1 when
 * out of memory.
 */
int hvt_align(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
	      struct hvt_script *s);

void hvt_script_free(struct hvt_script *s);

/*
 * Resynchronisation point: the (i, j) with the smallest i + j (then the
 * smallest i) such that a[i..i+run) equals b[j..j+run).  Used to cut a
 * divergence out of a bounded window: everything before the anchor is
 * aligned with hvt_align(), and from the anchor on the runs agree again.
 * Returns 1 and sets *i, *j; 0 when no run of that length is shared; -1
 * when out of memory.  Time and space O(na + nb) (times run for hashing).
 */
int hvt_align_anchor(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
		     size_t run, size_t *i, size_t *j);

const char *hvt_edit_op_name(enum hvt_edit_op op);

#endif /* HVT_ALIGN_H */
