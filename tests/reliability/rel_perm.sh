#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rel-perm: xdpctl without privileges, and the modes of what it pins.
#   - A temporary system user (xdpctl-test-PID, removed at the end) running
#     each command that needs privileges gets exactly one line on stderr,
#     "Error: needs root (CAP_BPF and CAP_NET_ADMIN)", no library output, a
#     non-zero exit, and with -j a JSON error object on stdout instead; help
#     and version still work. So does a user holding CAP_NET_ADMIN only.
#   - After an attach by root, the pin dir is 0700 and every pinned map
#     0600, owned by root, and the user can neither list the dir nor open a
#     map through bpftool.
. "$(dirname "$0")/lib.sh"

need_root
need_cmd useradd
need_cmd runuser
need_cmd setpriv
need_cmd jq
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || skip "no bpffs at /sys/fs/bpf"

USER_NAME=xdpctl-test-$$
useradd -M -r -s /usr/sbin/nologin -d /nonexistent "$USER_NAME" || { fail_check "useradd $USER_NAME"; finish; }
CLEANUP_EXTRA+=("userdel $USER_NAME")
NS=${P}perm
ip netns add "$NS" || { fail_check "ip netns add $NS"; finish; }
CLEANUP_EXTRA+=("ip netns del $NS")
ip -n "$NS" link add "${P}a" type veth peer name "${P}b"
ip -n "$NS" link set "${P}a" up && ip -n "$NS" link set "${P}b" up
chmod 0755 "$TMPD" # the user runs xdpctl with its output files there
# The user may not be able to enter the checkout (a clone under /root or in a
# 'mktemp -d'): it runs a copy of the binary from the test's own directory.
UXDPCTL=$TMPD/xdpctl
cp "$XDPCTL" "$UXDPCTL" && chmod 0755 "$UXDPCTL" || { fail_check "copying $XDPCTL"; finish; }

# as_user ARGS...: xdpctl as the unprivileged user; $RC, $OUT, $ERR.
as_user() {
	timeout 60 runuser -u "$USER_NAME" -- env XDPCTL_PIN_DIR="$PIN" "$UXDPCTL" "$@" \
		>"$TMPD/uout" 2>"$TMPD/uerr"
	RC=$?; OUT=$(cat "$TMPD/uout"); ERR=$(cat "$TMPD/uerr")
}
# as_netadmin ARGS...: as the user with CAP_NET_ADMIN (and nothing else) in effect.
as_netadmin() {
	timeout 60 setpriv --reuid "$USER_NAME" --regid "$USER_NAME" --clear-groups \
		--inh-caps -all,+net_admin --ambient-caps +net_admin \
		env XDPCTL_PIN_DIR="$PIN" "$UXDPCTL" "$@" >"$TMPD/uout" 2>"$TMPD/uerr"
	RC=$?; OUT=$(cat "$TMPD/uout"); ERR=$(cat "$TMPD/uerr")
}

NEEDS_ROOT='Error: needs root (CAP_BPF and CAP_NET_ADMIN)'
CMDS=(
	"attach xdpctlnodev0"
	"attach xdpctlnodev0 --engine tc --mode native"
	"detach xdpctlnodev0"
	"status"
	"bypass add 198.19.0.2 dev xdpctlnodev0"
	"bypass del 198.19.0.2"
	"bypass list"
	"bypass load /dev/null"
	"pingpong add 198.19.0.3"
	"pingpong list"
	"stats"
	"stats --rules"
	"trace --count 1 --timeout 1"
	"path diff true true"
	"-n $NS status"
	"-v status"
)
for runner in as_user as_netadmin; do
	for cmd in "${CMDS[@]}"; do
		# shellcheck disable=SC2086
		$runner $cmd
		check "$runner xdpctl $cmd: exit non-zero" test "$RC" -ne 0
		check "$runner xdpctl $cmd: not a crash (exit $RC)" test "$RC" -lt 128
		check_eq "$runner xdpctl $cmd: one line" "$ERR" "$NEEDS_ROOT"
		check_eq "$runner xdpctl $cmd: nothing on stdout" "$OUT" ""
	done
	# shellcheck disable=SC2086
	$runner -j bypass list
	check "$runner xdpctl -j bypass list: exit non-zero" test "$RC" -ne 0
	check_eq "$runner xdpctl -j bypass list: the error as JSON on stdout" \
		"$(jq -r .error <<<"$OUT" 2>&1)" "${NEEDS_ROOT#Error: }"
	check_eq "$runner xdpctl -j bypass list: nothing on stderr" "$ERR" ""
	$runner help
	check_eq "$runner xdpctl help: works" "$RC" 0
	$runner version
	check_eq "$runner xdpctl version: works" "$RC" 0
done

# What root pins is root's alone.
timeout 60 "$XDPCTL" -n "$NS" --pin-dir "$PIN" attach "${P}a" --engine tc >/dev/null 2>"$TMPD/err" ||
	fail_check "root: attach" "$(cat "$TMPD/err")"
check_eq "pin dir $PIN: mode and owner" "$(stat -c '%a %U' "$PIN")" "700 root"
n=0
for f in "$PIN"/*; do
	n=$((n + 1))
	check_eq "pinned $(basename "$f"): mode and owner" "$(stat -c '%a %U' "$f")" "600 root"
done
check "the attach pinned the maps ($n)" test "$n" -ge 7
as_user status
check_eq "the user, after the attach: still one line" "$ERR" "$NEEDS_ROOT"
runuser -u "$USER_NAME" -- ls "$PIN" >/dev/null 2>&1
check_eq "the user cannot list the pin dir" "$?" 2
runuser -u "$USER_NAME" -- bpftool map show pinned "$PIN/xdpctl_bypass" >/dev/null 2>&1
check "the user cannot open a pinned map with bpftool" test "$?" -ne 0
timeout 60 "$XDPCTL" -n "$NS" --pin-dir "$PIN" detach "${P}a" >/dev/null 2>&1
finish
