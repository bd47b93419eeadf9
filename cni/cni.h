/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xdpctl-cni, a chained CNI plugin (spec 1.0, 1.1): what its files share. The
 * runtime's environment, the network configuration with the pod's interfaces
 * and addresses from prevResult, the spec's error codes and the error that
 * main() prints as the spec's JSON error object.
 */
#ifndef XDPCTL_CNI_H
#define XDPCTL_CNI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <json-c/json.h>

#include "xdpctl/dataplane.h"

/* The spec's well-known error codes (SPEC.md, "Error"). */
#define CNI_ERR_INCOMPATIBLE_VERSION 1
#define CNI_ERR_UNSUPPORTED_FIELD    2
#define CNI_ERR_UNKNOWN_CONTAINER    3
#define CNI_ERR_INVALID_ENV          4
#define CNI_ERR_IO                   5
#define CNI_ERR_DECODE               6
#define CNI_ERR_INVALID_CONFIG       7
#define CNI_ERR_TRY_AGAIN_LATER      11
#define CNI_ERR_NOT_AVAILABLE        50 /* 1.1 STATUS: cannot serve ADD */
/* Ours (the spec leaves 100 and up to plugins). */
#define XCNI_ERR_DATAPLANE           100 /* the dataplane refused: map full, device */
#define XCNI_ERR_ADDR_TAKEN          101 /* ADD: the address goes to another live veth */
#define XCNI_ERR_NO_ENTRY            102 /* CHECK: an address is not in the container table */
#define XCNI_ERR_MISMATCH            103 /* CHECK: an entry differs from the pod */
#define XCNI_ERR_VETH_GONE           104 /* ADD, CHECK: the pod's host veth is gone */

/* Bounds on what we accept from the runtime. */
#define CNI_STDIN_MAX   (1u << 20) /* bytes of network configuration */
#define CNI_MAX_IFACES  32         /* interfaces in prevResult */
#define CNI_MAX_IPS     32         /* ips in prevResult */

struct cni_err {
	int code;
	char msg[512];
	char details[1024];
};

/* Fill @e and return -1, so callers can `return cni_fail(e, ...)`. */
int cni_fail(struct cni_err *e, int code, const char *details, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

struct cni_env {
	const char *command;     /* CNI_COMMAND */
	const char *containerid; /* CNI_CONTAINERID */
	const char *netns;       /* CNI_NETNS, NULL when unset or empty */
	const char *ifname;      /* CNI_IFNAME */
};

enum xcni_mode {
	XCNI_MODE_BYPASS = 0, /* per-address bypass rule (xdpctl bypass add) */
};

struct cni_iface {
	char name[IF_NAMESIZE]; /* "" when prevResult's name is not a device name */
	bool has_mac;
	__u8 mac[6];
	bool sandbox;           /* inside the container (prevResult "sandbox" set) */
};

struct cni_ip {
	struct xdpctl_addr addr;
	char str[64];            /* as prevResult wrote it, without the prefix */
	int iface;              /* index into ifaces, -1 when prevResult has none */
};

struct cni_conf {
	char version[16];        /* cniVersion */
	char pin_dir[PATH_MAX];  /* "pinDir", "" for the library's default */
	enum xcni_mode mode;     /* "mode" */
	int log_level;           /* "logLevel": -1 error only, else XDPCTL_LOG_* */
	json_object *root;       /* the whole configuration (owned) */
	json_object *prev;       /* prevResult inside root, NULL when absent */
	struct cni_iface ifaces[CNI_MAX_IFACES];
	size_t n_ifaces;
	struct cni_ip ips[CNI_MAX_IPS];
	size_t n_ips;
	int pod_iface;           /* index of CNI_IFNAME in a sandbox, -1 none */
};

#define XCNI_LOG_ERROR (-1)

/* conf.c */
extern const char *const cni_versions[]; /* supported cniVersions, NULL-terminated */
bool cni_version_supported(const char *v);
/* Compare two "a.b.c" versions: <0, 0, >0. */
int cni_version_cmp(const char *a, const char *b);
/*
 * Parse the network configuration in @buf: JSON, cniVersion, our keys, and
 * prevResult's interfaces and ips (the pod interface is @ifname). @return 0,
 * or -1 with @e set.
 */
int cni_conf_parse(const char *buf, size_t len, const char *ifname, struct cni_conf *c,
		   struct cni_err *e);
void cni_conf_free(struct cni_conf *c);
/* Does IP i belong to the pod interface? */
bool cni_ip_is_pod(const struct cni_conf *c, size_t i);

/* cmd.c: the commands; 0 (and what to print on stdout in *out), or -1 with @e set. */
int cni_cmd_add(const struct cni_env *env, struct cni_conf *c, char **out, struct cni_err *e);
int cni_cmd_del(const struct cni_env *env, struct cni_conf *c, struct cni_err *e);
int cni_cmd_check(const struct cni_env *env, struct cni_conf *c, struct cni_err *e);
int cni_cmd_status(struct cni_conf *c, struct cni_err *e);
int cni_cmd_gc(struct cni_conf *c, struct cni_err *e);

/* main.c: log a line on stderr at @level under the configured log level. */
void cni_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* XDPCTL_CNI_H */
