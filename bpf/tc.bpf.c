// SPDX-License-Identifier: GPL-2.0-only
/* The tc programs: uplink ingress (ping-pong, bypass) and the container return path. */
#include "lib/compat.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/rewrite.h"
#include "lib/stats.h"
#include "lib/entry.h"
#include "lib/capture.h"
#define XDPCTL_TC_PROG 1 /* nat.h: the skb rewrite */
#include "lib/ct.h"
#include "lib/nat.h"

/*
 * Set by user space at load time to a hash of this object file: a pinned
 * return program (dataplane/attach.c, dp_ret_get) is reused only by the
 * build that loaded it. No program reads it.
 */
const volatile __u64 xdpctl_build = 0;

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
 * The conntrack fast path runs in global functions: the verifier checks
 * each once, instead of once for every path through the parsers before it
 * (inline, the programs exceed the verifier's budget). The caller hands
 * over the parsed packet as plain values; packet pointers are re-derived.
 */
/* ct_follow() for tc: a subprogram (its own stack frame). */
static __attribute__((noinline)) int ct_follow_skb(struct __sk_buff *skb, const struct pkt *p,
						   struct ct_nat *nat)
{
	return ct_follow(skb, 0, p, nat);
}

/* Apply @nat to the skb (packet pointers are stale afterwards); 0 or a reason. */
static __always_inline int ct_nat_apply_skb(struct __sk_buff *skb, const struct pkt *p,
					    const struct ct_nat *nat, __u32 l4_off)
{
	struct ct_scratch *sc;
	struct nat_job *j;
	__u32 zero = 0;

	if (!nat->changed)
		return 0;
	sc = bpf_map_lookup_elem(&xdpctl_ct_scratch, &zero);
	if (!sc)
		return XDPCTL_R_REDIRECT_ERR;
	j = (struct nat_job *)sc->job;
	__builtin_memcpy(j->osrc, p->src.addr, 16);
	__builtin_memcpy(j->odst, p->dst.addr, 16);
	j->osport = p->sport;
	j->odport = p->dport;
	j->nat = *nat;
	j->l4_off = l4_off;
	j->family = p->src.family;
	j->l4proto = p->l4proto;
	j->pad = 0;
	if (xdpctl_nat_skb(skb, j))
		return XDPCTL_R_REDIRECT_ERR;
	return 0;
}

/*
 * xdpctl_ct_in - the conntrack fast path at the uplink's tc ingress, as
 * ct_in_xdp() in xdp.bpf.c: an established entry whose post-NAT
 * destination is a known container gets the entry's NAT, the container's
 * MACs, one hop less, and bpf_redirect_peer into the container's netns.
 * @return the reason (XDPCTL_R_CT_FWD: j->action is the redirect).
 */
static __always_inline int ct_in_tc(struct __sk_buff *skb, struct ct_job *j)
{
	struct xdpctl_bypass *rule;
	struct xdpctl_addr dst;
	struct ct_nat nat;
	__u32 target;
	int r;

	if (!skb || !j)
		return XDPCTL_R_MALFORMED;
	r = ct_precheck_job(j, 0);
	if (r)
		return r;
	r = ct_follow_skb(skb, &j->pk, &nat);
	if (r)
		return r;
	ct_nat_dst(&j->pk, &nat, &dst);
	rule = bpf_map_lookup_elem(&xdpctl_bypass, &dst);
	if (!rule)
		return XDPCTL_R_CT_NO_CONTAINER;
	/* GSO packets were built from frames that fit the wire (see bypass_check). */
	if (rule->mtu && !j->gso_size && j->pk.l3_len > rule->mtu)
		return XDPCTL_R_TOO_BIG;
	target = rule->ifindex;
	/* A gone veth: to the stack untouched (see the skip-firewall path below). */
	if (!bpf_map_lookup_elem(&xdpctl_devmap, &target))
		return XDPCTL_R_REDIRECT_ERR;
	r = ct_nat_apply_skb(skb, &j->pk, &nat, j->l4_off);
	if (r)
		return r;
	if (l2_forward_rewrite((void *)(long)skb->data, (void *)(long)skb->data_end,
			       j->pk.src.family, rule->dmac, rule->smac))
		return XDPCTL_R_MALFORMED;
	hop_csum_skb(skb, j->pk.src.family, j->ttl);
	rule_count_in(rule, j->pk.len);
	flow_account(&j->pk, &nat, XDPCTL_HOOK_TC_IN, j->ifindex, target);
	j->out_ifindex = target;
	j->action = bpf_redirect_peer(target, 0);
	return XDPCTL_R_CT_FWD;
}

/*
 * xdpctl_ct_in - the conntrack path at the uplink's tc ingress from the job
 * on, with the verdict's counter, trace event and capture (as xdpctl_ct_xdp
 * in xdp.bpf.c). @return the TC action.
 */
__attribute__((noinline)) int xdpctl_ct_in(struct __sk_buff *skb, struct ct_job *j)
{
	int reason;

	if (!skb || !j)
		return TC_ACT_OK;
	j->action = TC_ACT_OK;
	j->out_ifindex = 0;
	reason = ct_in_tc(skb, j);
	ct_verdict(&j->pk, j->ifindex, XDPCTL_HOOK_TC_IN, j->trace, reason, j->out_ifindex);
	observe_skb(skb, &j->pk, j->trace, j->ifindex, XDPCTL_HOOK_TC_IN, reason, j->out_ifindex,
		    j->action);
	return j->action;
}

/* bpf_fib_lookup for a packet leaving with these addresses; fills @fib. */
static __always_inline int fib_out(struct __sk_buff *skb, const struct ct_job *j,
				   const __u8 *saddr, const __u8 *daddr, __be16 sport, __be16 dport,
				   struct bpf_fib_lookup *fib)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	if (j->pk.src.family == XDPCTL_AF_INET) {
		fib->family = AF_INET;
		fib->tos = j->tos;
		__builtin_memcpy(&fib->ipv4_src, saddr, 4);
		__builtin_memcpy(&fib->ipv4_dst, daddr, 4);
	} else {
		fib->family = AF_INET6;
		fib->flowinfo = j->flowinfo;
		__builtin_memcpy(fib->ipv6_src, saddr, 16);
		__builtin_memcpy(fib->ipv6_dst, daddr, 16);
	}
	fib->l4_protocol = j->pk.l4proto;
	fib->sport = sport;
	fib->dport = dport;
	/*
	 * The helper checks tot_len against the route's MTU. 0 makes it check
	 * the skb instead: right for GSO (segmented later), but it allows
	 * MTU + 4 bytes (VLAN slack) and counts Ethernet padding.
	 */
	fib->tot_len = j->gso_size ? 0 : j->pk.l3_len > 0xffff ? 0xffff : j->pk.l3_len;
	fib->ifindex = skb->ingress_ifindex;
	return bpf_fib_lookup(skb, fib, sizeof(*fib), 0);
}

/*
 * xdpctl_fwd_out - the return path from the route on: look the route up,
 * check that it leaves by an attached uplink, follow conntrack if that
 * uplink does (its NAT; a DNAT on the way out is routed again), check the
 * MTU GSO-aware (bpf_check_mtu), rewrite and send: with the resolved MACs,
 * or by bpf_redirect_neigh() when the neighbour is not resolved, so that a
 * flow never splits between the paths.
 * @return the reason (XDPCTL_R_CT_FWD / XDPCTL_R_BYPASS: j->action is the redirect).
 */
static __always_inline int fwd_out(struct __sk_buff *skb, struct ct_job *j)
{
	struct bpf_fib_lookup *fibp;
	struct xdpctl_iface *out_dev;
	struct ct_nat nat = {};
	struct ct_scratch *sc;
	__u32 out_ifindex, mtu_len, zero = 0, gen;
	int ret, r, ct_mode;

	if (!skb || !j)
		return XDPCTL_R_MALFORMED;
	/* In scratch memory: the stack of this call chain is at its limit. */
	sc = bpf_map_lookup_elem(&xdpctl_ct_scratch, &zero);
	if (!sc)
		return XDPCTL_R_MALFORMED;
	fibp = (struct bpf_fib_lookup *)sc->fib;
#define fib (*fibp)
	ret = fib_out(skb, j, j->pk.src.addr, j->pk.dst.addr, j->pk.sport, j->pk.dport, &fib);
	if (ret == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return XDPCTL_R_TOO_BIG;
	if (ret != BPF_FIB_LKUP_RET_SUCCESS && ret != BPF_FIB_LKUP_RET_NO_NEIGH)
		return XDPCTL_R_FIB_MISS;
	out_ifindex = fib.ifindex;
	j->out_ifindex = out_ifindex;
	/* This CPU's copy of the uplink's entry (entry.h); the generation first. */
	gen = ifaces_gen();
	out_dev = iface_cached(out_ifindex, gen);
	if (!out_dev || !(out_dev->flags & XDPCTL_IF_UPLINK))
		return XDPCTL_R_NOT_UPLINK;
	ct_mode = !(out_dev->flags & XDPCTL_IF_SKIP_FIREWALL);

	if (ct_mode) {
		if (j->ct_reason)
			return j->ct_reason;
		r = ct_follow_skb(skb, &j->pk, &nat);
		if (r)
			return r;
		if (nat.changed & CT_NAT_DST) {
			/* Routed by the new destination (rare: a DNAT on the way out). */
			ret = fib_out(skb, j, nat.saddr, nat.daddr, nat.sport, nat.dport, &fib);
			if (ret == BPF_FIB_LKUP_RET_FRAG_NEEDED)
				return XDPCTL_R_TOO_BIG;
			if (ret != BPF_FIB_LKUP_RET_SUCCESS && ret != BPF_FIB_LKUP_RET_NO_NEIGH)
				return XDPCTL_R_FIB_MISS;
			out_ifindex = fib.ifindex;
			j->out_ifindex = out_ifindex;
			out_dev = iface_cached(out_ifindex, gen);
			if (!out_dev || !(out_dev->flags & XDPCTL_IF_UPLINK) ||
			    (out_dev->flags & XDPCTL_IF_SKIP_FIREWALL))
				return XDPCTL_R_NOT_UPLINK;
		}
	}
	/* The NO_NEIGH answer checked no MTU; a GSO packet is checked by its segments. */
	mtu_len = j->gso_size ? 0 : j->pk.l3_len;
	if (bpf_check_mtu(skb, out_ifindex, &mtu_len, 0, 0))
		return XDPCTL_R_TOO_BIG;

	if (ct_mode) {
		r = ct_nat_apply_skb(skb, &j->pk, &nat, j->l4_off);
		if (r)
			return r;
		flow_account(&j->pk, &nat, XDPCTL_HOOK_TC_FWD, j->ifindex, out_ifindex);
	}
	if (ret == BPF_FIB_LKUP_RET_NO_NEIGH) {
		/* The neighbour subsystem resolves the next hop and fills in L2. */
		struct bpf_redir_neigh nh = {};

		if (l2_forward_rewrite((void *)(long)skb->data, (void *)(long)skb->data_end,
				       j->pk.src.family, NULL, NULL))
			return XDPCTL_R_MALFORMED;
		hop_csum_skb(skb, j->pk.src.family, j->ttl);
		if (fib.family == AF_INET) {
			nh.nh_family = AF_INET;
			nh.ipv4_nh = fib.ipv4_dst;
		} else {
			nh.nh_family = AF_INET6;
			__builtin_memcpy(nh.ipv6_nh, fib.ipv6_dst, 16);
		}
		j->action = bpf_redirect_neigh(out_ifindex, &nh, sizeof(nh), 0);
	} else {
		if (l2_forward_rewrite((void *)(long)skb->data, (void *)(long)skb->data_end,
				       j->pk.src.family, fib.dmac, fib.smac))
			return XDPCTL_R_MALFORMED;
		hop_csum_skb(skb, j->pk.src.family, j->ttl);
		j->action = bpf_redirect(out_ifindex, 0);
	}
	return ct_mode ? XDPCTL_R_CT_FWD : XDPCTL_R_BYPASS;
#undef fib
}

/*
 * xdpctl_fwd_out - the return path from the route on (fwd_out), then the
 * source's container-table counters and the verdict's counter, trace event
 * and capture on the job's values. @return the TC action.
 */
__attribute__((noinline)) int xdpctl_fwd_out(struct __sk_buff *skb, struct ct_job *j)
{
	struct xdpctl_bypass *rule;
	int reason;

	if (!skb || !j)
		return TC_ACT_OK;
	j->action = TC_ACT_OK;
	j->out_ifindex = 0;
	reason = fwd_out(skb, j);
	if (reason == XDPCTL_R_CT_FWD || reason == XDPCTL_R_BYPASS) {
		rule = bpf_map_lookup_elem(&xdpctl_bypass, &j->pk.src);
		if (rule)
			rule_count_out(rule, j->pk.len);
	}
	ct_verdict(&j->pk, j->ifindex, XDPCTL_HOOK_TC_FWD, j->trace, reason, j->out_ifindex);
	observe_skb(skb, &j->pk, j->trace, j->ifindex, XDPCTL_HOOK_TC_FWD, reason, j->out_ifindex,
		    j->action);
	return j->action;
}

/* Tail calls into the programs below (each program has its own verifier budget). */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int(struct __sk_buff *));
} xdpctl_tc_tin SEC(".maps"); /* [0]: filled by user space after load */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int(struct __sk_buff *));
} xdpctl_tc_tret SEC(".maps"); /* [0]: filled by user space after load */

/*
 * xdpctl_job_skb - the job for the parsed packet @p in this CPU's scratch
 * (ct_job_put), marked for the tail-called program when @mark (a global
 * function: checked once, not once per parser path of the caller).
 * @return 0, or -1 without scratch.
 */
__attribute__((noinline)) int xdpctl_job_skb(struct __sk_buff *skb, const struct pkt *p,
					     int trace, int mark)
{
	struct ct_job *j = ct_job_get();

	if (!skb || !p || !j)
		return -1;
	ct_job_put(j, p, (void *)(long)skb->data, (void *)(long)skb->data_end, skb->gso_size,
		   skb->ifindex, skb->vlan_present, 0, trace);
	j->mark = mark ? CT_JOB_MARK : 0;
	return 0;
}

/*
 * Tail-call slot 0 of @progs with @p handed over as the job (CT_JOB_MARK:
 * no second parse there). Returns only when the tail call failed, with the
 * job no longer valid.
 */
static __always_inline void tail_call_job(struct __sk_buff *skb, const struct pkt *p, int trace,
					  void *progs)
{
	int handed = !xdpctl_job_skb(skb, p, trace, 1);

	bpf_tail_call(skb, progs, 0);
	if (handed)
		ct_job_drop();
}

/*
 * xdpctl_tc_in - clsact ingress of an uplink, attached by `xdpctl attach DEV`
 * (engine tc, and beside the XDP program with engine xdp so that ping-pong
 * rules for the tc hook are answered). Echo requests for a ping-pong address
 * with the tc hook bit are answered in place and sent back out of the same
 * device. Fast path 'conntrack' (default): a TCP/UDP packet of an
 * established entry whose post-NAT destination is a known container gets
 * the entry's NAT and is handed straight to the container's namespace with
 * bpf_redirect_peer; 'skip-firewall': any packet to a container-table
 * address is. All else: TC_ACT_OK.
 */
SEC("tc")
int xdpctl_tc_in(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct pkt p = {};
	struct xdpctl_iface *dev = NULL;
	struct xdpctl_pingpong *pp = NULL;
	struct xdpctl_bypass *rule;
	__u32 gen; /* first: before the ifaces entry (entry.h, iface_cached) */
	int trace = trace_enabled_gen(&gen);
	int action = TC_ACT_OK;
	__u32 out_ifindex = 0;
	int reason, ret;
	void *data, *data_end;

	tc_linearize(skb);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	reason = rx_front(&p, data, data_end, skb->len, ifindex, XDPCTL_HOOK_TC_IN, trace, gen, 1,
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
	if (!dev || !(dev->flags & XDPCTL_IF_SKIP_FIREWALL)) {
		/* The conntrack path: a program of its own (the verifier's budget). */
		tail_call_job(skb, &p, trace, &xdpctl_tc_tin);
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
	ret = pkt_ttl(&p);
	forward_rewrite(&p, rule->dmac, rule->smac);
	hop_csum_skb(skb, p.src.family, ret);
	rule_count_in(rule, p.len);
	out_ifindex = rule->ifindex;
	reason = XDPCTL_R_BYPASS;
	action = bpf_redirect_peer(rule->ifindex, 0);

out:
	rx_verdict(&p, ifindex, XDPCTL_HOOK_TC_IN, trace, reason, out_ifindex);
	observe_skb(skb, &p, trace, ifindex, XDPCTL_HOOK_TC_IN, reason, out_ifindex, action);
	return action;
}

/*
 * xdpctl_tc_fwd - clsact ingress of a container's host-side veth, attached
 * with the first container-table entry for that veth: the return
 * direction, container to the outside world. Only a packet from an
 * address whose entry names this veth and the container's MAC is taken
 * (anything else: the stack, counted as ct_policy). Its route
 * (bpf_fib_lookup) must leave by an attached uplink; that uplink's fast
 * path decides: 'conntrack' takes TCP/UDP of an established entry and
 * applies the entry's NAT (the SNAT of a published port's reply, or
 * MASQUERADE); 'skip-firewall' takes every packet as it is. Out with the
 * resolved MACs, or bpf_redirect_neigh() when the neighbour is not
 * resolved, so a flow never splits between the paths; the MTU is checked
 * GSO-aware (bpf_check_mtu). Anything else: TC_ACT_OK.
 */
SEC("tc")
int xdpctl_tc_fwd(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct pkt p = {};
	struct xdpctl_bypass *rule;
	int trace = trace_enabled();
	int action = TC_ACT_OK;
	__u32 out_ifindex = 0;
	int reason;
	void *data, *data_end;

	tc_linearize(skb);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	/* No MAC filter: frames from a container are addressed to its gateway. */
	reason = rx_front(&p, data, data_end, skb->len, ifindex, XDPCTL_HOOK_TC_FWD, trace, 0, 0,
			  NULL);
	if (reason)
		goto out;
	if (is_nd(&p)) {
		reason = XDPCTL_R_ND;
		goto out;
	}
	rule = bpf_map_lookup_elem(&xdpctl_bypass, &p.src);
	if (!rule) {
		reason = XDPCTL_R_PASS;
		goto out;
	}
	/* The source check: this veth and the container's MAC own the address. */
	if (rule->ifindex != ifindex || !mac_equal(p.eth->h_source, rule->dmac)) {
		reason = XDPCTL_R_CT_POLICY;
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

	/* The route and the rest: a program of its own (the verifier's budget). */
	tail_call_job(skb, &p, trace, &xdpctl_tc_tret);
	reason = XDPCTL_R_REDIRECT_ERR;

out:
	rx_verdict(&p, ifindex, XDPCTL_HOOK_TC_FWD, trace, reason, out_ifindex);
	observe_skb(skb, &p, trace, ifindex, XDPCTL_HOOK_TC_FWD, reason, out_ifindex, action);
	return action;
}


/*
 * The job of a tail-called program: the one the caller filled for this
 * packet (tail_call_job), else (run alone, or no scratch) one of its own
 * parse; NULL, with the frame counted malformed on @hook, if it does not
 * parse.
 */
static __always_inline struct ct_job *tail_job(struct __sk_buff *skb, __u8 hook)
{
	struct ct_job *j = ct_job_get();
	void *data, *data_end;
	struct pkt p = {};

	if (j && ct_job_valid(j, skb->ifindex, skb->len)) {
		j->mark = 0;
		return j;
	}
	tc_linearize(skb);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (parse_frame(&p, data, data_end, skb->len) || xdpctl_job_skb(skb, &p, 0, 0)) {
		count(hook, XDPCTL_R_MALFORMED, skb->len);
		return NULL;
	}
	j = ct_job_get();
	if (j)
		j->trace = trace_enabled();
	return j;
}

/*
 * xdpctl_tc_ct - tail-called by xdpctl_tc_in for a frame of an uplink that
 * follows conntrack (after the front, the MAC filter and ping-pong, which
 * it does not repeat): the conntrack fast path with the verdict's epilogue.
 */
SEC("tc")
int xdpctl_tc_ct(struct __sk_buff *skb)
{
	struct ct_job *j = tail_job(skb, XDPCTL_HOOK_TC_IN);

	return j ? xdpctl_ct_in(skb, j) : TC_ACT_OK;
}

/*
 * xdpctl_tc_ret - tail-called by xdpctl_tc_fwd once the source check
 * passed: the route, the uplink's fast path (conntrack or skip-firewall)
 * and the verdict's epilogue.
 */
SEC("tc")
int xdpctl_tc_ret(struct __sk_buff *skb)
{
	struct ct_job *j = tail_job(skb, XDPCTL_HOOK_TC_FWD);

	if (!j)
		return TC_ACT_OK;
	/* Why conntrack could not follow it (0: it may): a skip-firewall uplink ignores it. */
	j->ct_reason = ct_precheck_job(j, 0);
	return xdpctl_fwd_out(skb, j);
}

char LICENSE[] SEC("license") = "GPL";
