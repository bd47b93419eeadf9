# shellcheck shell=bash disable=SC2034
# Helpers shared by scripts/lab.sh and its netns/docker halves.
# Sourced, never executed: relies on the caller's `set -euo pipefail`.

LAB_STATE_ROOT=${LAB_STATE_ROOT:-/run/xdpctl-lab}
LAB_IMAGE=${LAB_IMAGE:-xdpctl-busybox:latest}

# Address plan (RFC 2544 benchmarking space and the documentation prefix only).
LAB_UPLINK_NET4=198.18.0.0/24
LAB_UPLINK_IP4=198.18.0.1
LAB_CLIENT_IP4=198.18.0.2
LAB_UPLINK_IP6=2001:db8:18::1
LAB_CLIENT_IP6=2001:db8:18::2
LAB_NET4=198.19.0.0/24
LAB_NET6=2001:db8:19::/64
LAB_GW4=198.19.0.1
LAB_GW6=2001:db8:19::1
LAB_HTTP_PORT=80

log()  { printf 'lab: %s\n' "$*" >&2; }
warn() { printf 'lab: warning: %s\n' "$*" >&2; }
die()  { printf 'Error: %s\n' "$*" >&2; exit 1; }

# Container i (1-based) -> addresses and the MAC Docker would derive from the IPv4.
c_ip4() { printf '198.19.0.%d' $(( $1 + 1 )); }
c_ip6() { printf '2001:db8:19::%d' $(( $1 + 1 )); } # ::10 pairs with .10
c_mac() { printf '02:42:c6:13:00:%02x' $(( $1 + 1 )); }

lab_state_dir() { printf '%s/%s' "$LAB_STATE_ROOT" "$LAB_PREFIX"; }
state_get() { # state_get KEY [DEFAULT]
    local f; f="$(lab_state_dir)/$1"
    if [[ -r $f ]]; then cat "$f"; else printf '%s' "${2-}"; fi
}
state_set() { mkdir -p "$(lab_state_dir)"; printf '%s\n' "$2" >"$(lab_state_dir)/$1"; }

require_root() {
    [[ $(id -u) -eq 0 ]] || die "lab.sh must run as root (it creates network namespaces, links and iptables rules): run it with sudo"
}

# need CMD PACKAGE: install PACKAGE with apt-get when CMD is missing.
need() {
    local cmd=$1 pkg=$2
    command -v "$cmd" >/dev/null 2>&1 && return 0
    log "$cmd not found: installing Debian package $pkg"
    apt_install "$pkg" || die "$cmd is missing and 'apt-get install -y $pkg' failed: install $pkg by hand"
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd still missing after installing $pkg: check PATH"
}

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || { warn "apt-get not available"; return 1; }
    export DEBIAN_FRONTEND=noninteractive
    if timeout 900 apt-get install -y --no-install-recommends "$@" >&2; then return 0; fi
    if [[ $APT_UPDATED -eq 0 ]]; then
        APT_UPDATED=1
        timeout 600 apt-get update >&2 || return 1
        timeout 900 apt-get install -y --no-install-recommends "$@" >&2
    else
        return 1
    fi
}

# A statically linked busybox (the container image and the netns servers use it).
STATIC_BUSYBOX=
need_static_busybox() {
    local bb
    for bb in /bin/busybox /usr/bin/busybox "$(command -v busybox 2>/dev/null || true)"; do
        [[ -n $bb && -x $bb ]] || continue
        if ! ldd "$bb" >/dev/null 2>&1; then STATIC_BUSYBOX=$bb; return 0; fi
    done
    log "no statically linked busybox: installing Debian package busybox-static"
    apt_install busybox-static || die "'apt-get install -y busybox-static' failed: install busybox-static by hand"
    for bb in /bin/busybox /usr/bin/busybox; do
        if [[ -x $bb ]] && ! ldd "$bb" >/dev/null 2>&1; then STATIC_BUSYBOX=$bb; return 0; fi
    done
    die "busybox-static installed but no static busybox found in /bin or /usr/bin"
}

# ---- namespaces -------------------------------------------------------------

# True when /run/netns/NAME names a usable network namespace (a mount or a symlink).
ns_ok() { [[ -e /run/netns/$1 ]] && nsenter --net="/run/netns/$1" true 2>/dev/null; }

# Run a command inside a named namespace; an empty name means the root namespace.
# nsenter keeps the caller's mounts (/sys/fs/bpf, tracefs), unlike `ip netns exec`.
in_ns() {
    local ns=$1; shift
    if [[ -z $ns ]]; then "$@"; else nsenter --net="/run/netns/$ns" -- "$@"; fi
}
ipn() { # ipn NS ip-args... (empty NS: root namespace)
    local ns=$1; shift
    if [[ -z $ns ]]; then ip "$@"; else ip -n "$ns" "$@"; fi
}

ns_create() {
    local ns=$1
    if ns_ok "$ns"; then return 0; fi
    if [[ -e /run/netns/$ns || -L /run/netns/$ns ]]; then
        warn "/run/netns/$ns exists but is not a usable namespace: replacing it"
        ip netns delete "$ns" 2>/dev/null || rm -f "/run/netns/$ns"
    fi
    ip netns add "$ns" || die "cannot create network namespace $ns"
    ip -n "$ns" link set lo up
}

# Processes whose network namespace is NAME (bounded: one pass over /proc).
ns_pids() { if [[ -e /run/netns/$1 ]]; then ip netns pids "$1" 2>/dev/null || true; fi; }

# Stop every process living in a lab namespace (TERM, wait up to 5 s, then KILL),
# otherwise the namespace outlives `ip netns delete`.
ns_kill_pids() {
    local ns=$1 pids i
    pids=$(ns_pids "$ns")
    [[ -n $pids ]] || return 0
    log "stopping processes in namespace $ns: ${pids//$'\n'/ }"
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for (( i = 0; i < 50; i++ )); do
        pids=$(ns_pids "$ns"); [[ -n $pids ]] || return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.2
}

ns_delete() {
    local ns=$1
    [[ -e /run/netns/$ns || -L /run/netns/$ns ]] || return 0
    if [[ -L /run/netns/$ns ]]; then rm -f "/run/netns/$ns"; return 0; fi
    ns_kill_pids "$ns"
    ip netns delete "$ns" 2>/dev/null || rm -f "/run/netns/$ns" 2>/dev/null || true
    if [[ -e /run/netns/$ns ]]; then warn "cannot delete namespace $ns"; return 1; fi
    log "deleted namespace $ns"
}

# Namespaces (or links under /run/netns) that carry the prefix, one per line.
ns_with_prefix() {
    local f
    [[ -d /run/netns ]] || return 0
    for f in /run/netns/"$LAB_PREFIX"*; do
        [[ -e $f || -L $f ]] || continue
        f=${f##*/}
        case $f in
            "$LAB_PREFIX"client|"$LAB_PREFIX"host) printf '%s\n' "$f" ;;
            "$LAB_PREFIX"c[0-9]*) [[ ${f#"$LAB_PREFIX"c} =~ ^[0-9]+$ ]] && printf '%s\n' "$f" ;;
        esac
    done
}

link_exists() { ipn "$1" link show dev "$2" >/dev/null 2>&1; } # link_exists NS DEV
link_gone() { ! link_exists "$1" "$2"; }
link_mac() { ipn "$1" -o link show dev "$2" 2>/dev/null | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
link_ifindex() { ipn "$1" -o link show dev "$2" 2>/dev/null | sed -n 's/^\([0-9]*\):.*/\1/p'; }
# Peer ifindex of a veth (as seen from the peer's namespace).
link_peer_ifindex() { ipn "$1" -o link show dev "$2" 2>/dev/null | sed -n 's/^[0-9]*: [^@:]*@if\([0-9]*\):.*/\1/p'; }
# Name of the link with ifindex IDX in namespace NS, from netlink (never sysfs).
link_name_by_index() {
    ipn "$1" -o link show 2>/dev/null | awk -F': ' -v i="$2" '$1 == i { sub(/@.*/, "", $2); print $2; exit }'
}

# ethtool prints "Actual changes" on stdout; keep stdout for `env`.
tx_csum_off() { in_ns "$1" ethtool -K "$2" tx off >/dev/null 2>&1 || warn "ethtool -K $2 tx off failed in namespace ${1:-root}"; }

sysctl_set() { # sysctl_set NS key value
    in_ns "$1" sysctl -qw "$2=$3" >/dev/null || die "cannot set $2=$3 in namespace ${1:-root}"
}

wait_until() { # wait_until TRIES SLEEP cmd...  (bounded poll)
    local tries=$1 pause=$2 i; shift 2
    for (( i = 0; i < tries; i++ )); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep "$pause"
    done
    return 1
}

# Client namespace with eth0 = veth towards the host side. $1: host namespace
# ("" = root), $2: host-side name, $3: host-side MAC.
client_up() {
    local hostns=$1 updev=$2 upmac=$3 cns="${LAB_PREFIX}client"
    ns_create "$cns"
    if link_exists "$hostns" "$updev" && ! link_exists "$cns" eth0; then
        # Left from a deleted client namespace (that cleanup is asynchronous).
        ipn "$hostns" link delete "$updev" 2>/dev/null || true
        wait_until 50 0.1 link_gone "$hostns" "$updev" || die "cannot delete the stale link $updev"
    fi
    if ! link_exists "$hostns" "$updev"; then
        link_exists "$cns" eth0 && ip -n "$cns" link delete eth0
        ipn "$hostns" link add "$updev" type veth peer name eth0 netns "$cns" ||
            die "cannot create veth $updev <-> $cns/eth0"
    fi
    ipn "$hostns" link set dev "$updev" address "$upmac"
    ip -n "$cns" link set dev eth0 address 02:42:c6:12:00:02
    ipn "$hostns" addr replace "$LAB_UPLINK_IP4/24" dev "$updev"
    ipn "$hostns" -6 addr replace "$LAB_UPLINK_IP6/64" dev "$updev" nodad
    ipn "$hostns" link set dev "$updev" up
    ip -n "$cns" addr replace "$LAB_CLIENT_IP4/24" dev eth0
    ip -n "$cns" -6 addr replace "$LAB_CLIENT_IP6/64" dev eth0 nodad
    ip -n "$cns" link set dev eth0 up
    ip -n "$cns" route replace "$LAB_NET4" via "$LAB_UPLINK_IP4" dev eth0
    ip -n "$cns" -6 route replace "$LAB_NET6" via "$LAB_UPLINK_IP6" dev eth0
    # Behave like a wire: no CHECKSUM_PARTIAL packets from the client.
    tx_csum_off "$cns" eth0
}

DOWN_ERRORS=0
down_err() { warn "$*"; DOWN_ERRORS=$(( DOWN_ERRORS + 1 )); }

status_line() { # status_line OK|MISSING what
    printf '  %-8s %s\n' "$1" "$2"
    [[ $1 == ok ]] || STATUS_BAD=1
}

# Print NAME=value for `eval` (values shell-quoted).
emit() { printf '%s=%q\n' "$1" "$2"; }
