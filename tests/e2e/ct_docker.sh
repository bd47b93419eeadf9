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
# A dockerd that runs already and that the test did not start: IPv6 is skipped.
# The lab's own DOCKER-USER ACCEPT rule is removed for the test: Docker's policy
# applies as on a real host. Exit 0 pass, 1 fail, 77 skip. Run under
# flock /work/coord/docker.lock (meson's e2e suite, scripts/test.sh).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB="$ROOT/scripts/lab.sh"
BUILD=${XDPCTL_BUILD_DIR:-$ROOT/build}
XDPCTL="$BUILD/ctl/xdpctl"
P="k$(( $$ % 100000 ))"
export XDPCTL_PIN_DIR="/sys/fs/bpf/xdpctl-ct-$P"
FAILS=0
TMP=""
SYSCTL_SAVE=()

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; FAILS=$((FAILS + 1)); }
skip() { echo "SKIP $1: $2"; }

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
# As on a real host: no rule of the lab's admits the client to the containers.
for (( i = 0; i < 5; i++ )); do
    iptables -D DOCKER-USER -i "$UPLINK" -o "$BRIDGE" -m comment --comment "xdpctl-lab:$P" -j ACCEPT 2>/dev/null || break
done
for (( i = 0; i < 5; i++ )); do
    ip6tables -D DOCKER-USER -i "$UPLINK" -o "$BRIDGE" -m comment --comment "xdpctl-lab:$P" -j ACCEPT 2>/dev/null || break
done
# IPv6 only where this test's own dockerd publishes IPv6 ports by ip6tables DNAT.
V6=0
MASQ6=0
SRV_IP6=2001:db8:19::20
if [[ ${LAB_DOCKERD_OWNED:-0} != 1 ]]; then
    skip ct_docker_ipv6 "a dockerd runs that this test did not start (its flags are not ours: IPv6 ports may go through docker-proxy); IPv6 not tested"
elif [[ ${LAB_DOCKER_IP6TABLES:-0} != 1 || -z ${LAB_NET6:-} ]]; then
    skip ct_docker_ipv6 "dockerd without --ip6tables or the network without IPv6 ($(grep -i ipv6 "$TMP/lab.log" | tail -n 1))"
elif ! ip6tables -t nat -S DOCKER >/dev/null 2>&1; then
    skip ct_docker_ipv6 "dockerd --ip6tables made no ip6tables nat chain DOCKER; IPv6 not tested"
else
    V6=1
fi

# The container with published ports; labelled, so 'lab.sh down' removes it too.
SRV=${P}s
SRV_IP4=198.19.0.20
V6RUN=()
(( V6 )) && V6RUN=(--ip6 "$SRV_IP6")
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

# fam 4|6: the addresses and socat listen addresses of one family
fam() {
    if [[ $1 == 6 ]]; then
        F_HOST=$UPLINK_IP6 F_SRV=$SRV_IP6 F_CLIENT=$CLIENT_IP6 F_CT=ipv6
        F_TCPL=TCP6-LISTEN F_UDPL=UDP6-LISTEN
    else
        F_HOST=$UPLINK_IP4 F_SRV=$SRV_IP4 F_CLIENT=$CLIENT_IP4 F_CT=ipv4
        F_TCPL=TCP4-LISTEN F_UDPL=UDP4-LISTEN
    fi
}
fam 4

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

ifpk() { # NS DEV rx|tx: packets
    nsenter --net="$1" cat "/sys/class/net/$2/statistics/$3_packets" 2>/dev/null ||
        nsenter --net="$1" ip -s -o link show dev "$2" | awk -v w="$3" '{ for (i=1;i<=NF;i++) if ($i=="RX:"||$i=="TX:") {} } END {}'
}
client_tx() { in_client awk '$1=="eth0:" {print $11}' /proc/net/dev; }

head -c $((8 << 20)) /dev/urandom >"$TMP/data"
WANT=$(sha256sum <"$TMP/data" | cut -d' ' -f1)

# ---- without xdpctl: what Docker's policy says ----
# (Docker 20.10 admits the published port at the container's own address too,
# where nothing listens yet: refused; any other port there: FORWARD policy DROP.)
B_UNPUB=$(probe_tcp "$UPLINK_IP4" 9999)
B_DIRECT=$(probe_tcp "$SRV_IP4" 8080)
B_DIRECT_UNPUB=$(probe_tcp "$SRV_IP4" 9000)
[[ $B_UNPUB == refused ]] && pass "without xdpctl: an unpublished port of the host is refused" ||
    fail baseline_unpublished "expected refused, got $B_UNPUB"
[[ $B_DIRECT_UNPUB == timeout ]] && pass "without xdpctl: an unpublished port at the container's address is dropped by Docker's FORWARD policy" ||
    fail baseline_direct "expected timeout, got $B_DIRECT_UNPUB"
if (( V6 )); then
    B6_UNPUB=$(probe_tcp "$UPLINK_IP6" 9999)
    B6_DIRECT_UNPUB=$(probe_tcp "$SRV_IP6" 9000)
    [[ $B6_UNPUB == refused ]] && pass "IPv6 without xdpctl: an unpublished port of the host is refused" ||
        fail baseline6_unpublished "expected refused, got $B6_UNPUB"
    [[ $B6_DIRECT_UNPUB == timeout ]] && pass "IPv6 without xdpctl: an unpublished port at the container's address is dropped by Docker's ip6tables FORWARD policy" ||
        fail baseline6_direct "expected timeout, got $B6_DIRECT_UNPUB"
    if ip6tables -t nat -S POSTROUTING | grep -q -- "-s $LAB_NET6 .*MASQUERADE"; then MASQ6=1; fi
fi

# Lowered UDP timeouts (restored on exit): read by attach for the keep-alive.
sysctl_save_set net.netfilter.nf_conntrack_udp_timeout 3
sysctl_save_set net.netfilter.nf_conntrack_udp_timeout_stream 6
LIBERAL_BEFORE=$(sysctl -n net.netfilter.nf_conntrack_tcp_be_liberal)

tcp_transfer() { # NAME ENGINE: client -> published port, 8 MiB
    local name=$1 e=$2 got in0 in1 out0 out1 new0 new1 cl0 cl1 tx0 tx1 data ct port=8080
    in_srv sh -c "socat -u $F_TCPL:$port,reuseaddr OPEN:$TMP/recv,creat,trunc" &
    local spid=$!
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

udp_echo() { # NAME COUNT INTERVAL PORT: echoes of COUNT datagrams; sets UDP_GOT
    local name=$1 n=$2 iv=$3 port=$4 i
    in_srv sh -c "timeout 60 socat $F_UDPL:$port,reuseaddr PIPE" &
    local spid=$!
    sleep 0.3
    # shellcheck disable=SC2016
    UDP_GOT=$(in_client timeout 60 sh -c '
        n=$1; iv=$2; to=$3
        for i in $(seq 1 "$n"); do echo "datagram $i"; sleep "$iv"; done |
            socat -T 3 - "$to,sourceport=40123" | grep -c "^datagram "' _ "$n" "$iv" "$(udp_to "$F_HOST" "$port")")
    kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
    return 0
}

# The IPv6 checks of one engine (published ports by Docker's ip6tables DNAT).
ipv6_checks() {
    local r nd0 nd1 ndr0 ndr1 in0 in1 new0 new1 out0 out1 rrx0 rrx1 rnew0 rnew1 lpid got peer t0=$SECONDS
    fam 6
    nd0=$(stat_of "$HOOK" neighbour_discovery); ndr0=$(stat_of tc_return neighbour_discovery)
    # Neighbour discovery again on both sides (caches flushed): the stack's, counted.
    in_client ip -6 neigh flush dev eth0 >/dev/null 2>&1
    in_srv ip -6 neigh flush dev eth0 >/dev/null 2>&1
    ip -6 neigh flush dev "$UPLINK" >/dev/null 2>&1

    r=$(probe_tcp "$UPLINK_IP6" 9999)
    [[ $r == "$B6_UNPUB" ]] && pass "[$ENGINE] IPv6: an unpublished port: $r, as without xdpctl" ||
        fail "unpublished6_$ENGINE" "got $r, without xdpctl $B6_UNPUB"
    r=$(probe_tcp "$SRV_IP6" 9000)
    [[ $r == "$B6_DIRECT_UNPUB" ]] && pass "[$ENGINE] IPv6: an unpublished port at the container's address: $r, as without xdpctl" ||
        fail "direct6_$ENGINE" "got $r, without xdpctl $B6_DIRECT_UNPUB"

    tcp_transfer "[$ENGINE] IPv6 TCP to published port [$UPLINK_IP6]:8080" "$ENGINE"

    new0=$(stat_of "$HOOK" ct_new); in0=$(rule_of "$SRV_IP6" in_packets)
    udp_echo "[$ENGINE] IPv6 UDP" 100 0.01 8081
    in1=$(rule_of "$SRV_IP6" in_packets); new1=$(stat_of "$HOOK" ct_new)
    if [[ $UDP_GOT == 100 ]] && (( in1 - in0 >= 95 )); then
        pass "[$ENGINE] IPv6 UDP to published port 8081: 100 of 100 echoed, $(( in1 - in0 )) on the fast path, ct_new +$(( new1 - new0 ))"
    else
        fail "udp6_$ENGINE" "echoed $UDP_GOT of 100, fast path +$(( in1 - in0 )), ct_new +$(( new1 - new0 ))"
    fi

    if (( MASQ6 )); then
        out0=$(rule_of "$SRV_IP6" out_packets); rrx0=$(stat_of tc_return rx)
        rnew0=$(( $(stat_of tc_return ct_new) + $(stat_of tc_return ct_closing) ))
        in_client sh -c "socat -u TCP6-LISTEN:7000,reuseaddr SYSTEM:'echo \$SOCAT_PEERADDR >$TMP/peer; cat >$TMP/recv2'" &
        lpid=$!
        sleep 0.3
        in_srv socat -u "FILE:$TMP/data" "TCP6:[$CLIENT_IP6]:7000,connect-timeout=5" 2>"$TMP/err2" ||
            fail "masq6_$ENGINE" "container's transfer failed: $(cat "$TMP/err2")"
        wait "$lpid"
        out1=$(rule_of "$SRV_IP6" out_packets); rrx1=$(stat_of tc_return rx)
        rnew1=$(( $(stat_of tc_return ct_new) + $(stat_of tc_return ct_closing) ))
        got=$(sha256sum <"$TMP/recv2" | cut -d' ' -f1)
        # (socat writes the address uncompressed: compare it as an address)
        peer=$(python3 -c 'import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1].strip("[]")))' "$(cat "$TMP/peer" 2>/dev/null)" 2>/dev/null)
        if [[ $peer != "$UPLINK_IP6" ]]; then
            fail "masq6_$ENGINE" "the client saw $peer, expected the host's $UPLINK_IP6"
        elif [[ $got != "$WANT" ]]; then
            fail "masq6_$ENGINE" "sha256 differs"
        elif (( out1 - out0 < 100 || out1 - out0 < rrx1 - rrx0 - (rnew1 - rnew0) - 6 )); then
            fail "masq6_$ENGINE" "the container's veth saw $(( rrx1 - rrx0 )) packets, $(( out1 - out0 )) on the fast path, $(( rnew1 - rnew0 )) SYN/FIN to the stack"
        else
            pass "[$ENGINE] IPv6 container-initiated 8 MiB: MASQUERADEd to $peer, sha256 equal; of $(( rrx1 - rrx0 )) packets from the container $(( out1 - out0 )) on the fast path, $(( rnew1 - rnew0 )) (SYN, FIN) to the stack"
        fi
    else
        skip "masq6_$ENGINE" "Docker made no ip6tables MASQUERADE rule for $LAB_NET6"
    fi

    "$XDPCTL" -j flows >"$TMP/flows.json" 2>&1
    if python3 -c '
import json,sys
f=json.load(open(sys.argv[1]))
ok=[x for x in f if x["dst"]==sys.argv[2] and x["dport"]==8081 and x["nat_dst"]==sys.argv[3] and x["nat"]]
# (every flow of the table names its NAT: a per-CPU slot of a flow is filled on each CPU)
bad=[x for x in f if x["nat"] and (x["nat_src"]=="::" or x["nat_dst"]=="::" or x["nat_dst"]=="0.0.0.0")]
masq=[x for x in f if x["hook"]=="tc_return" and x["dport"]==7000 and x["nat_src"]==sys.argv[2]]
sys.exit(0 if ok and not bad and (masq or sys.argv[4]=="0") else 1)' "$TMP/flows.json" "$UPLINK_IP6" "$SRV_IP6" "$MASQ6"; then
        pass "[$ENGINE] xdpctl flows shows the IPv6 published-port flow with its DNAT to $SRV_IP6$( (( MASQ6 )) && echo " and the container's flow MASQUERADEd to $UPLINK_IP6"), every flow with its NAT"
    else
        fail "flows6_$ENGINE" "$(head -c 600 "$TMP/flows.json")"
    fi

    nd1=$(stat_of "$HOOK" neighbour_discovery); ndr1=$(stat_of tc_return neighbour_discovery)
    if (( nd1 > nd0 && ndr1 > ndr0 )); then
        pass "[$ENGINE] ICMPv6 neighbour discovery left to the stack: $HOOK +$(( nd1 - nd0 )), tc_return +$(( ndr1 - ndr0 )) (neighbour_discovery)"
    else
        fail "nd6_$ENGINE" "neighbour_discovery $HOOK +$(( nd1 - nd0 )), tc_return +$(( ndr1 - ndr0 )) after flushing the neighbour caches"
    fi
    echo "INFO [$ENGINE] the IPv6 checks took $(( SECONDS - t0 )) s"
    fam 4
}

for ENGINE in tc xdp; do
    if [[ $ENGINE == xdp ]]; then HOOK=xdp; else HOOK=tc_ingress; fi
    out=$("$XDPCTL" attach "$UPLINK" --engine "$ENGINE" 2>&1)
    if [[ $? -ne 0 || $out != *"fast path conntrack"* ]]; then
        fail "attach_$ENGINE" "$out"
        continue
    fi
    pass "[$ENGINE] attach: $(head -n 1 <<<"$out")"
    if [[ $ENGINE == xdp ]]; then
        # An XDP redirect into a veth needs XDP on the peer: the pass program, by the container table.
        :
    fi
    "$XDPCTL" bypass add "$SRV_IP4" --container "$SRV" >/dev/null 2>&1 ||
        fail "container_add_$ENGINE" "$("$XDPCTL" bypass add "$SRV_IP4" --container "$SRV" 2>&1)"
    "$XDPCTL" bypass add "$C2_IP4" --container "$C2_NAME" >/dev/null 2>&1 ||
        fail "container_add_$ENGINE" "c2"
    if (( V6 )); then
        "$XDPCTL" bypass add "$SRV_IP6" --container "$SRV" >/dev/null 2>&1 ||
            fail "container_add6_$ENGINE" "$("$XDPCTL" bypass add "$SRV_IP6" --container "$SRV" 2>&1)"
    fi
    [[ $(sysctl -n net.netfilter.nf_conntrack_tcp_be_liberal) == 1 ]] &&
        pass "[$ENGINE] attach set nf_conntrack_tcp_be_liberal=1 (was $LIBERAL_BEFORE)" ||
        fail "liberal_$ENGINE" "nf_conntrack_tcp_be_liberal is not 1"

    # Docker's policy, attached: the same answers as without xdpctl.
    r=$(probe_tcp "$UPLINK_IP4" 9999)
    [[ $r == "$B_UNPUB" ]] && pass "[$ENGINE] an unpublished port: $r, as without xdpctl" ||
        fail "unpublished_$ENGINE" "got $r, without xdpctl $B_UNPUB"
    r=$(probe_tcp "$SRV_IP4" 9000)
    [[ $r == "$B_DIRECT_UNPUB" ]] && pass "[$ENGINE] an unpublished port at the container's address: $r, as without xdpctl (its container-table entry opens nothing)" ||
        fail "direct_$ENGINE" "got $r, without xdpctl $B_DIRECT_UNPUB"
    r=$(probe_tcp "$SRV_IP4" 8080)
    [[ $r == "$B_DIRECT" ]] && pass "[$ENGINE] the published port at the container's address: $r, as without xdpctl" ||
        fail "direct_pub_$ENGINE" "got $r, without xdpctl $B_DIRECT"

    tcp_transfer "[$ENGINE] TCP to published port 8080" "$ENGINE"

    new0=$(stat_of "$HOOK" ct_new); in0=$(rule_of "$SRV_IP4" in_packets)
    udp_echo "[$ENGINE] UDP" 100 0.01 8081
    in1=$(rule_of "$SRV_IP4" in_packets); new1=$(stat_of "$HOOK" ct_new)
    if [[ $UDP_GOT == 100 ]] && (( in1 - in0 >= 95 )); then
        pass "[$ENGINE] UDP to published port 8081: 100 of 100 echoed, $(( in1 - in0 )) on the fast path, ct_new +$(( new1 - new0 ))"
    else
        fail "udp_$ENGINE" "echoed $UDP_GOT of 100, fast path +$(( in1 - in0 )), ct_new +$(( new1 - new0 ))"
    fi

    # A DOCKER-USER DROP for the client: new flows blocked, attached.
    iptables -I DOCKER-USER -s "$CLIENT_IP4" -m comment --comment "xdpctl-ct:$P" -j DROP
    r=$(probe_tcp "$UPLINK_IP4" 8080)
    iptables -D DOCKER-USER -s "$CLIENT_IP4" -m comment --comment "xdpctl-ct:$P" -j DROP
    [[ $r == timeout ]] && pass "[$ENGINE] DOCKER-USER DROP for the client blocks a new flow to the published port" ||
        fail "docker_user_$ENGINE" "expected timeout, got $r"

    # The container opens a connection: MASQUERADE, then the fast path.
    out0=$(rule_of "$SRV_IP4" out_packets); rrx0=$(stat_of tc_return rx)
    rnew0=$(( $(stat_of tc_return ct_new) + $(stat_of tc_return ct_closing) ))
    in_client sh -c "socat -u TCP-LISTEN:7000,reuseaddr SYSTEM:'echo \$SOCAT_PEERADDR >$TMP/peer; cat >$TMP/recv2'" &
    lpid=$!
    sleep 0.3
    (for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.05; ip neigh flush dev "$UPLINK" 2>/dev/null; done) &
    fpid=$!
    in_srv socat -u "FILE:$TMP/data" "TCP:$CLIENT_IP4:7000,connect-timeout=5" 2>"$TMP/err2" ||
        fail "masq_$ENGINE" "container's transfer failed: $(cat "$TMP/err2")"
    wait "$lpid"; wait "$fpid"
    out1=$(rule_of "$SRV_IP4" out_packets); rrx1=$(stat_of tc_return rx)
    rnew1=$(( $(stat_of tc_return ct_new) + $(stat_of tc_return ct_closing) ))
    got=$(sha256sum <"$TMP/recv2" | cut -d' ' -f1)
    peer=$(cat "$TMP/peer" 2>/dev/null)
    if [[ $peer != "$UPLINK_IP4" ]]; then
        fail "masq_$ENGINE" "the client saw $peer, expected the host's $UPLINK_IP4"
    elif [[ $got != "$WANT" ]]; then
        fail "masq_$ENGINE" "sha256 differs"
    elif (( out1 - out0 < 100 || out1 - out0 < rrx1 - rrx0 - (rnew1 - rnew0) - 4 )); then
        fail "masq_$ENGINE" "the container's veth saw $(( rrx1 - rrx0 )) packets, $(( out1 - out0 )) on the fast path, $(( rnew1 - rnew0 )) SYN/FIN to the stack"
    else
        pass "[$ENGINE] container-initiated 8 MiB: MASQUERADEd to $peer, sha256 equal; of $(( rrx1 - rrx0 )) packets (GSO) from the container $(( out1 - out0 )) on the fast path, $(( rnew1 - rnew0 )) (SYN, FIN) to the stack; 'ip neigh flush' on $UPLINK 10 times during it"
    fi

    # Spoofing: c2 sends with the published container's source address.
    pol0=$(stat_of tc_return ct_policy); sout0=$(rule_of "$SRV_IP4" out_packets)
    nsenter --net="/run/netns/$C2_NS" python3 - "$SRV_IP4" "$CLIENT_IP4" "$GW_MAC" "$C2_MAC" <<'EOF'
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
    pol1=$(stat_of tc_return ct_policy); sout1=$(rule_of "$SRV_IP4" out_packets)
    if (( pol1 - pol0 >= 20 && sout1 == sout0 )); then
        pass "[$ENGINE] c2 sending with $SRV's address: 20 of 20 left to the stack as ct_policy, none on $SRV's fast path"
    else
        fail "spoof_$ENGINE" "ct_policy +$(( pol1 - pol0 )), $SRV out_packets +$(( sout1 - sout0 ))"
    fi

    "$XDPCTL" -j flows >"$TMP/flows.json" 2>&1
    if python3 -c '
import json,sys
f=json.load(open(sys.argv[1]))
ok=[x for x in f if x["dst"]==sys.argv[2] and x["dport"]==8080 and x["nat_dst"]==sys.argv[3] and x["nat"]]
sys.exit(0 if ok else 1)' "$TMP/flows.json" "$UPLINK_IP4" "$SRV_IP4"; then
        pass "[$ENGINE] xdpctl flows shows the published-port flow with its DNAT to $SRV_IP4"
    else
        fail "flows_$ENGINE" "$(head -c 600 "$TMP/flows.json")"
    fi

    if [[ $ENGINE == tc ]]; then
        # A UDP flow longer than conntrack's UDP timeouts (3 s / 6 s here): kept alive.
        new0=$(stat_of "$HOOK" ct_new); in0=$(rule_of "$SRV_IP4" in_packets)
        udp_echo "[$ENGINE] long UDP" 120 0.1 8082
        in1=$(rule_of "$SRV_IP4" in_packets); new1=$(stat_of "$HOOK" ct_new)
        if [[ $UDP_GOT == 120 ]] && (( new1 - new0 <= 2 && in1 - in0 >= 110 )); then
            pass "[$ENGINE] a 12 s UDP flow over 6 s of conntrack timeout: 120 of 120 echoed, $(( in1 - in0 )) on the fast path, ct_new +$(( new1 - new0 )) (the entry was kept alive)"
        else
            fail "udp_long_$ENGINE" "echoed $UDP_GOT of 120, fast path +$(( in1 - in0 )), ct_new +$(( new1 - new0 ))"
        fi
    fi

    (( V6 )) && ipv6_checks
    "$XDPCTL" bypass del "$SRV_IP4" >/dev/null 2>&1
    "$XDPCTL" bypass del "$C2_IP4" >/dev/null 2>&1
    (( V6 )) && "$XDPCTL" bypass del "$SRV_IP6" >/dev/null 2>&1
    "$XDPCTL" detach "$UPLINK" >/dev/null 2>&1 || fail "detach_$ENGINE" "detach failed"
    [[ $(sysctl -n net.netfilter.nf_conntrack_tcp_be_liberal) == "$LIBERAL_BEFORE" ]] &&
        pass "[$ENGINE] detach put nf_conntrack_tcp_be_liberal back to $LIBERAL_BEFORE" ||
        fail "liberal_restore_$ENGINE" "nf_conntrack_tcp_be_liberal is $(sysctl -n net.netfilter.nf_conntrack_tcp_be_liberal)"
done

echo "INFO ct_docker: $SECONDS s in all"
if (( FAILS )); then echo "ct_docker: $FAILS check(s) failed"; exit 1; fi
echo "ct_docker: all checks passed"
exit 0
