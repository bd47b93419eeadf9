#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# xdpctl docker sync | watch against a real dockerd (the lab's docker mode:
# scripts/lab.sh starts dockerd when none answers and stops only the one it
# started). The watcher is scoped to the lab's containers (--label), its state
# to a private pin dir. Checks: the table is exact after sync (hand rules left
# alone); docker restart brings the entry back within 2 s of the container
# running; docker network connect adds the second address on the right veth
# (and 'bypass add --container' takes that veth); disconnect and rm -f remove
# entries; dockerd stopped and started under the watcher: it reconnects and
# reconciles; the watcher killed -9, containers started and removed meanwhile,
# started again: exact; 50 containers started and removed in batches: exact,
# RSS flat. Run it under 'flock /work/coord/docker.lock' on a shared machine.
source "$(dirname "$0")/lib.sh"
need_root
LAB=${LAB:-$(dirname "$0")/../../scripts/lab.sh}
command -v docker >/dev/null && command -v dockerd >/dev/null || skip "no docker"
[[ -x $LAB ]] || skip "no scripts/lab.sh"

P=xw$((RANDOM % 900 + 100))
LBL="xdpctl-lab=$P"
LAB_IMAGE=${LAB_IMAGE:-xdpctl-busybox:latest}
WPID=
stop_watch() {
	[[ -n $WPID ]] || return 0
	kill -TERM "$WPID" 2>/dev/null
	for _ in $(seq 50); do [[ -e /proc/$WPID ]] || break; sleep 0.1; done
	kill -KILL "$WPID" 2>/dev/null
	wait "$WPID" 2>/dev/null
	WRC=$?
	WPID=
}
CLEANUP_EXTRA+=("stop_watch"
	"docker ps -aq --filter label=$LBL | xargs -r docker rm -f"
	"docker network rm ${P}n2 ${P}n3"
	"'$LAB' down --docker --prefix $P")
T0=$SECONDS
if ! timeout 300 "$LAB" up --docker --prefix "$P" >"$TMPD/lab.log" 2>&1; then
	grep -q "one docker lab per machine" "$TMPD/lab.log" && skip "another docker lab is up"
	cat "$TMPD/lab.log"
	echo "FAIL: lab up"
	exit 1
fi
eval "$("$LAB" env --docker --prefix "$P")"
LAB_DOCKERD=$(cat /run/xdpctl-lab/dockerd.pid 2>/dev/null || true)
echo "lab up in $((SECONDS - T0)) s"

ok "attach the lab uplink" attach "$UPLINK" --engine tc --fast-path skip-firewall || finish

# The addresses Docker gives the lab's running containers (every network), sorted.
docker_addrs() {
	local ids
	ids=$(docker ps -q --filter "label=$LBL")
	[[ -n $ids ]] || return 0
	# shellcheck disable=SC2086
	docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{.GlobalIPv6Address}} {{end}}' $ids |
		tr ' ' '\n' | grep . | sort
}
table_addrs() { "$XDPCTL" -j bypass list | jq -r '.[].addr' | sort; }
# exact [EXTRA...]: the table holds the containers' addresses plus EXTRA, none stale.
exact() {
	local want got
	want=$( { docker_addrs; printf '%s\n' "$@"; } | grep . | sort)
	got=$(table_addrs)
	[[ $want == "$got" ]] || { echo "want: $(echo $want)"; echo "got:  $(echo $got)"; return 1; }
	"$XDPCTL" -j bypass list | jq -e 'all(.[]; .stale == false)' >/dev/null || { echo "a stale entry"; return 1; }
}
wait_exact() { # wait_exact SECONDS [EXTRA...]
	local t=$1 i
	shift
	for (( i = 0; i < t * 10; i++ )); do exact "$@" >/dev/null && return 0; sleep 0.1; done
	exact "$@"
}
# veth_of CONTAINER IFNAME: the host veth whose peer is that interface.
veth_of() {
	local idx
	idx=$(docker exec "$1" cat "/sys/class/net/$2/iflink") || return 1
	ip -j link show | jq -r ".[] | select(.ifindex == $idx) | .ifname"
}
rule_dev() { "$XDPCTL" -j bypass list | jq -r ".[] | select(.addr == \"$1\") | .dev"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
start_watch() {
	"$XDPCTL" docker watch --label "$LBL" "$@" >>"$TMPD/watch.log" 2>&1 &
	WPID=$!
}

# ---- sync: exact, a hand rule left alone ----
# The hand rule's veth is the test's own (peer in ${P}hns), so it outlives dockerd.
HAND=198.19.0.250
ip netns add "${P}hns"
ip link add "${P}hv" type veth peer name eth0 netns "${P}hns"
ip link set "${P}hv" up
ip -n "${P}hns" link set eth0 up
ok "a rule by hand" bypass add "$HAND" dev "${P}hv"
ok "docker sync" -j docker sync --label "$LBL" &&
	jcheck "sync added the lab's addresses" ".added >= 2 and .errors == 0"
CHECKS=$((CHECKS + 1)); exact "$HAND" >"$TMPD/e" || fail_check "table exact after sync" "$(cat "$TMPD/e")"
check "C1 on its veth" test "$(rule_dev "$C1_IP4")" == "$C1_VETH"
ok "sync again" -j docker sync --label "$LBL" && jcheck "nothing to do" ".added == 0 and .removed == 0 and .foreign == 0"

# ---- the watcher ----
start_watch --metrics-listen 127.0.0.1:0
CHECKS=$((CHECKS + 1)); wait_exact 10 "$HAND" >"$TMPD/e" || fail_check "watcher start: exact" "$(cat "$TMPD/e")"
RSS0=$(rss_kb "$WPID")
# Its /metrics: the state's counters and the watcher's own.
port=$(sed -n 's/^metrics  serving .* (port \([0-9]*\))$/\1/p' "$TMPD/watch.log")
curl -sf "http://127.0.0.1:$port/metrics" >"$TMPD/metrics" 2>&1
check "/metrics: the watcher owns the lab's addresses" grep -qx "xdpctl_watch_rules $(docker_addrs | grep -c .)" "$TMPD/metrics"
check "/metrics: connected to Docker" grep -qx "xdpctl_watch_docker_connected 1" "$TMPD/metrics"
check "/metrics: the state's counters too" grep -q "^xdpctl_" <(grep -v "^xdpctl_watch" "$TMPD/metrics")

# docker restart: back within 2 s of the container running, on the new veth, fast path.
docker restart -t 0 "$C1_NAME" >/dev/null
t_up=$(date +%s.%N)
newveth=$(veth_of "$C1_NAME" eth0)
for _ in $(seq 50); do [[ $(rule_dev "$C1_IP4") == "$newveth" ]] && break; sleep 0.1; done
t_ok=$(date +%s.%N)
dt=$(echo "$t_ok - $t_up" | bc)
echo "docker restart: entry back on $newveth after ${dt} s"
check "restart: entry on the new veth" test "$(rule_dev "$C1_IP4")" == "$newveth"
check "restart: within 2 s" test "$(echo "$dt <= 2" | bc)" -eq 1
check "restart: the fast path answers" in_ns "$CLIENT_NS" ping -q -c2 -i0.2 -W2 "$C1_IP4" >/dev/null
ok "counted" -j bypass list && jcheck "in_packets on the restarted container" ".[] | select(.addr == \"$C1_IP4\") | .in_packets >= 2"

# docker network connect: the second address on the second veth.
docker network create --driver bridge --subnet 198.19.1.0/24 --gateway 198.19.1.1 \
	-o "com.docker.network.bridge.name=${P}b2" --label "$LBL" "${P}n2" >/dev/null
docker network connect "${P}n2" "$C1_NAME"
A2=$(docker inspect -f "{{(index .NetworkSettings.Networks \"${P}n2\").IPAddress}}" "$C1_NAME")
V2=$(veth_of "$C1_NAME" eth1)
for _ in $(seq 30); do [[ -n $(rule_dev "$A2") ]] && break; sleep 0.1; done
check "connect: $A2 on the second veth $V2" test "$(rule_dev "$A2")" == "$V2"
check "connect: the first stays on eth0's veth" test "$(rule_dev "$C1_IP4")" == "$newveth"
# bypass add --container takes the veth of the address given, not the lowest ifindex.
ok "bypass del by hand" bypass del "$A2"
ok "bypass add --container, second network" -j bypass add "$A2" --container "$C1_NAME" &&
	jcheck "the veth of $A2" ".dev == \"$V2\""
docker network disconnect "${P}n2" "$C1_NAME"
for _ in $(seq 30); do [[ -z $(rule_dev "$A2") ]] && break; sleep 0.1; done
check "disconnect: $A2 gone" test -z "$(rule_dev "$A2")"
docker network rm "${P}n2" >/dev/null

# Opt-outs by label (a container, a network) and ping-pong by label.
docker run -d --label "$LBL" --label xdpctl.bypass=false --network "$LAB_DOCKER_NETWORK" \
	--name "${P}o" "$LAB_IMAGE" sleep 3600 >/dev/null
docker run -d --label "$LBL" --label xdpctl.pingpong=tc --network "$LAB_DOCKER_NETWORK" \
	--name "${P}p" "$LAB_IMAGE" sleep 3600 >/dev/null
docker network create --driver bridge --subnet 198.19.2.0/24 --gateway 198.19.2.1 \
	-o "com.docker.network.bridge.name=${P}b3" --label "$LBL" --label xdpctl.bypass=false "${P}n3" >/dev/null
docker network connect "${P}n3" "$C2_NAME"
AO=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$LAB_DOCKER_NETWORK\").IPAddress}}" "${P}o")
AP=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$LAB_DOCKER_NETWORK\").IPAddress}}" "${P}p")
A3=$(docker inspect -f "{{(index .NetworkSettings.Networks \"${P}n3\").IPAddress}}" "$C2_NAME")
pp_hooks() { "$XDPCTL" -j pingpong list | jq -r ".[] | select(.addr == \"$1\") | .hooks"; }
for _ in $(seq 30); do [[ -n $(rule_dev "$AP") && -n $(pp_hooks "$AP") ]] && break; sleep 0.1; done
check "pingpong label: bypass rule for $AP" test "$(rule_dev "$AP")" == "$(veth_of "${P}p" eth0)"
check "pingpong label: ping-pong rule for $AP, tc" test "$(pp_hooks "$AP")" == "tc"
check "container label xdpctl.bypass=false: no rule for $AO" test -z "$(rule_dev "$AO")"
check "network label xdpctl.bypass=false: no rule for $A3" test -z "$(rule_dev "$A3")"
docker rm -f "${P}o" "${P}p" >/dev/null
docker network disconnect "${P}n3" "$C2_NAME"
docker network rm "${P}n3" >/dev/null
for _ in $(seq 30); do [[ -z $(rule_dev "$AP") && -z $(pp_hooks "$AP") ]] && break; sleep 0.1; done
check "pingpong label: both rules gone with the container" test -z "$(rule_dev "$AP")$(pp_hooks "$AP")"

# docker rm -f: its entries go, the hand rule stays.
docker run -d --label "$LBL" --network "$LAB_DOCKER_NETWORK" --name "${P}x" "$LAB_IMAGE" sleep 3600 >/dev/null
AX=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$LAB_DOCKER_NETWORK\").IPAddress}}" "${P}x")
for _ in $(seq 30); do [[ -n $(rule_dev "$AX") ]] && break; sleep 0.1; done
check "run: $AX added" test "$(rule_dev "$AX")" == "$(veth_of "${P}x" eth0)"
docker rm -f "${P}x" >/dev/null
CHECKS=$((CHECKS + 1)); wait_exact 5 "$HAND" >"$TMPD/e" || fail_check "rm -f: exact" "$(cat "$TMPD/e")"
check "rm -f: $AX gone" test -z "$(rule_dev "$AX")"
check "the hand rule stays" test "$(rule_dev "$HAND")" == "${P}hv"
echo "restart, connect, rm -f done at $((SECONDS - T0)) s"

# ---- dockerd stopped and started under the watcher ----
if [[ -n $LAB_DOCKERD && -e /proc/$LAB_DOCKERD ]]; then
	# a static address: after a daemon restart the allocator starts again at .2, c1's
	docker run -d --restart always --label "$LBL" --network "$LAB_DOCKER_NETWORK" --name "${P}r" --ip 198.19.0.240 \
		--stop-signal KILL "$LAB_IMAGE" sleep 3600 >/dev/null
	CHECKS=$((CHECKS + 1)); wait_exact 5 "$HAND" >"$TMPD/e" || fail_check "restart-always container: exact" "$(cat "$TMPD/e")"
	T1=$SECONDS
	cp /run/xdpctl-lab/dockerd.pre "$TMPD/dockerd.pre"
	kill -TERM "$LAB_DOCKERD"
	for _ in $(seq 200); do [[ -e /proc/$LAB_DOCKERD ]] || break; sleep 0.1; done
	echo "dockerd stopped in $((SECONDS - T1)) s"
	sleep 1
	check "dockerd gone: the watcher runs on" test -e "/proc/$WPID"
	T1=$SECONDS
	# dockerd started again as the lab starts it (its pid file, so 'down' stops it);
	# the lab's own containers stay stopped, the restart-always one comes back.
	(
		LAB_PREFIX=$P
		LAB_SCRIPTS=$(cd "$(dirname "$LAB")" && pwd)
		. "$LAB_SCRIPTS/lib/lab_common.sh"
		. "$LAB_SCRIPTS/lib/lab_docker.sh"
		dockerd_start
	) >"$TMPD/lab2.log" 2>&1 || fail_check "dockerd start again" "$(tail -5 "$TMPD/lab2.log")"
	cp "$TMPD/dockerd.pre" /run/xdpctl-lab/dockerd.pre # Docker's chains were not there before the first
	LAB_DOCKERD=$(cat /run/xdpctl-lab/dockerd.pid 2>/dev/null || true)
	echo "dockerd restarted in $((SECONDS - T1)) s"
	CHECKS=$((CHECKS + 1)); wait_exact 15 "$HAND" >"$TMPD/e" || fail_check "after dockerd restart: exact" "$(cat "$TMPD/e")"
	check "the watcher said it reconnected" grep -q "reconnected to Docker" "$TMPD/watch.log"
	check "restart-always container on its new veth" test "$(rule_dev "$(docker inspect -f "{{(index .NetworkSettings.Networks \"$LAB_DOCKER_NETWORK\").IPAddress}}" "${P}r")")" == "$(veth_of "${P}r" eth0)"
else
	echo "SKIP: dockerd restart under the watcher: dockerd was running before the test (not ours to stop)"
fi
echo "dockerd part done at $((SECONDS - T0)) s"
# ---- the watcher killed -9, changes meanwhile, started again ----
kill -KILL "$WPID"; wait "$WPID" 2>/dev/null; WPID=
docker run -d --label "$LBL" --network "$LAB_DOCKER_NETWORK" --name "${P}k" "$LAB_IMAGE" sleep 3600 >/dev/null
docker rm -f "${P}r" >/dev/null 2>&1
start_watch
CHECKS=$((CHECKS + 1)); wait_exact 10 "$HAND" >"$TMPD/e" || fail_check "kill -9, restart: exact" "$(cat "$TMPD/e")"

# ---- 50 containers started and removed in batches ----
# (a sanitizer build, which runs the suite a second time: 2 batches of 5)
NB=5 BS=10
[[ ${XDPCTL_SANITIZED:-0} == 1 ]] && NB=2 BS=5
RSS1=$(rss_kb "$WPID")
T2=$SECONDS
for (( b = 1; b <= NB; b++ )); do
	pids=()
	for i in $(seq $BS); do
		docker run -d --label "$LBL" --network "$LAB_DOCKER_NETWORK" --name "${P}l$b$i" \
			"$LAB_IMAGE" sleep 3600 >/dev/null &
		pids+=($!)
	done
	wait "${pids[@]}"
	# shellcheck disable=SC2046
	docker rm -f $(seq -f "${P}l$b%g" 1 $BS) >/dev/null
done
CHECKS=$((CHECKS + 1)); wait_exact 10 "$HAND" >"$TMPD/e" || fail_check "$((NB * BS)) containers: exact" "$(cat "$TMPD/e")"
RSS2=$(rss_kb "$WPID")
echo "$((NB * BS)) containers in $((SECONDS - T2)) s; watcher RSS: ${RSS0} kB at start, ${RSS1} kB before the loop, ${RSS2} kB after"
# (ASan's quarantine keeps freed memory: RSS says nothing there, LeakSanitizer does at exit)
if [[ ${XDPCTL_SANITIZED:-0} != 1 ]]; then
	check "RSS flat (grew $((RSS2 - RSS1)) kB, at most 2048)" test $((RSS2 - RSS1)) -le 2048
fi
check "no errors in the watcher's log" bash -c "! grep -q '^error ' '$TMPD/watch.log'"

stop_watch
check "watcher: exit 0 on SIGTERM (no sanitizer or leak report)" test "$WRC" -eq 0
check "watcher log has adds and dels" grep -q "^del " "$TMPD/watch.log"
[[ $FAILS -gt 0 ]] && { echo "watcher log:"; tail -40 "$TMPD/watch.log"; }
ok "detach" detach "$UPLINK"
echo "checks done at $((SECONDS - T0)) s"
T3=$SECONDS
"$LAB" down --docker --prefix "$P" >>"$TMPD/lab.log" 2>&1 || echo "FAIL: lab down: $(tail -3 "$TMPD/lab.log")"
echo "lab down in $((SECONDS - T3)) s; total $((SECONDS - T0)) s"
finish
