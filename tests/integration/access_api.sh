#!/usr/bin/env bash
# access_api.sh - the local API and the home's secrets.
#  - requests without the token, with a wrong one, or a near miss, get 401
#    on every route (and a body of "{}"); the right token in X-ZT1-Auth,
#    Authorization: Bearer or ?auth= gets 200;
#  - by default the API listens on 127.0.0.1 and ::1 only (ss -ltn);
#    with allowManagementFrom it listens on every address, and inside a
#    network namespace of ours a client from an address outside the allowed
#    networks is hung up on, one inside is served (token still required);
#  - identity.secret and authtoken.secret are 0600, and the daemon refuses to
#    start when either is readable by group or others.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/daemon_lib.bash"
need_bins "$SVC" || exit 1

H=$NC_TMP/a
daemon_start "$H" || { fail "start" "no port file"; exit 1; }
P=$(dport "$H") T=$(dtoken "$H") PID=$(cat "$H/zerotier-one.pid")
code() { curl -s -o "$NC_TMP/body" -m 5 -w '%{http_code}' "$@"; }
bad=""
for route in /status /network /peer /moon /metrics /controller /controller/network /network/8056c2e21c000001; do
	for hdr in "" "X-ZT1-Auth: wrong" "X-ZT1-Auth: ${T:0:23}" "X-ZT1-Auth: ${T}x" "Authorization: Bearer nope"; do
		c=$(code ${hdr:+-H "$hdr"} "http://127.0.0.1:$P$route")
		[ "$c" = 401 ] && [ "$(cat "$NC_TMP/body")" = "{}" ] || bad="$bad $route[$hdr]=$c"
	done
	c=$(code -X POST -d '{}' "http://127.0.0.1:$P$route"); [ "$c" = 401 ] || bad="$bad POST$route=$c"
	c=$(code -X DELETE "http://127.0.0.1:$P$route?auth=x"); [ "$c" = 401 ] || bad="$bad DELETE$route=$c"
done
[ -z "$bad" ] && pass "api: 56 requests without the right token (none, wrong, prefix, suffix, bad bearer) all 401 with {}" ||
	fail "api: unauthenticated requests" "$bad"
[ ! -e "$H/networks.d/8056c2e21c000001.conf" ] && pass "api: an unauthenticated POST /network joined nothing" ||
	fail "api: unauthenticated join" "networks.d has it"
a=$(code -H "X-ZT1-Auth: $T" "http://127.0.0.1:$P/status")
b=$(code -H "Authorization: Bearer $T" "http://127.0.0.1:$P/status")
c=$(code "http://127.0.0.1:$P/status?auth=$T")
[ "$a$b$c" = 200200200 ] && pass "api: the token in X-ZT1-Auth, Bearer or ?auth= is accepted" || fail "api: token" "$a $b $c"

# listening addresses
l=$(ss -Hltn "sport = :$P" | awk '{print $4}' | sort | tr '\n' ' ')
[ "$l" = "127.0.0.1:$P [::1]:$P " ] && pass "api: listens on loopback only: $l" || fail "api: listen addresses" "$l"
u=$(ss -Hlun "sport = :$P" | awk '{print $4}' | sort | tr '\n' ' ')
echo "UDP (the wire, every address by design): $u"

# allowManagementFrom: wide listener; enforced per client address (in a netns)
if is_root && ip netns add "ncacc$$" 2>/dev/null; then
	NS=ncacc$$; NC_NETNS+=("$NS")
	ip -n "$NS" link set lo up
	ip -n "$NS" addr add 10.99.1.1/32 dev lo
	ip -n "$NS" addr add 10.98.1.1/32 dev lo
	HM=$NC_TMP/m; mkdir -p "$HM"
	echo '{ "settings": { "allowManagementFrom": ["10.99.0.0/16"] } }' >"$HM/local.conf"
	daemon_start "$HM" 0 "$SVC" "$NS" || fail "mgmt daemon" "$(tail -3 "$HM/stderr.log")"
	PM=$(dport "$HM") TM=$(dtoken "$HM")
	l=$(ip netns exec "$NS" ss -Hltn "sport = :$PM" | awk '{print $4}' | sort | tr '\n' ' ')
	[ "$l" = "0.0.0.0:$PM [::]:$PM " ] || [ "$l" = "*:$PM [::]:$PM " ] &&
		pass "api: with allowManagementFrom it listens on every address: $l" || fail "api: wide listen" "$l"
	ok=$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' -m 5 --interface 10.99.1.1 -H "X-ZT1-Auth: $TM" "http://10.98.1.1:$PM/status")
	no=$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' -m 5 --interface 10.98.1.1 -H "X-ZT1-Auth: $TM" "http://10.98.1.1:$PM/status")
	nt=$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' -m 5 --interface 10.99.1.1 "http://10.98.1.1:$PM/status")
	[ "$ok" = 200 ] && [ "$no" = 000 ] && [ "$nt" = 401 ] &&
		pass "api: from 10.99.1.1 (allowed) 200, without token 401; from 10.98.1.1 (not allowed) hung up" ||
		fail "api: allowManagementFrom" "allowed $ok, not allowed $no, no token $nt"
else
	skip "api: allowManagementFrom in a namespace" "needs root and ip netns"
fi

# secrets
m1=$(stat -c %a "$H/identity.secret") m2=$(stat -c %a "$H/authtoken.secret")
[ "$m1$m2" = 600600 ] && pass "home: identity.secret and authtoken.secret are 0600" || fail "home: modes" "$m1 $m2"
daemon_stop "$H"
for f in identity.secret authtoken.secret; do
	for m in 644 604 640; do
		chmod $m "$H/$f"
		out=$(timeout 10 "$SVC" -p0 "$H" 2>&1); rc=$?
		if [ $rc -ne 0 ] && [ $rc -ne 124 ] && echo "$out" | grep -q "$f is accessible by group or others" && [ ! -e "$H/zerotier-one.port" ]; then
			:
		else
			fail "home: $f mode $m" "rc $rc: $out"; bad=1
		fi
		chmod 600 "$H/$f"
	done
done
[ -z "$bad" ] && pass "home: the daemon refuses to start with identity.secret or authtoken.secret at 644/604/640" || true
daemon_start "$H" && pass "home: with 0600 again it starts" || fail "home: restart" "$(tail -3 "$H/stderr.log")"
exit 0
