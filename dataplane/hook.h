/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hooks (hook.c): putting a loaded program on a device and taking it off.
 * XDP through libxdp (libbpf's bpf_xdp_attach where libxdp cannot), tc
 * clsact ingress through libbpf's tc API, the pass program of a
 * container-side veth.
 */
#ifndef XDPCTL_DP_HOOK_H
#define XDPCTL_DP_HOOK_H

#include <xdp/libxdp.h>

#include "prog.h"

/*
 * Our tc filters: one fixed handle and priority for every clsact filter
 * xdpctl adds (uplink ingress and host-veth ingress), so a later process
 * finds exactly what an earlier one added and nothing else.
 */
#define DP_TC_HANDLE   0x7864u /* "xd" */
#define DP_TC_PRIORITY 0x7864u

/*
 * Put @prog_fd at clsact ingress of @ifindex under our handle and priority,
 * creating clsact if needed (*created tells). Replaces our own filter there;
 * -EBUSY when another program holds our handle and priority and !force.
 */
int dp_tc_add(struct xdpctl_dp *dp, __u32 ifindex, int prog_fd, const char *prog_name,
	      bool force, bool *created);
/*
 * Remove our filter named @prog_name from clsact ingress of @ifindex, and
 * the clsact qdisc too when @clsact_ours and no filter is left on it.
 */
int dp_tc_del(struct xdpctl_dp *dp, __u32 ifindex, const char *prog_name, bool clsact_ours);
/* Id of our filter's program at clsact ingress of @ifindex, 0 if none. */
__u32 dp_tc_prog_id(__u32 ifindex);

/* What runs at the XDP hook of a device. */
struct dp_xdp_state {
	__u32 prog_id;           /* what the device runs (a dispatcher with libxdp) */
	__u32 ours_id;           /* our program among it, 0 if none */
	__u32 orphan_id;         /* xdpctl's program of another state among it, 0 if none */
	enum xdp_attach_mode mode;
	bool dispatcher;
	char name[BPF_OBJ_NAME_LEN];
};
/* Fill @st for @ifindex, telling our @ours_name and an orphan apart. */
int dp_xdp_state(const struct xdpctl_dp *dp, __u32 ifindex, const char *ours_name,
		 struct dp_xdp_state *st);
/*
 * Put program @fd on @ifindex in @want (AUTO: native, else generic; on a
 * re-attach, the mode already in use). Our own program is replaced
 * atomically; another owner's only with @force. *direct: libxdp not used.
 * *old_fd: after a mode switch, the old program (the caller puts it back
 * if a later step fails, and closes it); -1 otherwise.
 */
int dp_xdp_attach(struct xdpctl_dp *dp, const char *dev, __u32 ifindex, int fd,
		  enum xdpctl_mode want, bool force, const struct dp_xdp_state *cur,
		  bool *direct, int *old_fd);
/* Remove program @id from @ifindex: libxdp first, else a conditional bpf_xdp_detach. */
int dp_xdp_remove(__u32 ifindex, __u32 id, enum xdp_attach_mode mode);
/* Put the program held at @fd back on @ifindex in @mode, after a failed mode switch. */
int dp_xdp_restore(__u32 ifindex, int fd, enum xdp_attach_mode mode);

/*
 * The pass program on a container-side veth, in the current netns:
 * *ours is set when the device now runs xdpctl_pass (attached now or
 * before); another owner's XDP program is left alone (*ours false).
 */
int dp_pass_attach(__u32 ifindex, bool *ours);
int dp_pass_detach(__u32 ifindex);

#endif /* XDPCTL_DP_HOOK_H */
