#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# xdpctl path diff on real traffic: a ping routed through the host and its
# bridge against a ping across one direct veth. The bridge and uplink events
# must show up in A-B and never B's own devices; B-A the other way round.
# The private tracefs instance is gone afterwards, also after Ctrl-C.
source "$(dirname "$0")/lib.sh"
need_root

lab_up || { echo "FAIL: lab setup"; exit 1; }
# B: two namespaces of the lab (tests/lib/lab.sh's primitives) joined by one
# veth pair whose ends carry the prefix: lab_uplink's end is named eth0, as the
# client's and the containers' on path A, and would hide B's veth in B-A.
ns_create "${P}d1" && ns_create "${P}d2" || { echo "FAIL: netns"; exit 1; }
ip -n "${P}d1" link add "${P}dx" type veth peer name "${P}dy" netns "${P}d2"
ip -n "${P}d1" addr add 198.18.9.1/30 dev "${P}dx"
ip -n "${P}d2" addr add 198.18.9.2/30 dev "${P}dy"
ip -n "${P}d1" link set "${P}dx" up
ip -n "${P}d2" link set "${P}dy" up
# Quiet namespaces, so that what one run hits and the other does not is the path
# itself: no IPv6 (router and multicast chatter), static neighbours (no ARP).
for ns in cl h c1 c2 d1 d2; do
	sysctl_set "${P}$ns" net.ipv6.conf.all.disable_ipv6 1
	sysctl_set "${P}$ns" net.ipv6.conf.default.disable_ipv6 1
done
# The second container is not on either path: its bridge port gets no flooded,
# broadcast or multicast frame, so a frame the bridge floods in one run only
# (seen: one xmit on ${P}v2 in A-A) cannot make the runs differ.
ip -n "$H" link set dev "${P}v2" type bridge_slave flood off mcast_flood off bcast_flood off
ip -n "${P}cl" neigh replace 198.18.0.1 lladdr "$(link_mac "$H" "${P}up")" dev eth0 nud permanent
ip -n "$H" neigh replace 198.18.0.2 lladdr "$(link_mac "${P}cl" eth0)" dev "${P}up" nud permanent
ip -n "$H" neigh replace 198.19.0.2 lladdr "$(link_mac "${P}c1" eth0)" dev "${P}br" nud permanent
ip -n "${P}c1" neigh replace 198.19.0.1 lladdr "$(link_mac "$H" "${P}br")" dev eth0 nud permanent
ip -n "${P}d1" neigh replace 198.18.9.2 lladdr "$(link_mac "${P}d2" "${P}dy")" dev "${P}dx" nud permanent
ip -n "${P}d2" neigh replace 198.18.9.1 lladdr "$(link_mac "${P}d1" "${P}dx")" dev "${P}dy" nud permanent
in_ns "${P}d1" ping -c1 -W2 198.18.9.2 >/dev/null 2>&1
in_ns "${P}cl" ping -c1 -W2 198.19.0.2 >/dev/null 2>&1

tracefs=/sys/kernel/tracing
instances() { ls "$tracefs/instances" 2>/dev/null | grep -c '^xdpctl-'; }
before=$(instances)

A="nsenter --net=/run/netns/${P}cl ping -c1 -W2 198.19.0.2"
B="nsenter --net=/run/netns/${P}d1 ping -c1 -W2 198.18.9.2"

ok "path diff A B" path diff "$A" "$B"
for want in "net:net_dev_queue:dev=${P}br" "net:net_dev_xmit:dev=${P}br" \
	"net:netif_receive_skb:dev=${P}up" "net:net_dev_queue:dev=${P}v1"; do
	check "A-B has $want" grep -qxF "    $want" <<<"$OUT"
done
check "A-B has none of B's devices" test "$(grep -cE "dev=${P}d[xy]$" <<<"$OUT")" -eq 0
check "A-B lines are '    net:EVENT[:dev=DEV]'" test "$(grep -cvE '^    net:[a-z0-9_]+(:dev=[^ ]+)?$' <<<"$OUT")" -eq 0
check "A-B is sorted" test "$OUT" = "$(LC_ALL=C sort <<<"$OUT")"

ok "path diff B A -j" -j path diff "$B" "$A"
jcheck "B-A is an array of event, dev, count" 'type == "array" and length > 0 and all(.[]; (.event | startswith("net:")) and (.dev | type == "string") and .count >= 1)'
jcheck "B-A has B's veth" "any(.[]; .event == \"net:net_dev_queue\" and .dev == \"${P}dx\") and any(.[]; .event == \"net:netif_receive_skb\" and .dev == \"${P}dy\")"
jcheck "B-A has no bridge" "all(.[]; .dev != \"${P}br\" and .dev != \"${P}up\")"

ok "a command diffed with itself shows none of the lab" path diff "$A" "$A"
check "A-A has no lab device" test "$(grep -c "dev=${P}" <<<"$OUT")" -eq 0

# A failing command is reported, not an error of xdpctl.
CHECKS=$((CHECKS + 1))
x path diff "false" "true"
if [[ $RC -ne 0 || $ERR != "Note: 'false' exited with status 1" ]]; then
	fail_check "failing command" "expected exit 0 and \"Note: 'false' exited with status 1\""
fi
# The commands' own output only with -v, and then on stderr.
x path diff "echo hello-from-a" "true"
check "command output hidden" test "$(grep -c hello-from-a <<<"$OUT$ERR")" -eq 0
x -v path diff "echo hello-from-a" "true"
check "-v: command output on stderr" grep -q hello-from-a <<<"$ERR"
check "-v: not on stdout" test "$(grep -c hello-from-a <<<"$OUT")" -eq 0
check "no instance left" test "$(instances)" -eq "$before"

# Ctrl-C (to the whole process group, as a terminal does) during command A.
# (a background job of a script starts with SIGINT ignored: put the default back)
setsid env --default-signal=INT "$XDPCTL" path diff "sleep 5" "true" >/dev/null 2>&1 &
pd=$!
CLEANUP_EXTRA+=("kill -KILL -- -$pd")
# wait until command A runs (its sleep is in xdpctl's session)
for _ in $(seq 50); do pgrep -s "$pd" -x sleep >/dev/null && break; sleep 0.1; done
check "instance exists while recording" test "$(instances)" -gt "$before"
kill -INT -- "-$pd"
start=$(date +%s%N)
wait "$pd"
rc=$?
elapsed=$((($(date +%s%N) - start) / 1000000))
check "Ctrl-C: xdpctl ended by the signal (rc $rc)" test "$rc" -eq 130
check "Ctrl-C: ended in ${elapsed} ms" test "$elapsed" -lt 3000
check "Ctrl-C: no instance left" test "$(instances)" -eq "$before"

# Not root.
CHECKS=$((CHECKS + 1))
ERR=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$XDPCTL" path diff true true 2>&1 >/dev/null)
[[ $ERR == "Error: needs root (CAP_BPF and CAP_NET_ADMIN)" ]] || fail_check "path diff not root" "got: $ERR"

finish
