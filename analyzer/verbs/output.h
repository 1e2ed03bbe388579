/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output helpers shared by every verb: errors, aligned text tables (also
 * written as CSV), bars, JSON values for 64-bit integers, and a horizontal
 * SVG bar chart.
 *
 * A table is filled row by row, then printed once:
 *
 *	struct hvt_table *t = hvt_table_new();
 *	hvt_table_col(t, "reason", HVT_LEFT);
 *	hvt_table_col(t, "count", HVT_RIGHT);
 *	hvt_table_row(t);
 *	hvt_table_cell(t, "%s", "CPUID");
 *	hvt_table_cell(t, "%" PRIu64, n);
 *	hvt_table_print(t, stdout);	(or hvt_table_csv(t, stdout))
 *	hvt_table_free(t);
 *
 * Widths count characters, not bytes, so UTF-8 bars line up.  All
 * functions return 0 or -1 (out of memory, or a write error).
 */
#ifndef HVT_OUTPUT_H
#define HVT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* "hvtrace: <message>" on stderr; returns HVT_EXIT_ERROR (2). */
int hvt_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hvtrace: warning: <message>" on stderr. */
void hvt_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Warn about each trace the reader returned hvtrace events of without any
 * hvtrace_session record: its schema version is not recorded.
 */
struct hvt_reader;
void hvt_warn_unversioned(const struct hvt_reader *r);
void hvt_warn_unversioned_trace(const char *path);
/*
 * The one-line error of an option that needs the exit's thread (pid, tid,
 * comm: schema v3) on a trace without it (schema 0: no session record and
 * no exit naming a thread).  Returns HVT_EXIT_ERROR.
 */
int hvt_error_no_thread(const char *path, uint32_t schema, const char *option);

enum hvt_align { HVT_LEFT, HVT_RIGHT };

struct hvt_table;
struct hvt_table *hvt_table_new(void);
int hvt_table_col(struct hvt_table *t, const char *header, enum hvt_align align);
int hvt_table_row(struct hvt_table *t);
int hvt_table_cell(struct hvt_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
size_t hvt_table_rows(const struct hvt_table *t);
/* Columns separated by two spaces, header underlined by dashes. */
int hvt_table_print(const struct hvt_table *t, FILE *f);
/* RFC 4180: header line, then one line per row; fields quoted when needed. */
int hvt_table_csv(const struct hvt_table *t, FILE *f);
void hvt_table_free(struct hvt_table *t);

/* One CSV field (quoted when it holds a comma, quote or newline). */
void hvt_csv_field(FILE *f, const char *s);

/* Unicode block characters when the locale is UTF-8, '#' otherwise. */
void hvt_output_init(void);
/* A bar of frac (0..1) of width characters, in buf (NUL-terminated). */
void hvt_bar(char *buf, size_t len, double frac, unsigned int width);

/* Whether stdout/stderr is a terminal. */
int hvt_is_tty(FILE *f);

/*
 * A progress line ("\r...") on the terminal: only when stderr was a
 * terminal at hvt_output_init(), written to the real stderr even while the
 * crash guard captures it.  hvt_progress_done() clears the line.
 */
int hvt_progress_wanted(void);
void hvt_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hvt_progress_done(void);

/* A 64-bit unsigned as JSON: an integer up to 2^63-1, else a decimal string. */
json_t *hvt_json_u64(uint64_t v);
/* "0x..." string, for addresses and register values. */
json_t *hvt_json_hex(uint64_t v);
/* Compact one-line JSON with a newline (dump), or indented (reports). */
int hvt_json_write(FILE *f, json_t *v, int indent);

/*
 * A horizontal bar chart as a standalone SVG document: one bar per label,
 * scaled to the largest value, value text at the bar's end.
 */
struct hvt_svg_bar {
	const char *label;
	double value;
	const char *value_text;
};
int hvt_svg_bars(FILE *f, const char *title, const char *subtitle,
		 const struct hvt_svg_bar *bars, size_t n);

#endif /* HVT_OUTPUT_H */
