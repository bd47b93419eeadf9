/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Following the host's conntrack: the kfunc declarations, the few fields
 * of struct nf_conn read through CO-RE (local definitions, no vmlinux.h),
 * the checks an entry must pass before the fast path trusts it, the NAT it
 * recorded, its timeout kept alive, and the flow table xdpctl shows.
 */
#ifndef XDPCTL_CT_H
#define XDPCTL_CT_H

#include "compat.h"
#include "parse.h"

#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif
#ifndef __kconfig
#define __kconfig __attribute__((section(".kconfig")))
#endif

/* ---- the kfuncs (net/netfilter/nf_conntrack_bpf.c) ---- */
/*
 * Complete (not forward) declarations: libbpf checks a kfunc's prototype
 * against the kernel's by kind, and a forward declaration is not a struct.
 * Their fields are never read: struct nf_conn___local below is.
 */
struct nf_conn {
	int opaque;
};
struct bpf_sock_tuple;

/* The 12-byte form of struct bpf_ct_opts every kernel since 6.0 accepts. */
struct bpf_ct_opts___local {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u8 reserved[2];
};
#define XDPCTL_CT_OPTS_SZ 12

extern struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *, struct bpf_sock_tuple *, __u32,
					 struct bpf_ct_opts___local *, __u32) __ksym;
extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *, struct bpf_sock_tuple *, __u32,
					 struct bpf_ct_opts___local *, __u32) __ksym;
extern void bpf_ct_release(struct nf_conn *) __ksym;
extern int bpf_ct_change_timeout(struct nf_conn *, __u32) __ksym;

/* CONFIG_HZ from the kernel config (libbpf reads /proc/config.gz); 0 when unknown. */
extern unsigned long CONFIG_HZ __kconfig __weak;

/* ---- struct nf_conn, only what is read, relocated by CO-RE ---- */
union nf_inet_addr___local {
	__u32 all[4];
	__be32 ip;
	__be32 ip6[4];
};

struct nf_conntrack_tuple___local {
	struct {
		union nf_inet_addr___local u3;
		union {
			__be16 all;
		} u;
		__u16 l3num;
	} src;
	struct {
		union nf_inet_addr___local u3;
		union {
			__be16 all;
		} u;
		__u8 protonum;
		__u8 dir;
	} dst;
} __attribute__((preserve_access_index));

struct nf_conntrack_tuple_hash___local {
	struct nf_conntrack_tuple___local tuple;
} __attribute__((preserve_access_index));

struct ip_ct_tcp___local {
	__u8 state;
} __attribute__((preserve_access_index));

union nf_conntrack_proto___local {
	struct ip_ct_tcp___local tcp;
} __attribute__((preserve_access_index));

struct nf_conn___local {
	__u32 timeout; /* jiffies32 when the entry dies */
	struct nf_conntrack_tuple_hash___local tuplehash[2];
	unsigned long status;
	union nf_conntrack_proto___local proto;
} __attribute__((preserve_access_index));

/* enum ip_conntrack_status bits (include/uapi/linux/netfilter/nf_conntrack_common.h). */
#define XDPCTL_IPS_SEEN_REPLY    (1ul << 1)
#define XDPCTL_IPS_CONFIRMED     (1ul << 3)
#define XDPCTL_IPS_SRC_NAT       (1ul << 4)
#define XDPCTL_IPS_DST_NAT       (1ul << 5)
#define XDPCTL_IPS_SEQ_ADJUST    (1ul << 6)
#define XDPCTL_IPS_SRC_NAT_DONE  (1ul << 7)
#define XDPCTL_IPS_DST_NAT_DONE  (1ul << 8)
#define XDPCTL_IPS_DYING         (1ul << 9)
#define XDPCTL_IPS_UNTRACKED     (1ul << 12)
#define XDPCTL_IPS_HELPER        (1ul << 13)
#define XDPCTL_TCP_CONNTRACK_ESTABLISHED 3

#define XDPCTL_TCP_FIN 0x01
#define XDPCTL_TCP_SYN 0x02
#define XDPCTL_TCP_RST 0x04

/*
 * Timeouts the fast path keeps an entry alive for, in ms: the uplink's
 * netns's nf_conntrack_tcp_timeout_established and
 * nf_conntrack_udp_timeout_stream, read by user space at load time.
 */
const volatile __u32 ct_tcp_timeout_ms = 432000000;
const volatile __u32 ct_udp_timeout_ms = 120000;

#ifndef XDPCTL_CT_NO_MAPS /* (a test helper that only uses the declarations) */
/* Flows on the fast path, for 'xdpctl flows': per CPU, least recently used go first. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, XDPCTL_MAX_FLOWS);
	__type(key, struct xdpctl_flow_key);
	__type(value, struct xdpctl_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpctl_flows SEC(".maps");

/* Packets and bytes forwarded following conntrack, by hook, family and protocol (abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPCTL_FLOWSTAT_ENTRIES);
	__type(key, __u32);
	__type(value, struct xdpctl_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpctl_flowstat SEC(".maps");

/* Scratch space for values too large for the BPF stack (per CPU, not pinned). */
struct ct_scratch {
	struct xdpctl_flow flow;
	__u8 job[128];  /* struct nat_job (nat.h) */
	__u8 cjob[256]; /* struct ct_job */
	__u8 fib[64];   /* struct bpf_fib_lookup of the return path */
	__u64 clock_ns; /* flow_clock(): bpf_ktime_get_coarse_ns() ... */
	__u64 clock_j;  /* ... read at this bpf_jiffies64() */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_scratch);
} xdpctl_ct_scratch SEC(".maps");

#endif

/* What the fast path needs of an entry, copied out before it is released. */
struct ct_nat {
	__u8 saddr[16]; /* the packet's new source (network order; IPv4: first 4 bytes) */
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
	__u8 dir;       /* the direction the packet matched */
	__u8 changed;   /* CT_NAT_* */
};
#define CT_NAT_SRC   1 /* source address or port changes */
#define CT_NAT_DST   2 /* destination address or port changes */

#ifndef XDPCTL_CT_NO_MAPS
/*
 * A packet handed to the fast path's global functions, as values. pk
 * carries no pointers (they are NULL): the functions re-derive them.
 */
struct ct_job {
	struct pkt pk;    /* values only: every pointer in it is NULL */
	__be32 flowinfo;  /* IPv6 flow label and class, for the FIB lookup */
	__u32 l4_off;     /* from the start of the (untagged) frame */
	__u32 gso_size;
	__u32 ifindex;    /* where the packet arrived */
	__u8 tos;
	__u8 ct_reason;   /* return path: ct_precheck_job()'s verdict, 0 if it may be followed */
	__u8 l4_far;      /* L4 header beyond 255 bytes: conntrack cannot be followed */
	__u8 ttl;         /* TTL / hop limit */
	__u8 tcp_flags;   /* TCP: byte 13 of the header */
	__u8 has_l4;      /* the L4 header is in the frame */
	__u8 vlan_present; /* tc: a tag outside the frame */
	__u8 pad2[2];
	__u32 dev_flags;  /* the uplink's XDPCTL_IF_* (0: no entry) */
	__s32 trace;      /* trace_enabled() of the program's run */
	__u32 out_ifindex; /* out: the redirect target */
	__s32 action;      /* out: TC_ACT_* when forwarded */
	__u32 mark;        /* CT_JOB_MARK: filled by the main program for this packet */
};
_Static_assert(sizeof(struct ct_job) <= sizeof(((struct ct_scratch *)0)->cjob), "ct_job fits");

/*
 * The job's handover from the main program to the tail-called one: the
 * main program fills the job right before bpf_tail_call() and sets mark to
 * CT_JOB_MARK; the tail-called program takes it only with the mark set and
 * the packet's device and length equal, and clears the mark at once (and
 * the main program clears it too when the tail call fails). So a job left
 * by another packet is never used: without a valid job the tail-called
 * program parses the frame itself.
 */
#define CT_JOB_MARK 0x6374a10b

/* This CPU's job space (ct_scratch.cjob); NULL if there is none. */
static __always_inline struct ct_job *ct_job_get(void)
{
	struct ct_scratch *sc;
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&xdpctl_ct_scratch, &zero);
	return sc ? (struct ct_job *)sc->cjob : NULL;
}

/* Is @j the job the main program filled for this packet (device @ifindex, @len bytes)? */
static __always_inline int ct_job_valid(const struct ct_job *j, __u32 ifindex, __u32 len)
{
	return j->mark == CT_JOB_MARK && j->ifindex == ifindex && j->pk.len == len;
}

/*
 * ct_job_put - the job for @p in @j, every field written (no memset of the
 * whole job on the hot path; the packet's pointers NULL). Runs in a global
 * function (xdpctl_job_xdp / xdpctl_job_skb): there @p's pointers are
 * plain numbers, used only for the L4 offset (handing a stack area that
 * holds packet pointers to a global function needs the verifier's
 * allow_ptr_leaks, i.e. CAP_PERFMON: xdpctl loads as root), and the few
 * header bytes the job needs (TTL, TOS or flow label, TCP flags) are read
 * again through @data, @data_end at the parsed offsets. The mark is the
 * caller's.
 */
static __always_inline void ct_job_put(struct ct_job *j, const struct pkt *p, void *data,
				       void *data_end, __u32 gso_size, __u32 ifindex,
				       __u32 vlan_present, __u32 dev_flags, int trace)
{
	long l4 = p->l4 ? (long)p->l4 - (long)p->eth : 0, off = l4;
	__u8 flags = 0, far = 0, tos = 0, ttl = 0;
	__be32 flowinfo = 0;
	void *l3 = data + (p->l3_off & 0x3f); /* Ethernet and up to VLAN_MAX_DEPTH tags */

	if (off < 0 || off > 255 || (off & 1)) {
		/* (a long IPv6 extension chain): the NAT rewrite keeps offsets in a byte */
		far = 1;
		off = 0;
	}
	if (p->src.family == XDPCTL_AF_INET) {
		struct iphdr *ip4 = l3;

		if ((void *)(ip4 + 1) <= data_end) {
			tos = ip4->tos;
			ttl = ip4->ttl;
		}
	} else {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) <= data_end) {
			/* Byte loads: the offset is not known to be aligned. */
			const __u8 *b = l3;

			flowinfo = bpf_htonl((__u32)(b[0] & 0x0f) << 24 | (__u32)b[1] << 16 |
					     (__u32)b[2] << 8 | b[3]);
			ttl = ip6->hop_limit;
		}
	}
	/* At the L4 header's own offset, also beyond the 255 bytes the NAT handles. */
	if (p->l4proto == IPPROTO_TCP && p->l4 && l4 >= 0 && l4 < 0x4000) {
		const __u8 *th = data + (l4 & 0x3fff);

		if ((void *)(th + 14) <= data_end)
			flags = th[13];
	}
	j->pk.data_end = NULL;
	j->pk.eth = NULL;
	j->pk.ip4 = NULL;
	j->pk.ip6 = NULL;
	j->pk.l4 = NULL;
	j->pk.l3_end = NULL;
	j->pk.len = p->len;
	j->pk.l3_off = p->l3_off;
	j->pk.l3_len = p->l3_len;
	j->pk.proto = p->proto;
	j->pk.sport = p->sport;
	j->pk.dport = p->dport;
	j->pk.vlans = p->vlans;
	j->pk.l4proto = p->l4proto;
	j->pk.frag = p->frag;
	j->pk.icmp_type = p->icmp_type;
	j->pk.v6ext = p->v6ext;
	j->pk.src = p->src;
	j->pk.dst = p->dst;
	j->flowinfo = flowinfo;
	j->l4_off = (__u32)off;
	j->gso_size = gso_size;
	j->ifindex = ifindex;
	j->tos = tos;
	j->ct_reason = 0;
	j->l4_far = far;
	j->ttl = ttl;
	j->tcp_flags = flags;
	j->has_l4 = p->l4 != NULL;
	j->vlan_present = vlan_present != 0;
	j->pad2[0] = 0;
	j->pad2[1] = 0;
	j->dev_flags = dev_flags;
	j->trace = trace;
	j->out_ifindex = 0;
	j->action = 0; /* TC_ACT_OK; XDP: the caller's */
}

/* This CPU's job, if any, no longer valid (a failed tail call). */
static __always_inline void ct_job_drop(void)
{
	struct ct_job *j = ct_job_get();

	if (j)
		j->mark = 0;
}

/*
 * ct_precheck_job - the conntrack path's checks before a lookup, on the
 * job's values (so that the verifier sees one unknown reason from the
 * global functions, not one state per reason): neighbour discovery, tags,
 * fragments, not TCP/UDP, TCP SYN/FIN/RST, (XDP, engine auto) TCP for tc,
 * TTL. @return 0 or the reason for the stack.
 */
static __always_inline int ct_precheck_job(const struct ct_job *j, int xdp)
{
	const struct pkt *p = &j->pk;

	if (p->src.family == XDPCTL_AF_INET6 && p->l4proto == IPPROTO_ICMPV6 && j->has_l4 &&
	    p->icmp_type >= 133 && p->icmp_type <= 137)
		return XDPCTL_R_ND;
	if (p->vlans || j->vlan_present)
		return XDPCTL_R_VLAN;
	if (p->frag & PKT_FRAG)
		return XDPCTL_R_FRAGMENT;
	if (p->l4proto != IPPROTO_TCP && p->l4proto != IPPROTO_UDP)
		return XDPCTL_R_NOT_TCPUDP;
	if (!j->has_l4)
		return XDPCTL_R_MALFORMED;
	if (p->l4proto == IPPROTO_TCP) {
		if (j->tcp_flags & XDPCTL_TCP_SYN)
			return XDPCTL_R_CT_NEW;
		if (j->tcp_flags & (XDPCTL_TCP_FIN | XDPCTL_TCP_RST))
			return XDPCTL_R_CT_CLOSING;
	}
	/* Engine auto: TCP is tc's (GRO, then bpf_redirect_peer carries it whole). */
	if (xdp && ((j->dev_flags & XDPCTL_IF_BYPASS_TO_TC) ||
		    ((j->dev_flags & XDPCTL_IF_TCP_TO_TC) && p->l4proto == IPPROTO_TCP)))
		return XDPCTL_R_TO_TC;
	if (j->ttl <= 1)
		return XDPCTL_R_TTL;
	if (j->l4_far)
		return XDPCTL_R_MALFORMED;
	return 0;
}

/* rx_verdict() of the conntrack path (the trace event and capture: observe_*()). */
static __always_inline void ct_verdict(const struct pkt *p, __u32 ifindex, __u8 hook, int trace,
				       __u32 reason, __u32 out_ifindex)
{
	rx_verdict(p, ifindex, hook, trace, reason, out_ifindex);
}

#endif /* !XDPCTL_CT_NO_MAPS */

/* Do two 16-byte addresses differ? No memcmp in BPF; byte loads: any alignment. */
static __always_inline int addr16_differ(const void *a, const void *b)
{
	const __u8 *x = a, *y = b;
	__u8 d = 0;
	int i;

#pragma unroll
	for (i = 0; i < 16; i++)
		d |= x[i] ^ y[i];
	return d != 0;
}

/* Is @p ICMPv6 neighbour discovery (RS, RA, NS, NA, redirect)? Always the stack's. */
static __always_inline int is_nd(const struct pkt *p)
{
	return p->ip6 && p->l4proto == IPPROTO_ICMPV6 && p->l4 &&
	       p->icmp_type >= 133 && p->icmp_type <= 137;
}

/*
 * ct_precheck - what a packet must be before a conntrack lookup is worth
 * it: unfragmented TCP or UDP with its header, no TCP SYN/FIN/RST (state
 * changes are conntrack's to see). @return 0 or the reason for the stack.
 */
static __always_inline int ct_precheck(const struct pkt *p)
{
	if (p->frag & PKT_FRAG)
		return XDPCTL_R_FRAGMENT;
	if (p->l4proto != IPPROTO_TCP && p->l4proto != IPPROTO_UDP)
		return is_nd(p) ? XDPCTL_R_ND : XDPCTL_R_NOT_TCPUDP;
	if (!p->l4)
		return XDPCTL_R_MALFORMED;
	if (p->l4proto == IPPROTO_TCP) {
		const __u8 *th = p->l4;

		if ((void *)(th + 14) > p->data_end)
			return XDPCTL_R_MALFORMED;
		if (th[13] & XDPCTL_TCP_SYN)
			return XDPCTL_R_CT_NEW;
		if (th[13] & (XDPCTL_TCP_FIN | XDPCTL_TCP_RST))
			return XDPCTL_R_CT_CLOSING;
	}
	return 0;
}

/* The lookup tuple of @p (struct bpf_sock_tuple's layout); its length. */
struct ct_tuple {
	union {
		struct {
			__be32 saddr, daddr;
			__be16 sport, dport;
		} v4;
		struct {
			__be32 saddr[4], daddr[4];
			__be16 sport, dport;
		} v6;
	};
};

static __always_inline __u32 ct_tuple_of(const struct pkt *p, struct ct_tuple *t)
{
	if (p->src.family == XDPCTL_AF_INET) {
		__builtin_memcpy(&t->v4.saddr, p->src.addr, 4);
		__builtin_memcpy(&t->v4.daddr, p->dst.addr, 4);
		t->v4.sport = p->sport;
		t->v4.dport = p->dport;
		return 12;
	}
	__builtin_memcpy(t->v6.saddr, p->src.addr, 16);
	__builtin_memcpy(t->v6.daddr, p->dst.addr, 16);
	t->v6.sport = p->sport;
	t->v6.dport = p->dport;
	return 36;
}

/*
 * ct_check - may the fast path follow entry @ct for @p? Confirmed, reply
 * seen, not dying, no helper adjusting sequence numbers, NAT set up for
 * what it says; TCP ESTABLISHED. Fills @nat: the packet must leave looking
 * like the inverse of the other direction's tuple. Keeps the entry alive.
 * @return 0 or the reason for the stack. The caller releases @ct.
 */
static __always_inline int ct_check(const struct pkt *p, struct nf_conn *ctp, __u8 dir,
				    struct ct_nat *nat)
{
	struct nf_conn___local *ct = (void *)ctp;
	struct nf_conntrack_tuple___local *o;
	unsigned long status = ct->status;
	__u32 want_ms, now, hz, want_j;
	__s32 left;
	int alen = p->src.family == XDPCTL_AF_INET ? 4 : 16;

	if (!(status & XDPCTL_IPS_CONFIRMED) || !(status & XDPCTL_IPS_SEEN_REPLY))
		return XDPCTL_R_CT_NEW;
	if (status & (XDPCTL_IPS_DYING | XDPCTL_IPS_UNTRACKED))
		return XDPCTL_R_CT_CLOSING;
	if (status & (XDPCTL_IPS_SEQ_ADJUST | XDPCTL_IPS_HELPER))
		return XDPCTL_R_CT_POLICY;
	if (((status & XDPCTL_IPS_SRC_NAT) && !(status & XDPCTL_IPS_SRC_NAT_DONE)) ||
	    ((status & XDPCTL_IPS_DST_NAT) && !(status & XDPCTL_IPS_DST_NAT_DONE)))
		return XDPCTL_R_CT_NEW;
	if (p->l4proto == IPPROTO_TCP &&
	    ct->proto.tcp.state != XDPCTL_TCP_CONNTRACK_ESTABLISHED)
		return XDPCTL_R_CT_CLOSING;

	/* Constant indexes: CO-RE relocates them (a variable index would not be). */
	if (dir)
		o = &ct->tuplehash[0].tuple;
	else
		o = &ct->tuplehash[1].tuple;
	__builtin_memset(nat, 0, sizeof(*nat));
	nat->dir = dir;
	if (alen == 4) {
		__be32 s = o->dst.u3.ip, d = o->src.u3.ip;

		__builtin_memcpy(nat->saddr, &s, 4);
		__builtin_memcpy(nat->daddr, &d, 4);
	} else {
		__u32 i;

#pragma unroll
		for (i = 0; i < 4; i++) {
			__be32 s = o->dst.u3.ip6[i], d = o->src.u3.ip6[i];

			__builtin_memcpy(nat->saddr + 4 * i, &s, 4);
			__builtin_memcpy(nat->daddr + 4 * i, &d, 4);
		}
	}
	nat->sport = o->dst.u.all;
	nat->dport = o->src.u.all;
	if (addr16_differ(nat->saddr, p->src.addr) || nat->sport != p->sport)
		nat->changed |= CT_NAT_SRC;
	if (addr16_differ(nat->daddr, p->dst.addr) || nat->dport != p->dport)
		nat->changed |= CT_NAT_DST;

	/*
	 * Keep the entry alive as the stack would: when less than the
	 * protocol's timeout minus a second is left, set it again. At most
	 * about one write a second per flow; CONFIG_HZ unknown: every packet.
	 */
	want_ms = p->l4proto == IPPROTO_TCP ? ct_tcp_timeout_ms : ct_udp_timeout_ms;
	hz = (__u32)CONFIG_HZ;
	now = (__u32)bpf_jiffies64();
	left = (__s32)(ct->timeout - now);
	want_j = hz ? (want_ms / 1000) * hz : 0;
	if (!hz || left < 0 || (__u32)left + hz < want_j)
		bpf_ct_change_timeout(ctp, want_ms);
	return 0;
}

/*
 * ct_follow - the entry of @pk in the device's netns's conntrack, checked
 * (ct_check); 0 or the reason. One body for both hooks: @xdp (a constant
 * at every call) picks the lookup kfunc of the context, bpf_xdp_ct_lookup
 * for a struct xdp_md, bpf_skb_ct_lookup for a struct __sk_buff.
 */
static __always_inline int ct_follow(void *ctx, const int xdp, const struct pkt *pk,
				     struct ct_nat *nat)
{
	struct bpf_ct_opts___local o = { .netns_id = -1 };
	struct ct_tuple t = {};
	struct nf_conn *ct;
	__u32 tlen;
	int r;

	o.l4proto = pk->l4proto;
	tlen = ct_tuple_of(pk, &t);
	/* Constant lengths: the kfunc's tuple argument is sized by them. */
	if (xdp && tlen == 12)
		ct = bpf_xdp_ct_lookup(ctx, (struct bpf_sock_tuple *)&t, 12, &o, XDPCTL_CT_OPTS_SZ);
	else if (xdp)
		ct = bpf_xdp_ct_lookup(ctx, (struct bpf_sock_tuple *)&t, 36, &o, XDPCTL_CT_OPTS_SZ);
	else if (tlen == 12)
		ct = bpf_skb_ct_lookup(ctx, (struct bpf_sock_tuple *)&t, 12, &o, XDPCTL_CT_OPTS_SZ);
	else
		ct = bpf_skb_ct_lookup(ctx, (struct bpf_sock_tuple *)&t, 36, &o, XDPCTL_CT_OPTS_SZ);
	if (!ct)
		return XDPCTL_R_CT_NEW;
	r = ct_check(pk, ct, o.dir, nat);
	bpf_ct_release(ct);
	return r;
}

/* The new destination of @p after NAT, as a container-table key. */
static __always_inline void ct_nat_dst(const struct pkt *p, const struct ct_nat *nat,
				       struct xdpctl_addr *a)
{
	__builtin_memset(a, 0, sizeof(*a));
	__builtin_memcpy(a->addr, nat->daddr, 16);
	a->family = p->dst.family;
}

#ifndef XDPCTL_CT_NO_MAPS
/*
 * The flow table's clock: bpf_ktime_get_coarse_ns(), read once per tick on
 * this CPU. The coarse clock moves only at a tick, with jiffies, so the
 * value kept for the current jiffies is the helper's answer, without a
 * helper call per packet (the verifier inlines bpf_jiffies64() to a load).
 * At worst (read between a tick's jiffies update and its clock update) it
 * stays a tick older for that tick: two ticks behind instead of one.
 */
static __always_inline __u64 flow_clock(struct ct_scratch *sc)
{
	__u64 j = bpf_jiffies64();

	if (sc->clock_j != j || !sc->clock_ns) {
		sc->clock_ns = bpf_ktime_get_coarse_ns();
		sc->clock_j = j;
	}
	return sc->clock_ns;
}

/* Account @p in the flow table (key: the tuple as it arrived). A subprogram: its own stack frame. */
static __attribute__((noinline)) void flow_account(const struct pkt *p, const struct ct_nat *nat,
					 __u8 hook, __u32 in_ifindex, __u32 out_ifindex)
{
	struct xdpctl_flow_key k = {};
	struct xdpctl_flow *f, *nf;
	struct xdpctl_counter *c;
	struct ct_scratch *sc;
	__u32 zero = 0, sk;
	__u64 now;

	sc = bpf_map_lookup_elem(&xdpctl_ct_scratch, &zero);
	if (!sc)
		return;
	now = flow_clock(sc);

	sk = XDPCTL_FLOWSTAT_KEY(hook, p->src.family == XDPCTL_AF_INET6,
				 p->l4proto == IPPROTO_UDP);
	c = bpf_map_lookup_elem(&xdpctl_flowstat, &sk);
	if (c) {
		c->packets++;
		c->bytes += p->len;
	}
	__builtin_memcpy(k.src, p->src.addr, 16);
	__builtin_memcpy(k.dst, p->dst.addr, 16);
	k.sport = p->sport;
	k.dport = p->dport;
	k.family = p->src.family;
	k.proto = p->l4proto;
	f = bpf_map_lookup_elem(&xdpctl_flows, &k);
	if (f) {
		/*
		 * The first packet of the flow on this CPU: the entry was made on
		 * another, and a per-CPU value is filled only on the CPU that wrote
		 * it (the others' are zero): what the flow is goes here too.
		 */
		if (!f->packets) {
			__builtin_memcpy(f->nat_src, nat->saddr, 16);
			__builtin_memcpy(f->nat_dst, nat->daddr, 16);
			f->nat_sport = nat->sport;
			f->nat_dport = nat->dport;
			f->ct_dir = nat->dir;
			f->in_ifindex = in_ifindex;
		}
		f->packets++;
		f->bytes += p->len;
		f->last_ns = now;
		f->hook = hook;
		f->out_ifindex = out_ifindex;
		return;
	}
	nf = &sc->flow;
	__builtin_memcpy(nf->nat_src, nat->saddr, 16);
	__builtin_memcpy(nf->nat_dst, nat->daddr, 16);
	nf->nat_sport = nat->sport;
	nf->nat_dport = nat->dport;
	nf->hook = hook;
	nf->ct_dir = nat->dir;
	nf->pad = 0;
	nf->in_ifindex = in_ifindex;
	nf->out_ifindex = out_ifindex;
	nf->packets = 1;
	nf->bytes = p->len;
	nf->last_ns = now;
	bpf_map_update_elem(&xdpctl_flows, &k, nf, BPF_ANY);
}

#endif

#endif /* XDPCTL_CT_H */
