// SPDX-License-Identifier: GPL-2.0
/* The metadata file's packets checked before libbabeltrace2: see mdcheck.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode/mdcheck.h"

#define MD_MAGIC 0x75d11d57u
#define MD_HEADER 37		/* bytes */

static uint32_t get32(const unsigned char *p, int be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] :
		    (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* pread all of len bytes at off; 0, or -1 (errno, or EIO on a short read). */
static int read_at(int fd, unsigned char *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!n) {
			errno = EIO;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int walk(int fd, uint64_t size, int be, char *msg, size_t len)
{
	unsigned char h[MD_HEADER];
	uint64_t off = 0, n = 0;

	while (off < size) {
		uint64_t content, packet, left = size - off;
		uint32_t magic;

		n++;
		if (left < MD_HEADER) {
			snprintf(msg, len, "metadata truncated: packet %" PRIu64 " at byte %" PRIu64
				 " has only %" PRIu64 " of its %d header bytes (the tracer stopped while writing it?)",
				 n, off, left, MD_HEADER);
			return -1;
		}
		if (read_at(fd, h, sizeof(h), (off_t)off)) {
			snprintf(msg, len, "metadata: cannot read: %s", strerror(errno));
			return -1;
		}
		magic = get32(h, be);
		if (magic != MD_MAGIC) {
			snprintf(msg, len, "metadata corrupt: packet %" PRIu64 " at byte %" PRIu64
				 " does not start with the CTF metadata magic 0x75d11d57 (found 0x%08" PRIx32 ")",
				 n, off, magic);
			return -1;
		}
		content = get32(h + 24, be);
		packet = get32(h + 28, be);
		if (packet < 8 * MD_HEADER || packet % 8 || content < 8 * MD_HEADER ||
		    content > packet) {
			snprintf(msg, len, "metadata corrupt: packet %" PRIu64 " at byte %" PRIu64
				 " declares content %" PRIu64 " bits in a packet of %" PRIu64
				 " bits (a packet holds at least its %d-byte header, and its content)",
				 n, off, content, packet, MD_HEADER);
			return -1;
		}
		if (h[32] || h[33] || h[34]) {
			snprintf(msg, len, "metadata packet %" PRIu64 " uses compression, encryption or a checksum (schemes %u, %u, %u): not supported",
				 n, h[32], h[33], h[34]);
			return -1;
		}
		if (h[35] != 1 || h[36] != 8) {
			snprintf(msg, len, "metadata packet %" PRIu64 " is CTF %u.%u: hvtrace reads CTF 1.8",
				 n, h[35], h[36]);
			return -1;
		}
		if (packet / 8 > left) {
			snprintf(msg, len, "metadata truncated: packet %" PRIu64 " at byte %" PRIu64
				 " declares %" PRIu64 " bytes but the file ends %" PRIu64
				 " bytes into it (the tracer stopped while writing it: a host that died while tracing?)",
				 n, off, packet / 8, left);
			return -1;
		}
		off += packet / 8;
	}
	return 0;
}

int hvt_metadata_check(const char *path, int ctf2_ok, char *msg, size_t len)
{
	unsigned char head[4];
	struct stat st;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(msg, len, "metadata: cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		snprintf(msg, len, "metadata: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return 0;	/* let libbabeltrace2 say */
	}
	if (st.st_size == 0) {
		snprintf(msg, len, "metadata is empty (the trace was never written, or the tracer stopped at once)");
		close(fd);
		return -1;
	}
	if (st.st_size < (off_t)sizeof(head)) {
		snprintf(msg, len, "metadata truncated: %lld bytes", (long long)st.st_size);
		close(fd);
		return -1;
	}
	if (read_at(fd, head, sizeof(head), 0)) {
		snprintf(msg, len, "metadata: cannot read: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (get32(head, 0) == MD_MAGIC)
		ret = walk(fd, (uint64_t)st.st_size, 0, msg, len);
	else if (get32(head, 1) == MD_MAGIC)
		ret = walk(fd, (uint64_t)st.st_size, 1, msg, len);
	else if (head[0] == 0x1e && !ctf2_ok) {
		snprintf(msg, len, "metadata is CTF 2 (a JSON text sequence): this libbabeltrace2 (2.0) reads CTF 1.8 traces only (LTTng 2.x writes CTF 1.8)");
		ret = -1;
	} else if (head[0] != 0x1e) {
		/* Plain text: libbabeltrace2 wants the "/" "* CTF 1.8" signature first. */
		unsigned char sig[7];

		if (st.st_size < (off_t)sizeof(sig) || read_at(fd, sig, sizeof(sig), 0) ||
		    memcmp(sig, "/* CTF ", sizeof(sig))) {
			snprintf(msg, len, "metadata is not CTF: neither metadata packets (magic 0x75d11d57) nor text starting with the \"/* CTF 1.8 */\" signature");
			ret = -1;
		}
	}
	close(fd);
	return ret;
}
