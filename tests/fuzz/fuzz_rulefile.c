// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the rule-file parser of `xdpctl bypass load FILE`,
 * through the real main() (ctl/main.c compiled as xdpctl_main) and the real
 * library and kernel maps. The input is the file.
 *
 * The parser is not separable from execution (run_bypass_load reads, checks
 * devices and the map, then stores), so the fuzzer gives it a sandbox of its
 * own: before the first input the process enters new network and mount
 * namespaces, mounts a private bpffs (at $FUZZ_SANDBOX_DIR) and creates
 * six host-side veths fz0, fz1, fz2, fz0p, fz1p, fz2p there, each with its
 * container end in a namespace of its own. Nothing of the machine is seen
 * or touched, and all of it goes away with the process.
 *
 * Two anchor rules (on fz0 and fz1) stay for the whole run, so most loads
 * only add rules; fz2 has none, so a load that names it sets the veth up
 * and the reset tears it down again. The bypass map holds 64 rules, so
 * large inputs also reach the "map full" path.
 *
 * Properties after every input (a violation aborts with "INVARIANT"):
 * - main() returns 0 or 1;
 * - a failed load changes nothing: only the anchors are left, and no veth
 *   keeps a devmap or ifaces entry it did not have;
 * - after any load, every rule's veth has a devmap entry and an ifaces
 *   entry whose refcnt equals the number of rules that use it;
 * - deleting the loaded rules brings the maps back to the anchors only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "xdpctl/dataplane.h"
#include "fuzz_util.h"

int xdpctl_main(int argc, char **argv);

#define NVETH 6
static const char *const veths[NVETH] = { "fz0", "fz1", "fz2", "fz0p", "fz1p", "fz2p" };
static __u32 veth_ifindex[NVETH];
static char pin[PATH_MAX];
static struct xdpctl_dp *dp;
static int ifaces_fd = -1, devmap_fd = -1;
static struct xdpctl_addr anchor[2];

static void die(const char *what)
{
	dprintf(fuzz_report_fd, "fuzz_rulefile: %s: %s\n", what, strerror(errno));
	abort();
}

static void sh(const char *cmd)
{
	if (system(cmd)) {
		dprintf(fuzz_report_fd, "fuzz_rulefile: setup command failed: %s\n", cmd);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	XDPCTL_OPTS(xdpctl_dp_opts, o, .create = true, .max_rules = 64);
	XDPCTL_OPTS(xdpctl_bypass_opts, bo);
	const char *dir = getenv("FUZZ_SANDBOX_DIR");
	static char tmpl[] = "/tmp/xdpctl-fuzz-rulefile-XXXXXX";
	char path[PATH_MAX + 32];
	int i;

	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	if (geteuid() != 0) {
		fprintf(stderr, "fuzz_rulefile: needs root (namespaces, bpffs)\n");
		exit(77);
	}
	if (!dir || !*dir)
		dir = mkdtemp(tmpl);
	if (!dir)
		die("mkdtemp");
	if (unshare(CLONE_NEWNET | CLONE_NEWNS))
		die("unshare");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		die("making / private");
	if (mount("bpf", dir, "bpf", 0, "mode=0700"))
		die("mounting a private bpffs");
	snprintf(pin, sizeof(pin), "%s/xdpctl", dir);
	setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
	unsetenv("XDPCTL_PIN_DIR");
	sh("ip link set lo up");
	/*
	 * Six host-side veths with their container ends in another netns (a
	 * bypass refuses a veth whose peer is in the same one), held by a child
	 * that dies with this process and found by the library in /proc.
	 */
	{
		int pfd[2];
		pid_t kid;
		char c;

		if (pipe(pfd))
			die("pipe");
		kid = fork();
		if (kid < 0)
			die("fork");
		if (!kid) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (unshare(CLONE_NEWNET) || write(pfd[1], "k", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
		close(pfd[1]);
		if (read(pfd[0], &c, 1) != 1)
			die("the peers' netns");
		close(pfd[0]);
		for (i = 0; i < NVETH; i++) {
			char cmd[320];

			snprintf(cmd, sizeof(cmd),
				 "ip link add %s address 02:00:00:00:0%d:0%d type veth peer name k%d "
				 "address 02:00:00:00:1%d:0%d netns %d && ip link set %s up && "
				 "nsenter -t %d -n ip link set k%d up",
				 veths[i], i % 3, 1 + i / 3, i, i % 3, 1 + i / 3, (int)kid, veths[i],
				 (int)kid, i);
			sh(cmd);
		}
	}
	for (i = 0; i < NVETH; i++)
		if (!(veth_ifindex[i] = if_nametoindex(veths[i])))
			die(veths[i]);
	o.pin_dir = pin; /* never the machine's default pin dir */
	if (xdpctl_dp__open(&o, &dp))
		die(xdpctl_dp__errmsg(NULL));
	snprintf(path, sizeof(path), "%s/%s", pin, XDPCTL_MAP_IFACES);
	ifaces_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/%s", pin, XDPCTL_MAP_DEVMAP);
	devmap_fd = bpf_obj_get(path);
	if (ifaces_fd < 0 || devmap_fd < 0)
		die("opening the pinned ifaces/devmap");
	xdpctl_addr_parse("198.18.255.1", &anchor[0]);
	xdpctl_addr_parse("2001:db8:18:ff::1", &anchor[1]);
	for (i = 0; i < 2; i++) {
		bo.dev = veths[i];
		if (xdpctl_dp__bypass_add(dp, &anchor[i], &bo))
			die(xdpctl_dp__errmsg(dp));
	}
	return 0;
}

struct seen {
	struct xdpctl_addr addr[128];
	__u32 ifindex[128];
	size_t n;
	bool overflow;
};

static int collect(const struct xdpctl_bypass_rule *r, void *ctx)
{
	struct seen *s = ctx;

	if (s->n == 128) {
		s->overflow = true;
		return 0;
	}
	s->addr[s->n] = r->addr;
	s->ifindex[s->n++] = r->ifindex;
	return 0;
}

static bool is_anchor(const struct xdpctl_addr *a)
{
	return !memcmp(a, &anchor[0], sizeof(*a)) || !memcmp(a, &anchor[1], sizeof(*a));
}

/* Every rule's veth set up and counted right; veths without rules left clean. */
static void check_consistent(const struct seen *s, const char *when)
{
	size_t i, k;

	INVARIANT(!s->overflow, "%s: more rules than the map holds", when);
	for (i = 0; i < s->n; i++) {
		for (k = 0; k < NVETH && veth_ifindex[k] != s->ifindex[i]; k++)
			;
		INVARIANT(k < NVETH, "%s: a rule points at ifindex %u, not a sandbox veth", when,
			  s->ifindex[i]);
	}
	for (k = 0; k < NVETH; k++) {
		struct xdpctl_iface ent;
		__u32 n = 0, dm;
		bool have_ent, have_dm;

		for (i = 0; i < s->n; i++)
			n += s->ifindex[i] == veth_ifindex[k];
		have_ent = !bpf_map_lookup_elem(ifaces_fd, &veth_ifindex[k], &ent);
		have_dm = !bpf_map_lookup_elem(devmap_fd, &veth_ifindex[k], &dm);
		if (n) {
			INVARIANT(have_ent && have_dm, "%s: %s has %u rules but %s", when, veths[k], n,
				  !have_ent ? "no ifaces entry" : "no devmap entry");
			INVARIANT(ent.refcnt == n, "%s: %s has %u rules, refcnt %u", when, veths[k], n,
				  ent.refcnt);
			INVARIANT(ent.flags & XDPCTL_IF_VETH, "%s: %s entry without the veth flag", when,
				  veths[k]);
		} else {
			INVARIANT(!have_dm, "%s: %s has no rule but a devmap entry", when, veths[k]);
			INVARIANT(!have_ent || !ent.refcnt, "%s: %s has no rule but refcnt %u", when,
				  veths[k], ent.refcnt);
		}
	}
}

static void snapshot(struct seen *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	err = xdpctl_dp__bypass_for_each(dp, collect, s);
	INVARIANT(!err, "listing the rules: %d %s", err, xdpctl_dp__errmsg(dp));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	char *argv[] = { "xdpctl", "--pin-dir", pin, "bypass", "load", path, NULL };
	struct seen s;
	size_t i, extra = 0;
	int fd, r;

	if (size > 8192)
		return 0;
	fd = memfd_create("rules", MFD_CLOEXEC);
	if (fd < 0)
		die("memfd_create");
	if (size && write(fd, data, size) != (ssize_t)size)
		die("write");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	r = xdpctl_main(6, argv);
	close(fd);
	INVARIANT(r == 0 || r == 1, "main returned %d", r);

	snapshot(&s);
	check_consistent(&s, "after load");
	for (i = 0; i < s.n; i++)
		extra += !is_anchor(&s.addr[i]);
	INVARIANT(s.n - extra == 2, "after load: %zu anchors left, expected 2", s.n - extra);
	if (r)
		INVARIANT(extra == 0, "a failed load left %zu rules behind", extra);

	/* Back to the anchors, through the library's own delete. */
	for (i = 0; i < s.n; i++) {
		if (is_anchor(&s.addr[i]))
			continue;
		r = xdpctl_dp__bypass_del(dp, &s.addr[i]);
		INVARIANT(r == 0, "deleting a loaded rule: %d %s", r, xdpctl_dp__errmsg(dp));
	}
	snapshot(&s);
	INVARIANT(s.n == 2, "after the reset %zu rules, expected the 2 anchors", s.n);
	check_consistent(&s, "after reset");
	return 0;
}
