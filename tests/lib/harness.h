/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test harness over the real BPF objects: loads the xdp and tc skeletons
 * with their maps shared through a private bpffs pin directory, edits the
 * maps (rules, interfaces, devmap, trace switch), runs a program on a frame
 * with BPF_PROG_TEST_RUN, reads per-CPU counters summed over CPUs and drains
 * the trace ring buffer. Used by tests/unit, tests/fuzz and tests/bench.
 * Functions return 0 or a negative errno (libbpf style) and never print.
 */
#ifndef XDPCTL_TEST_HARNESS_H
#define XDPCTL_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "abi.h"

/* The programs a test can run. */
enum th_prog {
	TH_XDP = 0,   /* xdpctl_xdp    (xdp.bpf.o) */
	TH_TC_IN,     /* xdpctl_tc_in  (tc.bpf.o)  */
	TH_TC_FWD,    /* xdpctl_tc_fwd (tc.bpf.o)  */
	TH_PROG_MAX,
};

struct th_opts {
	size_t sz;            /* sizeof(struct th_opts) */
	__u32 max_rules;      /* xdpctl_bypass entries; 0: the object's default */
	__u32 max_pingpong;   /* xdpctl_pingpong entries; 0: the object's default */
	bool keep_pins;       /* keep the pins until th_close (else removed after load) */
	/*
	 * Load every program with BPF_F_STRICT_ALIGNMENT: the verifier then
	 * refuses packet loads that are misaligned on architectures without
	 * efficient unaligned access (it assumes NET_IP_ALIGN 2).
	 */
	bool strict_align;
	size_t :0;
};
#define th_opts__last_field strict_align

struct th;

/**
 * th_open - open and load the xdp and tc objects sharing one set of maps
 * pinned under a fresh /sys/fs/bpf/xdpctl-test-PID-XXXXXX (bpffs mounted
 * if needed). Unless keep_pins, the pins and the directory are removed
 * right after load: the maps live on through the skeletons' fds.
 * @return a handle, or NULL with errno set.
 */
struct th *th_open(const struct th_opts *opts);

/** th_close - destroy the skeletons, remove pins if any. Accepts NULL. */
void th_close(struct th *h);

/** th_pin_dir - the private pin directory ("" once removed). */
const char *th_pin_dir(const struct th *h);

/**
 * th_enter_private_netns - move the calling process into a new, anonymous
 * network namespace (unshare), with its loopback up. The test-run device
 * (ifindex 1, lo) is then the private namespace's, FIB lookups see an
 * empty table, and nothing outlives the process.
 * @return 0 or -errno.
 */
int th_enter_private_netns(void);

/**
 * th_cmd - run a shell command (printf-style) in the current namespaces,
 * its output discarded; for lab plumbing inside the private namespace
 * (ip link/addr/route/neigh). @return its exit status, or -errno.
 */
int th_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** th_write_file - write @value into @path (sysctls under /proc/sys/net). */
int th_write_file(const char *path, const char *value);

/* Program and map access. */
int th_prog_fd(const struct th *h, enum th_prog prog);
const char *th_prog_name(enum th_prog prog);
enum xdpctl_hook th_prog_hook(enum th_prog prog);
bool th_prog_is_xdp(enum th_prog prog);
int th_map_fd(const struct th *h, const char *name); /* XDPCTL_MAP_* */
/**
 * th_tail_fd - the program @prog tail-calls into for the conntrack path
 * (xdpctl_xdp_ct, xdpctl_tc_ct, xdpctl_tc_ret), to run it alone.
 */
int th_tail_fd(const struct th *h, enum th_prog prog);
/** th_tail_set - fill (@on) or empty the tail-call slot of @prog. @return 0 or -errno. */
int th_tail_set(struct th *h, enum th_prog prog, bool on);

/** th_addr - text IPv4/IPv6 address into a lookup key. @return 0 or -EINVAL. */
int th_addr(struct xdpctl_addr *a, const char *text);

/**
 * th_bypass_add - install the bypass rule @a -> (@ifindex, @mtu, @dmac,
 * @smac) with zero counters on every CPU (replaces an existing one).
 */
int th_bypass_add(struct th *h, const struct xdpctl_addr *a, __u32 ifindex, __u16 mtu,
		  const __u8 dmac[6], const __u8 smac[6]);
int th_bypass_del(struct th *h, const struct xdpctl_addr *a);
/** th_bypass_get - the rule with its counters (one value shared by the CPUs). */
int th_bypass_get(struct th *h, const struct xdpctl_addr *a, struct xdpctl_bypass *out);

/** th_pingpong_add - answer echo requests for @a at @hooks (XDPCTL_HOOKBIT_*). */
int th_pingpong_add(struct th *h, const struct xdpctl_addr *a, __u32 hooks);
int th_pingpong_del(struct th *h, const struct xdpctl_addr *a);
int th_pingpong_get(struct th *h, const struct xdpctl_addr *a, struct xdpctl_pingpong *out);

/** th_iface_set - xdpctl_ifaces[@ifindex] = {@mac, @flags}. */
int th_iface_set(struct th *h, __u32 ifindex, const __u8 mac[6], __u32 flags);
int th_iface_del(struct th *h, __u32 ifindex);
/**
 * th_ifaces_gen_bump - add 1 to the config map's ifaces_gen, as user space
 * must after every edit of xdpctl_ifaces (th_iface_set/_del and th_reset
 * do it; abi.h, struct xdpctl_config).
 */
int th_ifaces_gen_bump(struct th *h);

/** th_devmap_add - xdpctl_devmap[@ifindex] = @ifindex (device must exist here). */
int th_devmap_add(struct th *h, __u32 ifindex);
int th_devmap_del(struct th *h, __u32 ifindex);

/**
 * th_trace - switch trace events on or off: the trace lease of slot 0 (where
 * th_open put the harness's ring in xdpctl_events) for an hour, or none.
 */
int th_trace(struct th *h, bool on);

/**
 * th_reset - empty the rule, interface and devmap maps, zero the counters,
 * switch tracing off and drop pending events: a clean slate per test case.
 */
int th_reset(struct th *h);

/* Counters of xdpctl_stats, summed over CPUs. */
struct th_stats {
	struct xdpctl_counter c[XDPCTL_HOOK_MAX][XDPCTL_REASON_MAX];
};
int th_stats_read(struct th *h, struct th_stats *out);
/** th_stats_delta - @out = @after - @before, field by field. */
void th_stats_delta(const struct th_stats *before, const struct th_stats *after,
		    struct th_stats *out);
const char *th_reason_name(unsigned int reason);
const char *th_hook_name(unsigned int hook);

/* One BPF_PROG_TEST_RUN. */
struct th_run {
	const void *in;       /* frame, from L2 */
	__u32 in_len;
	void *out;            /* optional: the frame after the program */
	__u32 out_cap;
	__u32 out_len;        /* out */
	__u32 retval;         /* out: XDP_* / TC_ACT_* */
	__u32 repeat;         /* 0 or 1: once */
	__u32 duration;       /* out: ns per run, averaged by the kernel */
	/*
	 * Optional device of the run (0: the kernel's default, the current
	 * namespace's loopback, ifindex 1). XDP: xdp_md.ingress_ifindex;
	 * tc: __sk_buff.ifindex and ingress_ifindex.
	 */
	__u32 ifindex;
	__u32 flags;          /* BPF_F_TEST_* */
};

/**
 * th_xdp_link - attach XDP program @fd to @ifindex in native mode as a
 * link (detached when the returned fd closes or the process ends). Meant
 * for a device of the private namespace: an XDP test run with repeat > 1
 * adds its program to the kernel's XDP dispatcher and removes it again,
 * waiting for two RCU grace periods per call (milliseconds, much more
 * under load); a program that is attached somewhere stays in the
 * dispatcher, so such runs neither wait nor change how the program is
 * called. @return the link fd or -errno.
 */
int th_xdp_link(int fd, __u32 ifindex);

/** th_run_fd - run program @fd (XDP if @xdp, else tc) on @r. */
int th_run_fd(int fd, bool xdp, struct th_run *r);
/** th_run - run @prog on @r. */
int th_run(struct th *h, enum th_prog prog, struct th_run *r);

/**
 * th_events_drain - consume every pending trace event, keep the first
 * @max in @ev. @return the number consumed (may exceed @max) or -errno.
 */
int th_events_drain(struct th *h, struct xdpctl_event *ev, int max);

/** th_ncpus - possible CPUs (per-CPU value count). */
int th_ncpus(void);

#endif /* XDPCTL_TEST_HARNESS_H */
