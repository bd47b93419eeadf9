// SPDX-License-Identifier: GPL-2.0-only
/*
 * Container discovery: from a process id to its network namespace and the
 * host-side veth whose peer lives there (rtnetlink, no sysfs: under
 * `nsenter` /sys shows another namespace), and from a Docker container name
 * or id to that process id (Docker Engine API on its unix socket, one
 * HTTP/1.0 GET, a small bounded JSON reader for the few fields we need).
 *
 * Errors: -ESRCH no such process, or the container is not running; -ENOENT
 * no such container; -ENODEV no veth in this namespace has its peer there;
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
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "internal.h"

#define DOCKER_SOCK_DEFAULT "/var/run/docker.sock"
#define DOCKER_TIMEOUT_S    5           /* per send/receive on the socket */
#define DOCKER_REPLY_MAX    (4u << 20)  /* an inspect answer is a few KiB */
#define JSON_DEPTH_MAX      64
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
	c->pid = pid;
	snprintf(c->netns, sizeof(c->netns), "%s", path);
	return 0;
}

/* ---- Docker Engine API ---- */

static bool docker_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	/* Docker's names and ids: [a-zA-Z0-9][a-zA-Z0-9_.-]*; nothing else goes in a URL. */
	if (!n || n >= sizeof(((struct xdpctl_container *)0)->name) || !isalnum((unsigned char)s[0]))
		return false;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static int docker_socket_path(char *buf, size_t len)
{
	const char *host = getenv("DOCKER_HOST");

	if (!host || !*host) {
		snprintf(buf, len, "%s", DOCKER_SOCK_DEFAULT);
		return 0;
	}
	if (strncmp(host, "unix://", 7)) {
		dp_log(XDPCTL_LOG_WARN, "DOCKER_HOST=%s: only unix:// sockets are supported\n", host);
		return -EPROTONOSUPPORT;
	}
	if (strlen(host + 7) >= len)
		return -ENAMETOOLONG;
	snprintf(buf, len, "%s", host + 7);
	return 0;
}

/* GET /containers/NAME/json; *body (malloc'd, NUL-terminated) on 200. */
static int docker_inspect(const char *name, char **body, size_t *body_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = DOCKER_TIMEOUT_S };
	char req[256], *buf = NULL, *hdr_end;
	size_t len = 0, cap = 0;
	int fd, err, status, n;

	err = docker_socket_path(sa.sun_path, sizeof(sa.sun_path));
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		dp_log(XDPCTL_LOG_INFO, "%s: %s\n", sa.sun_path, strerror(-err));
		close(fd);
		/* no socket file, or nobody behind it: the daemon does not answer */
		return err == -ENOENT || err == -ECONNREFUSED ? -ECONNREFUSED : err;
	}
	n = snprintf(req, sizeof(req),
		     "GET /containers/%s/json HTTP/1.0\r\nHost: docker\r\nUser-Agent: xdpctl\r\n\r\n",
		     name);
	if (send(fd, req, n, MSG_NOSIGNAL) != n) {
		err = -errno ? -errno : -EIO;
		goto out;
	}
	for (;;) {
		ssize_t r;

		if (cap - len < 4096 + 1) {
			char *nb;

			if (cap >= DOCKER_REPLY_MAX) {
				err = -E2BIG;
				goto out;
			}
			cap = cap ? cap * 2 : 16384;
			nb = realloc(buf, cap);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		r = recv(fd, buf + len, cap - len - 1, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = errno == EAGAIN ? -ETIMEDOUT : -errno;
			goto out;
		}
		if (r == 0)
			break;
		len += r;
	}
	if (!buf) {
		err = -EPROTO;
		goto out;
	}
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
		err = -EPROTO;
		goto out;
	}
	hdr_end = strstr(buf, "\r\n\r\n");
	if (!hdr_end) {
		err = -EPROTO;
		goto out;
	}
	*hdr_end = '\0';
	if (strcasestr(buf, "\r\nTransfer-Encoding: chunked")) {
		/* HTTP/1.0 answers are never chunked; refuse rather than misread */
		err = -EPROTO;
		goto out;
	}
	if (status == 404) {
		err = -ENOENT;
		goto out;
	}
	if (status != 200) {
		dp_log(XDPCTL_LOG_WARN, "docker: GET /containers/%s/json: HTTP %d: %.200s\n", name,
		     status, hdr_end + 4);
		err = -EPROTO;
		goto out;
	}
	*body_len = len - (size_t)(hdr_end + 4 - buf);
	memmove(buf, hdr_end + 4, *body_len + 1);
	*body = buf;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

/*
 * A bounded JSON reader: enough to walk objects by key and read strings and
 * integers. Every function takes [p, end) and returns NULL on anything it
 * does not understand; nothing reads past end.
 */
static const char *j_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static const char *j_skip_string(const char *p, const char *end)
{
	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end; p++) {
		if (*p == '\\') {
			p++;
			continue;
		}
		if (*p == '"')
			return p + 1;
	}
	return NULL;
}

static const char *j_skip(const char *p, const char *end, int depth)
{
	p = j_ws(p, end);
	if (p >= end || depth > JSON_DEPTH_MAX)
		return NULL;
	switch (*p) {
	case '"':
		return j_skip_string(p, end);
	case '{':
	case '[': {
		char close = *p == '{' ? '}' : ']';

		p = j_ws(p + 1, end);
		if (p < end && *p == close)
			return p + 1;
		while (p && p < end) {
			if (close == '}') {
				p = j_skip_string(j_ws(p, end), end);
				p = p ? j_ws(p, end) : NULL;
				if (!p || p >= end || *p != ':')
					return NULL;
				p++;
			}
			p = j_skip(p, end, depth + 1);
			p = p ? j_ws(p, end) : NULL;
			if (!p || p >= end)
				return NULL;
			if (*p == close)
				return p + 1;
			if (*p != ',')
				return NULL;
			p++;
		}
		return NULL;
	}
	default:
		/* number, true, false, null */
		while (p < end && (isalnum((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.'))
			p++;
		return p;
	}
}

/* Decode the string at p into buf (ASCII; other code points become '?'). */
static int j_string(const char *p, const char *end, char *buf, size_t len)
{
	size_t o = 0;

	if (!p || p >= end || *p != '"' || !len)
		return -EPROTO;
	for (p++; p < end && *p != '"'; p++) {
		char ch = *p;

		if (ch == '\\') {
			if (++p >= end)
				return -EPROTO;
			switch (*p) {
			case 'n': ch = '\n'; break;
			case 't': ch = '\t'; break;
			case 'r': ch = '\r'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'u': {
				unsigned int cp = 0;
				int i;

				for (i = 0; i < 4; i++) {
					if (++p >= end || !isxdigit((unsigned char)*p))
						return -EPROTO;
					cp = cp * 16 + (isdigit((unsigned char)*p) ? *p - '0' :
							(tolower((unsigned char)*p) - 'a' + 10));
				}
				ch = cp < 0x80 ? (char)cp : '?';
				break;
			}
			default: ch = *p; break; /* \" \\ \/ */
			}
		}
		if (o + 1 >= len)
			return -ENAMETOOLONG;
		buf[o++] = ch;
	}
	if (p >= end)
		return -EPROTO;
	buf[o] = '\0';
	return 0;
}

/* The value of member @key of the object at p, or NULL. */
static const char *j_get(const char *p, const char *end, const char *key)
{
	p = j_ws(p, end);
	if (!p || p >= end || *p != '{')
		return NULL;
	p = j_ws(p + 1, end);
	while (p < end && *p == '"') {
		char k[128];
		const char *v;
		int kerr = j_string(p, end, k, sizeof(k));

		p = j_skip_string(p, end);
		p = p ? j_ws(p, end) : NULL;
		if (!p || p >= end || *p != ':')
			return NULL;
		v = j_ws(p + 1, end);
		if (!kerr && !strcmp(k, key))
			return v;
		p = j_skip(v, end, 1);
		p = p ? j_ws(p, end) : NULL;
		if (!p || p >= end || *p != ',')
			return NULL;
		p = j_ws(p + 1, end);
	}
	return NULL;
}

static int j_get_string(const char *obj, const char *end, const char *key, char *buf,
			size_t len)
{
	const char *v = j_get(obj, end, key);

	if (!v || v >= end || *v != '"')
		return -ENOENT;
	return j_string(v, end, buf, len);
}

static int j_get_int(const char *obj, const char *end, const char *key, long long *out)
{
	const char *v = j_get(obj, end, key);
	char num[32];
	size_t n = 0;
	char *e;

	if (!v)
		return -ENOENT;
	while (v + n < end && n < sizeof(num) - 1 && (isdigit((unsigned char)v[n]) || v[n] == '-'))
		n++;
	if (!n)
		return -EPROTO;
	memcpy(num, v, n);
	num[n] = '\0';
	errno = 0;
	*out = strtoll(num, &e, 10);
	return errno || *e ? -EPROTO : 0;
}

/* Addresses and MAC from one NetworkSettings (or NetworkSettings.Networks.X) object. */
static void docker_addrs(const char *obj, const char *end, struct xdpctl_container *d)
{
	char s[64];

	if (!d->has4 && !j_get_string(obj, end, "IPAddress", s, sizeof(s)) && *s &&
	    !xdpctl_addr_parse(s, &d->addr4) && d->addr4.family == XDPCTL_AF_INET)
		d->has4 = true;
	if (!d->has6 && !j_get_string(obj, end, "GlobalIPv6Address", s, sizeof(s)) && *s &&
	    !xdpctl_addr_parse(s, &d->addr6) && d->addr6.family == XDPCTL_AF_INET6)
		d->has6 = true;
	if (!d->mac[0] && !d->mac[1] && !d->mac[2] && !d->mac[3] && !d->mac[4] && !d->mac[5] &&
	    !j_get_string(obj, end, "MacAddress", s, sizeof(s)) && *s)
		xdpctl_mac_parse(s, d->mac);
}

/* The fields of an inspect answer: name, id, pid, addresses, MAC. */
static int docker_parse(const char *body, size_t len, struct xdpctl_container *d)
{
	const char *end = body + len, *state, *ns, *nets;
	long long pid = 0;
	char name[sizeof(d->name) + 1];

	if (!j_skip(body, end, 0))
		return -EPROTO; /* not one whole JSON value */
	if (j_get_string(body, end, "Id", d->id, sizeof(d->id)))
		return -EPROTO;
	if (!j_get_string(body, end, "Name", name, sizeof(name))) {
		const char *n = name[0] == '/' ? name + 1 : name;
		size_t l = strnlen(n, sizeof(d->name) - 1);

		memcpy(d->name, n, l);
		d->name[l] = '\0';
	}
	state = j_get(body, end, "State");
	if (!state || j_get_int(state, end, "Pid", &pid) || pid < 0 || pid > 0x7fffffff)
		return -EPROTO;
	d->pid = (pid_t)pid;
	ns = j_get(body, end, "NetworkSettings");
	if (ns) {
		/* the default bridge fills the top level, user networks only Networks.X */
		docker_addrs(ns, end, d);
		nets = j_get(ns, end, "Networks");
		if (nets && *nets == '{') {
			const char *p = j_ws(nets + 1, end);

			while (p && p < end && *p == '"') {
				const char *v;

				p = j_skip_string(p, end);
				p = p ? j_ws(p, end) : NULL;
				if (!p || p >= end || *p != ':')
					break;
				v = j_ws(p + 1, end);
				docker_addrs(v, end, d);
				p = j_skip(v, end, 1);
				p = p ? j_ws(p, end) : NULL;
				if (!p || p >= end || *p != ',')
					break;
				p = j_ws(p + 1, end);
			}
		}
	}
	return 0;
}

int xdpctl_discover_docker(const char *name_or_id, struct xdpctl_container *c)
{
	struct xdpctl_container d = {};
	char *body = NULL;
	size_t len = 0;
	int err;

	if (!name_or_id || !c)
		return dp_ret(-EINVAL);
	if (!docker_name_ok(name_or_id))
		return dp_err(NULL, -EINVAL, "'%s' is not a Docker container name or id", name_or_id);
	err = docker_inspect(name_or_id, &body, &len);
	if (err == -ENOENT)
		return dp_err(NULL, err, "docker: no such container: %s", name_or_id);
	if (err == -ECONNREFUSED)
		return dp_err(NULL, err, "docker: the daemon does not answer on its socket");
	if (err)
		return dp_err(NULL, err, "docker: GET /containers/%s/json: %s", name_or_id,
			      strerror(-err));
	err = docker_parse(body, len, &d);
	free(body);
	if (err)
		return dp_err(NULL, err, "docker: cannot read the inspect answer for %s", name_or_id);
	if (!d.pid)
		return dp_err(NULL, -ESRCH, "docker: container %s is not running", name_or_id);
	err = xdpctl_discover_pid(d.pid, c);
	if (err)
		return dp_ret(err);
	/* The kernel's view (veth, peer MAC and addresses) wins; Docker fills the gaps. */
	snprintf(c->name, sizeof(c->name), "%s", d.name);
	snprintf(c->id, sizeof(c->id), "%s", d.id);
	if (!c->has4 && d.has4) {
		c->addr4 = d.addr4;
		c->has4 = true;
	}
	if (!c->has6 && d.has6) {
		c->addr6 = d.addr6;
		c->has6 = true;
	}
	if (!c->mac[0] && !c->mac[1] && !c->mac[2] && !c->mac[3] && !c->mac[4] && !c->mac[5])
		memcpy(c->mac, d.mac, sizeof(c->mac));
	return 0;
}
