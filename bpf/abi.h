/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The one ABI between the kernel side (bpf/) and user space (dataplane/,
 * ctl/, tests/): map names, map keys and values, counters, trace events,
 * flag bits and capacities. Only <linux/types.h> types; every struct has
 * explicit padding and a size assert, because hash keys are compared byte
 * by byte and a silent layout change would corrupt pinned state.
 */
#ifndef XDPCTL_ABI_H
#define XDPCTL_ABI_H

#include <linux/types.h>

/*
 * Version of this ABI; bumped on any change of a pinned map's layout or
 * meaning (also when sizes stay). User space stamps it into
 * XDPCTL_MAP_ABI when it creates the state and refuses a state stamped
 * with another version, or not stamped at all (made before the stamp).
 */
#define XDPCTL_ABI_VERSION 7

/* Default bpffs directory for pinned maps (overridable at run time). */
#define XDPCTL_PIN_DIR_DEFAULT "/sys/fs/bpf/xdpctl"

/* Pinned map names: at most 15 characters, no dots (bpffs refuses them). */
#define XDPCTL_MAP_BYPASS   "xdpctl_bypass"  /* addr -> bypass rule (shared, counters atomic) */
#define XDPCTL_MAP_PINGPONG "xdpctl_pingpong" /* addr -> ping-pong rule (per-CPU) */
#define XDPCTL_MAP_DEVMAP   "xdpctl_devmap"  /* ifindex -> ifindex (DEVMAP_HASH) */
#define XDPCTL_MAP_IFACES   "xdpctl_ifaces"  /* ifindex -> attached device */
#define XDPCTL_MAP_STATS    "xdpctl_stats"   /* hook * REASON_MAX + reason -> counter */
#define XDPCTL_MAP_CONFIG   "xdpctl_config"  /* 0 -> struct xdpctl_config */
#define XDPCTL_MAP_EVENTS   "xdpctl_events"  /* lease slot -> a trace reader's ring buffer */
#define XDPCTL_MAP_CAPTURE  "xdpctl_capture" /* capture ring buffer: header + frame bytes */
#define XDPCTL_MAP_CAPSTAT  "xdpctl_capstat" /* 0 -> struct xdpctl_capstat (per CPU) */
#define XDPCTL_MAP_SIZES    "xdpctl_sizes"   /* hook * SIZE_BUCKETS + bucket -> counter */
#define XDPCTL_MAP_ABI      "xdpctl_abi"     /* 0 -> __u32 XDPCTL_ABI_VERSION of the state */
#define XDPCTL_MAP_FLOWS    "xdpctl_flows"   /* flow key -> flow on the fast path (LRU, per CPU) */
#define XDPCTL_MAP_FLOWSTAT "xdpctl_flowstat" /* hook * FLOWSTAT_SLOTS + slot -> counter (per CPU) */

/* Capacities (entries); the rule maps can be sized when first created. */
#define XDPCTL_MAX_RULES_DEFAULT 1048576
/*
 * The bypass map is a shared hash, not preallocated: it takes memory per
 * rule stored, about 128 bytes (the kernel's element: its header, the key,
 * the value) plus 16 bytes of bucket per max_entries, whatever the CPU
 * count (145 MiB for 1M rules, 16 MiB empty; docs/perf.md). The default
 * size is the largest power of two up to XDPCTL_MAX_RULES_DEFAULT whose
 * full map stays within this budget (1M); --max-rules overrides.
 */
#define XDPCTL_RULES_MEM_BUDGET (256ULL << 20)
#define XDPCTL_MAX_PINGPONG      4096
#define XDPCTL_MAX_IFACES        1024
#define XDPCTL_EVENTS_BYTES      (256 * 1024) /* each trace reader's ring */
#define XDPCTL_CAPTURE_BYTES     (512 * 1024)
#define XDPCTL_MAX_FLOWS         65536  /* LRU: the least recently forwarded go first */

/* Address family tags used in struct xdpctl_addr.family. */
enum xdpctl_family {
	XDPCTL_AF_INET = 4,
	XDPCTL_AF_INET6 = 6,
};

/*
 * One lookup key for both families. addr is in network byte order; an IPv4
 * address occupies addr[0..3] and addr[4..15] are zero. pad must be zero.
 */
struct xdpctl_addr {
	__u8 addr[16];
	__u8 family; /* enum xdpctl_family */
	__u8 pad[3];
};
_Static_assert(sizeof(struct xdpctl_addr) == 20, "xdpctl_addr layout");

/*
 * The names of hooks and reasons live here, once, as X-macro tables:
 * X(ID, "name", "words"). ID makes the enum constant (XDPCTL_HOOK_ID,
 * XDPCTL_R_ID); "name" is the one spelling users see, in the human tables,
 * JSON, Prometheus labels and the tests' messages; "words" say what it
 * means (trace lines, help). The values are the places in the table and
 * key the pinned counters: append new entries at the end, never reorder.
 * Expand a table with a macro of three arguments, e.g.
 *   #define NAME(id, name, words) [XDPCTL_R_##id] = name,
 *   static const char *const names[] = { XDPCTL_REASONS(NAME) };
 */

/* Hooks, as an index (counters, events) and as a bit (ping-pong rules). */
#define XDPCTL_HOOKS(X)                                                          \
	X(XDP, "xdp", "XDP on the uplink")                                       \
	X(TC_IN, "tc_ingress", "tc clsact ingress on the uplink")                \
	X(TC_FWD, "tc_return", "tc clsact ingress on a container's host veth")

enum xdpctl_hook {
#define XDPCTL_HOOK_ENUM_(id, name, words) XDPCTL_HOOK_##id,
	XDPCTL_HOOKS(XDPCTL_HOOK_ENUM_)
#undef XDPCTL_HOOK_ENUM_
	XDPCTL_HOOK_MAX,
};
#define XDPCTL_HOOKBIT_XDP (1u << XDPCTL_HOOK_XDP)
#define XDPCTL_HOOKBIT_TC  (1u << XDPCTL_HOOK_TC_IN)

/*
 * Why a packet got its verdict. Every packet a program sees counts once in
 * XDPCTL_R_RX and exactly once in one of the other reasons; all but
 * PINGPONG and BYPASS hand the packet to the stack untouched.
 */
#define XDPCTL_REASONS(X)                                                        \
	X(RX, "rx", "seen by the program")                                       \
	X(PASS, "pass", "no rule")                                               \
	X(PINGPONG, "pingpong", "ping-pong")  /* echo request answered in place */ \
	X(BYPASS, "bypass", "bypass")         /* forwarded past the stack */     \
	X(REDIRECT_ERR, "redirect_error", "redirect target missing")             \
	X(MALFORMED, "malformed", "malformed headers") /* truncated, inconsistent */ \
	X(TOO_BIG, "too_big", "larger than the target MTU")                      \
	X(TTL, "ttl_expired", "TTL expired")  /* TTL / hop limit <= 1 */         \
	X(NOT_US, "not_for_us", "not our MAC") /* destination MAC not the device's */ \
	X(BCAST, "broadcast", "broadcast or multicast") /* destination MAC */    \
	X(UNKNOWN_L3, "unknown_l3", "not IPv4 or IPv6") /* ethertype: ARP, ... */ \
	X(FRAGMENT, "fragment", "fragment")   /* fragmented echo request */      \
	X(VLAN, "vlan", "VLAN tagged")        /* for a bypass rule, or > 2 tags */ \
	X(FIB_MISS, "fib_miss", "no route (FIB lookup failed)") /* return path */ \
	X(NOT_UPLINK, "not_uplink", "route does not leave by an uplink") /* return path */ \
	/* XDP left it to the tc program: a TCP bypass hit (engine auto), an */  \
	/* echo request for a tc-hook ping-pong rule */                          \
	X(TO_TC, "to_tc", "left to the tc program")                              \
	/* an echo request from a source no reply may go to: group-bit source */ \
	/* MAC, IPv4 0/8, 127/8, multicast, 255.255.255.255, IPv6 ::, ::1, ff00::/8 */ \
	X(MARTIAN, "martian_source", "echo request from a martian source")       \
	/* an IPv6 echo request with a routing header that has segments left, */ \
	/* or AH: the stack answers it */                                        \
	X(EXT_HDR, "ext_header", "IPv6 echo request with a live routing header or AH") \
	/* Following conntrack (the default fast path): why a packet was left */ \
	/* to the stack, and the forwarding verdict */                          \
	/* no conntrack entry, or not confirmed / no reply seen yet */           \
	X(CT_NEW, "ct_new", "no established conntrack entry")                    \
	/* TCP SYN/FIN/RST, or the entry not ESTABLISHED, or dying */            \
	X(CT_CLOSING, "ct_closing", "conntrack state change (SYN/FIN/RST, not established)")     \
	/* established, but the post-NAT side is no known container */          \
	X(CT_NO_CONTAINER, "ct_no_container", "post-NAT destination is no known container")   \
	/* from a container veth that does not own the source address and */    \
	/* MAC (spoofed), or an entry a helper adjusts */                        \
	X(CT_POLICY, "ct_policy", "source not owned by this veth, or a helper's entry")   \
	/* forwarded past the stack, following conntrack (with its NAT) */       \
	X(CT_FWD, "ct_forward", "forwarded following conntrack")                 \
	/* ICMPv6 neighbour discovery (133-137): always the stack's */           \
	X(ND, "neighbour_discovery", "neighbour discovery")               \
	/* conntrack mode: not TCP/UDP (ICMP, errors, ...): the stack's */       \
	X(NOT_TCPUDP, "ct_not_tcp_udp", "not TCP/UDP: conntrack mode leaves it to the stack")

enum xdpctl_reason {
#define XDPCTL_R_ENUM_(id, name, words) XDPCTL_R_##id,
	XDPCTL_REASONS(XDPCTL_R_ENUM_)
#undef XDPCTL_R_ENUM_
	XDPCTL_REASON_MAX,
};
/* Pinned counters are keyed by these numbers: the table only grows at its end. */
_Static_assert(XDPCTL_R_RX == 0 && XDPCTL_R_BYPASS == 3 && XDPCTL_R_TTL == 7 &&
		       XDPCTL_R_TO_TC == 15 && XDPCTL_HOOK_TC_FWD == 2,
	       "hook and reason numbers are the pinned counters' keys");

/* Key of XDPCTL_MAP_STATS: hook * XDPCTL_REASON_MAX + reason. */
#define XDPCTL_STATS_KEY(hook, reason) ((hook) * XDPCTL_REASON_MAX + (reason))
#define XDPCTL_STATS_ENTRIES (XDPCTL_HOOK_MAX * XDPCTL_REASON_MAX)

/* Value of XDPCTL_MAP_STATS (per CPU); bytes are whole frames from L2. */
struct xdpctl_counter {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct xdpctl_counter) == 16, "xdpctl_counter layout");

/*
 * Value of XDPCTL_MAP_BYPASS: one value shared by every CPU, its counters
 * updated by atomic adds. It fits one 64-byte cache line, and in the
 * kernel's hash element (48 bytes of header, the 24-byte key, then this)
 * it is the line after the one holding the element's header: a lookup
 * reads the bucket and the element's two lines, and the counters cost no
 * further miss (a per-CPU value is one more, in another memory area).
 * Ingress (uplink -> container):
 * rewrite dmac/smac, decrement TTL, redirect to ifindex (the host-side veth,
 * an ifindex of the uplink's namespace; XDP through the devmap, tc through
 * bpf_redirect_peer). Return (container -> uplink): matched by source.
 */
struct xdpctl_bypass {
	__u32 ifindex;  /* host-side veth of the container */
	__u16 mtu;      /* target MTU, L3 bytes; larger packets go to the stack */
	__u16 flags;    /* XDPCTL_BYPASS_F_* */
	__u8 dmac[6];   /* container's MAC (the veth peer) */
	__u8 smac[6];   /* source MAC seen by the container (its gateway) */
	__u64 in_packets;  /* counters, per CPU, written by the kernel */
	__u64 in_bytes;
	__u64 out_packets;
	__u64 out_bytes;
};
_Static_assert(sizeof(struct xdpctl_bypass) == 56, "xdpctl_bypass layout");

/*
 * Value of XDPCTL_MAP_PINGPONG (per CPU: user space writes the same hooks
 * to every CPU and sums the counters).
 */
struct xdpctl_pingpong {
	__u32 hooks;    /* XDPCTL_HOOKBIT_*: which hooks answer */
	__u32 pad;
	__u64 packets;  /* echo replies sent */
	__u64 bytes;
};
_Static_assert(sizeof(struct xdpctl_pingpong) == 24, "xdpctl_pingpong layout");

/* Flags of struct xdpctl_iface. */
#define XDPCTL_IF_UPLINK    (1u << 0) /* an attached uplink */
#define XDPCTL_IF_ENGINE_TC (1u << 1) /* bypass by tc (else XDP) */
#define XDPCTL_IF_VETH      (1u << 2) /* a bypassed container's host veth */
/*
 * Engine auto: XDP forwards bypass hits except TCP, which it passes on to
 * the tc program; on the way the veth's GRO builds large TCP packets that
 * bpf_redirect_peer carries whole (an XDP redirect into a veth would carry
 * each 1.5 KB frame alone, without GSO: docs/design.md, 4.1).
 */
#define XDPCTL_IF_TCP_TO_TC (1u << 3)
/*
 * Engine auto: XDP forwards no bypass hit at all, it passes every one on to
 * the tc program (reason to_tc). An XDP redirect into a veth has no
 * backpressure: when the peer's 256-frame ring is full the frame is lost
 * (the host veth's tx_queue_N_xdp_xmit_errors), where the kernel path and
 * tc's bpf_redirect_peer deliver it. The default must not lose what the
 * kernel path delivers; --engine xdp trades that for packet rate.
 */
#define XDPCTL_IF_BYPASS_TO_TC (1u << 4)
/*
 * Uplink fast-path mode. Clear (the default): follow conntrack, forward
 * only established entries to known containers, with their NAT. Set: the
 * per-address bypass of a container-table entry ('--fast-path
 * skip-firewall'): skips netfilter, NAT and Docker's policy entirely.
 */
#define XDPCTL_IF_SKIP_FIREWALL (1u << 5)
/* Bookkeeping of user space, so a later process undoes exactly what an
 * earlier one did; the programs ignore these bits. */
#define XDPCTL_IF_CLSACT_OURS (1u << 8)  /* xdpctl created the clsact qdisc */
#define XDPCTL_IF_XDP_DIRECT  (1u << 9)  /* XDP by bpf_xdp_attach, not libxdp */
#define XDPCTL_IF_PASS_OURS   (1u << 10) /* veth: xdpctl put the pass program on the peer */
#define XDPCTL_IF_LIBERAL_OURS (1u << 11) /* xdpctl set nf_conntrack_tcp_be_liberal here */

/*
 * Value of XDPCTL_MAP_IFACES, key: __u32 ifindex (in the namespace of the
 * device). mac is the device's own address: unicast frames to any other
 * MAC are not for us. A device without an entry is not MAC-filtered.
 */
struct xdpctl_iface {
	__u8 mac[6];
	__u16 pad;
	__u32 flags;    /* XDPCTL_IF_* */
	__u32 refcnt;   /* bypass rules that use this veth (user space) */
	__u32 pad2;
};
_Static_assert(sizeof(struct xdpctl_iface) == 20, "xdpctl_iface layout");

/*
 * A lease: tracing or capture is on while CLOCK_MONOTONIC (the programs
 * read bpf_ktime_get_coarse_ns()) is before until_ns. Each reader holds a
 * slot with its own expiry and renews it while it reads; until_ns is the
 * latest live slot's, written by user space under the pin dir lock, so two
 * readers never switch each other off and a reader that dies (kill -9)
 * stops costing anything when its slot lapses. until_ns 0: nobody, and the
 * programs do not even read the clock. A trace reader puts its own ring
 * buffer at its slot's index in XDPCTL_MAP_EVENTS (an array of maps), and
 * the programs write each event to the ring of every live slot, so two
 * readers each see every event.
 */
#define XDPCTL_LEASE_SLOTS 8
#define XDPCTL_LEASE_MS    2000 /* a reader renews every quarter of it */
struct xdpctl_lease {
	__u64 until_ns;                  /* max of the live slots; 0: off */
	__u64 slot[XDPCTL_LEASE_SLOTS];  /* each reader's expiry (user space only) */
};
_Static_assert(sizeof(struct xdpctl_lease) == 72, "xdpctl_lease layout");

/*
 * Which packets a capture copies. An unset address (family 0) matches any.
 * With a only: packets from or to a. With a and b: packets between a and b
 * (either direction). port (network order) matches either port; l4proto 0
 * any. snaplen bytes of each frame (1..XDPCTL_CAPTURE_SNAP_MAX) at most
 * rate packets per second per CPU, and 1 packet in sample (0 or 1: all).
 */
struct xdpctl_capture_filter {
	struct xdpctl_addr a;
	struct xdpctl_addr b;
	__be16 port;
	__u8 l4proto;
	__u8 pad;
	__u32 snaplen;
	__u32 rate;
	__u32 sample;
};
_Static_assert(sizeof(struct xdpctl_capture_filter) == 56, "xdpctl_capture_filter layout");

/*
 * Value of XDPCTL_MAP_CONFIG[0]. The map is mmapable (BPF_F_MMAPABLE, ABI
 * 7), so that user space can bump ifaces_gen with one atomic add.
 */
struct xdpctl_config {
	__u32 flags;     /* reserved, 0 */
	/*
	 * The generation of XDPCTL_MAP_IFACES: user space adds 1 after every
	 * write or delete of an entry there (under the pin dir lock, after the
	 * write), and the programs' per-CPU copies of entries (bpf/lib/entry.h,
	 * iface_cached) are good only while it holds the value they were made
	 * at. Every writer of the ifaces map must bump it (ABI 7).
	 */
	__u32 ifaces_gen;
	struct xdpctl_lease trace;    /* trace events to XDPCTL_MAP_EVENTS */
	struct xdpctl_lease capture;  /* frames to XDPCTL_MAP_CAPTURE */
	/*
	 * What the programs capture: the filter of every live capture slot when
	 * they are all the same, else everything (each reader filters again);
	 * snaplen and rate the largest, sample the smallest of the live slots.
	 */
	struct xdpctl_capture_filter cap;
	struct xdpctl_capture_filter cap_slot[XDPCTL_LEASE_SLOTS]; /* user space only */
};
_Static_assert(sizeof(struct xdpctl_config) == 8 + 2 * 72 + 9 * 56, "xdpctl_config layout");

/* Capture bounds: bytes of a frame copied, packets per second per CPU. */
#define XDPCTL_CAPTURE_SNAP_MAX     2048
#define XDPCTL_CAPTURE_RATE_DEFAULT 1000
#define XDPCTL_CAPTURE_RATE_MAX     100000

/*
 * One record of XDPCTL_MAP_CAPTURE: this header, then cap_len bytes of the
 * frame as the program handed it on (after a bypass rewrite, or the echo
 * reply for ping-pong). action is the program's return value (XDP_* at
 * hook xdp, TC_ACT_* at the tc hooks); the parsed fields as in xdpctl_event.
 */
struct xdpctl_capture_hdr {
	__u64 ts_ns;       /* bpf_ktime_get_ns() */
	__u32 ifindex;     /* device the packet arrived on */
	__u32 out_ifindex; /* redirect target, 0 if none */
	__u32 pkt_len;     /* whole frame, bytes */
	__u32 cap_len;     /* bytes that follow */
	__u8 hook;         /* enum xdpctl_hook */
	__u8 reason;       /* enum xdpctl_reason */
	__u8 action;       /* XDP_* or TC_ACT_* */
	__u8 l4proto;
	__u8 family;
	__u8 pad;
	__be16 sport;
	__be16 dport;
	__u16 pad2;
	__u8 src[16];
	__u8 dst[16];
};
_Static_assert(sizeof(struct xdpctl_capture_hdr) == 72, "xdpctl_capture_hdr layout");

/* Value of XDPCTL_MAP_CAPSTAT[0] (per CPU): the rate window and what was lost. */
struct xdpctl_capstat {
	__u64 window_ns;    /* start of the current one-second window */
	__u64 window_pkts;  /* captured in it */
	__u64 captured;     /* records written */
	__u64 rate_limited; /* matched, not copied: over the rate */
	__u64 ring_full;    /* matched, not copied: no room in the ring */
};
_Static_assert(sizeof(struct xdpctl_capstat) == 40, "xdpctl_capstat layout");

/*
 * Packet size histogram (XDPCTL_MAP_SIZES, per CPU, struct xdpctl_counter):
 * every packet a program sees (rx) counts in the first bucket whose upper
 * bound (bytes, whole frame) is >= its length; the last bucket is +Inf.
 */
#define XDPCTL_SIZE_BOUNDS 64, 128, 256, 512, 1024, 1518, 2048, 4096, 9216, 16384, 65535
#define XDPCTL_SIZE_BUCKETS 12
#define XDPCTL_SIZES_KEY(hook, bucket) ((hook) * XDPCTL_SIZE_BUCKETS + (bucket))
#define XDPCTL_SIZES_ENTRIES (XDPCTL_HOOK_MAX * XDPCTL_SIZE_BUCKETS)

/*
 * Packets and bytes (whole frames) forwarded following conntrack
 * (XDPCTL_MAP_FLOWSTAT, per CPU, struct xdpctl_counter), by hook, family
 * and protocol: the flow table's counters summed, kept where the LRU table
 * forgets a flow. Slots: IPv4 TCP, IPv4 UDP, IPv6 TCP, IPv6 UDP.
 */
#define XDPCTL_FLOWSTAT_SLOTS 4
#define XDPCTL_FLOWSTAT_KEY(hook, v6, udp) ((hook) * XDPCTL_FLOWSTAT_SLOTS + (v6) * 2 + (udp))
#define XDPCTL_FLOWSTAT_ENTRIES (XDPCTL_HOOK_MAX * XDPCTL_FLOWSTAT_SLOTS)

/* Trace event kinds, a table as the hooks and reasons: X(ID, "name", "words"). */
#define XDPCTL_EVENT_KINDS(X)                                                    \
	X(RX, "rx", "program got a packet")                                      \
	X(ICMP_REQ, "icmp_request", "ICMP echo request for a ping-pong address") \
	X(PINGPONG, "pingpong", "echo reply sent back")                          \
	X(BYPASS, "bypass", "forwarded past the stack to out_ifindex")           \
	X(PASS, "pass", "handed to the stack, see reason")

enum xdpctl_event_kind {
#define XDPCTL_EV_ENUM_(id, name, words) XDPCTL_EV_##id,
	XDPCTL_EVENT_KINDS(XDPCTL_EV_ENUM_)
#undef XDPCTL_EV_ENUM_
	XDPCTL_EV_MAX,
};

/*
 * One record in XDPCTL_MAP_EVENTS. Addresses as in struct xdpctl_addr,
 * ports in network byte order (0 when not TCP/UDP).
 */
struct xdpctl_event {
	__u64 ts_ns;     /* bpf_ktime_get_ns() */
	__u32 ifindex;   /* device the packet arrived on */
	__u32 out_ifindex; /* redirect target, 0 if none */
	__u32 pkt_len;   /* whole frame, bytes */
	__u8 hook;       /* enum xdpctl_hook */
	__u8 kind;       /* enum xdpctl_event_kind */
	__u8 reason;     /* enum xdpctl_reason */
	__u8 l4proto;    /* IPPROTO_* or 0 */
	__u8 icmp_type;  /* ICMP/ICMPv6 type when l4proto is ICMP */
	__u8 family;     /* enum xdpctl_family, 0 if not IP */
	__be16 sport;
	__be16 dport;
	__u16 pad;
	__u8 src[16];
	__u8 dst[16];
};
_Static_assert(sizeof(struct xdpctl_event) == 64, "xdpctl_event layout");

/*
 * Key of XDPCTL_MAP_FLOWS: a packet's 5-tuple as it arrived (before NAT).
 * Addresses as in struct xdpctl_addr (IPv4 in the first 4 bytes), ports in
 * network byte order.
 */
struct xdpctl_flow_key {
	__u8 src[16];
	__u8 dst[16];
	__be16 sport;
	__be16 dport;
	__u8 family;   /* enum xdpctl_family */
	__u8 proto;    /* IPPROTO_TCP / IPPROTO_UDP */
	__u16 pad;
};
_Static_assert(sizeof(struct xdpctl_flow_key) == 40, "xdpctl_flow_key layout");

/* Value of XDPCTL_MAP_FLOWS (per CPU: user space sums counters, takes the latest). */
struct xdpctl_flow {
	__u8 nat_src[16]; /* the tuple as it left (after NAT) */
	__u8 nat_dst[16];
	__be16 nat_sport;
	__be16 nat_dport;
	__u8 hook;        /* enum xdpctl_hook that forwarded it */
	__u8 ct_dir;      /* conntrack direction the packet matched (0 original, 1 reply) */
	__u16 pad;
	__u32 in_ifindex;
	__u32 out_ifindex;
	__u64 packets;
	__u64 bytes;
	__u64 last_ns;    /* CLOCK_MONOTONIC_COARSE of the last packet (one or two ticks behind) */
};
_Static_assert(sizeof(struct xdpctl_flow) == 72, "xdpctl_flow layout");

#endif /* XDPCTL_ABI_H */
