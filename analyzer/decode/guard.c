// SPDX-License-Identifier: GPL-2.0
/* Crash guard: see guard.h. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "decode/guard.h"
#include "status.h"

static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static int guard_on;
static int guard_depth;
static int saved_fd = -1, capture_fd = -1;
static char guard_what[512];
static struct sigaction old_abrt;
static unsigned int watchdog_seconds = 10;

void hvt_guard_enable(void)
{
	guard_on = 1;
}

int hvt_guard_enabled(void)
{
	return guard_on;
}

int hvt_guard_stderr(void)
{
	int fd;

	pthread_mutex_lock(&guard_lock);
	fd = capture_fd >= 0 ? saved_fd : 2;
	pthread_mutex_unlock(&guard_lock);
	return fd;
}

static void put(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

#define PUTS(fd, lit) put(fd, lit, sizeof(lit) - 1)

/*
 * The watchdog: steps in progress and a progress count, updated with
 * relaxed atomics (no system call on the hot path); a thread checks them
 * every 100 ms.
 */
static atomic_uint busy;
static atomic_ulong progress;
static pthread_t watchdog;
static pthread_cond_t watchdog_cond = PTHREAD_COND_INITIALIZER;
static int watchdog_stop, watchdog_running;

static void stalled(void)
{
	char num[16];
	int i = (int)sizeof(num);
	unsigned int v = watchdog_seconds;

	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	PUTS(saved_fd, "hvtrace: ");
	put(saved_fd, guard_what, strlen(guard_what));
	PUTS(saved_fd, ": corrupt trace: libbabeltrace2 made no progress for ");
	put(saved_fd, num + i, sizeof(num) - (size_t)i);
	PUTS(saved_fd, " s (set HVT_WATCHDOG_SECONDS to wait longer)\n");
	_exit(HVT_EXIT_ERROR);
}

static void *watchdog_main(void *arg)
{
	unsigned long last = atomic_load_explicit(&progress, memory_order_relaxed);
	unsigned int ticks = 0;

	(void)arg;
	pthread_mutex_lock(&guard_lock);
	while (!watchdog_stop) {
		struct timespec ts;
		unsigned long now;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_nsec -= 1000000000;
			ts.tv_sec++;
		}
		pthread_cond_timedwait(&watchdog_cond, &guard_lock, &ts);
		now = atomic_load_explicit(&progress, memory_order_relaxed);
		if (now != last || !atomic_load_explicit(&busy, memory_order_relaxed)) {
			last = now;
			ticks = 0;
			continue;
		}
		if (++ticks >= 10 * watchdog_seconds)
			stalled();
	}
	pthread_mutex_unlock(&guard_lock);
	return NULL;
}

void hvt_guard_step_begin(void)
{
	atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&busy, 1, memory_order_relaxed);
}

void hvt_guard_step_end(void)
{
	atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&busy, 1, memory_order_relaxed);
}

/* Async-signal-safe: fstat, pread, write, _exit only. */
static void on_abort(int sig)
{
	char buf[4096];
	struct stat st;
	off_t from = 0;
	ssize_t n = 0;
	char *line = NULL, *p, *end;

	(void)sig;
	if (fstat(capture_fd, &st) == 0 && st.st_size > (off_t)sizeof(buf) - 1)
		from = st.st_size - (off_t)sizeof(buf) + 1;
	n = pread(capture_fd, buf, sizeof(buf) - 1, from);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	/* The last line that says something: the library's assertion. */
	for (p = buf; *p; p = end + (*end ? 1 : 0)) {
		end = p;
		while (*end && *end != '\n')
			end++;
		if (end > p)
			line = p;
		if (!*end)
			break;
	}
	PUTS(saved_fd, "hvtrace: ");
	put(saved_fd, guard_what, strlen(guard_what));
	PUTS(saved_fd, ": corrupt trace: libbabeltrace2 stopped");
	if (line) {
		/* Skip the library's decoration up to the message itself. */
		while (*line && *line != '\n' &&
		       !((*line >= 'a' && *line <= 'z') || (*line >= 'A' && *line <= 'Z') ||
			 (*line >= '0' && *line <= '9')))
			line++;
		for (end = line; *end && *end != '\n'; end++)
			if ((unsigned char)*end < 0x20)
				*end = ' ';
		PUTS(saved_fd, ": ");
		put(saved_fd, line, (size_t)(end - line) > 300 ? 300 : (size_t)(end - line));
	}
	PUTS(saved_fd, "\n");
	_exit(HVT_EXIT_ERROR);
}

/*
 * An outermost hvt_guard_end() joins the watchdog without the lock: a
 * begin from another thread (readers of parallel parts) waits until that
 * teardown is over, or the old watchdog could be told to go on and never
 * be joined.
 */
static int guard_teardown;
static pthread_cond_t teardown_cond = PTHREAD_COND_INITIALIZER;

void hvt_guard_begin(const char *what)
{
	struct sigaction sa;

	pthread_mutex_lock(&guard_lock);
	while (guard_teardown)
		pthread_cond_wait(&teardown_cond, &guard_lock);
	if (!guard_on || guard_depth++) {
		pthread_mutex_unlock(&guard_lock);
		return;
	}
	snprintf(guard_what, sizeof(guard_what), "%s", what ? what : "trace");
	fflush(stderr);
	capture_fd = memfd_create("hvtrace-stderr", MFD_CLOEXEC);
	saved_fd = dup(2);
	if (capture_fd < 0 || saved_fd < 0 || dup2(capture_fd, 2) < 0) {
		if (capture_fd >= 0)
			close(capture_fd);
		if (saved_fd >= 0)
			close(saved_fd);
		capture_fd = saved_fd = -1;
		guard_depth = 0;
		pthread_mutex_unlock(&guard_lock);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_abort;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGABRT, &sa, &old_abrt);
	if (getenv("HVT_WATCHDOG_SECONDS")) {
		unsigned long v = strtoul(getenv("HVT_WATCHDOG_SECONDS"), NULL, 10);

		watchdog_seconds = v >= 1 && v <= 86400 ? (unsigned int)v : 10;
	}
	watchdog_stop = 0;
	watchdog_running = !pthread_create(&watchdog, NULL, watchdog_main, NULL);
	pthread_mutex_unlock(&guard_lock);
}

void hvt_guard_end(void)
{
	char buf[8192];
	off_t off = 0;
	ssize_t n;

	pthread_mutex_lock(&guard_lock);
	if (!guard_on || !guard_depth || --guard_depth || capture_fd < 0) {
		pthread_mutex_unlock(&guard_lock);
		return;
	}
	fflush(stderr);
	guard_teardown = 1;
	if (watchdog_running) {
		watchdog_stop = 1;
		pthread_cond_signal(&watchdog_cond);
		pthread_mutex_unlock(&guard_lock);
		pthread_join(watchdog, NULL);
		pthread_mutex_lock(&guard_lock);
		watchdog_running = 0;
	}
	sigaction(SIGABRT, &old_abrt, NULL);
	dup2(saved_fd, 2);
	/*
	 * Pass on what was written meanwhile, minus progress lines (text
	 * after a carriage return that no newline ends): they meant
	 * something only on the terminal, at the time.
	 */
	{
		char line[1024];
		size_t len = 0;
		int cr = 0;
		ssize_t k;

		while ((n = pread(capture_fd, buf, sizeof(buf), off)) > 0) {
			for (k = 0; k < n; k++) {
				char c = buf[k];

				if (c == '\r') {
					cr = 1;
					len = 0;
					continue;
				}
				if (len < sizeof(line))
					line[len++] = c;
				if (c == '\n' || len == sizeof(line)) {
					put(2, line, len);
					len = 0;
					cr = 0;
				}
			}
			off += n;
		}
		if (len && !cr)
			put(2, line, len);
	}
	close(capture_fd);
	close(saved_fd);
	capture_fd = saved_fd = -1;
	guard_teardown = 0;
	pthread_cond_broadcast(&teardown_cond);
	pthread_mutex_unlock(&guard_lock);
}
