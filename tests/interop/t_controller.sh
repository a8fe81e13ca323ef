#!/usr/bin/env bash
# t_controller.sh - (c) an OFFICIAL node as a member of a network run by OUR
# controller: our tap daemon (build/zerotier-one) hosts the network and is a
# member itself; the official node, which knows our node as the root of a
# moon in its moons.d/ (made by the official idtool from our identity.public),
# joins. Shows: the official node accepts our signed, chunked config (status
# OK, an address auto-assigned from our pool on its tap), our controller
# records its identity and version, frames flow both ways (ping, large ping,
# HTTP over TCP), and de-authorizing it in our controller takes it off the
# network.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
interop_require interop_controller_network
[ -x "$BIN/zerotier-one" ] || { fail interop_controller_network "$BIN/zerotier-one not built"; exit 1; }
command -v ping >/dev/null || { skip interop_controller_network "ping missing"; exit 0; }

ix_two_ns || { fail interop_controller_network "namespaces"; exit 1; }
HA=$NC_TMP/official
HB=$NC_TMP/ours

# our node: controller and member
our_home "$HB"
our_start "$NSB" "$HB" "$BIN/zerotier-one" 9993 || { fail interop_controller_network "our zerotier-one did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
OB=$(cut -c1-10 "$HB/identity.public")
T=interop_controller_network
NET=$(ix_api "$NSB" "$HB" POST "/controller/network/${OB}______" \
	'{"name":"ours","private":true,"v4AssignMode":{"zt":true},"ipAssignmentPools":[{"ipRangeStart":"10.147.18.100","ipRangeEnd":"10.147.18.200"}],"routes":[{"target":"10.147.18.0/24"}]}')
NWID=$(echo "$NET" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])' 2>/dev/null)
if [ -z "$NWID" ] || [ "${NWID:0:10}" != "$OB" ]; then
	echo "answer: $NET"
	fail $T "our controller API did not create a network"
	exit 0
fi
pass $T
ix_api "$NSB" "$HB" POST "/controller/network/$NWID/member/$OB" '{"authorized":true,"ipAssignments":["10.147.18.1"]}' >/dev/null
our_cli "$NSB" "$HB" join "$NWID" >/dev/null
ix_log "our controller $OB runs $NWID"

# the official node, with our node as its moon root
MOON=$(ix_make_moon "$HB/identity.public" 10.99.0.2/9993 "$NC_TMP/moon") || { fail $T "genmoon"; exit 1; }
off_home "$HA"
mkdir -p "$HA/moons.d" && cp "$MOON" "$HA/moons.d/"
off_start "$NSA" "$HA" 9993 || { fail $T "official node did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
OA=$(off_address "$HA")
off_cli "$NSA" "$HA" join "$NWID" >/dev/null
ix_log "official $OA joins"

T=interop_controller_member_seen
# the request of an unauthorized member leaves a record with its identity
seen() { ix_api "$NSB" "$HB" GET "/controller/network/$NWID/member/$OA" | grep -q "\"identity\":\"$OA:0:"; }
if WAIT_S=30 wait_for seen; then pass $T; else
	ix_api "$NSB" "$HB" GET "/controller/network/$NWID/member"; echo
	off_cli "$NSA" "$HA" listnetworks; off_cli "$NSA" "$HA" listpeers
	fail $T "our controller has no record of the official node's request"
fi
T=interop_controller_access_denied_first
st() { off_cli "$NSA" "$HA" listnetworks | grep "$NWID" | grep -q " $1 "; }
if WAIT_S=15 wait_for st ACCESS_DENIED; then pass $T; else off_cli "$NSA" "$HA" listnetworks; fail $T "official node not told ACCESS_DENIED"; fi

ix_api "$NSB" "$HB" POST "/controller/network/$NWID/member/$OA" '{"authorized":true}' >/dev/null
T=interop_controller_official_gets_config
if WAIT_S=40 wait_for st OK; then pass $T; else off_cli "$NSA" "$HA" listnetworks; fail $T "official node never got a config"; fi
T=interop_controller_pool_address
OIP=$(off_cli "$NSA" "$HA" listnetworks | grep "$NWID" | grep -oE '10\.147\.18\.[0-9]+/24' | head -n1)
if [ -n "$OIP" ] && ip -n "$NSA" -4 addr show | grep -q "inet $OIP"; then
	O=${OIP%/24}; O=${O##*.}
	if [ "$O" -ge 100 ] && [ "$O" -le 200 ]; then pass $T; else fail $T "address $OIP outside the pool"; fi
else
	off_cli "$NSA" "$HA" listnetworks; ip -n "$NSA" addr show
	fail $T "no pool address on the official tap"
fi
OIP=${OIP%/24}
T=interop_controller_records_version
M=$(ix_api "$NSB" "$HB" GET "/controller/network/$NWID/member/$OA")
if echo "$M" | python3 -c '
import json,sys
m=json.load(sys.stdin)
sys.exit(0 if m.get("vMajor")==1 and m.get("vMinor")==14 and m.get("vProto",0)>=12 and m.get("authorized") else 1)'; then
	pass $T
else
	echo "$M"; fail $T "member record lacks the official version (1.14, proto 12)"
fi

T=interop_controller_ping_official_to_ours
if [ -n "$OIP" ] && WAIT_S=30 wait_for ip netns exec "$NSA" ping -c1 -W1 10.147.18.1; then pass $T; else fail $T "no reply from our tap 10.147.18.1"; fi
T=interop_controller_ping_ours_to_official
if [ -n "$OIP" ] && WAIT_S=15 wait_for ip netns exec "$NSB" ping -c1 -W1 "$OIP"; then pass $T; else fail $T "no reply from the official tap $OIP"; fi
T=interop_controller_ping_fragmented
if [ -n "$OIP" ] && ip netns exec "$NSA" ping -c3 -W2 -s 2700 -M do 10.147.18.1 >"$NC_TMP/bigping.log" 2>&1; then
	pass $T
else
	cat "$NC_TMP/bigping.log" 2>/dev/null; fail $T "large pings lost"
fi
T=interop_controller_tcp_2mb
mkdir -p "$NC_TMP/www" && head -c 2000000 /dev/urandom >"$NC_TMP/www/blob"
( cd "$NC_TMP/www" && exec ip netns exec "$NSB" python3 -m http.server -b 10.147.18.1 8080 ) >/dev/null 2>&1 &
nc_track $!
WAIT_S=10 wait_for ip netns exec "$NSB" curl -sf -o /dev/null http://10.147.18.1:8080/
if ip netns exec "$NSA" curl -sf -m 60 -o "$NC_TMP/blob.got" http://10.147.18.1:8080/blob &&
	cmp -s "$NC_TMP/blob.got" "$NC_TMP/www/blob"; then
	pass $T
else
	fail $T "download from our tap to the official node failed or differs"
fi

T=interop_controller_no_credential_errors
E=$(off_metric "$NSA" "$HA" 'zt_packet_error{direction="tx",error_type="need_membership_certificate"}')
if [ "$E" = 0 ]; then pass $T; else fail $T "official node sent $E ERROR NEED_MEMBERSHIP_CERTIFICATE to us"; fi

T=interop_controller_deauthorize
ix_api "$NSB" "$HB" POST "/controller/network/$NWID/member/$OA" '{"authorized":false}' >/dev/null
gone() { ! ip netns exec "$NSA" ping -c1 -W1 10.147.18.1 >/dev/null 2>&1 && st ACCESS_DENIED; }
if WAIT_S=60 wait_for gone; then pass $T; else off_cli "$NSA" "$HA" listnetworks; fail $T "official node still on the network after de-authorization"; fi

if [ "$NC_FAILED" != 0 ]; then
	our_cli "$NSB" "$HB" listpeers; off_cli "$NSA" "$HA" listpeers
	ix_dump_logs "$NC_TMP"
fi
exit 0
