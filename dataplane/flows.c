// SPDX-License-Identifier: GPL-2.0-only
/*
 * The flows on the conntrack fast path: a walk of the pinned LRU flow table
 * (per CPU: counters summed, the latest last-seen time and its hook taken).
 */
#include <stdlib.h>
#include <time.h>
#include <bpf/bpf.h>

#include "internal.h"

int xdpctl_dp__flows_for_each(struct xdpctl_dp *dp, xdpctl_flow_cb cb, void *ctx)
{
	int fd = dp_map_fd(dp, DP_MAP_FLOWS);
	struct xdpctl_flow_key *keys = NULL, key;
	struct xdpctl_flow *vals = NULL;
	struct xdpctl_flow_info fi;
	struct timespec now;
	size_t n = 0, i;
	int c, err = 0;

	if (!dp || !cb)
		return dp_ret(-EINVAL);
	if (fd < 0)
		return dp_err(dp, -ENOENT, "%s/%s: no such pinned map", dp->pin_dir, XDPCTL_MAP_FLOWS);
	keys = calloc(XDPCTL_MAX_FLOWS, sizeof(*keys));
	vals = calloc(dp->ncpus, sizeof(*vals));
	if (!keys || !vals) {
		err = dp_err(dp, -ENOMEM, "out of memory");
		goto out;
	}
	/* Keys first (bounded by the map's size), then each value: entries may go meanwhile. */
	while (n < XDPCTL_MAX_FLOWS && !bpf_map_get_next_key(fd, n ? &keys[n - 1] : NULL, &key))
		keys[n++] = key;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(fd, &keys[i], vals))
			continue;
		memset(&fi, 0, sizeof(fi));
		fi.key = keys[i];
		for (c = 0; c < dp->ncpus; c++) {
			const struct xdpctl_flow *v = &vals[c];

			if (!v->packets)
				continue;
			if (!fi.flow.packets || v->last_ns > fi.flow.last_ns) {
				__u64 p = fi.flow.packets, b = fi.flow.bytes;

				fi.flow = *v;
				fi.flow.packets = p;
				fi.flow.bytes = b;
			}
			fi.flow.packets += v->packets;
			fi.flow.bytes += v->bytes;
		}
		if (!fi.flow.packets)
			continue;
		fi.idle_s = ((double)now.tv_sec * 1e9 + (double)now.tv_nsec - (double)fi.flow.last_ns) / 1e9;
		if (fi.idle_s < 0)
			fi.idle_s = 0;
		err = cb(&fi, ctx);
		if (err)
			break;
	}
out:
	free(keys);
	free(vals);
	return dp_ret(err);
}
