// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target of the trace reader: the input is the content of a CTF stream
 * file, read through hvt_reader with the metadata of a real hvtrace trace.
 * Every input must end in a clean result or a clean one-line error: never a
 * crash, a sanitizer report or a hang.
 *
 * Two drivers:
 *   - libFuzzer (clang -fsanitize=fuzzer): LLVMFuzzerTestOneInput below;
 *   - HVT_FUZZ_STANDALONE: a deterministic mutation loop (bit flips, byte
 *     stores, 64-bit stores of boundary values, cuts, chunk duplication) over
 *     the seed stream file, for a bounded number of iterations.
 *
 * HVT_FUZZ_TRACE names a folder holding "metadata" and one stream file
 * "channel0_0" (the seed), e.g. one written by hvtrace-synth.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode/guard.h"
#include "decode/reader.h"

static char dir[512];
static char stream_path[600];

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t n;
	int ret = 0;

	if (!in || !out)
		ret = -1;
	while (!ret && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			ret = -1;
	if (in)
		fclose(in);
	if (out && fclose(out))
		ret = -1;
	return ret;
}

static int setup_dir(void)
{
	const char *seed = getenv("HVT_FUZZ_TRACE");
	char from[600], to[600];

	if (dir[0])
		return 0;
	if (!seed) {
		fprintf(stderr, "fuzz_reader: set HVT_FUZZ_TRACE to a trace folder (metadata + channel0_0)\n");
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/hvt-fuzz-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(from, sizeof(from), "%s/metadata", seed);
	snprintf(to, sizeof(to), "%s/metadata", dir);
	if (copy_file(from, to)) {
		fprintf(stderr, "fuzz_reader: cannot copy %s\n", from);
		return -1;
	}
	snprintf(stream_path, sizeof(stream_path), "%s/channel0_0", dir);
	return 0;
}

/* Read the whole trace; returns the number of events, or -1 for an error. */
static long read_all(void)
{
	const char *p = dir;
	struct hvt_err err = { { 0 } };
	struct hvt_reader *r = hvt_reader_open(&p, 1, 0, &err);
	struct hvt_event ev;
	long n = 0;
	int rc;

	if (!r) {
		if (!err.msg[0] || strchr(err.msg, '\n'))
			abort();	/* an error must say why, in one line */
		return -1;
	}
	while ((rc = hvt_reader_next(r, &ev, &err)) > 0) {
		n++;
		if (ev.type == HVT_EV_RESUME && ev.u.resume.values_len > HVTRACE_CHG_NBITS)
			abort();
		if (ev.stream >= hvt_reader_stream_count(r))
			abort();
	}
	if (rc < 0 && (!err.msg[0] || strchr(err.msg, '\n')))
		abort();
	hvt_reader_close(r);
	return rc < 0 ? -1 : n;
}

static int write_stream(const uint8_t *data, size_t size)
{
	FILE *f = fopen(stream_path, "wb");

	if (!f)
		return -1;
	if (size && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (setup_dir())
		abort();
	if (write_stream(data, size))
		abort();
	read_all();
	return 0;
}

#ifdef HVT_FUZZ_STANDALONE
#include <sys/wait.h>

/*
 * One input in a child process, with the command line's crash guard on:
 * 0 read, 1 clean error, 2 libbabeltrace2 abort turned into a clean error by
 * the guard, -1 a crash (signal, sanitizer report).
 */
static int run_child(void)
{
	int st;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		hvt_guard_enable();
		_exit(read_all() < 0 ? 3 : 0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	switch (WEXITSTATUS(st)) {
	case 0:
		return 0;
	case 3:
		return 1;
	case 2:
		return 2;
	default:
		return -1;
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
	static const uint64_t boundary[] = {
		0, 1, 0x7f, 0x80, 0xff, 0xffff, 0xffffffffull, 0x7fffffffffffffffull,
		UINT64_MAX, 0xc1fc1fc1ull /* CTF packet magic */,
	};
	unsigned int k, n = 1 + rnd() % 4;

	for (k = 0; k < n && len; k++) {
		size_t at = rnd() % len;

		switch (rnd() % 6) {
		case 0:
			buf[at] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:
			buf[at] = (uint8_t)rnd();
			break;
		case 2: {
			uint64_t v = boundary[rnd() % (sizeof(boundary) / sizeof(boundary[0]))];
			size_t w = (size_t)1 << (rnd() % 4);

			if (at + w <= len)
				memcpy(buf + at, &v, w);
			break;
		}
		case 3:
			len = at;	/* cut */
			break;
		case 4: {	/* duplicate a chunk */
			size_t from = rnd() % len, cnt = 1 + rnd() % 256;

			if (from + cnt > len)
				cnt = len - from;
			if (len + cnt <= cap) {
				uint8_t chunk[256];

				memcpy(chunk, buf + from, cnt);
				memmove(buf + at + cnt, buf + at, len - at);
				memcpy(buf + at, chunk, cnt);
				len += cnt;
			}
			break;
		}
		default:	/* zero a run */
			memset(buf + at, 0, (len - at) < 64 ? len - at : 64);
			break;
		}
	}
	return len;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 300;
	uint8_t *seed, *buf;
	size_t seed_len, cap;
	long i, ok = 0, errors = 0, aborts = 0;
	char sp[600];
	FILE *f;

	if (setup_dir())
		return 2;
	snprintf(sp, sizeof(sp), "%s/channel0_0", getenv("HVT_FUZZ_TRACE"));
	f = fopen(sp, "rb");
	if (!f) {
		fprintf(stderr, "fuzz_reader: %s: %s\n", sp, strerror(errno));
		return 2;
	}
	fseek(f, 0, SEEK_END);
	seed_len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	cap = seed_len * 2 + 1024;
	seed = malloc(seed_len + 1);
	buf = malloc(cap);
	if (!seed || !buf || fread(seed, 1, seed_len, f) != seed_len)
		return 2;
	fclose(f);
	if (argc > 2)
		rng_state ^= strtoull(argv[2], NULL, 0);

	/* The seed itself must read cleanly. */
	if (write_stream(seed, seed_len) || read_all() <= 0) {
		fprintf(stderr, "fuzz_reader: the seed trace does not read\n");
		return 2;
	}
	for (i = 0; i < iters; i++) {
		size_t len;

		memcpy(buf, seed, seed_len);
		len = mutate(buf, seed_len, cap);
		if (write_stream(buf, len))
			return 2;
		switch (run_child()) {
		case 0:
			ok++;
			break;
		case 1:
			errors++;
			break;
		case 2:
			aborts++;
			break;
		default: {
			char keep[700];

			snprintf(keep, sizeof(keep), "%s.crash-%ld", getenv("HVT_FUZZ_TRACE"), i);
			rename(stream_path, keep);
			fprintf(stderr, "fuzz_reader: input %ld crashed the reader (kept as %s)\n",
				i, keep);
			return 1;
		}
		}
	}
	printf("fuzz_reader: %ld mutated inputs: %ld read, %ld clean errors"
	       " (%ld libbabeltrace2 aborts caught by the guard), no crash\n",
	       iters, ok, errors + aborts, aborts);
	free(seed);
	free(buf);
	unlink(stream_path);
	snprintf(sp, sizeof(sp), "%s/metadata", dir);
	unlink(sp);
	rmdir(dir);
	return 0;
}
#endif
