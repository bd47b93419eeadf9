/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Map definitions shared by every program object. All are pinned by name
 * (LIBBPF_PIN_BY_NAME) under the pin root chosen by user space, so the XDP
 * and tc objects and every xdpctl call see one state. Names, key and value
 * types come from abi.h; user space may resize the rule maps before load.
 */
#ifndef XDPCTL_MAPS_H
#define XDPCTL_MAPS_H

#include "compat.h"

/*
 * The container table: one shared value per rule (config and counters in
 * one 64-byte line), not preallocated (abi.h, struct xdpctl_bypass).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XDPCTL_MAX_RULES_DEFAULT);
	__type(key, struct xdpctl_addr);
	__type(value, struct xdpctl_bypass);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpctl_bypass SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, XDPCTL_MAX_PINGPONG);
	__type(key, struct xdpctl_addr);
	__type(value, struct xdpctl_pingpong);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpctl_pingpong SEC(".maps");

/* Redirect targets of the XDP engine: key and value are the same ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XDPCTL_MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpctl_devmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPCTL_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct xdpctl_iface);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpctl_ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPCTL_STATS_ENTRIES);
	__type(key, __u32);
	__type(value, struct xdpctl_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpctl_stats SEC(".maps");

/* Mmapable: user space bumps its ifaces_gen with an atomic add (abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpctl_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpctl_config SEC(".maps");

/* One ring buffer per trace reader, at its lease slot (user space fills it). */
struct xdpctl_event_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XDPCTL_EVENTS_BYTES);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XDPCTL_LEASE_SLOTS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct xdpctl_event_ring); /* last: a flexible array */
} xdpctl_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XDPCTL_CAPTURE_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpctl_capture SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpctl_capstat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpctl_capstat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPCTL_SIZES_ENTRIES);
	__type(key, __u32);
	__type(value, struct xdpctl_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpctl_sizes SEC(".maps");

/* The ABI version of the state (user space writes it once, at creation). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdpctl_abi SEC(".maps");

#endif /* XDPCTL_MAPS_H */
