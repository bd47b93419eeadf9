// SPDX-License-Identifier: GPL-2.0-only
/* The XDP program of an uplink: ping-pong with XDP_TX and bypass into a container veth. */
#include "lib/compat.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/rewrite.h"
#include "lib/stats.h"

/*
 * xdpctl_xdp - attached by `xdpctl attach DEV` (engine xdp) to the uplink,
 * at XDP (native or generic). For every frame:
 *   - an ICMP/ICMPv6 echo request for a ping-pong address with the XDP hook
 *     bit is answered in place and leaves by XDP_TX;
 *   - a destination with a bypass rule is rewritten (MACs, TTL) and
 *     redirected through the devmap into the container's host-side veth;
 *   - anything else goes to the stack untouched (XDP_PASS) with its reason
 *     counted: no rule, not our MAC, broadcast, TTL, too big, malformed, ...
 */
SEC("xdp")
int xdpctl_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 ifindex = ctx->ingress_ifindex;
	struct pkt p = {};
	struct xdpctl_iface *dev;
	struct xdpctl_pingpong *pp = NULL;
	struct xdpctl_bypass *rule;
	int trace = trace_enabled();
	int action = XDP_PASS;
	__u32 out_ifindex = 0;
	int reason, ret;

	p.len = data_end - data;
	count(XDPCTL_HOOK_XDP, XDPCTL_R_RX, p.len);
	if (trace)
		trace_event(&p, ifindex, XDPCTL_HOOK_XDP, XDPCTL_EV_RX, XDPCTL_R_RX, 0);

	ret = parse_frame(&p, data, data_end, p.len);
	if (ret == -XDPCTL_R_MALFORMED && !p.eth) {
		reason = XDPCTL_R_MALFORMED;
		goto out;
	}
	/* L2 filters first: only unicast to this device is ours to touch. */
	if (eth_is_multicast(p.eth)) {
		reason = XDPCTL_R_BCAST;
		goto out;
	}
	dev = bpf_map_lookup_elem(&xdpctl_ifaces, &ifindex);
	if (dev && !mac_equal(p.eth->h_dest, dev->mac)) {
		reason = XDPCTL_R_NOT_US;
		goto out;
	}
	if (ret) {
		reason = -ret;
		goto out;
	}

	ret = pingpong_match(&p, XDPCTL_HOOKBIT_XDP, &pp);
	if (ret < 0) {
		reason = -ret;
		goto out;
	}
	if (ret > 0) {
		if (trace)
			trace_event(&p, ifindex, XDPCTL_HOOK_XDP, XDPCTL_EV_ICMP_REQ,
				    XDPCTL_R_PINGPONG, 0);
		echo_reply(&p);
		pp->packets++;
		pp->bytes += p.len;
		reason = XDPCTL_R_PINGPONG;
		action = XDP_TX;
		goto out;
	}

	rule = bpf_map_lookup_elem(&xdpctl_bypass, &p.dst);
	if (!rule) {
		reason = XDPCTL_R_PASS;
		goto out;
	}
	if (dev && (dev->flags & XDPCTL_IF_TCP_TO_TC) && p.l4proto == IPPROTO_TCP) {
		reason = XDPCTL_R_TO_TC;
		goto out;
	}
	ret = bypass_check(&p, rule, 0, 0);
	if (ret) {
		reason = -ret;
		goto out;
	}
	/* Ask for the redirect before rewriting: a missing target leaves the frame as it came. */
	if (bpf_redirect_map(&xdpctl_devmap, rule->ifindex, 0) != XDP_REDIRECT) {
		reason = XDPCTL_R_REDIRECT_ERR;
		goto out;
	}
	forward_rewrite(&p, rule->dmac, rule->smac);
	rule->in_packets++;
	rule->in_bytes += p.len;
	out_ifindex = rule->ifindex;
	reason = XDPCTL_R_BYPASS;
	action = XDP_REDIRECT;

out:
	count(XDPCTL_HOOK_XDP, reason, p.len);
	if (trace)
		trace_event(&p, ifindex, XDPCTL_HOOK_XDP,
			    action == XDP_TX ? XDPCTL_EV_PINGPONG :
			    action == XDP_REDIRECT ? XDPCTL_EV_BYPASS : XDPCTL_EV_PASS,
			    reason, out_ifindex);
	return action;
}

char LICENSE[] SEC("license") = "GPL";
