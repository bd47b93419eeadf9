// SPDX-License-Identifier: GPL-2.0-only
/*
 * Single bypass rules: add, delete, look up, list. The bypass map holds one
 * value per rule, shared by the CPUs (the programs count with atomic adds).
 * The first rule of a veth sets the veth up, the last tears it down (veth.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bypass.h"

/* Rules per batch lookup of a listing. */
#define LIST_CHUNK 4096

void dp_bypass_value(struct xdpctl_bypass *val, __u32 ifindex, __u16 mtu, const __u8 *dmac,
		     const __u8 *smac)
{
	/* Built on the stack and copied whole: GCC's bounds analysis under
	 * -fsanitize cannot size the value arrays val points into. */
	struct xdpctl_bypass v = { .ifindex = ifindex, .mtu = mtu };

	memcpy(v.dmac, dmac, 6);
	memcpy(v.smac, smac, 6);
	*val = v;
}

int xdpctl_dp__bypass_add(struct xdpctl_dp *dp, const struct xdpctl_addr *addr,
			  const struct xdpctl_bypass_opts *opts)
{
	int bypass = dp_map_fd(dp, DP_MAP_BYPASS), ifaces = dp_map_fd(dp, DP_MAP_IFACES);
	const char *dev = NULL, *peer_netns = NULL;
	const __u8 *dmac = NULL, *smac = NULL;
	struct xdpctl_bypass *vals = NULL;
	struct xdpctl_iface ent;
	struct dp_retprog ret = DP_RETPROG_NONE;
	bool have_ent, set_up = false, written = false;
	struct dp_veth v;
	char a[64];
	int err, nsfd = -1;

	if (!dp)
		return dp_ret(-EINVAL);
	if (!dp_addr_valid(addr))
		return dp_err(dp, -EINVAL, "bypass rule: not a valid IPv4 or IPv6 key");
	if (opts && opts->sz >= offsetof(struct xdpctl_bypass_opts, dev) + sizeof(opts->dev))
		dev = opts->dev;
	if (opts && opts->sz >= offsetof(struct xdpctl_bypass_opts, dmac) + sizeof(opts->dmac))
		dmac = opts->dmac;
	if (opts && opts->sz >= offsetof(struct xdpctl_bypass_opts, smac) + sizeof(opts->smac))
		smac = opts->smac;
	if (opts && opts->sz >= offsetof(struct xdpctl_bypass_opts, peer_netns) +
				sizeof(opts->peer_netns))
		peer_netns = opts->peer_netns;
	dp_addr_str(addr, a);
	if (xdpctl_addr_special(addr))
		return dp_err(dp, -EINVAL, "%s is %s, not a container's", a, xdpctl_addr_special(addr));
	if (!dev || !*dev)
		return dp_err(dp, -EINVAL, "%s: a bypass rule needs the container's host veth", a);

	err = dp_veth_resolve(dp, dev, 0, &v);
	if (err)
		return err;
	vals = calloc(1, sizeof(*vals));
	if (!vals)
		return dp_err(dp, -ENOMEM, "out of memory");
	err = dp_lock(dp);
	if (err)
		goto out_free;

	if (!bpf_map_lookup_elem(bypass, addr, vals)) {
		char other[IF_NAMESIZE] = "";

		dp_ifname(vals[0].ifindex, other);
		err = dp_err(dp, -EEXIST, "%s: bypass rule exists (to %s)", a,
			     other[0] ? other : "a device that is gone");
		goto out;
	}
	have_ent = !bpf_map_lookup_elem(ifaces, &v.host.ifindex, &ent);
	if (have_ent && (ent.flags & XDPCTL_IF_UPLINK)) {
		err = dp_err(dp, -EINVAL, "%s: an attached uplink, not a container veth", dev);
		goto out;
	}
	if (!have_ent || !ent.refcnt) {
		nsfd = dp_veth_netns(dp, &v, peer_netns);
		if (nsfd < -1) {
			err = nsfd;
			goto out;
		}
		err = dp_veth_setup(dp, &v, nsfd, &ret, &ent);
		dp_retprog_put(&ret);
		if (err)
			goto out;
		set_up = true;
	}

	dp_bypass_value(&vals[0], v.host.ifindex, v.mtu, dmac ? dmac : v.peer.mac,
		   smac ? smac : v.smac);
	if (bpf_map_update_elem(bypass, addr, vals, BPF_NOEXIST)) {
		if (errno == E2BIG)
			err = dp_err(dp, -E2BIG, "%s: the bypass map is full (%u rules)", a,
				     dp->max_rules);
		else if (errno == EEXIST)
			err = dp_err(dp, -EEXIST, "%s: bypass rule exists", a);
		else
			err = dp_err(dp, -errno, "%s: writing the rule: %s", a, strerror(errno));
		goto rollback;
	}
	written = true;
	ent.refcnt++;
	if (dp_ifaces_update(dp, v.host.ifindex, &ent, BPF_ANY)) {
		err = errno == E2BIG ?
			dp_err(dp, -E2BIG, "%s: the ifaces map is full (%u devices)", dev,
			       XDPCTL_MAX_IFACES) :
			dp_err(dp, -errno, "%s: writing the ifaces entry: %s", dev, strerror(errno));
		goto rollback;
	}
	goto out;

rollback:
	if (written)
		bpf_map_delete_elem(bypass, addr);
	if (set_up) {
		ent.refcnt = 0;
		dp_veth_teardown(dp, v.host.ifindex, &ent);
		/* Teardown deletes only what setup wrote; no entry was there before. */
		if (!have_ent)
			dp_ifaces_delete(dp, v.host.ifindex);
	}
out:
	if (nsfd >= 0)
		close(nsfd);
	dp_unlock(dp);
out_free:
	free(vals);
	return dp_ret(err);
}

int dp_bypass_walk(struct xdpctl_dp *dp, dp_bypass_batch_fn fn, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	int fd = dp_map_fd(dp, DP_MAP_BYPASS);
	struct xdpctl_addr in, out, *keys = NULL;
	struct xdpctl_bypass *vals = NULL;
	__u32 chunk = LIST_CHUNK, count;
	bool first = true, last = false;
	int err = 0;

	while (!last) {
		if (!keys) {
			keys = calloc(chunk, sizeof(*keys));
			vals = calloc(chunk, sizeof(*vals));
			if (!keys || !vals) {
				err = -ENOMEM;
				break;
			}
		}
		count = chunk;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count, &bo);
		if (err == -ENOSPC && !count) {
			/* A hash bucket holds more than chunk keys: bigger buffers. */
			free(keys);
			free(vals);
			keys = NULL;
			vals = NULL;
			chunk *= 2;
			err = 0;
			continue;
		}
		if (err == -ENOENT) {
			last = true;
			err = 0;
		} else if (err) {
			break;
		}
		if (count) {
			err = fn(dp, keys, vals, count, ctx);
			if (err)
				break;
		}
		in = out;
		first = false;
	}
	free(keys);
	free(vals);
	return err;
}

struct count_ctx {
	__u32 ifindex;
	long n;
};

static int count_batch(struct xdpctl_dp *dp, const struct xdpctl_addr *keys,
		       const struct xdpctl_bypass *vals, __u32 count, void *ctx)
{
	struct count_ctx *c = ctx;
	__u32 i;

	(void)dp; /* one value per key: no per-CPU count to know */
	(void)keys;
	for (i = 0; i < count; i++)
		if (vals[i].ifindex == c->ifindex)
			c->n++;
	return 0;
}

/* Rules in the bypass map that name veth @ifindex; negative errno if the scan failed. */
static long rules_of(struct xdpctl_dp *dp, __u32 ifindex)
{
	struct count_ctx c = { .ifindex = ifindex };
	int err = dp_bypass_walk(dp, count_batch, &c);

	return err ? err : c.n;
}

int xdpctl_dp__bypass_del(struct xdpctl_dp *dp, const struct xdpctl_addr *addr)
{
	int bypass = dp_map_fd(dp, DP_MAP_BYPASS), ifaces = dp_map_fd(dp, DP_MAP_IFACES);
	struct xdpctl_bypass *vals;
	struct xdpctl_iface ent;
	__u32 ifindex;
	long left;
	char a[64];
	int err;

	if (!dp)
		return dp_ret(-EINVAL);
	if (!dp_addr_valid(addr))
		return dp_err(dp, -EINVAL, "bypass rule: not a valid IPv4 or IPv6 key");
	dp_addr_str(addr, a);
	vals = calloc(1, sizeof(*vals));
	if (!vals)
		return dp_err(dp, -ENOMEM, "out of memory");
	err = dp_lock(dp);
	if (err)
		goto out_free;
	if (bpf_map_lookup_elem(bypass, addr, vals)) {
		err = dp_err(dp, -ENOENT, "%s: no such bypass rule", a);
		goto out;
	}
	ifindex = vals[0].ifindex;
	if (bpf_map_delete_elem(bypass, addr)) {
		err = dp_err(dp, -errno, "%s: deleting the rule: %s", a, strerror(errno));
		goto out;
	}
	if (bpf_map_lookup_elem(ifaces, &ifindex, &ent) || !(ent.flags & XDPCTL_IF_VETH))
		goto out;
	if (ent.refcnt)
		ent.refcnt--;
	if (!ent.refcnt) {
		/*
		 * Recount before the teardown: a process killed between storing
		 * a rule and counting it leaves the count low, and tearing the
		 * veth down would strand its live rules.
		 */
		left = rules_of(dp, ifindex);
		if (left) {
			if (left < 0)
				dp_log(XDPCTL_LOG_WARN, "%s: recounting the rules of ifindex %u: %s; veth kept\n",
				       a, ifindex, strerror((int)-left));
			else
				dp_log(XDPCTL_LOG_WARN, "%s: ifindex %u was counted %ld rule(s) low: %ld still use it; veth kept\n",
				       a, ifindex, left, left);
			ent.refcnt = left > 0 ? (__u32)left : 0;
			if (left < 0)
				goto out;
		}
	}
	if (ent.refcnt) {
		dp_ifaces_update(dp, ifindex, &ent, BPF_EXIST);
		goto out;
	}
	/*
	 * The rule is gone either way; what the veth no longer needs goes now.
	 * If some of it cannot, the entry stays with no rule, and `detach VETH`
	 * retries; the rule's deletion still counts as done.
	 */
	dp_ifaces_update(dp, ifindex, &ent, BPF_EXIST);
	if (dp_veth_teardown(dp, ifindex, &ent))
		dp_log(XDPCTL_LOG_WARN, "%s: %s\n", a, dp->errmsg);
out:
	dp_unlock(dp);
out_free:
	free(vals);
	return dp_ret(err);
}

/* ifindex -> name, remembered for a listing (most rules share few veths). */
struct name_cache {
	__u32 ifindex[64];
	char name[64][IF_NAMESIZE];
	bool present[64];
	unsigned int n, next;
};

static bool cache_name(struct name_cache *c, __u32 ifindex, char name[IF_NAMESIZE])
{
	unsigned int i, slot;

	for (i = 0; i < c->n; i++) {
		if (c->ifindex[i] == ifindex) {
			memcpy(name, c->name[i], IF_NAMESIZE);
			return c->present[i];
		}
	}
	slot = c->n < 64 ? c->n++ : c->next++ % 64;
	c->ifindex[slot] = ifindex;
	c->present[slot] = !dp_ifname(ifindex, c->name[slot]);
	if (!c->present[slot])
		c->name[slot][0] = '\0';
	memcpy(name, c->name[slot], IF_NAMESIZE);
	return c->present[slot];
}

static void fill_rule(const struct xdpctl_addr *key, const struct xdpctl_bypass *val,
		      struct name_cache *nc, struct xdpctl_bypass_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->addr = *key;
	r->ifindex = val->ifindex;
	r->mtu = val->mtu;
	memcpy(r->dmac, val->dmac, 6);
	memcpy(r->smac, val->smac, 6);
	r->in_packets = val->in_packets;
	r->in_bytes = val->in_bytes;
	r->out_packets = val->out_packets;
	r->out_bytes = val->out_bytes;
	r->stale = !cache_name(nc, r->ifindex, r->dev);
}

int xdpctl_dp__bypass_get(struct xdpctl_dp *dp, const struct xdpctl_addr *addr,
			  struct xdpctl_bypass_rule *out)
{
	struct xdpctl_bypass *vals;
	struct name_cache *nc;
	char a[64];
	int err = 0;

	if (!dp || !out)
		return dp_ret(-EINVAL);
	if (!dp_addr_valid(addr))
		return dp_err(dp, -EINVAL, "bypass rule: not a valid IPv4 or IPv6 key");
	vals = calloc(1, sizeof(*vals));
	nc = calloc(1, sizeof(*nc));
	if (!vals || !nc) {
		err = dp_err(dp, -ENOMEM, "out of memory");
		goto out;
	}
	if (bpf_map_lookup_elem(dp_map_fd(dp, DP_MAP_BYPASS), addr, vals)) {
		err = dp_err(dp, -ENOENT, "%s: no such bypass rule", dp_addr_str(addr, a));
		goto out;
	}
	fill_rule(addr, vals, nc, out);
out:
	free(vals);
	free(nc);
	return dp_ret(err);
}

struct each_ctx {
	xdpctl_bypass_cb cb;
	void *ctx;
	struct name_cache *nc;
	bool stopped;            /* cb returned non-zero */
};

static int each_batch(struct xdpctl_dp *dp, const struct xdpctl_addr *keys,
		      const struct xdpctl_bypass *vals, __u32 count, void *ctx)
{
	struct each_ctx *e = ctx;
	struct xdpctl_bypass_rule r;
	__u32 i;

	(void)dp; /* one value per key: no per-CPU count to know */
	int err;

	for (i = 0; i < count; i++) {
		fill_rule(&keys[i], &vals[i], e->nc, &r);
		err = e->cb(&r, e->ctx);
		if (err) {
			e->stopped = true;
			return err;
		}
	}
	return 0;
}

int xdpctl_dp__bypass_for_each(struct xdpctl_dp *dp, xdpctl_bypass_cb cb, void *ctx)
{
	struct each_ctx e = { .cb = cb, .ctx = ctx };
	int err;

	if (!dp || !cb)
		return dp_ret(-EINVAL);
	e.nc = calloc(1, sizeof(*e.nc));
	if (!e.nc)
		return dp_err(dp, -ENOMEM, "out of memory");
	err = dp_bypass_walk(dp, each_batch, &e);
	free(e.nc);
	if (err < 0 && !e.stopped)
		return dp_err(dp, err, "reading the bypass map: %s", strerror(-err));
	return err < 0 ? dp_ret(err) : err;
}
