// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the programs record for observers, through BPF_PROG_TEST_RUN on the
 * real objects: the packet size histogram (every bucket bound, inclusive),
 * and capture: the lease (nothing without a live one, nothing once it
 * lapsed), the address filter, snaplen, the per-CPU rate bound and the
 * record's header and bytes, at the XDP and the tc hook.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "pkt.h"

static struct th *H;
static int n_checks, n_fail;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		n_checks++;                                                    \
		if (!(cond)) {                                                 \
			n_fail++;                                              \
			printf("FAIL %s:%d: ", __func__, __LINE__);           \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		}                                                              \
	} while (0)

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l;
	(void)f;
	(void)ap;
	return 0;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* A UDP frame to @dst of exactly @len bytes. */
static int frame(const char *dst, int len, __u8 *buf)
{
	struct pb_spec s;

	if (pb_udp(&s, "198.18.0.1", dst))
		return -EINVAL;
	s.payload_len = len - 14 - 20 - 8;
	memset(s.payload, 0x5a, s.payload_len);
	return pb_build(&s, buf, PB_MAX_FRAME);
}

static int run(enum th_prog p, const __u8 *in, int len, __u32 *retval)
{
	static __u8 out[PB_MAX_FRAME + 256];
	struct th_run r = { .in = in, .in_len = len, .out = out, .out_cap = sizeof(out) };
	int err = th_run(H, p, &r);

	*retval = r.retval;
	return err;
}

static void sizes(__u32 hook, struct xdpctl_counter out[XDPCTL_SIZE_BUCKETS])
{
	int n = th_ncpus(), b, c;
	struct xdpctl_counter *v = calloc(n, sizeof(*v));

	for (b = 0; b < XDPCTL_SIZE_BUCKETS; b++) {
		__u32 key = XDPCTL_SIZES_KEY(hook, b);

		out[b].packets = out[b].bytes = 0;
		if (bpf_map_lookup_elem(th_map_fd(H, XDPCTL_MAP_SIZES), &key, v))
			continue;
		for (c = 0; c < n; c++) {
			out[b].packets += v[c].packets;
			out[b].bytes += v[c].bytes;
		}
	}
	free(v);
}

static void test_histogram(void)
{
	static const struct { int len, bucket; } cases[] = {
		{ 60, 0 }, { 64, 0 }, { 65, 1 }, { 128, 1 }, { 129, 2 }, { 256, 2 }, { 257, 3 },
		{ 1024, 4 }, { 1025, 5 }, { 1518, 5 }, { 1519, 6 }, { 2048, 6 }, { 2049, 7 },
	};
	static __u8 buf[PB_MAX_FRAME];
	struct xdpctl_counter before[XDPCTL_SIZE_BUCKETS], after[XDPCTL_SIZE_BUCKETS];
	unsigned int i;
	int b, len;
	__u32 ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum th_prog p = cases[i].len > 1500 ? TH_TC_IN : TH_XDP;
		__u32 hook = th_prog_hook(p);

		len = frame("198.19.0.9", cases[i].len, buf);
		CHECK(len == cases[i].len, "frame of %d bytes built (%d)", cases[i].len, len);
		sizes(hook, before);
		CHECK(!run(p, buf, len, &ret), "run %s on %d bytes", th_prog_name(p), len);
		sizes(hook, after);
		for (b = 0; b < XDPCTL_SIZE_BUCKETS; b++) {
			__u64 dp = after[b].packets - before[b].packets;
			__u64 db = after[b].bytes - before[b].bytes;

			CHECK(dp == (b == cases[i].bucket) && db == (b == cases[i].bucket ? (__u64)len : 0),
			      "%d-byte frame at %s: bucket %d got +%llu packets +%llu bytes, expected bucket %d",
			      len, th_prog_name(p), b, (unsigned long long)dp, (unsigned long long)db,
			      cases[i].bucket);
		}
	}
}

/* ---- capture ---- */

struct rec {
	struct xdpctl_capture_hdr h;
	__u8 data[XDPCTL_CAPTURE_SNAP_MAX];
	size_t size;
};
static struct rec recs[16];
static int n_recs;

static int on_rec(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (n_recs < 16 && size <= sizeof(recs[0].h) + XDPCTL_CAPTURE_SNAP_MAX) {
		memcpy(&recs[n_recs], data, size);
		recs[n_recs].size = size;
	}
	n_recs++;
	return 0;
}

/* The capture lease until @until_ns (0: none) with filter @f. */
static void lease(__u64 until_ns, const struct xdpctl_capture_filter *f)
{
	struct xdpctl_config cfg = {};
	__u32 key = 0;

	/* The rest as it is: the ifaces generation must never go back (abi.h). */
	CHECK(!bpf_map_lookup_elem(th_map_fd(H, XDPCTL_MAP_CONFIG), &key, &cfg), "config read");
	memset(&cfg.capture, 0, sizeof(cfg.capture));
	memset(&cfg.cap, 0, sizeof(cfg.cap));
	memset(cfg.cap_slot, 0, sizeof(cfg.cap_slot));
	cfg.capture.until_ns = cfg.capture.slot[0] = until_ns;
	if (f)
		cfg.cap = cfg.cap_slot[0] = *f;
	CHECK(!bpf_map_update_elem(th_map_fd(H, XDPCTL_MAP_CONFIG), &key, &cfg, BPF_ANY),
	      "config written");
}

static struct xdpctl_capstat capstat(void)
{
	int n = th_ncpus(), c;
	struct xdpctl_capstat *v = calloc(n, sizeof(*v)), s = {};
	__u32 key = 0;

	if (!bpf_map_lookup_elem(th_map_fd(H, XDPCTL_MAP_CAPSTAT), &key, v))
		for (c = 0; c < n; c++) {
			s.captured += v[c].captured;
			s.rate_limited += v[c].rate_limited;
			s.ring_full += v[c].ring_full;
		}
	free(v);
	return s;
}

static void test_capture(void)
{
	static __u8 hit[PB_MAX_FRAME], miss[PB_MAX_FRAME];
	struct xdpctl_capture_filter f = { .snaplen = 100, .rate = 3 };
	struct ring_buffer *rb;
	struct xdpctl_capstat s0, s1;
	__u32 ret;
	int i, hl, ml;

	rb = ring_buffer__new(th_map_fd(H, XDPCTL_MAP_CAPTURE), on_rec, NULL, NULL);
	CHECK(rb, "capture ring reader");
	if (!rb)
		return;
	hl = frame("198.19.0.3", 200, hit);
	ml = frame("198.19.0.4", 200, miss);
	th_addr(&f.a, "198.19.0.3");

	/*
	 * No lease, and a lapsed one: nothing copied, nothing counted. Lapsed
	 * by 100 ms: the programs read the coarse clock, up to a tick behind.
	 */
	s0 = capstat();
	lease(0, &f);
	run(TH_XDP, hit, hl, &ret);
	lease(mono_ns() - 100000000ull, &f);
	run(TH_XDP, hit, hl, &ret);
	ring_buffer__consume(rb);
	s1 = capstat();
	CHECK(n_recs == 0 && s1.captured == s0.captured && s1.rate_limited == s0.rate_limited,
	      "no live lease: %d records, +%llu captured", n_recs,
	      (unsigned long long)(s1.captured - s0.captured));

	/* live lease: the filter, snaplen, and 3 packets per second on this CPU */
	lease(mono_ns() + 10ull * 1000000000, &f);
	for (i = 0; i < 5; i++)
		run(TH_XDP, hit, hl, &ret);
	run(TH_XDP, miss, ml, &ret);
	ring_buffer__consume(rb);
	s1 = capstat();
	CHECK(n_recs == 3, "5 matching frames at rate 3: %d records, expected 3", n_recs);
	CHECK(s1.captured - s0.captured == 3 && s1.rate_limited - s0.rate_limited == 2,
	      "capstat: +%llu captured, +%llu rate limited; expected 3 and 2",
	      (unsigned long long)(s1.captured - s0.captured),
	      (unsigned long long)(s1.rate_limited - s0.rate_limited));
	for (i = 0; i < n_recs && i < 3; i++) {
		struct rec *r = &recs[i];

		CHECK(r->size == sizeof(r->h) + 100 && r->h.cap_len == 100 && r->h.pkt_len == 200,
		      "record %d: size %zu cap_len %u pkt_len %u", i, r->size, r->h.cap_len,
		      r->h.pkt_len);
		/* No ifaces entry: the default fast path, conntrack; no entry there: ct_new. */
		CHECK(r->h.hook == XDPCTL_HOOK_XDP && r->h.reason == XDPCTL_R_CT_NEW &&
		      r->h.action == XDP_PASS && r->h.l4proto == 17 && r->h.family == XDPCTL_AF_INET,
		      "record %d: hook %u reason %u action %u proto %u family %u", i, r->h.hook,
		      r->h.reason, r->h.action, r->h.l4proto, r->h.family);
		CHECK(!memcmp(r->h.dst, f.a.addr, 16), "record %d: destination 198.19.0.3", i);
		CHECK(!memcmp(r->data, hit, 100), "record %d: the frame's first 100 bytes", i);
	}

	/* the tc hook, a higher rate */
	n_recs = 0;
	f.rate = 1000;
	f.snaplen = XDPCTL_CAPTURE_SNAP_MAX;
	lease(mono_ns() + 10ull * 1000000000, &f);
	run(TH_TC_IN, hit, hl, &ret);
	ring_buffer__consume(rb);
	CHECK(n_recs == 1 && recs[0].h.hook == XDPCTL_HOOK_TC_IN && recs[0].h.action == TC_ACT_OK &&
	      recs[0].h.cap_len == 200 && !memcmp(recs[0].data, hit, 200),
	      "tc: %d records (hook %u action %u cap_len %u)", n_recs, recs[0].h.hook,
	      recs[0].h.action, recs[0].h.cap_len);
	lease(0, NULL);
	ring_buffer__free(rb);
}

int main(void)
{
	struct th_opts o = { .sz = sizeof(o), .max_rules = 64, .max_pingpong = 8 };
	cpu_set_t cpus;
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("SKIP: needs root (BPF_PROG_TEST_RUN, network namespaces)\n");
		return 77;
	}
	libbpf_set_print(quiet);
	/* one CPU: the capture rate bound is per CPU */
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	err = th_enter_private_netns();
	if (err) {
		printf("FAIL: private network namespace: %s\n", strerror(-err));
		return 1;
	}
	H = th_open(&o);
	if (!H) {
		printf("FAIL: th_open: %s\n", strerror(errno));
		return 1;
	}
	test_histogram();
	test_capture();
	th_close(H);
	printf("%d checks, %d failed\n", n_checks, n_fail);
	return n_fail ? 1 : 0;
}
