// SPDX-License-Identifier: GPL-2.0-only
/*
 * Programs: the XDP and tc skeletons loaded against the pinned maps (each
 * with its conntrack timeouts from this netns's sysctls and its tail call
 * set), what a program id is (ours, an orphan, another's), and the run-time
 * feature probe. Nothing here touches a device: hook.c attaches.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "prog.h"
#include "tc.skel.h"
#include "xdp.skel.h"

/* enum bpf_attach_type of tcx ingress (Linux 6.6); the system UAPI headers predate it. */
#define DP_BPF_TCX_INGRESS 46

#define SYSCTL_NF "/proc/sys/net/netfilter/"

int dp_prog_name(__u32 id, char name[BPF_OBJ_NAME_LEN])
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd, err = 0;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	else
		memcpy(name, info.name, BPF_OBJ_NAME_LEN);
	close(fd);
	return err;
}

bool dp_prog_is_ours(const struct xdpctl_dp *dp, __u32 id, const char *name)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), map_ids[64], i;
	bool ours = false;
	int fd;

	if (!id || !dp)
		return false;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return false;
	info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	info.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    strncmp(info.name, name, BPF_OBJ_NAME_LEN))
		goto out;
	/* The pass program uses no map: its name is its mark. */
	if (!strcmp(name, DP_PROG_PASS)) {
		ours = true;
		goto out;
	}
	for (i = 0; i < info.nr_map_ids && i < sizeof(map_ids) / sizeof(map_ids[0]); i++)
		if (map_ids[i] == dp->map_id[DP_MAP_STATS])
			ours = true;
out:
	close(fd);
	return ours;
}

bool dp_prog_orphan(const struct xdpctl_dp *dp, __u32 id, const char *name)
{
	char n[BPF_OBJ_NAME_LEN] = "";

	return id && !dp_prog_name(id, n) && !strncmp(n, name, BPF_OBJ_NAME_LEN) &&
	       !dp_prog_is_ours(dp, id, name);
}

/* ---- conntrack settings of the current netns ---- */

void dp_ct_timeouts(__u32 *tcp_ms, __u32 *udp_ms)
{
	unsigned long v;

	*tcp_ms = 432000u * 1000u;
	*udp_ms = 120u * 1000u;
	if (!dp_sysctl_read(SYSCTL_NF "nf_conntrack_tcp_timeout_established", &v) && v &&
	    v <= 4000000)
		*tcp_ms = (__u32)(v * 1000);
	if (!dp_sysctl_read(SYSCTL_NF "nf_conntrack_udp_timeout_stream", &v) && v && v <= 4000000)
		*udp_ms = (__u32)(v * 1000);
}

/* ---- features ---- */

int xdpctl_probe_features(struct xdpctl_features *f)
{
	__u32 cnt = 0, attach_flags = 0;

	if (!f)
		return dp_ret(-EINVAL);
	memset(f, 0, sizeof(*f));
	dp_hook_lib_prints();
	f->xdp_native_veth = true;
	f->freplace = dp_have_freplace();
	f->tracing = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING, NULL) == 1;
	f->redirect_peer = libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS,
						   BPF_FUNC_redirect_peer, NULL) == 1;
	f->ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
	/* A tcx query on lo (ifindex 1 in every netns) fails with EINVAL before 6.6. */
	f->tcx = !bpf_prog_query(1, (enum bpf_attach_type)DP_BPF_TCX_INGRESS, 0,
				 &attach_flags, NULL, &cnt);
	{
		struct btf *vm = btf__load_vmlinux_btf();

		if (!libbpf_get_error(vm)) {
			f->ct_kfuncs =
				btf__find_by_name_kind(vm, "bpf_xdp_ct_lookup", BTF_KIND_FUNC) > 0 &&
				btf__find_by_name_kind(vm, "bpf_skb_ct_lookup", BTF_KIND_FUNC) > 0 &&
				btf__find_by_name_kind(vm, "bpf_ct_release", BTF_KIND_FUNC) > 0 &&
				btf__find_by_name_kind(vm, "bpf_ct_change_timeout", BTF_KIND_FUNC) > 0;
			f->ct_nat_kfunc =
				btf__find_by_name_kind(vm, "bpf_ct_set_nat_info", BTF_KIND_FUNC) > 0;
			f->flowtable = btf__find_by_name_kind(vm, "nf_flow_table_init",
							      BTF_KIND_FUNC) > 0;
			btf__free(vm);
		}
	}
	return 0;
}

bool dp_have_freplace(void)
{
	static int have = -1;

	if (have < 0)
		have = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_EXT, NULL) == 1;
	return have;
}

/* ---- loading ---- */

static int load_err(struct xdpctl_dp *dp, int err, const char *what)
{
	if (*dp_libbpf_stale_path())
		return dp_err(dp, -EEXIST,
			      "%s: pinned map has another layout: stale state of another xdpctl version, remove it",
			      dp_libbpf_stale_path());
	return dp_err(dp, err, "loading the %s program: %s", what, strerror(-err));
}

int dp_load_xdp(struct xdpctl_dp *dp, struct xdpctl_xdp **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .pin_root_path = dp->pin_dir);
	struct xdpctl_xdp *skel;
	int err;

	skel = xdpctl_xdp__open_opts(&o);
	if (!skel)
		return dp_err(dp, -errno, "opening the XDP object: %s", strerror(errno));
	dp_ct_timeouts((__u32 *)&skel->rodata->ct_tcp_timeout_ms,
		       (__u32 *)&skel->rodata->ct_udp_timeout_ms);
	dp_libbpf_clear();
	err = dp_prepare_obj(dp, skel->obj);
	if (!err)
		err = xdpctl_xdp__load(skel);
	if (!err) {
		/* The tail call into the conntrack program. */
		__u32 k = 0;
		int fd = bpf_program__fd(skel->progs.xdpctl_xdp_ct);

		if (bpf_map_update_elem(bpf_map__fd(skel->maps.xdpctl_xdp_tail), &k, &fd, 0))
			err = -errno;
	}
	if (err) {
		err = load_err(dp, err, "XDP");
		xdpctl_xdp__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/* FNV-1a of the tc object this binary carries: the build stamp in its rodata. */
static __u64 tc_build_stamp(void)
{
	static __u64 h;
	const unsigned char *p;
	size_t sz = 0, i;

	if (h)
		return h;
	p = xdpctl_tc__elf_bytes(&sz);
	h = 0xcbf29ce484222325ull;
	for (i = 0; i < sz; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* The load-time settings of the tc object (the rest keeps the object's values). */
static void tc_rodata_set(struct xdpctl_tc__rodata *r)
{
	dp_ct_timeouts((__u32 *)&r->ct_tcp_timeout_ms, (__u32 *)&r->ct_udp_timeout_ms);
	*(__u64 *)&r->xdpctl_build = tc_build_stamp();
}

int dp_load_tc(struct xdpctl_dp *dp, const char *prog, struct xdpctl_tc **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .pin_root_path = dp->pin_dir);
	struct xdpctl_tc *skel;
	int err;

	skel = xdpctl_tc__open_opts(&o);
	if (!skel)
		return dp_err(dp, -errno, "opening the tc object: %s", strerror(errno));
	tc_rodata_set(skel->rodata);
	dp_libbpf_clear();
	/* Only the program asked for goes through the verifier (~50 ms each). */
	bpf_program__set_autoload(skel->progs.xdpctl_tc_in, !strcmp(prog, DP_PROG_TC_IN));
	bpf_program__set_autoload(skel->progs.xdpctl_tc_fwd, !strcmp(prog, DP_PROG_TC_FWD));
	/* Each with the program it tail-calls, and that one's program array only. */
	bpf_program__set_autoload(skel->progs.xdpctl_tc_ct, !strcmp(prog, DP_PROG_TC_IN));
	bpf_program__set_autoload(skel->progs.xdpctl_tc_ret, !strcmp(prog, DP_PROG_TC_FWD));
	bpf_map__set_autocreate(skel->maps.xdpctl_tc_tin, !strcmp(prog, DP_PROG_TC_IN));
	bpf_map__set_autocreate(skel->maps.xdpctl_tc_tret, !strcmp(prog, DP_PROG_TC_FWD));
	err = dp_prepare_obj(dp, skel->obj);
	if (!err)
		err = xdpctl_tc__load(skel);
	if (!err) {
		/* The tail call of the program loaded into its second half. */
		bool in = !strcmp(prog, DP_PROG_TC_IN);
		__u32 k = 0;
		int fd = bpf_program__fd(in ? skel->progs.xdpctl_tc_ct : skel->progs.xdpctl_tc_ret);

		if (bpf_map_update_elem(bpf_map__fd(in ? skel->maps.xdpctl_tc_tin : skel->maps.xdpctl_tc_tret),
					&k, &fd, 0))
			err = -errno;
	}
	if (err) {
		err = load_err(dp, err, "tc");
		xdpctl_tc__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/* ---- the container veths' return program, one per pin dir ---- */

/* Does map @id hold the tc object's rodata with the settings this build loads with? */
static bool ret_rodata_current(__u32 id)
{
	struct xdpctl_tc__rodata want = {}, have;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), k = 0;
	/* The section: the skeleton's variables first, then the object's other constants. */
	unsigned char val[4096];
	bool same = false;
	int fd;

	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return false;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_MAP_TYPE_ARRAY ||
	    info.value_size < sizeof(have) || info.value_size > sizeof(val) ||
	    !strstr(info.name, ".rodata") || bpf_map_lookup_elem(fd, &k, val))
		goto out;
	memcpy(&have, val, sizeof(have));
	tc_rodata_set(&want);
	same = have.ct_tcp_timeout_ms == want.ct_tcp_timeout_ms &&
	       have.ct_udp_timeout_ms == want.ct_udp_timeout_ms &&
	       have.xdpctl_build == want.xdpctl_build;
out:
	close(fd);
	return same;
}

/*
 * Is @prog_fd this state's return program (its name, this state's stats map),
 * of this build and with these conntrack timeouts (its rodata), tail-calling
 * through @tail_fd, whose slot is filled?
 */
static bool ret_current(struct xdpctl_dp *dp, int prog_fd, int tail_fd)
{
	struct bpf_prog_info info = {};
	struct bpf_map_info tinfo = {};
	__u32 len = sizeof(info), tlen = sizeof(tinfo), ids[64], i, k = 0, v;
	bool stats = false, tail = false, ro = false;

	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) ||
	    info.type != BPF_PROG_TYPE_SCHED_CLS ||
	    strncmp(info.name, DP_PROG_TC_FWD, BPF_OBJ_NAME_LEN) ||
	    info.nr_map_ids > sizeof(ids) / sizeof(ids[0]))
		return false;
	if (bpf_obj_get_info_by_fd(tail_fd, &tinfo, &tlen) ||
	    tinfo.type != BPF_MAP_TYPE_PROG_ARRAY || bpf_map_lookup_elem(tail_fd, &k, &v))
		return false;
	for (i = 0; i < info.nr_map_ids; i++) {
		if (ids[i] == dp->map_id[DP_MAP_STATS])
			stats = true;
		else if (ids[i] == tinfo.id)
			tail = true;
		else if (!ro)
			ro = ret_rodata_current(ids[i]);
	}
	dp_log(XDPCTL_LOG_DEBUG, "return program pin: stats map %s, tail array %s, rodata %s\n",
	       stats ? "ok" : "other", tail ? "ok" : "other", ro ? "current" : "other");
	return stats && tail && ro;
}

void dp_retprog_put(struct dp_retprog *r)
{
	if (r->prog_fd >= 0)
		close(r->prog_fd);
	if (r->tail_fd >= 0)
		close(r->tail_fd);
	*r = DP_RETPROG_NONE;
}

int dp_retprog_get(struct xdpctl_dp *dp, struct dp_retprog *r)
{
	char pp[PATH_MAX], tp[PATH_MAX];
	struct xdpctl_tc *skel;
	int err;

	if (r->prog_fd >= 0)
		return 0;
	if (dp_pin_path(dp, DP_PIN_RET, pp) || dp_pin_path(dp, DP_PIN_RET_TAIL, tp))
		return dp_err(dp, -ENAMETOOLONG, "%s: path too long", dp->pin_dir);
	/* Taken from the pins: no verifier run (~50 ms per program, ~270 ms with its tail). */
	r->prog_fd = bpf_obj_get(pp);
	r->tail_fd = bpf_obj_get(tp);
	if (r->prog_fd >= 0 && r->tail_fd >= 0 && ret_current(dp, r->prog_fd, r->tail_fd))
		return 0;
	if (r->prog_fd >= 0 || r->tail_fd >= 0)
		dp_log(XDPCTL_LOG_INFO, "%s: replacing a return program of another build or state\n",
		       pp);
	dp_retprog_put(r);

	err = dp_load_tc(dp, DP_PROG_TC_FWD, &skel);
	if (err)
		return err;
	r->prog_fd = fcntl(bpf_program__fd(skel->progs.xdpctl_tc_fwd), F_DUPFD_CLOEXEC, 0);
	r->tail_fd = fcntl(bpf_map__fd(skel->maps.xdpctl_tc_tret), F_DUPFD_CLOEXEC, 0);
	xdpctl_tc__destroy(skel);
	if (r->prog_fd < 0 || r->tail_fd < 0) {
		err = dp_err(dp, -errno, "duplicating the return program's fds: %s", strerror(errno));
		dp_retprog_put(r);
		return err;
	}
	/* The array first: a program pin without it is never taken (ret_current). */
	dp_retprog_unpin(dp);
	if (bpf_obj_pin(r->tail_fd, tp) || bpf_obj_pin(r->prog_fd, pp)) {
		err = dp_err(dp, -errno, "%s: pinning the return program: %s", dp->pin_dir,
			     strerror(errno));
		dp_retprog_unpin(dp);
		dp_retprog_put(r);
		return err;
	}
	return 0;
}
