// SPDX-License-Identifier: GPL-2.0-only
/*
 * The library's pinned state and pure helpers, against the real bpffs:
 * parse/format, names, open/create/reopen, errors (missing state, no
 * bpffs, not root, stale layout), ping-pong CRUD, counters, the trace
 * switch, the feature probe and removal of the pins.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/libbpf.h>

#include "lab.h"

static void test_parse(void)
{
	static const char *const good[] = {
		"198.18.0.1", "198.19.255.254", "2001:db8::1", "2001:db8:1:2:3:4:5:6", "::",
	};
	static const char *const bad[] = {
		"198.19.0.300", "", "198.19.0", "2001:db8:::1", "eth0", " 198.18.0.1",
		"198.18.0.1/24",
	};
	struct xdpctl_addr a;
	char buf[64];
	__u8 mac[6];
	unsigned int i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(!xdpctl_addr_parse(good[i], &a), "parse %s", good[i]);
		CHECK(!xdpctl_addr_format(&a, buf, sizeof(buf)) && !strcmp(buf, good[i]),
		      "round trip %s -> %s", good[i], buf);
		CHECK(!a.pad[0] && !a.pad[1] && !a.pad[2], "pad zero for %s", good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(xdpctl_addr_parse(bad[i], &a) == -EINVAL, "parse '%s' refused", bad[i]);
	xdpctl_addr_parse("198.19.0.2", &a);
	CHECK(a.family == XDPCTL_AF_INET && a.addr[0] == 198 && a.addr[3] == 2 && !a.addr[4] &&
	      !a.addr[15], "IPv4 layout");
	xdpctl_addr_parse("2001:db8::2", &a);
	CHECK(a.family == XDPCTL_AF_INET6 && a.addr[0] == 0x20 && a.addr[15] == 2, "IPv6 layout");
	CHECK(xdpctl_addr_format(&a, buf, 8) == -ENOSPC, "format into a short buffer");
	a.family = 5;
	CHECK(xdpctl_addr_format(&a, buf, sizeof(buf)) == -EINVAL, "format a bad family");

	CHECK(!xdpctl_mac_parse("02:00:0a:Bc:de:f0", mac) && mac[0] == 2 && mac[3] == 0xbc &&
	      mac[5] == 0xf0, "mac parse");
	xdpctl_mac_format(mac, buf);
	CHECK(!strcmp(buf, "02:00:0a:bc:de:f0"), "mac format %s", buf);
	CHECK(!xdpctl_mac_parse("02-00-0a-bc-de-f0", mac), "mac with dashes");
	CHECK(xdpctl_mac_parse("02:00:0a:bc:de", mac) == -EINVAL, "short mac refused");
	CHECK(xdpctl_mac_parse("02:00:0a:bc:de:f0:11", mac) == -EINVAL, "long mac refused");
	CHECK(xdpctl_mac_parse("2:00:0a:bc:de:f0", mac) == -EINVAL, "one-digit octet refused");
}

/* A name users see: lower case, digits and '_', as JSON keys and Prometheus labels take it. */
static bool snake_case(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static void test_names(void)
{
	/* abi.h's tables, expanded here as any user of the ABI would. */
#define R_NAME(id, name, words) { XDPCTL_R_##id, name, words },
#define H_NAME(id, name, words) { XDPCTL_HOOK_##id, name, words },
	static const struct { unsigned int v; const char *name, *words; }
		reasons[] = { XDPCTL_REASONS(R_NAME) }, hooks[] = { XDPCTL_HOOKS(H_NAME) };
	unsigned int i, j;

	CHECK(sizeof(reasons) / sizeof(reasons[0]) == XDPCTL_REASON_MAX, "a name per reason");
	CHECK(sizeof(hooks) / sizeof(hooks[0]) == XDPCTL_HOOK_MAX, "a name per hook");
	for (i = 0; i < XDPCTL_REASON_MAX; i++) {
		CHECK(reasons[i].v == i, "reason %s has the number of its place (%u)", reasons[i].name, i);
		CHECK(!strcmp(xdpctl_reason_name(i), reasons[i].name) && snake_case(reasons[i].name),
		      "reason %u: %s", i, xdpctl_reason_name(i));
		CHECK(!strcmp(xdpctl_reason_words(i), reasons[i].words) && *reasons[i].words,
		      "reason %u words: %s", i, xdpctl_reason_words(i));
		for (j = 0; j < i; j++)
			CHECK(strcmp(reasons[i].name, reasons[j].name), "reason name %s twice",
			      reasons[i].name);
	}
	for (i = 0; i < XDPCTL_HOOK_MAX; i++) {
		CHECK(hooks[i].v == i && !strcmp(xdpctl_hook_name(i), hooks[i].name) &&
		      snake_case(hooks[i].name), "hook %u: %s", i, xdpctl_hook_name(i));
		for (j = 0; j < i; j++)
			CHECK(strcmp(hooks[i].name, hooks[j].name), "hook name %s twice", hooks[i].name);
	}
	{
#define E_NAME(id, name, words) { XDPCTL_EV_##id, name, words },
		static const struct { unsigned int v; const char *name, *words; }
			kinds[] = { XDPCTL_EVENT_KINDS(E_NAME) };

		CHECK(sizeof(kinds) / sizeof(kinds[0]) == XDPCTL_EV_MAX, "a name per event kind");
		for (i = 0; i < XDPCTL_EV_MAX; i++) {
			CHECK(kinds[i].v == i && !strcmp(xdpctl_event_kind_name(i), kinds[i].name) &&
			      snake_case(kinds[i].name), "event kind %u: %s", i,
			      xdpctl_event_kind_name(i));
			for (j = 0; j < i; j++)
				CHECK(strcmp(kinds[i].name, kinds[j].name), "event kind %s twice",
				      kinds[i].name);
		}
		CHECK(!strcmp(xdpctl_event_kind_name(XDPCTL_EV_MAX), "unknown"), "kind out of range");
	}
	CHECK(!strcmp(xdpctl_reason_name(XDPCTL_REASON_MAX), "unknown"), "reason out of range");
	CHECK(!strcmp(xdpctl_hook_name(XDPCTL_HOOK_MAX), "unknown"), "hook out of range");
	CHECK(!strcmp(xdpctl_engine_name(XDPCTL_ENGINE_TC), "tc") &&
	      !strcmp(xdpctl_engine_name(XDPCTL_ENGINE_XDP), "xdp") &&
	      !strcmp(xdpctl_mode_name(XDPCTL_MODE_GENERIC), "generic") &&
	      !strcmp(xdpctl_mode_name(XDPCTL_MODE_NATIVE), "native"), "engine and mode names");
}

static int count_pins(const char *dir)
{
	return (int)sh_num("ls -1 %s | wc -l", dir);
}

static void test_open_errors(void)
{
	char dir[256], tmp[64];
	struct xdpctl_dp *dp = (void *)1;
	pid_t pid;
	int st;

	/* Nothing there and no create: ENOENT naming the dir. */
	snprintf(dir, sizeof(dir), "%s-none", lab_pin_dir());
	{
		XDPCTL_OPTS(xdpctl_dp_opts, o, .pin_dir = dir);

		CHECK_RET(NULL, xdpctl_dp__open(&o, &dp), -ENOENT);
		CHECK(!dp, "no handle on failure");
		CHECK(strstr(xdpctl_dp__errmsg(NULL), dir), "errmsg names %s: %s", dir,
		      xdpctl_dp__errmsg(NULL));
		CHECK(xdpctl_dp__errkind(NULL) == XDPCTL_ERR_NO_STATE &&
		      !strcmp(xdpctl_dp__errobj(NULL), dir), "kind no state (%d), object %s",
		      xdpctl_dp__errkind(NULL), xdpctl_dp__errobj(NULL));
	}
	/* Not on a bpffs: ENODEV, and nothing created there. */
	snprintf(tmp, sizeof(tmp), "/tmp/xdpctl-test-%d", (int)getpid());
	{
		XDPCTL_OPTS(xdpctl_dp_opts, o, .pin_dir = tmp, .create = true);
		struct stat sb;

		CHECK_RET(NULL, xdpctl_dp__open(&o, &dp), -ENODEV);
		CHECK(strstr(xdpctl_dp__errmsg(NULL), "bpffs"), "errmsg says bpffs: %s",
		      xdpctl_dp__errmsg(NULL));
		CHECK(xdpctl_dp__errkind(NULL) == XDPCTL_ERR_NO_BPFFS &&
		      !strcmp(xdpctl_dp__errobj(NULL), "/tmp"), "kind no bpffs (%d), at %s",
		      xdpctl_dp__errkind(NULL), xdpctl_dp__errobj(NULL));
		CHECK(stat(tmp, &sb) && errno == ENOENT, "%s not created", tmp);
		/* The same check alone; under /sys/fs/bpf the place to mount is that. */
		CHECK_RET(NULL, xdpctl_pin_dir_check(tmp, XDPCTL_PIN_DIR_BPFFS), -ENODEV);
		CHECK_RET(NULL, xdpctl_pin_dir_check(tmp, XDPCTL_PIN_DIR_NAME), 0);
		CHECK_RET(NULL, xdpctl_pin_dir_check(lab_pin_dir(), XDPCTL_PIN_DIR_NAME |
							    XDPCTL_PIN_DIR_BPFFS), 0);
	}
	/* bpffs refuses dots; relative paths make no sense. */
	{
		XDPCTL_OPTS(xdpctl_dp_opts, o, .pin_dir = "/sys/fs/bpf/a.b", .create = true);
		XDPCTL_OPTS(xdpctl_dp_opts, r, .pin_dir = "xdpctl", .create = true);

		char longdir[XDPCTL_PIN_DIR_MAX + 2];

		CHECK_RET(NULL, xdpctl_dp__open(&o, &dp), -EINVAL);
		CHECK(xdpctl_dp__errkind(NULL) == XDPCTL_ERR_PIN_DIR &&
		      !strcmp(xdpctl_dp__errobj(NULL), "/sys/fs/bpf/a.b"), "kind pin dir (%d): %s",
		      xdpctl_dp__errkind(NULL), xdpctl_dp__errmsg(NULL));
		CHECK_RET(NULL, xdpctl_dp__open(&r, &dp), -EINVAL);
		CHECK(xdpctl_dp__errkind(NULL) == XDPCTL_ERR_PIN_DIR, "relative: kind pin dir (%d)",
		      xdpctl_dp__errkind(NULL));
		memset(longdir, 'a', sizeof(longdir) - 1);
		longdir[0] = '/';
		longdir[sizeof(longdir) - 1] = '\0';
		CHECK_RET(NULL, xdpctl_pin_dir_check(longdir, XDPCTL_PIN_DIR_NAME), -EINVAL);
		longdir[sizeof(longdir) - 2] = '\0';
		CHECK_RET(NULL, xdpctl_pin_dir_check(longdir, XDPCTL_PIN_DIR_NAME), 0);
	}
	/* Not root: EPERM (a child drops to nobody). */
	pid = fork();
	if (pid == 0) {
		XDPCTL_OPTS(xdpctl_dp_opts, o, .pin_dir = lab_pin_dir(), .create = true);
		struct xdpctl_dp *d;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		_exit(xdpctl_dp__open(&o, &d) == -EPERM &&
		      strstr(xdpctl_dp__errmsg(NULL), "root") &&
		      xdpctl_dp__errkind(NULL) == XDPCTL_ERR_PERM ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
	      "open as nobody is EPERM naming root (child status %d)", st);
}

/* A pinned map of another layout: EEXIST naming it, with and without create. */
static void test_stale_layout(void)
{
	char dir[256], path[300];
	struct xdpctl_dp *dp;

	snprintf(dir, sizeof(dir), "%s-stale", lab_pin_dir());
	snprintf(path, sizeof(path), "%s/%s", dir, XDPCTL_MAP_BYPASS);
	if (!CHECK(!sh("mkdir %s && bpftool map create %s type percpu_hash key 20 value 48 entries 16 name xdpctl_bypass",
		       dir, path), "make a stale map"))
		goto out;
	{
		XDPCTL_OPTS(xdpctl_dp_opts, o, .pin_dir = dir, .create = true);
		XDPCTL_OPTS(xdpctl_dp_opts, ro, .pin_dir = dir);

		CHECK_RET(NULL, xdpctl_dp__open(&o, &dp), -EEXIST);
		CHECK(strstr(xdpctl_dp__errmsg(NULL), path), "errmsg names %s: %s", path,
		      xdpctl_dp__errmsg(NULL));
		CHECK(xdpctl_dp__errkind(NULL) == XDPCTL_ERR_STALE_PIN &&
		      !strcmp(xdpctl_dp__errobj(NULL), path), "kind stale pin (%d), object %s",
		      xdpctl_dp__errkind(NULL), xdpctl_dp__errobj(NULL));
		CHECK(count_pins(dir) == 1, "nothing else created next to the stale map (%d pins)",
		      count_pins(dir));
		CHECK_RET(NULL, xdpctl_dp__open(&ro, &dp), -EEXIST);
		CHECK(xdpctl_dp__errkind(NULL) == XDPCTL_ERR_STALE_PIN, "read-only: kind stale pin (%d)",
		      xdpctl_dp__errkind(NULL));
	}
out:
	sh("rm -rf %s", dir);
}

static int pp_cb(const struct xdpctl_pingpong_rule *r, void *ctx)
{
	struct xdpctl_pingpong_rule *out = ctx;

	*out = *r;
	return 0;
}

static int count_cb(const struct xdpctl_pingpong_rule *r, void *ctx)
{
	(void)r;
	return ++*(int *)ctx >= 2 ? 7 : 0; /* stop early with 7 */
}

static int no_event(const struct xdpctl_event *e, void *ctx)
{
	(void)e;
	(void)ctx;
	return 0;
}

static void test_state(void)
{
	struct xdpctl_counter c[XDPCTL_HOOK_MAX][XDPCTL_REASON_MAX];
	struct xdpctl_addr a4 = lab_addr("198.19.0.2"), a6 = lab_addr("2001:db8:2::2");
	struct xdpctl_pingpong_rule got = {};
	struct xdpctl_dp *dp, *ro;
	struct xdpctl_bypass_rule br;
	unsigned int h, r;
	bool on = true;
	int n = 0;

	dp = lab_open(128);
	CHECK(count_pins(lab_pin_dir()) == 13, "13 pinned maps (%d)", count_pins(lab_pin_dir()));
	CHECK(!strcmp(xdpctl_dp__pin_dir(dp), lab_pin_dir()), "pin dir %s", xdpctl_dp__pin_dir(dp));
	CHECK(sh_num("bpftool map show pinned %s/%s | sed -n 's/.*max_entries \\([0-9]*\\).*/\\1/p'",
		     lab_pin_dir(), XDPCTL_MAP_BYPASS) == 128, "bypass map sized 128");

	/* A reopen takes the pinned maps as they are (the size too). */
	{
		XDPCTL_OPTS(xdpctl_dp_opts, o, .pin_dir = lab_pin_dir());

		CHECK_RET(NULL, xdpctl_dp__open(&o, &ro), 0);
	}
	/* $XDPCTL_PIN_DIR is the default when opts name none. */
	setenv("XDPCTL_PIN_DIR", lab_pin_dir(), 1);
	{
		struct xdpctl_dp *env = NULL;

		CHECK_RET(NULL, xdpctl_dp__open(NULL, &env), 0);
		CHECK(env && !strcmp(xdpctl_dp__pin_dir(env), lab_pin_dir()), "XDPCTL_PIN_DIR used");
		xdpctl_dp__close(env);
	}
	unsetenv("XDPCTL_PIN_DIR");

	/* ping-pong rules: add, duplicate, list (through the other handle), delete. */
	CHECK_RET(dp, xdpctl_dp__pingpong_add(dp, &a4, 0), 0);
	CHECK_RET(dp, xdpctl_dp__pingpong_add(dp, &a4, XDPCTL_HOOKBIT_TC), -EEXIST);
	CHECK(strstr(xdpctl_dp__errmsg(dp), "198.19.0.2"), "errmsg names the address: %s",
	      xdpctl_dp__errmsg(dp));
	CHECK_RET(dp, xdpctl_dp__pingpong_add(dp, &a6, 0x10), -EINVAL);
	CHECK_RET(dp, xdpctl_dp__pingpong_add(dp, &a6, XDPCTL_HOOKBIT_TC), 0);
	CHECK_RET(ro, xdpctl_dp__pingpong_for_each(ro, count_cb, &n), 7);
	CHECK(n == 2, "for_each stops when the callback says so (%d)", n);
	CHECK_RET(dp, xdpctl_dp__pingpong_del(dp, &a6), 0);
	CHECK_RET(ro, xdpctl_dp__pingpong_for_each(ro, pp_cb, &got), 0);
	CHECK(!memcmp(&got.addr, &a4, sizeof(a4)) &&
	      got.hooks == (XDPCTL_HOOKBIT_XDP | XDPCTL_HOOKBIT_TC) && !got.packets,
	      "hooks 0 means both (%u), no replies yet", got.hooks);
	CHECK_RET(dp, xdpctl_dp__pingpong_del(dp, &a4), 0);
	CHECK_RET(dp, xdpctl_dp__pingpong_del(dp, &a4), -ENOENT);

	/* bypass errors that need no device */
	{
		XDPCTL_OPTS(xdpctl_bypass_opts, none);
		XDPCTL_OPTS(xdpctl_bypass_opts, nodev, .dev = "dpnosuchdev0");
		XDPCTL_OPTS(xdpctl_bypass_opts, lo, .dev = "lo");
		struct xdpctl_addr bad = a4;

		CHECK_RET(dp, xdpctl_dp__bypass_add(dp, &a4, &none), -EINVAL);
		CHECK_RET(dp, xdpctl_dp__bypass_add(dp, &a4, &nodev), -ENODEV);
		CHECK(strstr(xdpctl_dp__errmsg(dp), "dpnosuchdev0"), "errmsg names the device: %s",
		      xdpctl_dp__errmsg(dp));
		CHECK_RET(dp, xdpctl_dp__bypass_add(dp, &a4, &lo), -EINVAL);
		CHECK(strstr(xdpctl_dp__errmsg(dp), "not a veth"), "lo is not a veth: %s",
		      xdpctl_dp__errmsg(dp));
		bad.addr[5] = 1;
		CHECK_RET(dp, xdpctl_dp__bypass_add(dp, &bad, &lo), -EINVAL);
		CHECK_RET(dp, xdpctl_dp__bypass_del(dp, &a4), -ENOENT);
		CHECK_RET(dp, xdpctl_dp__bypass_get(dp, &a4, &br), -ENOENT);
	}
	CHECK_RET(dp, xdpctl_dp__detach(dp, "dpnosuchdev0"), -ENODEV);
	CHECK_RET(dp, xdpctl_dp__detach(dp, "lo"), -ENOENT);

	/* counters: all zero, read through the read-only handle */
	CHECK_RET(ro, xdpctl_dp__stats(ro, c), 0);
	for (h = 0; h < XDPCTL_HOOK_MAX; h++)
		for (r = 0; r < XDPCTL_REASON_MAX; r++)
			CHECK(!c[h][r].packets && !c[h][r].bytes, "counter %u/%u zero", h, r);

	/* trace lease: on while a reader holds it; two readers do not switch each other off */
	CHECK_RET(ro, xdpctl_dp__trace_enabled(ro, &on), 0);
	CHECK(!on, "trace off by default");
	{
		struct xdpctl_trace *t1 = xdpctl_trace__open(dp, no_event, NULL);
		struct xdpctl_trace *t2 = xdpctl_trace__open(ro, no_event, NULL);

		CHECK(t1 && t2, "two trace readers open");
		CHECK_RET(ro, xdpctl_dp__trace_enabled(ro, &on), 0);
		CHECK(on, "trace on");
		xdpctl_trace__close(t1);
		CHECK_RET(ro, xdpctl_dp__trace_enabled(ro, &on), 0);
		CHECK(on, "trace still on for the second reader");
		xdpctl_trace__close(t2);
		CHECK_RET(ro, xdpctl_dp__trace_enabled(ro, &on), 0);
		CHECK(!on, "trace off again after both");
	}

	/* Reopen with create and another size keeps the pinned map. */
	xdpctl_dp__close(dp);
	dp = lab_open(4096);
	CHECK(sh_num("bpftool map show pinned %s/%s | sed -n 's/.*max_entries \\([0-9]*\\).*/\\1/p'",
		     lab_pin_dir(), XDPCTL_MAP_BYPASS) == 128, "bypass map still 128");

	xdpctl_dp__close(ro);
	CHECK_RET(dp, xdpctl_dp__destroy_pins(dp), 0);
	CHECK(access(lab_pin_dir(), F_OK) && errno == ENOENT, "pin dir removed");
	xdpctl_dp__close(dp);
}

static void test_features(void)
{
	struct xdpctl_features f;
	char out[256];
	int ext;

	CHECK_RET(NULL, xdpctl_probe_features(&f), 0);
	CHECK(!sh_out(out, sizeof(out), "bpftool feature probe kernel 2>/dev/null | grep 'program_type ext '"),
	      "bpftool feature probe");
	ext = !strstr(out, "NOT");
	CHECK(f.freplace == ext, "freplace %d as bpftool says (%d)", f.freplace, ext);
	CHECK(!sh_out(out, sizeof(out), "bpftool feature probe kernel 2>/dev/null | grep 'program_type tracing '"),
	      "bpftool feature probe");
	CHECK(f.tracing == !strstr(out, "NOT"), "tracing %d as bpftool says: %s", f.tracing, out);
	CHECK(f.ringbuf && f.redirect_peer && f.xdp_native_veth, "ringbuf, redirect_peer");
}

int main(void)
{
	lab_init("dp_state");
	test_parse();
	test_names();
	test_open_errors();
	test_stale_layout();
	test_state();
	test_features();
	return lab_finish();
}
