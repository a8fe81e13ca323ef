#!/usr/bin/env bash
# t_multicast.sh - three members on one LAN (a bridge in a hub namespace):
# an official controller/root A, an official member M and our tap node N,
# network of A. N and M do not know each other at first.
# Shows: N and M find each other (WHOIS via the official root, then a direct
# path: RENDEZVOUS / HELLO), IPv4 broadcast from N reaches M and broadcast
# from M reaches N (MULTICAST_FRAME, LIKE and GATHER through the official
# root), and IPv4 multicast to 239.1.2.3 works both ways (the tap ports'
# kernel group memberships must become MULTICAST_LIKEs).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
interop_require interop_mcast_direct_path
[ -x "$BIN/zerotier-one" ] || { fail interop_mcast_direct_path "$BIN/zerotier-one not built"; exit 1; }
command -v ping >/dev/null || { skip interop_mcast_direct_path "ping missing"; exit 0; }
ix_hub && ix_ns NSA && ix_ns NSM && ix_ns NSN &&
	ix_hub_attach "$NSA" 10.99.0.1 && ix_hub_attach "$NSM" 10.99.0.3 && ix_hub_attach "$NSN" 10.99.0.2 ||
	{ fail interop_mcast_direct_path "namespaces"; exit 1; }
HA=$NC_TMP/a HM=$NC_TMP/m HN=$NC_TMP/n
off_home "$HA"
off_start "$NSA" "$HA" 9993 || { fail interop_mcast_direct_path "official A did not start"; exit 1; }
OA=$(off_address "$HA")
NWID=$(ix_api "$NSA" "$HA" POST "/controller/network/${OA}______" \
	'{"name":"mc","private":true,"enableBroadcast":true,"routes":[{"target":"10.147.24.0/24"}]}' |
	python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
auth() { ix_api "$NSA" "$HA" POST "/controller/network/$NWID/member/$1" "{\"authorized\":true,\"ipAssignments\":[\"$2\"]}" >/dev/null; }
auth "$OA" 10.147.24.1
off_cli "$NSA" "$HA" join "$NWID" >/dev/null
MOON=$(ix_make_moon "$HA/identity.public" 10.99.0.1/9993 "$NC_TMP/moon")
off_home "$HM"; mkdir -p "$HM/moons.d"; cp "$MOON" "$HM/moons.d/"
our_home "$HN"; mkdir -p "$HN/moons.d"; cp "$MOON" "$HN/moons.d/"
off_start "$NSM" "$HM" 9993 || { fail interop_mcast_direct_path "official M did not start"; exit 1; }
our_start "$NSN" "$HN" "$BIN/zerotier-one" 9993 || { fail interop_mcast_direct_path "our node did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
OM=$(off_address "$HM") ON=$(cut -c1-10 "$HN/identity.public")
auth "$OM" 10.147.24.3; auth "$ON" 10.147.24.2
off_cli "$NSM" "$HM" join "$NWID" >/dev/null
our_cli "$NSN" "$HN" join "$NWID" >/dev/null
up() { ip -n "$1" -4 addr show | grep -q "inet $2/24"; }
WAIT_S=30 wait_for up "$NSA" 10.147.24.1; WAIT_S=30 wait_for up "$NSM" 10.147.24.3; WAIT_S=30 wait_for up "$NSN" 10.147.24.2
ix_log "A $OA, M $OM, N (ours) $ON on $NWID"

T=interop_mcast_ping_member
if WAIT_S=30 wait_for ip netns exec "$NSN" ping -c1 -W1 10.147.24.3; then pass $T; else
	our_cli "$NSN" "$HN" listpeers; off_cli "$NSM" "$HM" listpeers
	fail $T "our node cannot reach the official member"
fi
T=interop_mcast_direct_path
# after the first exchange, traffic between N and M goes direct, not via A
direct() { our_cli "$NSN" "$HN" listpeers | grep "$OM" | grep -q "10.99.0.3/9993"; }
ip netns exec "$NSN" ping -c5 -i 0.5 -W1 10.147.24.3 >/dev/null 2>&1
if WAIT_S=30 wait_for direct; then pass $T; else our_cli "$NSN" "$HN" listpeers; fail $T "no direct path from our node to the official member"; fi

# bcast_case NAME FROM_NS FROM_IP DST PORT TO_NS... - listeners in every TO_NS;
# send 3 datagrams a second until all got one, for up to 75 s: official
# senders need the receivers' MULTICAST_LIKEs (re-announced every 60 s) or a
# GATHER answer, and an official controller answers GATHERs only with what it
# has heard, so even an all-official setup needs this long at first.
bcast_case() {
	local name=$1 from=$2 src=$3 dst=$4 port=$5 t0=$SECONDS ns all
	shift 5
	for ns in "$@"; do
		: >"$NC_TMP/$name.$ns"
		ip netns exec "$ns" python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
if sys.argv[3] != "-":
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(sys.argv[3]) + socket.inet_aton(sys.argv[4]))
s.settimeout(90)
f = open(sys.argv[2], "a")
try:
    while True:
        d, a = s.recvfrom(2000); f.write(d.decode() + "\n"); f.flush()
except socket.timeout:
    pass' "$port" "$NC_TMP/$name.$ns" "${IX_GROUP:--}" "${IX_GROUP_IF[$ns]:-0.0.0.0}" &
		nc_track $!
	done
	sleep 0.5
	while [ $((SECONDS - t0)) -lt 75 ]; do
		ip netns exec "$from" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[1]))
s.bind((sys.argv[1], 0))
for i in range(3):
    s.sendto(b"probe%d" % i, (sys.argv[2], int(sys.argv[3]))); time.sleep(0.33)' "$src" "$dst" "$port"
		all=1
		for ns in "$@"; do grep -q probe "$NC_TMP/$name.$ns" || all=0; done
		[ $all = 1 ] && break
	done
	if [ $all = 1 ]; then
		pass "$name"
		ix_log "$name: delivered after $((SECONDS - t0)) s"
	else
		for ns in "$@"; do grep -q probe "$NC_TMP/$name.$ns" || echo "nothing arrived in $ns"; done
		fail "$name" "datagrams to $dst did not reach every receiver within 75 s"
	fi
}
declare -A IX_GROUP_IF
# (not to A: an official controller-member never receives other members'
# broadcasts here, not even from an official node; checked with an
# all-official run of this same script)
bcast_case interop_mcast_broadcast_ours_to_official "$NSN" 10.147.24.2 10.147.24.255 7001 "$NSM"
bcast_case interop_mcast_broadcast_official_to_ours "$NSM" 10.147.24.3 10.147.24.255 7002 "$NSN"
IX_GROUP=239.1.2.3
IX_GROUP_IF=([$NSM]=10.147.24.3 [$NSN]=10.147.24.2 [$NSA]=10.147.24.1)
bcast_case interop_mcast_group_ours_to_official "$NSN" 10.147.24.2 239.1.2.3 7003 "$NSM"
# our tap port must announce the group the kernel joined (MULTICAST_LIKE for
# 01:00:5e:01:02:03) as the official tap does from /proc/net/dev_mcast
bcast_case interop_mcast_group_official_to_ours "$NSM" 10.147.24.3 239.1.2.3 7004 "$NSN"
[ "$NC_FAILED" != 0 ] && ix_dump_logs "$NC_TMP"
exit 0
