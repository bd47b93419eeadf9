// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdpctl: global options, the top-level command table and dispatch, error
 * reporting, and opening the pinned state with the advice for each way it
 * can fail. The commands themselves live in cmd_*.c, the argument tables'
 * machinery in args.c.
 *
 * Order of work: parse every word (syntax only), check privileges, enter
 * the network namespace (-n), check that named devices exist, and only
 * then open the state and change anything.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xdpctl.h"

volatile sig_atomic_t stop_requested;

static struct ctx *g_ctx; /* for the library print callback */

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void install_stop_handler(void)
{
	struct sigaction sa = { .sa_handler = on_stop }; /* no SA_RESTART: waits return EINTR */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* the terminal went away: stop as for Ctrl-C, giving leases back */
	sigaction(SIGHUP, &sa, NULL);
	/*
	 * A reader that went away (`| head`): a write fails with EPIPE instead
	 * of killing us, so the loop ends and gives its lease back.
	 */
	signal(SIGPIPE, SIG_IGN);
}

double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int poll_until(double deadline, int (*poll)(void *h, int ms), void *h,
	       bool (*done)(const void *st), const void *st)
{
	int err;

	while (!stop_requested && !done(st) && !ferror(stdout)) {
		int wait_ms = 500;

		if (deadline) {
			double left = deadline - mono_s();

			if (left <= 0)
				break;
			if (left * 1000 < wait_ms)
				wait_ms = (int)(left * 1000) + 1;
		}
		err = poll(h, wait_ms);
		if (err == -EINTR)
			continue;
		if (err < 0)
			return err;
	}
	return 0;
}

int stdout_result(struct ctx *c)
{
	struct pollfd pfd = { .fd = STDOUT_FILENO };

	if (!ferror(stdout) && !fflush(stdout))
		return 0;
	/* a pipe whose reader went away (`| head`) is the end of the stream, not an error */
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR))
		return 0;
	return fail(c, "writing to stdout failed: check the disk or the file it goes to");
}

/* ---- messages ---- */

static void vfail(struct ctx *c, const char *fmt, va_list ap, const char *tail)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (c && c->json && !c->jw)
		c->jw = jw_new(stdout, c->pretty); /* an error before the writer was made */
	if (c && c->json && c->jw) {
		/* stdout carries JSON only: close what was open, then the error object */
		jw_close_all(c->jw);
		jw_obj_open(c->jw);
		if (tail) {
			char full[1400];

			snprintf(full, sizeof(full), "%s%s", msg, tail);
			jw_kstr(c->jw, "error", full);
		} else {
			jw_kstr(c->jw, "error", msg);
		}
		jw_obj_close(c->jw);
		return;
	}
	fflush(stdout);
	fprintf(stderr, "Error: %s%s\n", msg, tail ? tail : "");
}

int fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, fmt, ap, NULL);
	va_end(ap);
	return 1;
}

int fail_usage(struct ctx *c, const char *fmt, ...)
{
	char tail[160];
	va_list ap;

	if (c && c->path && *c->path)
		snprintf(tail, sizeof(tail), ": see 'xdpctl help %s'", c->path);
	else
		snprintf(tail, sizeof(tail), ": see 'xdpctl help'");
	va_start(ap, fmt);
	vfail(c, fmt, ap, tail);
	va_end(ap);
	return 1;
}

void note(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	(void)c;
	fflush(stdout);
	fputs("Note: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int fail_dp(struct ctx *c, int err, const char *what)
{
	const char *msg = c->dp ? xdpctl_dp__errmsg(c->dp) : NULL;

	if (err == -EPERM || err == -EACCES)
		return fail(c, "%s: %s: needs root (CAP_BPF and CAP_NET_ADMIN)", what,
			    msg && *msg ? msg : strerror(-err));
	if (msg && *msg)
		return fail(c, "%s: %s", what, msg);
	return fail(c, "%s: %s", what, strerror(err < 0 ? -err : err));
}

/* Library and libbpf/libxdp chatter: only with -v (-vv: debug). */
static int print_dp(enum xdpctl_log_level level, const char *fmt, va_list ap)
{
	if (!g_ctx || g_ctx->verbose < 1 || (level == XDPCTL_LOG_DEBUG && g_ctx->verbose < 2))
		return 0;
	fputs("xdpctl: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!g_ctx || g_ctx->verbose < 1 || (level == LIBBPF_DEBUG && g_ctx->verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int print_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (!g_ctx || g_ctx->verbose < 1 || (level == LIBXDP_DEBUG && g_ctx->verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ---- helpers shared by the commands ---- */

const char *fmt_addr(const struct xdpctl_addr *a, char *buf, size_t len)
{
	if (xdpctl_addr_format(a, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

const char *fmt_mac(const __u8 mac[6], char buf[18])
{
	xdpctl_mac_format(mac, buf);
	return buf;
}

int addr_cmp(const struct xdpctl_addr *a, const struct xdpctl_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

void show_list(struct ctx *c, bool json, const struct show *s, const void *v, size_t n,
	       size_t size)
{
	size_t i;

	if (json)
		jw_arr_open(c->jw);
	else if (s->head)
		s->head();
	for (i = 0; i < n; i++)
		s->one(c, (const char *)v + i * size, json);
	if (json)
		jw_arr_close(c->jw);
}

/* ---- privileges and the state ---- */

static bool has_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	__u64 eff;

	if (syscall(SYS_capget, &hdr, data))
		return geteuid() == 0;
	eff = (__u64)data[1].effective << 32 | data[0].effective;
	/* CAP_BPF may be covered by CAP_SYS_ADMIN on older kernels */
	return (eff & (1ull << CAP_NET_ADMIN)) &&
	       ((eff & (1ull << CAP_BPF)) || (eff & (1ull << CAP_SYS_ADMIN)));
}

int open_state(struct ctx *c, bool create, __u32 max_rules, bool missing_ok, bool *missing)
{
	XDPCTL_OPTS(xdpctl_dp_opts, o, .pin_dir = c->pin_dir, .create = create,
		    .max_rules = max_rules);
	int err;

	if (missing)
		*missing = false;
	/* Say what is wrong with the place before the library fails on it. */
	err = xdpctl_pin_dir_check(c->pin_dir, XDPCTL_PIN_DIR_BPFFS);
	if (err && xdpctl_dp__errkind(NULL) == XDPCTL_ERR_NO_BPFFS) {
		const char *where = xdpctl_dp__errobj(NULL);

		if (!strcmp(where, "/sys/fs/bpf"))
			return fail(c, "no bpffs at /sys/fs/bpf: mount -t bpf bpf /sys/fs/bpf");
		return fail(c, "no bpffs at %s (pin dir %s): choose a pin dir on a bpffs, e.g. under /sys/fs/bpf",
			    where, c->pin_dir);
	}
	err = xdpctl_dp__open(&o, &c->dp);
	if (!err)
		return 0;
	c->dp = NULL;
	switch (xdpctl_dp__errkind(NULL)) {
	case XDPCTL_ERR_NO_STATE:
		if (missing_ok) {
			if (missing)
				*missing = true;
			return 0;
		}
		return fail(c, "no xdpctl state at %s: run 'xdpctl attach DEV' first", c->pin_dir);
	case XDPCTL_ERR_NO_BPFFS:
		return fail(c, "no bpffs at %s: mount -t bpf bpf /sys/fs/bpf", c->pin_dir);
	case XDPCTL_ERR_ABI:
		/* another ABI version: the library's line names it and the way out */
		return fail(c, "%s", xdpctl_dp__errmsg(NULL));
	case XDPCTL_ERR_PERM:
		return fail(c, "needs root (CAP_BPF and CAP_NET_ADMIN)");
	case XDPCTL_ERR_STALE_PIN: {
		/* the library names the stale pin: "PATH: pinned map has another layout ..." */
		const char *msg = xdpctl_dp__errmsg(NULL), *path = xdpctl_dp__errobj(NULL);

		if (path[0] == '/')
			return fail(c, "%s: rm %s (or 'rm -r %s' for all the state), then attach again",
				    msg, path, c->pin_dir);
		return fail(c, "a map under %s has another layout (pinned by another xdpctl version?): "
			    "remove the state with 'rm -r %s' and attach again", c->pin_dir,
			    c->pin_dir);
	}
	default: {
		const char *msg = xdpctl_dp__errmsg(NULL);

		if (msg && *msg)
			return fail(c, "cannot open the state at %s: %s", c->pin_dir, msg);
		return fail(c, "cannot open the state at %s: %s", c->pin_dir, strerror(-err));
	}
	}
}

/* ---- version and help ---- */

static int run_version(struct ctx *c, struct args *a)
{
	(void)a;
	if (c->json) {
		jw_obj_open(c->jw);
		jw_kstr(c->jw, "version", XDPCTL_VERSION);
		jw_ku64(c->jw, "abi_version", XDPCTL_ABI_VERSION);
		jw_kstr(c->jw, "libbpf", libbpf_version_string());
		jw_obj_close(c->jw);
	} else {
		printf("xdpctl %s (abi %d, libbpf %s)\n", XDPCTL_VERSION, XDPCTL_ABI_VERSION,
		       libbpf_version_string());
	}
	return 0;
}

static const struct arg_spec help_args[] = {
	{ .metavar = "COMMAND", .type = ARG_STRING, .help = "a command, e.g. 'bypass' or 'bypass add'" },
	{ .metavar = "SUBCOMMAND", .type = ARG_STRING, .help = "a subcommand of COMMAND, e.g. 'add'" },
	{ 0 },
};

static const struct cmd cmd_version = {
	.name = "version", .run = run_version,
	.summary = "Show the version of xdpctl, its ABI and libbpf.",
};

static int run_help(struct ctx *c, struct args *a);

static const struct cmd cmd_help = {
	.name = "help", .run = run_help, .args = help_args,
	.summary = "Show help for xdpctl or one command.",
};

static const struct cmd *const top[] = {
	&cmd_attach, &cmd_detach, &cmd_status, &cmd_bypass, &cmd_pingpong, &cmd_stats, &cmd_flows,
	&cmd_trace, &cmd_capture, &cmd_path, &cmd_docker, &cmd_doctor, &cmd_version, &cmd_help,
	NULL,
};

static void help_top(FILE *f)
{
	const struct cmd *const *t;

	fputs("Usage: xdpctl [OPTIONS] COMMAND [ARGS]\n"
	      "       xdpctl help [COMMAND]\n"
	      "\n"
	      "XDP/tc dataplane for container hosts: ping-pong answers and bypass into\n"
	      "container veths, with counters, trace events and kernel path diffs.\n"
	      "\n"
	      "Commands:\n", f);
	for (t = top; *t; t++)
		fprintf(f, "  %-10s %s\n", (*t)->name, (*t)->summary);
	fputs("\n"
	      "Options:\n"
	      "  -j, --json            JSON output\n"
	      "  -p, --pretty          indented JSON (implies --json)\n"
	      "  -v, --verbose         library messages on stderr (twice: debug)\n"
	      "  -n, --netns NAME      act on the devices of network namespace NAME, like 'ip -n'\n"
	      "      --pin-dir DIR     pinned state (default: $XDPCTL_PIN_DIR, else " XDPCTL_PIN_DIR_DEFAULT ")\n"
	      "  -h, --help            this help\n"
	      "  -V, --version         the version\n"
	      "\n"
	      "Run 'xdpctl help COMMAND' or 'xdpctl COMMAND help' for the arguments of a command.\n", f);
}

static const struct cmd *find_cmd(const struct cmd *const *list, const struct cmd *sub, const char *name)
{
	if (list) {
		for (; *list; list++)
			if (!strcmp((*list)->name, name) || ((*list)->alias && !strcmp((*list)->alias, name)))
				return *list;
		return NULL;
	}
	for (; sub->name; sub++)
		if (!strcmp(sub->name, name) || (sub->alias && !strcmp(sub->alias, name)))
			return sub;
	return NULL;
}

/* "unknown command 'byp'" plus a hint when it is the start of exactly one name. */
static int unknown(struct ctx *c, const struct cmd *const *list, const struct cmd *sub,
		   const char *word, const char *group)
{
	const char *match = NULL;
	size_t n = strlen(word);
	int hits = 0;

	if (list) {
		for (; *list; list++)
			if (n && !strncmp((*list)->name, word, n))
				hits++, match = (*list)->name;
	} else {
		for (; sub->name; sub++)
			if (n && !strncmp(sub->name, word, n))
				hits++, match = sub->name;
	}
	c->path = group;
	if (hits == 1)
		return fail_usage(c, "unknown command '%s' (did you mean '%s'?)", word, match);
	return fail_usage(c, "unknown command '%s'", word);
}

static int run_help(struct ctx *c, struct args *a)
{
	const struct cmd *cmd, *sub;
	char path[128];

	if (!a->v[0].set) {
		help_top(stdout);
		return 0;
	}
	cmd = find_cmd(top, NULL, a->v[0].str);
	if (!cmd)
		return unknown(c, top, NULL, a->v[0].str, NULL);
	if (!cmd->sub) {
		if (a->v[1].set)
			return fail_usage(c, "'%s' has no subcommands", cmd->name);
		help_cmd(stdout, cmd->name, cmd);
		return 0;
	}
	if (!a->v[1].set) {
		help_group(stdout, cmd->name, cmd);
		return 0;
	}
	sub = find_cmd(NULL, cmd->sub, a->v[1].str);
	if (!sub)
		return unknown(c, NULL, cmd->sub, a->v[1].str, cmd->name);
	snprintf(path, sizeof(path), "%s %s", cmd->name, sub->name);
	help_cmd(stdout, path, sub);
	return 0;
}

/* ---- global options ---- */

/*
 * A global option at argv[*i], accepted before and after the command
 * (until "--"). @return 1 consumed (and *i moved past its value), 0 not a
 * global option, -1 error (printed).
 */
int global_opt(struct ctx *c, int argc, char **argv, int *i)
{
	const char *w = argv[*i];

	if (!strcmp(w, "-j") || !strcmp(w, "--json")) {
		c->json = true;
		return 1;
	}
	if (!strcmp(w, "-p") || !strcmp(w, "--pretty")) {
		c->json = c->pretty = true;
		return 1;
	}
	if (!strcmp(w, "-v") || !strcmp(w, "--verbose")) {
		c->verbose++;
		return 1;
	}
	/* bundled flags: -jp, -vv, -pv */
	if (w[0] == '-' && w[1] && w[1] != '-' && w[2] && strspn(w + 1, "jpv") == strlen(w + 1)) {
		const char *f;

		for (f = w + 1; *f; f++) {
			if (*f == 'v')
				c->verbose++;
			else
				c->json = true;
			if (*f == 'p')
				c->pretty = true;
		}
		return 1;
	}
	if (!strcmp(w, "-n") || !strcmp(w, "--netns") || !strcmp(w, "--pin-dir") ||
	    !strncmp(w, "--netns=", 8) || !strncmp(w, "--pin-dir=", 10)) {
		bool pin = !strncmp(w, "--pin-dir", 9);
		const char *eq = strchr(w, '=');
		const char *v = eq ? eq + 1 : *i + 1 < argc ? argv[*i + 1] : NULL;

		if (!v || !*v) {
			fail_usage(c, "%s needs a value (%s)", pin ? "--pin-dir" : "--netns",
				   pin ? "DIR" : "NAME");
			return -1;
		}
		if (!eq)
			(*i)++;
		if (pin)
			c->pin_dir = v;
		else
			c->netns = v;
		return 1;
	}
	return 0;
}

/* Pin dir names: the library's check (absolute, no '.' in the last part). */
static int check_pin_dir(struct ctx *c)
{
	if (xdpctl_pin_dir_check(c->pin_dir, XDPCTL_PIN_DIR_NAME))
		return fail(c, "%s", xdpctl_dp__errmsg(NULL));
	return 0;
}

int main(int argc, char **argv)
{
	struct ctx c = { .path = "" };
	const struct cmd *cmd = NULL, *leaf;
	struct args a;
	char path[128] = "";
	int i, r, first = -1;
	bool want_help = false, want_version = false;

	g_ctx = &c;
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* Global options before the command. */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			want_help = true;
			continue;
		}
		if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			want_version = true;
			continue;
		}
		if (argv[i][0] != '-') {
			first = i;
			break;
		}
		r = global_opt(&c, argc, argv, &i);
		if (r < 0) {
			r = 1;
			goto out;
		}
		if (r == 0) {
			r = fail_usage(&c, "unknown option '%s'", argv[i]);
			goto out;
		}
	}
	if (c.json && !c.jw)
		c.jw = jw_new(stdout, c.pretty);
	if (c.json && !c.jw) {
		fprintf(stderr, "Error: out of memory\n");
		r = 1;
		goto out;
	}
	if (want_version) {
		r = run_version(&c, NULL);
		goto out;
	}
	if (first < 0) {
		if (want_help) {
			help_top(stdout);
			r = 0;
			goto out;
		}
		r = fail(&c, "missing command: see 'xdpctl help'");
		goto out;
	}

	cmd = find_cmd(top, NULL, argv[first]);
	if (!cmd) {
		r = unknown(&c, top, NULL, argv[first], NULL);
		goto out;
	}
	leaf = cmd;
	snprintf(path, sizeof(path), "%s", cmd->name);
	c.path = path;
	first++;
	if (cmd->sub) {
		const char *w = first < argc ? argv[first] : NULL;

		if (want_help || !w || !strcmp(w, "help") || !strcmp(w, "-h") || !strcmp(w, "--help")) {
			if (!w && !want_help) {
				r = fail_usage(&c, "'%s' needs a command", cmd->name);
				goto out;
			}
			help_group(stdout, cmd->name, cmd);
			r = 0;
			goto out;
		}
		leaf = find_cmd(NULL, cmd->sub, w);
		if (!leaf) {
			r = unknown(&c, NULL, cmd->sub, w, cmd->name);
			goto out;
		}
		snprintf(path, sizeof(path), "%s %s", cmd->name, leaf->name);
		first++;
	}

	r = args_parse(&c, leaf, argc - first, argv + first, &a);
	if (r == 1)
		goto out;
	if ((r == 2 || want_help) && leaf != &cmd_help) {
		help_cmd(stdout, path, leaf);
		r = 0;
		goto out;
	}
	/* -j may have come after the command */
	if (c.json && !c.jw) {
		c.jw = jw_new(stdout, c.pretty);
		if (!c.jw) {
			fprintf(stderr, "Error: out of memory\n");
			r = 1;
			goto out;
		}
	}

	xdpctl_set_print(print_dp);
	libbpf_set_print(print_libbpf);
	libxdp_set_print(print_libxdp);
	if (leaf == &cmd_help || leaf == &cmd_version) {
		r = leaf->run(&c, &a);
		goto out;
	}

	if (!c.pin_dir)
		c.pin_dir = getenv("XDPCTL_PIN_DIR");
	if (!c.pin_dir || !*c.pin_dir)
		c.pin_dir = XDPCTL_PIN_DIR_DEFAULT;
	if (check_pin_dir(&c)) {
		r = 1;
		goto out;
	}
	if ((leaf->flags & CMD_PRIV) && !has_caps()) {
		r = fail(&c, "needs root (CAP_BPF and CAP_NET_ADMIN)");
		goto out;
	}
	if (c.netns) {
		int err = xdpctl_netns_enter(c.netns);

		if (err) {
			if (err == -ENOENT)
				r = fail(&c, "no network namespace '%s': see 'ip netns list'", c.netns);
			else if (err == -EPERM)
				r = fail(&c, "cannot enter network namespace '%s': needs root (CAP_SYS_ADMIN)",
					 c.netns);
			else
				r = fail(&c, "cannot enter network namespace '%s': %s", c.netns,
					 strerror(-err));
			goto out;
		}
	}
	r = args_check_devices(&c, leaf, &a);
	if (r)
		goto out;
	r = leaf->run(&c, &a);
out:
	xdpctl_dp__close(c.dp);
	jw_free(c.jw);
	fflush(stdout);
	/* the print callbacks outlive this frame (a fuzzer calls main() again) */
	g_ctx = NULL;
	return r ? 1 : 0;
}
