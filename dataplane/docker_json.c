// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Docker Engine API answers xdpctl reads, parsed with json-c: container
 * inspect, container list, one event of the /events stream, network
 * inspect. Pure functions over a byte buffer (no I/O, no global state), so
 * the libFuzzer target tests/fuzz/fuzz_docker.c drives them directly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>

#include "internal.h"
#include "xdpctl/docker.h"

#define JSON_DEPTH 64         /* an inspect answer nests about 6 deep */
#define JSON_MAX   (16u << 20) /* larger than any answer we ask for */

/* Parse all of buf as one JSON value; NULL on a syntax error or trailing junk. */
static json_object *parse_all(const char *buf, size_t len)
{
	json_tokener *tok;
	json_object *obj;
	size_t end;

	if (!buf || !len || len > JSON_MAX)
		return NULL;
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (obj && json_tokener_get_error(tok) == json_tokener_success) {
		end = json_tokener_get_parse_end(tok);
		while (end < len && (buf[end] == ' ' || buf[end] == '\n' || buf[end] == '\r' ||
				     buf[end] == '\t'))
			end++;
		if (end != len) {
			json_object_put(obj);
			obj = NULL;
		}
	} else if (obj) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

static json_object *get(json_object *o, const char *key, json_type type)
{
	json_object *v;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

/*
 * Copy string member @key into buf. -ENOENT absent or null, -EPROTO not a
 * string or holding a NUL, -ENAMETOOLONG longer than buf (unless @trunc).
 */
static int get_str(json_object *o, const char *key, char *buf, size_t len, bool trunc)
{
	json_object *v;
	const char *s;
	int n;

	if (!o || !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return -ENOENT;
	if (!json_object_is_type(v, json_type_string))
		return -EPROTO;
	s = json_object_get_string(v);
	n = json_object_get_string_len(v);
	if (n < 0 || memchr(s, '\0', (size_t)n))
		return -EPROTO;
	if ((size_t)n >= len) {
		if (!trunc)
			return -ENAMETOOLONG;
		n = (int)len - 1;
	}
	memcpy(buf, s, (size_t)n);
	buf[n] = '\0';
	return 0;
}

__u32 xdpctl_docker_pingpong_hooks(const char *v)
{
	if (!v)
		return 0;
	if (!strcasecmp(v, "xdp"))
		return XDPCTL_HOOKBIT_XDP;
	if (!strcasecmp(v, "tc"))
		return XDPCTL_HOOKBIT_TC;
	if (!strcasecmp(v, "both") || !strcasecmp(v, "true"))
		return XDPCTL_HOOKBIT_XDP | XDPCTL_HOOKBIT_TC;
	return 0;
}

/* Does @labels (an object or NULL) carry "KEY" or "KEY=VALUE"? */
static bool has_label(json_object *labels, const char *want)
{
	const char *eq = strchr(want, '=');
	char key[256], val[256];
	size_t klen = eq ? (size_t)(eq - want) : strlen(want);

	if (klen >= sizeof(key))
		return false;
	memcpy(key, want, klen);
	key[klen] = '\0';
	if (get_str(labels, key, val, sizeof(val), false))
		return false;
	return !eq || !strcmp(val, eq + 1);
}

static void net_addrs(json_object *n, struct xdpctl_docker_net *d)
{
	char s[64];

	if (!get_str(n, "IPAddress", s, sizeof(s), false) && *s &&
	    !xdpctl_addr_parse(s, &d->addr4) && d->addr4.family == XDPCTL_AF_INET)
		d->has4 = true;
	if (!get_str(n, "GlobalIPv6Address", s, sizeof(s), false) && *s &&
	    !xdpctl_addr_parse(s, &d->addr6) && d->addr6.family == XDPCTL_AF_INET6)
		d->has6 = true;
	if (!get_str(n, "MacAddress", s, sizeof(s), false) && *s)
		xdpctl_mac_parse(s, d->mac);
}

int xdpctl_docker_parse_inspect(const char *buf, size_t len, const char *want_label,
				struct xdpctl_docker_ctr *out)
{
	json_object *root, *state, *cfg, *labels, *ns, *nets, *pid, *run;
	char name[sizeof(out->name) + 1], v[64];
	int err = -EPROTO;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	root = parse_all(buf, len);
	if (!root)
		return -EPROTO;
	if (!json_object_is_type(root, json_type_object))
		goto out;
	err = get_str(root, "Id", out->id, sizeof(out->id), false);
	if (err)
		goto out_proto;
	if (!out->id[0])
		goto out_proto;
	if (!get_str(root, "Name", name, sizeof(name), false)) {
		const char *n = name[0] == '/' ? name + 1 : name;

		if (strlen(n) >= sizeof(out->name)) {
			err = -ENAMETOOLONG;
			goto out;
		}
		strcpy(out->name, n);
	}
	state = get(root, "State", json_type_object);
	if (!state)
		goto out_proto;
	run = get(state, "Running", json_type_boolean);
	pid = get(state, "Pid", json_type_int);
	out->running = run && json_object_get_boolean(run);
	if (pid) {
		int64_t p = json_object_get_int64(pid);

		if (p < 0 || p > 0x3fffffff)
			goto out_proto;
		out->pid = (pid_t)p;
	}
	if (!out->running)
		out->pid = 0;

	cfg = get(root, "Config", json_type_object);
	labels = get(cfg, "Labels", json_type_object);
	if (!get_str(labels, XDPCTL_LABEL_BYPASS, v, sizeof(v), true) && !strcasecmp(v, "false"))
		out->opt_out = true;
	if (!get_str(labels, XDPCTL_LABEL_PINGPONG, v, sizeof(v), true))
		out->pingpong_hooks = xdpctl_docker_pingpong_hooks(v);
	out->label_match = !want_label || !*want_label || has_label(labels, want_label);

	ns = get(root, "NetworkSettings", json_type_object);
	nets = get(ns, "Networks", json_type_object);
	if (nets) {
		json_object_object_foreach(nets, key, val) {
			struct xdpctl_docker_net *d;

			if (out->nnets >= XDPCTL_DOCKER_NETS_MAX)
				break;
			if (!json_object_is_type(val, json_type_object))
				continue;
			d = &out->nets[out->nnets];
			memset(d, 0, sizeof(*d));
			if (strlen(key) >= sizeof(d->name))
				continue;
			strcpy(d->name, key);
			if (get_str(val, "NetworkID", d->id, sizeof(d->id), false))
				d->id[0] = '\0';
			net_addrs(val, d);
			out->nnets++;
		}
	}
	err = 0;
	goto out;
out_proto:
	if (err != -ENAMETOOLONG)
		err = -EPROTO;
out:
	json_object_put(root);
	return err;
}

int xdpctl_docker_parse_list(const char *buf, size_t len, xdpctl_docker_id_cb cb, void *ctx)
{
	json_object *root = parse_all(buf, len);
	char id[72];
	size_t i, n;
	int err = 0;

	if (!root)
		return -EPROTO;
	if (!json_object_is_type(root, json_type_array)) {
		json_object_put(root);
		return -EPROTO;
	}
	n = json_object_array_length(root);
	for (i = 0; i < n && !err; i++) {
		json_object *c = json_object_array_get_idx(root, i);

		if (get_str(c, "Id", id, sizeof(id), false) || !id[0]) {
			err = -EPROTO;
			break;
		}
		if (cb)
			err = cb(id, ctx);
	}
	json_object_put(root);
	return err;
}

int xdpctl_docker_parse_event(const char *buf, size_t len, struct xdpctl_docker_event *out)
{
	json_object *root, *actor, *attrs, *tn;
	int err = -EPROTO;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	root = parse_all(buf, len);
	if (!root)
		return -EPROTO;
	if (!json_object_is_type(root, json_type_object))
		goto out;
	/* "Action" can be "exec_start: sh -c ...": keep the head, it is only compared. */
	if (get_str(root, "Type", out->type, sizeof(out->type), true) ||
	    get_str(root, "Action", out->action, sizeof(out->action), true))
		goto out;
	actor = get(root, "Actor", json_type_object);
	attrs = get(actor, "Attributes", json_type_object);
	if (!strcmp(out->type, "container")) {
		if (get_str(actor, "ID", out->container, sizeof(out->container), false))
			goto out;
	} else if (!strcmp(out->type, "network")) {
		if (get_str(actor, "ID", out->network, sizeof(out->network), false))
			goto out;
		/* connect/disconnect name the container; create/destroy do not */
		if (get_str(attrs, "container", out->container, sizeof(out->container), false) == -ENAMETOOLONG)
			goto out;
	}
	tn = get(root, "timeNano", json_type_int);
	if (tn && json_object_get_int64(tn) > 0)
		out->time_nano = (__u64)json_object_get_int64(tn);
	err = 0;
out:
	json_object_put(root);
	return err;
}

int xdpctl_docker_parse_network(const char *buf, size_t len, bool *opt_out)
{
	json_object *root = parse_all(buf, len), *labels;
	char v[64];

	if (!root)
		return -EPROTO;
	if (!json_object_is_type(root, json_type_object) || !get(root, "Id", json_type_string)) {
		json_object_put(root);
		return -EPROTO;
	}
	labels = get(root, "Labels", json_type_object);
	*opt_out = !get_str(labels, XDPCTL_LABEL_BYPASS, v, sizeof(v), true) &&
		   !strcasecmp(v, "false");
	json_object_put(root);
	return 0;
}
