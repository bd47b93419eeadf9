/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * In-place rewrites shared by XDP and tc, and the rule logic built on them:
 * the ping-pong echo reply, and the checks and rewrite of a bypass hit. All
 * checksums are updated incrementally; the frame keeps its length.
 */
#ifndef XDPCTL_REWRITE_H
#define XDPCTL_REWRITE_H

#include "compat.h"
#include "csum.h"
#include "maps.h"
#include "parse.h"

#define ICMP_ECHO_REQ   8
#define ICMP_ECHO_REPLY 0
#define ICMP6_ECHO_REQ   128
#define ICMP6_ECHO_REPLY 129

static __always_inline void swap_macs(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
}

/* Is @p an echo request (v4 or v6) with its ICMP header in the frame? */
static __always_inline int is_echo_request(const struct pkt *p)
{
	if (p->ip4)
		return p->l4proto == IPPROTO_ICMP && !(p->frag & PKT_FRAG) &&
		       p->l4 && p->icmp_type == ICMP_ECHO_REQ;
	return p->l4proto == IPPROTO_ICMPV6 && p->l4 && p->icmp_type == ICMP6_ECHO_REQ;
}

/*
 * A fragment of what is, or may be, an echo request: a first fragment says
 * its ICMP type, a later IPv4 fragment its protocol; a later IPv6 fragment
 * says neither (the parser stops at the fragment header).
 */
static __always_inline int is_icmp_fragment(const struct pkt *p)
{
	if (!(p->frag & PKT_FRAG))
		return 0;
	if (p->frag & PKT_FRAG_LATE)
		return p->ip6 || p->l4proto == IPPROTO_ICMP;
	if (!p->l4)
		return 0;
	if (p->ip4)
		return p->l4proto == IPPROTO_ICMP && p->icmp_type == ICMP_ECHO_REQ;
	return p->l4proto == IPPROTO_ICMPV6 && p->icmp_type == ICMP6_ECHO_REQ;
}

/**
 * echo_reply - turn the echo request in @p into its reply in place: MACs
 * and addresses swapped, TTL / hop limit reset, type changed, checksums
 * updated incrementally. The caller checked is_echo_request(). Every
 * header is bounds-checked before anything is read or written, so a
 * refusal leaves the frame as it came.
 * @return 0, or -XDPCTL_R_MALFORMED when a header is not readable.
 */
static __always_inline int echo_reply(struct pkt *p)
{
	struct icmphdr *icmp = p->l4;
	struct ethhdr *eth = p->eth;
	struct iphdr *ip = p->ip4;
	struct ipv6hdr *ip6 = p->ip6;
	__u16 old_word, new_word;

	if (!icmp || !eth || (void *)(icmp + 1) > p->data_end || (void *)(eth + 1) > p->data_end)
		return -XDPCTL_R_MALFORMED;
	if (ip) {
		if ((void *)(ip + 1) > p->data_end)
			return -XDPCTL_R_MALFORMED;
	} else if (ip6) {
		if ((void *)(ip6 + 1) > p->data_end)
			return -XDPCTL_R_MALFORMED;
	} else {
		return -XDPCTL_R_MALFORMED;
	}

	swap_macs(eth);
	old_word = *(__u16 *)icmp;
	if (ip) {
		__be32 a = ip->saddr;
		__u16 old_ttl = *(__u16 *)&ip->ttl;

		ip->saddr = ip->daddr;
		ip->daddr = a;
		ip->ttl = XDPCTL_REPLY_TTL;
		csum_replace16(&ip->check, old_ttl, *(__u16 *)&ip->ttl);
		icmp->type = ICMP_ECHO_REPLY;
	} else if (ip6) {
		struct in6_addr a;

		/* Swapping the addresses leaves the pseudo-header sum as it was. */
		a = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = a;
		ip6->hop_limit = XDPCTL_REPLY_TTL;
		icmp->type = ICMP6_ECHO_REPLY;
	}
	new_word = *(__u16 *)icmp;
	csum_replace16(&icmp->checksum, old_word, new_word);
	return 0;
}

/*
 * A source no echo reply may go to (the kernel's martian sources): a group
 * bit in the source MAC, IPv4 0/8, 127/8, 224/4 or 255.255.255.255, IPv6
 * ::, ::1 or ff00::/8. Answering would send a broadcast or multicast reply.
 */
static __always_inline int src_martian(const struct pkt *p)
{
	const __u8 *a = p->src.addr;

	if (p->eth->h_source[0] & 1)
		return 1;
	if (p->src.family == XDPCTL_AF_INET)
		return a[0] == 0 || a[0] == 127 || (a[0] & 0xf0) == 0xe0 ||
		       (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);
	if (a[0] == 0xff)
		return 1;
	{
		__u64 hi, lo;

		__builtin_memcpy(&hi, a, 8);
		__builtin_memcpy(&lo, a + 8, 8);
		/* :: or ::1 (lo in network order: the last byte is 0 or 1) */
		return !hi && (!lo || lo == bpf_cpu_to_be64(1));
	}
}

/**
 * pingpong_match - the ping-pong rule for @p's destination, for @hookbit.
 * @return 1 and *rule when the echo request is to be answered here, 0 when
 * no rule applies, -XDPCTL_R_FRAGMENT for a fragmented echo to a
 * configured address (the stack reassembles and answers it),
 * -XDPCTL_R_MARTIAN for one from a source no reply may go to,
 * -XDPCTL_R_EXT_HDR for an IPv6 one with a live routing header or AH, or
 * -XDPCTL_R_TO_TC at XDP for an echo request that the tc hook answers.
 */
static __always_inline int pingpong_match(struct pkt *p, __u32 hookbit,
					  struct xdpctl_pingpong **rule)
{
	struct xdpctl_pingpong *r;

	if (p->l4proto != IPPROTO_ICMP && p->l4proto != IPPROTO_ICMPV6 &&
	    !(p->frag & PKT_FRAG_LATE))
		return 0;
	r = bpf_map_lookup_elem(&xdpctl_pingpong, &p->dst);
	if (!r)
		return 0;
	if (!(r->hooks & hookbit)) {
		/*
		 * A rule for the tc hook only: XDP leaves the echo request to the
		 * tc program (which answers it) instead of forwarding it by a
		 * bypass rule for the same address.
		 */
		if (hookbit == XDPCTL_HOOKBIT_XDP && (r->hooks & XDPCTL_HOOKBIT_TC) &&
		    !(p->frag & PKT_FRAG) && is_echo_request(p))
			return -XDPCTL_R_TO_TC;
		return 0;
	}
	if (is_icmp_fragment(p))
		return -XDPCTL_R_FRAGMENT;
	if (!is_echo_request(p))
		return 0;
	/* Left to the stack: a reply would be broadcast, or not ours to send. */
	if (src_martian(p))
		return -XDPCTL_R_MARTIAN;
	if (p->v6ext)
		return -XDPCTL_R_EXT_HDR;
	*rule = r;
	return 1;
}

/* TTL or hop limit of @p; 0 when @p has no IP header (never forwarded). */
static __always_inline __u8 pkt_ttl(const struct pkt *p)
{
	if (p->ip4 && (void *)(p->ip4 + 1) <= p->data_end)
		return p->ip4->ttl;
	if (p->ip6 && (void *)(p->ip6 + 1) <= p->data_end)
		return p->ip6->hop_limit;
	return 0;
}

/**
 * bypass_check - may the bypass rule @r forward @p? @extra_tags counts VLAN
 * tags held outside the frame (tc's skb->vlan_present). @gso_size is
 * non-zero for a GRO/GSO packet (tc): it was built from frames that fit
 * the wire and reaches the container whole, so its length is not checked
 * against the MTU (as the kernel's forwarding checks segments, not skbs).
 * @return 0 or the reason to hand the packet to the stack instead.
 */
static __always_inline int bypass_check(const struct pkt *p, const struct xdpctl_bypass *r,
					int extra_tags, __u32 gso_size)
{
	if (p->vlans || extra_tags)
		return -XDPCTL_R_VLAN;
	if (pkt_ttl(p) <= 1)
		return -XDPCTL_R_TTL;
	if (r->mtu && !gso_size && p->l3_len > r->mtu)
		return -XDPCTL_R_TOO_BIG;
	return 0;
}

/*
 * A rule's counters: one value shared by every CPU (abi.h), so atomic
 * adds, in the line the lookup has just read.
 */
static __always_inline void rule_count_in(struct xdpctl_bypass *r, __u32 len)
{
	__sync_fetch_and_add(&r->in_packets, 1);
	__sync_fetch_and_add(&r->in_bytes, len);
}

static __always_inline void rule_count_out(struct xdpctl_bypass *r, __u32 len)
{
	__sync_fetch_and_add(&r->out_packets, 1);
	__sync_fetch_and_add(&r->out_bytes, len);
}

/* Decrement TTL (with the IPv4 header checksum) or the hop limit. */
static __always_inline void ttl_decrement(struct pkt *p)
{
	if (p->ip4) {
		struct iphdr *ip = p->ip4;
		__u16 old;

		if ((void *)(ip + 1) > p->data_end)
			return;
		old = *(__u16 *)&ip->ttl;
		ip->ttl--;
		csum_replace16(&ip->check, old, *(__u16 *)&ip->ttl);
	} else if (p->ip6) {
		if ((void *)(p->ip6 + 1) > p->data_end)
			return;
		p->ip6->hop_limit--;
	}
}

/* The forwarding rewrite: new MACs, one hop less. */
static __always_inline void forward_rewrite(struct pkt *p, const __u8 *dmac, const __u8 *smac)
{
	__builtin_memcpy(p->eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, smac, ETH_ALEN);
	ttl_decrement(p);
}

#endif /* XDPCTL_REWRITE_H */
