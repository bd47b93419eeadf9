# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# One verdict line per check, for the end-to-end scripts of the labs and the
# demo (tests/e2e/lab_*.sh, demo.sh), which report every check they make:
# PASS NAME / FAIL NAME: WHY (counted in $FAILS) / SKIP NAME: WHY. The
# scripts that print only failures use tests/lib/common.sh instead.
FAILS=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; FAILS=$((FAILS + 1)); }
skip() { echo "SKIP $1: $2"; }

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
