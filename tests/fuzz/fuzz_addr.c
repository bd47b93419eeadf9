// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: xdpctl_addr_parse() and xdpctl_addr_format(), the
 * address parser behind every ADDR a user types (CLI arguments, rule files).
 *
 * Properties checked on every input (a violation aborts with "INVARIANT"):
 * - parse returns 0 or -EINVAL, and leaves *out untouched when it fails;
 * - an accepted address is a valid map key: family 4 or 6, pad zero, an
 *   IPv4 address has bytes 4..15 zero;
 * - format(parse(s)) parses back to the same key, and format never writes
 *   past a buffer of any length from 0 to INET6_ADDRSTRLEN (heap buffers of
 *   exactly that size, so AddressSanitizer sees one byte too many);
 * - format of an arbitrary 20-byte key (as a stale map could hold) returns
 *   0 or a negative errno, never crashes, and what it prints parses back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdpctl/dataplane.h"
#include "fuzz_util.h"

static const __u8 zero12[12];

static void check_key(const struct xdpctl_addr *a, const char *what)
{
	INVARIANT(a->family == XDPCTL_AF_INET || a->family == XDPCTL_AF_INET6, "%s: family %u",
		  what, a->family);
	INVARIANT(!a->pad[0] && !a->pad[1] && !a->pad[2], "%s: pad not zero", what);
	if (a->family == XDPCTL_AF_INET)
		INVARIANT(!memcmp(a->addr + 4, zero12, 12), "%s: IPv4 key with bytes 4..15 set", what);
}

/* Format into exact-size heap buffers of every length; the full one must succeed. */
static void format_all_lengths(const struct xdpctl_addr *a, char full[INET6_ADDRSTRLEN])
{
	size_t len;
	int r;

	r = xdpctl_addr_format(a, full, INET6_ADDRSTRLEN);
	INVARIANT(r == 0, "format into %d bytes = %d", INET6_ADDRSTRLEN, r);
	INVARIANT(memchr(full, '\0', INET6_ADDRSTRLEN), "format left no terminator");
	for (len = 0; len <= INET6_ADDRSTRLEN; len++) {
		char *b = malloc(len ? len : 1);

		r = xdpctl_addr_format(a, b, len);
		INVARIANT(r == 0 || r == -ENOSPC || r == -EINVAL, "format into %zu bytes = %d", len, r);
		if (r == 0)
			INVARIANT(strlen(full) < len && !strcmp(b, full),
				  "format into %zu bytes gave '%.*s', full '%s'", len, (int)len, b, full);
		else
			INVARIANT(strlen(full) >= len, "format failed (%d) with room: %zu for '%s'", r,
				  len, full);
		free(b);
	}
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
	struct xdpctl_addr a, before, back, raw;
	char s[256], full[INET6_ADDRSTRLEN];
	int r;

	/* 1. The input as a string (what a user types). */
	if (size < sizeof(s)) {
		memcpy(s, data, size);
		s[size] = '\0';
		memset(&a, 0xa5, sizeof(a));
		before = a;
		r = xdpctl_addr_parse(s, &a);
		INVARIANT(r == 0 || r == -EINVAL, "parse('%s') = %d", s, r);
		if (r) {
			INVARIANT(!memcmp(&a, &before, sizeof(a)), "failed parse('%s') changed *out", s);
		} else {
			check_key(&a, s);
			format_all_lengths(&a, full);
			memset(&back, 0, sizeof(back));
			r = xdpctl_addr_parse(full, &back);
			INVARIANT(r == 0 && !memcmp(&a, &back, sizeof(a)),
				  "'%s' -> '%s' does not parse back to the same key (%d)", s, full, r);
		}
	}

	/* 2. The input as a raw key (what a map may hold). */
	if (size >= sizeof(raw)) {
		memcpy(&raw, data, sizeof(raw));
		r = xdpctl_addr_format(&raw, full, sizeof(full));
		if (raw.family != XDPCTL_AF_INET && raw.family != XDPCTL_AF_INET6) {
			INVARIANT(r == -EINVAL, "format of family %u = %d", raw.family, r);
		} else {
			INVARIANT(r == 0, "format of a family %u key = %d", raw.family, r);
			r = xdpctl_addr_parse(full, &back);
			INVARIANT(r == 0 && back.family == raw.family &&
				  !memcmp(back.addr, raw.addr, raw.family == XDPCTL_AF_INET ? 4 : 16),
				  "raw key printed as '%s' does not parse back (%d)", full, r);
		}
	}

	/* 3. NULL arguments are refused, not dereferenced. */
	if (size == 1) {
		INVARIANT(xdpctl_addr_parse(NULL, &a) == -EINVAL, "parse(NULL)");
		INVARIANT(xdpctl_addr_parse("198.18.0.1", NULL) == -EINVAL, "parse(.., NULL)");
		INVARIANT(xdpctl_addr_format(NULL, full, sizeof(full)) == -EINVAL, "format(NULL)");
	}
	return 0;
}
