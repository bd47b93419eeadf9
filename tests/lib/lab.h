/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tests' netns lab in C (the shell's is tests/lib/lab.sh), used by the
 * dataplane library's end-to-end tests (tests/e2e/dp_*.c): checks that
 * name what failed, shell commands with their output shown
 * only on failure, network namespaces with a per-run prefix, a per-run pin
 * dir and /tmp/dp<pid>-* files, background processes tracked by pid,
 * packet captures, and a cleanup that runs on every exit path (also
 * SIGTERM/SIGINT from meson's timeout).
 */
#ifndef XDPCTL_TEST_LAB_H
#define XDPCTL_TEST_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <xdpctl/dataplane.h>

/* ---- checks ---- */
extern int lab_failures;
bool lab_check(bool ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define CHECK(ok, ...) lab_check(!!(ok), __FILE__, __LINE__, __VA_ARGS__)
/* A library call's return against the expected one, with the errmsg. */
#define CHECK_RET(dp, call, want)                                                  \
	({                                                                         \
		int r_ = (call);                                                   \
		CHECK(r_ == (want), "%s = %d (%s), expected %d; errmsg: %s", #call, \
		      r_, strerror(r_ < 0 ? -r_ : 0), (want), xdpctl_dp__errmsg(dp)); \
	})

/* ---- setup and cleanup ---- */
/*
 * Skip (exit 77) unless root with bpffs mounted at /sys/fs/bpf; pick the
 * run's prefix and pin dir; install the cleanup. @name is the test's name.
 */
void lab_init(const char *name);
/* "dp<pid><suffix>": a namespace or device name of this run (a ring of 64 buffers). */
const char *lab_name(const char *suffix);
/* The run's pin dir, /sys/fs/bpf/xdpctl-test-dp<pid>. */
const char *lab_pin_dir(void);
/* Create namespace lab_name(suffix) (lo up), removed by the cleanup. */
const char *lab_netns_add(const char *suffix);
/* Enter a namespace of this run (process-wide), or back to where we started. */
void lab_enter(const char *ns);
void lab_leave(void);
/* A veth pair: @a in namespace @nsa, @b in @nsb, fixed MACs, both up. */
void lab_veth(const char *nsa, const char *a, const char *maca, const char *nsb,
	      const char *b, const char *macb);
/* A shell command the cleanup runs first (before namespaces go). */
void lab_on_cleanup(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the verdict line, clean up, and return the exit code. */
int lab_finish(void);

/* ---- commands ---- */
/* Run a shell command; 0 or its exit status. Output shown only if it fails. */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a shell command quietly (a predicate): 0 or its exit status. */
int sh_q(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run and expect success; a failure counts as a failed check. */
#define SH_OK(...) CHECK(sh(__VA_ARGS__) == 0, "command failed: " __VA_ARGS__)
/* Run and capture stdout (trimmed); -1 if it fails. */
int sh_out(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* One number from a command's output (e.g. a counter); -1 on failure. */
long long sh_num(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start a background command (tracked; killed by the cleanup); its pid. */
pid_t sh_bg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Wait up to @timeout_s for a background command; its exit status or -1. */
int sh_wait(pid_t pid, int timeout_s);
/* Stop a background command now. */
void sh_kill(pid_t pid);

/* ---- packet capture ---- */
/*
 * tcpdump on @dev in @ns with a pcap @filter, writing each packet out at
 * once (-U --immediate-mode) to a file of this run; returns its pid once
 * the capture runs, or -1.
 */
pid_t lab_capture_start(const char *ns, const char *dev, const char *filter);
/* Stop it and return the number of packets captured (-1 on failure). */
long lab_capture_stop(pid_t pid);

/* ---- small helpers ---- */
struct xdpctl_addr lab_addr(const char *s);
/* Open (create) the run's pinned state; aborts the test on failure. */
struct xdpctl_dp *lab_open(__u32 max_rules);
/* Sum of one counter over the stats map. */
unsigned long long lab_stat(struct xdpctl_dp *dp, unsigned int hook, unsigned int reason);
/* Replies counted by the ping-pong rule of @addr (~0: no such rule). */
unsigned long long lab_pp_packets(struct xdpctl_dp *dp, const char *addr);
/* Id of the XDP program on @dev in namespace @ns (0: none). */
unsigned int lab_xdp_id(const char *ns, const char *dev);
/* Id of the tc program named @name on @dev's clsact ingress in @ns (0: none). */
unsigned int lab_tc_id(const char *ns, const char *dev, const char *name);
/* A counter of /proc/net/snmp ("Icmp", "InEchos") or snmp6 ("Icmp6InEchos", NULL) in @ns. */
long long lab_snmp(const char *ns, const char *proto, const char *field);
/* Echo replies received by `ping -c count` in @ns (extra ping args in @opts). */
int lab_ping(const char *ns, const char *opts, const char *dst, int count);

#endif /* XDPCTL_TEST_LAB_H */
