/* SPDX-License-Identifier: GPL-2.0-only */
/* Leases on tracing and capture (lease.c): one slot per reader, renewed while it reads. */
#ifndef XDPCTL_DP_LEASE_H
#define XDPCTL_DP_LEASE_H

#include "internal.h"

enum dp_lease_kind {
	DP_LEASE_TRACE,
	DP_LEASE_CAPTURE,
};
/* One reader's slot; the fds are its own, so it may outlive the handle. */
struct dp_lease {
	int cfg_fd;
	int dir_fd;            /* flock target: the pin dir, opened anew */
	int outer_fd;          /* the events map (array of rings), -1: no ring */
	int ring_fd;           /* the reader's ring, put at the slot (the caller's fd) */
	__u32 ring_id;
	enum dp_lease_kind kind;
	int slot;              /* -1: none held */
	__u64 until_ns;        /* what we wrote into the slot */
	__u64 renewed_ns;
};
__u64 dp_mono_ns(void);
/*
 * Take a free slot for XDPCTL_LEASE_MS (-EBUSY: all held); @f for capture;
 * @ring_fd >= 0 (trace): the reader's ring, put at the slot in the events
 * map before the slot is live and taken out after it is dead.
 */
int dp_lease_take(struct xdpctl_dp *dp, enum dp_lease_kind kind,
		  const struct xdpctl_capture_filter *f, int ring_fd, struct dp_lease *l);
/*
 * Renew when a quarter of the lease has passed; cheap otherwise. A slot
 * that lapsed meanwhile (the reader stalled) is taken again.
 */
int dp_lease_renew(struct dp_lease *l);
/* Give the slot back and close the fds; safe on a lease never taken. */
void dp_lease_release(struct dp_lease *l);
/* Live readers of @kind now (0 when the lease lapsed), and the config. */
int dp_lease_state(struct xdpctl_dp *dp, enum dp_lease_kind kind, struct xdpctl_config *out,
		   int *readers);

#endif /* XDPCTL_DP_LEASE_H */
