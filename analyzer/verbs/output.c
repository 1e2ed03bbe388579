// SPDX-License-Identifier: GPL-2.0
/* Output helpers shared by the verbs; see output.h. */
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "decode/guard.h"
#include "verbs/output.h"
#include "decode/reader.h"
#include "verbs/verbs.h"

int hvt_error(const char *fmt, ...)
{
	va_list ap;

	fputs("hvtrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return HVT_EXIT_ERROR;
}

void hvt_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("hvtrace: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void hvt_warn_unversioned_trace(const char *path)
{
	hvt_warn("%s: no hvtrace_session record: the trace does not say its schema version (read by its event layout, as schema v%d)",
		 path ? path : "?", HVTRACE_SCHEMA_VERSION);
}

int hvt_error_no_thread(const char *path, uint32_t schema, const char *option)
{
	if (schema)
		return hvt_error("%s: a schema v%u trace: its exits do not say which process caused them (pid, tid and comm came with schema v3); %s needs them",
				 path ? path : "?", (unsigned int)schema, option);
	return hvt_error("%s: no exit of this trace says which process caused it (pid, tid and comm: schema v3); %s needs them",
			 path ? path : "?", option);
}

void hvt_warn_unversioned(const struct hvt_reader *r)
{
	size_t i;

	for (i = 0; i < hvt_reader_trace_count(r); i++)
		if (hvt_reader_trace_events(r, (uint32_t)i) &&
		    !hvt_reader_trace_sessions(r, (uint32_t)i))
			hvt_warn_unversioned_trace(hvt_reader_trace_path(r, i));
}

/* ---- tables -------------------------------------------------------------- */

struct hvt_col {
	char *header;
	enum hvt_align align;
	size_t width;
};

struct hvt_table {
	struct hvt_col *cols;
	size_t ncols;
	char **cells;		/* rows * ncols, row major */
	size_t nrows, cap_rows;
	size_t cur;		/* next cell of the last row */
};

struct hvt_table *hvt_table_new(void)
{
	return calloc(1, sizeof(struct hvt_table));
}

/* Display width of a UTF-8 string: count the non-continuation bytes. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

int hvt_table_col(struct hvt_table *t, const char *header, enum hvt_align align)
{
	struct hvt_col *nc;

	if (t->nrows)
		return -1;	/* columns first */
	nc = realloc(t->cols, (t->ncols + 1) * sizeof(*nc));
	if (!nc)
		return -1;
	t->cols = nc;
	nc[t->ncols].header = strdup(header);
	if (!nc[t->ncols].header)
		return -1;
	nc[t->ncols].align = align;
	nc[t->ncols].width = text_width(header);
	t->ncols++;
	return 0;
}

int hvt_table_row(struct hvt_table *t)
{
	if (t->nrows == t->cap_rows) {
		size_t cap = t->cap_rows ? 2 * t->cap_rows : 16;
		char **nc = realloc(t->cells, cap * t->ncols * sizeof(*nc));

		if (!nc)
			return -1;
		t->cells = nc;
		t->cap_rows = cap;
	}
	memset(&t->cells[t->nrows * t->ncols], 0, t->ncols * sizeof(char *));
	t->nrows++;
	t->cur = 0;
	return 0;
}

int hvt_table_cell(struct hvt_table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;
	size_t w;
	int n;

	if (!t->nrows || t->cur >= t->ncols)
		return -1;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	t->cells[(t->nrows - 1) * t->ncols + t->cur] = s;
	w = text_width(s);
	if (w > t->cols[t->cur].width)
		t->cols[t->cur].width = w;
	t->cur++;
	return 0;
}

size_t hvt_table_rows(const struct hvt_table *t)
{
	return t->nrows;
}

static void put_padded(FILE *f, const char *s, size_t width, enum hvt_align a,
		       int last)
{
	size_t w = text_width(s), pad = width > w ? width - w : 0;

	if (a == HVT_RIGHT)
		fprintf(f, "%*s", (int)pad, "");
	fputs(s, f);
	if (a == HVT_LEFT && !last)
		fprintf(f, "%*s", (int)pad, "");
}

int hvt_table_print(const struct hvt_table *t, FILE *f)
{
	size_t r, c, total = 0;

	for (c = 0; c < t->ncols; c++) {
		if (c)
			fputs("  ", f);
		put_padded(f, t->cols[c].header, t->cols[c].width, t->cols[c].align,
			   c + 1 == t->ncols);
		total += t->cols[c].width + (c ? 2 : 0);
	}
	fputc('\n', f);
	for (c = 0; c < total; c++)
		fputc('-', f);
	fputc('\n', f);
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c)
				fputs("  ", f);
			put_padded(f, s ? s : "", t->cols[c].width, t->cols[c].align,
				   c + 1 == t->ncols);
		}
		fputc('\n', f);
	}
	return ferror(f) ? -1 : 0;
}

void hvt_csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int hvt_table_csv(const struct hvt_table *t, FILE *f)
{
	size_t r, c;

	for (c = 0; c < t->ncols; c++) {
		if (c)
			fputc(',', f);
		hvt_csv_field(f, t->cols[c].header);
	}
	fputc('\n', f);
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c)
				fputc(',', f);
			hvt_csv_field(f, s ? s : "");
		}
		fputc('\n', f);
	}
	return ferror(f) ? -1 : 0;
}

void hvt_table_free(struct hvt_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	for (i = 0; i < t->ncols; i++)
		free(t->cols[i].header);
	free(t->cells);
	free(t->cols);
	free(t);
}

/* ---- bars ------------------------------------------------------------------ */

static int utf8_bars;
static int progress_tty;

void hvt_output_init(void)
{
	const char *cs;

	progress_tty = isatty(2);
	setlocale(LC_CTYPE, "");
	cs = nl_langinfo(CODESET);
	utf8_bars = cs && (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "utf8"));
	/* Numbers stay C-formatted whatever the locale. */
	setlocale(LC_NUMERIC, "C");
}

void hvt_bar(char *buf, size_t len, double frac, unsigned int width)
{
	/* Eighth blocks U+2589..U+258F, full block U+2588. */
	static const char *const eighths[8] = {
		"", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a", "\u2589",
	};
	size_t pos = 0;
	unsigned int units, i;

	if (!len)
		return;
	buf[0] = '\0';
	if (!(frac > 0))
		return;
	if (frac > 1)
		frac = 1;
	if (utf8_bars) {
		units = (unsigned int)(frac * width * 8 + 0.5);
		if (!units)
			units = 1;	/* a non-zero share is never invisible */
		for (i = 0; i < units / 8 && pos + 4 < len; i++)
			pos += (size_t)snprintf(buf + pos, len - pos, "\u2588");
		if (units % 8 && pos + 4 < len)
			snprintf(buf + pos, len - pos, "%s", eighths[units % 8]);
	} else {
		units = (unsigned int)(frac * width + 0.5);
		if (!units)
			units = 1;
		for (i = 0; i < units && pos + 1 < len; i++)
			buf[pos++] = '#';
		buf[pos] = '\0';
	}
}

int hvt_is_tty(FILE *f)
{
	return isatty(fileno(f));
}

int hvt_progress_wanted(void)
{
	return progress_tty;
}

void hvt_progress(const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	int n;

	if (!progress_tty)
		return;
	buf[0] = '\r';
	va_start(ap, fmt);
	n = vsnprintf(buf + 1, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = n + 1 < (int)sizeof(buf) ? n + 1 : (int)sizeof(buf) - 1;
	if (write(hvt_guard_stderr(), buf, (size_t)n) < 0)
		return;
}

void hvt_progress_done(void)
{
	static const char clear[] = "\r\033[K";

	if (progress_tty && write(hvt_guard_stderr(), clear, sizeof(clear) - 1) < 0)
		return;
}

/* ---- JSON -------------------------------------------------------------------- */

json_t *hvt_json_u64(uint64_t v)
{
	char buf[24];

	if (v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return json_string(buf);
}

json_t *hvt_json_hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return json_string(buf);
}

int hvt_json_write(FILE *f, json_t *v, int indent)
{
	size_t flags = indent ? JSON_INDENT(2) : JSON_COMPACT;

	if (json_dumpf(v, f, flags | JSON_ENSURE_ASCII) < 0)
		return -1;
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}

/* ---- SVG ------------------------------------------------------------------- */

static void svg_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f); break;
		}
	}
}

int hvt_svg_bars(FILE *f, const char *title, const char *subtitle,
		 const struct hvt_svg_bar *bars, size_t n)
{
	const unsigned int row = 22, top = 58, label_w = 300, bar_w = 480;
	unsigned int height = top + (unsigned int)n * row + 20;
	double max = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (bars[i].value > max)
			max = bars[i].value;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%u\" "
		   "viewBox=\"0 0 %u %u\" font-family=\"monospace\" font-size=\"12\">\n",
		label_w + bar_w + 140, height, label_w + bar_w + 140, height);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fputs("<text x=\"10\" y=\"22\" font-size=\"16\" font-weight=\"bold\">", f);
	svg_text(f, title);
	fputs("</text>\n<text x=\"10\" y=\"42\" fill=\"#555\">", f);
	svg_text(f, subtitle ? subtitle : "");
	fputs("</text>\n", f);
	for (i = 0; i < n; i++) {
		unsigned int y = top + (unsigned int)i * row;
		double w = max > 0 ? bars[i].value / max * bar_w : 0;

		fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"end\">", label_w - 8,
			y + 14);
		svg_text(f, bars[i].label);
		fprintf(f, "</text>\n<rect x=\"%u\" y=\"%u\" width=\"%.1f\" height=\"%u\" "
			   "fill=\"#3b6ea8\"><title>", label_w, y + 3, w > 0 && w < 1 ? 1.0 : w,
			row - 6);
		svg_text(f, bars[i].label);
		fputs(": ", f);
		svg_text(f, bars[i].value_text ? bars[i].value_text : "");
		fprintf(f, "</title></rect>\n<text x=\"%.1f\" y=\"%u\">", label_w + w + 6,
			y + 14);
		svg_text(f, bars[i].value_text ? bars[i].value_text : "");
		fputs("</text>\n", f);
	}
	fputs("</svg>\n", f);
	return ferror(f) ? -1 : 0;
}
