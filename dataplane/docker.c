// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Docker Engine API client: libcurl over the daemon's unix socket
 * (CURLOPT_UNIX_SOCKET_PATH), the API version pinned in every path
 * (/v1.41/...), answers parsed by docker_json.c. Requests use one easy
 * handle (the connection is kept between them); the /events stream has its
 * own handle in a multi handle, so the watcher can wait on it and on other
 * descriptors at once (curl_multi_poll with extra fds).
 *
 * The socket is checked before every connection: a socket owned by anyone
 * but root could answer for the daemon and steer rules.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/un.h>
#define CURL_DISABLE_TYPECHECK 1 /* the calls go through pointers, below */
#include <curl/curl.h>

#include "dl.h"
#include "docker_int.h"

/*
 * libcurl is loaded when the first Docker client opens (dp_dlsyms), not
 * linked: its ~30 dependencies cost every xdpctl command ~10 ms in the
 * dynamic loader. The calls below go through these pointers.
 */
#define DK_CURL_FNS(X) \
	X(curl_global_init) \
	X(curl_easy_init) \
	X(curl_easy_setopt) \
	X(curl_easy_perform) \
	X(curl_easy_getinfo) \
	X(curl_easy_reset) \
	X(curl_easy_cleanup) \
	X(curl_easy_escape) \
	X(curl_easy_strerror) \
	X(curl_free) \
	X(curl_multi_init) \
	X(curl_multi_add_handle) \
	X(curl_multi_remove_handle) \
	X(curl_multi_perform) \
	X(curl_multi_poll) \
	X(curl_multi_info_read) \
	X(curl_multi_cleanup)
#define DK_FN_PTR(f) __typeof__(f) *p_##f;
#define DK_FN_NAME(f) #f,
static struct {
	DK_CURL_FNS(DK_FN_PTR)
} cfn;
static const char *const cfn_names[] = { DK_CURL_FNS(DK_FN_NAME) };
static struct dp_dlib curl_lib;
/* curl.h's own three-argument wrappers of these two */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init (*cfn.p_curl_global_init)
#define curl_easy_init (*cfn.p_curl_easy_init)
#define curl_easy_setopt (*cfn.p_curl_easy_setopt)
#define curl_easy_perform (*cfn.p_curl_easy_perform)
#define curl_easy_getinfo (*cfn.p_curl_easy_getinfo)
#define curl_easy_reset (*cfn.p_curl_easy_reset)
#define curl_easy_cleanup (*cfn.p_curl_easy_cleanup)
#define curl_easy_escape (*cfn.p_curl_easy_escape)
#define curl_easy_strerror (*cfn.p_curl_easy_strerror)
#define curl_free (*cfn.p_curl_free)
#define curl_multi_init (*cfn.p_curl_multi_init)
#define curl_multi_add_handle (*cfn.p_curl_multi_add_handle)
#define curl_multi_remove_handle (*cfn.p_curl_multi_remove_handle)
#define curl_multi_perform (*cfn.p_curl_multi_perform)
#define curl_multi_poll (*cfn.p_curl_multi_poll)
#define curl_multi_info_read (*cfn.p_curl_multi_info_read)
#define curl_multi_cleanup (*cfn.p_curl_multi_cleanup)

#define DK_TIMEOUT_MS    10000        /* one request, connect included */
#define DK_REPLY_MAX     (16u << 20)  /* a list of thousands of containers */
#define DK_LINE_MAX      (1u << 20)   /* one event */

struct xdpctl_docker {
	char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char errmsg[512];
	CURL *easy;
	/* the /events stream */
	CURLM *multi;
	CURL *ev;
	bool ev_done;               /* the transfer ended */
	char *line;                 /* received bytes not yet handed out */
	size_t line_len, line_cap;
	bool line_overflow;
};

static __thread char open_errmsg[512];
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	if (dp_dlsyms(&curl_lib, "libcurl.so.4", cfn_names, (void **)&cfn,
		      sizeof(cfn_names) / sizeof(cfn_names[0]))) {
		curl_init_rc = CURLE_FAILED_INIT;
		return;
	}
	curl_init_rc = curl_global_init(CURL_GLOBAL_NOTHING);
}

int dk_err(struct xdpctl_docker *dk, int err, const char *fmt, ...)
{
	char *buf = dk ? dk->errmsg : open_errmsg;
	size_t len = dk ? sizeof(dk->errmsg) : sizeof(open_errmsg);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	dp_log(XDPCTL_LOG_DEBUG, "docker: %s\n", buf);
	return dp_ret(err);
}

const char *xdpctl_docker__errmsg(const struct xdpctl_docker *dk)
{
	return dk ? dk->errmsg : open_errmsg;
}

const char *xdpctl_docker__socket(const struct xdpctl_docker *dk)
{
	return dk ? dk->sock : NULL;
}

/* A missing socket is the daemon not running (-ECONNREFUSED); a foreign one is refused. */
static int sock_check(struct xdpctl_docker *dk, const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		if (errno == ENOENT)
			return dk_err(dk, -ECONNREFUSED, "Docker does not answer on %s (no socket there)",
				      path);
		return dk_err(dk, -errno, "%s: %s", path, strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return dk_err(dk, -ENOTSOCK, "%s is not a socket", path);
	if (st.st_uid != 0)
		return dk_err(dk, -EPERM, "socket %s is owned by uid %u, not root", path,
			      (unsigned int)st.st_uid);
	return 0;
}

int xdpctl_docker__open(const char *sock, struct xdpctl_docker **out)
{
	struct xdpctl_docker *dk;
	const char *host = getenv("DOCKER_HOST");
	const char *path;
	int err;

	if (!out)
		return dp_ret(-EINVAL);
	*out = NULL;
	if (sock && *sock) {
		path = sock;
	} else if (host && *host) {
		if (strncmp(host, "unix://", 7))
			return dk_err(NULL, -EPROTONOSUPPORT,
				      "DOCKER_HOST=%s: only unix:// sockets are supported", host);
		path = host + 7;
	} else {
		path = XDPCTL_DOCKER_SOCK;
	}
	if (!*path || strlen(path) >= sizeof(dk->sock))
		return dk_err(NULL, -ENAMETOOLONG, "Docker socket path '%s' is empty or too long", path);
	err = sock_check(NULL, path);
	if (err && err != -ECONNREFUSED)
		return err;
	pthread_once(&curl_once, curl_init);
	if (curl_lib.err)
		return dk_err(NULL, -ENOENT,
			      "the Docker client needs libcurl, which could not be loaded (%s): install libcurl4 (scripts/install-deps.sh)",
			      curl_lib.errmsg);
	if (curl_init_rc != CURLE_OK)
		return dk_err(NULL, -ENOMEM, "libcurl: %s", curl_easy_strerror(curl_init_rc));
	dk = calloc(1, sizeof(*dk));
	if (!dk)
		return dk_err(NULL, -ENOMEM, "out of memory");
	snprintf(dk->sock, sizeof(dk->sock), "%s", path);
	dk->easy = curl_easy_init();
	if (!dk->easy) {
		free(dk);
		return dk_err(NULL, -ENOMEM, "libcurl: cannot make a handle");
	}
	*out = dk;
	return 0;
}

void xdpctl_docker__close(struct xdpctl_docker *dk)
{
	if (!dk)
		return;
	dk_events_close(dk);
	curl_easy_cleanup(dk->easy);
	free(dk->line);
	free(dk);
}

struct body {
	char *buf;
	size_t len, cap;
	bool overflow;
};

static size_t body_write(char *p, size_t size, size_t n, void *ctx)
{
	struct body *b = ctx;
	size_t add = size * n;

	if (b->len + add + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		char *nb;

		while (cap < b->len + add + 1)
			cap *= 2;
		if (cap > DK_REPLY_MAX) {
			b->overflow = true;
			return 0; /* CURLE_WRITE_ERROR */
		}
		nb = realloc(b->buf, cap);
		if (!nb)
			return 0;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, add);
	b->len += add;
	b->buf[b->len] = '\0';
	return add;
}

static int curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_WRITE_ERROR:
		return -E2BIG;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return -ECONNRESET;
	default:
		return -EIO;
	}
}

/* GET http://docker/v1.41@path; *out (NUL-terminated, malloc'd) and the HTTP status. */
static int dk_get(struct xdpctl_docker *dk, const char *path, struct body *out, long *status)
{
	char url[512];
	CURLcode rc;
	int err;

	memset(out, 0, sizeof(*out));
	err = sock_check(dk, dk->sock);
	if (err)
		return err;
	if ((size_t)snprintf(url, sizeof(url), "http://docker/%s%s", XDPCTL_DOCKER_API, path) >=
	    sizeof(url))
		return dk_err(dk, -ENAMETOOLONG, "request path too long: %s", path);
	curl_easy_reset(dk->easy);
	curl_easy_setopt(dk->easy, CURLOPT_UNIX_SOCKET_PATH, dk->sock);
	curl_easy_setopt(dk->easy, CURLOPT_URL, url);
	curl_easy_setopt(dk->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(dk->easy, CURLOPT_TIMEOUT_MS, (long)DK_TIMEOUT_MS);
	curl_easy_setopt(dk->easy, CURLOPT_USERAGENT, "xdpctl");
	curl_easy_setopt(dk->easy, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(dk->easy, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(dk->easy, CURLOPT_PROTOCOLS_STR, "http");
	rc = curl_easy_perform(dk->easy);
	if (rc != CURLE_OK) {
		free(out->buf);
		out->buf = NULL;
		err = curl_errno(rc);
		if (err == -E2BIG && !out->overflow)
			err = -ENOMEM;
		if (err == -ECONNREFUSED)
			return dk_err(dk, err, "Docker does not answer on %s", dk->sock);
		return dk_err(dk, err, "GET %s on %s: %s", path, dk->sock, curl_easy_strerror(rc));
	}
	curl_easy_getinfo(dk->easy, CURLINFO_RESPONSE_CODE, status);
	if (!out->buf) {
		out->buf = strdup("");
		if (!out->buf)
			return dk_err(dk, -ENOMEM, "out of memory");
	}
	return 0;
}

/* Docker names and ids: [a-zA-Z0-9][a-zA-Z0-9_.-]*; nothing else goes in a URL. */
static bool name_ok(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (!n || n >= max || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
				(s[0] >= '0' && s[0] <= '9')))
		return false;
	for (i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int xdpctl_docker__ping(struct xdpctl_docker *dk)
{
	struct body b;
	long status = 0;
	int err;

	if (!dk)
		return dp_ret(-EINVAL);
	err = dk_get(dk, "/_ping", &b, &status);
	if (err)
		return err;
	free(b.buf);
	if (status != 200)
		return dk_err(dk, -EPROTO, "GET /_ping on %s: HTTP %ld", dk->sock, status);
	return 0;
}

int xdpctl_docker__inspect(struct xdpctl_docker *dk, const char *name, const char *want_label,
			   struct xdpctl_docker_ctr *out)
{
	char path[256];
	struct body b;
	long status = 0;
	int err;

	if (!dk || !name || !out)
		return dp_ret(-EINVAL);
	if (!name_ok(name, sizeof(out->name)))
		return dk_err(dk, -EINVAL, "'%s' is not a Docker container name or id", name);
	snprintf(path, sizeof(path), "/containers/%s/json", name);
	err = dk_get(dk, path, &b, &status);
	if (err)
		return err;
	if (status == 404)
		err = dk_err(dk, -ENOENT, "no such container: %s", name);
	else if (status != 200)
		err = dk_err(dk, -EPROTO, "GET %s: HTTP %ld: %.200s", path, status, b.buf);
	else if ((err = xdpctl_docker_parse_inspect(b.buf, b.len, want_label, out)))
		err = dk_err(dk, err, "GET %s: an answer not in Docker's shape", path);
	free(b.buf);
	return err;
}

int xdpctl_docker__list(struct xdpctl_docker *dk, const char *label, xdpctl_docker_id_cb cb,
			void *ctx)
{
	char path[1024], filt[600];
	struct body b;
	long status = 0;
	int err;

	if (!dk)
		return dp_ret(-EINVAL);
	if (label && *label) {
		char *esc;

		if (strlen(label) > 250 || strpbrk(label, "\"\\"))
			return dk_err(dk, -EINVAL, "label '%s': too long, or quotes in it", label);
		snprintf(filt, sizeof(filt), "{\"status\":[\"running\"],\"label\":[\"%s\"]}", label);
		esc = curl_easy_escape(dk->easy, filt, 0);
		if (!esc)
			return dk_err(dk, -ENOMEM, "out of memory");
		snprintf(path, sizeof(path), "/containers/json?filters=%s", esc);
		curl_free(esc);
	} else {
		snprintf(path, sizeof(path), "/containers/json");
	}
	err = dk_get(dk, path, &b, &status);
	if (err)
		return err;
	if (status != 200)
		err = dk_err(dk, -EPROTO, "GET /containers/json: HTTP %ld: %.200s", status, b.buf);
	else if ((err = xdpctl_docker_parse_list(b.buf, b.len, cb, ctx)) == -EPROTO)
		err = dk_err(dk, err, "GET /containers/json: an answer not in Docker's shape");
	free(b.buf);
	return err;
}

int xdpctl_docker__network_opt_out(struct xdpctl_docker *dk, const char *id, bool *opt_out)
{
	char path[256];
	struct body b;
	long status = 0;
	int err;

	if (!dk || !id || !opt_out)
		return dp_ret(-EINVAL);
	if (!name_ok(id, 128))
		return dk_err(dk, -EINVAL, "'%s' is not a Docker network id", id);
	snprintf(path, sizeof(path), "/networks/%s", id);
	err = dk_get(dk, path, &b, &status);
	if (err)
		return err;
	if (status == 404)
		err = dk_err(dk, -ENOENT, "no such network: %s", id);
	else if (status != 200)
		err = dk_err(dk, -EPROTO, "GET %s: HTTP %ld", path, status);
	else if ((err = xdpctl_docker_parse_network(b.buf, b.len, opt_out)))
		err = dk_err(dk, err, "GET %s: an answer not in Docker's shape", path);
	free(b.buf);
	return err;
}

/* ---- the /events stream ---- */

static size_t ev_write(char *p, size_t size, size_t n, void *ctx)
{
	struct xdpctl_docker *dk = ctx;
	size_t add = size * n;

	if (dk->line_len + add > dk->line_cap) {
		size_t cap = dk->line_cap ? dk->line_cap : 8192;
		char *nb;

		while (cap < dk->line_len + add)
			cap *= 2;
		if (cap > DK_LINE_MAX) {
			/* one event larger than any Docker sends: drop what we have */
			dk->line_overflow = true;
			dk->line_len = 0;
			return add;
		}
		nb = realloc(dk->line, cap);
		if (!nb)
			return 0;
		dk->line = nb;
		dk->line_cap = cap;
	}
	memcpy(dk->line + dk->line_len, p, add);
	dk->line_len += add;
	return add;
}

int dk_events_open(struct xdpctl_docker *dk, __u64 since_ns)
{
	static const char filt[] = "{\"type\":[\"container\",\"network\"],"
				   "\"event\":[\"start\",\"die\",\"destroy\",\"restart\","
				   "\"connect\",\"disconnect\"]}";
	char url[1024], since[48] = "";
	char *esc;
	int err;

	dk_events_close(dk);
	err = sock_check(dk, dk->sock);
	if (err)
		return err;
	if (since_ns)
		snprintf(since, sizeof(since), "since=%llu.%09llu&",
			 (unsigned long long)(since_ns / 1000000000ull),
			 (unsigned long long)(since_ns % 1000000000ull));
	esc = curl_easy_escape(dk->easy, filt, 0);
	if (!esc)
		return dk_err(dk, -ENOMEM, "out of memory");
	snprintf(url, sizeof(url), "http://docker/%s/events?%sfilters=%s", XDPCTL_DOCKER_API, since,
		 esc);
	curl_free(esc);
	dk->multi = curl_multi_init();
	dk->ev = curl_easy_init();
	if (!dk->multi || !dk->ev) {
		dk_events_close(dk);
		return dk_err(dk, -ENOMEM, "libcurl: cannot make a handle");
	}
	curl_easy_setopt(dk->ev, CURLOPT_UNIX_SOCKET_PATH, dk->sock);
	curl_easy_setopt(dk->ev, CURLOPT_URL, url);
	curl_easy_setopt(dk->ev, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(dk->ev, CURLOPT_CONNECTTIMEOUT_MS, (long)DK_TIMEOUT_MS);
	curl_easy_setopt(dk->ev, CURLOPT_USERAGENT, "xdpctl");
	curl_easy_setopt(dk->ev, CURLOPT_WRITEFUNCTION, ev_write);
	curl_easy_setopt(dk->ev, CURLOPT_WRITEDATA, dk);
	curl_easy_setopt(dk->ev, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(dk->ev, CURLOPT_PROTOCOLS_STR, "http");
	if (curl_multi_add_handle(dk->multi, dk->ev) != CURLM_OK) {
		dk_events_close(dk);
		return dk_err(dk, -ENOMEM, "libcurl: cannot start the event stream");
	}
	dk->ev_done = false;
	dk->line_len = 0;
	return 0;
}

void dk_events_close(struct xdpctl_docker *dk)
{
	if (dk->multi && dk->ev)
		curl_multi_remove_handle(dk->multi, dk->ev);
	if (dk->ev)
		curl_easy_cleanup(dk->ev);
	if (dk->multi)
		curl_multi_cleanup(dk->multi);
	dk->ev = NULL;
	dk->multi = NULL;
	dk->ev_done = true;
}

int dk_events_wait(struct xdpctl_docker *dk, int fd, int timeout_ms, bool *fd_ready)
{
	struct curl_waitfd extra = { .fd = fd, .events = CURL_WAIT_POLLIN };
	int running = 0, msgs;
	CURLMsg *m;

	*fd_ready = false;
	if (!dk->multi || dk->ev_done) {
		/* no stream: wait on the fd alone */
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, fd >= 0 ? 1 : 0, timeout_ms) > 0 && (p.revents & POLLIN))
			*fd_ready = true;
		return -EPIPE;
	}
	if (curl_multi_poll(dk->multi, fd >= 0 ? &extra : NULL, fd >= 0 ? 1 : 0, timeout_ms,
			    NULL) != CURLM_OK)
		return -EIO;
	/* libcurl 7.88 does not fill revents: the caller reads @fd without blocking */
	*fd_ready = fd >= 0;
	curl_multi_perform(dk->multi, &running);
	while ((m = curl_multi_info_read(dk->multi, &msgs))) {
		if (m->msg == CURLMSG_DONE && m->easy_handle == dk->ev) {
			dk->ev_done = true;
			dk_err(dk, -EPIPE, "the event stream on %s ended: %s", dk->sock,
			       curl_easy_strerror(m->data.result));
		}
	}
	return dk->ev_done ? -EPIPE : 0;
}

int dk_events_next(struct xdpctl_docker *dk, struct xdpctl_docker_event *ev)
{
	char *nl;
	size_t n;
	int err;

	for (;;) {
		if (!dk->line_len)
			return 0;
		nl = memchr(dk->line, '\n', dk->line_len);
		if (!nl)
			return 0;
		n = (size_t)(nl - dk->line);
		err = n ? xdpctl_docker_parse_event(dk->line, n, ev) : 1;
		memmove(dk->line, nl + 1, dk->line_len - n - 1);
		dk->line_len -= n + 1;
		if (err == 1)
			continue; /* an empty line */
		if (dk->line_overflow) {
			dk->line_overflow = false;
			return -EPROTO;
		}
		return err ? err : 1;
	}
}
