#!/usr/bin/env bash
# load_timewait.sh - TIME_WAIT stays capped under connection churn.
# An intercepted client on B makes 5 waves of 1,000 short connections to a
# server on A and closes each first, so each one sits in TIME_WAIT in B's
# stack for 2 * MSL (20 s with netcon's lwIP build). lwIP walks every pcb
# on each bind and slow-timer tick, so without a cap the cost of a new
# connection grew with the churn (bench/ab.sh: 340 -> 1,010 us of daemon CPU
# per connection over 12 s). The stack frees the oldest beyond 2,048
# (stack/sock_port.c, nc_tw_trim) at each connect, accept and close. A
# burst of closes can pass the cap until the next of those (its pcbs enter
# TIME_WAIT a round trip after their close), so after each wave one more
# connection is made; then B's zt_stack_tcp_time_wait must be at the cap
# (TIME_WAIT really filled up), not past it, and every wave clean.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
source "$(dirname "$0")/fault_lib.bash"
L=$BIN/tools/load_tcp
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" "$L" || exit 1
CAP=2048

HA=$NC_TMP/a HB=$NC_TMP/b
net_up "$HA" "$HB" || { fail "setup: two daemons on one network" "see $NC_TMP"; exit 1; }
if ! grep -q "netcon build" "$HB/stderr.log"; then
	skip "timewait: cap" "B did not load netcon's lwIP build (the cap needs its pcb lists): $(grep -m1 ': lwIP ' "$HB/stderr.log")"
	exit 0
fi
net_bg "$HA" "$NC_TMP/serve.out" "$L" serve 7000
wait_for grep -q listening "$NC_TMP/serve.out" || { fail "server starts" ""; exit 1; }
tw() { api_body "$HB" GET /metrics | awk '$1 ~ /^zt_stack_tcp_time_wait\{/ {print $2}'; }

bad=0 seen=""
t0=$SECONDS
for w in 1 2 3 4 5; do
	timeout 90 env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$HB]}" \
		"$L" client "${NC_IP[$HA]}" 7000 1000 1000 60 >"$NC_TMP/cl.out" 2>"$NC_TMP/cl.err" ||
		{ bad=$((bad + 1)); echo "wave $w: $(cat "$NC_TMP/cl.out"); $(sort "$NC_TMP/cl.err" | uniq -c | head -3)"; }
	sleep 0.5	# the last FIN exchanges
	timeout 30 env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$HB]}" \
		"$L" client "${NC_IP[$HA]}" 7000 1 1 20 >/dev/null 2>&1 || bad=$((bad + 1))
	seen="$seen $(tw)"
done
echo "B's TIME_WAIT after each wave:$seen"
[ $bad = 0 ] && pass "timewait: 5 waves x 1,000 connections closed by the client in $((SECONDS - t0)) s, all clean" ||
	fail "timewait: churn" "$bad of 5 waves had errors"
max=0
for v in $seen; do [ "$v" -gt $max ] && max=$v; done
last=${seen##* }
[ -n "$last" ] && [ "$max" -le $((CAP + 8)) ] && [ "$last" -ge $((CAP - 100)) ] &&
	pass "timewait: B's stack keeps TIME_WAIT at its cap of $CAP (after each wave:$seen)" ||
	fail "timewait: cap" "after each wave:$seen (want the last near $CAP, none above $((CAP + 8)))"
kill -0 "$(home_pid "$HB")" && pass "timewait: B's daemon alive" || fail "timewait: B's daemon" "died"
exit 0
