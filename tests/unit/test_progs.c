// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of xdpctl_xdp, xdpctl_tc_in and xdpctl_tc_fwd through
 * BPF_PROG_TEST_RUN: one table row per case (description, how the input
 * was made, program, expected verdict, expected output bytes built from
 * scratch by the packet builder, expected reason), and for every row the
 * counter deltas (RX +1 and exactly one reason +1, with bytes; rule
 * counters) and no trace event while tracing is off. Then trace cases
 * with tracing on. Runs in a private network namespace with two veth
 * pairs; prints one PASS/FAIL line per case; exit 1 on any failure, 77
 * when not root.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "pkt.h"
#include "ct_inject.skel.h"

/* Addresses of the test world: index 0 IPv4, 1 IPv6. */
static const char *const CLIENT[2] = { "198.18.0.1", "2001:db8:18::1" };
static const char *const PP[2] = { "198.19.0.2", "2001:db8:19::2" };    /* ping-pong, xdp+tc */
static const char *const PPX[2] = { "198.19.0.4", "2001:db8:19::4" };   /* ping-pong, xdp only */
static const char *const PPT[2] = { "198.19.0.5", "2001:db8:19::5" };   /* ping-pong, tc only */
static const char *const BY[2] = { "198.19.0.3", "2001:db8:19::3" };    /* bypass, MTU 1500 */
static const char *const BYS[2] = { "198.19.0.6", "2001:db8:19::6" };   /* bypass, MTU 100 */
static const char *const BYX[2] = { "198.19.0.7", "2001:db8:19::7" };   /* bypass, no devmap entry */
static const char *const UNK[2] = { "198.19.0.9", "2001:db8:19::9" };   /* nothing configured */
static const char *const FAR[2] = { "198.18.1.1", "2001:db8:181::1" };  /* routed via a non-uplink */
static const char *const NOWHERE[2] = { "198.18.7.7", "2001:db8:77::7" }; /* no route */
static const char *const PUB[2] = { "198.18.0.254", "2001:db8:18::fe" }; /* the host, xu0 */
/* Ports of the injected conntrack entries (host order). */
#define P_CLIENT  4242  /* pb_udp's source port */
#define P_CLIENT2 4243  /* entry without a reply seen */
#define P_CLIENT3 4244  /* entry to no container */
#define P_CLIENT4 4245  /* no entry at all */
#define P_PUB     8080  /* the published port */
#define P_CONT    53    /* the container's port (pb_udp's destination port) */
#define P_CONT_TCP 80   /* the container's TCP port (pb_tcp's destination port) */
#define P_MASQ_IN 5000  /* a container-initiated flow's source port */
#define P_MASQ    40000 /* its MASQUERADE port */

static const __u8 MAC_CONT[6] = { 0x02, 0, 0, 0, 0, 0xc3 };  /* container (veth peer) */
static const __u8 MAC_GW[6] = { 0x02, 0, 0, 0, 0, 0xc1 };    /* container's gateway */
static const __u8 MAC_OTHER[6] = { 0x02, 0, 0, 0, 0, 0x99 }; /* some other host */
static const __u8 MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const __u8 MAC_MCAST6[6] = { 0x33, 0x33, 0, 0, 0, 1 };

#define PP_HOOKS_ALL (XDPCTL_HOOKBIT_XDP | XDPCTL_HOOKBIT_TC)
#define BYS_MTU 100

/* Devices of the private namespace. */
static __u32 if_lo = 1;   /* the kernel's test-run device */
static __u32 if_veth;     /* xt0: a container's host-side veth, bypass target */
static __u32 if_uplink;   /* xu0: the uplink of the return path */
static __u32 if_nonup;    /* xn0: a device that is no uplink */
static __u8 mac_uplink[6];

static struct th *H;
static int n_pass, n_fail; /* cases passed; FAIL lines printed */
static int n_failed; /* cases failed */

enum out_kind {
	OUT_SAME, /* output bytes == input bytes */
	OUT_SPEC, /* output == pb_build(exp) */
};

enum rule_kind {
	RULE_NONE,
	RULE_PP,     /* ping-pong rule of rule_addr: packets/bytes +1/len */
	RULE_BY_IN,  /* bypass rule of rule_addr: in_packets/in_bytes */
	RULE_BY_OUT, /* bypass rule of rule_addr: out_packets/out_bytes */
};

/* World variants. */
#define W_NO_IFACE (1u << 0)  /* no xdpctl_ifaces entry for the test-run device */
#define W_TCP_TO_TC (1u << 1) /* the test-run device has XDPCTL_IF_TCP_TO_TC */
#define W_BYPASS_TO_TC (1u << 2) /* the test-run device has XDPCTL_IF_BYPASS_TO_TC (engine auto) */
/*
 * The uplinks follow conntrack (the default fast path). Without it the
 * world's uplinks run the opt-in per-address bypass ('--fast-path
 * skip-firewall'), which the rows written for the bypass test.
 */
#define W_CT (1u << 3)

struct row {
	char name[128];
	char how[160];          /* how the input was made */
	enum th_prog prog;
	struct pb_spec in;
	int trunc;              /* > 0: input cut to this many bytes */
	__u32 ifindex;          /* test-run device (0: kernel default, lo) */
	unsigned int world;     /* W_* */
	__u32 ret;              /* expected verdict */
	enum out_kind out;
	struct pb_spec exp;
	int reason;             /* expected enum xdpctl_reason */
	enum rule_kind rule;
	const char *rule_addr;
	int err;                /* > 0: the kernel refuses the run with this errno */
	/*
	 * tc: the skb enters CHECKSUM_COMPLETE (BPF_F_TEST_SKB_CHECKSUM_COMPLETE),
	 * as from a NIC; the kernel checks skb->csum against the packet after the
	 * run and refuses the run (EBADMSG) when the program left it wrong.
	 */
	bool csum_complete;
};

static struct row *rows;
static int n_rows, cap_rows;
static int n_skip; /* rows the kernel cannot run (no BPF_F_TEST_SKB_CHECKSUM_COMPLETE) */

static struct row *add_row(enum th_prog prog, const char *how, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct row *add_row(enum th_prog prog, const char *how, const char *fmt, ...)
{
	struct row *r;
	va_list ap;

	if (n_rows == cap_rows) {
		cap_rows = cap_rows ? cap_rows * 2 : 64;
		rows = realloc(rows, cap_rows * sizeof(*rows));
		if (!rows) {
			perror("realloc");
			exit(1);
		}
	}
	r = &rows[n_rows++];
	memset(r, 0, sizeof(*r));
	r->prog = prog;
	va_start(ap, fmt);
	vsnprintf(r->name, sizeof(r->name), fmt, ap);
	va_end(ap);
	snprintf(r->name + strlen(r->name), sizeof(r->name) - strlen(r->name), " [%s]",
		 th_prog_name(prog));
	snprintf(r->how, sizeof(r->how), "%s", how);
	return r;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "FAIL setup: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* ---------------------------------------------------------------------------
 * Packets
 */

static struct pb_spec echo_req(int v6, const char *dst)
{
	struct pb_spec s;

	if (pb_echo_request(&s, CLIENT[v6], dst))
		die("pb_echo_request", EINVAL);
	return s;
}

static struct pb_spec udp_to(int v6, const char *dst)
{
	struct pb_spec s;

	if (pb_udp(&s, CLIENT[v6], dst))
		die("pb_udp", EINVAL);
	return s;
}

static struct pb_spec tcp_to(int v6, const char *dst)
{
	struct pb_spec s;

	if (pb_tcp(&s, CLIENT[v6], dst))
		die("pb_tcp", EINVAL);
	return s;
}

/* From a container (bypass source) to @dst: the return direction. */
static struct pb_spec udp_from(const char *src, const char *dst)
{
	struct pb_spec s;

	if (pb_udp(&s, src, dst))
		die("pb_udp", EINVAL);
	memcpy(s.dmac, MAC_GW, 6);
	memcpy(s.smac, MAC_CONT, 6);
	return s;
}

static struct pb_spec tcp_from(const char *src, const char *dst)
{
	struct pb_spec s;

	if (pb_tcp(&s, src, dst))
		die("pb_tcp", EINVAL);
	memcpy(s.dmac, MAC_GW, 6);
	memcpy(s.smac, MAC_CONT, 6);
	return s;
}

static void add_vlans(struct pb_spec *s, int n)
{
	int i;

	s->nvlan = n;
	for (i = 0; i < n; i++) {
		/* Outer tags 802.1ad, the innermost 802.1Q, as on a QinQ wire. */
		s->vlan[i].tpid = i + 1 < n ? ETH_P_8021AD : ETH_P_8021Q;
		s->vlan[i].tci = (__u16)(100 + i);
	}
}

/* The reply ping-pong must produce: built from scratch with fresh checksums. */
static struct pb_spec reply_of(const struct pb_spec *req)
{
	struct pb_spec r;

	pb_spec_echo_reply(req, &r, 64);
	return r;
}

/* The bypassed frame: new MACs, one hop less, fresh IPv4 header checksum. */
static struct pb_spec forwarded(const struct pb_spec *in, const __u8 *dmac, const __u8 *smac)
{
	struct pb_spec f = *in;

	memcpy(f.dmac, dmac, 6);
	memcpy(f.smac, smac, 6);
	f.ttl = in->ttl - 1;
	return f;
}

static void v4_options(struct pb_spec *s)
{
	/* Record route (type 7, length 7, pointer 4, one empty slot) and EOL. */
	static const __u8 rr[8] = { 7, 7, 4, 0, 0, 0, 0, 0 };

	memcpy(s->ip_opts, rr, sizeof(rr));
	s->ip_opts_len = sizeof(rr);
}

static void v6_ext(struct pb_spec *s, int n, const __u8 *types)
{
	int i;

	s->next_ext = n;
	for (i = 0; i < n; i++) {
		s->ext[i].type = types[i];
		s->ext[i].len8 = types[i] == IPPROTO_ROUTING ? 2 : (__u8)(i & 1);
	}
}

/* ---------------------------------------------------------------------------
 * The world: rules and devices every row starts from
 */

static void add_addr_rule_pp(const char *text, __u32 hooks)
{
	struct xdpctl_addr a;
	int err;

	if (th_addr(&a, text))
		die(text, EINVAL);
	err = th_pingpong_add(H, &a, hooks);
	if (err)
		die("th_pingpong_add", err);
}

static void add_addr_rule_by(const char *text, __u32 ifindex, __u16 mtu)
{
	struct xdpctl_addr a;
	int err;

	if (th_addr(&a, text))
		die(text, EINVAL);
	err = th_bypass_add(H, &a, ifindex, mtu, MAC_CONT, MAC_GW);
	if (err)
		die("th_bypass_add", err);
}

static void world(unsigned int flags)
{
	int err, v6;

	err = th_reset(H);
	if (err)
		die("th_reset", err);
	for (v6 = 0; v6 < 2; v6++) {
		add_addr_rule_pp(PP[v6], PP_HOOKS_ALL);
		add_addr_rule_pp(PPX[v6], XDPCTL_HOOKBIT_XDP);
		add_addr_rule_pp(PPT[v6], XDPCTL_HOOKBIT_TC);
		add_addr_rule_by(BY[v6], if_veth, 1500);
		add_addr_rule_by(BYS[v6], if_veth, BYS_MTU);
		add_addr_rule_by(BYX[v6], 999, 1500);
	}
	err = th_devmap_add(H, if_veth);
	if (err)
		die("th_devmap_add", err);
	if (!(flags & W_NO_IFACE)) {
		err = th_iface_set(H, if_lo, PB_MAC_HOST,
				   XDPCTL_IF_UPLINK | (flags & W_TCP_TO_TC ? XDPCTL_IF_TCP_TO_TC : 0) |
				   (flags & W_BYPASS_TO_TC ? XDPCTL_IF_BYPASS_TO_TC : 0) |
				   (flags & W_CT ? 0 : XDPCTL_IF_SKIP_FIREWALL));
		if (err)
			die("th_iface_set lo", err);
	}
	err = th_iface_set(H, if_uplink, mac_uplink,
			   XDPCTL_IF_UPLINK | (flags & W_CT ? 0 : XDPCTL_IF_SKIP_FIREWALL));
	if (!err)
		err = th_iface_set(H, if_veth, MAC_GW, XDPCTL_IF_VETH);
	if (err)
		die("th_iface_set", err);
}

static int get_mac(const char *dev, __u8 mac[6])
{
	char path[128], buf[64];
	unsigned int m[6];
	FILE *f;
	int i, n;

	/* /sys/class/net would show the root namespace's devices: ask ip. */
	snprintf(path, sizeof(path), "ip -o link show dev %s", dev);
	f = popen(path, "r");
	if (!f)
		return -errno;
	n = 0;
	while (fscanf(f, "%63s", buf) == 1) {
		if (!strcmp(buf, "link/ether") && fscanf(f, "%x:%x:%x:%x:%x:%x", &m[0], &m[1],
							    &m[2], &m[3], &m[4], &m[5]) == 6) {
			n = 6;
			break;
		}
	}
	pclose(f);
	if (n != 6)
		return -ENOENT;
	for (i = 0; i < 6; i++)
		mac[i] = (__u8)m[i];
	return 0;
}

/*
 * Devices of the private namespace: xt0/xt1 (a container's veth), xu0/xu1
 * (an uplink with the client's subnet and neighbour), xn0/xn1 (a device
 * that is no uplink, with a route to FAR). Forwarding on, so that FIB
 * lookups are answered by the tables and not refused.
 */
static void plumb(void)
{
	static const char *const cmds[] = {
		"ip link add xt0 type veth peer name xt1",
		"ip link add xu0 type veth peer name xu1",
		"ip link add xn0 type veth peer name xn1",
		"for d in xt0 xt1 xu0 xu1 xn0 xn1; do ip link set $d up || exit 1; done",
		"ip addr add 198.18.0.254/24 dev xu0",
		"ip -6 addr add 2001:db8:18::fe/64 dev xu0 nodad",
		"ip neigh add 198.18.0.1 lladdr 02:00:00:00:00:01 dev xu0 nud permanent",
		"ip -6 neigh add 2001:db8:18::1 lladdr 02:00:00:00:00:01 dev xu0 nud permanent",
		"ip addr add 198.18.1.254/24 dev xn0",
		"ip -6 addr add 2001:db8:181::fe/64 dev xn0 nodad",
		"ip neigh add 198.18.1.1 lladdr 02:00:00:00:00:f1 dev xn0 nud permanent",
		"ip -6 neigh add 2001:db8:181::1 lladdr 02:00:00:00:00:f1 dev xn0 nud permanent",
	};
	size_t i;
	int err;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		err = th_cmd("%s", cmds[i]);
		if (err) {
			fprintf(stderr, "FAIL setup: '%s' exited %d\n", cmds[i], err);
			exit(1);
		}
	}
	err = th_write_file("/proc/sys/net/ipv4/conf/all/forwarding", "1");
	if (!err)
		err = th_write_file("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	if (err)
		die("forwarding sysctl", err);
	if_veth = if_nametoindex("xt0");
	if_uplink = if_nametoindex("xu0");
	if_nonup = if_nametoindex("xn0");
	if (!if_veth || !if_uplink || !if_nonup)
		die("if_nametoindex", ENODEV);
	err = get_mac("xu0", mac_uplink);
	if (err)
		die("mac of xu0", err);
}

/* ---------------------------------------------------------------------------
 * The table
 */

static const char *ipv(int v6)
{
	return v6 ? "IPv6" : "IPv4";
}

static __u32 verdict_fwd(enum th_prog p)
{
	return p == TH_XDP ? XDP_REDIRECT : TC_ACT_REDIRECT;
}

static __u32 verdict_echo(enum th_prog p)
{
	return p == TH_XDP ? XDP_TX : TC_ACT_REDIRECT;
}

static __u32 verdict_pass(enum th_prog p)
{
	return p == TH_XDP ? XDP_PASS : TC_ACT_OK;
}

static void row_echo(enum th_prog p, int v6, struct pb_spec in, const char *how, const char *name)
{
	struct row *r = add_row(p, how, "%s %s", ipv(v6), name);

	r->in = in;
	r->ret = verdict_echo(p);
	r->out = OUT_SPEC;
	r->exp = reply_of(&in);
	r->reason = XDPCTL_R_PINGPONG;
	r->rule = RULE_PP;
	r->rule_addr = NULL; /* from in.dst */
}

static void row_pass(enum th_prog p, int v6, struct pb_spec in, int reason, const char *how,
		     const char *name)
{
	struct row *r = add_row(p, how, "%s %s", ipv(v6), name);

	r->in = in;
	r->ret = verdict_pass(p);
	r->out = OUT_SAME;
	r->reason = reason;
}

static void row_fwd(enum th_prog p, int v6, struct pb_spec in, const char *how, const char *name)
{
	struct row *r = add_row(p, how, "%s %s", ipv(v6), name);

	r->in = in;
	r->ret = verdict_fwd(p);
	r->out = OUT_SPEC;
	r->exp = forwarded(&in, MAC_CONT, MAC_GW);
	r->reason = XDPCTL_R_BYPASS;
	r->rule = RULE_BY_IN;
}

static void rows_pingpong(enum th_prog p, int v6)
{
	static const __u8 ext_all[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING };
	static const __u8 ext5[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
				     IPPROTO_DSTOPTS, IPPROTO_DSTOPTS };
	static const __u8 ext6[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
				     IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS };
	bool xdp = p == TH_XDP;
	struct pb_spec s;
	int n;

	s = echo_req(v6, PP[v6]);
	row_echo(p, v6, s, "pb_echo_request client -> PP", "echo request to a ping-pong address");

	for (n = 1; n <= 2; n++) {
		char name[64];

		s = echo_req(v6, PP[v6]);
		add_vlans(&s, n);
		snprintf(name, sizeof(name), "echo with %d VLAN tag%s", n, n > 1 ? "s (802.1ad+802.1Q)" : " (802.1Q)");
		row_echo(p, v6, s, "pb_echo_request + VLAN tags, reply keeps the tags", name);
	}
	s = echo_req(v6, PP[v6]);
	add_vlans(&s, 3);
	row_pass(p, v6, s, XDPCTL_R_VLAN, "pb_echo_request + 3 tags", "echo with 3 VLAN tags: pass");

	s = echo_req(v6, PP[v6]);
	s.ttl = 1;
	row_echo(p, v6, s, "pb_echo_request TTL 1", "echo with TTL 1 is answered (reply TTL 64)");

	s = echo_req(v6, PP[v6]);
	s.payload_len = 0;
	row_echo(p, v6, s, "pb_echo_request, no payload", "echo without payload");

	s = echo_req(v6, PP[v6]);
	s.payload_len = 1001; /* odd length: the checksum's padded last byte */
	row_echo(p, v6, s, "pb_echo_request, 1001-byte payload", "echo with odd 1001-byte payload");

	s = echo_req(v6, UNK[v6]);
	row_pass(p, v6, s, XDPCTL_R_PASS, "pb_echo_request client -> UNK",
		 "echo to an unconfigured address: pass");

	s = echo_req(v6, BY[v6]);
	row_fwd(p, v6, s, "pb_echo_request client -> BY", "echo to a bypass address is forwarded");

	/* Hook bits: an XDP-only rule is not answered by tc and vice versa. */
	s = echo_req(v6, PPX[v6]);
	if (xdp)
		row_echo(p, v6, s, "pb_echo_request -> PPX (hooks=xdp)", "echo to an xdp-only rule");
	else
		row_pass(p, v6, s, XDPCTL_R_PASS, "pb_echo_request -> PPX (hooks=xdp)",
			 "echo to an xdp-only rule: tc passes");
	s = echo_req(v6, PPT[v6]);
	if (xdp)
		row_pass(p, v6, s, XDPCTL_R_TO_TC, "pb_echo_request -> PPT (hooks=tc)",
			 "echo to a tc-only rule: xdp leaves it to tc");
	else
		row_echo(p, v6, s, "pb_echo_request -> PPT (hooks=tc)", "echo to a tc-only rule");

	/* Not an echo request: an echo reply, and another ICMP type. */
	s = echo_req(v6, PP[v6]);
	s.icmp_type = v6 ? 129 : 0;
	row_pass(p, v6, s, XDPCTL_R_PASS, "echo reply to PP", "echo reply to a ping-pong address: pass");
	s = echo_req(v6, PP[v6]);
	s.icmp_type = v6 ? 1 : 3; /* destination unreachable */
	row_pass(p, v6, s, XDPCTL_R_PASS, "dest unreachable to PP",
		 "ICMP unreachable to a ping-pong address: pass");
	s = udp_to(v6, PP[v6]);
	row_pass(p, v6, s, XDPCTL_R_PASS, "pb_udp -> PP", "UDP to a ping-pong address: pass");

	/* Options and extension headers. */
	if (!v6) {
		s = echo_req(v6, PP[v6]);
		v4_options(&s);
		row_echo(p, v6, s, "pb_echo_request + 8 bytes of options (RR, EOL)",
			 "echo with IPv4 options (IHL 7)");
		s = echo_req(v6, PP[v6]);
		memset(s.ip_opts, 1, 40); /* 40 NOPs: IHL 15 */
		s.ip_opts_len = 40;
		row_echo(p, v6, s, "pb_echo_request + 40 NOPs", "echo with 40 bytes of options (IHL 15)");
		s = echo_req(v6, PP[v6]);
		s.ihl = 4;
		row_pass(p, v6, s, XDPCTL_R_MALFORMED, "IHL overridden to 4", "IHL < 5: malformed");
		s = echo_req(v6, PP[v6]);
		s.tot_len = 19;
		row_pass(p, v6, s, XDPCTL_R_MALFORMED, "tot_len overridden to 19",
			 "total length < header: malformed");
		s = echo_req(v6, PP[v6]);
		s.version = 6;
		row_pass(p, v6, s, XDPCTL_R_MALFORMED, "version nibble 6 in an IPv4 ethertype",
			 "IP version mismatch: malformed");
	} else {
		s = echo_req(v6, PP[v6]);
		v6_ext(&s, 1, ext_all);
		row_echo(p, v6, s, "pb_echo_request + hop-by-hop", "echo with hop-by-hop header");
		s = echo_req(v6, PP[v6]);
		v6_ext(&s, 3, ext_all);
		row_echo(p, v6, s, "pb_echo_request + HBH, dstopts(16), routing(24)",
			 "echo with 3 extension headers");
		s = echo_req(v6, PP[v6]);
		v6_ext(&s, 5, ext5);
		row_echo(p, v6, s, "pb_echo_request + 5 extension headers",
			 "echo with 5 extension headers (the bound minus one)");
		s = echo_req(v6, PP[v6]);
		v6_ext(&s, 6, ext6);
		row_pass(p, v6, s, XDPCTL_R_MALFORMED, "pb_echo_request + 6 extension headers",
			 "echo with 6 extension headers: beyond the walk, malformed");
		s = echo_req(v6, PP[v6]);
		s.tot_len = 2000;
		row_pass(p, v6, s, XDPCTL_R_MALFORMED, "payload_len overridden to 2000",
			 "payload length beyond the frame: malformed");
		s = echo_req(v6, PP[v6]);
		s.version = 4;
		row_pass(p, v6, s, XDPCTL_R_MALFORMED, "version nibble 4 in an IPv6 ethertype",
			 "IP version mismatch: malformed");
	}

	/*
	 * Martian sources: a reply would be broadcast or multicast, or go to
	 * an address that sends nothing. The stack decides (issue 15, item 5).
	 */
	{
		static const char *const m4[] = { "255.255.255.255", "0.0.0.0", "0.1.2.3",
						   "127.0.0.1", "224.0.0.1", "239.255.255.250" };
		static const char *const m6[] = { "::", "::1", "ff02::1", "ff0e::101" };
		const char *const *m = v6 ? m6 : m4;
		int nm = v6 ? 4 : 6, k;

		for (k = 0; k < nm; k++) {
			char how[96], name[96];

			s = echo_req(v6, PP[v6]);
			if (v6 ? pb_addr6(s.src, m[k]) : pb_addr4(s.src, m[k]))
				die(m[k], EINVAL);
			snprintf(how, sizeof(how), "pb_echo_request, source %s", m[k]);
			snprintf(name, sizeof(name), "echo from martian source %s: pass", m[k]);
			row_pass(p, v6, s, XDPCTL_R_MARTIAN, how, name);
		}
		s = echo_req(v6, PP[v6]);
		memcpy(s.smac, MAC_BCAST, 6);
		row_pass(p, v6, s, XDPCTL_R_MARTIAN, "pb_echo_request, source MAC ff:ff:ff:ff:ff:ff",
			 "echo from a broadcast source MAC: pass");
		s = echo_req(v6, PP[v6]);
		memcpy(s.smac, MAC_MCAST6, 6);
		row_pass(p, v6, s, XDPCTL_R_MARTIAN, "pb_echo_request, source MAC 33:33:00:00:00:01",
			 "echo from a multicast source MAC: pass");
	}
	if (v6) {
		static const __u8 rh[] = { IPPROTO_ROUTING };
		static const __u8 hbh_rh[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING };
		static const __u8 ah[] = { 51 };

		/* Not the final destination, or authenticated: the stack (item 6). */
		s = echo_req(v6, PP[v6]);
		v6_ext(&s, 1, rh);
		s.ext[0].segleft = 1;
		row_pass(p, v6, s, XDPCTL_R_EXT_HDR, "pb_echo_request + routing header, segments left 1",
			 "echo with a live routing header: pass");
		s = echo_req(v6, PP[v6]);
		v6_ext(&s, 2, hbh_rh);
		s.ext[1].segleft = 3;
		row_pass(p, v6, s, XDPCTL_R_EXT_HDR, "pb_echo_request + HBH + routing, segments left 3",
			 "echo with HBH and a live routing header: pass");
		s = echo_req(v6, PP[v6]);
		v6_ext(&s, 1, ah);
		s.ext[0].len8 = 2;
		row_pass(p, v6, s, XDPCTL_R_EXT_HDR, "pb_echo_request + AH (24 bytes)",
			 "echo with an authentication header: pass");
		s = echo_req(v6, PP[v6]);
		v6_ext(&s, 1, rh);
		row_echo(p, v6, s, "pb_echo_request + routing header, segments left 0",
			 "echo with a spent routing header is answered");
	}

	/* Fragments of an echo to a ping-pong address go to the stack. */
	s = echo_req(v6, PP[v6]);
	s.frag_more = true;
	s.frag_id = 77;
	if (v6) {
		s.next_ext = 1;
		s.ext[0].type = IPPROTO_FRAGMENT;
	}
	row_pass(p, v6, s, XDPCTL_R_FRAGMENT, "echo, MF set, offset 0", "first fragment of an echo: pass");
	s.frag_more = false;
	s.frag_offset = 5;
	row_pass(p, v6, s, XDPCTL_R_FRAGMENT, "echo payload at offset 40, no L4 header",
		 "non-first fragment of an echo: pass");

	/* L2: broadcast, multicast, not our MAC, no iface entry. */
	s = echo_req(v6, PP[v6]);
	memcpy(s.dmac, MAC_BCAST, 6);
	row_pass(p, v6, s, XDPCTL_R_BCAST, "echo to ff:ff:ff:ff:ff:ff", "broadcast destination MAC: pass");
	s = echo_req(v6, PP[v6]);
	memcpy(s.dmac, MAC_MCAST6, 6);
	row_pass(p, v6, s, XDPCTL_R_BCAST, "echo to 33:33:00:00:00:01", "multicast destination MAC: pass");
	s = echo_req(v6, PP[v6]);
	memcpy(s.dmac, MAC_OTHER, 6);
	row_pass(p, v6, s, XDPCTL_R_NOT_US, "echo to 02:..:99, iface entry for ifindex 1",
		 "not our MAC: pass");
	{
		struct row *r;

		s = echo_req(v6, PP[v6]);
		memcpy(s.dmac, MAC_OTHER, 6);
		row_echo(p, v6, s, "echo to 02:..:99, no iface entry",
			 "other MAC, device without iface entry: answered");
		r = &rows[n_rows - 1];
		r->world = W_NO_IFACE;
	}
}

static void rows_bypass(enum th_prog p, int v6)
{
	static const __u8 ext_all[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING };
	bool xdp = p == TH_XDP;
	struct pb_spec s;

	s = udp_to(v6, BY[v6]);
	row_fwd(p, v6, s, "pb_udp client -> BY", "UDP to a bypass address is forwarded");
	s = tcp_to(v6, BY[v6]);
	row_fwd(p, v6, s, "pb_tcp SYN client -> BY", "TCP to a bypass address is forwarded");
	s = udp_to(v6, UNK[v6]);
	row_pass(p, v6, s, XDPCTL_R_PASS, "pb_udp client -> UNK", "bypass miss: pass");
	if (!xdp) {
		/* A NIC's CHECKSUM_COMPLETE skb: skb->csum follows the TTL / hop limit. */
		s = udp_to(v6, BY[v6]);
		row_fwd(p, v6, s, "pb_udp client -> BY, skb CHECKSUM_COMPLETE",
			"a CHECKSUM_COMPLETE skb keeps skb->csum right (TTL / hop limit - 1)");
		rows[n_rows - 1].csum_complete = true;
	}

	/* Engine auto: XDP leaves TCP bypass hits to tc; UDP and tc itself unchanged. */
	s = tcp_to(v6, BY[v6]);
	if (xdp)
		row_pass(p, v6, s, XDPCTL_R_TO_TC, "pb_tcp SYN client -> BY, uplink TCP_TO_TC",
			 "TCP bypass hit left to tc (TCP_TO_TC)");
	else
		row_fwd(p, v6, s, "pb_tcp SYN client -> BY, uplink TCP_TO_TC",
			"TCP bypass hit with TCP_TO_TC is forwarded by tc");
	rows[n_rows - 1].world = W_TCP_TO_TC;
	s = udp_to(v6, BY[v6]);
	row_fwd(p, v6, s, "pb_udp client -> BY, uplink TCP_TO_TC",
		"UDP bypass hit with TCP_TO_TC is forwarded");
	rows[n_rows - 1].world = W_TCP_TO_TC;

	/* Engine auto: XDP leaves every bypass hit to tc (no ring to overflow). */
	{
		struct pb_spec in[3] = { udp_to(v6, BY[v6]), tcp_to(v6, BY[v6]), echo_req(v6, BY[v6]) };
		static const char *const what[3] = { "UDP", "TCP", "echo" };
		int k;

		for (k = 0; k < 3; k++) {
			char how[96], name[96];

			snprintf(how, sizeof(how), "%s client -> BY, uplink BYPASS_TO_TC", what[k]);
			if (xdp) {
				snprintf(name, sizeof(name), "%s bypass hit left to tc (BYPASS_TO_TC)", what[k]);
				row_pass(p, v6, in[k], XDPCTL_R_TO_TC, how, name);
			} else {
				snprintf(name, sizeof(name), "%s bypass hit with BYPASS_TO_TC is forwarded by tc", what[k]);
				row_fwd(p, v6, in[k], how, name);
			}
			rows[n_rows - 1].world = W_BYPASS_TO_TC;
		}
	}

	s = udp_to(v6, BY[v6]);
	s.ttl = 2;
	row_fwd(p, v6, s, "pb_udp TTL 2", "TTL 2 is forwarded with TTL 1");
	s.ttl = 1;
	row_pass(p, v6, s, XDPCTL_R_TTL, "pb_udp TTL 1", "TTL 1: pass");
	s.ttl = 0;
	row_pass(p, v6, s, XDPCTL_R_TTL, "pb_udp TTL 0", "TTL 0: pass");
	s = udp_to(v6, BY[v6]);
	s.ttl = 255;
	s.tos = 0xb8;
	row_fwd(p, v6, s, "pb_udp TTL 255, TOS/TC 0xb8", "TTL 255 and a TOS are forwarded");

	s = udp_to(v6, BY[v6]);
	add_vlans(&s, 1);
	row_pass(p, v6, s, XDPCTL_R_VLAN, "pb_udp + 802.1Q tag", "tagged frame for a bypass rule: pass");

	/* The rule's MTU counts L3 bytes. */
	s = udp_to(v6, BYS[v6]);
	s.payload_len = BYS_MTU - (v6 ? 40 : 20) - 8;
	row_fwd(p, v6, s, "pb_udp, L3 length == rule MTU 100", "exactly the rule MTU is forwarded");
	s.payload_len++;
	row_pass(p, v6, s, XDPCTL_R_TOO_BIG, "pb_udp, L3 length == rule MTU + 1",
		 "one byte over the rule MTU: pass");

	/* Fragments are forwarded: the bypass never reassembles. */
	s = udp_to(v6, BY[v6]);
	s.frag_more = true;
	s.frag_id = 99;
	if (v6) {
		s.next_ext = 1;
		s.ext[0].type = IPPROTO_FRAGMENT;
	}
	row_fwd(p, v6, s, "pb_udp MF, offset 0", "first fragment is forwarded");
	s.frag_more = false;
	s.frag_offset = 185;
	row_fwd(p, v6, s, "pb_udp payload at offset 1480", "non-first fragment is forwarded");

	if (!v6) {
		s = udp_to(v6, BY[v6]);
		v4_options(&s);
		row_fwd(p, v6, s, "pb_udp + RR option", "IPv4 options are forwarded, checksum over them");
	} else {
		s = udp_to(v6, BY[v6]);
		v6_ext(&s, 3, ext_all);
		row_fwd(p, v6, s, "pb_udp + HBH, dstopts, routing", "extension headers are forwarded");
	}

	s = udp_to(v6, BY[v6]);
	memcpy(s.dmac, MAC_OTHER, 6);
	row_pass(p, v6, s, XDPCTL_R_NOT_US, "pb_udp to 02:..:99", "bypass, not our MAC: pass");
	s = udp_to(v6, BY[v6]);
	memcpy(s.dmac, MAC_BCAST, 6);
	row_pass(p, v6, s, XDPCTL_R_BCAST, "pb_udp to broadcast", "bypass, broadcast MAC: pass");

	/* A rule whose target is not in the devmap (a veth that is gone): both hooks pass. */
	s = udp_to(v6, BYX[v6]);
	row_pass(p, v6, s, XDPCTL_R_REDIRECT_ERR, "pb_udp -> BYX (ifindex 999, no devmap entry)",
		 "redirect target missing: pass untouched");
}

/* Every byte offset from ETH_HLEN up to the end of @s: pass, malformed, untouched. */
static void rows_trunc(enum th_prog p, int v6, struct pb_spec s, const char *what)
{
	__u8 buf[PB_MAX_FRAME];
	int len, cut;

	len = pb_build(&s, buf, sizeof(buf));
	if (len < 0)
		die("pb_build", len);
	for (cut = ETH_HLEN; cut < len; cut++) {
		struct row *r = add_row(p, "frame cut short", "%s %s cut to %d of %d bytes", ipv(v6),
					what, cut, len);

		r->in = s;
		r->trunc = cut;
		r->ret = verdict_pass(p);
		r->out = OUT_SAME;
		r->reason = XDPCTL_R_MALFORMED;
		/*
		 * Measured on 6.18: the skb test run refuses an untagged IPv4 /
		 * IPv6 frame shorter than its fixed IP header (EINVAL) before
		 * any program runs. Tagged frames reach the program at every
		 * length, so the tagged rows cover those offsets for tc.
		 */
		if (p != TH_XDP && !s.nvlan && cut < ETH_HLEN + (v6 ? 40 : 20))
			r->err = EINVAL;
	}
}

static void rows_other(enum th_prog p)
{
	struct pb_spec s;
	struct row *r;
	int i;

	memset(&s, 0, sizeof(s));
	memcpy(s.dmac, PB_MAC_HOST, 6);
	memcpy(s.smac, PB_MAC_CLIENT, 6);
	s.ethertype = ETH_P_ARP;
	s.payload_len = 28;
	for (i = 0; i < 28; i++)
		s.payload[i] = (__u8)i;
	r = add_row(p, "ARP ethertype, 28 bytes", "ARP: pass");
	r->in = s;
	r->ret = verdict_pass(p);
	r->out = OUT_SAME;
	r->reason = XDPCTL_R_UNKNOWN_L3;
}

/* The return path: container -> outside, on the host-side veth. */
static void rows_fwd(void)
{
	struct pb_spec s;
	struct row *r;
	int v6;

	for (v6 = 0; v6 < 2; v6++) {
		s = udp_from(BY[v6], NOWHERE[v6]);
		r = add_row(TH_TC_FWD, "pb_udp BY -> no route, arriving on xt0",
			    "%s from a bypass address, FIB lookup fails (no route)", ipv(v6));
		r->in = s;
		r->ifindex = if_veth;
		r->ret = TC_ACT_OK;
		r->out = OUT_SAME;
		r->reason = XDPCTL_R_FIB_MISS;

		s = udp_from(BY[v6], CLIENT[v6]);
		r = add_row(TH_TC_FWD, "pb_udp BY -> CLIENT, default test-run ctx (lo)",
			    "%s from a container address on a device that does not own it: policy",
			    ipv(v6));
		r->in = s;
		r->ret = TC_ACT_OK;
		r->out = OUT_SAME;
		r->reason = XDPCTL_R_CT_POLICY;

		s = udp_from(UNK[v6], CLIENT[v6]);
		r = add_row(TH_TC_FWD, "pb_udp UNK -> CLIENT on xt0",
			    "%s from a non-rule address: pass", ipv(v6));
		r->in = s;
		r->ifindex = if_veth;
		r->ret = TC_ACT_OK;
		r->out = OUT_SAME;
		r->reason = XDPCTL_R_PASS;

		s = udp_from(BY[v6], CLIENT[v6]);
		r = add_row(TH_TC_FWD, "pb_udp BY -> CLIENT on xt0; route and neighbour on xu0 (uplink)",
			    "%s from a bypass address, route via the uplink: forwarded", ipv(v6));
		r->in = s;
		r->ifindex = if_veth;
		r->ret = TC_ACT_REDIRECT;
		r->out = OUT_SPEC;
		r->exp = forwarded(&s, PB_MAC_CLIENT, mac_uplink);
		r->reason = XDPCTL_R_BYPASS;
		r->rule = RULE_BY_OUT;
		r->rule_addr = BY[v6];

		s = udp_from(BY[v6], CLIENT[v6]);
		s.ttl = 2;
		r = add_row(TH_TC_FWD, "pb_udp TTL 2 BY -> CLIENT on xt0",
			    "%s return path, TTL 2 forwarded with TTL 1", ipv(v6));
		r->in = s;
		r->ifindex = if_veth;
		r->ret = TC_ACT_REDIRECT;
		r->out = OUT_SPEC;
		r->exp = forwarded(&s, PB_MAC_CLIENT, mac_uplink);
		r->reason = XDPCTL_R_BYPASS;
		r->rule = RULE_BY_OUT;
		r->rule_addr = BY[v6];

		s.ttl = 1;
		r = add_row(TH_TC_FWD, "pb_udp TTL 1 BY -> CLIENT on xt0", "%s return path, TTL 1: pass",
			    ipv(v6));
		r->in = s;
		r->ifindex = if_veth;
		r->ret = TC_ACT_OK;
		r->out = OUT_SAME;
		r->reason = XDPCTL_R_TTL;

		s = udp_from(BY[v6], FAR[v6]);
		r = add_row(TH_TC_FWD, "pb_udp BY -> FAR on xt0; route on xn0 (no uplink)",
			    "%s return path via a non-uplink: pass", ipv(v6));
		r->in = s;
		r->ifindex = if_veth;
		r->ret = TC_ACT_OK;
		r->out = OUT_SAME;
		r->reason = XDPCTL_R_NOT_UPLINK;

		s = udp_from(BY[v6], CLIENT[v6]);
		add_vlans(&s, 1);
		r = add_row(TH_TC_FWD, "pb_udp + 802.1Q BY -> CLIENT", "%s return path, tagged: pass",
			    ipv(v6));
		r->in = s;
		r->ifindex = if_veth;
		r->ret = TC_ACT_OK;
		r->out = OUT_SAME;
		r->reason = XDPCTL_R_VLAN;

		s = udp_from(BY[v6], CLIENT[v6]);
		memcpy(s.dmac, MAC_BCAST, 6);
		r = add_row(TH_TC_FWD, "pb_udp to ff:ff:.. BY -> CLIENT", "%s return path, broadcast: pass",
			    ipv(v6));
		r->in = s;
		r->ifindex = if_veth;
		r->ret = TC_ACT_OK;
		r->out = OUT_SAME;
		r->reason = XDPCTL_R_BCAST;
	}
	(void)if_nonup;
}


/* ---------------------------------------------------------------------------
 * Conntrack entries, injected with the ct_inject helper program
 */

static struct ct_inject *CTI;
static bool ct_tcp_established; /* can an injected TCP entry be ESTABLISHED here? */

#define IPS_SEEN_REPLY_ (1u << 1)

/*
 * One conntrack entry in the private namespace: original tuple src:sport ->
 * dst:dport, NAT of kind @manip (-1 none, 0 SNAT, 1 DNAT) to nat:nat_port,
 * @status bits set before insertion. @return 0 or a negative error.
 */
static int ct_add(int v6, __u8 proto, const char *src, __u16 sport, const char *dst, __u16 dport,
		  int manip, const char *nat, __u16 nat_port, __u32 status, __u32 *tcp_state)
{
	static __u8 frame[64];
	struct th_run run = {};
	struct ct_inject__bss *b;
	struct ct_inject__data *d;
	int err;

	if (!CTI) {
		CTI = ct_inject__open_and_load();
		if (!CTI)
			return -errno;
	}
	b = CTI->bss;
	d = CTI->data;
	b->in_v6 = v6;
	b->in_l4proto = proto;
	memset(b->in_saddr, 0, 16);
	memset(b->in_daddr, 0, 16);
	memset(b->in_nat_addr, 0, 16);
	if ((v6 ? pb_addr6 : pb_addr4)(b->in_saddr, src) ||
	    (v6 ? pb_addr6 : pb_addr4)(b->in_daddr, dst))
		return -EINVAL;
	b->in_sport = htons(sport);
	b->in_dport = htons(dport);
	d->in_manip = manip;
	if (manip >= 0 && (v6 ? pb_addr6 : pb_addr4)(b->in_nat_addr, nat))
		return -EINVAL;
	b->in_nat_port = nat_port;
	b->in_status = status;
	d->out_err = 1;
	memset(frame, 0, sizeof(frame));
	run.in = frame;
	run.in_len = sizeof(frame);
	err = th_run_fd(bpf_program__fd(CTI->progs.ct_inject), true, &run);
	if (err)
		return err;
	if (tcp_state)
		*tcp_state = b->out_tcp_state;
	return d->out_err;
}

static void ct_entries(void)
{
	__u32 state = 0;
	int v6, err;

	for (v6 = 0; v6 < 2; v6++) {
		/* A published port: CLIENT:4242 -> PUB:8080, DNAT to BY:53. */
		err = ct_add(v6, IPPROTO_UDP, CLIENT[v6], P_CLIENT, PUB[v6], P_PUB, 1, BY[v6],
			     P_CONT, IPS_SEEN_REPLY_, NULL);
		/* The same, no reply seen yet. */
		if (!err)
			err = ct_add(v6, IPPROTO_UDP, CLIENT[v6], P_CLIENT2, PUB[v6], P_PUB, 1,
				     BY[v6], P_CONT, 0, NULL);
		/* Established, to an address that is no container. */
		if (!err)
			err = ct_add(v6, IPPROTO_UDP, CLIENT[v6], P_CLIENT3, UNK[v6], P_CONT, -1,
				     NULL, 0, IPS_SEEN_REPLY_, NULL);
		/* Container-initiated: BY:5000 -> CLIENT:53, MASQUERADE to PUB:40000. */
		if (!err)
			err = ct_add(v6, IPPROTO_UDP, BY[v6], P_MASQ_IN, CLIENT[v6], P_CONT, 0,
				     PUB[v6], P_MASQ, IPS_SEEN_REPLY_, NULL);
		/* TCP to the published port, DNAT to BY:80. */
		if (!err)
			err = ct_add(v6, IPPROTO_TCP, CLIENT[v6], P_CLIENT, PUB[v6], P_PUB, 1,
				     BY[v6], P_CONT_TCP, IPS_SEEN_REPLY_, &state);
		if (err)
			die("injecting conntrack entries (bpf_xdp_ct_alloc, bpf_ct_insert_entry)", err);
	}
	/* The kfuncs create TCP entries in state NONE: ESTABLISHED needs real traffic (e2e). */
	ct_tcp_established = state == 3;
}

static void set_ports(struct pb_spec *s, __u16 sport, __u16 dport)
{
	s->sport = htons(sport);
	s->dport = htons(dport);
}

static void set_addr(struct pb_spec *s, bool dst, int v6, const char *text)
{
	if ((v6 ? pb_addr6 : pb_addr4)(dst ? s->dst : s->src, text))
		die(text, EINVAL);
}

static void row_ct_pass(enum th_prog p, int v6, struct pb_spec in, int reason, const char *how,
			const char *name)
{
	struct row *r = add_row(p, how, "%s ct: %s", ipv(v6), name);

	r->in = in;
	r->ret = verdict_pass(p);
	r->out = OUT_SAME;
	r->reason = reason;
	r->world = W_CT;
}

/* Rows of the conntrack fast path at the uplink (XDP or tc ingress). */
static void rows_ct_in(enum th_prog p, int v6)
{
	struct pb_spec s;
	struct row *r;

	/* The published port: the entry's DNAT, then the container's MACs, TTL - 1. */
	s = udp_to(v6, PUB[v6]);
	set_ports(&s, P_CLIENT, P_PUB);
	r = add_row(p, "pb_udp CLIENT:4242 -> PUB:8080; injected entry, DNAT to BY:53, reply seen",
		    "%s ct: established UDP to a published port: DNAT and forwarded", ipv(v6));
	r->in = s;
	r->ret = verdict_fwd(p);
	r->out = OUT_SPEC;
	r->exp = forwarded(&s, MAC_CONT, MAC_GW);
	set_addr(&r->exp, true, v6, BY[v6]);
	r->exp.dport = htons(P_CONT);
	r->reason = XDPCTL_R_CT_FWD;
	r->rule = RULE_BY_IN;
	r->rule_addr = BY[v6];
	r->world = W_CT;

	/* The same with a 1001-byte payload: checksums over an odd length. */
	s.payload_len = 1001;
	r = add_row(p, "as above, 1001-byte payload", "%s ct: DNAT of an odd-length datagram",
		    ipv(v6));
	r->in = s;
	r->ret = verdict_fwd(p);
	r->out = OUT_SPEC;
	r->exp = forwarded(&s, MAC_CONT, MAC_GW);
	set_addr(&r->exp, true, v6, BY[v6]);
	r->exp.dport = htons(P_CONT);
	r->reason = XDPCTL_R_CT_FWD;
	r->rule = RULE_BY_IN;
	r->rule_addr = BY[v6];
	r->world = W_CT;

	/* The reply to a container-initiated flow: MASQUERADE undone. */
	s = udp_to(v6, PUB[v6]);
	set_ports(&s, P_CONT, P_MASQ);
	r = add_row(p, "pb_udp CLIENT:53 -> PUB:40000; entry BY:5000 -> CLIENT:53 SNAT to PUB:40000",
		    "%s ct: reply to a MASQUERADEd flow: back to the container", ipv(v6));
	r->in = s;
	r->ret = verdict_fwd(p);
	r->out = OUT_SPEC;
	r->exp = forwarded(&s, MAC_CONT, MAC_GW);
	set_addr(&r->exp, true, v6, BY[v6]);
	r->exp.dport = htons(P_MASQ_IN);
	r->reason = XDPCTL_R_CT_FWD;
	r->rule = RULE_BY_IN;
	r->rule_addr = BY[v6];
	r->world = W_CT;

	/* UDP/IPv4 without a checksum keeps none. */
	if (!v6) {
		s = udp_to(v6, PUB[v6]);
		set_ports(&s, P_CLIENT, P_PUB);
		r = add_row(p, "pb_udp with checksum 0 (none), DNAT entry",
			    "%s ct: UDP without checksum stays without", ipv(v6));
		r->in = s;
		r->ret = verdict_fwd(p);
		r->out = OUT_SPEC;
		r->exp = forwarded(&s, MAC_CONT, MAC_GW);
		set_addr(&r->exp, true, v6, BY[v6]);
		r->exp.dport = htons(P_CONT);
		r->reason = XDPCTL_R_CT_FWD;
		r->rule = RULE_BY_IN;
		r->rule_addr = BY[v6];
		r->world = W_CT;
		r->in.udp_nocsum = true;
		r->exp.udp_nocsum = true;
	}

	/* IPv6 extension headers before UDP: the L4 header (ports, checksum) found past them. */
	if (v6) {
		static const __u8 hbh[] = { IPPROTO_HOPOPTS };
		static const __u8 two[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS };
		int k;

		for (k = 0; k < 2; k++) {
			s = udp_to(v6, PUB[v6]);
			set_ports(&s, P_CLIENT, P_PUB);
			s.payload_len = 301;
			v6_ext(&s, k + 1, k ? two : hbh);
			r = add_row(p, k ? "pb_udp with hop-by-hop (8 bytes) and destination options (16 bytes), DNAT entry"
					 : "pb_udp with a hop-by-hop header (8 bytes), DNAT entry",
				    "%s ct: DNAT past %s: port and checksum at the right offset", ipv(v6),
				    k ? "two extension headers" : "a hop-by-hop header");
			r->in = s;
			r->ret = verdict_fwd(p);
			r->out = OUT_SPEC;
			r->exp = forwarded(&s, MAC_CONT, MAC_GW);
			set_addr(&r->exp, true, v6, BY[v6]);
			r->exp.dport = htons(P_CONT);
			r->reason = XDPCTL_R_CT_FWD;
			r->rule = RULE_BY_IN;
			r->rule_addr = BY[v6];
			r->world = W_CT;
		}
	}

	/* tc: an skb with CHECKSUM_COMPLETE (a NIC's): skb->csum must follow the rewrite. */
	if (p == TH_TC_IN) {
		s = udp_to(v6, PUB[v6]);
		set_ports(&s, P_CLIENT, P_PUB);
		s.payload_len = 777;
		r = add_row(p, "pb_udp CLIENT:4242 -> PUB:8080, skb CHECKSUM_COMPLETE; DNAT entry to BY:53",
			    "%s ct: DNAT of a CHECKSUM_COMPLETE skb keeps skb->csum right%s", ipv(v6),
			    v6 ? " (pseudo-header with BPF_F_IPV6, hop limit)" : "");
		r->in = s;
		r->ret = verdict_fwd(p);
		r->out = OUT_SPEC;
		r->exp = forwarded(&s, MAC_CONT, MAC_GW);
		set_addr(&r->exp, true, v6, BY[v6]);
		r->exp.dport = htons(P_CONT);
		r->reason = XDPCTL_R_CT_FWD;
		r->rule = RULE_BY_IN;
		r->rule_addr = BY[v6];
		r->world = W_CT;
		r->csum_complete = true;
	}

	s = udp_to(v6, PUB[v6]);
	set_ports(&s, P_CLIENT2, P_PUB);
	row_ct_pass(p, v6, s, XDPCTL_R_CT_NEW, "entry without IPS_SEEN_REPLY",
		    "no reply seen yet: the stack's");
	s = udp_to(v6, PUB[v6]);
	set_ports(&s, P_CLIENT4, P_PUB);
	row_ct_pass(p, v6, s, XDPCTL_R_CT_NEW, "no entry", "no conntrack entry: the stack's");
	s = udp_to(v6, UNK[v6]);
	set_ports(&s, P_CLIENT3, P_CONT);
	row_ct_pass(p, v6, s, XDPCTL_R_CT_NO_CONTAINER, "established entry CLIENT -> UNK",
		    "established, but no container behind it");
	s = udp_to(v6, BY[v6]);
	row_ct_pass(p, v6, s, XDPCTL_R_CT_NEW, "pb_udp straight to BY, no entry",
		    "a container-table entry alone opens nothing");
	s = udp_to(v6, PUB[v6]);
	set_ports(&s, P_CLIENT, P_PUB);
	s.ttl = 1;
	row_ct_pass(p, v6, s, XDPCTL_R_TTL, "DNAT entry, TTL 1", "TTL 1: the stack's");
	s = udp_to(v6, PUB[v6]);
	set_ports(&s, P_CLIENT, P_PUB);
	add_vlans(&s, 1);
	row_ct_pass(p, v6, s, XDPCTL_R_VLAN, "DNAT entry, 802.1Q tag", "tagged: the stack's");
	s = udp_to(v6, PUB[v6]);
	set_ports(&s, P_CLIENT, P_PUB);
	if (v6) {
		static const __u8 frag[] = { IPPROTO_FRAGMENT };

		v6_ext(&s, 1, frag);
		s.frag_more = true;
		s.frag_id = 7;
	} else {
		s.v4_frag = true;
		s.frag_more = true;
	}
	row_ct_pass(p, v6, s, XDPCTL_R_FRAGMENT, "DNAT entry, first fragment",
		    "fragments: the stack's (one datagram, one path)");

	s = tcp_to(v6, PUB[v6]);
	set_ports(&s, P_CLIENT, P_PUB);
	s.tcp_flags = 0x02;
	if (p == TH_XDP) {
		row_ct_pass(p, v6, s, XDPCTL_R_CT_NEW, "pb_tcp SYN", "TCP SYN: conntrack's to see");
	} else {
		row_ct_pass(p, v6, s, XDPCTL_R_CT_NEW, "pb_tcp SYN", "TCP SYN: conntrack's to see");
	}
	s.tcp_flags = 0x11;
	row_ct_pass(p, v6, s, XDPCTL_R_CT_CLOSING, "pb_tcp FIN+ACK", "TCP FIN: conntrack's to see");
	s.tcp_flags = 0x04;
	row_ct_pass(p, v6, s, XDPCTL_R_CT_CLOSING, "pb_tcp RST", "TCP RST: conntrack's to see");
	s.tcp_flags = 0x10;
	if (ct_tcp_established) {
		r = add_row(p, "pb_tcp ACK CLIENT:4242 -> PUB:8080; DNAT entry to BY:80",
			    "%s ct: established TCP to a published port: DNAT", ipv(v6));
		r->in = s;
		r->ret = verdict_fwd(p);
		r->out = OUT_SPEC;
		r->exp = forwarded(&s, MAC_CONT, MAC_GW);
		set_addr(&r->exp, true, v6, BY[v6]);
		r->exp.dport = htons(P_CONT_TCP);
		r->reason = XDPCTL_R_CT_FWD;
		r->rule = RULE_BY_IN;
		r->rule_addr = BY[v6];
		r->world = W_CT;
	} else {
		row_ct_pass(p, v6, s, XDPCTL_R_CT_CLOSING, "pb_tcp ACK; injected entry in state NONE",
			    "TCP entry not ESTABLISHED: the stack's");
	}

	s = echo_req(v6, BY[v6]);
	row_ct_pass(p, v6, s, XDPCTL_R_NOT_TCPUDP, "pb_echo_request CLIENT -> BY",
		    "ICMP to a container: the stack's");
	if (v6) {
		s = echo_req(v6, BY[v6]);
		s.icmp_type = 135; /* neighbour solicitation, unicast (NUD) */
		row_ct_pass(p, v6, s, XDPCTL_R_ND, "ICMPv6 type 135 to BY",
			    "neighbour solicitation: always the stack's");
		s = echo_req(v6, BY[v6]);
		s.icmp_type = 136;
		row_ct_pass(p, v6, s, XDPCTL_R_ND, "ICMPv6 type 136 to BY",
			    "neighbour advertisement: always the stack's");
		/* Address resolution: multicast, counted as neighbour discovery all the same. */
		s = echo_req(v6, "ff02::1:ff00:3");
		s.icmp_type = 135;
		memcpy(s.dmac, (const __u8[]){ 0x33, 0x33, 0xff, 0x00, 0x00, 0x03 }, 6);
		row_ct_pass(p, v6, s, XDPCTL_R_ND, "ICMPv6 type 135 to ff02::1:ff00:3, MAC 33:33:ff:00:00:03",
			    "multicast neighbour solicitation: the stack's, counted as neighbour_discovery");
	}
}

/* Rows of the conntrack fast path on the container's veth (return direction). */
static void rows_ct_fwd(int v6)
{
	struct pb_spec s;
	struct row *r;

	/* The published port's reply: SNAT back to the host's address and port. */
	s = udp_from(BY[v6], CLIENT[v6]);
	set_ports(&s, P_CONT, P_CLIENT);
	r = add_row(TH_TC_FWD, "pb_udp BY:53 -> CLIENT:4242 on xt0; DNAT entry CLIENT -> PUB:8080",
		    "%s ct: a published port's reply: SNAT to the host, out of the uplink", ipv(v6));
	r->in = s;
	r->ifindex = if_veth;
	r->ret = TC_ACT_REDIRECT;
	r->out = OUT_SPEC;
	r->exp = forwarded(&s, PB_MAC_CLIENT, mac_uplink);
	set_addr(&r->exp, false, v6, PUB[v6]);
	r->exp.sport = htons(P_PUB);
	r->reason = XDPCTL_R_CT_FWD;
	r->rule = RULE_BY_OUT;
	r->rule_addr = BY[v6];
	r->world = W_CT;

	/* The same reply as a CHECKSUM_COMPLETE skb: skb->csum follows the SNAT and the hop. */
	s = udp_from(BY[v6], CLIENT[v6]);
	set_ports(&s, P_CONT, P_CLIENT);
	s.payload_len = 555;
	r = add_row(TH_TC_FWD, "as above, skb CHECKSUM_COMPLETE, 555-byte payload",
		    "%s ct: SNAT of a CHECKSUM_COMPLETE skb keeps skb->csum right", ipv(v6));
	r->in = s;
	r->ifindex = if_veth;
	r->ret = TC_ACT_REDIRECT;
	r->out = OUT_SPEC;
	r->exp = forwarded(&s, PB_MAC_CLIENT, mac_uplink);
	set_addr(&r->exp, false, v6, PUB[v6]);
	r->exp.sport = htons(P_PUB);
	r->reason = XDPCTL_R_CT_FWD;
	r->rule = RULE_BY_OUT;
	r->rule_addr = BY[v6];
	r->world = W_CT;
	r->csum_complete = true;

	/* A container-initiated flow: MASQUERADE. */
	s = udp_from(BY[v6], CLIENT[v6]);
	set_ports(&s, P_MASQ_IN, P_CONT);
	r = add_row(TH_TC_FWD, "pb_udp BY:5000 -> CLIENT:53 on xt0; SNAT entry to PUB:40000",
		    "%s ct: container-initiated: MASQUERADE as the entry says", ipv(v6));
	r->in = s;
	r->ifindex = if_veth;
	r->ret = TC_ACT_REDIRECT;
	r->out = OUT_SPEC;
	r->exp = forwarded(&s, PB_MAC_CLIENT, mac_uplink);
	set_addr(&r->exp, false, v6, PUB[v6]);
	r->exp.sport = htons(P_MASQ);
	r->reason = XDPCTL_R_CT_FWD;
	r->rule = RULE_BY_OUT;
	r->rule_addr = BY[v6];
	r->world = W_CT;

	/* Spoofing: the address of BY from another MAC; BY's address from another veth. */
	s = udp_from(BY[v6], CLIENT[v6]);
	set_ports(&s, P_CONT, P_CLIENT);
	memcpy(s.smac, MAC_OTHER, 6);
	r = add_row(TH_TC_FWD, "pb_udp BY:53 -> CLIENT:4242 on xt0 from another MAC",
		    "%s ct: BY's address from a MAC that is not BY's: policy", ipv(v6));
	r->in = s;
	r->ifindex = if_veth;
	r->ret = TC_ACT_OK;
	r->out = OUT_SAME;
	r->reason = XDPCTL_R_CT_POLICY;
	r->world = W_CT;
	s = udp_from(BY[v6], CLIENT[v6]);
	set_ports(&s, P_CONT, P_CLIENT);
	r = add_row(TH_TC_FWD, "pb_udp BY:53 -> CLIENT:4242 arriving on xn0",
		    "%s ct: BY's address from a veth that is not BY's: policy", ipv(v6));
	r->in = s;
	r->ifindex = if_nonup;
	r->ret = TC_ACT_OK;
	r->out = OUT_SAME;
	r->reason = XDPCTL_R_CT_POLICY;
	r->world = W_CT;

	s = udp_from(BY[v6], CLIENT[v6]);
	set_ports(&s, P_CONT, P_CLIENT4);
	r = add_row(TH_TC_FWD, "pb_udp BY:53 -> CLIENT:4245 on xt0, no entry",
		    "%s ct: from a container, no entry: the stack's (MASQUERADE there)", ipv(v6));
	r->in = s;
	r->ifindex = if_veth;
	r->ret = TC_ACT_OK;
	r->out = OUT_SAME;
	r->reason = XDPCTL_R_CT_NEW;
	r->world = W_CT;

	s = tcp_from(BY[v6], CLIENT[v6]);
	s.tcp_flags = 0x12; /* SYN+ACK */
	r = add_row(TH_TC_FWD, "pb_tcp SYN+ACK BY -> CLIENT on xt0",
		    "%s ct: TCP SYN+ACK from a container: conntrack's to see", ipv(v6));
	r->in = s;
	r->ifindex = if_veth;
	r->ret = TC_ACT_OK;
	r->out = OUT_SAME;
	r->reason = XDPCTL_R_CT_NEW;
	r->world = W_CT;

	s = echo_req(v6, CLIENT[v6]);
	memcpy(s.dmac, MAC_GW, 6);
	memcpy(s.smac, MAC_CONT, 6);
	set_addr(&s, false, v6, BY[v6]);
	r = add_row(TH_TC_FWD, "pb_echo_request BY -> CLIENT on xt0",
		    "%s ct: ICMP from a container: the stack's", ipv(v6));
	r->in = s;
	r->ifindex = if_veth;
	r->ret = TC_ACT_OK;
	r->out = OUT_SAME;
	r->reason = XDPCTL_R_NOT_TCPUDP;
	r->world = W_CT;
}

static void build_table(void)
{
	static const enum th_prog progs[] = { TH_XDP, TH_TC_IN };
	static const __u8 ext1[] = { IPPROTO_HOPOPTS };
	size_t i;
	int v6;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		for (v6 = 0; v6 < 2; v6++) {
			struct pb_spec s;

			rows_pingpong(progs[i], v6);
			rows_bypass(progs[i], v6);

			s = echo_req(v6, PP[v6]);
			if (v6)
				v6_ext(&s, 1, ext1);
			else
				v4_options(&s);
			rows_trunc(progs[i], v6, s, v6 ? "ping-pong echo (+HBH)" : "ping-pong echo (+options)");
			s = echo_req(v6, PP[v6]);
			add_vlans(&s, 2);
			rows_trunc(progs[i], v6, s, "ping-pong echo (2 tags)");
			s = udp_to(v6, BY[v6]);
			rows_trunc(progs[i], v6, s, "bypass UDP");
		}
		rows_other(progs[i]);
		for (v6 = 0; v6 < 2; v6++)
			rows_ct_in(progs[i], v6);
	}
	rows_fwd();
	for (v6 = 0; v6 < 2; v6++)
		rows_ct_fwd(v6);
}

/* ---------------------------------------------------------------------------
 * Running a row
 */

static void fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	n_fail++;
}

static const char *verdict_name(enum th_prog p, __u32 v)
{
	if (p == TH_XDP) {
		switch (v) {
		case XDP_ABORTED: return "XDP_ABORTED";
		case XDP_DROP: return "XDP_DROP";
		case XDP_PASS: return "XDP_PASS";
		case XDP_TX: return "XDP_TX";
		case XDP_REDIRECT: return "XDP_REDIRECT";
		}
	} else {
		switch (v) {
		case TC_ACT_OK: return "TC_ACT_OK";
		case TC_ACT_SHOT: return "TC_ACT_SHOT";
		case TC_ACT_REDIRECT: return "TC_ACT_REDIRECT";
		}
	}
	return "?";
}

/* Sum of every rule counter we installed, per address, kind. */
struct rule_snap {
	struct xdpctl_pingpong pp[2][3];
	struct xdpctl_bypass by[2][3];
};

static const char *const *const PP_SET[3] = { PP, PPX, PPT };
static const char *const *const BY_SET[3] = { BY, BYS, BYX };

static int snap_rules(struct rule_snap *s)
{
	struct xdpctl_addr a;
	int v6, i, err;

	memset(s, 0, sizeof(*s));
	for (v6 = 0; v6 < 2; v6++)
		for (i = 0; i < 3; i++) {
			th_addr(&a, PP_SET[i][v6]);
			err = th_pingpong_get(H, &a, &s->pp[v6][i]);
			if (err)
				return err;
			th_addr(&a, BY_SET[i][v6]);
			err = th_bypass_get(H, &a, &s->by[v6][i]);
			if (err)
				return err;
		}
	return 0;
}

/* Check rule counter deltas: only the expected rule moved, by one packet of @len. */
static bool check_rules(const struct row *r, const struct rule_snap *b, const struct rule_snap *a,
			const char *dst_text, __u32 len)
{
	int v6, i;
	bool ok = true;

	for (v6 = 0; v6 < 2; v6++)
		for (i = 0; i < 3; i++) {
			__u64 want_p = 0, want_b = 0;
			const struct xdpctl_pingpong *pb = &b->pp[v6][i], *pa = &a->pp[v6][i];
			const struct xdpctl_bypass *bb = &b->by[v6][i], *ba = &a->by[v6][i];
			const char *ppa = PP_SET[i][v6], *bya = BY_SET[i][v6];

			if (r->rule == RULE_PP && !strcmp(ppa, dst_text)) {
				want_p = 1;
				want_b = len;
			}
			if (pa->packets - pb->packets != want_p || pa->bytes - pb->bytes != want_b) {
				fail(r->name, "ping-pong rule %s counters: expected +%llu/+%llu got +%llu/+%llu",
				     ppa, (unsigned long long)want_p, (unsigned long long)want_b,
				     (unsigned long long)(pa->packets - pb->packets),
				     (unsigned long long)(pa->bytes - pb->bytes));
				ok = false;
			}
			want_p = want_b = 0;
			/* A rule_addr names the rule (after DNAT), else the destination does. */
			if (r->rule == RULE_BY_IN &&
			    !strcmp(bya, r->rule_addr ? r->rule_addr : dst_text)) {
				want_p = 1;
				want_b = len;
			}
			if (ba->in_packets - bb->in_packets != want_p ||
			    ba->in_bytes - bb->in_bytes != want_b) {
				fail(r->name, "bypass rule %s in counters: expected +%llu/+%llu got +%llu/+%llu",
				     bya, (unsigned long long)want_p, (unsigned long long)want_b,
				     (unsigned long long)(ba->in_packets - bb->in_packets),
				     (unsigned long long)(ba->in_bytes - bb->in_bytes));
				ok = false;
			}
			want_p = want_b = 0;
			if (r->rule == RULE_BY_OUT && r->rule_addr && !strcmp(bya, r->rule_addr)) {
				want_p = 1;
				want_b = len;
			}
			if (ba->out_packets - bb->out_packets != want_p ||
			    ba->out_bytes - bb->out_bytes != want_b) {
				fail(r->name, "bypass rule %s out counters: expected +%llu/+%llu got +%llu/+%llu",
				     bya, (unsigned long long)want_p, (unsigned long long)want_b,
				     (unsigned long long)(ba->out_packets - bb->out_packets),
				     (unsigned long long)(ba->out_bytes - bb->out_bytes));
				ok = false;
			}
		}
	return ok;
}

/* RX +1 and exactly the expected reason +1 (bytes = len) on the row's hook, nothing else. */
static bool check_stats(const char *name, enum th_prog p, int reason, __u32 len,
			const struct th_stats *d)
{
	unsigned int hook, rs, want_hook = th_prog_hook(p);
	bool ok = true;

	for (hook = 0; hook < XDPCTL_HOOK_MAX; hook++)
		for (rs = 0; rs < XDPCTL_REASON_MAX; rs++) {
			__u64 want = hook == want_hook && (rs == XDPCTL_R_RX || (int)rs == reason);

			if (d->c[hook][rs].packets != want || d->c[hook][rs].bytes != want * len) {
				fail(name, "counter %s/%s: expected +%llu packets +%llu bytes got +%llu +%llu",
				     th_hook_name(hook), th_reason_name(rs), (unsigned long long)want,
				     (unsigned long long)(want * len),
				     (unsigned long long)d->c[hook][rs].packets,
				     (unsigned long long)d->c[hook][rs].bytes);
				ok = false;
			}
		}
	return ok;
}

static void addr_text(const struct pb_spec *s, const __u8 *a, char *out, size_t cap)
{
	inet_ntop(s->family == 6 ? AF_INET6 : AF_INET, a, out, cap);
}

static bool check_bytes(const char *name, const __u8 *got, __u32 got_len, const __u8 *want,
			__u32 want_len)
{
	int d = pb_first_diff(got, got_len, want, want_len);
	char hg[40], hw[40];

	if (d < 0)
		return true;
	pb_hex(want + d, want_len > (__u32)d ? (want_len - d < 12 ? want_len - d : 12) : 0, hw,
	       sizeof(hw));
	pb_hex(got + d, got_len > (__u32)d ? (got_len - d < 12 ? got_len - d : 12) : 0, hg, sizeof(hg));
	fail(name, "output bytes: expected %u bytes, at offset %d '%s' got %u bytes '%s'", want_len, d,
	     hw, got_len, hg);
	return false;
}

static void run_row_body(const struct row *r, int *len_out)
{
	static __u8 in[PB_MAX_FRAME], out[PB_MAX_FRAME + 256], want[PB_MAX_FRAME];
	struct th_stats sb, sa, sd;
	struct rule_snap rb, ra;
	struct th_run run = {};
	char dst[INET6_ADDRSTRLEN] = "";
	int len, want_len, err, nev;

	world(r->world);
	len = pb_build(&r->in, in, sizeof(in));
	if (len < 0) {
		fail(r->name, "pb_build: %s", strerror(-len));
		return;
	}
	if (r->trunc)
		len = r->trunc;
	if (r->out == OUT_SPEC) {
		want_len = pb_build(&r->exp, want, sizeof(want));
		if (want_len < 0) {
			fail(r->name, "pb_build expected: %s", strerror(-want_len));
			return;
		}
	} else {
		memcpy(want, in, len);
		want_len = len;
	}
	if (r->in.family)
		addr_text(&r->in, r->in.dst, dst, sizeof(dst));

	err = th_stats_read(H, &sb);
	if (!err)
		err = snap_rules(&rb);
	if (err) {
		fail(r->name, "reading counters: %s", strerror(-err));
		return;
	}
	run.in = in;
	run.in_len = len;
	run.out = out;
	run.out_cap = sizeof(out);
	run.ifindex = r->ifindex;
	run.flags = r->csum_complete ? BPF_F_TEST_SKB_CHECKSUM_COMPLETE : 0;
	err = th_run(H, r->prog, &run);
	if (r->csum_complete && err == -EINVAL) {
		printf("SKIP %s: this kernel has no BPF_F_TEST_SKB_CHECKSUM_COMPLETE (6.16+)\n", r->name);
		n_skip++;
		*len_out = -1;
		return;
	}
	if (r->csum_complete && err == -EBADMSG) {
		fail(r->name, "skb->csum (CHECKSUM_COMPLETE) left wrong by the program: the kernel refused the run (EBADMSG)");
		return;
	}
	if (r->err) {
		/* Refused by the kernel: nothing ran, nothing may have moved. */
		if (err != -r->err) {
			fail(r->name, "expected the kernel to refuse the run with %s got %s",
			     strerror(r->err), err ? strerror(-err) : "a run");
			return;
		}
	} else if (err) {
		fail(r->name, "expected BPF_PROG_TEST_RUN to succeed got %s", strerror(-err));
		return;
	}
	if (r->err)
		goto counters;
	if (run.retval != r->ret)
		fail(r->name, "expected verdict %s got %s (%u)", verdict_name(r->prog, r->ret),
		     verdict_name(r->prog, run.retval), run.retval);
	check_bytes(r->name, out, run.out_len, want, want_len);

counters:
	err = th_stats_read(H, &sa);
	if (!err)
		err = snap_rules(&ra);
	if (err) {
		fail(r->name, "reading counters: %s", strerror(-err));
		return;
	}
	th_stats_delta(&sb, &sa, &sd);
	if (r->err) {
		struct th_stats zero = {};

		if (memcmp(&sd, &zero, sizeof(zero)))
			fail(r->name, "expected no counter to move on a refused run");
		check_rules(r, &rb, &ra, "", 0);
	} else {
		check_stats(r->name, r->prog, r->reason, len, &sd);
		check_rules(r, &rb, &ra, dst, len);
	}
	nev = th_events_drain(H, NULL, 0);
	if (nev != 0)
		fail(r->name, "expected no trace event while tracing is off got %d", nev);
	*len_out = len;
}

static void run_row(const struct row *r)
{
	int fails = n_fail, len = 0;

	run_row_body(r, &len);
	if (len < 0)
		return;
	if (n_fail == fails) {
		printf("PASS %s%s\n", r->name, r->err ? " (refused by the kernel: EINVAL)" : "");
		n_pass++;
	} else {
		printf("     input: %s, %d bytes\n", r->how, len);
		n_failed++;
	}
}

/* ---------------------------------------------------------------------------
 * Trace events
 */

struct ev_want {
	__u8 kind;
	__u8 reason;
	bool addrs;        /* src/dst/family filled (after the parse) */
	__u32 out_ifindex;
};

static void run_trace_body(const char *full, enum th_prog p, const struct pb_spec *s, __u32 ifindex,
		      bool on, const struct ev_want *want, int n_want, __u8 l4proto)
{
	static __u8 in[PB_MAX_FRAME], out[PB_MAX_FRAME + 256];
	struct xdpctl_event ev[16];
	struct th_run run = {};
	__u32 want_if = ifindex ? ifindex : if_lo;
	int len, n, i, err;

	world(0);
	err = th_trace(H, on);
	if (err) {
		fail(full, "th_trace: %s", strerror(-err));
		return;
	}
	len = pb_build(s, in, sizeof(in));
	run.in = in;
	run.in_len = len;
	run.out = out;
	run.out_cap = sizeof(out);
	run.ifindex = ifindex;
	err = th_run(H, p, &run);
	if (err) {
		fail(full, "BPF_PROG_TEST_RUN: %s", strerror(-err));
		return;
	}
	n = th_events_drain(H, ev, 16);
	if (n != n_want) {
		fail(full, "expected %d events got %d", n_want, n);
		return;
	}
	for (i = 0; i < n; i++) {
		const struct xdpctl_event *e = &ev[i];
		const struct ev_want *w = &want[i];
		__u8 fam = w->addrs ? (s->family == 6 ? XDPCTL_AF_INET6 : XDPCTL_AF_INET) : 0;
		size_t alen = s->family == 6 ? 16 : 4;
		__u8 zero[16] = {};

		if (e->hook != th_prog_hook(p))
			fail(full, "event %d: expected hook %u got %u", i, th_prog_hook(p), e->hook);
		if (e->kind != w->kind)
			fail(full, "event %d: expected kind %u got %u", i, w->kind, e->kind);
		if (e->reason != w->reason)
			fail(full, "event %d: expected reason %s got %s", i, th_reason_name(w->reason),
			     th_reason_name(e->reason));
		if (e->ifindex != want_if)
			fail(full, "event %d: expected ifindex %u got %u", i, want_if, e->ifindex);
		if (e->out_ifindex != w->out_ifindex)
			fail(full, "event %d: expected out_ifindex %u got %u", i, w->out_ifindex,
			     e->out_ifindex);
		if (e->pkt_len != (__u32)len)
			fail(full, "event %d: expected pkt_len %d got %u", i, len, e->pkt_len);
		if (e->family != fam)
			fail(full, "event %d: expected family %u got %u", i, fam, e->family);
		if (memcmp(e->src, w->addrs ? s->src : zero, alen) ||
		    memcmp(e->dst, w->addrs ? s->dst : zero, alen)) {
			char gs[INET6_ADDRSTRLEN] = "?", gd[INET6_ADDRSTRLEN] = "?";

			addr_text(s, e->src, gs, sizeof(gs));
			addr_text(s, e->dst, gd, sizeof(gd));
			fail(full, "event %d: expected addresses %s, got %s -> %s", i,
			     w->addrs ? "of the request" : "zero", gs, gd);
		}
		if (w->addrs && e->l4proto != l4proto)
			fail(full, "event %d: expected l4proto %u got %u", i, l4proto, e->l4proto);
		if (w->addrs && l4proto == IPPROTO_UDP &&
		    (e->sport != s->sport || e->dport != s->dport))
			fail(full, "event %d: expected ports %u -> %u got %u -> %u", i,
			     ntohs(s->sport), ntohs(s->dport), ntohs(e->sport), ntohs(e->dport));
		if (w->kind == XDPCTL_EV_ICMP_REQ && e->icmp_type != s->icmp_type)
			fail(full, "event %d: expected icmp_type %u got %u", i, s->icmp_type, e->icmp_type);
	}
}

static void run_trace(const char *name, enum th_prog p, const struct pb_spec *s, __u32 ifindex,
		      bool on, const struct ev_want *want, int n_want, __u8 l4proto)
{
	int fails = n_fail;
	char full[160];

	snprintf(full, sizeof(full), "trace %s: %s [%s]", on ? "on" : "off", name, th_prog_name(p));
	run_trace_body(full, p, s, ifindex, on, want, n_want, l4proto);
	if (n_fail == fails) {
		printf("PASS %s\n", full);
		n_pass++;
	} else {
		n_failed++;
	}
}

static void trace_cases(void)
{
	struct pb_spec s;
	int v6;

	for (v6 = 0; v6 < 2; v6++) {
		const struct ev_want echo_xdp[] = {
			{ XDPCTL_EV_RX, XDPCTL_R_RX, false, 0 },
			{ XDPCTL_EV_ICMP_REQ, XDPCTL_R_PINGPONG, true, 0 },
			{ XDPCTL_EV_PINGPONG, XDPCTL_R_PINGPONG, true, 0 },
		};
		const struct ev_want echo_tc[] = {
			{ XDPCTL_EV_RX, XDPCTL_R_RX, false, 0 },
			{ XDPCTL_EV_ICMP_REQ, XDPCTL_R_PINGPONG, true, 0 },
			{ XDPCTL_EV_PINGPONG, XDPCTL_R_PINGPONG, true, if_lo },
		};
		const struct ev_want bypass[] = {
			{ XDPCTL_EV_RX, XDPCTL_R_RX, false, 0 },
			{ XDPCTL_EV_BYPASS, XDPCTL_R_BYPASS, true, if_veth },
		};
		const struct ev_want miss[] = {
			{ XDPCTL_EV_RX, XDPCTL_R_RX, false, 0 },
			{ XDPCTL_EV_PASS, XDPCTL_R_PASS, true, 0 },
		};
		const struct ev_want fib_miss[] = {
			{ XDPCTL_EV_RX, XDPCTL_R_RX, false, 0 },
			{ XDPCTL_EV_PASS, XDPCTL_R_FIB_MISS, true, 0 },
		};
		const struct ev_want fwd_ok[] = {
			{ XDPCTL_EV_RX, XDPCTL_R_RX, false, 0 },
			{ XDPCTL_EV_BYPASS, XDPCTL_R_BYPASS, true, if_uplink },
		};
		__u8 icmp = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
		char name[96];

		s = echo_req(v6, PP[v6]);
		snprintf(name, sizeof(name), "%s echo to a ping-pong address", ipv(v6));
		run_trace(name, TH_XDP, &s, 0, true, echo_xdp, 3, icmp);
		run_trace(name, TH_TC_IN, &s, 0, true, echo_tc, 3, icmp);
		run_trace(name, TH_XDP, &s, 0, false, NULL, 0, icmp);
		run_trace(name, TH_TC_IN, &s, 0, false, NULL, 0, icmp);

		s = udp_to(v6, BY[v6]);
		snprintf(name, sizeof(name), "%s UDP bypass hit", ipv(v6));
		run_trace(name, TH_XDP, &s, 0, true, bypass, 2, IPPROTO_UDP);
		run_trace(name, TH_TC_IN, &s, 0, true, bypass, 2, IPPROTO_UDP);
		run_trace(name, TH_XDP, &s, 0, false, NULL, 0, IPPROTO_UDP);

		s = udp_to(v6, UNK[v6]);
		snprintf(name, sizeof(name), "%s UDP miss", ipv(v6));
		run_trace(name, TH_XDP, &s, 0, true, miss, 2, IPPROTO_UDP);
		run_trace(name, TH_TC_IN, &s, 0, true, miss, 2, IPPROTO_UDP);

		s = udp_from(BY[v6], NOWHERE[v6]);
		snprintf(name, sizeof(name), "%s return path, FIB miss", ipv(v6));
		run_trace(name, TH_TC_FWD, &s, if_veth, true, fib_miss, 2, IPPROTO_UDP);
		run_trace(name, TH_TC_FWD, &s, if_veth, false, NULL, 0, IPPROTO_UDP);

		s = udp_from(BY[v6], CLIENT[v6]);
		snprintf(name, sizeof(name), "%s return path forwarded", ipv(v6));
		run_trace(name, TH_TC_FWD, &s, if_veth, true, fwd_ok, 2, IPPROTO_UDP);
	}
}

/*
 * The job handover (ct.h, CT_JOB_MARK): the main program fills the job for
 * the tail-called one in per-CPU scratch. A job whose tail call did not
 * happen must never be used for another packet: with the tail-call slot
 * empty, packet A through the main program (it fills the job, the tail
 * call fails), then packet B of the same length and device through the
 * tail-called program alone must get B's verdict, not A's. Both ways: A
 * a DNAT hit and B a miss, then A the miss and B the hit (the tail program
 * alone parses B itself). Then, the slot filled again, A through the main
 * program is forwarded (the handover path).
 */
static void stale_job_one(enum th_prog p, int v6, bool hit_first)
{
	static __u8 a[PB_MAX_FRAME], b[PB_MAX_FRAME], out[PB_MAX_FRAME + 256], want[PB_MAX_FRAME];
	struct pb_spec hit, miss, exp;
	struct th_run run = {};
	int la, lb, lw, err, fails = n_fail;
	char name[160];

	snprintf(name, sizeof(name),
		 "%s ct [%s]: a job left by a packet whose tail call failed is not used for the next (%s first)",
		 ipv(v6), th_prog_name(p), hit_first ? "hit" : "miss");
	world(W_CT);
	hit = udp_to(v6, PUB[v6]);
	set_ports(&hit, P_CLIENT, P_PUB);
	miss = hit;
	set_ports(&miss, P_CLIENT4, P_PUB);
	la = pb_build(hit_first ? &hit : &miss, a, sizeof(a));
	lb = pb_build(hit_first ? &miss : &hit, b, sizeof(b));
	if (la < 0 || lb < 0 || la != lb) {
		fail(name, "pb_build: %d and %d bytes", la, lb);
		goto out;
	}
	err = th_tail_set(H, p, false);
	if (err) {
		fail(name, "emptying the tail-call slot: %s", strerror(-err));
		goto out;
	}
	run.in = a;
	run.in_len = la;
	run.out = out;
	run.out_cap = sizeof(out);
	err = th_run(H, p, &run);
	if (err || run.retval != verdict_pass(p))
		fail(name, "packet A, no tail program: expected %s got %s (%s)",
		     verdict_name(p, verdict_pass(p)), verdict_name(p, run.retval),
		     err ? strerror(-err) : "ran");
	check_bytes(name, out, run.out_len, a, la);

	memset(&run, 0, sizeof(run));
	run.in = b;
	run.in_len = lb;
	run.out = out;
	run.out_cap = sizeof(out);
	err = th_run_fd(th_tail_fd(H, p), th_prog_is_xdp(p), &run);
	if (hit_first) {
		/* B is the miss: to the stack untouched. */
		if (err || run.retval != verdict_pass(p))
			fail(name, "packet B (no entry) through the tail program: expected %s got %s (%s)",
			     verdict_name(p, verdict_pass(p)), verdict_name(p, run.retval),
			     err ? strerror(-err) : "ran");
		check_bytes(name, out, run.out_len, b, lb);
	} else {
		/* B is the hit: its own DNAT, parsed by the tail program itself. */
		exp = forwarded(&hit, MAC_CONT, MAC_GW);
		set_addr(&exp, true, v6, BY[v6]);
		exp.dport = htons(P_CONT);
		lw = pb_build(&exp, want, sizeof(want));
		if (err || run.retval != verdict_fwd(p))
			fail(name, "packet B (DNAT entry) through the tail program: expected %s got %s (%s)",
			     verdict_name(p, verdict_fwd(p)), verdict_name(p, run.retval),
			     err ? strerror(-err) : "ran");
		check_bytes(name, out, run.out_len, want, lw);
	}

	err = th_tail_set(H, p, true);
	if (err)
		die("filling the tail-call slot again", err);
	if (hit_first) {
		/* The handover itself: A through the main program, forwarded. */
		exp = forwarded(&hit, MAC_CONT, MAC_GW);
		set_addr(&exp, true, v6, BY[v6]);
		exp.dport = htons(P_CONT);
		lw = pb_build(&exp, want, sizeof(want));
		memset(&run, 0, sizeof(run));
		run.in = a;
		run.in_len = la;
		run.out = out;
		run.out_cap = sizeof(out);
		err = th_run(H, p, &run);
		if (err || run.retval != verdict_fwd(p))
			fail(name, "packet A through the main program and its tail call: expected %s got %s (%s)",
			     verdict_name(p, verdict_fwd(p)), verdict_name(p, run.retval),
			     err ? strerror(-err) : "ran");
		check_bytes(name, out, run.out_len, want, lw);
	}
out:
	th_events_drain(H, NULL, 0);
	if (n_fail == fails) {
		printf("PASS %s\n", name);
		n_pass++;
	} else {
		n_failed++;
	}
}

static void stale_job_cases(void)
{
	static const enum th_prog progs[] = { TH_XDP, TH_TC_IN };
	int i, v6;

	for (i = 0; i < 2; i++)
		for (v6 = 0; v6 < 2; v6++) {
			stale_job_one(progs[i], v6, true);
			stale_job_one(progs[i], v6, false);
		}
}

/* The kernel refuses test runs on frames shorter than an Ethernet header. */
static void short_frames(void)
{
	static const enum th_prog progs[] = { TH_XDP, TH_TC_IN, TH_TC_FWD };
	__u8 in[ETH_HLEN] = {};
	size_t i;
	int len;

	for (i = 0; i < 3; i++) {
		int fails = n_fail;
		char name[96];

		snprintf(name, sizeof(name), "frames of 1..13 bytes are refused by the kernel [%s]",
			 th_prog_name(progs[i]));
		for (len = 1; len < ETH_HLEN; len++) {
			struct th_run run = { .in = in, .in_len = len };
			int err = th_run(H, progs[i], &run);

			if (err != -EINVAL) {
				fail(name, "length %d: expected EINVAL got %d (%s)", len, err,
				     err ? strerror(-err) : "ran");
				break;
			}
		}
		if (n_fail == fails) {
			printf("PASS %s\n", name);
			n_pass++;
		} else {
			n_failed++;
		}
	}
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

int main(void)
{
	struct th_opts o = { .sz = sizeof(o), .max_rules = 1024, .max_pingpong = 64 };
	int i, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("SKIP: needs root (BPF_PROG_TEST_RUN, network namespaces)\n");
		return 77;
	}
	libbpf_set_print(quiet);
	err = th_enter_private_netns();
	if (err)
		die("private network namespace", err);
	plumb();
	H = th_open(&o);
	if (!H)
		die("th_open", errno);

	ct_entries();
	build_table();
	for (i = 0; i < n_rows; i++)
		run_row(&rows[i]);
	trace_cases();
	stale_job_cases();
	short_frames();

	ct_inject__destroy(CTI);
	th_close(H);
	free(rows);
	printf("%d passed, %d failed, %d skipped\n", n_pass, n_failed, n_skip);
	return n_fail ? 1 : 0;
}
