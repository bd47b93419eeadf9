// SPDX-License-Identifier: GPL-2.0-only
/* The XDP program of an uplink: ping-pong with XDP_TX and bypass into a container veth. */
#include "lib/compat.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/rewrite.h"
#include "lib/stats.h"
#include "lib/entry.h"
#include "lib/capture.h"
#include "lib/ct.h"
#include "lib/nat.h"

/* ct_follow() for XDP: a subprogram (its own stack frame). */
static __attribute__((noinline)) int ct_follow_xdp(struct xdp_md *ctx, const struct pkt *pk,
						   struct ct_nat *nat)
{
	return ct_follow(ctx, 1, pk, nat);
}

/*
 * xdpctl_ct_in_xdp - the conntrack fast path, uplink to container, for a
 * TCP/UDP packet that passed ct_precheck() (a global function: checked
 * once by the verifier). An established entry whose post-NAT destination
 * is a known container: the entry's NAT, the container's MACs, one hop
 * less, redirected through the devmap into the container's host veth.
 * @return the reason (XDPCTL_R_CT_FWD: redirected, j->out_ifindex).
 */
static __always_inline int ct_in_xdp(struct xdp_md *ctx, struct ct_job *j)
{
	struct xdpctl_bypass *rule;
	struct xdpctl_addr dst;
	struct ct_nat nat;
	void *data, *data_end, *l3, *l4;
	int r;

	if (!ctx || !j)
		return XDPCTL_R_MALFORMED;
	r = ct_precheck_job(j, 1);
	if (r)
		return r;
	r = ct_follow_xdp(ctx, &j->pk, &nat);
	if (r)
		return r;
	ct_nat_dst(&j->pk, &nat, &dst);
	rule = bpf_map_lookup_elem(&xdpctl_bypass, &dst);
	if (!rule)
		return XDPCTL_R_CT_NO_CONTAINER;
	if (rule->mtu && j->pk.l3_len > rule->mtu)
		return XDPCTL_R_TOO_BIG;
	if (bpf_redirect_map(&xdpctl_devmap, rule->ifindex, 0) != XDP_REDIRECT)
		return XDPCTL_R_REDIRECT_ERR;

	/* The packet's pointers again, from the offsets the caller parsed. */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	l3 = data + NAT_L3_OFF;
	/* Even (Ethernet 14, IPv4 4 * IHL, IPv6 40 + 8 * n): 16-bit accesses stay aligned. */
	l4 = data + (j->l4_off & 0xfe);
	if (l3 + sizeof(struct ipv6hdr) > data_end && l3 + sizeof(struct iphdr) > data_end)
		return XDPCTL_R_MALFORMED;
	nat_rewrite_direct(&j->pk, l3, l4, data_end, &nat);
	if (l2_forward_rewrite(data, data_end, j->pk.src.family, rule->dmac, rule->smac))
		return XDPCTL_R_MALFORMED;
	rule_count_in(rule, j->pk.len);
	flow_account(&j->pk, &nat, XDPCTL_HOOK_XDP, j->ifindex, rule->ifindex);
	j->out_ifindex = rule->ifindex;
	j->action = XDP_REDIRECT;
	return XDPCTL_R_CT_FWD;
}

/*
 * xdpctl_ct_xdp - the conntrack path from the job on, with the verdict's
 * counter, trace event and capture (on the job's copy of the parsed
 * values): the main program's parser states end at this call instead of
 * each running through the epilogue again. @return the XDP action.
 */
__attribute__((noinline)) int xdpctl_ct_xdp(struct xdp_md *ctx, struct ct_job *j)
{
	int reason;

	if (!ctx || !j)
		return XDP_PASS;
	j->action = XDP_PASS;
	j->out_ifindex = 0;
	reason = ct_in_xdp(ctx, j);
	ct_verdict(&j->pk, j->ifindex, XDPCTL_HOOK_XDP, j->trace, reason, j->out_ifindex);
	observe_xdp(ctx, &j->pk, j->trace, j->ifindex, XDPCTL_HOOK_XDP, reason, j->out_ifindex,
		    j->action);
	return j->action;
}

/*
 * xdpctl_job_xdp - the job for the parsed packet @p in this CPU's scratch
 * (ct_job_put), marked for the tail-called program when @mark (a global
 * function: checked once, not once per parser path of the caller).
 * @return 0, or -1 without scratch.
 */
__attribute__((noinline)) int xdpctl_job_xdp(struct xdp_md *ctx, const struct pkt *p,
					     __u32 dev_flags, int trace, int mark)
{
	struct ct_job *j = ct_job_get();

	if (!ctx || !p || !j)
		return -1;
	ct_job_put(j, p, (void *)(long)ctx->data, (void *)(long)ctx->data_end, 0,
		   ctx->ingress_ifindex, 0, dev_flags, trace);
	j->mark = mark ? CT_JOB_MARK : 0;
	return 0;
}

/* The tail call into xdpctl_xdp_ct (a program with its own verifier budget). */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int(struct xdp_md *));
} xdpctl_xdp_tail SEC(".maps"); /* [0]: filled by user space after load */

/*
 * xdpctl_xdp - attached by `xdpctl attach DEV` (engine xdp) to the uplink,
 * at XDP (native or generic). For every frame:
 *   - an ICMP/ICMPv6 echo request for a ping-pong address with the XDP hook
 *     bit is answered in place and leaves by XDP_TX;
 *   - fast path 'conntrack' (the default): a TCP/UDP packet of an
 *     established conntrack entry whose post-NAT destination is a known
 *     container gets the entry's NAT, MACs, TTL - 1 and is redirected
 *     through the devmap into the container's host-side veth;
 *   - fast path 'skip-firewall' (opt-in): a destination in the container
 *     table is rewritten (MACs, TTL) and redirected the same way, past
 *     netfilter, NAT and conntrack;
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
	__u32 gen; /* first: before the ifaces entry (entry.h, iface_cached) */
	int trace = trace_enabled_gen(&gen);
	int action = XDP_PASS;
	__u32 out_ifindex = 0;
	int reason, ret;

	reason = rx_front(&p, data, data_end, data_end - data, ifindex, XDPCTL_HOOK_XDP, trace, gen,
			  1, &dev);
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

	if (!dev || !(dev->flags & XDPCTL_IF_SKIP_FIREWALL)) {
		/*
		 * The conntrack path: a program of its own (the verifier's
		 * budget), handed the packet as a job of values (no second parse).
		 */
		int handed = !xdpctl_job_xdp(ctx, &p, dev ? dev->flags : 0, trace, 1);

		bpf_tail_call(ctx, &xdpctl_xdp_tail, 0);
		if (handed)
			ct_job_drop();
		reason = XDPCTL_R_REDIRECT_ERR;
		goto out;
	}
	/*
	 * Skip-firewall: by destination address. Neighbour discovery is for
	 * on-link addresses, and a container's is not on the uplink's link.
	 */
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
	rule_count_in(rule, p.len);
	out_ifindex = rule->ifindex;
	reason = XDPCTL_R_BYPASS;
	action = XDP_REDIRECT;

out:
	rx_verdict(&p, ifindex, XDPCTL_HOOK_XDP, trace, reason, out_ifindex);
	observe_xdp(ctx, &p, trace, ifindex, XDPCTL_HOOK_XDP, reason, out_ifindex, action);
	return action;
}

/*
 * xdpctl_xdp_ct - tail-called by xdpctl_xdp for a frame of an uplink that
 * follows conntrack (after the front, the MAC filter and ping-pong, which
 * it does not repeat): the conntrack fast path with the verdict's epilogue,
 * on the job xdpctl_xdp filled (CT_JOB_MARK); without one (run alone, or no
 * scratch), on a job of its own parse.
 */
SEC("xdp")
int xdpctl_xdp_ct(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 ifindex = ctx->ingress_ifindex;
	struct xdpctl_iface *dev;
	struct pkt p = {};
	struct ct_job *j = ct_job_get();

	if (j && ct_job_valid(j, ifindex, data_end - data)) {
		j->mark = 0;
		return xdpctl_ct_xdp(ctx, j);
	}
	if (parse_frame(&p, data, data_end, data_end - data) ||
	    xdpctl_job_xdp(ctx, &p, 0, 0, 0)) {
		count(XDPCTL_HOOK_XDP, XDPCTL_R_MALFORMED, data_end - data);
		return XDP_PASS;
	}
	j = ct_job_get();
	if (!j)
		return XDP_PASS;
	dev = bpf_map_lookup_elem(&xdpctl_ifaces, &ifindex);
	j->dev_flags = dev ? dev->flags : 0;
	j->trace = trace_enabled();
	return xdpctl_ct_xdp(ctx, j);
}

char LICENSE[] SEC("license") = "GPL";
