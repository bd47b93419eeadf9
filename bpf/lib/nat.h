/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Applying the NAT a conntrack entry recorded: new addresses and ports with
 * the IPv4 header and TCP/UDP checksums (pseudo-header included) updated.
 * XDP frames come from a wire with complete checksums: updated in place,
 * incrementally. In tc the skb may carry CHECKSUM_PARTIAL (a container's
 * own stack) or CHECKSUM_COMPLETE (a NIC): the kernel's csum helpers know
 * which and do the right thing, so tc goes through them. Callers forward
 * only untagged frames: L3 starts at ETH_HLEN.
 */
#ifndef XDPCTL_NAT_H
#define XDPCTL_NAT_H

#include "compat.h"
#include "csum.h"
#include "ct.h"
#include "parse.h"

#define NAT_L3_OFF 14 /* ETH_HLEN: untagged frames only */

/* Sum of (~old + new) over @n 16-bit words: what a checksum over them changes by. */
static __always_inline __u32 csum_words_diff(__u32 sum, const void *old, const void *new, int n)
{
	const __u8 *o = old, *w = new;
	__u16 ow, nw;
	int i;

	/* Byte copies: the words may lie at any alignment (struct pkt's addresses). */
#pragma unroll
	for (i = 0; i < 8; i++) {
		if (i >= n)
			break;
		__builtin_memcpy(&ow, o + 2 * i, 2);
		__builtin_memcpy(&nw, w + 2 * i, 2);
		sum += (__u16)~ow;
		sum += nw;
	}
	return sum;
}

/* Apply a diff from csum_words_diff() to the checksum at @check. */
static __always_inline void csum_apply(__u16 *check, __u32 diff)
{
	__u32 sum = (__u16)~*check;

	sum += csum_fold32(diff);
	*check = ~csum_fold32(sum);
}

/**
 * nat_rewrite_direct - rewrite an XDP frame as @nat says: addresses, ports,
 * the IPv4 header checksum and the L4 checksum. @v holds the packet's
 * values (addresses, ports, protocol as parsed); @l3 and @l4 point at its
 * IP and TCP/UDP headers. A UDP/IPv4 checksum of 0 (none) stays 0; a
 * computed 0 becomes 0xffff.
 */
static __always_inline void nat_rewrite_direct(const struct pkt *v, void *l3, void *l4,
					       void *data_end, const struct ct_nat *nat)
{
	int v4 = v->src.family == XDPCTL_AF_INET;
	__u32 pseudo = 0, ports = 0;
	__u16 *l4check = NULL;

	if (!nat->changed)
		return;
	pseudo = csum_words_diff(pseudo, v->src.addr, nat->saddr, v4 ? 2 : 8);
	pseudo = csum_words_diff(pseudo, v->dst.addr, nat->daddr, v4 ? 2 : 8);
	ports = csum_words_diff(ports, &v->sport, &nat->sport, 1);
	ports = csum_words_diff(ports, &v->dport, &nat->dport, 1);

	if (v->l4proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return;
		l4check = (__u16 *)&th->check;
		th->source = nat->sport;
		th->dest = nat->dport;
	} else if (v->l4proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return;
		if (uh->check || !v4)
			l4check = (__u16 *)&uh->check;
		uh->source = nat->sport;
		uh->dest = nat->dport;
	}
	if (l4check) {
		csum_apply(l4check, pseudo + ports);
		if (v->l4proto == IPPROTO_UDP && !*l4check)
			*l4check = 0xffff;
	}

	if (v4) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > data_end)
			return;
		__builtin_memcpy(&ip->saddr, nat->saddr, 4);
		__builtin_memcpy(&ip->daddr, nat->daddr, 4);
		csum_apply((__u16 *)&ip->check, pseudo);
	} else {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			return;
		__builtin_memcpy(&ip6->saddr, nat->saddr, 16);
		__builtin_memcpy(&ip6->daddr, nat->daddr, 16);
	}
}

/*
 * BPF_F_IPV6 of bpf_l4_csum_replace() (uapi, kernel 6.16+): with it the
 * helper leaves a CHECKSUM_COMPLETE skb->csum alone on a pseudo-header
 * change, which is right for IPv6: the new addresses and the new L4
 * checksum cancel out in the packet's sum (IPv4's header checksum is what
 * makes the IPv4 case differ). Without it the helper adds the change to
 * skb->csum, which the receiving stack then finds wrong. Older kernels
 * refuse the flag with -EINVAL; then the call is made without it.
 */
#define XDPCTL_F_CSUM_IPV6 (1ULL << 7)

/* What nat_rewrite_skb() needs, copied out of the parsed packet. */
struct nat_job {
	__u8 osrc[16];   /* the addresses and ports as they are */
	__u8 odst[16];
	__be16 osport;
	__be16 odport;
	struct ct_nat nat;
	__u32 l4_off;    /* from the start of the frame */
	__u8 family;     /* enum xdpctl_family */
	__u8 l4proto;
	__u16 pad;
};
_Static_assert(sizeof(struct nat_job) <= sizeof(((struct ct_scratch *)0)->job), "nat_job fits");

/**
 * nat_rewrite_skb - the NAT rewrite for tc, through the kernel's helpers
 * (which honour the skb's checksum state). A global function: the verifier
 * checks it once, not once per path through the parser. Invalidates every
 * packet pointer of the caller: pkt_reload() afterwards.
 * @return 0 or -1 when a helper failed.
 */
#ifdef XDPCTL_TC_PROG
__attribute__((noinline)) int xdpctl_nat_skb(struct __sk_buff *skb, struct nat_job *j)
{
	__u64 mm, csum_off, l4_off;
	struct ct_nat *nat;
	int err = 0;

	if (!skb || !j)
		return -1;
	nat = &j->nat;
	if (!nat->changed)
		return 0;
	l4_off = j->l4_off & 0xff;
	mm = j->l4proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	csum_off = l4_off + (j->l4proto == IPPROTO_TCP ? 16 : 6);
	if (j->family == XDPCTL_AF_INET) {
		__be32 os, od, ns, nd;

		__builtin_memcpy(&os, j->osrc, 4);
		__builtin_memcpy(&od, j->odst, 4);
		__builtin_memcpy(&ns, nat->saddr, 4);
		__builtin_memcpy(&nd, nat->daddr, 4);
		if (os != ns) {
			err |= bpf_l4_csum_replace(skb, csum_off, os, ns, BPF_F_PSEUDO_HDR | 4 | mm);
			err |= bpf_l3_csum_replace(skb, NAT_L3_OFF + 10, os, ns, 4);
			err |= bpf_skb_store_bytes(skb, NAT_L3_OFF + 12, &ns, 4, 0);
		}
		if (od != nd) {
			err |= bpf_l4_csum_replace(skb, csum_off, od, nd, BPF_F_PSEUDO_HDR | 4 | mm);
			err |= bpf_l3_csum_replace(skb, NAT_L3_OFF + 10, od, nd, 4);
			err |= bpf_skb_store_bytes(skb, NAT_L3_OFF + 16, &nd, 4, 0);
		}
	} else {
		__u64 f = BPF_F_PSEUDO_HDR | mm | XDPCTL_F_CSUM_IPV6;
		__s64 diff;
		long e;

		/* The job lies in map memory: the helpers read it there, nothing is copied. */
		if (addr16_differ(j->osrc, nat->saddr)) {
			diff = bpf_csum_diff((__be32 *)j->osrc, 16, (__be32 *)nat->saddr, 16, 0);
			e = bpf_l4_csum_replace(skb, csum_off, 0, diff, f);
			if (e == -22 /* EINVAL: a kernel without BPF_F_IPV6 */) {
				f &= ~XDPCTL_F_CSUM_IPV6;
				e = bpf_l4_csum_replace(skb, csum_off, 0, diff, f);
			}
			err |= e;
			err |= bpf_skb_store_bytes(skb, NAT_L3_OFF + 8, nat->saddr, 16, 0);
		}
		if (addr16_differ(j->odst, nat->daddr)) {
			diff = bpf_csum_diff((__be32 *)j->odst, 16, (__be32 *)nat->daddr, 16, 0);
			e = bpf_l4_csum_replace(skb, csum_off, 0, diff, f);
			if (e == -22) {
				f &= ~XDPCTL_F_CSUM_IPV6;
				e = bpf_l4_csum_replace(skb, csum_off, 0, diff, f);
			}
			err |= e;
			err |= bpf_skb_store_bytes(skb, NAT_L3_OFF + 24, nat->daddr, 16, 0);
		}
	}
	if (j->osport != nat->sport) {
		err |= bpf_l4_csum_replace(skb, csum_off, j->osport, nat->sport, 2 | mm);
		err |= bpf_skb_store_bytes(skb, l4_off, &nat->sport, 2, 0);
	}
	if (j->odport != nat->dport) {
		err |= bpf_l4_csum_replace(skb, csum_off, j->odport, nat->dport, 2 | mm);
		err |= bpf_skb_store_bytes(skb, l4_off + 2, &nat->dport, 2, 0);
	}
	return err ? -1 : 0;
}

/*
 * hop_csum_skb - the hop limit of an IPv6 skb went from @ttl to @ttl - 1:
 * a CHECKSUM_COMPLETE skb->csum (a NIC's, over the packet from L3) follows,
 * as IPv4's header checksum update keeps the packet's sum for TTL. Other
 * checksum states: nothing to do (the helper refuses, harmlessly).
 */
static __always_inline void hop_csum_skb(struct __sk_buff *skb, __u8 family, __u8 ttl)
{
	__be32 o = bpf_htonl(ttl), n = bpf_htonl((__u8)(ttl - 1));

	if (family != XDPCTL_AF_INET6)
		return;
	/* Byte 7 of the IPv6 header, byte 3 of the word: the same (odd) place in the sum. */
	bpf_csum_update(skb, bpf_csum_diff(&o, 4, &n, 4, 0));
}
#endif /* XDPCTL_TC_PROG */

/**
 * l2_forward_rewrite - after a helper moved packet data: the forwarding
 * rewrite on the untagged frame at @data: new MACs (unless @dmac is NULL:
 * bpf_redirect_neigh() fills them in), one hop less.
 * @return 0, or -1 when the headers are not directly readable.
 */
static __always_inline int l2_forward_rewrite(void *data, void *data_end, __u8 family,
					      const __u8 *dmac, const __u8 *smac)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (family == XDPCTL_AF_INET) {
		struct iphdr *ip = (void *)(eth + 1);
		__u16 old;

		if ((void *)(ip + 1) > data_end)
			return -1;
		old = *(__u16 *)&ip->ttl;
		ip->ttl--;
		csum_replace16(&ip->check, old, *(__u16 *)&ip->ttl);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		ip6->hop_limit--;
	}
	if (dmac) {
		__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
		__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	}
	return 0;
}

#endif /* XDPCTL_NAT_H */
