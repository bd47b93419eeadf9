// SPDX-License-Identifier: GPL-2.0-only
/*
 * The programs' per-CPU copy of the uplink's ifaces entry (bpf/lib/entry.h,
 * iface_cached) is never served stale: a change of the entry made by the
 * dataplane library (the code behind `xdpctl attach` / `xdpctl detach`)
 * takes effect on the very next packet after the call returns, for
 * xdpctl_xdp and xdpctl_tc_in on the uplink, and for the return path
 * (xdpctl_tc_fwd at a container's host veth, whose route leaves by the
 * uplink: its tail call looks the uplink's entry up).
 *
 * How: the harness loads the real programs with their maps pinned in a
 * private pin dir; the library opens that pin dir, so its attach and detach
 * write the very ifaces map (and bump the very generation) the harness's
 * programs read. The process is pinned to one CPU, so every test run uses
 * the one per-CPU slot that the run before each change filled: that run
 * checks the old behaviour and leaves its copy in the slot, and the run
 * right after the change must show the new one. The device of each run is
 * xc0 in a private network namespace, attached with engine tc (its XDP
 * program, were it attached, would be the library's own, not the ones run
 * here). A frame is a UDP packet to an address with no rule; the reason it
 * is counted under says which entry the program used:
 *   no entry           -> ct_new     (no MAC filter; conntrack, no entry)
 *   skip-firewall      -> pass       (no rule)
 *   conntrack          -> ct_new
 *   MAC not the entry's -> not_for_us
 * and on the return path: no entry, not_uplink; skip-firewall, bypass;
 * conntrack, ct_new. Without the generation bump in dataplane/state.c, 28
 * of the 39 checks fail (checked by removing it).
 * Prints one PASS/FAIL line per check; exit 1 on a failure, 77 when not root.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <net/if.h>

#include "harness.h"
#include "pkt.h"
#include "xdpctl/dataplane.h"

#define DEV "xc0"
#define CLIENT "198.18.0.1"  /* beyond DEV, its neighbour */
#define CONT   "198.19.0.3"  /* a container behind the host veth xv0 (a bypass rule) */
static const __u8 MAC_CONT[6] = { 0x02, 0, 0, 0, 0, 0xc3 };
static const __u8 MAC_GW[6] = { 0x02, 0, 0, 0, 0, 0xc1 };
static const __u8 MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x02 }; /* PB_MAC_HOST: the frames' default */
static const __u8 MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xab }; /* the device's MAC after the change */
static const __u8 MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x99 }; /* nobody's */

static struct th *H;
static struct xdpctl_dp *DP;
static __u32 ifindex, if_veth;
static int n_fail, n_pass;

static void die(const char *what, int err)
{
	fprintf(stderr, "FAIL setup: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/*
 * Run @prog once; the reason counted for it, or -1. The uplink's programs
 * get a UDP frame to @dmac from a client; xdpctl_tc_fwd, at the container's
 * host veth, a UDP frame from the container to the client, which the route
 * sends out of DEV.
 */
static int reason_of(enum th_prog prog, const __u8 dmac[6])
{
	__u8 frame[PB_MAX_FRAME];
	struct th_stats before, after, d;
	struct th_run r = {};
	enum xdpctl_hook hook = th_prog_hook(prog);
	struct pb_spec s;
	int len, reason, found = -1;

	if (prog == TH_TC_FWD) {
		if (pb_udp(&s, CONT, CLIENT))
			die("pb_udp", EINVAL);
		memcpy(s.dmac, MAC_GW, 6);
		memcpy(s.smac, MAC_CONT, 6);
	} else {
		if (pb_udp(&s, CLIENT, "198.19.0.9"))
			die("pb_udp", EINVAL);
		memcpy(s.dmac, dmac, 6);
	}
	len = pb_build(&s, frame, sizeof(frame));
	if (len < 0)
		die("pb_build", len);
	if (th_stats_read(H, &before))
		die("th_stats_read", errno);
	r.in = frame;
	r.in_len = len;
	r.ifindex = prog == TH_TC_FWD ? if_veth : ifindex;
	if (th_run(H, prog, &r))
		die("th_run", errno);
	if (th_stats_read(H, &after))
		die("th_stats_read", errno);
	th_stats_delta(&before, &after, &d);
	for (reason = 1; reason < XDPCTL_REASON_MAX; reason++) {
		if (!d.c[hook][reason].packets)
			continue;
		if (found >= 0 || d.c[hook][reason].packets != 1)
			return -1; /* more than one verdict: broken accounting */
		found = reason;
	}
	return d.c[hook][XDPCTL_R_RX].packets == 1 ? found : -1;
}

static void expect(enum th_prog prog, const __u8 dmac[6], int want, const char *when)
{
	int got = reason_of(prog, dmac);

	if (got == want) {
		n_pass++;
		printf("PASS %s: %s -> %s\n", th_prog_name(prog), when, th_reason_name(want));
	} else {
		n_fail++;
		printf("FAIL %s: %s -> %s, expected %s\n", th_prog_name(prog), when,
		       got < 0 ? "(no single verdict)" : th_reason_name(got), th_reason_name(want));
	}
}

/*
 * The uplink's two programs (@before, @want) and the return path (@ret_before,
 * @ret_want, -1: not checked): the old behaviour first (it fills the slots),
 * then the change, then the first packet of each must show the new one.
 */
static void step(const __u8 dmac_before[6], int before, int ret_before, void (*change)(void),
		 const __u8 dmac[6], int want, int ret_want, const char *what)
{
	static const enum th_prog progs[] = { TH_XDP, TH_TC_IN, TH_TC_FWD };
	char when[160];
	unsigned int p;

	for (p = 0; p < 3; p++) {
		int w = progs[p] == TH_TC_FWD ? ret_before : before;

		snprintf(when, sizeof(when), "before %s", what);
		if (w >= 0) {
			expect(progs[p], dmac_before, w, when);
			expect(progs[p], dmac_before, w, when); /* the copy is served now */
		}
	}
	change();
	for (p = 0; p < 3; p++) {
		int w = progs[p] == TH_TC_FWD ? ret_want : want;

		snprintf(when, sizeof(when), "first packet after %s", what);
		if (w >= 0)
			expect(progs[p], dmac, w, when);
	}
}

static void attach(enum xdpctl_fast_path fp)
{
	struct xdpctl_attach_opts o = { .sz = sizeof(o), .engine = XDPCTL_ENGINE_TC,
					.fast_path = fp };
	int err = xdpctl_dp__attach(DP, DEV, &o);

	if (err) {
		fprintf(stderr, "FAIL setup: attach: %s\n", xdpctl_dp__errmsg(DP));
		exit(1);
	}
}

static void attach_skip(void) { attach(XDPCTL_FAST_PATH_SKIP_FIREWALL); }
static void attach_ct(void) { attach(XDPCTL_FAST_PATH_CONNTRACK); }
static void detach(void)
{
	if (xdpctl_dp__detach(DP, DEV)) {
		fprintf(stderr, "FAIL setup: detach: %s\n", xdpctl_dp__errmsg(DP));
		exit(1);
	}
}

/* The device's MAC changes; the entry keeps the old one until the next attach. */
static void set_mac_b(void)
{
	if (th_cmd("ip link set " DEV " address 02:00:00:00:00:ab"))
		die("ip link set address", EIO);
}

int main(void)
{
	struct th_opts o = { .sz = sizeof(o), .keep_pins = true };
	struct xdpctl_dp_opts dpo = { .sz = sizeof(dpo) };
	cpu_set_t cpus;
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid()) {
		printf("SKIP: needs root (BPF_PROG_TEST_RUN, network namespaces)\n");
		return 77;
	}
	/* One CPU: every run below reads and fills the same per-CPU slot. */
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		die("sched_setaffinity", errno);
	err = th_enter_private_netns();
	if (err)
		die("th_enter_private_netns", err);
	if (th_cmd("ip link add " DEV " address 02:00:00:00:00:02 type veth peer name xc1 && "
		   "ip link set " DEV " up && ip link set xc1 up"))
		die("ip link add", EIO);
	/* The return path's world: the client beyond DEV, a container's veth xv0. */
	if (th_cmd("ip addr add 198.18.0.254/24 dev " DEV " && "
		   "ip neigh replace " CLIENT " lladdr 02:00:00:00:00:01 dev " DEV " nud permanent && "
		   "ip link add xv0 type veth peer name xv1 && ip link set xv0 up && "
		   "ip link set xv1 up") ||
	    th_write_file("/proc/sys/net/ipv4/conf/all/forwarding", "1"))
		die("return path setup", EIO);
	ifindex = if_nametoindex(DEV);
	if_veth = if_nametoindex("xv0");
	if (!ifindex || !if_veth)
		die("if_nametoindex", errno);
	H = th_open(&o);
	if (!H)
		die("th_open", errno);
	{
		struct xdpctl_addr a;

		if (th_addr(&a, CONT) || th_bypass_add(H, &a, if_veth, 1500, MAC_CONT, MAC_GW))
			die("th_bypass_add", EIO);
	}
	dpo.pin_dir = th_pin_dir(H);
	err = xdpctl_dp__open(&dpo, &DP);
	if (err) {
		fprintf(stderr, "FAIL setup: open %s: %s\n", dpo.pin_dir, xdpctl_dp__errmsg(NULL));
		th_close(H);
		return 1;
	}

	/* The return path: no uplink entry, not_uplink; skip-firewall, bypass; conntrack, ct_new. */
	step(MAC_A, XDPCTL_R_CT_NEW, XDPCTL_R_NOT_UPLINK, attach_skip, MAC_A, XDPCTL_R_PASS,
	     XDPCTL_R_BYPASS, "attach --fast-path skip-firewall (no entry before)");
	step(MAC_A, XDPCTL_R_PASS, -1, set_mac_b, MAC_B, XDPCTL_R_NOT_US, -1,
	     "the device's MAC changed (the entry not yet)");
	step(MAC_B, XDPCTL_R_NOT_US, -1, attach_skip, MAC_B, XDPCTL_R_PASS, -1,
	     "attach again (the entry takes the new MAC)");
	step(MAC_B, XDPCTL_R_PASS, XDPCTL_R_BYPASS, attach_ct, MAC_B, XDPCTL_R_CT_NEW,
	     XDPCTL_R_CT_NEW, "attach --fast-path conntrack (flags)");
	step(MAC_C, XDPCTL_R_NOT_US, XDPCTL_R_CT_NEW, detach, MAC_C, XDPCTL_R_CT_NEW,
	     XDPCTL_R_NOT_UPLINK, "detach (no entry: no MAC filter)");

	xdpctl_dp__close(DP);
	th_close(H);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
