// SPDX-License-Identifier: GPL-2.0-only
/* The C netns lab of the tests: see lab.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <linux/magic.h>

#include "lab.h"

#define MAX_NS  16
#define MAX_BG  16
#define MAX_HOOKS 16

int lab_failures;
static const char *test_name = "?";
static char pin_dir[128];
static char netns[MAX_NS][64];
static int n_netns;
static pid_t bg[MAX_BG];
static int orig_netns = -1;
static char hooks[MAX_HOOKS][512];
static int n_hooks;

bool lab_check(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	lab_failures++;
	fprintf(stderr, "FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return false;
}

const char *lab_name(const char *suffix)
{
	static char ring[64][32];
	static int i;
	char *b = ring[i++ % 64];

	snprintf(b, 32, "dp%d%s", (int)getpid(), suffix);
	return b;
}

const char *lab_pin_dir(void)
{
	return pin_dir;
}

static void cleanup(void)
{
	char cmd[600];
	int i;

	for (i = 0; i < MAX_BG; i++) {
		if (bg[i] > 0) {
			kill(bg[i], SIGKILL);
			waitpid(bg[i], NULL, 0);
			bg[i] = 0;
		}
	}
	if (orig_netns >= 0)
		setns(orig_netns, CLONE_NEWNET);
	for (i = n_hooks - 1; i >= 0; i--) {
		snprintf(cmd, sizeof(cmd), "( %.200s ) >/dev/null 2>&1", hooks[i]);
		/* best effort: the hook may find nothing left to do */
		if (system(cmd) < 0)
			fprintf(stderr, "cleanup: %s: %s\n", hooks[i], strerror(errno));
	}
	n_hooks = 0;
	for (i = n_netns - 1; i >= 0; i--) {
		snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", netns[i]);
		if (system(cmd)) {
			/* a busy netns: nothing of ours should hold it; report it */
			fprintf(stderr, "cleanup: %s\n", cmd);
		}
	}
	n_netns = 0;
	/* files of this run: /tmp/dp<pid>-* */
	snprintf(cmd, sizeof(cmd), "rm -f /tmp/dp%d-*", (int)getpid());
	if (system(cmd))
		fprintf(stderr, "cleanup: %s failed\n", cmd);
	if (pin_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", pin_dir);
		if (system(cmd))
			fprintf(stderr, "cleanup: %s failed\n", cmd);
	}
}

static void on_signal(int sig)
{
	fprintf(stderr, "FAIL %s: signal %d, cleaning up\n", test_name, sig);
	cleanup();
	_exit(1);
}

static int print_dp(enum xdpctl_log_level level, const char *fmt, va_list ap)
{
	if (level <= XDPCTL_LOG_WARN || getenv("DP_TEST_VERBOSE")) {
		fputs("  dataplane: ", stderr);
		vfprintf(stderr, fmt, ap);
	}
	return 0;
}

void lab_init(const char *name)
{
	struct statfs st;

	test_name = name;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("SKIP %s: needs root\n", name);
		exit(77);
	}
	if (statfs("/sys/fs/bpf", &st) || (unsigned long)st.f_type != BPF_FS_MAGIC) {
		if (system("mount -t bpf bpf /sys/fs/bpf") ||
		    statfs("/sys/fs/bpf", &st) || (unsigned long)st.f_type != BPF_FS_MAGIC) {
			printf("SKIP %s: no bpffs at /sys/fs/bpf\n", name);
			exit(77);
		}
	}
	if (system("command -v ip >/dev/null && command -v tc >/dev/null")) {
		printf("SKIP %s: needs ip and tc (iproute2)\n", name);
		exit(77);
	}
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/xdpctl-test-dp%d", (int)getpid());
	orig_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGALRM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, on_signal);
	alarm(280); /* below meson's timeout: clean up ourselves */
	atexit(cleanup);
	xdpctl_set_print(print_dp);
}

const char *lab_netns_add(const char *suffix)
{
	const char *ns = lab_name(suffix);

	if (n_netns == MAX_NS || sh("ip netns add %s && ip -n %s link set lo up", ns, ns)) {
		fprintf(stderr, "FAIL %s: cannot create netns %s\n", test_name, ns);
		exit(1);
	}
	snprintf(netns[n_netns++], sizeof(netns[0]), "%s", ns);
	return ns;
}

void lab_veth(const char *nsa, const char *a, const char *maca, const char *nsb,
	      const char *b, const char *macb)
{
	if (sh("ip -n %s link add %s address %s type veth peer name %s address %s netns %s && "
	       "ip -n %s link set %s up && ip -n %s link set %s up",
	       nsa, a, maca, b, macb, nsb, nsa, a, nsb, b)) {
		fprintf(stderr, "FAIL %s: cannot create veth %s/%s\n", test_name, a, b);
		exit(1);
	}
}

void lab_on_cleanup(const char *fmt, ...)
{
	va_list ap;

	if (n_hooks == MAX_HOOKS)
		return;
	va_start(ap, fmt);
	vsnprintf(hooks[n_hooks++], sizeof(hooks[0]), fmt, ap);
	va_end(ap);
}

void lab_enter(const char *ns)
{
	if (xdpctl_netns_enter(ns)) {
		fprintf(stderr, "FAIL %s: entering %s: %s\n", test_name, ns,
			xdpctl_dp__errmsg(NULL));
		exit(1);
	}
}

void lab_leave(void)
{
	if (setns(orig_netns, CLONE_NEWNET)) {
		perror("setns back");
		exit(1);
	}
}

int lab_finish(void)
{
	cleanup();
	if (lab_failures) {
		printf("FAIL %s: %d check(s) failed\n", test_name, lab_failures);
		return 1;
	}
	printf("PASS %s\n", test_name);
	return 0;
}

static int vrun(char *out, size_t len, const char *fmt, va_list ap)
{
	char cmd[2048], buf[4096];
	size_t n = 0, r;
	FILE *f;
	int st;

	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	f = popen(out ? cmd : (snprintf(buf, sizeof(buf), "( %s ) 2>&1", cmd), buf), "r");
	if (!f)
		return -1;
	if (out) {
		while (n + 1 < len && (r = fread(out + n, 1, len - 1 - n, f)) > 0)
			n += r;
		out[n] = '\0';
		while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
			out[--n] = '\0';
		/* drain the rest */
		while (fread(buf, 1, sizeof(buf), f) > 0)
			;
		st = pclose(f);
	} else {
		char *all = NULL;
		size_t cap = 0;

		while ((r = fread(buf, 1, sizeof(buf), f)) > 0) {
			char *p = realloc(all, cap + r + 1);

			if (!p)
				break;
			all = p;
			memcpy(all + cap, buf, r);
			cap += r;
			all[cap] = '\0';
		}
		st = pclose(f);
		if (st && all)
			fprintf(stderr, "  $ %s\n%s", cmd, all);
		else if (st)
			fprintf(stderr, "  $ %s (exit %d)\n", cmd, WEXITSTATUS(st));
		free(all);
	}
	if (st == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int sh(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vrun(NULL, 0, fmt, ap);
	va_end(ap);
	return r;
}

int sh_q(const char *fmt, ...)
{
	char out[256];
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vrun(out, sizeof(out), fmt, ap);
	va_end(ap);
	return r;
}

int sh_out(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vrun(buf, len, fmt, ap);
	va_end(ap);
	return r ? -1 : 0;
}

long long sh_num(const char *fmt, ...)
{
	char out[256], *end;
	long long v;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vrun(out, sizeof(out), fmt, ap);
	va_end(ap);
	if (r || !out[0])
		return -1;
	v = strtoll(out, &end, 10);
	return *end ? -1 : v;
}

pid_t sh_bg(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	pid_t pid;
	int i;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	for (i = 0; i < MAX_BG && bg[i]; i++)
		;
	if (i == MAX_BG)
		return -1;
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		bg[i] = pid;
	return pid;
}

static void forget(pid_t pid)
{
	int i;

	for (i = 0; i < MAX_BG; i++)
		if (bg[i] == pid)
			bg[i] = 0;
}

int sh_wait(pid_t pid, int timeout_s)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int st, i;

	for (i = 0; i < timeout_s * 20; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid) {
			forget(pid);
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		if (r < 0)
			return -1;
		nanosleep(&ts, NULL);
	}
	return -1;
}

void sh_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	forget(pid);
}

struct xdpctl_addr lab_addr(const char *s)
{
	struct xdpctl_addr a;

	if (xdpctl_addr_parse(s, &a)) {
		fprintf(stderr, "FAIL %s: bad address in the test: %s\n", test_name, s);
		exit(1);
	}
	return a;
}

struct xdpctl_dp *lab_open(__u32 max_rules)
{
	XDPCTL_OPTS(xdpctl_dp_opts, o, .pin_dir = pin_dir, .create = true,
		    .max_rules = max_rules);
	struct xdpctl_dp *dp;

	if (xdpctl_dp__open(&o, &dp)) {
		fprintf(stderr, "FAIL %s: open %s: %s\n", test_name, pin_dir,
			xdpctl_dp__errmsg(NULL));
		exit(1);
	}
	return dp;
}

unsigned long long lab_stat(struct xdpctl_dp *dp, unsigned int hook, unsigned int reason)
{
	struct xdpctl_counter c[XDPCTL_HOOK_MAX][XDPCTL_REASON_MAX];

	if (xdpctl_dp__stats(dp, c)) {
		CHECK(0, "stats: %s", xdpctl_dp__errmsg(dp));
		return 0;
	}
	return c[hook][reason].packets;
}

unsigned int lab_xdp_id(const char *ns, const char *dev)
{
	char out[64];

	if (sh_out(out, sizeof(out),
		   "ip -n %s -d link show dev %s | sed -n 's/.*prog\\/xdp id \\([0-9]*\\).*/\\1/p'",
		   ns, dev))
		return 0;
	return (unsigned int)strtoul(out, NULL, 10);
}

unsigned int lab_tc_id(const char *ns, const char *dev, const char *name)
{
	char out[64];

	if (sh_out(out, sizeof(out),
		   "tc -n %s filter show dev %s ingress | sed -n 's/.* id \\([0-9]*\\) name %s .*/\\1/p' | head -1",
		   ns, dev, name))
		return 0;
	return (unsigned int)strtoul(out, NULL, 10);
}

long long lab_snmp(const char *ns, const char *proto, const char *field)
{
	if (field)
		return sh_num("nsenter --net=/run/netns/%s -- awk '$1 == \"%s:\" { if (!h) { for (i = 1; i <= NF; i++) n[$i] = i; h = 1 } else print $n[\"%s\"] }' /proc/net/snmp",
			      ns, proto, field);
	return sh_num("nsenter --net=/run/netns/%s -- awk '$1 == \"%s\" { print $2 }' /proc/net/snmp6", ns, proto);
}

int lab_ping(const char *ns, const char *opts, const char *dst, int count)
{
	return (int)sh_num("nsenter --net=/run/netns/%s -- ping %s -c %d -i 0.2 -W 1 -q %s | sed -n 's/.* \\([0-9]*\\) received.*/\\1/p'",
			   ns, opts ? opts : "", count, dst);
}

static char cap_file[MAX_BG][96];

pid_t lab_capture_start(const char *ns, const char *dev, const char *filter)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	static int seq;
	char file[96];
	struct stat st;
	pid_t pid;
	int i;

	snprintf(file, sizeof(file), "/tmp/dp%d-cap%d.pcap", (int)getpid(), seq++);
	pid = sh_bg("exec nsenter --net=/run/netns/%s -- tcpdump -Z root -U --immediate-mode -n -i %s -w %s '%s' 2>/dev/null",
		    ns, dev, file, filter);
	if (pid <= 0)
		return -1;
	for (i = 0; i < MAX_BG; i++)
		if (bg[i] == pid)
			memcpy(cap_file[i], file, sizeof(file));
	/* The savefile header is written once the capture is set up. */
	for (i = 0; i < 100; i++) {
		if (!stat(file, &st) && st.st_size >= 24) {
			nanosleep(&ts, NULL);
			return pid;
		}
		nanosleep(&ts, NULL);
	}
	sh_kill(pid);
	unlink(file);
	return -1;
}

long lab_capture_stop(pid_t pid)
{
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	char file[96] = "";
	long n;
	int i;

	if (pid <= 0)
		return -1;
	for (i = 0; i < MAX_BG; i++)
		if (bg[i] == pid)
			memcpy(file, cap_file[i], sizeof(file));
	nanosleep(&ts, NULL); /* the last packets of the flow reach the device */
	sh_kill(pid);
	if (!file[0])
		return -1;
	n = sh_num("tcpdump -n -r %s 2>/dev/null | wc -l", file);
	unlink(file);
	return n;
}

struct pp_find {
	struct xdpctl_addr a;
	unsigned long long n;
};

static int pp_find_cb(const struct xdpctl_pingpong_rule *r, void *ctx)
{
	struct pp_find *f = ctx;

	if (!memcmp(&r->addr, &f->a, sizeof(f->a)))
		f->n = r->packets;
	return 0;
}

unsigned long long lab_pp_packets(struct xdpctl_dp *dp, const char *addr)
{
	struct pp_find f = { lab_addr(addr), ~0ull };

	xdpctl_dp__pingpong_for_each(dp, pp_find_cb, &f);
	return f.n;
}
