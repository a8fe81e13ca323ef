#!/usr/bin/env bash
# t_bigconfig.sh - network configs too big for one chunk (> 9740 dictionary
# bytes: 1001 rules), both ways:
#  1. the OFFICIAL controller sends them to our tap node: our engine
#     reassembles and verifies the signed chunks, applies the config (status
#     OK, address, traffic) and enforces a rule at the far end of the list;
#  2. OUR controller sends the same network to an official member.
# With tcpdump present, the captured OK(NETWORK_CONFIG_REQUEST)s are decoded
# (tests/tools/interop_decode.c) to show that more than one chunk was used.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
interop_require interop_bigconfig_official_to_ours
[ -x "$BIN/zerotier-one" ] || { fail interop_bigconfig_official_to_ours "$BIN/zerotier-one not built"; exit 1; }
command -v ping >/dev/null || { skip interop_bigconfig_official_to_ours "ping missing"; exit 0; }
TOOLS=${IX_TOOLS:-$BIN/tools}

# 500 x (MATCH_IPV6_SOURCE fd00:dead::N/128, DROP), then ICMP-to-the-end:
# (MATCH_IP_PROTOCOL 1 + MATCH_ICMP type 8 code -, ACTION_DROP) would kill ping;
# instead the last real rule drops UDP to port 5999, then ACCEPT.
RULES=$(python3 -c '
import json
r = []
for i in range(1, 499):
    r.append({"type": "MATCH_IPV6_SOURCE", "ip": "fd00:dead::%x/128" % i})
    r.append({"type": "ACTION_DROP"})
r += [{"type": "MATCH_IP_PROTOCOL", "ipProtocol": 17},
      {"type": "MATCH_IP_DEST_PORT_RANGE", "start": 5999, "end": 5999},
      {"type": "ACTION_DROP"}, {"type": "ACTION_ACCEPT"}]
print(json.dumps(r))')
NETBODY="{\"name\":\"big\",\"private\":true,\"routes\":[{\"target\":\"10.147.25.0/24\"}],\"rules\":$RULES}"

# chunks DECODED_TXT NWID - how many chunks of one config update were seen
chunks() { grep -oE "nwid $2 chunk [0-9]+ bytes at [0-9]+ of [0-9]+" "$1" | sort -u | wc -l; }
# udp_drop_check NAME FROM_NS TO_NS TO_IP - UDP :5998 arrives, :5999 does not
udp_drop_check() {
	local name=$1 from=$2 to=$3 ip=$4 f=$NC_TMP/udp.$1
	: >"$f"
	ip netns exec "$to" python3 -c '
import socket, sys
s = []
for p in (5998, 5999):
    x = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); x.bind((sys.argv[1], p)); x.settimeout(0.2); s.append((p, x))
open(sys.argv[2] + ".ready", "w").close()
import time
end = time.time() + 6
f = open(sys.argv[2], "a")
while time.time() < end:
    for p, x in s:
        try:
            x.recv(100); f.write("%d\n" % p); f.flush()
        except socket.timeout:
            pass' "$ip" "$f" &
	nc_track $!
	wait_for test -f "$f.ready"
	local i
	for i in 1 2 3 4 5; do
		ip netns exec "$from" bash -c "echo x >/dev/udp/$ip/5998; echo x >/dev/udp/$ip/5999" 2>/dev/null
		sleep 0.3
	done
	sleep 1
	if grep -q 5998 "$f" && ! grep -q 5999 "$f"; then pass "$name"; else
		echo "arrived: $(sort "$f" | uniq -c | tr '\n' ' ')"
		fail "$name" "the last rule (drop UDP :5999) is not applied as it should"
	fi
}

# ---- 1. official controller -> our member
ix_two_ns || { fail interop_bigconfig_official_to_ours "namespaces"; exit 1; }
HA=$NC_TMP/official HB=$NC_TMP/ours
off_home "$HA"
off_start "$NSA" "$HA" 9993 || { fail interop_bigconfig_official_to_ours "official node did not start"; exit 1; }
OA=$(off_address "$HA")
NWID=$(ix_api "$NSA" "$HA" POST "/controller/network/${OA}______" "$NETBODY" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
[ -n "$NWID" ] || { fail interop_bigconfig_official_to_ours "official controller refused the network"; exit 1; }
ix_api "$NSA" "$HA" POST "/controller/network/$NWID/member/$OA" '{"authorized":true,"ipAssignments":["10.147.25.1"]}' >/dev/null
off_cli "$NSA" "$HA" join "$NWID" >/dev/null
MOON=$(ix_make_moon "$HA/identity.public" 10.99.0.1/9993 "$NC_TMP/moon")
our_home "$HB"; mkdir -p "$HB/moons.d"; cp "$MOON" "$HB/moons.d/"
CAP=
if command -v tcpdump >/dev/null && [ -x "$TOOLS/interop_decode" ]; then
	CAP=$NC_TMP/cap1.pcap
	ip netns exec "$NSB" tcpdump -U -ni any -w "$CAP" udp port 9993 >/dev/null 2>&1 &
	nc_track $!
	sleep 1
fi
our_start "$NSB" "$HB" "$BIN/zerotier-one" 9993 || { fail interop_bigconfig_official_to_ours "our node did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
OB=$(cut -c1-10 "$HB/identity.public")
ix_api "$NSA" "$HA" POST "/controller/network/$NWID/member/$OB" '{"authorized":true,"ipAssignments":["10.147.25.2"]}' >/dev/null
our_cli "$NSB" "$HB" join "$NWID" >/dev/null
T=interop_bigconfig_official_to_ours
ok() { our_cli "$NSB" "$HB" listnetworks | grep "$NWID" | grep -q " OK " && ip -n "$NSB" -4 addr show | grep -q 10.147.25.2/24; }
if WAIT_S=40 wait_for ok && WAIT_S=20 wait_for ip netns exec "$NSB" ping -c1 -W1 10.147.25.1; then pass $T; else
	our_cli "$NSB" "$HB" listnetworks; ix_dump_logs "$NC_TMP"; fail $T "no working config"
fi
udp_drop_check interop_bigconfig_last_rule_enforced_by_us "$NSA" "$NSB" 10.147.25.2
if [ -n "$CAP" ]; then
	T=interop_bigconfig_official_sent_chunks
	sleep 1
	"$TOOLS/interop_decode" -k "$HB/identity.secret" -p "$HA/identity.public" "$CAP" >"$NC_TMP/cap1.txt" 2>&1
	n=$(chunks "$NC_TMP/cap1.txt" "$NWID")
	if [ "$n" -ge 2 ]; then pass $T; ix_log "official config came in $n chunks"; else
		grep -E "NETWORK_CONFIG|chunk" "$NC_TMP/cap1.txt" | head; fail $T "expected several chunks, saw $n"
	fi
fi
off_stop "$HA"; our_stop "$HB"

# ---- 2. our controller -> official member (fresh namespaces)
ix_two_ns || { fail interop_bigconfig_ours_to_official "namespaces"; exit 1; }
HA=$NC_TMP/official2 HB=$NC_TMP/ours2
our_home "$HB"
our_start "$NSB" "$HB" "$BIN/zerotier-one" 9993 || { fail interop_bigconfig_ours_to_official "our node did not start"; exit 1; }
OB=$(cut -c1-10 "$HB/identity.public")
T=interop_bigconfig_ours_to_official
NWID=$(ix_api "$NSB" "$HB" POST "/controller/network/${OB}______" "$NETBODY" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])' 2>/dev/null)
if [ -z "$NWID" ]; then fail $T "our controller refused a network with 1001 rules"; exit 0; fi
NR=$(ix_api "$NSB" "$HB" GET "/controller/network/$NWID" | python3 -c 'import json,sys;print(len(json.load(sys.stdin)["rules"]))')
[ "$NR" = 1000 ] || echo "note: our controller stored $NR rules (sent 1000)"
ix_api "$NSB" "$HB" POST "/controller/network/$NWID/member/$OB" '{"authorized":true,"ipAssignments":["10.147.25.1"]}' >/dev/null
our_cli "$NSB" "$HB" join "$NWID" >/dev/null
MOON=$(ix_make_moon "$HB/identity.public" 10.99.0.2/9993 "$NC_TMP/moon2")
off_home "$HA"; mkdir -p "$HA/moons.d"; cp "$MOON" "$HA/moons.d/"
off_start "$NSA" "$HA" 9993 || { fail $T "official node did not start"; exit 1; }
OA=$(off_address "$HA")
ix_api "$NSB" "$HB" POST "/controller/network/$NWID/member/$OA" '{"authorized":true,"ipAssignments":["10.147.25.2"]}' >/dev/null
CAP=
if command -v tcpdump >/dev/null && [ -x "$TOOLS/interop_decode" ]; then
	CAP=$NC_TMP/cap2.pcap
	ix_wire_datagrams "$NSB"	# our config's chunks as separate datagrams
	ip netns exec "$NSA" tcpdump -U -ni any -w "$CAP" udp port 9993 >/dev/null 2>&1 &
	nc_track $!
	sleep 1
fi
off_cli "$NSA" "$HA" join "$NWID" >/dev/null
offok() { off_cli "$NSA" "$HA" listnetworks | grep "$NWID" | grep -q " OK "; }
if WAIT_S=40 wait_for offok && WAIT_S=20 wait_for ip netns exec "$NSA" ping -c1 -W1 10.147.25.1; then pass $T; else
	off_cli "$NSA" "$HA" listnetworks; ix_dump_logs "$NC_TMP"; fail $T "official member has no working config"
fi
udp_drop_check interop_bigconfig_last_rule_enforced_by_official "$NSB" "$NSA" 10.147.25.2
if [ -n "$CAP" ]; then
	T=interop_bigconfig_ours_sent_chunks
	sleep 1
	"$TOOLS/interop_decode" -k "$HB/identity.secret" -p "$HA/identity.public" "$CAP" >"$NC_TMP/cap2.txt" 2>&1
	n=$(chunks "$NC_TMP/cap2.txt" "$NWID")
	if [ "$n" -ge 2 ]; then pass $T; ix_log "our config went in $n chunks"; else
		grep -E "NETWORK_CONFIG|chunk" "$NC_TMP/cap2.txt" | head; fail $T "expected several chunks, saw $n"
	fi
fi
exit 0
