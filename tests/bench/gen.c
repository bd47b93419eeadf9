// SPDX-License-Identifier: GPL-2.0-only
/*
 * gen - a single-core 64-byte UDP generator for the bench: runs bench_gen
 * (gen.bpf.c) through BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, so
 * every run leaves the given device by XDP_TX as a real frame. Run it inside
 * the namespace that holds the device (nsenter); pin it with taskset.
 *
 *   gen --dev DEV --src-mac M --dst-mac M --src-ip A --dst-ip A
 *       [--sport N] [--dport N] [--size BYTES] [--seconds S] [--batch N]
 *
 * Prints one JSON line: {"sent": N, "seconds": S, "pps": P}.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gen.skel.h"

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1)
#endif

#define GEN_HDR_BYTES 48        /* as in gen.bpf.c */
#define GEN_MIN_SIZE  60        /* Ethernet minimum without FCS */
#define GEN_MAX_SIZE  1514
#define GEN_CHUNK     (1U << 16) /* frames per syscall: ~10-60 ms here */
#define GEN_MAX_SECONDS 600

struct gen_args {
	const char *dev;
	unsigned char smac[ETH_ALEN], dmac[ETH_ALEN];
	struct in_addr sip, dip;
	unsigned int sport, dport, size, batch;
	double seconds;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_mac(const char *s, unsigned char *mac)
{
	unsigned int b[ETH_ALEN];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -EINVAL;
	for (i = 0; i < ETH_ALEN; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = b[i];
	}
	return 0;
}

static int parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static __u16 ip_checksum(const void *hdr, size_t len)
{
	const __u16 *p = hdr;
	__u32 sum = 0;

	for (; len > 1; len -= 2)
		sum += *p++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* The frame: Ethernet, IPv4 (TTL 64, DF clear), UDP without checksum, zeros. */
static void build_frame(const struct gen_args *a, unsigned char *frame)
{
	struct ethhdr *eth = (struct ethhdr *)frame;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);

	memset(frame, 0, a->size);
	memcpy(eth->h_dest, a->dmac, ETH_ALEN);
	memcpy(eth->h_source, a->smac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(a->size - sizeof(*eth));
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = a->sip.s_addr;
	ip->daddr = a->dip.s_addr;
	ip->check = ip_checksum(ip, sizeof(*ip));
	udp->source = htons(a->sport);
	udp->dest = htons(a->dport);
	udp->len = htons(a->size - sizeof(*eth) - sizeof(*ip));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: gen --dev DEV --src-mac MAC --dst-mac MAC --src-ip IPV4 --dst-ip IPV4\n"
		   "           [--sport N] [--dport N] [--size BYTES] [--seconds S] [--batch N]\n");
}

static int parse_args(int argc, char **argv, struct gen_args *a)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "src-mac", required_argument, NULL, 'm' },
		{ "dst-mac", required_argument, NULL, 'M' },
		{ "src-ip", required_argument, NULL, 's' },
		{ "dst-ip", required_argument, NULL, 'D' },
		{ "sport", required_argument, NULL, 'p' },
		{ "dport", required_argument, NULL, 'P' },
		{ "size", required_argument, NULL, 'l' },
		{ "seconds", required_argument, NULL, 't' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned int have = 0;
	int c, li = 0;
	char *end;

	a->sport = 9;
	a->dport = 9;
	a->size = 64;
	a->seconds = 1;
	a->batch = 64;
	while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
		switch (c) {
		case 'd': a->dev = optarg; have |= 1; break;
		case 'm':
			if (parse_mac(optarg, a->smac))
				goto bad;
			have |= 2;
			break;
		case 'M':
			if (parse_mac(optarg, a->dmac))
				goto bad;
			have |= 4;
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &a->sip) != 1)
				goto bad;
			have |= 8;
			break;
		case 'D':
			if (inet_pton(AF_INET, optarg, &a->dip) != 1)
				goto bad;
			have |= 16;
			break;
		case 'p':
			if (parse_uint(optarg, 1, 65535, &a->sport))
				goto bad;
			break;
		case 'P':
			if (parse_uint(optarg, 1, 65535, &a->dport))
				goto bad;
			break;
		case 'l':
			if (parse_uint(optarg, GEN_MIN_SIZE, GEN_MAX_SIZE, &a->size))
				goto bad;
			break;
		case 't':
			errno = 0;
			a->seconds = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(a->seconds > 0) ||
			    a->seconds > GEN_MAX_SECONDS)
				goto bad;
			break;
		case 'b':
			if (parse_uint(optarg, 1, 256, &a->batch))
				goto bad;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc || have != 31) {
		usage(stderr);
		fprintf(stderr, "Error: --dev, --src-mac, --dst-mac, --src-ip and --dst-ip are required\n");
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "Error: bad value '%s' for --%s\n", optarg, opts[li].name);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	unsigned char frame[GEN_MAX_SIZE];
	struct gen_args a = {};
	struct bench_gen *skel = NULL;
	struct xdp_md ctx = {};
	unsigned long long sent = 0;
	double t0, elapsed = 0;
	int ifindex, err, i;

	if (parse_args(argc, argv, &a))
		return 1;
	ifindex = if_nametoindex(a.dev);
	if (!ifindex) {
		fprintf(stderr, "Error: no such device: %s (run gen inside its namespace)\n", a.dev);
		return 1;
	}
	build_frame(&a, frame);

	skel = bench_gen__open();
	if (!skel) {
		fprintf(stderr, "Error: opening the generator program: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < GEN_HDR_BYTES / 8; i++)
		memcpy((void *)&skel->rodata->gen_hdr[i], frame + 8 * i, 8);
	err = bench_gen__load(skel);
	if (err) {
		fprintf(stderr, "Error: loading the generator program: %s (needs root)\n",
			strerror(-err));
		goto out;
	}

	ctx.data_end = a.size;
	ctx.ingress_ifindex = ifindex;
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = a.size,
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = GEN_CHUNK,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		.batch_size = a.batch,
	);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = now_s();
	while (!stop && elapsed < a.seconds) {
		err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bench_gen), &opts);
		elapsed = now_s() - t0;
		if (err) {
			if (errno == EINTR || stop)
				break; /* the interrupted chunk is not counted */
			err = -errno;
			fprintf(stderr, "Error: BPF_PROG_TEST_RUN (live frames) on %s: %s\n",
				a.dev, strerror(errno));
			goto out;
		}
		sent += GEN_CHUNK;
	}
	err = 0;
	printf("{\"sent\": %llu, \"seconds\": %.6f, \"pps\": %.0f}\n", sent, elapsed,
	       elapsed > 0 ? sent / elapsed : 0.0);
out:
	bench_gen__destroy(skel);
	return err ? 1 : 0;
}
