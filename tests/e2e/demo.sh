#!/usr/bin/env bash
# End-to-end test of scripts/demo.sh: the demo passes (pings answered,
# counters moved, trace difference lists the bridge and veth), its log has
# the four sections, and nothing is left behind: namespaces, links, pinned
# state, containers and networks of its prefix, dockerd if it started it.
# Usage: tests/e2e/demo.sh [--docker]. Exit 0 pass, 1 fail, 77 skip.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mode=netns
[ "${1:-}" = --docker ] && mode=docker
P="dm$(($$ % 100000))"
# shellcheck source=../lib/verdict.sh
source "$ROOT/tests/lib/verdict.sh"

if [ "$(id -u)" -ne 0 ]; then echo "SKIP demo_$mode: needs root"; exit 77; fi
args=(--no-install --prefix "$P" --log "$(mktemp /tmp/demo-log.XXXXXX)")
log=${args[4]}
[ "$mode" = docker ] && args+=(--docker)
if [ "$mode" = docker ] && ! command -v dockerd >/dev/null; then
	echo "SKIP demo_docker: docker.io is not installed (scripts/install-deps.sh installs it)"
	exit 77
fi
dockerd_before=$(pgrep -x dockerd | sort | tr '\n' ' ')

cleanup() {
	"$ROOT/scripts/lab.sh" down --prefix "$P" >/dev/null 2>&1
	rm -rf "/sys/fs/bpf/xdpctl-demo-$P" "$log"
}
trap cleanup EXIT

if "$ROOT/scripts/demo.sh" "${args[@]}" >/dev/null 2>&1; then
	pass "demo_$mode: exit 0"
else
	fail "demo_$mode" "exit non-zero; its log:"
	sed 's/^/    /' "$log"
fi
for section in "Ping original service" "Ping bypass service" "Bypass logs" \
	"Trace events difference" "Demo passed"; do
	grep -q "^INFO: $section" "$log" && pass "log has '$section'" ||
		fail "log section" "'$section' missing"
done
grep -A3 "^INFO: Ping bypass service" "$log" | grep -q "bytes from" &&
	pass "bypass service answered" || fail "bypass ping" "no reply line in the log"
grep -A12 "^INFO: Bypass logs" "$log" | grep -q "ICMP request for" &&
	pass "dataplane trace shows the echo request" || fail "trace" "no 'ICMP request for' line"

left=$(ip netns list | awk -v p="^$P" '$1 ~ p {print $1}' | tr '\n' ' ')
left+=$(ip -o link show | awk -F': ' -v p="^$P" '$2 ~ p {print $2}' | tr '\n' ' ')
[ -e "/sys/fs/bpf/xdpctl-demo-$P" ] && left+="pin-dir "
if [ "$mode" = docker ] && timeout 5 docker info >/dev/null 2>&1; then
	left+=$(docker ps -aq --filter "name=^$P" | tr '\n' ' ')
	left+=$(docker network ls -q --filter "name=^$P" | tr '\n' ' ')
fi
[ -z "${left// /}" ] && pass "nothing left behind" || fail "leftovers" "$left"
dockerd_after=$(pgrep -x dockerd | sort | tr '\n' ' ')
[ "$dockerd_before" = "$dockerd_after" ] && pass "dockerd as before" ||
	fail "dockerd" "before: '$dockerd_before' after: '$dockerd_after'"

verdict_exit "demo_$mode"
