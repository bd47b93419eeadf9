// SPDX-License-Identifier: GPL-2.0-only
/*
 * The network configuration a CNI runtime hands to xdpctl-cni on stdin:
 * strict JSON (json-c), cniVersion against the versions we speak, our keys
 * (pinDir, mode, logLevel) and prevResult, whose interfaces and ips tell
 * which addresses the pod has, on which interface, with which MAC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"

const char *const cni_versions[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0", NULL };

bool cni_version_supported(const char *v)
{
	for (size_t i = 0; cni_versions[i]; i++)
		if (!strcmp(v, cni_versions[i]))
			return true;
	return false;
}

int cni_version_cmp(const char *a, const char *b)
{
	unsigned int x[3] = {}, y[3] = {};

	sscanf(a, "%u.%u.%u", &x[0], &x[1], &x[2]);
	sscanf(b, "%u.%u.%u", &y[0], &y[1], &y[2]);
	for (int i = 0; i < 3; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

/* A string member, or NULL when absent; -1 with @e set when not a string. */
static int get_string(json_object *o, const char *key, const char *where, const char **out,
		      struct cni_err *e)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL, "%s\"%s\" must be a string", where,
				key);
	*out = json_object_get_string(v);
	return 0;
}

static int parse_log_level(const char *s, int *out)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "error", XCNI_LOG_ERROR }, { "warn", XDPCTL_LOG_WARN },
		{ "warning", XDPCTL_LOG_WARN }, { "info", XDPCTL_LOG_INFO },
		{ "debug", XDPCTL_LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcmp(s, levels[i].name)) {
			*out = levels[i].level;
			return 0;
		}
	return -1;
}

static int parse_interfaces(json_object *prev, struct cni_conf *c, struct cni_err *e)
{
	json_object *arr, *it;
	const char *name, *mac, *sandbox;
	size_t n;

	if (!json_object_object_get_ex(prev, "interfaces", &arr) ||
	    json_object_is_type(arr, json_type_null))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
				"prevResult: \"interfaces\" must be an array");
	n = json_object_array_length(arr);
	if (n > CNI_MAX_IFACES)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
				"prevResult: %zu interfaces, xdpctl-cni reads at most %d", n,
				CNI_MAX_IFACES);
	for (size_t i = 0; i < n; i++) {
		struct cni_iface *f = &c->ifaces[i];

		it = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(it, json_type_object))
			return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
					"prevResult: interfaces[%zu] must be an object", i);
		if (get_string(it, "name", "prevResult: interfaces[]: ", &name, e) ||
		    get_string(it, "mac", "prevResult: interfaces[]: ", &mac, e) ||
		    get_string(it, "sandbox", "prevResult: interfaces[]: ", &sandbox, e))
			return -1;
		if (name && strlen(name) < IF_NAMESIZE)
			snprintf(f->name, sizeof(f->name), "%s", name);
		if (mac && *mac) {
			if (xdpctl_mac_parse(mac, f->mac))
				return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
						"prevResult: interfaces[%zu]: \"%s\" is not a MAC address",
						i, mac);
			f->has_mac = true;
		}
		f->sandbox = sandbox && *sandbox;
	}
	c->n_ifaces = n;
	return 0;
}

static int parse_ips(json_object *prev, struct cni_conf *c, struct cni_err *e)
{
	json_object *arr, *it, *idx;
	const char *addr, *slash;
	size_t n;

	if (!json_object_object_get_ex(prev, "ips", &arr) ||
	    json_object_is_type(arr, json_type_null))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL, "prevResult: \"ips\" must be an array");
	n = json_object_array_length(arr);
	if (n > CNI_MAX_IPS)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
				"prevResult: %zu ips, xdpctl-cni reads at most %d", n, CNI_MAX_IPS);
	for (size_t i = 0; i < n; i++) {
		struct cni_ip *ip = &c->ips[i];

		it = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(it, json_type_object))
			return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
					"prevResult: ips[%zu] must be an object", i);
		if (get_string(it, "address", "prevResult: ips[]: ", &addr, e))
			return -1;
		if (!addr)
			return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
					"prevResult: ips[%zu] has no \"address\"", i);
		slash = strchr(addr, '/');
		if ((slash ? (size_t)(slash - addr) : strlen(addr)) >= sizeof(ip->str))
			return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
					"prevResult: ips[%zu]: \"%s\" is not an address", i, addr);
		snprintf(ip->str, sizeof(ip->str), "%.*s",
			 (int)(slash ? slash - addr : (long)strlen(addr)), addr);
		if (xdpctl_addr_parse(ip->str, &ip->addr))
			return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
					"prevResult: ips[%zu]: \"%s\" is not an IPv4 or IPv6 address",
					i, addr);
		ip->iface = -1;
		if (json_object_object_get_ex(it, "interface", &idx) &&
		    !json_object_is_type(idx, json_type_null)) {
			int64_t v = json_object_get_int64(idx);

			if (!json_object_is_type(idx, json_type_int) || v < 0 ||
			    (size_t)v >= c->n_ifaces)
				return cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
						"prevResult: ips[%zu]: \"interface\" must index \"interfaces\" (0..%zu)",
						i, c->n_ifaces ? c->n_ifaces - 1 : 0);
			ip->iface = (int)v;
		}
	}
	c->n_ips = n;
	return 0;
}

/* The pod interface: CNI_IFNAME in a sandbox, else the only sandbox interface. */
static void find_pod_iface(struct cni_conf *c, const char *ifname)
{
	int only = -1, count = 0;

	c->pod_iface = -1;
	for (size_t i = 0; i < c->n_ifaces; i++) {
		if (!c->ifaces[i].sandbox)
			continue;
		if (ifname && !strcmp(c->ifaces[i].name, ifname)) {
			c->pod_iface = (int)i;
			return;
		}
		only = (int)i;
		count++;
	}
	if (count == 1)
		c->pod_iface = only;
}

bool cni_ip_is_pod(const struct cni_conf *c, size_t i)
{
	if (c->ips[i].iface < 0)
		return true; /* the spec allows ips without an interface: the pod's */
	return c->ips[i].iface == c->pod_iface;
}

int cni_conf_parse(const char *buf, size_t len, const char *ifname, struct cni_conf *c,
		   struct cni_err *e)
{
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	const char *s;
	size_t end;

	memset(c, 0, sizeof(*c));
	c->log_level = XDPCTL_LOG_WARN;
	c->pod_iface = -1;
	tok = json_tokener_new();
	if (!tok)
		return cni_fail(e, CNI_ERR_IO, NULL, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	c->root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!c->root || jerr != json_tokener_success) {
		cni_fail(e, CNI_ERR_DECODE, NULL,
			 "the network configuration on stdin is not JSON: %s at byte %zu",
			 jerr == json_tokener_continue ? "unexpected end" :
							 json_tokener_error_desc(jerr),
			 end);
		goto fail;
	}
	for (; end < len; end++)
		if (!strchr(" \t\r\n", buf[end])) {
			cni_fail(e, CNI_ERR_DECODE, NULL,
				 "the network configuration on stdin is not JSON: data after the object at byte %zu",
				 end);
			goto fail;
		}
	if (!json_object_is_type(c->root, json_type_object)) {
		cni_fail(e, CNI_ERR_DECODE, NULL,
			 "the network configuration on stdin is not a JSON object");
		goto fail;
	}

	if (get_string(c->root, "cniVersion", "", &s, e))
		goto fail;
	if (!s) {
		cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
			 "the network configuration has no \"cniVersion\"");
		goto fail;
	}
	if (!cni_version_supported(s)) {
		cni_fail(e, CNI_ERR_INCOMPATIBLE_VERSION,
			 "xdpctl-cni speaks cniVersion 0.3.0, 0.3.1, 0.4.0, 1.0.0 and 1.1.0",
			 "cniVersion \"%.32s\" is not supported", s);
		goto fail;
	}
	snprintf(c->version, sizeof(c->version), "%s", s);

	if (get_string(c->root, "pinDir", "", &s, e))
		goto fail;
	if (s) {
		if (!*s || *s != '/' || strlen(s) >= sizeof(c->pin_dir)) {
			cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL,
				 "\"pinDir\": \"%.64s\" is not an absolute path", s);
			goto fail;
		}
		snprintf(c->pin_dir, sizeof(c->pin_dir), "%s", s);
	}
	if (get_string(c->root, "mode", "", &s, e))
		goto fail;
	if (s && strcmp(s, "bypass")) {
		cni_fail(e, CNI_ERR_UNSUPPORTED_FIELD, "supported: \"mode\": \"bypass\"",
			 "unsupported field \"mode\": \"%.64s\"", s);
		goto fail;
	}
	c->mode = XCNI_MODE_BYPASS;
	if (get_string(c->root, "logLevel", "", &s, e))
		goto fail;
	if (s && parse_log_level(s, &c->log_level)) {
		cni_fail(e, CNI_ERR_UNSUPPORTED_FIELD,
			 "supported: \"logLevel\": \"error\", \"warn\", \"info\" or \"debug\"",
			 "unsupported field \"logLevel\": \"%.64s\"", s);
		goto fail;
	}

	if (json_object_object_get_ex(c->root, "prevResult", &c->prev) &&
	    json_object_is_type(c->prev, json_type_null))
		c->prev = NULL;
	if (c->prev) {
		if (!json_object_is_type(c->prev, json_type_object)) {
			cni_fail(e, CNI_ERR_INVALID_CONFIG, NULL, "\"prevResult\" must be an object");
			goto fail;
		}
		if (parse_interfaces(c->prev, c, e) || parse_ips(c->prev, c, e))
			goto fail;
		find_pod_iface(c, ifname);
	}
	return 0;

fail:
	cni_conf_free(c);
	return -1;
}

void cni_conf_free(struct cni_conf *c)
{
	if (c->root)
		json_object_put(c->root);
	c->root = NULL;
	c->prev = NULL;
}
