// SPDX-License-Identifier: GPL-2.0-only
/* The XDP program of an uplink: ping-pong with XDP_TX and bypass into a container veth. */
#include "lib/compat.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/rewrite.h"
#include "lib/stats.h"
#include "lib/entry.h"
#include "lib/capture.h"

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
	struct xdpctl_iface *dev = NULL;
	struct xdpctl_pingpong *pp = NULL;
	struct xdpctl_bypass *rule;
	int trace = trace_enabled();
	int action = XDP_PASS;
	__u32 out_ifindex = 0;
	int reason, ret;

	reason = rx_front(&p, data, data_end, data_end - data, ifindex, XDPCTL_HOOK_XDP, trace, 1,
			  &dev);
	if (reason)
		goto out;

	ret = pingpong_match(&p, XDPCTL_HOOKBIT_XDP, &pp);
	if (ret < 0) {
		reason = -ret;
		goto out;
	}
	if (ret > 0) {
		reason = pingpong_answer(&p, pp, ifindex, XDPCTL_HOOK_XDP, trace);
		if (reason)
			goto out;
		reason = XDPCTL_R_PINGPONG;
		action = XDP_TX;
		goto out;
	}

	rule = bpf_map_lookup_elem(&xdpctl_bypass, &p.dst);
	if (!rule) {
		reason = XDPCTL_R_PASS;
		goto out;
	}
	if (dev && ((dev->flags & XDPCTL_IF_BYPASS_TO_TC) ||
		    ((dev->flags & XDPCTL_IF_TCP_TO_TC) && p.l4proto == IPPROTO_TCP))) {
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
	rx_verdict(&p, ifindex, XDPCTL_HOOK_XDP, trace, reason, out_ifindex);
	observe_xdp(ctx, &p, trace, ifindex, XDPCTL_HOOK_XDP, reason, out_ifindex, action);
	return action;
}

char LICENSE[] SEC("license") = "GPL";
