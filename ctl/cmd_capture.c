// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdpctl capture: the frames the programs handled, copied at their verdict
 * into the capture ring (bpf/lib/capture.h), written as pcap through
 * libpcap's dump API (tcpdump and Wireshark open it), with each frame's
 * hook, reason and action in a second file FILE.verdicts: classic pcap has
 * no per-packet comment, and libpcap writes no pcapng.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>

#include "xdpctl.h"

enum { CA_ADDR, CA_FLOW, CA_WRITE, CA_SNAPLEN, CA_COUNT, CA_TIMEOUT, CA_RATE, CA_SAMPLE };
static const struct arg_spec capture_args[] = {
	[CA_ADDR] = { .metavar = "ADDR", .type = ARG_ADDR, .group = 1,
		      .help = "only packets from or to ADDR" },
	[CA_FLOW] = { .name = "--flow", .metavar = "A,B[,PROTO[,PORT]]", .type = ARG_STRING,
		      .group = 1,
		      .help = "only packets between A and B (either way), PROTO tcp|udp|icmp|icmpv6 or a number, PORT either port" },
	[CA_WRITE] = { .name = "-w", .metavar = "FILE", .type = ARG_STRING,
		       .help = "write pcap to FILE ('-': stdout) and the verdicts to FILE.verdicts" },
	[CA_SNAPLEN] = { .name = "--snaplen", .metavar = "N", .type = ARG_UINT, .min = 14,
			 .max = XDPCTL_CAPTURE_SNAP_MAX,
			 .help = "bytes of each frame (default and at most 2048)" },
	[CA_COUNT] = { .name = "--count", .metavar = "N", .type = ARG_UINT, .min = 1,
		       .max = 100000000, .help = "stop after N packets" },
	[CA_TIMEOUT] = { .name = "--timeout", .metavar = "SECONDS", .type = ARG_UINT, .min = 1,
			 .max = 86400, .help = "stop after SECONDS" },
	[CA_RATE] = { .name = "--rate", .metavar = "PPS", .type = ARG_UINT, .min = 1,
		      .max = XDPCTL_CAPTURE_RATE_MAX,
		      .help = "copy at most PPS packets per second per CPU (default 1000)" },
	[CA_SAMPLE] = { .name = "--sample", .metavar = "N", .type = ARG_UINT, .min = 1,
			.max = 1000000, .help = "copy one matching packet in N, at random" },
	{ 0 },
};

struct cap_state {
	struct ctx *c;
	pcap_t *dead;
	pcap_dumper_t *dump;
	FILE *verdicts;          /* FILE.verdicts, or NULL */
	unsigned long long count, seen;
	__u64 mono0_ns, real0_ns; /* clocks at start: ts_ns (monotonic) to wall time */
	bool write_err;
};

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static bool capture_done(const void *arg)
{
	const struct cap_state *st = arg;

	return (st->count && st->seen >= st->count) || st->write_err;
}

static int capture_poll(void *h, int ms)
{
	return xdpctl_capture__poll(h, ms);
}

static const char *proto_word(__u8 p, char *buf, size_t len)
{
	switch (p) {
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case 0: return "-";
	default:
		snprintf(buf, len, "%u", p);
		return buf;
	}
}

/* "198.18.0.2 > 198.19.0.3 icmp" (ports for TCP/UDP), "-" when not IP. */
static void flow_words(const struct xdpctl_capture_hdr *h, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], pb[8];
	int af = h->family == XDPCTL_AF_INET ? AF_INET : h->family == XDPCTL_AF_INET6 ? AF_INET6 : 0;
	const char *proto = proto_word(h->l4proto, pb, sizeof(pb));

	if (!af || !inet_ntop(af, h->src, s, sizeof(s)) || !inet_ntop(af, h->dst, d, sizeof(d))) {
		snprintf(buf, len, "-");
		return;
	}
	if (h->l4proto == IPPROTO_TCP || h->l4proto == IPPROTO_UDP)
		snprintf(buf, len, "%s.%u > %s.%u %s", s, ntohs(h->sport), d, ntohs(h->dport), proto);
	else
		snprintf(buf, len, "%s > %s %s", s, d, proto);
}

/* One captured frame as gathered: its header, number, wall-clock time and flow words. */
struct frame_row {
	const struct xdpctl_capture_hdr *h;
	unsigned long long n;    /* 1 for the first frame */
	const char *ts;          /* HH:MM:SS */
	unsigned long long usec; /* and the microseconds */
	const char *flow;        /* flow_words() */
};

/* One captured frame (without -w): its line, or its JSON object. */
static void frame_show(struct ctx *c, const void *obj, bool json)
{
	const struct frame_row *f = obj;
	const struct xdpctl_capture_hdr *h = f->h;

	if (!json) {
		printf("%s.%06llu %-10s %-14s %-15s %s len %u\n", f->ts, f->usec,
		       xdpctl_hook_name(h->hook), xdpctl_reason_name(h->reason),
		       xdpctl_action_name(h->hook, h->action), f->flow, h->pkt_len);
		return;
	}
	jw_obj_open(c->jw);
	jw_ku64(c->jw, "frame", f->n);
	jw_ku64(c->jw, "ts_ns", h->ts_ns);
	jw_kstr(c->jw, "hook", xdpctl_hook_name(h->hook));
	jw_kstr(c->jw, "reason", xdpctl_reason_name(h->reason));
	jw_kstr(c->jw, "action", xdpctl_action_name(h->hook, h->action));
	jw_ku64(c->jw, "ifindex", h->ifindex);
	jw_ku64(c->jw, "out_ifindex", h->out_ifindex);
	jw_ku64(c->jw, "len_bytes", h->pkt_len);
	jw_ku64(c->jw, "caplen_bytes", h->cap_len);
	jw_kstr(c->jw, "flow", f->flow);
	jw_obj_close(c->jw);
}

static int on_packet(const struct xdpctl_capture_hdr *h, const __u8 *data, void *ctx)
{
	struct cap_state *st = ctx;
	__u64 wall = h->ts_ns - st->mono0_ns + st->real0_ns;
	char fl[160], ts[32];
	time_t sec = wall / 1000000000ull;
	struct tm tm;

	st->seen++;
	localtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	flow_words(h, fl, sizeof(fl));
	if (st->dump) {
		struct pcap_pkthdr ph = {
			.ts = { .tv_sec = sec, .tv_usec = (wall % 1000000000ull) / 1000 },
			.caplen = h->cap_len,
			.len = h->pkt_len,
		};

		pcap_dump((u_char *)st->dump, &ph, data);
		/* whole records on disk as they come: a killed capture leaves a readable file */
		if (pcap_dump_flush(st->dump))
			st->write_err = true;
	}
	if (st->verdicts) {
		fprintf(st->verdicts, "%llu\t%s.%06llu\t%s\t%s\t%s\t%u\t%u\t%u\t%u\t%s\n", st->seen,
			ts, (unsigned long long)(wall % 1000000000ull) / 1000,
			xdpctl_hook_name(h->hook), xdpctl_reason_name(h->reason),
			xdpctl_action_name(h->hook, h->action), h->ifindex, h->out_ifindex, h->pkt_len,
			h->cap_len, fl);
		if (fflush(st->verdicts))
			st->write_err = true;
	} else if (!st->dump) {
		frame_show(st->c, &(struct frame_row){ .h = h, .n = st->seen, .ts = ts,
						       .usec = (wall % 1000000000ull) / 1000,
						       .flow = fl }, st->c->json);
	}
	if (!st->dump && fflush(stdout))
		return 1; /* the reader of our lines went away (EPIPE) */
	if (st->write_err || ferror(stdout))
		return 1;
	return st->count && st->seen >= st->count;
}

static int parse_proto(const char *s, __u8 *out)
{
	static const struct { const char *name; __u8 p; } names[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "icmp", IPPROTO_ICMP },
		{ "icmpv6", IPPROTO_ICMPV6 },
	};
	char *end;
	unsigned long v;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i].name)) {
			*out = names[i].p;
			return 0;
		}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v < 1 || v > 255)
		return -EINVAL;
	*out = v;
	return 0;
}

/* --flow A,B[,PROTO[,PORT]] */
static int parse_flow(struct ctx *c, const char *spec, struct xdpctl_capture_filter *f)
{
	char buf[256], *parts[5] = {}, *save = NULL, *tok;
	unsigned long port;
	int n = 0;

	if (strlen(spec) >= sizeof(buf))
		return fail(c, "--flow %s: too long", spec);
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok && n < 5; tok = strtok_r(NULL, ",", &save))
		parts[n++] = tok;
	if (n < 2 || n > 4)
		return fail(c, "--flow %s: expected A,B[,PROTO[,PORT]], e.g. 198.18.0.2,198.19.0.3,tcp,80",
			    spec);
	if (xdpctl_addr_parse(parts[0], &f->a))
		return fail(c, "--flow: %s: not an IPv4 or IPv6 address", parts[0]);
	if (xdpctl_addr_parse(parts[1], &f->b))
		return fail(c, "--flow: %s: not an IPv4 or IPv6 address", parts[1]);
	if (f->a.family != f->b.family)
		return fail(c, "--flow %s: both addresses must be IPv4 or both IPv6", spec);
	if (n >= 3 && parse_proto(parts[2], &f->l4proto))
		return fail(c, "--flow: %s: not a protocol (tcp, udp, icmp, icmpv6 or 1-255)", parts[2]);
	if (n == 4) {
		char *end;

		errno = 0;
		port = strtoul(parts[3], &end, 10);
		if (errno || *end || end == parts[3] || port < 1 || port > 65535)
			return fail(c, "--flow: %s: not a port (1-65535)", parts[3]);
		if (f->l4proto != IPPROTO_TCP && f->l4proto != IPPROTO_UDP)
			return fail(c, "--flow %s: a port needs tcp or udp", spec);
		f->port = htons(port);
	}
	return 0;
}

static int run_capture(struct ctx *c, struct args *a)
{
	struct xdpctl_capture_filter f = {
		.snaplen = a->v[CA_SNAPLEN].set ? a->v[CA_SNAPLEN].u : XDPCTL_CAPTURE_SNAP_MAX,
		.rate = a->v[CA_RATE].set ? a->v[CA_RATE].u : XDPCTL_CAPTURE_RATE_DEFAULT,
		.sample = a->v[CA_SAMPLE].set ? a->v[CA_SAMPLE].u : 1,
	};
	struct cap_state st = { .c = c, .count = a->v[CA_COUNT].set ? a->v[CA_COUNT].u : 0 };
	double deadline = a->v[CA_TIMEOUT].set ? mono_s() + (double)a->v[CA_TIMEOUT].u : 0;
	const char *file = a->v[CA_WRITE].set ? a->v[CA_WRITE].str : NULL;
	struct xdpctl_capture *cap = NULL;
	struct xdpctl_capstat cs = {};
	char vpath[4096];
	int err, r = 0;

	if (a->v[CA_ADDR].set)
		f.a = a->v[CA_ADDR].addr;
	if (a->v[CA_FLOW].set && parse_flow(c, a->v[CA_FLOW].str, &f))
		return 1;
	if (file && !strcmp(file, "-") && c->json)
		return fail_usage(c, "-w - writes pcap to stdout: it cannot carry -j output too");
	r = open_state(c, false, 0, false, NULL);
	if (r)
		return r;

	/* the files first: a capture that cannot write changes nothing */
	if (file) {
		st.dead = pcap_open_dead(DLT_EN10MB, f.snaplen);
		if (!st.dead)
			return fail(c, "capture: libpcap: out of memory");
		if (!strcmp(file, "-")) {
			st.dump = pcap_dump_fopen(st.dead, stdout);
		} else {
			st.dump = pcap_dump_open(st.dead, file);
			snprintf(vpath, sizeof(vpath), "%s.verdicts", file);
			if (st.dump) {
				st.verdicts = fopen(vpath, "we");
				if (!st.verdicts) {
					r = fail(c, "%s: %s: choose a writable -w FILE", vpath,
						 strerror(errno));
					goto out;
				}
				fprintf(st.verdicts, "# frame\ttime\thook\treason\taction\tifindex\tout_ifindex\tlen\tcaplen\tflow\n");
			}
		}
		if (!st.dump) {
			r = fail(c, "%s: %s: choose a writable -w FILE", file, pcap_geterr(st.dead));
			goto out;
		}
	}

	st.mono0_ns = clock_ns(CLOCK_MONOTONIC);
	st.real0_ns = clock_ns(CLOCK_REALTIME);
	cap = xdpctl_capture__open(c->dp, &f, on_packet, &st);
	if (!cap) {
		r = fail_dp(c, -errno, "capture");
		goto out;
	}
	install_stop_handler();
	err = poll_until(deadline, capture_poll, cap, capture_done, &st);
	if (err)
		r = fail_dp(c, err, "capture ring buffer");
	if (xdpctl_capture__stats(cap, &cs))
		memset(&cs, 0, sizeof(cs));
	xdpctl_capture__close(cap);
	cap = NULL;
	if (st.write_err && !r)
		r = fail(c, "%s: write failed: check the disk", file ? file : "stdout");
	if (r)
		goto out;
	/* a summary where it does not mix with the packets: stdout unless it carries pcap */
	if (file && !strcmp(file, "-")) {
		/* nothing: stdout is the pcap stream */
	} else if (c->json && file) {
		jw_obj_open(c->jw);
		jw_ku64(c->jw, "packets", st.seen);
		jw_ku64(c->jw, "rate_limited", cs.rate_limited);
		jw_ku64(c->jw, "ring_full", cs.ring_full);
		jw_kstr(c->jw, "file", file);
		jw_kstr(c->jw, "verdicts", vpath);
		jw_obj_close(c->jw);
	} else if (!c->json) {
		printf("%llu packets captured%s%s; not copied: %llu over the rate, %llu ring full\n",
		       st.seen, file ? " to " : "", file ? file : "",
		       (unsigned long long)cs.rate_limited, (unsigned long long)cs.ring_full);
	}
	r = stdout_result(c);
out:
	xdpctl_capture__close(cap);
	if (st.dump)
		pcap_dump_close(st.dump); /* with -w - this closes stdout: nothing is written after */
	if (st.verdicts)
		fclose(st.verdicts);
	if (st.dead)
		pcap_close(st.dead);
	return r;
}

const struct cmd cmd_capture = {
	.name = "capture", .run = run_capture, .args = capture_args, .flags = CMD_PRIV,
	.summary = "Capture the packets the programs handle, with their verdicts, as pcap.",
	.details = "The programs copy each matching frame at their verdict, as they hand it on\n"
		   "(after a bypass rewrite; the echo reply for ping-pong), at most --rate\n"
		   "packets per second per CPU. Capture is a lease like trace: off, and one\n"
		   "map lookup per packet, when no capture runs; one capture at a time.\n"
		   "With -w FILE: pcap (tcpdump -r FILE) and FILE.verdicts, one tab-separated\n"
		   "line per frame: frame number, time, hook, reason, action, ifindex,\n"
		   "out_ifindex, len, caplen, flow. Without -w: one line per packet.",
};
