// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the whole xdpctl command line, run through the real
 * main() (ctl/main.c compiled as xdpctl_main): global options, the command
 * tables, args_parse() with every argument type, help and usage output.
 * The input is split at NUL bytes into argv words.
 *
 * It must not touch kernel state, so before the first input the process
 * moves into network and mount namespaces of its own and drops to an
 * unprivileged user (nobody, no capabilities, no_new_privs). Every command
 * that edits state needs CAP_BPF and CAP_NET_ADMIN and stops at that check,
 * which main() makes after parsing: what is fuzzed is exactly the parsing
 * and the messages. A command that got past the check would find no bpffs
 * and no devices of the machine.
 *
 * Properties: main() returns 0 or 1; no sanitizer report, no leak.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "fuzz_util.h"

int xdpctl_main(int argc, char **argv);

#define MAX_WORDS 24

static void die(const char *what)
{
	fprintf(stderr, "fuzz_cli: %s: %s\n", what, strerror(errno));
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct cap[2] = {};

	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	if (geteuid() == 0) {
		if (unshare(CLONE_NEWNET | CLONE_NEWNS))
			die("unshare");
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			die("making / private");
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			die("dropping to nobody");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die("no_new_privs");
	if (syscall(SYS_capget, &hdr, cap))
		die("capget");
	if (cap[0].effective || cap[1].effective || cap[0].permitted || cap[1].permitted) {
		fprintf(stderr, "fuzz_cli: still has capabilities; refusing to run xdpctl commands\n");
		abort();
	}
	unsetenv("XDPCTL_PIN_DIR");
	unsetenv("DOCKER_HOST");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAX_WORDS + 2];
	size_t i, start = 0;
	int argc = 0, r;

	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "xdpctl";
	for (i = 0; size && i <= size && argc <= MAX_WORDS; i++) {
		if (buf[i] == '\0') {
			argv[argc++] = buf + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	r = xdpctl_main(argc, argv);
	INVARIANT(r == 0 || r == 1, "xdpctl_main returned %d", r);
	free(buf);
	return 0;
}
