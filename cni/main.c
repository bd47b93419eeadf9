// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdpctl-cni: a chained CNI plugin (spec 1.0 and 1.1) that keeps the
 * xdpctl container table in step with a CNI runtime (containerd, CRI-O,
 * the kubelet's runtime). Chained after bridge or ptp (and beside portmap):
 * ADD registers the pod's addresses, host veth and MAC from prevResult and
 * passes prevResult on as its result; DEL removes them and succeeds when
 * there is nothing to remove; CHECK verifies them; VERSION lists the
 * versions it speaks; STATUS (1.1) says whether xdpctl runs on this node;
 * GC (1.1) removes the entries whose host veth is gone. Errors are the
 * spec's JSON object on stdout with a non-zero exit; logs go to stderr.
 *
 * Network configuration keys of the plugin entry:
 *   "pinDir"   the xdpctl pin dir (default /sys/fs/bpf/xdpctl)
 *   "mode"     "bypass": per-address bypass entries (the default)
 *   "logLevel" "error", "warn" (default), "info" or "debug"
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"

static int log_level = XDPCTL_LOG_WARN;

int cni_fail(struct cni_err *e, int code, const char *details, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	snprintf(e->details, sizeof(e->details), "%s", details ? details : "");
	return -1;
}

static void vlog(int level, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	fputs("xdpctl-cni: ", stderr);
	vfprintf(stderr, fmt, ap);
}

void cni_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

static int lib_print(enum xdpctl_log_level level, const char *fmt, va_list ap)
{
	vlog(level, fmt, ap);
	return 0;
}

/* The spec's error object on stdout; the exit code is the caller's. */
static void print_error(const char *version, const struct cni_err *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "cniVersion", json_object_new_string(version));
	json_object_object_add(o, "code", json_object_new_int(e->code));
	json_object_object_add(o, "msg", json_object_new_string(e->msg));
	if (e->details[0])
		json_object_object_add(o, "details", json_object_new_string(e->details));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	cni_log(XCNI_LOG_ERROR, "%s%s%s\n", e->msg, e->details[0] ? ": " : "", e->details);
}

/* stdin into a NUL-terminated buffer of at most CNI_STDIN_MAX bytes. */
static int read_stdin(char **buf, size_t *len, struct cni_err *e)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap + 1), *nb;
	size_t r;

	if (!b)
		return cni_fail(e, CNI_ERR_IO, NULL, "out of memory");
	while ((r = fread(b + n, 1, cap - n, stdin)) > 0) {
		n += r;
		if (n < cap)
			continue;
		if (cap >= CNI_STDIN_MAX) {
			free(b);
			return cni_fail(e, CNI_ERR_DECODE, NULL,
					"the network configuration on stdin is over %u bytes",
					CNI_STDIN_MAX);
		}
		cap *= 2;
		nb = realloc(b, cap + 1);
		if (!nb) {
			free(b);
			return cni_fail(e, CNI_ERR_IO, NULL, "out of memory");
		}
		b = nb;
	}
	if (ferror(stdin)) {
		free(b);
		return cni_fail(e, CNI_ERR_IO, NULL, "reading the network configuration on stdin failed");
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

static const char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* The spec: alphanumerics, '_', '.' and '-'. */
static bool containerid_ok(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static int cmd_version(const char *buf, size_t len)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array(), *in, *v;
	const char *ver = "1.0.0";

	/* Answer in the caller's cniVersion when we speak it. */
	in = len ? json_tokener_parse(buf) : NULL;
	if (in && json_object_object_get_ex(in, "cniVersion", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    cni_version_supported(json_object_get_string(v)))
		ver = json_object_get_string(v);
	json_object_object_add(o, "cniVersion", json_object_new_string(ver));
	for (size_t i = 0; cni_versions[i]; i++)
		json_object_array_add(arr, json_object_new_string(cni_versions[i]));
	json_object_object_add(o, "supportedVersions", arr);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	json_object_put(in);
	return 0;
}

int main(void)
{
	struct cni_env env = {
		.command = env_get("CNI_COMMAND"),
		.containerid = env_get("CNI_CONTAINERID"),
		.netns = env_get("CNI_NETNS"),
		.ifname = env_get("CNI_IFNAME"),
	};
	struct cni_conf conf = {};
	struct cni_err e = {};
	char *buf = NULL, *out = NULL;
	size_t len = 0;
	int rc;

	xdpctl_set_print(lib_print);
	if (!env.command) {
		cni_fail(&e, CNI_ERR_INVALID_ENV, "xdpctl-cni is run by a CNI runtime (containerd, CRI-O)",
			 "CNI_COMMAND is not set");
		goto fail;
	}
	if (read_stdin(&buf, &len, &e))
		goto fail;
	if (!strcmp(env.command, "VERSION")) {
		rc = cmd_version(buf, len);
		free(buf);
		return rc;
	}
	if (!strcmp(env.command, "STATUS") || !strcmp(env.command, "GC")) {
		/* Network-wide: no container, netns or interface. */
		if (cni_conf_parse(buf, len, NULL, &conf, &e))
			goto fail;
		log_level = conf.log_level;
		if (cni_version_cmp(conf.version, "1.1.0") < 0) {
			cni_fail(&e, CNI_ERR_INCOMPATIBLE_VERSION, NULL,
				 "%s needs cniVersion 1.1.0 or later, the configuration has %s",
				 env.command, conf.version);
			goto fail;
		}
		rc = !strcmp(env.command, "GC") ? cni_cmd_gc(&conf, &e) : cni_cmd_status(&conf, &e);
		if (rc)
			goto fail;
		cni_conf_free(&conf);
		free(buf);
		return 0;
	}
	if (strcmp(env.command, "ADD") && strcmp(env.command, "DEL") &&
	    strcmp(env.command, "CHECK")) {
		cni_fail(&e, CNI_ERR_INVALID_ENV,
			 "xdpctl-cni knows ADD, DEL, CHECK, STATUS, GC and VERSION",
			 "CNI_COMMAND %.32s is not supported", env.command);
		goto fail;
	}
	if (!env.containerid) {
		cni_fail(&e, CNI_ERR_INVALID_ENV, NULL, "CNI_CONTAINERID is not set");
		goto fail;
	}
	if (!containerid_ok(env.containerid)) {
		cni_fail(&e, CNI_ERR_INVALID_ENV, "only letters, digits, '_', '.' and '-'",
			 "CNI_CONTAINERID %.64s is not a container id", env.containerid);
		goto fail;
	}
	if (!env.ifname) {
		cni_fail(&e, CNI_ERR_INVALID_ENV, NULL, "CNI_IFNAME is not set");
		goto fail;
	}
	if (cni_conf_parse(buf, len, env.ifname, &conf, &e))
		goto fail;
	log_level = conf.log_level;
	cni_log(XDPCTL_LOG_DEBUG, "%s %s netns %s ifname %s\n", env.command, env.containerid,
		env.netns ? env.netns : "-", env.ifname);

	if (!strcmp(env.command, "ADD"))
		rc = cni_cmd_add(&env, &conf, &out, &e);
	else if (!strcmp(env.command, "DEL"))
		rc = cni_cmd_del(&env, &conf, &e);
	else
		rc = cni_cmd_check(&env, &conf, &e);
	if (rc)
		goto fail;
	if (out)
		printf("%s\n", out);
	free(out);
	cni_conf_free(&conf);
	free(buf);
	return fflush(stdout) ? 1 : 0;

fail:
	print_error(conf.version[0] ? conf.version : "1.0.0", &e);
	cni_conf_free(&conf);
	free(buf);
	return 1;
}
