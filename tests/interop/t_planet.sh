#!/usr/bin/env bash
# t_planet.sh - a custom planet made by OUR idtool (genmoon with worldType
# "planet") whose only root is our tap daemon replaces the official node's
# built-in planet (HOME/planet): the official node lists our node as its
# PLANET, none of the public roots, reports ONLINE, and joins and uses a
# network of our controller. This is the cleanest way to keep an official
# node off the public roots.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
interop_require interop_planet_ours_is_planet
for f in zerotier-one zerotier-idtool; do
	[ -x "$BIN/$f" ] || { fail interop_planet_ours_is_planet "$BIN/$f not built"; exit 1; }
done
command -v ping >/dev/null || { skip interop_planet_ours_is_planet "ping missing"; exit 0; }
ix_two_ns || { fail interop_planet_ours_is_planet "namespaces"; exit 1; }
HA=$NC_TMP/official HB=$NC_TMP/ours
our_home "$HB"
our_start "$NSB" "$HB" "$BIN/zerotier-one" 9993 || { fail interop_planet_ours_is_planet "our node did not start"; exit 1; }
OB=$(cut -c1-10 "$HB/identity.public")
"$BIN/zerotier-idtool" initmoon "$HB/identity.public" >"$NC_TMP/planet.json"
python3 - "$NC_TMP/planet.json" <<'EOF2'
import json, sys
m = json.load(open(sys.argv[1]))
m["worldType"] = "planet"; m["id"] = "1234567"
m["roots"][0]["stableEndpoints"] = ["10.99.0.2/9993"]
json.dump(m, open(sys.argv[1], "w"))
EOF2
(cd "$NC_TMP" && "$BIN/zerotier-idtool" genmoon planet.json >/dev/null)
off_home "$HA"
cp "$NC_TMP/0000000001234567.moon" "$HA/planet" || { fail interop_planet_ours_is_planet "our genmoon made no planet"; exit 1; }
off_start "$NSA" "$HA" 9993 || { fail interop_planet_ours_is_planet "official node did not start"; exit 1; }
OA=$(off_address "$HA")

T=interop_planet_ours_is_planet
isplanet() { off_cli "$NSA" "$HA" listpeers | grep -qE "^200 listpeers $OB 10\.99\.0\.2/9993;.* PLANET"; }
if WAIT_S=30 wait_for isplanet; then pass $T; else off_cli "$NSA" "$HA" listpeers; fail $T "our node is not the official node's PLANET"; fi
T=interop_planet_no_public_roots
if off_cli "$NSA" "$HA" listpeers | grep PLANET | grep -qv "$OB"; then off_cli "$NSA" "$HA" listpeers; fail $T "built-in roots still listed"; else pass $T; fi
T=interop_planet_official_online
if WAIT_S=20 wait_for sh -c "ip netns exec $NSA $OFF -q -D$HA info | grep -q ONLINE"; then pass $T; else off_cli "$NSA" "$HA" info; fail $T "official node not ONLINE with our planet"; fi

T=interop_planet_network
NWID=$(ix_api "$NSB" "$HB" POST "/controller/network/${OB}______" \
	'{"name":"planet","private":true,"routes":[{"target":"10.147.28.0/24"}]}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])' 2>/dev/null)
[ -n "$NWID" ] || { fail $T "our controller API"; exit 0; }
ix_api "$NSB" "$HB" POST "/controller/network/$NWID/member/$OB" '{"authorized":true,"ipAssignments":["10.147.28.2"]}' >/dev/null
ix_api "$NSB" "$HB" POST "/controller/network/$NWID/member/$OA" '{"authorized":true,"ipAssignments":["10.147.28.1"]}' >/dev/null
our_cli "$NSB" "$HB" join "$NWID" >/dev/null
off_cli "$NSA" "$HA" join "$NWID" >/dev/null
if WAIT_S=40 wait_for ip netns exec "$NSA" ping -c1 -W1 10.147.28.2; then pass $T; else
	off_cli "$NSA" "$HA" listnetworks; our_cli "$NSB" "$HB" listnetworks; ix_dump_logs "$NC_TMP"
	fail $T "no traffic on our network with our planet"
fi
exit 0
