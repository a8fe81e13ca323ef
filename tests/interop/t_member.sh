#!/usr/bin/env bash
# t_member.sh - (b) our engine as a member of a network run by the OFFICIAL
# controller: our tap daemon (build/zerotier-one) in one namespace joins a
# network of an official node in the other; the official node is also a
# member. Shows: our NETWORK_CONFIG_REQUEST is answered (chunked, signed
# config accepted: status OK, the assigned IP on our tap), the official
# controller records our identity and version, and Ethernet frames flow both
# ways (ARP via multicast, ICMP, large ICMP that needs ZeroTier fragments,
# and a 2 MB HTTP transfer over TCP).
# Our node learns the official node's identity from a moon (official idtool)
# in its moons.d/; the official node learns ours from our HELLO.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
interop_require interop_member_config
[ -x "$BIN/zerotier-one" ] || { fail interop_member_config "$BIN/zerotier-one not built"; exit 1; }
command -v ping >/dev/null || { skip interop_member_config "ping missing"; exit 0; }

ix_two_ns || { fail interop_member_config "namespaces"; exit 1; }
HA=$NC_TMP/official
HB=$NC_TMP/ours
off_home "$HA"
off_start "$NSA" "$HA" 9993 || { fail interop_member_config "official node did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
OA=$(off_address "$HA")

# the official controller's network, with the official node as a member
NET=$(ix_api "$NSA" "$HA" POST "/controller/network/${OA}______" \
	'{"name":"interop","private":true,"v4AssignMode":{"zt":true},"ipAssignmentPools":[{"ipRangeStart":"10.147.17.100","ipRangeEnd":"10.147.17.200"}],"routes":[{"target":"10.147.17.0/24"}]}') ||
	{ fail interop_member_config "official controller API"; exit 1; }
NWID=$(echo "$NET" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
ix_api "$NSA" "$HA" POST "/controller/network/$NWID/member/$OA" '{"authorized":true,"ipAssignments":["10.147.17.1"]}' >/dev/null
off_cli "$NSA" "$HA" join "$NWID" >/dev/null
ix_log "official $OA runs network $NWID"

# our node, which knows the official one through its moon
MOON=$(ix_make_moon "$HA/identity.public" 10.99.0.1/9993 "$NC_TMP/moon") || { fail interop_member_config "genmoon"; exit 1; }
our_home "$HB"
mkdir -p "$HB/moons.d" && cp "$MOON" "$HB/moons.d/"
our_start "$NSB" "$HB" "$BIN/zerotier-one" 9993 || { fail interop_member_config "our zerotier-one did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
OB=$(cut -c1-10 "$HB/identity.public")
ix_api "$NSA" "$HA" POST "/controller/network/$NWID/member/$OB" '{"authorized":true,"ipAssignments":["10.147.17.2"]}' >/dev/null
our_cli "$NSB" "$HB" join "$NWID" >/dev/null
ix_log "our node $OB joined"

T=interop_member_config
ours_ok() { our_cli "$NSB" "$HB" listnetworks | grep "$NWID" | grep -q " OK " &&
	ip -n "$NSB" -4 addr show | grep -q "inet 10.147.17.2/24"; }
if WAIT_S=30 wait_for ours_ok; then
	pass $T
else
	our_cli "$NSB" "$HB" listnetworks; ip -n "$NSB" addr show
	fail $T "no config / no address on our tap"
fi

T=interop_member_official_records_us
M=$(ix_api "$NSA" "$HA" GET "/controller/network/$NWID/member/$OB")
if echo "$M" | python3 -c '
import json,sys
m=json.load(sys.stdin)
ok = m["identity"].startswith(sys.argv[1]+":0:") and m["vMajor"]==1 and m["vProto"]>=5
sys.exit(0 if ok else 1)' "$OB"; then
	pass $T
else
	echo "$M"; fail $T "member record lacks our identity/version"
fi

T=interop_member_official_tap_up
off_ok() { off_cli "$NSA" "$HA" listnetworks | grep "$NWID" | grep -q " OK "; }
if WAIT_S=20 wait_for off_ok; then pass $T; else off_cli "$NSA" "$HA" listnetworks; fail $T "official member not OK"; fi

T=interop_member_ping_ours_to_official
if WAIT_S=30 wait_for ip netns exec "$NSB" ping -c1 -W1 10.147.17.1; then pass $T; else fail $T "no reply from 10.147.17.1"; fi
T=interop_member_ping_official_to_ours
if WAIT_S=15 wait_for ip netns exec "$NSA" ping -c1 -W1 10.147.17.2; then pass $T; else fail $T "no reply from 10.147.17.2"; fi
T=interop_member_ping_fragmented
# 2700-byte ICMP in a 2800 MTU network: each ZeroTier packet is 2 fragments
if ip netns exec "$NSB" ping -c3 -W2 -s 2700 -M do 10.147.17.1 >"$NC_TMP/bigping.log" 2>&1; then
	pass $T
else
	cat "$NC_TMP/bigping.log"; fail $T "large pings lost"
fi

T=interop_member_tcp_2mb
mkdir -p "$NC_TMP/www" && head -c 2000000 /dev/urandom >"$NC_TMP/www/blob"
( cd "$NC_TMP/www" && exec ip netns exec "$NSA" python3 -m http.server -b 10.147.17.1 8080 ) >/dev/null 2>&1 &
nc_track $!
WAIT_S=10 wait_for ip netns exec "$NSA" curl -sf -o /dev/null http://10.147.17.1:8080/ 
if ip netns exec "$NSB" curl -sf -m 60 -o "$NC_TMP/blob.got" http://10.147.17.1:8080/blob &&
	cmp -s "$NC_TMP/blob.got" "$NC_TMP/www/blob"; then
	pass $T
else
	fail $T "download over the network failed or differs"
fi

T=interop_member_no_credential_errors
# up to here the official node never had to ask us for our COM (ERROR 0x06):
# our engine pushed NETWORK_CREDENTIALS before its first frames
E=$(off_metric "$NSA" "$HA" 'zt_packet_error{direction="tx",error_type="need_membership_certificate"}')
if [ "$E" = 0 ]; then pass $T; else fail $T "official node sent $E ERROR NEED_MEMBERSHIP_CERTIFICATE to us"; fi

T=interop_member_config_push
# a change on the official controller reaches us without waiting for a poll:
# new name, MTU and a second address
ix_api "$NSA" "$HA" POST "/controller/network/$NWID" '{"name":"renamed","mtu":1400}' >/dev/null
ix_api "$NSA" "$HA" POST "/controller/network/$NWID/member/$OB" '{"ipAssignments":["10.147.17.2","10.147.17.20"]}' >/dev/null
pushed() { ip -n "$NSB" -4 addr show | grep -q "inet 10.147.17.20/24" &&
	ip -n "$NSB" link show | grep -A0 "mtu 1400" | grep -q zt &&
	our_cli "$NSB" "$HB" listnetworks | grep "$NWID" | grep -q renamed; }
if WAIT_S=30 wait_for pushed; then pass $T; else
	our_cli "$NSB" "$HB" listnetworks; ip -n "$NSB" addr show
	fail $T "the update (name, mtu 1400, second address) did not reach our tap"
fi
T=interop_member_ping_new_address
if WAIT_S=15 wait_for ip netns exec "$NSA" ping -c1 -W1 10.147.17.20; then pass $T; else fail $T "official node cannot reach our second address"; fi

T=interop_member_deauthorized
# de-authorization: the official controller revokes our COM; our node must
# show ACCESS_DENIED and the official member must stop taking our frames
ix_api "$NSA" "$HA" POST "/controller/network/$NWID/member/$OB" '{"authorized":false}' >/dev/null
denied() { our_cli "$NSB" "$HB" listnetworks | grep "$NWID" | grep -q ACCESS_DENIED; }
if WAIT_S=60 wait_for denied; then pass $T; else our_cli "$NSB" "$HB" listnetworks; fail $T "our node not ACCESS_DENIED after de-authorization"; fi
T=interop_member_deauthorized_no_traffic
if ! ip netns exec "$NSB" ping -c2 -W1 10.147.17.1 >/dev/null 2>&1; then pass $T; else fail $T "de-authorized node still reaches the official member"; fi
T=interop_member_reauthorized
ix_api "$NSA" "$HA" POST "/controller/network/$NWID/member/$OB" '{"authorized":true}' >/dev/null
if WAIT_S=60 wait_for ip netns exec "$NSB" ping -c1 -W1 10.147.17.1; then pass $T; else our_cli "$NSB" "$HB" listnetworks; fail $T "no traffic after re-authorization"; fi

if [ "$NC_FAILED" != 0 ]; then
	our_cli "$NSB" "$HB" listpeers; off_cli "$NSA" "$HA" listpeers
	ix_dump_logs "$NC_TMP"
fi
exit 0
