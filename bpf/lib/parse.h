/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Bounded header parsers over data/data_end, shared by XDP and tc: Ethernet,
 * up to VLAN_MAX_DEPTH tags (802.1Q / 802.1ad), IPv4 with options, IPv6 with
 * a walk of at most IPV6_EXT_MAX_CHAIN - 1 extension headers, ICMP/ICMPv6 and
 * TCP/UDP ports. Each parser checks before it reads and returns 0 or a
 * negative enum xdpctl_reason, never an XDP_* or TC_ACT_* value.
 */
#ifndef XDPCTL_PARSE_H
#define XDPCTL_PARSE_H

#include "compat.h"

struct vlan_tag {
	__be16 tci;
	__be16 proto; /* encapsulated ethertype */
};

/* What the parser learned about one frame. Header pointers point into it. */
struct pkt {
	void *data_end;
	struct ethhdr *eth;
	struct iphdr *ip4;     /* set for IPv4 */
	struct ipv6hdr *ip6;   /* set for IPv6 */
	void *l4;              /* first L4 byte; NULL for a non-first fragment */
	void *l3_end;          /* end of the IP packet: headers must end before it */
	__u32 len;             /* whole frame, bytes (tc: also the non-linear part) */
	__u32 l3_off;          /* offset of the IP header in the frame */
	__u32 l3_len;          /* IP total length (v6: payload + 40) */
	__be16 proto;          /* ethertype after the tags, network order */
	__be16 sport, dport;   /* TCP/UDP ports, network order; else 0 */
	__u8 vlans;            /* tags walked */
	__u8 l4proto;          /* IPPROTO_* of the upper layer; 0 unknown */
	__u8 frag;             /* PKT_FRAG_* */
	__u8 icmp_type;        /* when l4proto is ICMP/ICMPv6 and l4 set */
	__u8 v6ext;            /* PKT_V6_*: extension headers an echo must not see */
	struct xdpctl_addr src, dst;
};

#define PKT_FRAG      1 /* a fragment (first or not) */
#define PKT_FRAG_LATE 2 /* a non-first fragment: no L4 header */

#define PKT_V6_RH_LIVE 1 /* a routing header with segments left: not the final destination */
#define PKT_V6_AH      2 /* an authentication header */

/**
 * parse_eth - Ethernet header and up to VLAN_MAX_DEPTH VLAN tags.
 * @return 0, or -XDPCTL_R_MALFORMED when truncated, -XDPCTL_R_VLAN when
 * more tags than the bound follow. Sets p->eth, p->proto, p->vlans and
 * advances *pos to the L3 header.
 */
static __always_inline int parse_eth(struct pkt *p, void **pos)
{
	struct ethhdr *eth = *pos;
	void *cur;
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > p->data_end)
		return -XDPCTL_R_MALFORMED;
	p->eth = eth;
	proto = eth->h_proto;
	cur = eth + 1;

#pragma unroll
	for (i = 0; i < VLAN_MAX_DEPTH; i++) {
		struct vlan_tag *tag = cur;

		if (proto != BE_ETH_P_8021Q && proto != BE_ETH_P_8021AD)
			break;
		if ((void *)(tag + 1) > p->data_end)
			return -XDPCTL_R_MALFORMED;
		proto = tag->proto;
		cur = tag + 1;
		p->vlans++;
	}
	if (proto == BE_ETH_P_8021Q || proto == BE_ETH_P_8021AD)
		return -XDPCTL_R_VLAN;
	p->proto = proto;
	p->l3_off = sizeof(*eth) + p->vlans * sizeof(struct vlan_tag);
	*pos = cur;
	return 0;
}

/* Copy an IPv4 address (network order) into a zeroed key. */
static __always_inline void addr_v4(struct xdpctl_addr *a, __be32 ip)
{
	__builtin_memset(a, 0, sizeof(*a));
	__builtin_memcpy(a->addr, &ip, 4);
	a->family = XDPCTL_AF_INET;
}

static __always_inline void addr_v6(struct xdpctl_addr *a, const struct in6_addr *ip)
{
	__builtin_memset(a, 0, sizeof(*a));
	__builtin_memcpy(a->addr, ip, 16);
	a->family = XDPCTL_AF_INET6;
}

/**
 * parse_ipv4 - IPv4 header with options.
 * @return 0 or -XDPCTL_R_MALFORMED (truncated, version not 4, IHL < 5,
 * total length shorter than the header or longer than the frame). Sets
 * ip4, l3_len, l4proto, frag, src/dst and advances *pos past the options.
 */
static __always_inline int parse_ipv4(struct pkt *p, void **pos)
{
	struct iphdr *ip = *pos;
	__u32 hlen, tot;

	if ((void *)(ip + 1) > p->data_end)
		return -XDPCTL_R_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return -XDPCTL_R_MALFORMED;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	/*
	 * Lengths are checked against the whole frame, headers against the
	 * directly readable part: in tc a GRO packet is longer than its
	 * linear head.
	 */
	if (tot < hlen || p->l3_off + tot > p->len)
		return -XDPCTL_R_MALFORMED;
	if ((void *)ip + hlen > p->data_end)
		return -XDPCTL_R_MALFORMED;

	p->ip4 = ip;
	p->l3_len = tot;
	p->l3_end = (void *)ip + tot; /* bytes after it are padding, not headers */
	p->l4proto = ip->protocol;
	if (ip->frag_off & (BE_IP_MF | BE_IP_OFFSET))
		p->frag |= PKT_FRAG;
	if (ip->frag_off & BE_IP_OFFSET)
		p->frag |= PKT_FRAG_LATE;
	addr_v4(&p->src, ip->saddr);
	addr_v4(&p->dst, ip->daddr);
	*pos = (void *)ip + hlen;
	return 0;
}

struct ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

/* The first four bytes every routing header type shares (RFC 8200 4.4). */
struct ipv6_rt {
	__u8 nexthdr;
	__u8 hdrlen;
	__u8 type;
	__u8 segleft;
};

struct ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__be32 id;
};

/**
 * parse_ipv6 - IPv6 header, then at most IPV6_EXT_MAX_CHAIN - 1 extension
 * headers (hop-by-hop, routing, fragment, destination options, AH).
 * @return 0 or -XDPCTL_R_MALFORMED (truncated, version not 6, payload
 * longer than the frame, chain longer than the bound). Sets ip6, l3_len,
 * l4proto (0 after a non-first fragment), frag, src/dst; *pos at L4.
 */
static __always_inline int parse_ipv6(struct pkt *p, void **pos)
{
	struct ipv6hdr *ip6 = *pos;
	void *cur;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > p->data_end)
		return -XDPCTL_R_MALFORMED;
	if (ip6->version != 6)
		return -XDPCTL_R_MALFORMED;
	p->l3_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
	if (p->l3_off + p->l3_len > p->len)
		return -XDPCTL_R_MALFORMED;
	p->ip6 = ip6;
	p->l3_end = (void *)ip6 + p->l3_len;
	addr_v6(&p->src, &ip6->saddr);
	addr_v6(&p->dst, &ip6->daddr);
	nh = ip6->nexthdr;
	cur = ip6 + 1;

#pragma unroll
	for (i = 0; i < IPV6_EXT_MAX_CHAIN; i++) {
		struct ipv6_ext *ext = cur;

		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_DSTOPTS:
			if ((void *)(ext + 1) > p->data_end || (void *)(ext + 1) > p->l3_end)
				return -XDPCTL_R_MALFORMED;
			nh = ext->nexthdr;
			cur += (ext->hdrlen + 1) * 8;
			break;
		case IPPROTO_ROUTING: {
			/* At least 8 bytes long: 4 cut short are malformed either way. */
			struct ipv6_rt *rt = cur;

			if ((void *)(rt + 1) > p->data_end || (void *)(rt + 1) > p->l3_end)
				return -XDPCTL_R_MALFORMED;
			if (rt->segleft)
				p->v6ext |= PKT_V6_RH_LIVE;
			nh = rt->nexthdr;
			cur += (rt->hdrlen + 1) * 8;
			break;
		}
		case IPPROTO_AH:
			if ((void *)(ext + 1) > p->data_end || (void *)(ext + 1) > p->l3_end)
				return -XDPCTL_R_MALFORMED;
			p->v6ext |= PKT_V6_AH;
			nh = ext->nexthdr;
			cur += (ext->hdrlen + 2) * 4;
			break;
		case IPPROTO_FRAGMENT: {
			struct ipv6_frag *fh = cur;

			if ((void *)(fh + 1) > p->data_end || (void *)(fh + 1) > p->l3_end)
				return -XDPCTL_R_MALFORMED;
			p->frag |= PKT_FRAG;
			nh = fh->nexthdr;
			cur = fh + 1;
			if (fh->frag_off & bpf_htons(0xfff8)) {
				p->frag |= PKT_FRAG_LATE;
				p->l4proto = 0;
				*pos = cur;
				return 0;
			}
			break;
		}
		default:
			p->l4proto = nh;
			*pos = cur;
			return 0;
		}
		/* The extension header just walked must end inside the packet. */
		if (cur > p->l3_end)
			return -XDPCTL_R_MALFORMED;
	}
	/* Still an extension header after the bound: too deep to own. */
	return -XDPCTL_R_MALFORMED;
}

/**
 * parse_l4 - ICMP/ICMPv6 type or TCP/UDP ports at *pos, when present.
 * @return 0 or -XDPCTL_R_MALFORMED when the header is cut short by the end
 * of the frame or of the IP packet (Ethernet padding is not a header). A non-first
 * fragment has no L4 header: p->l4 stays NULL.
 */
static __always_inline int parse_l4(struct pkt *p, void *pos)
{
	if (p->frag & PKT_FRAG_LATE)
		return 0;

	switch (p->l4proto) {
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		struct icmphdr *icmp = pos; /* type/code/checksum/id/seq: 8 bytes either family */

		if ((void *)(icmp + 1) > p->data_end || (void *)(icmp + 1) > p->l3_end)
			return -XDPCTL_R_MALFORMED;
		p->icmp_type = icmp->type;
		break;
	}
	case IPPROTO_TCP: {
		struct tcphdr *th = pos;

		if ((void *)(th + 1) > p->data_end || (void *)(th + 1) > p->l3_end)
			return -XDPCTL_R_MALFORMED;
		p->sport = th->source;
		p->dport = th->dest;
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = pos;

		if ((void *)(uh + 1) > p->data_end || (void *)(uh + 1) > p->l3_end)
			return -XDPCTL_R_MALFORMED;
		p->sport = uh->source;
		p->dport = uh->dest;
		break;
	}
	default:
		break;
	}
	p->l4 = pos;
	return 0;
}

/**
 * parse_frame - everything above, in order. @frame_len is the whole
 * frame: data_end - data in XDP, skb->len in tc (may exceed the linear part).
 * @return 0 or a negative reason: -XDPCTL_R_MALFORMED, -XDPCTL_R_VLAN,
 * -XDPCTL_R_UNKNOWN_L3 (not IPv4/IPv6, e.g. ARP).
 */
static __always_inline int parse_frame(struct pkt *p, void *data, void *data_end,
				       __u32 frame_len)
{
	void *pos = data;
	int ret;

	p->data_end = data_end;
	p->len = frame_len;
	ret = parse_eth(p, &pos);
	if (ret)
		return ret;
	if (p->proto == BE_ETH_P_IP)
		ret = parse_ipv4(p, &pos);
	else if (p->proto == BE_ETH_P_IPV6)
		ret = parse_ipv6(p, &pos);
	else
		return -XDPCTL_R_UNKNOWN_L3;
	if (ret)
		return ret;
	return parse_l4(p, pos);
}

/* Broadcast or multicast destination (the group bit of the first octet). */
static __always_inline int eth_is_multicast(const struct ethhdr *eth)
{
	return eth->h_dest[0] & 1;
}

/*
 * Compare two MACs by 16-bit words: a MAC in a frame sits at an offset of 2
 * modulo 4 from the (NET_IP_ALIGN) start of the buffer, so a 32-bit load is
 * misaligned, which strict-alignment architectures (and the verifier with
 * BPF_F_STRICT_ALIGNMENT) refuse. Both MACs must be 2-byte aligned.
 */
static __always_inline int mac_equal(const __u8 *a, const __u8 *b)
{
	const __u16 *x = (const __u16 *)a, *y = (const __u16 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]));
}

#endif /* XDPCTL_PARSE_H */
