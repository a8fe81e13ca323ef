#!/usr/bin/env bash
# t_netcon.sh - the seed's walkthrough against OFFICIAL ZeroTier One: our
# netcon service (user-space lwIP port, no tap) joins a network of an official
# controller; the official node, also a member with a kernel tap, pings the
# netcon address, fetches a file from an unmodified python http.server running
# under libzerotierintercept.so, and the intercepted curl fetches a file from
# a server on the official node's tap. Then the same with the netcon
# service as the controller of the network.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
interop_require interop_netcon_config
for f in zerotier-netcon-service libzerotierintercept.so zerotier-cli; do
	[ -e "$BIN/$f" ] || { fail interop_netcon_config "$BIN/$f not built"; exit 1; }
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
command -v ping >/dev/null || { skip interop_netcon_config "ping missing"; exit 0; }

ix_two_ns || { fail interop_netcon_config "namespaces"; exit 1; }
HA=$NC_TMP/official
HB=$NC_TMP/netcon
off_home "$HA"
off_start "$NSA" "$HA" 9993 || { fail interop_netcon_config "official node did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
OA=$(off_address "$HA")
NET=$(ix_api "$NSA" "$HA" POST "/controller/network/${OA}______" \
	'{"name":"netcon","private":true,"v4AssignMode":{"zt":true},"ipAssignmentPools":[{"ipRangeStart":"10.147.17.100","ipRangeEnd":"10.147.17.200"}],"routes":[{"target":"10.147.17.0/24"}]}') ||
	{ fail interop_netcon_config "official controller API"; exit 1; }
NWID=$(echo "$NET" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
ix_api "$NSA" "$HA" POST "/controller/network/$NWID/member/$OA" '{"authorized":true,"ipAssignments":["10.147.17.1"]}' >/dev/null
off_cli "$NSA" "$HA" join "$NWID" >/dev/null

MOON=$(ix_make_moon "$HA/identity.public" 10.99.0.1/9993 "$NC_TMP/moon") || { fail interop_netcon_config "genmoon"; exit 1; }
our_home "$HB"
mkdir -p "$HB/moons.d" && cp "$MOON" "$HB/moons.d/"
cp -f "$BIN/liblwip.so" "$HB/" 2>/dev/null
our_start "$NSB" "$HB" "$BIN/zerotier-netcon-service" 9993 || { fail interop_netcon_config "netcon service did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
OB=$(cut -c1-10 "$HB/identity.public")
ix_api "$NSA" "$HA" POST "/controller/network/$NWID/member/$OB" '{"authorized":true,"ipAssignments":["10.147.17.2"]}' >/dev/null
our_cli "$NSB" "$HB" join "$NWID" >/dev/null
ix_log "netcon $OB joins $NWID of official $OA"

T=interop_netcon_config
ok() { our_cli "$NSB" "$HB" listnetworks | grep "$NWID" | grep " OK " | grep -q "10.147.17.2/24"; }
if WAIT_S=30 wait_for ok && [ -S "$HB/nc_$NWID" ]; then pass $T; else our_cli "$NSB" "$HB" listnetworks; ls -la "$HB"; fail $T "no config or no RPC socket"; fi
off_ok() { off_cli "$NSA" "$HA" listnetworks | grep "$NWID" | grep -q " OK "; }
ok2() { our_cli "$NSB" "$HB" listnetworks | grep "$NWID" | grep -q " OK "; }
WAIT_S=20 wait_for off_ok

T=interop_netcon_ping_from_official
if WAIT_S=30 wait_for ip netns exec "$NSA" ping -c1 -W1 10.147.17.2; then pass $T; else fail $T "lwIP address does not answer ICMP"; fi

mkdir -p "$NC_TMP/www" && head -c 1000000 /dev/urandom >"$NC_TMP/www/blob"
T=interop_netcon_official_fetches_from_intercepted_server
( cd "$NC_TMP/www" && exec ip netns exec "$NSB" env LD_PRELOAD="$BIN/libzerotierintercept.so" \
	ZT_NC_NETWORK="$HB/nc_$NWID" "$PY" -m http.server 8080 ) >"$NC_TMP/pyserver.log" 2>&1 &
nc_track $!
if WAIT_S=20 wait_for ip netns exec "$NSA" curl -sf -m 5 -o /dev/null http://10.147.17.2:8080/ &&
	ip netns exec "$NSA" curl -sf -m 60 -o "$NC_TMP/blob1" http://10.147.17.2:8080/blob &&
	cmp -s "$NC_TMP/blob1" "$NC_TMP/www/blob"; then
	pass $T
else
	cat "$NC_TMP/pyserver.log"; fail $T "curl on the official tap could not fetch from the netcon server"
fi

T=interop_netcon_intercepted_curl_fetches_from_official
( cd "$NC_TMP/www" && exec ip netns exec "$NSA" python3 -m http.server -b 10.147.17.1 8081 ) >/dev/null 2>&1 &
nc_track $!
WAIT_S=10 wait_for ip netns exec "$NSA" curl -sf -o /dev/null http://10.147.17.1:8081/
if ip netns exec "$NSB" env LD_PRELOAD="$BIN/libzerotierintercept.so" ZT_NC_NETWORK="$HB/nc_$NWID" \
	curl -sf -m 60 -o "$NC_TMP/blob2" http://10.147.17.1:8081/blob &&
	cmp -s "$NC_TMP/blob2" "$NC_TMP/www/blob"; then
	pass $T
else
	fail $T "intercepted curl could not fetch from the official node"
fi

if [ "$NC_FAILED" != 0 ]; then
	our_cli "$NSB" "$HB" listpeers; off_cli "$NSA" "$HA" listpeers
	ix_dump_logs "$NC_TMP"
fi
off_stop "$HA"; our_stop "$HB"

# ---- 2. the netcon service is the controller (and a member); the official
# node joins its network (it knows the netcon node from a moon) and fetches
# from the intercepted server
ix_two_ns || { fail interop_netcon_controller_config "namespaces"; exit 1; }
HA=$NC_TMP/official2 HB=$NC_TMP/netcon2
our_home "$HB"
cp -f "$BIN/liblwip.so" "$HB/" 2>/dev/null
our_start "$NSB" "$HB" "$BIN/zerotier-netcon-service" 9993 || { fail interop_netcon_controller_config "netcon service did not start"; exit 1; }
OB=$(cut -c1-10 "$HB/identity.public")
NWID=$(ix_api "$NSB" "$HB" POST "/controller/network/${OB}______" \
	'{"name":"nc2","private":true,"routes":[{"target":"10.147.27.0/24"}]}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])' 2>/dev/null)
T=interop_netcon_controller_config
[ -n "$NWID" ] || { fail $T "netcon controller API did not create a network"; exit 0; }
ix_api "$NSB" "$HB" POST "/controller/network/$NWID/member/$OB" '{"authorized":true,"ipAssignments":["10.147.27.2"]}' >/dev/null
our_cli "$NSB" "$HB" join "$NWID" >/dev/null
MOON=$(ix_make_moon "$HB/identity.public" 10.99.0.2/9993 "$NC_TMP/moon2")
off_home "$HA"; mkdir -p "$HA/moons.d"; cp "$MOON" "$HA/moons.d/"
off_start "$NSA" "$HA" 9993 || { fail $T "official node did not start"; exit 1; }
OA=$(off_address "$HA")
ix_api "$NSB" "$HB" POST "/controller/network/$NWID/member/$OA" '{"authorized":true,"ipAssignments":["10.147.27.1"]}' >/dev/null
off_cli "$NSA" "$HA" join "$NWID" >/dev/null
if WAIT_S=40 wait_for off_ok && WAIT_S=30 wait_for ok2; then pass $T; else
	off_cli "$NSA" "$HA" listnetworks; our_cli "$NSB" "$HB" listnetworks; fail $T "no config on one side"
fi
T=interop_netcon_controller_official_fetches
( cd "$NC_TMP/www" && exec ip netns exec "$NSB" env LD_PRELOAD="$BIN/libzerotierintercept.so" \
	ZT_NC_NETWORK="$HB/nc_$NWID" "$PY" -m http.server 8080 ) >"$NC_TMP/pyserver2.log" 2>&1 &
nc_track $!
if WAIT_S=30 wait_for ip netns exec "$NSA" curl -sf -m 5 -o /dev/null http://10.147.27.2:8080/ &&
	ip netns exec "$NSA" curl -sf -m 60 -o "$NC_TMP/blob3" http://10.147.27.2:8080/blob &&
	cmp -s "$NC_TMP/blob3" "$NC_TMP/www/blob"; then
	pass $T
else
	cat "$NC_TMP/pyserver2.log"; fail $T "official node could not fetch from the netcon node's server"
fi
[ "$NC_FAILED" != 0 ] && ix_dump_logs "$NC_TMP"
exit 0
