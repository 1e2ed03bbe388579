// SPDX-License-Identifier: GPL-2.0
/*
 * The trace reader: source.ctf.fs (one per trace folder) -> filter.utils.muxer
 * -> a simple sink whose consume function only stores the batch of messages
 * the muxer hands it.  hvt_reader_next() converts the stored messages one by
 * one and runs the graph once more when the batch is used up, so memory stays
 * constant whatever the trace size.
 *
 * Field member indices are resolved by name once per event class (the names
 * come from the X-macro lists of schemas/hvtrace_events.h) and every event is
 * then decoded by index through a per-class table: no per-event name lookup,
 * no per-event allocation.
 */
#include <babeltrace2/babeltrace.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode/guard.h"
#include "decode/mdcheck.h"
#include "vmx/qual.h"
#include "decode/reader.h"
#include "decode/ctf_fast.h"
#include "decode/versions.h"

/* ---- field descriptors generated from the schema ---------------------- */

enum fd_kind { FD_SCALAR, FD_ARRAY, FD_TEXT, FD_SEQ };

struct field_desc {
	const char *name;
	unsigned char kind;
	unsigned char esize;	/* bytes per element (or scalar) */
	unsigned char lsize;	/* FD_SEQ: bytes of the length member */
	unsigned char sgn;	/* the record's integer type is signed */
	unsigned short count;	/* FD_ARRAY/FD_SEQ: max elements; FD_TEXT: bytes */
	size_t off;		/* offset in the record */
	size_t len_off;		/* FD_SEQ: offset of name##_len */
};

#define FD_SGN(type) ((type)-1 < (type)1)
#define FD_SCALAR_(type, name) \
	{ #name, FD_SCALAR, sizeof(type), 0, FD_SGN(type), 1, offsetof(FD_REC, name), 0 },
#define FD_ARRAY_(type, name, n) \
	{ #name, FD_ARRAY, sizeof(type), 0, FD_SGN(type), n, offsetof(FD_REC, name), 0 },
#define FD_TEXT_(name, n) \
	{ #name, FD_TEXT, 1, 0, 0, n, offsetof(FD_REC, name), 0 },
#define FD_SEQ_(type, name, ltype, max) \
	{ #name, FD_SEQ, sizeof(type), sizeof(ltype), FD_SGN(type), max, \
	  offsetof(FD_REC, name), offsetof(FD_REC, name##_len) },
#define FD_LIST(list) list(FD_SCALAR_, FD_SCALAR_, FD_ARRAY_, FD_TEXT_, FD_SEQ_)

#define FD_REC struct hvtrace_exit_rec
static const struct field_desc exit_fields[] = { FD_LIST(HVTRACE_EXIT_FIELDS) };
#undef FD_REC
#define FD_REC struct hvtrace_resume_rec
static const struct field_desc resume_fields[] = { FD_LIST(HVTRACE_RESUME_FIELDS) };
#undef FD_REC
#define FD_REC struct hvtrace_session_rec
static const struct field_desc session_fields[] = { FD_LIST(HVTRACE_SESSION_FIELDS) };
#undef FD_REC

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_FIELDS 64

struct ev_schema {
	const char *event;
	enum hvt_ev_type type;
	const struct field_desc *fields;
	size_t nfields;
};

static const struct ev_schema schemas[] = {
	{ HVTRACE_EVENT_EXIT, HVT_EV_EXIT, exit_fields, ARRAY_LEN(exit_fields) },
	{ HVTRACE_EVENT_RESUME, HVT_EV_RESUME, resume_fields, ARRAY_LEN(resume_fields) },
	{ HVTRACE_EVENT_SESSION, HVT_EV_SESSION, session_fields,
	  ARRAY_LEN(session_fields) },
};

/*
 * HVT_READ_KEYS_ONLY: how many elements of an exit field to decode (0: skip).
 * The key fields are those hist and qualification decoding need.
 */
#define KIND(k) (1u << HVTRACE_QUAL_##k)
#define ALWAYS 0u

/*
 * HVT_READ_KEYS_ONLY on an exit: which fields to decode, how many elements,
 * and for which qualification kinds (ALWAYS: every exit).  The reason is
 * decoded first; the rest only when its kind needs it (qual.c).
 */
static unsigned int exit_key_count(const struct field_desc *fd, unsigned int flags,
				   unsigned int *need)
{
	static const struct { size_t off; unsigned int need; } keys[] = {
		{ offsetof(struct hvtrace_exit_rec, vcpu), ALWAYS },
		{ offsetof(struct hvtrace_exit_rec, seq), ALWAYS },
		{ offsetof(struct hvtrace_exit_rec, exit_reason), ALWAYS },
		{ offsetof(struct hvtrace_exit_rec, rip), ALWAYS },
		{ offsetof(struct hvtrace_exit_rec, tsc), ALWAYS },
		{ offsetof(struct hvtrace_exit_rec, exit_qual),
		  KIND(IO) | KIND(CR) | KIND(DR) | KIND(EPT) | KIND(TASK_SWITCH) | KIND(INVLPG) },
		{ offsetof(struct hvtrace_exit_rec, intr_info), KIND(EXCEPTION) },
		{ offsetof(struct hvtrace_exit_rec, guest_phys), KIND(EPT) },
		{ offsetof(struct hvtrace_exit_rec, guest_linear), KIND(EPT) },
	};
	size_t i;

	if (fd->off == offsetof(struct hvtrace_exit_rec, gpr)) {
		/* RAX, RCX: CPUID leaf/subleaf, MSR index, hypercall number */
		*need = KIND(CPUID) | KIND(MSR) | KIND(VMCALL);
		return 2;
	}
	if ((flags & HVT_READ_WHO) &&
	    (fd->off == offsetof(struct hvtrace_exit_rec, vm) ||
	     fd->off == offsetof(struct hvtrace_exit_rec, pid) ||
	     fd->off == offsetof(struct hvtrace_exit_rec, tid) ||
	     fd->off == offsetof(struct hvtrace_exit_rec, comm) ||
	     fd->off == offsetof(struct hvtrace_exit_rec, cpl))) {
		*need = ALWAYS;
		return fd->count;
	}
	for (i = 0; i < ARRAY_LEN(keys); i++)
		if (keys[i].off == fd->off) {
			*need = keys[i].need;
			return fd->count;
		}
	return 0;
}

static unsigned int resume_key_count(const struct field_desc *fd)
{
	static const size_t keys[] = {
		offsetof(struct hvtrace_resume_rec, vcpu),
		offsetof(struct hvtrace_resume_rec, seq),
		offsetof(struct hvtrace_resume_rec, action),
		offsetof(struct hvtrace_resume_rec, tsc),
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(keys); i++)
		if (keys[i] == fd->off)
			return fd->count;
	return 0;
}

/* ---- reader state ------------------------------------------------------ */

/* One event class seen in the trace, with its resolved member indices. */
struct ev_class {
	const bt_event_class *ec;
	const struct ev_schema *schema;	/* NULL: not an hvtrace event */
	uint64_t idx[MAX_FIELDS];
	unsigned char is_signed[MAX_FIELDS];
	unsigned short take[MAX_FIELDS];	/* elements to decode, 0: skip */
	unsigned int need[MAX_FIELDS];		/* qual kinds needing it, 0: all */
	int by_kind;		/* keys-only exit: decode in two passes */
	size_t reason_field;	/* index of exit_reason in the schema */
	struct hvt_kvm_class kvm;	/* kvm: a plain LTTng kvm event class */
};

struct stream_info {
	const bt_stream *stream;
	int has_clock;
	/*
	 * The schema versions the fields of its hvtrace event classes fit
	 * (lo > hi: none), checked against its session events' version.
	 */
	unsigned char layout_lo, layout_hi;
	uint32_t trace;		/* index in traces_seen */
	char *name;
};

struct trace_info {
	const bt_trace_class *tc;
	int has_hvtrace;
};

struct hvt_reader {
	bt_graph *graph;
	const bt_plugin *ctf, *utils;
	bt_message_iterator *it;	/* the sink's upstream iterator */
	unsigned int flags;

	/* The batch the last graph step stored: msgs[pos..n) still to do. */
	const bt_message **msgs;
	uint64_t n, pos, cap;
	int ended, failed;
	int status;	/* last consume status */

	struct ev_class *classes;
	size_t nclasses, cap_classes;
	struct ev_class *last_class;

	struct stream_info *streams;
	uint32_t nstreams, cap_streams;
	uint32_t last_stream;

	struct trace_info *traces;
	size_t ntraces, cap_traces;
	const bt_trace **traces_seen;	/* trace objects, in order of discovery */
	uint32_t ntraces_seen;
	size_t ntraces_expected;
	size_t ntraces_hvtrace;
	size_t ntraces_kvm;	/* kvm: traces defining plain kvm events */

	char **paths;		/* trace folders found */
	size_t npaths;
	char **abs_paths;	/* their real paths (stream names start so) */

	/*
	 * What source.ctf.fs reads: the trace folders themselves, or for one
	 * part of a parallel read, folders of symbolic links to the metadata
	 * and to this part's stream files (tmp[i] set: removed at close).
	 */
	char **inputs;
	char **abs_inputs;
	size_t *input_trace;	/* index in paths */
	int *input_tmp;
	size_t ninputs;

	int guarded;		/* hvt_guard_begin() was called */
	uint64_t other_events;	/* events that are not hvtrace_* */
	char other_names[256];	/* some event names, for the error message */
	int nevents_seen;
	int schema_checked;
	struct hvt_fast *fast;	/* the fast decoder, when it reads */

	/* Per trace (hvt_reader_stream_trace() index): events, sessions. */
	uint64_t (*tseen)[2];
	uint32_t ntseen;
};

static void set_err(struct hvt_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct hvt_err *err, const char *fmt, ...)
{
	va_list ap;
	char *p;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/* One line: fold any newline libbabeltrace2 put in a cause. */
	for (p = err->msg; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

/*
 * One libbabeltrace2 message in user words: its ": key=value, ..." tail
 * (object addresses, internal state) is dropped, except pairs that say
 * something about the trace (freq=0, a file name).
 */
static void clean_cause(const char *in, char *out, size_t len)
{
	const char *tail = NULL, *p;
	size_t n, o = 0;

	/* The last ": " that is followed by key=value pairs. */
	for (p = strstr(in, ": "); p; p = strstr(p + 2, ": ")) {
		const char *k = p + 2;

		while ((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '-' ||
		       *k == '_')
			k++;
		if (k > p + 2 && *k == '=') {
			tail = p;
			break;
		}
	}
	n = tail ? (size_t)(tail - in) : strlen(in);
	while (n && (in[n - 1] == '.' || in[n - 1] == ' '))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(out, in, n);
	o = n;
	out[o] = '\0';
	if (!tail)
		return;
	/* Keep the pairs that are neither addresses nor internals. */
	p = tail + 2;
	while (*p) {
		const char *k = p, *eq = strchr(p, '='), *v, *e;
		int quoted, keep;

		if (!eq)
			break;
		v = eq + 1;
		quoted = *v == '"';
		e = quoted ? strchr(v + 1, '"') : v;
		if (!e)
			break;
		e = strchr(e, ',');
		if (!e)
			e = p + strlen(p);
		keep = strncmp(v, "0x", 2) && !memmem(k, (size_t)(eq - k), "addr", 4) &&
		       !memmem(k, (size_t)(eq - k), "comp", 4) &&
		       !memmem(k, (size_t)(eq - k), "handle", 6) &&
		       !memmem(k, (size_t)(eq - k), "msg-it", 6) &&
		       !memmem(k, (size_t)(eq - k), "state", 5) &&
		       !memmem(k, (size_t)(eq - k), "status", 6) &&
		       !memmem(k, (size_t)(eq - k), "ret", 3);
		if (keep && o + 2 + (size_t)(e - k) < len) {
			memcpy(out + o, o == n ? ": " : ", ", 2);
			o += 2;
			memcpy(out + o, k, (size_t)(e - k));
			o += (size_t)(e - k);
			out[o] = '\0';
		}
		p = *e ? e + 1 : e;
		while (*p == ' ')
			p++;
	}
}

/* Wrapper texts that say which layer failed, not what is wrong. */
static int generic_cause(const char *m)
{
	static const char *const generic[] = {
		"Component initialization method failed",
		"Component's \"",
		"Component's ",
		"Cannot create trace for",
		"Message iterator's",
		"Graph",
		"Cannot consume",
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(generic); i++)
		if (!strncmp(m, generic[i], strlen(generic[i])))
			return 1;
	return 0;
}

/* The file a cause names in quotes (`PATH` or 'PATH'), below the trace folder. */
static int cause_file(const char *m, const char *folder, char *out, size_t len)
{
	const char *a = strpbrk(m, "`'"), *b;
	size_t fl = folder ? strlen(folder) : 0;

	if (!a || !(b = strchr(a + 1, *a == '`' ? '`' : '\'')) || b == a + 1 ||
	    memchr(a, ' ', (size_t)(b - a)))
		return 0;
	a++;
	if (fl && !strncmp(a, folder, fl) && a[fl] == '/') {
		a += fl + 1;
	} else {
		const char *slash = memrchr(a, '/', (size_t)(b - a));

		if (slash && (size_t)(b - a) > 1 && slash + 1 < b)
			a = slash + 1;
	}
	if ((size_t)(b - a) >= len || b == a)
		return 0;
	memcpy(out, a, (size_t)(b - a));
	out[b - a] = '\0';
	return 1;
}

/* Root causes libbabeltrace2 words for its developers, in user words. */
static void user_words(char *root, size_t len)
{
	static const struct { const char *bt, *user; int tail; } tr[] = {
		{ "Failed to index CTF stream file",
		  "its packets cannot be indexed: the file is truncated or corrupt", 0 },
		{ "Cannot get stream file's first packet's header and context fields",
		  "its first packet header cannot be read: the file is truncated or corrupt", 0 },
		{ "No event class with ID of event class ID to use in stream class",
		  "corrupt stream data: an event names an event class the metadata does not define",
		  1 },
	};
	const char *eof = strstr(root, "syntax error, unexpected $end");
	size_t i;

	for (i = 0; i < ARRAY_LEN(tr); i++)
		if (!strncmp(root, tr[i].bt, strlen(tr[i].bt))) {
			char tail[300];

			/* the ": key=value" pairs clean_cause kept, if wanted */
			snprintf(tail, sizeof(tail), "%s",
				 tr[i].tail ? root + strlen(tr[i].bt) : "");
			snprintf(root, len, "%s%s", tr[i].user, tail);
			return;
		}
	if (eof && (size_t)(eof - root) + 80 < len)
		snprintf((char *)eof, len - (size_t)(eof - root),
			 "the text ends inside a declaration (truncated metadata?)");
}

/* The error line: what, the file (a stream file or the metadata), the root. */
static void set_explained(struct hvt_err *err, const char *what, const char *file,
			  const char *root)
{
	if (file && file[0])
		set_err(err, "%s: %s%s: %s", what, strcmp(file, "metadata") ? "stream file " : "",
			file, root[0] ? root : "cannot be read");
	else
		set_err(err, "%s: %s", what, root[0] ? root : "libbabeltrace2 gave no reason");
}

/*
 * Describe libbabeltrace2's current error in one line: the root cause (the
 * deepest one that says what is wrong, in user words) and the file it is
 * about (copied to file_out when given).  0 with err set; -1 when the
 * chain only holds generic wrapper texts (err is then set to the best
 * there is).
 */
static int explain_bt_error(struct hvt_err *err, const char *what, const char *folder,
			    char *file_out, size_t file_len)
{
	const bt_error *e = bt_current_thread_take_error();
	char root[400] = "", file[256] = "", buf[400];
	uint64_t n, i;
	int found = 0;

	if (!e) {
		set_err(err, "%s: libbabeltrace2 failed and gave no reason", what);
		return -1;
	}
	n = bt_error_get_cause_count(e);
	/* libbabeltrace2 appends causes as the error travels up: index 0 is the root. */
	for (i = 0; i < n; i++) {
		const bt_error_cause *c = bt_error_borrow_cause_by_index(e, i);
		const char *m = bt_error_cause_get_message(c);

		if (!m || !*m)
			continue;
		if (!file[0])
			cause_file(m, folder, file, sizeof(file));
		if (!found && !generic_cause(m)) {
			clean_cause(m, root, sizeof(root));
			found = root[0] != '\0';
		}
	}
	if (!found && n) {
		const char *m = bt_error_cause_get_message(bt_error_borrow_cause_by_index(e, 0));

		clean_cause(m ? m : "", buf, sizeof(buf));
		snprintf(root, sizeof(root), "%s", buf[0] ? buf : "libbabeltrace2 gave no reason");
	}
	user_words(root, sizeof(root));
	set_explained(err, what, file, root);
	if (file_out)
		snprintf(file_out, file_len, "%s", file);
	bt_error_release(e);
	return found ? 0 : -1;
}

static void take_bt_error(struct hvt_err *err, const char *what)
{
	explain_bt_error(err, what, NULL, NULL, 0);
}

/*
 * The first error line of a libbabeltrace2 log ("MM-DD HH:MM:SS.mmm PID TID
 * E TAG func@file:line [component] message"): the message, cleaned, with
 * "metadata: " before it when the metadata parser wrote it.
 */
static int first_log_error(const char *log, char *out, size_t len)
{
	const char *line = log;

	while (line && *line) {
		const char *end = strchr(line, '\n'), *p = line, *tag = NULL, *msg;
		char one[600];
		size_t n = end ? (size_t)(end - line) : strlen(line);
		int field;

		if (n >= sizeof(one))
			n = sizeof(one) - 1;
		memcpy(one, line, n);
		one[n] = '\0';
		line = end ? end + 1 : NULL;
		/* the fifth field is the level */
		p = one;
		for (field = 0; field < 4 && p; field++) {
			p = strchr(p, ' ');
			while (p && *p == ' ')
				p++;
		}
		if (!p || (p[0] != 'E' && p[0] != 'F') || p[1] != ' ')
			continue;
		tag = p + 2;
		/* TAG func@file:line [component] message; [component] may lack */
		msg = strchr(tag, ' ');
		msg = msg ? strchr(msg + 1, ' ') : NULL;
		if (!msg)
			continue;
		msg++;
		if (*msg == '[') {
			msg = strstr(msg, "] ");
			if (!msg)
				continue;
			msg += 2;
		}
		clean_cause(msg, out, len);
		if (!out[0])
			continue;
		user_words(out, len);
		if (!strncmp(tag, "PLUGIN/CTF/META", 15) && strncmp(out, "metadata", 8) &&
		    len > 10) {
			memmove(out + 10, out, len - 10);
			out[len - 1] = '\0';
			memcpy(out, "metadata: ", 10);
		}
		return 1;
	}
	return 0;
}

/*
 * What libbabeltrace2 writes on file descriptor 2 for a moment, taken
 * aside.  When the crash guard already captures fd 2 (guard.h), the text
 * is taken from its file and cut off again, so that an abort in between
 * still finds the library's last line there; otherwise fd 2 goes to a
 * memory file of its own.
 */
struct capture {
	int cap, saved;
	off_t from;		/* guard's file: where the moment began */
};

static void capture_begin(struct capture *c)
{
	struct stat st;

	c->cap = c->saved = -1;
	c->from = -1;
	fflush(stderr);
	if (hvt_guard_stderr() != 2) {
		if (!fstat(2, &st) && S_ISREG(st.st_mode))
			c->from = st.st_size;
		return;
	}
	c->cap = memfd_create("hvtrace-btlog", MFD_CLOEXEC);
	if (c->cap < 0)
		return;
	c->saved = dup(2);
	if (c->saved < 0 || dup2(c->cap, 2) < 0) {
		if (c->saved >= 0)
			close(c->saved);
		close(c->cap);
		c->cap = c->saved = -1;
	}
}

/* Read [from, end) of fd into a malloc'd NUL-ended string (NULL if none). */
static char *read_tail(int fd, off_t from)
{
	struct stat st;
	char *log;

	if (fstat(fd, &st) || st.st_size <= from || st.st_size - from >= 1 << 20)
		return NULL;
	log = calloc(1, (size_t)(st.st_size - from) + 1);
	if (log && pread(fd, log, (size_t)(st.st_size - from), from) != st.st_size - from) {
		free(log);
		log = NULL;
	}
	return log;
}

/* The text written meanwhile (malloc'd) or NULL; fd 2 as it was before. */
static char *capture_end(struct capture *c)
{
	char *log = NULL;

	fflush(stderr);
	if (c->from >= 0) {
		log = read_tail(2, c->from);
		if (!ftruncate(2, c->from))
			lseek(2, c->from, SEEK_SET);
		return log;
	}
	if (c->cap < 0)
		return NULL;
	dup2(c->saved, 2);
	close(c->saved);
	log = read_tail(c->cap, 0);
	close(c->cap);
	return log;
}

/*
 * source.ctf.fs could not open input t.  Its error chain often holds no
 * more than "Cannot create trace for `...`": the reason went to its log,
 * which is off.  Then create the component once more, in a graph of its
 * own, with its errors logged into a memory file, and take the first.
 * Under open_lock; file descriptor 2 is redirected for that moment only.
 */
static void explain_open_error(struct hvt_reader *r, const bt_component_class_source *fs_cls,
			       const bt_value *params, size_t t, const char *first_log,
			       struct hvt_err *err)
{
	const char *what = r->paths[r->input_trace[t]];
	const bt_component_source *src = NULL;
	char line[400] = "", file[256] = "", *log = NULL;
	bt_graph *g;
	struct capture cap;

	/* The chain names the file; the log's first error line says best what is wrong. */
	explain_bt_error(err, what, r->abs_inputs[t] ? r->abs_inputs[t] : r->inputs[t], file,
			 sizeof(file));
	/* The metadata parser logs (at error level) even for a silent component. */
	if (first_log && first_log_error(first_log, line, sizeof(line))) {
		set_explained(err, what, strncmp(line, "metadata", 8) ? file : NULL, line);
		return;
	}
	capture_begin(&cap);
	g = bt_graph_create(0);
	if (g)
		bt_graph_add_source_component(g, fs_cls, "trace", params, BT_LOGGING_LEVEL_ERROR,
					      &src);
	bt_current_thread_clear_error();
	bt_graph_put_ref(g);
	log = capture_end(&cap);
	if (log && first_log_error(log, line, sizeof(line)))
		set_explained(err, what, strncmp(line, "metadata", 8) ? file : NULL, line);
	free(log);
}

/* ---- input discovery ---------------------------------------------------- */

static int has_metadata(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;

	if (snprintf(p, sizeof(p), "%s/metadata", dir) >= (int)sizeof(p))
		return 0;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int add_path(struct hvt_reader *r, const char *p)
{
	char **np = realloc(r->paths, (r->npaths + 1) * sizeof(*np));

	if (!np)
		return -1;
	r->paths = np;
	np[r->npaths] = strdup(p);
	if (!np[r->npaths])
		return -1;
	r->npaths++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every folder at or below dir that holds a "metadata" file, sorted. */
static int find_traces(struct hvt_reader *r, const char *dir, int depth)
{
	char **subs = NULL;
	size_t nsubs = 0, i;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (has_metadata(dir))
		return add_path(r, dir);
	if (depth > 8)
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char p[PATH_MAX];
		struct stat st;
		char **ns;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= (int)sizeof(p))
			continue;
		if (stat(p, &st) || !S_ISDIR(st.st_mode))
			continue;
		ns = realloc(subs, (nsubs + 1) * sizeof(*ns));
		if (!ns) {
			ret = -1;
			break;
		}
		subs = ns;
		subs[nsubs] = strdup(p);
		if (!subs[nsubs]) {
			ret = -1;
			break;
		}
		nsubs++;
	}
	closedir(d);
	if (nsubs)
		qsort(subs, nsubs, sizeof(*subs), cmp_str);
	for (i = 0; i < nsubs; i++) {
		if (!ret)
			ret = find_traces(r, subs[i], depth + 1);
		free(subs[i]);
	}
	free(subs);
	return ret;
}

/* ---- graph -------------------------------------------------------------- */

static bt_graph_simple_sink_component_initialize_func_status
sink_init(bt_message_iterator *it, void *data)
{
	struct hvt_reader *r = data;

	r->it = it;
	return BT_GRAPH_SIMPLE_SINK_COMPONENT_INITIALIZE_FUNC_STATUS_OK;
}

/* Store the next batch; hvt_reader_next() converts it. */
static bt_graph_simple_sink_component_consume_func_status
sink_consume(bt_message_iterator *it, void *data)
{
	struct hvt_reader *r = data;
	bt_message_array_const msgs;
	uint64_t count, i;

	switch (bt_message_iterator_next(it, &msgs, &count)) {
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
		break;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_END;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_AGAIN;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_MEMORY_ERROR;
	default:
		return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_ERROR;
	}
	if (r->n + count > r->cap) {
		/* Grows to the muxer's largest batch once, then stays. */
		uint64_t cap = r->cap ? r->cap : 64;
		const bt_message **nm;

		while (cap < r->n + count)
			cap *= 2;
		nm = realloc(r->msgs, cap * sizeof(*nm));
		if (!nm) {
			for (i = 0; i < count; i++)
				bt_message_put_ref(msgs[i]);
			return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_MEMORY_ERROR;
		}
		r->msgs = nm;
		r->cap = cap;
	}
	for (i = 0; i < count; i++)
		r->msgs[r->n++] = msgs[i];	/* we now own these references */
	return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_OK;
}

/*
 * The ctf plugin's metadata parser logs through a level it reads from the
 * environment when the plugin loads: errors, so that a syntax error in the
 * metadata can be named (captured while the source initializes).  Set
 * before main(), while the process has one thread (setenv is not safe
 * against other threads' getenv), and only when the user set nothing.
 */
__attribute__((constructor)) static void metadata_log_level(void)
{
	setenv("BABELTRACE_PLUGIN_CTF_METADATA_LOG_LEVEL", "E", 0);
}

/*
 * source.ctf.fs (one per trace folder) -> filter.utils.muxer -> our sink.
 * A single stream is already in time order: its port goes straight to the
 * sink, without the muxer's per-message bookkeeping (with no stream at all
 * the muxer stays, and simply ends).
 */
static int build_graph(struct hvt_reader *r, struct hvt_err *err)
{
	const bt_component_class_source *fs_cls;
	const bt_component_class_filter *mux_cls;
	const bt_component_filter *mux = NULL;
	const bt_component_source **srcs;
	const bt_component_sink *sink;
	uint64_t in_port = 0, nports = 0, p, np;
	const bt_port_input *sink_in;
	size_t t;
	int ret = -1;

	if (bt_plugin_find("ctf", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE,
			   &r->ctf) != BT_PLUGIN_FIND_STATUS_OK ||
	    bt_plugin_find("utils", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE,
			   &r->utils) != BT_PLUGIN_FIND_STATUS_OK) {
		bt_current_thread_clear_error();
		set_err(err, "cannot load the babeltrace2 plugins 'ctf' and 'utils' (is babeltrace2 installed?)");
		return -1;
	}
	fs_cls = bt_plugin_borrow_source_component_class_by_name_const(r->ctf, "fs");
	mux_cls = bt_plugin_borrow_filter_component_class_by_name_const(r->utils, "muxer");
	if (!fs_cls || !mux_cls) {
		set_err(err, "babeltrace2 lacks source.ctf.fs or filter.utils.muxer");
		return -1;
	}
	r->graph = bt_graph_create(0);
	srcs = calloc(r->ninputs ? r->ninputs : 1, sizeof(*srcs));
	if (!r->graph || !srcs) {
		free(srcs);
		set_err(err, "out of memory");
		return -1;
	}
	if (bt_graph_add_simple_sink_component(r->graph, "hvtrace", sink_init,
					       sink_consume, NULL, r, &sink) !=
	    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		take_bt_error(err, "cannot create the sink");
		goto out;
	}
	sink_in = bt_component_sink_borrow_input_port_by_index_const(sink, 0);
	for (t = 0; t < r->ninputs; t++) {
		bt_value *params = bt_value_map_create();
		bt_value *inputs = NULL;
		char name[32];
		int bad;

		if (!params) {
			set_err(err, "out of memory");
			goto out;
		}
		bad = bt_value_map_insert_empty_array_entry(params, "inputs", &inputs) ||
		      bt_value_array_append_string_element(inputs, r->inputs[t]);
		if (bad) {
			bt_value_put_ref(params);
			set_err(err, "out of memory");
			goto out;
		}
		snprintf(name, sizeof(name), "trace%zu", t);
		{
			struct capture cap;
			bt_graph_add_component_status st;
			char *log;

			capture_begin(&cap);
			st = bt_graph_add_source_component(r->graph, fs_cls, name, params,
							   BT_LOGGING_LEVEL_NONE, &srcs[t]);
			log = capture_end(&cap);
			if (st != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
				explain_open_error(r, fs_cls, params, t, log, err);
				free(log);
				bt_value_put_ref(params);
				goto out;
			}
			/* Anything libbabeltrace2 wrote while all went well goes on. */
			if (log && fputs(log, stderr) < 0)
				clearerr(stderr);
			free(log);
		}
		bt_value_put_ref(params);
		nports += bt_component_source_get_output_port_count(srcs[t]);
	}
	if (nports != 1 &&
	    bt_graph_add_filter_component(r->graph, mux_cls, "muxer", NULL,
					  BT_LOGGING_LEVEL_NONE, &mux) !=
	    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		take_bt_error(err, "cannot create the muxer");
		goto out;
	}
	for (t = 0; t < r->ninputs; t++) {
		np = bt_component_source_get_output_port_count(srcs[t]);
		for (p = 0; p < np; p++) {
			const bt_port_output *op =
				bt_component_source_borrow_output_port_by_index_const(srcs[t], p);
			const bt_port_input *ip = mux ?
				bt_component_filter_borrow_input_port_by_index_const(mux, in_port++) :
				sink_in;

			if (!ip || bt_graph_connect_ports(r->graph, op, ip, NULL) !=
				   BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
				take_bt_error(err, r->paths[r->input_trace[t]]);
				goto out;
			}
		}
	}
	if (mux && bt_graph_connect_ports(r->graph,
			bt_component_filter_borrow_output_port_by_index_const(mux, 0),
			sink_in, NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
		take_bt_error(err, "cannot connect the muxer");
		goto out;
	}
	ret = 0;
out:
	free(srcs);
	return ret;
}

/* Run the graph until the batch holds messages or the trace ends. */
static int refill(struct hvt_reader *r, struct hvt_err *err)
{
	while (r->pos == r->n) {
		bt_graph_run_once_status st;

		if (r->ended)
			return 0;
		if (r->failed) {
			set_err(err, "the trace cannot be read further");
			return -1;
		}
		r->pos = r->n = 0;
		hvt_guard_step_begin();
		st = bt_graph_run_once(r->graph);
		hvt_guard_step_end();
		switch (st) {
		case BT_GRAPH_RUN_ONCE_STATUS_OK:
		case BT_GRAPH_RUN_ONCE_STATUS_AGAIN:
			break;
		case BT_GRAPH_RUN_ONCE_STATUS_END:
			r->ended = 1;
			break;
		case BT_GRAPH_RUN_ONCE_STATUS_MEMORY_ERROR:
			r->failed = 1;
			bt_current_thread_clear_error();
			set_err(err, "out of memory while reading the trace");
			return -1;
		default:
			r->failed = 1;
			take_bt_error(err, r->npaths == 1 ? r->paths[0] : "cannot read the traces");
			return -1;
		}
	}
	return 1;
}

/* ---- classes, streams, traces ------------------------------------------ */

static const struct ev_schema *schema_by_name(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < ARRAY_LEN(schemas); i++)
		if (!strcmp(name, schemas[i].event))
			return &schemas[i];
	return NULL;
}

static int is_int_class(const bt_field_class *fc, int *is_signed)
{
	bt_field_class_type t = bt_field_class_get_type(fc);

	if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER)) {
		*is_signed = 1;
		return 1;
	}
	if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER)) {
		*is_signed = 0;
		return 1;
	}
	return 0;
}

static int payload_has(const void *payload, const char *name)
{
	return bt_field_class_structure_borrow_member_by_name_const(payload, name) != NULL;
}

/* Resolve every schema field of an hvtrace event class to a member index. */
static int resolve_class(struct hvt_reader *r, struct ev_class *c,
			 struct hvt_err *err)
{
	const bt_field_class *payload = bt_event_class_borrow_payload_field_class_const(c->ec);
	const struct ev_schema *s = c->schema;
	char why[200];
	uint64_t nm;
	size_t f;
	int lo, hi;

	if (!payload || bt_field_class_get_type(payload) != BT_FIELD_CLASS_TYPE_STRUCTURE) {
		set_err(err, "event %s has no payload structure: not hvtrace schema v%d",
			s->event, HVTRACE_SCHEMA_VERSION);
		return -1;
	}
	if (hvt_event_layout(s->event, payload_has, payload, &lo, &hi, why, sizeof(why))) {
		set_err(err, "%s: not hvtrace schema v%d to v%d", why,
			HVTRACE_SCHEMA_VERSION_MIN, HVTRACE_SCHEMA_VERSION);
		return -1;
	}
	nm = bt_field_class_structure_get_member_count(payload);
	for (f = 0; f < s->nfields; f++) {
		const struct field_desc *fd = &s->fields[f];
		const bt_field_class *mfc = NULL;
		bt_field_class_type t;
		uint64_t m;
		int sgn = 0, ok = 0;

		for (m = 0; m < nm; m++) {
			const bt_field_class_structure_member *mem =
				bt_field_class_structure_borrow_member_by_index_const(payload, m);

			if (!strcmp(bt_field_class_structure_member_get_name(mem), fd->name)) {
				mfc = bt_field_class_structure_member_borrow_field_class_const(mem);
				break;
			}
		}
		if (!mfc && hvt_added_in(s->event, fd->name)) {
			/* An older schema's trace: the field reads as 0 (empty). */
			c->take[f] = 0;
			c->need[f] = ALWAYS;
			continue;
		}
		if (!mfc) {
			set_err(err, "event %s lacks field '%s': not hvtrace schema v%d",
				s->event, fd->name, HVTRACE_SCHEMA_VERSION);
			return -1;
		}
		t = bt_field_class_get_type(mfc);
		switch (fd->kind) {
		case FD_SCALAR:
			ok = is_int_class(mfc, &sgn);
			break;
		case FD_ARRAY:
		case FD_SEQ:
			ok = bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_ARRAY) &&
			     is_int_class(bt_field_class_array_borrow_element_field_class_const(mfc),
					  &sgn);
			break;
		case FD_TEXT:
			ok = t == BT_FIELD_CLASS_TYPE_STRING ||
			     (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_ARRAY) &&
			      is_int_class(bt_field_class_array_borrow_element_field_class_const(mfc),
					   &sgn));
			break;
		}
		if (!ok) {
			set_err(err, "event %s field '%s' has an unexpected type: not hvtrace schema v%d",
				s->event, fd->name, HVTRACE_SCHEMA_VERSION);
			return -1;
		}
		c->idx[f] = m;
		c->is_signed[f] = (unsigned char)sgn;
		c->take[f] = fd->count;
		c->need[f] = ALWAYS;
		if (s->type == HVT_EV_EXIT && fd->off == offsetof(struct hvtrace_exit_rec, exit_reason))
			c->reason_field = f;
		if ((r->flags & HVT_READ_KEYS_ONLY) && s->type == HVT_EV_EXIT) {
			c->take[f] = (unsigned short)exit_key_count(fd, r->flags, &c->need[f]);
			c->by_kind = 1;
		}
		if ((r->flags & HVT_READ_KEYS_ONLY) && s->type == HVT_EV_RESUME)
			c->take[f] = (unsigned short)resume_key_count(fd);
		if ((r->flags & HVT_READ_NO_XMM) && s->type == HVT_EV_EXIT &&
		    fd->off == offsetof(struct hvtrace_exit_rec, xmm))
			c->take[f] = 0;
	}
	return 0;
}

static struct ev_class *get_class(struct hvt_reader *r, const bt_event_class *ec,
				  struct hvt_err *err)
{
	struct ev_class *c;
	size_t i;

	if (r->last_class && r->last_class->ec == ec)
		return r->last_class;
	for (i = 0; i < r->nclasses; i++)
		if (r->classes[i].ec == ec)
			return r->last_class = &r->classes[i];
	if (r->nclasses == r->cap_classes) {
		size_t cap = r->cap_classes ? 2 * r->cap_classes : 8;
		struct ev_class *nc = realloc(r->classes, cap * sizeof(*nc));

		if (!nc) {
			set_err(err, "out of memory");
			return NULL;
		}
		r->classes = nc;
		r->cap_classes = cap;
	}
	c = &r->classes[r->nclasses];
	memset(c, 0, sizeof(*c));
	c->ec = ec;
	c->schema = schema_by_name(bt_event_class_get_name(ec));
	if (c->schema && resolve_class(r, c, err))
		return NULL;
	if (!c->schema)
		hvt_kvm_resolve(ec, &c->kvm);	/* kvm: kvm_events.c */
	r->nclasses++;
	return r->last_class = c;
}

static void note_other_name(struct hvt_reader *r, const char *name)
{
	size_t len = strlen(r->other_names);

	if (!name || strstr(r->other_names, name))
		return;
	if (len + strlen(name) + 8 >= sizeof(r->other_names)) {
		if (!strstr(r->other_names, "..."))
			snprintf(r->other_names + len, sizeof(r->other_names) - len,
				 ", ...");
		return;
	}
	snprintf(r->other_names + len, sizeof(r->other_names) - len, "%s%s",
		 len ? ", " : "", name);
}

/* A trace class seen for the first time: does it define hvtrace events? */
static void check_trace(struct hvt_reader *r, const bt_trace_class *tc)
{
	uint64_t s, ns, e, ne;
	struct trace_info *ti;
	size_t i;
	int has = 0, has_kvm = 0;

	for (i = 0; i < r->ntraces; i++)
		if (r->traces[i].tc == tc)
			return;
	if (r->ntraces == r->cap_traces) {
		size_t cap = r->cap_traces ? 2 * r->cap_traces : 4;
		struct trace_info *nt = realloc(r->traces, cap * sizeof(*nt));

		if (!nt)
			return;
		r->traces = nt;
		r->cap_traces = cap;
	}
	ns = bt_trace_class_get_stream_class_count(tc);
	for (s = 0; s < ns; s++) {
		const bt_stream_class *sc =
			bt_trace_class_borrow_stream_class_by_index_const(tc, s);

		ne = bt_stream_class_get_event_class_count(sc);
		for (e = 0; e < ne; e++) {
			const char *name = bt_event_class_get_name(
				bt_stream_class_borrow_event_class_by_index_const(sc, e));

			if (schema_by_name(name))
				has = 1;
			else
				note_other_name(r, name);
			if (hvt_kvm_event_kind(name))
				has_kvm = 1;	/* kvm: a plain kvm event */
		}
	}
	r->ntraces_kvm += has_kvm;
	ti = &r->traces[r->ntraces++];
	ti->tc = tc;
	ti->has_hvtrace = has;
	if (has)
		r->ntraces_hvtrace++;
}

static uint32_t stream_index(struct hvt_reader *r, const bt_stream *stream)
{
	uint32_t i;

	if (r->last_stream < r->nstreams && r->streams[r->last_stream].stream == stream)
		return r->last_stream;
	for (i = 0; i < r->nstreams; i++)
		if (r->streams[i].stream == stream)
			return r->last_stream = i;
	return UINT32_MAX;
}

/*
 * The schema versions every hvtrace event class of a stream class fits.  A
 * class that fits none is left to resolve_class(), which says why.
 */
static void stream_layout(const bt_stream_class *sc, struct stream_info *si)
{
	uint64_t e, ne = bt_stream_class_get_event_class_count(sc);
	int lo = HVTRACE_SCHEMA_VERSION_MIN, hi = HVTRACE_SCHEMA_VERSION;
	char why[200];

	for (e = 0; e < ne; e++) {
		const bt_event_class *ec = bt_stream_class_borrow_event_class_by_index_const(sc, e);
		const bt_field_class *p = bt_event_class_borrow_payload_field_class_const(ec);
		const struct ev_schema *s = schema_by_name(bt_event_class_get_name(ec));
		int clo, chi;

		if (!s || !p || bt_field_class_get_type(p) != BT_FIELD_CLASS_TYPE_STRUCTURE ||
		    hvt_event_layout(s->event, payload_has, p, &clo, &chi, why, sizeof(why)))
			continue;
		if (clo > lo)
			lo = clo;
		if (chi < hi)
			hi = chi;
	}
	si->layout_lo = (unsigned char)lo;
	si->layout_hi = (unsigned char)(hi < lo ? lo - 1 : hi);
}

static uint32_t add_stream(struct hvt_reader *r, const bt_stream *stream)
{
	const bt_stream_class *sc = bt_stream_borrow_class_const(stream);
	struct stream_info *si;
	const char *name;
	char buf[64];
	uint32_t i = stream_index(r, stream);
	size_t k;

	if (i != UINT32_MAX)
		return i;
	if (r->nstreams == r->cap_streams) {
		uint32_t cap = r->cap_streams ? 2 * r->cap_streams : 16;
		struct stream_info *ns = realloc(r->streams, cap * sizeof(*ns));

		if (!ns)
			return UINT32_MAX;
		r->streams = ns;
		r->cap_streams = cap;
	}
	name = bt_stream_get_name(stream);
	if (!name) {
		snprintf(buf, sizeof(buf), "stream %" PRIu64, bt_stream_get_id(stream));
		name = buf;
	}
	si = &r->streams[r->nstreams];
	si->stream = stream;
	si->has_clock = bt_stream_class_borrow_default_clock_class_const(sc) != NULL;
	stream_layout(sc, si);
	si->name = NULL;
	si->trace = UINT32_MAX;
	/*
	 * source.ctf.fs names a stream by its file's path: map it back to the
	 * trace folder it came from (and, for a folder of links, to the
	 * original path).
	 */
	for (k = 0; k < r->ninputs && !si->name; k++) {
		const char *pre[2] = { r->abs_inputs[k], r->inputs[k] };
		int j;

		for (j = 0; j < 2; j++) {
			size_t n = pre[j] ? strlen(pre[j]) : 0;

			if (!n || strncmp(name, pre[j], n) || name[n] != '/')
				continue;
			si->trace = (uint32_t)r->input_trace[k];
			if (asprintf(&si->name, "%s%s", r->abs_paths[r->input_trace[k]],
				     name + n) < 0)
				si->name = NULL;
			break;
		}
	}
	if (!si->name)
		si->name = strdup(name);
	if (!si->name)
		return UINT32_MAX;
	if (si->trace == UINT32_MAX) {
		const bt_trace *tr = bt_stream_borrow_trace_const(stream);
		const bt_trace **nt;
		uint32_t t;

		for (t = 0; t < r->ntraces_seen; t++)
			if (r->traces_seen[t] == tr)
				break;
		if (t == r->ntraces_seen) {
			nt = realloc(r->traces_seen, (t + 1) * sizeof(*nt));
			if (!nt) {
				free(si->name);
				return UINT32_MAX;
			}
			r->traces_seen = nt;
			nt[r->ntraces_seen++] = tr;
		}
		si->trace = (uint32_t)r->npaths + t;
	}
	check_trace(r, bt_stream_class_borrow_trace_class_const(sc));
	return r->last_stream = r->nstreams++;
}

/* ---- decoding ---------------------------------------------------------- */

static inline uint64_t int_value(const bt_field *f, int is_signed)
{
	if (is_signed)
		return (uint64_t)bt_field_integer_signed_get_value(f);
	return bt_field_integer_unsigned_get_value(f);
}

/*
 * Does v (read from a signed or unsigned metadata integer) fit a record
 * field of `size` bytes?  Record fields are unsigned except the s32 ones
 * (sgn_dst): a wider metadata integer is fine as long as its values fit.
 */
static inline int fits(uint64_t v, int sgn_src, unsigned int size, int sgn_dst)
{
	int64_t sv = (int64_t)v;

	if (size >= 8)
		return sgn_src == sgn_dst || sv >= 0;
	if (sgn_dst)
		return sgn_src ? sv >= -(INT64_C(1) << (8 * size - 1)) &&
				 sv < (INT64_C(1) << (8 * size - 1)) :
				 v < (UINT64_C(1) << (8 * size - 1));
	if (sgn_src && sv < 0)
		return 0;
	return v < (UINT64_C(1) << (8 * size));
}

static inline void store(void *dst, unsigned int size, uint64_t v)
{
	switch (size) {
	case 1: { uint8_t x = (uint8_t)v; memcpy(dst, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(dst, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(dst, &x, 4); break; }
	default: memcpy(dst, &v, 8); break;
	}
}

/* A value that the record cannot hold: the event does not match the schema. */
static int bad_value(struct hvt_reader *r, const struct ev_class *c, uint32_t stream,
		     const struct field_desc *fd, uint64_t i, uint64_t v, int sgn,
		     struct hvt_err *err)
{
	char idx[32] = "";

	if (fd->kind != FD_SCALAR)
		snprintf(idx, sizeof(idx), "[%" PRIu64 "]", i);
	set_err(err, "%s: corrupt %s event: field '%s%s' holds %s%" PRIu64
		", which does not fit its %s%u-bit schema type",
		hvt_reader_stream_name(r, stream), c->schema->event, fd->name, idx,
		sgn && (int64_t)v < 0 ? "-" : "",
		sgn && (int64_t)v < 0 ? -(uint64_t)v : v,
		fd->sgn ? "signed " : "", 8u * fd->esize);
	return -1;
}

/*
 * Fill the record from the payload.  Every byte of every schema field is
 * written (values, or zeros past a shorter array and for fields skipped in
 * keys-only mode), so no record-wide memset is needed per event.  Nothing
 * is cut silently: a value wider than its record field, or an array or
 * sequence longer than the schema allows, is an error (-1, err set).
 */
static int decode_payload(struct hvt_reader *r, uint32_t stream, const struct ev_class *c,
			  const bt_field *payload, void *rec, struct hvt_err *err)
{
	const struct ev_schema *s = c->schema;
	unsigned int kinds = ~0u;
	char *base = rec;
	size_t f;

	if (c->by_kind) {
		/* The reason first: it says which other keys the exit needs. */
		const struct field_desc *fd = &s->fields[c->reason_field];
		const bt_field *fld = bt_field_structure_borrow_member_field_by_index_const(
			payload, c->idx[c->reason_field]);
		int sgn = c->is_signed[c->reason_field];
		uint64_t v = int_value(fld, sgn);
		uint32_t reason = (uint32_t)v;

		if (!fits(v, sgn, fd->esize, fd->sgn))
			return bad_value(r, c, stream, fd, 0, v, sgn, err);
		store(base + fd->off, fd->esize, reason);
		kinds = 1u << hvt_exit_qual_kind(reason & HVTRACE_EXIT_REASON_BASIC_MASK);
	}
	for (f = 0; f < s->nfields; f++) {
		const struct field_desc *fd = &s->fields[f];
		const bt_field *fld;
		uint64_t len = 0, i, v;
		int sgn = c->is_signed[f];

		if (c->by_kind && f == c->reason_field)
			continue;
		if (!c->take[f] || (c->need[f] && !(c->need[f] & kinds))) {
			memset(base + fd->off, 0, (size_t)fd->esize * fd->count);
			if (fd->kind == FD_SEQ)
				memset(base + fd->len_off, 0, fd->lsize);
			continue;
		}
		fld = bt_field_structure_borrow_member_field_by_index_const(payload, c->idx[f]);
		switch (fd->kind) {
		case FD_SCALAR:
			v = int_value(fld, sgn);
			if (!fits(v, sgn, fd->esize, fd->sgn))
				return bad_value(r, c, stream, fd, 0, v, sgn, err);
			store(base + fd->off, fd->esize, v);
			break;
		case FD_ARRAY:
		case FD_SEQ:
			len = bt_field_array_get_length(fld);
			if (len > fd->count) {
				set_err(err, "%s: corrupt %s event: '%s' has %" PRIu64
					" elements, the schema allows at most %u",
					hvt_reader_stream_name(r, stream), s->event, fd->name,
					len, (unsigned int)fd->count);
				return -1;
			}
			if (len > c->take[f])
				len = c->take[f];	/* keys-only: the first elements */
			for (i = 0; i < len; i++) {
				v = int_value(bt_field_array_borrow_element_field_by_index_const(fld, i),
					      sgn);
				if (!fits(v, sgn, fd->esize, fd->sgn))
					return bad_value(r, c, stream, fd, i, v, sgn, err);
				store(base + fd->off + i * fd->esize, fd->esize, v);
			}
			if (len < fd->count)
				memset(base + fd->off + len * fd->esize, 0,
				       (size_t)(fd->count - len) * fd->esize);
			if (fd->kind == FD_SEQ)
				store(base + fd->len_off, fd->lsize, len);
			break;
		case FD_TEXT:
			if (bt_field_get_class_type(fld) == BT_FIELD_CLASS_TYPE_STRING) {
				const char *tv = bt_field_string_get_value(fld);

				len = bt_field_string_get_length(fld);
				if (len > (uint64_t)fd->count - 1)
					len = fd->count - 1;
				memcpy(base + fd->off, tv, len);
			} else {
				len = bt_field_array_get_length(fld);
				if (len > (uint64_t)fd->count - 1)
					len = fd->count - 1;
				for (i = 0; i < len; i++)
					base[fd->off + i] = (char)int_value(
						bt_field_array_borrow_element_field_by_index_const(fld, i),
						sgn);
			}
			memset(base + fd->off + len, 0, fd->count - len);
			break;
		}
	}
	return 0;
}

static void *record_of(struct hvt_event *ev)
{
	switch (ev->type) {
	case HVT_EV_EXIT:
		return &ev->u.exit;
	case HVT_EV_RESUME:
		return &ev->u.resume;
	case HVT_EV_SESSION:
		return &ev->u.session;
	default:
		return NULL;
	}
}

static int64_t snapshot_ns(const bt_clock_snapshot *cs)
{
	int64_t ns = 0;

	if (cs && bt_clock_snapshot_get_ns_from_origin(cs, &ns) !=
		  BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK)
		ns = 0;
	return ns;
}

/* One more hvtrace event (or session record) of trace t. */
static int count_in_trace(struct hvt_reader *r, uint32_t t, int session)
{
	if (t >= r->ntseen) {
		uint32_t n = t + 1;
		uint64_t (*nt)[2];

		if (t == UINT32_MAX)
			return 0;
		nt = realloc(r->tseen, n * sizeof(*nt));
		if (!nt)
			return -1;
		memset(nt + r->ntseen, 0, (n - r->ntseen) * sizeof(*nt));
		r->tseen = nt;
		r->ntseen = n;
	}
	r->tseen[t][session ? 1 : 0]++;
	return 0;
}

uint64_t hvt_reader_trace_events(const struct hvt_reader *r, uint32_t trace)
{
	return r && trace < r->ntseen ? r->tseen[trace][0] : 0;
}

uint64_t hvt_reader_trace_sessions(const struct hvt_reader *r, uint32_t trace)
{
	return r && trace < r->ntseen ? r->tseen[trace][1] : 0;
}

/* ---- plain LTTng kvm events (kvm_events.h, HVT_READ_KVM): begin -------- */

/* No event this reader may return: the traces define none it knows. */
static int no_events(const struct hvt_reader *r)
{
	return r->ntraces && !r->ntraces_hvtrace &&
	       !((r->flags & HVT_READ_KVM) && r->ntraces_kvm);
}

int hvt_reader_kvm_only(const struct hvt_reader *r)
{
	return r && r->ntraces_kvm && !r->ntraces_hvtrace;
}

static void kvm_only_error(const struct hvt_reader *r, const char *what,
			   struct hvt_err *err)
{
	(void)r;
	set_err(err, "%s: a plain LTTng kvm trace (lttng-modules' kvm_x86_exit/kvm_exit events, no hvtrace events): it carries no register state; only hvtrace hist reads it",
		what);
}

static int kvm_convert(struct hvt_reader *r, const bt_message *m,
		       const struct ev_class *c, struct hvt_event *ev, struct hvt_err *err)
{
	const bt_event *e = bt_message_event_borrow_event_const(m);
	const bt_stream *st = bt_event_borrow_stream_const(e);

	ev->type = HVT_EV_KVM;
	ev->stream = stream_index(r, st);
	if (ev->stream == UINT32_MAX)
		ev->stream = add_stream(r, st);
	if (ev->stream == UINT32_MAX) {
		set_err(err, "out of memory");
		return -1;
	}
	ev->ts_ns = r->streams[ev->stream].has_clock ?
		snapshot_ns(bt_message_event_borrow_default_clock_snapshot_const(m)) : 0;
	hvt_kvm_decode(&c->kvm, e, &ev->u.kvm);
	return 1;
}

/* ---- plain LTTng kvm events: end ---------------------------------------- */

/*
 * Convert one message.  1: *ev is an event for the caller; 0: nothing to
 * return (stream bookkeeping, foreign event); -1: error.
 */
static int convert(struct hvt_reader *r, const bt_message *m,
		   struct hvt_event *ev, struct hvt_err *err)
{
	switch (bt_message_get_type(m)) {
	case BT_MESSAGE_TYPE_STREAM_BEGINNING:
		if (add_stream(r, bt_message_stream_beginning_borrow_stream_const(m)) ==
		    UINT32_MAX) {
			set_err(err, "out of memory");
			return -1;
		}
		return 0;
	case BT_MESSAGE_TYPE_STREAM_END: {
		/* The stream object may be freed and its address reused. */
		uint32_t i = stream_index(r, bt_message_stream_end_borrow_stream_const(m));

		if (i != UINT32_MAX)
			r->streams[i].stream = NULL;
		return 0;
	}
	case BT_MESSAGE_TYPE_EVENT: {
		const bt_event *e = bt_message_event_borrow_event_const(m);
		struct ev_class *c = get_class(r, bt_event_borrow_class_const(e), err);
		const bt_stream *st;

		if (!c)
			return -1;
		if (!c->schema) {
			if (c->kvm.kind && (r->flags & HVT_READ_KVM))
				return kvm_convert(r, m, c, ev, err);
			r->other_events++;
			return 0;
		}
		st = bt_event_borrow_stream_const(e);
		ev->type = c->schema->type;
		ev->stream = stream_index(r, st);
		if (ev->stream == UINT32_MAX)
			ev->stream = add_stream(r, st);
		if (ev->stream == UINT32_MAX) {
			set_err(err, "out of memory");
			return -1;
		}
		ev->ts_ns = r->streams[ev->stream].has_clock ?
			snapshot_ns(bt_message_event_borrow_default_clock_snapshot_const(m)) : 0;
		if (decode_payload(r, ev->stream, c, bt_event_borrow_payload_field_const(e),
				   record_of(ev), err))
			return -1;
		if (count_in_trace(r, r->streams[ev->stream].trace,
				   ev->type == HVT_EV_SESSION)) {
			set_err(err, "out of memory");
			return -1;
		}
		return 1;
	}
	case BT_MESSAGE_TYPE_DISCARDED_EVENTS: {
		const bt_stream *st = bt_message_discarded_events_borrow_stream_const(m);
		const bt_stream_class *sc = bt_stream_borrow_class_const(st);
		uint64_t count = 0;

		ev->type = HVT_EV_DISCARDED;
		ev->stream = add_stream(r, st);
		if (ev->stream == UINT32_MAX) {
			set_err(err, "out of memory");
			return -1;
		}
		if (bt_message_discarded_events_get_count(m, &count) !=
		    BT_PROPERTY_AVAILABILITY_AVAILABLE)
			count = 0;
		ev->u.discarded.count = count;
		ev->u.discarded.packets = 0;
		ev->u.discarded.begin_ns = ev->u.discarded.end_ns = 0;
		if (bt_stream_class_discarded_events_have_default_clock_snapshots(sc)) {
			ev->u.discarded.begin_ns = snapshot_ns(
				bt_message_discarded_events_borrow_beginning_default_clock_snapshot_const(m));
			ev->u.discarded.end_ns = snapshot_ns(
				bt_message_discarded_events_borrow_end_default_clock_snapshot_const(m));
		}
		ev->ts_ns = ev->u.discarded.begin_ns;
		return 1;
	}
	case BT_MESSAGE_TYPE_DISCARDED_PACKETS: {
		/* Whole packets lost (packet_seq_num gap): events unknown. */
		const bt_stream *st = bt_message_discarded_packets_borrow_stream_const(m);
		const bt_stream_class *sc = bt_stream_borrow_class_const(st);
		uint64_t count = 0;

		ev->type = HVT_EV_DISCARDED;
		ev->stream = add_stream(r, st);
		if (ev->stream == UINT32_MAX) {
			set_err(err, "out of memory");
			return -1;
		}
		if (bt_message_discarded_packets_get_count(m, &count) !=
		    BT_PROPERTY_AVAILABILITY_AVAILABLE || !count)
			count = 1;
		ev->u.discarded.count = 0;
		ev->u.discarded.packets = count;
		ev->u.discarded.begin_ns = ev->u.discarded.end_ns = 0;
		if (bt_stream_class_discarded_packets_have_default_clock_snapshots(sc)) {
			ev->u.discarded.begin_ns = snapshot_ns(
				bt_message_discarded_packets_borrow_beginning_default_clock_snapshot_const(m));
			ev->u.discarded.end_ns = snapshot_ns(
				bt_message_discarded_packets_borrow_end_default_clock_snapshot_const(m));
		}
		ev->ts_ns = ev->u.discarded.begin_ns;
		return 1;
	}
	default:
		return 0;
	}
}

static int check_session(struct hvt_reader *r, const struct hvt_event *ev,
			 struct hvt_err *err)
{
	const struct stream_info *si;
	uint32_t v;

	if (ev->type != HVT_EV_SESSION)
		return 0;
	if (ev->u.session.schema_version < HVTRACE_SCHEMA_VERSION_MIN ||
	    ev->u.session.schema_version > HVTRACE_SCHEMA_VERSION) {
		set_err(err, "%s: trace schema version %" PRIu32
			" is not known to this hvtrace (it reads versions %d to %d)",
			hvt_reader_stream_name(r, ev->stream),
			ev->u.session.schema_version, HVTRACE_SCHEMA_VERSION_MIN,
			HVTRACE_SCHEMA_VERSION);
		r->failed = 1;
		return -1;
	}
	if (ev->stream >= r->nstreams)
		return 0;
	si = &r->streams[ev->stream];
	v = ev->u.session.schema_version;
	if (v < si->layout_lo || v > si->layout_hi) {
		if (si->layout_lo > si->layout_hi)
			set_err(err, "%s: trace schema version %" PRIu32
				" but its hvtrace events have the fields of different schema versions",
				hvt_reader_stream_name(r, ev->stream), v);
		else
			set_err(err, "%s: trace schema version %" PRIu32
				" but its hvtrace events have the fields of schema v%u",
				hvt_reader_stream_name(r, ev->stream), v,
				v < si->layout_lo ? si->layout_lo : si->layout_hi);
		r->failed = 1;
		return -1;
	}
	return 0;
}

static void no_hvtrace_error(struct hvt_reader *r, struct hvt_err *err)
{
	const char *what = r->npaths == 1 ? r->paths[0] : r->npaths ? "these traces" :
		"the input";

	if (r->ntraces_kvm) {
		kvm_only_error(r, what, err);
		return;
	}
	if (r->other_names[0])
		set_err(err, "%s: no hvtrace events in this trace (it has: %s)",
			what, r->other_names);
	else
		set_err(err, "%s: no hvtrace events in this trace (it defines no events: was lttng-probe-hvtrace loaded and hvtrace_* enabled?)",
			what);
}

/* ---- the fast decoder (ctf_fast.c): begin ------------------------------- */

static pthread_mutex_t open_lock;	/* defined below, with its initializer */

static uint32_t fast_lookup(void *ctx, const char *name)
{
	struct hvt_reader *r = ctx;
	uint32_t i;

	for (i = 0; i < r->nstreams; i++)
		if (r->streams[i].name && !strcmp(r->streams[i].name, name))
			return i;
	return UINT32_MAX;
}

/*
 * libbabeltrace2 has found the traces, checked their metadata and the first
 * session record (peek_start): the fast decoder takes over the reading when
 * it can vouch for every stream; otherwise (a note under -v) libbabeltrace2
 * goes on, or with --decoder fast that is an error.
 */
static int fast_attach(struct hvt_reader *r, unsigned int nparts, struct hvt_err *err)
{
	enum hvt_decoder_mode mode = hvt_decoder_mode();
	const char **prefix = NULL;
	const void **btc = NULL;
	unsigned int threads;
	char why[300] = "";
	size_t k;
	uint32_t i;

	/*
	 * kvm: plain kvm traces use libbabeltrace2; an HVT_READ_KVM reader of
	 * an hvtrace trace (hist's check for kvm traces) gets the fast decoder,
	 * whose threads start only when records are asked for.
	 */
	if (mode == HVT_DECODER_BT2 || !r->ninputs || ((r->flags & HVT_READ_KVM) && r->ntraces_kvm))
		return 0;
	prefix = calloc(r->ninputs, sizeof(*prefix));
	btc = calloc(r->ninputs, sizeof(*btc));
	if (!prefix || !btc) {
		free(prefix);
		free(btc);
		set_err(err, "out of memory");
		return -1;
	}
	for (k = 0; k < r->ninputs; k++) {
		size_t n;

		prefix[k] = r->abs_paths[r->input_trace[k]];
		n = strlen(prefix[k]);
		for (i = 0; i < r->nstreams; i++)
			if (r->streams[i].stream && !strncmp(r->streams[i].name, prefix[k], n) &&
			    r->streams[i].name[n] == '/' &&
			    r->streams[i].trace == (uint32_t)r->input_trace[k]) {
				btc[k] = bt_trace_borrow_class_const(
					bt_stream_borrow_trace_const(r->streams[i].stream));
				break;
			}
	}
	threads = hvt_decoder_threads() / (nparts ? nparts : 1);
	r->fast = hvt_fast_open((const char *const *)r->inputs, prefix, btc, r->ninputs,
				r->flags, threads ? threads : 1, fast_lookup, r, why, sizeof(why));
	free(prefix);
	free(btc);
	if (r->fast) {
		/*
		 * What libbabeltrace2 decoded ahead is read again by the fast
		 * decoder; its graph (and its index of every packet) goes.
		 */
		for (; r->pos < r->n; r->pos++)
			bt_message_put_ref(r->msgs[r->pos]);
		r->pos = r->n = 0;
		for (i = 0; i < r->nstreams; i++)
			r->streams[i].stream = NULL;
		pthread_mutex_lock(&open_lock);
		bt_graph_put_ref(r->graph);
		r->graph = NULL;
		pthread_mutex_unlock(&open_lock);
		if (hvt_decoder_verbose())
			fprintf(stderr, "hvtrace: note: %s: fast decoder, %u thread%s\n",
				r->npaths == 1 ? r->paths[0] : "the traces", threads ? threads : 1,
				threads > 1 ? "s" : "");
		return 0;
	}
	if (mode == HVT_DECODER_FAST) {
		set_err(err, "%s: --decoder fast: the fast decoder cannot read this trace (%s)",
			r->npaths == 1 ? r->paths[0] : "the traces", why);
		return -1;
	}
	if (hvt_decoder_verbose())
		fprintf(stderr, "hvtrace: note: %s: read by libbabeltrace2, not the fast decoder: %s\n",
			r->npaths == 1 ? r->paths[0] : "the traces", why);
	return 0;
}

static int fast_next(struct hvt_reader *r, struct hvt_event *ev, struct hvt_err *err)
{
	int ret = hvt_fast_next(r->fast, ev, err);

	if (ret < 0) {
		r->failed = 1;
		return -1;
	}
	if (ret > 0 && ev->type != HVT_EV_DISCARDED) {
		if (count_in_trace(r, r->streams[ev->stream].trace, ev->type == HVT_EV_SESSION)) {
			set_err(err, "out of memory");
			return -1;
		}
		if (check_session(r, ev, err))
			return -1;
	}
	return ret;
}

/*
 * libbabeltrace2's discovery on a probe: a folder per input with the
 * metadata and the first packet of each stream file (hvt_fast_probe()), so
 * that it neither indexes every packet of a large trace nor holds that index
 * in memory.  Only when the fast decoder may read; if anything about the
 * probe or the fast decoder does not work out, the trace is opened again
 * whole (fast_reopen()).
 */
static _Thread_local int fast_noprobe;
static void remove_tmp_input(const char *dir);

struct fast_probe_state {
	char **probe, **orig, **orig_abs;
	size_t n;
};

static int fast_probe_begin(struct hvt_reader *r, struct fast_probe_state *ps)
{
	const char *tmpdir = getenv("TMPDIR");
	char why[300];
	size_t k;

	memset(ps, 0, sizeof(*ps));
	if (fast_noprobe || hvt_decoder_mode() == HVT_DECODER_BT2 || !r->ninputs ||
	    (r->flags & ~(unsigned int)(HVT_READ_KEYS_ONLY | HVT_READ_NO_XMM | HVT_READ_KVM)))
		return 0;
	ps->probe = calloc(r->ninputs, sizeof(*ps->probe));
	ps->orig = calloc(r->ninputs, sizeof(*ps->orig));
	ps->orig_abs = calloc(r->ninputs, sizeof(*ps->orig_abs));
	if (!ps->probe || !ps->orig || !ps->orig_abs)
		goto fail;
	for (k = 0; k < r->ninputs; k++) {
		char *abs;

		if (asprintf(&ps->probe[k], "%s/hvtrace-probe-XXXXXX",
			     tmpdir && *tmpdir ? tmpdir : "/tmp") < 0) {
			ps->probe[k] = NULL;
			goto fail;
		}
		ps->n = k + 1;
		if (!mkdtemp(ps->probe[k]) ||
		    hvt_fast_probe(r->inputs[k], ps->probe[k], why, sizeof(why)))
			goto fail;
		abs = realpath(ps->probe[k], NULL);
		if (!abs)
			goto fail;
		ps->orig[k] = r->inputs[k];
		ps->orig_abs[k] = r->abs_inputs[k];
		r->inputs[k] = ps->probe[k];
		r->abs_inputs[k] = abs;
	}
	return 1;
fail:
	for (k = 0; k < ps->n; k++) {
		if (ps->orig[k]) {
			free(r->abs_inputs[k]);
			r->inputs[k] = ps->orig[k];
			r->abs_inputs[k] = ps->orig_abs[k];
		}
		if (ps->probe[k])
			remove_tmp_input(ps->probe[k]);
		free(ps->probe[k]);
	}
	free(ps->probe);
	free(ps->orig);
	free(ps->orig_abs);
	memset(ps, 0, sizeof(*ps));
	return 0;
}

/* The real inputs back; the probes removed (libbabeltrace2 may keep them open). */
static void fast_probe_end(struct hvt_reader *r, struct fast_probe_state *ps)
{
	size_t k;

	for (k = 0; k < ps->n; k++) {
		free(r->abs_inputs[k]);
		r->inputs[k] = ps->orig[k];
		r->abs_inputs[k] = ps->orig_abs[k];
		remove_tmp_input(ps->probe[k]);
		free(ps->probe[k]);
	}
	free(ps->probe);
	free(ps->orig);
	free(ps->orig_abs);
	memset(ps, 0, sizeof(*ps));
}

static struct hvt_reader *fast_reopen(const char *const *paths, size_t npaths,
				      unsigned int flags, unsigned int part,
				      unsigned int nparts, struct hvt_err *err)
{
	struct hvt_reader *r;

	fast_noprobe = 1;
	r = hvt_reader_open_part(paths, npaths, flags, part, nparts, err);
	fast_noprobe = 0;
	return r;
}

/* ---- the fast decoder: end ------------------------------------------------ */

int hvt_reader_next(struct hvt_reader *r, struct hvt_event *ev, struct hvt_err *err)
{
	if (r->fast)
		return fast_next(r, ev, err);
	for (;;) {
		const bt_message *m;
		int ret = refill(r, err);

		if (ret <= 0) {
			if (ret == 0 && no_events(r)) {
				no_hvtrace_error(r, err);
				return -1;
			}
			return ret;
		}
		m = r->msgs[r->pos++];
		ret = convert(r, m, ev, err);
		bt_message_put_ref(m);
		if (ret < 0) {
			r->failed = 1;
			return -1;
		}
		if (ret > 0) {
			if (check_session(r, ev, err))
				return -1;
			return 1;
		}
	}
}

/* ---- decoding messages from another graph (the babeltrace2 plugin) ------ */

struct hvt_reader *hvt_decoder_new(unsigned int flags)
{
	struct hvt_reader *r = calloc(1, sizeof(*r));

	if (r) {
		r->flags = flags;
		r->ended = 1;	/* no graph of its own */
	}
	return r;
}

int hvt_decoder_decode(struct hvt_reader *r, const void *msg, struct hvt_event *ev,
		       struct hvt_err *err)
{
	int ret = convert(r, (const bt_message *)msg, ev, err);

	if (ret > 0 && check_session(r, ev, err))
		return -1;
	return ret;
}

int hvt_decoder_finish(struct hvt_reader *r, struct hvt_err *err)
{
	if (no_events(r)) {
		no_hvtrace_error(r, err);
		return -1;
	}
	return 0;
}

/*
 * Look ahead before the first event is returned: stream beginnings come
 * first, so every trace class met before the first event has been checked
 * for hvtrace events, and a first session event for its schema version.
 * Only stream bookkeeping messages are consumed; events stay queued.
 */
static int peek_start(struct hvt_reader *r, struct hvt_err *err)
{
	for (;;) {
		const bt_message *m;
		bt_message_type t;
		int ret = refill(r, err);

		if (ret < 0)
			return -1;
		if (ret == 0)
			break;
		m = r->msgs[r->pos];
		t = bt_message_get_type(m);
		if (t == BT_MESSAGE_TYPE_EVENT || t == BT_MESSAGE_TYPE_DISCARDED_EVENTS ||
		    t == BT_MESSAGE_TYPE_DISCARDED_PACKETS)
			break;
		if (t == BT_MESSAGE_TYPE_STREAM_BEGINNING &&
		    add_stream(r, bt_message_stream_beginning_borrow_stream_const(m)) ==
		    UINT32_MAX) {
			set_err(err, "out of memory");
			return -1;
		}
		r->pos++;
		bt_message_put_ref(m);
	}
	if (no_events(r)) {
		no_hvtrace_error(r, err);
		return -1;
	}
	/* Schema version of a leading session event. */
	if (r->pos < r->n && bt_message_get_type(r->msgs[r->pos]) == BT_MESSAGE_TYPE_EVENT) {
		const bt_event *e = bt_message_event_borrow_event_const(r->msgs[r->pos]);
		struct ev_class *c = get_class(r, bt_event_borrow_class_const(e), err);

		if (!c)
			return -1;
		if (c->schema && c->schema->type == HVT_EV_SESSION) {
			struct hvt_event *ev = malloc(sizeof(*ev));
			int bad;

			if (!ev) {
				set_err(err, "out of memory");
				return -1;
			}
			ev->type = HVT_EV_SESSION;
			ev->stream = add_stream(r, bt_event_borrow_stream_const(e));
			memset(&ev->u.session, 0, sizeof(ev->u.session));
			bad = ev->stream == UINT32_MAX ? (set_err(err, "out of memory"), -1) :
			      decode_payload(r, ev->stream, c,
					     bt_event_borrow_payload_field_const(e),
					     &ev->u.session, err);
			if (!bad)
				bad = check_session(r, ev, err);
			free(ev);
			if (bad)
				return -1;
		}
	}
	return 0;
}

/* ---- inputs and parts ---------------------------------------------------- */

/*
 * Stream files of one trace folder that belong to one stream: LTTng names
 * them CHANNEL_CPU, and CHANNEL_CPU_N when it rotates trace files, so a
 * trailing _N is dropped when what is left still ends in _DIGITS.
 */
static void group_key(const char *file, char *key, size_t len)
{
	const char *u = strrchr(file, '_'), *v, *p;

	snprintf(key, len, "%s", file);
	if (!u || !u[1])
		return;
	for (p = u + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return;
	for (v = u - 1; v > file && *v >= '0' && *v <= '9'; v--)
		;
	if (v < u - 1 && *v == '_' && (size_t)(u - file) < len)
		key[u - file] = '\0';
}

struct sgroup {
	size_t trace;
	char key[256];
	uint64_t size;
	unsigned int part;
};

struct sfile {
	size_t group;
	char *name;
};

struct plan {
	struct sgroup *groups;
	size_t ngroups;
	struct sfile *files;
	size_t nfiles;
};

static void plan_free(struct plan *pl)
{
	size_t i;

	for (i = 0; i < pl->nfiles; i++)
		free(pl->files[i].name);
	free(pl->files);
	free(pl->groups);
	memset(pl, 0, sizeof(*pl));
}

static int cmp_sfile(const void *a, const void *b)
{
	return strcmp(((const struct sfile *)a)->name, ((const struct sfile *)b)->name);
}

/* The data stream files of every trace, grouped by stream. */
static int plan_files(struct hvt_reader *r, struct plan *pl)
{
	size_t t, f, g;

	for (t = 0; t < r->npaths; t++) {
		DIR *d = opendir(r->paths[t]);
		struct dirent *de;
		size_t first = pl->nfiles;

		if (!d)
			return -1;
		while ((de = readdir(d))) {
			char p[PATH_MAX];
			struct stat st;
			struct sfile *nf;

			if (de->d_name[0] == '.' || !strcmp(de->d_name, "metadata"))
				continue;
			if (snprintf(p, sizeof(p), "%s/%s", r->paths[t], de->d_name) >=
			    (int)sizeof(p) || stat(p, &st) || !S_ISREG(st.st_mode))
				continue;
			nf = realloc(pl->files, (pl->nfiles + 1) * sizeof(*nf));
			if (!nf) {
				closedir(d);
				return -1;
			}
			pl->files = nf;
			nf[pl->nfiles].name = strdup(de->d_name);
			nf[pl->nfiles].group = 0;	/* set below */
			if (!nf[pl->nfiles].name) {
				closedir(d);
				return -1;
			}
			pl->nfiles++;
		}
		closedir(d);
		if (pl->nfiles > first)
			qsort(pl->files + first, pl->nfiles - first, sizeof(*pl->files),
			      cmp_sfile);
		for (f = first; f < pl->nfiles; f++) {
			char key[256], p[PATH_MAX];
			struct stat st;
			struct sgroup *ng;

			group_key(pl->files[f].name, key, sizeof(key));
			for (g = 0; g < pl->ngroups; g++)
				if (pl->groups[g].trace == t && !strcmp(pl->groups[g].key, key))
					break;
			if (g == pl->ngroups) {
				ng = realloc(pl->groups, (pl->ngroups + 1) * sizeof(*ng));
				if (!ng)
					return -1;
				pl->groups = ng;
				memset(&ng[g], 0, sizeof(ng[g]));
				ng[g].trace = t;
				snprintf(ng[g].key, sizeof(ng[g].key), "%s", key);
				pl->ngroups++;
			}
			snprintf(p, sizeof(p), "%s/%s", r->paths[t], pl->files[f].name);
			if (!stat(p, &st))
				pl->groups[g].size += (uint64_t)st.st_size;
			pl->files[f].group = g;
		}
	}
	return 0;
}

/* Biggest stream first onto the least loaded part: the same on every part. */
static void plan_assign(struct plan *pl, unsigned int nparts)
{
	uint64_t load[256] = { 0 };
	size_t done, g;

	if (nparts > 256)
		nparts = 256;
	for (g = 0; g < pl->ngroups; g++)
		pl->groups[g].part = UINT32_MAX;
	for (done = 0; done < pl->ngroups; done++) {
		size_t best = SIZE_MAX;
		unsigned int p, least = 0;

		for (g = 0; g < pl->ngroups; g++)
			if (pl->groups[g].part == UINT32_MAX &&
			    (best == SIZE_MAX || pl->groups[g].size > pl->groups[best].size))
				best = g;
		for (p = 1; p < nparts; p++)
			if (load[p] < load[least])
				least = p;
		pl->groups[best].part = least;
		load[least] += pl->groups[best].size + 1;
	}
}

static int add_input(struct hvt_reader *r, const char *dir, size_t trace, int tmp)
{
	size_t n = r->ninputs + 1;
	char **ni = realloc(r->inputs, n * sizeof(*ni));
	char **na;
	size_t *nt;
	int *nk;

	if (!ni)
		return -1;
	r->inputs = ni;
	na = realloc(r->abs_inputs, n * sizeof(*na));
	if (!na)
		return -1;
	r->abs_inputs = na;
	nt = realloc(r->input_trace, n * sizeof(*nt));
	if (!nt)
		return -1;
	r->input_trace = nt;
	nk = realloc(r->input_tmp, n * sizeof(*nk));
	if (!nk)
		return -1;
	r->input_tmp = nk;
	ni[r->ninputs] = strdup(dir);
	na[r->ninputs] = realpath(dir, NULL);
	nt[r->ninputs] = trace;
	nk[r->ninputs] = tmp;
	r->ninputs++;
	return ni[r->ninputs - 1] ? 0 : -1;
}

static int join(char *buf, size_t len, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s/%s", a, b);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* A folder of links: the trace's metadata, index/ and this part's files. */
static int link_part(struct hvt_reader *r, const struct plan *pl, size_t t,
		     unsigned int part, struct hvt_err *err)
{
	const char *tmpdir = getenv("TMPDIR");
	char dir[PATH_MAX], from[PATH_MAX] = "", to[PATH_MAX] = "";
	const char *abs = r->abs_paths[t];
	size_t f, used = 0;
	struct stat st;

	for (f = 0; f < pl->nfiles; f++)
		used += pl->groups[pl->files[f].group].trace == t &&
			pl->groups[pl->files[f].group].part == part;
	if (!used)
		return 0;
	snprintf(dir, sizeof(dir), "%s/hvtrace-part-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(dir)) {
		set_err(err, "cannot create a folder for a parallel read: %s", strerror(errno));
		return -1;
	}
	if (add_input(r, dir, t, 1)) {
		set_err(err, "out of memory");
		return -1;
	}
	if (join(from, sizeof(from), abs, "metadata") || join(to, sizeof(to), dir, "metadata") ||
	    symlink(from, to))
		goto fail;
	if (join(from, sizeof(from), abs, "index"))
		goto fail;
	if (!stat(from, &st) && S_ISDIR(st.st_mode)) {
		if (join(to, sizeof(to), dir, "index") || symlink(from, to))
			goto fail;
	}
	for (f = 0; f < pl->nfiles; f++) {
		const struct sgroup *g = &pl->groups[pl->files[f].group];

		if (g->trace != t || g->part != part)
			continue;
		if (join(from, sizeof(from), abs, pl->files[f].name) ||
		    join(to, sizeof(to), dir, pl->files[f].name) || symlink(from, to))
			goto fail;
	}
	return 0;
fail:
	set_err(err, "cannot link %s into %s: %s", from, dir, strerror(errno));
	return -1;
}

static void remove_tmp_input(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char p[PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) < (int)sizeof(p))
			unlink(p);	/* only links live here */
	}
	closedir(d);
	rmdir(dir);
}

/* Discovery of the trace folders below each path (the same for every part). */
static int find_inputs(struct hvt_reader *r, const char *const *paths, size_t npaths,
		       struct hvt_err *err)
{
	size_t i;

	if (!npaths) {
		set_err(err, "no trace given");
		return -1;
	}
	for (i = 0; i < npaths; i++) {
		struct stat st;
		size_t before = r->npaths;

		if (stat(paths[i], &st)) {
			set_err(err, "%s: %s", paths[i], strerror(errno));
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			set_err(err, "%s: not a trace folder (give the folder that holds the CTF 'metadata' file, or a folder above it)",
				paths[i]);
			return -1;
		}
		if (find_traces(r, paths[i], 0)) {
			set_err(err, "out of memory");
			return -1;
		}
		if (r->npaths == before) {
			set_err(err, "%s: not a CTF trace (no 'metadata' file in it or below it)",
				paths[i]);
			return -1;
		}
	}
	r->abs_paths = calloc(r->npaths, sizeof(*r->abs_paths));
	if (!r->abs_paths) {
		set_err(err, "out of memory");
		return -1;
	}
	for (i = 0; i < r->npaths; i++) {
		size_t j;

		r->abs_paths[i] = realpath(r->paths[i], NULL);
		if (!r->abs_paths[i])
			r->abs_paths[i] = strdup(r->paths[i]);
		if (!r->abs_paths[i]) {
			set_err(err, "out of memory");
			return -1;
		}
		/* The same trace named twice (A A, or A and its parent) is read once. */
		for (j = 0; j < i; j++)
			if (!strcmp(r->abs_paths[j], r->abs_paths[i]))
				break;
		if (j < i) {
			free(r->abs_paths[i]);
			free(r->paths[i]);
			memmove(&r->paths[i], &r->paths[i + 1], (r->npaths - i - 1) * sizeof(char *));
			r->npaths--;
			i--;
		}
	}
	return 0;
}

unsigned int hvt_reader_max_parts(const char *const *paths, size_t npaths)
{
	struct hvt_reader *r = calloc(1, sizeof(*r));
	struct hvt_err err;
	struct plan pl = { 0 };
	unsigned int n = 1;

	if (!r)
		return 1;
	if (!find_inputs(r, paths, npaths, &err) && !plan_files(r, &pl) && pl.ngroups > 1)
		n = pl.ngroups > 256 ? 256 : (unsigned int)pl.ngroups;
	plan_free(&pl);
	hvt_reader_close(r);
	return n;
}

/* libbabeltrace2 objects are not shared between readers, but plugin loading
 * and graph teardown touch library-wide state: one reader at a time there. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

struct hvt_reader *hvt_reader_open_part(const char *const *paths, size_t npaths,
					unsigned int flags, unsigned int part,
					unsigned int nparts, struct hvt_err *err)
{
	struct hvt_reader *r;
	struct fast_probe_state probe;
	size_t i;
	int bad, probing;

	if (!nparts || part >= nparts) {
		set_err(err, "bad part %u of %u", part, nparts);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		set_err(err, "out of memory");
		return NULL;
	}
	r->flags = flags;
	r->guarded = 1;
	hvt_guard_begin(npaths == 1 ? paths[0] : "the traces");
	if (find_inputs(r, paths, npaths, err))
		goto fail;
	/*
	 * Metadata truncated inside a packet makes libbabeltrace2 spin: look
	 * at the packets first (milliseconds), refuse with the reason.
	 */
	for (i = 0; i < r->npaths; i++) {
		char p[PATH_MAX], msg[400];

		if (join(p, sizeof(p), r->paths[i], "metadata") == 0 &&
		    hvt_metadata_check(p, bt_version_get_major() > 2 ||
				       bt_version_get_minor() >= 1, msg, sizeof(msg))) {
			set_err(err, "%s: %s", r->paths[i], msg);
			goto fail;
		}
	}
	if (nparts == 1) {
		for (i = 0; i < r->npaths; i++)
			if (add_input(r, r->paths[i], i, 0)) {
				set_err(err, "out of memory");
				goto fail;
			}
	} else {
		struct plan pl = { 0 };

		if (plan_files(r, &pl)) {
			plan_free(&pl);
			set_err(err, "out of memory");
			goto fail;
		}
		plan_assign(&pl, nparts);
		for (i = 0; i < r->npaths; i++)
			if (link_part(r, &pl, i, part, err)) {
				plan_free(&pl);
				goto fail;
			}
		plan_free(&pl);
		if (!r->ninputs) {
			set_err(err, "part %u of %u has no stream file", part, nparts);
			goto fail;
		}
	}
	r->ntraces_expected = r->ninputs;
	probing = fast_probe_begin(r, &probe);	/* fast decoder */
	pthread_mutex_lock(&open_lock);
	/* source.ctf.fs scans every stream file while it initializes. */
	hvt_guard_step_begin();
	bad = build_graph(r, err);
	hvt_guard_step_end();
	if (!bad)
		bad = peek_start(r, err);
	pthread_mutex_unlock(&open_lock);
	if (probing)
		fast_probe_end(r, &probe);
	if (!bad)
		bad = fast_attach(r, nparts, err);
	if (probing && (bad || !r->fast)) {
		/*
		 * libbabeltrace2 reads it whole, or says what is wrong with it;
		 * the guard stays up from one reader to the next.
		 */
		hvt_guard_begin(npaths == 1 ? paths[0] : "the traces");
		hvt_reader_close(r);
		r = fast_reopen(paths, npaths, flags, part, nparts, err);
		hvt_guard_end();
		return r;
	}
	if (bad)
		goto fail;
	return r;
fail:
	hvt_reader_close(r);
	return NULL;
}

struct hvt_reader *hvt_reader_open(const char *const *paths, size_t npaths,
				   unsigned int flags, struct hvt_err *err)
{
	return hvt_reader_open_part(paths, npaths, flags, 0, 1, err);
}

const char *hvt_reader_stream_name(const struct hvt_reader *r, uint32_t stream)
{
	if (!r || stream >= r->nstreams)
		return "?";
	return r->streams[stream].name;
}

uint32_t hvt_reader_stream_count(const struct hvt_reader *r)
{
	return r ? r->nstreams : 0;
}

uint64_t hvt_reader_other_events(const struct hvt_reader *r)
{
	return r ? r->other_events : 0;
}

uint32_t hvt_reader_stream_trace(const struct hvt_reader *r, uint32_t stream)
{
	return r && stream < r->nstreams ? r->streams[stream].trace : 0;
}

size_t hvt_reader_trace_count(const struct hvt_reader *r)
{
	return r ? r->npaths : 0;
}

const char *hvt_reader_trace_path(const struct hvt_reader *r, size_t i)
{
	return r && i < r->npaths ? r->paths[i] : NULL;
}

void hvt_reader_close(struct hvt_reader *r)
{
	size_t i;

	if (!r)
		return;
	for (; r->pos < r->n; r->pos++)
		bt_message_put_ref(r->msgs[r->pos]);
	free(r->msgs);
	pthread_mutex_lock(&open_lock);
	bt_graph_put_ref(r->graph);
	bt_plugin_put_ref(r->ctf);
	bt_plugin_put_ref(r->utils);
	pthread_mutex_unlock(&open_lock);
	bt_current_thread_clear_error();
	for (i = 0; i < r->ninputs; i++) {
		if (r->input_tmp[i])
			remove_tmp_input(r->inputs[i]);
		free(r->inputs[i]);
		free(r->abs_inputs[i]);
	}
	free(r->inputs);
	free(r->abs_inputs);
	free(r->input_trace);
	free(r->input_tmp);
	for (i = 0; i < r->npaths && r->abs_paths; i++)
		free(r->abs_paths[i]);
	free(r->abs_paths);
	for (i = 0; i < r->nstreams; i++)
		free(r->streams[i].name);
	free(r->streams);
	free(r->classes);
	free(r->traces);
	free(r->traces_seen);
	hvt_fast_close(r->fast);
	free(r->tseen);
	for (i = 0; i < r->npaths; i++)
		free(r->paths[i]);
	free(r->paths);
	if (r->guarded)
		hvt_guard_end();
	free(r);
}
