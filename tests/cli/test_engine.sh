#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# How --engine auto (the default) picks per device: tc on a veth uplink; XDP
# that leaves every bypass hit to tc elsewhere (here a bridge, generic XDP; this kernel has no dummy); explicit
# engines are taken as given.
source "$(dirname "$0")/lib.sh"
need_root

ip netns add "$H" || { echo "FAIL: netns"; exit 1; }
ip -n "$H" link add "${P}d" type bridge &&
	ip -n "$H" link add "${P}up" type veth peer name "${P}pe" &&
	ip -n "$H" link set "${P}d" up && ip -n "$H" link set "${P}up" up &&
	ip -n "$H" link set "${P}pe" up || { echo "FAIL: devices"; exit 1; }

# A non-veth uplink: auto is XDP (generic on a bridge) that leaves bypass hits to tc.
ok "attach bridge" -n "$H" attach "${P}d" || finish
ok "status bridge" -j -n "$H" status "${P}d"
jcheck "auto on a bridge: engine auto" '.[0].engine == "auto"'
jcheck "auto on a bridge: our XDP program" '.[0].xdp_prog_id > 0'
jcheck "auto on a bridge: and the tc program" '.[0].tc_prog_id > 0'
check "auto on a bridge: ip shows XDP" bash -c "ip -n '$H' -d link show dev '${P}d' | grep -q 'prog/xdp'"
ok "detach bridge" -n "$H" detach "${P}d"
check "bridge: no XDP left" bash -c "! ip -n '$H' -d link show dev '${P}d' | grep -q 'prog/xdp'"

# A veth uplink: auto is tc.
ok "attach veth" -n "$H" attach "${P}up"
ok "status veth" -j -n "$H" status "${P}up"
jcheck "auto on a veth: engine tc" '.[0].engine == "tc"'
jcheck "auto on a veth: no XDP program" '.[0].xdp_prog_id == 0'
# Explicit xdp on the veth is honoured, and re-attach keeps the device attached.
ok "attach veth --engine xdp" -n "$H" attach "${P}up" --engine xdp
ok "status veth xdp" -j -n "$H" status "${P}up"
jcheck "--engine xdp on a veth: engine xdp" '.[0].engine == "xdp" and .[0].xdp_prog_id > 0'
ok "detach veth" -n "$H" detach "${P}up"
finish
