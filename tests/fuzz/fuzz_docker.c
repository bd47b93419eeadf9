// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the parsers of Docker Engine API answers
 * (dataplane/docker_json.c, json-c underneath): container inspect, container
 * list, one /events line, network inspect. The bytes come from the
 * daemon's socket, so nothing in them may crash or mislead xdpctl.
 *
 * Properties (a violation aborts with "INVARIANT"):
 * - each parser returns 0 or one of its documented errors;
 * - on success every string is NUL-terminated inside its field, an id is
 *   never empty, at most XDPCTL_DOCKER_NETS_MAX networks, a pid only for a
 *   running container, has4/has6 only with an address of that family;
 * - a parse is a function of the JSON value: the same bytes with trailing
 *   whitespace give the same result, and a second parse the same bytes;
 * - the list parser hands out exactly the ids it reports, each non-empty.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdpctl/docker.h"
#include "fuzz_util.h"

#define MAX_INPUT 65536

static bool terminated(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

static void check_ctr(const struct xdpctl_docker_ctr *c)
{
	unsigned int i;

	INVARIANT(terminated(c->id, sizeof(c->id)) && c->id[0], "id");
	INVARIANT(terminated(c->name, sizeof(c->name)), "name");
	INVARIANT(c->nnets <= XDPCTL_DOCKER_NETS_MAX, "%u networks", c->nnets);
	INVARIANT(c->pid >= 0 && (c->running || !c->pid), "pid %d running %d", (int)c->pid,
		  c->running);
	INVARIANT(!(c->pingpong_hooks & ~(XDPCTL_HOOKBIT_XDP | XDPCTL_HOOKBIT_TC)), "hooks %u",
		  c->pingpong_hooks);
	for (i = 0; i < c->nnets; i++) {
		const struct xdpctl_docker_net *n = &c->nets[i];

		INVARIANT(terminated(n->name, sizeof(n->name)), "net name");
		INVARIANT(terminated(n->id, sizeof(n->id)), "net id");
		INVARIANT(!n->has4 || n->addr4.family == XDPCTL_AF_INET, "addr4 family %u",
			  n->addr4.family);
		INVARIANT(!n->has6 || n->addr6.family == XDPCTL_AF_INET6, "addr6 family %u",
			  n->addr6.family);
	}
}

struct ids {
	unsigned int n;
	bool bad;
};

static int on_id(const char *id, void *ctx)
{
	struct ids *l = ctx;

	if (!id || !id[0] || strlen(id) >= 72)
		l->bad = true;
	l->n++;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xdpctl_docker_ctr a, b;
	struct xdpctl_docker_event ea, eb;
	struct ids la = {}, lb = {};
	char *buf, *ws;
	bool oa = false, ob = false;
	int ra, rb;

	if (size > MAX_INPUT)
		return 0;
	buf = malloc(size + 1);
	ws = malloc(size + 3);
	if (!buf || !ws) {
		free(buf);
		free(ws);
		return 0;
	}
	memcpy(buf, data, size);
	memcpy(ws, data, size);
	memcpy(ws + size, " \n\t", 3);

	/* container inspect, with and without a label to match */
	ra = xdpctl_docker_parse_inspect(buf, size, "xdpctl-lab=x", &a);
	INVARIANT(ra == 0 || ra == -EPROTO || ra == -ENAMETOOLONG, "inspect = %d", ra);
	rb = xdpctl_docker_parse_inspect(ws, size + 3, "xdpctl-lab=x", &b);
	INVARIANT(ra == rb, "inspect %d, with trailing whitespace %d", ra, rb);
	if (!ra) {
		check_ctr(&a);
		INVARIANT(!memcmp(&a, &b, sizeof(a)), "trailing whitespace changed the result");
		rb = xdpctl_docker_parse_inspect(buf, size, NULL, &b);
		INVARIANT(rb == 0 && b.label_match, "no label asked: %d, match %d", rb, b.label_match);
		b.label_match = a.label_match;
		INVARIANT(!memcmp(&a, &b, sizeof(a)), "the label changed more than label_match");
	}

	/* container list */
	ra = xdpctl_docker_parse_list(buf, size, on_id, &la);
	rb = xdpctl_docker_parse_list(ws, size + 3, on_id, &lb);
	INVARIANT(ra == 0 || ra == -EPROTO, "list = %d", ra);
	INVARIANT(ra == rb && la.n == lb.n, "list %d/%u, with whitespace %d/%u", ra, la.n, rb, lb.n);
	INVARIANT(!la.bad, "the list handed out an empty or overlong id");

	/* one event line */
	ra = xdpctl_docker_parse_event(buf, size, &ea);
	rb = xdpctl_docker_parse_event(ws, size + 3, &eb);
	INVARIANT(ra == 0 || ra == -EPROTO, "event = %d", ra);
	INVARIANT(ra == rb, "event %d, with whitespace %d", ra, rb);
	if (!ra) {
		INVARIANT(terminated(ea.type, sizeof(ea.type)) && terminated(ea.action, sizeof(ea.action)) &&
			  terminated(ea.container, sizeof(ea.container)) &&
			  terminated(ea.network, sizeof(ea.network)), "event strings");
		INVARIANT(!memcmp(&ea, &eb, sizeof(ea)), "trailing whitespace changed the event");
	}

	/* network inspect */
	ra = xdpctl_docker_parse_network(buf, size, &oa);
	rb = xdpctl_docker_parse_network(ws, size + 3, &ob);
	INVARIANT(ra == 0 || ra == -EPROTO, "network = %d", ra);
	INVARIANT(ra == rb && (ra || oa == ob), "network %d/%d, with whitespace %d/%d", ra, oa, rb,
		  ob);

	free(buf);
	free(ws);
	return 0;
}
