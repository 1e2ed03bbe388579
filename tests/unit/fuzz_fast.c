// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target of the fast decoder (analyzer/ctf_fast.c, ctf_meta.c), built
 * with ASan/UBSan: a deterministic mutation loop over a seed trace's stream
 * file.  Each mutated input is read twice in a child process, with
 * --decoder fast (HVT_DECODER_FAST) and with libbabeltrace2 (bt2); it must
 * never crash or hang, and when the fast decoder reads it (rather than
 * stepping aside) both must return the same records and agree on whether
 * the input is an error.  A second loop mutates the metadata text and
 * parses it with ctf_meta_parse() alone (the parser must refuse cleanly).
 *
 * usage: fuzz_fast_mut [ITERATIONS] [METADATA-ITERATIONS]
 * HVT_FUZZ_TRACE names a folder holding "metadata" and "channel0_0".
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "decode/ctf_fast.h"
#include "decode/ctf_meta.h"
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

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n * 2 + 1024);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* FNV-1a over the meaningful bytes of a record (fields, not padding). */
static uint64_t h_bytes(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

#define H_FIELD(type, name) h = h_bytes(h, &R->name, sizeof(R->name));
#define H_ARRAY(type, name, n) h = h_bytes(h, R->name, sizeof(R->name));
#define H_TEXT(name, n) h = h_bytes(h, R->name, sizeof(R->name));
#define H_SEQ(type, name, ltype, max) \
	h = h_bytes(h, &R->name##_len, sizeof(R->name##_len)); \
	h = h_bytes(h, R->name, sizeof(R->name));

static uint64_t h_event(uint64_t h, const struct hvt_event *ev)
{
	h = h_bytes(h, &ev->type, sizeof(ev->type));
	h = h_bytes(h, &ev->stream, sizeof(ev->stream));
	h = h_bytes(h, &ev->ts_ns, sizeof(ev->ts_ns));
	switch (ev->type) {
	case HVT_EV_EXIT: {
		const struct hvtrace_exit_rec *R = &ev->u.exit;

		HVTRACE_EXIT_FIELDS(H_FIELD, H_FIELD, H_ARRAY, H_TEXT, H_SEQ)
		break;
	}
	case HVT_EV_RESUME: {
		const struct hvtrace_resume_rec *R = &ev->u.resume;

		HVTRACE_RESUME_FIELDS(H_FIELD, H_FIELD, H_ARRAY, H_TEXT, H_SEQ)
		break;
	}
	case HVT_EV_SESSION: {
		const struct hvtrace_session_rec *R = &ev->u.session;

		HVTRACE_SESSION_FIELDS(H_FIELD, H_FIELD, H_ARRAY, H_TEXT, H_SEQ)
		break;
	}
	default:
		h = h_bytes(h, &ev->u.discarded, sizeof(ev->u.discarded));
		break;
	}
	return h;
}

struct result {
	long n;			/* records returned */
	uint64_t hash;
	int error;		/* ended in an error */
	int stepped_aside;	/* fast: did not read it */
};

static void read_all(struct result *res)
{
	const char *p = dir;
	struct hvt_err err = { { 0 } };
	struct hvt_reader *r;
	struct hvt_event ev;
	int rc;

	memset(res, 0, sizeof(*res));
	res->hash = 0xcbf29ce484222325ull;
	r = hvt_reader_open(&p, 1, 0, &err);
	if (!r) {
		if (!err.msg[0] || strchr(err.msg, '\n'))
			abort();
		res->error = 1;
		res->stepped_aside = strstr(err.msg, "--decoder fast") != NULL;
		return;
	}
	while ((rc = hvt_reader_next(r, &ev, &err)) > 0) {
		res->n++;
		res->hash = h_event(res->hash, &ev);
		if (ev.stream >= hvt_reader_stream_count(r))
			abort();
	}
	if (rc < 0 && (!err.msg[0] || strchr(err.msg, '\n')))
		abort();
	res->error = rc < 0;
	hvt_reader_close(r);
}

/*
 * One input in a child: 0 same (or the fast decoder stepped aside), 1 the
 * fast decoder disagrees with libbabeltrace2, 2 libbabeltrace2 aborted (the
 * guard's clean error), -1 a crash.
 */
static int run_child(int *aside)
{
	int st, pfd[2];
	pid_t pid;
	char c = 0;

	fflush(stdout);
	fflush(stderr);
	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct result fast, bt2;

		close(pfd[0]);
		hvt_guard_enable();
		hvt_decoder_set(HVT_DECODER_FAST, 2, 0);
		read_all(&fast);
		c = fast.stepped_aside ? 'a' : 'f';
		if (write(pfd[1], &c, 1) != 1)
			_exit(9);
		hvt_decoder_set(HVT_DECODER_BT2, 1, 0);
		read_all(&bt2);
		if (!fast.stepped_aside &&
		    (fast.error != bt2.error || (!bt2.error && (fast.n != bt2.n ||
								fast.hash != bt2.hash)))) {
			fprintf(stderr, "fuzz_fast: fast %ld records%s, bt2 %ld records%s, %s\n",
				fast.n, fast.error ? " then an error" : "", bt2.n,
				bt2.error ? " then an error" : "",
				fast.hash == bt2.hash ? "same records" : "different records");
			_exit(4);
		}
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) == 1)
		*aside = c == 'a';
	close(pfd[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	switch (WEXITSTATUS(st)) {
	case 0:
		return 0;
	case 4:
		return 1;
	case 2:
		return 2;
	default:
		return -1;
	}
}

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* Mostly small damage: the fast decoder's checks are what is exercised. */
static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
	static const uint64_t boundary[] = {
		0, 1, 0x7f, 0x80, 0xff, 0xffff, 0xffffffffull, 0x7fffffffffffffffull,
		UINT64_MAX, 0xc1fc1fc1ull, 8, 0x10000,
	};
	unsigned int k, n = 1 + rnd() % 3;

	for (k = 0; k < n && len; k++) {
		size_t at = rnd() % len;

		/* half the time, hit the first packet's header and context */
		if (rnd() % 2)
			at = rnd() % (len < 128 ? len : 128);
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
			len = at;	/* truncated, as a host that died leaves it */
			break;
		case 4: {
			size_t from = rnd() % len, cnt = 1 + rnd() % 64;

			if (from + cnt > len)
				cnt = len - from;
			if (len + cnt <= cap) {
				uint8_t chunk[64];

				memcpy(chunk, buf + from, cnt);
				memmove(buf + at + cnt, buf + at, len - at);
				memcpy(buf + at, chunk, cnt);
				len += cnt;
			}
			break;
		}
		default:
			memset(buf + at, 0, (len - at) < 16 ? len - at : 16);
			break;
		}
	}
	return len;
}

static int write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	if (size && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* The TSDL parser alone on mutated metadata text. */
static long meta_loop(const char *seed_dir, long iters, long *accepted)
{
	char why[256];
	struct ct_meta *m = ctf_meta_load(seed_dir, why, sizeof(why));
	char path[600];
	size_t len;
	uint8_t *text;
	long i, bad = 0;

	*accepted = 0;
	if (!m) {
		fprintf(stderr, "fuzz_fast: the seed metadata does not parse: %s\n", why);
		return -1;
	}
	ctf_meta_free(m);
	/* a plain-text copy of the metadata (sink.ctf.fs writes plain text) */
	snprintf(path, sizeof(path), "%s/metadata", seed_dir);
	text = slurp(path, &len);
	if (!text)
		return -1;
	for (i = 0; i < iters; i++) {
		uint8_t *b = malloc(len * 2 + 1024);
		size_t n;

		if (!b)
			break;
		memcpy(b, text, len);
		n = mutate(b, len, len * 2 + 1024);
		/* also aim past the header, where the types are */
		if (len > 200 && rnd() % 2)
			b[200 + rnd() % (len - 200)] = "{}[];:=<>.,_ 0x9az\""[rnd() % 19];
		why[0] = '\0';
		m = ctf_meta_parse((const char *)b, n, why, sizeof(why));
		if (m) {
			(*accepted)++;
			ctf_meta_free(m);
		} else if (!why[0] || strchr(why, '\n')) {
			fprintf(stderr, "fuzz_fast: metadata mutation %ld: unclean refusal '%s'\n", i, why);
			bad++;
		}
		free(b);
	}
	free(text);
	return bad;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 200;
	long miters = argc > 2 ? strtol(argv[2], NULL, 10) : 2000;
	const char *seed = getenv("HVT_FUZZ_TRACE");
	char from[600], to[600];
	long i, same = 0, aside = 0, aborts = 0, differ = 0, crashes = 0, acc = 0, mbad;
	uint8_t *orig, *buf;
	size_t len;

	if (!seed) {
		fprintf(stderr, "fuzz_fast: set HVT_FUZZ_TRACE to a trace folder (metadata + channel0_0)\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/hvt-fuzzfast-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(from, sizeof(from), "%s/metadata", seed);
	snprintf(to, sizeof(to), "%s/metadata", dir);
	snprintf(stream_path, sizeof(stream_path), "%s/channel0_0", dir);
	snprintf(from, sizeof(from), "%s/channel0_0", seed);
	orig = slurp(from, &len);
	snprintf(from, sizeof(from), "%s/metadata", seed);
	if (!orig || copy_file(from, to)) {
		fprintf(stderr, "fuzz_fast: cannot read the seed trace %s\n", seed);
		return 2;
	}
	buf = malloc(len * 2 + 1024);
	if (!buf)
		return 2;
	for (i = 0; i < iters; i++) {
		size_t n;
		int st_aside = 0, r;

		memcpy(buf, orig, len);
		n = i ? mutate(buf, len, len * 2 + 1024) : len;
		if (write_file(stream_path, buf, n))
			return 2;
		r = run_child(&st_aside);
		if (r == 0 && !st_aside)
			same++;
		else if (r == 0)
			aside++;
		else if (r == 1)
			differ++;
		else if (r == 2)
			aborts++;
		else
			crashes++;
		if (r == 1 || r < 0) {
			char keep[700];

			snprintf(keep, sizeof(keep), "%s/failing-%ld", dir, i);
			write_file(keep, buf, n);
			fprintf(stderr, "fuzz_fast: input %ld: %s (kept as %s)\n", i,
				r < 0 ? "CRASH" : "decoders differ", keep);
		}
	}
	mbad = meta_loop(seed, miters, &acc);
	printf("fuzz_fast: %ld inputs: %ld read alike by both decoders, %ld handed to libbabeltrace2, %ld libbabeltrace2 aborts, %ld differ, %ld crashes; metadata: %ld mutations, %ld parsed, %ld unclean refusals\n",
	       iters, same, aside, aborts, differ, crashes, miters, acc, mbad < 0 ? 1 : mbad);
	if (!differ && !crashes && mbad == 0) {
		unlink(stream_path);
		unlink(to);
		rmdir(dir);
	}
	return differ || crashes || mbad ? 1 : 0;
}
