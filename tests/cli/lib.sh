# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# Shared by the tests/cli scripts: the xdpctl binary under test, a private pin
# dir and namespaces with a unique prefix, assertions that print only on
# failure, and teardown on every exit (trap).
#
# Topology of lab_up (all names carry $P; addresses from 198.18.0.0/15 and
# 2001:db8::/32 only):
#   ${P}cl: eth0 198.18.0.2/24 2001:db8:18::2/64 --- ${P}h: ${P}up 198.18.0.1/24
#   ${P}h: bridge ${P}br 198.19.0.1/24 2001:db8:19::1/64, forwarding on
#   ${P}c1: eth0 198.19.0.2 2001:db8:19::2 --- ${P}h: ${P}v1 (in ${P}br)
#   ${P}c2: eth0 198.19.0.3 2001:db8:19::3 --- ${P}h: ${P}v2 (in ${P}br)
set -uo pipefail

XDPCTL=${XDPCTL:?set XDPCTL to the xdpctl binary}
P=${P:-xc$((RANDOM % 9000 + 1000))}
PIN=/sys/fs/bpf/xdpctl-test-$$
export XDPCTL_PIN_DIR=$PIN
H=${P}h
TMPD=$(mktemp -d "/tmp/xdpctl-cli-$P.XXXXXX")
CHECKS=0
FAILS=0
CLEANUP_EXTRA=()

skip() { echo "SKIP: $*"; exit 77; }
need_root() { [[ $(id -u) -eq 0 ]] || skip "needs root"; }

cleanup() {
	local ns f
	for f in "${CLEANUP_EXTRA[@]}"; do eval "$f" >/dev/null 2>&1; done
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns == "$P"* ]] && ip netns del "$ns" 2>/dev/null
	done
	if [[ -d $PIN ]]; then
		rm -rf "$PIN" 2>/dev/null
	fi
	rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- running xdpctl ----
# x ARGS...: run xdpctl, stdout in $TMPD/out, stderr in $TMPD/err, exit code in $RC.
x() {
	timeout 60 "$XDPCTL" "$@" >"$TMPD/out" 2>"$TMPD/err"
	RC=$?
	OUT=$(cat "$TMPD/out")
	ERR=$(cat "$TMPD/err")
}

fail_check() {
	FAILS=$((FAILS + 1))
	echo "FAIL: $1"
	shift
	[[ $# -gt 0 ]] && printf '  %s\n' "$@"
	echo "  last command exit code: ${RC:-?}"
	echo "  stdout: ${OUT:-}" | head -20
	echo "  stderr: ${ERR:-}" | head -20
}

# ok NAME ARGS...: xdpctl ARGS exits 0 with nothing on stderr.
ok() {
	local name=$1
	shift
	CHECKS=$((CHECKS + 1))
	x "$@"
	if [[ $RC -ne 0 || -n $ERR ]]; then
		fail_check "$name: xdpctl $*" "expected exit 0 and an empty stderr"
		return 1
	fi
	return 0
}

# bad NAME PATTERN ARGS...: xdpctl ARGS exits 1, stderr is one line "Error: ..." matching
# PATTERN (a grep -E regex) and stdout is empty.
bad() {
	local name=$1 pat=$2
	shift 2
	CHECKS=$((CHECKS + 1))
	x "$@"
	if [[ $RC -ne 1 ]]; then
		fail_check "$name: xdpctl $*" "expected exit 1"
		return 1
	fi
	if [[ $(printf '%s\n' "$ERR" | grep -c .) -ne 1 || $ERR != "Error: "* ]]; then
		fail_check "$name: xdpctl $*" "expected one stderr line starting 'Error: '"
		return 1
	fi
	if ! grep -Eq -- "$pat" <<<"$ERR"; then
		fail_check "$name: xdpctl $*" "stderr does not match: $pat"
		return 1
	fi
	if [[ -n $OUT ]]; then
		fail_check "$name: xdpctl $*" "expected an empty stdout"
		return 1
	fi
	return 0
}

# bad_json NAME PATTERN ARGS...: with -j the error is {"error": ...} on stdout, exit 1.
bad_json() {
	local name=$1 pat=$2
	shift 2
	CHECKS=$((CHECKS + 1))
	x -j "$@"
	if [[ $RC -ne 1 ]] || ! jq -e --arg p "$pat" '.error | test($p)' <<<"$OUT" >/dev/null 2>&1; then
		fail_check "$name: xdpctl -j $*" "expected exit 1 and {\"error\": /$pat/} on stdout"
		return 1
	fi
	return 0
}

# check NAME COMMAND...: a shell condition.
check() {
	local name=$1
	shift
	CHECKS=$((CHECKS + 1))
	if ! "$@"; then
		fail_check "$name" "condition failed: $*"
		return 1
	fi
	return 0
}

# jcheck NAME JQ-EXPR: the last stdout, parsed as JSON, satisfies EXPR.
jcheck() {
	local name=$1 expr=$2
	CHECKS=$((CHECKS + 1))
	if ! jq -e "$expr" <<<"$OUT" >/dev/null 2>&1; then
		fail_check "$name" "JSON does not satisfy: $expr"
		return 1
	fi
	return 0
}

finish() {
	if [[ $FAILS -ne 0 ]]; then
		echo "$FAILS of $CHECKS checks failed"
		exit 1
	fi
	echo "all $CHECKS checks passed"
	exit 0
}

# The state as the user sees it: rules and pinned files, to prove a failed command changed nothing.
snapshot() {
	{
		"$XDPCTL" -j bypass list 2>&1
		"$XDPCTL" -j pingpong list 2>&1
		"$XDPCTL" -n "$H" -j status 2>&1
		ls -la "$PIN" 2>&1 | awk '{print $1, $NF}'
	} >"$TMPD/snap.$1"
}
unchanged() {
	CHECKS=$((CHECKS + 1))
	snapshot after
	if ! cmp -s "$TMPD/snap.$1" "$TMPD/snap.after"; then
		fail_check "$2: the state changed" "$(diff "$TMPD/snap.$1" "$TMPD/snap.after" | head -20)"
		return 1
	fi
	return 0
}

# ---- the lab ----
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

lab_up() {
	local i
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	ip netns add "${P}cl" && ip netns add "$H" || return 1
	for i in cl h; do ip -n "${P}$i" link set lo up; done
	ip -n "${P}cl" link add eth0 type veth peer name "${P}up" netns "$H" || return 1
	ip -n "${P}cl" addr add 198.18.0.2/24 dev eth0
	ip -n "${P}cl" addr add 2001:db8:18::2/64 dev eth0 nodad
	ip -n "${P}cl" link set eth0 up
	ip -n "${P}cl" route add 198.19.0.0/24 via 198.18.0.1
	ip -n "${P}cl" -6 route add 2001:db8:19::/64 via 2001:db8:18::1
	# behave like a wire: no half-done checksums leave the client (docs/design.md, Traps)
	nsx "${P}cl" ethtool -K eth0 tx off >/dev/null 2>&1
	ip -n "$H" addr add 198.18.0.1/24 dev "${P}up"
	ip -n "$H" addr add 2001:db8:18::1/64 dev "${P}up" nodad
	ip -n "$H" link set "${P}up" up
	ip -n "$H" link add "${P}br" type bridge || return 1
	ip -n "$H" addr add 198.19.0.1/24 dev "${P}br"
	ip -n "$H" addr add 2001:db8:19::1/64 dev "${P}br" nodad
	ip -n "$H" link set "${P}br" up
	nsx "$H" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	for i in 1 2; do
		ip netns add "${P}c$i" || return 1
		ip -n "${P}c$i" link set lo up
		ip -n "${P}c$i" link add eth0 type veth peer name "${P}v$i" netns "$H" || return 1
		ip -n "${P}c$i" addr add "198.19.0.$((i + 1))/24" dev eth0
		ip -n "${P}c$i" addr add "2001:db8:19::$((i + 1))/64" dev eth0 nodad
		ip -n "${P}c$i" link set eth0 up
		ip -n "${P}c$i" route add default via 198.19.0.1
		ip -n "${P}c$i" -6 route add default via 2001:db8:19::1
		nsx "${P}c$i" ethtool -K eth0 tx off >/dev/null 2>&1
		ip -n "$H" link set "${P}v$i" master "${P}br"
		ip -n "$H" link set "${P}v$i" up
	done
	# the original path must work before anything is attached
	nsx "${P}cl" ping -c1 -W2 198.19.0.2 >/dev/null 2>&1 || { echo "lab: no ping 198.19.0.2"; return 1; }
	return 0
}

# A process that lives in container namespace $1 (for --container PID); prints its pid.
ns_sleeper() {
	ip netns exec "$1" sleep 300 </dev/null >/dev/null 2>&1 &
	local pid=$!
	CLEANUP_EXTRA+=("kill $pid")
	echo "$pid"
}
