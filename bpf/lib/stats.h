/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Counters, the size histogram and trace events. Counters are per-CPU
 * {packets, bytes} keyed by (hook, reason) and by (hook, size bucket).
 * Trace events and captured frames go to their ring buffers only while a
 * reader holds the lease in the config map (abi.h, struct xdpctl_lease), so
 * both cost one array lookup when nobody reads.
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

/* The size bucket of a frame of @len bytes (abi.h, XDPCTL_SIZE_BOUNDS). */
static __always_inline __u32 size_bucket(__u32 len)
{
	static const __u32 bounds[XDPCTL_SIZE_BUCKETS - 1] = { XDPCTL_SIZE_BOUNDS };
	__u32 i;

#pragma unroll
	for (i = 0; i < XDPCTL_SIZE_BUCKETS - 1; i++)
		if (len <= bounds[i])
			return i;
	return XDPCTL_SIZE_BUCKETS - 1;
}

static __always_inline void count_size(__u32 hook, __u32 len)
{
	__u32 key = XDPCTL_SIZES_KEY(hook, size_bucket(len));
	struct xdpctl_counter *c = bpf_map_lookup_elem(&xdpctl_sizes, &key);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

/* Bits of what trace_enabled() returns: who holds a live lease. */
#define OBS_TRACE   1
#define OBS_CAPTURE 2

static __always_inline int lease_live(__u64 until, __u64 *now)
{
	if (!until)
		return 0;
	if (!*now)
		*now = bpf_ktime_get_coarse_ns();
	return *now < until;
}

/*
 * @trace as it is, through a global function: the verifier sees an unknown
 * value, so the test at the verdict does not split every path of the
 * program by what earlier tests of @trace learned (which doubled its work).
 */
__attribute__((noinline)) int xdpctl_obs_bits(int trace)
{
	return trace & (OBS_TRACE | OBS_CAPTURE);
}

/*
 * trace_enabled_gen - OBS_TRACE and/or OBS_CAPTURE while a reader's lease
 * on them is live; 0 (one array lookup, no clock read) when nobody reads.
 * Also the ifaces map's generation into *@ifaces_gen, from the same lookup
 * (entry.h, iface_cached): read here, before any lookup of the ifaces map.
 */
static __always_inline int trace_enabled_gen(__u32 *ifaces_gen)
{
	__u32 key = 0;
	struct xdpctl_config *cfg = bpf_map_lookup_elem(&xdpctl_config, &key);
	__u64 now = 0;
	int ret = 0;

	*ifaces_gen = 0;
	if (!cfg)
		return 0;
	*ifaces_gen = *(volatile __u32 *)&cfg->ifaces_gen;
	if (lease_live(cfg->trace.until_ns, &now))
		ret |= OBS_TRACE;
	if (lease_live(cfg->capture.until_ns, &now))
		ret |= OBS_CAPTURE;
	return ret;
}

/* The ifaces generation alone (one inlined array lookup), for iface_cached(). */
static __always_inline __u32 ifaces_gen(void)
{
	__u32 key = 0;
	struct xdpctl_config *cfg = bpf_map_lookup_elem(&xdpctl_config, &key);

	return cfg ? *(volatile __u32 *)&cfg->ifaces_gen : 0;
}

/* trace_enabled - trace_enabled_gen() without the generation. */
static __always_inline int trace_enabled(void)
{
	__u32 gen;

	return trace_enabled_gen(&gen);
}

/*
 * xdpctl_trace_emit - write @e to the ring of every trace reader whose lease
 * is live (a full ring drops it for that reader). A global function: the
 * verifier checks it once, not at every call site with every path of the
 * caller, which the per-slot loop would multiply past its limit.
 */
__attribute__((noinline)) int xdpctl_trace_emit(struct xdpctl_event *e)
{
	struct xdpctl_config *cfg;
	__u32 key = 0, i;
	__u64 now;

	if (!e)
		return 0;
	cfg = bpf_map_lookup_elem(&xdpctl_config, &key);
	if (!cfg)
		return 0;
	now = bpf_ktime_get_coarse_ns();
	for (i = 0; i < XDPCTL_LEASE_SLOTS; i++) {
		__u32 slot = i;
		void *ring;

		if (cfg->trace.slot[i & (XDPCTL_LEASE_SLOTS - 1)] <= now)
			continue;
		ring = bpf_map_lookup_elem(&xdpctl_events, &slot);
		if (ring)
			bpf_ringbuf_output(ring, e, sizeof(*e), 0);
	}
	return 0;
}

/*
 * Where an event is built before it goes to the rings: a map value, not
 * the stack, whose slots the verifier would track through every path.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpctl_event);
} xdpctl_evbuf SEC(".maps");

/**
 * trace_event - emit one event describing @p (which may be only partly
 * parsed: fields not reached are zero) to every trace reader's ring.
 */
static __always_inline void trace_event(const struct pkt *p, __u32 ifindex, __u8 hook,
					__u8 kind, __u8 reason, __u32 out_ifindex)
{
	__u32 key = 0;
	struct xdpctl_event *e = bpf_map_lookup_elem(&xdpctl_evbuf, &key);

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
	xdpctl_trace_emit(e);
}

#endif /* XDPCTL_STATS_H */
