#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad input against a real, attached state: each error names the problem and
# the fix in one "Error: " line, exits 1, and leaves the state as it was
# (rules, devices and pinned files compared before and after).
source "$(dirname "$0")/lib.sh"
need_root
PASS_OBJ=${PASS_OBJ:?set PASS_OBJ to pass.bpf.o}
PIN_SMALL=${PIN}s
PIN_STALE=${PIN}o
CLEANUP_EXTRA+=("rm -rf $PIN_SMALL $PIN_STALE")

lab_up || { echo "FAIL: lab setup"; exit 1; }
ok "attach" -n "$H" attach "${P}up" --engine xdp || finish
ok "bypass add" -n "$H" bypass add 198.19.0.3 dev "${P}v2"
ok "pingpong add" -n "$H" pingpong add 198.19.0.9
snapshot before

# Arguments.
bad "bad address" "^Error: 198\.19\.0\.300: not an IPv4 or IPv6 address$" -n "$H" bypass add 198.19.0.300 dev "${P}v1"
unchanged before "bad address"
bad "bad MAC" "^Error: 02:00:00:00:00:zz: not a MAC address" -n "$H" bypass add 198.19.0.2 dev "${P}v1" --mac 02:00:00:00:00:zz
unchanged before "bad MAC"
bad "unknown device (bypass)" "^Error: no such device: eth9( |$)" -n "$H" bypass add 198.19.0.2 dev eth9
unchanged before "unknown device (bypass)"
bad "unknown device (attach)" "^Error: no such device: eth9( |$)" -n "$H" attach eth9
unchanged before "unknown device (attach)"
bad "no such netns" "no network namespace '${P}zz'" -n "${P}zz" status
bad "short MAC" "^Error: 1:2: not a MAC address" -n "$H" bypass add 198.19.0.2 dev "${P}v1" --mac 1:2
bad_json "bad MAC, -j" "not a MAC address" -n "$H" bypass add 198.19.0.2 dev "${P}v1" --mac 1:2
unchanged before "bad MAC, -j"

# Devices that are not attached.
bad "detach not attached" "^Error: ${P}v1 is not attached: run 'xdpctl attach ${P}v1' first$" -n "$H" detach "${P}v1"
bad "detach a bypassed veth" "^Error: ${P}v2 is a bypassed veth, not an uplink: it goes with its last bypass rule" -n "$H" detach "${P}v2"
unchanged before "detach not attached"
bad "status not attached" "^Error: ${P}br is not attached: run 'xdpctl attach ${P}br' first$" -n "$H" status "${P}br"

# Rule addresses a reply could not go back to unicast (issue 15, item 5).
bad "pingpong: broadcast" "^Error: 255\.255\.255\.255 is the broadcast address: ping-pong answers unicast addresses only" pingpong add 255.255.255.255
bad "pingpong: multicast" "^Error: 224\.0\.0\.1 is a multicast address: ping-pong answers unicast" pingpong add 224.0.0.1
bad "pingpong: 0/8" "^Error: 0\.1\.2\.3 is an address of 0\.0\.0\.0/8: ping-pong" pingpong add 0.1.2.3
bad "pingpong: loopback" "^Error: 127\.0\.0\.1 is a loopback address: ping-pong" pingpong add 127.0.0.1
bad "pingpong: v6 multicast" "^Error: ff02::1 is a multicast address: ping-pong" pingpong add ff02::1
bad "pingpong: v6 loopback" "^Error: ::1 is the loopback address: ping-pong" pingpong add ::1
bad "bypass: multicast" "^Error: 239\.1\.2\.3 is a multicast address: a bypass rule needs a container's unicast address$" -n "$H" bypass add 239.1.2.3 dev "${P}v1"
printf '198.19.0.20 dev %s\nff05::2 dev %s\n' "${P}v1" "${P}v1" >"$TMPD/bad6.rules"
bad "load: multicast" "bad6.rules:2: ff05::2 is a multicast address: a bypass rule needs" -n "$H" bypass load "$TMPD/bad6.rules"
unchanged before "special rule addresses"

# Rules: duplicate, missing.
bad "duplicate bypass rule" "a bypass rule for 198\.19\.0\.3 exists: delete it first with 'xdpctl bypass del 198\.19\.0\.3'" -n "$H" bypass add 198.19.0.3 dev "${P}v1"
unchanged before "duplicate bypass rule"
bad "duplicate ping-pong rule" "a ping-pong rule for 198\.19\.0\.9 exists" pingpong add 198.19.0.9 --hook tc
unchanged before "duplicate ping-pong rule"
bad "missing bypass rule" "^Error: no bypass rule for 198\.19\.0\.99: see 'xdpctl bypass list'$" bypass del 198.19.0.99
bad "missing bypass rule (v6)" "no bypass rule for 2001:db8:19::99" bypass del 2001:db8:19:0::99
bad "missing ping-pong rule" "no ping-pong rule for 198\.19\.0\.98" pingpong del 198.19.0.98
unchanged before "missing rules"

# bypass load: the whole file is checked first; file:line on error; nothing stored.
printf '# two good lines, then a bad one\n198.19.0.20 dev %s\n198.19.0.21 dev %s mac 02:00:00:00:00:21\n198.19.0.300 dev %s\n' \
	"${P}v1" "${P}v1" "${P}v1" >"$TMPD/bad1.rules"
bad "load: bad address" "$TMPD/bad1.rules:4: 198\.19\.0\.300: not an IPv4 or IPv6 address" -n "$H" bypass load "$TMPD/bad1.rules"
printf '198.19.0.20 dev %s\n198.19.0.20 dev %s\n' "${P}v1" "${P}v1" >"$TMPD/bad2.rules"
bad "load: repeated address" "bad2.rules:2: 198\.19\.0\.20 repeats line 1" -n "$H" bypass load "$TMPD/bad2.rules"
printf '198.19.0.20 dev eth9\n' >"$TMPD/bad3.rules"
bad "load: unknown device" "bad3.rules:1: no such device: eth9" -n "$H" bypass load "$TMPD/bad3.rules"
printf '198.19.0.20 dev %s\n198.19.0.3 dev %s\n' "${P}v1" "${P}v2" >"$TMPD/bad4.rules"
bad "load: rule exists" "bad4.rules:2: a bypass rule for 198\.19\.0\.3 exists" -n "$H" bypass load "$TMPD/bad4.rules"
printf '198.19.0.20 via %s\n' "${P}v1" >"$TMPD/bad5.rules"
bad "load: syntax" "bad5.rules:1: expected 'ADDR dev VETH \[mac MAC\]'" -n "$H" bypass load "$TMPD/bad5.rules"
printf '198.19.0.20 dev %s mac 02:zz:00:00:00:01\n' "${P}v1" >"$TMPD/bad6.rules"
bad "load: bad MAC" "bad6.rules:1: 02:zz:00:00:00:01: not a MAC address" -n "$H" bypass load "$TMPD/bad6.rules"
bad "load: no file" "$TMPD/none.rules: No such file or directory" -n "$H" bypass load "$TMPD/none.rules"
unchanged before "bypass load errors"

# Not root: no capabilities, same words whatever the command.
for cmd in "bypass list" "stats" "attach lo" "trace --count 1"; do
	CHECKS=$((CHECKS + 1))
	# shellcheck disable=SC2086
	OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$XDPCTL" $cmd 2>"$TMPD/err")
	RC=$?
	ERR=$(cat "$TMPD/err")
	if [[ $RC -ne 1 || $ERR != "Error: needs root (CAP_BPF and CAP_NET_ADMIN)" || -n $OUT ]]; then
		fail_check "not root: $cmd" "expected exit 1 and 'Error: needs root (CAP_BPF and CAP_NET_ADMIN)'"
	fi
done
unchanged before "not root"

# No bpffs: a private mount namespace without it.
CHECKS=$((CHECKS + 1))
OUT=$(unshare -m --propagation private sh -c 'umount -l /sys/fs/bpf && exec "$0" bypass list' "$XDPCTL" 2>"$TMPD/err")
RC=$?
ERR=$(cat "$TMPD/err")
if [[ $RC -ne 1 || $ERR != "Error: no bpffs at /sys/fs/bpf: mount -t bpf bpf /sys/fs/bpf" ]]; then
	fail_check "no bpffs" "expected 'Error: no bpffs at /sys/fs/bpf: mount -t bpf bpf /sys/fs/bpf'"
fi
bad "pin dir not on bpffs" "^Error: no bpffs at $TMPD \(pin dir $TMPD/state\): choose a pin dir on a bpffs, e.g. under /sys/fs/bpf$" --pin-dir "$TMPD/state" bypass list
unchanged before "no bpffs"

# Map full: a second state with room for 2 bypass rules, attached to a device of its own.
ip -n "$H" link add "${P}d0" type veth peer name "${P}d1" && ip -n "$H" link set "${P}d0" up
# A veth whose peer is in the same namespace: tc's redirect_peer would drop (item 8).
snapshot samens
bad "bypass to a same-namespace veth" "^Error: 198\.19\.0\.50: ${P}d1: its peer ${P}d0 is in the same network namespace, not a container's: bypass delivers into the peer's namespace" -n "$H" bypass add 198.19.0.50 dev "${P}d1"
printf '198.19.0.50 dev %s\n' "${P}d1" >"$TMPD/samens.rules"
bad "load to a same-namespace veth" "its peer ${P}d0 is in the same network namespace" -n "$H" bypass load "$TMPD/samens.rules"
unchanged samens "same-namespace veth"
ok "attach with --max-rules 2" --pin-dir "$PIN_SMALL" -n "$H" attach "${P}d0" --engine tc --max-rules 2
ok "rule 1 of 2" --pin-dir "$PIN_SMALL" -n "$H" bypass add 198.19.0.30 dev "${P}v1"
ok "rule 2 of 2" --pin-dir "$PIN_SMALL" -n "$H" bypass add 198.19.0.31 dev "${P}v1"
x --pin-dir "$PIN_SMALL" -j bypass list
before_full=$OUT
bad "map full" "the bypass map is full" --pin-dir "$PIN_SMALL" -n "$H" bypass add 198.19.0.32 dev "${P}v1"
x --pin-dir "$PIN_SMALL" -j bypass list
check "map full: rules unchanged" test "$OUT" = "$before_full"
printf '198.19.0.40 dev %s\n198.19.0.41 dev %s\n' "${P}v1" "${P}v1" >"$TMPD/full.rules"
bad "load into a full map" "no room|full" --pin-dir "$PIN_SMALL" -n "$H" bypass load "$TMPD/full.rules"
x --pin-dir "$PIN_SMALL" -j bypass list
check "load into full map: rules unchanged" test "$OUT" = "$before_full"
ok "bypass del in small state" --pin-dir "$PIN_SMALL" -n "$H" bypass del 198.19.0.30
ok "bypass del in small state" --pin-dir "$PIN_SMALL" -n "$H" bypass del 198.19.0.31
ok "detach small state" --pin-dir "$PIN_SMALL" -n "$H" detach "${P}d0"
unchanged before "a second state"

# A stale pinned map (another layout under the same name).
mkdir -p "$PIN_STALE"
bpftool map create "$PIN_STALE/xdpctl_stats" type array key 4 value 4 entries 1 name xdpctl_stats
bad "stale layout" "^Error: $PIN_STALE/xdpctl_stats: pinned map has another layout.*: rm $PIN_STALE/xdpctl_stats \(or 'rm -r $PIN_STALE' for all the state\), then attach again$" --pin-dir "$PIN_STALE" -n "$H" attach "${P}up" --engine tc
check "stale map left alone" test -e "$PIN_STALE/xdpctl_stats"
check "stale: nothing else pinned" test "$(ls "$PIN_STALE")" = xdpctl_stats
unchanged before "stale layout"

# Another XDP program owns the device.
ok "detach" -n "$H" detach "${P}up"
snapshot before
ip -n "$H" link set dev "${P}up" xdp obj "$PASS_OBJ" sec xdp.frags
other=$(ip -n "$H" -j link show dev "${P}up" | jq '.[0].xdp.prog.id')
bad "foreign XDP program" "${P}up.*(xdpctl_pass|$other).*use '--engine tc' to run beside it, or '--force' to replace it" -n "$H" attach "${P}up" --engine xdp
check "foreign program still there" test "$(ip -n "$H" -j link show dev "${P}up" | jq '.[0].xdp.prog.id')" = "$other"
unchanged before "foreign XDP program"
ok "--engine tc beside it" -n "$H" attach "${P}up" --engine tc
check "foreign program kept by --engine tc" test "$(ip -n "$H" -j link show dev "${P}up" | jq '.[0].xdp.prog.id')" = "$other"
ok "detach tc" -n "$H" detach "${P}up"
check "foreign program kept by detach" test "$(ip -n "$H" -j link show dev "${P}up" | jq '.[0].xdp.prog.id')" = "$other"
ok "--force replaces it" -n "$H" attach "${P}up" --engine xdp --force
check "foreign program replaced" test "$(ip -n "$H" -j link show dev "${P}up" | jq '.[0].xdp.prog.id')" != "$other"

finish
