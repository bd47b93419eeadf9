// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shared libraries loaded on demand (dp_dlsyms, util.h): libcurl for the
 * Docker client, libmicrohttpd for the metrics server. A file of its own so
 * that the statically linked CNI plugin, which uses neither, does not link
 * dlopen.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "dl.h"

static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;

int dp_dlsyms(struct dp_dlib *lib, const char *soname, const char *const *names, void **out,
	      size_t n)
{
	void *h;
	size_t i;

	pthread_mutex_lock(&dl_lock);
	if (lib->done)
		goto out;
	lib->done = true;
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(lib->errmsg, sizeof(lib->errmsg), "%s", dlerror());
		lib->err = -ENOENT;
		goto out;
	}
	for (i = 0; i < n; i++) {
		out[i] = dlsym(h, names[i]);
		if (!out[i]) {
			snprintf(lib->errmsg, sizeof(lib->errmsg), "%s: no symbol %s", soname, names[i]);
			lib->err = -ENOENT;
			dlclose(h);
			goto out;
		}
	}
	/* kept open: the symbols are used until the process exits */
out:
	pthread_mutex_unlock(&dl_lock);
	return lib->err;
}
