#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# xdpctl on one Kubernetes node: the DaemonSet's container runs this. It
# installs xdpctl-cni into the host's CNI bin dir, keeps `xdpctl attach` on
# the node's uplink, and keeps a conflist that chains xdpctl-cni after the
# cluster network's bridge or ptp plugin (a copy of the cluster network's
# own conflist that sorts first, so the runtime picks it; the original is
# never edited). Every XDPCTL_INTERVAL seconds it repairs what changed.
# On SIGTERM it removes its conflist (new pods then skip xdpctl-cni) and
# leaves the plugin, the state and the running pods' fast path in place.
#
# Settings (environment):
#   XDPCTL_HOST_ROOT   the host's / inside the container (/host)
#   XDPCTL_UPLINK      the uplink (default: the device of the default route)
#   XDPCTL_ENGINE      auto, xdp or tc (xdpctl attach --engine; default auto)
#   XDPCTL_FAST_PATH   xdpctl attach --fast-path when set (default: xdpctl's)
#   XDPCTL_MAX_RULES   container table size when the state is created (4096)
#   XDPCTL_PIN_DIR     the pin dir (default /sys/fs/bpf/xdpctl)
#   XDPCTL_CNI_LOG_LEVEL  logLevel of the plugin entry (warn)
#   XDPCTL_INTERVAL    seconds between checks (30)
#   XDPCTL_CNI_BINARY  the plugin to install (/usr/local/bin/xdpctl-cni)
set -u

HOST=${XDPCTL_HOST_ROOT:-/host}
CNI_BIN_DIR=${CNI_BIN_DIR:-$HOST/opt/cni/bin}
CNI_CONF_DIR=${CNI_CONF_DIR:-$HOST/etc/cni/net.d}
ENGINE=${XDPCTL_ENGINE:-auto}
MAX_RULES=${XDPCTL_MAX_RULES:-4096}
PIN_DIR=${XDPCTL_PIN_DIR:-/sys/fs/bpf/xdpctl}
LOG_LEVEL=${XDPCTL_CNI_LOG_LEVEL:-warn}
INTERVAL=${XDPCTL_INTERVAL:-30}
PLUGIN=${XDPCTL_CNI_BINARY:-/usr/local/bin/xdpctl-cni}
OURS=00-xdpctl.conflist
export XDPCTL_PIN_DIR="$PIN_DIR"

log() { printf 'xdpctl-node: %s\n' "$*"; }

SLEEP_PID=
stop() {
	[ -n "$SLEEP_PID" ] && kill "$SLEEP_PID" 2>/dev/null
	rm -f "$CNI_CONF_DIR/$OURS" "$CNI_CONF_DIR/.$OURS.tmp"
	log "stopped: removed $CNI_CONF_DIR/$OURS; xdpctl stays attached, the plugin installed"
	exit 0
}
trap stop TERM INT

# bpffs, where the pinned state lives (shared with the host by the hostPath mount).
if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
	mount -t bpf bpf /sys/fs/bpf || { log "Error: cannot mount bpffs on /sys/fs/bpf"; exit 1; }
fi

install_plugin() {
	mkdir -p "$CNI_BIN_DIR" || return 1
	if ! cmp -s "$PLUGIN" "$CNI_BIN_DIR/xdpctl-cni"; then
		# a rename, so a runtime never executes a half-written file
		cp "$PLUGIN" "$CNI_BIN_DIR/.xdpctl-cni.new" && chmod 0755 "$CNI_BIN_DIR/.xdpctl-cni.new" &&
			mv -f "$CNI_BIN_DIR/.xdpctl-cni.new" "$CNI_BIN_DIR/xdpctl-cni" || return 1
		log "installed $CNI_BIN_DIR/xdpctl-cni"
	fi
}

uplink() {
	if [ -n "${XDPCTL_UPLINK:-}" ]; then
		echo "$XDPCTL_UPLINK"
		return
	fi
	ip -j route show default | jq -r 'map(select(.dev)) | .[0].dev // empty'
}

# Attached: our programs run on the uplink under this pin dir.
keep_attached() {
	dev=$(uplink)
	if [ -z "$dev" ]; then
		log "no uplink: no default route; set XDPCTL_UPLINK"
		return 1
	fi
	if xdpctl -j status "$dev" 2>/dev/null |
		jq -e '.[0] | .orphan == false and .present and (.xdp_prog_id > 0 or .tc_prog_id > 0)' \
			>/dev/null 2>&1; then
		return 0
	fi
	if xdpctl attach "$dev" --engine "$ENGINE" --max-rules "$MAX_RULES" \
		${XDPCTL_FAST_PATH:+--fast-path "$XDPCTL_FAST_PATH"}; then
		log "attached to $dev"
		return 0
	fi
	return 1
}

# The cluster network's conflist: the first config file the runtime would
# read (lexical order, as libcni), other than ours.
primary() {
	for f in "$CNI_CONF_DIR"/*; do
		case ${f##*/} in
		"$OURS") ;;
		*.conflist | *.conf | *.json) [ -f "$f" ] && { echo "$f"; return; } ;;
		esac
	done
}

keep_conflist() {
	src=$(primary)
	if [ -z "$src" ]; then
		log "waiting for the cluster network's CNI config in $CNI_CONF_DIR"
		rm -f "$CNI_CONF_DIR/$OURS"
		return 1
	fi
	# A single-plugin .conf becomes a one-element list; then xdpctl-cni goes last.
	if ! jq --arg pin "$PIN_DIR" --arg lvl "$LOG_LEVEL" '
		(if has("plugins") then . else
		  {cniVersion, name, plugins: [del(.cniVersion, .name)]} end) as $l
		| if ($l.cniVersion | IN("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0") | not) then
			error("cniVersion \($l.cniVersion) is not one xdpctl-cni speaks")
		  elif ([$l.plugins[].type] | any(. == "bridge" or . == "ptp")) | not then
			error("no bridge or ptp plugin (\([$l.plugins[].type] | join(", "))): xdpctl-cni needs a veth per pod")
		  else $l | .plugins |= (map(select(.type != "xdpctl-cni"))
			+ [{type: "xdpctl-cni", pinDir: $pin, logLevel: $lvl}])
		  end' "$src" >"$CNI_CONF_DIR/.$OURS.tmp" 2>"$CNI_CONF_DIR/.$OURS.err"; then
		log "not chaining onto ${src##*/}: $(sed 's/^jq: error (at [^)]*): //' "$CNI_CONF_DIR/.$OURS.err")"
		rm -f "$CNI_CONF_DIR/$OURS" "$CNI_CONF_DIR/.$OURS.tmp" "$CNI_CONF_DIR/.$OURS.err"
		return 1
	fi
	rm -f "$CNI_CONF_DIR/.$OURS.err"
	if cmp -s "$CNI_CONF_DIR/.$OURS.tmp" "$CNI_CONF_DIR/$OURS"; then
		rm -f "$CNI_CONF_DIR/.$OURS.tmp"
		return 0
	fi
	mv -f "$CNI_CONF_DIR/.$OURS.tmp" "$CNI_CONF_DIR/$OURS"
	log "wrote $CNI_CONF_DIR/$OURS: ${src##*/} with xdpctl-cni chained last"
}

install_plugin || { log "Error: cannot install the plugin into $CNI_BIN_DIR"; exit 1; }
while :; do
	# The conflist only while xdpctl is attached: else ADD would fail (code 11).
	if keep_attached; then
		keep_conflist
	else
		rm -f "$CNI_CONF_DIR/$OURS"
	fi
	sleep "$INTERVAL" &
	SLEEP_PID=$!
	wait "$SLEEP_PID" || true
done
