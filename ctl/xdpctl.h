/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the xdpctl command files share: the command and argument tables
 * (one declaration drives parsing, validation and help), the run context,
 * error reporting and the state opener.
 */
#ifndef XDPCTL_CTL_H
#define XDPCTL_CTL_H

#include <signal.h>
#include <stdbool.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/types.h>

#include "xdpctl/dataplane.h"
#include "json.h"

#ifndef XDPCTL_VERSION
#define XDPCTL_VERSION "unknown"
#endif

/* What an argument is; each type is validated once, in one place (args.c). */
enum arg_type {
	ARG_FLAG,      /* --force: takes no value */
	ARG_DEVICE,    /* a device that exists in the (entered) network namespace */
	ARG_DEVNAME,   /* a device name that need not exist (detach, status) */
	ARG_ADDR,      /* IPv4 or IPv6 address */
	ARG_MAC,       /* aa:bb:cc:dd:ee:ff */
	ARG_ENUM,      /* one of choices[] */
	ARG_UINT,      /* a decimal number in [min, max] */
	ARG_STRING,    /* free text: a file, a shell command */
	ARG_CONTAINER, /* a Docker name or id, or a process id */
};

/*
 * One argument of a command. name: "--mode" for an option, "dev" for an
 * ip-style keyword, NULL for a positional (in table order). Arguments with
 * the same non-zero group exclude each other; when one of them is required,
 * exactly one must be given.
 */
struct arg_spec {
	const char *name;
	const char *metavar;
	enum arg_type type;
	const char *help;
	bool required;
	unsigned int group;
	const char *const *choices;      /* ARG_ENUM, NULL-terminated */
	unsigned long long min, max;     /* ARG_UINT */
};

#define ARGS_MAX 8

struct arg_val {
	bool set;
	const char *str;             /* the word as given */
	union {
		struct xdpctl_addr addr; /* ARG_ADDR */
		__u8 mac[6];             /* ARG_MAC */
		unsigned long long u;    /* ARG_UINT */
		int choice;              /* ARG_ENUM: index into choices */
		__u32 ifindex;           /* ARG_DEVICE */
	};
};

struct args {
	struct arg_val v[ARGS_MAX];
};

struct ctx;

/* A command (leaf: run) or a group of commands (sub). */
struct cmd {
	const char *name;
	const char *alias;                  /* "show" for "list", ... */
	int (*run)(struct ctx *c, struct args *a);
	const struct cmd *sub;              /* NULL-terminated by name */
	const char *summary;                /* one line */
	const struct arg_spec *args;        /* terminated by an all-zero entry */
	const char *details;                /* more help, may be NULL */
	unsigned int flags;                 /* CMD_* */
};
#define CMD_PRIV  (1u << 0) /* needs CAP_BPF and CAP_NET_ADMIN */

struct ctx {
	bool json, pretty;
	int verbose;
	const char *netns;       /* -n NAME, NULL: this namespace */
	const char *pin_dir;     /* resolved: --pin-dir, $XDPCTL_PIN_DIR, default */
	const char *path;        /* command words for messages: "bypass add" */
	struct jw *jw;           /* JSON writer on stdout when json */
	struct xdpctl_dp *dp;    /* opened by open_state() */
};

/* Set by SIGINT/SIGTERM/SIGHUP for the long-running commands (trace, stats --watch). */
extern volatile sig_atomic_t stop_requested;
void install_stop_handler(void);
/* CLOCK_MONOTONIC in seconds. */
double mono_s(void);
/*
 * Read a ring buffer until a stop request, until done(st) or until
 * @deadline (mono_s() seconds, 0: none): poll(h, ms) waits at most 500 ms
 * at a time and never past the deadline; a wait cut short by a signal
 * (-EINTR) goes round again. 0, or the first other negative errno of poll.
 * A write error on stdout ends it too (stdout_result() tells).
 */
int poll_until(double deadline, int (*poll)(void *h, int ms), void *h,
	       bool (*done)(const void *st), const void *st);
/* After a streamed output: 0, also when the pipe's reader went away; else fail(). */
int stdout_result(struct ctx *c);

/* Errors: one line, "Error: ..." on stderr or {"error": ...} on stdout; return 1. */
int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A usage error: the message plus a pointer to the command's help. */
int fail_usage(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A library error not handled by the caller: errmsg or strerror with context. */
int fail_dp(struct ctx *c, int err, const char *what);
void note(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Open the pinned state. create: make it when missing (attach only). On
 * failure prints the error (no state, no bpffs, not root, stale layout)
 * and returns 1; 0 when open. missing_ok: a missing state is no error,
 * *missing is set and c->dp stays NULL (list commands print nothing).
 */
int open_state(struct ctx *c, bool create, __u32 max_rules, bool missing_ok, bool *missing);

/* args.c: parsing, validation, help. */
int args_parse(struct ctx *c, const struct cmd *cmd, int argc, char **argv, struct args *a);
int args_check_devices(struct ctx *c, const struct cmd *cmd, struct args *a);
void help_cmd(FILE *f, const char *path, const struct cmd *cmd);
void help_group(FILE *f, const char *path, const struct cmd *group);
const char *arg_choice(const struct arg_spec *spec, const struct arg_val *v);

/* Formatting helpers shared by the tables. */
const char *fmt_addr(const struct xdpctl_addr *a, char *buf, size_t len);
const char *fmt_mac(const __u8 mac[6], char buf[18]);
int addr_cmp(const struct xdpctl_addr *a, const struct xdpctl_addr *b);

/*
 * Paired printers, as bpftool's show_*_plain/show_*_json: each kind of
 * object the commands list (a device, a rule, a counter, a rate, an event)
 * has one function that prints one gathered object in either form, its
 * table row (one may be left out of the table, never out of JSON) or its
 * JSON object, and a function for the table's header. show_list() prints
 * @n objects of @size bytes at @v: a JSON array, or the header and rows.
 */
struct show {
	void (*head)(void);
	void (*one)(struct ctx *c, const void *obj, bool json);
};
void show_list(struct ctx *c, bool json, const struct show *s, const void *v, size_t n,
	       size_t size);

/*
 * The rule tables (cmd_rules.c), also shown by 'stats --rules': a table, or
 * a JSON array as the next value. Open the state when c->dp is NULL.
 */
int bypass_table(struct ctx *c, bool json);
int pingpong_table(struct ctx *c, bool json);
/* Every bypass rule sorted by address (*n 0 without state); free *out. */
int bypass_rules_sorted(struct ctx *c, struct xdpctl_bypass_rule **out, size_t *n);
int pingpong_rules_sorted(struct ctx *c, struct xdpctl_pingpong_rule **out, size_t *n);

/* The command groups (one file each). */
extern const struct cmd cmd_attach, cmd_detach, cmd_status;
extern const struct cmd cmd_bypass, cmd_pingpong;
extern const struct cmd cmd_stats, cmd_flows;
extern const struct cmd cmd_trace, cmd_path, cmd_capture;
extern const struct cmd cmd_docker, cmd_doctor;

/* cmd_docker.c: the Docker client, errors reported with their fix (what: the container). */
struct xdpctl_docker;
int docker_open(struct ctx *c, struct xdpctl_docker **dk, const char *what);

#endif /* XDPCTL_CTL_H */
