// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ping-pong rules: addresses whose ICMP echo requests the programs answer
 * themselves, at the XDP hook, the tc hook or both. Per-CPU like the
 * bypass rules; no device is involved.
 */
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>

#include "internal.h"

int xdpctl_dp__pingpong_add(struct xdpctl_dp *dp, const struct xdpctl_addr *addr, __u32 hooks)
{
	struct xdpctl_pingpong *vals;
	char a[64];
	int i, err = 0;

	if (!dp)
		return dp_ret(-EINVAL);
	if (!dp_addr_valid(addr))
		return dp_err(dp, -EINVAL, "ping-pong rule: not a valid IPv4 or IPv6 key");
	if (xdpctl_addr_special(addr))
		return dp_err(dp, -EINVAL, "%s is %s: a ping-pong reply would not be unicast",
			      dp_addr_str(addr, a), xdpctl_addr_special(addr));
	if (hooks & ~(XDPCTL_HOOKBIT_XDP | XDPCTL_HOOKBIT_TC))
		return dp_err(dp, -EINVAL, "hooks 0x%x: expected xdp, tc or both", hooks);
	if (!hooks)
		hooks = XDPCTL_HOOKBIT_XDP | XDPCTL_HOOKBIT_TC;
	dp_addr_str(addr, a);
	vals = calloc(dp->ncpus, sizeof(*vals));
	if (!vals)
		return dp_err(dp, -ENOMEM, "out of memory");
	for (i = 0; i < dp->ncpus; i++)
		vals[i].hooks = hooks;
	err = dp_lock(dp);
	if (err)
		goto out;
	if (bpf_map_update_elem(dp_map_fd(dp, DP_MAP_PINGPONG), addr, vals, BPF_NOEXIST)) {
		if (errno == EEXIST)
			err = dp_err(dp, -EEXIST, "%s: ping-pong rule exists", a);
		else if (errno == E2BIG)
			err = dp_err(dp, -E2BIG, "%s: the ping-pong map is full (%u rules)", a,
				     XDPCTL_MAX_PINGPONG);
		else
			err = dp_err(dp, -errno, "%s: writing the rule: %s", a, strerror(errno));
	}
	dp_unlock(dp);
out:
	free(vals);
	return dp_ret(err);
}

int xdpctl_dp__pingpong_del(struct xdpctl_dp *dp, const struct xdpctl_addr *addr)
{
	char a[64];
	int err;

	if (!dp)
		return dp_ret(-EINVAL);
	if (!dp_addr_valid(addr))
		return dp_err(dp, -EINVAL, "ping-pong rule: not a valid IPv4 or IPv6 key");
	err = dp_lock(dp);
	if (err)
		return err;
	if (bpf_map_delete_elem(dp_map_fd(dp, DP_MAP_PINGPONG), addr))
		err = errno == ENOENT ?
			dp_err(dp, -ENOENT, "%s: no such ping-pong rule", dp_addr_str(addr, a)) :
			dp_err(dp, -errno, "%s: deleting the rule: %s", dp_addr_str(addr, a),
			       strerror(errno));
	dp_unlock(dp);
	return dp_ret(err);
}

int xdpctl_dp__pingpong_for_each(struct xdpctl_dp *dp, xdpctl_pingpong_cb cb, void *ctx)
{
	int fd = dp_map_fd(dp, DP_MAP_PINGPONG);
	struct xdpctl_addr *keys, key;
	struct xdpctl_pingpong *vals;
	struct xdpctl_pingpong_rule r;
	size_t n = 0, i;
	int c, err = 0;

	if (!dp || !cb)
		return dp_ret(-EINVAL);
	keys = calloc(XDPCTL_MAX_PINGPONG, sizeof(*keys));
	vals = calloc(dp->ncpus, sizeof(*vals));
	if (!keys || !vals) {
		err = dp_err(dp, -ENOMEM, "out of memory");
		goto out;
	}
	/* Keys first: a callback may edit the map. */
	while (n < XDPCTL_MAX_PINGPONG &&
	       !bpf_map_get_next_key(fd, n ? &keys[n - 1] : NULL, &key))
		keys[n++] = key;
	for (i = 0; i < n && !err; i++) {
		if (bpf_map_lookup_elem(fd, &keys[i], vals))
			continue;
		memset(&r, 0, sizeof(r));
		r.addr = keys[i];
		r.hooks = vals[0].hooks;
		for (c = 0; c < dp->ncpus; c++) {
			r.packets += vals[c].packets;
			r.bytes += vals[c].bytes;
		}
		err = cb(&r, ctx);
	}
out:
	free(keys);
	free(vals);
	return err < 0 ? dp_ret(err) : err;
}
