// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reference classifier (see ref.h). Semantics, in the order they apply,
 * from docs/design.md ("The programs, packet by packet"), bpf/abi.h (reasons, rule structs) and the
 * block comments above the programs (reasons by the names abi.h gives them):
 *
 *  1. fewer than 14 bytes: no Ethernet header           -> malformed
 *     a frame that parses (6 below finds nothing) and is ICMPv6 neighbour
 *     discovery (types 133-137), any MAC, any hook     -> neighbour_discovery
 *  2. group bit in the destination MAC                  -> broadcast
 *  3. xdp/tc_in only: the device has an xdpctl_ifaces entry and the
 *     destination MAC is not its MAC                    -> not_for_us
 *  4. more than two VLAN tags (802.1Q/802.1ad)          -> vlan
 *     a tag cut short                                   -> malformed
 *  5. ethertype not IPv4/IPv6                           -> unknown_l3
 *  6. malformed IP: IPv4 shorter than 20 bytes, version not 4, IHL < 5,
 *     total length below the header or beyond the frame; IPv6 shorter
 *     than 40 bytes, version not 6, payload beyond the frame, an extension
 *     header not wholly inside the payload, a chain the bounded walk does
 *     not finish (MAX_EXAMINED below); an ICMP or ICMPv6 (8 bytes, either
 *     protocol number in either family, as the parsers share one header),
 *     UDP (8) or TCP (20 bytes) header of a first fragment or whole
 *     datagram not wholly inside the IP payload (bytes after the IP length
 *     are Ethernet padding, not packet)                 -> malformed
 *  7. xdp/tc_in: a ping-pong rule for the destination with this hook's bit:
 *     a fragment that is or may be part of an echo request (first fragment:
 *     an echo request; non-first: IPv4 protocol ICMP, IPv6 any, since the
 *     program does not walk past the fragment header)  -> fragment
 *     an echo request (ICMP type 8 in IPv4, ICMPv6 type 128 in IPv6): the
 *     reply in place, MACs and addresses swapped, TTL/hop limit 64, type
 *     0/129, checksums from scratch; XDP_TX / redirect to the same device
 *                                                       -> pingpong
 *     an echo request from a martian source (group-bit source MAC, IPv4
 *     0/8, 127/8, 224/4, 255.255.255.255, IPv6 ::, ::1, ff00::/8)
 *                                                       -> martian_source
 *     an IPv6 echo request with a routing header whose segments left is
 *     not 0, or with AH                                 -> ext_header
 *     xdp only: a rule with the tc bit but not xdp's, an unfragmented echo
 *     request -> to_tc (left untouched for the tc program to answer)
 *  8. xdp/tc_in: a bypass rule for the destination:
 *     xdp only, the device's entry has XDPCTL_IF_BYPASS_TO_TC (engine
 *     auto) -> TO_TC (every bypass hit passed on to tc, untouched);
 *     xdp only, the device's entry has XDPCTL_IF_TCP_TO_TC and the upper
 *     layer is TCP (IPv4: the protocol field, also of a later fragment;
 *     IPv6: the end of the chain, unknown behind a later fragment's
 *     header) -> to_tc (passed on for the tc program, untouched);
 *     any VLAN tag -> vlan; TTL/hop limit <= 1 -> ttl_expired; L3 length
 *     above a non-zero rule MTU -> too_big; no devmap entry for the rule's
 *     ifindex (xdp and tc_in) -> redirect_error (frame untouched); else new
 *     MACs, TTL/hop limit - 1, IPv4 header checksum from scratch, redirect
 *                                                       -> bypass
 *  9. tc_fwd: a bypass rule for the source: any tag -> vlan; TTL <= 1 ->
 *     ttl_expired; FIB: local or unrouted destination -> fib_miss; L3 length above
 *     the output device's MTU -> too_big; neighbour not resolved ->
 *     fib_miss; output device not an uplink in xdpctl_ifaces -> not_uplink;
 *     else the neighbour's MAC and the device's MAC, TTL - 1, redirect to
 *     it                                                -> bypass
 * 10. nothing matched                                   -> pass
 *
 * Every reason but pingpong and bypass hands the frame to the stack
 * untouched (XDP_PASS / TC_ACT_OK). A checksum that was wrong on input stays
 * exactly as wrong (its one's complement residue is carried over): the
 * dataplane neither repairs nor adds corruption (docs/design.md,
 * Traps, "Checksum offload": it must not corrupt what it forwards); valid
 * input must give the exact from-scratch value.
 */
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "ref.h"

#define ETH_HDR   14
#define TPID_Q    0x8100
#define TPID_AD   0x88a8
#define ET_IPV4   0x0800
#define ET_IPV6   0x86dd
#define MAX_TAGS  2
/*
 * Headers after the IPv6 header that the walk examines. docs/design.md says
 * "up to five extension headers"; the programs examine
 * IPV6_EXT_MAX_CHAIN (6) headers and must meet the upper layer, or a later
 * fragment's header, among them: five extension headers and the upper
 * layer pass, six extension headers are malformed (tests/unit pins the
 * same). bpf/lib/parse.h's comments say "at most IPV6_EXT_MAX_CHAIN
 * extension headers": reported; the model follows the code and the tests.
 */
#define MAX_EXAMINED 6

#define P_HOP     0
#define P_ICMP    1
#define P_TCP     6
#define P_UDP     17
#define P_ROUTING 43
#define P_FRAG    44
#define P_AH      51
#define P_ICMP6   58
#define P_DSTOPTS 60

static __u16 rd16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static void wr16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

__u32 ref_sum(__u32 sum, const __u8 *buf, __u32 len)
{
	__u64 s = sum;
	__u32 i;

	for (i = 0; i + 1 < len; i += 2)
		s += rd16(buf + i);
	if (len & 1)
		s += (__u32)buf[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u32)s;
}

__u16 ref_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

bool ref_csum_equal(__u16 a, __u16 b, bool loose)
{
	if (a == b)
		return true;
	return loose && (a == 0 || a == 0xffff) && (b == 0 || b == 0xffff);
}

/* What the model learned about the frame. Offsets into the frame. */
struct view {
	__u32 len;
	int tags;
	__u16 ethertype;
	int family;          /* 4, 6 or 0 */
	__u32 l3, l3_len, l3_end;
	__u32 ihl_bytes;     /* IPv4 */
	__u8 proto;          /* upper-layer protocol (IPv4 header, IPv6 chain end) */
	bool frag, late;     /* a fragment; a non-first one (no L4 header) */
	bool has_l4;
	__u32 l4;
	__u8 icmp_type;
	__u8 ttl;
	bool rh_live;        /* IPv6: a routing header with segments left */
	bool ah;             /* IPv6: an authentication header */
	struct xdpctl_addr src, dst;
};

static void mkaddr(struct xdpctl_addr *a, const __u8 *p, int family)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->addr, p, family == 4 ? 4 : 16);
	a->family = family == 4 ? XDPCTL_AF_INET : XDPCTL_AF_INET6;
}

static bool addr_eq(const struct xdpctl_addr *a, const struct xdpctl_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Minimum header an upper layer must bring, 0 when the program reads none. */
static __u32 l4_min(__u8 proto)
{
	switch (proto) {
	case P_ICMP:
	case P_ICMP6:
	case P_UDP:
		return 8;
	case P_TCP:
		return 20;
	default:
		return 0;
	}
}

/* Steps 4-6: tags, ethertype, IP, extension headers, L4 header. */
static int parse(const __u8 *f, struct view *v, const char **why)
{
	__u32 off = ETH_HDR, need;
	__u16 et = rd16(f + 12);

	while (et == TPID_Q || et == TPID_AD) {
		if (v->tags == MAX_TAGS) {
			*why = "a third VLAN tag";
			return XDPCTL_R_VLAN;
		}
		if (off + 4 > v->len) {
			*why = "VLAN tag cut short";
			return XDPCTL_R_MALFORMED;
		}
		et = rd16(f + off + 2);
		off += 4;
		v->tags++;
	}
	v->ethertype = et;
	v->l3 = off;

	if (et == ET_IPV4) {
		const __u8 *ip = f + off;
		__u32 avail = v->len - off;
		__u16 fo;

		v->family = 4;
		if (avail < 20) {
			*why = "IPv4 header cut short";
			return XDPCTL_R_MALFORMED;
		}
		if ((ip[0] >> 4) != 4 || (ip[0] & 15) < 5) {
			*why = "IPv4 version or IHL";
			return XDPCTL_R_MALFORMED;
		}
		v->ihl_bytes = (ip[0] & 15) * 4u;
		v->l3_len = rd16(ip + 2);
		if (v->l3_len < v->ihl_bytes || v->l3_len > avail) {
			*why = "IPv4 total length";
			return XDPCTL_R_MALFORMED;
		}
		v->l3_end = off + v->l3_len;
		v->proto = ip[9];
		v->ttl = ip[8];
		fo = rd16(ip + 6);
		v->frag = (fo & 0x3fff) != 0;
		v->late = (fo & 0x1fff) != 0;
		mkaddr(&v->src, ip + 12, 4);
		mkaddr(&v->dst, ip + 16, 4);
		v->l4 = off + v->ihl_bytes;
	} else if (et == ET_IPV6) {
		const __u8 *ip6 = f + off;
		__u32 avail = v->len - off, cur, n;
		__u8 nh;

		v->family = 6;
		if (avail < 40) {
			*why = "IPv6 header cut short";
			return XDPCTL_R_MALFORMED;
		}
		if ((ip6[0] >> 4) != 6) {
			*why = "IPv6 version";
			return XDPCTL_R_MALFORMED;
		}
		v->l3_len = rd16(ip6 + 4) + 40u;
		if (v->l3_len > avail) {
			*why = "IPv6 payload length";
			return XDPCTL_R_MALFORMED;
		}
		v->l3_end = off + v->l3_len;
		v->ttl = ip6[7];
		mkaddr(&v->src, ip6 + 8, 6);
		mkaddr(&v->dst, ip6 + 24, 6);
		nh = ip6[6];
		cur = off + 40;
		for (n = 0;; n++) {
			__u32 hlen;

			if (n == MAX_EXAMINED) {
				*why = "IPv6 extension chain beyond the bound";
				return XDPCTL_R_MALFORMED;
			}
			if (nh != P_HOP && nh != P_ROUTING && nh != P_DSTOPTS && nh != P_AH &&
			    nh != P_FRAG)
				break;
			if (cur + 2 > v->l3_end) {
				*why = "IPv6 extension header cut short";
				return XDPCTL_R_MALFORMED;
			}
			if (nh == P_FRAG)
				hlen = 8;
			else if (nh == P_AH)
				hlen = (f[cur + 1] + 2u) * 4;
			else
				hlen = (f[cur + 1] + 1u) * 8;
			if (cur + hlen > v->l3_end) {
				*why = "IPv6 extension header cut short";
				return XDPCTL_R_MALFORMED;
			}
			if (nh == P_ROUTING && f[cur + 3])
				v->rh_live = true;
			if (nh == P_AH)
				v->ah = true;
			if (nh == P_FRAG) {
				v->frag = true;
				if (rd16(f + cur + 2) & 0xfff8) {
					/* A later fragment: what follows is not a header. */
					v->late = true;
					v->proto = 0;
					v->l4 = cur + hlen;
					return 0;
				}
			}
			nh = f[cur];
			cur += hlen;
		}
		v->proto = nh;
		v->l4 = cur;
	} else {
		*why = "not IPv4/IPv6";
		return XDPCTL_R_UNKNOWN_L3;
	}

	if (v->late)
		return 0;
	need = l4_min(v->proto);
	if (need && v->l4 + need > v->l3_end) {
		*why = "L4 header cut short (within the IP length)";
		return XDPCTL_R_MALFORMED;
	}
	v->has_l4 = true;
	if (v->proto == P_ICMP || v->proto == P_ICMP6)
		v->icmp_type = f[v->l4];
	return 0;
}

static bool is_echo_request(const struct view *v)
{
	if (!v->has_l4)
		return false;
	if (v->family == 4)
		return v->proto == P_ICMP && v->icmp_type == 8;
	return v->proto == P_ICMP6 && v->icmp_type == 128;
}

/* A fragment that is, or may be, part of an echo request. */
static bool is_echo_fragment(const struct view *v)
{
	if (!v->frag)
		return false;
	if (!v->late)
		return is_echo_request(v);
	if (v->family == 4)
		return v->proto == P_ICMP;
	return true; /* IPv6: the protocol lies past the fragment header */
}

/*
 * A source no echo reply may go to, as the kernel's martian sources: group
 * bit in the source MAC; IPv4 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4,
 * 255.255.255.255; IPv6 ::, ::1, ff00::/8.
 */
static bool martian_source(const __u8 *f, const struct view *v)
{
	static const __u8 zero[16], one[16] = { [15] = 1 };
	const __u8 *a = v->src.addr;

	if (f[6] & 1)
		return true;
	if (v->family == 4)
		return a[0] == 0 || a[0] == 127 || (a[0] >= 224 && a[0] <= 239) ||
		       (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);
	return a[0] == 0xff || !memcmp(a, zero, 16) || !memcmp(a, one, 16);
}

static int find_pp(const struct ref_env *env, const struct xdpctl_addr *a)
{
	int i;

	for (i = 0; i < env->npp; i++)
		if (addr_eq(&env->pp[i].addr, a))
			return i;
	return -1;
}

static int find_by(const struct ref_env *env, const struct xdpctl_addr *a)
{
	int i;

	for (i = 0; i < env->nby; i++)
		if (addr_eq(&env->by[i].addr, a))
			return i;
	return -1;
}

static const struct ref_iface *find_iface(const struct ref_env *env, __u32 ifindex)
{
	int i;

	for (i = 0; i < env->nifs; i++)
		if (env->ifs[i].ifindex == ifindex)
			return &env->ifs[i];
	return NULL;
}

static const struct ref_dev *find_dev(const struct ref_env *env, __u32 ifindex)
{
	int i;

	for (i = 0; i < env->ndevs; i++)
		if (env->devs[i].ifindex == ifindex)
			return &env->devs[i];
	return NULL;
}

static bool in_devmap(const struct ref_env *env, __u32 ifindex)
{
	int i;

	for (i = 0; i < env->ndevmap; i++)
		if (env->devmap[i] == ifindex)
			return true;
	return false;
}

static void add_loose(struct ref_result *r, __u32 off)
{
	if (r->nloose < REF_MAX_LOOSE)
		r->loose[r->nloose++] = off;
}

/*
 * Recompute the 16-bit checksum at @csum_off from scratch: @sum is the
 * one's complement sum of everything it covers with the field read as
 * zero; @residue the sum over the same bytes on input, field included
 * (0xffff when the input was right).
 */
static void set_csum(struct ref_result *r, __u32 csum_off, __u32 sum, __u16 residue)
{
	__u16 fresh = (__u16)~ref_fold(sum);

	if (residue == 0xffff) {
		wr16(r->out + csum_off, fresh);
		return;
	}
	/* Keep the input's error: out sum (field included) == input residue. */
	wr16(r->out + csum_off, ref_fold((__u32)fresh + residue));
	add_loose(r, csum_off);
}

/* IPv4 header checksum of out[l3 .. l3+hl) from scratch, @residue from input. */
static void ipv4_hdr_csum(struct ref_result *r, __u32 l3, __u32 hl, __u16 residue)
{
	__u8 save[2];
	__u32 sum;

	memcpy(save, r->out + l3 + 10, 2);
	memset(r->out + l3 + 10, 0, 2);
	sum = ref_sum(0, r->out + l3, hl);
	memcpy(r->out + l3 + 10, save, 2);
	set_csum(r, l3 + 10, sum, residue);
}

/* Sum of the ICMP(v6) message of @buf (checksum field read as zero) and pseudo-header. */
static __u32 icmp_sum(const __u8 *buf, const struct view *v, bool with_csum)
{
	__u32 mlen = v->l3_end - v->l4, sum = 0;
	__u8 ph[8];

	if (v->family == 6) {
		sum = ref_sum(sum, buf + v->l3 + 8, 32); /* source and destination */
		ph[0] = mlen >> 24;
		ph[1] = mlen >> 16;
		ph[2] = mlen >> 8;
		ph[3] = mlen;
		ph[4] = ph[5] = ph[6] = 0;
		ph[7] = P_ICMP6;
		sum = ref_sum(sum, ph, 8);
	}
	sum = ref_sum(sum, buf + v->l4, 2);            /* type, code */
	if (with_csum)
		sum = ref_sum(sum, buf + v->l4 + 2, 2);
	return ref_sum(sum, buf + v->l4 + 4, mlen - 4);
}

static void echo_reply(const struct view *v, const __u8 *in, struct ref_result *r)
{
	__u16 ip_res = 0xffff, icmp_res;
	__u8 tmp[16];
	__u32 l3 = v->l3;

	icmp_res = ref_fold(icmp_sum(in, v, true));
	if (v->family == 4)
		ip_res = ref_fold(ref_sum(0, in + l3, v->ihl_bytes));

	memcpy(r->out, in + 6, 6);
	memcpy(r->out + 6, in, 6);
	if (v->family == 4) {
		memcpy(tmp, in + l3 + 12, 4);
		memcpy(r->out + l3 + 12, in + l3 + 16, 4);
		memcpy(r->out + l3 + 16, tmp, 4);
		r->out[l3 + 8] = REF_REPLY_TTL;
		ipv4_hdr_csum(r, l3, v->ihl_bytes, ip_res);
		r->out[v->l4] = 0;
	} else {
		memcpy(tmp, in + l3 + 8, 16);
		memcpy(r->out + l3 + 8, in + l3 + 24, 16);
		memcpy(r->out + l3 + 24, tmp, 16);
		r->out[l3 + 7] = REF_REPLY_TTL;
		r->out[v->l4] = 129;
	}
	set_csum(r, v->l4 + 2, icmp_sum(r->out, v, false), icmp_res);
}

/* New MACs, one hop less; the IPv4 header checksum from scratch. */
static void forward(const struct view *v, const __u8 *in, struct ref_result *r,
		    const __u8 *dmac, const __u8 *smac)
{
	memcpy(r->out, dmac, 6);
	memcpy(r->out + 6, smac, 6);
	if (v->family == 4) {
		__u16 res = ref_fold(ref_sum(0, in + v->l3, v->ihl_bytes));

		r->out[v->l3 + 8] = v->ttl - 1;
		ipv4_hdr_csum(r, v->l3, v->ihl_bytes, res);
	} else {
		r->out[v->l3 + 7] = v->ttl - 1;
	}
}

static bool prefix_match(const __u8 *a, const __u8 *p, int plen)
{
	int full = plen / 8, rest = plen % 8;

	if (memcmp(a, p, full))
		return false;
	if (rest && ((a[full] ^ p[full]) & (0xff << (8 - rest))))
		return false;
	return true;
}

/*
 * The return path's FIB, in the order a router works: a destination whose
 * route is not unicast (local, broadcast, anycast) or no route -> FIB_MISS; larger than the output device's MTU -> TOO_BIG;
 * neighbour (gateway or the destination itself) not resolved -> FIB_MISS.
 * @return 0 with *route, *nb and *odev, or the reason.
 */
static int fib(const struct ref_env *env, const struct view *v, const struct ref_route **route,
	       const struct ref_neigh **nb, const struct ref_dev **odev, const char **why)
{
	const struct ref_route *best = NULL;
	const __u8 *hop;
	int i, alen = v->family == 4 ? 4 : 16;

	for (i = 0; i < env->nlocal; i++)
		if (addr_eq(&env->local[i], &v->dst)) {
			*why = "FIB: not a unicast route (local, broadcast, anycast)";
			return XDPCTL_R_FIB_MISS;
		}
	for (i = 0; i < env->nroutes; i++) {
		const struct ref_route *rt = &env->routes[i];

		if (rt->family != v->dst.family || !prefix_match(v->dst.addr, rt->prefix, rt->plen))
			continue;
		if (!best || rt->plen > best->plen)
			best = rt;
	}
	if (!best) {
		*why = "FIB: no route";
		return XDPCTL_R_FIB_MISS;
	}
	*odev = find_dev(env, best->oif);
	if (!*odev || v->l3_len > (*odev)->mtu) {
		*why = "larger than the output device's MTU";
		return XDPCTL_R_TOO_BIG;
	}
	hop = best->has_gw ? best->gw : v->dst.addr;
	for (i = 0; i < env->nneigh; i++) {
		const struct ref_neigh *n = &env->neigh[i];

		if (n->family == v->dst.family && n->ifindex == best->oif &&
		    !memcmp(n->addr, hop, alen)) {
			*route = best;
			*nb = n;
			return 0;
		}
	}
	/* No neighbour: the program sends it by bpf_redirect_neigh(). */
	*route = best;
	*nb = NULL;
	return 0;
}

/* ICMPv6 neighbour discovery (133-137): always the stack's. */
static bool is_nd(const struct view *v)
{
	return v->family == 6 && v->proto == P_ICMP6 && v->has_l4 && v->icmp_type >= 133 &&
	       v->icmp_type <= 137;
}

/*
 * What the conntrack fast path decides before a lookup: 0 when the frame
 * may be looked up, else the reason. The model's namespace has no
 * conntrack entries, so a lookup always ends in XDPCTL_R_CT_NEW.
 */
static int ct_pre(const __u8 *f, const struct view *v, const char **why)
{
	if (v->frag) {
		*why = "conntrack mode: a fragment";
		return XDPCTL_R_FRAGMENT;
	}
	if (v->proto != P_TCP && v->proto != P_UDP) {
		*why = is_nd(v) ? "neighbour discovery" : "conntrack mode: not TCP/UDP";
		return is_nd(v) ? XDPCTL_R_ND : XDPCTL_R_NOT_TCPUDP;
	}
	if (v->proto == P_TCP && (f[v->l4 + 13] & 0x02)) {
		*why = "conntrack mode: TCP SYN";
		return XDPCTL_R_CT_NEW;
	}
	if (v->proto == P_TCP && (f[v->l4 + 13] & 0x05)) {
		*why = "conntrack mode: TCP FIN/RST";
		return XDPCTL_R_CT_CLOSING;
	}
	return 0;
}

static void result_pass(struct ref_result *r, enum xdpctl_hook hook, __u32 reason)
{
	r->reason = reason;
	r->verdict = hook == XDPCTL_HOOK_XDP ? XDP_PASS : TC_ACT_OK;
}

int ref_run(const struct ref_env *env, enum xdpctl_hook hook, const __u8 *f, __u32 len,
	    struct ref_result *r)
{
	struct view v = { .len = len };
	const struct ref_iface *dev;
	const char *why = "";
	int reason, idx;

	if (hook >= XDPCTL_HOOK_MAX || len > REF_MAX_FRAME)
		return -EINVAL;
	r->verdict = 0;
	r->reason = 0;
	r->len = len;
	r->rule_idx = -1;
	r->rule_kind = REF_RULE_NONE;
	r->out_len = len;
	r->nloose = 0;
	r->out_ifindex = 0;
	memcpy(r->out, f, len);

	if (len < ETH_HDR) {
		r->why = "shorter than an Ethernet header";
		result_pass(r, hook, XDPCTL_R_MALFORMED);
		return 0;
	}
	/* ICMPv6 neighbour discovery in a frame that parses: the stack's, before the L2 filters. */
	{
		struct view nd = { .len = len };
		const char *w = "";

		if (!parse(f, &nd, &w) && is_nd(&nd)) {
			r->why = "neighbour discovery";
			result_pass(r, hook, XDPCTL_R_ND);
			return 0;
		}
	}
	if (f[0] & 1) {
		r->why = "broadcast/multicast destination MAC";
		result_pass(r, hook, XDPCTL_R_BCAST);
		return 0;
	}
	if (hook != XDPCTL_HOOK_TC_FWD) {
		dev = find_iface(env, env->in_ifindex);
		if (dev && memcmp(f, dev->mac, 6)) {
			r->why = "destination MAC is not the device's";
			result_pass(r, hook, XDPCTL_R_NOT_US);
			return 0;
		}
	}
	reason = parse(f, &v, &why);
	if (reason) {
		r->why = why;
		result_pass(r, hook, reason);
		return 0;
	}

	if (hook == XDPCTL_HOOK_TC_FWD) {
		const struct ref_route *rt;
		const struct ref_neigh *nb;
		const struct ref_dev *odev;
		const struct ref_iface *oif;

		if (is_nd(&v)) {
			r->why = "neighbour discovery";
			result_pass(r, hook, XDPCTL_R_ND);
			return 0;
		}
		idx = find_by(env, &v.src);
		if (idx < 0) {
			r->why = "no bypass rule for the source";
			result_pass(r, hook, XDPCTL_R_PASS);
			return 0;
		}
		if (env->by[idx].ifindex != env->fwd_ifindex || memcmp(f + 6, env->by[idx].dmac, 6)) {
			r->why = "source address not owned by this veth and MAC";
			result_pass(r, hook, XDPCTL_R_CT_POLICY);
			return 0;
		}
		if (v.tags) {
			r->why = "tagged frame from a bypassed source";
			result_pass(r, hook, XDPCTL_R_VLAN);
			return 0;
		}
		if (v.ttl <= 1) {
			r->why = "TTL <= 1";
			result_pass(r, hook, XDPCTL_R_TTL);
			return 0;
		}
		reason = fib(env, &v, &rt, &nb, &odev, &why);
		if (reason) {
			r->why = why;
			result_pass(r, hook, reason);
			return 0;
		}
		oif = find_iface(env, rt->oif);
		if (!oif || !(oif->flags & XDPCTL_IF_UPLINK)) {
			r->why = "route leaves by a device that is not an uplink";
			result_pass(r, hook, XDPCTL_R_NOT_UPLINK);
			return 0;
		}
		if (!(oif->flags & XDPCTL_IF_SKIP_FIREWALL)) {
			reason = ct_pre(f, &v, &why);
			if (!reason && v.l4 > 255) {
				why = "conntrack mode: L4 header beyond 255 bytes";
				reason = XDPCTL_R_MALFORMED;
			}
			r->why = reason ? why : "conntrack mode: no entry";
			result_pass(r, hook, reason ? reason : XDPCTL_R_CT_NEW);
			return 0;
		}
		/* An unresolved neighbour: bpf_redirect_neigh, the frame's MACs as they are. */
		forward(&v, f, r, nb ? nb->mac : f, nb ? odev->mac : f + 6);
		r->why = "return path bypass";
		r->reason = XDPCTL_R_BYPASS;
		r->verdict = TC_ACT_REDIRECT;
		r->rule_kind = REF_RULE_BYPASS_OUT;
		r->rule_idx = idx;
		r->out_ifindex = rt->oif;
		return 0;
	}

	idx = find_pp(env, &v.dst);
	if (idx >= 0 && (env->pp[idx].hooks & (1u << hook))) {
		if (is_echo_fragment(&v)) {
			r->why = "fragment of an echo request to a ping-pong address";
			result_pass(r, hook, XDPCTL_R_FRAGMENT);
			return 0;
		}
		if (!v.frag && is_echo_request(&v) && martian_source(f, &v)) {
			r->why = "echo request from a martian source";
			result_pass(r, hook, XDPCTL_R_MARTIAN);
			return 0;
		}
		if (!v.frag && is_echo_request(&v) && (v.rh_live || v.ah)) {
			r->why = "IPv6 echo request with a live routing header or AH";
			result_pass(r, hook, XDPCTL_R_EXT_HDR);
			return 0;
		}
		if (!v.frag && is_echo_request(&v)) {
			echo_reply(&v, f, r);
			r->why = "echo request to a ping-pong address";
			r->reason = XDPCTL_R_PINGPONG;
			r->verdict = hook == XDPCTL_HOOK_XDP ? XDP_TX : TC_ACT_REDIRECT;
			r->rule_kind = REF_RULE_PINGPONG;
			r->rule_idx = idx;
			r->out_ifindex = hook == XDPCTL_HOOK_XDP ? 0 : env->in_ifindex;
			return 0;
		}
	} else if (idx >= 0 && hook == XDPCTL_HOOK_XDP &&
		   (env->pp[idx].hooks & (1u << XDPCTL_HOOK_TC_IN)) && !v.frag &&
		   is_echo_request(&v)) {
		r->why = "echo request for the tc hook's ping-pong rule";
		result_pass(r, hook, XDPCTL_R_TO_TC);
		return 0;
	}

	dev = find_iface(env, env->in_ifindex);
	if (!dev || !(dev->flags & XDPCTL_IF_SKIP_FIREWALL)) {
		/* Conntrack mode: the order of the programs' checks. */
		if (is_nd(&v)) {
			r->why = "neighbour discovery";
			result_pass(r, hook, XDPCTL_R_ND);
			return 0;
		}
		if (v.tags) {
			r->why = "conntrack mode: tagged";
			result_pass(r, hook, XDPCTL_R_VLAN);
			return 0;
		}
		reason = ct_pre(f, &v, &why);
		if (!reason && hook == XDPCTL_HOOK_XDP && dev &&
		    ((dev->flags & XDPCTL_IF_BYPASS_TO_TC) ||
		     ((dev->flags & XDPCTL_IF_TCP_TO_TC) && v.proto == P_TCP))) {
			why = "conntrack mode: TCP left to the tc program";
			reason = XDPCTL_R_TO_TC;
		}
		if (!reason && v.ttl <= 1) {
			why = "TTL <= 1";
			reason = XDPCTL_R_TTL;
		}
		if (!reason && v.l4 > 255) {
			why = "conntrack mode: L4 header beyond 255 bytes";
			reason = XDPCTL_R_MALFORMED;
		}
		r->why = reason ? why : "conntrack mode: no entry";
		result_pass(r, hook, reason ? reason : XDPCTL_R_CT_NEW);
		return 0;
	}
	idx = find_by(env, &v.dst);
	if (idx < 0) {
		r->why = "no rule";
		result_pass(r, hook, XDPCTL_R_PASS);
		return 0;
	}
	if (hook == XDPCTL_HOOK_XDP && dev && (dev->flags & XDPCTL_IF_BYPASS_TO_TC)) {
		r->why = "bypass hit left to the tc program (engine auto)";
		result_pass(r, hook, XDPCTL_R_TO_TC);
		return 0;
	}
	if (hook == XDPCTL_HOOK_XDP && dev && (dev->flags & XDPCTL_IF_TCP_TO_TC) &&
	    v.proto == P_TCP) {
		r->why = "TCP bypass hit left to the tc program";
		result_pass(r, hook, XDPCTL_R_TO_TC);
		return 0;
	}
	if (v.tags) {
		r->why = "tagged frame for a bypass rule";
		result_pass(r, hook, XDPCTL_R_VLAN);
		return 0;
	}
	if (v.ttl <= 1) {
		r->why = "TTL <= 1";
		result_pass(r, hook, XDPCTL_R_TTL);
		return 0;
	}
	if (env->by[idx].mtu && v.l3_len > env->by[idx].mtu) {
		r->why = "larger than the rule's MTU";
		result_pass(r, hook, XDPCTL_R_TOO_BIG);
		return 0;
	}
	if (!in_devmap(env, env->by[idx].ifindex)) {
		r->why = "redirect target not in the devmap";
		result_pass(r, hook, XDPCTL_R_REDIRECT_ERR);
		return 0;
	}
	forward(&v, f, r, env->by[idx].dmac, env->by[idx].smac);
	r->why = "bypass";
	r->reason = XDPCTL_R_BYPASS;
	r->verdict = hook == XDPCTL_HOOK_XDP ? XDP_REDIRECT : TC_ACT_REDIRECT;
	r->rule_kind = REF_RULE_BYPASS_IN;
	r->rule_idx = idx;
	r->out_ifindex = env->by[idx].ifindex;
	return 0;
}
