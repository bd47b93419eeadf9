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

/*
 * The uplink's ifaces entry, copied per CPU: a lookup of the ifaces hash
 * costs about as much as parsing the frame (docs/perf.md, section D), and
 * the front needs the same entry for every packet of a device. A slot per
 * ifindex & (XDPCTL_IFC_SLOTS - 1) holds a copy (or "no entry") with the
 * ifaces generation it was made at (abi.h, struct xdpctl_config); a slot
 * of another generation or another ifindex is refilled from the hash. A
 * per-CPU array lookup is inlined by the JIT: a few instructions, no call.
 * Not pinned: each program object has its own copies, all checked against
 * the one pinned generation. A zeroed slot (ifindex 0) matches no device.
 * Devices whose ifindexes share a slot take turns refilling it (a hash
 * lookup each, as without the copy): a host has one uplink or a few, and
 * the container veths' return path looks up only the uplinks.
 */
#define XDPCTL_IFC_SLOTS 8
struct ifc_slot {
	__u32 gen;      /* ifaces_gen when the copy was made */
	__u32 ifindex;  /* the device it is the copy of; 0: none */
	__u32 present;  /* 0: the device had no entry */
	struct xdpctl_iface dev;
};
_Static_assert(sizeof(struct ifc_slot) == 32, "two slots per cache line");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPCTL_IFC_SLOTS);
	__type(key, __u32);
	__type(value, struct ifc_slot);
} xdpctl_ifc SEC(".maps");

/**
 * iface_cached - the xdpctl_ifaces entry of @ifindex (NULL: none), from
 * this CPU's copy when it was made at generation @gen, which the caller
 * read from the config map before this call (trace_enabled_gen()).
 *
 * Why a copy is never served stale past the next packet: user space
 * writes or deletes the hash entry first and adds 1 to the generation
 * after it (dataplane/state.c, dp_ifaces_update). A program that read the
 * generation before the add may copy the old or the new entry, and files
 * the copy under the old generation: the first packet that reads the new
 * generation (every one after the add) finds the slot outdated and takes
 * the entry from the hash again, which by then holds the new one. A
 * program that read the new generation reads the hash after the write.
 * So once the xdpctl command that changed the entry has returned, every
 * program run that starts afterwards uses the new entry. (The loads keep
 * their order on x86, TSO; the slot is this CPU's, and programs on one CPU
 * do not nest in the softirq that runs XDP and tc.) The generation is 32
 * bits: a slot would have to stay untouched through 2^32 writes of the
 * ifaces map to match a later generation by chance.
 * The copy is read-only for the caller.
 */
static __always_inline struct xdpctl_iface *iface_cached(__u32 ifindex, __u32 gen)
{
	__u32 key = ifindex & (XDPCTL_IFC_SLOTS - 1);
	struct ifc_slot *s = bpf_map_lookup_elem(&xdpctl_ifc, &key);
	struct xdpctl_iface *dev;

	if (!s)
		return bpf_map_lookup_elem(&xdpctl_ifaces, &ifindex);
	if (s->gen != gen || s->ifindex != ifindex) {
		dev = bpf_map_lookup_elem(&xdpctl_ifaces, &ifindex);
		s->gen = gen;
		s->ifindex = ifindex;
		s->present = !!dev;
		if (dev)
			s->dev = *dev;
	}
	return s->present ? &s->dev : NULL;
}

/**
 * rx_front - count and trace @p as received, parse it, and apply the L2
 * filters: broadcast/multicast, and (when @mac_filter) a destination MAC
 * other than the device's own, as its xdpctl_ifaces entry says (then
 * *@devp is that entry, or NULL: this CPU's copy, iface_cached()).
 * @len: the whole frame (XDP: data_end - data; tc: skb->len).
 * @gen: the ifaces generation, from trace_enabled_gen() (with @trace).
 * @return 0 for a parsed unicast IP packet that is ours to look at, else
 * the reason (> 0) to hand it to the stack as it is.
 */
static __always_inline int rx_front(struct pkt *p, void *data, void *data_end, __u32 len,
				    __u32 ifindex, __u8 hook, int trace, __u32 gen, int mac_filter,
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
		dev = iface_cached(ifindex, gen);
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
