// SPDX-License-Identifier: GPL-2.0-only
/* The bench's reference forwarders: the least an XDP or a tc bypass can do. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Set by benchprog before load. ref_macs: the frame's first 12 bytes as the
 * container should see them (its MAC, then the gateway's), as three words;
 * dst_ip in network byte order; target_ifindex in the uplink's namespace. */
const volatile __u32 ref_macs[3];
const volatile __be32 ref_dst_ip;
const volatile __u32 ref_target;

/* key and value: the host-side veth's ifindex (written from the uplink's netns). */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} ref_devmap SEC(".maps");

/*
 * ref_redirect - attached by `benchprog attach ref` to the lab's uplink
 * (native XDP). IPv4 frames for ref_dst_ip get the container's MACs and go
 * through the devmap into the container's host-side veth; everything else
 * (ARP, IPv6, other hosts) passes. No TTL, no counters, no checks: the
 * yardstick for xdpctl's XDP engine.
 */
SEC("xdp")
int ref_redirect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 *macs = data;

	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->daddr != ref_dst_ip)
		return XDP_PASS;
	/* Word by word from the volatile: a memcpy casting it away lets clang fold zeros. */
	macs[0] = ref_macs[0];
	macs[1] = ref_macs[1];
	macs[2] = ref_macs[2];
	return bpf_redirect_map(&ref_devmap, ref_target, XDP_PASS);
}

/*
 * ref_redirect_peer - attached by `benchprog attach reftc` to the lab's
 * uplink at tc clsact ingress: the same as ref_redirect, but handed to the
 * container's namespace by bpf_redirect_peer (ref_target's peer). The
 * yardstick for xdpctl's tc engine (and engine auto, whose hits tc takes).
 */
SEC("tc")
int ref_redirect_peer(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 *macs = data;

	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->daddr != ref_dst_ip)
		return TC_ACT_OK;
	macs[0] = ref_macs[0];
	macs[1] = ref_macs[1];
	macs[2] = ref_macs[2];
	return bpf_redirect_peer(ref_target, 0);
}

/*
 * ref_pass - attached by `benchprog attach pass` to the container end of the
 * veth: a veth delivers frames redirected into it only when its receiving
 * end runs an XDP program (NAPI). Passes everything.
 */
SEC("xdp")
int ref_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
