/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The xdpctl dataplane library: pinned state, attach and detach, bypass and
 * ping-pong rules, counters, trace events, discovery and path diff.
 *
 * Conventions (libbpf's): int functions return 0 or a negative errno and set
 * errno; pointer functions return NULL and set errno. Nothing here prints to
 * stdout/stderr or exits; diagnostics go through xdpctl_set_print(). After a
 * failing call on a handle, xdpctl_dp__errmsg() holds one factual line
 * naming the thing that failed (a device, a path, an address); the caller
 * adds the advice. A call that fails leaves the pinned state as it was.
 */
#ifndef XDPCTL_DATAPLANE_H
#define XDPCTL_DATAPLANE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <net/if.h>
#include <linux/types.h>

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- options structs: size first, zeroed by the macro (as LIBBPF_OPTS) ---- */
#define XDPCTL_OPTS(TYPE, NAME, ...)                                           \
	struct TYPE NAME = ({                                                  \
		memset(&NAME, 0, sizeof(struct TYPE));                         \
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ };       \
	})

/* ---- logging ---- */
enum xdpctl_log_level {
	XDPCTL_LOG_WARN,
	XDPCTL_LOG_INFO,
	XDPCTL_LOG_DEBUG,
};
typedef int (*xdpctl_print_fn_t)(enum xdpctl_log_level level, const char *fmt, va_list ap);
/* Set the print callback (NULL: silent, the default). Returns the previous one. */
xdpctl_print_fn_t xdpctl_set_print(xdpctl_print_fn_t fn);

/* ---- addresses and names (pure functions, no state) ---- */
/* Parse an IPv4 or IPv6 address. @return 0 or -EINVAL. */
int xdpctl_addr_parse(const char *s, struct xdpctl_addr *out);
/* Format into buf (INET6_ADDRSTRLEN is enough). @return 0 or -EINVAL/-ENOSPC. */
int xdpctl_addr_format(const struct xdpctl_addr *a, char *buf, size_t len);
/* Parse "aa:bb:cc:dd:ee:ff" (also '-' separators). @return 0 or -EINVAL. */
int xdpctl_mac_parse(const char *s, __u8 mac[6]);
/*
 * What makes @a unfit for a rule, as words ("a multicast address", "the
 * broadcast address", "an address of 0.0.0.0/8", "a loopback address", "the
 * unspecified address"), or NULL for a unicast address. A reply to or from
 * such an address would be broadcast or never be delivered: the rule calls
 * refuse them (-EINVAL).
 */
const char *xdpctl_addr_special(const struct xdpctl_addr *a);
void xdpctl_mac_format(const __u8 mac[6], char buf[18]);
/* Names and meanings from abi.h's XDPCTL_REASONS / XDPCTL_HOOKS; "unknown" out of range. */
const char *xdpctl_reason_name(unsigned int reason);  /* "bypass", "ttl_expired", ... */
const char *xdpctl_reason_words(unsigned int reason); /* "TTL expired", ... */
const char *xdpctl_hook_name(unsigned int hook);      /* "xdp", "tc_ingress", "tc_return" */
const char *xdpctl_event_kind_name(unsigned int kind); /* XDPCTL_EVENT_KINDS: "icmp_request", ... */

/* ---- network namespaces ---- */
/*
 * Enter a network namespace for the rest of the process (like `ip -n`):
 * NAME under /run/netns, or a path such as /proc/PID/ns/net. Mounts are
 * kept, so the pinned state in bpffs stays visible (unlike `ip netns exec`).
 */
int xdpctl_netns_enter(const char *name_or_path);

/* ---- the handle over the pinned state ---- */
struct xdpctl_dp;

struct xdpctl_dp_opts {
	size_t sz;
	const char *pin_dir; /* NULL: $XDPCTL_PIN_DIR, else XDPCTL_PIN_DIR_DEFAULT */
	__u32 max_rules;     /* bypass map capacity when it is created; 0: default */
	bool create;         /* create the pin dir and maps when missing */
	size_t :0;
};

/*
 * Open the state under the pin dir. Without opts->create, a missing pin dir
 * or map is -ENOENT (XDPCTL_ERR_NO_STATE). -ENODEV: bpffs not mounted there
 * (XDPCTL_ERR_NO_BPFFS); -EPERM: not allowed (XDPCTL_ERR_PERM); -EEXIST: a
 * pinned map has another layout (XDPCTL_ERR_STALE_PIN, errobj its path);
 * -EPROTO: the state of another ABI version (XDPCTL_ERR_ABI); -EINVAL: the
 * pin dir's name (XDPCTL_ERR_PIN_DIR).
 */
int xdpctl_dp__open(const struct xdpctl_dp_opts *opts, struct xdpctl_dp **out);
void xdpctl_dp__close(struct xdpctl_dp *dp); /* accepts NULL */
/*
 * The last error on @dp. With NULL: the last error of a call without a
 * handle in this thread (xdpctl_dp__open, xdpctl_netns_enter,
 * xdpctl_discover_veth, xdpctl_discover_veth_netns).
 */
const char *xdpctl_dp__errmsg(const struct xdpctl_dp *dp);
/*
 * What kind of failure the last error was, as data (so a caller chooses
 * its advice without reading errmsg), and the object it concerns
 * (xdpctl_dp__errobj, "" when none). NULL @dp: the thread's last error
 * without a handle, as for errmsg.
 */
enum xdpctl_errkind {
	XDPCTL_ERR_NONE = 0,      /* no error recorded */
	XDPCTL_ERR_OTHER,         /* see errmsg and the errno returned */
	XDPCTL_ERR_PERM,          /* not allowed: needs CAP_BPF and CAP_NET_ADMIN */
	XDPCTL_ERR_PIN_DIR,       /* the pin dir's name cannot be one; obj: the pin dir */
	XDPCTL_ERR_NO_BPFFS,      /* no bpffs where the pin dir is; obj: the place to mount one */
	XDPCTL_ERR_NO_STATE,      /* no xdpctl state (pin dir or a map missing); obj: the pin dir */
	XDPCTL_ERR_STALE_PIN,     /* a pinned map of another layout; obj: its path */
	XDPCTL_ERR_ABI,           /* the state of another xdpctl ABI version; obj: the pin dir */
	XDPCTL_ERR_NO_DEVICE,     /* no such device; obj: its name */
	XDPCTL_ERR_BUSY_XDP,      /* another owner's XDP program on the device; obj: the device */
	XDPCTL_ERR_BUSY_TC,       /* another program holds xdpctl's tc filter slot; obj: the device */
	XDPCTL_ERR_ORPHAN,        /* xdpctl's program of another pin dir or a lost state; obj: the device */
	XDPCTL_ERR_NOT_SUPPORTED, /* e.g. this XDP mode on the device; obj: the device */
};
enum xdpctl_errkind xdpctl_dp__errkind(const struct xdpctl_dp *dp);
const char *xdpctl_dp__errobj(const struct xdpctl_dp *dp);
const char *xdpctl_dp__pin_dir(const struct xdpctl_dp *dp);

/*
 * The one check of a pin dir, also made by xdpctl_dp__open().
 * XDPCTL_PIN_DIR_NAME: absolute, at most XDPCTL_PIN_DIR_MAX characters, no
 * '.' in its last part (bpffs refuses dots); XDPCTL_PIN_DIR_BPFFS: the pin
 * dir, or its nearest existing ancestor, is on a bpffs (no state needed).
 * @return 0, or a negative errno with the thread's errmsg and errkind:
 * XDPCTL_ERR_PIN_DIR (-EINVAL), XDPCTL_ERR_NO_BPFFS (-ENODEV; errobj is
 * the directory to mount a bpffs on: /sys/fs/bpf for a pin dir below it,
 * else the nearest existing one), or XDPCTL_ERR_OTHER.
 */
#define XDPCTL_PIN_DIR_MAX 200
#define XDPCTL_PIN_DIR_NAME  (1u << 0)
#define XDPCTL_PIN_DIR_BPFFS (1u << 1)
int xdpctl_pin_dir_check(const char *dir, unsigned int what);
/* Remove every pinned object of this state and the pin dir (tests, reset). */
int xdpctl_dp__destroy_pins(struct xdpctl_dp *dp);

/* ---- kernel features, probed at run time ---- */
struct xdpctl_features {
	bool xdp_native_veth;  /* always true on 6.x veth, for status */
	bool freplace;         /* program type ext: libxdp dispatcher possible */
	bool tcx;              /* tcx attach (kernel >= 6.6) */
	bool redirect_peer;
	bool ringbuf;
	bool tracing;          /* program type tracing (fentry: xdpdump) */
	/* The conntrack kfuncs the default fast path uses (vmlinux BTF). */
	bool ct_kfuncs;        /* bpf_{xdp,skb}_ct_lookup, bpf_ct_release, bpf_ct_change_timeout */
	bool ct_nat_kfunc;     /* bpf_ct_set_nat_info (tests inject entries with it) */
	bool flowtable;        /* nft flowtable (CONFIG_NF_FLOW_TABLE): not used, reported */
};
int xdpctl_probe_features(struct xdpctl_features *f);

/* ---- attach / detach ---- */
enum xdpctl_engine {
	XDPCTL_ENGINE_AUTO = 0, /* the default: XDP, but TCP by tc (README: why) */
	XDPCTL_ENGINE_XDP,
	XDPCTL_ENGINE_TC,
};
enum xdpctl_mode {
	XDPCTL_MODE_AUTO = 0, /* native, else generic */
	XDPCTL_MODE_NATIVE,
	XDPCTL_MODE_GENERIC,
};
/*
 * What an uplink's fast path forwards (per attached uplink).
 * CONNTRACK (the default): only TCP/UDP packets of established conntrack
 * entries whose other side is a container in the container table, with the
 * entry's NAT; the kernel's firewall judges every new flow.
 * SKIP_FIREWALL (opt-in): every packet to or from a container-table
 * address, past netfilter, NAT, conntrack and Docker's policy: for routed
 * networks where no NAT or policy applies.
 */
enum xdpctl_fast_path {
	XDPCTL_FAST_PATH_CONNTRACK = 0,
	XDPCTL_FAST_PATH_SKIP_FIREWALL,
};
const char *xdpctl_fast_path_name(enum xdpctl_fast_path f); /* "conntrack", "skip-firewall" */
const char *xdpctl_engine_name(enum xdpctl_engine e);
const char *xdpctl_mode_name(enum xdpctl_mode m);

struct xdpctl_attach_opts {
	size_t sz;
	enum xdpctl_engine engine;
	enum xdpctl_mode mode;
	bool force; /* replace another owner's XDP program */
	enum xdpctl_fast_path fast_path;
	/*
	 * Conntrack fast path: leave nf_conntrack_tcp_be_liberal of the uplink's
	 * netns alone (by default attach sets it to 1 when it is 0, and detach
	 * puts it back; README: the TCP window trap).
	 */
	bool keep_tcp_window_check;
	size_t :0;
};
/*
 * Attach the programs to uplink DEV (in the current netns). Re-attaching an
 * attached device replaces the programs atomically and keeps every rule and
 * counter. -EBUSY with errmsg naming the owner (program name and id) when
 * another XDP program holds DEV and !force. -ENODEV: no such device.
 * When it fails on a state this handle created, xdpctl_dp__close() removes
 * that state again if nothing uses it then (decided under the lock).
 * -ESTALE: another process removed the state this handle had open.
 */
int xdpctl_dp__attach(struct xdpctl_dp *dp, const char *dev, const struct xdpctl_attach_opts *opts);
/* Remove all xdpctl added to DEV and nothing else. -ENOENT if not attached. */
int xdpctl_dp__detach(struct xdpctl_dp *dp, const char *dev);
/*
 * The same by ifindex; for a device that is gone (in the current netns)
 * it removes the entry it left: an uplink's, or a veth's without rules.
 * -EBUSY: a gone veth that bypass rules still name; -ENOENT: no entry.
 */
int xdpctl_dp__detach_ifindex(struct xdpctl_dp *dp, __u32 ifindex);

struct xdpctl_dev_status {
	char name[IF_NAMESIZE];
	__u32 ifindex;
	__u8 mac[6];
	__u32 flags;                  /* XDPCTL_IF_* from the ifaces map */
	enum xdpctl_engine engine;    /* as attached: XDP, TC, or AUTO (both) */
	enum xdpctl_mode xdp_mode;    /* native/generic when XDP is attached */
	__u32 xdp_prog_id;            /* 0: none of ours */
	__u32 tc_prog_id;             /* 0: none of ours */
	bool dispatcher;              /* libxdp multi-program dispatcher in use */
	bool present;                 /* the ifindex still exists in this netns */
	__u32 refcnt;                 /* veths: bypass rules using it */
	/*
	 * How the XDP program got there: "libxdp-dispatcher" (multi-program),
	 * "libxdp" (libxdp without dispatcher: one program, kernels without
	 * freplace), "bpf_xdp_attach" (libbpf directly: atomic replace on
	 * re-attach or --force, or libxdp refused); "" when none of ours.
	 */
	char xdp_path[24];
	/*
	 * xdpctl's programs (by name: xdpctl_xdp, or xdpctl_tc_in/_tc_fwd at
	 * our tc slot) that belong to another pin dir or a lost state; only
	 * from xdpctl_dp__for_each_orphan(), with their ids above.
	 */
	bool orphan;
	/*
	 * A bypassed veth (present): what XDP redirects handed to it and what
	 * its peer's ring refused (full: lost, no backpressure), summed over
	 * queues from its ethtool statistics tx_queue_N_xdp_xmit and
	 * tx_queue_N_xdp_xmit_errors. These count the XDP engine's deliveries
	 * into the veth (and any other XDP redirect into it).
	 */
	bool have_xmit;
	__u64 xdp_xmit;
	__u64 xdp_xmit_errors;
	enum xdpctl_fast_path fast_path; /* uplinks */
	bool tcp_liberal_set;         /* uplinks: attach set nf_conntrack_tcp_be_liberal */
};
/* One attached device or bypassed veth by name. -ENOENT if xdpctl has none. */
int xdpctl_dp__dev_status(struct xdpctl_dp *dp, const char *dev, struct xdpctl_dev_status *st);
/* Every device in the ifaces map; stop early when cb returns non-zero. */
typedef int (*xdpctl_dev_cb)(const struct xdpctl_dev_status *st, void *ctx);
int xdpctl_dp__for_each_dev(struct xdpctl_dp *dp, xdpctl_dev_cb cb, void *ctx);
/*
 * Every device of the current netns that runs xdpctl's programs but has
 * no entry in this state (@dp may be NULL: no state at all), e.g. after
 * the pin dir was lost: orphan set, flags UPLINK (xdpctl_xdp or
 * xdpctl_tc_in) and/or VETH (xdpctl_tc_fwd). 'attach DEV --force' takes
 * an uplink over; bypass_add takes a veth's return-path program over.
 */
int xdpctl_dp__for_each_orphan(struct xdpctl_dp *dp, xdpctl_dev_cb cb, void *ctx);

/* ---- bypass rules ---- */
struct xdpctl_bypass_rule {
	struct xdpctl_addr addr;
	char dev[IF_NAMESIZE];   /* host-side veth ("" if gone) */
	__u32 ifindex;
	__u16 mtu;
	__u8 dmac[6];            /* container MAC */
	__u8 smac[6];            /* gateway MAC the container sees */
	__u64 in_packets, in_bytes;   /* uplink -> container, summed over CPUs */
	__u64 out_packets, out_bytes; /* container -> uplink */
	bool stale;              /* veth no longer exists */
};

struct xdpctl_bypass_opts {
	size_t sz;
	const char *dev;        /* host-side veth in the current netns (required) */
	const __u8 *dmac;       /* container MAC; NULL: the veth peer's MAC */
	const __u8 *smac;       /* NULL: MAC of the veth's bridge, else of the veth */
	const char *peer_netns; /* container netns (name or path); NULL: found from the veth */
	size_t :0;
};
/*
 * Add a rule; installs on first use of the veth: the devmap entry, the pass
 * program on the container-side veth, the tc return-path program on the
 * host veth. -EEXIST: rule exists; -E2BIG: map full; -ENODEV: no such veth.
 */
int xdpctl_dp__bypass_add(struct xdpctl_dp *dp, const struct xdpctl_addr *addr,
			  const struct xdpctl_bypass_opts *opts);
/* Delete; removes what the veth no longer needs. -ENOENT: no such rule. */
int xdpctl_dp__bypass_del(struct xdpctl_dp *dp, const struct xdpctl_addr *addr);
int xdpctl_dp__bypass_get(struct xdpctl_dp *dp, const struct xdpctl_addr *addr,
			  struct xdpctl_bypass_rule *out);
typedef int (*xdpctl_bypass_cb)(const struct xdpctl_bypass_rule *r, void *ctx);
int xdpctl_dp__bypass_for_each(struct xdpctl_dp *dp, xdpctl_bypass_cb cb, void *ctx);
/*
 * Bulk load n rules with batch map updates (all to veths that exist, their
 * per-veth setup done once; rules[i].dev, else rules[i].ifindex, names the
 * veth; zero MACs and mtu take the defaults of bypass_add). Everything is
 * checked before anything is stored: -EEXIST (a rule exists, or twice in
 * the input), -E2BIG (more than the map holds), -ENODEV/-EINVAL (a device)
 * store nothing. *done counts rules stored: n on success, else 0: if the
 * kernel refuses a batch midway, the rules stored before are deleted again
 * under the same lock (all or nothing). Each rule is whole or absent at
 * any instant; a process killed while storing leaves a stored prefix.
 */
int xdpctl_dp__bypass_load(struct xdpctl_dp *dp, const struct xdpctl_bypass_rule *rules,
			   size_t n, size_t *done);

/* ---- ping-pong rules ---- */
struct xdpctl_pingpong_rule {
	struct xdpctl_addr addr;
	__u32 hooks;             /* XDPCTL_HOOKBIT_* */
	__u64 packets, bytes;    /* replies sent, summed over CPUs */
};
/* -EEXIST, -E2BIG as for bypass. hooks 0 means both. */
int xdpctl_dp__pingpong_add(struct xdpctl_dp *dp, const struct xdpctl_addr *addr, __u32 hooks);
int xdpctl_dp__pingpong_del(struct xdpctl_dp *dp, const struct xdpctl_addr *addr);
typedef int (*xdpctl_pingpong_cb)(const struct xdpctl_pingpong_rule *r, void *ctx);
int xdpctl_dp__pingpong_for_each(struct xdpctl_dp *dp, xdpctl_pingpong_cb cb, void *ctx);

/* ---- flows on the conntrack fast path ---- */
struct xdpctl_flow_info {
	struct xdpctl_flow_key key;   /* the 5-tuple as it arrived */
	struct xdpctl_flow flow;      /* counters summed over CPUs; last_ns the latest */
	double idle_s;                /* seconds since the last packet */
};
typedef int (*xdpctl_flow_cb)(const struct xdpctl_flow_info *f, void *ctx);
/* Every flow in the LRU flow table (bounded: XDPCTL_MAX_FLOWS); -ENOENT: no table. */
int xdpctl_dp__flows_for_each(struct xdpctl_dp *dp, xdpctl_flow_cb cb, void *ctx);

/* ---- counters ---- */
/* Summed over possible CPUs: out[hook][reason]. */
int xdpctl_dp__stats(struct xdpctl_dp *dp,
		     struct xdpctl_counter out[XDPCTL_HOOK_MAX][XDPCTL_REASON_MAX]);

/* ---- kernel memory of the pinned state ---- */
struct xdpctl_map_usage {
	char name[16];           /* XDPCTL_MAP_* */
	__u32 type;              /* BPF_MAP_TYPE_* */
	__u32 id;
	__u32 max_entries;
	__u32 map_flags;         /* BPF_F_NO_PREALLOC, ... */
	__u64 memory_bytes;      /* what the kernel accounts to it now (fdinfo memlock) */
};
typedef int (*xdpctl_map_usage_cb)(const struct xdpctl_map_usage *u, void *ctx);
/*
 * Every pinned map of the state, in a fixed order, with the kernel memory
 * it takes now (for maps that are not preallocated this grows with the
 * entries stored). Stops early when cb returns non-zero.
 */
int xdpctl_dp__for_each_map(struct xdpctl_dp *dp, xdpctl_map_usage_cb cb, void *ctx);
/*
 * The kernel memory the map open at @fd takes now (the "memlock" line of its
 * fdinfo, on current kernels its real usage); 0 when the kernel does not say.
 */
__u64 xdpctl_map_fd_memory(int fd);

/* ---- trace events ---- */
/*
 * Tracing is a lease (abi.h, struct xdpctl_lease): the programs emit events
 * only while a reader made by xdpctl_trace__open() renews it, which its
 * xdpctl_trace__poll() does; a reader that stops polling or dies switches
 * tracing off within XDPCTL_LEASE_MS by itself, and readers never switch
 * each other off. *on: some reader's lease is live now.
 */
int xdpctl_dp__trace_enabled(struct xdpctl_dp *dp, bool *on);
/* Readers holding a live trace lease and capture lease now (0 when lapsed). */
int xdpctl_dp__readers(struct xdpctl_dp *dp, int *trace, int *capture);
struct xdpctl_trace;
typedef int (*xdpctl_event_cb)(const struct xdpctl_event *e, void *ctx);
/*
 * Reader on the pinned ring buffer, holding a trace lease; cb returns
 * non-zero to stop polling. errno EBUSY: XDPCTL_LEASE_SLOTS readers run.
 */
struct xdpctl_trace *xdpctl_trace__open(struct xdpctl_dp *dp, xdpctl_event_cb cb, void *ctx);
/*
 * Renew the lease, then wait up to timeout_ms (at most a quarter of the
 * lease: call it in a loop); @return events handled (>= 0) or negative errno.
 */
int xdpctl_trace__poll(struct xdpctl_trace *t, int timeout_ms);
/* Give the lease back and free the reader (accepts NULL). */
void xdpctl_trace__close(struct xdpctl_trace *t);
/*
 * One human line for an event, e.g. "[tc_pingpong] ICMP request for
 * 198.19.0.3 type 8", "[xdp_bypass] 198.18.0.2 > 198.19.0.3 icmp to
 * veth1 (ifindex 7)". @return length or negative errno.
 */
int xdpctl_event_format(const struct xdpctl_event *e, char *buf, size_t len);

/* ---- packet capture ---- */
/*
 * A reader on the capture ring holding the capture lease (as trace): the
 * programs copy what @filter matches (abi.h, struct xdpctl_capture_filter;
 * snaplen 1..XDPCTL_CAPTURE_SNAP_MAX, rate 0: the default) at their verdict
 * and cb gets each record's header and cap_len bytes; non-zero stops.
 * errno EBUSY: another capture runs (one at a time).
 */
struct xdpctl_capture;
typedef int (*xdpctl_capture_cb)(const struct xdpctl_capture_hdr *h, const __u8 *data, void *ctx);
struct xdpctl_capture *xdpctl_capture__open(struct xdpctl_dp *dp,
					    const struct xdpctl_capture_filter *filter,
					    xdpctl_capture_cb cb, void *ctx);
/* Renew the lease, wait up to timeout_ms (at most a quarter lease); records or -errno. */
int xdpctl_capture__poll(struct xdpctl_capture *c, int timeout_ms);
/* Since open, summed over CPUs: records written, kept out by the rate, by a full ring. */
int xdpctl_capture__stats(struct xdpctl_capture *c, struct xdpctl_capstat *out);
void xdpctl_capture__close(struct xdpctl_capture *c);
/* A program's return value by name: XDP_* at the XDP hook, TC_ACT_* at tc. */
const char *xdpctl_action_name(unsigned int hook, unsigned int action);
/* Does the record @h match @f (as the programs decide)? */
bool xdpctl_capture_match(const struct xdpctl_capture_filter *f, const struct xdpctl_capture_hdr *h);

/* ---- metrics for Prometheus ---- */
struct xdpctl_metrics_opts {
	size_t sz;
	bool rules; /* also per bypass rule (container) and ping-pong address */
	size_t :0;
};
/*
 * The Prometheus text exposition (0.0.4) of the counters, the packet size
 * histogram, the capture counters and lease readers to @f.
 */
int xdpctl_metrics_write(struct xdpctl_dp *dp, FILE *f, const struct xdpctl_metrics_opts *opts);
/*
 * The same as DIR/xdpctl.prom for node_exporter's textfile collector,
 * atomically: written to a temp file in DIR, synced, then renamed.
 */
int xdpctl_metrics_textfile(struct xdpctl_dp *dp, const char *dir,
			    const struct xdpctl_metrics_opts *opts);
/*
 * An HTTP server (libmicrohttpd, its own thread) answering GET /metrics
 * with xdpctl_metrics_write() of the state under opts->pin_dir (opened at
 * the first scrape), rules included. @listen: "ADDR:PORT" or "[ADDR6]:PORT";
 * port 0 picks a free one (xdpctl_metrics_http__port()). For `stats --serve`
 * and the long-running watcher. Returns NULL and sets errno; the message is
 * in xdpctl_dp__errmsg(NULL).
 */
struct xdpctl_metrics_http;
struct xdpctl_metrics_http_opts {
	size_t sz;
	const char *pin_dir; /* NULL: $XDPCTL_PIN_DIR, else the default */
	/*
	 * More metrics after the state's, from the server thread (e.g. the
	 * Docker watcher's, xdpctl_watch__metrics_write()); NULL: none.
	 */
	int (*extra)(FILE *f, void *ctx);
	void *extra_ctx;
	size_t :0;
};
struct xdpctl_metrics_http *xdpctl_metrics_http__start(const char *listen,
						       const struct xdpctl_metrics_http_opts *opts);
unsigned int xdpctl_metrics_http__port(const struct xdpctl_metrics_http *srv);
/* Scrapes answered so far. */
unsigned long long xdpctl_metrics_http__scrapes(const struct xdpctl_metrics_http *srv);
void xdpctl_metrics_http__stop(struct xdpctl_metrics_http *srv); /* accepts NULL */

/* ---- discovery ---- */
struct xdpctl_container {
	char name[128];              /* Docker name, or "" */
	char id[72];                 /* Docker id, or "" */
	pid_t pid;                   /* a process in the container's netns */
	char netns[256];             /* path usable with setns: /proc/PID/ns/net or /run/netns/N */
	bool has4, has6;
	struct xdpctl_addr addr4, addr6; /* the container's addresses on eth0 */
	char veth[IF_NAMESIZE];      /* host-side veth, in the caller's netns */
	__u32 veth_ifindex;
	__u8 mac[6];                 /* container-side MAC */
	unsigned int nveths;         /* veths from this netns to the caller's (the lowest ifindex taken) */
};
/* From a host-side veth name: its peer's netns, addresses and MAC. */
int xdpctl_discover_veth(const char *veth, struct xdpctl_container *c);
/*
 * The same with the container's netns known (a name under /run/netns or a
 * path such as a CNI runtime's CNI_NETNS): checks that the peer of @veth
 * lives there instead of searching. -ENODEV no such device, -EINVAL not a
 * veth, -ENOENT no such netns, -EXDEV the peer lives in another netns.
 */
int xdpctl_discover_veth_netns(const char *veth, const char *netns, struct xdpctl_container *c);
/* From a process id: its netns, then the veth whose peer lives there. */
int xdpctl_discover_pid(pid_t pid, struct xdpctl_container *c);
/*
 * From a Docker container name or id (the Engine API client of
 * xdpctl/docker.h; xdpctl_discover_addr() there finds the veth of one
 * address when a container has several).
 */
int xdpctl_discover_docker(const char *name_or_id, struct xdpctl_container *c);

/* ---- path diff: net:* tracepoints in a private tracefs instance ---- */
struct xdpctl_path;   /* the (event, device) pairs one command hit, with counts */
/*
 * Run `/bin/sh -c cmd` with every net:* tracepoint enabled in a private
 * tracefs instance (removed afterwards) and collect what it hit. The
 * command's stdout/stderr go to out_fd/err_fd (-1: /dev/null). *status gets
 * the command's exit status.
 */
int xdpctl_path__record(const char *cmd, int out_fd, int err_fd, int *status,
			struct xdpctl_path **out);
void xdpctl_path__free(struct xdpctl_path *p);
struct xdpctl_path_entry {
	char event[64];          /* "net:netif_receive_skb" */
	char dev[IF_NAMESIZE];   /* "br0", "" when the event has no device */
	__u64 count;
};
typedef int (*xdpctl_path_cb)(const struct xdpctl_path_entry *e, void *ctx);
/* Entries of a that b did not hit (by event and device), sorted. */
int xdpctl_path__diff(const struct xdpctl_path *a, const struct xdpctl_path *b,
		      xdpctl_path_cb cb, void *ctx);
int xdpctl_path__for_each(const struct xdpctl_path *p, xdpctl_path_cb cb, void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* XDPCTL_DATAPLANE_H */
