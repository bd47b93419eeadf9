/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals shared by the files of the dataplane library (never installed):
 * the handle over the pinned state, error and log helpers, the lock, and the
 * netlink / network-namespace helpers that attach.c and rules.c build on.
 * trace.c, pathdiff.c and discover.c may use everything declared here.
 */
#ifndef XDPCTL_DP_INTERNAL_H
#define XDPCTL_DP_INTERNAL_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <net/if.h>
#include <linux/types.h>
#include <linux/bpf.h>

#include "xdpctl/dataplane.h"

/* The pinned maps, in the order of dp->map_fd[]. */
enum dp_map {
	DP_MAP_BYPASS = 0,
	DP_MAP_PINGPONG,
	DP_MAP_DEVMAP,
	DP_MAP_IFACES,
	DP_MAP_STATS,
	DP_MAP_CONFIG,
	DP_MAP_EVENTS,
	DP_MAP_CAPTURE,
	DP_MAP_CAPSTAT,
	DP_MAP_SIZES,
	DP_MAP_ABI,
	DP_MAP_FLOWS,
	DP_MAP_MAX,
};

/*
 * Our tc filters: one fixed handle and priority for every clsact filter
 * xdpctl adds (uplink ingress and host-veth ingress), so a later process
 * finds exactly what an earlier one added and nothing else.
 */
#define DP_TC_HANDLE   0x7864u /* "xd" */
#define DP_TC_PRIORITY 0x7864u

/* Program names as the kernel reports them (bpf_prog_info.name). */
#define DP_PROG_XDP    "xdpctl_xdp"
#define DP_PROG_TC_IN  "xdpctl_tc_in"
#define DP_PROG_TC_FWD "xdpctl_tc_fwd"
#define DP_PROG_PASS   "xdpctl_pass"

struct xdpctl_dp {
	char pin_dir[PATH_MAX];
	char errmsg[512];
	enum xdpctl_errkind errkind; /* of errmsg */
	char errobj[PATH_MAX];       /* what errmsg is about, "" if nothing */
	int dir_fd;              /* O_DIRECTORY fd of the pin dir: flock target */
	int lock_depth;          /* dp_lock() nesting */
	int map_fd[DP_MAP_MAX];  /* -1 when not open */
	__u32 map_id[DP_MAP_MAX];
	__u32 max_rules;         /* max_entries of the bypass map as pinned */
	int ncpus;               /* libbpf_num_possible_cpus() */
	bool create;             /* opened with opts->create */
	__u32 create_max_rules;  /* opts->max_rules (or the default) for a re-creation */
	bool created_state;      /* this handle created every map (a fresh state) */
	bool created_dir;        /* this handle made the pin dir */
	bool drop_on_close;      /* an attach on the state this handle created failed */
};

/*
 * Bytes the kernel spends on one hash element beyond key and value (struct
 * htab_elem and the bucket slot, rounded up); for sizing, not accounting.
 */
#define DP_HTAB_ELEM_BYTES 64
__u32 dp_default_max_rules(int ncpus);

/* ---- errors and logging (state.c, util.c) ---- */
/*
 * Record a one-line errmsg on @dp (NULL: the thread's open error, see
 * xdpctl_dp__errmsg(NULL)), log it at debug level, set errno and return
 * @err (a negative errno), so callers can `return dp_err(dp, -ENOENT, ...)`.
 */
int dp_err(struct xdpctl_dp *dp, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * dp_err() with the kind of failure and its object (a device, a path) for
 * xdpctl_dp__errkind()/_errobj(); dp_err() records XDPCTL_ERR_PERM for
 * -EPERM/-EACCES and XDPCTL_ERR_OTHER for the rest, with no object.
 */
int dp_errk(struct xdpctl_dp *dp, int err, enum xdpctl_errkind kind, const char *obj,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
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

/* ---- the handle (state.c) ---- */
int dp_map_fd(const struct xdpctl_dp *dp, enum dp_map m);
const char *dp_map_name(enum dp_map m);
/*
 * flock(LOCK_EX) on the pin dir around edits; nests. Once locked, the
 * pinned state must still be the one this handle opened: -ESTALE when
 * another process removed it meanwhile (a failed first attach rolling
 * back); a handle opened with create then opens (creates) it again with
 * dp_reopen() and locks once more.
 */
int dp_lock(struct xdpctl_dp *dp);
void dp_unlock(struct xdpctl_dp *dp);
int dp_reopen(struct xdpctl_dp *dp);
/*
 * Under the lock: if this handle created the state and no device, bypass
 * rule or ping-pong rule uses it, remove its pins (and the pin dir if this
 * handle made it), so that a failed first command leaves nothing behind.
 * Another process's use of the state keeps it. Returns true if removed.
 * xdpctl_dp__close() calls it after a failed attach (drop_on_close).
 */
bool dp_drop_if_unused(struct xdpctl_dp *dp);
/*
 * Before loading a skeleton opened with .pin_root_path = dp->pin_dir: every
 * map this handle has open is reused as it is; a missing bypass map gets
 * the size chosen at open.
 */
struct bpf_object;
int dp_prepare_obj(struct xdpctl_dp *dp, struct bpf_object *obj);
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

/* ---- conntrack settings of the current netns (attach.c) ---- */
/*
 * The timeouts the fast path keeps entries alive for, in ms, from this
 * netns's sysctls (defaults when unreadable): set into a skeleton's rodata.
 */
void dp_ct_timeouts(__u32 *tcp_ms, __u32 *udp_ms);

/* ---- tail-call program arrays (state.c) ---- */
/*
 * A program array loses its entries when its last user-space reference
 * goes, so each attached program's array is pinned in the pin dir as
 * "xt<kind><ifindex>" (kind 'x' XDP, 'i' tc ingress of an uplink, 'r' a
 * container veth's return path), replaced on re-attach, removed on detach.
 */
struct bpf_map;
int dp_tail_pin(struct xdpctl_dp *dp, struct bpf_map *m, char kind, __u32 ifindex);
void dp_tail_unpin(struct xdpctl_dp *dp, char kind, __u32 ifindex);

/* ---- programs and hooks (attach.c) ---- */
struct xdpctl_xdp;
struct xdpctl_tc;
/* Program type ext (freplace), which libxdp's dispatcher needs; probed once. */
bool dp_have_freplace(void);
/* Open and load a skeleton reusing the pinned maps (-EEXIST: a stale pin). */
int dp_load_xdp(struct xdpctl_dp *dp, struct xdpctl_xdp **out);
/* The tc object with only @prog (DP_PROG_TC_IN or DP_PROG_TC_FWD) loaded. */
int dp_load_tc(struct xdpctl_dp *dp, const char *prog, struct xdpctl_tc **out);
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
/*
 * The pass program on a container-side veth, in the current netns:
 * *ours is set when the device now runs xdpctl_pass (attached now or
 * before); another owner's XDP program is left alone (*ours false).
 */
int dp_pass_attach(__u32 ifindex, bool *ours);
int dp_pass_detach(__u32 ifindex);
/* XDP-redirect counters of veth @name in the current netns (fill_status). */
int dp_veth_xmit_stats(const char *name, __u64 *xmit, __u64 *errors);

/* ---- rules (rules.c) ---- */
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
/* Undo the per-veth setup of the host veth @ifindex (entry @e), best effort. */
int dp_veth_teardown(struct xdpctl_dp *dp, __u32 ifindex, const struct xdpctl_iface *e);

/* ---- netlink and namespaces (netns.c) ---- */
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
/* nsid (as seen from the current netns) of the netns open at @fd; -1 none. */
int dp_nsid_of_fd(int fd, int *nsid);
/*
 * Find the netns with id @nsid among /run/netns/ *, /var/run/docker/netns/ *
 * and /proc/ * /ns/net; returns an open fd and fills @path, or -ENOENT.
 */
int dp_netns_find(int nsid, char *path, size_t len);
/* Open NAME (under /run/netns) or a path; fd or negative errno. */
int dp_netns_open(const char *name_or_path);
/*
 * Run fn(arg) inside the netns open at @nsfd (this thread enters it and
 * comes back); @nsfd < 0: here. Returns fn's value or a negative errno.
 */
int dp_in_netns(int nsfd, int (*fn)(void *), void *arg);
/* Number of tc filters under @parent of @ifindex (0: none); negative errno. */
int dp_tc_filter_count(__u32 ifindex, __u32 parent);

/* ---- leases on tracing and capture (lease.c) ---- */
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

#endif /* XDPCTL_DP_INTERNAL_H */
