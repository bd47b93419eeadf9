#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rel-kill: kill -9 of 'xdpctl bypass load' in the middle of a bulk load of
# N rules (default 200,000; long mode 1,000,000) must leave the pinned state
# consistent: every rule in the map is one of the file's, whole (right veth,
# MAC, source MAC on every CPU), and every veth with rules has its devmap and
# ifaces entries (rel-check). The edit lock must be free again at once, and
# the documented recovery (load the lines that are missing) must end in
# exactly the file's rules with exact refcnts.
#
# Each attempt gets a state of its own (pin dir, a veth pair as a stand-in
# uplink, three fresh veths into the lab's containers), so a kill never
# leaves anything to the next. The kill is triggered by what the kernel
# shows: rel-check polls the bypass map for the file's first address (its
# batch is stored first) and sends SIGKILL 0, 10, 30 or 60 ms after it
# appears, until REL_KILL_HITS attempts died with some but not all rules
# stored. (A timer alone missed the store phase, a few hundred ms of a load
# whose length varies by more than that on this VM.)
#
# Knobs: REL_KILL_RULES, REL_KILL_HITS (3; long 6), REL_KILL_ATTEMPTS (6; long 12).
. "$(dirname "$0")/lib.sh"

if [[ $REL_LONG -eq 1 ]]; then
	N=${REL_KILL_RULES:-1000000}; HITS=${REL_KILL_HITS:-6}; ATTEMPTS=${REL_KILL_ATTEMPTS:-12}
else
	N=${REL_KILL_RULES:-200000}; HITS=${REL_KILL_HITS:-3}; ATTEMPTS=${REL_KILL_ATTEMPTS:-6}
fi
[[ -x $REL_CHECK ]] || skip "needs rel-check (REL_CHECK)"
lab_up --containers 3
CAP=$(( N + N / 4 + 1024 ))
CLEANUP_EXTRA+=("rm -rf $PIN-a*")

# The file, once, with @1 @2 @3 for the veths: rule i to veth i % 3, the
# first 60,000 IPv4 (198.19.1.1 up), the rest IPv6; every other line names
# its MAC, the others take the veth peer's.
awk -v n="$N" 'BEGIN {
	for (i = 0; i < n; i++) {
		v = "@" (i % 3 + 1)
		if (i < 60000) a = sprintf("198.19.%d.%d", 1 + int(i / 250), 1 + i % 250)
		else a = sprintf("2001:db8:19::3:%x:%x", int(i / 65536), i % 65536)
		if (i % 2) printf "%s dev %s mac 02:00:%02x:%02x:%02x:%02x\n", a, v, int(i / 16777216) % 256, int(i / 65536) % 256, int(i / 256) % 256, i % 256
		else printf "%s dev %s\n", a, v
	}
}' >"$TMPD/template"

# setup_attempt A: state, uplink stand-in and veths of attempt A; sets PA, UPA, V1..V3, RULES
setup_attempt() {
	local a=$1 j
	PA=$PIN-a$a; UPA=${P}u$a; XPIN=$PA
	ip -n "$HOST_NS" link add "$UPA" type veth peer name "${UPA}p" || return 1
	ip -n "$HOST_NS" link set "$UPA" up && ip -n "$HOST_NS" link set "${UPA}p" up
	for j in 1 2 3; do
		local v=${P}k$a$j cns=${P}c$j
		ip -n "$HOST_NS" link add "$v" type veth peer name "k$a$j" netns "$cns" || return 1
		ip -n "$HOST_NS" link set "$v" master "$BRIDGE" up
		ip -n "$cns" link set "k$a$j" up
		eval "V$j=$v"
		eval "M$j=$(ip -n "$cns" -o link show "k$a$j" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')"
	done
	RULES=$TMPD/rules-$a
	sed "s/@1/$V1/; s/@2/$V2/; s/@3/$V3/" "$TMPD/template" >"$RULES"
	timeout 60 "$XDPCTL" -n "$HOST_NS" --pin-dir "$PA" attach "$UPA" --engine tc \
		--max-rules "$CAP" >/dev/null 2>"$TMPD/attach.err" ||
		{ fail_check "attempt $a: attach $UPA" "$(cat "$TMPD/attach.err")"; return 1; }
}

teardown_attempt() {
	local a=$1 j
	timeout 60 "$XDPCTL" -n "$HOST_NS" --pin-dir "$PA" detach "$UPA" >/dev/null 2>&1
	ip -n "$HOST_NS" link del "$UPA" 2>/dev/null
	for j in 1 2 3; do ip -n "$HOST_NS" link del "${P}k$a$j" 2>/dev/null; done
	rm -rf "$PA"
}

# check_state MODE [rel-check args]: sets STORED; a problem is a failed check.
check_state() {
	local what=$1; shift
	"$REL_CHECK" --pin-dir "$PA" --rules "$RULES" --netns "$HOST_NS" --smac "$GW_MAC" \
		--peer-mac "$V1=$M1" --peer-mac "$V2=$M2" --peer-mac "$V3=$M3" "$@" >"$TMPD/check" 2>&1
	local rc=$?
	STORED=$(sed -n 's/^stored \([0-9]*\) of.*/\1/p' "$TMPD/check")
	CHECKS=$((CHECKS + 1))
	if [[ $rc -ne 0 || -z $STORED ]]; then
		fail_check "$what: the state is not consistent" "$(cat "$TMPD/check")"
		return 1
	fi
	return 0
}

# ---- calibration: one whole load, timed ----
setup_attempt 0 || finish
t0=$(date +%s%N)
x_ok "a whole load of $N rules" bypass load "$RULES"
T_FULL_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
check_state "whole load" --expect-all --refcnt exact
log "whole load: $N rules in $T_FULL_MS ms; $(cut -c1-200 "$TMPD/check")"
teardown_attempt 0

# ---- kills ----
FIRST=$(awk '{ print $1; exit }' "$TMPD/template")
AFTER=(0 10 30 60)
hits=0; early=0; late=0
for (( a = 1; a <= ATTEMPTS && hits < HITS; a++ )); do
	setup_attempt "$a" || break
	after=${AFTER[$(( (a - 1) % ${#AFTER[@]} ))]}
	"$XDPCTL" -n "$HOST_NS" --pin-dir "$PA" bypass load "$RULES" >"$TMPD/load.out" 2>&1 &
	pid=$!
	"$REL_CHECK" --pin-dir "$PA" --wait-key "$FIRST" --kill "$pid" --after-ms "$after" \
		--timeout-ms 120000 >"$TMPD/wait" 2>&1
	wait "$pid" 2>/dev/null
	rc=$?
	check_state "attempt $a ($(cat "$TMPD/wait"), exit $rc)" --refcnt atleast
	summary=$(cut -c1-240 "$TMPD/check")
	if [[ -z $STORED || $STORED -eq 0 ]]; then
		early=$((early + 1)); kind="before any rule was stored"
	elif [[ $STORED -eq $N ]]; then
		late=$((late + 1)); kind="after the last rule was stored"
	else
		hits=$((hits + 1)); kind="mid-store"
	fi
	log "attempt $a: $(cat "$TMPD/wait"); exit $rc; $kind: $summary"

	# The lock died with the process: the next edit goes through at once.
	x_ok "attempt $a: an edit right after the kill" bypass add "198.18.255.$a" dev "$V1"
	x_ok "attempt $a: deleting it again" bypass del "198.18.255.$a"
	x_ok "attempt $a: status after the kill" status
	if [[ $kind == mid-store ]]; then
		# Loading the whole file again is refused (its rules exist) and changes nothing.
		x bypass load "$RULES"
		check_eq "attempt $a: reloading the whole file is refused" "$RC" 1
		check_match "attempt $a: ...saying a rule exists" "$ERR" "exists"
		# Documented recovery: load the lines whose address is not in the map yet.
		x -j bypass list
		jq -r '.[].addr' <<<"$OUT" >"$TMPD/have"
		awk 'NR == FNR { have[$1] = 1; next } !($1 in have)' "$TMPD/have" "$RULES" >"$TMPD/rest"
		log "attempt $a: recovery loads the $(wc -l <"$TMPD/rest") missing lines"
		x_ok "attempt $a: loading the missing lines" bypass load "$TMPD/rest"
		check_state "attempt $a: after the recovery" --expect-all --refcnt exact
	fi
	teardown_attempt "$a"
done
check_eq "kills that landed mid-store (attempts: $((a - 1)), early $early, late $late)" \
	"$(( hits >= HITS ))" 1
log "result: $N rules, whole load $T_FULL_MS ms, $((a - 1)) kills: $hits mid-store, $early before, $late after"
finish
