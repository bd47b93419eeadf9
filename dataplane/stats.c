// SPDX-License-Identifier: GPL-2.0-only
/*
 * Counters and the trace switch: the per-CPU stats map summed over the
 * possible CPUs, the names of reasons and hooks as users and JSON see them,
 * and whether a trace reader's lease is live.
 */
#include <stdlib.h>
#include <bpf/bpf.h>

#include "internal.h"

static const char *const reason_names[XDPCTL_REASON_MAX] = {
	[XDPCTL_R_RX] = "rx",
	[XDPCTL_R_PASS] = "pass",
	[XDPCTL_R_PINGPONG] = "pingpong",
	[XDPCTL_R_BYPASS] = "bypass",
	[XDPCTL_R_REDIRECT_ERR] = "redirect_error",
	[XDPCTL_R_MALFORMED] = "malformed",
	[XDPCTL_R_TOO_BIG] = "too_big",
	[XDPCTL_R_TTL] = "ttl_expired",
	[XDPCTL_R_NOT_US] = "not_for_us",
	[XDPCTL_R_BCAST] = "broadcast",
	[XDPCTL_R_UNKNOWN_L3] = "unknown_l3",
	[XDPCTL_R_FRAGMENT] = "fragment",
	[XDPCTL_R_VLAN] = "vlan",
	[XDPCTL_R_FIB_MISS] = "fib_miss",
	[XDPCTL_R_NOT_UPLINK] = "not_uplink",
	[XDPCTL_R_TO_TC] = "to_tc",
	[XDPCTL_R_MARTIAN] = "martian_source",
	[XDPCTL_R_EXT_HDR] = "ext_header",
	[XDPCTL_R_CT_NEW] = "ct_new",
	[XDPCTL_R_CT_CLOSING] = "ct_closing",
	[XDPCTL_R_CT_NO_CONTAINER] = "ct_no_container",
	[XDPCTL_R_CT_POLICY] = "ct_policy",
	[XDPCTL_R_CT_FWD] = "ct_forward",
	[XDPCTL_R_ND] = "neighbour_discovery",
	[XDPCTL_R_NOT_TCPUDP] = "ct_not_tcp_udp",
};

static const char *const hook_names[XDPCTL_HOOK_MAX] = {
	[XDPCTL_HOOK_XDP] = "xdp",
	[XDPCTL_HOOK_TC_IN] = "tc_ingress",
	[XDPCTL_HOOK_TC_FWD] = "tc_return",
};

const char *xdpctl_reason_name(unsigned int reason)
{
	return reason < XDPCTL_REASON_MAX && reason_names[reason] ? reason_names[reason] : "unknown";
}

const char *xdpctl_hook_name(unsigned int hook)
{
	return hook < XDPCTL_HOOK_MAX ? hook_names[hook] : "unknown";
}

int xdpctl_dp__stats(struct xdpctl_dp *dp,
		     struct xdpctl_counter out[XDPCTL_HOOK_MAX][XDPCTL_REASON_MAX])
{
	int fd = dp_map_fd(dp, DP_MAP_STATS);
	struct xdpctl_counter *vals;
	__u32 key, hook, reason;
	int c, err = 0;

	if (!dp || !out)
		return dp_ret(-EINVAL);
	vals = calloc(dp->ncpus, sizeof(*vals));
	if (!vals)
		return dp_err(dp, -ENOMEM, "out of memory");
	for (hook = 0; hook < XDPCTL_HOOK_MAX; hook++) {
		for (reason = 0; reason < XDPCTL_REASON_MAX; reason++) {
			struct xdpctl_counter *o = &out[hook][reason];

			key = XDPCTL_STATS_KEY(hook, reason);
			o->packets = o->bytes = 0;
			if (bpf_map_lookup_elem(fd, &key, vals)) {
				err = dp_err(dp, -errno, "reading %s key %u: %s", XDPCTL_MAP_STATS,
					     key, strerror(errno));
				goto out;
			}
			for (c = 0; c < dp->ncpus; c++) {
				o->packets += vals[c].packets;
				o->bytes += vals[c].bytes;
			}
		}
	}
out:
	free(vals);
	return dp_ret(err);
}

int xdpctl_dp__trace_enabled(struct xdpctl_dp *dp, bool *on)
{
	int readers = 0, err;

	if (!dp || !on)
		return dp_ret(-EINVAL);
	err = dp_lease_state(dp, DP_LEASE_TRACE, NULL, &readers);
	if (err)
		return err;
	*on = readers > 0;
	return 0;
}

int xdpctl_dp__readers(struct xdpctl_dp *dp, int *trace, int *capture)
{
	int err;

	if (!dp || !trace || !capture)
		return dp_ret(-EINVAL);
	err = dp_lease_state(dp, DP_LEASE_TRACE, NULL, trace);
	if (!err)
		err = dp_lease_state(dp, DP_LEASE_CAPTURE, NULL, capture);
	return err;
}
