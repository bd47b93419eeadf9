#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# bypass add --container against a real Docker daemon: the lab's docker mode
# (scripts/lab.sh --docker, its own network and containers) and the Engine
# API on /var/run/docker.sock. The lab starts dockerd when none answers and
# stops it again at 'down'. Skipped without docker, or while another docker
# lab holds the addresses (one per machine).
source "$(dirname "$0")/lib.sh"
need_root
LAB=${LAB:-$(dirname "$0")/../../scripts/lab.sh}
command -v docker >/dev/null && command -v dockerd >/dev/null || skip "no docker"
[[ -x $LAB ]] || skip "no scripts/lab.sh"

P=xk$((RANDOM % 900 + 100)) # lab prefixes: [a-z][a-z0-9]{0,7}
CLEANUP_EXTRA+=("'$LAB' down --docker --prefix $P")
if ! timeout 300 "$LAB" up --docker --prefix "$P" >"$TMPD/lab.log" 2>&1; then
	grep -q "one docker lab per machine" "$TMPD/lab.log" && skip "another docker lab is up"
	grep -qi "skip" "$TMPD/lab.log" && skip "$(tail -1 "$TMPD/lab.log")"
	cat "$TMPD/lab.log"
	echo "FAIL: lab up"
	exit 1
fi
eval "$("$LAB" env --docker --prefix "$P")"

ok "attach the lab uplink" attach "$UPLINK" --engine tc --fast-path skip-firewall || finish
ok "by name" -j bypass add "$C1_IP4" --container "$C1_NAME" &&
	jcheck "name: veth and MAC" ".dev == \"$C1_VETH\" and .mac == \"$C1_MAC\""
ok "by short id" -j bypass add "$C2_IP4" --container "${C2_ID:0:12}" &&
	jcheck "id: veth and MAC" ".dev == \"$C2_VETH\" and .mac == \"$C2_MAC\""
ok "by pid" -j bypass add "$C1_IP6" --container "$C1_PID" &&
	jcheck "pid: same veth" ".dev == \"$C1_VETH\""
check "ping through the bypass" in_ns "$CLIENT_NS" ping -q -c2 -i0.2 -W2 "$C1_IP4" >/dev/null
ok "counted" -j bypass list && jcheck "in and out" ".[] | select(.addr == \"$C1_IP4\") | .in_packets >= 2 and .out_packets >= 2"
bad "no such container" "^Error: no such container: ${P}nope \(see 'docker ps'\)$" bypass add 198.19.0.99 --container "${P}nope"
ok "detach" detach "$UPLINK"
for a in "$C1_IP4" "$C2_IP4" "$C1_IP6"; do ok "bypass del $a" bypass del "$a"; done

finish
