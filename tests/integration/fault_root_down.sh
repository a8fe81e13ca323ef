#!/usr/bin/env bash
# fault_root_down.sh - the only root is down, and it is also the controller.
# A hosts the network on its embedded controller and is the only root of the
# moon B and C use (their local.conf has a static path to A only). B and C
# find each other through A and transfer. Then A is stopped, and B and C are
# restarted while A is down, B first, C 3 s later (a reboot): with no root
# to introduce them, only what B remembers can bring them together, so B's
# first HELLO goes to a C that is not up yet and B must try again.
#  round 1: B knows C from its peer cache (peers.d); C's cache entry for B
#           is deleted;
#  round 2: C comes back on another port: B knows C's identity from its
#           cache, but the cached path is dead; its local.conf has a static
#           path to C's new port ("virtual"/"try"). C's cache entry for B
#           is deleted again.
# Each round: both are OK on their cached network config, find each other
# without the root, and B -> C and C -> B transfers match sha256. Then A
# comes back: B and C reach it again, a config change on the controller
# reaches both, and a transfer still works.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
source "$(dirname "$0")/fault_lib.bash"
X=$BIN/tools/fault_xfer
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" "$X" || exit 1

HA=$NC_TMP/a HB=$NC_TMP/b HC=$NC_TMP/c
NET_UP_FIXED=1 net_up "$HA" "$HB" "$HC" || { fail "setup: controller+root A, members B and C" "see $NC_TMP"; exit 1; }
declare -A PORT=([$HA]=$(dport "$HA") [$HB]=$(dport "$HB") [$HC]=$(dport "$HC"))
AB=$(daddr "$HB") AC=$(daddr "$HC")

# xfer FROM TO PORT - 4 MB FROM -> TO; prints "ok" when sha256 matches
xfer() {
	local from=$1 to=$2 p=$3 try r
	net_bg "$to" "$NC_TMP/sink.$p" "$X" sink "$p"; r=$BG_PID
	wait_for grep -q listening "$NC_TMP/sink.$p"
	for try in 1 2 3 4 5 6; do
		timeout 30 env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$from]}" \
			"$X" source "${NC_IP[$to]}" "$p" 4194304 >"$NC_TMP/src.$p" 2>&1
		grep -q '^sent' "$NC_TMP/src.$p" && break
		sleep 2
	done
	WAIT_S=5 wait_for bash -c "! kill -0 $r 2>/dev/null"; kill -9 $r 2>/dev/null
	local s=$(awk '/^sent/ {print $3}' "$NC_TMP/src.$p") d=$(awk '/^done/ {print $3}' "$NC_TMP/sink.$p")
	[ -n "$s" ] && [ "$s" = "$d" ] && echo ok || echo "no: $(cat "$NC_TMP/src.$p") / $(cat "$NC_TMP/sink.$p")"
}
# peer_live HOME ADDR - HOME has a live (active) path to ADDR
peer_live() {
	api_body "$1" GET "/peer/$2" | jq -e '[.paths[]? | select(.active)] | length > 0' >/dev/null
}
r=$(xfer "$HB" "$HC" 6001)
[ "$r" = ok ] && pass "root up: B -> C transfer (4 MB) matches" || fail "root up: transfer" "$r"
ls "$HB/peers.d/$AC.peer" "$HC/peers.d/$AB.peer" >/dev/null 2>&1 &&
	pass "root up: B and C cached each other in peers.d" || fail "root up: peers.d" "$(ls "$HB/peers.d" "$HC/peers.d")"

daemon_stop "$HA" && pass "root down: A (controller and only root) stopped" || fail "stop A" ""
# restart_round NAME - stop B and C, start B, then C 3 s later; check they
# are OK on their cached config, find each other and transfer both ways
restart_round() {
	local n=$1 okb=1 h addrs r
	for h in "$HB" "$HC"; do
		daemon_start "$h" "${PORT[$h]}" || fail "$n: restart $h" "$(tail -3 "$h/stderr.log")"
		sleep 3	# the first HELLOs a peer that is not back yet
	done
	for h in "$HB" "$HC"; do
		WAIT_S=30 wait_for net_ok "$h" "$NW" && WAIT_S=10 wait_for test -S "${NC_SOCK[$h]}" || okb=0
	done
	addrs=$(for h in "$HB" "$HC"; do api_body "$h" GET "/network/$NW" | jq -r '.assignedAddresses[0]'; done | tr '\n' ' ')
	[ $okb = 1 ] && [ "$addrs" = "${NC_IP[$HB]}/24 ${NC_IP[$HC]}/24 " ] &&
		pass "$n: restarted members are OK on their cached config ($addrs)" ||
		fail "$n: members' config" "$addrs"
	t0=$SECONDS
	WAIT_S=40 wait_for peer_live "$HB" "$AC" && WAIT_S=10 wait_for peer_live "$HC" "$AB" &&
		pass "$n: B and C found each other again without the root ($((SECONDS - t0)) s after both were up)" ||
		fail "$n: B <-> C path" "B: $(api_body "$HB" GET "/peer/$AC" | jq -c '.paths'); C: $(api_body "$HC" GET "/peer/$AB" | jq -c '.paths')"
	r=$(xfer "$HB" "$HC" $((PN + 1)))
	[ "$r" = ok ] && pass "$n: B -> C transfer (4 MB, sha256 matches)" || fail "$n: B -> C" "$r"
	r=$(xfer "$HC" "$HB" $((PN + 2)))
	[ "$r" = ok ] && pass "$n: C -> B transfer (4 MB, sha256 matches)" || fail "$n: C -> B" "$r"
	PN=$((PN + 10))
}
PN=6010
for h in "$HB" "$HC"; do daemon_stop "$h" || fail "stop $h" ""; done
rm -f "$HC/peers.d/$AB.peer"
restart_round "root down, peers.d"
for h in "$HB" "$HC"; do daemon_stop "$h" || fail "stop $h" ""; done
rm -f "$HC/peers.d/$AB.peer"
PORT[$HC]=$(fixed_port)
jq --arg c "$AC" --arg ep "127.0.0.1/${PORT[$HC]}" '.virtual[$c] = {try: [$ep]}' "$HB/local.conf" >"$HB/local.conf.new" &&
	mv "$HB/local.conf.new" "$HB/local.conf"
restart_round "root down, static path"

# ---- the root and controller comes back ----
daemon_start "$HA" "${PORT[$HA]}" || fail "restart A" "$(tail -3 "$HA/stderr.log")"
WAIT_S=60 wait_for peer_live "$HB" "$(daddr "$HA")" && WAIT_S=30 wait_for peer_live "$HC" "$(daddr "$HA")" &&
	pass "root back: B and C reach A again" ||
	fail "root back: paths to A" "B: $(api_body "$HB" GET "/peer/$(daddr "$HA")" | jq -c '.paths'); C: $(api_body "$HC" GET "/peer/$(daddr "$HA")" | jq -c '.paths')"
api_code "$HA" POST "/controller/network/$NW" '{"name":"rootback"}' >/dev/null
named() { [ "$(api_body "$1" GET "/network/$NW" | jq -r .name)" = rootback ]; }
WAIT_S=90 wait_for named "$HB" && WAIT_S=30 wait_for named "$HC" &&
	pass "root back: a config change on the controller reaches B and C" ||
	fail "root back: config" "B $(api_body "$HB" GET "/network/$NW" | jq -c '{name,status}') C $(api_body "$HC" GET "/network/$NW" | jq -c '{name,status}')"
r=$(xfer "$HB" "$HC" 6004)
[ "$r" = ok ] && pass "root back: B -> C transfer (4 MB, sha256 matches)" || fail "root back: transfer" "$r"
exit 0
