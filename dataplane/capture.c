// SPDX-License-Identifier: GPL-2.0-only
/*
 * Packet capture: a reader on the pinned capture ring buffer holding the
 * capture lease (lease.c). The programs copy the frames the filter in the
 * config map matches (bpf/lib/capture.h); the reader filters again (the
 * kernel filter is the union when readers disagree), cuts to its own
 * snaplen and hands header and bytes to the caller. One reader at a time:
 * the capture ring is one (trace gives each reader its own; frames are
 * bigger and a flood of copies is what the rate bound is there to stop).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include "lease.h"

struct xdpctl_capture {
	struct ring_buffer *rb;
	int ring_fd, stat_fd;
	int ncpus;
	struct dp_lease lease;
	struct xdpctl_capture_filter f;
	struct xdpctl_capstat base; /* the counters when we started */
	xdpctl_capture_cb cb;
	void *ctx;
	bool stop;
};

static bool addr_eq(const __u8 *raw, __u8 family, const struct xdpctl_addr *a)
{
	return family == a->family && !memcmp(raw, a->addr, 16);
}

bool xdpctl_capture_match(const struct xdpctl_capture_filter *f, const struct xdpctl_capture_hdr *h)
{
	if (f->a.family) {
		bool sa = addr_eq(h->src, h->family, &f->a), da = addr_eq(h->dst, h->family, &f->a);

		if (f->b.family) {
			bool sb = addr_eq(h->src, h->family, &f->b), db = addr_eq(h->dst, h->family, &f->b);

			if (!((sa && db) || (sb && da)))
				return false;
		} else if (!sa && !da) {
			return false;
		}
	}
	if (f->l4proto && h->l4proto != f->l4proto)
		return false;
	if (f->port && h->sport != f->port && h->dport != f->port)
		return false;
	return true;
}

static int on_rec(void *ctx, void *data, size_t size)
{
	struct xdpctl_capture *c = ctx;
	struct xdpctl_capture_hdr h;

	if (c->stop)
		return -ECANCELED;
	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	if (h.cap_len > size - sizeof(h))
		return 0; /* not a record of ours */
	if (!xdpctl_capture_match(&c->f, &h))
		return 0;
	if (h.cap_len > c->f.snaplen)
		h.cap_len = c->f.snaplen;
	if (c->cb(&h, (const __u8 *)data + sizeof(h), c->ctx)) {
		c->stop = true;
		return -ECANCELED;
	}
	return 0;
}

static int read_stats(int fd, int ncpus, struct xdpctl_capstat *out)
{
	struct xdpctl_capstat *v = calloc(ncpus, sizeof(*v));
	__u32 key = 0;
	int i, err = 0;

	if (!v)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(fd, &key, v)) {
		err = -errno;
	} else {
		for (i = 0; i < ncpus; i++) {
			out->captured += v[i].captured;
			out->rate_limited += v[i].rate_limited;
			out->ring_full += v[i].ring_full;
		}
	}
	free(v);
	return err;
}

struct xdpctl_capture *xdpctl_capture__open(struct xdpctl_dp *dp,
					    const struct xdpctl_capture_filter *filter,
					    xdpctl_capture_cb cb, void *ctx)
{
	struct xdpctl_capture *c;
	int err;

	if (!dp || !filter || !cb) {
		errno = EINVAL;
		return NULL;
	}
	if (filter->snaplen < 1 || filter->snaplen > XDPCTL_CAPTURE_SNAP_MAX ||
	    filter->rate > XDPCTL_CAPTURE_RATE_MAX) {
		dp_err(dp, -EINVAL, "capture: snaplen %u (1..%d) or rate %u (up to %d) out of range",
		       filter->snaplen, XDPCTL_CAPTURE_SNAP_MAX, filter->rate,
		       XDPCTL_CAPTURE_RATE_MAX);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		dp_err(dp, -ENOMEM, "out of memory");
		return NULL;
	}
	c->lease.slot = -1;
	c->lease.cfg_fd = c->lease.dir_fd = c->lease.outer_fd = c->lease.ring_fd = -1;
	c->f = *filter;
	c->cb = cb;
	c->ctx = ctx;
	c->ncpus = dp->ncpus;
	c->ring_fd = fcntl(dp_map_fd(dp, DP_MAP_CAPTURE), F_DUPFD_CLOEXEC, 3);
	c->stat_fd = fcntl(dp_map_fd(dp, DP_MAP_CAPSTAT), F_DUPFD_CLOEXEC, 3);
	if (c->ring_fd < 0 || c->stat_fd < 0) {
		err = dp_err(dp, -errno, "%s/%s: %s", dp->pin_dir, XDPCTL_MAP_CAPTURE,
			     strerror(errno));
		goto fail;
	}
	err = read_stats(c->stat_fd, c->ncpus, &c->base);
	if (err) {
		dp_err(dp, err, "reading %s: %s", XDPCTL_MAP_CAPSTAT, strerror(-err));
		goto fail;
	}
	c->rb = ring_buffer__new(c->ring_fd, on_rec, c, NULL);
	if (!c->rb) {
		err = dp_err(dp, -errno, "%s: ring buffer reader: %s", XDPCTL_MAP_CAPTURE,
			     strerror(errno));
		goto fail;
	}
	/* the reader first, so nothing between switching on and reading is lost */
	err = dp_lease_take(dp, DP_LEASE_CAPTURE, filter, -1, &c->lease);
	if (err)
		goto fail;
	return c;
fail:
	xdpctl_capture__close(c);
	errno = -err;
	return NULL;
}

int xdpctl_capture__poll(struct xdpctl_capture *c, int timeout_ms)
{
	int ret;

	if (!c)
		return dp_ret(-EINVAL);
	if (c->stop)
		return 0;
	ret = dp_lease_renew(&c->lease);
	if (ret)
		return dp_ret(ret);
	if (timeout_ms < 0 || timeout_ms > XDPCTL_LEASE_MS / 4)
		timeout_ms = XDPCTL_LEASE_MS / 4;
	ret = ring_buffer__poll(c->rb, timeout_ms);
	if (ret == -ECANCELED)
		return 0;
	return ret < 0 ? dp_ret(ret) : ret;
}

int xdpctl_capture__stats(struct xdpctl_capture *c, struct xdpctl_capstat *out)
{
	struct xdpctl_capstat now;
	int err;

	if (!c || !out)
		return dp_ret(-EINVAL);
	err = read_stats(c->stat_fd, c->ncpus, &now);
	if (err)
		return dp_ret(err);
	memset(out, 0, sizeof(*out));
	out->captured = now.captured - c->base.captured;
	out->rate_limited = now.rate_limited - c->base.rate_limited;
	out->ring_full = now.ring_full - c->base.ring_full;
	return 0;
}

void xdpctl_capture__close(struct xdpctl_capture *c)
{
	if (!c)
		return;
	dp_lease_release(&c->lease);
	ring_buffer__free(c->rb);
	if (c->ring_fd >= 0)
		close(c->ring_fd);
	if (c->stat_fd >= 0)
		close(c->stat_fd);
	free(c);
}

const char *xdpctl_action_name(unsigned int hook, unsigned int action)
{
	if (hook == XDPCTL_HOOK_XDP) {
		switch (action) {
		case XDP_ABORTED: return "XDP_ABORTED";
		case XDP_DROP: return "XDP_DROP";
		case XDP_PASS: return "XDP_PASS";
		case XDP_TX: return "XDP_TX";
		case XDP_REDIRECT: return "XDP_REDIRECT";
		}
	} else {
		switch (action) {
		case TC_ACT_OK: return "TC_ACT_OK";
		case TC_ACT_SHOT: return "TC_ACT_SHOT";
		case TC_ACT_REDIRECT: return "TC_ACT_REDIRECT";
		}
	}
	return "unknown";
}
