// SPDX-License-Identifier: GPL-2.0-only
/*
 * ADD, DEL, CHECK, STATUS and GC of xdpctl-cni over the dataplane library:
 * the pod's addresses from prevResult go into the container table (the
 * bypass map) with the pod's host veth, found among prevResult's interfaces
 * outside the sandbox and checked by netlink to be the veth whose peer
 * lives in CNI_NETNS, and the pod interface's MAC (prevResult's, else read
 * from the pod's netns). The plugin runs in the runtime's netns, which
 * holds the uplink and the host veths; it keeps no state beyond the pinned
 * maps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"

#define ATTACH_FIX "run 'xdpctl attach DEV' on this node's uplink (the xdpctl DaemonSet does)"

static const char *pin_dir_shown(const struct cni_conf *c)
{
	const char *env = getenv("XDPCTL_PIN_DIR");

	if (c->pin_dir[0])
		return c->pin_dir;
	return env && *env ? env : XDPCTL_PIN_DIR_DEFAULT;
}

/* Open the pinned state; *missing tells -ENOENT (no state here) apart. */
static int open_state(const struct cni_conf *c, struct xdpctl_dp **dp, bool *missing,
		      struct cni_err *e)
{
	XDPCTL_OPTS(xdpctl_dp_opts, o, .pin_dir = c->pin_dir[0] ? c->pin_dir : NULL);
	int err;

	*missing = false;
	err = xdpctl_dp__open(&o, dp);
	if (!err)
		return 0;
	if (err == -ENOENT) {
		*missing = true;
		return cni_fail(e, CNI_ERR_TRY_AGAIN_LATER, ATTACH_FIX,
				"no xdpctl state in %s: xdpctl is not attached on this node",
				pin_dir_shown(c));
	}
	return cni_fail(e, CNI_ERR_IO,
			err == -EPERM ? "xdpctl-cni needs root (CAP_BPF and CAP_NET_ADMIN)" :
			err == -ENODEV ? "mount bpffs there: mount -t bpf bpf /sys/fs/bpf" :
			err == -EEXIST ? "the pinned maps are of another xdpctl version: re-run 'xdpctl attach DEV'" :
					 NULL,
			"xdpctl state in %s: %s", pin_dir_shown(c), xdpctl_dp__errmsg(NULL));
}

/* 0 when @path opens (a netns or not: setns will tell), else the errno. */
static int netns_open_err(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static bool netns_exists(const char *path)
{
	return !netns_open_err(path);
}

static const char *mac_str(const __u8 mac[6], char buf[18])
{
	xdpctl_mac_format(mac, buf);
	return buf;
}

/*
 * The pod's host veth: the interface of prevResult outside the sandbox that
 * is a veth with its peer in @netns. Fills @pod (veth, ifindex, peer MAC).
 */
static int find_host_veth(const struct cni_conf *c, const char *netns,
			  struct xdpctl_container *pod, struct cni_err *e)
{
	char tried[256] = "";
	const char *gone = NULL;
	size_t off = 0;
	int n = 0, err;

	for (size_t i = 0; i < c->n_ifaces; i++) {
		const char *name = c->ifaces[i].name;

		if (c->ifaces[i].sandbox || !name[0])
			continue;
		n++;
		off += snprintf(tried + off, off < sizeof(tried) ? sizeof(tried) - off : 0, "%s%s",
				off ? ", " : "", name);
		if (off >= sizeof(tried))
			off = sizeof(tried) - 1;
		err = xdpctl_discover_veth_netns(name, netns, pod);
		if (!err) {
			cni_log(XDPCTL_LOG_DEBUG, "host veth %s (ifindex %u), peer in %s\n", pod->veth,
				pod->veth_ifindex, netns);
			return 0;
		}
		cni_log(XDPCTL_LOG_DEBUG, "%s: %s\n", name, xdpctl_dp__errmsg(NULL));
		if (err == -ENODEV && !gone)
			gone = name;
		if (err == -ENOENT)
			return cni_fail(e, CNI_ERR_INVALID_ENV, NULL,
					"CNI_NETNS %s: no such network namespace", netns);
	}
	if (!n)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG,
				"chain xdpctl-cni after the bridge or ptp plugin, which report the host veth",
				"prevResult names no interface outside the pod, so no host veth");
	if (gone)
		return cni_fail(e, XCNI_ERR_VETH_GONE,
				"xdpctl-cni runs in the runtime's network namespace, where the host veth must be",
				"host veth %s of prevResult does not exist", gone);
	return cni_fail(e, CNI_ERR_INVALID_CONFIG,
			"chain xdpctl-cni after the bridge or ptp plugin, which report the host veth",
			"none of prevResult's interfaces outside the pod (%s) is a veth whose peer is in %s",
			tried, netns);
}

/* The MAC the pod's entries must carry: prevResult's, else the live one. */
static const __u8 *pod_mac(const struct cni_conf *c, const struct xdpctl_container *pod)
{
	if (c->pod_iface >= 0 && c->ifaces[c->pod_iface].has_mac)
		return c->ifaces[c->pod_iface].mac;
	return pod->mac;
}

static size_t pod_ip_count(const struct cni_conf *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_ips; i++)
		n += cni_ip_is_pod(c, i);
	return n;
}

static int need_prev(const struct cni_env *env, const struct cni_conf *c, struct cni_err *e)
{
	if (!c->prev)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG,
				"xdpctl-cni is a chained plugin: list it after bridge or ptp in a conflist",
				"%s without prevResult", env->command);
	if (c->pod_iface < 0 && pod_ip_count(c) != c->n_ips)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
				"prevResult has no interface %s inside the pod", env->ifname);
	return 0;
}

static int need_netns(const struct cni_env *env, struct cni_err *e)
{
	int err;

	if (!env->netns)
		return cni_fail(e, CNI_ERR_INVALID_ENV, NULL, "CNI_NETNS is not set (%s needs it)",
				env->command);
	err = netns_open_err(env->netns);
	if (err == ENOENT)
		return cni_fail(e, CNI_ERR_INVALID_ENV, NULL,
				"CNI_NETNS %s: no such network namespace", env->netns);
	if (err)
		return cni_fail(e, CNI_ERR_INVALID_ENV, NULL, "CNI_NETNS %s: %s", env->netns,
				strerror(err));
	return 0;
}

/* Is @r, found for one of the pod's addresses, the pod's own entry? */
static bool entry_is(const struct xdpctl_bypass_rule *r, __u32 ifindex, const __u8 mac[6])
{
	return !r->stale && r->ifindex == ifindex && !memcmp(r->dmac, mac, 6);
}

int cni_cmd_add(const struct cni_env *env, struct cni_conf *c, char **out, struct cni_err *e)
{
	struct xdpctl_container pod;
	struct xdpctl_dp *dp = NULL;
	bool added[CNI_MAX_IPS] = {}, missing;
	const __u8 *mac;
	char m[18];
	int err;

	if (need_netns(env, e) || need_prev(env, c, e))
		return -1;
	if (!pod_ip_count(c)) {
		cni_log(XDPCTL_LOG_WARN, "%s: prevResult has no address for %s: nothing to add\n",
			env->containerid, env->ifname);
		goto result;
	}
	if (open_state(c, &dp, &missing, e))
		return -1;
	if (find_host_veth(c, env->netns, &pod, e))
		goto out;
	mac = pod_mac(c, &pod);

	for (size_t i = 0; i < c->n_ips; i++) {
		XDPCTL_OPTS(xdpctl_bypass_opts, o, .dev = pod.veth, .dmac = mac,
			    .peer_netns = env->netns);
		struct xdpctl_bypass_rule r;
		const char *a = c->ips[i].str;

		if (!cni_ip_is_pod(c, i))
			continue;
		err = xdpctl_dp__bypass_add(dp, &c->ips[i].addr, &o);
		if (err == -EEXIST && !xdpctl_dp__bypass_get(dp, &c->ips[i].addr, &r)) {
			if (entry_is(&r, pod.veth_ifindex, mac)) {
				/* A retried ADD: the entry is already this pod's. */
				cni_log(XDPCTL_LOG_INFO, "%s: %s already goes to %s\n",
					env->containerid, a, pod.veth);
				continue;
			}
			if (!r.stale) {
				cni_fail(e, XCNI_ERR_ADDR_TAKEN,
					 "if that entry is stale, remove it: xdpctl bypass del ADDR",
					 "%s is in the container table for %s (ifindex %u), not for %s",
					 a, r.dev[0] ? r.dev : "another device", r.ifindex, pod.veth);
				goto rollback;
			}
			/* Left by a pod whose DEL never came; its veth is gone. */
			cni_log(XDPCTL_LOG_INFO, "%s: replacing the stale entry of %s (ifindex %u)\n",
				env->containerid, a, r.ifindex);
			err = xdpctl_dp__bypass_del(dp, &c->ips[i].addr);
			if (!err)
				err = xdpctl_dp__bypass_add(dp, &c->ips[i].addr, &o);
		}
		if (err) {
			cni_fail(e, XCNI_ERR_DATAPLANE,
				 err == -E2BIG ? "raise it with 'xdpctl attach DEV --max-rules N' on a fresh state" :
						 NULL,
				 "adding %s -> %s: %s", a, pod.veth, xdpctl_dp__errmsg(dp));
			goto rollback;
		}
		added[i] = true;
		cni_log(XDPCTL_LOG_INFO, "%s: %s -> %s (ifindex %u) mac %s\n", env->containerid, a,
			pod.veth, pod.veth_ifindex, mac_str(mac, m));
	}
	xdpctl_dp__close(dp);
	dp = NULL;

result:
	/* The result of a chained plugin that changes nothing is prevResult. */
	json_object_object_add(c->prev, "cniVersion", json_object_new_string(c->version));
	*out = strdup(json_object_to_json_string_ext(c->prev, JSON_C_TO_STRING_PLAIN |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!*out)
		return cni_fail(e, CNI_ERR_IO, NULL, "out of memory");
	return 0;

rollback:
	/*
	 * A failed ADD leaves the table as it found it, but for a stale entry
	 * it replaced: that one pointed at a veth that is gone.
	 */
	for (size_t i = 0; i < c->n_ips; i++)
		if (added[i])
			xdpctl_dp__bypass_del(dp, &c->ips[i].addr);
out:
	xdpctl_dp__close(dp);
	return -1;
}

/* ---- DEL ---- */

struct veth_set {
	__u32 ifindex[64];
	size_t n;
};

struct del_scan {
	const char *netns;
	struct xdpctl_addr addrs[CNI_MAX_IPS * 4];
	size_t n;
	struct veth_set yes, no; /* host veths whose peer is / is not in netns */
};

static bool set_has(const struct veth_set *s, __u32 ifindex)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->ifindex[i] == ifindex)
			return true;
	return false;
}

static void set_add(struct veth_set *s, __u32 ifindex)
{
	if (s->n < sizeof(s->ifindex) / sizeof(s->ifindex[0]))
		s->ifindex[s->n++] = ifindex;
}

/* Entries whose live host veth has its peer in the pod's netns. */
static int del_scan_cb(const struct xdpctl_bypass_rule *r, void *ctx)
{
	struct del_scan *s = ctx;
	struct xdpctl_container pod;

	if (r->stale || !r->dev[0] || set_has(&s->no, r->ifindex))
		return 0;
	if (!set_has(&s->yes, r->ifindex)) {
		if (xdpctl_discover_veth_netns(r->dev, s->netns, &pod) ||
		    pod.veth_ifindex != r->ifindex) {
			set_add(&s->no, r->ifindex);
			return 0;
		}
		set_add(&s->yes, r->ifindex);
	}
	if (s->n == sizeof(s->addrs) / sizeof(s->addrs[0]))
		return 1;
	s->addrs[s->n++] = r->addr;
	return 0;
}

int cni_cmd_del(const struct cni_env *env, struct cni_conf *c, struct cni_err *e)
{
	struct xdpctl_bypass_rule r;
	struct xdpctl_dp *dp = NULL;
	struct cni_err ignored;
	bool missing;
	int err = 0;

	/* DEL succeeds when there is nothing (left) to remove. */
	if (open_state(c, &dp, &missing, &ignored)) {
		if (missing) {
			cni_log(XDPCTL_LOG_INFO, "%s: %s; nothing to remove\n", env->containerid,
				ignored.msg);
			return 0;
		}
		*e = ignored;
		return -1;
	}
	if (c->prev) {
		for (size_t i = 0; i < c->n_ips; i++) {
			const char *a = c->ips[i].str;
			bool ours = false;

			if (!cni_ip_is_pod(c, i) || xdpctl_dp__bypass_get(dp, &c->ips[i].addr, &r))
				continue;
			/* Ours: its veth is gone, or it is a host veth this pod's prevResult names. */
			ours = r.stale;
			for (size_t k = 0; k < c->n_ifaces && !ours; k++)
				ours = !c->ifaces[k].sandbox && !strcmp(c->ifaces[k].name, r.dev);
			if (!ours) {
				cni_log(XDPCTL_LOG_INFO, "%s: %s goes to %s, not to this pod: left\n",
					env->containerid, a, r.dev);
				continue;
			}
			err = xdpctl_dp__bypass_del(dp, &c->ips[i].addr);
			if (err && err != -ENOENT)
				break;
			err = 0;
			cni_log(XDPCTL_LOG_INFO, "%s: %s removed\n", env->containerid, a);
		}
	} else if (env->netns && netns_exists(env->netns)) {
		/* No prevResult: the entries whose host veth has its peer in CNI_NETNS. */
		struct del_scan *s = calloc(1, sizeof(*s));

		if (!s) {
			xdpctl_dp__close(dp);
			return cni_fail(e, CNI_ERR_IO, NULL, "out of memory");
		}
		s->netns = env->netns;
		err = xdpctl_dp__bypass_for_each(dp, del_scan_cb, s);
		if (err >= 0) {
			err = 0;
			for (size_t i = 0; i < s->n && !err; i++) {
				err = xdpctl_dp__bypass_del(dp, &s->addrs[i]);
				if (err == -ENOENT)
					err = 0;
			}
			cni_log(XDPCTL_LOG_INFO, "%s: no prevResult; %zu entries of %s removed\n",
				env->containerid, s->n, env->netns);
		}
		free(s);
	} else {
		cni_log(XDPCTL_LOG_INFO, "%s: no prevResult and no netns: nothing names an entry\n",
			env->containerid);
	}
	if (err)
		cni_fail(e, XCNI_ERR_DATAPLANE, NULL, "removing the pod's entries: %s",
			 xdpctl_dp__errmsg(dp));
	xdpctl_dp__close(dp);
	return err ? -1 : 0;
}

/* ---- CHECK ---- */

int cni_cmd_check(const struct cni_env *env, struct cni_conf *c, struct cni_err *e)
{
	struct xdpctl_container pod;
	struct xdpctl_bypass_rule r;
	struct xdpctl_dp *dp = NULL;
	const __u8 *mac;
	char m1[18], m2[18];
	bool missing;
	int rc = -1;

	if (cni_version_cmp(c->version, "0.4.0") < 0)
		return cni_fail(e, CNI_ERR_INCOMPATIBLE_VERSION, NULL,
				"CHECK needs cniVersion 0.4.0 or later, the configuration has %s",
				c->version);
	if (need_netns(env, e) || need_prev(env, c, e))
		return -1;
	if (open_state(c, &dp, &missing, e))
		return -1;
	if (!pod_ip_count(c)) {
		rc = 0; /* ADD registered nothing either */
		goto out;
	}
	if (find_host_veth(c, env->netns, &pod, e))
		goto out;
	mac = pod_mac(c, &pod);
	if (memcmp(mac, pod.mac, 6)) {
		cni_fail(e, XCNI_ERR_MISMATCH, NULL, "the pod's interface has MAC %s, prevResult says %s",
			 mac_str(pod.mac, m1), mac_str(mac, m2));
		goto out;
	}
	for (size_t i = 0; i < c->n_ips; i++) {
		const char *a = c->ips[i].str;

		if (!cni_ip_is_pod(c, i))
			continue;
		if (xdpctl_dp__bypass_get(dp, &c->ips[i].addr, &r)) {
			cni_fail(e, XCNI_ERR_NO_ENTRY, "DEL and ADD the pod again",
				 "%s is not in the container table", a);
			goto out;
		}
		if (r.stale) {
			cni_fail(e, XCNI_ERR_VETH_GONE, NULL,
				 "%s goes to ifindex %u, which no longer exists", a, r.ifindex);
			goto out;
		}
		if (!entry_is(&r, pod.veth_ifindex, mac)) {
			cni_fail(e, XCNI_ERR_MISMATCH, NULL,
				 "%s goes to %s (ifindex %u) mac %s, the pod has %s (ifindex %u) mac %s",
				 a, r.dev, r.ifindex, mac_str(r.dmac, m1), pod.veth, pod.veth_ifindex,
				 mac_str(mac, m2));
			goto out;
		}
	}
	rc = 0;
out:
	xdpctl_dp__close(dp);
	return rc;
}

/* ---- STATUS and GC (CNI 1.1) ---- */

static int uplink_cb(const struct xdpctl_dev_status *st, void *ctx)
{
	if ((st->flags & XDPCTL_IF_UPLINK) && st->present && (st->xdp_prog_id || st->tc_prog_id)) {
		*(bool *)ctx = true;
		return 1;
	}
	return 0;
}

int cni_cmd_status(struct cni_conf *c, struct cni_err *e)
{
	struct xdpctl_dp *dp;
	bool missing, up = false;
	int err;

	if (open_state(c, &dp, &missing, e)) {
		e->code = CNI_ERR_NOT_AVAILABLE;
		return -1;
	}
	err = xdpctl_dp__for_each_dev(dp, uplink_cb, &up);
	xdpctl_dp__close(dp);
	if (err < 0)
		return cni_fail(e, CNI_ERR_NOT_AVAILABLE, NULL, "reading the xdpctl state in %s: %s",
				pin_dir_shown(c), strerror(-err));
	if (!up)
		return cni_fail(e, CNI_ERR_NOT_AVAILABLE, ATTACH_FIX,
				"xdpctl runs on no uplink in this network namespace");
	return 0;
}

struct gc_scan {
	struct xdpctl_addr *addrs;
	size_t n, cap;
};

static int gc_cb(const struct xdpctl_bypass_rule *r, void *ctx)
{
	struct gc_scan *g = ctx;
	struct xdpctl_addr *a;

	if (!r->stale)
		return 0;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		a = realloc(g->addrs, g->cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		g->addrs = a;
	}
	g->addrs[g->n++] = r->addr;
	return 0;
}

/*
 * Without state of its own the plugin cannot tell which attachment an
 * entry belongs to; what it can collect for sure is every entry whose host
 * veth no longer exists (a pod whose DEL never came).
 */
int cni_cmd_gc(struct cni_conf *c, struct cni_err *e)
{
	struct gc_scan g = {};
	struct xdpctl_dp *dp;
	struct cni_err ignored;
	bool missing;
	size_t done = 0;
	int err;

	if (open_state(c, &dp, &missing, &ignored)) {
		if (missing)
			return 0; /* nothing to collect */
		*e = ignored;
		return -1;
	}
	err = xdpctl_dp__bypass_for_each(dp, gc_cb, &g);
	for (size_t i = 0; err >= 0 && i < g.n; i++) {
		err = xdpctl_dp__bypass_del(dp, &g.addrs[i]);
		if (err == -ENOENT)
			err = 0;
		done += !err;
	}
	if (err < 0)
		cni_fail(e, XCNI_ERR_DATAPLANE, NULL, "GC: %s", xdpctl_dp__errmsg(dp));
	else
		cni_log(XDPCTL_LOG_INFO, "GC: %zu entries of gone veths removed\n", done);
	free(g.addrs);
	xdpctl_dp__close(dp);
	return err < 0 ? -1 : 0;
}
