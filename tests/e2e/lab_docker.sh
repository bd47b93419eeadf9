#!/usr/bin/env bash
# shellcheck disable=SC2153  # C1_IP4 and friends come from eval "$(lab.sh env)"
# End-to-end test of scripts/lab.sh --docker: dockerd (started by the lab when no
# daemon answers, and stopped again), containers reachable from the client over the
# original path (client -> ${P}up -> root routing -> Docker's FORWARD/DOCKER-USER ->
# ${P}br -> container), idempotent up, status, env, down leaving no containers,
# network, iptables rule, /run/netns links or links, and down after a half-built up.
# Exit 0 pass, 1 fail, 77 skip. One PASS/FAIL/SKIP line per check.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB="$ROOT/scripts/lab.sh"
P="t$(( $$ % 100000 ))"      # unique per run, short enough for "${P}h" + 15-char names
LOG=""

# shellcheck source=../lib/verdict.sh
source "$ROOT/tests/lib/verdict.sh"

if [[ $(id -u) -ne 0 ]]; then skip lab_docker "needs root (dockerd, iptables, namespaces)"; exit 77; fi
for c in ip nsenter ping iptables; do
    command -v "$c" >/dev/null 2>&1 || { skip lab_docker "$c not installed"; exit 77; }
done
if ! command -v dockerd >/dev/null 2>&1 && ! command -v apt-get >/dev/null 2>&1; then
    skip lab_docker "dockerd not installed and no apt-get to install docker.io"; exit 77
fi
for d in /run/xdpctl-lab/*/; do
    [[ -d $d && $(cat "$d/mode" 2>/dev/null) == docker ]] || continue
    skip lab_docker "docker lab '$(basename "$d")' is up (one docker lab per machine): run 'scripts/lab.sh down --docker --prefix $(basename "$d")'"
    exit 77
done

docker_answers() { command -v docker >/dev/null 2>&1 && timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
DAEMON_BEFORE=0
docker_answers && DAEMON_BEFORE=1
FWD_BEFORE=$(sysctl -n net.ipv4.ip_forward)
# Docker's chains as they are before the test: an earlier dockerd may have left
# them (dockerd never removes them); the lab must leave them as it found them.
docker_chains() { for t in filter nat; do iptables -t "$t" -S 2>/dev/null | { grep -E '^-N DOCKER' || true; } | sed "s/^/$t /"; done | sort; }
CHAINS_BEFORE=$(docker_chains)

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    "$LAB" down --docker --prefix "$P" >/dev/null 2>&1 || true
    "$LAB" down --docker --prefix "${P}h" >/dev/null 2>&1 || true
    [[ -z $LOG ]] || rm -f "$LOG"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
LOG=$(mktemp /tmp/lab_docker.XXXXXX)

# What the lab with prefix $1 may leave behind: containers, network, iptables rules,
# /run/netns entries, links in the root namespace, state.
leftovers() {
    local p=$1 out="" re
    re="^$p(client|c[0-9]+|up|br)(@.*)?\$"
    out+=$(ip netns list 2>/dev/null | awk -v re="$re" '$1 ~ re { printf "netns %s ", $1 }')
    out+=$(ip -o link show 2>/dev/null | awk -F': ' -v re="$re" '$2 ~ re { printf "link %s ", $2 }')
    out+=$(iptables-save 2>/dev/null | grep -E -- "xdpctl-lab:$p\"?( |\$)|(-i|-o) $p(up|br) " | sed 's/^/iptables /' | tr '\n' ' ' || true)
    out+=$(ip6tables-save 2>/dev/null | grep -E -- "xdpctl-lab:$p\"?( |\$)" | sed 's/^/ip6tables /' | tr '\n' ' ' || true)
    if docker_answers; then
        out+=$(docker ps -a --filter "label=xdpctl-lab=$p" --format 'container {{.Names}} ' 2>/dev/null || true)
        out+=$(docker network ls --filter "name=^${p}net\$" --format 'network {{.Name}} ' 2>/dev/null || true)
    fi
    [[ -e /run/xdpctl-lab/$p ]] && out+="state /run/xdpctl-lab/$p "
    printf '%s' "$out"
}

# dockerd_check NAME PID: the daemon the lab started has exited and no daemon answers.
dockerd_check() {
    local name=$1 pid=$2
    [[ $DAEMON_BEFORE -eq 0 ]] || { skip "$name" "a Docker daemon was already running: the lab must leave it alone"; return; }
    if [[ -n $pid && -e /proc/$pid ]]; then fail "$name" "dockerd (pid $pid) still runs"
    elif docker_answers; then fail "$name" "a Docker daemon still answers"
    elif [[ -e /run/xdpctl-lab/dockerd.pid ]]; then fail "$name" "/run/xdpctl-lab/dockerd.pid left behind"
    else pass "$name"; fi
}

# ---- up --------------------------------------------------------------------
if timeout 1200 "$LAB" up --docker --prefix "$P" >"$LOG" 2>&1; then
    pass up
else
    rc=$?
    if ! command -v dockerd >/dev/null 2>&1; then
        skip lab_docker "dockerd is not installed and lab.sh could not install docker.io: $(tail -n 2 "$LOG" | tr '\n' ' ')"
        exit 77
    fi
    fail up "lab.sh up --docker exited $rc: $(tail -n 4 "$LOG" | tr '\n' ' ')"
    exit 1
fi
LAB_DOCKERD_PID=$(cat /run/xdpctl-lab/dockerd.pid 2>/dev/null || true)
if [[ $DAEMON_BEFORE -eq 0 ]]; then
    if [[ -n $LAB_DOCKERD_PID && $(cat "/proc/$LAB_DOCKERD_PID/comm" 2>/dev/null) == dockerd ]]; then
        pass dockerd_started
    else
        fail dockerd_started "no daemon answered before, but /run/xdpctl-lab/dockerd.pid names no dockerd"
    fi
else
    if [[ -z $LAB_DOCKERD_PID ]]; then pass dockerd_reused; else fail dockerd_reused "the lab started a second dockerd"; fi
fi

# ---- env -------------------------------------------------------------------
ENV1=$("$LAB" env --prefix "$P" 2>"$LOG") || { fail env "lab.sh env failed: $(cat "$LOG")"; exit 1; }
eval "$ENV1"
missing=""
for v in LAB_MODE LAB_PREFIX CLIENT_NS UPLINK BRIDGE CLIENT_IP4 CLIENT_IP6 UPLINK_IP4 UPLINK_IP6 GW_MAC \
         C1_NAME C1_NS C1_IP4 C1_VETH C1_MAC C2_NAME C2_NS C2_IP4 C2_VETH C2_MAC; do
    [[ -n ${!v:-} ]] || missing+=" $v"
done
if [[ -n $missing ]]; then fail env "empty or missing:$missing"
elif [[ $LAB_MODE != docker || -n $HOST_NS || $UPLINK != "${P}up" || $BRIDGE != "${P}br" ]]; then
    fail env "unexpected values: LAB_MODE=$LAB_MODE HOST_NS='$HOST_NS' UPLINK=$UPLINK BRIDGE=$BRIDGE"
else
    pass env
fi

mac=$(docker inspect -f "{{(index .NetworkSettings.Networks \"${P}net\").MacAddress}}" "$C1_NAME" 2>/dev/null || true)
if ip -o link show dev "$C1_VETH" 2>/dev/null | grep -q "master $BRIDGE" &&
   [[ $mac == "$C1_MAC" ]] &&
   ip -n "$C1_NS" -o link show dev eth0 2>/dev/null | grep -q "link/ether $C1_MAC" &&
   ip -o link show dev "$BRIDGE" 2>/dev/null | grep -q "link/ether $GW_MAC"; then
    pass env_names
else
    fail env_names "C1_VETH=$C1_VETH not a port of $BRIDGE, or C1_MAC=$C1_MAC (docker: $mac) / GW_MAC mismatch"
fi

# ---- the original path ------------------------------------------------------
RULE_PKTS() { iptables -vxnL DOCKER-USER 2>/dev/null | awk -v c="xdpctl-lab:$P" 'index($0, "/* " c " */") { print $1; exit }'; }
before=$(RULE_PKTS); before=${before:-0}
ping_check ping4_c1 "$CLIENT_NS" "$C1_IP4"
ping_check ping4_c2 "$CLIENT_NS" "$C2_IP4"
after=$(RULE_PKTS); after=${after:-0}
if (( after > before )); then pass docker_user_rule_used; else fail docker_user_rule_used "the DOCKER-USER rule counted no packets ($before -> $after)"; fi
if [[ -n ${LAB_NET6:-} && -n ${C1_IP6:-} ]]; then
    ping_check ping6_c1 "$CLIENT_NS" "$C1_IP6"
    ping_check ping6_c2 "$CLIENT_NS" "$C2_IP6"
else
    skip ping6_c1 "the docker network has no IPv6"
    skip ping6_c2 "the docker network has no IPv6"
fi

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

# ---- idempotent up, status ---------------------------------------------------
if timeout 600 "$LAB" up --docker --prefix "$P" >"$LOG" 2>&1; then pass up_again; else fail up_again "second up failed: $(tail -n 3 "$LOG" | tr '\n' ' ')"; fi
ENV2=$("$LAB" env --prefix "$P" 2>/dev/null || true)
if [[ $ENV2 == "$ENV1" ]]; then pass up_again_same_env; else fail up_again_same_env "env changed after the second up"; fi
n=$(iptables -S DOCKER-USER 2>/dev/null | grep -c "xdpctl-lab:$P" || true)
if [[ $n == 1 ]]; then pass up_again_one_rule; else fail up_again_one_rule "$n DOCKER-USER rules carry xdpctl-lab:$P"; fi
ping_check ping4_c2_after_up_again "$CLIENT_NS" "$C2_IP4"
if out=$("$LAB" status --prefix "$P" 2>&1) && [[ $out == *"lab '$P': up"* ]]; then
    pass status
else
    fail status "status did not report the lab up: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
fi

# ---- down ------------------------------------------------------------------
if timeout 300 "$LAB" down --prefix "$P" >"$LOG" 2>&1; then pass down; else fail down "down failed: $(tail -n 3 "$LOG" | tr '\n' ' ')"; fi
left=$(leftovers "$P")
if [[ -z $left ]]; then pass down_clean; else fail down_clean "left behind: $left"; fi
dockerd_check down_dockerd_stopped "$LAB_DOCKERD_PID"
if [[ $DAEMON_BEFORE -eq 0 ]]; then
    if [[ $(sysctl -n net.ipv4.ip_forward) == "$FWD_BEFORE" ]]; then pass down_sysctl_restored
    else fail down_sysctl_restored "net.ipv4.ip_forward is $(sysctl -n net.ipv4.ip_forward), was $FWD_BEFORE"; fi
    CHAINS_AFTER=$(docker_chains)
    if [[ $CHAINS_AFTER == "$CHAINS_BEFORE" ]]; then pass down_dockerd_chains
    else fail down_dockerd_chains "Docker's chains differ from before the test: before [$(tr '\n' ' ' <<<"$CHAINS_BEFORE")] after [$(tr '\n' ' ' <<<"$CHAINS_AFTER")]"; fi
fi
if timeout 300 "$LAB" down --docker --prefix "$P" >"$LOG" 2>&1; then pass down_again; else fail down_again "down on a removed lab failed"; fi

# ---- down after a half-built up ------------------------------------------------
# Killed while the daemon/network/containers are being made (image is cached by now).
( timeout -s KILL 2 "$LAB" up --docker --prefix "${P}h" >/dev/null 2>&1 || true ) 2>/dev/null
sleep 2     # let a docker command the killed script had started finish
HPID=$(cat /run/xdpctl-lab/dockerd.pid 2>/dev/null || true)
if timeout 300 "$LAB" down --docker --prefix "${P}h" >"$LOG" 2>&1 && [[ -z $(leftovers "${P}h") ]]; then
    pass down_half_built
else
    fail down_half_built "down after a killed up: $(leftovers "${P}h") $(tail -n 2 "$LOG" | tr '\n' ' ')"
fi
dockerd_check down_half_built_dockerd_stopped "$HPID"

verdict_exit lab_docker
