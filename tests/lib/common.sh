# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
# The shell helpers every test script shares (tests/cli, tests/cni,
# tests/reliability): skips, commands in a namespace, checks that print only
# on failure, the verdict, and one cleanup on every exit (trap), also after a
# failure, Ctrl-C or meson's timeout.
#
# The sourcing script sets TEST_KIND (a word for the temp dir) first and may
# set, before or after: CLEANUP_EXTRA+=("command") for what it started,
# and cleanup_lab() (a function) for the lab it built; both run on exit,
# then the pin dir $PIN (when set) and $TMPD go. FAIL_SHOW_LAST=1: a failed
# check also shows the last command's exit code, stdout and stderr
# ($RC, $OUT, $ERR, as x() in tests/cli/lib.sh sets them).
set -uo pipefail

TMPD=$(mktemp -d "/tmp/xdpctl-${TEST_KIND:-test}-${P:-x}.XXXXXX")
CHECKS=0
FAILS=0
CLEANUP_EXTRA=()
FAIL_SHOW_LAST=${FAIL_SHOW_LAST:-0}

skip() { echo "SKIP: $*"; exit 77; }
need_root() { [[ $(id -u) -eq 0 ]] || skip "needs root${1:+ ($1)}"; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || skip "needs $1"; }

# in_ns NS COMMAND...: COMMAND in network namespace NS, keeping the mounts
# (bpffs); never 'ip netns exec', whose fresh /sys hides the pins.
# nsenter execs COMMAND, so `in_ns NS cmd &` gives $! of cmd itself only
# when called directly (use nsenter --net=... there, not the function).
in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@"; }

cleanup() {
	local f
	trap - EXIT
	for f in "${CLEANUP_EXTRA[@]}"; do
		eval "$f" >/dev/null 2>&1
	done
	if declare -F cleanup_lab >/dev/null; then
		cleanup_lab
	fi
	[[ -n ${PIN:-} && -d $PIN ]] && rm -rf "$PIN" 2>/dev/null
	rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

# ---- checks ----
# fail_check NAME [DETAIL...]: count a failure and say what it was.
fail_check() {
	FAILS=$((FAILS + 1))
	echo "FAIL: $1"
	shift
	[[ $# -gt 0 ]] && printf '  %s\n' "$@"
	if [[ $FAIL_SHOW_LAST -eq 1 ]]; then
		echo "  last command exit code: ${RC:-?}"
		echo "  stdout: ${OUT:-}" | head -20
		echo "  stderr: ${ERR:-}" | head -20
	fi
	return 0
}
pass_check() { CHECKS=$((CHECKS + 1)); [[ -n ${TEST_VERBOSE:-} ]] && echo "ok: $1"; return 0; }
# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
	local name=$1
	shift
	CHECKS=$((CHECKS + 1))
	"$@" && return 0
	fail_check "$name" "condition failed: $*"
	return 1
}
# check_eq NAME ACTUAL EXPECTED
check_eq() {
	CHECKS=$((CHECKS + 1))
	[[ $2 == "$3" ]] && return 0
	fail_check "$1" "got:      $2" "expected: $3"
	return 1
}
# check_match NAME TEXT REGEX
check_match() {
	CHECKS=$((CHECKS + 1))
	[[ $2 =~ $3 ]] && return 0
	fail_check "$1" "got:      $2" "expected to match: $3"
	return 1
}
# The verdict: exit 1 with the count of failures, else 0.
finish() {
	if [[ $FAILS -gt 0 ]]; then
		echo "FAILED: $FAILS of $CHECKS checks failed"
		exit 1
	fi
	echo "PASS: all $CHECKS checks passed"
	exit 0
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds, at most SECONDS
# (generous: the machine may be shared and slow; success returns at once).
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}
