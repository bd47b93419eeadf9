# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# Shared by the reliability tests: the binaries under test, a lab of the
# run's own (scripts/lab.sh, netns mode, prefix r<4 digits>), a pin dir of
# the run's own, counted UDP flows. Checks that print only on failure and the
# cleanup that runs on every exit (trap) are tests/lib/common.sh's.
#
# Environment (meson sets the first ones):
#   XDPCTL REL_UDP REL_CHECK REL_CHURN TOP   binaries and the source tree
#   REL_LONG=1      the long mode: bigger counts (scripts/reliability-long.sh)
#   REL_KEEP=1      keep the lab after a failure, for a look (then: lab.sh down)
set -uo pipefail

XDPCTL=${XDPCTL:?set XDPCTL to the xdpctl binary}
REL_UDP=${REL_UDP:?set REL_UDP to rel-udp}
REL_CHECK=${REL_CHECK:-}
REL_CHURN=${REL_CHURN:-}
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
REL_LONG=${REL_LONG:-0}
export PATH="$PATH:/usr/sbin:/sbin"

P=${REL_PREFIX:-r$((RANDOM % 9000 + 1000))}
PIN=/sys/fs/bpf/xdpctl-test-$$
# shellcheck disable=SC2034  # read by tests/lib/common.sh
TEST_KIND=rel
# shellcheck disable=SC2034
TEST_VERBOSE=${REL_VERBOSE:-}
# shellcheck source=../lib/common.sh
source "$TOP/tests/lib/common.sh"
# shellcheck source=../lib/lab.sh
source "$TOP/tests/lib/lab.sh"
BG_PIDS=()
LAB_IS_UP=0
T_START=$(date +%s.%N)

log() { printf '[%6.1fs] %s\n' "$(awk -v a="$(date +%s.%N)" -v b="$T_START" 'BEGIN { print a - b }')" "$*"; }

# Is PID still a child of this shell? (A pid that ended may be reused by then.)
ours() { [[ $(awk '{ print $4 }' "/proc/$1/stat" 2>/dev/null) == "$$" ]]; }
# bg_done PID: it ended (waited for); forget it.
bg_done() {
	local i
	for i in "${!BG_PIDS[@]}"; do
		[[ ${BG_PIDS[i]} == "$1" ]] && unset 'BG_PIDS[i]'
	done
}
# The background processes first (TERM, up to 1 s, then KILL), before what else the
# cleanup stops.
bg_stop_all() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		ours "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${BG_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do ours "$pid" || break; sleep 0.1; done
		ours "$pid" && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
}
CLEANUP_EXTRA+=(bg_stop_all)
cleanup_lab() {
	[[ $LAB_IS_UP -eq 1 ]] || return 0
	if [[ ${REL_KEEP:-0} -eq 1 && $FAILS -gt 0 ]]; then
		echo "REL_KEEP: lab '$P' kept: scripts/lab.sh down --prefix $P; rm -rf $PIN"
		PIN=
		TMPD=
		return
	fi
	"$TOP/scripts/lab.sh" down --prefix "$P" >/dev/null 2>&1 ||
		"$TOP/scripts/lab.sh" down --prefix "$P" >/dev/null 2>&1
}

# ---- xdpctl ----
# x ARGS...: xdpctl on the lab's host namespace and the run's pin dir (or $XPIN); stdout
# in $OUT, stderr in $ERR, exit code in $RC (never fails the script).
x() {
	timeout 120 "$XDPCTL" -n "$HOST_NS" --pin-dir "${XPIN:-$PIN}" "$@" >"$TMPD/out" 2>"$TMPD/err"
	RC=$?
	OUT=$(cat "$TMPD/out")
	ERR=$(cat "$TMPD/err")
	return 0
}
# x_ok "what" ARGS...: xdpctl must succeed.
x_ok() {
	local what=$1; shift
	x "$@"
	CHECKS=$((CHECKS + 1))
	[[ $RC -eq 0 ]] && return 0
	fail_check "$what" "xdpctl $* -> exit $RC" "stderr: $ERR" "stdout: ${OUT:0:400}"
	return 1
}
# A rule's counter from 'bypass list -j': rule_field ADDR FIELD
rule_field() {
	x -j bypass list
	jq -r --arg a "$1" --arg f "$2" '.[] | select(.addr == $a) | .[$f]' <<<"$OUT" 2>/dev/null
}
# One counter of 'stats -j': stat_counter HOOK REASON
stat_counter() {
	x -j stats
	jq -r --arg h "$1" --arg r "$2" \
		'.counters[] | select(.hook == $h and .reason == $r) | .packets' <<<"$OUT" 2>/dev/null
}

# ---- the lab ----
lab_up() { # lab_up [extra lab.sh args]
	need_root
	need_cmd jq
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || skip "no bpffs at /sys/fs/bpf"
	[[ -x $TOP/scripts/lab.sh ]] || skip "no scripts/lab.sh"
	LAB_IS_UP=1
	if ! "$TOP/scripts/lab.sh" up --prefix "$P" "$@" >"$TMPD/lab.log" 2>&1; then
		cat "$TMPD/lab.log"
		fail_check "lab up"
		finish
	fi
	eval "$("$TOP/scripts/lab.sh" env --prefix "$P")"
	# Neighbours resolved before any counted packet.
	in_ns "$CLIENT_NS" ping -c1 -W2 "$UPLINK_IP4" >/dev/null 2>&1
	in_ns "$CLIENT_NS" ping -6 -c1 -W2 "$UPLINK_IP6" >/dev/null 2>&1
}


# ---- counted UDP ----
# sink_start NS ADDR PORT NAME: a counting receiver; its output in $TMPD/NAME.sink
sink_start() {
	local ns=$1 addr=$2 port=$3 name=$4 i
	rm -f "$TMPD/$name.ready"
	# A simple command (no function, no list), so $! is rel-udp itself.
	nsenter --net="/run/netns/$ns" -- "$REL_UDP" sink --bind "$addr" --port "$port" \
		--expect 50000000 --ready "$TMPD/$name.ready" --max-seconds 900 \
		>"$TMPD/$name.sink" 2>&1 &
	BG_PIDS+=($!)
	eval "SINK_PID_$name=$!"
	for (( i = 0; i < 100; i++ )); do
		[[ -e $TMPD/$name.ready ]] && return 0
		sleep 0.05
	done
	fail_check "sink $name did not start" "$(cat "$TMPD/$name.sink")"
	return 1
}
# sink_stop NAME: stop it and set SINK_RX (distinct datagrams), SINK_DUP, SINK_STRAY
sink_stop() {
	local name=$1 pidvar="SINK_PID_$1" line
	ours "${!pidvar}" && kill -TERM "${!pidvar}" 2>/dev/null
	wait "${!pidvar}" 2>/dev/null
	bg_done "${!pidvar}"
	line=$(grep '^received' "$TMPD/$name.sink")
	SINK_RX=$(awk '{print $2}' <<<"$line")
	SINK_DUP=$(awk '{print $4}' <<<"$line")
	SINK_STRAY=$(awk '{print $6}' <<<"$line")
	[[ -n $SINK_RX ]] || { fail_check "sink $name printed no count" "$(cat "$TMPD/$name.sink")"; SINK_RX=-1; }
}
# sent_to FILE ADDR: what the sender reported for ADDR
sent_to() { awk -v a="$2" '$1 == "sent" && $2 == a { print $3 }' "$1"; }
