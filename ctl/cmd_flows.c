// SPDX-License-Identifier: GPL-2.0-only
/* xdpctl flows: the flows on the conntrack fast path now. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "xdpctl.h"

struct flow_list {
	struct xdpctl_flow_info *v;
	size_t n, cap;
};

static int collect_flow(const struct xdpctl_flow_info *f, void *ctx)
{
	struct flow_list *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct xdpctl_flow_info *nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = *f;
	return 0;
}

/* Most recently seen first. */
static int flow_order(const void *x, const void *y)
{
	const struct xdpctl_flow_info *a = x, *b = y;

	if (a->flow.last_ns != b->flow.last_ns)
		return a->flow.last_ns > b->flow.last_ns ? -1 : 1;
	return memcmp(&a->key, &b->key, sizeof(a->key));
}

static const char *proto_name(__u8 p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : "?";
}

static void addr_of(const __u8 raw[16], __u8 family, char *buf, size_t len)
{
	struct xdpctl_addr a = {};

	memcpy(a.addr, raw, 16);
	a.family = family;
	fmt_addr(&a, buf, len);
}

static const char *engine_of(__u8 hook)
{
	return hook == XDPCTL_HOOK_XDP ? "xdp" : "tc";
}

static int run_flows(struct ctx *c, struct args *a)
{
	struct flow_list l = {};
	bool missing;
	size_t i;
	int err, r;

	(void)a;
	r = open_state(c, false, 0, true, &missing);
	if (r)
		return r;
	if (!missing) {
		err = xdpctl_dp__flows_for_each(c->dp, collect_flow, &l);
		if (err) {
			free(l.v);
			return fail_dp(c, err, "flows");
		}
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), flow_order);
	if (c->json)
		jw_arr_open(c->jw);
	else
		printf("%-5s %-42s %-42s %-6s %-6s %10s %12s %9s\n", "PROTO", "SOURCE", "DESTINATION",
		       "ENGINE", "HOOK", "PACKETS", "BYTES", "IDLE_S");
	for (i = 0; i < l.n; i++) {
		const struct xdpctl_flow_info *f = &l.v[i];
		const struct xdpctl_flow_key *k = &f->key;
		char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], ns[INET6_ADDRSTRLEN];
		char nd[INET6_ADDRSTRLEN], src[64], dst[64], nsrc[64], ndst[64];

		addr_of(k->src, k->family, s, sizeof(s));
		addr_of(k->dst, k->family, d, sizeof(d));
		addr_of(f->flow.nat_src, k->family, ns, sizeof(ns));
		addr_of(f->flow.nat_dst, k->family, nd, sizeof(nd));
		if (c->json) {
			jw_obj_open(c->jw);
			jw_kstr(c->jw, "proto", proto_name(k->proto));
			jw_kstr(c->jw, "src", s);
			jw_ku64(c->jw, "sport", ntohs(k->sport));
			jw_kstr(c->jw, "dst", d);
			jw_ku64(c->jw, "dport", ntohs(k->dport));
			jw_kstr(c->jw, "nat_src", ns);
			jw_ku64(c->jw, "nat_sport", ntohs(f->flow.nat_sport));
			jw_kstr(c->jw, "nat_dst", nd);
			jw_ku64(c->jw, "nat_dport", ntohs(f->flow.nat_dport));
			jw_kbool(c->jw, "nat", memcmp(k->src, f->flow.nat_src, 16) ||
					      memcmp(k->dst, f->flow.nat_dst, 16) ||
					      k->sport != f->flow.nat_sport ||
					      k->dport != f->flow.nat_dport);
			jw_kstr(c->jw, "ct_dir", f->flow.ct_dir ? "reply" : "original");
			jw_kstr(c->jw, "engine", engine_of(f->flow.hook));
			jw_kstr(c->jw, "hook", xdpctl_hook_name(f->flow.hook));
			jw_ku64(c->jw, "in_ifindex", f->flow.in_ifindex);
			jw_ku64(c->jw, "out_ifindex", f->flow.out_ifindex);
			jw_ku64(c->jw, "packets", f->flow.packets);
			jw_ku64(c->jw, "bytes", f->flow.bytes);
			jw_kdouble(c->jw, "idle_seconds", f->idle_s);
			jw_obj_close(c->jw);
			continue;
		}
		snprintf(src, sizeof(src), k->family == XDPCTL_AF_INET6 ? "[%s]:%u" : "%s:%u", s,
			 ntohs(k->sport));
		snprintf(dst, sizeof(dst), k->family == XDPCTL_AF_INET6 ? "[%s]:%u" : "%s:%u", d,
			 ntohs(k->dport));
		printf("%-5s %-42s %-42s %-6s %-6s %10llu %12llu %9.1f\n", proto_name(k->proto), src, dst,
		       engine_of(f->flow.hook), f->flow.hook == XDPCTL_HOOK_TC_FWD ? "return" : "uplink",
		       (unsigned long long)f->flow.packets, (unsigned long long)f->flow.bytes,
		       f->idle_s);
		snprintf(nsrc, sizeof(nsrc), k->family == XDPCTL_AF_INET6 ? "[%s]:%u" : "%s:%u", ns,
			 ntohs(f->flow.nat_sport));
		snprintf(ndst, sizeof(ndst), k->family == XDPCTL_AF_INET6 ? "[%s]:%u" : "%s:%u", nd,
			 ntohs(f->flow.nat_dport));
		if (strcmp(src, nsrc) || strcmp(dst, ndst))
			printf("  nat  %-42s %-42s\n", nsrc, ndst);
	}
	if (c->json)
		jw_arr_close(c->jw);
	free(l.v);
	return 0;
}

const struct cmd cmd_flows = {
	.name = "flows", .run = run_flows, .flags = CMD_PRIV,
	.args = (const struct arg_spec[]){ { 0 } },
	.summary = "Show the flows on the conntrack fast path (most recent first).",
	.details = "One line per direction of a flow as it arrived (5-tuple before NAT), with\n"
		   "the NAT conntrack applied ('nat' line: as it left), the engine and hook that\n"
		   "forwarded it, packets and bytes on the fast path, and the seconds since its\n"
		   "last packet. From a bounded LRU table (65536 directions): the least recently\n"
		   "forwarded go first. Why packets were left to the stack: 'xdpctl stats'\n"
		   "(ct_new, ct_closing, ct_no_container, ct_policy, ...).",
};
