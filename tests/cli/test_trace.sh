#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# xdpctl trace on real traffic: the lines each role produces, --count,
# --timeout, Ctrl-C, -j, and the lease: tracing stops by itself when the
# reader dies (kill -9, a closed pipe, SIGHUP), and two readers never switch
# each other off.
source "$(dirname "$0")/lib.sh"
need_root
PASS_OBJ=${PASS_OBJ:?set PASS_OBJ to pass.bpf.o}

lab_up || { echo "FAIL: lab setup"; exit 1; }
ip -n "${P}cl" link set dev eth0 xdp obj "$PASS_OBJ" sec xdp.frags
ok "attach" -n "$H" attach "${P}up" --engine xdp --fast-path skip-firewall || finish
ok "bypass add" -n "$H" bypass add 198.19.0.3 dev "${P}v2"
ok "pingpong add xdp" -n "$H" pingpong add 198.19.0.9 --hook xdp
ok "pingpong add tc" -n "$H" pingpong add 198.19.0.10 --hook tc
v2=$(ip -n "$H" -j link show dev "${P}v2" | jq '.[0].ifindex')
up=$(ip -n "$H" -j link show dev "${P}up" | jq '.[0].ifindex')

# Readers whose lease is live now: what the programs compare with their clock.
trace_flags() { "$XDPCTL" -j stats | jq '.trace_readers'; }
# Traffic a moment after the tracer started; the pings are bounded (-c1 -W2).
traffic() {
	(sleep 0.7
	 for a in "$@"; do in_ns "${P}cl" ping -c1 -W2 "$a" >/dev/null 2>&1; done) &
	TRAFFIC=$!
	CLEANUP_EXTRA+=("kill $TRAFFIC")
}

check "tracing off at start" test "$(trace_flags)" = 0

# Every role once: xdp ping-pong, xdp bypass (and its return), tc ping-pong, pass.
traffic 198.19.0.9 198.19.0.3 198.19.0.10 198.19.0.77
ok "trace --timeout 4" -n "$H" trace --timeout 4
wait "$TRAFFIC"
for line in \
	"[xdp_pingpong] ingress got packet" \
	"[xdp_pingpong] ICMP request for 198.19.0.9 type 8" \
	"[xdp_pingpong] 198.18.0.2 > 198.19.0.9 icmp len 98 answered: echo reply out of ifindex $up" \
	"[xdp_bypass] ingress got packet" \
	"[xdp_bypass] 198.18.0.2 > 198.19.0.3 icmp len 98 to veth ifindex $v2" \
	"[tc_return] 198.19.0.3 > 198.18.0.2 icmp len 98 to uplink ifindex $up" \
	"[xdp] pass 198.18.0.2 > 198.19.0.10: left to the tc program" \
	"[tc_pingpong] ingress got packet" \
	"[tc_pingpong] ICMP request for 198.19.0.10 type 8" \
	"[xdp] pass 198.18.0.2 > 198.19.0.77: no rule" \
	"[tc] pass 198.18.0.2 > 198.19.0.77: no rule"; do
	check "trace line: $line" grep -qxF "$line" <<<"$OUT"
done
check "every line is tagged" test "$(grep -cvE '^\[(xdp|xdp_pingpong|xdp_bypass|tc|tc_pingpong|tc_bypass|tc_return)\] ' <<<"$OUT")" -eq 0
check "the RX line comes before its request line" \
	test "$(grep -nxF '[xdp_pingpong] ingress got packet' <<<"$OUT" | head -1 | cut -d: -f1)" -lt \
	"$(grep -nxF '[xdp_pingpong] ICMP request for 198.19.0.9 type 8' <<<"$OUT" | cut -d: -f1)"
check "tracing off again" test "$(trace_flags)" = 0

# --count stops after exactly N lines, well before the timeout.
traffic 198.19.0.9 198.19.0.9 198.19.0.9
start=$(date +%s%N)
ok "trace --count 5" -n "$H" trace --count 5 --timeout 30
elapsed=$((($(date +%s%N) - start) / 1000000))
wait "$TRAFFIC"
check "--count 5: 5 lines" test "$(grep -c . <<<"$OUT")" -eq 5
check "--count 5: stops early (${elapsed} ms)" test "$elapsed" -lt 10000

# --timeout ends a quiet trace on time.
start=$(date +%s%N)
ok "trace --timeout 2" -n "$H" trace --timeout 2
elapsed=$((($(date +%s%N) - start) / 1000000))
check "--timeout 2 took ${elapsed} ms" test "$elapsed" -ge 1900 -a "$elapsed" -lt 4000

# -j: one JSON object per line.
traffic 198.19.0.3
# (no --count here: IPv6 neighbour discovery of the lab may come first)
ok "trace -j --timeout 3" -n "$H" -j trace --timeout 3
wait "$TRAFFIC"
check "-j: at least the 4 events of the echo" test "$(grep -c . <<<"$OUT")" -ge 4
check "-j: each line is an object with the fields" jq -es \
	'length >= 4 and all(.[]; (.ts_ns | type == "number") and (.tag | type == "string") and (.hook | type == "string") and (.kind | type == "string") and (. as $e | $e.text | startswith("[" + $e.tag + "]")))' <<<"$OUT"
check "-j: the bypass event" jq -es "any(.[]; .tag == \"xdp_bypass\" and .kind == \"bypass\" and .src == \"198.18.0.2\" and .dst == \"198.19.0.3\" and .out_ifindex == $v2 and .len_bytes == 98 and .icmp_type == 8)" <<<"$OUT"

# Ctrl-C: stops at once, exit 0, tracing off.
"$XDPCTL" -n "$H" trace >"$TMPD/sigint.out" 2>&1 &
tracer=$!
sleep 1
check "tracing on while tracing" test "$(trace_flags)" = 1
kill -INT "$tracer"
start=$(date +%s%N)
wait "$tracer"
rc=$?
elapsed=$((($(date +%s%N) - start) / 1000000))
check "Ctrl-C: exit 0 (got $rc)" test "$rc" -eq 0
check "Ctrl-C: stopped in ${elapsed} ms" test "$elapsed" -lt 2000
check "Ctrl-C: tracing off" test "$(trace_flags)" = 0

# A reader that stops renewing (kill -9, or stopped): its lease lapses by
# itself (XDPCTL_LEASE_MS, 2 s). A stopped reader shows what the programs
# put in its ring meanwhile once it runs again: the echo sent at once
# (lease live), none of the one sent 2.6 s later.
"$XDPCTL" -n "$H" trace >"$TMPD/stopped.out" 2>&1 &
tracer=$!
CLEANUP_EXTRA+=("kill -9 $tracer")
sleep 1
check "a reader is on" test "$(trace_flags)" = 1
kill -STOP "$tracer"
stopped=$(date +%s%N)
in_ns "${P}cl" ping -c1 -W1 198.19.0.77 >/dev/null 2>&1
sleep 2.6
left=$(trace_flags)
check "stopped reader: lease lapsed 2.6 s after (readers $left)" test "$left" = 0
in_ns "${P}cl" ping -c1 -W1 198.19.0.78 >/dev/null 2>&1
after_ms=$((($(date +%s%N) - stopped) / 1000000))
kill -CONT "$tracer"
sleep 1
check "stopped reader: renews again when it runs" test "$(trace_flags)" = 1
kill -INT "$tracer"
wait "$tracer"
check "stopped reader: the echo sent at once is in its ring" \
	grep -qF "[xdp] pass 198.18.0.2 > 198.19.0.77: no rule" "$TMPD/stopped.out"
check "stopped reader: no event from the echo ${after_ms} ms after it stopped" \
	test "$(grep -cF '198.19.0.78' "$TMPD/stopped.out")" -eq 0
"$XDPCTL" -n "$H" trace >/dev/null 2>&1 &
tracer=$!
CLEANUP_EXTRA+=("kill -9 $tracer")
sleep 1
kill -9 "$tracer"
wait "$tracer" 2>/dev/null
sleep 2.5
check "kill -9: lease lapsed 2.5 s after the kill" test "$(trace_flags)" = 0

# Two sessions overlapping: each has a ring of its own and sees every event
# while both run, and the first ending does not switch the second off.
"$XDPCTL" -n "$H" trace --timeout 3 >"$TMPD/t1.out" 2>&1 &
t1=$!
sleep 0.5
"$XDPCTL" -n "$H" trace --timeout 6 >"$TMPD/t2.out" 2>&1 &
t2=$!
CLEANUP_EXTRA+=("kill $t1" "kill $t2")
sleep 0.7
check "two readers" test "$(trace_flags)" = 2
in_ns "${P}cl" ping -c2 -i0.2 -W1 198.19.0.80 >/dev/null 2>&1
wait "$t1"
sleep 0.5
check "one reader left after the first ended" test "$(trace_flags)" = 1
in_ns "${P}cl" ping -c1 -W1 198.19.0.79 >/dev/null 2>&1
wait "$t2"
for f in t1 t2; do
	check "$f saw both echoes sent while both ran" \
		test "$(grep -cxF '[xdp] pass 198.18.0.2 > 198.19.0.80: no rule' "$TMPD/$f.out")" -eq 2
done
check "second session saw the echo sent after the first ended" \
	grep -qF "[xdp] pass 198.18.0.2 > 198.19.0.79: no rule" "$TMPD/t2.out"
check "both gone: tracing off" test "$(trace_flags)" = 0

# A closed pipe (| head -1) and SIGHUP end the reader at once and give the lease back.
(sleep 0.5; in_ns "${P}cl" ping -c3 -i0.2 -W1 198.19.0.77 >/dev/null 2>&1) &
CLEANUP_EXTRA+=("kill $!")
start=$(date +%s%N)
line=$(timeout 10 "$XDPCTL" -n "$H" trace 2>"$TMPD/pipe.err" | head -1)
elapsed=$((($(date +%s%N) - start) / 1000000))
check "| head -1: one tagged line (got: ${line:-nothing})" grep -qE '^\[(xdp|tc)[a-z_]*\] ' <<<"$line"
check "| head -1: ended in ${elapsed} ms, nothing on stderr" test "$elapsed" -lt 5000 -a ! -s "$TMPD/pipe.err"
check "| head -1: tracing off at once" test "$(trace_flags)" = 0
"$XDPCTL" -n "$H" trace >/dev/null 2>&1 &
tracer=$!
sleep 0.7
kill -HUP "$tracer"
wait "$tracer"
rc=$?
check "SIGHUP: exit 0 (got $rc)" test "$rc" -eq 0
check "SIGHUP: tracing off at once" test "$(trace_flags)" = 0

finish
