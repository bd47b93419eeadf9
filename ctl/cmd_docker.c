// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdpctl docker sync | watch: the container table kept equal to what
 * Docker runs (dataplane/watch.c), and xdpctl doctor: the known traps of
 * this host, each with what to do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdpctl.h"
#include "xdpctl/docker.h"

/* ---- shared: the Docker client, with the fix for each way it fails ---- */

int docker_open(struct ctx *c, struct xdpctl_docker **dk, const char *what)
{
	int err = xdpctl_docker__open(NULL, dk);
	const char *msg = xdpctl_docker__errmsg(NULL);
	char pre[200] = "";

	if (what)
		snprintf(pre, sizeof(pre), "cannot resolve container %s: ", what);
	switch (err) {
	case 0:
		return 0;
	case -EPERM:
	case -ENOTSOCK:
		return fail(c, "%s%s: a socket not owned by root could answer for the daemon; point "
			    "DOCKER_HOST at the root daemon's socket (unix://%s) or unset it", pre, msg,
			    XDPCTL_DOCKER_SOCK);
	case -EPROTONOSUPPORT:
		return fail(c, "%s%s: use unix://PATH, or unset DOCKER_HOST", pre, msg);
	default:
		return fail(c, "%s%s", pre, msg);
	}
}

/* ---- the change lines of sync and watch ---- */

struct change_ctx {
	struct ctx *c;
	bool stream;          /* watch: one JSON object per line, flushed */
	unsigned long long n[XDPCTL_WATCH_DOCKER + 1];
	struct xdpctl_watch_change *list;  /* sync -j: kept for one array */
	char **msgs;
	size_t nlist, cap;
};

static const char *action_name(enum xdpctl_watch_action a)
{
	switch (a) {
	case XDPCTL_WATCH_ADD: return "add";
	case XDPCTL_WATCH_DEL: return "del";
	case XDPCTL_WATCH_KEEP: return "keep";
	case XDPCTL_WATCH_FOREIGN: return "foreign";
	case XDPCTL_WATCH_ERROR: return "error";
	default: return "docker";
	}
}

static const char *hooks_str(__u32 h)
{
	if (h == (XDPCTL_HOOKBIT_XDP | XDPCTL_HOOKBIT_TC))
		return "both";
	return h == XDPCTL_HOOKBIT_XDP ? "xdp" : h == XDPCTL_HOOKBIT_TC ? "tc" : "-";
}

static void change_json(struct ctx *c, const struct xdpctl_watch_change *ch, const char *msg)
{
	char abuf[INET6_ADDRSTRLEN], mac[18];

	jw_obj_open(c->jw);
	jw_kstr(c->jw, "action", action_name(ch->action));
	if (ch->action != XDPCTL_WATCH_DOCKER) {
		jw_kstr(c->jw, "kind", ch->pingpong ? "pingpong" : "bypass");
		jw_kstr(c->jw, "addr", fmt_addr(&ch->addr, abuf, sizeof(abuf)));
		if (ch->pingpong) {
			jw_kstr(c->jw, "hooks", hooks_str(ch->hooks));
		} else {
			jw_kstr(c->jw, "dev", ch->dev);
			jw_ku64(c->jw, "ifindex", ch->ifindex);
			jw_kstr(c->jw, "mac", fmt_mac(ch->mac, mac));
		}
		jw_kstr(c->jw, "container", ch->container);
	}
	if (msg)
		jw_kstr(c->jw, "message", msg);
	jw_obj_close(c->jw);
}

static void change_line(const struct xdpctl_watch_change *ch)
{
	char abuf[INET6_ADDRSTRLEN], mac[18];

	if (ch->action == XDPCTL_WATCH_DOCKER) {
		printf("docker   %s\n", ch->msg ? ch->msg : "");
		return;
	}
	fmt_addr(&ch->addr, abuf, sizeof(abuf));
	if (ch->pingpong)
		printf("%-8s pingpong %-39s hooks %-4s container %s%s%s\n", action_name(ch->action),
		       abuf, hooks_str(ch->hooks), ch->container, ch->msg ? ": " : "",
		       ch->msg ? ch->msg : "");
	else
		printf("%-8s bypass   %-39s dev %-15s mac %s container %s%s%s\n",
		       action_name(ch->action), abuf, ch->dev[0] ? ch->dev : "-",
		       fmt_mac(ch->mac, mac), ch->container, ch->msg ? ": " : "",
		       ch->msg ? ch->msg : "");
}

static void on_change(const struct xdpctl_watch_change *ch, void *arg)
{
	struct change_ctx *cc = arg;

	cc->n[ch->action]++;
	if (cc->c->json && !cc->stream) {
		struct xdpctl_watch_change *l;
		char **m;

		if (cc->nlist == cc->cap) {
			size_t cap = cc->cap ? cc->cap * 2 : 64;

			l = realloc(cc->list, cap * sizeof(*l));
			if (!l)
				return;
			cc->list = l;
			m = realloc(cc->msgs, cap * sizeof(*m));
			if (!m)
				return;
			cc->msgs = m;
			cc->cap = cap;
		}
		cc->list[cc->nlist] = *ch;
		cc->msgs[cc->nlist] = ch->msg ? strdup(ch->msg) : NULL;
		cc->list[cc->nlist].msg = NULL;
		cc->nlist++;
		return;
	}
	if (cc->c->json) {
		change_json(cc->c, ch, ch->msg);
		fflush(stdout);
		return;
	}
	change_line(ch);
	fflush(stdout);
}

/* ---- docker sync / watch ---- */

enum { DW_LABEL, DW_RESYNC, DW_METRICS };
static const struct arg_spec docker_sync_args[] = {
	[DW_LABEL] = { .name = "--label", .metavar = "KEY[=VALUE]", .type = ARG_STRING,
		       .help = "only containers carrying this label" },
	{ 0 },
};
static const struct arg_spec docker_watch_args[] = {
	[DW_LABEL] = { .name = "--label", .metavar = "KEY[=VALUE]", .type = ARG_STRING,
		       .help = "only containers carrying this label" },
	[DW_RESYNC] = { .name = "--resync", .metavar = "SECONDS", .type = ARG_UINT, .min = 1,
			.max = 86400, .help = "full reconcile every SECONDS besides events (default 300)" },
	[DW_METRICS] = { .name = "--metrics-listen", .metavar = "ADDR:PORT", .type = ARG_STRING,
			 .help = "serve Prometheus /metrics from this process" },
	{ 0 },
};

/* Open the state, the Docker client and the watcher; 0 or 1 (reported). */
static int watch_open(struct ctx *c, struct args *a, struct change_ctx *cc, bool keep,
		      unsigned int resync_s, struct xdpctl_docker **dk, struct xdpctl_watch **w)
{
	XDPCTL_OPTS(xdpctl_watch_opts, o, .cb = on_change, .cb_ctx = cc, .report_keep = keep,
		    .resync_s = resync_s);
	const char *label = a->v[DW_LABEL].set ? a->v[DW_LABEL].str : NULL;
	int r, err;

	if (label && (!*label || *label == '=' || strpbrk(label, "\"\\") || strlen(label) > 250))
		return fail_usage(c, "--label '%s': expected KEY or KEY=VALUE", label);
	o.label = label;
	r = open_state(c, false, 0, false, NULL);
	if (r)
		return r;
	r = docker_open(c, dk, NULL);
	if (r)
		return r;
	err = xdpctl_watch__new(c->dp, *dk, &o, w);
	if (err) {
		xdpctl_docker__close(*dk);
		*dk = NULL;
		if (err == -EEXIST)
			return fail(c, "%s: remove it ('rm %s/%s') and run again", xdpctl_dp__errmsg(NULL),
				    c->pin_dir, XDPCTL_MAP_OWNER);
		return fail_dp(c, err, "docker watcher");
	}
	return 0;
}

static int run_docker_sync(struct ctx *c, struct args *a)
{
	struct change_ctx cc = { .c = c };
	struct xdpctl_docker *dk = NULL;
	struct xdpctl_watch *w = NULL;
	struct xdpctl_watch_stats st;
	size_t i;
	int r, err;

	r = watch_open(c, a, &cc, true, 0, &dk, &w);
	if (r)
		return r;
	err = xdpctl_watch__sync(w);
	xdpctl_watch__stats(w, &st);
	if (err) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s", xdpctl_watch__errmsg(w));
		xdpctl_watch__free(w);
		xdpctl_docker__close(dk);
		for (i = 0; i < cc.nlist; i++)
			free(cc.msgs[i]);
		free(cc.list);
		free(cc.msgs);
		if (err == -ECONNREFUSED)
			return fail(c, "%s: start dockerd, then run 'xdpctl docker sync' again", msg);
		return fail(c, "docker sync: %s", msg);
	}
	if (c->json) {
		jw_obj_open(c->jw);
		jw_key(c->jw, "changes");
		jw_arr_open(c->jw);
		for (i = 0; i < cc.nlist; i++)
			if (cc.list[i].action != XDPCTL_WATCH_KEEP)
				change_json(c, &cc.list[i], cc.msgs[i]);
		jw_arr_close(c->jw);
		jw_ku64(c->jw, "added", cc.n[XDPCTL_WATCH_ADD]);
		jw_ku64(c->jw, "removed", cc.n[XDPCTL_WATCH_DEL]);
		jw_ku64(c->jw, "kept", cc.n[XDPCTL_WATCH_KEEP]);
		jw_ku64(c->jw, "foreign", cc.n[XDPCTL_WATCH_FOREIGN]);
		jw_ku64(c->jw, "errors", cc.n[XDPCTL_WATCH_ERROR]);
		jw_ku64(c->jw, "entries", st.entries);
		jw_obj_close(c->jw);
	} else {
		printf("%llu added, %llu removed, %llu kept, %llu left alone (added by hand), "
		       "%llu errors; the watcher owns %llu rules\n",
		       cc.n[XDPCTL_WATCH_ADD], cc.n[XDPCTL_WATCH_DEL], cc.n[XDPCTL_WATCH_KEEP],
		       cc.n[XDPCTL_WATCH_FOREIGN], cc.n[XDPCTL_WATCH_ERROR],
		       (unsigned long long)st.entries);
	}
	for (i = 0; i < cc.nlist; i++)
		free(cc.msgs[i]);
	free(cc.list);
	free(cc.msgs);
	xdpctl_watch__free(w);
	xdpctl_docker__close(dk);
	return 0;
}

static int run_docker_watch(struct ctx *c, struct args *a)
{
	struct change_ctx cc = { .c = c, .stream = true };
	struct xdpctl_metrics_http *srv = NULL;
	struct xdpctl_docker *dk = NULL;
	struct xdpctl_watch *w = NULL;
	int r, err;

	r = watch_open(c, a, &cc, false,
		       a->v[DW_RESYNC].set ? (unsigned int)a->v[DW_RESYNC].u : 0, &dk, &w);
	if (r)
		return r;
	if (a->v[DW_METRICS].set) {
		/* the state's counters and the watcher's, from the server's own thread */
		XDPCTL_OPTS(xdpctl_metrics_http_opts, mo, .pin_dir = c->pin_dir,
			    .extra = xdpctl_watch__metrics_write, .extra_ctx = w);

		srv = xdpctl_metrics_http__start(a->v[DW_METRICS].str, &mo);
		if (!srv) {
			xdpctl_watch__free(w);
			xdpctl_docker__close(dk);
			return fail(c, "--metrics-listen: %s", xdpctl_dp__errmsg(NULL));
		}
		if (c->json) {
			jw_obj_open(c->jw);
			jw_kstr(c->jw, "action", "metrics");
			jw_kstr(c->jw, "listen", a->v[DW_METRICS].str);
			jw_ku64(c->jw, "port", xdpctl_metrics_http__port(srv));
			jw_obj_close(c->jw);
		} else {
			printf("metrics  serving /metrics on %s (port %u)\n", a->v[DW_METRICS].str,
			       xdpctl_metrics_http__port(srv));
		}
		fflush(stdout);
	}
	install_stop_handler();
	err = xdpctl_watch__run(w, &stop_requested);
	xdpctl_metrics_http__stop(srv);
	if (err) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s", xdpctl_watch__errmsg(w));
		xdpctl_watch__free(w);
		xdpctl_docker__close(dk);
		return fail(c, "docker watch: %s", msg);
	}
	xdpctl_watch__free(w);
	xdpctl_docker__close(dk);
	return 0;
}

static const struct cmd docker_cmds[] = {
	{ .name = "sync", .run = run_docker_sync, .args = docker_sync_args, .flags = CMD_PRIV,
	  .summary = "Make the container table match the running containers, once.",
	  .details = "Every running container's addresses on every network (IPv4 and IPv6) get a\n"
		     "bypass rule to the host veth whose peer holds that address; rules the\n"
		     "watcher added for containers that are gone or moved are removed; rules added\n"
		     "by hand are never touched (the watcher records what it adds in the pinned\n"
		     "map " XDPCTL_MAP_OWNER "). Opt out with the label " XDPCTL_LABEL_BYPASS "=false on a\n"
		     "container or a network; " XDPCTL_LABEL_PINGPONG "=xdp|tc|both on a container\n"
		     "also answers its echo requests. The Engine API: $DOCKER_HOST (unix:// only)\n"
		     "or " XDPCTL_DOCKER_SOCK ", which must be a socket owned by root." },
	{ .name = "watch", .run = run_docker_watch, .args = docker_watch_args, .flags = CMD_PRIV,
	  .summary = "Keep the container table true: reconcile, then follow Docker and the links.",
	  .details = "Runs in the foreground (for a service manager; see xdpctl-docker.service).\n"
		     "Reconciles as 'docker sync' at start and at every reconnect, then follows the\n"
		     "Engine API events (container start/die/destroy/restart, network\n"
		     "connect/disconnect) and netlink link changes. While Docker is away it retries\n"
		     "with backoff (0.2 s doubling to 5 s). One line per change; -j: one JSON object\n"
		     "per line. Stops on SIGINT or SIGTERM." },
	{ 0 },
};

const struct cmd cmd_docker = {
	.name = "docker", .sub = docker_cmds,
	.summary = "Docker-native: keep the bypass rules equal to the running containers.",
};

/* ---- doctor ---- */

struct doctor_ctx {
	struct ctx *c;
	unsigned int n[XDPCTL_CHECK_SKIP + 1];
};

static int on_check(const struct xdpctl_check *ck, void *arg)
{
	struct doctor_ctx *d = arg;
	struct ctx *c = d->c;

	d->n[ck->status]++;
	if (c->json) {
		jw_obj_open(c->jw);
		jw_kstr(c->jw, "check", ck->name);
		jw_kstr(c->jw, "status", xdpctl_check_status_name(ck->status));
		jw_kstr(c->jw, "detail", ck->detail);
		jw_kstr(c->jw, "fix", ck->fix);
		jw_obj_close(c->jw);
		return 0;
	}
	printf("%-5s %-22s %s\n", xdpctl_check_status_name(ck->status), ck->name, ck->detail);
	if (ck->fix[0])
		printf("      %-22s fix: %s\n", "", ck->fix);
	return 0;
}

static int run_doctor(struct ctx *c, struct args *a)
{
	struct doctor_ctx d = { .c = c };
	bool missing = false;
	int r, err;

	(void)a;
	r = open_state(c, false, 0, true, &missing);
	if (r)
		return r;
	if (c->json)
		jw_arr_open(c->jw);
	else
		printf("%-5s %-22s %s\n", "STATE", "CHECK", "DETAIL");
	err = xdpctl_doctor(c->dp, c->pin_dir, on_check, &d);
	if (c->json)
		jw_arr_close(c->jw);
	if (err)
		return fail_dp(c, err, "doctor");
	if (!c->json)
		printf("%u ok, %u warnings, %u failed, %u skipped\n", d.n[XDPCTL_CHECK_OK],
		       d.n[XDPCTL_CHECK_WARN], d.n[XDPCTL_CHECK_FAIL], d.n[XDPCTL_CHECK_SKIP]);
	return 0;
}

const struct cmd cmd_doctor = {
	.name = "doctor", .run = run_doctor, .flags = CMD_PRIV,
	.summary = "Check this host for the known traps and say what to do about each.",
	.details = "bpffs and tracefs mounted; an XDP program on the peer of every veth an XDP\n"
		   "engine redirects into; tx checksum offload off on the far end of a veth\n"
		   "uplink; Docker's FORWARD policy; the conntrack kfuncs in the kernel's BTF; the\n"
		   "Docker socket (root's, answering). Exit 0 when the checks ran: read the states.",
};
