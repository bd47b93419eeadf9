#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# xdpctl-cni run directly per the CNI spec (CNI_COMMAND, CNI_CONTAINERID,
# CNI_NETNS, CNI_IFNAME, CNI_PATH, the configuration on stdin) in a node
# namespace, after Debian's real bridge + host-local plugins made the pods'
# veths, exactly as a runtime chains them: ADD, retried ADD, CHECK, DEL
# (idempotent, also without prevResult, netns, veth or state), VERSION,
# and bad input: each failure is the spec's error object with its code, a
# non-zero exit, and leaves the container table as it was.
source "$(dirname "$0")/lib.sh"
need_root
need_cni_plugins

node_up || { echo "FAIL: node setup"; exit 1; }
ok "attach the node's uplink" -n "$N" attach "${P}up" || finish
bridge_conf >"$TMPD/bridge.json"

# Two pods, made by the bridge plugin as a runtime would.
for i in 1 2; do
	ip netns add "${P}p$i" || { echo "FAIL: netns"; exit 1; }
	CID=pod$i NETNS=/run/netns/${P}p$i cni_exec "$CNI_BIN/bridge" ADD "$TMPD/bridge.json"
	[[ $RC -eq 0 ]] || { fail_check "bridge ADD pod$i" "the bridge plugin failed"; finish; }
	printf '%s\n' "$OUT" >"$TMPD/r$i.json"
	xdpctl_conf "$TMPD/r$i.json" >"$TMPD/x$i.json"
	ip4[i]=$(jq -r '.ips[0].address | split("/")[0]' "$TMPD/r$i.json")
	veth[i]=$(jq -r '.interfaces[] | select(.sandbox == null and (.name | startswith("veth"))) | .name' "$TMPD/r$i.json")
	mac[i]=$(ip -n "${P}p$i" -j link show dev eth0 | jq -r '.[0].address')
done

# ---- VERSION ----
cni_ok "VERSION" VERSION <(echo '{"cniVersion":"1.0.0"}') &&
	jcheck "VERSION lists 1.1.0, 1.0.0 and 0.4.0" \
		'.cniVersion == "1.0.0" and (.supportedVersions | index("1.1.0") and index("1.0.0") and index("0.4.0"))'

# ---- STATUS (1.1) ----
xdpctl_conf "" '.cniVersion = "1.1.0"' >"$TMPD/status.json"
cni_ok "STATUS with xdpctl attached" STATUS "$TMPD/status.json" CNI_CONTAINERID= CNI_NETNS= CNI_IFNAME=
xdpctl_conf "" ".cniVersion = \"1.1.0\" | .pinDir = \"$PIN-none\"" >"$TMPD/status-none.json"
cni_err "STATUS without xdpctl: code 50" 50 STATUS "$TMPD/status-none.json" &&
	check "  says how to fix it" grep -q "xdpctl attach DEV" <<<"$OUT"
xdpctl_conf "" >"$TMPD/status10.json"
cni_err "STATUS under cniVersion 1.0.0: code 1" 1 STATUS "$TMPD/status10.json"

# ---- bad input changes nothing ----
table >"$TMPD/t0"
devices >"$TMPD/d0"
unchanged_table() {
	CHECKS=$((CHECKS + 1))
	if [[ $(table) != "$(cat "$TMPD/t0")" || $(devices) != "$(cat "$TMPD/d0")" ]]; then
		fail_check "$1: the container table changed" "$(table)" "$(devices)"
		return 1
	fi
}
xdpctl_conf "" >"$TMPD/noprev.json"
cni_err "ADD without prevResult: code 7" 7 ADD "$TMPD/noprev.json" &&
	check "  names the fix" grep -q "chained plugin" <<<"$OUT"
xdpctl_conf "$TMPD/r1.json" '.cniVersion = "9.9.9"' >"$TMPD/badver.json"
cni_err "ADD with an unknown cniVersion: code 1" 1 ADD "$TMPD/badver.json"
printf '{"cniVersion": "1.0.0", "name": ' >"$TMPD/malformed.json"
cni_err "ADD with malformed JSON: code 6" 6 ADD "$TMPD/malformed.json"
printf '{"cniVersion": "1.0.0"} trailing' >"$TMPD/trailing.json"
cni_err "ADD with data after the JSON: code 6" 6 ADD "$TMPD/trailing.json"
cni_err "ADD into a netns that does not exist: code 4" 4 ADD "$TMPD/x1.json" \
	CNI_NETNS="/run/netns/${P}nosuch"
cni_err "CNI_COMMAND unset: code 4" 4 ADD "$TMPD/x1.json" CNI_COMMAND=
cni_err "CNI_COMMAND unknown: code 4" 4 FROB "$TMPD/x1.json"
cni_err "CNI_CONTAINERID unset: code 4" 4 ADD "$TMPD/x1.json" CNI_CONTAINERID=
xdpctl_conf "$TMPD/r1.json" '.mode = "nonsense"' >"$TMPD/badmode.json"
cni_err "an unsupported mode: code 2" 2 ADD "$TMPD/badmode.json" &&
	check "  names key and value" grep -q '"mode\\": \\"nonsense\\"' <<<"$OUT"
xdpctl_conf "$TMPD/r1.json" ".pinDir = \"$PIN-none\"" >"$TMPD/nostate.json"
cni_err "ADD with no xdpctl state: code 11" 11 ADD "$TMPD/nostate.json" &&
	check "  says how to fix it" grep -q "xdpctl attach DEV" <<<"$OUT"
cni_err "CHECK before ADD: not in the table" 102 CHECK "$TMPD/x1.json"
unchanged_table "bad input"

# ---- ADD, a retried ADD, CHECK ----
cni_ok "ADD pod1" ADD "$TMPD/x1.json" &&
	check "ADD passes prevResult through" \
		test "$(jq -S . <<<"$OUT")" = "$(jq -S '. + {cniVersion: "1.0.0"}' "$TMPD/r1.json")"
ok "list" -n "$N" -j bypass list &&
	jcheck "pod1's entry: address, host veth, pod MAC" \
		"length == 1 and .[0].addr == \"${ip4[1]}\" and .[0].dev == \"${veth[1]}\" and .[0].mac == \"${mac[1]}\""
cni_ok "ADD pod1 again (a retry) succeeds" ADD "$TMPD/x1.json"
ok "list" -n "$N" -j bypass list && jcheck "still one entry" 'length == 1'
cni_ok "CHECK pod1" CHECK "$TMPD/x1.json" && check "  CHECK prints nothing" test -z "$OUT"
xdpctl_conf "$TMPD/r1.json" '.prevResult.interfaces |= map(if .sandbox then .mac = "02:00:00:00:00:01" else . end)' \
	>"$TMPD/badmac.json"
cni_err "CHECK with another MAC: mismatch" 103 CHECK "$TMPD/badmac.json"
xdpctl_conf "$TMPD/r1.json" '.cniVersion = "0.3.1"' >"$TMPD/v031.json"
cni_err "CHECK under cniVersion 0.3.1: code 1" 1 CHECK "$TMPD/v031.json"

# ---- dual stack: an IPv6 address of the pod as well (prevResult as bridge writes it) ----
cni_ok "DEL pod1" DEL "$TMPD/x1.json"
jq -c --arg a "2001:db8:$NET3::5/64" '.prevResult.ips += [.prevResult.ips[0] | .address = $a | del(.gateway)]' \
	"$TMPD/x1.json" >"$TMPD/x1v6.json"
cni_ok "ADD pod1 with IPv4 and IPv6" ADD "$TMPD/x1v6.json"
ok "list" -n "$N" -j bypass list &&
	jcheck "an entry per address, both to pod1's veth" \
		"length == 2 and (map(.addr) | sort) == ([\"${ip4[1]}\", \"2001:db8:$NET3::5\"] | sort) and all(.[]; .dev == \"${veth[1]}\" and .mac == \"${mac[1]}\")"
cni_ok "CHECK pod1 with IPv4 and IPv6" CHECK "$TMPD/x1v6.json"
cni_ok "DEL pod1 with IPv4 and IPv6" DEL "$TMPD/x1v6.json"
ok "list" -n "$N" -j bypass list && jcheck "both removed" 'length == 0'
cni_ok "ADD pod1" ADD "$TMPD/x1.json"

# ---- an address of another live pod: refused, the pod's first address rolled back ----
cni_ok "ADD pod2" ADD "$TMPD/x2.json" CNI_CONTAINERID=pod2 CNI_NETNS="/run/netns/${P}p2"
cni_ok "DEL pod1" DEL "$TMPD/x1.json"
table >"$TMPD/t0"
devices >"$TMPD/d0"
# pod1 claims its own address and then pod2's: the second is refused, the first undone.
jq -c --arg a "${ip4[2]}/24" '.prevResult.ips += [.prevResult.ips[0] | .address = $a]' \
	"$TMPD/x1.json" >"$TMPD/taken.json"
cni_err "ADD of another pod's address: code 101" 101 ADD "$TMPD/taken.json" &&
	check "  names the owner" grep -q "${veth[2]}" <<<"$OUT"
unchanged_table "a refused ADD"

# ---- DEL: idempotent, and without prevResult, netns, veth or state ----
cni_ok "ADD pod1" ADD "$TMPD/x1.json"
cni_ok "DEL pod1 without prevResult (found by its netns)" DEL "$TMPD/noprev.json"
ok "list" -n "$N" -j bypass list && jcheck "only pod2 left" "length == 1 and .[0].addr == \"${ip4[2]}\""
cni_ok "ADD pod1" ADD "$TMPD/x1.json"
cni_ok "DEL pod1 with its netns gone" DEL "$TMPD/x1.json" CNI_NETNS="/run/netns/${P}nosuch"
ok "list" -n "$N" -j bypass list && jcheck "only pod2 left" "length == 1 and .[0].addr == \"${ip4[2]}\""
table >"$TMPD/t0"
devices >"$TMPD/d0"
cni_ok "DEL pod1 again" DEL "$TMPD/x1.json"
cni_ok "DEL without prevResult or netns" DEL "$TMPD/noprev.json" CNI_NETNS=
cni_ok "DEL with no xdpctl state" DEL "$TMPD/nostate.json"
unchanged_table "DEL of what is gone"

# ---- CHECK reports a removed host veth; a stale entry is taken over ----
cni_ok "ADD pod1" ADD "$TMPD/x1.json"
ip -n "$N" link del "${veth[1]}"
cni_err "CHECK after the host veth was removed: code 104" 104 CHECK "$TMPD/x1.json" &&
	check "  names the veth" grep -q "${veth[1]}" <<<"$OUT"
# pod1's DEL does not come (yet); its address is given to pod2.
jq -c --arg a "${ip4[1]}/24" '.prevResult.ips += [.prevResult.ips[0] | .address = $a]' \
	"$TMPD/x2.json" >"$TMPD/x2b.json"
cni_ok "ADD pod2 with pod1's address, whose entry is stale" ADD "$TMPD/x2b.json" \
	CNI_CONTAINERID=pod2 CNI_NETNS="/run/netns/${P}p2"
ok "list" -n "$N" -j bypass list &&
	jcheck "both addresses go to pod2" "length == 2 and all(.[]; .dev == \"${veth[2]}\")"
cni_ok "DEL pod1, late" DEL "$TMPD/x1.json"
ok "list" -n "$N" -j bypass list &&
	jcheck "the late DEL leaves pod2's entries" "length == 2 and all(.[]; .dev == \"${veth[2]}\")"

# ---- GC (1.1): the entries of gone veths, and only those ----
xdpctl_conf "" '.cniVersion = "1.1.0" | .["cni.dev/valid-attachments"] = [{containerID: "pod2", ifname: "eth0"}]' \
	>"$TMPD/gc.json"
cni_ok "GC with every veth present" GC "$TMPD/gc.json" CNI_CONTAINERID= CNI_NETNS= CNI_IFNAME=
ok "list" -n "$N" -j bypass list && jcheck "GC left the live entries" 'length == 2'
ip -n "$N" link del "${veth[2]}"
cni_ok "GC after pod2's veth went" GC "$TMPD/gc.json" CNI_CONTAINERID= CNI_NETNS= CNI_IFNAME=
ok "list" -n "$N" -j bypass list && jcheck "GC removed the stale entries" 'length == 0'
cni_ok "DEL pod2 after GC" DEL "$TMPD/x2b.json" CNI_CONTAINERID=pod2 CNI_NETNS="/run/netns/${P}p2"
ok "list" -n "$N" -j bypass list && jcheck "the table is empty" 'length == 0'
ok "status" -n "$N" -j status &&
	jcheck "only the uplink is left (veth setup undone)" "length == 1 and .[0].dev == \"${P}up\""

for i in 1 2; do
	CID=pod$i NETNS=/run/netns/${P}p$i cni_exec "$CNI_BIN/bridge" DEL "$TMPD/bridge.json"
done
finish
