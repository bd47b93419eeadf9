#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# rel-churn: rule churn under traffic. Two steady UDP flows from the client
# to two containers (198.19.0.2 on c1, 2001:db8:19::3 on c2) go through
# bypass rules while, at the same time,
#   - rel-churn adds and deletes REL_CHURN_RULES other rules (10,000; long
#     100,000) through the library, in rounds of 500, every 4th round as one
#     bulk load, spread over the veths of c1, c2 and c3 (c3 has no steady
#     rule, so its veth is set up and torn down again every round), and
#   - xdpctl itself loads rule files and deletes their rules one by one
#     (REL_CHURN_CLI_ROUNDS x REL_CHURN_CLI_BATCH: 4 x 250; long 20 x 1000),
# with engine tc, then engine xdp (REL_ENGINES), re-attached over the rules.
# The steady flows must lose nothing: datagrams sent = received (distinct,
# no duplicates) = the rule's in_packets; afterwards only the two steady
# rules are left, c1's and c2's veths count one rule each and c3's veth
# has nothing of xdpctl left (ifaces entry, tc filter, pass program).
. "$(dirname "$0")/lib.sh"

if [[ $REL_LONG -eq 1 ]]; then
	RULES=${REL_CHURN_RULES:-100000}; CLI_ROUNDS=${REL_CHURN_CLI_ROUNDS:-20}
	CLI_BATCH=${REL_CHURN_CLI_BATCH:-1000}; RATE=${REL_CHURN_RATE:-5000}
else
	RULES=${REL_CHURN_RULES:-10000}; CLI_ROUNDS=${REL_CHURN_CLI_ROUNDS:-4}
	CLI_BATCH=${REL_CHURN_CLI_BATCH:-250}; RATE=${REL_CHURN_RATE:-2000}
fi
ENGINES=${REL_ENGINES:-tc xdp}
[[ -x $REL_CHURN ]] || skip "needs rel-churn (REL_CHURN)"
lab_up --containers 3

x_ok "attach" attach "$UPLINK" --engine tc --fast-path skip-firewall || finish
x_ok "steady rule for c1" bypass add "$C1_IP4" dev "$C1_VETH"
x_ok "steady rule for c2" bypass add "$C2_IP6" dev "$C2_VETH"

# cli_churn ENGINE: rounds of 'bypass load FILE' then 'bypass del' per rule.
cli_churn() {
	local r i f veths=("$C1_VETH" "$C2_VETH" "$C3_VETH") fails=0 ops=0
	for (( r = 1; r <= CLI_ROUNDS; r++ )); do
		f=$TMPD/cli-$1-$r
		for (( i = 0; i < CLI_BATCH; i++ )); do
			if (( i % 2 )); then
				printf '2001:db8:19::2:%x:%x dev %s mac 02:00:00:02:%02x:%02x\n' "$r" "$i" \
					"${veths[i % 3]}" $(( i / 256 % 256 )) $(( i % 256 ))
			else
				printf '2001:db8:19::2:%x:%x dev %s\n' "$r" "$i" "${veths[i % 3]}"
			fi
		done >"$f"
		timeout 60 "$XDPCTL" -n "$HOST_NS" --pin-dir "$PIN" bypass load "$f" >/dev/null 2>"$TMPD/cli.err" ||
			{ fails=$((fails + 1)); echo "cli: load round $r: $(cat "$TMPD/cli.err")"; }
		ops=$((ops + CLI_BATCH))
		for (( i = 0; i < CLI_BATCH; i++ )); do
			timeout 60 "$XDPCTL" -n "$HOST_NS" --pin-dir "$PIN" bypass del \
				"$(printf '2001:db8:19::2:%x:%x' "$r" "$i")" >/dev/null 2>"$TMPD/cli.err" ||
				{ fails=$((fails + 1)); [[ $fails -le 5 ]] && echo "cli: del: $(cat "$TMPD/cli.err")"; }
			ops=$((ops + 1))
		done
	done
	echo "cli_ops $ops cli_fails $fails"
}

port=7100
for engine in $ENGINES; do
	port=$((port + 1))
	x_ok "$engine: attach over the rules" attach "$UPLINK" --engine "$engine" --fast-path skip-firewall || continue
	x -j bypass list
	check_eq "$engine: the steady rules survive the re-attach" "$(jq length <<<"$OUT")" 2
	in1=$(rule_field "$C1_IP4" in_packets); in2=$(rule_field "$C2_IP6" in_packets)
	sink_start "$C1_NS" "$C1_IP4" "$port" "c1$engine" || continue
	sink_start "$C2_NS" "$C2_IP6" "$port" "c2$engine" || continue

	nsenter --net="/run/netns/$CLIENT_NS" -- "$REL_UDP" send --to "$C1_IP4,$C2_IP6" \
		--port "$port" --count $((RATE * 600)) --rate "$RATE" >"$TMPD/sent-$engine" 2>&1 &
	sender=$!
	BG_PIDS+=("$sender")
	sleep 0.5
	t0=$(date +%s%N)
	"$REL_CHURN" --pin-dir "$PIN" --netns "$HOST_NS" --veths "$C1_VETH,$C2_VETH,$C3_VETH" \
		--rules "$RULES" --batch 500 --load-every 4 --max-seconds 600 >"$TMPD/churn-$engine" 2>&1 &
	churner=$!
	BG_PIDS+=("$churner")
	cli_churn "$engine" >"$TMPD/cli-$engine" 2>&1
	# rel-churn prints its own result; after thousands of xdpctl runs its
	# pid may already be reused, so its exit status is not asked for.
	wait "$churner" 2>/dev/null
	bg_done "$churner"
	t1=$(date +%s%N)
	sleep 0.5
	ours "$sender" && kill -TERM "$sender"
	wait "$sender" 2>/dev/null
	bg_done "$sender"
	sleep 0.5
	sink_stop "c1$engine"; rx1=$SINK_RX; dup1=$SINK_DUP
	sink_stop "c2$engine"; rx2=$SINK_RX; dup2=$SINK_DUP
	sent1=$(sent_to "$TMPD/sent-$engine" "$C1_IP4"); sent2=$(sent_to "$TMPD/sent-$engine" "$C2_IP6")
	d1=$(( $(rule_field "$C1_IP4" in_packets) - in1 )); d2=$(( $(rule_field "$C2_IP6" in_packets) - in2 ))

	check_eq "$engine: rel-churn added and deleted every rule" \
		"$(cut -d' ' -f1-4 "$TMPD/churn-$engine")" "added $RULES deleted $RULES"
	check_match "$engine: xdpctl load/del rounds all succeeded" "$(tail -1 "$TMPD/cli-$engine")" \
		"^cli_ops [0-9]+ cli_fails 0$"
	check "$engine: traffic ran through the churn (sent $sent1)" \
		test "${sent1:-0}" -ge $(( RATE * (t1 - t0) / 1000000000 ))
	check_eq "$engine: c1 received every datagram sent (v4)" "$rx1 dup $dup1" "$sent1 dup 0"
	check_eq "$engine: c2 received every datagram sent (v6)" "$rx2 dup $dup2" "$sent2 dup 0"
	check_eq "$engine: c1's rule counted every datagram" "$d1" "$sent1"
	check_eq "$engine: c2's rule counted every datagram" "$d2" "$sent2"

	x -j bypass list
	check_eq "$engine: only the two steady rules are left" \
		"$(jq -c '[.[].addr] | sort' <<<"$OUT")" "$(jq -cn --arg a "$C1_IP4" --arg b "$C2_IP6" '[$a, $b] | sort')"
	x -j status
	check_eq "$engine: the steady veths count one rule each, c3's veth is gone from the state" \
		"$(jq -c --arg a "$C1_VETH" --arg b "$C2_VETH" --arg c "$C3_VETH" \
			'[.[] | select(.dev == $a or .dev == $b or .dev == $c) | "\(.dev)=\(.rules)"] | sort' <<<"$OUT")" \
		"$(jq -cn --arg a "$C1_VETH" --arg b "$C2_VETH" '["\($a)=1", "\($b)=1"] | sort')"
	check_eq "$engine: no tc filter left on c3's veth" \
		"$(tc -n "$HOST_NS" filter show dev "$C3_VETH" ingress 2>&1)" ""
	check_eq "$engine: no XDP program left on c3's eth0" \
		"$(ip -n "$C3_NS" -o link show eth0 | grep -o 'prog/xdp id [0-9]*')" ""
	log "$engine: $(cat "$TMPD/churn-$engine"); $(tail -1 "$TMPD/cli-$engine"); flows: c1 sent $sent1 received $rx1 counted $d1, c2 sent $sent2 received $rx2 counted $d2"
done
finish
