#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rel-pins: the pinned state taken away under an attached dataplane, on a
# private bpffs mount (never the machine's /sys/fs/bpf). For each engine:
#   1. the pin dir is removed (rm -rf): the attached programs keep their
#      maps and keep forwarding; no xdpctl command crashes; commands that
#      need the state say so in one line; the documented recovery works:
#      'attach --force' (a new, empty state takes the device over), the old
#      return-path filter removed from each bypassed veth, the rules added
#      again, and traffic is counted by the new state;
#   2. the bpffs is unmounted: commands fail with one line naming the
#      missing bpffs; the same recovery after mounting it again works;
#   3. detach leaves nothing of xdpctl on the uplink.
# docs/reliability.md has the recovery as a user would run it.
. "$(dirname "$0")/lib.sh"

ENGINES=${REL_ENGINES:-tc xdp}
lab_up --containers 2

no_crash() { check "$1: xdpctl exit $RC is not a crash" test "$RC" -lt 2; }
one_line_error() { # one_line_error WHAT REGEX: exit 1 and one line "Error: ..." matching REGEX
	check_eq "$1: exit code" "$RC" 1
	check_eq "$1: one line on stderr" "$(grep -c . <<<"$ERR")" 1
	check_match "$1: the error says what is wrong" "$ERR" "^Error: .*$2"
}

# flow WHAT ADDR NS PORT [counted]: 100 datagrams; all received (and counted by the rule).
flow() {
	local what=$1 addr=$2 ns=$3 port=$4 counted=${5:-} in0=0 sent
	[[ -n $counted ]] && in0=$(rule_field "$addr" in_packets)
	sink_start "$ns" "$addr" "$port" "f$port" || return
	in_ns "$CLIENT_NS" "$REL_UDP" send --to "$addr" --port "$port" --count 100 --rate 2000 \
		>"$TMPD/sent-$port"
	sleep 0.3
	sink_stop "f$port"
	sent=$(sent_to "$TMPD/sent-$port" "$addr")
	check_eq "$what: sent = received" "$sent $SINK_RX" "100 100"
	[[ -n $counted ]] && check_eq "$what: ... = counted by the rule" \
		"$(( $(rule_field "$addr" in_packets) - in0 ))" 100
}

# The documented recovery, once the state is gone: take the uplink over
# with a new state, clear the old return-path filter of the rule's veth
# (it holds programs of the lost state, which xdpctl refuses to replace),
# add the rule again.
recover() {
	local what=$1 engine=$2 veth=$3 addr=$4
	x attach "$UPLINK" --engine "$engine"
	one_line_error "$what: attach without --force is refused" "--force"
	x_ok "$what: attach --force" attach "$UPLINK" --engine "$engine" --force
	x bypass add "$addr" dev "$veth"
	one_line_error "$what: re-adding the rule meets the old state's filter" "holds program xdpctl_tc_fwd"
	check "$what: removing the old return-path filter" \
		tc -n "$HOST_NS" filter del dev "$veth" ingress pref 30820 handle 0x7864 bpf
	x_ok "$what: the rule again" bypass add "$addr" dev "$veth"
}

k=0
for engine in $ENGINES; do
	k=$((k + 1))
	veth=C${k}_VETH; addr=C${k}_IP4; ns=C${k}_NS
	MNT=$TMPD/bpffs-$engine
	mkdir -p "$MNT"
	mount -t bpf bpf "$MNT" || { fail_check "mounting a private bpffs at $MNT"; continue; }
	CLEANUP_EXTRA+=("umount $MNT")
	XPIN=$MNT/xdpctl
	x_ok "$engine: attach" attach "$UPLINK" --engine "$engine" || continue
	x_ok "$engine: rule" bypass add "${!addr}" dev "${!veth}"
	flow "$engine: before" "${!addr}" "${!ns}" $((7700 + 10 * k)) counted

	# 1. The pin dir removed.
	rm -rf "$XPIN"
	flow "$engine: pin dir removed, the programs keep forwarding" "${!addr}" "${!ns}" $((7701 + 10 * k))
	for cmd in "status" "bypass list" "stats" "pingpong list"; do
		# shellcheck disable=SC2086
		x $cmd; no_crash "$engine: pin dir removed: $cmd"
		log "$engine: pin dir removed: '$cmd' -> exit $RC${ERR:+: $ERR}"
	done
	x bypass add "198.19.0.200" dev "${!veth}"
	one_line_error "$engine: pin dir removed: bypass add" "no xdpctl state at $XPIN.*attach"
	x detach "$UPLINK"; no_crash "$engine: pin dir removed: detach"
	log "$engine: pin dir removed: 'detach' -> exit $RC: $ERR"
	recover "$engine: pin dir removed" "$engine" "${!veth}" "${!addr}"
	flow "$engine: pin dir removed: after the recovery" "${!addr}" "${!ns}" $((7702 + 10 * k)) counted

	# 2. The bpffs unmounted.
	umount "$MNT"
	for cmd in "status" "bypass list" "stats"; do
		# shellcheck disable=SC2086
		x $cmd
		one_line_error "$engine: bpffs unmounted: $cmd" "bpffs"
	done
	flow "$engine: bpffs unmounted, the programs keep forwarding" "${!addr}" "${!ns}" $((7703 + 10 * k))
	mount -t bpf bpf "$MNT"
	recover "$engine: bpffs mounted again" "$engine" "${!veth}" "${!addr}"
	flow "$engine: bpffs mounted again: after the recovery" "${!addr}" "${!ns}" $((7704 + 10 * k)) counted

	# 3. Detach leaves nothing on the uplink.
	x_ok "$engine: detach" detach "$UPLINK"
	check_eq "$engine: no XDP program left on the uplink" \
		"$(ip -n "$HOST_NS" -o link show "$UPLINK" | grep -o 'prog/xdp id [0-9]*')" ""
	check_eq "$engine: no tc filter left on the uplink" \
		"$(tc -n "$HOST_NS" filter show dev "$UPLINK" ingress 2>&1)" ""
	rm -rf "$XPIN"
	umount "$MNT"
done
finish
