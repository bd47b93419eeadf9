/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Docker-native side of the library: a Docker Engine API client (libcurl on
 * the daemon's unix socket, API version pinned in every request path, json-c
 * for the answers), the parsers of those answers (pure functions, fuzzed),
 * the resolution of a container address to the host veth whose peer holds
 * it, and the watcher that keeps the container table (the bypass map, and
 * ping-pong rules asked for by label) equal to what runs.
 *
 * Conventions as in dataplane.h: negative errno, errno set, nothing printed;
 * xdpctl_docker__errmsg() names what failed (the socket, the container).
 */
#ifndef XDPCTL_DOCKER_H
#define XDPCTL_DOCKER_H

#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <net/if.h>
#include <linux/types.h>

#include "xdpctl/dataplane.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Engine API 1.41 = Docker 20.10; newer daemons still serve it. */
#define XDPCTL_DOCKER_API        "v1.41"
#define XDPCTL_DOCKER_SOCK       "/var/run/docker.sock"
#define XDPCTL_DOCKER_NETS_MAX   16
/* Labels: on a container or a network, "false" opts out of the bypass. */
#define XDPCTL_LABEL_BYPASS      "xdpctl.bypass"
/* On a container: ping-pong rules for its addresses, "xdp", "tc" or "both"/"true". */
#define XDPCTL_LABEL_PINGPONG    "xdpctl.pingpong"

/* ---- what the parsers read from the Engine API ---- */
struct xdpctl_docker_net {
	char name[128];              /* network name */
	char id[72];                 /* NetworkID */
	bool has4, has6;
	struct xdpctl_addr addr4;    /* IPAddress */
	struct xdpctl_addr addr6;    /* GlobalIPv6Address */
	__u8 mac[6];                 /* MacAddress, zero if none */
};

struct xdpctl_docker_ctr {
	char id[72];
	char name[128];              /* without the leading '/' */
	pid_t pid;                   /* State.Pid, 0 when not running */
	bool running;                /* State.Running */
	bool opt_out;                /* label xdpctl.bypass=false */
	__u32 pingpong_hooks;        /* from label xdpctl.pingpong; 0: none */
	bool label_match;            /* carries the label asked for at parse (or none asked) */
	unsigned int nnets;
	struct xdpctl_docker_net nets[XDPCTL_DOCKER_NETS_MAX];
};

struct xdpctl_docker_event {
	char type[16];               /* "container", "network", ... */
	char action[32];             /* "start", "die", "connect", ... */
	char container[72];          /* the container concerned ("" if none) */
	char network[72];            /* network events: the network id */
	__u64 time_nano;             /* timeNano (0 if absent) */
};

/*
 * The parsers: the whole answer must be one JSON value of the expected
 * shape; -EPROTO otherwise, -ENAMETOOLONG for a field longer than ours.
 * @want_label: "KEY" or "KEY=VALUE" the container must carry for
 * label_match (NULL or "": every container matches).
 */
int xdpctl_docker_parse_inspect(const char *buf, size_t len, const char *want_label,
				struct xdpctl_docker_ctr *out);
typedef int (*xdpctl_docker_id_cb)(const char *id, void *ctx);
/* GET /containers/json: hand every Id to cb (stops on a non-zero return). */
int xdpctl_docker_parse_list(const char *buf, size_t len, xdpctl_docker_id_cb cb, void *ctx);
/* One line of the /events stream. */
int xdpctl_docker_parse_event(const char *buf, size_t len, struct xdpctl_docker_event *out);
/* GET /networks/ID: *opt_out when the network carries xdpctl.bypass=false. */
int xdpctl_docker_parse_network(const char *buf, size_t len, bool *opt_out);
/* "xdp", "tc", "both", "true" -> XDPCTL_HOOKBIT_*; 0 for anything else. */
__u32 xdpctl_docker_pingpong_hooks(const char *label_value);

/* ---- the client ---- */
struct xdpctl_docker;
/*
 * A client for the daemon's socket: @sock, else $DOCKER_HOST (unix:// only),
 * else /var/run/docker.sock. The socket must be a socket owned by root
 * (uid 0): anyone else who owns it could answer for the daemon and steer
 * rules. -EPROTONOSUPPORT: DOCKER_HOST not unix://; -EPERM: not root's;
 * -ENOTSOCK: not a socket. Connecting happens per request.
 */
int xdpctl_docker__open(const char *sock, struct xdpctl_docker **out);
void xdpctl_docker__close(struct xdpctl_docker *dk);
/* The last error on @dk (NULL: of the last xdpctl_docker__open here). */
const char *xdpctl_docker__errmsg(const struct xdpctl_docker *dk);
const char *xdpctl_docker__socket(const struct xdpctl_docker *dk);
/* GET /_ping. -ECONNREFUSED: nobody answers; -ETIMEDOUT. */
int xdpctl_docker__ping(struct xdpctl_docker *dk);
/* GET /containers/NAME/json. -ENOENT no such container; -EINVAL not a name. */
int xdpctl_docker__inspect(struct xdpctl_docker *dk, const char *name_or_id,
			   const char *want_label, struct xdpctl_docker_ctr *out);
/* Running containers (with @label "KEY" or "KEY=VALUE" if given). */
int xdpctl_docker__list(struct xdpctl_docker *dk, const char *label, xdpctl_docker_id_cb cb,
			void *ctx);
/* Does network @id carry xdpctl.bypass=false? */
int xdpctl_docker__network_opt_out(struct xdpctl_docker *dk, const char *id, bool *opt_out);

/* ---- resolution ---- */
/*
 * The container interface (in the netns of process @pid) that holds @addr,
 * and the host veth (in the caller's netns) whose peer it is: c->veth,
 * c->veth_ifindex, c->mac (the peer's), c->netns. -EADDRNOTAVAIL: no
 * interface there holds @addr; -ENODEV: it has no veth to this netns.
 */
int xdpctl_discover_addr(pid_t pid, const struct xdpctl_addr *addr, struct xdpctl_container *c);

/* ---- the watcher ---- */
/*
 * How it tells its entries from a user's: every rule it adds is recorded in
 * a map pinned beside the state (XDPCTL_MAP_OWNER: address and kind ->
 * container id, veth ifindex, MAC or hooks). A rule is the watcher's only
 * while the record and the rule agree; anything else is a user's rule and
 * is never touched (a conflict is reported once per reconcile).
 */
#define XDPCTL_MAP_OWNER "xdpctl_owner"

enum xdpctl_watch_action {
	XDPCTL_WATCH_ADD,      /* a rule added */
	XDPCTL_WATCH_DEL,      /* a rule removed (container gone, moved, opted out) */
	XDPCTL_WATCH_KEEP,     /* a rule already right (sync reports it) */
	XDPCTL_WATCH_FOREIGN,  /* the address holds a user's rule: left alone */
	XDPCTL_WATCH_ERROR,    /* could not resolve or write: msg says why */
	XDPCTL_WATCH_DOCKER,   /* the daemon: connected, lost, reconnecting (msg) */
};

struct xdpctl_watch_change {
	enum xdpctl_watch_action action;
	bool pingpong;                 /* a ping-pong rule, else bypass */
	struct xdpctl_addr addr;
	char dev[IF_NAMESIZE];         /* bypass: the veth */
	__u32 ifindex;
	__u8 mac[6];
	__u32 hooks;                   /* ping-pong */
	char container[128];           /* name, else id */
	const char *msg;               /* ERROR/DOCKER/FOREIGN: a human line */
};
typedef void (*xdpctl_watch_cb)(const struct xdpctl_watch_change *ch, void *ctx);

struct xdpctl_watch_opts {
	size_t sz;
	const char *label;             /* only containers with this label (KEY[=VALUE]) */
	unsigned int resync_s;         /* full reconcile every N s while watching; 0: 300 */
	xdpctl_watch_cb cb;            /* every change; NULL: none */
	void *cb_ctx;
	bool report_keep;              /* also call cb for rules already right */
	size_t :0;
};

/* Counters of a watcher (read from another thread, e.g. a /metrics server). */
struct xdpctl_watch_stats {
	__u64 events;                  /* Engine API events handled */
	__u64 link_events;             /* netlink link changes that mattered */
	__u64 reconciles;              /* full reconciles */
	__u64 added, removed;          /* rules */
	__u64 errors;
	__u64 reconnects;              /* event stream (re)opened after the first */
	__u64 entries;                 /* rules it owns now */
	bool connected;                /* the event stream is open */
};

struct xdpctl_watch;
int xdpctl_watch__new(struct xdpctl_dp *dp, struct xdpctl_docker *dk,
		      const struct xdpctl_watch_opts *opts, struct xdpctl_watch **out);
void xdpctl_watch__free(struct xdpctl_watch *w);
const char *xdpctl_watch__errmsg(const struct xdpctl_watch *w);
/*
 * Reconcile once: every running container's addresses on every network
 * against the table. @return 0 (per-rule failures go to cb and count in
 * errors), or negative errno when Docker or the state cannot be read.
 */
int xdpctl_watch__sync(struct xdpctl_watch *w);
/*
 * Follow the event stream and netlink link changes until *stop becomes
 * non-zero; reconnects with backoff (0.2 s doubling to 5 s) while the
 * daemon is away and reconciles on every (re)connect. @return 0 when
 * stopped, negative errno on a failure it cannot wait out.
 */
int xdpctl_watch__run(struct xdpctl_watch *w, volatile sig_atomic_t *stop);
void xdpctl_watch__stats(const struct xdpctl_watch *w, struct xdpctl_watch_stats *out);
/*
 * The counters above in the Prometheus text format (xdpctl_watch_*); safe
 * from another thread (the /metrics server's extra writer, ctx = the watcher).
 */
int xdpctl_watch__metrics_write(FILE *f, void *w);

/* ---- doctor: the known traps ---- */
enum xdpctl_check_status { XDPCTL_CHECK_OK, XDPCTL_CHECK_WARN, XDPCTL_CHECK_FAIL,
			   XDPCTL_CHECK_SKIP };
struct xdpctl_check {
	const char *name;              /* "bpffs", "tracefs", ... */
	enum xdpctl_check_status status;
	char detail[256];              /* what was found */
	char fix[256];                 /* what to do ("" when OK) */
};
typedef int (*xdpctl_check_cb)(const struct xdpctl_check *ck, void *ctx);
/* Run every check (@dp may be NULL: no state yet); cb once per check. */
int xdpctl_doctor(struct xdpctl_dp *dp, const char *pin_dir, xdpctl_check_cb cb, void *ctx);
const char *xdpctl_check_status_name(enum xdpctl_check_status s);

#ifdef __cplusplus
}
#endif
#endif /* XDPCTL_DOCKER_H */
