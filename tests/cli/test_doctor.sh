#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# xdpctl doctor on real namespaces and veths (each trap made real, then
# seen and named with its fix); docker sync | watch when Docker does not
# answer or its socket is not root's (no daemon is started here: the
# socket paths are the test's own); the systemd unit that meson installs.
source "$(dirname "$0")/lib.sh"
need_root

# ---- doctor without any state ----
ok "doctor, no state" doctor
check "bpffs ok" grep -Eq "^ok +bpffs " <<<"$OUT"
check "no state: device checks skipped" grep -Eq "^skip +veth-peer-programs +no xdpctl state" <<<"$OUT"
check "conntrack kfuncs found in BTF" grep -Eq "^ok +conntrack-kfuncs " <<<"$OUT"
check "a summary" grep -Eq "^[0-9]+ ok, [0-9]+ warnings, [0-9]+ failed, [0-9]+ skipped$" <<<"$OUT"
ok "doctor -j" -j doctor &&
	jcheck "seven checks, each with a status" 'length == 7 and all(.[]; (.status | IN("ok","warn","fail","skip")) and (.check | length > 0))'
jcheck "a fix for every warn/fail" 'all(.[] | select(.status == "warn" or .status == "fail"); .fix | length > 0)'

# ---- doctor on a lab: XDP engine, a bypassed veth ----
lab_up || { echo "FAIL: lab setup"; exit 1; }
ok "attach, XDP engine" -n "$H" attach "${P}up" --engine xdp --fast-path skip-firewall || finish
ok "bypass rule" -n "$H" bypass add 198.19.0.2 dev "${P}v1"
ok "doctor, all well" -n "$H" -j doctor &&
	jcheck "peer program there" '.[] | select(.check == "veth-peer-programs") | .status == "ok"' &&
	jcheck "client side like a wire" '.[] | select(.check == "veth-uplink-checksum") | .status == "ok"'
# The traps, made real: the peer loses its XDP program; the uplink's far end offloads checksums.
ip -n "${P}c1" link set eth0 xdp off
in_ns "${P}cl" ethtool -K eth0 tx on >/dev/null 2>&1
ok "doctor sees both" -n "$H" doctor
check "peer program missing, named" grep -Eq "^fail +veth-peer-programs +1 of 1 bypassed veths \(first: ${P}v1\)" <<<"$OUT"
check "its fix" grep -q "fix: re-add its rules" <<<"$OUT"
check "checksum offload, named" grep -Eq "^warn +veth-uplink-checksum +uplink ${P}up \(peer eth0 in /run/netns/${P}cl\) has tx checksum offload on" <<<"$OUT"
check "its fix" grep -q "fix: 'ethtool -K PEER tx off'" <<<"$OUT"
in_ns "${P}cl" ethtool -K eth0 tx off >/dev/null 2>&1

# ---- the Docker socket: not answering, not root's ----
sock=$TMPD/docker.sock
export DOCKER_HOST=unix://$sock
ok "doctor: Docker away" -n "$H" -j doctor &&
	jcheck "a warning, not a failure" '.[] | select(.check == "docker-socket") | .status == "warn"'
bad "sync, Docker away" "^Error: Docker does not answer on $sock \(no socket there\): start dockerd, then run 'xdpctl docker sync' again$" \
	-n "$H" docker sync
# The watcher waits for Docker (a service may start first) and stops on SIGTERM.
"$XDPCTL" -n "$H" docker watch >"$TMPD/w.out" 2>"$TMPD/w.err" &
wpid=$!
sleep 1
check "watch waits for Docker" test -e "/proc/$wpid"
kill -TERM "$wpid"
wait "$wpid"
wrc=$?
check "watch: exit 0 on SIGTERM" test "$wrc" -eq 0
check "watch said it retries" grep -q "^docker   Docker does not answer on $sock (no socket there): retrying" "$TMPD/w.out"
bad "watch: bad --metrics-listen" "^Error: --metrics-listen: nowhere: expected ADDR:PORT" \
	-n "$H" docker watch --metrics-listen nowhere
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock"
chown 65534 "$sock"
bad "sync: socket not root's" "^Error: socket $sock is owned by uid 65534, not root: a socket not owned by root could answer for the daemon" \
	-n "$H" docker sync
ok "doctor: socket not root's" -n "$H" -j doctor &&
	jcheck "a failure with its fix" '.[] | select(.check == "docker-socket") | .status == "fail" and (.fix | test("DOCKER_HOST"))'
bad "watch: socket not root's" "^Error: socket $sock is owned by uid 65534, not root" -n "$H" docker watch
bad "watch: bad --label" "^Error: --label '=x': expected KEY or KEY=VALUE" -n "$H" docker watch --label =x
unset DOCKER_HOST
ok "detach" -n "$H" detach "${P}up"

# ---- the systemd unit, installed by meson install ----
if [[ -n ${XDPCTL_BUILD_DIR:-} ]]; then
	CHECKS=$((CHECKS + 1))
	if meson install -C "$XDPCTL_BUILD_DIR" --destdir "$TMPD/inst" >"$TMPD/inst.log" 2>&1; then
		unit=$(find "$TMPD/inst" -name xdpctl-docker.service)
		check "unit installed under lib/systemd/system" grep -q "/lib/systemd/system/xdpctl-docker.service$" <<<"$unit"
		check "unit runs the installed xdpctl" grep -Eq "^ExecStart=/.*/bin/xdpctl docker watch" "$unit"
		check "and the binary is there" test -x "$TMPD/inst$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit")"
	else
		fail_check "meson install" "$(tail -5 "$TMPD/inst.log")"
	fi
fi
finish
