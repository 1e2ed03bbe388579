// SPDX-License-Identifier: GPL-2.0
/*
 * The metadata pre-check (analyzer/mdcheck.c): whole packetized metadata in
 * either byte order passes; a file cut inside a packet or inside a header,
 * a bad magic, impossible sizes, compression, another CTF version, CTF 2
 * and text without the CTF 1.8 signature are refused with a reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "decode/mdcheck.h"

static char path[64];

static void put32(unsigned char *p, uint32_t v, int be)
{
	for (int i = 0; i < 4; i++)
		p[be ? 3 - i : i] = (unsigned char)(v >> (8 * i));
}

/* A metadata packet of `size` bytes holding `content` bytes (header included). */
static size_t packet(unsigned char *buf, uint32_t size, uint32_t content, int be)
{
	memset(buf, ' ', size);
	put32(buf, 0x75d11d57u, be);
	memset(buf + 4, 0xab, 16);		/* uuid */
	put32(buf + 20, 0, be);			/* checksum */
	put32(buf + 24, content * 8, be);
	put32(buf + 28, size * 8, be);
	buf[32] = buf[33] = buf[34] = 0;
	buf[35] = 1;
	buf[36] = 8;
	memcpy(buf + 37, "typealias integer", 17);
	return size;
}

static void write_file(const unsigned char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int check(char *msg, size_t len)
{
	msg[0] = '\0';
	return hvt_metadata_check(path, 0, msg, len);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/hvt-mdcheck-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void test_whole_packets(void **state)
{
	static unsigned char buf[8192];
	char msg[400];
	size_t n;

	(void)state;
	for (int be = 0; be < 2; be++) {
		n = packet(buf, 4096, 4096, be);
		n += packet(buf + n, 4096, 1000, be);
		write_file(buf, n);
		assert_int_equal(check(msg, sizeof(msg)), 0);
	}
}

static void test_truncated(void **state)
{
	static unsigned char buf[8192];
	char msg[400];
	size_t n;

	(void)state;
	n = packet(buf, 4096, 4096, 0);
	n += packet(buf + n, 4096, 4096, 0);
	/* inside the second packet's content */
	write_file(buf, 6000);
	assert_int_equal(check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "metadata truncated: packet 2 at byte 4096"));
	/* inside the second packet's header */
	write_file(buf, 4096 + 20);
	assert_int_equal(check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "has only 20 of its 37 header bytes"));
	/* inside the first packet */
	write_file(buf, 100);
	assert_int_equal(check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "packet 1 at byte 0"));
	/* empty */
	write_file(buf, 0);
	assert_int_equal(check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "empty"));
	(void)n;
}

static void test_bad_headers(void **state)
{
	static unsigned char buf[8192];
	char msg[400];
	size_t n;

	(void)state;
	/* second packet without the magic */
	n = packet(buf, 4096, 4096, 0);
	n += packet(buf + n, 4096, 4096, 0);
	buf[4096] ^= 0xff;
	write_file(buf, n);
	assert_int_equal(check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "does not start with the CTF metadata magic"));
	/* content larger than the packet; a zero packet size (libbabeltrace2 loops) */
	packet(buf, 4096, 4096, 0);
	put32(buf + 24, 5000 * 8, 0);
	write_file(buf, 4096);
	assert_int_equal(check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "declares content"));
	packet(buf, 4096, 4096, 0);
	put32(buf + 28, 0, 0);
	write_file(buf, 4096);
	assert_int_equal(check(msg, sizeof(msg)), -1);
	/* compression, another version */
	packet(buf, 4096, 4096, 0);
	buf[32] = 1;
	write_file(buf, 4096);
	assert_int_equal(check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "compression"));
	packet(buf, 4096, 4096, 0);
	buf[36] = 7;
	write_file(buf, 4096);
	assert_int_equal(check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "CTF 1.7"));
}

static void test_text_and_ctf2(void **state)
{
	static const char good[] = "/* CTF 1.8 */\ntrace { major = 1; };\n";
	static const char bad[] = "this is not TSDL {\n";
	static const char ctf2[] = "\x1e{\"type\":\"preamble\",\"version\":2}\n";
	char msg[400];

	(void)state;
	write_file((const unsigned char *)good, sizeof(good) - 1);
	assert_int_equal(check(msg, sizeof(msg)), 0);
	write_file((const unsigned char *)bad, sizeof(bad) - 1);
	assert_int_equal(check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "not CTF"));
	write_file((const unsigned char *)ctf2, sizeof(ctf2) - 1);
	assert_int_equal(check(msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "CTF 2"));
	/* a libbabeltrace2 that reads CTF 2 gets it */
	assert_int_equal(hvt_metadata_check(path, 1, msg, sizeof(msg)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole_packets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_and_ctf2, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
