// SPDX-License-Identifier: GPL-2.0-only
/*
 * Candidate layouts of the bypass rule map, for rule_layout.c: one program
 * per layout, each looking up the rule for the frame's IPv6 destination
 * (the key of abi.h, struct xdpctl_addr) and updating its counters as the
 * real programs do. Run only by BPF_PROG_TEST_RUN.
 */
#include "lib/compat.h"

#define L_ENTRIES 1048576

/* 56 bytes: config and counters, as struct xdpctl_bypass. */
struct l_rule {
	__u32 ifindex;
	__u16 mtu;
	__u16 flags;
	__u8 dmac[6];
	__u8 smac[6];
	__u64 in_packets;
	__u64 in_bytes;
	__u64 out_packets;
	__u64 out_bytes;
};

/* 24 bytes: config only, and the slot of its counters. */
struct l_conf {
	__u32 ifindex;
	__u16 mtu;
	__u16 flags;
	__u8 dmac[6];
	__u8 smac[6];
	__u32 slot;
	__u32 pad;
};

struct l_cnt {
	__u64 in_packets;
	__u64 in_bytes;
	__u64 out_packets;
	__u64 out_bytes;
};

/* ABI 5: per-CPU hash, config copied per CPU, plain increments. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, L_ENTRIES);
	__type(key, struct xdpctl_addr);
	__type(value, struct l_rule);
} m_pcpu SEC(".maps");

/* Shared hash, counters in the rule, atomic adds (preallocated). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, L_ENTRIES);
	__type(key, struct xdpctl_addr);
	__type(value, struct l_rule);
} m_hash SEC(".maps");

/* The same, not preallocated (elements from kmalloc): ABI 6. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, L_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xdpctl_addr);
	__type(value, struct l_rule);
} m_nopre SEC(".maps");

/* Shared hash of config, per-CPU array of counters indexed by the rule's slot. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, L_ENTRIES);
	__type(key, struct xdpctl_addr);
	__type(value, struct l_conf);
} m_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, L_ENTRIES);
	__type(key, __u32);
	__type(value, struct l_cnt);
} m_cnt SEC(".maps");

/* The key from an untagged IPv6 frame's destination; 0 if too short. */
static __always_inline int key_of(struct xdp_md *ctx, struct xdpctl_addr *k)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);

	if ((void *)(ip6 + 1) > data_end)
		return 0;
	__builtin_memcpy(k->addr, &ip6->daddr, 16);
	k->family = XDPCTL_AF_INET6;
	return 1;
}

#define LEN(ctx) ((__u32)((ctx)->data_end - (ctx)->data))

SEC("xdp")
int l_none(struct xdp_md *ctx)
{
	struct xdpctl_addr k = {};

	return key_of(ctx, &k) && k.addr[15] == 0xff && k.addr[14] == 0xff ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int l_pcpu(struct xdp_md *ctx)
{
	struct xdpctl_addr k = {};
	struct l_rule *r;

	if (!key_of(ctx, &k))
		return XDP_ABORTED;
	r = bpf_map_lookup_elem(&m_pcpu, &k);
	if (!r)
		return XDP_PASS;
	r->in_packets++;
	r->in_bytes += LEN(ctx);
	return r->ifindex ? XDP_TX : XDP_PASS;
}

static __always_inline int shared(struct xdp_md *ctx, void *map)
{
	struct xdpctl_addr k = {};
	struct l_rule *r;

	if (!key_of(ctx, &k))
		return XDP_ABORTED;
	r = bpf_map_lookup_elem(map, &k);
	if (!r)
		return XDP_PASS;
	__sync_fetch_and_add(&r->in_packets, 1);
	__sync_fetch_and_add(&r->in_bytes, LEN(ctx));
	return r->ifindex ? XDP_TX : XDP_PASS;
}

SEC("xdp")
int l_hash(struct xdp_md *ctx)
{
	return shared(ctx, &m_hash);
}

SEC("xdp")
int l_nopre(struct xdp_md *ctx)
{
	return shared(ctx, &m_nopre);
}

SEC("xdp")
int l_slot(struct xdp_md *ctx)
{
	struct xdpctl_addr k = {};
	struct l_conf *r;
	struct l_cnt *c;

	if (!key_of(ctx, &k))
		return XDP_ABORTED;
	r = bpf_map_lookup_elem(&m_conf, &k);
	if (!r)
		return XDP_PASS;
	c = bpf_map_lookup_elem(&m_cnt, &r->slot);
	if (c) {
		c->in_packets++;
		c->in_bytes += LEN(ctx);
	}
	return r->ifindex ? XDP_TX : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
