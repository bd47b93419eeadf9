# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# Shared by the tests/cni scripts, on top of tests/cli/lib.sh (assertions,
# pin dir, prefix, teardown, and tests/lib's checks and lab pieces): a node
# namespace that plays a Kubernetes node (uplink to a client namespace), and
# running xdpctl-cni as a CNI runtime would, inside the node's netns.
#
# Topology of node_up (names carry $P; addresses from 198.18.0.0/15 only):
#   ${P}cl: eth0 198.18.0.2/24 --- ${P}n: ${P}up 198.18.0.1/24, forwarding on
#   pods (made by the bridge plugin) on bridge ${P}br, 198.19.$NET3.0/24
P=${P:-cn$((RANDOM % 9000 + 1000))}
source "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

CNI_PLUGIN=${XDPCTL_CNI:?set XDPCTL_CNI to the xdpctl-cni binary}
CNI_BIN=${CNI_BIN:-/usr/lib/cni}
N=${P}n
NET3=$((RANDOM % 200 + 20))
POD_NET=198.19.$NET3.0/24

need_cni_plugins() {
	local p
	for p in bridge host-local portmap; do
		[[ -x $CNI_BIN/$p ]] || skip "no $CNI_BIN/$p: install Debian's containernetworking-plugins (scripts/install-deps.sh)"
	done
	command -v jq >/dev/null || skip "no jq"
}

node_up() {
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	lab_uplink "${P}cl" "$N" "${P}up" || return 1
	ip -n "${P}cl" route add "$POD_NET" via 198.18.0.1
	sysctl_set "$N" net.ipv4.ip_forward 1
	# A node's firewall, as kube-proxy's KUBE-FORWARD has it: it also makes
	# conntrack track this netns, which a conntrack-following fast path reads.
	in_ns "$N" iptables -w 5 -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
}

# The network configuration of the bridge plugin (host-local IPAM, state in $TMPD).
bridge_conf() {
	jq -nc --arg net "${P}net" --arg br "${P}br" --arg sub "$POD_NET" --arg dir "$TMPD/ipam" '
	  {cniVersion: "1.0.0", name: $net, type: "bridge", bridge: $br, isGateway: true,
	   ipMasq: false,
	   ipam: {type: "host-local", dataDir: $dir, ranges: [[{subnet: $sub}]],
	          routes: [{dst: "0.0.0.0/0"}]}}'
}

# cni_exec PLUGIN COMMAND CONF_FILE [VAR=VALUE...]: run PLUGIN in the node's netns
# as a runtime does (nsenter keeps bpffs, see docs/design.md, Traps); stdout in $OUT,
# stderr in $ERR, exit code in $RC. Extra VAR=VALUE override or (VAR=) unset.
cni_exec() {
	local plugin=$1 cmd=$2 conf=$3
	shift 3
	local -a envs=(CNI_COMMAND="$cmd" CNI_CONTAINERID="${CID:-${P}pod}"
		       CNI_NETNS="${NETNS:-/run/netns/${P}p1}" CNI_IFNAME=eth0 CNI_PATH="$CNI_BIN")
	envs+=("$@")
	timeout 30 nsenter --net="/run/netns/$N" env -u CNI_COMMAND "${envs[@]}" "$plugin" \
		<"$conf" >"$TMPD/out" 2>"$TMPD/err"
	RC=$?
	OUT=$(cat "$TMPD/out")
	ERR=$(cat "$TMPD/err")
}

# cni_err NAME CODE CMD CONF [VAR=VALUE...]: xdpctl-cni fails with the spec's
# error object {cniVersion, code: CODE, msg} on stdout and exit 1 (86 is a
# sanitizer report).
cni_err() {
	local name=$1 code=$2 cmd=$3 conf=$4
	shift 4
	CHECKS=$((CHECKS + 1))
	cni_exec "$CNI_PLUGIN" "$cmd" "$conf" "$@"
	if [[ $RC -ne 1 ]]; then
		fail_check "$name" "expected exit 1"
		return 1
	fi
	if ! jq -e --argjson c "$code" \
		'(.cniVersion | type == "string") and .code == $c and (.msg | type == "string" and length > 0)' \
		<<<"$OUT" >/dev/null 2>&1; then
		fail_check "$name" "expected the spec's error object with code $code on stdout"
		return 1
	fi
	return 0
}

# cni_ok NAME CMD CONF [VAR=VALUE...]: xdpctl-cni exits 0.
cni_ok() {
	local name=$1 cmd=$2 conf=$3
	shift 3
	CHECKS=$((CHECKS + 1))
	cni_exec "$CNI_PLUGIN" "$cmd" "$conf" "$@"
	if [[ $RC -ne 0 ]]; then
		fail_check "$name" "expected exit 0"
		return 1
	fi
	return 0
}

# The plugin's network configuration: our entry with prevResult from FILE ("" for none).
# xdpctl_conf PREV_FILE [JQ-FILTER applied to the result]
xdpctl_conf() {
	local prev=$1 filter=${2:-.}
	if [[ -n $prev ]]; then
		jq -c --arg pin "$PIN" --arg net "${P}net" --slurpfile r "$prev" \
			'{cniVersion: "1.0.0", name: $net, type: "xdpctl-cni", pinDir: $pin,
			  logLevel: "info", prevResult: $r[0]} | '"$filter" <<<'{}'
	else
		jq -c --arg pin "$PIN" --arg net "${P}net" \
			'{cniVersion: "1.0.0", name: $net, type: "xdpctl-cni", pinDir: $pin,
			  logLevel: "info"} | '"$filter" <<<'{}'
	fi
}

# jqt ARGS...: jq -e as a condition (for check), quietly.
jqt() { jq -e "$@" >/dev/null 2>&1; }

# The table as the user sees it (entries and devices, no counters).
table() {
	"$XDPCTL" -n "$N" -j bypass list | jq -c 'map({addr, dev, ifindex, mac, stale}) | sort_by(.addr)'
}
devices() {
	"$XDPCTL" -n "$N" -j status | jq -c 'map({dev, role, present, rules, tc_prog_id}) | sort_by(.dev)'
}
