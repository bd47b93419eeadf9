/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test packet builder: Ethernet with 0..4 VLAN tags (802.1Q / 802.1ad),
 * IPv4 with options, IPv6 with extension headers (hop-by-hop, destination
 * options, routing, fragment), ICMP/ICMPv6 echo, TCP, UDP. Every checksum
 * is computed from scratch (a full one's complement sum over the header or
 * pseudo-header and payload), independently of bpf/lib/csum.h, so it can
 * serve as the reference the BPF programs' incremental updates are checked
 * against. Plain data in, bytes out; no kernel, no libbpf.
 */
#ifndef XDPCTL_TEST_PKT_H
#define XDPCTL_TEST_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PB_MAX_VLAN    4
#define PB_MAX_EXT     8
#define PB_MAX_PAYLOAD 2048
#define PB_MAX_FRAME   (PB_MAX_PAYLOAD + 256)

/* One VLAN tag; tpid is ETH_P_8021Q or ETH_P_8021AD (host order). */
struct pb_vlan {
	__u16 tpid;
	__u16 tci;
};

/*
 * One IPv6 extension header, in wire order. type is IPPROTO_HOPOPTS,
 * IPPROTO_DSTOPTS, IPPROTO_ROUTING or IPPROTO_FRAGMENT. len8 is the
 * hdrlen field (length in 8-octet units, not counting the first) for the
 * option-style headers, ignored for the fragment header (always 8 bytes,
 * filled from pb_spec.frag_*). Routing headers are type 4 (SRH-like) with
 * segments left 0 (the final destination is the IPv6 destination, which
 * the pseudo-header uses; segleft overrides it) and a zero-filled segment
 * list. IPPROTO_AH (51) is (len8 + 1) * 8 bytes: SPI 0x100, the rest zero.
 */
struct pb_ext {
	__u8 type;
	__u8 len8;
	__u8 segleft;      /* routing header: segments left (0: final destination) */
};

/* Fragment flag for pb_spec.frag_more. */
#define PB_FRAG_MF 1

/*
 * What to build. Addresses and ports in network byte order; every other
 * number in host order. Zeroed fields mean: no VLAN, no options, no
 * extension headers, not a fragment, computed lengths and checksums.
 */
struct pb_spec {
	__u8 dmac[6];
	__u8 smac[6];
	int nvlan;
	struct pb_vlan vlan[PB_MAX_VLAN];
	__u16 ethertype;   /* 0: from family; set for ARP etc. (then raw payload) */

	int family;        /* 4, 6, or 0 for no IP header */
	__u8 src[16];      /* IPv4 in src[0..3] */
	__u8 dst[16];
	__u8 ttl;          /* TTL / hop limit */
	__u8 tos;          /* IPv4 TOS / IPv6 traffic class */
	__u32 flowlabel;   /* IPv6 */
	__u16 ip_id;       /* IPv4 id */
	bool df;           /* IPv4 don't fragment */
	__u8 ip_opts[40];  /* IPv4 options, raw */
	int ip_opts_len;   /* multiple of 4, at most 40 */
	int next_ext;      /* IPv6 extension headers used */
	struct pb_ext ext[PB_MAX_EXT];

	/* Fragmentation: IPv4 header fields, or the IPv6 fragment header. */
	__u16 frag_offset; /* in 8-octet units; > 0: non-first, no L4 header */
	bool frag_more;    /* more fragments follow */
	__u32 frag_id;     /* IPv6 fragment identification */
	bool v4_frag;      /* IPv4: treat as a fragment (MF / offset set) */

	__u8 l4proto;      /* IPPROTO_ICMP, _ICMPV6, _TCP, _UDP, or other (raw) */
	__u8 icmp_type;
	__u8 icmp_code;
	__u16 icmp_id;
	__u16 icmp_seq;
	__be16 sport;
	__be16 dport;
	__u32 tcp_seq;
	__u8 tcp_flags;
	bool udp_nocsum;   /* UDP checksum 0: none (IPv4 only) */

	__u8 payload[PB_MAX_PAYLOAD];
	int payload_len;

	/* Overrides for malformed frames (0: computed). */
	__u16 tot_len;     /* IPv4 total length / IPv6 payload length */
	__u8 ihl;          /* IPv4 header length in words */
	__u8 version;      /* IP version nibble */
};

/**
 * pb_csum_add - add @len bytes at @buf to a 32-bit one's complement sum,
 * 16-bit big-endian words, an odd final byte padded with zero.
 */
__u32 pb_csum_add(__u32 sum, const void *buf, size_t len);

/** pb_csum_finish - fold a sum to 16 bits and invert it (network order). */
__u16 pb_csum_finish(__u32 sum);

/**
 * pb_build - write the frame described by @s into @buf.
 * @return the frame length, or -ENOSPC / -EINVAL.
 */
int pb_build(const struct pb_spec *s, __u8 *buf, size_t cap);

/** pb_addr4 / pb_addr6 - parse a text address into a spec address field. */
int pb_addr4(__u8 out[16], const char *text);
int pb_addr6(__u8 out[16], const char *text);

/**
 * pb_echo_request - fill @s with a plain echo request from @src to @dst
 * (family from the text), TTL 64, 32-byte deterministic payload, between
 * the fixed test MACs PB_MAC_CLIENT -> PB_MAC_HOST.
 * @return 0 or -EINVAL.
 */
int pb_echo_request(struct pb_spec *s, const char *src, const char *dst);

/** pb_udp - like pb_echo_request, but a UDP datagram (ports 4242 -> 53). */
int pb_udp(struct pb_spec *s, const char *src, const char *dst);

/** pb_tcp - like pb_echo_request, but a TCP SYN (ports 4242 -> 80). */
int pb_tcp(struct pb_spec *s, const char *src, const char *dst);

/**
 * pb_spec_echo_reply - the spec of the reply the ping-pong path should make
 * of the request @req: MACs and addresses swapped, TTL / hop limit @ttl,
 * echo reply type; everything else (tags, options, extension headers, id,
 * sequence, payload) unchanged. Checksums come fresh from pb_build.
 */
void pb_spec_echo_reply(const struct pb_spec *req, struct pb_spec *rep, __u8 ttl);

/** pb_hex - hex dump of @len bytes into @out (at most @cap chars, NUL-terminated). */
void pb_hex(const __u8 *buf, size_t len, char *out, size_t cap);

/**
 * pb_first_diff - first offset where @a and @b differ, or -1 when equal
 * (a length difference counts at the shorter length).
 */
int pb_first_diff(const __u8 *a, size_t alen, const __u8 *b, size_t blen);

extern const __u8 PB_MAC_CLIENT[6]; /* 02:00:00:00:00:01 */
extern const __u8 PB_MAC_HOST[6];   /* 02:00:00:00:00:02 */

#endif /* XDPCTL_TEST_PKT_H */
