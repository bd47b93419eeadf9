// SPDX-License-Identifier: GPL-2.0-only
/*
 * rule_layout - the lookup cost of candidate layouts of the bypass rule map
 * (rule_layout.bpf.c), side by side in one process: for each rule count N,
 * single BPF_PROG_TEST_RUN runs with the destination spread over the N
 * keys, every layout run on the same key in turn (order rotated), minus a
 * program that only reads the key. Also the kernel memory of each map
 * (fdinfo memlock) and the time to fill it by batch updates.
 *
 * Usage: rule_layout [--rules N[,N...]] [--samples N] [--cpu N]
 * Root; creates maps and programs only (nothing attached, nothing pinned).
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "abi.h"
#include "rule_layout.skel.h"

enum { L_NONE, L_PCPU, L_HASH, L_NOPRE, L_SLOT, L_MAX };
static const char *const lname[L_MAX] = {
	"key only", "per-CPU hash (ABI 5)", "hash, atomic counters", "no-prealloc hash (ABI 6)",
	"hash + per-CPU array slot",
};

struct l_rule {
	__u32 ifindex;
	__u16 mtu, flags;
	__u8 dmac[6], smac[6];
	__u64 c[4];
};

struct l_conf {
	__u32 ifindex;
	__u16 mtu, flags;
	__u8 dmac[6], smac[6];
	__u32 slot, pad;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "Error: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static double median_u32(__u32 *v, long n)
{
	qsort(v, n, sizeof(*v), cmp_u32);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static void key_of(__u32 i, struct xdpctl_addr *a)
{
	static const __u8 pfx[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00 };

	memset(a, 0, sizeof(*a));
	memcpy(a->addr, pfx, 6);
	a->addr[12] = i >> 24;
	a->addr[13] = i >> 16;
	a->addr[14] = i >> 8;
	a->addr[15] = i;
	a->family = XDPCTL_AF_INET6;
}

static unsigned long long map_memory(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Insert keys [from, to) into @fd, values of @vsz bytes (x @nv per key) from @fill. */
static double fill(int fd, long from, long to, size_t vsz, int nv,
		   void (*mk)(void *v, __u32 i))
{
	const long chunk = 65536;
	struct xdpctl_addr *keys = calloc(chunk, sizeof(*keys));
	char *vals = calloc(chunk * nv, vsz);
	double t0 = now_s();
	long i, j;
	int c;

	if (!keys || !vals)
		die("calloc", ENOMEM);
	for (i = from; i < to; i += chunk) {
		__u32 count = (__u32)((to - i) < chunk ? (to - i) : chunk);
		LIBBPF_OPTS(bpf_map_batch_opts, bo);

		for (j = 0; j < (long)count; j++) {
			key_of((__u32)(i + j), &keys[j]);
			for (c = 0; c < nv; c++)
				mk(vals + ((size_t)j * nv + c) * vsz, (__u32)(i + j));
		}
		if (bpf_map_update_batch(fd, keys, vals, &count, &bo))
			die("bpf_map_update_batch", errno);
	}
	free(keys);
	free(vals);
	return now_s() - t0;
}

static void mk_rule(void *v, __u32 i)
{
	struct l_rule *r = v;

	(void)i;
	memset(r, 0, sizeof(*r));
	r->ifindex = 1;
	r->mtu = 1500;
}

static void mk_conf(void *v, __u32 i)
{
	struct l_conf *r = v;

	memset(r, 0, sizeof(*r));
	r->ifindex = 1;
	r->mtu = 1500;
	r->slot = i;
}

static __u64 rng_state = 0x9e3779b97f4a7c15ull;

static __u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rules", required_argument, NULL, 'R' },
		{ "samples", required_argument, NULL, 'S' },
		{ "cpu", required_argument, NULL, 'c' },
		{},
	};
	long rules[8] = { 1, 1000, 100000, 1000000 }, samples = 20000, installed = 0;
	int n_rules = 4, cpu = -1, opt, k, l, fds[L_MAX], mfd[L_MAX];
	double tfill[L_MAX] = {};
	struct rule_layout *sk;
	__u8 frame[80] = {};
	__u32 *v[L_MAX];
	int ncpu = libbpf_num_possible_cpus();

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		char *tok, *save, *s;

		switch (opt) {
		case 'R':
			n_rules = 0;
			s = strdup(optarg);
			for (tok = strtok_r(s, ",", &save); tok && n_rules < 8;
			     tok = strtok_r(NULL, ",", &save))
				rules[n_rules++] = strtol(tok, NULL, 10);
			free(s);
			break;
		case 'S':
			samples = strtol(optarg, NULL, 10);
			break;
		case 'c':
			cpu = (int)strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "Usage: rule_layout [--rules N,...] [--samples N] [--cpu N]\n");
			return 1;
		}
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			die("sched_setaffinity", errno);
	}
	sk = rule_layout__open_and_load();
	if (!sk)
		die("loading rule_layout.bpf.o", errno);
	fds[L_NONE] = bpf_program__fd(sk->progs.l_none);
	fds[L_PCPU] = bpf_program__fd(sk->progs.l_pcpu);
	fds[L_HASH] = bpf_program__fd(sk->progs.l_hash);
	fds[L_NOPRE] = bpf_program__fd(sk->progs.l_nopre);
	fds[L_SLOT] = bpf_program__fd(sk->progs.l_slot);
	mfd[L_NONE] = -1;
	mfd[L_PCPU] = bpf_map__fd(sk->maps.m_pcpu);
	mfd[L_HASH] = bpf_map__fd(sk->maps.m_hash);
	mfd[L_NOPRE] = bpf_map__fd(sk->maps.m_nopre);
	mfd[L_SLOT] = bpf_map__fd(sk->maps.m_conf);

	/* Ethernet, IPv6 (next header UDP), UDP, 18 bytes of payload. */
	frame[12] = 0x86;
	frame[13] = 0xdd;
	frame[14] = 0x60;
	frame[19] = 26;
	frame[20] = 17;
	frame[21] = 64;
	for (l = 0; l < L_MAX; l++) {
		v[l] = calloc(samples, sizeof(__u32));
		if (!v[l])
			die("calloc", ENOMEM);
	}
	printf("%-10s", "rules");
	for (l = 1; l < L_MAX; l++)
		printf(" | %-26s", lname[l]);
	printf("\n");
	for (k = 0; k < n_rules; k++) {
		long n = rules[k], i;

		if (n > installed) {
			tfill[L_PCPU] += fill(mfd[L_PCPU], installed, n, sizeof(struct l_rule), ncpu, mk_rule);
			tfill[L_HASH] += fill(mfd[L_HASH], installed, n, sizeof(struct l_rule), 1, mk_rule);
			tfill[L_NOPRE] += fill(mfd[L_NOPRE], installed, n, sizeof(struct l_rule), 1, mk_rule);
			tfill[L_SLOT] += fill(mfd[L_SLOT], installed, n, sizeof(struct l_conf), 1, mk_conf);
			installed = n;
		}
		for (i = 0; i < samples; i++) {
			struct xdpctl_addr a;

			key_of((__u32)(rng() % (__u64)n), &a);
			memcpy(frame + 14 + 24, a.addr, 16);
			for (l = 0; l < L_MAX; l++) {
				int m = (int)((l + i) % L_MAX);
				LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
					    .data_size_in = sizeof(frame), .repeat = 1);

				if (bpf_prog_test_run_opts(fds[m], &o))
					die("BPF_PROG_TEST_RUN", errno);
				if (o.retval != (m == L_NONE ? XDP_PASS : XDP_TX)) {
					fprintf(stderr, "Error: %s: verdict %u (key not found?)\n", lname[m],
						o.retval);
					return 1;
				}
				v[m][i] = o.duration;
			}
		}
		{
			double base = median_u32(v[L_NONE], samples);

			printf("%-10ld", n);
			for (l = 1; l < L_MAX; l++)
				printf(" | %7.1f ns %6.1f MiB     ", median_u32(v[l], samples) - base,
				       map_memory(mfd[l]) / 1048576.0 +
					       (l == L_SLOT ? map_memory(bpf_map__fd(sk->maps.m_cnt)) / 1048576.0 : 0));
			printf("  (key only %.0f ns)\n", base);
		}
	}
	/* One rule, hot: batches of 100000 repeats on key 0, 9 interleaved rounds. */
	{
		double hot[L_MAX][9];
		struct xdpctl_addr a;
		int r;

		key_of(0, &a);
		memcpy(frame + 14 + 24, a.addr, 16);
		for (r = 0; r < 9; r++)
			for (l = 0; l < L_MAX; l++) {
				int m = (l + r) % L_MAX;
				LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
					    .data_size_in = sizeof(frame), .repeat = 100000);

				if (bpf_prog_test_run_opts(fds[m], &o))
					die("BPF_PROG_TEST_RUN", errno);
				hot[m][r] = o.duration;
			}
		printf("one rule, hot (batches of 100000, median of 9, minus key only):");
		for (l = 0; l < L_MAX; l++) {
			__u32 t[9];

			for (r = 0; r < 9; r++)
				t[r] = (__u32)(hot[l][r] * 100);
			hot[l][0] = median_u32(t, 9) / 100.0;
		}
		for (l = 1; l < L_MAX; l++)
			printf(" %s %.2f ns;", lname[l], hot[l][0] - hot[L_NONE][0]);
		printf(" (key only %.2f ns)\n", hot[L_NONE][0]);
	}
	printf("fill time (s), all rules:");
	for (l = 1; l < L_MAX; l++)
		printf(" %s %.2f;", lname[l], tfill[l]);
	printf("\n%d possible CPUs; %ld samples per count; ns = median of single runs minus the key-only program's\n",
	       ncpu, samples);
	rule_layout__destroy(sk);
	return 0;
}
