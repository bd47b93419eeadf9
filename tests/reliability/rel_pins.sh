#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rel-pins: the pinned state taken away under an attached dataplane, on a
# private bpffs mount (never the machine's /sys/fs/bpf). For each engine:
#   1. the pin dir is removed (rm -rf): the attached programs keep their
#      maps and keep forwarding; no xdpctl command crashes; commands that
#      need the state say so in one line; 'status' lists the uplink and
#      the veth as orphans (xdpctl's programs of a lost state); 'attach'
#      names xdpctl's program and asks for --force (no '--engine tc'
#      advice); the documented recovery works: 'attach --force' (a new,
#      empty state takes the uplink's XDP program and tc filter over), the
#      rules added again (taking the veth's old return-path program over,
#      said at -v), and traffic is counted by the new state;
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

# tc_prog_id DEV: the program id of our tc filter slot on DEV ("" if none)
tc_prog_id() {
	tc -n "$HOST_NS" filter show dev "$1" ingress pref 30820 2>/dev/null |
		sed -n 's/.* id \([0-9]*\) .*/\1/p' | head -1
}
# orphan_of DEV: its "orphan" field in 'status -j' ("" if not listed)
orphan_of() { jq -r --arg d "$1" '.[] | select(.dev == $d) | .orphan' <<<"$OUT"; }

# The documented recovery, once the state is gone: status shows xdpctl's
# orphaned programs, 'attach --force' takes the uplink over with a new
# state, 'bypass add' takes the veth's return-path program over.
recover() {
	local what=$1 engine=$2 veth=$3 addr=$4 xdp_id old_fwd new_fwd
	x -j status
	check_eq "$what: status exit code" "$RC" 0
	check_eq "$what: status lists the uplink as an orphan" "$(orphan_of "$UPLINK")" true
	check_eq "$what: ... and the veth" "$(orphan_of "$veth")" true
	check_match "$what: ... and says how to take the uplink over" "$ERR" "attach $UPLINK --force"
	x status "$UPLINK"
	check_match "$what: status $UPLINK: a row marked (orphan)" "$RC $OUT" "^0 .*$UPLINK\(orphan\)"
	xdp_id=$(ip -n "$HOST_NS" -o link show "$UPLINK" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
	x attach "$UPLINK" --engine "$engine" --fast-path skip-firewall
	if [[ $engine == xdp ]]; then
		one_line_error "$what: attach without --force is refused" \
			"$UPLINK has xdpctl's XDP program \(id $xdp_id\) from another pin dir or a lost state: use '--force' to take it over\$"
	else
		one_line_error "$what: attach without --force is refused" \
			"holds xdpctl's program xdpctl_tc_in \(id $(tc_prog_id "$UPLINK")\) from another pin dir or a lost state: use '--force' to take it over\$"
	fi
	check "$what: ... without the --engine tc advice" test "${ERR/--engine tc/}" == "$ERR"
	x_ok "$what: attach --force" attach "$UPLINK" --engine "$engine" --fast-path skip-firewall --force
	x -j status "$UPLINK"
	check_eq "$what: the uplink is the new state's, not an orphan" \
		"$(jq -r '.[0].orphan, (.[0].tc_prog_id > 0)' <<<"$OUT" | tr '\n' ' ')" "false true "
	if [[ $engine == xdp ]]; then
		check "$what: ... its XDP program is the new state's" \
			test "$(jq -r '.[0].xdp_prog_id' <<<"$OUT")" -gt 0 -a "$(jq -r '.[0].xdp_prog_id' <<<"$OUT")" != "$xdp_id"
	fi
	old_fwd=$(tc_prog_id "$veth")
	x_ok "$what: the rule again" -v bypass add "$addr" dev "$veth"
	check_match "$what: ... taking the old return-path program over, said at -v" "$ERR" \
		"replacing xdpctl_tc_fwd \(id $old_fwd\) of another pin dir or a lost state"
	new_fwd=$(tc_prog_id "$veth")
	check "$what: ... the veth's filter runs another program now ($old_fwd -> $new_fwd)" \
		test -n "$new_fwd" -a "$new_fwd" != "$old_fwd"
	# (An earlier round's veth may still hold its lost state's program: not ours to check.)
	x -j status
	check_eq "$what: neither the uplink nor the veth is an orphan now" \
		"$(orphan_of "$UPLINK") $(orphan_of "$veth")" "false false"
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
	x_ok "$engine: attach" attach "$UPLINK" --engine "$engine" --fast-path skip-firewall || continue
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
