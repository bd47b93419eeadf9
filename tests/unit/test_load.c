// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every BPF object loads on this kernel: the xdp and tc objects through the
 * harness (maps shared by pin), the pass object on its own. Prints each
 * program with the instructions the verifier processed and its size, and
 * the xdp and tc objects once more under BPF_F_STRICT_ALIGNMENT.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "pass.skel.h"

static int n_fail;

static void report(const char *name, int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		printf("FAIL load %s: expected a loaded program got fd %d (%s)\n", name, fd,
		       strerror(errno));
		n_fail++;
		return;
	}
	printf("PASS load %s: %u insns verified, %u bytes xlated, %u bytes jited\n", name,
	       info.verified_insns, info.xlated_prog_len, info.jited_prog_len);
}

int main(void)
{
	struct th_opts o = { .sz = sizeof(o), .max_rules = 16 };
	struct th_opts so = o;
	struct xdpctl_pass *pass;
	struct th *h;
	int i;

	if (geteuid() != 0) {
		printf("SKIP: needs root\n");
		return 77;
	}
	h = th_open(&o);
	if (!h) {
		printf("FAIL load xdp+tc objects: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < TH_PROG_MAX; i++)
		report(th_prog_name(i), th_prog_fd(h, i));
	th_close(h);

	/*
	 * Again with strict alignment, as on an architecture without
	 * efficient unaligned access: no misaligned packet load (a MAC
	 * compared by 32-bit words was one).
	 */
	so.strict_align = true;
	h = th_open(&so);
	if (!h) {
		printf("FAIL load xdp+tc objects with BPF_F_STRICT_ALIGNMENT: %s (expected no misaligned packet access)\n",
		       strerror(errno));
		n_fail++;
	} else {
		printf("PASS load xdp+tc objects with BPF_F_STRICT_ALIGNMENT\n");
		th_close(h);
	}

	pass = xdpctl_pass__open_and_load();
	if (!pass) {
		printf("FAIL load pass: %s\n", strerror(errno));
		return 1;
	}
	report("pass", bpf_program__fd(pass->progs.xdpctl_pass));
	xdpctl_pass__destroy(pass);
	return n_fail ? 1 : 0;
}
