// SPDX-License-Identifier: GPL-2.0-only
/*
 * Uplinks: attach and detach (the XDP program, the tc ingress program or
 * both, by engine), the status of attached devices and of orphans. What an
 * attach added is recorded in the ifaces map, so that a detach in a later
 * process removes exactly that. The hooks are hook.c's; the container veths
 * a detach leaves or takes the pass program from are veth.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "veth.h"
#include "tc.skel.h"
#include "xdp.skel.h"

#define SYSCTL_LIBERAL "/proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal"

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

const char *xdpctl_fast_path_name(enum xdpctl_fast_path f)
{
	switch (f) {
	case XDPCTL_FAST_PATH_CONNTRACK:
		return "conntrack";
	case XDPCTL_FAST_PATH_SKIP_FIREWALL:
		return "skip-firewall";
	}
	return "unknown";
}

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
	enum xdpctl_fast_path fast_path = XDPCTL_FAST_PATH_CONNTRACK;
	bool keep_window = false, liberal_set = false;
	unsigned long liberal = 0;
	int ifaces = dp_map_fd(dp, DP_MAP_IFACES);
	struct xdpctl_iface old = {}, ent = {};
	struct xdpctl_xdp *xskel = NULL;
	struct xdpctl_tc *tskel = NULL;
	struct dp_retprog ret = DP_RETPROG_NONE;
	bool force = false, have_old, created = false, direct = false;
	bool xdp_added = false, tc_added = false, want_xdp;
	int old_xdp_fd = -1;
	struct dp_xdp_state cur;
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
	if (opts && opts->sz >= offsetof(struct xdpctl_attach_opts, fast_path) + sizeof(opts->fast_path))
		fast_path = opts->fast_path;
	if (opts && opts->sz >= offsetof(struct xdpctl_attach_opts, keep_tcp_window_check) +
				sizeof(opts->keep_tcp_window_check))
		keep_window = opts->keep_tcp_window_check;
	if (fast_path > XDPCTL_FAST_PATH_SKIP_FIREWALL)
		return dp_err(dp, -EINVAL, "fast path %d: expected conntrack or skip-firewall", fast_path);
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
	if (fast_path == XDPCTL_FAST_PATH_CONNTRACK) {
		struct xdpctl_features f;

		xdpctl_probe_features(&f);
		if (!f.ct_kfuncs)
			return dp_err(dp, -EOPNOTSUPP, "%s: this kernel has no conntrack kfuncs (bpf_xdp_ct_lookup, bpf_skb_ct_lookup, bpf_ct_change_timeout)",
				      dev);
	}
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
	err = dp_xdp_state(dp, l.ifindex, DP_PROG_XDP, &cur);
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
	ent.flags = XDPCTL_IF_UPLINK | (old.flags & (XDPCTL_IF_CLSACT_OURS | XDPCTL_IF_LIBERAL_OURS));
	if (fast_path == XDPCTL_FAST_PATH_SKIP_FIREWALL)
		ent.flags |= XDPCTL_IF_SKIP_FIREWALL;
	if (engine == XDPCTL_ENGINE_TC)
		ent.flags |= XDPCTL_IF_ENGINE_TC;
	else if (engine == XDPCTL_ENGINE_AUTO)
		ent.flags |= XDPCTL_IF_BYPASS_TO_TC;
	if (dp_ifaces_update(dp, l.ifindex, &ent, BPF_ANY)) {
		err = errno == E2BIG ?
			dp_err(dp, -E2BIG, "%s: the ifaces map is full (%u devices)", dev, XDPCTL_MAX_IFACES) :
			dp_err(dp, -errno, "%s: writing the ifaces entry: %s", dev, strerror(errno));
		goto out;
	}

	if (want_xdp) {
		err = dp_xdp_attach(dp, dev, l.ifindex, bpf_program__fd(xskel->progs.xdpctl_xdp),
				 mode, force, &cur, &direct, &old_xdp_fd);
		if (err)
			goto rollback;
		xdp_added = !cur.ours_id;
		if (direct)
			ent.flags |= XDPCTL_IF_XDP_DIRECT;
	}

	if (want_xdp) {
		err = dp_tail_pin(dp, bpf_map__fd(xskel->maps.xdpctl_xdp_tail), 'x', l.ifindex);
		if (err)
			goto rollback;
	}
	err = dp_tail_pin(dp, bpf_map__fd(tskel->maps.xdpctl_tc_tin), 'i', l.ifindex);
	if (err)
		goto rollback;
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

		err = dp_xdp_remove(l.ifindex, id, cur.mode);
		if (err)
			dp_log(XDPCTL_LOG_WARN, "%s: removing xdpctl's XDP program (id %u): %s\n", dev,
			       id, strerror(-err));
		err = 0;
	}

	/*
	 * TCP window tracking: packets on the fast path skip conntrack, whose
	 * window state stays behind; the FIN that then takes the stack is out
	 * of window, INVALID, and dropped by Docker's FORWARD policy (the
	 * flowtable marks offloaded flows "be liberal"; the kfuncs cannot).
	 * The netns's nf_conntrack_tcp_be_liberal does the same for all flows.
	 */
	if (fast_path == XDPCTL_FAST_PATH_CONNTRACK && !keep_window &&
	    !(ent.flags & XDPCTL_IF_LIBERAL_OURS) && !dp_sysctl_read(SYSCTL_LIBERAL, &liberal) &&
	    !liberal) {
		err = dp_sysctl_write(SYSCTL_LIBERAL, 1);
		if (err) {
			err = dp_err(dp, err, "%s: setting %s to 1: %s", dev, SYSCTL_LIBERAL,
				     strerror(-err));
			goto rollback;
		}
		liberal_set = true;
		ent.flags |= XDPCTL_IF_LIBERAL_OURS;
		dp_log(XDPCTL_LOG_INFO, "%s: net.netfilter.nf_conntrack_tcp_be_liberal set to 1 (detach puts 0 back)\n",
		       dev);
	}
	if (dp_ifaces_update(dp, l.ifindex, &ent, BPF_ANY)) {
		err = dp_err(dp, -errno, "%s: writing the ifaces entry: %s", dev, strerror(errno));
		goto rollback;
	}
	dp_pass_sync(dp);
	/*
	 * The veths' return program, loaded now (or found pinned) so that the
	 * first rule of every veth finds it: a rule's setup runs no verifier.
	 * Best effort: a veth's setup loads it again and reports a failure.
	 */
	if (dp_retprog_get(dp, &ret)) {
		dp_log(XDPCTL_LOG_WARN, "%s (left to the first bypass rule of a veth)\n", dp->errmsg);
		dp->errmsg[0] = 0;
	}
	dp_retprog_put(&ret);
	dp_log(XDPCTL_LOG_INFO, "%s: attached, engine %s, fast path %s%s\n", dev,
	       xdpctl_engine_name(engine), xdpctl_fast_path_name(fast_path),
	       want_xdp ? (direct ? " (XDP by bpf_xdp_attach)" : " (XDP by libxdp)") : "");
	goto out;

rollback:
	if (liberal_set)
		dp_sysctl_write(SYSCTL_LIBERAL, 0);
	if (tc_added)
		dp_tc_del(dp, l.ifindex, DP_PROG_TC_IN, created);
	if (xdp_added || old_xdp_fd >= 0) {
		struct dp_xdp_state now;

		if (!dp_xdp_state(dp, l.ifindex, DP_PROG_XDP, &now) && now.ours_id)
			dp_xdp_remove(l.ifindex, now.ours_id, now.mode);
	}
	if (old_xdp_fd >= 0 && dp_xdp_restore(l.ifindex, old_xdp_fd, cur.mode))
		dp_log(XDPCTL_LOG_WARN, "%s: putting the old XDP program (id %u) back failed\n", dev,
		       cur.prog_id);
	if (have_old)
		dp_ifaces_update(dp, l.ifindex, &old, BPF_ANY);
	else
		dp_ifaces_delete(dp, l.ifindex);
out:
	if (old_xdp_fd >= 0)
		close(old_xdp_fd);
	xdpctl_xdp__destroy(xskel);
	xdpctl_tc__destroy(tskel);
	dp_unlock(dp);
	return dp_ret(err);
}

/* Uplinks left in this state that set nf_conntrack_tcp_be_liberal. */
static int liberal_users(struct xdpctl_dp *dp)
{
	int fd = dp_map_fd(dp, DP_MAP_IFACES), n = 0;
	__u32 key, *prev = NULL, keys[XDPCTL_MAX_IFACES], k = 0;
	struct xdpctl_iface e;

	while (k < XDPCTL_MAX_IFACES && !bpf_map_get_next_key(fd, prev, &key)) {
		keys[k] = key;
		prev = &keys[k++];
		if (!bpf_map_lookup_elem(fd, &key, &e) && (e.flags & XDPCTL_IF_UPLINK) &&
		    (e.flags & XDPCTL_IF_LIBERAL_OURS))
			n++;
	}
	return n;
}

int xdpctl_dp__detach(struct xdpctl_dp *dp, const char *dev)
{
	int ifaces = dp_map_fd(dp, DP_MAP_IFACES);
	struct xdpctl_iface ent;
	struct dp_xdp_state cur;
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
	err = dp_xdp_state(dp, l.ifindex, DP_PROG_XDP, &cur);
	if (!err && cur.ours_id) {
		err = dp_xdp_remove(l.ifindex, cur.ours_id, cur.mode);
		if (err) {
			err = dp_err(dp, err, "%s: removing XDP program %u: %s", dev, cur.ours_id,
				     strerror(-err));
			goto out;
		}
	}
	err = dp_tc_del(dp, l.ifindex, DP_PROG_TC_IN, ent.flags & XDPCTL_IF_CLSACT_OURS);
	if (err)
		goto out;
	dp_tail_unpin(dp, 'x', l.ifindex);
	dp_tail_unpin(dp, 'i', l.ifindex);
	if (dp_ifaces_delete(dp, l.ifindex) && errno != ENOENT)
		err = dp_err(dp, -errno, "%s: deleting the ifaces entry: %s", dev, strerror(errno));
	else {
		dp_pass_sync(dp);
		if ((ent.flags & XDPCTL_IF_LIBERAL_OURS) && !liberal_users(dp))
			dp_sysctl_write(SYSCTL_LIBERAL, 0);
		if (!dp_other_veth(dp, 0))
			dp_retprog_unpin(dp);
	}
out:
	dp_unlock(dp);
	return dp_ret(err);
}

/* ---- status ---- */

static void fill_status(struct xdpctl_dp *dp, __u32 ifindex, const struct xdpctl_iface *e,
			struct xdpctl_dev_status *st)
{
	struct dp_xdp_state xs;
	struct dp_link l;
	__u32 id;

	memset(st, 0, sizeof(*st));
	st->ifindex = ifindex;
	memcpy(st->mac, e->mac, 6);
	st->flags = e->flags;
	st->refcnt = e->refcnt;
	st->fast_path = e->flags & XDPCTL_IF_SKIP_FIREWALL ? XDPCTL_FAST_PATH_SKIP_FIREWALL :
							      XDPCTL_FAST_PATH_CONNTRACK;
	st->tcp_liberal_set = e->flags & XDPCTL_IF_LIBERAL_OURS;
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
		if (!dp_xdp_state(dp, ifindex, DP_PROG_XDP, &xs) && xs.ours_id) {
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
	struct dp_xdp_state xs;
	__u32 id;

	memset(st, 0, sizeof(*st));
	st->ifindex = ifindex;
	st->present = true;
	st->orphan = true;
	snprintf(st->name, sizeof(st->name), "%s", name);
	if (!dp_xdp_state(dp, ifindex, DP_PROG_XDP, &xs) && xs.orphan_id) {
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
			if (dp_ifaces_update(dp, ifindex, &ent, BPF_EXIST))
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
	if (dp_ifaces_delete(dp, ifindex) && errno != ENOENT)
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
