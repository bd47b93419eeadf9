// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus text exposition (format 0.0.4) of the pinned state: the
 * per hook and reason counters, the packet size histogram aggregated in
 * the kernel, per bypass rule (container) and ping-pong address counters,
 * the capture counters and the readers holding a lease, the flows of the
 * conntrack fast path (a gauge by hook, family, protocol and state; packets
 * and bytes forwarded on followed flows). Names follow the
 * Prometheus conventions: xdpctl_ prefix, counters end in _total, base
 * units (bytes). Written to a stream the caller gives; never to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "internal.h"

/* A label value: backslash, quote and newline escaped. */
static void label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Sum of the per-CPU counters of @key in the array @fd. */
static int sum_counter(struct xdpctl_dp *dp, int fd, __u32 key, struct xdpctl_counter *vals,
		       struct xdpctl_counter *out)
{
	int c;

	out->packets = out->bytes = 0;
	if (bpf_map_lookup_elem(fd, &key, vals))
		return -errno;
	for (c = 0; c < dp->ncpus; c++) {
		out->packets += vals[c].packets;
		out->bytes += vals[c].bytes;
	}
	return 0;
}

static int sizes(struct xdpctl_dp *dp, FILE *f)
{
	static const unsigned int bounds[XDPCTL_SIZE_BUCKETS - 1] = { XDPCTL_SIZE_BOUNDS };
	int fd = dp_map_fd(dp, DP_MAP_SIZES);
	struct xdpctl_counter *vals, b;
	unsigned int h, i;
	int err = 0;

	vals = calloc(dp->ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	head(f, "xdpctl_packet_size_bytes", "histogram",
	     "Size of the frames the xdpctl programs see (whole frame from L2), by hook.");
	for (h = 0; h < XDPCTL_HOOK_MAX; h++) {
		__u64 cum = 0, sum = 0;

		for (i = 0; i < XDPCTL_SIZE_BUCKETS; i++) {
			err = sum_counter(dp, fd, XDPCTL_SIZES_KEY(h, i), vals, &b);
			if (err)
				goto out;
			cum += b.packets;
			sum += b.bytes;
			if (i < XDPCTL_SIZE_BUCKETS - 1)
				fprintf(f, "xdpctl_packet_size_bytes_bucket{hook=\"%s\",le=\"%u\"} %llu\n",
					xdpctl_hook_name(h), bounds[i], (unsigned long long)cum);
			else
				fprintf(f, "xdpctl_packet_size_bytes_bucket{hook=\"%s\",le=\"+Inf\"} %llu\n",
					xdpctl_hook_name(h), (unsigned long long)cum);
		}
		fprintf(f, "xdpctl_packet_size_bytes_sum{hook=\"%s\"} %llu\n", xdpctl_hook_name(h),
			(unsigned long long)sum);
		fprintf(f, "xdpctl_packet_size_bytes_count{hook=\"%s\"} %llu\n", xdpctl_hook_name(h),
			(unsigned long long)cum);
	}
out:
	free(vals);
	return err;
}

struct rules_ctx {
	FILE *f;
	int pass; /* 0 packets, 1 bytes */
};

static int bypass_cb(const struct xdpctl_bypass_rule *r, void *ctx)
{
	struct rules_ctx *rc = ctx;
	const char *name = rc->pass ? "xdpctl_bypass_bytes_total" : "xdpctl_bypass_packets_total";
	char a[INET6_ADDRSTRLEN];
	int d;

	if (xdpctl_addr_format(&r->addr, a, sizeof(a)))
		return 0;
	for (d = 0; d < 2; d++) {
		fprintf(rc->f, "%s{addr=\"%s\",dev=\"", name, a);
		label(rc->f, r->dev);
		fprintf(rc->f, "\",direction=\"%s\"} %llu\n", d ? "out" : "in",
			(unsigned long long)(rc->pass ? (d ? r->out_bytes : r->in_bytes)
						      : (d ? r->out_packets : r->in_packets)));
	}
	return 0;
}

static int pingpong_cb(const struct xdpctl_pingpong_rule *r, void *ctx)
{
	struct rules_ctx *rc = ctx;
	char a[INET6_ADDRSTRLEN];

	if (xdpctl_addr_format(&r->addr, a, sizeof(a)))
		return 0;
	fprintf(rc->f, "%s{addr=\"%s\"} %llu\n",
		rc->pass ? "xdpctl_pingpong_bytes_total" : "xdpctl_pingpong_packets_total", a,
		(unsigned long long)(rc->pass ? r->bytes : r->packets));
	return 0;
}

static int capture_counters(struct xdpctl_dp *dp, FILE *f)
{
	struct xdpctl_capstat *v = calloc(dp->ncpus, sizeof(*v)), s = {};
	__u32 key = 0;
	int c, tr = 0, cap = 0, err;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(dp_map_fd(dp, DP_MAP_CAPSTAT), &key, v)) {
		err = -errno;
		free(v);
		return err;
	}
	for (c = 0; c < dp->ncpus; c++) {
		s.captured += v[c].captured;
		s.rate_limited += v[c].rate_limited;
		s.ring_full += v[c].ring_full;
	}
	free(v);
	head(f, "xdpctl_capture_packets_total", "counter",
	     "Packets a capture matched: copied, or not copied over the rate bound or with the ring full.");
	fprintf(f, "xdpctl_capture_packets_total{result=\"copied\"} %llu\n",
		(unsigned long long)s.captured);
	fprintf(f, "xdpctl_capture_packets_total{result=\"rate_limited\"} %llu\n",
		(unsigned long long)s.rate_limited);
	fprintf(f, "xdpctl_capture_packets_total{result=\"ring_full\"} %llu\n",
		(unsigned long long)s.ring_full);
	err = xdpctl_dp__readers(dp, &tr, &cap);
	if (err)
		return err;
	head(f, "xdpctl_readers", "gauge",
	     "Readers holding a live trace or capture lease (the programs emit only while one does).");
	fprintf(f, "xdpctl_readers{kind=\"trace\"} %d\nxdpctl_readers{kind=\"capture\"} %d\n", tr, cap);
	return 0;
}

struct xmit_ctx {
	FILE *f;
	bool errors;
};

static int xmit_cb(const struct xdpctl_dev_status *st, void *ctx)
{
	struct xmit_ctx *x = ctx;

	if (st->have_xmit)
		fprintf(x->f, "%s{dev=\"%s\"} %llu\n",
			x->errors ? "xdpctl_veth_xdp_xmit_errors_total" : "xdpctl_veth_xdp_xmit_total",
			st->name,
			(unsigned long long)(x->errors ? st->xdp_xmit_errors : st->xdp_xmit));
	return 0;
}

/*
 * Per bypassed veth: frames XDP redirects handed to it, and those its
 * container-side ring refused when full (lost: an XDP redirect has no
 * backpressure, where the kernel path and tc deliver).
 */
static int veth_xmit(struct xdpctl_dp *dp, FILE *f)
{
	struct xmit_ctx x = { .f = f };
	int err;

	head(f, "xdpctl_veth_xdp_xmit_total", "counter",
	     "Frames XDP redirects handed to a bypassed container veth (engine xdp).");
	err = xdpctl_dp__for_each_dev(dp, xmit_cb, &x);
	if (err)
		return err;
	x.errors = true;
	head(f, "xdpctl_veth_xdp_xmit_errors_total", "counter",
	     "Frames XDP redirects into a bypassed veth lost because its ring was full (no backpressure).");
	return xdpctl_dp__for_each_dev(dp, xmit_cb, &x);
}

/* A flow of the fast path's table is active when its last packet is this recent. */
#define FLOW_ACTIVE_S 10.0

static const char *const fam_names[2] = { "ipv4", "ipv6" };
static const char *const proto_names[2] = { "tcp", "udp" };

struct flow_gauge {
	unsigned long long n[XDPCTL_HOOK_MAX][2][2][2]; /* hook, v6, udp, idle */
};

static int flow_gauge_cb(const struct xdpctl_flow_info *fi, void *ctx)
{
	struct flow_gauge *g = ctx;
	unsigned int h = fi->flow.hook;

	if (h >= XDPCTL_HOOK_MAX || (fi->key.proto != IPPROTO_TCP && fi->key.proto != IPPROTO_UDP))
		return 0;
	g->n[h][fi->key.family == XDPCTL_AF_INET6][fi->key.proto == IPPROTO_UDP]
	    [fi->idle_s >= FLOW_ACTIVE_S]++;
	return 0;
}

/*
 * The conntrack fast path: the flows of its table ('xdpctl flows') by hook,
 * family, protocol and state (active: a packet in the last 10 s; idle:
 * older, until the LRU table drops it), and the packets and bytes forwarded
 * on followed flows (monotonic: xdpctl_flowstat, not the LRU table, which
 * forgets). Label sets are bounded: no addresses, no ports.
 */
static int fast_path_flows(struct xdpctl_dp *dp, FILE *f)
{
	int fd = dp_map_fd(dp, DP_MAP_FLOWSTAT);
	struct xdpctl_counter *vals, c[XDPCTL_FLOWSTAT_ENTRIES];
	struct flow_gauge g = {};
	unsigned int h, v6, udp, k;
	int err;

	err = xdpctl_dp__flows_for_each(dp, flow_gauge_cb, &g);
	if (err)
		return err;
	vals = calloc(dp->ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (k = 0; k < XDPCTL_FLOWSTAT_ENTRIES; k++) {
		err = sum_counter(dp, fd, k, vals, &c[k]);
		if (err) {
			free(vals);
			return dp_err(dp, err, "reading %s: %s", XDPCTL_MAP_FLOWSTAT, strerror(-err));
		}
	}
	free(vals);
	head(f, "xdpctl_flows", "gauge",
	     "Flows in the conntrack fast path's flow table, by the hook that last forwarded them, family, protocol and state (active: a packet in the last 10 s).");
	for (h = 0; h < XDPCTL_HOOK_MAX; h++)
		for (v6 = 0; v6 < 2; v6++)
			for (udp = 0; udp < 2; udp++)
				for (k = 0; k < 2; k++)
					fprintf(f, "xdpctl_flows{hook=\"%s\",family=\"%s\",protocol=\"%s\",state=\"%s\"} %llu\n",
						xdpctl_hook_name(h), fam_names[v6], proto_names[udp],
						k ? "idle" : "active", g.n[h][v6][udp][k]);
	for (k = 0; k < 2; k++) {
		const char *name = k ? "xdpctl_flow_bytes_total" : "xdpctl_flow_packets_total";

		head(f, name, "counter",
		     k ? "Bytes (whole frames) forwarded following conntrack, by hook, family and protocol."
		       : "Packets forwarded following conntrack, by hook, family and protocol.");
		for (h = 0; h < XDPCTL_HOOK_MAX; h++)
			for (v6 = 0; v6 < 2; v6++)
				for (udp = 0; udp < 2; udp++) {
					const struct xdpctl_counter *x =
						&c[XDPCTL_FLOWSTAT_KEY(h, v6, udp)];

					fprintf(f, "%s{hook=\"%s\",family=\"%s\",protocol=\"%s\"} %llu\n",
						name, xdpctl_hook_name(h), fam_names[v6],
						proto_names[udp],
						(unsigned long long)(k ? x->bytes : x->packets));
				}
	}
	return 0;
}

int xdpctl_metrics_write(struct xdpctl_dp *dp, FILE *f, const struct xdpctl_metrics_opts *opts)
{
	struct xdpctl_counter s[XDPCTL_HOOK_MAX][XDPCTL_REASON_MAX];
	bool rules = opts && opts->sz >= offsetof(struct xdpctl_metrics_opts, rules) + sizeof(bool) &&
		     opts->rules;
	struct rules_ctx rc = { .f = f };
	unsigned int h, r, k;
	int err;

	if (!dp || !f)
		return dp_ret(-EINVAL);
	err = xdpctl_dp__stats(dp, s);
	if (err)
		return err;
	for (k = 0; k < 2; k++) {
		const char *name = k ? "xdpctl_bytes_total" : "xdpctl_packets_total";

		head(f, name, "counter",
		     k ? "Bytes (whole frames) seen by the xdpctl programs, by hook and reason."
		       : "Packets seen by the xdpctl programs, by hook and reason (rx: all).");
		for (h = 0; h < XDPCTL_HOOK_MAX; h++)
			for (r = 0; r < XDPCTL_REASON_MAX; r++)
				fprintf(f, "%s{hook=\"%s\",reason=\"%s\"} %llu\n", name,
					xdpctl_hook_name(h), xdpctl_reason_name(r),
					(unsigned long long)(k ? s[h][r].bytes : s[h][r].packets));
	}
	err = sizes(dp, f);
	if (err)
		return dp_err(dp, err, "reading %s: %s", XDPCTL_MAP_SIZES, strerror(-err));
	err = capture_counters(dp, f);
	if (err)
		return dp_err(dp, err, "reading %s: %s", XDPCTL_MAP_CAPSTAT, strerror(-err));
	err = veth_xmit(dp, f);
	if (err)
		return err;
	err = fast_path_flows(dp, f);
	if (err)
		return err;
	if (!rules)
		goto out;
	for (rc.pass = 0; rc.pass < 2; rc.pass++) {
		head(f, rc.pass ? "xdpctl_bypass_bytes_total" : "xdpctl_bypass_packets_total",
		     "counter",
		     rc.pass ? "Bytes forwarded by one bypass rule (a container's address), by direction."
			     : "Packets forwarded by one bypass rule (a container's address), by direction.");
		err = xdpctl_dp__bypass_for_each(dp, bypass_cb, &rc);
		if (err)
			return err;
	}
	for (rc.pass = 0; rc.pass < 2; rc.pass++) {
		head(f, rc.pass ? "xdpctl_pingpong_bytes_total" : "xdpctl_pingpong_packets_total",
		     "counter",
		     rc.pass ? "Bytes of the echo replies sent for one ping-pong address."
			     : "Echo replies sent for one ping-pong address.");
		err = xdpctl_dp__pingpong_for_each(dp, pingpong_cb, &rc);
		if (err)
			return err;
	}
out:
	if (ferror(f))
		return dp_err(dp, -EIO, "writing the metrics failed");
	return 0;
}

int xdpctl_metrics_textfile(struct xdpctl_dp *dp, const char *dir,
			    const struct xdpctl_metrics_opts *opts)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	FILE *f;
	int fd, err;

	if (!dp || !dir)
		return dp_ret(-EINVAL);
	if (snprintf(final, sizeof(final), "%s/xdpctl.prom", dir) >= (int)sizeof(final) ||
	    snprintf(tmp, sizeof(tmp), "%s/.xdpctl.prom.XXXXXX", dir) >= (int)sizeof(tmp))
		return dp_err(dp, -ENAMETOOLONG, "%s: path too long", dir);
	/* a temp file in the same directory, then rename: the collector never reads half a file */
	fd = mkstemp(tmp);
	if (fd < 0)
		return dp_err(dp, -errno, "%s: cannot create a file there: %s", dir, strerror(errno));
	f = fdopen(fd, "w");
	if (!f) {
		err = dp_err(dp, -errno, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return err;
	}
	err = xdpctl_metrics_write(dp, f, opts);
	if (!err && (fflush(f) || fsync(fd)))
		err = dp_err(dp, -errno, "%s: %s", tmp, strerror(errno));
	/* node_exporter runs as another user: the file is readable, like the collector expects */
	if (!err && fchmod(fd, 0644))
		err = dp_err(dp, -errno, "%s: %s", tmp, strerror(errno));
	if (fclose(f) && !err)
		err = dp_err(dp, -errno, "%s: %s", tmp, strerror(errno));
	if (!err && rename(tmp, final))
		err = dp_err(dp, -errno, "%s: %s", final, strerror(errno));
	if (err)
		unlink(tmp);
	return dp_ret(err);
}
