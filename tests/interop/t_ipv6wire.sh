#!/usr/bin/env bash
# t_ipv6wire.sh - the physical network is IPv6 only (ULA addresses on the
# veth, no IPv4): HELLO/OK carry IPv6 InetAddresses, paths are IPv6, and our
# tap node joins the official controller's network and pings the official
# member over it; the official node, with our moon (an IPv6 stable endpoint),
# also lists our node with an IPv6 path.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
interop_require interop_ipv6wire_member
[ -x "$BIN/zerotier-one" ] || { fail interop_ipv6wire_member "$BIN/zerotier-one not built"; exit 1; }
command -v ping >/dev/null || { skip interop_ipv6wire_member "ping missing"; exit 0; }
ix_ns NSA && ix_ns NSB || { fail interop_ipv6wire_member "namespaces"; exit 1; }
IX_NS_N=$((IX_NS_N + 1))
VA="vx${IX_ID}a${IX_NS_N}" VB="vx${IX_ID}b${IX_NS_N}"
VA=${VA:0:15}; VB=${VB:0:15}
ip link add "$VA" type veth peer name "$VB" && ip link set "$VA" netns "$NSA" && ip link set "$VB" netns "$NSB" &&
	ip -n "$NSA" addr add fd99::1/64 dev "$VA" nodad && ip -n "$NSB" addr add fd99::2/64 dev "$VB" nodad &&
	ip -n "$NSA" link set "$VA" up && ip -n "$NSB" link set "$VB" up || { fail interop_ipv6wire_member "veth"; exit 1; }
WAIT_S=10 wait_for ip netns exec "$NSB" ping -6 -c1 -W1 fd99::1

HA=$NC_TMP/official HB=$NC_TMP/ours
off_home "$HA"
off_start "$NSA" "$HA" 9993 || { fail interop_ipv6wire_member "official node did not start"; exit 1; }
OA=$(off_address "$HA")
NWID=$(ix_api "$NSA" "$HA" POST "/controller/network/${OA}______" \
	'{"name":"v6wire","private":true,"routes":[{"target":"10.147.26.0/24"}]}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
ix_api "$NSA" "$HA" POST "/controller/network/$NWID/member/$OA" '{"authorized":true,"ipAssignments":["10.147.26.1"]}' >/dev/null
off_cli "$NSA" "$HA" join "$NWID" >/dev/null
MOON=$(ix_make_moon "$HA/identity.public" fd99::1/9993 "$NC_TMP/moon")
our_home "$HB"; mkdir -p "$HB/moons.d"; cp "$MOON" "$HB/moons.d/"
our_start "$NSB" "$HB" "$BIN/zerotier-one" 9993 || { fail interop_ipv6wire_member "our node did not start"; ix_dump_logs "$NC_TMP"; exit 1; }
OB=$(cut -c1-10 "$HB/identity.public")
ix_api "$NSA" "$HA" POST "/controller/network/$NWID/member/$OB" '{"authorized":true,"ipAssignments":["10.147.26.2"]}' >/dev/null
our_cli "$NSB" "$HB" join "$NWID" >/dev/null

T=interop_ipv6wire_member
ok() { our_cli "$NSB" "$HB" listnetworks | grep "$NWID" | grep -q " OK "; }
if WAIT_S=40 wait_for ok && WAIT_S=20 wait_for ip netns exec "$NSB" ping -c1 -W1 10.147.26.1; then pass $T; else
	our_cli "$NSB" "$HB" listnetworks; our_cli "$NSB" "$HB" listpeers; off_cli "$NSA" "$HA" listpeers
	ix_dump_logs "$NC_TMP"; fail $T "no config or no traffic over the IPv6 underlay"
fi
T=interop_ipv6wire_paths
if off_cli "$NSA" "$HA" listpeers | grep "$OB" | grep -q "fd99::2/9993" &&
	our_cli "$NSB" "$HB" listpeers | grep "$OA" | grep -q "fd99::1/9993"; then
	pass $T
else
	off_cli "$NSA" "$HA" listpeers; our_cli "$NSB" "$HB" listpeers
	fail $T "IPv6 paths not listed on both sides"
fi
T=interop_ipv6wire_fragments
if ip netns exec "$NSB" ping -c3 -W2 -s 2700 -M do 10.147.26.1 >"$NC_TMP/big.log" 2>&1; then pass $T; else cat "$NC_TMP/big.log"; fail $T "large pings lost over IPv6"; fi
exit 0
