/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The verdict for observers: its trace event (stats.h), and packet capture
 * for `xdpctl capture`: at the verdict, a frame that matches
 * the capture filter in the config map is copied (up to snaplen bytes, at
 * most rate packets per second per CPU) with a header naming its hook,
 * reason and action into the capture ring buffer. Runs only while a reader
 * holds the capture lease (stats.h, OBS_CAPTURE); what the rate limit or a
 * full ring keeps out is counted in xdpctl_capstat.
 */
#ifndef XDPCTL_CAPTURE_H
#define XDPCTL_CAPTURE_H

#include "compat.h"
#include "maps.h"
#include "parse.h"
#include "stats.h"

struct capture_rec {
	struct xdpctl_capture_hdr h;
	__u8 data[XDPCTL_CAPTURE_SNAP_MAX];
};

/* Scratch space for one record (too big for the stack); one per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capture_rec);
} xdpctl_capbuf SEC(".maps");

/* @raw/@family (a record's address) equal to @a? Byte by byte: no alignment to trust. */
static __always_inline int addr_eq(const __u8 *raw, __u8 family, const struct xdpctl_addr *a)
{
	int i;

	if (family != a->family)
		return 0;
#pragma unroll
	for (i = 0; i < 16; i++)
		if (raw[i] != a->addr[i])
			return 0;
	return 1;
}

static __always_inline int capture_match(const struct xdpctl_capture_hdr *h,
					 const struct xdpctl_capture_filter *f)
{
	if (f->a.family) {
		int sa = addr_eq(h->src, h->family, &f->a), da = addr_eq(h->dst, h->family, &f->a);

		if (f->b.family) {
			if (!((sa && addr_eq(h->dst, h->family, &f->b)) ||
			      (da && addr_eq(h->src, h->family, &f->b))))
				return 0;
		} else if (!sa && !da) {
			return 0;
		}
	}
	if (f->l4proto && h->l4proto != f->l4proto)
		return 0;
	if (f->port && h->sport != f->port && h->dport != f->port)
		return 0;
	return 1;
}

/**
 * capture_check - does the record header in @rec match the filter, the
 * sample and the rate? Sets rec->h.cap_len and *@stp.
 * @return the bytes to copy (1..XDPCTL_CAPTURE_SNAP_MAX), or 0: not captured.
 */
static __always_inline __u32 capture_check(struct capture_rec *rec, struct xdpctl_capstat **stp)
{
	struct xdpctl_capture_filter *f;
	struct xdpctl_config *cfg;
	struct xdpctl_capstat *st;
	__u32 key = 0, len, rate;
	__u64 now;

	cfg = bpf_map_lookup_elem(&xdpctl_config, &key);
	st = bpf_map_lookup_elem(&xdpctl_capstat, &key);
	if (!cfg || !st)
		return 0;
	f = &cfg->cap;
	if (!capture_match(&rec->h, f))
		return 0;
	if (f->sample > 1 && bpf_get_prandom_u32() % f->sample)
		return 0;
	now = rec->h.ts_ns;
	rate = f->rate ? f->rate : XDPCTL_CAPTURE_RATE_DEFAULT;
	if (now - st->window_ns >= 1000000000ull) {
		st->window_ns = now;
		st->window_pkts = 0;
	}
	if (st->window_pkts >= rate) {
		st->rate_limited++;
		return 0;
	}
	st->window_pkts++;
	len = rec->h.pkt_len < f->snaplen ? rec->h.pkt_len : f->snaplen;
	if (len > XDPCTL_CAPTURE_SNAP_MAX)
		len = XDPCTL_CAPTURE_SNAP_MAX;
	rec->h.cap_len = len;
	*stp = st;
	return len;
}

/* Send the record with @len frame bytes (already in rec->data) to the ring. */
static __always_inline void capture_commit(struct capture_rec *rec, __u32 len,
					   struct xdpctl_capstat *st)
{
	if (len < 1 || len > XDPCTL_CAPTURE_SNAP_MAX)
		return;
	rec->h.pad = 0;
	if (bpf_ringbuf_output(&xdpctl_capture, rec, sizeof(rec->h) + len, 0))
		st->ring_full++;
	else
		st->captured++;
}

/* The verdict's trace event, from the record header (stats.h, xdpctl_trace_emit). */
static __always_inline void verdict_event(const struct capture_rec *rec)
{
	__u32 key = 0;
	struct xdpctl_event *e = bpf_map_lookup_elem(&xdpctl_evbuf, &key);

	if (!e)
		return;
	e->ts_ns = rec->h.ts_ns;
	e->ifindex = rec->h.ifindex;
	e->out_ifindex = rec->h.out_ifindex;
	e->pkt_len = rec->h.pkt_len;
	e->hook = rec->h.hook;
	e->kind = rec->h.reason == XDPCTL_R_PINGPONG ? XDPCTL_EV_PINGPONG :
		  rec->h.reason == XDPCTL_R_BYPASS ? XDPCTL_EV_BYPASS : XDPCTL_EV_PASS;
	e->reason = rec->h.reason;
	e->l4proto = rec->h.l4proto;
	e->icmp_type = rec->h.pad; /* capture_head keeps the ICMP type there */
	e->family = rec->h.family;
	e->sport = rec->h.sport;
	e->dport = rec->h.dport;
	e->pad = 0;
	__builtin_memcpy(e->src, rec->h.src, 16);
	__builtin_memcpy(e->dst, rec->h.dst, 16);
	xdpctl_trace_emit(e);
}

/*
 * What observers get at a verdict: the trace event, and the frame for a
 * capture. Global functions (for XDP and for tc): the verifier checks them
 * once, not with every path of the program; the program itself only tests
 * one bit and fills the header, as it did for trace alone.
 */
__attribute__((noinline)) int xdpctl_observe_xdp(struct xdp_md *ctx, struct capture_rec *rec,
						 int trace)
{
	struct xdpctl_capstat *st = NULL;
	__u32 len;

	if (!ctx || !rec)
		return 0;
	if (trace & OBS_TRACE)
		verdict_event(rec);
	if (!(trace & OBS_CAPTURE))
		return 0;
	len = capture_check(rec, &st);
	if (!st || len < 1 || len > XDPCTL_CAPTURE_SNAP_MAX)
		return 0;
	if (bpf_xdp_load_bytes(ctx, 0, rec->data, len))
		return 0;
	capture_commit(rec, len, st);
	return 0;
}

__attribute__((noinline)) int xdpctl_observe_skb(struct __sk_buff *skb, struct capture_rec *rec,
						 int trace)
{
	struct xdpctl_capstat *st = NULL;
	__u32 len;

	if (!skb || !rec)
		return 0;
	if (trace & OBS_TRACE)
		verdict_event(rec);
	if (!(trace & OBS_CAPTURE))
		return 0;
	len = capture_check(rec, &st);
	if (!st || len < 1 || len > XDPCTL_CAPTURE_SNAP_MAX)
		return 0;
	if (bpf_skb_load_bytes(skb, 0, rec->data, len))
		return 0;
	capture_commit(rec, len, st);
	return 0;
}

/* The record header of @p's verdict in the per-CPU scratch, or NULL. */
static __always_inline struct capture_rec *capture_head(const struct pkt *p, __u32 ifindex,
							__u8 hook, __u32 reason,
							__u32 out_ifindex, int action)
{
	__u32 key = 0;
	struct capture_rec *rec = bpf_map_lookup_elem(&xdpctl_capbuf, &key);

	if (!rec)
		return NULL;
	rec->h.ts_ns = bpf_ktime_get_ns();
	rec->h.ifindex = ifindex;
	rec->h.out_ifindex = out_ifindex;
	rec->h.pkt_len = p->len;
	rec->h.cap_len = 0;
	rec->h.hook = hook;
	rec->h.reason = reason;
	rec->h.action = action;
	rec->h.l4proto = p->l4proto;
	rec->h.family = p->src.family;
	/* the ICMP type for the trace event; cleared before a record is written */
	rec->h.pad = p->icmp_type;
	rec->h.sport = p->sport;
	rec->h.dport = p->dport;
	rec->h.pad2 = 0;
	__builtin_memcpy(rec->h.src, p->src.addr, 16);
	__builtin_memcpy(rec->h.dst, p->dst.addr, 16);
	return rec;
}

/*
 * observe_xdp - at the verdict of an XDP program: its trace event and its
 * capture, when a reader holds a lease (one test of @trace otherwise).
 */
static __always_inline void observe_xdp(struct xdp_md *ctx, const struct pkt *p, int trace,
					__u32 ifindex, __u8 hook, __u32 reason,
					__u32 out_ifindex, int action)
{
	struct capture_rec *rec;

	trace = xdpctl_obs_bits(trace);
	if (!trace)
		return;
	rec = capture_head(p, ifindex, hook, reason, out_ifindex, action);
	if (rec)
		xdpctl_observe_xdp(ctx, rec, trace);
}

/* observe_skb - the same at the verdict of a tc program. */
static __always_inline void observe_skb(struct __sk_buff *skb, const struct pkt *p, int trace,
					__u32 ifindex, __u8 hook, __u32 reason,
					__u32 out_ifindex, int action)
{
	struct capture_rec *rec;

	trace = xdpctl_obs_bits(trace);
	if (!trace)
		return;
	rec = capture_head(p, ifindex, hook, reason, out_ifindex, action);
	if (rec)
		xdpctl_observe_skb(skb, rec, trace);
}

#endif /* XDPCTL_CAPTURE_H */
