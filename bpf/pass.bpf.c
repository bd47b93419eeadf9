// SPDX-License-Identifier: GPL-2.0-only
/* The minimal XDP program for a container-side veth. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/*
 * xdpctl_pass - attached by the dataplane to the container end of a veth
 * when the first bypass rule for that container is installed with the XDP
 * engine, removed with the last. A veth delivers frames redirected into it
 * by XDP only when its peer runs an XDP program (NAPI); this one passes all.
 */
SEC("xdp")
int xdpctl_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
