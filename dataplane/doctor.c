// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdpctl doctor: the traps measured on real hosts (see the design notes),
 * each checked on this one and named with what to do: bpffs and tracefs
 * mounted, the XDP program on the peer of every veth an XDP engine
 * redirects into, tx checksum offload on the far end of a veth uplink,
 * Docker's FORWARD policy, the conntrack kfuncs in the kernel's BTF, and the
 * Docker socket (root's, answering).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <linux/ethtool.h>
#include <linux/magic.h>
#include <linux/sockios.h>
#include <bpf/btf.h>

#include "docker_int.h"
#include "netns.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

const char *xdpctl_check_status_name(enum xdpctl_check_status s)
{
	switch (s) {
	case XDPCTL_CHECK_OK: return "ok";
	case XDPCTL_CHECK_WARN: return "warn";
	case XDPCTL_CHECK_FAIL: return "fail";
	default: return "skip";
	}
}

static int emit(xdpctl_check_cb cb, void *ctx, const char *name, enum xdpctl_check_status st,
		const char *fix, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int emit(xdpctl_check_cb cb, void *ctx, const char *name, enum xdpctl_check_status st,
		const char *fix, const char *fmt, ...)
{
	struct xdpctl_check ck = { .name = name, .status = st };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ck.detail, sizeof(ck.detail), fmt, ap);
	va_end(ap);
	snprintf(ck.fix, sizeof(ck.fix), "%s", fix ? fix : "");
	return cb(&ck, ctx);
}

static bool fs_is(const char *path, unsigned long magic)
{
	struct statfs st;

	return !statfs(path, &st) && (unsigned long)st.f_type == magic;
}

static int check_fs(xdpctl_check_cb cb, void *ctx, const char *pin_dir)
{
	char parent[PATH_MAX], *slash;
	int r;

	snprintf(parent, sizeof(parent), "%s", pin_dir ? pin_dir : XDPCTL_PIN_DIR_DEFAULT);
	while (access(parent, F_OK) && (slash = strrchr(parent, '/')) && slash != parent)
		*slash = '\0';
	if (fs_is(parent, BPF_FS_MAGIC))
		r = emit(cb, ctx, "bpffs", XDPCTL_CHECK_OK, NULL, "%s is on a bpffs", parent);
	else
		r = emit(cb, ctx, "bpffs", XDPCTL_CHECK_FAIL, "mount -t bpf bpf /sys/fs/bpf",
			 "%s is not on a bpffs: the rules cannot be pinned", parent);
	if (r)
		return r;
	if (fs_is("/sys/kernel/tracing", TRACEFS_MAGIC))
		return emit(cb, ctx, "tracefs", XDPCTL_CHECK_OK, NULL,
			    "/sys/kernel/tracing is mounted");
	return emit(cb, ctx, "tracefs", XDPCTL_CHECK_WARN,
		    "mount -t tracefs tracefs /sys/kernel/tracing",
		    "/sys/kernel/tracing is not a tracefs: 'path diff' cannot record");
}

/* ---- devices of the state ---- */

struct dev_walk {
	xdpctl_check_cb cb;
	void *ctx;
	bool xdp_uplink;       /* an uplink forwards by XDP: veth peers need a program */
	unsigned int veths, bad_peers, csum_bad, veth_uplinks;
	char first_bad[128];
	char csum_first[160];
};

static int scan_uplinks(const struct xdpctl_dev_status *st, void *ctx)
{
	struct dev_walk *d = ctx;

	if ((st->flags & XDPCTL_IF_UPLINK) && st->xdp_prog_id && st->present)
		d->xdp_uplink = true;
	return 0;
}

struct csum_q {
	__u32 ifindex;
	__u32 on;
};

/* In the peer's netns: is tx checksum offload on for ifindex? (ETHTOOL_GTXCSUM) */
static int txcsum_in_ns(void *arg)
{
	struct csum_q *q = arg;
	struct ethtool_value ev = { .cmd = ETHTOOL_GTXCSUM };
	struct ifreq ifr = {};
	int fd, err = 0;

	if (!if_indextoname(q->ifindex, ifr.ifr_name))
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	else
		q->on = ev.data;
	close(fd);
	return err;
}

static int scan_devs(const struct xdpctl_dev_status *st, void *ctx)
{
	struct dev_walk *d = ctx;
	struct dp_link l, peer;

	if (!st->present || dp_link_get(NULL, st->ifindex, -1, &l) || strcmp(l.kind, "veth"))
		return 0;
	if (st->flags & XDPCTL_IF_VETH) {
		d->veths++;
		if (!d->xdp_uplink)
			return 0;
		if (dp_link_get(NULL, l.link, l.link_nsid, &peer) || !peer.xdp_prog_id) {
			if (!d->bad_peers++)
				snprintf(d->first_bad, sizeof(d->first_bad), "%s", st->name);
		}
		return 0;
	}
	if (st->flags & XDPCTL_IF_UPLINK) {
		struct csum_q q = { .ifindex = l.link };
		char path[PATH_MAX];
		int nsfd = -1;

		d->veth_uplinks++;
		if (l.link_nsid >= 0) {
			nsfd = dp_netns_find(l.link_nsid, path, sizeof(path));
			if (nsfd < 0)
				return 0;
		} else {
			snprintf(path, sizeof(path), "this namespace");
		}
		if (!dp_in_netns(nsfd, txcsum_in_ns, &q) && q.on && !d->csum_bad++) {
			char pname[IF_NAMESIZE] = "?";

			if (!dp_link_get(NULL, l.link, l.link_nsid, &peer))
				snprintf(pname, sizeof(pname), "%s", peer.name);
			snprintf(d->csum_first, sizeof(d->csum_first), "%s (peer %s in %.80s)", st->name,
				 pname, path);
		}
		if (nsfd >= 0)
			close(nsfd);
	}
	return 0;
}

static int check_devs(struct xdpctl_dp *dp, xdpctl_check_cb cb, void *ctx)
{
	struct dev_walk d = { .cb = cb, .ctx = ctx };
	char fix[256];
	int r;

	if (!dp) {
		r = emit(cb, ctx, "veth-peer-programs", XDPCTL_CHECK_SKIP, NULL,
			 "no xdpctl state: nothing attached");
		return r ? r : emit(cb, ctx, "veth-uplink-checksum", XDPCTL_CHECK_SKIP, NULL,
				    "no xdpctl state: nothing attached");
	}
	xdpctl_dp__for_each_dev(dp, scan_uplinks, &d);
	xdpctl_dp__for_each_dev(dp, scan_devs, &d);
	if (!d.xdp_uplink)
		r = emit(cb, ctx, "veth-peer-programs", XDPCTL_CHECK_OK, NULL,
			 "no uplink forwards by XDP: %u bypassed veths need no peer program", d.veths);
	else if (!d.bad_peers)
		r = emit(cb, ctx, "veth-peer-programs", XDPCTL_CHECK_OK, NULL,
			 "every bypassed veth's peer (%u) runs an XDP program", d.veths);
	else {
		snprintf(fix, sizeof(fix),
			 "re-add its rules ('xdpctl bypass del ADDR', then add) so xdpctl puts "
			 "its pass program there, or attach with '--engine tc'");
		r = emit(cb, ctx, "veth-peer-programs", XDPCTL_CHECK_FAIL, fix,
			 "%u of %u bypassed veths (first: %s) have a peer without an XDP program: "
			 "XDP redirects into them are dropped", d.bad_peers, d.veths, d.first_bad);
	}
	if (r)
		return r;
	if (!d.veth_uplinks)
		return emit(cb, ctx, "veth-uplink-checksum", XDPCTL_CHECK_OK, NULL,
			    "no attached uplink is a veth");
	if (!d.csum_bad)
		return emit(cb, ctx, "veth-uplink-checksum", XDPCTL_CHECK_OK, NULL,
			    "tx checksum offload is off on the far end of every veth uplink (%u)",
			    d.veth_uplinks);
	return emit(cb, ctx, "veth-uplink-checksum", XDPCTL_CHECK_WARN,
		    "'ethtool -K PEER tx off' on the far end (a wire never sends unfinished "
		    "checksums), or attach with '--engine tc'",
		    "uplink %s has tx checksum offload on: packets arrive CHECKSUM_PARTIAL, and "
		    "after an XDP redirect containers drop TCP (TcpInCsumErrors)", d.csum_first);
}

/* ---- Docker's FORWARD policy: iptables -S FORWARD ---- */

static int run_capture(char *const argv[], char *out, size_t len)
{
	int pfd[2], status = 0;
	size_t got = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (!pid) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(pfd[1], 1);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t n = read(pfd[0], out + got, len - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		if (got >= len - 1)
			break;
	}
	out[got] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status))
		return -EIO;
	return WEXITSTATUS(status) == 127 ? -ENOENT : WEXITSTATUS(status) ? -EIO : 0;
}

static int check_forward(xdpctl_check_cb cb, void *ctx)
{
	char *argv[] = { "iptables", "-w", "5", "-S", "FORWARD", NULL };
	char out[16384];
	bool docker, drop;
	int err = run_capture(argv, out, sizeof(out));

	if (err == -ENOENT)
		return emit(cb, ctx, "docker-forward-policy", XDPCTL_CHECK_SKIP, NULL,
			    "iptables is not installed");
	if (err)
		return emit(cb, ctx, "docker-forward-policy", XDPCTL_CHECK_SKIP, NULL,
			    "'iptables -S FORWARD' failed (not root, or no ip_tables)");
	docker = strstr(out, "-j DOCKER") != NULL;
	drop = strstr(out, "-P FORWARD DROP") != NULL;
	if (!drop)
		return emit(cb, ctx, "docker-forward-policy", XDPCTL_CHECK_OK, NULL,
			    "FORWARD policy is not DROP%s", docker ? " (Docker's chains present)" : "");
	return emit(cb, ctx, "docker-forward-policy", XDPCTL_CHECK_WARN,
		    "admit the uplink in DOCKER-USER, e.g. 'iptables -I DOCKER-USER -i UPLINK -o "
		    "BRIDGE -j ACCEPT', or publish the ports",
		    "FORWARD policy is DROP%s: traffic from outside to container addresses that "
		    "takes the kernel path (first packets, rules not yet added) is dropped",
		    docker ? " (set by Docker)" : "");
}

/* ---- conntrack kfuncs, in vmlinux BTF or nf_conntrack's module BTF ---- */

static bool btf_has_func(const char *const *names, size_t n)
{
	struct btf *vm = btf__load_vmlinux_btf(), *mod = NULL;
	bool all = vm != NULL;
	size_t i;

	if (!vm)
		return false;
	if (!access("/sys/kernel/btf/nf_conntrack", R_OK))
		mod = btf__load_module_btf("nf_conntrack", vm);
	for (i = 0; i < n && all; i++)
		all = btf__find_by_name_kind(vm, names[i], BTF_KIND_FUNC) >= 0 ||
		      (mod && btf__find_by_name_kind(mod, names[i], BTF_KIND_FUNC) >= 0);
	btf__free(mod);
	btf__free(vm);
	return all;
}

static int check_kfuncs(xdpctl_check_cb cb, void *ctx)
{
	static const char *const fns[] = { "bpf_xdp_ct_lookup", "bpf_skb_ct_lookup",
					   "bpf_ct_release", "bpf_ct_change_timeout" };

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return emit(cb, ctx, "conntrack-kfuncs", XDPCTL_CHECK_FAIL,
			    "use a kernel built with CONFIG_DEBUG_INFO_BTF=y",
			    "/sys/kernel/btf/vmlinux is missing: no BTF, no kfuncs");
	if (btf_has_func(fns, sizeof(fns) / sizeof(fns[0])))
		return emit(cb, ctx, "conntrack-kfuncs", XDPCTL_CHECK_OK, NULL,
			    "bpf_xdp_ct_lookup, bpf_skb_ct_lookup, bpf_ct_release and "
			    "bpf_ct_change_timeout are in the kernel's BTF");
	return emit(cb, ctx, "conntrack-kfuncs", XDPCTL_CHECK_FAIL,
		    "'modprobe nf_conntrack' (the kfuncs live there), or a kernel with "
		    "CONFIG_NF_CONNTRACK and CONFIG_DEBUG_INFO_BTF",
		    "the conntrack kfuncs are not in the kernel's BTF: the conntrack-following "
		    "fast path cannot load");
}

/* ---- the Docker socket ---- */

static int check_docker(xdpctl_check_cb cb, void *ctx)
{
	struct xdpctl_docker *dk;
	char detail[600];
	int err = xdpctl_docker__open(NULL, &dk);

	if (err == -EPERM || err == -ENOTSOCK || err == -EPROTONOSUPPORT)
		return emit(cb, ctx, "docker-socket", XDPCTL_CHECK_FAIL,
			    "point DOCKER_HOST at the root daemon's socket "
			    "(unix:///var/run/docker.sock), or unset it",
			    "%s", xdpctl_docker__errmsg(NULL));
	if (err)
		return emit(cb, ctx, "docker-socket", XDPCTL_CHECK_SKIP, NULL, "%s",
			    xdpctl_docker__errmsg(NULL));
	err = xdpctl_docker__ping(dk);
	snprintf(detail, sizeof(detail), "%s", err ? xdpctl_docker__errmsg(dk) : "");
	if (!err)
		snprintf(detail, sizeof(detail), "the daemon answers API %s on %s",
			 XDPCTL_DOCKER_API, xdpctl_docker__socket(dk));
	xdpctl_docker__close(dk);
	if (!err)
		return emit(cb, ctx, "docker-socket", XDPCTL_CHECK_OK, NULL, "%s", detail);
	return emit(cb, ctx, "docker-socket", XDPCTL_CHECK_WARN,
		    "start dockerd if this host runs containers ('xdpctl docker watch' waits "
		    "for it)", "%s", detail);
}

int xdpctl_doctor(struct xdpctl_dp *dp, const char *pin_dir, xdpctl_check_cb cb, void *ctx)
{
	int r;

	if (!cb)
		return dp_ret(-EINVAL);
	if ((r = check_fs(cb, ctx, pin_dir)) || (r = check_devs(dp, cb, ctx)) ||
	    (r = check_forward(cb, ctx)) || (r = check_kfuncs(cb, ctx)) ||
	    (r = check_docker(cb, ctx)))
		return r < 0 ? dp_ret(r) : 0;
	return 0;
}
