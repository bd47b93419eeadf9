// SPDX-License-Identifier: GPL-2.0-only
/*
 * Container discovery: from a process id to its network namespace and the
 * host-side veth whose peer lives there (rtnetlink through nl.c, no sysfs:
 * under `nsenter` /sys shows another namespace), from a container address
 * to the veth whose peer holds exactly that address, and from a host veth
 * to its peer's netns and addresses. discover_docker.c adds Docker names.
 *
 * Errors: -ESRCH no such process; -ENODEV no veth in this namespace has
 * its peer there; -EADDRNOTAVAIL no interface of the container holds the
 * address.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>

#include "netns.h"

/* ---- from a veth: its peer's netns and addresses ---- */

struct addr_query {
	__u32 ifindex;
	struct xdpctl_container *c;
};

/* The peer's first global IPv4 and IPv6 address. */
static int addr_cb(const struct dp_nl_addr *a, void *arg)
{
	struct addr_query *q = arg;

	if (a->ifindex != q->ifindex || a->scope != RT_SCOPE_UNIVERSE)
		return 0;
	if (a->family == AF_INET && !q->c->has4 && a->len == 4) {
		memset(&q->c->addr4, 0, sizeof(q->c->addr4));
		memcpy(q->c->addr4.addr, a->addr, 4);
		q->c->addr4.family = XDPCTL_AF_INET;
		q->c->has4 = true;
	} else if (a->family == AF_INET6 && !q->c->has6 && a->len == 16) {
		memset(&q->c->addr6, 0, sizeof(q->c->addr6));
		memcpy(q->c->addr6.addr, a->addr, 16);
		q->c->addr6.family = XDPCTL_AF_INET6;
		q->c->has6 = true;
	}
	return 0;
}

static int addr_dump(void *arg)
{
	return dp_addr_dump(AF_UNSPEC, addr_cb, arg);
}

static int discover_veth(const char *veth, const char *netns, struct xdpctl_container *c)
{
	struct dp_link l, peer;
	struct addr_query q;
	int nsfd = -1, err;

	if (!veth || !c)
		return dp_ret(-EINVAL);
	memset(c, 0, sizeof(*c));
	err = dp_link_get(veth, 0, -1, &l);
	if (err)
		return dp_err(NULL, err, "no such device: %s", veth);
	if (strcmp(l.kind, "veth"))
		return dp_err(NULL, -EINVAL, "%s is not a veth (%s)", veth,
			      l.kind[0] ? l.kind : "no link kind");
	snprintf(c->veth, sizeof(c->veth), "%s", l.name);
	c->veth_ifindex = l.ifindex;
	err = dp_link_get(NULL, l.link, l.link_nsid, &peer);
	if (err)
		return dp_err(NULL, err, "%s: cannot see its peer (ifindex %u, nsid %d)",
			      veth, l.link, l.link_nsid);
	memcpy(c->mac, peer.mac, 6);
	if (netns) {
		nsfd = dp_netns_open(netns);
		if (nsfd < 0)
			return dp_err(NULL, nsfd, "network namespace %s: %s", netns,
				      strerror(-nsfd));
		err = dp_netns_is(nsfd, l.link_nsid);
		if (err <= 0) {
			close(nsfd);
			if (err < 0)
				return dp_err(NULL, err, "network namespace %s: %s", netns,
					      strerror(-err));
			return dp_err(NULL, -EXDEV, "the peer of %s is not in %s", veth, netns);
		}
		snprintf(c->netns, sizeof(c->netns), "%s", netns);
		if (!strncmp(c->netns, "/proc/", 6))
			c->pid = atoi(c->netns + 6);
		if (l.link_nsid < 0) {
			close(nsfd);
			nsfd = -1;
		}
	} else if (l.link_nsid >= 0) {
		nsfd = dp_netns_find(l.link_nsid, c->netns, sizeof(c->netns));
		if (nsfd < 0)
			return dp_err(NULL, nsfd, "%s: no file names its peer's netns (nsid %d)",
				      veth, l.link_nsid);
		if (!strncmp(c->netns, "/proc/", 6))
			c->pid = atoi(c->netns + 6);
	}
	q.ifindex = peer.ifindex;
	q.c = c;
	err = dp_in_netns(nsfd, addr_dump, &q);
	if (nsfd >= 0)
		close(nsfd);
	if (err)
		return dp_err(NULL, err, "%s: reading the peer's addresses: %s", veth,
			      strerror(-err));
	return 0;
}

int xdpctl_discover_veth(const char *veth, struct xdpctl_container *c)
{
	return discover_veth(veth, NULL, c);
}

int xdpctl_discover_veth_netns(const char *veth, const char *netns, struct xdpctl_container *c)
{
	if (!netns || !*netns)
		return dp_ret(-EINVAL);
	return discover_veth(veth, netns, c);
}

/* ---- from a container's netns: the host-side veth into it ---- */

struct veth_match {
	int nsid;
	__u32 peer_ifindex;      /* 0: any veth into nsid; else only the one whose peer is this */
	char name[IF_NAMESIZE];
	__u32 ifindex;
	unsigned int found;
};

/* A link of the dump: note the veths whose peer has netns id m->nsid. */
static int on_link(const struct dp_link *l, void *ctx)
{
	struct veth_match *m = ctx;

	if (!l->name[0] || strcmp(l->kind, "veth") || l->link_nsid < 0 || l->link_nsid != m->nsid)
		return 0;
	if (m->peer_ifindex && l->link != m->peer_ifindex)
		return 0;
	/* the lowest ifindex wins when a namespace has several veths to us */
	if (!m->found || l->ifindex < m->ifindex) {
		m->ifindex = l->ifindex;
		snprintf(m->name, sizeof(m->name), "%s", l->name);
	}
	m->found++;
	return 0;
}

/*
 * The host-side veths whose peer lives in the netns open at @ns_fd (with
 * @peer_ifindex, only the one whose peer is that interface) into @m. The
 * first dump gives every veth peer's netns an id; then we ask for this
 * one's and look again. m->nsid < 0: the netns has no id here (no veth).
 */
static int host_veth_of(int ns_fd, __u32 peer_ifindex, struct veth_match *m)
{
	int err;

	memset(m, 0, sizeof(*m));
	m->nsid = -1;
	err = dp_link_dump(on_link, m);
	if (!err)
		err = dp_nsid_of_fd(ns_fd, &m->nsid);
	if (!err && m->nsid >= 0) {
		m->peer_ifindex = peer_ifindex;
		m->found = 0;
		err = dp_link_dump(on_link, m);
	}
	return err;
}

int xdpctl_discover_pid(pid_t pid, struct xdpctl_container *c)
{
	struct veth_match m;
	char path[64];
	struct stat mine, theirs;
	int ns_fd, err;

	if (pid <= 0 || !c)
		return dp_ret(-EINVAL);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0) {
		err = errno == ENOENT ? -ESRCH : -errno;
		return dp_err(NULL, err, "%s: %s", path,
			      err == -ESRCH ? "no such process" : strerror(-err));
	}
	if (!fstat(ns_fd, &theirs) && !stat("/proc/self/ns/net", &mine) &&
	    theirs.st_ino == mine.st_ino && theirs.st_dev == mine.st_dev) {
		close(ns_fd);
		return dp_err(NULL, -ENODEV,
			      "process %d is in this network namespace: no veth leads there", (int)pid);
	}
	err = host_veth_of(ns_fd, 0, &m);
	close(ns_fd);
	if (err)
		return dp_err(NULL, err, "rtnetlink: %s", strerror(-err));
	if (m.nsid < 0 || !m.found)
		return dp_err(NULL, -ENODEV, "no veth in this namespace has its peer in %s", path);
	if (m.found > 1)
		dp_log(XDPCTL_LOG_INFO, "%u veths lead to %s, taking %s (lowest ifindex)\n", m.found,
		     path, m.name);

	err = xdpctl_discover_veth(m.name, c);
	if (err)
		return dp_ret(err);
	c->nveths = m.found;
	c->pid = pid;
	snprintf(c->netns, sizeof(c->netns), "%s", path);
	return 0;
}

/* ---- from an address: the interface that holds it, then its veth ---- */

struct addr_find {
	const struct xdpctl_addr *addr;
	__u32 ifindex;           /* container-side interface holding addr */
	__u8 mac[6];
	int err;
};

static int on_addr(const struct dp_nl_addr *a, void *ctx)
{
	struct addr_find *f = ctx;
	size_t alen = f->addr->family == XDPCTL_AF_INET ? 4 : 16;

	if (f->ifindex || a->family != (f->addr->family == XDPCTL_AF_INET ? AF_INET : AF_INET6))
		return 0;
	if (a->len == alen && !memcmp(a->addr, f->addr->addr, alen))
		f->ifindex = a->ifindex;
	return 0;
}

/* In the container's netns: which interface holds f->addr, and its MAC. */
static int find_in_netns(void *arg)
{
	struct addr_find *f = arg;
	struct dp_link l;
	int err;

	err = dp_addr_dump(f->addr->family == XDPCTL_AF_INET ? AF_INET : AF_INET6, on_addr, f);
	if (!err && f->ifindex) {
		err = dp_link_get(NULL, f->ifindex, -1, &l);
		if (!err)
			memcpy(f->mac, l.mac, 6);
	}
	return err;
}

int xdpctl_discover_addr(pid_t pid, const struct xdpctl_addr *addr, struct xdpctl_container *c)
{
	struct veth_match m;
	struct addr_find f = { .addr = addr };
	char path[64], abuf[INET6_ADDRSTRLEN];
	int ns_fd, err;

	if (pid <= 0 || !addr || !c ||
	    (addr->family != XDPCTL_AF_INET && addr->family != XDPCTL_AF_INET6))
		return dp_ret(-EINVAL);
	xdpctl_addr_format(addr, abuf, sizeof(abuf));
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0) {
		err = errno == ENOENT ? -ESRCH : -errno;
		return dp_err(NULL, err, "%s: %s", path,
			      err == -ESRCH ? "no such process" : strerror(-err));
	}
	err = dp_in_netns(ns_fd, find_in_netns, &f);
	if (err) {
		close(ns_fd);
		return dp_err(NULL, err, "%s: reading its addresses: %s", path, strerror(-err));
	}
	if (!f.ifindex) {
		close(ns_fd);
		return dp_err(NULL, -EADDRNOTAVAIL, "no interface in %s holds %s", path, abuf);
	}
	err = host_veth_of(ns_fd, f.ifindex, &m);
	close(ns_fd);
	if (err)
		return dp_err(NULL, err, "rtnetlink: %s", strerror(-err));
	if (m.nsid < 0 || !m.found)
		return dp_err(NULL, -ENODEV, "the interface holding %s in %s has no veth peer here",
			      abuf, path);
	memset(c, 0, sizeof(*c));
	snprintf(c->veth, sizeof(c->veth), "%s", m.name);
	c->veth_ifindex = m.ifindex;
	memcpy(c->mac, f.mac, 6);
	c->pid = pid;
	c->nveths = 1;
	snprintf(c->netns, sizeof(c->netns), "%s", path);
	if (addr->family == XDPCTL_AF_INET) {
		c->addr4 = *addr;
		c->has4 = true;
	} else {
		c->addr6 = *addr;
		c->has6 = true;
	}
	return 0;
}
