#!/usr/bin/env bash
# load_ports.sh - local ports under connection churn, on a small range.
# B's stack gets only 100 local ports (local.conf netconLocalPortRange).
#  - 12 waves of 100 short connections from B to one server on A, 1.5 s
#    apart: 1,200 connections in about 20 s, each one left in TIME_WAIT on B
#    for 2 * MSL (120 s with Debian's lwIP): they only fit in 100 ports
#    because the stack recycles TIME_WAIT pcbs (those of the same 4-tuple
#    once they are 1 s old, see stack/sock_port.c). Every wave must be
#    clean, and connections must use ports of the range.
#  - with 100 connections held open the range is really exhausted: the
#    connects beyond it (non-blocking, and a blocking one) fail at once with
#    EADDRNOTAVAIL, never hang; the 100 keep working. Once they close, a
#    new wave is clean again.
# All of this with Debian's packaged liblwip on B (HOME/liblwip.so: 120 s
# TIME_WAIT, the hard case); then B is restarted on the library the daemon
# finds by itself (netcon's build when there is one) for 4 more waves.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
source "$(dirname "$0")/fault_lib.bash"
L=$BIN/tools/load_tcp X=$BIN/tools/fault_xfer
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" "$L" "$X" || exit 1
LO=40000 HI=40099
DEB_LWIP=/usr/lib/x86_64-linux-gnu/liblwip.so.0

HA=$NC_TMP/a HB=$NC_TMP/b
net_up "$HA" "$HB" || { fail "setup: two daemons on one network" "see $NC_TMP"; exit 1; }
PB=$(dport "$HB")
jq --argjson lo $LO --argjson hi $HI '.settings.netconLocalPortRange = [$lo, $hi]' "$HB/local.conf" >"$HB/local.conf.new" &&
	mv "$HB/local.conf.new" "$HB/local.conf"
[ -r "$DEB_LWIP" ] && cp "$DEB_LWIP" "$HB/liblwip.so"
# restart_b - B back on its port, network up; sets LIB to the lwIP it loaded.
# Not run in $(...): daemon_start's nc_track must reach this shell, or the
# cleanup trap would not end the restarted daemon.
restart_b() {
	daemon_stop "$HB" && : >"$HB/stderr.log" && daemon_start "$HB" "$PB" &&
		WAIT_S=30 wait_for net_ok "$HB" "$NW" && WAIT_S=10 wait_for test -S "${NC_SOCK[$HB]}" &&
		WAIT_S=10 wait_for grep -q ': lwIP ' "$HB/stderr.log" &&
		LIB=$(grep -m1 ': lwIP ' "$HB/stderr.log" | sed 's/.*: lwIP //')
}
# lib_name DESC - short name of the library the daemon logged
lib_name() { case "$1" in *"Debian's packaged"*) echo "Debian's packaged liblwip" ;; *"netcon build"*) echo "netcon's lwIP build" ;; *) echo "${1%% *}" ;; esac; }
restart_b || { fail "setup: B restarted with ports $LO-$HI" "$(tail -5 "$HB/stderr.log")"; exit 1; }
echo "B: lwIP $LIB"
net_bg "$HA" "$NC_TMP/serve.out" "$L" serve 7000
wait_for grep -q listening "$NC_TMP/serve.out" || { fail "server starts" ""; exit 1; }
client() {	# client CONNS REQS SECS - load_tcp on B; output in $NC_TMP/cl.out/.err
	timeout $(($3 + 30)) env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$HB]}" \
		"$L" client "${NC_IP[$HA]}" 7000 "$1" "$2" "$3" >"$NC_TMP/cl.out" 2>"$NC_TMP/cl.err"
}

# ---- churn: 1,200 connections through 100 ports, TIME_WAIT recycled ----
bad=0 t0=$SECONDS
for w in $(seq 1 12); do
	sleep 1.5
	client 100 100 60 || { bad=$((bad + 1)); echo "wave $w: $(cat "$NC_TMP/cl.out"); $(sort "$NC_TMP/cl.err" | uniq -c | head -3)"; }
done
[ $bad = 0 ] && pass "churn: 12 waves x 100 connections through $((HI - LO + 1)) local ports in $((SECONDS - t0)) s, all clean (TIME_WAIT recycled; $(lib_name "$LIB"))" ||
	fail "churn through $((HI - LO + 1)) ports" "$bad of 12 waves had errors"
# B's connections take their local port from the range
sleep 1.5
ports=$(in_net "$HB" python3 -c '
import socket, sys
for i in range(5):
    s = socket.create_connection((sys.argv[1], 7000), timeout=10)
    print(s.getsockname()[1]); s.close()' "${NC_IP[$HA]}" 2>&1 | tr '\n' ' ')
inr=1
for p in $ports; do [ "$p" -ge $LO ] 2>/dev/null && [ "$p" -le $HI ] || inr=0; done
[ $inr = 1 ] && [ -n "$ports" ] && pass "churn: B's connections come from its range (ports $ports)" ||
	fail "churn: local ports" "'$ports' not all in $LO-$HI"

# ---- exhaustion: 100 held open, the rest get EADDRNOTAVAIL at once ----
sleep 1.5
(client 130 100000000 15; echo "rc $?" >>"$NC_TMP/cl.out") &
CP=$!
nc_track $CP
WAIT_S=20 wait_for bash -c "[ \$(grep -c 'Cannot assign requested address' '$NC_TMP/cl.err') -ge 30 ]"
t1=$(date +%s%N)
r=$(timeout 20 env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$HB]}" "$X" source "${NC_IP[$HA]}" 6001 1024 2>&1)
dt=$((($(date +%s%N) - t1) / 1000000))
echo "$r" | grep -q 'connect:EADDRNOTAVAIL' && [ $dt -lt 5000 ] &&
	pass "exhausted: a blocking connect() fails with EADDRNOTAVAIL after ${dt} ms" ||
	fail "exhausted: blocking connect" "after ${dt} ms: $r"
wait $CP
na=$(grep -c 'Cannot assign requested address' "$NC_TMP/cl.err")
other=$(grep -vc 'Cannot assign requested address' "$NC_TMP/cl.err")
conn=$(awk '/^conns/ {print $4}' "$NC_TMP/cl.out") reqs=$(awk '/^conns/ {print $8}' "$NC_TMP/cl.out")
[ "$na" = 30 ] && [ "$other" = 0 ] && [ "$conn" = 100 ] && [ "${reqs:-0}" -gt 1000 ] &&
	pass "exhausted: 130 connects on 100 ports: 100 connected and served $reqs requests, 30 got EADDRNOTAVAIL at once" ||
	fail "exhausted: 130 connects" "EADDRNOTAVAIL $na, other errors $other ($(sort "$NC_TMP/cl.err" | uniq -c | head -3)), $(cat "$NC_TMP/cl.out")"
sleep 1.5
client 100 100 60 && pass "after: the ports are free again, a new wave of 100 is clean" ||
	fail "after exhaustion" "$(cat "$NC_TMP/cl.out"); $(sort "$NC_TMP/cl.err" | uniq -c | head -3)"
kill -0 "$(home_pid "$HB")" && pass "B's daemon alive" || fail "B's daemon" "died"

# ---- the same churn on the library the daemon picks itself ----
rm -f "$HB/liblwip.so"
restart_b || { fail "B restarted on its own lwIP" "$(tail -5 "$HB/stderr.log")"; exit 1; }
echo "B: lwIP $LIB"
bad=0
for w in 1 2 3 4; do
	sleep 1.5
	client 100 100 60 || { bad=$((bad + 1)); echo "wave $w: $(cat "$NC_TMP/cl.out"); $(sort "$NC_TMP/cl.err" | uniq -c | head -3)"; }
done
[ $bad = 0 ] && pass "churn: 4 waves x 100 connections through $((HI - LO + 1)) ports on $(lib_name "$LIB"), all clean" ||
	fail "churn on $(lib_name "$LIB")" "$bad of 4 waves had errors"
exit 0
