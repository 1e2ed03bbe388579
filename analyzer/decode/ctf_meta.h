/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CTF 1.8 metadata (TSDL) for the fast decoder (ctf_fast.c): reads the
 * "metadata" file of a trace folder (packetized or plain text), parses the
 * subset of TSDL that LTTng and babeltrace2's sink.ctf.fs write (typealias,
 * integer, enum, string, struct, variant, static and dynamic arrays, named
 * struct/enum/variant declarations, trace/env/clock/stream/event blocks),
 * and gives the type tree.  Anything it does not understand makes
 * ctf_meta_load() fail with a reason: the trace is then read by
 * libbabeltrace2 only.
 */
#ifndef HVT_CTF_META_H
#define HVT_CTF_META_H

#include <stddef.h>
#include <stdint.h>

enum ct_kind { CT_INT, CT_ENUM, CT_STRING, CT_STRUCT, CT_VARIANT, CT_ARRAY, CT_SEQ,
	       CT_FLOAT };

enum ct_bo { CT_BO_NATIVE, CT_BO_LE, CT_BO_BE };

struct ct_type;

struct ct_member {
	char *name;		/* as written, with any leading '_' */
	struct ct_type *type;
};

struct ct_label {
	char *name;
	int64_t lo, hi;		/* inclusive (unsigned values stored as is) */
};

struct ct_type {
	enum ct_kind kind;
	/* CT_INT (and CT_ENUM through base) */
	unsigned int size;	/* bits */
	unsigned int align;	/* bits */
	int is_signed;
	enum ct_bo bo;
	int encoded;		/* encoding UTF8/ASCII: text when in an array */
	char *clock;		/* mapped clock name, or NULL */
	/* CT_ENUM */
	struct ct_type *base;
	struct ct_label *labels;
	size_t nlabels;
	/* CT_STRUCT, CT_VARIANT */
	struct ct_member *members;
	size_t nmembers;
	char *tag;		/* CT_VARIANT: tag field name */
	/* CT_ARRAY, CT_SEQ */
	struct ct_type *elem;
	uint64_t length;	/* CT_ARRAY */
	char *length_name;	/* CT_SEQ: length field name */
};

struct ct_event {
	uint64_t id;
	uint64_t stream_id;
	char *name;
	struct ct_type *context;	/* may be NULL */
	struct ct_type *fields;		/* may be NULL */
};

struct ct_stream {
	uint64_t id;
	int has_id;
	struct ct_type *packet_context;
	struct ct_type *event_header;
	struct ct_type *event_context;
};

struct ct_clock {
	char *name;
	uint64_t freq;
	int64_t offset_s;
	uint64_t offset;	/* cycles */
	unsigned char uuid[16];
	int has_uuid;
};

struct ct_meta {
	enum ct_bo bo;			/* the trace's byte order */
	unsigned char uuid[16];
	int has_uuid;
	unsigned int major, minor;
	struct ct_type *packet_header;	/* may be NULL */
	struct ct_stream *streams;
	size_t nstreams;
	struct ct_event *events;
	size_t nevents;
	struct ct_clock *clocks;
	size_t nclocks;
	char *trace_name;		/* env.trace_name, or NULL */
	char *hostname;			/* env.hostname, or NULL */
	/* every allocation, freed at once */
	void **allocs;
	size_t nallocs, cap_allocs;
};

/*
 * Load and parse DIR/metadata.  Returns NULL with why[] set (one line) when
 * the file cannot be read or holds something this parser does not handle.
 */
struct ct_meta *ctf_meta_load(const char *dir, char *why, size_t whylen);

/* Parse TSDL text (for tests and fuzzing). */
struct ct_meta *ctf_meta_parse(const char *text, size_t len, char *why, size_t whylen);

void ctf_meta_free(struct ct_meta *m);

/* The resolved byte order of an integer: CT_BO_LE or CT_BO_BE. */
enum ct_bo ctf_meta_int_bo(const struct ct_meta *m, const struct ct_type *t);

/* Alignment in bits of any type (structs: the largest of their members). */
unsigned int ctf_meta_align(const struct ct_type *t);

/* The member of a struct named name (a leading '_' ignored on both sides). */
const struct ct_member *ctf_meta_member(const struct ct_type *st, const char *name);

/* A member name as libbabeltrace2 shows it (one leading '_' removed). */
const char *ctf_meta_name(const char *tsdl_name);

#endif /* HVT_CTF_META_H */
