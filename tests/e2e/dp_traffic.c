// SPDX-License-Identifier: GPL-2.0-only
/*
 * Real traffic through a mini lab, for both engines: a client namespace,
 * a host namespace with the uplink, a bridge and a container's host veth,
 * and the container's namespace. Ping-pong answers 5 real pings itself
 * (rule and hook counters exactly +5, the container sees none of them);
 * bypass carries real pings and a 4 MB TCP transfer each way, IPv4 and
 * IPv6, with sha256 checked, the rule's in/out counters moving, and none
 * of the flows on the bridge (a capture there, and its counters). A
 * baseline without rules shows the same checks would see the kernel path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lab.h"
#include "pass.skel.h"

#define MAC_CL "02:00:00:00:01:01"
#define MAC_UP "02:00:00:00:01:fe"
#define MAC_BR "02:00:00:00:02:01"
#define MAC_HV "02:00:00:00:02:12"
#define MAC_CT "02:00:00:00:02:02"

#define DATA_MB 4
/* pcap filter: the client<->container flows (not the link-local chatter) */
#define FLOW "host 198.18.0.1 or host 2001:db8:1::1"

static const char *client, *host, *ctr, *up, *br, *hv;
static char data[64];

static void setup(void)
{
	client = lab_netns_add("c");
	host = lab_netns_add("h");
	ctr = lab_netns_add("k");
	up = lab_name("u");
	br = lab_name("b");
	hv = lab_name("v");
	lab_veth(host, up, MAC_UP, client, "eth0", MAC_CL);
	lab_veth(host, hv, MAC_HV, ctr, "eth0", MAC_CT);
	/* The client behaves like a wire: full checksums (docs/design.md, Traps). */
	SH_OK("nsenter --net=/run/netns/%s -- ethtool -K eth0 tx off >/dev/null", client);
	SH_OK("ip -n %s addr add 198.18.0.1/24 dev eth0 && "
	      "ip -n %s addr add 2001:db8:1::1/64 dev eth0 nodad && "
	      "ip -n %s route add 198.19.0.0/24 via 198.18.0.254 && "
	      "ip -n %s route add 2001:db8:2::/64 via 2001:db8:1::fe && "
	      "ip -n %s neigh replace 198.18.0.254 lladdr %s dev eth0 nud permanent && "
	      "ip -n %s neigh replace 2001:db8:1::fe lladdr %s dev eth0 nud permanent",
	      client, client, client, client, client, MAC_UP, client, MAC_UP);
	SH_OK("ip -n %s link add %s address %s type bridge && ip -n %s link set %s up && "
	      "ip -n %s link set %s master %s && "
	      "ip -n %s addr add 198.18.0.254/24 dev %s && "
	      "ip -n %s addr add 2001:db8:1::fe/64 dev %s nodad && "
	      "ip -n %s addr add 198.19.0.1/24 dev %s && "
	      "ip -n %s addr add 2001:db8:2::1/64 dev %s nodad && "
	      "nsenter --net=/run/netns/%s -- sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 && "
	      "ip -n %s neigh replace 198.18.0.1 lladdr %s dev %s nud permanent && "
	      "ip -n %s neigh replace 2001:db8:1::1 lladdr %s dev %s nud permanent && "
	      "ip -n %s neigh replace 198.19.0.2 lladdr %s dev %s nud permanent && "
	      "ip -n %s neigh replace 2001:db8:2::2 lladdr %s dev %s nud permanent",
	      host, br, MAC_BR, host, br, host, hv, br, host, up, host, up, host, br, host, br,
	      host, host, MAC_CL, up, host, MAC_CL, up, host, MAC_CT, br, host, MAC_CT, br);
	SH_OK("ip -n %s addr add 198.19.0.2/24 dev eth0 && "
	      "ip -n %s addr add 2001:db8:2::2/64 dev eth0 nodad && "
	      "ip -n %s route add default via 198.19.0.1 && "
	      "ip -n %s route add default via 2001:db8:2::1 && "
	      "ip -n %s neigh replace 198.19.0.1 lladdr %s dev eth0 nud permanent && "
	      "ip -n %s neigh replace 2001:db8:2::1 lladdr %s dev eth0 nud permanent",
	      ctr, ctr, ctr, ctr, ctr, MAC_BR, ctr, MAC_BR);
	snprintf(data, sizeof(data), "/tmp/dp%d-data", (int)getpid());
	SH_OK("head -c %dM /dev/urandom > %s", DATA_MB, data);
	/* Both paths work through the kernel before anything is attached. */
	if (!CHECK(lab_ping(client, NULL, "198.19.0.2", 2) == 2 &&
		   lab_ping(client, NULL, "2001:db8:2::2", 2) == 2, "the lab routes"))
		exit(lab_finish());
	lab_enter(host);
}

static long long dev_stat(const char *ns, const char *dev, const char *what)
{
	/* netlink's counters: /sys/class/net under nsenter shows another namespace */
	return sh_num("ip -n %s -j -s link show dev %s | jq '.[0].stats64.%s.packets'", ns, dev,
		      what);
}

/* The client's eth0 runs the pass program while XDP_TX answers into it (docs/design.md, Traps). */
static void client_pass(bool on)
{
	struct xdpctl_pass *pass = NULL;
	int ifindex, err;

	lab_leave();
	lab_enter(client);
	ifindex = if_nametoindex("eth0");
	if (on) {
		pass = xdpctl_pass__open_and_load();
		err = pass ? bpf_xdp_attach(ifindex, bpf_program__fd(pass->progs.xdpctl_pass),
					    XDP_FLAGS_DRV_MODE, NULL) : -errno;
		xdpctl_pass__destroy(pass);
	} else {
		err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	}
	CHECK(!err, "pass program on the client %s: %d", on ? "on" : "off", err);
	lab_leave();
	lab_enter(host);
}

/* 5 real pings answered at the hook; the container sees none. */
static void test_pingpong(struct xdpctl_dp *dp, enum xdpctl_engine e, const char *addr)
{
	unsigned int hook = e == XDPCTL_ENGINE_XDP ? XDPCTL_HOOK_XDP : XDPCTL_HOOK_TC_IN;
	bool v6 = strchr(addr, ':');
	struct xdpctl_addr a = lab_addr(addr);
	long long echos0;
	unsigned long long st0;
	long seen;
	pid_t cap;
	int got;

	CHECK_RET(dp, xdpctl_dp__pingpong_add(dp, &a, 0), 0);
	echos0 = v6 ? lab_snmp(ctr, "Icmp6InEchos", NULL) : lab_snmp(ctr, "Icmp", "InEchos");
	cap = lab_capture_start(ctr, "eth0", v6 ? "icmp6 and ip6[40] == 128" : "icmp[icmptype] == icmp-echo");
	CHECK(cap > 0, "capture on the container's eth0");
	st0 = lab_stat(dp, hook, XDPCTL_R_PINGPONG);
	got = lab_ping(client, NULL, addr, 5);
	seen = lab_capture_stop(cap);
	CHECK(got == 5, "%s %s: 5 echo replies (%d)", xdpctl_engine_name(e), addr, got);
	CHECK(seen == 0, "%s %s: no echo request reached the container's eth0 (%ld)",
	      xdpctl_engine_name(e), addr, seen);
	CHECK(lab_pp_packets(dp, addr) == 5, "%s %s: rule counted exactly 5 (%llu)",
	      xdpctl_engine_name(e), addr, lab_pp_packets(dp, addr));
	CHECK(lab_stat(dp, hook, XDPCTL_R_PINGPONG) - st0 == 5, "%s %s: %s ping-pong +5 (%llu)",
	      xdpctl_engine_name(e), addr, xdpctl_hook_name(hook),
	      lab_stat(dp, hook, XDPCTL_R_PINGPONG) - st0);
	CHECK((v6 ? lab_snmp(ctr, "Icmp6InEchos", NULL) : lab_snmp(ctr, "Icmp", "InEchos")) == echos0,
	      "%s %s: the container got no echo request", xdpctl_engine_name(e), addr);
	CHECK_RET(dp, xdpctl_dp__pingpong_del(dp, &a), 0);
}

/* Copy the data file over TCP from one namespace to the other; sha256 must match. */
static bool transfer(const char *from, const char *to, bool v6, int port, const char *tag)
{
	char out[96], sum_in[128], sum_out[128];
	pid_t srv;
	int i, rc;

	snprintf(out, sizeof(out), "/tmp/dp%d-%s", (int)getpid(), tag);
	srv = sh_bg("exec nsenter --net=/run/netns/%s -- socat -u %s:%d,reuseaddr OPEN:%s,creat,trunc", to,
		    v6 ? "TCP6-LISTEN" : "TCP4-LISTEN", port, out);
	for (i = 0; i < 50 && sh_q("nsenter --net=/run/netns/%s -- ss -Hltn 'sport = :%d' | grep -q LISTEN", to, port);
	     i++)
		usleep(100 * 1000);
	rc = sh("nsenter --net=/run/netns/%s -- timeout 30 socat -u OPEN:%s %s:%s:%d", from, data,
		v6 ? "TCP6" : "TCP4",
		v6 ? (from == client ? "[2001:db8:2::2]" : "[2001:db8:1::1]") :
		     (from == client ? "198.19.0.2" : "198.18.0.1"), port);
	if (sh_wait(srv, 30)) {
		sh_kill(srv);
		return CHECK(0, "%s: the receiver did not finish", tag);
	}
	sh_out(sum_in, sizeof(sum_in), "sha256sum < %s", data);
	sh_out(sum_out, sizeof(sum_out), "sha256sum < %s", out);
	return CHECK(!rc && !strcmp(sum_in, sum_out), "%s: %d MB arrived whole (sha256 %.16s vs %.16s)",
		     tag, DATA_MB, sum_in, sum_out);
}

static void rule_counts(struct xdpctl_dp *dp, const char *addr, __u64 *in, __u64 *out)
{
	struct xdpctl_addr a = lab_addr(addr);
	struct xdpctl_bypass_rule r = {};

	CHECK_RET(dp, xdpctl_dp__bypass_get(dp, &a, &r), 0);
	*in = r.in_packets;
	*out = r.out_packets;
}

/* Pings and TCP both ways through the bypass; the bridge sees none of it. */
static void test_bypass(struct xdpctl_dp *dp, enum xdpctl_engine e, const char *addr, int port)
{
	XDPCTL_OPTS(xdpctl_bypass_opts, o, .dev = hv);
	struct xdpctl_addr a = lab_addr(addr);
	const char *en = xdpctl_engine_name(e);
	bool v6 = strchr(addr, ':');
	unsigned int hook = e == XDPCTL_ENGINE_XDP ? XDPCTL_HOOK_XDP : XDPCTL_HOOK_TC_IN;
	unsigned long long fwd_by, up_by;
	long long brx, btx;
	long seen;
	pid_t cap;
	__u64 in0, out0, in1, out1;
	char tag[32];
	int got;

	CHECK_RET(dp, xdpctl_dp__bypass_add(dp, &a, &o), 0);
	rule_counts(dp, addr, &in0, &out0);
	cap = lab_capture_start(host, br, FLOW);
	CHECK(cap > 0, "capture on the bridge");
	brx = dev_stat(host, br, "rx");
	btx = dev_stat(host, br, "tx");
	up_by = lab_stat(dp, hook, XDPCTL_R_BYPASS);
	fwd_by = lab_stat(dp, XDPCTL_HOOK_TC_FWD, XDPCTL_R_BYPASS);
	got = lab_ping(client, NULL, addr, 5);
	CHECK(got == 5, "%s %s: 5 pings through the bypass (%d)", en, addr, got);
	rule_counts(dp, addr, &in1, &out1);
	CHECK(in1 - in0 == 5 && out1 - out0 == 5, "%s %s: rule in +%llu out +%llu, expected 5 and 5",
	      en, addr, (unsigned long long)(in1 - in0), (unsigned long long)(out1 - out0));

	snprintf(tag, sizeof(tag), "%s-%s-in", en, v6 ? "v6" : "v4");
	transfer(client, ctr, v6, port, tag);
	snprintf(tag, sizeof(tag), "%s-%s-out", en, v6 ? "v6" : "v4");
	transfer(ctr, client, v6, port + 1, tag);
	rule_counts(dp, addr, &in0, &out0);
	/* 4 MB each way: at least that many full frames in the data's direction. */
	CHECK(in0 - in1 >= DATA_MB * 1024 * 1024 / 1500 && out0 - out1 >= DATA_MB * 1024 * 1024 / 65536,
	      "%s %s: TCP through the rule (in +%llu, out +%llu packets)", en, addr,
	      (unsigned long long)(in0 - in1), (unsigned long long)(out0 - out1));
	brx = dev_stat(host, br, "rx") - brx;
	btx = dev_stat(host, br, "tx") - btx;
	seen = lab_capture_stop(cap);
	up_by = lab_stat(dp, hook, XDPCTL_R_BYPASS) - up_by;
	fwd_by = lab_stat(dp, XDPCTL_HOOK_TC_FWD, XDPCTL_R_BYPASS) - fwd_by;
	CHECK(up_by >= in0 - in1 && fwd_by >= out0 - out1, "%s %s: the hooks counted the bypass",
	      en, addr);
	printf("  %s %s: 5/5 pings, %d MB TCP each way intact; rule in +%llu out +%llu packets; bridge capture %ld, counters rx +%lld tx +%lld\n",
	       en, addr, DATA_MB, (unsigned long long)(in0 - in1 + 5),
	       (unsigned long long)(out0 - out1 + 5), seen, brx, btx);
	/* None of the flow on the bridge, either way. */
	CHECK(seen == 0, "%s %s: %ld packets of the flow crossed the bridge", en, addr, seen);
	/*
	 * Its counters: the container's and the host's own link-local
	 * multicast (MLD reports, router solicitations) still goes there,
	 * a few frames; the flow was thousands (in +%llu, out +%llu).
	 */
	CHECK(brx < 16 && btx < 16, "%s %s: the bridge's counters stood still (rx +%lld, tx +%lld) while %llu+%llu packets were bypassed",
	      en, addr, brx, btx, (unsigned long long)(in0 - in1 + 5), (unsigned long long)(out0 - out1 + 5));
	CHECK_RET(dp, xdpctl_dp__bypass_del(dp, &a), 0);
}

/* Without rules the same traffic goes through the bridge: the check above can fail. */
static void test_baseline(void)
{
	long long brx = dev_stat(host, br, "rx"), btx = dev_stat(host, br, "tx");
	pid_t cap = lab_capture_start(host, br, FLOW);
	long seen;

	CHECK(lab_ping(client, NULL, "198.19.0.2", 3) == 3, "baseline pings");
	CHECK(lab_ping(client, NULL, "2001:db8:2::2", 3) == 3, "baseline pings v6");
	seen = lab_capture_stop(cap);
	CHECK(seen == 12, "baseline: the capture sees the 12 packets on the bridge (%ld)", seen);
	CHECK(dev_stat(host, br, "rx") - brx >= 6 && dev_stat(host, br, "tx") - btx >= 6,
	      "baseline: the bridge's counters carry the kernel path (rx +%lld, tx +%lld)",
	      dev_stat(host, br, "rx") - brx, dev_stat(host, br, "tx") - btx);
}

int main(void)
{
	static const enum xdpctl_engine engines[] = { XDPCTL_ENGINE_XDP, XDPCTL_ENGINE_TC };
	struct xdpctl_dp *dp;
	unsigned int i;

	lab_init("dp_traffic");
	if (sh_q("command -v socat && command -v ethtool && command -v sha256sum && command -v tcpdump")) {
		printf("SKIP dp_traffic: needs socat, ethtool, sha256sum, tcpdump\n");
		return 77;
	}
	setup();
	dp = lab_open(1024);
	test_baseline();
	for (i = 0; i < 2; i++) {
		/* The per-address bypass (the lab's host has no NAT, no conntrack to follow). */
		XDPCTL_OPTS(xdpctl_attach_opts, o, .engine = engines[i],
			    .fast_path = XDPCTL_FAST_PATH_SKIP_FIREWALL);

		if (!CHECK_RET(dp, xdpctl_dp__attach(dp, up, &o), 0))
			continue;
		if (engines[i] == XDPCTL_ENGINE_XDP)
			client_pass(true);
		test_pingpong(dp, engines[i], "198.19.0.2");
		test_pingpong(dp, engines[i], "2001:db8:2::2");
		if (engines[i] == XDPCTL_ENGINE_XDP)
			client_pass(false);
		test_bypass(dp, engines[i], "198.19.0.2", 5001 + 10 * i);
		test_bypass(dp, engines[i], "2001:db8:2::2", 5003 + 10 * i);
		CHECK_RET(dp, xdpctl_dp__detach(dp, up), 0);
	}
	test_baseline();
	xdpctl_dp__close(dp);
	return lab_finish();
}
