// SPDX-License-Identifier: GPL-2.0-only
/*
 * The watcher that keeps the container table true: every running
 * container's addresses, on every network, bypassed to the veth whose peer
 * holds that address (and answered by ping-pong when the container asks by
 * label); reconciled in full at start and at every (re)connect to the
 * daemon, then per container on Engine API events and netlink link changes.
 *
 * Ownership: a map pinned beside the state (XDPCTL_MAP_OWNER) records each
 * rule the watcher added: address and kind -> container id, veth ifindex
 * and MAC (bypass) or hooks (ping-pong). A rule is the watcher's while the
 * rule and its record agree; a rule without a matching record is a user's
 * and is left alone. Because the record is pinned, a watcher killed with
 * -9 and started again knows what it owns.
 */
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>

#include "docker_int.h"

#define OWNER_MAX        65536
#define NETCACHE_MAX     256
#define QUEUE_MAX        4096
#define RESYNC_DEFAULT_S 300
#define BACKOFF_MIN_MS   200
#define BACKOFF_MAX_MS   5000
#define PENDING_RETRY_MS 2000
#define WANTS_MAX        (XDPCTL_DOCKER_NETS_MAX * 4)

enum { OWN_BYPASS = 1, OWN_PINGPONG = 2 };

struct owner_key {
	struct xdpctl_addr addr;
	__u32 kind;              /* OWN_* */
};

struct owner_val {
	char id[72];             /* container id */
	char name[64];           /* container name, for the change lines */
	__u32 ifindex;           /* bypass: the veth */
	__u32 hooks;             /* ping-pong: XDPCTL_HOOKBIT_* */
	__u8 mac[6];             /* bypass: the container MAC */
	__u8 pad[2];
};

struct want {
	struct owner_key key;
	char dev[IF_NAMESIZE];
	__u32 ifindex;
	__u8 mac[6];
	__u32 hooks;
	char netns[256];
};

struct idlist {
	char (*v)[72];
	size_t n, cap;
};

struct netcache {
	char id[72];
	bool opt_out;
};

struct xdpctl_watch {
	struct xdpctl_dp *dp;
	struct xdpctl_docker *dk;
	char label[256];
	unsigned int resync_s;
	xdpctl_watch_cb cb;
	void *cb_ctx;
	bool report_keep;
	char errmsg[512];
	int owner_fd;
	int nl_fd;
	struct xdpctl_watch_stats st;
	struct netcache nets[NETCACHE_MAX];
	size_t nnets;
	struct idlist queue;     /* containers to reconcile */
	struct idlist pending;   /* containers with an address not resolved yet */
	bool resync;             /* a full reconcile is due */
	__u64 since_ns;          /* checkpoint of the event stream */
	struct xdpctl_docker_ctr ctr;
	struct want wants[WANTS_MAX];
};

static int w_err(struct xdpctl_watch *w, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int w_err(struct xdpctl_watch *w, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
	va_end(ap);
	dp_log(XDPCTL_LOG_DEBUG, "watch: %s\n", w->errmsg);
	return dp_ret(err);
}

const char *xdpctl_watch__errmsg(const struct xdpctl_watch *w)
{
	return w ? w->errmsg : "";
}

static void stat_add(__u64 *c, __u64 n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

void xdpctl_watch__stats(const struct xdpctl_watch *w, struct xdpctl_watch_stats *out)
{
	const struct xdpctl_watch_stats *s = &w->st;

	out->events = __atomic_load_n(&s->events, __ATOMIC_RELAXED);
	out->link_events = __atomic_load_n(&s->link_events, __ATOMIC_RELAXED);
	out->reconciles = __atomic_load_n(&s->reconciles, __ATOMIC_RELAXED);
	out->added = __atomic_load_n(&s->added, __ATOMIC_RELAXED);
	out->removed = __atomic_load_n(&s->removed, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&s->errors, __ATOMIC_RELAXED);
	out->reconnects = __atomic_load_n(&s->reconnects, __ATOMIC_RELAXED);
	out->entries = __atomic_load_n(&s->entries, __ATOMIC_RELAXED);
	out->connected = __atomic_load_n(&s->connected, __ATOMIC_RELAXED);
}

int xdpctl_watch__metrics_write(FILE *f, void *arg)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} m[] = {
		{ "xdpctl_watch_events_total", "counter", "Docker Engine API events handled",
		  offsetof(struct xdpctl_watch_stats, events) },
		{ "xdpctl_watch_link_events_total", "counter", "netlink link changes that mattered",
		  offsetof(struct xdpctl_watch_stats, link_events) },
		{ "xdpctl_watch_reconciles_total", "counter", "full reconciles",
		  offsetof(struct xdpctl_watch_stats, reconciles) },
		{ "xdpctl_watch_rules_added_total", "counter", "rules the watcher added",
		  offsetof(struct xdpctl_watch_stats, added) },
		{ "xdpctl_watch_rules_removed_total", "counter", "rules the watcher removed",
		  offsetof(struct xdpctl_watch_stats, removed) },
		{ "xdpctl_watch_errors_total", "counter", "rules that could not be resolved or written",
		  offsetof(struct xdpctl_watch_stats, errors) },
		{ "xdpctl_watch_reconnects_total", "counter", "event stream reopened after a loss",
		  offsetof(struct xdpctl_watch_stats, reconnects) },
		{ "xdpctl_watch_rules", "gauge", "rules the watcher owns",
		  offsetof(struct xdpctl_watch_stats, entries) },
	};
	struct xdpctl_watch_stats st;
	size_t i;

	if (!f || !arg)
		return -EINVAL;
	xdpctl_watch__stats(arg, &st);
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", m[i].name, m[i].help, m[i].name,
			m[i].type, m[i].name,
			(unsigned long long)*(const __u64 *)((const char *)&st + m[i].off));
	fprintf(f, "# HELP xdpctl_watch_docker_connected 1 while the event stream is open\n"
		   "# TYPE xdpctl_watch_docker_connected gauge\nxdpctl_watch_docker_connected %d\n",
		st.connected ? 1 : 0);
	return ferror(f) ? -EIO : 0;
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static __u64 wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* ---- id lists ---- */

static bool ids_has(const struct idlist *l, const char *id)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], id))
			return true;
	return false;
}

static int ids_add(struct idlist *l, const char *id)
{
	if (ids_has(l, id))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *v;

		if (cap > QUEUE_MAX)
			return -E2BIG;
		v = realloc(l->v, cap * sizeof(*l->v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	snprintf(l->v[l->n++], sizeof(l->v[0]), "%s", id);
	return 0;
}

static void ids_del(struct idlist *l, const char *id)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], id))
			continue;
		memmove(l->v[i], l->v[l->n - 1], sizeof(l->v[0]));
		l->n--;
		return;
	}
}

/* ---- the owner map ---- */

static int owner_check(struct xdpctl_watch *w, int fd, const char *path)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return w_err(w, -errno, "%s: %s", path, strerror(errno));
	if (info.type != BPF_MAP_TYPE_HASH || info.key_size != sizeof(struct owner_key) ||
	    info.value_size != sizeof(struct owner_val))
		return w_err(w, -EEXIST, "%s has another layout (an older xdpctl?)", path);
	return 0;
}

static int owner_open(struct xdpctl_watch *w)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
	char path[PATH_MAX];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", xdpctl_dp__pin_dir(w->dp), XDPCTL_MAP_OWNER);
	err = dp_lock(w->dp);
	if (err)
		return w_err(w, err, "%s", xdpctl_dp__errmsg(w->dp));
	fd = bpf_obj_get(path);
	if (fd < 0 && errno == ENOENT) {
		fd = bpf_map_create(BPF_MAP_TYPE_HASH, XDPCTL_MAP_OWNER, sizeof(struct owner_key),
				    sizeof(struct owner_val), OWNER_MAX, &mo);
		if (fd < 0) {
			err = w_err(w, -errno, "creating map %s: %s", XDPCTL_MAP_OWNER, strerror(errno));
		} else if (bpf_obj_pin(fd, path)) {
			err = w_err(w, -errno, "pinning %s: %s", path, strerror(errno));
			close(fd);
			fd = -1;
		}
	} else if (fd < 0) {
		err = w_err(w, -errno, "%s: %s", path, strerror(errno));
	}
	dp_unlock(w->dp);
	if (err)
		return err;
	err = owner_check(w, fd, path);
	if (err) {
		close(fd);
		return err;
	}
	w->owner_fd = fd;
	return 0;
}

static int owner_get(struct xdpctl_watch *w, const struct owner_key *k, struct owner_val *v)
{
	return bpf_map_lookup_elem(w->owner_fd, k, v) ? -errno : 0;
}

/* Every record: cb returns non-zero to stop. Keys are read first, so cb may delete. */
static int owner_walk(struct xdpctl_watch *w,
		      int (*cb)(struct xdpctl_watch *w, const struct owner_key *k,
				const struct owner_val *v, void *ctx),
		      void *ctx)
{
	struct owner_key *keys = NULL, k, *prev = NULL;
	struct owner_val v;
	size_t n = 0, cap = 0, i;
	int err = 0;

	while (!bpf_map_get_next_key(w->owner_fd, prev, &k)) {
		if (n == cap) {
			void *nk;

			cap = cap ? cap * 2 : 64;
			nk = realloc(keys, cap * sizeof(*keys));
			if (!nk) {
				free(keys);
				return -ENOMEM;
			}
			keys = nk;
		}
		keys[n] = k;
		prev = &keys[n++];
		if (n > OWNER_MAX)
			break;
	}
	for (i = 0; i < n && !err; i++)
		if (!owner_get(w, &keys[i], &v))
			err = cb(w, &keys[i], &v, ctx);
	free(keys);
	return err < 0 ? err : 0;
}

static int count_cb(struct xdpctl_watch *w, const struct owner_key *k, const struct owner_val *v,
		    void *ctx)
{
	(void)w, (void)k, (void)v;
	(*(__u64 *)ctx)++;
	return 0;
}

static void owner_count(struct xdpctl_watch *w)
{
	__u64 n = 0;

	owner_walk(w, count_cb, &n);
	__atomic_store_n(&w->st.entries, n, __ATOMIC_RELAXED);
}

/* ---- one ping-pong rule (the API has a walk, no single get) ---- */

struct pp_find {
	const struct xdpctl_addr *a;
	__u32 hooks;
	bool found;
};

static int pp_find_cb(const struct xdpctl_pingpong_rule *r, void *ctx)
{
	struct pp_find *f = ctx;

	if (memcmp(&r->addr, f->a, sizeof(r->addr)))
		return 0;
	f->hooks = r->hooks;
	f->found = true;
	return 1;
}

static int pp_get(struct xdpctl_watch *w, const struct xdpctl_addr *a, __u32 *hooks)
{
	struct pp_find f = { .a = a };
	int err = xdpctl_dp__pingpong_for_each(w->dp, pp_find_cb, &f);

	if (err < 0)
		return err;
	if (!f.found)
		return -ENOENT;
	*hooks = f.hooks;
	return 0;
}

/* ---- reporting ---- */

static void report(struct xdpctl_watch *w, enum xdpctl_watch_action act, bool pingpong,
		   const struct xdpctl_addr *a, const char *dev, __u32 ifindex, const __u8 *mac,
		   __u32 hooks, const char *ctr, const char *msg)
{
	struct xdpctl_watch_change ch = { .action = act, .pingpong = pingpong, .ifindex = ifindex,
					  .hooks = hooks, .msg = msg };

	if (act == XDPCTL_WATCH_ADD)
		stat_add(&w->st.added, 1);
	else if (act == XDPCTL_WATCH_DEL)
		stat_add(&w->st.removed, 1);
	else if (act == XDPCTL_WATCH_ERROR)
		stat_add(&w->st.errors, 1);
	if (act == XDPCTL_WATCH_KEEP && !w->report_keep)
		return;
	if (!w->cb)
		return;
	if (a)
		ch.addr = *a;
	if (dev)
		snprintf(ch.dev, sizeof(ch.dev), "%s", dev);
	if (mac)
		memcpy(ch.mac, mac, 6);
	if (ctr)
		snprintf(ch.container, sizeof(ch.container), "%s", ctr);
	w->cb(&ch, w->cb_ctx);
}

static void report_docker(struct xdpctl_watch *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void report_docker(struct xdpctl_watch *w, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(w, XDPCTL_WATCH_DOCKER, false, NULL, NULL, 0, NULL, 0, NULL, msg);
}

static const char *short_name(const struct xdpctl_docker_ctr *c, const char *id)
{
	return c && c->name[0] ? c->name : id;
}

/* ---- what a container should have ---- */

/* Per-network opt-out by label, cached by network id (a network's labels never change). */
static bool net_opted_out(struct xdpctl_watch *w, const struct xdpctl_docker_net *n)
{
	bool out = false;
	size_t i;
	int err;

	if (!n->id[0])
		return false;
	for (i = 0; i < w->nnets; i++)
		if (!strcmp(w->nets[i].id, n->id))
			return w->nets[i].opt_out;
	err = xdpctl_docker__network_opt_out(w->dk, n->id, &out);
	if (err)
		return false; /* gone meanwhile, or unreadable: its addresses decide */
	if (w->nnets == NETCACHE_MAX)
		w->nnets = 0;
	snprintf(w->nets[w->nnets].id, sizeof(w->nets[0].id), "%s", n->id);
	w->nets[w->nnets++].opt_out = out;
	return out;
}

/*
 * Fill w->wants for container @c (NULL: gone). *unresolved: an address
 * whose veth was not found (retried on the next link change).
 */
static size_t compute_wants(struct xdpctl_watch *w, const struct xdpctl_docker_ctr *c,
			    bool *unresolved)
{
	size_t n = 0;
	unsigned int i, f;

	*unresolved = false;
	if (!c || !c->running || !c->pid || !c->label_match || c->opt_out)
		return 0;
	for (i = 0; i < c->nnets; i++) {
		const struct xdpctl_docker_net *net = &c->nets[i];

		if (net_opted_out(w, net))
			continue;
		for (f = 0; f < 2; f++) {
			const struct xdpctl_addr *a = f ? &net->addr6 : &net->addr4;
			struct xdpctl_container ct;
			char abuf[INET6_ADDRSTRLEN], msg[640];
			int err;

			if (!(f ? net->has6 : net->has4) || n + 2 > WANTS_MAX)
				continue;
			err = xdpctl_discover_addr(c->pid, a, &ct);
			if (err == -ESRCH) {
				/* it died after the inspect: its die event follows */
				dp_log(XDPCTL_LOG_DEBUG, "watch: %s exited meanwhile\n", c->name);
				return 0;
			} else if (err) {
				xdpctl_addr_format(a, abuf, sizeof(abuf));
				snprintf(msg, sizeof(msg), "%s on network %s: %s", abuf, net->name,
					 xdpctl_dp__errmsg(NULL));
				report(w, XDPCTL_WATCH_ERROR, false, a, NULL, 0, NULL, 0,
				       short_name(c, c->id), msg);
				*unresolved = true;
			} else {
				struct want *wt = &w->wants[n++];

				memset(wt, 0, sizeof(*wt));
				wt->key.addr = *a;
				wt->key.kind = OWN_BYPASS;
				snprintf(wt->dev, sizeof(wt->dev), "%s", ct.veth);
				wt->ifindex = ct.veth_ifindex;
				memcpy(wt->mac, ct.mac, 6);
				snprintf(wt->netns, sizeof(wt->netns), "%s", ct.netns);
			}
			if (c->pingpong_hooks) {
				struct want *wt = &w->wants[n++];

				memset(wt, 0, sizeof(*wt));
				wt->key.addr = *a;
				wt->key.kind = OWN_PINGPONG;
				wt->hooks = c->pingpong_hooks;
			}
		}
	}
	return n;
}

/* ---- applying ---- */

static bool bypass_matches(const struct xdpctl_bypass_rule *r, const struct owner_val *v)
{
	return r->ifindex == v->ifindex && !memcmp(r->dmac, v->mac, 6);
}

/* Remove what record @k/@v stands for, if the rule still is the watcher's; then the record. */
static int drop_owned(struct xdpctl_watch *w, const struct owner_key *k, const struct owner_val *v,
		      void *ctx)
{
	const char *who = ctx ? ctx : v->name[0] ? v->name : v->id;
	struct xdpctl_bypass_rule r;
	__u32 hooks;
	int err;

	if (k->kind == OWN_BYPASS) {
		if (!xdpctl_dp__bypass_get(w->dp, &k->addr, &r) && bypass_matches(&r, v)) {
			err = xdpctl_dp__bypass_del(w->dp, &k->addr);
			if (err && err != -ENOENT)
				report(w, XDPCTL_WATCH_ERROR, false, &k->addr, r.dev, r.ifindex,
				       r.dmac, 0, who, xdpctl_dp__errmsg(w->dp));
			else if (!err)
				report(w, XDPCTL_WATCH_DEL, false, &k->addr, r.dev, r.ifindex, r.dmac,
				       0, who, NULL);
		}
	} else if (k->kind == OWN_PINGPONG) {
		if (!pp_get(w, &k->addr, &hooks) && hooks == v->hooks) {
			err = xdpctl_dp__pingpong_del(w->dp, &k->addr);
			if (err && err != -ENOENT)
				report(w, XDPCTL_WATCH_ERROR, true, &k->addr, NULL, 0, NULL, hooks, who,
				       xdpctl_dp__errmsg(w->dp));
			else if (!err)
				report(w, XDPCTL_WATCH_DEL, true, &k->addr, NULL, 0, NULL, hooks, who,
				       NULL);
		}
	}
	bpf_map_delete_elem(w->owner_fd, k);
	return 0;
}

static void record(struct xdpctl_watch *w, const struct want *wt, const char *id,
		   const char *who)
{
	struct owner_val v = { .ifindex = wt->ifindex, .hooks = wt->hooks };

	snprintf(v.id, sizeof(v.id), "%s", id);
	snprintf(v.name, sizeof(v.name), "%s", who);
	memcpy(v.mac, wt->mac, 6);
	if (bpf_map_update_elem(w->owner_fd, &wt->key, &v, BPF_ANY))
		dp_log(XDPCTL_LOG_WARN, "watch: cannot record a rule in %s: %s\n", XDPCTL_MAP_OWNER,
		       strerror(errno));
}

/* Did the container's netns or its veth vanish (a race with rm -f, not an error)? */
static bool gone_meanwhile(const struct want *wt)
{
	return (wt->netns[0] && access(wt->netns, F_OK)) || !if_nametoindex(wt->dev);
}

static void add_want(struct xdpctl_watch *w, const struct want *wt, const char *id,
		     const char *who)
{
	int err;

	if (wt->key.kind == OWN_BYPASS) {
		XDPCTL_OPTS(xdpctl_bypass_opts, o, .dev = wt->dev, .dmac = wt->mac,
			    .peer_netns = wt->netns[0] ? wt->netns : NULL);

		err = xdpctl_dp__bypass_add(w->dp, &wt->key.addr, &o);
		if (err && gone_meanwhile(wt)) {
			/* the container is going away (rm -f, die): its events follow */
			dp_log(XDPCTL_LOG_DEBUG, "watch: %s went away while its rule was added: %s\n",
			       who, xdpctl_dp__errmsg(w->dp));
			ids_add(&w->pending, id);
			return;
		}
		if (err) {
			report(w, XDPCTL_WATCH_ERROR, false, &wt->key.addr, wt->dev, wt->ifindex,
			       wt->mac, 0, who, xdpctl_dp__errmsg(w->dp));
			return;
		}
		record(w, wt, id, who);
		report(w, XDPCTL_WATCH_ADD, false, &wt->key.addr, wt->dev, wt->ifindex, wt->mac, 0,
		       who, NULL);
	} else {
		err = xdpctl_dp__pingpong_add(w->dp, &wt->key.addr, wt->hooks);
		if (err) {
			report(w, XDPCTL_WATCH_ERROR, true, &wt->key.addr, NULL, 0, NULL, wt->hooks,
			       who, xdpctl_dp__errmsg(w->dp));
			return;
		}
		record(w, wt, id, who);
		report(w, XDPCTL_WATCH_ADD, true, &wt->key.addr, NULL, 0, NULL, wt->hooks, who,
		       NULL);
	}
}

static void apply_want(struct xdpctl_watch *w, const struct want *wt, const char *id,
		       const char *who)
{
	struct owner_val v;
	bool owned, rec = !owner_get(w, &wt->key, &v);
	struct xdpctl_bypass_rule r;
	__u32 hooks = 0;
	int err;

	if (wt->key.kind == OWN_BYPASS) {
		err = xdpctl_dp__bypass_get(w->dp, &wt->key.addr, &r);
		if (err == -ENOENT) {
			if (rec)
				bpf_map_delete_elem(w->owner_fd, &wt->key);
			add_want(w, wt, id, who);
			return;
		}
		if (err) {
			report(w, XDPCTL_WATCH_ERROR, false, &wt->key.addr, wt->dev, 0, NULL, 0, who,
			       xdpctl_dp__errmsg(w->dp));
			return;
		}
		owned = rec && bypass_matches(&r, &v);
		if (!owned) {
			if (rec)
				bpf_map_delete_elem(w->owner_fd, &wt->key);
			report(w, XDPCTL_WATCH_FOREIGN, false, &wt->key.addr, r.dev, r.ifindex, r.dmac,
			       0, who, "a rule added by hand holds this address: left alone");
			return;
		}
		if (r.ifindex == wt->ifindex && !memcmp(r.dmac, wt->mac, 6) && !r.stale) {
			if (strcmp(v.id, id))
				record(w, wt, id, who);
			report(w, XDPCTL_WATCH_KEEP, false, &wt->key.addr, r.dev, r.ifindex, r.dmac,
			       0, who, NULL);
			return;
		}
		/* the container moved to another veth (restart) or changed MAC: replace */
		drop_owned(w, &wt->key, &v, (void *)who);
		add_want(w, wt, id, who);
		return;
	}
	err = pp_get(w, &wt->key.addr, &hooks);
	if (err == -ENOENT) {
		if (rec)
			bpf_map_delete_elem(w->owner_fd, &wt->key);
		add_want(w, wt, id, who);
		return;
	}
	if (err) {
		report(w, XDPCTL_WATCH_ERROR, true, &wt->key.addr, NULL, 0, NULL, wt->hooks, who,
		       xdpctl_dp__errmsg(w->dp));
		return;
	}
	owned = rec && hooks == v.hooks;
	if (!owned) {
		if (rec)
			bpf_map_delete_elem(w->owner_fd, &wt->key);
		report(w, XDPCTL_WATCH_FOREIGN, true, &wt->key.addr, NULL, 0, NULL, hooks, who,
		       "a ping-pong rule added by hand holds this address: left alone");
		return;
	}
	if (hooks == wt->hooks) {
		if (strcmp(v.id, id))
			record(w, wt, id, who);
		report(w, XDPCTL_WATCH_KEEP, true, &wt->key.addr, NULL, 0, NULL, hooks, who, NULL);
		return;
	}
	drop_owned(w, &wt->key, &v, (void *)who);
	add_want(w, wt, id, who);
}

struct unwanted_ctx {
	const char *id;
	const char *who;
	const struct want *wants;
	size_t n;
};

/* Records of container ctx->id that it no longer wants. */
static int unwanted_cb(struct xdpctl_watch *w, const struct owner_key *k, const struct owner_val *v,
		       void *ctx)
{
	struct unwanted_ctx *u = ctx;
	size_t i;

	if (strcmp(v->id, u->id))
		return 0;
	for (i = 0; i < u->n; i++)
		if (!memcmp(&u->wants[i].key, k, sizeof(*k)))
			return 0;
	return drop_owned(w, k, v, (void *)u->who);
}

/* Make the table hold exactly what container @id wants (@c NULL: it is gone). */
static void reconcile_ctr(struct xdpctl_watch *w, const char *id, const struct xdpctl_docker_ctr *c)
{
	struct unwanted_ctx u = { .id = id, .who = short_name(c, id), .wants = w->wants };
	bool unresolved;
	size_t i;

	u.n = compute_wants(w, c, &unresolved);
	if (unresolved)
		ids_add(&w->pending, id);
	else
		ids_del(&w->pending, id);
	owner_walk(w, unwanted_cb, &u);
	for (i = 0; i < u.n; i++)
		apply_want(w, &w->wants[i], id, u.who);
}

/* Inspect @id and reconcile it; -ECONNREFUSED etc. when Docker cannot be asked. */
static int reconcile_id(struct xdpctl_watch *w, const char *id)
{
	int err = xdpctl_docker__inspect(w->dk, id, w->label, &w->ctr);

	if (err == -ENOENT) {
		reconcile_ctr(w, id, NULL);
		return 0;
	}
	if (err)
		return err;
	/* events name containers by id; records too */
	reconcile_ctr(w, w->ctr.id, &w->ctr);
	return 0;
}

static int list_cb(const char *id, void *ctx)
{
	return ids_add(ctx, id);
}

struct gone_ctx {
	const struct idlist *running;
};

static int gone_cb(struct xdpctl_watch *w, const struct owner_key *k, const struct owner_val *v,
		   void *ctx)
{
	struct gone_ctx *g = ctx;

	if (ids_has(g->running, v->id))
		return 0;
	return drop_owned(w, k, v, NULL);
}

int xdpctl_watch__sync(struct xdpctl_watch *w)
{
	struct idlist running = {};
	struct gone_ctx g = { .running = &running };
	size_t i;
	int err;

	if (!w)
		return dp_ret(-EINVAL);
	err = xdpctl_docker__list(w->dk, w->label, list_cb, &running);
	if (err) {
		free(running.v);
		return w_err(w, err, "%s", xdpctl_docker__errmsg(w->dk));
	}
	for (i = 0; i < running.n; i++) {
		err = reconcile_id(w, running.v[i]);
		if (err) {
			free(running.v);
			return w_err(w, err, "%s", xdpctl_docker__errmsg(w->dk));
		}
	}
	/* containers that no longer run (or lost the label): what they had goes */
	owner_walk(w, gone_cb, &g);
	free(running.v);
	stat_add(&w->st.reconciles, 1);
	owner_count(w);
	return 0;
}

/* ---- netlink link changes ---- */

static int nl_monitor_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

struct ifindex_ctx {
	__u32 ifindex;
	struct idlist *q;
	bool hit;
};

static int ifindex_cb(struct xdpctl_watch *w, const struct owner_key *k, const struct owner_val *v,
		      void *ctx)
{
	struct ifindex_ctx *c = ctx;

	(void)w;
	if (k->kind == OWN_BYPASS && v->ifindex == c->ifindex) {
		ids_add(c->q, v->id);
		c->hit = true;
	}
	return 0;
}

/* Read every pending link message: a gone veth of ours, or a new link while some wait. */
static void nl_drain(struct xdpctl_watch *w)
{
	char buf[16384];
	size_t i;

	for (;;) {
		ssize_t n = recv(w->nl_fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *nh;

		if (n < 0) {
			if (errno == ENOBUFS) {
				/* the kernel dropped messages: we cannot know what changed */
				w->resync = true;
				continue;
			}
			return;
		}
		if (n == 0)
			return;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			struct ifinfomsg *ifi = NLMSG_DATA(nh);

			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
				continue;
			if (nh->nlmsg_type == RTM_DELLINK) {
				struct ifindex_ctx c = { .ifindex = (__u32)ifi->ifi_index, .q = &w->queue };

				owner_walk(w, ifindex_cb, &c);
				if (c.hit)
					stat_add(&w->st.link_events, 1);
			} else if (nh->nlmsg_type == RTM_NEWLINK && w->pending.n) {
				for (i = 0; i < w->pending.n; i++)
					ids_add(&w->queue, w->pending.v[i]);
				stat_add(&w->st.link_events, 1);
			}
		}
	}
}

/* ---- the loop ---- */

static void handle_event(struct xdpctl_watch *w, const struct xdpctl_docker_event *ev)
{
	stat_add(&w->st.events, 1);
	if (ev->time_nano > w->since_ns)
		w->since_ns = ev->time_nano;
	if (!ev->container[0])
		return;
	if (!strcmp(ev->type, "container") &&
	    (!strcmp(ev->action, "start") || !strcmp(ev->action, "die") ||
	     !strcmp(ev->action, "destroy") || !strcmp(ev->action, "restart")))
		ids_add(&w->queue, ev->container);
	else if (!strcmp(ev->type, "network") &&
		 (!strcmp(ev->action, "connect") || !strcmp(ev->action, "disconnect")))
		ids_add(&w->queue, ev->container);
}

/* Reconcile every queued container; -errno when Docker went away meanwhile. */
static int drain_queue(struct xdpctl_watch *w)
{
	int err = 0;

	while (w->queue.n && !err) {
		char id[72];

		snprintf(id, sizeof(id), "%s", w->queue.v[0]);
		ids_del(&w->queue, id);
		err = reconcile_id(w, id);
		if (err)
			ids_add(&w->queue, id); /* again after the reconnect's full reconcile */
	}
	owner_count(w);
	return err;
}

int xdpctl_watch__run(struct xdpctl_watch *w, volatile sig_atomic_t *stop)
{
	__u64 next_connect = 0, next_resync = 0, next_pending = 0, backoff = BACKOFF_MIN_MS;
	__u64 connected_at = 0;
	bool connected = false, ever = false, told_down = false;
	struct xdpctl_docker_event ev;
	int err, werr;

	if (!w || !stop)
		return dp_ret(-EINVAL);
	w->nl_fd = nl_monitor_open();
	if (w->nl_fd < 0)
		return w_err(w, w->nl_fd, "rtnetlink link monitor: %s", strerror(-w->nl_fd));
	while (!*stop) {
		__u64 now = now_ms(), wake;
		bool nl_ready = false;
		int timeout;

		if (!connected && now >= next_connect) {
			__u64 since = w->since_ns ? w->since_ns : wall_ns();

			err = xdpctl_docker__ping(w->dk);
			if (!err)
				err = dk_events_open(w->dk, since);
			if (!err) {
				err = xdpctl_watch__sync(w);
				if (err)
					dk_events_close(w->dk);
			}
			if (err) {
				if (!told_down)
					report_docker(w, "%s: retrying (backoff up to %d s)",
						      xdpctl_docker__errmsg(w->dk), BACKOFF_MAX_MS / 1000);
				told_down = true;
				next_connect = now + backoff;
				backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			} else {
				if (!w->since_ns)
					w->since_ns = since;
				if (ever)
					stat_add(&w->st.reconnects, 1);
				report_docker(w, "%s Docker on %s (API %s), reconciled: %llu rules owned",
					      ever ? "reconnected to" : "connected to",
					      xdpctl_docker__socket(w->dk), XDPCTL_DOCKER_API,
					      (unsigned long long)__atomic_load_n(&w->st.entries,
										  __ATOMIC_RELAXED));
				ever = connected = true;
				told_down = false;
				connected_at = now_ms();
				w->queue.n = 0;
				w->resync = false;
				next_resync = now_ms() + (__u64)w->resync_s * 1000;
				__atomic_store_n(&w->st.connected, true, __ATOMIC_RELAXED);
			}
		}
		now = now_ms();
		wake = connected ? next_resync : next_connect;
		if (w->pending.n && connected && (!next_pending || next_pending < wake))
			wake = next_pending ? next_pending : now + PENDING_RETRY_MS;
		timeout = wake > now ? (int)(wake - now) : 0;
		if (timeout > 1000)
			timeout = 1000; /* *stop is looked at every second */

		werr = dk_events_wait(w->dk, w->nl_fd, timeout, &nl_ready);
		if (nl_ready)
			nl_drain(w);
		while (connected && (err = dk_events_next(w->dk, &ev)) != 0)
			if (err > 0)
				handle_event(w, &ev);
		if (!connected)
			continue;
		err = 0;
		now = now_ms();
		if (werr == -EPIPE) {
			err = -EPIPE;
		} else if (w->resync || now >= next_resync) {
			w->resync = false;
			next_resync = now + (__u64)w->resync_s * 1000;
			err = xdpctl_watch__sync(w);
		}
		if (!err && w->pending.n) {
			size_t i;

			if (!next_pending) {
				next_pending = now + PENDING_RETRY_MS;
			} else if (now >= next_pending) {
				for (i = 0; i < w->pending.n; i++)
					ids_add(&w->queue, w->pending.v[i]);
				next_pending = now + PENDING_RETRY_MS;
			}
		} else if (!w->pending.n) {
			next_pending = 0;
		}
		if (!err)
			err = drain_queue(w);
		if (err) {
			/* the stream ended or a request failed: the daemon went away */
			dk_events_close(w->dk);
			connected = false;
			__atomic_store_n(&w->st.connected, false, __ATOMIC_RELAXED);
			report_docker(w, "lost Docker (%s): reconnecting",
				      err == -EPIPE ? xdpctl_docker__errmsg(w->dk) : strerror(-err));
			told_down = true;
			/*
			 * A stream that ends right after it opened (a daemon that
			 * refuses it) must not turn into a loop of full reconciles:
			 * the backoff only starts again after a stream that lasted.
			 */
			if (now_ms() - connected_at > BACKOFF_MAX_MS)
				backoff = BACKOFF_MIN_MS;
			next_connect = now_ms() + backoff;
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		}
	}
	dk_events_close(w->dk);
	close(w->nl_fd);
	w->nl_fd = -1;
	__atomic_store_n(&w->st.connected, false, __ATOMIC_RELAXED);
	return 0;
}

int xdpctl_watch__new(struct xdpctl_dp *dp, struct xdpctl_docker *dk,
		      const struct xdpctl_watch_opts *opts, struct xdpctl_watch **out)
{
	struct xdpctl_watch *w;
	int err;

	if (!dp || !dk || !out)
		return dp_ret(-EINVAL);
	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return dp_ret(-ENOMEM);
	w->dp = dp;
	w->dk = dk;
	w->owner_fd = -1;
	w->nl_fd = -1;
	w->resync_s = RESYNC_DEFAULT_S;
	if (opts) {
		if (opts->label && strlen(opts->label) >= sizeof(w->label)) {
			free(w);
			return dp_err(NULL, -ENAMETOOLONG, "label '%s' is too long", opts->label);
		}
		if (opts->label)
			snprintf(w->label, sizeof(w->label), "%s", opts->label);
		if (opts->resync_s)
			w->resync_s = opts->resync_s;
		w->cb = opts->cb;
		w->cb_ctx = opts->cb_ctx;
		w->report_keep = opts->report_keep;
	}
	err = owner_open(w);
	if (err) {
		dp_err(NULL, err, "%s", w->errmsg);
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

void xdpctl_watch__free(struct xdpctl_watch *w)
{
	if (!w)
		return;
	if (w->owner_fd >= 0)
		close(w->owner_fd);
	if (w->nl_fd >= 0)
		close(w->nl_fd);
	free(w->queue.v);
	free(w->pending.v);
	free(w);
}
