// SPDX-License-Identifier: GPL-2.0-only
/* xdpctl stats: counters, rates (--watch) and the Prometheus text format. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xdpctl.h"

enum { SA_RULES, SA_WATCH, SA_COUNT, SA_PROM, SA_TEXTFILE, SA_SERVE };
static const struct arg_spec stats_args[] = {
	[SA_RULES] = { .name = "--rules", .type = ARG_FLAG,
		       .help = "also the counters of each bypass and ping-pong rule" },
	[SA_WATCH] = { .name = "--watch", .metavar = "SECONDS", .type = ARG_UINT, .min = 1,
		       .max = 3600, .help = "print rates (pps, bit/s) every SECONDS until Ctrl-C" },
	[SA_COUNT] = { .name = "--count", .metavar = "N", .type = ARG_UINT, .min = 1,
		       .max = 1000000, .help = "with --watch: stop after N intervals" },
	[SA_PROM] = { .name = "--prometheus", .type = ARG_FLAG,
		      .help = "the Prometheus text exposition format" },
	[SA_TEXTFILE] = { .name = "--textfile", .metavar = "DIR", .type = ARG_STRING,
			  .help = "write it atomically to DIR/xdpctl.prom (node_exporter textfile collector)" },
	[SA_SERVE] = { .name = "--serve", .metavar = "ADDR:PORT", .type = ARG_STRING,
		       .help = "answer GET /metrics on ADDR:PORT until Ctrl-C (rules included)" },
	{ 0 },
};

typedef struct xdpctl_counter counters_t[XDPCTL_HOOK_MAX][XDPCTL_REASON_MAX];

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- one snapshot ---- */

/* One counter of a hook and reason, as gathered from the per-CPU map. */
struct counter_row {
	unsigned int hook, reason;
	struct xdpctl_counter n;
};

static void counter_head(void)
{
	printf("%-12s %-16s %14s %16s\n", "HOOK", "REASON", "PACKETS", "BYTES");
}

/* One counter: its row (rx always, the rest when not zero), or its JSON object. */
static void counter_show(struct ctx *c, const void *obj, bool json)
{
	const struct counter_row *k = obj;

	if (!json) {
		if (k->reason == XDPCTL_R_RX || k->n.packets)
			printf("%-12s %-16s %14llu %16llu\n", xdpctl_hook_name(k->hook),
			       xdpctl_reason_name(k->reason), (unsigned long long)k->n.packets,
			       (unsigned long long)k->n.bytes);
		return;
	}
	jw_obj_open(c->jw);
	jw_kstr(c->jw, "hook", xdpctl_hook_name(k->hook));
	jw_kstr(c->jw, "reason", xdpctl_reason_name(k->reason));
	jw_ku64(c->jw, "packets", k->n.packets);
	jw_ku64(c->jw, "bytes", k->n.bytes);
	jw_obj_close(c->jw);
}

static const struct show counter_printer = { .head = counter_head, .one = counter_show };

/* Every hook and reason's counter, in the order of abi.h's tables. */
static void show_counters(struct ctx *c, bool json, counters_t s)
{
	struct counter_row rows[XDPCTL_HOOK_MAX * XDPCTL_REASON_MAX];
	unsigned int h, r, n = 0;

	for (h = 0; h < XDPCTL_HOOK_MAX; h++)
		for (r = 0; r < XDPCTL_REASON_MAX; r++)
			rows[n++] = (struct counter_row){ .hook = h, .reason = r, .n = s[h][r] };
	show_list(c, json, &counter_printer, rows, n, sizeof(rows[0]));
}

static int prometheus(struct ctx *c, bool rules, const char *textfile)
{
	XDPCTL_OPTS(xdpctl_metrics_opts, o, .rules = rules);
	int err;

	if (textfile) {
		err = xdpctl_metrics_textfile(c->dp, textfile, &o);
		return err ? fail_dp(c, err, "--textfile") : 0;
	}
	err = xdpctl_metrics_write(c->dp, stdout, &o);
	if (err)
		return fail_dp(c, err, "stats");
	return stdout_result(c);
}

/* GET /metrics until a stop signal. */
static int serve(struct ctx *c, const char *listen)
{
	XDPCTL_OPTS(xdpctl_metrics_http_opts, o, .pin_dir = c->pin_dir);
	struct xdpctl_metrics_http *srv;

	srv = xdpctl_metrics_http__start(listen, &o);
	if (!srv)
		return fail(c, "--serve: %s", xdpctl_dp__errmsg(NULL));
	install_stop_handler();
	if (c->json) {
		jw_obj_open(c->jw);
		jw_kstr(c->jw, "listen", listen);
		jw_ku64(c->jw, "port", xdpctl_metrics_http__port(srv));
		jw_obj_close(c->jw);
		fflush(stdout);
	} else {
		printf("serving /metrics on %s (port %u) until Ctrl-C\n", listen,
		       xdpctl_metrics_http__port(srv));
	}
	while (!stop_requested)
		poll(NULL, 0, 1000);
	xdpctl_metrics_http__stop(srv);
	return 0;
}

/* ---- rates ---- */

struct snap {
	counters_t s;
	struct xdpctl_bypass_rule *rules; /* sorted by address */
	size_t nrules;
	double t;
};

static int take(struct ctx *c, struct snap *sn, bool rules)
{
	int err;

	memset(sn->s, 0, sizeof(sn->s));
	err = xdpctl_dp__stats(c->dp, sn->s);
	if (err)
		return fail_dp(c, err, "stats");
	sn->t = mono_s();
	sn->rules = NULL;
	sn->nrules = 0;
	if (rules)
		return bypass_rules_sorted(c, &sn->rules, &sn->nrules);
	return 0;
}

static const struct xdpctl_bypass_rule *find_rule(const struct snap *sn,
						  const struct xdpctl_addr *a)
{
	size_t lo = 0, hi = sn->nrules;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int d = addr_cmp(&sn->rules[mid].addr, a);

		if (!d)
			return &sn->rules[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Counters are monotonic, but a rule deleted and re-added starts again. */
static double rate(__u64 now, __u64 before, double dt)
{
	return now >= before && dt > 0 ? (double)(now - before) / dt : 0;
}

/* The rate of one hook and reason over an interval. */
struct rate_row {
	unsigned int hook, reason;
	double pps, bps;
};

static void rate_head(void)
{
	printf("%-12s %-16s %14s %16s\n", "HOOK", "REASON", "PPS", "BPS(bit/s)");
}

/* One rate: its row (rx always, the rest when not zero), or its JSON object. */
static void rate_show(struct ctx *c, const void *obj, bool json)
{
	const struct rate_row *k = obj;

	if (!json) {
		if (k->reason == XDPCTL_R_RX || k->pps > 0)
			printf("%-12s %-16s %14.1f %16.0f\n", xdpctl_hook_name(k->hook),
			       xdpctl_reason_name(k->reason), k->pps, k->bps);
		return;
	}
	jw_obj_open(c->jw);
	jw_kstr(c->jw, "hook", xdpctl_hook_name(k->hook));
	jw_kstr(c->jw, "reason", xdpctl_reason_name(k->reason));
	jw_kdouble(c->jw, "pps", k->pps);
	jw_kdouble(c->jw, "bps", k->bps);
	jw_obj_close(c->jw);
}

static const struct show rate_printer = { .head = rate_head, .one = rate_show };

/* The rates of one bypass rule over an interval. */
struct rule_rate_row {
	const struct xdpctl_bypass_rule *rule;
	double in_pps, in_bps, out_pps, out_bps;
};

static void rule_rate_head(void)
{
	printf("%-39s %-16s %12s %14s %12s %14s\n", "ADDRESS", "DEVICE", "IN_PPS",
	       "IN_BPS(bit/s)", "OUT_PPS", "OUT_BPS(bit/s)");
}

/* One rule's rates: its row, or its JSON object. */
static void rule_rate_show(struct ctx *c, const void *obj, bool json)
{
	const struct rule_rate_row *k = obj;
	char abuf[INET6_ADDRSTRLEN];

	fmt_addr(&k->rule->addr, abuf, sizeof(abuf));
	if (!json) {
		printf("%-39s %-16s %12.1f %14.0f %12.1f %14.0f\n", abuf, k->rule->dev, k->in_pps,
		       k->in_bps, k->out_pps, k->out_bps);
		return;
	}
	jw_obj_open(c->jw);
	jw_kstr(c->jw, "addr", abuf);
	jw_kstr(c->jw, "dev", k->rule->dev);
	jw_kdouble(c->jw, "in_pps", k->in_pps);
	jw_kdouble(c->jw, "in_bps", k->in_bps);
	jw_kdouble(c->jw, "out_pps", k->out_pps);
	jw_kdouble(c->jw, "out_bps", k->out_bps);
	jw_obj_close(c->jw);
}

/* Rule @i of @b against the same address in @a (new rules: from zero). */
static struct rule_rate_row rule_rate(const struct snap *a, const struct snap *b, size_t i,
				      double dt)
{
	static const struct xdpctl_bypass_rule zero;
	const struct xdpctl_bypass_rule *nw = &b->rules[i], *o = find_rule(a, &nw->addr);

	if (!o)
		o = &zero;
	return (struct rule_rate_row){
		.rule = nw,
		.in_pps = rate(nw->in_packets, o->in_packets, dt),
		.in_bps = 8 * rate(nw->in_bytes, o->in_bytes, dt),
		.out_pps = rate(nw->out_packets, o->out_packets, dt),
		.out_bps = 8 * rate(nw->out_bytes, o->out_bytes, dt),
	};
}

static void print_rates(struct ctx *c, const struct snap *a, const struct snap *b, bool rules)
{
	struct rate_row rows[XDPCTL_HOOK_MAX * XDPCTL_REASON_MAX];
	struct rule_rate_row rr;
	double dt = b->t - a->t;
	unsigned int h, r, n = 0;
	size_t i;

	for (h = 0; h < XDPCTL_HOOK_MAX; h++)
		for (r = 0; r < XDPCTL_REASON_MAX; r++)
			rows[n++] = (struct rate_row){
				.hook = h, .reason = r,
				.pps = rate(b->s[h][r].packets, a->s[h][r].packets, dt),
				.bps = 8 * rate(b->s[h][r].bytes, a->s[h][r].bytes, dt),
			};
	if (c->json) {
		jw_obj_open(c->jw);
		jw_kdouble(c->jw, "time_s", wall_s());
		jw_kdouble(c->jw, "interval_s", dt);
		jw_key(c->jw, "rates");
		show_list(c, true, &rate_printer, rows, n, sizeof(rows[0]));
		if (rules) {
			jw_key(c->jw, "bypass_rules");
			jw_arr_open(c->jw);
			for (i = 0; i < b->nrules; i++) {
				rr = rule_rate(a, b, i, dt);
				rule_rate_show(c, &rr, true);
			}
			jw_arr_close(c->jw);
		}
		jw_obj_close(c->jw);
		return;
	}
	{
		time_t now = time(NULL);
		struct tm tm;
		char ts[32];

		localtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
		printf("%s  interval %.2f s\n", ts, dt);
	}
	show_list(c, false, &rate_printer, rows, n, sizeof(rows[0]));
	if (rules) {
		rule_rate_head();
		for (i = 0; i < b->nrules; i++) {
			rr = rule_rate(a, b, i, dt);
			rule_rate_show(c, &rr, false);
		}
	}
	printf("\n");
}

/* Sleep until @deadline (monotonic seconds) or a stop request. */
static void sleep_until(double deadline)
{
	for (;;) {
		double left = deadline - mono_s();

		if (left <= 0 || stop_requested)
			return;
		poll(NULL, 0, left > 1 ? 1000 : (int)(left * 1000) + 1);
	}
}

static int watch(struct ctx *c, unsigned int every, unsigned long long count, bool rules)
{
	struct snap a, b;
	unsigned long long i;
	double next;
	int r;

	install_stop_handler();
	r = take(c, &a, rules);
	if (r)
		return r;
	next = a.t + every;
	for (i = 0; !count || i < count; i++) {
		sleep_until(next);
		if (stop_requested)
			break;
		r = take(c, &b, rules);
		if (r)
			break;
		print_rates(c, &a, &b, rules);
		free(a.rules);
		a = b;
		b.rules = NULL;
		next += every;
	}
	free(a.rules);
	return r;
}

/* ---- XDP redirects into bypassed veths, and those lost (ring full) ---- */

struct xmit_list {
	struct ctx *c;
	bool json, any;
};

static void xmit_head(void)
{
	printf("\n%-16s %14s %14s\n", "VETH", "XDP_XMIT", "XDP_LOST");
}

/* One veth's XDP redirects (a device status with have_xmit): its row, or its JSON object. */
static void xmit_show(struct ctx *c, const void *obj, bool json)
{
	const struct xdpctl_dev_status *st = obj;

	if (json) {
		jw_obj_open(c->jw);
		jw_kstr(c->jw, "dev", st->name);
		jw_ku64(c->jw, "xdp_xmit_packets", st->xdp_xmit);
		jw_ku64(c->jw, "xdp_xmit_errors", st->xdp_xmit_errors);
		jw_obj_close(c->jw);
		return;
	}
	printf("%-16s %14llu %14llu\n", st->name, (unsigned long long)st->xdp_xmit,
	       (unsigned long long)st->xdp_xmit_errors);
}

static int xmit_row(const struct xdpctl_dev_status *st, void *ctx)
{
	struct xmit_list *x = ctx;

	if (!st->have_xmit)
		return 0;
	/* in the table only veths XDP redirected into: the tc engine never does */
	if (!x->json && !st->xdp_xmit && !st->xdp_xmit_errors)
		return 0;
	if (!x->json && !x->any)
		xmit_head();
	x->any = true;
	xmit_show(x->c, st, x->json);
	return 0;
}

static int run_stats(struct ctx *c, struct args *a)
{
	bool rules = a->v[SA_RULES].set;
	counters_t s;
	int err, r;

	if (a->v[SA_PROM].set && c->json)
		return fail_usage(c, "--prometheus and --json exclude each other");
	if (a->v[SA_PROM].set && a->v[SA_WATCH].set)
		return fail_usage(c, "--prometheus and --watch exclude each other (a scraper polls)");
	if (a->v[SA_COUNT].set && !a->v[SA_WATCH].set)
		return fail_usage(c, "--count goes with --watch");
	if ((a->v[SA_TEXTFILE].set || a->v[SA_SERVE].set) && a->v[SA_WATCH].set)
		return fail_usage(c, "--textfile and --serve go without --watch");
	if (a->v[SA_TEXTFILE].set && c->json)
		return fail_usage(c, "--textfile and --json exclude each other");
	if (a->v[SA_TEXTFILE].set && a->v[SA_SERVE].set)
		return fail_usage(c, "--textfile and --serve exclude each other");
	r = open_state(c, false, 0, false, NULL);
	if (r)
		return r;
	if (a->v[SA_SERVE].set)
		return serve(c, a->v[SA_SERVE].str);
	if (a->v[SA_WATCH].set)
		return watch(c, (unsigned int)a->v[SA_WATCH].u,
			     a->v[SA_COUNT].set ? a->v[SA_COUNT].u : 0, rules);

	memset(s, 0, sizeof(s));
	err = xdpctl_dp__stats(c->dp, s);
	if (err)
		return fail_dp(c, err, "stats");
	if (a->v[SA_PROM].set || a->v[SA_TEXTFILE].set)
		return prometheus(c, rules, a->v[SA_TEXTFILE].set ? a->v[SA_TEXTFILE].str : NULL);
	if (c->json) {
		int tr = 0, cap = 0;

		err = xdpctl_dp__readers(c->dp, &tr, &cap);
		if (err)
			return fail_dp(c, err, "stats");
		jw_obj_open(c->jw);
		jw_key(c->jw, "counters");
		show_counters(c, true, s);
		jw_ku64(c->jw, "trace_readers", tr);
		jw_ku64(c->jw, "capture_readers", cap);
		{
			struct xmit_list x = { .c = c, .json = true };

			jw_key(c->jw, "veths");
			jw_arr_open(c->jw);
			err = xdpctl_dp__for_each_dev(c->dp, xmit_row, &x);
			jw_arr_close(c->jw);
			if (err)
				return fail_dp(c, err, "stats");
		}
		if (rules) {
			jw_key(c->jw, "bypass_rules");
			r = bypass_table(c, true);
			if (r)
				return r;
			jw_key(c->jw, "pingpong_rules");
			r = pingpong_table(c, true);
			if (r)
				return r;
		}
		jw_obj_close(c->jw);
		return 0;
	}
	show_counters(c, false, s);
	{
		struct xmit_list x = { .c = c };

		err = xdpctl_dp__for_each_dev(c->dp, xmit_row, &x);
		if (err)
			return fail_dp(c, err, "stats");
	}
	if (rules) {
		printf("\n");
		r = bypass_table(c, false);
		if (r)
			return r;
		printf("\n");
		return pingpong_table(c, false);
	}
	return 0;
}

const struct cmd cmd_stats = {
	.name = "stats", .run = run_stats, .args = stats_args, .flags = CMD_PRIV,
	.summary = "Show the counters: per hook and reason, per rule, as rates or for Prometheus.",
	.details = "Every packet a program sees counts in 'rx' and in exactly one other reason\n"
		   "(pass: no rule; bypass; pingpong; ttl_expired; ...). Bytes are whole frames.\n"
		   "VETH / XDP_XMIT / XDP_LOST (JSON \"veths\"): frames XDP redirects (engine\n"
		   "xdp) handed to a bypassed veth, and those lost because its container-side\n"
		   "ring was full: an XDP redirect has no backpressure (the tc engine and engine\n"
		   "auto, the default, do not redirect by XDP and lose none of them).",
};
