#!/usr/bin/env bash
# fault_controller_down.sh - members keep working on their cached config
# when the controller is gone. A (controller) serves a network to members B
# and C; B is also the moon root everyone finds the others by (as in a real
# deployment the roots are not the controller); a B -> C transfer works. Then A's daemon is stopped, and
# B and C are restarted while A is down: both come back OK with the same
# addresses from their cached network config (and peers.d), and B and C
# still talk: a 4 MB transfer matches sha256, a second one after 20 s too.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
source "$(dirname "$0")/fault_lib.bash"
X=$BIN/tools/fault_xfer
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" "$X" || exit 1

HA=$NC_TMP/a HB=$NC_TMP/b HC=$NC_TMP/c
setup() {
	local moon h pb pa
	daemon_start "$HB" || return 1
	pb=$(dport "$HB")
	moon=$(make_moon "$HB" "127.0.0.1/$pb") || return 1
	cp "$moon" "$HB/moons.d/"
	for h in "$HA" "$HC"; do
		mkdir -p "$h/moons.d"; cp "$moon" "$h/moons.d/"
		printf '{ "settings": { "noPlanet": true }, "virtual": { "%s": { "try": [ "127.0.0.1/%s" ] } } }\n' \
			"$(daddr "$HB")" "$pb" >"$h/local.conf"
	done
	daemon_start "$HA" || return 1
	NW=$(daddr "$HA")00beef
	[ "$(ctl_make_network "$HA" "$NW" ctldown "$PFX")" = 200 ] || return 1
	NC_IP[$HB]=$PFX.2 NC_IP[$HC]=$PFX.3
	daemon_start "$HC" || return 1
	for h in "$HB" "$HC"; do
		[ "$(ctl_authorize "$HA" "$NW" "$(daddr "$h")" "${NC_IP[$h]}")" = 200 ] || return 1
		[ "$(cli "$h" join "$NW")" = "200 join OK" ] || return 1
		NC_SOCK[$h]=$h/nc_$NW
	done
	for h in "$HB" "$HC"; do
		WAIT_S=30 wait_for net_ok "$h" "$NW" && WAIT_S=10 wait_for test -S "${NC_SOCK[$h]}" || return 1
	done
}
setup || { fail "setup: controller A, members B (root) and C" "see $NC_TMP"; exit 1; }

xfer() {	# xfer PORT - 4 MB B -> C; prints "ok" when sha256 matches
	net_bg "$HC" "$NC_TMP/sink.$1" "$X" sink "$1"; local r=$BG_PID
	wait_for grep -q listening "$NC_TMP/sink.$1"
	local try
	for try in 1 2 3 4 5 6; do
		timeout 30 env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$HB]}" "$X" source "${NC_IP[$HC]}" "$1" 4194304 >"$NC_TMP/src.$1" 2>&1
		grep -q '^sent' "$NC_TMP/src.$1" && break
		sleep 2
	done
	WAIT_S=5 wait_for bash -c "! kill -0 $r 2>/dev/null"; kill -9 $r 2>/dev/null
	local s=$(awk '/^sent/ {print $3}' "$NC_TMP/src.$1") d=$(awk '/^done/ {print $3}' "$NC_TMP/sink.$1")
	[ -n "$s" ] && [ "$s" = "$d" ] && echo ok || echo "no: $(cat "$NC_TMP/src.$1") / $(cat "$NC_TMP/sink.$1")"
}
r=$(xfer 6001)
[ "$r" = ok ] && pass "controller up: B -> C transfer (4 MB) matches" || fail "controller up: transfer" "$r"

PA=$(home_pid "$HA"); declare -A PORT=([$HB]=$(dport "$HB") [$HC]=$(dport "$HC"))
daemon_stop "$HA" && pass "controller: A stopped" || fail "controller: stop A" ""
for h in "$HB" "$HC"; do daemon_stop "$h" || fail "stop $h" ""; done
for h in "$HB" "$HC"; do daemon_start "$h" "${PORT[$h]}" || fail "restart $h" "$(tail -3 "$h/stderr.log")"; done
okb=1
for h in "$HB" "$HC"; do
	WAIT_S=30 wait_for net_ok "$h" "$NW" && WAIT_S=10 wait_for test -S "${NC_SOCK[$h]}" || okb=0
done
addrs=$(for h in "$HB" "$HC"; do api_body "$h" GET "/network/$NW" | jq -r '.assignedAddresses[0]'; done | tr '\n' ' ')
[ $okb = 1 ] && [ "$addrs" = "${NC_IP[$HB]}/24 ${NC_IP[$HC]}/24 " ] &&
	pass "controller down: restarted members are OK with their cached config ($addrs)" ||
	fail "controller down: members' config" "$addrs; $(api_body "$HB" GET "/network/$NW" | jq -c '{status,assignedAddresses}')"
kill -0 "$PA" 2>/dev/null && fail "controller down" "A ($PA) is still running"
r=$(xfer 6002)
[ "$r" = ok ] && pass "controller down: B -> C still talk (4 MB, sha256 matches)" || fail "controller down: transfer" "$r"
sleep 20
r=$(xfer 6003)
[ "$r" = ok ] && pass "controller down: and 20 s later too" || fail "controller down: later transfer" "$r"
exit 0
