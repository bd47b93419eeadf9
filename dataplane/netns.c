// SPDX-License-Identifier: GPL-2.0-only
/*
 * Network namespaces and the rtnetlink queries the library needs: links by
 * name or index (also in a peer netns by nsid), the netns behind a veth
 * peer (IFLA_LINK_NETNSID matched with RTM_GETNSID against /run/netns,
 * Docker's netns dir and /proc/PID/ns/net), tc filter counts, and
 * xdpctl_discover_veth(). Names and ifindexes come from netlink, never from
 * /sys/class/net, which shows the wrong namespace under nsenter.
 * xdpctl_discover_veth_netns() is the same with the container's netns
 * given (a CNI runtime's CNI_NETNS) and checked rather than searched for.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Bounds on what we read from the kernel and the file system. */
#define NL_BUF_SIZE     65536
#define NL_MAX_MSGS     1000000 /* messages of one dump */
#define NETNS_MAX_SCAN  65536   /* candidate netns files */

struct nl_req {
	struct nlmsghdr nh;
	union {
		struct ifinfomsg ifi;
		struct rtgenmsg gen;
		struct tcmsg tcm;
		struct ifaddrmsg ifa;
	};
	char attrs[256];
};

static int nl_socket(bool strict)
{
	struct timeval tv = { .tv_sec = 5 };
	int one = 1, fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (strict)
		setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	return fd;
}

static int nl_attr(struct nl_req *req, int type, const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(req->nh.nlmsg_len);
	struct rtattr *rta = (struct rtattr *)((char *)req + off);

	if (off + RTA_LENGTH(len) > sizeof(*req))
		return -ENOSPC;
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	req->nh.nlmsg_len = off + RTA_ALIGN(rta->rta_len);
	return 0;
}

typedef int (*nl_cb)(const struct nlmsghdr *nh, void *arg);

/*
 * Send @req and hand each reply message to @cb until the kernel's ACK,
 * error or NLMSG_DONE. Returns 0, the kernel's negative error, or @cb's
 * first negative return.
 */
static int nl_talk(struct nl_req *req, bool strict, nl_cb cb, void *arg)
{
	static __thread __u32 seq;
	bool dump = req->nh.nlmsg_flags & NLM_F_DUMP;
	int fd, err = 0, cb_err = 0;
	long msgs = 0;
	char *buf;

	fd = nl_socket(strict);
	if (fd < 0)
		return fd;
	buf = malloc(NL_BUF_SIZE);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	req->nh.nlmsg_flags |= NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK);
	req->nh.nlmsg_seq = ++seq;
	if (send(fd, req, req->nh.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		struct nlmsghdr *nh;
		ssize_t n = recv(fd, buf, NL_BUF_SIZE, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno == EAGAIN ? -ETIMEDOUT : -errno;
			goto out;
		}
		if (n == 0) {
			err = -EPIPE;
			goto out;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != req->nh.nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				err = e->error;
				goto out;
			}
			if (nh->nlmsg_type == NLMSG_DONE)
				goto out;
			if (++msgs > NL_MAX_MSGS) {
				err = -E2BIG;
				goto out;
			}
			if (cb && !cb_err)
				cb_err = cb(nh, arg);
		}
	}
out:
	free(buf);
	close(fd);
	return err ? err : (cb_err < 0 ? cb_err : 0);
}

static void nl_parse(struct rtattr *tb[], int max, struct rtattr *rta, int len)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type <= max && !tb[rta->rta_type])
			tb[rta->rta_type] = rta;
}

static __u32 rta_u32(const struct rtattr *rta)
{
	__u32 v;

	memcpy(&v, RTA_DATA(rta), sizeof(v));
	return v;
}

static int link_cb(const struct nlmsghdr *nh, void *arg)
{
	struct rtattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1], *xdp[IFLA_XDP_MAX + 1];
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	struct dp_link *l = arg;
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));

	if (nh->nlmsg_type != RTM_NEWLINK || len < 0)
		return 0;
	memset(l, 0, sizeof(*l));
	l->link_nsid = -1;
	l->ifindex = ifi->ifi_index;
	nl_parse(tb, IFLA_MAX, IFLA_RTA(ifi), len);
	if (tb[IFLA_IFNAME])
		snprintf(l->name, sizeof(l->name), "%s", (char *)RTA_DATA(tb[IFLA_IFNAME]));
	if (tb[IFLA_ADDRESS] && RTA_PAYLOAD(tb[IFLA_ADDRESS]) == 6)
		memcpy(l->mac, RTA_DATA(tb[IFLA_ADDRESS]), 6);
	if (tb[IFLA_MTU])
		l->mtu = rta_u32(tb[IFLA_MTU]);
	if (tb[IFLA_MASTER])
		l->master = rta_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_LINK])
		l->link = rta_u32(tb[IFLA_LINK]);
	if (tb[IFLA_LINK_NETNSID])
		l->link_nsid = (int)rta_u32(tb[IFLA_LINK_NETNSID]);
	if (tb[IFLA_LINKINFO]) {
		nl_parse(li, IFLA_INFO_MAX, RTA_DATA(tb[IFLA_LINKINFO]),
			 RTA_PAYLOAD(tb[IFLA_LINKINFO]));
		if (li[IFLA_INFO_KIND])
			snprintf(l->kind, sizeof(l->kind), "%s",
				 (char *)RTA_DATA(li[IFLA_INFO_KIND]));
	}
	if (tb[IFLA_XDP]) {
		nl_parse(xdp, IFLA_XDP_MAX, RTA_DATA(tb[IFLA_XDP]), RTA_PAYLOAD(tb[IFLA_XDP]));
		if (xdp[IFLA_XDP_PROG_ID])
			l->xdp_prog_id = rta_u32(xdp[IFLA_XDP_PROG_ID]);
	}
	return 1;
}

int dp_link_get(const char *name, __u32 ifindex, int nsid, struct dp_link *out)
{
	struct nl_req req = {};
	__u32 mask = RTEXT_FILTER_SKIP_STATS;
	struct dp_link l = {};
	int err;

	if ((!name || !*name) && !ifindex)
		return -EINVAL;
	if (name && strlen(name) >= IF_NAMESIZE)
		return -ENODEV;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.nh.nlmsg_type = RTM_GETLINK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = name && *name ? 0 : ifindex;
	if (name && *name)
		nl_attr(&req, IFLA_IFNAME, name, strlen(name) + 1);
	if (nsid >= 0)
		nl_attr(&req, IFLA_TARGET_NETNSID, &nsid, sizeof(nsid));
	nl_attr(&req, IFLA_EXT_MASK, &mask, sizeof(mask));
	l.ifindex = 0;
	err = nl_talk(&req, false, link_cb, &l);
	if (err == -ENODEV || err == -ENOENT || (!err && !l.ifindex))
		return -ENODEV;
	if (err)
		return err;
	*out = l;
	return 0;
}

int dp_ifname(__u32 ifindex, char name[IF_NAMESIZE])
{
	struct dp_link l;
	int err = dp_link_get(NULL, ifindex, -1, &l);

	if (err)
		return err;
	memcpy(name, l.name, IF_NAMESIZE);
	return 0;
}

static int nsid_cb(const struct nlmsghdr *nh, void *arg)
{
	struct rtattr *tb[NETNSA_MAX + 1];
	const struct rtgenmsg *g = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_SPACE(sizeof(*g));

	if (nh->nlmsg_type != RTM_NEWNSID || len < 0)
		return 0;
	nl_parse(tb, NETNSA_MAX,
		 (struct rtattr *)((char *)g + NLMSG_ALIGN(sizeof(*g))), len);
	if (tb[NETNSA_NSID])
		*(int *)arg = (int)rta_u32(tb[NETNSA_NSID]);
	return 1;
}

int dp_nsid_of_fd(int fd, int *nsid)
{
	struct nl_req req = {};
	__u32 ufd = fd;
	int id = -1, err;

	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.gen));
	req.nh.nlmsg_type = RTM_GETNSID;
	req.gen.rtgen_family = AF_UNSPEC;
	nl_attr(&req, NETNSA_FD, &ufd, sizeof(ufd));
	err = nl_talk(&req, false, nsid_cb, &id);
	if (err)
		return err;
	*nsid = id;
	return 0;
}

struct scan {
	int nsid;
	char *path;
	size_t len;
	int fd;            /* the match, -1 while searching */
	dev_t *devs;       /* namespaces already asked about */
	ino_t *inos;
	size_t n, cap;
};

/* Ask about one candidate file; 1 when it is the namespace we look for. */
static int scan_one(struct scan *s, const char *path)
{
	struct stat st;
	size_t i;
	int fd, id;

	if (stat(path, &st))
		return 0;
	for (i = 0; i < s->n; i++)
		if (s->inos[i] == st.st_ino && s->devs[i] == st.st_dev)
			return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		dev_t *d = realloc(s->devs, cap * sizeof(*d));
		ino_t *n;

		if (!d)
			return 0;
		s->devs = d;
		n = realloc(s->inos, cap * sizeof(*n));
		if (!n)
			return 0;
		s->inos = n;
		s->cap = cap;
	}
	s->devs[s->n] = st.st_dev;
	s->inos[s->n++] = st.st_ino;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (!dp_nsid_of_fd(fd, &id) && id == s->nsid) {
		snprintf(s->path, s->len, "%s", path);
		s->fd = fd;
		return 1;
	}
	close(fd);
	return 0;
}

/* Candidates in @dir: every entry (a netns dir) or /proc/PID/ns/net. */
static int scan_dir(struct scan *s, const char *dir, bool proc, size_t *budget)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d)) && *budget) {
		if (de->d_name[0] == '.')
			continue;
		if (proc && !isdigit((unsigned char)de->d_name[0]))
			continue;
		(*budget)--;
		snprintf(path, sizeof(path), proc ? "%s/%s/ns/net" : "%s/%s", dir, de->d_name);
		if (scan_one(s, path)) {
			closedir(d);
			return 1;
		}
	}
	closedir(d);
	return 0;
}

int dp_netns_find(int nsid, char *path, size_t len)
{
	struct scan s = { .nsid = nsid, .path = path, .len = len, .fd = -1 };
	size_t budget = NETNS_MAX_SCAN;

	if (nsid < 0)
		return -EINVAL;
	if (!scan_dir(&s, "/run/netns", false, &budget) &&
	    !scan_dir(&s, "/var/run/docker/netns", false, &budget))
		scan_dir(&s, "/proc", true, &budget);
	free(s.devs);
	free(s.inos);
	return s.fd >= 0 ? s.fd : -ENOENT;
}

int dp_netns_open(const char *name_or_path)
{
	char path[PATH_MAX];
	int fd;

	if (!name_or_path || !*name_or_path)
		return -EINVAL;
	if (strchr(name_or_path, '/')) {
		snprintf(path, sizeof(path), "%s", name_or_path);
	} else {
		if (strlen(name_or_path) > NAME_MAX)
			return -EINVAL;
		snprintf(path, sizeof(path), "/run/netns/%s", name_or_path);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int dp_in_netns(int nsfd, int (*fn)(void *), void *arg)
{
	int orig, ret;

	if (nsfd < 0)
		return fn(arg);
	orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET)) {
		ret = -errno;
		close(orig);
		return ret;
	}
	ret = fn(arg);
	if (setns(orig, CLONE_NEWNET)) {
		/* Short of a kernel bug this cannot happen; the caller must know. */
		ret = -errno;
		dp_log(XDPCTL_LOG_WARN, "cannot return to the original netns: %s\n",
		       strerror(errno));
	}
	close(orig);
	return ret;
}

int xdpctl_netns_enter(const char *name_or_path)
{
	int fd, err = 0;

	fd = dp_netns_open(name_or_path);
	if (fd < 0)
		return dp_err(NULL, fd, "network namespace %s: %s", name_or_path ? name_or_path : "",
			      strerror(-fd));
	if (setns(fd, CLONE_NEWNET))
		err = dp_err(NULL, -errno, "entering network namespace %s: %s", name_or_path,
			     strerror(errno));
	close(fd);
	return err;
}

static int count_cb(const struct nlmsghdr *nh, void *arg)
{
	if (nh->nlmsg_type == RTM_NEWTFILTER)
		(*(int *)arg)++;
	return 0;
}

int dp_tc_filter_count(__u32 ifindex, __u32 parent)
{
	struct nl_req req = {};
	int n = 0, err;

	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.tcm));
	req.nh.nlmsg_type = RTM_GETTFILTER;
	req.nh.nlmsg_flags = NLM_F_DUMP;
	req.tcm.tcm_family = AF_UNSPEC;
	req.tcm.tcm_ifindex = ifindex;
	req.tcm.tcm_parent = parent;
	err = nl_talk(&req, false, count_cb, &n);
	return err ? err : n;
}

/* ---- discovery of a veth's container ---- */

struct addr_query {
	__u32 ifindex;
	struct xdpctl_container *c;
};

static int addr_cb(const struct nlmsghdr *nh, void *arg)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	struct addr_query *q = arg;
	struct rtattr *tb[IFA_MAX + 1], *a;
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa));

	if (nh->nlmsg_type != RTM_NEWADDR || len < 0 || ifa->ifa_index != q->ifindex)
		return 0;
	if (ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return 0;
	nl_parse(tb, IFA_MAX, IFA_RTA(ifa), len);
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a)
		return 0;
	if (ifa->ifa_family == AF_INET && !q->c->has4 && RTA_PAYLOAD(a) == 4) {
		memset(&q->c->addr4, 0, sizeof(q->c->addr4));
		memcpy(q->c->addr4.addr, RTA_DATA(a), 4);
		q->c->addr4.family = XDPCTL_AF_INET;
		q->c->has4 = true;
	} else if (ifa->ifa_family == AF_INET6 && !q->c->has6 && RTA_PAYLOAD(a) == 16) {
		memset(&q->c->addr6, 0, sizeof(q->c->addr6));
		memcpy(q->c->addr6.addr, RTA_DATA(a), 16);
		q->c->addr6.family = XDPCTL_AF_INET6;
		q->c->has6 = true;
	}
	return 0;
}

static int addr_dump(void *arg)
{
	struct nl_req req = {};

	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.nh.nlmsg_type = RTM_GETADDR;
	req.nh.nlmsg_flags = NLM_F_DUMP;
	req.ifa.ifa_family = AF_UNSPEC;
	return nl_talk(&req, false, addr_cb, arg);
}

/*
 * Is the netns open at @fd the one a veth peer with @link_nsid (as seen from
 * here, -1: this netns) lives in? 1 yes, 0 no, negative errno.
 */
static int netns_is(int fd, int link_nsid)
{
	struct stat a, b;
	int nsid, err;

	if (link_nsid < 0) {
		if (fstat(fd, &a) || stat("/proc/thread-self/ns/net", &b))
			return -errno;
		return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
	}
	err = dp_nsid_of_fd(fd, &nsid);
	if (err)
		return err;
	return nsid == link_nsid;
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
		err = netns_is(nsfd, l.link_nsid);
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
