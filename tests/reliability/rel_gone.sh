#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rel-gone: devices and namespaces disappearing under an attached dataplane.
# For each engine (tc, then xdp):
#   - a container's host veth is deleted while its bypass rule exists;
#   - a whole container (network namespace) is deleted while its rule exists;
# then, once, the uplink itself is deleted and recreated.
# Before that, a veth's rule count left one low (as by a 'bypass add' killed
# between storing its rule and counting it): 'bypass del' of one of its two
# rules must recount and keep the veth for the other.
# Nothing may crash (every xdpctl call exits 0 or 1, never by a signal);
# 'bypass list' must show the rule as stale and 'status' the veth as not
# present; packets for the stale rule must go to the stack, counted as
# redirect_error (all of them) and never as bypassed; deleting the stale rule
# must remove the veth's entry; 'detach --ifindex N' removes a gone uplink's
# entry (and refuses a gone veth that rules still name); after the uplink is
# back, 'attach' again makes the remaining rule carry traffic as before
# (sent = received = counted).
. "$(dirname "$0")/lib.sh"

ENGINES=${REL_ENGINES:-tc xdp}
lab_up --containers 5
x_ok "attach" attach "$UPLINK" --engine tc --fast-path skip-firewall || finish
x_ok "rule for c1" bypass add "$C1_IP4" dev "$C1_VETH"

# iface_refcnt IFINDEX [N]: the ifaces entry's rule count; with N, set it
# (bpftool on the pinned map: bytes 12..15 of struct xdpctl_iface, host order).
iface_refcnt() {
	local ifx=$1 key v i
	key=$(printf '%d %d %d %d' $((ifx & 255)) $((ifx >> 8 & 255)) $((ifx >> 16 & 255)) $((ifx >> 24 & 255)))
	# shellcheck disable=SC2086
	mapfile -t v < <(bpftool -j map lookup pinned "$PIN/xdpctl_ifaces" key $key | jq -r '.value[]')
	[[ ${#v[@]} -eq 20 ]] || { echo "no ifaces entry for $ifx"; return 1; }
	if [[ $# -lt 2 ]]; then
		echo $(( v[12] | v[13] << 8 | v[14] << 16 | v[15] << 24 ))
		return
	fi
	for i in 0 1 2 3; do v[12 + i]=$(( $2 >> (8 * i) & 255 )); done
	# shellcheck disable=SC2086
	bpftool map update pinned "$PIN/xdpctl_ifaces" key $key value "${v[@]}"
}

# A veth counted one rule low: 'bypass del' recounts before any teardown.
c1_ifx=$(link_ifindex "$HOST_NS" "$C1_VETH")
x_ok "a second rule for c1" bypass add "$C1_IP6" dev "$C1_VETH"
check_eq "c1's veth counts 2 rules" "$(iface_refcnt "$c1_ifx")" 2
check "c1's count set one low, as a killed 'bypass add' leaves it" iface_refcnt "$c1_ifx" 1
x_ok "deleting one of c1's rules" -v bypass del "$C1_IP6"
check_match "bypass del says the count was low" "$ERR" "counted 1 rule\(s\) low: 1 still use it; veth kept"
check_eq "c1's veth counts its remaining rule again" "$(iface_refcnt "$c1_ifx")" 1
check_match "c1's return-path filter is still there" \
	"$(tc -n "$HOST_NS" filter show dev "$C1_VETH" ingress 2>&1)" "xdpctl_tc_fwd"
x -j status
check_eq "status shows c1's veth with 1 rule" \
	"$(jq -r --argjson i "$c1_ifx" '.[] | select(.ifindex == $i) | .rules' <<<"$OUT")" 1

# xdpctl exits 0 or 1; a signal (>= 128) is a crash.
no_crash() { check "$1: xdpctl exit $RC is not a crash" test "$RC" -lt 2; }

# Packets the host's IP stack received: ip_in ADDR (IPv4: Ip InReceives; IPv6: Ip6InReceives).
ip_in() {
	if [[ $1 == *:* ]]; then
		in_ns "$HOST_NS" awk '$1 == "Ip6InReceives" { print $2; exit }' /proc/net/snmp6
	else
		in_ns "$HOST_NS" awk '$1 == "Ip:" && $4 ~ /^[0-9]+$/ { print $4; exit }' /proc/net/snmp
	fi
}

# gone_checks WHAT ADDR VETH_IFINDEX ENGINE
gone_checks() {
	local what=$1 addr=$2 ifindex=$3 engine=$4 hook re0 re1 by0 by1 in0 in1 ip0 ip1
	x -j bypass list; no_crash "$what: bypass list"
	check_eq "$what: bypass list shows the rule as stale" \
		"$(jq -r --arg a "$addr" '.[] | select(.addr == $a) | .stale' <<<"$OUT")" true
	check_eq "$what: ... and only that rule" "$(jq '[.[] | select(.stale)] | length' <<<"$OUT")" 1
	x -j status; no_crash "$what: status"
	check_eq "$what: status shows the veth (ifindex $ifindex) as not present" \
		"$(jq -r --argjson i "$ifindex" '.[] | select(.ifindex == $i) | .present' <<<"$OUT")" false
	x stats; no_crash "$what: stats"
	x -j stats --rules; no_crash "$what: stats --rules"

	hook=tc_ingress; [[ $engine == xdp ]] && hook=xdp
	re0=$(stat_counter "$hook" redirect_error); by0=$(stat_counter "$hook" bypass)
	in0=$(rule_field "$addr" in_packets); ip0=$(ip_in "$addr")
	in_ns "$CLIENT_NS" "$REL_UDP" send --to "$addr" --port 7300 --count 50 --rate 1000 >/dev/null
	sleep 0.3
	re1=$(stat_counter "$hook" redirect_error); by1=$(stat_counter "$hook" bypass)
	in1=$(rule_field "$addr" in_packets); ip1=$(ip_in "$addr")
	check_eq "$what: all 50 packets for the stale rule counted as $hook redirect_error" \
		"$((re1 - re0))" 50
	check_eq "$what: ... none as bypassed" "$((by1 - by0))" 0
	check_eq "$what: ... none in the rule's in_packets" "$((in1 - in0))" 0
	check "$what: ... and the host's stack received them (InReceives +$((ip1 - ip0)))" \
		test $((ip1 - ip0)) -ge 50

	x detach --ifindex "$ifindex"
	check_eq "$what: detach --ifindex of the gone veth under its rule: refused" "$RC" 1
	check_match "$what: ... saying why" "$ERR" "^Error: ifindex $ifindex: a gone veth that 1 bypass rule\(s\) still name: delete its bypass rules first"
	x_ok "$what: deleting the stale rule" bypass del "$addr"
	x -j status
	check_eq "$what: the gone veth's entry went with its last rule" \
		"$(jq --argjson i "$ifindex" '[.[] | select(.ifindex == $i)] | length' <<<"$OUT")" 0
}

# flow_ok WHAT ADDR NS PORT: 200 datagrams, all received and counted by the rule.
flow_ok() {
	local what=$1 addr=$2 ns=$3 port=$4 in0 sent
	in0=$(rule_field "$addr" in_packets)
	sink_start "$ns" "$addr" "$port" "f$port" || return
	in_ns "$CLIENT_NS" "$REL_UDP" send --to "$addr" --port "$port" --count 200 --rate 2000 \
		>"$TMPD/sent-$port"
	sleep 0.3
	sink_stop "f$port"
	sent=$(sent_to "$TMPD/sent-$port" "$addr")
	check_eq "$what: sent = received = counted" \
		"$sent $SINK_RX $(( $(rule_field "$addr" in_packets) - in0 ))" "200 200 200"
}

k=2
for engine in $ENGINES; do
	x_ok "$engine: attach" attach "$UPLINK" --engine "$engine" --fast-path skip-firewall || continue
	# A container whose host veth is deleted.
	cv=C${k}_VETH; ci=C${k}_IP4; cn=C${k}_NS
	x_ok "$engine: rule for c$k" bypass add "${!ci}" dev "${!cv}"
	flow_ok "$engine: c$k before" "${!ci}" "${!cn}" $((7400 + k))
	ifx=$(link_ifindex "$HOST_NS" "${!cv}")
	ip -n "$HOST_NS" link del "${!cv}"
	check "$engine: c$k's veth is gone" wait_until 50 0.1 link_gone "$HOST_NS" "${!cv}"
	gone_checks "$engine: veth of c$k deleted" "${!ci}" "$ifx" "$engine"
	k=$((k + 1))

	# A container whose network namespace is deleted (its processes first).
	cv=C${k}_VETH; ci=C${k}_IP6; cn=C${k}_NS
	x_ok "$engine: rule for c$k" bypass add "${!ci}" dev "${!cv}"
	flow_ok "$engine: c$k before" "${!ci}" "${!cn}" $((7400 + k))
	ifx=$(link_ifindex "$HOST_NS" "${!cv}")
	for pid in $(ip netns pids "${!cn}"); do kill "$pid" 2>/dev/null; done
	ip netns del "${!cn}"
	check "$engine: c$k's veth went with its namespace" wait_until 100 0.1 link_gone "$HOST_NS" "${!cv}"
	gone_checks "$engine: namespace of c$k deleted" "${!ci}" "$ifx" "$engine"
	k=$((k + 1))
	flow_ok "$engine: c1 unaffected" "$C1_IP4" "$C1_NS" $((7500 + k))
done

# The uplink disappears: xdpctl keeps working, the rules stay, and after the
# device is back 'attach' makes them carry traffic again.
up_ifx=$(link_ifindex "$HOST_NS" "$UPLINK")
ip -n "$HOST_NS" link del "$UPLINK"
check "the uplink is gone" wait_until 50 0.1 link_gone "$HOST_NS" "$UPLINK"
x -j status; no_crash "uplink gone: status"
check_eq "uplink gone: status shows it as not present" \
	"$(jq -r --argjson i "$up_ifx" '.[] | select(.ifindex == $i) | .present' <<<"$OUT")" false
x -j bypass list; no_crash "uplink gone: bypass list"
check_eq "uplink gone: c1's rule is still there, not stale" \
	"$(jq -r --arg a "$C1_IP4" '.[] | select(.addr == $a) | .stale' <<<"$OUT")" false
x stats; no_crash "uplink gone: stats"
x detach "$UPLINK"; no_crash "uplink gone: detach"
check_eq "uplink gone: detach $UPLINK: the name is gone" "$RC" 1
check_match "uplink gone: ... pointing to the gone device's entry" "$ERR" \
	"^Error: no such device: $UPLINK; xdpctl keeps 1 entry of gone devices: remove one with 'xdpctl detach --ifindex $up_ifx'"
x_ok "uplink gone: detach --ifindex $up_ifx" detach --ifindex "$up_ifx"
x -j status
check_eq "uplink gone: its entry is removed" \
	"$(jq --argjson i "$up_ifx" '[.[] | select(.ifindex == $i)] | length' <<<"$OUT")" 0
check_eq "uplink gone: c1's veth entry stays" \
	"$(jq --argjson i "$c1_ifx" '[.[] | select(.ifindex == $i)] | length' <<<"$OUT")" 1
x detach --ifindex "$up_ifx"
check_eq "uplink gone: a second detach --ifindex $up_ifx finds nothing" "$RC $ERR" \
	"1 Error: ifindex $up_ifx: xdpctl has no entry for it (see 'xdpctl status')"
"$TOP/scripts/lab.sh" up --prefix "$P" --containers 5 >"$TMPD/lab2.log" 2>&1 ||
	fail_check "lab up again" "$(cat "$TMPD/lab2.log")"
in_ns "$CLIENT_NS" ping -c1 -W2 "$UPLINK_IP4" >/dev/null 2>&1
x_ok "uplink back: attach again" attach "$UPLINK" --engine tc --fast-path skip-firewall
flow_ok "uplink back: c1 through its rule" "$C1_IP4" "$C1_NS" 7600
x -j status
check_eq "uplink back: status no longer lists the old uplink (ifindex $up_ifx)" \
	"$(jq --argjson i "$up_ifx" '[.[] | select(.ifindex == $i)] | length' <<<"$OUT")" 0
finish
