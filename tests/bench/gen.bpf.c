// SPDX-License-Identifier: GPL-2.0-only
/* The traffic generator's XDP program, run by tests/bench/gen through
 * BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Bytes of header rewritten on every run: Ethernet, IPv4, UDP and the first
 * 6 payload bytes, as 8-byte words (gen.c keeps frames at least this long). */
#define GEN_HDR_WORDS 6
#define GEN_HDR_BYTES (GEN_HDR_WORDS * 8)

/* Set by gen.c before load: the frame's first GEN_HDR_BYTES bytes. */
const volatile __u64 gen_hdr[GEN_HDR_WORDS];

/*
 * bench_gen - never attached; run in the client namespace by
 * BPF_PROG_TEST_RUN in live-frames mode with ingress_ifindex = the client's
 * eth0. Frames are recycled through a page pool and come back after their
 * trip through the lab changed (MACs, TTL, checksum rewritten on the way),
 * so the headers are written from the template every time, then XDP_TX
 * sends the frame out of eth0 (the kernel turns it into a redirect to the
 * same device).
 */
SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 *w = data;
	int i;

	if (data + GEN_HDR_BYTES > data_end)
		return XDP_ABORTED;
#pragma unroll
	for (i = 0; i < GEN_HDR_WORDS; i++)
		w[i] = gen_hdr[i];
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
