#!/usr/bin/env bash
# t_rules.sh - a network of the OFFICIAL controller with real rules and IPv6,
# our tap node a member. Shows that our engine parses the official rules blob
# and enforces it on its own side of each frame, and that IPv6 (rfc4193
# addresses from the controller, NDP over ZeroTier multicast) works:
#   rule A: UDP to port 5555 is dropped when INBOUND  -> the receiver drops
#   rule B: UDP to port 6666 is dropped when NOT inbound -> the sender drops
# official -> ours :5555 must not arrive (our inbound evaluation drops it)
# ours -> official :6666 must not arrive (our outbound evaluation drops it)
# and the controls (:5556 both ways, :5555 ours->official dropped by the
# official side, :6666 official->ours dropped by the official side).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
interop_require interop_rules_config
[ -x "$BIN/zerotier-one" ] || { fail interop_rules_config "$BIN/zerotier-one not built"; exit 1; }
command -v ping >/dev/null || { skip interop_rules_config "ping missing"; exit 0; }
ix_two_ns || { fail interop_rules_config "namespaces"; exit 1; }
HA=$NC_TMP/official HB=$NC_TMP/ours
off_home "$HA"
off_start "$NSA" "$HA" 9993 || { fail interop_rules_config "official node did not start"; exit 1; }
OA=$(off_address "$HA")
RULES='[
 {"type":"MATCH_CHARACTERISTICS","mask":"8000000000000000"},{"type":"MATCH_IP_PROTOCOL","ipProtocol":17},
 {"type":"MATCH_IP_DEST_PORT_RANGE","start":5555,"end":5555},{"type":"ACTION_DROP"},
 {"type":"MATCH_CHARACTERISTICS","not":true,"mask":"8000000000000000"},{"type":"MATCH_IP_PROTOCOL","ipProtocol":17},
 {"type":"MATCH_IP_DEST_PORT_RANGE","start":6666,"end":6666},{"type":"ACTION_DROP"},
 {"type":"ACTION_ACCEPT"}]'
NET=$(ix_api "$NSA" "$HA" POST "/controller/network/${OA}______" \
	"{\"name\":\"rules\",\"private\":true,\"v6AssignMode\":{\"rfc4193\":true},\"routes\":[{\"target\":\"10.147.23.0/24\"}],\"rules\":$RULES}") ||
	{ fail interop_rules_config "official controller API"; exit 1; }
NWID=$(echo "$NET" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
ix_api "$NSA" "$HA" POST "/controller/network/$NWID/member/$OA" '{"authorized":true,"ipAssignments":["10.147.23.1"]}' >/dev/null
off_cli "$NSA" "$HA" join "$NWID" >/dev/null
MOON=$(ix_make_moon "$HA/identity.public" 10.99.0.1/9993 "$NC_TMP/moon") || { fail interop_rules_config "genmoon"; exit 1; }
our_home "$HB"; mkdir -p "$HB/moons.d"; cp "$MOON" "$HB/moons.d/"
our_start "$NSB" "$HB" "$BIN/zerotier-one" 9993 || { fail interop_rules_config "our node did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
OB=$(cut -c1-10 "$HB/identity.public")
ix_api "$NSA" "$HA" POST "/controller/network/$NWID/member/$OB" '{"authorized":true,"ipAssignments":["10.147.23.2"]}' >/dev/null
our_cli "$NSB" "$HB" join "$NWID" >/dev/null

# rfc4193: fd + nwid(8 bytes) + 99 93 + node address (5 bytes), /88
rfc4193() { python3 -c '
import sys, ipaddress
nw = int(sys.argv[1], 16); a = int(sys.argv[2], 16)
b = bytes([0xfd]) + nw.to_bytes(8, "big") + bytes([0x99, 0x93]) + a.to_bytes(5, "big")
print(ipaddress.IPv6Address(b))' "$1" "$2"; }
V6A=$(rfc4193 "$NWID" "$OA") V6B=$(rfc4193 "$NWID" "$OB")

T=interop_rules_config
ok() { our_cli "$NSB" "$HB" listnetworks | grep "$NWID" | grep -q " OK " && ip -n "$NSB" -4 addr show | grep -q 10.147.23.2/24; }
if WAIT_S=30 wait_for ok; then pass $T; else our_cli "$NSB" "$HB" listnetworks; ix_dump_logs "$NC_TMP"; fail $T "no config with rules"; exit 0; fi
WAIT_S=20 wait_for ip netns exec "$NSB" ping -c1 -W1 10.147.23.1 || { fail interop_rules_icmp "no ping"; ix_dump_logs "$NC_TMP"; exit 0; }
pass interop_rules_icmp

T=interop_rules_rfc4193_address
if WAIT_S=10 wait_for sh -c "ip -n $NSB -6 addr show | grep -q 'inet6 $V6B/88'"; then pass $T; else ip -n "$NSB" -6 addr show; fail $T "no $V6B/88 on our tap"; fi
T=interop_rules_ping6
if WAIT_S=20 wait_for ip netns exec "$NSB" ping -6 -c1 -W1 "$V6A"; then pass $T; else fail $T "no IPv6 reply from the official node ($V6A)"; fi
T=interop_rules_ping6_back
if WAIT_S=10 wait_for ip netns exec "$NSA" ping -6 -c1 -W1 "$V6B"; then pass $T; else fail $T "official node gets no IPv6 reply from us ($V6B)"; fi

# UDP probes: listener in NS on IP:PORT writing what arrives to FILE
listen() {	# listen NS IP PORT FILE
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(); s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2]))); s.settimeout(8)
open(sys.argv[3] + ".ready", "w").close()
f = open(sys.argv[3], "a")
try:
    while True:
        d, a = s.recvfrom(2000); f.write(d.decode() + "\n"); f.flush()
except socket.timeout:
    pass' "$2" "$3" "$4" &
	nc_track $!
}
sendu() {	# sendu NS IP PORT
	local i
	for i in 1 2 3 4 5; do ip netns exec "$1" bash -c "echo probe$i >/dev/udp/$2/$3" 2>/dev/null; sleep 0.2; done
}
udp_case() {	# udp_case NAME FROM_NS TO_NS TO_IP PORT EXPECT(yes|no)
	local f=$NC_TMP/udp_$1
	: >"$f"
	rm -f "$f.ready"
	listen "$3" "$4" "$5" "$f"
	wait_for test -f "$f.ready"
	sendu "$2" "$4" "$5"
	sleep 1
	if [ "$6" = yes ]; then
		if grep -q probe "$f"; then pass "$1"; else fail "$1" "UDP to $4:$5 did not arrive"; fi
	else
		if grep -q probe "$f"; then fail "$1" "UDP to $4:$5 arrived though a rule drops it"; else pass "$1"; fi
	fi
}
udp_case interop_rules_udp_control_official_to_ours "$NSA" "$NSB" 10.147.23.2 5556 yes
udp_case interop_rules_udp_control_ours_to_official "$NSB" "$NSA" 10.147.23.1 5556 yes
udp_case interop_rules_our_inbound_drop "$NSA" "$NSB" 10.147.23.2 5555 no
udp_case interop_rules_our_outbound_drop "$NSB" "$NSA" 10.147.23.1 6666 no
udp_case interop_rules_official_inbound_drop "$NSB" "$NSA" 10.147.23.1 5555 no
udp_case interop_rules_official_outbound_drop "$NSA" "$NSB" 10.147.23.2 6666 no
T=interop_rules_drops_counted
# at least the five inbound probes to :5555 (outbound ones may count too)
RD=$(ix_api "$NSB" "$HB" GET /metrics 2>/dev/null | grep -E '^zt_packets_dropped_total\{reason="rules"\}' | awk '{print $2}')
if [ "${RD:-0}" -ge 5 ]; then pass $T; else
	ix_api "$NSB" "$HB" GET /metrics 2>/dev/null | grep -i drop | head
	fail $T "our /metrics shows no rule drops"
fi
[ "$NC_FAILED" != 0 ] && ix_dump_logs "$NC_TMP"
exit 0
