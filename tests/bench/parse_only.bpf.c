// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reference for prog_cost: the frame parser of bpf/lib/parse.h and nothing
 * else (no map, no counter, no rewrite), so the cost of the real programs
 * can be read against the cost of parsing alone.
 */
#include "lib/compat.h"
#include "lib/parse.h"

/*
 * bench_parse_only - run only by BPF_PROG_TEST_RUN (never attached): parse
 * the frame, fold what the real programs read of the result into the
 * verdict so the compiler keeps the work, and return XDP_PASS.
 */
SEC("xdp")
int bench_parse_only(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt p = {};
	__u32 sum;
	int ret;

	ret = parse_frame(&p, data, data_end, data_end - data);
	sum = (__u32)ret ^ p.l4proto ^ p.icmp_type ^ p.dport ^ p.dst.addr[3] ^ p.dst.addr[15] ^
	      p.src.addr[3] ^ p.dst.family ^ p.l3_len;
	/* Never true for a frame; keeps the parse results live. */
	return sum == 0xdeadbeef ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
