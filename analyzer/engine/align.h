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

/*
 * Anchors for the streaming diff (diff.c), all on run-long grams (run keys
 * in a row) shared by a[0..na) and b[0..nb):
 *   first   the shared gram with the smallest i + j (hvt_align_anchor());
 *   unique  the one with the smallest i + j among grams that occur exactly
 *           once in a and once in b (the patience-diff idea: a gram that
 *           is unique on both sides is a safe place to resynchronise, while
 *           a gram of a polling loop also matches inside the loop's other
 *           iterations);
 *   orphan  a run-long gram starting in a[0..first.i) or b[0..first.j)
 *           occurs once in its own window and not at all in the other:
 *           cutting at `first` would report those exits missing/inserted
 *           although the other run may just not have reached them yet (a
 *           longer window may tell).
 * Returns 0 (filled in) or -1 when out of memory.  Time and space
 * O(na + nb) (times run for hashing).
 */
struct hvt_anchors {
	int found, unique, orphan;
	size_t i, j;		/* first */
	size_t ui, uj;		/* unique */
};

int hvt_align_anchors(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
		      size_t run, struct hvt_anchors *out);

/*
 * One step of the streaming alignment diff.c runs once two runs diverge.
 * a[0..na) and b[0..nb) are the keys buffered on each side since the
 * divergence, na and nb at most hvt_salign_window() (fewer only where a
 * run has ended); final: both runs have ended and everything is in.
 * Results:
 *   HVT_SA_CUT   out holds the edit script up to a resynchronisation point
 *                (or of everything when final): commit all of it; the next
 *                keys are equal again.
 *   HVT_SA_GROW  no trustworthy resync in the window: the window doubled
 *                (hvt_salign_window()); buffer more and call again.
 *   HVT_SA_HALF  max_window keys of each side share no resync run: out
 *                reports the first half of each window missing / inserted
 *                (nothing to pair them on); commit it and call again.  The
 *                bound was hit (counted in stats; the first step of such a
 *                divergence sets *new_bound).
 *   -1           out of memory.
 */
struct hvt_salign_cfg {
	size_t window;		/* window at each divergence */
	size_t max_window;	/* the window doubles up to this */
	size_t run;		/* resync: equal keys in a row */
};

struct hvt_salign {		/* one divergence (zero it to start) */
	size_t win;		/* 0: cfg.window */
	int bound;		/* max_window was reached */
};

struct hvt_salign_stats {
	uint64_t windows, growths, half_steps, bound_hits;
};

enum { HVT_SA_CUT, HVT_SA_GROW, HVT_SA_HALF };

size_t hvt_salign_window(const struct hvt_salign_cfg *c, const struct hvt_salign *st);
int hvt_salign_step(const struct hvt_salign_cfg *c, struct hvt_salign *st,
		    const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
		    int final, struct hvt_script *out, struct hvt_salign_stats *stats,
		    int *new_bound);

const char *hvt_edit_op_name(enum hvt_edit_op op);

#endif /* HVT_ALIGN_H */
