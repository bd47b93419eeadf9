// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bench's reference conntrack follower: the least an XDP program can do
 * to forward a packet of an established conntrack entry with its NAT. It is
 * the yardstick for xdpctl's conntrack fast path in tests/bench/prog_cost
 * (issue 14: the full-featured path against a minimal single-purpose one).
 *
 * IPv4/UDP only, no options, no VLAN: one bpf_xdp_ct_lookup, the status
 * bits a follower must check (confirmed, reply seen, not dying), the NAT as
 * the inverse of the entry's other tuple, TTL - 1, incremental checksums,
 * constant MACs, a devmap redirect. What it leaves out and xdpctl does: the
 * container table lookup, TCP state, timeout refresh, the source checks,
 * counters, flows, trace and capture, IPv6.
 */
#define XDPCTL_CT_NO_MAPS 1
#include "lib/compat.h"
#include "lib/ct.h"

/* Set by prog_cost before load: the frame's first 12 bytes as three words. */
const volatile __u32 ref_macs[3];

/* key and value: the container's host veth ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} ref_ct_devmap SEC(".maps");

const volatile __u32 ref_ct_target;

/* RFC 1624 incremental update of a one's complement sum, a 32-bit field changed. */
static __always_inline __u16 csum_upd32(__u16 check, __u32 from, __u32 to)
{
	__u32 c = (__u16)~check;

	c += (__u16)~(from & 0xffff);
	c += (__u16)~(from >> 16);
	c += to & 0xffff;
	c += to >> 16;
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	return (__u16)~c;
}

static __always_inline __u16 csum_upd16(__u16 check, __u16 from, __u16 to)
{
	__u32 c = (__u16)~check;

	c += (__u16)~from;
	c += to;
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	return (__u16)~c;
}

SEC("xdp")
int ref_ct(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_ct_opts___local o = { .netns_id = -1, .l4proto = IPPROTO_UDP };
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = (void *)(ip + 1);
	struct nf_conntrack_tuple___local *other;
	struct nf_conn___local *c;
	struct ct_tuple t = {};
	__u32 *macs = data;
	__be32 saddr, daddr;
	__be16 sport, dport;
	struct nf_conn *ct;
	unsigned long status;
	__u16 ttl_old, ttl_new;

	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_UDP ||
	    (ip->frag_off & bpf_htons(0x3fff)) || ip->ttl <= 1)
		return XDP_PASS;
	t.v4.saddr = ip->saddr;
	t.v4.daddr = ip->daddr;
	t.v4.sport = udp->source;
	t.v4.dport = udp->dest;
	ct = bpf_xdp_ct_lookup(ctx, (struct bpf_sock_tuple *)&t, 12, &o, XDPCTL_CT_OPTS_SZ);
	if (!ct)
		return XDP_PASS;
	c = (void *)ct;
	status = c->status;
	if ((status & (XDPCTL_IPS_CONFIRMED | XDPCTL_IPS_SEEN_REPLY)) !=
		    (XDPCTL_IPS_CONFIRMED | XDPCTL_IPS_SEEN_REPLY) ||
	    (status & XDPCTL_IPS_DYING)) {
		bpf_ct_release(ct);
		return XDP_PASS;
	}
	/* The packet leaves as the inverse of the other direction's tuple. */
	if (o.dir)
		other = &c->tuplehash[0].tuple;
	else
		other = &c->tuplehash[1].tuple;
	saddr = other->dst.u3.ip;
	daddr = other->src.u3.ip;
	sport = other->dst.u.all;
	dport = other->src.u.all;
	bpf_ct_release(ct);

	if (udp->check) {
		__u16 k = udp->check;

		k = csum_upd32(k, ip->saddr, saddr);
		k = csum_upd32(k, ip->daddr, daddr);
		k = csum_upd16(k, udp->source, sport);
		k = csum_upd16(k, udp->dest, dport);
		udp->check = k ? k : 0xffff;
	}
	ip->check = csum_upd32(ip->check, ip->saddr, saddr);
	ip->check = csum_upd32(ip->check, ip->daddr, daddr);
	ip->saddr = saddr;
	ip->daddr = daddr;
	udp->source = sport;
	udp->dest = dport;
	/* TTL - 1: the 16-bit word TTL shares with the protocol. */
	ttl_old = *(__u16 *)&ip->ttl;
	ip->ttl--;
	ttl_new = *(__u16 *)&ip->ttl;
	ip->check = csum_upd16(ip->check, ttl_old, ttl_new);
	macs[0] = ref_macs[0];
	macs[1] = ref_macs[1];
	macs[2] = ref_macs[2];
	return bpf_redirect_map(&ref_ct_devmap, ref_ct_target, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
