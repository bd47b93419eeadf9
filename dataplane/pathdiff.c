// SPDX-License-Identifier: GPL-2.0-only
/*
 * Path diff: run a command with every net:* tracepoint enabled in a private
 * tracefs instance, count the (event, device) pairs it hit, and compare two
 * such recordings. The instance (instances/xdpctl-PID) is ours alone, so
 * other tracers on the machine are neither disturbed nor seen; it is
 * disabled and removed on every path out, also when the command fails.
 *
 * Tracepoints are machine-wide: traffic of other namespaces during the
 * command is recorded too. Callers compare names they expect to differ.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "internal.h"

/* Where tracefs is usually found; the first is mounted when none is. */
static const char *const tracefs_dirs[] = {
	"/sys/kernel/tracing",
	"/sys/kernel/debug/tracing",
};

/* Per-CPU buffer of the instance, KiB: room for a few thousand events. */
#define PATH_BUFFER_KB "4096"
/* Longest trace line we parse; longer ones are truncated (dev= comes early). */
#define PATH_LINE_MAX 4096

struct xdpctl_path {
	struct xdpctl_path_entry *e;
	size_t n, cap;
};

static int write_file(const char *dir, const char *file, const char *val)
{
	char path[512];
	ssize_t len = strlen(val);
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != len)
		err = -errno ? -errno : -EIO;
	close(fd);
	return err;
}

/* Find a mounted tracefs (mount it at the usual place when there is none). */
static int tracefs_root(char *buf, size_t len)
{
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(tracefs_dirs) / sizeof(tracefs_dirs[0]); i++) {
		char inst[256];

		snprintf(inst, sizeof(inst), "%s/instances", tracefs_dirs[i]);
		if (!stat(inst, &st) && S_ISDIR(st.st_mode)) {
			snprintf(buf, len, "%s", tracefs_dirs[i]);
			return 0;
		}
	}
	/* Left mounted afterwards: unmounting could pull it from under another tracer. */
	if (mount("nodev", tracefs_dirs[0], "tracefs", 0, NULL)) {
		int err = -errno;

		dp_log(XDPCTL_LOG_WARN, "cannot mount tracefs at %s: %s\n", tracefs_dirs[0],
		     strerror(-err));
		return err;
	}
	dp_log(XDPCTL_LOG_INFO, "mounted tracefs at %s\n", tracefs_dirs[0]);
	snprintf(buf, len, "%s", tracefs_dirs[0]);
	return 0;
}

static struct xdpctl_path_entry *path_find(const struct xdpctl_path *p, const char *event,
					   const char *dev)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!strcmp(p->e[i].event, event) && !strcmp(p->e[i].dev, dev))
			return &p->e[i];
	return NULL;
}

static int path_add(struct xdpctl_path *p, const char *event, const char *dev)
{
	char full[sizeof(p->e->event)];
	struct xdpctl_path_entry *e;

	snprintf(full, sizeof(full), "net:%s", event);
	e = path_find(p, full, dev);

	if (e) {
		e->count++;
		return 0;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct xdpctl_path_entry *ne = realloc(p->e, cap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		p->e = ne;
		p->cap = cap;
	}
	e = &p->e[p->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->event, full, sizeof(e->event));
	snprintf(e->dev, sizeof(e->dev), "%s", dev);
	e->count = 1;
	return 0;
}

/*
 * One line of the trace file:
 *   "  ping-123  [001] b..1.  598.652847: net_dev_queue: dev=br0 skbaddr=..."
 * The task name may hold spaces and colons, so anchor on the timestamp:
 * digits '.' digits ':' ' ', then the event name up to ':'.
 * @return 1 and fill event/dev, 0 for a line that is not an event.
 */
static int parse_line(const char *line, char *event, size_t elen, char *dev, size_t dlen)
{
	const char *s, *name, *end, *d;

	for (s = strstr(line, ": "); s; s = strstr(s + 1, ": ")) {
		const char *t = s;
		size_t n;

		/* the timestamp before ": " */
		while (t > line && isdigit((unsigned char)t[-1]))
			t--;
		if (t == s || t == line || t[-1] != '.')
			continue;
		t--;
		if (t == line || !isdigit((unsigned char)t[-1]))
			continue;
		name = s + 2;
		end = name;
		while (isalnum((unsigned char)*end) || *end == '_')
			end++;
		if (end == name || *end != ':')
			continue;
		n = (size_t)(end - name);
		if (n >= elen)
			n = elen - 1;
		memcpy(event, name, n);
		event[n] = '\0';

		dev[0] = '\0';
		d = strstr(end, " dev=");
		if (d) {
			d += 5;
			n = strcspn(d, " \n");
			if (n >= dlen)
				n = dlen - 1;
			memcpy(dev, d, n);
			dev[n] = '\0';
		}
		return 1;
	}
	return 0;
}

static int read_trace(const char *inst, struct xdpctl_path *p)
{
	char path[512], line[PATH_LINE_MAX];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "%s/trace", inst);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* room for the "net:" prefix in struct xdpctl_path_entry */
		char event[sizeof(((struct xdpctl_path_entry *)0)->event) - 4], dev[IF_NAMESIZE];
		size_t l = strlen(line);

		/* skip the rest of an over-long line */
		if (l && line[l - 1] != '\n') {
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
		}
		if (line[0] == '#')
			continue;
		if (!parse_line(line, event, sizeof(event), dev, sizeof(dev)))
			continue;
		err = path_add(p, event, dev);
		if (err)
			break;
	}
	if (!err && ferror(f))
		err = -EIO;
	fclose(f);
	return err;
}

/* Run /bin/sh -c cmd; its stdout/stderr to out_fd/err_fd or /dev/null. */
static int run_cmd(const char *cmd, int out_fd, int err_fd, int *status, const sigset_t *mask)
{
	pid_t pid, w;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0)
			_exit(127);
		dup2(null, 0);
		dup2(out_fd >= 0 ? out_fd : null, 1);
		dup2(err_fd >= 0 ? err_fd : null, 2);
		if (null > 2)
			close(null);
		/* handlers reset on exec; ignored signals stay ignored, as the caller had them */
		sigprocmask(SIG_SETMASK, mask, NULL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	do {
		w = waitpid(pid, &st, 0);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	if (status)
		*status = st;
	return 0;
}

int xdpctl_path__record(const char *cmd, int out_fd, int err_fd, int *status,
			struct xdpctl_path **out)
{
	char root[256], inst[320];
	struct xdpctl_path *p;
	sigset_t block, saved;
	int err;

	sigemptyset(&block);
	if (!cmd || !out) {
		errno = EINVAL;
		return -EINVAL;
	}
	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return -ENOMEM;
	}
	err = tracefs_root(root, sizeof(root));
	if (err)
		goto out_free;
	snprintf(inst, sizeof(inst), "%s/instances/xdpctl-%d", root, (int)getpid());
	/*
	 * Ctrl-C reaches the whole process group: let it end the command but
	 * hold it off here for as long as the instance exists (it is delivered
	 * once the instance is gone).
	 */
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &saved);
	if (mkdir(inst, 0700)) {
		err = -errno;
		/* left by an earlier process with our pid that died: take it over */
		if (err == -EEXIST && !rmdir(inst) && !mkdir(inst, 0700)) {
			err = 0;
		} else {
			dp_log(XDPCTL_LOG_WARN, "cannot create tracefs instance %s: %s\n", inst,
			     strerror(-err));
			goto out_free;
		}
	}
	dp_log(XDPCTL_LOG_DEBUG, "tracefs instance %s\n", inst);

	/* A bigger buffer is best effort: the default still works for short commands. */
	if (write_file(inst, "buffer_size_kb", PATH_BUFFER_KB))
		dp_log(XDPCTL_LOG_INFO, "%s: cannot resize the buffer, keeping its size\n", inst);
	err = write_file(inst, "events/net/enable", "1");
	if (err) {
		dp_log(XDPCTL_LOG_WARN, "%s/events/net/enable: %s\n", inst, strerror(-err));
		goto out_rmdir;
	}
	err = write_file(inst, "tracing_on", "1");
	if (err) {
		dp_log(XDPCTL_LOG_WARN, "%s/tracing_on: %s\n", inst, strerror(-err));
		goto out_disable;
	}

	err = run_cmd(cmd, out_fd, err_fd, status, &saved);
	if (err)
		dp_log(XDPCTL_LOG_WARN, "cannot run '%s': %s\n", cmd, strerror(-err));

out_disable:
	/* stop recording before reading, so the read is of a still buffer */
	write_file(inst, "tracing_on", "0");
	write_file(inst, "events/net/enable", "0");
	if (!err) {
		err = read_trace(inst, p);
		if (err)
			dp_log(XDPCTL_LOG_WARN, "%s/trace: %s\n", inst, strerror(-err));
	}
out_rmdir:
	if (rmdir(inst)) {
		int e = -errno;

		dp_log(XDPCTL_LOG_WARN, "cannot remove tracefs instance %s: %s\n", inst, strerror(-e));
		if (!err)
			err = e;
	}
out_free:
	/* a Ctrl-C held off above arrives now */
	if (sigismember(&block, SIGINT) == 1)
		sigprocmask(SIG_SETMASK, &saved, NULL);
	if (err) {
		xdpctl_path__free(p);
		errno = -err;
		return err;
	}
	*out = p;
	return 0;
}

void xdpctl_path__free(struct xdpctl_path *p)
{
	if (!p)
		return;
	free(p->e);
	free(p);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct xdpctl_path_entry *x = a, *y = b;
	int c = strcmp(x->event, y->event);

	return c ? c : strcmp(x->dev, y->dev);
}

/* Sorted copies of the entries of @a that @b lacks (@b NULL: all of them). */
static int sorted(const struct xdpctl_path *a, const struct xdpctl_path *b,
		  struct xdpctl_path_entry **out, size_t *n)
{
	struct xdpctl_path_entry *v;
	size_t i, k = 0;

	*out = NULL;
	*n = 0;
	if (!a->n)
		return 0;
	v = calloc(a->n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < a->n; i++)
		if (!b || !path_find(b, a->e[i].event, a->e[i].dev))
			v[k++] = a->e[i];
	qsort(v, k, sizeof(*v), entry_cmp);
	*out = v;
	*n = k;
	return 0;
}

static int walk(const struct xdpctl_path *a, const struct xdpctl_path *b, xdpctl_path_cb cb,
		void *ctx)
{
	struct xdpctl_path_entry *v;
	size_t i, n;
	int err;

	if (!a || !cb) {
		errno = EINVAL;
		return -EINVAL;
	}
	err = sorted(a, b, &v, &n);
	if (err) {
		errno = -err;
		return err;
	}
	for (i = 0; i < n; i++) {
		err = cb(&v[i], ctx);
		if (err)
			break;
	}
	free(v);
	return err;
}

int xdpctl_path__diff(const struct xdpctl_path *a, const struct xdpctl_path *b,
		      xdpctl_path_cb cb, void *ctx)
{
	static const struct xdpctl_path empty;

	return walk(a, b ? b : &empty, cb, ctx);
}

int xdpctl_path__for_each(const struct xdpctl_path *p, xdpctl_path_cb cb, void *ctx)
{
	return walk(p, NULL, cb, ctx);
}
