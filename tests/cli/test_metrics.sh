#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Metrics for a monitoring stack: 'stats --prometheus' checked by promtool,
# the packet size histogram, '--textfile DIR' (atomic, for node_exporter),
# and 'stats --serve' scraped by a real Prometheus server (Debian's), started
# here on loopback with a temp config and storage, whose HTTP API must show a
# counter that grew with lab traffic; then the conntrack fast path's flow
# series (gauge by hook/family/protocol/state, packets and bytes of followed
# flows) with a real UDP flow both ways. Only the Prometheus started here is
# stopped, by its PID.
source "$(dirname "$0")/lib.sh"
need_root
command -v prometheus >/dev/null && command -v promtool >/dev/null ||
	skip "prometheus/promtool not installed (scripts/install-deps.sh)"
command -v curl >/dev/null || skip "curl not installed"

lab_up || { echo "FAIL: lab setup"; exit 1; }
ok "attach" -n "$H" attach "${P}up" --engine tc --fast-path skip-firewall || finish
ok "bypass add" -n "$H" bypass add 198.19.0.3 dev "${P}v2"
pings() { in_ns "${P}cl" ping -c"$2" -i0.01 -W1 -s 200 "$1" >/dev/null 2>&1; }
pings 198.19.0.3 10
pings 198.19.0.2 5

ok "stats --prometheus --rules" -n "$H" stats --prometheus --rules
printf '%s\n' "$OUT" >"$TMPD/m.prom"
check "promtool check metrics: no problem" promtool check metrics <"$TMPD/m.prom"
metric() { awk -v k="$1" '$1 == k { print $2 }' "$TMPD/m.prom"; }
b128=$(metric 'xdpctl_packet_size_bytes_bucket{hook="tc_ingress",le="128"}')
b256=$(metric 'xdpctl_packet_size_bytes_bucket{hook="tc_ingress",le="256"}')
inf=$(metric 'xdpctl_packet_size_bytes_bucket{hook="tc_ingress",le="+Inf"}')
cnt=$(metric 'xdpctl_packet_size_bytes_count{hook="tc_ingress"}')
check "histogram: the 15 242-byte requests in (128, 256] (got $((b256 - b128)))" test "$((b256 - b128))" -ge 15
check "histogram: +Inf bucket = _count ($inf, $cnt)" test "$inf" = "$cnt"
check "histogram: buckets cumulative" python3 -c '
import re, sys
v = {}
for l in open(sys.argv[1]):
    m = re.match(r"xdpctl_packet_size_bytes_bucket\{hook=\"(\w+)\",le=\"([^\"]+)\"\} (\d+)", l)
    if m: v.setdefault(m[1], []).append(int(m[3]))
assert len(v) == 3 and all(len(b) == 12 and b == sorted(b) for b in v.values()), v
' "$TMPD/m.prom"
check "per container: the bypass rule's inbound packets" \
	test "$(metric "xdpctl_bypass_packets_total{addr=\"198.19.0.3\",dev=\"${P}v2\",direction=\"in\"}")" -ge 10
check "per reason: tc_ingress bypass" test "$(metric 'xdpctl_packets_total{hook="tc_ingress",reason="bypass"}')" -ge 10

# --textfile: DIR/xdpctl.prom, complete, readable by the collector, no temp file left.
mkdir "$TMPD/tf"
ok "stats --textfile" stats --textfile "$TMPD/tf" --rules
check "textfile: only xdpctl.prom in DIR" test "$(ls -A "$TMPD/tf")" = "xdpctl.prom"
check "textfile: mode 0644" test "$(stat -c %a "$TMPD/tf/xdpctl.prom")" = 644
check "textfile: promtool accepts it" promtool check metrics <"$TMPD/tf/xdpctl.prom"
bad "textfile: a missing DIR" "--textfile: $TMPD/nodir: cannot create a file there" stats --textfile "$TMPD/nodir"

# --serve and a real Prometheus scraping it.
"$XDPCTL" -j stats --serve 127.0.0.1:0 >"$TMPD/serve.out" 2>"$TMPD/serve.err" &
SERVE=$!
CLEANUP_EXTRA+=("kill $SERVE")
for _ in $(seq 50); do [[ -s $TMPD/serve.out ]] && break; sleep 0.1; done
port=$(jq -r .port "$TMPD/serve.out" 2>/dev/null)
check "--serve: listening (port ${port:-none})" test "${port:-0}" -gt 0
check "--serve: GET /metrics" bash -c "curl -sf http://127.0.0.1:$port/metrics | promtool check metrics"
check "--serve: content type" bash -c "curl -sI http://127.0.0.1:$port/metrics | grep -qi '^content-type: text/plain; version=0.0.4'"
check "--serve: 404 elsewhere" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")" = 404

pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir "$TMPD/prom"
cat >"$TMPD/prom/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: xdpctl
    static_configs:
      - targets: ['127.0.0.1:$port']
CONF
prometheus --config.file="$TMPD/prom/prometheus.yml" --storage.tsdb.path="$TMPD/prom/data" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn >"$TMPD/prom/log" 2>&1 &
PROM=$!
CLEANUP_EXTRA+=("kill $PROM" "wait $PROM")
API="http://127.0.0.1:$pport/api/v1/query"
Q='xdpctl_packets_total{hook="tc_ingress",reason="bypass"}'
# value QUERY: the one sample's value, or empty
value() { curl -sf --get "$API" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty' 2>/dev/null; }
v1=
for _ in $(seq 100); do v1=$(value "$Q"); [[ -n $v1 ]] && break; sleep 0.1; done
check "Prometheus scraped xdpctl (up: $(value 'up{job="xdpctl"}'))" test -n "$v1"
pings 198.19.0.3 50
v2=$v1
for _ in $(seq 50); do v2=$(value "$Q"); [[ -n $v2 && ${v2%.*} -ge $((${v1%.*} + 50)) ]] && break; sleep 0.1; done
check "Prometheus: $Q grew by the 50 echoes ($v1 -> $v2)" test "${v2%.*}" -ge "$((${v1%.*} + 50))"
rule_q="xdpctl_bypass_packets_total{addr=\"198.19.0.3\",direction=\"out\"}"
check "Prometheus: per-container counter $(value "$rule_q")" test "$(value "$rule_q" | cut -d. -f1)" -ge 60

# The conntrack fast path (the default): conntrack on in the host namespace (a
# MASQUERADE rule, as Docker's), the uplink attached again in that mode, a UDP
# flow client -> c2 echoed back: both directions on the fast path. The flow
# gauge and the flow counters by hook, the ct reasons, in the exposition
# (promtool) and scraped by Prometheus.
if ! command -v socat >/dev/null; then
	echo "SKIP: the conntrack fast path part: socat not installed (scripts/install-deps.sh)"
elif ! in_ns "$H" iptables -t nat -A POSTROUTING -s 198.19.0.0/24 -o "${P}up" -j MASQUERADE; then
	fail_check "iptables MASQUERADE in $H (conntrack for the fast path)"
else
	ok "attach (fast path conntrack)" -n "$H" attach "${P}up" --engine tc
	in_ns "${P}c2" timeout 30 socat UDP4-LISTEN:5353,reuseaddr PIPE &
	SRVU=$!
	CLEANUP_EXTRA+=("kill $SRVU")
	sleep 0.3
	# shellcheck disable=SC2016
	got=$(in_ns "${P}cl" timeout 30 sh -c 'for i in $(seq 1 100); do echo "datagram $i"; sleep 0.01; done |
		socat -T 2 - UDP4:198.19.0.3:5353,sourceport=40999 | grep -c "^datagram "')
	check "UDP on the conntrack fast path: 100 of 100 echoed (got $got)" test "$got" -eq 100
	ok "stats --prometheus (conntrack)" -n "$H" stats --prometheus
	printf '%s\n' "$OUT" >"$TMPD/ct.prom"
	check "promtool check metrics: with the flow series" promtool check metrics <"$TMPD/ct.prom"
	cm() { awk -v k="$1" '$1 == k { print $2 }' "$TMPD/ct.prom"; }
	for hk in tc_ingress tc_return; do
		sel="hook=\"$hk\",family=\"ipv4\",protocol=\"udp\""
		n=$(cm "xdpctl_flows{$sel,state=\"active\"}")
		check "xdpctl_flows{$sel,state=\"active\"} = ${n:-none}, >= 1" test "${n:-0}" -ge 1
		pk=$(cm "xdpctl_flow_packets_total{$sel}")
		by=$(cm "xdpctl_flow_bytes_total{$sel}")
		check "xdpctl_flow_packets_total{$sel} = ${pk:-none}, >= 90 of the 100" test "${pk:-0}" -ge 90
		check "xdpctl_flow_bytes_total{$sel} = ${by:-none}, >= 53 bytes a frame" test "${by:-0}" -ge $(( ${pk:-1} * 53 ))
	done
	check "xdpctl_flows: 24 series (3 hooks x 2 families x 2 protocols x 2 states)" \
		test "$(grep -c '^xdpctl_flows{' "$TMPD/ct.prom")" -eq 24
	fw=$(cm 'xdpctl_packets_total{hook="tc_ingress",reason="ct_forward"}')
	nw=$(cm 'xdpctl_packets_total{hook="tc_ingress",reason="ct_new"}')
	check "per reason: tc_ingress ct_forward ${fw:-none} >= 90, ct_new ${nw:-none} >= 1 (the first datagram)" \
		test "${fw:-0}" -ge 90 -a "${nw:-0}" -ge 1
	for r in ct_new ct_closing ct_no_container ct_policy ct_forward ct_not_tcp_udp neighbour_discovery; do
		check "the reason $r is a series of xdpctl_packets_total and xdpctl_bytes_total" \
			grep -q "^xdpctl_bytes_total{hook=\"tc_return\",reason=\"$r\"} " "$TMPD/ct.prom"
	done
	FQ='xdpctl_flow_packets_total{hook="tc_return",family="ipv4",protocol="udp"}'
	GQ='sum(xdpctl_flows{protocol="udp",state="active"})'
	fv=; gv=
	for _ in $(seq 50); do
		fv=$(value "$FQ"); gv=$(value "$GQ")
		[[ -n $fv && ${fv%.*} -ge 90 && -n $gv && ${gv%.*} -ge 2 ]] && break
		sleep 0.1
	done
	check "Prometheus: $FQ = ${fv:-none}, >= 90" test "${fv%.*}" -ge 90
	check "Prometheus: $GQ = ${gv:-none}, >= 2 (one per direction)" test "${gv%.*}" -ge 2
fi

kill "$PROM"
wait "$PROM"
check "Prometheus logged no error" test "$(grep -c 'level=error' "$TMPD/prom/log")" -eq 0
kill "$SERVE"
wait "$SERVE"
check "--serve: exit 0 on SIGTERM, nothing on stderr" test $? -eq 0 -a ! -s "$TMPD/serve.err"

finish
