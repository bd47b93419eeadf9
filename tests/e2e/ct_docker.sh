#!/usr/bin/env bash
# shellcheck disable=SC2153  # C1_IP4 and friends come from eval "$(lab.sh env)"
# End-to-end test of the conntrack fast path on a real Docker host (dockerd 20.10
# of the Docker lab, its iptables rules, the kernel's conntrack), as a user would:
# a container with published ports (docker run -p), xdpctl attached to the uplink
# with the default fast path, the container in the container table:
#   - TCP to the published port: sha256 equal at both ends, the data packets after
#     the handshake on the fast path, conntrack -L showing TIME_WAIT/CLOSE after;
#   - UDP to the published port (echoes), on the fast path;
#   - a UDP flow outlasting conntrack's UDP timeouts (lowered for the test) keeps
#     flowing, its entry kept alive from the fast path (no new entry);
#   - an unpublished port, and the container's own address, answer as without
#     xdpctl; a DOCKER-USER DROP for the client blocks new flows;
#   - a connection the container opens arrives MASQUERADEd and is fast-pathed;
#   - `ip neigh flush` on the uplink during a transfer: it completes;
#   - a second container sending with the first one's source address is not
#     forwarded by the fast path (counted as ct_policy);
#   - both engines (tc, then xdp).
# IPv6: Docker 20.10 publishes IPv6 ports by ip6tables DNAT only with
# --experimental --ip6tables (otherwise through its userland proxy): the dockerd
# this test starts (lab.sh up --ip6tables) runs that way, and the same checks run
# over IPv6 (TCP with sha256 and conntrack -f ipv6 TIME_WAIT/CLOSE, UDP, an
# unpublished port, the container-initiated flow MASQUERADEd when Docker has an
# ip6tables MASQUERADE rule, ICMPv6 neighbour discovery always to the stack).
# Each check is one function run for each family (fam sets its addresses and
# commands; fam's table also holds where the families' checks differ); the
# DOCKER-USER DROP, the spoofed source, the published port at the container's
# address and the long UDP flow run over IPv4 only, neighbour discovery over
# IPv6 only (family_checks).
# A dockerd that runs already and that the test did not start: IPv6 is skipped.
# The lab's own DOCKER-USER ACCEPT rule is removed for the test: Docker's policy
# applies as on a real host. One PASS/FAIL/SKIP line per check (tests/lib/verdict.sh).
# Exit 0 pass, 1 fail, 77 skip. Run under flock /work/coord/docker.lock (meson's
# e2e suite, scripts/test.sh).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB="$ROOT/scripts/lab.sh"
BUILD=${XDPCTL_BUILD_DIR:-$ROOT/build}
XDPCTL="$BUILD/ctl/xdpctl"
P="k$(( $$ % 100000 ))"
export XDPCTL_PIN_DIR="/sys/fs/bpf/xdpctl-ct-$P"
TMP=""
SYSCTL_SAVE=()

# shellcheck source=../lib/verdict.sh
source "$ROOT/tests/lib/verdict.sh"

if [[ $(id -u) -ne 0 ]]; then skip ct_docker "needs root (dockerd, iptables, conntrack)"; exit 77; fi
for c in ip nsenter iptables conntrack socat sha256sum python3 docker dockerd; do
    command -v "$c" >/dev/null 2>&1 || { skip ct_docker "$c not installed (scripts/install-deps.sh)"; exit 77; }
done
[[ -x $XDPCTL ]] || { skip ct_docker "no xdpctl at $XDPCTL (build first)"; exit 77; }
for d in /run/xdpctl-lab/*/; do
    [[ -d $d && $(cat "$d/mode" 2>/dev/null) == docker ]] || continue
    skip ct_docker "docker lab '$(basename "$d")' is up (one docker lab per machine)"
    exit 77
done

sysctl_save_set() { # KEY VALUE: remember the old value, set the new one
    SYSCTL_SAVE+=("$1=$(sysctl -n "$1")")
    sysctl -qw "$1=$2" >/dev/null
}

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    local kv
    [[ -n ${UPLINK:-} ]] && "$XDPCTL" detach "$UPLINK" >/dev/null 2>&1
    iptables -D DOCKER-USER -s 198.18.0.2 -m comment --comment "xdpctl-ct:$P" -j DROP 2>/dev/null
    for kv in "${SYSCTL_SAVE[@]}"; do sysctl -qw "$kv" >/dev/null 2>&1; done
    "$LAB" down --docker --prefix "$P" >/dev/null 2>&1 || "$LAB" down --docker --prefix "$P"
    rm -rf "$XDPCTL_PIN_DIR"
    [[ -z $TMP ]] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
TMP=$(mktemp -d /tmp/ct_docker.XXXXXX)

if ! "$LAB" up --docker --ip6tables --prefix "$P" --containers 2 >"$TMP/lab.log" 2>&1; then
    fail lab_up "$(tail -n 5 "$TMP/lab.log" | tr '\n' ' ')"
    exit 1
fi
eval "$("$LAB" env --docker --prefix "$P")"

# The container with published ports, at these addresses.
SRV=${P}s
SRV_IP4=198.19.0.20
SRV_IP6=2001:db8:19::20
MASQ6=0

# fam 4|6: one family's addresses, commands and socat listen addresses in F_*,
# and where its checks differ from the other family's.
fam() {
    F=$1
    if [[ $F == 6 ]]; then
        F_TAG=IPv6 F_SFX=6 F_IPT=ip6tables F_CT=ipv6
        F_HOST=$UPLINK_IP6 F_SRV=$SRV_IP6 F_CLIENT=$CLIENT_IP6
        F_TCPL=TCP6-LISTEN F_UDPL=UDP6-LISTEN
        # the container-initiated flow: only with Docker's ip6tables MASQUERADE
        # rule, no neighbour flush during it, a slack of 6 packets (IPv4: 4) off
        # the fast path beyond the SYN/FIN counted to the stack
        F_MASQ=$MASQ6 F_NEIGH_FLUSH=0 F_MASQ_SLACK=6
        # flows: the UDP flow to 8081, every flow with its NAT, the MASQUERADEd one
        F_FLOW_PORT=8081 F_FLOW_ALL=1
    else
        F_TAG=IPv4 F_SFX="" F_IPT=iptables F_CT=ipv4
        F_HOST=$UPLINK_IP4 F_SRV=$SRV_IP4 F_CLIENT=$CLIENT_IP4
        F_TCPL=TCP4-LISTEN F_UDPL=UDP4-LISTEN
        F_MASQ=1 F_NEIGH_FLUSH=1 F_MASQ_SLACK=4
        F_FLOW_PORT=8080 F_FLOW_ALL=0
    fi
}

# As on a real host: no rule of the lab's admits the client to the containers.
for f in 4 6; do
    fam "$f"
    for (( i = 0; i < 5; i++ )); do
        "$F_IPT" -D DOCKER-USER -i "$UPLINK" -o "$BRIDGE" -m comment --comment "xdpctl-lab:$P" -j ACCEPT 2>/dev/null || break
    done
done
# IPv6 only where this test's own dockerd publishes IPv6 ports by ip6tables DNAT.
FAMILIES=(4)
if [[ ${LAB_DOCKERD_OWNED:-0} != 1 ]]; then
    skip ct_docker_ipv6 "a dockerd runs that this test did not start (its flags are not ours: IPv6 ports may go through docker-proxy); IPv6 not tested"
elif [[ ${LAB_DOCKER_IP6TABLES:-0} != 1 || -z ${LAB_NET6:-} ]]; then
    skip ct_docker_ipv6 "dockerd without --ip6tables or the network without IPv6 ($(grep -i ipv6 "$TMP/lab.log" | tail -n 1))"
elif ! ip6tables -t nat -S DOCKER >/dev/null 2>&1; then
    skip ct_docker_ipv6 "dockerd --ip6tables made no ip6tables nat chain DOCKER; IPv6 not tested"
else
    FAMILIES=(4 6)
fi
has_v6() { [[ ${FAMILIES[*]} == *6* ]]; }

# Labelled, so 'lab.sh down' removes it too.
V6RUN=()
has_v6 && V6RUN=(--ip6 "$SRV_IP6")
if ! docker run -d --name "$SRV" --label "xdpctl-lab=$P" --network "$LAB_DOCKER_NETWORK" \
    --ip "$SRV_IP4" "${V6RUN[@]}" -p 8080:8080 -p 8081:8081/udp -p 8082:8082/udp "${LAB_IMAGE:-xdpctl-busybox:latest}" \
    sleep 100000 >"$TMP/run.log" 2>&1; then
    fail docker_run "$(cat "$TMP/run.log")"
    exit 1
fi
SRV_PID=$(docker inspect -f '{{.State.Pid}}' "$SRV")
SRV_NS=/proc/$SRV_PID/ns/net

in_client() { timeout 60 nsenter --net="/run/netns/$CLIENT_NS" "$@"; }
in_srv() { timeout 60 nsenter --net="$SRV_NS" "$@"; }

# socat addresses for ADDR PORT: TCP/UDP connect (IPv4 or IPv6 by ADDR)
tcp_to() { if [[ $1 == *:* ]]; then echo "TCP6:[$1]:$2"; else echo "TCP4:$1:$2"; fi; }
udp_to() { if [[ $1 == *:* ]]; then echo "UDP6:[$1]:$2"; else echo "UDP4:$1:$2"; fi; }
# ADDR:PORT as a user writes it ([ADDR]:PORT for IPv6)
addr_port() { if [[ $1 == *:* ]]; then echo "[$1]:$2"; else echo "$1:$2"; fi; }

# probe_tcp ADDR PORT: open (a server answered), refused, or timeout
probe_tcp() {
    local out
    out=$(in_client timeout 3 socat -u /dev/null "$(tcp_to "$1" "$2"),connect-timeout=2" 2>&1)
    if [[ $? -eq 0 ]]; then echo open
    elif [[ $out == *"refused"* ]]; then echo refused
    else echo timeout; fi
}

stat_of() { # HOOK REASON: packets
    "$XDPCTL" -j stats | python3 -c '
import json,sys
h,r=sys.argv[1],sys.argv[2]
d=json.load(sys.stdin)
rows=d if isinstance(d,list) else d.get("counters",d.get("stats",[]))
n=0
for x in rows:
    if x.get("hook")==h and x.get("reason")==r: n+=x.get("packets",0)
print(n)' "$1" "$2"
}

rule_of() { # ADDR FIELD
    "$XDPCTL" -j bypass list | python3 -c '
import json,sys
for r in json.load(sys.stdin):
    if r["addr"]==sys.argv[1]: print(r[sys.argv[2]]); break
else: print(0)' "$1" "$2"
}

client_tx() { in_client awk '$1=="eth0:" {print $11}' /proc/net/dev; }

head -c $((8 << 20)) /dev/urandom >"$TMP/data"
WANT=$(sha256sum <"$TMP/data" | cut -d' ' -f1)

# ---- without xdpctl: what Docker's policy says ----
# (Docker 20.10 admits the published port at the container's own address too,
# where nothing listens yet: refused; any other port there: FORWARD policy DROP.)
declare -A BASE_UNPUB BASE_DIRECT_UNPUB
BASE_DIRECT_PUB=""
baseline_checks() { # FAMILY
    fam "$1"
    BASE_UNPUB[$F]=$(probe_tcp "$F_HOST" 9999)
    (( F == 4 )) && BASE_DIRECT_PUB=$(probe_tcp "$F_SRV" 8080)
    BASE_DIRECT_UNPUB[$F]=$(probe_tcp "$F_SRV" 9000)
    [[ ${BASE_UNPUB[$F]} == refused ]] && pass "$F_TAG without xdpctl: an unpublished port of the host is refused" ||
        fail "baseline${F_SFX}_unpublished" "expected refused, got ${BASE_UNPUB[$F]}"
    [[ ${BASE_DIRECT_UNPUB[$F]} == timeout ]] && pass "$F_TAG without xdpctl: an unpublished port at the container's address is dropped by Docker's $F_IPT FORWARD policy" ||
        fail "baseline${F_SFX}_direct" "expected timeout, got ${BASE_DIRECT_UNPUB[$F]}"
}
for f in "${FAMILIES[@]}"; do baseline_checks "$f"; done
if has_v6 && ip6tables -t nat -S POSTROUTING | grep -q -- "-s $LAB_NET6 .*MASQUERADE"; then MASQ6=1; fi

# Lowered UDP timeouts (restored on exit): read by attach for the keep-alive.
sysctl_save_set net.netfilter.nf_conntrack_udp_timeout 3
sysctl_save_set net.netfilter.nf_conntrack_udp_timeout_stream 6
LIBERAL_BEFORE=$(sysctl -n net.netfilter.nf_conntrack_tcp_be_liberal)

# ---- the checks of one family, attached (engine $ENGINE, its ingress hook $HOOK) ----

# Docker's policy, attached: the same answers as without xdpctl.
check_unpublished() {
    local r
    r=$(probe_tcp "$F_HOST" 9999)
    [[ $r == "${BASE_UNPUB[$F]}" ]] && pass "[$ENGINE] $F_TAG: an unpublished port: $r, as without xdpctl" ||
        fail "unpublished${F_SFX}_$ENGINE" "got $r, without xdpctl ${BASE_UNPUB[$F]}"
}
check_direct_unpublished() {
    local r
    r=$(probe_tcp "$F_SRV" 9000)
    [[ $r == "${BASE_DIRECT_UNPUB[$F]}" ]] && pass "[$ENGINE] $F_TAG: an unpublished port at the container's address: $r, as without xdpctl (its container-table entry opens nothing)" ||
        fail "direct${F_SFX}_$ENGINE" "got $r, without xdpctl ${BASE_DIRECT_UNPUB[$F]}"
}
check_direct_published() { # (IPv4: the baseline is taken for IPv4 only)
    local r
    r=$(probe_tcp "$F_SRV" 8080)
    [[ $r == "$BASE_DIRECT_PUB" ]] && pass "[$ENGINE] $F_TAG: the published port at the container's address: $r, as without xdpctl" ||
        fail "direct_pub${F_SFX}_$ENGINE" "got $r, without xdpctl $BASE_DIRECT_PUB"
}

tcp_transfer() { # client -> published port, 8 MiB
    local name got in0 in1 out0 out1 new0 new1 cl0 cl1 tx0 tx1 data ct port=8080 spid
    name="[$ENGINE] $F_TAG TCP to published port $(addr_port "$F_HOST" $port)"
    in_srv sh -c "socat -u $F_TCPL:$port,reuseaddr OPEN:$TMP/recv,creat,trunc" &
    spid=$!
    sleep 0.3
    in0=$(rule_of "$F_SRV" in_packets); out0=$(rule_of "$F_SRV" out_packets)
    new0=$(stat_of "$HOOK" ct_new); cl0=$(stat_of "$HOOK" ct_closing); tx0=$(client_tx)
    if ! in_client socat -u "FILE:$TMP/data" "$(tcp_to "$F_HOST" $port),connect-timeout=5" 2>"$TMP/err"; then
        fail "$name" "client transfer failed: $(cat "$TMP/err")"
    fi
    wait "$spid"
    got=$(sha256sum <"$TMP/recv" | cut -d' ' -f1)
    in1=$(rule_of "$F_SRV" in_packets); out1=$(rule_of "$F_SRV" out_packets)
    new1=$(stat_of "$HOOK" ct_new); cl1=$(stat_of "$HOOK" ct_closing); tx1=$(client_tx)
    data=$(( tx1 - tx0 ))
    # The client's packets: SYN, the handshake's ACK, FIN(s) and a few ARP/ND aside,
    # every one is on the fast path (container-table in_packets).
    if [[ $got != "$WANT" ]]; then
        fail "$name" "sha256 differs: sent $WANT received $got"
    elif (( in1 - in0 < data - (new1 - new0) - (cl1 - cl0) - 4 )); then
        fail "$name" "client sent $data packets, $(( in1 - in0 )) on the fast path, ct_new +$(( new1 - new0 )), ct_closing +$(( cl1 - cl0 ))"
    elif (( out1 - out0 < 10 )); then
        fail "$name" "the container's answers did not take the fast path (out +$(( out1 - out0 )))"
    else
        pass "$name: 8 MiB, sha256 equal; client sent $data packets, $(( in1 - in0 )) on the fast path, $(( new1 - new0 + cl1 - cl0 )) to the stack (SYN, handshake ACK, FIN); $(( out1 - out0 )) answers on the return fast path"
    fi
    sleep 0.5
    ct=$(conntrack -L -f "$F_CT" -p tcp --orig-src "$F_CLIENT" --orig-dst "$F_HOST" --orig-port-dst "$port" 2>/dev/null | tail -n 1)
    if [[ $ct == *TIME_WAIT* || $ct == *CLOSE* ]]; then
        pass "$name: conntrack -f $F_CT entry closed cleanly ($(awk '{print $4}' <<<"$ct"))"
    else
        fail "$name" "conntrack entry not in TIME_WAIT/CLOSE: ${ct:-none}"
    fi
}

udp_echo() { # COUNT INTERVAL PORT: echoes of COUNT datagrams; sets UDP_GOT
    local n=$1 iv=$2 port=$3 spid
    in_srv sh -c "timeout 60 socat $F_UDPL:$port,reuseaddr PIPE" &
    spid=$!
    sleep 0.3
    # shellcheck disable=SC2016
    UDP_GOT=$(in_client timeout 60 sh -c '
        n=$1; iv=$2; to=$3
        for i in $(seq 1 "$n"); do echo "datagram $i"; sleep "$iv"; done |
            socat -T 3 - "$to,sourceport=40123" | grep -c "^datagram "' _ "$n" "$iv" "$(udp_to "$F_HOST" "$port")")
    kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
    return 0
}

udp_check() { # 100 datagrams to the published port 8081
    local new0 new1 in0 in1
    new0=$(stat_of "$HOOK" ct_new); in0=$(rule_of "$F_SRV" in_packets)
    udp_echo 100 0.01 8081
    in1=$(rule_of "$F_SRV" in_packets); new1=$(stat_of "$HOOK" ct_new)
    if [[ $UDP_GOT == 100 ]] && (( in1 - in0 >= 95 )); then
        pass "[$ENGINE] $F_TAG UDP to published port 8081: 100 of 100 echoed, $(( in1 - in0 )) on the fast path, ct_new +$(( new1 - new0 ))"
    else
        fail "udp${F_SFX}_$ENGINE" "echoed $UDP_GOT of 100, fast path +$(( in1 - in0 )), ct_new +$(( new1 - new0 ))"
    fi
}

# A UDP flow longer than conntrack's UDP timeouts (3 s / 6 s here): kept alive.
udp_long_check() {
    local new0 new1 in0 in1
    new0=$(stat_of "$HOOK" ct_new); in0=$(rule_of "$F_SRV" in_packets)
    udp_echo 120 0.1 8082
    in1=$(rule_of "$F_SRV" in_packets); new1=$(stat_of "$HOOK" ct_new)
    if [[ $UDP_GOT == 120 ]] && (( new1 - new0 <= 2 && in1 - in0 >= 110 )); then
        pass "[$ENGINE] $F_TAG a 12 s UDP flow over 6 s of conntrack timeout: 120 of 120 echoed, $(( in1 - in0 )) on the fast path, ct_new +$(( new1 - new0 )) (the entry was kept alive)"
    else
        fail "udp_long${F_SFX}_$ENGINE" "echoed $UDP_GOT of 120, fast path +$(( in1 - in0 )), ct_new +$(( new1 - new0 ))"
    fi
}

# A DOCKER-USER DROP for the client: new flows blocked, attached. (IPv4: dockerd
# 20.10 --ip6tables makes no DOCKER-USER chain in ip6tables.)
docker_user_check() {
    local r
    "$F_IPT" -I DOCKER-USER -s "$F_CLIENT" -m comment --comment "xdpctl-ct:$P" -j DROP
    r=$(probe_tcp "$F_HOST" 8080)
    "$F_IPT" -D DOCKER-USER -s "$F_CLIENT" -m comment --comment "xdpctl-ct:$P" -j DROP
    [[ $r == timeout ]] && pass "[$ENGINE] $F_TAG: DOCKER-USER DROP for the client blocks a new flow to the published port" ||
        fail "docker_user${F_SFX}_$ENGINE" "expected timeout, got $r"
}

# The container opens a connection: MASQUERADE, then the fast path (with
# F_NEIGH_FLUSH, 'ip neigh flush' on the uplink 10 times during it).
masq_check() {
    local name="masq${F_SFX}_$ENGINE" out0 out1 rrx0 rrx1 rnew0 rnew1 lpid fpid="" got peer i flushed=""
    if (( ! F_MASQ )); then
        skip "$name" "Docker made no ip6tables MASQUERADE rule for $LAB_NET6"
        return
    fi
    out0=$(rule_of "$F_SRV" out_packets); rrx0=$(stat_of tc_return rx)
    rnew0=$(( $(stat_of tc_return ct_new) + $(stat_of tc_return ct_closing) ))
    in_client sh -c "socat -u $F_TCPL:7000,reuseaddr SYSTEM:'echo \$SOCAT_PEERADDR >$TMP/peer; cat >$TMP/recv2'" &
    lpid=$!
    sleep 0.3
    if (( F_NEIGH_FLUSH )); then
        (for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.05; ip neigh flush dev "$UPLINK" 2>/dev/null; done) &
        fpid=$!
        flushed="; 'ip neigh flush' on $UPLINK 10 times during it"
    fi
    in_srv socat -u "FILE:$TMP/data" "$(tcp_to "$F_CLIENT" 7000),connect-timeout=5" 2>"$TMP/err2" ||
        fail "$name" "container's transfer failed: $(cat "$TMP/err2")"
    wait "$lpid"
    [[ -z $fpid ]] || wait "$fpid"
    out1=$(rule_of "$F_SRV" out_packets); rrx1=$(stat_of tc_return rx)
    rnew1=$(( $(stat_of tc_return ct_new) + $(stat_of tc_return ct_closing) ))
    got=$(sha256sum <"$TMP/recv2" | cut -d' ' -f1)
    # (socat writes an IPv6 address uncompressed: compare it as an address)
    peer=$(python3 -c 'import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1].strip("[]")))' "$(cat "$TMP/peer" 2>/dev/null)" 2>/dev/null)
    if [[ $peer != "$F_HOST" ]]; then
        fail "$name" "the client saw $peer, expected the host's $F_HOST"
    elif [[ $got != "$WANT" ]]; then
        fail "$name" "sha256 differs"
    elif (( out1 - out0 < 100 || out1 - out0 < rrx1 - rrx0 - (rnew1 - rnew0) - F_MASQ_SLACK )); then
        fail "$name" "the container's veth saw $(( rrx1 - rrx0 )) packets, $(( out1 - out0 )) on the fast path, $(( rnew1 - rnew0 )) SYN/FIN to the stack"
    else
        pass "[$ENGINE] $F_TAG container-initiated 8 MiB: MASQUERADEd to $peer, sha256 equal; of $(( rrx1 - rrx0 )) packets (GSO) from the container $(( out1 - out0 )) on the fast path, $(( rnew1 - rnew0 )) (SYN, FIN) to the stack$flushed"
    fi
}

# Spoofing: c2 sends with the published container's source address. (IPv4: the
# frame is built as IPv4/UDP.)
spoof_check() {
    local pol0 pol1 sout0 sout1
    pol0=$(stat_of tc_return ct_policy); sout0=$(rule_of "$F_SRV" out_packets)
    nsenter --net="/run/netns/$C2_NS" python3 - "$F_SRV" "$F_CLIENT" "$GW_MAC" "$C2_MAC" <<'EOF'
import socket, struct, sys
src, dst, gw, me = sys.argv[1:5]
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s4, d4 = socket.inet_aton(src), socket.inet_aton(dst)
payload = b"spoofed"
udp = struct.pack("!HHHH", 8080, 4242, 8 + len(payload), 0) + payload
udp = udp[:6] + struct.pack("!H", csum(s4 + d4 + struct.pack("!BBH", 0, 17, len(udp)) + udp)) + udp[8:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, s4, d4)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
eth = bytes.fromhex(gw.replace(":", "")) + bytes.fromhex(me.replace(":", "")) + b"\x08\x00"
sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sk.bind(("eth0", 0))
for _ in range(20):
    sk.send(eth + ip + udp)
EOF
    sleep 0.2
    pol1=$(stat_of tc_return ct_policy); sout1=$(rule_of "$F_SRV" out_packets)
    if (( pol1 - pol0 >= 20 && sout1 == sout0 )); then
        pass "[$ENGINE] $F_TAG: c2 sending with $SRV's address: 20 of 20 left to the stack as ct_policy, none on $SRV's fast path"
    else
        fail "spoof${F_SFX}_$ENGINE" "ct_policy +$(( pol1 - pol0 )), $SRV out_packets +$(( sout1 - sout0 ))"
    fi
}

# xdpctl flows: the published-port flow (port F_FLOW_PORT) with its DNAT; with
# F_FLOW_ALL also every flow with its NAT and the MASQUERADEd flow (when F_MASQ).
flows_check() {
    local what="the published-port flow (port $F_FLOW_PORT) with its DNAT to $F_SRV"
    (( F_FLOW_ALL && F_MASQ )) && what+=" and the container's flow MASQUERADEd to $F_HOST"
    (( F_FLOW_ALL )) && what+=", every flow with its NAT"
    "$XDPCTL" -j flows >"$TMP/flows.json" 2>&1
    if python3 -c '
import json,sys
f=json.load(open(sys.argv[1]))
host,srv,port,every,masq=sys.argv[2],sys.argv[3],int(sys.argv[4]),sys.argv[5]=="1",sys.argv[6]=="1"
ok=[x for x in f if x["dst"]==host and x["dport"]==port and x["nat_dst"]==srv and x["nat"]]
# (every flow of the table names its NAT: a per-CPU slot of a flow is filled on each CPU)
bad=[x for x in f if x["nat"] and (x["nat_src"]=="::" or x["nat_dst"]=="::" or x["nat_dst"]=="0.0.0.0")]
fmasq=[x for x in f if x["hook"]=="tc_return" and x["dport"]==7000 and x["nat_src"]==host]
sys.exit(0 if ok and (not every or (not bad and (fmasq or not masq))) else 1)' \
        "$TMP/flows.json" "$F_HOST" "$F_SRV" "$F_FLOW_PORT" "$F_FLOW_ALL" "$F_MASQ"; then
        pass "[$ENGINE] $F_TAG: xdpctl flows shows $what"
    else
        fail "flows${F_SFX}_$ENGINE" "$(head -c 600 "$TMP/flows.json")"
    fi
}

# ICMPv6 neighbour discovery on both sides (caches flushed first): the stack's, counted.
nd_begin() {
    ND0=$(stat_of "$HOOK" neighbour_discovery); NDR0=$(stat_of tc_return neighbour_discovery)
    in_client ip -6 neigh flush dev eth0 >/dev/null 2>&1
    in_srv ip -6 neigh flush dev eth0 >/dev/null 2>&1
    ip -6 neigh flush dev "$UPLINK" >/dev/null 2>&1
}
nd_check() {
    local nd1 ndr1
    nd1=$(stat_of "$HOOK" neighbour_discovery); ndr1=$(stat_of tc_return neighbour_discovery)
    if (( nd1 > ND0 && ndr1 > NDR0 )); then
        pass "[$ENGINE] $F_TAG: ICMPv6 neighbour discovery left to the stack: $HOOK +$(( nd1 - ND0 )), tc_return +$(( ndr1 - NDR0 )) (neighbour_discovery)"
    else
        fail "nd${F_SFX}_$ENGINE" "neighbour_discovery $HOOK +$(( nd1 - ND0 )), tc_return +$(( ndr1 - NDR0 )) after flushing the neighbour caches"
    fi
}

family_checks() { # FAMILY: every check of one family, attached
    local t0=$SECONDS
    fam "$1"
    (( F == 6 )) && nd_begin
    check_unpublished
    check_direct_unpublished
    (( F == 4 )) && check_direct_published
    tcp_transfer
    udp_check
    (( F == 4 )) && docker_user_check
    masq_check
    (( F == 4 )) && spoof_check
    flows_check
    [[ $ENGINE == tc ]] && (( F == 4 )) && udp_long_check
    (( F == 6 )) && nd_check
    echo "INFO [$ENGINE] the $F_TAG checks took $(( SECONDS - t0 )) s"
}

for ENGINE in tc xdp; do
    if [[ $ENGINE == xdp ]]; then HOOK=xdp; else HOOK=tc_ingress; fi
    out=$("$XDPCTL" attach "$UPLINK" --engine "$ENGINE" 2>&1)
    if [[ $? -ne 0 || $out != *"fast path conntrack"* ]]; then
        fail "attach_$ENGINE" "$out"
        continue
    fi
    pass "[$ENGINE] attach: $(head -n 1 <<<"$out")"
    # (an XDP redirect into a veth needs XDP on the peer: the pass program, by the container table)
    for f in "${FAMILIES[@]}"; do
        fam "$f"
        "$XDPCTL" bypass add "$F_SRV" --container "$SRV" >/dev/null 2>&1 ||
            fail "container_add${F_SFX}_$ENGINE" "$("$XDPCTL" bypass add "$F_SRV" --container "$SRV" 2>&1)"
        (( F == 4 )) && { "$XDPCTL" bypass add "$C2_IP4" --container "$C2_NAME" >/dev/null 2>&1 ||
            fail "container_add_$ENGINE" "c2"; }
    done
    [[ $(sysctl -n net.netfilter.nf_conntrack_tcp_be_liberal) == 1 ]] &&
        pass "[$ENGINE] attach set nf_conntrack_tcp_be_liberal=1 (was $LIBERAL_BEFORE)" ||
        fail "liberal_$ENGINE" "nf_conntrack_tcp_be_liberal is not 1"

    for f in "${FAMILIES[@]}"; do family_checks "$f"; done

    "$XDPCTL" bypass del "$SRV_IP4" >/dev/null 2>&1
    "$XDPCTL" bypass del "$C2_IP4" >/dev/null 2>&1
    has_v6 && "$XDPCTL" bypass del "$SRV_IP6" >/dev/null 2>&1
    "$XDPCTL" detach "$UPLINK" >/dev/null 2>&1 || fail "detach_$ENGINE" "detach failed"
    [[ $(sysctl -n net.netfilter.nf_conntrack_tcp_be_liberal) == "$LIBERAL_BEFORE" ]] &&
        pass "[$ENGINE] detach put nf_conntrack_tcp_be_liberal back to $LIBERAL_BEFORE" ||
        fail "liberal_restore_$ENGINE" "nf_conntrack_tcp_be_liberal is $(sysctl -n net.netfilter.nf_conntrack_tcp_be_liberal)"
done

echo "INFO ct_docker: $SECONDS s in all"
verdict_exit ct_docker
