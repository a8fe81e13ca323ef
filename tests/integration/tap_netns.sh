#!/usr/bin/env bash
# tap_netns.sh - three zerotier-one nodes (kernel tap ports) in three network
# namespaces on one bridge. A hosts the controller and is the only root of a
# moon; B and C know A only from that moon in moons.d. All join A's network,
# get their addresses on their taps and ping each other through them. Then
# leave removes C's tap and file, SIGTERM removes A's, and a daemon without
# CAP_NET_ADMIN reports PORT_ERROR with a clear log line.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
if ! is_root; then skip "tap" "needs root for network namespaces and taps"; exit 0; fi
need_bins "$ONE" "$CLI" "$IDTOOL" || exit 1
command -v ping >/dev/null || { fail "tap" "ping missing (make deps)"; exit 1; }

S=$$
BR=ncbr$S
ip netns add "$BR" || { fail "netns" "cannot create namespaces"; exit 1; }
NC_NETNS+=("$BR")
ip -n "$BR" link add br0 type bridge && ip -n "$BR" link set br0 up
i=1
for n in a b c; do
	ns=nc$n$S
	ip netns add "$ns"; NC_NETNS+=("$ns")
	ip link add "v$n$S" netns "$ns" type veth peer name "b$n" netns "$BR"
	ip -n "$ns" link set lo up
	ip -n "$ns" link set "v$n$S" name eth0
	ip -n "$ns" addr add 10.77.0.$i/24 dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$BR" link set "b$n" master br0
	ip -n "$BR" link set "b$n" up
	i=$((i + 1))
done
ip netns exec nca$S ping -c1 -W2 10.77.0.3 >/dev/null && pass "netns: three namespaces bridged (10.77.0.1-3)" ||
	{ fail "netns: underlay" "10.77.0.1 cannot reach 10.77.0.3"; exit 1; }

HA=$NC_TMP/a HB=$NC_TMP/b HC=$NC_TMP/c
daemon_start "$HA" 9993 "$ONE" nca$S || { fail "start A" ""; exit 1; }
A=$(daddr "$HA")
MOON=$(make_moon "$HA" 10.77.0.1/9993)
[ -s "$MOON" ] || { fail "moon: idtool" "no .moon"; exit 1; }
for h in "$HB" "$HC"; do mkdir -p "$h/moons.d"; cp "$MOON" "$h/moons.d/"; done
daemon_start "$HB" 9993 "$ONE" ncb$S || { fail "start B" ""; exit 1; }
daemon_start "$HC" 9993 "$ONE" ncc$S || { fail "start C" ""; exit 1; }
B=$(daddr "$HB"); C=$(daddr "$HC")
pass "daemons: A=$A (moon root, controller), B=$B, C=$C"

NW=${A}000001
c1=$(ctl_make_network "$HA" "$NW" tapnet 10.147.30)
c2=$(ctl_authorize "$HA" "$NW" "$A" 10.147.30.1)
c3=$(ctl_authorize "$HA" "$NW" "$B" 10.147.30.2)
c4=$(ctl_authorize "$HA" "$NW" "$C" 10.147.30.3)
[ "$c1$c2$c3$c4" = 200200200200 ] && pass "controller: network and three members" || fail "controller" "codes $c1 $c2 $c3 $c4"
T0=$(date +%s)
for h in "$HA" "$HB" "$HC"; do cli "$h" join "$NW" >/dev/null; done

allok=1
for h in "$HA" "$HB" "$HC"; do
	WAIT_S=20 wait_for net_ok "$h" "$NW" || { allok=0; fail "network: $(basename "$h")" "$(api_body "$h" GET /network/$NW | jq -c '{status,assignedAddresses,portDeviceName,portError}')"; }
done
[ $allok = 1 ] && pass "network: all three OK with addresses ($(( $(date +%s) - T0 )) s)"

i=1
for h in "$HA" "$HB" "$HC"; do
	dev=$(api_body "$h" GET "/network/$NW" | jq -r .portDeviceName)
	ns=${HOME_NS[$h]}
	if ip -n "$ns" -o addr show dev "$dev" 2>/dev/null | grep -q "inet 10.147.30.$i/24" &&
	   [ "$(ip -n "$ns" -o link show dev "$dev" | grep -o 'mtu [0-9]*')" = "mtu 2800" ] &&
	   ip -n "$ns" link show dev "$dev" | grep -q "link/ether $(api_body "$h" GET "/network/$NW" | jq -r .mac)"; then
		:
	else
		fail "tap: $(basename "$h") device" "dev=$dev: $(ip -n "$ns" -o addr show 2>&1 | grep -v ' lo ')"
		allok=0
	fi
	i=$((i + 1))
done
[ $allok = 1 ] && pass "tap: each node's zt device has its MAC, MTU 2800 and address"
line=$(cli "$HB" listnetworks | sed -n 2p)
echo "$line" | grep -Eq "^200 listnetworks $NW tapnet .* OK PRIVATE zt[a-z2-7]{8} 10.147.30.2/24$" &&
	pass "cli: listnetworks shows the tap device" || fail "cli: listnetworks" "$line"

# ping each other through the taps
pingw() {	# pingw NS IP - up to 10 s of one-second pings
	local t=10
	while [ $t -gt 0 ]; do ip netns exec "$1" ping -c1 -W1 "$2" >/dev/null 2>&1 && return 0; t=$((t - 1)); done
	return 1
}
T1=$(date +%s)
ok=1
pingw ncb$S 10.147.30.3 || { ok=0; fail "ping: B -> C" "no reply"; }
pingw ncc$S 10.147.30.1 || { ok=0; fail "ping: C -> A" "no reply"; }
pingw nca$S 10.147.30.2 || { ok=0; fail "ping: A -> B" "no reply"; }
[ $ok = 1 ] && pass "ping: B->C, C->A, A->B through the taps ($(( $(date +%s) - T1 )) s)"
grep -q "peer reached: $A" "$HB/stderr.log" && pass "log: peer reached" || fail "log: peer reached" "$(tail -n 5 "$HB/stderr.log")"
# A relayed B <-> C's first packets and introduced them (RENDEZVOUS), though
# A does not load its own moon: B and C then talk directly, not through A
direct() {	# direct HOME PEER IP - PEER has a path at IP/9993 that is not expired
	api_body "$1" GET "/peer/$2" | jq -e --arg p "$3/9993" '[.paths[] | select(.expired | not) | .address] | index($p) != null' >/dev/null
}
if WAIT_S=10 wait_for direct "$HB" "$C" 10.77.0.3 && WAIT_S=10 wait_for direct "$HC" "$B" 10.77.0.2; then
	rel() { api_body "$HA" GET /metrics | awk '$1 == "zt_relayed_total" {print $2}'; }
	r1=$(rel)
	ip netns exec ncb$S ping -c 20 -i 0.05 -W 1 10.147.30.3 >/dev/null 2>&1
	r2=$(rel)
	[ -n "$r1" ] && [ -n "$r2" ] && [ $((r2 - r1)) -lt 5 ] &&
		pass "path: A introduced B and C (RENDEZVOUS); 20 pings B -> C then go direct (A relayed $((r2 - r1)))" ||
		fail "path: direct B <-> C" "A relayed $r1 -> $r2 during 20 pings"
else
	fail "path: direct B <-> C" "B's peer C: $(api_body "$HB" GET "/peer/$C" | jq -c .paths); C's peer B: $(api_body "$HC" GET "/peer/$B" | jq -c .paths)"
fi

# IPv4 multicast: A and C join 239.1.2.3 on their taps, B sends to it
cat >"$NC_TMP/mrecv.py" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5000))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton("239.1.2.3") + socket.inet_aton(sys.argv[1]))
s.settimeout(20)
print("joined", flush=True)
d, a = s.recvfrom(100)
print(d.decode(), a[0], flush=True)
PY
cat >"$NC_TMP/msend.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[1]))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
for i in range(40):
    s.sendto(b"mcast-hello", ("239.1.2.3", 5000)); time.sleep(0.5)
PY
ip netns exec nca$S timeout 25 python3 "$NC_TMP/mrecv.py" 10.147.30.1 >"$NC_TMP/ma.out" 2>&1 & RA=$!; nc_track $RA
ip netns exec ncc$S timeout 25 python3 "$NC_TMP/mrecv.py" 10.147.30.3 >"$NC_TMP/mc.out" 2>&1 & RC=$!; nc_track $RC
WAIT_S=5 wait_for grep -q joined "$NC_TMP/ma.out"; WAIT_S=5 wait_for grep -q joined "$NC_TMP/mc.out"
ip netns exec ncb$S timeout 25 python3 "$NC_TMP/msend.py" 10.147.30.2 >/dev/null 2>&1 & MS=$!; nc_track $MS
wait $RA; wait $RC
kill $MS 2>/dev/null
grep -q "mcast-hello 10.147.30.2" "$NC_TMP/ma.out" && grep -q "mcast-hello 10.147.30.2" "$NC_TMP/mc.out" &&
	pass "multicast: B's datagrams to 239.1.2.3 reach A and C (kernel groups became LIKEs)" ||
	fail "multicast" "A: $(tail -n1 "$NC_TMP/ma.out") C: $(tail -n1 "$NC_TMP/mc.out")"

# allowManaged=0 takes the managed address off the tap, =1 puts it back
devb=$(api_body "$HB" GET "/network/$NW" | jq -r .portDeviceName)
cli "$HB" set "$NW" allowManaged=0 >/dev/null
WAIT_S=3 wait_for bash -c "! ip -n ncb$S -o addr show dev $devb | grep -q 10.147.30.2/24"; off=$?
cli "$HB" set "$NW" allowManaged=1 >/dev/null
WAIT_S=3 wait_for bash -c "ip -n ncb$S -o addr show dev $devb | grep -q 10.147.30.2/24"; on=$?
[ $off = 0 ] && [ $on = 0 ] && pingw ncb$S 10.147.30.1 &&
	pass "settings: allowManaged=0 removes the address from the tap, =1 restores it (ping again)" ||
	fail "settings: allowManaged" "off=$off on=$on"

# leave removes the tap and the file
devc=$(api_body "$HC" GET "/network/$NW" | jq -r .portDeviceName)
out=$(cli "$HC" leave "$NW")
[ "$out" = "200 leave OK" ] && ! ip -n ncc$S link show dev "$devc" >/dev/null 2>&1 && [ ! -e "$HC/networks.d/$NW.conf" ] &&
	pass "leave: C's tap $devc and networks.d file removed" || fail "leave" "$out; $(ip -n ncc$S -o link show)"
deva=$(api_body "$HA" GET "/network/$NW" | jq -r .portDeviceName)
daemon_stop "$HA"
! ip -n nca$S link show dev "$deva" >/dev/null 2>&1 && pass "shutdown: SIGTERM removes A's tap" ||
	fail "shutdown: tap" "$deva still there"
daemon_stop "$HB"; daemon_stop "$HC"

# without CAP_NET_ADMIN: PORT_ERROR and a clear line
HU=$NC_TMP/u
chmod 711 "$NC_TMP"	# nobody must be able to reach its home
mkdir -p "$HU"; chown nobody "$HU"; chmod 700 "$HU"
setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all env NC_NO_PLANET=1 "$ONE" -p0 "$HU" >"$NC_TMP/u.log" 2>&1 &
nc_track $!
WAIT_S=40 wait_for test -s "$HU/zerotier-one.port"
U=$(cut -c1-10 "$HU/identity.public" 2>/dev/null)
ctl_make_network "$HU" "${U}000001" unpriv 10.147.40 >/dev/null
ctl_authorize "$HU" "${U}000001" "$U" 10.147.40.1 >/dev/null
cli "$HU" join "${U}000001" >/dev/null
WAIT_S=10 wait_for bash -c "curl -s -H 'X-ZT1-Auth: $(cat "$HU/authtoken.secret" 2>/dev/null)' http://127.0.0.1:$(cat "$HU/zerotier-one.port" 2>/dev/null)/network/${U}000001 | jq -e '.status == \"PORT_ERROR\" and .portError > 0'"
if [ $? = 0 ] && grep -q "needs root or CAP_NET_ADMIN" "$NC_TMP/u.log"; then
	pass "unprivileged zerotier-one: PORT_ERROR and a clear log line"
else
	fail "unprivileged" "$(api_body "$HU" GET /network/${U}000001 | jq -c '{status,portError}'); log: $(tail -n 3 "$NC_TMP/u.log")"
fi
kill "$(cat "$HU/zerotier-one.pid" 2>/dev/null)" 2>/dev/null
exit 0
