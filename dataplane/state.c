// SPDX-License-Identifier: GPL-2.0-only
/*
 * The handle over the pinned state: find or create the pin dir and the maps
 * in it, check every pinned map's layout against abi.h, the edit lock, error
 * messages, and removal of the pins. Maps are created by loading the XDP
 * skeleton with pin_root_path (the maps are LIBBPF_PIN_BY_NAME); read-only
 * users only open the pins by path and never load a program.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "xdp.skel.h"

/* The layout abi.h promises for each pinned map (max_entries 0: any). */
static const struct map_spec {
	const char *name;
	enum bpf_map_type type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
} map_specs[DP_MAP_MAX] = {
	[DP_MAP_BYPASS] = { XDPCTL_MAP_BYPASS, BPF_MAP_TYPE_HASH,
			    sizeof(struct xdpctl_addr), sizeof(struct xdpctl_bypass), 0 },
	[DP_MAP_PINGPONG] = { XDPCTL_MAP_PINGPONG, BPF_MAP_TYPE_PERCPU_HASH,
			      sizeof(struct xdpctl_addr), sizeof(struct xdpctl_pingpong),
			      XDPCTL_MAX_PINGPONG },
	[DP_MAP_DEVMAP] = { XDPCTL_MAP_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH,
			    sizeof(__u32), sizeof(__u32), XDPCTL_MAX_IFACES },
	[DP_MAP_IFACES] = { XDPCTL_MAP_IFACES, BPF_MAP_TYPE_HASH,
			    sizeof(__u32), sizeof(struct xdpctl_iface), XDPCTL_MAX_IFACES },
	[DP_MAP_STATS] = { XDPCTL_MAP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY,
			   sizeof(__u32), sizeof(struct xdpctl_counter), XDPCTL_STATS_ENTRIES },
	[DP_MAP_CONFIG] = { XDPCTL_MAP_CONFIG, BPF_MAP_TYPE_ARRAY,
			    sizeof(__u32), sizeof(struct xdpctl_config), 1 },
	[DP_MAP_EVENTS] = { XDPCTL_MAP_EVENTS, BPF_MAP_TYPE_ARRAY_OF_MAPS,
			    sizeof(__u32), sizeof(__u32), XDPCTL_LEASE_SLOTS },
	[DP_MAP_CAPTURE] = { XDPCTL_MAP_CAPTURE, BPF_MAP_TYPE_RINGBUF, 0, 0,
			     XDPCTL_CAPTURE_BYTES },
	[DP_MAP_CAPSTAT] = { XDPCTL_MAP_CAPSTAT, BPF_MAP_TYPE_PERCPU_ARRAY,
			     sizeof(__u32), sizeof(struct xdpctl_capstat), 1 },
	[DP_MAP_SIZES] = { XDPCTL_MAP_SIZES, BPF_MAP_TYPE_PERCPU_ARRAY,
			   sizeof(__u32), sizeof(struct xdpctl_counter), XDPCTL_SIZES_ENTRIES },
	[DP_MAP_ABI] = { XDPCTL_MAP_ABI, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(__u32), 1 },
	[DP_MAP_FLOWS] = { XDPCTL_MAP_FLOWS, BPF_MAP_TYPE_LRU_PERCPU_HASH,
			   sizeof(struct xdpctl_flow_key), sizeof(struct xdpctl_flow),
			   XDPCTL_MAX_FLOWS },
	[DP_MAP_FLOWSTAT] = { XDPCTL_MAP_FLOWSTAT, BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
			      sizeof(struct xdpctl_counter), XDPCTL_FLOWSTAT_ENTRIES },
};

/* The failure of the last xdpctl_dp__open() (or other handle-less call) here. */
static __thread char open_errmsg[512];
static __thread enum xdpctl_errkind open_errkind;
static __thread char open_errobj[PATH_MAX];

static int dp_verr(struct xdpctl_dp *dp, int err, enum xdpctl_errkind kind, const char *obj,
		   const char *fmt, va_list ap)
{
	char *buf = dp ? dp->errmsg : open_errmsg;
	size_t len = dp ? sizeof(dp->errmsg) : sizeof(open_errmsg);
	char *objbuf = dp ? dp->errobj : open_errobj;

	vsnprintf(buf, len, fmt, ap);
	snprintf(objbuf, PATH_MAX, "%s", obj ? obj : "");
	*(dp ? &dp->errkind : &open_errkind) = kind;
	dp_log(XDPCTL_LOG_DEBUG, "error: %s\n", buf);
	return dp_ret(err);
}

int dp_err(struct xdpctl_dp *dp, int err, const char *fmt, ...)
{
	enum xdpctl_errkind kind = err == -EPERM || err == -EACCES ? XDPCTL_ERR_PERM : XDPCTL_ERR_OTHER;
	va_list ap;

	va_start(ap, fmt);
	err = dp_verr(dp, err, kind, NULL, fmt, ap);
	va_end(ap);
	return err;
}

int dp_errk(struct xdpctl_dp *dp, int err, enum xdpctl_errkind kind, const char *obj,
	    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = dp_verr(dp, err, kind, obj, fmt, ap);
	va_end(ap);
	return err;
}

/* The thread's handle-less error onto @dp (kind and object too). */
static void dp_err_copy(struct xdpctl_dp *dp, bool from_thread)
{
	if (from_thread) {
		snprintf(dp->errmsg, sizeof(dp->errmsg), "%s", open_errmsg);
		snprintf(dp->errobj, sizeof(dp->errobj), "%s", open_errobj);
		dp->errkind = open_errkind;
	} else {
		snprintf(open_errmsg, sizeof(open_errmsg), "%s", dp->errmsg);
		snprintf(open_errobj, sizeof(open_errobj), "%s", dp->errobj);
		open_errkind = dp->errkind;
	}
}

const char *xdpctl_dp__errmsg(const struct xdpctl_dp *dp)
{
	return dp ? dp->errmsg : open_errmsg;
}

enum xdpctl_errkind xdpctl_dp__errkind(const struct xdpctl_dp *dp)
{
	return dp ? dp->errkind : open_errkind;
}

const char *xdpctl_dp__errobj(const struct xdpctl_dp *dp)
{
	return dp ? dp->errobj : open_errobj;
}

const char *xdpctl_dp__pin_dir(const struct xdpctl_dp *dp)
{
	return dp ? dp->pin_dir : NULL;
}

int dp_map_fd(const struct xdpctl_dp *dp, enum dp_map m)
{
	return dp && m < DP_MAP_MAX ? dp->map_fd[m] : -EINVAL;
}

const char *dp_map_name(enum dp_map m)
{
	return m < DP_MAP_MAX ? map_specs[m].name : NULL;
}

static int pin_path(const struct xdpctl_dp *dp, const char *name, char path[PATH_MAX]);

/* Is the config map pinned under the pin dir still the one this handle has open? */
static bool pins_current(const struct xdpctl_dp *dp)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	bool same;
	int fd;

	if (dp->map_fd[DP_MAP_CONFIG] < 0)
		return true; /* nothing open yet: being created under this lock */
	if (pin_path(dp, map_specs[DP_MAP_CONFIG].name, path))
		return false;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	same = !bpf_obj_get_info_by_fd(fd, &info, &len) && info.id == dp->map_id[DP_MAP_CONFIG];
	close(fd);
	return same;
}

int dp_lock(struct xdpctl_dp *dp)
{
	if (dp->lock_depth++)
		return 0;
	if (flock(dp->dir_fd, LOCK_EX)) {
		dp->lock_depth = 0;
		return dp_err(dp, -errno, "%s: cannot lock: %s", dp->pin_dir, strerror(errno));
	}
	/*
	 * The lock is on the directory this handle opened: after another
	 * process removed the state (pins unlinked, the directory perhaps
	 * gone and made anew), the maps open here are no longer the state.
	 */
	if (!pins_current(dp)) {
		flock(dp->dir_fd, LOCK_UN);
		dp->lock_depth = 0;
		return dp_err(dp, -ESTALE, "%s: the state was removed by another xdpctl while this one had it open: run the command again",
			      dp->pin_dir);
	}
	return 0;
}

void dp_unlock(struct xdpctl_dp *dp)
{
	if (dp->lock_depth > 0 && !--dp->lock_depth)
		flock(dp->dir_fd, LOCK_UN);
}

/*
 * Add 1 to the ifaces generation: one atomic add on the config map's mmap,
 * so a program never reads a half-written value and no concurrent bump is
 * lost. The caller holds the lock: the leases rewrite the whole config
 * value (lease.c), also under it, and must not write back an older
 * generation. 0 or a negative errno.
 */
static int ifaces_gen_bump(struct xdpctl_dp *dp)
{
	long page = sysconf(_SC_PAGESIZE);
	struct xdpctl_config *cfg;
	void *mem;

	if (page <= 0 || sizeof(*cfg) > (size_t)page)
		return -EINVAL;
	mem = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, dp->map_fd[DP_MAP_CONFIG], 0);
	if (mem == MAP_FAILED)
		return -errno;
	cfg = mem;
	__atomic_fetch_add(&cfg->ifaces_gen, 1, __ATOMIC_SEQ_CST);
	munmap(mem, page);
	return 0;
}

/*
 * The edit of the ifaces map, then the bump: a program that reads the new
 * generation is sure to find the new entry in the map (entry.h). The bump
 * follows a failed edit too (nothing changed: the copies are refilled once).
 */
static int ifaces_edit(struct xdpctl_dp *dp, __u32 ifindex, const struct xdpctl_iface *e,
		       __u64 flags)
{
	int fd = dp_map_fd(dp, DP_MAP_IFACES);
	int err, saved, bump;

	if (fd < 0)
		return dp_ret(-EBADF);
	err = dp_lock(dp);
	if (err)
		return err;
	err = e ? bpf_map_update_elem(fd, &ifindex, e, flags) : bpf_map_delete_elem(fd, &ifindex);
	saved = errno;
	bump = ifaces_gen_bump(dp);
	dp_unlock(dp);
	if (bump && !err) {
		/* The entry changed and the programs may not see it: say so. */
		dp_log(XDPCTL_LOG_WARN, "%s/%s: bumping the ifaces generation: %s\n", dp->pin_dir,
		       XDPCTL_MAP_CONFIG, strerror(-bump));
		return dp_ret(bump);
	}
	errno = saved;
	return err ? dp_ret(-saved) : 0;
}

int dp_ifaces_update(struct xdpctl_dp *dp, __u32 ifindex, const struct xdpctl_iface *e,
		     __u64 flags)
{
	return e ? ifaces_edit(dp, ifindex, e, flags) : dp_ret(-EINVAL);
}

int dp_ifaces_delete(struct xdpctl_dp *dp, __u32 ifindex)
{
	return ifaces_edit(dp, ifindex, NULL, 0);
}

int dp_prepare_obj(struct xdpctl_dp *dp, struct bpf_object *obj)
{
	struct bpf_map *map;
	int m, err;

	for (m = 0; m < DP_MAP_MAX; m++) {
		map = bpf_object__find_map_by_name(obj, map_specs[m].name);
		if (!map)
			continue;
		if (dp->map_fd[m] < 0) {
			/* Created by this load (only the bypass map is sized at run time). */
			if (m == DP_MAP_BYPASS) {
				err = bpf_map__set_max_entries(map, dp->max_rules ? dp->max_rules :
								dp_default_max_rules());
				if (err)
					return err;
			}
			continue;
		}
		/*
		 * Take the pinned map's definition: libbpf 1.1 compares map_flags
		 * when it reuses a pin, and the kernel adds BPF_F_RDONLY_PROG to
		 * every devmap, which no definition can ask for at creation.
		 */
		err = bpf_map__reuse_fd(map, dp->map_fd[m]);
		if (err)
			return err;
	}
	return 0;
}

/* Nearest existing ancestor of @path (or @path itself) must be on a bpffs; @where gets it. */
static int check_bpffs(const char *path, char *where, size_t len)
{
	char p[PATH_MAX];
	struct statfs st;
	char *slash;

	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		if (!statfs(p, &st)) {
			snprintf(where, len, "%s", p);
			return (unsigned long)st.f_type == BPF_FS_MAGIC ? 0 : -ENODEV;
		}
		if (errno != ENOENT)
			return -errno;
		slash = strrchr(p, '/');
		if (!slash || slash == p) {
			snprintf(where, len, "/");
			return -ENODEV;
		}
		*slash = '\0';
	}
}

int xdpctl_pin_dir_check(const char *dir, unsigned int what)
{
	char where[PATH_MAX], mount_at[PATH_MAX];
	const char *base;
	int err;

	if (!dir)
		return dp_errk(NULL, -EINVAL, XDPCTL_ERR_PIN_DIR, "", "no pin dir");
	if (what & XDPCTL_PIN_DIR_NAME) {
		if (dir[0] != '/' || strlen(dir) > XDPCTL_PIN_DIR_MAX)
			return dp_errk(NULL, -EINVAL, XDPCTL_ERR_PIN_DIR, dir,
				       "pin dir '%s': expected an absolute path of at most %d characters",
				       dir, XDPCTL_PIN_DIR_MAX);
		base = strrchr(dir, '/');
		if (strchr(base, '.'))
			return dp_errk(NULL, -EINVAL, XDPCTL_ERR_PIN_DIR, dir,
				       "pin dir '%s': bpffs names cannot contain '.'", dir);
	}
	if (what & XDPCTL_PIN_DIR_BPFFS) {
		err = check_bpffs(dir, where, sizeof(where));
		if (err == -ENODEV) {
			/* the usual mount point, whatever the nearest existing directory below it */
			if (!strncmp(dir, "/sys/fs/bpf/", 12) || !strcmp(dir, "/sys/fs/bpf"))
				snprintf(mount_at, sizeof(mount_at), "/sys/fs/bpf");
			else
				snprintf(mount_at, sizeof(mount_at), "%s", where);
			return dp_errk(NULL, -ENODEV, XDPCTL_ERR_NO_BPFFS, mount_at,
				       "%s: not on a bpffs (%s is not one; mount -t bpf bpf /sys/fs/bpf)",
				       dir, where);
		}
		if (err)
			return dp_err(NULL, err, "%s: %s", dir, strerror(-err));
	}
	return 0;
}

int dp_pin_path(const struct xdpctl_dp *dp, const char *name, char path[PATH_MAX])
{
	return pin_path(dp, name, path);
}

static int pin_path(const struct xdpctl_dp *dp, const char *name, char path[PATH_MAX])
{
	int n = snprintf(path, PATH_MAX, "%s/%s", dp->pin_dir, name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Open the pin of map @m; 0, -ENOENT when missing, -EEXIST when stale. */
static int open_map(struct xdpctl_dp *dp, enum dp_map m)
{
	const struct map_spec *s = &map_specs[m];
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	if (pin_path(dp, s->name, path))
		return dp_err(dp, -ENAMETOOLONG, "%s: path too long", dp->pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return dp_err(dp, -errno, "%s: %s", path, strerror(errno));
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		int err = -errno;

		close(fd);
		if (err == -EINVAL)
			return dp_errk(dp, -EEXIST, XDPCTL_ERR_STALE_PIN, path, "%s: not a map (%s)",
				       path, strerror(-err));
		return dp_err(dp, err, "%s: not a map (%s)", path, strerror(-err));
	}
	if (info.type != s->type || info.key_size != s->key_size ||
	    info.value_size != s->value_size ||
	    (s->max_entries && info.max_entries != s->max_entries)) {
		close(fd);
		return dp_errk(dp, -EEXIST, XDPCTL_ERR_STALE_PIN, path,
			      "%s: pinned map has another layout (type %u key %u value %u entries %u, expected type %u key %u value %u%s): stale state of another xdpctl version, remove it",
			      path, info.type, info.key_size, info.value_size, info.max_entries,
			      s->type, s->key_size, s->value_size,
			      s->max_entries ? "" : " any entries");
	}
	dp->map_fd[m] = fd;
	dp->map_id[m] = info.id;
	if (m == DP_MAP_BYPASS)
		dp->max_rules = info.max_entries;
	return 0;
}

/* Create what is missing by loading the XDP object with the pin root set. */
static int create_maps(struct xdpctl_dp *dp, __u32 max_rules)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .pin_root_path = dp->pin_dir);
	struct xdpctl_xdp *skel;
	int err;

	skel = xdpctl_xdp__open_opts(&o);
	if (!skel)
		return dp_err(dp, -errno, "opening the XDP object: %s", strerror(errno));
	if (!dp->max_rules && dp->map_fd[DP_MAP_BYPASS] < 0)
		dp->max_rules = max_rules;
	err = dp_prepare_obj(dp, skel->obj);
	if (!err) {
		dp_libbpf_clear();
		err = xdpctl_xdp__load(skel);
	}
	if (err) {
		if (*dp_libbpf_stale_path())
			err = dp_errk(dp, -EEXIST, XDPCTL_ERR_STALE_PIN, dp_libbpf_stale_path(),
				      "%s: pinned map has another layout: stale state of another xdpctl version, remove it",
				      dp_libbpf_stale_path());
		else
			err = dp_err(dp, err, "creating the maps under %s: %s", dp->pin_dir,
				     strerror(-err));
	}
	xdpctl_xdp__destroy(skel);
	return err;
}

static int open_all(struct xdpctl_dp *dp, bool create, bool *missing)
{
	int m, err;

	*missing = false;
	for (m = 0; m < DP_MAP_MAX; m++) {
		if (dp->map_fd[m] >= 0)
			continue;
		err = open_map(dp, m);
		if (err == -ENOENT) {
			if (!create)
				return dp_errk(dp, -ENOENT, XDPCTL_ERR_NO_STATE, dp->pin_dir,
					       "%s/%s: no such pinned map", dp->pin_dir,
					       map_specs[m].name);
			*missing = true;
			continue;
		}
		if (err)
			return err;
	}
	return 0;
}

/*
 * The state's ABI version, before any map's layout is checked: a state of
 * another version is refused as a whole, with the way out. A state without
 * the stamp but with maps was made before the stamp existed (ABI 1); a
 * stamp of 0 is a state being created right now (the stamp follows).
 */
static int check_abi(struct xdpctl_dp *dp)
{
	char path[PATH_MAX];
	__u32 key = 0, ver = 0;
	int err;

	err = open_map(dp, DP_MAP_ABI);
	if (err == -ENOENT) {
		if (pin_path(dp, map_specs[DP_MAP_CONFIG].name, path) || access(path, F_OK))
			return 0; /* no state here yet */
		return dp_errk(dp, -EPROTO, XDPCTL_ERR_ABI, dp->pin_dir,
			      "%s holds the state of an xdpctl older than ABI %d (no ABI stamp): detach its devices with that xdpctl, then 'rm -rf %s'",
			      dp->pin_dir, XDPCTL_ABI_VERSION, dp->pin_dir);
	}
	if (err)
		return err;
	if (bpf_map_lookup_elem(dp->map_fd[DP_MAP_ABI], &key, &ver))
		return dp_err(dp, -errno, "%s/%s: %s", dp->pin_dir, XDPCTL_MAP_ABI, strerror(errno));
	if (ver && ver != XDPCTL_ABI_VERSION)
		return dp_errk(dp, -EPROTO, XDPCTL_ERR_ABI, dp->pin_dir,
			      "%s holds the state of xdpctl ABI %u, this xdpctl is ABI %d: detach its devices with the xdpctl of ABI %u, then 'rm -rf %s'",
			      dp->pin_dir, ver, XDPCTL_ABI_VERSION, ver, dp->pin_dir);
	return 0;
}

/* Stamp a state this handle just created with XDPCTL_ABI_VERSION (under the lock). */
static int stamp_abi(struct xdpctl_dp *dp)
{
	__u32 key = 0, ver = XDPCTL_ABI_VERSION;

	if (bpf_map_update_elem(dp->map_fd[DP_MAP_ABI], &key, &ver, BPF_ANY))
		return dp_err(dp, -errno, "%s/%s: writing the ABI version: %s", dp->pin_dir,
			      XDPCTL_MAP_ABI, strerror(errno));
	return 0;
}

/*
 * Open (with dp->create: make) the pin dir and every map in it, into a
 * handle whose fds are all closed. The maps are created under the lock.
 */
static int open_state(struct xdpctl_dp *dp)
{
	bool missing, any = false;
	int m, err;

	dp->errmsg[0] = '\0';
	dp->created_state = false;
	dp->created_dir = false;
	dp->dir_fd = open(dp->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dp->dir_fd < 0 && errno == ENOENT && dp->create) {
		if (!mkdir(dp->pin_dir, 0700))
			dp->created_dir = true;
		else if (errno != EEXIST)
			return dp_err(NULL, -errno, "%s: cannot create: %s", dp->pin_dir,
				      strerror(errno));
		dp->dir_fd = open(dp->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (dp->dir_fd < 0) {
		if (errno == ENOENT)
			return dp_errk(NULL, -ENOENT, XDPCTL_ERR_NO_STATE, dp->pin_dir,
				       "%s: no xdpctl state here (nothing attached or added yet)",
				       dp->pin_dir);
		return dp_err(NULL, -errno, "%s: %s", dp->pin_dir, strerror(errno));
	}

	if (dp->create) {
		err = dp_lock(dp);
		if (err)
			return err;
	}
	err = check_abi(dp);
	if (!err)
		err = open_all(dp, dp->create, &missing);
	if (!err && missing) {
		for (m = 0; m < DP_MAP_MAX; m++)
			any |= dp->map_fd[m] >= 0;
		err = create_maps(dp, dp->create_max_rules);
		if (!err)
			err = open_all(dp, false, &missing);
		dp->created_state = !err && !any;
		if (!err && !any)
			err = stamp_abi(dp);
	}
	if (dp->create)
		dp_unlock(dp);
	return err;
}

static void close_state(struct xdpctl_dp *dp)
{
	int m;

	for (m = 0; m < DP_MAP_MAX; m++) {
		if (dp->map_fd[m] >= 0)
			close(dp->map_fd[m]);
		dp->map_fd[m] = -1;
		dp->map_id[m] = 0;
	}
	if (dp->dir_fd >= 0)
		close(dp->dir_fd);
	dp->dir_fd = -1;
	dp->lock_depth = 0;
	dp->max_rules = 0;
}

int dp_reopen(struct xdpctl_dp *dp)
{
	int err;

	if (!dp->create)
		return dp_ret(-ESTALE);
	dp_log(XDPCTL_LOG_INFO, "%s: the state was removed meanwhile; opening it again\n",
	       dp->pin_dir);
	close_state(dp);
	err = open_state(dp);
	if (err && !dp->errmsg[0])
		dp_err_copy(dp, true);
	return dp_ret(err);
}

static void dp_free(struct xdpctl_dp *dp)
{
	int m;

	if (!dp)
		return;
	for (m = 0; m < DP_MAP_MAX; m++)
		if (dp->map_fd[m] >= 0)
			close(dp->map_fd[m]);
	if (dp->dir_fd >= 0)
		close(dp->dir_fd);
	free(dp);
}

/*
 * The bypass map's size when none is asked for: XDPCTL_MAX_RULES_DEFAULT,
 * lowered (to a power of two) so that the map full of rules stays within
 * XDPCTL_RULES_MEM_BUDGET: each rule is one shared hash element (header,
 * key, value) and its bucket slot, whatever the CPU count: 1M rules.
 */
__u32 dp_default_max_rules(void)
{
	__u64 per_rule = DP_HTAB_ELEM_BYTES + sizeof(struct xdpctl_addr) +
			 sizeof(struct xdpctl_bypass);
	__u64 fit = XDPCTL_RULES_MEM_BUDGET / per_rule;
	__u32 n = XDPCTL_MAX_RULES_DEFAULT;

	while (n > 1024 && n > fit)
		n >>= 1;
	return n;
}

int xdpctl_dp__open(const struct xdpctl_dp_opts *opts, struct xdpctl_dp **out)
{
	const char *dir = NULL;
	bool create = false;
	__u32 max_rules = 0;
	struct xdpctl_dp *dp;
	int m, err;

	if (!out)
		return dp_err(NULL, -EINVAL, "no handle to return");
	*out = NULL;
	if (opts && opts->sz >= offsetof(struct xdpctl_dp_opts, pin_dir) + sizeof(opts->pin_dir))
		dir = opts->pin_dir;
	if (opts && opts->sz >= offsetof(struct xdpctl_dp_opts, max_rules) + sizeof(opts->max_rules) &&
	    opts->max_rules)
		max_rules = opts->max_rules;
	if (opts && opts->sz >= offsetof(struct xdpctl_dp_opts, create) + sizeof(opts->create))
		create = opts->create;
	if (!dir || !*dir)
		dir = getenv("XDPCTL_PIN_DIR");
	if (!dir || !*dir)
		dir = XDPCTL_PIN_DIR_DEFAULT;
	err = xdpctl_pin_dir_check(dir, XDPCTL_PIN_DIR_NAME);
	if (err)
		return err;
	dp_hook_lib_prints();

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return dp_err(NULL, -ENOMEM, "out of memory");
	dp->dir_fd = -1;
	for (m = 0; m < DP_MAP_MAX; m++)
		dp->map_fd[m] = -1;
	snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", dir);
	/* Trailing slashes would break the names we build. */
	while (strlen(dp->pin_dir) > 1 && dp->pin_dir[strlen(dp->pin_dir) - 1] == '/')
		dp->pin_dir[strlen(dp->pin_dir) - 1] = '\0';
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0) {
		err = dp_err(NULL, dp->ncpus ? dp->ncpus : -EINVAL, "cannot count possible CPUs");
		goto fail;
	}
	if (!max_rules)
		max_rules = dp_default_max_rules();

	if (geteuid() != 0) {
		err = dp_err(NULL, -EPERM, "needs root (CAP_BPF and CAP_NET_ADMIN)");
		goto fail;
	}
	err = xdpctl_pin_dir_check(dp->pin_dir, XDPCTL_PIN_DIR_BPFFS);
	if (err)
		goto fail;

	dp->create = create;
	dp->create_max_rules = max_rules;
	err = open_state(dp);
	if (err && !dp->errmsg[0])
		goto fail; /* the message is in open_errmsg already */
	if (err)
		goto fail_msg;
	*out = dp;
	return 0;

fail_msg:
	/* Keep the handle's message, kind and object for the caller, who gets no handle. */
	dp_err_copy(dp, false);
fail:
	dp_free(dp);
	return dp_ret(err);
}

void xdpctl_dp__close(struct xdpctl_dp *dp)
{
	if (dp && dp->drop_on_close)
		dp_drop_if_unused(dp);
	dp_free(dp);
}

/* Unlink every pin (the caller holds the lock); 0 or the first error. */
int dp_tail_pin(struct xdpctl_dp *dp, int map_fd, char kind, __u32 ifindex)
{
	char path[PATH_MAX], name[24];
	int err;

	snprintf(name, sizeof(name), "xt%c%u", kind, ifindex);
	if (pin_path(dp, name, path))
		return dp_err(dp, -ENAMETOOLONG, "%s: path too long", dp->pin_dir);
	unlink(path);
	/* By fd: one skeleton's array may serve several veths (bulk loads). */
	err = bpf_obj_pin(map_fd, path) ? -errno : 0;
	if (err)
		return dp_err(dp, err, "%s: pinning the tail-call array: %s", path, strerror(-err));
	return 0;
}

void dp_retprog_unpin(struct xdpctl_dp *dp)
{
	char path[PATH_MAX];

	if (!pin_path(dp, DP_PIN_RET, path))
		unlink(path);
	if (!pin_path(dp, DP_PIN_RET_TAIL, path))
		unlink(path);
}

void dp_tail_unpin(struct xdpctl_dp *dp, char kind, __u32 ifindex)
{
	char path[PATH_MAX], name[24];

	snprintf(name, sizeof(name), "xt%c%u", kind, ifindex);
	if (!pin_path(dp, name, path))
		unlink(path);
}

static int unpin_all(struct xdpctl_dp *dp)
{
	char path[PATH_MAX];
	int m, err = 0;
	DIR *d = opendir(dp->pin_dir);
	struct dirent *de;

	/* The tail-call arrays of attached programs ("xt" + kind + ifindex). */
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "xt", 2) || !strchr("xir", de->d_name[2]))
			continue;
		if (pin_path(dp, de->d_name, path) == 0)
			unlink(path);
	}
	if (d)
		closedir(d);
	/* The veths' shared return program (prog.c, dp_retprog_get). */
	dp_retprog_unpin(dp);

	for (m = 0; m < DP_MAP_MAX; m++) {
		if (pin_path(dp, map_specs[m].name, path))
			continue;
		if (unlink(path) && errno != ENOENT && !err)
			err = dp_err(dp, -errno, "%s: %s", path, strerror(errno));
	}
	/* The Docker watcher's record of the rules it added (watch.c), if any. */
	if (!pin_path(dp, "xdpctl_owner", path) && unlink(path) && errno != ENOENT && !err)
		err = dp_err(dp, -errno, "%s: %s", path, strerror(errno));
	return err;
}

static bool map_empty(const struct xdpctl_dp *dp, enum dp_map m)
{
	__u8 key[64];

	return bpf_map_get_next_key(dp->map_fd[m], NULL, key) && errno == ENOENT;
}

bool dp_drop_if_unused(struct xdpctl_dp *dp)
{
	bool dropped = false;

	if (!dp || !dp->created_state || dp_lock(dp))
		return false;
	if (map_empty(dp, DP_MAP_IFACES) && map_empty(dp, DP_MAP_BYPASS) &&
	    map_empty(dp, DP_MAP_PINGPONG) && !unpin_all(dp)) {
		/* Still under the lock: a waiter sees the pins gone (dp_lock). */
		if (dp->created_dir && rmdir(dp->pin_dir) && errno != ENOENT)
			dp_log(XDPCTL_LOG_WARN, "%s: %s\n", dp->pin_dir, strerror(errno));
		dp->created_state = false;
		dropped = true;
		dp_log(XDPCTL_LOG_INFO, "%s: the state this call created went again\n", dp->pin_dir);
	}
	dp_unlock(dp);
	return dropped;
}

int xdpctl_dp__destroy_pins(struct xdpctl_dp *dp)
{
	int err = 0;

	if (!dp)
		return dp_ret(-EINVAL);
	err = dp_lock(dp);
	if (err)
		return err;
	err = unpin_all(dp);
	dp_unlock(dp);
	if (!err && rmdir(dp->pin_dir) && errno != ENOENT)
		err = dp_err(dp, -errno, "%s: %s", dp->pin_dir, strerror(errno));
	return dp_ret(err);
}
