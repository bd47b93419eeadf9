// SPDX-License-Identifier: GPL-2.0-only
/*
 * benchprog - attach, count and detach the bench's own programs: the
 * reference redirects (ref_redirect.bpf.c: XDP devmap, tc bpf_redirect_peer),
 * the pass program for the container-side veth, and the XDP_DROP ceiling
 * (drop.bpf.c). Runs in the
 * namespace of the device (nsenter); pins nothing: an attached program keeps
 * its maps alive, and `count` finds the drop counter through the program.
 *
 *   benchprog attach ref DEV --to VETH --dst-ip IPV4 --dmac MAC --smac MAC
 *   benchprog attach reftc DEV --to VETH --dst-ip IPV4 --dmac MAC --smac MAC
 *   benchprog attach pass DEV
 *   benchprog attach drop DEV
 *   benchprog count DEV          frames dropped by the attached drop program
 *   benchprog detach DEV         only if the attached program is one of ours
 *   benchprog detach-tc DEV      removes the clsact qdisc reftc made
 *
 * Attaches XDP in native mode and never replaces a program that is there;
 * reftc refuses a device that has a clsact qdisc already.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "drop.skel.h"
#include "ref_redirect.skel.h"

#define XDP_ATTACH_FLAGS (XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST)

static const char *const our_progs[] = { "ref_redirect", "ref_pass", "bench_drop" };

static int usage(void)
{
	fprintf(stderr,
		"usage: benchprog attach ref|reftc DEV --to VETH --dst-ip IPV4 --dmac MAC --smac MAC\n"
		"       benchprog attach pass|drop DEV\n"
		"       benchprog count DEV\n"
		"       benchprog detach DEV\n"
		"       benchprog detach-tc DEV\n");
	return 1;
}

static int parse_mac(const char *s, __u8 *mac)
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = b[i];
	}
	return 0;
}

static int dev_index(const char *dev)
{
	int ifindex = if_nametoindex(dev);

	if (!ifindex)
		fprintf(stderr, "Error: no such device: %s (run benchprog inside its namespace)\n", dev);
	return ifindex;
}

static int attach(int ifindex, const char *dev, int prog_fd)
{
	int err = bpf_xdp_attach(ifindex, prog_fd, XDP_ATTACH_FLAGS, NULL);

	if (err == -EBUSY || err == -EEXIST)
		fprintf(stderr, "Error: %s already has an XDP program: detach it first\n", dev);
	else if (err)
		fprintf(stderr, "Error: attaching XDP (native) to %s: %s\n", dev, strerror(-err));
	return err;
}

/* The reference at tc ingress of @ifindex, in a clsact qdisc of its own. */
static int attach_tc(int ifindex, const char *dev, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1, .prog_fd = prog_fd);
	int err = bpf_tc_hook_create(&hook);

	if (err == -EEXIST)
		fprintf(stderr, "Error: %s has a clsact qdisc already: remove it first\n", dev);
	else if (err)
		fprintf(stderr, "Error: clsact on %s: %s\n", dev, strerror(-err));
	if (err)
		return err;
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		fprintf(stderr, "Error: attaching tc ingress to %s: %s\n", dev, strerror(-err));
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	return err;
}

static int attach_ref(const char *dev, int argc, char **argv, bool tc)
{
	const char *to = NULL, *dst = NULL, *dmac = NULL, *smac = NULL;
	struct bench_ref *skel = NULL;
	char name[IF_NAMESIZE];
	__u8 macs[2 * 6];
	struct in_addr ip;
	__u32 to_idx;
	int ifindex, i, err = -EINVAL;

	for (i = 0; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--to"))
			to = argv[i + 1];
		else if (!strcmp(argv[i], "--dst-ip"))
			dst = argv[i + 1];
		else if (!strcmp(argv[i], "--dmac"))
			dmac = argv[i + 1];
		else if (!strcmp(argv[i], "--smac"))
			smac = argv[i + 1];
		else
			break;
	}
	if (i != argc || !to || !dst || !dmac || !smac)
		return usage();
	ifindex = dev_index(dev);
	to_idx = dev_index(to);
	if (!ifindex || !to_idx)
		return 1;
	/* A devmap entry names a device of the writer's namespace: check it is ours. */
	if (!if_indextoname(to_idx, name) || strcmp(name, to)) {
		fprintf(stderr, "Error: ifindex %u is not %s in this namespace\n", to_idx, to);
		return 1;
	}
	skel = bench_ref__open();
	if (!skel) {
		fprintf(stderr, "Error: opening ref_redirect: %s\n", strerror(errno));
		return 1;
	}
	if (inet_pton(AF_INET, dst, &ip) != 1 || parse_mac(dmac, macs) || parse_mac(smac, macs + 6)) {
		fprintf(stderr, "Error: bad --dst-ip, --dmac or --smac\n");
		goto out;
	}
	memcpy((void *)skel->rodata->ref_macs, macs, sizeof(macs));
	skel->rodata->ref_dst_ip = ip.s_addr;
	skel->rodata->ref_target = to_idx;
	bpf_program__set_autoload(skel->progs.ref_pass, false);
	bpf_program__set_autoload(tc ? skel->progs.ref_redirect : skel->progs.ref_redirect_peer,
				  false);
	err = bench_ref__load(skel);
	if (err) {
		fprintf(stderr, "Error: loading ref_redirect: %s\n", strerror(-err));
		goto out;
	}
	err = bpf_map__update_elem(skel->maps.ref_devmap, &to_idx, sizeof(to_idx),
				   &to_idx, sizeof(to_idx), BPF_ANY);
	if (err) {
		fprintf(stderr, "Error: devmap entry for %s: %s\n", to, strerror(-err));
		goto out;
	}
	if (tc)
		err = attach_tc(ifindex, dev, bpf_program__fd(skel->progs.ref_redirect_peer));
	else
		err = attach(ifindex, dev, bpf_program__fd(skel->progs.ref_redirect));
out:
	bench_ref__destroy(skel);
	return err ? 1 : 0;
}

static int attach_pass(const char *dev)
{
	struct bench_ref *skel;
	int ifindex, err;

	ifindex = dev_index(dev);
	if (!ifindex)
		return 1;
	skel = bench_ref__open();
	if (!skel) {
		fprintf(stderr, "Error: opening ref_pass: %s\n", strerror(errno));
		return 1;
	}
	bpf_program__set_autoload(skel->progs.ref_redirect, false);
	err = bench_ref__load(skel);
	if (err)
		fprintf(stderr, "Error: loading ref_pass: %s\n", strerror(-err));
	else
		err = attach(ifindex, dev, bpf_program__fd(skel->progs.ref_pass));
	bench_ref__destroy(skel);
	return err ? 1 : 0;
}

static int attach_drop(const char *dev)
{
	struct bench_drop *skel;
	int ifindex, err;

	ifindex = dev_index(dev);
	if (!ifindex)
		return 1;
	skel = bench_drop__open_and_load();
	if (!skel) {
		fprintf(stderr, "Error: loading bench_drop: %s\n", strerror(errno));
		return 1;
	}
	err = attach(ifindex, dev, bpf_program__fd(skel->progs.bench_drop));
	bench_drop__destroy(skel);
	return err ? 1 : 0;
}

/* fd and info of the native XDP program on DEV; -ENOENT when none. */
static int attached_prog(const char *dev, int *ifindex, struct bpf_prog_info *info,
			 __u32 *map_ids, __u32 nr_maps)
{
	__u32 id = 0, len = sizeof(*info);
	int fd, err;

	*ifindex = dev_index(dev);
	if (!*ifindex)
		return -ENODEV;
	err = bpf_xdp_query_id(*ifindex, XDP_FLAGS_DRV_MODE, &id);
	if (err)
		return err;
	if (!id)
		return -ENOENT;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	info->nr_map_ids = nr_maps;
	info->map_ids = (__u64)(unsigned long)map_ids;
	err = bpf_obj_get_info_by_fd(fd, info, &len);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int is_ours(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(our_progs) / sizeof(our_progs[0]); i++)
		if (!strcmp(name, our_progs[i]))
			return 1;
	return 0;
}

static int detach(const char *dev)
{
	struct bpf_prog_info info;
	__u32 map_ids[8];
	int ifindex, fd, err;

	fd = attached_prog(dev, &ifindex, &info, map_ids, 8);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0) {
		fprintf(stderr, "Error: querying XDP on %s: %s\n", dev, strerror(-fd));
		return 1;
	}
	close(fd);
	if (!is_ours(info.name)) {
		fprintf(stderr, "Error: %s runs XDP program '%s', not one of the bench's: left alone\n",
			dev, info.name);
		return 1;
	}
	err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		fprintf(stderr, "Error: detaching XDP from %s: %s\n", dev, strerror(-err));
		return 1;
	}
	return 0;
}

/* Remove the clsact qdisc of @dev if its ingress runs ref_redirect_peer. */
static int detach_tc(const char *dev)
{
	int ifindex = dev_index(dev), fd, err;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (!ifindex)
		return 1;
	err = bpf_tc_query(&hook, &opts);
	if (err == -ENOENT || err == -EINVAL)
		return 0; /* no qdisc or no such filter: nothing of ours */
	if (err) {
		fprintf(stderr, "Error: querying tc ingress of %s: %s\n", dev, strerror(-err));
		return 1;
	}
	fd = bpf_prog_get_fd_by_id(opts.prog_id);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    strcmp(info.name, "ref_redirect_pe")) {
		fprintf(stderr, "Error: tc ingress of %s runs another program: left alone\n", dev);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	close(fd);
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	err = bpf_tc_hook_destroy(&hook);
	if (err) {
		fprintf(stderr, "Error: removing clsact from %s: %s\n", dev, strerror(-err));
		return 1;
	}
	return 0;
}

static int count(const char *dev)
{
	struct bpf_prog_info info;
	struct bpf_map_info minfo;
	__u32 map_ids[8], i, len;
	unsigned long long sum = 0;
	int ifindex, fd, mfd, ncpu, c, key = 0, found = 0;
	__u64 *vals;

	fd = attached_prog(dev, &ifindex, &info, map_ids, 8);
	if (fd < 0) {
		fprintf(stderr, "Error: no native XDP program on %s\n", dev);
		return 1;
	}
	close(fd);
	if (strcmp(info.name, "bench_drop")) {
		fprintf(stderr, "Error: %s runs '%s', not bench_drop\n", dev, info.name);
		return 1;
	}
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return 1;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 1;
	for (i = 0; i < info.nr_map_ids && i < 8 && !found; i++) {
		mfd = bpf_map_get_fd_by_id(map_ids[i]);
		if (mfd < 0)
			continue;
		memset(&minfo, 0, sizeof(minfo));
		len = sizeof(minfo);
		if (!bpf_obj_get_info_by_fd(mfd, &minfo, &len) &&
		    !strcmp(minfo.name, "bench_drop_cnt") &&
		    !bpf_map_lookup_elem(mfd, &key, vals)) {
			for (c = 0; c < ncpu; c++)
				sum += vals[c];
			found = 1;
		}
		close(mfd);
	}
	free(vals);
	if (!found) {
		fprintf(stderr, "Error: bench_drop on %s has no readable counter\n", dev);
		return 1;
	}
	printf("%llu\n", sum);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "attach")) {
		if (!strcmp(argv[2], "ref"))
			return attach_ref(argv[3], argc - 4, argv + 4, false);
		if (!strcmp(argv[2], "reftc"))
			return attach_ref(argv[3], argc - 4, argv + 4, true);
		if (argc == 4 && !strcmp(argv[2], "pass"))
			return attach_pass(argv[3]);
		if (argc == 4 && !strcmp(argv[2], "drop"))
			return attach_drop(argv[3]);
		return usage();
	}
	if (argc == 3 && !strcmp(argv[1], "count"))
		return count(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "detach"))
		return detach(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "detach-tc"))
		return detach_tc(argv[2]);
	return usage();
}
