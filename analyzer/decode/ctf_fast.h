/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fast decoder: reads hvtrace's CTF 1.8 stream files directly, after
 * checking from the metadata (ctf_meta.c, cross-checked against the trace
 * class libbabeltrace2 built) that every type it relies on has the layout
 * it expects.  It sits behind the reader's interface (reader.c opens it once
 * libbabeltrace2 has discovered the traces and checked their metadata);
 * whenever it cannot vouch for a trace it steps aside and libbabeltrace2
 * reads everything, as before.
 *
 * Packets are decoded by a pool of threads (chunks of packets, LTTng index
 * files or a scan of packet headers give their offsets) and handed out in
 * stream order, merged across streams in the order libbabeltrace2's muxer
 * gives (time, then its tie rules).
 */
#ifndef HVT_CTF_FAST_H
#define HVT_CTF_FAST_H

#include <stddef.h>
#include <stdint.h>
#include "decode/reader.h"

enum hvt_decoder_mode { HVT_DECODER_AUTO, HVT_DECODER_BT2, HVT_DECODER_FAST };

/*
 * Process-wide choice (main.c, from --decoder and --decoder-threads):
 * threads 0 = the online CPUs.  verbose: say on stderr when and why the
 * fast decoder steps aside.
 */
void hvt_decoder_set(enum hvt_decoder_mode mode, unsigned int threads, int verbose);
enum hvt_decoder_mode hvt_decoder_mode(void);
unsigned int hvt_decoder_threads(void);
int hvt_decoder_verbose(void);

/* Parse "bt2", "fast" or "auto"; -1 when it is none of them. */
int hvt_decoder_parse(const char *s);

struct hvt_fast;

/*
 * One input folder per trace (or per part of a parallel read): dirs[i] holds
 * "metadata" and the stream files to read; its streams are named
 * name_prefix[i] + "/" + file name (what reader.c names them), and
 * lookup(ctx, name) gives the reader's stream index (UINT32_MAX: unknown,
 * the fast decoder then steps aside).  bt_trace_classes[i] is the
 * const bt_trace_class * libbabeltrace2 built for dirs[i] (NULL: not
 * cross-checked).  nthreads: decoding threads, the caller's included.
 * Returns NULL with why[] set when it steps aside.
 */
struct hvt_fast *hvt_fast_open(const char *const *dirs, const char *const *name_prefix,
			       const void *const *bt_trace_classes, size_t ndirs,
			       unsigned int flags, unsigned int nthreads,
			       uint32_t (*lookup)(void *ctx, const char *name), void *ctx,
			       char *why, size_t whylen);

/*
 * A probe of trace folder dir for libbabeltrace2's discovery: probe_dir (an
 * empty folder) gets a link to the metadata and, for each stream file, a
 * copy of its first packet only, so that libbabeltrace2 checks the metadata,
 * names the streams and reads the first session record without indexing
 * every packet of a large trace.  0 done; -1 (why set) when the fast decoder
 * could not read the first packets (then libbabeltrace2 gets the trace).
 */
int hvt_fast_probe(const char *dir, const char *probe_dir, char *why, size_t whylen);

/* As hvt_reader_next(): 1 an event, 0 the end, -1 an error (err set). */
int hvt_fast_next(struct hvt_fast *f, struct hvt_event *ev, struct hvt_err *err);

void hvt_fast_close(struct hvt_fast *f);

#endif /* HVT_CTF_FAST_H */
