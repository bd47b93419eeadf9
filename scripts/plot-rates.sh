#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# scripts/plot-rates.sh [OUT.png] - a live run for the README: the lab (netns
# mode) with container 1 on the kernel path and container 2 on the fast path
# (a bypass rule), a UDP stream from the client to each (iperf3, RATE1 and
# RATE2 bit/s offered), the rule deleted at 4 s and added again at 7 s; 'xdpctl -j
# stats' sampled every 100 ms; the packet rates of the uplink's tc_ingress
# reasons 'pass' (to the kernel path) and 'bypass' (the fast path) plotted
# with gnuplot. Writes OUT.png (default docs/rates.png) and OUT.dat, and the
# conditions (load, steal) to OUT.txt. Cleans up after itself.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/docs/rates.png}
XDPCTL=${XDPCTL:-$ROOT/build/ctl/xdpctl}
PREFIX=rp$((RANDOM % 900 + 100))
export XDPCTL_PIN_DIR=/sys/fs/bpf/xdpctl-plot-$$
DAT=${OUT%.png}.dat
TXT=${OUT%.png}.txt
RATE1=${RATE1:-20M}   # offered load to container 1 (kernel path), iperf3 -b
RATE2=${RATE2:-40M}   # to container 2 (the fast path but from 4 s to 7 s)
SECONDS_RUN=10
PIDS=()

[[ $(id -u) -eq 0 ]] || { echo "Error: plot-rates.sh needs root (namespaces, BPF): run it with sudo" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "Error: gnuplot not installed: scripts/install-deps.sh" >&2; exit 1; }
[[ -x $XDPCTL ]] || { echo "Error: $XDPCTL not built: meson setup build && meson compile -C build" >&2; exit 1; }

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	"$ROOT/scripts/lab.sh" down --prefix "$PREFIX" >/dev/null 2>&1 || true
	rm -rf "$XDPCTL_PIN_DIR"
}
trap cleanup EXIT

"$ROOT/scripts/lab.sh" up --prefix "$PREFIX" --no-netfilter >/dev/null
eval "$("$ROOT/scripts/lab.sh" env --prefix "$PREFIX")"
X() { "$XDPCTL" -n "$HOST_NS" "$@"; }
X attach "$UPLINK" >/dev/null
X bypass add "$C2_IP4" dev "$C2_VETH" >/dev/null

for i in 1 2; do
	ns_var=C${i}_NS
	ip netns exec "${!ns_var}" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	PIDS+=($!)
done
sleep 0.5

steal0=$(awk '/^cpu /{print $9}' /proc/stat)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s.%N)
# the sampler: one JSON line per 100 ms
(
	while :; do
		now=$(date +%s.%N)
		X -j stats | jq -c --arg t "$now" \
			'{t: ($t | tonumber), pass: (.counters[] | select(.hook == "tc_ingress" and .reason == "pass") | .packets), bypass: (.counters[] | select(.hook == "tc_ingress" and .reason == "bypass") | .packets)}'
		sleep 0.1
	done
) >"$DAT.json" &
PIDS+=($!)
sleep 0.5
for i in 1 2; do
	ip_var=C${i}_IP4 rate_var=RATE$i
	ip netns exec "$CLIENT_NS" iperf3 -c "${!ip_var}" -u -b "${!rate_var}" -l 1000 \
		-t "$SECONDS_RUN" >/dev/null 2>&1 &
	PIDS+=($!)
done
sleep 4
X bypass del "$C2_IP4" >/dev/null
sleep 3
X bypass add "$C2_IP4" dev "$C2_VETH" >/dev/null
sleep $((SECONDS_RUN - 7 + 1))
kill "${PIDS[2]}" 2>/dev/null || true
wait "${PIDS[3]}" "${PIDS[4]}" 2>/dev/null || true
steal1=$(awk '/^cpu /{print $9}' /proc/stat)
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# rates between successive samples, time from the start of the streams
python3 - "$DAT.json" "$DAT" "$start" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t0 = float(sys.argv[3]) + 0.5
with open(sys.argv[2], "w") as f:
    f.write("# t_s kernel_path_pps fast_path_pps\n")
    for a, b in zip(rows, rows[1:]):
        dt = b["t"] - a["t"]
        if dt <= 0:
            continue
        f.write(f'{b["t"] - t0:.3f} {(b["pass"] - a["pass"]) / dt:.0f} {(b["bypass"] - a["bypass"]) / dt:.0f}\n')
PY
rm -f "$DAT.json"
gnuplot <<GP
set terminal png size 900,420
set output "$OUT"
set title "UDP $RATE1 bit/s to container 1 (kernel path), $RATE2 bit/s to container 2 (its rule off from 4 s to 7 s)" font ",10"
set xlabel "time (s)"
set ylabel "packets per second (uplink tc ingress)"
set key top left
set grid
set xrange [0:$((SECONDS_RUN + 1))]
plot "$DAT" using 1:2 with lines lw 2 title "kernel path (reason pass)", \
     "$DAT" using 1:3 with lines lw 2 title "fast path (reason bypass)"
GP
cat >"$TXT" <<INFO
Made by scripts/plot-rates.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ) ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)).
Kernel $(uname -r), $(nproc) CPUs; load average $load0 at the start, $load1 at the end;
steal during the run $(((steal1 - steal0))) ticks ($(getconf CLK_TCK)/s per CPU). Sampling: 'xdpctl -j stats' every 100 ms.
INFO
echo "plot-rates: $OUT, $DAT, $TXT"
