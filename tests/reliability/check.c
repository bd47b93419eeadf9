// SPDX-License-Identifier: GPL-2.0-only
/*
 * rel-check: is the pinned state consistent with a rule file? Reads the maps
 * straight from bpffs with libbpf (not through the dataplane library, whose
 * behaviour is what is being checked) and the rule file the way it was
 * written ("ADDR dev VETH [mac MAC]", one per line).
 *
 *   rel-check --pin-dir DIR --rules FILE [--netns NAME] [--peer-mac VETH=MAC]...
 *             [--smac MAC] [--extra ADDR]... [--expect-all | --expect-none]
 *             [--refcnt exact|atleast]
 *   rel-check --pin-dir DIR --wait-key ADDR --kill PID [--after-ms MS] [--timeout-ms MS]
 *
 * For every rule in the bypass map: it is in FILE (or given with --extra),
 * and on every CPU its value names FILE's veth (ifindex in NAME's netns),
 * its MAC (the file's, else the --peer-mac of that veth) and, with --smac,
 * that source MAC: whole, never half written. For every veth with rules: a
 * devmap entry pointing at itself, and an ifaces entry flagged as a veth
 * whose refcnt equals the number of its rules (--refcnt atleast: is not
 * below it; a count above only delays the veth's teardown, one below tears
 * it down under live rules). Prints one summary line
 * "stored S of N rules; veths: NAME rules R refcnt C devmap yes|no ..." and
 * one line per problem (at most 20); exit 0 when consistent, 1 otherwise.
 *
 * The second form is the trigger of the kill test: poll the bypass map
 * (every 200 us) until ADDR is in it, wait MS, then SIGKILL PID. Exit 0:
 * killed after the key appeared; 3: PID was gone first; 4: timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "abi.h"

#define MAX_VETH 64
#define MAX_EXTRA 16

struct want {
	struct xdpctl_addr addr;
	int veth;       /* index into vt[] */
	__u8 mac[6];
	bool has_mac;
	bool seen;
};

struct veth {
	char name[IF_NAMESIZE];
	__u32 ifindex;
	__u8 peer_mac[6];
	bool has_peer_mac;
	unsigned long rules;
};

static struct veth vt[MAX_VETH];
static int nvt;
static int problems;

#define PROBLEM(...)                                                           \
	do {                                                                   \
		if (problems++ < 20) {                                         \
			printf("problem: ");                                   \
			printf(__VA_ARGS__);                                   \
			putchar('\n');                                         \
		}                                                              \
	} while (0)

static int veth_index(const char *name)
{
	int i;

	for (i = 0; i < nvt; i++)
		if (!strcmp(vt[i].name, name))
			return i;
	if (nvt == MAX_VETH || strlen(name) >= IF_NAMESIZE)
		return -1;
	snprintf(vt[nvt].name, sizeof(vt[nvt].name), "%s", name);
	vt[nvt].ifindex = if_nametoindex(name);
	return nvt++;
}

static int parse_mac(const char *s, __u8 m[6])
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%2x%*[:-]%2x%*[:-]%2x%*[:-]%2x%*[:-]%2x%*[:-]%2x", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		m[i] = b[i];
	return 0;
}

static int parse_addr(const char *s, struct xdpctl_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = XDPCTL_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->family = XDPCTL_AF_INET6;
		return 0;
	}
	return -1;
}

/* Open addressing over the wanted rules, keyed by address. */
static struct want *wants;
static size_t nwant, *slots, mask;

static size_t hash(const struct xdpctl_addr *a)
{
	unsigned long long h = 1469598103934665603ull;
	const unsigned char *p = (const unsigned char *)a;
	size_t i;

	for (i = 0; i < sizeof(*a); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return (size_t)h;
}

static struct want *find(const struct xdpctl_addr *a)
{
	size_t i = hash(a) & mask;

	while (slots[i]) {
		if (!memcmp(&wants[slots[i] - 1].addr, a, sizeof(*a)))
			return &wants[slots[i] - 1];
		i = (i + 1) & mask;
	}
	return NULL;
}

static bool insert(size_t idx)
{
	size_t i = hash(&wants[idx].addr) & mask;

	while (slots[i]) {
		if (!memcmp(&wants[slots[i] - 1].addr, &wants[idx].addr, sizeof(wants[idx].addr)))
			return false;
		i = (i + 1) & mask;
	}
	slots[i] = idx + 1;
	return true;
}

static int read_rules(const char *file)
{
	char line[512], *w[6];
	size_t cap = 0, lineno = 0;
	FILE *f = fopen(file, "re");

	if (!f) {
		fprintf(stderr, "rel-check: %s: %s\n", file, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *hash_pos = strchr(line, '#');
		int nw = 0;
		struct want *x;

		lineno++;
		if (hash_pos)
			*hash_pos = '\0';
		for (char *t = strtok_r(line, " \t\n", &save); t && nw < 6; t = strtok_r(NULL, " \t\n", &save))
			w[nw++] = t;
		if (!nw)
			continue;
		if ((nw != 3 && nw != 5) || strcmp(w[1], "dev") || (nw == 5 && strcmp(w[3], "mac"))) {
			fprintf(stderr, "rel-check: %s:%zu: not 'ADDR dev VETH [mac MAC]'\n", file, lineno);
			fclose(f);
			return -1;
		}
		if (nwant == cap) {
			cap = cap ? cap * 2 : 4096;
			wants = realloc(wants, cap * sizeof(*wants));
			if (!wants)
				return -1;
		}
		x = &wants[nwant];
		memset(x, 0, sizeof(*x));
		x->veth = veth_index(w[2]);
		if (parse_addr(w[0], &x->addr) || x->veth < 0 ||
		    (nw == 5 && parse_mac(w[4], x->mac))) {
			fprintf(stderr, "rel-check: %s:%zu: bad address, device or MAC\n", file, lineno);
			fclose(f);
			return -1;
		}
		x->has_mac = nw == 5;
		nwant++;
	}
	fclose(f);
	return 0;
}

static bool alive(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	p = ok ? strrchr(buf, ')') : NULL;
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ll + ts.tv_nsec / 1000;
}

/* Poll for @key in @fd, then kill @pid @after_ms later. */
static int wait_and_kill(int fd, const struct xdpctl_addr *key, pid_t pid, long after_ms,
			 long timeout_ms, int ncpus)
{
	struct xdpctl_bypass *v = calloc(ncpus, sizeof(*v));
	long long t0 = now_us(), seen;

	if (!v)
		return 1;
	for (;;) {
		if (!bpf_map_lookup_elem(fd, key, v))
			break;
		if (!alive(pid)) {
			printf("wait-key: process %d ended before the key appeared\n", (int)pid);
			return 3;
		}
		if (now_us() - t0 > timeout_ms * 1000) {
			printf("wait-key: timeout\n");
			return 4;
		}
		usleep(200);
	}
	seen = now_us();
	if (after_ms > 0)
		usleep(after_ms * 1000);
	kill(pid, SIGKILL);
	printf("wait-key: key seen after %lld ms, SIGKILL %lld ms later\n", (seen - t0) / 1000,
	       (now_us() - seen) / 1000);
	free(v);
	return 0;
}

static int pinned(const char *dir, const char *name)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		fprintf(stderr, "rel-check: %s: %s\n", path, strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "rules", required_argument, NULL, 'r' },
		{ "netns", required_argument, NULL, 'n' },
		{ "peer-mac", required_argument, NULL, 'p' },
		{ "smac", required_argument, NULL, 's' },
		{ "extra", required_argument, NULL, 'x' },
		{ "expect-all", no_argument, NULL, 'A' },
		{ "expect-none", no_argument, NULL, 'N' },
		{ "refcnt", required_argument, NULL, 'c' },
		{ "wait-key", required_argument, NULL, 'w' },
		{ "kill", required_argument, NULL, 'k' },
		{ "after-ms", required_argument, NULL, 'a' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pin = NULL, *rules = NULL, *netns = NULL;
	struct xdpctl_addr extra[MAX_EXTRA];
	char *peer_macs[MAX_VETH];
	int npeer = 0, nextra = 0, ncpus, bypass, devmap, ifaces, c, i;
	bool expect_all = false, expect_none = false, has_smac = false, refcnt_atleast = false;
	__u8 smac[6];
	struct xdpctl_addr wait_key;
	bool waiting = false;
	pid_t kill_pid = 0;
	long after_ms = 0, timeout_ms = 60000;
	size_t stored = 0, extras_seen = 0, cap;
	struct xdpctl_addr *keys, in, out;
	struct xdpctl_bypass *vals;
	__u32 chunk = 8192, count, k;
	bool first = true, last = false;
	LIBBPF_OPTS(bpf_map_batch_opts, bo);

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': pin = optarg; break;
		case 'r': rules = optarg; break;
		case 'n': netns = optarg; break;
		case 'p':
			if (npeer < MAX_VETH)
				peer_macs[npeer++] = optarg;
			break;
		case 's':
			if (parse_mac(optarg, smac))
				return fprintf(stderr, "rel-check: --smac %s\n", optarg), 2;
			has_smac = true;
			break;
		case 'x':
			if (nextra == MAX_EXTRA || parse_addr(optarg, &extra[nextra]))
				return fprintf(stderr, "rel-check: --extra %s\n", optarg), 2;
			nextra++;
			break;
		case 'A': expect_all = true; break;
		case 'N': expect_none = true; break;
		case 'c':
			if (strcmp(optarg, "exact") && strcmp(optarg, "atleast"))
				return fprintf(stderr, "rel-check: --refcnt exact|atleast\n"), 2;
			refcnt_atleast = !strcmp(optarg, "atleast");
			break;
		case 'w':
			if (parse_addr(optarg, &wait_key))
				return fprintf(stderr, "rel-check: --wait-key %s\n", optarg), 2;
			waiting = true;
			break;
		case 'k': kill_pid = atoi(optarg); break;
		case 'a': after_ms = atol(optarg); break;
		case 't': timeout_ms = atol(optarg); break;
		default: return 2;
		}
	}
	if (pin && waiting) {
		int fd = pinned(pin, XDPCTL_MAP_BYPASS);

		if (fd < 0 || kill_pid <= 0)
			return 2;
		return wait_and_kill(fd, &wait_key, kill_pid, after_ms, timeout_ms, 1);
	}
	if (!pin || !rules) {
		fprintf(stderr, "usage: rel-check --pin-dir DIR --rules FILE [--netns NAME] "
				"[--peer-mac VETH=MAC]... [--smac MAC] [--extra ADDR]... "
				"[--expect-all|--expect-none] [--refcnt exact|atleast]\n");
		return 2;
	}
	if (netns) {
		char path[4096];
		int fd;

		snprintf(path, sizeof(path), "/run/netns/%s", netns);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET)) {
			fprintf(stderr, "rel-check: netns %s: %s\n", netns, strerror(errno));
			return 1;
		}
		close(fd);
	}
	if (read_rules(rules))
		return 1;
	for (i = 0; i < npeer; i++) {
		char *eq = strchr(peer_macs[i], '=');
		int v;

		if (!eq)
			return fprintf(stderr, "rel-check: --peer-mac %s: expected VETH=MAC\n", peer_macs[i]), 2;
		*eq = '\0';
		v = veth_index(peer_macs[i]);
		if (v < 0 || parse_mac(eq + 1, vt[v].peer_mac))
			return fprintf(stderr, "rel-check: --peer-mac %s\n", peer_macs[i]), 2;
		vt[v].has_peer_mac = true;
	}
	for (i = 0; i < nvt; i++)
		if (!vt[i].ifindex)
			PROBLEM("veth %s of the rule file does not exist", vt[i].name);
	for (cap = 1024; cap < 2 * nwant; cap <<= 1)
		;
	mask = cap - 1;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return 1;
	for (size_t j = 0; j < nwant; j++)
		if (!insert(j))
			PROBLEM("the rule file repeats an address (line of rule %zu)", j + 1);

	/* The bypass map holds one value per rule, shared by the CPUs (abi.h). */
	ncpus = 1;
	bypass = pinned(pin, XDPCTL_MAP_BYPASS);
	devmap = pinned(pin, XDPCTL_MAP_DEVMAP);
	ifaces = pinned(pin, XDPCTL_MAP_IFACES);
	if (ncpus <= 0 || bypass < 0 || devmap < 0 || ifaces < 0)
		return 1;
	keys = calloc(chunk, sizeof(*keys));
	vals = calloc((size_t)chunk * ncpus, sizeof(*vals));
	if (!keys || !vals)
		return 1;

	while (!last) {
		int err;

		count = chunk;
		err = bpf_map_lookup_batch(bypass, first ? NULL : &in, &out, keys, vals, &count, &bo);
		if (err == -ENOENT) {
			last = true;
		} else if (err) {
			fprintf(stderr, "rel-check: reading the bypass map: %s\n", strerror(-err));
			return 1;
		}
		for (k = 0; k < count; k++) {
			const struct xdpctl_bypass *v = &vals[(size_t)k * ncpus];
			struct want *x = find(&keys[k]);
			char a[INET6_ADDRSTRLEN] = "?";
			int cpu;

			inet_ntop(keys[k].family == XDPCTL_AF_INET ? AF_INET : AF_INET6, keys[k].addr, a,
				  sizeof(a));
			if (!x) {
				bool is_extra = false;

				for (i = 0; i < nextra; i++)
					is_extra |= !memcmp(&extra[i], &keys[k], sizeof(keys[k]));
				if (is_extra) {
					extras_seen++;
					/* an extra rule still counts for its veth */
					for (i = 0; i < nvt; i++)
						if (vt[i].ifindex == v->ifindex)
							vt[i].rules++;
				} else {
					PROBLEM("rule %s is not in the rule file", a);
				}
				continue;
			}
			if (x->seen)
				PROBLEM("rule %s listed twice", a);
			x->seen = true;
			stored++;
			vt[x->veth].rules++;
			for (cpu = 0; cpu < ncpus; cpu++) {
				const struct xdpctl_bypass *p = &v[cpu];
				const __u8 *mac = x->has_mac ? x->mac :
						  vt[x->veth].has_peer_mac ? vt[x->veth].peer_mac : NULL;

				if (p->ifindex != vt[x->veth].ifindex)
					PROBLEM("rule %s cpu %d: ifindex %u, expected %u (%s)", a, cpu,
						p->ifindex, vt[x->veth].ifindex, vt[x->veth].name);
				if (mac && memcmp(p->dmac, mac, 6))
					PROBLEM("rule %s cpu %d: wrong MAC", a, cpu);
				if (has_smac && memcmp(p->smac, smac, 6))
					PROBLEM("rule %s cpu %d: wrong source MAC", a, cpu);
				if (!p->mtu)
					PROBLEM("rule %s cpu %d: MTU 0 (a value not written whole?)", a, cpu);
				if (cpu && memcmp(p, &v[0], offsetof(struct xdpctl_bypass, in_packets)))
					PROBLEM("rule %s: cpu %d's value differs from cpu 0's", a, cpu);
			}
		}
		in = out;
		first = false;
	}

	printf("stored %zu of %zu rules", stored, nwant);
	if (nextra)
		printf(" (+%zu extra)", extras_seen);
	printf("; veths:");
	for (i = 0; i < nvt; i++) {
		struct xdpctl_iface ent;
		__u32 dm = 0;
		bool have_ent = vt[i].ifindex && !bpf_map_lookup_elem(ifaces, &vt[i].ifindex, &ent);
		bool have_dm = vt[i].ifindex && !bpf_map_lookup_elem(devmap, &vt[i].ifindex, &dm);

		printf(" %s rules %lu refcnt %u devmap %s", vt[i].name, vt[i].rules,
		       have_ent ? ent.refcnt : 0, have_dm ? "yes" : "no");
		if (vt[i].rules) {
			if (!have_dm || dm != vt[i].ifindex)
				PROBLEM("veth %s has %lu rules but %s", vt[i].name, vt[i].rules,
					have_dm ? "a devmap entry naming another ifindex" : "no devmap entry");
			if (!have_ent)
				PROBLEM("veth %s has %lu rules but no ifaces entry", vt[i].name, vt[i].rules);
			else if ((refcnt_atleast ? ent.refcnt < vt[i].rules : ent.refcnt != vt[i].rules) ||
				 !(ent.flags & XDPCTL_IF_VETH))
				PROBLEM("veth %s has %lu rules but its ifaces entry says refcnt %u flags 0x%x",
					vt[i].name, vt[i].rules, ent.refcnt, ent.flags);
		} else if (have_ent && ent.refcnt) {
			PROBLEM("veth %s has no rules but refcnt %u", vt[i].name, ent.refcnt);
		}
	}
	putchar('\n');
	if (expect_all && stored != nwant)
		PROBLEM("expected all %zu rules, %zu stored", nwant, stored);
	if (expect_none && stored)
		PROBLEM("expected no rule of the file, %zu stored", stored);
	if (problems > 20)
		printf("... %d problems in all\n", problems);
	return problems ? 1 : 0;
}
