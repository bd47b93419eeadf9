#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The DaemonSet's node agent (deploy/kubernetes/xdpctl-node.sh) on a node
# namespace, with the host's / played by a directory of this test: it
# installs the plugin, attaches the uplink of the default route, chains
# xdpctl-cni onto the cluster network's conflist (a copy that sorts first),
# re-attaches after a detach, follows a change of the cluster's conflist,
# refuses a network without veths, and on SIGTERM removes its conflist.
source "$(dirname "$0")/lib.sh"
need_root
need_cni_plugins

NODE_SH=$(dirname "$0")/../../deploy/kubernetes/xdpctl-node.sh
HOST=$TMPD/host
CONF=$HOST/etc/cni/net.d
AGENT_PID=

node_up || { echo "FAIL: node setup"; exit 1; }
ip -n "$N" route add default via 198.18.0.2
mkdir -p "$CONF" "$HOST/opt/cni/bin"
# The cluster network's own conflist (what kubenet-style bridge networking writes).
bridge_conf | jq -c '{cniVersion, name, plugins: [del(.cniVersion, .name),
	{type: "portmap", capabilities: {portMappings: true}}]}' >"$CONF/10-bridge.conflist"

stop_agent() { [[ -n $AGENT_PID ]] && kill "$AGENT_PID" 2>/dev/null; }
CLEANUP_EXTRA+=(stop_agent)
nsenter --net="/run/netns/$N" env PATH="$(dirname "$XDPCTL"):$PATH" XDPCTL_HOST_ROOT="$HOST" \
	XDPCTL_PIN_DIR="$PIN" XDPCTL_CNI_BINARY="$CNI_PLUGIN" XDPCTL_INTERVAL=0.2 \
	XDPCTL_ENGINE=tc sh "$NODE_SH" >"$TMPD/agent.log" 2>&1 &
AGENT_PID=$!

attached() {
	"$XDPCTL" -n "$N" -j status "${P}up" 2>/dev/null | jq -e '.[0].tc_prog_id > 0' >/dev/null 2>&1
}
chained() {
	jq -e '[.plugins[].type] == ["bridge", "portmap", "xdpctl-cni"]' "$CONF/00-xdpctl.conflist" \
		>/dev/null 2>&1
}

check "the conflist chains xdpctl-cni last" wait_for 60 chained ||
	{ cat "$TMPD/agent.log"; finish; }
check "the plugin is installed" cmp -s "$CNI_PLUGIN" "$HOST/opt/cni/bin/xdpctl-cni"
check "the uplink of the default route is attached" attached
check "the copy keeps the network's name and version, with our settings" jqt --arg pin "$PIN" \
	--slurpfile o "$CONF/10-bridge.conflist" \
	'.name == $o[0].name and .cniVersion == $o[0].cniVersion and .plugins[0] == $o[0].plugins[0]
	 and .plugins[2] == {type: "xdpctl-cni", pinDir: $pin, logLevel: "warn"}' "$CONF/00-xdpctl.conflist"
check "the cluster's conflist is left as it was" jqt '.plugins | length == 2' "$CONF/10-bridge.conflist"

ok "detach the uplink" -n "$N" detach "${P}up"
check "the agent attaches it again" wait_for 60 attached

jq -c '.plugins[0].ipam.ranges[0][0].subnet = "198.19.250.0/24"' "$CONF/10-bridge.conflist" \
	>"$TMPD/c" && mv "$TMPD/c" "$CONF/10-bridge.conflist"
follows() { jq -e '.plugins[0].ipam.ranges[0][0].subnet == "198.19.250.0/24"' "$CONF/00-xdpctl.conflist" >/dev/null 2>&1; }
check "the copy follows a change of the cluster's conflist" wait_for 60 follows

jq -c '.plugins[0].type = "macvlan"' "$CONF/10-bridge.conflist" >"$TMPD/c" && mv "$TMPD/c" "$CONF/10-bridge.conflist"
gone() { [[ ! -e $CONF/00-xdpctl.conflist ]]; }
check "no chaining onto a network without veths" wait_for 60 gone
check "  and the agent says why" grep -q "needs a veth per pod" "$TMPD/agent.log"

jq -c '.plugins[0].type = "bridge"' "$CONF/10-bridge.conflist" >"$TMPD/c" && mv "$TMPD/c" "$CONF/10-bridge.conflist"
check "chained again" wait_for 60 chained
kill -TERM "$AGENT_PID"
ended() { ! kill -0 "$AGENT_PID" 2>/dev/null; }
check "SIGTERM ends the agent" wait_for 30 ended
check "  and removes its conflist" gone
check "  and leaves xdpctl attached" attached
check "  and the plugin installed" test -x "$HOST/opt/cni/bin/xdpctl-cni"
finish
