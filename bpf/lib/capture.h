/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Packet capture for `xdpctl capture`: at the verdict, a frame that matches
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

/* Byte by byte: struct pkt's addresses have no alignment the verifier trusts. */
static __always_inline int addr_eq(const struct xdpctl_addr *x, const struct xdpctl_addr *y)
{
	const __u8 *a = (const __u8 *)x, *b = (const __u8 *)y;
	int i;

#pragma unroll
	for (i = 0; i < (int)sizeof(*x); i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static __always_inline int capture_match(const struct pkt *p, const struct xdpctl_capture_filter *f)
{
	if (f->a.family) {
		if (f->b.family) {
			if (!((addr_eq(&p->src, &f->a) && addr_eq(&p->dst, &f->b)) ||
			      (addr_eq(&p->src, &f->b) && addr_eq(&p->dst, &f->a))))
				return 0;
		} else if (!addr_eq(&p->src, &f->a) && !addr_eq(&p->dst, &f->a)) {
			return 0;
		}
	}
	if (f->l4proto && p->l4proto != f->l4proto)
		return 0;
	if (f->port && p->sport != f->port && p->dport != f->port)
		return 0;
	return 1;
}

/**
 * capture_begin - decide whether @p is captured and fill the record header.
 * @return the scratch record with *@lenp (1..XDPCTL_CAPTURE_SNAP_MAX) bytes
 * to copy into rec->data, or NULL: not captured (filter, sample, rate).
 */
static __always_inline struct capture_rec *
capture_begin(const struct pkt *p, __u32 ifindex, __u8 hook, __u32 reason, __u32 out_ifindex,
	      int action, __u32 *lenp, struct xdpctl_capstat **stp)
{
	struct xdpctl_capture_filter *f;
	struct xdpctl_config *cfg;
	struct xdpctl_capstat *st;
	struct capture_rec *rec;
	__u32 key = 0, len, rate;
	__u64 now;

	cfg = bpf_map_lookup_elem(&xdpctl_config, &key);
	st = bpf_map_lookup_elem(&xdpctl_capstat, &key);
	rec = bpf_map_lookup_elem(&xdpctl_capbuf, &key);
	if (!cfg || !st || !rec)
		return NULL;
	f = &cfg->cap;
	if (!capture_match(p, f))
		return NULL;
	if (f->sample > 1 && bpf_get_prandom_u32() % f->sample)
		return NULL;
	now = bpf_ktime_get_ns();
	rate = f->rate ? f->rate : XDPCTL_CAPTURE_RATE_DEFAULT;
	if (now - st->window_ns >= 1000000000ull) {
		st->window_ns = now;
		st->window_pkts = 0;
	}
	if (st->window_pkts >= rate) {
		st->rate_limited++;
		return NULL;
	}
	st->window_pkts++;

	len = p->len < f->snaplen ? p->len : f->snaplen;
	if (len > XDPCTL_CAPTURE_SNAP_MAX)
		len = XDPCTL_CAPTURE_SNAP_MAX;
	if (len < 1)
		return NULL;
	rec->h.ts_ns = now;
	rec->h.ifindex = ifindex;
	rec->h.out_ifindex = out_ifindex;
	rec->h.pkt_len = p->len;
	rec->h.cap_len = len;
	rec->h.hook = hook;
	rec->h.reason = reason;
	rec->h.action = action;
	rec->h.l4proto = p->l4proto;
	rec->h.family = p->src.family;
	rec->h.pad = 0;
	rec->h.sport = p->sport;
	rec->h.dport = p->dport;
	rec->h.pad2 = 0;
	__builtin_memcpy(rec->h.src, p->src.addr, 16);
	__builtin_memcpy(rec->h.dst, p->dst.addr, 16);
	*lenp = len;
	*stp = st;
	return rec;
}

/* Send the record with @len frame bytes (already in rec->data) to the ring. */
static __always_inline void capture_commit(struct capture_rec *rec, __u32 len,
					   struct xdpctl_capstat *st)
{
	if (len < 1 || len > XDPCTL_CAPTURE_SNAP_MAX)
		return;
	if (bpf_ringbuf_output(&xdpctl_capture, rec, sizeof(rec->h) + len, 0))
		st->ring_full++;
	else
		st->captured++;
}

/* At the verdict of an XDP program: capture @p if a reader wants it. */
static __always_inline void capture_xdp(struct xdp_md *ctx, const struct pkt *p, int trace,
					__u32 ifindex, __u8 hook, __u32 reason,
					__u32 out_ifindex, int action)
{
	struct xdpctl_capstat *st = NULL;
	struct capture_rec *rec;
	__u32 len = 0;

	if (!(trace & OBS_CAPTURE))
		return;
	rec = capture_begin(p, ifindex, hook, reason, out_ifindex, action, &len, &st);
	if (!rec || !st || len < 1 || len > XDPCTL_CAPTURE_SNAP_MAX)
		return;
	if (bpf_xdp_load_bytes(ctx, 0, rec->data, len))
		return;
	capture_commit(rec, len, st);
}

/* At the verdict of a tc program: capture @p if a reader wants it. */
static __always_inline void capture_skb(struct __sk_buff *skb, const struct pkt *p, int trace,
					__u32 ifindex, __u8 hook, __u32 reason,
					__u32 out_ifindex, int action)
{
	struct xdpctl_capstat *st = NULL;
	struct capture_rec *rec;
	__u32 len = 0;

	if (!(trace & OBS_CAPTURE))
		return;
	rec = capture_begin(p, ifindex, hook, reason, out_ifindex, action, &len, &st);
	if (!rec || !st || len < 1 || len > XDPCTL_CAPTURE_SNAP_MAX)
		return;
	if (bpf_skb_load_bytes(skb, 0, rec->data, len))
		return;
	capture_commit(rec, len, st);
}

#endif /* XDPCTL_CAPTURE_H */
