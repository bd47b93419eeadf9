// SPDX-License-Identifier: GPL-2.0-only
/*
 * Leases on tracing and capture (abi.h, struct xdpctl_lease): a reader takes
 * a slot with an expiry, renews it while it reads and clears it when done;
 * until_ns, which the programs compare with their clock, is recomputed from
 * the live slots under the pin dir lock each time. A reader that dies stops
 * renewing and its slot lapses by itself; two readers hold two slots, so
 * neither switches the other off.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "lease.h"

__u64 dp_mono_ns(void)
{
	struct timespec ts;

	/* what bpf_ktime_get_ns() and (a tick behind) bpf_ktime_get_coarse_ns() read */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static struct xdpctl_lease *lease_of(struct xdpctl_config *cfg, enum dp_lease_kind kind)
{
	return kind == DP_LEASE_CAPTURE ? &cfg->capture : &cfg->trace;
}

static bool filter_same(const struct xdpctl_capture_filter *x, const struct xdpctl_capture_filter *y)
{
	return !memcmp(&x->a, &y->a, sizeof(x->a)) && !memcmp(&x->b, &y->b, sizeof(x->b)) &&
	       x->port == y->port && x->l4proto == y->l4proto;
}

/* Forget lapsed slots; until_ns and (capture) the programs' filter from the live ones. */
static void recompute(struct xdpctl_config *cfg, enum dp_lease_kind kind, __u64 now)
{
	struct xdpctl_lease *l = lease_of(cfg, kind);
	struct xdpctl_capture_filter f = {};
	bool first = true, same = true;
	int i;

	l->until_ns = 0;
	for (i = 0; i < XDPCTL_LEASE_SLOTS; i++) {
		if (l->slot[i] <= now) {
			l->slot[i] = 0;
			if (kind == DP_LEASE_CAPTURE)
				memset(&cfg->cap_slot[i], 0, sizeof(cfg->cap_slot[i]));
			continue;
		}
		if (l->slot[i] > l->until_ns)
			l->until_ns = l->slot[i];
		if (kind != DP_LEASE_CAPTURE)
			continue;
		if (first) {
			f = cfg->cap_slot[i];
			first = false;
			continue;
		}
		if (!filter_same(&f, &cfg->cap_slot[i]))
			same = false;
		if (cfg->cap_slot[i].snaplen > f.snaplen)
			f.snaplen = cfg->cap_slot[i].snaplen;
		if (cfg->cap_slot[i].rate > f.rate)
			f.rate = cfg->cap_slot[i].rate;
		if ((cfg->cap_slot[i].sample ? cfg->cap_slot[i].sample : 1) < (f.sample ? f.sample : 1))
			f.sample = cfg->cap_slot[i].sample;
	}
	if (kind != DP_LEASE_CAPTURE)
		return;
	if (!same) {
		/* readers want different packets: copy all, each reader filters */
		memset(&f.a, 0, sizeof(f.a));
		memset(&f.b, 0, sizeof(f.b));
		f.port = 0;
		f.l4proto = 0;
	}
	cfg->cap = f;
}

/* Is the inner map at @slot of the events map our ring? */
static bool ring_is_ours(const struct dp_lease *l, int slot)
{
	__u32 key = slot, id = 0;

	return l->outer_fd >= 0 && !bpf_map_lookup_elem(l->outer_fd, &key, &id) && id == l->ring_id;
}

enum lease_op { LEASE_TAKE, LEASE_RENEW, LEASE_RELEASE };

/*
 * Under the pin dir lock: read the config, take a free slot / renew ours /
 * clear ours, recompute, write. A reader's ring goes into its slot before
 * the slot is live, and out after it is dead. A renewal that finds its
 * slot lapsed and reused (the reader stalled longer than the lease) takes
 * a free slot again.
 */
static int lease_update(struct dp_lease *l, enum lease_op op, const struct xdpctl_capture_filter *f)
{
	__u64 now = dp_mono_ns(), until = now + XDPCTL_LEASE_MS * 1000000ull;
	struct xdpctl_config cfg;
	struct xdpctl_lease *ls;
	__u32 key = 0, k;
	int i, err = 0;

	if (flock(l->dir_fd, LOCK_EX))
		return -errno;
	if (bpf_map_lookup_elem(l->cfg_fd, &key, &cfg)) {
		err = -errno;
		goto out;
	}
	ls = lease_of(&cfg, l->kind);
	if (op != LEASE_TAKE && (l->slot < 0 || ls->slot[l->slot] != l->until_ns)) {
		/* not ours any more: lapsed, maybe taken by another reader */
		if (op == LEASE_RELEASE)
			goto write;
		op = LEASE_TAKE;
	}
	if (op == LEASE_TAKE) {
		if (l->kind == DP_LEASE_CAPTURE) {
			/* one capture at a time: its ring is one */
			for (i = 0; i < XDPCTL_LEASE_SLOTS; i++)
				if (ls->slot[i] > now) {
					err = -EBUSY;
					goto out;
				}
		}
		/* a free slot: never used, released, or lapsed */
		for (i = 0; i < XDPCTL_LEASE_SLOTS; i++)
			if (ls->slot[i] <= now)
				break;
		if (i == XDPCTL_LEASE_SLOTS) {
			err = -EBUSY;
			goto out;
		}
		l->slot = i;
		if (l->ring_fd >= 0) {
			k = i;
			if (bpf_map_update_elem(l->outer_fd, &k, &l->ring_fd, BPF_ANY)) {
				err = -errno;
				goto out;
			}
		}
		if (l->kind == DP_LEASE_CAPTURE && f)
			cfg.cap_slot[i] = *f;
	}
	if (op == LEASE_RELEASE) {
		ls->slot[l->slot] = 0;
		until = 0;
	} else {
		ls->slot[l->slot] = until;
	}
write:
	recompute(&cfg, l->kind, now);
	if (bpf_map_update_elem(l->cfg_fd, &key, &cfg, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	if (op == LEASE_RELEASE && l->slot >= 0 && ring_is_ours(l, l->slot)) {
		k = l->slot;
		bpf_map_delete_elem(l->outer_fd, &k);
	}
	l->until_ns = until;
out:
	flock(l->dir_fd, LOCK_UN);
	return err;
}

int dp_lease_take(struct xdpctl_dp *dp, enum dp_lease_kind kind,
		  const struct xdpctl_capture_filter *f, int ring_fd, struct dp_lease *l)
{
	const char *what = kind == DP_LEASE_CAPTURE ? "capture" : "trace";
	int fd = dp_map_fd(dp, DP_MAP_CONFIG), err;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	memset(l, 0, sizeof(*l));
	l->cfg_fd = l->dir_fd = l->outer_fd = l->ring_fd = -1;
	l->slot = -1;
	l->kind = kind;
	if (fd < 0)
		return dp_err(dp, -ENOENT, "%s/%s: not open", dp->pin_dir, XDPCTL_MAP_CONFIG);
	/* our own fds: the reader may outlive the handle, and flock is per open file */
	l->cfg_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	l->dir_fd = open(dp->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->cfg_fd < 0 || l->dir_fd < 0) {
		err = dp_err(dp, -errno, "%s: %s", dp->pin_dir, strerror(errno));
		dp_lease_release(l);
		return err;
	}
	if (ring_fd >= 0) {
		l->outer_fd = fcntl(dp_map_fd(dp, DP_MAP_EVENTS), F_DUPFD_CLOEXEC, 3);
		if (l->outer_fd < 0 || bpf_obj_get_info_by_fd(ring_fd, &info, &len)) {
			err = dp_err(dp, -errno, "%s: %s", XDPCTL_MAP_EVENTS, strerror(errno));
			dp_lease_release(l);
			return err;
		}
		l->ring_fd = ring_fd;
		l->ring_id = info.id;
	}
	err = lease_update(l, LEASE_TAKE, f);
	if (err) {
		if (err == -EBUSY && kind == DP_LEASE_CAPTURE)
			dp_err(dp, err, "%s: another capture is running (its lease lapses %d s after it ends)",
			       dp->pin_dir, XDPCTL_LEASE_MS / 1000);
		else if (err == -EBUSY)
			dp_err(dp, err, "%s: all %d %s leases are held by running readers",
			       XDPCTL_MAP_CONFIG, XDPCTL_LEASE_SLOTS, what);
		else
			dp_err(dp, err, "%s: taking the %s lease: %s", XDPCTL_MAP_CONFIG, what,
			       strerror(-err));
		l->slot = -1;
		dp_lease_release(l);
		return err;
	}
	l->renewed_ns = dp_mono_ns();
	return 0;
}

int dp_lease_renew(struct dp_lease *l)
{
	__u64 now = dp_mono_ns();
	int err;

	if (l->slot < 0)
		return -ENOENT;
	/* four renewals per lease: one late wakeup does not let it lapse */
	if (now - l->renewed_ns < XDPCTL_LEASE_MS * 1000000ull / 4)
		return 0;
	err = lease_update(l, LEASE_RENEW, NULL);
	if (!err)
		l->renewed_ns = now;
	return err;
}

void dp_lease_release(struct dp_lease *l)
{
	if (l->slot >= 0 && l->cfg_fd >= 0 && l->dir_fd >= 0)
		lease_update(l, LEASE_RELEASE, NULL);
	l->slot = -1;
	if (l->cfg_fd >= 0)
		close(l->cfg_fd);
	if (l->dir_fd >= 0)
		close(l->dir_fd);
	if (l->outer_fd >= 0)
		close(l->outer_fd);
	l->cfg_fd = l->dir_fd = l->outer_fd = -1;
	l->ring_fd = -1; /* the caller's */
}

int dp_lease_state(struct xdpctl_dp *dp, enum dp_lease_kind kind, struct xdpctl_config *out,
		   int *readers)
{
	struct xdpctl_config cfg = {};
	struct xdpctl_lease *l;
	__u64 now = dp_mono_ns();
	__u32 key = 0;
	int i;

	if (bpf_map_lookup_elem(dp_map_fd(dp, DP_MAP_CONFIG), &key, &cfg))
		return dp_err(dp, -errno, "reading %s: %s", XDPCTL_MAP_CONFIG, strerror(errno));
	l = lease_of(&cfg, kind);
	*readers = 0;
	for (i = 0; i < XDPCTL_LEASE_SLOTS; i++)
		if (l->slot[i] > now)
			(*readers)++;
	if (l->until_ns <= now)
		*readers = 0;
	if (out)
		*out = cfg;
	return 0;
}
