#!/usr/bin/env bash
# stack_daemons.sh - the netcon stack through two real daemons on loopback
# (the daemon engine, UDP, lwIP in each, the intercept): 100 MB each way over
# one connection with sha256 checked and a half-close in the middle, a reader
# that stalls 10 s then resumes and loses nothing while the writer blocks, a
# peer reset seen as ECONNRESET, a half-close from the far side; and two
# networks in one daemon at once, with different address ranges and a
# server on each.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
source "$(dirname "$0")/fault_lib.bash"
TC=$ROOT/tests/tools/tcp_check.py
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" || exit 1

HA=$NC_TMP/a HB=$NC_TMP/b
net_up "$HA" "$HB" || { fail "setup: two daemons on one network" "see $NC_TMP"; exit 1; }
IPA=${NC_IP[$HA]}
net_bg "$HA" "$NC_TMP/serve.out" python3 "$TC" serve "$IPA" 7100
WAIT_S=20 wait_for grep -q listening "$NC_TMP/serve.out" || { fail "server starts" "$(cat "$NC_TMP/serve.out")"; exit 1; }

r=$(in_net "$HB" timeout 240 python3 "$TC" bulk "$IPA" 7100 100 2>&1 | tail -1)
case "$r" in ok*) pass "two daemons: 100 MB each way on one connection, sha256 both ways, half-close between ($r)" ;;
	*) fail "two daemons: 100 MB each way" "$r" ;; esac
r=$(in_net "$HB" timeout 120 python3 "$TC" stall "$IPA" 7100 20 10 2>&1 | tail -1)
case "$r" in ok*) pass "two daemons: reader stalls 10 s, the writer blocks, nothing lost ($r)" ;;
	*) fail "two daemons: stalled reader" "$r" ;; esac
r=$(in_net "$HB" timeout 30 python3 "$TC" reset "$IPA" 7100 2>&1 | tail -1)
[ "$r" = "ok ECONNRESET" ] && pass "two daemons: peer reset surfaces as ECONNRESET" || fail "two daemons: reset" "$r"
r=$(in_net "$HB" timeout 30 python3 "$TC" peerfin "$IPA" 7100 2>&1 | tail -1)
sleep 1
if [ "$r" = "ok eof" ] && grep -q "peerfin server got 1048576 True" "$NC_TMP/serve.out"; then
	pass "two daemons: far side half-closes, we read EOF and still send 1 MB"
else
	fail "two daemons: far-side half-close" "$r $(grep peerfin "$NC_TMP/serve.out")"
fi

# --- two networks in one daemon ---
NW1=$NW PFX1=$PFX
NW2=$(daddr "$HA")00cafe
PFX2=10.147.$(( ${PFX1##*.} + 100 ))
[ "$(ctl_make_network "$HA" "$NW2" second "$PFX2")" = 200 ] || fail "second network: create" ""
for h in "$HA" "$HB"; do
	i=1; [ "$h" = "$HB" ] && i=2
	ctl_authorize "$HA" "$NW2" "$(daddr "$h")" "$PFX2.$i" >/dev/null
	cli "$h" join "$NW2" >/dev/null
done
if WAIT_S=30 wait_for net_ok "$HA" "$NW2" && WAIT_S=30 wait_for net_ok "$HB" "$NW2"; then
	n=$(cli "$HA" listnetworks | grep -c "OK PRIVATE")
	[ "$n" = 2 ] && pass "one daemon, two networks: both OK ($PFX1.0/24 and $PFX2.0/24)" || fail "two networks listed" "$(cli "$HA" listnetworks)"
	for k in 1 2; do
		mkdir -p "$NC_TMP/www$k"; echo "network $k content" > "$NC_TMP/www$k/id.txt"
	done
	( cd "$NC_TMP/www1" && exec env $(nc_preload_env "$ICEPT" python3) ZT_NC_NETWORK="$HA/nc_$NW1" python3 -m http.server --bind "$PFX1.1" 8081 ) >"$NC_TMP/h1.log" 2>&1 & nc_track $!
	( cd "$NC_TMP/www2" && exec env $(nc_preload_env "$ICEPT" python3) ZT_NC_NETWORK="$HA/nc_$NW2" python3 -m http.server --bind "$PFX2.1" 8081 ) >"$NC_TMP/h2.log" 2>&1 & nc_track $!
	get() { env $(nc_preload_env "$ICEPT" curl) ZT_NC_NETWORK="$HB/nc_$1" curl -sf --max-time 5 "http://$2:8081/id.txt"; }
	WAIT_S=20 wait_for get "$NW1" "$PFX1.1"; WAIT_S=20 wait_for get "$NW2" "$PFX2.1"
	g1=$(get "$NW1" "$PFX1.1"); g2=$(get "$NW2" "$PFX2.1")
	[ "$g1" = "network 1 content" ] && [ "$g2" = "network 2 content" ] \
		&& pass "one daemon, two networks: a server on each, fetched over each network" \
		|| fail "two networks: servers" "got '$g1' / '$g2'"
	x=$(get "$NW2" "$PFX1.1" 2>&1); rc=$?
	[ $rc != 0 ] && pass "two networks are separate: network 1's server is not reachable through network 2" \
		|| fail "two networks are separate" "got '$x' through the wrong network"
	cli "$HA" leave "$NW2" >/dev/null
	WAIT_S=10 wait_for test ! -e "$HA/nc_$NW2"
	g1=$(get "$NW1" "$PFX1.1")
	[ ! -e "$HA/nc_$NW2" ] && [ "$g1" = "network 1 content" ] \
		&& pass "leaving one network frees its stack; the other keeps serving" \
		|| fail "leave one of two networks" "socket still there or network 1 broken: '$g1'"
else
	fail "second network: both members OK" "$(cli "$HA" listnetworks; cli "$HB" listnetworks)"
fi
exit $NC_FAILED
