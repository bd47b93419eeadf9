// SPDX-License-Identifier: GPL-2.0-only
/*
 * Programs: the XDP and tc skeletons loaded against the pinned maps (each
 * with its conntrack timeouts from this netns's sysctls and its tail call
 * set), what a program id is (ours, an orphan, another's), and the run-time
 * feature probe. Nothing here touches a device: hook.c attaches.
 */
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

int dp_load_tc(struct xdpctl_dp *dp, const char *prog, struct xdpctl_tc **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .pin_root_path = dp->pin_dir);
	struct xdpctl_tc *skel;
	int err;

	skel = xdpctl_tc__open_opts(&o);
	if (!skel)
		return dp_err(dp, -errno, "opening the tc object: %s", strerror(errno));
	dp_ct_timeouts((__u32 *)&skel->rodata->ct_tcp_timeout_ms,
		       (__u32 *)&skel->rodata->ct_udp_timeout_ms);
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
