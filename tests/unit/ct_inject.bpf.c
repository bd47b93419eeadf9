// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test helper, not part of xdpctl: creates a conntrack entry in the current
 * network namespace, as the kernel selftests do (bpf_xdp_ct_alloc, NAT
 * info, status, bpf_ct_insert_entry), so that BPF_PROG_TEST_RUN cases can
 * exercise the fast path on an established entry without real traffic.
 * User space fills the globals, runs the program once, reads the results.
 */
#define XDPCTL_CT_NO_MAPS 1
#include "lib/compat.h"
#include "lib/ct.h"

struct nf_conn___init {
	int opaque;
};
union nf_inet_addr {
	__u32 all[4];
	__be32 ip;
	__be32 ip6[4];
};
enum nf_nat_manip_type {
	NF_NAT_MANIP_SRC,
	NF_NAT_MANIP_DST,
};

extern struct nf_conn___init *bpf_xdp_ct_alloc(struct xdp_md *, struct bpf_sock_tuple *, __u32,
					       struct bpf_ct_opts___local *, __u32) __ksym;
extern struct nf_conn *bpf_ct_insert_entry(struct nf_conn___init *) __ksym;
extern int bpf_ct_set_nat_info(struct nf_conn___init *, union nf_inet_addr *, int,
			       enum nf_nat_manip_type) __ksym;
extern int bpf_ct_set_status(const struct nf_conn___init *, __u32) __ksym;
extern void bpf_ct_set_timeout(struct nf_conn___init *, __u32) __ksym;

/* In: the original tuple, the NAT (manip -1: none), the status bits to set. */
__u8 in_v6;
__u8 in_l4proto;
__u8 in_saddr[16], in_daddr[16];
__be16 in_sport, in_dport;
int in_manip = -1;
__u8 in_nat_addr[16];
int in_nat_port;   /* host order, as the kfunc takes it */
__u32 in_status;   /* e.g. IPS_SEEN_REPLY */
__u32 in_timeout_ms = 600000;

/* Out. */
int out_err = 1;
__u64 out_status;
__u32 out_tcp_state;

SEC("xdp")
int ct_inject(struct xdp_md *ctx)
{
	struct bpf_ct_opts___local o = { .netns_id = -1 };
	struct nf_conn___init *ct;
	struct nf_conn *ins;
	union nf_inet_addr a = {};
	struct ct_tuple t = {};

	o.l4proto = in_l4proto;
	if (!in_v6) {
		__builtin_memcpy(&t.v4.saddr, in_saddr, 4);
		__builtin_memcpy(&t.v4.daddr, in_daddr, 4);
		t.v4.sport = in_sport;
		t.v4.dport = in_dport;
		ct = bpf_xdp_ct_alloc(ctx, (struct bpf_sock_tuple *)&t, 12, &o, XDPCTL_CT_OPTS_SZ);
	} else {
		__builtin_memcpy(t.v6.saddr, in_saddr, 16);
		__builtin_memcpy(t.v6.daddr, in_daddr, 16);
		t.v6.sport = in_sport;
		t.v6.dport = in_dport;
		ct = bpf_xdp_ct_alloc(ctx, (struct bpf_sock_tuple *)&t, 36, &o, XDPCTL_CT_OPTS_SZ);
	}
	if (!ct) {
		out_err = o.error ? o.error : -1;
		return XDP_PASS;
	}
	bpf_ct_set_timeout(ct, in_timeout_ms);
	if (in_status)
		bpf_ct_set_status(ct, in_status);
	if (in_manip >= 0) {
		__builtin_memcpy(&a, in_nat_addr, 16);
		bpf_ct_set_nat_info(ct, &a, in_nat_port,
				    in_manip ? NF_NAT_MANIP_DST : NF_NAT_MANIP_SRC);
	}
	ins = bpf_ct_insert_entry(ct);
	if (!ins) {
		out_err = -2;
		return XDP_PASS;
	}
	out_status = ((struct nf_conn___local *)ins)->status;
	out_tcp_state = ((struct nf_conn___local *)ins)->proto.tcp.state;
	bpf_ct_release(ins);
	out_err = 0;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
