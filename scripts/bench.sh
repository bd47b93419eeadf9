#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# scripts/bench.sh - measure every data path of the netns lab side by side:
# kernel path with and without Docker-style netfilter, the kernel path through a
# published port (Docker's DNAT and conntrack), xdpctl following conntrack on that
# published port (XDP and tc engines and engine auto), xdpctl skip-firewall bypass
# (XDP and tc engines and engine auto), xdpctl ping-pong (XDP and tc), minimal
# reference redirects (XDP devmap and tc bpf_redirect_peer) and the XDP_DROP
# ceiling. Rounds are interleaved (every path once per round, the
# order rotated), results are medians with min-max. Writes a markdown report
# and a PNG plot; leaves nothing behind (trap cleanup).
#
#   scripts/bench.sh [--quick] [--rounds N] [--build DIR] [--out DIR]
#                    [--no-build] [--no-plot] [--budget SECONDS]
#
#   --quick       smoke run: one round, about a second per measurement;
#                 exits 1 when a path does not deliver (used by meson test)
#   --rounds N    rounds of the full run (default 6, fewer if the budget ends)
#   --build DIR   meson build directory (default $XDPCTL_BUILD_DIR or ./build)
#   --out DIR     where bench.md and bench.png go (default: docs/ for a full
#                 run, DIR/bench-quick under the build directory for --quick)
#   --no-build    do not run ninja first (meson test has built everything)
#   --no-plot     skip the PNG (and the gnuplot install)
#   --budget S    wall-time budget for the rounds (default 720 s; quick 40 s)
#
# Sections: A latency (ping), B 64-byte UDP packet rate (tests/bench/gen),
# C single-stream TCP (iperf3), D per-packet cost (tests/bench/prog_cost),
# E control plane (xdpctl bypass load / add). Exit 0 done, 1 error, 77 skip.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$PATH:/usr/sbin:/sbin"

QUICK=0 ROUNDS="" BUILD=${XDPCTL_BUILD_DIR:-$TOP/build} OUT="" DO_BUILD=1 DO_PLOT=1 BUDGET=""
usage() { sed -n '3,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while (( $# > 0 )); do
	case $1 in
	--quick) QUICK=1 ;;
	--rounds) ROUNDS=${2:-}; shift ;;
	--build) BUILD=${2:-}; shift ;;
	--out) OUT=${2:-}; shift ;;
	--no-build) DO_BUILD=0 ;;
	--no-plot) DO_PLOT=0 ;;
	--budget) BUDGET=${2:-}; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; echo "Error: unknown argument '$1'" >&2; exit 1 ;;
	esac
	shift
done
[[ -z $ROUNDS || $ROUNDS =~ ^[1-9][0-9]?$ ]] || { echo "Error: --rounds '$ROUNDS': give 1-99" >&2; exit 1; }
[[ -z $BUDGET || $BUDGET =~ ^[1-9][0-9]{0,3}$ ]] || { echo "Error: --budget '$BUDGET': give seconds, 1-9999" >&2; exit 1; }
BUILD=$(cd "$TOP" && mkdir -p "$BUILD" && cd "$BUILD" && pwd)

# ---- parameters -----------------------------------------------------------
if (( QUICK )); then
	ROUNDS=${ROUNDS:-1} BUDGET=${BUDGET:-40}
	# 13 paths in about 30 s: short runs (iperf3 by amount: its -t takes whole seconds).
	PING_FAST=20 PING_IDLE=2 B_SECONDS=0.5 C_SECONDS=1 C_LIMIT="-n 32M" E_RULES=10000 E_ADDS=5
	D_ARGS="--rounds 1 --repeat 1000 --singles 200 --samples 1000 --rules 1,1000" D_TIMEOUT=30
	OUT=${OUT:-$BUILD/bench-quick}
else
	ROUNDS=${ROUNDS:-6} BUDGET=${BUDGET:-720} # 13 paths, about 130 s a round
	PING_FAST=100 PING_IDLE=10 B_SECONDS=3 C_SECONDS=3 C_LIMIT="-t 3" E_RULES=1000000 E_ADDS=20
	D_ARGS="--rounds 5 --repeat 10000 --singles 2000 --samples 20000 --rules 1,1000,100000,1000000"
	D_TIMEOUT=150
	OUT=${OUT:-$TOP/docs}
fi
GEN_CPU=$(( $(nproc) - 1 ))     # the generator's core (the last one)
UDP_PORT=9                      # discard; the sink socket in the container
IPERF_PORT=5201
PUB_UDP=8009                    # published ports of the host (pub, ct*): DNAT to UDP_PORT,
PUB_TCP=8201                    # IPERF_PORT of the first container
FLOW_SPORT=40009                # the generator's source port on published-port paths
PREFIX="b$$"                    # lab name prefix: [a-z][a-z0-9]{0,7}
PREFIX=${PREFIX:0:8}
PIN_DIR=/sys/fs/bpf/xdpctl-bench-$$
WORK=$BUILD/bench-run$( (( QUICK )) && echo -quick) # raw data of the last run
RAW=$WORK/raw.tsv
COND=$WORK/conditions.txt
LOG=$WORK/bench.log

log() { printf 'bench: %s\n' "$*" >&2; }
warn() { printf 'bench: warning: %s\n' "$*" >&2; }
die() { printf 'Error: %s\n' "$*" >&2; exit 1; }
skip() { printf 'bench: SKIP: %s\n' "$*" >&2; exit 77; }

[[ $(id -u) -eq 0 ]] || skip "needs root (namespaces, XDP, iptables)"
for c in ip nsenter ethtool ping iperf3 python3 taskset nft iptables-save iptables-restore timeout; do
	command -v "$c" >/dev/null 2>&1 || skip "missing $c: run scripts/install-deps.sh"
done

# ---- build ------------------------------------------------------------------
if (( DO_BUILD )); then
	if [[ ! -f $BUILD/build.ninja ]]; then
		meson setup "$BUILD" "$TOP" >/dev/null || die "meson setup $BUILD failed"
	fi
	ninja -C "$BUILD" >/dev/null || die "build failed: ninja -C $BUILD"
fi
GEN=$BUILD/tests/bench/gen
BENCHPROG=$BUILD/tests/bench/benchprog
XDPCTL=$BUILD/ctl/xdpctl
PROG_COST=$BUILD/tests/bench/prog_cost
[[ -x $GEN && -x $BENCHPROG ]] || die "no $GEN or $BENCHPROG: build with 'ninja -C $BUILD'"
HAVE_XDPCTL=0
if [[ -x $XDPCTL ]] && "$XDPCTL" version >/dev/null 2>&1; then HAVE_XDPCTL=1; fi

# ---- state and cleanup --------------------------------------------------------
SINK_PID="" IPERF_PID="" LAB_UP=0 HOST_NS="" UPLINK="" C1_NS="" CLIENT_NS=""
rm -rf "$WORK"
mkdir -p "$WORK" || die "cannot create $WORK"
: >"$RAW"
: >"$COND"

in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@"; }
xdpctl() { XDPCTL_PIN_DIR=$PIN_DIR timeout 120 "$XDPCTL" "$@"; }

# shellcheck disable=SC2317 # reached through the trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +eu
	[[ -n $SINK_PID ]] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
	[[ -n $IPERF_PID ]] && kill "$IPERF_PID" 2>/dev/null && wait "$IPERF_PID" 2>/dev/null
	if (( LAB_UP )); then
		# Only what this run attached; the namespaces' end would drop it too.
		if [[ -n $HOST_NS && -n $UPLINK ]]; then
			(( HAVE_XDPCTL )) && xdpctl -n "$HOST_NS" detach "$UPLINK" >>"$LOG" 2>&1
			in_ns "$HOST_NS" "$BENCHPROG" detach "$UPLINK" >>"$LOG" 2>&1
			in_ns "$HOST_NS" "$BENCHPROG" detach-tc "$UPLINK" >>"$LOG" 2>&1
		fi
		[[ -n $C1_NS ]] && in_ns "$C1_NS" "$BENCHPROG" detach eth0 >>"$LOG" 2>&1
		[[ -n $CLIENT_NS ]] && in_ns "$CLIENT_NS" "$BENCHPROG" detach eth0 >>"$LOG" 2>&1
		"$TOP/scripts/lab.sh" down --prefix "$PREFIX" >>"$LOG" 2>&1 ||
			warn "lab down failed: run 'scripts/lab.sh down --prefix $PREFIX'"
	fi
	if [[ -d $PIN_DIR ]]; then
		rm -rf "$PIN_DIR" || warn "could not remove $PIN_DIR"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers ----------------------------------------------------------------
now() { date +%s.%N; }
T_START=$(now)
elapsed() { awk -v a="$T_START" -v b="$(now)" 'BEGIN { printf "%d", b - a }'; }

# rec SECTION PATH ROUND METRIC VALUE...: one raw line per value.
rec() {
	local s=$1 p=$2 r=$3 m=$4 v; shift 4
	for v in "$@"; do printf '%s\t%s\t%s\t%s\t%s\n' "$s" "$p" "$r" "$m" "$v" >>"$RAW"; done
}
cond() { printf '%s\t%s\n' "$1" "$2" >>"$COND"; }

# snmp NS PROTO FIELD: a counter of /proc/net/snmp in namespace NS.
snmp() {
	in_ns "$1" cat /proc/net/snmp | awk -v k="$2:" -v f="$3" '
		$1 == k && !h { for (i = 2; i <= NF; i++) idx[$i] = i; h = 1; next }
		$1 == k && h { print $idx[f]; exit }'
}
# /proc/stat "cpu" line: total and steal jiffies.
cpu_jiffies() { awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $9; exit }' /proc/stat; }
steal_pct() { # steal_pct "T0 S0" "T1 S1"
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x); split(b, y); d = y[1] - x[1];
		printf "%.1f", (d > 0 ? 100 * (y[2] - x[2]) / d : 0) }'
}

# ---- lab ----------------------------------------------------------------------
log "lab up (prefix $PREFIX), work dir $WORK"
LAB_UP=1
"$TOP/scripts/lab.sh" up --prefix "$PREFIX" >>"$LOG" 2>&1 || die "lab up failed: see $LOG"
eval "$("$TOP/scripts/lab.sh" env --prefix "$PREFIX")" || die "lab env failed"
for v in CLIENT_NS HOST_NS UPLINK UPLINK_IP4 BRIDGE UPLINK_MAC CLIENT_MAC CLIENT_IP4 C1_NS C1_IP4 C1_VETH C1_MAC GW_MAC C2_VETH; do
	[[ -n ${!v:-} ]] || die "lab env does not give $v"
done

# Live frames reach the stack through the receiving veth's NAPI only: GRO on
# the uplink (as a NIC has it). The client's eth0 runs a pass program so that
# XDP_TX toward it (ping-pong) delivers, like a wire would.
in_ns "$HOST_NS" ethtool -K "$UPLINK" gro on >/dev/null 2>&1 || die "ethtool -K $UPLINK gro on failed in $HOST_NS"
in_ns "$CLIENT_NS" "$BENCHPROG" attach pass eth0 >>"$LOG" 2>&1 || die "pass program on $CLIENT_NS/eth0 failed: see $LOG"
in_ns "$HOST_NS" iptables-save >"$WORK/netfilter.rules" 2>>"$LOG" || die "iptables-save in $HOST_NS failed"
grep -q "xdpctl-lab:$PREFIX" "$WORK/netfilter.rules" || die "the lab's Docker-style rules are missing in $HOST_NS"

# A UDP sink that never reads: every datagram reaches the container's UDP
# layer (queued or counted as RcvbufErrors) without a reader's CPU cost.
# SO_REUSEPORT: establish_udp answers from the same address and port.
in_ns "$C1_NS" timeout 1800 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
time.sleep(1800)' "$C1_IP4" "$UDP_PORT" >>"$LOG" 2>&1 &
SINK_PID=$!
in_ns "$C1_NS" timeout 1800 iperf3 -s -B "$C1_IP4" -p "$IPERF_PORT" >>"$LOG" 2>&1 &
IPERF_PID=$!
sleep 0.3
in_ns "$CLIENT_NS" ping -c 2 -i 0.1 -W 1 "$C1_IP4" >/dev/null 2>&1 || die "no ping to $C1_IP4 over the lab's original path"

# The published-port paths' netfilter: the lab's Docker-style rules without the
# lab's DOCKER-USER admit rule, with what `docker run -p` adds for the first
# container's UDP sink and iperf3 server (Docker 20.10): DNAT in nat/DOCKER,
# the hairpin MASQUERADE, and in filter/DOCKER an ACCEPT of the DNATed port
# only. FORWARD then admits established flows and these ports, nothing else.
awk -v br="$BRIDGE" -v c="$C1_IP4" -v pu="$PUB_UDP" -v pt="$PUB_TCP" -v u="$UDP_PORT" -v t="$IPERF_PORT" '
	/^\*/ { table = $1 }
	/xdpctl-lab:/ { next }
	$1 == "COMMIT" && table == "*nat" {
		printf "-A DOCKER ! -i %s -p udp -m udp --dport %s -j DNAT --to-destination %s:%s\n", br, pu, c, u
		printf "-A DOCKER ! -i %s -p tcp -m tcp --dport %s -j DNAT --to-destination %s:%s\n", br, pt, c, t
		printf "-A POSTROUTING -s %s/32 -d %s/32 -p udp -m udp --dport %s -j MASQUERADE\n", c, c, u
		printf "-A POSTROUTING -s %s/32 -d %s/32 -p tcp -m tcp --dport %s -j MASQUERADE\n", c, c, t
	}
	$1 == "COMMIT" && table == "*filter" {
		printf "-A DOCKER -d %s/32 ! -i %s -o %s -p udp -m udp --dport %s -j ACCEPT\n", c, br, br, u
		printf "-A DOCKER -d %s/32 ! -i %s -o %s -p tcp -m tcp --dport %s -j ACCEPT\n", c, br, br, t
	}
	{ print }' "$WORK/netfilter.rules" >"$WORK/netfilter.pub.rules"
grep -q -- "--dport $PUB_TCP -j DNAT" "$WORK/netfilter.pub.rules" || die "could not derive the published-port rules from $WORK/netfilter.rules"

# establish_udp: one datagram each way on the generator's flow to the published
# port (client:FLOW_SPORT -> host:PUB_UDP, DNAT to the sink; the sink's address
# answers), so that its conntrack entry is established (reply seen) before the
# timed run, as a real flow's would be. Prints "ok" when the answer came back.
establish_udp() {
	local out
	in_ns "$CLIENT_NS" timeout 10 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(3)
s.sendto(b"hello", (sys.argv[3], int(sys.argv[4])))
try:
    s.recv(64)
    print("ok")
except socket.timeout:
    print("no answer")' "$CLIENT_IP4" "$FLOW_SPORT" "$UPLINK_IP4" "$PUB_UDP" >"$WORK/establish.out" 2>>"$LOG" &
	local cpid=$!
	sleep 0.3
	in_ns "$C1_NS" timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.sendto(b"hello", (sys.argv[3], int(sys.argv[4])))' "$C1_IP4" "$UDP_PORT" "$CLIENT_IP4" "$FLOW_SPORT" 2>>"$LOG"
	wait "$cpid"
	out=$(cat "$WORK/establish.out")
	printf '%s\n' "${out:-no answer}"
}

# ---- paths ----------------------------------------------------------------------
# name|sections|description
PATHS=(
	"base|ABC|kernel path, Docker-style netfilter"
	"nonf|ABC|kernel path, no netfilter"
	"pub|ABC|kernel path to a published port (Docker's DNAT, conntrack)"
	"ctxdp|ABC|xdpctl following conntrack, published port, XDP engine"
	"cttc|ABC|xdpctl following conntrack, published port, tc engine"
	"ctauto|ABC|xdpctl following conntrack, published port, engine auto"
	"xdp|ABC|xdpctl skip-firewall bypass, XDP engine"
	"tc|ABC|xdpctl skip-firewall bypass, tc engine"
	"auto|ABC|xdpctl skip-firewall bypass, engine auto (XDP, TCP by tc)"
	"ppxdp|A|xdpctl ping-pong, XDP"
	"pptc|A|xdpctl ping-pong, tc"
	"ref|B|reference DEVMAP redirect"
	"reftc|B|reference tc bpf_redirect_peer"
	"drop|B|XDP_DROP on the uplink"
)
needs_xdpctl() { case $1 in xdp|tc|auto|ppxdp|pptc|ctxdp|cttc|ctauto) return 0 ;; esac; return 1; }
published() { case $1 in pub|ctxdp|cttc|ctauto) return 0 ;; esac; return 1; }

# Where a path's traffic goes: the container itself, or the host's published
# ports (pub, ct*; ping goes to the host's address and is answered by the host:
# ICMP is not published, and the conntrack kfuncs take TCP and UDP only).
targets() {
	if published "$1"; then
		DST_IP=$UPLINK_IP4 DST_UDP=$PUB_UDP DST_TCP=$PUB_TCP SRC_UDP=$FLOW_SPORT
	else
		DST_IP=$C1_IP4 DST_UDP=$UDP_PORT DST_TCP=$IPERF_PORT SRC_UDP=9
	fi
}

path_up() {
	case $1 in
	base) in_ns "$HOST_NS" iptables-restore <"$WORK/netfilter.rules" ;;
	nonf) in_ns "$HOST_NS" nft flush ruleset ;;
	pub) in_ns "$HOST_NS" iptables-restore <"$WORK/netfilter.pub.rules" ;;
	ctxdp|cttc|ctauto)
		# The default fast path: follows what conntrack accepted under the same rules.
		in_ns "$HOST_NS" iptables-restore <"$WORK/netfilter.pub.rules" &&
		xdpctl -n "$HOST_NS" attach "$UPLINK" --engine "${1#ct}" --fast-path conntrack &&
		xdpctl -n "$HOST_NS" bypass add "$C1_IP4" dev "$C1_VETH" ;;
	xdp|tc|auto)
		# The per-address bypass (the opt-in fast path that skips netfilter).
		xdpctl -n "$HOST_NS" attach "$UPLINK" --engine "$1" --fast-path skip-firewall &&
		xdpctl -n "$HOST_NS" bypass add "$C1_IP4" dev "$C1_VETH" ;;
	ppxdp|pptc)
		xdpctl -n "$HOST_NS" attach "$UPLINK" --engine "${1#pp}" &&
		xdpctl -n "$HOST_NS" pingpong add "$C1_IP4" --hook "${1#pp}" ;;
	ref)
		in_ns "$C1_NS" "$BENCHPROG" attach pass eth0 &&
		in_ns "$HOST_NS" "$BENCHPROG" attach ref "$UPLINK" --to "$C1_VETH" \
			--dst-ip "$C1_IP4" --dmac "$C1_MAC" --smac "$GW_MAC" ;;
	reftc)
		in_ns "$HOST_NS" "$BENCHPROG" attach reftc "$UPLINK" --to "$C1_VETH" \
			--dst-ip "$C1_IP4" --dmac "$C1_MAC" --smac "$GW_MAC" ;;
	drop) in_ns "$HOST_NS" "$BENCHPROG" attach drop "$UPLINK" ;;
	esac
}

path_down() {
	case $1 in
	base) ;;
	nonf|pub) in_ns "$HOST_NS" iptables-restore <"$WORK/netfilter.rules" ;;
	xdp|tc|auto)
		xdpctl -n "$HOST_NS" bypass del "$C1_IP4"
		xdpctl -n "$HOST_NS" detach "$UPLINK" ;;
	ctxdp|cttc|ctauto)
		xdpctl -n "$HOST_NS" bypass del "$C1_IP4"
		xdpctl -n "$HOST_NS" detach "$UPLINK"
		in_ns "$HOST_NS" iptables-restore <"$WORK/netfilter.rules" ;;
	ppxdp|pptc)
		xdpctl -n "$HOST_NS" pingpong del "$C1_IP4"
		xdpctl -n "$HOST_NS" detach "$UPLINK" ;;
	ref)
		in_ns "$HOST_NS" "$BENCHPROG" detach "$UPLINK"
		in_ns "$C1_NS" "$BENCHPROG" detach eth0 ;;
	reftc) in_ns "$HOST_NS" "$BENCHPROG" detach-tc "$UPLINK" ;;
	drop) in_ns "$HOST_NS" "$BENCHPROG" detach "$UPLINK" ;;
	esac
}

# ---- A: latency ------------------------------------------------------------------
# ping_rtts COUNT INTERVAL: "RTT_US TTL" per echo reply.
ping_rtts() {
	local n=$1 i=$2
	in_ns "$CLIENT_NS" timeout $(( n / 4 + 15 )) ping -n -c "$n" -i "$i" -W 1 \
		-w $(( n / 4 + 10 )) "$DST_IP" 2>&1 |
		sed -n 's/.* ttl=\([0-9]*\) time=\([0-9.]*\) ms.*/\2 \1/p' |
		awk '{ printf "%.1f %d\n", $1 * 1000, $2 }'
}

measure_a() {
	local p=$1 r=$2 kind n i lines got fw0 fw1
	for kind in fast idle; do
		if [[ $kind == fast ]]; then n=$PING_FAST i=0.01; else n=$PING_IDLE i=0.2; fi
		fw0=$(snmp "$HOST_NS" Ip ForwDatagrams)
		lines=$(ping_rtts "$n" "$i")
		fw1=$(snmp "$HOST_NS" Ip ForwDatagrams)
		got=0
		[[ -n $lines ]] && got=$(wc -l <<<"$lines")
		# shellcheck disable=SC2046 # one value per echo
		rec A "$p" "$r" "rtt_${kind}_us" $(cut -d' ' -f1 <<<"$lines")
		# Reply TTL: 64 when answered at the hook (ping-pong) or by the host (published), 63 through the host.
		# shellcheck disable=SC2046
		rec A "$p" "$r" ttl $(cut -d' ' -f2 <<<"$lines" | sort -u)
		rec A "$p" "$r" "lost_${kind}" $(( n - got ))
		rec A "$p" "$r" "echoes_${kind}" "$got"
		rec A "$p" "$r" "fwd_${kind}" $(( fw1 - fw0 ))
		(( got > 0 )) || warn "$p: no echo reply ($kind)"
	done
}

# ---- B: packet rate -----------------------------------------------------------------
measure_b() {
	local p=$1 r=$2 rx0 rx1 fw0 fw1 c0 c1 out sent secs rx st0 st1 est
	if published "$p"; then
		est=$(establish_udp)
		rec B "$p" "$r" established "$([[ $est == ok ]] && echo 1 || echo 0)"
		[[ $est == ok ]] || warn "$p: the flow to the published port got no answer ($est)"
	fi
	sleep 0.2
	rx0=$(snmp "$C1_NS" Ip InDelivers); fw0=$(snmp "$HOST_NS" Ip ForwDatagrams)
	[[ $p == drop ]] && c0=$(in_ns "$HOST_NS" "$BENCHPROG" count "$UPLINK")
	st0=$(cpu_jiffies)
	out=$(in_ns "$CLIENT_NS" taskset -c "$GEN_CPU" timeout $(( ${B_SECONDS%.*} + 21 )) "$GEN" \
		--dev eth0 --src-mac "$CLIENT_MAC" --dst-mac "$UPLINK_MAC" \
		--src-ip "$CLIENT_IP4" --dst-ip "$DST_IP" --sport "$SRC_UDP" --dport "$DST_UDP" --size 64 \
		--seconds "$B_SECONDS" 2>>"$LOG")
	st1=$(cpu_jiffies)
	sleep 0.2 # let the receive queues drain
	rx1=$(snmp "$C1_NS" Ip InDelivers); fw1=$(snmp "$HOST_NS" Ip ForwDatagrams)
	[[ $p == drop ]] && c1=$(in_ns "$HOST_NS" "$BENCHPROG" count "$UPLINK")
	read -r sent secs < <(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["sent"], d["seconds"])' "$out" 2>/dev/null)
	if [[ -z ${sent:-} || -z ${secs:-} ]]; then
		warn "$p: generator failed (see $LOG)"
		rec B "$p" "$r" error 1
		return
	fi
	if [[ $p == drop ]]; then rx=$(( c1 - c0 )); else rx=$(( rx1 - rx0 )); fi
	rec B "$p" "$r" sent "$sent"
	rec B "$p" "$r" seconds "$secs"
	rec B "$p" "$r" tx_pps "$(awk -v a="$sent" -v s="$secs" 'BEGIN { printf "%.0f", a / s }')"
	rec B "$p" "$r" rx_pps "$(awk -v a="$rx" -v s="$secs" 'BEGIN { printf "%.0f", a / s }')"
	rec B "$p" "$r" rx "$rx"
	rec B "$p" "$r" fwd "$(( fw1 - fw0 ))"
	rec B "$p" "$r" steal_pct "$(steal_pct "$st0" "$st1")"
}

# ---- C: TCP ---------------------------------------------------------------------------
# The client's end during C is what a NIC-backed receiver is: no XDP program
# on its eth0, and GRO on. An XDP program on a veth takes TSO away from its
# peer (veth_xdp_set: the peer loses NETIF_F_GSO_SOFTWARE), here the host's
# uplink, so for container -> client the host segmented every 64 KB packet
# in software, the client's veth copied each 1.5 KB segment into a page of
# its own (veth_xdp_rcv_skb -> skb_pp_cow_data) and its TCP took them one by
# one: the client veth's NAPI alone cost about 4x the receiver's copy to user
# space per byte (0.2-0.3x with TSO and GRO), alike on every path, which
# capped -R at about 4 Gbit/s for all of them and left the path under test a
# small share of what was measured (docs/perf.md, "C, TCP container ->
# client"). The other
# direction already has GRO on the host's uplink. Ping-pong (section A)
# needs the pass program, so it is back after C.
c_client_nic() {
	in_ns "$CLIENT_NS" "$BENCHPROG" detach eth0 >>"$LOG" 2>&1 &&
	in_ns "$CLIENT_NS" ethtool -K eth0 gro on >/dev/null 2>&1
}
c_client_lab() {
	in_ns "$CLIENT_NS" ethtool -K eth0 gro off >/dev/null 2>&1
	in_ns "$CLIENT_NS" "$BENCHPROG" attach pass eth0 >>"$LOG" 2>&1 ||
		warn "could not put the pass program back on $CLIENT_NS/eth0 (see $LOG)"
}
# uplink_tso: "on" when the host's uplink segments by TSO (its peer has no XDP program).
uplink_tso() {
	in_ns "$HOST_NS" ethtool -k "$UPLINK" 2>/dev/null | awk '$1 == "tx-tcp-segmentation:" { print $2 }'
}

measure_c() {
	local p=$1 r=$2 dir flag out res st0 st1
	c_client_nic || warn "$p: could not take the pass program off $CLIENT_NS/eth0 (see $LOG)"
	rec C "$p" "$r" uplink_tso "$([[ $(uplink_tso) == on ]] && echo 1 || echo 0)"
	for dir in fwd rev; do
		flag=""; [[ $dir == rev ]] && flag=-R
		st0=$(cpu_jiffies)
		# shellcheck disable=SC2086 # C_LIMIT holds an option and its value
		out=$(in_ns "$CLIENT_NS" timeout $(( C_SECONDS + 20 )) iperf3 -c "$DST_IP" \
			-p "$DST_TCP" $C_LIMIT -J $flag 2>>"$LOG")
		st1=$(cpu_jiffies)
		res=$(python3 -c '
import json, sys
try:
    d = json.loads(sys.argv[1])
    e = d["end"]
    print("%.4f %d" % (e["sum_received"]["bits_per_second"] / 1e9,
                       e["sum_sent"].get("retransmits", -1)))
except Exception:
    print("")' "$out")
		if [[ -z $res ]]; then
			warn "$p: iperf3 ${flag:-(client → container)} failed"
			printf '%s\n' "$out" >>"$LOG"
			rec C "$p" "$r" "error_$dir" 1
			continue
		fi
		rec C "$p" "$r" "gbps_$dir" "${res% *}"
		rec C "$p" "$r" "retr_$dir" "${res#* }"
		rec C "$p" "$r" "steal_pct_$dir" "$(steal_pct "$st0" "$st1")"
		sleep 0.2
	done
	c_client_lab
}

# ---- conditions -----------------------------------------------------------------
cond date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
cond commit "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
cond mode "$( (( QUICK )) && echo quick || echo full)"
cond kernel "$(uname -r)"
cond cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo) ($(nproc) CPUs)"
cond loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
cond iptables "$(iptables-save --version 2>/dev/null | head -1)"
cond xdpctl "$( (( HAVE_XDPCTL )) && "$XDPCTL" version 2>/dev/null | head -1 || echo 'not built: paths xdp, tc, ppxdp, pptc and section E skipped')"
cond settings "rounds up to $ROUNDS; ping $PING_FAST x -i 0.01 and $PING_IDLE x -i 0.2; UDP ${B_SECONDS}s, 64-byte frames, generator on CPU $GEN_CPU (the receive path runs in its softirq, on the same core); iperf3 single stream ($C_LIMIT); GRO on the host uplink; XDP pass program on the client's eth0 except during C (C: no XDP program there and GRO on, so the host's uplink keeps TSO, as toward a NIC); sink socket that never reads"

# ---- rounds ------------------------------------------------------------------------
N=${#PATHS[@]}
ROUNDS_DONE=0
CPU0=$(cpu_jiffies)
T_ROUNDS=$(now)
for (( r = 1; r <= ROUNDS; r++ )); do
	if (( r > 1 )); then
		per=$(awk -v a="$T_ROUNDS" -v b="$(now)" -v n=$(( r - 1 )) 'BEGIN { printf "%d", (b - a) / n }')
		used=$(awk -v a="$T_ROUNDS" -v b="$(now)" 'BEGIN { printf "%d", b - a }')
		if (( used + per > BUDGET )); then
			log "stopping after $(( r - 1 )) rounds: another would pass the ${BUDGET}s budget"
			break
		fi
	fi
	log "round $r/$ROUNDS ($(elapsed)s)"
	for (( k = 0; k < N; k++ )); do
		IFS='|' read -r p secs _ <<<"${PATHS[$(( (k + r - 1) % N ))]}"
		if needs_xdpctl "$p" && (( ! HAVE_XDPCTL )); then
			continue
		fi
		if ! path_up "$p" >>"$LOG" 2>&1; then
			warn "$p: setup failed (see $LOG)"
			rec X "$p" "$r" setup_failed 1
			path_down "$p" >>"$LOG" 2>&1
			continue
		fi
		targets "$p"
		[[ $secs == *A* ]] && measure_a "$p" "$r"
		[[ $secs == *B* ]] && measure_b "$p" "$r"
		[[ $secs == *C* ]] && measure_c "$p" "$r"
		path_down "$p" >>"$LOG" 2>&1 || warn "$p: teardown reported an error (see $LOG)"
	done
	ROUNDS_DONE=$r
done
cond rounds_done "$ROUNDS_DONE"
cond steal_rounds "$(steal_pct "$CPU0" "$(cpu_jiffies)")"
cond rounds_seconds "$(awk -v a="$T_ROUNDS" -v b="$(now)" 'BEGIN { printf "%d", b - a }')"

# ---- D: per-packet cost (tests/bench/prog_cost, by the unit-test engineer) ------------
if [[ -x $PROG_COST ]]; then
	log "D: per-packet cost ($(elapsed)s)"
	# shellcheck disable=SC2086 # D_ARGS holds several arguments
	if ! timeout "$D_TIMEOUT" "$PROG_COST" --json --cpu "$GEN_CPU" $D_ARGS \
		>"$WORK/prog_cost.json" 2>>"$LOG"; then
		warn "prog_cost failed or took more than ${D_TIMEOUT}s (see $LOG)"
		rm -f "$WORK/prog_cost.json"
		cond prog_cost "failed or timed out after ${D_TIMEOUT}s: see the log"
		rec D prog_cost 1 error 1
	fi
else
	cond prog_cost "not built ($PROG_COST): section D skipped"
fi

# ---- E: control plane ---------------------------------------------------------------
# timed_runs N CMD...: run CMD N times (each bounded to 60 s; "{}" in an argument
# becomes the run's number), print the wall milliseconds of each, "error" for a
# failure. Timed in one python process, so no wrapper's start-up is counted.
timed_runs() {
	XDPCTL_PIN_DIR=$PIN_DIR python3 - "$@" 2>>"$LOG" <<'PY'
import subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
for i in range(1, n + 1):
    argv = [a.replace("{}", str(i)) for a in cmd]
    t = time.perf_counter()
    try:
        ok = subprocess.run(argv, stdout=subprocess.DEVNULL, timeout=60).returncode == 0
    except subprocess.TimeoutExpired:
        ok = False
    ms = (time.perf_counter() - t) * 1000
    print("%.3f" % ms if ok else "error", flush=True)
PY
}

if (( HAVE_XDPCTL )); then
	log "E: control plane ($(elapsed)s)"
	# Rules to the second container's veth, addresses from 2001:db8:e::/64.
	python3 -c '
import sys
n, dev = int(sys.argv[1]), sys.argv[2]
with open(sys.argv[3], "w") as f:
    for i in range(n):
        f.write("2001:db8:e::%x:%x dev %s\n" % (i >> 16, i & 0xffff, dev))' \
		"$E_RULES" "$C2_VETH" "$WORK/rules.txt"
	if xdpctl -n "$HOST_NS" attach "$UPLINK" --engine xdp >>"$LOG" 2>&1; then
		ms=$(timed_runs 1 "$XDPCTL" -n "$HOST_NS" bypass load "$WORK/rules.txt")
		if [[ $ms != error && -n $ms ]]; then
			rec E bulk 1 rules "$E_RULES"
			rec E bulk 1 seconds "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
			rec E bulk 1 rules_per_s "$(awk -v m="$ms" -v n="$E_RULES" 'BEGIN { printf "%.0f", n / (m / 1000) }')"
		else
			warn "xdpctl bypass load failed (see $LOG)"
			rec E bulk 1 error 1
		fi
		# One rule each, into the map that holds the bulk load's rules.
		i=0
		while read -r ms; do
			i=$(( i + 1 ))
			if [[ $ms == error ]]; then rec E add "$i" error 1; else rec E add "$i" ms "$ms"; fi
		done < <(timed_runs "$E_ADDS" "$XDPCTL" -n "$HOST_NS" bypass add "2001:db8:f::{}" dev "$C2_VETH")
		xdpctl -n "$HOST_NS" detach "$UPLINK" >>"$LOG" 2>&1
	else
		warn "E: xdpctl attach failed (see $LOG)"
		rec E bulk 1 error 1
	fi
	rm -f "$WORK/rules.txt"
fi

# ---- report ------------------------------------------------------------------------
cond total_seconds "$(elapsed)"
cond loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$OUT" || die "cannot create $OUT"
PLOT_ARGS=()
if (( DO_PLOT )); then
	if ! command -v gnuplot >/dev/null 2>&1; then
		log "installing gnuplot-nox for the plot"
		DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends gnuplot-nox >>"$LOG" 2>&1 ||
			{ timeout 300 apt-get update -qq >>"$LOG" 2>&1 &&
			  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends gnuplot-nox >>"$LOG" 2>&1; } ||
			warn "could not install gnuplot-nox: no plot"
	fi
	command -v gnuplot >/dev/null 2>&1 && PLOT_ARGS=(--plot "$OUT/bench.png")
fi
check=()
(( QUICK )) && check=(--check)
python3 "$TOP/tests/bench/report.py" --raw "$RAW" --conditions "$COND" --work "$WORK" \
	--prog-cost "$WORK/prog_cost.json" --md "$OUT/bench.md" "${PLOT_ARGS[@]}" "${check[@]}"
rc=$?
cat "$OUT/bench.md" 2>/dev/null
log "report: $OUT/bench.md${PLOT_ARGS:+, $OUT/bench.png}; raw data: $WORK"
exit "$rc"
