/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of the Docker client shared by docker.c, discover_docker.c and
 * watch.c (never installed): the /events stream, read without blocking so
 * the watcher can wait on it together with its netlink socket.
 */
#ifndef XDPCTL_DOCKER_INT_H
#define XDPCTL_DOCKER_INT_H

#include "internal.h"
#include "xdpctl/docker.h"

/* Record an error on @dk (NULL: the thread's open error) and return @err. */
int dk_err(struct xdpctl_docker *dk, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Open GET /events?since=S (S from @since_ns, 0: now) filtered on the
 * container and network actions the watcher follows.
 */
int dk_events_open(struct xdpctl_docker *dk, __u64 since_ns);
void dk_events_close(struct xdpctl_docker *dk);
/*
 * Wait up to @timeout_ms for stream data or for @fd (-1: none) to become
 * readable, then move the stream on. *fd_ready: @fd may be readable (read
 * it without blocking). -EPIPE:
 * the stream ended (the daemon went away) or never opened.
 */
int dk_events_wait(struct xdpctl_docker *dk, int fd, int timeout_ms, bool *fd_ready);
/* The next whole event received: 1 and *ev, 0 none buffered, -EPROTO a bad line (skipped). */
int dk_events_next(struct xdpctl_docker *dk, struct xdpctl_docker_event *ev);

#endif /* XDPCTL_DOCKER_INT_H */
