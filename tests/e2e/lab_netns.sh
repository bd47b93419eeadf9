#!/usr/bin/env bash
# shellcheck disable=SC2153  # C1_IP4 and friends come from eval "$(lab.sh env)"
# End-to-end test of scripts/lab.sh in netns mode: up, reachability over the
# original path (client -> host eth0 -> routing/netfilter -> br0 -> container),
# idempotent up, status, env, down, nothing left behind, down after a half-built up.
# Exit 0 pass, 1 fail, 77 skip. One PASS/FAIL/SKIP line per check.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB="$ROOT/scripts/lab.sh"
P="t$(( $$ % 100000 ))"      # unique per run, short enough for "${P}h" + 15-char names
LOG=""

# shellcheck source=../lib/verdict.sh
source "$ROOT/tests/lib/verdict.sh"

if [[ $(id -u) -ne 0 ]]; then skip lab_netns "needs root (network namespaces)"; exit 77; fi
for c in ip nsenter ping; do
    command -v "$c" >/dev/null 2>&1 || { skip lab_netns "$c not installed"; exit 77; }
done

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    "$LAB" down --prefix "$P" >/dev/null 2>&1 || true
    "$LAB" down --prefix "${P}h" >/dev/null 2>&1 || true
    [[ -z $LOG ]] || rm -f "$LOG"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
LOG=$(mktemp /tmp/lab_netns.XXXXXX)

# leftovers: namespaces, links (root namespace) and state of the lab with prefix $1.
leftovers() {
    local p=$1 out="" re
    re="^$p(client|host|c[0-9]+|vc[0-9]+|up|br)(@.*)?\$"
    out+=$(ip netns list 2>/dev/null | awk -v re="$re" '$1 ~ re { printf "netns %s ", $1 }')
    out+=$(ip -o link show 2>/dev/null | awk -F': ' -v re="$re" '$2 ~ re { printf "link %s ", $2 }')
    [[ -e /run/xdpctl-lab/$p ]] && out+="state /run/xdpctl-lab/$p "
    printf '%s' "$out"
}

# ---- up --------------------------------------------------------------------
if "$LAB" up --prefix "$P" >"$LOG" 2>&1; then
    pass up
else
    fail up "lab.sh up exited $?: $(tail -n 3 "$LOG" | tr '\n' ' ')"
    exit 1
fi

# ---- env -------------------------------------------------------------------
ENV1=$("$LAB" env --prefix "$P" 2>"$LOG") || { fail env "lab.sh env failed: $(cat "$LOG")"; exit 1; }
eval "$ENV1"
missing=""
for v in LAB_MODE LAB_PREFIX CLIENT_NS HOST_NS UPLINK BRIDGE CLIENT_IP4 CLIENT_IP6 UPLINK_IP4 UPLINK_IP6 GW_MAC \
         C1_NAME C1_NS C1_IP4 C1_IP6 C1_VETH C1_MAC C2_NAME C2_NS C2_IP4 C2_IP6 C2_VETH C2_MAC; do
    [[ -n ${!v:-} ]] || missing+=" $v"
done
if [[ -n $missing ]]; then fail env "empty or missing:$missing"
elif [[ $LAB_MODE != netns || $LAB_PREFIX != "$P" || $HOST_NS != "${P}host" || $UPLINK != eth0 ]]; then
    fail env "unexpected values: LAB_MODE=$LAB_MODE LAB_PREFIX=$LAB_PREFIX HOST_NS=$HOST_NS UPLINK=$UPLINK"
else
    pass env
fi

# The names in env must name real things.
if ip -n "$HOST_NS" -o link show dev "$C1_VETH" 2>/dev/null | grep -q "master $BRIDGE" &&
   ip -n "$C1_NS" -o link show dev eth0 2>/dev/null | grep -q "link/ether $C1_MAC" &&
   ip -n "$HOST_NS" -o link show dev "$BRIDGE" 2>/dev/null | grep -q "link/ether $GW_MAC"; then
    pass env_names
else
    fail env_names "C1_VETH=$C1_VETH not a port of $BRIDGE in $HOST_NS, or C1_MAC/GW_MAC mismatch"
fi

# ---- the original path ------------------------------------------------------
ping_check ping4_c1 "$CLIENT_NS" "$C1_IP4"
ping_check ping4_c2 "$CLIENT_NS" "$C2_IP4"
ping_check ping6_c1 "$CLIENT_NS" "$C1_IP6"
ping_check ping6_c2 "$CLIENT_NS" "$C2_IP6"

WGET=(wget); command -v wget >/dev/null 2>&1 || WGET=(busybox wget)
if out=$(nsenter --net="/run/netns/$CLIENT_NS" timeout 10 "${WGET[@]}" -q -O - "http://$C1_IP4:$LAB_HTTP_PORT/" 2>&1) &&
   [[ $out == "$C1_NAME" ]]; then
    pass tcp_c1
else
    fail tcp_c1 "http://$C1_IP4/ from the client: '$out'"
fi

if nsenter --net="/run/netns/$CLIENT_NS" ethtool -k eth0 2>/dev/null | grep -q '^tx-checksumming: off'; then
    pass client_tx_csum_off
else
    fail client_tx_csum_off "tx checksum offload is still on on $CLIENT_NS/eth0"
fi

if command -v iptables >/dev/null 2>&1; then
    rules=$(nsenter --net="/run/netns/$HOST_NS" iptables -S 2>/dev/null || true)
    nat=$(nsenter --net="/run/netns/$HOST_NS" iptables -t nat -S 2>/dev/null || true)
    if [[ $rules == *"-P FORWARD DROP"* && $rules == *"xdpctl-lab:$P"* && $nat == *"MASQUERADE"* ]]; then
        pass netfilter
    else
        fail netfilter "host namespace lacks FORWARD DROP / the admit rule / MASQUERADE"
    fi
else
    skip netfilter "iptables not installed"
fi

# ---- idempotent up, status ---------------------------------------------------
if "$LAB" up --prefix "$P" >"$LOG" 2>&1; then pass up_again; else fail up_again "second up failed: $(tail -n 3 "$LOG" | tr '\n' ' ')"; fi
ENV2=$("$LAB" env --prefix "$P" 2>/dev/null || true)
if [[ $ENV2 == "$ENV1" ]]; then pass up_again_same_env; else fail up_again_same_env "env changed after the second up"; fi
ping_check ping4_c1_after_up_again "$CLIENT_NS" "$C1_IP4"
if out=$("$LAB" status --prefix "$P" 2>&1) && [[ $out == *"lab '$P': up"* ]]; then
    pass status
else
    fail status "status did not report the lab up: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
fi

# ---- down ------------------------------------------------------------------
if "$LAB" down --prefix "$P" >"$LOG" 2>&1; then pass down; else fail down "down failed: $(tail -n 3 "$LOG" | tr '\n' ' ')"; fi
left=$(leftovers "$P")
if [[ -z $left ]]; then pass down_clean; else fail down_clean "left behind: $left"; fi
if "$LAB" down --prefix "$P" >"$LOG" 2>&1; then pass down_again; else fail down_again "down on a removed lab failed"; fi
if "$LAB" status --prefix "$P" >/dev/null 2>&1; then fail status_after_down "status says up after down"; else pass status_after_down; fi

# ---- down after a half-built up ------------------------------------------------
( timeout -s KILL 0.15 "$LAB" up --prefix "${P}h" --containers 3 >/dev/null 2>&1 || true ) 2>/dev/null
sleep 0.5   # let a command the killed script had started finish
if "$LAB" down --prefix "${P}h" >"$LOG" 2>&1 && [[ -z $(leftovers "${P}h") ]]; then
    pass down_half_built
else
    fail down_half_built "down after a killed up: $(leftovers "${P}h") $(tail -n 2 "$LOG" | tr '\n' ' ')"
fi

verdict_exit lab_netns
