/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The library's one rtnetlink client (nl.c): links by name or index (also
 * in a peer's netns by nsid), link and address dumps, netns ids and tc
 * filter counts, each in the netns of the calling thread. Names and
 * ifindexes come from netlink, never from /sys/class/net, which shows the
 * wrong namespace under nsenter.
 */
#ifndef XDPCTL_DP_NL_H
#define XDPCTL_DP_NL_H

#include "internal.h"

struct dp_link {
	__u32 ifindex;
	char name[IF_NAMESIZE];
	__u8 mac[6];
	__u32 mtu;
	__u32 master;            /* ifindex of the bridge, 0 if none */
	__u32 link;              /* veth: the peer's ifindex (in its netns) */
	int link_nsid;           /* nsid of the peer's netns, -1: this netns */
	char kind[16];           /* "veth", "bridge", "" */
	__u32 xdp_prog_id;
};
/*
 * RTM_GETLINK by name (ifindex 0) or by ifindex, in the current netns or,
 * with nsid >= 0, in the netns with that id as seen from the current one.
 * -ENODEV when there is no such device.
 */
int dp_link_get(const char *name, __u32 ifindex, int nsid, struct dp_link *out);
/* Name of @ifindex in the current netns; -ENODEV if gone. */
int dp_ifname(__u32 ifindex, char name[IF_NAMESIZE]);
/*
 * Every link of the current netns to @cb (a non-zero return stops the
 * dump). A dump also gives every veth peer's netns an nsid. 0, the
 * kernel's negative errno or @cb's negative value.
 */
int dp_link_dump(int (*cb)(const struct dp_link *l, void *arg), void *arg);

/* One address of the current netns: IFA_LOCAL, else IFA_ADDRESS. */
struct dp_nl_addr {
	__u32 ifindex;
	int family;              /* AF_INET or AF_INET6 */
	__u8 scope;              /* RT_SCOPE_* */
	__u8 len;                /* 4 or 16 */
	__u8 addr[16];
};
/* Every address of @family (AF_UNSPEC: all) to @cb, as dp_link_dump(). */
int dp_addr_dump(int family, int (*cb)(const struct dp_nl_addr *a, void *arg), void *arg);

/* nsid (as seen from the current netns) of the netns open at @fd; -1 none. */
int dp_nsid_of_fd(int fd, int *nsid);
/* Number of tc filters under @parent of @ifindex (0: none); negative errno. */
int dp_tc_filter_count(__u32 ifindex, __u32 parent);

#endif /* XDPCTL_DP_NL_H */
