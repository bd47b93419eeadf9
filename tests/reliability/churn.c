// SPDX-License-Identifier: GPL-2.0-only
/*
 * rel-churn: add and delete many bypass rules through the library while
 * traffic runs on other rules. Rounds of BATCH rules: every LOAD_EVERY-th
 * round stores its rules with one xdpctl_dp__bypass_load(), the others rule
 * by rule with xdpctl_dp__bypass_add(); then every rule of the round is
 * deleted with xdpctl_dp__bypass_del(). Rule i goes to veth i % NVETH, so a
 * veth used by no other rule is set up and torn down every round, while the
 * veths of the steady flows only see their rule counts go up and down.
 *
 *   rel-churn --pin-dir DIR --netns NAME --veths A,B,... --rules N
 *             [--batch B] [--load-every K] [--max-seconds S]
 *
 * Addresses: even i from 198.19.1.1 up (never 198.19.0.0/24, where the lab's
 * containers live), odd i from 2001:db8:19::1:0:0 up.
 * Prints "added N deleted N rounds R bulk_rounds K seconds T"; exit 0 when
 * every call succeeded, 1 at the first failure (with the library's message).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xdpctl/dataplane.h"

#define MAX_VETH 8

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void rule_addr(unsigned long i, struct xdpctl_addr *a)
{
	unsigned long k = i / 2;

	memset(a, 0, sizeof(*a));
	if (i % 2 == 0) {
		/* 198.19.X.Y, X in 1..255, Y in 1..254: 64,770 distinct, then again */
		k %= 255ul * 254ul;
		a->family = XDPCTL_AF_INET;
		a->addr[0] = 198;
		a->addr[1] = 19;
		a->addr[2] = 1 + k / 254;
		a->addr[3] = 1 + k % 254;
	} else {
		/* 2001:db8:19::1:0:0 + k */
		static const __u8 base[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x19, 0, 0,
					       0, 0, 0, 1, 0, 0, 0, 0 };

		a->family = XDPCTL_AF_INET6;
		memcpy(a->addr, base, 16);
		a->addr[12] = k >> 24;
		a->addr[13] = k >> 16;
		a->addr[14] = k >> 8;
		a->addr[15] = k;
	}
}

static unsigned long num(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s) {
		fprintf(stderr, "rel-churn: %s: expected a number, got '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "netns", required_argument, NULL, 'n' },
		{ "veths", required_argument, NULL, 'v' },
		{ "rules", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "load-every", required_argument, NULL, 'l' },
		{ "max-seconds", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	XDPCTL_OPTS(xdpctl_dp_opts, o);
	struct xdpctl_bypass_rule *batch;
	struct xdpctl_dp *dp = NULL;
	char *veths[MAX_VETH], *vlist = NULL, *tok, *save = NULL, abuf[64];
	const char *pin = NULL, *netns = NULL;
	unsigned long n = 0, bsize = 500, load_every = 4, max_s = 600;
	unsigned long added = 0, deleted = 0, rounds = 0, bulk = 0, i, k;
	unsigned int nveth = 0;
	double t0;
	int c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': pin = optarg; break;
		case 'n': netns = optarg; break;
		case 'v': vlist = optarg; break;
		case 'r': n = num(optarg, "--rules"); break;
		case 'b': bsize = num(optarg, "--batch"); break;
		case 'l': load_every = num(optarg, "--load-every"); break;
		case 'm': max_s = num(optarg, "--max-seconds"); break;
		default: return 2;
		}
	}
	if (!pin || !vlist || !n || !bsize) {
		fprintf(stderr, "usage: rel-churn --pin-dir DIR [--netns NAME] --veths A,B --rules N "
				"[--batch B] [--load-every K] [--max-seconds S]\n");
		return 2;
	}
	for (tok = strtok_r(vlist, ",", &save); tok && nveth < MAX_VETH; tok = strtok_r(NULL, ",", &save))
		veths[nveth++] = tok;
	if (netns && (err = xdpctl_netns_enter(netns))) {
		fprintf(stderr, "rel-churn: entering %s: %s\n", netns, strerror(-err));
		return 1;
	}
	o.pin_dir = pin;
	err = xdpctl_dp__open(&o, &dp);
	if (err) {
		fprintf(stderr, "rel-churn: opening %s: %s\n", pin, xdpctl_dp__errmsg(NULL));
		return 1;
	}
	batch = calloc(bsize, sizeof(*batch));
	if (!batch)
		return 1;

	t0 = now_s();
	for (i = 0; i < n && now_s() - t0 < max_s; i += k, rounds++) {
		bool bulk_round = load_every && rounds % load_every == load_every - 1;

		k = n - i < bsize ? n - i : bsize;
		for (unsigned long j = 0; j < k; j++) {
			memset(&batch[j], 0, sizeof(batch[j]));
			rule_addr(i + j, &batch[j].addr);
			snprintf(batch[j].dev, sizeof(batch[j].dev), "%s", veths[(i + j) % nveth]);
		}
		if (bulk_round) {
			size_t done = 0;

			err = xdpctl_dp__bypass_load(dp, batch, k, &done);
			if (err) {
				fprintf(stderr, "rel-churn: round %lu: bulk load of %lu: %s (%zu stored)\n",
					rounds, k, xdpctl_dp__errmsg(dp), done);
				goto fail;
			}
			added += k;
			bulk++;
		} else {
			for (unsigned long j = 0; j < k; j++) {
				XDPCTL_OPTS(xdpctl_bypass_opts, bo, .dev = batch[j].dev);

				err = xdpctl_dp__bypass_add(dp, &batch[j].addr, &bo);
				if (err) {
					xdpctl_addr_format(&batch[j].addr, abuf, sizeof(abuf));
					fprintf(stderr, "rel-churn: add %s dev %s: %s\n", abuf, batch[j].dev,
						xdpctl_dp__errmsg(dp));
					goto fail;
				}
				added++;
			}
		}
		for (unsigned long j = 0; j < k; j++) {
			err = xdpctl_dp__bypass_del(dp, &batch[j].addr);
			if (err) {
				xdpctl_addr_format(&batch[j].addr, abuf, sizeof(abuf));
				fprintf(stderr, "rel-churn: del %s: %s\n", abuf, xdpctl_dp__errmsg(dp));
				goto fail;
			}
			deleted++;
		}
	}
	printf("added %lu deleted %lu rounds %lu bulk_rounds %lu seconds %.1f\n", added, deleted,
	       rounds, bulk, now_s() - t0);
	free(batch);
	xdpctl_dp__close(dp);
	return added == n && deleted == n ? 0 : 1;
fail:
	printf("added %lu deleted %lu rounds %lu bulk_rounds %lu seconds %.1f FAILED\n", added,
	       deleted, rounds, bulk, now_s() - t0);
	free(batch);
	xdpctl_dp__close(dp);
	return 1;
}
