// SPDX-License-Identifier: GPL-2.0-only
/*
 * Counters and the trace switch: the per-CPU stats map summed over the
 * possible CPUs, the names of reasons and hooks as users and JSON see them,
 * and whether a trace reader's lease is live.
 */
#include <stdlib.h>
#include <bpf/bpf.h>

#include "lease.h"

/* The names as users and JSON see them: abi.h's tables, nothing else. */
#define NAME_OF_REASON(id, name, words) [XDPCTL_R_##id] = name,
#define NAME_OF_HOOK(id, name, words) [XDPCTL_HOOK_##id] = name,
#define WORDS_OF_REASON(id, name, words) [XDPCTL_R_##id] = words,
static const char *const reason_names[XDPCTL_REASON_MAX] = { XDPCTL_REASONS(NAME_OF_REASON) };
static const char *const hook_names[XDPCTL_HOOK_MAX] = { XDPCTL_HOOKS(NAME_OF_HOOK) };
static const char *const reason_words[XDPCTL_REASON_MAX] = { XDPCTL_REASONS(WORDS_OF_REASON) };

const char *xdpctl_reason_name(unsigned int reason)
{
	return reason < XDPCTL_REASON_MAX ? reason_names[reason] : "unknown";
}

const char *xdpctl_reason_words(unsigned int reason)
{
	return reason < XDPCTL_REASON_MAX ? reason_words[reason] : "unknown reason";
}

const char *xdpctl_hook_name(unsigned int hook)
{
	return hook < XDPCTL_HOOK_MAX ? hook_names[hook] : "unknown";
}

const char *xdpctl_event_kind_name(unsigned int kind)
{
#define NAME_OF_EVENT(id, name, words) [XDPCTL_EV_##id] = name,
	static const char *const names[XDPCTL_EV_MAX] = { XDPCTL_EVENT_KINDS(NAME_OF_EVENT) };

	return kind < XDPCTL_EV_MAX ? names[kind] : "unknown";
}

int xdpctl_dp__stats(struct xdpctl_dp *dp,
		     struct xdpctl_counter out[XDPCTL_HOOK_MAX][XDPCTL_REASON_MAX])
{
	int fd = dp_map_fd(dp, DP_MAP_STATS);
	struct xdpctl_counter *vals;
	__u32 key, hook, reason;
	int c, err = 0;

	if (!dp || !out)
		return dp_ret(-EINVAL);
	vals = calloc(dp->ncpus, sizeof(*vals));
	if (!vals)
		return dp_err(dp, -ENOMEM, "out of memory");
	for (hook = 0; hook < XDPCTL_HOOK_MAX; hook++) {
		for (reason = 0; reason < XDPCTL_REASON_MAX; reason++) {
			struct xdpctl_counter *o = &out[hook][reason];

			key = XDPCTL_STATS_KEY(hook, reason);
			o->packets = o->bytes = 0;
			if (bpf_map_lookup_elem(fd, &key, vals)) {
				err = dp_err(dp, -errno, "reading %s key %u: %s", XDPCTL_MAP_STATS,
					     key, strerror(errno));
				goto out;
			}
			for (c = 0; c < dp->ncpus; c++) {
				o->packets += vals[c].packets;
				o->bytes += vals[c].bytes;
			}
		}
	}
out:
	free(vals);
	return dp_ret(err);
}

int xdpctl_dp__trace_enabled(struct xdpctl_dp *dp, bool *on)
{
	int readers = 0, err;

	if (!dp || !on)
		return dp_ret(-EINVAL);
	err = dp_lease_state(dp, DP_LEASE_TRACE, NULL, &readers);
	if (err)
		return err;
	*on = readers > 0;
	return 0;
}

int xdpctl_dp__readers(struct xdpctl_dp *dp, int *trace, int *capture)
{
	int err;

	if (!dp || !trace || !capture)
		return dp_ret(-EINVAL);
	err = dp_lease_state(dp, DP_LEASE_TRACE, NULL, trace);
	if (!err)
		err = dp_lease_state(dp, DP_LEASE_CAPTURE, NULL, capture);
	return err;
}
