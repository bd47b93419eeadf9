/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reference classifier for the differential test: a plain C model of what
 * the XDP program (xdpctl_xdp) and the tc programs (xdpctl_tc_in,
 * xdpctl_tc_fwd) must do with one frame, written from docs/design.md and the
 * ABI's comments only (it includes bpf/abi.h, nothing from bpf/lib). It
 * decides the verdict, the reason counted, the rule whose counters move and
 * the frame as it must leave the program, with every checksum computed from
 * scratch. No kernel, no libbpf: bytes and tables in, a result out.
 */
#ifndef XDPCTL_FUZZ_REF_H
#define XDPCTL_FUZZ_REF_H

#include <stdbool.h>
#include <linux/types.h>

#include "abi.h"

#define REF_MAX_FRAME 4096

/* TTL / hop limit of an echo reply (the kernel's default for both families). */
#define REF_REPLY_TTL 64

/* Table sizes of the model (the difftest installs far fewer). */
#define REF_MAX_RULES  32
#define REF_MAX_DEVS   8
#define REF_MAX_ROUTES 16
#define REF_MAX_NEIGH  16
#define REF_MAX_LOCAL  16

struct ref_pingpong {
	struct xdpctl_addr addr;
	__u32 hooks;             /* XDPCTL_HOOKBIT_* */
};

struct ref_bypass {
	struct xdpctl_addr addr;
	__u32 ifindex;
	__u16 mtu;               /* L3 bytes; 0: no limit */
	__u8 dmac[6];
	__u8 smac[6];
};

/* An entry of xdpctl_ifaces. */
struct ref_iface {
	__u32 ifindex;
	__u8 mac[6];
	__u32 flags;             /* XDPCTL_IF_* */
};

/* A device of the namespace the tc_fwd FIB lookups run in. */
struct ref_dev {
	__u32 ifindex;
	__u8 mac[6];
	__u32 mtu;               /* L3 bytes */
};

/* A unicast route: prefix/plen via gateway (or on-link) out of oif. */
struct ref_route {
	__u8 family;             /* XDPCTL_AF_* */
	__u8 plen;
	__u8 prefix[16];
	bool has_gw;
	__u8 gw[16];
	__u32 oif;
};

/* A resolved (permanent) neighbour. */
struct ref_neigh {
	__u8 family;
	__u8 addr[16];
	__u32 ifindex;
	__u8 mac[6];
};

/*
 * Everything outside the frame that decides its fate: the rule maps, the
 * interface and devmap maps, the devices the programs run on, and for the
 * return path the routing table and neighbours of the namespace.
 */
struct ref_env {
	struct ref_pingpong pp[REF_MAX_RULES];
	int npp;
	struct ref_bypass by[REF_MAX_RULES];
	int nby;
	struct ref_iface ifs[REF_MAX_DEVS];
	int nifs;
	__u32 devmap[REF_MAX_DEVS];  /* keys present in xdpctl_devmap */
	int ndevmap;
	__u32 in_ifindex;            /* device of xdp and tc_in (the uplink) */
	__u32 fwd_ifindex;           /* device of tc_fwd (a container's host veth) */
	/* Return path FIB. Non-unicast destinations and anything unrouted: no success. */
	struct ref_dev devs[REF_MAX_DEVS];
	int ndevs;
	struct ref_route routes[REF_MAX_ROUTES];
	int nroutes;
	struct ref_neigh neigh[REF_MAX_NEIGH];
	int nneigh;
	/* Destinations whose route is not unicast: local, broadcast, anycast. */
	struct xdpctl_addr local[REF_MAX_LOCAL];
	int nlocal;
};

/* Whose counters a frame moves besides the stats map. */
enum ref_rule_kind {
	REF_RULE_NONE = 0,
	REF_RULE_PINGPONG,       /* pp[idx].packets/bytes */
	REF_RULE_BYPASS_IN,      /* by[idx].in_packets/in_bytes */
	REF_RULE_BYPASS_OUT,     /* by[idx].out_packets/out_bytes */
};

/* Byte offsets of a checksum field whose input was already wrong (see ref.c). */
#define REF_MAX_LOOSE 2

struct ref_result {
	__u32 verdict;           /* XDP_* for the xdp hook, TC_ACT_* for tc */
	__u32 reason;            /* enum xdpctl_reason, counted once besides RX */
	__u32 len;               /* bytes counted (the whole frame) */
	enum ref_rule_kind rule_kind;
	int rule_idx;            /* index into env->pp or env->by */
	__u32 out_ifindex;       /* redirect target, 0 when none */
	__u8 out[REF_MAX_FRAME]; /* the frame leaving the program */
	__u32 out_len;
	/*
	 * A forwarded or answered frame whose checksum was wrong on input keeps
	 * that error (the program must not repair or hide corruption); such a
	 * 16-bit field is then only defined up to the two one's complement
	 * zeros, 0x0000 and 0xffff. Offsets of those fields in out.
	 */
	__u32 loose[REF_MAX_LOOSE];
	int nloose;
	const char *why;         /* one-line explanation of the decision */
};

/**
 * ref_run - classify @frame (@len bytes from L2) as the program of @hook
 * would, in environment @env. @len must be at most REF_MAX_FRAME.
 * @return 0, or -EINVAL for a bad hook or length.
 */
int ref_run(const struct ref_env *env, enum xdpctl_hook hook, const __u8 *frame, __u32 len,
	    struct ref_result *res);

/**
 * ref_csum_equal - do the 16-bit checksum values @a and @b (network order
 * bytes as read with a 16-bit load) match, with @loose meaning either one's
 * complement zero may stand for the other?
 */
bool ref_csum_equal(__u16 a, __u16 b, bool loose);

/** ref_csum - from-scratch Internet checksum helpers (host-order results). */
__u32 ref_sum(__u32 sum, const __u8 *buf, __u32 len);
__u16 ref_fold(__u32 sum);

#endif /* XDPCTL_FUZZ_REF_H */
