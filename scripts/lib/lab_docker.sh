# shellcheck shell=bash
# docker mode of scripts/lab.sh: the machine's root namespace is the Docker host.
#
# What the lab owns (and `down` removes): containers labelled xdpctl-lab=$P, the
# network ${P}net (bridge ${P}br), the symlinks /run/netns/${P}cN, the namespace
# ${P}client with the veth ${P}up, the DOCKER-USER rule commented xdpctl-lab:$P, the
# forwarding sysctls it changed, and dockerd itself when the lab started it (with
# the netfilter chains that dockerd left behind).
#
# Measured on the Debian 12 VM (kernel 6.18, no systemd, cgroup v1 hierarchies
# mounted under /sys/fs/cgroup plus cgroup2 at /sys/fs/cgroup/unified):
# - docker.io 20.10.24 from Debian runs as is: cgroupfs driver, cgroup v1, overlay2;
#   no extra cgroup mounts needed (only "kernel does not support cgroup blkio
#   weight" warnings). Its postinst does not start the daemon (policy-rc.d denies).
# - The newer /usr/local/bin/docker CLI (28.x) talks to it, downgrading to API 1.41.
# - dockerd sets net.ipv4.ip_forward=1 (and IPv6 forwarding once an IPv6 network
#   exists) and on exit leaves its chains, FORWARD policy DROP and the iptables-nft
#   tables behind: `down` puts back what the lab's dockerd changed.
# - dockerd only manages iptables (IPv4); ip6tables stays untouched (20.10 needs
#   experimental for --ip6tables), so IPv6 to the containers is not filtered and
#   IPv6 ports are published only by docker-proxy. With `up --ip6tables` a dockerd
#   the lab starts runs with --experimental --ip6tables: ip6tables DNAT for the
#   published ports, MASQUERADE of the network's IPv6 subnet, FORWARD policy DROP
#   in ip6tables too; `down` removes those chains as it does the IPv4 ones.
# - Deleting a namespace frees its veths asynchronously: wait for ${P}up to go.

LAB_DOCKERD_PIDFILE=$LAB_STATE_ROOT/dockerd.pid     # pid of a dockerd the lab started
LAB_DOCKERD_OWNER=$LAB_STATE_ROOT/dockerd.owner     # prefix of the lab that started it
LAB_DOCKERD_PRE=$LAB_STATE_ROOT/dockerd.pre         # netfilter state before it started
LAB_DOCKERD_LOG=$LAB_STATE_ROOT/dockerd.log
LAB_DOCKERD_ARGS=$LAB_STATE_ROOT/dockerd.args       # extra arguments it was started with
LAB_DOCKER_TIMEOUT=${LAB_DOCKER_TIMEOUT:-120}

dk() { timeout "$LAB_DOCKER_TIMEOUT" docker "$@"; }
docker_answers() { command -v docker >/dev/null 2>&1 && timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

docker_net() { printf '%snet' "$LAB_PREFIX"; }
docker_bridge() { printf '%sbr' "$LAB_PREFIX"; }
docker_uplink() { printf '%sup' "$LAB_PREFIX"; }
docker_rule() { # the DOCKER-USER rule admitting the client (iptables rule-spec)
    printf '%s\n' -i "$(docker_uplink)" -o "$(docker_bridge)" -m comment --comment "xdpctl-lab:$LAB_PREFIX" -j ACCEPT
}

# pid of the dockerd the lab started, if it is still that dockerd.
lab_dockerd_pid() {
    local pid
    [[ -r $LAB_DOCKERD_PIDFILE ]] || return 1
    pid=$(cat "$LAB_DOCKERD_PIDFILE")
    [[ $pid =~ ^[0-9]+$ && -e /proc/$pid ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]] || return 1
    printf '%s' "$pid"
}

# pid in dockerd's own pid file, if it names a running dockerd.
dockerd_from_pidfile() {
    local own
    own=$(cat /var/run/docker.pid 2>/dev/null || true)
    [[ $own =~ ^[0-9]+$ && $(cat "/proc/$own/comm" 2>/dev/null) == dockerd ]] || return 1
    printf '%s' "$own"
}

dockerd_start() {
    local pid i stale
    # A dockerd that died uncleanly leaves its pid file; the next start refuses it.
    if [[ -r /var/run/docker.pid ]]; then
        stale=$(cat /var/run/docker.pid)
        if [[ ! -e /proc/$stale || $(cat "/proc/$stale/comm" 2>/dev/null) != dockerd ]]; then
            rm -f /var/run/docker.pid
        else
            die "dockerd (pid $stale) runs but does not answer: check 'docker version' and its log"
        fi
    fi
    mkdir -p "$LAB_STATE_ROOT"
    # Remember what dockerd will change, so that `down` can put it back.
    {
        printf 'forward_policy=%s\n' "$(iptables -S FORWARD 2>/dev/null | sed -n 's/^-P FORWARD //p')"
        if iptables -S DOCKER-USER >/dev/null 2>&1; then echo "had_chains=1"; else echo "had_chains=0"; fi
        printf 'forward_policy6=%s\n' "$(ip6tables -S FORWARD 2>/dev/null | sed -n 's/^-P FORWARD //p')"
        # (20.10 with --ip6tables makes DOCKER and the isolation chains in ip6tables, no DOCKER-USER)
        if ip6tables -S DOCKER >/dev/null 2>&1; then echo "had_chains6=1"; else echo "had_chains6=0"; fi
        if command -v nft >/dev/null 2>&1; then
            printf 'tables=%s\n' "$(nft list tables 2>/dev/null | tr '\n' ',')"
        fi
    } >"$LAB_DOCKERD_PRE"
    log "no Docker daemon answers: starting dockerd (log: $LAB_DOCKERD_LOG)"
    # --bridge=none: no docker0 with 172.17.0.0/16 (the lab uses 198.18.0.0/15 only).
    # --userland-proxy=false: published ports are DNAT in the kernel (conntrack) for
    # every client, local ones too, with no docker-proxy in the path.
    # --ip6tables (lab option): IPv6 published ports by ip6tables DNAT (experimental in 20.10).
    local extra=()
    [[ ${LAB_IP6TABLES:-0} == 1 ]] && extra=(--experimental --ip6tables)
    setsid dockerd --bridge=none --userland-proxy=false "${extra[@]}" >"$LAB_DOCKERD_LOG" 2>&1 </dev/null &
    pid=$!
    printf '%s\n' "${extra[*]}" >"$LAB_DOCKERD_ARGS"
    printf '%s\n' "$pid" >"$LAB_DOCKERD_PIDFILE"
    printf '%s\n' "$LAB_PREFIX" >"$LAB_DOCKERD_OWNER"
    local dead=0 own
    for (( i = 0; i < 120; i++ )); do
        # $! is dockerd itself unless setsid had to fork (a caller with job
        # control): dockerd's own pid file is the authority once it exists.
        if own=$(dockerd_from_pidfile); then
            pid=$own
            printf '%s\n' "$pid" >"$LAB_DOCKERD_PIDFILE"
        fi
        if docker_answers; then log "dockerd is up (pid $pid)"; return 0; fi
        if [[ ! -e /proc/$pid ]] && (( ++dead >= 6 )); then
            tail -n 15 "$LAB_DOCKERD_LOG" >&2 || true
            rm -f "$LAB_DOCKERD_PIDFILE" "$LAB_DOCKERD_OWNER"
            die "dockerd exited while starting: see $LAB_DOCKERD_LOG (last lines above)"
        fi
        sleep 0.5
    done
    die "dockerd (pid $pid) did not answer within 60 s: see $LAB_DOCKERD_LOG, then run 'scripts/lab.sh down --docker --prefix $LAB_PREFIX'"
}

dockerd_stop() {
    local pid i
    [[ -r $LAB_DOCKERD_OWNER && $(cat "$LAB_DOCKERD_OWNER") == "$LAB_PREFIX" ]] || return 0
    # The recorded pid; or, when `up` was killed before dockerd wrote its own pid
    # file, the dockerd that file names (the lab started one, none answered before).
    if pid=$(lab_dockerd_pid) || pid=$(dockerd_from_pidfile); then
        log "stopping dockerd (pid $pid), which the lab started"
        kill -TERM "$pid" 2>/dev/null || true
        for (( i = 0; i < 200; i++ )); do
            [[ -e /proc/$pid ]] || break
            sleep 0.2
        done
        if [[ -e /proc/$pid ]]; then
            warn "dockerd (pid $pid) still runs after 40 s: killing it"
            kill -KILL "$pid" 2>/dev/null || true
            for (( i = 0; i < 50; i++ )); do [[ -e /proc/$pid ]] || break; sleep 0.1; done
        fi
        [[ ! -e /proc/$pid ]] || die "dockerd (pid $pid) does not exit: stop it by hand, then run down again"
    fi
    dockerd_netfilter_undo
    rm -f "$LAB_DOCKERD_PIDFILE" "$LAB_DOCKERD_OWNER" "$LAB_DOCKERD_PRE" "$LAB_DOCKERD_ARGS"
}

# dockerd leaves its chains and FORWARD policy DROP behind when it exits; when the
# lab started it and they were not there before, remove them.
dockerd_netfilter_undo() {
    local had=1 had6=1 policy="" policy6="" tables="-"
    if [[ -r $LAB_DOCKERD_PRE ]]; then
        had=$(sed -n 's/^had_chains=//p' "$LAB_DOCKERD_PRE")
        policy=$(sed -n 's/^forward_policy=//p' "$LAB_DOCKERD_PRE")
        had6=$(sed -n 's/^had_chains6=//p' "$LAB_DOCKERD_PRE")
        policy6=$(sed -n 's/^forward_policy6=//p' "$LAB_DOCKERD_PRE")
        grep -q '^tables=' "$LAB_DOCKERD_PRE" && tables=$(sed -n 's/^tables=//p' "$LAB_DOCKERD_PRE")
    fi
    [[ $had == 0 ]] && dockerd_chains_undo iptables ip "$policy" "$tables"
    # (ip6tables: only a dockerd started with --ip6tables made chains there)
    if [[ $had6 == 0 ]] && { ip6tables -S DOCKER >/dev/null 2>&1 || ip6tables -t nat -S DOCKER >/dev/null 2>&1; }; then
        dockerd_chains_undo ip6tables ip6 "$policy6" "$tables"
    fi
    return 0
}

# dockerd_chains_undo IPTABLES NFT_FAMILY FORWARD_POLICY_BEFORE TABLES_BEFORE
dockerd_chains_undo() {
    local ipt=$1 fam=$2 policy=$3 tables=$4 t line chain
    for t in filter nat; do
        # Jumps from the built-in chains into Docker's chains.
        $ipt -t "$t" -S 2>/dev/null | grep -E -- '^-A (FORWARD|PREROUTING|OUTPUT|POSTROUTING|INPUT) .*-j DOCKER(-USER|-ISOLATION-STAGE-[12])?$' |
        while read -r line; do
            # shellcheck disable=SC2086
            $ipt -t "$t" -D ${line#-A } 2>/dev/null || true
        done || true
        for chain in DOCKER DOCKER-USER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2; do
            $ipt -t "$t" -F "$chain" 2>/dev/null || true
        done
        for chain in DOCKER DOCKER-USER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2; do
            $ipt -t "$t" -X "$chain" 2>/dev/null || true
        done
    done
    if [[ $policy == ACCEPT || $policy == DROP ]]; then $ipt -P FORWARD "$policy" || true; fi
    log "removed the $ipt chains dockerd left behind (FORWARD policy ${policy:-unchanged})"
    # iptables-nft leaves the tables with empty base chains; an empty nat table still
    # hooks NAT (and so conntrack) into every packet. Drop the tables that were not
    # there before, if nothing but default ACCEPT policies is left in them.
    if [[ $tables != "-" ]] && command -v nft >/dev/null 2>&1; then
        for t in filter nat; do
            [[ ,$tables, == *",table $fam $t,"* ]] && continue
            nft list table "$fam" "$t" >/dev/null 2>&1 || continue
            if ! $ipt -t "$t" -S | grep -qvE '^-P [A-Z]+ ACCEPT$'; then
                nft delete table "$fam" "$t" && log "removed the empty nftables table $fam $t"
            fi
        done
    fi
}

sysctls_record() {
    local f k
    f="$(lab_state_dir)/sysctl.pre"
    [[ -e $f ]] && return 0
    for k in net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv6.conf.default.forwarding; do
        printf '%s=%s\n' "$k" "$(sysctl -n "$k")"
    done >"$f"
}

sysctls_restore() {
    local f k v
    f="$(lab_state_dir)/sysctl.pre"
    [[ -r $f ]] || return 0
    # Another docker-mode lab still running needs forwarding: leave it on then.
    local d
    for d in "$LAB_STATE_ROOT"/*/; do
        [[ -d $d && ${d%/} != "$(lab_state_dir)" ]] || continue
        [[ $(cat "$d/mode" 2>/dev/null) == docker ]] && return 0
    done
    while IFS='=' read -r k v; do
        [[ -n $k && -n $v ]] || continue
        if [[ $(sysctl -n "$k") != "$v" ]]; then
            sysctl -qw "$k=$v" >/dev/null && log "restored $k=$v"
        fi
    done <"$f"
}

# A tiny image from busybox-static: /bin/busybox and a symlink per applet.
docker_image_ensure() {
    dk image inspect "$LAB_IMAGE" >/dev/null 2>&1 && return 0
    need_static_busybox
    local t a
    t=$(mktemp -d /tmp/xdpctl-lab-image.XXXXXX)
    # shellcheck disable=SC2064
    trap "rm -rf '$t'" RETURN
    mkdir -p "$t"/root/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,www}
    cp "$STATIC_BUSYBOX" "$t/root/bin/busybox"
    for a in $("$STATIC_BUSYBOX" --list); do
        [[ $a == busybox || $a == */* ]] || ln -s busybox "$t/root/bin/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$t/root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$t/root/etc/group"
    chmod 1777 "$t/root/tmp"
    tar --numeric-owner --owner=0 --group=0 -C "$t/root" -cf "$t/rootfs.tar" .
    log "importing image $LAB_IMAGE from $STATIC_BUSYBOX"
    dk import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' \
        -m "xdpctl lab: busybox-static" "$t/rootfs.tar" "$LAB_IMAGE" >/dev/null ||
        die "docker import of $LAB_IMAGE failed"
}

docker_conflicts() {
    local d other line dev a
    for d in "$LAB_STATE_ROOT"/*/; do
        [[ -d $d ]] || continue
        other=$(basename "$d")
        [[ $other != "$LAB_PREFIX" && $(cat "$d/mode" 2>/dev/null) == docker ]] &&
            die "docker lab '$other' is up and uses the same addresses (one docker lab per machine): run 'scripts/lab.sh down --docker --prefix $other' first"
    done
    for line in "$LAB_UPLINK_NET4 $(docker_uplink)" "$LAB_NET4 $(docker_bridge)"; do
        # shellcheck disable=SC2086
        set -- $line
        dev=$(ip -4 route show "$1" 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n1)
        [[ -z $dev || $dev == "$2" ]] ||
            die "$1 is already routed via $dev in the root namespace: remove that route or device first"
    done
    while read -r line; do
        # shellcheck disable=SC2086
        set -- $line
        [[ $# -ge 2 && $1 != "$(docker_net)" ]] || continue
        shift
        for a in "$@"; do
            [[ $a == "$LAB_NET4" ]] &&
                die "docker network '$line' already uses $LAB_NET4: remove it ('docker network rm ${line%% *}') or stop its lab"
        done
    done < <(dk network ls -q | xargs -r docker network inspect -f '{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{end}}' 2>/dev/null)
    return 0
}

docker_network_ensure() {
    local net br
    net=$(docker_net); br=$(docker_bridge)
    if dk network inspect "$net" >/dev/null 2>&1; then
        [[ $(dk network inspect -f '{{index .Labels "xdpctl-lab"}}' "$net") == "$LAB_PREFIX" ]] ||
            die "docker network $net exists but is not the lab's: remove it or use another --prefix"
    else
        if dk network create --driver bridge --ipv6 \
            --subnet "$LAB_NET4" --gateway "$LAB_GW4" --subnet "$LAB_NET6" --gateway "$LAB_GW6" \
            -o "com.docker.network.bridge.name=$br" --label "xdpctl-lab=$LAB_PREFIX" "$net" >/dev/null; then
            log "created docker network $net (bridge $br, $LAB_NET4, $LAB_NET6)"
        else
            warn "docker network create --ipv6 failed: creating $net IPv4 only"
            dk network create --driver bridge --subnet "$LAB_NET4" --gateway "$LAB_GW4" \
                -o "com.docker.network.bridge.name=$br" --label "xdpctl-lab=$LAB_PREFIX" "$net" >/dev/null ||
                die "docker network create $net failed"
        fi
    fi
    if [[ $(dk network inspect -f '{{.EnableIPv6}}' "$net") == true ]]; then state_set ipv6 1; else state_set ipv6 0; fi
}

docker_container_ensure() {
    local i=$1 name running label pid
    name="${LAB_PREFIX}c$i"
    if running=$(dk inspect -f '{{.State.Running}}' "$name" 2>/dev/null); then
        label=$(dk inspect -f '{{index .Config.Labels "xdpctl-lab"}}' "$name")
        [[ $label == "$LAB_PREFIX" ]] ||
            die "container $name exists but is not the lab's: remove it or use another --prefix"
        if [[ $running != true ]]; then dk rm -f "$name" >/dev/null; running=""; fi
    fi
    if [[ $running != true ]]; then
        local v6=()
        [[ $(state_get ipv6 0) == 1 ]] && v6=(--ip6 "$(c_ip6 "$i")")
        dk run -d --name "$name" --hostname "$name" --label "xdpctl-lab=$LAB_PREFIX" \
            --network "$(docker_net)" --ip "$(c_ip4 "$i")" "${v6[@]}" \
            "$LAB_IMAGE" /bin/sh -c "mkdir -p /www && hostname >/www/index.html && exec httpd -f -p $LAB_HTTP_PORT -h /www" >/dev/null ||
            die "docker run $name failed: see 'docker logs $name'"
        log "started container $name ($(c_ip4 "$i"))"
    fi
    pid=$(dk inspect -f '{{.State.Pid}}' "$name")
    [[ $pid =~ ^[1-9][0-9]*$ ]] || die "container $name has no process: see 'docker logs $name'"
    mkdir -p /run/netns
    if [[ -e /run/netns/$name && ! -L /run/netns/$name ]]; then
        die "/run/netns/$name is a real namespace (a netns-mode lab?): run 'scripts/lab.sh down --prefix $LAB_PREFIX' first"
    fi
    ln -sfn "/proc/$pid/ns/net" "/run/netns/$name"
}

docker_rule_add() {
    local fam ipt
    local -a rule
    mapfile -t rule < <(docker_rule)
    for fam in 4 6; do
        if [[ $fam == 4 ]]; then ipt=iptables; else ipt=ip6tables; fi
        if ! $ipt -S DOCKER-USER >/dev/null 2>&1; then
            if [[ $fam == 4 ]]; then
                [[ $($ipt -S FORWARD | sed -n 's/^-P FORWARD //p') == ACCEPT ]] ||
                    warn "no DOCKER-USER chain and FORWARD policy is not ACCEPT: the client may not reach the containers"
            fi
            continue
        fi
        $ipt -C DOCKER-USER "${rule[@]}" 2>/dev/null ||
            $ipt -I DOCKER-USER 1 "${rule[@]}" || die "cannot add the DOCKER-USER rule ($ipt)"
    done
}

docker_rule_del() {
    local ipt i line
    local -a rule
    mapfile -t rule < <(docker_rule)
    for ipt in iptables ip6tables; do
        command -v "$ipt" >/dev/null 2>&1 || continue
        $ipt -S DOCKER-USER >/dev/null 2>&1 || continue
        for (( i = 0; i < 20; i++ )); do
            $ipt -D DOCKER-USER "${rule[@]}" 2>/dev/null || break
        done
        # Any other rule carrying this lab's comment (an older rule-spec, say).
        for (( i = 0; i < 20; i++ )); do
            line=$($ipt -S DOCKER-USER | grep -E -- "--comment \"?xdpctl-lab:$LAB_PREFIX\"?( |$)" | head -n1) || true
            [[ -n $line ]] || break
            # shellcheck disable=SC2086
            $ipt -D ${line#-A } || break
        done
    done
}

docker_up() {
    need ip iproute2
    need nsenter util-linux
    need ethtool ethtool
    need iptables iptables
    need docker docker.io
    local owned=0
    mkdir -p "$(lab_state_dir)"
    state_set mode docker
    state_set containers "$LAB_CONTAINERS"
    sysctls_record
    if ! docker_answers; then
        need dockerd docker.io
        dockerd_start
    fi
    [[ $(cat "$LAB_DOCKERD_OWNER" 2>/dev/null) == "$LAB_PREFIX" ]] && owned=1
    docker_conflicts
    docker_image_ensure
    docker_network_ensure
    local i name
    for (( i = 1; i <= LAB_CONTAINERS; i++ )); do docker_container_ensure "$i"; done
    # Containers left over from an earlier `up` with a larger --containers.
    for name in $(dk ps -a --filter "label=xdpctl-lab=$LAB_PREFIX" --format '{{.Names}}'); do
        i=${name#"$LAB_PREFIX"c}
        if [[ $i =~ ^[0-9]+$ ]] && (( i > LAB_CONTAINERS )); then
            dk rm -f "$name" >/dev/null; rm -f "/run/netns/$name"
        fi
    done
    client_up "" "$(docker_uplink)" 02:42:c6:12:00:01
    sysctl_set "" net.ipv4.ip_forward 1
    [[ $(state_get ipv6 0) == 1 ]] && sysctl_set "" net.ipv6.conf.all.forwarding 1
    docker_rule_add
    log "docker lab '$LAB_PREFIX' is up ($LAB_CONTAINERS containers$([[ $owned == 1 ]] && echo ", dockerd pid $(cat "$LAB_DOCKERD_PIDFILE") started by the lab"))"
}

docker_down() {
    local purge=${1:-0} name f
    DOWN_ERRORS=0
    if docker_answers; then
        for name in $(dk ps -a --filter "label=xdpctl-lab=$LAB_PREFIX" --format '{{.Names}}' || true); do
            if dk rm -f "$name" >/dev/null; then log "removed container $name"; else down_err "cannot remove container $name"; fi
        done
        if dk network inspect "$(docker_net)" >/dev/null 2>&1 &&
            [[ $(dk network inspect -f '{{index .Labels "xdpctl-lab"}}' "$(docker_net)") == "$LAB_PREFIX" ]]; then
            if dk network rm "$(docker_net)" >/dev/null; then log "removed docker network $(docker_net)"
            else down_err "cannot remove docker network $(docker_net)"; fi
        fi
        if [[ $purge == 1 ]] && dk image inspect "$LAB_IMAGE" >/dev/null 2>&1; then
            if dk rmi "$LAB_IMAGE" >/dev/null; then log "removed image $LAB_IMAGE"; else down_err "cannot remove image $LAB_IMAGE"; fi
        fi
    elif [[ $(state_get mode) == docker ]]; then
        down_err "no Docker daemon answers: cannot remove containers or network ${LAB_PREFIX}* (start dockerd, then run down again)"
    fi
    docker_rule_del || down_err "cannot remove the DOCKER-USER rule xdpctl-lab:$LAB_PREFIX"
    if [[ -d /run/netns ]]; then
        for f in /run/netns/"$LAB_PREFIX"c*; do
            [[ -L $f && ${f#/run/netns/"$LAB_PREFIX"c} =~ ^[0-9]+$ ]] || continue
            rm -f "$f"
        done
    fi
    ns_delete "${LAB_PREFIX}client" || down_err "cannot delete namespace ${LAB_PREFIX}client"
    # The uplink veth dies with the client namespace, but asynchronously (netns
    # cleanup runs from a workqueue): wait for it, delete it if it stays.
    if ! wait_until 50 0.1 link_gone "" "$(docker_uplink)"; then
        ip link delete "$(docker_uplink)" 2>/dev/null || true
        link_gone "" "$(docker_uplink)" || down_err "cannot delete link $(docker_uplink)"
    fi
    dockerd_stop || down_err "cannot stop dockerd"
    sysctls_restore || down_err "cannot restore the forwarding sysctls"
    if (( DOWN_ERRORS > 0 )); then
        die "down left $DOWN_ERRORS thing(s) behind (see above): fix that, then run 'scripts/lab.sh down --docker --prefix $LAB_PREFIX' again"
    fi
    rm -rf "$(lab_state_dir)"
}

docker_status() {
    local n i name pid br rule
    n=$(state_get containers 2)
    br=$(docker_bridge)
    echo "lab '$LAB_PREFIX' (docker mode, $n containers)"
    if docker_answers; then
        local how="already running"
        pid=$(lab_dockerd_pid) && how="started by the lab, pid $pid"
        status_line ok "docker daemon $(timeout 10 docker version --format '{{.Server.Version}}') ($how)"
    else
        status_line missing "docker daemon"
    fi
    if docker_answers && dk network inspect "$(docker_net)" >/dev/null 2>&1; then
        status_line ok "docker network $(docker_net) (bridge $br, IPv6 $(dk network inspect -f '{{.EnableIPv6}}' "$(docker_net)"))"
    else
        status_line missing "docker network $(docker_net)"
    fi
    for (( i = 1; i <= n; i++ )); do
        name="${LAB_PREFIX}c$i"
        if docker_answers && dk inspect "$name" >/dev/null 2>&1 &&
            [[ $(dk inspect -f '{{index .Config.Labels "xdpctl-lab"}}' "$name") != "$LAB_PREFIX" ]]; then
            status_line missing "container $name exists but is not the lab's (no label xdpctl-lab=$LAB_PREFIX)"
        elif docker_answers && [[ $(dk inspect -f '{{.State.Running}}' "$name" 2>/dev/null) == true ]]; then
            pid=$(dk inspect -f '{{.State.Pid}}' "$name")
            if [[ $(readlink "/run/netns/$name" 2>/dev/null) == "/proc/$pid/ns/net" ]]; then
                status_line ok "container $name (pid $pid, /run/netns/$name)"
            else
                status_line missing "container $name runs, but /run/netns/$name does not point at it (run up)"
            fi
        else
            status_line missing "container $name"
        fi
    done
    if ns_ok "${LAB_PREFIX}client"; then status_line ok "namespace ${LAB_PREFIX}client"; else status_line missing "namespace ${LAB_PREFIX}client"; fi
    if link_exists "" "$(docker_uplink)"; then status_line ok "uplink $(docker_uplink) <-> ${LAB_PREFIX}client/eth0"; else status_line missing "uplink $(docker_uplink)"; fi
    rule=$(iptables -S DOCKER-USER 2>/dev/null | grep -E -- "xdpctl-lab:$LAB_PREFIX\"?( |$)" || true)
    if [[ -n $rule ]]; then status_line ok "iptables: $rule"; else status_line missing "iptables DOCKER-USER rule xdpctl-lab:$LAB_PREFIX"; fi
    if [[ $(sysctl -n net.ipv4.ip_forward) == 1 ]]; then status_line ok "net.ipv4.ip_forward=1"; else status_line missing "net.ipv4.ip_forward=1"; fi
}

docker_env() {
    local n i name pid ifl veth br
    n=$(state_get containers 2)
    docker_answers || die "no Docker daemon answers: run 'scripts/lab.sh up --docker --prefix $LAB_PREFIX'"
    if ! dk network inspect "$(docker_net)" >/dev/null 2>&1 || ! ns_ok "${LAB_PREFIX}client"; then
        die "docker lab '$LAB_PREFIX' is not up: run 'scripts/lab.sh up --docker --prefix $LAB_PREFIX'"
    fi
    br=$(dk network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' "$(docker_net)")
    emit LAB_MODE docker
    emit LAB_PREFIX "$LAB_PREFIX"
    emit LAB_CONTAINERS "$n"
    emit LAB_NET4 "$LAB_NET4"
    if [[ $(state_get ipv6 0) == 1 ]]; then emit LAB_NET6 "$LAB_NET6"; else emit LAB_NET6 ""; fi
    emit LAB_HTTP_PORT "$LAB_HTTP_PORT"
    emit LAB_DOCKER_NETWORK "$(docker_net)"
    # Was dockerd started by this lab, and with --ip6tables (IPv6 published ports by DNAT)?
    if [[ $(cat "$LAB_DOCKERD_OWNER" 2>/dev/null) == "$LAB_PREFIX" ]] && lab_dockerd_pid >/dev/null; then
        emit LAB_DOCKERD_OWNED 1
        if [[ $(cat "$LAB_DOCKERD_ARGS" 2>/dev/null) == *--ip6tables* ]]; then
            emit LAB_DOCKER_IP6TABLES 1
        else
            emit LAB_DOCKER_IP6TABLES 0
        fi
    else
        emit LAB_DOCKERD_OWNED 0
        emit LAB_DOCKER_IP6TABLES 0
    fi
    emit CLIENT_NS "${LAB_PREFIX}client"
    emit CLIENT_DEV eth0
    emit CLIENT_IP4 "$LAB_CLIENT_IP4"
    emit CLIENT_IP6 "$LAB_CLIENT_IP6"
    emit CLIENT_MAC "$(link_mac "${LAB_PREFIX}client" eth0)"
    emit HOST_NS ""
    emit UPLINK "$(docker_uplink)"
    emit UPLINK_IP4 "$LAB_UPLINK_IP4"
    emit UPLINK_IP6 "$LAB_UPLINK_IP6"
    emit UPLINK_MAC "$(link_mac "" "$(docker_uplink)")"
    emit BRIDGE "$br"
    emit GW_IP4 "$LAB_GW4"
    if [[ $(state_get ipv6 0) == 1 ]]; then emit GW_IP6 "$LAB_GW6"; else emit GW_IP6 ""; fi
    emit GW_MAC "$(link_mac "" "$br")"
    for (( i = 1; i <= n; i++ )); do
        name="${LAB_PREFIX}c$i"
        pid=$(dk inspect -f '{{.State.Pid}}' "$name" 2>/dev/null) || pid=""
        [[ $pid =~ ^[1-9][0-9]*$ ]] ||
            die "container $name is not running: run 'scripts/lab.sh up --docker --prefix $LAB_PREFIX'"
        [[ $(readlink "/run/netns/$name" 2>/dev/null) == "/proc/$pid/ns/net" ]] ||
            die "/run/netns/$name does not point at container $name: run 'scripts/lab.sh up --docker --prefix $LAB_PREFIX'"
        ifl=$(link_peer_ifindex "$name" eth0)
        veth=$(link_name_by_index "" "$ifl")
        [[ -n $veth ]] || die "cannot find the host-side veth of $name (peer ifindex '$ifl')"
        emit "C${i}_NAME" "$name"
        emit "C${i}_NS" "$name"
        emit "C${i}_NS_PATH" "/proc/$pid/ns/net"
        emit "C${i}_PID" "$pid"
        emit "C${i}_ID" "$(dk inspect -f '{{.Id}}' "$name")"
        emit "C${i}_IP4" "$(dk inspect -f "{{(index .NetworkSettings.Networks \"$(docker_net)\").IPAddress}}" "$name")"
        emit "C${i}_IP6" "$(dk inspect -f "{{(index .NetworkSettings.Networks \"$(docker_net)\").GlobalIPv6Address}}" "$name")"
        emit "C${i}_VETH" "$veth"
        emit "C${i}_MAC" "$(link_mac "$name" eth0)"
    done
}
