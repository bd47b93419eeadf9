// SPDX-License-Identifier: GPL-2.0-only
/*
 * Differential test of the kernel side: every generated frame goes through
 * the real xdpctl_xdp, xdpctl_tc_in and xdpctl_tc_fwd programs (loaded from
 * the skeletons through tests/lib, run with BPF_PROG_TEST_RUN in a private
 * network namespace with real veths, routes and neighbours) and through the
 * reference classifier (ref.c). Verdict, output bytes, the stats map and
 * the per-rule counters must agree; a disagreement is printed and saved as
 * a reproducer in the corpus directory, which --replay runs from then on.
 *
 *   difftest [--frames N] [--seed S] [--corpus DIR] [--max-fail N]
 *   difftest --replay DIR|FILE [--replay ...]
 *
 * Exit status: 0 all agreed, 1 a disagreement or an error, 77 skipped (not
 * root, or BPF/namespaces unavailable).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "gen.h"
#include "ref.h"

#define SKIP 77
#define OUT_CAP 4096

/* ---- The lab: devices, addresses and rules of every run ---------------- */

/* MACs of the private namespace's devices (set explicitly, so the reference knows them). */
static const __u8 MAC_UP0[6] = { 0x02, 0x00, 0x00, 0x00, 0x0a, 0x01 };
static const __u8 MAC_CT0[6] = { 0x02, 0x00, 0x00, 0x00, 0x0c, 0x01 };
static const __u8 MAC_CT1[6] = { 0x02, 0x00, 0x00, 0x00, 0x0c, 0x02 };
static const __u8 MAC_VX0[6] = { 0x02, 0x00, 0x00, 0x00, 0x0b, 0x01 };
static const __u8 MAC_NB_UP[6] = { 0x02, 0x00, 0x00, 0x00, 0x0a, 0xee }; /* next hop on up0 */
static const __u8 MAC_NB_VX[6] = { 0x02, 0x00, 0x00, 0x00, 0x0b, 0xee }; /* next hop on vx0 */
static const __u8 MAC_GW[6] = { 0x02, 0x00, 0x00, 0x00, 0x0c, 0xfe };    /* container's gateway */
#define UP0_MTU 1400

/* The namespace, as `ip -batch` lines. */
static const char *const LAB_IP[] = {
	"link add up0 address 02:00:00:00:0a:01 mtu 1400 type veth "
	"peer name up1 address 02:00:00:00:0a:02 mtu 1400",
	"link add ct0 address 02:00:00:00:0c:01 type veth peer name ct1 address 02:00:00:00:0c:02",
	"link add vx0 address 02:00:00:00:0b:01 type veth peer name vx1 address 02:00:00:00:0b:02",
	"link set up0 up",
	"link set up1 up",
	"link set ct0 up",
	"link set ct1 up",
	"link set vx0 up",
	"link set vx1 up",
	"addr add 198.18.0.1/24 dev up0",
	"addr add 198.18.1.1/24 dev vx0",
	"addr add 2001:db8:0:1::1/64 dev up0 nodad",
	"addr add 2001:db8:0:2::1/64 dev vx0 nodad",
	"neigh add 198.18.0.2 lladdr 02:00:00:00:0a:ee dev up0 nud permanent",
	"neigh add 198.18.1.2 lladdr 02:00:00:00:0b:ee dev vx0 nud permanent",
	"neigh add 2001:db8:0:1::2 lladdr 02:00:00:00:0a:ee dev up0 nud permanent",
	"neigh add 2001:db8:0:2::2 lladdr 02:00:00:00:0b:ee dev vx0 nud permanent",
	"route add 198.18.128.0/17 via 198.18.0.2 dev up0",
	"route add 198.18.64.0/24 via 198.18.0.3 dev up0",
	"route add 198.18.96.0/24 via 198.18.1.2 dev vx0",
	"route add 2001:db8:8000::/33 via 2001:db8:0:1::2 dev up0",
	"route add 2001:db8:4000::/48 via 2001:db8:0:1::3 dev up0",
	"route add 2001:db8:6000::/48 via 2001:db8:0:2::2 dev vx0",
};

struct lab {
	__u32 up0, ct0, vx0;
	struct ref_env env;
	struct gen_cfg gcfg;
	struct ref_iface up0_iface;   /* switched per frame */
	__u8 up0_iface_on;            /* 0 none, 1 uplink, 2 uplink + TCP to tc */
	bool trace_on;
};

static int addr_parse(struct xdpctl_addr *a, const char *text)
{
	return th_addr(a, text);
}

static void route_add(struct ref_env *e, const char *prefix, int plen, const char *gw, __u32 oif)
{
	struct ref_route *r = &e->routes[e->nroutes++];
	struct xdpctl_addr a;

	memset(r, 0, sizeof(*r));
	addr_parse(&a, prefix);
	r->family = a.family;
	memcpy(r->prefix, a.addr, 16);
	r->plen = plen;
	r->oif = oif;
	if (gw) {
		addr_parse(&a, gw);
		r->has_gw = true;
		memcpy(r->gw, a.addr, 16);
	}
}

static void neigh_add(struct ref_env *e, const char *addr, __u32 ifindex, const __u8 *mac)
{
	struct ref_neigh *n = &e->neigh[e->nneigh++];
	struct xdpctl_addr a;

	addr_parse(&a, addr);
	n->family = a.family;
	memcpy(n->addr, a.addr, 16);
	n->ifindex = ifindex;
	memcpy(n->mac, mac, 6);
}

static void pp_add(struct ref_env *e, const char *addr, __u32 hooks)
{
	addr_parse(&e->pp[e->npp].addr, addr);
	e->pp[e->npp++].hooks = hooks;
}

static void by_add(struct ref_env *e, const char *addr, __u32 ifindex, __u16 mtu)
{
	struct ref_bypass *b = &e->by[e->nby++];

	memset(b, 0, sizeof(*b));
	addr_parse(&b->addr, addr);
	b->ifindex = ifindex;
	b->mtu = mtu;
	memcpy(b->dmac, MAC_CT1, 6);
	memcpy(b->smac, MAC_GW, 6);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(text, f) < 0)
		err = -EIO;
	if (fclose(f))
		err = -errno;
	return err;
}

/* Devices, addresses, routes and neighbours of the private namespace. */
static int lab_net_up(void)
{
	FILE *p;
	size_t i;
	int st, err;

	p = popen("ip -batch - >/dev/null", "w");
	if (!p)
		return -errno;
	for (i = 0; i < sizeof(LAB_IP) / sizeof(LAB_IP[0]); i++)
		fprintf(p, "%s\n", LAB_IP[i]);
	st = pclose(p);
	if (st != 0)
		return -EIO;
	/* The return path's FIB lookups need forwarding on (this namespace only). */
	err = write_file("/proc/sys/net/ipv4/conf/all/forwarding", "1\n");
	if (!err)
		err = write_file("/proc/sys/net/ipv6/conf/all/forwarding", "1\n");
	return err;
}

/* The rule tables, the model of the namespace and the generator's targets. */
static void lab_model(struct lab *lab)
{
	struct ref_env *e = &lab->env;
	static const char *const pp_addrs[] = { "198.18.10.1", "198.18.10.2", "198.18.10.3",
						"198.18.10.4", "2001:db8:10::1", "2001:db8:10::2",
						"2001:db8:10::3", "2001:db8:10::4" };
	static const __u32 pp_hooks[] = { XDPCTL_HOOKBIT_XDP | XDPCTL_HOOKBIT_TC,
					  XDPCTL_HOOKBIT_XDP, XDPCTL_HOOKBIT_TC, 0 };
	static const char *const fwd_dsts[] = {
		"198.18.0.2", "198.18.0.77", "198.18.128.5", "198.18.200.9", "198.18.64.9",
		"198.18.96.3", "198.18.1.2", "198.18.0.1", "198.19.200.1", "2001:db8:0:1::2",
		"2001:db8:0:1::77", "2001:db8:8000::5", "2001:db8:4000::9", "2001:db8:6000::3",
		"2001:db8:0:2::2", "2001:db8:0:1::1", "2001:db8:ffff::1", "198.18.0.255",
		"2001:db8:0:1::",
	};
	size_t i;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < 8; i++)
		pp_add(e, pp_addrs[i], pp_hooks[i % 4]);

	/* Bypass rules: devmap hit, no MTU, devmap miss, no such device, overlaps with ping-pong. */
	by_add(e, "198.19.0.2", lab->ct0, 1500);
	by_add(e, "198.19.0.3", lab->ct0, 1400);
	by_add(e, "198.19.0.4", lab->ct0, 0);
	by_add(e, "198.19.0.5", lab->vx0, 1500);
	by_add(e, "198.19.0.6", 999, 1500);
	by_add(e, "198.18.10.1", lab->ct0, 1500);
	by_add(e, "198.18.10.2", lab->ct0, 1280);
	by_add(e, "2001:db8:19::2", lab->ct0, 1500);
	by_add(e, "2001:db8:19::3", lab->ct0, 1400);
	by_add(e, "2001:db8:19::4", lab->ct0, 0);
	by_add(e, "2001:db8:19::5", lab->vx0, 1500);
	by_add(e, "2001:db8:19::6", 999, 1500);
	by_add(e, "2001:db8:10::1", lab->ct0, 1500);
	by_add(e, "2001:db8:10::2", lab->ct0, 1280);

	lab->up0_iface.ifindex = lab->up0;
	memcpy(lab->up0_iface.mac, MAC_UP0, 6);
	lab->up0_iface.flags = XDPCTL_IF_UPLINK;
	e->ifs[0].ifindex = lab->vx0;
	memcpy(e->ifs[0].mac, MAC_VX0, 6);
	e->ifs[0].flags = XDPCTL_IF_VETH;
	e->ifs[1].ifindex = lab->ct0;
	memcpy(e->ifs[1].mac, MAC_CT0, 6);
	e->ifs[1].flags = XDPCTL_IF_VETH;
	e->nifs = 2; /* [2] is up0's entry while switched on */
	e->devmap[e->ndevmap++] = lab->ct0;
	e->in_ifindex = lab->up0;
	e->fwd_ifindex = lab->ct0;

	e->devs[0] = (struct ref_dev){ .ifindex = lab->up0, .mtu = UP0_MTU };
	memcpy(e->devs[0].mac, MAC_UP0, 6);
	e->devs[1] = (struct ref_dev){ .ifindex = lab->vx0, .mtu = 1500 };
	memcpy(e->devs[1].mac, MAC_VX0, 6);
	e->devs[2] = (struct ref_dev){ .ifindex = lab->ct0, .mtu = 1500 };
	memcpy(e->devs[2].mac, MAC_CT0, 6);
	e->ndevs = 3;
	route_add(e, "198.18.0.0", 24, NULL, lab->up0);
	route_add(e, "198.18.1.0", 24, NULL, lab->vx0);
	route_add(e, "2001:db8:0:1::", 64, NULL, lab->up0);
	route_add(e, "2001:db8:0:2::", 64, NULL, lab->vx0);
	route_add(e, "198.18.128.0", 17, "198.18.0.2", lab->up0);
	route_add(e, "198.18.64.0", 24, "198.18.0.3", lab->up0);
	route_add(e, "198.18.96.0", 24, "198.18.1.2", lab->vx0);
	route_add(e, "2001:db8:8000::", 33, "2001:db8:0:1::2", lab->up0);
	route_add(e, "2001:db8:4000::", 48, "2001:db8:0:1::3", lab->up0);
	route_add(e, "2001:db8:6000::", 48, "2001:db8:0:2::2", lab->vx0);
	neigh_add(e, "198.18.0.2", lab->up0, MAC_NB_UP);
	neigh_add(e, "198.18.1.2", lab->vx0, MAC_NB_VX);
	neigh_add(e, "2001:db8:0:1::2", lab->up0, MAC_NB_UP);
	neigh_add(e, "2001:db8:0:2::2", lab->vx0, MAC_NB_VX);
	/* Routes of the kernel's local table: local, broadcast, subnet anycast. */
	addr_parse(&e->local[e->nlocal++], "198.18.0.1");
	addr_parse(&e->local[e->nlocal++], "198.18.1.1");
	addr_parse(&e->local[e->nlocal++], "198.18.0.255");
	addr_parse(&e->local[e->nlocal++], "198.18.1.255");
	addr_parse(&e->local[e->nlocal++], "2001:db8:0:1::1");
	addr_parse(&e->local[e->nlocal++], "2001:db8:0:2::1");
	addr_parse(&e->local[e->nlocal++], "2001:db8:0:1::");
	addr_parse(&e->local[e->nlocal++], "2001:db8:0:2::");

	/* What the generator aims at. */
	memset(&lab->gcfg, 0, sizeof(lab->gcfg));
	memcpy(lab->gcfg.mac_ours, MAC_UP0, 6);
	for (i = 0; i < (size_t)e->npp; i++)
		lab->gcfg.dst[lab->gcfg.ndst++] = e->pp[i].addr;
	for (i = 0; i < (size_t)e->nby; i++) {
		lab->gcfg.dst[lab->gcfg.ndst++] = e->by[i].addr;
		lab->gcfg.src[lab->gcfg.nsrc++] = e->by[i].addr;
	}
	for (i = 0; i < sizeof(fwd_dsts) / sizeof(fwd_dsts[0]) && lab->gcfg.ndst < GEN_MAX_ADDRS;
	     i++)
		addr_parse(&lab->gcfg.dst[lab->gcfg.ndst++], fwd_dsts[i]);
	lab->gcfg.mtu[lab->gcfg.nmtu++] = 1280;
	lab->gcfg.mtu[lab->gcfg.nmtu++] = 1400;
	lab->gcfg.mtu[lab->gcfg.nmtu++] = 1500;
}

/* Install the model's tables into the real maps. */
static int lab_install(struct th *h, struct lab *lab)
{
	struct ref_env *e = &lab->env;
	int i, err = 0;

	for (i = 0; !err && i < e->npp; i++)
		err = th_pingpong_add(h, &e->pp[i].addr, e->pp[i].hooks);
	for (i = 0; !err && i < e->nby; i++)
		err = th_bypass_add(h, &e->by[i].addr, e->by[i].ifindex, e->by[i].mtu,
				    e->by[i].dmac, e->by[i].smac);
	for (i = 0; !err && i < e->nifs; i++)
		err = th_iface_set(h, e->ifs[i].ifindex, e->ifs[i].mac, e->ifs[i].flags);
	for (i = 0; !err && i < e->ndevmap; i++)
		err = th_devmap_add(h, e->devmap[i]);
	lab->up0_iface_on = 0;
	lab->trace_on = false;
	return err;
}

/*
 * Set the uplink's xdpctl_ifaces entry: @mode 0 none (no MAC filter; the
 * programs follow conntrack), 1 the uplink flag with the skip-firewall fast
 * path, 2 also XDPCTL_IF_TCP_TO_TC, 3 also XDPCTL_IF_BYPASS_TO_TC (engine
 * auto); 4, 5, 6 as 1, 2, 3 but following conntrack (the default fast
 * path; no entries in this netns).
 */
static int lab_set_iface(struct th *h, struct lab *lab, __u8 mode)
{
	__u32 flags = XDPCTL_IF_UPLINK | (mode == 2 || mode == 5 ? XDPCTL_IF_TCP_TO_TC : 0) |
		      (mode == 3 || mode == 6 ? XDPCTL_IF_BYPASS_TO_TC : 0) |
		      (mode >= 1 && mode <= 3 ? XDPCTL_IF_SKIP_FIREWALL : 0);
	int err;

	if (mode > 6)
		return -EINVAL;
	if (mode == lab->up0_iface_on)
		return 0;
	if (mode)
		err = th_iface_set(h, lab->up0, lab->up0_iface.mac, flags);
	else
		err = th_iface_del(h, lab->up0);
	if (err)
		return err;
	lab->up0_iface_on = mode;
	lab->env.nifs = mode ? 3 : 2;
	lab->env.ifs[2] = lab->up0_iface;
	lab->env.ifs[2].flags = flags;
	return 0;
}

/* ---- Counters: one batch read per map ---------------------------------- */

struct snap {
	struct xdpctl_counter st[XDPCTL_STATS_ENTRIES];
	struct xdpctl_pingpong pp[REF_MAX_RULES];   /* counters only, summed */
	struct xdpctl_bypass by[REF_MAX_RULES];
};

struct reader {
	int ncpus;
	int stats_fd, pp_fd, by_fd;
	void *vals;
	size_t vals_size;
};

static int reader_init(struct reader *rd, struct th *h)
{
	rd->ncpus = th_ncpus();
	if (rd->ncpus <= 0)
		return -EINVAL;
	rd->stats_fd = th_map_fd(h, XDPCTL_MAP_STATS);
	rd->pp_fd = th_map_fd(h, XDPCTL_MAP_PINGPONG);
	rd->by_fd = th_map_fd(h, XDPCTL_MAP_BYPASS);
	if (rd->stats_fd < 0 || rd->pp_fd < 0 || rd->by_fd < 0)
		return -ENOENT;
	rd->vals_size = (size_t)rd->ncpus * sizeof(struct xdpctl_bypass) * XDPCTL_STATS_ENTRIES;
	rd->vals = malloc(rd->vals_size);
	return rd->vals ? 0 : -ENOMEM;
}

/* Every entry of a per-CPU hash in batch lookups. @return the count or -errno. */
/* @nvals values per key: rd->ncpus for a per-CPU hash, 1 for a shared one. */
static int read_hash(struct reader *rd, int fd, struct xdpctl_addr *keys, size_t vsize,
		     int nvals, __u32 max)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u8 in[32], out[32];
	__u32 total = 0, n;
	bool first = true;
	int ret, rounds = 0;

	while (total < max && rounds++ < 64) {
		n = max - total;
		ret = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys + total,
					   (__u8 *)rd->vals + total * vsize * nvals, &n, &o);
		if (ret && errno != ENOENT)
			return -errno;
		total += n;
		if (ret)
			break;
		memcpy(in, out, sizeof(in));
		first = false;
	}
	return (int)total;
}

static int find_rule(const struct ref_env *e, bool pp, const struct xdpctl_addr *a)
{
	int i, n = pp ? e->npp : e->nby;

	for (i = 0; i < n; i++)
		if (!memcmp(pp ? &e->pp[i].addr : &e->by[i].addr, a, sizeof(*a)))
			return i;
	return -1;
}

static int snap_read(struct reader *rd, const struct ref_env *e, struct snap *s)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u32 keys[XDPCTL_STATS_ENTRIES], n = XDPCTL_STATS_ENTRIES, k, c;
	struct xdpctl_addr akeys[REF_MAX_RULES];
	__u8 out[8];
	int ret, i, cnt;

	memset(s, 0, sizeof(*s));
	ret = bpf_map_lookup_batch(rd->stats_fd, NULL, out, keys, rd->vals, &n, &o);
	if (ret && errno != ENOENT)
		return -errno;
	if (n != XDPCTL_STATS_ENTRIES)
		return -EIO;
	for (k = 0; k < n; k++) {
		struct xdpctl_counter *v = (struct xdpctl_counter *)rd->vals + (size_t)k * rd->ncpus;

		if (keys[k] >= XDPCTL_STATS_ENTRIES)
			return -EIO;
		for (c = 0; c < (__u32)rd->ncpus; c++) {
			s->st[keys[k]].packets += v[c].packets;
			s->st[keys[k]].bytes += v[c].bytes;
		}
	}

	cnt = read_hash(rd, rd->pp_fd, akeys, sizeof(struct xdpctl_pingpong), rd->ncpus,
			REF_MAX_RULES);
	if (cnt < 0)
		return cnt;
	for (i = 0; i < cnt; i++) {
		struct xdpctl_pingpong *v = (struct xdpctl_pingpong *)rd->vals + (size_t)i * rd->ncpus;
		int r = find_rule(e, true, &akeys[i]);

		if (r < 0)
			return -EIO;
		for (c = 0; c < (__u32)rd->ncpus; c++) {
			s->pp[r].packets += v[c].packets;
			s->pp[r].bytes += v[c].bytes;
		}
	}
	cnt = read_hash(rd, rd->by_fd, akeys, sizeof(struct xdpctl_bypass), 1, REF_MAX_RULES);
	if (cnt < 0)
		return cnt;
	for (i = 0; i < cnt; i++) {
		const struct xdpctl_bypass *v = (struct xdpctl_bypass *)rd->vals + i;
		int r = find_rule(e, false, &akeys[i]);

		if (r < 0)
			return -EIO;
		s->by[r].in_packets += v->in_packets;
		s->by[r].in_bytes += v->in_bytes;
		s->by[r].out_packets += v->out_packets;
		s->by[r].out_bytes += v->out_bytes;
	}
	return 0;
}

/* ---- One frame through one program and the reference ------------------- */

static const enum th_prog PROGS[] = { TH_XDP, TH_TC_IN, TH_TC_FWD };
#define NPROGS 3

struct ctx {
	struct th *h;
	struct lab lab;
	struct reader rd;
	struct snap before, after;
	const char *corpus;       /* save reproducers here, or NULL */
	int max_fail;
	int fails, saved;
	bool verbose;
	/* Counts for the summary. */
	__u64 frames, runs, untestable;
	__u64 kinds[GEN_K_MAX], muts[GEN_M_MAX];
	__u64 reasons[NPROGS][XDPCTL_REASON_MAX];
	__u64 verdicts[NPROGS][8];
	__u64 events;
	__u64 loose;              /* runs whose input checksum was already wrong */
};

static int prog_index(enum th_prog p)
{
	return p == TH_XDP ? 0 : p == TH_TC_IN ? 1 : 2;
}

static const char *verdict_name(bool xdp, __u32 v)
{
	if (xdp) {
		switch (v) {
		case XDP_ABORTED: return "XDP_ABORTED";
		case XDP_DROP: return "XDP_DROP";
		case XDP_PASS: return "XDP_PASS";
		case XDP_TX: return "XDP_TX";
		case XDP_REDIRECT: return "XDP_REDIRECT";
		default: return "XDP_?";
		}
	}
	switch (v) {
	case TC_ACT_OK: return "TC_ACT_OK";
	case TC_ACT_SHOT: return "TC_ACT_SHOT";
	case TC_ACT_REDIRECT: return "TC_ACT_REDIRECT";
	default: return "TC_ACT_?";
	}
}

static const char *reason_str(int r)
{
	return r == -1 ? "no reason counted" : r == -2 ? "several reasons counted" :
	       th_reason_name((unsigned int)r);
}

static __u32 verdict_slot(bool xdp, __u32 v)
{
	if (xdp)
		return v < 5 ? v : 7;
	return v == TC_ACT_OK ? 0 : v == TC_ACT_REDIRECT ? 1 : v == TC_ACT_SHOT ? 2 : 7;
}

static void hexdump(FILE *f, const __u8 *b, __u32 len)
{
	__u32 i;

	for (i = 0; i < len; i++)
		fprintf(f, "%02x%s", b[i], (i + 1) % 32 == 0 || i + 1 == len ? "\n  " : "");
	fprintf(f, "\n");
}

/* Is byte @i part of a checksum field the reference leaves loose? */
static bool is_loose(const struct ref_result *ref, __u32 i)
{
	int l;

	for (l = 0; l < ref->nloose; l++)
		if (i == ref->loose[l] || i == ref->loose[l] + 1)
			return true;
	return false;
}

struct frame_in {
	const __u8 *data;
	__u32 len;
	__u8 iface;          /* see struct gen_frame */
	bool trace;
	const char *origin;  /* "seed=... frame=... kind=... mut=..." or the file */
};

static __u64 fnv1a(__u64 h, const void *p, size_t n)
{
	const __u8 *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void save_repro(struct ctx *c, enum th_prog prog, const struct frame_in *fi,
		       const char *note)
{
	char path[512], name[64];
	__u64 hsh = 0xcbf29ce484222325ull;
	const char *pn = th_prog_name(prog);
	FILE *f;
	__u32 i;

	if (!c->corpus)
		return;
	hsh = fnv1a(hsh, pn, strlen(pn));
	hsh = fnv1a(hsh, &fi->iface, 1);
	hsh = fnv1a(hsh, fi->data, fi->len);
	snprintf(name, sizeof(name), "%s-%016" PRIx64 ".txt", pn, (uint64_t)hsh);
	snprintf(path, sizeof(path), "%s/%s", c->corpus, name);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "difftest: cannot save %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "# xdpctl difftest reproducer (format: tests/corpus/README.md)\n");
	fprintf(f, "prog %s\niface %d\ntrace %d\n", pn, fi->iface, fi->trace ? 1 : 0);
	fprintf(f, "origin %s\n", fi->origin);
	fprintf(f, "note %s\n", note);
	fprintf(f, "len %u\n", fi->len);
	for (i = 0; i < fi->len; i += 32) {
		__u32 j;

		fprintf(f, "data ");
		for (j = i; j < i + 32 && j < fi->len; j++)
			fprintf(f, "%02x", fi->data[j]);
		fprintf(f, "\n");
	}
	if (fclose(f) == 0) {
		c->saved++;
		fprintf(stderr, "difftest: saved reproducer %s\n", path);
	}
}

/*
 * Frames BPF_PROG_TEST_RUN refuses (-EINVAL), measured on this kernel: any
 * shorter than an Ethernet header; for tc (an skb) also an untagged IPv4
 * frame without a whole IPv4 header, an untagged IPv6 one without a whole
 * IPv6 header. The reference still decides them; the program cannot run.
 */
static bool test_run_accepts(bool xdp, const __u8 *f, __u32 len)
{
	__u16 et;

	if (len < 14)
		return false;
	if (xdp)
		return true;
	et = (__u16)(f[12] << 8 | f[13]);
	if (et == 0x0800 && len < 14 + 20)
		return false;
	if (et == 0x86dd && len < 14 + 40)
		return false;
	return true;
}

/*
 * Run @fi through @prog and the reference, compare everything.
 * @return 1 agreed, 0 disagreed, -errno on a harness error.
 */
static int check_one(struct ctx *c, enum th_prog prog, const struct frame_in *fi)
{
	static struct ref_result ref;
	static __u8 out[OUT_CAP];
	enum xdpctl_hook hook = th_prog_hook(prog);
	bool xdp = th_prog_is_xdp(prog);
	struct th_run run = {};
	struct xdpctl_event ev[8];
	char note[256] = "";
	int pi = prog_index(prog), err, nev = 0, got_reason, l;
	__u32 i, h, r;
	bool ok = true;

	err = ref_run(&c->lab.env, hook, fi->data, fi->len, &ref);
	if (err)
		return err;
	c->reasons[pi][ref.reason]++;
	c->verdicts[pi][verdict_slot(xdp, ref.verdict)]++;
	if (!test_run_accepts(xdp, fi->data, fi->len)) {
		c->untestable++;
		if (fi->len < 14 && ref.reason != XDPCTL_R_MALFORMED) {
			fprintf(stderr, "difftest: reference gave %s for a %u-byte frame\n",
				th_reason_name(ref.reason), fi->len);
			return 0;
		}
		return 1;
	}

	run.in = fi->data;
	run.in_len = fi->len;
	run.out = out;
	run.out_cap = sizeof(out);
	run.ifindex = prog == TH_TC_FWD ? c->lab.ct0 : c->lab.up0;
	err = th_run(c->h, prog, &run);
	if (err) {
		fprintf(stderr, "difftest: BPF_PROG_TEST_RUN %s (len %u): %s\n", th_prog_name(prog),
			fi->len, strerror(-err));
		return err;
	}
	c->runs++;
	err = snap_read(&c->rd, &c->lab.env, &c->after);
	if (err) {
		fprintf(stderr, "difftest: reading counters: %s\n", strerror(-err));
		return err;
	}
	if (fi->trace) {
		nev = th_events_drain(c->h, ev, 8);
		if (nev < 0)
			return nev;
		c->events += nev;
	}

	/* The reason the program counted, for the messages. */
	got_reason = -1;
	for (r = 1; r < XDPCTL_REASON_MAX; r++) {
		__u32 k = XDPCTL_STATS_KEY(hook, r);

		if (c->after.st[k].packets != c->before.st[k].packets)
			got_reason = got_reason == -1 ? (int)r : -2;
	}
	if (run.retval != ref.verdict) {
		ok = false;
		snprintf(note, sizeof(note), "verdict %s (%s), reference %s (%s)",
			 verdict_name(xdp, run.retval), reason_str(got_reason),
			 verdict_name(xdp, ref.verdict), th_reason_name(ref.reason));
	}
	if (ok && got_reason != (int)ref.reason) {
		ok = false;
		snprintf(note, sizeof(note), "reason %s, reference %s (verdict %s)",
			 reason_str(got_reason), th_reason_name(ref.reason),
			 verdict_name(xdp, ref.verdict));
	}
	if (ok && run.out_len != ref.out_len) {
		ok = false;
		snprintf(note, sizeof(note), "output length %u, reference %u", run.out_len,
			 ref.out_len);
	}
	for (i = 0; ok && i < ref.out_len; i++) {
		if (out[i] == ref.out[i] || is_loose(&ref, i))
			continue;
		ok = false;
		snprintf(note, sizeof(note), "output byte %u is %02x, reference %02x (%s)", i, out[i],
			 ref.out[i], th_reason_name(ref.reason));
	}
	if (ref.nloose)
		c->loose++;
	for (l = 0; ok && l < ref.nloose; l++) {
		__u32 at = ref.loose[l];
		__u16 a = (__u16)(out[at] << 8 | out[at + 1]);
		__u16 b = (__u16)(ref.out[at] << 8 | ref.out[at + 1]);

		if (!ref_csum_equal(a, b, true)) {
			ok = false;
			snprintf(note, sizeof(note), "checksum at byte %u is %04x, reference %04x", at,
				 a, b);
		}
	}
	for (h = 0; ok && h < XDPCTL_HOOK_MAX; h++) {
		for (r = 0; ok && r < XDPCTL_REASON_MAX; r++) {
			__u32 k = XDPCTL_STATS_KEY(h, r);
			__u64 dp = c->after.st[k].packets - c->before.st[k].packets;
			__u64 db = c->after.st[k].bytes - c->before.st[k].bytes;
			bool hit = h == hook && (r == XDPCTL_R_RX || r == ref.reason);

			if (dp != (hit ? 1u : 0u) || db != (hit ? ref.len : 0u)) {
				ok = false;
				snprintf(note, sizeof(note),
					 "counter %s/%s moved by %" PRIu64 "/%" PRIu64
					 ", reference %u/%u (reason %s)",
					 th_hook_name(h), th_reason_name(r), (uint64_t)dp, (uint64_t)db,
					 hit ? 1u : 0u, hit ? ref.len : 0u, th_reason_name(ref.reason));
			}
		}
	}
	for (i = 0; ok && i < (__u32)c->lab.env.npp; i++) {
		bool hit = ref.rule_kind == REF_RULE_PINGPONG && ref.rule_idx == (int)i;
		__u64 dp = c->after.pp[i].packets - c->before.pp[i].packets;
		__u64 db = c->after.pp[i].bytes - c->before.pp[i].bytes;

		if (dp != (hit ? 1u : 0u) || db != (hit ? ref.len : 0u)) {
			ok = false;
			snprintf(note, sizeof(note), "ping-pong rule %u counters moved by %" PRIu64
				 "/%" PRIu64 ", reference %u/%u", i, (uint64_t)dp, (uint64_t)db,
				 hit ? 1u : 0u, hit ? ref.len : 0u);
		}
	}
	for (i = 0; ok && i < (__u32)c->lab.env.nby; i++) {
		bool hin = ref.rule_kind == REF_RULE_BYPASS_IN && ref.rule_idx == (int)i;
		bool hout = ref.rule_kind == REF_RULE_BYPASS_OUT && ref.rule_idx == (int)i;
		const struct xdpctl_bypass *a = &c->after.by[i], *b = &c->before.by[i];

		if (a->in_packets - b->in_packets != (hin ? 1u : 0u) ||
		    a->in_bytes - b->in_bytes != (hin ? ref.len : 0u) ||
		    a->out_packets - b->out_packets != (hout ? 1u : 0u) ||
		    a->out_bytes - b->out_bytes != (hout ? ref.len : 0u)) {
			ok = false;
			snprintf(note, sizeof(note),
				 "bypass rule %u counters moved by in %" PRIu64 " out %" PRIu64
				 ", reference in %d out %d", i, (uint64_t)(a->in_packets - b->in_packets),
				 (uint64_t)(a->out_packets - b->out_packets), hin, hout);
		}
	}
	if (ok && fi->trace) {
		/* RX, (ICMP request,) and the verdict event naming the reason. */
		int want = ref.reason == XDPCTL_R_PINGPONG ? 3 : 2;

		if (nev != want || ev[0].kind != XDPCTL_EV_RX || ev[nev - 1].reason != ref.reason ||
		    ev[nev - 1].hook != hook) {
			ok = false;
			snprintf(note, sizeof(note), "%d trace events, last reason %s; reference %d, %s",
				 nev, nev > 0 ? th_reason_name(ev[nev > 8 ? 7 : nev - 1].reason) : "-",
				 want, th_reason_name(ref.reason));
		}
	}
	c->before = c->after;
	if (ok)
		return 1;

	c->fails++;
	fprintf(stderr, "DISAGREE %s %s iface=%d: %s\n  reference: %s, %s (%s)\n  frame (%u bytes):\n  ",
		th_prog_name(prog), fi->origin, fi->iface, note, verdict_name(xdp, ref.verdict),
		th_reason_name(ref.reason), ref.why, fi->len);
	hexdump(stderr, fi->data, fi->len);
	if (c->verbose) {
		fprintf(stderr, "  program output:\n  ");
		hexdump(stderr, out, run.out_len);
		fprintf(stderr, "  reference output:\n  ");
		hexdump(stderr, ref.out, ref.out_len);
	}
	save_repro(c, prog, fi, note);
	return 0;
}

static int set_frame_env(struct ctx *c, const struct frame_in *fi)
{
	int err = lab_set_iface(c->h, &c->lab, fi->iface);

	if (err)
		return err;
	if (fi->trace != c->lab.trace_on) {
		err = th_trace(c->h, fi->trace);
		if (err)
			return err;
		c->lab.trace_on = fi->trace;
	}
	return 0;
}

/* ---- Modes --------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void print_summary(struct ctx *c, double secs)
{
	int k, p, r;

	printf("frames %" PRIu64 ", program runs %" PRIu64
	       ", reference-only runs (test run refuses the frame) %" PRIu64
	       ", disagreements %d\n",
	       (uint64_t)c->frames, (uint64_t)c->runs, (uint64_t)c->untestable, c->fails);
	printf("frames per kind:");
	for (k = 0; k < GEN_K_MAX; k++)
		printf(" %s=%" PRIu64, gen_kind_name(k), (uint64_t)c->kinds[k]);
	printf("\nframes per mutation:");
	for (k = 0; k < GEN_M_MAX; k++)
		printf(" %s=%" PRIu64, gen_mut_name(k), (uint64_t)c->muts[k]);
	printf("\n");
	for (p = 0; p < NPROGS; p++) {
		bool xdp = PROGS[p] == TH_XDP;

		printf("%-6s verdicts:", th_prog_name(PROGS[p]));
		if (xdp)
			printf(" XDP_PASS=%" PRIu64 " XDP_TX=%" PRIu64 " XDP_REDIRECT=%" PRIu64 "\n",
			       (uint64_t)c->verdicts[p][XDP_PASS], (uint64_t)c->verdicts[p][XDP_TX],
			       (uint64_t)c->verdicts[p][XDP_REDIRECT]);
		else
			printf(" TC_ACT_OK=%" PRIu64 " TC_ACT_REDIRECT=%" PRIu64 "\n",
			       (uint64_t)c->verdicts[p][0], (uint64_t)c->verdicts[p][1]);
		printf("%-6s reasons: ", th_prog_name(PROGS[p]));
		for (r = 1; r < XDPCTL_REASON_MAX; r++)
			if (c->reasons[p][r])
				printf(" %s=%" PRIu64, th_reason_name(r), (uint64_t)c->reasons[p][r]);
		printf("\n");
	}
	if (c->events)
		printf("trace events checked: %" PRIu64 "\n", (uint64_t)c->events);
	printf("rewritten frames whose input checksum was already wrong (error carried): %" PRIu64
	       "\n", (uint64_t)c->loose);
	printf("elapsed %.2f s, %.0f frames/s (%.0f program runs/s)\n", secs,
	       secs > 0 ? c->frames / secs : 0.0, secs > 0 ? c->runs / secs : 0.0);
}

static int run_random(struct ctx *c, __u64 frames, __u64 seed)
{
	static struct gen g;
	static struct gen_frame f;
	char origin[128];
	double t0 = now_s();
	__u64 i;
	int p, ret = 0;

	gen_init(&g, &c->lab.gcfg, seed);
	for (i = 0; i < frames && c->fails < c->max_fail; i++) {
		struct frame_in fi;

		gen_next(&g, &f);
		snprintf(origin, sizeof(origin), "seed=%" PRIu64 " frame=%" PRIu64 " kind=%s mut=%s",
			 (uint64_t)seed, (uint64_t)f.index, gen_kind_name(f.kind),
			 gen_mut_name(f.mut));
		fi.data = f.data;
		fi.len = f.len;
		fi.iface = f.iface;
		/* Tracing on for one block of 64 frames in eight. */
		fi.trace = (f.index / 64) % 8 == 7;
		fi.origin = origin;
		c->frames++;
		c->kinds[f.kind]++;
		c->muts[f.mut]++;
		ret = set_frame_env(c, &fi);
		if (ret)
			break;
		for (p = 0; p < NPROGS; p++) {
			ret = check_one(c, PROGS[p], &fi);
			if (ret < 0)
				goto out;
		}
		ret = 0;
	}
out:
	print_summary(c, now_s() - t0);
	if (ret < 0)
		return 1;
	if (c->fails) {
		printf("FAIL: %d disagreement(s)%s\n", c->fails,
		       c->saved ? ", reproducers saved" : "");
		return 1;
	}
	printf("PASS: the programs and the reference agree on every frame\n");
	return 0;
}

/* ---- Corpus files -------------------------------------------------------- */

struct repro {
	enum th_prog prog;
	__u8 iface;
	bool trace;
	__u8 data[GEN_MAX_FRAME];
	__u32 len, want_len;
	bool have_len;
};

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Parse one reproducer file. @return 0 or -EINVAL with @err set. */
static int repro_load(const char *path, struct repro *rp, char *err, size_t errsz)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	bool have_prog = false;
	int lineno = 0;

	memset(rp, 0, sizeof(*rp));
	if (!f) {
		snprintf(err, errsz, "%s", strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f) && lineno++ < 10000) {
		char *v = line, *key;

		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		key = v;
		v = strchr(line, ' ');
		if (v)
			*v++ = 0;
		else
			v = "";
		if (!strcmp(key, "prog")) {
			have_prog = true;
			if (!strcmp(v, "xdp"))
				rp->prog = TH_XDP;
			else if (!strcmp(v, "tc_in"))
				rp->prog = TH_TC_IN;
			else if (!strcmp(v, "tc_fwd"))
				rp->prog = TH_TC_FWD;
			else
				goto bad;
		} else if (!strcmp(key, "iface")) {
			rp->iface = (__u8)atoi(v);
			if (rp->iface > 6) /* lab_set_iface()'s modes */
				goto bad;
		} else if (!strcmp(key, "trace")) {
			rp->trace = atoi(v) != 0;
		} else if (!strcmp(key, "len")) {
			rp->want_len = (__u32)strtoul(v, NULL, 10);
			rp->have_len = true;
		} else if (!strcmp(key, "data")) {
			for (; v[0] && v[1]; v += 2) {
				int hi = hexval(v[0]), lo = hexval(v[1]);

				if (hi < 0 || lo < 0 || rp->len >= sizeof(rp->data))
					goto bad;
				rp->data[rp->len++] = (__u8)(hi << 4 | lo);
			}
			if (v[0])
				goto bad;
		} else if (strcmp(key, "origin") && strcmp(key, "note")) {
			goto bad;
		}
	}
	fclose(f);
	if (!have_prog || (rp->have_len && rp->want_len != rp->len)) {
		snprintf(err, errsz, "missing prog, or len does not match the data");
		return -EINVAL;
	}
	return 0;
bad:
	fclose(f);
	snprintf(err, errsz, "line %d: cannot parse", lineno);
	return -EINVAL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_file(struct ctx *c, const char *path, int *nfiles)
{
	static struct repro rp;
	struct frame_in fi;
	char err[128];
	int ret;

	ret = repro_load(path, &rp, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "FAIL %s: %s\n", path, err);
		c->fails++;
		return 0;
	}
	(*nfiles)++;
	fi.data = rp.data;
	fi.len = rp.len;
	fi.iface = rp.iface;
	fi.trace = rp.trace;
	fi.origin = path;
	ret = set_frame_env(c, &fi);
	if (ret)
		return ret;
	c->frames++;
	ret = check_one(c, rp.prog, &fi);
	if (ret < 0)
		return ret;
	if (ret > 0 && c->verbose)
		printf("ok %s\n", path);
	return 0;
}

static int run_replay(struct ctx *c, char **paths, int npaths)
{
	int i, nfiles = 0, ret = 0;

	c->corpus = NULL; /* a replayed reproducer is already saved */
	for (i = 0; i < npaths && !ret; i++) {
		struct stat st;
		struct dirent *de;
		char **names = NULL;
		size_t n = 0, j;
		DIR *d;

		if (stat(paths[i], &st)) {
			fprintf(stderr, "difftest: %s: %s\n", paths[i], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			ret = replay_file(c, paths[i], &nfiles);
			continue;
		}
		d = opendir(paths[i]);
		if (!d)
			return 1;
		while ((de = readdir(d)) && n < 100000) {
			size_t l = strlen(de->d_name);
			char **nn;

			if (l < 5 || strcmp(de->d_name + l - 4, ".txt"))
				continue;
			nn = realloc(names, (n + 1) * sizeof(*names));
			if (!nn)
				break;
			names = nn;
			if (asprintf(&names[n], "%s/%s", paths[i], de->d_name) < 0)
				break;
			n++;
		}
		closedir(d);
		qsort(names, n, sizeof(*names), cmp_str);
		for (j = 0; j < n; j++) {
			if (!ret)
				ret = replay_file(c, names[j], &nfiles);
			free(names[j]);
		}
		free(names);
	}
	if (ret < 0)
		return 1;
	printf("replayed %d reproducer(s): %d disagreement(s)\n", nfiles, c->fails);
	if (!nfiles) {
		printf("SKIP: no reproducers to replay\n");
		return SKIP;
	}
	return c->fails ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: difftest [--frames N] [--seed S] [--corpus DIR] [--max-fail N] [-v]\n"
		"       difftest --replay DIR|FILE [--replay DIR|FILE ...] [-v]\n"
		"Runs generated frames (or saved reproducers) through the real xdp, tc_in\n"
		"and tc_fwd programs and the reference classifier; any disagreement fails\n"
		"and, with --corpus, is saved there as a reproducer.\n"
		"  --frames N    frames to generate (default 100000)\n"
		"  --seed S      generator seed (default 1)\n"
		"  --corpus DIR  save reproducers of disagreements in DIR\n"
		"  --max-fail N  stop after N disagreements (default 10)\n"
		"  --replay P    replay the reproducer file P, or every *.txt in directory P\n"
		"  -v            print program and reference output on disagreement\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "frames", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "corpus", required_argument, NULL, 'c' },
		{ "max-fail", required_argument, NULL, 'm' },
		{ "replay", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	LIBBPF_OPTS(th_opts, hopts, .max_rules = 64, .max_pingpong = 64);
	static struct ctx c;
	__u64 frames = 100000, seed = 1;
	char *replay[64];
	int nreplay = 0, opt, err, rc;

	c.max_fail = 10;
	while ((opt = getopt_long(argc, argv, "n:s:c:m:r:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			frames = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			c.corpus = optarg;
			break;
		case 'm':
			c.max_fail = atoi(optarg);
			break;
		case 'r':
			if (nreplay < 64)
				replay[nreplay++] = optarg;
			break;
		case 'v':
			c.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc || c.max_fail < 1) {
		usage(stderr);
		return 1;
	}
	if (geteuid() != 0) {
		printf("SKIP: needs root (BPF_PROG_TEST_RUN, network namespaces)\n");
		return SKIP;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	err = th_enter_private_netns();
	if (err) {
		printf("SKIP: cannot enter a private network namespace: %s\n", strerror(-err));
		return SKIP;
	}
	err = lab_net_up();
	if (err) {
		fprintf(stderr, "difftest: building the namespace's veths and routes failed: %s\n",
			strerror(-err));
		return 1;
	}
	c.lab.up0 = if_nametoindex("up0");
	c.lab.ct0 = if_nametoindex("ct0");
	c.lab.vx0 = if_nametoindex("vx0");
	if (!c.lab.up0 || !c.lab.ct0 || !c.lab.vx0) {
		fprintf(stderr, "difftest: lab devices missing\n");
		return 1;
	}
	lab_model(&c.lab);

	/*
	 * Small rule maps: a batch lookup walks every bucket of a hash, and the
	 * default million-entry map would make each counter read cost ~1 ms.
	 */
	c.h = th_open(&hopts);
	if (!c.h) {
		err = -errno;
		if (err == -EPERM) {
			printf("SKIP: cannot load BPF programs: %s\n", strerror(-err));
			return SKIP;
		}
		fprintf(stderr, "difftest: loading the skeletons: %s\n", strerror(-err));
		return 1;
	}
	rc = 1;
	err = lab_install(c.h, &c.lab);
	if (!err)
		err = reader_init(&c.rd, c.h);
	if (!err)
		err = snap_read(&c.rd, &c.lab.env, &c.before);
	if (err) {
		fprintf(stderr, "difftest: installing the rules: %s\n", strerror(-err));
		goto out;
	}
	if (nreplay)
		rc = run_replay(&c, replay, nreplay);
	else
		rc = run_random(&c, frames, seed);
out:
	free(c.rd.vals);
	th_close(c.h);
	return rc;
}
