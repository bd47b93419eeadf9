// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel memory of the pinned state: what each map takes now, as the kernel
 * accounts it (the "memlock" line of the map fd's fdinfo, which on current
 * kernels is the map's real usage, not its worst case).
 */
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>

#include "internal.h"

__u64 xdpctl_map_fd_memory(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

int xdpctl_dp__for_each_map(struct xdpctl_dp *dp, xdpctl_map_usage_cb cb, void *ctx)
{
	int m, r;

	if (!dp || !cb)
		return dp_err(dp, -EINVAL, "no state or no callback");
	for (m = 0; m < DP_MAP_MAX; m++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		struct xdpctl_map_usage u = {};

		if (dp->map_fd[m] < 0)
			continue;
		if (bpf_obj_get_info_by_fd(dp->map_fd[m], &info, &len))
			return dp_err(dp, -errno, "reading map %s: %s", dp_map_name(m),
				      strerror(errno));
		snprintf(u.name, sizeof(u.name), "%s", dp_map_name(m));
		u.type = info.type;
		u.id = info.id;
		u.max_entries = info.max_entries;
		u.map_flags = info.map_flags;
		u.memory_bytes = xdpctl_map_fd_memory(dp->map_fd[m]);
		r = cb(&u, ctx);
		if (r)
			return r;
	}
	return 0;
}
