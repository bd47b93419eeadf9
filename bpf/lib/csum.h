/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Incremental Internet checksum updates (RFC 1624, eqn. 3) on raw packet
 * memory, usable from XDP and tc alike. The values are 16-bit words as they
 * lie in the packet; one's complement arithmetic does not care about byte
 * order as long as old and new words are taken the same way.
 */
#ifndef XDPCTL_CSUM_H
#define XDPCTL_CSUM_H

#include "compat.h"

/* Fold a 32-bit one's complement sum into 16 bits (not inverted). */
static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* *check covers a 16-bit word that changes from old to new: HC' = ~(~HC + ~m + m'). */
static __always_inline void csum_replace16(__u16 *check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~*check;

	sum += (__u16)~old;
	sum += new;
	*check = ~csum_fold32(sum);
}

#endif /* XDPCTL_CSUM_H */
