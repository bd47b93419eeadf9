// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trace events: a reader with a ring buffer of its own, put at its lease
 * slot in the pinned events map (libbpf ring_buffer), and the one-line
 * human form of an event.
 *
 * The programs emit an RX event before they parse a packet and a verdict
 * event (ICMP request, ping-pong, bypass, pass) after. The reader holds each
 * RX event back until the verdict of the same packet (same hook, device and
 * length) arrives and copies the verdict's reason into it, so that the RX
 * line already carries its role: "[tc_pingpong] ingress got packet". An RX
 * event whose verdict does not come within TRACE_HOLD_NS (the ring was full)
 * is delivered as it is. Events are delivered in the order they were read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lease.h"

/* Events read but not yet delivered; reading stops for the poll when full. */
#define TRACE_QUEUE 1024
/* How long an RX event waits for its verdict before it goes out as it is. */
#define TRACE_HOLD_NS (50ull * 1000 * 1000)
/* Internal return of the sample callback: stop reading, the queue is full. */
#define TRACE_STOP_READ (-EOVERFLOW)

struct trace_slot {
	struct xdpctl_event e;
	bool waiting; /* an RX event whose verdict has not been seen */
};

struct xdpctl_trace {
	struct ring_buffer *rb;
	int map_fd;
	struct dp_lease lease;
	xdpctl_event_cb cb;
	void *ctx;
	struct trace_slot q[TRACE_QUEUE];
	unsigned int head, len; /* ring of q */
};

static __u64 now_ns(void)
{
	struct timespec ts;

	/* bpf_ktime_get_ns() is CLOCK_MONOTONIC */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static struct trace_slot *slot(struct xdpctl_trace *t, unsigned int i)
{
	return &t->q[(t->head + i) % TRACE_QUEUE];
}

/* Give the verdict @e to the oldest RX event of the same packet still waiting. */
static void resolve_rx(struct xdpctl_trace *t, const struct xdpctl_event *e)
{
	unsigned int i;

	for (i = 0; i < t->len; i++) {
		struct trace_slot *s = slot(t, i);

		if (s->waiting && s->e.hook == e->hook && s->e.ifindex == e->ifindex &&
		    s->e.pkt_len == e->pkt_len) {
			s->e.reason = e->reason;
			s->waiting = false;
			return;
		}
	}
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct xdpctl_trace *t = ctx;
	struct trace_slot *s;

	if (size < sizeof(struct xdpctl_event))
		return 0; /* not ours: the ABI fixes the size */
	if (t->len == TRACE_QUEUE)
		return TRACE_STOP_READ; /* cannot happen: we stop reading before */
	s = slot(t, t->len);
	memcpy(&s->e, data, sizeof(s->e));
	s->waiting = s->e.kind == XDPCTL_EV_RX;
	if (!s->waiting)
		resolve_rx(t, &s->e);
	t->len++;
	/* libbpf consumes the sample even when we return an error: stop while one slot is free. */
	return t->len == TRACE_QUEUE ? TRACE_STOP_READ : 0;
}

/*
 * Hand queued events to the callback in order, up to the first RX event
 * still waiting for its verdict (unless it waited long enough or @flush).
 * @return events delivered, or -ECANCELED when the callback asked to stop.
 */
static int deliver(struct xdpctl_trace *t, bool flush, int *handled)
{
	__u64 now = now_ns();

	while (t->len) {
		struct trace_slot *s = slot(t, 0);
		int ret;

		if (s->waiting && !flush && t->len < TRACE_QUEUE &&
		    now - s->e.ts_ns < TRACE_HOLD_NS && s->e.ts_ns <= now)
			break;
		t->head = (t->head + 1) % TRACE_QUEUE;
		t->len--;
		(*handled)++;
		ret = t->cb(&s->e, t->ctx);
		if (ret)
			return -ECANCELED;
	}
	return 0;
}

struct xdpctl_trace *xdpctl_trace__open(struct xdpctl_dp *dp, xdpctl_event_cb cb, void *ctx)
{
	struct xdpctl_trace *t;
	int fd, err;

	if (!dp || !cb) {
		errno = EINVAL;
		return NULL;
	}
	fd = dp_map_fd(dp, DP_MAP_EVENTS);
	if (fd < 0) {
		dp_err(dp, -ENOENT, "%s/%s: not open", xdpctl_dp__pin_dir(dp), XDPCTL_MAP_EVENTS);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		dp_err(dp, -ENOMEM, "out of memory");
		return NULL;
	}
	t->cb = cb;
	t->ctx = ctx;
	/* a ring of our own, put at our lease slot: other readers have theirs */
	t->map_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "xdpctl_trace", 0, 0, XDPCTL_EVENTS_BYTES,
				   NULL);
	if (t->map_fd < 0) {
		err = -errno;
		free(t);
		dp_err(dp, err, "creating a trace ring buffer: %s", strerror(-err));
		return NULL;
	}
	t->rb = ring_buffer__new(t->map_fd, on_sample, t, NULL);
	if (!t->rb) {
		err = -errno;
		close(t->map_fd);
		free(t);
		dp_err(dp, err, "%s: ring buffer reader: %s", XDPCTL_MAP_EVENTS, strerror(-err));
		return NULL;
	}
	/* the reader first, so no event between switching on and reading is lost */
	err = dp_lease_take(dp, DP_LEASE_TRACE, NULL, t->map_fd, &t->lease);
	if (err) {
		ring_buffer__free(t->rb);
		close(t->map_fd);
		free(t);
		errno = -err;
		return NULL;
	}
	return t;
}

int xdpctl_trace__poll(struct xdpctl_trace *t, int timeout_ms)
{
	int handled = 0;
	int ret;

	if (!t) {
		errno = EINVAL;
		return -EINVAL;
	}
	ret = dp_lease_renew(&t->lease);
	if (ret) {
		errno = -ret;
		return ret;
	}
	/* Events left from the last call first; the callback may have stopped there. */
	if (deliver(t, false, &handled))
		return handled;
	if (t->len && (timeout_ms < 0 || timeout_ms > 10))
		timeout_ms = 10; /* an RX event waits: come back soon to deliver it */
	/* come back in time to renew the lease */
	if (timeout_ms < 0 || timeout_ms > XDPCTL_LEASE_MS / 4)
		timeout_ms = XDPCTL_LEASE_MS / 4;
	ret = ring_buffer__poll(t->rb, timeout_ms);
	if (ret < 0 && ret != TRACE_STOP_READ) {
		if (ret == -EINTR) {
			errno = EINTR;
			return handled ? handled : -EINTR;
		}
		errno = -ret;
		return ret;
	}
	deliver(t, false, &handled);
	return handled;
}

void xdpctl_trace__close(struct xdpctl_trace *t)
{
	if (!t)
		return;
	dp_lease_release(&t->lease);
	ring_buffer__free(t->rb);
	close(t->map_fd);
	free(t);
}

/* ---- the human line ---- */

/* The tag of a line: hook plus the role the packet took ("tc_pingpong"). */
static const char *event_tag(const struct xdpctl_event *e)
{
	bool pingpong = e->kind == XDPCTL_EV_ICMP_REQ || e->kind == XDPCTL_EV_PINGPONG ||
			(e->kind == XDPCTL_EV_RX && e->reason == XDPCTL_R_PINGPONG);
	bool bypass = e->kind == XDPCTL_EV_BYPASS ||
		      (e->kind == XDPCTL_EV_RX && e->reason == XDPCTL_R_BYPASS);

	switch (e->hook) {
	case XDPCTL_HOOK_XDP:
		return pingpong ? "xdp_pingpong" : bypass ? "xdp_bypass" : "xdp";
	case XDPCTL_HOOK_TC_IN:
		return pingpong ? "tc_pingpong" : bypass ? "tc_bypass" : "tc";
	case XDPCTL_HOOK_TC_FWD:
		return "tc_return";
	default:
		return "unknown";
	}
}

static int fmt_addr(const __u8 *raw, __u8 family, char *buf, size_t len)
{
	int af = family == XDPCTL_AF_INET ? AF_INET : family == XDPCTL_AF_INET6 ? AF_INET6 : 0;

	if (!af || !inet_ntop(af, raw, buf, len)) {
		snprintf(buf, len, "?");
		return -EINVAL;
	}
	return 0;
}

static const char *proto_name(__u8 proto, char *buf, size_t len)
{
	switch (proto) {
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case 0: return "ip";
	default:
		snprintf(buf, len, "proto %u", proto);
		return buf;
	}
}

/* "198.18.0.2 > 198.19.0.3 icmp" or "198.18.0.2:4000 > 198.19.0.3:80 tcp" */
static void flow(const struct xdpctl_event *e, char *buf, size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], pbuf[16];
	const char *proto = proto_name(e->l4proto, pbuf, sizeof(pbuf));

	fmt_addr(e->src, e->family, src, sizeof(src));
	fmt_addr(e->dst, e->family, dst, sizeof(dst));
	if ((e->l4proto == IPPROTO_TCP || e->l4proto == IPPROTO_UDP) && (e->sport || e->dport)) {
		bool v6 = e->family == XDPCTL_AF_INET6;

		snprintf(buf, len, "%s%s%s:%u > %s%s%s:%u %s", v6 ? "[" : "", src, v6 ? "]" : "",
			 ntohs(e->sport), v6 ? "[" : "", dst, v6 ? "]" : "", ntohs(e->dport), proto);
	} else {
		snprintf(buf, len, "%s > %s %s", src, dst, proto);
	}
}

int xdpctl_event_format(const struct xdpctl_event *e, char *buf, size_t len)
{
	char fl[128], dst[INET6_ADDRSTRLEN];
	const char *tag;
	int n;

	if (!e || !buf || !len) {
		errno = EINVAL;
		return -EINVAL;
	}
	tag = event_tag(e);
	switch (e->kind) {
	case XDPCTL_EV_RX:
		n = snprintf(buf, len, "[%s] ingress got packet", tag);
		break;
	case XDPCTL_EV_ICMP_REQ:
		fmt_addr(e->dst, e->family, dst, sizeof(dst));
		n = snprintf(buf, len, "[%s] %s request for %s type %u", tag,
			     e->family == XDPCTL_AF_INET6 ? "ICMPv6" : "ICMP", dst, e->icmp_type);
		break;
	case XDPCTL_EV_PINGPONG:
		flow(e, fl, sizeof(fl));
		n = snprintf(buf, len, "[%s] %s len %u answered: echo reply out of ifindex %u",
			     tag, fl, e->pkt_len, e->out_ifindex ? e->out_ifindex : e->ifindex);
		break;
	case XDPCTL_EV_BYPASS:
		flow(e, fl, sizeof(fl));
		n = snprintf(buf, len, "[%s] %s len %u to %s ifindex %u", tag, fl, e->pkt_len,
			     e->hook == XDPCTL_HOOK_TC_FWD ? "uplink" : "veth", e->out_ifindex);
		break;
	case XDPCTL_EV_PASS:
		if (e->family == XDPCTL_AF_INET || e->family == XDPCTL_AF_INET6) {
			char src[INET6_ADDRSTRLEN];

			fmt_addr(e->src, e->family, src, sizeof(src));
			fmt_addr(e->dst, e->family, dst, sizeof(dst));
			n = snprintf(buf, len, "[%s] pass %s > %s: %s", tag, src, dst,
				     xdpctl_reason_words(e->reason));
		} else {
			n = snprintf(buf, len, "[%s] pass frame len %u: %s", tag, e->pkt_len,
				     xdpctl_reason_words(e->reason));
		}
		break;
	default:
		n = snprintf(buf, len, "[%s] event kind %u", tag, e->kind);
		break;
	}
	if (n < 0) {
		errno = EINVAL;
		return -EINVAL;
	}
	if ((size_t)n >= len) {
		errno = ENOSPC;
		return -ENOSPC;
	}
	return n;
}
