/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Container veths (veth.c): resolving a host-side veth and its peer, the
 * per-veth setup a first bypass rule needs and its teardown after the
 * last, the pass program on the peers while an uplink redirects by XDP.
 */
#ifndef XDPCTL_DP_VETH_H
#define XDPCTL_DP_VETH_H

#include "hook.h"
#include "netns.h"

/* A host-side veth as a bypass rule names it. */
struct dp_veth {
	struct dp_link host;     /* the host-side veth, current netns */
	struct dp_link peer;     /* the container side, its own netns */
	__u8 smac[6];            /* default source MAC: the bridge's, else the veth's */
	__u16 mtu;
};
/* The veth named @dev (or, with no name, at @ifindex) and its peer into @v. */
int dp_veth_resolve(struct xdpctl_dp *dp, const char *dev, __u32 ifindex, struct dp_veth *v);
/*
 * The peer's netns: @given by the caller (checked), or found by nsid. An
 * fd, -1 when the peer is in this netns, or another negative errno.
 */
int dp_veth_netns(struct xdpctl_dp *dp, const struct dp_veth *v, const char *given);
/*
 * First rule for veth @v: devmap entry, tc return path on the host veth
 * (the shared return program @ret, filled here when empty: the caller puts
 * it), pass program on the peer (netns @nsfd). Fills @ent; undoes itself on
 * error.
 */
int dp_veth_setup(struct xdpctl_dp *dp, const struct dp_veth *v, int nsfd,
		  struct dp_retprog *ret, struct xdpctl_iface *ent);
/*
 * Undo the per-veth setup of the host veth @ifindex (entry @e), best
 * effort; the last veth's also unpins the shared return program.
 */
int dp_veth_teardown(struct xdpctl_dp *dp, __u32 ifindex, const struct xdpctl_iface *e);
/* Does a container veth other than @ifindex (0: any) have an ifaces entry? */
bool dp_other_veth(struct xdpctl_dp *dp, __u32 ifindex);
/*
 * Does an attached uplink redirect bypass hits by XDP (engine xdp)? Only
 * then do the bypassed veths' peers need the pass program.
 */
bool dp_xdp_redirects(struct xdpctl_dp *dp);
/*
 * Under the lock, after an uplink's engine changed: put the pass program on
 * every bypassed veth's peer while dp_xdp_redirects(), take xdpctl's off
 * when not (best effort; failures are logged).
 */
void dp_pass_sync(struct xdpctl_dp *dp);
/* XDP-redirect counters of veth @name in the current netns (device status). */
int dp_veth_xmit_stats(const char *name, __u64 *xmit, __u64 *errors);

#endif /* XDPCTL_DP_VETH_H */
