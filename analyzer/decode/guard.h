/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Crash guard for the command line.  libbabeltrace2 2.0 stops the process
 * with abort() when a corrupt CTF packet breaks one of its internal
 * assertions (found by fuzzing: a packet context whose content or packet
 * size has bit 63 set).  A user must still get one clear line and exit
 * status 2.  While a guard is active, file descriptor 2 is captured; on
 * SIGABRT the handler turns the library's last message into
 * "hvtrace: TRACE: corrupt trace: libbabeltrace2 stopped: ..." on the real
 * stderr and exits with status 2.  When the guard ends normally, whatever
 * was written to stderr meanwhile is passed on unchanged.
 *
 * Only SIGABRT is guarded: sanitizer reports and genuine faults stay loud.
 * Opt-in (hvt_guard_enable()), so programs linking libhvt keep their
 * signal handlers and stderr unless they ask.
 */
#ifndef HVT_GUARD_H
#define HVT_GUARD_H

/* Make every hvt_reader_open() .. hvt_reader_close() span a guarded one. */
void hvt_guard_enable(void);

/*
 * Watchdog around one step of the graph: some corrupt packets (a zero
 * packet size) make libbabeltrace2 loop, allocating without end.  While the
 * guard is active, a step that takes longer than HVT_WATCHDOG_SECONDS
 * (default 10) ends the process with one line and status 2.  Cheap: two
 * relaxed atomic additions per step; a thread looks every 100 ms.
 */
void hvt_guard_step_begin(void);
void hvt_guard_step_end(void);

/* Nesting and threads are counted: the outermost begin/end act. */
void hvt_guard_begin(const char *what);
void hvt_guard_end(void);
int hvt_guard_enabled(void);

/* The real stderr while a guard captures file descriptor 2 (progress lines). */
int hvt_guard_stderr(void);

#endif /* HVT_GUARD_H */
