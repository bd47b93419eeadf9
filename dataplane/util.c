// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pure helpers of the library: address and MAC parsing and formatting, the
 * print callback, the bridge from libbpf's and libxdp's logging to it, and
 * sysctl files. The bottom of the file stack: it needs no handle.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "util.h"

static xdpctl_print_fn_t print_fn;

/* Last "couldn't reuse pinned map at 'PATH'" of libbpf in this thread. */
static __thread char stale_path[PATH_MAX];

xdpctl_print_fn_t xdpctl_set_print(xdpctl_print_fn_t fn)
{
	xdpctl_print_fn_t old = print_fn;

	print_fn = fn;
	dp_hook_lib_prints();
	return old;
}

static void dp_vlog(enum xdpctl_log_level level, const char *fmt, va_list ap)
{
	if (print_fn)
		print_fn(level, fmt, ap);
}

void dp_log(enum xdpctl_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dp_vlog(level, fmt, ap);
	va_end(ap);
}

/*
 * libbpf reports a pinned map it cannot reuse only in a log line:
 *   map 'NAME': couldn't reuse pinned map at 'PATH': parameter mismatch
 * Keep PATH so the caller can name the stale pin.
 */
static void catch_stale_pin(const char *fmt, va_list ap)
{
	char line[PATH_MAX + 128];
	const char *p, *end;
	va_list cp;

	if (!strstr(fmt, "couldn't reuse pinned map"))
		return;
	va_copy(cp, ap);
	vsnprintf(line, sizeof(line), fmt, cp);
	va_end(cp);
	p = strstr(line, "pinned map at '");
	if (!p)
		return;
	p += strlen("pinned map at '");
	end = strchr(p, '\'');
	if (!end || (size_t)(end - p) >= sizeof(stale_path))
		return;
	memcpy(stale_path, p, end - p);
	stale_path[end - p] = '\0';
}

/*
 * Library chatter is one level below ours: libbpf's warnings include the
 * expected failures of libxdp's dispatcher probe on kernels without freplace.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	catch_stale_pin(fmt, ap);
	if (level == LIBBPF_DEBUG)
		return 0;
	dp_vlog(level == LIBBPF_WARN ? XDPCTL_LOG_INFO : XDPCTL_LOG_DEBUG, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBXDP_DEBUG)
		return 0;
	dp_vlog(level == LIBXDP_WARN ? XDPCTL_LOG_INFO : XDPCTL_LOG_DEBUG, fmt, ap);
	return 0;
}

/*
 * Once per process, so libbpf and libxdp never write to stderr on their own
 * (their default). An application that sets its own libbpf/libxdp print
 * afterwards keeps it; stale pins are then still found by open's own
 * layout check.
 */
void dp_hook_lib_prints(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

const char *dp_libbpf_stale_path(void)
{
	return stale_path;
}

void dp_libbpf_clear(void)
{
	stale_path[0] = '\0';
}

int xdpctl_addr_parse(const char *s, struct xdpctl_addr *out)
{
	struct xdpctl_addr a = {};

	if (!s || !out)
		return dp_ret(-EINVAL);
	if (inet_pton(AF_INET, s, a.addr) == 1) {
		a.family = XDPCTL_AF_INET;
	} else if (inet_pton(AF_INET6, s, a.addr) == 1) {
		a.family = XDPCTL_AF_INET6;
	} else {
		return dp_ret(-EINVAL);
	}
	*out = a;
	return 0;
}

const char *xdpctl_addr_special(const struct xdpctl_addr *a)
{
	static const __u8 zero[16];
	const __u8 *b = a ? a->addr : zero;

	if (!a)
		return NULL;
	if (a->family == XDPCTL_AF_INET) {
		if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
			return "the broadcast address";
		if (b[0] >= 224 && b[0] <= 239)
			return "a multicast address";
		if (b[0] == 0)
			return "an address of 0.0.0.0/8";
		if (b[0] == 127)
			return "a loopback address";
		return NULL;
	}
	if (a->family != XDPCTL_AF_INET6)
		return NULL;
	if (b[0] == 0xff)
		return "a multicast address";
	if (!memcmp(b, zero, 15) && b[15] == 0)
		return "the unspecified address";
	if (!memcmp(b, zero, 15) && b[15] == 1)
		return "the loopback address";
	return NULL;
}

int xdpctl_addr_format(const struct xdpctl_addr *a, char *buf, size_t len)
{
	int af;

	if (!a || !buf)
		return dp_ret(-EINVAL);
	if (a->family == XDPCTL_AF_INET)
		af = AF_INET;
	else if (a->family == XDPCTL_AF_INET6)
		af = AF_INET6;
	else
		return dp_ret(-EINVAL);
	if (!inet_ntop(af, a->addr, buf, len))
		return dp_ret(errno == ENOSPC ? -ENOSPC : -EINVAL);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int xdpctl_mac_parse(const char *s, __u8 mac[6])
{
	__u8 m[6];
	int i;

	if (!s || !mac)
		return dp_ret(-EINVAL);
	for (i = 0; i < 6; i++) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

		if (hi < 0 || lo < 0)
			return dp_ret(-EINVAL);
		m[i] = hi << 4 | lo;
		s += 2;
		if (i < 5) {
			if (*s != ':' && *s != '-')
				return dp_ret(-EINVAL);
			s++;
		}
	}
	if (*s)
		return dp_ret(-EINVAL);
	memcpy(mac, m, 6);
	return 0;
}

void xdpctl_mac_format(const __u8 mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

bool dp_addr_valid(const struct xdpctl_addr *a)
{
	static const __u8 zero[12];

	if (!a || a->pad[0] || a->pad[1] || a->pad[2])
		return false;
	if (a->family == XDPCTL_AF_INET)
		return !memcmp(a->addr + 4, zero, 12);
	return a->family == XDPCTL_AF_INET6;
}

const char *dp_addr_str(const struct xdpctl_addr *a, char buf[64])
{
	if (xdpctl_addr_format(a, buf, 64))
		snprintf(buf, 64, "(invalid address)");
	return buf;
}

int dp_sysctl_read(const char *path, unsigned long *v)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%lu", v) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

int dp_sysctl_write(const char *path, unsigned long v)
{
	FILE *f = fopen(path, "we");
	int err = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%lu\n", v) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}
