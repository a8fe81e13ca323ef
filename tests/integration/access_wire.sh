#!/usr/bin/env bash
# access_wire.sh - hostile datagrams on the daemon's UDP port are dropped and
# counted in /metrics, and the daemon lives on. Daemons A (controller) and B
# share a network over loopback; python sends A's port:
#  - 400 random datagrams (0..1500 bytes)          -> every one counted (malformed, relay, ...)
#  - 300 well-formed packets from B's address to A with a wrong MAC
#    (B is a known peer, so each is authenticated and fails) -> reason="mac"
#  - 200 packets from addresses A has never heard of -> held for WHOIS, then
#    reason="unknown_peer" (or "queue_full" beyond the 64-slot hold queue)
# then B is deauthorized on A's controller and B's program keeps sending to
# A: A drops B's frames as a non-member (reason="not_member"), and B's
# connection attempts fail. A TCP exchange before and the API after show the
# daemon still works.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
source "$(dirname "$0")/fault_lib.bash"
X=$BIN/tools/fault_xfer
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" "$X" || exit 1

HA=$NC_TMP/a HB=$NC_TMP/b
net_up "$HA" "$HB" || { fail "setup: two daemons on one network" "see $NC_TMP"; exit 1; }
PA=$(home_pid "$HA") PORTA=$(dport "$HA") A=$(daddr "$HA") B=$(daddr "$HB")
drop() { metric "$HA" "^zt_packets_dropped_total\\{reason=\"$1\"\\}"; }

xfer() {	# xfer PORT - 1 MB B -> A; prints "ok" when sha256 matches
	net_bg "$HA" "$NC_TMP/sink.$1" "$X" sink "$1"; local r=$BG_PID
	wait_for grep -q listening "$NC_TMP/sink.$1"
	timeout 20 env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$HB]}" "$X" source "${NC_IP[$HA]}" "$1" 1048576 >"$NC_TMP/src.$1" 2>&1
	WAIT_S=5 wait_for bash -c "! kill -0 $r 2>/dev/null"; kill -9 $r 2>/dev/null
	local s=$(awk '/^sent/ {print $3}' "$NC_TMP/src.$1") d=$(awk '/^done/ {print $3}' "$NC_TMP/sink.$1")
	[ -n "$s" ] && [ "$s" = "$d" ] && echo ok || echo "no: $(cat "$NC_TMP/src.$1")"
}
[ "$(xfer 6001)" = ok ] && pass "wire: B -> A transfer works before the attack" || fail "wire: transfer before" ""

cat >"$NC_TMP/hostile.py" <<'PY'
import os, random, socket, sys
port, a, b, kind, n = int(sys.argv[1]), bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3]), sys.argv[4], int(sys.argv[5])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
random.seed(11)
for i in range(n):
    if kind == "garbage":
        p = os.urandom(random.randint(0, 1500))
    else:
        src = b if kind == "badmac" else bytes([random.randint(1, 0xfe)]) + os.urandom(4)
        # header: id(8) dst(5) src(5) flags(1: cipher 1, legacy 0x80) mac(8), then verb + payload
        p = os.urandom(8) + a + src + bytes([0x88]) + os.urandom(8) + os.urandom(random.randint(1, 1200))
    u.sendto(p, ("127.0.0.1", port))
PY
alldrops() { metric "$HA" '^zt_packets_dropped_total'; }
dump() { api_body "$HA" GET /metrics | grep '^zt_packets_dropped_total' | awk '$2 > 0' | sed 's/zt_packets_dropped_total//' | tr '\n' ' '; }
# held packets (unknown source, waiting for WHOIS) and partial fragments
# are counted when they expire (5 s)
settle() { sleep 6.5; }
d0=$(alldrops) m0=$(drop malformed)
python3 "$NC_TMP/hostile.py" "$PORTA" "$A" "$B" garbage 400
settle
d1=$(alldrops) m1=$(drop malformed) mac0=$(drop mac)
echo "after 400 random datagrams: $(dump)"
[ $((m1 - m0)) -gt 0 ] && [ $((d1 - d0)) -ge 380 ] &&
	pass "wire: 400 random datagrams dropped and counted ($((d1 - d0)) drops, $((m1 - m0)) malformed): $(dump)" ||
	fail "wire: garbage" "drops $d0 -> $d1, malformed $m0 -> $m1"
python3 "$NC_TMP/hostile.py" "$PORTA" "$A" "$B" badmac 300
sleep 1
mac1=$(drop mac)
[ $((mac1 - mac0)) -ge 300 ] && pass "wire: 300 packets from a known peer with a bad MAC counted as mac (+$((mac1 - mac0)))" ||
	fail "wire: bad MAC" "mac $mac0 -> $mac1"
u1=$(( $(drop unknown_peer) + $(drop queue_full) ))
python3 "$NC_TMP/hostile.py" "$PORTA" "$A" "$B" unknown 200
settle
u2=$(( $(drop unknown_peer) + $(drop queue_full) ))
[ $((u2 - u1)) -ge 200 ] && pass "wire: 200 packets from unknown addresses held for WHOIS (bounded queue), then counted as unknown_peer/queue_full (+$((u2 - u1)))" ||
	fail "wire: unknown peers" "unknown_peer+queue_full $u1 -> $u2: $(dump)"
kill -0 $PA && [ "$(api_code "$HA" GET /status)" = 200 ] && [ "$(xfer 6002)" = ok ] &&
	pass "wire: A alive, API answers, B -> A transfer still works after 900 hostile datagrams" ||
	fail "wire: after the attack" "alive $(kill -0 $PA 2>/dev/null && echo y)"

# non-member: deauthorize B, B keeps sending frames to A
n0=$(drop not_member)
c=$(api_code "$HA" POST "/controller/network/$NW/member/$B" '{"authorized":false}')
[ "$c" = 200 ] || fail "wire: deauthorize B" "code $c"
ok=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	r=$(timeout 8 env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$HB]}" "$X" source "${NC_IP[$HA]}" 6003 100000 2>&1 | tail -n1)
	n1=$(drop not_member)
	if [ $((n1 - n0)) -gt 0 ] && ! echo "$r" | grep -q '^sent'; then ok=1; break; fi
	sleep 1
done
[ $ok = 1 ] && pass "wire: after deauthorization B's frames are dropped by A as not_member (+$((n1 - n0))), B's connect fails ($r)" ||
	fail "wire: non-member frames" "not_member $n0 -> $n1, B's client: $r"
kill -0 $PA && pass "wire: A alive at the end" || fail "wire: A died" ""
exit 0
