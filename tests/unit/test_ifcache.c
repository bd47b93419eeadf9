// SPDX-License-Identifier: GPL-2.0-only
/*
 * The programs' per-CPU copy of the uplink's ifaces entry (bpf/lib/entry.h,
 * iface_cached) is never served stale: a change of the entry made by the
 * dataplane library (the code behind `xdpctl attach` / `xdpctl detach`)
 * takes effect on the very next packet after the call returns, for
 * xdpctl_xdp and xdpctl_tc_in.
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
static const __u8 MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x02 }; /* PB_MAC_HOST: the frames' default */
static const __u8 MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xab }; /* the device's MAC after the change */
static const __u8 MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x99 }; /* nobody's */

static struct th *H;
static struct xdpctl_dp *DP;
static __u32 ifindex;
static int n_fail, n_pass;

static void die(const char *what, int err)
{
	fprintf(stderr, "FAIL setup: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* Run @prog once on a UDP frame to @dmac; the reason counted for it, or -1. */
static int reason_of(enum th_prog prog, const __u8 dmac[6])
{
	__u8 frame[PB_MAX_FRAME];
	struct th_stats before, after, d;
	struct th_run r = {};
	enum xdpctl_hook hook = th_prog_hook(prog);
	struct pb_spec s;
	int len, reason, found = -1;

	if (pb_udp(&s, "198.18.0.1", "198.19.0.9"))
		die("pb_udp", EINVAL);
	memcpy(s.dmac, dmac, 6);
	len = pb_build(&s, frame, sizeof(frame));
	if (len < 0)
		die("pb_build", len);
	if (th_stats_read(H, &before))
		die("th_stats_read", errno);
	r.in = frame;
	r.in_len = len;
	r.ifindex = ifindex;
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

/* Both programs: the old behaviour first (it fills the slot), then the change, then the new. */
static void step(const __u8 dmac_before[6], int before, void (*change)(void), const __u8 dmac[6],
		 int want, const char *what)
{
	char when[160];
	int p;

	for (p = 0; p < 2; p++) {
		enum th_prog prog = p ? TH_TC_IN : TH_XDP;

		snprintf(when, sizeof(when), "before %s", what);
		expect(prog, dmac_before, before, when);
		expect(prog, dmac_before, before, when); /* the copy is served now */
	}
	change();
	for (p = 0; p < 2; p++) {
		enum th_prog prog = p ? TH_TC_IN : TH_XDP;

		snprintf(when, sizeof(when), "first packet after %s", what);
		expect(prog, dmac, want, when);
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
	ifindex = if_nametoindex(DEV);
	if (!ifindex)
		die("if_nametoindex", errno);
	H = th_open(&o);
	if (!H)
		die("th_open", errno);
	dpo.pin_dir = th_pin_dir(H);
	err = xdpctl_dp__open(&dpo, &DP);
	if (err) {
		fprintf(stderr, "FAIL setup: open %s: %s\n", dpo.pin_dir, xdpctl_dp__errmsg(NULL));
		th_close(H);
		return 1;
	}

	step(MAC_A, XDPCTL_R_CT_NEW, attach_skip, MAC_A, XDPCTL_R_PASS,
	     "attach --fast-path skip-firewall (no entry before)");
	step(MAC_A, XDPCTL_R_PASS, set_mac_b, MAC_B, XDPCTL_R_NOT_US,
	     "the device's MAC changed (entry not yet)");
	step(MAC_B, XDPCTL_R_NOT_US, attach_skip, MAC_B, XDPCTL_R_PASS,
	     "attach again (the entry takes the new MAC)");
	step(MAC_B, XDPCTL_R_PASS, attach_ct, MAC_B, XDPCTL_R_CT_NEW,
	     "attach --fast-path conntrack (flags)");
	step(MAC_C, XDPCTL_R_NOT_US, detach, MAC_C, XDPCTL_R_CT_NEW,
	     "detach (no entry: no MAC filter)");

	xdpctl_dp__close(DP);
	th_close(H);
	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
