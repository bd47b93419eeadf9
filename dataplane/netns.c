// SPDX-License-Identifier: GPL-2.0-only
/*
 * Network namespaces: the netns behind a veth peer (IFLA_LINK_NETNSID
 * matched with RTM_GETNSID against /run/netns, Docker's netns dir and
 * /proc/PID/ns/net), opening one by name or path, and running a function
 * inside one. Below it only the rtnetlink client (nl.c).
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns.h"

/* Bound on the candidate netns files we ask about. */
#define NETNS_MAX_SCAN  65536

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

int dp_netns_is(int fd, int link_nsid)
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
