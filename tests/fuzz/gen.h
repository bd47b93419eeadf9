/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Seeded frame generator of the differential test: well-formed frames of
 * every kind the dataplane meets (IPv4/IPv6, ICMP echo and others, TCP,
 * UDP, ARP, other ethertypes, 0-3 VLAN tags, IPv4 options, IPv6 extension
 * chains, fragments, TTL edges, every kind of destination MAC, addresses
 * that hit or miss the rules, sizes around the MTUs) and mutations of them
 * (truncation, sweeps of every truncation, wrong IP lengths, bad IHL and
 * version, byte flips, random bytes, trailing padding). The same seed
 * gives the same frames on every machine.
 */
#ifndef XDPCTL_FUZZ_GEN_H
#define XDPCTL_FUZZ_GEN_H

#include <stdbool.h>
#include <linux/types.h>

#include "abi.h"

#define GEN_MAX_FRAME 2048
#define GEN_MAX_ADDRS 64
#define GEN_MAX_MTUS  4
#define GEN_SWEEP_MAX 160  /* a sweep truncates at every offset below this */

enum gen_kind {
	GEN_K_V4_ECHO = 0,
	GEN_K_V4_ICMP,      /* ICMP other than echo request */
	GEN_K_V4_TCP,
	GEN_K_V4_UDP,
	GEN_K_V4_OTHER,     /* other protocols, ICMPv6 in IPv4 included */
	GEN_K_V6_ECHO,
	GEN_K_V6_ICMP,
	GEN_K_V6_TCP,
	GEN_K_V6_UDP,
	GEN_K_V6_OTHER,
	GEN_K_ARP,
	GEN_K_L2_OTHER,     /* LLDP, MPLS, 802.3 length field, ... */
	GEN_K_RANDOM,       /* random bytes of random length */
	GEN_K_MAX,
};

enum gen_mut {
	GEN_M_NONE = 0,
	GEN_M_TRUNC,        /* cut at a random offset */
	GEN_M_SWEEP,        /* one of the cuts at every offset of a frame */
	GEN_M_LEN_BIG,      /* IPv4 total / IPv6 payload length above the frame */
	GEN_M_LEN_SMALL,    /* ... below what the headers need */
	GEN_M_IHL,          /* random IPv4 header length */
	GEN_M_VERSION,      /* random IP version nibble */
	GEN_M_FLIP,         /* 1-4 random bytes changed */
	GEN_M_RANDOM,       /* a run of random bytes over the headers */
	GEN_M_PAD,          /* random bytes after the IP packet */
	GEN_M_MAX,
};

/* Addresses and sizes worth hitting: the rules and routes of the run. */
struct gen_cfg {
	__u8 mac_ours[6];                    /* the uplink's MAC */
	struct xdpctl_addr dst[GEN_MAX_ADDRS]; /* destinations with a rule or route */
	int ndst;
	struct xdpctl_addr src[GEN_MAX_ADDRS]; /* sources with a bypass rule */
	int nsrc;
	__u16 mtu[GEN_MAX_MTUS];             /* L3 sizes to straddle */
	int nmtu;
};

struct gen_frame {
	__u8 data[GEN_MAX_FRAME];
	__u32 len;
	enum gen_kind kind;
	enum gen_mut mut;
	/*
	 * The uplink's xdpctl_ifaces entry for this frame: 0 none, 1 with
	 * XDPCTL_IF_UPLINK, 2 with XDPCTL_IF_UPLINK | XDPCTL_IF_TCP_TO_TC, 3 with
	 * XDPCTL_IF_UPLINK | XDPCTL_IF_BYPASS_TO_TC.
	 */
	__u8 iface;
	__u64 index;         /* 0, 1, 2, ... in the order generated */
};

struct gen {
	__u64 rng;
	struct gen_cfg cfg;
	__u64 index;
	/* A truncation sweep in progress: base frame and next cut. */
	struct gen_frame sweep;
	__u32 sweep_next;
	__u32 sweep_end;
};

void gen_init(struct gen *g, const struct gen_cfg *cfg, __u64 seed);

/** gen_next - the next frame of the sequence into @f. */
void gen_next(struct gen *g, struct gen_frame *f);

const char *gen_kind_name(unsigned int kind);
const char *gen_mut_name(unsigned int mut);

#endif /* XDPCTL_FUZZ_GEN_H */
