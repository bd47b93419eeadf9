// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attach and detach on a real veth in a namespace: XDP native and generic
 * and the tc engine, each leaving `ip -d link`, `tc qdisc` and `tc filter`
 * exactly as they were; a clsact qdisc that was there (or that another
 * filter uses) stays; re-attach keeps rules and counters, counted by real
 * pings; beside xdp-filter: -EBUSY without force, the tc engine works next
 * to it, and xdp-filter still filters after our detach.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lab.h"
#include "pass.skel.h"

#define MAC_UP "02:00:00:00:01:fe"
#define MAC_CL "02:00:00:00:01:01"

static const char *host, *client, *up;

struct snap {
	char link[4096], qdisc[2048], fin[2048], feg[2048];
};

static void take(struct snap *s)
{
	sh_out(s->link, sizeof(s->link), "ip -n %s -d link show dev %s", host, up);
	sh_out(s->qdisc, sizeof(s->qdisc), "tc -n %s qdisc show dev %s", host, up);
	sh_out(s->fin, sizeof(s->fin), "tc -n %s filter show dev %s ingress", host, up);
	sh_out(s->feg, sizeof(s->feg), "tc -n %s filter show dev %s egress", host, up);
}

static bool same(const struct snap *a, const struct snap *b, const char *what)
{
	bool ok = true;

	ok &= CHECK(!strcmp(a->link, b->link), "%s: ip -d link differs:\n%s\n---\n%s", what,
		    a->link, b->link);
	ok &= CHECK(!strcmp(a->qdisc, b->qdisc), "%s: tc qdisc differs:\n%s\n---\n%s", what,
		    a->qdisc, b->qdisc);
	ok &= CHECK(!strcmp(a->fin, b->fin), "%s: ingress filters differ:\n%s\n---\n%s", what,
		    a->fin, b->fin);
	ok &= CHECK(!strcmp(a->feg, b->feg), "%s: egress filters differ:\n%s\n---\n%s", what,
		    a->feg, b->feg);
	return ok;
}

static void setup(void)
{
	struct xdpctl_pass *pass;
	int ifindex;

	host = lab_netns_add("h");
	client = lab_netns_add("c");
	up = lab_name("u");
	lab_veth(host, up, MAC_UP, client, "eth0", MAC_CL);
	SH_OK("ip -n %s addr add 198.18.0.254/24 dev %s && "
	      "ip -n %s addr add 2001:db8:1::fe/64 dev %s nodad && "
	      "ip -n %s addr add 198.18.0.1/24 dev eth0 && "
	      "ip -n %s addr add 198.18.0.99/24 dev eth0 && "
	      "ip -n %s addr add 2001:db8:1::1/64 dev eth0 nodad && "
	      "ip -n %s neigh replace 198.18.0.1 lladdr %s dev %s nud permanent && "
	      "ip -n %s neigh replace 198.18.0.99 lladdr %s dev %s nud permanent && "
	      "ip -n %s neigh replace 2001:db8:1::1 lladdr %s dev %s nud permanent && "
	      "ip -n %s neigh replace 198.18.0.254 lladdr %s dev eth0 nud permanent && "
	      "ip -n %s neigh replace 2001:db8:1::fe lladdr %s dev eth0 nud permanent",
	      host, up, host, up, client, client, client,
	      host, MAC_CL, up, host, MAC_CL, up, host, MAC_CL, up,
	      client, MAC_UP, client, MAC_UP);
	/*
	 * XDP_TX back into a veth stalls unless the peer runs an XDP program
	 * (docs/design.md, Traps): the client's end gets the pass program, as a wire.
	 */
	lab_enter(client);
	pass = xdpctl_pass__open_and_load();
	ifindex = if_nametoindex("eth0");
	if (!CHECK(pass && ifindex && !bpf_xdp_attach(ifindex, bpf_program__fd(pass->progs.xdpctl_pass),
						      XDP_FLAGS_DRV_MODE, NULL),
		   "pass program on the client's eth0"))
		exit(lab_finish());
	xdpctl_pass__destroy(pass);
	lab_leave();
	lab_enter(host);
}

static bool attach_ok(struct xdpctl_dp *dp, enum xdpctl_engine e, enum xdpctl_mode m, bool force)
{
	XDPCTL_OPTS(xdpctl_attach_opts, o, .engine = e, .mode = m, .force = force);
	int r = xdpctl_dp__attach(dp, up, &o);

	return CHECK(!r, "attach engine %s mode %s: %d %s", xdpctl_engine_name(e),
		     xdpctl_mode_name(m), r, xdpctl_dp__errmsg(dp));
}

/* Each engine and mode: status while attached, and nothing left after detach. */
static void test_attach_detach(struct xdpctl_dp *dp)
{
	static const struct {
		enum xdpctl_engine e;
		enum xdpctl_mode m;
		enum xdpctl_mode want;
	} cases[] = {
		{ XDPCTL_ENGINE_XDP, XDPCTL_MODE_NATIVE, XDPCTL_MODE_NATIVE },
		{ XDPCTL_ENGINE_XDP, XDPCTL_MODE_GENERIC, XDPCTL_MODE_GENERIC },
		{ XDPCTL_ENGINE_XDP, XDPCTL_MODE_AUTO, XDPCTL_MODE_NATIVE },
		{ XDPCTL_ENGINE_TC, XDPCTL_MODE_AUTO, XDPCTL_MODE_AUTO },
		/* auto on a veth uplink: tc (XDP would copy every cloned skb) */
		{ XDPCTL_ENGINE_AUTO, XDPCTL_MODE_AUTO, XDPCTL_MODE_AUTO },
	};
	struct snap before, after;
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum xdpctl_engine eff = cases[i].e == XDPCTL_ENGINE_XDP ? XDPCTL_ENGINE_XDP :
									   XDPCTL_ENGINE_TC;
		bool tcp_to_tc = false; /* only on non-veth uplinks, which the lab has none of */
		struct xdpctl_dev_status st;
		char what[64], link[4096];

		snprintf(what, sizeof(what), "engine %s mode %s", xdpctl_engine_name(cases[i].e),
			 xdpctl_mode_name(cases[i].m));
		take(&before);
		if (!attach_ok(dp, cases[i].e, cases[i].m, false))
			continue;
		CHECK_RET(dp, xdpctl_dp__dev_status(dp, up, &st), 0);
		CHECK(st.present && (st.flags & XDPCTL_IF_UPLINK) && st.engine == eff &&
		      !!(st.flags & XDPCTL_IF_TCP_TO_TC) == tcp_to_tc &&
		      !memcmp(st.mac, "\x02\x00\x00\x00\x01\xfe", 6), "%s: status flags 0x%x engine %s",
		      what, st.flags, xdpctl_engine_name(st.engine));
		CHECK(st.tc_prog_id && st.tc_prog_id == lab_tc_id(host, up, "xdpctl_tc_in"),
		      "%s: tc program %u as tc shows (%u)", what, st.tc_prog_id,
		      lab_tc_id(host, up, "xdpctl_tc_in"));
		sh_out(link, sizeof(link), "ip -n %s -d link show dev %s", host, up);
		if (eff != XDPCTL_ENGINE_TC) {
			CHECK(st.xdp_prog_id && st.xdp_prog_id == lab_xdp_id(host, up),
			      "%s: XDP program %u as ip shows (%u)", what, st.xdp_prog_id,
			      lab_xdp_id(host, up));
			CHECK(st.xdp_mode == cases[i].want, "%s: mode %s", what,
			      xdpctl_mode_name(st.xdp_mode));
			CHECK(strstr(link, cases[i].want == XDPCTL_MODE_GENERIC ? "> mtu 1500 xdpgeneric " :
										  "> mtu 1500 xdp "),
			      "%s: ip shows the mode:\n%s", what, link);
			CHECK(!st.dispatcher && !strcmp(st.xdp_path, "libxdp"),
			      "%s: attached by libxdp without dispatcher (%s)", what, st.xdp_path);
		} else {
			CHECK(!st.xdp_prog_id && !lab_xdp_id(host, up), "%s: no XDP program", what);
		}
		CHECK_RET(dp, xdpctl_dp__detach(dp, up), 0);
		take(&after);
		same(&before, &after, what);
		CHECK_RET(dp, xdpctl_dp__dev_status(dp, up, &st), -ENOENT);
		CHECK_RET(dp, xdpctl_dp__detach(dp, up), -ENOENT);
	}
}

/* A clsact that was there stays; one we made stays while another filter uses it. */
static void test_clsact(struct xdpctl_dp *dp)
{
	struct snap before, after;

	SH_OK("tc -n %s qdisc add dev %s clsact", host, up);
	take(&before);
	if (attach_ok(dp, XDPCTL_ENGINE_TC, XDPCTL_MODE_AUTO, false)) {
		CHECK_RET(dp, xdpctl_dp__detach(dp, up), 0);
		take(&after);
		same(&before, &after, "clsact that was there");
	}
	SH_OK("tc -n %s qdisc del dev %s clsact", host, up);

	take(&before);
	if (attach_ok(dp, XDPCTL_ENGINE_TC, XDPCTL_MODE_AUTO, false)) {
		SH_OK("tc -n %s filter add dev %s egress prio 7 bpf bytecode '1,6 0 0 4294967295,' classid 1:1",
		      host, up);
		CHECK_RET(dp, xdpctl_dp__detach(dp, up), 0);
		CHECK(!sh("tc -n %s filter show dev %s egress | grep -q 'pref 7 bpf'", host, up),
		      "the other filter stays");
		CHECK(!lab_tc_id(host, up, "xdpctl_tc_in"), "our filter went");
		SH_OK("tc -n %s qdisc del dev %s clsact", host, up);
		take(&after);
		same(&before, &after, "clsact another filter used");
	}
}

/* Re-attach keeps rules and counters; the program is replaced. */
static void test_reattach(struct xdpctl_dp *dp)
{
	struct xdpctl_addr me = lab_addr("198.18.0.254");
	struct xdpctl_dev_status st;
	unsigned long long xdp0, tc0;
	long long echos0;
	__u32 id1;

	xdp0 = lab_stat(dp, XDPCTL_HOOK_XDP, XDPCTL_R_PINGPONG);
	tc0 = lab_stat(dp, XDPCTL_HOOK_TC_IN, XDPCTL_R_PINGPONG);
	echos0 = lab_snmp(host, "Icmp", "InEchos");
	if (!attach_ok(dp, XDPCTL_ENGINE_XDP, XDPCTL_MODE_NATIVE, false))
		return;
	CHECK_RET(dp, xdpctl_dp__pingpong_add(dp, &me, 0), 0);
	CHECK(lab_ping(client, NULL, "198.18.0.254", 3) == 3, "3 pings answered");
	CHECK(lab_stat(dp, XDPCTL_HOOK_XDP, XDPCTL_R_PINGPONG) - xdp0 == 3, "XDP ping-pong +3 (%llu)",
	      lab_stat(dp, XDPCTL_HOOK_XDP, XDPCTL_R_PINGPONG) - xdp0);
	CHECK(lab_pp_packets(dp, "198.18.0.254") == 3, "rule counted 3 (%llu)",
	      lab_pp_packets(dp, "198.18.0.254"));
	CHECK(lab_snmp(host, "Icmp", "InEchos") == echos0, "the host's stack saw no echo request");

	xdpctl_dp__dev_status(dp, up, &st);
	id1 = st.xdp_prog_id;
	if (attach_ok(dp, XDPCTL_ENGINE_XDP, XDPCTL_MODE_AUTO, false)) {
		xdpctl_dp__dev_status(dp, up, &st);
		CHECK(st.xdp_prog_id && st.xdp_prog_id != id1 && st.xdp_prog_id == lab_xdp_id(host, up),
		      "re-attach: new program %u (was %u)", st.xdp_prog_id, id1);
		CHECK(st.xdp_mode == XDPCTL_MODE_NATIVE && !strcmp(st.xdp_path, "bpf_xdp_attach"),
		      "re-attach kept native mode, replaced by bpf_xdp_attach (%s)", st.xdp_path);
		CHECK(lab_pp_packets(dp, "198.18.0.254") == 3 &&
		      lab_stat(dp, XDPCTL_HOOK_XDP, XDPCTL_R_PINGPONG) - xdp0 == 3,
		      "rule and counters kept");
		CHECK(lab_ping(client, NULL, "198.18.0.254", 2) == 2, "2 more pings answered");
		CHECK(lab_pp_packets(dp, "198.18.0.254") == 5, "rule counts on (5: %llu)",
		      lab_pp_packets(dp, "198.18.0.254"));
	}
	/* Mode switch: not atomic, but ends in generic mode with the rules. */
	if (attach_ok(dp, XDPCTL_ENGINE_XDP, XDPCTL_MODE_GENERIC, false)) {
		xdpctl_dp__dev_status(dp, up, &st);
		CHECK(st.xdp_mode == XDPCTL_MODE_GENERIC && st.xdp_prog_id == lab_xdp_id(host, up),
		      "now generic");
		CHECK(lab_ping(client, NULL, "198.18.0.254", 2) == 2, "answered in generic mode");
		CHECK(lab_pp_packets(dp, "198.18.0.254") == 7, "rule counts on (7: %llu)",
		      lab_pp_packets(dp, "198.18.0.254"));
	}
	/* Engine switch: our XDP program goes, tc answers. */
	if (attach_ok(dp, XDPCTL_ENGINE_TC, XDPCTL_MODE_AUTO, false)) {
		xdpctl_dp__dev_status(dp, up, &st);
		CHECK(!lab_xdp_id(host, up) && !st.xdp_prog_id && st.engine == XDPCTL_ENGINE_TC,
		      "engine tc: no XDP program");
		CHECK(lab_ping(client, NULL, "198.18.0.254", 2) == 2, "answered by tc");
		CHECK(lab_stat(dp, XDPCTL_HOOK_TC_IN, XDPCTL_R_PINGPONG) - tc0 == 2,
		      "tc ping-pong +2 (%llu)", lab_stat(dp, XDPCTL_HOOK_TC_IN, XDPCTL_R_PINGPONG) - tc0);
		CHECK(lab_pp_packets(dp, "198.18.0.254") == 9, "rule counts on (9: %llu)",
		      lab_pp_packets(dp, "198.18.0.254"));
	}
	CHECK(lab_snmp(host, "Icmp", "InEchos") == echos0, "the host's stack saw none of them");
	CHECK_RET(dp, xdpctl_dp__detach(dp, up), 0);
	CHECK(!lab_xdp_id(host, up) && !lab_tc_id(host, up, "xdpctl_tc_in"), "all gone");
	CHECK(lab_ping(client, NULL, "198.18.0.254", 2) == 2, "the stack answers after detach");
	CHECK(lab_snmp(host, "Icmp", "InEchos") == echos0 + 2, "the stack saw 2 echo requests");
	CHECK_RET(dp, xdpctl_dp__pingpong_del(dp, &me), 0);
}

/* Beside xdp-filter: refuse without force, tc engine beside it, it still works after. */
static void test_xdp_filter(struct xdpctl_dp *dp)
{
	struct xdpctl_addr me = lab_addr("198.18.0.254");
	struct snap before, after;
	struct xdpctl_dev_status st;
	unsigned long long tc0;
	unsigned int theirs;
	char want[128];

	if (sh("command -v xdp-filter >/dev/null")) {
		printf("SKIP part: xdp-filter not installed\n");
		return;
	}
	lab_on_cleanup("nsenter --net=/run/netns/%s xdp-filter unload %s; "
		       "rm -rf /sys/fs/bpf/xdp-filter/programs/%s; "
		       "rmdir /sys/fs/bpf/xdp-filter/programs && rm -rf /sys/fs/bpf/xdp-filter",
		       host, up, up);
	if (!SH_OK("nsenter --net=/run/netns/%s xdp-filter load %s --policy allow --mode native && "
		   "nsenter --net=/run/netns/%s xdp-filter ip 198.18.0.99 --mode src", host, up, host))
		return;
	theirs = lab_xdp_id(host, up);
	CHECK(theirs, "xdp-filter loaded");
	CHECK(lab_ping(client, NULL, "198.18.0.254", 2) == 2, "xdp-filter passes 198.18.0.1");
	CHECK(lab_ping(client, "-I 198.18.0.99", "198.18.0.254", 2) == 0,
	      "xdp-filter drops 198.18.0.99");

	take(&before);
	{
		XDPCTL_OPTS(xdpctl_attach_opts, o, .engine = XDPCTL_ENGINE_XDP);

		CHECK_RET(dp, xdpctl_dp__attach(dp, up, &o), -EBUSY);
		snprintf(want, sizeof(want), "%s has XDP program xdpfilt_alw_all (id %u)", up, theirs);
		CHECK(!strcmp(xdpctl_dp__errmsg(dp), want), "errmsg '%s', expected '%s'",
		      xdpctl_dp__errmsg(dp), want);
		CHECK(xdpctl_dp__errkind(dp) == XDPCTL_ERR_BUSY_XDP &&
		      !strcmp(xdpctl_dp__errobj(dp), up), "kind busy by XDP (%d), object %s",
		      xdpctl_dp__errkind(dp), xdpctl_dp__errobj(dp));
	}
	take(&after);
	same(&before, &after, "refused attach");
	CHECK_RET(dp, xdpctl_dp__dev_status(dp, up, &st), -ENOENT);

	/* The tc engine beside it. */
	tc0 = lab_stat(dp, XDPCTL_HOOK_TC_IN, XDPCTL_R_PINGPONG);
	CHECK_RET(dp, xdpctl_dp__pingpong_add(dp, &me, XDPCTL_HOOKBIT_TC), 0);
	if (attach_ok(dp, XDPCTL_ENGINE_TC, XDPCTL_MODE_AUTO, false)) {
		CHECK(lab_xdp_id(host, up) == theirs, "xdp-filter still there");
		CHECK(lab_ping(client, NULL, "198.18.0.254", 3) == 3, "tc answers beside xdp-filter");
		CHECK(lab_stat(dp, XDPCTL_HOOK_TC_IN, XDPCTL_R_PINGPONG) - tc0 == 3,
		      "tc ping-pong +3 (%llu)", lab_stat(dp, XDPCTL_HOOK_TC_IN, XDPCTL_R_PINGPONG) - tc0);
		CHECK(lab_ping(client, "-I 198.18.0.99", "198.18.0.254", 2) == 0,
		      "xdp-filter still drops 198.18.0.99");
		CHECK_RET(dp, xdpctl_dp__detach(dp, up), 0);
	}
	take(&after);
	same(&before, &after, "tc engine beside xdp-filter, detached");
	CHECK(lab_xdp_id(host, up) == theirs, "xdp-filter still loaded after our detach");
	CHECK(lab_ping(client, "-I 198.18.0.99", "198.18.0.254", 2) == 0,
	      "xdp-filter still drops 198.18.0.99 after our detach");
	CHECK(lab_ping(client, NULL, "198.18.0.254", 2) == 2, "and passes 198.18.0.1");

	/* --force displaces it (atomically), and detach leaves no XDP program. */
	if (attach_ok(dp, XDPCTL_ENGINE_XDP, XDPCTL_MODE_AUTO, true)) {
		xdpctl_dp__dev_status(dp, up, &st);
		CHECK(st.xdp_prog_id && st.xdp_prog_id == lab_xdp_id(host, up) && st.xdp_prog_id != theirs,
		      "forced: ours (%u) in place of xdp-filter (%u)", st.xdp_prog_id, theirs);
		CHECK(lab_ping(client, "-I 198.18.0.99", "198.18.0.254", 2) == 2,
		      "198.18.0.99 answered once xdp-filter is displaced");
		CHECK_RET(dp, xdpctl_dp__detach(dp, up), 0);
		CHECK(!lab_xdp_id(host, up), "no XDP program after detach");
	}
	CHECK_RET(dp, xdpctl_dp__pingpong_del(dp, &me), 0);
}

int main(void)
{
	struct xdpctl_dp *dp;

	lab_init("dp_attach");
	setup();
	dp = lab_open(1024);
	CHECK_RET(dp, xdpctl_dp__attach(dp, "dpnosuchdev0", NULL), -ENODEV);
	CHECK(!strcmp(xdpctl_dp__errmsg(dp), "no such device: dpnosuchdev0"), "errmsg: %s",
	      xdpctl_dp__errmsg(dp));
	CHECK(xdpctl_dp__errkind(dp) == XDPCTL_ERR_NO_DEVICE &&
	      !strcmp(xdpctl_dp__errobj(dp), "dpnosuchdev0"), "kind no device (%d), object %s",
	      xdpctl_dp__errkind(dp), xdpctl_dp__errobj(dp));
	test_attach_detach(dp);
	test_clsact(dp);
	test_reattach(dp);
	test_xdp_filter(dp);
	xdpctl_dp__close(dp);
	return lab_finish();
}
