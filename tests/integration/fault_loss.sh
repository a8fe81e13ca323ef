#!/usr/bin/env bash
# fault_loss.sh - a bulk transfer over a lossy, reordering path still
# arrives intact (sha256). Two netcon daemons, A (controller) and B; an
# intercepted sender on B streams 100 MB to an intercepted receiver on A.
#
# 1. tc netem: the daemons in two network namespaces joined by a veth with
#    "netem loss 5% reorder" on both ends. Needs root and the sch_netem
#    kernel module; if `tc qdisc add dev X root netem loss 5%` is refused the
#    part is skipped, saying so.
# 2. Always: the same over loopback through build/tools/fault_lossy, a UDP
#    relay that drops 5% of the datagrams and reorders 5% in both directions;
#    B knows A only at the relay's address (a moon whose root A has the relay
#    as its only endpoint, and a static path to it), and the relay's counters prove
#    the traffic went through it.
# Size: FAULT_LOSS_MB (default 2, to keep make test short). The issue asked
# for 100 MB: FAULT_LOSS_MB=100 runs it with a matching time limit; with the
# lwIP the Makefile builds (25 ms TCP timer) it took 357 s (287 kB/s,
# bench/PROFILE.md); Debian's packaged lwIP (250 ms timer, recovery mostly
# by 1.5-6 s timeouts) moves about 40 kB/s (9.7 MB in 240 s), ~40 minutes.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
source "$(dirname "$0")/fault_lib.bash"
X=$BIN/tools/fault_xfer LOSSY=$BIN/tools/fault_lossy
need_bins "$SVC" "$CLI" "$IDTOOL" "$ICEPT" "$X" "$LOSSY" || exit 1
MB=${FAULT_LOSS_MB:-2}
XFER_TO=$((120 + MB * 30))
BYTES=$((MB * 1024 * 1024))
WANT=$("$X" stream "$BYTES")

# transfer NAME HOME_SRC HOME_DST DST_IP PORT - 100 MB; pass/fail on sha256
transfer() {
	local name=$1 hs=$2 hd=$3 ip=$4 port=$5 r t0 s d
	net_bg "$hd" "$NC_TMP/sink.$port" "$X" sink "$port"; r=$BG_PID
	wait_for grep -q listening "$NC_TMP/sink.$port"
	t0=$(date +%s)
	timeout "$XFER_TO" env "${APP_ENV[@]}" LD_PRELOAD="$PRELOAD" ZT_NC_NETWORK="${NC_SOCK[$hs]}" "$X" source "$ip" "$port" "$BYTES" >"$NC_TMP/src.$port" 2>&1
	# the sender is done once its data is in the stack's buffers (~200 kB
	# and more): the receiver gets the rest within the same time limit (at
	# Debian's lwIP's ~40 kB/s under loss that can take over 30 s)
	WAIT_S=$((XFER_TO - ($(date +%s) - t0) > 30 ? XFER_TO - ($(date +%s) - t0) : 30)) \
		wait_for bash -c "! kill -0 $r 2>/dev/null"; kill -9 $r 2>/dev/null
	s=$(awk '/^sent/ {print $3}' "$NC_TMP/src.$port") d=$(awk '/^done/ {print $3 " " $2}' "$NC_TMP/sink.$port")
	if [ "$s" = "$WANT" ] && [ "$d" = "$WANT $BYTES" ]; then
		pass "$name: $MB MB arrived intact, sha256 matches ($(($(date +%s) - t0)) s)"
	else
		fail "$name: $MB MB transfer" "sender: $(cat "$NC_TMP/src.$port"); receiver: $(cat "$NC_TMP/sink.$port")"
	fi
}

# ---- 1. tc netem on a veth between two namespaces ----
netem_ok=0
if is_root && command -v tc >/dev/null; then
	T=nclt$$
	if ip netns add "${T}x" 2>/dev/null; then
		NC_NETNS+=("${T}x")
		ip -n "${T}x" link add v0 type veth peer name v1 2>/dev/null
		ip netns exec "${T}x" tc qdisc add dev v0 root netem loss 5% 2>"$NC_TMP/netem.err" && netem_ok=1
	fi
fi
if [ $netem_ok = 0 ]; then
	skip "loss: tc netem" "the kernel refuses 'tc qdisc add dev v0 root netem loss 5%' ($(head -c 120 "$NC_TMP/netem.err" 2>/dev/null)); the user-space lossy relay below covers loss and reordering"
else
	NA=${T}a NB=${T}b
	ip netns add "$NA" && NC_NETNS+=("$NA"); ip netns add "$NB" && NC_NETNS+=("$NB")
	ip link add "${T}va" netns "$NA" type veth peer name "${T}vb" netns "$NB"
	ip -n "$NA" addr add 10.211.0.1/24 dev "${T}va"; ip -n "$NB" addr add 10.211.0.2/24 dev "${T}vb"
	for n in "$NA" "$NB"; do ip -n "$n" link set lo up; done
	ip -n "$NA" link set "${T}va" up; ip -n "$NB" link set "${T}vb" up
	ip netns exec "$NA" tc qdisc add dev "${T}va" root netem loss 5% delay 2ms 1ms reorder 10% 50%
	ip netns exec "$NB" tc qdisc add dev "${T}vb" root netem loss 5% delay 2ms 1ms reorder 10% 50%
	H1=$NC_TMP/na H2=$NC_TMP/nb
	daemon_start "$H1" 0 "$SVC" "$NA" || fail "netem: start A" ""
	P1=$(dport "$H1")
	printf '{ "settings": { "noPlanet": true }, "virtual": { "%s": { "try": [ "10.211.0.1/%s" ] } } }\n' "$(daddr "$H1")" "$P1" >"$H2/local.conf" 2>/dev/null ||
		{ mkdir -p "$H2"; printf '{ "settings": { "noPlanet": true }, "virtual": { "%s": { "try": [ "10.211.0.1/%s" ] } } }\n' "$(daddr "$H1")" "$P1" >"$H2/local.conf"; }
	daemon_start "$H2" 0 "$SVC" "$NB" || fail "netem: start B" ""
	NW=$(daddr "$H1")00beef
	ctl_make_network "$H1" "$NW" netem 10.212.0 >/dev/null
	ctl_authorize "$H1" "$NW" "$(daddr "$H1")" 10.212.0.1 >/dev/null
	ctl_authorize "$H1" "$NW" "$(daddr "$H2")" 10.212.0.2 >/dev/null
	cli "$H1" join "$NW" >/dev/null; cli "$H2" join "$NW" >/dev/null
	NC_SOCK[$H1]=$H1/nc_$NW NC_SOCK[$H2]=$H2/nc_$NW
	if WAIT_S=60 wait_for net_ok "$H1" "$NW" && WAIT_S=60 wait_for net_ok "$H2" "$NW"; then
		transfer "loss: netem 5% loss + reordering between namespaces" "$H2" "$H1" 10.212.0.1 6100
	else
		fail "loss: netem network" "members not OK"
	fi
fi

# ---- 2. a lossy, reordering relay on loopback ----
HA=$NC_TMP/a HB=$NC_TMP/b
daemon_start "$HA" || { fail "relay: start A" ""; exit 1; }
PA=$(dport "$HA") A=$(daddr "$HA")
RP=$(free_port)
"$LOSSY" "$RP" "$PA" ${FAULT_LOSS_PCT:-5} ${FAULT_REORDER_PCT:-5} 7 >"$NC_TMP/lossy.out" 2>&1 &
LP=$!; nc_track $LP
wait_for grep -q ready "$NC_TMP/lossy.out" || { fail "relay: fault_lossy starts" "$(cat "$NC_TMP/lossy.out")"; exit 1; }
mkdir -p "$HB/moons.d"
# B finds A as the root of a moon whose only endpoint is the relay
MOON=$(make_moon "$HA" "127.0.0.1/$RP") && cp "$MOON" "$HB/moons.d/" || { fail "relay: moon" ""; exit 1; }
printf '{ "settings": { "noPlanet": true }, "virtual": { "%s": { "try": [ "127.0.0.1/%s" ] } } }\n' "$A" "$RP" >"$HB/local.conf"
daemon_start "$HB" || { fail "relay: start B" ""; exit 1; }
NW=${A}00beef
ctl_make_network "$HA" "$NW" lossy "$PFX" >/dev/null
for h in "$HA" "$HB"; do
	i=$([ "$h" = "$HA" ] && echo 1 || echo 2)
	ctl_authorize "$HA" "$NW" "$(daddr "$h")" "$PFX.$i" >/dev/null
	cli "$h" join "$NW" >/dev/null
	NC_SOCK[$h]=$h/nc_$NW NC_IP[$h]=$PFX.$i
done
if WAIT_S=60 wait_for net_ok "$HA" "$NW" && WAIT_S=60 wait_for net_ok "$HB" "$NW" && WAIT_S=10 wait_for test -S "${NC_SOCK[$HB]}"; then
	pass "relay: B joined A's network through a relay losing and reordering 5% of datagrams"
	f0=$(tail -n1 "$NC_TMP/lossy.out" | awk '{print $2}')
	transfer "loss: 5% loss + 5% reordering (user-space relay)" "$HB" "$HA" "${NC_IP[$HA]}" 6200
	sleep 1.2
	st=$(tail -n1 "$NC_TMP/lossy.out")
	f1=$(echo "$st" | awk '{print $2}') dr=$(echo "$st" | awk '{print $4}') ro=$(echo "$st" | awk '{print $6}')
	[ $((f1 - f0)) -gt $((BYTES / 3000)) ] && [ "$dr" -gt 0 ] && [ "$ro" -gt 0 ] &&
		pass "relay: the transfer went through the relay ($st)" ||
		fail "relay: traffic bypassed the relay" "$st (forwarded since start: $((f1 - f0)))"
else
	fail "relay: network over the lossy relay" "A: $(api_body "$HA" GET /network/$NW | jq -c '{status,assignedAddresses}') B: $(api_body "$HB" GET /network/$NW | jq -c '{status,assignedAddresses}')"
fi
exit 0
