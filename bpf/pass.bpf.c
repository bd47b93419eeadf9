// SPDX-License-Identifier: GPL-2.0-only
/* The minimal XDP program for a container-side veth. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/*
 * xdpctl_pass - attached by the dataplane to the container end of a veth
 * while an uplink runs the XDP engine (which redirects into the veth) and a
 * bypass rule uses the veth; removed when neither holds. A veth delivers
 * frames redirected into it by XDP only when its peer runs an XDP program
 * (NAPI); this one passes all. xdp.frags: it sees multi-buffer frames, so
 * the kernel accepts it on a veth whose peer has a jumbo MTU, and it keeps
 * the host veth's software GSO.
 */
SEC("xdp.frags")
int xdpctl_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
