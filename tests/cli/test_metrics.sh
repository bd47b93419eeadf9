#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Metrics for a monitoring stack: 'stats --prometheus' checked by promtool,
# the packet size histogram, '--textfile DIR' (atomic, for node_exporter),
# and 'stats --serve' scraped by a real Prometheus server (Debian's), started
# here on loopback with a temp config and storage, whose HTTP API must show a
# counter that grew with lab traffic. Only the Prometheus started here is
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
kill "$PROM"
wait "$PROM"
check "Prometheus logged no error" test "$(grep -c 'level=error' "$TMPD/prom/log")" -eq 0
kill "$SERVE"
wait "$SERVE"
check "--serve: exit 0 on SIGTERM, nothing on stderr" test $? -eq 0 -a ! -s "$TMPD/serve.err"

finish
