// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hooks: a loaded program onto a device and off it again. XDP through
 * libxdp (libbpf's bpf_xdp_attach where libxdp cannot), the tc programs at
 * clsact ingress through libbpf's tc API, the pass program of a
 * container-side veth. Which device and why is the caller's (attach.c for
 * uplinks, veth.c for container veths).
 */
#include <stdio.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hook.h"
#include "nl.h"
#include "pass.skel.h"

#define CLSACT_INGRESS TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)
#define CLSACT_EGRESS  TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)

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

static __u32 mode_flag(enum xdp_attach_mode m)
{
	return m == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

int dp_xdp_state(const struct xdpctl_dp *dp, __u32 ifindex, const char *ours_name,
		 struct dp_xdp_state *st)
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
int dp_xdp_remove(__u32 ifindex, __u32 id, enum xdp_attach_mode mode)
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
int dp_xdp_restore(__u32 ifindex, int fd, enum xdp_attach_mode mode)
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
int dp_xdp_attach(struct xdpctl_dp *dp, const char *dev, __u32 ifindex, int fd,
		  enum xdpctl_mode want, bool force, const struct dp_xdp_state *cur, bool *direct,
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
		err = dp_xdp_remove(ifindex, cur->prog_id, cur->mode);
		if (err) {
			close(*old_fd);
			*old_fd = -1;
			return dp_err(dp, err, "%s: removing XDP program %s (id %u): %s", dev,
				      cur->name, cur->prog_id, strerror(-err));
		}
	} else if (cur->prog_id && cur->dispatcher && cur->ours_id) {
		/* libxdp rebuilds the dispatcher without our old program. */
		err = dp_xdp_remove(ifindex, cur->ours_id, cur->mode);
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
		int e2 = dp_xdp_restore(ifindex, *old_fd, cur->mode);

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
	return dp_xdp_remove(ifindex, q.drv_prog_id, XDP_MODE_NATIVE);
}
