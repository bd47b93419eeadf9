/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The handle over the pinned state (state.c), shared by the files of the
 * dataplane library (never installed): the handle, its maps, its error
 * message, its lock and its pins. Everything else has the header of its
 * layer; docs/design.md, "The file stack", gives the order, and
 * scripts/check-layers.py keeps it.
 */
#ifndef XDPCTL_DP_INTERNAL_H
#define XDPCTL_DP_INTERNAL_H

#include "util.h"

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
	DP_MAP_FLOWSTAT,
	DP_MAP_MAX,
};

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
__u32 dp_default_max_rules(void);

/* ---- errors (state.c) ---- */
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
/*
 * Every write and delete of the ifaces map goes through these: under the
 * lock, the map edit, then the generation bump the programs' per-CPU
 * copies are checked against (abi.h, struct xdpctl_config.ifaces_gen;
 * bpf/lib/entry.h, iface_cached). As bpf_map_update_elem() and
 * bpf_map_delete_elem(): 0, or a negative errno with errno set.
 */
int dp_ifaces_update(struct xdpctl_dp *dp, __u32 ifindex, const struct xdpctl_iface *e,
		     __u64 flags);
int dp_ifaces_delete(struct xdpctl_dp *dp, __u32 ifindex);
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

/* ---- tail-call program arrays (state.c) ---- */
/*
 * A program array loses its entries when its last user-space reference
 * goes, so each attached program's array is pinned in the pin dir as
 * "xt<kind><ifindex>" (kind 'x' XDP, 'i' tc ingress of an uplink, 'r' a
 * container veth's return path), replaced on re-attach, removed on detach.
 */
int dp_tail_pin(struct xdpctl_dp *dp, int map_fd, char kind, __u32 ifindex);
void dp_tail_unpin(struct xdpctl_dp *dp, char kind, __u32 ifindex);
/* @path = pin dir + "/" + @name; -ENAMETOOLONG if it does not fit. */
int dp_pin_path(const struct xdpctl_dp *dp, const char *name, char path[PATH_MAX]);

/*
 * Pins of the container veths' return program and of the program array it
 * tail-calls through, one per pin dir (prog.c, dp_retprog_get); dp_retprog_unpin
 * removes both (the veths using it keep it and their own "xtr<ifindex>").
 */
#define DP_PIN_RET      "xdpctl_ret"
#define DP_PIN_RET_TAIL "xdpctl_ret_tail"
void dp_retprog_unpin(struct xdpctl_dp *dp);

#endif /* XDPCTL_DP_INTERNAL_H */
