// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test harness (see harness.h): the real xdp and tc skeletons, maps shared
 * through a private pin directory, BPF_PROG_TEST_RUN, counters, events.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "xdp.skel.h"
#include "tc.skel.h"

#define BPFFS "/sys/fs/bpf"

struct th {
	struct xdpctl_xdp *xdp;
	struct xdpctl_tc *tc;
	struct ring_buffer *rb;
	int ring_fd;          /* the trace reader's ring, at lease slot 0 of xdpctl_events */
	char pin_dir[128];
	int ncpus;
	/* Event sink of the ring buffer callback. */
	struct xdpctl_event *ev_out;
	int ev_max;
	int ev_n;
};

/* Hooks and reasons by abi.h's names, the ones the CLI and JSON show. */
#define TH_REASON_NAME(id, name, words) [XDPCTL_R_##id] = name,
#define TH_HOOK_NAME(id, name, words) [XDPCTL_HOOK_##id] = name,
static const char *const reason_names[XDPCTL_REASON_MAX] = { XDPCTL_REASONS(TH_REASON_NAME) };
static const char *const hook_names[XDPCTL_HOOK_MAX] = { XDPCTL_HOOKS(TH_HOOK_NAME) };

const char *th_reason_name(unsigned int reason)
{
	return reason < XDPCTL_REASON_MAX ? reason_names[reason] : "?";
}

const char *th_hook_name(unsigned int hook)
{
	return hook < XDPCTL_HOOK_MAX ? hook_names[hook] : "?";
}

/* The program's name without "xdpctl_", as the corpus files' "prog" line says it. */
const char *th_prog_name(enum th_prog prog)
{
	switch (prog) {
	case TH_XDP:
		return "xdp";
	case TH_TC_IN:
		return "tc_in";
	default:
		return "tc_fwd";
	}
}

enum xdpctl_hook th_prog_hook(enum th_prog prog)
{
	switch (prog) {
	case TH_XDP:
		return XDPCTL_HOOK_XDP;
	case TH_TC_IN:
		return XDPCTL_HOOK_TC_IN;
	default:
		return XDPCTL_HOOK_TC_FWD;
	}
}

bool th_prog_is_xdp(enum th_prog prog)
{
	return prog == TH_XDP;
}

int th_ncpus(void)
{
	return libbpf_num_possible_cpus();
}

static int ensure_bpffs(void)
{
	struct statfs st;

	if (statfs(BPFFS, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS, "bpf", 0, NULL))
		return -errno;
	return 0;
}

/* Remove every pin of our maps (xdp's and tc's are the same paths). */
static void unpin_all(struct th *h)
{
	struct bpf_map *m;

	if (!h->pin_dir[0])
		return;
	if (h->xdp)
		bpf_object__for_each_map(m, h->xdp->obj)
			if (bpf_map__is_pinned(m))
				bpf_map__unpin(m, NULL);
	if (h->tc)
		bpf_object__for_each_map(m, h->tc->obj)
			if (bpf_map__is_pinned(m))
				bpf_map__unpin(m, NULL);
	rmdir(h->pin_dir);
	h->pin_dir[0] = 0;
}

static int size_maps(struct bpf_object *obj, const struct th_opts *o)
{
	struct bpf_map *m;
	int err;

	if (o && o->max_rules) {
		m = bpf_object__find_map_by_name(obj, XDPCTL_MAP_BYPASS);
		if (!m)
			return -ENOENT;
		err = bpf_map__set_max_entries(m, o->max_rules);
		if (err)
			return err;
	}
	if (o && o->strict_align) {
		struct bpf_program *p;

		bpf_object__for_each_program(p, obj) {
			err = bpf_program__set_flags(p, bpf_program__flags(p) |
						     BPF_F_STRICT_ALIGNMENT);
			if (err)
				return err;
		}
	}
	if (o && o->max_pingpong) {
		m = bpf_object__find_map_by_name(obj, XDPCTL_MAP_PINGPONG);
		if (!m)
			return -ENOENT;
		err = bpf_map__set_max_entries(m, o->max_pingpong);
		if (err)
			return err;
	}
	return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct th *h = ctx;

	if (size >= sizeof(struct xdpctl_event) && h->ev_n < h->ev_max && h->ev_out)
		memcpy(&h->ev_out[h->ev_n], data, sizeof(struct xdpctl_event));
	h->ev_n++;
	return 0;
}

struct th *th_open(const struct th_opts *opts)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct th *h;
	int err;

	if (opts && opts->sz != sizeof(*opts)) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	h->ring_fd = -1;
	h->ncpus = libbpf_num_possible_cpus();
	if (h->ncpus <= 0) {
		err = h->ncpus ? h->ncpus : -EINVAL;
		goto fail;
	}
	err = ensure_bpffs();
	if (err)
		goto fail;
	snprintf(h->pin_dir, sizeof(h->pin_dir), BPFFS "/xdpctl-test-%d-XXXXXX", (int)getpid());
	if (!mkdtemp(h->pin_dir)) {
		err = -errno;
		h->pin_dir[0] = 0;
		goto fail;
	}
	oo.pin_root_path = h->pin_dir;

	h->xdp = xdpctl_xdp__open_opts(&oo);
	if (!h->xdp) {
		err = -errno;
		goto fail;
	}
	h->tc = xdpctl_tc__open_opts(&oo);
	if (!h->tc) {
		err = -errno;
		goto fail;
	}
	err = size_maps(h->xdp->obj, opts);
	if (!err)
		err = size_maps(h->tc->obj, opts);
	if (err)
		goto fail;
	/* The first load creates and pins the maps, the second reuses them. */
	err = xdpctl_xdp__load(h->xdp);
	if (err)
		goto fail;
	/*
	 * The kernel adds BPF_F_RDONLY_PROG to every devmap's flags, and
	 * libbpf 1.1's pinned-map compatibility check then refuses the pin
	 * ("couldn't reuse pinned map ... parameter mismatch"; cilium/ebpf
	 * #925 is the same trap). Hand the devmap over by fd instead.
	 */
	err = bpf_map__set_pin_path(h->tc->maps.xdpctl_devmap, NULL);
	if (!err)
		err = bpf_map__reuse_fd(h->tc->maps.xdpctl_devmap,
					bpf_map__fd(h->xdp->maps.xdpctl_devmap));
	if (err)
		goto fail;
	err = xdpctl_tc__load(h->tc);
	if (err)
		goto fail;
	/* The tail calls into the conntrack programs. */
	{
		__u32 k = 0;
		int a = bpf_program__fd(h->xdp->progs.xdpctl_xdp_ct);
		int b = bpf_program__fd(h->tc->progs.xdpctl_tc_ct);
		int c = bpf_program__fd(h->tc->progs.xdpctl_tc_ret);

		if (bpf_map_update_elem(bpf_map__fd(h->xdp->maps.xdpctl_xdp_tail), &k, &a, 0) ||
		    bpf_map_update_elem(bpf_map__fd(h->tc->maps.xdpctl_tc_tin), &k, &b, 0) ||
		    bpf_map_update_elem(bpf_map__fd(h->tc->maps.xdpctl_tc_tret), &k, &c, 0)) {
			err = -errno;
			goto fail;
		}
	}
	if (bpf_map__fd(h->xdp->maps.xdpctl_stats) < 0) {
		err = -EBADF;
		goto fail;
	}

	/* a trace reader's own ring at slot 0 (th_trace gives slot 0 the lease) */
	h->ring_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "th_trace", 0, 0, XDPCTL_EVENTS_BYTES, NULL);
	if (h->ring_fd < 0) {
		err = -errno;
		goto fail;
	}
	{
		__u32 slot = 0;

		if (bpf_map_update_elem(bpf_map__fd(h->xdp->maps.xdpctl_events), &slot, &h->ring_fd,
					BPF_ANY)) {
			err = -errno;
			goto fail;
		}
	}
	h->rb = ring_buffer__new(h->ring_fd, on_event, h, NULL);
	if (!h->rb) {
		err = -errno;
		goto fail;
	}
	if (!(opts && opts->keep_pins))
		unpin_all(h);
	return h;

fail:
	th_close(h);
	errno = err < 0 ? -err : EINVAL;
	return NULL;
}

void th_close(struct th *h)
{
	if (!h)
		return;
	ring_buffer__free(h->rb);
	if (h->ring_fd >= 0)
		close(h->ring_fd);
	unpin_all(h);
	xdpctl_tc__destroy(h->tc);
	xdpctl_xdp__destroy(h->xdp);
	free(h);
}

const char *th_pin_dir(const struct th *h)
{
	return h->pin_dir;
}

int th_enter_private_netns(void)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		err = -errno;
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
out:
	close(fd);
	return err;
}

int th_cmd(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	pid_t pid;
	int n, status, fd;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -E2BIG;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int th_write_file(const char *path, const char *value)
{
	size_t len = strlen(value);
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}

int th_prog_fd(const struct th *h, enum th_prog prog)
{
	switch (prog) {
	case TH_XDP:
		return bpf_program__fd(h->xdp->progs.xdpctl_xdp);
	case TH_TC_IN:
		return bpf_program__fd(h->tc->progs.xdpctl_tc_in);
	case TH_TC_FWD:
		return bpf_program__fd(h->tc->progs.xdpctl_tc_fwd);
	default:
		return -EINVAL;
	}
}

int th_tail_fd(const struct th *h, enum th_prog prog)
{
	switch (prog) {
	case TH_XDP:
		return bpf_program__fd(h->xdp->progs.xdpctl_xdp_ct);
	case TH_TC_IN:
		return bpf_program__fd(h->tc->progs.xdpctl_tc_ct);
	case TH_TC_FWD:
		return bpf_program__fd(h->tc->progs.xdpctl_tc_ret);
	default:
		return -EINVAL;
	}
}

int th_tail_set(struct th *h, enum th_prog prog, bool on)
{
	int fd = th_tail_fd(h, prog), map;
	__u32 k = 0;

	if (fd < 0)
		return fd;
	map = prog == TH_XDP ? bpf_map__fd(h->xdp->maps.xdpctl_xdp_tail) :
	      prog == TH_TC_IN ? bpf_map__fd(h->tc->maps.xdpctl_tc_tin) :
	      bpf_map__fd(h->tc->maps.xdpctl_tc_tret);
	if (on ? bpf_map_update_elem(map, &k, &fd, 0) : bpf_map_delete_elem(map, &k))
		return -errno;
	return 0;
}

int th_map_fd(const struct th *h, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(h->xdp->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

static int err_ret(int ret)
{
	if (ret < 0)
		return errno ? -errno : ret;
	return 0;
}

int th_addr(struct xdpctl_addr *a, const char *text)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, a->addr) == 1) {
		a->family = XDPCTL_AF_INET;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET6, text, a->addr) == 1) {
		a->family = XDPCTL_AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int th_bypass_add(struct th *h, const struct xdpctl_addr *a, __u32 ifindex, __u16 mtu,
		  const __u8 dmac[6], const __u8 smac[6])
{
	struct xdpctl_bypass v = { .ifindex = ifindex, .mtu = mtu };

	memcpy(v.dmac, dmac, 6);
	memcpy(v.smac, smac, 6);
	return err_ret(bpf_map_update_elem(th_map_fd(h, XDPCTL_MAP_BYPASS), a, &v, BPF_ANY));
}

int th_bypass_del(struct th *h, const struct xdpctl_addr *a)
{
	return err_ret(bpf_map_delete_elem(th_map_fd(h, XDPCTL_MAP_BYPASS), a));
}

int th_bypass_get(struct th *h, const struct xdpctl_addr *a, struct xdpctl_bypass *out)
{
	return err_ret(bpf_map_lookup_elem(th_map_fd(h, XDPCTL_MAP_BYPASS), a, out));
}

int th_pingpong_add(struct th *h, const struct xdpctl_addr *a, __u32 hooks)
{
	struct xdpctl_pingpong *v = calloc(h->ncpus, sizeof(*v));
	int i, ret;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < h->ncpus; i++)
		v[i].hooks = hooks;
	ret = err_ret(bpf_map_update_elem(th_map_fd(h, XDPCTL_MAP_PINGPONG), a, v, BPF_ANY));
	free(v);
	return ret;
}

int th_pingpong_del(struct th *h, const struct xdpctl_addr *a)
{
	return err_ret(bpf_map_delete_elem(th_map_fd(h, XDPCTL_MAP_PINGPONG), a));
}

int th_pingpong_get(struct th *h, const struct xdpctl_addr *a, struct xdpctl_pingpong *out)
{
	struct xdpctl_pingpong *v = calloc(h->ncpus, sizeof(*v));
	int i, ret;

	if (!v)
		return -ENOMEM;
	ret = err_ret(bpf_map_lookup_elem(th_map_fd(h, XDPCTL_MAP_PINGPONG), a, v));
	if (!ret) {
		*out = v[0];
		out->packets = out->bytes = 0;
		for (i = 0; i < h->ncpus; i++) {
			out->packets += v[i].packets;
			out->bytes += v[i].bytes;
		}
	}
	free(v);
	return ret;
}

/*
 * After every edit of the ifaces map, as dataplane/state.c does: the
 * programs' per-CPU copies of entries are good only while the generation
 * is the one they were made at (bpf/lib/entry.h, iface_cached).
 */
int th_ifaces_gen_bump(struct th *h)
{
	long page = sysconf(_SC_PAGESIZE);
	struct xdpctl_config *cfg;
	void *mem;

	mem = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED,
		   th_map_fd(h, XDPCTL_MAP_CONFIG), 0);
	if (mem == MAP_FAILED)
		return -errno;
	cfg = mem;
	__atomic_fetch_add(&cfg->ifaces_gen, 1, __ATOMIC_SEQ_CST);
	munmap(mem, page);
	return 0;
}

int th_iface_set(struct th *h, __u32 ifindex, const __u8 mac[6], __u32 flags)
{
	struct xdpctl_iface v = {};
	int err;

	memcpy(v.mac, mac, 6);
	v.flags = flags;
	err = err_ret(bpf_map_update_elem(th_map_fd(h, XDPCTL_MAP_IFACES), &ifindex, &v, BPF_ANY));
	return err ? err : th_ifaces_gen_bump(h);
}

int th_iface_del(struct th *h, __u32 ifindex)
{
	int err = err_ret(bpf_map_delete_elem(th_map_fd(h, XDPCTL_MAP_IFACES), &ifindex));

	return err ? err : th_ifaces_gen_bump(h);
}

int th_devmap_add(struct th *h, __u32 ifindex)
{
	return err_ret(bpf_map_update_elem(th_map_fd(h, XDPCTL_MAP_DEVMAP), &ifindex, &ifindex,
					   BPF_ANY));
}

int th_devmap_del(struct th *h, __u32 ifindex)
{
	return err_ret(bpf_map_delete_elem(th_map_fd(h, XDPCTL_MAP_DEVMAP), &ifindex));
}

int th_trace(struct th *h, bool on)
{
	struct xdpctl_config cfg = {};
	struct timespec ts;
	__u32 key = 0, gen;

	/* The ifaces generation stays: it must never go back (abi.h). */
	if (bpf_map_lookup_elem(th_map_fd(h, XDPCTL_MAP_CONFIG), &key, &cfg))
		return -errno;
	gen = cfg.ifaces_gen;
	memset(&cfg, 0, sizeof(cfg));
	cfg.ifaces_gen = gen;
	/* a lease for the next hour (abi.h, struct xdpctl_lease) */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (on)
		cfg.trace.until_ns = cfg.trace.slot[0] =
			((__u64)ts.tv_sec + 3600) * 1000000000ull + (__u64)ts.tv_nsec;
	return err_ret(bpf_map_update_elem(th_map_fd(h, XDPCTL_MAP_CONFIG), &key, &cfg, BPF_ANY));
}

/* Delete every key of a hash map; bounded by @max_iter. */
static int map_clear(int fd, size_t key_size, long max_iter)
{
	__u8 next[64];
	long n = 0;

	if (key_size > sizeof(next))
		return -EINVAL;
	while (n++ < max_iter) {
		if (bpf_map_get_next_key(fd, NULL, next))
			return errno == ENOENT ? 0 : -errno;
		if (bpf_map_delete_elem(fd, next))
			return -errno;
	}
	return -E2BIG;
}

int th_reset(struct th *h)
{
	struct xdpctl_counter *zero = calloc(h->ncpus, sizeof(*zero));
	__u32 k;
	int err;

	if (!zero)
		return -ENOMEM;
	err = map_clear(th_map_fd(h, XDPCTL_MAP_BYPASS), sizeof(struct xdpctl_addr), 1L << 22);
	if (!err)
		err = map_clear(th_map_fd(h, XDPCTL_MAP_PINGPONG), sizeof(struct xdpctl_addr),
				1L << 22);
	if (!err)
		err = map_clear(th_map_fd(h, XDPCTL_MAP_IFACES), sizeof(__u32), 1L << 16);
	if (!err)
		err = th_ifaces_gen_bump(h);
	if (!err)
		err = map_clear(th_map_fd(h, XDPCTL_MAP_DEVMAP), sizeof(__u32), 1L << 16);
	for (k = 0; !err && k < XDPCTL_STATS_ENTRIES; k++)
		err = err_ret(bpf_map_update_elem(th_map_fd(h, XDPCTL_MAP_STATS), &k, zero,
						  BPF_ANY));
	free(zero);
	if (!err)
		err = th_trace(h, false);
	if (!err) {
		err = th_events_drain(h, NULL, 0);
		if (err > 0)
			err = 0;
	}
	return err;
}

int th_stats_read(struct th *h, struct th_stats *out)
{
	struct xdpctl_counter *v = calloc(h->ncpus, sizeof(*v));
	int fd = th_map_fd(h, XDPCTL_MAP_STATS);
	__u32 hook, reason, key;
	int i, err = 0;

	if (!v)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	for (hook = 0; hook < XDPCTL_HOOK_MAX && !err; hook++) {
		for (reason = 0; reason < XDPCTL_REASON_MAX && !err; reason++) {
			key = XDPCTL_STATS_KEY(hook, reason);
			err = err_ret(bpf_map_lookup_elem(fd, &key, v));
			for (i = 0; !err && i < h->ncpus; i++) {
				out->c[hook][reason].packets += v[i].packets;
				out->c[hook][reason].bytes += v[i].bytes;
			}
		}
	}
	free(v);
	return err;
}

void th_stats_delta(const struct th_stats *before, const struct th_stats *after,
		    struct th_stats *out)
{
	int hook, reason;

	for (hook = 0; hook < XDPCTL_HOOK_MAX; hook++)
		for (reason = 0; reason < XDPCTL_REASON_MAX; reason++) {
			out->c[hook][reason].packets = after->c[hook][reason].packets -
						       before->c[hook][reason].packets;
			out->c[hook][reason].bytes = after->c[hook][reason].bytes -
						     before->c[hook][reason].bytes;
		}
}

int th_run_fd(int fd, bool xdp, struct th_run *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct xdp_md xctx = {};
	struct __sk_buff sctx = {};
	int err;

	o.data_in = r->in;
	o.data_size_in = r->in_len;
	o.data_out = r->out;
	o.data_size_out = r->out ? r->out_cap : 0;
	o.repeat = r->repeat;
	o.flags = r->flags;
	if (r->ifindex) {
		if (xdp) {
			xctx.data_end = r->in_len;
			xctx.ingress_ifindex = r->ifindex;
			o.ctx_in = &xctx;
			o.ctx_size_in = sizeof(xctx);
		} else {
			sctx.ifindex = r->ifindex;
			sctx.ingress_ifindex = r->ifindex;
			o.ctx_in = &sctx;
			o.ctx_size_in = sizeof(sctx);
		}
	}
	err = bpf_prog_test_run_opts(fd, &o);
	if (err)
		return errno ? -errno : err;
	r->out_len = r->out ? o.data_size_out : 0;
	r->retval = o.retval;
	r->duration = o.duration;
	return 0;
}

int th_xdp_link(int fd, __u32 ifindex)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);
	int link = bpf_link_create(fd, ifindex, BPF_XDP, &lo);

	return link < 0 ? -errno : link;
}

int th_run(struct th *h, enum th_prog prog, struct th_run *r)
{
	int fd = th_prog_fd(h, prog);

	if (fd < 0)
		return fd;
	return th_run_fd(fd, th_prog_is_xdp(prog), r);
}

int th_events_drain(struct th *h, struct xdpctl_event *ev, int max)
{
	int ret;

	h->ev_out = ev;
	h->ev_max = ev ? max : 0;
	h->ev_n = 0;
	ret = ring_buffer__consume(h->rb);
	h->ev_out = NULL;
	if (ret < 0)
		return ret;
	return h->ev_n;
}
