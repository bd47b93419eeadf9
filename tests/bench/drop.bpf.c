// SPDX-License-Identifier: GPL-2.0-only
/* The bench's ceiling: drop every frame at the uplink's XDP hook and count it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Frames dropped, per CPU; tests/bench/benchprog sums it ("count"). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bench_drop_cnt SEC(".maps");

/*
 * bench_drop - attached by `benchprog attach drop DEV` to the lab's uplink
 * (native XDP) for the bench's XDP_DROP path: no parsing, no lookup, the
 * fastest any program on that hook can be.
 */
SEC("xdp")
int bench_drop(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *cnt;

	(void)ctx;
	cnt = bpf_map_lookup_elem(&bench_drop_cnt, &key);
	if (cnt)
		(*cnt)++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
