// SPDX-License-Identifier: GPL-2.0-only
/*
 * Container veths. A bypass rule names a container's host-side veth; the
 * first rule for a veth sets it up (devmap entry, tc return-path program on
 * the host veth, pass program on the container-side peer while an uplink
 * redirects by XDP, an ifaces entry counting the rules), the last one
 * removes that again. The rules themselves are bypass.c's and
 * bypass_load.c's; the hooks are hook.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "veth.h"
#include "tc.skel.h"

int dp_veth_resolve(struct xdpctl_dp *dp, const char *dev, __u32 ifindex, struct dp_veth *v)
{
	char name[IF_NAMESIZE];
	struct dp_link br;
	int err;

	memset(v, 0, sizeof(*v));
	err = dp_link_get(dev && *dev ? dev : NULL, ifindex, -1, &v->host);
	if (err) {
		if (dev && *dev)
			return dp_errk(dp, err, err == -ENODEV ? XDPCTL_ERR_NO_DEVICE : XDPCTL_ERR_OTHER,
				       dev, "no such device: %s", dev);
		return dp_err(dp, err, "no such device: ifindex %u", ifindex);
	}
	dev = v->host.name;
	if (strcmp(v->host.kind, "veth"))
		return dp_err(dp, -EINVAL, "%s is not a veth (%s)", dev,
			      v->host.kind[0] ? v->host.kind : "no link kind");
	/* A devmap entry is resolved in the writer's netns: make sure it names DEV here. */
	err = dp_ifname(v->host.ifindex, name);
	if (err || strcmp(name, dev))
		return dp_err(dp, -ENODEV, "%s: ifindex %u names %s in this netns", dev,
			      v->host.ifindex, err ? "nothing" : name);
	err = dp_link_get(NULL, v->host.link, v->host.link_nsid, &v->peer);
	if (err)
		return dp_err(dp, err, "%s: cannot see its peer (ifindex %u, nsid %d)", dev,
			      v->host.link, v->host.link_nsid);
	/*
	 * bpf_redirect_peer (the tc engine) needs the peer in another netns:
	 * into a peer of the same netns it drops the packet, which the program
	 * has already counted as bypassed. A container's veth never is one.
	 */
	if (v->host.link_nsid < 0)
		return dp_err(dp, -EXDEV,
			      "%s: its peer %s is in the same network namespace, not a container's: bypass delivers into the peer's namespace (tc's bpf_redirect_peer drops the traffic otherwise); give the host end of a container's veth",
			      dev, v->peer.name);
	memcpy(v->smac, v->host.mac, 6);
	if (v->host.master && !dp_link_get(NULL, v->host.master, -1, &br))
		memcpy(v->smac, br.mac, 6);
	v->mtu = v->host.mtu < v->peer.mtu ? v->host.mtu : v->peer.mtu;
	if (v->host.mtu > 0xffff && v->peer.mtu > 0xffff)
		v->mtu = 0xffff;
	return 0;
}

/* The peer's netns: given by the caller (checked), or found by nsid; -1: here. */
int dp_veth_netns(struct xdpctl_dp *dp, const struct dp_veth *v, const char *given)
{
	char path[PATH_MAX];
	int fd;

	if (given && *given) {
		fd = dp_netns_open(given);
		if (fd < 0)
			return dp_err(dp, fd, "network namespace %s: %s", given, strerror(-fd));
		if (dp_netns_is(fd, v->host.link_nsid) <= 0) {
			close(fd);
			return dp_err(dp, -EINVAL, "the peer of %s is not in %s", v->host.name, given);
		}
		if (v->host.link_nsid < 0) {
			/* The peer is here. */
			close(fd);
			return -1;
		}
		return fd;
	}
	if (v->host.link_nsid < 0)
		return -1;
	fd = dp_netns_find(v->host.link_nsid, path, sizeof(path));
	if (fd < 0)
		return dp_err(dp, fd, "%s: cannot find its peer's netns (nsid %d): pass it explicitly",
			      v->host.name, v->host.link_nsid);
	return fd;
}

struct pass_call {
	__u32 ifindex;
	bool ours;
};

static int pass_attach_cb(void *arg)
{
	struct pass_call *c = arg;

	return dp_pass_attach(c->ifindex, &c->ours);
}

static int pass_detach_cb(void *arg)
{
	struct pass_call *c = arg;

	return dp_pass_detach(c->ifindex);
}

/*
 * First rule for veth @v: devmap entry, tc return path on the host veth,
 * pass program on the peer (netns @nsfd). Fills @ent; undoes itself on error.
 */
int dp_veth_setup(struct xdpctl_dp *dp, const struct dp_veth *v, int nsfd,
		  struct dp_retprog *ret, struct xdpctl_iface *ent)
{
	int devmap = dp_map_fd(dp, DP_MAP_DEVMAP);
	__u32 idx = v->host.ifindex;
	struct pass_call pc = { .ifindex = v->peer.ifindex };
	bool created = false;
	int err;

	memset(ent, 0, sizeof(*ent));
	memcpy(ent->mac, v->host.mac, 6);
	ent->flags = XDPCTL_IF_VETH;

	if (bpf_map_update_elem(devmap, &idx, &idx, BPF_ANY)) {
		err = errno == E2BIG ?
			dp_err(dp, -E2BIG, "%s: the devmap is full (%u devices)", v->host.name,
			       XDPCTL_MAX_IFACES) :
			dp_err(dp, -errno, "%s: writing the devmap entry: %s", v->host.name,
			       strerror(errno));
		return err;
	}
	/* Shared, pinned: no verifier run for a veth (see dp_retprog_get). */
	err = dp_retprog_get(dp, ret);
	if (err)
		goto fail_devmap;
	/* The veth's own pin of the array: it outlives a replaced shared pin. */
	err = dp_tail_pin(dp, ret->tail_fd, 'r', idx);
	if (!err)
		err = dp_tc_add(dp, idx, ret->prog_fd, DP_PROG_TC_FWD, false, &created);
	if (err)
		goto fail_devmap;
	if (created)
		ent->flags |= XDPCTL_IF_CLSACT_OURS;
	/* The pass program only serves XDP redirects: none without an XDP-engine uplink. */
	if (!dp_xdp_redirects(dp))
		return 0;
	err = dp_in_netns(nsfd, pass_attach_cb, &pc);
	if (err) {
		err = dp_err(dp, err, "%s: attaching the pass program to its peer (ifindex %u): %s",
			     v->host.name, v->peer.ifindex, strerror(-err));
		goto fail_tc;
	}
	if (pc.ours)
		ent->flags |= XDPCTL_IF_PASS_OURS;
	else
		dp_log(XDPCTL_LOG_INFO, "%s: its peer runs another XDP program; left as it is\n",
		       v->host.name);
	return 0;

fail_tc:
	dp_tc_del(dp, idx, DP_PROG_TC_FWD, created);
fail_devmap:
	bpf_map_delete_elem(devmap, &idx);
	return err;
}

bool dp_xdp_redirects(struct xdpctl_dp *dp)
{
	int fd = dp_map_fd(dp, DP_MAP_IFACES);
	__u32 key, prev = 0;
	struct xdpctl_iface e;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &prev, &key)) {
		first = false;
		prev = key;
		if (bpf_map_lookup_elem(fd, &key, &e))
			continue;
		if ((e.flags & XDPCTL_IF_UPLINK) &&
		    !(e.flags & (XDPCTL_IF_ENGINE_TC | XDPCTL_IF_BYPASS_TO_TC)))
			return true;
	}
	return false;
}

/* Put the pass program on (@on) or take it off the peer of host veth @ifindex. */
static int pass_set(struct xdpctl_dp *dp, __u32 ifindex, struct xdpctl_iface *e, bool on)
{
	struct pass_call pc = {};
	char path[PATH_MAX];
	struct dp_link host;
	int nsfd = -1, err;

	if (dp_link_get(NULL, ifindex, -1, &host))
		return 0; /* gone: its programs went with it */
	if (host.link_nsid >= 0) {
		nsfd = dp_netns_find(host.link_nsid, path, sizeof(path));
		if (nsfd < 0)
			return dp_err(dp, nsfd, "%s: cannot find its peer's netns (nsid %d)", host.name,
				      host.link_nsid);
	}
	pc.ifindex = host.link;
	err = dp_in_netns(nsfd, on ? pass_attach_cb : pass_detach_cb, &pc);
	if (nsfd >= 0)
		close(nsfd);
	if (err)
		return dp_err(dp, err, "%s: %s the pass program of its peer: %s", host.name,
			      on ? "attaching" : "removing", strerror(-err));
	if (on && pc.ours)
		e->flags |= XDPCTL_IF_PASS_OURS;
	else if (!on)
		e->flags &= ~XDPCTL_IF_PASS_OURS;
	return 0;
}

void dp_pass_sync(struct xdpctl_dp *dp)
{
	int fd = dp_map_fd(dp, DP_MAP_IFACES);
	__u32 keys[XDPCTL_MAX_IFACES], key, n = 0, i;
	bool want = dp_xdp_redirects(dp);
	struct xdpctl_iface e;

	while (n < XDPCTL_MAX_IFACES && !bpf_map_get_next_key(fd, n ? &keys[n - 1] : NULL, &key))
		keys[n++] = key;
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(fd, &keys[i], &e) || !(e.flags & XDPCTL_IF_VETH) ||
		    !e.refcnt || want == !!(e.flags & XDPCTL_IF_PASS_OURS))
			continue;
		if (pass_set(dp, keys[i], &e, want))
			dp_log(XDPCTL_LOG_WARN, "%s\n", dp->errmsg);
		else
			dp_ifaces_update(dp, keys[i], &e, BPF_EXIST);
	}
}

bool dp_other_veth(struct xdpctl_dp *dp, __u32 ifindex)
{
	int fd = dp_map_fd(dp, DP_MAP_IFACES);
	__u32 key, prev = 0;
	struct xdpctl_iface e;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &prev, &key)) {
		first = false;
		prev = key;
		if (key != ifindex && !bpf_map_lookup_elem(fd, &key, &e) &&
		    (e.flags & XDPCTL_IF_VETH))
			return true;
	}
	return false;
}

int dp_veth_teardown(struct xdpctl_dp *dp, __u32 ifindex, const struct xdpctl_iface *e)
{
	struct pass_call pc = {};
	char path[PATH_MAX];
	struct dp_link host;
	int err = 0, e2, nsfd = -1;

	dp_tail_unpin(dp, 'r', ifindex);
	if (!dp_link_get(NULL, ifindex, -1, &host)) {
		e2 = dp_tc_del(dp, ifindex, DP_PROG_TC_FWD, e->flags & XDPCTL_IF_CLSACT_OURS);
		if (e2)
			err = e2;
		if (e->flags & XDPCTL_IF_PASS_OURS) {
			if (host.link_nsid >= 0)
				nsfd = dp_netns_find(host.link_nsid, path, sizeof(path));
			if (host.link_nsid >= 0 && nsfd < 0) {
				err = dp_err(dp, -ENOENT,
					     "%s: cannot find its peer's netns (nsid %d) to remove the pass program",
					     host.name, host.link_nsid);
			} else {
				pc.ifindex = host.link;
				e2 = dp_in_netns(nsfd, pass_detach_cb, &pc);
				if (e2 && !err)
					err = dp_err(dp, e2, "%s: removing the pass program of its peer: %s",
						     host.name, strerror(-e2));
			}
			if (nsfd >= 0)
				close(nsfd);
		}
	}
	/* Gone devices took their programs with them; the map entries stay ours to remove. */
	bpf_map_delete_elem(dp_map_fd(dp, DP_MAP_DEVMAP), &ifindex);
	if (!err)
		dp_ifaces_delete(dp, ifindex);
	/* The last veth: the shared return program's pins go with it. */
	if (!dp_other_veth(dp, ifindex))
		dp_retprog_unpin(dp);
	return dp_ret(err);
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
