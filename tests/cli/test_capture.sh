#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# xdpctl capture on real lab traffic: the pcap file tcpdump reads (count and
# content), the verdict of each frame in FILE.verdicts, the address and flow
# filters, the rate bound, and the lease (off when the capture dies).
source "$(dirname "$0")/lib.sh"
need_root
PASS_OBJ=${PASS_OBJ:?set PASS_OBJ to pass.bpf.o}
command -v tcpdump >/dev/null || skip "tcpdump not installed (scripts/install-deps.sh)"

lab_up || { echo "FAIL: lab setup"; exit 1; }
ip -n "${P}cl" link set dev eth0 xdp obj "$PASS_OBJ" sec xdp.frags
ok "attach" -n "$H" attach "${P}up" --engine xdp --fast-path skip-firewall || finish
ok "bypass add" -n "$H" bypass add 198.19.0.3 dev "${P}v2"
ok "pingpong add xdp" -n "$H" pingpong add 198.19.0.9 --hook xdp
cap_readers() { "$XDPCTL" -j stats | jq '.capture_readers'; }
pings() { # ADDR COUNT: echo requests with a 200-byte payload pattern "ab"
	in_ns "${P}cl" ping -c"$2" -i0.2 -W1 -s 200 -p ab "$1" >/dev/null 2>&1
}

check "capture off at start" test "$(cap_readers)" = 0

# Three echoes each through bypass (.3), ping-pong (.9) and the kernel path (.2).
(sleep 0.7; pings 198.19.0.3 3; pings 198.19.0.9 3; pings 198.19.0.2 3) &
CLEANUP_EXTRA+=("kill $!")
ok "capture -w" -n "$H" capture -w "$TMPD/all.pcap" --timeout 5
check "summary line" grep -qE '^[0-9]+ packets captured to .*all.pcap; not copied: 0 over the rate, 0 ring full$' <<<"$OUT"
wait
tcpdump -nn -r "$TMPD/all.pcap" >"$TMPD/all.txt" 2>"$TMPD/tcpdump.err"
check "tcpdump reads the file" test $? -eq 0
V="$TMPD/all.pcap.verdicts"
n_pcap=$(wc -l <"$TMPD/all.txt")
n_ver=$(grep -vc '^#' "$V")
check "as many verdict lines as frames ($n_pcap, $n_ver)" test "$n_pcap" -eq "$n_ver" -a "$n_pcap" -gt 0
# bypass: 3 requests in at XDP (redirected, MACs rewritten, TTL 63), 3 replies by tc_return
check "3 bypassed requests at xdp" test "$(grep -cP '\txdp\tbypass\tXDP_REDIRECT\t.*198.18.0.2 > 198.19.0.3 icmp$' "$V")" -eq 3
check "3 bypassed replies at tc_return" test "$(grep -cP '\ttc_return\tbypass\tTC_ACT_REDIRECT\t.*198.19.0.3 > 198.18.0.2 icmp$' "$V")" -eq 3
check "3 ping-pong answers at xdp" test "$(grep -cP '\txdp\tpingpong\tXDP_TX\t' "$V")" -eq 3
check "kernel path: 3 requests passed at xdp" test "$(grep -cP '\txdp\tpass\tXDP_PASS\t.*198.18.0.2 > 198.19.0.2 icmp$' "$V")" -eq 3
check "kernel path: 3 requests passed at tc" test "$(grep -cP '\ttc_ingress\tpass\tTC_ACT_OK\t.*198.18.0.2 > 198.19.0.2 icmp$' "$V")" -eq 3
# The frames themselves: the bypassed request as it left for the container
# (TTL 63 after the rewrite), the ping-pong reply (TX back to the client),
# 242-byte frames carrying the payload pattern.
check "tcpdump: bypassed requests" test "$(grep -c '198.18.0.2 > 198.19.0.3: ICMP echo request' "$TMPD/all.txt")" -eq 3
check "tcpdump: ping-pong replies" test "$(grep -c '198.19.0.9 > 198.18.0.2: ICMP echo reply' "$TMPD/all.txt")" -eq 3
tcpdump -nn -v -r "$TMPD/all.pcap" 'icmp and dst host 198.19.0.3' >"$TMPD/v.txt" 2>/dev/null
check "tcpdump -v: the bypassed request has TTL 63" test "$(grep -c 'ttl 63' "$TMPD/v.txt")" -eq 3
check "whole frames: 242 bytes, payload pattern" \
	test "$(tcpdump -nn -x -r "$TMPD/all.pcap" 'icmp and dst host 198.19.0.3' 2>/dev/null | grep -c 'abab abab abab abab')" -ge 3
check "capture off after it ended" test "$(cap_readers)" = 0

# ADDR and --flow filter in the programs; --count and --snaplen.
(sleep 0.7; pings 198.19.0.2 2; pings 198.19.0.3 2) &
CLEANUP_EXTRA+=("kill $!")
ok "capture ADDR --count 2 --snaplen 64" -n "$H" capture 198.19.0.3 --count 2 --snaplen 64 -w "$TMPD/a.pcap" --timeout 10
wait
check "ADDR: 2 frames, all for 198.19.0.3" \
	test "$(tcpdump -nn -r "$TMPD/a.pcap" 2>/dev/null | grep -c '198.19.0.3')" -eq 2
check "--snaplen 64: caplen 64 of 242" test "$(awk -F'\t' '!/^#/ {print $8 "/" $9}' "$TMPD/a.pcap.verdicts" | sort -u)" = "242/64"
(sleep 0.7; pings 198.19.0.2 2; pings 198.19.0.3 2) &
CLEANUP_EXTRA+=("kill $!")
ok "capture --flow -j" -n "$H" -j capture --flow 198.19.0.2,198.18.0.2,icmp --timeout 3
wait
check "--flow: 4 frames, the 2 requests at xdp and at tc (the replies take the kernel path)" \
	jq -es 'length == 4 and all(.[]; .flow | test("198.18.0.2 > 198.19.0.2|198.19.0.2 > 198.18.0.2"))' <<<"$OUT"

# The rate bound: 1 packet per second per CPU out of a burst of 20.
(sleep 0.7; in_ns "${P}cl" ping -c20 -i0.01 -W1 198.19.0.77 >/dev/null 2>&1) &
CLEANUP_EXTRA+=("kill $!")
ok "capture --rate 1" -n "$H" capture 198.19.0.77 --rate 1 --timeout 2
wait
got=$(grep -c ' 198.18.0.2 > 198.19.0.77 ' <<<"$OUT")
check "--rate 1: at most 2 per CPU of 40 (got $got)" test "$got" -ge 1 -a "$got" -le "$((2 * $(nproc)))"
check "--rate 1: the rest counted" grep -qE 'not copied: [1-9][0-9]* over the rate' <<<"$OUT"

# kill -9: the lease lapses by itself; the next capture may start.
"$XDPCTL" -n "$H" capture -w "$TMPD/k.pcap" >/dev/null 2>&1 &
cap=$!
CLEANUP_EXTRA+=("kill -9 $cap")
sleep 0.7
check "one capture reader" test "$(cap_readers)" = 1
bad "a second capture is refused" "another capture is running" -n "$H" capture --timeout 1
kill -9 "$cap"
wait "$cap" 2>/dev/null
sleep 2.5
check "kill -9: capture lease lapsed" test "$(cap_readers)" = 0

finish
