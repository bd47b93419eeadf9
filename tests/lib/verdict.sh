# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# One verdict line per check, for the end-to-end scripts of the labs and the
# demo and of the conntrack fast path (tests/e2e/lab_*.sh, demo.sh,
# ct_docker.sh), which report every check they make:
# PASS NAME / FAIL NAME: WHY (counted in $FAILS) / SKIP NAME: WHY. The
# scripts that print only failures use tests/lib/common.sh instead.
# verdict_exit NAME ends the script with the count.
FAILS=0
PASSES=0
SKIPS=0
pass() { echo "PASS $1"; PASSES=$((PASSES + 1)); }
fail() { echo "FAIL $1: $2"; FAILS=$((FAILS + 1)); }
skip() { echo "SKIP $1: $2"; SKIPS=$((SKIPS + 1)); }
# verdict_exit NAME: the last line; exit 1 when a check failed, else 0.
verdict_exit() {
	if ((FAILS > 0)); then
		echo "$1: $FAILS of $((PASSES + FAILS)) check(s) failed"
		exit 1
	fi
	local skipped=""
	((SKIPS > 0)) && skipped=", $SKIPS skipped"
	echo "$1: all $PASSES checks passed$skipped"
	exit 0
}

# ping_check NAME NS ADDR: an echo reply within 3 tries, routed once by the
# host (ttl/hlim 63).
ping_check() {
	local name=$1 ns=$2 addr=$3 out="" i
	for (( i = 0; i < 3; i++ )); do
		if out=$(nsenter --net="/run/netns/$ns" ping -c 1 -W 2 "$addr" 2>&1); then break; fi
	done
	if [[ $out != *" 0% packet loss"* ]]; then
		fail "$name" "no reply from $addr in $ns: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
	elif [[ $out != *"ttl=63"* ]]; then
		fail "$name" "reply from $addr did not cross the host (expected ttl=63): $(grep 'bytes from' <<<"$out")"
	else
		pass "$name"
	fi
}
