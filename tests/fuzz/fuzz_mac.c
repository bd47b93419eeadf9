// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: xdpctl_mac_parse() and xdpctl_mac_format() (--mac MAC,
 * the 'mac MAC' of rule files).
 *
 * Properties (a violation aborts with "INVARIANT"):
 * - parse returns 0 or -EINVAL and leaves the output untouched on failure;
 * - it accepts exactly the strings of the documented grammar, six pairs of
 *   hex digits separated by ':' or '-' and nothing else (checked against an
 *   independent matcher below);
 * - format(parse(s)) is s in lower case with ':' separators, and parses back
 *   to the same six bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdpctl/dataplane.h"
#include "fuzz_util.h"

/* The grammar, written independently of the parser: ([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2} */
static bool grammar_ok(const char *s)
{
	size_t i;

	if (strlen(s) != 17)
		return false;
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':' && s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
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
	__u8 mac[6], before[6], back[6];
	char s[64], out[18], want[18];
	size_t i;
	int r;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(mac, 0x5a, sizeof(mac));
	memcpy(before, mac, sizeof(mac));
	r = xdpctl_mac_parse(s, mac);
	INVARIANT(r == 0 || r == -EINVAL, "parse('%s') = %d", s, r);
	INVARIANT((r == 0) == grammar_ok(s), "parse('%s') = %d but the grammar says %s", s, r,
		  grammar_ok(s) ? "valid" : "invalid");
	if (r) {
		INVARIANT(!memcmp(mac, before, 6), "failed parse('%s') changed the output", s);
		return 0;
	}
	xdpctl_mac_format(mac, out);
	for (i = 0; i < 17; i++)
		want[i] = i % 3 == 2 ? ':' : (char)tolower((unsigned char)s[i]);
	want[17] = '\0';
	INVARIANT(!strcmp(out, want), "'%s' formats as '%s', expected '%s'", s, out, want);
	INVARIANT(xdpctl_mac_parse(out, back) == 0 && !memcmp(back, mac, 6),
		  "'%s' does not parse back", out);
	if (size == 1)
		INVARIANT(xdpctl_mac_parse(NULL, mac) == -EINVAL && xdpctl_mac_parse(s, NULL) == -EINVAL,
			  "NULL arguments");
	return 0;
}
