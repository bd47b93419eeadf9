// SPDX-License-Identifier: GPL-2.0-only
/*
 * prog_cost - per-packet cost of the real xdpctl programs through
 * BPF_PROG_TEST_RUN, in ns per packet (median of interleaved rounds), for:
 * a parse-only reference, XDP pass (miss), XDP bypass hit, XDP echo reply,
 * tc pass (miss), tc bypass hit, tc echo reply (the uplink in skip-firewall
 * mode); the conntrack fast path (the uplink following conntrack): XDP and
 * tc inbound hit of an established UDP entry of a published port (DNAT),
 * the tc return hit (its reply, SNAT back), XDP, tc and return ct miss
 * (no entry); "conntrack lookup adds" = ct hit - bypass hit of the same
 * hook; and with --rules, the XDP bypass hit with N rules installed and the
 * lookups spread over the N keys.
 *
 * How each case is measured, and why (a test run keeps the packet the
 * program rewrote for the next repeat):
 *   batch   one run with a large repeat; the program leaves the frame as it
 *           is (parse-only, miss), so every repeat takes the same path.
 *   ttl     bypass rewrites MACs (to constants: idempotent) and TTL - 1, so
 *           a frame sent with TTL 255 stays on the bypass path for 253
 *           repeats: runs of repeat 250 on a fresh frame each, their
 *           in-kernel times averaged. The frame returned must carry TTL 5.
 *           The conntrack inbound hit too: its DNAT (CLIENT:4242 ->
 *           PUB:8080 to BY:53) is undone on the next repeat by a mirror
 *           entry (CLIENT:4242 -> BY:53, DNAT to PUB:8080, PUB a container
 *           address as well), so every repeat is a DNAT hit and an even
 *           number of them returns the frame as sent, TTL apart.
 *   single  an echo request becomes a reply after one run (a reply is never
 *           answered), so only repeat=1 measures the echo path. Each run
 *           gets a fresh request; the kernel's per-run time includes a fixed
 *           timer overhead that batching hides, measured on the miss path
 *           (single minus batch) and subtracted. Raw figures are printed too.
 * Every round checks the counters: RX and the expected reason each grew by
 * exactly the number of runs, so no measured run took another path.
 * Conntrack entries are injected into the private namespace's conntrack
 * table as tests/unit does (ct_inject: bpf_xdp_ct_alloc, bpf_ct_insert_entry).
 *
 * Usage: prog_cost [--rounds N] [--repeat N] [--singles N] [--cpu N]
 *                  [--rules N[,N...]] [--samples N] [--json]
 * Runs as root in a private network namespace (one veth pair); leaves
 * nothing behind.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "pkt.h"
#include "xdpctl/dataplane.h"
#include "parse_only.skel.h"
#include "ct_inject.skel.h"
#include "ref_ct.skel.h"

#define MAX_ROUNDS 101
#define TTL_START 255
#define TTL_REPEAT 250 /* < TTL_START - 1: every repeat is still a bypass hit */
#define MAX_RULE_SIZES 8

static const __u8 MAC_CONT[6] = { 0x02, 0, 0, 0, 0, 0xc3 };
static const __u8 MAC_GW[6] = { 0x02, 0, 0, 0, 0, 0xc1 };

/* The conntrack cases: client, the host's published address, the container. */
#define CT_CLIENT "198.18.0.1"
#define CT_PUB    "198.18.0.254" /* xu0, the uplink of the return path */
#define CT_CONT   "198.19.0.3"   /* the bypass cases' rule: the container table */
#define P_CLIENT  4242           /* pb_udp's source port */
#define P_MISS    4245           /* no entry */
#define P_PUB     8080
#define P_CONT    53             /* pb_udp's destination port */
#define IPS_SEEN_REPLY_ (1u << 1)

enum method { M_BATCH, M_TTL, M_SINGLE };
static const char *const method_name[] = { "batch", "ttl", "single" };

struct bcase {
	const char *name;   /* JSON key */
	const char *label;  /* human */
	int fd;
	bool xdp;
	enum xdpctl_hook hook;
	enum method method;
	__u8 frame[PB_MAX_FRAME];
	int len;
	__u32 ret;          /* expected verdict of every run */
	int reason;         /* expected reason (-1: not counted, parse-only) */
	const __u8 *dev_mac; /* iface[1].mac for this case */
	__u32 dev_flags;     /* iface[1].flags for this case (with dev_mac) */
	__u32 ifindex;       /* device of the run (0: loopback, the uplink) */
	struct bcase *partner; /* single: the batch pass case of the same hook */
	double v[MAX_ROUNDS];   /* per round: ns per packet */
	double raw[MAX_ROUNDS]; /* single: median of the single runs */
	double ovh[MAX_ROUNDS]; /* single: pass single - pass batch, same round */
	long runs;
};

static struct {
	int rounds;
	long repeat;
	int singles;
	int cpu;
	long samples;
	bool json;
	long rules[MAX_RULE_SIZES];
	int n_rules;
} O = { .rounds = 7, .repeat = 1000000, .singles = 20000, .cpu = -1, .samples = 100000 };

static struct th *H;
static __u32 if_veth, if_uplink;

static void die(const char *what, int err)
{
	fprintf(stderr, "Error: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double *s = malloc(n * sizeof(*s));
	double m;

	if (!s)
		die("malloc", ENOMEM);
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

static double min_of(const double *v, int n)
{
	double m = v[0];
	int i;

	for (i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

static double max_of(const double *v, int n)
{
	double m = v[0];
	int i;

	for (i = 1; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

static int build(struct pb_spec *s, __u8 *out)
{
	int len = pb_build(s, out, PB_MAX_FRAME);

	if (len < 0)
		die("pb_build", len);
	return len;
}

#define DEV_SKIP_FW (XDPCTL_IF_UPLINK | XDPCTL_IF_SKIP_FIREWALL)
#define DEV_CT      XDPCTL_IF_UPLINK /* following conntrack */

static void set_dev(const __u8 *mac, __u32 flags)
{
	int err = th_iface_set(H, 1, mac, flags);

	if (err)
		die("th_iface_set", err);
}

/*
 * Counter check of one round: on @hook, every reason grew by exactly
 * @want[reason] (RX by their sum), every other hook not at all.
 */
static void check_counts(const char *label, enum xdpctl_hook hook, const struct th_stats *b,
			 const struct th_stats *a, const long *want)
{
	struct th_stats d;
	unsigned int h, r;
	long total = 0;

	for (r = 1; r < XDPCTL_REASON_MAX; r++)
		total += want[r];
	th_stats_delta(b, a, &d);
	for (h = 0; h < XDPCTL_HOOK_MAX; h++)
		for (r = 0; r < XDPCTL_REASON_MAX; r++) {
			long w = h != hook ? 0 : r == XDPCTL_R_RX ? total : want[r];

			if (d.c[h][r].packets != (__u64)w) {
				fprintf(stderr,
					"Error: %s: counter %s/%s grew by %llu, expected %ld: a run took another path\n",
					label, th_hook_name(h), th_reason_name(r),
					(unsigned long long)d.c[h][r].packets, w);
				exit(1);
			}
		}
}

static __u32 run_once(const struct bcase *c, const __u8 *frame, int len, __u32 repeat, __u8 *out,
		      __u32 *retval)
{
	struct th_run r = { .in = frame, .in_len = len, .repeat = repeat, .ifindex = c->ifindex };
	int err;

	if (out) {
		r.out = out;
		r.out_cap = PB_MAX_FRAME + 256;
	}
	err = th_run_fd(c->fd, c->xdp, &r);
	if (err)
		die("BPF_PROG_TEST_RUN", err);
	*retval = r.retval;
	return r.duration;
}

static void bad_verdict(const struct bcase *c, __u32 got)
{
	fprintf(stderr, "Error: %s: verdict %u, expected %u\n", c->label, got, c->ret);
	exit(1);
}

/*
 * Single runs of @c interleaved one by one with single runs of @p's frame
 * (a pass), then one batch of @p: the single-run overhead of this very
 * stretch of time. Stores the medians; @return the batch's ns per packet.
 */
static double single_pair(const struct bcase *c, const __u8 *frame, int len,
			  const struct bcase *p, long n, double *med_c, double *med_p)
{
	double *vc = malloc(n * sizeof(*vc)), *vp = malloc(n * sizeof(*vp));
	__u32 ret;
	double batch;
	long i;

	if (!vc || !vp)
		die("malloc", ENOMEM);
	for (i = 0; i < n; i++) {
		vc[i] = run_once(c, frame, len, 1, NULL, &ret);
		if (ret != c->ret)
			bad_verdict(c, ret);
		vp[i] = run_once(p, p->frame, p->len, 1, NULL, &ret);
		if (ret != p->ret)
			bad_verdict(p, ret);
	}
	batch = run_once(p, p->frame, p->len, (__u32)O.repeat, NULL, &ret);
	if (ret != p->ret)
		bad_verdict(p, ret);
	*med_c = median(vc, n);
	*med_p = median(vp, n);
	free(vc);
	free(vp);
	return batch;
}

/* One round @r of case @c; returns ns per packet. */
static double measure(struct bcase *c, int r)
{
	static __u8 out[PB_MAX_FRAME + 256];
	long want[XDPCTL_REASON_MAX] = {};
	struct th_stats before, after;
	double total = 0, med_c, med_p, batch;
	long runs = 0, i, n;
	__u32 ret, d;
	int err, ttl_off;

	if (c->dev_mac)
		set_dev(c->dev_mac, c->dev_flags);
	err = th_stats_read(H, &before);
	if (err)
		die("th_stats_read", err);

	switch (c->method) {
	case M_BATCH:
		d = run_once(c, c->frame, c->len, (__u32)O.repeat, NULL, &ret);
		if (ret != c->ret)
			bad_verdict(c, ret);
		runs = O.repeat;
		total = d;
		break;
	case M_TTL:
		/* TTL (v4) or hop limit (v6) offset in an untagged frame. */
		ttl_off = c->frame[12] == 0x86 ? ETH_HLEN + 7 : ETH_HLEN + 8;
		n = O.repeat / TTL_REPEAT;
		if (n < 1)
			n = 1;
		for (i = 0; i < n; i++) {
			d = run_once(c, c->frame, c->len, TTL_REPEAT, out, &ret);
			if (ret != c->ret)
				bad_verdict(c, ret);
			if (out[ttl_off] != TTL_START - TTL_REPEAT) {
				fprintf(stderr, "Error: %s: TTL %u after %d repeats, expected %u\n",
					c->label, out[ttl_off], TTL_REPEAT, TTL_START - TTL_REPEAT);
				exit(1);
			}
			/* IPv4: destination address and both ports as sent (an even number of DNATs). */
			if (c->frame[12] == 0x08 &&
			    memcmp(out + ETH_HLEN + 16, c->frame + ETH_HLEN + 16, 8)) {
				fprintf(stderr, "Error: %s: destination or ports changed after %d repeats\n",
					c->label, TTL_REPEAT);
				exit(1);
			}
			total += d;
		}
		runs = n * TTL_REPEAT;
		total /= n;
		break;
	case M_SINGLE:
		batch = single_pair(c, c->frame, c->len, c->partner, O.singles, &med_c, &med_p);
		runs = O.singles;
		want[c->partner->reason] += O.singles + O.repeat;
		c->raw[r] = med_c;
		c->ovh[r] = med_p - batch;
		total = med_c - c->ovh[r];
		break;
	}
	err = th_stats_read(H, &after);
	if (err)
		die("th_stats_read", err);
	if (c->reason >= 0) {
		want[c->reason] += runs;
		check_counts(c->label, c->hook, &before, &after, want);
	}
	c->runs += runs;
	return total;
}

/* ---------------------------------------------------------------------------
 * Setup
 */

static void plumb(void)
{
	int err;

	err = th_enter_private_netns();
	if (err)
		die("private network namespace", err);
	/*
	 * The veths stay down and without IPv6, so that no packet of their
	 * own (neighbour discovery, MLD) reaches the XDP program attached to
	 * xt1 and moves the counters checked after every round.
	 */
	err = th_write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (!err)
		err = th_write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	if (err)
		die("disable_ipv6", err);
	err = th_cmd("ip link add xt0 type veth peer name xt1");
	if (err)
		die("ip link add xt0 (veth)", err > 0 ? EIO : err);
	if_veth = if_nametoindex("xt0");
	if (!if_veth)
		die("if_nametoindex xt0", errno);
	/*
	 * The return path's uplink xu0: the host's address, the client's
	 * neighbour, forwarding on (FIB lookups answered by the tables). No
	 * program on xu0/xu1, so their packets move no counter.
	 */
	err = th_cmd("ip link add xu0 address 02:00:00:00:00:fe type veth peer name xu1 && "
		     "ip link set xu0 up && ip link set xu1 up && "
		     "ip addr add " CT_PUB "/24 dev xu0 && "
		     "ip neigh add " CT_CLIENT " lladdr 02:00:00:00:00:01 dev xu0 nud permanent");
	if (err)
		die("the return path's uplink xu0", err > 0 ? EIO : err);
	err = th_write_file("/proc/sys/net/ipv4/conf/all/forwarding", "1");
	if (err)
		die("forwarding sysctl", err);
	if_uplink = if_nametoindex("xu0");
	if (!if_uplink)
		die("if_nametoindex xu0", errno);
}

static void rule_by(const char *text)
{
	struct xdpctl_addr a;
	int err;

	if (th_addr(&a, text))
		die(text, EINVAL);
	err = th_bypass_add(H, &a, if_veth, 1500, MAC_CONT, MAC_GW);
	if (err)
		die("th_bypass_add", err);
}

/*
 * A conntrack entry in this namespace, as tests/unit does: UDP/IPv4 src:sport
 * -> dst:dport, DNAT to nat:nat_port, reply seen (established).
 */
static void ct_dnat(struct ct_inject *ci, const char *src, __u16 sport, const char *dst,
		    __u16 dport, const char *nat, __u16 nat_port)
{
	static __u8 frame[64];
	struct th_run run = { .in = frame, .in_len = sizeof(frame) };
	int err;

	memset(ci->bss->in_saddr, 0, 16);
	memset(ci->bss->in_daddr, 0, 16);
	memset(ci->bss->in_nat_addr, 0, 16);
	if (pb_addr4(ci->bss->in_saddr, src) || pb_addr4(ci->bss->in_daddr, dst) ||
	    pb_addr4(ci->bss->in_nat_addr, nat))
		die("ct_dnat: address", EINVAL);
	ci->bss->in_v6 = 0;
	ci->bss->in_l4proto = IPPROTO_UDP;
	ci->bss->in_sport = htons(sport);
	ci->bss->in_dport = htons(dport);
	ci->data->in_manip = 1; /* DNAT */
	ci->bss->in_nat_port = nat_port;
	ci->bss->in_status = IPS_SEEN_REPLY_;
	ci->data->out_err = 1;
	err = th_run_fd(bpf_program__fd(ci->progs.ct_inject), true, &run);
	if (!err)
		err = ci->data->out_err;
	if (err)
		die("injecting a conntrack entry (bpf_xdp_ct_alloc, bpf_ct_insert_entry)",
		    err < 0 ? err : EIO);
}

static void rule_pp(const char *text)
{
	struct xdpctl_addr a;
	int err;

	if (th_addr(&a, text))
		die(text, EINVAL);
	err = th_pingpong_add(H, &a, XDPCTL_HOOKBIT_XDP | XDPCTL_HOOKBIT_TC);
	if (err)
		die("th_pingpong_add", err);
}

static int n_cases;
static struct bcase cases[16];

static struct bcase *add_case(const char *name, const char *label, int fd, bool xdp,
			      enum xdpctl_hook hook, enum method m, struct pb_spec *s, __u32 ret,
			      int reason, const __u8 *dev_mac)
{
	struct bcase *c = &cases[n_cases++];

	c->name = name;
	c->label = label;
	c->fd = fd;
	c->xdp = xdp;
	c->hook = hook;
	c->method = m;
	c->len = build(s, c->frame);
	c->ret = ret;
	c->reason = reason;
	c->dev_mac = dev_mac;
	c->dev_flags = DEV_SKIP_FW;
	return c;
}

/*
 * tests/bench/ref_ct.bpf.c, the minimal conntrack follower: loaded with the
 * container's MACs and veth, attached natively to xu1 (so that its test
 * runs, like the others', skip the XDP dispatcher's update); its fd.
 */
static int ref_ct_fd(void)
{
	static struct bench_ref_ct *rc;
	__u32 ifx = if_veth, peer;
	int err;

	if (rc)
		return bpf_program__fd(rc->progs.ref_ct);
	rc = bench_ref_ct__open();
	if (!rc)
		die("opening ref_ct.bpf.o", errno);
	memcpy((void *)rc->rodata->ref_macs, MAC_CONT, 6);
	memcpy((__u8 *)rc->rodata->ref_macs + 6, MAC_GW, 6);
	rc->rodata->ref_ct_target = if_veth;
	err = bench_ref_ct__load(rc);
	if (err)
		die("loading ref_ct.bpf.o", err);
	if (bpf_map_update_elem(bpf_map__fd(rc->maps.ref_ct_devmap), &ifx, &ifx, BPF_ANY))
		die("ref_ct devmap", errno);
	peer = if_nametoindex("xu1");
	if (!peer)
		die("if_nametoindex xu1", errno);
	err = th_xdp_link(bpf_program__fd(rc->progs.ref_ct), peer);
	if (err < 0)
		die("attaching ref_ct to xu1 (native)", err);
	return bpf_program__fd(rc->progs.ref_ct);
}

/*
 * The conntrack fast path: the uplink follows conntrack (no skip-firewall
 * flag); a published port CLIENT:4242 -> PUB:8080, DNAT to CONT:53, and its
 * mirror (see the ttl method); the return path from the container's veth
 * xt0 to the client's neighbour on xu0.
 */
static void setup_ct_cases(void)
{
	static struct pb_spec s;
	int xdp = th_prog_fd(H, TH_XDP), tc = th_prog_fd(H, TH_TC_IN), ret = th_prog_fd(H, TH_TC_FWD);
	struct ct_inject *ci;
	struct bcase *c, *ret_miss;
	__u8 mac_up[6] = { 0x02, 0, 0, 0, 0, 0xfe };

	ci = ct_inject__open_and_load();
	if (!ci)
		die("loading ct_inject.bpf.o", errno);
	ct_dnat(ci, CT_CLIENT, P_CLIENT, CT_PUB, P_PUB, CT_CONT, P_CONT);
	ct_dnat(ci, CT_CLIENT, P_CLIENT, CT_CONT, P_CONT, CT_PUB, P_PUB);
	ct_inject__destroy(ci);
	rule_by(CT_PUB);
	if (th_iface_set(H, if_uplink, mac_up, DEV_CT) || th_iface_set(H, if_veth, MAC_GW, XDPCTL_IF_VETH))
		die("th_iface_set", errno);

	/* Inbound: to the published port, the frame at the container's MACs (idempotent). */
	pb_udp(&s, CT_CLIENT, CT_PUB);
	s.payload_len = 18;
	s.ttl = TTL_START;
	s.sport = htons(P_CLIENT);
	s.dport = htons(P_PUB);
	memcpy(s.dmac, MAC_CONT, 6);
	memcpy(s.smac, MAC_GW, 6);
	c = add_case("xdp_ct_hit", "XDP ct hit (DNAT)", xdp, true, XDPCTL_HOOK_XDP, M_TTL, &s,
		     XDP_REDIRECT, XDPCTL_R_CT_FWD, MAC_CONT);
	c->dev_flags = DEV_CT;
	/* The same frame through the minimal conntrack follower (no counters of its own). */
	add_case("ref_ct_hit", "minimal ct follower (xdp)", ref_ct_fd(), true, XDPCTL_HOOK_XDP,
		 M_TTL, &s, XDP_REDIRECT, -1, NULL);
	c = add_case("tc_ct_hit", "tc ct hit (DNAT)", tc, false, XDPCTL_HOOK_TC_IN, M_TTL, &s,
		     TC_ACT_REDIRECT, XDPCTL_R_CT_FWD, MAC_CONT);
	c->dev_flags = DEV_CT;
	s.sport = htons(P_MISS);
	c = add_case("xdp_ct_miss", "XDP ct miss (no entry)", xdp, true, XDPCTL_HOOK_XDP, M_BATCH,
		     &s, XDP_PASS, XDPCTL_R_CT_NEW, MAC_CONT);
	c->dev_flags = DEV_CT;
	c = add_case("tc_ct_miss", "tc ct miss (no entry)", tc, false, XDPCTL_HOOK_TC_IN, M_BATCH,
		     &s, TC_ACT_OK, XDPCTL_R_CT_NEW, MAC_CONT);
	c->dev_flags = DEV_CT;

	/* Return: the container's reply on xt0, SNAT back to PUB:8080, out of xu0. */
	pb_udp(&s, CT_CONT, CT_CLIENT);
	s.payload_len = 18;
	s.sport = htons(P_CONT);
	s.dport = htons(P_MISS);
	memcpy(s.dmac, MAC_GW, 6);
	memcpy(s.smac, MAC_CONT, 6);
	ret_miss = add_case("ret_ct_miss", "tc return ct miss (no entry)", ret, false,
			    XDPCTL_HOOK_TC_FWD, M_BATCH, &s, TC_ACT_OK, XDPCTL_R_CT_NEW, NULL);
	ret_miss->ifindex = if_veth;
	s.dport = htons(P_CLIENT);
	c = add_case("ret_ct_hit", "tc return ct hit (SNAT)", ret, false, XDPCTL_HOOK_TC_FWD,
		     M_SINGLE, &s, TC_ACT_REDIRECT, XDPCTL_R_CT_FWD, NULL);
	c->ifindex = if_veth;
	c->partner = ret_miss;
}

static void setup_cases(int parse_fd)
{
	static struct pb_spec s;
	int xdp = th_prog_fd(H, TH_XDP), tc = th_prog_fd(H, TH_TC_IN);
	struct bcase *xdp_pass, *tc_pass;

	rule_pp("198.19.0.2");
	rule_by(CT_CONT);
	if (th_devmap_add(H, if_veth))
		die("th_devmap_add", errno);

	/* 64-byte class frames: UDP with an 18-byte payload (74 bytes on the wire before FCS). */
	pb_udp(&s, "198.18.0.1", "198.19.0.9");
	s.payload_len = 18;
	add_case("parse_only", "parse-only reference (xdp)", parse_fd, true, XDPCTL_HOOK_XDP,
		 M_BATCH, &s, XDP_PASS, -1, NULL);
	xdp_pass = add_case("xdp_pass", "XDP pass (miss)", xdp, true, XDPCTL_HOOK_XDP, M_BATCH, &s,
			    XDP_PASS, XDPCTL_R_PASS, PB_MAC_HOST);
	tc_pass = add_case("tc_pass", "tc pass (miss)", tc, false, XDPCTL_HOOK_TC_IN, M_BATCH, &s,
			   TC_ACT_OK, XDPCTL_R_PASS, PB_MAC_HOST);

	/* Bypass: the device's MAC is the rule's dmac, so the rewrite is idempotent. */
	pb_udp(&s, "198.18.0.1", "198.19.0.3");
	s.payload_len = 18;
	s.ttl = TTL_START;
	memcpy(s.dmac, MAC_CONT, 6);
	memcpy(s.smac, MAC_GW, 6);
	add_case("xdp_bypass", "XDP bypass hit", xdp, true, XDPCTL_HOOK_XDP, M_TTL, &s,
		 XDP_REDIRECT, XDPCTL_R_BYPASS, MAC_CONT);
	add_case("tc_bypass", "tc bypass hit", tc, false, XDPCTL_HOOK_TC_IN, M_TTL, &s,
		 TC_ACT_REDIRECT, XDPCTL_R_BYPASS, MAC_CONT);

	pb_echo_request(&s, "198.18.0.1", "198.19.0.2");
	s.payload_len = 24;
	add_case("xdp_echo", "XDP echo reply", xdp, true, XDPCTL_HOOK_XDP, M_SINGLE, &s, XDP_TX,
		 XDPCTL_R_PINGPONG, PB_MAC_HOST)->partner = xdp_pass;
	add_case("tc_echo", "tc echo reply", tc, false, XDPCTL_HOOK_TC_IN, M_SINGLE, &s,
		 TC_ACT_REDIRECT, XDPCTL_R_PINGPONG, PB_MAC_HOST)->partner = tc_pass;
}

/*
 * A test run with repeat > 1 puts the XDP program into the kernel's XDP
 * dispatcher and takes it out again afterwards, each time waiting for an
 * RCU grace period (measured here: milliseconds per call, seconds under
 * load). An XDP program attached in native mode stays in the dispatcher,
 * so the test runs neither wait nor differ in how the program is called:
 * attach both XDP programs to the private namespace's veths (links, gone
 * with the process). Both single and batched runs then call the program
 * directly, as a driver does.
 */
static void pin_in_dispatcher(int xdp_fd, int parse_fd)
{
	__u32 peer = if_nametoindex("xt1");
	int err;

	if (!peer)
		die("if_nametoindex xt1", errno);
	err = th_xdp_link(xdp_fd, peer);
	if (err < 0)
		die("attaching xdpctl_xdp to xt1 (native)", err);
	err = th_xdp_link(parse_fd, if_veth);
	if (err < 0)
		die("attaching bench_parse_only to xt0 (native)", err);
}

/* ---------------------------------------------------------------------------
 * Bypass hit with N rules, lookups spread over the N keys
 */

/* Rule i: 2001:db8:100::/96 + i (within 2001:db8::/32). */
static void key_of(__u32 i, struct xdpctl_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->addr[0] = 0x20;
	a->addr[1] = 0x01;
	a->addr[2] = 0x0d;
	a->addr[3] = 0xb8;
	a->addr[4] = 0x01;
	a->addr[5] = 0x00;
	a->addr[12] = i >> 24;
	a->addr[13] = i >> 16;
	a->addr[14] = i >> 8;
	a->addr[15] = i;
	a->family = XDPCTL_AF_INET6;
}

static int install_rules(long from, long to)
{
	int fd = th_map_fd(H, XDPCTL_MAP_BYPASS);
	const long chunk = 65536;
	struct xdpctl_addr *keys;
	struct xdpctl_bypass *vals;
	long i, j;
	int err = 0;

	keys = calloc(chunk, sizeof(*keys));
	vals = calloc(chunk, sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (i = from; i < to && !err; i += chunk) {
		__u32 count = (__u32)((to - i) < chunk ? (to - i) : chunk);
		LIBBPF_OPTS(bpf_map_batch_opts, bo);

		for (j = 0; j < (long)count; j++) {
			struct xdpctl_bypass *v = &vals[j];

			key_of((__u32)(i + j), &keys[j]);
			memset(v, 0, sizeof(*v));
			v->ifindex = if_veth;
			v->mtu = 1500;
			memcpy(v->dmac, MAC_CONT, 6);
			memcpy(v->smac, MAC_GW, 6);
		}
		if (bpf_map_update_batch(fd, keys, vals, &count, &bo))
			err = -errno;
	}
	free(keys);
	free(vals);
	return err;
}

static __u64 rng_state = 0x9e3779b97f4a7c15ull;

static __u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

struct spread_result {
	long n;
	double raw, overhead, cost;
	long samples;
	unsigned long long mem; /* kernel memory of the bypass map with n rules (fdinfo) */
};

static void spread(struct spread_result *res, int n_res)
{
	static __u8 frame[PB_MAX_FRAME];
	static struct pb_spec s;
	static struct bcase pass;
	struct bcase c = {}, *p = &pass;
	long installed = 0;
	int k, len;

	c.fd = th_prog_fd(H, TH_XDP);
	c.xdp = true;
	c.hook = XDPCTL_HOOK_XDP;
	c.ret = XDP_REDIRECT;
	c.reason = XDPCTL_R_BYPASS;
	c.label = "XDP bypass hit, spread";
	set_dev(MAC_CONT, DEV_SKIP_FW);

	/* The pass partner, to the same MAC as the bypass frames. */
	pb_udp(&s, "2001:db8:18::1", "2001:db8:19::9");
	s.payload_len = 18;
	memcpy(s.dmac, MAC_CONT, 6);
	memcpy(s.smac, MAC_GW, 6);
	*p = c;
	p->ret = XDP_PASS;
	p->reason = XDPCTL_R_PASS;
	p->len = build(&s, p->frame);

	pb_udp(&s, "2001:db8:18::1", "2001:db8:100::");
	s.payload_len = 18;
	memcpy(s.dmac, MAC_CONT, 6);
	memcpy(s.smac, MAC_GW, 6);
	len = build(&s, frame);

	for (k = 0; k < n_res; k++) {
		long n = res[k].n, i, samples = O.samples;
		long want[XDPCTL_REASON_MAX] = {};
		struct th_stats before, after;
		double *vc, *vp, batch;
		__u32 ret;
		int err;

		if (n > installed) {
			err = install_rules(installed, n);
			if (err)
				die("installing rules", err);
			installed = n;
		}
		res[k].mem = xdpctl_map_fd_memory(th_map_fd(H, XDPCTL_MAP_BYPASS));
		vc = malloc(samples * sizeof(*vc));
		vp = malloc(samples * sizeof(*vp));
		if (!vc || !vp)
			die("malloc", ENOMEM);
		if (th_stats_read(H, &before))
			die("th_stats_read", EIO);
		for (i = 0; i < samples; i++) {
			__u32 key = (__u32)(rng() % (__u64)n);
			struct xdpctl_addr a;

			/* The destination's last 4 bytes name the key (14 + 24 + 12). */
			key_of(key, &a);
			memcpy(frame + ETH_HLEN + 24 + 12, a.addr + 12, 4);
			vc[i] = run_once(&c, frame, len, 1, NULL, &ret);
			if (ret != c.ret)
				bad_verdict(&c, ret);
			vp[i] = run_once(p, p->frame, p->len, 1, NULL, &ret);
			if (ret != p->ret)
				bad_verdict(p, ret);
		}
		batch = run_once(p, p->frame, p->len, (__u32)O.repeat, NULL, &ret);
		if (ret != p->ret)
			bad_verdict(p, ret);
		if (th_stats_read(H, &after))
			die("th_stats_read", EIO);
		want[XDPCTL_R_BYPASS] = samples;
		want[XDPCTL_R_PASS] = samples + O.repeat;
		check_counts(c.label, c.hook, &before, &after, want);
		res[k].raw = median(vc, samples);
		res[k].overhead = median(vp, samples) - batch;
		res[k].cost = res[k].raw - res[k].overhead;
		res[k].samples = samples;
		free(vc);
		free(vp);
	}
}

/* ---------------------------------------------------------------------------
 * main
 */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: prog_cost [--rounds N] [--repeat N] [--singles N] [--cpu N]\n"
		"                 [--rules N[,N...]] [--samples N] [--json]\n"
		"  --rounds N    interleaved rounds per case, median reported (default 7)\n"
		"  --repeat N    runs per round for batch cases; ttl cases use N/250 runs\n"
		"                of 250 (default 1000000)\n"
		"  --singles N   single runs per round for echo cases (default 20000)\n"
		"  --cpu N       pin to CPU N (default: not pinned)\n"
		"  --rules LIST  also the XDP bypass hit with N rules installed, lookups\n"
		"                spread over the N keys (e.g. 1,1000,100000,1000000)\n"
		"  --samples N   single runs per rule count (default 100000)\n"
		"  --json        one JSON object on stdout instead of the table\n");
}

static long parse_long(const char *s, const char *what, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi) {
		fprintf(stderr, "Error: %s: expected a number in %ld..%ld, got '%s'\n", what, lo, hi, s);
		exit(1);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "singles", required_argument, NULL, 's' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "rules", required_argument, NULL, 'R' },
		{ "samples", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char *list, *tok, *save;
	int opt;

	while ((opt = getopt_long(argc, argv, "jh", lo, NULL)) != -1) {
		switch (opt) {
		case 'r':
			O.rounds = (int)parse_long(optarg, "--rounds", 1, MAX_ROUNDS);
			break;
		case 'n':
			O.repeat = parse_long(optarg, "--repeat", TTL_REPEAT, 100000000);
			break;
		case 's':
			O.singles = (int)parse_long(optarg, "--singles", 1, 10000000);
			break;
		case 'c':
			O.cpu = (int)parse_long(optarg, "--cpu", 0, 4095);
			break;
		case 'S':
			O.samples = parse_long(optarg, "--samples", 1, 100000000);
			break;
		case 'R':
			list = strdup(optarg);
			if (!list)
				die("strdup", ENOMEM);
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (O.n_rules == MAX_RULE_SIZES) {
					fprintf(stderr, "Error: --rules: at most %d sizes\n", MAX_RULE_SIZES);
					exit(1);
				}
				O.rules[O.n_rules++] = parse_long(tok, "--rules", 1,
								  XDPCTL_MAX_RULES_DEFAULT);
			}
			free(list);
			break;
		case 'j':
			O.json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(1);
		}
	}
	/* Sizes in increasing order: rules are only ever added. */
	for (opt = 1; opt < O.n_rules; opt++)
		if (O.rules[opt] < O.rules[opt - 1]) {
			fprintf(stderr, "Error: --rules: expected sizes in increasing order, got %ld after %ld\n",
				O.rules[opt], O.rules[opt - 1]);
			exit(1);
		}
	if (optind != argc) {
		fprintf(stderr, "Error: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		exit(1);
	}
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static const struct bcase *find_case(const char *name)
{
	int i;

	for (i = 0; i < n_cases; i++)
		if (!strcmp(cases[i].name, name))
			return &cases[i];
	die(name, ENOENT);
	return NULL;
}

/* What following conntrack adds to a hit of @hook ("xdp", "tc"): ct hit - bypass hit. */
static double ct_lookup_ns(const char *hook)
{
	char a[32], b[32];

	snprintf(a, sizeof(a), "%s_ct_hit", hook);
	snprintf(b, sizeof(b), "%s_bypass", hook);
	return median(find_case(a)->v, O.rounds) - median(find_case(b)->v, O.rounds);
}

/* The same for a miss: ct miss (no entry) - pass (skip-firewall miss). */
static double ct_miss_ns(const char *hook)
{
	char a[32], b[32];

	snprintf(a, sizeof(a), "%s_ct_miss", hook);
	snprintf(b, sizeof(b), "%s_pass", hook);
	return median(find_case(a)->v, O.rounds) - median(find_case(b)->v, O.rounds);
}

static void print_results(const struct spread_result *sr, int n_sr)
{
	int i, k, n = O.rounds;

	if (O.json) {
		printf("{\"rounds\":%d,\"repeat\":%ld,\"singles\":%d,\"cases\":[", n, O.repeat,
		       O.singles);
		for (i = 0; i < n_cases; i++) {
			struct bcase *c = &cases[i];

			printf("%s{\"name\":\"%s\",\"method\":\"%s\",\"ns_per_packet\":%.1f,"
			       "\"min_ns\":%.1f,\"max_ns\":%.1f,\"runs\":%ld",
			       i ? "," : "", c->name, method_name[c->method], median(c->v, n),
			       min_of(c->v, n), max_of(c->v, n), c->runs);
			if (c->method == M_SINGLE)
				printf(",\"raw_ns\":%.1f,\"single_overhead_ns\":%.1f",
				       median(c->raw, n), median(c->ovh, n));
			printf("}");
		}
		/* Kept from the first version of this output: per hook, the overhead of its single-run case. */
		printf("],\"single_overhead_ns\":{");
		for (i = 0, k = 0; i < n_cases; i++)
			if (cases[i].method == M_SINGLE)
				printf("%s\"%s\":%.1f", k++ ? "," : "", cases[i].xdp ? "xdp" : "tc",
				       median(cases[i].ovh, n));
		printf("},\"ct_vs_ref\":{\"xdp\":%.3f},\"ct_lookup_ns\":{\"xdp\":%.1f,\"tc\":%.1f},"
		       "\"ct_miss_ns\":{\"xdp\":%.1f,\"tc\":%.1f},\"rules\":[",
		       median(find_case("xdp_ct_hit")->v, n) / median(find_case("ref_ct_hit")->v, n),
		       ct_lookup_ns("xdp"), ct_lookup_ns("tc"), ct_miss_ns("xdp"), ct_miss_ns("tc"));
		for (k = 0; k < n_sr; k++)
			printf("%s{\"rules\":%ld,\"ns_per_packet\":%.1f,\"raw_ns\":%.1f,"
			       "\"single_overhead_ns\":%.1f,\"samples\":%ld,\"map_memory_bytes\":%llu}",
			       k ? "," : "", sr[k].n, sr[k].cost, sr[k].raw, sr[k].overhead,
			       sr[k].samples, sr[k].mem);
		printf("]}\n");
		return;
	}
	printf("%-28s %-7s %8s %8s %8s %10s\n", "case", "method", "ns/pkt", "min", "max", "runs");
	for (i = 0; i < n_cases; i++) {
		struct bcase *c = &cases[i];

		printf("%-28s %-7s %8.1f %8.1f %8.1f %10ld", c->label, method_name[c->method],
		       median(c->v, n), min_of(c->v, n), max_of(c->v, n), c->runs);
		if (c->method == M_SINGLE)
			printf("  (single runs %.1f - overhead %.1f)", median(c->raw, n),
			       median(c->ovh, n));
		printf("\n");
	}
	printf("medians of %d interleaved rounds; single = median of one round's single runs minus\n"
	       "that round's single-run overhead (pass single runs - pass batch)\n", n);
	printf("XDP ct hit / minimal ct follower: %.2f (%.1f ns more)\n",
	       median(find_case("xdp_ct_hit")->v, n) / median(find_case("ref_ct_hit")->v, n),
	       median(find_case("xdp_ct_hit")->v, n) - median(find_case("ref_ct_hit")->v, n));
	printf("conntrack lookup adds (ct hit - skip-firewall bypass hit): XDP %.1f ns, tc %.1f ns\n"
	       "  (lookup, NAT rewrite, timeout refresh, flow record); a miss adds (ct miss - pass):\n"
	       "  XDP %.1f ns, tc %.1f ns\n",
	       ct_lookup_ns("xdp"), ct_lookup_ns("tc"), ct_miss_ns("xdp"), ct_miss_ns("tc"));
	if (n_sr) {
		printf("\nXDP bypass hit, IPv6, N rules, lookups spread over the N keys:\n");
		printf("%-10s %8s %12s %10s %10s %14s\n", "rules", "ns/pkt", "single runs", "overhead",
		       "samples", "map MiB");
		for (k = 0; k < n_sr; k++)
			printf("%-10ld %8.1f %12.1f %10.1f %10ld %14.1f\n", sr[k].n, sr[k].cost, sr[k].raw,
			       sr[k].overhead, sr[k].samples, sr[k].mem / 1048576.0);
	}
}

int main(int argc, char **argv)
{
	struct spread_result sr[MAX_RULE_SIZES] = {};
	struct th_opts o = { .sz = sizeof(o) };
	struct bench_parse_only *po;
	int r, i, k;

	parse_args(argc, argv);
	if (geteuid() != 0) {
		fprintf(stderr, "Error: needs root (BPF_PROG_TEST_RUN, a network namespace)\n");
		return 1;
	}
	if (O.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(O.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			die("sched_setaffinity", errno);
	}
	libbpf_set_print(quiet);
	plumb();
	/* The rule map at its production size (1M entries, the default). */
	H = th_open(&o);
	if (!H)
		die("loading the xdp and tc objects", errno);
	po = bench_parse_only__open_and_load();
	if (!po)
		die("loading parse_only.bpf.o", errno);
	pin_in_dispatcher(th_prog_fd(H, TH_XDP), bpf_program__fd(po->progs.bench_parse_only));
	setup_cases(bpf_program__fd(po->progs.bench_parse_only));
	setup_ct_cases();

	/* Warm-up round, not recorded; then interleaved rounds. */
	for (i = 0; i < n_cases; i++)
		measure(&cases[i], 0);
	for (i = 0; i < n_cases; i++)
		cases[i].runs = 0;
	for (r = 0; r < O.rounds; r++)
		for (i = 0; i < n_cases; i++)
			cases[i].v[r] = measure(&cases[i], r);

	for (k = 0; k < O.n_rules; k++)
		sr[k].n = O.rules[k];
	if (O.n_rules)
		spread(sr, O.n_rules);

	print_results(sr, O.n_rules);
	bench_parse_only__destroy(po);
	th_close(H);
	return 0;
}
