/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A quick look at a CTF trace's "metadata" file before libbabeltrace2 parses
 * it.  libbabeltrace2 2.0 spins (allocating) on a packetized metadata file
 * truncated inside a packet, which is what a host that died while tracing
 * leaves; this check refuses such a file in milliseconds with a reason a
 * user understands.
 *
 * Packetized metadata (LTTng): each packet starts with a 37-byte header:
 * magic 0x75d11d57 (in the trace's byte order), uuid[16], checksum u32,
 * content_size u32 and packet_size u32 (bits, header included),
 * compression, encryption and checksum schemes u8, major u8, minor u8.
 * Every packet must be whole (the file ends on a packet boundary), its
 * sizes sane (content within packet, packet at least a header), the
 * schemes 0 and the version 1.8.  Plain-text metadata ("/ * CTF 1.8 * /")
 * is left to libbabeltrace2; a CTF 2 metadata stream (JSON text sequence,
 * first byte 0x1e) is named as such.
 */
#ifndef HVT_MDCHECK_H
#define HVT_MDCHECK_H

#include <stddef.h>

/*
 * Check the metadata file at path.  0: fine (or not packetized); -1: msg
 * holds one line saying what is wrong (without the path).  ctf2_ok: the
 * libbabeltrace2 in use reads CTF 2 (2.1 and later), so such metadata
 * passes.
 */
int hvt_metadata_check(const char *path, int ctf2_ok, char *msg, size_t len);

#endif /* HVT_MDCHECK_H */
