#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The test command: install dependencies, build, run every test suite
# (unit, cli, e2e, ...) and print one closing line "N passed, N failed".
# Usage: scripts/test.sh [meson test arguments, e.g. --suite unit]
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=${XDPCTL_BUILD_DIR:-$top/build}

if [ "$(id -u)" -ne 0 ]; then
	echo "Error: the tests load BPF programs and build network namespaces: run as root." >&2
	exit 1
fi

scripts/install-deps.sh || { echo "Error: installing dependencies failed" >&2; exit 1; }

if [ -f "$build/build.ninja" ]; then
	meson setup --reconfigure "$build" >/dev/null || exit 1
else
	meson setup "$build" >/dev/null || exit 1
fi
meson compile -C "$build" || { echo "0 passed, 1 failed"; echo "Error: build failed" >&2; exit 1; }

# Network-namespace tests share the machine: run one test at a time.
meson test -C "$build" --num-processes 1 --print-errorlogs "$@"
rc=$?
logs=("$build/meson-logs/testlog.json")

# The library and CLI tests once more under ASan and UBSan (the tests fail
# on any sanitizer report). XDPCTL_NO_SANITIZE=1 leaves this out.
asan_rc=0
if [ $# -eq 0 ] && [ -z "${XDPCTL_NO_SANITIZE:-}" ]; then
	asan=${XDPCTL_ASAN_BUILD_DIR:-$top/build-asan}
	if [ -f "$asan/build.ninja" ]; then
		meson setup --reconfigure "$asan" >/dev/null
	else
		meson setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	fi && meson compile -C "$asan" >/dev/null &&
		meson test -C "$asan" --num-processes 1 --print-errorlogs --suite cli --suite dataplane --suite cni
	asan_rc=$?
	[ -s "$asan/meson-logs/testlog.json" ] && logs+=("$asan/meson-logs/testlog.json")
	[ "$asan_rc" -ne 0 ] && rc=$asan_rc
fi

for log in "${logs[@]}"; do
	if [ ! -s "$log" ]; then
		echo "0 passed, 1 failed"
		echo "Error: no test log at $log" >&2
		exit 1
	fi
done
python3 - "$rc" "${logs[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[2:]:
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line).get("result", "")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
rc = int(sys.argv[1])
if rc != 0 and failed == 0:
    failed = 1  # meson itself (or the sanitizer build) failed
out = f"{passed} passed, {failed} failed"
if skipped:
    out += f", {skipped} skipped"
print(out)
sys.exit(1 if failed or passed == 0 else 0)
PY
