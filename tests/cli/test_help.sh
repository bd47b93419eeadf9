#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# xdpctl help, version and usage errors: requested help goes to stdout with
# exit 0; a usage error is one "Error: " line on stderr with exit 1 and a
# pointer to the help; under -j the error is {"error": ...} on stdout.
# Needs no root and touches no kernel state.
source "$(dirname "$0")/lib.sh"

# Top-level help lists every command, in all the ways of asking.
for form in "help" "-h" "--help"; do
	if ok "help ($form)" $form; then
		for c in attach detach status bypass pingpong stats trace path version help; do
			check "help ($form) lists $c" grep -Eq "^  $c " <<<"$OUT"
		done
		check "help ($form) points to command help" grep -q "xdpctl help COMMAND" <<<"$OUT"
	fi
done

# Command help: 'help CMD', 'CMD help', 'CMD -h', for leaves and groups.
ok "help attach" help attach && check "attach usage" grep -q "^Usage: xdpctl attach DEV \[--mode auto|native|generic\] \[--engine auto|xdp|tc\] \[--force\]" <<<"$OUT"
ok "attach help" attach help && check "attach help same" grep -q "^Usage: xdpctl attach DEV" <<<"$OUT"
ok "attach --help" attach --help && check "attach --help same" grep -q "^Usage: xdpctl attach DEV" <<<"$OUT"
ok "help bypass" help bypass
for s in "bypass add ADDR (dev VETH | --container NAME|ID|PID) [--mac MAC]" "bypass del ADDR" \
	"bypass list" "bypass load FILE"; do
	check "help bypass: $s" grep -qF "xdpctl $s" <<<"$OUT"
done
ok "bypass help" bypass help && check "bypass help lists add" grep -qF "xdpctl bypass add ADDR" <<<"$OUT"
ok "help bypass add" help bypass add && check "bypass add args" grep -Eq "^  --container NAME\|ID\|PID +find the veth" <<<"$OUT"
ok "bypass add help" bypass add help && check "bypass add help usage" grep -qF "Usage: xdpctl bypass add ADDR" <<<"$OUT"
ok "bypass add -h" bypass add -h
ok "help pingpong add" help pingpong add && check "pingpong --hook" grep -qF "[--hook both|xdp|tc]" <<<"$OUT"
ok "help stats" help stats && check "stats usage" grep -qF "xdpctl stats [--rules] [--watch SECONDS] [--count N] [--prometheus] [--textfile DIR] [--serve ADDR:PORT]" <<<"$OUT"
ok "help trace" help trace && check "trace usage" grep -qF "xdpctl trace [--count N] [--timeout SECONDS]" <<<"$OUT"
ok "help path diff" help path diff && check "path diff usage" grep -qF "xdpctl path diff 'COMMAND A' 'COMMAND B'" <<<"$OUT"
ok "path help" path help

# Version.
ok "version" version && check "version line" grep -Eq "^xdpctl [0-9]+\.[0-9]+\.[0-9]+ \(abi [0-9]+, libbpf " <<<"$OUT"
ok "-V" -V && check "-V line" grep -Eq "^xdpctl [0-9]" <<<"$OUT"
ok "-j version" -j version && jcheck "version JSON" '(.version | type == "string") and (.abi_version | type == "number")'
ok "-p version" -p version && check "-p is indented" grep -q '^  "version": ' <<<"$OUT" && jcheck "pretty JSON parses" '.version'

# Usage errors: message, exit 1, pointer to help, nothing on stdout.
bad "no command" "missing command: see 'xdpctl help'"
bad "unknown command" "^Error: unknown command 'foo': see 'xdpctl help'$" foo
bad "prefix is not accepted" "unknown command 'byp' \(did you mean 'bypass'\?\): see 'xdpctl help'" byp list
bad "unknown subcommand" "unknown command 'frob': see 'xdpctl help bypass'" bypass frob
bad "group without subcommand" "'bypass' needs a command: see 'xdpctl help bypass'" bypass
bad "unknown global option" "unknown option '--frob': see 'xdpctl help'" --frob status
bad "unknown command option" "unknown option '--frob' for 'bypass list': see 'xdpctl help bypass list'" bypass list --frob
bad "missing argument" "missing ADDR: see 'xdpctl help bypass del'" bypass del
bad "missing dev or container" "missing 'dev VETH' or '--container NAME\|ID\|PID'" bypass add 198.19.0.3
bad "dev and container" "give either 'dev VETH' or '--container NAME\|ID\|PID', not both" bypass add 198.19.0.3 dev x --container y
bad "extra argument" "unexpected argument 'extra' for 'bypass del'" bypass del 198.19.0.3 extra
bad "option twice" "--mode given twice" attach eth0 --mode native --mode generic
bad "bad enum" "--mode: expected 'auto', 'native' or 'generic', got 'turbo'" attach eth0 --mode turbo
bad "bad enum (hook)" "--hook: expected 'both', 'xdp' or 'tc', got 'nic'" pingpong add 198.19.0.3 --hook nic
bad "bad number" "--count: expected a whole number from 1 to [0-9]+, got '-1'" trace --count -1
bad "bad number (text)" "--watch: expected a whole number from 1 to 3600, got 'often'" stats --watch often
bad "option without value" "--count needs a value \(N\)" trace --count
bad "flag with value" "--force takes no value" attach eth0 --force=yes
bad "bad address" "^Error: 198\.19\.0\.300: not an IPv4 or IPv6 address$" bypass del 198.19.0.300
bad "bad IPv6 address" "2001:db8::g: not an IPv4 or IPv6 address" pingpong add 2001:db8::g
bad "bad MAC" "02:00:00:00:00:zz: not a MAC address \(expected aa:bb:cc:dd:ee:ff\)" bypass add 198.19.0.3 dev x --mac 02:00:00:00:00:zz
bad "bad device name" "'a/b' is not a device name" detach a/b
bad "too long device name" "'abcdefghijklmnopq' is not a device name" attach abcdefghijklmnopq
bad "bad container" "'-x' is not a container name|unknown option" bypass add 198.19.0.3 --container=-x
bad "help for unknown" "unknown command 'nope': see 'xdpctl help'" help nope
bad "prometheus with watch" "--prometheus and --watch exclude each other" stats --prometheus --watch 1
bad "count without watch" "--count goes with --watch" stats --count 2

# Under -j errors are JSON on stdout, and nothing else is there.
bad_json "JSON unknown command" "unknown command 'foo'" foo
bad_json "JSON bad address" "198\\.19\\.0\\.300: not an IPv4 or IPv6 address" bypass del 198.19.0.300
bad_json "JSON -j after the command" "unknown option '--frob'" bypass list --frob
check "JSON error leaves stderr empty" test -z "$ERR"
bad_json "JSON error in the global options" "--netns needs a value \\(NAME\\)" --netns
ok "bundled -jp" -jp version && check "-jp is indented JSON" grep -q '^  "version": ' <<<"$OUT"
ok "-j after the command" version -j && jcheck "version -j" '.version'

finish
