// SPDX-License-Identifier: GPL-2.0-only
/* xdpctl bypass ... and xdpctl pingpong ...: the rules in the pinned maps. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "xdpctl.h"
#include "xdpctl/docker.h"

/* ---- shared ---- */

static int map_full(struct ctx *c, const char *what)
{
	return fail(c, "the %s map is full: delete rules first (bypass capacity: 'xdpctl attach DEV "
		    "--max-rules N' on a fresh state)", what);
}

/* ---- bypass add ---- */

enum { BA_ADDR, BA_DEV, BA_CONTAINER, BA_MAC };
static const struct arg_spec bypass_add_args[] = {
	[BA_ADDR] = { .metavar = "ADDR", .type = ARG_ADDR, .required = true,
		      .help = "the container's IPv4 or IPv6 address" },
	[BA_DEV] = { .name = "dev", .metavar = "VETH", .type = ARG_DEVICE, .required = true,
		     .group = 1, .help = "the container's host-side veth" },
	[BA_CONTAINER] = { .name = "--container", .metavar = "NAME|ID|PID", .type = ARG_CONTAINER,
			   .required = true, .group = 1,
			   .help = "find the veth from a Docker container or a process id" },
	[BA_MAC] = { .name = "--mac", .metavar = "MAC", .type = ARG_MAC,
		     .help = "the container's MAC (default: the veth peer's)" },
	{ 0 },
};

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* A Docker name or id to its process id, through the Engine API; 0 or 1 (reported). */
static int docker_pid(struct ctx *c, const char *what, pid_t *pid, struct xdpctl_container *ct)
{
	struct xdpctl_docker_ctr *d = calloc(1, sizeof(*d));
	struct xdpctl_docker *dk = NULL;
	int err, r;

	if (!d)
		return fail(c, "out of memory");
	r = docker_open(c, &dk, what);
	if (r) {
		free(d);
		return r;
	}
	err = xdpctl_docker__inspect(dk, what, NULL, d);
	switch (err) {
	case 0:
		break;
	case -ENOENT:
		r = fail(c, "no such container: %s (see 'docker ps')", what);
		break;
	case -ECONNREFUSED:
		r = fail(c, "cannot resolve container %s: Docker does not answer on %s: start dockerd, "
			 "or give the container's process id", what, xdpctl_docker__socket(dk));
		break;
	case -ETIMEDOUT:
		r = fail(c, "cannot resolve container %s: Docker did not answer on %s in time: is "
			 "dockerd stuck? (or give the container's process id)", what,
			 xdpctl_docker__socket(dk));
		break;
	case -EPERM:
	case -ENOTSOCK:
		r = fail(c, "cannot resolve container %s: %s: a socket not owned by root could answer "
			 "for the daemon; point DOCKER_HOST at the root daemon's socket or unset it",
			 what, xdpctl_docker__errmsg(dk));
		break;
	default:
		r = fail(c, "cannot resolve container %s: %s", what, xdpctl_docker__errmsg(dk));
		break;
	}
	xdpctl_docker__close(dk);
	if (!r && (!d->running || !d->pid))
		r = fail(c, "container %s is not running: start it first", what);
	if (!r) {
		*pid = d->pid;
		snprintf(ct->name, sizeof(ct->name), "%s", d->name);
		snprintf(ct->id, sizeof(ct->id), "%s", d->id);
	}
	free(d);
	return r;
}

/*
 * Resolve --container into ct: the process (a pid, or a Docker container's),
 * then the veth whose peer holds exactly @addr there; messages for each way
 * it fails.
 */
static int find_container(struct ctx *c, const char *what, const struct xdpctl_addr *addr,
			  struct xdpctl_container *ct)
{
	bool is_pid = all_digits(what);
	struct xdpctl_container named = {}, exact;
	char abuf[INET6_ADDRSTRLEN];
	pid_t pid = 0;
	int err, r;

	if (is_pid) {
		long v = strtol(what, NULL, 10);

		if (v <= 0 || v > 0x3fffffff)
			return fail(c, "'%s' is not a process id", what);
		pid = (pid_t)v;
	} else {
		r = docker_pid(c, what, &pid, &named);
		if (r)
			return r;
	}
	err = xdpctl_discover_pid(pid, ct);
	switch (err) {
	case 0:
		break;
	case -ESRCH:
		if (is_pid)
			return fail(c, "no such process: %s", what);
		return fail(c, "container %s is not running: start it first", what);
	case -ENODEV:
		return fail(c, "no veth in %s leads to %s: is it on a bridge network here? "
			    "(for another host namespace use -n NAME)",
			    c->netns ? c->netns : "this network namespace", what);
	case -EPERM:
	case -EACCES:
		return fail(c, "cannot look into %s: needs root (CAP_SYS_ADMIN)", what);
	default:
		return fail(c, "cannot resolve container %s: %s", what, strerror(-err));
	}
	if (named.name[0] || named.id[0]) {
		snprintf(ct->name, sizeof(ct->name), "%s", named.name);
		snprintf(ct->id, sizeof(ct->id), "%s", named.id);
	}
	/* The veth of this very address: a container on two networks has two. */
	fmt_addr(addr, abuf, sizeof(abuf));
	err = xdpctl_discover_addr(pid, addr, &exact);
	if (!err) {
		snprintf(ct->veth, sizeof(ct->veth), "%s", exact.veth);
		ct->veth_ifindex = exact.veth_ifindex;
		memcpy(ct->mac, exact.mac, sizeof(ct->mac));
		snprintf(ct->netns, sizeof(ct->netns), "%s", exact.netns);
		ct->nveths = 1;
		return 0;
	}
	if (err == -EADDRNOTAVAIL && ct->nveths > 1)
		return fail(c, "%s is not an address of %s, which has %u veths here: give one of its "
			    "addresses, or 'dev VETH'", abuf, what, ct->nveths);
	if (err == -ENODEV)
		return fail(c, "%s is held by an interface of %s that has no veth in this network "
			    "namespace: give 'dev VETH'", abuf, what);
	if (err != -EADDRNOTAVAIL)
		return fail(c, "cannot resolve %s in container %s: %s", abuf, what,
			    xdpctl_dp__errmsg(NULL));
	note(c, "%s is not an address of %s's eth0; adding the rule anyway", abuf, what);
	return 0;
}

static int run_bypass_add(struct ctx *c, struct args *a)
{
	const struct xdpctl_addr *addr = &a->v[BA_ADDR].addr;
	struct xdpctl_container ct = {};
	XDPCTL_OPTS(xdpctl_bypass_opts, o);
	char abuf[INET6_ADDRSTRLEN];
	int err, r;

	fmt_addr(addr, abuf, sizeof(abuf));
	if (xdpctl_addr_special(addr))
		return fail(c, "%s is %s: a bypass rule needs a container's unicast address", abuf,
			    xdpctl_addr_special(addr));
	if (a->v[BA_CONTAINER].set) {
		r = find_container(c, a->v[BA_CONTAINER].str, addr, &ct);
		if (r)
			return r;
		o.dev = ct.veth;
		o.peer_netns = ct.netns[0] ? ct.netns : NULL;
		o.dmac = ct.mac;
		if (c->verbose) {
			char a4[INET6_ADDRSTRLEN] = "-", a6[INET6_ADDRSTRLEN] = "-", mac[18];

			if (ct.has4)
				fmt_addr(&ct.addr4, a4, sizeof(a4));
			if (ct.has6)
				fmt_addr(&ct.addr6, a6, sizeof(a6));
			note(c, "container %s: pid %d, veth %s, mac %s, addresses %s %s",
			     ct.name[0] ? ct.name : a->v[BA_CONTAINER].str, (int)ct.pid, ct.veth,
			     fmt_mac(ct.mac, mac), a4, a6);
		}
	} else {
		o.dev = a->v[BA_DEV].str;
	}
	if (a->v[BA_MAC].set)
		o.dmac = a->v[BA_MAC].mac;

	r = open_state(c, false, 0, false, NULL);
	if (r)
		return r;
	err = xdpctl_dp__bypass_add(c->dp, addr, &o);
	switch (err) {
	case 0:
		break;
	case -EEXIST:
		return fail(c, "a bypass rule for %s exists: delete it first with 'xdpctl bypass del %s'",
			    abuf, abuf);
	case -E2BIG:
	case -ENOSPC:
		return map_full(c, "bypass");
	case -ENODEV:
		return fail(c, "no such device: %s", o.dev);
	default:
		return fail_dp(c, err, abuf);
	}
	if (c->json) {
		struct xdpctl_bypass_rule rule = {};
		char mac[18];

		jw_obj_open(c->jw);
		jw_kstr(c->jw, "addr", abuf);
		jw_kstr(c->jw, "dev", o.dev);
		if (!xdpctl_dp__bypass_get(c->dp, addr, &rule)) {
			jw_ku64(c->jw, "ifindex", rule.ifindex);
			jw_kstr(c->jw, "mac", fmt_mac(rule.dmac, mac));
		}
		jw_obj_close(c->jw);
	}
	return 0;
}

/* ---- bypass del ---- */

enum { BD_ADDR };
static const struct arg_spec addr_only_args[] = {
	[BD_ADDR] = { .metavar = "ADDR", .type = ARG_ADDR, .required = true,
		      .help = "IPv4 or IPv6 address of the rule" },
	{ 0 },
};

/* Delete one rule of either kind: the same messages and JSON for both. */
static int rule_del(struct ctx *c, struct args *a, const char *what, const char *cmd,
		    int (*del)(struct xdpctl_dp *, const struct xdpctl_addr *))
{
	char abuf[INET6_ADDRSTRLEN];
	bool missing;
	int err, r;

	fmt_addr(&a->v[BD_ADDR].addr, abuf, sizeof(abuf));
	r = open_state(c, false, 0, true, &missing);
	if (r)
		return r;
	err = missing ? -ENOENT : del(c->dp, &a->v[BD_ADDR].addr);
	if (err == -ENOENT)
		return fail(c, "no %s rule for %s: see 'xdpctl %s list'", what, abuf, cmd);
	if (err)
		return fail_dp(c, err, abuf);
	if (c->json) {
		jw_obj_open(c->jw);
		jw_kstr(c->jw, "addr", abuf);
		jw_kbool(c->jw, "deleted", true);
		jw_obj_close(c->jw);
	}
	return 0;
}

static int run_bypass_del(struct ctx *c, struct args *a)
{
	return rule_del(c, a, "bypass", "bypass", xdpctl_dp__bypass_del);
}

/* Room for one more element in a growing array; NULL when out of memory. */
static void *grow(void *v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return v;
	v = realloc(v, (*cap ? *cap * 2 : 64) * size);
	if (v)
		*cap = *cap ? *cap * 2 : 64;
	return v;
}

/* ---- bypass list ---- */

struct rule_list {
	struct xdpctl_bypass_rule *v;
	size_t n, cap;
};

static int collect_bypass(const struct xdpctl_bypass_rule *r, void *ctx)
{
	struct rule_list *l = ctx;
	struct xdpctl_bypass_rule *v = grow(l->v, l->n, &l->cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	l->v[l->n++] = *r;
	return 0;
}

static int bypass_order(const void *x, const void *y)
{
	return addr_cmp(&((const struct xdpctl_bypass_rule *)x)->addr,
			&((const struct xdpctl_bypass_rule *)y)->addr);
}

/* Every rule, sorted by address; l->n == 0 when there is no state. */
static int bypass_rules(struct ctx *c, struct rule_list *l)
{
	bool missing;
	int err, r;

	memset(l, 0, sizeof(*l));
	if (!c->dp) {
		r = open_state(c, false, 0, true, &missing);
		if (r)
			return r;
		if (missing)
			return 0;
	}
	err = xdpctl_dp__bypass_for_each(c->dp, collect_bypass, l);
	if (err) {
		free(l->v);
		l->v = NULL;
		return fail_dp(c, err, "bypass rules");
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), bypass_order);
	return 0;
}

int bypass_rules_sorted(struct ctx *c, struct xdpctl_bypass_rule **out, size_t *n)
{
	struct rule_list l;
	int r = bypass_rules(c, &l);

	*out = l.v;
	*n = r ? 0 : l.n;
	return r;
}

static void bypass_head(void)
{
	printf("%-39s %-16s %7s %-17s %10s %12s %10s %12s\n", "ADDRESS", "DEVICE", "IFINDEX",
	       "MAC", "IN_PKTS", "IN_BYTES", "OUT_PKTS", "OUT_BYTES");
}

/* One bypass rule: its row, or its JSON object. */
static void bypass_show(struct ctx *c, const void *obj, bool json)
{
	const struct xdpctl_bypass_rule *r = obj;
	char abuf[INET6_ADDRSTRLEN], dmac[18], smac[18], dev[IF_NAMESIZE + 8];

	fmt_addr(&r->addr, abuf, sizeof(abuf));
	fmt_mac(r->dmac, dmac);
	if (!json) {
		snprintf(dev, sizeof(dev), "%s%s", r->dev[0] ? r->dev : "?", r->stale ? "(gone)" : "");
		printf("%-39s %-16s %7u %-17s %10llu %12llu %10llu %12llu\n", abuf, dev, r->ifindex,
		       dmac, (unsigned long long)r->in_packets, (unsigned long long)r->in_bytes,
		       (unsigned long long)r->out_packets, (unsigned long long)r->out_bytes);
		return;
	}
	jw_obj_open(c->jw);
	jw_kstr(c->jw, "addr", abuf);
	jw_kstr(c->jw, "dev", r->dev);
	jw_ku64(c->jw, "ifindex", r->ifindex);
	jw_ku64(c->jw, "mtu_bytes", r->mtu);
	jw_kstr(c->jw, "mac", dmac);
	jw_kstr(c->jw, "gateway_mac", fmt_mac(r->smac, smac));
	jw_ku64(c->jw, "in_packets", r->in_packets);
	jw_ku64(c->jw, "in_bytes", r->in_bytes);
	jw_ku64(c->jw, "out_packets", r->out_packets);
	jw_ku64(c->jw, "out_bytes", r->out_bytes);
	jw_kbool(c->jw, "stale", r->stale);
	jw_obj_close(c->jw);
}

static const struct show bypass_printer = { .head = bypass_head, .one = bypass_show };

int bypass_table(struct ctx *c, bool json)
{
	struct rule_list l;
	int r = bypass_rules(c, &l);

	if (r)
		return r;
	show_list(c, json, &bypass_printer, l.v, l.n, sizeof(*l.v));
	free(l.v);
	return 0;
}

static int run_bypass_list(struct ctx *c, struct args *a)
{
	(void)a;
	return bypass_table(c, c->json);
}

/* ---- bypass load ---- */

enum { BL_FILE };
static const struct arg_spec bypass_load_args[] = {
	[BL_FILE] = { .metavar = "FILE", .type = ARG_STRING, .required = true,
		      .help = "rules, one per line: ADDR dev VETH [mac MAC]; '#' starts a comment" },
	{ 0 },
};

/* Split a line into at most max words (in place); @return the count, or max + 1 when more. */
static int split(char *s, char **w, int max)
{
	int n = 0;

	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			return n;
		if (n == max)
			return max + 1;
		w[n++] = s;
		while (*s && !isspace((unsigned char)*s) && *s != '#')
			s++;
		if (*s == '#') {
			*s = '\0';
			return n;
		}
		if (*s)
			*s++ = '\0';
	}
}

/* An address given twice: name the first line that repeats an earlier one. */
static const struct xdpctl_bypass_rule *sort_rules;
static const unsigned int *sort_lines;

static int by_addr_line(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int d = addr_cmp(&sort_rules[a].addr, &sort_rules[b].addr);

	return d ? d : (sort_lines[a] > sort_lines[b]) - (sort_lines[a] < sort_lines[b]);
}

static int check_repeats(struct ctx *c, const char *file, const struct xdpctl_bypass_rule *rules,
			 const unsigned int *lines, size_t n)
{
	size_t *idx, i, bad = n;
	unsigned int first = 0;
	char abuf[INET6_ADDRSTRLEN];

	if (n < 2)
		return 0;
	idx = malloc(n * sizeof(*idx));
	if (!idx)
		return fail(c, "out of memory");
	for (i = 0; i < n; i++)
		idx[i] = i;
	sort_rules = rules;
	sort_lines = lines;
	qsort(idx, n, sizeof(*idx), by_addr_line);
	for (i = 1; i < n; i++) {
		if (addr_cmp(&rules[idx[i]].addr, &rules[idx[i - 1]].addr))
			continue;
		if (bad == n || lines[idx[i]] < lines[bad]) {
			bad = idx[i];
			first = lines[idx[i - 1]];
		}
	}
	free(idx);
	if (bad == n)
		return 0;
	return fail(c, "%s:%u: %s repeats line %u", file, lines[bad],
		    fmt_addr(&rules[bad].addr, abuf, sizeof(abuf)), first);
}

/*
 * Device names of one rule file, each resolved once (a 1M-line file names a
 * few veths; if_nametoindex() costs a socket per call). Open addressing on
 * the name; grows at half full.
 */
struct dev_cache {
	struct dev_slot {
		char name[IF_NAMESIZE];
		__u32 ifindex; /* 0: empty slot */
	} *slot;
	size_t mask, n;
	const struct dev_slot *last; /* consecutive lines usually name the same veth */
};

static size_t name_hash(const char *s)
{
	size_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct dev_slot *dev_cache_find(struct dev_cache *dc, const char *name)
{
	size_t i = name_hash(name) & dc->mask;

	while (dc->slot[i].ifindex && strcmp(dc->slot[i].name, name))
		i = (i + 1) & dc->mask;
	return &dc->slot[i];
}

static int dev_cache_grow(struct dev_cache *dc)
{
	struct dev_cache old = *dc;
	size_t cap = old.slot ? (old.mask + 1) * 2 : 64, i;

	dc->slot = calloc(cap, sizeof(*dc->slot));
	if (!dc->slot) {
		*dc = old;
		return -ENOMEM;
	}
	dc->mask = cap - 1;
	dc->last = NULL;
	for (i = 0; old.slot && i <= old.mask; i++)
		if (old.slot[i].ifindex)
			*dev_cache_find(dc, old.slot[i].name) = old.slot[i];
	free(old.slot);
	return 0;
}

/* The ifindex of @name (strlen < IF_NAMESIZE): 0 when no such device, -ENOMEM. */
static long dev_cache_get(struct dev_cache *dc, const char *name)
{
	struct dev_slot *s;
	__u32 ifindex;

	if (dc->last && !strcmp(dc->last->name, name))
		return dc->last->ifindex;
	if ((dc->n + 1) * 2 > (dc->slot ? dc->mask + 1 : 0) && dev_cache_grow(dc))
		return -ENOMEM;
	s = dev_cache_find(dc, name);
	if (!s->ifindex) {
		ifindex = if_nametoindex(name);
		if (!ifindex)
			return 0;
		strcpy(s->name, name);
		s->ifindex = ifindex;
		dc->n++;
	}
	dc->last = s;
	return s->ifindex;
}

/* The first of rules[0, n) whose address has a rule in the map, or n. */
static size_t first_existing(struct ctx *c, const struct xdpctl_bypass_rule *rules, size_t n)
{
	struct xdpctl_bypass_rule old;
	size_t i;

	for (i = 0; i < n; i++)
		if (!xdpctl_dp__bypass_get(c->dp, &rules[i].addr, &old))
			break;
	return i;
}

static int fail_exists(struct ctx *c, const char *file, unsigned int line,
		       const struct xdpctl_addr *addr)
{
	char abuf[INET6_ADDRSTRLEN];

	return fail(c, "%s:%u: a bypass rule for %s exists: delete it or drop the line", file, line,
		    fmt_addr(addr, abuf, sizeof(abuf)));
}

/*
 * A bad line: the first error in the file is an earlier line whose rule
 * exists, if any (as if each line were checked against the map in turn).
 */
static int __attribute__((format(printf, 6, 7)))
line_fail(struct ctx *c, const char *file, const struct xdpctl_bypass_rule *rules,
	  const unsigned int *lines, size_t n, const char *fmt, ...)
{
	size_t i = first_existing(c, rules, n);
	char msg[768];
	va_list ap;

	if (i < n)
		return fail_exists(c, file, lines[i], &rules[i].addr);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(c, "%s", msg);
}

static int run_bypass_load(struct ctx *c, struct args *a)
{
	const char *file = a->v[BL_FILE].str;
	struct xdpctl_bypass_rule *rules = NULL;
	struct dev_cache dc = {};
	unsigned int *lines = NULL;
	size_t n = 0, cap = 0, done = 0, i;
	unsigned int lineno = 0;
	char buf[1024];
	FILE *f;
	int r = 1, err;

	f = fopen(file, "re");
	if (!f)
		return fail(c, "%s: %s", file, strerror(errno));
	r = open_state(c, false, 0, false, NULL);
	if (r)
		goto out;
	r = 1;

	/*
	 * The whole file is checked before any rule is stored. Errors are
	 * reported for the first line in the file that has one, as if each
	 * line were checked against the map in turn; that check (a rule for
	 * the address exists, or an earlier line has it) is left to the
	 * library's bulk load, which makes it once for all rules before
	 * storing anything, and only its refusal is traced back to a line.
	 */
	while (fgets(buf, sizeof(buf), f)) {
		struct xdpctl_bypass_rule *rule;
		char *w[6];
		size_t len;
		long ifindex;
		int nw;

		lineno++;
		if (!strchr(buf, '\n') && !feof(f)) {
			line_fail(c, file, rules, lines, n, "%s:%u: line longer than %zu characters",
				  file, lineno, sizeof(buf) - 2);
			goto out;
		}
		nw = split(buf, w, 5);
		if (!nw)
			continue;
		if ((nw != 3 && nw != 5) || strcmp(w[1], "dev") || (nw == 5 && strcmp(w[3], "mac"))) {
			line_fail(c, file, rules, lines, n, "%s:%u: expected 'ADDR dev VETH [mac MAC]'",
				  file, lineno);
			goto out;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			void *nr = realloc(rules, ncap * sizeof(*rules));
			void *nl;

			if (!nr) {
				fail(c, "out of memory");
				goto out;
			}
			rules = nr;
			nl = realloc(lines, ncap * sizeof(*lines));
			if (!nl) {
				fail(c, "out of memory");
				goto out;
			}
			lines = nl;
			cap = ncap;
		}
		rule = &rules[n];
		memset(rule, 0, sizeof(*rule));
		if (xdpctl_addr_parse(w[0], &rule->addr)) {
			line_fail(c, file, rules, lines, n, "%s:%u: %s: not an IPv4 or IPv6 address",
				  file, lineno, w[0]);
			goto out;
		}
		if (xdpctl_addr_special(&rule->addr)) {
			line_fail(c, file, rules, lines, n,
				  "%s:%u: %s is %s: a bypass rule needs a container's unicast address",
				  file, lineno, w[0], xdpctl_addr_special(&rule->addr));
			goto out;
		}
		len = strlen(w[2]);
		ifindex = len < IF_NAMESIZE ? dev_cache_get(&dc, w[2]) : 0;
		if (ifindex < 0) {
			fail(c, "out of memory");
			goto out;
		}
		if (!ifindex) {
			line_fail(c, file, rules, lines, n, "%s:%u: no such device: %s", file, lineno,
				  w[2]);
			goto out;
		}
		rule->ifindex = ifindex;
		memcpy(rule->dev, w[2], len + 1);
		if (nw == 5) {
			if (xdpctl_mac_parse(w[4], rule->dmac)) {
				line_fail(c, file, rules, lines, n,
					  "%s:%u: %s: not a MAC address (expected aa:bb:cc:dd:ee:ff)",
					  file, lineno, w[4]);
				goto out;
			}
		}
		/* no MAC given: zero, the library takes the veth peer's as 'bypass add' does */
		lines[n++] = lineno;
	}
	if (ferror(f)) {
		fail(c, "%s: %s", file, strerror(errno));
		goto out;
	}

	err = n ? xdpctl_dp__bypass_load(c->dp, rules, n, &done) : 0;
	if (err) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", xdpctl_dp__errmsg(c->dp) ? xdpctl_dp__errmsg(c->dp) : "");
		/* A failed load stored nothing: the library took back, under its lock,
		 * whatever it stored before the kernel refused a batch. */
		if (err == -EEXIST && !done) {
			/* Which line: a rule in the map first, else a repeat in the file. */
			i = first_existing(c, rules, n);
			if (i < n)
				r = fail_exists(c, file, lines[i], &rules[i].addr);
			else if (check_repeats(c, file, rules, lines, n))
				r = 1;
			else
				r = fail(c, "%s: %s: nothing loaded", file, *msg ? msg : strerror(-err));
		} else if (err == -E2BIG || err == -ENOSPC) {
			r = fail(c, "%s: the bypass map has no room for %zu more rules: nothing loaded",
				 file, n);
		} else {
			r = fail(c, "%s: %s: nothing loaded", file, *msg ? msg : strerror(-err));
		}
		goto out;
	}
	if (c->json) {
		jw_obj_open(c->jw);
		jw_kstr(c->jw, "file", file);
		jw_ku64(c->jw, "rules", n);
		jw_obj_close(c->jw);
	} else {
		printf("%s: loaded %zu bypass rules\n", file, n);
	}
	r = 0;
out:
	fclose(f);
	free(rules);
	free(lines);
	free(dc.slot);
	return r;
}

static const struct cmd bypass_cmds[] = {
	{ .name = "add", .run = run_bypass_add, .args = bypass_add_args, .flags = CMD_PRIV,
	  .summary = "Deliver packets for ADDR from the uplink straight into a container's veth.",
	  .details = "The container is named by its host-side veth (dev VETH, in this namespace or\n"
		     "the one of -n) or found with --container: a Docker name or id (Engine API\n"
		     "on $DOCKER_HOST or /var/run/docker.sock) or a process id in its namespace." },
	{ .name = "del", .alias = "delete", .run = run_bypass_del, .args = addr_only_args,
	  .flags = CMD_PRIV, .summary = "Delete the bypass rule for ADDR." },
	{ .name = "list", .alias = "show", .run = run_bypass_list, .flags = CMD_PRIV,
	  .summary = "List the bypass rules with their counters.",
	  .details = "IN: uplink to container; OUT: container to uplink (return path).\n"
		     "Devices are named as seen in this namespace, or the one of -n: a rule\n"
		     "whose veth is not there shows as ?(gone)." },
	{ .name = "load", .run = run_bypass_load, .args = bypass_load_args, .flags = CMD_PRIV,
	  .summary = "Add many bypass rules from a file at once (all or none).",
	  .details = "The whole file is checked first; an error names FILE:LINE and nothing is\n"
		     "stored. Example line: 198.19.0.3 dev veth1 mac 02:00:00:00:00:03" },
	{ 0 },
};

const struct cmd cmd_bypass = {
	.name = "bypass", .sub = bypass_cmds,
	.summary = "Bypass rules: packets for a container's address skip the host's stack.",
};

/* ---- ping-pong ---- */

static const char *const hook_choices[] = { "both", "xdp", "tc", NULL };
enum { HOOK_BOTH, HOOK_XDP, HOOK_TC };

enum { PA_ADDR, PA_HOOK };
static const struct arg_spec pingpong_add_args[] = {
	[PA_ADDR] = { .metavar = "ADDR", .type = ARG_ADDR, .required = true,
		      .help = "IPv4 or IPv6 address to answer echo requests for" },
	[PA_HOOK] = { .name = "--hook", .type = ARG_ENUM, .choices = hook_choices,
		      .help = "which program answers (default both)" },
	{ 0 },
};

static const char *hooks_name(__u32 hooks)
{
	bool x = hooks & XDPCTL_HOOKBIT_XDP, t = hooks & XDPCTL_HOOKBIT_TC;

	return x && t ? "both" : x ? "xdp" : t ? "tc" : "none";
}

static int run_pingpong_add(struct ctx *c, struct args *a)
{
	__u32 hooks = XDPCTL_HOOKBIT_XDP | XDPCTL_HOOKBIT_TC;
	char abuf[INET6_ADDRSTRLEN];
	int err, r;

	if (a->v[PA_HOOK].set && a->v[PA_HOOK].choice == HOOK_XDP)
		hooks = XDPCTL_HOOKBIT_XDP;
	else if (a->v[PA_HOOK].set && a->v[PA_HOOK].choice == HOOK_TC)
		hooks = XDPCTL_HOOKBIT_TC;
	fmt_addr(&a->v[PA_ADDR].addr, abuf, sizeof(abuf));
	if (xdpctl_addr_special(&a->v[PA_ADDR].addr))
		return fail(c, "%s is %s: ping-pong answers unicast addresses only (a reply "
			    "would be broadcast)", abuf, xdpctl_addr_special(&a->v[PA_ADDR].addr));
	r = open_state(c, false, 0, false, NULL);
	if (r)
		return r;
	err = xdpctl_dp__pingpong_add(c->dp, &a->v[PA_ADDR].addr, hooks);
	switch (err) {
	case 0:
		break;
	case -EEXIST:
		return fail(c, "a ping-pong rule for %s exists: delete it first with "
			    "'xdpctl pingpong del %s'", abuf, abuf);
	case -E2BIG:
	case -ENOSPC:
		return map_full(c, "ping-pong");
	default:
		return fail_dp(c, err, abuf);
	}
	if (c->json) {
		jw_obj_open(c->jw);
		jw_kstr(c->jw, "addr", abuf);
		jw_kstr(c->jw, "hooks", hooks_name(hooks));
		jw_obj_close(c->jw);
	}
	return 0;
}

static int run_pingpong_del(struct ctx *c, struct args *a)
{
	return rule_del(c, a, "ping-pong", "pingpong", xdpctl_dp__pingpong_del);
}

struct pp_list {
	struct xdpctl_pingpong_rule *v;
	size_t n, cap;
};

static int collect_pp(const struct xdpctl_pingpong_rule *r, void *ctx)
{
	struct pp_list *l = ctx;
	struct xdpctl_pingpong_rule *v = grow(l->v, l->n, &l->cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	l->v[l->n++] = *r;
	return 0;
}

static int pp_order(const void *x, const void *y)
{
	return addr_cmp(&((const struct xdpctl_pingpong_rule *)x)->addr,
			&((const struct xdpctl_pingpong_rule *)y)->addr);
}

static void pingpong_head(void)
{
	printf("%-39s %-5s %12s %12s\n", "ADDRESS", "HOOKS", "REPLY_PKTS", "REPLY_BYTES");
}

/* One ping-pong rule: its row, or its JSON object. */
static void pingpong_show(struct ctx *c, const void *obj, bool json)
{
	const struct xdpctl_pingpong_rule *r = obj;
	char abuf[INET6_ADDRSTRLEN];

	fmt_addr(&r->addr, abuf, sizeof(abuf));
	if (!json) {
		printf("%-39s %-5s %12llu %12llu\n", abuf, hooks_name(r->hooks),
		       (unsigned long long)r->packets, (unsigned long long)r->bytes);
		return;
	}
	jw_obj_open(c->jw);
	jw_kstr(c->jw, "addr", abuf);
	jw_kstr(c->jw, "hooks", hooks_name(r->hooks));
	jw_ku64(c->jw, "reply_packets", r->packets);
	jw_ku64(c->jw, "reply_bytes", r->bytes);
	jw_obj_close(c->jw);
}

static const struct show pingpong_printer = { .head = pingpong_head, .one = pingpong_show };

int pingpong_rules_sorted(struct ctx *c, struct xdpctl_pingpong_rule **out, size_t *n)
{
	struct pp_list l = {};
	bool missing = false;
	int err, r;

	*out = NULL;
	*n = 0;
	if (!c->dp) {
		r = open_state(c, false, 0, true, &missing);
		if (r)
			return r;
		if (missing)
			return 0;
	}
	err = xdpctl_dp__pingpong_for_each(c->dp, collect_pp, &l);
	if (err) {
		free(l.v);
		return fail_dp(c, err, "ping-pong rules");
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), pp_order);
	*out = l.v;
	*n = l.n;
	return 0;
}

int pingpong_table(struct ctx *c, bool json)
{
	struct xdpctl_pingpong_rule *v;
	size_t n;
	int r = pingpong_rules_sorted(c, &v, &n);

	if (r)
		return r;
	show_list(c, json, &pingpong_printer, v, n, sizeof(*v));
	free(v);
	return 0;
}

static int run_pingpong_list(struct ctx *c, struct args *a)
{
	(void)a;
	return pingpong_table(c, c->json);
}

static const struct cmd pingpong_cmds[] = {
	{ .name = "add", .run = run_pingpong_add, .args = pingpong_add_args, .flags = CMD_PRIV,
	  .summary = "Answer ICMP/ICMPv6 echo requests for ADDR in the kernel hook.",
	  .details = "xdp: the XDP program replies with XDP_TX (engine xdp); tc: the tc ingress\n"
		     "program replies (both engines attach it)." },
	{ .name = "del", .alias = "delete", .run = run_pingpong_del, .args = addr_only_args,
	  .flags = CMD_PRIV, .summary = "Stop answering for ADDR." },
	{ .name = "list", .alias = "show", .run = run_pingpong_list, .flags = CMD_PRIV,
	  .summary = "List the ping-pong addresses with their reply counters." },
	{ 0 },
};

const struct cmd cmd_pingpong = {
	.name = "pingpong", .sub = pingpong_cmds,
	.summary = "Ping-pong addresses: echo requests answered at the hook.",
};
