#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The pinned state under concurrency and change (issue 15, items 1, 7, 9):
#  - two xdpctl processes attach at once to a fresh state, one refused: the
#    refused one must not remove the state the other one uses. Both are
#    started while the test holds the pin dir's lock, so both decide about
#    a state that does not exist yet, then race for real (no sleeps: the
#    test waits until the kernel lists both as waiting for the lock);
#  - a failed XDP mode switch (generic -> native on a device without native
#    XDP) leaves the old program on the device;
#  - a state of another ABI version, or without the version stamp, is
#    refused in one line with the way out, and nothing is changed.
# Devices: bridges in a namespace of their own (no native XDP; this kernel has no dummy).
source "$(dirname "$0")/lib.sh"
need_root
PASS_OBJ=${PASS_OBJ:?set PASS_OBJ to pass.bpf.o}
command -v bpftool >/dev/null || skip "needs bpftool"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
ip netns add "$H" || { echo "FAIL: netns $H"; exit 1; }
for d in da db dc; do
	ip -n "$H" link add "${P}$d" type bridge && ip -n "$H" link set "${P}$d" up ||
		{ echo "FAIL: bridge ${P}$d"; exit 1; }
done
# Another owner's XDP program on ${P}da: 'attach --engine xdp' refuses it.
ip -n "$H" link set "${P}da" xdpgeneric obj "$PASS_OBJ" sec xdp 2>/dev/null ||
	ip -n "$H" link set "${P}da" xdpgeneric obj "$PASS_OBJ" sec xdp.frags ||
	{ echo "FAIL: loading another XDP program on ${P}da"; exit 1; }

# ---- 1. two first attaches at once ----
# Number of processes waiting for the flock on the directory with inode $1.
lock_waiters() { grep -c -- "-> FLOCK .*:$1 " /proc/locks; }

race_round() {
	local round=$1 fd ino pa pb ra rb i
	rm -rf "$PIN"
	mkdir -m 0700 "$PIN"
	ino=$(stat -c %i "$PIN")
	exec {fd}<"$PIN"
	flock -x "$fd"
	"$XDPCTL" -n "$H" attach "${P}da" --engine xdp --max-rules 64 >"$TMPD/a.out" 2>"$TMPD/a.err" &
	pa=$!
	"$XDPCTL" -n "$H" attach "${P}db" --engine tc --max-rules 64 >"$TMPD/b.out" 2>"$TMPD/b.err" &
	pb=$!
	# both decided that the state is new and wait for its lock (bounded: 10 s)
	for ((i = 0; i < 1000; i++)); do
		[[ $(lock_waiters "$ino") -ge 2 ]] && break
		kill -0 "$pa" 2>/dev/null || break
		sleep 0.01
	done
	CHECKS=$((CHECKS + 1))
	[[ $(lock_waiters "$ino") -ge 2 ]] || fail_check "race $round: both attaches wait for the lock" "$(cat /proc/locks)"
	flock -u "$fd"
	exec {fd}<&-
	wait "$pa"; ra=$?
	wait "$pb"; rb=$?
	RC=$ra OUT=$(cat "$TMPD/a.out") ERR=$(cat "$TMPD/a.err")
	check "race $round: attach ${P}da refused" test "$ra" -eq 1
	check "race $round: attach ${P}da names the other XDP program" grep -q "^Error: ${P}da has XDP program xdpctl_pass" "$TMPD/a.err"
	RC=$rb OUT=$(cat "$TMPD/b.out") ERR=$(cat "$TMPD/b.err")
	check "race $round: attach ${P}db succeeded" test "$rb" -eq 0
	# its state is pinned and its program runs on those maps
	x -n "$H" -j status "${P}db"
	check "race $round: status ${P}db" test "$RC" -eq 0
	jcheck "race $round: ${P}db attached by the pinned state" '.[0].tc_prog_id > 0 and .[0].engine == "tc"'
	x -n "$H" -j status
	jcheck "race $round: the state lists ${P}db alone" '[.[] | .dev] == ["'"${P}db"'"]'
	ok "race $round: detach ${P}db" -n "$H" detach "${P}db"
}
for r in 1 2; do race_round "$r"; done

# A failed first attach alone still leaves nothing behind.
rm -rf "$PIN"
bad "first attach refused" "^Error: ${P}da has XDP program xdpctl_pass" -n "$H" attach "${P}da" --engine xdp --max-rules 64
check "no state left by a failed first attach" test ! -e "$PIN"

# ---- 7. a failed XDP mode switch keeps the old program ----
rm -rf "$PIN"
ok "attach generic" -n "$H" attach "${P}dc" --engine xdp --mode generic --max-rules 64
x -n "$H" -j status "${P}dc"
jcheck "generic XDP program" '.[0].xdp_mode == "generic" and .[0].xdp_prog_id > 0'
old_id=$(jq -r '.[0].xdp_prog_id' <<<"$OUT")
bad "native on a bridge" "native XDP is not supported on ${P}dc: try '--mode generic'" -n "$H" attach "${P}dc" --engine xdp --mode native
x -n "$H" -j status "${P}dc"
jcheck "the generic program is still there" ".[0].xdp_mode == \"generic\" and .[0].xdp_prog_id == $old_id"
check "ip link shows xdpgeneric on ${P}dc" bash -c "ip -n $H -d link show ${P}dc | grep -q 'prog/xdp id $old_id'"

# ---- 9. the ABI version of the state ----
snapshot abi
bpftool map update pinned "$PIN/xdpctl_abi" key 0 0 0 0 value 1 0 0 0
bad "state of ABI 1" "^Error: $PIN holds the state of xdpctl ABI 1, this xdpctl is ABI [0-9]+: detach its devices with the xdpctl of ABI 1, then 'rm -rf $PIN'$" -n "$H" status
bad "attach on a state of ABI 1" "holds the state of xdpctl ABI 1" -n "$H" attach "${P}db" --engine tc
x -n "$H" -j status "${P}db"
check "nothing attached to ${P}db" bash -c "! tc -n $H filter show dev ${P}db ingress | grep -q xdpctl"
ver=$("$XDPCTL" -j version | jq .abi_version)
bpftool map update pinned "$PIN/xdpctl_abi" key 0 0 0 0 value "$ver" 0 0 0
ok "stamp back: status" -n "$H" status
rm -f "$PIN/xdpctl_abi"
bad "state without a stamp" "^Error: $PIN holds the state of an xdpctl older than ABI $ver \(no ABI stamp\): detach its devices with that xdpctl, then 'rm -rf $PIN'$" -n "$H" status
bad "attach on a state without a stamp" "no ABI stamp" -n "$H" attach "${P}db"
check "no stamp made by the refused attach" test ! -e "$PIN/xdpctl_abi"
ip -n "$H" link set "${P}dc" xdpgeneric off
finish
