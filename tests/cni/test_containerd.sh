#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# xdpctl-cni under a real runtime: a private containerd (its own --address,
# --root, --state and config under $TMPD) inside a node namespace, an image
# imported from busybox-static, and `ctr run --cni` with the conflist
# bridge + host-local + portmap + xdpctl-cni as the DaemonSet's node agent
# (deploy/kubernetes/xdpctl-node.sh) writes it, after it attached the
# uplink. TCP from a container to a client namespace takes the fast
# path (its entry's counters grow, the bridge does not see it); `ctr task
# kill` makes ctr run DEL through the chain and remove the container
# (--rm), which removes the entries; CHECK (with the runtime's cached
# result as prevResult) reports a removed veth.
#
# ctr runs the CNI plugins itself and reads only /etc/cni/net.d and
# /opt/cni/bin (go-cni's defaults), and libcni caches results in
# /var/lib/cni: each ctr runs in a private mount namespace with overlays on
# /etc, /opt and /var/lib, so nothing of this test lands on the machine.
source "$(dirname "$0")/lib.sh"
need_root
need_cni_plugins
for c in containerd ctr runc containerd-shim-runc-v2 unshare nsenter; do
	command -v "$c" >/dev/null || skip "no $c: install containerd and runc (scripts/install-deps.sh)"
done

SOCK=$TMPD/containerd.sock
NS=xdpctl-test
IMAGE=xdpctl.test/busybox:latest
CTRD_PID=
AGENT_PID=
RUN_PIDS=()

ctr_() { timeout 30 ctr -a "$SOCK" -n "$NS" "$@"; }

# Stop what this test started, each by its PID, then unmount and remove.
cni_cleanup() {
	local c p pid
	[[ -n $AGENT_PID ]] && kill "$AGENT_PID" 2>/dev/null
	if [[ -n $CTRD_PID ]]; then
		for c in "${P}c1" "${P}c2"; do
			ctr_ task kill -s KILL "$c" >/dev/null 2>&1
		done
		for pid in "${RUN_PIDS[@]}"; do
			for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill "$pid" 2>/dev/null
		done
		for c in "${P}c1" "${P}c2"; do
			ctr_ task delete -f "$c" >/dev/null 2>&1
			ctr_ container delete "$c" >/dev/null 2>&1
		done
		ctr_ image remove "$IMAGE" >/dev/null 2>&1
		# Shims this containerd started (their command line names our socket).
		for p in /proc/[0-9]*; do
			pid=${p#/proc/}
			[[ $pid == "$CTRD_PID" ]] && continue
			tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$SOCK" && kill "$pid" 2>/dev/null
		done
		kill "$CTRD_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$CTRD_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$CTRD_PID" 2>/dev/null
	fi
	findmnt -rn -o TARGET | grep -F -- "$TMPD/" | sort -r | while read -r m; do umount -l "$m"; done
}
CLEANUP_EXTRA+=(cni_cleanup)

node_up || { echo "FAIL: node setup"; exit 1; }
ip -n "$N" route add default via 198.18.0.2

# ---- a private containerd in the node's netns ----
mkdir -p "$TMPD/root" "$TMPD/state"
cat >"$TMPD/containerd.toml" <<'EOF'
version = 2
# ctr drives CNI itself; the CRI plugin would read the machine's CNI config.
disabled_plugins = ["io.containerd.grpc.v1.cri"]
EOF
nsenter --net="/run/netns/$N" containerd --config "$TMPD/containerd.toml" --address "$SOCK" \
	--root "$TMPD/root" --state "$TMPD/state" >"$TMPD/containerd.log" 2>&1 &
CTRD_PID=$!
wait_for 60 test -S "$SOCK"
check "containerd serves on its socket" test -S "$SOCK" || finish

# ---- an image from busybox-static, as a docker-archive tarball for ctr import ----
need_static_busybox_() {
	local bb
	for bb in /bin/busybox /usr/bin/busybox; do
		[[ -x $bb ]] && ! ldd "$bb" >/dev/null 2>&1 && { echo "$bb"; return 0; }
	done
	return 1
}
BB=$(need_static_busybox_) || skip "no static busybox: install busybox-static"
img=$TMPD/img
mkdir -p "$img"/root/{bin,etc,proc,sys,dev,tmp} "$img/arch"
cp "$BB" "$img/root/bin/busybox"
for a in $("$BB" --list); do
	[[ $a == busybox || $a == */* ]] || ln -s busybox "$img/root/bin/$a"
done
printf 'root:x:0:0:root:/:/bin/sh\n' >"$img/root/etc/passwd"
tar --numeric-owner --owner=0 --group=0 -C "$img/root" -cf "$img/layer.tar" .
layer=$(sha256sum "$img/layer.tar" | cut -d' ' -f1)
mkdir "$img/arch/$layer" && mv "$img/layer.tar" "$img/arch/$layer/layer.tar"
jq -nc --arg l "sha256:$layer" '{architecture: "amd64", os: "linux",
	config: {Env: ["PATH=/bin"], Cmd: ["/bin/sh"]}, rootfs: {type: "layers", diff_ids: [$l]}}' \
	>"$img/config.json"
cfg=$(sha256sum "$img/config.json" | cut -d' ' -f1)
mv "$img/config.json" "$img/arch/$cfg.json"
jq -nc --arg c "$cfg.json" --arg t "$IMAGE" --arg l "$layer/layer.tar" \
	'[{Config: $c, RepoTags: [$t], Layers: [$l]}]' >"$img/arch/manifest.json"
tar -C "$img/arch" -cf "$img/image.tar" .
ctr_ image import "$img/image.tar" >"$TMPD/import.log" 2>&1
check "ctr image import of the busybox-static image" grep -q "$IMAGE" <(ctr_ image ls -q) || finish

# ---- the CNI configuration ctr will find: the cluster network's, and ----
# ---- the DaemonSet's node agent chaining xdpctl-cni onto it          ----
mkdir -p "$TMPD/cni/net.d" "$TMPD/cni/bin"
for p in bridge host-local portmap; do ln -s "$CNI_BIN/$p" "$TMPD/cni/bin/$p"; done
bridge_conf | jq -c '{cniVersion, name, plugins: [del(.cniVersion, .name),
	{type: "portmap", capabilities: {portMappings: true}}]}' >"$TMPD/cni/net.d/10-bridge.conflist"
nsenter --net="/run/netns/$N" env PATH="$(dirname "$XDPCTL"):$PATH" \
	CNI_BIN_DIR="$TMPD/cni/bin" CNI_CONF_DIR="$TMPD/cni/net.d" XDPCTL_PIN_DIR="$PIN" \
	XDPCTL_CNI_BINARY="$CNI_PLUGIN" XDPCTL_CNI_LOG_LEVEL=info XDPCTL_INTERVAL=5 \
	sh "$(dirname "$0")/../../deploy/kubernetes/xdpctl-node.sh" >"$TMPD/agent.log" 2>&1 &
AGENT_PID=$!
wait_for 60 test -e "$TMPD/cni/net.d/00-xdpctl.conflist"
check "the node agent attached the uplink and chained xdpctl-cni" \
	jqt '[.plugins[].type] == ["bridge", "portmap", "xdpctl-cni"]' \
	"$TMPD/cni/net.d/00-xdpctl.conflist" || { cat "$TMPD/agent.log"; finish; }

# In a private mount namespace: overlays (per call, their upper dirs under
# $TMPD) with our conflist and plugins in the places ctr reads.
cat >"$TMPD/inns.sh" <<'EOF'
#!/bin/sh
set -e
t=$1 ov=$2
shift 2
for d in etc opt var/lib; do
	u=$ov/$(echo "$d" | tr / _)
	mkdir -p "$u/up" "$u/work"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$u/up,workdir=$u/work" "/$d"
done
mkdir -p /etc/cni/net.d /opt/cni/bin
mount --bind "$t/cni/net.d" /etc/cni/net.d
mount --bind "$t/cni/bin" /opt/cni/bin
exec "$@"
EOF
chmod +x "$TMPD/inns.sh"

# run_ctr NAME: `ctr run --cni --rm` in the background (the foreground ctr
# runs ADD before the task starts and DEL after it exits).
run_ctr() {
	mkdir -p "$TMPD/ov-$1"
	unshare --mount --propagation private "$TMPD/inns.sh" "$TMPD" "$TMPD/ov-$1" \
		nsenter --net="/run/netns/$N" \
		ctr -a "$SOCK" -n "$NS" run --cni --rm --null-io "$IMAGE" "$1" httpd -f -p 8080 -h /bin \
		>"$TMPD/ctr-$1.log" 2>&1 &
	RUN_PIDS+=($!)
}
task_pid() { ctr_ task ls 2>/dev/null | awk -v c="$1" '$1 == c && $3 == "RUNNING" {print $2}'; }
running() { [[ -n $(task_pid "$1") ]]; }

run_ctr "${P}c1"
check "ctr run --cni ${P}c1: running" wait_for 60 running "${P}c1" ||
	{ cat "$TMPD/ctr-${P}c1.log"; tail -5 "$TMPD/containerd.log"; finish; }
run_ctr "${P}c2"
check "ctr run --cni ${P}c2: running" wait_for 60 running "${P}c2" ||
	{ cat "$TMPD/ctr-${P}c2.log"; finish; }

# What the containers got, read from their own netns.
for i in 1 2; do
	pid=$(task_pid "${P}c$i")
	cip[i]=$(nsenter --net="/proc/$pid/ns/net" ip -4 -j addr show dev eth0 | jq -r '.[0].addr_info[0].local')
	cmac[i]=$(nsenter --net="/proc/$pid/ns/net" ip -j link show dev eth0 | jq -r '.[0].address')
	peer=$(nsenter --net="/proc/$pid/ns/net" ip -j link show dev eth0 | jq -r '.[0].link_index')
	cveth[i]=$(ip -n "$N" -j link show | jq -r --argjson i "$peer" '.[] | select(.ifindex == $i) | .ifname')
done
ok "list" -n "$N" -j bypass list &&
	jcheck "ADD registered both containers: address, host veth, MAC" \
		"length == 2 and (map(select(.addr == \"${cip[1]}\" and .dev == \"${cveth[1]}\" and .mac == \"${cmac[1]}\")) | length == 1) and (map(select(.addr == \"${cip[2]}\" and .dev == \"${cveth[2]}\" and .mac == \"${cmac[2]}\")) | length == 1)"
check "the host veths are ports of the CNI bridge" \
	test "$(ip -n "$N" -j link show dev "${cveth[1]}" | jq -r '.[0].master')" = "${P}br"

# ---- traffic to c1 takes the fast path ----
# TCP, both ways: the container's httpd sends its own busybox (2 MB) to the
# client. Not ICMP: a conntrack-following fast path forwards established
# TCP/UDP flows only, and leaves their first packets to the kernel (and
# the bridge), hence nine tenths. Bytes, not packets: the veths hand over
# GSO packets of up to 64 KB.
br_bytes() { ip -n "$N" -s -j link show dev "${P}br" | jq '.[0].stats64 | .rx.bytes + .tx.bytes'; }
rule_bytes() { "$XDPCTL" -n "$N" -j bypass list | jq --arg a "${cip[1]}" '.[] | select(.addr == $a) | .in_bytes + .out_bytes'; }
br0=$(br_bytes)
r0=$(rule_bytes)
check "the client fetches 2 MB over TCP from ${P}c1" \
	in_ns "${P}cl" curl -s --max-time 20 -o "$TMPD/got" "http://${cip[1]}:8080/busybox"
check "  intact" cmp -s "$TMPD/got" "$BB"
br1=$(br_bytes)
r1=$(rule_bytes)
size=$(stat -c %s "$BB")
check "the entry's counters carried it ($((r1 - r0)) bytes for $size)" \
	test $((r1 - r0)) -ge $((size * 9 / 10))
check "the bridge did not (+$((br1 - br0)) bytes)" test $((br1 - br0)) -lt $((size / 10))
echo "fast path: ${P}c1 ${cip[1]}: entry +$((r1 - r0)) bytes, bridge ${P}br +$((br1 - br0)) bytes"

# ---- CHECK with the runtime's cached result, as libcni passes it ----
for i in 1 2; do
	cache=$(find "$TMPD/ov-${P}c$i" -path '*/cni/results/*' -type f | head -1)
	check "libcni cached ${P}c$i's result" test -n "$cache" || continue
	jq -c --arg pin "$PIN" --arg net "${P}net" '.result as $r |
		{cniVersion: "1.0.0", name: $net, type: "xdpctl-cni", pinDir: $pin, prevResult: $r}' \
		"$cache" >"$TMPD/check$i.json"
done
cni_ok "CHECK ${P}c1" CHECK "$TMPD/check1.json" CNI_CONTAINERID="$NS-${P}c1" \
	CNI_NETNS="/proc/$(task_pid "${P}c1")/ns/net"
c2pid=$(task_pid "${P}c2")
cni_ok "CHECK ${P}c2" CHECK "$TMPD/check2.json" CNI_CONTAINERID="$NS-${P}c2" \
	CNI_NETNS="/proc/$c2pid/ns/net"
ip -n "$N" link del "${cveth[2]}"
cni_err "CHECK ${P}c2 after its host veth was removed: code 104" 104 CHECK "$TMPD/check2.json" \
	CNI_CONTAINERID="$NS-${P}c2" CNI_NETNS="/proc/$c2pid/ns/net" &&
	check "  names the veth" grep -q "${cveth[2]}" <<<"$OUT"

# ---- ctr task kill: ctr runs DEL and removes the containers ----
ctr_ task kill -s KILL "${P}c1" >/dev/null
ctr_ task kill -s KILL "${P}c2" >/dev/null
all_ended() {
	local pid
	for pid in "${RUN_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && return 1; done
	return 0
}
check "both ctr run processes ended" wait_for 60 all_ended
check "--rm removed both containers" test -z "$(ctr_ container ls -q)"
check "DEL ran through the chain (xdpctl-cni logged it)" grep -q "${cip[1]} removed" "$TMPD/ctr-${P}c1.log"
ok "list" -n "$N" -j bypass list && jcheck "DEL removed both entries" 'length == 0'
ok "status" -n "$N" -j status &&
	jcheck "only the uplink is left (veth setup undone)" "length == 1 and .[0].dev == \"${P}up\""
check "libcni's cache entries are gone" \
	test -z "$(find "$TMPD"/ov-* -path '*/cni/results/*' -type f)"
finish
