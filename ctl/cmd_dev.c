// SPDX-License-Identifier: GPL-2.0-only
/* xdpctl attach, detach, status: the devices xdpctl runs on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "xdpctl.h"

static const char *const mode_choices[] = { "auto", "native", "generic", NULL };
static const char *const engine_choices[] = { "auto", "xdp", "tc", NULL };
static const char *const fast_path_choices[] = { "conntrack", "skip-firewall", NULL };

/* ---- attach ---- */

enum { AT_DEV, AT_MODE, AT_ENGINE, AT_FORCE, AT_MAX_RULES, AT_FAST_PATH, AT_KEEP_WINDOW };
static const struct arg_spec attach_args[] = {
	[AT_DEV] = { .metavar = "DEV", .type = ARG_DEVICE, .required = true,
		     .help = "the uplink device, e.g. eth0" },
	[AT_MODE] = { .name = "--mode", .type = ARG_ENUM, .choices = mode_choices,
		      .help = "XDP mode; auto: native, else generic (default auto)" },
	[AT_ENGINE] = { .name = "--engine", .type = ARG_ENUM, .choices = engine_choices,
			.help = "bypass by XDP redirect, by tc redirect_peer, or auto: XDP but TCP by tc (default)" },
	[AT_FORCE] = { .name = "--force", .type = ARG_FLAG,
		       .help = "replace another owner's XDP program on DEV, or take over xdpctl's of a lost state" },
	[AT_MAX_RULES] = { .name = "--max-rules", .metavar = "N", .type = ARG_UINT, .min = 1,
			   .max = 1u << 26,
			   .help = "bypass rule capacity when the state is first created (default 1048576)" },
	[AT_FAST_PATH] = { .name = "--fast-path", .type = ARG_ENUM, .choices = fast_path_choices,
			   .help = "conntrack (default): only established flows the firewall accepted, with their NAT; skip-firewall: every packet to/from a container address, past netfilter, NAT and Docker's policy" },
	[AT_KEEP_WINDOW] = { .name = "--keep-tcp-window-check", .type = ARG_FLAG,
			     .help = "conntrack: leave nf_conntrack_tcp_be_liberal as it is (see help)" },
	{ 0 },
};

static void id_col(__u32 id, char *buf, size_t len)
{
	if (id)
		snprintf(buf, len, "%u", id);
	else
		snprintf(buf, len, "-");
}

static void dev_head(void)
{
	printf("%-16s %7s %-11s %-13s %-6s %-8s %8s %8s %5s %-17s %9s\n", "DEVICE", "IFINDEX", "ROLE",
	       "FAST_PATH", "ENGINE", "XDP_MODE", "XDP_PROG", "TC_PROG", "RULES", "MAC", "XDP_LOST");
}

/* One device xdpctl uses: its status row, or its JSON object. */
static void dev_show(struct ctx *c, const void *obj, bool json)
{
	const struct xdpctl_dev_status *st = obj;
	bool uplink = st->flags & XDPCTL_IF_UPLINK;
	const char *role = uplink ? (st->flags & XDPCTL_IF_VETH ? "uplink+veth" : "uplink") : "veth";
	char name[IF_NAMESIZE + 8], xp[16], tp[16], mac[18], lost[24];

	fmt_mac(st->mac, mac);
	if (!json) {
		snprintf(name, sizeof(name), "%s%s", st->name,
			 !st->present ? "(gone)" : st->orphan ? "(orphan)" : "");
		id_col(st->xdp_prog_id, xp, sizeof(xp));
		id_col(st->tc_prog_id, tp, sizeof(tp));
		if (st->have_xmit)
			snprintf(lost, sizeof(lost), "%llu", (unsigned long long)st->xdp_xmit_errors);
		else
			snprintf(lost, sizeof(lost), "-");
		printf("%-16s %7u %-11s %-13s %-6s %-8s %8s %8s %5u %-17s %9s\n", name, st->ifindex, role,
		       uplink ? xdpctl_fast_path_name(st->fast_path) : "-",
		       uplink ? xdpctl_engine_name(st->engine) : "-",
		       st->xdp_prog_id ? xdpctl_mode_name(st->xdp_mode) : "-", xp, tp, st->refcnt,
		       mac, lost);
		return;
	}
	jw_obj_open(c->jw);
	jw_kstr(c->jw, "dev", st->name);
	jw_ku64(c->jw, "ifindex", st->ifindex);
	jw_kstr(c->jw, "role", role);
	jw_kstr(c->jw, "mac", mac);
	jw_kstr(c->jw, "engine", uplink ? xdpctl_engine_name(st->engine) : NULL);
	jw_kstr(c->jw, "fast_path", uplink ? xdpctl_fast_path_name(st->fast_path) : NULL);
	if (uplink)
		jw_kbool(c->jw, "tcp_be_liberal_set", st->tcp_liberal_set);
	jw_kstr(c->jw, "xdp_mode", st->xdp_prog_id ? xdpctl_mode_name(st->xdp_mode) : NULL);
	jw_ku64(c->jw, "xdp_prog_id", st->xdp_prog_id);
	jw_kstr(c->jw, "xdp_path", st->xdp_path[0] ? st->xdp_path : NULL);
	jw_ku64(c->jw, "tc_prog_id", st->tc_prog_id);
	jw_kbool(c->jw, "dispatcher", st->dispatcher);
	jw_kbool(c->jw, "present", st->present);
	jw_ku64(c->jw, "rules", st->refcnt);
	jw_kbool(c->jw, "orphan", st->orphan);
	if (st->have_xmit) {
		/* XDP redirects into the veth, and those its full ring refused (lost) */
		jw_ku64(c->jw, "xdp_xmit_packets", st->xdp_xmit);
		jw_ku64(c->jw, "xdp_xmit_errors", st->xdp_xmit_errors);
	}
	jw_obj_close(c->jw);
}

static const struct show dev_printer = { .head = dev_head, .one = dev_show };

static int run_attach(struct ctx *c, struct args *a)
{
	const char *dev = a->v[AT_DEV].str;
	XDPCTL_OPTS(xdpctl_attach_opts, o,
		    .engine = a->v[AT_ENGINE].set ? (enum xdpctl_engine)a->v[AT_ENGINE].choice
						   : XDPCTL_ENGINE_AUTO,
		    .mode = a->v[AT_MODE].set ? (enum xdpctl_mode)a->v[AT_MODE].choice
					      : XDPCTL_MODE_AUTO,
		    .force = a->v[AT_FORCE].set,
		    .fast_path = a->v[AT_FAST_PATH].set ? (enum xdpctl_fast_path)a->v[AT_FAST_PATH].choice
							 : XDPCTL_FAST_PATH_CONNTRACK,
		    .keep_tcp_window_check = a->v[AT_KEEP_WINDOW].set);
	struct xdpctl_dev_status st = {};
	int err, r;

	/* the choices are listed in enum order */
	_Static_assert(XDPCTL_MODE_AUTO == 0 && XDPCTL_MODE_NATIVE == 1 && XDPCTL_MODE_GENERIC == 2,
		       "mode_choices order");
	_Static_assert(XDPCTL_ENGINE_AUTO == 0 && XDPCTL_ENGINE_XDP == 1 && XDPCTL_ENGINE_TC == 2,
		       "engine_choices order");
	_Static_assert(XDPCTL_FAST_PATH_CONNTRACK == 0 && XDPCTL_FAST_PATH_SKIP_FIREWALL == 1,
		       "fast_path_choices order");

	r = open_state(c, true, a->v[AT_MAX_RULES].set ? (__u32)a->v[AT_MAX_RULES].u : 0, false, NULL);
	if (r)
		return r;
	err = xdpctl_dp__attach(c->dp, dev, &o);
	if (err) {
		enum xdpctl_errkind kind = xdpctl_dp__errkind(c->dp);
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", xdpctl_dp__errmsg(c->dp) ? xdpctl_dp__errmsg(c->dp) : "");
		/* a state made by this call went again in the library (under its lock) */
		switch (kind) {
		case XDPCTL_ERR_ORPHAN:
			/* xdpctl's own program of a lost state: no --engine tc advice */
			return fail(c, "%s: use '--force' to take it over", msg);
		case XDPCTL_ERR_BUSY_XDP:
			/* tc filters chain: --engine tc helps only when XDP was the conflict */
			if (o.engine != XDPCTL_ENGINE_TC)
				return fail(c, "%s: use '--engine tc' to run beside it, or '--force' to replace it",
					    msg);
			return fail(c, "%s: use '--force' to replace it", msg);
		case XDPCTL_ERR_BUSY_TC:
			return fail(c, "%s: use '--force' to replace it", msg);
		case XDPCTL_ERR_NO_DEVICE:
			return fail(c, "no such device: %s", dev);
		default:
			break;
		}
		switch (err) {
		case -EBUSY:
			return fail(c, "%s: use '--force' to replace it", *msg ? msg : dev);
		case -EOPNOTSUPP:
			if (strstr(msg, "kfuncs"))
				return fail(c, "%s: use '--fast-path skip-firewall' only where no NAT or firewall applies",
					    msg);
			if (o.mode == XDPCTL_MODE_NATIVE)
				return fail(c, "native XDP is not supported on %s: try '--mode generic'", dev);
			return fail(c, "%s: %s", dev, *msg ? msg : "not supported");
		case -ENODEV:
			return fail(c, "no such device: %s", dev);
		case -EPERM:
		case -EACCES:
			return fail(c, "attach %s: %s: needs root (CAP_BPF and CAP_NET_ADMIN)", dev,
				    *msg ? msg : strerror(-err));
		default:
			return fail(c, "attach %s: %s", dev, *msg ? msg : strerror(-err));
		}
	}
	err = xdpctl_dp__dev_status(c->dp, dev, &st);
	if (err)
		return fail_dp(c, err, dev);
	if (c->json) {
		dev_show(c, &st, true);
	} else {
		/* the plain form of an attach is a sentence, not the status row */
		printf("%s: attached, fast path %s, engine %s", dev, xdpctl_fast_path_name(st.fast_path),
		       xdpctl_engine_name(st.engine));
		if (st.xdp_prog_id)
			printf(", XDP %s (prog %u%s%s)", xdpctl_mode_name(st.xdp_mode), st.xdp_prog_id,
			       st.xdp_path[0] ? ", by " : "", st.xdp_path);
		if (st.tc_prog_id)
			printf(", tc ingress (prog %u)", st.tc_prog_id);
		printf("\n");
		if (st.fast_path == XDPCTL_FAST_PATH_CONNTRACK) {
			struct xdpctl_features f;

			xdpctl_probe_features(&f);
			printf("%s: following conntrack with bpf_xdp_ct_lookup/bpf_skb_ct_lookup, bpf_ct_change_timeout (kernel kfuncs)%s%s\n",
			       dev, f.flowtable ? "" : "; no nft flowtable in this kernel",
			       st.tcp_liberal_set ? "; net.netfilter.nf_conntrack_tcp_be_liberal=1 (set by xdpctl, detach restores 0)" : "");
		} else {
			printf("%s: skip-firewall: container addresses bypass netfilter, NAT, conntrack and Docker's policy\n",
			       dev);
		}
	}
	return 0;
}

const struct cmd cmd_attach = {
	.name = "attach", .run = run_attach, .args = attach_args, .flags = CMD_PRIV,
	.summary = "Attach the dataplane to an uplink device (again: replace, keep rules).",
	.details = "With engine xdp the XDP program does bypass and XDP ping-pong and a tc\n"
		   "program answers tc ping-pong; with engine tc both run at tc ingress.\n"
		   "Engine auto (the default) is xdp, except that XDP leaves TCP to the tc\n"
		   "program: the uplink's GRO then hands it over in large packets that\n"
		   "redirect_peer keeps whole, where an XDP redirect would send each frame.\n"
		   "On a veth uplink auto is tc: XDP on a veth copies every cloned skb.\n"
		   "Fast path conntrack (the default): only TCP/UDP packets of established\n"
		   "conntrack entries whose other side is a container of the container table\n"
		   "('xdpctl bypass add') are forwarded, with the entry's NAT (published ports,\n"
		   "MASQUERADE); new flows, SYN/FIN/RST, ICMP and fragments take the kernel\n"
		   "path, so the firewall (Docker's FORWARD, DOCKER-USER) judges every flow.\n"
		   "Packets on the fast path leave conntrack's TCP window state behind, so\n"
		   "attach sets net.netfilter.nf_conntrack_tcp_be_liberal=1 in DEV's netns\n"
		   "(detach restores 0) unless --keep-tcp-window-check.\n"
		   "Fast path skip-firewall: every packet to or from a container-table address\n"
		   "skips netfilter, NAT and conntrack: only for routed networks without NAT\n"
		   "or policy.\n"
		   "Another XDP program on DEV is never replaced silently: xdpctl refuses and\n"
		   "names it, unless --force.",
};

/* ---- detach ---- */

enum { DT_DEV, DT_IFINDEX };
static const struct arg_spec detach_args[] = {
	[DT_DEV] = { .metavar = "DEV", .type = ARG_DEVNAME, .required = true, .group = 1,
		     .help = "an attached uplink device" },
	[DT_IFINDEX] = { .name = "--ifindex", .metavar = "N", .type = ARG_UINT, .min = 1,
			 .max = 0xffffffffu, .required = true, .group = 1,
			 .help = "a device by ifindex, also one that is gone ('(gone)' in status)" },
	{ 0 },
};

static int not_attached(struct ctx *c, const char *dev)
{
	return fail(c, "%s is not attached: run 'xdpctl attach %s' first", dev, dev);
}

/* Entries of devices that are gone: their first ifindex into *first; how many. */
static int count_gone(const struct xdpctl_dev_status *st, void *ctx)
{
	__u32 *v = ctx;

	if (!st->present && !v[0]++)
		v[1] = st->ifindex;
	return 0;
}

static int run_detach_ifindex(struct ctx *c, __u32 ifindex)
{
	char what[32];
	int err;

	snprintf(what, sizeof(what), "ifindex %u", ifindex);
	err = xdpctl_dp__detach_ifindex(c->dp, ifindex);
	if (err == -ENOENT)
		return fail(c, "%s: xdpctl has no entry for it (see 'xdpctl status')", what);
	if (err == -EBUSY)
		return fail(c, "%s: delete its bypass rules first (see 'xdpctl bypass list')",
			    xdpctl_dp__errmsg(c->dp));
	if (err)
		return fail_dp(c, err, what);
	if (c->json) {
		jw_obj_open(c->jw);
		jw_ku64(c->jw, "ifindex", ifindex);
		jw_kbool(c->jw, "detached", true);
		jw_obj_close(c->jw);
	}
	return 0;
}

static int run_detach(struct ctx *c, struct args *a)
{
	const char *dev = a->v[DT_DEV].str;
	bool missing;
	int err, r;

	r = open_state(c, false, 0, true, &missing);
	if (r)
		return r;
	if (missing)
		return a->v[DT_IFINDEX].set ? fail(c, "ifindex %llu is not attached: no xdpctl state at %s",
						   a->v[DT_IFINDEX].u, c->pin_dir)
					    : not_attached(c, dev);
	if (a->v[DT_IFINDEX].set)
		return run_detach_ifindex(c, (__u32)a->v[DT_IFINDEX].u);
	err = xdpctl_dp__detach(c->dp, dev);
	if (err == -ENODEV) {
		/* The ifaces map keeps no names: point to the entries of gone devices. */
		__u32 gone[2] = {};

		xdpctl_dp__for_each_dev(c->dp, count_gone, gone);
		if (gone[0])
			return fail(c, "no such device: %s; xdpctl keeps %u entr%s of gone devices: remove one with 'xdpctl detach --ifindex %u' (see 'xdpctl status')",
				    dev, gone[0], gone[0] == 1 ? "y" : "ies", gone[1]);
	}
	if (err == -ENOENT) {
		struct xdpctl_dev_status st = {};

		if (!xdpctl_dp__dev_status(c->dp, dev, &st) && !(st.flags & XDPCTL_IF_UPLINK))
			return fail(c, "%s is a bypassed veth, not an uplink: it goes with its last bypass "
				    "rule (see 'xdpctl bypass list')", dev);
		return not_attached(c, dev);
	}
	if (err)
		return fail_dp(c, err, dev);
	if (c->json) {
		jw_obj_open(c->jw);
		jw_kstr(c->jw, "dev", dev);
		jw_kbool(c->jw, "detached", true);
		jw_obj_close(c->jw);
	}
	return 0;
}

const struct cmd cmd_detach = {
	.name = "detach", .run = run_detach, .args = detach_args, .flags = CMD_PRIV,
	.summary = "Remove everything xdpctl added to a device; rules stay in the maps.",
	.details = "A device that is gone shows in 'xdpctl status' as '(gone)' with its ifindex\n"
		   "(xdpctl keeps no names): 'xdpctl detach --ifindex N' removes its entry (an\n"
		   "uplink's; a veth's once no bypass rule names it). For a device that exists,\n"
		   "--ifindex N is the same as its name.",
};

/* ---- status ---- */

enum { ST_DEV, ST_MAPS };
static const struct arg_spec status_args[] = {
	[ST_DEV] = { .metavar = "DEV", .type = ARG_DEVNAME,
		     .help = "one device (default: every device xdpctl uses)" },
	[ST_MAPS] = { .name = "--maps", .type = ARG_FLAG,
		      .help = "list the pinned maps and the kernel memory each takes instead" },
	{ 0 },
};

/* ---- status --maps: the kernel memory of the pinned state ---- */

struct mem_ctx {
	struct ctx *c;
	__u64 total;
	int n;
};

static int mem_sum(const struct xdpctl_map_usage *u, void *p)
{
	struct mem_ctx *m = p;

	m->total += u->memory_bytes;
	m->n++;
	return 0;
}

static int mem_row(const struct xdpctl_map_usage *u, void *p)
{
	struct mem_ctx *m = p;
	const char *type = libbpf_bpf_map_type_str(u->type);

	m->total += u->memory_bytes;
	if (m->c->json) {
		jw_obj_open(m->c->jw);
		jw_kstr(m->c->jw, "name", u->name);
		jw_kstr(m->c->jw, "type", type ? type : "unknown");
		jw_ku64(m->c->jw, "id", u->id);
		jw_ku64(m->c->jw, "max_entries", u->max_entries);
		jw_kbool(m->c->jw, "preallocated", !(u->map_flags & BPF_F_NO_PREALLOC));
		jw_ku64(m->c->jw, "memory_bytes", u->memory_bytes);
		jw_obj_close(m->c->jw);
	} else {
		printf("%-16s %-14s %7u %11u %-6s %14llu\n", u->name, type ? type : "unknown", u->id,
		       u->max_entries, u->map_flags & BPF_F_NO_PREALLOC ? "no" : "yes",
		       (unsigned long long)u->memory_bytes);
	}
	return 0;
}

static int run_status_maps(struct ctx *c)
{
	struct mem_ctx m = { .c = c };
	int err, r;

	r = open_state(c, false, 0, false, NULL);
	if (r)
		return r;
	if (c->json)
		jw_arr_open(c->jw);
	else
		printf("%-16s %-14s %7s %11s %-6s %14s\n", "MAP", "TYPE", "ID", "MAX_ENTRIES",
		       "PREALL", "MEMORY_BYTES");
	err = xdpctl_dp__for_each_map(c->dp, mem_row, &m);
	if (c->json)
		jw_arr_close(c->jw);
	if (err)
		return fail_dp(c, err, "status --maps");
	if (!c->json)
		printf("state %s: %.1f MiB of kernel memory\n", xdpctl_dp__pin_dir(c->dp),
		       m.total / 1048576.0);
	return 0;
}

struct dev_list {
	struct xdpctl_dev_status *v;
	size_t n, cap;
};

static int collect_dev(const struct xdpctl_dev_status *st, void *ctx)
{
	struct dev_list *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct xdpctl_dev_status *nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = *st;
	return 0;
}

struct orphan_pick {
	const char *dev;
	struct dev_list *l;
};

/* collect_dev for the orphan of one device name */
static int collect_orphan(const struct xdpctl_dev_status *st, void *ctx)
{
	struct orphan_pick *p = ctx;

	return strcmp(st->name, p->dev) ? 0 : collect_dev(st, p->l);
}

static int dev_order(const void *x, const void *y)
{
	const struct xdpctl_dev_status *a = x, *b = y;
	bool ua = a->flags & XDPCTL_IF_UPLINK, ub = b->flags & XDPCTL_IF_UPLINK;

	if (a->orphan != b->orphan)
		return a->orphan ? 1 : -1;
	if (ua != ub)
		return ua ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int run_status(struct ctx *c, struct args *a)
{
	struct dev_list l = {};
	bool missing;
	size_t i;
	int err = 0, r;

	if (a->v[ST_MAPS].set)
		return run_status_maps(c);
	r = open_state(c, false, 0, true, &missing);
	if (r)
		return r;
	if (a->v[ST_DEV].set) {
		struct xdpctl_dev_status st = {};
		struct orphan_pick p = { .dev = a->v[ST_DEV].str, .l = &l };

		err = missing ? -ENOENT : xdpctl_dp__dev_status(c->dp, a->v[ST_DEV].str, &st);
		if (!err) {
			err = collect_dev(&st, &l);
		} else if (err == -ENOENT) {
			/* No entry: xdpctl's programs of a lost state may still run there. */
			err = xdpctl_dp__for_each_orphan(c->dp, collect_orphan, &p);
			if (!err && !l.n)
				return not_attached(c, a->v[ST_DEV].str);
		}
	} else {
		if (!missing)
			err = xdpctl_dp__for_each_dev(c->dp, collect_dev, &l);
		if (!err)
			err = xdpctl_dp__for_each_orphan(c->dp, collect_dev, &l);
	}
	if (err) {
		free(l.v);
		return fail_dp(c, err, "status");
	}
	for (i = 0; i < l.n; i++) {
		if (!l.v[i].orphan)
			continue;
		if (l.v[i].flags & XDPCTL_IF_UPLINK)
			note(c, "%s runs xdpctl's programs of another pin dir or a lost state: 'xdpctl attach %s --force' takes them over",
			     l.v[i].name, l.v[i].name);
		else
			note(c, "%s runs xdpctl's return-path program of another pin dir or a lost state: 'xdpctl bypass add ADDR dev %s' takes it over",
			     l.v[i].name, l.v[i].name);
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), dev_order);

	show_list(c, c->json, &dev_printer, l.v, l.n, sizeof(*l.v));
	free(l.v);
	if (!missing && !c->json) {
		struct mem_ctx m = { .c = c };

		if (!xdpctl_dp__for_each_map(c->dp, mem_sum, &m))
			printf("state %s: %d maps, %.1f MiB of kernel memory (see 'xdpctl status --maps')\n",
			       xdpctl_dp__pin_dir(c->dp), m.n, m.total / 1048576.0);
	}
	return 0;
}

const struct cmd cmd_status = {
	.name = "status", .run = run_status, .args = status_args, .flags = CMD_PRIV,
	.summary = "Show the attached uplinks and the bypassed veths, or the pinned maps.",
	.details = "ROLE uplink: attached with 'xdpctl attach'; veth: a container's host-side\n"
		   "veth that bypass rules use (RULES counts them). DEVICE(gone): the device is\n"
		   "no more ('xdpctl detach --ifindex N' removes its entry). DEVICE(orphan), JSON\n"
		   "\"orphan\": true: it runs xdpctl's programs of another pin dir or of a lost\n"
		   "state (pin dir removed, bpffs unmounted), which this state does not count.\n"
		   "--maps lists the pinned maps with the kernel memory each takes now (the\n"
		   "preallocated ones take all of theirs at creation).\n"
		   "XDP_LOST (veths): frames an XDP redirect (engine xdp) handed to the veth\n"
		   "that its container-side ring refused because it was full: lost, where the\n"
		   "kernel path and the tc engine deliver (the veth's tx_queue_N_xdp_xmit_errors).",
};
