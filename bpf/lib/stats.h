/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Counters and trace events. Counters are per-CPU {packets, bytes} keyed by
 * (hook, reason). Trace events go to the ring buffer only when the config
 * map switches tracing on, so tracing costs one array lookup when unused.
 */
#ifndef XDPCTL_STATS_H
#define XDPCTL_STATS_H

#include "compat.h"
#include "maps.h"
#include "parse.h"

static __always_inline void count(__u32 hook, __u32 reason, __u32 len)
{
	__u32 key = XDPCTL_STATS_KEY(hook, reason);
	struct xdpctl_counter *c = bpf_map_lookup_elem(&xdpctl_stats, &key);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline int trace_enabled(void)
{
	__u32 key = 0;
	struct xdpctl_config *cfg = bpf_map_lookup_elem(&xdpctl_config, &key);

	return cfg && (cfg->flags & XDPCTL_CFG_TRACE);
}

/**
 * trace_event - emit one event describing @p (which may be only partly
 * parsed: fields not reached are zero). Drops the event when the ring is full.
 */
static __always_inline void trace_event(const struct pkt *p, __u32 ifindex, __u8 hook,
					__u8 kind, __u8 reason, __u32 out_ifindex)
{
	struct xdpctl_event *e;

	e = bpf_ringbuf_reserve(&xdpctl_events, sizeof(*e), 0);
	if (!e)
		return;
	e->ts_ns = bpf_ktime_get_ns();
	e->ifindex = ifindex;
	e->out_ifindex = out_ifindex;
	e->pkt_len = p->len;
	e->hook = hook;
	e->kind = kind;
	e->reason = reason;
	e->l4proto = p->l4proto;
	e->icmp_type = p->icmp_type;
	e->family = p->src.family;
	e->sport = p->sport;
	e->dport = p->dport;
	e->pad = 0;
	__builtin_memcpy(e->src, p->src.addr, 16);
	__builtin_memcpy(e->dst, p->dst.addr, 16);
	bpf_ringbuf_submit(e, 0);
}

#endif /* XDPCTL_STATS_H */
