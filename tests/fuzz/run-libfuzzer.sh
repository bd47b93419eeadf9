#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build and run the libFuzzer targets of user input (tests/fuzz/fuzz_*.c):
# the library and CLI sources are compiled again with clang and
# -fsanitize=fuzzer,address,undefined (flags taken from the meson build's
# compile_commands.json, so the HAVE_* probes and include paths match), each
# target runs for SECONDS with its seeds from tests/corpus/user/TARGET.
#
#   tests/fuzz/run-libfuzzer.sh [-B BUILD_DIR] [-t SECONDS] [-j] TARGET... | all
#
#   -B DIR   meson build dir with the skeletons (default: $MESON_BUILD_ROOT or build)
#   -t N     seconds per target (default 10; the long mode uses 60)
#   -r FILE  replay one input (a crash artifact) against TARGET and exit
#
# Outputs under BUILD_DIR/tests/fuzz/libfuzzer: bin/, obj/, corpus/TARGET (the
# growing working corpus), artifacts/TARGET (crashes), TARGET.log.
# Exit: 0 every target ran clean, 1 a crash/sanitizer report/build error,
# 77 nothing could run (no clang with -fsanitize=fuzzer, or not root for a
# target that needs it).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MESON_BUILD_ROOT:-$top/build}
seconds=10
replay=
targets=()
all_targets=(fuzz_addr fuzz_mac fuzz_cli fuzz_rulefile fuzz_docker)

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
while (( $# > 0 )); do
	case $1 in
	-B) build=$2; shift ;;
	-t) seconds=$2; shift ;;
	-r) replay=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	all) targets+=("${all_targets[@]}") ;;
	fuzz_*) targets+=("$1") ;;
	*) echo "Error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[[ ${#targets[@]} -gt 0 ]] || { usage >&2; exit 2; }
[[ $seconds =~ ^[0-9]+$ ]] || { echo "Error: -t: expected seconds, got '$seconds'" >&2; exit 2; }
build=$(cd "$build" 2>/dev/null && pwd) || { echo "Error: no build dir $build" >&2; exit 1; }
ccj=$build/compile_commands.json
[[ -s $ccj ]] || { echo "Error: $ccj missing: run meson setup first" >&2; exit 1; }

out=$build/tests/fuzz/libfuzzer
mkdir -p "$out/obj" "$out/bin"
CLANG=${CLANG:-clang}

# ---- can this clang build a fuzzer at all? ----
probe=$out/probe.c
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined "$probe" -o "$out/probe" >/dev/null 2>&1; then
	echo "SKIP: $CLANG cannot build -fsanitize=fuzzer,address,undefined (install clang and libclang-rt-dev)"
	exit 77
fi

SAN=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1)
# the libraries the meson build links: keep in step with dataplane/ and ctl/ meson.build
LIBS=$(pkg-config --libs libbpf libxdp libelf zlib libmicrohttpd libpcap libcurl json-c 2>/dev/null ||
	echo "-lbpf -lxdp -lelf -lz -lmicrohttpd -lpcap -lcurl -ljson-c")

# ---- compile the library and CLI sources (once per change, under a lock) ----
# Prints "SRC<TAB>OBJ<TAB>flags..." for every dataplane/ and ctl/ source meson builds.
list_sources() {
	python3 - "$ccj" "$top" <<'PY'
import json, os, shlex, sys
ccj, top = sys.argv[1], sys.argv[2]
for e in json.load(open(ccj)):
    src = os.path.normpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(src, top)
    if not (rel.startswith("dataplane/") or rel.startswith("ctl/")):
        continue
    args = e.get("arguments") or shlex.split(e["command"])
    keep = []
    for a in args:
        if a.startswith("-I"):
            p = a[2:]
            keep.append("-I" + os.path.normpath(os.path.join(e["directory"], p)))
        elif a.startswith("-D") or a.startswith("-std="):
            keep.append(a)
    print(src + "\t" + rel.replace("/", "_")[:-2] + ".o\t" + "\t".join(keep))
PY
}

compile_all() {
	local newest src obj line jobs=$out/compile.jobs
	local -a fl flags f
	# Newest header anywhere the sources look (ABI, library, CLI, skeletons).
	newest=$(find "$top/bpf" "$top/dataplane" "$top/ctl" "$build/bpf" -name '*.h' -printf '%T@\n' 2>/dev/null |
		sort -n | tail -1)
	newest=${newest%.*}
	: >"$jobs"
	while IFS= read -r line; do
		IFS=$'\t' read -r -a fl <<<"$line"
		src=${fl[0]}; obj=$out/obj/${fl[1]}; flags=("${fl[@]:2}")
		if [[ -f $obj && $(stat -c %Y "$obj") -gt $(stat -c %Y "$src") && $(stat -c %Y "$obj") -gt ${newest:-0} ]]; then
			continue
		fi
		f=()
		# The CLI's main() becomes a function the fuzzers call.
		[[ $src == */ctl/main.c ]] && f=(-Dmain=xdpctl_main)
		# One shell-quoted command per line; a failure leaves its log in OBJ.err.
		printf '%q ' "$CLANG" -c "${SAN[@]}" -fsanitize=fuzzer-no-link -Wall -Wextra \
			-Wno-unused-parameter "${flags[@]}" "${f[@]}" "$src" -o "$obj.tmp" >>"$jobs"
		printf '2>%q && mv %q %q\n' "$obj.err" "$obj.tmp" "$obj" >>"$jobs"
	done < <(list_sources)
	if [[ -s $jobs ]] && ! xargs -d '\n' -P "$(nproc)" -n 1 sh -c <"$jobs"; then
		echo "Error: compiling the sources for the fuzzers failed:" >&2
		cat "$out"/obj/*.err >&2
		return 1
	fi
	rm -f "$out"/obj/*.err
	# Objects of sources meson no longer builds must not be linked.
	list_sources | cut -f2 | sort >"$out/objs.list"
}

exec 9>"$out/lock"
flock -w 600 9 || { echo "Error: cannot lock $out/lock" >&2; exit 1; }
compile_all || exit 1

objs_of() { # objs_of dataplane|ctl
	local o
	while read -r o; do
		[[ $o == "$1"_* ]] && printf '%s\n' "$out/obj/$o"
	done <"$out/objs.list"
}

link_target() {
	local t=$1 src=$top/tests/fuzz/$1.c bin=$out/bin/$1
	local -a objs
	mapfile -t objs < <(objs_of dataplane)
	case $t in
	fuzz_cli|fuzz_rulefile)
		if ! grep -q '^ctl_main.o$' "$out/objs.list"; then
			echo "SKIP: $t: the build has no ctl/main.c (xdpctl not built yet)"
			return 77
		fi
		mapfile -t -O "${#objs[@]}" objs < <(objs_of ctl) ;;
	esac
	# Include paths of the library (dataplane.h, abi.h) for the target itself.
	local inc
	inc=$(list_sources | awk -F'\t' '$2 == "dataplane_util.o" { for (i = 3; i <= NF; i++) printf "%s ", $i }')
	# shellcheck disable=SC2086
	if ! "$CLANG" "${SAN[@]}" -fsanitize=fuzzer -Wall -Wextra -Werror $inc -I"$top/ctl" \
		"$src" "${objs[@]}" -o "$bin.tmp" $LIBS -lm 2>"$out/link.err"; then
		echo "Error: building $t failed:" >&2
		cat "$out/link.err" >&2
		return 1
	fi
	mv "$bin.tmp" "$bin"
}

needs_root() { [[ $1 == fuzz_rulefile ]]; }

run_target() {
	local t=$1 bin=$out/bin/$1 seeds=$top/tests/corpus/user/$1 work=$out/corpus/$1
	local art=$out/artifacts/$1 log=$out/$1.log dict=$top/tests/corpus/user/$1.dict rc
	local -a opts
	if needs_root "$t" && [[ $(id -u) -ne 0 ]]; then
		echo "SKIP: $t needs root (private network and mount namespaces, bpffs)"
		return 77
	fi
	mkdir -p "$work" "$art"
	local drop="" tmp="" out_work=$work out_art=$art
	if [[ $t == fuzz_cli && $(id -u) -eq 0 ]]; then
		# fuzz_cli drops to nobody before libFuzzer reads its corpus, seeds and
		# dictionary: give it copies in a directory nobody can enter, since the
		# checkout may lie where it cannot (a clone under /root, a 'mktemp -d').
		drop=1
		tmp=$(mktemp -d /tmp/xdpctl-fuzz-cli.XXXXXX) || return 1
		chmod 0755 "$tmp"
		mkdir -p "$tmp/work" "$tmp/art" "$tmp/seeds"
		cp -a "$work/." "$tmp/work/" 2>/dev/null
		cp -a "$seeds/." "$tmp/seeds/" 2>/dev/null
		[[ -f $dict ]] && cp "$dict" "$tmp/dict" && dict=$tmp/dict
		chown -R 65534:65534 "$tmp/work" "$tmp/art"
		chmod -R a+rX "$tmp/seeds" "$tmp/dict" 2>/dev/null
		work=$tmp/work art=$tmp/art seeds=$tmp/seeds
	fi
	opts=(-max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -close_fd_mask=3
	      -print_final_stats=1 -artifact_prefix="$art/")
	[[ -f $dict ]] && opts+=(-dict="$dict")
	export FUZZ_SANDBOX_DIR=$out/sandbox-$t
	mkdir -p "$FUZZ_SANDBOX_DIR"
	if [[ -n $replay ]]; then
		"$bin" "${opts[@]}" "$replay"
		rc=$?
		[[ -n $tmp ]] && rm -rf "$tmp"
		return $rc
	fi
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		timeout -k 10 $((seconds + 300)) "$bin" "${opts[@]}" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	rmdir "$FUZZ_SANDBOX_DIR" 2>/dev/null
	if [[ -n $drop ]]; then
		# the grown corpus and any crash go back to the build directory
		cp -a "$work/." "$out_work/" 2>/dev/null
		cp -a "$art/." "$out_art/" 2>/dev/null
		rm -rf "$tmp"
		work=$out_work art=$out_art
	fi
	if [[ $rc -ne 0 ]] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|INVARIANT' "$log"; then
		echo "FAIL: $t (exit $rc); log $log, artifacts in $art:"
		grep -E 'INVARIANT|ERROR:|runtime error:|SUMMARY:|Test unit written' "$log" | head -20
		tail -30 "$log"
		return 1
	fi
	local runs execs cov corpus
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
	corpus=$(find "$work" -type f | wc -l)
	echo "PASS: $t: ${seconds}s, ${runs:-?} inputs (${execs:-?}/s), ${cov:-cov: ?} edges, corpus $corpus, no crash, no sanitizer report"
}

ran=0 failed=0
declare -A status
# Build every target under the lock, then release it for the runs.
for t in "${targets[@]}"; do
	if [[ ! -f $top/tests/fuzz/$t.c ]]; then
		echo "Error: no such target $t (tests/fuzz/$t.c)" >&2
		status[$t]=1
		continue
	fi
	link_target "$t"
	status[$t]=$?
done
exec 9>&-
for t in "${targets[@]}"; do
	rc=${status[$t]}
	if [[ $rc -eq 0 ]]; then
		run_target "$t"; rc=$?
	fi
	case $rc in
	0) ran=$((ran + 1)) ;;
	77) ;;
	*) failed=1 ;;
	esac
done
[[ $failed -eq 0 ]] || exit 1
[[ $ran -gt 0 ]] || exit 77
exit 0
