// SPDX-License-Identifier: GPL-2.0-only
/*
 * rel-udp: a counted UDP stream for the reliability tests. The sender puts
 * a sequence number in each datagram and paces them at a bounded rate; the
 * sink counts distinct sequence numbers, so loss, duplicates and stray
 * datagrams are told apart. Every loop is bounded in count and in time.
 *
 *   rel-udp send --to ADDR[,ADDR...] --port P --count N --rate PPS [--size BYTES]
 *       sends N datagrams to each ADDR (round robin), prints
 *       "sent ADDR N" per destination, exits 0 when every send succeeded.
 *   rel-udp sink --bind ADDR --port P --expect N --ready FILE [--max-seconds S]
 *                [--idle-ms MS]
 *       creates FILE once bound, then counts until N distinct datagrams
 *       arrived, or nothing came for MS after the first one, or S passed,
 *       or SIGTERM; prints "received UNIQUE dup DUP stray STRAY bytes B".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x78647063u /* "xdpc" */
#define MAX_DST 8
#define MAX_COUNT 100000000u

struct hdr {
	uint32_t magic;
	uint32_t dst;   /* index of the destination this was sent to */
	uint64_t seq;
};

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int parse_addr(const char *s, unsigned int port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return 0;
	}
	fprintf(stderr, "rel-udp: '%s': not an IPv4 or IPv6 address\n", s);
	return -1;
}

static unsigned long num(const char *s, const char *what, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v > max) {
		fprintf(stderr, "rel-udp: %s: expected a number up to %lu, got '%s'\n", what, max, s);
		exit(2);
	}
	return v;
}

static int do_send(char *to, unsigned int port, unsigned long count, unsigned long rate,
		   unsigned long size)
{
	struct sockaddr_storage dst[MAX_DST];
	socklen_t dlen[MAX_DST];
	unsigned long sent[MAX_DST] = { 0 };
	int fd[MAX_DST];
	char *names[MAX_DST], *tok, *save = NULL;
	char buf[2048];
	unsigned int n = 0, i;
	uint64_t t0, gap_ns;
	unsigned long k;
	int errors = 0;

	for (tok = strtok_r(to, ",", &save); tok && n < MAX_DST; tok = strtok_r(NULL, ",", &save)) {
		if (parse_addr(tok, port, &dst[n], &dlen[n]))
			return 2;
		names[n] = tok;
		fd[n] = socket(dst[n].ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd[n] < 0 || connect(fd[n], (struct sockaddr *)&dst[n], dlen[n])) {
			fprintf(stderr, "rel-udp: %s: %s\n", tok, strerror(errno));
			return 1;
		}
		n++;
	}
	if (!n) {
		fprintf(stderr, "rel-udp: send needs --to\n");
		return 2;
	}
	if (size < sizeof(struct hdr))
		size = sizeof(struct hdr);
	if (size > sizeof(buf))
		size = sizeof(buf);
	memset(buf, 0xa5, sizeof(buf));
	gap_ns = 1000000000ull / (rate ? rate : 1);
	t0 = now_ns();
	for (k = 0; k < count && !stop; k++) {
		uint64_t due = t0 + k * gap_ns;
		uint64_t t = now_ns();

		if (t < due) {
			struct timespec ts = { .tv_sec = (due - t) / 1000000000ull,
					       .tv_nsec = (due - t) % 1000000000ull };
			nanosleep(&ts, NULL);
		}
		for (i = 0; i < n; i++) {
			struct hdr h = { .magic = MAGIC, .dst = i, .seq = k };

			memcpy(buf, &h, sizeof(h));
			/* A full local queue is not the dataplane's loss: retry a little. */
			for (int tries = 0; tries < 100; tries++) {
				if (send(fd[i], buf, size, 0) == (ssize_t)size) {
					sent[i]++;
					break;
				}
				if (errno != ENOBUFS && errno != EAGAIN) {
					if (errors++ < 5)
						fprintf(stderr, "rel-udp: send to %s: %s\n", names[i],
							strerror(errno));
					break;
				}
				usleep(1000);
			}
		}
	}
	for (i = 0; i < n; i++) {
		printf("sent %s %lu\n", names[i], sent[i]);
		close(fd[i]);
	}
	return errors ? 1 : 0;
}

static int do_sink(const char *bind_addr, unsigned int port, unsigned long expect,
		   const char *ready, unsigned long max_s, unsigned long idle_ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned char *seen;
	unsigned long uniq = 0, dup = 0, stray = 0, bytes = 0;
	uint64_t deadline, last = 0;
	int fd, rcvbuf = 8 << 20, on = 1;
	char buf[4096];

	if (parse_addr(bind_addr, port, &ss, &len))
		return 2;
	seen = calloc(expect ? expect : 1, 1);
	if (!seen)
		return 1;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return perror("rel-udp: socket"), 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		fprintf(stderr, "rel-udp: bind %s port %u: %s\n", bind_addr, port, strerror(errno));
		return 1;
	}
	if (ready) {
		int rf = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (rf < 0)
			return perror("rel-udp: ready file"), 1;
		close(rf);
	}
	deadline = now_ns() + (uint64_t)max_s * 1000000000ull;
	while (!stop && uniq < expect) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t t = now_ns();
		ssize_t n;
		struct hdr h;

		if (t >= deadline)
			break;
		if (last && idle_ms && t - last >= idle_ms * 1000000ull)
			break;
		if (poll(&p, 1, 100) <= 0)
			continue;
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			last = now_ns();
			bytes += n;
			memcpy(&h, buf, sizeof(h) < (size_t)n ? sizeof(h) : (size_t)n);
			if ((size_t)n < sizeof(h) || h.magic != MAGIC || h.seq >= expect) {
				stray++;
				continue;
			}
			if (seen[h.seq]) {
				dup++;
			} else {
				seen[h.seq] = 1;
				uniq++;
			}
		}
	}
	printf("received %lu dup %lu stray %lu bytes %lu\n", uniq, dup, stray, bytes);
	free(seen);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "bind", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'c' },
		{ "expect", required_argument, NULL, 'e' },
		{ "rate", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "ready", required_argument, NULL, 'R' },
		{ "max-seconds", required_argument, NULL, 'm' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_term };
	char *to = NULL, *bind_addr = NULL, *ready = NULL;
	unsigned long port = 0, count = 0, expect = 0, rate = 1000, size = 64;
	unsigned long max_s = 60, idle_ms = 0;
	int c;

	if (argc < 2 || (strcmp(argv[1], "send") && strcmp(argv[1], "sink"))) {
		fprintf(stderr, "usage: rel-udp send|sink [options] (see the source's header)\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'b': bind_addr = optarg; break;
		case 'p': port = num(optarg, "--port", 65535); break;
		case 'c': count = num(optarg, "--count", MAX_COUNT); break;
		case 'e': expect = num(optarg, "--expect", MAX_COUNT); break;
		case 'r': rate = num(optarg, "--rate", 10000000); break;
		case 's': size = num(optarg, "--size", 2048); break;
		case 'R': ready = optarg; break;
		case 'm': max_s = num(optarg, "--max-seconds", 86400); break;
		case 'i': idle_ms = num(optarg, "--idle-ms", 3600000); break;
		default: return 2;
		}
	}
	if (!port) {
		fprintf(stderr, "rel-udp: --port is required\n");
		return 2;
	}
	if (!strcmp(argv[1], "send"))
		return do_send(to, port, count, rate, size);
	if (!bind_addr || !expect) {
		fprintf(stderr, "rel-udp: sink needs --bind and --expect\n");
		return 2;
	}
	return do_sink(bind_addr, port, expect, ready, max_s, idle_ms);
}
