#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# scripts/lab.sh - a Docker-host-style lab for xdpctl.
#
#   scripts/lab.sh up|down|status|env [--docker] [--prefix P] [--containers N]
#                                     [--no-netfilter] [--ip6tables] [--purge]
#
# netns mode (default): namespaces ${P}client, ${P}host, ${P}c1..${P}cN; the host
#   namespace has eth0 (uplink, veth to ${P}client/eth0) and a bridge br0 in the
#   role of docker0, with Docker 20.10-style netfilter (--no-netfilter: none).
# docker mode (--docker): the host is the root namespace; dockerd (started when no
#   daemon answers), network ${P}net (bridge ${P}br), containers ${P}c1..${P}cN from
#   a local busybox image, uplink veth ${P}up <-> ${P}client/eth0, and one
#   DOCKER-USER rule admitting the client. --ip6tables: a dockerd the lab starts
#   runs with --experimental --ip6tables (IPv6 published ports DNAT and
#   MASQUERADE in ip6tables, as Docker 20.10 does only then).
#
# Addresses: uplink 198.18.0.1 (host) / 198.18.0.2 (client), 2001:db8:18::1/::2;
# containers 198.19.0.0/24 and 2001:db8:19::/64, gateway .1/::1, container i has
# 198.19.0.(i+1) and 2001:db8:19::(i+1), MAC 02:42:c6:13:00:(i+1) like Docker's.
# Each container serves its name over HTTP on port 80 (busybox httpd).
#
# `env` prints shell assignments to eval:
#   LAB_MODE (netns|docker) LAB_PREFIX LAB_CONTAINERS LAB_NET4 LAB_NET6 LAB_HTTP_PORT
#   CLIENT_NS CLIENT_DEV CLIENT_IP4 CLIENT_IP6 CLIENT_MAC
#   HOST_NS (empty in docker mode: the root namespace) UPLINK UPLINK_IP4 UPLINK_IP6
#   UPLINK_MAC BRIDGE GW_IP4 GW_IP6 GW_MAC
#   per container i: Ci_NAME Ci_NS (name under /run/netns, for ip -n / nsenter)
#   Ci_NS_PATH Ci_IP4 Ci_IP6 Ci_VETH (host side) Ci_MAC (container eth0)
#   docker mode also: LAB_DOCKER_NETWORK Ci_PID Ci_ID
set -euo pipefail

LAB_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$LAB_SCRIPTS/lib/lab_common.sh"
. "$LAB_SCRIPTS/lib/lab_netns.sh"
. "$LAB_SCRIPTS/lib/lab_docker.sh"

usage() {
    cat <<'EOF'
usage: scripts/lab.sh up|down|status|env [options]

  up       build the lab (idempotent: running it again converges)
  down     remove everything the lab made; works on a half-built lab
  status   show what exists (exit 0 when complete, 1 otherwise)
  env      print shell assignments (LAB_MODE, CLIENT_NS, HOST_NS, UPLINK, BRIDGE,
           C<i>_NAME/_NS/_IP4/_IP6/_VETH/_MAC, ...) for eval

options:
  --docker          real Docker in the root namespace (default: netns mode)
  --prefix P        name prefix, [a-z][a-z0-9]{0,7} (default xl)
  --containers N    number of containers, 2..50 (default 2)
  --no-netfilter    netns mode: no Docker-style iptables in the host namespace
  --ip6tables       up, docker mode: a dockerd the lab starts gets --experimental
                    --ip6tables (IPv6 published ports by ip6tables DNAT)
  --purge           down, docker mode: also remove the lab's busybox image
EOF
}

main() {
    local cmd="" mode="" purge=0
    LAB_PREFIX=xl
    LAB_CONTAINERS=""
    LAB_NETFILTER=1
    LAB_IP6TABLES=0
    while (( $# > 0 )); do
        case $1 in
            up|down|status|env) [[ -z $cmd ]] || die "two commands given ($cmd, $1): give one"; cmd=$1 ;;
            --docker) mode=docker ;;
            --netns) mode=netns ;;
            --prefix) [[ $# -ge 2 ]] || die "--prefix needs a value"; LAB_PREFIX=$2; shift ;;
            --prefix=*) LAB_PREFIX=${1#*=} ;;
            --containers) [[ $# -ge 2 ]] || die "--containers needs a value"; LAB_CONTAINERS=$2; shift ;;
            --containers=*) LAB_CONTAINERS=${1#*=} ;;
            --no-netfilter) LAB_NETFILTER=0 ;;
            --ip6tables) LAB_IP6TABLES=1 ;;
            --purge) purge=1 ;;
            -h|--help|help) usage; exit 0 ;;
            *) usage >&2; die "unknown argument '$1': see the usage above" ;;
        esac
        shift
    done
    [[ -n $cmd ]] || { usage >&2; die "no command: give up, down, status or env"; }
    [[ $LAB_PREFIX =~ ^[a-z][a-z0-9]{0,7}$ ]] ||
        die "bad prefix '$LAB_PREFIX': use 1-8 characters [a-z0-9], starting with a letter (names must fit 15 characters)"
    if [[ -n $LAB_CONTAINERS ]]; then
        if ! [[ $LAB_CONTAINERS =~ ^[0-9]+$ ]] || (( LAB_CONTAINERS < 2 || LAB_CONTAINERS > 50 )); then
            die "bad --containers '$LAB_CONTAINERS': give a number from 2 to 50"
        fi
    fi
    require_root
    export PATH="$PATH:/usr/sbin:/sbin"

    local recorded
    recorded=$(state_get mode)
    case $cmd in
        up)
            mode=${mode:-netns}
            if [[ -n $recorded && $recorded != "$mode" ]]; then
                die "lab '$LAB_PREFIX' is up in $recorded mode: run 'scripts/lab.sh down --prefix $LAB_PREFIX' first"
            fi
            LAB_CONTAINERS=${LAB_CONTAINERS:-$(state_get containers 2)}
            mkdir -p "$(lab_state_dir)"
            if [[ $mode == docker ]]; then
                [[ $LAB_NETFILTER -eq 1 ]] || warn "--no-netfilter is ignored in docker mode (dockerd owns the netfilter rules)"
                docker_up
            else
                netns_up
            fi
            ;;
        down)
            mode=${mode:-$recorded}
            case $mode in
                docker) docker_down "$purge" ;;
                netns) netns_down ;;
                *) # Nothing recorded: remove whatever carries the prefix, in both modes.
                   netns_down; docker_down "$purge" ;;
            esac
            rmdir "$LAB_STATE_ROOT" 2>/dev/null || true
            log "lab '$LAB_PREFIX' is down"
            ;;
        status)
            mode=${mode:-${recorded:-netns}}
            STATUS_BAD=0
            if [[ $mode == docker ]]; then docker_status; else netns_status; fi
            if [[ $STATUS_BAD -eq 0 ]]; then echo "lab '$LAB_PREFIX': up"; else echo "lab '$LAB_PREFIX': not (completely) up"; fi
            return "$STATUS_BAD"
            ;;
        env)
            mode=${mode:-${recorded:-netns}}
            if [[ $mode == docker ]]; then docker_env; else netns_env; fi
            ;;
    esac
}

main "$@"
