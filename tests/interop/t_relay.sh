#!/usr/bin/env bash
# t_relay.sh - traffic relayed by a root between two members that have no
# path to each other (a star: the centre has one veth to each member and does
# not forward IP). Members learn each other's identity by WHOIS to the root.
#  1. official root: an official node is controller, moon root and member in
#     the centre; our tap node and an official member sit on the two arms.
#     Our node's WHOIS is answered by the official root, our packets are
#     relayed to the official member (hops incremented, MAC still valid) and
#     its relayed replies are accepted by our engine: ping both ways, with
#     and without ZeroTier fragments.
#  2. our root: our tap daemon is the moon root in the centre (not a
#     member); two official nodes on the arms, one of them the controller.
#     Our engine answers their WHOIS and relays their packets both ways.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
interop_require interop_relay_official_root_ping
[ -x "$BIN/zerotier-one" ] || { fail interop_relay_official_root_ping "$BIN/zerotier-one not built"; exit 1; }
command -v ping >/dev/null || { skip interop_relay_official_root_ping "ping missing"; exit 0; }

# star: NSC centre 10.99.1.1 / 10.99.2.1, NS1 10.99.1.2, NS2 10.99.2.2
# (fresh namespaces per case: a daemon's API port may linger in TIME_WAIT)
star() {
	ix_ns NSC && ix_ns NS1 && ix_ns NS2 &&
		ix_link "$NSC" 10.99.1.1 "$NS1" 10.99.1.2 && ix_link "$NSC" 10.99.2.1 "$NS2" 10.99.2.2
}
star || { fail interop_relay_official_root_ping "namespaces"; exit 1; }

# mknet NS HOME PREFIX - network on the official controller at HOME; prints nwid
mknet() {
	ix_api "$1" "$2" POST "/controller/network/$(off_address "$2")______" \
		"{\"name\":\"relay\",\"private\":true,\"routes\":[{\"target\":\"$3.0/24\"}]}" |
		python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])'
}
auth() { ix_api "$1" "$2" POST "/controller/network/$3/member/$4" "{\"authorized\":true,\"ipAssignments\":[\"$5\"]}" >/dev/null; }
netok() { "$@" listnetworks 2>/dev/null | grep -q " OK "; }

# ---- 1. official root in the centre
HC=$NC_TMP/c1 H1=$NC_TMP/ours1 H2=$NC_TMP/m1
off_home "$HC"
off_start "$NSC" "$HC" 9993 || { fail interop_relay_official_root_ping "official centre did not start"; exit 1; }
OC=$(off_address "$HC")
NWID=$(mknet "$NSC" "$HC" 10.147.21)
auth "$NSC" "$HC" "$NWID" "$OC" 10.147.21.1
off_cli "$NSC" "$HC" join "$NWID" >/dev/null
# the moon lists both arm addresses of the centre
off_idtool initmoon "$HC/identity.public" >"$NC_TMP/moon1.json"
python3 - "$NC_TMP/moon1.json" <<'EOF2'
import json, sys
m = json.load(open(sys.argv[1])); m["roots"][0]["stableEndpoints"] = ["10.99.1.1/9993", "10.99.2.1/9993"]
json.dump(m, open(sys.argv[1], "w"))
EOF2
(cd "$NC_TMP" && off_idtool genmoon moon1.json >/dev/null)
MOON=$NC_TMP/000000$OC.moon
our_home "$H1"; mkdir -p "$H1/moons.d"; cp "$MOON" "$H1/moons.d/"
off_home "$H2"; mkdir -p "$H2/moons.d"; cp "$MOON" "$H2/moons.d/"
our_start "$NS1" "$H1" "$BIN/zerotier-one" 9993 || { fail interop_relay_official_root_ping "our node did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
off_start "$NS2" "$H2" 9993 || { fail interop_relay_official_root_ping "official member did not start"; exit 1; }
auth "$NSC" "$HC" "$NWID" "$(cut -c1-10 "$H1/identity.public")" 10.147.21.2
auth "$NSC" "$HC" "$NWID" "$(off_address "$H2")" 10.147.21.3
our_cli "$NS1" "$H1" join "$NWID" >/dev/null
off_cli "$NS2" "$H2" join "$NWID" >/dev/null
WAIT_S=30 wait_for netok our_cli "$NS1" "$H1"
WAIT_S=30 wait_for netok off_cli "$NS2" "$H2"
ix_log "case 1: official root $OC, network $NWID"

T=interop_relay_official_root_ping
if WAIT_S=40 wait_for ip netns exec "$NS1" ping -c1 -W1 10.147.21.3; then pass $T; else
	our_cli "$NS1" "$H1" listpeers; off_cli "$NS2" "$H2" listpeers; off_cli "$NSC" "$HC" listpeers
	fail $T "our node cannot reach the official member through the official root"
fi
T=interop_relay_official_root_ping_back
if WAIT_S=20 wait_for ip netns exec "$NS2" ping -c1 -W1 10.147.21.2; then pass $T; else fail $T "official member cannot reach us through the official root"; fi
T=interop_relay_official_root_fragments
if ip netns exec "$NS1" ping -c3 -W2 -s 2700 -M do 10.147.21.3 >"$NC_TMP/big1.log" 2>&1; then pass $T; else
	cat "$NC_TMP/big1.log"; fail $T "relayed fragmented pings lost"
fi
T=interop_relay_official_root_peer_seen
# our engine knows the official member (learned by WHOIS via the official root)
if our_cli "$NS1" "$H1" listpeers | grep -q "$(off_address "$H2")"; then pass $T; else
	our_cli "$NS1" "$H1" listpeers; fail $T "our node does not list the official member"
fi
[ "$NC_FAILED" != 0 ] && ix_dump_logs "$NC_TMP"
off_stop "$HC"; off_stop "$H2"; our_stop "$H1"

# ---- 2. our root in the centre
star || { fail interop_relay_our_root_ping "namespaces"; exit 1; }
HC=$NC_TMP/c2 H1=$NC_TMP/m2a H2=$NC_TMP/m2b
our_home "$HC"
our_start "$NSC" "$HC" "$BIN/zerotier-one" 9993 || { fail interop_relay_our_root_ping "our centre did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
OC=$(cut -c1-10 "$HC/identity.public")
off_idtool initmoon "$HC/identity.public" >"$NC_TMP/moon2.json"
python3 - "$NC_TMP/moon2.json" <<'EOF2'
import json, sys
m = json.load(open(sys.argv[1])); m["roots"][0]["stableEndpoints"] = ["10.99.1.1/9993", "10.99.2.1/9993"]
json.dump(m, open(sys.argv[1], "w"))
EOF2
(cd "$NC_TMP" && off_idtool genmoon moon2.json >/dev/null)
MOON=$NC_TMP/000000$OC.moon
off_home "$H1"; mkdir -p "$H1/moons.d"; cp "$MOON" "$H1/moons.d/"
off_home "$H2"; mkdir -p "$H2/moons.d"; cp "$MOON" "$H2/moons.d/"
off_start "$NS1" "$H1" 9993 && off_start "$NS2" "$H2" 9993 || { fail interop_relay_our_root_ping "official members did not start"; exit 1; }
A1=$(off_address "$H1") A2=$(off_address "$H2")
NWID=$(mknet "$NS1" "$H1" 10.147.22)
auth "$NS1" "$H1" "$NWID" "$A1" 10.147.22.1
auth "$NS1" "$H1" "$NWID" "$A2" 10.147.22.2
off_cli "$NS1" "$H1" join "$NWID" >/dev/null
off_cli "$NS2" "$H2" join "$NWID" >/dev/null
ix_log "case 2: our root $OC, official controller $A1, member $A2, network $NWID"
T=interop_relay_our_root_config_via_relay
# the member's config request to the controller on the other arm goes through us
if WAIT_S=40 wait_for netok off_cli "$NS2" "$H2"; then pass $T; else
	off_cli "$NS2" "$H2" listnetworks; off_cli "$NS2" "$H2" listpeers; our_cli "$NSC" "$HC" listpeers
	fail $T "official member got no config through our root"
fi
T=interop_relay_our_root_ping
if WAIT_S=40 wait_for ip netns exec "$NS2" ping -c1 -W1 10.147.22.1; then pass $T; else
	off_cli "$NS2" "$H2" listpeers; our_cli "$NSC" "$HC" listpeers
	fail $T "official members cannot reach each other through our root"
fi
T=interop_relay_our_root_fragments
if ip netns exec "$NS1" ping -c3 -W2 -s 2700 -M do 10.147.22.2 >"$NC_TMP/big2.log" 2>&1; then pass $T; else
	cat "$NC_TMP/big2.log"; fail $T "fragmented pings relayed by our root lost"
fi
[ "$NC_FAILED" != 0 ] && ix_dump_logs "$NC_TMP"
exit 0
