// SPDX-License-Identifier: GPL-2.0-only
/* The tc programs: uplink ingress (ping-pong, bypass) and the container return path. */
#include "lib/compat.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/rewrite.h"
#include "lib/stats.h"
#include "lib/entry.h"
#include "lib/capture.h"

/* Headers the programs must see in the linear part of the skb. */
#define TC_PULL_LEN 128

/*
 * Make the first TC_PULL_LEN bytes (or the whole packet) directly readable.
 * Only pulls when the linear part is shorter; the caller reloads data pointers.
 */
static __always_inline void tc_linearize(struct __sk_buff *skb)
{
	__u32 want = skb->len < TC_PULL_LEN ? skb->len : TC_PULL_LEN;

	if ((__u32)(skb->data_end - skb->data) < want)
		bpf_skb_pull_data(skb, want);
}

/*
 * xdpctl_tc_in - clsact ingress of an uplink, attached by `xdpctl attach DEV`
 * (engine tc, and beside the XDP program with engine xdp so that ping-pong
 * rules for the tc hook are answered). Echo requests for a ping-pong address
 * with the tc hook bit are answered in place and sent back out of the same
 * device; a destination with a bypass rule is rewritten and handed straight
 * to the container's namespace with bpf_redirect_peer. All else: TC_ACT_OK.
 */
SEC("tc")
int xdpctl_tc_in(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct pkt p = {};
	struct xdpctl_iface *dev;
	struct xdpctl_pingpong *pp = NULL;
	struct xdpctl_bypass *rule;
	int trace = trace_enabled();
	int action = TC_ACT_OK;
	__u32 out_ifindex = 0;
	int reason, ret;
	void *data, *data_end;

	tc_linearize(skb);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	reason = rx_front(&p, data, data_end, skb->len, ifindex, XDPCTL_HOOK_TC_IN, trace, 1,
			  &dev);
	if (reason)
		goto out;

	ret = pingpong_match(&p, XDPCTL_HOOKBIT_TC, &pp);
	if (ret < 0) {
		reason = -ret;
		goto out;
	}
	if (ret > 0) {
		reason = pingpong_answer(&p, pp, ifindex, XDPCTL_HOOK_TC_IN, trace);
		if (reason)
			goto out;
		reason = XDPCTL_R_PINGPONG;
		out_ifindex = ifindex;
		action = bpf_redirect(ifindex, 0);
		goto out;
	}

	rule = bpf_map_lookup_elem(&xdpctl_bypass, &p.dst);
	if (!rule) {
		reason = XDPCTL_R_PASS;
		goto out;
	}
	ret = bypass_check(&p, rule, skb->vlan_present, skb->gso_size);
	if (ret) {
		reason = -ret;
		goto out;
	}
	/*
	 * bpf_redirect_peer() into an ifindex that is gone fails only later, in
	 * the stack, and the packet is lost. A veth's devmap entry (written with
	 * its first rule) goes when the kernel unregisters the device: without
	 * it, hand the packet to the stack as the XDP program does.
	 */
	if (!bpf_map_lookup_elem(&xdpctl_devmap, &rule->ifindex)) {
		reason = XDPCTL_R_REDIRECT_ERR;
		goto out;
	}
	forward_rewrite(&p, rule->dmac, rule->smac);
	rule->in_packets++;
	rule->in_bytes += p.len;
	out_ifindex = rule->ifindex;
	reason = XDPCTL_R_BYPASS;
	action = bpf_redirect_peer(rule->ifindex, 0);

out:
	rx_verdict(&p, ifindex, XDPCTL_HOOK_TC_IN, trace, reason, out_ifindex);
	observe_skb(skb, &p, trace, ifindex, XDPCTL_HOOK_TC_IN, reason, out_ifindex, action);
	return action;
}

/*
 * xdpctl_tc_fwd - clsact ingress of a bypassed container's host-side veth,
 * attached with the first bypass rule for that veth: the return direction,
 * container to the outside world. A packet from a bypass rule's address
 * whose route (bpf_fib_lookup, neighbour resolved) leaves by an attached
 * uplink gets the resolved MACs, one hop less and goes straight out of the
 * uplink; anything else, or any lookup that is not a success, TC_ACT_OK.
 */
SEC("tc")
int xdpctl_tc_fwd(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct bpf_fib_lookup fib = {};
	struct pkt p = {};
	struct xdpctl_iface *out_dev;
	struct xdpctl_bypass *rule;
	int trace = trace_enabled();
	int action = TC_ACT_OK;
	__u32 out_ifindex = 0;
	int reason, ret;
	void *data, *data_end;

	tc_linearize(skb);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	/* No MAC filter: frames from a container are addressed to its gateway. */
	reason = rx_front(&p, data, data_end, skb->len, ifindex, XDPCTL_HOOK_TC_FWD, trace, 0,
			  NULL);
	if (reason)
		goto out;
	rule = bpf_map_lookup_elem(&xdpctl_bypass, &p.src);
	if (!rule) {
		reason = XDPCTL_R_PASS;
		goto out;
	}
	if (p.vlans || skb->vlan_present) {
		reason = XDPCTL_R_VLAN;
		goto out;
	}
	if (pkt_ttl(&p) <= 1) {
		reason = XDPCTL_R_TTL;
		goto out;
	}

	if (p.ip4) {
		fib.family = AF_INET;
		fib.tos = p.ip4->tos;
		fib.ipv4_src = p.ip4->saddr;
		fib.ipv4_dst = p.ip4->daddr;
	} else if (p.ip6) {
		fib.family = AF_INET6;
		fib.flowinfo = *(__be32 *)p.ip6 & bpf_htonl(0x0fffffff);
		__builtin_memcpy(fib.ipv6_src, &p.ip6->saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &p.ip6->daddr, 16);
	}
	fib.l4_protocol = p.l4proto;
	fib.sport = p.sport;
	fib.dport = p.dport;
	/*
	 * The helper checks tot_len against the route's MTU. 0 makes it check
	 * the skb instead: right for GSO (segmented later), but it allows
	 * MTU + 4 bytes (VLAN slack) and counts Ethernet padding.
	 */
	fib.tot_len = skb->gso_size ? 0 : p.l3_len > 0xffff ? 0xffff : p.l3_len;
	fib.ifindex = skb->ingress_ifindex;

	ret = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (ret == BPF_FIB_LKUP_RET_FRAG_NEEDED) {
		reason = XDPCTL_R_TOO_BIG;
		goto out;
	}
	if (ret != BPF_FIB_LKUP_RET_SUCCESS) {
		reason = XDPCTL_R_FIB_MISS;
		goto out;
	}
	out_ifindex = fib.ifindex;
	out_dev = bpf_map_lookup_elem(&xdpctl_ifaces, &out_ifindex);
	if (!out_dev || !(out_dev->flags & XDPCTL_IF_UPLINK)) {
		reason = XDPCTL_R_NOT_UPLINK;
		goto out;
	}

	/* parse_frame's pointers are still valid: no helper above moved data. */
	forward_rewrite(&p, fib.dmac, fib.smac);
	rule->out_packets++;
	rule->out_bytes += p.len;
	reason = XDPCTL_R_BYPASS;
	action = bpf_redirect(out_ifindex, 0);

out:
	rx_verdict(&p, ifindex, XDPCTL_HOOK_TC_FWD, trace, reason, out_ifindex);
	observe_skb(skb, &p, trace, ifindex, XDPCTL_HOOK_TC_FWD, reason, out_ifindex, action);
	return action;
}

char LICENSE[] SEC("license") = "GPL";
