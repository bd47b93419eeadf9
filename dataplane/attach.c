// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attach and detach: the XDP program of an uplink through libxdp (libbpf's
 * bpf_xdp_attach where libxdp cannot do it), the tc programs at clsact
 * ingress through libbpf's tc API, the pass program of a container-side
 * veth, the status of attached devices and the run-time feature probe.
 * What an attach added is recorded in the ifaces map, so that a detach in a
 * later process removes exactly that.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <linux/pkt_sched.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "internal.h"
#include "pass.skel.h"
#include "tc.skel.h"
#include "xdp.skel.h"

/* enum bpf_attach_type of tcx ingress (Linux 6.6); the system UAPI headers predate it. */
#define DP_BPF_TCX_INGRESS 46

#define CLSACT_INGRESS TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)
#define CLSACT_EGRESS  TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)

const char *xdpctl_engine_name(enum xdpctl_engine e)
{
	switch (e) {
	case XDPCTL_ENGINE_AUTO:
		return "auto";
	case XDPCTL_ENGINE_XDP:
		return "xdp";
	case XDPCTL_ENGINE_TC:
		return "tc";
	}
	return "unknown";
}

const char *xdpctl_mode_name(enum xdpctl_mode m)
{
	switch (m) {
	case XDPCTL_MODE_AUTO:
		return "auto";
	case XDPCTL_MODE_NATIVE:
		return "native";
	case XDPCTL_MODE_GENERIC:
		return "generic";
	}
	return "unknown";
}

int xdpctl_probe_features(struct xdpctl_features *f)
{
	__u32 cnt = 0, attach_flags = 0;

	if (!f)
		return dp_ret(-EINVAL);
	memset(f, 0, sizeof(*f));
	dp_hook_lib_prints();
	f->xdp_native_veth = true;
	f->freplace = dp_have_freplace();
	f->tracing = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING, NULL) == 1;
	f->redirect_peer = libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS,
						   BPF_FUNC_redirect_peer, NULL) == 1;
	f->ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
	/* A tcx query on lo (ifindex 1 in every netns) fails with EINVAL before 6.6. */
	f->tcx = !bpf_prog_query(1, (enum bpf_attach_type)DP_BPF_TCX_INGRESS, 0,
				 &attach_flags, NULL, &cnt);
	return 0;
}

bool dp_have_freplace(void)
{
	static int have = -1;

	if (have < 0)
		have = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_EXT, NULL) == 1;
	return have;
}

/* ---- loading ---- */

static int load_err(struct xdpctl_dp *dp, int err, const char *what)
{
	if (*dp_libbpf_stale_path())
		return dp_err(dp, -EEXIST,
			      "%s: pinned map has another layout: stale state of another xdpctl version, remove it",
			      dp_libbpf_stale_path());
	return dp_err(dp, err, "loading the %s program: %s", what, strerror(-err));
}

int dp_load_xdp(struct xdpctl_dp *dp, struct xdpctl_xdp **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .pin_root_path = dp->pin_dir);
	struct xdpctl_xdp *skel;
	int err;

	skel = xdpctl_xdp__open_opts(&o);
	if (!skel)
		return dp_err(dp, -errno, "opening the XDP object: %s", strerror(errno));
	dp_libbpf_clear();
	err = dp_prepare_obj(dp, skel->obj);
	if (!err)
		err = xdpctl_xdp__load(skel);
	if (err) {
		err = load_err(dp, err, "XDP");
		xdpctl_xdp__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

int dp_load_tc(struct xdpctl_dp *dp, const char *prog, struct xdpctl_tc **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .pin_root_path = dp->pin_dir);
	struct xdpctl_tc *skel;
	int err;

	skel = xdpctl_tc__open_opts(&o);
	if (!skel)
		return dp_err(dp, -errno, "opening the tc object: %s", strerror(errno));
	dp_libbpf_clear();
	/* Only the program asked for goes through the verifier (~50 ms each). */
	bpf_program__set_autoload(skel->progs.xdpctl_tc_in, !strcmp(prog, DP_PROG_TC_IN));
	bpf_program__set_autoload(skel->progs.xdpctl_tc_fwd, !strcmp(prog, DP_PROG_TC_FWD));
	err = dp_prepare_obj(dp, skel->obj);
	if (!err)
		err = xdpctl_tc__load(skel);
	if (err) {
		err = load_err(dp, err, "tc");
		xdpctl_tc__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/* ---- tc ---- */

static __u32 tc_query(__u32 ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = DP_TC_HANDLE, .priority = DP_TC_PRIORITY);

	if (bpf_tc_query(&hook, &q))
		return 0;
	return q.prog_id;
}

__u32 dp_tc_prog_id(__u32 ifindex)
{
	return tc_query(ifindex);
}

static void clsact_destroy_if_empty(__u32 ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int in = dp_tc_filter_count(ifindex, CLSACT_INGRESS);
	int eg = dp_tc_filter_count(ifindex, CLSACT_EGRESS);

	if (in || eg) {
		dp_log(XDPCTL_LOG_INFO, "ifindex %u: clsact kept, %d other filter(s) on it\n",
		       ifindex, in > 0 && eg > 0 ? in + eg : (in > 0 ? in : eg));
		return;
	}
	/* Both attach points: that removes the qdisc (ingress alone would flush filters). */
	bpf_tc_hook_destroy(&hook);
}

int dp_tc_add(struct xdpctl_dp *dp, __u32 ifindex, int prog_fd, const char *prog_name,
	      bool force, bool *created)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = DP_TC_HANDLE,
		    .priority = DP_TC_PRIORITY);
	char name[BPF_OBJ_NAME_LEN] = "?", obj[32];
	bool orphan;
	__u32 cur;
	int err;

	*created = false;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return dp_err(dp, err, "ifindex %u: creating the clsact qdisc: %s", ifindex,
			      strerror(-err));
	*created = !err;
	cur = tc_query(ifindex);
	orphan = cur && dp_prog_orphan(dp, cur, prog_name);
	/*
	 * A return-path program of a lost state is ours by name and slot, and
	 * only the veth's rules use it: it is taken over without --force.
	 */
	if (orphan && !strcmp(prog_name, DP_PROG_TC_FWD) && !force) {
		dp_log(XDPCTL_LOG_INFO, "ifindex %u: replacing %s (id %u) of another pin dir or a lost state\n",
		       ifindex, prog_name, cur);
	} else if (orphan && !force) {
		snprintf(obj, sizeof(obj), "ifindex %u", ifindex);
		err = dp_errk(dp, -EBUSY, XDPCTL_ERR_ORPHAN, obj,
			      "ifindex %u: tc filter pref %u handle 0x%x holds xdpctl's program %s (id %u) from another pin dir or a lost state",
			      ifindex, DP_TC_PRIORITY, DP_TC_HANDLE, prog_name, cur);
		goto fail;
	} else if (cur && !dp_prog_is_ours(dp, cur, prog_name) && !force) {
		dp_prog_name(cur, name);
		snprintf(obj, sizeof(obj), "ifindex %u", ifindex);
		err = dp_errk(dp, -EBUSY, XDPCTL_ERR_BUSY_TC, obj,
			      "ifindex %u: tc filter pref %u handle 0x%x holds program %s (id %u)",
			      ifindex, DP_TC_PRIORITY, DP_TC_HANDLE, name, cur);
		goto fail;
	}
	if (cur)
		opts.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		err = dp_err(dp, err, "ifindex %u: attaching %s at clsact ingress: %s", ifindex,
			     prog_name, strerror(-err));
		goto fail;
	}
	return 0;
fail:
	if (*created)
		clsact_destroy_if_empty(ifindex);
	*created = false;
	return err;
}

int dp_tc_del(struct xdpctl_dp *dp, __u32 ifindex, const char *prog_name, bool clsact_ours)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_HANDLE, .priority = DP_TC_PRIORITY);
	__u32 cur = tc_query(ifindex);
	int err = 0;

	if (cur && dp_prog_is_ours(dp, cur, prog_name)) {
		err = bpf_tc_detach(&hook, &opts);
		if (err && err != -ENOENT)
			return dp_err(dp, err, "ifindex %u: removing tc filter %s: %s", ifindex,
				      prog_name, strerror(-err));
	}
	if (clsact_ours)
		clsact_destroy_if_empty(ifindex);
	return 0;
}

/* ---- XDP ---- */

struct xdp_state {
	__u32 prog_id;           /* what the device runs (a dispatcher with libxdp) */
	__u32 ours_id;           /* our program among it, 0 if none */
	__u32 orphan_id;         /* xdpctl's program of another state among it, 0 if none */
	enum xdp_attach_mode mode;
	bool dispatcher;
	char name[BPF_OBJ_NAME_LEN];
};

static __u32 mode_flag(enum xdp_attach_mode m)
{
	return m == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

static int xdp_state_get(const struct xdpctl_dp *dp, __u32 ifindex, const char *ours_name,
			 struct xdp_state *st)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct xdp_multiprog *mp;
	int err;

	memset(st, 0, sizeof(*st));
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	if (q.drv_prog_id) {
		st->prog_id = q.drv_prog_id;
		st->mode = XDP_MODE_NATIVE;
	} else if (q.skb_prog_id) {
		st->prog_id = q.skb_prog_id;
		st->mode = XDP_MODE_SKB;
	} else {
		return 0;
	}
	dp_prog_name(st->prog_id, st->name);
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (!libxdp_get_error(mp) && mp && !xdp_multiprog__is_legacy(mp)) {
		struct xdp_program *p;

		st->dispatcher = true;
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
			if (dp_prog_is_ours(dp, xdp_program__id(p), ours_name))
				st->ours_id = xdp_program__id(p);
			else if (dp_prog_orphan(dp, xdp_program__id(p), ours_name))
				st->orphan_id = xdp_program__id(p);
	} else if (dp_prog_is_ours(dp, st->prog_id, ours_name)) {
		st->ours_id = st->prog_id;
	} else if (dp_prog_orphan(dp, st->prog_id, ours_name)) {
		st->orphan_id = st->prog_id;
	}
	if (!libxdp_get_error(mp))
		xdp_multiprog__close(mp);
	return 0;
}

/* Remove program @id from @ifindex: libxdp first, else a conditional bpf_xdp_detach. */
static int xdp_remove(__u32 ifindex, __u32 id, enum xdp_attach_mode mode)
{
	struct xdp_program *p = xdp_program__from_id(id);
	int err, fd;

	if (!libxdp_get_error(p)) {
		err = xdp_program__detach(p, ifindex, mode, 0);
		xdp_program__close(p);
		if (!err)
			return 0;
		dp_log(XDPCTL_LOG_DEBUG, "libxdp detach of program %u: %s; using bpf_xdp_detach\n",
		       id, strerror(-err));
	}
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	{
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = fd);

		err = bpf_xdp_detach(ifindex, mode_flag(mode), &ao);
	}
	close(fd);
	return err;
}

/* Fresh attach through libxdp; where libxdp cannot, bpf_xdp_attach. */
static int xdp_attach_fresh(int fd, __u32 ifindex, enum xdp_attach_mode mode, bool *direct)
{
	struct xdp_program *p = xdp_program__from_fd(fd);
	int err;

	*direct = false;
	if (!libxdp_get_error(p)) {
		err = xdp_program__attach(p, ifindex, mode, 0);
		xdp_program__close(p);
		/* Refusals that bpf_xdp_attach would repeat: report them. */
		if (!err || err == -EOPNOTSUPP || err == -EBUSY || err == -EEXIST)
			return err;
		dp_log(XDPCTL_LOG_INFO, "libxdp attach failed (%s); using bpf_xdp_attach\n",
		       strerror(-err));
	} else {
		xdp_program__close(p);
	}
	err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_UPDATE_IF_NOEXIST | mode_flag(mode), NULL);
	if (!err)
		*direct = true;
	return err;
}

/* Atomically put @fd in place of program @old_id (same mode). */
static int xdp_replace(int fd, __u32 ifindex, __u32 old_id, enum xdp_attach_mode mode)
{
	int old_fd = bpf_prog_get_fd_by_id(old_id), err;

	if (old_fd < 0)
		return -errno;
	{
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = old_fd);

		err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_REPLACE | mode_flag(mode), &ao);
	}
	close(old_fd);
	return err;
}

/* Put the program held at @fd back on @ifindex in @mode, after a failed mode switch. */
static int xdp_restore(__u32 ifindex, int fd, enum xdp_attach_mode mode)
{
	return bpf_xdp_attach(ifindex, fd, XDP_FLAGS_UPDATE_IF_NOEXIST | mode_flag(mode), NULL);
}

/*
 * Put program @fd on @ifindex in @want (AUTO: native, else generic; on a
 * re-attach, the mode already in use). Our own program is replaced
 * atomically; another owner's only with @force. *direct: libxdp not used.
 * *old_fd: after a mode switch, the old program (the caller puts it back
 * if a later step fails, and closes it); -1 otherwise.
 */
static int xdp_attach(struct xdpctl_dp *dp, const char *dev, __u32 ifindex, int fd,
		      enum xdpctl_mode want, bool force, const struct xdp_state *cur, bool *direct,
		      int *old_fd)
{
	enum xdp_attach_mode modes[2];
	int n = 0, i, err = -EOPNOTSUPP;

	*direct = false;
	*old_fd = -1;
	if (want == XDPCTL_MODE_NATIVE) {
		modes[n++] = XDP_MODE_NATIVE;
	} else if (want == XDPCTL_MODE_GENERIC) {
		modes[n++] = XDP_MODE_SKB;
	} else if (cur->prog_id && !cur->dispatcher && (cur->ours_id || force)) {
		modes[n++] = cur->mode;
	} else {
		modes[n++] = XDP_MODE_NATIVE;
		modes[n++] = XDP_MODE_SKB;
	}

	if (cur->prog_id && !cur->dispatcher && (cur->ours_id || force)) {
		/*
		 * libxdp 1.3 refuses to replace a program it did not load into
		 * a dispatcher ("can't replace; unload first"), and without
		 * freplace there is no dispatcher: replace atomically here.
		 */
		if (modes[0] == cur->mode) {
			err = xdp_replace(fd, ifindex, cur->prog_id, cur->mode);
			if (err)
				return dp_err(dp, err, "%s: replacing XDP program %s (id %u): %s", dev,
					      cur->name, cur->prog_id, strerror(-err));
			*direct = true;
			return 0;
		}
		/*
		 * Another mode: native and generic cannot coexist; not atomic.
		 * Hold the old program, so that it can go back if the new mode
		 * fails (a driver without native XDP): a failed attach must not
		 * leave the device without its program.
		 */
		dp_log(XDPCTL_LOG_INFO, "%s: switching XDP mode: detach, then attach\n", dev);
		*old_fd = bpf_prog_get_fd_by_id(cur->prog_id);
		if (*old_fd < 0)
			return dp_err(dp, -errno, "%s: holding XDP program %s (id %u): %s", dev,
				      cur->name, cur->prog_id, strerror(errno));
		err = xdp_remove(ifindex, cur->prog_id, cur->mode);
		if (err) {
			close(*old_fd);
			*old_fd = -1;
			return dp_err(dp, err, "%s: removing XDP program %s (id %u): %s", dev,
				      cur->name, cur->prog_id, strerror(-err));
		}
	} else if (cur->prog_id && cur->dispatcher && cur->ours_id) {
		/* libxdp rebuilds the dispatcher without our old program. */
		err = xdp_remove(ifindex, cur->ours_id, cur->mode);
		if (err)
			return dp_err(dp, err, "%s: removing our old XDP program (id %u): %s", dev,
				      cur->ours_id, strerror(-err));
	}

	for (i = 0; i < n; i++) {
		err = xdp_attach_fresh(fd, ifindex, modes[i], direct);
		if (err != -EOPNOTSUPP)
			break;
	}
	if (err && *old_fd >= 0) {
		int e2 = xdp_restore(ifindex, *old_fd, cur->mode);

		if (e2)
			dp_log(XDPCTL_LOG_WARN, "%s: putting XDP program %s (id %u) back in %s mode: %s\n",
			       dev, cur->name, cur->prog_id,
			       cur->mode == XDP_MODE_SKB ? "generic" : "native", strerror(-e2));
		close(*old_fd);
		*old_fd = -1;
	}
	if (err == -EOPNOTSUPP)
		return dp_errk(dp, err, XDPCTL_ERR_NOT_SUPPORTED, dev,
			       "%s: XDP in %s mode not supported (try --mode generic or --engine tc)",
			       dev, xdpctl_mode_name(want));
	/* another XDP program came first */
	if (err == -EBUSY)
		return dp_errk(dp, err, XDPCTL_ERR_BUSY_XDP, dev,
			       "%s: attaching the XDP program: %s", dev, strerror(-err));
	if (err)
		return dp_err(dp, err, "%s: attaching the XDP program: %s", dev, strerror(-err));
	return 0;
}

/* ---- attach / detach ---- */

static int attach(struct xdpctl_dp *dp, const char *dev, const struct xdpctl_attach_opts *opts);

int xdpctl_dp__attach(struct xdpctl_dp *dp, const char *dev, const struct xdpctl_attach_opts *opts)
{
	int err;

	if (!dp || !dev)
		return dp_ret(-EINVAL);
	err = attach(dp, dev, opts);
	/*
	 * A failed command changes nothing: a state this handle created goes
	 * again when the handle closes, decided under the lock and only while
	 * nothing uses it (another process may have attached to it meanwhile,
	 * or this handle added rules since).
	 */
	dp->drop_on_close = err && dp->created_state;
	return dp_ret(err);
}

static int attach(struct xdpctl_dp *dp, const char *dev, const struct xdpctl_attach_opts *opts)
{
	enum xdpctl_engine engine = XDPCTL_ENGINE_AUTO;
	enum xdpctl_mode mode = XDPCTL_MODE_AUTO;
	int ifaces = dp_map_fd(dp, DP_MAP_IFACES);
	struct xdpctl_iface old = {}, ent = {};
	struct xdpctl_xdp *xskel = NULL;
	struct xdpctl_tc *tskel = NULL;
	bool force = false, have_old, created = false, direct = false;
	bool xdp_added = false, tc_added = false, want_xdp;
	int old_xdp_fd = -1;
	struct xdp_state cur;
	struct dp_link l;
	int err;

	if (!dp || !dev)
		return dp_ret(-EINVAL);
	if (opts && opts->sz >= offsetof(struct xdpctl_attach_opts, engine) + sizeof(opts->engine))
		engine = opts->engine;
	if (opts && opts->sz >= offsetof(struct xdpctl_attach_opts, mode) + sizeof(opts->mode))
		mode = opts->mode;
	if (opts && opts->sz >= offsetof(struct xdpctl_attach_opts, force) + sizeof(opts->force))
		force = opts->force;
	if (engine > XDPCTL_ENGINE_TC)
		return dp_err(dp, -EINVAL, "engine %d: expected xdp, tc or auto", engine);
	if (mode > XDPCTL_MODE_GENERIC)
		return dp_err(dp, -EINVAL, "mode %d: expected native, generic or auto", mode);
	/*
	 * AUTO runs both, and the XDP program forwards no bypass hit: it passes
	 * every one on to the tc program (XDPCTL_IF_BYPASS_TO_TC), keeping XDP
	 * ping-pong. An XDP redirect into a veth has no backpressure: a full
	 * 256-frame ring on the container side drops (tx_queue_N_xdp_xmit_errors
	 * of the host veth), where the kernel path and bpf_redirect_peer
	 * deliver; measured, UDP mixed with malformed frames lost 30 of 77,214
	 * by XDP and none by tc. TCP also carried about half the kernel path's
	 * single-stream throughput by XDP (no GSO/GRO). The default must never
	 * lose what the kernel path delivers: --engine xdp trades that for
	 * packet rate (README, "Engines").
	 */
	err = dp_link_get(dev, 0, -1, &l);
	if (err)
		return dp_errk(dp, err, err == -ENODEV ? XDPCTL_ERR_NO_DEVICE : XDPCTL_ERR_OTHER, dev,
			       "no such device: %s", dev);
	/*
	 * Per device: on a veth uplink (labs, nested hosts) native XDP copies
	 * every cloned skb it receives, and a local TCP sender's are all
	 * clones (skb_pp_cow_data: 13% of the CPU at 0.77x the kernel path's
	 * TCP, docs/perf.md); auto takes tc there. A NIC hands XDP its own
	 * buffers: XDP, with TCP to tc.
	 */
	if (engine == XDPCTL_ENGINE_AUTO && !strcmp(l.kind, "veth"))
		engine = XDPCTL_ENGINE_TC;
	want_xdp = engine != XDPCTL_ENGINE_TC;
	err = dp_lock(dp);
	if (err == -ESTALE && dp->create) {
		/* A failed first attach elsewhere removed the state we opened: make it anew. */
		err = dp_reopen(dp);
		if (!err)
			err = dp_lock(dp);
	}
	if (err)
		return err;
	/* dp_reopen() above gives the handle the new state's maps. */
	ifaces = dp_map_fd(dp, DP_MAP_IFACES);

	have_old = !bpf_map_lookup_elem(ifaces, &l.ifindex, &old);
	if (have_old && !(old.flags & XDPCTL_IF_UPLINK) && (old.flags & XDPCTL_IF_VETH)) {
		err = dp_err(dp, -EINVAL, "%s: the host veth of bypass rules, not an uplink", dev);
		goto out;
	}
	err = xdp_state_get(dp, l.ifindex, DP_PROG_XDP, &cur);
	if (err) {
		err = dp_err(dp, err, "%s: querying XDP: %s", dev, strerror(-err));
		goto out;
	}
	/* Also for engine tc: a lost state's XDP program would keep bypassing. */
	if (cur.orphan_id && !force) {
		err = dp_errk(dp, -EBUSY, XDPCTL_ERR_ORPHAN, dev,
			      "%s has xdpctl's XDP program (id %u) from another pin dir or a lost state",
			      dev, cur.orphan_id);
		goto out;
	}
	if (want_xdp && cur.prog_id && !cur.ours_id && !cur.dispatcher && !force) {
		err = dp_errk(dp, -EBUSY, XDPCTL_ERR_BUSY_XDP, dev, "%s has XDP program %s (id %u)", dev,
			      cur.name, cur.prog_id);
		goto out;
	}

	err = dp_load_tc(dp, DP_PROG_TC_IN, &tskel);
	if (err)
		goto out;
	if (want_xdp) {
		err = dp_load_xdp(dp, &xskel);
		if (err)
			goto out;
	}

	/* The entry first: the programs filter by the device's MAC from their first packet. */
	memcpy(ent.mac, l.mac, 6);
	ent.flags = XDPCTL_IF_UPLINK | (old.flags & XDPCTL_IF_CLSACT_OURS);
	if (engine == XDPCTL_ENGINE_TC)
		ent.flags |= XDPCTL_IF_ENGINE_TC;
	else if (engine == XDPCTL_ENGINE_AUTO)
		ent.flags |= XDPCTL_IF_BYPASS_TO_TC;
	if (bpf_map_update_elem(ifaces, &l.ifindex, &ent, BPF_ANY)) {
		err = errno == E2BIG ?
			dp_err(dp, -E2BIG, "%s: the ifaces map is full (%u devices)", dev, XDPCTL_MAX_IFACES) :
			dp_err(dp, -errno, "%s: writing the ifaces entry: %s", dev, strerror(errno));
		goto out;
	}

	if (want_xdp) {
		err = xdp_attach(dp, dev, l.ifindex, bpf_program__fd(xskel->progs.xdpctl_xdp),
				 mode, force, &cur, &direct, &old_xdp_fd);
		if (err)
			goto rollback;
		xdp_added = !cur.ours_id;
		if (direct)
			ent.flags |= XDPCTL_IF_XDP_DIRECT;
	}

	tc_added = !dp_tc_prog_id(l.ifindex);
	err = dp_tc_add(dp, l.ifindex, bpf_program__fd(tskel->progs.xdpctl_tc_in), DP_PROG_TC_IN,
			force, &created);
	if (err) {
		tc_added = false;
		goto rollback;
	}
	if (created)
		ent.flags |= XDPCTL_IF_CLSACT_OURS;

	/* Engine tc after engine xdp (ours or a lost state's): that XDP program goes. */
	if (engine == XDPCTL_ENGINE_TC && (cur.ours_id || cur.orphan_id)) {
		__u32 id = cur.ours_id ? cur.ours_id : cur.orphan_id;

		err = xdp_remove(l.ifindex, id, cur.mode);
		if (err)
			dp_log(XDPCTL_LOG_WARN, "%s: removing xdpctl's XDP program (id %u): %s\n", dev,
			       id, strerror(-err));
		err = 0;
	}

	if (bpf_map_update_elem(ifaces, &l.ifindex, &ent, BPF_ANY)) {
		err = dp_err(dp, -errno, "%s: writing the ifaces entry: %s", dev, strerror(errno));
		goto rollback;
	}
	dp_pass_sync(dp);
	dp_log(XDPCTL_LOG_INFO, "%s: attached, engine %s%s\n", dev, xdpctl_engine_name(engine),
	       want_xdp ? (direct ? " (XDP by bpf_xdp_attach)" : " (XDP by libxdp)") : "");
	goto out;

rollback:
	if (tc_added)
		dp_tc_del(dp, l.ifindex, DP_PROG_TC_IN, created);
	if (xdp_added || old_xdp_fd >= 0) {
		struct xdp_state now;

		if (!xdp_state_get(dp, l.ifindex, DP_PROG_XDP, &now) && now.ours_id)
			xdp_remove(l.ifindex, now.ours_id, now.mode);
	}
	if (old_xdp_fd >= 0 && xdp_restore(l.ifindex, old_xdp_fd, cur.mode))
		dp_log(XDPCTL_LOG_WARN, "%s: putting the old XDP program (id %u) back failed\n", dev,
		       cur.prog_id);
	if (have_old)
		bpf_map_update_elem(ifaces, &l.ifindex, &old, BPF_ANY);
	else
		bpf_map_delete_elem(ifaces, &l.ifindex);
out:
	if (old_xdp_fd >= 0)
		close(old_xdp_fd);
	xdpctl_xdp__destroy(xskel);
	xdpctl_tc__destroy(tskel);
	dp_unlock(dp);
	return dp_ret(err);
}

int xdpctl_dp__detach(struct xdpctl_dp *dp, const char *dev)
{
	int ifaces = dp_map_fd(dp, DP_MAP_IFACES);
	struct xdpctl_iface ent;
	struct xdp_state cur;
	struct dp_link l;
	int err;

	if (!dp || !dev)
		return dp_ret(-EINVAL);
	err = dp_link_get(dev, 0, -1, &l);
	if (err)
		return dp_errk(dp, err, err == -ENODEV ? XDPCTL_ERR_NO_DEVICE : XDPCTL_ERR_OTHER, dev,
			       "no such device: %s", dev);
	err = dp_lock(dp);
	if (err)
		return err;
	if (bpf_map_lookup_elem(ifaces, &l.ifindex, &ent)) {
		err = dp_err(dp, -ENOENT, "%s: not attached", dev);
		goto out;
	}
	if (!(ent.flags & XDPCTL_IF_UPLINK)) {
		/* A veth whose last rule went but whose teardown did not finish. */
		if ((ent.flags & XDPCTL_IF_VETH) && !ent.refcnt) {
			err = dp_veth_teardown(dp, l.ifindex, &ent);
			goto out;
		}
		err = dp_err(dp, -ENOENT, "%s: not attached (the host veth of %u bypass rule(s))",
			     dev, ent.refcnt);
		goto out;
	}
	err = xdp_state_get(dp, l.ifindex, DP_PROG_XDP, &cur);
	if (!err && cur.ours_id) {
		err = xdp_remove(l.ifindex, cur.ours_id, cur.mode);
		if (err) {
			err = dp_err(dp, err, "%s: removing XDP program %u: %s", dev, cur.ours_id,
				     strerror(-err));
			goto out;
		}
	}
	err = dp_tc_del(dp, l.ifindex, DP_PROG_TC_IN, ent.flags & XDPCTL_IF_CLSACT_OURS);
	if (err)
		goto out;
	if (bpf_map_delete_elem(ifaces, &l.ifindex) && errno != ENOENT)
		err = dp_err(dp, -errno, "%s: deleting the ifaces entry: %s", dev, strerror(errno));
	else
		dp_pass_sync(dp);
out:
	dp_unlock(dp);
	return dp_ret(err);
}

/* ---- the pass program of a container-side veth (current netns) ---- */

int dp_pass_attach(__u32 ifindex, bool *ours)
{
	struct xdpctl_pass *skel;
	char name[BPF_OBJ_NAME_LEN] = "";
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	bool direct;
	int err;

	*ours = false;
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	if (q.drv_prog_id) {
		/* Any native XDP program gives the veth its NAPI; ours is known by name. */
		dp_prog_name(q.drv_prog_id, name);
		*ours = !strcmp(name, DP_PROG_PASS);
		return 0;
	}
	if (q.skb_prog_id) {
		/* Generic XDP there: native cannot join it, and it gives no NAPI. */
		dp_log(XDPCTL_LOG_WARN, "ifindex %u runs generic XDP program %u: frames redirected into it by the xdp engine will be lost\n",
		       ifindex, q.skb_prog_id);
		return 0;
	}
	skel = xdpctl_pass__open_and_load();
	if (!skel)
		return -errno;
	/*
	 * Native only: a generic program would not give the veth its NAPI.
	 * Without freplace libxdp ends in the same single-program attach, but
	 * only after loading its dispatcher twice (~0.1 s a veth): go there
	 * directly, which bulk loads to many veths notice.
	 */
	if (dp_have_freplace()) {
		err = xdp_attach_fresh(bpf_program__fd(skel->progs.xdpctl_pass), ifindex,
				       XDP_MODE_NATIVE, &direct);
	} else {
		err = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.xdpctl_pass),
				     XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_DRV_MODE, NULL);
	}
	xdpctl_pass__destroy(skel);
	if (!err)
		*ours = true;
	return err;
}

int dp_pass_detach(__u32 ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN] = "";
	int err;

	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err == -ENODEV ? 0 : err;
	if (!q.drv_prog_id || dp_prog_name(q.drv_prog_id, name) || strcmp(name, DP_PROG_PASS))
		return 0;
	return xdp_remove(ifindex, q.drv_prog_id, XDP_MODE_NATIVE);
}

/* ---- status ---- */

/*
 * The XDP-redirect counters of veth @name (current netns) from its ethtool
 * statistics: tx_queue_N_xdp_xmit and tx_queue_N_xdp_xmit_errors summed
 * over N (veth_get_ethtool_stats reads them from the peer's receive
 * queues). 0, or a negative errno.
 */
int dp_veth_xmit_stats(const char *name, __u64 *xmit, __u64 *errors)
{
	struct ethtool_sset_info *info = NULL;
	struct ethtool_gstrings *strs = NULL;
	struct ethtool_stats *vals = NULL;
	struct ifreq ifr = {};
	__u32 n, i;
	int fd, err = 0;

	*xmit = *errors = 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	info = calloc(1, sizeof(*info) + sizeof(__u32));
	if (!info) {
		err = -ENOMEM;
		goto out;
	}
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ull << ETH_SS_STATS;
	ifr.ifr_data = (void *)info;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		err = -errno;
		goto out;
	}
	n = info->sset_mask ? info->data[0] : 0;
	strs = calloc(1, sizeof(*strs) + (size_t)n * ETH_GSTRING_LEN);
	vals = calloc(1, sizeof(*vals) + (size_t)n * sizeof(__u64));
	if (!strs || !vals) {
		err = -ENOMEM;
		goto out;
	}
	strs->cmd = ETHTOOL_GSTRINGS;
	strs->string_set = ETH_SS_STATS;
	strs->len = n;
	ifr.ifr_data = (void *)strs;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		err = -errno;
		goto out;
	}
	vals->cmd = ETHTOOL_GSTATS;
	vals->n_stats = n;
	ifr.ifr_data = (void *)vals;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		err = -errno;
		goto out;
	}
	for (i = 0; i < n && i < strs->len; i++) {
		char s[ETH_GSTRING_LEN + 1];
		const char *tail;

		memcpy(s, strs->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		s[ETH_GSTRING_LEN] = '\0';
		if (strncmp(s, "tx_queue_", 9))
			continue;
		tail = strchr(s + 9, '_');
		if (!tail)
			continue;
		if (!strcmp(tail, "_xdp_xmit"))
			*xmit += vals->data[i];
		else if (!strcmp(tail, "_xdp_xmit_errors"))
			*errors += vals->data[i];
	}
out:
	free(info);
	free(strs);
	free(vals);
	close(fd);
	return err;
}

static void fill_status(struct xdpctl_dp *dp, __u32 ifindex, const struct xdpctl_iface *e,
			struct xdpctl_dev_status *st)
{
	struct xdp_state xs;
	struct dp_link l;
	__u32 id;

	memset(st, 0, sizeof(*st));
	st->ifindex = ifindex;
	memcpy(st->mac, e->mac, 6);
	st->flags = e->flags;
	st->refcnt = e->refcnt;
	if (e->flags & XDPCTL_IF_UPLINK)
		st->engine = e->flags & XDPCTL_IF_ENGINE_TC ? XDPCTL_ENGINE_TC :
			     e->flags & (XDPCTL_IF_TCP_TO_TC | XDPCTL_IF_BYPASS_TO_TC) ?
			     XDPCTL_ENGINE_AUTO :
							     XDPCTL_ENGINE_XDP;
	if (dp_link_get(NULL, ifindex, -1, &l))
		return;
	st->present = true;
	memcpy(st->name, l.name, IF_NAMESIZE);
	if (e->flags & XDPCTL_IF_UPLINK) {
		if (!xdp_state_get(dp, ifindex, DP_PROG_XDP, &xs) && xs.ours_id) {
			st->xdp_prog_id = xs.ours_id;
			st->xdp_mode = xs.mode == XDP_MODE_SKB ? XDPCTL_MODE_GENERIC : XDPCTL_MODE_NATIVE;
			st->dispatcher = xs.dispatcher;
			snprintf(st->xdp_path, sizeof(st->xdp_path), "%s",
				 xs.dispatcher ? "libxdp-dispatcher" :
				 e->flags & XDPCTL_IF_XDP_DIRECT ? "bpf_xdp_attach" : "libxdp");
		}
		id = dp_tc_prog_id(ifindex);
		if (id && dp_prog_is_ours(dp, id, DP_PROG_TC_IN))
			st->tc_prog_id = id;
	} else if (e->flags & XDPCTL_IF_VETH) {
		st->have_xmit = !dp_veth_xmit_stats(l.name, &st->xdp_xmit, &st->xdp_xmit_errors);
		id = dp_tc_prog_id(ifindex);
		if (id && dp_prog_is_ours(dp, id, DP_PROG_TC_FWD))
			st->tc_prog_id = id;
	}
}

int xdpctl_dp__dev_status(struct xdpctl_dp *dp, const char *dev, struct xdpctl_dev_status *st)
{
	struct xdpctl_iface e;
	struct dp_link l;
	int err;

	if (!dp || !dev || !st)
		return dp_ret(-EINVAL);
	err = dp_link_get(dev, 0, -1, &l);
	if (err)
		return dp_errk(dp, err, err == -ENODEV ? XDPCTL_ERR_NO_DEVICE : XDPCTL_ERR_OTHER, dev,
			       "no such device: %s", dev);
	if (bpf_map_lookup_elem(dp_map_fd(dp, DP_MAP_IFACES), &l.ifindex, &e))
		return dp_err(dp, -ENOENT, "%s: not attached, and no bypass rule uses it", dev);
	fill_status(dp, l.ifindex, &e, st);
	return 0;
}

int xdpctl_dp__for_each_dev(struct xdpctl_dp *dp, xdpctl_dev_cb cb, void *ctx)
{
	int fd = dp_map_fd(dp, DP_MAP_IFACES);
	__u32 keys[XDPCTL_MAX_IFACES], key, n = 0, i;
	struct xdpctl_dev_status st;
	struct xdpctl_iface e;
	void *prev = NULL;
	int err;

	if (!dp || !cb)
		return dp_ret(-EINVAL);
	/* Keys first: callbacks may edit the map. */
	while (n < XDPCTL_MAX_IFACES && !bpf_map_get_next_key(fd, prev, &key)) {
		keys[n++] = key;
		prev = &keys[n - 1];
	}
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(fd, &keys[i], &e))
			continue;
		fill_status(dp, keys[i], &e, &st);
		err = cb(&st, ctx);
		if (err)
			return err;
	}
	return 0;
}

/* ---- orphans: xdpctl's programs that no state here accounts for ---- */

static bool orphan_fill(struct xdpctl_dp *dp, __u32 ifindex, const char *name,
			struct xdpctl_dev_status *st)
{
	char pname[BPF_OBJ_NAME_LEN] = "";
	struct xdp_state xs;
	__u32 id;

	memset(st, 0, sizeof(*st));
	st->ifindex = ifindex;
	st->present = true;
	st->orphan = true;
	snprintf(st->name, sizeof(st->name), "%s", name);
	if (!xdp_state_get(dp, ifindex, DP_PROG_XDP, &xs) && xs.orphan_id) {
		st->xdp_prog_id = xs.orphan_id;
		st->xdp_mode = xs.mode == XDP_MODE_SKB ? XDPCTL_MODE_GENERIC : XDPCTL_MODE_NATIVE;
		st->dispatcher = xs.dispatcher;
		st->flags |= XDPCTL_IF_UPLINK;
		st->engine = XDPCTL_ENGINE_XDP;
	}
	id = dp_tc_prog_id(ifindex);
	if (id && !dp_prog_name(id, pname) && !dp_prog_is_ours(dp, id, pname)) {
		if (!strcmp(pname, DP_PROG_TC_IN)) {
			st->tc_prog_id = id;
			if (!(st->flags & XDPCTL_IF_UPLINK))
				st->engine = XDPCTL_ENGINE_TC;
			st->flags |= XDPCTL_IF_UPLINK;
		} else if (!strcmp(pname, DP_PROG_TC_FWD)) {
			st->tc_prog_id = id;
			st->flags |= XDPCTL_IF_VETH;
		}
	}
	return st->xdp_prog_id || st->tc_prog_id;
}

int xdpctl_dp__for_each_orphan(struct xdpctl_dp *dp, xdpctl_dev_cb cb, void *ctx)
{
	struct if_nameindex *ifs, *i;
	struct xdpctl_dev_status st;
	struct xdpctl_iface e;
	int err = 0;

	if (!cb)
		return dp_ret(-EINVAL);
	/* glibc asks netlink, so this is the current netns's list (not sysfs's). */
	ifs = if_nameindex();
	if (!ifs)
		return dp_err(dp, -errno, "listing the devices: %s", strerror(errno));
	for (i = ifs; i->if_index && !err; i++) {
		if (dp && !bpf_map_lookup_elem(dp_map_fd(dp, DP_MAP_IFACES), &i->if_index, &e))
			continue;
		if (orphan_fill(dp, i->if_index, i->if_name, &st))
			err = cb(&st, ctx);
	}
	if_freenameindex(ifs);
	return dp_ret(err);
}

/* ---- entries of devices that are gone ---- */

int xdpctl_dp__detach_ifindex(struct xdpctl_dp *dp, __u32 ifindex)
{
	int ifaces = dp_map_fd(dp, DP_MAP_IFACES);
	struct xdpctl_iface ent;
	struct dp_link l;
	int err;

	if (!dp || !ifindex)
		return dp_ret(-EINVAL);
	if (!dp_link_get(NULL, ifindex, -1, &l))
		return xdpctl_dp__detach(dp, l.name);
	err = dp_lock(dp);
	if (err)
		return err;
	if (bpf_map_lookup_elem(ifaces, &ifindex, &ent)) {
		err = dp_err(dp, -ENOENT, "ifindex %u: no such device, and xdpctl has no entry for it",
			     ifindex);
		goto out;
	}
	if ((ent.flags & XDPCTL_IF_VETH) && ent.refcnt) {
		/* A gone uplink that is also a veth keeps its veth role until its rules go. */
		if (ent.flags & XDPCTL_IF_UPLINK) {
			ent.flags &= ~(XDPCTL_IF_UPLINK | XDPCTL_IF_ENGINE_TC | XDPCTL_IF_TCP_TO_TC |
				       XDPCTL_IF_BYPASS_TO_TC |
				       XDPCTL_IF_XDP_DIRECT);
			if (bpf_map_update_elem(ifaces, &ifindex, &ent, BPF_EXIST))
				err = dp_err(dp, -errno, "ifindex %u: writing the ifaces entry: %s",
					     ifindex, strerror(errno));
			goto out;
		}
		err = dp_err(dp, -EBUSY, "ifindex %u: a gone veth that %u bypass rule(s) still name",
			     ifindex, ent.refcnt);
		goto out;
	}
	/* Gone devices took their programs and filters with them: only entries are left. */
	if (ent.flags & XDPCTL_IF_VETH) {
		err = dp_veth_teardown(dp, ifindex, &ent);
		goto out;
	}
	if (bpf_map_delete_elem(ifaces, &ifindex) && errno != ENOENT)
		err = dp_err(dp, -errno, "ifindex %u: deleting the ifaces entry: %s", ifindex,
			     strerror(errno));
	else {
		dp_log(XDPCTL_LOG_INFO, "ifindex %u: the entry of a gone device removed\n", ifindex);
		dp_pass_sync(dp);
	}
out:
	dp_unlock(dp);
	return dp_ret(err);
}
