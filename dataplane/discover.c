// SPDX-License-Identifier: GPL-2.0-only
/*
 * Container discovery: from a process id to its network namespace and the
 * host-side veth whose peer lives there (rtnetlink, no sysfs: under
 * `nsenter` /sys shows another namespace), from a container address to the
 * veth whose peer holds exactly that address, and from a Docker container
 * name or id to its process id (the Engine API client of docker.c).
 *
 * Errors: -ESRCH no such process, or the container is not running; -ENOENT
 * no such container; -ENODEV no veth in this namespace has its peer there;
 * -EADDRNOTAVAIL no interface of the container holds the address;
 * -ECONNREFUSED the Docker daemon does not answer on its socket; -EINVAL a
 * name that is not a Docker name; -EPROTO an answer we cannot read.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "docker_int.h"

#define NL_BUF              32768


/* ---- rtnetlink ---- */

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int nl_send(int fd, struct nlmsghdr *nlh)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

static void nl_attr(struct nlmsghdr *nlh, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/*
 * Receive the answers to one request and hand each message of type @type
 * to @cb. @return 0 when done (NLMSG_DONE, or the ack of a single answer),
 * a negative errno from the kernel or from @cb.
 */
static int nl_recv(int fd, __u32 seq, unsigned short type,
		   int (*cb)(struct nlmsghdr *nlh, void *ctx), void *ctx)
{
	char *buf = malloc(NL_BUF);
	int err = 0, loops;

	if (!buf)
		return -ENOMEM;
	/* bounded: a dump of a few thousand links takes a few dozen reads */
	for (loops = 0; loops < 100000; loops++) {
		struct nlmsghdr *nlh;
		ssize_t n = recv(fd, buf, NL_BUF, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (n == 0) {
			err = -EPROTO;
			goto out;
		}
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, (size_t)n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE)
				goto out;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);

				err = e->error; /* 0 for an ack */
				goto out;
			}
			if (nlh->nlmsg_type == type && cb) {
				err = cb(nlh, ctx);
				if (err)
					goto out;
			}
			if (!(nlh->nlmsg_flags & NLM_F_MULTI))
				goto out;
		}
	}
	err = -E2BIG;
out:
	free(buf);
	return err;
}

struct veth_match {
	__s32 nsid;
	__u32 peer_ifindex;      /* 0: any veth into nsid; else only the one whose peer is this */
	char name[IF_NAMESIZE];
	__u32 ifindex;
	unsigned int found;
};

static void parse_rtattr(struct rtattr **tb, int max, struct rtattr *rta, int len)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type <= max && !tb[rta->rta_type])
			tb[rta->rta_type] = rta;
}

static bool is_veth(struct rtattr *linkinfo)
{
	struct rtattr *li[IFLA_INFO_MAX + 1];

	if (!linkinfo)
		return false;
	parse_rtattr(li, IFLA_INFO_MAX, RTA_DATA(linkinfo), RTA_PAYLOAD(linkinfo));
	return li[IFLA_INFO_KIND] && RTA_PAYLOAD(li[IFLA_INFO_KIND]) >= 5 &&
	       !strncmp(RTA_DATA(li[IFLA_INFO_KIND]), "veth", 5);
}

/* RTM_NEWLINK of the dump: note the veths whose peer has netns id m->nsid. */
static int on_link(struct nlmsghdr *nlh, void *ctx)
{
	struct veth_match *m = ctx;
	struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	struct rtattr *tb[IFLA_MAX + 1];
	int len = nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));

	if (len < 0)
		return 0;
	parse_rtattr(tb, IFLA_MAX, IFLA_RTA(ifi), len);
	if (!tb[IFLA_IFNAME] || !tb[IFLA_LINK_NETNSID] || !is_veth(tb[IFLA_LINKINFO]))
		return 0;
	if (*(__s32 *)RTA_DATA(tb[IFLA_LINK_NETNSID]) != m->nsid)
		return 0;
	if (m->peer_ifindex &&
	    (!tb[IFLA_LINK] || *(__u32 *)RTA_DATA(tb[IFLA_LINK]) != m->peer_ifindex))
		return 0;
	/* the lowest ifindex wins when a namespace has several veths to us */
	if (!m->found || (__u32)ifi->ifi_index < m->ifindex) {
		m->ifindex = ifi->ifi_index;
		snprintf(m->name, sizeof(m->name), "%s", (char *)RTA_DATA(tb[IFLA_IFNAME]));
	}
	m->found++;
	return 0;
}

static int dump_links(int fd, struct veth_match *m)
{
	struct {
		struct nlmsghdr nlh;
		struct ifinfomsg ifi;
		char attrs[64];
	} req = {};
	__u32 ext = RTEXT_FILTER_SKIP_STATS;
	int err;

	req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.nlh.nlmsg_type = RTM_GETLINK;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nlh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;
	nl_attr(&req.nlh, IFLA_EXT_MASK, &ext, sizeof(ext));
	err = nl_send(fd, &req.nlh);
	return err ? err : nl_recv(fd, 1, RTM_NEWLINK, on_link, m);
}

int xdpctl_discover_pid(pid_t pid, struct xdpctl_container *c)
{
	struct veth_match m = { .nsid = -1 };
	char path[64];
	struct stat mine, theirs;
	int ns_fd, fd, err;

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
	fd = nl_open();
	if (fd < 0) {
		close(ns_fd);
		return dp_err(NULL, fd, "rtnetlink: %s", strerror(-fd));
	}
	/* The dump first: it gives every veth peer's namespace an id, then ask for that one's. */
	err = dump_links(fd, &m);
	if (!err)
		err = dp_nsid_of_fd(ns_fd, &m.nsid);
	if (!err && m.nsid >= 0)
		err = dump_links(fd, &m);
	close(fd);
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

static int on_addr(struct nlmsghdr *nlh, void *ctx)
{
	struct addr_find *f = ctx;
	struct ifaddrmsg *ifa = NLMSG_DATA(nlh);
	struct rtattr *tb[IFA_MAX + 1], *a;
	int len = nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa));
	size_t alen = f->addr->family == XDPCTL_AF_INET ? 4 : 16;

	if (len < 0 || f->ifindex)
		return 0;
	if (ifa->ifa_family != (f->addr->family == XDPCTL_AF_INET ? AF_INET : AF_INET6))
		return 0;
	parse_rtattr(tb, IFA_MAX, IFA_RTA(ifa), len);
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (a && RTA_PAYLOAD(a) == alen && !memcmp(RTA_DATA(a), f->addr->addr, alen))
		f->ifindex = ifa->ifa_index;
	return 0;
}

static int on_link_mac(struct nlmsghdr *nlh, void *ctx)
{
	struct addr_find *f = ctx;
	struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	struct rtattr *tb[IFLA_MAX + 1];
	int len = nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));

	if (len < 0 || (__u32)ifi->ifi_index != f->ifindex)
		return 0;
	parse_rtattr(tb, IFLA_MAX, IFLA_RTA(ifi), len);
	if (tb[IFLA_ADDRESS] && RTA_PAYLOAD(tb[IFLA_ADDRESS]) == 6)
		memcpy(f->mac, RTA_DATA(tb[IFLA_ADDRESS]), 6);
	return 0;
}

/* In the container's netns: which interface holds f->addr, and its MAC. */
static int find_in_netns(void *arg)
{
	struct addr_find *f = arg;
	struct {
		struct nlmsghdr nlh;
		union {
			struct ifaddrmsg ifa;
			struct ifinfomsg ifi;
		};
	} req = {};
	int fd = nl_open(), err;

	if (fd < 0)
		return fd;
	req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.nlh.nlmsg_type = RTM_GETADDR;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nlh.nlmsg_seq = 1;
	req.ifa.ifa_family = f->addr->family == XDPCTL_AF_INET ? AF_INET : AF_INET6;
	err = nl_send(fd, &req.nlh);
	if (!err)
		err = nl_recv(fd, 1, RTM_NEWADDR, on_addr, f);
	if (!err && f->ifindex) {
		memset(&req, 0, sizeof(req));
		req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
		req.nlh.nlmsg_type = RTM_GETLINK;
		req.nlh.nlmsg_flags = NLM_F_REQUEST;
		req.nlh.nlmsg_seq = 2;
		req.ifi.ifi_family = AF_UNSPEC;
		req.ifi.ifi_index = (int)f->ifindex;
		err = nl_send(fd, &req.nlh);
		if (!err)
			err = nl_recv(fd, 2, RTM_NEWLINK, on_link_mac, f);
	}
	close(fd);
	return err;
}

int xdpctl_discover_addr(pid_t pid, const struct xdpctl_addr *addr, struct xdpctl_container *c)
{
	struct veth_match m = { .nsid = -1 };
	struct addr_find f = { .addr = addr };
	char path[64], abuf[INET6_ADDRSTRLEN];
	int ns_fd, fd, err;

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
	fd = nl_open();
	if (fd < 0) {
		close(ns_fd);
		return dp_err(NULL, fd, "rtnetlink: %s", strerror(-fd));
	}
	/* As in xdpctl_discover_pid: the dump gives the netns an id, then ask for it. */
	err = dump_links(fd, &m);
	if (!err)
		err = dp_nsid_of_fd(ns_fd, &m.nsid);
	if (!err && m.nsid >= 0) {
		m.peer_ifindex = f.ifindex;
		m.found = 0;
		err = dump_links(fd, &m);
	}
	close(fd);
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

/* ---- Docker: the Engine API client of docker.c ---- */

int xdpctl_discover_docker(const char *name_or_id, struct xdpctl_container *c)
{
	struct xdpctl_docker_ctr *d;
	struct xdpctl_docker *dk;
	unsigned int i;
	int err;

	if (!name_or_id || !c)
		return dp_ret(-EINVAL);
	err = xdpctl_docker__open(NULL, &dk);
	if (err)
		return dp_err(NULL, err, "%s", xdpctl_docker__errmsg(NULL));
	d = calloc(1, sizeof(*d));
	if (!d) {
		xdpctl_docker__close(dk);
		return dp_err(NULL, -ENOMEM, "out of memory");
	}
	err = xdpctl_docker__inspect(dk, name_or_id, NULL, d);
	if (err)
		dp_err(NULL, err, "%s", xdpctl_docker__errmsg(dk));
	xdpctl_docker__close(dk);
	if (err)
		goto out;
	if (!d->running || !d->pid) {
		err = dp_err(NULL, -ESRCH, "container %s is not running", name_or_id);
		goto out;
	}
	err = xdpctl_discover_pid(d->pid, c);
	if (err)
		goto out;
	/* The kernel's view (veth, peer MAC and addresses) wins; Docker fills the gaps. */
	snprintf(c->name, sizeof(c->name), "%s", d->name);
	snprintf(c->id, sizeof(c->id), "%s", d->id);
	for (i = 0; i < d->nnets; i++) {
		if (!c->has4 && d->nets[i].has4) {
			c->addr4 = d->nets[i].addr4;
			c->has4 = true;
		}
		if (!c->has6 && d->nets[i].has6) {
			c->addr6 = d->nets[i].addr6;
			c->has6 = true;
		}
	}
out:
	free(d);
	return dp_ret(err);
}
