// SPDX-License-Identifier: GPL-2.0-only
/*
 * GET /metrics over HTTP with libmicrohttpd: one internal polling thread
 * answers every request in turn, so the state handle it opens at the first
 * scrape is used by that thread only. Anything but GET /metrics is 404/405.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <microhttpd.h>

#include "dl.h"
#include "internal.h"

/*
 * libmicrohttpd is loaded when a server starts (dp_dlsyms), not linked:
 * with gnutls and the rest it costs every xdpctl command in the dynamic
 * loader. The calls below go through these pointers.
 */
#define MH_FNS(X) \
	X(MHD_start_daemon) \
	X(MHD_stop_daemon) \
	X(MHD_get_daemon_info) \
	X(MHD_create_response_from_buffer) \
	X(MHD_add_response_header) \
	X(MHD_queue_response) \
	X(MHD_destroy_response)
#define MH_FN_PTR(f) __typeof__(f) *p_##f;
#define MH_FN_NAME(f) #f,
static struct {
	MH_FNS(MH_FN_PTR)
} mfn;
static const char *const mfn_names[] = { MH_FNS(MH_FN_NAME) };
static struct dp_dlib mhd_lib;
#define MHD_start_daemon (*mfn.p_MHD_start_daemon)
#define MHD_stop_daemon (*mfn.p_MHD_stop_daemon)
#define MHD_get_daemon_info (*mfn.p_MHD_get_daemon_info)
#define MHD_create_response_from_buffer (*mfn.p_MHD_create_response_from_buffer)
#define MHD_add_response_header (*mfn.p_MHD_add_response_header)
#define MHD_queue_response (*mfn.p_MHD_queue_response)
#define MHD_destroy_response (*mfn.p_MHD_destroy_response)

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct xdpctl_metrics_http {
	struct MHD_Daemon *d;
	char pin_dir[PATH_MAX];
	struct xdpctl_dp *dp; /* the server thread's own */
	int (*extra)(FILE *f, void *ctx); /* more metrics, e.g. the Docker watcher's */
	void *extra_ctx;
	unsigned int port;
	unsigned long long scrapes;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, char *body,
			     size_t len, const char *type, bool owned)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body,
					    owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **req_cls)
{
	XDPCTL_OPTS(xdpctl_metrics_opts, mo, .rules = true);
	struct xdpctl_metrics_http *s = cls;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err = 0;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)req_cls;
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n", 39,
			     "text/plain", false);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /metrics\n", 13, "text/plain",
			     false);
	if (!s->dp) {
		XDPCTL_OPTS(xdpctl_dp_opts, o, .pin_dir = s->pin_dir[0] ? s->pin_dir : NULL);

		err = xdpctl_dp__open(&o, &s->dp);
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		free(buf);
		return MHD_NO;
	}
	if (err) {
		/* no state yet (nothing attached): a scrape error, not a crash */
		fprintf(f, "xdpctl state: %s\n", xdpctl_dp__errmsg(NULL));
	} else {
		err = xdpctl_metrics_write(s->dp, f, &mo);
		if (!err && s->extra)
			err = s->extra(f, s->extra_ctx);
		if (err) {
			rewind(f);
			fprintf(f, "xdpctl metrics: %s\n", xdpctl_dp__errmsg(s->dp));
			/* a state removed under us: open it again at the next scrape */
			xdpctl_dp__close(s->dp);
			s->dp = NULL;
		}
	}
	if (fclose(f)) {
		free(buf);
		return MHD_NO;
	}
	if (err)
		return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, buf, strlen(buf), "text/plain", true);
	__atomic_add_fetch(&s->scrapes, 1, __ATOMIC_RELAXED);
	return reply(conn, MHD_HTTP_OK, buf, len, PROM_CONTENT_TYPE, true);
}

/* "ADDR:PORT" or "[ADDR6]:PORT" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss)
{
	char host[256];
	const char *port;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM }, *res = NULL;
	size_t hl;

	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		hl = end - listen - 1;
		port = end + 2;
		listen++;
	} else {
		port = strrchr(listen, ':');
		if (!port)
			return -EINVAL;
		hl = port - listen;
		port++;
	}
	if (!hl || hl >= sizeof(host) || !*port)
		return -EINVAL;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (getaddrinfo(host, port, &hints, &res) || !res)
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

struct xdpctl_metrics_http *xdpctl_metrics_http__start(const char *listen,
						       const struct xdpctl_metrics_http_opts *opts)
{
	struct sockaddr_storage ss = {};
	struct xdpctl_metrics_http *s;
	const union MHD_DaemonInfo *info;
	const char *dir = NULL;
	int err;

	if (!listen) {
		dp_err(NULL, -EINVAL, "no address to listen on");
		return NULL;
	}
	if (parse_listen(listen, &ss)) {
		dp_err(NULL, -EINVAL, "%s: expected ADDR:PORT or [ADDR6]:PORT with a numeric address",
		       listen);
		return NULL;
	}
	if (dp_dlsyms(&mhd_lib, "libmicrohttpd.so.12", mfn_names, (void **)&mfn,
		      sizeof(mfn_names) / sizeof(mfn_names[0]))) {
		dp_err(NULL, -ENOENT,
		       "the metrics server needs libmicrohttpd, which could not be loaded (%s): install libmicrohttpd12 (scripts/install-deps.sh)",
		       mhd_lib.errmsg);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		dp_err(NULL, -ENOMEM, "out of memory");
		return NULL;
	}
	if (opts && opts->sz >= offsetof(struct xdpctl_metrics_http_opts, pin_dir) + sizeof(char *))
		dir = opts->pin_dir;
	if (dir)
		snprintf(s->pin_dir, sizeof(s->pin_dir), "%s", dir);
	if (opts && opts->sz >= offsetof(struct xdpctl_metrics_http_opts, extra_ctx) +
				sizeof(void *)) {
		s->extra = opts->extra;
		s->extra_ctx = opts->extra_ctx;
	}
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
				(ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				0, NULL, NULL, on_request, s,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
				MHD_OPTION_END);
	if (!s->d) {
		err = errno ? -errno : -EADDRINUSE;
		dp_err(NULL, err, "%s: cannot listen: %s", listen, strerror(-err));
		free(s);
		return NULL;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	return s;
}

unsigned int xdpctl_metrics_http__port(const struct xdpctl_metrics_http *s)
{
	return s ? s->port : 0;
}

unsigned long long xdpctl_metrics_http__scrapes(const struct xdpctl_metrics_http *s)
{
	return s ? __atomic_load_n(&s->scrapes, __ATOMIC_RELAXED) : 0;
}

void xdpctl_metrics_http__stop(struct xdpctl_metrics_http *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	xdpctl_dp__close(s->dp);
	free(s);
}
