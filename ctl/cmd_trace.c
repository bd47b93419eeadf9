// SPDX-License-Identifier: GPL-2.0-only
/* xdpctl trace (the programs' own events) and xdpctl path diff (the kernel's net:* events). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/wait.h>

#include "xdpctl.h"

/* ---- trace ---- */

enum { TR_COUNT, TR_TIMEOUT };
static const struct arg_spec trace_args[] = {
	[TR_COUNT] = { .name = "--count", .metavar = "N", .type = ARG_UINT, .min = 1,
		       .max = 100000000, .help = "stop after N events" },
	[TR_TIMEOUT] = { .name = "--timeout", .metavar = "SECONDS", .type = ARG_UINT, .min = 1,
			 .max = 86400, .help = "stop after SECONDS" },
	{ 0 },
};

struct trace_state {
	struct ctx *c;
	unsigned long long count, seen;
};

/* One trace event as gathered: the record and its line. */
struct event_row {
	const struct xdpctl_event *e;
	const char *text; /* xdpctl_event_format()'s line */
};

/* One trace event: its line, or its JSON object. */
static void event_show(struct ctx *c, const void *obj, bool json)
{
	const struct event_row *k = obj;
	const struct xdpctl_event *e = k->e;
	const char *text = k->text;
	char tag[32] = "", src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const char *close = strchr(text, ']');
	int af = e->family == XDPCTL_AF_INET ? AF_INET : e->family == XDPCTL_AF_INET6 ? AF_INET6 : 0;

	if (!json) {
		printf("%s\n", text);
		return;
	}
	if (text[0] == '[' && close && close - text - 1 < (long)sizeof(tag))
		snprintf(tag, sizeof(tag), "%.*s", (int)(close - text - 1), text + 1);
	jw_obj_open(c->jw);
	jw_ku64(c->jw, "ts_ns", e->ts_ns);
	jw_kstr(c->jw, "tag", tag);
	jw_kstr(c->jw, "hook", xdpctl_hook_name(e->hook));
	jw_kstr(c->jw, "kind", xdpctl_event_kind_name(e->kind));
	jw_kstr(c->jw, "reason", xdpctl_reason_name(e->reason));
	jw_ku64(c->jw, "ifindex", e->ifindex);
	jw_ku64(c->jw, "out_ifindex", e->out_ifindex);
	jw_ku64(c->jw, "len_bytes", e->pkt_len);
	if (af && e->kind != XDPCTL_EV_RX) {
		inet_ntop(af, e->src, src, sizeof(src));
		inet_ntop(af, e->dst, dst, sizeof(dst));
		jw_kstr(c->jw, "src", src);
		jw_kstr(c->jw, "dst", dst);
		jw_ku64(c->jw, "l4proto", e->l4proto);
		if (e->l4proto == IPPROTO_ICMP || e->l4proto == IPPROTO_ICMPV6)
			jw_ku64(c->jw, "icmp_type", e->icmp_type);
		if (e->l4proto == IPPROTO_TCP || e->l4proto == IPPROTO_UDP) {
			jw_ku64(c->jw, "sport", ntohs(e->sport));
			jw_ku64(c->jw, "dport", ntohs(e->dport));
		}
	}
	jw_kstr(c->jw, "text", text);
	jw_obj_close(c->jw);
}

static int on_event(const struct xdpctl_event *e, void *ctx)
{
	struct trace_state *st = ctx;
	char line[256];

	if (xdpctl_event_format(e, line, sizeof(line)) < 0)
		snprintf(line, sizeof(line), "[?] unreadable event");
	event_show(st->c, &(struct event_row){ .e = e, .text = line }, st->c->json);
	st->seen++;
	/* each line reaches a pipe as it comes, and a closed pipe shows at once */
	if (fflush(stdout) || ferror(stdout))
		return 1; /* the reader went away (EPIPE) or the disk is full */
	return st->count && st->seen >= st->count;
}

static bool trace_done(const void *arg)
{
	const struct trace_state *st = arg;

	return st->count && st->seen >= st->count;
}

static int trace_poll(void *h, int ms)
{
	return xdpctl_trace__poll(h, ms);
}

static int run_trace(struct ctx *c, struct args *a)
{
	struct trace_state st = { .c = c, .count = a->v[TR_COUNT].set ? a->v[TR_COUNT].u : 0 };
	double deadline = a->v[TR_TIMEOUT].set ? mono_s() + (double)a->v[TR_TIMEOUT].u : 0;
	struct xdpctl_trace *t;
	int err, r = 0;

	r = open_state(c, false, 0, false, NULL);
	if (r)
		return r;
	/* the reader holds a lease on tracing that its polls renew (abi.h) */
	t = xdpctl_trace__open(c->dp, on_event, &st);
	if (!t)
		return fail_dp(c, -errno, "trace ring buffer");
	install_stop_handler();
	if (!c->json)
		fflush(stdout);
	err = poll_until(deadline, trace_poll, t, trace_done, &st);
	if (err)
		r = fail_dp(c, err, "trace ring buffer");
	xdpctl_trace__close(t);
	return r ? r : stdout_result(c);
}

const struct cmd cmd_trace = {
	.name = "trace", .run = run_trace, .args = trace_args, .flags = CMD_PRIV,
	.summary = "Print the programs' per-packet events until --count, --timeout or Ctrl-C.",
	.details = "Tracing is a lease this command renews while it reads: it stops by itself\n"
		   "within 2 s when the reader dies (kill -9, a closed pipe, a lost terminal),\n"
		   "and several traces run side by side. Lines are tagged hook_role: xdp,\n"
		   "xdp_pingpong, xdp_bypass, tc, tc_pingpong, tc_bypass, tc_return.\n"
		   "With -j: one JSON object per line.",
};

/* ---- path diff ---- */

enum { PD_A, PD_B };
static const struct arg_spec path_diff_args[] = {
	[PD_A] = { .metavar = "'COMMAND A'", .type = ARG_STRING, .required = true,
		   .help = "a shell command, e.g. 'ping -c1 198.19.0.2'" },
	[PD_B] = { .metavar = "'COMMAND B'", .type = ARG_STRING, .required = true,
		   .help = "the command to compare with" },
	{ 0 },
};

static int record(struct ctx *c, const char *cmd, struct xdpctl_path **p)
{
	int status = 0, err;
	/* the commands' own output only with -v, on stderr (stdout may be JSON) */
	int fd = c->verbose ? 2 : -1;

	err = xdpctl_path__record(cmd, fd, fd, &status, p);
	switch (err) {
	case 0:
		break;
	case -ENOENT:
	case -ENODEV:
		return fail(c, "no tracefs with net:* events: mount -t tracefs nodev /sys/kernel/tracing");
	case -EPERM:
	case -EACCES:
		return fail(c, "path diff: needs root (tracefs)");
	default:
		return fail(c, "recording '%s': %s", cmd, strerror(-err));
	}
	if (WIFEXITED(status) && WEXITSTATUS(status))
		note(c, "'%s' exited with status %d", cmd, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		note(c, "'%s' was killed by signal %d", cmd, WTERMSIG(status));
	return 0;
}

static int on_diff(const struct xdpctl_path_entry *e, void *ctx)
{
	struct ctx *c = ctx;

	if (c->json) {
		jw_obj_open(c->jw);
		jw_kstr(c->jw, "event", e->event);
		jw_kstr(c->jw, "dev", e->dev);
		jw_ku64(c->jw, "count", e->count);
		jw_obj_close(c->jw);
	} else if (e->dev[0]) {
		printf("    %s:dev=%s\n", e->event, e->dev);
	} else {
		printf("    %s\n", e->event);
	}
	return 0;
}

static int run_path_diff(struct ctx *c, struct args *a)
{
	struct xdpctl_path *pa = NULL, *pb = NULL;
	int err, r;

	r = record(c, a->v[PD_A].str, &pa);
	if (!r)
		r = record(c, a->v[PD_B].str, &pb);
	if (!r) {
		if (c->json)
			jw_arr_open(c->jw);
		err = xdpctl_path__diff(pa, pb, on_diff, c);
		if (err < 0)
			r = fail(c, "path diff: %s", strerror(-err));
		else if (c->json)
			jw_arr_close(c->jw);
	}
	xdpctl_path__free(pa);
	xdpctl_path__free(pb);
	return r;
}

static const struct cmd path_cmds[] = {
	{ .name = "diff", .run = run_path_diff, .args = path_diff_args, .flags = CMD_PRIV,
	  .summary = "Print the net:* (event, device) pairs command A hit and command B did not.",
	  .details = "Each command runs under /bin/sh with every net:* tracepoint on, in a private\n"
		     "tracefs instance removed afterwards. Tracepoints see the whole machine:\n"
		     "traffic of others during the run shows too. Output lines look like\n"
		     "'    net:net_dev_queue:dev=br0'." },
	{ 0 },
};

const struct cmd cmd_path = {
	.name = "path", .sub = path_cmds,
	.summary = "Compare the kernel paths (net:* tracepoints) of two commands.",
};
