/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The bottom of the dataplane library's file stack (docs/design.md, "The
 * file stack"): helpers that need no handle. Logging through the print
 * callback, libbpf's and libxdp's messages, errno, rule keys, sysctls.
 */
#ifndef XDPCTL_DP_UTIL_H
#define XDPCTL_DP_UTIL_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <net/if.h>
#include <linux/types.h>
#include <linux/bpf.h>

#include "xdpctl/dataplane.h"

void dp_log(enum xdpctl_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Route libbpf's and libxdp's messages through our print callback. */
void dp_hook_lib_prints(void);
/*
 * The path of the last "couldn't reuse pinned map" libbpf reported in this
 * thread ("" if none); dp_libbpf_clear() forgets it.
 */
const char *dp_libbpf_stale_path(void);
void dp_libbpf_clear(void);

/* Set errno from a negative return value and return it. */
static inline int dp_ret(int err)
{
	if (err < 0)
		errno = -err;
	return err;
}

/* A rule key: IPv4 (zero beyond the first 4 bytes) or IPv6, zero padding. */
bool dp_addr_valid(const struct xdpctl_addr *a);
/* @a as text into @buf ("(invalid address)" if it is none); returns @buf. */
const char *dp_addr_str(const struct xdpctl_addr *a, char buf[64]);

/*
 * Read or write one number in a /proc/sys file; 0 or a negative errno.
 * /proc/sys/net is the opener's netns's: call them in the netns meant.
 */
int dp_sysctl_read(const char *path, unsigned long *v);
int dp_sysctl_write(const char *path, unsigned long v);

#endif /* XDPCTL_DP_UTIL_H */
