# shellcheck shell=bash
# netns mode of scripts/lab.sh: client, host and container namespaces, a Linux
# bridge br0 in the host namespace in the role of docker0.

# Docker 20.10's netfilter for one bridge network, with FORWARD policy DROP and the
# lab's admit rule for the client in DOCKER-USER. Loaded with iptables-restore, so
# `up` converges whatever was there before.
netns_iptables_rules() {
    local br=br0 up=eth0
    if [[ $LAB_NETFILTER -eq 0 ]]; then
        cat <<EOF
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
EOF
        return
    fi
    cat <<EOF
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s $LAB_NET4 ! -o $br -j MASQUERADE
-A DOCKER -i $br -j RETURN
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o $br -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o $br -j DOCKER
-A FORWARD -i $br ! -o $br -j ACCEPT
-A FORWARD -i $br -o $br -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i $br ! -o $br -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o $br -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -i $up -o $br -m comment --comment xdpctl-lab:$LAB_PREFIX -j ACCEPT
-A DOCKER-USER -j RETURN
COMMIT
EOF
}

# One busybox httpd per container namespace (TCP service on port 80, dual stack).
netns_httpd_running() {
    local pid
    for pid in $(ns_pids "$1"); do
        grep -qa httpd "/proc/$pid/cmdline" 2>/dev/null && return 0
    done
    return 1
}

netns_up() {
    local hns cns i ns veth
    hns="${LAB_PREFIX}host"
    need ip iproute2
    need nsenter util-linux
    need ethtool ethtool
    [[ $LAB_NETFILTER -eq 0 ]] || need iptables-restore iptables
    need_static_busybox

    state_set mode netns
    state_set containers "$LAB_CONTAINERS"
    state_set netfilter "$LAB_NETFILTER"

    ns_create "$hns"
    # Bridge in the role of docker0.
    if ! link_exists "$hns" br0; then
        ip -n "$hns" link add br0 type bridge forward_delay 0 || die "cannot create bridge br0 in $hns"
    fi
    ip -n "$hns" link set dev br0 address 02:42:c6:13:00:01
    ip -n "$hns" addr replace "$LAB_GW4/24" dev br0
    ip -n "$hns" -6 addr replace "$LAB_GW6/64" dev br0 nodad
    ip -n "$hns" link set dev br0 up

    # Uplink: host eth0 <-> client eth0.
    client_up "$hns" eth0 02:42:c6:12:00:01

    for (( i = 1; i <= LAB_CONTAINERS; i++ )); do
        ns="${LAB_PREFIX}c$i"; veth="${LAB_PREFIX}vc$i"
        ns_create "$ns"
        if link_exists "$hns" "$veth" && ! link_exists "$ns" eth0; then
            ip -n "$hns" link delete "$veth" 2>/dev/null || true
            wait_until 50 0.1 link_gone "$hns" "$veth" || die "cannot delete the stale link $veth in $hns"
        fi
        if ! link_exists "$hns" "$veth"; then
            link_exists "$ns" eth0 && ip -n "$ns" link delete eth0
            ip -n "$hns" link add "$veth" type veth peer name eth0 netns "$ns" ||
                die "cannot create veth $veth <-> $ns/eth0"
        fi
        ip -n "$hns" link set dev "$veth" master br0
        ip -n "$hns" link set dev "$veth" up
        ip -n "$ns" link set dev eth0 address "$(c_mac "$i")"
        ip -n "$ns" addr replace "$(c_ip4 "$i")/24" dev eth0
        ip -n "$ns" -6 addr replace "$(c_ip6 "$i")/64" dev eth0 nodad
        ip -n "$ns" link set dev eth0 up
        ip -n "$ns" route replace default via "$LAB_GW4" dev eth0
        ip -n "$ns" -6 route replace default via "$LAB_GW6" dev eth0
    done
    # Containers left over from an earlier `up --containers` with a larger N.
    for ns in $(ns_with_prefix); do
        i=${ns#"$LAB_PREFIX"c}
        [[ $ns == "$LAB_PREFIX"c* && $i =~ ^[0-9]+$ ]] || continue
        (( i > LAB_CONTAINERS )) || continue
        ns_delete "$ns"
        ip -n "$hns" link delete "${LAB_PREFIX}vc$i" 2>/dev/null || true
    done

    sysctl_set "$hns" net.ipv4.ip_forward 1
    sysctl_set "$hns" net.ipv6.conf.all.forwarding 1

    if command -v iptables-restore >/dev/null 2>&1; then
        netns_iptables_rules | in_ns "$hns" iptables-restore ||
            die "iptables-restore failed in $hns (is the kernel missing nf_tables/conntrack support?); retry with --no-netfilter"
    fi

    # A small TCP service in each container (the checksum trap shows only with TCP).
    for (( i = 1; i <= LAB_CONTAINERS; i++ )); do
        ns="${LAB_PREFIX}c$i"
        netns_httpd_running "$ns" && continue
        mkdir -p "$(lab_state_dir)/www/c$i"
        printf '%s\n' "$ns" >"$(lab_state_dir)/www/c$i/index.html"
        in_ns "$ns" "$STATIC_BUSYBOX" httpd -p "$LAB_HTTP_PORT" -h "$(lab_state_dir)/www/c$i" ||
            warn "busybox httpd did not start in $ns"
    done
    log "netns lab '$LAB_PREFIX' is up ($LAB_CONTAINERS containers)"
}

netns_down() {
    local ns
    DOWN_ERRORS=0
    # Every veth of the lab lives in a lab namespace and goes with it.
    for ns in $(ns_with_prefix); do
        ns_delete "$ns" || down_err "cannot delete namespace $ns"
    done
    if (( DOWN_ERRORS > 0 )); then
        die "down left $DOWN_ERRORS namespace(s) behind (see above): run 'scripts/lab.sh down --prefix $LAB_PREFIX' again"
    fi
    rm -rf "$(lab_state_dir)"
}

netns_status() {
    local hns="${LAB_PREFIX}host" cns="${LAB_PREFIX}client" i ns n
    n=$(state_get containers 2)
    echo "lab '$LAB_PREFIX' (netns mode, $n containers)"
    if ns_ok "$cns"; then status_line ok "namespace $cns"; else status_line missing "namespace $cns"; fi
    if ns_ok "$hns"; then status_line ok "namespace $hns"; else status_line missing "namespace $hns"; fi
    if link_exists "$hns" eth0 && link_exists "$cns" eth0; then
        status_line ok "uplink $hns/eth0 <-> $cns/eth0"
    else
        status_line missing "uplink $hns/eth0 <-> $cns/eth0"
    fi
    if link_exists "$hns" br0; then status_line ok "bridge $hns/br0"; else status_line missing "bridge $hns/br0"; fi
    if [[ $(state_get netfilter 1) -eq 1 ]]; then
        if ns_ok "$hns" && in_ns "$hns" iptables -S DOCKER-USER 2>/dev/null | grep -q "xdpctl-lab:$LAB_PREFIX"; then
            status_line ok "netfilter in $hns (Docker-style, FORWARD DROP, client admitted)"
        else
            status_line missing "netfilter in $hns"
        fi
    fi
    for (( i = 1; i <= n; i++ )); do
        ns="${LAB_PREFIX}c$i"
        if ns_ok "$ns" && link_exists "$ns" eth0 && link_exists "$hns" "${LAB_PREFIX}vc$i"; then
            status_line ok "container $ns $(c_ip4 "$i") $(c_ip6 "$i") veth ${LAB_PREFIX}vc$i"
        else
            status_line missing "container $ns"
        fi
        if netns_httpd_running "$ns"; then status_line ok "httpd in $ns"; else status_line missing "httpd in $ns"; fi
    done
}

netns_env() {
    local hns="${LAB_PREFIX}host" cns="${LAB_PREFIX}client" i ns n
    n=$(state_get containers 2)
    if ! ns_ok "$hns" || ! ns_ok "$cns" || ! link_exists "$hns" br0; then
        die "netns lab '$LAB_PREFIX' is not up: run 'scripts/lab.sh up --prefix $LAB_PREFIX'"
    fi
    emit LAB_MODE netns
    emit LAB_PREFIX "$LAB_PREFIX"
    emit LAB_CONTAINERS "$n"
    emit LAB_NET4 "$LAB_NET4"
    emit LAB_NET6 "$LAB_NET6"
    emit LAB_HTTP_PORT "$LAB_HTTP_PORT"
    emit CLIENT_NS "$cns"
    emit CLIENT_DEV eth0
    emit CLIENT_IP4 "$LAB_CLIENT_IP4"
    emit CLIENT_IP6 "$LAB_CLIENT_IP6"
    emit CLIENT_MAC "$(link_mac "$cns" eth0)"
    emit HOST_NS "$hns"
    emit UPLINK eth0
    emit UPLINK_IP4 "$LAB_UPLINK_IP4"
    emit UPLINK_IP6 "$LAB_UPLINK_IP6"
    emit UPLINK_MAC "$(link_mac "$hns" eth0)"
    emit BRIDGE br0
    emit GW_IP4 "$LAB_GW4"
    emit GW_IP6 "$LAB_GW6"
    emit GW_MAC "$(link_mac "$hns" br0)"
    for (( i = 1; i <= n; i++ )); do
        ns="${LAB_PREFIX}c$i"
        ns_ok "$ns" || die "container namespace $ns is missing: run 'scripts/lab.sh up --prefix $LAB_PREFIX'"
        emit "C${i}_NAME" "$ns"
        emit "C${i}_NS" "$ns"
        emit "C${i}_NS_PATH" "/run/netns/$ns"
        emit "C${i}_IP4" "$(c_ip4 "$i")"
        emit "C${i}_IP6" "$(c_ip6 "$i")"
        emit "C${i}_VETH" "${LAB_PREFIX}vc$i"
        emit "C${i}_MAC" "$(link_mac "$ns" eth0)"
    done
}
