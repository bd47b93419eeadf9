#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# XDP-redirect loss is visible where the user looks (issue 15, item 13): with
# --engine xdp, what XDP redirects hand to a bypassed veth and what its full
# ring refuses (tx_queue_N_xdp_xmit / _xdp_xmit_errors of the host veth) show
# in 'status', 'stats' (human, JSON) and Prometheus, equal to the kernel's own
# ethtool counters; engine auto (the default) redirects nothing by XDP.
source "$(dirname "$0")/lib.sh"
need_root
command -v ethtool >/dev/null || skip "needs ethtool"

# ethtool_sum DEV SUFFIX: sum of tx_queue_N_SUFFIX of DEV in the host namespace.
ethtool_sum() {
	in_ns "$H" ethtool -S "$1" | awk -v s="$2" '
		{ k = $1; sub(/:$/, "", k) }
		k ~ "^tx_queue_[0-9]+_" s "$" { n += $2 } END { print n + 0 }'
}

lab_up || { echo "FAIL: lab setup"; exit 1; }
ok "attach --engine xdp" -n "$H" attach "${P}up" --engine xdp --max-rules 64 --fast-path skip-firewall || finish
ok "bypass add" -n "$H" bypass add 198.19.0.2 dev "${P}v1"
x -n "$H" -j status "${P}v1"
jcheck "status: a bypassed veth has the counters" '.[0].xdp_xmit_packets >= 0 and .[0].xdp_xmit_errors >= 0'
before=$(jq '.[0].xdp_xmit_packets' <<<"$OUT")
in_ns "${P}cl" ping -c 20 -i 0.05 -W 1 198.19.0.2 >/dev/null 2>&1
check "ping through the XDP bypass" test "$?" -eq 0

xmit=$(ethtool_sum "${P}v1" xdp_xmit)
errs=$(ethtool_sum "${P}v1" xdp_xmit_errors)
check "XDP redirected the echoes into ${P}v1 (ethtool: $xmit)" test "$((xmit - before))" -ge 20
x -n "$H" -j status "${P}v1"
jcheck "status -j equals ethtool" ".[0].xdp_xmit_packets == $xmit and .[0].xdp_xmit_errors == $errs"
x -n "$H" status
check "status: XDP_LOST column" grep -Eq "^DEVICE .* MAC +XDP_LOST$" <<<"$OUT"
check "status: ${P}v1 row with its lost count" grep -Eq "^${P}v1 .* $errs$" <<<"$OUT"
x -n "$H" -j stats
jcheck "stats -j veths equal ethtool" "[.veths[] | select(.dev == \"${P}v1\")] | .[0].xdp_xmit_packets == $xmit and .[0].xdp_xmit_errors == $errs"
x -n "$H" stats
check "stats: the veth table" grep -Eq "^${P}v1 +$xmit +$errs$" <<<"$OUT"
x -n "$H" stats --prometheus
check "prometheus: xdp_xmit" grep -qx "xdpctl_veth_xdp_xmit_total{dev=\"${P}v1\"} $xmit" <<<"$OUT"
check "prometheus: xdp_xmit_errors" grep -qx "xdpctl_veth_xdp_xmit_errors_total{dev=\"${P}v1\"} $errs" <<<"$OUT"

# The default engine forwards without XDP redirects: nothing more handed to the ring.
ok "attach (engine auto)" -n "$H" attach "${P}up" --fast-path skip-firewall
in_ns "${P}cl" ping -c 5 -i 0.05 -W 1 198.19.0.2 >/dev/null 2>&1
check "ping through the default engine" test "$?" -eq 0
check "engine auto: no XDP redirect into ${P}v1" test "$(ethtool_sum "${P}v1" xdp_xmit)" -eq "$xmit"
ok "bypass del" -n "$H" bypass del 198.19.0.2
ok "detach" -n "$H" detach "${P}up"
finish
