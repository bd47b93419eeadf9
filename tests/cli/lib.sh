# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# Shared by the tests/cli scripts: the xdpctl binary under test, a private pin
# dir and namespaces with a unique prefix, xdpctl's assertions, and the lab.
# The checks, verdict and cleanup trap are tests/lib/common.sh's, the lab's
# pieces tests/lib/lab.sh's.
#
# Topology of lab_up (all names carry $P; addresses from 198.18.0.0/15 and
# 2001:db8::/32 only):
#   ${P}cl: eth0 198.18.0.2/24 2001:db8:18::2/64 --- ${P}h: ${P}up 198.18.0.1/24
#   ${P}h: bridge ${P}br 198.19.0.1/24 2001:db8:19::1/64, forwarding on
#   ${P}c1: eth0 198.19.0.2 2001:db8:19::2 --- ${P}h: ${P}v1 (in ${P}br)
#   ${P}c2: eth0 198.19.0.3 2001:db8:19::3 --- ${P}h: ${P}v2 (in ${P}br)
XDPCTL=${XDPCTL:?set XDPCTL to the xdpctl binary}
P=${P:-xc$((RANDOM % 9000 + 1000))}
PIN=/sys/fs/bpf/xdpctl-test-$$
export XDPCTL_PIN_DIR=$PIN
H=${P}h
# shellcheck disable=SC2034  # read by tests/lib/common.sh
TEST_KIND=cli
# shellcheck disable=SC2034
FAIL_SHOW_LAST=1
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
cleanup_lab() { lab_del_all; }

# ---- running xdpctl ----
# x ARGS...: run xdpctl, stdout in $TMPD/out, stderr in $TMPD/err, exit code in $RC.
x() {
	timeout 60 "$XDPCTL" "$@" >"$TMPD/out" 2>"$TMPD/err"
	RC=$?
	OUT=$(cat "$TMPD/out")
	ERR=$(cat "$TMPD/err")
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
lab_up() {
	local i
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	lab_uplink "${P}cl" "$H" "${P}up" 6 || return 1
	ip -n "${P}cl" route add 198.19.0.0/24 via 198.18.0.1
	ip -n "${P}cl" -6 route add 2001:db8:19::/64 via 2001:db8:18::1
	lab_bridge "$H" "${P}br" || return 1
	for i in 1 2; do
		lab_container "$i" "$H" "${P}v$i" "${P}br" || return 1
	done
	# the original path must work before anything is attached
	in_ns "${P}cl" ping -c1 -W2 198.19.0.2 >/dev/null 2>&1 || { echo "lab: no ping 198.19.0.2"; return 1; }
	return 0
}

# A process that lives in container namespace $1 (for --container PID); prints its pid.
ns_sleeper() {
	nsenter --net="/run/netns/$1" -- sleep 300 </dev/null >/dev/null 2>&1 &
	local pid=$!
	CLEANUP_EXTRA+=("kill $pid")
	echo "$pid"
}
