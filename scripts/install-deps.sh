#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install what xdpctl needs to build, test and run its lab on Debian 12,
# and mount bpffs and tracefs when missing. Idempotent; run as root.
set -euo pipefail

PKGS=(
	# build
	clang llvm meson ninja-build pkg-config gcc libc6-dev
	libbpf-dev libxdp-dev libelf-dev zlib1g-dev linux-libc-dev bpftool
	libjson-c-dev
	# the Docker Engine API client (HTTP on the daemon's unix socket)
	libcurl4-openssl-dev
	# run and test: the lab, traffic, inspection
	iproute2 iputils-ping iptables ethtool netcat-openbsd socat iperf3
	tcpdump jq python3 xdp-tools busybox-static kmod procps psmisc bc curl
	# capture (pcap files), the metrics endpoint, its check, the README plot
	libpcap-dev libmicrohttpd-dev prometheus gnuplot-nox
	# the Docker lab (dockerd 20.10; images are imported from busybox-static)
	docker.io nftables
	# the CNI plugin's checks: containerd (ctr) and the reference plugins
	containerd runc containernetworking-plugins
	# the conntrack fast path tests read and check entries with conntrack(8)
	conntrack
)

if [ "$(id -u)" -ne 0 ]; then
	echo "Error: install-deps.sh needs root (apt-get, mounting bpffs): run it with sudo." >&2
	exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bpffs for pinned maps and libxdp; tracefs for path diff and trace checks.
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
exit 0
