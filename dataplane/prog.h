/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Programs (prog.c): loading the skeletons against the pinned maps, telling
 * xdpctl's programs (of this state, of another, of none) from others', and
 * the kernel features probed at run time.
 */
#ifndef XDPCTL_DP_PROG_H
#define XDPCTL_DP_PROG_H

#include "internal.h"

/* Program names as the kernel reports them (bpf_prog_info.name). */
#define DP_PROG_XDP    "xdpctl_xdp"
#define DP_PROG_TC_IN  "xdpctl_tc_in"
#define DP_PROG_TC_FWD "xdpctl_tc_fwd"
#define DP_PROG_PASS   "xdpctl_pass"

/* Name of a program by id; 0 or negative errno (-ENOENT: no such program). */
int dp_prog_name(__u32 id, char name[BPF_OBJ_NAME_LEN]);
/* Does program @id carry @name and use this state's maps? */
bool dp_prog_is_ours(const struct xdpctl_dp *dp, __u32 id, const char *name);
/*
 * Does program @id carry our program name @name without using this
 * state's maps (@dp NULL: no state)? Then it is xdpctl's, of another pin
 * dir or of a state whose pins were lost: an orphan we may take over.
 */
bool dp_prog_orphan(const struct xdpctl_dp *dp, __u32 id, const char *name);

/*
 * The timeouts the fast path keeps entries alive for, in ms, from this
 * netns's sysctls (defaults when unreadable): set into a skeleton's rodata.
 */
void dp_ct_timeouts(__u32 *tcp_ms, __u32 *udp_ms);
/* Program type ext (freplace), which libxdp's dispatcher needs; probed once. */
bool dp_have_freplace(void);

struct xdpctl_xdp;
struct xdpctl_tc;
/* Open and load a skeleton reusing the pinned maps (-EEXIST: a stale pin). */
int dp_load_xdp(struct xdpctl_dp *dp, struct xdpctl_xdp **out);
/* The tc object with only @prog (DP_PROG_TC_IN or DP_PROG_TC_FWD) loaded. */
int dp_load_tc(struct xdpctl_dp *dp, const char *prog, struct xdpctl_tc **out);

#endif /* XDPCTL_DP_PROG_H */
