#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every device and rule command in its human and its JSON form, on a real lab
# (namespaces, veths, a bridge) with real traffic: the counters the commands
# show must count the pings that were sent.
source "$(dirname "$0")/lib.sh"
need_root
PASS_OBJ=${PASS_OBJ:?set PASS_OBJ to pass.bpf.o}

lab_up || { echo "FAIL: lab setup"; exit 1; }
# XDP_TX back into the client's veth needs an XDP program on it (docs/design.md, Traps).
ip -n "${P}cl" link set dev eth0 xdp obj "$PASS_OBJ" sec xdp.frags
mac_c1=$(ip -n "${P}c1" -j link show dev eth0 | jq -r '.[0].address')
mac_c2=$(ip -n "${P}c2" -j link show dev eth0 | jq -r '.[0].address')
ping_cl() { in_ns "${P}cl" ping "$@" >/dev/null 2>&1; }

# ---- attach, status ----
# The lab's host has no NAT: the per-address bypass, named explicitly (the default follows conntrack).
ok "attach (xdp)" -n "$H" attach "${P}up" --engine xdp --mode native --fast-path skip-firewall &&
	check "attach line" grep -Eq "^${P}up: attached, fast path skip-firewall, engine xdp, XDP native \(prog [0-9]+, by (libxdp|libxdp-dispatcher|bpf_xdp_attach)\), tc ingress \(prog [0-9]+\)$" <<<"$OUT" &&
	check "attach says what skip-firewall skips" grep -q "bypass netfilter, NAT, conntrack and Docker's policy" <<<"$OUT"
ok "status" -n "$H" status &&
	check "status header" grep -Eq "^DEVICE +IFINDEX ROLE +FAST_PATH +ENGINE XDP_MODE +XDP_PROG +TC_PROG RULES MAC" <<<"$OUT" &&
	check "status row" grep -Eq "^${P}up +[0-9]+ uplink +skip-firewall +xdp +native +[0-9]+ +[0-9]+ +0 [0-9a-f:]{17} +(-|[0-9]+)$" <<<"$OUT"
ok "status -j" -n "$H" -j status &&
	jcheck "status JSON" "type == \"array\" and length == 1 and .[0].dev == \"${P}up\" and .[0].role == \"uplink\" and .[0].engine == \"xdp\" and .[0].xdp_mode == \"native\" and .[0].xdp_prog_id > 0 and .[0].tc_prog_id > 0 and .[0].present == true and (.[0].xdp_path | type == \"string\")"
xdp_id=$(jq '.[0].xdp_prog_id' <<<"$OUT")
check "XDP program really on the device" test "$(ip -n "$H" -j link show dev "${P}up" | jq '.[0].xdp.prog.id')" = "$xdp_id"
ok "status DEV -j" -n "$H" -j status "${P}up" && jcheck "status DEV JSON" "length == 1 and .[0].dev == \"${P}up\""
ok "status (memory line)" -n "$H" status &&
	check "status memory line" grep -Eq "^state .*: [0-9]+ maps, [0-9.]+ MiB of kernel memory" <<<"$OUT"
ok "status --maps" -n "$H" status --maps &&
	check "maps header" grep -Eq "^MAP +TYPE +ID +MAX_ENTRIES +PREALL +MEMORY_BYTES" <<<"$OUT" &&
	check "maps row" grep -Eq "^xdpctl_bypass +hash +[0-9]+ +[0-9]+ +no +[1-9][0-9]+$" <<<"$OUT"
ok "status --maps -j" -n "$H" -j status --maps &&
	jcheck "maps JSON" 'type == "array" and (map(.name) | index("xdpctl_bypass") != null) and all(.[]; .memory_bytes > 0 and .max_entries > 0) and (.[] | select(.name == "xdpctl_bypass") | .preallocated == false and .type == "hash")'
# The bypass map is not preallocated (ABI 6): it grows with the rules stored (below).
bypass_mem0=$(jq '.[] | select(.name == "xdpctl_bypass") | .memory_bytes' <<<"$OUT")

ok "attach -j (re-attach keeps the state)" -n "$H" -j attach "${P}up" --engine xdp --mode generic --fast-path skip-firewall &&
	jcheck "attach JSON" ".dev == \"${P}up\" and .engine == \"xdp\" and .xdp_mode == \"generic\" and .xdp_prog_id > 0 and .fast_path == \"skip-firewall\""

# ---- ping-pong ----
ok "pingpong add (xdp)" -n "$H" pingpong add 198.19.0.9 --hook xdp && check "pingpong add is quiet" test -z "$OUT"
ok "pingpong add -j (tc, v6)" -n "$H" -j pingpong add 2001:db8:19::9 --hook tc &&
	jcheck "pingpong add JSON" '.addr == "2001:db8:19::9" and .hooks == "tc"'
ok "pingpong add (both)" -n "$H" pingpong add 198.19.0.10
check "ping 198.19.0.9 answered by XDP" ping_cl -c3 -i0.2 -W2 198.19.0.9
check "ping 2001:db8:19::9 answered by tc" ping_cl -6 -c3 -i0.2 -W2 2001:db8:19::9
ok "pingpong list" pingpong list &&
	check "pingpong list header" grep -Eq "^ADDRESS +HOOKS +REPLY_PKTS +REPLY_BYTES$" <<<"$OUT" &&
	check "pingpong list row" grep -Eq "^198\.19\.0\.9 +xdp +3 +294$" <<<"$OUT"
ok "pingpong list -j" -j pingpong list &&
	jcheck "pingpong list JSON" 'type == "array" and length == 3 and (map(.addr) == ["198.19.0.9", "198.19.0.10", "2001:db8:19::9"])' &&
	jcheck "XDP replies counted" '.[] | select(.addr == "198.19.0.9") | .hooks == "xdp" and .reply_packets == 3 and .reply_bytes == 294' &&
	jcheck "tc replies counted" '.[] | select(.addr == "2001:db8:19::9") | .reply_packets == 3'
ok "pingpong show (alias)" pingpong show
ok "pingpong del" pingpong del 198.19.0.10
ok "pingpong del -j" -j pingpong del 2001:db8:19::9 && jcheck "pingpong del JSON" '.addr == "2001:db8:19::9" and .deleted == true'
ok "pingpong list after del" -j pingpong list && jcheck "one left" 'length == 1 and .[0].addr == "198.19.0.9"'

# ---- bypass ----
ok "bypass add dev" -n "$H" bypass add 198.19.0.3 dev "${P}v2" && check "bypass add is quiet" test -z "$OUT"
ok "bypass add -j dev --mac" -n "$H" -j bypass add 2001:db8:19::3 dev "${P}v2" --mac "$mac_c2" &&
	jcheck "bypass add JSON" ".addr == \"2001:db8:19::3\" and .dev == \"${P}v2\" and .mac == \"$mac_c2\""
ok "status --maps -j (two rules)" -n "$H" -j status --maps &&
	jcheck "bypass map memory grew with its rules" "(.[] | select(.name == \"xdpctl_bypass\") | .memory_bytes) > $bypass_mem0"
check "ping 198.19.0.3 through the bypass" ping_cl -c3 -i0.2 -W2 198.19.0.3
check "ping 2001:db8:19::3 through the bypass" ping_cl -6 -c3 -i0.2 -W2 2001:db8:19::3
ok "bypass list" -n "$H" bypass list &&
	check "bypass list header" grep -Eq "^ADDRESS +DEVICE +IFINDEX MAC +IN_PKTS +IN_BYTES +OUT_PKTS +OUT_BYTES$" <<<"$OUT" &&
	check "bypass list row" grep -Eq "^198\.19\.0\.3 +${P}v2 +[0-9]+ $mac_c2 +[3-9] +[0-9]+ +[0-9]+ +[0-9]+$" <<<"$OUT"
ok "bypass list -j" -n "$H" -j bypass list &&
	jcheck "bypass list JSON" "type == \"array\" and length == 2 and (map(.addr) == [\"198.19.0.3\", \"2001:db8:19::3\"]) and all(.[]; .dev == \"${P}v2\" and .mac == \"$mac_c2\" and .stale == false)" &&
	jcheck "bypass counts the pings (v4)" '.[] | select(.addr == "198.19.0.3") | .in_packets >= 3 and .in_bytes >= 294' &&
	jcheck "bypass counts the pings (v6)" '.[] | select(.addr == "2001:db8:19::3") | .in_packets >= 3'
ok "status shows the veth" -n "$H" -j status &&
	jcheck "veth in status" ".[] | select(.dev == \"${P}v2\") | .role == \"veth\" and .rules == 2"

# bypass load: comments, blank lines, with and without mac.
cat >"$TMPD/rules" <<EOF
# container 1, both families
198.19.0.2 dev ${P}v1

2001:db8:19::2 dev ${P}v1 mac $mac_c1   # explicit MAC
EOF
ok "bypass load" -n "$H" bypass load "$TMPD/rules" && check "load line" test "$OUT" = "$TMPD/rules: loaded 2 bypass rules"
check "ping 198.19.0.2 through the loaded rule" ping_cl -c2 -i0.2 -W2 198.19.0.2
ok "bypass list after load" -n "$H" -j bypass list &&
	jcheck "loaded rules" "length == 4 and ([.[] | select(.dev == \"${P}v1\") | .addr] == [\"198.19.0.2\", \"2001:db8:19::2\"]) and all(.[] | select(.dev == \"${P}v1\"); .mac == \"$mac_c1\")" &&
	jcheck "loaded rule forwards" '.[] | select(.addr == "198.19.0.2") | .in_packets >= 2'
printf '198.19.0.50 dev %s\n' "${P}v1" >"$TMPD/rules2"
ok "bypass load -j" -n "$H" -j bypass load "$TMPD/rules2" && jcheck "load JSON" '.rules == 1'
ok "bypass del" bypass del 198.19.0.50 && check "bypass del is quiet" test -z "$OUT"

# ---- stats ----
ok "stats" -n "$H" stats &&
	check "stats header" grep -Eq "^HOOK +REASON +PACKETS +BYTES$" <<<"$OUT" &&
	check "stats xdp rx" grep -Eq "^xdp +rx +[0-9]+ +[0-9]+$" <<<"$OUT" &&
	check "stats xdp bypass" grep -Eq "^xdp +bypass +[0-9]+ +[0-9]+$" <<<"$OUT" &&
	check "stats xdp pingpong" grep -Eq "^xdp +pingpong +3 +294$" <<<"$OUT"
ok "stats -j" -j stats &&
	jcheck "stats JSON shape" '(.counters | type == "array") and (.counters | length) >= 45 and all(.counters[]; (.hook | type == "string") and (.reason | type == "string") and (.packets | type == "number") and (.bytes | type == "number"))' &&
	jcheck "every packet counted once besides rx" '[.counters[] | select(.hook == "xdp")] as $x | ($x | map(select(.reason == "rx")) | .[0].packets) == ($x | map(select(.reason != "rx") | .packets) | add)' &&
	jcheck "xdp bypass >= 8" '.counters[] | select(.hook == "xdp" and .reason == "bypass") | .packets >= 8' &&
	check "no rules without --rules" test "$(jq 'has("bypass_rules")' <<<"$OUT")" = false
ok "stats --rules" -n "$H" stats --rules &&
	check "stats --rules has the bypass table" grep -Eq "^198\.19\.0\.3 +${P}v2 " <<<"$OUT" &&
	check "stats --rules has the ping-pong table" grep -Eq "^198\.19\.0\.9 +xdp +3 " <<<"$OUT"
ok "stats --rules -j" -n "$H" -j stats --rules &&
	jcheck "stats --rules JSON" '(.bypass_rules | length) == 4 and (.pingpong_rules | length) == 1 and (.counters | length) >= 45'

# Prometheus text format: every line a HELP, a TYPE or a sample of a declared counter.
ok "stats --prometheus --rules" -n "$H" stats --prometheus --rules
printf '%s\n' "$OUT" >"$TMPD/prom.txt"
CHECKS=$((CHECKS + 1))
if ! python3 - "$P" "$TMPD/prom.txt" >"$TMPD/prom.err" 2>&1 <<'PY'
import re, sys
p = sys.argv[1]
typed, helped, samples = {}, set(), {}
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(rf'^({name})(?:\{{({label}(?:,{label})*)?\}})? (-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)$')
for n, line in enumerate(open(sys.argv[2]).read().splitlines(), 1):
    if line.startswith('# HELP '):
        helped.add(line.split()[2]); continue
    if line.startswith('# TYPE '):
        _, _, metric, kind = line.split()
        assert kind in ('counter', 'gauge', 'histogram'), f'line {n}: {line}'
        assert metric not in typed, f'line {n}: TYPE twice'
        typed[metric] = kind; continue
    m = sample.match(line)
    assert m, f'line {n}: not a sample: {line!r}'
    family = re.sub(r'_(bucket|sum|count)$', '', m.group(1))
    if typed.get(family) != 'histogram':
        family = m.group(1)
    assert family in typed and family in helped, f'line {n}: no TYPE/HELP before {m.group(1)}'
    assert typed[family] != 'counter' or family.endswith('_total'), f'line {n}: a counter ends in _total'
    assert typed[family] != 'histogram' or family.endswith('_bytes'), f'line {n}: a size histogram in bytes'
    samples[(m.group(1), m.group(2))] = float(m.group(3))
assert samples[('xdpctl_packets_total', 'hook="xdp",reason="pingpong"')] == 3
assert samples[('xdpctl_bytes_total', 'hook="xdp",reason="pingpong"')] == 294
assert samples[('xdpctl_packets_total', 'hook="xdp",reason="bypass"')] >= 8
assert samples[('xdpctl_bypass_packets_total', f'addr="198.19.0.3",dev="{p}v2",direction="in"')] >= 3
assert samples[('xdpctl_pingpong_packets_total', 'addr="198.19.0.9"')] == 3
assert len([k for k in samples if k[0] == 'xdpctl_packets_total']) >= 45
PY
then
	fail_check "Prometheus format" "$(cat "$TMPD/prom.err")"
fi
ok "stats --prometheus (no rules)" stats --prometheus &&
	check "no per-rule metrics without --rules" test "$(grep -c xdpctl_bypass_packets_total <<<"$OUT")" -eq 0

# Rates: a steady ping (20/s for 3 s) during two 1-second intervals.
pinger() {
	nsenter --net="/run/netns/${P}cl" -- ping -c 60 -i 0.05 -W1 198.19.0.3 >/dev/null 2>&1 &
	PINGER=$!
	CLEANUP_EXTRA+=("kill $PINGER")
	sleep 0.3
}
pinger
ok "stats --watch 1 --count 2" -n "$H" stats --watch 1 --count 2 --rules &&
	check "two intervals" test "$(grep -c '^HOOK ' <<<"$OUT")" -eq 2 &&
	check "rate header" grep -Eq "^HOOK +REASON +PPS +BPS\(bit/s\)$" <<<"$OUT" &&
	check "xdp bypass rate" grep -Eq "^xdp +bypass +[1-9][0-9]*\.[0-9] +[1-9][0-9]*$" <<<"$OUT" &&
	check "per-rule rate" grep -Eq "^198\.19\.0\.3 +${P}v2 +[1-9][0-9]*\.[0-9] " <<<"$OUT"
wait "$PINGER" 2>/dev/null
pinger
ok "stats --watch -j" -n "$H" -j stats --watch 1 --count 2 --rules &&
	check "two JSON lines" test "$(grep -c . <<<"$OUT")" -eq 2 &&
	check "each line parses" jq -es 'length == 2 and all(.[]; (.interval_s > 0.5) and (.rates | length) >= 45)' <<<"$OUT" &&
	check "bypass pps > 5" jq -es '[.[].rates[] | select(.hook == "xdp" and .reason == "bypass") | .pps] | min > 5' <<<"$OUT" &&
	check "rule in_pps > 5" jq -es "[.[].bypass_rules[] | select(.addr == \"198.19.0.3\") | .in_pps] | min > 5" <<<"$OUT"
wait "$PINGER" 2>/dev/null

# ---- del, detach, re-attach ----
ok "bypass del -j" -j bypass del 2001:db8:19::3 && jcheck "bypass del JSON" '.addr == "2001:db8:19::3" and .deleted == true'
ok "bypass list after del" -n "$H" -j bypass list && jcheck "three left" 'length == 3'
ok "detach" -n "$H" detach "${P}up" && check "detach is quiet" test -z "$OUT"
check "no XDP left on the uplink" test "$(ip -n "$H" -j link show dev "${P}up" | jq '.[0].xdp')" = null
check "no tc filter left on the uplink" test -z "$(tc -n "$H" filter show dev "${P}up" ingress 2>/dev/null)"
ok "status after detach" -n "$H" -j status && jcheck "uplink gone from status" "all(.[]; .dev != \"${P}up\")"
ok "rules survive detach" -n "$H" -j bypass list && jcheck "still three" 'length == 3'
# The default fast path: conntrack; status and -j say so; an ICMP echo is the stack's.
ok "attach again (tc engine, default fast path)" -n "$H" attach "${P}up" --engine tc &&
	check "tc attach line" grep -Eq "^${P}up: attached, fast path conntrack, engine tc, tc ingress \(prog [0-9]+\)$" <<<"$OUT" &&
	check "attach names the kfuncs" grep -q "bpf_xdp_ct_lookup/bpf_skb_ct_lookup, bpf_ct_change_timeout" <<<"$OUT"
ok "status -j (conntrack)" -n "$H" -j status &&
	jcheck "status JSON fast path" ".[] | select(.dev == \"${P}up\") | .fast_path == \"conntrack\""
check "ping 198.19.0.3 by the kernel path" ping_cl -c2 -i0.2 -W2 198.19.0.3
ok "stats, conntrack mode" -j stats && jcheck "echo left to the stack" '.counters[] | select(.hook == "tc_ingress" and .reason == "ct_not_tcp_udp") | .packets >= 2'
ok "flows -j" -j flows && jcheck "flows JSON is an array" 'type == "array"'
ok "attach again (tc engine, skip-firewall)" -n "$H" attach "${P}up" --engine tc --fast-path skip-firewall &&
	check "tc attach line" grep -Eq "^${P}up: attached, fast path skip-firewall, engine tc, tc ingress \(prog [0-9]+\)$" <<<"$OUT"
check "ping 198.19.0.3 through the tc bypass" ping_cl -c2 -i0.2 -W2 198.19.0.3
ok "stats after tc" -j stats && jcheck "tc bypass counted" '.counters[] | select(.hook == "tc_ingress" and .reason == "bypass") | .packets >= 2'
ok "detach -j" -n "$H" -j detach "${P}up" && jcheck "detach JSON" ".dev == \"${P}up\" and .detached == true"
for a in 198.19.0.2 2001:db8:19::2 198.19.0.3; do ok "bypass del $a" -n "$H" bypass del "$a"; done
ok "pingpong del" pingpong del 198.19.0.9
ok "empty lists" -j bypass list && jcheck "bypass list empty" '. == []'
ok "empty status" -n "$H" -j status && jcheck "status empty" '. == []'

finish
