#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The long mode of the reliability work (docs/reliability.md): the
# reliability suite with the bigger counts (REL_LONG=1: 100,000 churned
# rules plus 20,000 through xdpctl at 5,000 pps per flow, kill -9 in a bulk
# load of 1,000,000 rules until 6 kills landed mid-store), then every
# libFuzzer target of user input for 60 s.
#
#   scripts/reliability-long.sh [BUILD_DIR]      (root; default: build-reliability)
#
# Prints each test's verdict and log, and one closing line
# "reliability long mode: N passed, N failed". About 10-15 minutes here.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=${1:-$top/build-reliability}
fuzz_seconds=${REL_FUZZ_SECONDS:-60}

if [[ $(id -u) -ne 0 ]]; then
	echo "Error: the reliability tests build namespaces and load BPF programs: run as root" >&2
	exit 1
fi
if [[ -f $build/build.ninja ]]; then
	meson setup --reconfigure "$build" >/dev/null || exit 1
else
	meson setup "$build" >/dev/null || exit 1
fi
meson compile -C "$build" >/dev/null || { echo "Error: build failed (meson compile -C $build)" >&2; exit 1; }

passed=0 failed=0
REL_LONG=1 meson test -C "$build" --suite reliability --num-processes 1 --timeout-multiplier 6 \
	--print-errorlogs --verbose
rc=$?
log=$build/meson-logs/testlog.json
if [[ -s $log ]]; then
	passed=$(grep -c '"result": "OK"' "$log")
	failed=$(grep -cvE '"result": "(OK|SKIP)"' "$log")
fi
[[ $rc -eq 0 ]] || [[ $failed -gt 0 ]] || failed=1

tests/fuzz/run-libfuzzer.sh -B "$build" -t "$fuzz_seconds" all
case $? in
0) passed=$((passed + 1)) ;;
77) echo "libFuzzer targets skipped (no clang with -fsanitize=fuzzer)" ;;
*) failed=$((failed + 1)) ;;
esac
echo "reliability long mode: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
