// SPDX-License-Identifier: GPL-2.0-only
/*
 * The library's one rtnetlink client: a request, its answers to a callback
 * until the kernel's ACK, error or NLMSG_DONE, one socket per request, in
 * the netns of the calling thread. On it: links by name or index (also in
 * a peer netns by nsid, IFLA_TARGET_NETNSID), link and address dumps, the
 * nsid of a netns fd (RTM_GETNSID) and tc filter counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Bounds on what we read from the kernel. */
#define NL_BUF_SIZE     65536
#define NL_MAX_MSGS     1000000 /* messages of one dump */


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
/* An RTM_NEWLINK into @l; false for any other message. */
static bool link_parse(const struct nlmsghdr *nh, struct dp_link *l)
{
	struct rtattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1], *xdp[IFLA_XDP_MAX + 1];
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));

	if (nh->nlmsg_type != RTM_NEWLINK || len < 0)
		return false;
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
	return true;
}

static int link_cb(const struct nlmsghdr *nh, void *arg)
{
	return link_parse(nh, arg) ? 1 : 0;
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


struct link_dump {
	int (*cb)(const struct dp_link *l, void *arg);
	void *arg;
};

static int link_dump_cb(const struct nlmsghdr *nh, void *arg)
{
	struct link_dump *d = arg;
	struct dp_link l;

	return link_parse(nh, &l) ? d->cb(&l, d->arg) : 0;
}

int dp_link_dump(int (*cb)(const struct dp_link *l, void *arg), void *arg)
{
	struct link_dump d = { .cb = cb, .arg = arg };
	__u32 mask = RTEXT_FILTER_SKIP_STATS;
	struct nl_req req = {};

	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_DUMP;
	req.ifi.ifi_family = AF_UNSPEC;
	nl_attr(&req, IFLA_EXT_MASK, &mask, sizeof(mask));
	return nl_talk(&req, false, link_dump_cb, &d);
}

struct addr_dump {
	int (*cb)(const struct dp_nl_addr *a, void *arg);
	void *arg;
};

static int addr_dump_cb(const struct nlmsghdr *nh, void *arg)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	struct addr_dump *d = arg;
	struct rtattr *tb[IFA_MAX + 1], *a;
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa));
	struct dp_nl_addr out = {};

	if (nh->nlmsg_type != RTM_NEWADDR || len < 0)
		return 0;
	nl_parse(tb, IFA_MAX, IFA_RTA(ifa), len);
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || (RTA_PAYLOAD(a) != 4 && RTA_PAYLOAD(a) != 16))
		return 0;
	out.ifindex = ifa->ifa_index;
	out.family = ifa->ifa_family;
	out.scope = ifa->ifa_scope;
	out.len = RTA_PAYLOAD(a);
	memcpy(out.addr, RTA_DATA(a), out.len);
	return d->cb(&out, d->arg);
}

int dp_addr_dump(int family, int (*cb)(const struct dp_nl_addr *a, void *arg), void *arg)
{
	struct addr_dump d = { .cb = cb, .arg = arg };
	struct nl_req req = {};

	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.nh.nlmsg_type = RTM_GETADDR;
	req.nh.nlmsg_flags = NLM_F_DUMP;
	req.ifa.ifa_family = family;
	return nl_talk(&req, false, addr_dump_cb, &d);
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
