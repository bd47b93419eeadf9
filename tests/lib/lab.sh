# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# The tests' netns lab builder: scripts/lib/lab_common.sh's primitives (the
# ones scripts/lab.sh builds its labs with: namespaces, links, in_ns,
# sysctls, the address plan, bounded waits) and the pieces the tests'
# topologies are made of. tests/reliability and tests/e2e take the whole
# lab of scripts/lab.sh; tests/cli and tests/cni build theirs from these
# pieces. Every name carries the run's prefix $P (set before sourcing);
# addresses from 198.18.0.0/15 and 2001:db8::/32 only.
# shellcheck disable=SC2034  # lab_common.sh's
LAB_PREFIX=${P:?set P (the prefix of the run) before sourcing tests/lib/lab.sh}
# shellcheck source=../../scripts/lib/lab_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/lab_common.sh"

# lab_uplink CLIENT_NS HOST_NS HOST_DEV [V6]: a client namespace wired to
# HOST_DEV of the host namespace (both made here, lo up): client eth0
# 198.18.0.2/24, HOST_DEV 198.18.0.1/24, with V6=6 also 2001:db8:18::2/64
# and ::1/64. The client sends whole checksums, as a wire would
# (docs/design.md, Traps). Routes are the caller's.
lab_uplink() {
	local cl=$1 h=$2 dev=$3 v6=${4:-}
	ns_create "$cl"
	ns_create "$h"
	ip -n "$cl" link add eth0 type veth peer name "$dev" netns "$h" || return 1
	ip -n "$cl" addr add "$LAB_CLIENT_IP4/24" dev eth0
	[[ $v6 == 6 ]] && ip -n "$cl" addr add "$LAB_CLIENT_IP6/64" dev eth0 nodad
	ip -n "$cl" link set eth0 up
	tx_csum_off "$cl" eth0 2>/dev/null
	ip -n "$h" addr add "$LAB_UPLINK_IP4/24" dev "$dev"
	[[ $v6 == 6 ]] && ip -n "$h" addr add "$LAB_UPLINK_IP6/64" dev "$dev" nodad
	ip -n "$h" link set "$dev" up
}

# lab_bridge NS BRIDGE: a bridge with the containers' gateway addresses
# (198.19.0.1/24, 2001:db8:19::1/64), and forwarding on in NS.
lab_bridge() {
	local ns=$1 br=$2
	ip -n "$ns" link add "$br" type bridge || return 1
	ip -n "$ns" addr add "$LAB_GW4/24" dev "$br"
	ip -n "$ns" addr add "$LAB_GW6/64" dev "$br" nodad
	ip -n "$ns" link set "$br" up
	sysctl_set "$ns" net.ipv4.ip_forward 1
	sysctl_set "$ns" net.ipv6.conf.all.forwarding 1
}

# lab_container I HOST_NS VETH BRIDGE: container namespace ${P}cI (made
# here) with eth0 at c_ip4 I / c_ip6 I (198.19.0.I+1), its peer VETH in
# HOST_NS enslaved to BRIDGE, default routes via the bridge.
lab_container() {
	local i=$1 h=$2 veth=$3 br=$4 ns="${P}c$1"
	ns_create "$ns"
	ip -n "$ns" link add eth0 type veth peer name "$veth" netns "$h" || return 1
	ip -n "$ns" addr add "$(c_ip4 "$i")/24" dev eth0
	ip -n "$ns" addr add "$(c_ip6 "$i")/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "$LAB_GW4"
	ip -n "$ns" -6 route add default via "$LAB_GW6"
	tx_csum_off "$ns" eth0 2>/dev/null
	ip -n "$h" link set "$veth" master "$br"
	ip -n "$h" link set "$veth" up
}

# Every namespace of this run (prefix $P), with what runs in it.
lab_del_all() {
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns == "$P"* ]] && ns_delete "$ns" 2>/dev/null
	done
	return 0
}
