/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Single bypass rules (bypass.c), and what the bulk load above it shares:
 * a rule's value and the batched walk of the bypass map.
 */
#ifndef XDPCTL_DP_BYPASS_H
#define XDPCTL_DP_BYPASS_H

#include "veth.h"

/* A rule's value: into @val whole (GCC's -fsanitize bounds analysis). */
void dp_bypass_value(struct xdpctl_bypass *val, __u32 ifindex, __u16 mtu, const __u8 *dmac,
		     const __u8 *smac);

typedef int (*dp_bypass_batch_fn)(struct xdpctl_dp *dp, const struct xdpctl_addr *keys,
				  const struct xdpctl_bypass *vals, __u32 count, void *ctx);
/*
 * Walk the bypass map by batch lookups (a million rules in well under a
 * second): @fn sees each batch, the keys with their values (one each: the
 * map is shared by the CPUs), and stops the walk by returning non-zero.
 * @return 0, @fn's non-zero value, or a negative errno of the lookup.
 */
int dp_bypass_walk(struct xdpctl_dp *dp, dp_bypass_batch_fn fn, void *ctx);

#endif /* XDPCTL_DP_BYPASS_H */
