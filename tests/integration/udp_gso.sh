#!/usr/bin/env bash
# udp_gso.sh - the daemon's UDP send batch sends runs of equal datagrams to
# one address as one UDP_SEGMENT (GSO) message, and falls back to one
# datagram per message where the kernel refuses it.
#  1. build/tools/udp_gso (svc_udp_send/svc_udp_flush on their own) in one
#     network namespace, a counting receiver in another, over a veth:
#     with checksum offload the runs go as GSO messages; with transmit
#     checksum offload turned off (ethtool; older kernels say EIO) and over
#     an MTU below the datagrams (EINVAL) the same datagrams still all
#     arrive, one per message; NC_NO_GSO=1 turns it off. The receiver
#     checks every datagram's number and length.
#  2. two daemons on loopback: a 16 MB transfer between intercepted programs
#     matches sha256, the sender's /metrics shows GSO datagrams and the
#     receiver's coalesced (UDP_GRO) ones, with no MAC or malformed drops.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
source "$(dirname "$0")/fault_lib.bash"
G=$BIN/tools/udp_gso X=$BIN/tools/fault_xfer
need_bins "$G" "$X" "$SVC" "$CLI" "$IDTOOL" "$ICEPT" || exit 1

# ---- 1. the batch on its own, between namespaces ----
if ! is_root; then
	skip "gso: between namespaces" "needs root for network namespaces"
elif ! command -v ethtool >/dev/null; then
	skip "gso: between namespaces" "ethtool not installed (make deps installs it)"
else
	S=$$ N1=ncg1$$ N2=ncg2$$
	ip netns add $N1 && NC_NETNS+=($N1)
	ip netns add $N2 && NC_NETNS+=($N2)
	ip link add "g1$S" netns $N1 type veth peer name "g2$S" netns $N2
	ip -n $N1 addr add 10.79.0.1/24 dev "g1$S"; ip -n $N1 link set "g1$S" up
	ip -n $N2 addr add 10.79.0.2/24 dev "g2$S"; ip -n $N2 link set "g2$S" up
	COUNT=40 LEN=1400 REP=3
	TOTAL=$(((COUNT + 1) * REP))
	cat >"$NC_TMP/recv.py" <<'PY'
import socket, struct, sys
count, length, total = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
s.bind(("10.79.0.2", 9555))
print("ready", flush=True)
s.settimeout(5)
seen, bad = set(), 0
try:
    while len(seen) < total:
        d = s.recv(65536)
        s.settimeout(1)
        n = struct.unpack(">I", d[:4])[0]
        want = length if n % (count + 1) < count else length // 2
        if len(d) != want or n in seen or d[4:] != bytes([n & 0xff]) * (want - 4):
            bad += 1
        seen.add(n)
except socket.timeout:
    pass
print("got", len(seen), "bad", bad, "complete", int(seen == set(range(total))))
PY
	# run_case NAME ENV... - receiver in N2, the batch from N1; sets OUT, GOT
	run_case() {
		local name=$1; shift
		ip netns exec $N2 python3 "$NC_TMP/recv.py" $COUNT $LEN $TOTAL >"$NC_TMP/recv.$name" 2>&1 &
		local rp=$!
		nc_track $rp
		wait_for grep -q ready "$NC_TMP/recv.$name"
		OUT=$(ip netns exec $N1 env "$@" "$G" 10.79.0.2 9555 $COUNT $LEN $REP 2>"$NC_TMP/gso.$name.err")
		wait $rp
		GOT=$(tail -n1 "$NC_TMP/recv.$name")
	}
	# expect NAME SENDER_LINE PASS_TEXT - the sender printed exactly that
	# and the receiver got every datagram intact
	expect() {
		if [ "$OUT" = "$2" ] && [ "$GOT" = "got $TOTAL bad 0 complete 1" ]; then
			pass "gso: $3"
		else
			fail "gso: $1" "sender: $OUT; receiver: $GOT; log: $(cat "$NC_TMP/gso.$1.err")"
		fi
	}
	run_case offload
	expect offload "out $TOTAL gso $TOTAL messages $REP refused 0 errors 0 gso_off 0" \
		"$REP runs of $COUNT x $LEN B (+1 shorter) went as $REP UDP_SEGMENT messages, all $TOTAL datagrams arrived intact"
	# no transmit checksum offload: kernels before ~6.x refuse GSO there
	# (EIO, the batch falls back for good); newer ones checksum in software
	ip netns exec $N1 ethtool -K "g1$S" tx off >/dev/null 2>&1
	run_case nocsum
	if [[ "$OUT" == "out $TOTAL gso "*" errors 0 gso_off "* ]] && [ "$GOT" = "got $TOTAL bad 0 complete 1" ] &&
		{ [[ "$OUT" == *" gso $TOTAL "* ]] || grep -q 'refuses UDP_SEGMENT' "$NC_TMP/gso.nocsum.err"; }; then
		pass "gso: without transmit checksum offload all $TOTAL arrive ($OUT)"
	else
		fail "gso: without checksum offload" "sender: $OUT; receiver: $GOT; log: $(cat "$NC_TMP/gso.nocsum.err")"
	fi
	ip netns exec $N1 ethtool -K "g1$S" tx on >/dev/null 2>&1
	# a path MTU below the datagrams: the kernel must fragment them, and
	# refuses a GSO message (EINVAL); each run is sent again one by one,
	# and the socket keeps GSO (the refusal was about one path)
	ip -n $N1 link set "g1$S" mtu 1280; ip -n $N2 link set "g2$S" mtu 1280
	run_case mtu
	expect mtu "out $TOTAL gso 0 messages 0 refused $REP errors 0 gso_off 0" \
		"over a 1280-byte MTU the $REP refused runs were sent again one by one; all $TOTAL arrive, GSO stays on"
	ip -n $N1 link set "g1$S" mtu 1500; ip -n $N2 link set "g2$S" mtu 1500
	run_case off NC_NO_GSO=1
	expect off "out $TOTAL gso 0 messages 0 refused 0 errors 0 gso_off 1" \
		"NC_NO_GSO=1 sends one datagram per message; all $TOTAL arrive"
fi

# ---- 2. end to end, two daemons ----
HA=$NC_TMP/a HB=$NC_TMP/b
net_up "$HA" "$HB" || { fail "setup: two daemons on one network" "see $NC_TMP"; exit 1; }
g0=$(metric "$HB" '^zt_udp_gso_datagrams_total$') r0=$(metric "$HA" '^zt_udp_gro_datagrams_total$')
net_bg "$HA" "$NC_TMP/sink" "$X" sink 6000; RP=$BG_PID
wait_for grep -q listening "$NC_TMP/sink" || { fail "sink starts" "$(cat "$NC_TMP/sink")"; exit 1; }
net_bg "$HB" "$NC_TMP/src" "$X" source "${NC_IP[$HA]}" 6000 $((16 * 1024 * 1024)); SP=$BG_PID
wait $SP; wait $RP
s=$(awk '/^sent/ {print $3}' "$NC_TMP/src"); r=$(awk '/^done/ {print $3}' "$NC_TMP/sink")
g1=$(metric "$HB" '^zt_udp_gso_datagrams_total$') o1=$(metric "$HB" '^zt_udp_datagrams_out_total$')
e1=$(metric "$HB" '^zt_udp_send_errors_total$')
if [ -n "$s" ] && [ "$s" = "$r" ] && [ $((g1 - g0)) -gt 1000 ] && [ "$e1" = 0 ]; then
	pass "gso: 16 MB between two daemons matches sha256; the sender sent $((g1 - g0)) of its $o1 datagrams as GSO segments"
else
	fail "gso: daemons" "sha $s / $r; gso $g0 -> $g1 of $o1; errors $e1"
fi
# the receiver asked for UDP_GRO: over loopback the runs arrive coalesced,
# and every datagram cut out of them authenticates (no MAC or malformed
# drops: TCP would have hidden a bad cut behind retransmissions)
r1=$(metric "$HA" '^zt_udp_gro_datagrams_total$') in1=$(metric "$HA" '^zt_packets_in_total$')
bad=$(metric "$HA" '^zt_packets_dropped_total[{]reason="(mac|malformed)"')
tr=$(metric "$HA" '^zt_udp_truncated_total$')
if [ $((r1 - r0)) -gt 1000 ] && [ "$bad" = 0 ] && [ "$tr" = 0 ]; then
	pass "gro: the receiver got $((r1 - r0)) of its $in1 datagrams coalesced, cut them up, and none failed its MAC"
else
	fail "gro: receiver" "gro $r0 -> $r1 of $in1; mac/malformed drops $bad; truncated $tr"
fi
exit 0
