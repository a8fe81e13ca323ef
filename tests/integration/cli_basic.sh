#!/usr/bin/env bash
# cli_basic.sh - zerotier-cli against a real daemon: output formats of
# ZeroTier One, -j, -D/-p/-T, and the one-line errors (exit 1).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
need_bins "$SVC" "$CLI" || exit 1

H=$NC_TMP/c
NW=8056c2e21c000001

# errors before any daemon exists
mkdir -p "$NC_TMP/empty"
out=$("$CLI" -D"$NC_TMP/empty" info 2>&1); rc=$?
[ $rc = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "authtoken.secret" &&
	pass "cli: unreadable home/token is one clear line, exit 1" || fail "cli: no token" "rc=$rc $out"
FP=$(free_port)
out=$("$CLI" -p"$FP" -Tabc info 2>&1); rc=$?
[ $rc = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -qi "daemon running" &&
	pass "cli: daemon not running is one clear line, exit 1" || fail "cli: not running" "rc=$rc $out"

daemon_start "$H" || { fail "start" "daemon did not start"; exit 1; }
ADDR=$(daddr "$H")

out=$(cli "$H" info); rc=$?
[ $rc = 0 ] && echo "$out" | grep -Eq "^200 info $ADDR 1\.14\.1 (ONLINE|OFFLINE)$" &&
	pass "cli: info -> 200 info ADDR VERSION ONLINE|OFFLINE" || fail "cli: info" "$out"
cli "$H" -j info 2>/dev/null | jq -e --arg a "$ADDR" '.address == $a' >/dev/null ||
	"$CLI" -j -D"$H" info | jq -e --arg a "$ADDR" '.address == $a' >/dev/null &&
	pass "cli: -j info prints the API JSON" || fail "cli: -j info" "$("$CLI" -j -D"$H" info)"
out=$("$CLI" -p"$(dport "$H")" -T"$(dtoken "$H")" info)
echo "$out" | grep -q "^200 info $ADDR" && pass "cli: -p and -T instead of -D" || fail "cli: -p -T" "$out"

out=$(cli "$H" listnetworks)
[ "$out" = "200 listnetworks <nwid> <name> <mac> <status> <type> <dev> <ZT assigned ips>" ] &&
	pass "cli: listnetworks header line alone when no network" || fail "cli: listnetworks empty" "$out"
out=$(cli "$H" join $NW); rc=$?
[ $rc = 0 ] && [ "$out" = "200 join OK" ] && [ -f "$H/networks.d/$NW.conf" ] &&
	pass "cli: join -> 200 join OK, networks.d file" || fail "cli: join" "rc=$rc $out"
out=$(cli "$H" listnetworks)
line=$(echo "$out" | sed -n 2p)
echo "$line" | grep -Eq "^200 listnetworks $NW [^ ]* ([0-9a-f]{2}:){5}[0-9a-f]{2} (REQUESTING_CONFIGURATION|OK|ACCESS_DENIED|NOT_FOUND|PORT_ERROR) (PRIVATE|PUBLIC) [^ ]* [^ ]+$" &&
	pass "cli: listnetworks line <nwid> <name> <mac> <status> <type> <dev> <ips>" || fail "cli: listnetworks" "$out"
cli "$H" -j listnetworks 2>/dev/null | jq -e --arg n $NW '.[0].nwid == $n' >/dev/null ||
	"$CLI" -j -D"$H" listnetworks | jq -e --arg n $NW '.[0].nwid == $n' >/dev/null &&
	pass "cli: -j listnetworks" || fail "cli: -j listnetworks" ""
out=$(cli "$H" set $NW allowManaged=0); rc=$?
[ $rc = 0 ] && echo "$out" | jq -e '.allowManaged == false' >/dev/null && grep -q '^allowManaged=0' "$H/networks.d/$NW.local.conf" &&
	[ "$(cli "$H" get $NW allowManaged)" = false ] &&
	pass "cli: set NWID allowManaged=0 prints the network, stored in NWID.local.conf; get reads it back" || fail "cli: set" "rc=$rc $out"
cli "$H" set $NW allowManaged=1 >/dev/null
out=$(cli "$H" set $NW allowBogus=1 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "unknown setting" && pass "cli: set with unknown setting fails" || fail "cli: set bogus" "$out"
out=$(cli "$H" set 1111222233334444 allowManaged=1 2>&1); rc=$?
[ $rc = 1 ] && [ ! -f "$H/networks.d/1111222233334444.conf" ] && pass "cli: set on a network not joined fails, joins nothing" ||
	fail "cli: set not joined" "$out"

out=$(cli "$H" listpeers); rc=$?
[ $rc = 0 ] && [ "$(echo "$out" | head -n1)" = "200 listpeers <ztaddr> <path> <latency> <version> <role>" ] &&
	! echo "$out" | sed 1d | grep -vEq "^200 listpeers [0-9a-f]{10} [^ ]+ -?[0-9]+ [^ ]+ (LEAF|MOON|PLANET)$" &&
	pass "cli: listpeers format" || fail "cli: listpeers" "$out"
out=$(cli "$H" peers); [ $? = 0 ] && echo "$out" | head -n1 | grep -q "^200 peers" && pass "cli: peers table" || fail "cli: peers" "$out"
cli "$H" listmoons | jq -e 'type == "array"' >/dev/null && pass "cli: listmoons prints JSON" || fail "cli: listmoons" ""

out=$(cli "$H" leave $NW); rc=$?
[ $rc = 0 ] && [ "$out" = "200 leave OK" ] && [ ! -f "$H/networks.d/$NW.conf" ] &&
	pass "cli: leave -> 200 leave OK, file removed" || fail "cli: leave" "rc=$rc $out"
out=$(cli "$H" leave $NW 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "^zerotier-cli: 404 leave" && pass "cli: leave of a network not joined: 404 line, exit 1" ||
	fail "cli: leave twice" "rc=$rc $out"

out=$(cli "$H" -j join $NW); rc=$?
[ $rc = 0 ] && echo "$out" | jq -e --arg n $NW '.nwid == $n' >/dev/null && [ -f "$H/networks.d/$NW.conf" ] &&
	pass "cli: -j join prints the joined network's JSON" || fail "cli: -j join" "rc=$rc $out"
out=$(cli "$H" -j leave $NW); rc=$?
[ $rc = 0 ] && echo "$out" | jq -e '.result == true' >/dev/null && [ ! -f "$H/networks.d/$NW.conf" ] &&
	pass "cli: -j leave prints the API's {\"result\": true}" || fail "cli: -j leave" "rc=$rc $out"

for bad in 123 8056c2e21c00000 8056c2e21c0000011 8056c2e21c00000g; do
	out=$(cli "$H" join $bad 2>&1); rc=$?
	if [ $rc != 1 ] || ! echo "$out" | grep -q "exactly 16 hex digits"; then
		fail "cli: malformed network id $bad" "rc=$rc $out"; bad=; break
	fi
done
[ -n "$bad" ] && [ -z "$(ls "$H/networks.d" | grep -v '\.local\.conf$')" ] &&
	pass "cli: malformed network ids refused (exactly 16 hex digits)"
out=$(cli "$H" nosuchcommand 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "unknown command" && echo "$out" | grep -q "listnetworks" &&
	pass "cli: unknown command -> usage, exit 1" || fail "cli: unknown command" "$out"
out=$("$CLI" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "^usage:" && pass "cli: no command -> usage, exit 1" || fail "cli: no command" "$out"
"$CLI" -h | grep -q "join <network>" && pass "cli: -h usage from the command table" || fail "cli: -h" ""
out=$("$CLI" -D"$H" -Twrongtoken info 2>&1); rc=$?
[ $rc = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "401" && echo "$out" | grep -qi "token" &&
	pass "cli: bad token is one clear 401 line, exit 1" || fail "cli: bad token" "$out"
out=$(cli "$H" orbit 00000000deadbeef xyz 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "10 hex digits" && pass "cli: orbit checks the seed address" || fail "cli: orbit" "$out"
daemon_stop "$H"
exit 0
