/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Network namespaces (netns.c): open one by name or path, find the one
 * behind an nsid, run a function inside one.
 */
#ifndef XDPCTL_DP_NETNS_H
#define XDPCTL_DP_NETNS_H

#include "nl.h"

/*
 * Find the netns with id @nsid among /run/netns/ *, /var/run/docker/netns/ *
 * and /proc/ * /ns/net; returns an open fd and fills @path, or -ENOENT.
 */
int dp_netns_find(int nsid, char *path, size_t len);
/* Open NAME (under /run/netns) or a path; fd or negative errno. */
int dp_netns_open(const char *name_or_path);
/*
 * Is the netns open at @fd the one a veth peer with @link_nsid (as seen
 * from here, -1: this netns) lives in? 1 yes, 0 no, negative errno.
 */
int dp_netns_is(int fd, int link_nsid);
/*
 * Run fn(arg) inside the netns open at @nsfd (this thread enters it and
 * comes back); @nsfd < 0: here. Returns fn's value or a negative errno.
 */
int dp_in_netns(int nsfd, int (*fn)(void *), void *arg);

#endif /* XDPCTL_DP_NETNS_H */
