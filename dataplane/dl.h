/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared libraries loaded on demand. */
#ifndef XDPCTL_DL_H
#define XDPCTL_DL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * dp_dlsyms - load the shared library @soname on demand (dlopen, once per
 * process) and resolve the @n symbols @names into @out. Libraries only a few
 * commands use (libcurl, libmicrohttpd) are loaded this way, not linked:
 * linked, their dependencies cost every xdpctl command ~10 ms in the dynamic
 * loader (docs/perf.md, "E, startup"). @lib caches the outcome; @out must
 * live as long as the process. @return 0, or -ENOENT with lib->errmsg set.
 */
struct dp_dlib {
	bool done;
	int err;
	char errmsg[256];
};
int dp_dlsyms(struct dp_dlib *lib, const char *soname, const char *const *names, void **out,
	      size_t n);

#endif /* XDPCTL_DL_H */
