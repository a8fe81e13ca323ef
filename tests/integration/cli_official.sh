#!/usr/bin/env bash
# cli_official.sh - API compatibility: the official ZeroTier One CLI
# (ZT_OFFICIAL_BIN=/path/to/zerotier-one, run as "zerotier-one -q") drives our
# daemon, and its output matches our zerotier-cli line for line.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
OFF=${ZT_OFFICIAL_BIN:-}
if [ -z "$OFF" ] || [ ! -x "$OFF" ]; then skip "cli_official" "ZT_OFFICIAL_BIN not set"; exit 0; fi
need_bins "$SVC" "$CLI" || exit 1

H=$NC_TMP/o
NW=8056c2e21c000001
daemon_start "$H" || { fail "start" ""; exit 1; }
P=$(dport "$H")
off() { "$OFF" -q -D"$H" -p"$P" "$@"; }

a=$(off info); b=$(cli "$H" info)
[ "$a" = "$b" ] && echo "$a" | grep -q "^200 info $(daddr "$H") 1.14.1" &&
	pass "official cli: info identical ($a)" || fail "official cli: info" "official '$a' ours '$b'"
a=$(off join $NW)
[ "$a" = "200 join OK" ] && [ -f "$H/networks.d/$NW.conf" ] && pass "official cli: join works against our API" ||
	fail "official cli: join" "$a"
a=$(off listnetworks); b=$(cli "$H" listnetworks)
[ "$a" = "$b" ] && [ "$(echo "$a" | wc -l)" = 2 ] && pass "official cli: listnetworks identical" ||
	fail "official cli: listnetworks" "official: $a | ours: $b"
a=$(off listpeers | head -n1); b=$(cli "$H" listpeers | head -n1)
[ "$a" = "$b" ] && pass "official cli: listpeers header identical" || fail "official cli: listpeers" "'$a' vs '$b'"
a=$(off set $NW allowManaged=0 | jq -c .allowManaged)
[ "$a" = false ] && grep -q '^allowManaged=0' "$H/networks.d/$NW.local.conf" &&
	pass "official cli: set allowManaged=0 stored" || fail "official cli: set" "$a"
a=$(off leave $NW)
[ "$a" = "200 leave OK" ] && [ ! -f "$H/networks.d/$NW.conf" ] && pass "official cli: leave" || fail "official cli: leave" "$a"
a=$(off -T"wrong" info 2>&1)
echo "$a" | grep -q "^401" && pass "official cli: wrong token -> 401" || fail "official cli: 401" "$a"
daemon_stop "$H"
exit 0
