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

/*
 * The container veths' return program (DP_PROG_TC_FWD with its tail call),
 * loaded once per pin dir and shared by every veth: fds of the program and
 * of its tail-call array (-1: none yet).
 */
struct dp_retprog {
	int prog_fd;
	int tail_fd;
};
#define DP_RETPROG_NONE ((struct dp_retprog){ .prog_fd = -1, .tail_fd = -1 })
/*
 * Fill @r (a no-op when it is filled): from the pins DP_PIN_RET and
 * DP_PIN_RET_TAIL when they hold this state's program of this build (name,
 * this state's stats map, the rodata's build stamp and conntrack timeouts)
 * with its tail call in place, else loaded and pinned, replacing stale pins.
 */
int dp_retprog_get(struct xdpctl_dp *dp, struct dp_retprog *r);
/* Close @r's fds. */
void dp_retprog_put(struct dp_retprog *r);

#endif /* XDPCTL_DP_PROG_H */
