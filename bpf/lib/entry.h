/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The steps every program takes on every packet, in one place: the front
 * (count and trace it as received, parse, the L2 filters), answering an
 * echo request, and the verdict's counter and trace event at the end.
 */
#ifndef XDPCTL_ENTRY_H
#define XDPCTL_ENTRY_H

#include "compat.h"
#include "maps.h"
#include "parse.h"
#include "rewrite.h"
#include "stats.h"

/**
 * rx_front - count and trace @p as received, parse it, and apply the L2
 * filters: broadcast/multicast, and (when @mac_filter) a destination MAC
 * other than the device's own, as its xdpctl_ifaces entry says (then
 * *@devp is that entry, or NULL).
 * @len: the whole frame (XDP: data_end - data; tc: skb->len).
 * @return 0 for a parsed unicast IP packet that is ours to look at, else
 * the reason (> 0) to hand it to the stack as it is.
 */
static __always_inline int rx_front(struct pkt *p, void *data, void *data_end, __u32 len,
				    __u32 ifindex, __u8 hook, int trace, int mac_filter,
				    struct xdpctl_iface **devp)
{
	struct xdpctl_iface *dev;
	int ret;

	p->len = len;
	count(hook, XDPCTL_R_RX, len);
	count_size(hook, len);
	if (trace & OBS_TRACE)
		trace_event(p, ifindex, hook, XDPCTL_EV_RX, XDPCTL_R_RX, 0);

	ret = parse_frame(p, data, data_end, len);
	if (ret == -XDPCTL_R_MALFORMED && !p->eth)
		return XDPCTL_R_MALFORMED;
	/* ICMPv6 neighbour discovery (RS, RA, NS, NA, redirect): always the stack's, counted as such. */
	if (!ret && p->ip6 && p->l4proto == IPPROTO_ICMPV6 && p->l4 && p->icmp_type >= 133 &&
	    p->icmp_type <= 137)
		return XDPCTL_R_ND;
	/* L2 filters first: only unicast to this device is ours to touch. */
	if (eth_is_multicast(p->eth))
		return XDPCTL_R_BCAST;
	if (mac_filter) {
		dev = bpf_map_lookup_elem(&xdpctl_ifaces, &ifindex);
		*devp = dev;
		if (dev && !mac_equal(p->eth->h_dest, dev->mac))
			return XDPCTL_R_NOT_US;
	}
	return -ret;
}

/* Answer the echo request in @p in place for ping-pong rule @pp: 0 or a reason > 0. */
static __always_inline int pingpong_answer(struct pkt *p, struct xdpctl_pingpong *pp,
					   __u32 ifindex, __u8 hook, int trace)
{
	if (trace & OBS_TRACE)
		trace_event(p, ifindex, hook, XDPCTL_EV_ICMP_REQ, XDPCTL_R_PINGPONG, 0);
	if (echo_reply(p))
		return XDPCTL_R_MALFORMED;
	pp->packets++;
	pp->bytes += p->len;
	return 0;
}

/*
 * The verdict: its reason counted once. Its trace event and capture come
 * right after, from observe_xdp() / observe_skb() (capture.h).
 */
static __always_inline void rx_verdict(const struct pkt *p, __u32 ifindex, __u8 hook, int trace,
				       __u32 reason, __u32 out_ifindex)
{
	(void)ifindex;
	(void)trace;
	(void)out_ifindex;
	count(hook, reason, p->len);
}

#endif /* XDPCTL_ENTRY_H */
